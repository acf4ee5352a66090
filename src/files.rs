//! The files pgconn writes — the audit log of kill, kill-idle and rescue, the tune history, every `--output`
//! file and its temporary file — are opened by [`open`] and nothing else, so that none of them can be
//! redirected to a file pgconn never meant to write (pgconn often runs as root, and the lines it writes
//! carry text any connecting role chooses, such as application_name).
//!
//! The rules, checked on the path before it is opened and again on the file actually opened:
//! - the final component is never followed: a symbolic link is refused (`O_NOFOLLOW`), wherever it points;
//!   links among the directories above it are followed as usual;
//! - only a regular file: a FIFO, a device, a socket or a directory is refused, and a FIFO never blocks
//!   the open (`O_NONBLOCK`);
//! - an existing file must belong to the user pgconn runs as (its effective uid; root is no exception) and
//!   have no other hard link;
//! - its directory must not be writable by anyone else, who could remove or replace the file: refused when
//!   it belongs to another user (root's directories are fine) or when its group or everyone may write to
//!   it — a group counts, as in OpenSSH's StrictModes — unless it has the sticky bit (`/tmp`), where
//!   nobody else may remove or rename what pgconn owns;
//! - new files are created mode 0600 (a replaced `--output` file then gets its documented mode).
//!
//! A refusal is a usage error (exit 2) whose message names the path and the reason; an error of the
//! system (a missing directory, no permission) stays a runtime failure (exit 1).

use std::fs::{self, File, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
use rustix::io::Errno;

use crate::exit::refuse;

/// How [`open`] opens a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Append, creating the file (mode 0600) when it does not exist.
    Append,
    /// Create a file that must not exist yet (`O_EXCL`; anything at the path, a link included, is an
    /// error of kind `AlreadyExists`), mode 0600: the temporary file of [`replace`].
    CreateNew,
}

/// A file [`open`] opened.
#[derive(Debug)]
pub struct Opened {
    pub file: File,
    /// Whether this open created it.
    pub created: bool,
}

/// The directory a file is in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The one way pgconn opens a file it writes: the rules of this module's documentation, checked before
/// the open and on the opened file itself (so that nothing swapped in between gets written).
pub fn open(path: &Path, how: How) -> Result<Opened> {
    check_dir(parent_dir(path))?;
    if how == How::Append {
        // What is at the path now: refused here, before anything is opened (a device is never opened).
        match fs::symlink_metadata(path) {
            Ok(m) => check_file(path, &m)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    let (file, created) = match how {
        How::Append => {
            // An existing file first, so that `created` says whether this open made it.
            let mut existing = options(0);
            existing.append(true);
            match existing.open(path) {
                Ok(f) => (f, false),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let mut new = options(0o600);
                    new.append(true).create_new(true);
                    (new.open(path).map_err(|e| open_error(path, e))?, true)
                }
                Err(e) => return Err(open_error(path, e)),
            }
        }
        How::CreateNew => {
            let mut new = options(0o600);
            new.write(true).create_new(true);
            match new.open(path) {
                Ok(f) => (f, true),
                // Left as an io::Error: the caller picks another name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e.into()),
                Err(e) => return Err(open_error(path, e)),
            }
        }
    };
    let m = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    check_file(path, &m)?;
    // Writes block as usual from here on (O_NONBLOCK was for the open of a FIFO only).
    fcntl_getfl(&file)
        .and_then(|flags| fcntl_setfl(&file, flags - OFlags::NONBLOCK))
        .map_err(io::Error::from)
        .with_context(|| format!("cannot set up {}", path.display()))?;
    Ok(Opened { file, created })
}

fn options(mode: u32) -> fs::OpenOptions {
    let mut o = fs::OpenOptions::new();
    let flags = OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    o.custom_flags(flags.bits() as i32);
    if mode != 0 {
        o.mode(mode);
    }
    o
}

/// An open that failed: a link or a FIFO that appeared after the first look is a refusal, the rest an
/// error of the system.
fn open_error(path: &Path, e: io::Error) -> anyhow::Error {
    match Errno::from_io_error(&e) {
        // ELOOP: the final component is a link (O_NOFOLLOW); ENXIO: a FIFO nobody reads (O_NONBLOCK).
        Some(Errno::LOOP | Errno::NXIO) => match fs::symlink_metadata(path) {
            Ok(m) => match check_file(path, &m) {
                Err(refusal) => refusal,
                Ok(()) => anyhow::Error::new(e).context(format!("cannot open {}", path.display())),
            },
            Err(_) => anyhow::Error::new(e).context(format!("cannot open {}", path.display())),
        },
        _ => anyhow::Error::new(e).context(format!("cannot open {}", path.display())),
    }
}

/// What is at a path (from lstat or fstat) may be written: a regular file of this user's with no other
/// name.
fn check_file(path: &Path, m: &Metadata) -> Result<()> {
    let ft = m.file_type();
    if ft.is_symlink() {
        let to = fs::read_link(path)
            .map(|t| format!(" (to {})", t.display()))
            .unwrap_or_default();
        return Err(refuse(format!(
            "{} is a symbolic link{to}: pgconn never writes through a link",
            path.display()
        )));
    }
    if !ft.is_file() {
        return Err(refuse(format!(
            "{} is {}, not a regular file",
            path.display(),
            kind_of(m)
        )));
    }
    let me = nix::unistd::geteuid().as_raw();
    if m.uid() != me {
        return Err(refuse(format!(
            "{} belongs to {}, not to {} (who runs pgconn)",
            path.display(),
            user_name(m.uid()),
            user_name(me)
        )));
    }
    if m.nlink() > 1 {
        return Err(refuse(format!(
            "{} has {} hard links: another name leads to the same file",
            path.display(),
            m.nlink()
        )));
    }
    Ok(())
}

/// The directory a file goes in may not be changed by anyone but this user and root (see the module's
/// rules). Links in the path to it are followed.
pub fn check_dir(dir: &Path) -> Result<()> {
    let m =
        fs::metadata(dir).with_context(|| format!("cannot use the directory {}", dir.display()))?;
    if !m.is_dir() {
        return Err(anyhow!("{} is not a directory", dir.display()));
    }
    let me = nix::unistd::geteuid().as_raw();
    if m.uid() != me && m.uid() != 0 {
        return Err(refuse(format!(
            "its directory {} belongs to {}, who could replace what pgconn writes there; use a directory \
             only {} can write to",
            dir.display(),
            user_name(m.uid()),
            only(me)
        )));
    }
    let mode = m.permissions().mode();
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        let who = if mode & 0o002 != 0 {
            "every user"
        } else {
            "its group"
        };
        return Err(refuse(format!(
            "its directory {} can be written by {who} (mode {:o}, no sticky bit), who could replace what \
             pgconn writes there; use a directory only {} can write to",
            dir.display(),
            mode & 0o7777,
            only(me)
        )));
    }
    Ok(())
}

fn kind_of(m: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let ft = m.file_type();
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "something else"
    }
}

/// Who may own the directory of a file pgconn writes: this user, and root.
fn only(me: u32) -> String {
    if me == 0 {
        "root".into()
    } else {
        format!("{} (or root)", user_name(me))
    }
}

fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => format!("user {} (uid {uid})", u.name),
        _ => format!("uid {uid}"),
    }
}

/// fsync a directory, so that a name created or replaced in it survives a crash as the data does.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Open for appending a file whose every write is synced before pgconn goes on (the audit log, the tune
/// history): [`open`], and when this open created the file, its directory synced too, so that the new
/// name survives a crash as the lines written to it do. Without that, a crash could leave the lines on
/// disk under no name at all.
///
/// The error of a directory that cannot be synced names it but carries no `io::Error`: that must not
/// pass for a closed stdout, which ends pgconn quietly.
pub fn open_durable(path: &Path) -> Result<Opened> {
    let opened = open(path, How::Append)?;
    if opened.created {
        let dir = parent_dir(path);
        sync_dir(dir).map_err(|e| {
            anyhow!(
                "cannot sync the directory {} of the new file {} ({e})",
                dir.display(),
                path.display()
            )
        })?;
    }
    Ok(opened)
}

/// Create `dir` and whatever is missing above it with `mode`, each new directory synced into its parent
/// (as [`open_durable`] does for a new file), so that a file made durable in it is not lost with a
/// directory that was never recorded. An existing `dir` is left as it is.
pub fn create_dirs_durable(dir: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    // The missing ones, the deepest first.
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d.filter(|p| !p.as_os_str().is_empty()) {
        if fs::symlink_metadata(p).is_ok() {
            break;
        }
        missing.push(p);
        d = p.parent();
    }
    for p in missing.into_iter().rev() {
        match fs::DirBuilder::new().mode(mode).create(p) {
            Ok(()) => {}
            // Made by someone else meanwhile: not ours to sync.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && p.is_dir() => continue,
            Err(e) => {
                return Err(anyhow!(
                    "could not create the directory {} ({e})",
                    p.display()
                ));
            }
        }
        let parent = parent_dir(p);
        sync_dir(parent).map_err(|e| {
            anyhow!(
                "cannot sync the directory {} of the new directory {} ({e})",
                parent.display(),
                p.display()
            )
        })?;
    }
    Ok(())
}

/// Replace `path` with `contents` atomically: a temporary file in the same directory, opened by [`open`]
/// (`.NAME.PID.N.tmp`, created exclusively), written and synced, given `path`'s current mode (or
/// `new_mode` for a new file), then renamed over `path`. Readers see the old content or the new, never a
/// mix; on any error `path` is left as it was and no temporary file stays behind. What is at `path` now
/// is checked like any file pgconn writes (a link there is refused, not replaced).
pub fn replace(path: &Path, contents: &[u8], new_mode: u32) -> Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} does not name a file", path.display()))?;
    check_dir(dir)?;
    let mode = match fs::symlink_metadata(path) {
        Ok(m) => {
            check_file(path, &m)?;
            m.permissions().mode() & 0o7777
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => new_mode,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let (tmp, mut file) = temporary(dir, name)?;
    let mut guard = RemoveOnDrop(Some(tmp.clone()));
    file.write_all(contents)
        .and_then(|_| file.set_permissions(fs::Permissions::from_mode(mode)))
        .and_then(|_| file.sync_all())
        .with_context(|| format!("could not write {}", tmp.display()))?;
    drop(file);
    fs::rename(&tmp, path).with_context(|| format!("could not replace {}", path.display()))?;
    guard.0 = None;
    sync_dir(dir).with_context(|| format!("could not sync the directory {}", dir.display()))?;
    Ok(())
}

/// A new temporary file beside the target, through [`open`]; another name when one is taken.
fn temporary(dir: &Path, name: &std::ffi::OsStr) -> Result<(PathBuf, File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.{nanos:x}{n}.tmp", std::process::id()));
        let tmp = dir.join(tmp_name);
        match open(&tmp, How::CreateNew) {
            Ok(o) => return Ok((tmp, o.file)),
            Err(e)
                if e.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::AlreadyExists) => {}
            Err(e) => {
                return Err(e.context(format!(
                    "could not create a temporary file in {}",
                    dir.display()
                )))
            }
        }
    }
    Err(anyhow!(
        "could not create a temporary file in {}: every name tried was taken",
        dir.display()
    ))
}

struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// mkfifo, for the tests.
#[cfg(test)]
fn mkfifo(path: &Path) {
    use rustix::fs::{mkfifoat, Mode, CWD};
    mkfifoat(CWD, path, Mode::from_raw_mode(0o600)).expect("mkfifo");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{exit_of, Exit};
    use std::os::unix::fs::symlink;
    use std::sync::mpsc;
    use std::time::Duration;

    fn refused(r: Result<impl std::fmt::Debug>) -> String {
        let e = r.expect_err("refused");
        assert_eq!(exit_of(&e), Exit::Usage, "a refusal (exit 2): {e:#}");
        format!("{e:#}")
    }

    fn chmod(p: &Path, mode: u32) {
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn postgres_uid() -> u32 {
        nix::unistd::User::from_name("postgres")
            .unwrap()
            .expect("the postgres OS user (the test clusters run as it)")
            .uid
            .as_raw()
    }

    /// Run `f` on another thread: a FIFO must not hang the open.
    fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the open did not return within 5 s")
    }

    #[test]
    fn a_new_file_is_created_0600_and_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("audit.jsonl");
        let mut o = open(&p, How::Append).unwrap();
        assert!(o.created);
        o.file.write_all(b"one\n").unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let mut o = open(&p, How::Append).unwrap();
        assert!(!o.created);
        o.file.write_all(b"two\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "one\ntwo\n");
        // A bare name is in the current directory, which is checked like any other.
        assert_eq!(parent_dir(Path::new("x.log")), Path::new("."));
    }

    #[test]
    fn a_durable_file_is_opened_by_the_same_rules_and_its_directories_are_made_0700() {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("a/b");
        create_dirs_durable(&dir, 0o700).unwrap();
        for d in [top.path().join("a"), dir.clone()] {
            assert_eq!(
                fs::metadata(&d).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
        // Existing directories are left as they are.
        chmod(&dir, 0o755);
        create_dirs_durable(&dir, 0o700).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let p = dir.join("log");
        let mut o = open_durable(&p).unwrap();
        assert!(o.created);
        o.file.write_all(b"one\n").unwrap();
        assert!(!open_durable(&p).unwrap().created);
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // The rules of `open` hold: a link is refused.
        let link = dir.join("link");
        symlink(&p, &link).unwrap();
        refused(open_durable(&link));
        // A path through a file is an error of the system, not a refusal.
        let e = create_dirs_durable(&p.join("x"), 0o700).unwrap_err();
        assert_eq!(exit_of(&e), Exit::Failure);
    }

    #[test]
    fn a_symbolic_link_is_refused_wherever_it_points() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, "keep\n").unwrap();
        let link = dir.path().join("log");
        symlink(&target, &link).unwrap();
        let msg = refused(open(&link, How::Append));
        assert!(
            msg.contains(&link.display().to_string()) && msg.contains("symbolic link"),
            "{msg}"
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep\n");

        // Dangling: not created through the link either.
        let dangling = dir.path().join("dangling");
        let nowhere = dir.path().join("nowhere");
        symlink(&nowhere, &dangling).unwrap();
        refused(open(&dangling, How::Append));
        assert!(!nowhere.exists());
        // Nor created exclusively, nor replaced.
        let e = open(&dangling, How::CreateNew).unwrap_err();
        assert_eq!(
            e.downcast_ref::<io::Error>().map(io::Error::kind),
            Some(io::ErrorKind::AlreadyExists)
        );
        refused(replace(&link, b"new\n", 0o644));
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep\n");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        refused(replace(&dangling, b"new\n", 0o644));
        assert!(!nowhere.exists());
    }

    #[test]
    fn a_fifo_is_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("log");
        mkfifo(&fifo);
        let p = fifo.clone();
        let msg = within_seconds(move || {
            open(&p, How::Append)
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        })
        .unwrap_err();
        assert!(msg.contains("is a FIFO, not a regular file"), "{msg}");
        let p = fifo.clone();
        let r = within_seconds(move || replace(&p, b"x", 0o644).map_err(|e| format!("{e:#}")));
        assert!(r.unwrap_err().contains("FIFO"));
        // A device too (the old `--log /dev/stderr`).
        let msg = refused(open(Path::new("/dev/null"), How::Append));
        assert!(msg.contains("character device"), "{msg}");
    }

    #[test]
    fn another_users_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        fs::write(&p, "theirs\n").unwrap();
        std::os::unix::fs::chown(&p, Some(postgres_uid()), None)
            .expect("chown needs root (the tests run as root)");
        let msg = refused(open(&p, How::Append));
        assert!(msg.contains("belongs to user postgres"), "{msg}");
        refused(replace(&p, b"x", 0o644));
        assert_eq!(fs::read_to_string(&p).unwrap(), "theirs\n");
    }

    #[test]
    fn a_second_hard_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        fs::write(&p, "").unwrap();
        fs::hard_link(&p, dir.path().join("other-name")).unwrap();
        let msg = refused(open(&p, How::Append));
        assert!(msg.contains("2 hard links"), "{msg}");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let msg = refused(open(dir.path(), How::Append));
        assert!(msg.contains("is a directory"), "{msg}");
    }

    #[test]
    fn directories_others_can_write_to_are_refused_unless_sticky() {
        let top = tempfile::tempdir().unwrap();
        let world = top.path().join("world");
        fs::create_dir(&world).unwrap();
        chmod(&world, 0o777);
        let msg = refused(open(&world.join("log"), How::Append));
        assert!(
            msg.contains("can be written by every user (mode 777, no sticky bit)"),
            "{msg}"
        );
        assert!(!world.join("log").exists(), "nothing created");
        refused(replace(&world.join("out.prom"), b"x", 0o644));
        assert_eq!(
            fs::read_dir(&world).unwrap().count(),
            0,
            "no temporary file"
        );

        let group = top.path().join("group");
        fs::create_dir(&group).unwrap();
        chmod(&group, 0o770);
        let msg = refused(open(&group.join("log"), How::Append));
        assert!(msg.contains("can be written by its group"), "{msg}");

        // Sticky, like /tmp: accepted.
        let sticky = top.path().join("sticky");
        fs::create_dir(&sticky).unwrap();
        chmod(&sticky, 0o1777);
        open(&sticky.join("log"), How::Append).unwrap();
        replace(&sticky.join("out.prom"), b"x 1\n", 0o644).unwrap();

        // Another user's directory: refused, even when only its owner may write to it.
        let theirs = top.path().join("theirs");
        fs::create_dir(&theirs).unwrap();
        std::os::unix::fs::chown(&theirs, Some(postgres_uid()), None).unwrap();
        let msg = refused(open(&theirs.join("log"), How::Append));
        assert!(msg.contains("belongs to user postgres"), "{msg}");
    }

    #[test]
    fn links_above_the_final_component_are_followed() {
        let top = tempfile::tempdir().unwrap();
        let real = top.path().join("real");
        fs::create_dir(&real).unwrap();
        let via = top.path().join("via");
        symlink(&real, &via).unwrap();
        let mut o = open(&via.join("log"), How::Append).unwrap();
        o.file.write_all(b"x\n").unwrap();
        assert_eq!(fs::read_to_string(real.join("log")).unwrap(), "x\n");
        replace(&via.join("out.prom"), b"y\n", 0o644).unwrap();
        assert_eq!(fs::read_to_string(real.join("out.prom")).unwrap(), "y\n");
    }

    #[test]
    fn replace_is_atomic_keeps_the_mode_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgconn.prom");
        replace(&f, b"a 1\n", 0o644).unwrap();
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o644
        );
        chmod(&f, 0o640);
        replace(&f, b"a 2\n", 0o644).unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "a 2\n");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // A missing directory is an error of the system, not a refusal.
        let e = replace(&dir.path().join("nope/x.prom"), b"x", 0o644).unwrap_err();
        assert_eq!(exit_of(&e), Exit::Failure);
    }
}
