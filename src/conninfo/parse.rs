//! Parsing of libpq connection strings: `key=value` conninfo and `postgres://` / `postgresql://` URIs.
//!
//! Error messages follow libpq's wording but never quote a value, so a password cannot leak through them.

use anyhow::{anyhow, bail, Result};

use super::keywords;

/// One parsed `keyword = value` pair; the keyword is known to libpq.
pub(crate) type Pair = (&'static str, String);

const URI_PREFIXES: [&str; 2] = ["postgresql://", "postgres://"];

/// Whether `s` is a connection string rather than a plain database name: libpq's rule for expanding the
/// `dbname` parameter (psql's `-d`): a URI prefix, or an `=` anywhere.
pub(crate) fn is_conninfo(s: &str) -> bool {
    uri_prefix_len(s).is_some() || s.contains('=')
}

fn uri_prefix_len(s: &str) -> Option<usize> {
    URI_PREFIXES
        .iter()
        .find(|p| s.starts_with(*p))
        .map(|p| p.len())
}

/// Parses a conninfo string or URI into keyword/value pairs, in order of appearance (a later duplicate wins
/// when applied in order).
pub(crate) fn parse(s: &str) -> Result<Vec<Pair>> {
    match uri_prefix_len(s) {
        Some(n) => parse_uri(s, n),
        None => parse_keyword_value(s),
    }
}

/// libpq's `conninfo_parse`: `key = value` pairs separated by white space; a value may be single-quoted;
/// a backslash escapes the next character, quoted or not.
pub(crate) fn parse_keyword_value(s: &str) -> Result<Vec<Pair>> {
    let mut out: Vec<Pair> = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        // A badly quoted secret spills into the next word: never echo that word in an error.
        let after_secret = out
            .last()
            .and_then(|(k, _)| keywords::lookup(k))
            .filter(|k| k.secret)
            .map(|k| k.name);
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'=').is_none() {
            match after_secret {
                Some(prev) => bail!(
                    "missing \"=\" after the value of \"{prev}\" in connection info string \
                     (quote values that contain spaces or quotes)"
                ),
                None => bail!("missing \"=\" after \"{key}\" in connection info string"),
            }
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(next) = chars.next() {
                            value.push(next);
                        }
                    }
                    '\'' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                bail!("unterminated quoted string in connection info string");
            }
        } else {
            while let Some(c) = chars.next() {
                match c {
                    c if c.is_whitespace() => break,
                    '\\' => {
                        if let Some(next) = chars.next() {
                            value.push(next);
                        }
                    }
                    c => value.push(c),
                }
            }
        }
        let keyword = match (keywords::lookup(&key), after_secret) {
            (Some(k), _) => k,
            (None, Some(prev)) => bail!(
                "invalid connection option after the value of \"{prev}\" in connection info \
                 string (quote values that contain spaces or quotes)"
            ),
            (None, None) => return Err(keywords::unknown(&key)),
        };
        out.push((keyword.name, value));
    }
    Ok(out)
}

/// libpq's `conninfo_uri_parse`:
/// `postgresql://[user[:password]@][host][:port][,...][/dbname][?param1=value1&...]`.
fn parse_uri(uri: &str, prefix_len: usize) -> Result<Vec<Pair>> {
    let mut out: Vec<Pair> = Vec::new();
    let rest = &uri[prefix_len..];
    let bytes = rest.as_bytes();
    let mut p = 0;

    // User credentials: libpq looks ahead for '@' up to the first '/'.
    let at = bytes
        .iter()
        .position(|&b| b == b'@' || b == b'/')
        .filter(|&i| bytes[i] == b'@');
    if let Some(at) = at {
        let userinfo = &rest[..at];
        let (user, password) = match userinfo.find(':') {
            Some(colon) => (&userinfo[..colon], Some(&userinfo[colon + 1..])),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            out.push(("user", percent_decode(user)?));
        }
        if let Some(password) = password {
            out.push(("password", percent_decode(password)?));
        }
        p = at + 1;
    }

    // Hosts and ports, comma-separated.
    let mut hosts: Vec<&str> = Vec::new();
    let mut ports: Vec<&str> = Vec::new();
    loop {
        let host;
        if bytes.get(p) == Some(&b'[') {
            let start = p + 1;
            let end = rest[start..]
                .find(']')
                .map(|i| start + i)
                .ok_or_else(|| anyhow!("end of IPv6 host address not found in URI"))?;
            if end == start {
                bail!("IPv6 host address may not be empty in URI");
            }
            host = &rest[start..end];
            p = end + 1;
            if let Some(&c) = bytes.get(p) {
                if !matches!(c, b':' | b'/' | b'?' | b',') {
                    bail!(
                        "unexpected character \"{}\" at position {} in URI (expected \":\" or \"/\")",
                        char::from(c),
                        prefix_len + p + 1
                    );
                }
            }
        } else {
            let start = p;
            while p < bytes.len() && !matches!(bytes[p], b':' | b'/' | b'?' | b',') {
                p += 1;
            }
            host = &rest[start..p];
        }
        let mut port = "";
        if bytes.get(p) == Some(&b':') {
            p += 1;
            let start = p;
            while p < bytes.len() && !matches!(bytes[p], b'/' | b'?' | b',') {
                p += 1;
            }
            port = &rest[start..p];
        }
        hosts.push(host);
        ports.push(port);
        if bytes.get(p) == Some(&b',') {
            p += 1;
        } else {
            break;
        }
    }
    if hosts.iter().any(|h| !h.is_empty()) || hosts.len() > 1 {
        out.push(("host", percent_decode(&hosts.join(","))?));
    }
    if ports.iter().any(|h| !h.is_empty()) {
        out.push(("port", percent_decode(&ports.join(","))?));
    }

    // Database name.
    if bytes.get(p) == Some(&b'/') {
        p += 1;
        let start = p;
        while p < bytes.len() && bytes[p] != b'?' {
            p += 1;
        }
        let dbname = &rest[start..p];
        if !dbname.is_empty() {
            out.push(("dbname", percent_decode(dbname)?));
        }
    }

    // Query parameters.
    if bytes.get(p) == Some(&b'?') {
        for param in rest[p + 1..].split('&') {
            if param.is_empty() {
                continue;
            }
            let Some((key, value)) = param.split_once('=') else {
                bail!("missing key/value separator \"=\" in URI query parameter");
            };
            if value.contains('=') {
                bail!("extra key/value separator \"=\" in URI query parameter");
            }
            let key = percent_decode(key)?;
            let value = percent_decode(value)?;
            // JDBC compatibility, as in libpq: ssl=true means sslmode=require.
            if key == "ssl" && value == "true" {
                out.push(("sslmode", "require".to_string()));
                continue;
            }
            let keyword = keywords::lookup(&key)
                .ok_or_else(|| anyhow!("invalid URI query parameter: \"{key}\""))?;
            out.push((keyword.name, value));
        }
    } else if p < bytes.len() {
        // Cannot happen: every branch above stops only at '/', '?', ',' or the end.
        bail!(
            "unexpected character at position {} in URI",
            prefix_len + p + 1
        );
    }
    Ok(out)
}

/// libpq's `conninfo_uri_decode`: `%XX` escapes; `%00` and malformed escapes are errors; `+` stays.
pub(crate) fn percent_decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| anyhow!("invalid percent-encoded token in URI"))?;
            if hex == 0 {
                bail!("forbidden value %00 in percent-encoded value");
            }
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| anyhow!("percent-encoded value in URI is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(pairs: &'a [Pair], key: &str) -> Option<&'a str> {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    fn err(s: &str) -> String {
        format!("{:#}", parse(s).unwrap_err())
    }

    #[test]
    fn detects_conninfo() {
        assert!(is_conninfo("host=x"));
        assert!(is_conninfo("postgres://h"));
        assert!(is_conninfo("postgresql://"));
        assert!(!is_conninfo("app"));
        assert!(!is_conninfo("postgres:/h"));
        assert!(!is_conninfo("mysql://h"));
    }

    #[test]
    fn keyword_value_basic() {
        let p = parse("host=db1 port=5433 dbname=app user=me").unwrap();
        assert_eq!(
            p,
            vec![
                ("host", "db1".to_string()),
                ("port", "5433".to_string()),
                ("dbname", "app".to_string()),
                ("user", "me".to_string())
            ]
        );
    }

    #[test]
    fn keyword_value_spaces_around_equals() {
        let p = parse("  host = db1\tport= 5433  dbname =app ").unwrap();
        assert_eq!(get(&p, "host"), Some("db1"));
        assert_eq!(get(&p, "port"), Some("5433"));
        assert_eq!(get(&p, "dbname"), Some("app"));
    }

    #[test]
    fn keyword_value_quotes_and_escapes() {
        let p = parse(r"password='it''s' options='-c search_path=a\ b' application_name='x\'y\\z'")
            .unwrap_err();
        // 'it''s' is two quoted strings glued: libpq stops at the second quote and reads "'s'" as a
        // key; the error must not echo that fragment of the password.
        assert!(format!("{p:#}").contains("missing \"=\" after the value of \"password\""));
        assert!(!format!("{p:#}").contains("'s'"));
        let e = err("password=my secret host=h");
        assert!(e.contains("after the value of \"password\""), "{e}");
        assert!(!e.contains("secret"));
        let e = err("sslpassword=my secret=x");
        assert!(!e.contains("secret\""), "{e}");
        let p = parse(r"password='it\'s' options='-c search_path=a,b' application_name=x\ y\\z")
            .unwrap();
        assert_eq!(get(&p, "password"), Some("it's"));
        assert_eq!(get(&p, "options"), Some("-c search_path=a,b"));
        assert_eq!(get(&p, "application_name"), Some(r"x y\z"));
        let p = parse("dbname='' user=u").unwrap();
        assert_eq!(get(&p, "dbname"), Some(""));
        assert_eq!(get(&p, "user"), Some("u"));
    }

    #[test]
    fn keyword_value_later_duplicate_wins() {
        let p = parse("port=1 port=2").unwrap();
        assert_eq!(get(&p, "port"), Some("2"));
    }

    #[test]
    fn keyword_value_value_after_blank_is_next_word() {
        // libpq skips blanks after '=', so "host= dbname=x" sets host to "dbname=x".
        let p = parse("host= dbname=x").unwrap();
        assert_eq!(p, vec![("host", "dbname=x".to_string())]);
    }

    #[test]
    fn keyword_value_errors() {
        assert_eq!(
            err("host='db1 port=5"),
            "unterminated quoted string in connection info string"
        );
        assert_eq!(err("foo=bar"), "invalid connection option \"foo\"");
        assert_eq!(
            err("host=x port"),
            "missing \"=\" after \"port\" in connection info string"
        );
        assert_eq!(err("=x"), "invalid connection option \"\"");
        // The secret never appears in the message.
        assert!(!err("password='s3cret").contains("s3cret"));
    }

    #[test]
    fn uri_full() {
        let p = parse("postgresql://alice:s%40cret@db1.example:5433/app%20db?sslmode=require&application_name=x%2By")
            .unwrap();
        assert_eq!(get(&p, "user"), Some("alice"));
        assert_eq!(get(&p, "password"), Some("s@cret"));
        assert_eq!(get(&p, "host"), Some("db1.example"));
        assert_eq!(get(&p, "port"), Some("5433"));
        assert_eq!(get(&p, "dbname"), Some("app db"));
        assert_eq!(get(&p, "sslmode"), Some("require"));
        assert_eq!(get(&p, "application_name"), Some("x+y"));
    }

    #[test]
    fn uri_both_prefixes_and_minimal() {
        assert_eq!(
            parse("postgres://h/d").unwrap(),
            vec![("host", "h".to_string()), ("dbname", "d".to_string())]
        );
        assert!(parse("postgresql://").unwrap().is_empty());
        assert_eq!(
            parse("postgresql:///mydb").unwrap(),
            vec![("dbname", "mydb".to_string())]
        );
        assert_eq!(
            parse("postgresql://u@").unwrap(),
            vec![("user", "u".to_string())]
        );
        assert_eq!(
            parse("postgresql://u:@h").unwrap(),
            vec![
                ("user", "u".to_string()),
                ("password", String::new()),
                ("host", "h".to_string())
            ]
        );
    }

    #[test]
    fn uri_ipv6() {
        let p = parse("postgresql://[::1]:5433/db").unwrap();
        assert_eq!(get(&p, "host"), Some("::1"));
        assert_eq!(get(&p, "port"), Some("5433"));
        let p = parse("postgresql://[2001:db8::1]").unwrap();
        assert_eq!(get(&p, "host"), Some("2001:db8::1"));
        assert_eq!(get(&p, "port"), None);
        assert_eq!(
            err("postgresql://[::1"),
            "end of IPv6 host address not found in URI"
        );
        assert_eq!(
            err("postgresql://[]/db"),
            "IPv6 host address may not be empty in URI"
        );
        assert!(err("postgresql://[::1]x/db").starts_with("unexpected character \"x\""));
    }

    #[test]
    fn uri_multi_host() {
        let p =
            parse("postgresql://h1:5432,h2:5433,[::1]/db?target_session_attrs=read-write").unwrap();
        assert_eq!(get(&p, "host"), Some("h1,h2,::1"));
        assert_eq!(get(&p, "port"), Some("5432,5433,"));
        assert_eq!(get(&p, "target_session_attrs"), Some("read-write"));
        let p = parse("postgresql://h1,h2/db").unwrap();
        assert_eq!(get(&p, "host"), Some("h1,h2"));
        assert_eq!(get(&p, "port"), None);
    }

    #[test]
    fn uri_socket_path_host() {
        let p = parse("postgresql://%2Fvar%2Frun%2Fpostgresql/app").unwrap();
        assert_eq!(get(&p, "host"), Some("/var/run/postgresql"));
        assert_eq!(get(&p, "dbname"), Some("app"));
        let p = parse("postgresql:///app?host=/tmp&port=5444").unwrap();
        assert_eq!(get(&p, "host"), Some("/tmp"));
        assert_eq!(get(&p, "port"), Some("5444"));
    }

    #[test]
    fn uri_query_errors_and_ssl_true() {
        assert_eq!(
            parse("postgres://h?ssl=true").unwrap(),
            vec![
                ("host", "h".to_string()),
                ("sslmode", "require".to_string())
            ]
        );
        assert_eq!(
            err("postgres://h?foo=1"),
            "invalid URI query parameter: \"foo\""
        );
        assert_eq!(
            err("postgres://h?sslmode"),
            "missing key/value separator \"=\" in URI query parameter"
        );
        assert_eq!(
            err("postgres://h?options=a=b"),
            "extra key/value separator \"=\" in URI query parameter"
        );
        assert_eq!(
            err("postgres://u:p%zz@h"),
            "invalid percent-encoded token in URI"
        );
        assert_eq!(
            err("postgres://h/a%00b"),
            "forbidden value %00 in percent-encoded value"
        );
        assert!(!err("postgres://u:se%4cret%@h").contains("se"));
        // Trailing and doubled '&' are harmless.
        assert_eq!(
            parse("postgres://h?&port=1&").unwrap(),
            vec![("host", "h".to_string()), ("port", "1".to_string())]
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c").unwrap(), "a b+c");
        assert_eq!(percent_decode("%C3%A9").unwrap(), "é");
        assert!(percent_decode("%C3").is_err());
        assert!(percent_decode("%2").is_err());
        assert!(percent_decode("%").is_err());
    }
}
