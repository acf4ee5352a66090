//! Text from the server and its clients is untrusted on a terminal: a role name, a database name or a
//! query with escape sequences or line breaks must show up escaped in every table, preview, watch view,
//! check line and error, never erase the screen or fake a row of the kill preview.

mod support;

use std::time::Duration;

use support::{cluster, pgconn, unique};

/// A role name that clears the screen, moves the cursor home and starts a fake row.
fn hostile_role(tag: &str) -> String {
    format!("{tag}\x1b[2J\x1b[H\nFAKE 4242 postgres")
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// No raw escape character, and no line that starts with the faked text.
fn assert_safe(what: &str, text: &str) {
    assert!(
        !text.contains('\x1b'),
        "{what}: a raw escape character reached the terminal:\n{text:?}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("FAKE 4242")),
        "{what}: a line break from the server started a line of its own:\n{text}"
    );
}

#[test]
fn names_and_queries_with_escape_sequences_are_shown_escaped() {
    let c = cluster();
    let tag = unique("hostile");
    let role = hostile_role(&tag);
    support::superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {} LOGIN", quote_ident(&role)))
        .unwrap();
    let mut client = c.connect(&role, "postgres", &tag).unwrap();
    client
        .batch_execute("SELECT '\x1b]0;owned\x07\x1b[31m' AS x")
        .unwrap();

    for args in [
        vec!["sessions", "--app", &tag],
        vec!["status", "--app", &tag, "--by", "user,application"],
        vec![
            "kill-idle",
            "--older-than",
            "0s",
            "--app",
            &tag,
            "--dry-run",
        ],
        vec!["kill", "--app", &tag, "--yes"],
    ] {
        let out = pgconn().args(["--color", "never"]).args(&args).run();
        let all = format!("{}{}", out.stdout, out.stderr);
        assert_safe(&args.join(" "), &all);
        if args[0] != "kill" {
            assert!(
                out.stdout.contains("\\x1b[2J\\x1b[H\\nFAKE 4242"),
                "{}: the name is shown, escaped:\n{}",
                args.join(" "),
                out.stdout
            );
        }
    }
    // The kill above terminated the session; JSON keeps the real name (serde escapes it).
    assert!(support::wait_until(Duration::from_secs(10), || {
        support::server_pids(&tag, None).is_empty()
    }));
}

#[test]
fn server_error_messages_and_check_lines_are_escaped() {
    let db = format!("{}\x1b[2J\nFAKE 4242 row", unique("nodb"));
    let out = pgconn().args(["-d", &db, "status"]).run().assert_code(1);
    assert_safe("status error", &out.stderr);
    assert!(out.stderr.contains("\\x1b[2J"), "{}", out.stderr);
    let out = pgconn().args(["-d", &db, "check"]).run();
    assert_safe("check line", &format!("{}{}", out.stdout, out.stderr));
    assert_eq!(
        out.stdout.lines().count(),
        1,
        "one plugin line: {}",
        out.stdout
    );
}

#[test]
fn the_watch_view_shows_hostile_names_escaped() {
    let c = cluster();
    let tag = unique("hostilewatch");
    let role = hostile_role(&tag);
    support::superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {} LOGIN", quote_ident(&role)))
        .unwrap();
    let mut client = c.connect(&role, "postgres", &tag).unwrap();
    client.batch_execute("SELECT 1").unwrap();
    let mut cmd = pgconn()
        .args([
            "--color",
            "never",
            "watch",
            "--app",
            &tag,
            "--by",
            "user",
            "--interval",
            "200ms",
            "--count",
            "2",
        ])
        .command();
    cmd.env("TERM", "xterm");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    let screen = support::until_eof(&mut p);
    // The view draws with its own cursor moves ([row;colH, [K, [J); the name's clear-screen and cursor
    // home never reach the terminal, they are shown escaped.
    assert!(
        !screen.contains("\x1b[2J") && !screen.contains("\x1b[H"),
        "{screen:?}"
    );
    assert!(screen.contains(&format!("{tag}\\x1b[2J")), "{screen:?}");
}

/// A label value as the exposition format writes it: only `\`, `"` and a line feed escaped.
fn exposition_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Prometheus text (status and check) carries names to a pipe or a file as the exposition format has
/// them: the exact bytes, escape character included, with only `\`, `"` and line feeds escaped. On a
/// terminal the same names are shown escaped as the tables show them: no escape sequence reaches it.
#[test]
fn prometheus_text_is_exact_in_a_pipe_and_escaped_on_a_terminal() {
    let c = cluster();
    let tag = unique("hostileprom");
    let role = hostile_role(&tag);
    support::superuser_client(c)
        .batch_execute(&format!("CREATE ROLE {} LOGIN", quote_ident(&role)))
        .unwrap();
    let mut client = c.connect(&role, "postgres", &tag).unwrap();
    client.batch_execute("SELECT 1").unwrap();
    let raw_label = format!("user=\"{}\"", exposition_label(&role));
    assert!(raw_label.contains('\x1b'));
    let status = ["status", "--format", "prometheus", "--app", &tag];
    let check = ["check", "--format", "prometheus", "--app", &tag];

    // A pipe: the exact bytes, as the format allows them.
    for args in [&status[..], &check[..]] {
        let out = pgconn().args(args).assert_code(0);
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with("pgconn_group_sessions{"))
            .unwrap_or_else(|| panic!("{}", out.stdout));
        assert!(
            line.contains(&format!("{raw_label},application=\"{tag}\"}} 1")),
            "{}: {line:?}",
            args[0]
        );
    }
    // A file: the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgconn.prom");
    pgconn()
        .args(status)
        .arg("--output")
        .arg(&file)
        .assert_code(0);
    assert!(std::fs::read_to_string(&file).unwrap().contains(&raw_label));

    // A terminal: escaped like the tables (the format's own `\n` stays as it is).
    for args in [&status[..], &check[..]] {
        let mut cmd = pgconn().args(["--color", "never"]).args(args).command();
        cmd.env("TERM", "xterm");
        let mut p = expectrl::Session::spawn(cmd).unwrap();
        p.set_expect_timeout(Some(Duration::from_secs(30)));
        let screen = support::until_eof(&mut p);
        assert_safe(args[0], &screen);
        assert!(
            screen.contains(&format!(
                "user=\"{tag}\\x1b[2J\\x1b[H\\nFAKE 4242 postgres\",application=\"{tag}\"}} 1"
            )),
            "{}: {screen:?}",
            args[0]
        );
    }
}
