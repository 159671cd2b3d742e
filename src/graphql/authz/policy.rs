//! The authorization policy, read from the exported SDL: for each `(type, field)`, the rule its
//! directive states. Interface fields get the strictest rule of their implementations, because
//! async-graphql resolves them through the interface and would skip the implementation's guard.

use crate::rbac::Permission;
use anyhow::{Context, bail};
use async_graphql::parser::types::{
    ConstDirective, FieldDefinition, TypeKind, TypeSystemDefinition,
};
use async_graphql::parser::{Positioned, parse_schema};
use async_graphql::{Name, Value as ConstValue};
use std::collections::{BTreeSet, HashMap};

/// What a field needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirement {
    /// Anyone, even with invalid credentials.
    pub public: bool,
    /// A signed-in principal.
    pub authenticated: bool,
    /// A platform operator.
    pub platform_admin: bool,
    /// Every one of these, in the selected workspace.
    pub permissions: BTreeSet<Permission>,
}

impl Requirement {
    /// The stricter combination of two requirements.
    fn merge(&mut self, other: &Requirement) {
        self.public &= other.public;
        self.authenticated |= other.authenticated;
        self.platform_admin |= other.platform_admin;
        self.permissions.extend(other.permissions.iter().copied());
    }

    /// Whether this states any rule at all.
    fn is_rule(&self) -> bool {
        self.public || self.authenticated || self.platform_admin || !self.permissions.is_empty()
    }
}

/// Which root a type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Query,
    Mutation,
    Subscription,
}

/// Rules by type and field.
#[derive(Debug, Default)]
pub struct Policy {
    rules: HashMap<String, HashMap<String, Requirement>>,
    roots: HashMap<String, Root>,
    root_fields: Vec<(String, String)>,
}

impl Policy {
    /// Reads the rules from an SDL document.
    pub fn from_sdl(sdl: &str) -> anyhow::Result<Self> {
        let doc = parse_schema(sdl).context("parsing the exported SDL")?;
        let mut policy = Policy::default();
        let mut root_names = [
            ("Query".to_owned(), Root::Query),
            ("Mutation".to_owned(), Root::Mutation),
            ("Subscription".to_owned(), Root::Subscription),
        ];
        let mut interfaces: HashMap<String, Vec<Positioned<FieldDefinition>>> = HashMap::new();
        let mut implementers: HashMap<String, Vec<String>> = HashMap::new();

        for def in &doc.definitions {
            match def {
                TypeSystemDefinition::Schema(schema) => {
                    let s = &schema.node;
                    for (slot, name) in [(0, &s.query), (1, &s.mutation), (2, &s.subscription)] {
                        if let Some(name) = name {
                            root_names[slot].0 = name.node.to_string();
                        }
                    }
                }
                TypeSystemDefinition::Type(ty) => {
                    let name = ty.node.name.node.to_string();
                    match &ty.node.kind {
                        TypeKind::Object(object) => {
                            let fields = policy.rules.entry(name.clone()).or_default();
                            for field in &object.fields {
                                let requirement = requirement_of(&field.node.directives)?;
                                fields.insert(field.node.name.node.to_string(), requirement);
                            }
                            for interface in &object.implements {
                                implementers
                                    .entry(interface.node.to_string())
                                    .or_default()
                                    .push(name.clone());
                            }
                        }
                        TypeKind::Interface(interface) => {
                            interfaces.insert(name, interface.fields.clone());
                        }
                        _ => {}
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }

        for (interface, fields) in &interfaces {
            let mut merged = HashMap::new();
            for field in fields {
                let field_name = field.node.name.node.to_string();
                let mut requirement = requirement_of(&field.node.directives)?;
                let implemented = implementers
                    .get(interface)
                    .into_iter()
                    .flatten()
                    .filter_map(|imp| policy.rules.get(imp).and_then(|f| f.get(&field_name)))
                    .filter(|r| r.is_rule());
                for rule in implemented {
                    if requirement.is_rule() {
                        requirement.merge(rule);
                    } else {
                        requirement = rule.clone();
                    }
                }
                merged.insert(field_name, requirement);
            }
            policy.rules.insert(interface.clone(), merged);
        }

        for (name, root) in root_names {
            if let Some(fields) = policy.rules.get(&name) {
                let mut names: Vec<_> = fields.keys().cloned().collect();
                names.sort();
                policy
                    .root_fields
                    .extend(names.into_iter().map(|f| (name.clone(), f)));
            }
            policy.roots.insert(name, root);
        }
        Ok(policy)
    }

    /// Which root `type_name` is, if any.
    pub fn root(&self, type_name: &str) -> Option<Root> {
        self.roots.get(type_name).copied()
    }

    /// The rule of a field, if it states one.
    pub fn requirement(&self, type_name: &str, field: &str) -> Option<&Requirement> {
        self.rules
            .get(type_name)
            .and_then(|fields| fields.get(field))
            .filter(|r| r.is_rule())
    }

    /// Every root field, as `(type, field)`.
    pub fn root_fields(&self) -> &[(String, String)] {
        &self.root_fields
    }

    /// Root fields that state no rule: they are denied, and a test keeps this list empty.
    pub fn unguarded_root_fields(&self) -> Vec<String> {
        self.root_fields
            .iter()
            .filter(|(ty, field)| self.requirement(ty, field).is_none())
            .map(|(ty, field)| format!("{ty}.{field}"))
            .collect()
    }
}

fn requirement_of(directives: &[Positioned<ConstDirective>]) -> anyhow::Result<Requirement> {
    let mut requirement = Requirement::default();
    for directive in directives {
        match directive.node.name.node.as_str() {
            "public" => requirement.public = true,
            "authenticated" => requirement.authenticated = true,
            "platformAdmin" => requirement.platform_admin = true,
            "requires" => {
                let value = directive
                    .node
                    .arguments
                    .iter()
                    .find(|(name, _)| name.node == "permission")
                    .map(|(_, value)| &value.node);
                let Some(ConstValue::Enum(name)) = value else {
                    bail!("@requires without a permission");
                };
                requirement.permissions.insert(permission_of(name)?);
            }
            _ => {}
        }
    }
    if requirement.public
        && (requirement.authenticated
            || requirement.platform_admin
            || !requirement.permissions.is_empty())
    {
        bail!("a field cannot be both @public and guarded");
    }
    Ok(requirement)
}

fn permission_of(name: &Name) -> anyhow::Result<Permission> {
    Permission::from_graphql_name(name.as_str())
        .ok_or_else(|| anyhow::anyhow!("unknown permission {name} in @requires"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        interface Node { id: ID! note: String }
        type Project implements Node { id: ID! note: String @requires(permission: NOTE_PRIVATE) name: String }
        type Query { project: Project @requires(permission: PROJECT_READ) me: String @authenticated open: String }
        type Mutation { login: String @public }
    "#;

    #[test]
    fn reads_rules_and_roots() {
        let policy = Policy::from_sdl(SDL).unwrap();
        assert_eq!(policy.root("Query"), Some(Root::Query));
        assert_eq!(policy.root("Project"), None);
        let r = policy.requirement("Query", "project").unwrap();
        assert!(r.permissions.contains(&Permission::ProjectRead));
        assert!(policy.requirement("Mutation", "login").unwrap().public);
        assert_eq!(
            policy.unguarded_root_fields(),
            vec!["Query.open".to_owned()]
        );
        assert!(policy.requirement("Project", "name").is_none());
    }

    #[test]
    fn interface_fields_take_the_implementations_rule() {
        let policy = Policy::from_sdl(SDL).unwrap();
        let r = policy.requirement("Node", "note").unwrap();
        assert!(r.permissions.contains(&Permission::NotePrivate));
        assert!(policy.requirement("Node", "id").is_none());
    }

    #[test]
    fn rejects_contradictions_and_unknown_permissions() {
        assert!(Policy::from_sdl("type Query { a: Int @public @authenticated }").is_err());
        assert!(Policy::from_sdl("type Query { a: Int @requires(permission: NOPE) }").is_err());
    }
}
