//! Talking to the person at the terminal: confirmation prompts and progress bars, on stderr only, and only
//! when there is a terminal. Without one, destructive commands need --yes.

use std::io::IsTerminal;

use std::io::Write;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

/// Whether a person can answer a prompt (stdin and stderr are terminals).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask `question` (default no) unless `yes`; without a terminal refuse (exit 2) naming `--yes`. Only `y` or
/// `yes` (any case) is a yes; an empty line, anything else, and end of input (Ctrl-D) are a no.
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
    let mut err = std::io::stderr().lock();
    write!(err, "{} [y/N] ", crate::render::clean(question))
        .and_then(|_| err.flush())
        .context("could not ask")?;
    drop(err);
    let mut answer = String::new();
    let read = std::io::stdin()
        .read_line(&mut answer)
        .context("could not read the answer")?;
    if read == 0 {
        // End of input: no answer is a no. The newline the terminal did not echo keeps the next line clean.
        eprintln!();
        return Ok(false);
    }
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
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
