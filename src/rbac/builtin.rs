//! The built-in roles present in every workspace. Their permissions live in code, so a release
//! that adds a permission updates them without a data migration.

use super::{Permission, PermissionSet};
use Permission::*;
use async_graphql::Enum;

/// A built-in role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum BuiltinRole {
    /// Everything, including ownership transfer. Exactly one per workspace.
    Owner,
    /// Everything but ownership transfer.
    Admin,
    /// Staff working on projects, without member or payment management.
    Collaborator,
    /// A client of the agency: their own projects, tickets, messages and payments.
    Client,
    /// Read-only.
    Guest,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 5] = [
        BuiltinRole::Owner,
        BuiltinRole::Admin,
        BuiltinRole::Collaborator,
        BuiltinRole::Client,
        BuiltinRole::Guest,
    ];

    /// The stored key (`roles.builtin`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Collaborator => "collaborator",
            Self::Client => "client",
            Self::Guest => "guest",
        }
    }

    /// The display name of the seeded role.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Admin => "Admin",
            Self::Collaborator => "Collaborator",
            Self::Client => "Client",
            Self::Guest => "Guest",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }

    /// Whether members with this role are the agency's staff (as opposed to its clients).
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Owner | Self::Admin | Self::Collaborator)
    }

    /// The permissions of this role.
    pub fn permissions(self) -> PermissionSet {
        match self {
            Self::Owner => PermissionSet::all(),
            Self::Admin => {
                let mut set = PermissionSet::all();
                set.remove(WorkspaceTransfer);
                set
            }
            Self::Collaborator => PermissionSet::from_iter([
                WorkspaceRead,
                MemberRead,
                MemberEmail,
                ProjectView,
                ProjectRead,
                ProjectWrite,
                TaskWrite,
                TaskMove,
                TicketCreate,
                TicketDecide,
                MessageWrite,
                NotePrivate,
                PaymentRead,
                FileWrite,
            ]),
            Self::Client => PermissionSet::from_iter([
                WorkspaceRead,
                ProjectView,
                TicketCreate,
                MilestoneValidate,
                MessageWrite,
                PaymentRead,
                PaymentPay,
                FileWrite,
            ]),
            Self::Guest => PermissionSet::from_iter([WorkspaceRead, ProjectView]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        let chain = BuiltinRole::ALL.map(BuiltinRole::permissions);
        assert!(chain[1].is_subset_of(chain[0]));
        assert!(chain[2].is_subset_of(chain[1]));
        assert!(chain[4].is_subset_of(chain[3]));
        assert!(!chain[1].contains(WorkspaceTransfer));
    }

    #[test]
    fn clients_and_guests_never_get_staff_permissions() {
        for role in [BuiltinRole::Client, BuiltinRole::Guest] {
            let p = role.permissions();
            for staff_only in [
                NotePrivate,
                MemberRead,
                MemberEmail,
                ProjectRead,
                TicketDecide,
                PaymentManage,
                SchemaExplore,
            ] {
                assert!(!p.contains(staff_only), "{role:?} has {staff_only:?}");
            }
        }
        assert!(!BuiltinRole::Guest.permissions().contains(PaymentRead));
    }

    #[test]
    fn keys_round_trip() {
        for role in BuiltinRole::ALL {
            assert_eq!(BuiltinRole::from_key(role.key()), Some(role));
        }
    }
}
