//! `pgconn watch` against a real PostgreSQL: the log lines when stdout is not a terminal, JSON Lines,
//! reconnecting after the server restarts, and the full-screen view in a pseudo-terminal.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{cluster, pgconn, start_cluster, unique, ClusterOptions, Workload};

/// `2025-01-01T10:00:00Z target used=U/N left=L active=A idle=I idle_in_transaction=T ...`
fn fields(line: &str) -> (String, String, std::collections::HashMap<String, String>) {
    let mut parts = line.split(' ');
    let time = parts.next().unwrap().to_string();
    let target = parts.next().unwrap().to_string();
    let kv = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (time, target, kv)
}

fn is_rfc3339_utc(t: &str) -> bool {
    let b = t.as_bytes();
    t.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && t.chars().filter(char::is_ascii_digit).count() == 14
}

#[test]
fn one_timestamped_line_per_sample_when_not_a_terminal() {
    let c = cluster();
    let tag = unique("watch_lines");
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", &tag).unwrap();
    w.idle_in_transaction(c, 1, "postgres", "postgres", &tag)
        .unwrap();
    let started = Instant::now();
    let out = pgconn()
        .args([
            "watch",
            "--interval",
            "300ms",
            "--count",
            "2",
            "--app",
            &tag,
        ])
        .assert_code(0);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "two samples an interval apart"
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    let max = support::ground_truth_count(c, "SELECT current_setting('max_connections')::int");
    let reserved = support::ground_truth_count(
        c,
        "SELECT current_setting('superuser_reserved_connections')::int",
    );
    for (i, line) in lines.iter().enumerate() {
        let (time, target, kv) = fields(line);
        assert!(is_rfc3339_utc(&time), "{line}");
        assert_eq!(
            target,
            format!("{}:{}/postgres", c.socket_dir().display(), c.port())
        );
        let (used, usable) = kv["used"].split_once('/').unwrap();
        assert_eq!(usable.parse::<i64>().unwrap(), max - reserved, "{line}");
        let used: i64 = used.parse().unwrap();
        assert!(used >= 4, "{line}");
        assert_eq!(kv["left"].parse::<i64>().unwrap(), max - reserved - used);
        assert_eq!(kv["idle"], "2", "{line}");
        assert_eq!(kv["idle_in_transaction"], "1", "{line}");
        assert_eq!(kv["active"], "0", "{line}");
        assert_eq!(
            kv.contains_key("change"),
            i == 1,
            "change since the previous sample: {line}"
        );
    }
}

#[test]
fn json_lines_carry_the_status_report() {
    let c = cluster();
    let tag = unique("watch_json");
    let mut w = Workload::new();
    w.idle(c, 3, "postgres", "postgres", &tag).unwrap();
    let out = pgconn()
        .args([
            "watch",
            "--json",
            "--interval",
            "100ms",
            "--count",
            "2",
            "--app",
            &tag,
        ])
        .assert_code(0);
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for v in &lines {
        assert_eq!(v["ok"], true);
        assert_eq!(v["report"]["states"]["idle"], 3);
        assert!(is_rfc3339_utc(v["time"].as_str().unwrap()));
    }
}

/// Watch a cluster of its own, stop it, start it again: watch says it lost the server, keeps trying and
/// picks up again on its own.
#[test]
fn reconnects_after_the_server_restarts() {
    let mut c = start_cluster(&ClusterOptions::default());
    let mut child = pgconn()
        .env_cluster(&c)
        .args(["watch", "--interval", "200ms", "--count", "500"])
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |what: &str, pred: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let hit = pred(&line);
                    seen.push(line);
                    if hit {
                        return;
                    }
                }
                Err(_) => panic!("no line {what} within 60 s; got:\n{}", seen.join("\n")),
            }
        }
    };
    wait_for("with a sample", &|l| l.contains(" used="));
    wait_for("with a second sample", &|l| l.contains(" used="));
    c.stop().unwrap();
    wait_for("saying disconnected", &|l| {
        l.contains("disconnected, retrying in")
    });
    c.start_again().unwrap();
    wait_for("after reconnecting", &|l| {
        l.contains(" used=") && l.ends_with(" reconnected")
    });
    assert_eq!(child.try_wait().unwrap(), None, "watch keeps running");
    child.kill().unwrap();
    child.wait().unwrap();
    let down = seen.iter().filter(|l| l.contains("disconnected")).count();
    assert!(down >= 1, "{seen:?}");
}

#[test]
fn full_screen_view_quits_on_q_and_restores_the_terminal() {
    let c = cluster();
    let tag = unique("watch_tty");
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", &tag).unwrap();
    let mut cmd = pgconn()
        .args(["watch", "--interval", "200ms", "--app", &tag])
        .command();
    cmd.env("TERM", "xterm").env("NO_COLOR", "1");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.get_process_mut().set_window_size(120, 40).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    p.expect("q quits").unwrap();
    p.expect("capacity").unwrap();
    p.expect("idle in tx").unwrap();
    p.expect(tag.as_str()).unwrap();
    p.send("q").unwrap();
    let rest = p.expect(expectrl::Eof).unwrap();
    let mut tail = String::from_utf8_lossy(rest.before()).to_string();
    for m in rest.matches() {
        tail.push_str(&String::from_utf8_lossy(m));
    }
    assert!(
        tail.contains("\x1b[?1049l"),
        "left the alternate screen: {tail:?}"
    );
    assert!(
        tail.contains("\x1b[?25h"),
        "showed the cursor again: {tail:?}"
    );
    match p.get_process().wait().unwrap() {
        expectrl::WaitStatus::Exited(_, code) => assert_eq!(code, 0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn full_screen_view_fits_80_by_24_with_long_names_cut() {
    let c = cluster();
    let tag = unique("watch_fit");
    let long = format!("{tag}-with-a-long-application-name-from-a-framework");
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", &tag).unwrap();
    w.idle(c, 3, "postgres", "postgres", &long).unwrap();
    let mut cmd = pgconn()
        .args(["watch", "--interval", "200ms", "--app", &format!("{tag}*")])
        .command();
    cmd.env("TERM", "xterm").env("NO_COLOR", "1");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.get_process_mut().set_window_size(80, 24).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    p.expect("q quits").unwrap();
    p.expect("OLDEST IDLE").unwrap();
    // A few more frames, each a full redraw, then quit.
    std::thread::sleep(Duration::from_millis(700));
    p.send("q").unwrap();
    let text = support::until_eof(&mut p);
    let mut screen = support::screen::Screen::new(80, 24);
    screen.feed(&text);
    assert!(screen.overflows.is_empty(), "{:#?}", screen.overflows);
    let lines = screen.lines();
    assert!(
        lines[0].starts_with("pgconn watch") && lines[0].ends_with("q quits"),
        "{lines:#?}"
    );
    // Each group on one row: the long name cut with …, the counts as the server has them.
    let (rows, long_row) = support::screen::group_rows_with_a_cut_name(&lines, &long);
    assert_eq!(rows.len(), 2, "{lines:#?}");
    let count = support::ground_truth_count(
        c,
        &format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{long}'"),
    );
    assert_eq!(
        long_row.split_whitespace().nth(3),
        Some(count.to_string().as_str()),
        "{long_row}"
    );
    match p.get_process().wait().unwrap() {
        expectrl::WaitStatus::Exited(_, code) => assert_eq!(code, 0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn watch_record_feeds_advise_from_with_the_same_peak_and_a_cut_last_line_is_tolerated() {
    let c = cluster();
    let tag = unique("rec");
    let app = format!("{tag}-web");
    let role = support::app_role();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("samples.jsonl");
    // Eight working at first (two for a minute, six for three seconds), then two.
    let mut w = Workload::new();
    w.active(c, 2, &role, "postgres", &app, 60).unwrap();
    w.active(c, 6, &role, "postgres", &app, 3).unwrap();
    let working_at_start = support::ground_truth_count(
        c,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' AND state = 'active'"
        ),
    );
    assert_eq!(working_at_start, 8);
    pgconn()
        .args([
            "watch",
            "--app",
            &app,
            "--interval",
            "1s",
            "--count",
            "5",
            "--record",
        ])
        .arg(&file)
        .run()
        .assert_code(0);
    // Each line: time, target, idle_in_transaction_seconds and the applications' counts.
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{text}");
    let working: Vec<u64> = lines
        .iter()
        .map(|l| {
            assert!(l["time"].as_str().unwrap().ends_with('Z'), "{l}");
            assert!(l["target"].is_string(), "{l}");
            assert_eq!(l["idle_in_transaction_seconds"], 5.0);
            l["applications"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["application"] == app.as_str())
                .map_or(0, |a| a["working"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(working[0], 8, "{working:?}");
    assert_eq!(*working.last().unwrap(), 2, "{working:?}");
    // Recorded with 0600, as every file pgconn writes.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let advise_from = || {
        pgconn()
            .args([
                "advise",
                "--json",
                "--app",
                &app,
                "--rate-window",
                "0s",
                "--from",
            ])
            .arg(&file)
            .run()
            .assert_code(0)
            .json()
    };
    let peak_of = |v: &serde_json::Value| {
        let d = v["sampling"]["applications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["application"] == app.as_str())
            .unwrap_or_else(|| panic!("{v:#}"))
            .clone();
        (d["working_peak"].as_u64().unwrap(), d["working"].clone())
    };
    let v = advise_from();
    assert_eq!(v["sampling"]["samples"], 5, "{v:#}");
    assert_eq!(v["sampling"]["source"], file.display().to_string());
    let (peak, per_sample) = peak_of(&v);
    assert_eq!(peak, *working.iter().max().unwrap());
    assert_eq!(per_sample, serde_json::json!(working));

    // A recording cut by a kill: half a line at the end is left out, with a note.
    let last = text.lines().last().unwrap();
    let mut cut = text.clone();
    cut.push_str(&last[..last.len() / 2]);
    std::fs::write(&file, cut).unwrap();
    let v = advise_from();
    assert_eq!(v["sampling"]["samples"], 5, "{v:#}");
    assert_eq!(peak_of(&v).0, peak);
    assert!(
        v["skipped"]
            .to_string()
            .contains("is cut (a recording ended by a kill?)"),
        "{v:#}"
    );
    // A broken line in the middle is an error naming it.
    std::fs::write(&file, format!("{{\"time\": 1}}\n{text}")).unwrap();
    let out = pgconn()
        .args(["advise", "--app", &app, "--rate-window", "0s", "--from"])
        .arg(&file)
        .run()
        .assert_code(1);
    assert!(
        out.stderr.contains("line 1: not a watch --record sample"),
        "{}",
        out.stderr
    );
}
