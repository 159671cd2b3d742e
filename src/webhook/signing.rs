//! Webhook signatures, like Stripe's: one header, `Portico-Signature: t=<unix seconds>,v1=<hex
//! HMAC-SHA256 of "<t>.<raw body>" under the endpoint's secret>`. A receiver recomputes it over
//! the raw body, compares in constant time, and refuses timestamps older than a few minutes
//! (replays). [`verify`] does exactly that, for receivers written in Rust and for the tests.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header's name.
pub const HEADER: &str = "Portico-Signature";

/// A new signing secret (`whsec_` and 256 random bits).
pub fn new_secret() -> String {
    crate::auth::OpaqueSecret::generate("whsec").value
}

/// The MAC of `"<timestamp>.<body>"` (HMAC takes keys of any length, so `None` never happens).
fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// The header's value for `body` sent at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> anyhow::Result<String> {
    let mac = mac(secret, timestamp, body).ok_or_else(|| anyhow::anyhow!("an HMAC key"))?;
    Ok(format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// Whether `header` signs `body` under `secret`, at most `tolerance_secs` before `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (now - timestamp).abs() > tolerance_secs {
        return false;
    }
    signatures
        .iter()
        .any(|s| mac(secret, timestamp, body).is_some_and(|m| m.verify_slice(s).is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_body_secret_and_time() {
        let header = sign("whsec_a", 1_700_000_000, b"{\"x\":1}").unwrap();
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify("whsec_a", &header, b"{\"x\":1}", 1_700_000_100, 300));
        assert!(!verify(
            "whsec_b",
            &header,
            b"{\"x\":1}",
            1_700_000_100,
            300
        ));
        assert!(!verify(
            "whsec_a",
            &header,
            b"{\"x\":2}",
            1_700_000_100,
            300
        ));
        assert!(!verify(
            "whsec_a",
            &header,
            b"{\"x\":1}",
            1_700_001_000,
            300
        ));
        assert!(!verify("whsec_a", "v1=00", b"{}", 1_700_000_000, 300));
    }
}
