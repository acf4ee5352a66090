//! The paths that depend on the server's major version, on whichever PostgreSQL the suite runs against
//! (`PGCONN_TEST_PGBIN`; `.ci/run` runs the suite on 14, 15, 16, 17 and 18): reserved_connections and
//! pg_use_reserved_connections (16+), transaction_timeout and allow_alter_system (17+),
//! idle_session_timeout (14+), and the refusals whose wording changed in 16 (pgconn goes by SQLSTATE).
//! Each test asserts the feature where the server has it and the clean degradation where it does not.

mod support;

use std::time::Duration;

use support::{
    pgconn, start_cluster, unique, wait_until, Cluster, ClusterOptions, Output, ServerError,
    Workload,
};

/// The major version of the server binaries the tests use, without starting a server.
fn server_major() -> u32 {
    let bindir = pgconn::sandbox::find_bindir().unwrap_or_else(|e| panic!("{e:#}"));
    let out = std::process::Command::new(bindir.join("postgres"))
        .arg("--version")
        .output()
        .expect("running postgres --version");
    let text = String::from_utf8_lossy(&out.stdout);
    // "postgres (PostgreSQL) 17.4" or "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    text.split_whitespace()
        .nth(2)
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the major version from {text:?}"))
}

/// Run pgconn against `c`; a backend that has just closed may hold its slot for a moment after it has
/// gone from pg_stat_activity, so a run refused with 53300 is tried again for a few seconds.
fn run_when_a_slot_is_free(c: &Cluster, args: &[&str]) -> Output {
    let mut last = None;
    wait_until(Duration::from_secs(10), || {
        let out = pgconn().env_cluster(c).args(args).run();
        let refused = out.status != 0 && out.stderr.contains("53300");
        last = Some(out);
        !refused
    });
    last.unwrap()
}

/// Open `n` idle sessions, waiting out slots still held by backends that have just closed.
fn open_idle(c: &Cluster, w: &mut Workload, n: usize, user: &str, app: &str) {
    let want = w.len() + n;
    let mut last = None;
    let opened = wait_until(Duration::from_secs(10), || {
        match w.idle(c, want - w.len(), user, "postgres", app) {
            Ok(()) => true,
            Err(e) => {
                let full = e.chain().any(|c| {
                    c.downcast_ref::<ServerError>()
                        .is_some_and(|s| s.code == "53300")
                });
                assert!(full, "opening {n} sessions of {app}: {e:#}");
                last = Some(format!("{e:#}"));
                false
            }
        }
    });
    assert!(opened, "opening {n} sessions of {app}: {last:?}");
}

#[test]
fn reserved_connections_are_reported_from_16_and_null_before() {
    let major = server_major();
    let mut conf = Vec::new();
    if major >= 16 {
        conf.push(("reserved_connections".to_string(), "2".to_string()));
    }
    let c = start_cluster(&ClusterOptions {
        max_connections: 20,
        superuser_reserved_connections: Some(3),
        conf,
        ..ClusterOptions::default()
    });
    assert_eq!(c.version_num() / 10000, major);
    let v = run_when_a_slot_is_free(&c, &["status", "--json"])
        .assert_code(0)
        .json();
    let cap = &v["capacity"];
    assert_eq!(cap["max_connections"], 20, "{cap}");
    assert_eq!(cap["superuser_reserved_connections"], 3, "{cap}");
    if major >= 16 {
        assert_eq!(cap["reserved_connections"], 2, "{cap}");
        assert_eq!(cap["usable_slots"], 15, "{cap}");
    } else {
        assert!(cap["reserved_connections"].is_null(), "{cap}");
        assert_eq!(cap["usable_slots"], 17, "{cap}");
    }
    assert_eq!(
        v["server"]["version_num"].as_u64().unwrap() / 10000,
        u64::from(major)
    );

    // The human view names what is reserved for whom.
    let out = run_when_a_slot_is_free(&c, &["status"]).assert_code(0);
    assert!(
        out.stdout.contains("reserved 3 for superusers"),
        "{}",
        out.stdout
    );
}

#[test]
fn members_of_pg_use_reserved_connections_get_in_when_ordinary_roles_cannot() {
    let major = server_major();
    if major < 16 {
        // Before 16 there is no such role; the refusal advice mentions it as a 16+ feature only.
        let c = support::cluster();
        let n = support::ground_truth_count(
            c,
            "SELECT count(*) FROM pg_roles WHERE rolname = 'pg_use_reserved_connections'",
        );
        assert_eq!(n, 0);
        return;
    }
    // 6 slots: 1 for superusers, 2 for pg_use_reserved_connections, 3 for everyone.
    let c = start_cluster(&ClusterOptions {
        max_connections: 6,
        superuser_reserved_connections: Some(1),
        conf: vec![("reserved_connections".into(), "2".into())],
        ..ClusterOptions::default()
    });
    c.psql(
        "CREATE ROLE app LOGIN; CREATE ROLE ops LOGIN; \
         GRANT pg_use_reserved_connections, pg_read_all_stats, pg_signal_backend TO ops",
    )
    .unwrap();
    let mut w = Workload::new();
    open_idle(&c, &mut w, 3, "app", "hog");

    // An ordinary role is refused (16+ wording: "... reserved for roles with privileges of the
    // pg_use_reserved_connections role"); pgconn tells the cause and who can still get in.
    let out = pgconn()
        .env_cluster(&c)
        .args(["-U", "app", "status"])
        .run()
        .assert_code(1);
    assert!(
        out.stderr
            .contains("only the reserved connection slots are left at")
            && out.stderr.contains(
            "superusers and members of \"pg_use_reserved_connections\" can still connect normally"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("53300"), "{}", out.stderr);
    assert!(
        out.stderr.contains("pg_use_reserved_connections"),
        "{}",
        out.stderr
    );

    // A member gets in through reserved_connections and sees the ordinary slots all taken.
    let v = run_when_a_slot_is_free(&c, &["-U", "ops", "status", "--json"])
        .assert_code(0)
        .json();
    let cap = &v["capacity"];
    assert_eq!(cap["reserved_connections"], 2, "{cap}");
    assert_eq!(cap["usable_slots"], 3, "{cap}");
    assert_eq!(cap["used"], 4, "{cap}");
    assert_eq!(cap["slots_left"], 0, "{cap}");
    // pgconn's own session sits in a reserved slot: said so, with the reserved slots still free.
    assert_eq!(cap["in_reserved_slots"], 1, "{cap}");
    assert_eq!(cap["reserved_slots_left"], 2, "{cap}");
    assert!(
        v["verdict"]["reasons"][0].as_str().unwrap().contains(
            "1 more in the slots reserved for superusers and pg_use_reserved_connections members (2 \
             of 3 still free)"
        ),
        "{:#}",
        v["verdict"]
    );
    assert_eq!(v["verdict"]["status"], "CRITICAL");
    assert_eq!(v["groups"][0]["application"], "hog");

    // ... and frees them.
    let v = run_when_a_slot_is_free(
        &c,
        &[
            "-U",
            "ops",
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            "hog",
            "--yes",
            "--json",
        ],
    )
    .assert_code(0)
    .json();
    assert_eq!(v["summary"]["terminated"], 3, "{v}");
    assert!(wait_until(Duration::from_secs(10), || {
        pgconn()
            .env_cluster(&c)
            .args(["-U", "app", "status", "--json"])
            .run()
            .status
            == 0
    }));
}

#[test]
fn a_superuser_is_refused_too_when_every_slot_is_taken() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 4,
        superuser_reserved_connections: Some(1),
        ..ClusterOptions::default()
    });
    let mut w = Workload::new();
    open_idle(&c, &mut w, 4, "postgres", "hog");
    // "sorry, too many clients already" on every version: the same SQLSTATE as the reserved-slot refusal.
    let out = pgconn()
        .env_cluster(&c)
        .args(["--break-glass", "never", "status"])
        .run()
        .assert_code(1);
    assert!(
        out.stderr.contains("out of connection slots"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("53300"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    // By default status gets in through a WAL sender slot, on every version from 14.
    let v = pgconn()
        .env_cluster(&c)
        .args(["status", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["connection"]["via"], "replication", "{v}");
    assert_eq!(v["capacity"]["used"], 4, "{}", v["capacity"]);
    assert_eq!(v["groups"][0]["application"], "hog");
}

#[test]
fn timeouts_are_tuned_where_the_server_has_them() {
    let major = server_major();
    let c = support::cluster();
    let db = unique("versions_tune");
    c.psql(&format!("CREATE DATABASE {db}")).unwrap();
    let stored = || {
        c.psql(&format!(
            "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting \
              WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = '{db}') AND setrole = 0"
        ))
        .unwrap()
    };

    // idle_session_timeout: 14+, so every supported version.
    pgconn()
        .args([
            "tune",
            "set",
            "idle_session_timeout=30min",
            "--database",
            &db,
            "--yes",
        ])
        .run()
        .assert_code(0);
    assert_eq!(stored(), "idle_session_timeout=30min");

    // transaction_timeout: 17+; before, refused up front with the version that has it.
    let out = pgconn()
        .args([
            "tune",
            "set",
            "transaction_timeout=1h",
            "--database",
            &db,
            "--yes",
        ])
        .run();
    if major >= 17 {
        out.assert_code(0);
        assert_eq!(
            stored(),
            "idle_session_timeout=30min,transaction_timeout=1h"
        );
    } else {
        let out = out.assert_code(2);
        assert!(out.stderr.contains("PostgreSQL 17"), "{}", out.stderr);
        assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
        assert_eq!(stored(), "idle_session_timeout=30min");
    }
}

#[test]
fn alter_system_is_refused_where_allow_alter_system_is_off() {
    let major = server_major();
    let mut conf = Vec::new();
    if major >= 17 {
        conf.push(("allow_alter_system".to_string(), "off".to_string()));
    }
    let c = start_cluster(&ClusterOptions {
        conf,
        ..ClusterOptions::default()
    });
    let auto_conf = || {
        c.psql(
            "SELECT count(*) FROM pg_file_settings \
              WHERE sourcefile LIKE '%postgresql.auto.conf' AND name = 'idle_session_timeout'",
        )
        .unwrap()
    };
    let out = run_when_a_slot_is_free(
        &c,
        &[
            "tune",
            "set",
            "idle_session_timeout=1h",
            "--system",
            "--yes",
        ],
    );
    if major >= 17 {
        assert_ne!(out.status, 0, "{}", out.stderr);
        assert!(
            out.stderr.contains("allow_alter_system = off"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
        assert_eq!(auto_conf(), "0");
    } else {
        // No such setting before 17: nothing to check, ALTER SYSTEM just works.
        assert_eq!(
            c.psql("SELECT current_setting('allow_alter_system', true) IS NULL")
                .unwrap(),
            "t"
        );
        let out = out.assert_code(0);
        assert!(
            out.stdout.contains("idle_session_timeout"),
            "{}",
            out.stdout
        );
        assert_eq!(auto_conf(), "1");
    }
}

/// A client that sends its startup message for `user` over TCP and then never answers the password
/// request: on PostgreSQL 18+ its backend shows as `starting` until authentication_timeout.
fn stuck_in_authentication(port: u16, user: &str) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let params = format!("user\0{user}\0database\0postgres\0\0");
    let mut msg = Vec::new();
    msg.extend_from_slice(&((8 + params.len()) as i32).to_be_bytes());
    msg.extend_from_slice(&196608i32.to_be_bytes());
    msg.extend_from_slice(params.as_bytes());
    s.write_all(&msg).unwrap();
    let mut reply = [0u8; 1];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(reply[0], b'R', "the server asks for a password");
    s
}

#[test]
fn backends_still_authenticating_are_counted_and_shown_on_18() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 20,
        tcp: true,
        hba: vec!["host all stuck 127.0.0.1/32 scram-sha-256".into()],
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE stuck LOGIN PASSWORD 'not-given'")
        .unwrap();
    let _client = stuck_in_authentication(c.port(), "stuck");
    let starting = |c: &Cluster| -> i64 {
        c.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'starting'")
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    if server_major() < 18 {
        // Before 18 such a backend is not in pg_stat_activity at all.
        assert_eq!(starting(&c), 0);
        return;
    }
    assert!(wait_until(Duration::from_secs(5), || starting(&c) == 1));
    let used: i64 = c
        .psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let v = pgconn().env_cluster(&c).args(["status", "--json"]).json();
    assert_eq!(v["states"]["starting"], 1, "{v:#}");
    // The same slots used as the server counts (each count includes the asking session itself).
    assert_eq!(v["capacity"]["used"], used);
    let s = pgconn().env_cluster(&c).args(["sessions", "--json"]).json();
    assert!(
        s["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["state"] == "starting"),
        "{s:#}"
    );
    let p = pgconn()
        .env_cluster(&c)
        .args(["status", "--format", "prometheus"])
        .run()
        .assert_code(0)
        .stdout;
    assert!(p.contains("state=\"starting\"} 1"), "{p}");
    let w = pgconn()
        .env_cluster(&c)
        .args(["watch", "--count", "1", "--interval", "100ms"])
        .run()
        .assert_code(0)
        .stdout;
    assert!(w.contains(" starting=1"), "{w}");
}
