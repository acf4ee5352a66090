//! The committed completions/ and man/ files must match what the clap definitions generate.
//! Regenerate them with: UPDATE_DOCS=1 cargo test --test docs

use std::path::Path;

#[test]
fn generated_completions_and_man_pages_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_DOCS").is_some() {
        pgconn::cli::completions::write_generated(root).unwrap();
    }
    let mut stale = Vec::new();
    let files = pgconn::cli::completions::generated_files().unwrap();
    for (rel, expected) in &files {
        match std::fs::read(root.join(rel)) {
            Ok(actual) if &actual == expected => {}
            _ => stale.push(rel.clone()),
        }
    }
    // Files left over from removed subcommands are stale too.
    for dir in ["completions", "man"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let rel = format!("{dir}/{}", entry.unwrap().file_name().to_string_lossy());
            if !files.iter().any(|(f, _)| *f == rel) {
                stale.push(format!("{rel} (no longer generated; delete it)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated docs are out of date: {stale:?}\nregenerate with: UPDATE_DOCS=1 cargo test --test docs"
    );
}

#[test]
fn completions_command_prints_the_generated_script() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pgconn"))
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let expected = pgconn::cli::completions::script(clap_complete::Shell::Bash).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    assert!(expected.contains("kill-idle") && expected.contains("--older-than"));
}

#[test]
fn every_man_page_has_its_synopsis_exit_status_and_environment() {
    let files = pgconn::cli::completions::generated_files().unwrap();
    let page = |name: &str| -> String {
        let (_, text) = files
            .iter()
            .find(|(f, _)| f == &format!("man/{name}.1"))
            .unwrap_or_else(|| panic!("no man page {name}"));
        String::from_utf8(text.clone()).unwrap()
    };
    for name in [
        "pgconn",
        "pgconn-status",
        "pgconn-kill-idle",
        "pgconn-tune",
        "pgconn-tune-set",
        "pgconn-tune-reset",
        "pgconn-tune-undo",
        "pgconn-tune-history",
        "pgconn-tune-presets",
        "pgconn-check",
    ] {
        let text = page(name);
        assert!(text.contains(".SH \"EXIT STATUS\""), "{name}");
        assert!(
            text.contains(".SH \"ENVIRONMENT\"") && text.contains("PGHOST"),
            "{name}"
        );
    }
    assert!(page("pgconn-kill-idle").contains("\\fBpgconn kill\\-idle\\fR"));
    assert!(page("pgconn-tune-set").contains("\\fBpgconn tune set\\fR"));
    assert!(page("pgconn-check").contains("UNKNOWN"));
    assert!(page("pgconn-kill").contains("143"));
}

/// A shell the completion tests need (`.ci/run` installs them).
fn shell(name: &str) -> std::path::PathBuf {
    ["/usr/bin", "/bin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("{name} is needed for the completion tests: apt-get install {name}")
        })
}

fn completions(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("completions")
        .join(file)
        .display()
        .to_string()
}

#[test]
fn fish_completes_subcommands_and_flags_without_errors() {
    let script = completions("pgconn.fish");
    for (line, want) in [
        ("pgconn ", "kill-idle"),
        ("pgconn kill-idle --old", "--older-than"),
        ("pgconn -h db1 status --js", "--json"),
    ] {
        let out = std::process::Command::new(shell("fish"))
            .args(["-c", &format!("source {script}; complete -C '{line}'")])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{line:?}: fish printed errors: {stderr}");
        assert!(
            stdout.lines().any(|l| l.starts_with(want)),
            "{line:?}: {stdout}"
        );
    }
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let script = completions("pgconn.bash");
    for (words, want) in [
        (vec!["pgconn", ""], "kill-idle"),
        (vec!["pgconn", "kill-idle", "--old"], "--older-than"),
    ] {
        let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
        let program = format!(
            "source {script}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE=\"{}\"; COMP_POINT=${{#COMP_LINE}}; \
             _pgconn pgconn \"{}\" \"{}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            quoted.join(" "),
            words.len() - 1,
            words.join(" "),
            words[words.len() - 1],
            words[words.len() - 2]
        );
        let out = std::process::Command::new(shell("bash"))
            .args(["-c", &program])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.lines().any(|l| l == want), "{words:?}: {stdout}");
    }
}

#[test]
fn zsh_completes_subcommands_and_flags() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let home = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(shell("zsh"));
    cmd.args(["-f", "-i"])
        .env("HOME", home.path())
        .env("ZDOTDIR", home.path())
        .env("TERM", "xterm");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    // The prompt is spelt so that the echo of this line does not contain it: the wait below is for the
    // prompt itself, once compinit has run.
    p.send_line(format!(
        "bindkey -e; PS1='rea''dy> '; fpath=({} $fpath); autoload -U compinit; compinit -u",
        dir.display()
    ))
    .unwrap();
    p.expect("ready> ").unwrap();
    // A flag of a subcommand: TAB completes it in the line.
    p.send("pgconn kill-idle --older-t\t").unwrap();
    p.expect("--older-than").unwrap();
    // Ctrl-U (kill-whole-line) empties the line; not Ctrl-C, whose SIGINT, arriving while the
    // completion widget still runs, interrupts it and leaves no new prompt. A key waits its turn.
    p.send("\x15").unwrap();
    // The subcommands: TAB twice lists them.
    p.send("pgconn kill\t\t").unwrap();
    p.expect("kill-idle").unwrap();
    p.send("\x15").unwrap();
    p.send_line("exit").unwrap();
}
