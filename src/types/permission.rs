//! Permissions: a closed enum, stored by name (`project:read`), shown in GraphQL as
//! `PROJECT_READ`, and held in sets as a bitmask.

use async_graphql::Enum;

macro_rules! permissions {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// Something a principal may do in a workspace.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Enum)]
        pub enum Permission {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Permission {
            /// Every permission, in declaration order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// The stored name, e.g. `project:read`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Permission::$variant => $name,)*
                }
            }

            /// Parses a stored name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(Permission::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

permissions! {
    /// See the workspace and its settings.
    WorkspaceRead => "workspace:read",
    /// Change the workspace's name, slug and settings.
    WorkspaceManage => "workspace:manage",
    /// Transfer ownership of the workspace.
    WorkspaceTransfer => "workspace:transfer",
    /// List the members of the workspace.
    MemberRead => "member:read",
    /// See other members' email addresses.
    MemberEmail => "member:email",
    /// Invite, re-role and remove members.
    MemberManage => "member:manage",
    /// Create, edit and delete custom roles.
    RoleManage => "role:manage",
    /// See the projects one is a member of.
    ProjectView => "project:view",
    /// Read every project of the workspace (not only those one is a member of).
    ProjectRead => "project:read",
    /// Create and edit projects.
    ProjectWrite => "project:write",
    /// Create, edit and delete tasks.
    TaskWrite => "task:write",
    /// Move tasks on the board.
    TaskMove => "task:move",
    /// Create tickets on one's projects, comment them and answer quotes.
    TicketCreate => "ticket:create",
    /// Validate or reject the milestones of one's projects.
    MilestoneValidate => "milestone:validate",
    /// Decide on tickets (clarify, refuse, accept, quote).
    TicketDecide => "ticket:decide",
    /// Post messages in project conversations.
    MessageWrite => "message:write",
    /// See amounts and payment requests.
    PaymentRead => "payment:read",
    /// Create and cancel payment requests.
    PaymentManage => "payment:manage",
    /// Pay payment requests of one's projects.
    PaymentPay => "payment:pay",
    /// Read and write staff-only private notes and internal comments.
    NotePrivate => "note:private",
    /// Upload and manage files.
    FileWrite => "file:write",
    /// Create, rotate and revoke API keys.
    ApikeyManage => "apikey:manage",
    /// Read the audit log.
    AuditRead => "audit:read",
    /// Use GraphiQL and introspection.
    SchemaExplore => "schema:explore",
}

impl Permission {
    /// The GraphQL enum value, e.g. `PROJECT_READ`.
    pub fn graphql_name(self) -> String {
        self.as_str().replace(':', "_").to_uppercase()
    }

    /// Parses a GraphQL enum value.
    pub fn from_graphql_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.graphql_name() == name)
    }

    fn bit(self) -> u64 {
        1u64 << (self as u32)
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PermissionSet(u64);

impl PermissionSet {
    /// No permission.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Every permission.
    pub fn all() -> Self {
        Self::from_iter(Permission::ALL.iter().copied())
    }

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn insert(&mut self, permission: Permission) {
        self.0 |= permission.bit();
    }

    pub fn remove(&mut self, permission: Permission) {
        self.0 &= !permission.bit();
    }

    /// Whether every permission of `self` is in `other`.
    pub fn is_subset_of(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The permissions of `self` missing from `other`.
    pub fn difference(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    /// Parses stored names, skipping (and logging) names this version does not know.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set = Self::empty();
        for name in names {
            match Permission::from_name(name) {
                Some(p) => set.insert(p),
                None => tracing::warn!(permission = name, "unknown stored permission ignored"),
            }
        }
        set
    }

    /// The stored names.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = Self::empty();
        for p in iter {
            set.insert(p);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_fit_in_the_mask() {
        assert!(Permission::ALL.len() <= 64);
        for p in Permission::ALL {
            assert_eq!(Permission::from_name(p.as_str()), Some(*p));
        }
        assert_eq!(Permission::from_name("nope"), None);
    }

    #[test]
    fn graphql_names_match_the_derived_enum() {
        use async_graphql::resolver_utils::EnumType;
        let items = <Permission as EnumType>::items();
        assert_eq!(items.len(), Permission::ALL.len());
        for item in items {
            assert_eq!(item.name, item.value.graphql_name());
            assert_eq!(Permission::from_graphql_name(item.name), Some(item.value));
        }
    }

    #[test]
    fn set_operations() {
        let a = PermissionSet::from_iter([Permission::ProjectRead, Permission::TaskWrite]);
        let b = PermissionSet::from_iter([Permission::ProjectRead]);
        assert!(b.is_subset_of(a));
        assert!(!a.is_subset_of(b));
        assert_eq!(
            a.difference(b).iter().collect::<Vec<_>>(),
            vec![Permission::TaskWrite]
        );
        assert_eq!(
            PermissionSet::from_names(["task:write", "bogus"]).names(),
            vec!["task:write"]
        );
        assert_eq!(PermissionSet::all().iter().count(), Permission::ALL.len());
    }
}
