//! Capacity math, once: the slots ordinary roles can use, how many are taken (in percent), how many are
//! left, and how many sessions sit in the reserved slots. status, check, watch, advise and the Prometheus
//! output all read [`Capacity`] as [`assess`] computes it.

use super::Thresholds;
use crate::report::status::Capacity;
use crate::report::{round1, Level, ServerFacts};

/// `n` sessions as a percent of the `usable` slots (100 when there are none: nothing fits).
pub fn percent_of_usable(n: i64, usable: i32) -> f64 {
    if usable <= 0 {
        return 100.0;
    }
    n as f64 * 100.0 / f64::from(usable)
}

/// The server's capacity with `used` client backends, and its level against --warn-used / --crit-used
/// (CRITICAL also when no slot is left).
pub fn assess(facts: &ServerFacts, used: i64, t: &Thresholds) -> Capacity {
    let usable = facts.usable_slots();
    let slots_left = (i64::from(usable) - used).max(0);
    let used_percent = percent_of_usable(used, usable);
    let reserved_total = i64::from(facts.max_connections - usable);
    let in_reserved_slots = (used - i64::from(usable)).max(0);
    let level = if used_percent >= t.crit_used || slots_left == 0 {
        Level::Critical
    } else if used_percent >= t.warn_used {
        Level::Warning
    } else {
        Level::Ok
    };
    Capacity {
        max_connections: facts.max_connections,
        superuser_reserved_connections: facts.superuser_reserved_connections,
        reserved_connections: facts.reserved_connections,
        usable_slots: usable,
        used,
        slots_left,
        used_percent: round1(used_percent),
        in_reserved_slots,
        reserved_slots_left: (reserved_total - in_reserved_slots).max(0),
        level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(max: i32, su: i32, reserved: Option<i32>) -> ServerFacts {
        ServerFacts {
            version: "16".into(),
            version_num: 160000,
            max_connections: max,
            superuser_reserved_connections: su,
            reserved_connections: reserved,
            backend_pid: 1,
            current_user: "postgres".into(),
            database: "postgres".into(),
            is_superuser: true,
            can_read_all_stats: true,
            can_signal_backend: true,
            can_read_file_settings: true,
        }
    }

    #[test]
    fn capacity_counts_the_reserved_slots_apart() {
        let t = Thresholds::default();
        let c = assess(&facts(100, 3, Some(2)), 10, &t);
        assert_eq!(
            (c.usable_slots, c.slots_left, c.used_percent),
            (95, 85, 10.5)
        );
        assert_eq!((c.in_reserved_slots, c.reserved_slots_left), (0, 5));
        assert_eq!(c.level, Level::Ok);
        let full = assess(&facts(100, 3, Some(2)), 97, &t);
        assert_eq!(
            (
                full.slots_left,
                full.in_reserved_slots,
                full.reserved_slots_left
            ),
            (0, 2, 3)
        );
        assert_eq!(full.level, Level::Critical);
        assert_eq!(assess(&facts(100, 3, None), 78, &t).level, Level::Warning);
        assert_eq!(percent_of_usable(1, 0), 100.0);
    }
}
