//! One-click unsubscribe: every notification email (receipts aside) carries a signed link, also
//! in its `List-Unsubscribe` and `List-Unsubscribe-Post` headers (RFC 8058), that turns that kind
//! of email off for its recipient in that workspace. Following the link shows a confirmation
//! page; only its `POST` (the button, or a mail client's one-click) changes anything, so link
//! scanners that fetch every URL of an email unsubscribe nobody.

use super::preferences::{self, EMAIL, NEVER};
use super::triggers::{ACTIONS, MESSAGE_ADDED};
use crate::auth::links::LinkSigner;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use uuid::Uuid;

const PURPOSE: &str = "unsubscribe";

/// What a link turns off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
}

/// The link that stops `kind` emails of `workspace_id` for `user_id`; none for receipts.
pub fn link(
    signer: &LinkSigner,
    base_url: &str,
    workspace_id: Uuid,
    user_id: Uuid,
    kind: &str,
) -> Option<String> {
    if preferences::locked(kind, EMAIL) {
        return None;
    }
    let (w, u) = (workspace_id.to_string(), user_id.to_string());
    let signature = signer.sign(PURPOSE, &[&w, &u, kind]);
    Some(format!(
        "{}/unsubscribe?w={w}&u={u}&k={kind}&s={signature}",
        base_url.trim_end_matches('/')
    ))
}

/// The link's request, checked: BAD_USER_INPUT when anything is missing, changed or unknown.
pub fn check(signer: &LinkSigner, query: &str) -> ApiResult<Unsubscribe> {
    let field = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let refused = || ApiError::bad_input("this unsubscribe link is not valid");
    let (Some(w), Some(u), Some(kind), Some(signature)) =
        (field("w"), field("u"), field("k"), field("s"))
    else {
        return Err(refused());
    };
    if !signer.verify(PURPOSE, &[&w, &u, &kind], &signature)
        || !ACTIONS.iter().chain([&MESSAGE_ADDED]).any(|k| *k == kind)
        || preferences::locked(&kind, EMAIL)
    {
        return Err(refused());
    }
    let (Ok(workspace_id), Ok(user_id)) = (w.parse(), u.parse()) else {
        return Err(refused());
    };
    Ok(Unsubscribe {
        workspace_id,
        user_id,
        kind,
    })
}

/// Turns the link's kind of email off.
pub async fn apply(db: &Db, unsubscribe: &Unsubscribe) -> ApiResult<()> {
    preferences::set_for(
        db,
        unsubscribe.workspace_id,
        unsubscribe.user_id,
        &unsubscribe.kind,
        EMAIL,
        NEVER,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_checks_out_until_anything_in_it_changes() {
        let signer = LinkSigner::new(b"a secret long enough for the tests");
        let (w, u) = (Uuid::now_v7(), Uuid::now_v7());
        let url = link(&signer, "https://portal.example/", w, u, "message.added").unwrap();
        let query = url.split_once('?').unwrap().1;
        assert_eq!(
            check(&signer, query).unwrap(),
            Unsubscribe {
                workspace_id: w,
                user_id: u,
                kind: "message.added".into()
            }
        );
        let changed = query.replace("message.added", "ticket.created");
        assert!(check(&signer, &changed).is_err());
        assert!(check(&signer, "w=1&u=2").is_err());
        assert!(
            link(&signer, "https://p", w, u, "payment.paid").is_none(),
            "receipts stay on"
        );
    }
}
