//! `exporter`: the HTTP side. hyper (HTTP/1 only) on a current-thread tokio runtime, TLS through
//! tokio-openssl, collections on tokio's blocking threads through [`commands::exporter::Collector`],
//! text through [`render::exporter`], the log through [`term::log`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use openssl::ssl::{Ssl, SslAcceptor};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

use crate::commands::exporter::web_config::{self, BasicAuth, WebConfig};
use crate::commands::exporter::{
    configured_targets, match_probe, Collected, Collector, ExporterRequest, LogLevel, ProbeMatch,
    TargetKeys,
};
use crate::db::{self, ConnOptions};
use crate::exit::Exit;
use crate::render;
use crate::term;

mod head;

/// How long in-flight requests may take to finish after SIGTERM or SIGINT.
const DRAIN: Duration = Duration::from_secs(5);
/// How long a client may take to send a request head (or a TLS handshake).
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// The web configuration in force, and its TLS acceptor.
struct Web {
    cfg: WebConfig,
    acceptor: Option<SslAcceptor>,
}

impl Web {
    fn load(path: Option<&std::path::Path>) -> Result<Web> {
        let cfg = match path {
            Some(p) => web_config::load(p)?,
            None => WebConfig::default(),
        };
        let acceptor = match &cfg.tls {
            Some(t) => Some(t.acceptor()?),
            None => None,
        };
        Ok(Web { cfg, acceptor })
    }
}

struct State {
    req: ExporterRequest,
    collector: Collector,
    keys: Vec<TargetKeys>,
    web: RwLock<Arc<Web>>,
    auth: BasicAuth,
    auth_module_said: AtomicBool,
    index: String,
}

impl State {
    fn log(&self, level: LogLevel, text: &str) {
        if level <= self.req.log_level {
            term::log(level.key(), text);
        }
    }

    fn web(&self) -> Arc<Web> {
        Arc::clone(&self.web.read().unwrap_or_else(|p| p.into_inner()))
    }
}

/// `pgconn exporter`: resolve every target, read the web configuration, bind every address (a port in
/// use is an error that names the address, exit 1), then serve until SIGTERM or SIGINT (exit 0).
pub fn exporter(conn: &ConnOptions, req: &ExporterRequest) -> Result<Exit> {
    // The signals are caught from here on, before the targets are resolved and the addresses bound: a
    // SIGHUP sent while the exporter starts (a reload right after a start) is a reload once it serves,
    // never the end of the process.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("could not start the exporter's runtime")?;
    let signals = {
        let _in_runtime = rt.enter();
        Signals {
            term: signal(SignalKind::terminate()).context("SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("SIGINT")?,
            hup: signal(SignalKind::hangup()).context("SIGHUP")?,
        }
    };
    let mut conn = conn.clone();
    // Each host's connect gives up after --target-timeout, the longest a scrape waits (the socket is
    // closed then, by the attempt's own thread, so nothing is left open unseen; a multi-host target
    // fails over to its next host). A scrape's shorter deadline ends the wait sooner, and the attempt's
    // thread, with its socket, counts as the target's open attempt until it ends.
    conn.connect_timeout = Some(req.target_timeout);
    conn.password_prompt = false;
    conn.break_glass = db::BreakGlass::Never;
    let targets = configured_targets(&conn)?;
    for (t, _) in &targets {
        if let Ok(spec) = &t.spec {
            for w in spec.warnings() {
                term::warning(&format!("{}: {w}", t.label));
            }
        }
    }
    let web =
        Web::load(req.web_config.as_deref()).map_err(|e| crate::exit::refuse(format!("{e:#}")))?;
    let keys: Vec<TargetKeys> = targets.iter().map(|(_, k)| k.clone()).collect();
    let index = render::exporter::index(
        &keys
            .iter()
            .map(|k| (k.label.clone(), probe_name(k)))
            .collect::<Vec<_>>(),
    );
    let collector = Collector::new(targets, req.jobs, req, conn.show_sql);
    let mut listeners = Vec::new();
    for addr in &req.listen {
        let l = std::net::TcpListener::bind(addr)
            .with_context(|| format!("could not listen on {addr}"))?;
        l.set_nonblocking(true)
            .with_context(|| format!("could not listen on {addr}"))?;
        listeners.push((*addr, l));
    }
    if web.cfg.tls.is_none() && web.cfg.users.is_empty() {
        for (addr, _) in &listeners {
            if !addr.ip().is_loopback() {
                term::warning(&format!(
                    "listening on {addr} without --web.config.file: anyone who reaches it reads the metrics, which carry role, database and application names (TLS and basic auth: --web.config.file)"
                ));
            }
        }
    }
    let state = Arc::new(State {
        req: req.clone(),
        collector,
        keys,
        web: RwLock::new(Arc::new(web)),
        auth: BasicAuth::default(),
        auth_module_said: AtomicBool::new(false),
        index,
    });
    let result = rt.block_on(serve(state, listeners, signals));
    // Collections still running (a target that does not answer) are left to end with the process.
    rt.shutdown_background();
    result
}

/// The name a probe may use for a target: its name, its service, or its host:port.
fn probe_name(k: &TargetKeys) -> Option<String> {
    k.name
        .clone()
        .or_else(|| k.service.clone())
        .or_else(|| k.host_port.clone())
}

/// The signals the exporter answers, caught from its start.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

async fn serve(
    state: Arc<State>,
    listeners: Vec<(SocketAddr, std::net::TcpListener)>,
    signals: Signals,
) -> Result<Exit> {
    let Signals {
        term: mut term_sig,
        int: mut int_sig,
        hup: mut hup_sig,
    } = signals;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(TcpStream, SocketAddr)>(64);
    let mut accepting = Vec::new();
    let scheme = if state.web().acceptor.is_some() {
        "https"
    } else {
        "http"
    };
    for (addr, l) in listeners {
        let l = TcpListener::from_std(l).with_context(|| format!("could not listen on {addr}"))?;
        let local = l.local_addr().unwrap_or(addr);
        state.log(
            LogLevel::Info,
            &format!(
                "listening on {scheme}://{local}/metrics ({} target{})",
                state.keys.len(),
                if state.keys.len() == 1 { "" } else { "s" }
            ),
        );
        let tx = tx.clone();
        let st = Arc::clone(&state);
        accepting.push(tokio::spawn(async move {
            loop {
                match l.accept().await {
                    Ok(conn) => {
                        if tx.send(conn).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        st.log(LogLevel::Warn, &format!("accepting on {local}: {e}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }));
    }
    drop(tx);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = loop {
        tokio::select! {
            conn = rx.recv() => match conn {
                Some((stream, peer)) => {
                    let watcher = graceful.watcher();
                    let st = Arc::clone(&state);
                    tokio::spawn(async move { connection(st, stream, peer, watcher).await });
                }
                None => break "no listener",
            },
            _ = term_sig.recv() => break "SIGTERM",
            _ = int_sig.recv() => break "SIGINT",
            _ = hup_sig.recv() => reload(&state),
        }
    };
    for a in &accepting {
        a.abort();
    }
    drop(rx);
    state.log(
        LogLevel::Info,
        &format!(
            "{stop}: no longer accepting; finishing the requests in flight (at most {}s)",
            DRAIN.as_secs()
        ),
    );
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        state.log(
            LogLevel::Warn,
            &format!(
                "requests still in flight after {}s were cut off",
                DRAIN.as_secs()
            ),
        );
    }
    Ok(Exit::Success)
}

/// What a new web configuration would turn off that the one in force has: TLS, client certificates,
/// basic authentication. A SIGHUP never does that (a file caught half-written by a tool that truncates
/// and rewrites it would open the exporter); a restart can.
fn weakened(old: &WebConfig, new: &WebConfig) -> Option<&'static str> {
    if old.tls.is_some() && new.tls.is_none() {
        Some("TLS")
    } else if old.tls.as_ref().is_some_and(|t| t.require_client_cert)
        && !new.tls.as_ref().is_some_and(|t| t.require_client_cert)
    {
        Some("client certificates")
    } else if !old.users.is_empty() && new.users.is_empty() {
        Some("basic authentication")
    } else {
        None
    }
}

/// SIGHUP: read the web configuration again; a file that does not read, or that would turn off a
/// protection in force ([`weakened`]), keeps the one in force.
fn reload(state: &State) {
    let Some(path) = &state.req.web_config else {
        state.log(LogLevel::Info, "SIGHUP: no --web.config.file to read again");
        return;
    };
    match Web::load(Some(path)).and_then(|web| {
        let old = state.web();
        match weakened(&old.cfg, &web.cfg) {
            Some(what) => Err(anyhow::anyhow!(
                "{} would turn off {what}, which is in force: restart the exporter to do that",
                path.display()
            )),
            None => Ok(web),
        }
    }) {
        Ok(web) => {
            *state.web.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(web);
            state.log(
                LogLevel::Info,
                &format!("SIGHUP: read {} again", path.display()),
            );
        }
        Err(e) => state.log(
            LogLevel::Error,
            &format!("SIGHUP: {e:#}; the web configuration in force is kept"),
        ),
    }
}

/// One connection: TLS when configured, then hyper, watched for a graceful shutdown.
async fn connection(
    state: Arc<State>,
    stream: TcpStream,
    peer: SocketAddr,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let _ = stream.set_nodelay(true);
    let web = state.web();
    let st = Arc::clone(&state);
    let service = hyper::service::service_fn(move |req| {
        let st = Arc::clone(&st);
        async move { Ok::<_, Infallible>(handle(st, req).await) }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .half_close(false);
    let result = match &web.acceptor {
        None => {
            let io = TokioIo::new(head::HeadLimit::new(stream));
            watcher.watch(http.serve_connection(io, service)).await
        }
        Some(acceptor) => {
            let tls = match Ssl::new(acceptor.context())
                .map_err(anyhow::Error::from)
                .and_then(|ssl| Ok(tokio_openssl::SslStream::new(ssl, stream)?))
            {
                Ok(s) => s,
                Err(e) => {
                    state.log(LogLevel::Warn, &format!("TLS with {peer}: {e:#}"));
                    return;
                }
            };
            let mut tls = Box::pin(tls);
            match tokio::time::timeout(HEAD_TIMEOUT, tls.as_mut().accept()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    state.log(
                        LogLevel::Debug,
                        &format!("TLS handshake with {peer} failed: {e}"),
                    );
                    return;
                }
                Err(_) => {
                    state.log(
                        LogLevel::Debug,
                        &format!("TLS handshake with {peer} timed out"),
                    );
                    return;
                }
            }
            let io = TokioIo::new(head::HeadLimit::new(tls));
            watcher.watch(http.serve_connection(io, service)).await
        }
    };
    if let Err(e) = result {
        state.log(LogLevel::Debug, &format!("connection from {peer}: {e}"));
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn text(status: StatusCode, body: impl Into<String>) -> Reply {
    reply(status, "text/plain; charset=utf-8", body.into())
}

/// 400, and the connection closed after it.
fn bad_request(why: &str) -> Reply {
    let mut r = text(StatusCode::BAD_REQUEST, format!("{why}\n"));
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Reply {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut r = route(&state, req).await;
    if method == Method::HEAD {
        *r.body_mut() = Full::new(Bytes::new());
    }
    for (name, value) in &state.web().cfg.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            r.headers_mut().insert(n, v);
        }
    }
    state.log(
        LogLevel::Debug,
        &format!("{method} {path} {}", r.status().as_u16()),
    );
    r
}

async fn route(state: &Arc<State>, req: Request<Incoming>) -> Reply {
    let h = req.headers();
    let has_body = h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()) != Some(0));
    if has_body {
        return bad_request("a request to the exporter has no body");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let web = state.web();
    if !web.cfg.users.is_empty() && !authorized(state, &web, &req).await {
        let mut r = text(StatusCode::UNAUTHORIZED, "Unauthorized\n");
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"pgconn exporter\", charset=\"UTF-8\""),
        );
        return r;
    }
    let head_only = req.method() == Method::HEAD;
    match req.uri().path() {
        "/" => reply(
            StatusCode::OK,
            "text/html; charset=utf-8",
            state.index.clone(),
        ),
        "/-/healthy" => text(StatusCode::OK, "OK\n"),
        "/metrics" => {
            if head_only {
                return reply(StatusCode::OK, render::exporter::CONTENT_TYPE, "");
            }
            let deadline = deadline(state, &req);
            let collector = state.collector.clone();
            match tokio::task::spawn_blocking(move || collector.collect_all(deadline)).await {
                Ok(all) => {
                    say_failures(state, &all);
                    let scraped: Vec<_> = all.iter().map(|c| scraped(c)).collect();
                    exposition(render::exporter::exposition(&scraped, true))
                }
                Err(e) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("internal error: {e}\n"),
                ),
            }
        }
        "/probe" => probe(state, &req, head_only).await,
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: /metrics, /probe?target=NAME, /-/healthy\n",
        ),
    }
}

fn exposition(body: String) -> Reply {
    reply(StatusCode::OK, render::exporter::CONTENT_TYPE, body)
}

fn scraped(c: &Collected) -> render::exporter::Scraped<'_> {
    (c.result.target.as_str(), c.result.collected(), c.seconds)
}

fn say_failures(state: &State, all: &[Arc<Collected>]) {
    for c in all {
        if let Some(kind) = c.result.error_kind {
            state.log(
                LogLevel::Warn,
                &format!(
                    "scrape of {} failed ({}): {}",
                    c.result.target,
                    kind.key(),
                    c.error_line.as_deref().unwrap_or("failed")
                ),
            );
        }
    }
}

/// The scrape's deadline: Prometheus' timeout header less --timeout-offset, or --target-timeout.
fn deadline(state: &State, req: &Request<Incoming>) -> Instant {
    let header = req
        .headers()
        .get("x-prometheus-scrape-timeout-seconds")
        .and_then(|v| v.to_str().ok());
    state.req.deadline(Instant::now(), header)
}

async fn probe(state: &Arc<State>, req: &Request<Incoming>, head_only: bool) -> Reply {
    let params = match query_params(req.uri().query().unwrap_or("")) {
        Ok(p) => p,
        Err(why) => return bad_request(&why),
    };
    let mut wanted = None;
    for (k, v) in &params {
        match k.as_str() {
            "target" if wanted.is_some() => return bad_request("target= is given twice"),
            "target" => wanted = Some(v.as_str()),
            "auth_module" if !state.auth_module_said.swap(true, Ordering::SeqCst) => {
                state.log(
                    LogLevel::Info,
                    "auth_module= is ignored: credentials come from the password and service files, never the URL",
                );
            }
            _ => {}
        }
    }
    let Some(wanted) = wanted else {
        return bad_request(
            "/probe needs target=NAME (a configured target's name, service or host:port)",
        );
    };
    let idx = match match_probe(&state.keys, wanted) {
        ProbeMatch::Target(i) => i,
        ProbeMatch::Ambiguous(labels) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!(
                    "target {wanted:?} matches several configured targets ({}): probe one of them by its name\n",
                    labels.join(", ")
                ),
            )
        }
        ProbeMatch::Unknown => {
            state.log(
                LogLevel::Debug,
                &format!("/probe of {wanted:?}: not a configured target"),
            );
            return text(
                StatusCode::NOT_FOUND,
                "not a configured target: /probe?target= takes a target's name, service or host:port from the exporter's configuration\n",
            );
        }
    };
    if head_only {
        return reply(StatusCode::OK, render::exporter::CONTENT_TYPE, "");
    }
    let deadline = deadline(state, req);
    let collector = state.collector.clone();
    match tokio::task::spawn_blocking(move || collector.collect(idx, deadline)).await {
        Ok(c) => {
            say_failures(state, std::slice::from_ref(&c));
            exposition(render::exporter::exposition(&[scraped(&c)], false))
        }
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {e}\n"),
        ),
    }
}

/// The query's parameters, percent-decoded (`+` is a space).
fn query_params(query: &str) -> Result<Vec<(String, String)>, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| "a malformed %-escape in the query".to_string())?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "the query is not UTF-8".to_string())
}

/// Basic auth, when `basic_auth_users` is configured (bcrypt on a blocking thread: its cost is paid on
/// a user's first request with a password, then remembered).
async fn authorized(state: &Arc<State>, web: &Arc<Web>, req: &Request<Incoming>) -> bool {
    let Some((user, password)) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(web_config::basic_credentials)
    else {
        return false;
    };
    let (st, web) = (Arc::clone(state), Arc::clone(web));
    tokio::task::spawn_blocking(move || st.auth.check(&web.cfg, &user, &password))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded() {
        assert_eq!(
            query_params("target=db1%3A5432&auth_module=x+y&&z").unwrap(),
            vec![
                ("target".into(), "db1:5432".into()),
                ("auth_module".into(), "x y".into()),
                ("z".into(), "".into())
            ]
        );
        assert!(query_params("target=%zz").is_err());
        assert!(query_params("target=%").is_err());
        assert!(query_params("target=%ff").is_err());
        assert!(query_params("target=%+1").is_err());
    }

    fn web(text: &str) -> WebConfig {
        web_config::parse(text, std::path::Path::new("/nonexistent")).unwrap()
    }

    /// A SIGHUP never turns off what protects the exporter now; it may turn things on.
    #[test]
    fn a_reload_may_not_weaken_the_web_configuration() {
        let hash = "$2y$10$7EqJtq98hPqEX7fNZaFWoO1mVO/4MLpGzsqojz6E9Gef6iXDjXyHa";
        let auth = web(&format!("basic_auth_users:\n  alice: {hash}\n"));
        let headers = web("http_server_config:\n  headers:\n    X-Frame-Options: deny\n");
        assert_eq!(weakened(&auth, &headers), Some("basic authentication"));
        assert_eq!(weakened(&headers, &auth), None);
        assert_eq!(weakened(&auth, &auth), None);
        let tls = WebConfig {
            tls: Some(web_config::TlsConfig {
                cert_file: "c".into(),
                key_file: "k".into(),
                client_ca_file: Some("ca".into()),
                require_client_cert: true,
                min_version: web_config::Tls::V12,
                max_version: web_config::Tls::V13,
            }),
            ..WebConfig::default()
        };
        assert_eq!(weakened(&tls, &auth), Some("TLS"));
        let mut no_client_cert = tls.clone();
        if let Some(t) = no_client_cert.tls.as_mut() {
            t.require_client_cert = false;
            t.client_ca_file = None;
        }
        assert_eq!(weakened(&tls, &no_client_cert), Some("client certificates"));
        assert_eq!(weakened(&no_client_cert, &tls), None);
    }
}
