//! Resolution: flags, a `-d` conninfo, the service file, the environment and defaults into one
//! [`ConnSpec`].

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

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

fn finish(mut p: Params, o: &Overrides, env: &Environment) -> Result<ConnSpec> {
    let mut warnings = Vec::new();

    // sslmode and the settings that constrain it.
    let rootcert = non_empty(&p, "sslrootcert").map(str::to_string);
    let mode = match non_empty(&p, "sslmode") {
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
    let negotiation = one_of(&p, "sslnegotiation", &["postgres", "direct"], "postgres")?;
    let direct = negotiation == "direct";
    if direct && mode < SslMode::Require {
        bail!(
            "weak sslmode \"{mode}\" may not be used with sslnegotiation=direct (use \"require\", \
             \"verify-ca\", or \"verify-full\")"
        );
    }
    let gss = one_of(
        &p,
        "gssencmode",
        &["disable", "prefer", "require"],
        "prefer",
    )?;
    if gss == "require" {
        bail!("gssencmode value \"require\" invalid when GSSAPI support is not compiled in");
    }
    let channel_binding = one_of(
        &p,
        "channel_binding",
        &["disable", "prefer", "require"],
        "prefer",
    )?;
    let cert_mode =
        match one_of(&p, "sslcertmode", &["disable", "allow", "require"], "allow")?.as_str() {
            "disable" => tls::CertMode::Disable,
            "require" => {
                warnings.push(
                "sslcertmode=require is not enforced: the connection does not fail when the server \
                 asks for no client certificate"
                    .to_string(),
            );
                tls::CertMode::Require
            }
            _ => tls::CertMode::Allow,
        };
    let min_version = match non_empty(&p, "ssl_min_protocol_version") {
        Some(v) => Some(tls::parse_protocol_version("ssl_min_protocol_version", v)?),
        None => Some(openssl::ssl::SslVersion::TLS1_2),
    };
    let max_version = non_empty(&p, "ssl_max_protocol_version")
        .map(|v| tls::parse_protocol_version("ssl_max_protocol_version", v))
        .transpose()?;
    if let (Some(min), Some(max)) = (min_version, max_version) {
        if tls::protocol_rank(min) > tls::protocol_rank(max) {
            bail!("invalid SSL protocol version range");
        }
    }
    let sni = !matches!(parse_int(&p, "sslsni")?, Some(0));

    let session_attrs = match one_of(
        &p,
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
    )?
    .as_str()
    {
        "read-write" => SessionAttrs::ReadWrite,
        "read-only" => SessionAttrs::ReadOnly,
        "primary" => SessionAttrs::Primary,
        "standby" => SessionAttrs::Standby,
        "prefer-standby" => SessionAttrs::PreferStandby,
        _ => SessionAttrs::Any,
    };
    let load_balance =
        one_of(&p, "load_balance_hosts", &["disable", "random"], "disable")? == "random";

    // Integers.
    let keepalives = !matches!(parse_int(&p, "keepalives")?, Some(0));
    for key in [
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    ] {
        parse_int(&p, key)?;
    }
    let connect_timeout = match o.connect_timeout {
        Some(t) if t.is_zero() => None,
        Some(t) => Some(t),
        None => match parse_int(&p, "connect_timeout")? {
            None => Some(DEFAULT_CONNECT_TIMEOUT),
            // libpq: a timeout of 1 s would be too short to be useful, so it means 2 s.
            Some(1) => Some(Duration::from_secs(2)),
            v => positive_secs(v),
        },
    };

    // Settings we cannot honour.
    if let Some(v) = non_empty(&p, "requirepeer") {
        warnings.push(format!(
            "requirepeer={v} is not supported: the server process's user is not checked"
        ));
    }
    if let Some(v) = non_empty(&p, "require_auth") {
        warnings.push(format!(
            "require_auth={v} is not enforced: the server chooses the authentication method"
        ));
    }
    // libpq 18's newer keywords: accepted (as libpq does), named when they cannot be honoured; a secret's
    // value is never repeated.
    let given = |keys: &[&str]| keys.iter().any(|k| non_empty(&p, k).is_some());
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
        if let Some(v) = non_empty(&p, key) {
            warnings.push(format!(
                "{key}={v} is ignored: pgconn speaks protocol version 3.0"
            ));
        }
    }
    if let Some(v) = non_empty(&p, "replication") {
        if !matches!(v, "0" | "false" | "off" | "no") {
            warnings.push(format!("replication={v} is not supported and is ignored"));
        }
    }
    if let Some(v) = non_empty(&p, "client_encoding") {
        if !v.eq_ignore_ascii_case("utf8") && !v.eq_ignore_ascii_case("utf-8") && v != "auto" {
            warnings.push(format!(
                "client_encoding={v} is ignored: the client encoding is always UTF8"
            ));
        }
    }

    // Hosts, addresses and ports.
    let targets = resolve_targets(&p, env)?;

    // User and database.
    let user = match non_empty(&p, "user") {
        Some(u) => u.to_string(),
        None => env.os_user.clone().ok_or_else(|| {
            anyhow!("could not look up the local user name; give a user name (-U or PGUSER)")
        })?,
    };
    let dbname = non_empty(&p, "dbname").unwrap_or(&user).to_string();

    // Password: explicit, else the password file (for each host).
    let password = non_empty(&p, "password").map(str::to_string);
    let passfile = non_empty(&p, "passfile")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".pgpass")));
    let mut passfile_used = None;
    let mut hosts: Vec<HostEntry> = targets
        .into_iter()
        .map(|target| HostEntry {
            target,
            pgpass: None,
        })
        .collect();
    if password.is_none() {
        if let Some(path) = &passfile {
            if let Some(file) = pgpass::PassFile::load(path, &mut warnings) {
                for h in &mut hosts {
                    let host = h.target.pgpass_host(&env.socket_dir);
                    let port = h.target.port.to_string();
                    h.pgpass = file.find(&host, &port, &dbname, &user).map(str::to_string);
                }
                if hosts.iter().any(|h| h.pgpass.is_some()) {
                    passfile_used = Some(file.path().to_path_buf());
                }
            }
        }
    }

    let tls = tls::TlsOptions {
        mode,
        rootcert,
        cert: non_empty(&p, "sslcert").map(PathBuf::from),
        key: non_empty(&p, "sslkey").map(PathBuf::from),
        key_password: non_empty(&p, "sslpassword").map(str::to_string),
        crl: non_empty(&p, "sslcrl").map(PathBuf::from),
        crldir: non_empty(&p, "sslcrldir").map(PathBuf::from),
        cert_mode,
        sni,
        min_version,
        max_version,
        direct,
        home: env.home().map(Path::to_path_buf),
        mismatch: Default::default(),
    };
    if mode == SslMode::VerifyFull && hosts.iter().any(|h| h.target.host.is_none()) {
        bail!("host name must be specified for a verified SSL connection");
    }

    // The resolved, non-secret view returned by `get`.
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
    p.insert("user", user.clone());
    p.insert("dbname", dbname.clone());
    p.insert("sslmode", mode.as_str().to_string());
    p.insert(
        "connect_timeout",
        // Whole seconds, rounded up (a sub-second flag value is not "no timeout").
        connect_timeout
            .map_or(0, |t| t.as_secs() + u64::from(t.subsec_nanos() > 0))
            .to_string(),
    );
    p.insert("channel_binding", channel_binding);
    if let Some(path) = &passfile {
        p.insert("passfile", path.display().to_string());
    }

    Ok(ConnSpec {
        params: p,
        password,
        passfile_used,
        hosts,
        user,
        dbname,
        connect_timeout,
        session_attrs,
        load_balance,
        keepalives,
        tls,
        warnings,
    })
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
        let port = match port_text.trim() {
            "" => DEFAULT_PORT,
            s => s
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| anyhow!("invalid port number: \"{port_text}\""))?,
        };
        let hostaddr = match addrs.get(i).map(String::as_str) {
            None | Some("") => None,
            Some(a) => Some(
                a.parse::<IpAddr>()
                    .map_err(|_| anyhow!("could not parse network address \"{a}\""))?,
            ),
        };
        let host = hosts.get(i).filter(|h| !h.is_empty()).cloned();
        let target = match (host, hostaddr) {
            (Some(h), addr) => Host {
                socket: h.starts_with('/'),
                host: Some(h),
                hostaddr: addr,
                port,
                defaulted: false,
            },
            (None, Some(addr)) => Host {
                host: None,
                hostaddr: Some(addr),
                port,
                socket: false,
                defaulted: false,
            },
            (None, None) => default_target(env, port),
        };
        targets.push(target);
    }
    Ok(targets)
}

/// No host given: the default socket directory, whether or not the socket is there (libpq then fails
/// naming the socket; it never falls back to TCP).
fn default_target(env: &Environment, port: u16) -> Host {
    Host {
        host: Some(env.socket_dir.display().to_string()),
        hostaddr: None,
        port,
        socket: true,
        defaulted: true,
    }
}
