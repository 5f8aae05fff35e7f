//! COSE_Sign1 (RFC 9052 §4.2) signing and verification with EdDSA over
//! Ed25519 (RFC 9053 §2.2, algorithm -8).
//!
//! A label is the tagged (CBOR tag 18) array
//! `[protected: bstr, unprotected: {}, payload: bstr, signature: bstr]` where
//! - the **protected** header (RFC 9052 §3.1) carries exactly
//!   `1 (alg) => -8 (EdDSA)`, `4 (kid) => bstr(8)` and
//!   `3 (content type) => "application/vnd.trustgate.label+cbor"`;
//! - the **unprotected** header is empty: nothing outside the signature may
//!   influence how the label is read, so any non-empty unprotected header is
//!   refused;
//! - the **payload** is the claim set in RFC 8949 §4.2.1 deterministic CBOR
//!   ([`crate::cbor`]);
//! - the **signature** is Ed25519 (RFC 8032) over the `Sig_structure`
//!   `["Signature1", protected, h'' (external_aad), payload]` (RFC 9052 §4.4).
//!
//! The key id is the first 8 bytes of SHA-256 over the 32-byte raw Ed25519
//! public key (RFC 8032 §5.1.5 encoding), carried as a CBOR byte string and
//! shown to people as 16 lowercase hex characters ([`KeyId`]).

use std::collections::HashMap;
use std::fmt;

use coset::{
    iana, Algorithm, ContentType, CoseSign1, CoseSign1Builder, HeaderBuilder,
    RegisteredLabelWithPrivate, TaggedCborSerializable,
};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::claims::{Claims, Sha256Digest};
use crate::error::LabelError;
use crate::{cbor, label_digest};

/// The content type placed in the protected header (RFC 9052 §3.1, label 3).
pub const CONTENT_TYPE: &str = "application/vnd.trustgate.label+cbor";

/// An assessor key id: SHA-256(raw public key)[..8].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The key id of `key`.
    pub fn of(key: &VerifyingKey) -> Self {
        let d = Sha256::digest(key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&d[..8]);
        Self(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Where the verifier finds registered assessor keys.
pub trait KeyResolver {
    /// The registered key with this id, if any.
    fn resolve(&self, kid: &KeyId) -> Option<VerifyingKey>;
}

impl KeyResolver for [VerifyingKey] {
    fn resolve(&self, kid: &KeyId) -> Option<VerifyingKey> {
        self.iter().find(|k| KeyId::of(k) == *kid).copied()
    }
}

impl<const N: usize> KeyResolver for [VerifyingKey; N] {
    fn resolve(&self, kid: &KeyId) -> Option<VerifyingKey> {
        self.as_slice().resolve(kid)
    }
}

impl KeyResolver for Vec<VerifyingKey> {
    fn resolve(&self, kid: &KeyId) -> Option<VerifyingKey> {
        self.as_slice().resolve(kid)
    }
}

/// A set of registered assessor keys indexed by key id.
#[derive(Clone, Debug, Default)]
pub struct KeyRing(HashMap<KeyId, VerifyingKey>);

impl KeyRing {
    /// An empty ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register `key`; returns its id.
    pub fn insert(&mut self, key: VerifyingKey) -> KeyId {
        let id = KeyId::of(&key);
        self.0.insert(id, key);
        id
    }
}

impl KeyResolver for KeyRing {
    fn resolve(&self, kid: &KeyId) -> Option<VerifyingKey> {
        self.0.get(kid).copied()
    }
}

/// A label whose signature, headers and claims have all been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedLabel {
    /// The claims, validated.
    pub claims: Claims,
    /// The id of the key that signed.
    pub kid: KeyId,
    /// The key that signed.
    pub key: VerifyingKey,
    /// SHA-256 of the whole COSE_Sign1 bytes (the registry's lookup key).
    pub digest: Sha256Digest,
}

/// Sign `claims` with `key`, producing a tagged COSE_Sign1.
///
/// The claims are validated first; signing an invalid claim set is refused,
/// so everything this returns verifies with the matching public key.
pub fn sign(claims: &Claims, key: &SigningKey) -> Result<Vec<u8>, LabelError> {
    claims.validate()?;
    let payload = cbor::encode_deterministic(claims);
    let kid = KeyId::of(&key.verifying_key());
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(kid.0.to_vec())
        .content_type(CONTENT_TYPE.to_string())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |tbs| key.sign(tbs).to_bytes().to_vec())
        .build();
    sign1
        .to_tagged_vec()
        .map_err(|e| LabelError::MalformedCbor(e.to_string()))
}

fn parse(bytes: &[u8]) -> Result<CoseSign1, LabelError> {
    // Requires tag 18 (RFC 9052 §4.2) and refuses trailing bytes.
    let sign1 = CoseSign1::from_tagged_slice(bytes)
        .map_err(|e| LabelError::MalformedCbor(e.to_string()))?;
    require_canonical(&sign1, bytes)?;
    Ok(sign1)
}

/// Refuses a COSE_Sign1 whose bytes are not the one encoding this crate writes for the same
/// content: shortest-form heads everywhere (the tag as `d2`, not `d8 12`; lengths and integers
/// shortest) and a protected header that is itself in that form.
///
/// The registry detects replays by the exact bytes of an entry, and CBOR decoders accept many
/// encodings of one value; without this rule anyone could log another copy of any public label
/// or statement by re-encoding it (the signature covers the payload and protected header, not
/// the outer encoding).
fn require_canonical(sign1: &CoseSign1, bytes: &[u8]) -> Result<(), LabelError> {
    let mut again = sign1.clone();
    // Re-encode the protected header from its parsed value rather than reusing its bytes.
    again.protected.original_data = None;
    let again = again
        .to_tagged_vec()
        .map_err(|e| LabelError::MalformedCbor(e.to_string()))?;
    if again != bytes {
        return Err(LabelError::MalformedCbor(
            "not in the canonical encoding (every CBOR head in shortest form, tag 18 as 0xd2, \
             protected header map in the order alg, content type, kid); re-encoded copies are \
             refused"
                .into(),
        ));
    }
    Ok(())
}

/// Parses a tagged COSE_Sign1 and refuses it unless its bytes are the canonical encoding
/// (every CBOR head in shortest form, the protected header re-encoded identically). For other COSE_Sign1 formats built the same way (the
/// registry's status statements).
pub fn parse_canonical_sign1(bytes: &[u8]) -> Result<CoseSign1, LabelError> {
    parse(bytes)
}

fn check_alg(sign1: &CoseSign1) -> Result<(), LabelError> {
    if sign1.unprotected.alg.is_some() {
        return Err(LabelError::WrongAlgorithm(
            "alg must be in the protected header (RFC 9052 §3.1)".into(),
        ));
    }
    match &sign1.protected.header.alg {
        Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)) => Ok(()),
        Some(other) => Err(LabelError::WrongAlgorithm(format!(
            "alg is {}",
            show_alg(other)
        ))),
        None => Err(LabelError::WrongAlgorithm(
            "no alg in the protected header".into(),
        )),
    }
}

fn show_alg(a: &Algorithm) -> String {
    match a {
        RegisteredLabelWithPrivate::Assigned(x) => format!("{x:?} ({})", *x as i64),
        RegisteredLabelWithPrivate::PrivateUse(n) => n.to_string(),
        RegisteredLabelWithPrivate::Text(t) => format!("{t:?}"),
    }
}

fn check_signature(sign1: &CoseSign1, key: &VerifyingKey) -> Result<(), LabelError> {
    sign1.verify_signature(b"", |sig, tbs| {
        let sig = Signature::from_slice(sig).map_err(|_| LabelError::BadSignature)?;
        key.verify_strict(tbs, &sig)
            .map_err(|_| LabelError::BadSignature)
    })
}

/// Verify a generic COSE_Sign1 with EdDSA against one given key and return
/// its attached payload. Checks tag 18, alg = EdDSA in the protected header
/// and the signature (RFC 9052 §4.4, external_aad empty); it does not look at
/// kid, content type or the unprotected header. [`verify`] is this plus the
/// label-specific rules; this form exists to check published COSE vectors.
pub fn verify_sign1_with_key(bytes: &[u8], key: &VerifyingKey) -> Result<Vec<u8>, LabelError> {
    let sign1 = parse(bytes)?;
    check_alg(&sign1)?;
    check_signature(&sign1, key)?;
    sign1
        .payload
        .ok_or_else(|| LabelError::MalformedCbor("detached payload (nil) not accepted".into()))
}

/// Verify a signed label: structure, headers, key registration, signature,
/// then the claims (deterministic encoding and semantic validation).
///
/// Checks happen in that order, so the error names the first problem found;
/// claims are only decoded after the signature verifies.
pub fn verify<R: KeyResolver + ?Sized>(
    bytes: &[u8],
    keys: &R,
) -> Result<VerifiedLabel, LabelError> {
    let sign1 = parse(bytes)?;
    check_alg(&sign1)?;
    if !sign1.unprotected.is_empty() {
        return Err(LabelError::UnexpectedHeader(
            "the unprotected header must be empty".into(),
        ));
    }
    let h = &sign1.protected.header;
    match &h.content_type {
        Some(ContentType::Text(t)) if t == CONTENT_TYPE => {}
        Some(other) => {
            return Err(LabelError::UnexpectedHeader(format!(
                "content type {other:?}, expected {CONTENT_TYPE:?}"
            )))
        }
        None => {
            return Err(LabelError::UnexpectedHeader(
                "no content type in the protected header".into(),
            ))
        }
    }
    if !h.crit.is_empty()
        || !h.rest.is_empty()
        || !h.iv.is_empty()
        || !h.partial_iv.is_empty()
        || !h.counter_signatures.is_empty()
    {
        return Err(LabelError::UnexpectedHeader(
            "protected header has parameters other than alg, kid and content type".into(),
        ));
    }
    let kid: [u8; 8] = h.key_id.as_slice().try_into().map_err(|_| {
        LabelError::UnexpectedHeader(format!("kid must be 8 bytes, got {} bytes", h.key_id.len()))
    })?;
    let kid = KeyId(kid);
    let key = keys.resolve(&kid).ok_or_else(|| LabelError::UnknownKey {
        kid: kid.to_string(),
    })?;
    check_signature(&sign1, &key)?;
    let payload = sign1
        .payload
        .as_deref()
        .ok_or_else(|| LabelError::MalformedCbor("detached payload (nil) not accepted".into()))?;
    let claims: Claims = cbor::decode_deterministic(payload)?;
    claims.validate()?;
    Ok(VerifiedLabel {
        claims,
        kid,
        key,
        digest: label_digest(bytes),
    })
}

/// Decode a label's claims **without verifying anything** (for `label show`
/// on a file whose signer is not at hand). Never use the result as proof.
pub fn decode_unverified(bytes: &[u8]) -> Result<(KeyId, Claims), LabelError> {
    let sign1 = parse(bytes)?;
    let kid = KeyId(
        sign1
            .protected
            .header
            .key_id
            .as_slice()
            .try_into()
            .map_err(|_| LabelError::UnexpectedHeader("kid must be 8 bytes".into()))?,
    );
    let payload = sign1
        .payload
        .ok_or_else(|| LabelError::MalformedCbor("detached payload (nil) not accepted".into()))?;
    Ok((kid, cbor::decode_deterministic(&payload)?))
}
