//! The one place where command-line types become the model's own option structs: below this, nothing
//! knows clap.

use crate::activity::Filter;
use crate::analysis::{Grouping, Thresholds};

use crate::db::ConnOptions;

use crate::commands::advise::AdviseRequest;
use crate::commands::check::{CheckFormat, CheckRequest, CheckRun};
use crate::commands::exporter::{ExporterRequest, LogLevel};
use crate::commands::kill::{self, KillRequest};
use crate::commands::rescue::RescueRequest;
use crate::commands::sandbox::SandboxRequest;
use crate::commands::sessions::SessionsRequest;
use crate::commands::status::{StatusFormat, StatusRequest};
use crate::commands::tune::presets::TunePreset;
use crate::commands::tune::show::TuneShowRequest;
use crate::commands::tune::{
    scope_of, TuneApply, TuneResetRequest, TuneSetRequest, TuneUndoRequest,
};
use crate::commands::watch::WatchRequest;
use crate::exit::refuse;
use crate::report::kill::Action;
use crate::report::rescue::Selection;

use crate::report::State;

use super::{ConnArgs, FilterArgs, GroupArgs, OutputArgs, StateArg};

impl From<(&ConnArgs, &OutputArgs)> for ConnOptions {
    fn from((c, o): (&ConnArgs, &OutputArgs)) -> ConnOptions {
        ConnOptions {
            host: c.host.clone(),
            port: c.port.clone(),
            username: c.username.clone(),
            dbname: c.dbname.clone(),
            service: c.service.clone(),
            password_prompt: c.password_prompt,
            connect_timeout: c.connect_timeout,
            targets: c.targets.clone(),
            jobs: c.jobs,
            target_timeout: c.target_timeout,
            show_sql: o.show_sql,
            break_glass: c.break_glass.map(Into::into).unwrap_or_default(),
            fallback_user: c.fallback_user.clone(),
            platform: c.platform.clone(),
        }
    }
}

impl From<super::UnreachableState> for crate::report::Level {
    fn from(u: super::UnreachableState) -> Self {
        match u {
            super::UnreachableState::Critical => crate::report::Level::Critical,
            super::UnreachableState::Unknown => crate::report::Level::Unknown,
        }
    }
}

impl From<StateArg> for State {
    fn from(s: StateArg) -> State {
        match s {
            StateArg::Active => State::Active,
            StateArg::Idle => State::Idle,
            StateArg::IdleInTransaction => State::IdleInTransaction,
            StateArg::IdleInTransactionAborted => State::IdleInTransactionAborted,
            StateArg::Fastpath => State::Fastpath,
            StateArg::Disabled => State::Disabled,
        }
    }
}

impl From<&FilterArgs> for Filter {
    fn from(f: &FilterArgs) -> Filter {
        Filter {
            db: f.db.clone(),
            user: f.user.clone(),
            app: f.app.clone(),
            client: f.client.clone(),
            exclude_db: f.exclude_db.clone(),
            exclude_user: f.exclude_user.clone(),
            exclude_app: f.exclude_app.clone(),
            exclude_client: f.exclude_client.clone(),
            ..Filter::default()
        }
    }
}

impl From<&super::Thresholds> for Thresholds {
    fn from(t: &super::Thresholds) -> Thresholds {
        Thresholds {
            warn_used: t.warn_used,
            crit_used: t.crit_used,
            idle_in_transaction_age: t.idle_in_transaction_age,
            leak_idle_age: t.leak.leak_idle_age,
            leak_min_sessions: t.leak.leak_min_sessions,
            leak_share: t.leak.leak_share,
            storm_share: t.storm_share,
        }
    }
}

/// The thresholds of the status report `check` judges: status's defaults, with check's leak rule
/// options (the rest of status's verdict thresholds are check's own -w/-c and idle options).
impl From<&super::CheckArgs> for Thresholds {
    fn from(a: &super::CheckArgs) -> Thresholds {
        Thresholds {
            leak_idle_age: a.leak.leak_idle_age,
            leak_min_sessions: a.leak.leak_min_sessions,
            leak_share: a.leak.leak_share,
            ..Thresholds::default()
        }
    }
}

impl From<super::CheckFormat> for CheckFormat {
    fn from(f: super::CheckFormat) -> Self {
        match f {
            super::CheckFormat::Nagios => CheckFormat::Nagios,
            super::CheckFormat::Json => CheckFormat::Json,
            super::CheckFormat::Prometheus => CheckFormat::Prometheus,
        }
    }
}

/// `check`'s request; a usage error (`--json` with another `--format`, thresholds that contradict
/// each other) is the plugin's UNKNOWN, in the format asked for when that much is known.
pub fn check_request(a: &super::CheckArgs, out: &OutputArgs) -> Result<CheckRequest, CheckRun> {
    let format = match format_or_json(a.format, out.json, super::CheckFormat::Json) {
        Ok(f) => f.map_or(CheckFormat::Nagios, Into::into),
        Err(message) => {
            return Err(CheckRun::Unknown {
                format: CheckFormat::Nagios,
                message: message.into(),
            })
        }
    };
    // Inconsistent thresholds are a usage error: UNKNOWN before anything is asked of a server.
    if let Err(message) = a.validate() {
        return Err(CheckRun::Unknown { format, message });
    }
    Ok(CheckRequest {
        warning: a.warning,
        critical: a.critical,
        idle_warning: a.idle_warning,
        idle_critical: a.idle_critical,
        idle_age: a.idle_age,
        idle_in_transaction_warning: a.idle_in_transaction_warning,
        idle_in_transaction_critical: a.idle_in_transaction_critical,
        unreachable: a.unreachable.into(),
        timeout: a.timeout,
        format,
        output: a.output.clone(),
        filter: Filter::from(&a.filters),
        thresholds: Thresholds::from(a),
    })
}

impl TryFrom<&super::RescueArgs> for RescueRequest {
    type Error = anyhow::Error;

    /// The request of the command line (`$PGDATA` when neither --pgdata nor --pid is given); `--app`
    /// is refused: titles do not carry application_name.
    fn try_from(a: &super::RescueArgs) -> anyhow::Result<RescueRequest> {
        let f = &a.filters;
        if !f.app.is_empty() || !f.exclude_app.is_empty() {
            return Err(crate::exit::refuse(
                "rescue cannot select by application: process titles do not carry application_name; \
                 select with --user, --db or --client (or use `pgconn kill-idle --app ...` when a \
                 connection gets in)",
            ));
        }
        let states: Vec<super::StateArg> = if a.state.is_empty() {
            vec![super::StateArg::Idle]
        } else {
            a.state.clone()
        };
        let pgdata = a.pgdata.clone().or_else(|| {
            a.postmaster_pid
                .is_none()
                .then(|| std::env::var_os("PGDATA"))
                .flatten()
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from)
        });
        Ok(RescueRequest {
            pgdata,
            postmaster_pid: a.postmaster_pid,
            selection: Selection {
                states: states.iter().map(|&s| State::from(s)).collect(),
                db: f.db.clone(),
                user: f.user.clone(),
                client: f.client.clone(),
                exclude_db: f.exclude_db.clone(),
                exclude_user: f.exclude_user.clone(),
                exclude_client: f.exclude_client.clone(),
                connected_longer_than_seconds: a.connected_longer_than.map(|d| d.as_secs_f64()),
                keep: a.keep,
                max: a.max,
                all: a.all,
                trust_titles: a.trust_titles,
            },
            dry_run: a.safety.dry_run,
            yes: a.safety.yes,
            wait: a.safety.wait,
            log: a.safety.log.clone(),
        })
    }
}

/// The format `--format` and `--json` ask for together: `--json` is `--format json` for short, so the
/// two only when they agree; none when neither is given.
fn format_or_json<F: Copy + PartialEq>(
    given: Option<F>,
    json_flag: bool,
    json: F,
) -> Result<Option<F>, &'static str> {
    match (given, json_flag) {
        (Some(f), true) if f != json => {
            Err("--json is short for --format json; give one or the other")
        }
        (None, true) => Ok(Some(json)),
        (given, _) => Ok(given),
    }
}

/// `status`'s request. `--json` is `--format json` for short: the two together only when they agree.
pub fn status_request(a: &super::StatusArgs, out: &OutputArgs) -> anyhow::Result<StatusRequest> {
    a.thresholds.validate().map_err(refuse)?;
    let format = format_or_json(a.format, out.json, super::StatusFormat::Json).map_err(refuse)?;
    Ok(StatusRequest {
        filter: Filter::from(&a.filters),
        grouping: Grouping::from(&a.group),
        thresholds: Thresholds::from(&a.thresholds),
        pgbouncer: a.pgbouncer.clone(),
        format: format.map(Into::into),
        output: a.output.clone(),
        // Read anyway for Prometheus text; a table or JSON has no use for them.
        session_counters: false,
        // For Prometheus only when asked: the statement id is a label of its own.
        leak_statements: format != Some(super::StatusFormat::Prometheus) || a.leak_statement_metric,
    })
}

impl From<super::StatusFormat> for StatusFormat {
    fn from(f: super::StatusFormat) -> Self {
        match f {
            super::StatusFormat::Table => StatusFormat::Table,
            super::StatusFormat::Json => StatusFormat::Json,
            super::StatusFormat::Prometheus => StatusFormat::Prometheus,
        }
    }
}

/// `exporter`'s request. `--break-glass auto|always` is refused: a scraper never takes the WAL sender
/// slots a standby may need.
pub fn exporter_request(
    a: &super::ExporterArgs,
    conn: &ConnArgs,
) -> anyhow::Result<ExporterRequest> {
    if let Some(b) = conn.break_glass {
        if b != super::common::BreakGlassArg::Never {
            return Err(refuse(
                "exporter never takes the WAL sender route: --break-glass auto and always are refused (a scrape of a full server is pg_up 0 with kind=\"full\"); nothing was started",
            ));
        }
    }
    if conn.password_prompt {
        return Err(refuse(
            "exporter never asks for a password: -W is refused; give it in ~/.pgpass, PGPASSFILE or a service file; nothing was started",
        ));
    }
    let d = ExporterRequest::default();
    let mut status = d.status.clone();
    if a.metrics_by.contains(&super::MetricsBy::Client) {
        status
            .grouping
            .by
            .push(crate::report::status::GroupKey::Client);
    }
    Ok(ExporterRequest {
        listen: if a.listen.is_empty() {
            d.listen
        } else {
            a.listen.clone()
        },
        target_timeout: conn.target_timeout.unwrap_or(d.target_timeout),
        timeout_offset: a.timeout_offset,
        jobs: conn.jobs.unwrap_or(d.jobs).max(1),
        status,
        web_config: a.web_config_file.clone(),
        log_level: match a.log_level {
            super::LogLevelArg::Error => LogLevel::Error,
            super::LogLevelArg::Warning => LogLevel::Warn,
            super::LogLevelArg::Info => LogLevel::Info,
            super::LogLevelArg::Debug => LogLevel::Debug,
        },
    })
}

/// The filter of `sessions`, `kill` and `kill-idle`: the shared filters and the states.
fn with_states(f: &FilterArgs, states: &[super::StateArg]) -> Filter {
    Filter::from(f).with_states(states.iter().map(|&s| State::from(s)))
}

impl From<&super::SessionsArgs> for SessionsRequest {
    /// `--idle-longer-than` alone means the idle states; `--limit 0` is no limit.
    fn from(a: &super::SessionsArgs) -> Self {
        SessionsRequest {
            filter: with_states(&a.filters, &a.state).idle_longer_than(a.idle_longer_than),
            limit: (a.limit > 0).then_some(a.limit),
            pgbouncer: a.pgbouncer.clone(),
            processes: a.processes,
            blocked: a.blocked,
            by_statement: a.by_statement,
        }
    }
}

impl TryFrom<&super::WatchArgs> for WatchRequest {
    type Error = anyhow::Error;

    fn try_from(a: &super::WatchArgs) -> anyhow::Result<Self> {
        a.thresholds.validate().map_err(refuse)?;
        Ok(WatchRequest {
            interval: a.interval,
            count: a.count,
            record: a.record.clone(),
            status: StatusRequest {
                filter: Filter::from(&a.filters),
                grouping: Grouping::from(&a.group),
                thresholds: Thresholds::from(&a.thresholds),
                // Sessions started and ended between samples (PostgreSQL 14+).
                session_counters: true,
                leak_statements: false,
                ..StatusRequest::default()
            },
        })
    }
}

impl TryFrom<&super::AdviseArgs> for AdviseRequest {
    type Error = anyhow::Error;

    fn try_from(a: &super::AdviseArgs) -> anyhow::Result<Self> {
        a.thresholds.validate().map_err(refuse)?;
        if !a.headroom.is_finite() || !(0.0..100.0).contains(&a.headroom) {
            return Err(refuse(format!(
                "--headroom {} is not a percent from 0 to below 100",
                a.headroom
            )));
        }
        Ok(AdviseRequest {
            filter: Filter::from(&a.filters),
            thresholds: Thresholds::from(&a.thresholds),
            pgbouncer: a.pgbouncer.clone(),
            headroom: a.headroom,
            rate_window: a.rate_window,
            samples: a.samples,
            interval: a.interval,
            from: a.from.clone(),
        })
    }
}

impl From<&super::KillSafety> for kill::KillSafety {
    fn from(s: &super::KillSafety) -> Self {
        kill::KillSafety {
            dry_run: s.dry_run,
            yes: s.yes,
            include_superusers: s.include_superusers,
            include_provider: s.include_provider,
            provider_roles: Vec::new(),
            protect_app: s.protect_app.clone(),
            protect_user: s.protect_user.clone(),
            include_listeners: s.include_listeners,
            include_lock_holders: s.include_lock_holders,
            include_temp_holders: s.include_temp_holders,
            pgbouncer: s.pgbouncer.clone(),
            include_pooler: s.include_pooler,
            if_more_than: s.if_more_than,
            keep: s.keep,
            max: s.max,
            wait: s.wait,
            log: s.log.clone(),
            log_queries: s.log_queries,
            quiet: s.quiet,
            batch_size: s.batch_size,
        }
    }
}

impl From<&super::KillIdleArgs> for KillRequest {
    /// Sessions in the given states (idle by default) for longer than --older-than.
    fn from(a: &super::KillIdleArgs) -> Self {
        let states = if a.state.is_empty() {
            &[super::StateArg::Idle][..]
        } else {
            &a.state[..]
        };
        let mut filter = with_states(&a.filters, states);
        filter.state_older_than = Some(a.older_than);
        KillRequest {
            filter,
            action: Action::Terminate,
            safety: (&a.safety).into(),
            blockers: false,
        }
    }
}

impl TryFrom<&super::KillArgs> for KillRequest {
    type Error = anyhow::Error;

    /// Refused when the command line names no sessions (and no --all), and for `--blockers` with what
    /// makes no sense for a head blocker (`--all`, `--cancel`, `--keep`).
    fn try_from(a: &super::KillArgs) -> anyhow::Result<Self> {
        let f = &a.filters;
        if a.blockers {
            if a.all {
                return Err(refuse(
                    "--blockers selects the head blockers and --all every client session: give one of them \
                     (the filters narrow --blockers' heads)",
                ));
            }
            if a.cancel {
                return Err(refuse(
                    "--blockers terminates: cancelling a head blocker's query leaves its transaction open \
                     (aborted) and its locks held until its client rolls back; drop --cancel",
                ));
            }
            if a.safety.keep.is_some() {
                return Err(refuse(
                    "--blockers with --keep: --keep leaves sessions of each (database, user, application) \
                     alone, and a kept head blocker keeps every session behind it waiting; drop --keep (--protect-app and \
                     --protect-user spare the sessions that must stay)",
                ));
            }
        }
        let selects = a.blockers
            || !a.pid.is_empty()
            || !a.state.is_empty()
            || a.running_longer_than.is_some()
            || a.idle_longer_than.is_some()
            || !f.db.is_empty()
            || !f.user.is_empty()
            || !f.app.is_empty()
            || !f.client.is_empty();
        if !selects && !a.all {
            return Err(refuse(
                "say which sessions: --pid, --state, --running-longer-than, --idle-longer-than, a \
                 filter (--db, --user, --app, --client), --blockers for the heads of chains of sessions \
                 waiting on a lock, or --all for every client session but pgconn's own",
            ));
        }
        let mut filter = with_states(f, &a.state).idle_longer_than(a.idle_longer_than);
        filter.pids = a.pid.clone();
        filter.running_longer_than = a.running_longer_than;
        Ok(KillRequest {
            filter,
            action: if a.cancel {
                Action::Cancel
            } else {
                Action::Terminate
            },
            safety: (&a.safety).into(),
            blockers: a.blockers,
        })
    }
}

impl From<&super::TuneShowArgs> for TuneShowRequest {
    fn from(a: &super::TuneShowArgs) -> Self {
        TuneShowRequest {
            database: a.database.clone(),
            role: a.role.clone(),
        }
    }
}

impl From<&super::TuneApplyArgs> for TuneApply {
    fn from(a: &super::TuneApplyArgs) -> Self {
        TuneApply {
            yes: a.yes,
            dry_run: a.dry_run,
            history: a.history.clone(),
        }
    }
}

impl From<super::TunePreset> for TunePreset {
    fn from(p: super::TunePreset) -> Self {
        match p {
            super::TunePreset::LeakGuard => TunePreset::LeakGuard,
            super::TunePreset::Runbook => TunePreset::Runbook,
        }
    }
}

/// The scope of a change: `--in-database` is the database of `--role ROLE --in-database DB`.
fn tune_scope(a: &super::TuneScopeArgs) -> anyhow::Result<crate::report::tune::Scope> {
    let database = a.database.as_deref().or(a.in_database.as_deref());
    scope_of(database, a.role.as_deref(), a.system)
}

impl TryFrom<&super::TuneSetArgs> for TuneSetRequest {
    type Error = anyhow::Error;

    fn try_from(a: &super::TuneSetArgs) -> anyhow::Result<Self> {
        Ok(TuneSetRequest::new(
            tune_scope(&a.scope)?,
            a.pairs.clone(),
            a.preset.map(Into::into),
            (&a.apply).into(),
        )?
        .with_instance_memory(a.instance_memory))
    }
}

impl TryFrom<&super::TuneResetArgs> for TuneResetRequest {
    type Error = anyhow::Error;

    fn try_from(a: &super::TuneResetArgs) -> anyhow::Result<Self> {
        TuneResetRequest::new(
            tune_scope(&a.scope)?,
            a.names.clone(),
            a.all,
            (&a.apply).into(),
        )
    }
}

impl From<&super::TuneUndoArgs> for TuneUndoRequest {
    fn from(a: &super::TuneUndoArgs) -> Self {
        TuneUndoRequest {
            force: a.force,
            apply: (&a.apply).into(),
        }
    }
}

impl From<&super::SandboxArgs> for SandboxRequest {
    fn from(a: &super::SandboxArgs) -> Self {
        SandboxRequest {
            leak: a.leak,
            active: a.active,
            idle_in_transaction: a.idle_in_transaction,
            max_connections: a.max_connections,
            fill: a.fill,
            args: a.args.clone(),
        }
    }
}

impl From<&GroupArgs> for Grouping {
    fn from(g: &GroupArgs) -> Grouping {
        Grouping {
            by: g.by.clone(),
            top: g.top,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{try_parse_from, Command};

    /// The model's defaults are the command line's: `status` with no option gives exactly them, and
    /// the Default of the shared argument structs is that too.
    #[test]
    fn defaults_are_the_same_on_both_sides() {
        let cli = try_parse_from(["pgconn", "status"]).unwrap();
        let Command::Status(a) = cli.command else {
            panic!("not status")
        };
        assert_eq!(Thresholds::from(&a.thresholds), Thresholds::default());
        assert_eq!(Grouping::from(&a.group), Grouping::default());
        assert_eq!(
            Thresholds::from(&super::super::Thresholds::default()),
            Thresholds::default()
        );
        assert_eq!(Grouping::from(&GroupArgs::default()), Grouping::default());
        // check's leak rule is status's.
        let cli = try_parse_from(["pgconn", "check"]).unwrap();
        let Command::Check(a) = cli.command else {
            panic!("not check")
        };
        assert_eq!(Thresholds::from(&a), Thresholds::default());
    }

    /// A request's Default is its command line's defaults (with `yes`, for kill: a caller that builds a
    /// request has decided).
    #[test]
    fn request_defaults_are_the_command_lines() {
        let cli = try_parse_from(["pgconn", "kill-idle", "--older-than", "1m"]).unwrap();
        let Command::KillIdle(a) = cli.command else {
            panic!("not kill-idle")
        };
        let d = kill::KillSafety::default();
        assert!(d.yes && !a.safety.yes);
        assert_eq!(
            format!("{:?}", kill::KillSafety { yes: false, ..d }),
            format!("{:?}", kill::KillSafety::from(&a.safety))
        );
        assert_eq!(a.safety.wait, std::time::Duration::from_secs(5));
        assert_eq!(a.safety.batch_size, 1000);

        let out = OutputArgs::default();
        let parsed = |args: &[&str]| try_parse_from(args.iter().copied()).unwrap().command;
        let Command::Check(a) = parsed(&["pgconn", "check"]) else {
            panic!()
        };
        let Ok(req) = check_request(&a, &out) else {
            panic!("check's defaults are a valid request")
        };
        assert_eq!(req, CheckRequest::default());
        let Command::Watch(a) = parsed(&["pgconn", "watch"]) else {
            panic!()
        };
        assert_eq!(
            format!("{:?}", WatchRequest::try_from(&a).unwrap()),
            format!("{:?}", WatchRequest::default())
        );
        let Command::Advise(a) = parsed(&["pgconn", "advise"]) else {
            panic!()
        };
        assert_eq!(
            format!("{:?}", AdviseRequest::try_from(&a).unwrap()),
            format!("{:?}", AdviseRequest::default())
        );
        let Command::Sandbox(a) = parsed(&["pgconn", "sandbox"]) else {
            panic!()
        };
        assert_eq!(
            format!("{:?}", SandboxRequest::from(&a)),
            format!("{:?}", SandboxRequest::default())
        );
        let Command::Status(a) = parsed(&["pgconn", "status"]) else {
            panic!()
        };
        assert_eq!(
            format!("{:?}", status_request(&a, &out).unwrap()),
            format!("{:?}", StatusRequest::default())
        );
        let Command::Sessions(a) = parsed(&["pgconn", "sessions"]) else {
            panic!()
        };
        assert_eq!(
            format!("{:?}", SessionsRequest::from(&a)),
            format!("{:?}", SessionsRequest::default())
        );
        let cli = try_parse_from(["pgconn", "exporter"]).unwrap();
        let Command::Exporter(a) = &cli.command else {
            panic!()
        };
        assert_eq!(
            format!("{:?}", exporter_request(a, &cli.conn).unwrap()),
            format!("{:?}", ExporterRequest::default())
        );
        let cli = try_parse_from(["pgconn", "exporter", "--metrics-by", "client"]).unwrap();
        let Command::Exporter(a) = &cli.command else {
            panic!()
        };
        assert!(exporter_request(a, &cli.conn)
            .unwrap()
            .status
            .grouping
            .by_client());
    }

    /// check's WARNING age of an idle transaction is status's rule unless told otherwise.
    #[test]
    fn an_old_idle_transaction_warns_by_status_rule_unless_told_otherwise() {
        let parse = |extra: &[&str]| {
            let cli = try_parse_from(["pgconn", "check"].iter().chain(extra)).unwrap();
            let Command::Check(a) = cli.command else {
                unreachable!()
            };
            let Ok(req) = check_request(&a, &OutputArgs::default()) else {
                panic!("a valid request")
            };
            crate::commands::check::idle_in_transaction_warning(&req)
        };
        // status's --idle-in-transaction-age, by default.
        let status = try_parse_from(["pgconn", "status"]).unwrap();
        let Command::Status(st) = status.command else {
            unreachable!()
        };
        let d = std::time::Duration::from_secs;
        assert_eq!(parse(&[]), Some(st.thresholds.idle_in_transaction_age));
        assert_eq!(parse(&[]), Some(d(300)));
        assert_eq!(
            parse(&["--idle-in-transaction-warning", "1min"]),
            Some(d(60))
        );
        // A lower critical decides alone; a higher one keeps the warning.
        assert_eq!(parse(&["--idle-in-transaction-critical", "1min"]), None);
        assert_eq!(
            parse(&["--idle-in-transaction-critical", "10min"]),
            Some(d(300))
        );
    }

    /// `--json` and `--format` together only when they agree, for status and check alike.
    #[test]
    fn json_is_short_for_format_json() {
        let out = OutputArgs {
            json: true,
            ..OutputArgs::default()
        };
        let parsed = |args: &[&str]| try_parse_from(args.iter().copied()).unwrap().command;
        let Command::Status(a) = parsed(&["pgconn", "status", "--format", "prometheus"]) else {
            panic!()
        };
        let e = status_request(&a, &out).unwrap_err();
        assert!(
            e.to_string().contains("--json is short for --format json"),
            "{e}"
        );
        assert_eq!(crate::exit::exit_of(&e), crate::exit::Exit::Usage);
        let Command::Status(a) = parsed(&["pgconn", "status"]) else {
            panic!()
        };
        assert_eq!(
            status_request(&a, &out).unwrap().format,
            Some(StatusFormat::Json)
        );
        let Command::Check(a) = parsed(&["pgconn", "check", "--format", "nagios"]) else {
            panic!()
        };
        let Err(CheckRun::Unknown { format, message }) = check_request(&a, &out) else {
            panic!("UNKNOWN")
        };
        assert_eq!(format, CheckFormat::Nagios);
        assert!(message.contains("--json is short for --format json"));
        let Command::Check(a) = parsed(&["pgconn", "check", "--format", "json"]) else {
            panic!()
        };
        let Ok(req) = check_request(&a, &out) else {
            panic!("they agree")
        };
        assert_eq!(req.format, CheckFormat::Json);
    }

    /// Every preset the command line offers is the preset of that name.
    #[test]
    fn preset_names_match_the_cli() {
        use clap::ValueEnum;
        for v in super::super::TunePreset::value_variants() {
            let name = v.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(crate::commands::tune::presets::get((*v).into()).name, name);
        }
    }
}
