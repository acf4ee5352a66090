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

/// A capacity threshold of `check`: when used slots reach a percent, a count, or leave this few free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CapacityThreshold {
    /// `80%`: this percent of the slots ordinary roles can use.
    Percent(f64),
    /// `150`: this many used slots.
    Used(i64),
    /// `-10`: this many slots left, or fewer.
    Left(i64),
}

impl std::fmt::Display for CapacityThreshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CapacityThreshold::Percent(p) => write!(f, "{p}%"),
            CapacityThreshold::Used(n) => write!(f, "{n}"),
            CapacityThreshold::Left(n) => write!(f, "-{n}"),
        }
    }
}

impl CapacityThreshold {
    /// Whether `used` of `usable` slots reaches this threshold.
    pub fn reached(&self, used: i64, usable: i32) -> bool {
        match *self {
            CapacityThreshold::Percent(p) => {
                usable <= 0 || used as f64 * 100.0 >= p * f64::from(usable)
            }
            CapacityThreshold::Used(n) => used >= n,
            CapacityThreshold::Left(n) => (i64::from(usable) - used).max(0) <= n,
        }
    }

    /// The used-slot count at which this threshold fires (for performance data).
    pub fn as_used(&self, usable: i32) -> f64 {
        match *self {
            CapacityThreshold::Percent(p) => (p * f64::from(usable) / 100.0).ceil(),
            CapacityThreshold::Used(n) => n as f64,
            CapacityThreshold::Left(n) => (i64::from(usable) - n) as f64,
        }
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

    #[test]
    fn thresholds_fire_when_reached() {
        // 97 usable slots: 80% is 77.6 slots, so 78 used fires and 77 does not.
        assert!(!CapacityThreshold::Percent(80.0).reached(77, 97));
        assert!(CapacityThreshold::Percent(80.0).reached(78, 97));
        // Exactly on the boundary: 50% of 10 is 5.
        assert!(!CapacityThreshold::Percent(50.0).reached(4, 10));
        assert!(CapacityThreshold::Percent(50.0).reached(5, 10));
        assert!(!CapacityThreshold::Used(150).reached(149, 197));
        assert!(CapacityThreshold::Used(150).reached(150, 197));
        // -10: 10 or fewer left.
        assert!(!CapacityThreshold::Left(10).reached(86, 97));
        assert!(CapacityThreshold::Left(10).reached(87, 97));
        // Past full (reserved slots in use) there are 0 left, never negative.
        assert!(CapacityThreshold::Left(0).reached(99, 97));
        assert!(CapacityThreshold::Percent(100.0).reached(99, 97));
        assert!(CapacityThreshold::Percent(0.0).reached(0, 97));
        assert!(
            CapacityThreshold::Percent(80.0).reached(0, 0),
            "no usable slot is full"
        );
    }

    #[test]
    fn thresholds_as_used_counts() {
        assert_eq!(CapacityThreshold::Percent(80.0).as_used(97), 78.0);
        assert_eq!(CapacityThreshold::Used(150).as_used(197), 150.0);
        assert_eq!(CapacityThreshold::Left(10).as_used(97), 87.0);
    }
}
