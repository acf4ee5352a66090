//! The people's layout of `pgconn tune`: the settings table, plans, results, history and presets.

use comfy_table::Cell;

use crate::render::{text_cell, Style};

use crate::report::tune::ChangeReport;
use crate::report::tune::{quoted, Scope};
use crate::report::tune::{HistoryReport, PresetsReport};
use crate::report::tune::{ShowReport, ShownLimit};
use crate::report::Level;
use crate::text::clean;

fn source_text(source: &str, detail: Option<&str>) -> String {
    match source {
        "default" => "default".into(),
        "configuration_file" => match detail {
            Some(d) => format!("config file {}", d.rsplit('/').next().unwrap_or(d)),
            None => "configuration file".into(),
        },
        "alter_system" => "ALTER SYSTEM".into(),
        "command_line" => "command line".into(),
        "environment_variable" => "environment".into(),
        "database" | "role" | "role_in_database" | "all_roles" => {
            detail.unwrap_or(source).to_string()
        }
        other => detail
            .map(|d| format!("{other} ({d})"))
            .unwrap_or_else(|| other.to_string()),
    }
}

/// The columns of `tune show` that drop first, in this order, on a terminal narrower than the table.
pub const SHOW_DROP_FIRST: [&str; 2] = ["RESTART", "SOURCE"];

pub fn show(r: &ShowReport, st: &Style) -> String {
    let mut out = String::new();
    let mut what = Vec::new();
    if let Some(d) = &r.database {
        what.push(format!("database {}", clean(&quoted(d))));
    }
    if let Some(role) = &r.role {
        what.push(format!("role {}", clean(&quoted(role))));
    }
    out.push_str(&format!(
        "{} {}  (PostgreSQL {}){}\n\n",
        st.bold("pgconn tune"),
        clean(&r.target),
        clean(&r.server_version),
        if what.is_empty() {
            ", server-wide values".to_string()
        } else {
            format!(", values for new sessions of {}", what.join(" and "))
        }
    ));
    let mut rows = Vec::new();
    for s in &r.settings {
        let mut value = s.value.clone();
        if s.pending_restart {
            value.push_str(" (restart pending)");
        }
        let value_cell = if s.pending_restart {
            st.level_cell(clean(&value), Level::Warning)
        } else {
            text_cell(&value)
        };
        let rec = &s.recommendation;
        let (text, level) = match (rec.level, &rec.value) {
            ("suggest", Some(v)) => (format!("→ {v}: {}", rec.reason), Level::Warning),
            ("warning", _) => (format!("! {}", rec.reason), Level::Warning),
            _ => (rec.reason.clone(), Level::Ok),
        };
        let rec_cell = if level == Level::Ok {
            text_cell(&text)
        } else {
            st.level_cell(clean(&text), level)
        };
        rows.push(vec![
            text_cell(&s.name),
            value_cell,
            text_cell(&source_text(&s.source, s.source_detail.as_deref())),
            Cell::new(if s.restart_required { "yes" } else { "no" }),
            rec_cell,
        ]);
    }
    out.push_str(&st.fitted_table(
        &["SETTING", "VALUE", "SOURCE", "RESTART", "RECOMMENDATION"],
        rows,
        &SHOW_DROP_FIRST,
        Some("RECOMMENDATION"),
    ));
    out.push('\n');

    let with_overrides: Vec<_> = r
        .settings
        .iter()
        .filter(|s| !s.overrides.is_empty())
        .collect();
    if !with_overrides.is_empty() {
        out.push_str(&format!("\n{}\n", st.bold("set per database / role")));
        for s in with_overrides {
            let parts: Vec<String> = s
                .overrides
                .iter()
                .map(|o| {
                    let who = match (&o.database, &o.role) {
                        (Some(d), Some(role)) => {
                            format!("role {} in {}", quoted(role), quoted(d))
                        }
                        (None, Some(role)) => format!("role {}", quoted(role)),
                        (Some(d), None) => format!("database {}", quoted(d)),
                        (None, None) => "all roles".into(),
                    };
                    format!("{who} {}", o.value)
                })
                .collect();
            out.push_str(&format!(
                "  {}: {}\n",
                clean(&s.name),
                clean(&parts.join(" · "))
            ));
        }
    }
    if r.settings.iter().any(|s| s.source != s.server_source) {
        out.push_str(&format!("\n{}\n", st.bold("server-wide values")));
        for s in r.settings.iter().filter(|s| s.source != s.server_source) {
            out.push_str(&format!(
                "  {}: {} ({})\n",
                clean(&s.name),
                clean(&s.server_value),
                clean(&source_text(&s.server_source, None))
            ));
        }
    }
    if !r.connection_limits.is_empty() {
        out.push_str(&format!("\n{}\n", st.bold("connection limits")));
        for l in &r.connection_limits {
            out.push_str(&format!("  {}\n", clean(&limit_line(l))));
        }
    }
    if !r.not_available.is_empty() {
        let names: Vec<String> = r
            .not_available
            .iter()
            .map(|n| format!("{} ({}+)", n.name, n.since_version_num / 10000))
            .collect();
        out.push_str(&format!("\nnot on this version: {}\n", names.join(", ")));
    }
    for w in &r.warnings {
        out.push_str(&format!("  ! {}\n", clean(w)));
    }
    out.push_str(
        "\nChange with `pgconn tune set NAME=VALUE --database DB | --role ROLE | --system`.\n",
    );
    out
}

/// `database "app": 40, 12 sessions now`, `role "web": -1 (no limit), 3 sessions now`.
fn limit_line(l: &ShownLimit) -> String {
    let who = format!("{} {}", l.scope, quoted(&l.name));
    if l.invalid_database {
        return format!(
            "{who}: invalid (datconnlimit -2: a DROP DATABASE was interrupted; DROP DATABASE it)"
        );
    }
    let limit = match l.limit {
        -1 => "-1 (no limit)".to_string(),
        0 => "0 (no new sessions)".to_string(),
        n => n.to_string(),
    };
    let sessions = format!(
        "{} session{} now",
        l.sessions,
        if l.sessions == 1 { "" } else { "s" }
    );
    let superuser = if l.superuser == Some(true) {
        " (a superuser: held to no connection limit)"
    } else {
        ""
    };
    format!("{who}: {limit}, {sessions}{superuser}")
}

pub fn plan(r: &ChangeReport, st: &Style) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} on {}  (PostgreSQL {})\n\n",
        st.bold(&format!("pgconn tune {}", r.action)),
        clean(&r.scope_label),
        clean(&r.target),
        clean(&r.server_version)
    ));
    if let Some(id) = &r.undoes {
        out.push_str(&format!("undoing history entry {}\n\n", clean(id)));
    }
    let mut t = st.table();
    t.set_header(st.header(&["SETTING", "NOW", "", "NEW", "NOTE"]));
    for c in &r.changes {
        let mut note = Vec::new();
        if c.unchanged {
            note.push("unchanged".to_string());
        }
        if let (Some(input), Some(new)) = (&c.input, &c.new) {
            if input.trim() != new {
                note.push(format!("from {input}"));
            }
        }
        if c.restart_required && !c.unchanged {
            note.push("needs a restart".into());
        }
        t.add_row(vec![
            text_cell(&c.name),
            text_cell(&c.old_display),
            Cell::new("→"),
            text_cell(&c.new_display),
            text_cell(&note.join(", ")),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    let sql: Vec<&String> = r.changes.iter().filter_map(|c| c.sql.as_ref()).collect();
    if !sql.is_empty() {
        out.push_str(&format!("\n{}\n", st.bold("SQL")));
        for s in sql {
            out.push_str(&format!("  {};\n", clean(s)));
        }
        if r.scope == crate::report::tune::Scope::System {
            out.push_str("  SELECT pg_reload_conf();\n");
        }
    }
    if !r.notes.is_empty() || !r.warnings.is_empty() {
        out.push('\n');
    }
    for n in &r.notes {
        out.push_str(&format!("  - {}\n", clean(n)));
    }
    for w in &r.warnings {
        out.push_str(&format!(
            "  {} {}\n",
            st.paint("!", Level::Warning),
            clean(w)
        ));
    }
    out.push('\n');
    out
}

pub fn result(r: &ChangeReport, st: &Style) -> String {
    let mut out = String::new();
    let pending = r.pending().count();
    if let (Some(p), true) = (r.platform, pending > 0) {
        out.push_str(&format!(
            "{}: {} does not take ALTER SYSTEM, and pgconn sent no change to the server. Run these where \
             the service is managed:\n",
            st.paint("Nothing applied", Level::Warning),
            p.title()
        ));
        for c in &r.provider_commands {
            out.push_str(&format!(
                "\n  {}. {}\n     {}\n",
                c.step,
                clean(&c.why),
                clean(&c.command)
            ));
        }
        return out;
    }
    if pending == 0 {
        out.push_str("Nothing to change: the scope already stores these values.\n");
        return out;
    }
    if r.dry_run {
        out.push_str("Dry run: nothing was changed.\n");
        return out;
    }
    if !r.applied {
        return out;
    }
    out.push_str(&format!(
        "{} {pending} change{} to {}.\n",
        st.paint("Applied", Level::Ok),
        if pending == 1 { "" } else { "s" },
        clean(&r.scope.label())
    ));
    if let (Some(file), Some(id)) = (&r.history_file, &r.history_id) {
        out.push_str(&format!(
            "Recorded as {id} in {}; `pgconn tune undo` puts the previous values back.\n",
            clean(file)
        ));
    }
    let Some(o) = &r.outcome else { return out };
    if o.new_sessions_only {
        let n = o.sessions_with_old_value.unwrap_or(0);
        let values = if pending == 1 { "value" } else { "values" };
        if n == 0 {
            out.push_str(
                "This applies to new sessions only; no session of the scope was connected before the \
                 change.\n",
            );
        } else {
            out.push_str(&format!(
                "This applies to new sessions only: {n} session{} connected before the change still run{} with \
                 the old {values} until {} reconnect{}.\n",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
                if n == 1 { "it" } else { "they" },
                if n == 1 { "s" } else { "" },
            ));
        }
        if let Some(h) = o.sessions_not_visible.filter(|h| *h > 0) {
            out.push_str(&format!(
                "({h} more session{} in the scope belong to roles whose connection times this role cannot see.)\n",
                if h == 1 { "" } else { "s" }
            ));
        }
    }
    if let Some(l) = &o.connection_limit {
        let (who, of) = match &r.scope {
            Scope::Database { database } => (
                format!("database {}", quoted(database)),
                format!("in database {}", quoted(database)),
            ),
            Scope::Role { role } => (
                format!("role {}", quoted(role)),
                format!("of role {}", quoted(role)),
            ),
            other => (other.label(), String::new()),
        };
        let s = l.sessions;
        let sessions = format!("{s} session{}", if s == 1 { "" } else { "s" });
        let text = if l.limit == -1 {
            format!("{who} has no connection limit now; it holds {sessions}.")
        } else if s > i64::from(l.limit) {
            let refused = if l.limit == 0 {
                format!("no new session {of} is let in")
            } else {
                format!(
                    "new sessions {of} are refused until fewer than {} remain",
                    l.limit
                )
            };
            format!(
                "The limit is checked when a session connects: {who} holds {sessions} now, more than its \
                 limit of {}; none of them was ended, and {refused}.",
                l.limit
            )
        } else {
            format!(
                "The limit is checked when a session connects: {who} holds {sessions} now (limit {}); none \
                 was ended.",
                l.limit
            )
        };
        out.push_str(&clean(&text));
        out.push('\n');
    }
    if let Some(reloaded) = o.reloaded {
        out.push_str(if reloaded {
            "Configuration reloaded.\n"
        } else {
            "The configuration was not reloaded.\n"
        });
    }
    if !o.effects.is_empty() {
        let mut t = st.table();
        t.set_header(st.header(&["SETTING", "STATUS", "RUNNING VALUE"]));
        for e in &o.effects {
            let (text, level) = match e.status {
                "applied" => ("applied", Level::Ok),
                "pending_restart" => ("waits for a restart", Level::Warning),
                "reloaded" => ("loaded (this session keeps its own value)", Level::Ok),
                "not_reloaded" => ("not loaded yet", Level::Warning),
                _ => ("not applied", Level::Critical),
            };
            t.add_row(vec![
                text_cell(&e.name),
                st.level_cell(text, level),
                text_cell(&e.running_value),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    for s in &o.next_steps {
        out.push_str(&format!("Next: {}\n", clean(s)));
    }
    out
}

pub fn history(r: &HistoryReport, st: &Style) -> String {
    if r.entries.is_empty() {
        return format!("No tune changes recorded in {}.\n", clean(&r.history_file));
    }
    let mut t = st.table();
    t.set_header(st.header(&[
        "ID", "TIME", "ACTION", "SERVER", "SCOPE", "CHANGES", "STATUS",
    ]));
    for l in &r.entries {
        let e = &l.entry;
        let changes: Vec<String> = e
            .changes
            .iter()
            .map(|c| {
                clean(&format!(
                    "{}: {} → {}",
                    c.name,
                    match (&c.old, &c.old_in_effect) {
                        (Some(o), _) => o.clone(),
                        (None, Some(e)) => format!("not set, {e}"),
                        (None, None) => "not set".into(),
                    },
                    c.new.as_deref().unwrap_or("not set")
                ))
                .into_owned()
            })
            .collect();
        let status = match (l.status, &l.undone_by, &e.undoes) {
            ("undone", Some(by), _) => format!("undone by {by}"),
            ("applied", _, Some(of)) => format!("undid {of}"),
            (s, _, _) => s.to_string(),
        };
        let level = match l.status {
            "failed" => Level::Critical,
            "undone" => Level::Unknown,
            _ => Level::Ok,
        };
        t.add_row(vec![
            text_cell(&e.id),
            text_cell(&e.time),
            text_cell(&e.action),
            text_cell(&e.server.target),
            text_cell(&e.scope.label()),
            Cell::new(changes.join("\n")),
            st.level_cell(status, level),
        ]);
    }
    let mut out = format!("{} {}\n\n", st.bold("tune history"), clean(&r.history_file));
    out.push_str(&t.to_string());
    out.push('\n');
    if r.skipped_lines > 0 {
        out.push_str(&format!(
            "  ! {} unreadable line(s) skipped\n",
            r.skipped_lines
        ));
    }
    out
}

pub fn presets(r: &PresetsReport, st: &Style) -> String {
    let mut out = String::new();
    for p in &r.presets {
        out.push_str(&format!("{}  {}\n", st.bold(p.name), p.description));
        for s in &p.settings {
            let since = if s.since_version_num > 0 {
                format!(" (PostgreSQL {}+)", s.since_version_num / 10000)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "    {}={}{since}  — {}\n",
                s.name, s.value, s.reason
            ));
        }
        out.push('\n');
    }
    out.push_str(
        "Use: pgconn tune set --preset NAME (--database DB | --role ROLE | --system) [NAME=VALUE...]\n",
    );
    out
}
