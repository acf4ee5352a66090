//! `pgconn kill-idle` and `pgconn kill` against a real PostgreSQL: exactly the previewed sessions, re-checked
//! at the moment of action, with the server's own view before and after. Each test tags its sessions with a
//! unique application name and filters on it, since tests share one cluster and run in parallel.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use pgconn::sandbox::Workload;
use serde_json::Value;
use support::{app_role, cluster, pgconn, server_pids, unique};

/// The pgconn binary as a plain command (for a pseudo-terminal), pointed at the test cluster.
fn pgconn_command(args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pgconn"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(cluster().env()).env("NO_COLOR", "1").args(args);
    cmd
}

/// pgconn's own library, connected to the test cluster.
fn library_db(c: &pgconn::sandbox::Cluster) -> pgconn::db::Db {
    library_db_as(c, "postgres")
}

fn library_db_as(c: &pgconn::sandbox::Cluster, user: &str) -> pgconn::db::Db {
    let conn = pgconn::cli::ConnArgs {
        dbname: vec![c.conninfo(user, "postgres")],
        ..Default::default()
    };
    let spec = pgconn::db::resolve_spec(&conn, Some(&conn.dbname[0]), None).unwrap();
    pgconn::db::Db::connect(spec, false, false).unwrap()
}

fn default_safety() -> pgconn::cli::KillSafety {
    pgconn::cli::KillSafety {
        dry_run: false,
        yes: true,
        include_superusers: false,
        protect_app: vec![],
        protect_user: vec![],
        if_more_than: None,
        keep: None,
        max: None,
        log: None,
        batch_size: 1000,
    }
}

/// Wait until none of `pids` is a backend any more (termination is asynchronous).
fn wait_gone(pids: &BTreeSet<i32>) {
    let list: Vec<i32> = pids.iter().copied().collect();
    let ok = support::wait_until(Duration::from_secs(10), || {
        let mut c = support::superuser_client(cluster());
        let n: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)",
                &[&list],
            )
            .unwrap()
            .get(0);
        n == 0
    });
    assert!(ok, "sessions {pids:?} still present");
}

fn outcome_pids(v: &Value, outcome: &str) -> BTreeSet<i32> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == outcome)
        .map(|r| r["pid"].as_i64().unwrap() as i32)
        .collect()
}

#[test]
fn dry_run_terminates_nothing() {
    let c = cluster();
    let tag = unique("dry");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 3, &role, "postgres", &tag).unwrap();
    let before = server_pids(&tag, None);
    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--dry-run",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["acted"], false);
    let targets: BTreeSet<i32> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["pid"].as_i64().unwrap() as i32)
        .collect();
    assert_eq!(targets, before);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server_pids(&tag, None),
        before,
        "dry run must not terminate anything"
    );
}

#[test]
fn yes_terminates_exactly_the_idle_sessions_older_than_the_threshold() {
    let c = cluster();
    let tag = unique("exact");
    let role = app_role();
    let mut old = Workload::new();
    old.idle(c, 3, &role, "postgres", &tag).unwrap();
    let old_pids: BTreeSet<i32> = old.pids().into_iter().collect();
    std::thread::sleep(Duration::from_millis(2500));
    let mut young = Workload::new();
    young.idle(c, 2, &role, "postgres", &tag).unwrap();
    young.active(c, 1, &role, "postgres", &tag, 120).unwrap();
    young
        .idle_in_transaction(c, 1, &role, "postgres", &tag)
        .unwrap();
    let spared: BTreeSet<i32> = young.pids().into_iter().collect();

    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "2s",
            "--app",
            &tag,
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(outcome_pids(&v, "terminated"), old_pids, "{v}");
    assert_eq!(v["summary"]["terminated"], 3);
    assert_eq!(v["summary"]["skipped"], 0);
    wait_gone(&old_pids);
    assert_eq!(
        server_pids(&tag, None),
        spared,
        "the younger, active and idle-in-transaction sessions stay"
    );
    assert!(v["before"]["idle"].as_i64().unwrap() >= 5);
    assert!(v["after"].is_object());
}

#[test]
fn state_option_selects_idle_in_transaction() {
    let c = cluster();
    let tag = unique("iit");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &tag).unwrap();
    w.idle_in_transaction(c, 2, &role, "postgres", &tag)
        .unwrap();
    let iit = server_pids(&tag, Some("idle in transaction"));
    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--state",
            "idle-in-transaction",
            "--app",
            &tag,
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(outcome_pids(&v, "terminated"), iit);
    wait_gone(&iit);
    assert_eq!(server_pids(&tag, Some("idle")).len(), 2);
}

#[test]
fn refuses_without_a_terminal_and_touches_nothing() {
    let c = cluster();
    let tag = unique("refuse");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &tag).unwrap();
    let before = server_pids(&tag, None);
    let out = pgconn()
        .args(["kill-idle", "--older-than", "0s", "--app", &tag])
        .run()
        .assert_code(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(server_pids(&tag, None), before);
    let out = pgconn().args(["kill", "--app", &tag]).run().assert_code(2);
    assert!(out.stderr.contains("--yes"));
    // kill without any selection is refused too.
    let out = pgconn().args(["kill", "--yes"]).run().assert_code(2);
    assert!(out.stderr.contains("--all"), "{}", out.stderr);
    assert_eq!(server_pids(&tag, None), before);
}

#[test]
fn a_session_that_turns_active_after_the_preview_is_skipped() {
    let c = cluster();
    let tag = unique("race");
    let role = app_role();
    let mut client = c.connect(&role, "postgres", &tag).unwrap();
    client.batch_execute("SELECT 1").unwrap();
    let victim: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let mut other = Workload::new();
    other.idle(c, 1, &role, "postgres", &tag).unwrap();
    std::thread::sleep(Duration::from_millis(1200));

    let mut p = expectrl::Session::spawn(pgconn_command(&[
        "kill-idle",
        "--older-than",
        "1s",
        "--app",
        &tag,
        "--json",
    ]))
    .unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    p.expect("Terminate 2 sessions?").unwrap();
    // Between the preview and the answer, the first session starts a long query.
    let busy = std::thread::spawn(move || {
        let _ = client.batch_execute("SELECT pg_sleep(5)");
        client
    });
    let mut su = support::superuser_client(c);
    assert!(support::wait_until(Duration::from_secs(10), || {
        let st: Option<String> = su
            .query_one(
                "SELECT state FROM pg_stat_activity WHERE pid = $1",
                &[&victim],
            )
            .unwrap()
            .get(0);
        st.as_deref() == Some("active")
    }));
    p.send_line("y").unwrap();
    let rest = p.expect(expectrl::Eof).unwrap();
    let mut bytes = rest.before().to_vec();
    for m in rest.matches() {
        bytes.extend_from_slice(m);
    }
    let text = String::from_utf8_lossy(&bytes).to_string();
    let json_start = text
        .find("{\r\n")
        .or_else(|| text.find("{\n"))
        .unwrap_or_else(|| panic!("JSON after the prompt: {text:?}"));
    let v: Value =
        serde_json::from_str(text[json_start..].trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    let skipped = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pid"] == victim)
        .unwrap()
        .clone();
    assert_eq!(skipped["outcome"], "skipped", "{v}");
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("became active"),
        "{skipped}"
    );
    assert_eq!(v["summary"]["terminated"], 1);
    assert!(
        server_pids(&tag, None).contains(&victim),
        "the busy session is still connected"
    );
    let _client = busy.join().unwrap();
}

#[test]
fn a_reused_pid_is_never_hit() {
    use pgconn::activity::{snapshot, Filter};
    use pgconn::commands::kill::{signal_targets, Action, Target};

    let c = cluster();
    let tag = unique("reuse");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &tag).unwrap();
    let mut db = library_db(c);
    let mut filter = Filter {
        app: vec![tag.clone()],
        ..Filter::default()
    };
    filter.states = vec!["idle".into()];
    let snap = snapshot(&mut db, &filter, true).unwrap();
    assert_eq!(snap.sessions.len(), 2);
    // The first target's pid now belongs to "another" session: its backend_start does not match.
    let mut targets: Vec<Target> = snap
        .sessions
        .into_iter()
        .map(|s| Target {
            session: s,
            allowed: true,
        })
        .collect();
    targets[0].session.backend_start = Some("2001-01-01T00:00:00.000000Z".into());
    let safety = default_safety();
    let out = signal_targets(&mut db, &filter, &safety, Action::Terminate, &targets).unwrap();
    let first = out
        .iter()
        .find(|o| o.pid == targets[0].session.pid)
        .unwrap();
    assert_eq!(first.outcome, "skipped");
    assert!(
        first.reason.as_deref().unwrap().contains("replaced"),
        "{:?}",
        first.reason
    );
    let second = out
        .iter()
        .find(|o| o.pid == targets[1].session.pid)
        .unwrap();
    assert_eq!(second.outcome, "terminated");
    std::thread::sleep(Duration::from_millis(300));
    assert!(server_pids(&tag, None).contains(&targets[0].session.pid));
}

#[test]
fn keep_if_more_than_and_max() {
    let c = cluster();
    let tag = unique("guards");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 5, &role, "postgres", &tag).unwrap();

    // --if-more-than: 5 match, not more than 5: nothing happens, exit 0.
    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--if-more-than",
            "5",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["threshold_met"], false);
    assert_eq!(v["acted"], false);
    assert_eq!(server_pids(&tag, None).len(), 5);

    // --keep 2: the two most recently active stay.
    let mut su = support::superuser_client(c);
    let newest: BTreeSet<i32> = su
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY state_change DESC, pid LIMIT 2",
            &[&tag],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--keep",
            "2",
            "--max",
            "2",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["kept"], 2);
    assert_eq!(v["capped"], 1, "--max 2 of the 3 that remain");
    let killed = outcome_pids(&v, "terminated");
    assert_eq!(killed.len(), 2);
    assert!(killed.is_disjoint(&newest));
    wait_gone(&killed);
    let left = server_pids(&tag, None);
    assert_eq!(left.len(), 3);
    assert!(newest.is_subset(&left));

    // --if-more-than 2 with 3 left: acts.
    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--if-more-than",
            "2",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["summary"]["terminated"], 3);
}

#[test]
fn protected_superuser_and_own_sessions_are_untouched() {
    let c = cluster();
    let tag = unique("protect");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", &tag).unwrap(); // superuser sessions
    w.idle(c, 2, &role, "postgres", &format!("{tag}-keepme"))
        .unwrap();
    w.idle(c, 1, &role, "postgres", &tag).unwrap();
    let su_pids = server_pids(&tag, None);
    let v = pgconn()
        .env("PGAPPNAME", &tag) // pgconn's own session matches the filter too
        .args([
            "kill",
            "--all",
            "--app",
            &format!("{tag}*"),
            "--protect-app",
            "*-keepme",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["protected"]["superuser"], 2, "{v}");
    assert_eq!(v["protected"]["protect_app"], 2);
    assert_eq!(v["summary"]["terminated"], 1);
    let killed = outcome_pids(&v, "terminated");
    wait_gone(&killed);
    assert_eq!(server_pids(&format!("{tag}-keepme"), None).len(), 2);
    assert_eq!(
        server_pids(&tag, None),
        su_pids.difference(&killed).copied().collect()
    );

    // --protect-user, and --include-superusers.
    let v = pgconn()
        .args([
            "kill",
            "--app",
            &tag,
            "--protect-user",
            "post*",
            "--include-superusers",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["protected"]["protect_user"], 2);
    assert_eq!(v["summary"]["targeted"], 0);
    let v = pgconn()
        .args([
            "kill",
            "--app",
            &tag,
            "--include-superusers",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["summary"]["terminated"], 2);
}

#[test]
fn the_audit_log_records_every_session_and_a_summary() {
    let c = cluster();
    let tag = unique("log");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &tag).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kill.jsonl");
    std::fs::write(&log, "{\"earlier\":true}\n").unwrap();
    let pids = server_pids(&tag, None);
    pgconn()
        .env("PGPASSWORD", "s3cret-never-logged")
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--yes",
            "--log",
        ])
        .arg(&log)
        .run()
        .assert_code(0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("s3cret"), "no secrets in the log");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        4,
        "appended: the earlier line, two sessions, one summary"
    );
    assert_eq!(lines[0]["earlier"], true);
    for l in &lines[1..3] {
        assert_eq!(l["event"], "session");
        assert_eq!(l["outcome"], "terminated");
        assert!(pids.contains(&(l["pid"].as_i64().unwrap() as i32)));
        for f in [
            "time",
            "server",
            "backend_start",
            "database",
            "user",
            "application",
            "client",
            "state",
            "state_seconds",
        ] {
            assert!(!l[f].is_null(), "{f} missing in {l}");
        }
        assert_eq!(l["application"], tag);
    }
    assert_eq!(lines[3]["event"], "summary");
    assert_eq!(lines[3]["terminated"], 2);

    // A log that cannot be opened: nothing is terminated.
    let mut w2 = Workload::new();
    w2.idle(c, 1, &role, "postgres", &tag).unwrap();
    let before = server_pids(&tag, None);
    let out = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--yes",
            "--log",
            "/nonexistent-dir/kill.jsonl",
        ])
        .run()
        .assert_code(1);
    assert!(out.stderr.contains("audit log"), "{}", out.stderr);
    assert_eq!(server_pids(&tag, None), before);
}

#[test]
fn a_role_without_pg_signal_backend_gets_permission_denied() {
    let c = cluster();
    let tag = unique("deny");
    let weak = tag.replace('-', "_");
    let role = app_role();
    let mut su = support::superuser_client(c);
    su.batch_execute(&format!(
        "CREATE ROLE {weak} LOGIN; GRANT pg_read_all_stats TO {weak}"
    ))
    .unwrap();
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &tag).unwrap(); // another role's sessions
    w.idle(c, 1, &weak, "postgres", &tag).unwrap(); // its own
    let out = pgconn()
        .args([
            "-U",
            &weak,
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(1);
    let v = out.json();
    let denied = outcome_pids(&v, "denied");
    assert_eq!(denied.len(), 2, "{v}");
    for r in v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "denied")
    {
        assert!(
            r["reason"].as_str().unwrap().contains("permission denied"),
            "{r}"
        );
    }
    assert_eq!(
        outcome_pids(&v, "terminated").len(),
        1,
        "its own role's session"
    );
    let previewed_denied = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["allowed"] == false)
        .count();
    assert_eq!(previewed_denied, 2, "the preview marks them");
    assert_eq!(server_pids(&tag, None).len(), 2);
}

#[test]
fn cancel_stops_the_query_and_keeps_the_session() {
    let c = cluster();
    let tag = unique("cancel");
    let role = app_role();
    let mut w = Workload::new();
    w.active(c, 1, &role, "postgres", &tag, 120).unwrap();
    let pids = server_pids(&tag, Some("active"));
    std::thread::sleep(Duration::from_millis(1100));
    let v = pgconn()
        .args([
            "kill",
            "--app",
            &tag,
            "--running-longer-than",
            "1s",
            "--cancel",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["action"], "cancel");
    assert_eq!(outcome_pids(&v, "cancelled"), pids);
    assert!(support::wait_until(Duration::from_secs(10), || {
        server_pids(&tag, Some("active")).is_empty()
    }));
    assert_eq!(server_pids(&tag, None), pids, "still connected");
}

#[test]
fn kill_by_pid_and_kill_all_keep_pgconns_own_session() {
    let c = cluster();
    let tag = unique("bypid");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 3, &role, "postgres", &tag).unwrap();
    let pids: Vec<i32> = server_pids(&tag, None).into_iter().collect();
    let v = pgconn()
        .args(["kill", "--pid", &pids[0].to_string(), "--yes", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(outcome_pids(&v, "terminated"), BTreeSet::from([pids[0]]));
    wait_gone(&BTreeSet::from([pids[0]]));

    // --all restricted to this test's sessions and pgconn's own (same application name).
    let v = pgconn()
        .env("PGAPPNAME", &tag)
        .args([
            "kill",
            "--all",
            "--app",
            &tag,
            "--include-superusers",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(
        outcome_pids(&v, "terminated"),
        pids[1..].iter().copied().collect()
    );
    assert_eq!(v["matched"], 2, "its own session is never a candidate");
}

#[test]
fn answering_no_at_the_prompt_terminates_nothing() {
    let c = cluster();
    let tag = unique("declined");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &tag).unwrap();
    let before = server_pids(&tag, None);
    let mut p = expectrl::Session::spawn(pgconn_command(&[
        "kill-idle",
        "--older-than",
        "0s",
        "--app",
        &tag,
    ]))
    .unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    p.expect("Terminate 2 sessions? [y/N]").unwrap();
    p.send_line("n").unwrap();
    p.expect("nothing was done").unwrap();
    p.expect(expectrl::Eof).unwrap();
    let status = p.get_process().wait().unwrap();
    assert!(
        matches!(status, expectrl::WaitStatus::Exited(_, 2)),
        "{status:?}"
    );
    assert_eq!(server_pids(&tag, None), before);
}

#[test]
fn a_session_the_role_cannot_see_is_never_hit() {
    use pgconn::activity::{snapshot, Filter};
    use pgconn::commands::kill::{signal_targets, Action, Target};

    // A role that may signal everybody's sessions but not see their state (no pg_read_all_stats).
    let c = cluster();
    let tag = unique("blind");
    let ops = tag.replace('-', "_");
    let role = app_role();
    support::superuser_client(c)
        .batch_execute(&format!(
            "CREATE ROLE {ops} LOGIN; GRANT pg_signal_backend TO {ops}"
        ))
        .unwrap();
    let mut w = Workload::new();
    w.active(c, 1, &role, "postgres", &tag, 60).unwrap();
    let victim = *server_pids(&tag, None).iter().next().unwrap();

    // A stale plan naming that pid as an idle session (as after a pid reuse): state and backend_start of
    // the live session are hidden from this role, so nothing can be re-checked, and nothing may happen.
    let mut db = library_db_as(c, &ops);
    let mut filter = Filter {
        app: vec![tag.clone()],
        ..Filter::default()
    };
    filter.states = vec!["idle".into()];
    let hidden = snapshot(
        &mut db,
        &Filter {
            app: vec![tag.clone()],
            ..Filter::default()
        },
        true,
    )
    .unwrap();
    assert!(
        hidden.sessions.iter().all(|s| !s.visible),
        "the role cannot see the session"
    );
    let mut session = hidden.sessions.into_iter().next().unwrap();
    session.backend_start = Some("2020-01-01T00:00:00.000000Z".into());
    session.state = Some("idle".into());
    let targets = vec![Target {
        session,
        allowed: true,
    }];
    let out = signal_targets(
        &mut db,
        &filter,
        &default_safety(),
        Action::Terminate,
        &targets,
    )
    .unwrap();
    assert_eq!(out[0].outcome, "skipped", "{:?}", out[0]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server_pids(&tag, None).contains(&victim),
        "the hidden session is still there"
    );

    // And the command never offers hidden sessions as targets.
    let v = pgconn()
        .args(["-U", &ops, "kill", "--app", &tag, "--yes", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["protected"]["not_visible"], 1, "{v}");
    assert_eq!(v["summary"]["targeted"], 0);
}

#[test]
fn json_mode_still_shows_the_plan_before_asking() {
    let c = cluster();
    let tag = unique("jsonplan");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 1, &role, "postgres", &tag).unwrap();
    let mut p = expectrl::Session::spawn(pgconn_command(&[
        "kill-idle",
        "--older-than",
        "0s",
        "--app",
        &tag,
        "--json",
    ]))
    .unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    let before_prompt = p.expect("Terminate 1 session?").unwrap();
    let shown = String::from_utf8_lossy(before_prompt.before()).to_string();
    assert!(
        shown.contains("will terminate 1 session") && shown.contains(&tag),
        "{shown}"
    );
    p.send_line("n").unwrap();
    p.expect(expectrl::Eof).unwrap();
    assert_eq!(server_pids(&tag, None).len(), 1);
}

#[test]
fn what_was_done_before_a_failure_is_returned_with_the_error() {
    use pgconn::activity::{snapshot, Filter};
    use pgconn::commands::kill::{signal_targets_with, Action, Target};

    let c = cluster();
    let tag = unique("partial");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 3, &role, "postgres", &tag).unwrap();
    let mut db = library_db(c);
    let filter = Filter {
        app: vec![tag.clone()],
        ..Filter::default()
    };
    let targets: Vec<Target> = snapshot(&mut db, &filter, true)
        .unwrap()
        .sessions
        .into_iter()
        .map(|s| Target {
            session: s,
            allowed: true,
        })
        .collect();
    let mut safety = default_safety();
    safety.batch_size = 1;
    let mut batches = 0;
    // The audit log "fails" after the first batch: the run stops there, and reports what it did.
    let (done, result) = signal_targets_with(
        &mut db,
        &filter,
        &safety,
        Action::Terminate,
        &targets,
        &mut |b| {
            batches += 1;
            assert_eq!(b.len(), 1);
            if batches == 1 {
                Ok(())
            } else {
                Err(anyhow::anyhow!("disk full"))
            }
        },
    );
    assert!(result.is_err());
    assert_eq!(
        done.len(),
        2,
        "both signalled batches are reported, the failed log write included"
    );
    assert!(done.iter().all(|o| o.outcome == "terminated"));
    let gone: BTreeSet<i32> = done.iter().map(|o| o.pid).collect();
    wait_gone(&gone);
    assert_eq!(
        server_pids(&tag, None).len(),
        1,
        "the third session was never touched"
    );
}
