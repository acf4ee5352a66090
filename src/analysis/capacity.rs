//! Capacity math, once: the slots ordinary roles can use, how many are taken (in percent), how many are
//! left, and how many sessions sit in the reserved slots. status, check, watch, advise and the Prometheus
//! output all read [`Capacity`] as [`assess`] computes it.

use super::Thresholds;
use crate::report::platform::Platform;
use crate::report::status::{Capacity, ProviderReserve};
use crate::report::{round1, Level, ServerFacts};

/// Slots Azure Database for PostgreSQL flexible server keeps for itself ("max user connections = max
/// − 15", Azure's limits page).
pub const AZURE_RESERVED: i32 = 15;
/// Slots Neon keeps for its superuser ("Seven connections are reserved for the Neon superuser account").
pub const NEON_RESERVED: i32 = 7;

/// Slots ordinary roles can use, with a managed platform's own reserve (detected with strong evidence
/// or named by `--platform`):
/// - RDS and Aurora up to 15: `max_connections − superuser_reserved_connections −
///   rds.rds_superuser_reserved_connections` (the reserve is added to the server's own);
/// - RDS and Aurora 16+: RDS's refusal names the `rds_reserved` role the way PostgreSQL names
///   `pg_use_reserved_connections`, which suggests its reserve is `reserved_connections`: the larger of
///   the two is subtracted once, so it is never counted twice (unverified: see the README);
/// - Azure (15) and Neon (7): the documented number, or the server's own reserve when that is as large
///   or larger, subtracted once.
///
/// Without a platform, the server's own: `max_connections − superuser_reserved_connections −
/// reserved_connections`.
pub fn usable_slots(facts: &ServerFacts) -> (i32, Option<ProviderReserve>) {
    let own = facts.superuser_reserved_connections + facts.reserved_connections.unwrap_or(0);
    let plain = facts.max_connections - own;
    let Some(platform) = facts.platform.managed() else {
        return (plain, None);
    };
    let roles = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (usable, reserve) = match platform {
        Platform::AwsRds | Platform::AwsAurora => {
            let Some(rds) = facts.rds_superuser_reserved_connections.filter(|n| *n >= 0) else {
                return (plain, None);
            };
            let source = "setting rds.rds_superuser_reserved_connections".to_string();
            if facts.version_num < 160000 {
                (
                    plain - rds,
                    ProviderReserve {
                        platform,
                        slots: rds,
                        source,
                        counted: "added",
                        roles: roles(&["rds_superuser", "rds_reserved"]),
                        verified: true,
                    },
                )
            } else {
                let reserved = facts.reserved_connections.unwrap_or(0);
                (
                    facts.max_connections
                        - facts.superuser_reserved_connections
                        - reserved.max(rds),
                    ProviderReserve {
                        platform,
                        slots: rds,
                        source,
                        counted: "larger",
                        roles: roles(&["rds_reserved", "rds_superuser"]),
                        verified: false,
                    },
                )
            }
        }
        Platform::AzureFlexible | Platform::Neon => {
            let documented = if platform == Platform::Neon {
                NEON_RESERVED
            } else {
                AZURE_RESERVED
            };
            (
                facts.max_connections - own.max(documented),
                ProviderReserve {
                    platform,
                    slots: documented,
                    source: "documented".into(),
                    counted: "larger",
                    roles: roles(platform.admin_roles()),
                    verified: true,
                },
            )
        }
        Platform::CloudSql | Platform::Supabase => return (plain, None),
    };
    (usable, Some(reserve))
}

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
    let (usable, provider_reserve) = usable_slots(facts);
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
        provider_reserve,
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
            platform: Default::default(),
            rds_superuser_reserved_connections: None,
        }
    }

    fn on(mut f: ServerFacts, p: Platform, rds: Option<i32>, version_num: i32) -> ServerFacts {
        f.platform = crate::report::platform::detect(
            crate::report::platform::PlatformChoice::Given(p),
            None,
            &Default::default(),
        );
        f.rds_superuser_reserved_connections = rds;
        f.version_num = version_num;
        f
    }

    #[test]
    fn rds_up_to_15_adds_its_reserve() {
        let f = on(facts(100, 3, None), Platform::AwsRds, Some(2), 150000);
        let (usable, r) = usable_slots(&f);
        assert_eq!(usable, 95);
        let r = r.unwrap();
        assert_eq!((r.slots, r.counted, r.verified), (2, "added", true));
        assert_eq!(r.roles, vec!["rds_superuser", "rds_reserved"]);
        let c = assess(&f, 96, &Thresholds::default());
        assert_eq!(
            (c.usable_slots, c.slots_left, c.in_reserved_slots),
            (95, 0, 1)
        );
        assert_eq!(c.reserved_slots_left, 4, "5 reserved in all, 1 in use");
        // Aurora reads the same setting; no setting readable: the server's own reserve only.
        let a = on(facts(100, 3, None), Platform::AwsAurora, Some(5), 140000);
        assert_eq!(usable_slots(&a).0, 92);
        let unknown = on(facts(100, 3, None), Platform::AwsRds, None, 150000);
        assert_eq!(usable_slots(&unknown), (97, None));
    }

    #[test]
    fn rds_16_counts_its_reserve_once() {
        // reserved_connections already holds RDS's reserve: subtracted once.
        let mapped = on(facts(100, 3, Some(2)), Platform::AwsRds, Some(2), 160000);
        let (usable, r) = usable_slots(&mapped);
        assert_eq!(usable, 95);
        assert_eq!(r.unwrap().counted, "larger");
        // reserved_connections 0: the setting counts.
        let not_mapped = on(facts(100, 3, Some(0)), Platform::AwsRds, Some(2), 170000);
        assert_eq!(usable_slots(&not_mapped).0, 95);
        // a larger reserved_connections wins.
        let larger = on(facts(100, 3, Some(10)), Platform::AwsRds, Some(2), 180000);
        assert_eq!(usable_slots(&larger).0, 87);
    }

    #[test]
    fn azure_and_neon_subtract_the_larger_reserve_once() {
        let azure = on(facts(100, 3, None), Platform::AzureFlexible, None, 150000);
        let (usable, r) = usable_slots(&azure);
        assert_eq!(usable, 85, "max − 15");
        assert_eq!(r.unwrap().source, "documented");
        let azure_big = on(facts(100, 20, None), Platform::AzureFlexible, None, 150000);
        assert_eq!(
            usable_slots(&azure_big).0,
            80,
            "the server's 20, not 20 + 15"
        );
        let neon = on(facts(104, 3, Some(0)), Platform::Neon, None, 160000);
        assert_eq!(usable_slots(&neon).0, 97, "104 − 7");
        let neon_own = on(facts(104, 5, Some(4)), Platform::Neon, None, 160000);
        assert_eq!(usable_slots(&neon_own).0, 95, "104 − (5 + 4)");
    }

    #[test]
    fn other_platforms_and_weak_evidence_keep_the_server_s_reserve() {
        for p in [Platform::CloudSql, Platform::Supabase] {
            assert_eq!(
                usable_slots(&on(facts(100, 3, None), p, None, 150000)),
                (97, None)
            );
        }
        let mut weak = facts(100, 3, None);
        weak.platform = crate::report::platform::detect(
            crate::report::platform::PlatformChoice::Detect,
            None,
            &crate::report::platform::Markers {
                provider_roles: vec!["rds_superuser".into()],
                ..Default::default()
            },
        );
        weak.rds_superuser_reserved_connections = Some(2);
        assert_eq!(
            usable_slots(&weak),
            (97, None),
            "roles alone change nothing"
        );
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
