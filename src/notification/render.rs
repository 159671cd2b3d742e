//! Emails rendered for their recipient: Jinja templates (`templates/mail/`, HTML auto-escaped
//! by extension, so a ticket titled `<script>` arrives as text) filled only with what the
//! recipient may read: the notification's line, the workspace's and project's names, and a link
//! back into the portal.

use crate::mail::Outgoing;
use minijinja::{Environment, context};
use std::sync::LazyLock;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        (
            "notification.txt",
            include_str!("../../templates/mail/notification.txt"),
        ),
        (
            "notification.html",
            include_str!("../../templates/mail/notification.html"),
        ),
    ] {
        if let Err(error) = env.add_template(name, source) {
            // Templates are compiled in; a test renders each, so this is never reached in a build
            // that passed its tests.
            tracing::error!(%error, name, "an email template does not compile");
        }
    }
    env
});

/// What a notification email says.
#[derive(Debug, Clone)]
pub struct NotificationMail<'a> {
    pub to: &'a str,
    pub recipient: &'a str,
    pub workspace: &'a str,
    pub project: &'a str,
    pub summary: &'a str,
    pub link: &'a str,
}

/// The email of a notification.
pub fn notification(mail: &NotificationMail<'_>) -> Result<Outgoing, minijinja::Error> {
    let ctx = context! {
        locale => "en",
        greeting => "Hello",
        recipient => mail.recipient,
        workspace => mail.workspace,
        project => mail.project,
        project_label => "Project",
        summary => mail.summary,
        open_label => "Open in the portal",
        link => mail.link,
        footer => format!(
            "You receive this because you take part in {} on {}.",
            mail.project, mail.workspace
        ),
    };
    let text = TEMPLATES.get_template("notification.txt")?.render(&ctx)?;
    let html = TEMPLATES.get_template("notification.html")?.render(&ctx)?;
    let subject: String = format!("[{}] {}", mail.project, mail.summary)
        .chars()
        .take(200)
        .collect();
    Ok(Outgoing {
        to: mail.to.to_owned(),
        to_name: Some(mail.recipient.to_owned()),
        from_name: Some(mail.workspace.to_owned()),
        subject,
        text,
        html,
        unsubscribe: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let mail = notification(&NotificationMail {
            to: "ana@example.com",
            recipient: "Ana",
            workspace: "Acme & Co",
            project: "Bakery <website>",
            summary: "Ticket #3 created: <script>alert(1)</script>",
            link: "https://portal.example.com/projects/1",
        })
        .unwrap();
        assert_eq!(
            mail.subject,
            "[Bakery <website>] Ticket #3 created: <script>alert(1)</script>"
        );
        assert!(
            mail.html.contains("&lt;script&gt;alert(1)&lt;"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("Acme &amp; Co"));
        assert!(
            mail.text
                .contains("Ticket #3 created: <script>alert(1)</script>")
        );
        assert!(mail.text.starts_with("Hello Ana,\n"));
        assert!(
            mail.text
                .contains("Open in the portal: https://portal.example.com/projects/1")
        );
        assert_eq!(mail.from_name.as_deref(), Some("Acme & Co"));
    }
}
