//! Managed platforms, simulated on a local cluster: each platform's settings as placeholders set on a
//! database of its own (`ALTER DATABASE … SET rds.extensions = …`: what `current_setting(name, true)`
//! reads in a session there), its marker roles created, Aurora's `aurora_version()` as a function, and
//! the provider's host name supplied through `host` with `hostaddr=127.0.0.1` (no DNS). Detection,
//! evidence, the capacity with the provider's reserve and `--platform none` are compared with what the
//! server itself reports. Not tested on the services themselves.

mod support;

use std::sync::OnceLock;

use pgconn::sandbox::Workload;
use serde_json::Value;
use support::{pgconn, start_cluster, unique, Cluster, ClusterOptions};

const MAX_CONNECTIONS: u32 = 40;
const SUPERUSER_RESERVED: u32 = 3;
const RDS_RESERVE: i64 = 2;

fn cluster() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(|| {
        let c = start_cluster(&ClusterOptions {
            max_connections: MAX_CONNECTIONS,
            superuser_reserved_connections: Some(SUPERUSER_RESERVED),
            tcp: true,
            ..ClusterOptions::default()
        });
        let mut su = support::superuser_client(&c);
        for sql in [
            "CREATE ROLE rds_superuser",
            "CREATE ROLE rds_reserved",
            "CREATE ROLE azure_pg_admin",
            // RDS's own admin role, simulated as an ordinary role: rdsadmin is a superuser on RDS and
            // protected as one; the plain role is what proves the provider rule.
            "CREATE ROLE rdsadmin LOGIN",
            "CREATE DATABASE sim_rds",
            "ALTER DATABASE sim_rds SET rds.rds_superuser_reserved_connections = '2'",
            "ALTER DATABASE sim_rds SET rds.extensions = 'pg_stat_statements'",
            "CREATE DATABASE sim_aurora",
            "ALTER DATABASE sim_aurora SET rds.rds_superuser_reserved_connections = '2'",
            "CREATE DATABASE sim_azure",
            "ALTER DATABASE sim_azure SET azure.extensions = 'pg_trgm'",
            "CREATE DATABASE sim_neon",
            "ALTER DATABASE sim_neon SET neon.timeline_id = '0123456789abcdef'",
            "CREATE DATABASE sim_cloudsql",
            "ALTER DATABASE sim_cloudsql SET cloudsql.iam_authentication = 'on'",
            "CREATE DATABASE sim_plain",
        ] {
            su.batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        c.psql_in(
            "sim_aurora",
            "CREATE FUNCTION public.aurora_version() RETURNS text LANGUAGE sql AS $$SELECT '15.4.1'$$",
        )
        .unwrap();
        c
    })
}

/// A conninfo that reaches the cluster on 127.0.0.1 under `host`'s name (None: its socket).
fn conninfo(c: &Cluster, host: Option<&str>, db: &str) -> String {
    match host {
        Some(h) => format!(
            "host={h} hostaddr=127.0.0.1 port={} user=postgres dbname={db}",
            c.tcp_port().unwrap()
        ),
        None => format!(
            "host={} port={} user=postgres dbname={db}",
            c.socket_dir().display(),
            c.port()
        ),
    }
}

fn status(c: &Cluster, host: Option<&str>, db: &str, extra: &[&str]) -> Value {
    pgconn()
        .no_cluster_env()
        .args(["status", "--json", "-d", &conninfo(c, host, db)])
        .args(extra)
        .run()
        .assert_code(0)
        .json()
}

/// The server's own numbers: max_connections, superuser_reserved_connections, reserved_connections (0
/// before 16).
fn server_slots(c: &Cluster) -> (i64, i64, i64) {
    let mut su = support::superuser_client(c);
    let row = su
        .query_one(
            "SELECT current_setting('max_connections')::int8, \
                    current_setting('superuser_reserved_connections')::int8, \
                    coalesce(current_setting('reserved_connections', true)::int8, 0)",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

fn evidence(v: &Value) -> Vec<String> {
    v["platform"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rds_is_detected_from_its_host_settings_and_its_reserve_is_counted() {
    let c = cluster();
    let host = "mydb.c9akciq32.eu-west-1.rds.amazonaws.com";
    let v = status(c, Some(host), "sim_rds", &[]);
    assert_eq!(v["platform"]["name"], "aws-rds", "{v}");
    assert_eq!(v["platform"]["confidence"], "strong");
    let ev = evidence(&v);
    for want in [
        "setting rds.rds_superuser_reserved_connections",
        "setting rds.extensions",
        "host name *.rds.amazonaws.com",
    ] {
        assert!(ev.iter().any(|e| e == want), "{want} missing from {ev:?}");
    }
    let (max, su, reserved) = server_slots(c);
    // Up to 15 RDS's reserve comes on top; 16+ the larger of it and reserved_connections, once.
    let provider = if c.version_num() < 160000 {
        RDS_RESERVE
    } else {
        reserved.max(RDS_RESERVE) - reserved
    };
    let usable = max - su - reserved - provider;
    assert_eq!(v["capacity"]["usable_slots"], usable, "{}", v["capacity"]);
    let pr = &v["capacity"]["provider_reserve"];
    assert_eq!(pr["slots"], RDS_RESERVE);
    assert_eq!(
        pr["roles"],
        if c.version_num() < 160000 {
            serde_json::json!(["rds_superuser", "rds_reserved"])
        } else {
            serde_json::json!(["rds_reserved", "rds_superuser"])
        }
    );

    // --platform none: today's numbers, and the JSON has the same shape but for the platform.
    let none = status(c, Some(host), "sim_rds", &["--platform", "none"]);
    assert_eq!(none["platform"]["name"], Value::Null);
    assert_eq!(none["capacity"]["usable_slots"], max - su - reserved);
    assert!(none["capacity"].get("provider_reserve").is_none());
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&none), keys(&v));
    let mut cap = v["capacity"].as_object().unwrap().clone();
    cap.remove("provider_reserve");
    assert_eq!(
        cap.keys().collect::<Vec<_>>(),
        none["capacity"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>()
    );

    // The header line names it; the capacity line names who may use the reserve.
    let out = pgconn()
        .no_cluster_env()
        .args(["status", "-d", &conninfo(c, Some(host), "sim_rds")])
        .run()
        .assert_code(0);
    assert!(
        out.stdout
            .contains("platform     aws-rds (strong evidence: setting rds.rds_superuser"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("for rds_"), "{}", out.stdout);

    // Prometheus: the platform's info and the usable slots with its reserve.
    let prom = pgconn()
        .no_cluster_env()
        .args([
            "status",
            "--format",
            "prometheus",
            "-d",
            &conninfo(c, Some(host), "sim_rds"),
        ])
        .run()
        .assert_code(0)
        .stdout;
    let line = |name: &str| {
        prom.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{prom}"))
            .to_string()
    };
    assert!(
        line("pgconn_platform_info{").contains("platform=\"aws-rds\""),
        "{prom}"
    );
    assert!(line("pgconn_usable_slots{").ends_with(&format!(" {usable}")));
}

#[test]
fn aurora_is_told_by_its_function_even_over_a_socket() {
    let c = cluster();
    let v = status(c, None, "sim_aurora", &[]);
    assert_eq!(v["platform"]["name"], "aws-aurora", "{v}");
    assert!(evidence(&v).contains(&"function aurora_version()".to_string()));
    assert!(v["capacity"]["provider_reserve"]["slots"] == RDS_RESERVE);
}

#[test]
fn azure_and_neon_subtract_their_documented_reserve_once() {
    let c = cluster();
    let (max, su, reserved) = server_slots(c);
    let own = su + reserved;
    let azure = status(
        c,
        Some("myserver.postgres.database.azure.com"),
        "sim_azure",
        &[],
    );
    assert_eq!(azure["platform"]["name"], "azure-flexible", "{azure}");
    assert_eq!(
        evidence(&azure),
        vec![
            "setting azure.extensions".to_string(),
            "host name *.postgres.database.azure.com".into()
        ]
    );
    assert_eq!(azure["capacity"]["usable_slots"], max - own.max(15));
    assert_eq!(
        azure["capacity"]["provider_reserve"]["source"],
        "documented"
    );

    let neon = status(
        c,
        Some("ep-cool-darkness-123456.us-east-2.aws.neon.tech"),
        "sim_neon",
        &[],
    );
    assert_eq!(neon["platform"]["name"], "neon", "{neon}");
    assert_eq!(neon["capacity"]["usable_slots"], max - own.max(7));

    // Cloud SQL: detected, no reserve of its own documented: the server's.
    let gcp = status(c, None, "sim_cloudsql", &[]);
    assert_eq!(gcp["platform"]["name"], "cloud-sql", "{gcp}");
    assert_eq!(gcp["capacity"]["usable_slots"], max - own);
    assert!(gcp["capacity"].get("provider_reserve").is_none());
}

#[test]
fn provider_roles_alone_are_weak_and_change_nothing() {
    let c = cluster();
    let (max, su, reserved) = server_slots(c);
    let v = status(c, None, "sim_plain", &[]);
    assert_eq!(v["platform"]["name"], "aws-rds", "{v}");
    assert_eq!(v["platform"]["confidence"], "weak");
    assert_eq!(
        evidence(&v),
        vec![
            "role rds_superuser".to_string(),
            "role rds_reserved".into(),
            "role rdsadmin".into()
        ]
    );
    assert_eq!(v["capacity"]["usable_slots"], max - su - reserved);
    assert!(v["capacity"].get("provider_reserve").is_none());
    // An IP address is no evidence; --platform names one without any.
    let given = status(
        c,
        Some("localhost"),
        "sim_plain",
        &["--platform", "azure-flexible"],
    );
    assert_eq!(given["platform"]["name"], "azure-flexible");
    assert_eq!(
        evidence(&given),
        vec!["--platform azure-flexible".to_string()]
    );
    assert_eq!(
        given["capacity"]["usable_slots"],
        max - (su + reserved).max(15)
    );
}

/// Ground truth from this binary's cluster: pids of an application's sessions (in one state).
fn server_pids(app: &str, state: Option<&str>) -> std::collections::BTreeSet<i32> {
    support::app_pids(cluster(), app, state)
}

fn kill_idle(c: &Cluster, host: Option<&str>, tag: &str, extra: &[&str]) -> Value {
    pgconn()
        .no_cluster_env()
        .args([
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            tag,
            "--yes",
            "--json",
            "-d",
            &conninfo(c, host, "sim_rds"),
        ])
        .args(extra)
        .run()
        .assert_code(0)
        .json()
}

#[test]
fn the_provider_s_admin_sessions_are_left_alone_unless_asked() {
    let c = cluster();
    let host = "mydb.c9akciq32.eu-west-1.rds.amazonaws.com";
    let tag = unique("provider");
    let mut w = Workload::new();
    w.idle(c, 2, "rdsadmin", "sim_rds", &tag).unwrap();
    let admin = server_pids(&tag, Some("idle"));
    assert_eq!(admin.len(), 2);

    // Detected by its settings over the socket too: the plan is read again with the provider's roles.
    for h in [Some(host), None] {
        let v = kill_idle(c, h, &tag, &[]);
        assert_eq!(v["protected"]["provider"], 2, "{v}");
        assert_eq!(v["acted"], false, "{v}");
        let left: Vec<&Value> = v["left_alone"].as_array().unwrap().iter().collect();
        assert!(left.iter().all(|l| l["protection"] == "provider"), "{v}");
        assert_eq!(
            server_pids(&tag, Some("idle")),
            admin,
            "nothing was terminated"
        );
    }

    // --platform none: an ordinary role like any other (a dry run shows it would be targeted).
    let none = kill_idle(c, Some(host), &tag, &["--platform", "none", "--dry-run"]);
    assert_eq!(none["protected"]["provider"], 0, "{none}");
    assert_eq!(none["targets"].as_array().unwrap().len(), 2, "{none}");

    let v = kill_idle(c, Some(host), &tag, &["--include-provider"]);
    assert_eq!(v["summary"]["terminated"], 2, "{v}");
    assert!(support::wait_until(
        std::time::Duration::from_secs(10),
        || { server_pids(&tag, None).is_empty() }
    ));
}

#[test]
fn a_full_managed_server_is_not_sent_to_rescue() {
    // A server of its own, full to the last slot, reached under an RDS host name.
    let c = start_cluster(&ClusterOptions {
        max_connections: 6,
        superuser_reserved_connections: Some(2),
        tcp: true,
        ..ClusterOptions::default()
    });
    let mut w = Workload::new();
    let (_, refusal) = w.fill(&c, "postgres", "postgres", "runaway").unwrap();
    assert_eq!(refusal, "sorry, too many clients already");
    let ci = |h: &str| {
        format!(
            "host={h} hostaddr=127.0.0.1 port={} user=postgres dbname=postgres",
            c.tcp_port().unwrap()
        )
    };
    let run = |conninfo: String, extra: &[&str]| {
        pgconn()
            .no_cluster_env()
            .args(["status", "--break-glass", "never", "-d", &conninfo])
            .args(extra)
            .run()
    };
    let rds = run(ci("mydb.c9akciq32.eu-west-1.rds.amazonaws.com"), &[]);
    assert_ne!(rds.status, 0);
    assert!(!rds.stderr.contains("rescue"), "{}", rds.stderr);
    assert!(rds
        .stderr
        .contains("Amazon RDS for PostgreSQL gives no host to log into"));
    assert!(
        rds.stderr.contains("aws rds reboot-db-instance"),
        "{}",
        rds.stderr
    );
    let neon = run(ci("ep-x-123.us-east-2.aws.neon.tech"), &[]);
    assert!(neon.stderr.contains("-pooler host name"), "{}", neon.stderr);
    assert!(!neon.stderr.contains("rescue"), "{}", neon.stderr);
    // Without a platform the self-hosted advice stands.
    let plain = run(
        ci("mydb.c9akciq32.eu-west-1.rds.amazonaws.com"),
        &["--platform", "none"],
    );
    assert!(plain.stderr.contains("pgconn rescue"), "{}", plain.stderr);
}

#[test]
fn advise_points_at_the_provider_s_pooler_not_a_pgbouncer_ini() {
    let c = cluster();
    let tag = unique("advise");
    let mut w = Workload::new();
    w.idle(c, 22, "postgres", "sim_azure", &tag).unwrap();
    let host = "myserver.postgres.database.azure.com";
    let advise = |extra: &[&str]| {
        pgconn()
            .no_cluster_env()
            .args([
                "advise",
                "--json",
                "--app",
                &tag,
                "-d",
                &conninfo(c, Some(host), "sim_azure"),
            ])
            .args(extra)
            .run()
            .assert_code(0)
            .json()
    };
    let ids = |v: &Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let v = advise(&[]);
    assert!(
        ids(&v).contains(&"provider_pooler_recommended".to_string()),
        "{v}"
    );
    assert!(
        !ids(&v).contains(&"pgbouncer_recommended".to_string()),
        "{v}"
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "provider_pooler_recommended")
        .unwrap();
    assert!(f.get("config").is_none(), "no pgbouncer.ini: {f}");
    assert!(f["commands"][0]
        .as_str()
        .unwrap()
        .contains("--server-name myserver --name pgbouncer.enabled --value true"));
    // --platform none: the pgbouncer.ini, as on a self-hosted server.
    let none = advise(&["--platform", "none"]);
    assert!(
        ids(&none).contains(&"pgbouncer_recommended".to_string()),
        "{none}"
    );
}

#[test]
fn the_pool_budget_names_the_provider_s_pool_size_and_its_source() {
    let c = cluster();
    let (max, su, reserved) = server_slots(c);
    let tag = unique("budget");
    let mut w = Workload::new();
    for db in ["sim_azure", "sim_neon", "sim_cloudsql"] {
        w.idle(c, 3, "postgres", db, &tag).unwrap();
    }
    let budget_evidence = |host: Option<&str>, db: &str, extra: &[&str]| -> Vec<String> {
        let v = pgconn()
            .no_cluster_env()
            .args([
                "advise",
                "--json",
                "--samples",
                "0",
                "--app",
                &tag,
                "-d",
                &conninfo(c, host, db),
            ])
            .args(extra)
            .run()
            .assert_code(0)
            .json();
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "pool_budget")
            .unwrap_or_else(|| panic!("no pool_budget finding: {v}"))
            .clone();
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect()
    };
    // Azure: 50 per user and database (documented default); the budget is the usable slots (the
    // documented 15 reserved, or the server's own reserve if larger) less 20% headroom.
    let azure = budget_evidence(
        Some("myserver.postgres.database.azure.com"),
        "sim_azure",
        &[],
    );
    let usable = max - (su + reserved).max(15);
    let budget = (usable as f64 * 0.8).floor() as i64;
    assert!(
        azure.iter().any(|e| e.contains(
            "pgbouncer.default_pool_size, 50 server connections per user and database by default \
             (documented"
        )),
        "{azure:#?}"
    );
    // The pairs the server holds for the application: one per database here.
    let pairs: i64 = support::superuser_client(c)
        .query_one(
            "SELECT count(DISTINCT (usename, datname)) FROM pg_stat_activity WHERE application_name = $1",
            &[&tag],
        )
        .unwrap()
        .get(0);
    assert_eq!(pairs, 3);
    assert!(
        azure.iter().any(|e| e.contains(&format!(
            "the {pairs} user/database pairs seen, 50 each, could open up to {} server connections, more \
             than the {budget} slots of the budget: lower pgbouncer.default_pool_size to {} or less",
            50 * pairs,
            budget / pairs
        ))),
        "{azure:#?}"
    );
    // Neon: 90% of the server's max_connections per user and database.
    let neon = budget_evidence(Some("ep-x-123.us-east-2.aws.neon.tech"), "sim_neon", &[]);
    assert!(
        neon.iter().any(|e| e.contains(&format!(
            "90% of max_connections ({max}), {} server connections per user and database (documented",
            max * 9 / 10
        ))),
        "{neon:#?}"
    );
    // Cloud SQL (its setting over the socket): unverified, no number.
    let gcp = budget_evidence(None, "sim_cloudsql", &[]);
    assert!(
        gcp.iter().any(|e| e.contains("pool size unverified")),
        "{gcp:#?}"
    );
    assert!(gcp.iter().all(|e| !e.contains("could open")), "{gcp:#?}");
    // --platform none: no provider pooler.
    let none = budget_evidence(
        Some("myserver.postgres.database.azure.com"),
        "sim_azure",
        &["--platform", "none"],
    );
    assert!(
        none.iter().all(|e| !e.contains("provider's pooler")),
        "{none:#?}"
    );
}

#[test]
fn the_library_s_signal_targets_leaves_the_provider_s_admin_sessions_alone() {
    use pgconn::activity::{sessions, Filter};
    use pgconn::commands::kill::{signal_targets, KillSafety};
    use pgconn::report::kill::{Action, KillTarget, OutcomeKind, Protection};
    let c = cluster();
    let tag = unique("libprovider");
    let mut w = Workload::new();
    w.idle(c, 2, "rdsadmin", "sim_rds", &tag).unwrap();
    let admin = server_pids(&tag, Some("idle"));
    assert_eq!(admin.len(), 2);
    // The library entry point, reached under an RDS host name; a caller that filled no provider_roles.
    let mut db = support::library_db(&conninfo(
        c,
        Some("mydb.c9akciq32.eu-west-1.rds.amazonaws.com"),
        "sim_rds",
    ));
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
    assert_eq!(targets.len(), 2);
    let safety = KillSafety::default();
    assert!(safety.provider_roles.is_empty());
    let out = signal_targets(&mut db, &filter, &safety, Action::Terminate, &targets).unwrap();
    assert_eq!(out.len(), 2);
    for o in &out {
        assert_eq!(o.outcome, OutcomeKind::Skipped, "{o:?}");
        assert_eq!(o.protection, Some(Protection::Provider), "{o:?}");
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        server_pids(&tag, Some("idle")),
        admin,
        "nothing was terminated"
    );

    // --include-provider's field lifts it: the same call terminates them.
    let include = KillSafety {
        include_provider: true,
        ..KillSafety::default()
    };
    let out = signal_targets(&mut db, &filter, &include, Action::Terminate, &targets).unwrap();
    assert!(
        out.iter().all(|o| o.outcome == OutcomeKind::Terminated),
        "{out:?}"
    );
    assert!(support::wait_until(
        std::time::Duration::from_secs(10),
        || server_pids(&tag, None).is_empty()
    ));
}
