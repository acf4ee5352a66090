//! `pgconn tune` against a real PostgreSQL: set / reset / undo per database, role, role in database and
//! server, checked against the server's own catalogs (pg_db_role_setting, pg_file_settings, pg_settings of
//! new sessions). Every test works on its own database / role names; tests that change server-wide settings
//! hold SYSTEM_LOCK and put everything back.

mod support;

use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::Value;
use support::{cluster, pgconn, unique};

/// ALTER SYSTEM changes are server-wide: one test at a time.
static SYSTEM_LOCK: Mutex<()> = Mutex::new(());

fn su() -> postgres::Client {
    support::superuser_client(cluster())
}

/// A client connected to `db` as `user` (a new session: it reads database / role settings at start).
fn client_in(db: &str, user: &str) -> postgres::Client {
    cluster().connect(user, db, "pgconn-tune-test").unwrap()
}

fn superuser() -> &'static str {
    cluster().superuser()
}

/// SQL identifier quoting for the test's own setup statements.
fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn create_database(name: &str) {
    su().batch_execute(&format!("CREATE DATABASE {}", ident(name)))
        .unwrap();
}

fn create_role(name: &str, extra: &str) {
    su().batch_execute(&format!("CREATE ROLE {} LOGIN {extra}", ident(name)))
        .unwrap();
}

/// Ground truth: setconfig of exactly one (database, role) pair; None = nothing stored there.
fn stored(database: Option<&str>, role: Option<&str>) -> Option<Vec<String>> {
    let rows = su()
        .query(
            "SELECT s.setconfig FROM pg_db_role_setting s \
             WHERE s.setdatabase = coalesce((SELECT oid FROM pg_database WHERE datname = $1), 0) \
               AND s.setrole = coalesce((SELECT oid FROM pg_roles WHERE rolname = $2), 0)",
            &[&database, &role],
        )
        .unwrap();
    rows.first().map(|r| r.get::<_, Vec<String>>(0))
}

/// What postgresql.auto.conf holds now (pg_file_settings re-reads the files).
fn auto_conf() -> Vec<(String, String)> {
    su().query(
        "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' \
         ORDER BY seqno",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// A history file of the test's own.
fn history_file(tag: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("{tag}.jsonl"));
    (dir, p)
}

fn tune(args: &[&str]) -> support::PgconnCmd {
    let mut all = vec!["tune"];
    all.extend_from_slice(args);
    pgconn().args(all)
}

#[test]
fn set_and_reset_per_database() {
    let db = unique("tune_db");
    create_database(&db);
    let (_d, hist) = history_file("db");
    let h = hist.to_str().unwrap();
    let v = tune(&[
        "set",
        "statement_timeout=30s",
        "idle_in_transaction_session_timeout=5m",
        "--database",
        &db,
        "--yes",
        "--json",
        "--history",
        h,
    ])
    .run()
    .assert_code(0)
    .json();
    assert_eq!(v["applied"], true);
    assert_eq!(v["scope"]["kind"], "database");
    assert_eq!(v["outcome"]["new_sessions_only"], true);
    let sql: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sql"].as_str().unwrap())
        .collect();
    assert!(
        sql.iter().all(|s| s.starts_with("ALTER DATABASE ")),
        "{sql:?}"
    );
    assert_eq!(
        stored(Some(&db), None).unwrap(),
        vec![
            "statement_timeout=30s".to_string(),
            "idle_in_transaction_session_timeout=5min".to_string()
        ]
    );

    // tune show reads it back with its source.
    let v = tune(&["show", "--database", &db, "--json"])
        .run()
        .assert_code(0)
        .json();
    let st = v["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "statement_timeout")
        .unwrap();
    assert_eq!(st["value"], "30s");
    assert_eq!(st["value_in_unit"], 30000.0);
    assert_eq!(st["unit"], "ms");
    assert_eq!(st["source"], "database");

    tune(&[
        "reset",
        "statement_timeout",
        "--database",
        &db,
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(0);
    assert_eq!(
        stored(Some(&db), None).unwrap(),
        vec!["idle_in_transaction_session_timeout=5min".to_string()]
    );
    tune(&["reset", "--all", "--database", &db, "--yes", "--history", h])
        .run()
        .assert_code(0);
    assert_eq!(stored(Some(&db), None), None);
}

#[test]
fn set_and_reset_per_role_and_per_role_in_database() {
    let role = unique("tune_role");
    let db = unique("tune_rdb");
    create_role(&role, "");
    create_database(&db);
    let (_d, hist) = history_file("role");
    let h = hist.to_str().unwrap();

    tune(&[
        "set",
        "lock_timeout=10s",
        "--role",
        &role,
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(0);
    assert_eq!(
        stored(None, Some(&role)).unwrap(),
        vec!["lock_timeout=10s".to_string()]
    );

    let v = tune(&[
        "set",
        "lock_timeout=2s",
        "--role",
        &role,
        "--in-database",
        &db,
        "--yes",
        "--json",
        "--history",
        h,
    ])
    .run()
    .assert_code(0)
    .json();
    assert_eq!(v["scope"]["kind"], "role_in_database");
    assert!(v["changes"][0]["sql"]
        .as_str()
        .unwrap()
        .contains(" IN DATABASE "));
    assert_eq!(
        stored(Some(&db), Some(&role)).unwrap(),
        vec!["lock_timeout=2s".to_string()]
    );
    // The role-in-database value wins over the role's own in a new session.
    let mut c = client_in(&db, &role);
    let v: String = c
        .query_one(
            "SELECT setting FROM pg_settings WHERE name = 'lock_timeout'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(v, "2000");

    tune(&[
        "reset",
        "lock_timeout",
        "--role",
        &role,
        "--in-database",
        &db,
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(0);
    assert_eq!(stored(Some(&db), Some(&role)), None);
    assert!(
        stored(None, Some(&role)).is_some(),
        "the role's own setting stays"
    );
    tune(&[
        "reset",
        "lock_timeout",
        "--role",
        &role,
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(0);
    assert_eq!(stored(None, Some(&role)), None);
}

#[test]
fn five_m_is_five_minutes_in_a_new_session() {
    let db = unique("tune_5m");
    create_database(&db);
    let (_d, hist) = history_file("5m");
    let v = tune(&[
        "set",
        "statement_timeout=5m",
        "idle_in_transaction_session_timeout=1h30m",
        "--database",
        &db,
        "--yes",
        "--json",
        "--history",
        hist.to_str().unwrap(),
    ])
    .run()
    .assert_code(0)
    .json();
    assert_eq!(v["changes"][0]["input"], "5m");
    assert_eq!(v["changes"][0]["new"], "5min");
    assert_eq!(v["changes"][1]["new"], "90min");
    let mut c = client_in(&db, superuser());
    let row = c
        .query_one(
            "SELECT (SELECT setting FROM pg_settings WHERE name = 'statement_timeout'), \
                    (SELECT unit FROM pg_settings WHERE name = 'statement_timeout'), \
                    (SELECT setting FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout')",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "300000");
    assert_eq!(row.get::<_, String>(1), "ms");
    assert_eq!(row.get::<_, String>(2), "5400000");
}

#[test]
fn hostile_names_work_and_never_inject() {
    let db = format!(
        "{} we\"ird; DROP DATABASE postgres; --\\ Db",
        unique("tune_h")
    );
    let role = format!(
        "{} O'Brien \"x\"; DROP ROLE postgres; \\",
        unique("tune_hr")
    );
    create_database(&db);
    create_role(&role, "");
    let (_d, hist) = history_file("hostile");
    let h = hist.to_str().unwrap();
    for scope in [
        vec!["--database", db.as_str()],
        vec!["--role", role.as_str()],
        vec!["--role", role.as_str(), "--in-database", db.as_str()],
    ] {
        let mut args = vec!["set", "statement_timeout=1min", "--yes", "--history", h];
        args.extend(scope.iter().copied());
        tune(&args).run().assert_code(0);
    }
    assert_eq!(
        stored(Some(&db), None).unwrap(),
        vec!["statement_timeout=1min".to_string()]
    );
    assert_eq!(
        stored(None, Some(&role)).unwrap(),
        vec!["statement_timeout=1min".to_string()]
    );
    assert_eq!(
        stored(Some(&db), Some(&role)).unwrap(),
        vec!["statement_timeout=1min".to_string()]
    );
    // A hostile value is a literal, not SQL.
    tune(&[
        "set",
        "application_name=x'; DROP DATABASE postgres; --",
        "--database",
        &db,
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(0);
    let mut c = su();
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = 'postgres'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    assert!(stored(Some(&db), None)
        .unwrap()
        .contains(&"application_name=x'; DROP DATABASE postgres; --".to_string()));

    // Undo walks back through all of it, hostile names included.
    for _ in 0..4 {
        tune(&["undo", "--yes", "--history", h])
            .run()
            .assert_code(0);
    }
    assert_eq!(stored(Some(&db), None), None);
    assert_eq!(stored(None, Some(&role)), None);
    assert_eq!(stored(Some(&db), Some(&role)), None);
}

#[test]
fn bad_input_is_rejected_before_any_sql_is_sent() {
    let db = unique("tune_bad");
    create_database(&db);
    let (_d, hist) = history_file("bad");
    let h = hist.to_str().unwrap();
    let mut cases: Vec<(&[&str], &str)> = vec![
        (&["statement_timeout=5 fortnights"], "unknown unit"),
        (&["statement_timeout=soon"], "duration"),
        (&["statement_timeout=-5s"], "minimum"),
        (&["statement_timeout=30d"], "maximum"),
        (&["lock_timeout=1500us"], "whole number of ms"),
        (&["no_such_setting=1"], "unknown setting"),
        (&["statment_timeout=1s"], "did you mean statement_timeout"),
        (&["max_connections=500"], "--system"),
        (&["default_transaction_isolation=sloppy"], "read committed"),
        // One good and one bad: nothing at all is applied.
        (
            &["statement_timeout=30s", "lock_timeout=abc"],
            "lock_timeout",
        ),
    ];
    // transaction_timeout exists from 17 on (tests/versions.rs covers both sides).
    if cluster().version_num() < 170000 {
        cases.push((&["transaction_timeout=1s"], "PostgreSQL 17"));
    }
    for (pairs, expect) in cases {
        let mut args = vec!["set"];
        args.extend_from_slice(pairs);
        args.extend(["--database", &db, "--yes", "--show-sql", "--history", h]);
        let out = tune(&args).run().assert_code(2);
        assert!(out.stderr.contains(expect), "{pairs:?}: {}", out.stderr);
        assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
        // --show-sql echoes every statement: only reads of the catalog went out.
        assert!(!out.stderr.contains("ALTER DATABASE"), "{}", out.stderr);
        assert!(!out.stderr.contains("format("), "{}", out.stderr);
    }
    assert_eq!(stored(Some(&db), None), None);
    assert!(!hist.exists(), "nothing was recorded");

    // A scope that does not exist.
    let out = tune(&[
        "set",
        "statement_timeout=1s",
        "--database",
        &unique("tune_nodb"),
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(2);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
}

#[test]
fn dry_run_changes_nothing() {
    let db = unique("tune_dry");
    create_database(&db);
    let (_d, hist) = history_file("dry");
    let v = tune(&[
        "set",
        "statement_timeout=30s",
        "--database",
        &db,
        "--dry-run",
        "--json",
        "--history",
        hist.to_str().unwrap(),
    ])
    .run()
    .assert_code(0)
    .json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["applied"], false);
    assert_eq!(v["changes"][0]["old"], Value::Null);
    assert_eq!(v["changes"][0]["new"], "30s");
    assert!(v["changes"][0]["sql"]
        .as_str()
        .unwrap()
        .starts_with("ALTER DATABASE"));
    assert_eq!(stored(Some(&db), None), None);
    assert!(!hist.exists());
}

#[test]
fn refuses_without_a_terminal_or_yes() {
    let db = unique("tune_tty");
    create_database(&db);
    let (_d, hist) = history_file("tty");
    let out = tune(&[
        "set",
        "statement_timeout=30s",
        "--database",
        &db,
        "--history",
        hist.to_str().unwrap(),
    ])
    .run()
    .assert_code(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(stored(Some(&db), None), None);
    assert!(!hist.exists());
}

#[test]
fn prompt_on_a_terminal_acts_only_on_yes() {
    let db = unique("tune_pty");
    create_database(&db);
    let (_d, hist) = history_file("pty");
    let run = |answer: &str, json: bool| {
        let mut builder = tune(&["set", "lock_timeout=3s", "--database", &db])
            .arg("--history")
            .arg(&hist)
            .env("NO_COLOR", "1");
        if json {
            builder = builder.arg("--json");
        }
        let mut p = expectrl::Session::spawn(builder.command()).unwrap();
        p.set_expect_timeout(Some(std::time::Duration::from_secs(20)));
        p.expect("[y/N]").unwrap();
        p.send_line(answer).unwrap();
        let rest = support::until_eof(&mut p);
        (p.get_process().wait().unwrap(), rest)
    };
    // A "no" is what it is for kill and rescue: said, exit 2, the plan as JSON when asked for.
    let (st, rest) = run("n", false);
    assert!(matches!(st, expectrl::WaitStatus::Exited(_, 2)), "{st:?}");
    assert!(rest.contains("cancelled; nothing was done"), "{rest}");
    assert!(!rest.contains("error"), "{rest}");
    assert_eq!(stored(Some(&db), None), None);
    let (st, rest) = run("n", true);
    assert!(matches!(st, expectrl::WaitStatus::Exited(_, 2)), "{st:?}");
    assert!(rest.contains("cancelled; nothing was done"), "{rest}");
    let json = &rest[rest.find('{').expect("the plan as JSON")..rest.rfind('}').unwrap() + 1];
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {rest}"));
    assert_eq!(v["action"], "set");
    assert_eq!(v["applied"], false);
    assert_eq!(stored(Some(&db), None), None);
    let (st, _) = run("y", false);
    assert!(matches!(st, expectrl::WaitStatus::Exited(_, 0)), "{st:?}");
    assert_eq!(
        stored(Some(&db), None).unwrap(),
        vec!["lock_timeout=3s".to_string()]
    );
}

#[test]
fn undo_restores_exact_previous_values_including_not_set() {
    let db = unique("tune_undo");
    create_database(&db);
    // A value in a form pgconn would not write itself: undo must put back exactly this text.
    su().batch_execute(&format!(
        "ALTER DATABASE {} SET statement_timeout = '90'",
        ident(&db)
    ))
    .unwrap();
    let before = stored(Some(&db), None).unwrap();
    let (_d, hist) = history_file("undo");
    let h = hist.to_str().unwrap();
    tune(&[
        "set",
        "statement_timeout=30s",
        "lock_timeout=5s",
        "--database",
        &db,
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(0);
    assert_eq!(
        stored(Some(&db), None).unwrap(),
        vec![
            "statement_timeout=30s".to_string(),
            "lock_timeout=5s".to_string()
        ]
    );

    // The history holds the old state, the scope and the server, never a password.
    let text = std::fs::read_to_string(&hist).unwrap();
    assert!(!text.to_lowercase().contains("password"), "{text}");
    let v = tune(&["history", "--history", h, "--json"])
        .run()
        .assert_code(0)
        .json();
    let e = &v["entries"][0];
    assert_eq!(e["scope"]["database"], db.as_str());
    assert_eq!(e["changes"][0]["old"], "90");
    assert_eq!(e["changes"][1]["old"], Value::Null);
    assert_eq!(e["status"], "applied");

    // Dry run of the undo shows the plan and changes nothing.
    let v = tune(&["undo", "--dry-run", "--json", "--history", h])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["action"], "undo");
    assert_eq!(v["applied"], false);
    assert_eq!(stored(Some(&db), None).unwrap().len(), 2);

    tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(0);
    assert_eq!(stored(Some(&db), None).unwrap(), before);

    let v = tune(&["history", "--history", h, "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["entries"][0]["status"], "undone");
    // Nothing left to undo on this server.
    tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(1);
}

#[test]
fn sessions_connected_before_a_change_are_counted() {
    let db = unique("tune_old");
    create_database(&db);
    let _old = (client_in(&db, superuser()), client_in(&db, superuser()));
    let (_d, hist) = history_file("old");
    let v = tune(&[
        "set",
        "idle_in_transaction_session_timeout=5min",
        "--database",
        &db,
        "--yes",
        "--json",
        "--history",
        hist.to_str().unwrap(),
    ])
    .run()
    .assert_code(0)
    .json();
    assert_eq!(v["outcome"]["new_sessions_only"], true);
    assert_eq!(v["outcome"]["sessions_with_old_value"], 2);
}

#[test]
fn a_non_owner_gets_a_clear_permission_error() {
    let db = unique("tune_perm");
    let role = unique("tune_nobody");
    create_database(&db);
    create_role(&role, "");
    let (_d, hist) = history_file("perm");
    let h = hist.to_str().unwrap();
    let out = tune(&[
        "set",
        "statement_timeout=30s",
        "--database",
        &db,
        "--yes",
        "--history",
        h,
    ])
    .env("PGUSER", &role)
    .run()
    .assert_code(1);
    assert!(out.stderr.contains("permission denied"), "{}", out.stderr);
    assert!(out.stderr.contains("owner of database"), "{}", out.stderr);
    assert!(out.stderr.contains("--role"), "{}", out.stderr);
    assert_eq!(stored(Some(&db), None), None);
    // The attempt is in the history as failed, so undo skips it.
    let v = tune(&["history", "--history", h, "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["entries"][0]["status"], "failed");

    // ALTER SYSTEM: refused before anything is sent, naming who may and the alternative.
    let out = tune(&[
        "set",
        "statement_timeout=30s",
        "--system",
        "--yes",
        "--history",
        h,
    ])
    .env("PGUSER", &role)
    .run()
    .assert_code(1);
    assert!(
        out.stderr.contains("ALTER SYSTEM needs a superuser"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--database"), "{}", out.stderr);
}

#[test]
fn system_set_reloads_and_reports_pending_restart_then_undo() {
    let _guard = SYSTEM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let before = auto_conf();
    let max: i32 = su()
        .query_one("SELECT current_setting('max_connections')::int", &[])
        .unwrap()
        .get(0);
    let (_d, hist) = history_file("system");
    let h = hist.to_str().unwrap();
    let v = tune(&[
        "set",
        &format!("max_connections={}", max + 10),
        "tcp_keepalives_count=7",
        "--system",
        "--yes",
        "--json",
        "--history",
        h,
    ])
    .run()
    .assert_code(0)
    .json();
    let result = std::panic::catch_unwind(|| {
        assert_eq!(v["applied"], true);
        assert_eq!(v["outcome"]["reloaded"], true);
        let effects = v["outcome"]["effects"].as_array().unwrap();
        let status = |n: &str| {
            effects
                .iter()
                .find(|e| e["name"] == n)
                .map(|e| e["status"].as_str().unwrap().to_string())
        };
        assert_eq!(
            status("max_connections").as_deref(),
            Some("pending_restart")
        );
        assert_eq!(status("tcp_keepalives_count").as_deref(), Some("applied"));
        assert!(v["outcome"]["next_steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains("restart")));
        assert!(v["changes"][0]["sql"]
            .as_str()
            .unwrap()
            .starts_with("ALTER SYSTEM SET"));
        let pending: bool = su()
            .query_one(
                "SELECT pending_restart FROM pg_settings WHERE name = 'max_connections'",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(pending);
        let conf = auto_conf();
        assert!(conf.contains(&("max_connections".into(), (max + 10).to_string())));
        assert!(conf.contains(&("tcp_keepalives_count".into(), "7".into())));
    });

    // Put it back, whatever happened above.
    let v = tune(&["undo", "--yes", "--json", "--history", h])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(auto_conf(), before);
    let pending: bool = su()
        .query_one(
            "SELECT pending_restart FROM pg_settings WHERE name = 'max_connections'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!pending, "undo took the pending change back out");
    assert_eq!(v["outcome"]["reloaded"], true);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn system_reset_of_a_value_set_before() {
    let _guard = SYSTEM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    su().batch_execute("ALTER SYSTEM SET tcp_keepalives_interval = '25'; ")
        .unwrap();
    su().batch_execute("SELECT pg_reload_conf()").unwrap();
    let (_d, hist) = history_file("sysreset");
    let h = hist.to_str().unwrap();
    let v = tune(&[
        "reset",
        "tcp_keepalives_interval",
        "--system",
        "--yes",
        "--json",
        "--history",
        h,
    ])
    .run()
    .assert_code(0)
    .json();
    assert_eq!(v["changes"][0]["old"], "25");
    assert_eq!(v["changes"][0]["new"], Value::Null);
    assert!(!auto_conf()
        .iter()
        .any(|(n, _)| n == "tcp_keepalives_interval"));
    tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(0);
    assert!(auto_conf().contains(&("tcp_keepalives_interval".into(), "25".into())));
    su().batch_execute("ALTER SYSTEM RESET tcp_keepalives_interval")
        .unwrap();
    su().batch_execute("SELECT pg_reload_conf()").unwrap();
}

#[test]
fn presets_expand_and_explicit_pairs_win() {
    let db = unique("tune_preset");
    create_database(&db);
    let v = tune(&["presets", "--json"]).run().assert_code(0).json();
    let names: Vec<&str> = v["presets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["leak-guard", "runbook"]);

    let (_d, hist) = history_file("preset");
    tune(&[
        "set",
        "--preset",
        "runbook",
        "statement_timeout=45s",
        "--database",
        &db,
        "--yes",
        "--history",
        hist.to_str().unwrap(),
    ])
    .run()
    .assert_code(0);
    let mut got = stored(Some(&db), None).unwrap();
    got.sort();
    assert_eq!(
        got,
        vec![
            "idle_in_transaction_session_timeout=5min".to_string(),
            "statement_timeout=45s".to_string()
        ]
    );
}

#[test]
fn show_lists_the_connection_settings_for_this_version() {
    let v = tune(&["--json"]).run().assert_code(0).json();
    let version: i64 = v["server_version_num"].as_i64().unwrap();
    let names: Vec<&str> = v["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for n in [
        "max_connections",
        "superuser_reserved_connections",
        "idle_in_transaction_session_timeout",
        "idle_session_timeout",
        "statement_timeout",
        "lock_timeout",
        "tcp_keepalives_idle",
        "tcp_keepalives_interval",
        "tcp_keepalives_count",
        "client_connection_check_interval",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    assert_eq!(names.contains(&"reserved_connections"), version >= 160000);
    assert_eq!(names.contains(&"transaction_timeout"), version >= 170000);
    let mc = v["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "max_connections")
        .unwrap();
    assert_eq!(mc["restart_required"], true);
    let iit = v["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "idle_in_transaction_session_timeout")
        .unwrap();
    assert!(!iit["recommendation"]["reason"].as_str().unwrap().is_empty());
}

#[test]
fn history_defaults_to_xdg_state_home_then_home() {
    let db = unique("tune_xdg");
    create_database(&db);
    let state = tempfile::tempdir().unwrap();
    tune(&["set", "lock_timeout=1s", "--database", &db, "--yes"])
        .env("XDG_STATE_HOME", state.path())
        .run()
        .assert_code(0);
    assert!(state.path().join("pgconn/tune-history.jsonl").exists());
    tune(&["undo", "--yes"])
        .env("XDG_STATE_HOME", state.path())
        .run()
        .assert_code(0);
    assert_eq!(stored(Some(&db), None), None);

    let home = tempfile::tempdir().unwrap();
    tune(&["set", "lock_timeout=1s", "--database", &db, "--yes"])
        .home(home.path())
        .env_remove("XDG_STATE_HOME")
        .run()
        .assert_code(0);
    let file = home.path().join(".local/state/pgconn/tune-history.jsonl");
    assert!(file.exists());
    tune(&["undo", "--yes"])
        .home(home.path())
        .env_remove("XDG_STATE_HOME")
        .run()
        .assert_code(0);
    assert_eq!(stored(Some(&db), None), None);
}

#[test]
fn list_settings_round_trip_exactly() {
    let db = unique("tune_list");
    create_database(&db);
    // One schema whose name holds a comma, stored by PostgreSQL as "a, b".
    su().batch_execute(&format!(
        "ALTER DATABASE {} SET search_path = 'a, b'",
        ident(&db)
    ))
    .unwrap();
    let before = stored(Some(&db), None).unwrap();
    let (_d, hist) = history_file("list");
    let h = hist.to_str().unwrap();
    tune(&[
        "set",
        "search_path=\"$user\", app",
        "--database",
        &db,
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(0);
    let mut c = client_in(&db, superuser());
    let path: String = c
        .query_one("SELECT current_setting('search_path')", &[])
        .unwrap()
        .get(0);
    assert_eq!(path, "\"$user\", app");
    tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(0);
    assert_eq!(stored(Some(&db), None).unwrap(), before);
}

#[test]
fn a_change_made_while_the_prompt_waits_stops_the_plan() {
    let db = unique("tune_race");
    create_database(&db);
    let (_d, hist) = history_file("race");
    let mut builder = tune(&["set", "lock_timeout=3s", "--database", &db])
        .arg("--history")
        .arg(&hist)
        .env("NO_COLOR", "1");
    let mut p = expectrl::Session::spawn(builder.command()).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(20)));
    p.expect("[y/N]").unwrap();
    su().batch_execute(&format!(
        "ALTER DATABASE {} SET lock_timeout = '7s'",
        ident(&db)
    ))
    .unwrap();
    p.send_line("y").unwrap();
    let rest = p.expect(expectrl::Eof).unwrap();
    let text = String::from_utf8_lossy(rest.as_bytes()).to_string();
    let st = p.get_process().wait().unwrap();
    assert!(
        matches!(st, expectrl::WaitStatus::Exited(_, 1)),
        "{st:?} {text}"
    );
    assert!(text.contains("since the plan"), "{text}");
    assert_eq!(
        stored(Some(&db), None).unwrap(),
        vec!["lock_timeout=7s".to_string()]
    );
    assert!(!hist.exists(), "nothing was recorded");
}

#[test]
fn undo_refuses_when_someone_changed_the_value_since_unless_forced() {
    let db = unique("tune_moved");
    create_database(&db);
    let (_d, hist) = history_file("moved");
    let h = hist.to_str().unwrap();
    tune(&[
        "set",
        "statement_timeout=30s",
        "--database",
        &db,
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(0);
    // A colleague sets it again by hand.
    su().batch_execute(&format!(
        "ALTER DATABASE {} SET statement_timeout = '17min'",
        ident(&db)
    ))
    .unwrap();
    let out = tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(2);
    assert!(
        out.stderr.contains("30s")
            && out.stderr.contains("17min")
            && out.stderr.contains("--force"),
        "names both values and the way out: {}",
        out.stderr
    );
    assert_eq!(
        stored(Some(&db), None).unwrap(),
        vec!["statement_timeout=17min".to_string()],
        "the colleague's value stays"
    );
    let v = tune(&["undo", "--force", "--yes", "--json", "--history", h])
        .run()
        .assert_code(0)
        .json();
    assert!(v["notes"].to_string().contains("17min"), "{v:#}");
    assert_eq!(stored(Some(&db), None), None, "back to not set");
}

#[test]
fn an_unreadable_history_line_does_not_block_undo() {
    let db = unique("tune_torn");
    create_database(&db);
    let (_d, hist) = history_file("torn");
    let h = hist.to_str().unwrap();
    tune(&[
        "set",
        "lock_timeout=4s",
        "--database",
        &db,
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(0);
    // A torn write and a line that is not UTF-8, after the entry.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&hist)
        .unwrap();
    use std::io::Write;
    f.write_all(b"{\"event\":\"change\",\"id\":\"x\n\xff\xfe not utf-8\n")
        .unwrap();
    drop(f);
    let v = tune(&["history", "--json", "--history", h])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["skipped_lines"], 2, "{v:#}");
    assert_eq!(v["unreadable"][1]["reason"], "not UTF-8");
    let out = tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(0);
    assert!(
        out.stderr.contains("line 3 of the tune history"),
        "{}",
        out.stderr
    );
    assert_eq!(stored(Some(&db), None), None);
}

#[test]
fn set_refuses_before_changing_anything_when_the_history_cannot_be_written() {
    let db = unique("tune_nohist");
    create_database(&db);
    // A history under a file: cannot even be created, refused before the prompt.
    let out = tune(&[
        "set",
        "lock_timeout=4s",
        "--database",
        &db,
        "--history",
        "/dev/null/tune.jsonl",
    ])
    .run()
    .assert_code(1);
    assert!(out.stderr.contains("tune history"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("no terminal"),
        "refused before asking: {}",
        out.stderr
    );
    // A full disk (here a file size limit of 0 bytes): the entry cannot be written, so nothing is applied.
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("tune.jsonl");
    let out = tune(&["set", "lock_timeout=4s", "--database", &db, "--yes"])
        .arg("--history")
        .arg(&h)
        .file_size_limit(0)
        .run()
        .assert_code(1);
    assert!(
        out.stderr
            .contains(&format!("could not write the tune history {}", h.display())),
        "{}",
        out.stderr
    );
    assert_eq!(stored(Some(&db), None), None, "nothing was changed");
}

/// A history at a symbolic link (another user's, in a directory everyone may write to) or at a device is
/// refused before anything is asked or changed, and the link's target is left as it was.
#[test]
fn a_history_that_is_a_link_or_a_device_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let db = unique("tune_linkhist");
    create_database(&db);
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let private = tempfile::tempdir().unwrap();
    let precious = private.path().join("profile");
    std::fs::write(&precious, "umask 022\n").unwrap();
    let link = shared.path().join("tune.jsonl");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let postgres = nix::unistd::User::from_name("postgres").unwrap().unwrap();
    std::os::unix::fs::lchown(&link, Some(postgres.uid.as_raw()), None).unwrap();
    for (history, what) in [
        (link.as_path(), "symbolic link"),
        (std::path::Path::new("/dev/full"), "character device"),
    ] {
        let out = tune(&["set", "lock_timeout=4s", "--database", &db])
            .arg("--history")
            .arg(history)
            .run()
            .assert_code(2);
        assert!(
            out.stderr.contains(&format!(
                "cannot use the tune history {}",
                history.display()
            )) && out.stderr.contains(what)
                && out.stderr.contains("nothing was changed"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("no terminal"), "{}", out.stderr);
    }
    assert_eq!(stored(Some(&db), None), None, "nothing was changed");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "umask 022\n");
}

#[test]
fn the_same_setting_twice_is_refused() {
    let db = unique("tune_twice");
    create_database(&db);
    let out = tune(&[
        "set",
        "statement_timeout=1s",
        "statement_timeout=2s",
        "--database",
        &db,
        "--yes",
    ])
    .run()
    .assert_code(2);
    assert!(
        out.stderr.contains("statement_timeout (1s and 2s)"),
        "{}",
        out.stderr
    );
    assert_eq!(stored(Some(&db), None), None);
}

#[test]
fn system_set_shows_the_value_postgresql_conf_gives_and_undo_restores_it() {
    // A server of its own whose postgresql.conf sets the value.
    let c = support::start_cluster(&pgconn::sandbox::ClusterOptions {
        conf: vec![("idle_in_transaction_session_timeout".into(), "1min".into())],
        ..pgconn::sandbox::ClusterOptions::default()
    });
    let (_d, hist) = history_file("beneath");
    let h = hist.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["tune"];
        all.extend_from_slice(args);
        pgconn().env_cluster(&c).args(all).run()
    };
    let plan = run(&[
        "set",
        "idle_in_transaction_session_timeout=5min",
        "--system",
        "--dry-run",
    ])
    .assert_code(0)
    .stdout;
    // The sandbox's settings live in a file postgresql.conf includes.
    assert!(plan.contains("1min (pgconn.conf line"), "{plan}");
    let v = run(&[
        "set",
        "idle_in_transaction_session_timeout=5min",
        "--system",
        "--yes",
        "--json",
        "--history",
        h,
    ])
    .assert_code(0)
    .json();
    let change = &v["changes"][0];
    assert_eq!(
        change["old"],
        Value::Null,
        "postgresql.auto.conf did not set it"
    );
    assert_eq!(change["in_effect_without"]["value"], "1min");
    let show = |c: &pgconn::sandbox::Cluster| {
        c.psql("SHOW idle_in_transaction_session_timeout")
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(show(&c), "5min");
    let history = run(&["history", "--history", h]).assert_code(0).stdout;
    assert!(
        history.contains("not set, 1min (pgconn.conf line"),
        "{history}"
    );
    run(&["undo", "--yes", "--history", h]).assert_code(0);
    assert_eq!(
        show(&c),
        "1min",
        "postgresql.conf's value is in effect again"
    );
    let auto: i64 = c
        .psql(
            "SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' \
             AND name = 'idle_in_transaction_session_timeout'",
        )
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(auto, 0, "nothing left in postgresql.auto.conf");
}

#[test]
fn end_of_input_at_the_prompt_means_no() {
    let db = unique("tune_eof");
    create_database(&db);
    let (_d, hist) = history_file("eof");
    let mut builder = tune(&["set", "lock_timeout=3s", "--database", &db])
        .arg("--history")
        .arg(&hist);
    let mut p = expectrl::Session::spawn(builder.command()).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(20)));
    p.expect("[y/N]").unwrap();
    p.send(expectrl::ControlCode::EndOfTransmission).unwrap();
    p.expect("cancelled; nothing was done").unwrap();
    p.expect(expectrl::Eof).unwrap();
    let st = p.get_process().wait().unwrap();
    assert!(matches!(st, expectrl::WaitStatus::Exited(_, 2)), "{st:?}");
    assert_eq!(stored(Some(&db), None), None);
}

#[test]
fn a_server_error_is_said_once() {
    // A role that owns its database (so ALTER DATABASE is allowed) but whose sessions are read-only:
    // the server refuses the change with SQLSTATE 25006.
    let db = unique("tune_ro");
    let role = unique("tune_ro_owner");
    create_role(&role, "REPLICATION");
    create_database(&db);
    su().batch_execute(&format!(
        "ALTER DATABASE {} OWNER TO {}; ALTER ROLE {} SET default_transaction_read_only = on",
        ident(&db),
        ident(&role),
        ident(&role)
    ))
    .unwrap();
    let (_d, hist) = history_file("ro");
    let h = hist.to_str().unwrap();
    let words = "cannot execute ALTER DATABASE in a read-only transaction";
    // The normal route, and the emergency route (whose errors come from the wire client).
    for route in ["never", "always"] {
        let out = pgconn()
            .args(["--break-glass", route, "tune"])
            .args([
                "set",
                "statement_timeout=30s",
                "--database",
                &db,
                "--yes",
                "--history",
                h,
            ])
            .env("PGUSER", &role)
            .run()
            .assert_code(1);
        let e = &out.stderr;
        assert_eq!(e.matches(words).count(), 1, "{route}: {e}");
        assert_eq!(e.matches("SQLSTATE 25006").count(), 1, "{route}: {e}");
        assert!(!e.contains("db error"), "{route}: {e}");
        assert!(e.contains("nothing was changed"), "{route}: {e}");
        // One line of error (a warning about the WAL sender slot may come before it: this role cannot
        // see the other tests' sessions).
        let errors: Vec<&str> = e
            .lines()
            .filter(|l| !l.starts_with("pgconn: warning:"))
            .collect();
        assert_eq!(errors.len(), 1, "{route}: {e}");
        assert!(errors[0].starts_with("pgconn: error: "), "{route}: {e}");
        assert_eq!(stored(Some(&db), None), None);
    }
    // The history records the failure with the same words, once.
    let v = tune(&["history", "--history", h, "--json"])
        .run()
        .assert_code(0)
        .json();
    for entry in v["entries"].as_array().unwrap() {
        assert_eq!(entry["status"], "failed");
        let error = entry["error"].as_str().unwrap();
        assert_eq!(error.matches(words).count(), 1, "{error}");
    }
}

/// `postgres -C PARAM` on a stopped cluster, with `-c` overrides: whether the server accepts its
/// configuration for a start, by its own checks (on 15+ `shared_memory_size` is computed after
/// InitializeMaxBackends, which holds the start rule; on 14 `max_connections` runs the checks of each
/// value, which hold the same sum). Err carries what the server said.
fn server_would_start(c: &support::Cluster, overrides: &[(&str, i64)]) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let owner = std::fs::metadata(c.data_dir()).unwrap();
    let param = if c.version_num() >= 150000 {
        "shared_memory_size"
    } else {
        "max_connections"
    };
    let mut cmd = std::process::Command::new(c.bindir().join("postgres"));
    cmd.arg("-D").arg(c.data_dir()).args(["-C", param]);
    for (name, value) in overrides {
        cmd.arg("-c").arg(format!("{name}={value}"));
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .current_dir(c.root_dir())
        .uid(owner.uid())
        .gid(owner.gid())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Every entry of the configuration files, as the server reads them now.
fn file_settings(client: &mut postgres::Client) -> Vec<(String, String, String)> {
    client
        .query(
            "SELECT sourcefile, name, setting FROM pg_file_settings ORDER BY seqno",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[test]
fn max_connections_stops_at_the_servers_start_rule_with_pending_and_same_command_values() {
    let mut c = support::start_cluster(&support::ClusterOptions {
        max_connections: 20,
        ..support::ClusterOptions::default()
    });
    let words = if c.version_num() >= 180000 {
        "too many server processes configured"
    } else {
        "too many backends configured"
    };
    let (av_name, av_running) = if c.version_num() >= 180000 {
        ("autovacuum_worker_slots", "autovacuum_worker_slots")
    } else {
        ("autovacuum_max_workers", "autovacuum_max_workers")
    };
    let setting = |c: &support::Cluster, name: &str| -> i64 {
        c.psql(&format!("SELECT current_setting('{name}')"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let (workers, senders, av) = (
        setting(&c, "max_worker_processes"),
        setting(&c, "max_wal_senders"),
        setting(&c, av_running),
    );

    // The server's own boundary: the largest max_connections it would start with.
    c.stop().unwrap();
    let (mut lo, mut hi) = (20_i64, 262_143_i64 + 1);
    assert_eq!(server_would_start(&c, &[("max_connections", lo)]), Ok(()));
    assert!(server_would_start(&c, &[("max_connections", hi)]).is_err());
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        match server_would_start(&c, &[("max_connections", mid)]) {
            Ok(()) => lo = mid,
            Err(_) => hi = mid,
        }
    }
    let boundary = lo;
    let said = server_would_start(&c, &[("max_connections", boundary + 1)]).unwrap_err();
    // On 14-16 the value's own check refuses it first ("invalid value"), with the same sum.
    if said.contains("too many") {
        assert!(said.contains(words), "{said}");
    }
    c.start_again().unwrap();
    let mut su = c
        .connect(c.superuser(), "postgres", "pgconn-tune-test")
        .unwrap();
    let (_d, hist) = history_file("start_rule");
    let h = hist.to_str().unwrap();
    let set = |pairs: &[String]| -> support::Output {
        let mut args = vec!["tune".to_string(), "set".to_string()];
        args.extend(pairs.iter().cloned());
        args.extend(["--system", "--yes", "--json", "--history", h].map(String::from));
        pgconn().env_cluster(&c).args(&args).run()
    };
    let refused = |su: &mut postgres::Client, pairs: &[String], says: &[&str]| {
        let before = file_settings(su);
        let out = set(pairs);
        assert_eq!(out.status, 2, "{pairs:?}: {}", out.stderr);
        for s in says {
            assert!(out.stderr.contains(s), "{pairs:?}: {s:?} in {}", out.stderr);
        }
        assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
        assert_eq!(file_settings(su), before, "{pairs:?}: nothing written");
    };
    let accepted = |su: &mut postgres::Client, pairs: &[String]| {
        let out = set(pairs);
        assert_eq!(out.status, 0, "{pairs:?}: {}", out.stderr);
        let files = file_settings(su);
        for p in pairs {
            let (name, value) = p.split_once('=').unwrap();
            let last = files.iter().rev().find(|(_, n, _)| n == name).unwrap();
            assert_eq!(last.2, value, "{p} written to {}", last.0);
        }
    };
    let mc = |n: i64| format!("max_connections={n}");

    // At the boundary: accepted and written; one past it: refused in the server's words.
    accepted(&mut su, &[mc(boundary)]);
    refused(
        &mut su,
        &[mc(boundary + 1)],
        &[words, "262144 is more than 262143"],
    );

    // A value written but pending the restart counts.
    su.batch_execute("ALTER SYSTEM RESET max_connections")
        .unwrap();
    su.batch_execute(&format!(
        "ALTER SYSTEM SET max_wal_senders = {}",
        senders + 1
    ))
    .unwrap();
    refused(
        &mut su,
        &[mc(boundary)],
        &[
            words,
            &format!(
                "max_wal_senders {} (set in postgresql.auto.conf, not in effect until the restart)",
                senders + 1
            ),
        ],
    );
    accepted(&mut su, &[mc(boundary - 1)]);
    su.batch_execute("ALTER SYSTEM RESET max_wal_senders")
        .unwrap();

    // The other settings of the sum, set by tune against the pending max_connections, and together with
    // it in one command.
    refused(
        &mut su,
        &[format!("max_worker_processes={}", workers + 2)],
        &[words, &format!("max_connections {}", boundary - 1)],
    );
    refused(&mut su, &[format!("{av_name}={}", av + 2)], &[words]);
    accepted(
        &mut su,
        &[
            mc(boundary - 2),
            format!("max_worker_processes={}", workers + 2),
        ],
    );
    drop(su);

    // The server agrees: it would start with what was accepted, not with one more WAL sender.
    c.stop().unwrap();
    assert_eq!(server_would_start(&c, &[]), Ok(()));
    assert!(server_would_start(&c, &[("max_wal_senders", senders + 1)]).is_err());
}

/// pgconn reads a boolean as PostgreSQL does: for each input, the server's answer (through the GUC
/// parser that SET and the configuration files use, and through `::bool` for inputs it does not trim
/// differently) is the parser's answer.
#[test]
fn booleans_are_read_as_the_server_reads_them() {
    let mut c = su();
    let inputs = [
        "on", "ON", "of", "off", "OFF", "o", "onn", "offf", "t", "tr", "tru", "true", "truee",
        "TrUe", "f", "fa", "fals", "false", "y", "ye", "yes", "yess", "n", "no", "noo", "1", "0",
        "01", "10", "2", "", "maybe", " on", "on ",
    ];
    for input in inputs {
        let guc = c
            .query_one("SELECT set_config('enable_seqscan', $1, false)", &[&input])
            .ok()
            .map(|r| r.get::<_, String>(0) == "on");
        assert_eq!(
            pgconn::setting::parse_bool(input),
            guc,
            "SET enable_seqscan = {input:?}"
        );
        if input.trim() == input {
            let cast = c
                .query_one("SELECT $1::text::bool", &[&input])
                .ok()
                .map(|r| r.get::<_, bool>(0));
            assert_eq!(pgconn::setting::parse_bool(input), cast, "{input:?}::bool");
        }
    }
    // And so `tune set` takes what the server takes, and writes it in one spelling.
    let db = unique("tune_bool");
    create_database(&db);
    let (_d, hist) = history_file("bool");
    let v = tune(&[
        "set",
        "enable_seqscan=tru",
        "--database",
        &db,
        "--yes",
        "--json",
        "--history",
        hist.to_str().unwrap(),
    ])
    .run()
    .assert_code(0)
    .json();
    assert_eq!(v["applied"], true, "{v:#}");
    assert_eq!(
        stored(Some(&db), None).unwrap(),
        vec!["enable_seqscan=on".to_string()]
    );
}

/// A cluster of the test's own, for tests that lock a system view or take the control file away (the
/// shared cluster's other tests must not wait on that).
fn private_cluster() -> support::Cluster {
    support::start_cluster(&support::ClusterOptions::default())
}

/// A superuser client of `c`, by its own environment.
fn su_of(c: &support::Cluster) -> postgres::Client {
    support::superuser_client(c)
}

/// setconfig of database `db` (all roles) on `c`; None = nothing stored.
fn stored_on(c: &support::Cluster, db: &str) -> Option<Vec<String>> {
    su_of(c)
        .query(
            "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase \
             WHERE d.datname = $1 AND s.setrole = 0",
            &[&db],
        )
        .unwrap()
        .first()
        .map(|r| r.get(0))
}

#[test]
fn a_failure_after_the_change_says_it_was_applied_and_recorded() {
    let c = private_cluster();
    let db = unique("tune_after");
    let owner = unique("tune_after_owner");
    // The owner may change its database; counting the sessions that keep the old value reads
    // pg_stat_activity after the ALTER, which this server keeps from ordinary roles.
    let mut su = su_of(&c);
    su.batch_execute(&format!("CREATE ROLE {} LOGIN", ident(&owner)))
        .unwrap();
    su.batch_execute(&format!(
        "CREATE DATABASE {} OWNER {}",
        ident(&db),
        ident(&owner)
    ))
    .unwrap();
    su.batch_execute("REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC")
        .unwrap();
    let (_d, hist) = history_file("after");
    let h = hist.to_str().unwrap();
    let out = tune(&[
        "set",
        "statement_timeout=45s",
        "--database",
        &db,
        "--yes",
        "--json",
        "--history",
        h,
    ])
    .env_cluster(&c)
    .env("PGUSER", &owner)
    .run()
    .assert_code(1);
    let e = &out.stderr;
    assert!(
        e.contains("permission denied for view pg_stat_activity"),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "database \"{db}\" was changed and the change is recorded in the tune history {h} as entry"
        )),
        "{e}"
    );
    assert!(e.contains("`pgconn tune undo` takes it back"), "{e}");
    assert!(!e.contains("nothing was changed"), "{e}");
    // The server holds it, and the history lists it as applied: undo takes it back.
    assert_eq!(
        stored_on(&c, &db),
        Some(vec!["statement_timeout=45s".to_string()])
    );
    let v = tune(&["history", "--history", h, "--json"])
        .env_cluster(&c)
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["entries"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(v["entries"][0]["status"], "applied");
    assert!(e.contains(v["entries"][0]["id"].as_str().unwrap()), "{e}");
    su.batch_execute("GRANT SELECT ON pg_catalog.pg_stat_activity TO PUBLIC")
        .unwrap();
    tune(&["undo", "--yes", "--json", "--history", h])
        .env_cluster(&c)
        .env("PGUSER", &owner)
        .run()
        .assert_code(0);
    assert_eq!(stored_on(&c, &db), None);
}

#[test]
fn a_connection_lost_during_the_change_says_the_outcome_is_unknown() {
    let db = unique("tune_lost");
    create_database(&db);
    let (_d, hist) = history_file("lost");
    let h = hist.to_str().unwrap().to_string();
    let app = unique("tune_lost_app");
    // Another transaction stores a setting of the same database: pgconn's ALTER waits for it, and is
    // terminated while it waits.
    let mut holder = su();
    let mut tx = holder.transaction().unwrap();
    tx.batch_execute(&format!(
        "ALTER DATABASE {} SET work_mem = '1MB'",
        ident(&db)
    ))
    .unwrap();
    let run = {
        let (db, h, app) = (db.clone(), h.clone(), app.clone());
        std::thread::spawn(move || {
            tune(&[
                "set",
                "statement_timeout=25s",
                "--database",
                &db,
                "--yes",
                "--history",
                &h,
            ])
            .env("PGAPPNAME", &app)
            .run()
        })
    };
    let mut watcher = su();
    let terminated = support::wait_until(std::time::Duration::from_secs(20), || {
        watcher
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = $1 AND wait_event_type = 'Lock'",
                &[&app],
            )
            .unwrap()
            .get::<_, i64>(0)
            == 1
    });
    let out = run.join().unwrap();
    tx.rollback().unwrap();
    assert!(terminated, "pgconn's ALTER never waited: {}", out.stderr);
    let out = out.assert_code(1);
    let e = &out.stderr;
    assert!(
        e.contains(&format!(
            "the connection was lost while database \"{db}\" was being changed: whether the change was \
             made is unknown"
        )),
        "{e}"
    );
    assert!(!e.contains("nothing was changed"), "{e}");
    // Not marked failed: undo can still find it (here the server made nothing).
    let v = tune(&["history", "--history", &h, "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["entries"][0]["status"], "applied", "{v:#}");
    assert_eq!(stored(Some(&db), None), None);
}

#[test]
fn the_servers_identity_is_optional_only_when_it_is_kept_from_the_role() {
    let c = private_cluster();
    let db = unique("tune_ident");
    let owner = unique("tune_ident_owner");
    let mut su = su_of(&c);
    su.batch_execute(&format!("CREATE ROLE {} LOGIN", ident(&owner)))
        .unwrap();
    su.batch_execute(&format!(
        "CREATE DATABASE {} OWNER {}",
        ident(&db),
        ident(&owner)
    ))
    .unwrap();
    su.batch_execute("REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC")
        .unwrap();
    let (_d, hist) = history_file("ident");
    let h = hist.to_str().unwrap();
    // Kept from the role (SQLSTATE 42501): the change goes ahead, the history names the server by its
    // address.
    tune(&[
        "set",
        "statement_timeout=40s",
        "--database",
        &db,
        "--yes",
        "--json",
        "--history",
        h,
    ])
    .env_cluster(&c)
    .env("PGUSER", &owner)
    .run()
    .assert_code(0);
    assert_eq!(
        stored_on(&c, &db),
        Some(vec!["statement_timeout=40s".to_string()])
    );
    let v = tune(&["history", "--history", h, "--json"])
        .env_cluster(&c)
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["entries"][0]["server"]["system_identifier"], Value::Null);

    // The control file unreadable (another error than a privilege): refused before anything changes,
    // saying why, rather than a history entry that lost the server's identity.
    let control = c.data_dir().join("global/pg_control");
    let away = c.data_dir().join("global/pg_control.away");
    std::fs::rename(&control, &away).unwrap();
    let out = tune(&[
        "set",
        "statement_timeout=50s",
        "--database",
        &db,
        "--yes",
        "--history",
        h,
    ])
    .env_cluster(&c)
    .run();
    std::fs::rename(&away, &control).unwrap();
    let out = out.assert_code(1);
    let e = &out.stderr;
    assert!(
        e.contains("could not read the server's system identifier") && e.contains("pg_control"),
        "{e}"
    );
    assert!(e.contains("nothing was changed"), "{e}");
    assert_eq!(
        stored_on(&c, &db),
        Some(vec!["statement_timeout=40s".to_string()])
    );
    let v = tune(&["history", "--history", h, "--json"])
        .env_cluster(&c)
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["entries"].as_array().unwrap().len(), 1, "{v:#}");
}

#[test]
fn through_pgbouncer_database_changes_run_under_pgconns_timeouts_and_system_is_refused() {
    use support::pgbouncer::PgBouncer;
    let c = cluster();
    let db = unique("tune_pooled");
    create_database(&db);
    // One server connection: whatever pgconn leaves on it, the next client gets.
    let ini = format!(
        "[databases]\n{db} = host={} port={} dbname={db}\n[pgbouncer]\npool_mode = transaction\n\
         default_pool_size = 1\nmax_client_conn = 20\n",
        c.socket_dir().display(),
        c.port()
    );
    let bouncer = PgBouncer::start(&ini, &[superuser()]);
    let port = bouncer.port.to_string();
    let (_d, hist) = history_file("pooled");
    let h = hist.to_str().unwrap();
    let through = |args: &[&str]| {
        pgconn()
            .no_cluster_env()
            .args(["-h", "127.0.0.1", "-p", &port, "-U", superuser(), "-d", &db])
            .args(["tune"])
            .args(args)
            .timeout(std::time::Duration::from_secs(60))
    };
    let set = [
        "set",
        "statement_timeout=35s",
        "--database",
        &db,
        "--yes",
        "--history",
        h,
    ];

    // Another transaction stores a setting of the same database and has not ended: ALTER DATABASE waits
    // for it, pgconn's lock_timeout ends the wait inside pgconn's own transaction, and nothing is changed.
    let mut holder = su();
    let mut tx = holder.transaction().unwrap();
    tx.batch_execute(&format!(
        "ALTER DATABASE {} SET work_mem = '1MB'",
        ident(&db)
    ))
    .unwrap();
    let out = through(&set).run();
    tx.rollback().unwrap();
    let out = out.assert_code(1);
    assert!(out.stderr.contains("SQLSTATE 55P03"), "{}", out.stderr);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert_eq!(stored(Some(&db), None), None);

    // Unblocked, it is made; the pooled server connection keeps no timeout of pgconn's.
    through(&set).run().assert_code(0);
    assert_eq!(
        stored(Some(&db), None),
        Some(vec!["statement_timeout=35s".to_string()])
    );
    let mut next = bouncer.client(&db);
    for setting in ["statement_timeout", "lock_timeout"] {
        let value: String = next
            .query_one(&format!("SHOW {setting}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(
            value, "0",
            "{setting} was left on the pooled server connection"
        );
    }
    drop(next);

    // ALTER SYSTEM: refused before anything is sent (exit 2), naming the direct connection, which works.
    let _system = SYSTEM_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let before = auto_conf();
    let out = through(&[
        "set",
        "statement_timeout=35s",
        "--system",
        "--yes",
        "--history",
        h,
    ])
    .run()
    .assert_code(2);
    let e = &out.stderr;
    assert!(e.contains("connection pooler"), "{e}");
    assert!(e.contains("Nothing was changed"), "{e}");
    let direct = format!("-h {} -p {}", c.socket_dir().display(), c.port());
    assert!(e.contains(&direct), "{e}");
    assert_eq!(auto_conf(), before);
    pgconn()
        .no_cluster_env()
        .args(["-h", &c.socket_dir().display().to_string()])
        .args(["-p", &c.port().to_string(), "-U", superuser(), "-d", &db])
        .args(["tune", "set", "statement_timeout=35s", "--system"])
        .args(["--dry-run", "--json", "--history", h])
        .run()
        .assert_code(0);
}

/// The paths pgconn fsynced, read from `strace -f -e trace=openat,fsync` output: each descriptor is
/// named by the openat that returned it (per process; a call split by another thread's is joined).
fn fsynced_paths(trace: &str) -> Vec<PathBuf> {
    use std::collections::HashMap;
    let mut pending: HashMap<String, String> = HashMap::new();
    let mut open: HashMap<(String, String), PathBuf> = HashMap::new();
    let mut synced = Vec::new();
    for line in trace.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let (pid, rest) = (pid.to_string(), rest.trim_start());
        let call = if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid, head.to_string());
            continue;
        } else if rest.starts_with("<... ") {
            let tail = rest.split_once("resumed>").map_or("", |(_, t)| t);
            format!("{}{tail}", pending.remove(&pid).unwrap_or_default())
        } else {
            rest.to_string()
        };
        let Some((call, result)) = call.rsplit_once(" = ") else {
            continue;
        };
        let result = result.split_whitespace().next().unwrap_or("");
        if let Some(args) = call.strip_prefix("openat(") {
            if let Some(path) = args.split('"').nth(1) {
                open.insert((pid, result.to_string()), PathBuf::from(path));
            }
        } else if let Some(fd) = call.strip_prefix("fsync(") {
            let fd = fd.trim_end().trim_end_matches(')').to_string();
            if result == "0" {
                if let Some(p) = open.get(&(pid, fd)) {
                    synced.push(p.clone());
                }
            }
        }
    }
    synced
}

#[test]
fn a_new_history_file_and_its_new_directories_are_synced_into_their_parents() {
    let db = unique("tune_durable");
    create_database(&db);
    let top = tempfile::tempdir().unwrap();
    let hist = top.path().join("state/pgconn/h.jsonl");
    let trace = top.path().join("trace");
    tune(&[
        "set",
        "statement_timeout=20s",
        "--database",
        &db,
        "--yes",
        "--json",
        "--history",
        hist.to_str().unwrap(),
    ])
    .wrapped([
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=openat,fsync",
        "-o",
        trace.to_str().unwrap(),
        "--",
    ])
    .run()
    .assert_code(0);
    assert_eq!(
        stored(Some(&db), None),
        Some(vec!["statement_timeout=20s".to_string()])
    );
    let synced = fsynced_paths(&std::fs::read_to_string(&trace).unwrap());
    // The entry itself, then each name that had to be created: the file in its directory, each new
    // directory in its parent.
    for p in [
        hist.clone(),
        top.path().join("state/pgconn"),
        top.path().join("state"),
        top.path().to_path_buf(),
    ] {
        assert!(
            synced.contains(&p),
            "{} was not synced: {synced:?}",
            p.display()
        );
    }
}

// ---- connection_limit: a database's or a role's CONNECTION LIMIT through tune ----

/// Ground truth: pg_database.datconnlimit.
fn datconnlimit(db: &str) -> i32 {
    su().query_one(
        "SELECT datconnlimit FROM pg_database WHERE datname = $1",
        &[&db],
    )
    .unwrap()
    .get(0)
}

/// Ground truth: pg_roles.rolconnlimit.
fn rolconnlimit(role: &str) -> i32 {
    su().query_one(
        "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1",
        &[&role],
    )
    .unwrap()
    .get(0)
}

/// A database and a role whose names hold quotes, spaces, semicolons and mixed case.
fn hostile_database_and_role(tag: &str) -> (String, String) {
    let db = format!("{} Mixed \"Q\"; it's Db", unique(tag));
    let role = format!("{} O'Brien \"x\"; DROP ROLE postgres; Web", unique(tag));
    create_database(&db);
    create_role(&role, "");
    (db, role)
}

#[test]
fn connection_limit_set_and_undo_restore_exactly_with_hostile_names() {
    let (db, role) = hostile_database_and_role("cl_trip");
    let (_d, hist) = history_file("cl_trip");
    let h = hist.to_str().unwrap();
    let set = |value: &str, scope: &[&str]| -> Value {
        let pair = format!("connection_limit={value}");
        let mut args = vec!["set", pair.as_str(), "--yes", "--json", "--history", h];
        args.extend_from_slice(scope);
        tune(&args).run().assert_code(0).json()
    };
    let dbs = ["--database", db.as_str()];
    let roles = ["--role", role.as_str()];
    assert_eq!(datconnlimit(&db), -1);
    assert_eq!(rolconnlimit(&role), -1);

    // A database: 0, a positive number, then DEFAULT (PostgreSQL stores -1 for it).
    let v = set("0", &dbs);
    assert_eq!(v["applied"], true);
    let c = &v["changes"][0];
    assert_eq!(c["name"], "connection_limit");
    assert_eq!(
        (c["old"].as_str(), c["new"].as_str()),
        (Some("-1"), Some("0"))
    );
    let sql = c["sql"].as_str().unwrap();
    assert!(
        sql.starts_with("ALTER DATABASE \"") && sql.ends_with(" CONNECTION LIMIT 0"),
        "{sql}"
    );
    assert_eq!(v["outcome"]["connection_limit"]["limit"], 0);
    assert_eq!(datconnlimit(&db), 0);
    set("7", &dbs);
    assert_eq!(datconnlimit(&db), 7);
    let v = set("DEFAULT", &dbs);
    let c = &v["changes"][0];
    assert_eq!(
        (c["input"].as_str(), c["old"].as_str(), c["new"].as_str()),
        (Some("DEFAULT"), Some("7"), Some("-1"))
    );
    assert_eq!(datconnlimit(&db), -1);

    // A role: 0, a positive number, -1.
    let v = set("0", &roles);
    let sql = v["changes"][0]["sql"].as_str().unwrap();
    assert!(
        sql.starts_with("ALTER ROLE \"") && sql.ends_with(" CONNECTION LIMIT 0"),
        "{sql}"
    );
    assert_eq!(rolconnlimit(&role), 0);
    set("12", &roles);
    assert_eq!(rolconnlimit(&role), 12);
    set("-1", &roles);
    assert_eq!(rolconnlimit(&role), -1);

    // A limit and a setting in one change: one transaction, one history entry, one undo.
    let v = set("3", &["statement_timeout=30s", "--database", db.as_str()]);
    assert_eq!(v["changes"].as_array().unwrap().len(), 2, "{v:#}");
    assert_eq!(datconnlimit(&db), 3);
    assert_eq!(
        stored(Some(&db), None).unwrap(),
        ["statement_timeout=30s".to_string()]
    );

    // The history holds the numbers; nothing was injected.
    let listed = tune(&["history", "--history", h, "--json"])
        .run()
        .assert_code(0)
        .json();
    let first = &listed["entries"][0];
    assert_eq!(first["scope"]["database"], db.as_str());
    assert_eq!(first["changes"][0]["old"], "-1");
    assert_eq!(first["changes"][0]["new"], "0");
    let n: i64 = su()
        .query_one(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);

    // Undo walks back through every step, exactly.
    let undo = || {
        tune(&["undo", "--yes", "--json", "--history", h])
            .run()
            .assert_code(0)
            .json()
    };
    let v = undo();
    assert_eq!(v["action"], "undo");
    assert_eq!(datconnlimit(&db), -1);
    assert_eq!(stored(Some(&db), None), None);
    for expect in [12, 0, -1] {
        undo();
        assert_eq!(rolconnlimit(&role), expect);
    }
    for expect in [7, 0, -1] {
        undo();
        assert_eq!(datconnlimit(&db), expect);
    }
    tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(1);
}

#[test]
fn connection_limit_reset_sets_no_limit_and_says_so() {
    let (db, role) = hostile_database_and_role("cl_reset");
    let (_d, hist) = history_file("cl_reset");
    let h = hist.to_str().unwrap();
    su().batch_execute(&format!(
        "ALTER DATABASE {} CONNECTION LIMIT 4; ALTER ROLE {} CONNECTION LIMIT 0",
        ident(&db),
        ident(&role)
    ))
    .unwrap();
    for scope in [["--database", db.as_str()], ["--role", role.as_str()]] {
        let mut args = vec![
            "reset",
            "connection_limit",
            "--yes",
            "--json",
            "--history",
            h,
        ];
        args.extend_from_slice(&scope);
        let v = tune(&args).run().assert_code(0).json();
        assert_eq!(v["changes"][0]["new"], "-1", "{v:#}");
        assert!(v["notes"].to_string().contains("-1, no limit"), "{v:#}");
    }
    assert_eq!(datconnlimit(&db), -1);
    assert_eq!(rolconnlimit(&role), -1);
    // A reset is undone like any change.
    tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(0);
    assert_eq!(rolconnlimit(&role), 0);
    tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(0);
    assert_eq!(datconnlimit(&db), 4);
}

#[test]
fn connection_limit_undo_refuses_after_an_outside_change() {
    let (db, role) = hostile_database_and_role("cl_moved");
    let (_d, hist) = history_file("cl_moved");
    let h = hist.to_str().unwrap();
    for (flag, name, kind) in [("--database", &db, "DATABASE"), ("--role", &role, "ROLE")] {
        tune(&[
            "set",
            "connection_limit=5",
            flag,
            name,
            "--yes",
            "--history",
            h,
        ])
        .run()
        .assert_code(0);
        // A colleague changes it by hand.
        su().batch_execute(&format!("ALTER {kind} {} CONNECTION LIMIT 9", ident(name)))
            .unwrap();
        let out = tune(&["undo", "--yes", "--history", h])
            .run()
            .assert_code(2);
        assert!(
            out.stderr.contains("pgconn set 5")
                && out.stderr.contains("stores 9 now")
                && out.stderr.contains("--force"),
            "names the value found and the way out: {}",
            out.stderr
        );
        let now = || {
            if kind == "ROLE" {
                rolconnlimit(name)
            } else {
                datconnlimit(name)
            }
        };
        assert_eq!(now(), 9, "the colleague's value stays");
        let v = tune(&["undo", "--force", "--yes", "--json", "--history", h])
            .run()
            .assert_code(0)
            .json();
        assert!(v["notes"].to_string().contains("stores 9 now"), "{v:#}");
        assert_eq!(now(), -1, "back to what it was before pgconn's change");
    }
}

#[test]
fn connection_limit_scopes_and_values_are_refused_before_any_sql() {
    let (db, role) = hostile_database_and_role("cl_scope");
    let (_d, hist) = history_file("cl_scope");
    let h = hist.to_str().unwrap();
    let in_db: Vec<&str> = vec!["--role", &role, "--in-database", &db];
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            [&["set", "connection_limit=5"][..], &in_db].concat(),
            vec!["--in-database", "--role", "--database"],
        ),
        (
            vec!["set", "connection_limit=5", "--system"],
            vec!["--database DB", "--role ROLE", "max_connections"],
        ),
        (
            [&["reset", "connection_limit"][..], &in_db].concat(),
            vec!["--in-database", "--role", "--database"],
        ),
        (
            vec!["reset", "connection_limit", "--system"],
            vec!["--database DB", "--role ROLE"],
        ),
        // A setting beside it does not carry it through.
        (
            vec![
                "set",
                "statement_timeout=1s",
                "connection_limit=5",
                "--system",
            ],
            vec!["--database DB"],
        ),
        (
            vec!["set", "connection_limit=-2", "--role", &role],
            vec!["-1 (no limit) or more"],
        ),
        (
            vec!["set", "connection_limit=abc", "--database", &db],
            vec!["whole number"],
        ),
        (
            vec!["set", "connection_limit=1.5", "--role", &role],
            vec!["whole number"],
        ),
        (
            vec!["set", "connection_limit=2147483648", "--role", &role],
            vec!["2147483647"],
        ),
        // PostgreSQL has DEFAULT for a database's limit only (ALTER ROLE ... DEFAULT is a syntax error).
        (
            vec!["set", "connection_limit=DEFAULT", "--role", &role],
            vec!["DEFAULT", "-1"],
        ),
    ];
    for (args, expect) in cases {
        let mut all = args.clone();
        all.extend(["--yes", "--show-sql", "--history", h]);
        let out = tune(&all).run().assert_code(2);
        for e in expect {
            assert!(out.stderr.contains(e), "{args:?}: {e:?} in {}", out.stderr);
        }
        assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
        // --show-sql echoes every statement sent: none was, not even the connection's first.
        assert!(!out.stderr.contains("SELECT"), "{args:?}: {}", out.stderr);
        assert!(
            !out.stderr.contains("server facts"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
    assert!(!hist.exists(), "nothing was recorded");
    assert_eq!(datconnlimit(&db), -1);
    assert_eq!(rolconnlimit(&role), -1);
}

#[test]
fn a_connection_limit_below_the_sessions_a_role_holds_warns_and_ends_none() {
    let role = unique("cl_busy");
    create_role(&role, "");
    let (_d, hist) = history_file("cl_busy");
    let h = hist.to_str().unwrap();
    let mut held: Vec<postgres::Client> = (0..3).map(|_| client_in("postgres", &role)).collect();
    let args = ["set", "connection_limit=1", "--role", &role, "--history", h];
    let v = tune(&args)
        .args(["--dry-run", "--json"])
        .run()
        .assert_code(0)
        .json();
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("holds 3 sessions now")
            && warnings.contains("none of them is ended")
            && warnings.contains("53300"),
        "{v:#}"
    );
    // The plan for people says it too, above the question.
    let out = tune(&args).arg("--dry-run").run().assert_code(0);
    assert!(
        out.stdout.contains("holds 3 sessions now"),
        "{}",
        out.stdout
    );

    let v = tune(&args)
        .args(["--yes", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["outcome"]["connection_limit"]["sessions"], 3, "{v:#}");
    assert_eq!(v["outcome"]["connection_limit"]["limit"], 1);
    assert_eq!(rolconnlimit(&role), 1);
    // None of the sessions was ended; a new one is refused by the server.
    for c in &mut held {
        c.batch_execute("SELECT 1").unwrap();
    }
    let Err(e) = cluster().connect(&role, "postgres", "cl-busy-new") else {
        panic!("a new session of the role got in past its limit");
    };
    let code = e
        .chain()
        .find_map(|c| c.downcast_ref::<postgres::Error>())
        .and_then(|e| e.code().cloned());
    assert_eq!(
        code,
        Some(postgres::error::SqlState::TOO_MANY_CONNECTIONS),
        "{e:#}"
    );
    drop(held);
    tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(0);
    assert_eq!(rolconnlimit(&role), -1);
}

#[test]
fn a_connection_limit_on_a_superuser_warns_that_it_does_not_apply() {
    let role = unique("cl_super");
    create_role(&role, "SUPERUSER");
    let (_d, hist) = history_file("cl_super");
    let h = hist.to_str().unwrap();
    let v = tune(&[
        "set",
        "connection_limit=0",
        "--role",
        &role,
        "--yes",
        "--json",
        "--history",
        h,
    ])
    .run()
    .assert_code(0)
    .json();
    assert!(
        v["warnings"]
            .to_string()
            .contains("holds superusers to no connection limit"),
        "{v:#}"
    );
    assert_eq!(rolconnlimit(&role), 0);
    // And so it is: the superuser still connects.
    client_in("postgres", &role);
    tune(&["undo", "--yes", "--history", h])
        .run()
        .assert_code(0);
    assert_eq!(rolconnlimit(&role), -1);
}

/// Whether `actor` may run `sql` (rolled back), as the server itself decides.
fn server_allows(actor: &str, sql: &str) -> bool {
    let mut c = client_in("postgres", actor);
    let mut tx = c.transaction().unwrap();
    let r = tx.batch_execute(sql);
    tx.rollback().unwrap();
    match r {
        Ok(()) => true,
        Err(e) if e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) => false,
        Err(e) => panic!("{sql} as {actor}: {e:#}"),
    }
}

#[test]
fn connection_limit_privileges_are_checked_before_the_prompt_as_the_server_checks_them() {
    let nobody = unique("cl_nobody");
    let creator = unique("cl_creator");
    let app = unique("cl_app");
    let repl = unique("cl_repl");
    let granted_repl = unique("cl_grepl");
    let super_t = unique("cl_sut");
    let owned = unique("cl_owned");
    let owner = unique("cl_owner");
    let member = unique("cl_member");
    let db = unique("cl_privdb");
    create_role(&nobody, "");
    create_role(&creator, "CREATEROLE");
    create_role(&app, "");
    create_role(&repl, "REPLICATION");
    create_role(&granted_repl, "REPLICATION");
    create_role(&super_t, "SUPERUSER");
    create_role(&member, "");
    su().batch_execute(&format!(
        "GRANT {} TO {} WITH ADMIN OPTION; CREATE ROLE {} NOLOGIN; GRANT {} TO {}",
        ident(&granted_repl),
        ident(&creator),
        ident(&owner),
        ident(&owner),
        ident(&member),
    ))
    .unwrap();
    su().batch_execute(&format!(
        "CREATE DATABASE {} OWNER {}",
        ident(&db),
        ident(&owner)
    ))
    .unwrap();
    // A role the CREATEROLE role made itself (16+ gives it ADMIN OPTION on it).
    client_in("postgres", &creator)
        .batch_execute(&format!("CREATE ROLE {} LOGIN", ident(&owned)))
        .unwrap();

    let cases: Vec<(&str, &str, &str)> = vec![
        (&nobody, "--role", &app),
        (&creator, "--role", &app),
        (&creator, "--role", &repl),
        (&creator, "--role", &granted_repl),
        (&creator, "--role", &owned),
        (&creator, "--role", &creator),
        (&creator, "--role", &super_t),
        (&nobody, "--database", &db),
        (&member, "--database", &db),
    ];
    let major = cluster().version_num() / 10000;
    let mut seen = Vec::new();
    for (actor, flag, target) in cases {
        let kind = if flag == "--role" { "ROLE" } else { "DATABASE" };
        let now = || {
            if kind == "ROLE" {
                rolconnlimit(target)
            } else {
                datconnlimit(target)
            }
        };
        let allowed = server_allows(
            actor,
            &format!("ALTER {kind} {} CONNECTION LIMIT 3", ident(target)),
        );
        seen.push((format!("{actor} {flag} {target}"), allowed));
        let (_d, hist) = history_file("cl_priv");
        let h = hist.to_str().unwrap();
        if allowed {
            tune(&[
                "set",
                "connection_limit=3",
                flag,
                target,
                "--yes",
                "--history",
                h,
            ])
            .env("PGUSER", actor)
            .run()
            .assert_code(0);
            assert_eq!(now(), 3, "{actor} {flag} {target}");
            su().batch_execute(&format!(
                "ALTER {kind} {} CONNECTION LIMIT -1",
                ident(target)
            ))
            .unwrap();
            continue;
        }
        // Refused before the prompt (no terminal and no --yes would be exit 2, asking for --yes): the
        // missing privilege, with what would grant it, and nothing recorded.
        let out = tune(&["set", "connection_limit=3", flag, target, "--history", h])
            .env("PGUSER", actor)
            .run()
            .assert_code(1);
        assert!(out.stderr.contains("permission denied"), "{}", out.stderr);
        assert!(out.stderr.contains("Nothing was changed"), "{}", out.stderr);
        assert!(!out.stderr.contains("--yes"), "{}", out.stderr);
        let hint = if flag == "--database" {
            format!("GRANT {} TO {}", owner, actor)
        } else if target == super_t {
            "only a superuser may alter a superuser role".into()
        } else if actor == nobody && major < 16 {
            format!("ALTER ROLE {actor} CREATEROLE")
        } else if major < 16 && (target == repl || target == granted_repl) {
            "must be superuser to alter replication roles".into()
        } else if target == creator {
            "which no role holds on itself".into()
        } else if actor == nobody {
            format!("ALTER ROLE {actor} CREATEROLE")
        } else {
            format!("GRANT {target} TO {actor} WITH ADMIN OPTION")
        };
        assert!(
            out.stderr.contains(&hint),
            "{actor} {flag} {target}: {hint:?} in {}",
            out.stderr
        );
        assert!(!hist.exists(), "nothing was recorded");
        assert_eq!(now(), -1);
    }
    // What the server decided, per major (AlterRole's and AlterDatabase's rules), so that a change of
    // them shows here.
    let expect: Vec<bool> = if major < 16 {
        vec![false, true, false, false, true, true, false, false, true]
    } else {
        vec![false, false, false, true, true, false, false, false, true]
    };
    let got: Vec<bool> = seen.iter().map(|(_, a)| *a).collect();
    assert_eq!(got, expect, "PostgreSQL {major}: {seen:#?}");
}

#[test]
fn tune_show_gives_the_connection_limits_of_the_scope_and_an_invalid_database() {
    let (db, role) = hostile_database_and_role("cl_show");
    su().batch_execute(&format!(
        "ALTER DATABASE {} CONNECTION LIMIT 40; ALTER ROLE {} CONNECTION LIMIT 2",
        ident(&db),
        ident(&role)
    ))
    .unwrap();
    let _held = (client_in(&db, &role), client_in(&db, superuser()));
    let v = tune(&["show", "--database", &db, "--role", &role, "--json"])
        .run()
        .assert_code(0)
        .json();
    let limits = v["connection_limits"].as_array().unwrap();
    assert_eq!(limits.len(), 2, "{v:#}");
    assert_eq!(limits[0]["scope"], "database");
    assert_eq!(limits[0]["name"], db.as_str());
    assert_eq!(limits[0]["limit"], 40);
    assert_eq!(limits[0]["sessions"], 2);
    assert_eq!(limits[1]["scope"], "role");
    assert_eq!(limits[1]["limit"], 2);
    assert_eq!(limits[1]["sessions"], 1);
    assert_eq!(limits[1]["superuser"], false);
    let out = tune(&["show", "--database", &db]).run().assert_code(0);
    assert!(out.stdout.contains("connection limits"), "{}", out.stdout);
    assert!(
        out.stdout.contains(": 40, 2 sessions now"),
        "{}",
        out.stdout
    );

    // datconnlimit -2 marks a database left invalid by an interrupted DROP DATABASE: shown as such, and
    // no change is tried (PostgreSQL would end the session with FATAL).
    let invalid = unique("cl_invalid");
    create_database(&invalid);
    su().execute(
        "UPDATE pg_database SET datconnlimit = -2 WHERE datname = $1",
        &[&invalid],
    )
    .unwrap();
    let v = tune(&["show", "--database", &invalid, "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["connection_limits"][0]["invalid_database"], true, "{v:#}");
    let (_d, hist) = history_file("cl_invalid");
    let out = tune(&[
        "set",
        "connection_limit=5",
        "--database",
        &invalid,
        "--yes",
        "--history",
        hist.to_str().unwrap(),
    ])
    .run()
    .assert_code(2);
    assert!(
        out.stderr.contains("invalid") && out.stderr.contains("DROP DATABASE"),
        "{}",
        out.stderr
    );
    assert!(!hist.exists());
    su().batch_execute(&format!("DROP DATABASE {}", ident(&invalid)))
        .unwrap();
}
