//! Where a report goes: stdout, or a file replaced atomically (for node_exporter's textfile collector,
//! which must never read a half-written file).

use std::path::Path;

use anyhow::{Context, Result};

use crate::files;

/// Write `text` to `output` atomically, or to stdout when there is none.
pub fn emit(text: &str, output: Option<&Path>) -> Result<()> {
    match output {
        Some(path) => write_atomic(path, text),
        None => super::out_raw(text),
    }
}

/// Prometheus text to `output` atomically as it is, or to stdout: unchanged to a pipe, escaped on a
/// terminal ([`super::out_untrusted_raw`]).
pub fn emit_exposition(text: &str, output: Option<&Path>) -> Result<()> {
    match output {
        Some(path) => write_atomic(path, text),
        None => super::out_untrusted_raw(text),
    }
}

/// Replace the file atomically ([`crate::files::replace`]: a temporary file in the same directory,
/// opened by the rules of every file pgconn writes, synced, then renamed over the target). Readers see the
/// old content or the new, never a mix; on any error the old file is left untouched. A new file gets mode
/// 0644 (for a collector running as another user) unless the file being replaced had other permissions.
/// A link, a FIFO, a device or another user's file at the path, and a directory others may change, are
/// refused (exit 2).
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    files::replace(path, text.as_bytes(), 0o644)
        .with_context(|| format!("could not write {} (left as it was)", path.display()))
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
