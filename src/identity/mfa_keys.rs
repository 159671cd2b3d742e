//! Moving sealed TOTP secrets to the current MFA key (`portico reseal-mfa`), after `MFA_KEY` is
//! set or replaced: each secret any configured key opens is sealed again under the first one, in
//! one conditional update per account, so a concurrent enrolment is never overwritten.

use crate::auth::sealing::SecretBox;
use crate::db::{Db, Global};
use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};

/// What a re-sealing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Secrets now sealed under the current key.
    pub moved: u64,
    /// Secrets that already were.
    pub current: u64,
    /// Secrets no configured key opens (left as they are; those users enrol again).
    pub unreadable: u64,
}

/// Re-seals every enrolled TOTP secret under `sealing`'s first key.
pub async fn reseal_all(db: &Db, sealing: &SecretBox) -> anyhow::Result<Resealed> {
    let global = Global::new(db.conn());
    let enrolled = global
        .find::<user::Entity>()
        .filter(user::Column::MfaSecret.is_not_null())
        .all(db.conn())
        .await?;
    let mut done = Resealed::default();
    // One transaction: every secret moves, or none does (and the run is one audit event).
    let txn = db.begin().await?;
    for account in enrolled {
        let Some(sealed) = account.mfa_secret.as_deref() else {
            continue;
        };
        match sealing.open_with_key(sealed) {
            Ok((_, 0)) => done.current += 1,
            Ok((plain, _)) => {
                let resealed = sealing.seal(&plain)?;
                global
                    .update_many::<user::Entity>()
                    .col_expr(user::Column::MfaSecret, Expr::value(resealed))
                    .filter(user::Column::Id.eq(account.id))
                    .filter(user::Column::MfaSecret.eq(sealed))
                    .exec(&*txn)
                    .await?;
                done.moved += 1;
            }
            Err(err) => {
                tracing::warn!(user = %account.id, error = ?err, "an MFA secret no key opens");
                done.unreadable += 1;
            }
        }
    }
    txn.commit().await?;
    Ok(done)
}
