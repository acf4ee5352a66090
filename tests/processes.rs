//! The client process behind a session (`sessions --processes`, `status --by process`): real psql
//! clients on this host, over TCP and the unix socket, found by pid and command as root; as the
//! cluster's OS user, another user's client is `no_permission`, never a wrong pid.

mod support;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

/// A psql process holding one session, ended when dropped.
struct Psql(Child);

impl Drop for Psql {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Psql {
    fn pid(&self) -> i32 {
        self.0.id() as i32
    }
}

/// A psql of application `app` on `host` (127.0.0.1 or the socket directory), as OS user `uid` (None:
/// the test's own): with `sql`, running it (`pg_sleep` keeps it active); without, idle, fed by a pipe
/// that stays open.
fn psql(c: &Cluster, host: &str, app: &str, sql: Option<&str>, uid: Option<(u32, u32)>) -> Psql {
    let mut cmd = Command::new(support::psql_exe(c));
    cmd.args(["-X", "-q", "-h", host, "-p", &c.port().to_string()])
        .args(["-U", "postgres", "-d", "postgres"])
        .env("PGAPPNAME", app)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(s) = sql {
        cmd.args(["-c", s]);
    }
    if let Some((u, g)) = uid {
        cmd.uid(u).gid(g);
    }
    let mut child = cmd.spawn().expect("psql");
    if sql.is_none() {
        // One statement, so that the session is idle (not "never queried") and the pipe stays open.
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"SELECT 1;\n")
            .unwrap();
    }
    Psql(child)
}

/// Wait until `n` sessions of `app` are on the server (ground truth).
fn wait_for(app: &str, n: usize) {
    assert!(
        wait_until(Duration::from_secs(20), || server_pids(app, None).len()
            == n),
        "{n} sessions of {app} never appeared: {:?}",
        server_pids(app, None)
    );
}

fn sessions_of(app: &str, cmd: PgconnCmd) -> Vec<Value> {
    let v = cmd
        .args(["sessions", "--processes", "--app", app, "--json"])
        .run()
        .assert_code(0)
        .json();
    v["sessions"].as_array().unwrap().clone()
}

fn postgres_ids() -> (u32, u32) {
    let u = nix::unistd::User::from_name("postgres").unwrap().unwrap();
    (u.uid.as_raw(), u.gid.as_raw())
}

#[test]
fn as_root_a_tcp_and_a_unix_socket_client_are_named_by_pid_and_command() {
    let c = cluster();
    let app = unique("processes_root");
    let tcp = psql(c, "127.0.0.1", &app, Some("SELECT pg_sleep(600)"), None);
    let unix = psql(c, &c.socket_dir().display().to_string(), &app, None, None);
    wait_for(&app, 2);
    let truth = server_pids(&app, None);
    let sessions = sessions_of(&app, pgconn().env_cluster(c));
    assert_eq!(sessions.len(), 2, "{sessions:#?}");
    for s in &sessions {
        assert!(truth.contains(&(s["pid"].as_i64().unwrap() as i32)));
        assert_eq!(s["client_process_status"], "found", "{s:#}");
        let expected = if s["client"] == "local" { &unix } else { &tcp };
        assert_eq!(s["client_pid"], expected.pid(), "{s:#}");
        assert_eq!(s["client_user"], "root");
        let command = s["client_command"].as_str().unwrap();
        assert!(
            command.contains("psql") && command.contains("-X"),
            "{command}"
        );
    }
    let clients: Vec<&str> = sessions
        .iter()
        .map(|s| s["client"].as_str().unwrap())
        .collect();
    assert!(
        clients.contains(&"local") && clients.contains(&"127.0.0.1"),
        "{clients:?}"
    );
    // The table names them too, in its PROCESS column.
    let out = pgconn()
        .env_cluster(c)
        .args(["sessions", "--processes", "--app", &app, "--wide"])
        .run()
        .assert_code(0);
    assert!(out.stdout.contains("PROCESS"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("{} root ", tcp.pid())),
        "{}",
        out.stdout
    );
    // Without --processes, none of the fields.
    let v = pgconn()
        .env_cluster(c)
        .args(["sessions", "--app", &app, "--json"])
        .run()
        .assert_code(0)
        .json();
    assert!(v["sessions"][0].get("client_process_status").is_none());
}

#[test]
fn as_the_clusters_os_user_another_users_client_is_no_permission_never_a_wrong_pid() {
    let c = cluster();
    let app = unique("processes_nobody");
    let root_tcp = psql(c, "127.0.0.1", &app, None, None);
    let root_unix = psql(c, &c.socket_dir().display().to_string(), &app, None, None);
    let own_tcp = psql(c, "127.0.0.1", &app, None, Some(postgres_ids()));
    let own_unix = psql(
        c,
        &c.socket_dir().display().to_string(),
        &app,
        None,
        Some(postgres_ids()),
    );
    wait_for(&app, 4);
    let sessions = sessions_of(&app, pgconn().env_cluster(c).run_as_os_user("postgres"));
    assert_eq!(sessions.len(), 4, "{sessions:#?}");
    let root_pids = [root_tcp.pid(), root_unix.pid()];
    let mut found = Vec::new();
    for s in &sessions {
        match s["client_process_status"].as_str().unwrap() {
            "found" => {
                assert_eq!(s["client_user"], "postgres", "{s:#}");
                found.push(s["client_pid"].as_i64().unwrap() as i32);
            }
            "no_permission" => assert!(s["client_pid"].is_null(), "{s:#}"),
            other => panic!("unexpected status {other}: {s:#}"),
        }
        let pid = s["client_pid"].as_i64().map(|p| p as i32);
        assert!(
            pid.is_none_or(|p| !root_pids.contains(&p)),
            "a root client named as another user: {s:#}"
        );
    }
    found.sort();
    let mut own = vec![own_tcp.pid(), own_unix.pid()];
    own.sort();
    assert_eq!(found, own, "{sessions:#?}");
}

#[test]
fn status_by_process_attributes_a_leak_to_its_program_and_pids() {
    let c = cluster();
    let app = unique("processes_leak");
    let workers: Vec<Psql> = (0..10)
        .map(|i| {
            let host = if i % 2 == 0 {
                "127.0.0.1".to_string()
            } else {
                c.socket_dir().display().to_string()
            };
            psql(c, &host, &app, None, None)
        })
        .collect();
    wait_for(&app, 10);
    assert!(wait_until(Duration::from_secs(10), || {
        server_pids(&app, Some("idle")).len() == 10
    }));
    let v = pgconn()
        .env_cluster(c)
        .args([
            "status",
            "--app",
            &app,
            "--by",
            "process",
            "--leak-min-sessions",
            "5",
            "--leak-idle-age",
            "0s",
            "--json",
        ])
        .run()
        .json();
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert_eq!(groups[0]["process"], "psql");
    assert_eq!(groups[0]["sessions"], 10);
    let mut pids: Vec<i64> = workers.iter().map(|w| i64::from(w.pid())).collect();
    pids.sort();
    let got: Vec<i64> = groups[0]["client_pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    assert_eq!(got, pids);
    assert_eq!(groups[0]["possible_leak"], true, "{:#}", groups[0]);
    // One line for people: the program, how many processes, their pids.
    let out = pgconn()
        .env_cluster(c)
        .args(["status", "--app", &app, "--by", "process", "--wide"])
        .run();
    assert!(
        out.stdout.contains("psql: 10 processes (pid "),
        "{}",
        out.stdout
    );
}

#[test]
fn behind_pgbouncer_a_session_is_attributed_to_pgbouncers_client_not_to_pgbouncer() {
    use support::pgbouncer::PgBouncer;
    let c = cluster();
    let tag = unique("pooled_proc");
    superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {tag} LOGIN"))
        .unwrap();
    let ini = format!(
        "[databases]\npostgres = host={} port={} dbname=postgres\n[pgbouncer]\npool_mode = session\n\
         default_pool_size = 5\nmax_client_conn = 50\n",
        c.socket_dir().display(),
        c.port()
    );
    let bouncer = PgBouncer::start(&ini, &["postgres", &tag]);
    let mut cmd = Command::new(support::psql_exe(c));
    cmd.args([
        "-X",
        "-q",
        "-h",
        "127.0.0.1",
        "-p",
        &bouncer.port.to_string(),
    ])
    .args(["-U", &tag, "-d", "postgres"])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let mut client = Psql(cmd.spawn().expect("psql"));
    client
        .0
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"SELECT 1;\n")
        .unwrap();
    let backends = || {
        let mut s = superuser_client(c);
        s.query(
            "SELECT pid FROM pg_stat_activity WHERE usename = $1 AND state = 'idle'",
            &[&tag],
        )
        .unwrap()
        .iter()
        .map(|r| r.get::<_, i32>(0))
        .collect::<Vec<_>>()
    };
    assert!(wait_until(Duration::from_secs(20), || backends().len() == 1));
    let backend = backends()[0];
    let console = bouncer.console();
    // Without the console, the process holding the backend's connection is PgBouncer.
    let v = pgconn()
        .env_cluster(c)
        .args(["sessions", "--processes", "--user", &tag, "--json"])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["sessions"][0]["pid"], backend);
    assert_eq!(v["sessions"][0]["client_program"], "pgbouncer", "{v:#}");
    // With it, its client: the psql process.
    let v = pgconn()
        .env_cluster(c)
        .args(["sessions", "--processes", "--user", &tag, "--json"])
        .args(["--pgbouncer", &console])
        .run()
        .assert_code(0)
        .json();
    let s = &v["sessions"][0];
    assert_eq!(s["pid"], backend);
    assert_eq!(s["via_pgbouncer"], true);
    assert_eq!(s["client_process_status"], "found", "{s:#}");
    assert_eq!(s["client_pid"], client.pid(), "{s:#}");
    assert_eq!(s["client_program"], "psql");
    let v = pgconn()
        .env_cluster(c)
        .args(["status", "--by", "process", "--user", &tag, "--json"])
        .args(["--pgbouncer", &console])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["groups"][0]["process"], "psql", "{v:#}");
    assert_eq!(v["groups"][0]["client_pids"][0], client.pid());
    drop(client);
}

#[test]
fn a_clients_arguments_are_untrusted_text() {
    let c = cluster();
    let app = unique("processes_evil");
    // A process may write anything over its first argument: here a terminal escape.
    let evil = "evil\u{1b}[2Jpsql";
    let mut cmd = Command::new("bash");
    cmd.args(["-c", "exec -a \"$0\" \"$@\"", evil])
        .arg(support::psql_exe(c))
        .args(["-X", "-q", "-h", "127.0.0.1", "-p", &c.port().to_string()])
        .args(["-U", "postgres", "-d", "postgres"])
        .env("PGAPPNAME", &app)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut client = Psql(cmd.spawn().expect("bash"));
    client
        .0
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"SELECT 1;\n")
        .unwrap();
    wait_for(&app, 1);
    let sessions = sessions_of(&app, pgconn().env_cluster(c));
    assert_eq!(
        sessions[0]["client_pid"],
        client.pid(),
        "exec keeps the pid"
    );
    assert_eq!(
        sessions[0]["client_program"], evil,
        "JSON carries it as it is"
    );
    for args in [
        vec!["sessions", "--processes", "--app", &app, "--wide"],
        vec!["status", "--by", "process", "--app", &app, "--wide"],
    ] {
        let out = pgconn().env_cluster(c).args(args).run().assert_code(0);
        assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
        assert!(out.stdout.contains("evil\\x1b[2Jpsql"), "{}", out.stdout);
    }
}
