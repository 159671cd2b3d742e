//! Workspace slugs: 3 to 48 characters of `a-z`, `0-9` and inner `-`.

use crate::error::ApiError;

/// A valid slug.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let slug = raw.trim();
        let valid = (3..=48).contains(&slug.len())
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !slug.starts_with('-')
            && !slug.ends_with('-')
            && !slug.contains("--");
        if valid {
            Ok(Self(slug.to_owned()))
        } else {
            Err(ApiError::bad_field(
                "slug",
                "a slug has 3 to 48 characters: lower-case letters, digits and single inner dashes",
            ))
        }
    }

    /// Derives a slug from a display name (`"Acme Studio!"` → `acme-studio`), padding short ones.
    pub fn from_name(name: &str) -> Self {
        let mut slug = String::new();
        for c in name.to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let mut slug = slug
            .trim_end_matches('-')
            .chars()
            .take(40)
            .collect::<String>();
        slug = slug.trim_end_matches('-').to_owned();
        while slug.len() < 3 {
            slug.push('x');
        }
        Self(slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        assert!(Slug::parse("acme-studio").is_ok());
        for bad in [
            "ab",
            "Acme",
            "-acme",
            "acme-",
            "ac--me",
            "acme studio",
            &"a".repeat(49),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn derives_from_names() {
        assert_eq!(Slug::from_name("Acme Studio!").as_str(), "acme-studio");
        assert_eq!(Slug::from_name("É").as_str(), "xxx");
        assert!(Slug::parse(Slug::from_name(&"Long name ".repeat(10)).as_str()).is_ok());
    }
}
