//! `--web.config.file`: the Prometheus exporter-toolkit's web configuration (YAML), the part pgconn
//! implements — `tls_server_config` (`cert_file`, `key_file`, `client_ca_file`, `client_auth_type`
//! `NoClientCert` or `RequireAndVerifyClientCert`, `min_version`, `max_version`), `basic_auth_users`
//! (bcrypt hashes) and `http_server_config.headers`. A key pgconn does not implement (`cipher_suites`,
//! `curve_preferences`, `client_allowed_sans`, `http2`, `rate_limit`, inline `cert`/`key`, ...) and an
//! unknown key are refused, naming the key: a setting that silently does nothing is worse than none.
//! Relative paths are read from the file's own directory, as exporter-toolkit does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslVerifyMode, SslVersion};
use yaml_rust2::{Yaml, YamlLoader};

/// The web configuration, as read.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    pub tls: Option<TlsConfig>,
    /// User name → bcrypt hash.
    pub users: Vec<(String, String)>,
    /// Headers added to every response.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_ca_file: Option<PathBuf>,
    pub require_client_cert: bool,
    pub min_version: Tls,
    pub max_version: Tls,
}

/// A TLS protocol version as exporter-toolkit spells it (`TLS10` … `TLS13`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tls {
    V10,
    V11,
    V12,
    V13,
}

impl Tls {
    fn parse(s: &str) -> Option<Tls> {
        Some(match s {
            "TLS10" => Tls::V10,
            "TLS11" => Tls::V11,
            "TLS12" => Tls::V12,
            "TLS13" => Tls::V13,
            _ => return None,
        })
    }

    fn openssl(self) -> SslVersion {
        match self {
            Tls::V10 => SslVersion::TLS1,
            Tls::V11 => SslVersion::TLS1_1,
            Tls::V12 => SslVersion::TLS1_2,
            Tls::V13 => SslVersion::TLS1_3,
        }
    }
}

/// The headers exporter-toolkit allows in `http_server_config.headers`.
const HEADERS: [&str; 5] = [
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "X-XSS-Protection",
    "Strict-Transport-Security",
];

/// Keys of exporter-toolkit's format pgconn does not implement, per section.
const NOT_IMPLEMENTED: &[&str] = &[
    "cipher_suites",
    "curve_preferences",
    "client_allowed_sans",
    "prefer_server_cipher_suites",
    "cert",
    "key",
    "http2",
    "rate_limit",
];

/// Read and check the file.
pub fn load(path: &Path) -> Result<WebConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the web configuration {}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&text, dir).with_context(|| format!("the web configuration {}", path.display()))
}

fn str_key(k: &Yaml) -> Result<&str> {
    k.as_str()
        .ok_or_else(|| anyhow!("a key that is not a string: {k:?}"))
}

fn refuse_key(section: &str, key: &str) -> anyhow::Error {
    let at = if section.is_empty() {
        key.to_string()
    } else {
        format!("{section}.{key}")
    };
    if NOT_IMPLEMENTED.contains(&key) {
        anyhow!("{at} is not implemented by pgconn's exporter; remove it (nothing was started)")
    } else {
        anyhow!("unknown key {at} (nothing was started)")
    }
}

fn string(v: &Yaml, what: &str) -> Result<String> {
    match v {
        Yaml::String(s) => Ok(s.clone()),
        Yaml::Integer(i) => Ok(i.to_string()),
        Yaml::Real(r) => Ok(r.clone()),
        Yaml::Boolean(b) => Ok(b.to_string()),
        _ => bail!("{what} must be a string"),
    }
}

fn mapping<'a>(v: &'a Yaml, what: &str) -> Result<Option<&'a yaml_rust2::yaml::Hash>> {
    match v {
        Yaml::Hash(h) => Ok(Some(h)),
        Yaml::Null => Ok(None),
        _ => bail!("{what} must be a mapping"),
    }
}

/// Parse the file's text; relative paths are taken from `dir`.
pub fn parse(text: &str, dir: &Path) -> Result<WebConfig> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| anyhow!("not valid YAML: {e}"))?;
    let mut cfg = WebConfig::default();
    // A file given but empty is a mistake (or a file caught while being rewritten), not "no TLS, no
    // authentication".
    let Some(Some(root)) = docs.first().map(|d| mapping(d, "the file")).transpose()? else {
        bail!("the file is empty: it configures nothing (leave --web.config.file out for plain HTTP without authentication)");
    };
    for (k, v) in root {
        match str_key(k)? {
            "tls_server_config" => {
                if let Some(h) = mapping(v, "tls_server_config")? {
                    cfg.tls = Some(tls(h, dir)?);
                }
            }
            "basic_auth_users" => {
                for (user, hash) in mapping(v, "basic_auth_users")?.into_iter().flatten() {
                    let user = str_key(user)?.to_string();
                    let hash = string(hash, &format!("basic_auth_users.{user}"))?;
                    hash.parse::<bcrypt::HashParts>().map_err(|_| {
                        anyhow!("basic_auth_users.{user} is not a bcrypt hash (htpasswd -nBC 10 USER makes one)")
                    })?;
                    if user.contains(':') {
                        bail!("basic_auth_users: a user name cannot contain ':' ({user:?})");
                    }
                    cfg.users.push((user, hash));
                }
            }
            "http_server_config" => {
                for (k, v) in mapping(v, "http_server_config")?.into_iter().flatten() {
                    match str_key(k)? {
                        "headers" => {
                            for (name, value) in mapping(v, "http_server_config.headers")?
                                .into_iter()
                                .flatten()
                            {
                                let name = str_key(name)?;
                                let Some(known) =
                                    HEADERS.iter().find(|h| h.eq_ignore_ascii_case(name))
                                else {
                                    bail!(
                                        "http_server_config.headers.{name} is not one of the headers allowed there ({})",
                                        HEADERS.join(", ")
                                    );
                                };
                                let value =
                                    string(value, &format!("http_server_config.headers.{name}"))?;
                                if value.chars().any(|c| c.is_control()) {
                                    bail!("http_server_config.headers.{name}: a control character in the value");
                                }
                                cfg.headers.push((known.to_string(), value));
                            }
                        }
                        other => return Err(refuse_key("http_server_config", other)),
                    }
                }
            }
            other => return Err(refuse_key("", other)),
        }
    }
    Ok(cfg)
}

fn tls(h: &yaml_rust2::yaml::Hash, dir: &Path) -> Result<TlsConfig> {
    let (mut cert, mut key, mut ca) = (None, None, None);
    let mut auth = "NoClientCert".to_string();
    let (mut min, mut max) = (Tls::V12, Tls::V13);
    let path = |v: &Yaml, what: &str| -> Result<PathBuf> {
        let s = string(v, what)?;
        Ok(dir.join(s))
    };
    for (k, v) in h {
        let k = str_key(k)?;
        let what = format!("tls_server_config.{k}");
        match k {
            "cert_file" => cert = Some(path(v, &what)?),
            "key_file" => key = Some(path(v, &what)?),
            "client_ca_file" => ca = Some(path(v, &what)?),
            "client_auth_type" => auth = string(v, &what)?,
            "min_version" | "max_version" => {
                let s = string(v, &what)?;
                let t = Tls::parse(&s)
                    .ok_or_else(|| anyhow!("{what}: {s:?} is not TLS10, TLS11, TLS12 or TLS13"))?;
                // OpenSSL's intermediate profile, which the exporter uses, turns TLS 1.0 and 1.1 off:
                // a version below 1.2 would be accepted here and not honoured.
                if t < Tls::V12 {
                    bail!("{what}: {s} is not offered by pgconn's exporter (TLS12 and TLS13 are)");
                }
                if k == "min_version" {
                    min = t
                } else {
                    max = t
                }
            }
            other => return Err(refuse_key("tls_server_config", other)),
        }
    }
    let require_client_cert = match auth.as_str() {
        "NoClientCert" | "" => false,
        "RequireAndVerifyClientCert" => true,
        other => bail!(
            "tls_server_config.client_auth_type {other:?} is not implemented by pgconn's exporter (NoClientCert or RequireAndVerifyClientCert)"
        ),
    };
    if require_client_cert && ca.is_none() {
        bail!("tls_server_config: RequireAndVerifyClientCert needs client_ca_file");
    }
    if !require_client_cert && ca.is_some() {
        bail!("tls_server_config: client_ca_file is set but client_auth_type is NoClientCert (set RequireAndVerifyClientCert)");
    }
    if min > max {
        bail!("tls_server_config: min_version is above max_version");
    }
    let (Some(cert_file), Some(key_file)) = (cert, key) else {
        bail!("tls_server_config needs both cert_file and key_file");
    };
    let t = TlsConfig {
        cert_file,
        key_file,
        client_ca_file: ca,
        require_client_cert,
        min_version: min,
        max_version: max,
    };
    // The files are read now, so that a bad one is found at start (or at SIGHUP, keeping the old).
    t.acceptor()?;
    Ok(t)
}

impl TlsConfig {
    /// The OpenSSL acceptor of this configuration (reads the files).
    pub fn acceptor(&self) -> Result<SslAcceptor> {
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
            .context("could not set up TLS")?;
        b.set_min_proto_version(Some(self.min_version.openssl()))?;
        b.set_max_proto_version(Some(self.max_version.openssl()))?;
        b.set_certificate_chain_file(&self.cert_file)
            .with_context(|| format!("could not read cert_file {}", self.cert_file.display()))?;
        b.set_private_key_file(&self.key_file, SslFiletype::PEM)
            .with_context(|| format!("could not read key_file {}", self.key_file.display()))?;
        b.check_private_key()
            .context("key_file does not belong to cert_file")?;
        if let Some(ca) = &self.client_ca_file {
            b.set_ca_file(ca)
                .with_context(|| format!("could not read client_ca_file {}", ca.display()))?;
            b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
            // Without a session id context OpenSSL fails every resumed handshake when it verifies peers.
            b.set_session_id_context(b"pgconn-exporter")?;
        }
        Ok(b.build())
    }
}

/// Basic authentication against `basic_auth_users`: bcrypt, with a password once verified remembered as
/// a digest (so the bcrypt cost is paid once per user and password), compared in constant time.
#[derive(Debug, Default)]
pub struct BasicAuth {
    /// User → SHA-256 of (hash, password) of the last password verified for it.
    verified: Mutex<HashMap<String, Vec<u8>>>,
    /// bcrypt verifications running now.
    bcrypt_running: std::sync::atomic::AtomicUsize,
}

/// At most this many bcrypt verifications at once.
const BCRYPT_AT_ONCE: usize = 2;

/// One of the [`BCRYPT_AT_ONCE`] places, given back when dropped.
struct BcryptSlot<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> BcryptSlot<'a> {
    fn take(running: &'a std::sync::atomic::AtomicUsize) -> Option<BcryptSlot<'a>> {
        use std::sync::atomic::Ordering;
        running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < BCRYPT_AT_ONCE).then_some(n + 1)
            })
            .ok()
            .map(|_| BcryptSlot(running))
    }
}

impl Drop for BcryptSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// A bcrypt hash (cost 10, exporter-toolkit's usual) of nothing anyone sends: unknown users are checked
/// against it, so that they cost what a known user costs.
static UNKNOWN_USER_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| bcrypt::hash("pgconn: no such user\0", 10).unwrap_or_default());

fn digest(hash: &str, password: &str) -> Vec<u8> {
    let mut data = Vec::with_capacity(hash.len() + password.len() + 1);
    data.extend_from_slice(hash.as_bytes());
    data.push(0);
    data.extend_from_slice(password.as_bytes());
    openssl::sha::sha256(&data).to_vec()
}

/// The user and password of an `Authorization: Basic ...` header.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, b64) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = openssl::base64::decode_block(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

impl BasicAuth {
    /// Whether `user` with `password` is allowed by `cfg` (blocking: bcrypt's cost on first use).
    pub fn check(&self, cfg: &WebConfig, user: &str, password: &str) -> bool {
        let known = cfg.users.iter().find(|(u, _)| u == user).map(|(_, h)| h);
        let hash = known.map_or(UNKNOWN_USER_HASH.as_str(), String::as_str);
        let d = digest(hash, password);
        if known.is_some() {
            let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(v) = verified.get(user) {
                if openssl::memcmp::eq(v, &d) {
                    return true;
                }
            }
        }
        // bcrypt costs tens of milliseconds of CPU: a few at a time, so that requests with wrong
        // passwords cannot take the CPU the scrapes need. One that finds them all busy is refused (401).
        let Some(_slot) = BcryptSlot::take(&self.bcrypt_running) else {
            return false;
        };
        let ok = bcrypt::verify(password, hash).unwrap_or(false) && known.is_some();
        if ok {
            let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            verified.insert(user.to_string(), d);
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", parse(text, Path::new("/nonexistent")).unwrap_err())
    }

    #[test]
    fn unknown_and_unimplemented_keys_are_refused_by_name() {
        assert!(err("tls_server_confg: {}\n").contains("unknown key tls_server_confg"));
        assert!(err("rate_limit:\n  interval: 1s\n").contains("rate_limit is not implemented"));
        assert!(err("http_server_config:\n  http2: false\n")
            .contains("http_server_config.http2 is not implemented"));
        assert!(err("tls_server_config:\n  cipher_suites: [X]\n")
            .contains("tls_server_config.cipher_suites is not implemented"));
        assert!(err("tls_server_config:\n  curve_preferences: [X]\n").contains("curve_preferences"));
        assert!(err("tls_server_config:\n  client_allowed_sans: [x]\n")
            .contains("client_allowed_sans is not implemented"));
        assert!(err("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAnyClientCert\n")
            .contains("RequireAnyClientCert"));
        assert!(err("http_server_config:\n  headers:\n    X-Evil: 1\n").contains("X-Evil"));
        assert!(err("basic_auth_users:\n  alice: plain\n").contains("not a bcrypt hash"));
        assert!(err("a: [").contains("not valid YAML"));
        // A file given but empty configures nothing: a mistake, or a file caught while rewritten.
        assert!(err("").contains("the file is empty"));
        assert!(err("# just a comment\n").contains("the file is empty"));
        // OpenSSL's intermediate profile would not honour a version below 1.2.
        assert!(err("tls_server_config:\n  min_version: TLS10\n").contains("TLS12 and TLS13 are"));
    }

    /// A few bcrypt verifications at a time; the place is given back when one ends.
    #[test]
    fn bcrypt_runs_a_few_at_a_time() {
        let running = std::sync::atomic::AtomicUsize::new(0);
        let a = BcryptSlot::take(&running).unwrap();
        let _b = BcryptSlot::take(&running).unwrap();
        assert!(BcryptSlot::take(&running).is_none());
        drop(a);
        assert!(BcryptSlot::take(&running).is_some());
    }

    #[test]
    fn users_and_headers_are_read() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let cfg = parse(
            &format!(
                "basic_auth_users:\n  alice: '{hash}'\nhttp_server_config:\n  headers:\n    x-frame-options: deny\n"
            ),
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(cfg.users, vec![("alice".to_string(), hash)]);
        assert_eq!(
            cfg.headers,
            vec![("X-Frame-Options".to_string(), "deny".to_string())]
        );
        assert!(cfg.tls.is_none());
        // A file that sets something, but no users, has none.
        assert!(parse("http_server_config: {}\n", Path::new("/"))
            .unwrap()
            .users
            .is_empty());
    }

    #[test]
    fn a_verified_password_is_remembered_and_a_wrong_one_is_not() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let cfg = WebConfig {
            users: vec![("alice".into(), hash)],
            ..WebConfig::default()
        };
        let auth = BasicAuth::default();
        assert!(!auth.check(&cfg, "alice", "wrong"));
        assert!(auth.check(&cfg, "alice", "s3cret"));
        assert!(auth.verified.lock().unwrap().contains_key("alice"));
        assert!(auth.check(&cfg, "alice", "s3cret"));
        assert!(!auth.check(&cfg, "alice", "s3cret "));
        assert!(!auth.check(&cfg, "bob", "s3cret"));
        assert!(!auth.check(&cfg, "bob", ""));
    }

    #[test]
    fn basic_credentials_are_decoded() {
        assert_eq!(
            basic_credentials("Basic YWxpY2U6czNjcjp0"),
            Some(("alice".into(), "s3cr:t".into()))
        );
        assert_eq!(basic_credentials("Bearer xyz"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}
