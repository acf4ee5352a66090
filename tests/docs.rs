//! The committed completions/ and man/ files must match what the clap definitions generate.
//! Regenerate them with: UPDATE_DOCS=1 cargo test --test docs

use std::path::Path;

#[test]
fn generated_completions_and_man_pages_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_DOCS").is_some() {
        pgconn::commands::completions::write_generated(root).unwrap();
    }
    let mut stale = Vec::new();
    let files = pgconn::commands::completions::generated_files().unwrap();
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
    let expected = pgconn::commands::completions::script(clap_complete::Shell::Bash).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    assert!(expected.contains("kill-idle") && expected.contains("--older-than"));
}

#[test]
fn every_man_page_has_its_synopsis_exit_status_and_environment() {
    let files = pgconn::commands::completions::generated_files().unwrap();
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
