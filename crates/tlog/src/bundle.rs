//! Offline proof bundles: an entry, its leaf index, its inclusion proof and the signed checkpoint
//! the proof is against. Verifying one needs only the log's verifier key: no network.
//!
//! JSON form (field order as written; unknown fields rejected):
//!
//! ```json
//! {
//!   "format": "trustgate-tlog-proof-bundle/v1",
//!   "entry": "<standard base64 of the entry bytes>",
//!   "leaf_index": 7,
//!   "inclusion_proof": ["<base64 hash>", "..."],
//!   "checkpoint": "<the signed checkpoint note, verbatim>",
//!   "statements": [
//!     {"entry": "<base64>", "leaf_index": 9, "inclusion_proof": ["<base64 hash>", "..."]}
//!   ]
//! }
//! ```
//!
//! `statements` is optional, so bundles written before it existed still read. When present it
//! lists further log entries (a registry puts there every status statement it logged about the
//! entry's label), each proven against **the same signed checkpoint** as the entry; an empty
//! list says "there were none up to this checkpoint", an absent one says nothing at all.
//! [`verify`] checks every one of them or refuses the whole bundle.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::checkpoint::{Checkpoint, CheckpointError, LogVerifier};
use crate::hash::{decode_base64_canonical, encode_base64, leaf_hash, Hash};
use crate::proof::{prove_inclusion, verify_inclusion, HashReader, ProofError, VerifyError};

/// The value of the `format` field this crate writes and accepts.
pub const BUNDLE_FORMAT: &str = "trustgate-tlog-proof-bundle/v1";

/// Upper bound on the JSON text [`ProofBundle::from_json`] parses.
pub const MAX_BUNDLE_JSON: usize = 4 * 1024 * 1024;

/// An entry with everything needed to check, offline, that a log included it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofBundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The entry bytes; the leaf hash is RFC 9162 §2.1.1 `HASH(0x00 || entry)`.
    #[serde(serialize_with = "ser_b64", deserialize_with = "de_b64")]
    pub entry: Vec<u8>,
    /// The entry's index in the log.
    pub leaf_index: u64,
    /// RFC 9162 §2.1.3 inclusion proof in the checkpoint's tree.
    pub inclusion_proof: Vec<Hash>,
    /// The C2SP tlog-checkpoint signed note, verbatim.
    pub checkpoint: String,
    /// Further entries proven against the same checkpoint (status statements about the entry);
    /// `None` in bundles that do not carry any (see the module documentation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements: Option<Vec<BundledEntry>>,
}

/// One further entry of a bundle, proven against the bundle's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundledEntry {
    /// The entry bytes.
    #[serde(serialize_with = "ser_b64", deserialize_with = "de_b64")]
    pub entry: Vec<u8>,
    /// The entry's index in the log.
    pub leaf_index: u64,
    /// RFC 9162 §2.1.3 inclusion proof in the bundle checkpoint's tree.
    pub inclusion_proof: Vec<Hash>,
}

impl BundledEntry {
    /// Builds the entry at `leaf_index` with its inclusion proof in `checkpoint`'s tree.
    pub fn build<R: HashReader + ?Sized>(
        entry: Vec<u8>,
        leaf_index: u64,
        checkpoint: &Checkpoint,
        reader: &R,
    ) -> Result<Self, ProofError> {
        Ok(BundledEntry {
            inclusion_proof: prove_inclusion(leaf_index, checkpoint.size, reader)?,
            entry,
            leaf_index,
        })
    }
}

fn ser_b64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode_base64(bytes))
}

fn de_b64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    decode_base64_canonical(&text)
        .ok_or_else(|| serde::de::Error::custom("entry is not canonical standard base64"))
}

/// Why a bundle did not verify.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The JSON is malformed, too large, or has unknown fields.
    #[error("bundle JSON: {0}")]
    Json(String),
    /// The `format` field is not [`BUNDLE_FORMAT`].
    #[error("unsupported bundle format {0:?}")]
    Format(String),
    /// The checkpoint is malformed, not signed by the log, or from another log.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not lead from the entry to the checkpoint's root.
    #[error("inclusion proof")]
    Inclusion(#[from] VerifyError),
    /// A statement's inclusion proof does not lead to the checkpoint's root, or two entries
    /// claim the same leaf.
    #[error("statements[{index}] (leaf {leaf_index}): {reason}")]
    Statement {
        /// Position in `statements`.
        index: usize,
        /// The leaf index it claims.
        leaf_index: u64,
        /// What was wrong.
        reason: String,
    },
}

/// An entry proven to be in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// The entry bytes.
    pub entry: Vec<u8>,
    /// Its index in the log.
    pub leaf_index: u64,
    /// Its RFC 9162 leaf hash.
    pub leaf_hash: Hash,
    /// The verified checkpoint it is included in.
    pub checkpoint: Checkpoint,
    /// The bundle's further entries, each verified against the same checkpoint; `None` when the
    /// bundle carries none (nothing beyond the entry itself was checked).
    pub statements: Option<Vec<VerifiedStatement>>,
}

/// A further entry of a bundle, proven to be in the same checkpoint's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedStatement {
    /// The entry bytes.
    pub entry: Vec<u8>,
    /// Its index in the log.
    pub leaf_index: u64,
}

impl ProofBundle {
    /// Builds a bundle for the entry at `leaf_index` against a signed checkpoint, reading the
    /// proof from `reader`. `checkpoint` must be the body of `signed_checkpoint`.
    pub fn build<R: HashReader + ?Sized>(
        entry: Vec<u8>,
        leaf_index: u64,
        checkpoint: &Checkpoint,
        signed_checkpoint: String,
        reader: &R,
    ) -> Result<Self, ProofError> {
        let inclusion_proof = prove_inclusion(leaf_index, checkpoint.size, reader)?;
        Ok(ProofBundle {
            format: BUNDLE_FORMAT.to_string(),
            entry,
            leaf_index,
            inclusion_proof,
            checkpoint: signed_checkpoint,
            statements: None,
        })
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a bundle always serialises")
    }

    /// Parses JSON, rejecting texts over [`MAX_BUNDLE_JSON`] bytes and unknown fields.
    pub fn from_json(json: &str) -> Result<Self, BundleError> {
        if json.len() > MAX_BUNDLE_JSON {
            return Err(BundleError::Json(format!(
                "{} bytes, over the {MAX_BUNDLE_JSON}-byte limit",
                json.len()
            )));
        }
        serde_json::from_str(json).map_err(|e| BundleError::Json(e.to_string()))
    }
}

/// Verifies a bundle offline: the checkpoint is signed by the log's key and names the log's
/// origin (C2SP tlog-checkpoint, signed-note), and the inclusion proof leads from the entry's
/// leaf hash at `leaf_index` to the checkpoint's root at the checkpoint's size (RFC 9162
/// §2.1.3.2); so does every statement's, against the same checkpoint.
pub fn verify(bundle: &ProofBundle, log: &LogVerifier) -> Result<VerifiedEntry, BundleError> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(BundleError::Format(bundle.format.clone()));
    }
    let checkpoint = log.verify_checkpoint(bundle.checkpoint.as_bytes())?;
    let leaf = leaf_hash(&bundle.entry);
    verify_inclusion(
        &leaf,
        bundle.leaf_index,
        checkpoint.size,
        &bundle.inclusion_proof,
        &checkpoint.root,
    )?;
    let statements = match &bundle.statements {
        None => None,
        Some(list) => {
            let mut seen = std::collections::BTreeSet::from([bundle.leaf_index]);
            let mut out = Vec::with_capacity(list.len());
            for (index, s) in list.iter().enumerate() {
                let fail = |reason: String| BundleError::Statement {
                    index,
                    leaf_index: s.leaf_index,
                    reason,
                };
                if !seen.insert(s.leaf_index) {
                    return Err(fail(
                        "another entry of the bundle has this leaf index".into(),
                    ));
                }
                verify_inclusion(
                    &leaf_hash(&s.entry),
                    s.leaf_index,
                    checkpoint.size,
                    &s.inclusion_proof,
                    &checkpoint.root,
                )
                .map_err(|e| fail(format!("inclusion proof: {e}")))?;
                out.push(VerifiedStatement {
                    entry: s.entry.clone(),
                    leaf_index: s.leaf_index,
                });
            }
            Some(out)
        }
    };
    Ok(VerifiedEntry {
        entry: bundle.entry.clone(),
        leaf_index: bundle.leaf_index,
        leaf_hash: leaf,
        checkpoint,
        statements,
    })
}
