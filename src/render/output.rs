//! Where a report goes: stdout, or a file replaced atomically (for node_exporter's textfile collector,
//! which must never read a half-written file).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Write `text` to `output` atomically, or to stdout when there is none.
pub fn emit(text: &str, output: Option<&Path>) -> Result<()> {
    match output {
        Some(path) => write_atomic(path, text),
        None => super::out_raw(text),
    }
}

/// Write a temporary file in the target's directory, flush it to disk, then rename it over the target.
/// Readers see the old content or the new, never a mix; on any error the old file is left untouched.
/// The new file gets mode 0644 (tempfile's default 0600 would hide it from a collector running as
/// another user) unless the file being replaced had other permissions.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pgconn".into());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("could not create a temporary file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("could not write {}", tmp.path().display()))?;
    let perms = std::fs::metadata(path)
        .map(|m| m.permissions())
        .unwrap_or_else(|_| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        });
    tmp.as_file()
        .set_permissions(perms)
        .with_context(|| format!("could not set the permissions of {}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("could not replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgconn.prom");
        write_atomic(&f, "a 1\n").unwrap();
        write_atomic(&f, "a 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "a 2\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("nope/pgconn.prom");
        assert!(write_atomic(&f, "x").is_err());
    }
}
