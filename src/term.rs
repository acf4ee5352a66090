//! Talking to the person at the terminal, on stderr: prompts and progress bars (only when there is a
//! terminal; without one, destructive commands need --yes), warnings, notes, errors and the --show-sql
//! echo. The only writer of stderr for people; stdout carries data only (see `render`).

use std::io::IsTerminal;

use std::io::Write;

use anyhow::{Context, Result};

use crate::text::{clean, clean_lines, terminal_safe};
use indicatif::{ProgressBar, ProgressStyle};

/// Whether a person can answer a prompt (stdin and stderr are terminals).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask for a password on the terminal, without echo (an empty one is allowed, as psql allows it).
pub fn password(prompt: &str) -> Result<String> {
    dialoguer::Password::new()
        .with_prompt(clean(prompt).into_owned())
        .allow_empty_password(true)
        .interact()
        .context("could not read the password")
}

/// Ask `question` (default no) unless `yes`; without a terminal refuse (exit 2) naming `--yes`. Only `y` or
/// `yes` (any case) is a yes; an empty line, anything else, and end of input (Ctrl-D) are a no.
pub fn confirm(question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !interactive() {
        return Err(crate::exit::refuse(format!(
            "not asking \"{question}\": there is no terminal to answer on; nothing was changed. \
             Pass --yes to proceed without a prompt, or --dry-run to only preview"
        )));
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{} [y/N] ", clean(question))
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

/// A progress bar when `shown` (work that takes more than one step), hidden otherwise.
pub fn progress_if(shown: bool, len: u64, what: &str) -> ProgressBar {
    if shown {
        progress(len, what)
    } else {
        ProgressBar::hidden()
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

/// Warnings, one line each: `pgconn: warning: ...`.
pub fn warnings(warnings: &[String]) {
    for w in warnings {
        warning(w);
    }
}

/// One warning: `pgconn: warning: ...`, its text cleaned (it may carry names from the server).
pub fn warning(text: &str) {
    eprintln!("pgconn: warning: {}", clean(text));
}

/// An error that does not end the run (one failed target of several): `pgconn: error: ...`.
pub fn error(text: &str) {
    eprintln!("pgconn: error: {}", clean(text));
}

/// The error that ends the run, as main prints it: the whole chain, each line cleaned.
pub fn fatal(err: &anyhow::Error) {
    eprintln!("pgconn: error: {}", clean_lines(&format!("{err:#}")));
}

/// A note for the person: `pgconn: ...` (what happened, what was not done).
pub fn note(text: &str) {
    eprintln!("pgconn: {}", clean(text));
}

/// A line as it is (pgconn's own words, e.g. the sandbox's progress).
pub fn say(text: &str) {
    eprintln!("{text}");
}

/// Text already laid out by render (a plan shown before its prompt when stdout cannot show it).
pub fn show(text: &str) {
    eprint!("{}", terminal_safe(text));
}

/// The `--show-sql` echo of a statement about to be sent (secrets already removed by the caller).
pub fn echo_sql(text: &str) {
    eprintln!("{text}");
}
