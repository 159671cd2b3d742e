//! `visible` functions: hide fields from the introspection of callers who cannot use them. They
//! only hide; the authorization extension is what refuses a query (async-graphql's `visible` does
//! not block execution). They read the access resolved for introspection, and hide when there is
//! none: deny by default.

use crate::graphql::RequestContext;
use crate::rbac::Permission;
use async_graphql::Context;
use std::sync::Arc;

fn holds(ctx: &Context<'_>, permission: Permission) -> bool {
    ctx.data_opt::<Arc<RequestContext>>()
        .and_then(|rc| rc.resolved_access())
        .is_some_and(|access| access.has(permission))
}

/// Shown to principals holding `note:private`.
pub fn note_private(ctx: &Context<'_>) -> bool {
    holds(ctx, Permission::NotePrivate)
}

/// Shown to principals holding `payment:read`.
pub fn payment_read(ctx: &Context<'_>) -> bool {
    holds(ctx, Permission::PaymentRead)
}
