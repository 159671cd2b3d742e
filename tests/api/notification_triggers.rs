//! The triggers beyond the first ten (a task waiting for the client, a project's status), the
//! daily digest (once a day, every line re-authorized at send time), and lines in the reader's
//! language.
#![allow(clippy::disallowed_methods)]

use crate::helpers::*;
use crate::mailbox::Mail;
use crate::notifications::Mailroom;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

async fn task(m: &Mailroom, title: &str) -> String {
    let body = m
        .app
        .query(
            &m.team.collaborator,
            "mutation($p: ID!, $t: String!) { createTask(input: {projectId: $p, title: $t}) { id } }",
            json!({ "p": m.project, "t": title }),
        )
        .await;
    data(&body)["createTask"]["id"].as_str().unwrap().to_owned()
}

fn kinds(inbox: &Value) -> Vec<(String, String)> {
    inbox["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_owned(),
                n["summary"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_task_waiting_for_the_client_and_a_new_project_status_reach_the_client() {
    let m = Mailroom::start().await;
    let texts = task(&m, "Send the texts").await;
    let photos = task(&m, "Send the photos").await;
    m.deliver().await;
    let body = m.app.query(&m.team.collaborator, "mutation($i: ID!) { updateTask(id: $i, input: {blockedByClient: true, blockedReason: \"We need the texts\"}) { id } }", json!({ "i": texts })).await;
    data(&body);
    let body = m
        .app
        .query(
            &m.team.collaborator,
            "mutation($i: ID!) { moveTask(id: $i, column: WAITING_CLIENT) { id } }",
            json!({ "i": photos }),
        )
        .await;
    data(&body);
    let body = m
        .app
        .query(
            &m.team.owner,
            "mutation($p: ID!) { updateProject(id: $p, input: {status: WAITING_CLIENT}) { id } }",
            json!({ "p": m.project }),
        )
        .await;
    data(&body);
    // The same status again, and a blocked task edited again: nothing new.
    m.app
        .query(
            &m.team.owner,
            "mutation($p: ID!) { updateProject(id: $p, input: {status: WAITING_CLIENT}) { id } }",
            json!({ "p": m.project }),
        )
        .await;
    m.app
        .query(
            &m.team.collaborator,
            "mutation($i: ID!) { updateTask(id: $i, input: {blockedByClient: true}) { id } }",
            json!({ "i": texts }),
        )
        .await;
    m.deliver().await;
    let client = kinds(&m.inbox(&m.team.client).await);
    assert_eq!(
        client,
        vec![
            (
                "PROJECT_STATUS_CHANGED".to_owned(),
                "Project status: Waiting for the client".to_owned()
            ),
            (
                "TASK_BLOCKED".to_owned(),
                "Task \"Send the photos\" is waiting for the client".to_owned()
            ),
            (
                "TASK_BLOCKED".to_owned(),
                "Task \"Send the texts\" is waiting for the client".to_owned()
            ),
        ]
    );
    assert_eq!(m.sink.to(&m.team.client.email).len(), 3);
    // The owner changed the status: told of the tasks, not of their own change.
    let owner = kinds(&m.inbox(&m.team.owner).await);
    assert_eq!(owner.iter().filter(|(k, _)| k == "TASK_BLOCKED").count(), 2);
    assert!(!owner.iter().any(|(k, _)| k == "PROJECT_STATUS_CHANGED"));
}

#[tokio::test]
async fn a_daily_digest_gathers_the_day_in_the_readers_language_and_rechecks_each_line() {
    let m = Mailroom::start().await;
    let guest = &m.team.guest;
    data(
        &m.app
            .query(
                guest,
                "mutation { setLocale(locale: FR) { locale } }",
                json!({}),
            )
            .await,
    );
    for kind in ["TICKET_CREATED", "MESSAGE_ADDED", "PROJECT_STATUS_CHANGED"] {
        let body = m.app.query(guest, "mutation($k: NotificationKind!) { setNotificationPreference(kind: $k, channel: EMAIL, mode: DAILY_DIGEST) { mode } }", json!({ "k": kind })).await;
        assert_eq!(
            data(&body)["setNotificationPreference"]["mode"],
            "DAILY_DIGEST"
        );
    }
    let refused = m.app.query(guest, "mutation { setNotificationPreference(kind: MESSAGE_ADDED, channel: IN_APP, mode: DAILY_DIGEST) { mode } }", json!({})).await;
    assert_eq!(error_code(&refused).as_deref(), Some("BAD_USER_INPUT"));
    crate::notifications::open_ticket(&m, &m.team.client, "Logo").await;
    let body = m
        .app
        .query(
            &m.team.client,
            "mutation($p: ID!) { postMessage(projectId: $p, body: \"Bonjour !\") { id } }",
            json!({ "p": m.project }),
        )
        .await;
    data(&body);
    m.app
        .query(
            &m.team.owner,
            "mutation($p: ID!) { updateProject(id: $p, input: {status: DONE}) { id } }",
            json!({ "p": m.project }),
        )
        .await;
    m.deliver().await;
    // In the portal at once; by email, nothing before the digest hour.
    assert_eq!(m.inbox(guest).await["notifications"]["totalCount"], 3);
    assert!(m.sink.to(&guest.email).is_empty());
    let waiting = entity::email_delivery::Entity::find()
        .filter(entity::email_delivery::Column::UserId.eq(guest.user_id))
        .all(m.app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(waiting.len(), 3);
    let hour = m.app.state.config.mail.notify_digest_hour;
    for email in &waiting {
        assert!(email.available_at > chrono::Utc::now());
        assert_eq!(
            email.available_at.format("%H:%M:%S").to_string(),
            format!("{hour:02}:00:00")
        );
    }
    // The digest hour: one email, every line, in French.
    m.make_due().await;
    m.deliver().await;
    let mails = m.sink.to(&guest.email);
    assert_eq!(mails.len(), 1);
    let mail = Mail::from(&mails[0]);
    assert_eq!(mail.subject, "[acme studio] Résumé du jour : 3 nouveautés");
    for line in [
        "[Bakery website] Ticket n°1 créé",
        "[Bakery website] Nouveau message : Bonjour !",
        "[Bakery website] Statut du projet : terminé",
    ] {
        assert!(
            mail.text.contains(line),
            "{line} missing from: {}",
            mail.text
        );
    }
    assert!(mail.text.starts_with("Bonjour "));
    m.make_due().await;
    m.deliver().await;
    assert_eq!(m.sink.to(&guest.email).len(), 1, "a digest went twice");
    // A line of a project the guest left before the digest is dropped, and with no line left no
    // digest goes.
    crate::notifications::open_ticket(&m, &m.team.client, "Menu").await;
    m.app.outbox_drained().await;
    let body = m
        .app
        .query(
            &m.team.owner,
            "mutation($p: ID!, $u: ID!) { removeProjectMember(projectId: $p, userId: $u) { id } }",
            json!({ "p": m.project, "u": guest.user_id }),
        )
        .await;
    data(&body);
    m.make_due().await;
    m.deliver().await;
    assert_eq!(
        m.sink.to(&guest.email).len(),
        1,
        "a line the guest may no longer see was sent"
    );
    let skipped = entity::email_delivery::Entity::find()
        .filter(entity::email_delivery::Column::UserId.eq(guest.user_id))
        .filter(entity::email_delivery::Column::Status.eq("SKIPPED"))
        .count(m.app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(skipped, 1);
}

#[tokio::test]
async fn a_french_reader_gets_the_line_in_french_in_a_single_email() {
    let m = Mailroom::start().await;
    data(
        &m.app
            .query(
                &m.team.owner,
                "mutation { setLocale(locale: FR) { locale } }",
                json!({}),
            )
            .await,
    );
    crate::notifications::open_ticket(&m, &m.team.client, "Logo").await;
    m.deliver().await;
    let mail = Mail::from(&m.sink.to(&m.team.owner.email)[0]);
    assert_eq!(mail.subject, "[Bakery website] Ticket n°1 créé");
    assert!(mail.text.contains("Ticket n°1 créé"), "{}", mail.text);
}

#[tokio::test]
async fn with_grouping_off_each_message_is_its_own_email() {
    let m = Mailroom::start().await;
    for body in ["one", "two", "three"] {
        let reply = m
            .app
            .query(
                &m.team.client,
                "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }",
                json!({ "p": m.project, "b": body }),
            )
            .await;
        data(&reply);
    }
    m.deliver().await;
    let mails = m.sink.to(&m.team.owner.email);
    assert_eq!(mails.len(), 3, "NOTIFY_GROUP_SECS=0 grouped emails");
}

#[tokio::test]
async fn one_run_of_the_mail_job_sends_more_than_one_batch() {
    // A long interval: the run's budget never ends it early here.
    let m = Mailroom::start_with(|c| c.mail.mail_send_interval_secs = 120).await;
    for i in 0..30 {
        let reply = m
            .app
            .query(
                &m.team.client,
                "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }",
                json!({ "p": m.project, "b": format!("message {i}") }),
            )
            .await;
        data(&reply);
    }
    // Owner, admin, collaborator and guest: 120 emails, more than two batches of 50.
    assert_eq!(m.deliver().await, 120);
    assert_eq!(m.sink.messages().len(), 120);
}
