//! DURATION values as users type them, each option with its range.

use std::time::Duration;

/// Parse a duration the way users type it: humantime (`30s`, `5m`, `1h30m`) or PostgreSQL units
/// (`5min`, `300000ms`, `2d`). A bare number means seconds. Never panics: a value too large for a
/// duration, a negative one, NaN or infinity is an error.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration (examples: 30s, 5m, 1h30m, 5min, 300000ms)".into());
    }
    if t.starts_with('-') {
        return Err(format!("{s:?} must not be negative"));
    }
    if let Ok(n) = t.parse::<f64>() {
        if n.is_nan() {
            return Err(format!(
                "{s:?} is not a duration (examples: 30s, 5m, 1h30m)"
            ));
        }
        if n < 0.0 {
            return Err(format!("{s:?} must not be negative"));
        }
        return Duration::try_from_secs_f64(n).map_err(|_| format!("{s:?} is far too long"));
    }
    humantime::parse_duration(t).map_err(|e| {
        format!("{s:?} is not a duration: {e} (examples: 30s, 5m, 1h30m, 5min, 300000ms)")
    })
}

/// A duration within `min..=max`; the error names the range (clap names the flag).
fn duration_in(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < min || d > max {
        return Err(format!(
            "{s:?} is out of range: give {} to {}",
            short(min),
            short(max)
        ));
    }
    Ok(d)
}

const DAY: Duration = Duration::from_secs(86_400);

/// `0s`, `100ms`, `1h`, `3650d`: a range bound as it is typed.
fn short(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".into(),
        ms if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// A session age (`--older-than`, `--idle-longer-than`, thresholds): 0 to 3650 days, so that it always
/// fits the server's interval arithmetic.
pub fn parse_age(s: &str) -> Result<Duration, String> {
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
}
