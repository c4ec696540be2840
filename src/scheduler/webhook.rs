//! Webhook signatures, the way GitHub signs its deliveries: `X-Hub-Signature-256:
//! sha256=<hex of HMAC-SHA256(secret, body)>`, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A new secret: 32 random bytes in hex, from the operating system's secure generator.
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no secure random numbers: {e}"))?;
    Ok(format!("whsec_{}", hex::encode(bytes)))
}

/// The header's value for `body` signed with `secret` (for clients and tests).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is a good signature of `body` with `secret`.
pub fn verify(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_part) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_part) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[expect(
    clippy::expect_used,
    reason = "HMAC takes keys of any length: new_from_slice cannot fail"
)]
fn mac(secret: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_githubs_example() {
        // GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
        let header = sign("It's a Secret to Everybody", b"Hello, World!");
        assert_eq!(
            header,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert!(verify(
            "It's a Secret to Everybody",
            b"Hello, World!",
            Some(&header)
        ));
    }

    #[test]
    fn bad_missing_or_malformed_signatures_are_refused() {
        let secret = "s3cret";
        let good = sign(secret, b"{}");
        assert!(verify(secret, b"{}", Some(&good)));
        assert!(!verify(secret, b"{ }", Some(&good)), "another body");
        assert!(!verify("other", b"{}", Some(&good)), "another secret");
        assert!(!verify(secret, b"{}", None));
        for bad in ["", "sha256=", "sha256=zz", "sha1=abcd", &good[7..]] {
            assert!(!verify(secret, b"{}", Some(bad)), "{bad:?}");
        }
        assert!(new_secret().unwrap().starts_with("whsec_"));
    }
}
