//! The emergency route: a logical WAL sender connection (`replication=database`) to one host of a spec.
//!
//! Since PostgreSQL 12 WAL senders take their slots from `max_wal_senders`, not `max_connections`, and a
//! logical one runs ordinary SQL over the simple-query protocol: a way in when every connection slot,
//! the reserved ones included, is taken. It is matched by the ordinary pg_hba.conf lines of its database
//! and needs a role with REPLICATION. The connection is made from the same resolved options as the
//! normal one — address, port, user, database, password (explicit or the host's ~/.pgpass entry),
//! sslmode with its fallbacks, certificates, channel_binding, connect_timeout, application_name and
//! options — through [`crate::wire`], because rust-postgres cannot send the `replication` parameter.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use openssl::ssl::{HandshakeError, SslConnector};

use super::connect::{HostAttempt, TlsFailure};
use super::{ConnSpec, Host, SslMode};
use crate::wire::{self, Address, Connection, Startup, Stream};

/// How the TCP stream of one attempt is set up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Plain,
    /// SSLRequest first; plain on the same socket when the server declines (sslmode=prefer).
    TlsIfOffered,
    TlsRequired,
}

impl ConnSpec {
    /// Connect to host `i` (its index in [`ConnSpec::targets`]) as a logical WAL sender, with pgconn's
    /// `extra_options` appended to `options`, within `connect_timeout`. The error names the host (as a
    /// normal attempt's does, plus "(replication=database)") and keeps the server's
    /// [`wire::ServerError`] in its chain.
    pub fn connect_walsender(&self, i: usize, extra_options: Option<&str>) -> Result<Connection> {
        let entry = self
            .hosts
            .get(i)
            .ok_or_else(|| anyhow!("no host {i} to connect to"))?;
        let target = &entry.target;
        let options = self.options_with(extra_options);
        let mut params = vec![
            ("user", self.user.as_str()),
            ("database", self.dbname.as_str()),
            ("application_name", self.application_name()),
            ("replication", "database"),
            // Text results in one known form: UTF-8, ISO dates in UTC.
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO"),
            ("TimeZone", "UTC"),
        ];
        if let Some(o) = options.as_deref() {
            params.push(("options", o));
        }
        let startup = Startup {
            params,
            password: self.password_for(i),
            channel_binding: self.channel_binding(),
        };
        let deadline = self.connect_timeout.map(|t| Instant::now() + t);
        self.walsender_attempts(target, &startup, deadline)
            .map_err(|e| {
                e.context(HostAttempt {
                    index: i,
                    what: format!(
                        "connection to {} failed (replication=database)",
                        target.describe()
                    ),
                })
            })
    }

    /// With `channel_binding=require`, why host `i` cannot bind, in libpq's words, found the way libpq
    /// finds it: a startup (no `replication`, no password) that stops at the server's authentication
    /// request. rust-postgres says "server did not use channel binding" for every case; psql names the
    /// case, and so does pgconn. None when the server would bind (or the attempt failed otherwise).
    /// Made only after a normal connection failed for want of binding: never an extra connection on
    /// the way in.
    pub(super) fn channel_binding_refusal(&self, i: usize) -> Option<wire::ChannelBindingRequired> {
        let target = &self.hosts.get(i)?.target;
        let startup = Startup {
            params: vec![
                ("user", self.user.as_str()),
                ("database", self.dbname.as_str()),
                ("application_name", self.application_name()),
            ],
            password: None,
            channel_binding: wire::ChannelBindingPolicy::Require,
        };
        let deadline = self.connect_timeout.map(|t| Instant::now() + t);
        match self.walsender_attempts(target, &startup, deadline) {
            Ok(_) => None,
            Err(e) => e
                .chain()
                .find_map(|c| c.downcast_ref::<wire::ChannelBindingRequired>())
                .cloned(),
        }
    }

    /// libpq's sslmode sequence for one host: `allow` plain then TLS if the server rejected that
    /// attempt, `prefer` TLS then plain if TLS failed or was rejected, `require` and up TLS only; a
    /// socket never uses TLS.
    fn walsender_attempts(
        &self,
        target: &Host,
        startup: &Startup,
        deadline: Option<Instant>,
    ) -> Result<Connection> {
        if target.socket {
            let path = target
                .socket_path()
                .ok_or_else(|| anyhow!("no socket directory"))?;
            let address = Address::Unix(path);
            let stream = address.open(deadline)?;
            return Connection::start(stream, address, startup);
        }
        let mut connector: Option<SslConnector> = None;
        let mut attempt =
            |transport| self.tcp_attempt(target, startup, deadline, transport, &mut connector);
        let rejected = |e: &anyhow::Error| e.downcast_ref::<wire::ServerError>().is_some();
        match self.tls.mode {
            SslMode::Disable => attempt(Transport::Plain),
            SslMode::Allow => match attempt(Transport::Plain) {
                Err(first) if rejected(&first) => attempt(Transport::TlsRequired)
                    .map_err(|second| second.context(format!("without TLS: {first:#}; with TLS"))),
                other => other,
            },
            SslMode::Prefer => match attempt(Transport::TlsIfOffered) {
                Err(first) if rejected(&first) || first.downcast_ref::<TlsFailure>().is_some() => {
                    attempt(Transport::Plain).map_err(|second| {
                        second.context(format!("with TLS: {first:#}; without TLS"))
                    })
                }
                other => other,
            },
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                attempt(Transport::TlsRequired)
            }
        }
    }

    /// One attempt over TCP: each address of the host in turn (as libpq tries them), then TLS as
    /// `transport` says, then startup.
    fn tcp_attempt(
        &self,
        target: &Host,
        startup: &Startup,
        deadline: Option<Instant>,
        transport: Transport,
        connector: &mut Option<SslConnector>,
    ) -> Result<Connection> {
        let addresses: Vec<SocketAddr> = match (target.hostaddr, &target.host) {
            (Some(a), _) => vec![SocketAddr::new(a, target.port)],
            (None, Some(h)) => (h.as_str(), target.port)
                .to_socket_addrs()
                .with_context(|| format!("could not translate host name \"{h}\" to address"))?
                .collect(),
            (None, None) => return Err(anyhow!("no host to connect to")),
        };
        let mut last = anyhow!("host name resolved to no address");
        for addr in addresses {
            let address = Address::Tcp(addr);
            let stream = match address.open(deadline) {
                Ok(Stream::Tcp(tcp)) => tcp,
                Ok(_) => unreachable!("a TCP address opens a TCP stream"),
                Err(e) => {
                    last = anyhow::Error::new(e);
                    continue;
                }
            };
            let stream = self.negotiate(stream, target, transport, connector)?;
            return Connection::start(stream, address, startup);
        }
        Err(last)
    }

    /// TLS on `tcp` as `transport` says (SSLRequest, or straight to the handshake with
    /// `sslnegotiation=direct`), with the certificate checks of this spec's sslmode.
    fn negotiate(
        &self,
        mut tcp: TcpStream,
        target: &Host,
        transport: Transport,
        connector: &mut Option<SslConnector>,
    ) -> Result<Stream> {
        if transport == Transport::Plain {
            return Ok(Stream::Tcp(tcp));
        }
        if !self.tls.direct {
            let accepted = Stream::request_tls(&mut tcp).context("sending the SSL request")?;
            if !accepted {
                return match transport {
                    Transport::TlsIfOffered => Ok(Stream::Tcp(tcp)),
                    _ => Err(anyhow::Error::new(TlsFailure(
                        "server does not support SSL, but SSL was required".into(),
                    ))),
                };
            }
        }
        if connector.is_none() {
            *connector = Some(self.tls.ssl_connector().context("could not set up TLS")?);
        }
        let ssl = connector.as_ref().expect("built just now");
        let domain = target.display_host();
        let mut config = ssl.configure().context("could not set up TLS")?;
        self.tls.configure(&mut config, &domain);
        match config.connect(&domain, tcp) {
            Ok(s) => Ok(Stream::Tls(Box::new(s))),
            Err(e) => {
                let message = self.tls.take_mismatch().unwrap_or_else(|| match &e {
                    HandshakeError::Failure(m) | HandshakeError::WouldBlock(m) => {
                        super::tls::ssl_error_words(m.error())
                    }
                    HandshakeError::SetupFailure(stack) => {
                        format!("SSL error: {}", super::tls::openssl_reason(stack))
                    }
                });
                Err(anyhow::Error::new(TlsFailure(message)))
            }
        }
    }
}
