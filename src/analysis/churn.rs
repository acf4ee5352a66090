//! Churn between two reads of pg_stat_database's session counters (PostgreSQL 14+): sessions started
//! per second and sessions abandoned, ended by a FATAL error or killed per minute, per database. A
//! counter reset between the reads (`stats_reset` changed, or any counter went down: pg_stat_reset(),
//! a crash, a dropped and re-created database) is a reset, never a negative rate. `watch` reads them
//! each sample, `advise` twice a short interval apart.

use crate::report::status::SessionCounters;
use crate::report::watch::Churn;

/// Rates from `before` to `after`, `seconds` apart, for each database of `after` (a database new since
/// `before` counts from zero only if the first read had it: otherwise it has no rate yet).
pub fn rates(before: &[SessionCounters], after: &[SessionCounters], seconds: f64) -> Vec<Churn> {
    after
        .iter()
        .filter_map(|a| {
            let b = before.iter().find(|b| b.database == a.database)?;
            Some(rate(b, a, seconds))
        })
        .collect()
}

fn rate(b: &SessionCounters, a: &SessionCounters, seconds: f64) -> Churn {
    let deltas = [
        a.sessions - b.sessions,
        a.abandoned - b.abandoned,
        a.fatal - b.fatal,
        a.killed - b.killed,
    ];
    // stats_reset changes on a reset; from none to a time it also appears on 14 when the collector
    // creates a database's entry (with its first session), which is no reset when nothing was counted.
    let counted = b.sessions != 0 || b.abandoned != 0 || b.fatal != 0 || b.killed != 0;
    let reset_moved = match (&b.stats_reset, &a.stats_reset) {
        (Some(x), Some(y)) => x != y,
        (None, Some(_)) => counted,
        _ => false,
    };
    let reset = reset_moved
        || deltas.iter().any(|d| *d < 0)
        || a.session_time_seconds < b.session_time_seconds;
    let per = |d: i64, unit: f64| {
        (!reset && seconds > 0.0).then(|| crate::report::round3(d as f64 * unit / seconds))
    };
    Churn {
        database: a.database.clone(),
        seconds: crate::report::round3(seconds),
        reset,
        sessions_started: (!reset).then_some(deltas[0]),
        abandoned: (!reset).then_some(deltas[1]),
        fatal: (!reset).then_some(deltas[2]),
        killed: (!reset).then_some(deltas[3]),
        sessions_per_second: per(deltas[0], 1.0),
        abandoned_per_minute: per(deltas[1], 60.0),
        fatal_per_minute: per(deltas[2], 60.0),
        killed_per_minute: per(deltas[3], 60.0),
    }
}

pub use crate::report::watch::total;

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(
        db: &str,
        sessions: i64,
        abandoned: i64,
        killed: i64,
        reset: Option<&str>,
    ) -> SessionCounters {
        SessionCounters {
            database: db.into(),
            sessions,
            abandoned,
            killed,
            session_time_seconds: sessions as f64,
            stats_reset: reset.map(String::from),
            ..SessionCounters::default()
        }
    }

    #[test]
    fn rates_per_second_and_per_minute() {
        let r = rates(
            &[counters("app", 10, 1, 0, None)],
            &[counters("app", 30, 3, 1, None)],
            10.0,
        );
        assert_eq!(r.len(), 1);
        assert!(!r[0].reset);
        assert_eq!(r[0].sessions_started, Some(20));
        assert_eq!(r[0].sessions_per_second, Some(2.0));
        assert_eq!(r[0].abandoned_per_minute, Some(12.0));
        assert_eq!(r[0].killed_per_minute, Some(6.0));
        assert_eq!(r[0].fatal_per_minute, Some(0.0));
    }

    #[test]
    fn a_reset_is_never_a_negative_rate() {
        // pg_stat_reset(): the values go down (and on 15+ stats_reset changes).
        for after in [
            counters("app", 2, 0, 0, None),
            counters("app", 40, 3, 1, Some("2026-12-07T12:00:00+00:00")),
        ] {
            let r = rates(&[counters("app", 30, 3, 1, None)], &[after], 10.0);
            assert!(r[0].reset);
            assert_eq!(r[0].sessions_per_second, None);
            assert_eq!(r[0].abandoned, None);
            let t = total(&r).unwrap();
            assert!(t.reset && t.sessions_per_second.is_none());
        }
    }

    #[test]
    fn a_reset_in_one_database_leaves_the_others_in_the_total() {
        let r = rates(
            &[counters("a", 30, 3, 1, None), counters("b", 10, 0, 0, None)],
            &[
                counters("a", 0, 0, 0, Some("2026-12-07T12:00:00+00:00")),
                counters("b", 20, 1, 0, None),
            ],
            10.0,
        );
        let t = total(&r).unwrap();
        assert!(!t.reset);
        assert_eq!(t.sessions_started, Some(10));
        assert_eq!(t.abandoned_per_minute, Some(6.0));
    }

    #[test]
    fn a_first_entry_on_14_is_no_reset() {
        let r = rates(
            &[counters("new", 0, 0, 0, None)],
            &[counters("new", 3, 0, 0, Some("2026-12-07T12:00:00+00:00"))],
            1.0,
        );
        assert!(!r[0].reset);
        assert_eq!(r[0].sessions_started, Some(3));
    }

    #[test]
    fn a_database_without_a_first_read_has_no_rate() {
        let r = rates(&[], &[counters("new", 3, 0, 0, None)], 1.0);
        assert!(r.is_empty());
        assert!(total(&r).is_none());
    }
}
