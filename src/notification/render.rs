//! Emails rendered for their recipient: Jinja templates (`templates/mail/`, HTML auto-escaped
//! by extension, so a ticket titled `<script>` arrives as text) filled only with what the
//! recipient may read: the notification's line, the workspace's and project's names, and a link
//! back into the portal.

pub use super::brand::Brand;
use super::lines::localized;
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
    pub brand: Brand<'a>,
    pub project: &'a str,
    /// The notification's kind (`message.added`, …).
    pub kind: &'a str,
    pub summary: &'a str,
    /// The lines of the notifications grouped with this one, oldest first.
    pub more: &'a [&'a str],
    pub link: &'a str,
    /// One-click unsubscribe from this kind of email (none for receipts).
    pub unsubscribe: Option<&'a str>,
    /// The recipient's language (`en`, `fr`).
    pub locale: &'a str,
}

/// What a daily digest says.
#[derive(Debug, Clone)]
pub struct DigestMail<'a> {
    pub to: &'a str,
    pub recipient: &'a str,
    pub brand: Brand<'a>,
    /// `[Project] line`, already in the recipient's language, oldest first.
    pub lines: &'a [String],
    pub link: &'a str,
    pub locale: &'a str,
}

/// The daily digest of one person in one workspace.
pub fn digest(mail: &DigestMail<'_>) -> Result<Outgoing, minijinja::Error> {
    let french = mail.locale == "fr";
    let w = words(mail.locale);
    let n = mail.lines.len();
    let headline = if french {
        format!(
            "Résumé du jour : {n} nouveauté{}",
            if n > 1 { "s" } else { "" }
        )
    } else {
        format!("Daily digest: {n} update{}", if n > 1 { "s" } else { "" })
    };
    let footer = if french {
        format!(
            "Vous recevez ce résumé car vous l'avez choisi pour {}.",
            mail.brand.name
        )
    } else {
        format!(
            "You receive this digest because you chose it for {}.",
            mail.brand.name
        )
    };
    let ctx = context! {
        locale => if french { "fr" } else { "en" },
        greeting => w.greeting,
        sep => if mail.locale == "fr" { " : " } else { ": " },
        recipient => mail.recipient,
        workspace => mail.brand.name,
        logo => mail.brand.logo(),
        color => mail.brand.color(),
        summary => headline.clone(),
        lines => mail.lines.to_vec(),
        open_label => w.open,
        link => mail.link,
        footer => footer,
    };
    Ok(Outgoing {
        to: mail.to.to_owned(),
        to_name: Some(mail.recipient.to_owned()),
        from_name: Some(mail.brand.name.to_owned()),
        subject: format!("[{}] {headline}", mail.brand.name)
            .chars()
            .take(200)
            .collect(),
        text: TEMPLATES.get_template("notification.txt")?.render(&ctx)?,
        html: TEMPLATES.get_template("notification.html")?.render(&ctx)?,
        unsubscribe: None,
    })
}

/// The words of the emails, in each language Portico speaks.
struct Words {
    greeting: &'static str,
    project: &'static str,
    open: &'static str,
    unsubscribe: &'static str,
    /// "You receive this because you take part in {project} on {workspace}."
    footer: [&'static str; 3],
    /// "{n} new messages", "{n} new files".
    messages: &'static str,
    files: &'static str,
}

const EN: Words = Words {
    greeting: "Hello",
    project: "Project",
    open: "Open in the portal",
    unsubscribe: "Stop emails like this one",
    footer: ["You receive this because you take part in ", " on ", "."],
    messages: "new messages",
    files: "new files",
};

const FR: Words = Words {
    greeting: "Bonjour",
    project: "Projet",
    open: "Ouvrir dans le portail",
    unsubscribe: "Ne plus recevoir ces e-mails",
    footer: [
        "Vous recevez cet e-mail car vous participez à ",
        " sur ",
        ".",
    ],
    messages: "nouveaux messages",
    files: "nouveaux fichiers",
};

fn words(locale: &str) -> &'static Words {
    if locale == "fr" { &FR } else { &EN }
}

/// The email of a notification.
pub fn notification(mail: &NotificationMail<'_>) -> Result<Outgoing, minijinja::Error> {
    let w = words(mail.locale);
    let line = |l: &str| localized(l, mail.locale);
    let headline = if mail.more.is_empty() {
        line(mail.summary)
    } else {
        let what = if super::grouping::is_messages(mail.kind) {
            w.messages
        } else {
            w.files
        };
        format!("{} {what}", mail.more.len() + 1)
    };
    let lines: Vec<String> = if mail.more.is_empty() {
        Vec::new()
    } else {
        std::iter::once(mail.summary)
            .chain(mail.more.iter().copied())
            .map(line)
            .collect()
    };
    let ctx = context! {
        locale => if mail.locale == "fr" { "fr" } else { "en" },
        greeting => w.greeting,
        sep => if mail.locale == "fr" { " : " } else { ": " },
        recipient => mail.recipient,
        workspace => mail.brand.name,
        logo => mail.brand.logo(),
        color => mail.brand.color(),
        project => mail.project,
        project_label => w.project,
        summary => headline.clone(),
        lines => lines,
        open_label => w.open,
        link => mail.link,
        unsubscribe => mail.unsubscribe,
        unsubscribe_label => w.unsubscribe,
        footer => [w.footer[0], mail.project, w.footer[1], mail.brand.name, w.footer[2]].concat(),
    };
    let text = TEMPLATES.get_template("notification.txt")?.render(&ctx)?;
    let html = TEMPLATES.get_template("notification.html")?.render(&ctx)?;
    let subject: String = format!("[{}] {headline}", mail.project)
        .chars()
        .take(200)
        .collect();
    Ok(Outgoing {
        to: mail.to.to_owned(),
        to_name: Some(mail.recipient.to_owned()),
        from_name: Some(mail.brand.name.to_owned()),
        subject,
        text,
        html,
        unsubscribe: mail.unsubscribe.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_french_reader_gets_french_words() {
        let mail = notification(&NotificationMail {
            to: "lea@example.fr",
            recipient: "Léa",
            brand: Brand::named("Atelier"),
            project: "Boulangerie",
            kind: "file.uploaded",
            summary: "File uploaded: logo.png",
            more: &["File uploaded: menu.pdf"],
            link: "https://portail.example.fr/projects/1",
            unsubscribe: Some("https://portail.example.fr/unsubscribe?w=1"),
            locale: "fr",
        })
        .unwrap();
        assert_eq!(mail.subject, "[Boulangerie] 2 nouveaux fichiers");
        assert!(mail.text.starts_with("Bonjour Léa,"), "{}", mail.text);
        assert!(
            mail.text.contains("Projet : Boulangerie") || mail.text.contains("Projet: Boulangerie")
        );
        assert!(mail.text.contains("Ouvrir dans le portail"));
        assert!(
            mail.text
                .contains("Vous recevez cet e-mail car vous participez à Boulangerie sur Atelier.")
        );
        assert!(mail.html.contains("<html lang=\"fr\">"));
        assert!(mail.html.contains("Ne plus recevoir ces e-mails"));
    }

    #[test]
    fn grouped_notifications_say_how_many_and_list_each() {
        let mail = notification(&NotificationMail {
            to: "ana@example.com",
            recipient: "Ana",
            brand: Brand {
                name: "Acme",
                logo: Some("https://cdn.example.com/acme.png"),
                color: Some("#112233"),
            },
            project: "Bakery website",
            kind: "message.added",
            summary: "New message: one",
            more: &["New message: two", "New message: three"],
            link: "https://portal.example.com/projects/1",
            unsubscribe: None,
            locale: "en",
        })
        .unwrap();
        assert_eq!(mail.subject, "[Bakery website] 3 new messages");
        for line in [
            "- New message: one",
            "- New message: two",
            "- New message: three",
        ] {
            assert!(mail.text.contains(line), "{}", mail.text);
        }
        assert!(
            mail.html.contains("<li>New message: three</li>"),
            "{}",
            mail.html
        );
        assert!(
            mail.html
                .contains("<img src=\"https:&#x2f;&#x2f;cdn.example.com&#x2f;acme.png\"")
        );
        assert!(mail.html.contains("background: #112233;"));
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let mail = notification(&NotificationMail {
            to: "ana@example.com",
            recipient: "Ana",
            brand: Brand {
                name: "Acme & Co",
                logo: Some("javascript:alert(1)"),
                color: Some("red; background: url(x)"),
            },
            project: "Bakery <website>",
            kind: "ticket.created",
            more: &[],
            summary: "Ticket #3 created: <script>alert(1)</script>",
            link: "https://portal.example.com/projects/1",
            unsubscribe: Some("https://portal.example.com/unsubscribe?w=1&s=x"),
            locale: "en",
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
        // A logo that is no http(s) URL and a colour that is no #rrggbb are left out.
        assert!(!mail.html.contains("javascript:") && !mail.html.contains("url(x)"));
        assert!(mail.html.contains("background: #3b5bdb;"));
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
        assert!(
            mail.text.contains(
                "Stop emails like this one: https://portal.example.com/unsubscribe?w=1&s=x"
            )
        );
        assert!(
            mail.html.contains("unsubscribe?w=1&amp;s=x"),
            "{}",
            mail.html
        );
        assert_eq!(
            mail.unsubscribe.as_deref(),
            Some("https://portal.example.com/unsubscribe?w=1&s=x")
        );
    }

    #[test]
    fn rendered_emails_match_their_snapshots() {
        let brand = Brand {
            name: "Atelier Acme",
            logo: Some("https://cdn.example.com/acme.png"),
            color: Some("#0f766e"),
        };
        let mail = notification(&NotificationMail {
            to: "lea@example.fr",
            recipient: "Léa",
            brand,
            project: "Boulangerie",
            kind: "ticket.status_changed",
            summary: "Ticket #4 quoted",
            more: &[],
            link: "https://portail.example.fr/projects/1",
            unsubscribe: Some("https://portail.example.fr/unsubscribe?w=1&s=x"),
            locale: "fr",
        })
        .unwrap();
        crate::mail::assert_snapshot("notification.fr.txt", &mail.text);
        crate::mail::assert_snapshot("notification.fr.html", &mail.html);
        let lines = [
            "[Bakery] Ticket #1 created".to_owned(),
            "[Bakery] New message: Hi".to_owned(),
        ];
        let mail = digest(&DigestMail {
            to: "ana@example.com",
            recipient: "Ana",
            brand,
            lines: &lines,
            link: "https://portal.example.com/",
            locale: "en",
        })
        .unwrap();
        assert_eq!(mail.subject, "[Atelier Acme] Daily digest: 2 updates");
        crate::mail::assert_snapshot("digest.en.txt", &mail.text);
    }
}
