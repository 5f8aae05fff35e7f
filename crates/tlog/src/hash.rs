//! RFC 9162 §2.1 hashing: the leaf hash, the node hash and the Merkle Tree Hash.
//!
//! RFC 9162 §2.1: "The hash algorithm used is SHA-256" for this log (the RFC lets a log choose;
//! C2SP tlog-tiles fixes SHA-256), and domain separation between leaves and interior nodes is a
//! one-byte prefix: `0x00` for leaves, `0x01` for nodes (§2.1.1).

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Length in bytes of every hash in this crate (SHA-256).
pub const HASH_SIZE: usize = 32;

/// A SHA-256 output: a leaf hash, an interior node hash or a tree root.
///
/// Serialised (serde) as standard padded base64, the encoding C2SP tlog-checkpoint uses for the
/// root hash line, so JSON bundles and checkpoints spell a hash the same way.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_SIZE]);

/// Error decoding a [`struct@Hash`] from text or bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashDecodeError {
    /// The input decoded to the wrong number of bytes.
    #[error("hash must be {HASH_SIZE} bytes, got {0}")]
    Length(usize),
    /// The input is not canonical standard padded base64 (RFC 4648 §4).
    #[error("hash is not canonical standard base64")]
    Base64,
    /// The input is not lowercase or uppercase hexadecimal.
    #[error("hash is not hexadecimal")]
    Hex,
}

impl Hash {
    /// Wraps a byte slice, which must be exactly [`HASH_SIZE`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HashDecodeError> {
        let arr: [u8; HASH_SIZE] = bytes
            .try_into()
            .map_err(|_| HashDecodeError::Length(bytes.len()))?;
        Ok(Hash(arr))
    }

    /// Decodes standard padded base64 (RFC 4648 §4), rejecting non-canonical encodings
    /// (missing padding, non-zero trailing bits, whitespace).
    pub fn from_base64(text: &str) -> Result<Self, HashDecodeError> {
        let bytes = decode_base64_canonical(text).ok_or(HashDecodeError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Standard padded base64 (RFC 4648 §4), 44 characters.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Decodes 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Result<Self, HashDecodeError> {
        let bytes = hex::decode(text).map_err(|_| HashDecodeError::Hex)?;
        Self::from_slice(&bytes)
    }

    /// Lowercase hexadecimal, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; HASH_SIZE] {
        &self.0
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hash::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

/// Decodes standard padded base64 and accepts it only if re-encoding gives back the same text,
/// so each byte string has exactly one accepted spelling.
pub(crate) fn decode_base64_canonical(text: &str) -> Option<Vec<u8>> {
    let engine = &base64::engine::general_purpose::STANDARD;
    let bytes = engine.decode(text).ok()?;
    (engine.encode(&bytes) == text).then_some(bytes)
}

/// Standard padded base64 (RFC 4648 §4).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// RFC 9162 §2.1.1: the hash of an empty list, `MTH({}) = HASH()`, i.e. SHA-256 of no bytes.
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// RFC 9162 §2.1.1: the leaf hash, `MTH({d(0)}) = HASH(0x00 || d(0))`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// RFC 9162 §2.1.1: the interior node hash, `HASH(0x01 || MTH(left) || MTH(right))`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// RFC 9162 §2.1.1: the largest power of two *strictly smaller* than `n`, the split point `k`
/// with `k < n <= 2k`. Requires `n > 1`.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n > 1, "split_point requires n > 1");
    1u64 << (63 - (n - 1).leading_zeros())
}

/// RFC 9162 §2.1.1 Merkle Tree Hash of a list of *leaf hashes*, computed by the definition's
/// recursion (`MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`). Memory `O(log n)`,
/// time `O(n)`; for stored trees use [`crate::tree_root`] instead, which reads `O(log n)` hashes.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(
                &root_from_leaf_hashes(&leaves[..k]),
                &root_from_leaf_hashes(&leaves[k..]),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT.0, <[u8; 32]>::from(Sha256::digest(b"")));
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1 << 40, 1 << 39),
        ] {
            assert_eq!(split_point(n), k, "n={n}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn base64_must_be_canonical() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Ok(h));
        let unpadded = h.to_base64().trim_end_matches('=').to_string();
        assert_eq!(Hash::from_base64(&unpadded), Err(HashDecodeError::Base64));
        assert_eq!(
            Hash::from_base64(&format!(" {}", h.to_base64())),
            Err(HashDecodeError::Base64)
        );
        // 31 bytes of base64 decodes but is the wrong length.
        let short = encode_base64(&[0u8; 31]);
        assert_eq!(Hash::from_base64(&short), Err(HashDecodeError::Length(31)));
    }
}
