//! The only writer of stdout: JSON, tables for people, and (in submodules) each report's layout.
//! Colour is decided once: `--color`, NO_COLOR, TERM=dumb and whether stdout is a terminal.

use std::borrow::Cow;
use std::io::{self, IsTerminal, Write};

use anyhow::Result;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use serde::Serialize;

use crate::cli::{ColorChoice, OutputArgs};
use crate::report::Level;

pub mod advise;
pub mod check;
pub mod fleet;
pub mod kill;
pub mod output;
pub mod prometheus;
pub mod sessions;
pub mod status;
pub mod tune;
pub mod watch;

/// psql-like tables: no borders, a rule under the header (comfy-table preset notation).
const PRESET: &str = "     ─             ";

/// How output looks.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub json: bool,
    /// Terminal width when stdout is a terminal (None with --wide: nothing is fitted).
    pub width: Option<u16>,
}

impl Style {
    pub fn from_args(o: &OutputArgs) -> Style {
        let tty = io::stdout().is_terminal();
        let color = match o.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
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
            color: color && !o.json,
            json: o.json,
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

    /// A table of `header` and `rows` fitted to the terminal: while it is wider, the columns named in
    /// `drop_first` go, in that order; what still does not fit is cut, one line per row, with `…` (a word
    /// is never wrapped inside a cell). Without a terminal (or with --wide) nothing is dropped or cut.
    pub fn fitted_table(
        &self,
        header: &[&str],
        rows: Vec<Vec<Cell>>,
        drop_first: &[&str],
    ) -> String {
        let Some(width) = self.width else {
            let mut t = self.table();
            t.set_header(self.header(header));
            for r in rows {
                t.add_row(r);
            }
            return t.to_string();
        };
        let mut keep: Vec<bool> = vec![true; header.len()];
        let natural = {
            let mut t = Table::new();
            t.load_preset(PRESET);
            t.set_content_arrangement(ContentArrangement::Disabled);
            t.set_header(header.iter().map(Cell::new).collect::<Vec<_>>());
            for r in &rows {
                t.add_row(r.clone());
            }
            t.column_max_content_widths()
        };
        // Each column's content plus one space of padding on each side.
        let line = |keep: &[bool]| -> usize {
            natural
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(w, _)| usize::from(*w) + 2)
                .sum()
        };
        for name in drop_first {
            if line(&keep) <= usize::from(width) {
                break;
            }
            if let Some(i) = header.iter().position(|h| h == name) {
                keep[i] = false;
            }
        }
        let pick = |v: &[Cell]| -> Vec<Cell> {
            v.iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c.clone())
                .collect()
        };
        let mut t = self.table();
        t.set_truncation_indicator("…");
        let names: Vec<&str> = header
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(h, _)| *h)
            .collect();
        t.set_header(self.header(&names));
        for r in rows {
            let mut row = comfy_table::Row::from(pick(&r));
            row.max_height(1);
            t.add_row(row);
        }
        t.to_string()
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

/// Text from the server or from clients (names, queries, application_name, host names, error messages)
/// made safe for a terminal: control characters (C0, DEL, C1) and the invisible characters that reorder or
/// hide text (bidirectional overrides, zero-width marks) are shown escaped (`\x1b`, `\n`, `\u{202e}`), so
/// that no session can erase, recolour or fake what an operator reads and confirms. JSON needs none of
/// this: serde escapes control characters itself.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && needs_escape(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`clean`] for text that may span lines on purpose (error messages, generated files): each line is
/// cleaned, the line breaks stay.
pub fn clean_lines(text: &str) -> String {
    text.split('\n').map(clean).collect::<Vec<_>>().join("\n")
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// A table cell holding text from the server or a client, [`clean`]ed.
pub fn text_cell(text: &str) -> Cell {
    Cell::new(clean(text))
}

/// Free text (a query, a recommendation) for a fitted table: its spaces made non-breaking, so that a cell
/// too long for its column is cut after as many characters as fit (with `…`) rather than after its first
/// word.
pub fn unbroken(text: &str, st: &Style) -> String {
    if st.width.is_some() {
        text.replace(' ', "\u{a0}")
    } else {
        text.to_string()
    }
}

/// Write text for people to stdout. A last line of defence behind [`clean`]: every control character but
/// line breaks, tabs and pgconn's own colour codes (SGR, `ESC [ ... m`) is shown escaped, so a field a
/// layout forgot to clean still cannot move the cursor or clear the screen. A closed pipe surfaces as an io
/// error that main turns into a quiet exit.
pub fn out(text: &str) -> Result<()> {
    out_raw(&terminal_safe(text))
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

/// `text` with control characters escaped except `\n`, `\t` and SGR colour sequences.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let sgr_len = |i: usize| -> Option<usize> {
        if bytes.get(i + 1) != Some(&b'[') {
            return None;
        }
        let mut j = i + 2;
        while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b';') {
            j += 1;
        }
        (bytes.get(j) == Some(&b'm')).then_some(j + 1 - i)
    };
    let unsafe_at = |i: usize, c: char| -> bool {
        match c {
            '\n' | '\t' => false,
            '\x1b' => sgr_len(i).is_none(),
            c => needs_escape(c),
        }
    };
    if !text.char_indices().any(|(i, c)| unsafe_at(i, c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = 0;
    for (i, c) in text.char_indices() {
        if i < rest {
            continue;
        }
        if c == '\x1b' {
            if let Some(n) = sgr_len(i) {
                out.push_str(&text[i..i + n]);
                rest = i + n;
                continue;
            }
        }
        if unsafe_at(i, c) {
            let mut buf = [0u8; 4];
            out.push_str(&clean(c.encode_utf8(&mut buf)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Warnings for people, on stderr (stdout carries data only).
pub fn warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("pgconn: warning: {}", clean(w));
    }
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

/// The first line of a query, shortened to `max` characters.
pub fn excerpt(query: &str, max: usize) -> String {
    let line = query
        .trim_start()
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let multi = query
        .trim()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
        > 1;
    let mut s: String = line.chars().take(max).collect();
    if line.chars().count() > max || multi {
        if s.chars().count() >= max {
            s = s.chars().take(max.saturating_sub(1)).collect();
        }
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped_for_the_terminal() {
        assert_eq!(clean("leaky-worker"), "leaky-worker");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(clean("x\ny\rz\t"), "x\\ny\\rz\\t");
        assert_eq!(clean("\u{7f}\u{9b}"), "\\x7f\\u{009b}");
        assert_eq!(clean("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(clean("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(clean("hôte ünd 東京"), "hôte ünd 東京");
        assert_eq!(clean_lines("one\ntwo\x1b"), "one\ntwo\\x1b");
        // The safety net keeps line breaks and colour, and nothing else.
        assert_eq!(
            terminal_safe("a\n\x1b[31mred\x1b[0m\tb"),
            "a\n\x1b[31mred\x1b[0m\tb"
        );
        assert_eq!(
            terminal_safe("x\x1b[2Jy\rz\x1b]0;t\x07"),
            "x\\x1b[2Jy\\rz\\x1b]0;t\\x07"
        );
    }

    #[test]
    fn excerpts_take_the_first_line() {
        assert_eq!(excerpt("SELECT 1", 20), "SELECT 1");
        assert_eq!(excerpt("\n  SELECT *\n  FROM t", 20), "SELECT *…");
        assert_eq!(excerpt("SELECT abcdefghij", 8), "SELECT …");
    }
}
