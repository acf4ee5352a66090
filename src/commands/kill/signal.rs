//! Signalling the plan's targets in set-wise batches: kill's [`Medium`] of the batch runner
//! ([`crate::commands::batch`]). Per batch: the observer records the targets (the
//! audit log syncs them) before anything is sent; one statement (`signal.sql`) names each target by pid and
//! backend_start and re-checks the selection, the protections and `--keep`; pg_stat_activity is polled
//! (every ~50 ms, up to `--wait`) until the signalled sessions are gone; the observed outcomes go to the
//! observer. The statement's verdict is parsed once, here, into `Verdict`; everything after works on enums.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use postgres::error::SqlState;
use postgres::types::Type;

use super::plan::ProtectionParams;
use super::KillSafety;
use crate::activity::{Filter, FilterParams};
use crate::commands::batch::{self, Medium, Ran, Stop};
use crate::db::{self, Db};
use crate::report::kill::{
    Action, KillTarget, OutcomeKind, Protection, SessionOutcome, SkipReason,
};
use crate::report::{round3, State};
use crate::statement::{Params, Statement};

/// The signalling statement, assembled with the plan's filter clauses (`FilterParams::assemble`; a
/// batch costs microseconds to assemble).
const SIGNAL_SQL: &str = include_str!("../../sql/signal.sql");

/// Sees each batch before it is signalled and after its outcomes are known, and may stop the run.
pub trait BatchObserver {
    /// Called before batch `batch` (1-based) is signalled; an error means nothing of it is signalled.
    fn before(&mut self, batch: usize, targets: &[&KillTarget]) -> Result<()>;
    /// Called with the observed outcomes of a batch; an error stops the run after this batch.
    fn after(&mut self, outcomes: &[SessionOutcome]) -> Result<()>;
    /// Checked before each batch: true ends the run there (the batch in flight was finished, its
    /// outcomes observed and recorded).
    fn stop_requested(&self) -> bool;
}

/// What a run did: the outcomes of every target it handled, in order, and why it stopped early.
pub type SignalRun = Ran<SessionOutcome>;

/// How to signal: the plan's selection and protections, and the run's limits.
pub struct Signalling<'a> {
    pub filter: &'a Filter,
    pub protection: ProtectionParams,
    pub action: Action,
    /// `--keep` (re-checked by the statement).
    pub keep: Option<usize>,
    pub batch_size: usize,
    pub wait: Duration,
    /// Re-reads PgBouncer's server connections before each batch (`--pgbouncer`).
    pub refresh_pooler: Option<Box<dyn FnMut() -> Result<Vec<i32>> + 'a>>,
    /// `kill --blockers`: each target must still be a head blocker, in the state and with the
    /// state_change it was shown with.
    pub blockers: bool,
}

impl<'a> Signalling<'a> {
    pub fn new(
        filter: &'a Filter,
        safety: &KillSafety,
        action: Action,
        pooler_pids: Vec<i32>,
    ) -> Signalling<'a> {
        Signalling {
            filter,
            protection: ProtectionParams::new(safety, action, pooler_pids),
            action,
            keep: safety.keep.filter(|k| *k > 0),
            batch_size: safety.batch_size.max(1),
            wait: safety.wait,
            refresh_pooler: None,
            blockers: false,
        }
    }
}

/// The signalling statement's verdict on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Signalled,
    Gone,
    Replaced,
    Changed,
    /// A cancel whose session runs another query than the one shown.
    OtherQuery,
    /// `--blockers`: the head ran a statement since the preview.
    RanSince,
    /// `--blockers`: it blocks nobody any more.
    NotBlocking,
    Protected(Protection),
    Kept,
    PredictedDenied,
    NotSignalled,
}

impl Verdict {
    fn parse(outcome: &str, protection: Option<&str>) -> Result<Verdict> {
        Ok(match outcome {
            "signalled" => Verdict::Signalled,
            "gone" => Verdict::Gone,
            "replaced" => Verdict::Replaced,
            "changed" => Verdict::Changed,
            "other_query" => Verdict::OtherQuery,
            "ran_since" => Verdict::RanSince,
            "not_blocking" => Verdict::NotBlocking,
            "kept" => Verdict::Kept,
            "predicted_denied" => Verdict::PredictedDenied,
            "not_signalled" => Verdict::NotSignalled,
            "protected" => {
                Verdict::Protected(protection.and_then(Protection::parse).ok_or_else(|| {
                    anyhow!("the signalling statement names an unknown protection {protection:?}")
                })?)
            }
            other => {
                return Err(anyhow!(
                    "the signalling statement returned an unknown outcome {other:?}"
                ))
            }
        })
    }
}

/// One row of the signalling statement.
#[derive(Debug, Clone)]
struct Handled {
    pid: i32,
    verdict: Verdict,
    state: Option<State>,
    state_seconds: Option<f64>,
    query_start: Option<String>,
    at: String,
}

/// The values of `signal.sql`'s own slots: the batch (named by pid, backend_start and, for a cancel,
/// query_start; with `--blockers`, by state and state_change too), whether to try sessions the catalogs
/// say may not be signalled, `--keep`, and the other targets that are or may be signalled.
struct BatchParams {
    pids: Vec<i32>,
    starts: Vec<String>,
    query_starts: Vec<Option<String>>,
    states: Vec<Option<String>>,
    state_changes: Vec<Option<String>>,
    unchanged: bool,
    attempt_denied: bool,
    keep: Option<i32>,
    not_staying: Vec<i32>,
}

impl BatchParams {
    fn new(
        batch: &[&KillTarget],
        keep: Option<usize>,
        attempt_denied: bool,
        not_staying: &[i32],
        unchanged: bool,
    ) -> BatchParams {
        BatchParams {
            pids: batch.iter().map(|t| t.session.pid).collect(),
            starts: batch
                .iter()
                .map(|t| t.session.backend_start.clone().unwrap_or_default())
                .collect(),
            query_starts: batch
                .iter()
                .map(|t| t.session.query_start.clone())
                .collect(),
            states: batch
                .iter()
                .map(|t| t.session.state.as_ref().map(|s| s.as_pg().to_string()))
                .collect(),
            state_changes: batch
                .iter()
                .map(|t| t.blocker.as_ref().and_then(|b| b.state_change.clone()))
                .collect(),
            unchanged,
            attempt_denied,
            keep: keep.map(|k| i32::try_from(k).unwrap_or(i32::MAX)),
            not_staying: not_staying.to_vec(),
        }
    }

    fn set<'a>(&'a self, p: &mut Params<'a>) {
        p.set("batch_pids", &self.pids, Type::INT4_ARRAY)
            .set("batch_starts", &self.starts, Type::TEXT_ARRAY)
            .set("batch_query_starts", &self.query_starts, Type::TEXT_ARRAY)
            .set("batch_states", &self.states, Type::TEXT_ARRAY)
            .set("batch_state_changes", &self.state_changes, Type::TEXT_ARRAY)
            .set("unchanged", &self.unchanged, Type::BOOL)
            .set("attempt_denied", &self.attempt_denied, Type::BOOL)
            .set("keep", &self.keep, Type::INT4)
            .set("not_staying", &self.not_staying, Type::INT4_ARRAY);
    }
}

static POLL_SQL: std::sync::LazyLock<Statement> =
    std::sync::LazyLock::new(|| Statement::new(include_str!("../../sql/signal_poll.sql")));

/// Run the statement for `batch`. `not_staying`: the other targets of the run that are or may be signalled.
fn statement(
    db: &mut Db,
    how: &Signalling,
    fp: &FilterParams,
    batch: &[&KillTarget],
    attempt_denied: bool,
    not_staying: &[i32],
) -> Result<Vec<Handled>> {
    let bp = BatchParams::new(batch, how.keep, attempt_denied, not_staying, how.blockers);
    let mut params = Params::new();
    fp.set(&mut params);
    how.protection.set(&mut params);
    bp.set(&mut params);
    let rows = db.query_named(
        &fp.assemble(&super::plan::with_heads(SIGNAL_SQL, how.blockers)),
        &params,
    )?;
    rows.iter()
        .map(|r| {
            let outcome: String = r.try_get("outcome")?;
            let protection: Option<String> = r.try_get("protection")?;
            Ok(Handled {
                pid: r.try_get("pid")?,
                verdict: Verdict::parse(&outcome, protection.as_deref())?,
                state: r.try_get("state")?,
                state_seconds: r.try_get("state_seconds")?,
                query_start: r.try_get("query_start")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

fn is_denied(e: &anyhow::Error) -> bool {
    db::sqlstate(e) == Some(SqlState::INSUFFICIENT_PRIVILEGE)
}

/// A session that was signalled, as the poll looks for it.
struct Sent {
    pid: i32,
    backend_start: String,
    /// For a cancel: the query that was running.
    query_start: Option<String>,
}

/// A session as one poll saw it.
struct Seen {
    backend_start: Option<String>,
    state: Option<State>,
    query_start: Option<String>,
}

/// Poll pg_stat_activity until every signalled session is gone (for a cancel: no longer running the same
/// query) or `wait` has passed. Returns the sessions still there, with their state.
fn observe(
    db: &mut Db,
    sent: &[Sent],
    action: Action,
    wait: Duration,
) -> Result<HashMap<i32, Option<State>>> {
    let deadline = Instant::now() + wait;
    let mut pending: Vec<&Sent> = sent.iter().collect();
    let mut still = HashMap::new();
    // A terminated backend is usually gone within milliseconds: look early, then every 50 ms.
    let mut delay = Duration::from_millis(5);
    while !pending.is_empty() {
        std::thread::sleep(delay.min(deadline.saturating_duration_since(Instant::now())));
        let pids: Vec<i32> = pending.iter().map(|s| s.pid).collect();
        let mut params = Params::new();
        params.set("pids", &pids, Type::INT4_ARRAY);
        let rows = db.query_named(&POLL_SQL, &params)?;
        let present: HashMap<i32, Seen> = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, i32>("pid")?,
                    Seen {
                        backend_start: r.try_get("backend_start")?,
                        state: r.try_get("state")?,
                        query_start: r.try_get("query_start")?,
                    },
                ))
            })
            .collect::<Result<_>>()?;
        still.clear();
        pending.retain(|s| match present.get(&s.pid) {
            Some(Seen {
                backend_start: start,
                state,
                query_start,
            }) if start.as_deref() == Some(&s.backend_start) => {
                let remains = match action {
                    Action::Terminate => true,
                    Action::Cancel => {
                        matches!(state, Some(State::Active | State::Fastpath))
                            && *query_start == s.query_start
                    }
                };
                if remains {
                    still.insert(s.pid, state.clone());
                }
                remains
            }
            // Gone, or the pid belongs to a new session already.
            _ => false,
        });
        // A stop signal does not cut this short: the batch in flight is finished, outcomes included.
        if Instant::now() >= deadline {
            break;
        }
        delay = (delay * 4).min(Duration::from_millis(50));
    }
    Ok(still)
}

/// kill's medium: one statement signals a batch, naming each target by pid and backend_start and
/// re-checking the selection, the protections and `--keep`; pg_stat_activity is then polled until the
/// signalled sessions are gone. `observer` records each batch and says when to stop.
struct Sql<'d, 'h, 'f, 't, 'o> {
    db: &'d mut Db,
    how: &'h mut Signalling<'f>,
    fp: FilterParams,
    by_pid: HashMap<i32, &'t KillTarget>,
    all_pids: Vec<i32>,
    /// Targets known to stay (skipped, denied, failed): they count as staying for --keep.
    staying: HashSet<i32>,
    observer: &'o mut dyn BatchObserver,
}

/// What the statement (and the one-by-one retries) left for the poll: the rows of the sessions it
/// handled, the outcomes already known, and the error that ends the run after this batch.
struct Statemented {
    handled: Vec<Handled>,
    outcomes: Vec<SessionOutcome>,
    error: Option<anyhow::Error>,
}

impl Medium for Sql<'_, '_, '_, '_, '_> {
    type Target = KillTarget;
    type Outcome = SessionOutcome;
    type Fresh = ();
    type Sent = Statemented;

    fn stop_requested(&self) -> bool {
        self.observer.stop_requested()
    }

    /// With --pgbouncer: its server connections again, so one that became a pooler's since the
    /// preview is left alone.
    fn prepare(&mut self, _batch: usize) -> Result<()> {
        if let Some(refresh) = self.how.refresh_pooler.as_mut() {
            let pids = refresh().map_err(|e| {
                e.context("could not re-read PgBouncer's server connections before signalling")
            })?;
            self.how.protection.set_pooler_pids(pids);
        }
        Ok(())
    }

    fn record_targets(&mut self, batch: usize, targets: &[KillTarget]) -> Result<()> {
        let refs: Vec<&KillTarget> = targets.iter().collect();
        self.observer.before(batch, &refs)
    }

    fn signal(&mut self, batch: &[KillTarget], _: ()) -> Statemented {
        let refs: Vec<&KillTarget> = batch.iter().collect();
        let not_staying: Vec<i32> = self
            .all_pids
            .iter()
            .copied()
            .filter(|p| !self.staying.contains(p))
            .collect();
        signal_batch(
            self.db,
            self.how,
            &self.fp,
            &refs,
            &not_staying,
            &self.by_pid,
        )
    }

    fn observe(
        &mut self,
        batch: &[KillTarget],
        sent: Statemented,
    ) -> (Vec<SessionOutcome>, Option<anyhow::Error>) {
        let refs: Vec<&KillTarget> = batch.iter().collect();
        let (outcomes, error) = observe_batch(self.db, self.how, &refs, sent, &self.by_pid);
        for o in &outcomes {
            if !matches!(
                o.outcome,
                OutcomeKind::Terminated
                    | OutcomeKind::Cancelled
                    | OutcomeKind::Signalled
                    | OutcomeKind::Unknown
            ) {
                self.staying.insert(o.pid);
            }
        }
        (outcomes, error)
    }

    fn record_outcomes(&mut self, outcomes: &[SessionOutcome]) -> Result<()> {
        self.observer.after(outcomes)
    }

    fn kind(o: &SessionOutcome) -> OutcomeKind {
        o.outcome
    }
}

/// Signal `targets` in batches of `how.batch_size`, telling `observer` about each batch; `progress`
/// hears how many targets have been handled after each.
pub fn run(
    db: &mut Db,
    how: &mut Signalling,
    targets: &[KillTarget],
    observer: &mut dyn BatchObserver,
    progress: &mut dyn FnMut(usize),
) -> SignalRun {
    let batch_size = how.batch_size;
    let mut medium = Sql {
        db,
        fp: how.filter.params(),
        how,
        by_pid: targets.iter().map(|t| (t.session.pid, t)).collect(),
        all_pids: targets.iter().map(|t| t.session.pid).collect(),
        staying: HashSet::new(),
        observer,
    };
    batch::run(&mut medium, targets, batch_size, progress)
}

/// One batch's statement and the one-by-one retries for sessions the role may not signal. An error
/// that ends the run comes back with the outcomes known so far.
fn signal_batch(
    db: &mut Db,
    how: &Signalling,
    fp: &FilterParams,
    refs: &[&KillTarget],
    not_staying: &[i32],
    by_pid: &HashMap<i32, &KillTarget>,
) -> Statemented {
    let mut handled: Vec<Handled> = Vec::with_capacity(refs.len());
    let mut outcomes = Vec::new();
    let mut retry_alone: Vec<&KillTarget> = Vec::new();
    let mut batch_failed = false;
    match statement(db, how, fp, refs, false, not_staying) {
        Ok(rows) => {
            for h in rows {
                if h.verdict == Verdict::PredictedDenied {
                    if let Some(t) = by_pid.get(&h.pid) {
                        retry_alone.push(t);
                    }
                } else {
                    handled.push(h);
                }
            }
        }
        // The catalogs said yes but the server said no for one of them: each on its own, to learn which.
        Err(e) if is_denied(&e) => {
            batch_failed = true;
            retry_alone.extend(refs.iter().copied());
        }
        Err(e) => {
            // The statement failed part-way (or the connection is gone): some may have been signalled.
            let reason = format!(
                "the signalling statement failed, so this session may or may not have been signalled: {}",
                err_text(&e)
            );
            let now = current_states(db, refs);
            for t in refs {
                outcomes.push(unknown(
                    t,
                    &reason,
                    now.get(&t.session.pid).cloned().flatten(),
                ));
            }
            return Statemented {
                handled,
                outcomes,
                error: Some(e),
            };
        }
    }
    let mut error = None;
    for t in retry_alone {
        if error.is_some() {
            break;
        }
        match statement(db, how, fp, &[t], true, not_staying) {
            Ok(mut rows) if !rows.is_empty() => {
                let h = rows.remove(0);
                let maybe_hit = match how.action {
                    Action::Terminate => h.verdict == Verdict::Gone,
                    // A cancelled query leaves the session there, idle: it no longer qualifies.
                    Action::Cancel => h.verdict != Verdict::Signalled,
                };
                if batch_failed && maybe_hit {
                    // The failed batch statement signalled some sessions before it stopped: this one
                    // may have been one of them.
                    outcomes.push(unknown(
                        t,
                        "the batch statement that failed (permission denied on another session) may have \
                         signalled it already; it no longer qualifies now",
                        h.state.clone(),
                    ));
                } else {
                    handled.push(h);
                }
            }
            Ok(_) => outcomes.push(failed(t, "the signalling statement returned no row for it")),
            Err(e) if is_denied(&e) => {
                let mut o = base(t, OutcomeKind::Denied);
                o.reason = Some(format!("permission denied: {}", root_message(&e)));
                outcomes.push(o);
            }
            Err(e) if db::connection_lost(&e) => {
                outcomes.push(unknown(
                    t,
                    &format!(
                        "the connection was lost while signalling it: {}",
                        err_text(&e)
                    ),
                    None,
                ));
                error = Some(e);
            }
            Err(e) => outcomes.push(failed(t, &err_text(&e))),
        }
    }

    Statemented {
        handled,
        outcomes,
        error,
    }
}

/// Watch the signalled sessions of a batch go, and every target's outcome in the order of the batch.
fn observe_batch(
    db: &mut Db,
    how: &Signalling,
    refs: &[&KillTarget],
    statemented: Statemented,
    by_pid: &HashMap<i32, &KillTarget>,
) -> (Vec<SessionOutcome>, Option<anyhow::Error>) {
    let Statemented {
        handled,
        mut outcomes,
        error,
    } = statemented;
    let sent: Vec<Sent> = handled
        .iter()
        .filter(|h| h.verdict == Verdict::Signalled)
        .filter_map(|h| {
            by_pid.get(&h.pid).map(|t| Sent {
                pid: h.pid,
                backend_start: t.session.backend_start.clone().unwrap_or_default(),
                query_start: h.query_start.clone(),
            })
        })
        .collect();
    let observed = if sent.is_empty() {
        Ok(HashMap::new())
    } else {
        observe(db, &sent, how.action, how.wait)
    };
    let (still, unobserved) = match observed {
        Ok(still) => (still, None),
        Err(e) => (HashMap::new(), Some(e)),
    };
    for h in handled {
        let Some(t) = by_pid.get(&h.pid) else {
            continue;
        };
        let o = match (&unobserved, h.verdict) {
            (Some(e), Verdict::Signalled) => {
                let mut o = base(t, OutcomeKind::Signalled);
                o.reason = Some(format!("signalled, but not seen to end: {}", err_text(e)));
                o.at = Some(h.at.clone());
                o
            }
            _ => outcome_of(t, h, &still, how),
        };
        outcomes.push(o);
    }
    // Outcomes in the order of the batch.
    let order: HashMap<i32, usize> = refs
        .iter()
        .enumerate()
        .map(|(i, t)| (t.session.pid, i))
        .collect();
    outcomes.sort_by_key(|o| order.get(&o.pid).copied().unwrap_or(usize::MAX));
    (outcomes, error.or(unobserved))
}

/// States of the batch's sessions now, when the server can still be asked (after a failed statement).
fn current_states(db: &mut Db, refs: &[&KillTarget]) -> HashMap<i32, Option<State>> {
    let pids: Vec<i32> = refs.iter().map(|t| t.session.pid).collect();
    let mut params = Params::new();
    params.set("pids", &pids, Type::INT4_ARRAY);
    // What cannot be read is not known: the outcomes then say so.
    match db.query_named(&POLL_SQL, &params) {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| Some((r.try_get::<_, i32>("pid").ok()?, r.try_get("state").ok()?)))
            .collect(),
        Err(_) => HashMap::new(),
    }
}

fn base(t: &KillTarget, outcome: OutcomeKind) -> SessionOutcome {
    let s = &t.session;
    SessionOutcome {
        pid: s.pid,
        backend_start: s.backend_start.clone(),
        database: s.database.clone(),
        user: s.user.clone(),
        application: s.application.clone(),
        client: s.client.clone(),
        state: s.state.clone(),
        state_seconds: s.state_seconds.map(round3),
        query: s.query.as_deref().map(|q| crate::text::excerpt(q, 200)),
        outcome,
        skip: None,
        protection: None,
        reason: None,
        state_now: None,
        at: None,
    }
}

fn unknown(t: &KillTarget, reason: &str, state_now: Option<State>) -> SessionOutcome {
    let mut o = base(t, OutcomeKind::Unknown);
    o.reason = Some(reason.to_string());
    o.state_now = state_now;
    o
}

fn failed(t: &KillTarget, reason: &str) -> SessionOutcome {
    let mut o = base(t, OutcomeKind::Failed);
    o.reason = Some(reason.to_string());
    o
}

fn outcome_of(
    t: &KillTarget,
    h: Handled,
    still: &HashMap<i32, Option<State>>,
    how: &Signalling,
) -> SessionOutcome {
    let wait = crate::report::typed_duration(how.wait);
    let skipped = |skip: SkipReason, why: String| {
        let mut o = base(t, OutcomeKind::Skipped);
        o.skip = Some(skip);
        o.reason = Some(why);
        o
    };
    let mut o = match h.verdict {
        Verdict::Signalled => match still.get(&h.pid) {
            Some(state) => {
                let mut o = base(t, OutcomeKind::Signalled);
                o.reason = Some(match how.action {
                    Action::Terminate => format!("signalled, but still there after --wait {wait}"),
                    Action::Cancel => format!("signalled, but still running its query after --wait {wait}"),
                });
                o.state_now = state.clone();
                return with_time(o, &h);
            }
            None => base(
                t,
                match how.action {
                    Action::Terminate => OutcomeKind::Terminated,
                    Action::Cancel => OutcomeKind::Cancelled,
                },
            ),
        },
        Verdict::Gone => skipped(SkipReason::Gone, "gone: the session ended after the preview".into()),
        Verdict::Replaced => skipped(
            SkipReason::Replaced,
            "replaced: the pid now belongs to a different session (backend_start differs)".into(),
        ),
        Verdict::Changed => skipped(SkipReason::Changed, change_reason(t, &h)),
        Verdict::OtherQuery => skipped(
            SkipReason::Changed,
            "runs another query than the one previewed: not cancelled".into(),
        ),
        Verdict::RanSince => skipped(
            SkipReason::RanSince,
            "ran a statement after the preview (its state_change moved): it may no longer hold the locks \
             shown; not terminated"
                .into(),
        ),
        Verdict::NotBlocking => skipped(
            SkipReason::NotBlocking,
            "no longer blocks any session waiting on a lock: not terminated".into(),
        ),
        Verdict::Protected(p) => {
            let mut o = skipped(
                SkipReason::Protected,
                format!("protected: it is now one {}", p.singular()),
            );
            o.protection = Some(p);
            o
        }
        Verdict::Kept => skipped(
            SkipReason::Kept,
            format!(
                "kept: sessions --keep left alone ended after the preview; this one stays so that {} of its \
                 group remain",
                how.keep.unwrap_or(0)
            ),
        ),
        Verdict::NotSignalled => skipped(
            SkipReason::NotSignalled,
            "not a backend any more: the signal was not sent".into(),
        ),
        Verdict::PredictedDenied => {
            failed(t, "the server predicted a denial but was not asked")
        }
    };
    o.state_now = h.state.clone();
    with_time(o, &h)
}

fn with_time(mut o: SessionOutcome, h: &Handled) -> SessionOutcome {
    o.at = Some(h.at.clone());
    o
}

/// An error on one line: its outermost message, which names the statement and the server's words.
fn err_text(e: &anyhow::Error) -> String {
    e.to_string().replace('\n', " ")
}

fn root_message(e: &anyhow::Error) -> String {
    db::server_message(e).unwrap_or_else(|| err_text(e))
}

fn change_reason(t: &KillTarget, now: &Handled) -> String {
    let prev = t.session.state.as_ref();
    match (prev, now.state.as_ref()) {
        (_, Some(State::Active)) if prev != Some(&State::Active) => {
            "became active after the preview".into()
        }
        (Some(a), Some(b)) if a != b => format!("changed state after the preview: {a} -> {b}"),
        (_, Some(b)) => format!(
            "no longer matches: {b} for only {} now (it was busy after the preview)",
            crate::report::opt_age(now.state_seconds)
        ),
        _ => "no longer matches the selection".into(),
    }
}

/// An observer that records nothing and never stops (library callers).
struct Silent;

impl BatchObserver for Silent {
    fn before(&mut self, _: usize, _: &[&KillTarget]) -> Result<()> {
        Ok(())
    }
    fn after(&mut self, _: &[SessionOutcome]) -> Result<()> {
        Ok(())
    }
    fn stop_requested(&self) -> bool {
        false
    }
}

/// Signal `targets` with the protections and limits of `safety` (no PgBouncer), recording nothing.
pub fn signal_targets(
    db: &mut Db,
    filter: &Filter,
    safety: &KillSafety,
    action: Action,
    targets: &[KillTarget],
) -> Result<Vec<SessionOutcome>> {
    let run = signal_targets_with(db, filter, safety, action, targets, &mut Silent);
    match run.stopped {
        None => Ok(run.outcomes),
        Some(Stop::Interrupted) => Err(anyhow!("interrupted")),
        Some(Stop::Log(e)) | Some(Stop::Medium(e)) => Err(e),
    }
}

/// [`signal_targets`] with an observer of each batch. On a managed platform (detected with strong
/// evidence, or `--platform` in the connection options) the provider's admin roles are protected as the
/// command line's plan protects them (`safety.provider_roles` gains them; `include_provider` lifts it).
pub fn signal_targets_with(
    db: &mut Db,
    filter: &Filter,
    safety: &KillSafety,
    action: Action,
    targets: &[KillTarget],
    observer: &mut dyn BatchObserver,
) -> SignalRun {
    let platform = match db.facts() {
        Ok(f) => f.platform.managed(),
        Err(e) => {
            return SignalRun {
                outcomes: Vec::new(),
                summary: Default::default(),
                stopped: Some(Stop::Medium(e)),
            }
        }
    };
    let mut safety = safety.clone();
    for role in super::admin_roles(platform) {
        if !safety.provider_roles.contains(&role) {
            safety.provider_roles.push(role);
        }
    }
    let mut how = Signalling::new(filter, &safety, action, Vec::new());
    run(db, &mut how, targets, observer, &mut |_| {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::assert_fills;

    #[test]
    fn the_signalling_statements_get_exactly_their_values() {
        let fp = Filter::default().params();
        let pp = ProtectionParams::new(&KillSafety::default(), Action::Cancel, vec![1]);
        let bp = BatchParams::new(&[], Some(2), false, &[3], false);
        let mut params = Params::new();
        fp.set(&mut params);
        pp.set(&mut params);
        bp.set(&mut params);
        for blockers in [false, true] {
            assert_fills(
                &fp.assemble(&super::super::plan::with_heads(SIGNAL_SQL, blockers)),
                &params,
            );
        }
        let pids = vec![1];
        let mut params = Params::new();
        params.set("pids", &pids, Type::INT4_ARRAY);
        assert_fills(&POLL_SQL, &params);
    }
}
