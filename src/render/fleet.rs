//! Layouts for several targets: one combined table with a TARGET column and a row per failed target.

use comfy_table::{Cell, CellAlignment};

use crate::render::{sessions, text_cell, Style};

use crate::report::fleet::TargetResult;
use crate::report::sessions::SessionsReport;
use crate::report::status::{Group, StatusReport};
use crate::report::{opt_age, Level};
use crate::text::clean;

fn right(c: impl ToString) -> Cell {
    Cell::new(c).set_alignment(CellAlignment::Right)
}

use crate::report::idle_in_transaction as iit;
use crate::report::State;

const STATUS_HEADER: [&str; 12] = [
    "TARGET",
    "VERDICT",
    "USED",
    "USABLE",
    "USED%",
    "LEFT",
    "ACTIVE",
    "IDLE",
    "IDLE IN TX",
    "OLDEST IDLE",
    "OLDEST IDLE TX",
    "DETAIL",
];

/// The summary columns that drop first when the table is wider than the terminal.
const STATUS_DROP_FIRST: [&str; 4] = ["OLDEST IDLE TX", "USABLE", "OLDEST IDLE", "ACTIVE"];

/// `status` over several targets: a summary row per target, the largest groups across all of them and
/// the reasons of every verdict that is not OK.
pub fn status(outcomes: &[TargetResult<StatusReport>], top: usize, st: &Style) -> String {
    let mut out = String::new();
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for o in outcomes {
        match o.outcome() {
            Ok(r) => {
                let c = &r.capacity;
                let detail = if r.verdict.status == Level::Ok {
                    String::new()
                } else {
                    r.verdict.reasons.first().cloned().unwrap_or_default()
                };
                rows.push(vec![
                    text_cell(&o.target),
                    st.level_cell(r.verdict.status.as_str(), r.verdict.status),
                    right(c.used),
                    right(c.usable_slots),
                    right(format!("{:.0}%", c.used_percent)),
                    right(c.slots_left),
                    right(State::Active.count_in(&r.states)),
                    right(State::Idle.count_in(&r.states)),
                    right(iit(&r.states)),
                    right(opt_age(r.idle.oldest_seconds)),
                    right(opt_age(r.oldest_idle_in_transaction_seconds)),
                    text_cell(&detail),
                ]);
            }
            Err(e) => {
                let mut row = vec![
                    text_cell(&o.target),
                    st.level_cell("ERROR", Level::Critical),
                ];
                row.extend((0..9).map(|_| Cell::new("")));
                row.push(text_cell(e));
                rows.push(row);
            }
        }
    }
    out.push_str(&st.fitted_table(&STATUS_HEADER, rows, &STATUS_DROP_FIRST, Some("DETAIL")));
    out.push('\n');

    let ok: Vec<(&str, &StatusReport)> = outcomes
        .iter()
        .filter_map(|o| o.report.as_ref().map(|r| (o.target.as_str(), r)))
        .collect();
    let mut groups: Vec<(&str, &StatusReport, &Group)> = ok
        .iter()
        .flat_map(|(t, r)| r.groups.iter().map(move |g| (*t, *r, g)))
        .collect();
    groups.sort_by(|a, b| {
        b.2.sessions
            .cmp(&a.2.sessions)
            .then_with(|| a.0.cmp(b.0))
            .then_with(|| a.2.key.cmp(&b.2.key))
    });
    // Every group of every target, those each report already left out (its own --top) included.
    let total: usize = ok.iter().map(|(_, r)| r.groups_total).sum();
    if top > 0 {
        groups.truncate(top);
    }
    if let Some((_, first, _)) = groups.first() {
        let keys = &first.group_by;
        let mut header = vec!["TARGET".to_string()];
        header.extend(keys.iter().map(|k| k.to_uppercase()));
        header
            .extend(["SESSIONS", "ACTIVE", "IDLE", "IDLE IN TX", "OLDEST IDLE"].map(String::from));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        for (target, _, g) in &groups {
            let mut row = vec![text_cell(target)];
            row.extend(
                keys.iter()
                    .map(|k| text_cell(&crate::render::status::group_key_text(k, g))),
            );
            let idle = State::Idle.count_in(&g.states);
            row.push(right(g.sessions));
            row.push(right(State::Active.count_in(&g.states)));
            row.push(if g.possible_leak {
                st.level_cell(format!("{idle} leak?"), Level::Warning)
                    .set_alignment(CellAlignment::Right)
            } else {
                right(idle)
            });
            row.push(right(iit(&g.states)));
            row.push(right(opt_age(g.oldest_idle_seconds)));
            rows.push(row);
        }
        out.push('\n');
        out.push_str(&st.fitted_table(&header, rows, &["OLDEST IDLE", "ACTIVE"], None));
        out.push('\n');
        if total > groups.len() {
            let more = total - groups.len();
            out.push_str(&format!(
                "  ({more} more group{}; --top 0 shows all)\n",
                if more == 1 { "" } else { "s" }
            ));
        }
    }

    for (target, r) in &ok {
        if r.verdict.status == Level::Ok && r.warnings.is_empty() {
            continue;
        }
        out.push('\n');
        st.wrap_line(
            &mut out,
            2,
            &format!(
                "{} {}",
                st.paint(r.verdict.status.as_str(), r.verdict.status),
                clean(target)
            ),
        );
        let reasons: &[String] = if r.verdict.status != Level::Ok {
            &r.verdict.reasons
        } else {
            &[]
        };
        super::status::verdict_lines(&mut out, reasons, &r.warnings, st);
    }
    out
}

/// `sessions` over several targets: the session table with a TARGET column; a failed target is a row
/// whose state is `(failed)` and whose query column holds the error.
pub fn sessions(outcomes: &[TargetResult<SessionsReport>], st: &Style) -> String {
    let width = sessions::query_width(st);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut header = vec!["TARGET"];
    header.extend(sessions::HEADER);
    let (mut shown, mut matched) = (0, 0);
    for o in outcomes {
        match o.outcome() {
            Ok(r) => {
                shown += r.sessions.len();
                matched += r.count;
                for s in &r.sessions {
                    let mut row = vec![text_cell(&o.target)];
                    row.extend(sessions::row(s, st, width));
                    rows.push(row);
                }
            }
            Err(e) => {
                let mut row = vec![text_cell(&o.target)];
                row.extend((0..5).map(|_| Cell::new("")));
                row.push(st.level_cell("(failed)", Level::Critical));
                row.extend((0..3).map(|_| Cell::new("")));
                row.push(text_cell(e));
                rows.push(row);
            }
        }
    }
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    let mut out = st.fitted_table(&header, rows, &sessions::DROP_FIRST, Some("QUERY"));
    out.push('\n');
    let of = if matched > shown {
        format!("{shown} of {matched} sessions shown")
    } else {
        format!("{matched} sessions")
    };
    out.push_str(&format!(
        "({of} on {} targets{})\n",
        outcomes.len(),
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    ));
    out
}
