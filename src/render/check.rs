//! `check` output: Nagios/Icinga plugin lines with performance data, and Prometheus text.

use crate::render::prometheus::{self, Exposition};
use crate::report::check::{CheckReport, Measurement};
use crate::report::fleet::FailureKind;
use crate::report::Level;

/// The JSON of a check that could judge nothing (a usage error, an unreadable target list).
pub fn unknown_json(message: &str) -> anyhow::Result<String> {
    crate::render::pretty_json(&serde_json::json!({
        "status": Level::Unknown,
        "exit_code": Level::Unknown.nagios_code(),
        "summary": message,
        "targets": [],
    }))
}

/// The service name at the start of the plugin line.
pub const SERVICE: &str = "PGCONN";

/// Plugin text may not contain `|` (it starts the performance data) nor line breaks; other control
/// characters (from names on the server) are escaped like everywhere else.
pub fn plugin_text(s: &str) -> String {
    crate::text::clean(&s.replace('|', "/").replace(['\r', '\n'], " ")).into_owned()
}

/// A performance-data label: quoted, a quote doubled, `=` (which ends the label) replaced.
pub fn perf_label(s: &str) -> String {
    let s = crate::text::clean(s).replace('=', "_").replace('\'', "''");
    if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        s
    } else {
        format!("'{s}'")
    }
}

fn num(v: f64) -> String {
    prometheus::format_value(crate::report::round3(v))
}

/// `label=value[unit];[warn];[crit];[min];[max]`, trailing empty fields left out.
pub fn perf_item(label: &str, m: &Measurement) -> String {
    let opt = |v: Option<f64>| v.map(num).unwrap_or_default();
    let mut fields = vec![
        format!("{}{}", num(m.value), m.unit),
        opt(m.warning),
        opt(m.critical),
        opt(m.min),
        opt(m.max),
    ];
    while fields.len() > 1 && fields.last().is_some_and(String::is_empty) {
        fields.pop();
    }
    format!("{}={}", perf_label(label), fields.join(";"))
}

/// The plugin output: `PGCONN STATE - summary | perfdata`, then with several targets one line per target
/// (`STATE target - summary`).
pub fn nagios(r: &CheckReport, many: bool) -> String {
    let mut perf = Vec::new();
    for t in &r.targets {
        for m in &t.measurements {
            let label = if many {
                format!("{} {}", t.target, m.name)
            } else {
                m.name.to_string()
            };
            perf.push(perf_item(&label, m));
        }
    }
    let mut out = format!(
        "{SERVICE} {} - {}",
        r.status.as_str(),
        plugin_text(&r.summary)
    );
    if !perf.is_empty() {
        out.push_str(" | ");
        out.push_str(&perf.join(" "));
    }
    out.push('\n');
    if many {
        for t in &r.targets {
            out.push_str(&format!(
                "{} {} - {}\n",
                t.status.as_str(),
                plugin_text(&t.target),
                plugin_text(&t.summary)
            ));
        }
    }
    out
}

/// The plugin line of a check that could not run at all.
pub fn nagios_unknown(message: &str) -> String {
    format!(
        "{SERVICE} {} - {}\n",
        Level::Unknown.as_str(),
        plugin_text(message)
    )
}

/// The status gauges of every target that answered, `pgconn_up` (and `pgconn_scrape_error` for a target
/// that failed), and `pgconn_check_status` (the Nagios
/// state as a number) per target.
pub fn prometheus(r: &CheckReport) -> String {
    let mut exp = Exposition::new();
    for t in &r.targets {
        match &t.report {
            Some(s) => prometheus::status_metrics(&mut exp, &t.target, s),
            None => prometheus::failed(
                &mut exp,
                &t.target,
                t.error_kind.unwrap_or(FailureKind::Query),
            ),
        }
    }
    for t in &r.targets {
        exp.gauge(
            "pgconn_check_status",
            "State of pgconn check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
            &[("target", &t.target)],
            f64::from(t.status.nagios_code()),
        );
    }
    exp.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfdata_follows_the_plugin_guidelines() {
        let m = Measurement {
            name: "used",
            value: 42.0,
            unit: "",
            warning: Some(78.0),
            critical: Some(93.0),
            min: Some(0.0),
            max: Some(97.0),
        };
        assert_eq!(perf_item("used", &m), "used=42;78;93;0;97");
        let age = Measurement {
            name: "oldest_idle_in_transaction",
            value: 12.3456,
            unit: "s",
            warning: None,
            critical: Some(300.0),
            min: None,
            max: None,
        };
        assert_eq!(
            perf_item("oldest_idle_in_transaction", &age),
            "oldest_idle_in_transaction=12.346s;;300"
        );
        let plain = Measurement {
            warning: None,
            critical: None,
            min: None,
            max: None,
            ..m.clone()
        };
        assert_eq!(
            perf_item("db1:5432/app used", &plain),
            "'db1:5432/app used'=42"
        );
        assert_eq!(perf_label("it's=x"), "'it''s_x'");
        assert_eq!(plugin_text("a|b\nc"), "a/b c");
    }
}
