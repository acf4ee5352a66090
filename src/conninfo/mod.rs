//! libpq-compatible connection resolution.
//!
//! A user's existing psql setup must just work: `-h -p -U -d` (where `-d` may be a whole conninfo string or
//! a `postgres://` URI), the `PG*` environment variables, `~/.pgpass`, `pg_service.conf` and `sslmode` all
//! mean what they mean to libpq.
//!
//! Precedence, highest first:
//! 1. values of a conninfo string or URI given as the database name (psql's `-d`): as in psql they win
//!    over `-h`, `-p` and `-U` (only `--connect-timeout`, pgconn's own flag, wins over them);
//! 2. the other command-line flags ([`Overrides`]);
//! 3. the service file entry named by `service=` (from 1 or 2) or `PGSERVICE`: its values fill only the
//!    keywords not set above — and they beat the environment, as in libpq;
//! 4. environment variables (`PGHOST`, `PGPORT`, ... — each keyword's libpq variable);
//! 5. defaults: user = the effective OS user, dbname = user, port 5432, host = the socket directory
//!    [`DEFAULT_SOCKET_DIR`] only (as libpq: no other directory, no TCP); sslmode `prefer`;
//!    connect_timeout 10 s; application_name `pgconn`.

mod connect;
mod keywords;
mod parse;
mod pgpass;
mod redact;
mod resolve;
mod service;
mod tls;
mod walsender;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};

use crate::wire::ChannelBindingPolicy;
use serde::Serialize;

pub use redact::{redact, REDACTED};
pub use resolve::resolve;

/// The service a connection text itself names (`service=NAME` in a conninfo, `?service=NAME` in a URI),
/// not one that comes from the environment (PGSERVICE): None for a plain database name or text that does
/// not parse.
pub fn named_service(text: &str) -> Option<String> {
    if !parse::is_conninfo(text) {
        return None;
    }
    parse::parse(text)
        .ok()?
        .into_iter()
        .rev()
        .find(|(k, _)| *k == "service")
        .map(|(_, v)| v)
}

/// Whether a [`ConnSpec::connect`] error means the server asked for a password and none was known —
/// when psql would prompt for one (then [`ConnSpec::set_password`] and connect again).
pub fn is_password_missing(err: &anyhow::Error) -> bool {
    connect::is_password_missing(err)
}

/// Connection attempts this process gave up on (their timeout passed) that still hold a socket.
pub fn abandoned_attempts() -> usize {
    connect::abandoned_attempts()
}
pub use connect::refused_by;
pub use tls::SslMode;

/// The socket directory used when no host is given, as libpq's compiled-in DEFAULT_PGSOCKET_DIR: Debian's,
/// Ubuntu's and Red Hat's libpq use `/var/run/postgresql`, upstream's `/tmp`. Set another at build time
/// with `PGCONN_DEFAULT_SOCKET_DIR=/tmp cargo build`. Only this one directory is tried, and no TCP after
/// it, exactly as libpq does (`pg_config` does not report it, and is often absent).
pub const DEFAULT_SOCKET_DIR: &str = match option_env!("PGCONN_DEFAULT_SOCKET_DIR") {
    Some(d) => d,
    None => "/var/run/postgresql",
};
/// The port used when none is given.
pub const DEFAULT_PORT: u16 = 5432;
/// The per-host connection timeout used when none is given.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The application_name sent when neither `application_name` nor `fallback_application_name` is set.
pub const DEFAULT_APPLICATION_NAME: &str = "pgconn";
/// Where the system-wide `pg_service.conf` lives when `PGSYSCONFDIR` is not set (Debian's libpq).
pub const DEFAULT_SYSCONFDIR: &str = "/etc/postgresql-common";

/// Command-line flags: below the values of a `-d` conninfo (except `connect_timeout`), above everything
/// else. Empty strings count as not given (as libpq treats empty parameter values).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `-h`: host name, IP address or socket directory; a comma-separated list for several hosts.
    pub host: Option<String>,
    /// `-p`: port, or a comma-separated list (one per host).
    pub port: Option<String>,
    /// `-U`: user name.
    pub user: Option<String>,
    /// `-d`: a database name, or a whole conninfo string (`host=x dbname=y`) or `postgres://` URI, which
    /// is expanded (libpq's rule: it contains `=` or starts with `postgres://` / `postgresql://`).
    pub dbname: Option<String>,
    /// `--service`: a section of the connection service file.
    pub service: Option<String>,
    /// `--connect-timeout`: per host; zero waits forever (libpq's `connect_timeout=0`).
    pub connect_timeout: Option<Duration>,
}

/// A snapshot of what resolution reads from the process: environment variables, the home directory, the
/// OS user name and the socket directory used when no host is given.
#[derive(Clone)]
pub struct Environment {
    vars: HashMap<String, String>,
    home: Option<PathBuf>,
    os_user: Option<String>,
    socket_dir: PathBuf,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut pg: Vec<&str> = self
            .vars
            .keys()
            .filter(|k| k.starts_with("PG"))
            .map(String::as_str)
            .collect();
        pg.sort_unstable();
        f.debug_struct("Environment")
            .field("pg_vars_set", &pg)
            .field("home", &self.home)
            .field("os_user", &self.os_user)
            .field("socket_dir", &self.socket_dir)
            .finish()
    }
}

impl Environment {
    /// The current process: its environment (UTF-8 variables only), `$HOME` or the passwd entry's home
    /// directory, and the effective user's name.
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect::<Vec<_>>();
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| effective_user().map(|u| u.dir));
        Environment::new(vars, home)
    }

    /// An explicit environment (for tests and embedding). The OS user name is still the effective user's
    /// (see [`Environment::with_os_user`]); the default socket directory is [`DEFAULT_SOCKET_DIR`] (see
    /// [`Environment::with_socket_dir`]).
    pub fn new(vars: impl IntoIterator<Item = (String, String)>, home: Option<PathBuf>) -> Self {
        Environment {
            vars: vars.into_iter().collect(),
            home,
            os_user: effective_user().map(|u| u.name),
            socket_dir: PathBuf::from(DEFAULT_SOCKET_DIR),
        }
    }

    /// Replaces the OS user name (the default user); `None` makes a missing user name an error.
    pub fn with_os_user(mut self, user: Option<String>) -> Self {
        self.os_user = user;
        self
    }

    /// Replaces the socket directory used when no host is given.
    pub fn with_socket_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.socket_dir = dir.into();
        self
    }

    /// An environment variable's value, if set (even to the empty string).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The home directory, if known.
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }
}

fn effective_user() -> Option<nix::unistd::User> {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
}

/// One host to try: a TCP host (name and/or address) or a Unix socket directory, with its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    host: Option<String>,
    hostaddr: Option<IpAddr>,
    port: u16,
    socket: bool,
    defaulted: bool,
    /// No port given anywhere: [`DEFAULT_PORT`].
    port_defaulted: bool,
}

impl Host {
    /// The host name or socket directory (`None` when only `hostaddr` was given).
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The numeric address to connect to instead of resolving the host name.
    pub fn hostaddr(&self) -> Option<IpAddr> {
        self.hostaddr
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether this is a Unix-domain socket directory.
    pub fn is_socket(&self) -> bool {
        self.socket
    }

    /// Whether the host came from the defaults (no host given anywhere).
    pub fn is_default(&self) -> bool {
        self.defaulted
    }

    /// Whether the port came from the defaults (no port given anywhere).
    pub fn port_is_default(&self) -> bool {
        self.port_defaulted
    }

    /// The socket file, `<dir>/.s.PGSQL.<port>`, for a socket target.
    pub fn socket_path(&self) -> Option<PathBuf> {
        match (&self.host, self.socket) {
            (Some(dir), true) => Some(Path::new(dir).join(format!(".s.PGSQL.{}", self.port))),
            _ => None,
        }
    }

    /// The host as shown to people: name, socket directory or address.
    pub fn display_host(&self) -> String {
        match (&self.host, self.hostaddr) {
            (Some(h), _) => h.clone(),
            (None, Some(a)) => a.to_string(),
            (None, None) => String::new(),
        }
    }

    /// `host:port`, with brackets around an IPv6 address.
    fn label(&self) -> String {
        let host = self.display_host();
        if host.contains(':') && !self.socket {
            format!("[{host}]:{}", self.port)
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// libpq's wording: `server on socket "/dir/.s.PGSQL.5432"` / `server at "h" (1.2.3.4), port 5432`.
    fn describe(&self) -> String {
        if let Some(path) = self.socket_path() {
            return format!("server on socket \"{}\"", path.display());
        }
        match (&self.host, self.hostaddr) {
            (Some(h), Some(a)) => format!("server at \"{h}\" ({a}), port {}", self.port),
            (Some(h), None) => format!("server at \"{h}\", port {}", self.port),
            (None, Some(a)) => format!("server at \"{a}\", port {}", self.port),
            (None, None) => format!("server on port {}", self.port),
        }
    }

    /// The host name matched against the password file: `localhost` for the default host and for a
    /// default socket directory (libpq's rule for its compiled-in socket directory), else the host, else
    /// the address.
    fn pgpass_host(&self, default_dir: &Path) -> String {
        match &self.host {
            _ if self.defaulted => "localhost".to_string(),
            Some(h) if self.socket && Path::new(h) == default_dir => "localhost".to_string(),
            Some(h) => h.clone(),
            None => self.hostaddr.map(|a| a.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Clone)]
struct HostEntry {
    target: Host,
    /// The password found for this host in the password file.
    pgpass: Option<String>,
}

/// `target_session_attrs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionAttrs {
    Any,
    ReadWrite,
    ReadOnly,
    Primary,
    Standby,
    PreferStandby,
}

/// Who the connection is for, as written to JSON output and audit logs. `host` and `port` are
/// comma-separated when several hosts are configured (libpq's `PQhost`/`PQport` spelling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub host: String,
    pub port: String,
    pub dbname: String,
    pub user: String,
}

/// Fully resolved connection parameters. Cloning is cheap enough; `Debug` never shows a password.
#[derive(Clone)]
pub struct ConnSpec {
    /// Resolved non-secret keywords (no empty values).
    params: BTreeMap<&'static str, String>,
    /// A password from the conninfo, the service file, `PGPASSWORD` or [`ConnSpec::set_password`].
    password: Option<String>,
    /// The password file consulted, when it supplied a password for some host.
    passfile_used: Option<PathBuf>,
    hosts: Vec<HostEntry>,
    user: String,
    dbname: String,
    connect_timeout: Option<Duration>,
    session_attrs: SessionAttrs,
    load_balance: bool,
    keepalives: bool,
    tls: tls::TlsOptions,
    warnings: Vec<String>,
    /// The same server as another role (`--fallback-user`): tried only to show what holds a role that
    /// was refused at its CONNECTION LIMIT. pgconn never guesses one.
    fallback: Option<Box<ConnSpec>>,
    /// `--platform` as given (`none`, a platform's name): not a libpq keyword, carried with the
    /// target so that every connection to it (one, several, watch's reconnections) reads it; the db
    /// layer interprets it.
    platform: Option<String>,
}

impl fmt::Debug for ConnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let targets: Vec<&Host> = self.hosts.iter().map(|h| &h.target).collect();
        f.debug_struct("ConnSpec")
            .field("params", &self.params)
            .field("targets", &targets)
            .field(
                "password",
                &if self.has_password() {
                    Some(REDACTED)
                } else {
                    None
                },
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("tls", &self.tls)
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl ConnSpec {
    /// A resolved non-secret keyword, by its libpq name (`host`, `hostaddr`, `port`, `user`, `dbname`,
    /// `sslmode`, `application_name`, `connect_timeout` (seconds, `0` = none), `passfile`, ...). `host`
    /// and `port` include the defaults and are comma-separated for several hosts. Secrets (`password`,
    /// `sslpassword`) are always `None`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The database name.
    pub fn dbname(&self) -> &str {
        &self.dbname
    }

    /// Whether a password is known: given explicitly, entered, or found in the password file.
    /// The same server as the `--fallback-user` role, when one was given.
    pub fn fallback(&self) -> Option<&ConnSpec> {
        self.fallback.as_deref()
    }

    /// Give the `--fallback-user` connection (resolved as its own: its own password file entry).
    pub fn set_fallback(&mut self, spec: ConnSpec) {
        self.fallback = Some(Box::new(spec));
    }

    /// `--platform` as given (see the field).
    pub fn set_platform(&mut self, platform: Option<String>) {
        self.platform = platform;
    }

    pub fn platform(&self) -> Option<&str> {
        self.platform.as_deref()
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some() || self.hosts.iter().any(|h| h.pgpass.is_some())
    }

    /// Sets the password (e.g. entered at a prompt); it takes precedence over the password file.
    pub fn set_password(&mut self, password: String) {
        self.password = Some(password);
    }

    /// Warnings collected during resolution (ignored password file, settings that cannot be honoured).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The hosts to try, in the configured order.
    pub fn targets(&self) -> Vec<&Host> {
        self.hosts.iter().map(|h| &h.target).collect()
    }

    /// The effective sslmode.
    pub fn ssl_mode(&self) -> SslMode {
        self.tls.mode
    }

    /// The per-host connection timeout (`None` waits forever).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// `db1.example:5432/app`, `/var/run/postgresql:5432/app`, `[::1]:5432/app` or
    /// `a:5432,b:5433/app`. Never contains a password.
    pub fn target_label(&self) -> String {
        let hosts = self
            .hosts
            .iter()
            .map(|h| h.target.label())
            .collect::<Vec<_>>()
            .join(",");
        format!("{hosts}/{}", self.dbname)
    }

    /// Host, port, database and user, for JSON output and audit logs.
    pub fn identity(&self) -> Identity {
        let join = |f: &dyn Fn(&Host) -> String| {
            self.hosts
                .iter()
                .map(|h| f(&h.target))
                .collect::<Vec<_>>()
                .join(",")
        };
        Identity {
            host: join(&Host::display_host),
            port: join(&|t| t.port.to_string()),
            dbname: self.dbname.clone(),
            user: self.user.clone(),
        }
    }

    /// The application_name sent: `application_name`, else `fallback_application_name`, else `pgconn`.
    pub fn application_name(&self) -> &str {
        self.get("application_name")
            .or_else(|| self.get("fallback_application_name"))
            .unwrap_or(DEFAULT_APPLICATION_NAME)
    }

    /// `options`, with `extra` (e.g. `-c statement_timeout=30s`) appended.
    fn options_with(&self, extra: Option<&str>) -> Option<String> {
        let parts: Vec<&str> = [self.get("options"), extra.filter(|e| !e.trim().is_empty())]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// `channel_binding` (validated when resolved; prefer by default).
    fn channel_binding(&self) -> ChannelBindingPolicy {
        match self.get("channel_binding") {
            Some("disable") => ChannelBindingPolicy::Disable,
            Some("require") => ChannelBindingPolicy::Require,
            _ => ChannelBindingPolicy::Prefer,
        }
    }

    /// The settings shared by every host: user, database, options, timeouts, keepalives, ...
    fn base_config(&self, extra_options: Option<&str>) -> postgres::Config {
        let mut c = postgres::Config::new();
        c.user(&self.user);
        c.dbname(&self.dbname);
        c.application_name(self.application_name());
        if let Some(options) = self.options_with(extra_options) {
            c.options(&options);
        }
        if let Some(t) = self.connect_timeout {
            c.connect_timeout(t);
        }
        c.keepalives(self.keepalives);
        if self.load_balance {
            // Also shuffles the addresses a host name resolves to, as libpq does.
            c.load_balance_hosts(postgres::config::LoadBalanceHosts::Random);
        }
        let secs = |key: &str| {
            self.get(key)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|v| *v > 0)
        };
        if let Some(s) = secs("keepalives_idle") {
            c.keepalives_idle(Duration::from_secs(s.unsigned_abs()));
        }
        if let Some(s) = secs("keepalives_interval") {
            c.keepalives_interval(Duration::from_secs(s.unsigned_abs()));
        }
        if let Some(n) = secs("keepalives_count").and_then(|n| u32::try_from(n).ok()) {
            c.keepalives_retries(n);
        }
        // libpq's tcp_user_timeout is in milliseconds.
        if let Some(ms) = secs("tcp_user_timeout") {
            c.tcp_user_timeout(Duration::from_millis(ms.unsigned_abs()));
        }
        c.channel_binding(match self.channel_binding() {
            ChannelBindingPolicy::Disable => postgres::config::ChannelBinding::Disable,
            ChannelBindingPolicy::Require => postgres::config::ChannelBinding::Require,
            ChannelBindingPolicy::Prefer => postgres::config::ChannelBinding::Prefer,
        });
        if self.tls.direct {
            c.ssl_negotiation(postgres::config::SslNegotiation::Direct);
        }
        c
    }

    /// Adds one host (name or socket directory, address, port) to `c`.
    fn add_target(c: &mut postgres::Config, t: &Host) {
        match (&t.host, t.hostaddr) {
            (Some(h), _) if t.socket => {
                c.host_path(h);
            }
            (Some(h), _) => {
                c.host(h);
            }
            // Only an address: it doubles as the host name (TLS needs one).
            (None, Some(a)) => {
                c.host(&a.to_string());
            }
            (None, None) => {}
        }
        c.port(t.port);
    }

    /// One `postgres::Config` for all hosts: socket directories via `host_path`, `hostaddr`, ports, user,
    /// dbname, password, options, application_name (`pgconn` unless set), connect_timeout (default 10 s),
    /// keepalives, target_session_attrs and a rust-postgres sslmode.
    ///
    /// Limitations of a single `Config`, which [`ConnSpec::connect`] does not have: the password is the
    /// explicit one or the first host's password-file entry; sslmode `allow` becomes `prefer` (TLS is
    /// tried first); `primary`/`standby` become `read-write`/`read-only`, `prefer-standby` becomes
    /// `any`; a `hostaddr` list with empty entries is refused. TLS itself needs the connector from
    /// [`ConnSpec::tls_connector`].
    pub fn config(&self) -> Result<postgres::Config> {
        let mut c = self.base_config(None);
        let with_addr = self
            .hosts
            .iter()
            .filter(|h| h.target.hostaddr.is_some())
            .count();
        if with_addr != 0 && with_addr != self.hosts.len() {
            bail!("a hostaddr list with empty entries can only be used to connect, not as one configuration");
        }
        for h in &self.hosts {
            Self::add_target(&mut c, &h.target);
            if let Some(a) = h.target.hostaddr {
                c.hostaddr(a);
            }
        }
        if let Some(pw) = self.password_for(0) {
            c.password(pw);
        }
        c.target_session_attrs(match self.session_attrs {
            SessionAttrs::ReadWrite | SessionAttrs::Primary => {
                postgres::config::TargetSessionAttrs::ReadWrite
            }
            SessionAttrs::ReadOnly | SessionAttrs::Standby => {
                postgres::config::TargetSessionAttrs::ReadOnly
            }
            SessionAttrs::Any | SessionAttrs::PreferStandby => {
                postgres::config::TargetSessionAttrs::Any
            }
        });
        let all_sockets = self.hosts.iter().all(|h| h.target.socket);
        c.ssl_mode(match self.tls.mode {
            _ if all_sockets => postgres::config::SslMode::Disable,
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Allow | SslMode::Prefer => postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                postgres::config::SslMode::Require
            }
        });
        Ok(c)
    }

    /// The TLS connector for this sslmode (certificate checks, client certificate, CRLs), for use with
    /// [`ConnSpec::config`]. Reads the certificate files.
    pub fn tls_connector(&self) -> Result<postgres_openssl::MakeTlsConnector> {
        self.tls.connector()
    }

    /// The password for host `i`: explicit, else that host's password-file entry.
    fn password_for(&self, i: usize) -> Option<&str> {
        self.password
            .as_deref()
            .or_else(|| self.hosts.get(i).and_then(|h| h.pgpass.as_deref()))
    }

    /// Connects, trying each host in turn (in random order with `load_balance_hosts=random`), each
    /// within `connect_timeout` (the whole attempt: socket, TLS, authentication — libpq's meaning), with
    /// libpq's sslmode behaviour: `allow` tries without TLS then with it, `prefer` with then without,
    /// Unix sockets never use TLS. `extra_options` (e.g. `-c statement_timeout=30s`) is appended to
    /// `options`.
    ///
    /// On failure the `postgres::Error` of the last attempt stays in the error chain: downcast with
    /// `err.downcast_ref::<postgres::Error>()` and read the SQLSTATE from `as_db_error()`.
    pub fn connect(&self, extra_options: Option<&str>) -> Result<postgres::Client> {
        connect::connect(self, extra_options).map(|(client, _)| client)
    }

    /// [`ConnSpec::connect`], also telling which host (its index in [`ConnSpec::targets`]) took the
    /// connection: with several hosts, labels must name the server actually reached.
    pub fn connect_reached(
        &self,
        extra_options: Option<&str>,
    ) -> Result<(postgres::Client, usize)> {
        connect::connect(self, extra_options)
    }

    /// The label of host `i` alone (`db2:5433/app`): the server reached, as psql's `\conninfo` names it.
    pub fn label_of(&self, i: usize) -> String {
        match self.hosts.get(i) {
            Some(h) if self.hosts.len() > 1 => format!("{}/{}", h.target.label(), self.dbname),
            _ => self.target_label(),
        }
    }

    /// The identity of host `i` alone (host, port, database, user).
    pub fn identity_of(&self, i: usize) -> Identity {
        match self.hosts.get(i) {
            Some(h) if self.hosts.len() > 1 => Identity {
                host: h.target.display_host(),
                port: h.target.port.to_string(),
                dbname: self.dbname.clone(),
                user: self.user.clone(),
            },
            _ => self.identity(),
        }
    }
}

/// The same connection string without its secrets (password, sslpassword, oauth_client_secret, the SCRAM
/// keys; URI or key=value), for echoing a command that must still work: libpq then takes the password from
/// PGPASSWORD, ~/.pgpass or a prompt. Text that is not a connection string is returned as is; one that does
/// not parse is replaced by nothing secret.
pub fn without_secrets(text: &str) -> String {
    if !parse::is_conninfo(text) {
        return text.to_string();
    }
    match parse::parse(text) {
        Ok(pairs) => pairs
            .into_iter()
            .filter(|(k, _)| !keywords::lookup(k).is_some_and(|kw| kw.secret))
            .map(|(k, v)| format!("{k}={}", quote_value(&v)))
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => redact(text),
    }
}

/// A conninfo value, single-quoted when it needs to be.
pub fn quote_value(v: &str) -> String {
    if !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

#[cfg(test)]
mod without_secrets_tests {
    use super::without_secrets as without_password;

    #[test]
    fn passwords_are_dropped_not_masked() {
        assert_eq!(without_password("appdb"), "appdb");
        assert_eq!(
            without_password("host=db1 password='se cret' dbname=app"),
            "host=db1 dbname=app"
        );
        let uri = without_password("postgresql://bob:s3cret@db1:5433/app?sslmode=require");
        assert!(!uri.contains("s3cret"), "{uri}");
        assert!(
            uri.contains("user=bob")
                && uri.contains("port=5433")
                && uri.contains("sslmode=require"),
            "{uri}"
        );
        assert_eq!(without_password("host='a b' user=x"), "host='a b' user=x");
        for k in [
            "sslpassword",
            "oauth_client_secret",
            "scram_client_key",
            "scram_server_key",
        ] {
            assert_eq!(
                without_password(&format!("host=db1 {k}=s3cret dbname=app")),
                "host=db1 dbname=app"
            );
        }
    }
}
