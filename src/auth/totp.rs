//! TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits); the secrets are sealed at rest by
//! [`super::sealing`].

use hmac::{Hmac, Mac};
use rand::RngCore;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Steps either side of now that are accepted (clock drift).
pub const DRIFT_STEPS: i64 = 1;

/// A new 160-bit secret.
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// The secret as authenticator apps take it (base32, no padding).
pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = format!("{}:{}", encode(issuer), encode(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        base32(secret),
        encode(issuer)
    )
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The code of `step` (RFC 4226 HOTP, 6 digits).
pub fn code_at(secret: &[u8], step: i64) -> String {
    let Ok(mut mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    format!("{:06}", binary % 1_000_000)
}

/// The step of `unix` seconds.
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECS)
}

/// The step `code` belongs to, within the drift window around `unix`, and after `last_step` (a
/// code never works twice). Compared in constant time.
pub fn verify(secret: &[u8], code: &str, unix: i64, last_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix);
    let mut found = None;
    for step in now - DRIFT_STEPS..=now + DRIFT_STEPS {
        let expected = code_at(secret, step);
        let same: bool = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), code.as_bytes()).into();
        if same && last_step.is_none_or(|last| step > last) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1 secret, last 6 of the 8 digits.
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(secret, step_of(time)), code, "t = {time}");
        }
    }

    #[test]
    fn codes_are_accepted_once_within_the_drift_window() {
        let secret = generate_secret();
        let now = 1_700_000_000;
        let code = code_at(&secret, step_of(now));
        let step = verify(&secret, &code, now, None).unwrap();
        assert_eq!(verify(&secret, &code, now, Some(step)), None, "replayed");
        let previous = code_at(&secret, step_of(now) - 1);
        assert!(verify(&secret, &previous, now, None).is_some());
        let old = code_at(&secret, step_of(now) - 3);
        assert!(verify(&secret, &old, now, None).is_none());
        assert!(verify(&secret, "12345", now, None).is_none());
        assert!(verify(&secret, "abcdef", now, None).is_none());
    }

    #[test]
    fn otpauth_uris_escape_the_account() {
        assert!(otpauth_uri("Portico", "a b@x.io", b"12345678901234567890")
            .starts_with("otpauth://totp/Portico:a%20b@x.io?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Portico"));
    }
}
