//! `pgconn completions SHELL`, and the generator of the committed completions/ and man/ files.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap_complete::Shell;

use crate::cli::{self, CompletionsArgs};
use crate::render;

/// A completion script for one shell.
pub fn script(shell: Shell) -> Result<String> {
    let mut cmd = cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pgconn", &mut buf);
    String::from_utf8(buf).context("completion script is not UTF-8")
}

pub fn run(args: &CompletionsArgs) -> Result<ExitCode> {
    render::out_raw(&script(args.shell)?)?;
    Ok(ExitCode::SUCCESS)
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
    let mut root = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut root)?;
    pages.push(("man/pgconn.1".to_string(), root));
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("pgconn-{}", sub.get_name());
        let sub = sub.clone().name(&name).bin_name(name.replace('-', " "));
        let mut buf = Vec::new();
        clap_mangen::Man::new(sub).render(&mut buf)?;
        pages.push((format!("man/{name}.1"), buf));
    }
    files.extend(pages);
    Ok(files)
}

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
