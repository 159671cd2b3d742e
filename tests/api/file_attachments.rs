//! Attachments on tickets, ticket comments and messages: the same upload protocol and rules as
//! folders, the visibility of what they belong to (an attachment on an internal comment is
//! internal), authors only, and NOT_FOUND for targets the caller cannot see.

use crate::files::{PDF, PNG, Portal};
use crate::helpers::*;
use serde_json::{Value, json};

async fn attach(
    p: &Portal,
    who: &Session,
    target: &str,
    id: &str,
    name: &str,
    bytes: &[u8],
    ct: &str,
) -> Value {
    let upload = p
        .announce(
            who,
            json!({ "attachTo": { "target": target, "id": id } }),
            name,
            ct,
            bytes,
        )
        .await;
    if upload["errors"].is_array() {
        return upload;
    }
    assert_eq!(p.put(&upload, bytes).await, 200);
    p.complete(who, &upload).await
}

async fn ticket(p: &Portal, who: &Session) -> String {
    let body = p
        .app
        .query(who, "mutation($p: ID!) { createTicket(input: {projectId: $p, kind: BUG, title: \"Broken\", description: \"See the screenshot\"}) { id } }", json!({ "p": p.project }))
        .await;
    data(&body)["createTicket"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

#[tokio::test]
async fn a_ticket_and_its_thread_carry_attachments_internal_ones_for_staff_only() {
    let p = Portal::start().await;
    let t = ticket(&p, &p.team.client).await;
    let shot = attach(
        &p,
        &p.team.client,
        "TICKET",
        &t,
        "screenshot.png",
        PNG,
        "image/png",
    )
    .await;
    assert_eq!(data(&shot)["completeUpload"]["zone"], "CLIENT", "{shot}");
    assert!(data(&shot)["completeUpload"]["folderId"].is_null());

    let note = p
        .app
        .query(&p.team.collaborator, "mutation($t: ID!) { commentTicket(ticketId: $t, body: \"margin\", internal: true) { id } }", json!({ "t": t }))
        .await;
    let note = data(&note)["commentTicket"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let costs = attach(
        &p,
        &p.team.collaborator,
        "TICKET_COMMENT",
        &note,
        "costs.pdf",
        PDF,
        "application/pdf",
    )
    .await;
    assert_eq!(
        data(&costs)["completeUpload"]["zone"],
        "INTERNAL",
        "{costs}"
    );
    let costs_id = data(&costs)["completeUpload"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let thread = "query($t: ID!) { ticket(id: $t) { attachments { name downloadUrl } comments { internal attachments { name } } } }";
    let staff = p.app.query(&p.team.owner, thread, json!({ "t": t })).await;
    assert_eq!(
        data(&staff)["ticket"]["attachments"][0]["name"],
        "screenshot.png",
        "{staff}"
    );
    assert_eq!(
        data(&staff)["ticket"]["comments"][0]["attachments"][0]["name"],
        "costs.pdf"
    );
    let (status, _, bytes) = p
        .fetch(
            data(&staff)["ticket"]["attachments"][0]["downloadUrl"]
                .as_str()
                .unwrap(),
        )
        .await;
    assert_eq!((status, bytes.as_slice()), (200, PNG));

    // The client sees the ticket's attachment, not the internal comment nor its file.
    let client = p.app.query(&p.team.client, thread, json!({ "t": t })).await;
    assert_eq!(
        data(&client)["ticket"]["attachments"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{client}"
    );
    assert_eq!(data(&client)["ticket"]["comments"], json!([]));
    let lookup = p
        .app
        .query(
            &p.team.client,
            "query($f: ID!) { file(id: $f) { id } }",
            json!({ "f": costs_id }),
        )
        .await;
    assert_eq!(error_code(&lookup).as_deref(), Some("NOT_FOUND"));
    let sneak = attach(
        &p,
        &p.team.client,
        "TICKET_COMMENT",
        &note,
        "x.png",
        PNG,
        "image/png",
    )
    .await;
    assert_eq!(error_code(&sneak).as_deref(), Some("NOT_FOUND"), "{sneak}");

    // Attachments stay with what they belong to.
    let content = p.folder("Content").await;
    let moved = p
        .app
        .query(
            &p.team.owner,
            "mutation($f: ID!, $d: ID!) { moveFile(id: $f, folderId: $d) { id } }",
            json!({ "f": costs_id, "d": content }),
        )
        .await;
    assert_eq!(
        error_code(&moved).as_deref(),
        Some("BAD_USER_INPUT"),
        "{moved}"
    );
}

#[tokio::test]
async fn only_a_messages_author_attaches_and_a_deleted_message_shows_none() {
    let p = Portal::start().await;
    let posted = p
        .app
        .query(
            &p.team.client,
            "mutation($p: ID!) { postMessage(projectId: $p, body: \"Here is the brief\") { id } }",
            json!({ "p": p.project }),
        )
        .await;
    let message = data(&posted)["postMessage"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let brief = attach(
        &p,
        &p.team.client,
        "MESSAGE",
        &message,
        "brief.pdf",
        PDF,
        "application/pdf",
    )
    .await;
    assert_eq!(
        data(&brief)["completeUpload"]["name"],
        "brief.pdf",
        "{brief}"
    );
    let theirs = attach(
        &p,
        &p.team.collaborator,
        "MESSAGE",
        &message,
        "mine.pdf",
        PDF,
        "application/pdf",
    )
    .await;
    assert_eq!(
        error_code(&theirs).as_deref(),
        Some("FORBIDDEN"),
        "{theirs}"
    );

    let list = "query($p: ID!) { messages(projectId: $p, first: 10) { edges { node { attachments { name } } } } }";
    let seen = p
        .app
        .query(&p.team.guest, list, json!({ "p": p.project }))
        .await;
    assert_eq!(
        data(&seen)["messages"]["edges"][0]["node"]["attachments"][0]["name"],
        "brief.pdf",
        "{seen}"
    );
    p.app
        .query(
            &p.team.client,
            "mutation($m: ID!) { deleteMessage(id: $m) { id } }",
            json!({ "m": message }),
        )
        .await;
    let seen = p
        .app
        .query(&p.team.guest, list, json!({ "p": p.project }))
        .await;
    assert_eq!(
        data(&seen)["messages"]["edges"][0]["node"]["attachments"],
        json!([])
    );
    let late = attach(
        &p,
        &p.team.client,
        "MESSAGE",
        &message,
        "late.pdf",
        PDF,
        "application/pdf",
    )
    .await;
    assert_eq!(error_code(&late).as_deref(), Some("NOT_FOUND"), "{late}");
}

#[tokio::test]
async fn attaching_to_what_one_cannot_see_answers_not_found_like_a_missing_id() {
    let p = Portal::start().await;
    let globex = p.app.create_team("globex").await;
    let theirs = p
        .app
        .create_project(&globex.owner, "Theirs", &[&globex.client])
        .await;
    let foreign = p
        .app
        .query(&globex.client, "mutation($p: ID!) { createTicket(input: {projectId: $p, kind: BUG, title: \"t\", description: \"d\"}) { id } }", json!({ "p": theirs }))
        .await;
    let foreign = data(&foreign)["createTicket"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A ticket of a project of the same workspace the client is not a member of.
    let other = p.app.create_project(&p.team.owner, "Other", &[]).await;
    let hidden = p
        .app
        .query(&p.team.owner, "mutation($p: ID!) { createTicket(input: {projectId: $p, kind: BUG, title: \"t\", description: \"d\"}) { id } }", json!({ "p": other }))
        .await;
    let hidden = data(&hidden)["createTicket"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = uuid::Uuid::now_v7().to_string();
    let baseline = attach(
        &p,
        &p.team.client,
        "TICKET",
        &missing,
        "a.png",
        PNG,
        "image/png",
    )
    .await;
    assert_eq!(error_code(&baseline).as_deref(), Some("NOT_FOUND"));
    for (who, id) in [
        (&p.team.owner, &foreign),
        (&p.team.client, &foreign),
        (&p.team.client, &hidden),
    ] {
        let refused = attach(&p, who, "TICKET", id, "a.png", PNG, "image/png").await;
        assert_eq!(
            error_code(&refused).as_deref(),
            Some("NOT_FOUND"),
            "{refused}"
        );
        assert_eq!(
            refused["errors"][0]["message"],
            baseline["errors"][0]["message"]
        );
    }
}
