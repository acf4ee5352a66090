//! Statement fingerprints (`sessions --by-statement`, `status --by statement`): sessions resting on the
//! same statement with different literals form one group, with the server's query_id when
//! compute_query_id computes it and with a hash of the masked text when not; text the server cut at
//! track_activity_query_size is marked cut; sessions that never ran a statement form their own group.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::*;

/// 30 sessions idle in transaction after `BEGIN; SELECT … WHERE id = <n>` (each its own literal), 10
/// idle after `COMMIT`, and one that never ran a statement, all of application `app`, each with
/// compute_query_id set as asked (superuser-settable per session). Kept open while the returned clients
/// live.
fn workload(c: &Cluster, app: &str, compute_query_id: bool) -> Vec<postgres::Client> {
    static TABLE: std::sync::Once = std::sync::Once::new();
    TABLE.call_once(|| {
        superuser_client(c)
            .batch_execute("CREATE TABLE fp_entity (id int, name text)")
            .unwrap();
    });
    let set = format!(
        "SET compute_query_id = {}",
        if compute_query_id { "on" } else { "off" }
    );
    let mut clients = Vec::new();
    for n in 0..30 {
        let mut s = c.connect(c.superuser(), "postgres", app).unwrap();
        s.batch_execute(&set).unwrap();
        s.batch_execute(&format!(
            "BEGIN; SELECT name FROM fp_entity WHERE id = {} AND name <> 'secret{n}'",
            1000 + n * 7
        ))
        .unwrap();
        clients.push(s);
    }
    for n in 0..10 {
        let mut s = c.connect(c.superuser(), "postgres", app).unwrap();
        s.batch_execute(&set).unwrap();
        s.batch_execute("BEGIN").unwrap();
        s.batch_execute(&format!("UPDATE fp_entity SET name = 'x' WHERE id = {n}"))
            .unwrap();
        s.batch_execute("COMMIT").unwrap();
        clients.push(s);
    }
    clients.push(c.connect(c.superuser(), "postgres", app).unwrap());
    clients
}

/// Ground truth: the server's (state, query_id) of each of the application's sessions, by pid.
fn server_sessions(c: &Cluster, app: &str) -> BTreeMap<i32, (String, Option<i64>)> {
    superuser_client(c)
        .query(
            "SELECT pid, state, query_id FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect()
}

fn check_workload(compute_query_id: bool) {
    let c = cluster();
    let app = unique("fingerprints");
    let _clients = workload(c, &app, compute_query_id);
    let truth = server_sessions(c, &app);
    assert_eq!(truth.len(), 41, "{truth:?}");
    let in_transaction = truth
        .values()
        .filter(|(s, _)| s == "idle in transaction")
        .count();
    assert_eq!(in_transaction, 30, "{truth:?}");
    let with_id = truth.values().filter(|(_, q)| q.is_some()).count();
    if compute_query_id {
        assert_eq!(with_id, 40, "the server computes query_id: {truth:?}");
    } else {
        assert_eq!(with_id, 0, "compute_query_id off: {truth:?}");
    }

    let json = pgconn()
        .env_cluster(c)
        .args(["sessions", "--app", &app, "--by-statement", "--json"])
        .run()
        .assert_code(0)
        .json();
    let groups = json["statements"].as_array().expect("statements");
    assert_eq!(groups.len(), 3, "{groups:#?}");
    let source = if compute_query_id { "query_id" } else { "text" };

    let select = &groups[0];
    assert_eq!(select["sessions"], 30, "{select:#?}");
    assert_eq!(select["states"]["idle_in_transaction"], 30, "{select:#?}");
    assert_eq!(select["statement_source"], source, "{select:#?}");
    assert_eq!(select["statement_cut"], false);
    let text = select["statement_text"].as_str().unwrap();
    assert_eq!(
        text, "BEGIN; SELECT name FROM fp_entity WHERE id = ? AND name <> '…'",
        "literals masked, numbers folded"
    );
    // (`query`, the raw text, is sessions' own column; the fingerprint never carries a literal.)
    assert!(
        groups.iter().all(|g| !g.to_string().contains("secret")),
        "{groups:#?}"
    );

    let commit = &groups[1];
    assert_eq!(commit["sessions"], 10, "{commit:#?}");
    assert_eq!(commit["states"]["idle"], 10, "{commit:#?}");
    assert_eq!(commit["statement_text"], "COMMIT");
    assert_eq!(commit["statement_source"], source);

    let never = &groups[2];
    assert_eq!(never["sessions"], 1, "{never:#?}");
    assert_eq!(never["statement"], "never_queried");
    assert_eq!(never["statement_source"], "never_queried");
    assert_eq!(never["statement_text"], Value::Null);

    // Each session carries its group's fingerprint: with query_id, the server's own id in hex.
    for s in json["sessions"].as_array().unwrap() {
        let pid = s["pid"].as_i64().unwrap() as i32;
        let (state, query_id) = &truth[&pid];
        let expected = match (state.as_str(), query_id) {
            (_, Some(q)) => {
                assert_eq!(s["statement"], format!("{:016x}", *q as u64), "{s:#?}");
                if state == "idle in transaction" {
                    &select["statement"]
                } else {
                    &commit["statement"]
                }
            }
            ("idle in transaction", None) => &select["statement"],
            (_, None) if s["never_queried"] == true => &never["statement"],
            (_, None) => &commit["statement"],
        };
        assert_eq!(&s["statement"], expected, "{s:#?}");
    }

    // status --by statement: the same two groups and the never-queried one, from the status statement.
    let status = pgconn()
        .env_cluster(c)
        .args(["status", "--app", &app, "--by", "statement", "--json"])
        .run()
        .assert_code(0)
        .json();
    let sgroups = status["groups"].as_array().expect("groups");
    let find = |id: &Value| {
        sgroups
            .iter()
            .find(|g| &g["statement"] == id)
            .unwrap_or_else(|| panic!("{id} not in {sgroups:#?}"))
    };
    assert_eq!(sgroups.len(), 3, "{sgroups:#?}");
    let g = find(&select["statement"]);
    assert_eq!(g["sessions"], 30);
    assert_eq!(g["statement_text"], select["statement_text"]);
    assert_eq!(g["statement_cut"], false);
    let g = find(&commit["statement"]);
    assert_eq!(g["sessions"], 10);
    assert_eq!(g["statement_text"], "COMMIT");
    assert_eq!(find(&Value::from("never_queried"))["sessions"], 1);

    // The table names the text, escaped and masked.
    let out = pgconn()
        .env_cluster(c)
        .args(["status", "--app", &app, "--by", "statement", "--wide"])
        .run()
        .assert_code(0);
    let table = out.stdout.clone();
    assert!(
        table.contains("SELECT name FROM fp_entity WHERE id = ?"),
        "{table}"
    );
    assert!(table.contains("(never queried)"), "{table}");
}

#[test]
fn sessions_on_one_statement_form_one_group_with_compute_query_id_on() {
    check_workload(true);
}

#[test]
fn sessions_on_one_statement_form_one_group_with_compute_query_id_off() {
    check_workload(false);
}

#[test]
fn text_longer_than_track_activity_query_size_is_marked_cut() {
    let c = cluster();
    let app = unique("fingerprint_cut");
    let size: i64 = superuser_client(c)
        .query_one(
            "SELECT setting::bigint FROM pg_settings WHERE name = 'track_activity_query_size'",
            &[],
        )
        .unwrap()
        .get(0);
    let mut long = c.connect(c.superuser(), "postgres", &app).unwrap();
    long.batch_execute(&format!(
        "SELECT 1 AS {}",
        "x".repeat(usize::try_from(size).unwrap() + 100)
            .chars()
            .take(60)
            .collect::<String>()
            + &format!(" /* {} */", "y".repeat(usize::try_from(size).unwrap() * 2))
    ))
    .unwrap();
    let mut short = c.connect(c.superuser(), "postgres", &app).unwrap();
    short.batch_execute("SELECT 2").unwrap();
    // Ground truth: the server keeps size − 1 bytes of the long one.
    let lengths: Vec<i32> = superuser_client(c)
        .query(
            "SELECT octet_length(query) FROM pg_stat_activity WHERE application_name = $1 ORDER BY 1",
            &[&app],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(lengths, vec![8, size as i32 - 1]);

    let json = pgconn()
        .env_cluster(c)
        .args(["sessions", "--app", &app, "--by-statement", "--json"])
        .run()
        .assert_code(0)
        .json();
    let cut: BTreeMap<String, bool> = json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["statement_text"].as_str().unwrap().to_string(),
                s["statement_cut"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(cut.len(), 2, "{cut:#?}");
    assert!(!cut["SELECT ?"], "{cut:#?}");
    let (long_text, long_cut) = cut.iter().find(|(t, _)| t.as_str() != "SELECT ?").unwrap();
    assert!(*long_cut, "{long_text}");
    assert!(long_text.starts_with("SELECT ? AS xxx"), "{long_text}");

    let status = pgconn()
        .env_cluster(c)
        .args(["status", "--app", &app, "--by", "statement", "--json"])
        .run()
        .assert_code(0)
        .json();
    let cuts: Vec<bool> = status["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["statement_cut"].as_bool().unwrap())
        .collect();
    assert_eq!(cuts.iter().filter(|c| **c).count(), 1, "{status:#?}");
    assert_eq!(cuts.len(), 2, "{status:#?}");
    drop(long);
}

/// A leak's evidence names the statement most of its idle sessions last ran, in status and in advise.
#[test]
fn a_leak_suspect_names_its_dominant_statement() {
    let c = cluster();
    let app = unique("fingerprint_leak");
    let mut setup = superuser_client(c);
    setup
        .batch_execute("CREATE TABLE IF NOT EXISTS fp_leak_entity (id int)")
        .unwrap();
    let mut clients = Vec::new();
    for n in 0..12 {
        let mut s = c.connect(c.superuser(), "postgres", &app).unwrap();
        s.batch_execute(&format!(
            "select distinct * from fp_leak_entity where id = {n}"
        ))
        .unwrap();
        clients.push(s);
    }
    for _ in 0..3 {
        let mut s = c.connect(c.superuser(), "postgres", &app).unwrap();
        s.batch_execute("SELECT 1").unwrap();
        clients.push(s);
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let args = [
        "--app",
        app.as_str(),
        "--leak-idle-age",
        "1s",
        "--leak-min-sessions",
        "10",
        "--json",
    ];
    let status = pgconn()
        .env_cluster(c)
        .arg("status")
        .args(args)
        .run()
        .json();
    let suspects = status["leak_suspects"].as_array().unwrap();
    assert_eq!(suspects.len(), 1, "{status:#?}");
    let d = &suspects[0]["statement"];
    assert_eq!(d["sessions"], 12, "{d:#?}");
    assert_eq!(d["of_idle"], 15, "{d:#?}");
    assert_eq!(
        d["statement_text"],
        "select distinct * from fp_leak_entity where id = ?"
    );
    let advise = pgconn()
        .env_cluster(c)
        .arg("advise")
        .args(args)
        .run()
        .json();
    let leak = advise["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "leak_suspect")
        .unwrap_or_else(|| panic!("{advise:#?}"));
    let evidence = leak["evidence"].to_string();
    let expected = format!(
        "12 of 15 idle sessions last ran `select distinct * from fp_leak_entity where id = ?` (fp {})",
        d["statement"].as_str().unwrap()
    );
    assert!(evidence.contains(&expected), "{evidence}");

    // Prometheus: no statement label unless asked.
    let prom = |extra: &[&str]| {
        let out = pgconn()
            .env_cluster(c)
            .args(["status", "--format", "prometheus"])
            .args(&args[..6])
            .args(extra)
            .run();
        out.stdout.clone()
    };
    let plain = prom(&[]);
    assert!(plain.contains("pgconn_leak_suspect{"), "{plain}");
    assert!(!plain.contains("statement"), "{plain}");
    let with = prom(&["--leak-statement-metric"]);
    let line = with
        .lines()
        .find(|l| l.starts_with("pgconn_leak_suspect_statement_sessions{"))
        .unwrap_or_else(|| panic!("{with}"));
    assert!(
        line.contains(&format!(
            "statement=\"{}\"",
            d["statement"].as_str().unwrap()
        )),
        "{line}"
    );
    assert!(line.ends_with(" 12"), "{line}");
}

/// A leak suspect whose sessions last ran a text longer than track_activity_query_size: its dominant
/// statement is marked cut, with the counts the server has (status groups idle sessions by their last
/// statement in its one pass over pg_stat_activity).
#[test]
fn a_leak_suspects_cut_statement_is_marked_cut() {
    let c = cluster();
    let app = unique("fingerprint_leak_cut");
    let size: usize = superuser_client(c)
        .query_one(
            "SELECT setting::bigint FROM pg_settings WHERE name = 'track_activity_query_size'",
            &[],
        )
        .unwrap()
        .get::<_, i64>(0)
        .try_into()
        .unwrap();
    let mut clients = Vec::new();
    for n in 0..4 {
        let mut s = c.connect(c.superuser(), "postgres", &app).unwrap();
        s.batch_execute(&format!("SELECT {n} AS x /* {} */", "y".repeat(size * 2)))
            .unwrap();
        clients.push(s);
    }
    let mut short = c.connect(c.superuser(), "postgres", &app).unwrap();
    short.batch_execute("SELECT 2").unwrap();
    clients.push(short);
    // Ground truth: idle sessions of the application, and those whose text the server cut.
    let truth = superuser_client(c)
        .query_one(
            "SELECT count(*) FILTER (WHERE state = 'idle'), \
                    count(*) FILTER (WHERE state = 'idle' AND octet_length(query) = $2::bigint - 1) \
               FROM pg_stat_activity WHERE application_name = $1",
            &[&app, &i64::try_from(size).unwrap()],
        )
        .unwrap();
    let (idle, cut): (i64, i64) = (truth.get(0), truth.get(1));
    assert_eq!((idle, cut), (5, 4));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let status = pgconn()
        .env_cluster(c)
        .args([
            "status",
            "--app",
            &app,
            "--leak-idle-age",
            "1s",
            "--leak-min-sessions",
            "5",
        ])
        .arg("--json")
        .run()
        .json();
    let suspects = status["leak_suspects"].as_array().unwrap();
    assert_eq!(suspects.len(), 1, "{status:#?}");
    assert_eq!(suspects[0]["idle"], idle, "{status:#?}");
    let d = &suspects[0]["statement"];
    assert_eq!(d["sessions"], cut, "{d:#?}");
    assert_eq!(d["of_idle"], idle, "{d:#?}");
    assert_eq!(d["statement_cut"], true, "{d:#?}");
    assert!(
        d["statement_text"]
            .as_str()
            .unwrap()
            .starts_with("SELECT ? AS x"),
        "{d:#?}"
    );
    drop(clients);
}

/// A leak suspect's sessions that share one query_id rest on texts of different lengths (literals are no
/// part of a query_id): the statement shown is one of those texts, and `statement_cut` says whether *that*
/// text was cut, not whether any of the group's was. Each application has 2 sessions on a text the server
/// cut and 3 on a short one; which of the two the server picks as the sample is read from the server's
/// own `min(query)` of those sessions.
#[test]
fn a_leak_suspects_cut_flag_describes_the_text_it_shows() {
    let c = cluster();
    let size: i64 = superuser_client(c)
        .query_one(
            "SELECT setting::bigint FROM pg_settings WHERE name = 'track_activity_query_size'",
            &[],
        )
        .unwrap()
        .get(0);
    let mut clients = Vec::new();
    // (application, the long text's literal starts with, the short one's literal)
    let mut apps = Vec::new();
    for (name, long, short) in [("short_shown", 'b', "a"), ("cut_shown", 'a', "b")] {
        let app = unique(&format!("fingerprint_{name}"));
        for n in 0..5 {
            let mut s = c.connect(c.superuser(), "postgres", &app).unwrap();
            s.batch_execute("SET compute_query_id = on").unwrap();
            let literal = if n < 2 {
                long.to_string().repeat(usize::try_from(size).unwrap() * 2)
            } else {
                short.to_string()
            };
            s.batch_execute(&format!("SELECT '{literal}' AS x"))
                .unwrap();
            clients.push(s);
        }
        apps.push(app);
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for app in &apps {
        // Ground truth: one query_id, 2 texts cut, and whether the text min() picks is cut.
        let truth = superuser_client(c)
            .query_one(
                "SELECT count(DISTINCT query_id), count(*) FILTER (WHERE octet_length(query) >= $2::bigint - 1), \
                        octet_length(min(query)) >= $2::bigint - 1 \
                   FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'",
                &[app, &size],
            )
            .unwrap();
        let (ids, cut, sample_cut): (i64, i64, bool) = (truth.get(0), truth.get(1), truth.get(2));
        assert_eq!((ids, cut), (1, 2), "{app}");
        assert_eq!(sample_cut, app.contains("cut_shown"), "{app}");
        let status = pgconn()
            .env_cluster(c)
            .args([
                "status",
                "--app",
                app,
                "--leak-idle-age",
                "1s",
                "--leak-min-sessions",
                "5",
                "--json",
            ])
            .run()
            .json();
        let suspects = status["leak_suspects"].as_array().unwrap();
        assert_eq!(suspects.len(), 1, "{status:#?}");
        let d = &suspects[0]["statement"];
        assert_eq!(d["sessions"], 5, "{d:#?}");
        assert_eq!(d["statement_source"], "query_id", "{d:#?}");
        assert_eq!(d["statement_cut"], sample_cut, "{app}: {d:#?}");
        if !sample_cut {
            assert_eq!(d["statement_text"], "SELECT '…' AS x", "{d:#?}");
        }
    }
    drop(clients);
}
