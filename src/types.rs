//! Parsed value types ("parse, don't validate"): once built, an [`Email`], [`Slug`] or
//! [`Password`] is known to be valid.

mod byte_count;
mod email;
mod minor_units;
mod money;
mod password;
pub mod permission;
mod slug;
pub mod text;

pub use byte_count::ByteCount;
pub use email::Email;
pub use minor_units::MinorUnits;
pub use money::Money;
pub use password::Password;
pub use slug::Slug;

use crate::error::ApiError;
use uuid::Uuid;

/// Parses a GraphQL `ID` argument as a UUID, naming the argument on failure.
pub fn parse_id(field: &'static str, id: &async_graphql::ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ApiError::bad_field(field, format!("`{field}` is not a valid ID")))
}
