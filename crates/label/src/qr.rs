//! The short form printed in a label's QR code:
//! `BASE + "/l/" + base64url(SHA-256(COSE_Sign1 bytes))`, where base64url is
//! RFC 4648 §5 without padding (43 characters for 32 bytes) and BASE is the
//! registry's http(s) base URL without a trailing slash.
//!
//! The digest commits to the exact signed bytes, so a registry answering the
//! URL can be checked against the label it returns.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::claims::Sha256Digest;
use crate::error::ShortFormError;

/// SHA-256 over the complete COSE_Sign1 bytes: the label's digest.
pub fn label_digest(cose_bytes: &[u8]) -> Sha256Digest {
    Sha256Digest::of(cose_bytes)
}

/// The short form URL for a label with this digest.
pub fn short_form(registry_base: &str, digest: &Sha256Digest) -> String {
    format!(
        "{}/l/{}",
        registry_base.trim_end_matches('/'),
        URL_SAFE_NO_PAD.encode(digest.0)
    )
}

/// Split a short form into its registry base and digest.
pub fn parse_short_form(url: &str) -> Result<(String, Sha256Digest), ShortFormError> {
    let (base, digest) = url
        .rsplit_once("/l/")
        .ok_or_else(|| ShortFormError::Shape(url.to_string()))?;
    let scheme_ok = ["https://", "http://"]
        .iter()
        .any(|s| base.len() > s.len() && base[..s.len()].eq_ignore_ascii_case(s));
    if !scheme_ok || base.ends_with('/') {
        return Err(ShortFormError::Base(base.to_string()));
    }
    if digest.len() != 43 {
        return Err(ShortFormError::Digest(format!(
            "got {} characters",
            digest.len()
        )));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(digest)
        .map_err(|e| ShortFormError::Digest(e.to_string()))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ShortFormError::Digest("not 32 bytes".into()))?;
    // Reject non-canonical encodings (unused trailing bits set), so one digest
    // has one short form.
    if URL_SAFE_NO_PAD.encode(arr) != digest {
        return Err(ShortFormError::Digest("non-canonical base64url".into()));
    }
    Ok((base.to_string(), Sha256Digest(arr)))
}
