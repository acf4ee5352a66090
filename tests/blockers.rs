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
    waiters: Vec<JoinHandle<()>>,
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
    let table = format!("t_{tag}");
    let mut admin = superuser_client(c);
    admin
        .batch_execute(&format!(
            "CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (1);"
        ))
        .unwrap();
    let mut holder = c
        .connect(c.superuser(), "postgres", &format!("{tag}-holder"))
        .unwrap();
    holder
        .batch_execute(&format!("BEGIN; UPDATE {table} SET id = id + 1;"))
        .unwrap();
    let holder_pid = pid_of(&mut holder);
    let mut waiters = Vec::new();
    let mut waiter_pids = BTreeSet::new();
    for _ in 0..n {
        let mut w = c
            .connect(c.superuser(), "postgres", &format!("{tag}-waiter"))
            .unwrap();
        waiter_pids.insert(pid_of(&mut w));
        let sql = format!("UPDATE {table} SET id = id + 10");
        waiters.push(std::thread::spawn(move || {
            // Ends when the blocker commits or is terminated; the waiter itself may be terminated too.
            if let Err(e) = w.batch_execute(&sql) {
                eprintln!(
                    "waiter: {:?}",
                    e.as_db_error().map(|d| d.message().to_string())
                )
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
    let gid = format!("gid '{tag}'");
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
    admin
        .batch_execute(&format!("ROLLBACK PREPARED '{}'", gid.replace('\'', "''")))
        .unwrap();
    t.join().unwrap();
}
