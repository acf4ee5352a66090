//! Resolution tests: precedence, service file, password file, defaults and the public views.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// A temporary home directory and system config directory, and an environment built on them.
struct Fixture {
    home: tempfile::TempDir,
    sysconf: tempfile::TempDir,
    sockets: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Fixture {
    fn new() -> Self {
        let f = Fixture {
            home: tempfile::tempdir().unwrap(),
            sysconf: tempfile::tempdir().unwrap(),
            sockets: tempfile::tempdir().unwrap(),
            vars: Vec::new(),
        };
        let sysconf = f.sysconf.path().display().to_string();
        f.var("PGSYSCONFDIR", &sysconf)
    }

    fn var(mut self, k: &str, v: &str) -> Self {
        self.vars.push((k.to_string(), v.to_string()));
        self
    }

    fn env(&self) -> Environment {
        Environment::new(self.vars.clone(), Some(self.home.path().to_path_buf()))
            .with_os_user(Some("osuser".into()))
            .with_socket_dir(self.sockets.path().join("run"))
    }

    fn write_home(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn resolve(&self, o: &Overrides) -> Result<ConnSpec> {
        resolve(o, &self.env())
    }

    fn spec(&self, o: &Overrides) -> ConnSpec {
        self.resolve(o).unwrap()
    }
}

fn dash_d(dbname: &str) -> Overrides {
    Overrides {
        dbname: Some(dbname.to_string()),
        ..Default::default()
    }
}

fn err_of(r: Result<ConnSpec>) -> String {
    format!("{:#}", r.expect_err("expected an error"))
}

// ---- defaults -------------------------------------------------------------------------------------

#[test]
fn defaults_without_anything() {
    let f = Fixture::new();
    let run = f.sockets.path().join("run");
    let s = f.spec(&Overrides::default());
    assert_eq!(s.user(), "osuser");
    assert_eq!(s.dbname(), "osuser");
    // libpq's one compiled-in socket directory, whether or not a server is there.
    assert_eq!(s.get("host"), Some(run.to_str().unwrap()));
    assert_eq!(s.get("port"), Some("5432"));
    assert_eq!(s.get("sslmode"), Some("prefer"));
    assert_eq!(s.get("connect_timeout"), Some("10"));
    assert_eq!(s.connect_timeout(), Some(DEFAULT_CONNECT_TIMEOUT));
    assert_eq!(s.application_name(), "pgconn");
    assert!(!s.has_password());
    assert!(s.warnings().is_empty());
    assert_eq!(s.target_label(), format!("{}:5432/osuser", run.display()));
    let t = s.targets();
    assert!(t[0].is_default() && t[0].is_socket() && t[0].port_is_default());
    assert_eq!(t[0].socket_path(), Some(run.join(".s.PGSQL.5432")));
}

#[test]
fn no_host_means_the_one_default_socket_directory_never_tcp() {
    let f = Fixture::new();
    let run = f.sockets.path().join("run");
    let tmp = f.sockets.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // A server's socket elsewhere (/tmp, as upstream's libpq would use) is not looked for.
    std::fs::write(tmp.join(".s.PGSQL.6000"), "").unwrap();
    let s = f.spec(&Overrides {
        port: Some("6000".into()),
        ..Default::default()
    });
    assert_eq!(s.get("host"), Some(run.to_str().unwrap()));
    assert!(s.targets()[0].is_socket());
    assert!(s.targets()[0].is_default() && !s.targets()[0].port_is_default());
    assert_eq!(
        s.targets()[0].socket_path(),
        Some(run.join(".s.PGSQL.6000"))
    );
}

#[test]
fn missing_os_user_is_an_error_unless_user_given() {
    let f = Fixture::new();
    let env = f.env().with_os_user(None);
    let e = format!("{:#}", resolve(&Overrides::default(), &env).unwrap_err());
    assert!(e.contains("could not look up the local user name"));
    let s = resolve(
        &Overrides {
            user: Some("u".into()),
            ..Default::default()
        },
        &env,
    )
    .unwrap();
    assert_eq!(s.dbname(), "u");
}

// ---- precedence -----------------------------------------------------------------------------------

#[test]
fn precedence_flags_conninfo_service_env_default() {
    let f = Fixture::new()
        .var("PGHOST", "envhost")
        .var("PGPORT", "1111")
        .var("PGUSER", "envuser")
        .var("PGDATABASE", "envdb")
        .var("PGAPPNAME", "envapp")
        .var("PGOPTIONS", "-c envopt=1")
        .var("PGSERVICE", "svc");
    f.write_home(
        ".pg_service.conf",
        "[svc]\nhost=svchost\nport=2222\nuser=svcuser\ndbname=svcdb\napplication_name=svcapp\n",
        0o644,
    );

    // Environment and service only: the service beats the environment (libpq).
    let s = f.spec(&Overrides::default());
    assert_eq!(s.get("host"), Some("svchost"));
    assert_eq!(s.get("port"), Some("2222"));
    assert_eq!(s.user(), "svcuser");
    assert_eq!(s.dbname(), "svcdb");
    assert_eq!(s.application_name(), "svcapp");
    // Keywords the service does not set come from the environment.
    assert_eq!(s.get("options"), Some("-c envopt=1"));
    assert_eq!(s.get("service"), Some("svc"));

    // A conninfo beats the service.
    let s = f.spec(&dash_d("host=cihost port=3333 dbname=cidb"));
    assert_eq!(s.get("host"), Some("cihost"));
    assert_eq!(s.get("port"), Some("3333"));
    assert_eq!(s.dbname(), "cidb");
    assert_eq!(s.user(), "svcuser");

    // The conninfo beats the flags (psql: `psql -U postgres -d "user=app ..."` connects as app); flags
    // fill what it leaves out.
    let s = f.spec(&Overrides {
        host: Some("flaghost".into()),
        port: Some("4444".into()),
        user: Some("flaguser".into()),
        dbname: Some("postgres://ciuser@cihost:3333/cidb".into()),
        service: None,
        connect_timeout: Some(Duration::from_secs(3)),
    });
    assert_eq!(s.get("host"), Some("cihost"));
    assert_eq!(s.get("port"), Some("3333"));
    assert_eq!(s.user(), "ciuser");
    assert_eq!(s.dbname(), "cidb");
    let s = f.spec(&Overrides {
        host: Some("flaghost".into()),
        port: Some("4444".into()),
        user: Some("flaguser".into()),
        dbname: Some("dbname=cidb connect_timeout=7".into()),
        service: None,
        connect_timeout: Some(Duration::from_secs(3)),
    });
    assert_eq!(s.get("host"), Some("flaghost"));
    assert_eq!(s.get("port"), Some("4444"));
    assert_eq!(s.user(), "flaguser");
    assert_eq!(s.connect_timeout(), Some(Duration::from_secs(3)));
    assert_eq!(s.get("connect_timeout"), Some("3"));
}

#[test]
fn environment_beats_defaults() {
    let f = Fixture::new()
        .var("PGHOST", "envhost")
        .var("PGPORT", "1111")
        .var("PGUSER", "envuser")
        .var("PGSSLMODE", "require")
        .var("PGCONNECT_TIMEOUT", "7")
        .var("PGTARGETSESSIONATTRS", "read-write");
    let s = f.spec(&Overrides::default());
    assert_eq!(s.target_label(), "envhost:1111/envuser");
    assert_eq!(s.ssl_mode(), SslMode::Require);
    assert_eq!(s.connect_timeout(), Some(Duration::from_secs(7)));
    assert_eq!(s.get("target_session_attrs"), Some("read-write"));
}

#[test]
fn plain_dbname_flag_is_not_expanded() {
    let f = Fixture::new().var("PGDATABASE", "envdb");
    let s = f.spec(&dash_d("app"));
    assert_eq!(s.dbname(), "app");
    let s = f.spec(&dash_d(""));
    assert_eq!(s.dbname(), "envdb");
}

#[test]
fn empty_flags_are_ignored_but_empty_conninfo_values_block_lower_layers() {
    let f = Fixture::new().var("PGHOST", "envhost");
    let s = f.spec(&Overrides {
        host: Some(String::new()),
        ..Default::default()
    });
    assert_eq!(s.get("host"), Some("envhost"));
    // host='' in the conninfo is set (to empty), so PGHOST is not read and the default applies.
    let s = f.spec(&dash_d("host='' dbname=x"));
    let run = f.sockets.path().join("run");
    assert_eq!(s.get("host"), Some(run.to_str().unwrap()));
}

#[test]
fn connect_timeout_rules() {
    let f = Fixture::new();
    let t = |o: &Overrides| f.spec(o).connect_timeout();
    assert_eq!(t(&dash_d("connect_timeout=0 dbname=x")), None);
    assert_eq!(t(&dash_d("connect_timeout=-5 dbname=x")), None);
    assert_eq!(
        t(&dash_d("connect_timeout=1 dbname=x")),
        Some(Duration::from_secs(2))
    );
    assert_eq!(
        t(&dash_d("connect_timeout=' 30 ' dbname=x")),
        Some(Duration::from_secs(30))
    );
    let zero = Overrides {
        connect_timeout: Some(Duration::ZERO),
        ..dash_d("connect_timeout=5")
    };
    assert_eq!(t(&zero), None);
    let short = Overrides {
        connect_timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    assert_eq!(t(&short), Some(Duration::from_millis(300)));
    assert_eq!(f.spec(&short).get("connect_timeout"), Some("1"));
    assert_eq!(f.spec(&zero).get("connect_timeout"), Some("0"));
    assert_eq!(
        err_of(f.resolve(&dash_d("connect_timeout=ten"))),
        "invalid integer value \"ten\" for connection option \"connect_timeout\""
    );
}

// ---- service file ----------------------------------------------------------------------------------

#[test]
fn service_from_flag_conninfo_or_env_and_files_order() {
    let f = Fixture::new();
    f.write_home(".pg_service.conf", "[a]\nport=1001\n", 0o644);
    std::fs::write(
        f.sysconf.path().join("pg_service.conf"),
        "[a]\nport=2001\n[b]\nport=2002\n",
    )
    .unwrap();
    let port = |o: &Overrides| f.spec(o).get("port").map(str::to_string);
    assert_eq!(
        port(&Overrides {
            service: Some("a".into()),
            ..Default::default()
        }),
        Some("1001".into())
    );
    assert_eq!(port(&dash_d("service=b")), Some("2002".into()));
    assert_eq!(
        port(&dash_d("postgresql:///db?service=b")),
        Some("2002".into())
    );
    let f2 = Fixture::new().var("PGSERVICE", "b");
    std::fs::write(
        f2.sysconf.path().join("pg_service.conf"),
        "[b]\nport=3003\n",
    )
    .unwrap();
    assert_eq!(f2.spec(&Overrides::default()).get("port"), Some("3003"));
    // The flag beats PGSERVICE.
    assert_eq!(
        f2.resolve(&Overrides {
            service: Some("zzz".into()),
            ..Default::default()
        })
        .err()
        .map(|e| e.to_string()),
        Some("definition of service \"zzz\" not found".to_string())
    );
}

#[test]
fn pgservicefile_replaces_the_user_file() {
    let other = tempfile::tempdir().unwrap();
    let file = other.path().join("services.conf");
    std::fs::write(&file, "# services\n[x]\nhost=from-servicefile\n").unwrap();
    let f = Fixture::new().var("PGSERVICEFILE", file.to_str().unwrap());
    f.write_home(".pg_service.conf", "[x]\nhost=from-home\n", 0o644);
    assert_eq!(
        f.spec(&dash_d("service=x")).get("host"),
        Some("from-servicefile")
    );
    // servicefile= in the conninfo beats PGSERVICEFILE.
    let s = f.spec(&dash_d(&format!(
        "service=x servicefile={}",
        f.home.path().join(".pg_service.conf").display()
    )));
    assert_eq!(s.get("host"), Some("from-home"));
}

#[test]
fn unknown_service_and_service_syntax_errors() {
    let f = Fixture::new();
    assert_eq!(
        err_of(f.resolve(&dash_d("service=nope"))),
        "definition of service \"nope\" not found"
    );
    let path = f.write_home(".pg_service.conf", "[bad]\nhost\n", 0o644);
    assert_eq!(
        err_of(f.resolve(&dash_d("service=bad"))),
        format!(
            "syntax error in service file \"{}\", line 2",
            path.display()
        )
    );
}

#[test]
fn service_values_fill_only_unset_keywords_first_line_wins() {
    let f = Fixture::new();
    f.write_home(
        ".pg_service.conf",
        "[s]\nhost=svc1\nhost=svc2\nuser=svcuser\nsslmode=disable\n",
        0o644,
    );
    let s = f.spec(&dash_d("service=s user=me"));
    assert_eq!(s.get("host"), Some("svc1"));
    assert_eq!(s.user(), "me");
    assert_eq!(s.ssl_mode(), SslMode::Disable);
}

// ---- password file ---------------------------------------------------------------------------------

#[test]
fn pgpass_lookup_and_precedence() {
    let f = Fixture::new();
    f.write_home(
        ".pgpass",
        "db1:5432:app:alice:pw-app\ndb1:*:*:alice:pw-any\n",
        0o600,
    );
    let s = f.spec(&dash_d("host=db1 dbname=app user=alice"));
    assert!(s.has_password());
    assert_eq!(s.config().unwrap().get_password(), Some(&b"pw-app"[..]));
    let s = f.spec(&dash_d("host=db1 dbname=other user=alice port=6000"));
    assert_eq!(s.config().unwrap().get_password(), Some(&b"pw-any"[..]));
    let s = f.spec(&dash_d("host=db2 dbname=app user=alice"));
    assert!(!s.has_password());
    assert_eq!(s.config().unwrap().get_password(), None);

    // An explicit password wins; the file is not consulted.
    let s = f.spec(&dash_d("host=db1 dbname=app user=alice password=given"));
    assert_eq!(s.config().unwrap().get_password(), Some(&b"given"[..]));
    let f2 = Fixture::new().var("PGPASSWORD", "fromenv");
    f2.write_home(".pgpass", "*:*:*:*:fromfile\n", 0o600);
    assert_eq!(
        f2.spec(&Overrides::default())
            .config()
            .unwrap()
            .get_password(),
        Some(&b"fromenv"[..])
    );
    // An empty password counts as none.
    let f3 = Fixture::new().var("PGPASSWORD", "");
    f3.write_home(".pgpass", "*:*:*:*:fromfile\n", 0o600);
    assert_eq!(
        f3.spec(&Overrides::default())
            .config()
            .unwrap()
            .get_password(),
        Some(&b"fromfile"[..])
    );
}

#[test]
fn set_password_overrides_pgpass() {
    let f = Fixture::new();
    f.write_home(".pgpass", "*:*:*:*:fromfile\n", 0o600);
    let mut s = f.spec(&Overrides::default());
    s.set_password("typed".into());
    assert_eq!(s.config().unwrap().get_password(), Some(&b"typed"[..]));
    let mut s = f.spec(&dash_d("host=nowhere dbname=x"));
    s.set_password("typed".into());
    assert!(s.has_password());
}

#[test]
fn pgpass_file_locations() {
    let other = tempfile::tempdir().unwrap();
    let file = other.path().join("pass");
    std::fs::write(&file, "*:*:*:*:from-pgpassfile\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let f = Fixture::new().var("PGPASSFILE", file.to_str().unwrap());
    f.write_home(".pgpass", "*:*:*:*:from-home\n", 0o600);
    let pw = |s: ConnSpec| s.config().unwrap().get_password().map(<[u8]>::to_vec);
    assert_eq!(
        pw(f.spec(&Overrides::default())),
        Some(b"from-pgpassfile".to_vec())
    );
    let s = f.spec(&dash_d(&format!(
        "passfile={} dbname=x",
        f.home.path().join(".pgpass").display()
    )));
    assert_eq!(pw(s), Some(b"from-home".to_vec()));
    assert_eq!(
        f.spec(&Overrides::default()).get("passfile"),
        Some(file.to_str().unwrap())
    );
}

#[test]
fn pgpass_permissions_warning() {
    let f = Fixture::new();
    let path = f.write_home(".pgpass", "*:*:*:*:pw\n", 0o640);
    let s = f.spec(&Overrides::default());
    assert!(!s.has_password());
    assert_eq!(
        s.warnings(),
        [format!(
            "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
            path.display()
        )]
    );
    // Not consulted, so no warning, when a password is given.
    let s = f.spec(&dash_d("password=x dbname=y"));
    assert!(s.warnings().is_empty());
}

#[test]
fn pgpass_socket_hosts_match_localhost() {
    let f = Fixture::new();
    let run = f.sockets.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join(".s.PGSQL.5432"), "").unwrap();
    f.write_home(
        ".pgpass",
        "/custom/dir:*:*:*:pw-custom\nlocalhost:5432:*:*:pw-local\n",
        0o600,
    );
    let pw = |o: &Overrides| {
        f.spec(o)
            .config()
            .unwrap()
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    };
    // The default socket.
    assert_eq!(pw(&Overrides::default()), Some("pw-local".into()));
    // A default socket directory named explicitly.
    assert_eq!(
        pw(&dash_d(&format!("host={} dbname=x", run.display()))),
        Some("pw-local".into())
    );
    // Any other socket directory matches its path.
    assert_eq!(
        pw(&dash_d("host=/custom/dir dbname=x")),
        Some("pw-custom".into())
    );
    // TCP to localhost.
    assert_eq!(
        pw(&Overrides {
            port: Some("5432".into()),
            host: Some("localhost".into()),
            ..Default::default()
        }),
        Some("pw-local".into())
    );
}

#[test]
fn pgpass_per_host_and_hostaddr() {
    let f = Fixture::new();
    f.write_home(
        ".pgpass",
        "a:5432:*:*:pw-a\nb:5433:*:*:pw-b\n10.0.0.9:*:*:*:pw-addr\n",
        0o600,
    );
    let s = f.spec(&dash_d("host=a,b port=5432,5433 dbname=x"));
    assert_eq!(
        s.hosts
            .iter()
            .map(|h| h.pgpass.as_deref())
            .collect::<Vec<_>>(),
        vec![Some("pw-a"), Some("pw-b")]
    );
    let s = f.spec(&dash_d("hostaddr=10.0.0.9 dbname=x"));
    assert!(s.has_password());
    // With a host name, the name is matched, not the address.
    let s = f.spec(&dash_d("host=c hostaddr=10.0.0.9 dbname=x"));
    assert!(!s.has_password());
}

// ---- hosts, ports, addresses ------------------------------------------------------------------------

#[test]
fn multi_host_lists() {
    let f = Fixture::new();
    let s = f.spec(&dash_d("postgresql://h1:5432,h2:5433,[::1]/app"));
    assert_eq!(s.get("host"), Some("h1,h2,::1"));
    assert_eq!(s.get("port"), Some("5432,5433,5432"));
    assert_eq!(s.target_label(), "h1:5432,h2:5433,[::1]:5432/app");
    assert_eq!(
        s.identity(),
        Identity {
            host: "h1,h2,::1".into(),
            port: "5432,5433,5432".into(),
            dbname: "app".into(),
            user: "osuser".into()
        }
    );
    let c = s.config().unwrap();
    assert_eq!(c.get_hosts().len(), 3);
    assert_eq!(c.get_ports(), &[5432, 5433, 5432]);

    // One port for all hosts.
    let s = f.spec(&dash_d("host=a,b port=6000"));
    assert_eq!(s.get("port"), Some("6000,6000"));
    // Empty entries take the defaults.
    let s = f.spec(&dash_d("host=a,,/sock port=1,,3"));
    let run = f.sockets.path().join("run");
    assert_eq!(
        s.target_label(),
        format!("a:1,{}:5432,/sock:3/osuser", run.display())
    );
    assert!(s.targets()[2].is_socket());
}

#[test]
fn host_list_errors() {
    let f = Fixture::new();
    assert_eq!(
        err_of(f.resolve(&dash_d("host=a,b port=1,2,3"))),
        "could not match 3 port numbers to 2 hosts"
    );
    assert_eq!(
        err_of(f.resolve(&dash_d("host=a,b hostaddr=10.0.0.1"))),
        "could not match 2 host names to 1 hostaddr values"
    );
    assert_eq!(
        err_of(f.resolve(&dash_d("hostaddr=db.example"))),
        "could not parse network address \"db.example\""
    );
    assert_eq!(
        err_of(f.resolve(&dash_d("port=70000"))),
        "invalid port number: \"70000\""
    );
    assert_eq!(
        err_of(f.resolve(&dash_d("port=abc"))),
        "invalid port number: \"abc\""
    );
    let e = err_of(f.resolve(&Overrides {
        port: Some("0".into()),
        ..Default::default()
    }));
    assert_eq!(e, "invalid port number: \"0\"");
}

#[test]
fn hostaddr_with_and_without_host() {
    let f = Fixture::new();
    let s = f.spec(&dash_d("host=db.example hostaddr=192.0.2.7 dbname=app"));
    assert_eq!(s.get("hostaddr"), Some("192.0.2.7"));
    assert_eq!(s.target_label(), "db.example:5432/app");
    let c = s.config().unwrap();
    assert_eq!(c.get_hostaddrs(), &["192.0.2.7".parse::<IpAddr>().unwrap()]);
    assert_eq!(
        s.targets()[0].describe(),
        "server at \"db.example\" (192.0.2.7), port 5432"
    );

    let s = f.spec(&dash_d("hostaddr=2001:db8::5 dbname=app"));
    assert_eq!(s.get("host"), None);
    assert_eq!(s.target_label(), "[2001:db8::5]:5432/app");
    assert_eq!(s.identity().host, "2001:db8::5");
    // The address doubles as the TLS host name.
    assert_eq!(s.config().unwrap().get_hosts().len(), 1);

    assert_eq!(
        err_of(f.resolve(&dash_d("hostaddr=192.0.2.7 sslmode=verify-full"))),
        "host name must be specified for a verified SSL connection"
    );
    assert!(s.config().is_ok());
    let mixed = f.spec(&dash_d("host=a,b hostaddr=192.0.2.7,"));
    assert!(mixed.config().is_err());
}

#[test]
fn socket_host_in_uri_and_config() {
    let f = Fixture::new();
    let s = f.spec(&dash_d("postgresql://%2Fvar%2Frun%2Fpostgresql:5433/app"));
    assert_eq!(s.target_label(), "/var/run/postgresql:5433/app");
    let c = s.config().unwrap();
    assert!(matches!(
        &c.get_hosts()[0],
        postgres::config::Host::Unix(p) if p == Path::new("/var/run/postgresql")
    ));
    // Sockets never use TLS.
    assert_eq!(c.get_ssl_mode(), postgres::config::SslMode::Disable);
    assert_eq!(
        s.targets()[0].describe(),
        "server on socket \"/var/run/postgresql/.s.PGSQL.5433\""
    );
}

// ---- keywords and validation -------------------------------------------------------------------------

#[test]
fn unknown_keywords_are_errors_everywhere() {
    let f = Fixture::new();
    assert_eq!(
        err_of(f.resolve(&dash_d("host=x foo=bar"))),
        "invalid connection string given as database name: invalid connection option \"foo\""
    );
    assert_eq!(
        err_of(f.resolve(&dash_d("postgres://h/db?foo=bar"))),
        "invalid connection string given as database name: invalid URI query parameter: \"foo\""
    );
    assert_eq!(
        err_of(f.resolve(&dash_d("host='x"))),
        "invalid connection string given as database name: unterminated quoted string in connection info string"
    );
}

#[test]
fn every_libpq_keyword_is_accepted() {
    let f = Fixture::new();
    let all = "service='' servicefile='' user=u password=p passfile=/none channel_binding=prefer \
        connect_timeout=5 dbname=d host=h hostaddr=192.0.2.1 port=5432 client_encoding=UTF8 \
        options=-cx=1 application_name=a fallback_application_name=fa keepalives=1 \
        keepalives_idle=10 keepalives_interval=5 keepalives_count=3 tcp_user_timeout=9000 \
        sslmode=prefer sslnegotiation=postgres sslcompression=0 sslcert=/none/c sslkey=/none/k \
        sslcertmode=allow sslpassword=kp sslrootcert=/none/r sslcrl=/none/crl sslcrldir=/none/d \
        sslsni=1 requirepeer='' require_auth='' ssl_min_protocol_version=TLSv1.2 \
        ssl_max_protocol_version=TLSv1.3 gssencmode=disable krbsrvname=postgres gsslib=gssapi \
        gssdelegation=0 replication=0 target_session_attrs=any load_balance_hosts=disable";
    let s = f.spec(&dash_d(all));
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    assert_eq!(s.get("password"), None);
    assert_eq!(s.get("sslpassword"), None);
    assert_eq!(s.application_name(), "a");
    let c = s.config().unwrap();
    assert_eq!(c.get_options(), Some("-cx=1"));
    assert_eq!(c.get_keepalives_idle(), Duration::from_secs(10));
    assert_eq!(c.get_keepalives_interval(), Some(Duration::from_secs(5)));
    assert_eq!(c.get_keepalives_retries(), Some(3));
    assert_eq!(c.get_tcp_user_timeout(), Some(&Duration::from_millis(9000)));
    assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(5)));
}

#[test]
fn enumerated_values_are_validated() {
    let f = Fixture::new();
    for (input, msg) in [
        ("sslmode=on", "invalid sslmode value: \"on\""),
        ("gssencmode=maybe", "invalid gssencmode value: \"maybe\""),
        (
            "target_session_attrs=master",
            "invalid target_session_attrs value: \"master\"",
        ),
        (
            "load_balance_hosts=yes",
            "invalid load_balance_hosts value: \"yes\"",
        ),
        (
            "channel_binding=maybe",
            "invalid channel_binding value: \"maybe\"",
        ),
        ("sslcertmode=x", "invalid sslcertmode value: \"x\""),
        (
            "ssl_min_protocol_version=SSLv3",
            "invalid ssl_min_protocol_version value: \"SSLv3\"",
        ),
        (
            "ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2",
            "invalid SSL protocol version range",
        ),
        (
            "keepalives=yes",
            "invalid integer value \"yes\" for connection option \"keepalives\"",
        ),
        (
            "gssencmode=require",
            "gssencmode value \"require\" invalid when GSSAPI support is not compiled in",
        ),
        (
            "sslnegotiation=direct",
            "weak sslmode \"prefer\" may not be used with sslnegotiation=direct (use \"require\", \"verify-ca\", or \"verify-full\")",
        ),
        (
            "sslrootcert=system sslmode=require",
            "weak sslmode \"require\" may not be used with sslrootcert=system (use \"verify-full\")",
        ),
    ] {
        assert_eq!(err_of(f.resolve(&dash_d(input))), msg, "{input}");
    }
    let s = f.spec(&dash_d("sslrootcert=system dbname=x"));
    assert_eq!(s.ssl_mode(), SslMode::VerifyFull);
    let s = f.spec(&dash_d("sslnegotiation=direct sslmode=require"));
    assert_eq!(
        s.config().unwrap().get_ssl_negotiation(),
        postgres::config::SslNegotiation::Direct
    );
}

#[test]
fn unsupported_security_settings_warn() {
    let f = Fixture::new();
    let s = f.spec(&dash_d(
        "requirepeer=postgres require_auth=scram-sha-256 sslcertmode=require replication=database client_encoding=LATIN1",
    ));
    let w = s.warnings().join("\n");
    assert!(w.contains("requirepeer=postgres is not supported"), "{w}");
    assert!(
        w.contains("require_auth=scram-sha-256 is not enforced"),
        "{w}"
    );
    assert!(w.contains("sslcertmode=require is not enforced"), "{w}");
    assert!(w.contains("replication=database is not supported"), "{w}");
    assert!(w.contains("client_encoding=LATIN1 is ignored"), "{w}");
}

// ---- config -----------------------------------------------------------------------------------------

#[test]
fn config_carries_the_resolved_settings() {
    let f = Fixture::new().var("PGAPPNAME", "fromenv");
    let s = f.spec(&dash_d(
        "host=db port=6543 user=u dbname=app password=pw options='-c a=1' keepalives=0 \
         target_session_attrs=read-only load_balance_hosts=random sslmode=verify-ca channel_binding=require",
    ));
    let c = s.config().unwrap();
    assert!(matches!(&c.get_hosts()[0], postgres::config::Host::Tcp(h) if h == "db"));
    assert_eq!(c.get_ports(), &[6543]);
    assert_eq!(c.get_user(), Some("u"));
    assert_eq!(c.get_dbname(), Some("app"));
    assert_eq!(c.get_password(), Some(&b"pw"[..]));
    assert_eq!(c.get_options(), Some("-c a=1"));
    assert_eq!(c.get_application_name(), Some("fromenv"));
    assert!(!c.get_keepalives());
    assert_eq!(
        c.get_target_session_attrs(),
        postgres::config::TargetSessionAttrs::ReadOnly
    );
    assert_eq!(
        c.get_load_balance_hosts(),
        postgres::config::LoadBalanceHosts::Random
    );
    assert_eq!(c.get_ssl_mode(), postgres::config::SslMode::Require);
    assert_eq!(
        c.get_channel_binding(),
        postgres::config::ChannelBinding::Require
    );
    assert_eq!(c.get_connect_timeout(), Some(&DEFAULT_CONNECT_TIMEOUT));

    let s = f.spec(&dash_d("host=db fallback_application_name=fb"));
    assert_eq!(s.config().unwrap().get_application_name(), Some("fromenv"));
    let f2 = Fixture::new();
    let s = f2.spec(&dash_d("host=db fallback_application_name=fb"));
    assert_eq!(s.config().unwrap().get_application_name(), Some("fb"));
    let s = f2.spec(&dash_d("host=db sslmode=allow"));
    assert_eq!(
        s.config().unwrap().get_ssl_mode(),
        postgres::config::SslMode::Prefer
    );
    let s = f2.spec(&dash_d("host=db sslmode=disable connect_timeout=0"));
    let c = s.config().unwrap();
    assert_eq!(c.get_ssl_mode(), postgres::config::SslMode::Disable);
    assert_eq!(c.get_connect_timeout(), None);
    assert!(c.get_keepalives());
}

#[test]
fn extra_options_are_appended() {
    let f = Fixture::new();
    let s = f.spec(&dash_d("host=db options='-c a=1'"));
    assert_eq!(
        s.options_with(Some("-c statement_timeout=30s")).as_deref(),
        Some("-c a=1 -c statement_timeout=30s")
    );
    let s = f.spec(&dash_d("host=db"));
    assert_eq!(
        s.options_with(Some("-c statement_timeout=30s")).as_deref(),
        Some("-c statement_timeout=30s")
    );
    assert_eq!(s.options_with(Some("  ")), None);
    assert_eq!(s.options_with(None), None);
}

// ---- secrets ----------------------------------------------------------------------------------------

#[test]
fn debug_never_shows_a_password() {
    let f = Fixture::new().var("PGPASSWORD", "envsecret");
    f.write_home(".pgpass", "*:*:*:*:filesecret\n", 0o600);
    let s = f.spec(&dash_d("postgres://u:urisecret@h/db?sslpassword=keysecret"));
    let mut typed = s.clone();
    typed.set_password("typedsecret".into());
    let f2 = Fixture::new();
    f2.write_home(".pgpass", "*:*:*:*:filesecret\n", 0o600);
    let from_file = f2.spec(&Overrides::default());
    assert!(from_file.has_password());
    for text in [
        format!("{s:?}"),
        format!("{s:#?}"),
        format!("{typed:?}"),
        format!("{from_file:?}"),
        format!("{:?}", f.env()),
        s.target_label(),
        serde_json::to_string(&s.identity()).unwrap(),
    ] {
        for secret in [
            "envsecret",
            "filesecret",
            "urisecret",
            "keysecret",
            "typedsecret",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    assert!(format!("{s:?}").contains(REDACTED));
}

#[test]
fn identity_serializes_as_snake_case_strings() {
    let f = Fixture::new();
    let s = f.spec(&dash_d("postgres://alice@db1.example:5433/app"));
    assert_eq!(s.target_label(), "db1.example:5433/app");
    assert_eq!(
        serde_json::to_value(s.identity()).unwrap(),
        serde_json::json!({"host": "db1.example", "port": "5433", "dbname": "app", "user": "alice"})
    );
}

#[test]
fn parse_errors_do_not_leak_the_password() {
    let f = Fixture::new();
    for input in [
        "password=my secret host=h",
        "postgres://u:se%zzcret@h/db",
        "password='unterminated secret",
    ] {
        let e = err_of(f.resolve(&dash_d(input)));
        assert!(!e.contains("secret"), "{e}");
    }
}

#[test]
fn the_service_a_connection_text_names() {
    use crate::conninfo::named_service;
    assert_eq!(named_service("service=a host=x").as_deref(), Some("a"));
    assert_eq!(
        named_service("host=x service = 'b c'").as_deref(),
        Some("b c")
    );
    assert_eq!(named_service("service=a service=b").as_deref(), Some("b"));
    assert_eq!(
        named_service("postgresql://h/db?service=u").as_deref(),
        Some("u")
    );
    assert_eq!(named_service("host=x dbname=service"), None);
    assert_eq!(named_service("service"), None);
    assert_eq!(named_service("service='unterminated"), None);
}
