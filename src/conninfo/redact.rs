//! Removal of passwords from free text (error messages, logs, echoed command lines).

/// What a removed secret is replaced with.
pub const REDACTED: &str = "********";

/// The words whose values are removed: `password` (also inside `sslpassword` and `PGPASSWORD`) and every
/// other secret connection keyword.
fn secret_words() -> Vec<&'static str> {
    let mut words = vec!["password"];
    words.extend(super::keywords::secret_names().filter(|k| !k.contains("password")));
    words
}

/// Removes secret values from conninfo strings and URIs anywhere in `text`:
/// `password=...`, `password = '...'`, `sslpassword=...`, `PGPASSWORD=...`, `?password=...&`,
/// `"password": "..."`, `oauth_client_secret=...`, the SCRAM keys, and the password of a URI's
/// `user:password@`. Keywords are matched case-insensitively; when in doubt, more is removed rather than
/// less.
pub fn redact(text: &str) -> String {
    let mut out = redact_uri_userinfo(text);
    for word in secret_words() {
        out = redact_keyword(&out, word.as_bytes());
    }
    out
}

/// `scheme://user:SECRET@host` → `scheme://user:********@host`.
fn redact_uri_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let start = pos + 3;
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let token_end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(after.len());
        let token = &after[..token_end];
        let authority_end = token.find(['?', '#']).unwrap_or(token.len());
        let userinfo_end = token[..authority_end].rfind('@');
        match userinfo_end.and_then(|at| token[..at].find(':').map(|colon| (colon, at))) {
            Some((colon, at)) => {
                out.push_str(&token[..=colon]);
                out.push_str(REDACTED);
                out.push_str(&token[at..]);
            }
            None => out.push_str(token),
        }
        rest = &after[token_end..];
    }
    out.push_str(rest);
    out
}

/// `KEY=VALUE` in its conninfo, URI-query, environment and JSON spellings.
fn redact_keyword(text: &str, key: &[u8]) -> String {
    #[allow(non_snake_case)]
    let KEY = key;
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i + KEY.len() <= bytes.len() {
        if !bytes[i..i + KEY.len()].eq_ignore_ascii_case(KEY) {
            i += 1;
            continue;
        }
        let in_query = i > 0 && matches!(bytes[i - 1], b'?' | b'&');
        let mut j = i + KEY.len();
        let json = bytes.get(j) == Some(&b'"');
        if json {
            j += 1;
        }
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        let separator = bytes.get(j);
        if !(separator == Some(&b'=') || (json && separator == Some(&b':'))) {
            i += KEY.len();
            continue;
        }
        j += 1;
        // libpq skips blanks after '=', so "password= x" has the value "x".
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let (value_start, value_end) = match bytes.get(j) {
            Some(&q @ (b'\'' | b'"')) => {
                let mut k = j + 1;
                while k < bytes.len() && bytes[k] != q {
                    k += if bytes[k] == b'\\' { 2 } else { 1 };
                }
                (j + 1, k.min(bytes.len()))
            }
            _ => {
                let mut k = j;
                while k < bytes.len() {
                    match bytes[k] {
                        b'\\' => k += 2,
                        b if b.is_ascii_whitespace() => break,
                        b'&' | b'#' if in_query => break,
                        _ => k += 1,
                    }
                }
                (j, k.min(bytes.len()))
            }
        };
        out.push_str(&text[copied..value_start]);
        if value_end > value_start {
            out.push_str(REDACTED);
        }
        copied = value_end;
        i = value_end.max(i + KEY.len());
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conninfo_values() {
        assert_eq!(
            redact("host=db password=s3cret user=me"),
            "host=db password=******** user=me"
        );
        assert_eq!(
            redact("password = 'a b\\' c' dbname=x"),
            "password = '********' dbname=x"
        );
        assert_eq!(redact("password= spaced"), "password= ********");
        assert_eq!(redact("sslpassword=k3y"), "sslpassword=********");
        assert_eq!(redact("PGPASSWORD=abc psql"), "PGPASSWORD=******** psql");
        assert_eq!(redact("password=a\\ b host=h"), "password=******** host=h");
        assert_eq!(redact("end password="), "end password=");
        assert_eq!(
            redact("oauth_client_secret=abc oauth_client_id=me"),
            "oauth_client_secret=******** oauth_client_id=me"
        );
        assert_eq!(
            redact("SCRAM_CLIENT_KEY='k1' scram_server_key=k2"),
            "SCRAM_CLIENT_KEY='********' scram_server_key=********"
        );
    }

    #[test]
    fn uri_userinfo_and_query() {
        assert_eq!(
            redact("could not connect to postgres://u:SECRET@h:5432/db now"),
            "could not connect to postgres://u:********@h:5432/db now"
        );
        assert_eq!(
            redact("postgresql://u:p%40ss@h1,h2/db?password=x&sslmode=require"),
            "postgresql://u:********@h1,h2/db?password=********&sslmode=require"
        );
        assert_eq!(
            redact("'postgres://u:pw@h/db'"),
            "'postgres://u:********@h/db'"
        );
        // A raw '@' in the password: everything up to the last '@' goes.
        assert_eq!(
            redact("postgres://u:p@ss@h/db"),
            "postgres://u:********@h/db"
        );
        // A raw '/' in the password.
        assert_eq!(
            redact("postgres://u:pa/ss@h/db"),
            "postgres://u:********@h/db"
        );
    }

    #[test]
    fn leaves_innocent_text_alone() {
        for s in [
            "postgres://u@h:5432/db",
            "postgres://h:5432/db?application_name=x",
            "FATAL: password authentication failed for user \"me\"",
            "no password supplied",
            "",
            "password",
            "passwords=",
        ] {
            assert_eq!(redact(s), s);
        }
    }

    #[test]
    fn json_and_many_occurrences() {
        assert_eq!(
            redact(r#"{"user":"u","password": "x\"y","host":"h"}"#),
            r#"{"user":"u","password": "********","host":"h"}"#
        );
        assert_eq!(
            redact("password=a password=b postgres://x:c@h postgres://y:d@h"),
            "password=******** password=******** postgres://x:********@h postgres://y:********@h"
        );
    }

    #[test]
    fn unicode_is_kept_intact() {
        assert_eq!(
            redact("hôte=é password=pässwörd ünd"),
            "hôte=é password=******** ünd"
        );
        assert_eq!(redact("password='ünterminated"), "password='********");
    }
}
