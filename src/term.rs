//! Talking to the person at the terminal, on stderr: prompts and progress bars (only when there is a
//! terminal; without one, destructive commands need --yes), warnings, notes, errors and the --show-sql
//! echo. The only writer of stderr for people; stdout carries data only (see `render`).

use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use crossterm::{cursor, queue, terminal};
use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};

use crate::text::{clean, clean_lines, terminal_safe};

/// Whether a person can answer a prompt (stdin and stderr are terminals).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask for a password on the terminal, without echo (an empty one is allowed, as psql allows it). The
/// line then reads `<prompt>: [hidden]`, so the screen shows that it was asked and answered.
pub fn password(prompt: &str) -> Result<String> {
    read_password(prompt).context("could not read the password")
}

fn read_password(prompt: &str) -> Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() || !std::io::stderr().is_terminal() {
        return Err(anyhow!("not a terminal"));
    }
    let mut err = std::io::stderr().lock();
    // The echo goes off before the prompt is shown, as getpass(3) does: switching it off discards what
    // was typed before, so a password typed as soon as the prompt appears is never lost.
    let before = tcgetattr(&stdin)?;
    let mut quiet = before.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&stdin, OptionalActions::Flush, &quiet)?;
    let shown = write!(err, "{}: ", clean(prompt)).and_then(|_| err.flush());
    let mut line = String::new();
    let read = match shown {
        Ok(()) => stdin.lock().read_line(&mut line).map(drop),
        Err(e) => Err(e),
    };
    // The echo comes back whatever the read gave, and what is typed next is kept.
    let restored = tcsetattr(&stdin, OptionalActions::Now, &before);
    // The Enter that ended the line was not echoed either.
    let _ = writeln!(err, "[hidden]");
    read?;
    restored?;
    let len = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(len);
    Ok(line)
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
        to_stderr(format_args!("\n"));
        return Ok(false);
    }
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// A progress bar when `shown` (work that takes more than one step), hidden otherwise.
pub fn progress_if(shown: bool, len: u64, what: &str) -> Progress {
    if shown {
        progress(len, what)
    } else {
        Progress::hidden()
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub fn progress(len: u64, what: &str) -> Progress {
    if !std::io::stderr().is_terminal() {
        return Progress::hidden();
    }
    Progress {
        bar: Some(RefCell::new(Bar {
            what: clean(what).into_owned(),
            len,
            pos: 0,
            start: Instant::now(),
            drawn: None,
        })),
    }
}

/// One line on stderr, `what [=====>    ] 12/40 (3s)`, redrawn in place as the work goes on and
/// erased when it ends, so that what is printed next starts on a clean line.
pub struct Progress {
    bar: Option<RefCell<Bar>>,
}

struct Bar {
    what: String,
    len: u64,
    pos: u64,
    start: Instant,
    /// When the line was last drawn: at most ten times a second, as a terminal can follow.
    drawn: Option<Instant>,
}

impl Progress {
    /// A bar that draws nothing.
    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    /// Move the bar to `pos` of its length.
    pub fn set_position(&self, pos: u64) {
        let Some(bar) = &self.bar else { return };
        let mut bar = bar.borrow_mut();
        bar.pos = pos.min(bar.len);
        let due = bar
            .drawn
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if due || bar.pos == bar.len {
            bar.drawn = Some(Instant::now());
            let line = bar.line();
            let width = terminal::size().map_or(80, |(w, _)| usize::from(w));
            let line: String = line.chars().take(width.saturating_sub(1)).collect();
            let mut err = std::io::stderr().lock();
            let _ = queue!(
                err,
                cursor::MoveToColumn(0),
                terminal::Clear(terminal::ClearType::CurrentLine)
            );
            let _ = write!(err, "{line}").and_then(|_| err.flush());
        }
    }

    /// Erase the bar's line.
    pub fn finish_and_clear(&self) {
        let Some(bar) = &self.bar else { return };
        let mut bar = bar.borrow_mut();
        if bar.drawn.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = queue!(
                err,
                cursor::MoveToColumn(0),
                terminal::Clear(terminal::ClearType::CurrentLine)
            );
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    /// A run that ends with an error leaves no half-drawn bar in front of the error's line.
    fn drop(&mut self) {
        self.finish_and_clear();
    }
}

impl Bar {
    fn line(&self) -> String {
        const WIDTH: u64 = 30;
        // (Nothing to do is all done.)
        let done = (self.pos * WIDTH).checked_div(self.len).unwrap_or(WIDTH);
        let mut bar = "=".repeat(done as usize);
        if done < WIDTH {
            bar.push('>');
            bar.push_str(&" ".repeat((WIDTH - done - 1) as usize));
        }
        let secs = self.start.elapsed().as_secs();
        let elapsed = if secs < 60 {
            format!("{secs}s")
        } else {
            format!("{}m{:02}s", secs / 60, secs % 60)
        };
        format!(
            "{} [{bar}] {}/{} ({elapsed})",
            self.what, self.pos, self.len
        )
    }
}

/// Warnings, one line each: `pgconn: warning: ...`.
pub fn warnings(warnings: &[String]) {
    for w in warnings {
        warning(w);
    }
}

/// One warning: `pgconn: warning: ...`, its text cleaned (it may carry names from the server).
pub fn warning(text: &str) {
    to_stderr(format_args!("pgconn: warning: {}\n", clean(text)));
}

/// An error that does not end the run (one failed target of several): `pgconn: error: ...`.
pub fn error(text: &str) {
    to_stderr(format_args!("pgconn: error: {}\n", clean(text)));
}

/// The error that ends the run, as main prints it: the whole chain, each line cleaned.
pub fn fatal(err: &anyhow::Error) {
    to_stderr(format_args!(
        "pgconn: error: {}\n",
        clean_lines(&format!("{err:#}"))
    ));
}

/// A note for the person: `pgconn: ...` (what happened, what was not done).
pub fn note(text: &str) {
    to_stderr(format_args!("pgconn: {}\n", clean(text)));
}

/// A line of a long-running process's log (the exporter's): `pgconn: LEVEL: ...`, its text cleaned.
pub fn log(level: &str, text: &str) {
    to_stderr(format_args!("pgconn: {level}: {}\n", clean(text)));
}

/// A line as it is (pgconn's own words, e.g. the sandbox's progress).
pub fn say(text: &str) {
    to_stderr(format_args!("{text}\n"));
}

/// Text already laid out by render (a plan shown before its prompt when stdout cannot show it).
pub fn show(text: &str) {
    to_stderr(format_args!("{}", terminal_safe(text)));
}

/// The `--show-sql` echo of a statement about to be sent (secrets already removed by the caller).
pub fn echo_sql(text: &str) {
    to_stderr(format_args!("{text}\n"));
}

/// Everything written to stderr for people goes through here, and a failed write is ignored: a stderr
/// that is closed, a full disk or a pipe whose reader has gone must not turn a warning into a panic
/// (eprintln! panics then, exit 101), while the exit code still tells what happened.
fn to_stderr(text: std::fmt::Arguments) {
    let _ = std::io::stderr().lock().write_fmt(text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(pos: u64, len: u64) -> Bar {
        Bar {
            what: "signalled".into(),
            len,
            pos,
            start: Instant::now(),
            drawn: None,
        }
    }

    #[test]
    fn the_bar_fills_with_the_work_done() {
        assert_eq!(
            bar(0, 40).line(),
            "signalled [>                             ] 0/40 (0s)"
        );
        assert_eq!(
            bar(20, 40).line(),
            "signalled [===============>              ] 20/40 (0s)"
        );
        assert_eq!(
            bar(40, 40).line(),
            "signalled [==============================] 40/40 (0s)"
        );
        assert_eq!(
            bar(0, 0).line(),
            "signalled [==============================] 0/0 (0s)"
        );
    }
}
