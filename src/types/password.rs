//! New passwords: 10 to 128 characters (the upper bound keeps hashing cost bounded).

use crate::error::ApiError;

/// A password that satisfies the policy. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    /// Checks the policy for a new password.
    pub fn parse_new(raw: &str, field: &'static str) -> Result<Self, ApiError> {
        let count = raw.chars().count();
        if count < Self::MIN_CHARS {
            return Err(ApiError::bad_field(
                field,
                format!("a password needs at least {} characters", Self::MIN_CHARS),
            ));
        }
        if count > Self::MAX_CHARS {
            return Err(ApiError::bad_field(
                field,
                format!("a password has at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_length() {
        assert!(Password::parse_new("short", "password").is_err());
        assert!(Password::parse_new(&"x".repeat(129), "password").is_err());
        let ok = Password::parse_new("long enough!", "password").unwrap();
        assert_eq!(format!("{ok:?}"), "Password(***)");
    }
}
