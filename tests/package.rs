//! The Debian package, installed on this machine and removed again: what `cargo deb` built from
//! `[package.metadata.deb]` in Cargo.toml.
//!
//! Runs only when given a package: `PGCONN_TEST_DEB=target/debian/pgconn_….deb cargo test --test package`
//! (as root; `.ci/run` builds the package once and runs this). Without the variable it says it skipped
//! and passes, so that `cargo test` runs on a machine without cargo-deb. Given one, it refuses to touch a
//! machine where pgconn is already installed (it would remove it), and it purges the package again however
//! it ends (a guard), checking that nothing it installed is left.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const PACKAGE: &str = "pgconn";

/// Every file the package may install, but the man pages (one per file in man/, gzipped).
const FILES: [&str; 9] = [
    "/usr/bin/pgconn",
    "/usr/share/bash-completion/completions/pgconn",
    "/usr/share/zsh/vendor-completions/_pgconn",
    "/usr/share/fish/vendor_completions.d/pgconn.fish",
    "/lib/systemd/system/pgconn-exporter.service",
    "/usr/share/doc/pgconn/README.md",
    "/usr/share/doc/pgconn/copyright",
    "/usr/share/doc/pgconn/changelog.Debian.gz",
    "/usr/share/lintian/overrides/pgconn",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn installed() -> bool {
    let out = run("dpkg-query", &["-W", "-f=${db:Status-Status}", PACKAGE]);
    out.status.success() && text(&out.stdout).trim() != "not-installed"
}

/// Purges the package when dropped, however the test ends.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        if installed() {
            let out = run("dpkg", &["--purge", PACKAGE]);
            if !out.status.success() {
                eprintln!(
                    "package test: dpkg --purge {PACKAGE} failed: {}{}",
                    text(&out.stdout),
                    text(&out.stderr)
                );
            }
        }
    }
}

/// The man pages the repository generates, as the package installs them.
fn man_pages() -> Vec<(String, PathBuf)> {
    let mut pages: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("man"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "1"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (format!("/usr/share/man/man1/{name}.gz"), p)
        })
        .collect();
    pages.sort();
    pages
}

/// Whether dpkg is told to leave out files under `dir` (`path-exclude` in /etc/dpkg/dpkg.cfg.d/, as
/// minimal container images do for /usr/share/man): the lines that say so.
fn dpkg_excludes(dir: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let Ok(entries) = std::fs::read_dir("/etc/dpkg/dpkg.cfg.d") else {
        return lines;
    };
    for e in entries.flatten() {
        let Ok(body) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        for l in body.lines() {
            let l = l.trim();
            if let Some(glob) = l
                .strip_prefix("path-exclude")
                .map(|g| g.trim_start_matches(['=', ' ']))
            {
                if glob.starts_with(dir) {
                    lines.push(format!("{}: {l}", e.path().display()));
                }
            }
        }
    }
    lines
}

/// The names of an ELF64 little-endian file's sections.
fn elf_sections(bytes: &[u8]) -> Vec<String> {
    assert!(
        bytes.len() > 64 && &bytes[..4] == b"\x7fELF" && bytes[4] == 2 && bytes[5] == 1,
        "not an ELF64 little-endian file"
    );
    let u16_at = |o: usize| u16::from_le_bytes(bytes[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18);
    (0..shnum)
        .map(|i| {
            let start = strtab + u32_at(header(i));
            let end = start + bytes[start..].iter().position(|b| *b == 0).unwrap();
            text(&bytes[start..end])
        })
        .collect()
}

/// `pgconn k<TAB>` in bash, through bash-completion's loader: it finds the file where bash looks for it
/// (XDG_DATA_DIRS is /usr/share only, so not /usr/local's nor the repository's).
fn bash_completes(home: &Path) -> Vec<String> {
    let loader = "/usr/share/bash-completion/bash_completion";
    assert!(
        Path::new(loader).exists(),
        "{loader} is needed to load the installed completion as bash does: apt-get install \
         bash-completion (.ci/run does)"
    );
    let program = format!(
        "source {loader}; __load_completion pgconn || exit 3; shopt -s extdebug; \
         declare -F _pgconn >&2; \
         COMP_WORDS=(pgconn k); COMP_CWORD=1; COMP_LINE='pgconn k'; COMP_POINT=8; \
         _pgconn pgconn k pgconn; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let out = Command::new("bash")
        .args(["-c", &program])
        .env("HOME", home)
        .env("XDG_DATA_DIRS", "/usr/share")
        .env_remove("BASH_COMPLETION_USER_DIR")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "bash ({}): {stderr}{}",
        out.status,
        text(&out.stdout)
    );
    // declare -F with extdebug: "_pgconn LINE FILE".
    assert!(
        stderr
            .trim()
            .ends_with("/usr/share/bash-completion/completions/pgconn"),
        "bash loaded _pgconn from elsewhere: {stderr}"
    );
    text(&out.stdout).lines().map(str::to_string).collect()
}

/// `pgconn k<TAB>` in fish: fish finds the completion itself in its vendor directory.
fn fish_completes(home: &Path) -> Vec<String> {
    let out = Command::new("fish")
        .args(["-c", "complete -C 'pgconn k'"])
        .env("HOME", home)
        .env("XDG_DATA_DIRS", "/usr/share")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "fish ({}): {stderr}",
        out.status
    );
    text(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_string())
        .collect()
}

/// `pgconn k<TAB><TAB>` in an interactive zsh whose fpath is its own default: compinit finds the
/// completion in /usr/share/zsh/vendor-completions, and zsh says where the function came from.
fn zsh_completes(home: &Path) {
    let mut cmd = Command::new("zsh");
    cmd.args(["-f", "-i"])
        .env("HOME", home)
        .env("ZDOTDIR", home)
        .env("TERM", "xterm");
    let mut p = expectrl::Session::spawn(cmd).unwrap();
    p.set_expect_timeout(Some(Duration::from_secs(60)));
    // The prompt is spelt so that the echo of this line does not contain it.
    p.send_line("bindkey -e; PS1='rea''dy> '; autoload -U compinit; compinit -u")
        .unwrap();
    p.expect("ready> ").unwrap();
    p.send("pgconn k\t\t").unwrap();
    p.expect("kill-idle").unwrap();
    // Ctrl-U empties the line (see tests/docs.rs on why not Ctrl-C).
    p.send("\x15").unwrap();
    p.send_line("print -r -- from:${functions_source[_pgconn]}:")
        .unwrap();
    p.expect("from:/usr/share/zsh/vendor-completions/_pgconn:")
        .unwrap();
    p.send_line("exit").unwrap();
}

#[test]
fn the_package_installs_where_the_system_looks_and_removes_cleanly() {
    let Some(deb) = std::env::var_os("PGCONN_TEST_DEB").filter(|v| !v.is_empty()) else {
        eprintln!(
            "skipped: the Debian package test (PGCONN_TEST_DEB is not set). It installs a package and \
             removes it again, as root: `cargo deb`, then PGCONN_TEST_DEB=$(ls target/debian/pgconn_*.deb) \
             cargo test --test package; .ci/run does both"
        );
        return;
    };
    let deb = std::fs::canonicalize(&deb)
        .unwrap_or_else(|e| panic!("PGCONN_TEST_DEB={}: {e}", Path::new(&deb).display()));
    let deb_str = deb.to_str().unwrap();
    assert!(
        nix::unistd::geteuid().is_root(),
        "the package test installs {deb_str} with apt-get and removes it: run it as root"
    );
    assert!(
        !installed(),
        "pgconn is already installed on this machine ({}); the test would remove it: dpkg --purge \
         pgconn first",
        ok("dpkg-query", &["-W", PACKAGE]).trim()
    );

    // The control fields: the name, the version of this crate, the section, Depends from the binary.
    let field = |name: &str| ok("dpkg-deb", &["-f", deb_str, name]).trim().to_string();
    assert_eq!(field("Package"), PACKAGE);
    assert!(
        field("Version").starts_with(&format!("{}-", env!("CARGO_PKG_VERSION"))),
        "{}",
        field("Version")
    );
    assert_eq!(field("Section"), "database");
    let depends = field("Depends");
    for lib in ["libc6", "libssl3"] {
        assert!(depends.contains(lib), "Depends: {depends} (no {lib})");
    }
    assert!(
        field("Description").lines().count() > 3,
        "no extended description"
    );

    // Which of the directories the package owns exist before it is installed: the others must be gone
    // once it is purged.
    let pages = man_pages();
    assert!(pages.len() >= 18, "only {} man pages in man/", pages.len());
    let mut wanted: BTreeSet<String> = FILES.iter().map(|f| f.to_string()).collect();
    wanted.extend(pages.iter().map(|(p, _)| p.clone()));
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    for f in &wanted {
        let mut p = Path::new(f.as_str());
        while let Some(parent) = p.parent() {
            dirs.insert(parent.display().to_string());
            p = parent;
        }
    }
    let existed: BTreeSet<&String> = dirs.iter().filter(|d| Path::new(d).exists()).collect();
    for f in &wanted {
        assert!(
            !Path::new(f).exists(),
            "{f} exists before the package is installed: the test cannot tell whether it removes it"
        );
    }

    let _purge = Purge;
    // apt-get, as the README says: it also installs whatever Depends names and is missing.
    ok(
        "apt-get",
        &["install", "-y", "-q", "--no-install-recommends", deb_str],
    );
    assert!(installed());

    // The binary: runs, says its version, and is stripped (no symbol table, no debug sections).
    let version = ok("/usr/bin/pgconn", &["--version"]);
    assert_eq!(
        version.trim(),
        format!("pgconn {}", env!("CARGO_PKG_VERSION"))
    );
    let sections = elf_sections(&std::fs::read("/usr/bin/pgconn").unwrap());
    assert!(
        sections.iter().any(|s| s == ".text"),
        "cannot read the section names of /usr/bin/pgconn: {sections:?}"
    );
    assert!(
        !sections
            .iter()
            .any(|s| s == ".symtab" || s.starts_with(".debug")),
        "/usr/bin/pgconn is not stripped: {sections:?}"
    );
    assert_eq!(
        text(&run("which", &["pgconn"]).stdout).trim(),
        "/usr/bin/pgconn"
    );

    // dpkg -L: nothing outside the expected files and their directories, and each of them there.
    let listed: BTreeSet<String> = ok("dpkg", &["-L", PACKAGE])
        .lines()
        .filter(|l| *l != "/.")
        .map(str::to_string)
        .collect();
    let stray: Vec<&String> = listed
        .iter()
        .filter(|l| !wanted.contains(*l) && !dirs.contains(*l))
        .collect();
    assert!(stray.is_empty(), "dpkg -L {PACKAGE} lists more: {stray:?}");
    let missing: Vec<&String> = wanted.iter().filter(|f| !listed.contains(*f)).collect();
    assert!(missing.is_empty(), "dpkg -L {PACKAGE} lacks {missing:?}");

    // The completions and the unit are the repository's files.
    for (installed_at, repo) in [
        (FILES[1], "completions/pgconn.bash"),
        (FILES[2], "completions/_pgconn"),
        (FILES[3], "completions/pgconn.fish"),
        (FILES[4], "monitoring/systemd/pgconn-exporter.service"),
        (FILES[5], "README.md"),
        (FILES[8], "packaging/lintian-overrides"),
    ] {
        assert!(
            std::fs::read(installed_at).unwrap() == std::fs::read(root().join(repo)).unwrap(),
            "{installed_at} is not the repository's {repo} (a package built from another tree?)"
        );
    }
    // Debian's changelog: its latest entry is this version.
    let changelog = text(&run("gzip", &["-dc", FILES[7]]).stdout);
    assert!(
        changelog.starts_with(&format!("pgconn ({}-", env!("CARGO_PKG_VERSION"))),
        "packaging/changelog's first entry is not this version ({}): {}",
        env!("CARGO_PKG_VERSION"),
        changelog.lines().next().unwrap_or("")
    );
    let copyright = std::fs::read_to_string(FILES[6]).unwrap();
    assert!(
        copyright.contains("MIT") && copyright.contains("Apache-2.0"),
        "{copyright}"
    );

    // The man pages, gzipped as Debian policy wants, each the repository's; man finds them.
    let excluded = dpkg_excludes("/usr/share/man");
    if excluded.is_empty() {
        for (path, repo) in &pages {
            let out = run("gzip", &["-dc", path]);
            assert!(
                out.status.success(),
                "gzip -dc {path}: {}",
                text(&out.stderr)
            );
            assert!(
                out.stdout == std::fs::read(repo).unwrap(),
                "{path} is not the repository's {} (a package built from another tree?)",
                repo.display()
            );
        }
        let found = ok("man", &["-w", "pgconn", "pgconn-rescue"]);
        assert_eq!(
            found.lines().collect::<Vec<_>>(),
            [
                "/usr/share/man/man1/pgconn.1.gz",
                "/usr/share/man/man1/pgconn-rescue.1.gz"
            ],
            "{found}"
        );
        let out = Command::new("man")
            .arg("pgconn-rescue")
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let page = text(&out.stdout);
        assert!(
            out.status.success() && page.contains("EXIT STATUS"),
            "man pgconn-rescue ({}): {page}{}",
            out.status,
            text(&out.stderr)
        );
    } else {
        // dpkg leaves these out on this machine: they are in the package (dpkg -L listed them) but not on
        // disk, and man cannot find them. Nothing pgconn can change; said loudly.
        eprintln!(
            "package test: NOT checking that man finds the pages: dpkg excludes /usr/share/man on this \
             machine ({}). Remove that line (minimal images add it) and reinstall to get man pages.",
            excluded.join("; ")
        );
    }

    // bash, zsh and fish complete `pgconn k<TAB>` from the installed files, found where each shell looks.
    let home = tempfile::tempdir().unwrap();
    for (shell, got) in [
        ("bash", bash_completes(home.path())),
        ("fish", fish_completes(home.path())),
    ] {
        for want in ["kill", "kill-idle"] {
            assert!(
                got.iter().any(|g| g == want),
                "{shell}: pgconn k<TAB> gave {got:?}, not {want}"
            );
        }
        assert!(
            !got.iter().any(|g| !g.starts_with('k')),
            "{shell}: pgconn k<TAB> gave {got:?}"
        );
    }
    zsh_completes(home.path());

    // Removed, then purged: none of its files, nor a directory it created, is left.
    ok("dpkg", &["-r", PACKAGE]);
    for f in &wanted {
        assert!(!Path::new(f).exists(), "{f} is left after dpkg -r");
    }
    ok("dpkg", &["--purge", PACKAGE]);
    assert!(
        !installed(),
        "{PACKAGE} is still known to dpkg after --purge"
    );
    let left: Vec<&String> = dirs
        .iter()
        .filter(|d| !existed.contains(d) && Path::new(d).exists())
        .collect();
    assert!(left.is_empty(), "left after dpkg --purge: {left:?}");
    let out = run("man", &["-w", "pgconn"]);
    assert!(
        !out.status.success(),
        "man still finds pgconn after the purge: {}",
        text(&out.stdout)
    );
}
