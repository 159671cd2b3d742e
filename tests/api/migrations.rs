//! Migrations that reshape a table keep its rows, and undo: the `payment_requests` rebuild
//! (SQLite cannot drop a column's UNIQUE) from a database that holds a ticket's request, then the
//! new rule (one *pending* request per ticket), then down and up again.

use crate::helpers::*;
use entity::payment_request;
use migration::{Migrator, MigratorTrait};
use portico::db::Scoped;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};
use std::time::Duration;
use uuid::Uuid;

fn request(ticket_id: Uuid, status: &str) -> payment_request::ActiveModel {
    let now = chrono::Utc::now();
    payment_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(Uuid::now_v7()),
        project_id: Set(Uuid::now_v7()),
        kind: Set("TICKET".into()),
        title: Set("Ticket #1: New page".into()),
        description: Set(Some("Please".into())),
        amount_minor: Set(90_000),
        currency: Set("EUR".into()),
        due_date: Set(None),
        status: Set(status.into()),
        ticket_id: Set(Some(ticket_id)),
        milestone_id: Set(None),
        created_by: Set(Uuid::now_v7()),
        created_at: Set(now),
        updated_at: Set(now),
        paid_at: Set(None),
        closed_at: Set(Some(now)),
        checkout_session_id: Set(Some(format!("cs_test_{}", Uuid::new_v4().simple()))),
        checkout_url: Set(Some("https://checkout.stripe.test/c/pay".into())),
        checkout_expires_at: Set(Some(now)),
        checkout_attempts: Set(1),
        checkout_opened_by: Set(None),
        paid_by: Set(None),
        payment_intent_id: Set(None),
        amount_refunded_minor: Set(0),
        last_failure: Set(None),
    }
}

#[tokio::test]
async fn the_ticket_request_rebuild_keeps_rows_and_allows_one_pending_request_per_ticket() {
    let test_db = TestDb::create().await;
    let db = portico::db::Db::connect(&test_db.url, 3, Duration::from_secs(5))
        .await
        .unwrap();
    let conn = db.conn();
    let scoped = Scoped::new(conn, Uuid::now_v7());
    let migrations = Migrator::migrations();
    let rebuild = migrations
        .iter()
        .position(|m| m.name() == "m20261130_000015_ticket_payment_retries")
        .unwrap() as u32;
    let after_rebuild = migrations.len() as u32 - rebuild;
    Migrator::up(conn, Some(rebuild)).await.unwrap();
    let ticket = Uuid::now_v7();
    let kept = scoped.insert(request(ticket, "CANCELLED")).await.unwrap();

    Migrator::up(conn, None).await.unwrap();
    let found = scoped
        .find_by_id::<payment_request::Entity>(kept.id)
        .await
        .unwrap();
    assert_eq!(
        found.as_ref(),
        Some(&kept),
        "the row survives the rebuild as it was"
    );
    // A new pending request for the same ticket, but never two pending at once.
    let pending = scoped.insert(request(ticket, "PENDING")).await.unwrap();
    let second = scoped.insert(request(ticket, "PENDING")).await;
    assert!(second.is_err(), "two pending requests for one ticket");

    // Down (which needs the duplicate gone: the unique column comes back) and up again.
    scoped
        .delete_many::<payment_request::Entity>()
        .filter(payment_request::Column::Id.eq(pending.id))
        .exec(conn)
        .await
        .unwrap();
    Migrator::down(conn, Some(after_rebuild)).await.unwrap();
    let duplicate = scoped.insert(request(ticket, "PENDING")).await;
    assert!(duplicate.is_err(), "down restores the unique ticket_id");
    Migrator::up(conn, None).await.unwrap();
    let found = scoped
        .find_by_id::<payment_request::Entity>(kept.id)
        .await
        .unwrap();
    assert_eq!(found, Some(kept));
    drop(db);
}

/// Projects that exist when the file tables arrive get the standard folders new projects get.
#[tokio::test]
async fn existing_projects_get_the_standard_folders_from_the_files_migration() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Website", &[]).await;
    app.outbox_drained().await;
    let conn = app.state.db.conn();
    // Back to before the file tables (the project stays), then forward again.
    Migrator::down(conn, Some(steps_back_to("m20261130_000017_files")))
        .await
        .unwrap();
    Migrator::up(conn, None).await.unwrap();
    let body = app
        .query(
            &team.owner,
            "query($p: ID!) { folders(projectId: $p) { name zone system } }",
            serde_json::json!({ "p": project }),
        )
        .await;
    assert_eq!(
        data(&body)["folders"],
        serde_json::json!([
            { "name": "Branding", "zone": "CLIENT", "system": true },
            { "name": "Content", "zone": "CLIENT", "system": true },
            { "name": "Deliverables", "zone": "SHARED", "system": true },
            { "name": "Internal", "zone": "INTERNAL", "system": true },
        ])
    );
}

/// How many migrations `down` reverts to undo `name` and every later one.
fn steps_back_to(name: &str) -> u32 {
    let all = Migrator::migrations();
    let position = all
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no migration {name}"));
    u32::try_from(all.len() - position).unwrap()
}

/// Image versions uploaded before thumbnails existed are queued for the job; others get none.
#[tokio::test]
async fn the_thumbnails_migration_queues_existing_images() {
    use crate::files::{PNG, Portal};

    let p = Portal::start().await;
    let content = p.folder("Content").await;
    let image = p
        .upload(&p.team.owner, &content, "a.png", "image/png", PNG)
        .await;
    let text = p
        .upload(&p.team.owner, &content, "a.txt", "text/plain", b"text")
        .await;
    p.app.outbox_drained().await;
    let conn = p.app.state.db.conn();
    Migrator::down(
        conn,
        Some(steps_back_to("m20261130_000018_file_thumbnails")),
    )
    .await
    .unwrap();
    Migrator::up(conn, None).await.unwrap();
    for (file, expected) in [
        (&image, serde_json::json!({ "status": "PENDING" })),
        (&text, serde_json::Value::Null),
    ] {
        let body = p
            .app
            .query(
                &p.team.owner,
                "query($f: ID!) { file(id: $f) { thumbnail { status } } }",
                serde_json::json!({ "f": file["id"] }),
            )
            .await;
        assert_eq!(data(&body)["file"]["thumbnail"], expected);
    }
}
