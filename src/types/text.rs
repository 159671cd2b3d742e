//! Free-text inputs: trimmed, length-checked, with the argument named in the error.

use crate::error::ApiError;

/// A required text of 1 to `max` characters.
pub fn required(field: &'static str, text: &str, max: usize) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(ApiError::bad_field(
            field,
            format!("`{field}` has 1 to {max} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// An optional text of at most `max` characters; blank counts as absent.
pub fn optional(
    field: &'static str,
    text: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() > max => Err(ApiError::bad_field(
            field,
            format!("`{field}` has at most {max} characters"),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(required("name", "  Ana ", 10).unwrap(), "Ana");
        assert!(required("name", "   ", 10).is_err());
        assert!(required("name", "abcdef", 5).is_err());
        assert_eq!(optional("note", Some("  ".into()), 5).unwrap(), None);
        assert_eq!(
            optional("note", Some(" hi ".into()), 5).unwrap().as_deref(),
            Some("hi")
        );
        assert!(optional("note", Some("abcdef".into()), 5).is_err());
    }
}
