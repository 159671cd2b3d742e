//! The account emails' words (English and French) and their rendering through the Jinja
//! templates `templates/mail/account.{txt,html}` (HTML auto-escaped, so a workspace named
//! `<b>` arrives as text). Only names travel in them: the workspace, the inviter, the role.

use crate::mail::Outgoing;
use minijinja::{Environment, context};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        (
            "account.txt",
            include_str!("../../templates/mail/account.txt"),
        ),
        (
            "account.html",
            include_str!("../../templates/mail/account.html"),
        ),
    ] {
        if let Err(error) = env.add_template(name, source) {
            // Compiled in and rendered by the tests below: never reached in a tested build.
            tracing::error!(%error, name, "an email template does not compile");
        }
    }
    env
});

/// What an account email is about; stored by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invitation,
    PasswordReset,
    VerifyEmail,
    ConfirmEmailChange,
    /// A notice to the old address, carrying no secret.
    EmailChanged,
}

impl Kind {
    pub const ALL: [Self; 5] = [
        Self::Invitation,
        Self::PasswordReset,
        Self::VerifyEmail,
        Self::ConfirmEmailChange,
        Self::EmailChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "INVITATION",
            Self::PasswordReset => "PASSWORD_RESET",
            Self::VerifyEmail => "VERIFY_EMAIL",
            Self::ConfirmEmailChange => "CONFIRM_EMAIL_CHANGE",
            Self::EmailChanged => "EMAIL_CHANGED",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The portal page its link opens; the secret goes in the fragment, which browsers never
    /// send to a server nor put in a `Referer`.
    pub fn page(self) -> Option<&'static str> {
        match self {
            Self::Invitation => Some("/invitations/accept#code="),
            Self::PasswordReset => Some("/reset-password#token="),
            Self::VerifyEmail => Some("/verify-email#token="),
            Self::ConfirmEmailChange => Some("/confirm-email#token="),
            Self::EmailChanged => None,
        }
    }
}

/// The names an account email shows (stored with it as JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vars {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The inviting workspace's sender name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The address an account moved to (the notice to the old one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
    /// How long the link works.
    #[serde(default)]
    pub hours: i64,
}

struct Words {
    subject: &'static str,
    paragraphs: &'static [&'static str],
    action: &'static str,
    note: &'static str,
}

fn words(kind: Kind, french: bool) -> Words {
    match (kind, french) {
        (Kind::Invitation, false) => Words {
            subject: "{inviter} invited you to {workspace}",
            paragraphs: &["{inviter} invited you to join {workspace} as {role}."],
            action: "Accept the invitation",
            note: "The link works once and for {hours} hours. If you did not expect this invitation, ignore this email.",
        },
        (Kind::Invitation, true) => Words {
            subject: "{inviter} vous invite sur {workspace}",
            paragraphs: &["{inviter} vous invite à rejoindre {workspace} en tant que {role}."],
            action: "Accepter l'invitation",
            note: "Le lien fonctionne une fois, pendant {hours} heures. Si vous n'attendiez pas cette invitation, ignorez cet e-mail.",
        },
        (Kind::PasswordReset, false) => Words {
            subject: "Reset your password",
            paragraphs: &["Someone, hopefully you, asked to reset the password of your account."],
            action: "Choose a new password",
            note: "The link works once and for {hours} hours; using it signs you out everywhere. If you did not ask, ignore this email: your password stays as it is.",
        },
        (Kind::PasswordReset, true) => Words {
            subject: "Réinitialisez votre mot de passe",
            paragraphs: &[
                "Quelqu'un, vous sans doute, a demandé à réinitialiser le mot de passe de votre compte.",
            ],
            action: "Choisir un nouveau mot de passe",
            note: "Le lien fonctionne une fois, pendant {hours} heures, et vous déconnecte partout. Si vous n'avez rien demandé, ignorez cet e-mail : votre mot de passe ne change pas.",
        },
        (Kind::VerifyEmail, false) => Words {
            subject: "Confirm your email address",
            paragraphs: &["Confirm that this address is yours to finish setting up your account."],
            action: "Confirm my address",
            note: "The link works once and for {hours} hours. If you did not create an account, ignore this email.",
        },
        (Kind::VerifyEmail, true) => Words {
            subject: "Confirmez votre adresse e-mail",
            paragraphs: &[
                "Confirmez que cette adresse est bien la vôtre pour finir de créer votre compte.",
            ],
            action: "Confirmer mon adresse",
            note: "Le lien fonctionne une fois, pendant {hours} heures. Si vous n'avez pas créé de compte, ignorez cet e-mail.",
        },
        (Kind::ConfirmEmailChange, false) => Words {
            subject: "Confirm your new email address",
            paragraphs: &["Confirm this address to make it the one you sign in with."],
            action: "Confirm the new address",
            note: "The link works once and for {hours} hours. Until then, your account keeps its current address.",
        },
        (Kind::ConfirmEmailChange, true) => Words {
            subject: "Confirmez votre nouvelle adresse e-mail",
            paragraphs: &["Confirmez cette adresse pour en faire celle de votre compte."],
            action: "Confirmer la nouvelle adresse",
            note: "Le lien fonctionne une fois, pendant {hours} heures. D'ici là, votre compte garde son adresse actuelle.",
        },
        (Kind::EmailChanged, false) => Words {
            subject: "Your email address was changed",
            paragraphs: &[
                "The email address of your account is now {new_email}; this address no longer signs in.",
                "If you did not make this change, reset your password and tell your workspace's administrator at once.",
            ],
            action: "",
            note: "This notice goes to your previous address.",
        },
        (Kind::EmailChanged, true) => Words {
            subject: "Votre adresse e-mail a changé",
            paragraphs: &[
                "L'adresse e-mail de votre compte est désormais {new_email} ; celle-ci ne permet plus de se connecter.",
                "Si ce n'est pas vous, réinitialisez votre mot de passe et prévenez tout de suite l'administrateur de votre espace.",
            ],
            action: "",
            note: "Cet avis est envoyé à votre ancienne adresse.",
        },
    }
}

fn fill(text: &str, vars: &Vars) -> String {
    let or_blank = |v: &Option<String>| v.clone().unwrap_or_default();
    text.replace("{inviter}", &or_blank(&vars.inviter))
        .replace("{workspace}", &or_blank(&vars.workspace))
        .replace("{role}", &or_blank(&vars.role))
        .replace("{new_email}", &or_blank(&vars.new_email))
        .replace("{hours}", &vars.hours.to_string())
}

/// One account email, ready to render.
#[derive(Debug, Clone)]
pub struct AccountMail<'a> {
    pub kind: Kind,
    pub to: &'a str,
    pub locale: &'a str,
    pub vars: &'a Vars,
    /// The link carrying the secret, for kinds that have one.
    pub link: Option<&'a str>,
}

/// Renders `mail` in its recipient's language.
pub fn render(mail: &AccountMail<'_>) -> Result<Outgoing, minijinja::Error> {
    let french = mail.locale == "fr";
    let w = words(mail.kind, french);
    let greeting = match (&mail.vars.recipient, french) {
        (Some(name), false) => format!("Hello {name}"),
        (Some(name), true) => format!("Bonjour {name}"),
        (None, false) => "Hello".to_owned(),
        (None, true) => "Bonjour".to_owned(),
    };
    let subject: String = fill(w.subject, mail.vars).chars().take(200).collect();
    let paragraphs: Vec<String> = w.paragraphs.iter().map(|p| fill(p, mail.vars)).collect();
    let ctx = context! {
        locale => if french { "fr" } else { "en" },
        subject => subject.clone(),
        sender => mail.vars.workspace.clone(),
        greeting => greeting,
        sep => if french { " : " } else { ": " },
        paragraphs => paragraphs,
        action => w.action,
        link => mail.link,
        note => fill(w.note, mail.vars),
    };
    Ok(Outgoing {
        to: mail.to.to_owned(),
        to_name: mail.vars.recipient.clone(),
        from_name: mail.vars.workspace.clone(),
        subject,
        text: TEMPLATES.get_template("account.txt")?.render(&ctx)?,
        html: TEMPLATES.get_template("account.html")?.render(&ctx)?,
        unsubscribe: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(locale: &str) -> Outgoing {
        let vars = Vars {
            workspace: Some("Acme <b>& Co".into()),
            inviter: Some("Ana".into()),
            role: Some("Client".into()),
            hours: 168,
            ..Vars::default()
        };
        render(&AccountMail {
            kind: Kind::Invitation,
            to: "bo@example.com",
            locale,
            vars: &vars,
            link: Some("https://portal.example.com/invitations/accept#code=inv_x&y"),
        })
        .unwrap()
    }

    #[test]
    fn an_invitation_names_who_invites_where_and_escapes_html() {
        let mail = invitation("en");
        assert_eq!(mail.subject, "Ana invited you to Acme <b>& Co");
        assert!(
            mail.text
                .starts_with("Hello,\n\nAna invited you to join Acme <b>& Co as Client.\n")
        );
        assert!(mail.text.contains(
            "Accept the invitation: https://portal.example.com/invitations/accept#code=inv_x&y"
        ));
        assert!(mail.text.contains("The link works once and for 168 hours."));
        assert!(
            mail.html.contains("Acme &lt;b&gt;&amp; Co"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<b>"));
        assert!(mail.html.contains("#code=inv_x&amp;y"));
        assert_eq!(mail.from_name.as_deref(), Some("Acme <b>& Co"));
        assert!(mail.unsubscribe.is_none());
    }

    #[test]
    fn every_kind_renders_in_both_languages() {
        let vars = Vars {
            recipient: Some("Léa".into()),
            new_email: Some("new@example.fr".into()),
            hours: 1,
            ..Vars::default()
        };
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            for locale in ["en", "fr"] {
                let link = kind.page().map(|p| format!("https://p.example{p}secret"));
                let mail = render(&AccountMail {
                    kind,
                    to: "lea@example.fr",
                    locale,
                    vars: &vars,
                    link: link.as_deref(),
                })
                .unwrap();
                assert!(!mail.subject.is_empty() && !mail.subject.contains('{'));
                assert!(!mail.text.contains('{'), "{kind:?} {locale}: {}", mail.text);
                assert_eq!(mail.text.contains("secret"), link.is_some());
                let hello = if locale == "fr" {
                    "Bonjour Léa,"
                } else {
                    "Hello Léa,"
                };
                assert!(mail.text.starts_with(hello), "{}", mail.text);
                assert!(mail.html.contains(&format!("<html lang=\"{locale}\">")));
            }
        }
        let notice = render(&AccountMail {
            kind: Kind::EmailChanged,
            to: "old@example.fr",
            locale: "fr",
            vars: &vars,
            link: None,
        })
        .unwrap();
        assert!(notice.text.contains("est désormais new@example.fr"));
    }

    #[test]
    fn an_invitation_matches_its_snapshots() {
        let mail = invitation("fr");
        crate::mail::assert_snapshot("invitation.fr.txt", &mail.text);
        crate::mail::assert_snapshot("invitation.fr.html", &mail.html);
    }
}
