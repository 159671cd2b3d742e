//! Accounts made outside the API: the embedded default's first owner, platform operators
//! (`create-admin`), and the demo workspace (`seed-demo`).

use crate::app::App;
use crate::auth::OpaqueSecret;
use crate::db::Global;
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
    let owner = identity::create_user(&*txn, &email, "Owner", hash, UserStatus::Active, true, true)
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
        let txn = app.db.begin().await.context("starting the promotion")?;
        Global::new(&*txn)
            .update_many::<user::Entity>()
            .col_expr(user::Column::IsPlatformAdmin, Expr::value(true))
            .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(user::Column::Id.eq(existing.id))
            .exec(&*txn)
            .await
            .context("promoting the account")?;
        txn.commit().await.context("committing the promotion")?;
        let sessions = identity::live_sessions(app.db.conn(), existing.id)
            .await
            .map_err(api)?;
        app.auth.forget_sessions(&sessions).await;
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
    let txn = app.db.begin().await.context("starting the account")?;
    identity::create_user(&*txn, &email, name, hash, UserStatus::Active, true, true)
        .await
        .map_err(api)?;
    txn.commit().await.context("committing the account")?;
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
        let user = identity::create_user(
            &*txn,
            &email,
            name,
            hash.clone(),
            UserStatus::Active,
            false,
            true,
        )
        .await
        .map_err(api)?;
        if role == BuiltinRole::Owner {
            let ws =
                workspace::create_workspace_in(&*txn, user.id, "Demo Agency", Some(slug.as_str()))
                    .await
                    .map_err(api)?;
            ws_id = Some(ws.id);
        } else if let Some(id) = ws_id {
            let scoped = txn.scoped(id);
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
    if let Some(ws) = ws_id {
        seed_demo_projects(app, ws).await?;
    }
    Ok(created)
}

/// Two projects with tasks on the board, a ticket and a milestone awaiting the client.
async fn seed_demo_projects(app: &App, workspace_id: uuid::Uuid) -> anyhow::Result<()> {
    use crate::project::service::{self as projects, NewProject};
    use crate::task::TaskColumn;
    use crate::task::service::{self as tasks, NewTask};
    let user = |email: &str| {
        let email = email.to_owned();
        async move {
            identity::find_user_by_email(app.db.conn(), &Email::parse(&email).map_err(api)?)
                .await
                .map_err(api)?
                .ok_or_else(|| anyhow::anyhow!("demo user {email} missing"))
        }
    };
    let owner = user("olivia@demo.portico.local").await?;
    let cora = user("cora@demo.portico.local").await?;
    let cleo = user("cleo@client.example").await?;
    let chris = user("chris@client.example").await?;
    let access = app
        .access
        .resolve(workspace_id, owner.id)
        .await
        .map_err(api)?
        .ok_or_else(|| anyhow::anyhow!("demo owner is not a member"))?;
    let boards = [
        (
            "Cleo's bakery website",
            cleo.id,
            [
                "Homepage mockup",
                "Menu page",
                "Online ordering",
                "Contact form",
                "SEO basics",
            ],
        ),
        (
            "Chris's shop redesign",
            chris.id,
            [
                "Audit of the current shop",
                "New product pages",
                "Checkout flow",
                "Newsletter",
                "Launch",
            ],
        ),
    ];
    let columns = [
        TaskColumn::Done,
        TaskColumn::InProgress,
        TaskColumn::InProgress,
        TaskColumn::Backlog,
        TaskColumn::Backlog,
    ];
    for (name, client, titles) in boards {
        let project = projects::create(
            app,
            &access,
            NewProject {
                name: name.to_owned(),
                description: Some("Demo project".to_owned()),
                member_ids: vec![client],
                ..NewProject::default()
            },
        )
        .await
        .map_err(api)?;
        for (i, (title, column)) in titles.into_iter().zip(columns).enumerate() {
            tasks::create(
                app,
                &access,
                NewTask {
                    project_id: project.id,
                    title: title.to_owned(),
                    column: Some(column),
                    assignee_id: Some(if i % 2 == 0 { cora.id } else { owner.id }),
                    labels: vec!["demo".to_owned()],
                    ..NewTask::default()
                },
            )
            .await
            .map_err(api)?;
        }
        crate::milestone::service::request(
            app,
            &access,
            project.id,
            crate::milestone::MilestoneKind::Mockup,
            None,
        )
        .await
        .map_err(api)?;
        crate::ticket::service::create(
            app,
            &access,
            project.id,
            crate::ticket::TicketKind::Question,
            "Can we add a blog?",
            "A small news section would help.",
        )
        .await
        .map_err(api)?;
    }
    Ok(())
}
