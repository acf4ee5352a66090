//! The emergency route: a server whose every slot is taken, the reserved ones included, entered through a
//! WAL sender slot (`replication=database`) by the interactive commands and never by monitoring unless
//! told; the route refused for each reason; password authentication and TLS on it. Every test fills or
//! configures a real cluster of its own (the suite runs on PostgreSQL 14 to 18).

mod support;

use std::time::Duration;

use support::full::{full_cluster, ground_truth, value, walsender};
use support::{pgconn, start_cluster, wait_until, Cluster, ClusterOptions, Output};

/// The cluster's data directory as the rescue command names it.
fn data_dir(c: &Cluster) -> String {
    std::fs::canonicalize(c.data_dir())
        .unwrap()
        .display()
        .to_string()
}

fn run(c: &Cluster, args: &[&str]) -> Output {
    pgconn().env_cluster(c).args(args).run()
}

/// Waits until exactly `n` of the server's processes are WAL senders (by their titles). A WAL sender
/// holds its slot (max_wal_senders) until its process ends, which is after its client has gone: a run
/// that has ended may still hold its slot for a moment, and the next step would find one slot fewer.
fn wal_senders_settle(c: &Cluster, n: usize) {
    let count = || {
        support::processes_in(std::path::Path::new(&data_dir(c)))
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|t| String::from_utf8_lossy(&t).contains("walsender"))
            })
            .count()
    };
    assert!(
        wait_until(Duration::from_secs(10), || count() == n),
        "{} WAL sender processes, not {n}",
        count()
    );
}

#[test]
fn a_full_server_is_read_and_freed_through_a_wal_sender_slot() {
    let f = full_cluster(&[]);
    let c = &f.c;
    let truth = ground_truth(c);
    let count = |app: &str, state: &str| {
        truth
            .get(&(app.to_string(), state.to_string()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(count("leaky-worker", "idle") as usize, f.leaky_idle);
    assert_eq!(count("runaway-admin", "idle") as usize, f.admin);

    // status: in by the emergency route, said on stderr and in the JSON, counts as the server's.
    let out = run(c, &["status", "--json"]).assert_code(0);
    assert!(
        out.stderr.contains("refused a normal connection")
            && out.stderr.contains("WAL sender slot"),
        "{}",
        out.stderr
    );
    let v = out.json();
    assert_eq!(v["connection"]["via"], "replication", "{}", v["connection"]);
    // What stderr said travels in the report: the route taken is among the connection's warnings.
    let warnings = v["connection"]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("refused a normal connection")),
        "{warnings:?}"
    );
    let reason = v["connection"]["reason"].as_str().unwrap();
    assert!(reason.contains("53300"), "{reason}");
    // The cause, and the server's own numbers behind it.
    assert_eq!(v["connection"]["cause"], "full");
    assert!(
        reason.contains(
            "all 8 slots of max_connections are in use, the 2 reserved ones \
             (superuser_reserved_connections = 2) included"
        ),
        "{reason}"
    );
    assert_eq!(v["capacity"]["used"], 8, "{}", v["capacity"]);
    assert_eq!(v["capacity"]["slots_left"], 0);
    assert_eq!(v["capacity"]["reserved_slots_left"], 0);
    assert_eq!(v["sessions"], 8);
    assert_eq!(
        v["states"]["idle"],
        count("leaky-worker", "idle") + count("runaway-admin", "idle")
    );
    assert_eq!(v["states"]["active"], 1);
    assert_eq!(v["states"]["idle_in_transaction"], 1);
    let human = run(c, &["status"]).assert_code(0);
    assert!(
        human
            .stdout
            .lines()
            .next()
            .unwrap()
            .contains("via a WAL sender slot"),
        "{}",
        human.stdout
    );

    // sessions: the same sessions.
    let v = run(c, &["sessions", "--json", "--app", "leaky-worker"])
        .assert_code(0)
        .json();
    assert_eq!(v["connection"]["via"], "replication");
    assert_eq!(
        v["count"].as_u64().unwrap() as usize,
        f.leaky_idle + 2,
        "{v}"
    );
    // The limit is a literal on this route (simple-query protocol): one row sent, every match counted.
    let v = run(
        c,
        &[
            "sessions",
            "--json",
            "--app",
            "leaky-worker",
            "--limit",
            "1",
        ],
    )
    .assert_code(0)
    .json();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        v["count"].as_u64().unwrap() as usize,
        f.leaky_idle + 2,
        "{v}"
    );

    // Monitoring never takes a WAL sender slot unless told: check and watch are refused ...
    let out = run(c, &["check"]).assert_code(2);
    assert!(out.stdout.starts_with("PGCONN CRITICAL"), "{}", out.stdout);
    assert!(out.stdout.contains("53300"), "{}", out.stdout);
    assert!(
        !out.stderr.contains("WAL sender slot instead"),
        "{}",
        out.stderr
    );
    let out = run(c, &["watch", "--count", "1", "--json"]);
    assert!(out.stdout.contains("\"ok\":false"), "{}", out.stdout);
    assert!(out.stdout.contains("53300"), "{}", out.stdout);
    // ... and Prometheus output, several targets, --break-glass never for status too.
    let out = run(c, &["status", "--format", "prometheus"]);
    assert!(
        !out.stderr.contains("WAL sender slot instead"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("pgconn_up"), "{}", out.stdout);
    let out_dir = tempfile::tempdir().unwrap();
    let out_file = out_dir.path().join("status.txt");
    let out = run(c, &["status", "--output", out_file.to_str().unwrap()]);
    assert!(
        !out.stderr.contains("WAL sender slot instead"),
        "{}",
        out.stderr
    );
    // --format json for one server is a person's status like --json: the route is taken.
    let v = run(c, &["status", "--format", "json"])
        .assert_code(0)
        .json();
    assert_eq!(v["connection"]["via"], "replication", "{v}");
    let out = run(c, &["--break-glass", "never", "status"]).assert_code(1);
    assert!(out.stderr.contains("was not tried"), "{}", out.stderr);
    // The server runs on this machine: the error names the exact rescue command for it.
    assert!(
        out.stderr
            .contains(&format!("`pgconn rescue --pgdata {}`", data_dir(c))),
        "{}",
        out.stderr
    );
    // Told to, check gets in and reports the full server.
    let out = run(c, &["--break-glass", "always", "check"]).assert_code(2);
    assert!(out.stdout.contains("used=8"), "{}", out.stdout);

    // kill-idle frees exactly the idle leaky-worker sessions; the active and idle-in-transaction ones
    // and the superuser's stay.
    let v = run(
        c,
        &[
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            "leaky-worker",
            "--yes",
            "--json",
        ],
    )
    .assert_code(0)
    .json();
    assert_eq!(v["connection"]["via"], "replication");
    assert_eq!(
        v["summary"]["terminated"].as_u64().unwrap() as usize,
        f.leaky_idle,
        "{v}"
    );
    let after = ground_truth(c);
    let after_count = |app: &str, state: &str| {
        after
            .get(&(app.to_string(), state.to_string()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(after_count("leaky-worker", "idle"), 0, "{after:?}");
    assert_eq!(after_count("leaky-worker", "active"), 1, "{after:?}");
    assert_eq!(after_count("leaky-worker", "idle in transaction"), 1);
    assert_eq!(after_count("runaway-admin", "idle") as usize, f.admin);

    // A normal connection gets in again: pgconn's own, without the route.
    let mut last = None;
    assert!(wait_until(Duration::from_secs(10), || {
        let out = run(c, &["--break-glass", "never", "status", "--json"]);
        let ok = out.status == 0;
        last = Some(out);
        ok
    }));
    let v = last.unwrap().json();
    assert_eq!(v["connection"]["via"], "normal");
    // And psql itself.
    let psql = support::full::psql_select_1(c);
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    drop(f.w);
}

#[test]
fn the_route_says_why_it_was_refused() {
    let f = full_cluster(&[("max_wal_senders", "2")]);
    let c = &f.c;

    // A role without REPLICATION: refused by the server, and told what to do.
    let out = run(c, &["-U", "app", "status"]).assert_code(1);
    assert!(
        out.stderr.contains("out of connection slots"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("emergency route (a WAL sender slot) failed too"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("may not open a WAL sender")
            && out.stderr.contains("ALTER ROLE \"app\" REPLICATION"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("`pgconn rescue --pgdata {}`", data_dir(c))),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());

    // A role with REPLICATION gets in; with one of two WAL sender slots already taken, pgconn says it
    // holds the last one. (Each step starts once the WAL senders of the steps before have ended: the
    // refused one above held a slot until its process ended.)
    wal_senders_settle(c, 0);
    let mut held = walsender(c);
    assert_eq!(value(&mut held, "SELECT 1"), "1");
    let out = run(c, &["status", "--json"]).assert_code(0);
    assert!(
        out.stderr
            .contains("now holds the last free WAL sender slot"),
        "{}",
        out.stderr
    );
    let v = out.json();
    assert_eq!(v["connection"]["via"], "replication");
    assert!(
        v["connection"]["warnings"]
            .to_string()
            .contains("now holds the last free WAL sender slot"),
        "{}",
        v["connection"]
    );
    // A role that cannot see the other WAL senders is told it may.
    wal_senders_settle(c, 1);
    let out = run(c, &["-U", "ops", "status", "--json"]).assert_code(0);
    assert!(
        out.stderr
            .contains("may hold the last free WAL sender slot"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["server"]["current_user"], "ops");

    // Every WAL sender slot taken: also 53300, told apart by which connection failed.
    wal_senders_settle(c, 1);
    let mut held2 = walsender(c);
    assert_eq!(value(&mut held2, "SELECT 2"), "2");
    let out = run(c, &["status"]).assert_code(1);
    assert!(
        out.stderr.contains("every WAL sender slot is taken too")
            && out.stderr.contains("max_wal_senders"),
        "{}",
        out.stderr
    );
    drop((held, held2));
}

#[test]
fn password_authentication_and_tls_on_the_route() {
    let dir = tempfile::tempdir().unwrap();
    let tls = support::tls::generate(dir.path());
    let c = start_cluster(&ClusterOptions {
        tcp: true,
        ssl: Some(tls.ssl_files()),
        hba: vec![
            "host all scram_ops 127.0.0.1/32 scram-sha-256".into(),
            "host all md5_ops 127.0.0.1/32 md5".into(),
            "host all shut_out 127.0.0.1/32 reject".into(),
        ],
        ..ClusterOptions::default()
    });
    c.psql(
        "SET password_encryption = 'scram-sha-256'; \
         CREATE ROLE scram_ops LOGIN REPLICATION PASSWORD 's3cret pass'; \
         SET password_encryption = 'md5'; \
         CREATE ROLE md5_ops LOGIN REPLICATION PASSWORD 'md5 pass'; \
         CREATE ROLE shut_out LOGIN REPLICATION",
    )
    .unwrap();
    let port = c.tcp_port().unwrap().to_string();
    let conninfo = |user: &str, extra: &str| {
        format!("host=127.0.0.1 port={port} user={user} dbname=postgres {extra}")
    };
    let go = |user: &str, extra: &str, password: Option<&str>| {
        let mut cmd = pgconn()
            .no_cluster_env()
            .args(["--break-glass", "always", "-d", &conninfo(user, extra)])
            .args(["status", "--json"]);
        if let Some(p) = password {
            cmd = cmd.env("PGPASSWORD", p);
        }
        cmd.run()
    };
    // SCRAM over plain TCP, over TLS, and with channel binding required (SCRAM-SHA-256-PLUS).
    for extra in [
        "sslmode=disable",
        "sslmode=require",
        "sslmode=require channel_binding=require",
        "sslmode=prefer",
    ] {
        let out = go("scram_ops", extra, Some("s3cret pass")).assert_code(0);
        assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
        let v = out.json();
        assert_eq!(v["connection"]["via"], "replication", "{extra}: {v}");
        assert_eq!(v["server"]["current_user"], "scram_ops");
    }
    // md5.
    let v = go("md5_ops", "sslmode=require", Some("md5 pass"))
        .assert_code(0)
        .json();
    assert_eq!(v["connection"]["via"], "replication");
    // Without TLS, binding cannot be had: refused by pgconn before any password is sent.
    let out = go(
        "scram_ops",
        "sslmode=disable channel_binding=require",
        Some("s3cret pass"),
    )
    .assert_code(1);
    assert!(out.stderr.contains("channel binding"), "{}", out.stderr);
    // A wrong password, no password, and pg_hba.conf's reject: each said as what it is.
    let out = go("scram_ops", "sslmode=require", Some("wrong")).assert_code(1);
    assert!(
        out.stderr
            .contains("authentication failed for user \"scram_ops\""),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wrong"), "{}", out.stderr);
    let out = go("scram_ops", "sslmode=require", None).assert_code(1);
    assert!(out.stderr.contains("asks for a password"), "{}", out.stderr);
    let out = go("shut_out", "sslmode=require", None).assert_code(1);
    assert!(
        out.stderr.contains("refused the login") && out.stderr.contains("pg_hba.conf"),
        "{}",
        out.stderr
    );
    // TLS required and verified against the throwaway CA.
    let root = tls.ca_cert.display().to_string();
    let v = go(
        "scram_ops",
        &format!("sslmode=verify-ca sslrootcert={root}"),
        Some("s3cret pass"),
    )
    .assert_code(0)
    .json();
    assert_eq!(v["connection"]["via"], "replication");
}

/// Client backends holding a slot, as the server counts them (over the test's own WAL sender window).
fn client_backends(c: &Cluster) -> i64 {
    let mut w = walsender(c);
    value(
        &mut w,
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
    )
    .parse()
    .unwrap()
}

/// The text of "only the reserved slots are left" for superusers, as this major words it.
fn reserved_for_superusers(c: &Cluster) -> &'static str {
    if c.version_num() >= 160000 {
        "remaining connection slots are reserved for roles with the SUPERUSER attribute"
    } else {
        "remaining connection slots are reserved for non-replication superuser connections"
    }
}

#[test]
fn only_reserved_slots_left_says_a_superuser_gets_in_and_counts_them_once_in() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 8,
        superuser_reserved_connections: Some(2),
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE app LOGIN; CREATE ROLE ops LOGIN REPLICATION")
        .unwrap();
    let mut w = support::Workload::new();
    let (_, refusal) = w.fill(&c, "app", "postgres", "leaky-worker").unwrap();
    // This major's own words.
    assert_eq!(refusal, reserved_for_superusers(&c));
    let used = client_backends(&c);
    assert_eq!(used, 6);

    // Not tried: what is true (superusers get in) and the superuser's command first.
    let out = run(&c, &["-U", "app", "--break-glass", "never", "status"]).assert_code(1);
    let e = &out.stderr;
    assert!(
        e.contains("only the reserved connection slots are left")
            && e.contains(
                "role \"app\" may not take them, but superusers can still connect normally"
            ),
        "{e}"
    );
    assert!(e.contains(&refusal), "{e}");
    assert!(!e.contains("out of connection slots"), "{e}");
    assert!(!e.contains("ALTER ROLE \"app\" REPLICATION"), "{e}");
    let superuser_step = e.find("`pgconn -U <superuser> status`").expect(e);
    let route_step = e.find("--break-glass always -U <role>").expect(e);
    assert!(superuser_step < route_step, "{e}");
    // No count of free reserved slots without having read them.
    assert!(!e.contains("reserved connection slots are free"), "{e}");

    // auto: the route is tried for a role that lacks REPLICATION and refused; the advice stays with a
    // superuser's normal connection and never asks to give the application's role REPLICATION.
    let out = run(&c, &["-U", "app", "status"]).assert_code(1);
    let e = &out.stderr;
    assert!(e.contains("may not open a WAL sender"), "{e}");
    assert!(!e.contains("ALTER ROLE \"app\" REPLICATION"), "{e}");
    assert!(
        e.find("`pgconn -U <superuser> status`").unwrap()
            < e.find("Only if that is refused too").unwrap(),
        "{e}"
    );

    // A role with REPLICATION gets in through the route; its reason carries the server's numbers, and
    // the free reserved slots are counted now that they were read.
    let out = run(&c, &["-U", "ops", "status", "--json"]).assert_code(0);
    let v = out.json();
    assert_eq!(v["connection"]["via"], "replication", "{v}");
    assert_eq!(v["connection"]["cause"], "reserved_only", "{v}");
    let reason = v["connection"]["reason"].as_str().unwrap();
    assert!(reason.contains(&refusal), "{reason}");
    assert!(
        reason.contains(&format!(
            "{used} of max_connections = 8 slots in use; the 2 left are reserved \
             (superuser_reserved_connections = 2)"
        )),
        "{reason}"
    );
    assert_eq!(v["capacity"]["used"], used);
    assert_eq!(v["capacity"]["reserved_slots_left"], 2);
    assert!(
        out.stderr
            .contains("2 of the 2 reserved connection slots are free"),
        "{}",
        out.stderr
    );

    // check: CRITICAL, by its cause.
    let out = run(&c, &["-U", "app", "check", "--json"]).assert_code(2);
    let v = out.json();
    assert_eq!(v["status"], "CRITICAL", "{v}");
    assert_eq!(v["targets"][0]["error_kind"], "reserved_only");
    assert_eq!(v["targets"][0]["sqlstate"], "53300");

    // And what it says is true: a superuser connects normally.
    let v = run(&c, &["status", "--json"]).assert_code(0).json();
    assert_eq!(v["connection"]["via"], "normal");
    assert_eq!(v["capacity"]["used"], used + 1);
    drop(w);
}

#[test]
fn reserved_connections_on_16_and_later_name_who_may_use_them() {
    let mut c = start_cluster(&ClusterOptions {
        max_connections: 10,
        superuser_reserved_connections: Some(2),
        ..ClusterOptions::default()
    });
    if c.version_num() < 160000 {
        // reserved_connections and pg_use_reserved_connections came with 16; 14 and 15 have one text,
        // tested above.
        return;
    }
    c.psql("ALTER SYSTEM SET reserved_connections = 2").unwrap();
    c.psql(
        "CREATE ROLE app LOGIN; CREATE ROLE keeper LOGIN; CREATE ROLE ops LOGIN REPLICATION; \
         GRANT pg_use_reserved_connections TO keeper",
    )
    .unwrap();
    c.restart().unwrap();
    let mut w = support::Workload::new();
    let (apps, refusal) = w.fill(&c, "app", "postgres", "leaky-worker").unwrap();
    assert_eq!(apps, 6);
    assert_eq!(
        refusal,
        "remaining connection slots are reserved for roles with privileges of the \
         \"pg_use_reserved_connections\" role"
    );
    let out = run(&c, &["-U", "app", "--break-glass", "never", "status"]).assert_code(1);
    assert!(
        out.stderr.contains(
            "superusers and members of \"pg_use_reserved_connections\" can still connect normally"
        ),
        "{}",
        out.stderr
    );
    let v = run(&c, &["-U", "app", "check", "--json"])
        .assert_code(2)
        .json();
    assert_eq!(v["targets"][0]["error_kind"], "reserved_only");
    // A member gets in normally, as said; once only the superusers' slots are left, it is refused
    // with the other text, and only superusers are named.
    let (keepers, refusal) = w.fill(&c, "keeper", "postgres", "keeper").unwrap();
    assert_eq!(keepers, 2);
    assert_eq!(
        refusal,
        "remaining connection slots are reserved for roles with the SUPERUSER attribute"
    );
    let out = run(&c, &["-U", "keeper", "--break-glass", "never", "status"]).assert_code(1);
    assert!(
        out.stderr.contains(
            "role \"keeper\" may not take them, but superusers can still connect normally"
        ),
        "{}",
        out.stderr
    );
    drop(w);
}

#[test]
fn a_role_at_its_connection_limit_is_named_and_no_wal_sender_slot_is_taken() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 20,
        ..ClusterOptions::default()
    });
    // REPLICATION: the route would let it in (WAL senders are held to no role's limit), so only the
    // rule keeps pgconn from taking a WAL sender slot on a server with free slots.
    c.psql("CREATE ROLE capped LOGIN REPLICATION CONNECTION LIMIT 2")
        .unwrap();
    let mut w = support::Workload::new();
    w.idle(&c, 2, "capped", "postgres", "capped-app").unwrap();

    let out = run(&c, &["-U", "capped", "status"]).assert_code(1);
    let e = &out.stderr;
    assert!(
        e.contains("role \"capped\" is at its connection limit")
            && e.contains("too many connections for role \"capped\"")
            && e.contains("the server itself may still have free slots"),
        "{e}"
    );
    assert!(e.contains("took no WAL sender slot"), "{e}");
    assert!(!e.contains("connecting through a WAL sender slot"), "{e}");
    assert!(
        e.contains("`pgconn -U <another role> sessions --user capped`"),
        "{e}"
    );
    assert!(e.contains("kill-idle --user capped"), "{e}");
    assert!(
        e.contains("ALTER ROLE \"capped\" CONNECTION LIMIT <n>"),
        "{e}"
    );
    assert!(!e.contains("out of connection slots"), "{e}");
    // The limit's number was not read from the server: not stated.
    assert!(!e.contains("LIMIT 2"), "{e}");
    // Ground truth: no WAL sender was started, and the server had free slots. (In that order: the test
    // reads the count of client backends through a WAL sender of its own, which may linger a moment.)
    let walsenders = c
        .psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'")
        .unwrap();
    assert_eq!(walsenders.trim(), "0");
    assert!(client_backends(&c) < 20 - 3);

    // The suggested command works and shows its sessions.
    let v = run(&c, &["sessions", "--user", "capped", "--json"])
        .assert_code(0)
        .json();
    assert_eq!(v["count"], 2, "{v}");

    // check: CRITICAL role_limit.
    let v = run(&c, &["-U", "capped", "check", "--json"])
        .assert_code(2)
        .json();
    assert_eq!(v["status"], "CRITICAL");
    assert_eq!(v["targets"][0]["error_kind"], "role_limit", "{v}");
    assert_eq!(v["targets"][0]["sqlstate"], "53300");
    // never: said so.
    let out = run(&c, &["-U", "capped", "--break-glass", "never", "status"]).assert_code(1);
    assert!(
        out.stderr.contains("was not tried (--break-glass never)"),
        "{}",
        out.stderr
    );
    // always: the route is taken when asked for.
    let v = run(
        &c,
        &[
            "-U",
            "capped",
            "--break-glass",
            "always",
            "status",
            "--json",
        ],
    )
    .assert_code(0)
    .json();
    assert_eq!(v["connection"]["via"], "replication");
    drop(w);
}

#[test]
fn a_database_at_its_connection_limit_is_named_and_no_wal_sender_slot_is_taken() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 20,
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE app LOGIN REPLICATION").unwrap();
    c.psql("CREATE DATABASE shop CONNECTION LIMIT 1").unwrap();
    let mut w = support::Workload::new();
    w.idle(&c, 1, "app", "shop", "shop-app").unwrap();

    let out = run(&c, &["-U", "app", "-d", "shop", "status"]).assert_code(1);
    let e = &out.stderr;
    assert!(
        e.contains("database \"shop\" is at its connection limit")
            && e.contains("too many connections for database \"shop\"")
            && e.contains("the server itself may still have free slots"),
        "{e}"
    );
    assert!(e.contains("took no WAL sender slot"), "{e}");
    assert!(!e.contains("connecting through a WAL sender slot"), "{e}");
    assert!(e.contains("-d postgres sessions --db shop`"), "{e}");
    assert!(
        e.contains("ALTER DATABASE \"shop\" CONNECTION LIMIT <n>"),
        "{e}"
    );
    let walsenders = c
        .psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'")
        .unwrap();
    assert_eq!(walsenders.trim(), "0");

    // The suggested command works: the role connects to another database and sees the sessions.
    let v = run(
        &c,
        &[
            "-U", "app", "-d", "postgres", "sessions", "--db", "shop", "--json",
        ],
    )
    .assert_code(0)
    .json();
    assert_eq!(v["count"], 1, "{v}");

    let v = run(&c, &["-U", "app", "-d", "shop", "check", "--json"])
        .assert_code(2)
        .json();
    assert_eq!(v["status"], "CRITICAL");
    assert_eq!(v["targets"][0]["error_kind"], "database_limit", "{v}");
    drop(w);
}

#[test]
fn a_server_without_wal_sender_slots_says_so() {
    let f = full_cluster(&[("max_wal_senders", "0")]);
    let c = &f.c;
    let out = run(c, &["status"]).assert_code(1);
    let e = &out.stderr;
    assert!(e.contains("out of connection slots"), "{e}");
    assert!(
        e.contains("this server has no WAL sender slots")
            && e.contains("(raising it needs wal_level replica and a restart)"),
        "{e}"
    );
    assert!(!e.contains("every WAL sender slot is taken"), "{e}");
    // postgres is a superuser: no REPLICATION advice for it, nor a route that cannot work.
    assert!(!e.contains("ALTER ROLE \"postgres\" REPLICATION"), "{e}");
    assert!(!e.contains("--break-glass always -U <role>"), "{e}");
    // check: the server full is CRITICAL; told to take the route, the check cannot (UNKNOWN).
    let v = run(c, &["check", "--json"]).assert_code(2).json();
    assert_eq!(v["targets"][0]["error_kind"], "full", "{v}");
    let v = run(c, &["--break-glass", "always", "check", "--json"])
        .assert_code(3)
        .json();
    assert_eq!(v["targets"][0]["error_kind"], "wal_senders_full", "{v}");
    assert!(
        v["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("this server has no WAL sender slots"),
        "{v}"
    );
}
