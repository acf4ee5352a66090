//! `pgconn exporter` against real servers: /metrics and /probe compared with the server's own counts,
//! /probe of anything not configured (404, no connection), one backend for concurrent scrapes of one
//! target and none more while a stuck attempt is open (through a small TCP proxy that delays or holds
//! the server's answers), a full server, HTTP hygiene, random bytes, SIGTERM during a scrape, TLS with a
//! client certificate, basic auth and the web configuration's refusals.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::exporter::{parse_response, path, raw, value, Exporter, Response};
use support::{cluster, pgconn, unique, wait_until, Workload};

/// A TCP proxy to the test cluster: it counts the connections it accepted and holds the server's answers
/// back by `delay_ms` per chunk (u64::MAX: forever).
struct Proxy {
    port: u16,
    accepted: Arc<AtomicUsize>,
    delay_ms: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start(delay_ms: u64) -> Proxy {
        Proxy::to(cluster().tcp_port().unwrap(), delay_ms)
    }

    fn to(upstream: u16, delay_ms: u64) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let delay = Arc::new(AtomicU64::new(delay_ms));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, d, st) = (Arc::clone(&accepted), Arc::clone(&delay), Arc::clone(&stop));
        std::thread::spawn(move || {
            for client in l.incoming() {
                let Ok(client) = client else { continue };
                a.fetch_add(1, Ordering::SeqCst);
                let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                // Client to server: as it comes.
                std::thread::spawn(move || pump(c2, s2, None, None));
                // Server to client: each chunk held back.
                let (d, st) = (Arc::clone(&d), Arc::clone(&st));
                std::thread::spawn(move || pump(server, client, Some(d), Some(st)));
            }
        });
        Proxy {
            port,
            accepted,
            delay_ms: delay,
            stop,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    delay: Option<Arc<AtomicU64>>,
    stop: Option<Arc<AtomicBool>>,
) {
    let mut buf = [0u8; 16384];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(d) = &delay {
            let since = Instant::now();
            loop {
                let ms = d.load(Ordering::SeqCst);
                if since.elapsed() >= Duration::from_millis(ms) {
                    break;
                }
                if stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
                    let _ = to.shutdown(Shutdown::Both);
                    let _ = from.shutdown(Shutdown::Both);
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// Backends of an application, counted from pg_stat_get_activity(NULL) (not pg_stat_activity, whose
/// join with pg_database a lock could block), whatever their state (starting ones included).
fn backends(app: &str) -> i64 {
    let mut c = support::superuser_client(cluster());
    c.query_one(
        "SELECT count(*) FROM pg_stat_get_activity(NULL) a WHERE a.application_name = $1",
        &[&app],
    )
    .unwrap()
    .get(0)
}

/// A target line through TCP to the test cluster (or the proxy's port), with its own application_name.
fn tcp_target(port: u16, app: &str) -> String {
    // Without TLS: the proxy holds the server's answer to an SSLRequest too, and a backend shows its
    // application_name only once it has read the startup packet.
    format!("host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=disable application_name={app}")
}

#[test]
fn metrics_and_probe_count_what_the_server_counts() {
    let c = cluster();
    let app = unique("leaky");
    let mut w = Workload::new();
    w.idle(c, 7, "postgres", "postgres", &app).unwrap();
    let own = unique("exporter");
    let port = c.tcp_port().unwrap();
    let e = Exporter::start(
        &[
            format!("main: {}", tcp_target(port, &own)),
            format!(
                "{} application_name={own}",
                c.conninfo("postgres", "postgres")
            ),
        ],
        &[],
    );
    let socket_label = format!("{}:{}/postgres", c.socket_dir().display(), c.port());
    let truth = support::ground_truth_count(
        c,
        &format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' AND state = 'idle'"),
    );
    assert_eq!(truth, 7);
    let m = e.get("/metrics").samples();
    for target in ["main", socket_label.as_str()] {
        assert_eq!(
            value(&m, "pgconn_up", &[("target", target)]),
            Some(1.0),
            "{target}"
        );
        assert_eq!(
            value(&m, "pg_up", &[("target", target)]),
            Some(1.0),
            "{target}"
        );
        assert!(value(&m, "pgconn_scrape_duration_seconds", &[("target", target)]).unwrap() > 0.0);
        assert_eq!(
            value(
                &m,
                "pgconn_group_sessions",
                &[("target", target), ("application", app.as_str())]
            ),
            Some(truth as f64),
            "{target}"
        );
    }
    // /probe: by name and by host:port, without a target label.
    for probe in ["main".to_string(), format!("127.0.0.1:{port}")] {
        let p = e.get(&format!("/probe?target={probe}")).samples();
        assert!(p.iter().all(|s| s.labels.get("target").is_none()), "{p:?}");
        assert_eq!(value(&p, "pgconn_up", &[]), Some(1.0));
        assert_eq!(value(&p, "pg_up", &[]), Some(1.0));
        assert_eq!(
            value(
                &p,
                "pgconn_group_sessions",
                &[("application", app.as_str())]
            ),
            Some(truth as f64)
        );
        assert!(value(&p, "pgconn_used_slots", &[]).unwrap() >= truth as f64);
    }
    // auth_module= is accepted and ignored, said once.
    for _ in 0..2 {
        let r = e.get("/probe?target=main&auth_module=pg1");
        assert_eq!(value(&r.samples(), "pg_up", &[]), Some(1.0));
    }
    // The log is read from the exporter's stderr by a thread of its own: it may lag the answer.
    assert!(wait_until(Duration::from_secs(20), || e
        .log()
        .contains("auth_module= is ignored")));
    assert_eq!(
        e.log().matches("auth_module= is ignored").count(),
        1,
        "{}",
        e.log()
    );
    // The exporter's backends are gone after the scrapes: one short connection per scrape.
    assert!(wait_until(Duration::from_secs(20), || backends(&own) == 0));
    let index = e.get("/");
    assert_eq!(index.status, 200);
    assert!(index.body.contains("/probe?target=main"), "{}", index.body);
    assert_eq!(e.get("/-/healthy").status, 200);
}

#[test]
fn a_probe_of_anything_not_configured_is_404_and_connects_nowhere() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let lport = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let c = cluster();
    let own = unique("exporter");
    let e = Exporter::start(
        &[format!("main: {}", tcp_target(c.tcp_port().unwrap(), &own))],
        &[],
    );
    for wanted in [
        "not-configured".to_string(),
        "evil.example:5432".to_string(),
        "nothing.invalid:5432".to_string(),
        format!("127.0.0.1:{lport}"),
        format!("host%3D127.0.0.1%20port%3D{lport}%20dbname%3Dpostgres"),
        format!("postgresql%3A%2F%2F127.0.0.1%3A{lport}%2Fpostgres"),
    ] {
        let r = e.get(&format!("/probe?target={wanted}"));
        assert_eq!(r.status, 404, "{wanted}: {r:?}");
    }
    assert_eq!(e.get("/probe").status, 400);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        matches!(listener.accept(), Err(ref err) if err.kind() == std::io::ErrorKind::WouldBlock),
        "the exporter connected to an address it was only asked about"
    );
    assert_eq!(backends(&own), 0);
}

#[test]
fn two_targets_on_one_host_port_make_that_probe_ambiguous() {
    let c = cluster();
    let port = c.tcp_port().unwrap();
    let e = Exporter::start(
        &[
            format!("a: {}", tcp_target(port, "x")),
            format!("b: {}", tcp_target(port, "y")),
        ],
        &[],
    );
    let r = e.get(&format!("/probe?target=127.0.0.1:{port}"));
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("a, b"), "{}", r.body);
}

/// PGSERVICE is the environment's, shared by every target: it names none of them. A target given by its
/// own `service=NAME` (or `--service`) is found by that name, with PGSERVICE naming the same service.
#[test]
fn pgservice_names_no_target_and_a_targets_own_service_does() {
    let c = cluster();
    let port = c.tcp_port().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let services = dir.path().join("pg_service.conf");
    std::fs::write(
        &services,
        format!(
            "[svc]\nhost=127.0.0.1\nport={port}\nuser=postgres\ndbname=postgres\nsslmode=disable\n\
             [other]\nhost=127.0.0.1\nport={port}\nuser=postgres\ndbname=postgres\nsslmode=disable\n"
        ),
    )
    .unwrap();
    let services = path(&services);
    let cmd = || {
        pgconn()
            .env("PGSERVICEFILE", &services)
            .env("PGSERVICE", "other")
    };
    // Without a service of their own, both targets come from PGSERVICE's: neither is named by it.
    let e = Exporter::start_with(
        cmd(),
        &[
            format!("a: {}", tcp_target(port, "pa")),
            "b: dbname=postgres application_name=pb".to_string(),
            "c: service=svc application_name=pc".to_string(),
        ],
        &[],
    );
    let r = e.get("/probe?target=other");
    assert_eq!(r.status, 404, "{r:?}");
    let r = e.get("/probe?target=svc");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(value(&r.samples(), "pg_up", &[]), Some(1.0), "{}", r.body);
    drop(e);
    // --service names its target, PGSERVICE naming the same.
    let e = Exporter::start_with(
        cmd().env("PGSERVICE", "svc"),
        &["a: dbname=postgres application_name=pa".to_string()],
        &["--service", "svc"],
    );
    let r = e.get("/probe?target=svc");
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
fn concurrent_probes_of_one_target_share_one_backend() {
    let proxy = Proxy::start(2_000);
    let own = unique("exporter");
    let e = Arc::new(Exporter::start(
        &[format!("slow: {}", tcp_target(proxy.port, &own))],
        &[],
    ));
    let scrapes: Vec<_> = (0..3)
        .map(|_| {
            let e = Arc::clone(&e);
            std::thread::spawn(move || {
                e.request(
                    "GET",
                    "/probe?target=slow",
                    &[("X-Prometheus-Scrape-Timeout-Seconds", "60")],
                )
            })
        })
        .collect();
    let mut most = 0;
    while !scrapes.iter().all(|s| s.is_finished()) {
        most = most.max(backends(&own));
        std::thread::sleep(Duration::from_millis(100));
    }
    for s in scrapes {
        let r = s.join().unwrap().samples();
        assert_eq!(value(&r, "pg_up", &[]), Some(1.0), "{}", e.log());
    }
    assert_eq!(
        proxy.accepted(),
        1,
        "one connection for three concurrent scrapes"
    );
    assert!(most <= 1, "{most} backends at once");
    drop(proxy);
}

#[test]
fn a_stuck_target_times_out_and_no_scrape_opens_another_backend() {
    let proxy = Proxy::start(u64::MAX);
    let own = unique("exporter");
    let e = Exporter::start(&[format!("stuck: {}", tcp_target(proxy.port, &own))], &[]);
    let header = [("X-Prometheus-Scrape-Timeout-Seconds", "2")];
    let start = Instant::now();
    let r = e.request("GET", "/probe?target=stuck", &header);
    let took = start.elapsed();
    let s = r.samples();
    assert_eq!(value(&s, "pg_up", &[]), Some(0.0));
    assert_eq!(value(&s, "pgconn_up", &[]), Some(0.0));
    assert_eq!(
        value(&s, "pgconn_scrape_error", &[("kind", "timeout")]),
        Some(1.0)
    );
    // The deadline is 1.5 s (2 s less the 0.5 s offset); the machine may be loaded.
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(wait_until(Duration::from_secs(10), || backends(&own) == 1));
    for _ in 0..5 {
        let s = e.request("GET", "/probe?target=stuck", &header).samples();
        assert_eq!(
            value(&s, "pgconn_scrape_error", &[("kind", "timeout")]),
            Some(1.0)
        );
        let m = e.request("GET", "/metrics", &header).samples();
        assert_eq!(
            value(
                &m,
                "pgconn_scrape_error",
                &[("target", "stuck"), ("kind", "timeout")]
            ),
            Some(1.0)
        );
    }
    assert_eq!(proxy.accepted(), 1, "a scrape opened another connection");
    assert_eq!(backends(&own), 1);
    assert!(
        wait_until(Duration::from_secs(20), || e
            .log()
            .contains("scrape of stuck failed (timeout)")),
        "{}",
        e.log()
    );
    drop(proxy);
    assert!(wait_until(Duration::from_secs(20), || backends(&own) == 0));
}

#[test]
fn a_full_server_is_pg_up_0_with_kind_full() {
    let full = support::full::full_cluster(&[]);
    let e = Exporter::start(
        &[format!("full: {}", full.c.conninfo("postgres", "postgres"))],
        &[],
    );
    let start = Instant::now();
    let r = e.request(
        "GET",
        "/probe?target=full",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "10")],
    );
    let s = r.samples();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(value(&s, "pg_up", &[]), Some(0.0));
    assert_eq!(value(&s, "pgconn_up", &[]), Some(0.0));
    assert_eq!(
        value(&s, "pgconn_scrape_error", &[("kind", "full")]),
        Some(1.0)
    );
    // The log is read from the exporter's stderr by a thread of its own: it may lag the answer.
    assert!(
        wait_until(Duration::from_secs(20), || e
            .log()
            .contains("scrape of full failed (full)")),
        "{}",
        e.log()
    );
}

#[test]
fn http_hygiene() {
    let c = cluster();
    let e = Exporter::start(
        &[format!(
            "host=127.0.0.1 port={} dbname='<b>x' user=postgres",
            c.tcp_port().unwrap()
        )],
        &[],
    );
    assert_eq!(e.get("/nope").status, 404);
    assert_eq!(e.get("/metrics/").status, 404);
    let post = e.request("POST", "/metrics", &[]);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    assert_eq!(e.request("DELETE", "/nope", &[]).status, 405);
    let head = e.request("HEAD", "/-/healthy", &[]);
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "");
    assert_eq!(e.request("HEAD", "/probe?target=nope", &[]).status, 404);
    // A body, chunked or not: 400 and the connection closed.
    for body in [
        "GET /-/healthy HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        "GET /-/healthy HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ] {
        let r = raw(e.port, body.as_bytes());
        assert_eq!(r.status, 400, "{body:?}: {r:?}");
        assert_eq!(r.header("connection"), Some("close"));
    }
    // Malformed request lines.
    for bad in [
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "G\0T / HTTP/1.1\r\n\r\n",
    ] {
        assert_eq!(raw(e.port, bad.as_bytes()).status, 400, "{bad:?}");
    }
    // Heads: 8 KiB and 64 header lines pass, one byte or one line more is 400.
    let head_of =
        |headers: &str| format!("GET /-/healthy HTTP/1.1\r\n{headers}Connection: close\r\n\r\n");
    let lines = |n: usize| (0..n).map(|i| format!("X-{i}: v\r\n")).collect::<String>();
    assert_eq!(raw(e.port, head_of(&lines(63)).as_bytes()).status, 200);
    assert_eq!(raw(e.port, head_of(&lines(64)).as_bytes()).status, 400);
    let fill = |n: usize| format!("X-Fill: {}\r\n", "a".repeat(n));
    let base = head_of(&fill(0)).len();
    assert_eq!(
        raw(e.port, head_of(&fill(8192 - base)).as_bytes()).status,
        200
    );
    assert_eq!(
        raw(e.port, head_of(&fill(8193 - base)).as_bytes()).status,
        400
    );
    assert_eq!(raw(e.port, head_of(&fill(100_000)).as_bytes()).status, 400);
    // The index page escapes the names it shows.
    let index = e.get("/");
    assert!(index.body.contains("&lt;b&gt;x"), "{}", index.body);
    assert!(!index.body.contains("<b>x"), "{}", index.body);
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
}

#[test]
fn random_bytes_never_bring_it_down() {
    let e = Exporter::start(
        &[format!(
            "main: {}",
            tcp_target(cluster().tcp_port().unwrap(), "fuzz")
        )],
        &[],
    );
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..300 {
        let len = (next() % 3000) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Some start like a request, to reach past the request line.
        if i % 3 == 0 {
            let mut start = b"GET /metrics HTTP/1.1\r\n".to_vec();
            start.append(&mut bytes);
            bytes = start;
        }
        let mut s = TcpStream::connect(("127.0.0.1", e.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(Shutdown::Write);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
    }
    assert_eq!(e.get("/-/healthy").status, 200, "{}", e.log());
    assert!(!e.log().contains("panicked"), "{}", e.log());
}

#[test]
fn sigterm_during_a_scrape_finishes_it_and_exits_0() {
    // Three answers held 0.8 s each (startup, pgconn's SET, the statement): well within the 5 s drain.
    let proxy = Proxy::start(800);
    let own = unique("exporter");
    let mut e = Exporter::start(&[format!("slow: {}", tcp_target(proxy.port, &own))], &[]);
    let port = e.port;
    let scrape = std::thread::spawn(move || {
        raw(
            port,
            b"GET /probe?target=slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Prometheus-Scrape-Timeout-Seconds: 30\r\n\r\n",
        )
    });
    assert!(wait_until(Duration::from_secs(20), || proxy.accepted() == 1));
    e.signal(nix::sys::signal::Signal::SIGTERM);
    let r = scrape.join().unwrap();
    let s = r.samples();
    assert_eq!(value(&s, "pg_up", &[]), Some(1.0), "{}", e.log());
    assert_eq!(e.wait(Duration::from_secs(30)), Some(0), "{}", e.log());
    // No longer accepting.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn break_glass_auto_or_always_and_a_password_prompt_are_refused() {
    for when in ["auto", "always"] {
        let out = pgconn()
            .args(["--break-glass", when, "exporter", "--listen", "127.0.0.1:0"])
            .assert_code(2);
        assert!(out.stderr.contains("--break-glass"), "{}", out.stderr);
    }
    // Nor does it ask for a password.
    let out = pgconn()
        .args(["-W", "exporter", "--listen", "127.0.0.1:0"])
        .assert_code(2);
    assert!(
        out.stderr.contains("never asks for a password"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_port_in_use_is_an_error_naming_the_address() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let out = pgconn()
        .args(["exporter", "--listen", &addr])
        .assert_code(1);
    assert!(
        out.stderr.contains(&format!("could not listen on {addr}")),
        "{}",
        out.stderr
    );
}

#[test]
fn names_given_twice_refuse_the_start_with_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets");
    std::fs::write(&file, "a: host=x\n\nb: host=y\na: host=z\n").unwrap();
    let out = pgconn()
        .args([
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--targets",
            &path(&file),
        ])
        .assert_code(2);
    assert!(out.stderr.contains("lines 1 and 4"), "{}", out.stderr);
}

#[test]
fn a_non_loopback_address_without_web_config_is_warned_about() {
    let e = Exporter::start(
        &["main: host=127.0.0.1 port=1".to_string()],
        &["--listen", "0.0.0.0:0"],
    );
    assert!(wait_until(Duration::from_secs(10), || e
        .log()
        .contains("role, database and application names")));
}

fn web_config(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("web.yml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn unknown_or_unimplemented_web_config_keys_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("tls_server_confg: {}\n", "tls_server_confg"),
        ("rate_limit:\n  interval: 1s\n", "rate_limit"),
        ("http_server_config:\n  http2: true\n", "http2"),
    ] {
        let cfg = web_config(dir.path(), text);
        let out = pgconn()
            .args([
                "exporter",
                "--listen",
                "127.0.0.1:0",
                "--web.config.file",
                &path(&cfg),
            ])
            .assert_code(2);
        assert!(out.stderr.contains(key), "{}", out.stderr);
    }
}

#[test]
fn basic_auth_right_wrong_and_missing() {
    let dir = tempfile::tempdir().unwrap();
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let cfg = web_config(
        dir.path(),
        &format!("basic_auth_users:\n  alice: '{hash}'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n"),
    );
    let e = Exporter::start(
        &["main: host=127.0.0.1 port=1".to_string()],
        &["--web.config.file", &path(&cfg)],
    );
    let basic = |up: &str| format!("Basic {}", openssl::base64::encode_block(up.as_bytes()));
    let missing = e.get("/-/healthy");
    assert_eq!(missing.status, 401);
    assert!(missing
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic"));
    for wrong in ["alice:wrong", "bob:s3cret", "alice:"] {
        let r = e.request("GET", "/-/healthy", &[("Authorization", &basic(wrong))]);
        assert_eq!(r.status, 401, "{wrong}");
    }
    for _ in 0..2 {
        let r = e.request(
            "GET",
            "/-/healthy",
            &[("Authorization", &basic("alice:s3cret"))],
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-frame-options"), Some("deny"));
    }
    assert!(!e.log().contains("s3cret"));
    // A file caught empty (a tool that truncates, then writes) or without the users: a SIGHUP keeps
    // the authentication in force.
    for weaker in [
        "",
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n",
    ] {
        web_config(dir.path(), weaker);
        let said = e
            .log()
            .matches("the web configuration in force is kept")
            .count();
        e.signal(nix::sys::signal::Signal::SIGHUP);
        assert!(
            wait_until(Duration::from_secs(20), || e
                .log()
                .matches("the web configuration in force is kept")
                .count()
                > said),
            "{}",
            e.log()
        );
        assert_eq!(e.get("/-/healthy").status, 401, "{weaker:?}");
    }
}

#[test]
fn tls_with_a_required_client_certificate() {
    use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
    let dir = tempfile::tempdir().unwrap();
    let files = support::tls::generate(&dir.path().join("tls"));
    let cfg = web_config(
        dir.path(),
        &format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_ca_file: {}\n  client_auth_type: RequireAndVerifyClientCert\n",
            path(&files.server_cert),
            path(&files.server_key),
            path(&files.ca_cert)
        ),
    );
    let e = Exporter::start(
        &["main: host=127.0.0.1 port=1".to_string()],
        &["--web.config.file", &path(&cfg)],
    );
    assert!(e.log().contains("listening on https://"), "{}", e.log());
    let fetch = |with_cert: bool| -> Result<Response, String> {
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        b.set_ca_file(&files.ca_cert).unwrap();
        b.set_verify(SslVerifyMode::PEER);
        if with_cert {
            b.set_certificate_file(&files.client_cert, SslFiletype::PEM)
                .unwrap();
            b.set_private_key_file(&files.client_key, SslFiletype::PEM)
                .unwrap();
        }
        let tcp = TcpStream::connect(("127.0.0.1", e.port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut s = b
            .build()
            .connect("localhost", tcp)
            .map_err(|err| err.to_string())?;
        s.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .map_err(|err| err.to_string())?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).map_err(|err| err.to_string())?;
        Ok(parse_response(&out))
    };
    let ok = fetch(true).unwrap();
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.body, "OK\n");
    // Without a client certificate: no answer (TLS 1.3 may report the refusal only at the first read).
    match fetch(false) {
        Err(_) => {}
        Ok(r) => assert_eq!(r.status, 0, "{r:?}"),
    }
    // Plain HTTP on the TLS port gets no HTTP answer.
    assert_eq!(
        raw(
            e.port,
            b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .status,
        0
    );
}

#[test]
fn sighup_reads_the_web_config_again_and_a_bad_one_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = web_config(
        dir.path(),
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n",
    );
    let e = Exporter::start(
        &["main: host=127.0.0.1 port=1".to_string()],
        &["--web.config.file", &path(&cfg)],
    );
    assert_eq!(e.get("/-/healthy").header("x-frame-options"), Some("deny"));
    web_config(
        dir.path(),
        "http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n",
    );
    e.signal(nix::sys::signal::Signal::SIGHUP);
    assert!(wait_until(Duration::from_secs(20), || e
        .get("/-/healthy")
        .header("x-frame-options")
        == Some("sameorigin")));
    web_config(dir.path(), "bogus_key: 1\n");
    e.signal(nix::sys::signal::Signal::SIGHUP);
    assert!(wait_until(Duration::from_secs(20), || e
        .log()
        .contains("bogus_key")));
    assert!(e.log().contains("kept"), "{}", e.log());
    assert_eq!(
        e.get("/-/healthy").header("x-frame-options"),
        Some("sameorigin")
    );
}

#[test]
fn a_failed_scrape_is_one_log_line_without_secrets() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = Exporter::start(
        &[format!(
            "down: postgresql://postgres:sekrit-pw@127.0.0.1:{closed}/postgres?password=sekrit-pw"
        )],
        &[],
    );
    let m = e.get("/metrics").samples();
    assert_eq!(value(&m, "pg_up", &[("target", "down")]), Some(0.0));
    assert_eq!(
        value(
            &m,
            "pgconn_scrape_error",
            &[("target", "down"), ("kind", "unreachable")]
        ),
        Some(1.0)
    );
    assert!(wait_until(Duration::from_secs(10), || e
        .log()
        .contains("scrape of down failed (unreachable)")));
    let log = e.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("scrape of down"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(!log.contains("sekrit"), "{log}");
    assert!(!m.iter().any(|s| format!("{s:?}").contains("sekrit")));
}

#[test]
fn the_client_label_is_opt_in() {
    let c = cluster();
    let app = unique("by_client");
    let mut w = Workload::new();
    w.idle(c, 2, "postgres", "postgres", &app).unwrap();
    let target = format!(
        "main: {}",
        tcp_target(c.tcp_port().unwrap(), &unique("exporter"))
    );
    let plain = Exporter::start(std::slice::from_ref(&target), &[])
        .get("/metrics")
        .samples();
    assert!(plain
        .iter()
        .filter(|s| s.metric == "pgconn_group_sessions")
        .all(|s| s.labels.get("client").is_none()));
    let by = Exporter::start(&[target], &["--metrics-by", "client"])
        .get("/metrics")
        .samples();
    assert_eq!(
        value(
            &by,
            "pgconn_group_sessions",
            &[("application", app.as_str()), ("client", "local")]
        ),
        Some(2.0)
    );
}

#[test]
fn jobs_bounds_every_collection_of_the_process_attempts_given_up_on_included() {
    let (a, b) = (Proxy::start(u64::MAX), Proxy::start(u64::MAX));
    let e = Exporter::start(
        &[
            format!("a: {}", tcp_target(a.port, &unique("exporter"))),
            format!("b: {}", tcp_target(b.port, &unique("exporter"))),
        ],
        &["--jobs", "1"],
    );
    let header = [("X-Prometheus-Scrape-Timeout-Seconds", "1.5")];
    for _ in 0..3 {
        let m = e.request("GET", "/metrics", &header).samples();
        for t in ["a", "b"] {
            assert_eq!(
                value(
                    &m,
                    "pgconn_scrape_error",
                    &[("target", t), ("kind", "timeout")]
                ),
                Some(1.0),
                "{t}"
            );
        }
        let p = e.request("GET", "/probe?target=b", &header).samples();
        assert_eq!(value(&p, "pg_up", &[]), Some(0.0));
    }
    assert_eq!(
        a.accepted() + b.accepted(),
        1,
        "the one connection --jobs 1 allows, held by the stuck attempt"
    );
}

#[test]
fn a_lock_cannot_hold_the_scrapes_backend_past_its_deadline() {
    // A cluster of its own: pg_authid is locked here, which stops every new connection.
    let c = support::start_cluster(&support::ClusterOptions {
        tcp: true,
        ..support::ClusterOptions::default()
    });
    let own = unique("exporter");
    // The server's answers are held until the exporter's backend has started.
    let proxy = Proxy::to(c.tcp_port().unwrap(), u64::MAX);
    let e = Arc::new(Exporter::start(
        &[format!("locked: {}", tcp_target(proxy.port, &own))],
        &["--show-sql"],
    ));
    let mut watch = c.connect("postgres", "postgres", "test-watch").unwrap();
    let mut count = move || -> i64 {
        watch
            .query_one(
                "SELECT count(*) FROM pg_stat_get_activity(NULL) a WHERE a.application_name = $1",
                &[&own],
            )
            .unwrap()
            .get(0)
    };
    let scrape = {
        let e = Arc::clone(&e);
        std::thread::spawn(move || {
            e.request(
                "GET",
                "/probe?target=locked",
                &[("X-Prometheus-Scrape-Timeout-Seconds", "4")],
            )
        })
    };
    assert!(wait_until(Duration::from_secs(20), || count() == 1));
    // The status statement reads pg_roles: with pg_authid locked it waits, until pgconn's own
    // lock_timeout (from what is left of the 3.5 s deadline) ends it.
    let mut locker = c.connect("postgres", "postgres", "test-locker").unwrap();
    locker
        .batch_execute("BEGIN; LOCK TABLE pg_authid IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    proxy.delay_ms.store(0, Ordering::SeqCst);
    let s = scrape.join().unwrap().samples();
    assert_eq!(value(&s, "pg_up", &[]), Some(0.0));
    let kind = s
        .iter()
        .find(|x| x.metric == "pgconn_scrape_error")
        .and_then(|x| x.labels.get("kind").map(str::to_string));
    assert!(
        matches!(kind.as_deref(), Some("query" | "timeout")),
        "{kind:?}"
    );
    // The backend goes while the lock is still held: it never waits longer than the scrape.
    assert!(
        wait_until(Duration::from_secs(15), || count() == 0),
        "{}",
        e.log()
    );
    locker.batch_execute("ROLLBACK").unwrap();
    // The timeouts were the scrape's own, from what was left of its deadline (not pgconn's 30s and 5s).
    let log = e.log();
    for setting in ["statement_timeout", "lock_timeout"] {
        let ms: u64 = log
            .split(&format!("SET LOCAL {setting} = "))
            .nth(1)
            .and_then(|rest| rest.split(|ch: char| !ch.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no SET LOCAL {setting} in:\n{log}"));
        assert!(ms <= 3_500, "{setting} = {ms} ms");
    }
}

/// A SIGHUP while the exporter is still starting (here: reading its targets from a pipe nobody has
/// written yet) is taken once it serves, as a reload; it never ends the process.
#[test]
fn a_sighup_during_the_start_is_a_reload_not_the_end() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("targets");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let log = dir.path().join("log");
    let mut child = pgconn()
        .args([
            "exporter",
            "--targets",
            &path(&fifo),
            "--listen",
            "127.0.0.1:0",
        ])
        .command()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    // Blocked opening the pipe: past the start of `exporter`, where the signals are caught.
    let wchan = format!("/proc/{pid}/wchan");
    assert!(
        wait_until(Duration::from_secs(30), || {
            std::fs::read_to_string(&wchan)
                .is_ok_and(|w| w.contains("fifo") || w.contains("pipe") || w.contains("partner"))
        }),
        "the exporter never waited on its targets pipe: {:?}",
        std::fs::read_to_string(&wchan)
    );
    kill(pid, Signal::SIGHUP).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        child.try_wait().unwrap(),
        None,
        "a SIGHUP ended the exporter"
    );
    std::fs::write(&fifo, "t: host=127.0.0.1 port=1\n").unwrap();
    let read = || std::fs::read_to_string(&log).unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || read().contains("SIGHUP")),
        "{}",
        read()
    );
    assert!(read().contains("listening on"), "{}", read());
    assert_eq!(child.try_wait().unwrap(), None, "{}", read());
    kill(pid, Signal::SIGTERM).unwrap();
    assert!(child.wait().unwrap().success(), "{}", read());
}

/// Behind a transaction pooler that refuses pgconn's startup options, the scrape's statement runs under
/// the scrape's deadline too (its own transaction's SET LOCAL), not pgconn's 30 s default.
#[test]
fn behind_pgbouncer_the_scrape_runs_under_its_deadline() {
    use support::pgbouncer::PgBouncer;
    let c = cluster();
    let ini = format!(
        "[databases]\npostgres = host={} port={} dbname=postgres\n[pgbouncer]\npool_mode = transaction\n\
         default_pool_size = 2\nmax_client_conn = 20\n",
        c.socket_dir().display(),
        c.port()
    );
    let bouncer = PgBouncer::start(&ini, &[c.superuser()]);
    let e = Exporter::start(
        &[format!(
            "pooled: host=127.0.0.1 port={} user={} dbname=postgres sslmode=disable",
            bouncer.port,
            c.superuser()
        )],
        &["--show-sql"],
    );
    let r = e.request(
        "GET",
        "/probe?target=pooled",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "3")],
    );
    let m = r.samples();
    assert_eq!(
        value(&m, "pg_up", &[]),
        Some(1.0),
        "{}\n{}",
        r.body,
        e.log()
    );
    // 3 s less the 0.5 s offset, nine tenths of what was left when the statement went out.
    let log = e.log();
    let set: Vec<u64> = log
        .split("SET LOCAL statement_timeout = ")
        .skip(1)
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(log.contains("(behind a pooler)"), "not pooled:\n{log}");
    assert!(!set.is_empty(), "no statement_timeout set:\n{log}");
    assert!(set.iter().all(|&ms| ms <= 2_250), "{set:?}\n{log}");
    assert!(!log.contains("'30s'"), "{log}");
}
