//! `pgconn status` and `pgconn sessions` against a real PostgreSQL, compared with what the server reports.
//! Tests share one cluster and run in parallel: each one tags its sessions with a unique application name
//! and filters on it.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use pgconn::sandbox::Workload;
use serde_json::Value;
use support::{cluster, pgconn, server_pids, unique};

fn json_pids(v: &Value) -> BTreeSet<i32> {
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pid"].as_i64().unwrap() as i32)
        .collect()
}

#[test]
fn status_counts_states_and_groups_like_the_server() {
    let c = cluster();
    let tag = unique("status");
    let mut w = Workload::new();
    w.idle(c, 5, "postgres", "postgres", &format!("{tag}-idle"))
        .unwrap();
    w.idle_in_transaction(c, 2, "postgres", "postgres", &format!("{tag}-iit"))
        .unwrap();
    w.active(c, 1, "postgres", "postgres", &format!("{tag}-act"), 60)
        .unwrap();

    let v = pgconn()
        .args([
            "status",
            "--json",
            "--app",
            &format!("{tag}-*"),
            "--by",
            "application",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["sessions"], 8);
    assert_eq!(
        v["states"]["idle"],
        server_pids(&format!("{tag}-idle"), Some("idle")).len()
    );
    assert_eq!(v["states"]["idle"], 5);
    assert_eq!(v["states"]["idle_in_transaction"], 2);
    assert_eq!(v["states"]["active"], 1);
    assert_eq!(v["states"]["idle_in_transaction_aborted"], 0);
    assert_eq!(v["idle"]["count"], 5);
    assert_eq!(v["group_by"], serde_json::json!(["application"]));
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(
        groups[0]["application"],
        format!("{tag}-idle"),
        "largest group first"
    );
    assert_eq!(groups[0]["sessions"], 5);
    assert_eq!(groups[0]["states"]["idle"], 5);
    assert!(v["oldest_idle_in_transaction_seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(v["not_visible"], 0);
}

#[test]
fn capacity_is_the_servers_view() {
    let c = cluster();
    let tag = unique("cap");
    let mut w = Workload::new();
    w.idle(c, 3, "postgres", "postgres", &tag).unwrap();
    let mut su = support::superuser_client(c);
    let settings = su
        .query_one(
            "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int",
            &[],
        )
        .unwrap();
    let (max, reserved): (i32, i32) = (settings.get(0), settings.get(1));
    let v = pgconn()
        .args(["status", "--json"])
        .run()
        .assert_code(0)
        .json();
    let cap = &v["capacity"];
    assert_eq!(cap["max_connections"], max);
    assert_eq!(cap["superuser_reserved_connections"], reserved);
    let usable =
        i64::from(max - reserved - cap["reserved_connections"].as_i64().unwrap_or(0) as i32);
    assert_eq!(cap["usable_slots"], usable);
    // Other tests of this binary open and close sessions concurrently: the count lies between two readings.
    let used = cap["used"].as_i64().unwrap();
    assert!(
        used >= 3 + 2,
        "at least the workload, the ground-truth client and pgconn itself: {used}"
    );
    assert_eq!(cap["slots_left"].as_i64().unwrap(), (usable - used).max(0));
    let pct = cap["used_percent"].as_f64().unwrap();
    assert!((pct - used as f64 * 100.0 / usable as f64).abs() < 0.06);
}

#[test]
fn idle_ages_come_from_the_server() {
    let c = cluster();
    let tag = unique("ages");
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", &tag).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    w.idle(c, 2, "postgres", "postgres", &tag).unwrap();
    let v = pgconn()
        .args(["status", "--json", "--app", &tag])
        .run()
        .assert_code(0)
        .json();
    let mut su = support::superuser_client(c);
    let row = su
        .query_one(
            "SELECT extract(epoch FROM max(now() - state_change))::float8, \
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM now() - state_change))::float8 \
               FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'",
            &[&tag],
        )
        .unwrap();
    let (oldest, median): (f64, f64) = (row.get(0), row.get(1));
    let got_oldest = v["idle"]["oldest_seconds"].as_f64().unwrap();
    let got_median = v["idle"]["median_seconds"].as_f64().unwrap();
    assert!(
        got_oldest >= 1.4 && (oldest - got_oldest).abs() < 1.0,
        "oldest {got_oldest} vs server {oldest}"
    );
    assert!(
        (median - got_median).abs() < 1.0,
        "median {got_median} vs server {median}"
    );
    assert!(v["idle"]["p95_seconds"].as_f64().unwrap() <= got_oldest);
}

#[test]
fn verdict_names_a_leaking_application_and_old_idle_transactions() {
    let c = cluster();
    let tag = unique("leak");
    let mut w = Workload::new();
    w.idle(c, 12, "postgres", "postgres", &format!("{tag}-leaky"))
        .unwrap();
    w.idle(c, 3, "postgres", "postgres", &format!("{tag}-fine"))
        .unwrap();
    w.idle_in_transaction(c, 1, "postgres", "postgres", &format!("{tag}-tx"))
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let v = pgconn()
        .args(["status", "--json", "--app", &format!("{tag}-*")])
        .args([
            "--leak-idle-age",
            "1s",
            "--leak-min-sessions",
            "10",
            "--idle-in-transaction-age",
            "1s",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["verdict"]["status"], "WARNING");
    let reasons: Vec<&str> = v["verdict"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("leak") && r.contains(&format!("{tag}-leaky"))),
        "{reasons:?}"
    );
    assert!(
        !reasons.iter().any(|r| r.contains(&format!("{tag}-fine"))),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("idle in transaction")),
        "{reasons:?}"
    );
    let suspects = v["leak_suspects"].as_array().unwrap();
    assert_eq!(suspects.len(), 1);
    assert_eq!(suspects[0]["application"], format!("{tag}-leaky"));
    assert_eq!(suspects[0]["idle"], 12);
    let leaky = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["application"] == format!("{tag}-leaky"))
        .unwrap();
    assert_eq!(leaky["possible_leak"], true);

    // Young sessions are not a leak by age; they are when they hold a large share of the slots.
    let v = pgconn()
        .args([
            "status",
            "--json",
            "--app",
            &format!("{tag}-*"),
            "--leak-share",
            "99",
        ])
        .run()
        .json();
    assert!(v["leak_suspects"].as_array().unwrap().is_empty(), "{v}");
    let v = pgconn()
        .args([
            "status",
            "--json",
            "--app",
            &format!("{tag}-*"),
            "--leak-share",
            "3",
        ])
        .run()
        .json();
    assert_eq!(v["leak_suspects"][0]["application"], format!("{tag}-leaky"));
}

#[test]
fn capacity_thresholds_drive_the_verdict() {
    let v = pgconn()
        .args(["status", "--json", "--warn-used", "0", "--crit-used", "100"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["verdict"]["status"], "WARNING", "{v}");
    let v = pgconn()
        .args(["status", "--json", "--warn-used", "0", "--crit-used", "0"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["verdict"]["status"], "CRITICAL", "{v}");
}

#[test]
fn filters_include_and_exclude_with_wildcards() {
    let c = cluster();
    let tag = unique("filt");
    let db = tag.replace('-', "_");
    let mut su = support::superuser_client(c);
    su.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", &db, &format!("{tag}-a")).unwrap();
    w.idle(c, 3, "postgres", "postgres", &format!("{tag}-b"))
        .unwrap();

    let count = |extra: &[&str]| -> i64 {
        let v = pgconn()
            .args(["status", "--json"])
            .args(extra)
            .run()
            .assert_code(0)
            .json();
        v["sessions"].as_i64().unwrap()
    };
    let pat = format!("{tag}-*");
    assert_eq!(count(&["--app", &pat]), 5);
    assert_eq!(count(&["--app", &pat, "--db", &db]), 2);
    assert_eq!(count(&["--app", &pat, "--exclude-db", &db]), 3);
    assert_eq!(
        count(&["--app", &pat, "--exclude-app", &format!("{tag}-b")]),
        2
    );
    assert_eq!(
        count(&["--app", &format!("{tag}-a"), "--app", &format!("{tag}-b")]),
        5
    );
    assert_eq!(count(&["--app", &pat, "--client", "local"]), 5);
    assert_eq!(count(&["--app", &pat, "--client", "10.*"]), 0);
    assert_eq!(count(&["--app", &pat, "--user", "postgres"]), 5);
    assert_eq!(count(&["--app", &pat, "--exclude-user", "post*"]), 0);
    // LIKE metacharacters in a pattern match literally.
    assert_eq!(count(&["--app", &format!("{tag}_a")]), 0);
    drop(w);
}

#[test]
fn sessions_lists_exactly_the_servers_sessions() {
    let c = cluster();
    let tag = unique("ps");
    let mut w = Workload::new();
    w.idle(c, 3, "postgres", "postgres", &tag).unwrap();
    w.idle_in_transaction(c, 1, "postgres", "postgres", &tag)
        .unwrap();
    w.active(c, 1, "postgres", "postgres", &tag, 60).unwrap();
    let v = pgconn()
        .args(["sessions", "--json", "--app", &tag])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(json_pids(&v), server_pids(&tag, None));
    assert_eq!(v["count"], 5);
    let s = &v["sessions"][0];
    for field in [
        "pid",
        "database",
        "user",
        "application",
        "client",
        "state",
        "backend_start",
        "state_seconds",
        "query",
    ] {
        assert!(s.get(field).is_some(), "missing {field}: {s}");
    }
    assert!(s["backend_start"].as_str().unwrap().ends_with('Z'));
    // Longest in state first.
    let ages: Vec<f64> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state_seconds"].as_f64().unwrap())
        .collect();
    assert!(ages.windows(2).all(|w| w[0] >= w[1]), "{ages:?}");

    let v = pgconn()
        .args(["ps", "--json", "--app", &tag, "--state", "idle"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(json_pids(&v), server_pids(&tag, Some("idle")));
    let v = pgconn()
        .args([
            "sessions",
            "--json",
            "--app",
            &tag,
            "--state",
            "active",
            "--state",
            "idle-in-transaction",
        ])
        .run()
        .json();
    assert_eq!(v["count"], 2);
    let v = pgconn()
        .args([
            "sessions",
            "--json",
            "--app",
            &tag,
            "--idle-longer-than",
            "1h",
        ])
        .run()
        .json();
    assert_eq!(v["count"], 0);
    let v = pgconn()
        .args([
            "sessions",
            "--json",
            "--app",
            &tag,
            "--idle-longer-than",
            "0s",
        ])
        .run()
        .json();
    assert_eq!(
        v["count"], 4,
        "idle and idle in transaction, not the active one"
    );
    let v = pgconn()
        .args(["sessions", "--json", "--app", &tag, "--limit", "2"])
        .run()
        .json();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(v["count"], 5);
    // The limit is the statement's own (the server sends no more rows than are shown), and the counts
    // above are still over every match.
    let out = pgconn()
        .args([
            "sessions",
            "--json",
            "--app",
            &tag,
            "--limit",
            "2",
            "--show-sql",
        ])
        .run()
        .assert_code(0);
    let slot = out
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("LIMIT $"))
        .unwrap_or_else(|| panic!("no LIMIT in the statement:\n{}", out.stderr));
    assert!(
        out.stderr
            .lines()
            .any(|l| l == format!("-- ${slot} = Some(2)")),
        "{}",
        out.stderr
    );
}

#[test]
fn pgconn_leaves_its_own_session_out() {
    let tag = unique("self");
    let v = pgconn()
        .env("PGAPPNAME", &tag)
        .args(["sessions", "--json", "--app", &tag])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["count"], 0, "{v}");
    let v = pgconn()
        .args(["sessions", "--json", "--app", "pgconn"])
        .run()
        .json();
    let own: Vec<&Value> = v["sessions"].as_array().unwrap().iter().collect();
    // Other pgconn processes of this test binary may be connected; never this one, which is still running.
    assert!(own.iter().all(|s| s["application"] == "pgconn"));
}

#[test]
fn a_role_without_pg_read_all_stats_is_told_what_it_cannot_see() {
    let c = cluster();
    let tag = unique("priv");
    let role = tag.replace('-', "_");
    let mut su = support::superuser_client(c);
    su.batch_execute(&format!(
        "CREATE ROLE {role} LOGIN; CREATE ROLE {role}_other LOGIN"
    ))
    .unwrap();
    let mut w = Workload::new();
    w.idle(c, 2, &format!("{role}_other"), "postgres", &tag)
        .unwrap();
    w.idle(c, 1, &role, "postgres", &tag).unwrap();
    let v = pgconn()
        .args(["status", "--json", "-U", &role, "--app", &tag])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["not_visible"], 2, "{v}");
    assert_eq!(v["states"]["idle"], 1);
    assert_eq!(v["sessions"], 3);
    let warning = v["warnings"][0].as_str().unwrap();
    assert!(warning.contains("GRANT pg_read_all_stats"), "{warning}");
    let out = pgconn()
        .args(["sessions", "-U", &role, "--app", &tag])
        .run()
        .assert_code(0);
    assert!(out.stderr.contains("not visible"), "{}", out.stderr);
    su.batch_execute(&format!("GRANT pg_read_all_stats TO {role}"))
        .unwrap();
    let v = pgconn()
        .args(["status", "--json", "-U", &role, "--app", &tag])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["not_visible"], 0);
    assert_eq!(v["states"]["idle"], 3);
}

#[test]
fn sessions_limit_counts_the_sessions_it_could_not_see_over_every_match() {
    let c = cluster();
    let tag = unique("limit_hidden");
    let (weak, other) = (format!("{tag}_weak"), format!("{tag}_other"));
    support::superuser_client(c)
        .batch_execute(&format!(
            "CREATE ROLE {weak} LOGIN; CREATE ROLE {other} LOGIN"
        ))
        .unwrap();
    let mut w = Workload::new();
    w.idle(c, 3, &other, "postgres", &tag).unwrap();
    w.idle(c, 2, &weak, "postgres", &tag).unwrap();
    // Ground truth: what the server shows this role, all rows.
    let (hidden, all): (i64, i64) = {
        let mut as_weak = c.connect(&weak, "postgres", "ground-truth").unwrap();
        let r = as_weak
            .query_one(
                "SELECT count(*) FILTER (WHERE backend_type IS NULL), count(*) \
                 FROM pg_stat_activity WHERE application_name = $1",
                &[&tag],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((hidden, all), (3, 5), "the setup");
    // The hidden rows sort last: --limit 1 shows one of the role's own, and still counts them all.
    let v = pgconn()
        .args([
            "-U", &weak, "sessions", "--app", &tag, "--limit", "1", "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["sessions"][0]["visible"], true, "{v}");
    assert_eq!(v["count"], all, "{v}");
    assert_eq!(v["not_visible"], hidden, "{v}");
    let warning = v["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with(&format!(
            "{hidden} session(s) of other roles are not visible"
        )) && warning.contains("GRANT pg_read_all_stats"),
        "{warning}"
    );
    // In table mode the warning is on stderr, stdout says how many were shown.
    let out = pgconn()
        .args(["-U", &weak, "sessions", "--app", &tag, "--limit", "1"])
        .run()
        .assert_code(0);
    assert!(
        out.stderr.contains(&format!(
            "{hidden} session(s) of other roles are not visible"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains(&format!("(1 of {all} sessions shown)")),
        "{}",
        out.stdout
    );
    // No limit, and a limit past the end: the same counts.
    for limit in ["0", "10"] {
        let v = pgconn()
            .args([
                "-U", &weak, "sessions", "--app", &tag, "--limit", limit, "--json",
            ])
            .run()
            .assert_code(0)
            .json();
        assert_eq!(v["sessions"].as_array().unwrap().len() as i64, all, "{v}");
        assert_eq!(v["not_visible"], hidden, "{v}");
    }
    // A superuser sees everything: nothing hidden, none missing.
    let v = pgconn()
        .args(["sessions", "--app", &tag, "--limit", "1", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(
        (v["count"].as_i64(), v["not_visible"].as_i64()),
        (Some(all), Some(0))
    );
    // Nothing matches: the counts are zero, not missing.
    let v = pgconn()
        .args([
            "sessions",
            "--app",
            &format!("{tag}_none"),
            "--limit",
            "1",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(
        (v["count"].as_i64(), v["not_visible"].as_i64()),
        (Some(0), Some(0))
    );
}

#[test]
fn human_output_shows_the_verdict_and_groups() {
    let c = cluster();
    let tag = unique("human");
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", &tag).unwrap();
    let out = pgconn()
        .args(["status", "--app", &tag, "--color", "never"])
        .run()
        .assert_code(0);
    assert!(out.stdout.contains("capacity"), "{}", out.stdout);
    assert!(out.stdout.contains(&tag));
    assert!(out.stdout.contains("verdict OK"), "{}", out.stdout);
    assert!(
        !out.stdout.contains('\x1b'),
        "no colour when asked for none"
    );
    let out = pgconn()
        .args(["status", "--app", &tag, "--color", "always"])
        .run()
        .assert_code(0);
    assert!(out.stdout.contains('\x1b'));
    let out = pgconn()
        .args(["status", "--app", &tag])
        .env("NO_COLOR", "1")
        .run()
        .assert_code(0);
    assert!(!out.stdout.contains('\x1b'));
}

#[test]
fn show_sql_echoes_statements_on_stderr_only() {
    let out = pgconn()
        .args(["status", "--json", "--show-sql"])
        .run()
        .assert_code(0);
    assert!(
        out.stderr.contains("FROM pg_stat_get_activity(NULL)"),
        "{}",
        out.stderr
    );
    serde_json::from_str::<Value>(&out.stdout).expect("stdout stays pure JSON");
}

#[test]
fn without_pg_read_all_stats_only_client_sessions_count_as_used() {
    // A cluster of its own, so that nothing else connects between the two readings.
    let c = support::start_cluster(&pgconn::sandbox::ClusterOptions::default());
    c.psql("CREATE ROLE weak LOGIN; CREATE ROLE other LOGIN")
        .unwrap();
    let mut w = Workload::new();
    w.idle(&c, 2, "other", "postgres", "others").unwrap();
    let as_super = pgconn()
        .env_cluster(&c)
        .args(["status", "--json"])
        .run()
        .assert_code(0)
        .json();
    let as_weak = pgconn()
        .env_cluster(&c)
        .args(["-U", "weak", "status", "--json"])
        .run()
        .assert_code(0)
        .json();
    // Both see the two sessions and pgconn's own; the logical replication launcher (a background process
    // with a role but no database) is not a client session and holds no slot.
    assert_eq!(as_super["capacity"]["used"], 3, "{as_super}");
    assert_eq!(as_weak["capacity"]["used"], 3, "{as_weak}");
    assert_eq!(as_weak["not_visible"], 2);
}

/// Every string (key or value) in a JSON document.
fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                json_strings(x, out);
            }
        }
        _ => {}
    }
}

#[test]
fn one_spelling_per_state_in_json_and_every_spelling_on_the_command_line() {
    let c = cluster();
    let tag = unique("spelling");
    let mut w = Workload::new();
    w.idle_in_transaction(c, 2, &support::app_role(), "postgres", &tag)
        .unwrap();
    let docs = [
        pgconn().args(["sessions", "--app", &tag, "--json"]).json(),
        pgconn()
            .args(["status", "--app", &tag, "--by", "state", "--json"])
            .json(),
        pgconn()
            .args(["kill", "--app", &tag, "--dry-run", "--json"])
            .json(),
    ];
    for v in &docs {
        let mut strings = Vec::new();
        json_strings(v, &mut strings);
        for bad in ["idle in transaction", "idle-in-transaction"] {
            assert!(!strings.iter().any(|s| s == bad), "{bad:?} in {v:#}");
        }
        assert!(strings.iter().any(|s| s == "idle_in_transaction"), "{v:#}");
    }
    assert_eq!(docs[0]["sessions"][0]["state"], "idle_in_transaction");
    assert_eq!(docs[1]["groups"][0]["state"], "idle_in_transaction");
    assert_eq!(docs[1]["states"]["idle_in_transaction"], 2);
    for spelling in [
        "idle-in-transaction",
        "idle_in_transaction",
        "idle in transaction",
    ] {
        let v = pgconn()
            .args(["sessions", "--app", &tag, "--state", spelling, "--json"])
            .json();
        assert_eq!(v["count"], 2, "--state {spelling:?}");
        let v = pgconn()
            .args([
                "kill-idle",
                "--older-than",
                "0s",
                "--app",
                &tag,
                "--state",
                spelling,
                "--dry-run",
                "--json",
            ])
            .json();
        assert_eq!(
            v["targets"].as_array().unwrap().len(),
            2,
            "--state {spelling:?}"
        );
    }
}

/// Statements pgconn sent, as --show-sql echoes them (each ends with a line ending in `;`).
fn statements_sent(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| !l.trim_start().starts_with("--") && l.trim_end().ends_with(';'))
        .count()
}

#[test]
fn read_commands_send_one_statement_after_connecting() {
    let c = cluster();
    let tag = unique("one-statement");
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", &tag).unwrap();
    for (args, sessions) in [
        (vec!["status", "--json"], None),
        (vec!["sessions", "--json", "--app", tag.as_str()], Some(2)),
        // Nothing matches: the statement still brings the server's facts.
        (
            vec!["sessions", "--json", "--app", "no-such-app-*"],
            Some(0),
        ),
        (vec!["check"], None),
        // kill's plan too (a dry run sends nothing else), whether anything matches or not.
        (
            vec![
                "kill-idle",
                "--older-than",
                "0s",
                "--app",
                tag.as_str(),
                "--dry-run",
            ],
            None,
        ),
        (
            vec![
                "kill-idle",
                "--older-than",
                "0s",
                "--app",
                "no-such-app-*",
                "--dry-run",
            ],
            None,
        ),
    ] {
        let out = pgconn().env_cluster(c).arg("--show-sql").args(&args).run();
        assert!(matches!(out.status, 0..=2), "{args:?}: {}", out.stderr);
        assert_eq!(statements_sent(&out.stderr), 1, "{args:?}:\n{}", out.stderr);
        if let Some(n) = sessions {
            let v: Value = serde_json::from_str(&out.stdout).unwrap();
            assert_eq!(v["count"], n, "{args:?}");
            assert_eq!(json_pids(&v).len(), n as usize);
        }
    }
}

/// Run pgconn in an 80×24 pseudo-terminal until it ends; what the screen shows, each line it printed
/// (CR LF split off) and where a line ran past column 80.
fn on_an_80_by_24_terminal(cmd: std::process::Command) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut cmd = cmd;
    cmd.env("TERM", "xterm").env("NO_COLOR", "1");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.get_process_mut().set_window_size(80, 24).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(90)));
    let text = support::until_eof(&mut p);
    let mut screen = support::screen::Screen::new(80, 24);
    screen.feed(&text);
    let printed = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    (screen.lines(), printed, screen.overflows)
}

fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| unicode_width::UnicodeWidthChar::width(c).unwrap_or(0))
        .sum()
}

#[test]
fn the_terminal_model_places_text_and_sees_overflows() {
    let mut s = support::screen::Screen::new(10, 3);
    s.feed("\x1b[?1049h\x1b[1;1Habc\x1b[K\x1b[2;3H日本\r\n0123456789");
    assert_eq!(s.lines(), ["abc", "  日本", "0123456789"]);
    assert!(s.overflows.is_empty());
    s.feed("x");
    assert_eq!(s.overflows.len(), 1, "{:?}", s.overflows);
    s.feed("\x1b[1;1H\x1b[?1049l\x1b[1;1Hafter");
    assert!(!s.lines().concat().contains("after"));
}

#[test]
fn status_fits_an_80_column_terminal_with_long_names_cut() {
    let c = cluster();
    let tag = unique("fit80");
    let long = format!("{tag}-with-a-long-application-name-from-a-framework");
    let mut w = Workload::new();
    w.idle(c, 3, "postgres", "postgres", &tag).unwrap();
    w.idle_in_transaction(c, 1, "postgres", "postgres", &tag)
        .unwrap();
    w.idle(c, 2, "postgres", "postgres", &long).unwrap();
    let (screen, printed, overflows) = on_an_80_by_24_terminal(
        pgconn()
            .args(["status", "--app", &format!("{tag}*")])
            .command(),
    );
    assert!(overflows.is_empty(), "{overflows:#?}\n{printed:#?}");
    for l in &printed {
        assert!(display_width(l) <= 80, "{} columns: {l}", display_width(l));
    }
    // One row per group, the long name cut with … on its own row, the counts as the server has them.
    assert!(
        printed
            .iter()
            .any(|l| l.starts_with(" DATABASE") && l.contains("OLDEST IDLE")),
        "{printed:#?}"
    );
    let (rows, long_row) = support::screen::group_rows_with_a_cut_name(&printed, &long);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let sessions_of = |app: &str| -> i64 {
        support::ground_truth_count(
            c,
            &format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}'"),
        )
    };
    let cells: Vec<&str> = long_row.split_whitespace().collect();
    assert_eq!(
        cells[3].parse::<i64>().unwrap(),
        sessions_of(&long),
        "{long_row}"
    );
    let short_row = rows.iter().find(|r| !r.contains('…')).unwrap();
    let cells: Vec<&str> = short_row.split_whitespace().collect();
    assert_eq!(cells[2], tag, "{short_row}");
    assert_eq!(
        cells[3].parse::<i64>().unwrap(),
        sessions_of(&tag),
        "{short_row}"
    );
    // The last screen a person sees ends with the verdict, every line within the 80 columns.
    assert!(
        screen.iter().any(|l| l.starts_with("verdict")),
        "{screen:#?}"
    );
}

#[test]
fn the_quick_start_sandbox_status_fits_80_columns() {
    let (screen, printed, overflows) = on_an_80_by_24_terminal(
        pgconn()
            .no_cluster_env()
            .args(["sandbox", "--leak", "40", "--", "status"])
            .command(),
    );
    assert!(overflows.is_empty(), "{overflows:#?}\n{printed:#?}");
    let header = printed
        .iter()
        .position(|l| l.starts_with(" DATABASE"))
        .unwrap_or_else(|| panic!("{printed:#?}"));
    let rows: Vec<&String> = printed[header + 2..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .collect();
    // Three groups, one line each: the leak, the idle transactions, the long query.
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert!(
        rows.iter()
            .any(|r| r.contains("leaky-worker") && r.contains("40 leak?")),
        "{rows:#?}"
    );
    assert!(
        screen.iter().any(|l| l.starts_with("verdict")),
        "{screen:#?}"
    );
}
