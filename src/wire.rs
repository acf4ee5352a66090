//! A small client of PostgreSQL's frontend/backend protocol (version 3.0), written directly on a socket.
//!
//! A [`Connection`] starts up with the parameters it is given (trust authentication only: a server that
//! asks for a password is refused with [`UnsupportedAuthentication`]), runs simple queries, sends cancel
//! requests and terminates. It speaks over a unix socket or plain TCP, never TLS. There is no thread or
//! runtime per connection, so thousands can be open at once; each knows its backend pid and cancel key.
//!
//! An ErrorResponse from the server arrives as a [`ServerError`] in the `anyhow` chain: reach it with
//! `err.downcast_ref::<ServerError>()` to look at the SQLSTATE.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How long a read or a write on an open connection may block.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// How long opening a TCP connection may take.
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The protocol version of the StartupMessage: 3.0.
const PROTOCOL_VERSION: i32 = 196608;

/// The code that makes a startup packet a CancelRequest.
const CANCEL_REQUEST_CODE: i32 = 80877102;

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// The path of a unix socket file, `<dir>/.s.PGSQL.<port>` (see [`Address::unix_socket`]).
    Unix(PathBuf),
    /// A TCP address (without TLS).
    Tcp(SocketAddr),
}

impl Address {
    /// The socket file of the server listening in socket directory `dir` on `port`.
    pub fn unix_socket(dir: &Path, port: u16) -> Address {
        Address::Unix(dir.join(format!(".s.PGSQL.{port}")))
    }

    /// A new socket to this address, with [`IO_TIMEOUT`] on reads and writes.
    fn open(&self) -> io::Result<Stream> {
        let stream = match self {
            Address::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
            Address::Tcp(addr) => {
                let s = TcpStream::connect_timeout(addr, TCP_CONNECT_TIMEOUT)?;
                s.set_nodelay(true)?;
                Stream::Tcp(s)
            }
        };
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        match &stream {
            Stream::Unix(s) => s.set_write_timeout(Some(IO_TIMEOUT))?,
            Stream::Tcp(s) => s.set_write_timeout(Some(IO_TIMEOUT))?,
        }
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
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.code, self.message)
    }
}

impl std::error::Error for ServerError {}

/// The server asked for authentication (a password, SASL, ...) where [`Connection`] speaks only trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedAuthentication {
    /// The `user` startup parameter
    pub user: String,
    /// The AuthenticationRequest code (3 cleartext password, 5 MD5, 10 SASL, ...); `None` when the message
    /// was too short to hold one
    pub request: Option<i32>,
}

impl fmt::Display for UnsupportedAuthentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the server asks {} for a password (authentication request {:?})",
            self.user, self.request
        )
    }
}

impl std::error::Error for UnsupportedAuthentication {}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Tcp(s) => s.set_read_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One message: its type byte (none for startup packets), its length, its body.
fn message(kind: Option<u8>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.extend(kind);
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The severity, SQLSTATE and message fields of an ErrorResponse body.
fn parse_error(body: &[u8]) -> ServerError {
    let mut err = ServerError {
        severity: String::new(),
        code: String::new(),
        message: String::new(),
    };
    for field in body.split(|b| *b == 0) {
        let Some((&kind, value)) = field.split_first() else {
            continue;
        };
        let value = String::from_utf8_lossy(value).into_owned();
        match kind {
            b'S' => err.severity = value,
            b'C' => err.code = value,
            b'M' => err.message = value,
            _ => {}
        }
    }
    err
}

/// One connection to a server, started up and ready for queries.
pub struct Connection {
    stream: BufReader<Stream>,
    address: Address,
    pid: i32,
    cancel_key: Vec<u8>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.address)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Connect to `address` and start up with `params`, the StartupMessage's parameters in the order given
    /// (`user` is required by the server; `database`, `application_name`, `options`, ... as needed).
    /// Returns at the first ReadyForQuery.
    ///
    /// Errors: [`UnsupportedAuthentication`] when the server asks for anything but trust, [`ServerError`]
    /// when it refuses the connection (e.g. SQLSTATE 53300 when it is full).
    pub fn connect(address: &Address, params: &[(&str, &str)]) -> Result<Connection> {
        let stream = address
            .open()
            .with_context(|| format!("connecting to {address:?}"))?;
        let mut connection = Connection {
            stream: BufReader::new(stream),
            address: address.clone(),
            pid: 0,
            cancel_key: Vec::new(),
        };
        let mut body = PROTOCOL_VERSION.to_be_bytes().to_vec();
        for (key, value) in params {
            body.extend_from_slice(key.as_bytes());
            body.push(0);
            body.extend_from_slice(value.as_bytes());
            body.push(0);
        }
        body.push(0);
        connection.send(&message(None, &body))?;
        loop {
            let (kind, body) = connection.read_message()?;
            match kind {
                b'R' => {
                    let code = body
                        .get(..4)
                        .map(|b| i32::from_be_bytes(b.try_into().unwrap()));
                    if code != Some(0) {
                        let user = params.iter().find(|(key, _)| *key == "user");
                        return Err(UnsupportedAuthentication {
                            user: user.map_or("", |(_, value)| value).to_string(),
                            request: code,
                        }
                        .into());
                    }
                }
                b'K' if body.len() >= 8 => {
                    connection.pid = i32::from_be_bytes(body[..4].try_into().unwrap());
                    connection.cancel_key = body[4..].to_vec();
                }
                b'E' => return Err(parse_error(&body).into()),
                b'Z' => return Ok(connection),
                _ => {}
            }
        }
    }

    /// The process id of the server backend serving this connection (from BackendKeyData; 0 when the
    /// server sent none).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The secret key of BackendKeyData, which a CancelRequest must quote (empty when the server sent
    /// none).
    pub fn cancel_key(&self) -> &[u8] {
        &self.cancel_key
    }

    /// Run a simple query (one or more statements) and wait for ReadyForQuery. Rows are read and
    /// discarded; the first ErrorResponse is returned as a [`ServerError`].
    pub fn simple_query(&mut self, sql: &str) -> Result<()> {
        self.send_simple_query(sql)?;
        let mut error = None;
        loop {
            let (kind, body) = self.read_message()?;
            match kind {
                b'E' => error = error.or(Some(parse_error(&body))),
                b'Z' => break,
                _ => {}
            }
        }
        match error {
            Some(e) => Err(anyhow::Error::new(e).context(format!("running {sql:?}"))),
            None => Ok(()),
        }
    }

    /// Send a simple query without waiting for it: the backend runs it while the caller goes on. Its
    /// reply is left unread, so [`Connection::simple_query`] would read it as its own: after this, use only
    /// [`Connection::cancel`] and [`Connection::close`].
    pub fn send_simple_query(&mut self, sql: &str) -> Result<()> {
        let mut body = sql.as_bytes().to_vec();
        body.push(0);
        self.send(&message(Some(b'Q'), &body))
    }

    /// Ask the server to cancel the query this connection is running: a CancelRequest with its pid and
    /// cancel key, on a new connection to the same address. The server does not answer it, so success
    /// means only that the request was sent.
    pub fn cancel(&self) -> Result<()> {
        let mut stream = self
            .address
            .open()
            .with_context(|| format!("connecting to {:?} to cancel a query", self.address))?;
        let mut body = CANCEL_REQUEST_CODE.to_be_bytes().to_vec();
        body.extend_from_slice(&self.pid.to_be_bytes());
        body.extend_from_slice(&self.cancel_key);
        stream
            .write_all(&message(None, &body))
            .context("sending a cancel request")
    }

    /// Send Terminate: the server ends the backend and closes the connection (see
    /// [`Connection::wait_closed`]). Nothing else may be sent afterwards.
    pub fn close(&mut self) -> Result<()> {
        self.send(&message(Some(b'X'), &[]))
    }

    /// Wait, until `deadline` at the latest, for the server to close the connection (its backend has
    /// exited). Anything it still sends is discarded.
    pub fn wait_closed(&mut self, deadline: Instant) {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.get_ref().set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.stream.fill_buf() {
                Ok([]) | Err(_) => return,
                Ok(buf) => {
                    let n = buf.len();
                    self.stream.consume(n);
                }
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream
            .get_mut()
            .write_all(bytes)
            .context("writing to the server")
    }

    fn read_message(&mut self) -> Result<(u8, Vec<u8>)> {
        let mut header = [0u8; 5];
        self.stream
            .read_exact(&mut header)
            .context("reading from the server")?;
        let len = i32::from_be_bytes(header[1..].try_into().unwrap());
        if !(4..=1 << 30).contains(&len) {
            bail!("malformed message from the server");
        }
        let mut body = vec![0u8; len as usize - 4];
        self.stream
            .read_exact(&mut body)
            .context("reading from the server")?;
        Ok((header[0], body))
    }
}
