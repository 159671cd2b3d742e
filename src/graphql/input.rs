//! Helpers for input values.

use async_graphql::MaybeUndefined;

/// An optional, clearable input: omitted → `None` (keep), `null` → `Some(None)` (clear),
/// a value → `Some(Some(v))` (set).
pub fn clearable<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}
