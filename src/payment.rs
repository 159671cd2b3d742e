//! Payments: requests staff raise (or accepted quotes create), Stripe Checkout to pay them,
//! verified idempotent webhooks (the only way a request becomes PAID), the expiry job, and the
//! embedded default's local test checkout.

mod balance;
pub mod checkout_page;
pub mod closing;
pub mod events;
pub mod expiry;
mod incoming;
mod resolvers;
pub mod service;
pub mod stripe;
mod types;
pub mod webhook;

pub use resolvers::{PaymentMutation, PaymentQuery};
pub use stripe::Gateway;
pub use types::{PaymentKind, PaymentRequest, PaymentStatus, ProjectBalance};
