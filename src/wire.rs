//! A small client of PostgreSQL's frontend/backend protocol (version 3.0) on a socket of its own, built on
//! `postgres-protocol` (its message encoders and parser, SCRAM-SHA-256 and MD5).
//!
//! It exists for what rust-postgres cannot do: start up with any parameters (`replication=database`, the
//! emergency route of [`crate::db`]) and hold thousands of connections without a thread or runtime each
//! (the sandbox's workload). A [`Connection`] starts up over a unix socket, plain TCP or TLS (the caller
//! does the handshake, see [`Stream::request_tls`]), authenticates with trust, a cleartext password, MD5
//! or SCRAM-SHA-256 (SCRAM-SHA-256-PLUS when TLS gives channel binding), runs simple queries (rows as
//! text), sends cancel requests and terminates.
//!
//! An ErrorResponse from the server arrives as a [`ServerError`] in the `anyhow` chain: reach it with
//! `err.downcast_ref::<ServerError>()` to look at the SQLSTATE.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::ssl::SslStream;
use postgres_protocol::authentication::sasl::{self, ChannelBinding, ScramSha256};
use postgres_protocol::message::{backend::Message, frontend};

/// How long a read or a write on an open connection may block (pgconn's statements end within their
/// statement_timeout of 30 s, the sandbox's within milliseconds).
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// How long opening a TCP connection may take when no deadline is given.
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// The path of a unix socket file, `<dir>/.s.PGSQL.<port>` (see [`Address::unix_socket`]).
    Unix(PathBuf),
    /// A TCP address.
    Tcp(SocketAddr),
}

impl Address {
    /// The socket file of the server listening in socket directory `dir` on `port`.
    pub fn unix_socket(dir: &Path, port: u16) -> Address {
        Address::Unix(dir.join(format!(".s.PGSQL.{port}")))
    }

    /// A new socket to this address, opened before `deadline` (default: 10 s for TCP), with reads and
    /// writes bounded by the deadline (or [`IO_TIMEOUT`]).
    pub fn open(&self, deadline: Option<Instant>) -> io::Result<Stream> {
        let left = |default: Duration| {
            deadline
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(default)
                .max(Duration::from_millis(1))
        };
        let stream = match self {
            Address::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
            Address::Tcp(addr) => {
                let s = TcpStream::connect_timeout(addr, left(TCP_CONNECT_TIMEOUT))?;
                s.set_nodelay(true)?;
                Stream::Tcp(s)
            }
        };
        stream.set_timeouts(Some(left(IO_TIMEOUT)))?;
        Ok(stream)
    }
}

/// An error the server sent (ErrorResponse). Reach it with `err.downcast_ref::<ServerError>()` to look at
/// the SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub severity: String,
    /// SQLSTATE, e.g. "53300"
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.code, self.message)
    }
}

impl std::error::Error for ServerError {}

/// The server asked for a kind of authentication this client does not speak (GSSAPI, SSPI, Kerberos,
/// SCM credentials), or for a password where none may be sent (see [`Startup::password`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedAuthentication {
    /// The `user` startup parameter
    pub user: String,
    /// What the server asked for: `GSSAPI`, `SSPI`, `password`, ...
    pub request: String,
}

impl fmt::Display for UnsupportedAuthentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the server asks {} for {} authentication, which this connection cannot do",
            self.user, self.request
        )
    }
}

impl std::error::Error for UnsupportedAuthentication {}

/// The server asked for a password and none was given (libpq's "fe_sendauth: no password supplied").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordMissing {
    pub user: String,
}

impl fmt::Display for PasswordMissing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "password missing for user \"{}\"", self.user)
    }
}

impl std::error::Error for PasswordMissing {}

/// `channel_binding=require` and the server's authentication cannot bind to TLS: refused before any
/// password is sent, in libpq's words (fe-auth.c): "channel binding required, but SSL not in use",
/// "channel binding required but not supported by server's authentication request", "channel binding
/// required, but server authenticated client without channel binding", "channel binding is required,
/// but server did not offer an authentication method that supports channel binding".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelBindingRequired(pub &'static str);

impl fmt::Display for ChannelBindingRequired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ChannelBindingRequired {}

/// libpq's words for each way channel binding cannot happen.
const CB_NO_SSL: &str = "channel binding required, but SSL not in use";
const CB_NOT_SASL: &str =
    "channel binding required but not supported by server's authentication request";
const CB_UNBOUND_OK: &str =
    "channel binding required, but server authenticated client without channel binding";
const CB_NO_PLUS: &str = "channel binding is required, but server did not offer an authentication \
                          method that supports channel binding";

/// The connection broke: a read or write failed, or the server closed it (its backend ended).
#[derive(Debug)]
pub struct Disconnected(pub String);

impl fmt::Display for Disconnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Disconnected {}

/// A socket to a server: unix, TCP, or TCP with TLS.
pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Stream {
    fn set_timeouts(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => {
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)
            }
            Stream::Tcp(s) => {
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)
            }
            Stream::Tls(s) => {
                s.get_ref().set_read_timeout(timeout)?;
                s.get_ref().set_write_timeout(timeout)
            }
        }
    }

    /// Send an SSLRequest on a plain TCP stream and read the one-byte answer: `true` when the server is
    /// willing to speak TLS (the caller then does the handshake on the socket), `false` when it declines.
    pub fn request_tls(tcp: &mut TcpStream) -> io::Result<bool> {
        let mut buf = BytesMut::new();
        frontend::ssl_request(&mut buf);
        tcp.write_all(&buf)?;
        let mut answer = [0u8; 1];
        tcp.read_exact(&mut answer)?;
        match answer[0] {
            b'S' => Ok(true),
            b'N' => Ok(false),
            // An old server answers an ErrorResponse; a pooler may close the socket.
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the server answered the SSL request with an error",
            )),
        }
    }

    /// The TLS channel binding data (tls-server-end-point, RFC 5929: the hash of the server's
    /// certificate, SHA-256 for certificates signed with MD5 or SHA-1), when this is a TLS stream.
    fn tls_server_end_point(&self) -> Option<Vec<u8>> {
        let Stream::Tls(s) = self else {
            return None;
        };
        let cert = s.ssl().peer_certificate()?;
        let algorithms = cert
            .signature_algorithm()
            .object()
            .nid()
            .signature_algorithms()?;
        let md = match algorithms.digest {
            Nid::MD5 | Nid::SHA1 => MessageDigest::sha256(),
            nid => MessageDigest::from_nid(nid)?,
        };
        cert.digest(md).ok().map(|d| d.to_vec())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tls(s) => s.flush(),
            _ => Ok(()),
        }
    }
}

/// libpq's `channel_binding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelBindingPolicy {
    Disable,
    #[default]
    Prefer,
    Require,
}

/// How to start up: the StartupMessage's parameters in the order given (`user` is required by the
/// server; `database`, `application_name`, `options`, `replication`, ... as needed), the password if
/// any, and the channel binding policy.
#[derive(Default)]
pub struct Startup<'a> {
    pub params: Vec<(&'a str, &'a str)>,
    pub password: Option<&'a str>,
    pub channel_binding: ChannelBindingPolicy,
}

impl fmt::Debug for Startup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Startup")
            .field("params", &self.params)
            .field("password", &self.password.map(|_| "********"))
            .field("channel_binding", &self.channel_binding)
            .finish()
    }
}

impl Startup<'_> {
    fn user(&self) -> String {
        self.params
            .iter()
            .find(|(k, _)| *k == "user")
            .map_or("", |(_, v)| v)
            .to_string()
    }
}

/// One row of a simple query's result: each value as the server's text, `None` for NULL.
#[derive(Debug, Clone)]
pub struct TextRow {
    columns: Arc<[String]>,
    values: Vec<Option<String>>,
}

impl TextRow {
    /// A row of these columns and values.
    pub fn new(columns: Arc<[String]>, values: Vec<Option<String>>) -> TextRow {
        TextRow { columns, values }
    }

    /// The column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The value of column `i` as text (`None`: NULL, or no value `i` in a row shorter than its
    /// description: [`TextRow::len`] tells them apart).
    pub fn value(&self, i: usize) -> Option<&str> {
        self.values.get(i).and_then(Option::as_deref)
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// One connection to a server, started up and ready for queries.
pub struct Connection {
    stream: Stream,
    buf: BytesMut,
    address: Address,
    pid: i32,
    secret_key: i32,
    parameters: Vec<(String, String)>,
    /// SCRAM-SHA-256-PLUS was used: the server proved it holds the certificate TLS showed.
    bound: bool,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.address)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

/// The fields of an ErrorResponse.
fn server_error(fields: &mut postgres_protocol::message::backend::ErrorFields<'_>) -> ServerError {
    let mut err = ServerError {
        severity: String::new(),
        code: String::new(),
        message: String::new(),
        detail: None,
        hint: None,
    };
    while let Ok(Some(field)) = fields.next() {
        let value = String::from_utf8_lossy(field.value_bytes()).into_owned();
        match field.type_() {
            // V: the severity never translated (9.6+); S: perhaps translated.
            b'V' => err.severity = value,
            b'S' if err.severity.is_empty() => err.severity = value,
            b'C' => err.code = value,
            b'M' => err.message = value,
            b'D' => err.detail = Some(value),
            b'H' => err.hint = Some(value),
            _ => {}
        }
    }
    err
}

impl Connection {
    /// Connect to `address` and start up with `params` and trust authentication (the sandbox's own
    /// clusters). Returns at the first ReadyForQuery.
    ///
    /// Errors: [`PasswordMissing`] when the server asks for a password, [`ServerError`] when it refuses
    /// the connection (e.g. SQLSTATE 53300 when it is full).
    pub fn connect(address: &Address, params: &[(&str, &str)]) -> Result<Connection> {
        let stream = address
            .open(None)
            .with_context(|| format!("connecting to {address:?}"))?;
        let startup = Startup {
            params: params.to_vec(),
            ..Startup::default()
        };
        Connection::start(stream, address.clone(), &startup)
    }

    /// Start up on `stream` (opened, and with TLS negotiated, by the caller): send the StartupMessage,
    /// authenticate, and return at the first ReadyForQuery. The stream's timeouts bound each read.
    pub fn start(stream: Stream, address: Address, startup: &Startup) -> Result<Connection> {
        let mut connection = Connection {
            stream,
            buf: BytesMut::with_capacity(8192),
            address,
            pid: 0,
            secret_key: 0,
            parameters: Vec::new(),
            bound: false,
        };
        let mut out = BytesMut::new();
        frontend::startup_message(startup.params.iter().copied(), &mut out)
            .context("encoding the startup message")?;
        connection.send(&out)?;
        let mut scram: Option<ScramSha256> = None;
        let require = startup.channel_binding == ChannelBindingPolicy::Require;
        loop {
            let message = connection.read_message()?;
            // As libpq's check_expected_areq: with channel binding required, no answer to a request that
            // cannot bind (a password would go to a server not proven to hold the certificate), and no
            // authentication without binding.
            if require {
                match &message {
                    Message::AuthenticationOk if !connection.bound => {
                        return Err(ChannelBindingRequired(CB_UNBOUND_OK).into())
                    }
                    Message::AuthenticationCleartextPassword
                    | Message::AuthenticationMd5Password(_)
                    | Message::AuthenticationGss
                    | Message::AuthenticationGssContinue(_)
                    | Message::AuthenticationSspi
                    | Message::AuthenticationKerberosV5
                    | Message::AuthenticationScmCredential => {
                        return Err(ChannelBindingRequired(CB_NOT_SASL).into())
                    }
                    _ => {}
                }
            }
            match message {
                Message::AuthenticationOk => {}
                Message::AuthenticationCleartextPassword => {
                    let password = connection.password(startup)?;
                    connection.send_with(|b| frontend::password_message(password.as_bytes(), b))?;
                }
                Message::AuthenticationMd5Password(body) => {
                    let password = connection.password(startup)?;
                    let hash = postgres_protocol::authentication::md5_hash(
                        startup.user().as_bytes(),
                        password.as_bytes(),
                        body.salt(),
                    );
                    connection.send_with(|b| frontend::password_message(hash.as_bytes(), b))?;
                }
                Message::AuthenticationSasl(body) => {
                    let mut mechanisms = Vec::new();
                    let mut it = body.mechanisms();
                    while let Some(m) = it.next().context("reading the SASL mechanisms")? {
                        mechanisms.push(m.to_string());
                    }
                    let (mechanism, s) = connection.begin_scram(startup, &mechanisms)?;
                    let first = s.message().to_vec();
                    connection
                        .send_with(|b| frontend::sasl_initial_response(mechanism, &first, b))?;
                    scram = Some(s);
                }
                Message::AuthenticationSaslContinue(body) => {
                    let s = scram.as_mut().ok_or_else(|| {
                        anyhow!("the server continued a SASL exchange never begun")
                    })?;
                    s.update(body.data())
                        .context("SCRAM authentication failed")?;
                    let next = s.message().to_vec();
                    connection.send_with(|b| frontend::sasl_response(&next, b))?;
                }
                Message::AuthenticationSaslFinal(body) => {
                    let s = scram
                        .as_mut()
                        .ok_or_else(|| anyhow!("the server ended a SASL exchange never begun"))?;
                    // Checks the server's signature: a server that does not know the password cannot
                    // pretend to.
                    s.finish(body.data())
                        .context("SCRAM authentication failed: the server's signature is wrong")?;
                }
                Message::AuthenticationGss | Message::AuthenticationGssContinue(_) => {
                    return Err(connection.unsupported(startup, "GSSAPI"))
                }
                Message::AuthenticationSspi => return Err(connection.unsupported(startup, "SSPI")),
                Message::AuthenticationKerberosV5 => {
                    return Err(connection.unsupported(startup, "Kerberos V5"))
                }
                Message::AuthenticationScmCredential => {
                    return Err(connection.unsupported(startup, "SCM credential"))
                }
                Message::BackendKeyData(body) => {
                    connection.pid = body.process_id();
                    connection.secret_key = body.secret_key();
                }
                Message::ParameterStatus(body) => {
                    if let (Ok(k), Ok(v)) = (body.name(), body.value()) {
                        connection.parameters.push((k.to_string(), v.to_string()));
                    }
                }
                Message::ErrorResponse(body) => return Err(server_error(&mut body.fields()).into()),
                Message::ReadyForQuery(_) => {
                    connection.stream.set_timeouts(Some(IO_TIMEOUT))?;
                    return Ok(connection);
                }
                _ => {}
            }
        }
    }

    /// The password to send, or [`PasswordMissing`].
    fn password<'s>(&self, startup: &'s Startup) -> Result<&'s str> {
        startup.password.ok_or_else(|| {
            PasswordMissing {
                user: startup.user(),
            }
            .into()
        })
    }

    fn unsupported(&self, startup: &Startup, what: &str) -> anyhow::Error {
        UnsupportedAuthentication {
            user: startup.user(),
            request: what.to_string(),
        }
        .into()
    }

    /// Choose the SCRAM mechanism as libpq does: SCRAM-SHA-256-PLUS over TLS when the server offers it
    /// and channel binding is not disabled; plain SCRAM-SHA-256 otherwise (refused when binding is
    /// required, before the password is looked up).
    fn begin_scram(
        &mut self,
        startup: &Startup,
        mechanisms: &[String],
    ) -> Result<(&'static str, ScramSha256)> {
        let end_point = self.stream.tls_server_end_point();
        let offers = |m: &str| mechanisms.iter().any(|x| x == m);
        let policy = startup.channel_binding;
        if policy == ChannelBindingPolicy::Require && end_point.is_none() {
            return Err(ChannelBindingRequired(CB_NO_SSL).into());
        }
        let password = self.password(startup)?;
        if policy != ChannelBindingPolicy::Disable && offers(sasl::SCRAM_SHA_256_PLUS) {
            if let Some(data) = end_point.clone() {
                self.bound = true;
                return Ok((
                    sasl::SCRAM_SHA_256_PLUS,
                    ScramSha256::new(
                        password.as_bytes(),
                        ChannelBinding::tls_server_end_point(data),
                    ),
                ));
            }
        }
        if policy == ChannelBindingPolicy::Require {
            return Err(ChannelBindingRequired(CB_NO_PLUS).into());
        }
        if !offers(sasl::SCRAM_SHA_256) {
            return Err(self.unsupported(startup, &format!("SASL ({})", mechanisms.join(", "))));
        }
        // Over TLS without binding the client says it could bind ("y"), so that a man in the middle
        // who strips PLUS from the list is detected by the server.
        let binding = if end_point.is_some() && policy != ChannelBindingPolicy::Disable {
            ChannelBinding::unrequested()
        } else {
            ChannelBinding::unsupported()
        };
        Ok((
            sasl::SCRAM_SHA_256,
            ScramSha256::new(password.as_bytes(), binding),
        ))
    }

    /// The process id of the server backend serving this connection (from BackendKeyData; 0 when the
    /// server sent none).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// A run-time parameter the server reported at startup (`server_version`, ...).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Run a simple query (one or more statements) and wait for ReadyForQuery. Rows are discarded; the
    /// first ErrorResponse is returned as a [`ServerError`].
    pub fn simple_query(&mut self, sql: &str) -> Result<()> {
        self.query(sql).map(|_| ())
    }

    /// Run a simple query and return the rows of its last statement that returns rows (a SELECT, even
    /// of none), as text. The
    /// first ErrorResponse is returned as a [`ServerError`] (after the server is ready again).
    pub fn query(&mut self, sql: &str) -> Result<Vec<TextRow>> {
        self.send_simple_query(sql)?;
        let mut error: Option<ServerError> = None;
        let mut columns: Arc<[String]> = Arc::from(Vec::new());
        let mut rows: Vec<TextRow> = Vec::new();
        let mut current: Vec<TextRow> = Vec::new();
        let mut in_result = false;
        loop {
            match self.read_message()? {
                Message::RowDescription(body) => {
                    let mut names = Vec::new();
                    let mut fields = body.fields();
                    while let Some(f) = fields.next().context("reading a row description")? {
                        names.push(f.name().to_string());
                    }
                    columns = Arc::from(names);
                    current = Vec::new();
                    in_result = true;
                }
                Message::DataRow(body) => {
                    let buffer = body.buffer();
                    let mut values = Vec::with_capacity(columns.len());
                    let mut ranges = body.ranges();
                    while let Some(range) = ranges.next().context("reading a row")? {
                        values
                            .push(range.map(|r| String::from_utf8_lossy(&buffer[r]).into_owned()));
                    }
                    current.push(TextRow {
                        columns: Arc::clone(&columns),
                        values,
                    });
                }
                Message::CommandComplete(_) if in_result => {
                    rows = std::mem::take(&mut current);
                    in_result = false;
                }
                Message::ErrorResponse(body) => {
                    let e = server_error(&mut body.fields());
                    error = error.or(Some(e));
                }
                Message::ReadyForQuery(_) => break,
                _ => {}
            }
        }
        match error {
            Some(e) => Err(e.into()),
            None => Ok(rows),
        }
    }

    /// Send a simple query without waiting for it: the backend runs it while the caller goes on. Its
    /// reply is left unread, so [`Connection::simple_query`] would read it as its own: after this, use only
    /// [`Connection::cancel`] and [`Connection::close`].
    pub fn send_simple_query(&mut self, sql: &str) -> Result<()> {
        self.send_with(|b| frontend::query(sql, b))
    }

    /// Ask the server to cancel the query this connection is running: a CancelRequest with its pid and
    /// cancel key, on a new connection to the same address. The server does not answer it, so success
    /// means only that the request was sent.
    pub fn cancel(&self) -> Result<()> {
        let mut stream = self
            .address
            .open(None)
            .with_context(|| format!("connecting to {:?} to cancel a query", self.address))?;
        let mut buf = BytesMut::new();
        frontend::cancel_request(self.pid, self.secret_key, &mut buf);
        stream.write_all(&buf).context("sending a cancel request")
    }

    /// Send Terminate: the server ends the backend and closes the connection (see
    /// [`Connection::wait_closed`]). Nothing else may be sent afterwards.
    pub fn close(&mut self) -> Result<()> {
        let mut buf = BytesMut::new();
        frontend::terminate(&mut buf);
        self.send(&buf)
    }

    /// Wait, until `deadline` at the latest, for the server to close the connection (its backend has
    /// exited). Anything it still sends is discarded.
    pub fn wait_closed(&mut self, deadline: Instant) {
        let mut scratch = [0u8; 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_timeouts(Some(left)).is_err() {
                return;
            }
            match self.stream.read(&mut scratch) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }

    fn send_with(&mut self, encode: impl FnOnce(&mut BytesMut) -> io::Result<()>) -> Result<()> {
        let mut buf = BytesMut::new();
        encode(&mut buf).context("encoding a message")?;
        self.send(&buf)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| Disconnected(format!("writing to the server: {e}")).into())
    }

    fn read_message(&mut self) -> Result<Message> {
        loop {
            if let Some(m) =
                Message::parse(&mut self.buf).context("malformed message from the server")?
            {
                return Ok(m);
            }
            let mut chunk = [0u8; 8192];
            let n = self
                .stream
                .read(&mut chunk)
                .map_err(|e| Disconnected(format!("reading from the server: {e}")))?;
            if n == 0 {
                return Err(
                    Disconnected("the server closed the connection unexpectedly".into()).into(),
                );
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
