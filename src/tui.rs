//! `watch`'s full-screen mode: the alternate screen in raw mode, the keyboard (q, Esc, Ctrl-C), the redraw
//! timer and the stop signals. Each frame's lines come from `render::watch::frame`; this only puts them on
//! the screen.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossterm::{cursor, event, queue, style::Print, terminal};

use crate::render::watch::{connecting, frame};
use crate::render::{elide, Style};
use crate::report::watch::Round;
use crate::text::terminal_safe;

/// The terminal in full-screen mode; dropping it restores the terminal.
pub struct Screen {
    out: io::Stdout,
}

fn restore() {
    let mut out = io::stdout();
    let _ = queue!(out, cursor::Show, terminal::LeaveAlternateScreen);
    let _ = out.flush();
    let _ = terminal::disable_raw_mode();
}

impl Screen {
    pub fn enter() -> Result<Screen> {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            prev(info);
        }));
        let mut out = io::stdout();
        terminal::enable_raw_mode()?;
        queue!(out, terminal::EnterAlternateScreen, cursor::Hide)?;
        out.flush()?;
        Ok(Screen { out })
    }

    pub fn draw(&mut self, lines: &[String], width: u16) -> Result<()> {
        queue!(self.out, cursor::MoveTo(0, 0))?;
        for (i, l) in lines.iter().enumerate() {
            queue!(
                self.out,
                cursor::MoveTo(0, i as u16),
                Print(elide(&terminal_safe(l), usize::from(width))),
                terminal::Clear(terminal::ClearType::UntilNewLine)
            )?;
        }
        queue!(
            self.out,
            cursor::MoveTo(0, lines.len() as u16),
            terminal::Clear(terminal::ClearType::FromCursorDown)
        )?;
        self.out.flush()?;
        Ok(())
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

fn quits(e: &event::Event) -> bool {
    match e {
        event::Event::Key(k) if k.is_press() => {
            matches!(
                k.code,
                event::KeyCode::Char('q' | 'Q') | event::KeyCode::Esc
            ) || (k.code == event::KeyCode::Char('c')
                && k.modifiers.contains(event::KeyModifiers::CONTROL))
        }
        _ => false,
    }
}

/// Show rounds full-screen until `q`, Esc, Ctrl-C, SIGTERM/SIGHUP or the last round (--count).
/// Returns the last round shown.
pub fn watch(
    rx: &mpsc::Receiver<Round>,
    stop: &Arc<AtomicBool>,
    st: &Style,
) -> Result<Option<Round>> {
    // Raw mode turns Ctrl-C into a key; this catches SIGTERM and SIGHUP (and SIGINT sent by kill). Without
    // the handlers those signals would end pgconn with the terminal left in raw mode.
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(stop))
            .context("installing the signal handlers")?;
    }
    let mut screen = Screen::enter()?;
    let mut last: Option<Round> = None;
    let mut dirty = true;
    let mut redrawn = Instant::now();
    loop {
        match rx.try_recv() {
            Ok(r) => {
                last = Some(r);
                dirty = true;
            }
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => break,
        }
        let any_down = last
            .as_ref()
            .is_some_and(|r| r.targets.iter().any(|t| t.down.is_some()));
        if any_down && redrawn.elapsed() >= Duration::from_secs(1) {
            dirty = true;
        }
        if dirty {
            let (w, h) = terminal::size().unwrap_or((80, 24));
            let lines = match &last {
                Some(r) => frame(r, w, h, st, Instant::now()),
                None => connecting(st),
            };
            screen.draw(&lines, w)?;
            dirty = false;
            redrawn = Instant::now();
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if event::poll(Duration::from_millis(100))? {
            let e = event::read()?;
            if quits(&e) {
                break;
            }
            if matches!(e, event::Event::Resize(..)) {
                dirty = true;
            }
        }
    }
    drop(screen);
    Ok(last)
}
