//! A result row of either connection: binary values from rust-postgres (the normal route), or the text
//! of a simple query (the emergency route, [`crate::wire`]). Both are read with the same
//! [`Row::get`] / [`Row::try_get`], by column name or position, into the same Rust types, so no caller
//! knows which route a row came by. A row knows the statement it came from, so that a value that cannot
//! be read names it.

use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{anyhow, Result};
use postgres::types::FromSql;

use crate::report::State;
use crate::wire::TextRow;

/// One row of a result.
pub struct Row {
    inner: Inner,
    /// The statement's name (its first line, as errors name statements).
    statement: Arc<str>,
}

enum Inner {
    Binary(postgres::Row),
    Text(TextRow),
}

impl Row {
    /// A row of the normal route, from `statement`.
    pub fn binary(r: postgres::Row, statement: &Arc<str>) -> Row {
        Row {
            inner: Inner::Binary(r),
            statement: Arc::clone(statement),
        }
    }

    /// A row of the emergency route (text values), from `statement`.
    pub fn text(r: TextRow, statement: &Arc<str>) -> Row {
        Row {
            inner: Inner::Text(r),
            statement: Arc::clone(statement),
        }
    }
}

/// A column by name (`"pid"`) or by position (`0`).
pub trait RowIndex {
    fn position(&self, row: &Row) -> Option<usize>;
    fn describe(&self) -> String;
}

impl RowIndex for usize {
    fn position(&self, row: &Row) -> Option<usize> {
        (*self < row.len()).then_some(*self)
    }
    fn describe(&self) -> String {
        format!("column {self}")
    }
}

impl RowIndex for &str {
    fn position(&self, row: &Row) -> Option<usize> {
        row.position(self)
    }
    fn describe(&self) -> String {
        format!("column \"{self}\"")
    }
}

/// A Rust type a column is read into, from either form of a value.
pub trait Column: Sized + for<'a> FromSql<'a> {
    /// From the server's text output (DateStyle ISO, TimeZone UTC: see the emergency route's startup).
    fn from_text(text: &str) -> Result<Self>;
    /// For SQL NULL.
    fn from_null() -> Result<Self> {
        Err(anyhow!("unexpected NULL"))
    }
}

impl<T: Column> Column for Option<T> {
    fn from_text(text: &str) -> Result<Self> {
        T::from_text(text).map(Some)
    }
    fn from_null() -> Result<Self> {
        Ok(None)
    }
}

impl Column for String {
    fn from_text(text: &str) -> Result<Self> {
        Ok(text.to_string())
    }
}

/// A session's state, from PostgreSQL's spelling (`pg_stat_activity.state`): the one place a state
/// enters pgconn from a server.
impl<'a> FromSql<'a> for State {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        <&str as FromSql>::from_sql(ty, raw).map(State::parse)
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <&str as FromSql>::accepts(ty)
    }
}

impl Column for State {
    fn from_text(text: &str) -> Result<Self> {
        Ok(State::parse(text))
    }
}

impl Column for bool {
    fn from_text(text: &str) -> Result<Self> {
        match text {
            "t" => Ok(true),
            "f" => Ok(false),
            _ => Err(anyhow!("not a boolean: {text:?}")),
        }
    }
}

impl Column for i32 {
    fn from_text(text: &str) -> Result<Self> {
        text.parse()
            .map_err(|e| anyhow!("not an int4: {text:?} ({e})"))
    }
}

impl Column for i64 {
    fn from_text(text: &str) -> Result<Self> {
        text.parse()
            .map_err(|e| anyhow!("not an int8: {text:?} ({e})"))
    }
}

impl Column for f64 {
    fn from_text(text: &str) -> Result<Self> {
        match text {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => text
                .parse()
                .map_err(|e| anyhow!("not a float8: {text:?} ({e})")),
        }
    }
}

impl Column for SystemTime {
    /// `2024-05-01 12:00:00.123456+00`, as a timestamptz is written with DateStyle ISO and TimeZone UTC.
    fn from_text(text: &str) -> Result<Self> {
        let utc = text
            .strip_suffix("+00")
            .ok_or_else(|| anyhow!("not a UTC timestamp: {text:?}"))?;
        humantime::parse_rfc3339(&format!("{}Z", utc.replacen(' ', "T", 1)))
            .map_err(|e| anyhow!("not a timestamp: {text:?} ({e})"))
    }
}

impl Column for Vec<String> {
    /// A one-dimensional text array as the server writes it: `{a,"b c","d\"e",NULL}`. NULL elements
    /// are refused (rust-postgres refuses them for `Vec<String>` too).
    fn from_text(text: &str) -> Result<Self> {
        let bad = || anyhow!("not a one-dimensional text array: {text:?}");
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .ok_or_else(bad)?;
        let mut out = Vec::new();
        if inner.is_empty() {
            return Ok(out);
        }
        let mut chars = inner.chars().peekable();
        loop {
            let mut item = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next().ok_or_else(bad)? {
                        '"' => break,
                        '\\' => item.push(chars.next().ok_or_else(bad)?),
                        c => item.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    if c == '{' || c == '"' {
                        return Err(bad());
                    }
                    item.push(c);
                    chars.next();
                }
                if item == "NULL" {
                    return Err(anyhow!("a NULL element in a text array: {text:?}"));
                }
            }
            out.push(item);
            match chars.next() {
                None => return Ok(out),
                Some(',') => {}
                Some(_) => return Err(bad()),
            }
        }
    }
}

impl Column for Vec<i32> {
    /// A one-dimensional int4 array as the server writes it: `{1,23}`. NULL elements are refused.
    fn from_text(text: &str) -> Result<Self> {
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .ok_or_else(|| anyhow!("not a one-dimensional int4 array: {text:?}"))?;
        if inner.is_empty() {
            return Ok(Vec::new());
        }
        inner.split(',').map(i32::from_text).collect()
    }
}

impl Column for Vec<SystemTime> {
    /// A one-dimensional timestamptz array as the server writes it (DateStyle ISO, TimeZone UTC):
    /// `{"2024-05-01 12:00:00.123456+00"}`. NULL elements are refused.
    fn from_text(text: &str) -> Result<Self> {
        Vec::<String>::from_text(text)?
            .iter()
            .map(|t| SystemTime::from_text(t))
            .collect()
    }
}

impl Row {
    /// The name of the statement the row came from.
    pub fn statement(&self) -> &str {
        &self.statement
    }

    /// How many columns the row has.
    pub fn len(&self) -> usize {
        match &self.inner {
            Inner::Binary(r) => r.len(),
            Inner::Text(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The position of the column named `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        match &self.inner {
            Inner::Binary(r) => r.columns().iter().position(|c| c.name() == name),
            Inner::Text(r) => r.columns().iter().position(|c| c == name),
        }
    }

    /// The value of a column. Panics when there is no such column or its value does not fit `T`: the
    /// statements are pgconn's own, so that is a bug (as rust-postgres' `Row::get` treats it). The
    /// statements that run over the emergency route, whose rows are the server's text, are read with
    /// [`Row::try_get`] instead: there a surprise is an error, never a panic.
    pub fn get<I: RowIndex, T: Column>(&self, idx: I) -> T {
        match self.try_get(idx) {
            Ok(v) => v,
            Err(e) => panic!("{e:#}"),
        }
    }

    /// The value of a column, or an error that names the statement, the column and why its value
    /// cannot be read as `T`.
    pub fn try_get<I: RowIndex, T: Column>(&self, idx: I) -> Result<T> {
        let position = idx.position(self);
        let value = match position {
            None => Err(anyhow!("no such column")),
            Some(i) => match &self.inner {
                Inner::Binary(r) => r.try_get::<usize, T>(i).map_err(anyhow::Error::new),
                Inner::Text(r) if i >= r.len() => {
                    Err(anyhow!("no value: the row is shorter than its description"))
                }
                Inner::Text(r) => match r.value(i) {
                    Some(text) => T::from_text(text),
                    None => T::from_null(),
                },
            },
        };
        value.map_err(|e| {
            let column = match position.and_then(|i| self.column_name(i)) {
                Some(name) => format!("column \"{name}\""),
                None => idx.describe(),
            };
            anyhow!(
                "{}: the server's row has an unexpected {column}: {e:#}",
                self.statement
            )
        })
    }

    /// The name of column `i`.
    /// The value of a text column borrowed from the row, None for NULL: no copy of the text, for a caller
    /// that only passes it on. An error that names the statement and the column when the column is not
    /// text or the row is shorter than its description.
    pub fn try_get_str(&self, i: usize) -> Result<Option<&str>> {
        let value = match &self.inner {
            Inner::Binary(r) => r
                .try_get::<usize, Option<&str>>(i)
                .map_err(anyhow::Error::new),
            Inner::Text(r) if i >= r.len() => {
                Err(anyhow!("no value: the row is shorter than its description"))
            }
            Inner::Text(r) => Ok(r.value(i)),
        };
        value.map_err(|e| {
            let column = match self.column_name(i) {
                Some(name) => format!("column \"{name}\""),
                None => format!("column {}", i + 1),
            };
            anyhow!(
                "{}: the server's row has an unexpected {column}: {e:#}",
                self.statement
            )
        })
    }

    fn column_name(&self, i: usize) -> Option<&str> {
        match &self.inner {
            Inner::Binary(r) => r.columns().get(i).map(|c| c.name()),
            Inner::Text(r) => r.columns().get(i).map(String::as_str),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_read_as_the_binary_ones_would() {
        assert!(bool::from_text("t").unwrap());
        assert!(!bool::from_text("f").unwrap());
        assert!(bool::from_text("true").is_err());
        assert_eq!(i32::from_text("-42").unwrap(), -42);
        assert_eq!(i64::from_text("9000000000").unwrap(), 9_000_000_000);
        assert_eq!(Vec::<i32>::from_text("{0,12,345}").unwrap(), [0, 12, 345]);
        assert!(Vec::<i32>::from_text("{}").unwrap().is_empty());
        assert!(Vec::<i32>::from_text("{1,NULL}").is_err());
        assert!(Vec::<i32>::from_text("1,2").is_err());
        assert_eq!(f64::from_text("0.1").unwrap(), 0.1);
        assert_eq!(f64::from_text("1e+300").unwrap(), 1e300);
        assert!(f64::from_text("NaN").unwrap().is_nan());
        assert_eq!(f64::from_text("-Infinity").unwrap(), f64::NEG_INFINITY);
        assert_eq!(Option::<i32>::from_null().unwrap(), None);
        assert!(i32::from_null().is_err());
        assert_eq!(
            Option::<String>::from_text("x").unwrap().as_deref(),
            Some("x")
        );
    }

    #[test]
    fn text_arrays_with_quotes_escapes_and_commas() {
        let parse = |s: &str| Vec::<String>::from_text(s);
        assert_eq!(parse("{}").unwrap(), Vec::<String>::new());
        assert_eq!(parse("{a,b}").unwrap(), ["a", "b"]);
        assert_eq!(
            parse(r#"{"a b","c,d","e\"f","g\\h",""}"#).unwrap(),
            ["a b", "c,d", "e\"f", "g\\h", ""]
        );
        assert!(parse("{a,NULL}").is_err());
        assert!(parse("{{a}}").is_err());
        assert!(parse("a,b").is_err());
        assert!(parse(r#"{"a"#).is_err());
    }

    #[test]
    fn timestamps_in_every_precision_the_server_writes() {
        let fmt = |s: &str| {
            humantime::format_rfc3339_micros(SystemTime::from_text(s).unwrap()).to_string()
        };
        assert_eq!(
            fmt("2024-05-01 12:00:00.123456+00"),
            "2024-05-01T12:00:00.123456Z"
        );
        assert_eq!(
            fmt("2024-05-01 12:00:00.1+00"),
            "2024-05-01T12:00:00.100000Z"
        );
        assert_eq!(fmt("2024-05-01 12:00:00+00"), "2024-05-01T12:00:00.000000Z");
        assert!(SystemTime::from_text("2024-05-01 12:00:00+02").is_err());
    }

    #[test]
    fn a_surprise_in_a_text_row_is_an_error_that_names_the_statement() {
        let stmt: Arc<str> = Arc::from("sessions: client backends of pg_stat_activity");
        let cols: Arc<[String]> = Arc::from(vec!["pid".to_string(), "state_seconds".to_string()]);
        let row = Row::text(
            TextRow::new(Arc::clone(&cols), vec![Some("12x".into()), None]),
            &stmt,
        );
        let says = |e: anyhow::Error| format!("{e:#}");
        let e = says(row.try_get::<_, i32>("pid").unwrap_err());
        assert!(
            e.starts_with("sessions: client backends of pg_stat_activity: ")
                && e.contains("column \"pid\"")
                && e.contains("not an int4: \"12x\""),
            "{e}"
        );
        let e = says(row.try_get::<_, f64>("state_seconds").unwrap_err());
        assert!(
            e.contains("sessions: ") && e.contains("unexpected NULL"),
            "{e}"
        );
        let e = says(row.try_get::<_, i32>("nope").unwrap_err());
        assert!(
            e.contains("sessions: ") && e.contains("column \"nope\""),
            "{e}"
        );
        // A row shorter than its description.
        let short = Row::text(TextRow::new(cols, vec![Some("1".into())]), &stmt);
        assert_eq!(short.try_get::<_, i32>(0).unwrap(), 1);
        let e = says(
            short
                .try_get::<_, Option<f64>>("state_seconds")
                .unwrap_err(),
        );
        assert!(e.contains("sessions: ") && e.contains("shorter"), "{e}");
    }
}
