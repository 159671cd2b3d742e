//! Helpers for input values.

use async_graphql::{MaybeUndefined, Value, Variables};

/// An optional, clearable input: omitted → `None` (keep), `null` → `Some(None)` (clear),
/// a value → `Some(Some(v))` (set).
pub fn clearable<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// Whether a request carries the NUL character (U+0000) in a string: raw in the document, as the
/// `\u0000` escape of a string literal, or in a variable. PostgreSQL cannot store it in text, so
/// such a request is refused up front (BAD_USER_INPUT) on every database alike. A `\u0000`
/// written in a comment or a block string is refused too: a client has no reason to send one.
pub fn carries_nul(query: &str, variables: &Variables) -> bool {
    fn in_value(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::List(items) => items.iter().any(in_value),
            Value::Object(fields) => fields
                .iter()
                .any(|(name, v)| name.contains('\0') || in_value(v)),
            _ => false,
        }
    }
    query.contains('\0') || query.contains("\\u0000") || variables.iter().any(|(_, v)| in_value(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_raw_escaped_and_in_variables() {
        let none = Variables::default();
        assert!(!carries_nul(r#"{ a(s: "x\u0041") }"#, &none));
        assert!(carries_nul("{ a(s: \"x\0\") }", &none));
        assert!(carries_nul(r#"{ a(s: "x\u0000") }"#, &none));
        let nested =
            Variables::from_json(serde_json::json!({ "input": { "names": ["ok", "a\u{0}"] } }));
        assert!(carries_nul("query($input: I) { a }", &nested));
        let clean = Variables::from_json(serde_json::json!({ "input": { "names": ["ok"] } }));
        assert!(!carries_nul("query($input: I) { a }", &clean));
    }
}
