//! Accounts made outside the API: the embedded default's first owner, platform operators
//! (`create-admin`), and the demo workspace (`seed-demo`).

use crate::app::App;
use crate::auth::OpaqueSecret;
use crate::db::{Global, Scoped};
use crate::error::ApiError;
use crate::identity::service as identity;
use crate::rbac::BuiltinRole;
use crate::types::{Email, Password, Slug};
use crate::workspace::service as workspace;
use anyhow::Context;
use chrono::Utc;
use entity::user::{self, UserStatus};
use entity::workspace as workspace_entity;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};

/// Credentials created by a bootstrap step, to print once.
#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub email: String,
    pub password: String,
}

fn random_password() -> String {
    // 43 URL-safe characters of a 256-bit secret; keep 24.
    OpaqueSecret::generate("p")
        .value
        .chars()
        .skip(2)
        .take(24)
        .collect()
}

fn api(err: ApiError) -> anyhow::Error {
    err.into_anyhow()
}

/// On the very first start of an empty database: an owner account and a first workspace.
pub async fn first_start(app: &App) -> anyhow::Result<Option<(CreatedAccount, String)>> {
    let users = Global::new(app.db.conn())
        .find::<user::Entity>()
        .count(app.db.conn())
        .await
        .context("counting users")?;
    if users > 0 {
        return Ok(None);
    }
    let email = Email::parse("owner@portico.local").map_err(api)?;
    let password = random_password();
    let hash = app.hasher.hash(&password).await.map_err(api)?;
    let txn = app
        .db
        .begin()
        .await
        .context("starting the bootstrap transaction")?;
    let owner = identity::create_user(&*txn, &email, "Owner", hash, UserStatus::Active, true)
        .await
        .map_err(api)?;
    let ws = workspace::create_workspace_in(&*txn, owner.id, "My Workspace", Some("my-workspace"))
        .await
        .map_err(api)?;
    txn.commit().await.context("committing the bootstrap")?;
    Ok(Some((
        CreatedAccount {
            email: email.into_inner(),
            password,
        },
        ws.slug,
    )))
}

/// Creates a platform operator, or promotes an existing account.
pub async fn create_admin(
    app: &App,
    email: &str,
    name: &str,
    password: Option<String>,
) -> anyhow::Result<Option<CreatedAccount>> {
    let email = Email::parse(email).map_err(api)?;
    if let Some(existing) = identity::find_user_by_email(app.db.conn(), &email)
        .await
        .map_err(api)?
    {
        Global::new(app.db.conn())
            .update_many::<user::Entity>()
            .col_expr(user::Column::IsPlatformAdmin, Expr::value(true))
            .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(user::Column::Id.eq(existing.id))
            .exec(app.db.conn())
            .await
            .context("promoting the account")?;
        return Ok(None);
    }
    let password = match password {
        Some(p) => Password::parse_new(&p, "password")
            .map_err(api)?
            .expose()
            .to_owned(),
        None => random_password(),
    };
    let hash = app.hasher.hash(&password).await.map_err(api)?;
    identity::create_user(app.db.conn(), &email, name, hash, UserStatus::Active, true)
        .await
        .map_err(api)?;
    Ok(Some(CreatedAccount {
        email: email.into_inner(),
        password,
    }))
}

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "portico-demo-2026";

/// A demo workspace (`demo`) with an owner, an admin, a collaborator and two clients.
/// Idempotent: does nothing when the workspace exists.
pub async fn seed_demo(app: &App) -> anyhow::Result<Vec<(String, BuiltinRole)>> {
    let slug = Slug::parse("demo").map_err(api)?;
    let exists = Global::new(app.db.conn())
        .find::<workspace_entity::Entity>()
        .filter(workspace_entity::Column::Slug.eq(slug.as_str()))
        .one(app.db.conn())
        .await
        .context("looking for the demo workspace")?;
    if exists.is_some() {
        return Ok(Vec::new());
    }
    let people = [
        (
            "olivia@demo.portico.local",
            "Olivia Owner",
            BuiltinRole::Owner,
        ),
        ("adam@demo.portico.local", "Adam Admin", BuiltinRole::Admin),
        (
            "cora@demo.portico.local",
            "Cora Collaborator",
            BuiltinRole::Collaborator,
        ),
        ("cleo@client.example", "Cleo Client", BuiltinRole::Client),
        ("chris@client.example", "Chris Client", BuiltinRole::Client),
    ];
    let hash = app.hasher.hash(DEMO_PASSWORD).await.map_err(api)?;
    let txn = app
        .db
        .begin()
        .await
        .context("starting the demo transaction")?;
    let mut created = Vec::new();
    let mut ws_id = None;
    for (email, name, role) in people {
        let email = Email::parse(email).map_err(api)?;
        let user =
            identity::create_user(&*txn, &email, name, hash.clone(), UserStatus::Active, false)
                .await
                .map_err(api)?;
        if role == BuiltinRole::Owner {
            let ws =
                workspace::create_workspace_in(&*txn, user.id, "Demo Agency", Some(slug.as_str()))
                    .await
                    .map_err(api)?;
            ws_id = Some(ws.id);
        } else if let Some(id) = ws_id {
            let scoped = Scoped::new(&*txn, id);
            let role_row = crate::workspace::service::builtin_role(&scoped, role)
                .await
                .map_err(api)?;
            workspace::add_member(&scoped, user.id, role_row.id)
                .await
                .map_err(api)?;
        }
        created.push((email.into_inner(), role));
    }
    txn.commit()
        .await
        .context("committing the demo workspace")?;
    Ok(created)
}
