//! TLS per libpq's `sslmode`, on top of `postgres-openssl`.
//!
//! rust-postgres only knows disable/prefer/require and leaves certificate checks to the connector, whose
//! default is verify-full. libpq's meaning is rebuilt here:
//! - disable/allow/prefer/require: no certificate check, unless a root certificate file exists
//!   (`sslrootcert` or `~/.postgresql/root.crt`): then the chain is verified (as libpq does);
//! - verify-ca: the chain is verified against the root certificate, the host name is not;
//! - verify-full: chain and host name; `sslrootcert=system` uses the system's trusted roots.
//!
//! Client certificates (`sslcert`/`sslkey`, default `~/.postgresql/postgresql.crt` / `.key`), `sslpassword`,
//! CRLs (`sslcrl`, `sslcrldir`, default `~/.postgresql/root.crl`), `sslsni`, the protocol version range and
//! `sslnegotiation=direct` (ALPN) are honoured.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use openssl::pkey::PKey;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::X509;
use postgres::tls::{MakeTlsConnect, TlsConnect};
use postgres::Socket;
use postgres_openssl::MakeTlsConnector;
use serde::Serialize;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Try without TLS first; use TLS if the server rejects the attempt.
    Allow,
    /// Try TLS first; fall back to no TLS (the default).
    Prefer,
    /// TLS, certificate not checked (unless a root certificate file exists).
    Require,
    /// TLS, certificate chain checked against the root certificate.
    VerifyCa,
    /// TLS, chain and host name checked.
    VerifyFull,
}

impl SslMode {
    /// The libpq spelling (`verify-full`).
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Parses a libpq spelling, with libpq's error for anything else.
    pub fn parse(s: &str) -> Result<SslMode> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => bail!("invalid sslmode value: \"{s}\""),
        })
    }

    /// verify-ca or verify-full.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `sslcertmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertMode {
    Disable,
    Allow,
    Require,
}

/// The resolved TLS settings of a connection (validated at resolution, files read at connect time).
#[derive(Clone)]
pub(crate) struct TlsOptions {
    pub mode: SslMode,
    pub rootcert: Option<String>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub key_password: Option<String>,
    pub crl: Option<PathBuf>,
    pub crldir: Option<PathBuf>,
    pub cert_mode: CertMode,
    pub sni: bool,
    pub min_version: Option<SslVersion>,
    pub max_version: Option<SslVersion>,
    pub direct: bool,
    pub home: Option<PathBuf>,
    /// psql's words for a host-name mismatch the last handshake found (see [`TlsOptions::connector`]).
    pub mismatch: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("mode", &self.mode)
            .field("rootcert", &self.rootcert)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field(
                "key_password",
                &self.key_password.as_ref().map(|_| "<redacted>"),
            )
            .field("crl", &self.crl)
            .field("crldir", &self.crldir)
            .field("cert_mode", &self.cert_mode)
            .field("sni", &self.sni)
            .field("direct", &self.direct)
            .finish_non_exhaustive()
    }
}

/// X509_V_ERR_HOSTNAME_MISMATCH.
const X509_V_ERR_HOSTNAME_MISMATCH: i32 = 62;

/// `server certificate for "localhost" (and 1 other name) does not match host name "db1"`, as libpq says
/// it: the certificate's DNS and IP names (its common name when it has none).
fn mismatch_message(cert: &openssl::x509::X509Ref, host: &str) -> String {
    let ip_text = |ip: &[u8]| -> Option<String> {
        match ip.len() {
            4 => Some(std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string()),
            16 => <[u8; 16]>::try_from(ip)
                .ok()
                .map(|b| std::net::Ipv6Addr::from(b).to_string()),
            _ => None,
        }
    };
    let mut names: Vec<String> = cert
        .subject_alt_names()
        .map(|sans| {
            sans.iter()
                .filter_map(|n| {
                    n.dnsname()
                        .map(str::to_string)
                        .or_else(|| n.ipaddress().and_then(ip_text))
                })
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        names = cert
            .subject_name()
            .entries_by_nid(openssl::nid::Nid::COMMONNAME)
            .filter_map(|e| e.data().to_string().ok())
            .collect();
    }
    match names.as_slice() {
        [] => format!("server certificate has no names; it does not match host name \"{host}\""),
        [one] => format!("server certificate for \"{one}\" does not match host name \"{host}\""),
        [first, rest @ ..] => format!(
            "server certificate for \"{first}\" (and {} other name{}) does not match host name \"{host}\"",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

/// The first reason in an OpenSSL error stack (`bad decrypt`), as libpq reports it, instead of the stack.
pub(crate) fn openssl_reason(e: &openssl::error::ErrorStack) -> String {
    e.errors()
        .iter()
        .find_map(|x| x.reason())
        .unwrap_or("unknown error")
        .to_string()
}

/// libpq's words for a failed handshake: "SSL error: " and the first reason of OpenSSL's stack.
pub(crate) fn ssl_error_words(e: &openssl::ssl::Error) -> String {
    let reason = e
        .ssl_error()
        .map(openssl_reason)
        .unwrap_or_else(|| e.to_string());
    format!("SSL error: {reason}")
}

/// Parses `ssl_min_protocol_version` / `ssl_max_protocol_version` (libpq accepts these four spellings).
pub(crate) fn parse_protocol_version(keyword: &str, value: &str) -> Result<SslVersion> {
    Ok(match value {
        "TLSv1" => SslVersion::TLS1,
        "TLSv1.1" => SslVersion::TLS1_1,
        "TLSv1.2" => SslVersion::TLS1_2,
        "TLSv1.3" => SslVersion::TLS1_3,
        _ => bail!("invalid {keyword} value: \"{value}\""),
    })
}

/// The order of protocol versions, for the range check.
pub(crate) fn protocol_rank(v: SslVersion) -> u8 {
    if v == SslVersion::TLS1 {
        1
    } else if v == SslVersion::TLS1_1 {
        2
    } else if v == SslVersion::TLS1_2 {
        3
    } else {
        4
    }
}

impl TlsOptions {
    fn default_file(&self, name: &str) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(".postgresql").join(name))
    }

    /// Builds the connector: certificate checks per `sslmode`, client certificate, CRLs, protocol range.
    pub(crate) fn connector(&self) -> Result<MakeTlsConnector> {
        let mut connector = MakeTlsConnector::new(self.ssl_connector()?);
        let options = self.clone();
        connector.set_callback(move |config, domain| {
            options.configure(config, domain);
            Ok(())
        });
        Ok(connector)
    }

    /// The OpenSSL connector of these options (see [`TlsOptions::connector`]); each handshake's
    /// configuration then needs [`TlsOptions::configure`].
    pub(crate) fn ssl_connector(&self) -> Result<SslConnector> {
        let mut builder = SslConnector::builder(SslMethod::tls_client())
            .context("could not create SSL context")?;
        builder
            .set_min_proto_version(self.min_version)
            .context("could not set minimum SSL protocol version")?;
        builder
            .set_max_proto_version(self.max_version)
            .context("could not set maximum SSL protocol version")?;
        if self.direct {
            postgres_openssl::set_postgresql_alpn(&mut builder)
                .context("could not set SSL ALPN extension")?;
        }

        // Root certificate: decides whether the server certificate is verified at all.
        let verify = match self.rootcert.as_deref() {
            Some("system") => {
                // SslConnector::builder already loaded the system's trusted roots.
                self.add_crls(builder.cert_store_mut())?;
                true
            }
            explicit => {
                let path = match explicit {
                    Some(p) => Some(PathBuf::from(p)),
                    None => self.default_file("root.crt"),
                };
                match path {
                    Some(path) if path.exists() => {
                        let mut store = X509StoreBuilder::new()
                            .context("could not create certificate store")?;
                        let pem = std::fs::read(&path).with_context(|| {
                            format!(
                                "could not read root certificate file \"{}\"",
                                path.display()
                            )
                        })?;
                        let certs = X509::stack_from_pem(&pem).with_context(|| {
                            format!(
                                "could not read root certificate file \"{}\"",
                                path.display()
                            )
                        })?;
                        if certs.is_empty() {
                            bail!(
                                "could not read root certificate file \"{}\": no certificates found",
                                path.display()
                            );
                        }
                        for cert in certs {
                            store.add_cert(cert).with_context(|| {
                                format!(
                                    "could not read root certificate file \"{}\"",
                                    path.display()
                                )
                            })?;
                        }
                        self.add_crls(&mut store)?;
                        builder.set_cert_store(store.build());
                        true
                    }
                    Some(path) if self.mode.verifies() => bail!(
                        "root certificate file \"{}\" does not exist; either provide the file, use \
                         the system's trusted roots with sslrootcert=system, or change sslmode to \
                         disable server certificate verification",
                        path.display()
                    ),
                    None if self.mode.verifies() => bail!(
                        "could not get home directory to locate root certificate file; either \
                         provide the file, use the system's trusted roots with sslrootcert=system, \
                         or change sslmode to disable server certificate verification"
                    ),
                    _ => false,
                }
            }
        };
        builder.set_verify(if verify {
            SslVerifyMode::PEER
        } else {
            SslVerifyMode::NONE
        });

        if self.cert_mode != CertMode::Disable {
            self.add_client_certificate(&mut builder)?;
        }

        Ok(builder.build())
    }

    /// One handshake's settings: the host name checked for verify-full (with psql's words noted when
    /// it does not match), SNI per `sslsni`.
    pub(crate) fn configure(&self, config: &mut openssl::ssl::ConnectConfiguration, domain: &str) {
        let check_host = self.mode == SslMode::VerifyFull;
        config.set_verify_hostname(check_host);
        config.set_use_server_name_indication(self.sni);
        if check_host {
            // OpenSSL checks the host name; this notes the certificate's names when it does not
            // match, so that the error can say what psql says.
            let seen = self.mismatch.clone();
            let domain = domain.to_string();
            config.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| {
                if !ok && ctx.error().as_raw() == X509_V_ERR_HOSTNAME_MISMATCH {
                    if let (Some(cert), Ok(mut slot)) = (ctx.current_cert(), seen.lock()) {
                        *slot = Some(mismatch_message(cert, &domain));
                    }
                }
                ok
            });
        }
    }

    /// Whether building the connector could only fail inside OpenSSL: no certificate is verified and no
    /// file is read (no root certificate, client certificate or CRL is configured or present). Such a
    /// connector can be built when a server accepts TLS, and not at all when it declines
    /// (`sslmode=prefer` against a server without SSL): building it loads the system's trusted roots,
    /// tens of milliseconds of CPU for nothing.
    pub(crate) fn builds_without_files(&self) -> bool {
        let exists = |p: Option<PathBuf>| p.is_some_and(|p| p.exists());
        !self.mode.verifies()
            && self.rootcert.is_none()
            && !exists(self.default_file("root.crt"))
            && (self.cert_mode == CertMode::Disable
                || (self.cert.is_none() && !exists(self.default_file("postgresql.crt"))))
            && self.crl.is_none()
            && self.crldir.is_none()
            && !exists(self.default_file("root.crl"))
    }

    /// psql's words for the last host-name mismatch a connector of these options found, taken.
    pub(crate) fn take_mismatch(&self) -> Option<String> {
        self.mismatch.lock().ok().and_then(|mut m| m.take())
    }

    /// CRLs: `sslcrl` / `sslcrldir`, else `~/.postgresql/root.crl` when it exists. An explicit CRL that
    /// cannot be loaded is an error (libpq would silently skip it; failing is the safe side).
    fn add_crls(&self, store: &mut openssl::x509::store::X509StoreBuilderRef) -> Result<()> {
        let mut loaded = false;
        if let Some(crl) = &self.crl {
            store
                .add_lookup(X509Lookup::file())
                .and_then(|l| l.load_crl_file(crl, SslFiletype::PEM).map(|_| ()))
                .with_context(|| {
                    format!(
                        "could not load SSL certificate revocation list \"{}\"",
                        crl.display()
                    )
                })?;
            loaded = true;
        }
        if let Some(dir) = &self.crldir {
            let dir_str = dir
                .to_str()
                .ok_or_else(|| anyhow!("sslcrldir is not valid UTF-8"))?;
            if !dir.is_dir() {
                bail!(
                    "could not load SSL certificate revocation list directory \"{}\": not a directory",
                    dir.display()
                );
            }
            store
                .add_lookup(X509Lookup::hash_dir())
                .and_then(|l| l.add_dir(dir_str, SslFiletype::PEM))
                .with_context(|| {
                    format!(
                        "could not load SSL certificate revocation list directory \"{}\"",
                        dir.display()
                    )
                })?;
            loaded = true;
        }
        if self.crl.is_none() && self.crldir.is_none() {
            if let Some(default) = self.default_file("root.crl").filter(|p| p.is_file()) {
                loaded = store
                    .add_lookup(X509Lookup::file())
                    .and_then(|l| l.load_crl_file(&default, SslFiletype::PEM))
                    .is_ok();
            }
        }
        if loaded {
            store
                .set_flags(X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL)
                .context("could not enable certificate revocation checks")?;
        }
        Ok(())
    }

    /// The client certificate and key, as libpq: a missing certificate is skipped; a certificate without
    /// its key, a key readable by others, or a key that does not match is an error.
    fn add_client_certificate(
        &self,
        builder: &mut openssl::ssl::SslConnectorBuilder,
    ) -> Result<()> {
        let Some(cert) = self
            .cert
            .clone()
            .or_else(|| self.default_file("postgresql.crt"))
        else {
            return Ok(());
        };
        if !cert.is_file() {
            return Ok(());
        }
        builder.set_certificate_chain_file(&cert).with_context(|| {
            format!(
                "could not load client certificate file \"{}\"",
                cert.display()
            )
        })?;
        let key = self
            .key
            .clone()
            .or_else(|| self.default_file("postgresql.key"))
            .ok_or_else(|| anyhow!("certificate present, but no private key file given"))?;
        if !key.exists() {
            bail!(
                "certificate present, but not private key file \"{}\"",
                key.display()
            );
        }
        check_key_permissions(&key)?;
        let pem = std::fs::read(&key)
            .with_context(|| format!("could not load private key file \"{}\"", key.display()))?;
        let pkey = match self.key_password.as_deref().filter(|p| !p.is_empty()) {
            Some(pass) => PKey::private_key_from_pem_passphrase(&pem, pass.as_bytes()),
            None => PKey::private_key_from_pem(&pem),
        }
        .map_err(|e| {
            anyhow!(
                "could not load private key file \"{}\": {}",
                key.display(),
                openssl_reason(&e)
            )
        })?;
        // OpenSSL refuses a key that does not belong to the certificate already when it is set.
        builder
            .set_private_key(&pkey)
            .and_then(|()| builder.check_private_key())
            .with_context(|| {
                format!(
                    "certificate does not match private key file \"{}\"",
                    key.display()
                )
            })?;
        Ok(())
    }
}

/// libpq's key file check: a regular file, no group/world access if owned by the current user, at most
/// u=rw,g=r if owned by root.
fn check_key_permissions(key: &Path) -> Result<()> {
    let meta = std::fs::metadata(key)
        .with_context(|| format!("could not access private key file \"{}\"", key.display()))?;
    if !meta.is_file() {
        bail!(
            "private key file \"{}\" is not a regular file",
            key.display()
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode();
        let euid = nix::unistd::geteuid().as_raw();
        if (meta.uid() == euid && mode & 0o077 != 0) || (meta.uid() == 0 && mode & 0o037 != 0) {
            bail!(
                "private key file \"{}\" has group or world access; file must have permissions \
                 u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) \
                 or less if owned by root",
                key.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::rsa::Rsa;
    use openssl::x509::X509NameBuilder;

    fn options(mode: SslMode, home: Option<PathBuf>) -> TlsOptions {
        TlsOptions {
            mode,
            rootcert: None,
            cert: None,
            key: None,
            key_password: None,
            crl: None,
            crldir: None,
            cert_mode: CertMode::Allow,
            sni: true,
            min_version: Some(SslVersion::TLS1_2),
            max_version: None,
            direct: false,
            home,
            mismatch: Default::default(),
        }
    }

    /// A self-signed certificate and its key, as PEM.
    fn self_signed() -> (Vec<u8>, Vec<u8>) {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "test").unwrap();
        let name = name.build();
        let mut cert = X509::builder().unwrap();
        cert.set_version(2).unwrap();
        cert.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
            .unwrap();
        cert.set_subject_name(&name).unwrap();
        cert.set_issuer_name(&name).unwrap();
        cert.set_pubkey(&key).unwrap();
        cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        cert.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        cert.sign(&key, MessageDigest::sha256()).unwrap();
        (
            cert.build().to_pem().unwrap(),
            key.private_key_to_pem_pkcs8().unwrap(),
        )
    }

    #[test]
    fn modes_parse_and_print() {
        for s in [
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ] {
            assert_eq!(SslMode::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(
            SslMode::parse("verify_full").unwrap_err().to_string(),
            "invalid sslmode value: \"verify_full\""
        );
        assert!(SslMode::Require < SslMode::VerifyCa);
    }

    #[test]
    fn protocol_versions() {
        assert!(parse_protocol_version("ssl_min_protocol_version", "TLSv1.3").is_ok());
        assert_eq!(
            parse_protocol_version("ssl_min_protocol_version", "tls1")
                .unwrap_err()
                .to_string(),
            "invalid ssl_min_protocol_version value: \"tls1\""
        );
        assert!(protocol_rank(SslVersion::TLS1_2) < protocol_rank(SslVersion::TLS1_3));
    }

    #[test]
    fn prefer_without_root_cert_builds() {
        let home = tempfile::tempdir().unwrap();
        options(SslMode::Prefer, Some(home.path().to_path_buf()))
            .connector()
            .unwrap();
        options(SslMode::Require, None).connector().unwrap();
    }

    #[test]
    fn verify_without_root_cert_is_an_error_naming_the_file() {
        let home = tempfile::tempdir().unwrap();
        let err = options(SslMode::VerifyCa, Some(home.path().to_path_buf()))
            .connector()
            .err()
            .unwrap();
        let expected = home.path().join(".postgresql/root.crt");
        assert!(
            err.to_string().starts_with(&format!(
                "root certificate file \"{}\" does not exist",
                expected.display()
            )),
            "{err}"
        );
        let err = options(SslMode::VerifyFull, None)
            .connector()
            .err()
            .unwrap();
        assert!(err.to_string().contains("could not get home directory"));
    }

    #[test]
    fn root_cert_system_and_file() {
        let mut o = options(SslMode::VerifyFull, None);
        o.rootcert = Some("system".into());
        o.connector().unwrap();

        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = self_signed();
        let path = dir.path().join("root.crt");
        std::fs::write(&path, &cert).unwrap();
        let mut o = options(SslMode::VerifyCa, None);
        o.rootcert = Some(path.to_string_lossy().into_owned());
        o.connector().unwrap();

        std::fs::write(&path, b"not a certificate").unwrap();
        let err = o.connector().err().unwrap();
        assert!(err
            .to_string()
            .starts_with("could not read root certificate file"));

        let mut o = options(SslMode::VerifyCa, None);
        o.rootcert = Some(dir.path().join("nope.crt").to_string_lossy().into_owned());
        assert!(o
            .connector()
            .err()
            .unwrap()
            .to_string()
            .contains("nope.crt\" does not exist"));
    }

    #[cfg(unix)]
    #[test]
    fn client_certificate_and_key_checks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed();
        let cert_path = dir.path().join("client.crt");
        let key_path = dir.path().join("client.key");
        std::fs::write(&cert_path, &cert).unwrap();

        let mut o = options(SslMode::Require, None);
        o.cert = Some(cert_path.clone());
        o.key = Some(key_path.clone());
        let err = o.connector().err().unwrap();
        assert!(err
            .to_string()
            .starts_with("certificate present, but not private key file"));

        std::fs::write(&key_path, &key).unwrap();
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = o.connector().err().unwrap();
        assert!(
            err.to_string().contains("has group or world access"),
            "{err}"
        );

        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        o.connector().unwrap();

        // A key that does not belong to the certificate.
        let (_, other_key) = self_signed();
        std::fs::write(&key_path, &other_key).unwrap();
        let err = o.connector().err().unwrap();
        assert!(err.to_string().starts_with("certificate does not match"));

        // sslcertmode=disable never reads the files.
        o.cert_mode = CertMode::Disable;
        o.connector().unwrap();

        // A missing certificate is skipped, as in libpq.
        let mut o = options(SslMode::Require, None);
        o.cert = Some(dir.path().join("missing.crt"));
        o.connector().unwrap();
    }

    #[test]
    fn explicit_crl_must_load() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = self_signed();
        let root = dir.path().join("root.crt");
        std::fs::write(&root, &cert).unwrap();
        let mut o = options(SslMode::VerifyCa, None);
        o.rootcert = Some(root.to_string_lossy().into_owned());
        o.crl = Some(dir.path().join("missing.crl"));
        let err = o.connector().err().unwrap();
        assert!(err
            .to_string()
            .starts_with("could not load SSL certificate revocation list"));
        o.crl = None;
        o.crldir = Some(dir.path().to_path_buf());
        o.connector().unwrap();
    }

    #[test]
    fn debug_hides_key_password() {
        let mut o = options(SslMode::Require, None);
        o.key_password = Some("keysecret".into());
        assert!(!format!("{o:?}").contains("keysecret"));
    }
}

/// A TLS connector built when a server accepts TLS, not before (see
/// [`TlsOptions::builds_without_files`]); once built, it is kept for the next host and attempt.
#[derive(Clone)]
pub(crate) struct LazyTls {
    options: TlsOptions,
    built: std::sync::Arc<std::sync::Mutex<Option<MakeTlsConnector>>>,
}

impl LazyTls {
    pub(crate) fn new(options: TlsOptions) -> LazyTls {
        LazyTls {
            options,
            built: Default::default(),
        }
    }

    fn connector(&self) -> Result<MakeTlsConnector> {
        let mut slot = self
            .built
            .lock()
            .map_err(|_| anyhow!("the TLS connector's lock is poisoned"))?;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = self.options.connector()?;
        *slot = Some(c.clone());
        Ok(c)
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl MakeTlsConnect<Socket> for LazyTls {
    type Stream = postgres_openssl::TlsStream<Socket>;
    type TlsConnect = LazyConnect;
    type Error = BoxError;

    fn make_tls_connect(&mut self, domain: &str) -> std::result::Result<LazyConnect, BoxError> {
        Ok(LazyConnect {
            tls: self.clone(),
            domain: domain.to_string(),
        })
    }
}

/// One host's TLS handshake, with the connector built on the way.
pub(crate) struct LazyConnect {
    tls: LazyTls,
    domain: String,
}

impl TlsConnect<Socket> for LazyConnect {
    type Stream = postgres_openssl::TlsStream<Socket>;
    type Error = BoxError;
    #[allow(clippy::type_complexity)]
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<Self::Stream, BoxError>> + Send>,
    >;

    fn connect(self, stream: Socket) -> Self::Future {
        let connect = self
            .tls
            .connector()
            .map_err(|e| -> BoxError { format!("could not set up TLS: {e:#}").into() })
            .and_then(|mut c| {
                MakeTlsConnect::<Socket>::make_tls_connect(&mut c, &self.domain)
                    .map_err(BoxError::from)
            });
        match connect {
            Ok(tc) => tc.connect(stream),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}
