//! `watch` output: one line per sample for logs, JSON Lines, and the full-screen view (alternate screen,
//! raw mode, restored on exit, on panic and on SIGTERM/SIGHUP).

use std::time::{Instant, SystemTime};

use anyhow::Result;
use comfy_table::{Cell, CellAlignment};
use serde::Serialize;

use crate::render::{display_width, elide, Style};

use crate::report::state::shown_counts;
use crate::report::status::StatusReport;
use crate::report::watch::{Churn, Delta, Point, Round, TargetView};
use crate::report::State;
use crate::report::{age, opt_age, Level};
use crate::text::clean;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of `values` scaled from 0 to `max`: one character per value, a blank for a missing one.
pub fn sparkline(values: &[Option<f64>], max: f64) -> String {
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(v) if max <= 0.0 || *v <= 0.0 => BARS[0],
            Some(v) => {
                let i = ((v / max) * BARS.len() as f64).ceil() as usize;
                BARS[i.clamp(1, BARS.len()) - 1]
            }
        })
        .collect()
}

/// `+3`, `-2`, `0`.
pub fn signed(d: i64) -> String {
    if d > 0 {
        format!("+{d}")
    } else {
        d.to_string()
    }
}

/// RFC 3339 in UTC, to the second.
pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Idle-in-transaction sessions, aborted ones included (as status, check and the trend count them).
fn iit(r: &StatusReport) -> usize {
    crate::report::idle_in_transaction(&r.states)
}

/// The line of one target's sample (or failed attempt), for logs.
pub fn line(v: &TargetView, time: SystemTime) -> String {
    let ts = timestamp(time);
    if let Some(d) = &v.down {
        return format!(
            "{ts} {} disconnected, retrying in {}: {}",
            clean(&v.target),
            crate::report::typed_duration(d.backoff),
            clean(&d.error)
        );
    }
    let Some(r) = &v.report else {
        return format!("{ts} {} no sample yet", clean(&v.target));
    };
    let c = &r.capacity;
    let mut s = format!(
        "{ts} {} used={}/{} left={} active={} idle={} idle_in_transaction={}",
        clean(&v.target),
        c.used,
        c.usable_slots,
        c.slots_left,
        State::Active.count_in(&r.states),
        State::Idle.count_in(&r.states),
        State::IdleInTransaction.count_in(&r.states)
    );
    for (state, n) in shown_counts(&r.states) {
        if !state.always_shown() {
            s.push_str(&format!(" {}={n}", state.key()));
        }
    }
    if r.not_visible > 0 {
        s.push_str(&format!(" not_visible={}", r.not_visible));
    }
    if let Some(ch) = v.change {
        s.push_str(&format!(" change={}", signed(ch.used)));
    }
    if let Some(t) = churn_text(v) {
        s.push(' ');
        s.push_str(&t);
    }
    if v.reconnected {
        s.push_str(" reconnected");
    }
    s
}

/// One line per target sampled in this round.
pub fn lines(round: &Round) -> String {
    let mut out = String::new();
    for v in round.targets.iter().filter(|v| v.attempted) {
        out.push_str(&line(v, round.time));
        out.push('\n');
    }
    out
}

/// The churn of all databases since the sample before: "sessions/s=1.5 abandoned/min=0 fatal/min=0
/// killed/min=6" (with "counters_reset=N" for databases reset since, left out of the rates), or
/// "counters=reset"; none before the second sample (or below PostgreSQL 14).
fn churn_text(v: &TargetView) -> Option<String> {
    let t = crate::report::watch::total(&v.churn)?;
    if t.reset {
        return Some("counters=reset".into());
    }
    let f = |x: Option<f64>| format!("{}", x.unwrap_or(0.0));
    let mut text = format!(
        "sessions/s={} abandoned/min={} fatal/min={} killed/min={}",
        f(t.sessions_per_second),
        f(t.abandoned_per_minute),
        f(t.fatal_per_minute),
        f(t.killed_per_minute)
    );
    // Databases whose counters were reset since the sample before are left out of the rates.
    let reset = v.churn.iter().filter(|c| c.reset).count();
    if reset > 0 {
        text.push_str(&format!(" counters_reset={reset}"));
    }
    Some(text)
}

#[derive(Serialize)]
struct JsonSample<'a> {
    time: String,
    target: &'a str,
    ok: bool,
    error: Option<&'a str>,
    retry_in_seconds: Option<f64>,
    reconnected: bool,
    /// Per database, since the sample before (empty for the first sample, below PostgreSQL 14, or
    /// when this sample failed).
    churn: &'a [crate::report::watch::Churn],
    report: Option<&'a StatusReport>,
}

/// One JSON object per target sampled in this round (JSON Lines).
pub fn json_lines(round: &Round) -> Result<String> {
    let mut out = String::new();
    for v in round.targets.iter().filter(|v| v.attempted) {
        let j = JsonSample {
            time: timestamp(round.time),
            target: &v.target,
            ok: v.down.is_none(),
            error: v.down.as_ref().map(|d| d.error.as_str()),
            retry_in_seconds: v.down.as_ref().map(|d| d.backoff.as_secs_f64()),
            reconnected: v.reconnected,
            churn: if v.down.is_none() { &v.churn } else { &[] },
            report: if v.down.is_none() {
                v.report.as_ref()
            } else {
                None
            },
        };
        out.push_str(&serde_json::to_string(&j)?);
        out.push('\n');
    }
    Ok(out)
}

fn retry_text(v: &TargetView, now: Instant) -> String {
    match &v.down {
        Some(d) => format!(
            "disconnected since {}, retrying in {}: {}",
            timestamp(d.since),
            age(d
                .retry_at
                .saturating_duration_since(now)
                .as_secs_f64()
                .ceil()),
            clean(&d.error)
        ),
        None => String::new(),
    }
}

fn trend(history: &[Option<Point>], n: usize, f: impl Fn(&Point) -> f64) -> Vec<Option<f64>> {
    let start = history.len().saturating_sub(n);
    history[start..].iter().map(|p| p.map(|p| f(&p))).collect()
}

fn window_max(values: &[Option<f64>]) -> f64 {
    values.iter().flatten().fold(0.0, |a: f64, b| a.max(*b))
}

/// The full-screen view of a round, as lines (at most `height`), none wider than `width`: text lines
/// wrap at a word or are cut with `…`, tables are fitted (names cut with `…`, columns dropped), never
/// wrapped inside a cell.
pub fn frame(round: &Round, width: u16, height: u16, st: &Style, now: Instant) -> Vec<String> {
    let width = width.max(20);
    let w = usize::from(width);
    let st = Style {
        width: Some(width),
        ..*st
    };
    let mut out = Vec::new();
    let title = if round.targets.len() == 1 {
        clean(&round.targets[0].target).into_owned()
    } else {
        format!("{} targets", round.targets.len())
    };
    let every = crate::report::typed_duration(round.interval);
    let time = timestamp(round.time);
    let full = format!(
        "{}  {title}  every {every}  {time}  sample {}   q quits",
        st.bold("pgconn watch"),
        round.number
    );
    // Narrower: without the sample number, then with the target's name cut.
    let title_line = if display_width(&full) <= w {
        full
    } else {
        let tail = format!("  every {every}  {time}   q quits");
        let room = w.saturating_sub(display_width("pgconn watch  ") + display_width(&tail));
        format!("{}  {}{tail}", st.bold("pgconn watch"), elide(&title, room))
    };
    out.push(title_line);
    out.push(String::new());
    if round.targets.len() == 1 {
        single(&round.targets[0], w, &st, now, &mut out);
    } else {
        many(round, &st, now, &mut out);
    }
    let mut out: Vec<String> = out
        .iter()
        .flat_map(|l| l.split('\n'))
        .map(|l| elide(l, w))
        .collect();
    out.truncate(usize::from(height));
    out
}

fn single(v: &TargetView, w: usize, st: &Style, now: Instant, out: &mut Vec<String>) {
    if v.down.is_some() {
        out.push(st.paint(&retry_text(v, now), Level::Critical));
        out.push(String::new());
    }
    let Some(r) = &v.report else {
        if v.down.is_none() {
            out.push("waiting for the first sample".into());
        }
        return;
    };
    let c = &r.capacity;
    out.push(st.wrap(
        &format!(
            "capacity   {}  (max_connections {}, reserved {})",
            c.describe(),
            c.max_connections,
            c.max_connections - c.usable_slots
        ),
        11,
    ));
    let mut parts: Vec<String> = shown_counts(&r.states)
        .into_iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    if r.not_visible > 0 {
        parts.push(format!("not visible {}", r.not_visible));
    }
    out.push(st.wrap(&format!("sessions   {}", parts.join(" · ")), 11));
    out.push(st.wrap(
        &format!(
            "ages       oldest: idle {} · idle in transaction {} · transaction {}",
            opt_age(r.idle.oldest_seconds),
            opt_age(r.oldest_idle_in_transaction_seconds),
            opt_age(r.oldest_transaction_seconds)
        ),
        11,
    ));
    let level = r.verdict.status;
    let mut reasons = r.verdict.reasons.iter();
    out.push(format!(
        "verdict    {}  {}",
        st.paint(level.as_str(), level),
        clean(reasons.next().map(String::as_str).unwrap_or(""))
    ));
    for reason in reasons.take(2) {
        out.push(format!("           {}", clean(reason)));
    }
    out.push(String::new());

    let spark_w = w.saturating_sub(14 + 18).max(10);
    let n = v.history.len().min(spark_w);
    out.push(format!(
        "trend      last {n} sample{} (used: 0 to {} slots; idle, idle in tx: 0 to max)",
        if n == 1 { "" } else { "s" },
        c.usable_slots
    ));
    let ch = v.change.unwrap_or_default();
    let used = trend(&v.history, spark_w, |p| p.used as f64);
    let idle = trend(&v.history, spark_w, |p| p.idle as f64);
    let tx = trend(&v.history, spark_w, |p| p.idle_in_transaction as f64);
    let now_p = Point::of(r);
    let row = |label: &str, spark: String, now: i64, change: i64| {
        format!(
            "  {label:<11} {spark:<spark_w$}  {now:>6} {:>7}",
            if v.change.is_some() {
                signed(change)
            } else {
                String::new()
            }
        )
    };
    out.push(format!(
        "  {:<11} {:<spark_w$}  {:>6} {:>7}",
        "", "", "now", "change"
    ));
    out.push(row(
        "used",
        sparkline(&used, f64::from(c.usable_slots)),
        now_p.used,
        ch.used,
    ));
    out.push(row(
        State::Idle.as_pg(),
        sparkline(&idle, window_max(&idle)),
        now_p.idle as i64,
        ch.idle,
    ));
    out.push(row(
        "idle in tx",
        sparkline(&tx, window_max(&tx)),
        now_p.idle_in_transaction as i64,
        ch.idle_in_transaction,
    ));
    if let Some(t) = churn_text(v) {
        out.push(format!("  churn       {t}"));
        // Per database, the busiest first (at most five), when more than one had any.
        let mut busy: Vec<&Churn> = v
            .churn
            .iter()
            .filter(|c| {
                !c.reset
                    && c.sessions_started.unwrap_or(0)
                        + c.abandoned.unwrap_or(0)
                        + c.fatal.unwrap_or(0)
                        + c.killed.unwrap_or(0)
                        > 0
            })
            .collect();
        if busy.len() > 1 {
            busy.sort_by(|a, b| {
                b.sessions_started
                    .cmp(&a.sessions_started)
                    .then_with(|| a.database.cmp(&b.database))
            });
            for c in busy.iter().take(5) {
                let name: String = clean(&c.database)
                    .chars()
                    .take(w.saturating_sub(60).max(8))
                    .collect();
                out.push(format!(
                    "    {name}  sessions/s={} abandoned/min={} fatal/min={} killed/min={}",
                    c.sessions_per_second.unwrap_or(0.0),
                    c.abandoned_per_minute.unwrap_or(0.0),
                    c.fatal_per_minute.unwrap_or(0.0),
                    c.killed_per_minute.unwrap_or(0.0)
                ));
            }
        }
    }
    out.push(String::new());

    if !r.groups.is_empty() {
        let mut header: Vec<String> = r.group_by.iter().map(|k| k.to_uppercase()).collect();
        header
            .extend(["SESSIONS", "ACTIVE", "IDLE", "IDLE IN TX", "OLDEST IDLE"].map(String::from));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut rows = Vec::new();
        for g in &r.groups {
            let mut row = crate::render::status::group_key_cells(&r.group_by, g);
            for n in [
                g.sessions,
                State::Active.count_in(&g.states),
                State::Idle.count_in(&g.states),
                crate::report::idle_in_transaction(&g.states),
            ] {
                row.push(Cell::new(n).set_alignment(CellAlignment::Right));
            }
            row.push(Cell::new(opt_age(g.oldest_idle_seconds)).set_alignment(CellAlignment::Right));
            rows.push(row);
        }
        // As status: ACTIVE goes first, then the application names are cut.
        let free = header.contains(&"APPLICATION").then_some("APPLICATION");
        let table = st.fitted_table(&header, rows, &["ACTIVE"], free);
        out.extend(table.lines().map(String::from));
    }
}

fn many(round: &Round, st: &Style, now: Instant, out: &mut Vec<String>) {
    let spark_w = 20;
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let right = |c: String| Cell::new(c).set_alignment(CellAlignment::Right);
    for v in &round.targets {
        let mut row = vec![crate::render::text_cell(&v.target)];
        match (&v.report, &v.down) {
            (Some(r), down) => {
                let c = &r.capacity;
                let level = if down.is_some() {
                    Level::Critical
                } else {
                    r.verdict.status
                };
                row.push(st.level_cell(
                    if down.is_some() {
                        "DOWN"
                    } else {
                        level.as_str()
                    },
                    level,
                ));
                row.push(right(c.used.to_string()));
                row.push(right(c.usable_slots.to_string()));
                row.push(right(format!("{:.0}%", c.used_percent)));
                row.push(right(c.slots_left.to_string()));
                row.push(right(State::Active.count_in(&r.states).to_string()));
                row.push(right(State::Idle.count_in(&r.states).to_string()));
                row.push(right(iit(r).to_string()));
                let used = trend(&v.history, spark_w, |p| p.used as f64);
                row.push(Cell::new(sparkline(&used, f64::from(c.usable_slots))));
                row.push(right(
                    v.change.map(|c: Delta| signed(c.used)).unwrap_or_default(),
                ));
                row.push(crate::render::text_cell(&if down.is_some() {
                    retry_text(v, now)
                } else if level != Level::Ok {
                    r.verdict.reasons.first().cloned().unwrap_or_default()
                } else {
                    String::new()
                }));
            }
            (None, Some(_)) => {
                row.push(st.level_cell("DOWN", Level::Critical));
                row.extend((0..9).map(|_| Cell::new("")));
                row.push(Cell::new(retry_text(v, now)));
            }
            (None, None) => {
                row.push(Cell::new("…"));
                row.extend((0..10).map(|_| Cell::new("")));
            }
        }
        rows.push(row);
    }
    let header = [
        "TARGET",
        "VERDICT",
        "USED",
        "USABLE",
        "USED%",
        "LEFT",
        "ACTIVE",
        "IDLE",
        "IDLE IN TX",
        "TREND (USED)",
        "CHANGE",
        "DETAIL",
    ];
    // One line per target: what does not fit goes (the trend last), the detail is cut.
    let table = st.fitted_table(
        &header,
        rows,
        &["USABLE", "ACTIVE", "CHANGE", "IDLE IN TX", "TREND (USED)"],
        Some("DETAIL"),
    );
    out.extend(table.lines().map(String::from));
}

/// The frame before the first round has arrived.
pub fn connecting(st: &Style) -> Vec<String> {
    vec![format!(
        "{}  connecting…   q quits",
        st.bold("pgconn watch")
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sparklines_scale_from_zero_to_max() {
        let v: Vec<Option<f64>> = [0.0, 1.0, 4.0, 8.0].iter().map(|x| Some(*x)).collect();
        assert_eq!(sparkline(&v, 8.0), "▁▁▄█");
        assert_eq!(sparkline(&[Some(3.0), None, Some(9.0)], 8.0), "▃ █");
        assert_eq!(sparkline(&[Some(5.0)], 0.0), "▁");
        assert_eq!(sparkline(&[], 10.0), "");
    }

    #[test]
    fn changes_are_signed() {
        assert_eq!(signed(3), "+3");
        assert_eq!(signed(-2), "-2");
        assert_eq!(signed(0), "0");
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(86_400 + 3_661);
        assert_eq!(timestamp(t), "1970-01-02T01:01:01Z");
    }
}
