//! C2SP signed-note (<https://c2sp.org/signed-note>) with Ed25519 keys: parse strictly, verify
//! against known keys, sign, and the `vkey` / `skey` key string formats of golang.org/x/mod
//! sumdb/note, which signed-note's key IDs follow.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::hash::{decode_base64_canonical, encode_base64};

/// Upper bound on the size of a note this crate parses (text and signatures), in bytes.
///
/// signed-note §Format: "Verifiers SHOULD apply a maximum limit to the number of signatures in a
/// note (or, equivalently, to the overall size of a note), but MUST accept at least up to 16
/// signatures. Remember that post-quantum signatures can be up to nearly 5kB in size." 16 such
/// signatures in base64 are under 112 KiB; this bound leaves room for text.
pub const MAX_NOTE_SIZE: usize = 256 * 1024;

/// Upper bound on the number of signature lines (golang.org/x/mod sumdb/note uses the same 100).
pub const MAX_SIGNATURES: usize = 100;

/// signed-note §"Signature types": `0x01` — Ed25519.
pub const ALG_ED25519: u8 = 0x01;

/// The em dash and space that open a signature line (signed-note §Format: "em dash (U+2014),
/// space (U+0020)").
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note is malformed or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Larger than [`MAX_NOTE_SIZE`].
    #[error("note is {size} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Bytes given.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// signed-note §Format: "Signed notes MUST be valid UTF-8".
    #[error("note is not valid UTF-8")]
    NotUtf8,
    /// signed-note §Format: "MUST NOT contain any ASCII control characters (those below U+0020)
    /// other than newline".
    #[error("note contains control character {byte:#04x} at byte {offset}")]
    ControlCharacter {
        /// The byte.
        byte: u8,
        /// Where.
        offset: usize,
    },
    /// signed-note §Format: "a text ending in newline (U+000A)".
    #[error("note text must be non-empty and end with a newline")]
    TextNotTerminated,
    /// signed-note §Format: the text is "followed by a blank line ... followed by one or more
    /// signature lines"; there is no blank line, or nothing after it.
    #[error("note has no signature block")]
    NoSignatures,
    /// A signature line breaks signed-note §Format.
    #[error("signature line {line}: {reason}")]
    MalformedSignature {
        /// 1-based line number within the signature block.
        line: usize,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// Two known keys share both name and key ID, so a signature cannot be attributed.
    #[error("ambiguous key {name}+{key_id:08x}")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// signed-note §Signatures: "If a signature from a known key fails to verify, clients SHOULD
    /// reject the whole note."
    #[error("invalid signature by known key {name}+{key_id:08x}")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// signed-note §Signatures: "If no signature from a known key verifies successfully, clients
    /// MUST reject the note."
    #[error("no signature by a known key")]
    NoKnownSignature,
}

/// Why a key string or key name is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not `<name>+<hex key ID>+<base64 key>` (or `PRIVATE+KEY+...` for a signer key).
    #[error("malformed key: {0}")]
    Format(&'static str),
    /// signed-note §Format: "Key names MUST be non-empty and MUST NOT contain any Unicode spaces
    /// or plus (U+002B) characters."
    #[error("invalid key name {0:?}")]
    Name(String),
    /// The key ID is not 8 lowercase hex digits.
    #[error("key ID must be 8 lowercase hexadecimal digits")]
    KeyIdFormat,
    /// signed-note §"Ed25519 signatures": the key ID is not
    /// `SHA-256(name || 0x0A || 0x01 || key)[:4]`.
    #[error("key ID {given:08x} does not match the key (want {computed:08x})")]
    KeyIdMismatch {
        /// ID in the key string.
        given: u32,
        /// ID computed from name and key.
        computed: u32,
    },
    /// Only Ed25519 (`0x01`) is supported.
    #[error("unsupported signature type {0:#04x} (only Ed25519, 0x01)")]
    UnsupportedAlgorithm(u8),
    /// The key bytes are not 32 bytes, or not a valid Ed25519 public key.
    #[error("invalid Ed25519 key")]
    InvalidKey,
}

/// signed-note §Format: key names are non-empty, with no Unicode whitespace and no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

fn check_name(name: &str) -> Result<(), KeyError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(KeyError::Name(name.to_string()))
    }
}

/// signed-note §"Ed25519 signatures":
/// `key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4]`, big-endian.
pub fn ed25519_key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Splits `<name>+<8 hex>+<base64>` and checks name and hex; the base64 may itself contain `+`.
fn split_key(s: &str) -> Result<(&str, u32, Vec<u8>), KeyError> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Format("want <name>+<key ID>+<base64 key>"));
    };
    check_name(name)?;
    if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(KeyError::KeyIdFormat);
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| KeyError::KeyIdFormat)?;
    let bytes = decode_base64_canonical(b64)
        .ok_or(KeyError::Format("key is not canonical standard base64"))?;
    Ok((name, id, bytes))
}

/// Splits `0x01 || 32 bytes`.
fn ed25519_key_bytes(bytes: &[u8]) -> Result<[u8; 32], KeyError> {
    match bytes.split_first() {
        Some((&ALG_ED25519, rest)) => rest.try_into().map_err(|_| KeyError::InvalidKey),
        Some((&alg, _)) => Err(KeyError::UnsupportedAlgorithm(alg)),
        None => Err(KeyError::Format("empty key")),
    }
}

/// A signed-note verifier key: Ed25519 public key with its name and key ID.
///
/// Text form (golang.org/x/mod sumdb/note "verifier key"): `<name>+<hex key ID>+<base64(0x01 ||
/// 32-byte public key)>`, e.g.
/// `PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Parses a verifier key strictly: valid name, 8 lowercase hex digits, canonical base64 of
    /// `0x01 ||` a valid 32-byte Ed25519 key, and a key ID equal to the one computed from them.
    pub fn parse(vkey: &str) -> Result<Self, KeyError> {
        let (name, key_id, bytes) = split_key(vkey)?;
        let raw = ed25519_key_bytes(&bytes)?;
        let computed = ed25519_key_id(name, &raw);
        if computed != key_id {
            return Err(KeyError::KeyIdMismatch {
                given: key_id,
                computed,
            });
        }
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| KeyError::InvalidKey)?;
        Ok(VerifierKey {
            name: name.to_string(),
            key_id,
            key,
        })
    }

    /// A verifier key for `name` and an Ed25519 public key.
    pub fn from_ed25519(name: &str, key: VerifyingKey) -> Result<Self, KeyError> {
        check_name(name)?;
        Ok(VerifierKey {
            name: name.to_string(),
            key_id: ed25519_key_id(name, key.as_bytes()),
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Verifies an Ed25519 signature over `msg` (RFC 8032; `verify_strict` also rejects
    /// small-order keys and non-canonical encodings).
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(msg, &sig).is_ok()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            encode_base64(&bytes)
        )
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

/// A signed-note signer: an Ed25519 private key with its name and key ID.
///
/// Text form (golang.org/x/mod sumdb/note "signer key"):
/// `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>`.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl NoteSigner {
    /// A signer for `name` from a 32-byte Ed25519 seed (RFC 8032 private key).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        Ok(NoteSigner {
            name: name.to_string(),
            key_id: ed25519_key_id(name, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`, checking the key ID.
    pub fn parse(skey: &str) -> Result<Self, KeyError> {
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(KeyError::Format("signer key must start with PRIVATE+KEY+"))?;
        let (name, key_id, bytes) = split_key(rest)?;
        let seed = ed25519_key_bytes(&bytes)?;
        let signer = Self::from_seed(name, &seed)?;
        if signer.key_id != key_id {
            return Err(KeyError::KeyIdMismatch {
                given: key_id,
                computed: signer.key_id,
            });
        }
        Ok(signer)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier key.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// An Ed25519 signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        write!(f, "NoteSigner({}+{:08x})", self.name, self.key_id)
    }
}

/// One signature line: `— <name> base64(key ID || signature)` (signed-note §Signatures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID, the first four bytes (big-endian) of the decoded base64.
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, without the trailing newline.
    pub fn to_line(&self) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}", self.name, encode_base64(&bytes))
    }

    fn parse_line(line: &str, n: usize) -> Result<Self, NoteError> {
        let bad = |reason| NoteError::MalformedSignature { line: n, reason };
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(bad("must start with an em dash (U+2014) and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(bad("want a key name, a space and a base64 signature"))?;
        if !is_valid_key_name(name) {
            return Err(bad(
                "key name must be non-empty, without spaces or plus signs",
            ));
        }
        let bytes = decode_base64_canonical(b64)
            .ok_or(bad("signature is not canonical standard base64"))?;
        if bytes.len() < 5 {
            return Err(bad(
                "signature must hold a 4-byte key ID and signature bytes",
            ));
        }
        Ok(NoteSignature {
            name: name.to_string(),
            key_id: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            signature: bytes[4..].to_vec(),
        })
    }
}

/// A signed note: text and signature lines, parsed but not yet verified.
///
/// signed-note §Format: "The text MUST be ignored unless the note is signed by a trusted key and
/// the signature has been verified": read the text from [`VerifiedNote`], not from here, for any
/// decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// Checks signed-note §Format rules on note text: valid UTF-8 (a `&str`), no control characters
/// but newline, ending in a newline.
fn check_text(text: &str, base: usize) -> Result<(), NoteError> {
    if let Some(offset) = text.bytes().position(|b| b < 0x20 && b != b'\n') {
        return Err(NoteError::ControlCharacter {
            byte: text.as_bytes()[offset],
            offset: base + offset,
        });
    }
    if !text.ends_with('\n') {
        return Err(NoteError::TextNotTerminated);
    }
    Ok(())
}

impl Note {
    /// An unsigned note with `text`, which must end in a newline and hold no control characters
    /// other than newline.
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        check_text(&text, 0)?;
        Ok(Note {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note strictly (signed-note §Format). Signatures are not verified.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size: bytes.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        let s = std::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
        check_text(s, 0)?;
        // "the text is separated from the signatures by the last empty line in the note": the
        // last "\n\n"; the text keeps its final newline, the blank line belongs to neither.
        let split = s.rfind("\n\n").ok_or(NoteError::NoSignatures)?;
        let (text, sigs) = (&s[..split + 1], &s[split + 2..]);
        if sigs.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let lines: Vec<&str> = sigs
            .strip_suffix('\n')
            .expect("checked: ends with newline")
            .split('\n')
            .collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let signatures = lines
            .iter()
            .enumerate()
            .map(|(i, l)| NoteSignature::parse_line(l, i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }

    /// The (unverified) text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Signs the text, replacing any earlier signature with the same name and key ID.
    pub fn sign(&mut self, signer: &NoteSigner) -> Result<(), NoteError> {
        self.signatures
            .retain(|s| !(s.name == signer.name && s.key_id == signer.key_id));
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        self.signatures.push(NoteSignature {
            name: signer.name.clone(),
            key_id: signer.key_id,
            signature: signer.sign(self.text.as_bytes()).to_vec(),
        });
        Ok(())
    }

    /// The encoded note: text, blank line, one line per signature.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
            out.push('\n');
        }
        out
    }

    /// Verifies the note against the known keys (signed-note §Signatures):
    /// signatures whose (name, key ID) match no known key are ignored; a signature by a known key
    /// that fails to verify rejects the whole note; at least one must verify.
    pub fn verify(&self, keys: &[VerifierKey]) -> Result<VerifiedNote, NoteError> {
        let mut verified: Vec<VerifierKey> = Vec::new();
        let mut unverified = Vec::new();
        for sig in &self.signatures {
            let mut matching = keys
                .iter()
                .filter(|k| k.name == sig.name && k.key_id == sig.key_id);
            let Some(key) = matching.next() else {
                unverified.push(sig.clone());
                continue;
            };
            if matching.any(|other| other != key) {
                return Err(NoteError::AmbiguousKey {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            if !key.verify(self.text.as_bytes(), &sig.signature) {
                return Err(NoteError::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            if !verified.contains(key) {
                verified.push(key.clone());
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoKnownSignature);
        }
        Ok(VerifiedNote {
            text: self.text.clone(),
            verified_by: verified,
            unverified,
        })
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A note at least one known key signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The note text, including its final newline.
    pub text: String,
    /// The known keys whose signatures verified, in signature order, without repeats.
    pub verified_by: Vec<VerifierKey>,
    /// Signatures by keys not in the known set (ignored, kept for callers that want to show them).
    pub unverified: Vec<NoteSignature>,
}

/// Parses and verifies a signed note in one step: [`Note::parse`] then [`Note::verify`].
pub fn open(bytes: &[u8], keys: &[VerifierKey]) -> Result<VerifiedNote, NoteError> {
    Note::parse(bytes)?.verify(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_follow_the_spec() {
        assert!(is_valid_key_name("example.com/log42"));
        for bad in ["", "a b", "a+b", "a\u{a0}b", "a\tb"] {
            assert!(!is_valid_key_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn signer_debug_hides_the_private_key() {
        let s = NoteSigner::from_seed("k", &[7; 32]).unwrap();
        let dbg = format!("{s:?}");
        assert!(dbg.starts_with("NoteSigner(k+"), "{dbg}");
        assert!(!dbg.contains(&encode_base64(&[7; 32])));
    }
}
