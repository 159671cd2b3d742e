//! Project conversations: one per project, readable by its members and by staff with
//! `project:read`, written with `message:write`. Authors edit or delete within 15 minutes; read
//! positions give unread counts; `messageAdded` / `messageUpdated` stream them live.

mod resolvers;
pub mod service;
mod subscriptions;

pub use resolvers::{Message, MessageMutation, MessageQuery};
pub use subscriptions::MessageSubscription;
