//! The tune history: one JSON object per line, appended before a change is applied, so that `tune undo`
//! can restore the previous state exactly. It is opened by [`crate::files`]' rules (never through a link,
//! only a regular file of this user's). It holds the server's identity (never a password), the scope,
//! and each setting's old and new value (`null` = not set).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::files;
use crate::report::tune::{Entry, Listed, ServerRecord, Unreadable};

/// Where the history lives: --history, else $XDG_STATE_HOME/pgconn/, else ~/.local/state/pgconn/.
pub fn path(arg: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = arg {
        return Ok(p.to_path_buf());
    }
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(state) = var("XDG_STATE_HOME").filter(|p| p.is_absolute()) {
        return Ok(state.join("pgconn").join("tune-history.jsonl"));
    }
    if let Some(home) = var("HOME") {
        return Ok(home
            .join(".local")
            .join("state")
            .join("pgconn")
            .join("tune-history.jsonl"));
    }
    Err(anyhow!(
        "cannot tell where to keep the tune history: neither XDG_STATE_HOME nor HOME is set; pass --history FILE"
    ))
}

/// Remove anything secret-looking from a connection description before it is stored.
pub fn scrub(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.retain(|k, _| {
            let k = k.to_ascii_lowercase();
            !(k.contains("password") || k.contains("secret") || k.contains("sslkey"))
        });
    }
    v
}

/// A line of the history file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Line {
    Change(Entry),
    /// The change with this id failed before anything was applied.
    Failed {
        id: String,
        error: String,
    },
}

pub struct History {
    pub path: PathBuf,
    pub entries: Vec<Listed>,
    /// Lines that could not be read (kept in the file, ignored here).
    pub unreadable: Vec<Unreadable>,
}

impl History {
    /// Read the file; a missing file is an empty history. A line that is not UTF-8 or not an entry (a
    /// torn write, an edit) is skipped and listed in `unreadable`: the other entries stay usable.
    pub fn load(path: &Path) -> Result<History> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("could not read {}", path.display())),
        };
        let mut entries: Vec<Listed> = Vec::new();
        let mut unreadable = Vec::new();
        for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            let Ok(line) = std::str::from_utf8(raw) else {
                unreadable.push(Unreadable {
                    line: i + 1,
                    reason: "not UTF-8".into(),
                });
                continue;
            };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Line>(line) {
                Ok(Line::Change(entry)) => {
                    if let Some(target) = &entry.undoes {
                        if let Some(l) = entries.iter_mut().find(|l| &l.entry.id == target) {
                            l.status = "undone";
                            l.undone_by = Some(entry.id.clone());
                        }
                    }
                    entries.push(Listed {
                        entry,
                        status: "applied",
                        undone_by: None,
                        error: None,
                    });
                }
                Ok(Line::Failed { id, error }) => {
                    if let Some(l) = entries.iter_mut().find(|l| l.entry.id == id) {
                        l.status = "failed";
                        l.error = Some(error);
                        // A failed undo restored nothing: what it meant to undo is applied again.
                        if let Some(target) = l.entry.undoes.clone() {
                            if let Some(t) = entries.iter_mut().find(|t| t.entry.id == target) {
                                if t.undone_by.as_deref() == Some(id.as_str()) {
                                    t.status = "applied";
                                    t.undone_by = None;
                                }
                            }
                        }
                    }
                }
                Err(e) => unreadable.push(Unreadable {
                    line: i + 1,
                    reason: format!("not a history entry ({e})"),
                }),
            }
        }
        Ok(History {
            path: path.to_path_buf(),
            entries,
            unreadable,
        })
    }

    /// One warning per unreadable line, for stderr.
    pub fn unreadable_warnings(&self) -> Vec<String> {
        self.unreadable
            .iter()
            .map(|u| {
                format!(
                    "line {} of the tune history {} was skipped: {}",
                    u.line,
                    self.path.display(),
                    u.reason
                )
            })
            .collect()
    }

    /// The last change on this server that is still in effect (not undone, not failed, not an undo).
    pub fn last_undoable(&self, server: &ServerRecord) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .filter(|l| l.status == "applied" && l.entry.undoes.is_none())
            .map(|l| &l.entry)
            .find(|e| e.server.same_server(server))
    }
}

/// Append one entry, flushed to disk before the change it describes is applied.
pub fn record(path: &Path, entry: &Entry) -> Result<()> {
    append(path, &Line::Change(entry.clone()))
}

/// Mark an entry as failed (nothing of it was applied).
pub fn record_failure(path: &Path, id: &str, error: &str) -> Result<()> {
    append(
        path,
        &Line::Failed {
            id: id.to_string(),
            error: error.to_string(),
        },
    )
}

/// Open (creating it mode 0600, and what is missing of its directory mode 0700) the history for
/// appending, by the rules every file pgconn writes follows ([`crate::files`]). A new file and new
/// directories are synced into their parents as the audit log's are: the entry written before a change
/// must survive a crash that the change survives.
fn open_for_append(path: &Path) -> Result<fs::File> {
    let dir = files::parent_dir(path);
    files::create_dirs_durable(dir, 0o700).with_context(|| {
        format!(
            "could not create {} for the tune history; nothing was changed",
            dir.display()
        )
    })?;
    let opened = files::open_durable(path).with_context(|| {
        format!(
            "could not open the tune history {} for appending; nothing was changed",
            path.display()
        )
    })?;
    Ok(opened.file)
}

/// Whether the history can take an entry, checked before a change is even asked for and without leaving
/// anything behind: an existing file must open for appending (by [`crate::files`]' rules: a link, a FIFO
/// or another user's file is refused); otherwise its directory must pass those rules, or the nearest
/// existing directory above it must let this user create what is missing.
pub fn check_appendable(path: &Path) -> Result<()> {
    let refused = |e: anyhow::Error| {
        e.context(format!(
            "cannot use the tune history {}; nothing was changed (--history FILE puts it elsewhere)",
            path.display()
        ))
    };
    if fs::symlink_metadata(path).is_ok() {
        return files::open(path, files::How::Append)
            .map(|_| ())
            .map_err(refused);
    }
    let parent = files::parent_dir(path);
    if parent.is_dir() {
        files::check_dir(parent).map_err(refused)?;
    }
    let mut dir = Some(parent);
    while let Some(d) = dir {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        };
        if d.exists() {
            use nix::unistd::{access, AccessFlags};
            let writable = d.is_dir() && access(d, AccessFlags::W_OK | AccessFlags::X_OK).is_ok();
            if writable {
                return Ok(());
            }
            return Err(anyhow!(
                "cannot create the tune history {}: {} is not a directory this user may write to; \
                 nothing was changed (--history FILE puts it elsewhere)",
                path.display(),
                d.display()
            ));
        }
        dir = d.parent();
    }
    Ok(())
}

fn append(path: &Path, line: &Line) -> Result<()> {
    let mut f = open_for_append(path)?;
    let mut text = serde_json::to_string(line)?;
    text.push('\n');
    // Not an io::Error in the chain: a history that cannot be written must not pass for a closed stdout.
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| anyhow!("could not write the tune history {}: {e}", path.display()))?;
    Ok(())
}

/// A new entry id: time in milliseconds and the process id, unique enough for one person's history.
pub fn new_id() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{ms}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tune::{ChangeRecord, Scope};
    use serde_json::json;

    fn server(sysid: Option<&str>, host: &str) -> ServerRecord {
        ServerRecord {
            target: format!("{host}:5432/postgres"),
            system_identifier: sysid.map(str::to_string),
            connection: json!({"host": host, "port": "5432", "user": "postgres"}),
        }
    }

    fn entry(id: &str, s: ServerRecord, undoes: Option<&str>) -> Entry {
        Entry {
            id: id.into(),
            time: "2024-01-01T00:00:00Z".into(),
            action: if undoes.is_some() { "undo" } else { "set" }.into(),
            server: s,
            scope: Scope::Database {
                database: "app".into(),
            },
            changes: vec![ChangeRecord {
                name: "statement_timeout".into(),
                old: None,
                new: Some("30s".into()),
                old_in_effect: None,
            }],
            undoes: undoes.map(str::to_string),
        }
    }

    #[test]
    fn servers_match_by_identifier_then_address() {
        assert!(server(Some("1"), "a").same_server(&server(Some("1"), "b")));
        assert!(!server(Some("1"), "a").same_server(&server(Some("2"), "a")));
        assert!(server(None, "a").same_server(&server(Some("2"), "a")));
        assert!(!server(None, "a").same_server(&server(None, "b")));
    }

    #[test]
    fn secrets_are_scrubbed() {
        let v = scrub(json!({"host": "h", "password": "x", "sslpassword": "y", "user": "u"}));
        assert_eq!(v, json!({"host": "h", "user": "u"}));
    }

    #[test]
    fn undo_walks_back_and_skips_failures() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/h.jsonl");
        let a = server(Some("1"), "a");
        record(&p, &entry("1", a.clone(), None)).unwrap();
        record(&p, &entry("2", server(Some("9"), "z"), None)).unwrap();
        record(&p, &entry("3", a.clone(), None)).unwrap();
        record(&p, &entry("4", a.clone(), None)).unwrap();
        record_failure(&p, "4", "permission denied").unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();

        let h = History::load(&p).unwrap();
        assert_eq!(h.unreadable.len(), 1);
        assert_eq!(h.unreadable[0].line, 6);
        assert_eq!(h.entries[3].status, "failed");
        assert_eq!(h.last_undoable(&a).unwrap().id, "3");

        record(&p, &entry("5", a.clone(), Some("3"))).unwrap();
        let h = History::load(&p).unwrap();
        assert_eq!(h.entries[2].status, "undone");
        assert_eq!(h.entries[2].undone_by.as_deref(), Some("5"));
        assert_eq!(h.last_undoable(&a).unwrap().id, "1");

        // An undo that failed leaves its target in effect.
        record(&p, &entry("6", a.clone(), Some("1"))).unwrap();
        record_failure(&p, "6", "boom").unwrap();
        let h = History::load(&p).unwrap();
        assert_eq!(h.last_undoable(&a).unwrap().id, "1");
        assert_eq!(h.last_undoable(&server(Some("9"), "q")).unwrap().id, "2");
    }

    #[test]
    fn a_missing_file_is_an_empty_history() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::load(&dir.path().join("none.jsonl")).unwrap();
        assert!(h.entries.is_empty());
    }

    #[test]
    fn history_path_prefers_the_flag() {
        assert_eq!(
            path(Some(Path::new("/x/h.jsonl"))).unwrap(),
            PathBuf::from("/x/h.jsonl")
        );
    }
}
