//! A session's state, in one vocabulary: the spelling PostgreSQL writes in `pg_stat_activity.state` and
//! in process titles, the snake_case key of `--json` and metrics, and the rules that depend on it. A
//! state is read once where it enters pgconn (a row of the server's, a process title) and spelled only
//! here.

use serde::{Serialize, Serializer};

/// What a client backend is doing, as `pg_stat_activity.state` says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum State {
    Active,
    Idle,
    IdleInTransaction,
    IdleInTransactionAborted,
    Fastpath,
    Disabled,
    /// PostgreSQL 18+: still authenticating, and holding a slot already.
    Starting,
    /// A state a newer server reports, in its own spelling: counted and shown, never acted on by a rule
    /// that names states.
    Other(String),
}

impl State {
    /// The states PostgreSQL reports for client backends, in display order.
    pub const KNOWN: [State; 7] = [
        State::Active,
        State::Idle,
        State::IdleInTransaction,
        State::IdleInTransactionAborted,
        State::Fastpath,
        State::Disabled,
        State::Starting,
    ];

    /// The states in which a session holds its connection without working.
    pub const IDLE: [State; 3] = [
        State::Idle,
        State::IdleInTransaction,
        State::IdleInTransactionAborted,
    ];

    /// A state as PostgreSQL spells it (`idle in transaction (aborted)`).
    pub fn parse(pg: &str) -> State {
        State::KNOWN
            .into_iter()
            .find(|s| s.as_pg() == pg)
            .unwrap_or_else(|| State::Other(pg.to_string()))
    }

    /// A state from its snake_case key (`idle_in_transaction_aborted`), as per-state counts are keyed.
    /// A key of no known state stands for a newer server's state, spelled as its key: counts keep no
    /// other spelling of it.
    pub fn from_key(key: &str) -> State {
        State::KNOWN
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or_else(|| State::Other(key.to_string()))
    }

    /// PostgreSQL's spelling: what `pg_stat_activity.state` holds and what tables show.
    pub fn as_pg(&self) -> &str {
        match self {
            State::Active => "active",
            State::Idle => "idle",
            State::IdleInTransaction => "idle in transaction",
            State::IdleInTransactionAborted => "idle in transaction (aborted)",
            State::Fastpath => "fastpath function call",
            State::Disabled => "disabled",
            State::Starting => "starting",
            State::Other(s) => s,
        }
    }

    /// The snake_case key of `--json` and metrics (`idle in transaction (aborted)` →
    /// `idle_in_transaction_aborted`).
    pub fn key(&self) -> String {
        key_of(self.as_pg())
    }

    /// Holding its connection without working: idle, or idle in a transaction (aborted or not).
    pub fn is_idle(&self) -> bool {
        matches!(
            self,
            State::Idle | State::IdleInTransaction | State::IdleInTransactionAborted
        )
    }

    /// Its count in per-state counts (keyed by [`State::key`]), 0 when absent.
    pub fn count_in(&self, counts: &std::collections::BTreeMap<String, usize>) -> usize {
        counts.get(&self.key()).copied().unwrap_or(0)
    }

    /// Shown in a server's state counts even at zero (active, idle, idle in transaction): the states
    /// that tell how full a server is and why. The others appear when some session is in them, a newer
    /// server's states included.
    pub fn always_shown(&self) -> bool {
        matches!(self, State::Active | State::Idle | State::IdleInTransaction)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_pg())
    }
}

/// JSON has the snake_case key.
impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

/// Serialize states in PostgreSQL's spelling (a selection as it was asked for: `idle in transaction`).
pub fn serialize_pg<S: Serializer>(states: &[State], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(states.iter().map(State::as_pg))
}

fn key_of(pg: &str) -> String {
    let mut out = String::new();
    for ch in pg.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// The states of per-state counts (keyed by [`State::key`]) that a server's summary shows, in display
/// order: the known ones that are [`State::always_shown`] or counted above zero, then any other state
/// counted above zero (a newer server's), with their counts.
pub fn shown_counts(counts: &std::collections::BTreeMap<String, usize>) -> Vec<(State, usize)> {
    let mut out: Vec<(State, usize)> = State::KNOWN
        .into_iter()
        .map(|s| {
            let n = counts.get(&s.key()).copied().unwrap_or(0);
            (s, n)
        })
        .filter(|(s, n)| *n > 0 || s.always_shown())
        .collect();
    for (k, n) in counts {
        let state = State::from_key(k);
        if *n > 0 && matches!(state, State::Other(_)) {
            out.push((state, *n));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_state_reads_back_from_both_spellings() {
        for s in State::KNOWN {
            assert_eq!(State::parse(s.as_pg()), s);
            assert_eq!(State::from_key(&s.key()), s);
        }
        assert_eq!(
            State::IdleInTransactionAborted.key(),
            "idle_in_transaction_aborted"
        );
        assert_eq!(State::Fastpath.key(), "fastpath_function_call");
        assert_eq!(
            State::parse("waiting for godot"),
            State::Other("waiting for godot".into())
        );
        assert_eq!(State::parse("waiting for godot").key(), "waiting_for_godot");
        assert_eq!(
            serde_json::to_value(State::IdleInTransaction).unwrap(),
            "idle_in_transaction"
        );
    }

    #[test]
    fn idle_means_holding_a_connection_without_working() {
        let idle: Vec<State> = State::KNOWN.into_iter().filter(State::is_idle).collect();
        assert_eq!(idle, State::IDLE);
        assert!(!State::Other("idle-ish".into()).is_idle());
    }

    #[test]
    fn summaries_show_the_three_states_at_zero_and_any_state_counted() {
        let mut counts = std::collections::BTreeMap::new();
        counts.insert("disabled".to_string(), 0);
        counts.insert("fastpath_function_call".to_string(), 2);
        counts.insert("waiting_for_godot".to_string(), 3);
        counts.insert("not_visible".to_string(), 0);
        let shown: Vec<(String, usize)> = shown_counts(&counts)
            .into_iter()
            .map(|(s, n)| (s.as_pg().to_string(), n))
            .collect();
        assert_eq!(
            shown,
            [
                ("active".to_string(), 0),
                ("idle".to_string(), 0),
                ("idle in transaction".to_string(), 0),
                ("fastpath function call".to_string(), 2),
                ("waiting_for_godot".to_string(), 3),
            ]
        );
    }
}
