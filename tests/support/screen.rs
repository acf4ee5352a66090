//! A small terminal model for pseudo-terminal tests: where each character pgconn prints lands on a
//! `cols`×`rows` screen (cursor moves, line and screen clears, the alternate screen), so that a test
//! reads the screen as a person sees it and learns whether anything ran past the right edge — which a
//! real terminal would wrap onto the next line.

use unicode_width::UnicodeWidthChar;

pub struct Screen {
    cols: usize,
    rows: usize,
    cells: Vec<Vec<char>>,
    row: usize,
    col: usize,
    /// Each time a character did not fit the line: the row and what it held then.
    pub overflows: Vec<String>,
    /// Leaving the alternate screen freezes the model: the screen stays as the last frame left it.
    frozen: bool,
}

/// Marks the second cell of a wide character.
const WIDE_TAIL: char = '\0';

impl Screen {
    pub fn new(cols: usize, rows: usize) -> Screen {
        Screen {
            cols,
            rows,
            cells: vec![vec![' '; cols]; rows],
            row: 0,
            col: 0,
            overflows: Vec::new(),
            frozen: false,
        }
    }

    /// The screen's lines, without trailing blanks.
    pub fn lines(&self) -> Vec<String> {
        self.cells
            .iter()
            .map(|r| {
                r.iter()
                    .filter(|c| **c != WIDE_TAIL)
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    fn line_text(&self, row: usize) -> String {
        self.cells[row]
            .iter()
            .filter(|c| **c != WIDE_TAIL)
            .collect()
    }

    fn newline(&mut self) {
        if self.row + 1 < self.rows {
            self.row += 1;
        } else {
            self.cells.remove(0);
            self.cells.push(vec![' '; self.cols]);
        }
    }

    fn clear_row_from(&mut self, row: usize, col: usize) {
        for c in &mut self.cells[row][col.min(self.cols)..] {
            *c = ' ';
        }
    }

    fn put(&mut self, ch: char) {
        let w = ch.width().unwrap_or(0);
        if w == 0 {
            return;
        }
        if self.col + w > self.cols {
            self.overflows.push(format!(
                "row {}: {}{ch}",
                self.row,
                self.line_text(self.row)
            ));
            self.col = 0;
            self.newline();
        }
        self.cells[self.row][self.col] = ch;
        if w == 2 {
            self.cells[self.row][self.col + 1] = WIDE_TAIL;
        }
        self.col += w;
    }

    fn csi(&mut self, params: &str, fin: char) {
        let private = params.starts_with('?');
        let nums: Vec<usize> = params
            .trim_start_matches('?')
            .split(';')
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        let n = |i: usize, default: usize| match nums.get(i) {
            Some(0) | None => default,
            Some(v) => *v,
        };
        match (private, fin) {
            (false, 'H' | 'f') => {
                self.row = (n(0, 1) - 1).min(self.rows - 1);
                self.col = (n(1, 1) - 1).min(self.cols - 1);
            }
            (false, 'A') => self.row = self.row.saturating_sub(n(0, 1)),
            (false, 'B') => self.row = (self.row + n(0, 1)).min(self.rows - 1),
            (false, 'C') => self.col = (self.col + n(0, 1)).min(self.cols - 1),
            (false, 'D') => self.col = self.col.saturating_sub(n(0, 1)),
            (false, 'G') => self.col = (n(0, 1) - 1).min(self.cols - 1),
            (false, 'K') => match nums.first().copied().unwrap_or(0) {
                0 => self.clear_row_from(self.row, self.col),
                _ => self.clear_row_from(self.row, 0),
            },
            (false, 'J') => {
                let from = match nums.first().copied().unwrap_or(0) {
                    0 => {
                        self.clear_row_from(self.row, self.col);
                        self.row + 1
                    }
                    _ => 0,
                };
                for r in from..self.rows {
                    self.clear_row_from(r, 0);
                }
            }
            (true, 'h') if nums.contains(&1049) => {
                for r in 0..self.rows {
                    self.clear_row_from(r, 0);
                }
            }
            (true, 'l') if nums.contains(&1049) => self.frozen = true,
            _ => {}
        }
    }

    /// Apply what the program printed.
    pub fn feed(&mut self, text: &str) {
        let mut chars = text.chars().peekable();
        while let Some(ch) = chars.next() {
            if self.frozen {
                return;
            }
            match ch {
                '\x1b' => match chars.next() {
                    Some('[') => {
                        let mut params = String::new();
                        for c in chars.by_ref() {
                            if ('\x40'..='\x7e').contains(&c) {
                                self.csi(&params, c);
                                break;
                            }
                            params.push(c);
                        }
                    }
                    Some(']') => {
                        // OSC: up to BEL or ST.
                        while let Some(c) = chars.next() {
                            if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                                break;
                            }
                        }
                    }
                    _ => {}
                },
                '\r' => self.col = 0,
                '\n' => self.newline(),
                '\x08' => self.col = self.col.saturating_sub(1),
                c if c.is_control() => {}
                c => self.put(c),
            }
        }
    }
}

/// The rows of the group table on a screen (those under the ` DATABASE ...` header and its rule, up to
/// the first empty line), and the one whose long name `long` is cut with `…`: it asserts that there is
/// such a row and that its third column is the start of `long`.
pub fn group_rows_with_a_cut_name<'a>(
    lines: &'a [String],
    long: &str,
) -> (Vec<&'a String>, &'a String) {
    let header = lines
        .iter()
        .position(|l| l.starts_with(" DATABASE"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(lines[header + 1].starts_with('─'), "{lines:#?}");
    let rows: Vec<&String> = lines[header + 2..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .collect();
    let long_row = rows
        .iter()
        .find(|r| r.contains('…'))
        .unwrap_or_else(|| panic!("{rows:#?}"));
    let cut = long_row.split_whitespace().nth(2).unwrap();
    assert!(
        cut.ends_with('…') && long.starts_with(cut.trim_end_matches('…')),
        "{long_row}"
    );
    (rows.clone(), long_row)
}
