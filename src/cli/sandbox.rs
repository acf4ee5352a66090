//! `pgconn sandbox` and `pgconn completions`.

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Idle sessions of application `leaky-worker` to leave open
    #[arg(long, default_value_t = 40, value_name = "N")]
    pub leak: usize,

    /// Sessions running a long query
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub active: usize,

    /// Sessions left idle in transaction
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub idle_in_transaction: usize,

    /// max_connections of the sandbox server
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_connections: u32,

    /// Then fill the server completely, to rehearse an outage: more leaky-worker sessions until ordinary
    /// roles are refused, then superuser sessions of runaway-admin until superusers are refused too
    /// ("sorry, too many clients already"). pgconn still gets in through a WAL sender slot
    #[arg(long)]
    pub fill: bool,

    /// Run `pgconn ARGS...` against the sandbox, then remove it
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
