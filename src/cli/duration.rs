//! DURATION values as users type them, each option with its range.
//!
//! Two mistakes are refused rather than guessed at: a session age given as a bare number (`5` — seconds
//! or minutes?), and a unit meaning months or years (`5M` is five months in humantime, where `5m` is five
//! minutes). Waits, intervals and timeouts keep reading a bare number as seconds, as libpq's
//! `connect_timeout` does.

use std::time::Duration;

use crate::report::typed_duration;

/// The examples every duration error ends with.
const EXAMPLES: &str = "examples: 30s, 5min, 1h30m, 300000ms, 2d";

/// Parse a duration the way users type it: humantime (`30s`, `5m`, `1h30m`) or PostgreSQL units
/// (`5min`, `300000ms`, `2d`). A bare number means seconds. Months and years are refused. Never panics: a
/// value too large for a duration, a negative one, NaN or infinity is an error.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("empty duration ({EXAMPLES})"));
    }
    if t.starts_with('-') {
        return Err(format!("{s:?} must not be negative"));
    }
    if let Ok(n) = t.parse::<f64>() {
        if n.is_nan() {
            return Err(format!("{s:?} is not a duration ({EXAMPLES})"));
        }
        if n < 0.0 {
            return Err(format!("{s:?} must not be negative"));
        }
        return Duration::try_from_secs_f64(n).map_err(|_| format!("{s:?} is far too long"));
    }
    if let Some(refusal) = calendar_unit(t) {
        return Err(refusal);
    }
    humantime::parse_duration(t).map_err(|e| format!("{s:?} is not a duration: {e} ({EXAMPLES})"))
}

/// Humantime's spellings of a month and a year. A month is 30.44 days there, and `M` sits one key
/// away from `m` (minutes): no session age or timeout is meant in these.
const CALENDAR_UNITS: &[&str] = &["M", "month", "months", "y", "yr", "yrs", "year", "years"];

/// The refusal of a value that names months or years, with PostgreSQL's spelling of what was probably
/// meant: `5M` → `5min`; a year, in days.
fn calendar_unit(t: &str) -> Option<String> {
    let mut number = String::new();
    let mut chars = t.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        if !(c.is_ascii_alphabetic() || c == 'µ') {
            if !c.is_whitespace() {
                number.clear();
            }
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if !(d.is_ascii_alphabetic() || d == 'µ') {
                break;
            }
            end = j + d.len_utf8();
            chars.next();
        }
        let unit = &t[i..end];
        if CALENDAR_UNITS.contains(&unit) {
            let n = if number.is_empty() {
                "5"
            } else {
                number.as_str()
            };
            let what = if unit == "M" || unit.starts_with("mo") {
                "months"
            } else {
                "years"
            };
            let suggestion = if what == "months" {
                format!("for minutes write {n}min (PostgreSQL's spelling; {n}m also means minutes), for days e.g. 30d")
            } else {
                "write days instead, e.g. 365d".to_string()
            };
            return Some(format!(
                "{t:?} is in {what} ({unit:?}), which pgconn does not take: {suggestion}"
            ));
        }
        number.clear();
    }
    None
}

/// A duration within `min..=max`; the error names the range (clap names the flag).
fn duration_in(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < min || d > max {
        return Err(format!(
            "{s:?} is out of range: give {} to {}",
            typed_duration(min),
            typed_duration(max)
        ));
    }
    Ok(d)
}

const DAY: Duration = Duration::from_secs(86_400);

/// A session age (`--older-than`, `--idle-longer-than`, thresholds): 0 to 3650 days, so that it always
/// fits the server's interval arithmetic. It needs a unit: a bare number (`5`) is refused with the
/// spellings of what it may have meant, except 0, which means the same in every unit.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if let Ok(n) = t.parse::<f64>() {
        if n.is_finite() && n > 0.0 {
            return Err(format!(
                "{t:?} has no unit: a session age needs one, e.g. {t}s for seconds or {t}min for minutes"
            ));
        }
    }
    duration_in(s, Duration::ZERO, DAY * 3650)
}

/// `--connect-timeout`: 0 (wait forever, as libpq's 0) to one day.
pub fn parse_connect_timeout(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, DAY)
}

/// `--target-timeout`: 1 ms to one day.
pub fn parse_target_timeout(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_millis(1), DAY)
}

/// `watch --interval`: 100 ms to one day.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_millis(100), DAY)
}

/// `kill --wait`: 0 to one hour.
pub fn parse_wait(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::ZERO, Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_both_notations() {
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("5min").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(
            parse_duration("300000ms").unwrap(),
            Duration::from_secs(300)
        );
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("-5").is_err());
        assert!(parse_duration("soon").is_err());
        let years = "1y".repeat(20);
        let overflow = "1y".repeat(100_000);
        for hostile in [
            "1e400",
            "-1s",
            "NaN",
            "99999999999999999999",
            "inf",
            "",
            " ",
            &years,
            &overflow,
        ] {
            assert!(parse_age(hostile).is_err(), "{hostile:?} must be refused");
        }
        assert_eq!(parse_age("3650d").unwrap(), DAY * 3650);
        assert!(parse_age("3651d")
            .unwrap_err()
            .contains("out of range: give 0s to 3650d"));
        assert!(parse_interval("50ms").is_err());
        assert!(parse_wait("2h").is_err());
    }

    #[test]
    fn a_session_age_needs_a_unit() {
        for bare in ["5", " 5 ", "300", "0.5", "1e3", "99999999999999999999"] {
            let e = parse_age(bare).unwrap_err();
            assert!(e.contains("has no unit"), "{bare:?}: {e}");
        }
        let e = parse_age("5").unwrap_err();
        assert!(e.contains("5s for seconds or 5min for minutes"), "{e}");
        // Zero means the same in every unit.
        assert_eq!(parse_age("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_age("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_age("5min").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_age("5m").unwrap(), Duration::from_secs(300));
        // Waits, intervals and timeouts still read a bare number as seconds, as libpq's connect_timeout.
        assert_eq!(parse_wait("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_interval("2").unwrap(), Duration::from_secs(2));
        assert_eq!(
            parse_connect_timeout("10").unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(parse_target_timeout("9").unwrap(), Duration::from_secs(9));
    }

    #[test]
    fn months_and_years_are_refused_with_postgresql_spelling() {
        for (value, wanted) in [
            ("5M", "write 5min"),
            ("5 M", "write 5min"),
            ("1h30M", "write 30min"),
            ("1.5M", "write 1.5min"),
            ("2months", "write 2min"),
            ("1month", "write 1min"),
            ("1y", "365d"),
            ("2yr", "365d"),
            ("3years", "365d"),
            ("1year", "365d"),
            ("1d1y", "365d"),
        ] {
            let e = parse_age(value).unwrap_err();
            assert!(e.contains(wanted), "{value:?}: {e}");
            assert!(
                e.contains("months") || e.contains("years"),
                "{value:?}: {e}"
            );
            // Every duration option refuses them, not only ages.
            assert!(parse_duration(value).is_err(), "{value:?}");
        }
        assert!(parse_age("5M").unwrap_err().contains("in months (\"M\")"));
        assert!(parse_age("1y").unwrap_err().contains("in years (\"y\")"));
        // Units that merely contain those letters are not calendar units.
        assert_eq!(parse_age("5min").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_age("5mins").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_age("2d").unwrap(), DAY * 2);
        assert_eq!(parse_age("1w").unwrap(), DAY * 7);
        assert_eq!(parse_age("5ms").unwrap(), Duration::from_millis(5));
        assert_eq!(parse_age("3µs").unwrap(), Duration::from_micros(3));
    }
}
