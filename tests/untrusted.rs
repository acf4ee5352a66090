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
