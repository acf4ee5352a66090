//! Text from the server or from clients (names, queries, application_name, host names, error messages) is
//! untrusted on a terminal: these functions make it safe to show. A leaf: it imports nothing of the crate,
//! and render, term and the error messages of db all use it.

pub mod sql;

use std::borrow::Cow;

/// Text from the server or from clients (names, queries, application_name, host names, error messages)
/// made safe for a terminal: control characters (C0, DEL, C1) and the invisible characters that reorder or
/// hide text (bidirectional overrides, zero-width marks) are shown escaped (`\x1b`, `\n`, `\u{202e}`), so
/// that no session can erase, recolour or fake what an operator reads and confirms. JSON needs none of
/// this: serde escapes control characters itself.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && needs_escape(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`clean`] for text that may span lines on purpose (error messages, generated files): each line is
/// cleaned, the line breaks stay.
pub fn clean_lines(text: &str) -> String {
    text.split('\n').map(clean).collect::<Vec<_>>().join("\n")
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `text` with control characters escaped except `\n`, `\t` and SGR colour sequences.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let sgr_len = |i: usize| -> Option<usize> {
        if bytes.get(i + 1) != Some(&b'[') {
            return None;
        }
        let mut j = i + 2;
        while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b';') {
            j += 1;
        }
        (bytes.get(j) == Some(&b'm')).then_some(j + 1 - i)
    };
    let unsafe_at = |i: usize, c: char| -> bool {
        match c {
            '\n' | '\t' => false,
            '\x1b' => sgr_len(i).is_none(),
            c => needs_escape(c),
        }
    };
    if !text.char_indices().any(|(i, c)| unsafe_at(i, c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = 0;
    for (i, c) in text.char_indices() {
        if i < rest {
            continue;
        }
        if c == '\x1b' {
            if let Some(n) = sgr_len(i) {
                out.push_str(&text[i..i + n]);
                rest = i + n;
                continue;
            }
        }
        if unsafe_at(i, c) {
            let mut buf = [0u8; 4];
            out.push_str(&clean(c.encode_utf8(&mut buf)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The first line of a query, shortened to `max` characters.
pub fn excerpt(query: &str, max: usize) -> String {
    let line = query
        .trim_start()
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let multi = query
        .trim()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
        > 1;
    let mut s: String = line.chars().take(max).collect();
    if line.chars().count() > max || multi {
        if s.chars().count() >= max {
            s = s.chars().take(max.saturating_sub(1)).collect();
        }
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped_for_the_terminal() {
        assert_eq!(clean("leaky-worker"), "leaky-worker");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(clean("x\ny\rz\t"), "x\\ny\\rz\\t");
        assert_eq!(clean("\u{7f}\u{9b}"), "\\x7f\\u{009b}");
        assert_eq!(clean("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(clean("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(clean("hôte ünd 東京"), "hôte ünd 東京");
        assert_eq!(clean_lines("one\ntwo\x1b"), "one\ntwo\\x1b");
        // The safety net keeps line breaks and colour, and nothing else.
        assert_eq!(
            terminal_safe("a\n\x1b[31mred\x1b[0m\tb"),
            "a\n\x1b[31mred\x1b[0m\tb"
        );
        assert_eq!(
            terminal_safe("x\x1b[2Jy\rz\x1b]0;t\x07"),
            "x\\x1b[2Jy\\rz\\x1b]0;t\\x07"
        );
    }

    #[test]
    fn excerpts_take_the_first_line() {
        assert_eq!(excerpt("SELECT 1", 20), "SELECT 1");
        assert_eq!(excerpt("\n  SELECT *\n  FROM t", 20), "SELECT *…");
        assert_eq!(excerpt("SELECT abcdefghij", 8), "SELECT …");
    }
}
