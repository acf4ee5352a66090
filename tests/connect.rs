//! Connections the way psql makes them: PG* variables, URIs, conninfo strings, service files, ~/.pgpass with
//! a SCRAM password, sslmode against a TLS server with a throwaway CA, and the errors a person sees when
//! the host is unreachable or the server is full. Every test talks to a real PostgreSQL.

mod support;

use std::os::unix::fs::PermissionsExt;

use pgconn::sandbox::{ClusterOptions, Workload};
use support::{cluster, pgconn, start_cluster, unique};

fn percent_encode_path(p: &str) -> String {
    p.replace('%', "%25").replace('/', "%2F")
}

#[test]
fn pg_variables_alone_are_enough() {
    let c = cluster();
    let v = pgconn()
        .args(["status", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(
        v["target"],
        format!("{}:{}/postgres", c.socket_dir().display(), c.port())
    );
    assert_eq!(v["server"]["current_user"], "postgres");
}

#[test]
fn a_uri_or_conninfo_in_dash_d() {
    let c = cluster();
    let sock = c.socket_dir().display().to_string();
    let uri = format!(
        "postgresql://postgres@{}:{}/postgres?application_name=uri-test",
        percent_encode_path(&sock),
        c.port()
    );
    let v = pgconn()
        .no_cluster_env()
        .args(["-d", &uri, "sessions", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["target"], format!("{sock}:{}/postgres", c.port()));
    let kv = format!(
        "host={sock} port={} user=postgres dbname=postgres",
        c.port()
    );
    let v = pgconn()
        .no_cluster_env()
        .args(["status", "--json", "-d", &kv])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["server"]["current_user"], "postgres");
    // The conninfo's port wins over -p, as in psql.
    pgconn()
        .no_cluster_env()
        .args(["status", "--json", "-d", &kv, "-p", "1"])
        .run()
        .assert_code(0);
    // -p fills what the conninfo leaves out.
    let without_port = format!("host={sock} user=postgres dbname=postgres");
    let out = pgconn()
        .no_cluster_env()
        .args(["status", "--json", "-d", &without_port, "-p", "1"])
        .run()
        .assert_code(1);
    assert!(out.stderr.contains(".s.PGSQL.1"), "{}", out.stderr);
}

#[test]
fn a_service_from_the_service_file() {
    let c = cluster();
    let home = tempfile::tempdir().unwrap();
    let svc = unique("svc");
    std::fs::write(
        home.path().join(".pg_service.conf"),
        format!(
            "# services\n[other]\nhost=/nonexistent\n\n[{svc}]\nhost={}\nport={}\nuser=postgres\ndbname=postgres\n",
            c.socket_dir().display(),
            c.port()
        ),
    )
    .unwrap();
    for how in [
        vec!["--service", svc.as_str()],
        vec!["-d", &format!("service={svc}")],
    ] {
        let v = pgconn()
            .no_cluster_env()
            .home(home.path())
            .args(["status", "--json"])
            .args(how)
            .run()
            .assert_code(0)
            .json();
        assert_eq!(v["server"]["current_user"], "postgres");
    }
    let v = pgconn()
        .no_cluster_env()
        .home(home.path())
        .env("PGSERVICE", &svc)
        .args(["sessions", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert!(v["count"].is_number());
    let out = pgconn()
        .no_cluster_env()
        .home(home.path())
        .args(["status", "--service", "missing"])
        .run()
        // A configuration error, as psql reports it: exit 2.
        .assert_code(2);
    assert!(out.stderr.contains("missing"), "{}", out.stderr);
}

/// -W on a terminal: the prompt names the user, what is typed is never echoed, the line then reads
/// `[hidden]`, and the password typed is the one used.
#[test]
fn a_password_typed_at_the_prompt_is_used_and_never_echoed() {
    let c = start_cluster(&ClusterOptions {
        tcp: true,
        hba: vec!["host all all 127.0.0.1/32 scram-sha-256".into()],
        conf: vec![("password_encryption".into(), "scram-sha-256".into())],
        ..ClusterOptions::default()
    });
    let port = c.tcp_port().unwrap().to_string();
    c.psql("CREATE ROLE typed_user LOGIN PASSWORD 'typed s3cret'")
        .unwrap();
    let mut builder = pgconn()
        .no_cluster_env()
        .env("NO_COLOR", "1")
        .args(["-h", "127.0.0.1", "-p", &port, "-U", "typed_user"])
        .args(["-d", "postgres", "-W", "status", "--json"]);
    let mut p = expectrl::Session::spawn(builder.command()).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
    p.expect("Password for user typed_user: ").unwrap();
    p.send_line("typed s3cret").unwrap();
    let v = support::json_after_prompt(&mut p);
    let st = p.get_process().wait().unwrap();
    assert!(matches!(st, expectrl::WaitStatus::Exited(_, 0)), "{st:?}");
    assert_eq!(v["server"]["current_user"], "typed_user");

    // A wrong one: refused by the server, and still never on the screen.
    let mut p = expectrl::Session::spawn(builder.command()).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
    p.expect("Password for user typed_user: ").unwrap();
    p.send_line("wrong s3cret").unwrap();
    let screen = support::until_eof(&mut p);
    let st = p.get_process().wait().unwrap();
    assert!(matches!(st, expectrl::WaitStatus::Exited(_, 1)), "{st:?}");
    assert!(screen.starts_with("[hidden]\r\n"), "{screen:?}");
    assert!(!screen.contains("s3cret"), "{screen:?}");
    assert!(
        screen.contains("password authentication failed"),
        "{screen:?}"
    );
}

#[test]
fn a_scram_password_from_pgpass() {
    let c = start_cluster(&ClusterOptions {
        tcp: true,
        hba: vec!["host all all 127.0.0.1/32 scram-sha-256".into()],
        conf: vec![("password_encryption".into(), "scram-sha-256".into())],
        ..ClusterOptions::default()
    });
    let port = c.tcp_port().unwrap().to_string();
    c.psql("CREATE ROLE pass_user LOGIN PASSWORD 'pa:ss\\word'")
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    std::fs::write(&pgpass, format!("# comment\nother:*:*:*:nope\n127.0.0.1:{port}:*:pass_user:pa\\:ss\\\\word\n*:*:*:*:wrong\n")).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = || {
        pgconn()
            .no_cluster_env()
            .home(home.path())
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "pass_user",
                "-d",
                "postgres",
                "status",
                "--json",
            ])
            .run()
    };
    let v = run().assert_code(0).json();
    assert_eq!(v["server"]["current_user"], "pass_user");
    assert!(
        v["connection"].get("warnings").is_none(),
        "nothing to say: {}",
        v["connection"]
    );

    // A group/world readable .pgpass is ignored with libpq's warning: authentication then fails, clearly.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run().assert_code(1);
    assert!(
        out.stderr.contains("group or world access"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("password"), "{}", out.stderr);

    // A check without a password is misconfigured (UNKNOWN), not a server that is down.
    let out = pgconn()
        .no_cluster_env()
        .home(home.path())
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "pass_user",
            "-d",
            "postgres",
            "check",
        ])
        .run()
        .assert_code(3);
    assert!(out.stdout.starts_with("PGCONN UNKNOWN"), "{}", out.stdout);
    assert!(
        out.stderr.contains("group or world access"),
        "{}",
        out.stderr
    );

    // The warning travels with each target's result: check's JSON and several targets' JSON carry it.
    let with = |args: &[&str]| {
        let mut all = vec!["-h", "127.0.0.1", "-p", &port, "-U", "pass_user"];
        all.extend_from_slice(args);
        pgconn().no_cluster_env().home(home.path()).args(all).run()
    };
    let said = |v: &serde_json::Value| v["warnings"].to_string().contains("group or world access");
    let out = with(&["-d", "postgres", "check", "--json"]).assert_code(3);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(said(&v["targets"][0]), "{v:#}");
    let out = with(&["-d", "postgres", "-d", "template1", "status", "--json"]).assert_code(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(said(&v[0]) && said(&v[1]), "{v:#}");
    assert_eq!(
        out.stderr.matches("group or world access").count(),
        2,
        "said once per target: {}",
        out.stderr
    );

    // A wrong password: authentication failure (SQLSTATE 28P01), and the password is never shown.
    let out = pgconn()
        .no_cluster_env()
        .home(home.path())
        .env("PGPASSWORD", "hunter2-secret")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "pass_user",
            "-d",
            "postgres",
            "status",
            "--show-sql",
        ])
        .run()
        .assert_code(1);
    assert!(
        out.stderr.contains("authentication failed"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"));
}

#[test]
fn passwords_never_appear_in_errors() {
    let out = pgconn()
        .no_cluster_env()
        .args([
            "-d",
            "postgresql://someone:hunter2-secret@127.0.0.1:1/db",
            "status",
            "--connect-timeout",
            "2s",
        ])
        .run()
        .assert_code(1);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    let out = pgconn()
        .no_cluster_env()
        .args([
            "-d",
            "host=127.0.0.1 port=1 password='hunter2-secret' bogus_key=1",
            "status",
        ])
        .run();
    assert_ne!(out.status, 0);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
}

#[test]
fn an_unparsable_target_among_several_shows_no_password() {
    for secret in ["hun\"ter6", "hun ter7", "hun'ter8"] {
        let bad = format!("postgresql://u:{secret}@h/db?port=x");
        let out = pgconn()
            .args(["-d", &bad, "-d", "postgres", "status"])
            .run();
        assert_eq!(out.status, 1, "{}", out.stderr);
        assert!(
            !out.stdout.contains("ter") && !out.stderr.contains(secret),
            "{}{}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn tls_modes_have_libpqs_meaning() {
    let dir = tempfile::tempdir().unwrap();
    let certs = support::tls::generate(dir.path());
    let c = start_cluster(&ClusterOptions {
        tcp: true,
        ssl: Some(certs.ssl_files()),
        // Only TLS connections over TCP are accepted, so a success proves TLS was used.
        hba: vec![
            "hostnossl all all 127.0.0.1/32 reject".into(),
            "hostssl all all 127.0.0.1/32 trust".into(),
        ],
        ..ClusterOptions::default()
    });
    let port = c.tcp_port().unwrap();
    let home = tempfile::tempdir().unwrap(); // no ~/.postgresql/root.crt
    let try_mode = |conninfo: String| {
        pgconn()
            .no_cluster_env()
            .home(home.path())
            .args(["status", "--json", "-d", &conninfo])
            .run()
    };
    let base = format!("host=localhost port={port} user=postgres dbname=postgres");
    // require and prefer encrypt without verifying the (self-signed) chain.
    try_mode(format!("{base} sslmode=require")).assert_code(0);
    try_mode(format!("{base} sslmode=prefer")).assert_code(0);
    try_mode(base.clone()).assert_code(0);
    // disable cannot connect to a TLS-only server.
    try_mode(format!("{base} sslmode=disable")).assert_code(1);
    let ca = certs.ca_cert.display().to_string();
    let other = certs.other_ca_cert.display().to_string();
    try_mode(format!("{base} sslmode=verify-full sslrootcert={ca}")).assert_code(0);
    try_mode(format!("{base} sslmode=verify-ca sslrootcert={ca}")).assert_code(0);
    // The wrong host name: verify-full fails, verify-ca (chain only) connects.
    let wrong =
        format!("host=wrong.example hostaddr=127.0.0.1 port={port} user=postgres dbname=postgres");
    let out = try_mode(format!("{wrong} sslmode=verify-full sslrootcert={ca}")).assert_code(1);
    // psql's words, on one line: the certificate's names and the host name.
    assert!(
        out.stderr.contains(
            "server certificate for \"localhost\" (and 1 other name) does not match host name \"wrong.example\""
        ),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        !out.stderr.contains("SSL routines"),
        "no OpenSSL stack: {}",
        out.stderr
    );
    try_mode(format!("{wrong} sslmode=verify-ca sslrootcert={ca}")).assert_code(0);
    // A chain signed by another CA fails verification.
    let out = try_mode(format!("{base} sslmode=verify-ca sslrootcert={other}")).assert_code(1);
    assert!(
        out.stderr.contains("SSL error: certificate verify failed"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("SSL routines"), "{}", out.stderr);
    // verify-full without a root certificate is an error naming the missing file.
    let out = try_mode(format!("{base} sslmode=verify-full")).assert_code(1);
    assert!(out.stderr.contains("root.crt"), "{}", out.stderr);
    // PGSSLMODE is honoured.
    let out = pgconn()
        .no_cluster_env()
        .home(home.path())
        .env("PGSSLMODE", "disable")
        .args(["status", "-d", &base])
        .run();
    assert_eq!(out.status, 1, "{}", out.stderr);

    // A server without TLS, when TLS is required.
    let plain = cluster();
    let out = pgconn()
        .no_cluster_env()
        .home(home.path())
        .args([
            "status",
            "-d",
            &format!(
                "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=require",
                plain.tcp_port().unwrap()
            ),
        ])
        .run()
        .assert_code(1);
    assert!(
        out.stderr
            .contains("server does not support SSL, but SSL was required"),
        "{}",
        out.stderr
    );

    // A client key whose passphrase is wrong.
    let encrypted = dir.path().join("client-encrypted.key");
    let key = openssl::pkey::PKey::private_key_from_pem(&std::fs::read(&certs.client_key).unwrap())
        .unwrap();
    std::fs::write(
        &encrypted,
        key.private_key_to_pem_pkcs8_passphrase(
            openssl::symm::Cipher::aes_256_cbc(),
            b"right-passphrase",
        )
        .unwrap(),
    )
    .unwrap();
    std::fs::set_permissions(&encrypted, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = try_mode(format!(
        "{base} sslmode=require sslcert={} sslkey={} sslpassword=wrong-passphrase",
        certs.client_cert.display(),
        encrypted.display()
    ))
    .assert_code(1);
    // OpenSSL's reason is "bad decrypt" nearly always; about once in 256 runs the wrong key happens to
    // leave valid padding and the decoder fails later ("unsupported" and the like): the file is named
    // either way.
    assert!(
        out.stderr.contains(&format!(
            "could not load private key file \"{}\": ",
            encrypted.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wrong-passphrase"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn an_unreachable_host_is_reported_within_the_timeout() {
    // A closed port on loopback.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let started = std::time::Instant::now();
    let out = pgconn()
        .no_cluster_env()
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "status",
            "--connect-timeout",
            "3s",
        ])
        .run()
        .assert_code(1);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_full_server_says_how_to_get_in() {
    let c = start_cluster(&ClusterOptions {
        max_connections: 5,
        superuser_reserved_connections: Some(2),
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let reserved_extra: i64 = c
        .psql("SELECT coalesce(current_setting('reserved_connections', true)::int, 0)")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let usable = 5 - 2 - reserved_extra as usize;
    let mut w = Workload::new();
    w.idle(&c, usable, "app", "postgres", "hog").unwrap();

    let out = pgconn()
        .env_cluster(&c)
        .args(["-U", "app", "status"])
        .run()
        .assert_code(1);
    // Only the reserved slots are left: said as such, with who can still connect first.
    assert!(
        out.stderr
            .contains("only the reserved connection slots are left"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("but superusers can still connect normally"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("53300"), "{}", out.stderr);
    // The emergency route was tried and refused (role app has no REPLICATION): said why, and what
    // would make the next incident easy — without asking to give the application's role REPLICATION.
    assert!(
        out.stderr
            .contains("emergency route (a WAL sender slot) failed too"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("ALTER ROLE <ops role> REPLICATION"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("ALTER ROLE \"app\""), "{}", out.stderr);
    assert!(out.stderr.contains("CONNECTION LIMIT"), "{}", out.stderr);

    // A superuser still gets in through the reserved slots, and sees the server as full.
    let v = pgconn()
        .env_cluster(&c)
        .args(["status", "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["capacity"]["usable_slots"], usable);
    assert_eq!(v["capacity"]["slots_left"], 0);
    assert_eq!(v["capacity"]["used"], usable + 1);
    assert_eq!(v["verdict"]["status"], "CRITICAL");
    assert_eq!(v["groups"][0]["application"], "hog");
}

#[test]
fn an_unknown_database_is_named() {
    let out = pgconn()
        .args(["-d", "no_such_database", "status"])
        .run()
        .assert_code(1);
    assert!(
        out.stderr.contains("\"no_such_database\" does not exist"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("-d postgres"), "{}", out.stderr);
}

/// The system's psql (the reference for every connection behaviour), with no PG* variables and an empty
/// HOME, plus `env`. Returns (exit code, stdout, stderr).
fn psql(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let psql = ["/usr/bin/psql"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .chain(
            std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join("bin/psql")),
        )
        .find(|p| p.exists())
        .expect("psql is needed as the reference: apt-get install postgresql-client");
    let home = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(psql);
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home.path())
        .args(args)
        .envs(env.iter().copied());
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn a_dash_d_conninfo_wins_over_h_p_and_u_as_in_psql() {
    let c = cluster();
    let role = support::app_role();
    let conninfo = format!(
        "host={} port={} user={role} dbname=postgres",
        c.socket_dir().display(),
        c.port()
    );
    let flags = [
        "-U",
        "postgres",
        "-h",
        "/nonexistent-dir",
        "-p",
        "1",
        "-d",
        &conninfo,
    ];
    let mut args = flags.to_vec();
    args.extend([
        "-XAtc",
        "select current_user || ',' || current_setting('port')",
    ]);
    let (code, out, err) = psql(&args, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("{role},{}", c.port()),
        "psql connects as the conninfo says"
    );
    let v = pgconn()
        .no_cluster_env()
        .args(flags)
        .args(["status", "--json"])
        .json();
    assert_eq!(
        v["server"]["current_user"],
        role.as_str(),
        "and so does pgconn"
    );
    assert_eq!(
        v["target"],
        format!("{}:{}/postgres", c.socket_dir().display(), c.port())
    );
}

#[test]
fn no_host_means_the_one_default_socket_directory_as_in_psql() {
    // The shared cluster also listens on TCP 127.0.0.1 at this port: a TCP fallback would reach it.
    let c = cluster();
    let port = c.port().to_string();
    let socket = format!("{}/.s.PGSQL.{port}", pgconn::conninfo::DEFAULT_SOCKET_DIR);
    let env = [("PGPORT", port.as_str()), ("PGUSER", "postgres")];
    let (code, _, err) = psql(&["-XAtc", "select 1"], &env);
    assert_ne!(
        code, 0,
        "psql does not find the server without a host: {err}"
    );
    assert!(err.contains(&socket), "psql names the socket: {err}");
    let mut cmd = pgconn().no_cluster_env();
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let out = cmd.args(["status", "--json"]).run().assert_code(1);
    assert!(
        out.stderr.contains(&format!(
            "connection to server on socket \"{socket}\" failed"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn with_several_hosts_every_label_names_the_server_reached() {
    let c = cluster();
    let tag = unique("multihost");
    let mut w = Workload::new();
    w.idle(c, 1, &support::app_role(), "postgres", &tag)
        .unwrap();
    let reached = format!("{}:{}/postgres", c.socket_dir().display(), c.port());
    // The first host is not there; the second is the cluster.
    let conninfo = format!(
        "host=/nonexistent-pgconn,{} port=1,{} user=postgres dbname=postgres",
        c.socket_dir().display(),
        c.port()
    );
    let v = pgconn()
        .no_cluster_env()
        .args(["-d", &conninfo, "status", "--json"])
        .json();
    assert_eq!(v["target"], reached.as_str());
    let out = pgconn()
        .no_cluster_env()
        .args([
            "-d",
            &conninfo,
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--dry-run",
        ])
        .run()
        .assert_code(0);
    assert!(
        out.stdout
            .starts_with(&format!("1 sessions match on {reached}\n")),
        "{}",
        out.stdout
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kill.jsonl");
    pgconn()
        .no_cluster_env()
        .args([
            "-d",
            &conninfo,
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
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        first["server"]["host"],
        c.socket_dir().display().to_string()
    );
    assert_eq!(first["server"]["port"], c.port().to_string());
}

#[test]
fn pgconn_works_through_pgbouncer_and_leaves_no_setting_behind() {
    use support::pgbouncer::PgBouncer;
    let c = cluster();
    for mode in ["transaction", "session"] {
        // One server connection: whatever pgconn leaves on it, the next client gets.
        let ini = format!(
            "[databases]\npostgres = host={} port={} dbname=postgres\n[pgbouncer]\npool_mode = {mode}\n\
             default_pool_size = 1\nmax_client_conn = 20\n",
            c.socket_dir().display(),
            c.port()
        );
        let bouncer = PgBouncer::start(&ini, &["postgres"]);
        let port = bouncer.port.to_string();
        let through = [
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "-d",
            "postgres",
        ];
        let v = pgconn()
            .no_cluster_env()
            .args(through)
            .args(["status", "--json"])
            .json();
        assert_eq!(v["server"]["current_user"], "postgres", "{mode}: {v:#}");
        pgconn()
            .no_cluster_env()
            .args(through)
            .args(["sessions", "--json"])
            .json();
        if mode == "transaction" {
            let mut next = bouncer.client("postgres");
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
        }
    }
}

/// What psql said after "failed: " on its first line (the words of libpq for the case).
fn psql_failure_words(stderr: &str) -> String {
    let line = stderr.lines().next().unwrap_or("");
    line.split_once("failed: ")
        .map(|(_, w)| w.trim().to_string())
        .unwrap_or_else(|| panic!("psql did not fail as expected: {stderr}"))
}

#[test]
fn channel_binding_that_cannot_happen_is_said_as_psql_says_it() {
    let dir = tempfile::tempdir().unwrap();
    let tls = support::tls::generate(dir.path());
    let c = start_cluster(&ClusterOptions {
        tcp: true,
        ssl: Some(tls.ssl_files()),
        hba: vec![
            "host all cb_scram 127.0.0.1/32 scram-sha-256".into(),
            "host all cb_md5 127.0.0.1/32 md5".into(),
            "host all cb_plain 127.0.0.1/32 password".into(),
        ],
        ..ClusterOptions::default()
    });
    // REPLICATION: the emergency route's own connection gets as far as authentication too.
    c.psql(
        "SET password_encryption = 'scram-sha-256'; \
         CREATE ROLE cb_scram LOGIN REPLICATION PASSWORD 'right'; \
         CREATE ROLE cb_plain LOGIN REPLICATION PASSWORD 'right'; \
         CREATE ROLE cb_trust LOGIN REPLICATION",
    )
    .unwrap();
    // md5 hashes are deprecated (a warning on 18) but still accepted.
    c.psql(
        "SET password_encryption = 'md5'; CREATE ROLE cb_md5 LOGIN REPLICATION PASSWORD 'right'",
    )
    .unwrap();
    let port = c.tcp_port().unwrap();
    let tcp = |user: &str, extra: &str| {
        format!("host=127.0.0.1 port={port} user={user} dbname=postgres channel_binding=require {extra}")
    };
    let socket = format!(
        "host={} port={} user=cb_trust dbname=postgres channel_binding=require",
        c.socket_dir().display(),
        c.port()
    );
    // Each way binding cannot happen. A wrong password: had it been sent, the server would answer
    // "password authentication failed"; psql and pgconn refuse before sending it.
    let cases = [
        // SCRAM without TLS.
        (
            tcp("cb_scram", "sslmode=disable password=wrong"),
            "channel binding required, but SSL not in use",
        ),
        // ... and without a password: still the binding, no prompt.
        (
            tcp("cb_scram", "sslmode=disable"),
            "channel binding required, but SSL not in use",
        ),
        // md5 and a cleartext password, with and without TLS.
        (
            tcp("cb_md5", "sslmode=disable password=wrong"),
            "channel binding required but not supported by server's authentication request",
        ),
        (
            tcp("cb_md5", "sslmode=require password=wrong"),
            "channel binding required but not supported by server's authentication request",
        ),
        (
            tcp("cb_plain", "sslmode=require password=wrong"),
            "channel binding required but not supported by server's authentication request",
        ),
        // trust: authenticated without binding, over TCP with TLS and over the socket.
        (
            tcp("cb_trust", "sslmode=require"),
            "channel binding required, but server authenticated client without channel binding",
        ),
        (
            socket.clone(),
            "channel binding required, but server authenticated client without channel binding",
        ),
    ];
    for (conninfo, words) in &cases {
        let (code, _, psql_err) = psql(&["-X", "-d", conninfo, "-c", "SELECT 1"], &[]);
        assert_eq!(code, 2, "{conninfo}: {psql_err}");
        let psql_words = psql_failure_words(&psql_err);
        assert_eq!(&psql_words, words, "psql itself: {conninfo}");
        for route in ["auto", "always"] {
            let out = pgconn()
                .no_cluster_env()
                .args(["--break-glass", route, "-d", conninfo, "status"])
                .run()
                .assert_code(1);
            assert!(
                out.stderr.contains(&format!("failed: {psql_words}"))
                    || out
                        .stderr
                        .contains(&format!("failed (replication=database): {psql_words}")),
                "{route} {conninfo}:\npsql: {psql_err}\npgconn: {}",
                out.stderr
            );
            assert!(
                !out.stderr.contains("Is the server running"),
                "{}",
                out.stderr
            );
            assert!(
                !out.stderr.contains("authentication failed"),
                "{}",
                out.stderr
            );
            assert!(!out.stderr.contains("wrong"), "{}", out.stderr);
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        }
    }
    // Where binding happens (SCRAM-SHA-256-PLUS over TLS), both routes get in.
    for route in ["auto", "always"] {
        let v = pgconn()
            .no_cluster_env()
            .env("PGPASSWORD", "right")
            .args([
                "--break-glass",
                route,
                "-d",
                &tcp("cb_scram", "sslmode=require"),
            ])
            .args(["status", "--json"])
            .run()
            .assert_code(0)
            .json();
        assert_eq!(v["server"]["current_user"], "cb_scram", "{route}");
    }
}

/// A stderr nobody can read changes only what is seen: a warning or an error that cannot be written
/// never becomes a panic (exit 101); the exit code and the JSON are the run's own. A closed stderr
/// (`2>&-`) and a full device (`/dev/full`, where every write fails) alike.
#[test]
fn an_unwritable_stderr_changes_neither_the_exit_code_nor_the_output() {
    let _ = cluster();
    let warned = || pgconn().args(["-d", "client_encoding=latin1", "status", "--json"]);
    let seen = warned().run();
    assert!(
        seen.stderr
            .contains("pgconn: warning: client_encoding=latin1 is ignored"),
        "{}",
        seen.stderr
    );
    let code = seen.status;
    let user = seen.json()["server"]["current_user"].clone();
    assert!(user.is_string(), "{user}");
    let refused = || {
        pgconn()
            .no_cluster_env()
            .args(["-h", "/nonexistent", "status"])
    };
    let failed = refused().run().assert_code(1);
    assert!(
        failed.stderr.contains("pgconn: error: "),
        "{}",
        failed.stderr
    );

    // (The builders live through the runs: each holds the HOME it gives pgconn.)
    let (mut w, mut r) = (warned(), refused());
    for (mut cmd, expected, json) in [(w.command(), code, true), (r.command(), 1, false)] {
        // /dev/full: each write fails (ENOSPC).
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = cmd
            .stdin(std::process::Stdio::null())
            .stderr(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(expected), "{cmd:?} with /dev/full");
        // Closed by the shell before pgconn starts.
        let mut sh = std::process::Command::new("sh");
        sh.arg("-c")
            .arg("exec \"$@\" 2>&-")
            .arg("sh")
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .stdin(std::process::Stdio::null());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => sh.env(k, v),
                None => sh.env_remove(k),
            };
        }
        let closed = sh.output().unwrap();
        assert_eq!(closed.status.code(), Some(expected), "{cmd:?} with 2>&-");
        if json {
            for stdout in [&out.stdout, &closed.stdout] {
                let v: serde_json::Value = serde_json::from_slice(stdout).unwrap();
                assert_eq!(v["server"]["current_user"], user);
            }
        }
    }
}
