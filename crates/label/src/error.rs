//! Error types. Every rejection reason has its own variant so callers (the
//! CLI's exit codes, the registry's 4xx bodies) can tell them apart.

use thiserror::Error;

/// Why a claim set was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClaimsError {
    /// The JSON rendering did not parse (unknown field, wrong type, missing field...).
    #[error("label JSON: {0}")]
    Json(String),
    /// The CBOR payload did not decode into the claim set.
    #[error("label CBOR payload: {0}")]
    Cbor(String),
    /// The CBOR payload decoded but is not in RFC 8949 §4.2.1 deterministic encoding.
    #[error("label CBOR payload is not in RFC 8949 §4.2.1 deterministic encoding")]
    NotDeterministic,
    /// The claims parsed but break a semantic rule.
    #[error("invalid claims: {0}")]
    Invalid(String),
}

/// Why a signed label was refused by [`crate::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LabelError {
    /// The bytes are not a well-formed tagged COSE_Sign1 (RFC 9052 §4.2).
    #[error("malformed COSE_Sign1: {0}")]
    MalformedCbor(String),
    /// The protected header's `alg` is absent or not EdDSA (-8).
    #[error("wrong algorithm: {0}; only EdDSA (-8) with Ed25519 is accepted")]
    WrongAlgorithm(String),
    /// A header is missing, misplaced, or has an unexpected value.
    #[error("unexpected header: {0}")]
    UnexpectedHeader(String),
    /// The key id names no registered assessor key.
    #[error("unknown key id {kid}: not a registered assessor")]
    UnknownKey {
        /// The key id found, in hex.
        kid: String,
    },
    /// The Ed25519 signature does not verify over the Sig_structure.
    #[error("bad signature")]
    BadSignature,
    /// The signature verified but the claims are not acceptable.
    #[error(transparent)]
    ClaimsInvalid(#[from] ClaimsError),
}

/// Key file problems (reading or writing PEM).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The PEM / PKCS#8 / SPKI data did not parse. Never contains key material.
    #[error("key file: {0}")]
    Parse(String),
    /// Encoding failed.
    #[error("key encoding: {0}")]
    Encode(String),
    /// The operating system's random source failed.
    #[error("random source: {0}")]
    Random(String),
    /// A private key file can be read or written by users other than its owner.
    #[error(
        "private key file {path} has mode {mode:04o}: group or others can access it, so it is refused; \
         make it readable by its owner only with: chmod 600 {path}"
    )]
    Permissions {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file could not be read.
    #[error("key file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Why a QR short form did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShortFormError {
    /// No `/l/` path segment.
    #[error("short form must look like BASE/l/DIGEST, got {0:?}")]
    Shape(String),
    /// The base is not an http(s) URL.
    #[error("short form base must be an https:// or http:// URL, got {0:?}")]
    Base(String),
    /// The digest is not 43 base64url characters encoding 32 bytes.
    #[error("short form digest must be 43 base64url characters (32 bytes): {0}")]
    Digest(String),
}
