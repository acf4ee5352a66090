//! `pgconn rescue`: on the database host, free slots through the operating system when no connection
//! gets in.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::common::{FilterArgs, StateArg};
use super::duration::{parse_age, parse_wait};
use super::kill::idle_states;

#[derive(Debug, Clone, Args)]
pub struct RescueArgs {
    /// The cluster's data directory (its postmaster.pid names the postmaster); default: $PGDATA, else
    /// the only PostgreSQL server running on this machine
    #[arg(
        short = 'D',
        long,
        value_name = "DIR",
        conflicts_with = "postmaster_pid"
    )]
    pub pgdata: Option<PathBuf>,

    /// The postmaster's pid (the first line of postmaster.pid)
    #[arg(long = "pid", value_name = "POSTMASTER_PID")]
    pub postmaster_pid: Option<i32>,

    /// States to act on, as the process titles show them (default: idle); repeat to combine
    #[arg(long, value_parser = idle_states())]
    pub state: Vec<StateArg>,

    /// Only backends connected for longer than this (with a unit: 30s, 5min; from the process start
    /// time; titles carry no idle time)
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub connected_longer_than: Option<Duration>,

    /// Leave the N most recently connected matching backends of each (database, user) alone
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,

    /// Act on at most N backends in this run (the longest connected first)
    #[arg(long, value_name = "N")]
    pub max: Option<usize>,

    /// Take every backend in the selected states: without --user, --db or --client (or this), rescue
    /// refuses and lists the (user, database) groups, since titles cannot tell a pool or an
    /// administrator's session from a leak
    #[arg(long, conflicts_with_all = ["user", "db", "client"])]
    pub all: bool,

    /// Trust a title the kernel cannot confirm (see "Which titles are trusted" below); never one the
    /// kernel contradicts
    #[arg(long)]
    pub trust_titles: bool,

    /// The usual session filters, matched against the titles (`--client` is the address as the title
    /// shows it); `--app` and `--exclude-app` are hidden and refused: titles carry no application_name.
    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten)]
    pub safety: RescueSafety,
}

/// The guards of `rescue` (as `kill`'s).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Safety")]
pub struct RescueSafety {
    /// Show what would be done, signal nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation (needed when there is no terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// How long to wait for signalled backends to exit before reporting them as still there
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_wait)]
    pub wait: Duration,

    /// Append to FILE (created mode 0600) one JSON line per backend before it is signalled, one with
    /// its outcome after, and a summary; nothing is signalled that could not be recorded first. FILE must
    /// be a regular file of this user's (never a link, FIFO or device) in a directory no other user may
    /// change (one with the sticky bit, like /tmp, is fine)
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}
