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
    support::library_db(&c.conninfo(user, "postgres"))
}

fn default_safety() -> pgconn::commands::kill::KillSafety {
    pgconn::commands::kill::KillSafety::default()
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
    turns_active_after_the_preview(&[]);
}

/// The same race over the emergency route (a WAL sender connection): the same re-check in the same
/// statement, its parameters written as literals.
#[test]
fn a_session_that_turns_active_after_the_preview_is_skipped_over_the_emergency_route() {
    let v = turns_active_after_the_preview(&["--break-glass", "always"]);
    assert_eq!(v["connection"]["via"], "replication", "{v}");
}

fn turns_active_after_the_preview(route: &[&str]) -> Value {
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

    let mut args = route.to_vec();
    args.extend(["kill-idle", "--older-than", "1s", "--app", &tag, "--json"]);
    let mut p = expectrl::Session::spawn(pgconn_command(&args)).unwrap();
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
    let v = support::json_after_prompt(&mut p);
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
    v
}

#[test]
fn a_reused_pid_is_never_hit() {
    use pgconn::activity::{sessions, Filter};
    use pgconn::commands::kill::signal_targets;
    use pgconn::report::kill::{Action, KillTarget, OutcomeKind};

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
    filter.states = vec![pgconn::report::State::Idle];
    let snap = sessions(&mut db, &filter, true, None).unwrap().sessions;
    assert_eq!(snap.len(), 2);
    // The first target's pid now belongs to "another" session: its backend_start does not match.
    let mut targets: Vec<KillTarget> = snap
        .into_iter()
        .map(|s| KillTarget {
            session: s,
            allowed: true,
            blocker: None,
        })
        .collect();
    targets[0].session.backend_start = Some("2001-01-01T00:00:00.000000Z".into());
    let safety = default_safety();
    let out = signal_targets(&mut db, &filter, &safety, Action::Terminate, &targets).unwrap();
    let first = out
        .iter()
        .find(|o| o.pid == targets[0].session.pid)
        .unwrap();
    assert_eq!(first.outcome, OutcomeKind::Skipped);
    assert!(
        first.reason.as_deref().unwrap().contains("replaced"),
        "{:?}",
        first.reason
    );
    let second = out
        .iter()
        .find(|o| o.pid == targets[1].session.pid)
        .unwrap();
    assert_eq!(second.outcome, OutcomeKind::Terminated);
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
    let events: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["plan", "target", "target", "session", "session", "summary"],
        "appended after the earlier line: the plan, the batch's targets before it was signalled, their \
         outcomes after, the summary"
    );
    assert_eq!(lines[0]["earlier"], true);
    assert_eq!(lines[1]["targeted"], 2);
    for l in &lines[2..6] {
        assert!(pids.contains(&(l["pid"].as_i64().unwrap() as i32)));
        assert!(
            l.get("query").is_none(),
            "no query text without --log-queries: {l}"
        );
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
    for l in &lines[4..6] {
        assert_eq!(l["outcome"], "terminated");
        // Recorded before the server signalled it.
        let target = lines[2..4].iter().find(|t| t["pid"] == l["pid"]).unwrap();
        let recorded = humantime::parse_rfc3339(target["time"].as_str().unwrap()).unwrap();
        let signalled = humantime::parse_rfc3339(l["at"].as_str().unwrap()).unwrap();
        assert!(
            recorded <= signalled + Duration::from_millis(50),
            "{target} / {l}"
        );
    }
    assert_eq!(lines[6]["terminated"], 2);
    assert!(lines[6]["before"].is_object() && lines[6]["after"].is_object());

    // A new log is created mode 0600.
    let fresh = dir.path().join("fresh.jsonl");
    let mut w1 = Workload::new();
    w1.idle(c, 1, &role, "postgres", &tag).unwrap();
    pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--yes",
            "--log",
        ])
        .arg(&fresh)
        .run()
        .assert_code(0);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
        0o600
    );

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
    // A cancel's clients keep their connections: the plan says they get 57014, not 57P01.
    let note = clients_note(&v, "57014").unwrap_or_else(|| panic!("{v:#}"));
    assert!(note.ends_with(&format!("\"{tag}\" (1 session)")), "{note}");
    assert_eq!(clients_note(&v, "57P01"), None, "{v:#}");
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
    use pgconn::activity::{sessions, Filter};
    use pgconn::commands::kill::signal_targets;
    use pgconn::report::kill::{Action, KillTarget, OutcomeKind};

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
    filter.states = vec![pgconn::report::State::Idle];
    let hidden = sessions(
        &mut db,
        &Filter {
            app: vec![tag.clone()],
            ..Filter::default()
        },
        true,
        None,
    )
    .unwrap()
    .sessions;
    assert!(
        hidden.iter().all(|s| !s.visible),
        "the role cannot see the session"
    );
    let mut session = hidden.into_iter().next().unwrap();
    session.backend_start = Some("2020-01-01T00:00:00.000000Z".into());
    session.state = Some(pgconn::report::State::Idle);
    let targets = vec![KillTarget {
        session,
        allowed: true,
        blocker: None,
    }];
    let out = signal_targets(
        &mut db,
        &filter,
        &default_safety(),
        Action::Terminate,
        &targets,
    )
    .unwrap();
    assert_eq!(out[0].outcome, OutcomeKind::Skipped, "{:?}", out[0]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server_pids(&tag, None).contains(&victim),
        "the hidden session is still there"
    );

    // And the command never offers hidden sessions as targets.
    let v = pgconn()
        .args(["-U", &ops, "kill", "--app", &tag, "--yes", "--json"])
        .run()
        .assert_code(1)
        .json();
    assert_eq!(v["not_visible"], 1, "{v}");
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

/// An observer that fails the way a full disk would, at a chosen batch, before or after signalling it.
struct FailingLog {
    fail_before: Option<usize>,
    fail_after: Option<usize>,
    before_calls: usize,
    after_calls: usize,
}

impl pgconn::commands::kill::BatchObserver for FailingLog {
    fn before(
        &mut self,
        batch: usize,
        targets: &[&pgconn::report::kill::KillTarget],
    ) -> anyhow::Result<()> {
        self.before_calls += 1;
        assert_eq!(targets.len(), 1);
        if self.fail_before == Some(batch) {
            anyhow::bail!("No space left on device")
        }
        Ok(())
    }
    fn after(&mut self, outcomes: &[pgconn::report::kill::SessionOutcome]) -> anyhow::Result<()> {
        self.after_calls += 1;
        assert_eq!(outcomes.len(), 1);
        if self.fail_after == Some(self.after_calls) {
            anyhow::bail!("No space left on device")
        }
        Ok(())
    }
    fn stop_requested(&self) -> bool {
        false
    }
}

fn one_by_one_targets(
    tag: &str,
    n: usize,
) -> (
    pgconn::db::Db,
    pgconn::activity::Filter,
    Vec<pgconn::report::kill::KillTarget>,
) {
    use pgconn::activity::{sessions, Filter};
    let c = cluster();
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, n, &role, "postgres", tag).unwrap();
    std::mem::forget(w); // the sessions live until the test binary ends (or are terminated)
    let mut db = library_db(c);
    let filter = Filter {
        app: vec![tag.to_string()],
        ..Filter::default()
    };
    let targets = sessions(&mut db, &filter, true, None)
        .unwrap()
        .sessions
        .into_iter()
        .map(|s| pgconn::report::kill::KillTarget {
            session: s,
            allowed: true,
            blocker: None,
        })
        .collect();
    (db, filter, targets)
}

#[test]
fn a_log_that_fails_after_a_batch_stops_the_run_there() {
    use pgconn::commands::kill::{signal_targets_with, Stop};
    use pgconn::report::kill::{Action, OutcomeKind};
    let tag = unique("partial");
    let (mut db, filter, targets) = one_by_one_targets(&tag, 3);
    let mut safety = default_safety();
    safety.batch_size = 1;
    // The outcomes of the first batch are recorded; those of the second cannot be: the run stops there.
    let mut log = FailingLog {
        fail_before: None,
        fail_after: Some(2),
        before_calls: 0,
        after_calls: 0,
    };
    let run = signal_targets_with(
        &mut db,
        &filter,
        &safety,
        Action::Terminate,
        &targets,
        &mut log,
    );
    assert!(
        matches!(run.stopped, Some(Stop::Log(_))),
        "{:?}",
        run.stopped
    );
    assert_eq!(
        run.outcomes.len(),
        2,
        "both signalled batches are reported, the unrecorded one included"
    );
    assert!(run
        .outcomes
        .iter()
        .all(|o| o.outcome == OutcomeKind::Terminated));
    let gone: BTreeSet<i32> = run.outcomes.iter().map(|o| o.pid).collect();
    wait_gone(&gone);
    assert_eq!(
        server_pids(&tag, None).len(),
        1,
        "the third session was never touched"
    );
}

#[test]
fn a_batch_that_cannot_be_recorded_first_is_not_signalled() {
    use pgconn::commands::kill::{signal_targets_with, Stop};
    use pgconn::report::kill::Action;
    let tag = unique("unrecorded");
    let (mut db, filter, targets) = one_by_one_targets(&tag, 3);
    let mut safety = default_safety();
    safety.batch_size = 1;
    let mut log = FailingLog {
        fail_before: Some(2),
        fail_after: None,
        before_calls: 0,
        after_calls: 0,
    };
    let run = signal_targets_with(
        &mut db,
        &filter,
        &safety,
        Action::Terminate,
        &targets,
        &mut log,
    );
    assert!(matches!(run.stopped, Some(Stop::Log(_))));
    assert_eq!(
        run.outcomes.len(),
        1,
        "only the recorded first batch was signalled"
    );
    wait_gone(&BTreeSet::from([run.outcomes[0].pid]));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server_pids(&tag, None).len(), 2);
}

/// The JSON a pgconn run printed after its prompt was answered in a pseudo-terminal.
fn backend_pid(c: &mut postgres::Client) -> i32 {
    c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0)
}

fn server_version_num() -> i32 {
    support::superuser_client(cluster())
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .unwrap()
        .get(0)
}

fn left_alone(v: &Value) -> BTreeMap<i32, String> {
    v["left_alone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["pid"].as_i64().unwrap() as i32,
                l["protection"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

use std::collections::BTreeMap;

#[test]
fn idle_sessions_that_hold_something_are_left_alone_unless_included() {
    let c = cluster();
    let tag = unique("holders");
    let role = app_role();
    let mut listener = c.connect(&role, "postgres", &tag).unwrap();
    listener.batch_execute("LISTEN pgconn_jobs").unwrap();
    let mut locker = c.connect(&role, "postgres", &tag).unwrap();
    let key = std::process::id() as i64 * 1000 + 7;
    locker
        .batch_execute(&format!("SELECT pg_advisory_lock({key})"))
        .unwrap();
    let mut temp = c.connect(&role, "postgres", &tag).unwrap();
    temp.batch_execute("CREATE TEMP TABLE scratch (x int)")
        .unwrap();
    let mut plain = c.connect(&role, "postgres", &tag).unwrap();
    plain.batch_execute("SELECT 1").unwrap();
    // A job runner's LISTEN behind a comment is a listener too.
    let mut commented = c.connect(&role, "postgres", &tag).unwrap();
    let lc = backend_pid(&mut commented);
    commented
        .batch_execute("/* runner 7 */ -- jobs\n LISTEN pgconn_jobs")
        .unwrap();
    let (l, a, t, p) = (
        backend_pid(&mut listener),
        backend_pid(&mut locker),
        backend_pid(&mut temp),
        backend_pid(&mut plain),
    );
    // backend_pid ran a query: the listener's last statement must be LISTEN again.
    listener.batch_execute("LISTEN pgconn_jobs").unwrap();
    locker.batch_execute("SELECT 1").unwrap();
    let temp_known = server_version_num() >= 160000;

    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    let alone = left_alone(&v);
    assert_eq!(alone.get(&l).map(String::as_str), Some("listener"), "{v:#}");
    assert_eq!(
        alone.get(&lc).map(String::as_str),
        Some("listener"),
        "{v:#}"
    );
    assert_eq!(
        alone.get(&a).map(String::as_str),
        Some("advisory_lock"),
        "{v:#}"
    );
    assert_eq!(v["protected"]["listener"], 2);
    assert_eq!(v["protected"]["advisory_lock"], 1);
    let mut expected_gone = BTreeSet::from([p]);
    if temp_known {
        assert_eq!(
            alone.get(&t).map(String::as_str),
            Some("temp_tables"),
            "{v:#}"
        );
    } else {
        // PostgreSQL 14/15 cannot tell whose temporary tables they are, and the plan says so.
        expected_gone.insert(t);
        let notes = v["notes"].to_string();
        assert!(notes.contains("temporary table"), "{notes}");
    }
    assert_eq!(outcome_pids(&v, "terminated"), expected_gone, "{v:#}");
    wait_gone(&expected_gone);
    let left = server_pids(&tag, None);
    assert!(left.contains(&l) && left.contains(&a));

    // The preview names them, by pid, with the option that includes them.
    let text = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--dry-run",
        ])
        .run()
        .assert_code(0)
        .stdout;
    assert!(
        text.lines()
            .any(|line| line.contains("LISTEN listeners: pid") && line.contains(&l.to_string()))
            && text.contains("--include-listeners"),
        "{text}"
    );
    assert!(
        text.contains(&format!("holding advisory locks: pid {a}")),
        "{text}"
    );

    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--include-listeners",
            "--include-lock-holders",
            "--include-temp-holders",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    let gone = outcome_pids(&v, "terminated");
    assert!(
        gone.contains(&l) && gone.contains(&a) && gone.contains(&lc),
        "{v:#}"
    );
    wait_gone(&gone);
    assert!(server_pids(&tag, None).is_empty());
}

#[test]
fn a_session_that_starts_listening_after_the_preview_is_skipped() {
    use pgconn::activity::{sessions, Filter};
    use pgconn::commands::kill::signal_targets;
    use pgconn::report::kill::{Action, KillTarget, OutcomeKind, Protection};
    let c = cluster();
    let tag = unique("newlistener");
    let role = app_role();
    let mut client = c.connect(&role, "postgres", &tag).unwrap();
    client.batch_execute("SELECT 1").unwrap();
    let pid = backend_pid(&mut client);
    let mut db = library_db(c);
    let filter = Filter {
        app: vec![tag.clone()],
        states: vec![pgconn::report::State::Idle],
        ..Filter::default()
    };
    let targets: Vec<KillTarget> = sessions(&mut db, &filter, true, None)
        .unwrap()
        .sessions
        .into_iter()
        .map(|s| KillTarget {
            session: s,
            allowed: true,
            blocker: None,
        })
        .collect();
    assert_eq!(targets.len(), 1);
    client.batch_execute("LISTEN pgconn_late").unwrap();
    let out = signal_targets(
        &mut db,
        &filter,
        &default_safety(),
        Action::Terminate,
        &targets,
    )
    .unwrap();
    assert_eq!(out[0].outcome, OutcomeKind::Skipped, "{:?}", out[0]);
    assert_eq!(out[0].protection, Some(Protection::Listener));
    std::thread::sleep(Duration::from_millis(200));
    assert!(server_pids(&tag, None).contains(&pid));
}

#[test]
fn keep_is_rechecked_when_kept_sessions_ended_after_the_preview() {
    let c = cluster();
    let tag = unique("keeprace");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 3, &role, "postgres", &tag).unwrap();
    let mut su = support::superuser_client(c);
    let newest: i32 = su
        .query_one(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY state_change DESC, pid LIMIT 1",
            &[&tag],
        )
        .unwrap()
        .get(0);
    let mut p = expectrl::Session::spawn(pgconn_command(&[
        "kill-idle",
        "--older-than",
        "0s",
        "--app",
        &tag,
        "--keep",
        "1",
        "--json",
    ]))
    .unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    p.expect("Terminate 2 sessions?").unwrap();
    // The kept session ends before the answer: terminating both targets would leave none.
    su.execute("SELECT pg_terminate_backend($1)", &[&newest])
        .unwrap();
    wait_gone(&BTreeSet::from([newest]));
    p.send_line("y").unwrap();
    let v = support::json_after_prompt(&mut p);
    assert_eq!(v["kept"], 1);
    assert_eq!(v["summary"]["terminated"], 1, "{v:#}");
    let kept: Vec<&Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["skip"] == "kept")
        .collect();
    assert_eq!(kept.len(), 1, "{v:#}");
    wait_gone(&outcome_pids(&v, "terminated"));
    assert_eq!(
        server_pids(&tag, None),
        BTreeSet::from([kept[0]["pid"].as_i64().unwrap() as i32]),
        "--keep 1 still leaves one"
    );
}

#[test]
fn cancel_leaves_sessions_that_are_not_running_a_query() {
    use pgconn::activity::{sessions, Filter};
    use pgconn::commands::kill::signal_targets;
    use pgconn::report::kill::{Action, KillTarget, OutcomeKind, Protection};
    let c = cluster();
    let tag = unique("cancelidle");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 1, &role, "postgres", &tag).unwrap();
    let idle = w.pids()[0];
    let v = pgconn()
        .args([
            "kill",
            "--cancel",
            "--pid",
            &idle.to_string(),
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["protected"]["not_running"], 1, "{v:#}");
    assert_eq!(v["summary"]["targeted"], 0);
    assert_eq!(v["summary"]["cancelled"], 0);

    // Running at the preview, finished at the moment of action: skipped, not "cancelled".
    let mut busy = c.connect(&role, "postgres", &tag).unwrap();
    let pid = backend_pid(&mut busy);
    let runner = std::thread::spawn(move || {
        busy.batch_execute("SELECT pg_sleep(1.5)").unwrap();
        busy
    });
    let mut db = library_db(c);
    let filter = Filter {
        pids: vec![pid],
        ..Filter::default()
    };
    let mut targets: Vec<KillTarget> = Vec::new();
    assert!(support::wait_until(Duration::from_secs(10), || {
        targets = sessions(&mut db, &filter, true, None)
            .unwrap()
            .sessions
            .into_iter()
            .filter(|s| s.state == Some(pgconn::report::State::Active))
            .map(|s| KillTarget {
                session: s,
                allowed: true,
                blocker: None,
            })
            .collect();
        !targets.is_empty()
    }));
    let _busy = runner.join().unwrap();
    let out = signal_targets(
        &mut db,
        &filter,
        &default_safety(),
        Action::Cancel,
        &targets,
    )
    .unwrap();
    assert_eq!(out[0].outcome, OutcomeKind::Skipped, "{:?}", out[0]);
    assert_eq!(out[0].protection, Some(Protection::NotRunning));
}

#[test]
fn a_session_that_does_not_end_is_reported_as_signalled_not_terminated() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let c = cluster();
    let tag = unique("stuck");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 1, &role, "postgres", &tag).unwrap();
    let pid = w.pids()[0];
    // A stopped backend cannot act on SIGTERM until it is continued.
    kill(Pid::from_raw(pid), Signal::SIGSTOP).unwrap();
    let out = pgconn()
        .args([
            "kill",
            "--pid",
            &pid.to_string(),
            "--wait",
            "1s",
            "--yes",
            "--json",
        ])
        .run();
    kill(Pid::from_raw(pid), Signal::SIGCONT).unwrap();
    let v = out.clone().assert_code(0).json();
    let r = &v["results"][0];
    assert_eq!(r["outcome"], "signalled", "{v:#}");
    assert!(r["reason"].as_str().unwrap().contains("still there"), "{r}");
    assert_eq!(r["state_now"], "idle");
    assert_eq!(v["summary"]["terminated"], 0);
    assert_eq!(v["summary"]["signalled"], 1);
    assert!(out.stderr.contains("not seen to end"), "{}", out.stderr);
    assert!(
        v["after"]["idle"].as_i64().unwrap() >= 1,
        "the server still counts it"
    );
    // Once continued it acts on the pending SIGTERM.
    wait_gone(&BTreeSet::from([pid]));
}

#[test]
fn a_role_that_cannot_see_other_sessions_is_told_how_many_and_the_grant() {
    let c = cluster();
    let tag = unique("hidden");
    let weak = tag.clone();
    let role = app_role();
    support::superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {weak} LOGIN"))
        .unwrap();
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &tag).unwrap();
    let status = pgconn()
        .args(["-U", &weak, "status", "--app", &tag, "--json"])
        .json();
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
    assert_eq!(v["not_visible"], 2, "{v:#}");
    assert_eq!(
        v["not_visible"], status["not_visible"],
        "the same count as status"
    );
    assert!(
        v["warnings"]
            .to_string()
            .contains("GRANT pg_read_all_stats"),
        "{v:#}"
    );
    assert!(
        out.stderr.contains("GRANT pg_read_all_stats"),
        "{}",
        out.stderr
    );
    assert_eq!(v["summary"]["targeted"], 0);
    let text = pgconn()
        .args([
            "-U",
            &weak,
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--dry-run",
        ])
        .run()
        .assert_code(1)
        .stderr;
    assert!(
        text.contains("2 session(s) of other roles are not visible"),
        "{text}"
    );
    assert_eq!(server_pids(&tag, None).len(), 2);
}

#[test]
fn pgbouncers_server_connections_are_protected_unless_included() {
    use support::pgbouncer::PgBouncer;
    let c = cluster();
    let tag = unique("pooled");
    support::superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {tag} LOGIN"))
        .unwrap();
    let ini = format!(
        "[databases]\npostgres = host={} port={} dbname=postgres\n[pgbouncer]\npool_mode = session\n\
         default_pool_size = 5\nmax_client_conn = 50\n",
        c.socket_dir().display(),
        c.port()
    );
    let bouncer = PgBouncer::start(&ini, &["postgres", &tag]);
    let mut through = postgres::Config::new()
        .host("127.0.0.1")
        .port(bouncer.port)
        .user(&tag)
        .dbname("postgres")
        .connect(postgres::NoTls)
        .unwrap();
    through.batch_execute("SELECT 1").unwrap();
    let server_conn = backend_pid(&mut through);
    let mut direct = c.connect(&tag, "postgres", &tag).unwrap();
    direct.batch_execute("SELECT 1").unwrap();
    let direct_pid = backend_pid(&mut direct);
    let console = bouncer.console();

    let out = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--user",
            &tag,
            "--pgbouncer",
            &console,
            "--dry-run",
        ])
        .run()
        .assert_code(0);
    assert!(
        out.stdout.contains("PgBouncer server connections: pid"),
        "{}",
        out.stdout
    );
    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--user",
            &tag,
            "--pgbouncer",
            &console,
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(
        left_alone(&v).get(&server_conn).map(String::as_str),
        Some("pooler"),
        "{v:#}"
    );
    assert_eq!(outcome_pids(&v, "terminated"), BTreeSet::from([direct_pid]));
    through.batch_execute("SELECT 1").unwrap();

    let v = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--user",
            &tag,
            "--pgbouncer",
            &console,
            "--include-pooler",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(
        outcome_pids(&v, "terminated"),
        BTreeSet::from([server_conn]),
        "{v:#}"
    );
    assert_eq!(v["targets"][0]["via_pgbouncer"], true);
}

#[test]
fn the_log_holds_no_query_text_unless_asked_and_then_no_literals() {
    let c = cluster();
    let tag = unique("secretq");
    support::superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {tag} LOGIN"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (i, with_queries) in [false, true].into_iter().enumerate() {
        let mut client = c.connect(&tag, "postgres", &tag).unwrap();
        client
            .batch_execute(&format!(
                "ALTER ROLE {tag} PASSWORD 'hunter2-never-on-disk'"
            ))
            .unwrap();
        let log = dir.path().join(format!("kill-{i}.jsonl"));
        let mut cmd = pgconn()
            .args([
                "kill-idle",
                "--older-than",
                "0s",
                "--app",
                &tag,
                "--yes",
                "--log",
            ])
            .arg(&log);
        if with_queries {
            cmd = cmd.arg("--log-queries");
        }
        cmd.run().assert_code(0);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let session = lines.iter().find(|l| l["event"] == "session").unwrap();
        assert_eq!(session["outcome"], "terminated");
        if with_queries {
            let target = lines.iter().find(|l| l["event"] == "target").unwrap();
            assert_eq!(
                target["query"],
                format!("ALTER ROLE {tag} PASSWORD '…'"),
                "{target}"
            );
        } else {
            assert!(lines.iter().all(|l| l.get("query").is_none()), "{text}");
        }
    }
}

/// A log whose first line cannot be written (a full disk; here a file size limit of 0 bytes, EFBIG) stops
/// the run before anything is signalled: exit 1. A device (`/dev/full`) is not a log at all: refused
/// before it is opened, exit 2.
#[test]
fn a_log_that_cannot_be_written_terminates_nothing() {
    let c = cluster();
    let tag = unique("fulllog");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 3, &role, "postgres", &tag).unwrap();
    let before = server_pids(&tag, None);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kill.jsonl");
    let out = pgconn()
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
        .file_size_limit(0)
        .run()
        .assert_code(1);
    assert!(
        out.stderr
            .contains(&format!("could not write the audit log {}", log.display())),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("logged to"), "{}", out.stdout);

    let out = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--yes",
            "--log",
            "/dev/full",
        ])
        .run()
        .assert_code(2);
    assert!(
        out.stderr.contains(
            "cannot open the audit log /dev/full; nothing was done: /dev/full is a character device, \
             not a regular file"
        ),
        "{}",
        out.stderr
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server_pids(&tag, None), before, "nothing was signalled");
}

/// In a directory every user may write to (sticky, like /tmp), another user's symbolic link at the log's
/// path would make pgconn append its JSON lines to whatever the link points at. The log is refused before
/// anything is signalled: exit 2, the link named, nothing terminated, the link's target untouched.
#[test]
fn a_log_that_is_a_symbolic_link_is_refused_before_anything_is_signalled() {
    use std::os::unix::fs::PermissionsExt;
    let c = cluster();
    let tag = unique("loglink");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &tag).unwrap();
    let before = server_pids(&tag, None);
    assert_eq!(before.len(), 2);

    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let private = tempfile::tempdir().unwrap();
    let precious = private.path().join("profile");
    std::fs::write(&precious, "export PATH=/usr/bin\n").unwrap();
    let link = shared.path().join("kill.jsonl");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    // Planted by another user, as it would be in /tmp.
    let postgres = nix::unistd::User::from_name("postgres").unwrap().unwrap();
    std::os::unix::fs::lchown(&link, Some(postgres.uid.as_raw()), None).unwrap();

    let out = pgconn()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--yes",
            "--log",
        ])
        .arg(&link)
        .run()
        .assert_code(2);
    assert!(
        out.stderr.contains(&link.display().to_string())
            && out.stderr.contains("symbolic link")
            && out.stderr.contains("nothing was done"),
        "{}",
        out.stderr
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server_pids(&tag, None), before, "nothing was signalled");
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "export PATH=/usr/bin\n"
    );
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn end_of_input_at_the_prompt_terminates_nothing() {
    let c = cluster();
    let tag = unique("eof");
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
    // Ctrl-D: no answer at all.
    p.send(expectrl::ControlCode::EndOfTransmission).unwrap();
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
fn a_cancel_never_hits_a_query_it_did_not_show() {
    use pgconn::activity::{sessions, Filter};
    use pgconn::commands::kill::signal_targets;
    use pgconn::report::kill::{Action, KillTarget, OutcomeKind, SkipReason};
    let c = cluster();
    let tag = unique("otherquery");
    let role = app_role();
    let mut busy = c.connect(&role, "postgres", &tag).unwrap();
    let pid = backend_pid(&mut busy);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let runner = std::thread::spawn(move || {
        busy.batch_execute("SELECT pg_sleep(1)").unwrap();
        rx.recv().unwrap();
        // The application's next query, after the preview was made.
        let _ = busy.batch_execute("SELECT pg_sleep(20)");
        busy
    });
    let mut db = library_db(c);
    let filter = Filter {
        pids: vec![pid],
        states: vec![pgconn::report::State::Active],
        ..Filter::default()
    };
    let mut targets: Vec<KillTarget> = Vec::new();
    assert!(support::wait_until(Duration::from_secs(10), || {
        targets = sessions(&mut db, &filter, true, None)
            .unwrap()
            .sessions
            .into_iter()
            .map(|s| KillTarget {
                session: s,
                allowed: true,
                blocker: None,
            })
            .collect();
        !targets.is_empty()
    }));
    let shown_query_start = targets[0].session.query_start.clone();
    assert!(shown_query_start.is_some());
    let mut su = support::superuser_client(c);
    let query_start = |su: &mut postgres::Client| -> Option<String> {
        su.query_one(
            "SELECT to_char(query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
             FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep(20)%'",
            &[&pid],
        )
        .ok()
        .and_then(|r| r.get(0))
    };
    tx.send(()).unwrap();
    assert!(support::wait_until(Duration::from_secs(10), || {
        query_start(&mut su).is_some()
    }));
    let out = signal_targets(
        &mut db,
        &filter,
        &default_safety(),
        Action::Cancel,
        &targets,
    )
    .unwrap();
    assert_eq!(out[0].outcome, OutcomeKind::Skipped, "{:?}", out[0]);
    assert_eq!(out[0].skip, Some(SkipReason::Changed));
    assert!(out[0].reason.as_deref().unwrap().contains("another query"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(query_start(&mut su).is_some(), "the new query still runs");
    su.execute("SELECT pg_cancel_backend($1)", &[&pid]).unwrap();
    let _busy = runner.join().unwrap();
}

#[test]
fn a_closed_stdout_does_not_change_what_is_done_nor_the_exit_code() {
    use std::process::Stdio;
    let c = cluster();
    let role = app_role();
    let dir = tempfile::tempdir().unwrap();
    let full_log = dir.path().join("kill.jsonl");
    // A log that cannot take a line (a file size limit of 0 bytes, like a full disk): exit 1.
    for (log, expected) in [(None, 0), (Some(&full_log), 1)] {
        let tag = unique("closedout");
        let mut w = Workload::new();
        w.idle(c, 3, &role, "postgres", &tag).unwrap();
        let before = server_pids(&tag, None);
        let mut run = pgconn().args(["kill-idle", "--older-than", "0s", "--app", &tag, "--yes"]);
        if let Some(l) = log {
            run = run.arg("--log").arg(l).file_size_limit(0);
        }
        let mut cmd = run.command();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away at once, like `| head -0`.
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(expected), "log {log:?}");
        if expected == 0 {
            wait_gone(&before);
        } else {
            std::thread::sleep(Duration::from_millis(200));
            assert_eq!(server_pids(&tag, None), before, "nothing signalled");
        }
    }
}

/// What a command prints on a pseudo-terminal of 80 × 24.
fn on_80_columns(args: &[&str]) -> String {
    let mut cmd = pgconn().args(["--color", "never"]).args(args).command();
    cmd.env("TERM", "xterm");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.get_process_mut().set_window_size(80, 24).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    support::until_eof(&mut p)
}

#[test]
fn tables_fit_80_columns_without_wrapping_and_wide_shows_everything() {
    let c = cluster();
    let tag = unique("a_long_application_name_for_the_table");
    let role = app_role();
    let mut busy = c.connect(&role, "postgres", &tag).unwrap();
    let runner = std::thread::spawn(move || {
        let _ = busy.batch_execute(
            "SELECT pg_sleep(3), 'a query long enough to need cutting on an eighty column terminal'",
        );
    });
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &tag).unwrap();
    assert!(support::wait_until(Duration::from_secs(10), || {
        !server_pids(&tag, Some("active")).is_empty()
    }));
    let fits = |what: &str, text: &str, rows: usize| {
        let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
        // The table: its header, its rule and one line per row (prose around it may wrap as a
        // terminal wraps any long line).
        let data: Vec<&&str> = lines
            .iter()
            // (Not the per-group summary, nor the note on what clients receive, which quotes the name.)
            .filter(|l| l.contains(&tag[..12]) && !l.contains("(user ") && !l.contains('"'))
            .collect();
        let table = lines
            .iter()
            .filter(|l| l.contains(" PID ") || l.starts_with('─'))
            .chain(data.iter().copied());
        for l in table {
            assert!(
                l.chars().count() <= 80,
                "{what}: a table line wider than 80 columns:\n{text}"
            );
        }
        // Nothing wrapped inside a cell.
        assert_eq!(data.len(), rows, "{what}: one line per session:\n{text}");
    };
    let sessions = on_80_columns(&["sessions", "--app", &tag]);
    fits("sessions", &sessions, 3);
    assert!(sessions.contains('…'), "{sessions}");
    assert!(!sessions.contains("WAIT"), "WAIT drops first: {sessions}");
    assert!(
        sessions.contains("QUERY") && sessions.contains("STATE"),
        "{sessions}"
    );
    let preview = on_80_columns(&[
        "kill-idle",
        "--older-than",
        "0s",
        "--app",
        &tag,
        "--dry-run",
    ]);
    fits("kill-idle preview", &preview, 2);
    let tune = on_80_columns(&["tune", "show"]);
    let rows: Vec<&str> = tune
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.starts_with(" SETTING") || l.starts_with('─') || l.contains("_timeout "))
        .collect();
    assert!(rows.len() >= 5, "{tune}");
    for l in rows {
        assert!(l.chars().count() <= 80, "tune show:\n{tune}");
    }
    let wide = on_80_columns(&["sessions", "--app", &tag, "--wide"]);
    assert!(wide.contains("WAIT") && wide.contains(&tag), "{wide}");
    assert!(
        wide.lines().any(|l| l.chars().count() > 80),
        "--wide shows everything: {wide}"
    );
    // Piped output is never fitted or cut.
    let piped = pgconn()
        .args(["sessions", "--app", &tag])
        .run()
        .assert_code(0)
        .stdout;
    assert!(
        piped.contains("eighty column") && !piped.contains('…'),
        "{piped}"
    );
    runner.join().unwrap();
}

/// Everything the operator needs to answer is in sight when asked: the plan's warnings (here, an audit
/// log others can read) come before the question, also when the answer is no, and one line directly
/// above the question says what is left alone, however long the preview (80 × 24).
#[test]
fn warnings_and_what_is_left_alone_come_before_the_question() {
    let c = cluster();
    let tag = unique("asked");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 30, &role, "postgres", &tag).unwrap();
    w.idle(c, 1, "postgres", "postgres", &tag).unwrap();
    let before = server_pids(&tag, None);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kill.log");
    std::fs::write(&log, "").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut cmd = pgconn()
        .args([
            "--color",
            "never",
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
        ])
        .args(["--log", log.to_str().unwrap()])
        .command();
    cmd.env("TERM", "xterm");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.get_process_mut().set_window_size(80, 24).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    let shown = p.expect("Terminate 30 sessions? [y/N] ").unwrap();
    let shown = String::from_utf8_lossy(shown.before()).replace('\r', "");
    p.send_line("n").unwrap();
    let rest = support::until_eof(&mut p);
    let lines: Vec<&str> = shown.lines().collect();
    let warned = lines
        .iter()
        .position(|l| l.contains("warning: the audit log") && l.contains("can be read by others"))
        .unwrap_or_else(|| panic!("the warning before the question:\n{shown}"));
    assert_eq!(
        lines.last().copied(),
        Some("left alone: 1 of superusers (--include-superusers)"),
        "{shown}"
    );
    assert!(warned < lines.len() - 1, "{shown}");
    // What the clients will receive, and whose they are, wrapped to the terminal.
    let flat = one_line(&shown);
    assert!(
        flat.contains("SQLSTATE 57P01") && flat.contains(&format!("\"{tag}\" (30 sessions)")),
        "{shown}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.chars().count() <= 80 || !l.contains("note:")),
        "{shown}"
    );
    assert!(rest.contains("cancelled; nothing was done"), "{rest}");
    assert!(
        !rest.contains("warning:"),
        "said once, before the question: {rest}"
    );
    assert_eq!(server_pids(&tag, None), before);
}

/// The cron line: quiet when there is nothing to do, one line when something was done, and exit 1 when
/// sessions that could match were not visible to the role (a cron job that sees nothing must not look
/// like one that found nothing).
#[test]
fn quiet_prints_nothing_unless_something_was_done_or_went_wrong() {
    let c = cluster();
    let tag = unique("cron");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 3, &role, "postgres", &tag).unwrap();
    let cron = |extra: &[&str]| {
        pgconn()
            .args([
                "kill-idle",
                "--app",
                &tag,
                "--if-more-than",
                "2",
                "--yes",
                "--quiet",
            ])
            .args(extra)
            .run()
    };
    // Nothing old enough: nothing at all.
    let out = cron(&["--older-than", "1h"]).assert_code(0);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    // Something done: one line.
    let out = cron(&["--older-than", "0s"]).assert_code(0);
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(out.stdout.starts_with("3 terminated"), "{}", out.stdout);
    assert!(support::wait_until(Duration::from_secs(5), || server_pids(
        &tag, None
    )
    .is_empty()));
    // Not visible to this role: said, and exit 1.
    let weak = unique("cron_weak");
    support::superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {weak} LOGIN"))
        .unwrap();
    w.idle(c, 3, &role, "postgres", &tag).unwrap();
    let out = cron(&["--older-than", "0s", "-U", &weak]).assert_code(1);
    assert_eq!(out.stdout, "", "the warning says it; no table is mailed");
    assert!(
        out.stderr.contains("GRANT pg_read_all_stats"),
        "{}",
        out.stderr
    );
    assert_eq!(
        server_pids(&tag, None).len(),
        3,
        "nothing it cannot see is touched"
    );
    // Nobody is asked without seeing the plan: --quiet needs --yes.
    pgconn()
        .args(["kill-idle", "--older-than", "0s", "--app", &tag, "--quiet"])
        .assert_code(2);
}

/// The README's cron line, as cron runs it: as the postgres OS user, with no environment but cron's
/// PATH (no HOME, no PG* variables), through flock.
#[test]
fn the_readme_cron_line_works_with_crons_environment() {
    use std::os::unix::process::CommandExt;
    let c = cluster();
    let tag = unique("crontab");
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 6, &role, "postgres", &tag).unwrap();
    let user = nix::unistd::User::from_name("postgres").unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    nix::unistd::chown(dir.path(), Some(user.uid), Some(user.gid)).unwrap();
    let log = dir.path().join("pgconn-kill-idle.jsonl");
    let lock = dir.path().join("pgconn-kill-idle.lock");
    let run = || {
        std::process::Command::new("/usr/bin/flock")
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .arg("-n")
            .arg(&lock)
            .arg(env!("CARGO_BIN_EXE_pgconn"))
            .arg("-h")
            .arg(c.socket_dir())
            .args(["-p", &c.port().to_string(), "-d", "postgres"])
            .args(["kill-idle", "--older-than", "0s", "--if-more-than", "5"])
            .args(["--app", &tag, "--yes", "--quiet", "--log"])
            .arg(&log)
            .uid(user.uid.as_raw())
            .gid(user.gid.as_raw())
            .output()
            .expect("flock (util-linux)")
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("6 terminated"), "{stdout}");
    assert!(support::wait_until(Duration::from_secs(5), || server_pids(
        &tag, None
    )
    .is_empty()));
    // The next minute: nothing to do, nothing said.
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    let lines = std::fs::read_to_string(&log).unwrap();
    assert!(lines.lines().count() >= 2 + 6 + 6, "{lines}");
}

/// The note of a plan that says SQLSTATE `code`, if any.
fn clients_note(v: &Value, code: &str) -> Option<String> {
    v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|n| n.contains(code))
        .map(String::from)
}

/// Text as one line, however a terminal's width wrapped it.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Before a kill, the operator is told what the targets' clients will receive (57P01, on which some
/// pools crash) and which applications they are: in the preview (a dry run's too), in `--json` and in
/// the audit log's plan line, written before anything is signalled. The server agrees: a terminated
/// client gets 57P01. A plan that acts on nothing has no such note.
#[test]
fn the_57p01_note_names_the_applications_in_the_preview_the_json_and_the_audit_plan() {
    let c = cluster();
    let (web, jobs) = (unique("note-web"), unique("note-jobs"));
    let role = app_role();
    let mut w = Workload::new();
    w.idle(c, 2, &role, "postgres", &web).unwrap();
    let mut client = c.connect(&role, "postgres", &jobs).unwrap();
    let mut unnamed = c.connect(&role, "postgres", "").unwrap();
    let mut pids = server_pids(&web, None);
    // By the simple protocol: a prepared statement's Close would still be waiting to be sent when the
    // client next talks to the server, and fail on the closed socket before the server's error is read.
    let pid = |c: &mut postgres::Client| -> i32 {
        c.simple_query("SELECT pg_backend_pid()")
            .unwrap()
            .iter()
            .find_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => r.get(0)?.parse().ok(),
                _ => None,
            })
            .unwrap()
    };
    pids.insert(pid(&mut client));
    pids.insert(pid(&mut unnamed));
    let mut args = vec!["kill".to_string()];
    for p in &pids {
        args.extend(["--pid".to_string(), p.to_string()]);
    }
    let named = [
        format!("\"{web}\" (2 sessions)"),
        format!("\"{jobs}\" (1 session)"),
        "1 session without an application_name".to_string(),
    ];
    let names_all = |note: &str| {
        let note = one_line(note);
        assert!(
            named.iter().all(|n| note.contains(n.as_str())),
            "{named:?} in {note}"
        );
    };

    // The preview of a dry run: the note, before what would be done.
    let preview = pgconn()
        .args(&args)
        .arg("--dry-run")
        .run()
        .assert_code(0)
        .stdout;
    let at = preview
        .find("note: the clients of the targeted sessions receive SQLSTATE 57P01")
        .unwrap_or_else(|| panic!("{preview}"));
    assert!(
        at < preview.find("would terminate 4 sessions").unwrap(),
        "{preview}"
    );
    names_all(
        &preview[at..preview[at..]
            .find(" PID ")
            .map_or(preview.len(), |e| at + e)],
    );

    // --json: in `notes`.
    let v = pgconn()
        .args(&args)
        .args(["--dry-run", "--json"])
        .run()
        .assert_code(0)
        .json();
    names_all(&clients_note(&v, "57P01").unwrap_or_else(|| panic!("{v:#}")));

    // Acting: the audit log's plan line carries it, as the report does.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kill.jsonl");
    let v = pgconn()
        .args(&args)
        .args(["--yes", "--json", "--log"])
        .arg(&log)
        .run()
        .assert_code(0)
        .json();
    assert_eq!(outcome_pids(&v, "terminated"), pids, "{v:#}");
    let text = std::fs::read_to_string(&log).unwrap();
    let plan: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(plan["event"], "plan");
    assert_eq!(plan["notes"], v["notes"], "{plan}");
    names_all(&clients_note(&plan, "57P01").unwrap_or_else(|| panic!("{plan}")));
    // What the note says the client receives, it receives (read without sending anything: a write to
    // the closed socket would fail first).
    use postgres::fallible_iterator::FallibleIterator;
    let err = client
        .notifications()
        .timeout_iter(Duration::from_secs(10))
        .next()
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&postgres::error::SqlState::ADMIN_SHUTDOWN),
        "{err:#}"
    );

    // Nothing to act on, nothing to say: no target, or --if-more-than not exceeded.
    let none = unique("note-none");
    let v = pgconn()
        .args(["kill-idle", "--older-than", "0s", "--app", &none])
        .args(["--dry-run", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["targets"].as_array().unwrap().len(), 0);
    assert_eq!(clients_note(&v, "57P01"), None, "{v:#}");
    let mut w2 = Workload::new();
    w2.idle(c, 2, &role, "postgres", &none).unwrap();
    let v = pgconn()
        .args(["kill-idle", "--older-than", "0s", "--app", &none])
        .args(["--if-more-than", "5", "--yes", "--json", "--log"])
        .arg(dir.path().join("below.jsonl"))
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["threshold_met"], false);
    assert_eq!(clients_note(&v, "57P01"), None, "{v:#}");
    let text = std::fs::read_to_string(dir.path().join("below.jsonl")).unwrap();
    assert!(!text.contains("57P01"), "{text}");
}
