//! The settings a cluster's titles depend on (`cluster_name`, `update_process_title`), read without a
//! connection: from the postmaster's command line (`-c name=value`, `--name=value`, highest priority),
//! then postgresql.auto.conf over postgresql.conf (with its `include`, `include_if_exists` and
//! `include_dir` directives), as the server reads them at start and on reload.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// A setting's value and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub value: String,
    /// `command line` or a file path with its line (`/etc/postgresql/15/main/postgresql.conf:42`).
    pub source: String,
}

/// The settings found, by lower-case name, and the files that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub values: BTreeMap<String, Found>,
    /// Configuration files that exist (or are included) but could not be read, with why.
    pub unreadable: Vec<String>,
}

impl Settings {
    pub fn get(&self, name: &str) -> Option<&Found> {
        self.values.get(name)
    }
}

/// PostgreSQL's reading of a boolean (on, off, true, false, yes, no, 1, 0 and unique prefixes).
pub fn parse_bool(v: &str) -> Option<bool> {
    let v = v.trim().to_ascii_lowercase();
    if v.is_empty() {
        return None;
    }
    let prefix_of = |word: &str, min: usize| v.len() >= min && word.starts_with(v.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || v == "on" || v == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || v == "0" {
        Some(false)
    } else {
        None
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
    read_file(&config_file, &mut s, 0, true);
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
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return,
        Err(e) => {
            s.unreadable.push(format!("{}: {e}", path.display()));
            return;
        }
    };
    let dir = path.parent().unwrap_or(Path::new("/"));
    for (n, line) in text.lines().enumerate() {
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
        let resolve = |p: &str| {
            let p = Path::new(p);
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
                        let mut files: Vec<PathBuf> = entries
                            .filter_map(|e| e.ok().map(|e| e.path()))
                            .filter(|p| {
                                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                                !name.starts_with('.') && name.ends_with(".conf") && p.is_file()
                            })
                            .collect();
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
                        value,
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
    /// A setting (or an include directive): its lower-case name and its value.
    Setting(String, String),
    /// Something PostgreSQL would refuse (an unterminated quote, no name).
    Invalid,
}

/// One line of a configuration file: `name = value` or `name value`, the value bare or in single
/// quotes (`''` or `\'` for a quote), `#` starting a comment outside quotes. Names are case-insensitive.
pub fn parse_line(line: &str) -> Line {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return Line::Empty;
    }
    match setting(line) {
        Some((name, value)) => Line::Setting(name, value),
        None => Line::Invalid,
    }
}

fn setting(line: &str) -> Option<(String, String)> {
    let name_end = line
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .unwrap_or(line.len());
    if name_end == 0 {
        return None;
    }
    let name = line[..name_end].to_ascii_lowercase();
    let mut rest = line[name_end..].trim_start();
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start();
    }
    let value = if let Some(quoted) = rest.strip_prefix('\'') {
        let mut v = String::new();
        let mut chars = quoted.chars().peekable();
        loop {
            match chars.next()? {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    v.push('\'');
                }
                '\'' => break,
                '\\' => match chars.next()? {
                    'n' => v.push('\n'),
                    't' => v.push('\t'),
                    c => v.push(c),
                },
                c => v.push(c),
            }
        }
        v
    } else {
        let end = rest
            .find(|c: char| c == '#' || c.is_whitespace())
            .unwrap_or(rest.len());
        rest[..end].to_string()
    };
    Some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_the_server_reads_them() {
        let set = |n: &str, v: &str| Line::Setting(n.into(), v.into());
        assert_eq!(
            parse_line("update_process_title = off   # no titles"),
            set("update_process_title", "off")
        );
        assert_eq!(
            parse_line("Cluster_Name 'prod ''east'' 1' # c"),
            set("cluster_name", "prod 'east' 1")
        );
        assert_eq!(
            parse_line("cluster_name='a\\'b'"),
            set("cluster_name", "a'b")
        );
        assert_eq!(parse_line("# cluster_name = 'x'"), Line::Empty);
        assert_eq!(parse_line("   "), Line::Empty);
        assert_eq!(parse_line("cluster_name = 'unterminated"), Line::Invalid);
        assert_eq!(parse_line("= 'no name'"), Line::Invalid);
    }

    #[test]
    fn booleans_as_postgresql_reads_them() {
        for on in ["on", "ON", "true", "t", "yes", "y", "1"] {
            assert_eq!(parse_bool(on), Some(true), "{on}");
        }
        for off in ["off", "of", "false", "f", "no", "n", "0"] {
            assert_eq!(parse_bool(off), Some(false), "{off}");
        }
        assert_eq!(parse_bool("o"), None);
        assert_eq!(parse_bool("maybe"), None);
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
}
