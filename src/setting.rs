//! Values of settings, read as PostgreSQL reads them: what a person types (humantime `5m`, `1h30m`,
//! PostgreSQL `5min`, `300000ms`, `64MB`, `on`, enum names) turned into one form PostgreSQL accepts and
//! that means the same thing, checked against pg_settings' type, unit, min/max and enum values; a value
//! from a configuration file or the catalogs read back into a number or a boolean. One reading for
//! `tune`, `advise` and `rescue`'s configuration reader, so they never disagree about what a value
//! means. Pure functions, no server round trips.

use std::fmt;

use crate::report::{in_largest_unit, PG_TIME_UNITS};

/// A setting's type as pg_settings.vartype names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    Bool,
    Integer,
    Real,
    Enum,
    String,
}

impl VarType {
    pub fn parse(s: &str) -> VarType {
        match s {
            "bool" => VarType::Bool,
            "integer" => VarType::Integer,
            "real" => VarType::Real,
            "enum" => VarType::Enum,
            _ => VarType::String,
        }
    }
}

/// What the normaliser needs to know about a setting (a subset of its pg_settings row).
#[derive(Debug, Clone)]
pub struct Meta {
    pub name: String,
    pub vartype: VarType,
    /// pg_settings.unit: `ms`, `s`, `min`, `us`, `kB`, `8kB`, `MB`, `B` or none.
    pub unit: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub enumvals: Vec<String>,
}

/// A value in the form pgconn sends, and its number in the setting's own unit (for numeric settings).
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// What goes into `SET name = '...'`: `5min`, `30s`, `on`, `read committed`, `64MB`, `200`.
    pub value: String,
    /// The number pg_settings.setting will show (in pg_settings.unit), for integer and real settings.
    pub base: Option<f64>,
}

/// Why a value was refused; the message names the setting and says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}

/// The kind of unit a numeric setting counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitKind {
    /// Nanoseconds per unit.
    Time(i128),
    /// Bytes per unit.
    Memory(i128),
}

const NS_US: i128 = 1_000;
const NS_MS: i128 = 1_000_000;
const NS_S: i128 = 1_000_000_000;
const NS_MIN: i128 = 60 * NS_S;
const NS_H: i128 = 60 * NS_MIN;
const NS_D: i128 = 24 * NS_H;
const NS_W: i128 = 7 * NS_D;

const KB: i128 = 1024;
/// PostgreSQL's memory units, largest first (case-sensitive in PostgreSQL).
const PG_MEMORY_UNITS: [(&str, i128); 5] = [
    ("TB", KB * KB * KB * KB),
    ("GB", KB * KB * KB),
    ("MB", KB * KB),
    ("kB", KB),
    ("B", 1),
];

fn unit_kind(unit: &str) -> Option<UnitKind> {
    // pg_settings.unit may carry a multiplier: "8kB", "16MB".
    let digits: String = unit.chars().take_while(|c| c.is_ascii_digit()).collect();
    let mult: i128 = if digits.is_empty() {
        1
    } else {
        digits.parse().ok()?
    };
    let base = &unit[digits.len()..];
    if let Some((_, ns)) = PG_TIME_UNITS.iter().find(|(u, _)| *u == base) {
        return Some(UnitKind::Time(mult * ns));
    }
    if let Some((_, b)) = PG_MEMORY_UNITS.iter().find(|(u, _)| *u == base) {
        return Some(UnitKind::Memory(mult * b));
    }
    None
}

/// Nanoseconds of a time unit word, in humantime's and PostgreSQL's spellings.
fn time_unit_ns(word: &str) -> Option<i128> {
    // `M` is a month in humantime: refuse rather than guess.
    if word == "M" {
        return None;
    }
    let w = word.to_ascii_lowercase();
    Some(match w.as_str() {
        "ns" | "nsec" | "nsecs" | "nanosecond" | "nanoseconds" => 1,
        "us" | "µs" | "usec" | "usecs" | "microsecond" | "microseconds" => NS_US,
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => NS_MS,
        "s" | "sec" | "secs" | "second" | "seconds" => NS_S,
        "m" | "min" | "mins" | "minute" | "minutes" => NS_MIN,
        "h" | "hr" | "hrs" | "hour" | "hours" => NS_H,
        "d" | "day" | "days" => NS_D,
        "w" | "week" | "weeks" => NS_W,
        _ => return None,
    })
}

fn memory_unit_bytes(word: &str) -> Option<i128> {
    let w = word.to_ascii_lowercase();
    Some(match w.as_str() {
        "b" => 1,
        "kb" => KB,
        "mb" => KB * KB,
        "gb" => KB * KB * KB,
        "tb" => KB * KB * KB * KB,
        _ => return None,
    })
}

/// A decimal number split into digits and a power of ten: `1.5` = 15 / 10^1.
#[derive(Debug, Clone, Copy)]
struct Decimal {
    mantissa: i128,
    scale: u32,
}

impl Decimal {
    /// `n * unit` as an exact integer, or None when it is not whole.
    fn times(self, unit: i128) -> Option<i128> {
        let div = 10i128.checked_pow(self.scale)?;
        let p = self.mantissa.checked_mul(unit)?;
        (p % div == 0).then_some(p / div)
    }
}

fn parse_decimal(s: &str) -> Option<Decimal> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if int.len() + frac.len() > 30 {
        return None;
    }
    let digits = format!("{int}{frac}");
    Some(Decimal {
        mantissa: digits.parse().ok()?,
        scale: frac.len() as u32,
    })
}

/// `<number><unit>` pieces of a value (`1h30m` → [(1, h), (30, m)]); a bare number has an empty unit.
fn split_terms(s: &str) -> Option<Vec<(Decimal, String)>> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let num = parse_decimal(&rest[..num_len])?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphabetic()))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].to_string();
        rest = rest[unit_len..].trim_start();
        out.push((num, unit));
    }
    Some(out)
}

/// A number with an optional leading minus, and whether it had one.
fn strip_sign(s: &str) -> (bool, &str) {
    let t = s.trim();
    match t.strip_prefix('-') {
        Some(r) => (true, r.trim_start()),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    }
}

fn fmt_f64(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Time units a person may type, for error messages.
const TIME_HINT: &str =
    "a duration such as 30s, 5m, 5min, 1h30m or 300000ms (PostgreSQL units: us, ms, s, min, h, d)";
const MEMORY_HINT: &str = "a size such as 64MB, 512kB or 1GB (units: B, kB, MB, GB, TB)";

/// Turn what a person typed into the value pgconn sends, checking type, unit, range and enum values.
pub fn normalise(meta: &Meta, input: &str) -> Result<Normalized, ValueError> {
    let name = &meta.name;
    let t = input.trim();
    if t.is_empty() && meta.vartype != VarType::String {
        return Err(ValueError(format!("{name}: empty value")));
    }
    let n = match meta.vartype {
        VarType::Bool => Normalized {
            value: parse_bool(t)
                .map(on_off)
                .ok_or_else(|| {
                    ValueError(format!(
                        "{name}: {input:?} is not a boolean (use on or off, true or false, yes or no, 1 or 0)"
                    ))
                })?
                .into(),
            base: None,
        },
        VarType::Enum => {
            let found = meta
                .enumvals
                .iter()
                .find(|v| v.eq_ignore_ascii_case(t))
                .ok_or_else(|| {
                    ValueError(format!(
                        "{name}: {input:?} is not one of its values: {}",
                        meta.enumvals.join(", ")
                    ))
                })?;
            Normalized {
                value: found.clone(),
                base: None,
            }
        }
        VarType::String => Normalized {
            value: input.to_string(),
            base: None,
        },
        VarType::Integer | VarType::Real => {
            let n = numeric(meta, t, input, false)?;
            check_range(meta, &n, input)?;
            n
        }
    };
    Ok(n)
}

/// A boolean as PostgreSQL reads one (`parse_bool_with_len` in src/backend/utils/adt/bool.c): case
/// aside, any prefix of `true`, `false`, `yes` or `no` (one letter is enough: none shares a first
/// letter), `on`, `of` or `off` (`o` alone could be either), `1` or `0`. Nothing is trimmed: a
/// configuration file's value is read as it stands, and callers trim what a person typed.
pub fn parse_bool(v: &str) -> Option<bool> {
    let v = v.to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| v.len() >= min && word.starts_with(v.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || v == "on" || v == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || v == "0" {
        Some(false)
    } else {
        None
    }
}

/// The form pgconn writes a boolean in.
fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// `round`: accept values that are not a whole number of the setting's unit and round them as PostgreSQL
/// does (for values already stored on the server); otherwise refuse them.
fn numeric(meta: &Meta, t: &str, input: &str, round: bool) -> Result<Normalized, ValueError> {
    let name = &meta.name;
    let is_int = meta.vartype == VarType::Integer;
    let kind = meta.unit.as_deref().and_then(unit_kind);
    let (neg, body) = strip_sign(t);
    let terms = split_terms(body).ok_or_else(|| {
        ValueError(match kind {
            Some(UnitKind::Time(_)) => format!("{name}: {input:?} is not {TIME_HINT}"),
            Some(UnitKind::Memory(_)) => format!("{name}: {input:?} is not {MEMORY_HINT}"),
            None if is_int => format!("{name}: {input:?} is not a whole number"),
            None => format!("{name}: {input:?} is not a number"),
        })
    })?;
    let bare = terms.len() == 1 && terms[0].1.is_empty();

    let Some(kind) = kind else {
        // A plain number: no unit allowed.
        if !bare {
            return Err(ValueError(format!(
                "{name}: {input:?} has a unit, but {name} is a plain number"
            )));
        }
        let d = terms[0].0;
        if is_int && d.scale > 0 && d.times(1).is_none() {
            return Err(ValueError(format!(
                "{name}: {input:?} is not a whole number"
            )));
        }
        let mut x = d.mantissa as f64 / 10f64.powi(d.scale as i32);
        if neg {
            x = -x;
        }
        return Ok(Normalized {
            value: fmt_f64(x),
            base: Some(x),
        });
    };

    let (unit_size, pg_units, hint): (i128, &[(&str, i128)], &str) = match kind {
        UnitKind::Time(ns) => (ns, &PG_TIME_UNITS, TIME_HINT),
        UnitKind::Memory(b) => (b, &PG_MEMORY_UNITS, MEMORY_HINT),
    };
    let unit_name = meta.unit.as_deref().unwrap_or("");

    // Total amount in the family's smallest unit (ns or bytes).
    let mut total: i128 = 0;
    for (d, u) in &terms {
        let size = if u.is_empty() {
            if !bare {
                return Err(ValueError(format!(
                    "{name}: {input:?} mixes a bare number with units; write e.g. 1h30m"
                )));
            }
            // A bare number counts in the setting's own unit, as PostgreSQL reads it.
            unit_size
        } else {
            let size = match kind {
                UnitKind::Time(_) => time_unit_ns(u),
                UnitKind::Memory(_) => memory_unit_bytes(u),
            };
            size.ok_or_else(|| {
                let extra = if u == "M" {
                    " (M is a month in humantime; write 5m or 5min for minutes)"
                } else {
                    ""
                };
                ValueError(format!(
                    "{name}: unknown unit {u:?} in {input:?}{extra}; expected {hint}"
                ))
            })?
        };
        let part = d.times(size).ok_or_else(|| {
            ValueError(format!(
                "{name}: {input:?} is more precise than PostgreSQL can store"
            ))
        })?;
        total = total
            .checked_add(part)
            .ok_or_else(|| ValueError(format!("{name}: {input:?} is too large")))?;
    }
    if neg {
        if terms.len() > 1 {
            return Err(ValueError(format!(
                "{name}: {input:?}: a negative value must be a single number"
            )));
        }
        total = -total;
    }

    // In the setting's own unit.
    let mut base = total as f64 / unit_size as f64;
    if is_int && total % unit_size != 0 && round {
        base = base.round();
    } else if is_int && total % unit_size != 0 {
        return Err(ValueError(format!(
            "{name}: {input:?} is not a whole number of {unit_name}, the unit {name} counts in \
             (PostgreSQL would round it to {})",
            fmt_f64(base.round())
        )));
    }

    // A bare zero or negative number keeps its plain form: 0 = off, -1 = disabled in most settings.
    let value = if bare && total <= 0 {
        fmt_f64(base)
    } else {
        match kind {
            UnitKind::Time(_) if total % NS_US != 0 => {
                return Err(ValueError(format!(
                "{name}: {input:?} is finer than a microsecond, the smallest unit PostgreSQL knows"
            )))
            }
            _ => in_largest_unit(total, pg_units).ok_or_else(|| {
                ValueError(format!("{name}: {input:?} cannot be written in {hint}"))
            })?,
        }
    };
    Ok(Normalized {
        value,
        base: Some(base),
    })
}

fn check_range(meta: &Meta, n: &Normalized, input: &str) -> Result<(), ValueError> {
    let Some(x) = n.base else { return Ok(()) };
    let unit = meta.unit.as_deref().unwrap_or("");
    let show = |b: f64| -> String {
        let raw = fmt_f64(b);
        if unit.is_empty() {
            return raw;
        }
        let d = display(meta, &raw);
        if d == raw || d == format!("{raw}{unit}") {
            d
        } else {
            format!("{d} ({raw}{unit})")
        }
    };
    if let Some(min) = meta.min {
        if x < min {
            return Err(ValueError(format!(
                "{}: {input:?} is below its minimum {} on this server",
                meta.name,
                show(min)
            )));
        }
    }
    if let Some(max) = meta.max {
        if x > max {
            return Err(ValueError(format!(
                "{}: {input:?} is above its maximum {} on this server",
                meta.name,
                show(max)
            )));
        }
    }
    Ok(())
}

/// A value as the server stores it (pg_settings.setting in its unit, or a string from ALTER ... SET) in
/// the readable form pgconn prints: `300000` (ms) → `5min`. Falls back to the text as it is.
pub fn display(meta: &Meta, stored: &str) -> String {
    let relaxed = Meta {
        min: None,
        max: None,
        ..meta.clone()
    };
    match meta.vartype {
        VarType::Integer | VarType::Real => match numeric(&relaxed, stored.trim(), stored, false) {
            Ok(n) => n.value,
            Err(_) => stored.to_string(),
        },
        VarType::Bool => parse_bool(stored.trim())
            .map(|b| on_off(b).to_string())
            .unwrap_or_else(|| stored.to_string()),
        _ => stored.to_string(),
    }
}

/// The number in the setting's unit a stored value stands for (`5min` for a ms setting → 300000).
pub fn base_of(meta: &Meta, stored: &str) -> Option<f64> {
    match meta.vartype {
        VarType::Integer | VarType::Real => {
            let relaxed = Meta {
                min: None,
                max: None,
                ..meta.clone()
            };
            numeric(&relaxed, stored.trim(), stored, true).ok()?.base
        }
        _ => None,
    }
}

/// Settings whose values are lists of names that PostgreSQL double-quotes when it stores them
/// (GUC_LIST_QUOTE): `SET search_path = 'a, b'` is one schema named "a, b", stored as `"a, b"`.
pub const LIST_QUOTE: &[&str] = &[
    "search_path",
    "temp_tablespaces",
    "local_preload_libraries",
    "session_preload_libraries",
    "shared_preload_libraries",
];

pub fn is_list_quote(name: &str) -> bool {
    LIST_QUOTE.contains(&name)
}

/// The elements of a list value as PostgreSQL stores or reads it: comma-separated, each bare (trimmed) or
/// in double quotes with `""` for a quote. `a, "b c", "x""y"` → [a, b c, x"y].
pub fn list_elements(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        item.push('"');
                    } else {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
            while chars.peek().is_some_and(|c| *c != ',') {
                chars.next();
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                item.push(c);
                chars.next();
            }
            item = item.trim().to_string();
        }
        out.push(item);
        if chars.next().is_none() {
            break;
        }
    }
    out
}

/// Whether two stored values mean the same (`5min` and `300000` for a ms setting; `ON` and `true`).
pub fn same_value(meta: &Meta, a: &str, b: &str) -> bool {
    match meta.vartype {
        VarType::Integer | VarType::Real => match (base_of(meta, a), base_of(meta, b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        VarType::Bool => match (parse_bool(a.trim()), parse_bool(b.trim())) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        VarType::Enum => a.trim().eq_ignore_ascii_case(b.trim()),
        VarType::String if is_list_quote(&meta.name) => list_elements(a) == list_elements(b),
        VarType::String => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(name: &str) -> Meta {
        Meta {
            name: name.into(),
            vartype: VarType::Integer,
            unit: Some("ms".into()),
            min: Some(0.0),
            max: Some(2_147_483_647.0),
            enumvals: vec![],
        }
    }

    fn secs(name: &str) -> Meta {
        Meta {
            unit: Some("s".into()),
            ..ms(name)
        }
    }

    fn plain(name: &str, min: f64, max: f64) -> Meta {
        Meta {
            name: name.into(),
            vartype: VarType::Integer,
            unit: None,
            min: Some(min),
            max: Some(max),
            enumvals: vec![],
        }
    }

    fn shown(meta: &Meta, s: &str) -> String {
        normalise(meta, s).unwrap().value
    }

    fn err(meta: &Meta, s: &str) -> String {
        normalise(meta, s).unwrap_err().0
    }

    #[test]
    fn humantime_durations_become_postgresql_units() {
        let m = ms("statement_timeout");
        assert_eq!(shown(&m, "5m"), "5min");
        assert_eq!(shown(&m, "90s"), "90s");
        assert_eq!(shown(&m, "1h30m"), "90min");
        assert_eq!(shown(&m, "1h 30m"), "90min");
        assert_eq!(shown(&m, "2h"), "2h");
        assert_eq!(shown(&m, "1d"), "1d");
        assert_eq!(shown(&m, "1w"), "7d");
        assert_eq!(shown(&m, "1m30s"), "90s");
        assert_eq!(shown(&m, "250ms"), "250ms");
        assert_eq!(shown(&m, "1.5s"), "1500ms");
        assert_eq!(shown(&m, "30sec"), "30s");
        assert_eq!(shown(&m, "2 minutes"), "2min");
        assert_eq!(normalise(&m, "5m").unwrap().base, Some(300_000.0));
        assert_eq!(normalise(&m, "1h30m").unwrap().base, Some(5_400_000.0));
    }

    #[test]
    fn postgresql_durations_are_kept_or_simplified() {
        let m = ms("idle_in_transaction_session_timeout");
        assert_eq!(shown(&m, "5min"), "5min");
        assert_eq!(shown(&m, "300000ms"), "5min");
        assert_eq!(shown(&m, "30s"), "30s");
        assert_eq!(shown(&m, "1500ms"), "1500ms");
        assert_eq!(shown(&m, "2000us"), "2ms");
        assert_eq!(shown(&m, "1h30min"), "90min");
    }

    #[test]
    fn bare_numbers_count_in_the_settings_unit() {
        let m = ms("statement_timeout");
        assert_eq!(shown(&m, "0"), "0");
        assert_eq!(shown(&m, "300000"), "5min");
        assert_eq!(shown(&m, "1500"), "1500ms");
        assert_eq!(normalise(&m, "90").unwrap().base, Some(90.0));
        let s = secs("tcp_keepalives_idle");
        assert_eq!(shown(&s, "60"), "1min");
        assert_eq!(shown(&s, "75"), "75s");
        let mut log = ms("log_min_duration_statement");
        log.min = Some(-1.0);
        assert_eq!(shown(&log, "-1"), "-1");
    }

    #[test]
    fn postgresql_never_receives_m_or_compound_units() {
        let m = ms("statement_timeout");
        for input in ["5m", "1h30m", "1h30min", "2h15m10s", "1m", "90m", "36h"] {
            let out = shown(&m, input);
            let (num, unit): (String, String) = out.chars().partition(|c| c.is_ascii_digit());
            assert!(!num.is_empty(), "{input} -> {out}");
            assert!(
                ["us", "ms", "s", "min", "h", "d"].contains(&unit.as_str()),
                "{input} -> {out}"
            );
        }
    }

    #[test]
    fn precision_and_unit_mistakes_are_refused() {
        let m = ms("statement_timeout");
        assert!(err(&m, "1500us").contains("whole number of ms"));
        assert!(err(&m, "5M").contains("month"));
        assert!(err(&m, "5 parsecs").contains("unknown unit"));
        assert!(err(&m, "soon").contains("duration"));
        assert!(err(&m, "5min30").contains("bare number"));
        assert!(err(&m, "").contains("empty"));
        let s = secs("tcp_keepalives_idle");
        assert!(err(&s, "1500ms").contains("whole number of s"));
        assert_eq!(shown(&s, "2000ms"), "2s");
    }

    #[test]
    fn ranges_come_from_pg_settings() {
        let m = ms("statement_timeout");
        assert!(err(&m, "-5s").contains("below its minimum"));
        assert!(err(&m, "-1").contains("below its minimum"));
        assert!(err(&m, "30d").contains("above its maximum"));
        assert_eq!(shown(&m, "24d"), "24d");
        let mc = plain("max_connections", 1.0, 262_143.0);
        assert_eq!(shown(&mc, "200"), "200");
        assert!(err(&mc, "0").contains("below its minimum 1 on this server"));
        assert!(err(&mc, "300000").contains("above its maximum 262143"));
        assert!(err(&mc, "2.5").contains("whole number"));
        assert!(err(&mc, "5s").contains("plain number"));
        assert!(err(&mc, "lots").contains("whole number"));
    }

    #[test]
    fn memory_sizes() {
        let m = Meta {
            name: "work_mem".into(),
            vartype: VarType::Integer,
            unit: Some("kB".into()),
            min: Some(64.0),
            max: Some(2_147_483_647.0),
            enumvals: vec![],
        };
        assert_eq!(shown(&m, "64MB"), "64MB");
        assert_eq!(shown(&m, "64mb"), "64MB");
        assert_eq!(shown(&m, "1024kB"), "1MB");
        assert_eq!(shown(&m, "4096"), "4MB");
        assert_eq!(normalise(&m, "64MB").unwrap().base, Some(65536.0));
        assert!(err(&m, "100B").contains("whole number of kB"));
        assert!(err(&m, "32kB").contains("minimum"));
        let sb = Meta {
            name: "shared_buffers".into(),
            unit: Some("8kB".into()),
            min: Some(16.0),
            ..m.clone()
        };
        assert_eq!(shown(&sb, "128MB"), "128MB");
        assert_eq!(normalise(&sb, "128MB").unwrap().base, Some(16384.0));
        assert!(err(&sb, "12kB").contains("whole number of 8kB"));
    }

    #[test]
    fn booleans_as_postgresql_reads_them() {
        for on in ["on", "ON", "true", "tru", "t", "yes", "Ye", "y", "1"] {
            assert_eq!(parse_bool(on), Some(true), "{on}");
        }
        for off in ["off", "of", "false", "fals", "f", "no", "n", "0"] {
            assert_eq!(parse_bool(off), Some(false), "{off}");
        }
        for neither in ["o", "maybe", " on", "onn", "offf", "truee", "", "2", "10"] {
            assert_eq!(parse_bool(neither), None, "{neither:?}");
        }
    }

    #[test]
    fn booleans_enums_reals_and_strings() {
        let b = Meta {
            name: "log_connections".into(),
            vartype: VarType::Bool,
            unit: None,
            min: None,
            max: None,
            enumvals: vec![],
        };
        assert_eq!(shown(&b, "TRUE"), "on");
        assert_eq!(shown(&b, "no"), "off");
        assert!(err(&b, "maybe").contains("boolean"));
        let e = Meta {
            name: "default_transaction_isolation".into(),
            vartype: VarType::Enum,
            enumvals: vec!["serializable".into(), "read committed".into()],
            ..b.clone()
        };
        assert_eq!(shown(&e, "Read Committed"), "read committed");
        assert!(err(&e, "dirty").contains("serializable, read committed"));
        let r = Meta {
            name: "autovacuum_vacuum_cost_delay".into(),
            vartype: VarType::Real,
            unit: Some("ms".into()),
            min: Some(-1.0),
            max: Some(100.0),
            enumvals: vec![],
        };
        assert_eq!(shown(&r, "2ms"), "2ms");
        assert_eq!(shown(&r, "500us"), "500us");
        assert_eq!(normalise(&r, "500us").unwrap().base, Some(0.5));
        assert_eq!(shown(&r, "-1"), "-1");
        let f = Meta {
            name: "seq_page_cost".into(),
            vartype: VarType::Real,
            unit: None,
            min: Some(0.0),
            max: Some(1e10),
            enumvals: vec![],
        };
        assert_eq!(shown(&f, "1.5"), "1.5");
        assert_eq!(shown(&f, "2"), "2");
        let s = Meta {
            name: "application_name".into(),
            vartype: VarType::String,
            ..f
        };
        assert_eq!(shown(&s, "it's; fine"), "it's; fine");
    }

    #[test]
    fn list_values_split_like_postgresql() {
        assert_eq!(list_elements("a, b"), ["a", "b"]);
        assert_eq!(list_elements("\"a, b\""), ["a, b"]);
        assert_eq!(list_elements("\"$user\", public"), ["$user", "public"]);
        assert_eq!(list_elements("\"x\"\"y\", z"), ["x\"y", "z"]);
        assert_eq!(list_elements(""), [""]);
        assert_eq!(list_elements("\"\""), [""]);
        let m = Meta {
            name: "search_path".into(),
            vartype: VarType::String,
            unit: None,
            min: None,
            max: None,
            enumvals: vec![],
        };
        assert!(same_value(&m, "a, b", "a,b"));
        assert!(!same_value(&m, "\"a, b\"", "a, b"));
    }

    #[test]
    fn stored_values_display_readably_and_compare_by_meaning() {
        let m = ms("statement_timeout");
        assert_eq!(display(&m, "300000"), "5min");
        assert_eq!(display(&m, "0"), "0");
        assert_eq!(display(&m, "5min"), "5min");
        assert_eq!(display(&m, "garbage"), "garbage");
        assert!(same_value(&m, "5min", "300000"));
        assert!(same_value(&m, "300s", "5min"));
        assert!(!same_value(&m, "30s", "5min"));
        assert_eq!(base_of(&m, "1h"), Some(3_600_000.0));
        // Stored values PostgreSQL rounded are read the way it reads them.
        let s = secs("tcp_keepalives_idle");
        assert_eq!(base_of(&s, "1500ms"), Some(2.0));
        assert_eq!(display(&s, "1500ms"), "1500ms");
    }
}
