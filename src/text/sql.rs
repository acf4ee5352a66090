//! SQL text as untrusted data: string literals and comments masked (the audit log's masker), and a
//! statement's fingerprint (literals, numbers and whitespace folded, `IN (…)` lists collapsed, hashed).

/// SQL text with every string literal (`'...'`, `E'...'`, `$tag$...$tag$`) replaced by `'…'` and every
/// comment by `--…` or `/*…*/`. Whether a backslash escapes a quote depends on the session's
/// standard_conforming_strings, which pgconn cannot know: the text is read both ways and whatever either
/// reading takes for a literal is masked, so a secret is hidden under both.
pub fn mask_literals(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let a = literal_mask(&chars, false);
    let b = literal_mask(&chars, true);
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < chars.len() {
        if !(a[i] || b[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (a[i] || b[i]) {
            i += 1;
        }
        out.push_str(match (chars[start], chars.get(start + 1)) {
            ('-', Some('-')) => "--…",
            ('/', Some('*')) => "/*…*/",
            _ => "'…'",
        });
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Which characters belong to string literals or comments (delimiters included). `backslash_escapes`:
/// read a backslash as an escape in every `'...'` (standard_conforming_strings off), else only in `E'...'`.
fn literal_mask(chars: &[char], backslash_escapes: bool) -> Vec<bool> {
    let n = chars.len();
    let mut mask = vec![false; n];
    let mut i = 0;
    while i < n {
        let start = i;
        match chars[i] {
            '\'' => {
                let e_string = i > 0
                    && matches!(chars[i - 1], 'e' | 'E')
                    && (i < 2 || !is_ident(chars[i - 2]));
                let escapes = backslash_escapes || e_string;
                i += 1;
                while i < n {
                    match chars[i] {
                        '\\' if escapes => i += 2,
                        '\'' if chars.get(i + 1) == Some(&'\'') => i += 2,
                        '\'' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            '$' if i == 0 || !is_ident(chars[i - 1]) => {
                let mut j = i + 1;
                while j < n && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let tag_ok = j < n
                    && chars[j] == '$'
                    && !chars.get(i + 1).is_some_and(|c| c.is_ascii_digit());
                if !tag_ok {
                    i += 1;
                    continue;
                }
                let tag = &chars[i..=j];
                let mut k = j + 1;
                i = n;
                while k + tag.len() <= n {
                    if &chars[k..k + tag.len()] == tag {
                        i = k + tag.len();
                        break;
                    }
                    k += 1;
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < n && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                // Block comments nest in PostgreSQL.
                let mut depth = 1;
                i += 2;
                while i < n && depth > 0 {
                    match (chars[i], chars.get(i + 1)) {
                        ('/', Some('*')) => {
                            depth += 1;
                            i += 2;
                        }
                        ('*', Some('/')) => {
                            depth -= 1;
                            i += 2;
                        }
                        _ => i += 1,
                    }
                }
                i = i.min(n);
            }
            '"' => {
                // A quoted identifier: a quote inside it starts no literal.
                i += 1;
                while i < n && chars[i] != '"' {
                    i += 1;
                }
                i = (i + 1).min(n);
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        }
        let end = i.min(n);
        for m in &mut mask[start..end] {
            *m = true;
        }
        i = end;
    }
    mask
}

/// A statement's text as one fingerprint sees it: literals and comments masked ([`mask_literals`]),
/// numbers as `?`, whitespace folded to one space, and an `IN (…)` list of nothing but values collapsed,
/// so that `WHERE id = 7` and `where  id = 8` differ only where the statement's shape differs.
pub fn normalise(sql: &str) -> String {
    let masked = mask_literals(sql);
    let chars: Vec<char> = masked.chars().collect();
    let mut out = String::with_capacity(masked.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            continue;
        }
        if c == '"' {
            // A quoted identifier, as written (digits in it are part of the name).
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
            continue;
        }
        let after_ident =
            i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '$');
        let starts_number =
            c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit));
        if starts_number && !after_ident {
            i += 1;
            while i < chars.len() {
                let d = chars[i];
                let exponent_sign = matches!(d, '+' | '-') && matches!(chars[i - 1], 'e' | 'E');
                if d.is_ascii_alphanumeric() || d == '.' || d == '_' || exponent_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            out.push('?');
            continue;
        }
        if c.is_alphanumeric() || c == '_' || c == '$' {
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    let out = out.trim_end().to_string();
    collapse_in_lists(&out)
}

/// `in (?, ?, '…')` → `in (…)`: a list of values only (placeholders, masked literals, numbers).
fn collapse_in_lists(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = find_in_keyword(rest) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        // `from` starts with "in" (any case), then optional space and "(".
        let after_kw = &from[2..];
        let open = after_kw.len() - after_kw.trim_start().len();
        let body_start = 2 + open + 1;
        match from[body_start..].find(')') {
            Some(close)
                if {
                    let body = &from[body_start..body_start + close];
                    !body.trim().is_empty()
                        && body.split(',').all(|v| {
                            let v = v.trim();
                            v == "?"
                                || v == "'…'"
                                || (v.starts_with('$')
                                    && v[1..].chars().all(|c| c.is_ascii_digit())
                                    && v.len() > 1)
                        })
                } =>
            {
                out.push_str(&from[..2]);
                out.push_str(" (…)");
                rest = &from[body_start + close + 1..];
            }
            _ => {
                out.push_str(&from[..2]);
                rest = &from[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where the keyword `in` followed by `(` starts (a whole word, any case).
fn find_in_keyword(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 2 <= b.len() {
        if b[i..i + 2].eq_ignore_ascii_case(b"in")
            && (i == 0
                || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] >= 0x80))
        {
            let rest = s[i + 2..].trim_start();
            if rest.starts_with('(') {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// The fingerprint of a normalised text: FNV-1a (64 bits) of its UTF-8 bytes, as 16 hexadecimal digits.
/// The same on every run and machine (no seed, no platform-dependent width), unlike std's `DefaultHasher`.
pub fn text_fingerprint(normalised: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in normalised.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The fingerprint of a server-computed `query_id` (a signed 64-bit number), as 16 hexadecimal digits.
pub fn query_id_fingerprint(query_id: i64) -> String {
    format!("{:016x}", query_id as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_numbers_whitespace_and_in_lists_fold() {
        assert_eq!(
            normalise("BEGIN; SELECT * FROM entity\n  WHERE id = 17 AND name = 'x'"),
            "BEGIN; SELECT * FROM entity WHERE id = ? AND name = '…'"
        );
        assert_eq!(
            normalise("select 1 from t where id in (1, 2,3) and k IN ('a','b') -- who\n"),
            "select ? from t where id in (…) and k IN (…) --…"
        );
        assert_eq!(
            normalise("select a from t where x in (select y from u)"),
            "select a from t where x in (select y from u)"
        );
        assert_eq!(
            normalise("select t1.c2, \"x9\" from t1"),
            "select t1.c2, \"x9\" from t1"
        );
        assert_eq!(normalise("select 1.5e-3, .5, 0x1F"), "select ?, ?, ?");
        assert_eq!(
            normalise("select $1, $2 where a in ($1, $2)"),
            "select $1, $2 where a in (…)"
        );
        assert_eq!(normalise("SELECT 'pw'"), "SELECT '…'");
        assert_eq!(normalise("  COMMIT  "), "COMMIT");
    }

    #[test]
    fn fingerprints_are_stable() {
        // FNV-1a's published test vectors: the empty string and "a".
        assert_eq!(text_fingerprint(""), "cbf29ce484222325");
        assert_eq!(text_fingerprint("a"), "af63dc4c8601ec8c");
        assert_eq!(
            text_fingerprint(&normalise("select * from t where id = 1")),
            text_fingerprint(&normalise("select  *  from t where id = 22"))
        );
        assert_eq!(query_id_fingerprint(-1), "ffffffffffffffff");
        assert_eq!(query_id_fingerprint(26), "000000000000001a");
    }
}
