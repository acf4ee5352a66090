//! Who blocks whom, against a real PostgreSQL: `blocked_by` in `sessions --json`, `sessions --blocked`
//! with the head of each chain, status's blocked sessions and head blocker, a prepared transaction as
//! blocker (pid 0) — each compared with what `pg_blocking_pids` and pg_stat_activity say.

mod support;

use std::collections::BTreeSet;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use support::{cluster, pgconn, start_cluster, superuser_client, unique, wait_until, Cluster};

/// A lock held by a session idle in transaction, and `n` sessions (each on its own thread) waiting for
/// it. The waiters' threads end once the blocker is gone.
struct Blocked {
    holder: Option<postgres::Client>,
    holder_pid: i32,
    /// Each ends true when its update went through (the lock was freed), false when it failed.
    waiters: Vec<JoinHandle<bool>>,
    waiter_pids: BTreeSet<i32>,
    table: String,
}

fn pid_of(c: &mut postgres::Client) -> i32 {
    c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0)
}

/// pids of the sessions of `app` waiting on a lock, as the server says.
fn lock_waiters(c: &Cluster, app: &str) -> BTreeSet<i32> {
    superuser_client(c)
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            &[&app],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn block(c: &Cluster, tag: &str, n: usize) -> Blocked {
    block_as(c, tag, n, c.superuser(), "")
}

/// [`block`] with the sessions of `role`, the holder running `first` in its transaction before the update
/// (e.g. taking an advisory lock).
fn block_as(c: &Cluster, tag: &str, n: usize, role: &str, first: &str) -> Blocked {
    block_roles(c, tag, n, role, role, first)
}

/// [`block_as`] with the holder's session of `holder_role` and the waiters' of `role`.
fn block_roles(
    c: &Cluster,
    tag: &str,
    n: usize,
    holder_role: &str,
    role: &str,
    first: &str,
) -> Blocked {
    let table = format!("t_{tag}");
    let mut admin = superuser_client(c);
    admin
        .batch_execute(&format!(
            "CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (1); \
             GRANT ALL ON {table} TO {role}, {holder_role};"
        ))
        .unwrap();
    let mut holder = c
        .connect(holder_role, "postgres", &format!("{tag}-holder"))
        .unwrap();
    if !first.is_empty() {
        holder.batch_execute(first).unwrap();
    }
    holder
        .batch_execute(&format!("BEGIN; UPDATE {table} SET id = id + 1;"))
        .unwrap();
    let holder_pid = pid_of(&mut holder);
    let mut waiters = Vec::new();
    let mut waiter_pids = BTreeSet::new();
    for _ in 0..n {
        let mut w = c
            .connect(role, "postgres", &format!("{tag}-waiter"))
            .unwrap();
        waiter_pids.insert(pid_of(&mut w));
        let sql = format!("UPDATE {table} SET id = id + 10");
        waiters.push(std::thread::spawn(move || {
            // Ends when the blocker commits or is terminated; the waiter itself may be terminated too.
            match w.batch_execute(&sql) {
                Ok(()) => true,
                Err(e) => {
                    eprintln!(
                        "waiter: {:?}",
                        e.as_db_error().map(|d| d.message().to_string())
                    );
                    false
                }
            }
        }));
    }
    let app = format!("{tag}-waiter");
    assert!(
        wait_until(Duration::from_secs(10), || lock_waiters(c, &app)
            == waiter_pids),
        "the waiters never waited on the lock"
    );
    Blocked {
        holder: Some(holder),
        holder_pid,
        waiters,
        waiter_pids,
        table,
    }
}

impl Blocked {
    fn release(mut self, c: &Cluster) {
        if let Some(h) = self.holder.take() {
            drop(h);
        }
        for w in self.waiters.drain(..) {
            w.join().unwrap();
        }
        let _ = superuser_client(c).batch_execute(&format!("DROP TABLE IF EXISTS {}", self.table));
    }
}

/// `pg_blocking_pids` of `pid`, deduplicated and sorted, asked by the test itself.
fn blocking_pids(c: &Cluster, pid: i32) -> Vec<i32> {
    superuser_client(c)
        .query_one(
            "SELECT ARRAY(SELECT DISTINCT b FROM unnest(pg_blocking_pids($1)) b ORDER BY b)",
            &[&pid],
        )
        .unwrap()
        .get(0)
}

/// Seconds `pid` has been in its state, as the server says (after pgconn's run).
fn state_age(c: &Cluster, pid: i32) -> f64 {
    superuser_client(c)
        .query_one(
            "SELECT date_part('epoch', now() - state_change) FROM pg_stat_activity WHERE pid = $1",
            &[&pid],
        )
        .unwrap()
        .get(0)
}

/// The value of the one sample of `family` in a Prometheus exposition.
fn sample(text: &str, family: &str) -> f64 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .collect();
    assert_eq!(lines.len(), 1, "{family}: {lines:?}");
    lines[0].rsplit(' ').next().unwrap().parse().unwrap()
}

fn pids_of(v: &Value) -> BTreeSet<i32> {
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pid"].as_i64().unwrap() as i32)
        .collect()
}

fn ints(v: &Value) -> Vec<i32> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|p| p.as_i64().unwrap() as i32)
        .collect()
}

#[test]
fn an_idle_transaction_blocking_two_sessions_is_named_by_sessions() {
    let c = cluster();
    let tag = unique("blockers");
    let b = block(c, &tag, 2);

    let v = pgconn()
        .args(["sessions", "--json", "--app", &format!("{tag}-*")])
        .run()
        .assert_code(0)
        .json();
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{v:#}");
    let mut named_holder = 0;
    for s in sessions {
        let pid = s["pid"].as_i64().unwrap() as i32;
        if pid == b.holder_pid {
            // not waiting on a lock: never asked, empty
            assert_eq!(s["blocked_by"], serde_json::json!([]), "{s:#}");
            assert_eq!(s["state"], "idle_in_transaction");
        } else {
            assert!(b.waiter_pids.contains(&pid));
            assert_eq!(s["wait_event_type"], "Lock");
            let by = ints(&s["blocked_by"]);
            // the server's own answer: the first waiter waits for the holder's transaction, the second
            // for the row lock the first one holds (a chain whose head is the holder)
            assert_eq!(by, blocking_pids(c, pid), "{s:#}");
            assert!(!by.is_empty(), "{s:#}");
            named_holder += usize::from(by.contains(&b.holder_pid));
            assert!(
                s.get("head_blocker").is_none(),
                "only with --blocked: {s:#}"
            );
        }
    }
    assert!(named_holder >= 1, "{v:#}");
    assert_eq!(v["prepared_transactions"], serde_json::json!([]));

    // --blocked: the two waiters, each with the holder as the head of its chain
    let v = pgconn()
        .args([
            "sessions",
            "--blocked",
            "--json",
            "--app",
            &format!("{tag}-*"),
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(pids_of(&v), b.waiter_pids, "{v:#}");
    assert_eq!(v["count"], 2);
    for s in v["sessions"].as_array().unwrap() {
        assert_eq!(s["head_blocker"], b.holder_pid, "{s:#}");
        assert_eq!(
            ints(&s["blocked_by"]),
            blocking_pids(c, s["pid"].as_i64().unwrap() as i32)
        );
    }
    // the table names the blocker in the WAIT column
    let out = pgconn()
        .args([
            "sessions",
            "--blocked",
            "--wide",
            "--app",
            &format!("{tag}-*"),
        ])
        .run()
        .assert_code(0);
    let text = out.stdout;
    assert!(text.contains(&format!("by {}", b.holder_pid)), "{text}");

    // status: two blocked sessions, the holder as their head, idle in transaction
    let v = pgconn()
        .args(["status", "--json", "--app", &format!("{tag}-*")])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["blocked_sessions"], 2, "{v:#}");
    let head = &v["head_blocker"];
    assert_eq!(head["pid"], b.holder_pid, "{v:#}");
    assert_eq!(head["prepared_transaction"], false);
    assert_eq!(head["blocking"], 2);
    assert_eq!(head["state"], "idle_in_transaction");
    assert_eq!(head["application"], format!("{tag}-holder"));
    assert_eq!(head["database"], "postgres");
    let age = state_age(c, b.holder_pid);
    let shown = head["state_seconds"].as_f64().unwrap();
    assert!(shown > 0.0 && shown <= age + 0.01, "{shown} vs {age}");
    let out = pgconn()
        .args(["status", "--app", &format!("{tag}-*")])
        .run()
        .assert_code(0);
    assert!(
        out.stdout.contains(&format!(
            "2 session(s) wait on a lock · head blocker pid {}",
            b.holder_pid
        )),
        "{}",
        out.stdout
    );
    // Prometheus: the same numbers
    let out = pgconn()
        .args([
            "status",
            "--format",
            "prometheus",
            "--app",
            &format!("{tag}-*"),
        ])
        .run()
        .assert_code(0);
    assert_eq!(
        sample(&out.stdout, "pgconn_blocked_sessions"),
        2.0,
        "{}",
        out.stdout
    );
    let head_seconds = sample(&out.stdout, "pgconn_head_blocker_seconds");
    assert!(head_seconds > 0.0 && head_seconds <= state_age(c, b.holder_pid) + 0.01);
    // a filter that leaves the waiters out counts none of them
    let v = pgconn()
        .args(["status", "--json", "--app", &format!("{tag}-holder")])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["blocked_sessions"], 0, "{v:#}");
    assert_eq!(v["head_blocker"], Value::Null);

    b.release(c);
    // nothing waits any more: --blocked lists nothing
    let v = pgconn()
        .args([
            "sessions",
            "--blocked",
            "--json",
            "--app",
            &format!("{tag}-*"),
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["count"], 0, "{v:#}");
}

/// A chain: A holds, B waits for A, C waits for B's lock too (an ACCESS EXCLUSIVE request queued behind
/// A): the head of every chain is A, not the waiter in between.
#[test]
fn the_head_of_a_chain_is_the_blocker_that_waits_for_nobody() {
    let c = cluster();
    let tag = unique("chain");
    let b = block(c, &tag, 1);
    let middle = *b.waiter_pids.iter().next().unwrap();
    // C asks for a lock the waiting B's queued request conflicts with
    let mut last = c
        .connect(c.superuser(), "postgres", &format!("{tag}-last"))
        .unwrap();
    let last_pid = pid_of(&mut last);
    let sql = format!("BEGIN; LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", b.table);
    let t = std::thread::spawn(move || {
        if let Err(e) = last.batch_execute(&sql) {
            eprintln!("last: {:?}", e.as_db_error())
        }
    });
    assert!(wait_until(Duration::from_secs(10), || {
        lock_waiters(c, &format!("{tag}-last")).contains(&last_pid)
    }));
    let v = pgconn()
        .args([
            "sessions",
            "--blocked",
            "--json",
            "--app",
            &format!("{tag}-*"),
        ])
        .run()
        .assert_code(0)
        .json();
    let expected: BTreeSet<i32> = [middle, last_pid].into();
    assert_eq!(pids_of(&v), expected, "{v:#}");
    for s in v["sessions"].as_array().unwrap() {
        assert_eq!(s["head_blocker"], b.holder_pid, "{s:#}");
        let pid = s["pid"].as_i64().unwrap() as i32;
        assert_eq!(ints(&s["blocked_by"]), blocking_pids(c, pid), "{s:#}");
    }
    b.release(c);
    t.join().unwrap();
}

/// A prepared transaction holds a lock with no session: the waiter's blocked_by is [0], its head is 0,
/// the prepared transaction is listed as the candidate and a warning says so.
#[test]
fn a_prepared_transaction_blocker_is_pid_zero_with_its_candidates() {
    let c = start_cluster(&support::ClusterOptions {
        conf: vec![("max_prepared_transactions".into(), "5".into())],
        ..support::ClusterOptions::default()
    });
    let tag = unique("prepared");
    let table = format!("t_{tag}");
    // a quote and a backslash: the printed commands must run as printed whatever standard_conforming_strings is
    let gid = format!("gid '{tag}' \\x");
    let mut admin = superuser_client(&c);
    admin
        .batch_execute(&format!(
            "CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (1);"
        ))
        .unwrap();
    admin
        .batch_execute(&format!(
            "BEGIN; UPDATE {table} SET id = 2; PREPARE TRANSACTION '{}';",
            gid.replace('\'', "''")
        ))
        .unwrap();
    let mut w = c
        .connect(c.superuser(), "postgres", &format!("{tag}-waiter"))
        .unwrap();
    let wpid = pid_of(&mut w);
    let sql = format!("UPDATE {table} SET id = 3");
    let t = std::thread::spawn(move || {
        if let Err(e) = w.batch_execute(&sql) {
            eprintln!(
                "waiter: {:?}",
                e.as_db_error().map(|d| d.message().to_string())
            )
        }
    });
    assert!(wait_until(Duration::from_secs(10), || {
        lock_waiters(&c, &format!("{tag}-waiter")).contains(&wpid)
    }));
    let out = pgconn()
        .env_cluster(&c)
        .args([
            "sessions",
            "--blocked",
            "--json",
            "--app",
            &format!("{tag}-*"),
        ])
        .run()
        .assert_code(0);
    let v = out.json();
    assert_eq!(blocking_pids(&c, wpid), [0]);
    let s = &v["sessions"][0];
    assert_eq!(s["pid"], wpid, "{v:#}");
    assert_eq!(ints(&s["blocked_by"]), [0]);
    assert_eq!(s["head_blocker"], 0);
    let prepared = v["prepared_transactions"].as_array().unwrap();
    assert_eq!(prepared.len(), 1, "{v:#}");
    assert_eq!(prepared[0]["gid"], gid.as_str());
    assert_eq!(prepared[0]["owner"], c.superuser());
    assert_eq!(prepared[0]["database"], "postgres");
    assert!(prepared[0]["age_seconds"].as_f64().unwrap() >= 0.0);
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("prepared transaction")
                && w.as_str().unwrap().contains(&wpid.to_string())),
        "{v:#}"
    );
    let v = pgconn()
        .env_cluster(&c)
        .args(["status", "--json", "--app", &format!("{tag}-*")])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["blocked_sessions"], 1, "{v:#}");
    assert_eq!(v["head_blocker"]["pid"], 0, "{v:#}");
    assert_eq!(v["head_blocker"]["prepared_transaction"], true);
    assert_eq!(v["head_blocker"]["state"], Value::Null);
    // kill --blockers: a prepared transaction is no session: listed with the statements a DBA would
    // consider, never acted on (even with --yes and every protection off).
    // the gid as the server itself quotes a literal
    let literal: String = admin
        .query_one("SELECT quote_literal($1::text)", &[&gid])
        .unwrap()
        .get(0);
    assert!(literal.starts_with("E'"), "{literal}");
    let rollback = format!("ROLLBACK PREPARED {literal}");
    let v = pgconn()
        .env_cluster(&c)
        .args([
            "kill",
            "--blockers",
            "--include-superusers",
            "--yes",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["targets"], serde_json::json!([]), "{v:#}");
    assert_eq!(ints(&v["blockers"]["waiting_on_prepared"]), [wpid], "{v:#}");
    let candidate = &v["blockers"]["prepared_transactions"][0];
    assert_eq!(candidate["gid"], gid.as_str(), "{v:#}");
    assert_eq!(candidate["rollback"], rollback.as_str());
    assert_eq!(
        candidate["commit"],
        format!("COMMIT PREPARED {literal}").as_str()
    );
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("prepared transaction") && notes.contains(&wpid.to_string()),
        "{notes}"
    );
    assert_eq!(v["acted"], false);
    let still: i64 = admin
        .query_one("SELECT count(*) FROM pg_prepared_xacts", &[])
        .unwrap()
        .get(0);
    assert_eq!(still, 1);
    assert_eq!(lock_waiters(&c, &format!("{tag}-waiter")), [wpid].into());
    // The command as printed, run by psql in a session where a backslash in '...' is an escape
    // (standard_conforming_strings off): it names the same transaction.
    let psql = std::process::Command::new(support::psql_exe(&c))
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(c.socket_dir())
        .args([
            "-p",
            &c.port().to_string(),
            "-U",
            c.superuser(),
            "-d",
            "postgres",
            "-c",
        ])
        .arg(candidate["rollback"].as_str().unwrap())
        .env("PGOPTIONS", "-c standard_conforming_strings=off")
        .output()
        .unwrap();
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    let left: i64 = admin
        .query_one("SELECT count(*) FROM pg_prepared_xacts", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    t.join().unwrap();
}

// ---- kill --blockers ----

/// The server's state_change of `pid`, as pgconn writes timestamps (RFC 3339, UTC, microseconds).
fn state_change(c: &Cluster, pid: i32) -> Option<String> {
    superuser_client(c)
        .query_one(
            "SELECT to_char(state_change AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
             FROM pg_stat_activity WHERE pid = $1",
            &[&pid],
        )
        .unwrap()
        .get(0)
}

fn target_pids(v: &Value) -> BTreeSet<i32> {
    v["targets"]
        .as_array()
        .unwrap_or_else(|| panic!("no targets: {v:#}"))
        .iter()
        .map(|t| t["pid"].as_i64().unwrap() as i32)
        .collect()
}

/// A session idle in transaction holding a row lock blocks two others: `kill --blockers` previews exactly
/// that session with the pids it blocks (as pg_blocking_pids says), terminates it, both waiters proceed,
/// and the audit log's `target` line names the pids it blocked.
#[test]
fn kill_blockers_terminates_the_head_and_its_waiters_proceed() {
    let c = cluster();
    let tag = unique("killb");
    let role = support::app_role();
    let b = block_as(c, &tag, 2, &role, "");
    let apps = format!("{tag}-*");

    // The server's own answer: the holder waits for nobody; every waiter's chain leads to it.
    assert_eq!(blocking_pids(c, b.holder_pid), Vec::<i32>::new());
    let mut reached = BTreeSet::new();
    for &w in &b.waiter_pids {
        let by = blocking_pids(c, w);
        assert!(!by.is_empty(), "{w} waits for nobody");
        reached.extend(by);
    }
    assert!(reached.contains(&b.holder_pid), "{reached:?}");
    assert!(reached
        .iter()
        .all(|p| *p == b.holder_pid || b.waiter_pids.contains(p)));

    let v = pgconn()
        .args(["kill", "--blockers", "--app", &apps, "--dry-run", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(target_pids(&v), [b.holder_pid].into(), "{v:#}");
    let t = &v["targets"][0];
    assert_eq!(
        ints(&t["blocking"]).into_iter().collect::<BTreeSet<_>>(),
        b.waiter_pids,
        "{v:#}"
    );
    assert_eq!(t["state"], "idle_in_transaction");
    assert_eq!(
        t["state_change"].as_str(),
        state_change(c, b.holder_pid).as_deref()
    );
    assert!(v["blockers"]["waiting"].as_u64().unwrap() >= 2, "{v:#}");
    assert_eq!(v["blockers"]["waiting_on_prepared"], serde_json::json!([]));
    assert_eq!(v["dry_run"], true);
    // the 57P01 note applies to this plan too, naming the holder's application
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("57P01") && notes.contains(&format!("{tag}-holder")),
        "{notes}"
    );
    // the same plan over the emergency route (a WAL sender connection: its rows are text)
    let e = pgconn()
        .args([
            "--break-glass",
            "always",
            "kill",
            "--blockers",
            "--app",
            &apps,
            "--dry-run",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(e["connection"]["via"], "replication", "{e:#}");
    assert_eq!(target_pids(&e), [b.holder_pid].into(), "{e:#}");
    assert_eq!(e["targets"][0]["blocking"], t["blocking"]);
    assert_eq!(e["targets"][0]["state_change"], t["state_change"]);
    // the waiters are never targets, whatever the filter
    let v = pgconn()
        .args([
            "kill",
            "--blockers",
            "--app",
            &format!("{tag}-waiter"),
            "--dry-run",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(target_pids(&v), BTreeSet::new(), "{v:#}");
    // a dry run changed nothing
    assert_eq!(lock_waiters(c, &format!("{tag}-waiter")), b.waiter_pids);

    // The preview for people names the head and whom it blocks.
    let out = pgconn()
        .args(["kill", "--blockers", "--app", &apps, "--dry-run"])
        .run()
        .assert_code(0);
    let listed: Vec<String> = b.waiter_pids.iter().map(|p| p.to_string()).collect();
    assert!(
        out.stdout.contains(&format!(
            "head blocker pid {} (idle in transaction) blocks 2 sessions: pid {}",
            b.holder_pid,
            listed.join(", ")
        )),
        "{}",
        out.stdout
    );

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kill.jsonl");
    let v = pgconn()
        .args([
            "kill",
            "--blockers",
            "--app",
            &apps,
            "--yes",
            "--json",
            "--log",
        ])
        .arg(&log)
        .run()
        .assert_code(0)
        .json();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{v:#}");
    assert_eq!(results[0]["pid"], b.holder_pid);
    assert_eq!(results[0]["outcome"], "terminated", "{v:#}");
    // Both waiters proceed: no longer waiting, their updates went through.
    let holder_pid = b.holder_pid;
    let waiter_pids = b.waiter_pids.clone();
    let Blocked {
        holder, waiters, ..
    } = b;
    for w in waiters {
        assert!(w.join().unwrap(), "a waiter's update failed");
    }
    assert!(lock_waiters(c, &format!("{tag}-waiter")).is_empty());
    let gone: i64 = superuser_client(c)
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
            &[&holder_pid],
        )
        .unwrap()
        .get(0);
    assert_eq!(gone, 0);
    drop(holder);

    // The audit log: the plan, the target line with the pids it blocked, the outcome, the summary.
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        ["plan", "target", "session", "summary"],
        "{lines:#?}"
    );
    assert!(lines[0]["blockers"]["waiting"].as_u64().unwrap() >= 2);
    assert_eq!(lines[1]["pid"], holder_pid);
    assert_eq!(
        ints(&lines[1]["blocking"])
            .into_iter()
            .collect::<BTreeSet<_>>(),
        waiter_pids,
        "{:#}",
        lines[1]
    );
    assert!(lines[1]["state_change"].is_string());
    assert_eq!(lines[2]["outcome"], "terminated");
}

/// Two steps: the preview, then the head blocker runs a statement (it stays idle in transaction, but its
/// state_change moves), then the answer: it is skipped and reported as such, nothing is terminated.
#[test]
fn a_head_blocker_that_ran_a_statement_after_the_preview_is_skipped() {
    ran_a_statement_after_the_preview(&[]);
}

/// The same race over the emergency route: the same re-check, its parameters written as literals.
#[test]
fn a_head_blocker_that_ran_a_statement_after_the_preview_is_skipped_over_the_emergency_route() {
    ran_a_statement_after_the_preview(&["--break-glass", "always"]);
}

fn ran_a_statement_after_the_preview(route: &[&str]) {
    let c = cluster();
    let tag = unique("killb-race");
    let role = support::app_role();
    let mut b = block_as(c, &tag, 2, &role, "");
    let apps = format!("{tag}-*");
    let shown = state_change(c, b.holder_pid);

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pgconn"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(c.env()).env("NO_COLOR", "1").args(route).args([
        "kill",
        "--blockers",
        "--app",
        &apps,
        "--json",
    ]);
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    p.expect("Terminate 1 session?").unwrap();
    // Between the preview and the answer, the head runs a statement in its transaction.
    b.holder
        .as_mut()
        .unwrap()
        .batch_execute("SELECT 1")
        .unwrap();
    assert_ne!(state_change(c, b.holder_pid), shown);
    p.send_line("y").unwrap();
    let v = support::json_after_prompt(&mut p);
    if !route.is_empty() {
        assert_eq!(v["connection"]["via"], "replication", "{v:#}");
    }
    let r = &v["results"][0];
    assert_eq!(r["pid"], b.holder_pid, "{v:#}");
    assert_eq!(r["outcome"], "skipped", "{v:#}");
    assert_eq!(r["skip"], "ran_since", "{v:#}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("ran a statement after the preview"),
        "{r}"
    );
    assert_eq!(r["state_now"], "idle_in_transaction");
    assert_eq!(v["summary"]["terminated"], 0);
    assert_eq!(v["summary"]["skipped"], 1);
    // Nothing was terminated: the head is there, the waiters still wait for it.
    assert_eq!(blocking_pids(c, b.holder_pid), Vec::<i32>::new());
    assert!(state_age(c, b.holder_pid) >= 0.0);
    assert_eq!(lock_waiters(c, &format!("{tag}-waiter")), b.waiter_pids);

    // Said for people too.
    let out = pgconn()
        .args(["kill", "--blockers", "--app", &apps, "--yes"])
        .run();
    // (this run acts: the head is unchanged since its own preview)
    assert_eq!(out.status, 0, "{}", out.stderr);
    b.release(c);
}

/// A head blocker holding an advisory lock is left alone unless --include-lock-holders; one holding only
/// a row lock (the usual idle-in-transaction head) is not shielded by that protection.
#[test]
fn an_advisory_lock_holder_at_the_head_stays_protected_unless_included() {
    let c = cluster();
    let tag = unique("killb-adv");
    let role = support::app_role();
    let b = block_as(c, &tag, 1, &role, "SELECT pg_advisory_lock(4242)");
    let apps = format!("{tag}-*");
    let v = pgconn()
        .args(["kill", "--blockers", "--app", &apps, "--dry-run", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(target_pids(&v), BTreeSet::new(), "{v:#}");
    assert_eq!(v["left_alone"][0]["pid"], b.holder_pid, "{v:#}");
    assert_eq!(v["left_alone"][0]["protection"], "advisory_lock");
    let v = pgconn()
        .args([
            "kill",
            "--blockers",
            "--include-lock-holders",
            "--app",
            &apps,
            "--dry-run",
            "--json",
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(target_pids(&v), [b.holder_pid].into(), "{v:#}");
    b.release(c);
}

/// No session waits on a lock: nothing to do, exit 0, as kill says when nothing qualifies; and the
/// combinations that make no sense for a head blocker are refused before anything is read.
#[test]
fn kill_blockers_without_waiters_has_nothing_to_do_and_refuses_what_makes_no_sense() {
    let c = start_cluster(&support::ClusterOptions::default());
    let mut idle = c.connect(c.superuser(), "postgres", "idle-one").unwrap();
    idle.batch_execute("BEGIN; SELECT 1").unwrap();
    let out = pgconn()
        .env_cluster(&c)
        .args(["kill", "--blockers", "--yes"])
        .run()
        .assert_code(0);
    assert!(
        out.stdout
            .contains("no session waits on a lock someone holds: nothing to do"),
        "{}",
        out.stdout
    );
    let v = pgconn()
        .env_cluster(&c)
        .args(["kill", "--blockers", "--yes", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["blockers"]["waiting"], 0, "{v:#}");
    assert_eq!(v["targets"], serde_json::json!([]));
    assert_eq!(v["acted"], false, "{v:#}");
    for (extra, says) in [
        ("--all", "--all"),
        ("--cancel", "--cancel"),
        ("--keep=1", "--keep"),
    ] {
        let out = pgconn()
            .env_cluster(&c)
            .args(["kill", "--blockers", extra, "--yes", "--show-sql"])
            .run()
            .assert_code(2);
        assert!(
            out.stderr.contains("--blockers") && out.stderr.contains(says),
            "{extra}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("SELECT"),
            "nothing was read: {}",
            out.stderr
        );
    }
    drop(idle);
}

/// Two steps through the library: the plan, then the sessions waiting behind the head give up (their
/// queries are cancelled), then the act: the head blocks nobody any more and is skipped, not terminated.
#[test]
fn a_head_that_blocks_nobody_any_more_when_acting_is_skipped() {
    use pgconn::commands::kill::{self, KillRequest};
    let c = cluster();
    let tag = unique("killb-gone");
    let role = support::app_role();
    let mut b = block_as(c, &tag, 2, &role, "");
    let conn = pgconn::db::ConnOptions {
        dbname: vec![c.conninfo(c.superuser(), "postgres")],
        ..Default::default()
    };
    let spec = pgconn::db::resolve_spec(&conn, Some(&conn.dbname[0]), None).unwrap();
    let mut db =
        pgconn::db::Db::connect(spec, false, false, pgconn::db::BreakGlass::Never).unwrap();
    let req = KillRequest {
        filter: pgconn::activity::Filter {
            app: vec![format!("{tag}-*")],
            ..Default::default()
        },
        blockers: true,
        ..Default::default()
    };
    let plan = kill::plan(&mut db, req).unwrap();
    let planned: Vec<i32> = plan.report.targets.iter().map(|t| t.session.pid).collect();
    assert_eq!(planned, [b.holder_pid]);
    // The waiters give up: nobody waits for the head any more.
    let waiters: Vec<i32> = b.waiter_pids.iter().copied().collect();
    superuser_client(c)
        .execute(
            "SELECT pg_cancel_backend(p) FROM unnest($1::int[]) p",
            &[&waiters],
        )
        .unwrap();
    for w in b.waiters.drain(..) {
        assert!(
            !w.join().unwrap(),
            "a cancelled waiter's update went through"
        );
    }
    assert!(lock_waiters(c, &format!("{tag}-waiter")).is_empty());
    let interrupt = pgconn::interrupt::Interrupt::install().unwrap();
    let done = kill::execute(&mut db, plan, &interrupt, &mut |_| {}).unwrap();
    let r = &done.report.run.results[0];
    assert_eq!(r.pid, b.holder_pid);
    assert_eq!(
        r.skip,
        Some(pgconn::report::kill::SkipReason::NotBlocking),
        "{r:?}"
    );
    assert_eq!(done.report.run.summary.terminated, 0);
    // Still there, still idle in transaction.
    assert!(state_age(c, b.holder_pid) >= 0.0);
    b.release(c);
}

/// Run by a role without pg_read_all_stats, `kill --blockers` is concerned only with the sessions it
/// cannot see that head a chain a session it sees waits on (pg_blocking_pids names them whatever the
/// role): a hidden session that blocks nobody is neither counted nor warned about (exit 0), while a hidden
/// head is counted, named in `blockers.heads_not_visible` and the warning (exit 1), never acted on. The
/// other kills keep their rule: every hidden session that may match is counted.
#[test]
fn kill_blockers_by_a_role_that_cannot_see_everyone_counts_only_hidden_heads() {
    let c = cluster();
    let tag = unique("blindb");
    let blind = tag.replace('-', "_");
    let other = support::app_role();
    superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {blind} LOGIN"))
        .unwrap();
    // A session of another role that blocks nothing: hidden from the role.
    let mut idle = c
        .connect(&other, "postgres", &format!("{tag}-idle"))
        .unwrap();
    idle.batch_execute("SELECT 1").unwrap();
    // The role's own chain: its holder blocks its waiter, both visible to it.
    let own = block_roles(c, &format!("{tag}o"), 1, &blind, &blind, "");
    let apps = format!("{tag}*");
    let kill_as_blind = |args: &[&str]| {
        pgconn()
            .args(["-U", blind.as_str(), "kill"])
            .args(args)
            .args(["--dry-run", "--json"])
            .run()
    };

    // Today's rule for the other kills: the hidden session may match, so it is counted, exit 1.
    let v = kill_as_blind(&["--app", &format!("{tag}-idle")])
        .assert_code(1)
        .json();
    assert_eq!(v["not_visible"], 1, "{v:#}");

    // --blockers: the hidden session blocks nobody: no warning, exit 0, the visible head previewed.
    let out = kill_as_blind(&["--blockers", "--app", &apps]).assert_code(0);
    let v = out.json();
    assert_eq!(v["not_visible"], 0, "{v:#}");
    assert_eq!(v["warnings"], serde_json::json!([]), "{v:#}");
    assert_eq!(target_pids(&v), [own.holder_pid].into(), "{v:#}");
    assert_eq!(v["blockers"]["heads_not_visible"], serde_json::json!([]));
    assert!(!out.stderr.contains("pg_read_all_stats"), "{}", out.stderr);

    // A chain headed by a session of another role: the role sees its own session wait, not the head.
    let hidden = block_roles(c, &format!("{tag}h"), 1, &other, &blind, "");
    let waiter = *hidden.waiter_pids.iter().next().unwrap();
    assert_eq!(
        blocking_pids(c, waiter),
        [hidden.holder_pid],
        "the server's answer"
    );
    let out = kill_as_blind(&["--blockers", "--app", &apps]).assert_code(1);
    let v = out.json();
    assert_eq!(v["not_visible"], 1, "{v:#}");
    assert_eq!(
        ints(&v["blockers"]["heads_not_visible"]),
        [hidden.holder_pid],
        "{v:#}"
    );
    assert_eq!(target_pids(&v), [own.holder_pid].into(), "{v:#}");
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains(&format!("pid {}", hidden.holder_pid))
            && warnings.contains("GRANT pg_read_all_stats"),
        "{warnings}"
    );
    assert!(
        out.stderr.contains(&format!("pid {}", hidden.holder_pid)),
        "{}",
        out.stderr
    );
    // Nothing was signalled (a dry run), and the hidden head is still there, still blocking.
    assert_eq!(blocking_pids(c, waiter), [hidden.holder_pid]);
    hidden.release(c);
    own.release(c);
    drop(idle);
}
