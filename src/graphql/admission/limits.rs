//! Document limits checked before and right after parsing: tokens (counted by a small lexer
//! before the parser runs, so an oversized document costs one linear scan), aliases in the whole
//! document, root fields per operation, and depth. Introspection (`__schema`, `__type`) has its
//! own finite depth bound, deep enough for the standard introspection query of graphql-js, since
//! it reads only the schema and is harmless to those allowed to run it; every other field keeps
//! the depth limit. A request carrying the NUL character in a string is refused here too (see
//! [`super::input::carries_nul`]). Complexity, recursion and directives are limited by async-graphql itself (see
//! `schema.rs`); body size and batch length by the HTTP layer. Every refusal is BAD_USER_INPUT
//! with a message naming the limit.

use crate::error::ApiError;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};
use std::sync::Arc;

/// The document limits.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    /// Lexical tokens in the query text.
    pub tokens: usize,
    /// Aliased fields in the whole document.
    pub aliases: usize,
    /// Fields at the root of one operation (fragments at the root count their fields).
    pub root_fields: usize,
    /// Nesting of fields (fragments expanded), outside introspection.
    pub depth: usize,
}

/// Nesting allowed under `__schema` and `__type`: the standard introspection query nests about
/// 13 levels (its type-reference fragment follows `ofType` eight times); the bound is finite.
pub const INTROSPECTION_DEPTH: usize = 32;

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            tokens: 15_000,
            aliases: 30,
            root_fields: 20,
            depth: 12,
        }
    }
}

impl DocumentLimits {
    /// Whether `text` stays within the token limit.
    pub fn within_tokens(&self, text: &str) -> bool {
        count_tokens(text, self.tokens).is_none()
    }
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if super::input::carries_nul(query, variables) {
            return Err(refuse("text may not contain the NUL character (U+0000)"));
        }
        if let Some(counted) = count_tokens(query, self.tokens) {
            return Err(refuse(format!(
                "the document has more than {} tokens ({counted} counted before stopping)",
                self.tokens
            )));
        }
        let document = next.run(ctx, query, variables).await?;
        let aliases = count_aliases(&document);
        if aliases > self.aliases {
            return Err(refuse(format!(
                "the document has {aliases} aliases; at most {} are allowed",
                self.aliases
            )));
        }
        for (_, operation) in document.operations.iter() {
            let set = &operation.node.selection_set.node;
            let roots = count_root_fields(&document, set, 0);
            if roots > self.root_fields {
                return Err(refuse(format!(
                    "an operation selects {roots} root fields; at most {} are allowed",
                    self.root_fields
                )));
            }
            let depths = super::depth::of_operation(&document, set);
            if depths.fields > self.depth {
                return Err(refuse(format!(
                    "the query nests {} levels deep; at most {} are allowed",
                    depths.fields, self.depth
                )));
            }
            if depths.introspection > INTROSPECTION_DEPTH {
                return Err(refuse(format!(
                    "the introspection query nests {} levels deep; at most {INTROSPECTION_DEPTH} are allowed",
                    depths.introspection
                )));
            }
        }
        Ok(document)
    }
}

/// A BAD_USER_INPUT error for a refused document.
pub(crate) fn refuse(message: impl Into<String>) -> ServerError {
    ApiError::bad_input(message).into_server_error()
}

/// Counts GraphQL tokens (names, numbers, strings, punctuators; not whitespace, commas or
/// comments). Returns the count reached when it exceeds `max`, `None` when within it.
fn count_tokens(text: &str, max: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut count = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            // A byte order mark.
            0xEF if bytes.get(i..i + 3) == Some(&[0xEF, 0xBB, 0xBF]) => i += 3,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' => {
                count += 1;
                if bytes.get(i..i + 3) == Some(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && bytes.get(i..i + 3) != Some(b"\"\"\"") {
                        i += if bytes.get(i..i + 4) == Some(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if bytes.get(i..i + 3) == Some(b"...") => {
                count += 1;
                i += 3;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => {
                count += 1;
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'+' | b'-')
                {
                    i += 1;
                }
            }
            // Punctuators, and any other byte (the parser rejects those anyway).
            _ => {
                count += 1;
                i += 1;
            }
        }
        if count > max {
            return Some(count);
        }
    }
    None
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    let in_operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| aliases_in(&op.node.selection_set.node))
        .sum();
    let in_fragments: usize = document
        .fragments
        .values()
        .map(|f| aliases_in(&f.node.selection_set.node))
        .sum();
    in_operations + in_fragments
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Fields at the root of an operation, following fragments (bounded by `depth`, since a cyclic
/// fragment is refused by validation later, not by the parser).
fn count_root_fields(document: &ExecutableDocument, set: &SelectionSet, depth: usize) -> usize {
    if depth > 8 {
        return 0;
    }
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(fragment) => {
                count_root_fields(document, &fragment.node.selection_set.node, depth + 1)
            }
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .map_or(0, |f| {
                    count_root_fields(document, &f.node.selection_set.node, depth + 1)
                }),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> usize {
        // Count exactly by asking for a limit of 0 and reading what was reached at the end.
        let mut max = 0;
        while count_tokens(text, max).is_some() {
            max += 1;
        }
        max
    }

    #[test]
    fn counts_tokens_like_the_graphql_lexer() {
        assert_eq!(tokens("{ me { id } }"), 6);
        assert_eq!(tokens("query Q($a: Int = -1.5e3) { f(a: $a) }"), 19);
        assert_eq!(tokens("# a comment\n{ a, b, c }"), 5);
        assert_eq!(tokens(r#"{ f(s: "a \" b", t: """x "" y""") }"#), 11);
        assert_eq!(tokens("{ ...F } fragment F on T { a }"), 11);
        assert!(count_tokens(&"{ a ".repeat(10_000), 15_000).is_some());
        assert!(count_tokens("{ a }", 15_000).is_none());
    }

    #[test]
    fn counts_aliases_and_root_fields_through_fragments() {
        let document = async_graphql::parser::parse_query(
            "{ a: x b: y ...F ... on Query { c: z w } } fragment F on Query { d: v u }",
        )
        .unwrap();
        assert_eq!(count_aliases(&document), 4);
        let (_, operation) = document.operations.iter().next().unwrap();
        assert_eq!(
            count_root_fields(&document, &operation.node.selection_set.node, 0),
            6
        );
    }
}
