//! A notification's line in the reader's language. Lines are stored as the timeline writes them
//! (English); each shape a notifying action writes has its French here, and a line of an
//! unknown shape stays as it is. The tests below write every shape the triggers produce.

/// `summary` in `locale` (`en` or `fr`).
pub fn localized(summary: &str, locale: &str) -> String {
    if locale != "fr" {
        return summary.to_owned();
    }
    french(summary).unwrap_or_else(|| summary.to_owned())
}

fn ticket_status(status: &str) -> Option<&'static str> {
    Some(match status {
        "new" => "nouveau",
        "to clarify" => "à préciser",
        "refused" => "refusé",
        "accepted" => "accepté",
        "quoted" => "devis envoyé",
        "awaiting payment" => "en attente de paiement",
        "declined" => "devis refusé",
        "paid" => "payé",
        _ => return None,
    })
}

fn project_status(label: &str) -> Option<&'static str> {
    Some(match label {
        "In progress" => "en cours",
        "Waiting for the client" => "en attente du client",
        "Done" => "terminé",
        _ => return None,
    })
}

/// The text between `prefix` and `suffix`, when `line` has both.
fn between<'a>(line: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_suffix(suffix)
}

fn french(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("New message: ") {
        return Some(format!("Nouveau message : {rest}"));
    }
    if let Some(name) = line.strip_prefix("File uploaded: ") {
        return Some(format!("Fichier déposé : {name}"));
    }
    if let Some(rest) = line.strip_prefix("New version of ") {
        let (name, version) = rest.rsplit_once(": v")?;
        return Some(format!("Nouvelle version de {name} : v{version}"));
    }
    if let Some(n) = line.strip_prefix("Comment on ticket #") {
        return Some(format!("Commentaire sur le ticket n°{n}"));
    }
    if let Some(n) = line.strip_prefix("Internal note on ticket #") {
        return Some(format!("Note interne sur le ticket n°{n}"));
    }
    if let Some(rest) = line.strip_prefix("Quote of ticket #") {
        let (n, verb) = rest.split_once(' ')?;
        let verb = match verb {
            "accepted" => "accepté",
            "declined" => "refusé",
            _ => return None,
        };
        return Some(format!("Devis du ticket n°{n} {verb}"));
    }
    if let Some(rest) = line.strip_prefix("Ticket #") {
        let (n, what) = rest.split_once(' ')?;
        return Some(match what {
            "created" => format!("Ticket n°{n} créé"),
            "answered: back to NEW" => {
                format!("Ticket n°{n} : réponse reçue, de nouveau à traiter")
            }
            status => format!("Ticket n°{n} : {}", ticket_status(status)?),
        });
    }
    if let Some(title) = between(line, "Payment \"", "\" requested") {
        return Some(format!("Paiement « {title} » demandé"));
    }
    if let Some(rest) = line.strip_prefix("Payment \"") {
        let (title, after) = rest.split_once("\" received")?;
        let late = match after {
            "" => "",
            " after it was cancelled: refund or reconcile it" => {
                " après son annulation : remboursez-le ou rapprochez-le"
            }
            " after it expired: refund or reconcile it" => {
                " après son expiration : remboursez-le ou rapprochez-le"
            }
            _ => return None,
        };
        return Some(format!("Paiement « {title} » reçu{late}"));
    }
    if let Some(title) = between(line, "Validation of ", " requested") {
        return Some(format!("Validation demandée : {title}"));
    }
    if let Some(title) = between(line, "Milestone ", " validated") {
        return Some(format!("Jalon validé : {title}"));
    }
    if let Some(title) = between(line, "Milestone ", " rejected") {
        return Some(format!("Jalon refusé : {title}"));
    }
    if let Some(title) = between(line, "Task \"", "\" is waiting for the client") {
        return Some(format!("La tâche « {title} » attend le client"));
    }
    if let Some(label) = line.strip_prefix("Project status: ") {
        return Some(format!("Statut du projet : {}", project_status(label)?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::localized;

    #[test]
    fn every_line_the_triggers_write_reads_in_french() {
        for (english, french) in [
            ("New message: Bonjour", "Nouveau message : Bonjour"),
            ("File uploaded: logo.png", "Fichier déposé : logo.png"),
            (
                "New version of menu: v2.pdf: v3",
                "Nouvelle version de menu: v2.pdf : v3",
            ),
            ("Comment on ticket #4", "Commentaire sur le ticket n°4"),
            (
                "Internal note on ticket #4",
                "Note interne sur le ticket n°4",
            ),
            ("Quote of ticket #4 accepted", "Devis du ticket n°4 accepté"),
            ("Quote of ticket #4 declined", "Devis du ticket n°4 refusé"),
            ("Ticket #4 created", "Ticket n°4 créé"),
            (
                "Ticket #4 answered: back to NEW",
                "Ticket n°4 : réponse reçue, de nouveau à traiter",
            ),
            ("Ticket #4 quoted", "Ticket n°4 : devis envoyé"),
            ("Ticket #4 to clarify", "Ticket n°4 : à préciser"),
            (
                "Ticket #4 awaiting payment",
                "Ticket n°4 : en attente de paiement",
            ),
            ("Ticket #4 paid", "Ticket n°4 : payé"),
            ("Ticket #4 refused", "Ticket n°4 : refusé"),
            ("Ticket #4 accepted", "Ticket n°4 : accepté"),
            ("Ticket #4 new", "Ticket n°4 : nouveau"),
            (
                "Payment \"Deposit\" requested",
                "Paiement « Deposit » demandé",
            ),
            ("Payment \"Deposit\" received", "Paiement « Deposit » reçu"),
            (
                "Payment \"Deposit\" received after it expired: refund or reconcile it",
                "Paiement « Deposit » reçu après son expiration : remboursez-le ou rapprochez-le",
            ),
            (
                "Validation of Mockups requested",
                "Validation demandée : Mockups",
            ),
            ("Milestone Mockups validated", "Jalon validé : Mockups"),
            ("Milestone Mockups rejected", "Jalon refusé : Mockups"),
            (
                "Task \"Send the texts\" is waiting for the client",
                "La tâche « Send the texts » attend le client",
            ),
            (
                "Project status: Waiting for the client",
                "Statut du projet : en attente du client",
            ),
            ("Project status: Done", "Statut du projet : terminé"),
        ] {
            assert_eq!(localized(english, "fr"), french);
            assert_eq!(localized(english, "en"), english);
        }
        assert_eq!(localized("Something new", "fr"), "Something new");
        assert_eq!(
            localized("Ticket #4 teleported", "fr"),
            "Ticket #4 teleported"
        );
    }
}
