//! rescue's execution: the batch runner ([`crate::commands::batch`]) over pidfds. Each batch recorded,
//! each target re-read and signalled through a pidfd, the exits awaited and recorded.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};

use crate::activity::now_rfc3339;
use crate::commands::audit::{AuditLog, Who};
use crate::commands::batch::{self, Medium};
use crate::host::pidfd::Pidfd;
use crate::host::proc::{self};
use crate::host::sockets::Sockets;
use crate::host::{conf, title, Title};
use crate::interrupt::Interrupt;
use crate::report::kill::{Action, OutcomeKind, SkipReason};
use crate::report::rescue::{Backend, RescueOutcome};
use crate::report::State;

use super::audit::*;
use super::plan::*;
use super::*;

/// What one target's re-check found, before the signal.
pub(super) enum Check {
    Signal(Pidfd),
    Skip(SkipReason, String, Option<String>),
    Denied(String),
    Failed(String),
}

/// What the re-check of a batch reads once: the configuration's last change and the sockets, again.
pub(super) struct Now {
    settings: conf::Settings,
    sockets: Option<Sockets>,
}

/// Read the process again, through a pidfd opened first (so the descriptor names the process that was
/// checked, or one that fails the check): same parent, same start time, still a backend (the
/// postmaster's executable, its own session), the same session, in a state still selected, and a
/// title still shown to be current.
pub(super) fn recheck(plan: &RescuePlan, t: &Backend, now: &Now) -> Check {
    let fd = match Pidfd::open(t.pid) {
        Ok(fd) => fd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Check::Skip(SkipReason::Gone, "it has exited".into(), None)
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Check::Denied(format!("cannot open a pidfd: {e}"))
        }
        Err(e) => return Check::Failed(format!("cannot open a pidfd: {e}")),
    };
    let p = match proc::read(t.pid) {
        Ok(p) => p,
        Err(_) => return Check::Skip(SkipReason::Gone, "it has exited".into(), None),
    };
    if p.start_ticks != t.start_ticks || p.ppid != plan.postmaster.pid {
        return Check::Skip(
            SkipReason::Replaced,
            "the pid belongs to another process now".into(),
            Some(p.title),
        );
    }
    if let Some(why) = not_a_backend(&p, &plan.postmaster, plan.executable) {
        return Check::Skip(
            SkipReason::Replaced,
            format!("it is not a backend now: {why}"),
            Some(p.title),
        );
    }
    let same = match read_title(&p, &plan.prefix) {
        Title::Client(c)
            if c.user == t.user
                && c.database == t.database
                && c.client == t.client
                && c.port == t.client_port =>
        {
            c.activity.idle_state()
        }
        _ => None,
    };
    match same {
        Some(st) if plan.report.selection.states.contains(&st) => {}
        _ => {
            return Check::Skip(
                SkipReason::Changed,
                "its title changed: it no longer matches".into(),
                Some(p.title),
            )
        }
    }
    // The configuration's change times once more, for this target: examined, not read again.
    let last_change = match now.settings.last_change_now() {
        Ok(l) => l,
        Err(why) => {
            return Check::Skip(
                SkipReason::Untrusted,
                format!("the configuration can no longer be examined ({why})"),
                Some(p.title),
            )
        }
    };
    let trust = Trust {
        last_change: last_change.as_ref(),
        clock: &plan.clock,
        sockets: now.sockets.as_ref(),
        trust_titles: plan.report.selection.trust_titles,
    };
    match trust.evidence(t) {
        Ok(_) => Check::Signal(fd),
        Err(why) => Check::Skip(SkipReason::Untrusted, why, Some(p.title)),
    }
}

/// `--keep`: kept backends that have exited since the preview are replaced by targets of their group
/// (the most recently connected first), so the group keeps N.
pub(super) fn kept_again(plan: &RescuePlan) -> HashMap<i32, String> {
    let mut stay = HashMap::new();
    let Some(keep) = plan.report.selection.keep else {
        return stay;
    };
    for (key, kept) in &plan.kept {
        let alive = kept
            .iter()
            .filter(|b| proc::read(b.pid).is_ok_and(|p| p.start_ticks == b.start_ticks))
            .count();
        let missing = keep.saturating_sub(alive);
        let group: Vec<&Backend> = plan
            .report
            .targets
            .iter()
            .rev()
            .filter(|b| b.database == key.0 && b.user == key.1)
            .take(missing)
            .collect();
        for b in group {
            stay.insert(
                b.pid,
                format!("--keep: {missing} kept backend(s) of its group exited since the preview"),
            );
        }
    }
    stay
}

pub(super) fn outcome(t: &Backend, kind: OutcomeKind) -> RescueOutcome {
    RescueOutcome {
        pid: t.pid,
        started_at: t.started_at.clone(),
        user: t.user.clone(),
        database: t.database.clone(),
        client: t.client.clone(),
        state: t.state.clone(),
        outcome: kind,
        skip: None,
        reason: None,
        title_now: None,
        state_now: None,
        at: None,
    }
}

/// The state a title shows now, as `state_now` (None when it cannot be read).
pub(super) fn state_of(title: &str, prefix: &str) -> Option<State> {
    match title::parse(title, prefix) {
        Title::Client(c) => c.activity.state(),
        _ => None,
    }
}

/// rescue's medium: each target re-read from /proc through a pidfd opened first and signalled through
/// it; the exits awaited within one --wait per batch.
struct Pidfds<'p> {
    plan: &'p RescuePlan,
    log: Option<&'p mut AuditLog>,
    interrupt: &'p Interrupt,
    /// Targets `--keep` now keeps instead of kept backends that exited, and why.
    stay: HashMap<i32, String>,
    wait: Duration,
}

/// A batch signalled: every target's outcome so far, and the pidfds of those signalled (by index).
struct Signalled {
    done: Vec<RescueOutcome>,
    fds: Vec<(usize, Pidfd)>,
}

impl Medium for Pidfds<'_> {
    type Target = Backend;
    type Outcome = RescueOutcome;
    type Fresh = Now;
    type Sent = Signalled;

    fn stop_requested(&self) -> bool {
        self.interrupt.received().is_some()
    }

    /// The configuration again: if it can no longer be read, or turns titles off, nothing more is
    /// signalled.
    fn prepare(&mut self, batch: usize) -> Result<Now> {
        let settings = title_settings(&self.plan.postmaster)
            .map_err(|e| anyhow!("{e:#} (read again before signalling batch {batch})"))?;
        Ok(Now {
            settings,
            sockets: Sockets::read(self.plan.postmaster.pid).ok(),
        })
    }

    fn record_targets(&mut self, batch: usize, targets: &[Backend]) -> Result<()> {
        match self.log.as_deref_mut() {
            Some(log) => {
                let lines: Vec<(Who, Option<&str>)> =
                    targets.iter().map(|b| (who(b), None)).collect();
                log.targets(batch, Action::Terminate, &lines)
            }
            None => Ok(()),
        }
    }

    fn signal(&mut self, batch: &[Backend], now: Now) -> Signalled {
        let plan = self.plan;
        let mut done: Vec<RescueOutcome> = Vec::new();
        let mut fds: Vec<(usize, Pidfd)> = Vec::new();
        for t in batch {
            if let Some(why) = self.stay.get(&t.pid) {
                let mut o = outcome(t, OutcomeKind::Skipped);
                o.skip = Some(SkipReason::Kept);
                o.reason = Some(why.clone());
                done.push(o);
                continue;
            }
            let mut o = outcome(t, OutcomeKind::Failed);
            match recheck(plan, t, &now) {
                Check::Signal(fd) => match fd.terminate() {
                    Ok(()) => {
                        o.outcome = OutcomeKind::Signalled;
                        o.at = Some(now_rfc3339());
                        fds.push((done.len(), fd));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        o.outcome = OutcomeKind::Skipped;
                        o.skip = Some(SkipReason::NotSignalled);
                        o.reason = Some("it exited before the signal".into());
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                        o.outcome = OutcomeKind::Denied;
                        o.reason = Some(format!("{e}: run as root or as the cluster's OS user"));
                    }
                    Err(e) => o.reason = Some(e.to_string()),
                },
                Check::Skip(reason, why, title_now) => {
                    o.outcome = OutcomeKind::Skipped;
                    o.skip = Some(reason);
                    o.reason = Some(why);
                    if reason != SkipReason::Replaced {
                        o.state_now = title_now.as_deref().and_then(|t| state_of(t, &plan.prefix));
                    }
                    o.title_now = title_now;
                }
                Check::Denied(why) => {
                    o.outcome = OutcomeKind::Denied;
                    o.reason = Some(why);
                }
                Check::Failed(why) => o.reason = Some(why),
            }
            done.push(o);
        }
        Signalled { done, fds }
    }

    /// Wait for the signalled ones, all within one --wait.
    fn observe(
        &mut self,
        _batch: &[Backend],
        sent: Signalled,
    ) -> (Vec<RescueOutcome>, Option<anyhow::Error>) {
        let Signalled { mut done, fds } = sent;
        let deadline = Instant::now() + self.wait;
        for (i, fd) in &fds {
            let left = deadline.saturating_duration_since(Instant::now());
            if fd.wait(left) {
                done[*i].outcome = OutcomeKind::Terminated;
            } else {
                done[*i].reason = Some(format!(
                    "signalled, still there after --wait {}",
                    crate::report::typed_duration(self.wait)
                ));
                done[*i].title_now = proc::read(done[*i].pid).ok().map(|p| p.title);
                done[*i].state_now = done[*i]
                    .title_now
                    .as_deref()
                    .and_then(|t| state_of(t, &self.plan.prefix));
            }
        }
        (done, None)
    }

    fn record_outcomes(&mut self, outcomes: &[RescueOutcome]) -> Result<()> {
        match self.log.as_deref_mut() {
            Some(log) => outcome_lines(log, outcomes),
            None => Ok(()),
        }
    }

    fn kind(o: &RescueOutcome) -> OutcomeKind {
        o.outcome
    }
}

/// Act on the confirmed plan: record the plan, then batch by batch record the targets, re-check and
/// signal each, wait for them to exit and record what happened. An `Err` means nothing was signalled.
pub fn execute(
    mut plan: RescuePlan,
    interrupt: &Interrupt,
    progress: &mut dyn FnMut(usize),
) -> Result<Executed> {
    if let Some(log) = plan.log.as_mut() {
        plan_line(log, &plan.report).map_err(|e| anyhow!("{e:#}; nothing was signalled"))?;
    }
    let mut log = plan.log.take();
    let ran = {
        let mut medium = Pidfds {
            plan: &plan,
            log: log.as_mut(),
            interrupt,
            stay: kept_again(&plan),
            wait: Duration::from_secs_f64(plan.report.run.wait_seconds),
        };
        batch::run(&mut medium, &plan.report.targets, BATCH, progress)
    };
    plan.log = log;
    let signal = interrupt.received();
    let report = &mut plan.report;
    let mut failure = ran.into_report(&mut report.run, signal);
    report
        .warnings
        .extend(batch::not_seen_to_end(&report.run, "backend(s)", "exit"));
    if let Some(log) = plan.log.as_mut() {
        if !log.failed() {
            if let Err(e) = summary_line(log, report) {
                report.run.error.get_or_insert_with(|| format!("{e:#}"));
                failure.get_or_insert(e);
            }
        }
        report.run.log_complete = !log.failed();
    }
    Ok(Executed {
        report: plan.report,
        failure,
        signal,
    })
}
