//! Named sets of values for `tune set --preset NAME`, listed by `tune presets`.

/// The presets by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunePreset {
    LeakGuard,
    Runbook,
}
use crate::report::tune::{Preset, PresetSetting};

/// One setting of a preset; the first version that has it is `tune show`'s (every preset setting is
/// one of its connection settings).
fn setting(name: &'static str, value: &'static str, reason: &'static str) -> PresetSetting {
    let since_version_num = super::CONNECTION_SETTINGS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, since)| *since)
        .unwrap_or_else(|| panic!("preset setting {name} is not a connection setting"));
    PresetSetting {
        name,
        value,
        since_version_num,
        reason,
    }
}

pub fn get(p: TunePreset) -> Preset {
    match p {
        TunePreset::LeakGuard => Preset {
            name: "leak-guard",
            description: "End what leaks connections without touching healthy work: forgotten open \
                          transactions, dead clients and queries whose client has gone. Safe for any \
                          application, pooled or not.",
            settings: vec![
                setting(
                    "idle_in_transaction_session_timeout",
                    "5min",
                    "an idle transaction holds locks and blocks vacuum",
                ),
                setting(
                    "client_connection_check_interval",
                    "10s",
                    "cancels a query whose client has disconnected instead of running it to the end",
                ),
                setting(
                    "tcp_keepalives_idle",
                    "1min",
                    "finds vanished TCP clients after minutes, not the OS default of 2 hours",
                ),
                setting(
                    "tcp_keepalives_interval",
                    "10s",
                    "time between keepalive probes once a connection is quiet",
                ),
                setting(
                    "tcp_keepalives_count",
                    "6",
                    "unanswered probes before the connection is dropped",
                ),
            ],
        },
        TunePreset::Runbook => Preset {
            name: "runbook",
            description: "The runbook values for an application database or role: end idle \
                          transactions after 5 minutes and statements after 30 seconds.",
            settings: vec![
                setting(
                    "idle_in_transaction_session_timeout",
                    "5min",
                    "an idle transaction holds locks and blocks vacuum",
                ),
                setting(
                    "statement_timeout",
                    "30s",
                    "a runaway query holds its connection and its locks without limit",
                ),
            ],
        },
    }
}

pub fn all() -> Vec<Preset> {
    [TunePreset::LeakGuard, TunePreset::Runbook]
        .into_iter()
        .map(get)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runbook_preset_has_the_runbook_values() {
        let p = get(TunePreset::Runbook);
        let pairs: Vec<(&str, &str)> = p.settings.iter().map(|s| (s.name, s.value)).collect();
        assert_eq!(
            pairs,
            [
                ("idle_in_transaction_session_timeout", "5min"),
                ("statement_timeout", "30s")
            ]
        );
    }

    #[test]
    fn leak_guard_leaves_statements_and_idle_sessions_alone() {
        let p = get(TunePreset::LeakGuard);
        assert!(p
            .settings
            .iter()
            .any(|s| s.name == "idle_in_transaction_session_timeout" && s.value == "5min"));
        // These break healthy applications (long reports, pools keeping idle connections).
        assert!(!p
            .settings
            .iter()
            .any(|s| s.name == "statement_timeout" || s.name == "idle_session_timeout"));
    }

    #[test]
    fn preset_settings_know_their_first_version_from_tune_show() {
        let p = get(TunePreset::LeakGuard);
        let since = |name: &str| {
            p.settings
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.since_version_num)
        };
        assert_eq!(since("client_connection_check_interval"), Some(140000));
        assert_eq!(since("idle_in_transaction_session_timeout"), Some(0));
    }
}
