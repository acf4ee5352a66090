//! `pgconn tune` and its actions.

use clap::{Args, Subcommand, ValueEnum};

/// `pgconn tune` alone shows the connection settings (like `tune show`).
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TuneArgs {
    #[command(subcommand)]
    pub action: Option<TuneAction>,

    #[command(flatten)]
    pub show: TuneShowArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TuneAction {
    /// Connection settings: value, unit, source, restart needed, and a recommendation (the default)
    Show(TuneShowArgs),
    /// Set NAME=VALUE for a database, a role or the whole server, after showing the plan
    Set(TuneSetArgs),
    /// Remove settings from a database, a role or the whole server, after showing the plan
    Reset(TuneResetArgs),
    /// Restore what the last tune change on this server replaced
    Undo(TuneUndoArgs),
    /// List the changes recorded in the tune history
    History(TuneHistoryArgs),
    /// List the presets `tune set --preset` knows
    Presets,
}

#[derive(Debug, Clone, Default, Args)]
pub struct TuneShowArgs {
    /// Show the values sessions in this database get, and its connection limit
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,

    /// Show the values sessions of this role get (with --database: of this role in that database), and
    /// its connection limit
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,

    /// Every column in full. Otherwise, on a terminal narrower than the table, RESTART and SOURCE drop
    /// first and long cells are cut with …
    #[arg(short = 'w', long)]
    pub wide: bool,
}

/// Where a change goes: exactly one of --database, --role (optionally --in-database) or --system.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Scope (one is required)")]
#[command(group(clap::ArgGroup::new("tune_scope").required(true).args(["database", "role", "system"])))]
pub struct TuneScopeArgs {
    /// ALTER DATABASE DB SET ...: sessions in this database
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,

    /// ALTER ROLE ROLE SET ...: sessions of this role
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,

    /// With --role: ALTER ROLE ROLE IN DATABASE DB SET ...
    #[arg(long, value_name = "DB", requires = "role")]
    pub in_database: Option<String>,

    /// ALTER SYSTEM SET ... then reload: the whole server. A value PostgreSQL would not start with
    /// (max_connections and the other server-process counts, at their next-start values) is refused
    #[arg(long)]
    pub system: bool,
}

/// Plan, confirmation and history options of tune set / reset / undo.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Plan and confirmation")]
pub struct TuneApplyArgs {
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Show the plan and the exact SQL, change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or
    /// ~/.local/state/pgconn/tune-history.jsonl)
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
}

/// A named set of values for `tune set --preset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TunePreset {
    /// idle_in_transaction_session_timeout 5min, TCP keepalives, client_connection_check_interval
    LeakGuard,
    /// idle_in_transaction_session_timeout 5min, statement_timeout 30s
    Runbook,
}

#[derive(Debug, Clone, Args)]
pub struct TuneSetArgs {
    /// Settings to change, e.g. statement_timeout=30s idle_in_transaction_session_timeout=5m (each name
    /// once). connection_limit=N is the CONNECTION LIMIT of the --database or --role itself (-1: no limit;
    /// DEFAULT, for a database, is -1 too)
    #[arg(value_name = "NAME=VALUE", value_parser = parse_setting_pair)]
    pub pairs: Vec<(String, String)>,

    /// Start from a preset (`pgconn tune presets` lists them); NAME=VALUE pairs win over it
    #[arg(long, value_enum, value_name = "NAME")]
    pub preset: Option<TunePreset>,

    #[command(flatten)]
    pub scope: TuneScopeArgs,

    /// RDS / Aurora with --system: the instance class's memory (e.g. 16GiB; GB is read as GiB), to warn
    /// when max_connections is above RDS's default for it, LEAST(DBInstanceClassMemory/9531392, 5000)
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub instance_memory: Option<u64>,

    #[command(flatten)]
    pub apply: TuneApplyArgs,
}

/// A memory size in bytes: a number with an optional unit B, kB, MB, GB, TB (binary multiples, as
/// PostgreSQL reads them; KiB … TiB too).
pub fn parse_memory(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a memory size (e.g. 16GiB)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "kib" | "k" => 1 << 10,
        "mb" | "mib" | "m" => 1 << 20,
        "gb" | "gib" | "g" => 1 << 30,
        "tb" | "tib" | "t" => 1 << 40,
        _ => {
            return Err(format!(
                "{s:?}: unit must be B, kB, MB, GB or TB (e.g. 16GiB)"
            ))
        }
    };
    let bytes = n * mult as f64;
    if !bytes.is_finite() || !(1.0..=1e18).contains(&bytes) {
        return Err(format!("{s:?} is not a memory size an instance has"));
    }
    Ok(bytes as u64)
}

#[derive(Debug, Clone, Args)]
pub struct TuneResetArgs {
    /// Settings to remove from the scope (connection_limit, which cannot be removed, is set to -1: no
    /// limit)
    #[arg(value_name = "NAME", required_unless_present = "all")]
    pub names: Vec<String>,

    /// Every connection setting (those `tune show` lists) stored in the scope
    #[arg(long, conflicts_with = "names")]
    pub all: bool,

    #[command(flatten)]
    pub scope: TuneScopeArgs,

    #[command(flatten)]
    pub apply: TuneApplyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TuneUndoArgs {
    /// Undo even when the scope no longer stores what pgconn set (someone changed it since); the plan
    /// names both values
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub apply: TuneApplyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TuneHistoryArgs {
    /// History file (default: $XDG_STATE_HOME/pgconn/tune-history.jsonl or
    /// ~/.local/state/pgconn/tune-history.jsonl)
    #[arg(long, value_name = "FILE")]
    pub history: Option<std::path::PathBuf>,
}

/// `NAME=VALUE` of `tune set`; the name is lower-cased (PostgreSQL setting names are case-insensitive).
pub fn parse_setting_pair(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE (e.g. statement_timeout=30s)"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{s:?} has no setting name before '='"));
    }
    Ok((name.to_ascii_lowercase(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_memory;

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("16GiB"), Ok(16 << 30));
        assert_eq!(parse_memory("16GB"), Ok(16 << 30));
        assert_eq!(parse_memory("0.5 GB"), Ok(1 << 29));
        assert_eq!(parse_memory("1048576"), Ok(1 << 20));
        assert!(parse_memory("16XB").is_err());
        assert!(parse_memory("").is_err());
        assert!(parse_memory("0").is_err());
        assert!(parse_memory("1e30").is_err());
    }
}
