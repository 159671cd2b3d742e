//! Preferences and presence: who gets an email is the person's choice per kind and channel,
//! "when not active" (the default) skips people who are in the portal, a muted in-app
//! notification arrives read, and receipts cannot be turned off.

use crate::helpers::*;
use crate::notifications::{Mailroom, open_ticket};
use serde_json::json;

const SET: &str = "mutation($k: NotificationKind!, $c: NotificationChannel!, $m: DeliveryMode!) { setNotificationPreference(kind: $k, channel: $c, mode: $m) { kind channel mode locked } }";

async fn set(
    m: &Mailroom,
    who: &Session,
    kind: &str,
    channel: &str,
    mode: &str,
) -> serde_json::Value {
    m.app
        .query(who, SET, json!({ "k": kind, "c": channel, "m": mode }))
        .await
}

#[tokio::test]
async fn each_person_decides_and_active_people_are_not_emailed() {
    // People count as active for 5 minutes after a request.
    let m = Mailroom::start_with(|c| c.mail.notify_active_secs = 300).await;
    let (team, sink) = (&m.team, &m.sink);
    // The admin wants every new ticket by email; the collaborator none; the guest mutes them in
    // the portal. The owner keeps the default (when not active).
    data(&set(&m, &team.admin, "TICKET_CREATED", "EMAIL", "ALWAYS").await);
    data(&set(&m, &team.collaborator, "TICKET_CREATED", "EMAIL", "NEVER").await);
    data(&set(&m, &team.guest, "TICKET_CREATED", "IN_APP", "NEVER").await);
    // The guest has left the portal; everyone else has just made a request.
    m.app
        .state
        .cache
        .delete(&format!("presence:{}", team.guest.user_id))
        .await
        .unwrap();
    open_ticket(&m, &team.client, "Menu").await;
    m.deliver().await;
    let told: Vec<String> = sink
        .messages()
        .iter()
        .map(|mail| mail.to[0].clone())
        .collect();
    assert!(told.contains(&team.admin.email), "ALWAYS: {told:?}");
    assert!(told.contains(&team.guest.email), "not active: {told:?}");
    assert!(
        !told.contains(&team.owner.email),
        "active in the portal: {told:?}"
    );
    assert!(!told.contains(&team.collaborator.email), "NEVER: {told:?}");
    assert_eq!(told.len(), 2, "{told:?}");

    // The log says why the owner got none; the collaborator's was never queued.
    let log = m
        .app
        .query(
            &team.owner,
            "{ emailDeliveries(first: 10, status: SKIPPED) { nodes { lastError recipient { name } } } }",
            json!({}),
        )
        .await;
    let skipped = data(&log)["emailDeliveries"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(skipped.len(), 1, "{log}");
    assert!(skipped[0]["lastError"].as_str().unwrap().contains("active"));
    let all = m
        .app
        .query(
            &team.owner,
            "{ emailDeliveries(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&all)["emailDeliveries"]["totalCount"], 3);

    // Everyone still has the notification in the portal; the guest's arrived read.
    assert_eq!(
        m.inbox(&team.collaborator).await["unreadNotificationCount"],
        1
    );
    let guest = m.inbox(&team.guest).await;
    assert_eq!(guest["unreadNotificationCount"], 0);
    assert_eq!(guest["notifications"]["totalCount"], 1);
    assert!(guest["notifications"]["nodes"][0]["readAt"].is_string());
}

#[tokio::test]
async fn preferences_list_every_kind_and_receipts_stay_on() {
    let m = Mailroom::start().await;
    let client = &m.team.client;
    let listed = m
        .app
        .query(
            client,
            "{ notificationPreferences { kind channel mode locked } }",
            json!({}),
        )
        .await;
    let all = data(&listed)["notificationPreferences"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), 24, "twelve kinds, two channels");
    assert!(all.contains(&json!({ "kind": "MESSAGE_ADDED", "channel": "EMAIL", "mode": "WHEN_NOT_ACTIVE", "locked": false })));
    assert!(all.contains(
        &json!({ "kind": "PAYMENT_PAID", "channel": "EMAIL", "mode": "ALWAYS", "locked": true })
    ));
    assert!(all.contains(
        &json!({ "kind": "MESSAGE_ADDED", "channel": "IN_APP", "mode": "ALWAYS", "locked": false })
    ));

    let refused = set(&m, client, "PAYMENT_PAID", "EMAIL", "NEVER").await;
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{refused}");
    let refused = set(&m, client, "MESSAGE_ADDED", "IN_APP", "WHEN_NOT_ACTIVE").await;
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{refused}");
    let refused = set(&m, client, "OTHER", "EMAIL", "NEVER").await;
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{refused}");

    // Set twice: the second choice holds; only the caller's own preferences change.
    data(&set(&m, client, "MESSAGE_ADDED", "EMAIL", "NEVER").await);
    let done = set(&m, client, "MESSAGE_ADDED", "EMAIL", "ALWAYS").await;
    assert_eq!(
        data(&done)["setNotificationPreference"],
        json!({ "kind": "MESSAGE_ADDED", "channel": "EMAIL", "mode": "ALWAYS", "locked": false })
    );
    assert_eq!(email_mode(&m, client, "MESSAGE_ADDED").await, "ALWAYS");
    assert_eq!(
        email_mode(&m, &m.team.guest, "MESSAGE_ADDED").await,
        "WHEN_NOT_ACTIVE"
    );
}

#[tokio::test]
async fn the_unsubscribe_link_turns_that_kind_of_email_off_in_one_click() {
    let m = Mailroom::start().await;
    open_ticket(&m, &m.team.client, "Menu").await;
    m.deliver().await;
    let mail = m.sink.to(&m.team.owner.email).remove(0);
    let header = mail.header("List-Unsubscribe").unwrap();
    let url = header.trim_matches(['<', '>']).to_owned();
    assert!(
        url.starts_with(&format!("{}/unsubscribe?", m.app.address)),
        "{url}"
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    // Opening the link changes nothing: it asks.
    let page = m.app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    assert_eq!(
        email_mode(&m, &m.team.owner, "TICKET_CREATED").await,
        "WHEN_NOT_ACTIVE"
    );
    // A changed link does nothing.
    let forged = url.replace("ticket.created", "message.added");
    let refused = m
        .app
        .client
        .post(&forged)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    // The mail client's one-click POST turns it off.
    let done = m
        .app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(
        email_mode(&m, &m.team.owner, "TICKET_CREATED").await,
        "NEVER"
    );
    // The next ticket queues no email for the owner.
    open_ticket(&m, &m.team.client, "Hours").await;
    m.deliver().await;
    assert_eq!(m.sink.to(&m.team.owner.email).len(), 1);
}

/// `who`'s email mode for `kind`.
async fn email_mode(m: &Mailroom, who: &Session, kind: &str) -> serde_json::Value {
    let listed = m
        .app
        .query(
            who,
            "{ notificationPreferences { kind channel mode } }",
            json!({}),
        )
        .await;
    data(&listed)["notificationPreferences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == kind && p["channel"] == "EMAIL")
        .unwrap()["mode"]
        .clone()
}

#[tokio::test]
async fn new_messages_wait_and_go_as_one_email() {
    let m = Mailroom::start_with(|c| c.mail.notify_group_secs = 300).await;
    for body in ["Proofs attached", "Second page too", "And the menu"] {
        data(
            &m.app
                .query(
                    &m.team.client,
                    "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }",
                    json!({ "p": m.project, "b": body }),
                )
                .await,
        );
    }
    // A new ticket does not wait; the messages do.
    open_ticket(&m, &m.team.client, "Menu").await;
    m.deliver().await;
    let owner = m.sink.to(&m.team.owner.email);
    assert_eq!(owner.len(), 1, "only the ticket so far");
    assert!(owner[0].header("Subject").unwrap().contains("Ticket #1"));
    // Their wait over, the three go as one.
    m.make_due().await;
    m.deliver().await;
    let owner = m.sink.to(&m.team.owner.email);
    assert_eq!(owner.len(), 2, "one email for three messages");
    let grouped = &owner[1];
    assert_eq!(
        grouped.header("Subject").unwrap(),
        "[Bakery website] 3 new messages"
    );
    for line in [
        "- New message: Proofs attached",
        "- New message: And the menu",
    ] {
        assert!(grouped.data.contains(line), "{}", grouped.data);
    }
    let log = m
        .app
        .query(
            &m.team.owner,
            "{ emailDeliveries(first: 50, status: SENT) { nodes { kind providerId recipient { name } } } }",
            json!({}),
        )
        .await;
    let owners_messages: Vec<_> = data(&log)["emailDeliveries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "MESSAGE_ADDED" && e["recipient"]["name"] == "Owner")
        .cloned()
        .collect();
    assert_eq!(owners_messages.len(), 3, "{log}");
    assert!(
        owners_messages
            .iter()
            .all(|e| e["providerId"] == owners_messages[0]["providerId"])
    );
}

#[tokio::test]
async fn a_person_who_reads_french_gets_french_emails() {
    let m = Mailroom::start().await;
    let set = m
        .app
        .query(
            &m.team.client,
            "mutation { setLocale(locale: FR) { locale } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&set)["setLocale"]["locale"], "FR");
    data(
        &m.app
            .query(
                &m.team.owner,
                "mutation($p: ID!) { postMessage(projectId: $p, body: \"Voici les maquettes\") { id } }",
                json!({ "p": m.project }),
            )
            .await,
    );
    m.deliver().await;
    let french = &m.sink.to(&m.team.client.email)[0];
    assert!(french.data.contains("Bonjour"), "{}", french.data);
    assert!(
        french.data.contains("Ouvrir dans le portail"),
        "{}",
        french.data
    );
    let english = &m.sink.to(&m.team.guest.email)[0];
    assert!(english.data.contains("Hello"), "{}", english.data);
}

#[tokio::test]
async fn the_email_log_shows_addresses_only_to_those_who_may_see_members_emails() {
    use portico::rbac::BuiltinRole::Guest;

    let m = Mailroom::start().await;
    open_ticket(&m, &m.team.client, "Menu").await;
    m.deliver().await;
    // A custom role that manages the workspace but may not see members' emails.
    let created = m
        .app
        .query(
            &m.team.owner,
            "mutation { createRole(input: {name: \"Manager\", permissions: [WORKSPACE_READ, WORKSPACE_MANAGE]}) { id } }",
            json!({}),
        )
        .await;
    let role_id = data(&created)["createRole"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let manager = m
        .app
        .add_member(
            m.team.workspace_id,
            &m.team.slug,
            "manager@acme.test",
            Guest,
        )
        .await;
    data(
        &m.app
            .query(
                &m.team.owner,
                "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { id } }",
                json!({ "u": manager.user_id, "r": role_id }),
            )
            .await,
    );
    let log = "{ emailDeliveries(first: 1) { nodes { status toAddress } } }";
    let body = m.app.query(&manager, log, json!({})).await;
    assert_eq!(
        body["data"]["emailDeliveries"]["nodes"][0]["status"], "SENT",
        "{body}"
    );
    assert!(
        body["data"]["emailDeliveries"]["nodes"][0]["toAddress"].is_null(),
        "{body}"
    );
    assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
    let owner = m.app.query(&m.team.owner, log, json!({})).await;
    assert!(data(&owner)["emailDeliveries"]["nodes"][0]["toAddress"].is_string());
}
