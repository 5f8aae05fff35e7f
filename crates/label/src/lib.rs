//! # label — signed IoT security labels
//!
//! This crate owns the trustgate **security label** format:
//!
//! - the claim set ([`Claims`]) and its JSON rendering (kebab-case keys,
//!   unknown fields refused);
//! - its CBOR encoding in RFC 8949 §4.2.1 core deterministic form ([`cbor`]);
//! - COSE_Sign1 (RFC 9052 §4.2) signing and verification with EdDSA over
//!   Ed25519, alg -8 (RFC 9053 §2.2) ([`sign`], [`verify`]);
//! - assessor key files, PKCS#8 / SPKI PEM ([`generate_key`] and friends);
//! - the QR short form `BASE/l/base64url(SHA-256(label))` ([`short_form`]);
//! - the status rules: active, support-ended, suspended, revoked, superseded,
//!   not-yet-valid, expired ([`status()`]).
//!
//! It must **not** know about HTTP, databases, files or clocks: it works on
//! bytes, keys and instants handed to it. The one exception is
//! [`signing_key_from_file`], so that every program refuses a private key
//! file others can read in the same way. Where labels are stored, how the
//! registry's facts are fetched and how the transparency log proves them
//! belong to the `registry` and `tlog` crates.
//!
//! ```
//! use label::*;
//! # let claims = label::example_claims();
//! let key = generate_key().unwrap();
//! let signed = sign(&claims, &key).unwrap();
//! let verified = verify(&signed, &[key.verifying_key()]).unwrap();
//! assert_eq!(verified.claims, claims);
//! let url = short_form("https://registry.example", &label_digest(&signed));
//! assert_eq!(parse_short_form(&url).unwrap().1, verified.digest);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cbor;
pub mod claims;
pub mod conformance;
pub mod cose;
pub mod error;
pub mod keys;
pub mod qr;
pub mod schema;
pub mod status;

pub use claims::*;
pub use conformance::{
    is_good, level_words_fr, summary_words, summary_words_fr, update_mode_words, Conformance,
    ConformanceClaim, Outcome,
};
pub use cose::{
    decode_unverified, parse_canonical_sign1, sign, verify, verify_sign1_with_key, KeyId,
    KeyResolver, KeyRing, VerifiedLabel, CONTENT_TYPE,
};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use error::{ClaimsError, KeyError, LabelError, ShortFormError};
pub use keys::{
    generate_key, signing_key_from_file, signing_key_from_pem, signing_key_to_pem,
    verifying_key_from_pem, verifying_key_to_pem,
};
pub use qr::{label_digest, parse_short_form, short_form};
pub use status::{status, Status, StatusEvent, StatusEventKind};

/// An instant as RFC 3339 text in UTC (`2026-03-01T12:00:00Z`, fractional seconds kept), the
/// one way the registry writes the instants of labels, statements and its log. Years RFC 3339
/// cannot write (before 0000, after 9999) come out as `<seconds> (Unix time)` instead of failing.
///
/// Claims and statements themselves use stricter canonical text (whole seconds) through serde.
///
/// ```
/// let t = time::macros::datetime!(2026-03-01 13:00 +01:00);
/// assert_eq!(label::rfc3339(t), "2026-03-01T12:00:00Z");
/// ```
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.checked_to_offset(time::UtcOffset::UTC)
        .and_then(|utc| {
            utc.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{} (Unix time)", t.unix_timestamp()))
}

/// A complete, valid claim set for examples, tests and `trustgate demo`.
pub fn example_claims() -> Claims {
    use time::macros::{date, datetime};
    Claims {
        id: "urn:trustgate:label:0001".into(),
        schema: SCHEMA_V1.into(),
        issuer: "https://registry.example".into(),
        assessor: Assessor {
            name: "Example Test Lab".into(),
            accreditation: Some("ISO/IEC 17025 #1234".into()),
        },
        manufacturer: Manufacturer {
            name: "Acme Devices".into(),
            security_contact: "mailto:security@acme.example".into(),
        },
        product: Product {
            model: "CAM-100".into(),
            hardware_revision: "B".into(),
        },
        software: vec![SoftwareVersion {
            component: "firmware".into(),
            version: "1.4.2".into(),
            image_sha256: Sha256Digest::of(b"example firmware image"),
        }],
        baseline: Baseline {
            id: "etsi-en-303-645".into(),
            version: "2.1.1".into(),
            level: "mandatory".into(),
        },
        conformance: None,
        assessment: Assessment {
            method: "firmware-analysis".into(),
            date: date!(2026 - 01 - 15),
            verdicts: vec![
                ProvisionVerdict {
                    provision: "5.1-1".into(),
                    verdict: Verdict::Pass,
                    evidence: vec![Sha256Digest::of(b"credentials report")],
                },
                ProvisionVerdict {
                    provision: "5.3-13".into(),
                    verdict: Verdict::CannotTell,
                    evidence: vec![],
                },
            ],
        },
        support: Support {
            end_date: date!(2030 - 12 - 31),
            update_mode: UpdateMode::Automatic,
        },
        vulnerability_disclosure: VulnerabilityDisclosure {
            url: Some("https://acme.example/security".into()),
            contact: None,
        },
        credentials_policy: CredentialsPolicy::UniquePerDevice,
        data_practices: DataPractices {
            personal_data: true,
            user_deletion: true,
            policy_url: Some("https://acme.example/privacy".into()),
        },
        sbom_sha256: Some(Sha256Digest::of(b"sbom")),
        network_profile: NetworkProfile {
            mud_url: Some("https://acme.example/mud/cam-100.json".into()),
        },
        validity: Validity {
            not_before: datetime!(2026-01-15 00:00:00 UTC),
            not_after: datetime!(2031-01-15 00:00:00 UTC),
        },
    }
}
