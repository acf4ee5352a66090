//! The plan of a kill, read in one statement (`kill_plan.sql`): the sessions the selection matches, the
//! protection the server finds for each (the rule the signalling statement applies again), their rank for
//! `--keep`, and how many sessions this role cannot see. `--keep`, `--if-more-than` and `--max` are then
//! applied here, in that order.

use std::collections::BTreeMap;

use anyhow::Result;
use postgres::types::Type;

use super::KillSafety;
use crate::activity::{like_pattern, Filter, SnapshotColumns};
use crate::analysis::status::oldest;
use crate::db::Db;
use crate::report::batch::BatchRun;
use crate::report::kill::{
    Action, BlockersPlan, GroupSummary, HeadBlocker, KillReport, KillTarget, LeftAlone,
    PreparedCandidate, Protected, Protection,
};
use crate::report::round3;
use crate::statement::Params;

/// The first server version that tells which session holds a temporary schema.
pub const TEMP_HOLDERS_SINCE: i32 = 160000;

/// The plan's statement, assembled with each filter's clauses (`FilterParams::assemble`).
const PLAN_SQL: &str = include_str!("../../sql/kill_plan.sql");

/// The body of a SQL file: everything after its first line (the comment that says what it is).
fn body(sql: &str) -> &str {
    sql.split_once('\n')
        .map_or(sql, |(_, rest)| rest)
        .trim_end()
}

/// `template` (the plan's or the signalling statement) with the protection rule (`protection.sql`) in
/// place, its HEADS slots filled: with `blockers` (`kill --blockers`), only the heads of chains of
/// sessions waiting on a lock match (`blocked.sql`'s chains, `kill_heads.sql`), each with the pids it
/// blocks, and the plan's first row says how many wait (HEADS_SUMMARY); without, the slots cost nothing
/// (no pg_blocking_pids, no recursive CTE).
pub(super) fn with_heads(template: &str, blockers: bool) -> String {
    let protection = body(include_str!("../../sql/protection.sql"));
    let slots: [(&str, String); 6] = if blockers {
        [
            (
                "/*HEADS*/",
                format!(
                    "{}\n{}\n",
                    body(include_str!("../../sql/blocked.sql")),
                    body(include_str!("../../sql/kill_heads.sql"))
                ),
            ),
            ("/*HEADS_MATCH*/", " AND heads.pid IS NOT NULL".into()),
            ("/*HEADS_IS_HEAD*/", "heads.pid IS NOT NULL".into()),
            ("/*HEADS_BLOCKING*/", "heads.blocking".into()),
            (
                "/*HEADS_JOIN*/",
                "\n      LEFT JOIN heads ON heads.pid = c.pid".into(),
            ),
            (
                "/*HEADS_SUMMARY*/",
                "       -- sessions waiting on a lock someone holds; those behind a prepared transaction (pid 0); \
                 heads that are no client session\n       \
                 CASE WHEN m.rn = 1 THEN (SELECT count(*) FROM lw WHERE cardinality(lw.blocked_by) > 0) END::int AS waiting,\n       \
                 CASE WHEN m.rn = 1 THEN ARRAY(SELECT DISTINCT r.waiter FROM r WHERE r.pid = 0 ORDER BY 1) END AS waiting_on_prepared,\n       \
                 CASE WHEN m.rn = 1 THEN ARRAY(SELECT DISTINCT r.pid FROM r WHERE r.pid <> 0 \
                 AND NOT EXISTS (SELECT FROM lw WHERE lw.pid = r.pid) AND NOT EXISTS (SELECT FROM c WHERE c.pid = r.pid) \
                 ORDER BY 1) END AS heads_not_client,\n       \
                 CASE WHEN m.rn = 1 THEN ARRAY(SELECT heads.pid FROM heads JOIN c ON c.pid = heads.pid \
                 WHERE NOT c.visible ORDER BY 1) END AS heads_not_visible,"
                    .into(),
            ),
        ]
    } else {
        [
            ("/*HEADS*/", String::new()),
            ("/*HEADS_MATCH*/", String::new()),
            ("/*HEADS_IS_HEAD*/", "true".into()),
            ("/*HEADS_BLOCKING*/", "NULL::int[]".into()),
            ("/*HEADS_JOIN*/", String::new()),
            (
                "/*HEADS_SUMMARY*/",
                "       NULL::int AS waiting, NULL::int[] AS waiting_on_prepared, NULL::int[] AS heads_not_client, \
                 NULL::int[] AS heads_not_visible,"
                    .into(),
            ),
        ]
    };
    let text = template.replace("/*PROTECTION*/", protection);
    slots
        .iter()
        .fold(text, |text, (slot, sql)| text.replace(slot, sql))
}

/// The values of `protection.sql`'s slots, shared by the plan and the signalling statement so that both
/// apply the same rule.
#[derive(Debug, Clone)]
pub struct ProtectionParams {
    include_superusers: bool,
    protect_app: Vec<String>,
    protect_user: Vec<String>,
    pooler_pids: Vec<i32>,
    include_pooler: bool,
    include_listeners: bool,
    include_lock_holders: bool,
    include_temp_holders: bool,
    cancel: bool,
    provider_roles: Vec<String>,
    include_provider: bool,
}

impl ProtectionParams {
    /// `--protect-*` patterns keep their `*` / `?` meaning through the same conversion to LIKE the
    /// filters use.
    pub fn new(safety: &KillSafety, action: Action, pooler_pids: Vec<i32>) -> ProtectionParams {
        let likes = |v: &[String]| v.iter().map(|p| like_pattern(p)).collect::<Vec<_>>();
        ProtectionParams {
            include_superusers: safety.include_superusers,
            protect_app: likes(&safety.protect_app),
            protect_user: likes(&safety.protect_user),
            pooler_pids,
            include_pooler: safety.include_pooler,
            include_listeners: safety.include_listeners,
            include_lock_holders: safety.include_lock_holders,
            include_temp_holders: safety.include_temp_holders,
            cancel: action == Action::Cancel,
            provider_roles: safety.provider_roles.clone(),
            include_provider: safety.include_provider,
        }
    }

    /// PgBouncer's server connections as re-read before a batch.
    pub fn set_pooler_pids(&mut self, pids: Vec<i32>) {
        self.pooler_pids = pids;
    }

    /// Set the protection rule's slots (`protection.sql`): `$include_superusers`,
    /// `$protect_app`, `$protect_user`, `$pooler_pids`, `$include_pooler`, `$include_listeners`,
    /// `$include_lock_holders`, `$include_temp_holders`, `$cancel`.
    pub fn set<'a>(&'a self, p: &mut Params<'a>) {
        p.set("include_superusers", &self.include_superusers, Type::BOOL)
            .set("protect_app", &self.protect_app, Type::TEXT_ARRAY)
            .set("protect_user", &self.protect_user, Type::TEXT_ARRAY)
            .set("pooler_pids", &self.pooler_pids, Type::INT4_ARRAY)
            .set("include_pooler", &self.include_pooler, Type::BOOL)
            .set("include_listeners", &self.include_listeners, Type::BOOL)
            .set(
                "include_lock_holders",
                &self.include_lock_holders,
                Type::BOOL,
            )
            .set(
                "include_temp_holders",
                &self.include_temp_holders,
                Type::BOOL,
            )
            .set("cancel", &self.cancel, Type::BOOL)
            .set("provider_roles", &self.provider_roles, Type::TEXT_ARRAY)
            .set("include_provider", &self.include_provider, Type::BOOL);
    }
}

/// Read the plan and apply `--keep`, `--if-more-than` and `--max`. `blockers`: only the heads of chains
/// of sessions waiting on a lock (`kill --blockers`).
pub fn plan(
    db: &mut Db,
    filter: &Filter,
    safety: &KillSafety,
    action: Action,
    pooler_pids: &[i32],
    blockers: bool,
) -> Result<KillReport> {
    let fp = filter.params();
    let pp = ProtectionParams::new(safety, action, pooler_pids.to_vec());
    let mut params = Params::new();
    fp.set(&mut params);
    pp.set(&mut params);
    // The plan shows each target's query.
    params.set("with_query", &true, Type::BOOL);
    let rows = db.query_named(&fp.assemble(&with_heads(PLAN_SQL, blockers)), &params)?;
    // The facts come on one row (or on their own when there is no client backend at all).
    db.learn_facts(&rows)?;
    let facts = db.facts()?.clone();
    let temp_known = facts.version_num >= TEMP_HOLDERS_SINCE;

    let mut not_visible = 0usize;
    let mut matched = 0usize;
    let mut protected = Protected::default();
    let mut left_alone = Vec::new();
    let mut candidates = Vec::new();
    let mut kept = 0usize;
    let mut temp_relations = 0i32;
    let keep = safety.keep.filter(|k| *k > 0);
    let mut heads = blockers.then(BlockersPlan::default);
    if let Some(first) = rows.first() {
        // Read over the emergency route too: a surprise in the server's row is an error naming the
        // statement, never a panic.
        let cols = SnapshotColumns::of(first)?;
        let at = |name: &str| {
            first.position(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: the server's row has no column {name}",
                    first.statement()
                )
            })
        };
        let (hidden, matches, protection, keep_rank, allowed) = (
            at("hidden")?,
            at("matches")?,
            at("protection")?,
            at("keep_rank")?,
            at("allowed")?,
        );
        let (blocking, state_changed_at) = (at("blocking")?, at("state_changed_at")?);
        not_visible = usize::try_from(first.try_get::<_, i32>(hidden)?).unwrap_or(0);
        if let Some(h) = heads.as_mut() {
            // On the statement's first row (rn = 1), which need not come first in the order of the rows.
            let (waiting, on_prepared, not_client, not_visible) = (
                at("waiting")?,
                at("waiting_on_prepared")?,
                at("heads_not_client")?,
                at("heads_not_visible")?,
            );
            for row in &rows {
                let Some(n) = row.try_get::<_, Option<i32>>(waiting)? else {
                    continue;
                };
                h.waiting = usize::try_from(n).unwrap_or(0);
                h.waiting_on_prepared = row
                    .try_get::<_, Option<Vec<i32>>>(on_prepared)?
                    .unwrap_or_default();
                h.heads_not_client = row
                    .try_get::<_, Option<Vec<i32>>>(not_client)?
                    .unwrap_or_default();
                h.heads_not_visible = row
                    .try_get::<_, Option<Vec<i32>>>(not_visible)?
                    .unwrap_or_default();
                break;
            }
        }
        temp_relations = first.try_get::<_, i32>(at("temp_relations")?)?;
        for row in &rows {
            if row.try_get::<_, Option<bool>>(matches)? != Some(true) {
                continue;
            }
            matched += 1;
            let mut session = cols.session(row)?;
            session.via_pgbouncer = pooler_pids.contains(&session.pid);
            let why = row
                .try_get::<_, Option<String>>(protection)?
                .map(|p| Protection::parse(&p).ok_or(p));
            match why {
                None => {
                    let rank: Option<i32> = row.try_get(keep_rank)?;
                    if keep.is_some_and(|k| rank.is_some_and(|r| (r as usize) <= k)) {
                        kept += 1;
                    } else {
                        let blocker = match blockers {
                            true => Some(HeadBlocker {
                                blocking: row
                                    .try_get::<_, Option<Vec<i32>>>(blocking)?
                                    .unwrap_or_default(),
                                state_change: row
                                    .try_get::<_, Option<std::time::SystemTime>>(state_changed_at)?
                                    .map(crate::activity::format_timestamp),
                            }),
                            false => None,
                        };
                        candidates.push(KillTarget {
                            session,
                            allowed: row.try_get::<_, Option<bool>>(allowed)? == Some(true),
                            blocker,
                        });
                    }
                }
                Some(Ok(p)) => {
                    protected.add(p);
                    left_alone.push(LeftAlone {
                        pid: session.pid,
                        database: session.database.clone(),
                        user: session.user.clone(),
                        application: session.application.clone(),
                        state: session.state.clone(),
                        protection: p,
                    });
                }
                Some(Err(other)) => {
                    anyhow::bail!("the kill plan names an unknown protection {other:?}")
                }
            }
        }
    }

    let threshold_met = safety.if_more_than.is_none_or(|n| candidates.len() > n);
    let mut capped = 0;
    if let Some(max) = safety.max {
        if candidates.len() > max {
            capped = candidates.len() - max;
            candidates.truncate(max);
        }
    }
    // Whether this role may signal each: the server's answer, by the signalling statement's own rule.
    let targets = candidates;
    let groups = summarize(&targets);

    let mut warnings = Vec::new();
    if not_visible > 0 {
        let effect = match heads.as_ref() {
            // kill --blockers counts only the hidden heads of chains a visible session waits on
            Some(h) => format!(
                "they hold what sessions it sees wait for (every hidden head, whatever the filters: pid {}); \
                 whether they may be terminated cannot be checked, so they are never acted on, the sessions \
                 behind them stay blocked, and pgconn exits 1",
                pid_list(&h.heads_not_visible)
            ),
            None => "whether they match cannot be checked, so they are never acted on, and pgconn exits 1"
                .to_string(),
        };
        warnings.push(crate::report::not_visible_warning(
            not_visible,
            &facts.current_user,
            &effect,
        ));
    }
    let mut notes = Vec::new();
    if !safety.include_temp_holders && !targets.is_empty() {
        let other_databases = targets
            .iter()
            .any(|t| t.session.database.as_deref() != Some(facts.database.as_str()));
        if !temp_known && (temp_relations > 0 || other_databases) {
            notes.push(format!(
                "sessions with temporary tables are not recognised: PostgreSQL {} does not tell which session \
                 a temporary schema belongs to (PostgreSQL 16+ does){}",
                facts.version.split_whitespace().next().unwrap_or(""),
                if temp_relations > 0 {
                    format!(
                        "; {temp_relations} temporary table(s) exist in database \"{}\"",
                        facts.database
                    )
                } else {
                    String::new()
                }
            ));
        } else if temp_known && other_databases {
            notes.push(format!(
                "temporary tables are recognised only for sessions in database \"{}\", the one pgconn \
                 is connected to (-d another to check the others)",
                facts.database
            ));
        }
    }
    if let Some(h) = heads.as_mut() {
        if !h.waiting_on_prepared.is_empty() {
            h.prepared_transactions = crate::activity::prepared_transactions(db)?
                .into_iter()
                .map(|t| {
                    // quoted as libpq's PQescapeLiteral does, the one quoting of the crate: reads the
                    // same whatever standard_conforming_strings is
                    let gid = crate::db::literal::quote(&t.gid);
                    PreparedCandidate {
                        rollback: format!("ROLLBACK PREPARED {gid}"),
                        commit: format!("COMMIT PREPARED {gid}"),
                        transaction: t,
                    }
                })
                .collect();
        }
        notes.extend(blockers_notes(h));
    }
    // Denials in the provider's terms: which of its roles may end whose sessions.
    let denied = targets.iter().filter(|t| !t.allowed).count();
    if let (Some(p), true) = (facts.platform.managed(), denied > 0) {
        notes.push(format!(
            "{denied} target(s) may not be signalled by role {}: {}",
            crate::report::sql_name(&facts.current_user),
            p.kill_terms()
        ));
    }
    // What the targets' clients receive, said before anyone is asked; a plan that will act on nothing
    // (no target, --if-more-than not exceeded) has nothing to say.
    if threshold_met {
        notes.extend(action.clients_note(&targets));
    }

    let targeted = targets.len();
    let report = KillReport {
        target: db.target_label(),
        connection: db.route().clone(),
        action,
        dry_run: safety.dry_run,
        matched,
        not_visible,
        protected,
        left_alone,
        kept,
        capped,
        if_more_than: safety.if_more_than,
        threshold_met,
        blockers: heads,
        targets,
        groups,
        run: BatchRun::planned(targeted, safety.wait.as_secs_f64(), safety.log.clone()),
        warnings,
        notes,
    };
    Ok(report)
}

/// Pids as people read them: `12, 34`.
fn pid_list(v: &[i32]) -> String {
    v.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// At most this many prepared transactions are named in the plan's note (all are in `--json`).
const PREPARED_NAMED: usize = 5;

/// What `kill --blockers` never acts on, said in the plan: sessions waiting for a prepared transaction
/// (with the statements a DBA would consider), and heads that are no client session.
fn blockers_notes(h: &BlockersPlan) -> Vec<String> {
    let pids = pid_list;
    let mut notes = Vec::new();
    if !h.waiting_on_prepared.is_empty() {
        let n = h.waiting_on_prepared.len();
        let mut note = format!(
            "{n} session{} (pid {}) wait{} for a prepared transaction (pid 0 in pg_blocking_pids): no session holds \
             it, so kill never acts on it; which one holds the lock is not told",
            if n == 1 { "" } else { "s" },
            pids(&h.waiting_on_prepared),
            if n == 1 { "s" } else { "" },
        );
        let named: Vec<String> = h
            .prepared_transactions
            .iter()
            .take(PREPARED_NAMED)
            .map(|c| {
                let t = &c.transaction;
                format!(
                    "{} (owner {}, database {}, prepared {} ago)",
                    c.rollback,
                    t.owner.as_deref().unwrap_or("?"),
                    t.database.as_deref().unwrap_or("?"),
                    crate::report::opt_age(t.age_seconds),
                )
            })
            .collect();
        if !named.is_empty() {
            note.push_str(&format!(
                "; a DBA would consider, in its database, one of: {} (or COMMIT PREPARED with the same gid, if it \
                 must commit){}",
                named.join("; "),
                match h.prepared_transactions.len().saturating_sub(PREPARED_NAMED) {
                    0 => String::new(),
                    more => format!("; {more} more in --json"),
                }
            ));
        }
        notes.push(note);
    }
    if !h.heads_not_client.is_empty() {
        notes.push(format!(
            "pid {} block{} sessions but {} no client session (a background worker, autovacuum, a WAL sender): \
             kill never acts on {}",
            pids(&h.heads_not_client),
            if h.heads_not_client.len() == 1 { "s" } else { "" },
            if h.heads_not_client.len() == 1 { "is" } else { "are" },
            if h.heads_not_client.len() == 1 { "it" } else { "them" },
        ));
    }
    notes
}

fn summarize(targets: &[KillTarget]) -> Vec<GroupSummary> {
    let mut m: BTreeMap<(Option<String>, Option<String>, String), GroupSummary> = BTreeMap::new();
    for t in targets {
        let s = &t.session;
        let g = m
            .entry((s.database.clone(), s.user.clone(), s.application.clone()))
            .or_insert_with(|| GroupSummary {
                database: s.database.clone(),
                user: s.user.clone(),
                application: s.application.clone(),
                sessions: 0,
                oldest_state_seconds: None,
            });
        g.sessions += 1;
        g.oldest_state_seconds = oldest(g.oldest_state_seconds, s.state_seconds);
    }
    let mut v: Vec<GroupSummary> = m.into_values().collect();
    for g in &mut v {
        g.oldest_state_seconds = g.oldest_state_seconds.map(round3);
    }
    v.sort_by(|a, b| {
        b.sessions
            .cmp(&a.sessions)
            .then_with(|| a.application.cmp(&b.application))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::assert_fills;

    #[test]
    fn the_plan_statements_get_exactly_their_values() {
        let fp = Filter::default().params();
        let pp = ProtectionParams::new(&KillSafety::default(), Action::Terminate, vec![]);
        let mut params = Params::new();
        fp.set(&mut params);
        pp.set(&mut params);
        params.set("with_query", &true, Type::BOOL);
        for blockers in [false, true] {
            assert_fills(&fp.assemble(&with_heads(PLAN_SQL, blockers)), &params);
        }
    }

    /// `kill --blockers` asks pg_blocking_pids of sessions waiting on a lock only (blocked.sql's lw), and
    /// a plain kill does not ask it at all.
    #[test]
    fn only_blockers_asks_pg_blocking_pids_and_only_of_lock_waiters() {
        let fp = Filter::default().params();
        let plain = fp.assemble(&with_heads(PLAN_SQL, false)).text().to_string();
        assert!(
            !plain.contains("heads AS (") && !plain.contains("lw AS"),
            "{plain}"
        );
        assert_eq!(plain.matches("pg_blocking_pids(").count(), 1, "{plain}");
        let heads = fp.assemble(&with_heads(PLAN_SQL, true)).text().to_string();
        // blocked_by for the listed sessions (guarded by a CASE), and lw (guarded by its WHERE)
        assert_eq!(heads.matches("pg_blocking_pids(").count(), 2, "{heads}");
        assert!(
            heads.contains("WHERE c.wait_event_type = 'Lock'"),
            "{heads}"
        );
        assert!(!heads.contains("/*HEADS"), "{heads}");
    }
}
