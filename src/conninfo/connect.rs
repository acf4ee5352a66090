//! Connecting: one host at a time, libpq's sslmode fallbacks, a deadline for the whole attempt.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use postgres::config::{SslMode as PgSslMode, TargetSessionAttrs};
use postgres::NoTls;
use postgres_openssl::MakeTlsConnector;

use super::tls::LazyTls;
use super::{ConnSpec, SessionAttrs, SslMode};

/// SQLSTATE invalid_password: the password was wrong.
const INVALID_PASSWORD: &str = "28P01";

/// Why one attempt failed.
enum AttemptError {
    Pg(postgres::Error),
    Timeout,
    Internal(anyhow::Error),
}

impl AttemptError {
    /// The server rejected the attempt (an error response) or the TLS handshake failed: libpq's
    /// condition for retrying without TLS under sslmode=prefer. Not for failures to reach the server,
    /// timeouts, or a missing password (the client gives up by itself then).
    fn rejected_or_tls_failed(&self) -> bool {
        match self {
            // rust-postgres exposes no error kind; its Display for the TLS kind is a fixed string.
            AttemptError::Pg(e) => {
                e.as_db_error().is_some() || e.to_string() == "error performing TLS handshake"
            }
            AttemptError::Timeout | AttemptError::Internal(_) => false,
        }
    }

    fn is_db_error(&self) -> bool {
        matches!(self, AttemptError::Pg(e) if e.as_db_error().is_some())
    }

    fn sqlstate(&self) -> Option<&str> {
        match self {
            AttemptError::Pg(e) => e.as_db_error().map(|d| d.code().code()),
            AttemptError::Internal(e) => e
                .downcast_ref::<postgres::Error>()
                .and_then(|p| p.as_db_error())
                .map(|d| d.code().code()),
            AttemptError::Timeout => None,
        }
    }

    fn into_anyhow(self) -> anyhow::Error {
        match self {
            AttemptError::Pg(e) => anyhow::Error::new(e),
            AttemptError::Timeout => anyhow!("timeout expired"),
            AttemptError::Internal(e) => e,
        }
    }
}

/// The TLS side of one attempt.
#[derive(Clone)]
enum Tls {
    None,
    OpenSsl(MakeTlsConnector),
    /// Built when a server accepts TLS ([`LazyTls`]).
    Lazy(LazyTls),
}

/// The TLS connector of a connection: built now when it reads files or verifies (so that a missing or
/// bad file is reported before connecting, as libpq does), or when a server accepts TLS.
#[derive(Clone)]
enum Connector {
    Built(MakeTlsConnector),
    Lazy(LazyTls),
}

/// Connect to the first host that takes the connection; returns it with that host's index.
pub(super) fn connect(
    spec: &ConnSpec,
    extra_options: Option<&str>,
) -> Result<(postgres::Client, usize)> {
    let mut order: Vec<usize> = (0..spec.hosts.len()).collect();
    if spec.load_balance {
        shuffle(&mut order);
    }
    let passes: &[TargetSessionAttrs] = match spec.session_attrs {
        SessionAttrs::Any => &[TargetSessionAttrs::Any],
        SessionAttrs::ReadWrite | SessionAttrs::Primary => &[TargetSessionAttrs::ReadWrite],
        SessionAttrs::ReadOnly | SessionAttrs::Standby => &[TargetSessionAttrs::ReadOnly],
        SessionAttrs::PreferStandby => &[TargetSessionAttrs::ReadOnly, TargetSessionAttrs::Any],
    };

    // The connector is built once, and only when some host may use TLS.
    let needs_tls =
        spec.tls.mode != SslMode::Disable && spec.hosts.iter().any(|h| !h.target.socket);
    let connector = if !needs_tls {
        None
    } else if spec.tls.builds_without_files() {
        Some(Connector::Lazy(LazyTls::new(spec.tls.clone())))
    } else {
        Some(Connector::Built(
            spec.tls.connector().context("could not set up TLS")?,
        ))
    };

    let mut failures: Vec<anyhow::Error> = Vec::new();
    for &attrs in passes {
        for &i in &order {
            match connect_host(spec, i, attrs, connector.as_ref(), extra_options) {
                Ok(client) => return Ok((client, i)),
                Err(e) => failures.push(e),
            }
        }
    }
    let last = failures
        .pop()
        .unwrap_or_else(|| anyhow!("no host to connect to"));
    if failures.is_empty() {
        return Err(last);
    }
    let earlier = failures
        .iter()
        .map(|e| format!("{e:#}"))
        .collect::<Vec<_>>()
        .join("; ");
    Err(last.context(format!(
        "could not connect to any host (earlier attempts: {earlier})"
    )))
}

/// Connects to host `i`, with the sslmode fallbacks; the error names the host like libpq does.
fn connect_host(
    spec: &ConnSpec,
    i: usize,
    attrs: TargetSessionAttrs,
    connector: Option<&Connector>,
    extra_options: Option<&str>,
) -> Result<postgres::Client> {
    let target = &spec.hosts[i].target;
    let mut config = spec.base_config(extra_options);
    ConnSpec::add_target(&mut config, target);
    if let (Some(addr), Some(_)) = (target.hostaddr, &target.host) {
        config.hostaddr(addr);
    }
    let password = spec.password_for(i);
    if let Some(pw) = password {
        config.password(pw);
    }
    config.target_session_attrs(attrs);

    let tls = || match connector {
        Some(Connector::Built(c)) => Tls::OpenSsl(c.clone()),
        Some(Connector::Lazy(c)) => Tls::Lazy(c.clone()),
        None => Tls::None,
    };
    let timeout = spec.connect_timeout;
    let mode = if target.socket {
        SslMode::Disable
    } else {
        spec.tls.mode
    };
    let result = match mode {
        SslMode::Disable => attempt(&config, PgSslMode::Disable, Tls::None, timeout),
        // libpq: without TLS first; with TLS if the server rejected that attempt.
        SslMode::Allow => match attempt(&config, PgSslMode::Disable, Tls::None, timeout) {
            Err(first) if first.is_db_error() => {
                attempt(&config, PgSslMode::Require, tls(), timeout)
                    .map_err(|second| with_earlier(second, ("without TLS", "with TLS"), first))
            }
            other => other,
        },
        // libpq: with TLS first (rust-postgres itself falls back when the server refuses TLS); without
        // TLS if the server rejected the TLS attempt or the handshake failed.
        SslMode::Prefer => match attempt(&config, PgSslMode::Prefer, tls(), timeout) {
            Err(first) if first.rejected_or_tls_failed() => {
                attempt(&config, PgSslMode::Disable, Tls::None, timeout)
                    .map_err(|second| with_earlier(second, ("with TLS", "without TLS"), first))
            }
            other => other,
        },
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            attempt(&config, PgSslMode::Require, tls(), timeout)
        }
    };
    result.map_err(|e| {
        // A TLS failure in psql's words, one line, instead of OpenSSL's error stack; channel binding
        // that cannot happen, in psql's words for the server's authentication request.
        let e = match tls_failure(&e, spec) {
            Some(message) => AttemptError::Internal(anyhow::Error::new(TlsFailure(message))),
            None => match channel_binding_failure(&e, spec, i) {
                Some(refusal) => AttemptError::Internal(anyhow::Error::new(refusal)),
                None => e,
            },
        };
        let from_passfile = spec.password.is_none() && spec.hosts[i].pgpass.is_some();
        let mut what = format!("connection to {} failed", target.describe());
        if from_passfile && e.sqlstate() == Some(INVALID_PASSWORD) {
            if let Some(path) = &spec.passfile_used {
                what.push_str(&format!(
                    " (password retrieved from file \"{}\")",
                    path.display()
                ));
            }
        }
        e.into_anyhow().context(HostAttempt { index: i, what })
    })
}

/// The host a failed attempt was made to, as context of its error: "connection to server at … failed",
/// and which host of the spec that was (see [`super::refused_by`]).
#[derive(Debug)]
pub struct HostAttempt {
    pub index: usize,
    pub what: String,
}

/// Which host of the spec a failed connection attempt was made to last (its index in
/// [`ConnSpec::targets`]): the host that refused.
pub fn refused_by(err: &anyhow::Error) -> Option<usize> {
    err.downcast_ref::<HostAttempt>().map(|h| h.index)
}

impl std::fmt::Display for HostAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

/// A TLS failure of a connection attempt, in libpq's words.
#[derive(Debug)]
pub struct TlsFailure(pub String);

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsFailure {}

/// libpq's words for a TLS failure: the certificate names that do not match the host, "server does not
/// support SSL, but SSL was required", or "SSL error: certificate verify failed" (the first reason of
/// OpenSSL's stack). None for anything that is not a TLS failure.
fn tls_failure(e: &AttemptError, spec: &ConnSpec) -> Option<String> {
    let AttemptError::Pg(pe) = e else {
        return None;
    };
    if let Some(m) = spec.tls.take_mismatch() {
        return Some(m);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(pe);
    while let Some(s) = source {
        if let Some(ssl) = s.downcast_ref::<openssl::ssl::Error>() {
            return Some(super::tls::ssl_error_words(ssl));
        }
        // rust-postgres' own wording when the server answers the SSLRequest with N.
        if s.to_string().contains("server does not support TLS") {
            return Some("server does not support SSL, but SSL was required".into());
        }
        source = s.source();
    }
    None
}

/// With `channel_binding=require`, a failure of rust-postgres that is about binding ("server did not
/// use channel binding", its one wording for every case, or a password asked for before it looked at
/// binding) in libpq's words for the case, from the server's authentication request
/// ([`ConnSpec::channel_binding_refusal`]).
fn channel_binding_failure(
    e: &AttemptError,
    spec: &ConnSpec,
    i: usize,
) -> Option<crate::wire::ChannelBindingRequired> {
    let AttemptError::Pg(pe) = e else {
        return None;
    };
    if spec.channel_binding() != crate::wire::ChannelBindingPolicy::Require
        || pe.as_db_error().is_some()
    {
        return None;
    }
    if !(says(pe, "server did not use channel binding") || says(pe, PASSWORD_MISSING)) {
        return None;
    }
    spec.channel_binding_refusal(i)
}

/// Keeps the last attempt's error (its SQLSTATE is what callers see) and puts the earlier one before it:
/// `with TLS: <first error>; without TLS: <last error>`.
fn with_earlier(last: AttemptError, how: (&str, &str), earlier: AttemptError) -> AttemptError {
    let (earlier_how, last_how) = how;
    let context = format!("{earlier_how}: {:#}; {last_how}", earlier.into_anyhow());
    AttemptError::Internal(last.into_anyhow().context(context))
}

/// Connection attempts given up on at their deadline whose threads still run: each may hold an open socket
/// (a server that accepted and never answers holds it forever). Counted so that a bound on simultaneous
/// connections (--jobs) counts them too.
static ABANDONED: AtomicUsize = AtomicUsize::new(0);

/// How many connection attempts this process gave up on still hold their socket.
pub fn abandoned_attempts() -> usize {
    ABANDONED.load(Ordering::SeqCst)
}

const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
const GIVEN_UP: u8 = 2;

/// One connection attempt. With a timeout, it runs on its own thread and is abandoned at the deadline
/// (the thread ends when the socket-level timeout or the server does; [`abandoned_attempts`] counts it
/// until then).
fn attempt(
    config: &postgres::Config,
    ssl_mode: PgSslMode,
    tls: Tls,
    timeout: Option<Duration>,
) -> std::result::Result<postgres::Client, AttemptError> {
    let mut config = config.clone();
    config.ssl_mode(ssl_mode);
    let run = move || match tls {
        Tls::None => config.connect(NoTls),
        Tls::OpenSsl(c) => config.connect(c),
        Tls::Lazy(c) => config.connect(c),
    };
    let Some(timeout) = timeout else {
        return run().map_err(AttemptError::Pg);
    };
    let (tx, rx) = mpsc::channel();
    let state = Arc::new(AtomicU8::new(RUNNING));
    let thread_state = Arc::clone(&state);
    std::thread::Builder::new()
        .name("pgconn-connect".to_string())
        .spawn(move || {
            let result = run();
            // Given up on: the client (if any) is dropped here, closing the connection at last.
            if thread_state
                .compare_exchange(RUNNING, FINISHED, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                ABANDONED.fetch_sub(1, Ordering::SeqCst);
                return;
            }
            let _ = tx.send(result);
        })
        .map_err(|e| AttemptError::Internal(anyhow!(e).context("could not start a thread")))?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result.map_err(AttemptError::Pg),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            if state
                .compare_exchange(RUNNING, GIVEN_UP, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                ABANDONED.fetch_add(1, Ordering::SeqCst);
                return Err(AttemptError::Timeout);
            }
            // It finished just now: its result is on the way.
            match rx.recv() {
                Ok(result) => result.map_err(AttemptError::Pg),
                Err(_) => Err(AttemptError::Timeout),
            }
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(AttemptError::Internal(anyhow!(
            "the connection attempt ended unexpectedly"
        ))),
    }
}

/// rust-postgres' words when the server asks for a password and none was given.
const PASSWORD_MISSING: &str = "password missing";

/// Whether a rust-postgres error says `words`: its fixed words, as the source of its error (which has no
/// kind to ask).
fn says(e: &postgres::Error, words: &str) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.to_string() == words)
}

/// Whether `err` says the server asked for a password and none was known (libpq's
/// `PQconnectionNeedsPassword`): the moment psql prompts for one.
pub(super) fn is_password_missing(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<postgres::Error>()
            .is_some_and(|p| says(p, PASSWORD_MISSING))
    })
}

/// Fisher-Yates with the standard library's per-process random keys as the source of randomness.
fn shuffle(v: &mut [usize]) {
    use std::hash::{BuildHasher, Hasher};
    for i in (1..v.len()).rev() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        let j = usize::try_from(h.finish() % (i as u64 + 1)).unwrap_or(0);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conninfo::{resolve, Environment, Overrides};

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment::new(
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            None,
        )
        .with_os_user(Some("me".into()))
        .with_socket_dir("/nonexistent-pgconn-test")
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<usize> = (0..20).collect();
        shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        let mut one = vec![0];
        shuffle(&mut one);
        assert_eq!(one, vec![0]);
    }

    #[test]
    fn refused_socket_names_the_socket_and_keeps_the_postgres_error() {
        let dir = tempfile::tempdir().unwrap();
        let spec = resolve(
            &Overrides {
                dbname: Some(format!("host={} port=5999", dir.path().display())),
                ..Default::default()
            },
            &env(&[]),
        )
        .unwrap();
        let err = spec.connect(None).err().unwrap();
        let text = format!("{err:#}");
        assert!(
            text.starts_with(&format!(
                "connection to server on socket \"{}/.s.PGSQL.5999\" failed",
                dir.path().display()
            )),
            "{text}"
        );
        assert!(err.downcast_ref::<postgres::Error>().is_some());
    }

    #[test]
    fn every_host_is_tried_and_reported() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let spec = resolve(
            &Overrides {
                host: Some(format!("{},{}", a.path().display(), b.path().display())),
                port: Some("5998".into()),
                ..Default::default()
            },
            &env(&[]),
        )
        .unwrap();
        let text = format!("{:#}", spec.connect(Some("-c x=1")).err().unwrap());
        assert!(text.starts_with("could not connect to any host"), "{text}");
        assert!(text.contains(&a.path().display().to_string()));
        assert!(text.contains(&b.path().display().to_string()));
    }

    #[test]
    fn refused_tcp_with_prefer_does_not_retry_and_hides_password() {
        // Port 1 on localhost: refused at once (nothing listens there).
        let spec = resolve(
            &Overrides {
                dbname: Some("postgresql://u:hunter2@127.0.0.1:1/db?connect_timeout=5".into()),
                ..Default::default()
            },
            &env(&[]),
        )
        .unwrap();
        let text = format!("{:#}", spec.connect(None).err().unwrap());
        assert!(
            text.starts_with("connection to server at \"127.0.0.1\", port 1 failed"),
            "{text}"
        );
        assert!(!text.contains("failed too"), "{text}");
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn a_silent_server_hits_the_timeout() {
        // The kernel accepts the connection into the backlog; nothing ever answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let spec = resolve(
            &Overrides {
                host: Some("127.0.0.1".into()),
                port: Some(port.to_string()),
                connect_timeout: Some(Duration::from_millis(300)),
                ..Default::default()
            },
            &env(&[("PGSSLMODE", "disable")]),
        )
        .unwrap();
        let started = std::time::Instant::now();
        let err = spec.connect(None).err().unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            format!("{err:#}"),
            format!("connection to server at \"127.0.0.1\", port {port} failed: timeout expired")
        );
        assert!(!is_password_missing(&err));
        drop(listener);
    }
}
