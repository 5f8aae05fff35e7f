//! Assessor key files for `trustgate keygen`.
//!
//! - Private keys: PKCS#8 v1 `PRIVATE KEY` PEM (RFC 5958, RFC 8410 §7 for
//!   Ed25519), written and read through ed25519-dalek's `pkcs8` support.
//! - Public keys: SubjectPublicKeyInfo `PUBLIC KEY` PEM (RFC 8410 §4).
//!
//! Secrets are never logged: the PEM text is returned in a
//! [`zeroize::Zeroizing`] buffer that is wiped on drop, parse errors never
//! echo the input, and ed25519-dalek's `SigningKey` `Debug` prints only the
//! public half (tested in `tests/keys.rs`).

use ed25519_dalek::pkcs8::{
    spki::der::pem::LineEnding, DecodePrivateKey, DecodePublicKey, EncodePrivateKey,
    EncodePublicKey,
};
use ed25519_dalek::{SigningKey, VerifyingKey, SECRET_KEY_LENGTH};
use zeroize::{Zeroize, Zeroizing};

use crate::error::KeyError;

/// A fresh Ed25519 signing key from the operating system's random source.
pub fn generate_key() -> Result<SigningKey, KeyError> {
    let mut seed = [0u8; SECRET_KEY_LENGTH];
    getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    seed.zeroize();
    Ok(key)
}

/// The private key as PKCS#8 PEM (LF line endings).
pub fn signing_key_to_pem(key: &SigningKey) -> Result<Zeroizing<String>, KeyError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Encode(e.to_string()))
}

/// Read a PKCS#8 PEM private key.
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Parse(e.to_string()))
}

/// The public key as SubjectPublicKeyInfo PEM.
pub fn verifying_key_to_pem(key: &VerifyingKey) -> Result<String, KeyError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeyError::Encode(e.to_string()))
}

/// Read a SubjectPublicKeyInfo PEM public key.
pub fn verifying_key_from_pem(pem: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_public_key_pem(pem).map_err(|e| KeyError::Parse(e.to_string()))
}
