//! Secrets never leave: every connection keyword libpq treats as secret (password, sslpassword,
//! oauth_client_secret and the SCRAM keys), given in a `-d` conninfo, a URI or a targets file, is absent from
//! every output path: tables, JSON, Prometheus labels, advise's printed commands, --show-sql, warnings,
//! check lines, watch lines, the audit log and error messages.

mod support;

use std::path::Path;

use support::{cluster, pgconn, unique, Output};

const SECRET_KEYWORDS: [&str; 5] = [
    "password",
    "sslpassword",
    "oauth_client_secret",
    "scram_client_key",
    "scram_server_key",
];

fn secret_for(keyword: &str) -> String {
    format!("SeCrEt-{}", keyword.replace('_', "-"))
}

fn assert_clean(what: &str, secret: &str, out: &Output) {
    for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !text.contains(secret) && !text.contains("SeCrEt"),
            "{what}: a secret reached {stream}:\n{text}"
        );
    }
}

fn run(args: &[&str]) -> Output {
    pgconn().no_cluster_env().args(args).run()
}

/// Every command path with a conninfo that carries `keyword`.
fn check_paths(keyword: &str, conninfo: &str, dir: &Path) {
    let secret = secret_for(keyword);
    let tag = unique("secret");
    // A session for kill-idle to act on, so that the log holds target and session lines too.
    let mut victim = pgconn::sandbox::Workload::new();
    victim
        .idle(cluster(), 1, "postgres", "postgres", &tag)
        .unwrap();
    let log = dir.join(format!("{keyword}.jsonl"));
    let targets = dir.join(format!("{keyword}.targets"));
    std::fs::write(&targets, format!("{conninfo}\n{conninfo}\n")).unwrap();
    let log_arg = log.display().to_string();
    let targets_arg = targets.display().to_string();
    let paths: Vec<(&str, Vec<&str>, Option<i32>)> = vec![
        ("status", vec!["-d", conninfo, "status"], Some(0)),
        (
            "status --json",
            vec!["-d", conninfo, "status", "--json"],
            Some(0),
        ),
        (
            "status --format prometheus",
            vec!["-d", conninfo, "status", "--format", "prometheus"],
            Some(0),
        ),
        (
            "sessions --show-sql",
            vec!["-d", conninfo, "--show-sql", "sessions", "--app", &tag],
            Some(0),
        ),
        ("advise", vec!["-d", conninfo, "advise"], Some(0)),
        (
            "advise --json",
            vec!["-d", conninfo, "advise", "--json"],
            Some(0),
        ),
        (
            "tune show",
            vec!["-d", conninfo, "tune", "show", "--json"],
            Some(0),
        ),
        (
            "tune set --dry-run",
            vec![
                "-d",
                conninfo,
                "tune",
                "set",
                "statement_timeout=30s",
                "--database",
                "postgres",
                "--dry-run",
            ],
            Some(0),
        ),
        ("check", vec!["-d", conninfo, "check"], None),
        (
            "check --format prometheus",
            vec!["-d", conninfo, "check", "--format", "prometheus"],
            None,
        ),
        (
            "watch",
            vec![
                "-d",
                conninfo,
                "watch",
                "--count",
                "1",
                "--interval",
                "100ms",
            ],
            Some(0),
        ),
        (
            "kill-idle with a log",
            vec![
                "-d",
                conninfo,
                "kill-idle",
                "--older-than",
                "0s",
                "--app",
                &tag,
                "--include-superusers",
                "--yes",
                "--log",
                &log_arg,
                "--json",
            ],
            Some(0),
        ),
        (
            "status of a targets file",
            vec!["--targets", &targets_arg, "status", "--json"],
            Some(0),
        ),
        (
            "status --show-sql",
            vec!["-d", conninfo, "--show-sql", "status"],
            Some(0),
        ),
    ];
    for (what, args, code) in paths {
        let out = run(&args);
        if let Some(code) = code {
            if out.status != code {
                panic!(
                    "{keyword} / {what}: exit {} (stdout {}; stderr {})",
                    out.status, out.stdout, out.stderr
                );
            }
        }
        assert_clean(&format!("{keyword} / {what}"), &secret, &out);
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        !logged.contains("SeCrEt"),
        "{keyword}: the audit log: {logged}"
    );
    assert!(
        logged.contains("\"event\":\"target\"") && logged.contains("\"terminated\""),
        "{keyword}: the log holds the session's lines: {logged}"
    );
}

#[test]
fn every_secret_keyword_stays_out_of_every_output() {
    let c = cluster();
    let dir = tempfile::tempdir().unwrap();
    for keyword in SECRET_KEYWORDS {
        let conninfo = format!(
            "{} {keyword}={}",
            c.conninfo("postgres", "postgres"),
            secret_for(keyword)
        );
        check_paths(keyword, &conninfo, dir.path());
    }
}

#[test]
fn errors_never_carry_a_secret() {
    let c = cluster();
    let closed = support::pgbouncer::free_port();
    for keyword in SECRET_KEYWORDS {
        let secret = secret_for(keyword);
        // The server cannot be reached.
        let conninfo = format!("host=127.0.0.1 port={closed} user=postgres {keyword}={secret}");
        for args in [
            vec!["-d", &conninfo, "status"],
            vec!["-d", &conninfo, "check"],
            vec!["-d", &conninfo, "status", "--json"],
        ] {
            assert_clean(&format!("{keyword}: unreachable"), &secret, &run(&args));
        }
        // A database that does not exist, and a conninfo that does not parse.
        let missing = format!(
            "{} dbname=nope_{keyword} {keyword}={secret}",
            c.conninfo("postgres", "postgres")
        );
        let out = run(&["-d", &missing, "status"]);
        assert_eq!(out.status, 1);
        assert_clean(&format!("{keyword}: missing database"), &secret, &out);
        let broken = format!("host=x {keyword}='{secret} unterminated");
        let out = run(&["-d", &broken, "status"]);
        assert_clean(&format!("{keyword}: bad conninfo"), &secret, &out);
        let uri = format!("postgresql://postgres@127.0.0.1:{closed}/postgres?{keyword}={secret}");
        assert_clean(
            &format!("{keyword}: URI"),
            &secret,
            &run(&["-d", &uri, "status"]),
        );
    }
}

#[test]
fn advise_prints_commands_that_work_without_the_secret() {
    let c = cluster();
    // A leak advise names, with the kill-idle command that removes it.
    let mut leak = pgconn::sandbox::Workload::new();
    leak.idle(c, 80, "postgres", "postgres", &unique("leaky"))
        .unwrap();
    for keyword in SECRET_KEYWORDS {
        let conninfo = format!(
            "{} {keyword}={}",
            c.conninfo("postgres", "postgres"),
            secret_for(keyword)
        );
        let v = run(&["-d", &conninfo, "advise", "--json"])
            .assert_code(0)
            .json();
        let commands: Vec<&serde_json::Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["commands"].as_array().unwrap())
            .collect();
        assert!(!commands.is_empty(), "{v:#}");
        for cmd in commands {
            let cmd = cmd.as_str().unwrap();
            assert!(!cmd.contains(keyword), "{keyword}: {cmd}");
            assert!(
                cmd.contains(&format!("port={}", c.port())),
                "still the same server: {cmd}"
            );
        }
    }
}
