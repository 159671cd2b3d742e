//! A workspace's brand in its emails: sender name, logo and colour, checked before use.

/// How a workspace signs its emails: its sender name (`emailSenderName`, else `displayName`,
/// else its name), its logo and its colour. Values that are not an http(s) URL or a `#rrggbb`
/// colour are left out, whatever the database holds, so nothing reaches a style attribute
/// unchecked.
#[derive(Debug, Clone, Copy)]
pub struct Brand<'a> {
    pub name: &'a str,
    pub logo: Option<&'a str>,
    pub color: Option<&'a str>,
}

impl<'a> Brand<'a> {
    /// The brand of `space`.
    pub fn of(space: &'a entity::workspace::Model) -> Self {
        let name = space
            .email_sender_name
            .as_deref()
            .or(space.display_name.as_deref())
            .unwrap_or(&space.name);
        Self {
            name,
            logo: space.logo_url.as_deref(),
            color: space.brand_color.as_deref(),
        }
    }

    /// Just a name.
    #[cfg(test)]
    pub fn named(name: &'a str) -> Self {
        Self {
            name,
            logo: None,
            color: None,
        }
    }

    pub(super) fn logo(&self) -> Option<&'a str> {
        self.logo
            .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
    }

    pub(super) fn color(&self) -> &'a str {
        self.color
            .filter(|c| {
                c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit())
            })
            .unwrap_or("#3b5bdb")
    }
}
