//! The password file (`~/.pgpass`, `PGPASSFILE`, `passfile=`), read as libpq reads it.
//!
//! Each line is `hostname:port:database:username:password`; a field that is exactly `*` matches anything;
//! `\` escapes the next character (`\:` and `\\`); lines starting with `#` are comments; the first
//! matching line wins. A file that is not a plain file, or that the group or others may access, is ignored
//! with a warning.

use std::path::{Path, PathBuf};

/// One field of a line: `*` or a literal string (already unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Any,
    Exact(String),
}

impl Field {
    fn matches(&self, value: &str) -> bool {
        match self {
            Field::Any => true,
            Field::Exact(s) => s == value,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
struct Entry {
    host: Field,
    port: Field,
    database: Field,
    user: Field,
    password: String,
}

/// A loaded password file.
#[derive(Clone)]
pub(crate) struct PassFile {
    path: PathBuf,
    entries: Vec<Entry>,
}

impl std::fmt::Debug for PassFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassFile")
            .field("path", &self.path)
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl PassFile {
    /// Reads the password file at `path`. A missing or unreadable file gives `None` silently (as in
    /// libpq); a file that is not plain or is group/world accessible gives `None` and a warning.
    pub(crate) fn load(path: &Path, warnings: &mut Vec<String>) -> Option<PassFile> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() {
            warnings.push(format!(
                "password file \"{}\" is not a plain file",
                path.display()
            ));
            return None;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                warnings.push(format!(
                    "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                    path.display()
                ));
                return None;
            }
        }
        let bytes = std::fs::read(path).ok()?;
        Some(PassFile::parse(path, &String::from_utf8_lossy(&bytes)))
    }

    /// Parses the text of a password file; lines with fewer than five fields are skipped.
    pub(crate) fn parse(path: &Path, text: &str) -> PassFile {
        let entries = text
            .lines()
            .map(|line| line.trim_end_matches('\r'))
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(parse_line)
            .collect();
        PassFile {
            path: path.to_path_buf(),
            entries,
        }
    }

    /// The password of the first line matching all four fields, if that password is not empty.
    pub(crate) fn find(&self, host: &str, port: &str, database: &str, user: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| {
                e.host.matches(host)
                    && e.port.matches(port)
                    && e.database.matches(database)
                    && e.user.matches(user)
            })
            .map(|e| e.password.as_str())
            .filter(|p| !p.is_empty())
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Splits a line into fields at unescaped ':' and removes the escapes.
fn parse_line(line: &str) -> Option<Entry> {
    let mut fields: Vec<Field> = Vec::with_capacity(5);
    let mut current = String::new();
    let mut escaped_any = false;
    let mut chars = line.chars();
    let finish = |current: &mut String, escaped_any: &mut bool| {
        let field = if current == "*" && !*escaped_any {
            Field::Any
        } else {
            Field::Exact(std::mem::take(current))
        };
        current.clear();
        *escaped_any = false;
        field
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => {
                    current.push(next);
                    escaped_any = true;
                }
                None => current.push('\\'),
            },
            ':' if fields.len() < 4 => fields.push(finish(&mut current, &mut escaped_any)),
            // The password ends at the next unescaped ':'; anything after it is ignored.
            ':' => break,
            c => current.push(c),
        }
    }
    if fields.len() < 4 {
        return None;
    }
    let password = match finish(&mut current, &mut escaped_any) {
        Field::Any => "*".to_string(),
        Field::Exact(s) => s,
    };
    let mut fields = fields.into_iter();
    Some(Entry {
        host: fields.next()?,
        port: fields.next()?,
        database: fields.next()?,
        user: fields.next()?,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn pf(text: &str) -> PassFile {
        PassFile::parse(Path::new("/x/.pgpass"), text)
    }

    #[test]
    fn exact_and_wildcards() {
        let f = pf("db1:5432:app:alice:pw1\n*:*:*:bob:pw2\nlocalhost:*:*:*:pw3\n");
        assert_eq!(f.find("db1", "5432", "app", "alice"), Some("pw1"));
        assert_eq!(f.find("db1", "5433", "app", "alice"), None);
        assert_eq!(f.find("anything", "1", "x", "bob"), Some("pw2"));
        assert_eq!(f.find("localhost", "5432", "app", "carol"), Some("pw3"));
        assert_eq!(f.find("db2", "5432", "app", "carol"), None);
    }

    #[test]
    fn first_match_wins() {
        let f = pf("*:*:*:*:first\ndb1:5432:app:alice:second\n");
        assert_eq!(f.find("db1", "5432", "app", "alice"), Some("first"));
    }

    #[test]
    fn escapes_comments_and_crlf() {
        let f = pf(concat!(
            "# a comment line: with:colons:and:more\r\n",
            "\n",
            r"db\:1:5432:a\\b:u:p\:w\\d",
            "\r\n",
            r"\*:*:*:*:literal-star-host",
            "\n",
            "short:line:only\n",
            "h:5432:d:u:pw:extra:fields\n",
        ));
        assert_eq!(f.find("db:1", "5432", r"a\b", "u"), Some(r"p:w\d"));
        // An escaped '*' is a literal star, not a wildcard.
        assert_eq!(f.find("other", "5432", "d", "u"), None);
        assert_eq!(f.find("*", "5432", "d", "u"), Some("literal-star-host"));
        assert_eq!(f.find("h", "5432", "d", "u"), Some("pw"));
        assert_eq!(f.entries.len(), 3);
    }

    #[test]
    fn star_only_when_whole_field() {
        let f = pf("db*:5432:*:*:pw\n");
        assert_eq!(f.find("db1", "5432", "x", "y"), None);
        assert_eq!(f.find("db*", "5432", "x", "y"), Some("pw"));
    }

    #[test]
    fn empty_password_is_no_password() {
        let f = pf("*:*:*:*:\n");
        assert_eq!(f.find("h", "1", "d", "u"), None);
    }

    #[test]
    fn debug_hides_passwords() {
        let f = pf("*:*:*:*:topsecret\n");
        assert!(!format!("{f:?}").contains("topsecret"));
    }

    #[cfg(unix)]
    #[test]
    fn permissions_and_missing_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        let mut file = std::fs::File::create(&path).unwrap();
        writeln!(file, "*:*:*:*:pw").unwrap();
        drop(file);

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut warnings = Vec::new();
        assert!(PassFile::load(&path, &mut warnings).is_none());
        assert_eq!(
            warnings,
            vec![format!(
                "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                path.display()
            )]
        );

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut warnings = Vec::new();
        let f = PassFile::load(&path, &mut warnings).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(f.find("h", "1", "d", "u"), Some("pw"));
        assert_eq!(f.path(), path);

        let mut warnings = Vec::new();
        assert!(PassFile::load(&dir.path().join("missing"), &mut warnings).is_none());
        assert!(warnings.is_empty());

        let mut warnings = Vec::new();
        assert!(PassFile::load(dir.path(), &mut warnings).is_none());
        assert!(warnings[0].contains("is not a plain file"));
    }
}
