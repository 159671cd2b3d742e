//! File and folder names: display strings only (object keys are generated), still refused when
//! they hold a path, control characters or more than 255 characters.

use crate::error::{ApiError, ApiResult};

/// A name as shown, trimmed; BAD_USER_INPUT naming `field` otherwise.
pub fn display_name(field: &'static str, name: &str) -> ApiResult<String> {
    let name = name.trim();
    let refuse = |why: &str| Err(ApiError::bad_field(field, format!("`{field}` {why}")));
    if name.is_empty() {
        return refuse("is empty");
    }
    if name.chars().count() > 255 {
        return refuse("has at most 255 characters");
    }
    if name.chars().any(char::is_control) {
        return refuse("has no control characters");
    }
    if name.contains('/') || name.contains('\\') || name == "." || name == ".." {
        return refuse("is a name, not a path");
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_controls_and_long_names_are_refused() {
        assert_eq!(
            display_name("name", "  logo v2.png ").unwrap(),
            "logo v2.png"
        );
        for bad in [
            "",
            "   ",
            "../etc/passwd",
            "a/b",
            "a\\b",
            "..",
            "a\u{0}b",
            "a\nb",
            "a\u{7f}",
        ] {
            assert!(display_name("name", bad).is_err(), "{bad:?}");
        }
        assert!(display_name("name", &"x".repeat(10_000)).is_err());
        assert!(display_name("name", &"é".repeat(255)).is_ok());
    }
}
