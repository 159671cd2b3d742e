//! The depth of an operation, fragments expanded: a field counts one level plus its deepest
//! child. Each fragment's depth is computed once (memoized, so fragments spread many times cost
//! nothing more) and a fragment cycle counts as no depth (validation reports the cycle).
//! Root fields under introspection (`__schema`, `__type`) are measured apart, for their own bound.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use std::collections::HashMap;

/// The deepest nesting of an operation's ordinary and introspection root fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depths {
    pub fields: usize,
    pub introspection: usize,
}

/// Measures the operation whose root selection is `set`.
pub fn of_operation(document: &ExecutableDocument, set: &SelectionSet) -> Depths {
    let mut walk = Walk {
        document,
        fragments: HashMap::new(),
    };
    let mut depths = Depths::default();
    walk.roots(set, &mut depths, 0);
    depths
}

struct Walk<'d> {
    document: &'d ExecutableDocument,
    /// Fragment name to its depth; `None` while it is being measured (a cycle).
    fragments: HashMap<&'d str, Option<usize>>,
}

impl<'d> Walk<'d> {
    /// Root fields, through fragments at the root (bounded nesting of root fragments).
    fn roots(&mut self, set: &'d SelectionSet, depths: &mut Depths, nesting: usize) {
        if nesting > 16 {
            return;
        }
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let depth = 1 + self.set(&field.node.selection_set.node);
                    let slot = if name == "__schema" || name == "__type" {
                        &mut depths.introspection
                    } else {
                        &mut depths.fields
                    };
                    *slot = (*slot).max(depth);
                }
                Selection::InlineFragment(inline) => {
                    self.roots(&inline.node.selection_set.node, depths, nesting + 1);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if let Some(fragment) = self.document.fragments.get(name) {
                        self.roots(&fragment.node.selection_set.node, depths, nesting + 1);
                    }
                }
            }
        }
    }

    /// The depth of a selection set below a field.
    fn set(&mut self, set: &'d SelectionSet) -> usize {
        let mut deepest = 0;
        for selection in &set.items {
            let depth = match &selection.node {
                Selection::Field(field) => 1 + self.set(&field.node.selection_set.node),
                Selection::InlineFragment(inline) => self.set(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node),
            };
            deepest = deepest.max(depth);
        }
        deepest
    }

    fn fragment(&mut self, name: &'d str) -> usize {
        match self.fragments.get(name) {
            Some(Some(depth)) => return *depth,
            Some(None) => return 0,
            None => {}
        }
        let Some((key, fragment)) = self.document.fragments.get_key_value(name) else {
            return 0;
        };
        let key = key.as_str();
        self.fragments.insert(key, None);
        let depth = self.set(&fragment.node.selection_set.node);
        self.fragments.insert(key, Some(depth));
        depth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depths(query: &str) -> Depths {
        let document = async_graphql::parser::parse_query(query).unwrap();
        let (_, operation) = document.operations.iter().next().unwrap();
        of_operation(&document, &operation.node.selection_set.node)
    }

    #[test]
    fn counts_fields_through_fragments_and_apart_for_introspection() {
        assert_eq!(depths("{ me { id } }").fields, 2);
        assert_eq!(
            depths("{ a { ...F } } fragment F on T { b { c } }").fields,
            3
        );
        assert_eq!(
            depths("{ ... on Query { a { ... on A { b } } } }").fields,
            2
        );
        let both = depths(
            "{ a __schema { types { ...R } } } fragment R on __Type { ofType { ofType { name } } }",
        );
        assert_eq!(
            both,
            Depths {
                fields: 1,
                introspection: 5
            }
        );
        // A cycle is no depth (validation refuses it); a fragment spread many times is measured once.
        assert_eq!(
            depths("{ a { ...F } } fragment F on T { b { ...F } }").fields,
            2
        );
        let mut wide = String::from("{ a { ...F0 } }");
        for i in 0..40 {
            wide.push_str(&format!(
                " fragment F{i} on T {{ x: f {{ ...F{} }} y: f {{ ...F{} }} }}",
                i + 1,
                i + 1
            ));
        }
        wide.push_str(" fragment F40 on T { z }");
        assert_eq!(depths(&wide).fields, 42);
    }
}
