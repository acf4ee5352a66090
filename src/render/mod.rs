//! The only writer of stdout: JSON, tables for people, and (in submodules) each report's layout.
//! Colour is decided once: `--color`, NO_COLOR, TERM=dumb and whether stdout is a terminal.

use std::io::{self, IsTerminal, Write};

use anyhow::Result;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use serde::Serialize;

use crate::cli::{ColorChoice, OutputArgs};

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
    /// Terminal width when stdout is a terminal.
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

/// Severity of a verdict or finding, in Nagios order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
            Level::Unknown => "UNKNOWN",
        }
    }
}

/// Write text to stdout. A closed pipe surfaces as an io error that main turns into a quiet exit.
pub fn out(text: &str) -> Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(())
}

/// Warnings for people, on stderr (stdout carries data only).
pub fn warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("pgconn: warning: {w}");
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

/// Compact human age: 45s, 12m03s, 3h12m, 2d04h.
pub fn age(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "-".into();
    }
    let s = seconds.floor() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

pub fn opt_age(seconds: Option<f64>) -> String {
    seconds.map(age).unwrap_or_else(|| "-".into())
}

/// Round to one decimal for JSON percentages and ages.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Round to millisecond precision for JSON ages.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
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
    fn ages_are_compact() {
        assert_eq!(age(0.4), "0s");
        assert_eq!(age(59.9), "59s");
        assert_eq!(age(60.0), "1m00s");
        assert_eq!(age(725.0), "12m05s");
        assert_eq!(age(3600.0 * 3.0 + 720.0), "3h12m");
        assert_eq!(age(86_400.0 * 2.0 + 3600.0 * 4.0), "2d04h");
        assert_eq!(age(-1.0), "-");
    }

    #[test]
    fn excerpts_take_the_first_line() {
        assert_eq!(excerpt("SELECT 1", 20), "SELECT 1");
        assert_eq!(excerpt("\n  SELECT *\n  FROM t", 20), "SELECT *…");
        assert_eq!(excerpt("SELECT abcdefghij", 8), "SELECT …");
    }
}
