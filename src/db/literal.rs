//! Parameters as SQL literals, for the emergency route only: a WAL sender connection refuses the
//! extended protocol, so its statements cannot bind parameters. The same statements are sent there with
//! each `$N` replaced by its value written as a typed literal (`'42'::int4`, `'{1,2}'::int4[]`,
//! `E'a\\b'::text`, `NULL::bool`). This is the one documented exception to "bind parameters always",
//! and this module is the one place that writes values into SQL text.
//!
//! Values are read back from their binary encoding (the same `ToSql` the normal route sends), so a
//! literal means exactly what the bound parameter means. Strings are quoted as libpq's
//! `PQescapeLiteral` does: quotes doubled, and with a backslash in the value the `E''` form with
//! backslashes doubled, which reads the same whatever `standard_conforming_strings` is.

use anyhow::{anyhow, bail, Result};
use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, Kind, ToSql, Type};
use postgres_protocol::types as wire_types;

use crate::statement::{dollar_words, Value};

/// `text` as a string literal.
pub fn quote(text: &str) -> String {
    let doubled = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", doubled.replace('\\', "\\\\"))
    } else {
        format!("'{doubled}'")
    }
}

/// The SQL name of a type pgconn binds.
fn type_name(ty: &Type) -> Result<&'static str> {
    Ok(match *ty {
        Type::BOOL => "bool",
        Type::INT2 => "int2",
        Type::INT4 => "int4",
        Type::INT8 => "int8",
        Type::FLOAT8 => "float8",
        Type::TEXT => "text",
        Type::BOOL_ARRAY => "bool[]",
        Type::INT4_ARRAY => "int4[]",
        Type::INT8_ARRAY => "int8[]",
        Type::TEXT_ARRAY => "text[]",
        _ => bail!("no literal form for parameters of type {ty}"),
    })
}

/// The text of one scalar value of type `ty` from its binary encoding.
fn scalar_text(ty: &Type, raw: &[u8]) -> Result<String> {
    let text = match *ty {
        Type::BOOL => wire_types::bool_from_sql(raw).map(|b| b.to_string()),
        Type::INT2 => wire_types::int2_from_sql(raw).map(|v| v.to_string()),
        Type::INT4 => wire_types::int4_from_sql(raw).map(|v| v.to_string()),
        Type::INT8 => wire_types::int8_from_sql(raw).map(|v| v.to_string()),
        Type::FLOAT8 => wire_types::float8_from_sql(raw).map(|v| match v {
            v if v.is_nan() => "NaN".to_string(),
            f64::INFINITY => "Infinity".to_string(),
            f64::NEG_INFINITY => "-Infinity".to_string(),
            // Rust writes the shortest text that reads back as the same double.
            v => v.to_string(),
        }),
        Type::TEXT => wire_types::text_from_sql(raw).map(str::to_string),
        _ => bail!("no literal form for parameters of type {ty}"),
    };
    text.map_err(|e| anyhow!("unreadable {ty} value: {e}"))
}

/// One value as a typed literal.
pub fn literal(value: &(dyn ToSql + Sync), ty: &Type) -> Result<String> {
    let name = type_name(ty)?;
    let mut buf = BytesMut::new();
    let is_null = value
        .to_sql_checked(ty, &mut buf)
        .map_err(|e| anyhow!("could not encode a {ty} value: {e}"))?;
    if let IsNull::Yes = is_null {
        return Ok(format!("NULL::{name}"));
    }
    let Kind::Array(element) = ty.kind() else {
        return Ok(format!("{}::{name}", quote(&scalar_text(ty, &buf)?)));
    };
    let array = wire_types::array_from_sql(&buf).map_err(|e| anyhow!("unreadable array: {e}"))?;
    let dimensions = array
        .dimensions()
        .count()
        .map_err(|e| anyhow!("unreadable array: {e}"))?;
    if dimensions > 1 {
        bail!("no literal form for arrays of {dimensions} dimensions");
    }
    let mut items = Vec::new();
    let mut values = array.values();
    while let Some(v) = values
        .next()
        .map_err(|e| anyhow!("unreadable array: {e}"))?
    {
        items.push(match v {
            None => "NULL".to_string(),
            Some(raw) => quote(&scalar_text(element, raw)?),
        });
    }
    if items.is_empty() {
        return Ok(format!("'{{}}'::{name}"));
    }
    Ok(format!("ARRAY[{}]::{name}", items.join(",")))
}

/// `sql` with each positional `$N` (outside strings, quoted identifiers and comments) replaced by the
/// literal of `params[N-1]`, in parentheses. Every parameter must be used and every `$N` have one.
pub fn inline(sql: &str, params: &[Value]) -> Result<String> {
    let literals = params
        .iter()
        .map(|(v, ty)| literal(*v, ty))
        .collect::<Result<Vec<_>>>()?;
    let mut used = vec![false; literals.len()];
    let mut out =
        String::with_capacity(sql.len() + literals.iter().map(String::len).sum::<usize>());
    let mut last = 0;
    for (at, word) in dollar_words(sql) {
        let n: usize = word
            .parse()
            .map_err(|_| anyhow!("a named slot ${word} left in a statement to send"))?;
        let lit = n
            .checked_sub(1)
            .and_then(|k| literals.get(k))
            .ok_or_else(|| anyhow!("${n} has no value ({} given)", literals.len()))?;
        used[n - 1] = true;
        out.push_str(&sql[last..at]);
        out.push('(');
        out.push_str(lit);
        out.push(')');
        last = at + 1 + word.len();
    }
    out.push_str(&sql[last..]);
    if let Some(k) = used.iter().position(|u| !u) {
        bail!("a value for ${}, which the statement does not have", k + 1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_as_libpq_does() {
        assert_eq!(quote("abc"), "'abc'");
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(quote(r"a\b'c"), r"E'a\\b''c'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn every_bound_type_has_its_literal() {
        let t = true;
        let n = -7i32;
        let big = 9_000_000_000i64;
        let f = 0.1f64;
        let s = "x'y\\z".to_string();
        let none: Option<i32> = None;
        let pids = vec![1i32, 22, 333];
        let empty: Vec<i32> = vec![];
        let names = vec![Some("a".to_string()), None, Some("b'c".to_string())];
        assert_eq!(literal(&t, &Type::BOOL).unwrap(), "'true'::bool");
        assert_eq!(literal(&n, &Type::INT4).unwrap(), "'-7'::int4");
        assert_eq!(literal(&big, &Type::INT8).unwrap(), "'9000000000'::int8");
        assert_eq!(literal(&f, &Type::FLOAT8).unwrap(), "'0.1'::float8");
        assert_eq!(literal(&f64::NAN, &Type::FLOAT8).unwrap(), "'NaN'::float8");
        assert_eq!(literal(&s, &Type::TEXT).unwrap(), r"E'x''y\\z'::text");
        assert_eq!(literal(&none, &Type::INT4).unwrap(), "NULL::int4");
        assert_eq!(
            literal(&pids, &Type::INT4_ARRAY).unwrap(),
            "ARRAY['1','22','333']::int4[]"
        );
        assert_eq!(literal(&empty, &Type::INT4_ARRAY).unwrap(), "'{}'::int4[]");
        assert_eq!(
            literal(&names, &Type::TEXT_ARRAY).unwrap(),
            "ARRAY['a',NULL,'b''c']::text[]"
        );
        assert!(literal(&t, &Type::JSON).is_err());
    }

    #[test]
    fn placeholders_outside_strings_and_comments_are_replaced() {
        let a = 5i32;
        let b = "$2".to_string();
        let params: Vec<Value> = vec![(&a, Type::INT4), (&b, Type::TEXT)];
        let sql = "SELECT $1 + $1, $2 -- $1\n, '$2' /* $2 */";
        assert_eq!(
            inline(sql, &params).unwrap(),
            "SELECT ('5'::int4) + ('5'::int4), ('$2'::text) -- $1\n, '$2' /* $2 */"
        );
        assert!(inline("SELECT $3", &params).is_err());
        assert!(inline("SELECT $1", &params)
            .unwrap_err()
            .to_string()
            .contains("$2"));
        assert!(inline("SELECT $x", &[]).is_err());
    }
}
