//! The connection service file (`pg_service.conf`), read as libpq reads it.
//!
//! An INI-style file: `[name]` starts a service, `keyword=value` lines follow, `#` starts a comment line.
//! The per-user file (`servicefile=`, `PGSERVICEFILE` or `~/.pg_service.conf`) is searched first, then the
//! system file (`$PGSYSCONFDIR/pg_service.conf`); the first file that defines the service is the only one
//! used. Only the lines of the wanted section are checked, as in libpq. Unlike libpq, blanks around the
//! `=` are allowed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::keywords;
use super::parse::Pair;

/// The keyword/value pairs of service `name`, from the first of `files` that defines it. Files that do not
/// exist are skipped; a service found in none of them is libpq's `definition of service "x" not found`.
pub(crate) fn lookup(name: &str, files: &[PathBuf]) -> Result<Vec<Pair>> {
    for file in files {
        if !file.exists() {
            continue;
        }
        let text = std::fs::read(file)
            .with_context(|| format!("could not open service file \"{}\"", file.display()))?;
        if let Some(pairs) = parse_service(file, &String::from_utf8_lossy(&text), name)? {
            return Ok(pairs);
        }
    }
    bail!("definition of service \"{name}\" not found")
}

/// The pairs of section `[name]` in `text`, or `None` when the section is absent.
fn parse_service(file: &Path, text: &str, name: &str) -> Result<Option<Vec<Pair>>> {
    let mut found = false;
    let mut pairs = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            if found {
                break;
            }
            found = section
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(']'));
            continue;
        }
        if !found {
            continue;
        }
        if line.starts_with("ldap") {
            bail!(
                "LDAP service lookup is not supported (service file \"{}\", line {line_no})",
                file.display()
            );
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!(
                "syntax error in service file \"{}\", line {line_no}",
                file.display()
            );
        };
        let key = key.trim_end();
        if key == "service" {
            bail!(
                "nested service specifications not supported in service file \"{}\", line {line_no}",
                file.display()
            );
        }
        let Some(keyword) = keywords::lookup(key) else {
            bail!(
                "syntax error in service file \"{}\", line {line_no}: invalid connection option \"{key}\"",
                file.display()
            );
        };
        pairs.push((keyword.name, value.trim_start().to_string()));
    }
    Ok(found.then_some(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment
[other]
host=otherhost

  [mydb]
host=somehost
port = 5433
# comment inside
   user=admin   
options=-c statement_timeout=5s
host=second-host-is-ignored-by-the-caller

[mydb2]
port=1
";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn finds_section_and_stops_at_next() {
        let pairs = parse_service(Path::new("f"), SAMPLE, "mydb")
            .unwrap()
            .unwrap();
        assert_eq!(
            pairs,
            vec![
                ("host", "somehost".to_string()),
                ("port", "5433".to_string()),
                ("user", "admin".to_string()),
                ("options", "-c statement_timeout=5s".to_string()),
                ("host", "second-host-is-ignored-by-the-caller".to_string()),
            ]
        );
        let pairs = parse_service(Path::new("f"), SAMPLE, "mydb2")
            .unwrap()
            .unwrap();
        assert_eq!(pairs, vec![("port", "1".to_string())]);
        assert!(parse_service(Path::new("f"), SAMPLE, "my")
            .unwrap()
            .is_none());
        assert!(parse_service(Path::new("f"), SAMPLE, "none")
            .unwrap()
            .is_none());
    }

    #[test]
    fn errors_only_inside_the_wanted_section() {
        let text = "[a]\nbogus line\n[b]\nfoo=1\n[c]\nservice=a\n[d]\nhost=x\n";
        assert!(parse_service(Path::new("f"), text, "d").unwrap().is_some());
        let err = parse_service(Path::new("/s.conf"), text, "a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "syntax error in service file \"/s.conf\", line 2"
        );
        let err = parse_service(Path::new("/s.conf"), text, "b").unwrap_err();
        assert!(err
            .to_string()
            .contains("line 4: invalid connection option \"foo\""));
        let err = parse_service(Path::new("/s.conf"), text, "c").unwrap_err();
        assert!(err.to_string().starts_with("nested service specifications"));
    }

    #[test]
    fn user_file_first_then_system_file() {
        let dir = tempfile::tempdir().unwrap();
        let user = write(dir.path(), "user.conf", "[a]\nport=1\n");
        let system = write(dir.path(), "pg_service.conf", "[a]\nport=2\n[b]\nport=3\n");
        let missing = dir.path().join("missing.conf");
        let files = vec![missing, user, system];
        assert_eq!(
            lookup("a", &files).unwrap(),
            vec![("port", "1".to_string())]
        );
        assert_eq!(
            lookup("b", &files).unwrap(),
            vec![("port", "3".to_string())]
        );
        let err = lookup("c", &files).unwrap_err();
        assert_eq!(err.to_string(), "definition of service \"c\" not found");
    }
}
