//! The one place where command-line types become the model's own option structs: below this, nothing
//! knows clap.

use crate::activity::Filter;
use crate::analysis::{Grouping, Thresholds};

use crate::db::ConnOptions;

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

    /// KillSafety's Default is kill-idle's command-line safety options, with --yes.
    #[test]
    fn kill_safety_default_is_the_command_line_with_yes() {
        let cli = try_parse_from(["pgconn", "kill-idle", "--older-than", "1m"]).unwrap();
        let Command::KillIdle(a) = cli.command else {
            panic!("not kill-idle")
        };
        let d = crate::cli::KillSafety::default();
        assert!(d.yes && !a.safety.yes);
        assert_eq!(
            format!("{:?}", crate::cli::KillSafety { yes: false, ..d }),
            format!("{:?}", a.safety)
        );
        assert_eq!(a.safety.wait, std::time::Duration::from_secs(5));
        assert_eq!(a.safety.batch_size, 1000);
    }
}
