//! Notifications end to end, with a real SMTP server (the test sink) or the embedded `.eml`
//! folder: who is told of what, in the notification center and by email; nobody twice when an
//! event is delivered again; nobody who lost access by the time of sending; emails that wait
//! while SMTP is down.

use crate::helpers::*;
use crate::smtp::SmtpSink;
use portico::config::Secret;
use portico::jobs::Job;
use serde_json::{Value, json};

pub(crate) struct Mailroom {
    pub app: TestApp,
    pub team: Team,
    pub project: String,
    pub sink: SmtpSink,
}

impl Mailroom {
    /// A team whose project has the client and the guest as members; mail to the sink.
    pub(crate) async fn start() -> Mailroom {
        Self::start_with(|_| {}).await
    }

    /// The same, `configure`d. By default nobody counts as active in the portal, so "when not
    /// active" emails go, and no email waits for others to group with.
    pub(crate) async fn start_with(
        configure: impl FnOnce(&mut portico::config::Config),
    ) -> Mailroom {
        let sink = SmtpSink::start().await;
        let url = sink.url();
        let app = spawn_app_with(|c| {
            c.mail.smtp_url = Some(Secret::new(url));
            c.mail.notify_active_secs = 0;
            c.mail.notify_group_secs = 0;
            configure(c);
        })
        .await;
        let team = app.create_team("acme").await;
        let project = app
            .create_project(&team.owner, "Bakery website", &[&team.client, &team.guest])
            .await;
        Mailroom {
            app,
            team,
            project,
            sink,
        }
    }

    /// Waits until the outbox has handed every event to its consumers, then runs the mail job.
    pub(crate) async fn deliver(&self) -> u64 {
        self.app.outbox_drained().await;
        portico::app::notification_jobs::SendEmails
            .run(&self.app.state)
            .await
            .unwrap()
    }

    /// Every waiting email becomes due now (its backoff or grouping wait over).
    pub(crate) async fn make_due(&self) {
        use portico::db::Scoped;
        use sea_orm::sea_query::Expr;
        Scoped::new(self.app.state.db.conn(), self.team.workspace_id)
            .update_many::<entity::email_delivery::Entity>()
            .col_expr(
                entity::email_delivery::Column::AvailableAt,
                Expr::value(chrono::Utc::now()),
            )
            .exec(self.app.state.db.conn())
            .await
            .unwrap();
    }

    pub(crate) async fn inbox(&self, who: &Session) -> Value {
        let body = self
            .app
            .query(
                who,
                "{ notifications(first: 20) { totalCount nodes { id kind summary projectId readAt actor { name } } } unreadNotificationCount }",
                json!({}),
            )
            .await;
        data(&body).clone()
    }
}

pub(crate) async fn open_ticket(m: &Mailroom, who: &Session, title: &str) -> String {
    let body = m
        .app
        .query(
            who,
            "mutation($p: ID!, $t: String!) { createTicket(input: {projectId: $p, kind: CHANGE, title: $t, description: \"Please\"}) { id } }",
            json!({ "p": m.project, "t": title }),
        )
        .await;
    data(&body)["createTicket"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_clients_ticket_tells_the_team_in_app_and_by_email_and_nobody_twice() {
    let m = Mailroom::start().await;
    open_ticket(&m, &m.team.client, "New <b>logo</b>").await;
    let sent = m.deliver().await;
    // Owner, admin and collaborator see every project; the guest is a member. Not the client.
    assert_eq!(sent, 4);
    let mails = m.sink.wait_for(4).await;
    assert_eq!(mails.len(), 4);
    assert!(m.sink.to(&m.team.client.email).is_empty());
    let owner_mail = &m.sink.to(&m.team.owner.email)[0];
    assert_eq!(owner_mail.from, "no-reply@portico.localhost");
    let subject = owner_mail.header("Subject").unwrap();
    assert!(subject.contains("Bakery website"), "{subject}");
    assert!(
        owner_mail.data.contains("/projects/"),
        "a link back into the portal"
    );
    assert!(owner_mail.data.contains("<p>Hello Owner,</p>"));
    assert_eq!(
        owner_mail.header("From").unwrap(),
        "\"acme studio\" <no-reply@portico.localhost>"
    );

    let inbox = m.inbox(&m.team.owner).await;
    assert_eq!(inbox["unreadNotificationCount"], 1);
    let node = &inbox["notifications"]["nodes"][0];
    assert_eq!(node["kind"], "TICKET_CREATED");
    assert_eq!(node["projectId"], m.project.as_str());
    assert!(node["actor"]["name"].is_string());
    assert_eq!(
        m.inbox(&m.team.client).await["notifications"]["totalCount"],
        0
    );

    // The outbox delivers the same event again (a crash before its mark): nothing new.
    let events = portico::db::outbox::recent(&m.app.state.db, 100)
        .await
        .unwrap();
    let mut again = 0;
    for envelope in &events {
        again += portico::notification::fanout::fan_out(&m.app.state.db, envelope, 0, 8)
            .await
            .unwrap();
    }
    assert_eq!(again, 0);
    assert_eq!(m.deliver().await, 0);
    assert_eq!(m.sink.messages().len(), 4);

    // Reading: someone else's ID changes nothing; one's own does, once.
    let id = node["id"].clone();
    let mark = "mutation($i: [ID!]!) { markNotificationsRead(ids: $i) }";
    let by_client = m
        .app
        .query(&m.team.client, mark, json!({ "i": [id] }))
        .await;
    assert_eq!(data(&by_client)["markNotificationsRead"], 0);
    let rival = m.app.create_team("rival").await;
    let by_rival = m.app.query(&rival.owner, mark, json!({ "i": [id] })).await;
    assert_eq!(data(&by_rival)["markNotificationsRead"], 0);
    assert_eq!(
        m.inbox(&rival.owner).await["notifications"]["totalCount"],
        0
    );
    let by_owner = m.app.query(&m.team.owner, mark, json!({ "i": [id] })).await;
    assert_eq!(data(&by_owner)["markNotificationsRead"], 1);
    assert_eq!(m.inbox(&m.team.owner).await["unreadNotificationCount"], 0);
    let all = m
        .app
        .query(
            &m.team.admin,
            "mutation { markAllNotificationsRead }",
            json!({}),
        )
        .await;
    assert_eq!(data(&all)["markAllNotificationsRead"], 1);
}

#[tokio::test]
async fn an_internal_comment_reaches_staff_only() {
    let m = Mailroom::start().await;
    let ticket = open_ticket(&m, &m.team.client, "Speed").await;
    m.deliver().await;
    let before = m.sink.messages().len();
    data(&m.app.query(&m.team.collaborator, "mutation($t: ID!) { commentTicket(ticketId: $t, body: \"Client is difficult\", internal: true) { id } }", json!({ "t": ticket })).await);
    m.deliver().await;
    let new: Vec<_> = m.sink.messages().into_iter().skip(before).collect();
    let told: Vec<&str> = new.iter().map(|mail| mail.to[0].as_str()).collect();
    assert!(told.contains(&m.team.owner.email.as_str()), "{told:?}");
    assert!(!told.contains(&m.team.client.email.as_str()), "{told:?}");
    assert!(!told.contains(&m.team.guest.email.as_str()), "{told:?}");
    assert!(
        !told.contains(&m.team.collaborator.email.as_str()),
        "the author: {told:?}"
    );
    for who in [&m.team.client, &m.team.guest] {
        let inbox = m.inbox(who).await;
        assert!(!inbox.to_string().contains("difficult"), "{inbox}");
    }
}

#[tokio::test]
async fn someone_who_lost_access_before_the_send_gets_nothing() {
    let m = Mailroom::start().await;
    data(
        &m.app
            .query(
                &m.team.owner,
                "mutation($p: ID!) { postMessage(projectId: $p, body: \"Proofs are ready\") { id } }",
                json!({ "p": m.project }),
            )
            .await,
    );
    m.app.outbox_drained().await;
    // The guest leaves the project before the mail job runs.
    data(
        &m.app
            .query(
                &m.team.owner,
                "mutation($p: ID!, $u: ID!) { removeProjectMember(projectId: $p, userId: $u) { id } }",
                json!({ "p": m.project, "u": m.team.guest.user_id }),
            )
            .await,
    );
    m.deliver().await;
    assert_eq!(m.sink.to(&m.team.client.email).len(), 1);
    assert!(m.sink.to(&m.team.guest.email).is_empty());
    // Nor does the notification stay in their center.
    assert_eq!(
        m.inbox(&m.team.guest).await["notifications"]["totalCount"],
        0
    );
    let client = m.inbox(&m.team.client).await;
    assert_eq!(client["notifications"]["nodes"][0]["kind"], "MESSAGE_ADDED");
    assert_eq!(
        client["notifications"]["nodes"][0]["summary"],
        "New message: Proofs are ready"
    );
}

#[tokio::test]
async fn emails_wait_while_smtp_is_down_and_go_when_it_is_back() {
    let m = Mailroom::start().await;
    m.sink.set_down(true);
    open_ticket(&m, &m.team.client, "Menu").await;
    assert_eq!(m.deliver().await, 0, "nothing settles while SMTP refuses");
    assert!(m.sink.messages().is_empty());
    let log = "query($s: EmailStatus) { emailDeliveries(first: 10, status: $s) { totalCount nodes { kind status attempts toAddress providerId lastError nextAttemptAt sentAt recipient { name } } } }";
    let retrying = m
        .app
        .query(&m.team.admin, log, json!({ "s": "RETRYING" }))
        .await;
    let retrying = &data(&retrying)["emailDeliveries"];
    assert_eq!(retrying["totalCount"], 4, "{retrying}");
    let first = &retrying["nodes"][0];
    assert_eq!(
        (first["kind"].clone(), first["attempts"].clone()),
        (json!("TICKET_CREATED"), json!(1))
    );
    assert!(
        first["lastError"].as_str().unwrap().contains("temporary"),
        "{first}"
    );
    assert!(
        first["nextAttemptAt"].is_string() && first["sentAt"].is_null(),
        "{first}"
    );
    // Their backoff over, they go.
    m.sink.set_down(false);
    m.make_due().await;
    assert_eq!(m.deliver().await, 4);
    assert_eq!(m.sink.wait_for(4).await.len(), 4);
    let sent = m
        .app
        .query(&m.team.owner, log, json!({ "s": "SENT" }))
        .await;
    let sent = &data(&sent)["emailDeliveries"];
    assert_eq!(sent["totalCount"], 4, "{sent}");
    assert!(
        sent["nodes"][0]["providerId"]
            .as_str()
            .unwrap()
            .contains("queued as SINK"),
        "{sent}"
    );
    assert!(
        sent["nodes"][0]["toAddress"].is_string()
            && sent["nodes"][0]["recipient"]["name"].is_string()
    );
}

#[tokio::test]
async fn without_smtp_emails_land_as_files_in_the_mail_folder() {
    // Nobody counts as active: every email goes.
    let app = spawn_app_with(|c| {
        c.mail.notify_active_secs = 0;
        c.mail.notify_group_secs = 0;
    })
    .await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    data(
        &app.query(
            &team.client,
            "mutation($p: ID!) { postMessage(projectId: $p, body: \"Hello\") { id } }",
            json!({ "p": project }),
        )
        .await,
    );
    app.outbox_drained().await;
    let sent = portico::app::notification_jobs::SendEmails
        .run(&app.state)
        .await
        .unwrap();
    assert_eq!(sent, 3, "owner, admin and collaborator");
    let dir = app.state.config.data_dir.join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(files.len(), 3);
    let one = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(one.contains("New message: Hello"), "{one}");
}
