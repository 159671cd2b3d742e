//! Authentication primitives: password hashing, access tokens (JWT), opaque secrets, and turning a
//! request's credentials into a [`Principal`].

pub mod api_key;
mod jwt;
pub mod key_token;
pub mod links;
mod password;
mod principal;
pub mod sealing;
mod secret;
pub mod totp;

pub use jwt::{AccessClaims, JwtKeys, key_id};
pub use password::PasswordHasher;
pub use principal::{ApiKeyPrincipal, Authenticator, Principal, UserPrincipal};
pub use secret::{OpaqueSecret, sha256_hex};
