//! The audit log's queries and exports: a workspace's events for holders of `audit:read`, every
//! event for platform operators, and the chain check. Thin: parse, read, map.

use super::export;
use super::types::{
    AuditChainStatus, AuditEvent, AuditEventFilter, AuditExport, AuditExportFormat,
};
use crate::db::audit_read::{self, Reach};
use crate::graphql::RequestContext;
use crate::graphql::directives::{platformAdmin, requires};
use crate::graphql::pagination::{Page, encode_cursor};
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::ID;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object, Result};

/// Audit queries.
#[derive(Debug, Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The selected workspace's audit log, newest first: every change, refusal and sign-in
    /// recorded in it.
    #[graphql(directive = requires::apply(Permission::AuditRead))]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last event of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only the events matching every field given.")] filter: Option<
            AuditEventFilter,
        >,
    ) -> Result<Option<Connection<String, AuditEvent>>> {
        let rc = RequestContext::of(ctx)?;
        let reach = Reach::Workspace(rc.access().await?.workspace_id);
        Ok(Some(page(rc, reach, first, after, filter).await?))
    }

    /// Every audit event of the installation, newest first (platform operators).
    #[graphql(directive = platformAdmin::apply())]
    async fn platform_audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last event of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only the events matching every field given.")] filter: Option<
            AuditEventFilter,
        >,
    ) -> Result<Option<Connection<String, AuditEvent>>> {
        let rc = RequestContext::of(ctx)?;
        Ok(Some(
            page(rc, Reach::Everything, first, after, filter).await?,
        ))
    }

    /// An audit export of the selected workspace, with its download link once it is ready.
    #[graphql(directive = requires::apply(Permission::AuditRead))]
    async fn audit_export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The export's ID.")] id: ID,
    ) -> Result<Option<AuditExport>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access().await?;
        let found = export::get(&rc.app.db, access, parse_id("id", &id)?).await?;
        let url = export::link(&rc.app.storage, &found).await?;
        Ok(Some(AuditExport::new(found, url)))
    }

    /// A platform-wide audit export (platform operators), with its download link once ready.
    #[graphql(directive = platformAdmin::apply())]
    async fn platform_audit_export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The export's ID.")] id: ID,
    ) -> Result<Option<AuditExport>> {
        let rc = RequestContext::of(ctx)?;
        let found = export::get_platform(&rc.app.db, parse_id("id", &id)?).await?;
        let url = export::link(&rc.app.storage, &found).await?;
        Ok(Some(AuditExport::new(found, url)))
    }

    /// Checks the selected workspace's audit chain link by link and names the first broken one.
    #[graphql(directive = requires::apply(Permission::AuditRead))]
    async fn verify_audit_chain(&self, ctx: &Context<'_>) -> Result<Option<AuditChainStatus>> {
        let rc = RequestContext::of(ctx)?;
        let workspace_id = rc.access().await?.workspace_id;
        let verdict = audit_read::verify_workspace(rc.app.db.conn(), Some(workspace_id))
            .await
            .map_err(crate::error::ApiError::from)?;
        Ok(Some(verdict.into()))
    }
}

async fn page(
    rc: &RequestContext,
    reach: Reach,
    first: i32,
    after: Option<String>,
    filter: Option<AuditEventFilter>,
) -> Result<Connection<String, AuditEvent>> {
    let page = Page::new(first, after.as_deref())?;
    let filter = filter.unwrap_or_default().parse()?;
    let mut rows = audit_read::list(rc.app.db.conn(), reach, &filter, page.after, page.limit + 1)
        .await
        .map_err(crate::error::ApiError::from)?;
    let has_next = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    let mut connection = Connection::new(page.after.is_some(), has_next);
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(encode_cursor(row.id), AuditEvent::from(row))),
    );
    Ok(connection)
}

/// Audit mutations.
#[derive(Debug, Default)]
pub struct AuditMutation;

#[Object]
impl AuditMutation {
    /// Asks for the selected workspace's audit events (matching `filter`) as a file; the export
    /// job writes it, then `auditExport` hands out a short-lived link.
    #[graphql(directive = requires::apply(Permission::AuditRead))]
    async fn export_audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "CSV or JSONL.")] format: AuditExportFormat,
        #[graphql(desc = "Only the events matching every field given.")] filter: Option<
            AuditEventFilter,
        >,
    ) -> Result<Option<AuditExport>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access().await?;
        let filter = filter.unwrap_or_default().parse()?;
        let created = export::request(&rc.app.db, access, format.into(), &filter).await?;
        Ok(Some(AuditExport::new(created, None)))
    }

    /// Asks for every chain's audit events (matching `filter`; without metadata, which needs
    /// `note:private` in the event's workspace) as a file (platform operators);
    /// `platformAuditExport` then hands out a short-lived link.
    #[graphql(directive = platformAdmin::apply())]
    async fn export_platform_audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "CSV or JSONL.")] format: AuditExportFormat,
        #[graphql(desc = "Only the events matching every field given.")] filter: Option<
            AuditEventFilter,
        >,
    ) -> Result<Option<AuditExport>> {
        let rc = RequestContext::of(ctx)?;
        let operator = rc.user()?.user_id;
        let filter = filter.unwrap_or_default().parse()?;
        let created =
            export::request_platform(&rc.app.db, operator, format.into(), &filter).await?;
        Ok(Some(AuditExport::new(created, None)))
    }
}
