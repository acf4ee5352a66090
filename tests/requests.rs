//! Every command run from a request built in code, without a command line: what a second front end (an
//! exporter, a library caller) does. Each answer is compared with what the server itself reports. The
//! command line's own path is the other suites'.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use pgconn::activity::Filter;
use pgconn::commands;
use pgconn::db::{BreakGlass, ConnOptions, Db};
use pgconn::sandbox::Workload;
use support::{app_role, cluster, server_pids, superuser_client, unique, wait_until};

/// The options of a caller that reaches the test cluster by a conninfo (no environment).
fn conn() -> ConnOptions {
    ConnOptions {
        dbname: vec![cluster().conninfo("postgres", "postgres")],
        ..Default::default()
    }
}

fn db() -> Db {
    let conn = conn();
    let spec = pgconn::db::resolve_spec(&conn, Some(&conn.dbname[0]), None).unwrap();
    Db::connect(spec, false, false, BreakGlass::Never).unwrap()
}

/// `n` idle sessions of application `app` (an ordinary role's: superusers' are left alone by kill),
/// held by the returned workload.
fn idle_sessions(app: &str, n: usize) -> Workload {
    let mut w = Workload::new();
    w.idle(cluster(), n, &app_role(), "postgres", app).unwrap();
    w
}

fn only_app(app: &str) -> Filter {
    Filter {
        app: vec![app.to_string()],
        ..Filter::default()
    }
}

#[test]
fn status_sessions_and_check_answer_a_request_as_the_server_counts() {
    let app = unique("req-read");
    let _w = idle_sessions(&app, 3);
    let truth = server_pids(&app, Some("idle"));
    assert_eq!(truth.len(), 3);

    let req = commands::status::StatusRequest {
        filter: only_app(&app),
        ..Default::default()
    };
    let report = commands::status::collect(&mut db(), &req).unwrap();
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["states"]["idle"], 3, "{v:#}");

    let req = commands::sessions::SessionsRequest {
        filter: only_app(&app),
        limit: Some(2),
        pgbouncer: None,
        processes: false,
        blocked: false,
        by_statement: false,
    };
    let report = commands::sessions::collect(&mut db(), &req).unwrap();
    assert_eq!(report.count, 3, "every match counted");
    assert_eq!(report.sessions.len(), 2, "the limit holds");
    assert!(report.sessions.iter().all(|s| truth.contains(&s.pid)));

    // check, judged through the fleet path (one target).
    let req = commands::check::CheckRequest {
        filter: only_app(&app),
        idle_warning: Some(3),
        idle_age: Duration::ZERO,
        format: commands::check::CheckFormat::Json,
        ..Default::default()
    };
    let commands::check::CheckRun::Judged { report, .. } = commands::check::run(&conn(), &req)
    else {
        panic!("judged")
    };
    assert_eq!(report.status, pgconn::report::Level::Warning, "{report:?}");

    // status and sessions over the fleet path give the same counts.
    let req = commands::status::StatusRequest {
        filter: only_app(&app),
        format: Some(commands::status::StatusFormat::Json),
        ..Default::default()
    };
    let outcomes = commands::fleet::status(&conn(), &req).unwrap();
    let report = outcomes.into_iter().next().unwrap().result.unwrap();
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["states"]["idle"], 3, "{v:#}");
    let results = commands::fleet::sessions(
        &conn(),
        &commands::sessions::SessionsRequest {
            filter: only_app(&app),
            ..Default::default()
        },
    )
    .unwrap();
    let pids: BTreeSet<i32> = results[0]
        .report
        .as_ref()
        .unwrap()
        .sessions
        .iter()
        .map(|s| s.pid)
        .collect();
    assert_eq!(pids, truth);
}

#[test]
fn watch_samples_a_request_until_its_count() {
    let app = unique("req-watch");
    let _w = idle_sessions(&app, 2);
    let req = commands::watch::WatchRequest {
        interval: Duration::from_millis(100),
        count: Some(2),
        record: None,
        status: commands::status::StatusRequest {
            filter: only_app(&app),
            ..Default::default()
        },
    };
    let sampler = commands::watch::start(&conn(), &req).unwrap();
    let rounds: Vec<_> = sampler.rounds.iter().collect();
    assert_eq!(rounds.len(), 2);
    let last = rounds.last().unwrap();
    let report = last.targets[0].report.as_ref().expect("reached");
    let v = serde_json::to_value(report).unwrap();
    assert_eq!(v["states"]["idle"], 2, "{v:#}");
    assert!(commands::watch::all_reached(Some(last), &req));
    sampler.stop();
}

#[test]
fn advise_finds_a_leak_from_a_request() {
    let app = unique("req-advise");
    let _w = idle_sessions(&app, 6);
    std::thread::sleep(Duration::from_millis(1100));
    let mut req = commands::advise::AdviseRequest {
        filter: only_app(&app),
        ..Default::default()
    };
    req.thresholds.leak_idle_age = Duration::from_secs(1);
    req.thresholds.leak_min_sessions = 5;
    let report = commands::advise::collect(&mut db(), &conn(), &req).unwrap();
    let v = serde_json::to_value(&report).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.to_string().contains(&app) && f["id"].as_str() == Some("leak_suspect")),
        "{v:#}"
    );
}

#[test]
fn kill_terminates_exactly_what_a_request_selects() {
    let app = unique("req-kill");
    let _w = idle_sessions(&app, 3);
    let truth = server_pids(&app, Some("idle"));
    let req = commands::kill::KillRequest {
        filter: only_app(&app).with_states([pgconn::report::State::Idle]),
        ..Default::default()
    };
    let mut db = db();
    let plan = commands::kill::plan(&mut db, req).unwrap();
    let planned: BTreeSet<i32> = plan.report.targets.iter().map(|t| t.session.pid).collect();
    assert_eq!(planned, truth);
    let interrupt = pgconn::interrupt::Interrupt::install().unwrap();
    let done = commands::kill::execute(&mut db, plan, &interrupt, &mut |_| {}).unwrap();
    assert_eq!(
        done.report.run.summary.terminated, 3,
        "{:?}",
        done.report.run.summary
    );
    assert!(wait_until(Duration::from_secs(10), || server_pids(
        &app, None
    )
    .is_empty()));

    // A dry run acts on nothing.
    let _w2 = idle_sessions(&app, 1);
    let req = commands::kill::KillRequest {
        filter: only_app(&app),
        safety: commands::kill::KillSafety {
            dry_run: true,
            ..Default::default()
        },
        ..Default::default()
    };
    use pgconn::commands::Plan;
    let plan = commands::kill::plan(&mut db, req).unwrap();
    assert!(!plan.acts());
    assert_eq!(server_pids(&app, None).len(), 1);
}

#[test]
fn rescue_plans_from_a_request() {
    let app = unique("req-rescue");
    let _w = idle_sessions(&app, 2);
    let truth = server_pids(&app, Some("idle"));
    let req = commands::rescue::RescueRequest {
        pgdata: Some(cluster().data_dir().to_path_buf()),
        postmaster_pid: None,
        selection: pgconn::report::rescue::Selection {
            states: vec![pgconn::report::State::Idle],
            user: vec![app_role()],
            ..Default::default()
        },
        dry_run: true,
        yes: false,
        wait: Duration::from_secs(5),
        log: None,
    };
    let plan = commands::rescue::plan(&req).unwrap();
    let planned: BTreeSet<i32> = plan.report.targets.iter().map(|t| t.pid).collect();
    assert!(
        truth.is_subset(&planned),
        "the idle sessions of the role are planned: {truth:?} in {planned:?}"
    );
    use pgconn::commands::Plan;
    assert!(!plan.acts(), "a dry run");
}

#[test]
fn tune_shows_sets_resets_and_undoes_from_requests() {
    use commands::tune::{self, TuneApply, TuneResetRequest, TuneSetRequest, TuneUndoRequest};
    use pgconn::commands::Plan;
    let dbname = unique("req_tune");
    let mut su = superuser_client(cluster());
    su.batch_execute(&format!("CREATE DATABASE {dbname}"))
        .unwrap();
    let stored = |su: &mut postgres::Client| -> Vec<String> {
        su.query(
            "SELECT unnest(setconfig) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = \
             s.setdatabase WHERE d.datname = $1 AND s.setrole = 0",
            &[&dbname],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let apply = TuneApply {
        yes: true,
        dry_run: false,
        history: Some(dir.path().join("history.jsonl")),
    };
    let scope = tune::scope_of(Some(&dbname), None, false).unwrap();

    let show = tune::show::collect(
        &mut db(),
        &tune::show::TuneShowRequest {
            database: Some(dbname.clone()),
            role: None,
        },
    )
    .unwrap();
    assert!(show.settings.iter().any(|s| s.name == "statement_timeout"));

    // Nothing to set is refused before any server is asked.
    assert!(TuneSetRequest::new(scope.clone(), vec![], None, apply.clone()).is_err());
    let req = TuneSetRequest::new(
        scope.clone(),
        vec![("statement_timeout".into(), "30s".into())],
        Some(tune::presets::TunePreset::Runbook),
        apply.clone(),
    )
    .unwrap();
    let mut db = db();
    let mut plan = tune::plan_set(&mut db, &req).unwrap();
    assert!(plan.acts());
    plan.ready().unwrap();
    tune::execute(&mut db, plan).unwrap();
    let mut now = stored(&mut su);
    now.sort();
    assert_eq!(
        now,
        [
            "idle_in_transaction_session_timeout=5min",
            "statement_timeout=30s"
        ]
    );

    let h = tune::load_history(apply.history.as_deref()).unwrap();
    let undo = TuneUndoRequest {
        force: false,
        apply: apply.clone(),
    };
    let mut plan = tune::plan_undo(&mut db, &h, &undo).unwrap();
    plan.ready().unwrap();
    tune::execute(&mut db, plan).unwrap();
    assert!(stored(&mut su).is_empty(), "undone");

    let req = TuneSetRequest::new(
        scope.clone(),
        vec![("lock_timeout".into(), "10s".into())],
        None,
        apply.clone(),
    )
    .unwrap();
    let mut plan = tune::plan_set(&mut db, &req).unwrap();
    plan.ready().unwrap();
    tune::execute(&mut db, plan).unwrap();
    assert_eq!(stored(&mut su), ["lock_timeout=10s"]);
    let reset = TuneResetRequest {
        scope,
        names: vec![],
        all: true,
        apply,
    };
    let mut plan = tune::plan_reset(&mut db, &reset).unwrap();
    plan.ready().unwrap();
    tune::execute(&mut db, plan).unwrap();
    assert!(stored(&mut su).is_empty(), "reset");
    drop(db);
    su.batch_execute(&format!("DROP DATABASE {dbname} WITH (FORCE)"))
        .unwrap();
}

#[test]
fn a_sandbox_starts_from_a_request() {
    let req = commands::sandbox::SandboxRequest {
        leak: 3,
        active: 1,
        idle_in_transaction: 1,
        max_connections: 20,
        ..Default::default()
    };
    let commands::sandbox::Started::Running(sandbox) =
        commands::sandbox::start(&req, &|_| {}).unwrap()
    else {
        panic!("started")
    };
    let env = sandbox.env();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let conninfo = format!(
        "host={} port={} user={} dbname={}",
        get("PGHOST").unwrap(),
        get("PGPORT").unwrap(),
        get("PGUSER").unwrap(),
        get("PGDATABASE").unwrap()
    );
    let mut c = postgres::Client::connect(&conninfo, postgres::NoTls).unwrap();
    let leaked: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'leaky-worker' \
             AND state = 'idle'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(leaked, 3);
    let max: String = c.query_one("SHOW max_connections", &[]).unwrap().get(0);
    assert_eq!(max, "20");
}

#[test]
fn the_exporters_collector_answers_a_request_and_shares_one_attempt() {
    use commands::exporter::{
        configured_targets, match_probe, Collector, ExporterRequest, ProbeMatch,
    };
    let app = unique("req-exporter");
    let _w = idle_sessions(&app, 2);
    let req = ExporterRequest {
        status: commands::status::StatusRequest {
            filter: only_app(&app),
            ..Default::default()
        },
        ..ExporterRequest::default()
    };
    let conn = ConnOptions {
        connect_timeout: Some(Duration::ZERO),
        ..conn()
    };
    let targets = configured_targets(&conn).unwrap();
    let keys: Vec<_> = targets.iter().map(|(_, k)| k.clone()).collect();
    assert_eq!(
        match_probe(&keys, "nowhere.invalid:5432"),
        ProbeMatch::Unknown
    );
    let collector = Collector::new(targets, 4, &req, false);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let scrapes: Vec<_> = (0..2)
        .map(|_| {
            let c = collector.clone();
            std::thread::spawn(move || c.collect(0, deadline))
        })
        .collect();
    for s in scrapes {
        let c = s.join().unwrap();
        let report = c.result.report.as_ref().expect("collected");
        assert_eq!(
            report.states.get("idle").copied(),
            Some(2),
            "{:?}",
            c.result
        );
    }
}
