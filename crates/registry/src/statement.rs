//! Status statements: how an assessor revokes, suspends, reinstates or supersedes a label, or
//! records a changed support end date.
//!
//! A statement is a tagged COSE_Sign1 (RFC 9052 §4.2), signed with EdDSA/Ed25519 (RFC 9053 §2.2)
//! by **the key that signed the label** (so only the issuing assessor can change what its label
//! says) or by a registered **operator key** (an operator statement), with
//! - protected header: exactly `1 (alg) => -8`, `4 (kid) => bstr(8)` (the assessor's
//!   [`label::KeyId`]) and `3 (content type) => "application/vnd.trustgate.status+cbor"`;
//! - empty unprotected header;
//! - payload: the CBOR encoding (RFC 8949) of a [`label::StatusEvent`]: a map with text keys
//!   `"label-id"` (text), `"at"` (RFC 3339 text: when the fact takes effect) and `"kind"` (a map
//!   with `"type"`: `"revoked"` + `"reason"`, `"superseded"` + `"by"`, `"suspended"`,
//!   `"reinstated"`, or `"support-end-changed"` + `"end-date"` `YYYY-MM-DD`). Unknown keys are
//!   refused.
//!
//! The statement bytes are logged verbatim as the fact's transparency-log entry, so anyone holding
//! the log can re-check who said what. Only the canonical encoding is accepted (every CBOR head
//! in shortest form: [`label::parse_canonical_sign1`]), so a statement cannot be logged twice by
//! re-encoding it; the registry also refuses a statement whose event equals one already logged.
//!
//! ## Operator statements
//!
//! An assessor key that is retired (say, after it leaked) can sign nothing more, so its labels
//! could never be revoked by it. The registry operator therefore has keys of its own: Ed25519
//! keys from `trustgate keygen`, registered with `trustgate registry add-operator` (table
//! `operators`), **separate from the log's checkpoint key** (that key lives on the server and
//! signs every checkpoint automatically; an operator key is used by a person, rarely, and can
//! be kept offline). An operator statement has the same format, with the operator key's id as
//! `kid`; it may revoke, suspend or reinstate any label ([`OPERATOR_KINDS`]), and is logged like
//! any other statement. Offline verifiers learn the operator's public key out of band, as they
//! do the log's key (`trustgate label verify --operator-key`); a bundle holding a statement
//! signed by a key they were not given cannot be judged, and is reported so (fail closed).
//!
//! ## Time bound
//!
//! A statement's `at` (when it takes effect) may lie at most [`MAX_BACKDATE`]
//! before the registry accepts it, at most [`MAX_FUTURE_SKEW`] after, and never
//! before the label's own validity start or its log time.

use coset::{
    iana, ContentType, CoseSign1Builder, HeaderBuilder, RegisteredLabelWithPrivate,
    TaggedCborSerializable,
};
use ed25519_dalek::Signer;
use label::{KeyId, SigningKey, StatusEvent, VerifyingKey};

/// How far in the future a statement's `at` may lie (clock skew between assessor and registry).
pub const MAX_FUTURE_SKEW: time::Duration = time::Duration::minutes(5);

/// How far in the past a statement's `at` may lie when the registry accepts it. Status is
/// computed "as of" any instant, so a statement dated in the past rewrites what the label's
/// status was at instants relying parties may already have acted on (an insurer's check last
/// week). A day covers signing the statement when the problem was found and submitting it
/// after a night or a time-zone hop; anything older is refused: sign it with the current time.
/// A statement is also never earlier than the label's validity start or its log time.
pub const MAX_BACKDATE: time::Duration = time::Duration::hours(24);

/// Content type of status statements (protected header label 3).
pub const STATUS_CONTENT_TYPE: &str = "application/vnd.trustgate.status+cbor";

/// Why a statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Not a well-formed tagged COSE_Sign1, or headers other than those allowed.
    #[error("malformed status statement: {0}")]
    Malformed(String),
    /// The payload is not a status event (bad CBOR, unknown or missing fields).
    #[error("status statement payload: {0}")]
    Payload(String),
    /// The signature does not verify with the label's issuing key.
    #[error("bad signature: the statement is not signed by the key that issued the label")]
    BadSignature,
}

/// What an operator statement may say: revoke, suspend, reinstate. Supersession and support
/// dates are the assessor's and manufacturer's facts, not the operator's.
pub fn operator_may_state(kind: &label::StatusEventKind) -> bool {
    use label::StatusEventKind as K;
    matches!(kind, K::Revoked { .. } | K::Suspended | K::Reinstated)
}

/// The kinds [`operator_may_state`] allows, for messages.
pub const OPERATOR_KINDS: &str = "revoked, suspended, reinstated";

/// Signs `event` as a status statement with `key`.
pub fn sign_statement(event: &StatusEvent, key: &SigningKey) -> Vec<u8> {
    let mut payload = Vec::new();
    ciborium::into_writer(event, &mut payload).expect("a status event encodes");
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(KeyId::of(&key.verifying_key()).0.to_vec())
        .content_type(STATUS_CONTENT_TYPE.to_string())
        .build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |tbs| key.sign(tbs).to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .expect("a COSE_Sign1 encodes")
}

/// A statement's key id and event, read WITHOUT checking the signature (to find which label and
/// therefore which key to check it with). Headers are checked here.
pub fn open_unverified(bytes: &[u8]) -> Result<(KeyId, StatusEvent), StatementError> {
    let sign1 = label::parse_canonical_sign1(bytes)
        .map_err(|e| StatementError::Malformed(e.to_string()))?;
    let h = &sign1.protected.header;
    if !sign1.unprotected.is_empty() {
        return Err(StatementError::Malformed(
            "the unprotected header must be empty".into(),
        ));
    }
    if h.alg != Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)) {
        return Err(StatementError::Malformed("alg must be EdDSA (-8)".into()));
    }
    match &h.content_type {
        Some(ContentType::Text(t)) if t == STATUS_CONTENT_TYPE => {}
        _ => {
            return Err(StatementError::Malformed(format!(
                "content type must be {STATUS_CONTENT_TYPE:?}"
            )))
        }
    }
    if !h.crit.is_empty() || !h.rest.is_empty() || !h.iv.is_empty() || !h.partial_iv.is_empty() {
        return Err(StatementError::Malformed(
            "protected header has parameters other than alg, kid and content type".into(),
        ));
    }
    let kid: [u8; 8] = h
        .key_id
        .as_slice()
        .try_into()
        .map_err(|_| StatementError::Malformed("kid must be 8 bytes".into()))?;
    let payload = sign1
        .payload
        .as_deref()
        .ok_or_else(|| StatementError::Malformed("detached payload not accepted".into()))?;
    let event: StatusEvent =
        ciborium::from_reader(payload).map_err(|e| StatementError::Payload(e.to_string()))?;
    // No trailing bytes after the payload's one CBOR item: re-encode and compare.
    let mut again = Vec::new();
    ciborium::into_writer(&event, &mut again).expect("a status event encodes");
    if again != payload {
        return Err(StatementError::Payload(
            "payload is not in the canonical encoding (trailing bytes, or keys out of order)"
                .into(),
        ));
    }
    Ok((KeyId(kid), event))
}

/// Verifies a statement with the label's issuing key and returns its event.
pub fn verify_statement(bytes: &[u8], key: &VerifyingKey) -> Result<StatusEvent, StatementError> {
    let (kid, event) = open_unverified(bytes)?;
    if kid != KeyId::of(key) {
        return Err(StatementError::BadSignature);
    }
    label::verify_sign1_with_key(bytes, key).map_err(|_| StatementError::BadSignature)?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use label::StatusEventKind;

    fn event() -> StatusEvent {
        StatusEvent {
            label_id: "urn:x:1".into(),
            at: time::macros::datetime!(2026-02-01 00:00 UTC),
            kind: StatusEventKind::Revoked {
                reason: "key leaked".into(),
            },
        }
    }

    #[test]
    fn round_trip_and_wrong_key() {
        let k = label::generate_key().unwrap();
        let s = sign_statement(&event(), &k);
        assert_eq!(verify_statement(&s, &k.verifying_key()).unwrap(), event());
        let other = label::generate_key().unwrap();
        assert_eq!(
            verify_statement(&s, &other.verifying_key()),
            Err(StatementError::BadSignature)
        );
    }

    #[test]
    fn every_byte_flip_is_refused() {
        let k = label::generate_key().unwrap();
        let s = sign_statement(&event(), &k);
        for i in 0..s.len() {
            let mut t = s.clone();
            t[i] ^= 0x01;
            assert!(
                verify_statement(&t, &k.verifying_key()).is_err(),
                "byte {i}"
            );
        }
    }

    #[test]
    fn a_re_encoded_statement_is_refused() {
        let k = label::generate_key().unwrap();
        let s = sign_statement(&event(), &k);
        assert_eq!(s[0], 0xd2);
        let mut t = vec![0xd8, 0x12];
        t.extend_from_slice(&s[1..]);
        assert!(matches!(
            open_unverified(&t),
            Err(StatementError::Malformed(m)) if m.contains("canonical")
        ));
        assert!(verify_statement(&t, &k.verifying_key()).is_err());
    }

    #[test]
    fn a_label_is_not_a_statement() {
        let k = label::generate_key().unwrap();
        let l = label::sign(&label::example_claims(), &k).unwrap();
        assert!(matches!(
            verify_statement(&l, &k.verifying_key()),
            Err(StatementError::Malformed(_))
        ));
    }
}
