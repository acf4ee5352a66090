//! `pgconn completions SHELL`, and the generator of the committed completions/ and man/ files.

use std::path::Path;

use anyhow::{Context, Result};
use clap_complete::Shell;

use crate::cli;

/// A completion script for one shell.
pub fn script(shell: Shell) -> Result<String> {
    let mut cmd = cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pgconn", &mut buf);
    let script = String::from_utf8(buf).context("completion script is not UTF-8")?;
    Ok(match shell {
        // fish reads an unquoted `?` as a wildcard ("No matches for wildcard '?'" on every TAB), and its
        // argparse takes no `?` short flag: psql's `-?` is quoted where it is offered, and left to the long
        // --help where fish parses the command line.
        Shell::Fish => script
            .replace(" -s ? ", " -s '?' ")
            .replace(" ?/help", " help"),
        _ => script,
    })
}

/// Every generated file (path relative to the project root, contents): completions for each shell and a man
/// page for pgconn and each subcommand.
pub fn generated_files() -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "pgconn.bash"),
        (Shell::Zsh, "_pgconn"),
        (Shell::Fish, "pgconn.fish"),
        (Shell::PowerShell, "_pgconn.ps1"),
        (Shell::Elvish, "pgconn.elv"),
    ] {
        files.push((format!("completions/{name}"), script(shell)?.into_bytes()));
    }
    let cmd = cli::command();
    let mut pages = Vec::new();
    man_pages(&cmd, "pgconn", &mut pages)?;
    files.extend(pages);
    Ok(files)
}

/// A man page for `cmd` (invoked as `invocation`, e.g. `pgconn tune set`) and, recursively, for each of
/// its subcommands, each with EXIT STATUS and ENVIRONMENT sections.
fn man_pages(
    cmd: &clap::Command,
    invocation: &str,
    pages: &mut Vec<(String, Vec<u8>)>,
) -> Result<()> {
    let name = invocation.replace(' ', "-");
    let page = cmd.clone().name(&name).bin_name(invocation);
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    buf.extend_from_slice(exit_status(invocation).as_bytes());
    buf.extend_from_slice(ENVIRONMENT.as_bytes());
    pages.push((format!("man/{name}.1"), buf));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        man_pages(sub, &format!("{invocation} {}", sub.get_name()), pages)?;
    }
    Ok(())
}

/// roff for a list of `code` → meaning.
fn roff_list(heading: &str, items: &[(&str, &str)]) -> String {
    let mut out = format!(".SH \"{heading}\"\n");
    for (term, text) in items {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            term.replace('-', "\\-"),
            text.replace('-', "\\-")
        ));
    }
    out
}

/// The exit codes of one command.
fn exit_status(invocation: &str) -> String {
    let mut items: Vec<(&str, &str)> = if invocation == "pgconn check" {
        vec![
            ("0", "OK"),
            ("1", "WARNING"),
            ("2", "CRITICAL (also: the server is full, or unreachable unless --unreachable unknown)"),
            ("3", "UNKNOWN: the check could not tell (authentication, a missing database, a failing query), or a usage error"),
        ]
    } else {
        vec![
            ("0", "Success, also a dry run or nothing to do."),
            ("1", "A runtime failure: cannot connect, an SQL error, a session denied, failed or unknown, an audit log or tune history that cannot be written, nothing to undo."),
            ("2", "A usage error, an invalid value or connection option, or a refusal: no terminal to ask on and no --yes, the answer was no (or end of input), an undo of a value changed since (without --force)."),
        ]
    };
    if matches!(invocation, "pgconn" | "pgconn kill" | "pgconn kill-idle") {
        items.push((
            "129, 130, 143",
            "kill and kill-idle stopped by SIGHUP, SIGINT or SIGTERM, after finishing and recording the batch in flight.",
        ));
    }
    roff_list("EXIT STATUS", &items)
}

/// The environment every command reads (libpq's variables, as psql does), and pgconn's own.
static ENVIRONMENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    roff_list(
        "ENVIRONMENT",
        &[
            ("PGHOST, PGHOSTADDR, PGPORT", "Where the server is, as for psql. With no host anywhere: the socket directory /var/run/postgresql only."),
            ("PGUSER, PGDATABASE", "Role and database."),
            ("PGPASSWORD, PGPASSFILE", "The password, or the password file (default ~/.pgpass)."),
            ("PGSERVICE, PGSERVICEFILE, PGSYSCONFDIR", "A connection service and where pg_service.conf files are."),
            ("PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY", "TLS, with libpq's meaning."),
            ("PGCONNECT_TIMEOUT, PGAPPNAME, PGOPTIONS", "Connection timeout, application_name and server options."),
            ("NO_COLOR, TERM", "No colour when NO_COLOR is set or TERM is dumb (with --color auto)."),
            ("XDG_STATE_HOME, HOME", "Where the tune history lives (XDG_STATE_HOME/pgconn or ~/.local/state/pgconn)."),
            ("PGCONN_PGBIN", "The directory of initdb, pg_ctl and postgres for pgconn sandbox."),
        ],
    )
});

/// Write the generated files under `root` (`UPDATE_DOCS=1 cargo test --test docs` calls this).
pub fn write_generated(root: &Path) -> Result<()> {
    for (rel, contents) in generated_files()? {
        let path = root.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
