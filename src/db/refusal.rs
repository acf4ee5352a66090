//! Why a server refused a connection with SQLSTATE 53300 (too_many_connections), the one place where
//! pgconn reads a server's message text.
//!
//! One SQLSTATE has five causes, and at the moment of refusal the message is the only evidence:
//!
//! | cause | message (PostgreSQL 14–18) | where |
//! | --- | --- | --- |
//! | every slot taken, the reserved ones too | `sorry, too many clients already` | proc.c `InitProcess` |
//! | only the reserved slots left | 14, 15: `remaining connection slots are reserved for non-replication superuser connections`; 16–18: `… reserved for roles with the %s attribute` (`SUPERUSER`) and `… reserved for roles with privileges of the "%s" role` (`pg_use_reserved_connections`) | postinit.c `InitPostgres` |
//! | a role at its CONNECTION LIMIT | `too many connections for role "%s"` | miscinit.c `InitializeSessionUserId` |
//! | a database at its CONNECTION LIMIT | `too many connections for database "%s"` | postinit.c `CheckMyDatabase` |
//! | every WAL sender slot taken (or none: max_wal_senders = 0) | 14–16: `number of requested standby connections exceeds max_wal_senders (currently %d)`; 17, 18: `… exceeds "max_wal_senders" (currently %d)` | proc.c `InitProcess`, walsender.c `InitWalSenderSlot` |
//!
//! The templates are copied from the servers themselves (the message catalogue of the `postgres` binary
//! of 14.23, 15.18, 16.14, 17.10 and 18.4, `strings postgres`) and are tested against each major's real
//! refusals. Managed services fill the `%s` of the 16+ wording with a role of their own (e.g.
//! `rds_reserved`) or word the reserved slots their own way: any `remaining connection slots are reserved
//! for …` is taken as reserved slots, with the server's words of who may use them. A text pgconn does not
//! recognise (`lc_messages` may translate it) is taken as a full server, the behaviour pgconn had for every
//! 53300 before the causes were told apart. Once a connection gets in, the server's own settings confirm
//! the cause (see `sql/refusal_confirm.sql`).

use crate::report::fleet::FailureKind;
use crate::report::{shell_quote, sql_name};

/// 14–18, proc.c `InitProcess`: no PGPROC left for a client backend.
const SERVER_FULL: &str = "sorry, too many clients already";
/// The start every wording of "only the reserved slots are left" shares (14–18, and managed services).
const RESERVED_PREFIX: &str = "remaining connection slots are reserved for ";
/// 14, 15, postinit.c `InitPostgres` (after the prefix).
const RESERVED_SUPERUSER_14: &str = "non-replication superuser connections";
/// 16–18, postinit.c `InitPostgres`: `%s` is "SUPERUSER" (after the prefix).
const RESERVED_ATTRIBUTE_16: &str = "roles with the %s attribute";
/// 16–18, postinit.c `InitPostgres`: `%s` is "pg_use_reserved_connections" (after the prefix).
const RESERVED_ROLE_16: &str = "roles with privileges of the \"%s\" role";
/// 14–18, miscinit.c `InitializeSessionUserId`.
const ROLE_LIMIT: &str = "too many connections for role \"%s\"";
/// 14–18, postinit.c `CheckMyDatabase`.
const DATABASE_LIMIT: &str = "too many connections for database \"%s\"";
/// 14–16, proc.c `InitProcess` and walsender.c `InitWalSenderSlot`.
const WAL_SENDERS_14: &str =
    "number of requested standby connections exceeds max_wal_senders (currently %d)";
/// 17, 18: the setting's name quoted.
const WAL_SENDERS_17: &str =
    "number of requested standby connections exceeds \"max_wal_senders\" (currently %d)";

/// Why a connection was refused with SQLSTATE 53300.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Every slot is taken, the reserved ones too: superusers are refused as well. Also a 53300 whose
    /// text pgconn does not recognise (`recognised` false), handled the same way.
    Full { recognised: bool },
    /// Only the reserved slots are left, and this role may not take them.
    ReservedOnly(Reserved),
    /// The role is at its CONNECTION LIMIT (the server may have free slots).
    RoleLimit { role: String },
    /// The database is at its CONNECTION LIMIT (the server may have free slots).
    DatabaseLimit { database: String },
    /// A WAL sender connection found no WAL sender slot: all taken, or none (`max_wal_senders` = 0).
    /// The number is the server's `max_wal_senders` as the message states it.
    WalSendersFull { max_wal_senders: Option<i64> },
}

/// Who may still take the reserved slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    /// Superusers only: 14 and 15, and on 16+ when fewer than superuser_reserved_connections are left.
    Superusers,
    /// Superusers and the members of this role (16+: pg_use_reserved_connections, or a managed
    /// service's own role such as rds_reserved).
    SuperusersAndMembersOf(String),
    /// Worded otherwise (a managed service): the server's words of who, after "reserved for".
    Other(String),
}

impl Refusal {
    /// The cause of a refusal, from the server's message text.
    pub fn from_message(message: &str) -> Refusal {
        let message = message.trim();
        if message == SERVER_FULL {
            return Refusal::Full { recognised: true };
        }
        if let Some(who) = message.strip_prefix(RESERVED_PREFIX) {
            return Refusal::ReservedOnly(if who == RESERVED_SUPERUSER_14 {
                Reserved::Superusers
            } else if let Some([attribute]) = fill(RESERVED_ATTRIBUTE_16, who).as_deref() {
                if *attribute == "SUPERUSER" {
                    Reserved::Superusers
                } else {
                    Reserved::Other(who.to_string())
                }
            } else if let Some([role]) = fill(RESERVED_ROLE_16, who).as_deref() {
                Reserved::SuperusersAndMembersOf(role.to_string())
            } else {
                Reserved::Other(who.to_string())
            });
        }
        if let Some([role]) = fill(ROLE_LIMIT, message).as_deref() {
            return Refusal::RoleLimit {
                role: role.to_string(),
            };
        }
        if let Some([database]) = fill(DATABASE_LIMIT, message).as_deref() {
            return Refusal::DatabaseLimit {
                database: database.to_string(),
            };
        }
        for template in [WAL_SENDERS_14, WAL_SENDERS_17] {
            if let Some([n]) = fill(template, message).as_deref() {
                return Refusal::WalSendersFull {
                    max_wal_senders: n.parse().ok(),
                };
            }
        }
        Refusal::Full { recognised: false }
    }

    /// The cause of a refusal on a WAL sender connection: there the one cause PostgreSQL 14–18 give is
    /// the WAL sender slots (WAL senders are held to neither a role's nor a database's limit, and take
    /// no slot of max_connections), so a text pgconn does not recognise is taken as that.
    pub fn from_walsender_message(message: &str) -> Refusal {
        match Refusal::from_message(message) {
            Refusal::Full { recognised: false } => Refusal::WalSendersFull {
                max_wal_senders: None,
            },
            other => other,
        }
    }

    /// The cause as monitoring names it (`error_kind` in JSON).
    pub fn kind(&self) -> FailureKind {
        match self {
            Refusal::Full { .. } => FailureKind::Full,
            Refusal::ReservedOnly(_) => FailureKind::ReservedOnly,
            Refusal::RoleLimit { .. } => FailureKind::RoleLimit,
            Refusal::DatabaseLimit { .. } => FailureKind::DatabaseLimit,
            Refusal::WalSendersFull { .. } => FailureKind::WalSendersFull,
        }
    }

    /// Whether `--break-glass auto` takes a WAL sender slot for this refusal: for a server that is
    /// full (for this role), not for a role's or a database's limit, where the server itself may have
    /// free slots and a standby may need the WAL sender slot more.
    pub fn takes_the_route(&self) -> bool {
        matches!(self, Refusal::Full { .. } | Refusal::ReservedOnly(_))
    }

    /// Why the WAL sender route is taken after this refusal, with the server's `words`: for the causes
    /// that take it ([`Refusal::takes_the_route`]).
    pub fn route_reason(&self, words: &str) -> String {
        match self {
            Refusal::ReservedOnly(who) => format!(
                "only the reserved connection slots are left ({words}); {} can still connect \
                 normally (`-U <superuser>`)",
                who.who()
            ),
            Refusal::Full { recognised: false } => format!(
                "SQLSTATE 53300 ({words}; pgconn does not recognise these words and takes them as \
                 every slot taken)"
            ),
            _ => format!("every connection slot is taken ({words})"),
        }
    }

    /// What the refusal means, in a few words: "every connection slot is taken, the reserved ones too".
    pub fn what(&self) -> String {
        match self {
            Refusal::Full { recognised: true } => {
                "every connection slot is taken, the reserved ones too".into()
            }
            Refusal::Full { recognised: false } => {
                "pgconn does not recognise the server's words (a translated lc_messages?) and takes \
                 them as every connection slot taken"
                    .into()
            }
            Refusal::ReservedOnly(_) => "only the reserved connection slots are left".into(),
            Refusal::RoleLimit { role } => {
                format!("role {} is at its connection limit", sql_name(role))
            }
            Refusal::DatabaseLimit { database } => {
                format!("database {} is at its connection limit", sql_name(database))
            }
            Refusal::WalSendersFull {
                max_wal_senders: Some(0),
            } => NO_WAL_SENDERS.into(),
            Refusal::WalSendersFull { max_wal_senders } => format!(
                "every WAL sender slot is taken{}",
                max_wal_senders
                    .map(|n| format!(" (max_wal_senders = {n})"))
                    .unwrap_or_default()
            ),
        }
    }

    /// The first line of the error when no connection got in: the target, the cause, the server's
    /// words (`said`) and what is still true for role `user`.
    pub fn headline(&self, target: &str, user: &str, said: &str) -> String {
        match self {
            Refusal::Full { recognised: true } => format!(
                "the server at {target} is out of connection slots ({said}): every slot is taken, the \
                 reserved ones too, so superusers are refused as well"
            ),
            Refusal::Full { recognised: false } => format!(
                "the server at {target} refused the connection as too many ({said}); pgconn does not \
                 recognise these words (a translated lc_messages?) and takes them as a server out of \
                 connection slots"
            ),
            Refusal::ReservedOnly(who) => format!(
                "only the reserved connection slots are left at {target} ({said}): role {} may not \
                 take them, but {} can still connect normally",
                sql_name(user),
                who.who()
            ),
            Refusal::RoleLimit { role } => format!(
                "role {} is at its connection limit at {target} ({said}): the server itself may still \
                 have free slots, and other roles can connect",
                sql_name(role)
            ),
            Refusal::DatabaseLimit { database } => format!(
                "database {} is at its connection limit at {target} ({said}): the server itself may \
                 still have free slots, and other databases can be connected to",
                sql_name(database)
            ),
            Refusal::WalSendersFull { .. } => format!(
                "the server at {target} refused a WAL sender connection ({said}): {}",
                self.what()
            ),
        }
    }

    /// What to do about a role's or a database's limit: see its sessions as another role, free them,
    /// or raise the limit. None for the other causes.
    pub fn limit_steps(&self) -> Option<String> {
        match self {
            Refusal::RoleLimit { role } => {
                let r = shell_quote(role);
                Some(format!(
                    "Next: as another role, `pgconn -U <another role> sessions --user {r}` shows its \
                     sessions; then free some (`pgconn -U <another role> kill-idle --user {r} \
                     --older-than 10m --dry-run` previews) or raise the limit: ALTER ROLE {} CONNECTION \
                     LIMIT <n> (-1: no limit; pg_roles.rolconnlimit shows it). Superusers are held to no \
                     role's limit.",
                    sql_name(role)
                ))
            }
            Refusal::DatabaseLimit { database } => {
                let d = shell_quote(database);
                Some(format!(
                    "Next: from another database or as a superuser (held to no database's limit), \
                     `pgconn -U <another role> -d postgres sessions --db {d}` shows its sessions; then \
                     free some (`pgconn -U <another role> -d postgres kill-idle --db {d} --older-than 10m \
                     --dry-run` previews) or raise the limit: ALTER DATABASE {} CONNECTION LIMIT <n> (-1: \
                     no limit; pg_database.datconnlimit shows it).",
                    sql_name(database)
                ))
            }
            _ => None,
        }
    }
}

/// The words of max_wal_senders = 0.
const NO_WAL_SENDERS: &str =
    "this server has no WAL sender slots: max_wal_senders = 0 (raising it \
     needs wal_level replica and a restart)";

impl Reserved {
    /// Who may still connect: "superusers", "superusers and members of \"pg_use_reserved_connections\"".
    pub fn who(&self) -> String {
        match self {
            Reserved::Superusers => "superusers".into(),
            Reserved::SuperusersAndMembersOf(role) => {
                format!("superusers and members of {}", sql_name(role))
            }
            Reserved::Other(words) => format!("the roles they are reserved for ({words})"),
        }
    }
}

/// The values of `%s` and `%d` when `text` is `template` filled in (a `%d` is an integer), else None. A
/// `%s` takes the shortest text up to the next literal part, the last one up to the end, so that a name
/// with a quote in it is still read whole when the template ends with the quote.
fn fill<'a>(template: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let mut literals: Vec<&str> = Vec::new();
    let mut holes: Vec<char> = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        let kind = rest[at + 1..].chars().next()?;
        literals.push(&rest[..at]);
        holes.push(kind);
        rest = &rest[at + 2..];
    }
    literals.push(rest);
    let mut text = text.strip_prefix(literals[0])?;
    let mut values = Vec::with_capacity(holes.len());
    for (i, kind) in holes.iter().enumerate() {
        let next = literals[i + 1];
        let last = i + 1 == holes.len();
        let end = if last {
            let end = text.len().checked_sub(next.len())?;
            text.ends_with(next).then_some(end)?
        } else {
            text.find(next)?
        };
        let value = &text[..end];
        let ok = match kind {
            's' => !value.is_empty(),
            'd' => {
                let digits = value.strip_prefix('-').unwrap_or(value);
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        };
        if !ok {
            return None;
        }
        values.push(value);
        text = &text[end + next.len()..];
    }
    text.is_empty().then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each major's texts, as the servers send them (templates from the binaries, filled in as the
    /// source fills them).
    #[test]
    fn every_major_s_texts_are_told_apart() {
        let full = Refusal::Full { recognised: true };
        let superusers = Refusal::ReservedOnly(Reserved::Superusers);
        let members = Refusal::ReservedOnly(Reserved::SuperusersAndMembersOf(
            "pg_use_reserved_connections".into(),
        ));
        let cases: &[(&[u32], &str, Refusal)] = &[
            (
                &[14, 15, 16, 17, 18],
                "sorry, too many clients already",
                full,
            ),
            (
                &[14, 15],
                "remaining connection slots are reserved for non-replication superuser connections",
                superusers.clone(),
            ),
            (
                &[16, 17, 18],
                "remaining connection slots are reserved for roles with the SUPERUSER attribute",
                superusers,
            ),
            (
                &[16, 17, 18],
                "remaining connection slots are reserved for roles with privileges of the \
                 \"pg_use_reserved_connections\" role",
                members,
            ),
            (
                &[14, 15, 16, 17, 18],
                "too many connections for role \"app\"",
                Refusal::RoleLimit { role: "app".into() },
            ),
            (
                &[14, 15, 16, 17, 18],
                "too many connections for database \"shop\"",
                Refusal::DatabaseLimit {
                    database: "shop".into(),
                },
            ),
            (
                &[14, 15, 16],
                "number of requested standby connections exceeds max_wal_senders (currently 10)",
                Refusal::WalSendersFull {
                    max_wal_senders: Some(10),
                },
            ),
            (
                &[17, 18],
                "number of requested standby connections exceeds \"max_wal_senders\" (currently 0)",
                Refusal::WalSendersFull {
                    max_wal_senders: Some(0),
                },
            ),
        ];
        for (majors, text, want) in cases {
            assert_eq!(&Refusal::from_message(text), want, "{majors:?}: {text}");
        }
    }

    #[test]
    fn names_with_quotes_and_spaces_are_read_whole() {
        assert_eq!(
            Refusal::from_message("too many connections for role \"we\"ird \"name\""),
            Refusal::RoleLimit {
                role: "we\"ird \"name".into()
            }
        );
        assert_eq!(
            Refusal::from_message("too many connections for database \"my db\""),
            Refusal::DatabaseLimit {
                database: "my db".into()
            }
        );
    }

    #[test]
    fn a_managed_service_s_reserved_slots_are_reserved_slots() {
        assert_eq!(
            Refusal::from_message(
                "remaining connection slots are reserved for roles with privileges of the \
                 \"rds_reserved\" role"
            ),
            Refusal::ReservedOnly(Reserved::SuperusersAndMembersOf("rds_reserved".into()))
        );
        assert_eq!(
            Refusal::from_message(
                "remaining connection slots are reserved for non-replication superuser and \
                 azure_superuser connections"
            ),
            Refusal::ReservedOnly(Reserved::Other(
                "non-replication superuser and azure_superuser connections".into()
            ))
        );
    }

    #[test]
    fn an_unknown_text_is_a_full_server_and_on_a_wal_sender_its_slots() {
        // lc_messages = 'de_DE': the translation of "sorry, too many clients already".
        let german = "tut mir leid, schon zu viele Verbindungen";
        assert_eq!(
            Refusal::from_message(german),
            Refusal::Full { recognised: false }
        );
        assert_eq!(Refusal::from_message(german).kind(), FailureKind::Full);
        assert_eq!(
            Refusal::from_walsender_message(german),
            Refusal::WalSendersFull {
                max_wal_senders: None
            }
        );
        // Near misses are not the known texts.
        for text in [
            "too many connections for role",
            "too many connections for role \"\"",
            "number of requested standby connections exceeds max_wal_senders (currently ten)",
            "sorry, too many clients already, really",
        ] {
            assert_eq!(
                Refusal::from_message(text),
                Refusal::Full { recognised: false },
                "{text}"
            );
        }
    }

    #[test]
    fn each_cause_has_its_kind_and_route_rule() {
        let kinds = [
            (Refusal::Full { recognised: true }, FailureKind::Full, true),
            (
                Refusal::ReservedOnly(Reserved::Superusers),
                FailureKind::ReservedOnly,
                true,
            ),
            (
                Refusal::RoleLimit { role: "a".into() },
                FailureKind::RoleLimit,
                false,
            ),
            (
                Refusal::DatabaseLimit {
                    database: "d".into(),
                },
                FailureKind::DatabaseLimit,
                false,
            ),
            (
                Refusal::WalSendersFull {
                    max_wal_senders: Some(0),
                },
                FailureKind::WalSendersFull,
                false,
            ),
        ];
        for (r, kind, route) in kinds {
            assert_eq!(r.kind(), kind, "{r:?}");
            assert_eq!(r.takes_the_route(), route, "{r:?}");
        }
        assert_eq!(
            serde_json::to_string(&FailureKind::ReservedOnly).unwrap(),
            "\"reserved_only\""
        );
        assert_eq!(
            serde_json::to_string(&FailureKind::WalSendersFull).unwrap(),
            "\"wal_senders_full\""
        );
    }

    #[test]
    fn no_wal_sender_slots_is_not_every_slot_taken() {
        let none = Refusal::WalSendersFull {
            max_wal_senders: Some(0),
        };
        assert!(
            none.what().contains("no WAL sender slots"),
            "{}",
            none.what()
        );
        assert!(!none.what().contains("taken"), "{}", none.what());
        let all = Refusal::WalSendersFull {
            max_wal_senders: Some(2),
        };
        assert_eq!(
            all.what(),
            "every WAL sender slot is taken (max_wal_senders = 2)"
        );
    }

    #[test]
    fn limit_steps_name_the_role_or_database_and_both_fixes() {
        let r = Refusal::RoleLimit {
            role: "app user".into(),
        }
        .limit_steps()
        .unwrap();
        assert!(r.contains("sessions --user 'app user'"), "{r}");
        assert!(
            r.contains("ALTER ROLE \"app user\" CONNECTION LIMIT"),
            "{r}"
        );
        assert!(r.contains("kill-idle --user 'app user'"), "{r}");
        let d = Refusal::DatabaseLimit {
            database: "shop".into(),
        }
        .limit_steps()
        .unwrap();
        assert!(d.contains("sessions --db shop"), "{d}");
        assert!(
            d.contains("ALTER DATABASE \"shop\" CONNECTION LIMIT"),
            "{d}"
        );
        assert_eq!(Refusal::Full { recognised: true }.limit_steps(), None);
    }

    #[test]
    fn templates_fill_as_printf_does() {
        assert_eq!(fill("a %s b", "a x y b"), Some(vec!["x y"]));
        assert_eq!(
            fill("n (currently %d)", "n (currently 12)"),
            Some(vec!["12"])
        );
        assert_eq!(fill("n (currently %d)", "n (currently )"), None);
        assert_eq!(fill("%s=%d;", "k=1;"), Some(vec!["k", "1"]));
        assert_eq!(fill("exact", "exact"), Some(vec![]));
        assert_eq!(fill("exact", "exactly"), None);
    }
}
