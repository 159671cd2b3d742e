//! Notifications (module G of the spec): people hear about what happens without watching the
//! page. An outbox consumer ([`fanout::Notifier`]) turns each event that matters into one in-app
//! notification and one queued email per person the access layer says may be told; the mail job
//! sends the queue, asking the access layer again at send time, with retries, backoff and a dead
//! letter; the notification center lists and marks them.

mod brand;
mod digest;
pub mod fanout;
mod grouping;
mod inbox;
pub mod lines;
mod log;
pub mod mailing;
pub mod preferences;
mod render;
mod resolvers;
mod subscription;
pub mod triggers;
mod types;
pub mod unsubscribe;

pub use resolvers::{NotificationMutation, NotificationQuery};
pub use subscription::NotificationSubscription;

use crate::auth::links::LinkSigner;
use crate::cache::presence::Presence;
use crate::config::MailConfig;
use crate::db::Db;
use crate::mail::Mailer;

/// What the mail job works with.
#[derive(Debug, Clone, Copy)]
pub struct Notify<'a> {
    pub db: &'a Db,
    pub mailer: &'a Mailer,
    /// Who is in the portal now: "when not active" emails wait for them to leave.
    pub presence: &'a Presence,
    /// Signs the unsubscribe links.
    pub links: &'a LinkSigner,
    pub config: &'a MailConfig,
    /// Where links in emails point (`PUBLIC_URL`).
    pub base_url: &'a str,
}
