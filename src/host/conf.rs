//! The settings a cluster's titles depend on (`cluster_name`, `update_process_title`), read without a
//! connection: from the postmaster's command line (`-c name=value`, `--name=value`, highest priority),
//! then postgresql.auto.conf over postgresql.conf (with its `include`, `include_if_exists` and
//! `include_dir` directives), as the server reads them at start and on reload. Lines are read with the
//! server's own scanner rules (guc-file.l): its tokens, its quoting (`''`, `\b \f \n \r \t`, octal
//! `\ooo`), and a line the server would refuse is reported, never guessed at.
//!
//! Every file and directory read is remembered with the time it last changed (its ctime, which no
//! user can set back), so that `rescue` can tell which backends started after the configuration last
//! changed.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::setting;

/// A setting's value and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The value as the server reads it (not valid UTF-8 is replaced, which no boolean reads as).
    pub value: String,
    /// `command line` or a file path with its line (`/etc/postgresql/15/main/postgresql.conf:42`).
    pub source: String,
}

/// A file or directory the configuration was read from, and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub path: PathBuf,
    /// A symbolic link on the way to a file read (its own change time counts).
    pub link: bool,
    /// Its status change time (ctime): set by the kernel on every write, rename or chmod, and not
    /// settable by any user (unlike the modification time).
    pub changed: SystemTime,
}

impl Found {
    /// The value as a boolean, as the server reads it from this file ([`setting::parse_bool`] on the
    /// de-escaped value); None when it is not one.
    pub fn boolean(&self) -> Option<bool> {
        setting::parse_bool(&self.value)
    }
}

/// The settings found, by lower-case name, and the files that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub values: BTreeMap<String, Found>,
    /// Configuration files that exist (or are included) but could not be read, with why.
    pub unreadable: Vec<String>,
    /// Every file read, every `include_dir` directory listed, and for a file that does not exist
    /// (`include_if_exists`, postgresql.auto.conf) the directory it would be in: a change to any of
    /// them may have changed what the server reads.
    pub read: Vec<Read>,
}

impl Settings {
    pub fn get(&self, name: &str) -> Option<&Found> {
        self.values.get(name)
    }

    /// The configuration's last change: the newest ctime of everything read (None when nothing was).
    pub fn last_change(&self) -> Option<&Read> {
        self.read.iter().max_by_key(|r| r.changed)
    }
}

fn ctime(meta: &fs::Metadata) -> SystemTime {
    let secs = meta.ctime();
    let nanos = meta.ctime_nsec().clamp(0, 999_999_999) as u32;
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::new(secs as u64, nanos)
    } else {
        SystemTime::UNIX_EPOCH
    }
}

/// When `path` last changed: the file (or directory) it leads to, or, with `link`, the symbolic link
/// itself.
fn changed(path: &Path, link: bool) -> std::io::Result<SystemTime> {
    let meta = if link {
        fs::symlink_metadata(path)?
    } else {
        fs::metadata(path)?
    };
    Ok(ctime(&meta))
}

/// Remember `path` (a file or directory) as read; one that cannot be examined is unreadable. A symbolic
/// link on the way counts too (the path itself, or a directory above it): pointing it at another file
/// changes what the server reads without changing any file's own change time.
fn remember(path: &Path, s: &mut Settings) {
    match changed(path, false) {
        Ok(t) => s.read.push(Read {
            path: path.to_path_buf(),
            link: false,
            changed: t,
        }),
        Err(e) => {
            s.unreadable.push(format!("{}: {e}", path.display()));
            return;
        }
    }
    for link in path.ancestors() {
        if let Ok(meta) = fs::symlink_metadata(link) {
            if meta.file_type().is_symlink() {
                s.read.push(Read {
                    path: link.to_path_buf(),
                    link: true,
                    changed: ctime(&meta),
                });
            }
        }
    }
}

impl Settings {
    /// The configuration's last change as it is now: every file, directory and link read, examined
    /// again (not read again). Err when one of them can no longer be examined.
    pub fn last_change_now(&self) -> std::result::Result<Option<Read>, String> {
        let mut newest: Option<Read> = None;
        for r in &self.read {
            let t = changed(&r.path, r.link).map_err(|e| format!("{}: {e}", r.path.display()))?;
            if newest.as_ref().is_none_or(|n| t > n.changed) {
                newest = Some(Read {
                    changed: t,
                    ..r.clone()
                });
            }
        }
        Ok(newest)
    }
}

/// The settings of the cluster whose data directory is `pgdata` and whose postmaster runs with `args`:
/// postgresql.conf is `-c config_file=` or in `config_dir` (the postmaster's -D, which is the data
/// directory unless postgresql.conf moves it with data_directory); postgresql.auto.conf is in the data
/// directory.
pub fn read(pgdata: &Path, config_dir: &Path, args: &[String]) -> Settings {
    let mut s = Settings::default();
    let cmdline = command_line_settings(args);
    let config_file = cmdline
        .get("config_file")
        .map(|v| PathBuf::from(&v.value))
        .unwrap_or_else(|| config_dir.join("postgresql.conf"));
    if config_file.is_relative() {
        // Relative to the directory the postmaster was started in, which it has left.
        s.unreadable.push(format!(
            "config_file {} is relative to the directory the server was started in, which pgconn \
             cannot know",
            config_file.display()
        ));
    } else {
        read_file(&config_file, &mut s, 0, true);
    }
    read_file(&pgdata.join("postgresql.auto.conf"), &mut s, 0, false);
    s.values.extend(cmdline);
    s
}

/// `-c name=value`, `-cname=value` and `--name=value` of the postmaster's arguments (dashes in names
/// are underscores, as the server reads them).
pub fn command_line_settings(args: &[String]) -> BTreeMap<String, Found> {
    let mut out = BTreeMap::new();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        let pair = if a == "-c" {
            i += 1;
            args.get(i).map(String::as_str)
        } else if let Some(rest) = a.strip_prefix("-c") {
            Some(rest)
        } else {
            a.strip_prefix("--")
        };
        if let Some((name, value)) = pair.and_then(|p| p.split_once('=')) {
            out.insert(
                name.trim().replace('-', "_").to_ascii_lowercase(),
                Found {
                    value: value.to_string(),
                    source: "the postmaster's command line".into(),
                },
            );
        }
        i += 1;
    }
    out
}

/// Read one configuration file into `s` (later lines win), following its include directives.
fn read_file(path: &Path, s: &mut Settings, depth: usize, required: bool) {
    if depth > 10 {
        s.unreadable
            .push(format!("{}: includes nested too deeply", path.display()));
        return;
    }
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            // Were it created, the server would read it: its directory's change time tells.
            remember(path.parent().unwrap_or(Path::new("/")), s);
            return;
        }
        Err(e) => {
            s.unreadable.push(format!("{}: {e}", path.display()));
            return;
        }
    };
    remember(path, s);
    let dir = path.parent().unwrap_or(Path::new("/"));
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        let (name, value) = match parse_line(line) {
            Line::Empty => continue,
            Line::Setting(name, value) => (name, value),
            Line::Invalid => {
                // The server refuses a file with such a line (and keeps its old values on a reload).
                s.unreadable.push(format!(
                    "{}:{}: a line PostgreSQL cannot read either",
                    path.display(),
                    n + 1
                ));
                continue;
            }
        };
        let resolve = |p: &[u8]| {
            let p = Path::new(OsStr::from_bytes(p));
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                dir.join(p)
            }
        };
        match name.as_str() {
            "include" => read_file(&resolve(&value), s, depth + 1, true),
            "include_if_exists" => read_file(&resolve(&value), s, depth + 1, false),
            "include_dir" => {
                let d = resolve(&value);
                match fs::read_dir(&d) {
                    Ok(entries) => {
                        remember(&d, s);
                        // As the server: names ending in .conf, not starting with a dot; each is
                        // examined (following links), and one that cannot be fails the whole read.
                        let mut files: Vec<PathBuf> = Vec::new();
                        for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                            let name = p.file_name().map(OsStr::as_bytes).unwrap_or(b"");
                            if name.starts_with(b".") || !name.ends_with(b".conf") {
                                continue;
                            }
                            match fs::metadata(&p) {
                                Ok(m) if m.is_file() => files.push(p),
                                Ok(_) => {}
                                Err(e) => s.unreadable.push(format!("{}: {e}", p.display())),
                            }
                        }
                        files.sort();
                        for f in files {
                            read_file(&f, s, depth + 1, true);
                        }
                    }
                    Err(e) => s.unreadable.push(format!("{}: {e}", d.display())),
                }
            }
            _ => {
                s.values.insert(
                    name,
                    Found {
                        value: String::from_utf8_lossy(&value).into_owned(),
                        source: format!("{}:{}", path.display(), n + 1),
                    },
                );
            }
        }
    }
}

/// A line of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Blank or a comment.
    Empty,
    /// A setting (or an include directive): its lower-case name and its value, as the server reads
    /// them (a quoted value with its quotes and escapes undone).
    Setting(String, Vec<u8>),
    /// Something PostgreSQL would refuse (an unterminated quote, no name, no value, a stray character).
    Invalid,
}

/// The tokens of the server's configuration scanner (guc-file.l), in its rule order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Id,
    QualifiedId,
    String,
    UnquotedString,
    Integer,
    Real,
    Equals,
    Error,
}

fn is_letter(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_letter_or_digit(b: u8) -> bool {
    is_letter(b) || b.is_ascii_digit()
}

/// Length of `{LETTER}{LETTER_OR_DIGIT}*` at the start of `s`.
fn id_len(s: &[u8]) -> usize {
    match s.first() {
        Some(&b) if is_letter(b) => {
            1 + s[1..]
                .iter()
                .take_while(|&&b| is_letter_or_digit(b))
                .count()
        }
        _ => 0,
    }
}

/// Length of a quoted string at the start of `s`: `'([^'\\\n]|\\.|'')*'` (a line has no newline).
fn string_len(s: &[u8]) -> usize {
    if s.first() != Some(&b'\'') {
        return 0;
    }
    let mut i = 1;
    loop {
        match s.get(i) {
            None => return 0,
            Some(b'\\') => {
                if i + 1 >= s.len() {
                    return 0;
                }
                i += 2;
            }
            Some(b'\'') if s.get(i + 1) == Some(&b'\'') => i += 2,
            Some(b'\'') => return i + 1,
            Some(_) => i += 1,
        }
    }
}

/// Length of `{SIGN}?({DIGIT}+|0x{HEXDIGIT}+){UNIT_LETTER}*` (the longer of its two readings).
fn integer_len(s: &[u8]) -> usize {
    let sign = usize::from(matches!(s.first(), Some(b'-' | b'+')));
    let rest = &s[sign..];
    let units = |from: usize| {
        rest[from..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count()
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let decimal = if digits > 0 {
        digits + units(digits)
    } else {
        0
    };
    let hex = if rest.starts_with(b"0x") {
        match rest[2..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count()
        {
            0 => 0,
            n => 2 + n + units(2 + n),
        }
    } else {
        0
    };
    match decimal.max(hex) {
        0 => 0,
        n => sign + n,
    }
}

/// Length of `{SIGN}?{DIGIT}*"."{DIGIT}*([Ee]{SIGN}?{DIGIT}+)?`.
fn real_len(s: &[u8]) -> usize {
    let sign = usize::from(matches!(s.first(), Some(b'-' | b'+')));
    let mut i = sign + s[sign..].iter().take_while(|b| b.is_ascii_digit()).count();
    if s.get(i) != Some(&b'.') {
        return 0;
    }
    i += 1;
    i += s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let exp = s[j..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp > 0 {
            i = j + exp;
        }
    }
    i
}

/// The next token of `s` (which starts with no whitespace and no comment): the longest match, the
/// earlier rule on a tie, as flex chooses.
fn token(s: &[u8]) -> (Token, usize) {
    let id = id_len(s);
    let qualified = if id > 0 && s.get(id) == Some(&b'.') {
        match id_len(&s[id + 1..]) {
            0 => 0,
            n => id + 1 + n,
        }
    } else {
        0
    };
    let unquoted = if id > 0 {
        1 + s[1..]
            .iter()
            .take_while(|&&b| {
                is_letter_or_digit(b) || matches!(b, b'-' | b'.' | b'_' | b':' | b'/')
            })
            .count()
    } else {
        0
    };
    let candidates = [
        (Token::Id, id),
        (Token::QualifiedId, qualified),
        (Token::String, string_len(s)),
        (Token::UnquotedString, unquoted),
        (Token::Integer, integer_len(s)),
        (Token::Real, real_len(s)),
        (Token::Equals, usize::from(s.first() == Some(&b'='))),
    ];
    let mut best = (Token::Error, 1);
    let mut best_len = 0;
    for (t, len) in candidates {
        if len > best_len {
            best = (t, len);
            best_len = len;
        }
    }
    best
}

/// The tokens of one line, comments and whitespace (` `, tab, CR) dropped.
fn tokens(line: &[u8]) -> Vec<(Token, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => break,
            _ => {
                let (t, len) = token(&line[i..]);
                out.push((t, &line[i..i + len]));
                i += len;
            }
        }
    }
    out
}

/// A quoted value with its quotes removed and its escapes undone, as the server's
/// `DeescapeQuotedString`: `\b \f \n \r \t`, up to three octal digits (a byte; `\0` ends the value),
/// a doubled quote for one, and any other escaped character for itself.
pub fn unquote(token: &[u8]) -> Vec<u8> {
    let s = &token[1..token.len() - 1];
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' if i + 1 < s.len() => {
                i += 1;
                match s[i] {
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'0'..=b'7' => {
                        let digits = s[i..]
                            .iter()
                            .take(3)
                            .take_while(|b| (b'0'..=b'7').contains(b))
                            .count();
                        let value = s[i..i + digits]
                            .iter()
                            .fold(0u32, |v, &d| (v << 3) + u32::from(d - b'0'));
                        out.push(value as u8);
                        i += digits - 1;
                    }
                    c => out.push(c),
                }
            }
            b'\'' if s.get(i + 1) == Some(&b'\'') => {
                out.push(b'\'');
                i += 1;
            }
            c => out.push(c),
        }
        i += 1;
    }
    // The server keeps the value as a C string: it ends at the first NUL.
    if let Some(nul) = out.iter().position(|&b| b == 0) {
        out.truncate(nul);
    }
    out
}

/// One line of a configuration file, read as the server reads it: a name (an identifier, or two
/// joined by a dot), an optional `=`, one value (a quoted string, a word, a number with an optional
/// unit) and nothing after it but a comment. Names are case-insensitive.
pub fn parse_line(line: &[u8]) -> Line {
    let toks = tokens(line);
    let rest = match toks.as_slice() {
        [] => return Line::Empty,
        [(Token::Id | Token::QualifiedId, _), rest @ ..] => rest,
        _ => return Line::Invalid,
    };
    let rest = match rest {
        [(Token::Equals, _), rest @ ..] => rest,
        rest => rest,
    };
    let value = match rest {
        [(Token::String, v)] => unquote(v),
        [(Token::Id | Token::UnquotedString | Token::Integer | Token::Real, v)] => v.to_vec(),
        _ => return Line::Invalid,
    };
    let name = String::from_utf8_lossy(toks[0].1).to_ascii_lowercase();
    Line::Setting(name, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_the_server_reads_them() {
        let set = |n: &str, v: &[u8]| Line::Setting(n.into(), v.to_vec());
        let p = |l: &str| parse_line(l.as_bytes());
        assert_eq!(
            p("update_process_title = off   # no titles"),
            set("update_process_title", b"off")
        );
        assert_eq!(
            p("Cluster_Name 'prod ''east'' 1' # c"),
            set("cluster_name", b"prod 'east' 1")
        );
        assert_eq!(p("cluster_name='a\\'b'"), set("cluster_name", b"a'b"));
        assert_eq!(p("# cluster_name = 'x'"), Line::Empty);
        assert_eq!(p("   \t\r"), Line::Empty);
        // Every kind of value token.
        assert_eq!(p("shared_buffers = 128MB"), set("shared_buffers", b"128MB"));
        assert_eq!(p("x.y=-1.5e3"), set("x.y", b"-1.5e3"));
        assert_eq!(p("a 0x1Fk"), set("a", b"0x1Fk"));
        assert_eq!(
            p("unix_socket_directories = var/run:x"),
            set("unix_socket_directories", b"var/run:x")
        );
        assert_eq!(p("timeout 5min#c"), set("timeout", b"5min"));
        // What the server refuses.
        for bad in [
            "cluster_name = 'unterminated",
            "= 'no name'",
            "update_process_title = of;f",
            "update-process-title = on",
            "name =",
            "name = 'x' y",
            "name = 1.5GB",
            "1abc = 2",
            "a.b.c = 1",
            "unix_socket_directories = /var/run/postgresql",
            "name = 'ends in a backslash\\'",
        ] {
            assert_eq!(p(bad), Line::Invalid, "{bad}");
        }
    }

    #[test]
    fn quoted_values_undo_the_servers_escapes() {
        let u = |q: &str| unquote(q.as_bytes());
        assert_eq!(u(r"'o\146f'"), b"off");
        assert_eq!(u(r"'\b\f\n\r\t'"), b"\x08\x0c\n\r\t");
        assert_eq!(u(r"'\101\1012'"), b"AA2");
        assert_eq!(u(r"'\0618'"), b"18", "three octal digits at most");
        assert_eq!(u(r"'\777'"), [0xff], "a byte: the low eight bits");
        assert_eq!(u(r"'a\0b'"), b"a", "a NUL ends the value");
        assert_eq!(u(r"'it''s \q\\'"), b"it's q\\");
        assert_eq!(u("''"), b"");
    }

    #[test]
    fn booleans_are_read_from_the_de_escaped_value() {
        let found = |token: &str| Found {
            value: String::from_utf8(unquote(token.as_bytes())).unwrap(),
            source: String::new(),
        };
        assert_eq!(found(r"'o\146f'").boolean(), Some(false));
        assert_eq!(found("'tru'").boolean(), Some(true));
        assert_eq!(found("'of'").boolean(), Some(false));
        assert_eq!(found("' on'").boolean(), None, "nothing is trimmed");
        assert_eq!(found("'o'").boolean(), None);
    }

    #[test]
    fn the_command_line_outranks_the_files_and_auto_conf_outranks_postgresql_conf() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("conf.d")).unwrap();
        fs::write(
            d.join("postgresql.conf"),
            "cluster_name = 'from conf'\nupdate_process_title = on\ninclude_dir 'conf.d'\n\
             include_if_exists 'missing.conf'\n",
        )
        .unwrap();
        fs::write(
            d.join("conf.d/10-titles.conf"),
            "update_process_title = off\n",
        )
        .unwrap();
        fs::write(
            d.join("postgresql.auto.conf"),
            "cluster_name = 'from auto'\n",
        )
        .unwrap();
        let s = read(
            d,
            d,
            &["postgres".into(), "-D".into(), d.display().to_string()],
        );
        assert_eq!(s.get("cluster_name").unwrap().value, "from auto");
        let upt = s.get("update_process_title").unwrap();
        assert_eq!(upt.value, "off");
        assert!(upt.source.ends_with("10-titles.conf:1"), "{}", upt.source);
        assert!(s.unreadable.is_empty(), "{:?}", s.unreadable);

        let args: Vec<String> = [
            "postgres",
            "-c",
            "cluster_name=cmd",
            "--update-process-title=on",
        ]
        .map(String::from)
        .to_vec();
        let s = read(d, d, &args);
        assert_eq!(s.get("cluster_name").unwrap().value, "cmd");
        assert_eq!(s.get("update_process_title").unwrap().value, "on");

        let other = d.join("etc.conf");
        fs::write(&other, "cluster_name = 'elsewhere'\n").unwrap();
        fs::remove_file(d.join("postgresql.auto.conf")).unwrap();
        let args: Vec<String> = vec![
            "postgres".into(),
            "-c".into(),
            format!("config_file={}", other.display()),
        ];
        assert_eq!(
            read(d, d, &args).get("cluster_name").unwrap().value,
            "elsewhere"
        );
        // -D naming a configuration directory apart from the data directory; a line the server
        // cannot read either is reported.
        let etc = tempfile::tempdir().unwrap();
        fs::write(
            etc.path().join("postgresql.conf"),
            "update_process_title = off\nbroken = 'x\n",
        )
        .unwrap();
        let s = read(d, etc.path(), &["postgres".into()]);
        assert_eq!(s.get("update_process_title").unwrap().value, "off");
        assert_eq!(s.unreadable.len(), 1, "{:?}", s.unreadable);
        assert!(s.unreadable[0].ends_with(":2: a line PostgreSQL cannot read either"));
    }

    #[test]
    fn a_link_pointed_elsewhere_is_a_change_though_no_file_changed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("old.conf"), "update_process_title = off\n").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        fs::write(d.join("new.conf"), "update_process_title = on\n").unwrap();
        std::os::unix::fs::symlink(d.join("new.conf"), d.join("postgresql.conf")).unwrap();
        let s = read(d, d, &["postgres".into()]);
        let before = s.last_change().unwrap().changed;
        assert!(s.read.iter().any(|r| r.link), "{:?}", s.read);
        std::thread::sleep(std::time::Duration::from_millis(100));
        // Pointed at the older file: no file's own change time moves, the link's does.
        fs::remove_file(d.join("postgresql.conf")).unwrap();
        std::os::unix::fs::symlink(d.join("old.conf"), d.join("postgresql.conf")).unwrap();
        let now = s.last_change_now().unwrap().unwrap();
        assert!(now.changed > before, "{now:?}");
        assert!(now.link);
        // Gone: the change times can no longer be examined.
        fs::remove_file(d.join("postgresql.conf")).unwrap();
        assert!(s.last_change_now().is_err());
    }
}
