//! Bad input gets one clear line and exit 2 (check: UNKNOWN, exit 3) before anything is sent to a server:
//! hostile durations on every duration flag, inconsistent thresholds, a conninfo that does not resolve,
//! clap's own errors. Nothing panics.

mod support;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use support::{pgconn, Output};

/// Every duration option, with a command that takes it.
const DURATION_FLAGS: &[(&[&str], &str)] = &[
    (&["status"], "--connect-timeout"),
    (&["status"], "--target-timeout"),
    (&["kill-idle"], "--older-than"),
    (&["sessions"], "--idle-longer-than"),
    (&["kill", "--all"], "--running-longer-than"),
    (&["kill", "--all"], "--idle-longer-than"),
    (&["kill", "--all"], "--wait"),
    (&["status"], "--idle-in-transaction-age"),
    (&["status"], "--leak-idle-age"),
    (&["check"], "--idle-age"),
    (&["check"], "--leak-idle-age"),
    (&["check"], "--idle-in-transaction-warning"),
    (&["check"], "--idle-in-transaction-critical"),
    (&["watch"], "--interval"),
];

fn hostile_values() -> Vec<OsString> {
    let mut v: Vec<OsString> = [
        "1e400",
        "-1s",
        "NaN",
        "99999999999999999999",
        "",
        "inf",
        "soon",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    v.push(OsString::from("1y".repeat(1000)));
    v.push(OsString::from_vec(b"5m\xff".to_vec()));
    v
}

/// One line on stderr, `pgconn: error: ...`, and no statement sent (--show-sql would have echoed it).
fn assert_one_line_usage_error(what: &str, out: &Output, code: i32) {
    assert_eq!(
        out.status, code,
        "{what}: exit code\n--- stderr\n{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{what}: {}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: one line: {:?}", out.stderr);
    assert!(
        lines[0].starts_with("pgconn: error: "),
        "{what}: {}",
        lines[0]
    );
    assert!(!out.stderr.contains("SELECT"), "{what}: nothing was sent");
}

#[test]
fn every_duration_flag_rejects_hostile_values_with_its_name() {
    for (command, flag) in DURATION_FLAGS {
        for value in hostile_values() {
            let mut arg = OsString::from(format!("{flag}="));
            arg.push(&value);
            let out = pgconn()
                .arg("--show-sql")
                .args(command.iter().copied())
                .arg(arg)
                .run();
            let what = format!("{} {flag}={value:?}", command.join(" "));
            let code = if command[0] == "check" { 3 } else { 2 };
            assert_one_line_usage_error(&what, &out, code);
            assert!(
                out.stderr.contains(flag),
                "{what}: names the flag: {}",
                out.stderr
            );
            if command[0] == "check" {
                assert!(
                    out.stdout.starts_with("PGCONN UNKNOWN - "),
                    "{what}: {}",
                    out.stdout
                );
            }
        }
    }
    // Within range but past what the server's interval arithmetic is given: the range is named.
    let out = pgconn()
        .args(["kill-idle", "--older-than", "4000d", "--dry-run"])
        .run();
    assert_one_line_usage_error("4000d", &out, 2);
    assert!(out.stderr.contains("0s to 3650d"), "{}", out.stderr);
}

#[test]
fn clap_errors_and_bad_conninfo_values_are_one_line_and_exit_2() {
    for args in [
        vec!["status", "--bogus"],
        vec!["kill-idle"],
        vec!["nonsense"],
        vec!["kill", "--pid", "x"],
        vec!["-d", "host=db sslmode=bogus", "status"],
        vec!["-d", "postgresql://u@h:notaport/db", "status"],
        vec!["-d", "host='unterminated", "sessions"],
    ] {
        let out = pgconn().args(&args).run();
        assert_one_line_usage_error(&args.join(" "), &out, 2);
    }
}

#[test]
fn inconsistent_thresholds_are_usage_errors() {
    for (args, code) in [
        (vec!["check", "-w", "90%", "-c", "80%"], 3),
        (vec!["check", "-w", "150", "-c", "100"], 3),
        (vec!["check", "-w", "-2", "-c", "-10"], 3),
        (
            vec!["check", "--idle-warning", "9", "--idle-critical", "3"],
            3,
        ),
        (vec!["status", "--warn-used", "200"], 2),
        (vec!["status", "--warn-used", "90", "--crit-used", "80"], 2),
        (vec!["watch", "--crit-used", "-5"], 2),
        (vec!["advise", "--leak-share", "120"], 2),
        (vec!["check", "--leak-share", "120"], 3),
    ] {
        let out = pgconn().arg("--show-sql").args(&args).run();
        assert_one_line_usage_error(&args.join(" "), &out, code);
    }
    // Consistent ones still run.
    pgconn()
        .args(["check", "-w", "-10", "-c", "-2"])
        .run()
        .assert_code(0);
}

#[test]
fn a_bare_timeout_number_keeps_postgresqls_meaning_and_is_flagged_under_a_second() {
    let db = support::unique("tune_bare");
    support::superuser_client(support::cluster())
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let v = pgconn()
        .args([
            "tune",
            "set",
            "statement_timeout=300",
            "lock_timeout=1500",
            "--database",
            &db,
            "--dry-run",
            "--json",
        ])
        .json();
    assert_eq!(v["changes"][0]["new"], "300ms");
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("statement_timeout=300 means 300ms") && warnings.contains("write 300s"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("lock_timeout"),
        "1.5s is not under a second: {warnings}"
    );
}

/// Every session-age option (an age compared with a session's or a query's: the selections of kill,
/// kill-idle, sessions and rescue, and the age thresholds), with a command that takes it.
const AGE_FLAGS: &[(&[&str], &str)] = &[
    (&["kill-idle"], "--older-than"),
    (&["sessions"], "--idle-longer-than"),
    (&["kill", "--all"], "--running-longer-than"),
    (&["kill", "--all"], "--idle-longer-than"),
    (&["rescue"], "--connected-longer-than"),
    (&["status"], "--idle-in-transaction-age"),
    (&["status"], "--leak-idle-age"),
    (&["check"], "--idle-age"),
    (&["check"], "--idle-in-transaction-warning"),
    (&["check"], "--idle-in-transaction-critical"),
];

#[test]
fn a_session_age_without_a_unit_or_in_months_is_refused_with_the_spelling_meant() {
    for (command, flag) in AGE_FLAGS {
        let code = if command[0] == "check" { 3 } else { 2 };
        for (value, says) in [
            ("5", "\"5\" has no unit: a session age needs one, e.g. 5s for seconds or 5min for minutes"),
            ("5M", "\"5M\" is in months (\"M\"), which pgconn does not take: for minutes write 5min"),
            ("2months", "for minutes write 2min"),
            ("1y", "\"1y\" is in years (\"y\"), which pgconn does not take: write days instead, e.g. 365d"),
        ] {
            let what = format!("{} {flag} {value}", command.join(" "));
            let out = pgconn()
                .arg("--show-sql")
                .args(command.iter().copied())
                .args([*flag, value])
                .run();
            assert_one_line_usage_error(&what, &out, code);
            assert!(out.stderr.contains(flag), "{what}: {}", out.stderr);
            assert!(out.stderr.contains(says), "{what}: {}", out.stderr);
        }
    }
}

#[test]
fn ages_with_a_unit_or_zero_and_bare_seconds_for_waits_still_run() {
    // The same values with a unit are taken (these reach the server: exit 0).
    for args in [
        vec!["sessions", "--idle-longer-than", "5min", "--json"],
        vec!["sessions", "--idle-longer-than", "0", "--json"],
        vec!["status", "--leak-idle-age", "5m", "--json"],
        vec!["kill-idle", "--older-than", "300s", "--dry-run", "--json"],
        // Waits, intervals and timeouts read a bare number as seconds, as libpq's connect_timeout.
        vec![
            "kill-idle",
            "--older-than",
            "1d",
            "--wait",
            "5",
            "--connect-timeout",
            "10",
            "--dry-run",
            "--json",
        ],
    ] {
        pgconn().args(&args).run().assert_code(0);
    }
    // Read as written: 90min is 5400 s, 1h30m the same.
    for value in ["90min", "1h30m"] {
        let v = pgconn()
            .args(["check", "--idle-age", value, "--format", "json"])
            .json();
        assert_eq!(v["thresholds"]["idle_age_seconds"], 5400.0, "{value}: {v}");
    }
}
