//! Report → text, and the only writer of stdout (but for `tui`, which puts watch's frames on the screen):
//! JSON, tables for people, and (in submodules) each report's layout. Imports report data only.
//! Colour is decided once: `--color`, NO_COLOR, TERM=dumb and whether stdout is a terminal.

use std::io::{self, IsTerminal, Write};

use anyhow::Result;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use serde::Serialize;

use crate::report::Level;
use crate::text::{clean, clean_lines, terminal_safe};

pub mod advise;
pub mod check;
pub mod exporter;
pub mod fleet;
pub mod kill;
pub mod output;
pub mod prometheus;
pub mod rescue;
pub mod sessions;
pub mod status;
pub mod tune;
pub mod watch;

/// The narrowest a fitted table cuts its free-text column to before it drops other columns.
pub const FREE_TEXT_MIN: usize = 20;

/// The narrowest the free-text column gets when the other columns must give way too.
pub const FREE_TEXT_FLOOR: usize = 12;

/// psql-like tables: no borders, a rule under the header (comfy-table preset notation).
const PRESET: &str = "     ─             ";

/// When to colour: `--color auto|always|never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorWhen {
    /// When stdout is a terminal, NO_COLOR is unset or empty and TERM is not `dumb`.
    Auto,
    Always,
    Never,
}

/// How output looks.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub json: bool,
    /// Terminal width when stdout is a terminal (None with --wide: nothing is fitted).
    pub width: Option<u16>,
}

impl Style {
    /// The style for this process's stdout: colour as `color` says, JSON when `json`.
    pub fn detect(color: ColorWhen, json: bool) -> Style {
        let tty = io::stdout().is_terminal();
        let color = match color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)
            }
        };
        // A pseudo-terminal may report no size (0 columns): then tables are not fitted to it.
        let width = if tty {
            crossterm::terminal::size()
                .ok()
                .map(|(w, _)| w)
                .filter(|w| *w > 0)
        } else {
            None
        };
        Style {
            color: color && !json,
            json,
            width,
        }
    }

    /// `-w/--wide`: show every column in full, whatever the terminal's width.
    pub fn wide(self, wide: bool) -> Style {
        Style {
            width: if wide { None } else { self.width },
            ..self
        }
    }

    /// A table of `header` and `rows` fitted to the terminal. The column named `shrink` (free text: a
    /// query, a recommendation, an error) gives way first, down to [`FREE_TEXT_MIN`] characters; while
    /// the table is still wider, the columns named in `drop_first` go, in that order; the free-text
    /// column then gets the room that is left, and every cell stays on one line, cut with `…` at a
    /// word when it is longer. Without a terminal (or with --wide) nothing is dropped or cut.
    pub fn fitted_table(
        &self,
        header: &[&str],
        rows: Vec<Vec<Cell>>,
        drop_first: &[&str],
        shrink: Option<&str>,
    ) -> String {
        let Some(width) = self.width else {
            let mut t = self.table();
            t.set_header(self.header(header));
            for r in rows {
                t.add_row(r);
            }
            return t.to_string();
        };
        let width = usize::from(width);
        let natural: Vec<usize> = {
            let mut t = Table::new();
            t.load_preset(PRESET);
            t.set_content_arrangement(ContentArrangement::Disabled);
            t.set_header(header.iter().map(Cell::new).collect::<Vec<_>>());
            for r in &rows {
                t.add_row(r.clone());
            }
            t.column_max_content_widths()
                .into_iter()
                .map(usize::from)
                .collect()
        };
        let free = shrink.and_then(|name| header.iter().position(|h| *h == name));
        let least = |i: usize| -> usize {
            if Some(i) == free {
                natural[i].min(header[i].chars().count().max(FREE_TEXT_MIN))
            } else {
                natural[i]
            }
        };
        // Each column's content plus one space of padding on each side.
        let line = |keep: &[bool]| -> usize {
            (0..header.len())
                .filter(|i| keep[*i])
                .map(|i| least(i) + 2)
                .sum()
        };
        let mut keep: Vec<bool> = vec![true; header.len()];
        for name in drop_first {
            if line(&keep) <= width {
                break;
            }
            if let Some(i) = header.iter().position(|h| h == name) {
                keep[i] = false;
            }
        }
        let kept: Vec<usize> = (0..header.len()).filter(|i| keep[*i]).collect();
        let mut t = self.table();
        t.set_truncation_indicator("…");
        let names: Vec<&str> = kept.iter().map(|i| header[*i]).collect();
        t.set_header(self.header(&names));
        for r in rows {
            let mut row =
                comfy_table::Row::from(kept.iter().map(|i| r[*i].clone()).collect::<Vec<_>>());
            row.max_height(1);
            t.add_row(row);
        }
        // Widths (content, without padding): the free text gets the room the others leave it, down to its
        // least; when even that does not fit, it goes down to [`FREE_TEXT_FLOOR`] and then the widest
        // other columns give way, one character at a time, to no less than their header's width.
        let mut widths: Vec<usize> = kept.iter().map(|i| natural[*i]).collect();
        let room = width.saturating_sub(2 * kept.len());
        let floor = |pos: usize| -> usize {
            let i = kept[pos];
            if Some(i) == free {
                header[i]
                    .chars()
                    .count()
                    .max(FREE_TEXT_FLOOR)
                    .min(natural[i])
            } else {
                header[i].chars().count().max(4).min(natural[i])
            }
        };
        let total = |w: &[usize]| -> usize { w.iter().sum() };
        if let Some(fpos) = free.and_then(|f| kept.iter().position(|i| *i == f)) {
            let others = total(&widths) - widths[fpos];
            widths[fpos] = room.saturating_sub(others).clamp(
                least(kept[fpos]).min(natural[kept[fpos]]),
                natural[kept[fpos]],
            );
            if total(&widths) > room {
                widths[fpos] = floor(fpos).max(room.saturating_sub(others));
            }
        }
        while total(&widths) > room {
            let Some(widest) = (0..widths.len())
                .filter(|p| widths[*p] > floor(*p))
                .max_by_key(|p| (widths[*p], std::cmp::Reverse(*p)))
            else {
                break;
            };
            widths[widest] -= 1;
        }
        for (pos, w) in widths.iter().enumerate() {
            if let Some(c) = t.column_mut(pos) {
                c.set_constraint(comfy_table::ColumnConstraint::Absolute(
                    comfy_table::Width::Fixed(u16::try_from(w + 2).unwrap_or(u16::MAX)),
                ));
            }
        }
        t.to_string()
    }

    /// Lines of text for people wrapped to the terminal (see [`wrap`]); as they are without one.
    /// [`Style::wrap`] `text` onto `out`, with its newline.
    pub fn wrap_line(&self, out: &mut String, indent: usize, text: &str) {
        out.push_str(&self.wrap(text, indent));
        out.push('\n');
    }

    pub fn wrap(&self, text: &str, indent: usize) -> String {
        match self.width {
            Some(w) => text
                .lines()
                .map(|l| wrap(l, usize::from(w), indent))
                .collect::<Vec<_>>()
                .join("\n"),
            None => text.to_string(),
        }
    }

    /// A table in pgconn's look, fitted to the terminal when there is one.
    pub fn table(&self) -> Table {
        let mut t = Table::new();
        t.load_preset(PRESET);
        match self.width {
            Some(w) => {
                t.set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(w);
            }
            None => {
                t.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        if self.color {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t
    }

    pub fn header(&self, names: &[&str]) -> Vec<Cell> {
        names
            .iter()
            .map(|n| {
                let c = Cell::new(n);
                if self.color {
                    c.add_attribute(comfy_table::Attribute::Bold)
                } else {
                    c
                }
            })
            .collect()
    }

    /// A cell coloured by severity.
    pub fn level_cell(&self, text: impl ToString, level: Level) -> Cell {
        let c = Cell::new(text);
        if !self.color {
            return c;
        }
        match level {
            Level::Ok => c.fg(Color::Green),
            Level::Warning => c.fg(Color::Yellow),
            Level::Critical => c.fg(Color::Red),
            Level::Unknown => c.fg(Color::Magenta),
        }
    }

    /// Text coloured by severity (ANSI), plain without colour.
    pub fn paint(&self, text: &str, level: Level) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match level {
            Level::Ok => "32",
            Level::Warning => "33",
            Level::Critical => "31",
            Level::Unknown => "35",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    pub fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Columns `s` takes on a terminal: ANSI escape sequences (pgconn's colours) none, wide characters two.
pub fn display_width(s: &str) -> usize {
    let mut n = 0;
    let mut esc = false;
    for ch in s.chars() {
        if esc {
            esc = !ch.is_ascii_alphabetic();
        } else if ch == '\x1b' {
            esc = true;
        } else {
            n += unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        }
    }
    n
}

/// `s` cut to `width` columns with `…` as the last one when it is longer (escape sequences kept, colours
/// reset after a cut).
pub fn elide(s: &str, width: usize) -> String {
    if display_width(s) <= width {
        return s.to_string();
    }
    let room = width.saturating_sub(1);
    let (mut out, mut n, mut esc) = (String::new(), 0, false);
    for ch in s.chars() {
        if esc {
            out.push(ch);
            esc = !ch.is_ascii_alphabetic();
        } else if ch == '\x1b' {
            out.push(ch);
            esc = true;
        } else {
            let w = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
            if n + w > room {
                break;
            }
            out.push(ch);
            n += w;
        }
    }
    if width > 0 {
        out.push('…');
    }
    if s.contains('\x1b') {
        out.push_str("\x1b[0m");
    }
    out
}

/// One line of text wrapped at spaces to `width` columns, the lines after the first indented by
/// `indent` spaces; a word longer than a line is cut with `…`. The spaces inside the first line's
/// run (alignment) are kept; a line is never longer than `width`.
pub fn wrap(line: &str, width: usize, indent: usize) -> String {
    if display_width(line) <= width {
        return line.to_string();
    }
    let indent = indent.min(width / 2);
    let mut lines: Vec<String> = Vec::new();
    let (mut cur, mut cur_w, mut has_word) = (String::new(), 0, false);
    let mut rest = line;
    loop {
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        let after = &rest[spaces..];
        if after.is_empty() {
            break;
        }
        let end = after.find(' ').unwrap_or(after.len());
        let word = &after[..end];
        rest = &after[end..];
        let word_w = display_width(word);
        if has_word && cur_w + spaces + word_w > width {
            // A continuation line starts at the indent, without the spaces before the word.
            lines.push(std::mem::take(&mut cur));
            cur = " ".repeat(indent);
            cur_w = indent;
        } else {
            cur.push_str(&" ".repeat(spaces));
            cur_w += spaces;
        }
        if cur_w + word_w > width {
            let cut = elide(word, width.saturating_sub(cur_w));
            cur_w += display_width(&cut);
            cur.push_str(&cut);
        } else {
            cur.push_str(word);
            cur_w += word_w;
        }
        has_word = true;
    }
    lines.push(cur);
    lines.join("\n")
}

/// A table cell holding text from the server or a client, [`clean`]ed.
pub fn text_cell(text: &str) -> Cell {
    Cell::new(clean(text))
}

/// Write text for people to stdout. A last line of defence behind [`clean`]: every control character but
/// line breaks, tabs and pgconn's own colour codes (SGR, `ESC [ ... m`) is shown escaped, so a field a
/// layout forgot to clean still cannot move the cursor or clear the screen. A closed pipe surfaces as an io
/// error that main turns into a quiet exit.
pub fn out(text: &str) -> Result<()> {
    out_raw(&terminal_safe(text))
}

/// Write machine-readable text that carries names from the server (Prometheus labels) to stdout: to a pipe
/// or a file the exact bytes its format allows; on a terminal every control character and invisible
/// reordering character shown escaped, as the tables show them ([`clean_lines`]), so that a database or
/// role name cannot rewrite the operator's screen.
pub fn out_untrusted_raw(text: &str) -> Result<()> {
    if io::stdout().is_terminal() {
        out_raw(&clean_lines(text))
    } else {
        out_raw(text)
    }
}

/// Whether an error is a closed stdout (EPIPE): the reader went away.
pub fn is_closed_stdout(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Write machine-readable text (Prometheus, plugin output, JSON, completion scripts) to stdout unchanged.
pub fn out_raw(text: &str) -> Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(())
}

/// Pretty JSON as text, with a final newline (for a file or a format chosen per target).
pub fn pretty_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// Pretty JSON on stdout, written as it is serialized (a list of thousands of sessions is never held in
/// memory as one string).
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut w = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    // An io error (a closed pipe) stays an io::Error, which main recognises.
    serde_json::to_writer_pretty(&mut w, value).map_err(io::Error::from)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_leave_escapes_out_and_count_wide_characters_twice() {
        assert_eq!(display_width("\x1b[1mxy\x1b[0m"), 2);
        assert_eq!(display_width("▁▂ ·…"), 5);
        assert_eq!(display_width("日本"), 4);
    }

    #[test]
    fn elided_text_ends_with_a_marker_and_keeps_its_colours() {
        assert_eq!(elide("abcdef", 4), "abc…");
        assert_eq!(elide("abc", 3), "abc");
        assert_eq!(elide("\x1b[31mabcdef\x1b[0m", 3), "\x1b[31mab…\x1b[0m");
        assert_eq!(elide("▁▂▃▄", 3), "▁▂…");
        assert_eq!(elide("日本語", 4), "日…");
        assert_eq!(display_width(&elide("日本語", 4)), 3);
    }

    #[test]
    fn lines_wrap_at_words_under_their_text() {
        let line =
            "  capacity     60 of 97 usable slots used (62%), 37 left  (max_connections 100)";
        let wrapped = wrap(line, 40, 15);
        assert_eq!(
            wrapped,
            "  capacity     60 of 97 usable slots\n               used (62%), 37 left\n               \
             (max_connections 100)"
        );
        assert!(wrapped.lines().all(|l| display_width(l) <= 40));
        // A word longer than a line is cut, never spills over.
        let long = format!("  - {}", "x".repeat(60));
        let wrapped = wrap(&long, 30, 4);
        assert!(wrapped.lines().all(|l| display_width(l) <= 30), "{wrapped}");
        assert!(wrapped.ends_with('…'), "{wrapped}");
        // Short lines stay as they are, alignment spaces included.
        assert_eq!(wrap("a  b", 10, 2), "a  b");
        // Colour codes take no room.
        let red = "\x1b[31m62%\x1b[0m";
        assert_eq!(
            wrap(&format!("used {red} of"), 9, 0),
            format!("used {red}\nof")
        );
    }
}
