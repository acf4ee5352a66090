//! `pgconn exporter`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use clap::{Args, ValueEnum};

use super::duration::parse_wait;

/// `pgconn exporter`: an HTTP server for Prometheus.
#[derive(Debug, Clone, Args)]
pub struct ExporterArgs {
    /// Listen on ADDR: IP:PORT, [IPv6]:PORT, :PORT (every IPv4 interface) or an IP alone (port 8432).
    /// Repeatable. Default 127.0.0.1:8432. A non-loopback address without --web.config.file is warned
    /// about: the metrics carry role, database and application names
    #[arg(long = "listen", value_name = "ADDR", value_parser = parse_listen)]
    pub listen: Vec<SocketAddr>,

    /// Taken off Prometheus' scrape timeout (the X-Prometheus-Scrape-Timeout-Seconds header), so that the
    /// answer arrives before Prometheus gives up; the rest bounds connecting and querying every target
    /// of the scrape (at most --target-timeout, which applies alone without the header)
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_wait)]
    pub timeout_offset: std::time::Duration,

    /// How much to log on stderr: error, warning (a line per target that could not be scraped), info
    /// (also start, stop and reloads) or debug (also every request)
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = LogLevelArg::Info)]
    pub log_level: LogLevelArg,

    /// Add a label to pgconn_group_sessions: client (the client address; opt-in, for its cardinality)
    #[arg(long = "metrics-by", value_enum, value_name = "LABEL")]
    pub metrics_by: Vec<MetricsBy>,

    /// exporter-toolkit's web configuration (YAML): tls_server_config (cert_file, key_file,
    /// client_ca_file, client_auth_type NoClientCert or RequireAndVerifyClientCert, min_version,
    /// max_version), basic_auth_users (bcrypt hashes) and http_server_config.headers. Other keys are
    /// refused. Read at start and again on SIGHUP (a bad file then keeps the one in use)
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub web_config_file: Option<std::path::PathBuf>,
}

/// `--log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevelArg {
    Error,
    #[value(alias = "warn")]
    Warning,
    Info,
    Debug,
}

/// `--metrics-by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricsBy {
    /// The client address of the sessions (`local` for a unix socket)
    Client,
}

/// `--listen`'s value.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let t = s.trim();
    let port_of = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| format!("{s:?}: the port must be a number from 0 to 65535"))
    };
    if let Some(p) = t.strip_prefix(':').filter(|p| !p.contains(':')) {
        return Ok(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port_of(p)?,
        ));
    }
    if let Ok(a) = t.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bare = t.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, crate::commands::exporter::DEFAULT_PORT));
    }
    if let Some(p) = t.strip_prefix("localhost:") {
        return Ok(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            port_of(p)?,
        ));
    }
    if t == "localhost" {
        return Ok(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            crate::commands::exporter::DEFAULT_PORT,
        ));
    }
    Err(format!(
        "{s:?} is not an address to listen on (IP:PORT, [IPv6]:PORT, :PORT or an IP)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(
            parse_listen("127.0.0.1:9000").unwrap().to_string(),
            "127.0.0.1:9000"
        );
        assert_eq!(parse_listen(":9000").unwrap().to_string(), "0.0.0.0:9000");
        assert_eq!(
            parse_listen("[::1]:9000").unwrap().to_string(),
            "[::1]:9000"
        );
        assert_eq!(parse_listen("::1").unwrap().to_string(), "[::1]:8432");
        assert_eq!(
            parse_listen("10.0.0.1").unwrap().to_string(),
            "10.0.0.1:8432"
        );
        assert_eq!(
            parse_listen("localhost:1").unwrap().to_string(),
            "127.0.0.1:1"
        );
        for bad in ["", "db1:80", "1.2.3.4:x", ":99999", "http://x"] {
            assert!(parse_listen(bad).is_err(), "{bad}");
        }
    }
}
