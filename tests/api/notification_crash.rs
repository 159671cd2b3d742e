//! A dispatcher killed halfway through a batch, then restarted: the events it had handed to the
//! notification consumer are delivered again, and nobody gets a second notification or email.

use crate::helpers::*;
use crate::smtp::SmtpSink;
use portico::config::Secret;
use portico::db::outbox;
use portico::jobs::Job;
use portico::outbox::Consumer;
use serde_json::json;

#[tokio::test]
async fn a_dispatcher_killed_mid_batch_and_restarted_sends_nobody_a_second_email() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    // No background dispatcher: the test plays the one that crashes and the one that restarts.
    let app = spawn_app_with(|c| {
        c.outbox_dispatch = false;
        c.mail.smtp_url = Some(Secret::new(url));
        c.mail.notify_active_secs = 0;
        c.mail.notify_group_secs = 0;
    })
    .await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    for title in ["Logo", "Menu", "Hours", "Photos"] {
        data(&app.query(&team.client, "mutation($p: ID!, $t: String!) { createTicket(input: {projectId: $p, kind: CHANGE, title: $t, description: \"Please\"}) { id } }", json!({ "p": project, "t": title })).await);
    }

    // The first dispatcher claims everything, hands half of it to the notification consumer,
    // and dies before marking anything; its claim lapses at once.
    let claimed = outbox::claim(&app.state.db, "crashed", 1000, chrono::Utc::now())
        .await
        .unwrap();
    let notifier = portico::notification::fanout::Notifier {
        db: app.state.db.clone(),
        group_secs: 0,
        digest_hour: 8,
    };
    for row in &claimed[..claimed.len() / 2] {
        let envelope = serde_json::from_str(&row.payload).unwrap();
        notifier.deliver(&envelope, &row.payload).await.unwrap();
    }
    // The restarted dispatcher delivers everything again, then what that wrote.
    let dispatcher = app.state.dispatcher();
    while dispatcher.run_once().await.unwrap() > 0 {}
    assert_eq!(outbox::pending(&app.state.db).await.unwrap(), 0);
    portico::app::notification_jobs::SendEmails
        .run(&app.state)
        .await
        .unwrap();

    // Owner, admin and collaborator: one email and one notification per ticket, no more.
    for who in [&team.owner, &team.admin, &team.collaborator] {
        assert_eq!(sink.to(&who.email).len(), 4, "{}", who.email);
        let listed = app
            .query(
                who,
                "{ notifications(first: 20) { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(data(&listed)["notifications"]["totalCount"], 4);
    }
    assert!(sink.to(&team.client.email).is_empty());
    assert_eq!(sink.messages().len(), 12);
}
