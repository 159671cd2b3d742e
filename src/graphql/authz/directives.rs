//! The authorization directives. Each field declares its rule once, with one of these; the SDL
//! shows it, and [`extension`](super::extension) enforces what the SDL says. There is no second declaration to
//! drift from the first.
#![allow(non_snake_case, unused_variables)]

use crate::rbac::Permission;
use async_graphql::TypeDirective;

/// Needs a signed-in principal holding `permission` in the selected workspace.
#[TypeDirective(location = "FieldDefinition", repeatable)]
pub fn requires(permission: Permission) {}

/// Needs a signed-in principal; the resolver scopes the data to the caller itself.
#[TypeDirective(location = "FieldDefinition")]
pub fn authenticated() {}

/// Needs a platform operator (the back office), independently of any workspace.
#[TypeDirective(location = "FieldDefinition")]
pub fn platformAdmin() {}

/// Open to anyone, signed in or not (login, refreshToken, acceptInvitation, register).
#[TypeDirective(location = "FieldDefinition")]
pub fn public() {}
