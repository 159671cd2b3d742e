//! Which file types are accepted, judged by their first bytes (magic numbers, through `infer`),
//! never by the declared type or the name; and which of them preview inline.

use crate::error::{ApiError, ApiResult};

/// Accepted types. Text has no magic number: it is accepted when its bytes are UTF-8 without NUL.
pub const ACCEPTED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "video/mp4",
    "audio/mpeg",
    "font/woff2",
    "text/plain",
    "text/csv",
    "text/markdown",
];

const TEXT: &[&str] = &["text/plain", "text/csv", "text/markdown"];
const OFFICE: &[&str] = &[
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];

/// A declared type, lower-cased without parameters, if accepted.
pub fn declared(content_type: &str) -> ApiResult<String> {
    let base = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if ACCEPTED.contains(&base.as_str()) {
        Ok(base)
    } else {
        Err(ApiError::bad_field(
            "contentType",
            format!("files of type `{base}` are not accepted"),
        ))
    }
}

/// Whether the first bytes of a file are of the declared (accepted) type.
pub fn bytes_match(declared: &str, head: &[u8], complete: bool) -> bool {
    match infer::get(head).map(|t| t.mime_type()) {
        Some(found) if found == declared => true,
        // An Office document is a zip; `infer` names it only when its first entry says so.
        Some("application/zip") => OFFICE.contains(&declared),
        Some(_) => false,
        None => TEXT.contains(&declared) && is_text(head, complete),
    }
}

/// UTF-8 without NUL; a character cut at the end of a partial read is fine.
fn is_text(head: &[u8], complete: bool) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    }
}

/// Images and PDFs preview inline; everything else downloads.
pub fn previews_inline(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const PDF: &[u8] = b"%PDF-1.7\n";

    #[test]
    fn the_bytes_decide_not_the_declaration() {
        assert!(bytes_match("image/png", PNG, true));
        assert!(!bytes_match("application/pdf", PNG, true));
        assert!(bytes_match("application/pdf", PDF, true));
        assert!(bytes_match("text/plain", "héllo".as_bytes(), true));
        assert!(!bytes_match("text/plain", PNG, true));
        assert!(!bytes_match("text/plain", b"a\0b", true));
        // A script is not an image, whatever it says.
        assert!(!bytes_match(
            "image/png",
            b"<script>alert(1)</script>",
            true
        ));
    }

    #[test]
    fn a_cut_character_is_text_only_in_a_partial_read() {
        let cut = &"é".as_bytes()[..1];
        assert!(bytes_match("text/plain", cut, false));
        assert!(!bytes_match("text/plain", cut, true));
    }

    #[test]
    fn declared_types_are_normalized_and_whitelisted() {
        assert_eq!(declared("Image/PNG; charset=x").unwrap(), "image/png");
        assert!(declared("image/svg+xml").is_err());
        assert!(declared("text/html").is_err());
    }
}
