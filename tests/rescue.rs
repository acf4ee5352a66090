//! `pgconn rescue`: on the database host, with no connection at all, idle backends are terminated
//! through the operating system. Each test runs a cluster of its own (it terminates what it finds), fills
//! or populates it, and compares what pgconn did with what the server itself reports afterwards (through
//! a WAL sender connection, which a full server still lets in), with /proc, and with the audit log.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::full::{full_cluster, walsender};
use support::{pgconn, start_cluster, wait_until, Cluster, ClusterOptions, Output, Workload};

fn rescue(c: &Cluster, args: &[&str]) -> Output {
    pgconn().env_cluster(c).arg("rescue").args(args).run()
}

/// Pids of the server's processes as pg_stat_activity lists them, with their backend type and state.
/// Returns once the WAL sender that read them has ended: a backend ends after its client has gone, so
/// without the wait it could still be listed, as a WAL sender, by the next call, and be gone by the one
/// after (as if something had touched it).
fn activity(c: &Cluster) -> Vec<(i32, String, String, String)> {
    let mut conn = walsender(c);
    let rows = conn
        .query(
            "SELECT pid, coalesce(backend_type, ''), coalesce(state, ''), coalesce(usename::text, ''), \
             pg_backend_pid() FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
        )
        .unwrap();
    let own: Option<i32> = rows.first().map(|r| r.value(4).unwrap().parse().unwrap());
    drop(conn);
    if let Some(own) = own {
        assert!(
            wait_until(Duration::from_secs(10), || !alive(own)),
            "the test's WAL sender {own} did not end"
        );
    }
    rows.iter()
        .map(|r| {
            (
                r.value(0).unwrap().parse().unwrap(),
                r.value(1).unwrap().to_string(),
                r.value(2).unwrap().to_string(),
                r.value(3).unwrap().to_string(),
            )
        })
        .collect()
}

fn pids_where(c: &Cluster, keep: impl Fn(&str, &str, &str) -> bool) -> BTreeSet<i32> {
    activity(c)
        .into_iter()
        .filter(|(_, t, s, u)| keep(t, s, u))
        .map(|(p, ..)| p)
        .collect()
}

/// The client backends (what rescue may act on; autovacuum workers come and go on their own).
fn client_backends(c: &Cluster) -> BTreeSet<i32> {
    pids_where(c, |t, _, _| t == "client backend")
}

fn postmaster_pid(c: &Cluster) -> i32 {
    std::fs::read_to_string(c.data_dir().join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

fn pids(v: &Value) -> BTreeSet<i32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t["pid"].as_i64().unwrap() as i32)
        .collect()
}

fn log_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The plan's note on what the targets' clients receive (SQLSTATE 57P01), if any.
fn clients_note(v: &Value) -> Option<String> {
    v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|n| n.contains("57P01"))
        .map(String::from)
}

/// The log says what happened: a plan, one target line before and one session line after for each
/// target, and a summary whose counts are the report's.
fn assert_log_matches(path: &Path, report: &Value) {
    let lines = log_lines(path);
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events.first(), Some(&"plan"), "{events:?}");
    assert_eq!(events.last(), Some(&"summary"), "{events:?}");
    // The plan's notes, what the targets' clients receive among them, written before anything was done.
    assert_eq!(lines[0]["notes"], report["notes"], "{}", lines[0]);
    if !report["targets"].as_array().unwrap().is_empty() {
        assert!(clients_note(&lines[0]).is_some(), "{}", lines[0]);
    }
    let of =
        |event: &str| -> Vec<&Value> { lines.iter().filter(|l| l["event"] == event).collect() };
    let target_pids: BTreeSet<i32> = of("target")
        .iter()
        .map(|l| l["pid"].as_i64().unwrap() as i32)
        .collect();
    assert_eq!(target_pids, pids(&report["targets"]));
    for r in report["results"].as_array().unwrap() {
        let line = of("session")
            .into_iter()
            .find(|l| l["pid"] == r["pid"])
            .unwrap_or_else(|| panic!("no session line for {r}"));
        assert_eq!(line["outcome"], r["outcome"]);
        assert_eq!(line["user"], r["user"]);
        assert_eq!(line["backend_start"], r["started_at"]);
    }
    // Every target line was written before its session line.
    for p in &target_pids {
        let t = lines
            .iter()
            .position(|l| l["event"] == "target" && l["pid"] == *p)
            .unwrap();
        let s = lines
            .iter()
            .position(|l| l["event"] == "session" && l["pid"] == *p)
            .unwrap();
        assert!(t < s);
    }
    let summary = lines.last().unwrap();
    assert_eq!(summary["terminated"], report["summary"]["terminated"]);
    assert_eq!(summary["skipped"], report["summary"]["skipped"]);
    assert_eq!(
        lines[0]["server"]["postmaster_pid"],
        report["cluster"]["postmaster_pid"]
    );
}

#[test]
fn a_full_cluster_is_freed_as_root_and_nothing_but_idle_backends_is_touched() {
    let f = full_cluster(&[]);
    let c = &f.c;
    // A logical WAL sender, idle: its title has a client backend's shape after its word.
    let _ws = walsender(c);
    let before = activity(c);
    let idle: BTreeSet<i32> = pids_where(c, |t, s, _| t == "client backend" && s == "idle");
    let busy: BTreeSet<i32> = pids_where(c, |t, s, _| t == "client backend" && s != "idle");
    // The processes that stay unless something ends them: autovacuum workers come and go on their own
    // (the launcher starts one per database every naptime; on a loaded machine one may be caught here).
    let others: BTreeSet<i32> = pids_where(c, |t, _, _| {
        t != "client backend" && t != "autovacuum worker"
    });
    assert_eq!(idle.len(), f.leaky_idle + f.admin);
    assert_eq!(busy.len(), 2, "{before:?}");
    assert!(others.len() >= 5, "{before:?}");
    let pm = postmaster_pid(c);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("rescue.log");

    let out = rescue(
        c,
        &["--all", "--yes", "--json", "--log", log.to_str().unwrap()],
    )
    .assert_code(0);
    let v = out.json();
    assert_eq!(v["cluster"]["postmaster_pid"], pm);
    assert_eq!(pids(&v["targets"]), idle, "{v}");
    assert_eq!(
        v["summary"]["terminated"].as_u64().unwrap() as usize,
        idle.len()
    );
    assert!(v["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["outcome"] == "terminated"));
    // The WAL sender and the auxiliary processes were read as what they are.
    let kinds: BTreeSet<&str> = v["other_processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains("walsender") && kinds.contains("checkpointer"),
        "{kinds:?}"
    );

    // The server agrees: the idle backends are gone, everything else is still there.
    let now: BTreeSet<i32> = pids_where(c, |_, _, _| true);
    assert!(now.is_disjoint(&idle), "{now:?}");
    for p in busy.iter().chain(&others) {
        assert!(now.contains(p), "pid {p} was touched: {before:?}");
    }
    assert!(alive(pm), "the postmaster");
    // A normal connection gets in: pgconn's own, afterwards, and psql.
    assert_eq!(v["after"]["connected"], true, "{v}");
    assert_eq!(v["after"]["status"]["states"]["active"], 1);
    assert_eq!(v["after"]["status"]["states"]["idle_in_transaction"], 1);
    let psql = support::full::psql_select_1(c);
    assert!(
        psql.status.success(),
        "psql after the rescue: {}",
        String::from_utf8_lossy(&psql.stderr)
    );
    assert_log_matches(&log, &v);
    drop(f);
}

#[test]
fn the_postgres_user_frees_one_role_without_root() {
    let f = full_cluster(&[]);
    let c = &f.c;
    let app_idle = pids_where(c, |t, s, u| {
        t == "client backend" && s == "idle" && u == "app"
    });
    let admin = pids_where(c, |t, s, u| {
        t == "client backend" && s == "idle" && u == "postgres"
    });
    assert_eq!(app_idle.len(), f.leaky_idle);
    let dir = tempfile::tempdir().unwrap();
    let user = nix::unistd::User::from_name("postgres").unwrap().unwrap();
    nix::unistd::chown(dir.path(), Some(user.uid), Some(user.gid)).unwrap();
    let log = dir.path().join("rescue.log");

    let v = pgconn()
        .env_cluster(c)
        .run_as_os_user("postgres")
        .args(["rescue", "--user", "app", "--yes", "--json"])
        .args(["--log", log.to_str().unwrap()])
        .json();
    assert_eq!(pids(&v["targets"]), app_idle);
    assert_eq!(
        v["summary"]["terminated"].as_u64().unwrap() as usize,
        app_idle.len()
    );
    let now = pids_where(c, |_, _, _| true);
    assert!(now.is_disjoint(&app_idle));
    assert!(admin.is_subset(&now), "another role's idle backends stay");
    assert_log_matches(&log, &v);
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(&log).unwrap();
    assert_eq!(meta.uid(), user.uid.as_raw());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_dry_run_lists_exactly_the_idle_backends_and_signals_nothing() {
    let c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 3, "app", "postgres", "a").unwrap();
    w.idle_in_transaction(&c, 2, "app", "postgres", "b")
        .unwrap();
    w.active(&c, 1, "app", "postgres", "c", 3600).unwrap();
    let idle = pids_where(&c, |t, s, u| {
        t == "client backend" && s == "idle" && u == "app"
    });
    let iit = pids_where(&c, |t, s, _| {
        t == "client backend" && s == "idle in transaction"
    });
    let all_before = client_backends(&c);

    let v = rescue(&c, &["--user", "app", "--dry-run", "--json"]).json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["acted"], false);
    assert_eq!(pids(&v["targets"]), idle);
    assert_eq!(v["states"]["idle"], 3);
    assert_eq!(v["states"]["idle_in_transaction"], 2);
    assert_eq!(v["states"]["active"], 1);
    let t = &v["targets"][0];
    assert_eq!(t["user"], "app");
    assert_eq!(t["database"], "postgres");
    assert_eq!(t["client"], "local");
    assert_eq!(t["state"], "idle");
    assert_eq!(client_backends(&c), all_before);
    // Their clients will receive 57P01: titles do not name the applications, so the note names whom
    // they connect as.
    let note = clients_note(&v).unwrap_or_else(|| panic!("{v:#}"));
    assert!(
        note.ends_with("user \"app\", database \"postgres\" (3 backends)"),
        "{note}"
    );
    // Nothing to act on, nothing to say.
    let none = rescue(&c, &["--user", "nobody", "--dry-run", "--json"]).json();
    assert_eq!(none["targets"].as_array().unwrap().len(), 0);
    assert_eq!(clients_note(&none), None, "{none:#}");

    // idle in transaction, when asked for, and only that.
    let v = rescue(
        &c,
        &[
            "--all",
            "--state",
            "idle-in-transaction",
            "--dry-run",
            "--json",
        ],
    )
    .json();
    assert_eq!(pids(&v["targets"]), iit);

    // The table for people names the cluster and each target.
    let out = rescue(&c, &["--user", "app", "--dry-run"]).assert_code(0);
    assert!(out.stdout.contains("pgconn rescue"), "{}", out.stdout);
    assert!(
        out.stdout.contains("would terminate 3 backends"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("dry run: nothing was done"));
    let at = out
        .stdout
        .find("note: the clients of the targeted backends receive SQLSTATE 57P01")
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        at < out.stdout.find("would terminate").unwrap(),
        "{}",
        out.stdout
    );

    // With no host and no port given anywhere, the connection afterwards goes to the cluster's own
    // socket and port (from postmaster.pid), not libpq's default.
    let v = pgconn()
        .env_cluster(&c)
        .env_remove("PGHOST")
        .env_remove("PGPORT")
        .args(["rescue", "--user", "app", "--yes", "--json"])
        .json();
    assert_eq!(v["summary"]["terminated"], 3);
    assert_eq!(v["after"]["connected"], true, "{v}");
    assert_eq!(
        v["after"]["target"],
        format!("{}:{}/postgres", c.socket_dir().display(), c.port())
    );
}

#[test]
fn keep_max_and_connected_longer_than_select_as_documented() {
    let c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN; CREATE ROLE web LOGIN")
        .unwrap();
    let mut w = Workload::new();
    w.idle(&c, 3, "app", "postgres", "old").unwrap();
    w.idle(&c, 1, "web", "postgres", "old").unwrap();
    let old = w.pids();
    // The young backends have 4 s to be read as younger than the threshold: a loaded machine is slow.
    std::thread::sleep(Duration::from_millis(4500));
    let mut young = Workload::new();
    young.idle(&c, 2, "app", "postgres", "young").unwrap();
    let young_pids: BTreeSet<i32> = young.pids().into_iter().collect();

    let v = rescue(
        &c,
        &[
            "--all",
            "--connected-longer-than",
            "4s",
            "--dry-run",
            "--json",
        ],
    )
    .json();
    assert_eq!(pids(&v["targets"]), old.iter().copied().collect());

    // --max: the longest connected first.
    let v = rescue(&c, &["--user", "app", "--max", "2", "--dry-run", "--json"]).json();
    assert_eq!(v["capped"], 3);
    let targets = pids(&v["targets"]);
    assert!(targets.is_disjoint(&young_pids), "{targets:?}");

    // --keep 1: the most recently connected backend of each (database, user) stays.
    let v = rescue(&c, &["--all", "--keep", "1", "--dry-run", "--json"]).json();
    assert_eq!(v["kept"], 2);
    let targets = pids(&v["targets"]);
    assert_eq!(targets.len(), 4);
    assert!(!targets.contains(&old[3]), "web's only backend is kept");
    assert_eq!(targets.intersection(&young_pids).count(), 1);
}

#[test]
fn titles_that_do_not_read_one_way_are_left_alone_and_cluster_name_may_have_spaces() {
    let c = start_cluster(&ClusterOptions {
        conf: vec![("cluster_name".into(), "prod: east 1".into())],
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE app LOGIN; CREATE ROLE \"my app\" LOGIN")
        .unwrap();
    let mut w = Workload::new();
    w.idle(&c, 2, "app", "postgres", "plain").unwrap();
    let plain: BTreeSet<i32> = w.pids().into_iter().collect();
    let mut spaced = Workload::new();
    spaced.idle(&c, 1, "my app", "postgres", "spaced").unwrap();
    let spaced_pid = spaced.pids()[0];

    let v = rescue(&c, &["--all", "--yes", "--json"]).json();
    assert_eq!(v["cluster"]["cluster_name"], "prod: east 1");
    assert_eq!(pids(&v["targets"]), plain);
    let unreadable = v["unreadable"].as_array().unwrap();
    let u = unreadable
        .iter()
        .find(|u| u["pid"] == spaced_pid)
        .unwrap_or_else(|| panic!("{v}"));
    assert!(u["reason"].as_str().unwrap().contains("2 ways"), "{u}");
    assert!(u["title"]
        .as_str()
        .unwrap()
        .starts_with("postgres: prod: east 1: my app "));
    let now = pids_where(&c, |_, _, _| true);
    assert!(now.contains(&spaced_pid), "the ambiguous one is left alone");
    assert!(now.is_disjoint(&plain));
}

#[test]
fn update_process_title_off_is_refused_and_a_role_without_titles_is_never_selected() {
    // Off for one role: its backends' titles stop before they ever say idle.
    let c = start_cluster(&ClusterOptions::default());
    c.psql(
        "CREATE ROLE app LOGIN; CREATE ROLE quiet LOGIN; \
         ALTER ROLE quiet SET update_process_title = off",
    )
    .unwrap();
    let mut w = Workload::new();
    w.idle(&c, 1, "quiet", "postgres", "q").unwrap();
    let quiet = w.pids()[0];
    w.idle(&c, 1, "app", "postgres", "a").unwrap();
    let v = rescue(&c, &["--all", "--dry-run", "--json"]).json();
    let targets = pids(&v["targets"]);
    assert!(!targets.contains(&quiet), "{v}");
    assert_eq!(targets.len(), 1);

    // Off for the server (ALTER SYSTEM and a reload): refused, nothing signalled, and the way in that
    // remains is named.
    c.psql("ALTER SYSTEM SET update_process_title = off")
        .unwrap();
    c.reload().unwrap();
    let before = client_backends(&c);
    let out = rescue(&c, &["--yes", "--json"]).assert_code(2);
    assert!(
        out.stderr.contains("update_process_title is off"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("postgresql.auto.conf"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--break-glass always"),
        "{}",
        out.stderr
    );
    assert_eq!(client_backends(&c), before);
}

#[test]
fn titles_without_a_state_mean_none_can_be_trusted() {
    // The server started with update_process_title off; a backend opened then shows no state. Turned on
    // (and reloaded) since, the files say on, but that backend's title is evidence that titles may be
    // stale (one idle when it was turned off would say idle forever): refused.
    let c = start_cluster(&ClusterOptions {
        conf: vec![("update_process_title".into(), "off".into())],
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 2, "app", "postgres", "old").unwrap();
    c.psql("ALTER SYSTEM SET update_process_title = on")
        .unwrap();
    c.reload().unwrap();
    let before = client_backends(&c);
    let out = rescue(&c, &["--yes", "--json"]).assert_code(2);
    assert!(out.stderr.contains("show no state"), "{}", out.stderr);
    assert_eq!(client_backends(&c), before);
}

#[test]
fn an_unreadable_configuration_is_refused() {
    // As the postgres user, a configuration file it cannot read (an include owned by root, mode 600).
    let c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 1, "app", "postgres", "a").unwrap();
    let secret = tempfile::tempdir().unwrap();
    let inc = secret.path().join("titles.conf");
    std::fs::write(&inc, "update_process_title = on\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(secret.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&inc, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let conf = c.data_dir().join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(&format!("include_if_exists '{}'\n", inc.display()));
    std::fs::write(&conf, text).unwrap();
    let before = client_backends(&c);
    let out = pgconn()
        .env_cluster(&c)
        .run_as_os_user("postgres")
        .args(["rescue", "--yes"])
        .assert_code(2);
    assert!(
        out.stderr.contains("cannot read the configuration"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("titles.conf"), "{}", out.stderr);
    assert_eq!(client_backends(&c), before);
    // Root reads it.
    rescue(&c, &["--all", "--dry-run"]).assert_code(0);
}

#[test]
fn the_cluster_is_found_by_its_postmaster_pid_and_never_guessed() {
    let c = start_cluster(&ClusterOptions::default());
    let other = start_cluster(&ClusterOptions::default());
    let pm = postmaster_pid(&c);
    let v = pgconn()
        .env_cluster(&c)
        .env_remove("PGDATA")
        .args([
            "rescue",
            "--all",
            "--pid",
            &pm.to_string(),
            "--dry-run",
            "--json",
        ])
        .json();
    assert_eq!(
        v["cluster"]["pgdata"].as_str().unwrap(),
        std::fs::canonicalize(c.data_dir())
            .unwrap()
            .to_str()
            .unwrap()
    );
    // Two servers (at least) run here: pgconn does not pick one.
    let out = pgconn()
        .env_cluster(&c)
        .env_remove("PGDATA")
        .args(["rescue", "--dry-run"])
        .assert_code(2);
    assert!(
        out.stderr.contains("servers are running here"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&other.data_dir().display().to_string())
            || out.stderr.contains(
                std::fs::canonicalize(other.data_dir())
                    .unwrap()
                    .to_str()
                    .unwrap()
            ),
        "{}",
        out.stderr
    );
    // A pid that is not a postmaster, and a directory with no server.
    let checkpointer = pids_where(&c, |t, _, _| t == "checkpointer");
    let cp = checkpointer.iter().next().unwrap().to_string();
    let out = rescue(&c, &["--pid", &cp, "--dry-run"]).assert_code(1);
    assert!(out.stderr.contains("is not a postmaster"), "{}", out.stderr);
    let empty = tempfile::tempdir().unwrap();
    let out = rescue(
        &c,
        &["--pgdata", empty.path().to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("no server is running"),
        "{}",
        out.stderr
    );
    // --app: not in titles, refused with what to use instead.
    let out = rescue(&c, &["--app", "x", "--dry-run"]).assert_code(2);
    assert!(
        out.stderr.contains("do not carry application_name"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_backend_that_turns_active_after_the_preview_is_skipped() {
    let c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut client = c.connect("app", "postgres", "victim").unwrap();
    client.batch_execute("SELECT 1").unwrap();
    let victim: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let mut w = Workload::new();
    w.idle(&c, 1, "app", "postgres", "other").unwrap();
    let other = w.pids()[0];

    let mut cmd = pgconn()
        .env_cluster(&c)
        .env("NO_COLOR", "1")
        .args(["rescue", "--user", "app", "--json"])
        .command();
    cmd.env("TERM", "dumb");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    p.expect("Terminate 2 backends (SIGTERM)?").unwrap();
    // A query that runs until the test cancels it, so that it is still running when pgconn re-checks.
    let busy = std::thread::spawn(move || {
        let _ = client.batch_execute("SELECT pg_sleep(60)");
        client
    });
    assert!(wait_until(Duration::from_secs(10), || {
        std::fs::read(format!("/proc/{victim}/cmdline"))
            .is_ok_and(|t| String::from_utf8_lossy(&t).contains("SELECT"))
    }));
    p.send_line("y").unwrap();
    let v = support::json_after_prompt(&mut p);
    let r = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pid"] == victim)
        .unwrap()
        .clone();
    assert_eq!(r["outcome"], "skipped", "{v}");
    assert_eq!(r["skip"], "changed", "{r}");
    assert!(r["title_now"].as_str().unwrap().contains("SELECT"), "{r}");
    assert_eq!(r["state_now"], "active", "{r}");
    assert_eq!(v["summary"]["terminated"], 1);
    let now = pids_where(&c, |_, _, _| true);
    assert!(now.contains(&victim) && !now.contains(&other));
    c.psql(&format!("SELECT pg_cancel_backend({victim})"))
        .unwrap();
    let _client = busy.join().unwrap();
}

#[test]
fn a_reused_pid_is_never_hit() {
    use pgconn::commands::rescue::{execute, plan, RescueRequest};
    use pgconn::report::rescue::Selection;
    let c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 2, "app", "postgres", "reuse").unwrap();
    let req = RescueRequest {
        pgdata: Some(c.data_dir().to_path_buf()),
        postmaster_pid: None,
        selection: Selection {
            states: vec![pgconn::report::State::Idle],
            user: vec!["app".into()],
            ..Selection::default()
        },
        dry_run: false,
        yes: true,
        wait: Duration::from_secs(5),
        log: None,
    };
    let mut p = plan(&req).unwrap();
    assert_eq!(p.report.targets.len(), 2);
    // The first target's pid now belongs to "another" process: its start time does not match.
    p.report.targets[0].start_ticks += 1;
    let reused = p.report.targets[0].pid;
    let interrupt = pgconn::interrupt::Interrupt::install().unwrap();
    let done = execute(p, &interrupt, &mut |_| {}).unwrap();
    let r = &done.report.run.results;
    assert_eq!(r[0].pid, reused);
    assert_eq!(
        serde_json::to_value(r[0].skip).unwrap(),
        "replaced",
        "{:?}",
        r[0]
    );
    assert_eq!(done.report.run.summary.terminated, 1);
    assert!(
        alive(reused),
        "the process behind the reused pid is untouched"
    );
}

/// The title process `pid` shows now.
fn title(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// Append lines to the cluster's postgresql.conf (as the server's own file, which it reads on a reload).
fn append_conf(c: &Cluster, lines: &str) {
    let conf = c.data_dir().join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(lines);
    std::fs::write(&conf, text).unwrap();
}

/// The issue's scenario: update_process_title turned off by a reload while `victim` sits idle; it then
/// starts a query (its title cannot change: still "idle"); a second reload turns titles on again while
/// the query runs (a backend applies a reload only between commands). Returns the thread running the
/// query: cancel it (pg_cancel_backend) and join it to end.
fn run_under_a_stale_idle_title(
    c: &Cluster,
    mut victim: postgres::Client,
    victim_pid: i32,
) -> std::thread::JoinHandle<postgres::Client> {
    c.psql("ALTER SYSTEM SET update_process_title = off")
        .unwrap();
    c.reload().unwrap();
    let busy = std::thread::spawn(move || {
        let _ = victim.batch_execute("SELECT pg_sleep(600)");
        victim
    });
    assert!(wait_until(Duration::from_secs(10), || {
        c.psql(&format!(
            "SELECT state FROM pg_stat_activity WHERE pid = {victim_pid}"
        ))
        .unwrap()
            == "active"
    }));
    c.psql("ALTER SYSTEM SET update_process_title = on")
        .unwrap();
    c.reload().unwrap();
    busy
}

#[test]
fn a_stale_idle_title_on_a_running_query_is_never_signalled() {
    // The scenario: update_process_title is turned off by a reload while a backend sits idle; it then
    // starts a query (its title cannot change: still "idle"); a second reload turns titles on again
    // while the query runs (a backend applies a reload only between commands). The files say on, no
    // title lacks a state, and the title says idle: only the kernel shows that a query runs.
    let c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut old = Workload::new();
    old.idle(&c, 2, "app", "postgres", "old").unwrap();
    let old_pids: BTreeSet<i32> = old.pids().into_iter().collect();
    let mut victim = c.connect("app", "postgres", "victim").unwrap();
    victim.batch_execute("SELECT 1").unwrap();
    let victim_pid: i32 = victim
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let busy = run_under_a_stale_idle_title(&c, victim, victim_pid);
    assert!(
        title(victim_pid).ends_with(" idle"),
        "the scenario: a running query under an idle title: {}",
        title(victim_pid)
    );
    // A backend that connected after the configuration last changed: its title is current. (Start
    // times are counted in clock ticks: well after the change, not within a tick or two of it.)
    std::thread::sleep(Duration::from_millis(100));
    let mut young = Workload::new();
    young.idle(&c, 1, "app", "postgres", "young").unwrap();
    let young_pid = young.pids()[0];

    // Neither the preview nor --trust-titles (the kernel contradicts the title) makes it a target.
    for extra in [&[][..], &["--trust-titles"][..]] {
        // Exit 1: a backend it matched was left alone, for want of evidence.
        let v = rescue(
            &c,
            &[&["--user", "app", "--dry-run", "--json"], extra].concat(),
        )
        .assert_code(1)
        .json();
        assert!(!pids(&v["targets"]).contains(&victim_pid), "{v}");
        let u = v["untrusted"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["pid"] == victim_pid)
            .unwrap_or_else(|| panic!("{v}"))
            .clone();
        let reason = u["reason"].as_str().unwrap();
        assert!(
            reason.contains("before the configuration last changed")
                && reason.contains("not show it waiting for its client"),
            "{reason}"
        );
    }
    let v = rescue(&c, &["--user", "app", "--yes", "--json"])
        .assert_code(1)
        .json();
    let evidence: std::collections::BTreeMap<i32, String> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["pid"].as_i64().unwrap() as i32,
                t["evidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: std::collections::BTreeMap<i32, String> = old_pids
        .iter()
        .map(|p| (*p, "waiting_for_client".to_string()))
        .chain([(young_pid, "config_unchanged".to_string())])
        .collect();
    assert_eq!(evidence, expected, "{v}");
    assert_eq!(v["summary"]["terminated"], 3, "{v}");
    assert!(v["cluster"]["configuration_changed"]
        .as_str()
        .unwrap()
        .ends_with("postgresql.auto.conf"));
    // The server agrees: the query still runs, the idle backends are gone.
    assert_eq!(
        c.psql(&format!(
            "SELECT state FROM pg_stat_activity WHERE pid = {victim_pid}"
        ))
        .unwrap(),
        "active"
    );
    let now = pids_where(&c, |_, _, _| true);
    assert!(now.is_disjoint(&old_pids) && !now.contains(&young_pid));
    c.psql(&format!("SELECT pg_cancel_backend({victim_pid})"))
        .unwrap();
    let _victim = busy.join().unwrap();
}

#[test]
fn a_value_pgconn_cannot_read_is_a_refusal_and_escapes_read_as_the_servers() {
    use std::os::unix::process::CommandExt;
    let c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 1, "app", "postgres", "a").unwrap();
    // 'o\146f' is off (an octal escape), for the server and for pgconn.
    append_conf(&c, "update_process_title = 'o\\146f'\n");
    c.reload().unwrap();
    assert_eq!(c.psql("SHOW update_process_title").unwrap(), "off");
    let before = client_backends(&c);
    let out = rescue(&c, &["--user", "app", "--yes"]).assert_code(2);
    assert!(
        out.stderr.contains("update_process_title is off"),
        "{}",
        out.stderr
    );
    // A value no boolean reads as: the server keeps its old one; pgconn cannot know it and refuses.
    append_conf(&c, "update_process_title = 'on '\n");
    c.reload().unwrap();
    assert_eq!(c.psql("SHOW update_process_title").unwrap(), "off");
    let out = rescue(&c, &["--user", "app", "--yes"]).assert_code(2);
    assert!(
        out.stderr.contains("is not a boolean PostgreSQL reads"),
        "{}",
        out.stderr
    );
    assert_eq!(client_backends(&c), before);

    // The server itself is the reference for every escape: `postgres -C` prints a setting as it reads
    // the configuration file it is given.
    let dir = tempfile::tempdir().unwrap();
    let user = nix::unistd::User::from_name("postgres").unwrap().unwrap();
    nix::unistd::chown(dir.path(), Some(user.uid), Some(user.gid)).unwrap();
    for value in [
        r"'o\146f'",
        r"'a\0b'",
        r"'\101\1012x\q'",
        r"'it''s \'quoted\''",
        r"'tab\there\r\n\b\f'",
        r"'\0618\7'",
        "bare_word-1.x:y/z",
        "-1.5e3",
        "0x1Fk",
    ] {
        let file = dir.path().join("t.conf");
        std::fs::write(&file, format!("log_line_prefix = {value}\n")).unwrap();
        let server = std::process::Command::new(c.bindir().join("postgres"))
            .arg("-D")
            .arg(c.data_dir())
            .arg("-c")
            .arg(format!("config_file={}", file.display()))
            .args(["-C", "log_line_prefix"])
            .uid(user.uid.as_raw())
            .gid(user.gid.as_raw())
            .output()
            .unwrap();
        assert!(server.status.success(), "{value}: {server:?}");
        let mut theirs = server.stdout;
        assert_eq!(theirs.pop(), Some(b'\n'));
        let ours = match pgconn::host::conf::parse_line(format!("x = {value}").as_bytes()) {
            pgconn::host::conf::Line::Setting(_, v) => v,
            other => panic!("{value}: {other:?}"),
        };
        assert_eq!(ours, theirs, "{value}");
    }
}

/// A cluster's postmaster restarted as PID 1 of a new pid namespace with a /proc of its own, as a
/// container whose entrypoint execs postgres: `unshare --pid --fork --mount-proc`, then the server as
/// the postgres user. Shut down (fast) on drop, which also ends every process of that namespace.
struct Contained {
    unshare: std::process::Child,
    /// The postmaster's pid as this (the host's) namespace sees it.
    pid: i32,
}

fn contain(c: &mut Cluster) -> Contained {
    c.stop().unwrap();
    let log = std::fs::OpenOptions::new()
        .append(true)
        .open(c.log_file())
        .unwrap();
    let unshare = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "--"])
        .args([
            "setpriv",
            "--reuid=postgres",
            "--regid=postgres",
            "--clear-groups",
            "--",
        ])
        .arg(c.bindir().join("postgres"))
        .arg("-D")
        .arg(c.data_dir())
        .current_dir(c.root_dir())
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("unshare and setpriv (util-linux)");
    let mut pid = 0;
    assert!(
        wait_until(Duration::from_secs(30), || {
            pid = proc_children(unshare.id() as i32)
                .first()
                .copied()
                .unwrap_or(0);
            pid > 0 && c.psql("SELECT 1").is_ok()
        }),
        "the contained server did not start: {}",
        std::fs::read_to_string(c.log_file()).unwrap_or_default()
    );
    let first_line = std::fs::read_to_string(c.data_dir().join("postmaster.pid")).unwrap();
    assert_eq!(
        first_line.lines().next(),
        Some("1"),
        "PID 1 of its namespace"
    );
    Contained { unshare, pid }
}

impl Drop for Contained {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid),
            nix::sys::signal::Signal::SIGINT,
        );
        let _ = self.unshare.wait();
    }
}

/// The pids of the children of `ppid`, as this namespace numbers them.
fn proc_children(ppid: i32) -> Vec<i32> {
    let mut out: Vec<i32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = &s[s.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<i32>().ok()
                })
                == Some(ppid)
        })
        .collect();
    out.sort_unstable();
    out
}

/// The pid of host process `pid` in the innermost namespace it runs in.
fn inner_pid(pid: i32) -> i32 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .and_then(|v| v.split_whitespace().last()?.parse().ok())
        .unwrap()
}

#[test]
fn a_container_postmaster_adopts_orphans_that_are_never_taken_for_backends() {
    let mut c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let ns = contain(&mut c);
    let mut w = Workload::new();
    w.idle(&c, 2, "app", "postgres", "real").unwrap();
    // Backends report their pids as their namespace numbers them.
    let real: BTreeSet<i32> = w.pids().into_iter().collect();
    let started = c.psql("SELECT pg_postmaster_start_time()").unwrap();
    // A program left behind by COPY ... TO PROGRAM, named like an idle backend: its parent exits, so
    // the postmaster (PID 1 of the namespace) adopts it.
    c.psql(
        "COPY (SELECT 1) TO PROGRAM 'bash -c ''(exec -a \"postgres: app postgres [local] idle\" \
         sleep 600 </dev/null >/dev/null 2>&1 &)'''",
    )
    .unwrap();
    let mut orphan = 0;
    assert!(wait_until(Duration::from_secs(10), || {
        orphan = proc_children(ns.pid)
            .into_iter()
            .find(|p| {
                title(*p) == "postgres: app postgres [local] idle" && !real.contains(&inner_pid(*p))
            })
            .unwrap_or(0);
        orphan > 0
    }));

    // Seen from the host, the cluster is in another pid namespace: said so, with what to run instead.
    let data = c.data_dir().display().to_string();
    for how in [["--pgdata", data.as_str()], ["--pid", &ns.pid.to_string()]] {
        let out = pgconn()
            .env_cluster(&c)
            .args(["rescue", "--all", "--dry-run"])
            .args(how)
            .assert_code(2);
        assert!(
            out.stderr.contains("runs in another pid namespace")
                && out
                    .stderr
                    .contains(&format!("pid {} here and pid 1 there", ns.pid))
                && out
                    .stderr
                    .contains(&format!("nsenter --target {} --pid --mount", ns.pid)),
            "{how:?}: {}",
            out.stderr
        );
    }

    // Inside the namespace: the orphan is another process, never a target.
    let v = pgconn()
        .env_cluster(&c)
        .wrapped([
            "nsenter",
            "--target",
            &ns.pid.to_string(),
            "--pid",
            "--mount",
            "--",
        ])
        .args([
            "rescue", "--pgdata", &data, "--user", "app", "--yes", "--json",
        ])
        .json();
    assert_eq!(v["cluster"]["postmaster_pid"], 1, "{v}");
    assert_eq!(pids(&v["targets"]), real, "{v}");
    let o = v["other_processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["pid"] == inner_pid(orphan))
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    assert_eq!(o["kind"], "not a backend", "{o}");
    assert!(o["why"].as_str().unwrap().contains("sleep"), "{o}");
    assert_eq!(v["summary"]["terminated"], 2, "{v}");
    // The orphan lives, and the server did not go through crash recovery.
    assert!(alive(orphan));
    assert_eq!(
        c.psql("SELECT pg_postmaster_start_time()").unwrap(),
        started
    );
    let log = std::fs::read_to_string(c.log_file()).unwrap();
    assert!(!log.contains("terminated by signal"), "{log}");
    assert_eq!(
        c.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'")
            .unwrap(),
        "0"
    );
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(orphan),
        nix::sys::signal::Signal::SIGKILL,
    );
    drop(ns);
}

#[test]
fn the_rescue_hint_names_a_cluster_only_when_the_refused_connection_reached_it() {
    // A listens on its unix socket only, on port P. B, another server, is full and listens on
    // 127.0.0.1. A forward from 127.0.0.1:P to B (an `ssh -L`, a docker-proxy) makes a connection to
    // 127.0.0.1:P reach B, which refuses it: naming A's rescue would terminate the wrong server's
    // backends.
    let a = start_cluster(&ClusterOptions::default());
    let b = start_cluster(&ClusterOptions {
        max_connections: 4,
        superuser_reserved_connections: Some(1),
        tcp: true,
        ..ClusterOptions::default()
    });
    let mut w = Workload::new();
    let (_, refusal) = w.fill(&b, "postgres", "postgres", "hog").unwrap();
    assert_eq!(refusal, "sorry, too many clients already");
    let b_port = b.tcp_port().unwrap();
    let listener = std::net::TcpListener::bind(("127.0.0.1", a.port())).unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", b_port)) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    let refused = |port: u16| {
        let out = pgconn()
            .env_cluster(&a)
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["--break-glass", "never", "status"])
            .assert_code(1);
        assert!(out.stderr.contains("too many clients"), "{}", out.stderr);
        out.stderr
    };
    let through_the_forward = refused(a.port());
    assert!(
        !through_the_forward.contains("pgconn rescue --pgdata"),
        "{through_the_forward}"
    );
    assert!(
        through_the_forward.contains("on the database host"),
        "{through_the_forward}"
    );
    // B itself, on the address it listens on: named.
    let b_data = std::fs::canonicalize(b.data_dir()).unwrap();
    let direct = refused(b_port);
    assert!(
        direct.contains(&format!("pgconn rescue --pgdata {}", b_data.display())),
        "{direct}"
    );
}

#[test]
fn without_a_selection_rescue_refuses_and_lists_who_holds_the_backends() {
    let c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN; CREATE ROLE web LOGIN")
        .unwrap();
    let mut w = Workload::new();
    w.idle(&c, 3, "app", "postgres", "pool").unwrap();
    w.idle(&c, 1, "web", "postgres", "pool").unwrap();
    w.idle(&c, 1, "postgres", "postgres", "admin").unwrap();
    let before = client_backends(&c);
    let out = rescue(&c, &["--yes"]).assert_code(2);
    for group in [
        "--user app --db postgres (3)",
        "--user web --db postgres (1)",
        "--user postgres --db postgres (1)",
        "--all",
    ] {
        assert!(out.stderr.contains(group), "{group}: {}", out.stderr);
    }
    assert_eq!(client_backends(&c), before);
    // --all takes every one; with a selection it is a usage error.
    let v = rescue(&c, &["--all", "--dry-run", "--json"]).json();
    assert_eq!(v["targets"].as_array().unwrap().len(), 5, "{v}");
    assert_eq!(v["selection"]["all"], true);
    rescue(&c, &["--all", "--user", "app", "--dry-run"]).assert_code(2);
}

#[test]
fn warnings_and_what_is_left_alone_come_before_the_question() {
    let c = start_cluster(&ClusterOptions {
        conf: vec![("cluster_name".into(), "east".into())],
        ..ClusterOptions::default()
    });
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut w = Workload::new();
    w.idle(&c, 3, "app", "postgres", "pool").unwrap();
    // A cluster_name changed in the file takes effect at the next restart only: worth a warning.
    append_conf(&c, "cluster_name = 'west'\n");
    let before = client_backends(&c);
    let mut cmd = pgconn()
        .env_cluster(&c)
        .args(["--color", "never", "rescue", "--user", "app", "--keep", "1"])
        .command();
    cmd.env("TERM", "xterm");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.get_process_mut().set_window_size(80, 24).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    let shown = p.expect("Terminate 2 backends (SIGTERM)? [y/N] ").unwrap();
    let shown = String::from_utf8_lossy(shown.before()).replace('\r', "");
    p.send_line("n").unwrap();
    let rest = support::until_eof(&mut p);
    assert!(
        shown.contains("warning: cluster_name is \"west\" in the configuration"),
        "{shown}"
    );
    assert_eq!(
        shown.lines().last(),
        Some("left alone: 1 kept by --keep"),
        "{shown}"
    );
    assert!(rest.contains("cancelled; nothing was done"), "{rest}");
    assert!(!rest.contains("warning:"), "{rest}");
    assert_eq!(client_backends(&c), before);
}

#[test]
fn a_title_that_goes_stale_between_the_preview_and_the_signal_is_skipped() {
    use pgconn::commands::rescue::{execute, plan, RescueRequest};
    use pgconn::report::rescue::Selection;
    let c = start_cluster(&ClusterOptions::default());
    c.psql("CREATE ROLE app LOGIN").unwrap();
    let mut victim = c.connect("app", "postgres", "victim").unwrap();
    victim.batch_execute("SELECT 1").unwrap();
    let victim_pid: i32 = victim
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let req = RescueRequest {
        pgdata: Some(c.data_dir().to_path_buf()),
        postmaster_pid: None,
        selection: Selection {
            states: vec![pgconn::report::State::Idle],
            user: vec!["app".into()],
            ..Selection::default()
        },
        dry_run: false,
        yes: true,
        wait: Duration::from_secs(5),
        log: None,
    };
    let p = plan(&req).unwrap();
    assert_eq!(
        pids(&serde_json::to_value(&p.report.targets).unwrap()),
        [victim_pid].into()
    );
    // Between the preview and the signal: titles turned off, a query started, titles on again.
    let busy = run_under_a_stale_idle_title(&c, victim, victim_pid);
    assert!(
        title(victim_pid).ends_with(" idle"),
        "{}",
        title(victim_pid)
    );
    let interrupt = pgconn::interrupt::Interrupt::install().unwrap();
    let done = execute(p, &interrupt, &mut |_| {}).unwrap();
    let r = &done.report.run.results[0];
    assert_eq!(r.pid, victim_pid);
    assert_eq!(serde_json::to_value(r.skip).unwrap(), "untrusted", "{r:?}");
    assert!(
        r.reason.as_deref().unwrap().contains("not show it waiting"),
        "{r:?}"
    );
    assert_eq!(
        c.psql(&format!(
            "SELECT state FROM pg_stat_activity WHERE pid = {victim_pid}"
        ))
        .unwrap(),
        "active"
    );
    c.psql(&format!("SELECT pg_cancel_backend({victim_pid})"))
        .unwrap();
    let _victim = busy.join().unwrap();
}
