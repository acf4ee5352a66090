//! The people's layout of `pgconn advise`.

use crate::render::Style;

use crate::report::advise::AdviseReport;
use crate::text::clean;

pub fn human(r: &AdviseReport, st: &Style) -> String {
    let mut out = String::new();
    let c = &r.capacity;
    out.push_str(&format!(
        "{} {}  (PostgreSQL {})\n  {}; {} sessions counted\n\n",
        st.bold("pgconn advise"),
        clean(&r.target),
        clean(&r.server_version),
        c.describe(),
        r.sessions
    ));
    if let Some(b) = &r.pgbouncer {
        out.push_str(&format!(
            "  PgBouncer {}: clients active {}, waiting {}; server connections active {}, idle {}, used {}; longest wait {:.3}s\n\n",
            clean(&b.target), b.clients_active, b.clients_waiting, b.servers_active, b.servers_idle, b.servers_used, b.max_wait_seconds
        ));
    }
    for s in &r.skipped {
        out.push_str(&format!("  ! not read: {}\n", clean(s)));
    }
    if !r.skipped.is_empty() {
        out.push('\n');
    }
    if r.findings.is_empty() {
        out.push_str("no findings: nothing to fix\n");
        return out;
    }
    for (i, f) in r.findings.iter().enumerate() {
        out.push_str(&format!(
            "{}. {} {}\n",
            i + 1,
            st.paint(&format!("{:<8}", f.severity.as_str()), f.severity.level()),
            st.bold(&clean(&f.title))
        ));
        for e in &f.evidence {
            out.push_str(&format!("     · {}\n", clean(e)));
        }
        out.push_str(&format!("     why: {}\n", clean(&f.why)));
        out.push_str(&format!("     fix: {}\n", clean(&f.recommendation)));
        for cmd in &f.commands {
            out.push_str(&format!("       $ {}\n", clean(cmd)));
        }
        if let Some(cfg) = &f.config {
            out.push_str("     --- pgbouncer.ini ---\n");
            for line in cfg.lines() {
                out.push_str(&format!("     {}\n", clean(line)));
            }
        }
        out.push('\n');
    }
    out
}
