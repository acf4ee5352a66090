//! Reading a PostgreSQL process title without a connection. With `update_process_title` on, a client
//! backend's title is
//!
//! ```text
//! postgres: [cluster_name: ]user database host(port) activity
//! postgres: [cluster_name: ]user database [local] activity        (a unix socket)
//! ```
//!
//! where activity is `idle`, `idle in transaction`, `idle in transaction (aborted)` or the command tag
//! of what it runs (`SELECT`, `COPY`, `authentication`...), possibly followed by `waiting`. Role and
//! database names may contain spaces, so the title is read from the known shapes: the cluster prefix
//! (known from the running server's auxiliary titles and its settings), then a host token (`[local]` or
//! `address(port)`) followed by an activity of a known shape, and the words before the host token split
//! into a user and a database. When more than one reading fits, the title is ambiguous and pgconn leaves
//! the process alone. WAL senders, autovacuum, auxiliary processes and background workers are told apart
//! by their titles too, and never selected.

use std::fmt;

use crate::report::State;

/// What a process title says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Title {
    /// A client backend.
    Client(ClientTitle),
    /// Not a client backend: what it is (`checkpointer`, `walsender`, `autovacuum worker`, ...).
    Other(String),
    /// A title pgconn cannot read unambiguously, and why.
    Unreadable(String),
}

/// A client backend's title, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTitle {
    pub user: String,
    pub database: String,
    /// The client address as the title shows it (a host name with log_hostname), `local` for a unix
    /// socket: the spelling of `--client`.
    pub client: String,
    pub port: Option<u16>,
    pub activity: Activity,
}

/// The activity part of a client backend's title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    Idle,
    IdleInTransaction,
    IdleInTransactionAborted,
    /// A command tag or a startup phase: running something (`SELECT`, `COPY waiting`, `authentication`).
    Busy(String),
    /// Nothing: the title is not updated (update_process_title off, or set off for this session).
    Unknown,
}

impl Activity {
    /// The pg_stat_activity state this activity is, when it is one of the idle ones.
    pub fn idle_state(&self) -> Option<State> {
        match self {
            Activity::Idle => Some(State::Idle),
            Activity::IdleInTransaction => Some(State::IdleInTransaction),
            Activity::IdleInTransactionAborted => Some(State::IdleInTransactionAborted),
            _ => None,
        }
    }

    /// The pg_stat_activity state this activity stands for: an idle one, `active` for a command tag or
    /// a startup phase, None when the title shows none.
    pub fn state(&self) -> Option<State> {
        match self {
            Activity::Unknown => None,
            a => Some(a.idle_state().unwrap_or(State::Active)),
        }
    }

    /// How the title shows it.
    pub fn shown(&self) -> String {
        match self {
            Activity::Busy(tag) => tag.clone(),
            Activity::Unknown => String::new(),
            other => other
                .idle_state()
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

/// Every title starts with this, then `cluster_name: ` when cluster_name is set.
pub const PROGRAM: &str = "postgres: ";

/// The prefix of this cluster's titles: `postgres: ` and, when cluster_name is set, `name: `.
pub fn prefix(cluster_name: &str) -> String {
    if cluster_name.is_empty() {
        PROGRAM.to_string()
    } else {
        format!("{PROGRAM}{cluster_name}: ")
    }
}

/// The cluster prefix as the checkpointer's title shows it (`postgres: [name: ]checkpointer`): the
/// running server's cluster_name, whatever the files say now (it changes only with a restart).
pub fn prefix_from_checkpointer(title: &str) -> Option<String> {
    let t = title.trim_end();
    let head = t.strip_suffix("checkpointer")?;
    let name = head.strip_prefix(PROGRAM)?;
    (name.is_empty() || name.ends_with(": ")).then(|| head.to_string())
}

/// Titles of processes that are not client backends and have a fixed text.
const FIXED: [&str; 14] = [
    "checkpointer",
    "background writer",
    "walwriter",
    "wal writer",
    "autovacuum launcher",
    "logical replication launcher",
    "archiver",
    "stats collector",
    "logger",
    "walsummarizer",
    "wal summarizer",
    "slotsync worker",
    "walreceiver",
    "startup",
];

/// Beginnings of the titles of processes that are not client backends and carry more words. A WAL
/// sender's title has a client backend's shape after its word, so it is recognised first (a role whose
/// name begins with `walsender ` is left alone too).
const BEGINNINGS: [&str; 11] = [
    "walsender ",
    "autovacuum worker",
    "parallel worker",
    "logical replication ",
    "archiver ",
    "startup ",
    "walreceiver ",
    "io worker",
    "background worker",
    "bgworker",
    "slotsync worker ",
];

/// Read `title` of a child of the postmaster, whose titles start with `prefix`.
pub fn parse(title: &str, prefix: &str) -> Title {
    let Some(rest) = title.strip_prefix(prefix) else {
        return Title::Unreadable(format!(
            "it does not start with \"{}\" (the cluster's title prefix)",
            prefix.trim_end()
        ));
    };
    let trimmed = rest.trim_end();
    if let Some(kind) = FIXED.iter().find(|k| **k == trimmed) {
        return Title::Other(kind.to_string());
    }
    if let Some(kind) = BEGINNINGS.iter().find(|b| rest.starts_with(**b)) {
        return Title::Other(kind.trim_end().to_string());
    }
    let readings = client_readings(rest);
    match readings.len() {
        1 => Title::Client(readings.into_iter().next().expect("one reading")),
        0 => Title::Unreadable(
            "it has no client backend's shape (user database host(port) state): a background worker, \
             or a title pgconn does not know"
                .into(),
        ),
        n => Title::Unreadable(format!(
            "it reads {n} ways ({}): a role or database name contains a space, and the title does not say \
             where one ends",
            readings
                .iter()
                .take(3)
                .map(|r| format!("user \"{}\" database \"{}\"", r.user, r.database))
                .collect::<Vec<_>>()
                .join(", or ")
        )),
    }
}

/// Every reading of `rest` (the title after the prefix) as `user database host activity`.
fn client_readings(rest: &str) -> Vec<ClientTitle> {
    let mut out = Vec::new();
    let spaces: Vec<usize> = rest.match_indices(' ').map(|(i, _)| i).collect();
    for (n, &before) in spaces.iter().enumerate() {
        let start = before + 1;
        let end = spaces.get(n + 1).copied().unwrap_or(rest.len());
        let Some((client, port)) = host_token(&rest[start..end]) else {
            continue;
        };
        let activity = match rest.get(end + 1..) {
            Some(a) => match activity(a) {
                Some(a) => a,
                None => continue,
            },
            None => Activity::Unknown,
        };
        let head = &rest[..before];
        for (j, _) in head.match_indices(' ') {
            let (user, database) = (&head[..j], &head[j + 1..]);
            if user.is_empty() || database.is_empty() {
                continue;
            }
            out.push(ClientTitle {
                user: user.to_string(),
                database: database.to_string(),
                client: client.clone(),
                port,
                activity: activity.clone(),
            });
        }
    }
    out
}

/// `[local]` (a unix socket: client `local`) or `address(port)`.
fn host_token(token: &str) -> Option<(String, Option<u16>)> {
    if token == "[local]" {
        return Some(("local".into(), None));
    }
    let inner = token.strip_suffix(')')?;
    let (host, port) = inner.rsplit_once('(')?;
    let port: u16 = port.parse().ok()?;
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:-_%[]".contains(c));
    host_ok.then(|| (host.to_string(), Some(port)))
}

/// The activity part: an idle state, a command tag (upper-case words, `waiting` after it) or a startup
/// phase; `None` for anything else (then this is not the host token).
fn activity(text: &str) -> Option<Activity> {
    // A title spells the idle states as pg_stat_activity does.
    Some(match (text, State::parse(text)) {
        ("", _) => Activity::Unknown,
        (_, State::Idle) => Activity::Idle,
        (_, State::IdleInTransaction) => Activity::IdleInTransaction,
        (_, State::IdleInTransactionAborted) => Activity::IdleInTransactionAborted,
        (t, _)
            if t.split(' ').all(|w| {
                !w.is_empty() && w.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
            }) =>
        {
            Activity::Busy(t.to_string())
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(user: &str, db: &str, client: &str, port: Option<u16>, a: Activity) -> Title {
        Title::Client(ClientTitle {
            user: user.into(),
            database: db.into(),
            client: client.into(),
            port,
            activity: a,
        })
    }

    #[test]
    fn client_backends_of_each_shape() {
        let p = prefix("");
        assert_eq!(
            parse("postgres: app appdb [local] idle", &p),
            client("app", "appdb", "local", None, Activity::Idle)
        );
        assert_eq!(
            parse(
                "postgres: app appdb 127.0.0.1(51234) idle in transaction",
                &p
            ),
            client(
                "app",
                "appdb",
                "127.0.0.1",
                Some(51234),
                Activity::IdleInTransaction
            )
        );
        assert_eq!(
            parse(
                "postgres: app appdb ::1(40000) idle in transaction (aborted)",
                &p
            ),
            client(
                "app",
                "appdb",
                "::1",
                Some(40000),
                Activity::IdleInTransactionAborted
            )
        );
        assert_eq!(
            parse("postgres: app appdb [local] SELECT waiting", &p),
            client(
                "app",
                "appdb",
                "local",
                None,
                Activity::Busy("SELECT waiting".into())
            )
        );
        assert_eq!(
            parse("postgres: app appdb db.example.com(5555) CREATE INDEX", &p),
            client(
                "app",
                "appdb",
                "db.example.com",
                Some(5555),
                Activity::Busy("CREATE INDEX".into())
            )
        );
        // update_process_title off: the fixed part only.
        assert_eq!(
            parse("postgres: app appdb [local] ", &p),
            client("app", "appdb", "local", None, Activity::Unknown)
        );
    }

    #[test]
    fn a_cluster_name_with_spaces_and_colons_is_a_prefix_not_a_user() {
        let p = prefix("prod: east 1");
        assert_eq!(
            parse("postgres: prod: east 1: app appdb [local] idle", &p),
            client("app", "appdb", "local", None, Activity::Idle)
        );
        assert_eq!(
            prefix_from_checkpointer("postgres: prod: east 1: checkpointer "),
            Some(p.clone())
        );
        assert_eq!(
            prefix_from_checkpointer("postgres: checkpointer "),
            Some("postgres: ".into())
        );
        assert_eq!(
            prefix_from_checkpointer("postgres: app appdb [local] idle"),
            None
        );
        assert!(matches!(
            parse("postgres: app appdb [local] idle", &p),
            Title::Unreadable(_)
        ));
    }

    #[test]
    fn names_with_spaces_are_read_when_only_one_reading_fits_and_left_alone_otherwise() {
        let p = prefix("");
        // Two readings: "my app" / "appdb" or "my" / "app appdb".
        let Title::Unreadable(why) = parse("postgres: my app appdb [local] idle", &p) else {
            panic!("read an ambiguous title");
        };
        assert!(why.contains("2 ways"), "{why}");
        // A name that contains a host-like token: only the last one is followed by an activity.
        let Title::Unreadable(why) = parse("postgres: a [local] b appdb [local] idle", &p) else {
            panic!("read an ambiguous title");
        };
        assert!(why.contains("3 ways"), "{why}");
        // "x(1) idle" inside a name is not taken for the host: what follows it is no activity.
        assert_eq!(
            parse("postgres: app x(1) idle db [local] idle", &p),
            Title::Unreadable(
                "it reads 3 ways (user \"app\" database \"x(1) idle db\", or user \"app x(1)\" database \
                 \"idle db\", or user \"app x(1) idle\" database \"db\"): a role or database name contains \
                 a space, and the title does not say where one ends"
                    .into()
            )
        );
    }

    #[test]
    fn other_processes_are_never_client_backends() {
        let p = prefix("");
        for (title, kind) in [
            ("postgres: checkpointer ", "checkpointer"),
            ("postgres: background writer ", "background writer"),
            ("postgres: walwriter ", "walwriter"),
            ("postgres: autovacuum launcher ", "autovacuum launcher"),
            ("postgres: autovacuum worker appdb", "autovacuum worker"),
            (
                "postgres: logical replication launcher ",
                "logical replication launcher",
            ),
            ("postgres: walsender rep postgres [local] idle", "walsender"),
            (
                "postgres: walsender rep 10.0.0.2(5000) streaming 0/3000148",
                "walsender",
            ),
            ("postgres: parallel worker for PID 4242 ", "parallel worker"),
            ("postgres: io worker 0", "io worker"),
        ] {
            assert_eq!(parse(title, &p), Title::Other(kind.into()), "{title}");
        }
        assert!(matches!(
            parse("postgres: pg_cron launcher ", &p),
            Title::Unreadable(_)
        ));
        assert!(matches!(
            parse("/usr/lib/postgresql/15/bin/postgres", &p),
            Title::Unreadable(_)
        ));
    }
}
