//! `pgconn exporter`'s answers: the exposition of a scrape (status's families through
//! [`prometheus::Exposition`], `pg_up` among them, with `pgconn_scrape_duration_seconds` beside them) and
//! the index page.

use crate::render::prometheus::{self, Exposition};
use crate::report::fleet::FailureKind;
use crate::report::status::StatusReport;

/// The Content-Type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One target's scrape: its label, its report or how it failed, and how long it took.
pub type Scraped<'a> = (&'a str, Result<&'a StatusReport, FailureKind>, f64);

/// The exposition of a scrape. With `with_target` (`/metrics`) every sample carries the `target` label;
/// without it (`/probe`, where Prometheus' relabelling sets `instance`) none does.
pub fn exposition(scraped: &[Scraped], with_target: bool) -> String {
    let mut exp = Exposition::new();
    for (target, r, seconds) in scraped {
        let t: &str = if with_target { target } else { "" };
        match r {
            Ok(r) => prometheus::status_metrics(&mut exp, t, r),
            Err(kind) => prometheus::failed(&mut exp, t, *kind),
        }
        let labels: &[(&str, &str)] = if with_target {
            &[("target", target)]
        } else {
            &[]
        };
        exp.gauge(
            "pgconn_scrape_duration_seconds",
            "How long the scrape of the target took, connecting included",
            labels,
            *seconds,
        );
    }
    let text = exp.render();
    if with_target {
        text
    } else {
        without_empty_target(&text)
    }
}

/// The samples' `target=""` label taken out (status's families always write one; an empty label is
/// the same series to Prometheus, but /probe's text should not show it).
fn without_empty_target(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with('#') {
            out.push_str(line);
        } else if let Some(i) = line.find("{target=\"\"") {
            let rest = &line[i + "{target=\"\"".len()..];
            out.push_str(&line[..i]);
            match rest.strip_prefix(',') {
                Some(more) => {
                    out.push('{');
                    out.push_str(more);
                }
                None => out.push_str(rest.strip_prefix('}').unwrap_or(rest)),
            }
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Text for HTML, escaped.
fn html(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c => s.push(c),
        }
    }
    s
}

/// A query parameter's value, percent-encoded.
fn query_value(text: &str) -> String {
    let mut s = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// The index page: a link to /metrics, one /probe example, and the configured targets (each with the
/// name a probe may use, if it has one), every name escaped.
pub fn index(targets: &[(String, Option<String>)]) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pgconn exporter</title></head>\n<body>\n\
         <h1>pgconn exporter</h1>\n<p><a href=\"/metrics\">/metrics</a>: every configured target</p>\n",
    );
    if let Some(probe) = targets.iter().find_map(|(_, p)| p.as_deref()) {
        s.push_str(&format!(
            "<p><a href=\"/probe?target={}\">/probe?target={}</a>: one target</p>\n",
            html(&query_value(probe)),
            html(probe)
        ));
    }
    s.push_str("<h2>Targets</h2>\n<ul>\n");
    for (label, probe) in targets {
        match probe {
            Some(p) if p != label => s.push_str(&format!(
                "<li>{} (probe as {})</li>\n",
                html(label),
                html(p)
            )),
            _ => s.push_str(&format!("<li>{}</li>\n", html(label))),
        }
    }
    s.push_str("</ul>\n</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_text_has_no_target_label_and_parses() {
        let text = exposition(&[("db1:5432/app", Err(FailureKind::Full), 0.25)], false);
        assert!(!text.contains("target="), "{text}");
        assert!(text.contains("pgconn_up 0\n"), "{text}");
        assert!(
            text.contains("pgconn_scrape_error{kind=\"full\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("pg_up 0\n"), "{text}");
        assert!(
            text.contains("pgconn_scrape_duration_seconds 0.25\n"),
            "{text}"
        );
        let scrape =
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
        assert_eq!(scrape.samples.len(), 4);
    }

    #[test]
    fn metrics_text_keeps_the_target_label() {
        let text = exposition(
            &[
                ("a", Err(FailureKind::Timeout), 2.0),
                ("b", Err(FailureKind::Unreachable), 0.0),
            ],
            true,
        );
        assert!(
            text.contains("pg_up{target=\"a\"} 0\npg_up{target=\"b\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("pgconn_scrape_error{target=\"a\",kind=\"timeout\"} 1\n"));
    }

    #[test]
    fn the_index_escapes_every_name() {
        let page = index(&[
            ("<b>x</b>".into(), Some("a&b".into())),
            ("db:5432/app".into(), None),
        ]);
        assert!(page.contains("&lt;b&gt;x&lt;/b&gt;"), "{page}");
        assert!(page.contains("/probe?target=a%26b"), "{page}");
        assert!(!page.contains("<b>x"), "{page}");
    }
}
