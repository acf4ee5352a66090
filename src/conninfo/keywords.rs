//! The connection keywords libpq accepts, with the environment variable that supplies each one.

/// One libpq connection keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keyword {
    /// The keyword as written in a conninfo string (`sslmode`).
    pub name: &'static str,
    /// The environment variable libpq reads when the keyword is not set otherwise (`PGSSLMODE`).
    pub env: Option<&'static str>,
    /// A secret: never reported by `ConnSpec::get`, Debug output or error messages.
    pub secret: bool,
}

const fn kw(name: &'static str, env: Option<&'static str>) -> Keyword {
    Keyword {
        name,
        env,
        secret: false,
    }
}

const fn secret(name: &'static str, env: Option<&'static str>) -> Keyword {
    Keyword {
        name,
        env,
        secret: true,
    }
}

/// Every keyword of libpq 18 (plus `servicefile`), in libpq's own order. Secret: the ones libpq shows as
/// `*` (password, sslpassword, oauth_client_secret) and the SCRAM keys, which authenticate like a password.
pub(crate) const KEYWORDS: &[Keyword] = &[
    kw("service", Some("PGSERVICE")),
    kw("servicefile", Some("PGSERVICEFILE")),
    kw("user", Some("PGUSER")),
    secret("password", Some("PGPASSWORD")),
    kw("passfile", Some("PGPASSFILE")),
    kw("channel_binding", Some("PGCHANNELBINDING")),
    kw("connect_timeout", Some("PGCONNECT_TIMEOUT")),
    kw("dbname", Some("PGDATABASE")),
    kw("host", Some("PGHOST")),
    kw("hostaddr", Some("PGHOSTADDR")),
    kw("port", Some("PGPORT")),
    kw("client_encoding", Some("PGCLIENTENCODING")),
    kw("options", Some("PGOPTIONS")),
    kw("application_name", Some("PGAPPNAME")),
    kw("fallback_application_name", None),
    kw("keepalives", None),
    kw("keepalives_idle", None),
    kw("keepalives_interval", None),
    kw("keepalives_count", None),
    kw("tcp_user_timeout", None),
    kw("sslmode", Some("PGSSLMODE")),
    kw("sslnegotiation", Some("PGSSLNEGOTIATION")),
    kw("sslcompression", Some("PGSSLCOMPRESSION")),
    kw("sslcert", Some("PGSSLCERT")),
    kw("sslkey", Some("PGSSLKEY")),
    kw("sslcertmode", Some("PGSSLCERTMODE")),
    secret("sslpassword", None),
    kw("sslrootcert", Some("PGSSLROOTCERT")),
    kw("sslcrl", Some("PGSSLCRL")),
    kw("sslcrldir", Some("PGSSLCRLDIR")),
    kw("sslsni", Some("PGSSLSNI")),
    kw("requirepeer", Some("PGREQUIREPEER")),
    kw("require_auth", Some("PGREQUIREAUTH")),
    kw("min_protocol_version", Some("PGMINPROTOCOLVERSION")),
    kw("max_protocol_version", Some("PGMAXPROTOCOLVERSION")),
    kw("ssl_min_protocol_version", Some("PGSSLMINPROTOCOLVERSION")),
    kw("ssl_max_protocol_version", Some("PGSSLMAXPROTOCOLVERSION")),
    kw("gssencmode", Some("PGGSSENCMODE")),
    kw("krbsrvname", Some("PGKRBSRVNAME")),
    kw("gsslib", Some("PGGSSLIB")),
    kw("gssdelegation", Some("PGGSSDELEGATION")),
    kw("replication", None),
    kw("target_session_attrs", Some("PGTARGETSESSIONATTRS")),
    kw("load_balance_hosts", Some("PGLOADBALANCEHOSTS")),
    secret("scram_client_key", None),
    secret("scram_server_key", None),
    kw("oauth_issuer", None),
    kw("oauth_client_id", None),
    secret("oauth_client_secret", None),
    kw("oauth_scope", None),
    kw("sslkeylogfile", None),
];

/// The names of the secret keywords.
pub(crate) fn secret_names() -> impl Iterator<Item = &'static str> {
    KEYWORDS.iter().filter(|k| k.secret).map(|k| k.name)
}

/// The keyword called `name`, if libpq knows it (keywords are case-sensitive, as in libpq).
pub(crate) fn lookup(name: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|k| k.name == name)
}

/// The libpq error for a keyword it does not know.
pub(crate) fn unknown(name: &str) -> anyhow::Error {
    anyhow::anyhow!("invalid connection option \"{name}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_keywords() {
        assert_eq!(lookup("sslmode").and_then(|k| k.env), Some("PGSSLMODE"));
        assert!(lookup("password").is_some_and(|k| k.secret));
        assert!(lookup("sslpassword").is_some_and(|k| k.secret));
        assert!(lookup("oauth_client_secret").is_some_and(|k| k.secret));
        assert!(lookup("scram_client_key").is_some_and(|k| k.secret));
        assert!(lookup("oauth_client_id").is_some_and(|k| !k.secret));
        assert!(lookup("host").is_some_and(|k| !k.secret));
        assert!(lookup("SSLMODE").is_none());
        let err = unknown("foo");
        assert_eq!(err.to_string(), "invalid connection option \"foo\"");
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in KEYWORDS.iter().enumerate() {
            assert!(
                KEYWORDS[i + 1..].iter().all(|b| b.name != a.name),
                "{} twice",
                a.name
            );
        }
    }
}
