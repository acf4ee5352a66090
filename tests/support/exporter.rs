//! `pgconn exporter` started on a free port of 127.0.0.1, and the plain HTTP client the tests talk to it
//! (and to Prometheus and postgres_exporter) with.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{pgconn, PgconnCmd};

/// A running `pgconn exporter`, its port and what it said on stderr.
pub struct Exporter {
    pub child: Child,
    pub port: u16,
    stderr: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Exporter {
    /// Start `pgconn exporter` with a targets file of `targets` lines and `args`, on an ephemeral port
    /// of 127.0.0.1 unless `args` has a --listen, with the environment of the binary's own cluster.
    pub fn start(targets: &[String], args: &[&str]) -> Exporter {
        Exporter::start_with(pgconn(), targets, args)
    }

    /// [`Exporter::start`] from a builder of its own (another cluster's environment, say).
    pub fn start_with(cmd: PgconnCmd, targets: &[String], args: &[&str]) -> Exporter {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("targets");
        std::fs::write(&file, targets.join("\n") + "\n").unwrap();
        let mut all: Vec<String> = vec!["exporter".into(), "--targets".into(), path(&file)];
        if !args.contains(&"--listen") {
            all.extend(["--listen".into(), "127.0.0.1:0".into()]);
        }
        all.extend(args.iter().map(|a| a.to_string()));
        let mut cmd = cmd.args(&all).command();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting pgconn exporter");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        let log = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                log.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(rest) = line.split("info: listening on ").nth(1) {
                    let port = rest
                        .split("://")
                        .nth(1)
                        .and_then(|a| a.split('/').next())
                        .and_then(|a| a.rsplit(':').next())
                        .and_then(|p| p.parse::<u16>().ok());
                    let _ = tx.send(port);
                }
            }
            let _ = tx.send(None);
        });
        let port = rx.recv_timeout(Duration::from_secs(60)).ok().flatten();
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(200));
            panic!("the exporter did not start:\n{}", stderr.lock().unwrap());
        };
        Exporter {
            child,
            port,
            stderr,
            _dir: dir,
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[])
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        raw(self.port, req.as_bytes())
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), sig).unwrap();
    }

    /// Wait for the process to end; its exit code.
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn path(p: &Path) -> String {
    p.display().to_string()
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The samples of the exposition, as `name{labels}` → value, parsed by a real parser.
    pub fn samples(&self) -> Vec<prometheus_parse::Sample> {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        prometheus_parse::Scrape::parse(self.body.lines().map(|l| Ok(l.to_string())))
            .unwrap_or_else(|e| panic!("{e}: {}", self.body))
            .samples
    }
}

pub fn value(
    samples: &[prometheus_parse::Sample],
    metric: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("not a gauge: {s:?}"),
        })
}

/// Send bytes, read the answer until the server closes (or 60 s pass), parse it as an HTTP response
/// (status 0 when there was none).
pub fn raw(port: u16, bytes: &[u8]) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    parse_response(&out)
}

pub fn parse_response(out: &[u8]) -> Response {
    let text = String::from_utf8_lossy(out).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Response {
            status: 0,
            headers: Vec::new(),
            body: text,
        };
    };
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_string(),
    }
}

/// `GET path` as HTTP/1.0 (so that the answer is neither chunked nor kept alive), for servers other than
/// pgconn's: Prometheus, postgres_exporter.
pub fn get(port: u16, path: &str) -> Response {
    raw(
        port,
        format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
    )
}
