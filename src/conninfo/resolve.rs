//! Resolution: flags, a `-d` conninfo, the service file, the environment and defaults into one
//! [`ConnSpec`].

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use openssl::ssl::SslVersion;

use super::{
    keywords, parse, pgpass, redact, service, tls, ConnSpec, Environment, Host, HostEntry,
    Overrides, SessionAttrs, SslMode, DEFAULT_CONNECT_TIMEOUT, DEFAULT_PORT, DEFAULT_SYSCONFDIR,
};

/// The resolved value of each keyword, before defaults; empty values are kept (libpq semantics: an
/// explicitly empty value still blocks lower layers).
type Params = BTreeMap<&'static str, String>;

fn non_empty<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

/// Resolves flags, a `-d` conninfo, the service file, the environment and defaults into one
/// [`ConnSpec`], and looks up the password file when no password is set.
///
/// With several hosts, the password file is searched for each host; [`ConnSpec::connect`] uses each
/// host's own entry, while [`ConnSpec::config`] (one `postgres::Config` for all hosts) can carry only
/// the first host's.
///
/// Errors never carry a secret: they are redacted here, once, for every caller.
pub fn resolve(o: &Overrides, env: &Environment) -> Result<ConnSpec> {
    resolve_unredacted(o, env).map_err(|e| anyhow::anyhow!(redact(&format!("{e:#}"))))
}

fn resolve_unredacted(o: &Overrides, env: &Environment) -> Result<ConnSpec> {
    let mut p = Params::new();

    // 1. Flags.
    let conninfo = o
        .dbname
        .as_deref()
        .filter(|d| !d.is_empty() && parse::is_conninfo(d));
    let plain_dbname = o
        .dbname
        .as_deref()
        .filter(|d| !d.is_empty() && conninfo.is_none());
    let flags = [
        ("host", o.host.as_deref()),
        ("port", o.port.as_deref()),
        ("user", o.user.as_deref()),
        ("dbname", plain_dbname),
        ("service", o.service.as_deref()),
    ];
    for (k, v) in flags {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            p.insert(k, v.to_string());
        }
    }

    // 2. A conninfo string or URI given as the database name: its values win over -h, -p and -U, as in
    //    psql (which passes those before the expanded dbname to PQconnectdbParams).
    if let Some(d) = conninfo {
        let pairs = parse::parse(d).context("invalid connection string given as database name")?;
        for (k, v) in pairs {
            p.insert(k, v);
        }
    }
    // --connect-timeout is pgconn's own option (psql has none): given, it wins.
    if let Some(t) = o.connect_timeout {
        p.insert("connect_timeout", t.as_secs().to_string());
    }

    // 3. The service file: fills what is not set yet.
    let service = non_empty(&p, "service")
        .or_else(|| env.var("PGSERVICE").filter(|s| !s.is_empty()))
        .map(str::to_string);
    if let Some(name) = &service {
        let files = service_files(&p, env);
        for (k, v) in service::lookup(name, &files)? {
            p.entry(k).or_insert(v);
        }
        p.insert("service", name.clone());
    }

    // 4. Environment variables.
    for kw in keywords::KEYWORDS {
        if let Some(var) = kw.env {
            if !p.contains_key(kw.name) {
                if let Some(v) = env.var(var) {
                    p.insert(kw.name, v.to_string());
                }
            }
        }
    }

    // 5. Defaults, validation, the password file.
    finish(p, o, env)
}

/// The service files searched, in order: the user's (`servicefile=`, `PGSERVICEFILE` or
/// `~/.pg_service.conf`), then the system's (`$PGSYSCONFDIR/pg_service.conf`).
fn service_files(p: &Params, env: &Environment) -> Vec<PathBuf> {
    let mut files = Vec::with_capacity(2);
    if let Some(f) = non_empty(p, "servicefile").or_else(|| env.var("PGSERVICEFILE")) {
        files.push(PathBuf::from(f));
    } else if let Some(home) = env.home() {
        files.push(home.join(".pg_service.conf"));
    }
    let sysconf = env
        .var("PGSYSCONFDIR")
        .filter(|d| !d.is_empty())
        .unwrap_or(DEFAULT_SYSCONFDIR);
    files.push(Path::new(sysconf).join("pg_service.conf"));
    files
}

/// libpq's `parse_int_param`: an integer, blanks around it allowed.
fn parse_int(p: &Params, key: &str) -> Result<Option<i64>> {
    match non_empty(p, key) {
        None => Ok(None),
        Some(v) => {
            v.trim().parse::<i64>().map(Some).map_err(|_| {
                anyhow!("invalid integer value \"{v}\" for connection option \"{key}\"")
            })
        }
    }
}

/// Seconds as libpq counts them: zero or less means "not set" (the OS default / wait forever).
fn positive_secs(v: Option<i64>) -> Option<Duration> {
    v.filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s.unsigned_abs()))
}

fn one_of(p: &Params, key: &str, allowed: &[&str], default: &str) -> Result<String> {
    match non_empty(p, key) {
        None => Ok(default.to_string()),
        Some(v) if allowed.contains(&v) => Ok(v.to_string()),
        Some(v) => bail!("invalid {key} value: \"{v}\""),
    }
}

/// Defaults, validation and the password file: the last step of [`resolve`]. The steps run in this order,
/// so with several invalid settings the error names the first one checked.
fn finish(p: Params, o: &Overrides, env: &Environment) -> Result<ConnSpec> {
    let mut warnings = Vec::new();
    let encryption = encryption(&p, &mut warnings)?;
    let session_attrs = session_attrs(&p)?;
    let load_balance =
        one_of(&p, "load_balance_hosts", &["disable", "random"], "disable")? == "random";
    let keepalives = keepalives(&p)?;
    let connect_timeout = connect_timeout(&p, o)?;
    warn_unsupported(&p, &mut warnings);
    let targets = resolve_targets(&p, env)?;
    let login = login(&p, env)?;
    let (hosts, passfile_used) = look_up_passwords(targets, &login, env, &mut warnings);
    let tls = tls_options(&p, &encryption, env);
    if tls.mode == SslMode::VerifyFull && hosts.iter().any(|h| h.target.host.is_none()) {
        bail!("host name must be specified for a verified SSL connection");
    }
    let params = resolved_view(p, &hosts, &login, &encryption, connect_timeout);

    Ok(ConnSpec {
        params,
        password: login.password,
        passfile_used,
        hosts,
        user: login.user,
        dbname: login.dbname,
        connect_timeout,
        session_attrs,
        load_balance,
        keepalives,
        tls,
        warnings,
        fallback: None,
        platform: None,
    })
}

/// The resolved sslmode and the settings that go with it: sslrootcert, sslnegotiation, channel_binding,
/// sslcertmode, the TLS protocol versions and sslsni.
struct Encryption {
    mode: SslMode,
    rootcert: Option<String>,
    direct: bool,
    channel_binding: String,
    cert_mode: tls::CertMode,
    min_version: Option<SslVersion>,
    max_version: Option<SslVersion>,
    sni: bool,
}

/// sslmode and the checks on it: with `sslrootcert=system` it must be (and defaults to) verify-full,
/// `sslnegotiation=direct` needs require or stronger, `gssencmode=require` is refused (no GSSAPI); then
/// channel_binding, the client certificate mode, the protocol versions and SNI.
fn encryption(p: &Params, warnings: &mut Vec<String>) -> Result<Encryption> {
    let rootcert = non_empty(p, "sslrootcert").map(str::to_string);
    let mode = match non_empty(p, "sslmode") {
        Some(m) => SslMode::parse(m)?,
        // libpq 16+: sslrootcert=system makes verify-full the default.
        None if rootcert.as_deref() == Some("system") => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    if rootcert.as_deref() == Some("system") && mode != SslMode::VerifyFull {
        bail!(
            "weak sslmode \"{mode}\" may not be used with sslrootcert=system (use \"verify-full\")"
        );
    }
    let negotiation = one_of(p, "sslnegotiation", &["postgres", "direct"], "postgres")?;
    let direct = negotiation == "direct";
    if direct && mode < SslMode::Require {
        bail!(
            "weak sslmode \"{mode}\" may not be used with sslnegotiation=direct (use \"require\", \
             \"verify-ca\", or \"verify-full\")"
        );
    }
    let gss = one_of(p, "gssencmode", &["disable", "prefer", "require"], "prefer")?;
    if gss == "require" {
        bail!("gssencmode value \"require\" invalid when GSSAPI support is not compiled in");
    }
    let channel_binding = one_of(
        p,
        "channel_binding",
        &["disable", "prefer", "require"],
        "prefer",
    )?;
    let cert_mode = cert_mode(p, warnings)?;
    let (min_version, max_version) = protocol_versions(p)?;
    let sni = !matches!(parse_int(p, "sslsni")?, Some(0));
    Ok(Encryption {
        mode,
        rootcert,
        direct,
        channel_binding,
        cert_mode,
        min_version,
        max_version,
        sni,
    })
}

/// sslcertmode; `require` is accepted with a warning, since it is not enforced.
fn cert_mode(p: &Params, warnings: &mut Vec<String>) -> Result<tls::CertMode> {
    Ok(
        match one_of(p, "sslcertmode", &["disable", "allow", "require"], "allow")?.as_str() {
            "disable" => tls::CertMode::Disable,
            "require" => {
                warnings.push(
                    "sslcertmode=require is not enforced: the connection does not fail when the \
                     server asks for no client certificate"
                        .to_string(),
                );
                tls::CertMode::Require
            }
            _ => tls::CertMode::Allow,
        },
    )
}

/// ssl_min_protocol_version (TLSv1.2 unless set) and ssl_max_protocol_version (none unless set), as a
/// valid range.
fn protocol_versions(p: &Params) -> Result<(Option<SslVersion>, Option<SslVersion>)> {
    let min_version = match non_empty(p, "ssl_min_protocol_version") {
        Some(v) => Some(tls::parse_protocol_version("ssl_min_protocol_version", v)?),
        None => Some(SslVersion::TLS1_2),
    };
    let max_version = non_empty(p, "ssl_max_protocol_version")
        .map(|v| tls::parse_protocol_version("ssl_max_protocol_version", v))
        .transpose()?;
    if let (Some(min), Some(max)) = (min_version, max_version) {
        if tls::protocol_rank(min) > tls::protocol_rank(max) {
            bail!("invalid SSL protocol version range");
        }
    }
    Ok((min_version, max_version))
}

/// target_session_attrs.
fn session_attrs(p: &Params) -> Result<SessionAttrs> {
    let value = one_of(
        p,
        "target_session_attrs",
        &[
            "any",
            "read-write",
            "read-only",
            "primary",
            "standby",
            "prefer-standby",
        ],
        "any",
    )?;
    Ok(match value.as_str() {
        "read-write" => SessionAttrs::ReadWrite,
        "read-only" => SessionAttrs::ReadOnly,
        "primary" => SessionAttrs::Primary,
        "standby" => SessionAttrs::Standby,
        "prefer-standby" => SessionAttrs::PreferStandby,
        _ => SessionAttrs::Any,
    })
}

/// Whether TCP keepalives are on (unless `keepalives=0`); also checks that keepalives_idle,
/// keepalives_interval, keepalives_count and tcp_user_timeout are integers.
fn keepalives(p: &Params) -> Result<bool> {
    let keepalives = !matches!(parse_int(p, "keepalives")?, Some(0));
    for key in [
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    ] {
        parse_int(p, key)?;
    }
    Ok(keepalives)
}

/// The per-host connection timeout: `--connect-timeout` (zero: none), else connect_timeout (zero or less:
/// none), else [`DEFAULT_CONNECT_TIMEOUT`]; `None` waits forever.
fn connect_timeout(p: &Params, o: &Overrides) -> Result<Option<Duration>> {
    Ok(match o.connect_timeout {
        Some(t) if t.is_zero() => None,
        Some(t) => Some(t),
        None => match parse_int(p, "connect_timeout")? {
            None => Some(DEFAULT_CONNECT_TIMEOUT),
            // libpq: a timeout of 1 s would be too short to be useful, so it means 2 s.
            Some(1) => Some(Duration::from_secs(2)),
            v => positive_secs(v),
        },
    })
}

/// Warnings for the settings we cannot honour.
fn warn_unsupported(p: &Params, warnings: &mut Vec<String>) {
    if let Some(v) = non_empty(p, "requirepeer") {
        warnings.push(format!(
            "requirepeer={v} is not supported: the server process's user is not checked"
        ));
    }
    if let Some(v) = non_empty(p, "require_auth") {
        warnings.push(format!(
            "require_auth={v} is not enforced: the server chooses the authentication method"
        ));
    }
    warn_newer_keywords(p, warnings);
    if let Some(v) = non_empty(p, "replication") {
        if !matches!(v, "0" | "false" | "off" | "no") {
            warnings.push(format!("replication={v} is not supported and is ignored"));
        }
    }
    if let Some(v) = non_empty(p, "client_encoding") {
        if !v.eq_ignore_ascii_case("utf8") && !v.eq_ignore_ascii_case("utf-8") && v != "auto" {
            warnings.push(format!(
                "client_encoding={v} is ignored: the client encoding is always UTF8"
            ));
        }
    }
}

/// libpq 18's newer keywords: accepted (as libpq does), named when they cannot be honoured; a secret's
/// value is never repeated.
fn warn_newer_keywords(p: &Params, warnings: &mut Vec<String>) {
    let given = |keys: &[&str]| keys.iter().any(|k| non_empty(p, k).is_some());
    if given(&[
        "oauth_issuer",
        "oauth_client_id",
        "oauth_client_secret",
        "oauth_scope",
    ]) {
        warnings.push(
            "oauth_* settings are not supported: pgconn authenticates with a password, a client \
             certificate or trust"
                .into(),
        );
    }
    if given(&["scram_client_key", "scram_server_key"]) {
        warnings.push(
            "scram_client_key / scram_server_key are not supported: SCRAM uses the password".into(),
        );
    }
    if given(&["sslkeylogfile"]) {
        warnings.push("sslkeylogfile is not supported: TLS keys are never written out".into());
    }
    for key in ["min_protocol_version", "max_protocol_version"] {
        if let Some(v) = non_empty(p, key) {
            warnings.push(format!(
                "{key}={v} is ignored: pgconn speaks protocol version 3.0"
            ));
        }
    }
}

/// Who connects to which database: the user (else the OS user), the database (else the user name), an
/// explicit password and the password file to search when there is none.
struct Login {
    user: String,
    dbname: String,
    password: Option<String>,
    passfile: Option<PathBuf>,
}

/// User, database and password.
fn login(p: &Params, env: &Environment) -> Result<Login> {
    let user = match non_empty(p, "user") {
        Some(u) => u.to_string(),
        None => env.os_user.clone().ok_or_else(|| {
            anyhow!("could not look up the local user name; give a user name (-U or PGUSER)")
        })?,
    };
    let dbname = non_empty(p, "dbname").unwrap_or(&user).to_string();
    let password = non_empty(p, "password").map(str::to_string);
    let passfile = non_empty(p, "passfile")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".pgpass")));
    Ok(Login {
        user,
        dbname,
        password,
        passfile,
    })
}

/// The hosts, each with its password-file entry when no password is set; and the password file, when it
/// supplied a password for some host.
fn look_up_passwords(
    targets: Vec<Host>,
    login: &Login,
    env: &Environment,
    warnings: &mut Vec<String>,
) -> (Vec<HostEntry>, Option<PathBuf>) {
    let mut passfile_used = None;
    let mut hosts: Vec<HostEntry> = targets
        .into_iter()
        .map(|target| HostEntry {
            target,
            pgpass: None,
        })
        .collect();
    if login.password.is_none() {
        if let Some(path) = &login.passfile {
            if let Some(file) = pgpass::PassFile::load(path, warnings) {
                for h in &mut hosts {
                    let host = h.target.pgpass_host(&env.socket_dir);
                    let port = h.target.port.to_string();
                    h.pgpass = file
                        .find(&host, &port, &login.dbname, &login.user)
                        .map(str::to_string);
                }
                if hosts.iter().any(|h| h.pgpass.is_some()) {
                    passfile_used = Some(file.path().to_path_buf());
                }
            }
        }
    }
    (hosts, passfile_used)
}

/// The TLS settings with the certificate, key and revocation files.
fn tls_options(p: &Params, encryption: &Encryption, env: &Environment) -> tls::TlsOptions {
    tls::TlsOptions {
        mode: encryption.mode,
        rootcert: encryption.rootcert.clone(),
        cert: non_empty(p, "sslcert").map(PathBuf::from),
        key: non_empty(p, "sslkey").map(PathBuf::from),
        key_password: non_empty(p, "sslpassword").map(str::to_string),
        crl: non_empty(p, "sslcrl").map(PathBuf::from),
        crldir: non_empty(p, "sslcrldir").map(PathBuf::from),
        cert_mode: encryption.cert_mode,
        sni: encryption.sni,
        min_version: encryption.min_version,
        max_version: encryption.max_version,
        direct: encryption.direct,
        home: env.home().map(Path::to_path_buf),
        mismatch: Default::default(),
    }
}

/// The resolved, non-secret view returned by [`ConnSpec::get`]: the non-empty, non-secret keywords, with
/// the hosts, ports, user, database, sslmode, connect_timeout, channel_binding and passfile in effect.
fn resolved_view(
    mut p: Params,
    hosts: &[HostEntry],
    login: &Login,
    encryption: &Encryption,
    connect_timeout: Option<Duration>,
) -> Params {
    p.retain(|k, v| !v.is_empty() && keywords::lookup(k).is_some_and(|kw| !kw.secret));
    let joined = |f: &dyn Fn(&Host) -> String| {
        hosts
            .iter()
            .map(|h| f(&h.target))
            .collect::<Vec<_>>()
            .join(",")
    };
    if hosts.iter().any(|h| h.target.host.is_some()) {
        p.insert("host", joined(&|t| t.host.clone().unwrap_or_default()));
    }
    p.insert("port", joined(&|t| t.port.to_string()));
    p.insert("user", login.user.clone());
    p.insert("dbname", login.dbname.clone());
    p.insert("sslmode", encryption.mode.as_str().to_string());
    p.insert(
        "connect_timeout",
        // Whole seconds, rounded up (a sub-second flag value is not "no timeout").
        connect_timeout
            .map_or(0, |t| t.as_secs() + u64::from(t.subsec_nanos() > 0))
            .to_string(),
    );
    p.insert("channel_binding", encryption.channel_binding.clone());
    if let Some(path) = &login.passfile {
        p.insert("passfile", path.display().to_string());
    }
    p
}

/// libpq's host list rules: `host` and `hostaddr` lists of equal length (or one of them absent), a port
/// list of length one (used for every host) or of the same length; empty entries take the defaults.
fn resolve_targets(p: &Params, env: &Environment) -> Result<Vec<Host>> {
    let split = |key: &str| -> Vec<String> {
        non_empty(p, key)
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    let hosts = split("host");
    let addrs = split("hostaddr");
    let count = match (hosts.len(), addrs.len()) {
        (0, 0) => 1,
        (0, a) => a,
        (h, 0) => h,
        (h, a) if h == a => h,
        (h, a) => bail!("could not match {h} host names to {a} hostaddr values"),
    };
    let mut ports = split("port");
    if ports.is_empty() {
        ports.push(String::new());
    }
    if ports.len() == 1 {
        ports = vec![ports[0].clone(); count];
    } else if ports.len() != count {
        bail!(
            "could not match {} port numbers to {count} hosts",
            ports.len()
        );
    }

    let mut targets = Vec::with_capacity(count);
    for (i, port_text) in ports.iter().enumerate() {
        let port = port_number(port_text)?;
        let port_defaulted = port_text.trim().is_empty();
        let hostaddr = network_address(addrs.get(i).map(String::as_str))?;
        let host = hosts.get(i).filter(|h| !h.is_empty()).cloned();
        let target = match (host, hostaddr) {
            (Some(h), addr) => Host {
                socket: h.starts_with('/'),
                host: Some(h),
                hostaddr: addr,
                port,
                defaulted: false,
                port_defaulted,
            },
            (None, Some(addr)) => Host {
                host: None,
                hostaddr: Some(addr),
                port,
                socket: false,
                defaulted: false,
                port_defaulted,
            },
            (None, None) => default_target(env, port, port_defaulted),
        };
        targets.push(target);
    }
    Ok(targets)
}

/// One entry of the port list: [`DEFAULT_PORT`] when empty.
fn port_number(port_text: &str) -> Result<u16> {
    match port_text.trim() {
        "" => Ok(DEFAULT_PORT),
        s => s
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| anyhow!("invalid port number: \"{port_text}\"")),
    }
}

/// One entry of the hostaddr list, if there is one and it is not empty.
fn network_address(text: Option<&str>) -> Result<Option<IpAddr>> {
    match text {
        None | Some("") => Ok(None),
        Some(a) => a
            .parse::<IpAddr>()
            .map(Some)
            .map_err(|_| anyhow!("could not parse network address \"{a}\"")),
    }
}

/// No host given: the default socket directory, whether or not the socket is there (libpq then fails
/// naming the socket; it never falls back to TCP).
fn default_target(env: &Environment, port: u16, port_defaulted: bool) -> Host {
    Host {
        host: Some(env.socket_dir.display().to_string()),
        hostaddr: None,
        port,
        socket: true,
        defaulted: true,
        port_defaulted,
    }
}
