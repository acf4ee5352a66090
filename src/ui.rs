//! Talking to the person at the terminal: confirmation prompts and progress bars, on stderr only, and only
//! when there is a terminal. Without one, destructive commands need --yes.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

/// Whether a person can answer a prompt (stdin and stderr are terminals).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask `question` (default no) unless `yes`; without a terminal refuse (exit 2) naming `--yes`.
pub fn confirm(question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !interactive() {
        return Err(crate::refuse(format!(
            "not asking \"{question}\": there is no terminal to answer on; nothing was changed. \
             Pass --yes to proceed without a prompt, or --dry-run to only preview"
        )));
    }
    dialoguer::Confirm::new()
        .with_prompt(crate::render::clean(question))
        .default(false)
        .wait_for_newline(true)
        .interact_on(&dialoguer::console::Term::stderr())
        .context("could not read the answer")
}

/// Quote a word for a POSIX shell only when it needs it (commands and exports pgconn prints for
/// copying).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=@%+-,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}
