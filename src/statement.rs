//! Statements with named parameter slots. SQL files write `$name` (lower-case letters, digits and `_`);
//! [`Statement::new`] numbers the distinct names in the order they first appear (`$1`, `$2`, ...) and
//! remembers them, and [`Statement::bind`] puts the values a caller set by name into that order. So the
//! fragments a statement is assembled from (the shared filter, the protection rule, ...) and the Rust that
//! fills them never depend on positions, and a slot without a value (or a value without a slot) is an
//! error, not a silently shifted parameter.

use postgres::types::{ToSql, Type};

/// One value of a named slot, with its type.
pub type Value<'a> = (&'a (dyn ToSql + Sync), Type);

/// An assembled statement: its text with positional `$N`, and the name of each `$N`.
#[derive(Debug, Clone)]
pub struct Statement {
    text: String,
    slots: Vec<String>,
}

/// Values by slot name.
#[derive(Default)]
pub struct Params<'a> {
    values: Vec<(&'static str, Value<'a>)>,
}

impl<'a> Params<'a> {
    pub fn new() -> Params<'a> {
        Params::default()
    }

    /// Set slot `name` (a later value for the same name replaces the earlier one).
    pub fn set(
        &mut self,
        name: &'static str,
        value: &'a (dyn ToSql + Sync),
        ty: Type,
    ) -> &mut Self {
        self.values.retain(|(n, _)| *n != name);
        self.values.push((name, (value, ty)));
        self
    }
}

impl Statement {
    /// Number the `$name` slots of `template`. Text in string literals, quoted identifiers and comments
    /// is left as it is. A positional `$1` in a template is a mistake (it would bypass the names):
    /// this panics, and the unit tests assemble every statement.
    pub fn new(template: &str) -> Statement {
        let mut text = String::with_capacity(template.len());
        let mut slots: Vec<String> = Vec::new();
        let mut last = 0;
        for (at, word) in dollar_words(template) {
            assert!(
                !word.starts_with(|c: char| c.is_ascii_digit()),
                "a positional parameter in a named statement: ${word}"
            );
            let n = match slots.iter().position(|s| s == word) {
                Some(k) => k + 1,
                None => {
                    slots.push(word.to_string());
                    slots.len()
                }
            };
            text.push_str(&template[last..at]);
            text.push_str(&format!("${n}"));
            last = at + 1 + word.len();
        }
        text.push_str(&template[last..]);
        Statement { text, slots }
    }

    /// The text to send, with positional parameters.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The slot names, `$1` first.
    pub fn slots(&self) -> &[String] {
        &self.slots
    }

    /// The values in `$N` order. Every slot must have a value and every value a slot.
    pub fn bind<'a>(&self, params: &Params<'a>) -> Result<Vec<Value<'a>>, String> {
        let mut out = Vec::with_capacity(self.slots.len());
        for s in &self.slots {
            match params.values.iter().find(|(n, _)| n == s) {
                Some((_, v)) => out.push(v.clone()),
                None => return Err(format!("the statement's ${s} has no value")),
            }
        }
        if let Some((n, _)) = params
            .values
            .iter()
            .find(|(n, _)| !self.slots.iter().any(|s| s == n))
        {
            return Err(format!(
                "a value for ${n}, which the statement does not have"
            ));
        }
        Ok(out)
    }
}

/// Check, without a server, that `params` fill `stmt` exactly: every slot has a value, every value a slot,
/// and the highest `$N` in the text is the number of values sent. The unit tests of every module that
/// assembles a statement call this with the values its code sets.
pub fn assert_fills(stmt: &Statement, params: &Params) {
    let values = stmt
        .bind(params)
        .unwrap_or_else(|e| panic!("{e} in\n{}", stmt.text()));
    assert_eq!(
        highest_placeholder(stmt.text()),
        values.len(),
        "the highest $N is not the number of values sent, in\n{}",
        stmt.text()
    );
}

/// The highest `$N` of a statement's text (outside strings and comments): what the server will expect
/// as the number of parameters.
pub fn highest_placeholder(text: &str) -> usize {
    dollar_words(text)
        .filter_map(|(_, w)| w.parse::<usize>().ok())
        .max()
        .unwrap_or(0)
}

/// Each `$word` outside string literals, quoted identifiers and comments: its position and the word
/// (lower-case letters, digits and `_`; empty words are left out).
pub fn dollar_words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'$' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len()
                    && (b[j].is_ascii_lowercase() || b[j] == b'_' || b[j].is_ascii_digit())
                {
                    j += 1;
                }
                if j > start {
                    out.push((i, &text[start..j]));
                }
                i = j.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_positions_in_order_of_first_use() {
        let s = Statement::new(
            "SELECT $b, $a::int, $b -- not $c\n  , '$d' AS \"$e\" /* $f */ WHERE x = ANY ($a_1)",
        );
        assert_eq!(
            s.text(),
            "SELECT $1, $2::int, $1 -- not $c\n  , '$d' AS \"$e\" /* $f */ WHERE x = ANY ($3)"
        );
        assert_eq!(s.slots(), ["b", "a", "a_1"]);
        assert_eq!(highest_placeholder(s.text()), 3);
        let (x, y, z) = (1i32, true, vec![1i32]);
        let mut p = Params::new();
        p.set("a", &x, Type::INT4).set("b", &y, Type::BOOL);
        assert!(s.bind(&p).unwrap_err().contains("$a_1"));
        p.set("a_1", &z, Type::INT4_ARRAY);
        assert_eq!(s.bind(&p).unwrap().len(), 3);
        p.set("extra", &x, Type::INT4);
        assert!(s.bind(&p).unwrap_err().contains("$extra"));
    }

    #[test]
    #[should_panic(expected = "positional")]
    fn positional_parameters_are_refused() {
        Statement::new("SELECT $1");
    }
}
