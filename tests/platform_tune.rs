//! `tune set/reset --system` on a simulated managed platform (markers as in tests/platform.rs: provider
//! settings as placeholders on a database of their own, the provider's host name through `host` with
//! `hostaddr=127.0.0.1`): pgconn sends nothing that changes the server, prints the provider's commands
//! with values in the setting's base unit, exits 0, and records no history. postgresql.auto.conf is
//! compared byte for byte, the base unit with what the server itself makes of the value.

mod support;

use std::sync::OnceLock;

use support::{pgconn, start_cluster, unique, Cluster, ClusterOptions};

const RDS_HOST: &str = "mydb.c9akciq32.eu-west-1.rds.amazonaws.com";

fn cluster() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(|| {
        let c = start_cluster(&ClusterOptions {
            tcp: true,
            ..ClusterOptions::default()
        });
        let mut su = support::superuser_client(&c);
        for sql in [
            "CREATE DATABASE sim_rds",
            "ALTER DATABASE sim_rds SET rds.rds_superuser_reserved_connections = '2'",
            "ALTER DATABASE sim_rds SET rds.extensions = 'pg_stat_statements'",
            "CREATE DATABASE sim_cloudsql",
            "ALTER DATABASE sim_cloudsql SET cloudsql.iam_authentication = 'on'",
        ] {
            su.batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        c
    })
}

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

/// postgresql.auto.conf, byte for byte (read by the server itself).
fn auto_conf(c: &Cluster) -> Vec<u8> {
    support::superuser_client(c)
        .query_one("SELECT pg_read_binary_file('postgresql.auto.conf')", &[])
        .unwrap()
        .get(0)
}

/// What the server makes of `value` for `name`, in pg_settings' unit.
fn server_base(c: &Cluster, name: &str, value: &str) -> String {
    support::server_base(&mut support::superuser_client(c), name, value)
}

#[test]
fn rds_system_prints_the_parameter_group_sequence_and_changes_nothing() {
    let c = cluster();
    let dir = tempfile::tempdir().unwrap();
    let hist = dir.path().join("h.jsonl");
    let before = auto_conf(c);
    let max_before: String = support::superuser_client(c)
        .query_one("SHOW max_connections", &[])
        .unwrap()
        .get(0);
    let out = pgconn()
        .no_cluster_env()
        .args([
            "tune",
            "set",
            "--system",
            "max_connections=200",
            "idle_in_transaction_session_timeout=5min",
            "--show-sql",
            "--json",
            "--yes",
            "--history",
            hist.to_str().unwrap(),
            "-d",
            &conninfo(c, Some(RDS_HOST), "sim_rds"),
        ])
        .run()
        .assert_code(0);
    let v = out.json();
    assert_eq!(v["applied"], false, "{v}");
    assert_eq!(v["platform"], "aws-rds");
    // The header says what happens there, in JSON as for people: no ALTER SYSTEM.
    assert_eq!(
        v["scope_label"], "the whole server, through the provider (nothing applied here)",
        "{v}"
    );
    // --show-sql echoes every statement sent (their comments too): reads only.
    assert!(out.stderr.contains("FROM pg_settings"), "{}", out.stderr);
    for line in out
        .stderr
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
    {
        for sent in ["ALTER", "pg_reload_conf", "format("] {
            assert!(!line.contains(sent), "{sent} sent: {line}\n{}", out.stderr);
        }
    }
    let cmds = support::provider_commands(&v);
    let steps: Vec<i64> = cmds.iter().map(|c| c.0).collect();
    assert_eq!(steps, (1..=cmds.len() as i64).collect::<Vec<_>>());
    let ms = server_base(c, "idle_in_transaction_session_timeout", "5min");
    assert_eq!(ms, "300000");
    let modify = &cmds[1].1;
    assert!(
        modify.starts_with("aws rds modify-db-parameter-group"),
        "{modify}"
    );
    assert!(
        modify.contains(&format!(
            "ParameterName=idle_in_transaction_session_timeout,ParameterValue={ms},\
             ApplyMethod=immediate"
        )),
        "{modify}"
    );
    assert!(
        modify.contains(
            "ParameterName=max_connections,ParameterValue=200,ApplyMethod=pending-reboot"
        ),
        "{modify}"
    );
    // Identifiers from the host name; the default.* branch and the reboot printed.
    assert!(cmds[0]
        .1
        .contains("--db-instance-identifier mydb --region eu-west-1"));
    assert!(cmds
        .iter()
        .any(|c| c.1.contains("create-db-parameter-group") && c.2.contains("default.")));
    assert!(cmds
        .iter()
        .any(|c| c.1.starts_with("aws rds reboot-db-instance")));
    let family = format!("postgres{}", c.version_num() / 10000);
    assert!(cmds.iter().any(|c| c.1.contains(&family)), "{cmds:?}");
    // Nothing changed on the server, nothing recorded.
    assert_eq!(auto_conf(c), before, "postgresql.auto.conf changed");
    let max_after: String = support::superuser_client(c)
        .query_one("SHOW max_connections", &[])
        .unwrap()
        .get(0);
    assert_eq!(max_after, max_before);
    assert!(!hist.exists(), "a history entry was written");

    // People's output says so.
    let text = pgconn()
        .no_cluster_env()
        .args([
            "tune",
            "set",
            "--system",
            "idle_in_transaction_session_timeout=5min",
            "--history",
            hist.to_str().unwrap(),
            "-d",
            &conninfo(c, Some(RDS_HOST), "sim_rds"),
        ])
        .run()
        .assert_code(0);
    assert!(text.stdout.contains("Nothing applied"), "{}", text.stdout);
    assert!(text.stdout.contains("300000"), "{}", text.stdout);
    assert!(
        text.stdout.contains(
            "pgconn tune set the whole server, through the provider (nothing applied here) on "
        ),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("ALTER SYSTEM)"), "{}", text.stdout);
    assert!(!hist.exists());
}

#[test]
fn rds_system_reset_prints_the_reset_form() {
    let c = cluster();
    let before = auto_conf(c);
    let v = pgconn()
        .no_cluster_env()
        .args([
            "tune",
            "reset",
            "--system",
            "statement_timeout",
            "--json",
            "--yes",
            "--platform",
            "aws-rds",
            "-d",
            &conninfo(c, None, "postgres"),
        ])
        .run()
        .assert_code(0)
        .json();
    // Without the provider's host name: placeholders, never a guess.
    let cmds = support::provider_commands(&v);
    assert!(
        cmds[0].1.contains("'<instance-id>' --region '<region>'"),
        "{cmds:?}"
    );
    assert!(
        cmds[1].1.contains(
            "aws rds reset-db-parameter-group --db-parameter-group-name '<parameter-group>'"
        ),
        "{cmds:?}"
    );
    assert_eq!(auto_conf(c), before);
}

#[test]
fn cloud_sql_warns_that_the_flag_list_is_replaced() {
    let c = cluster();
    let before = auto_conf(c);
    let v = pgconn()
        .no_cluster_env()
        .args([
            "tune",
            "set",
            "--system",
            "max_connections=200",
            "idle_in_transaction_session_timeout=5min",
            "--json",
            "--yes",
            "-d",
            &conninfo(c, None, "sim_cloudsql"),
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["platform"], "cloud-sql", "{v}");
    let cmds = support::provider_commands(&v);
    assert!(cmds[0]
        .1
        .starts_with("gcloud sql instances describe '<instance-name>'"));
    assert_eq!(
        cmds[1].1,
        "gcloud sql instances patch '<instance-name>' \
         --database-flags='<every-existing-flag>,max_connections=200,\
         idle_in_transaction_session_timeout=300000'"
    );
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("replaces every flag"), "{warnings}");
    assert!(warnings.contains("may restart"), "{warnings}");
    assert_eq!(auto_conf(c), before);
}

#[test]
fn platform_none_keeps_alter_system() {
    let c = cluster();
    let v = pgconn()
        .no_cluster_env()
        .args([
            "tune",
            "set",
            "--system",
            "idle_in_transaction_session_timeout=5min",
            "--dry-run",
            "--json",
            "--platform",
            "none",
            "-d",
            &conninfo(c, Some(RDS_HOST), "sim_rds"),
        ])
        .run()
        .assert_code(0)
        .json();
    assert!(v.get("provider_commands").is_none(), "{v}");
    assert!(v.get("platform").is_none(), "{v}");
    assert_eq!(v["scope_label"], "the whole server (ALTER SYSTEM)", "{v}");
    let sql = v["changes"][0]["sql"].as_str().unwrap();
    assert!(sql.starts_with("ALTER SYSTEM SET"), "{sql}");
}

#[test]
fn role_scope_is_applied_on_a_managed_platform() {
    let c = cluster();
    let role = unique("app_role");
    support::superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {role}"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hist = dir.path().join("h.jsonl");
    let v = pgconn()
        .no_cluster_env()
        .args([
            "tune",
            "set",
            "--role",
            &role,
            "idle_in_transaction_session_timeout=5min",
            "--json",
            "--yes",
            "--history",
            hist.to_str().unwrap(),
            "-d",
            &conninfo(c, Some(RDS_HOST), "sim_rds"),
        ])
        .run()
        .assert_code(0)
        .json();
    assert_eq!(v["applied"], true, "{v}");
    assert!(v.get("provider_commands").is_none());
    let stored: Vec<String> = support::superuser_client(c)
        .query_one(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole \
             WHERE r.rolname = $1 AND s.setdatabase = 0",
            &[&role],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        stored,
        vec!["idle_in_transaction_session_timeout=5min".to_string()]
    );
    assert!(hist.exists(), "the role change is recorded");
}

#[test]
fn rds_max_connections_is_checked_against_the_instance_memory() {
    let c = cluster();
    let run = |memory: &str| {
        pgconn()
            .no_cluster_env()
            .args([
                "tune",
                "set",
                "--system",
                "max_connections=200",
                "--instance-memory",
                memory,
                "--json",
                "-d",
                &conninfo(c, Some(RDS_HOST), "sim_rds"),
            ])
            .run()
            .assert_code(0)
            .json()
    };
    // 1 GiB: 1073741824 / 9531392 = 112 < 200.
    let small = run("1GiB");
    let w = small["warnings"].to_string();
    assert!(w.contains("= 112"), "{w}");
    assert_eq!(small["applied"], false);
    // 4 GiB: 450 >= 200, no warning.
    let big = run("4GiB");
    assert!(
        !big["warnings"]
            .to_string()
            .contains("DBInstanceClassMemory"),
        "{}",
        big["warnings"]
    );
}
