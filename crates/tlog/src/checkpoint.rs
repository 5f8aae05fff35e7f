//! C2SP tlog-checkpoint (<https://c2sp.org/tlog-checkpoint>): the signed tree head as the text of
//! a signed note.
//!
//! ```text
//! example.com/behind-the-sofa
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//!
//! — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
//! ```

use std::fmt;

use crate::hash::Hash;
use crate::note::{KeyError, Note, NoteError, NoteSigner, VerifierKey};

/// A checkpoint body: origin, tree size, root hash and optional extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// tlog-checkpoint §"Note text" 1: the log's unique identity; non-empty.
    pub origin: String,
    /// tlog-checkpoint §"Note text" 2: the number of leaves.
    pub size: u64,
    /// tlog-checkpoint §"Note text" 3: the RFC 9162 (RFC 6962) Merkle Tree Hash at `size`.
    pub root: Hash,
    /// tlog-checkpoint §"Note text" 4: opaque, each non-empty; "NOT RECOMMENDED".
    pub extensions: Vec<String>,
}

/// Why a checkpoint is malformed or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// tlog-checkpoint §"Note text": "a sequence of at least three non-empty lines".
    #[error("checkpoint needs origin, size and root hash lines")]
    TooFewLines,
    /// Line `line` (1-based) is empty; every checkpoint line must be non-empty.
    #[error("checkpoint line {line} is empty")]
    EmptyLine {
        /// 1-based line number.
        line: usize,
    },
    /// tlog-checkpoint §"Note text" 2: "the ASCII decimal representation of the number of leaves
    /// in the tree, with no leading zeroes (unless the tree is empty, in which case the tree size
    /// is `0`)".
    #[error("tree size {0:?} is not a decimal u64 without leading zeroes")]
    Size(String),
    /// tlog-checkpoint §"Note text" 3: the base64 encoding of a 32-byte hash.
    #[error("root hash {0:?} is not the standard base64 of 32 bytes")]
    RootHash(String),
    /// The checkpoint's text is not valid note text (control characters, no final newline).
    #[error("checkpoint text: {0}")]
    Text(NoteError),
    /// The signed note around the checkpoint did not verify.
    #[error("checkpoint signature")]
    Note(#[from] NoteError),
    /// The origin line is not the one expected for this log.
    #[error("checkpoint origin {got:?} is not the expected {want:?}")]
    WrongOrigin {
        /// Expected origin.
        want: String,
        /// Origin in the checkpoint.
        got: String,
    },
    /// A line to be written would contain a newline or be empty.
    #[error("origin and extension lines must be non-empty and hold no newline")]
    InvalidLine,
}

/// tlog-checkpoint §"Note text" 2, strictly.
fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    let err = || CheckpointError::Size(s.to_string());
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(err());
    }
    s.parse().map_err(|_| err())
}

impl Checkpoint {
    /// A checkpoint with no extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Parses checkpoint text (the note text, ending in a newline) strictly.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        // The text of a signed note: newline-terminated, no control characters but newline.
        Note::new(text).map_err(CheckpointError::Text)?;
        let body = text.strip_suffix('\n').expect("Note::new checked");
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(CheckpointError::TooFewLines);
        }
        if let Some(i) = lines.iter().position(|l| l.is_empty()) {
            return Err(CheckpointError::EmptyLine { line: i + 1 });
        }
        let size = parse_size(lines[1])?;
        let root =
            Hash::from_base64(lines[2]).map_err(|_| CheckpointError::RootHash(lines[2].into()))?;
        Ok(Checkpoint {
            origin: lines[0].to_string(),
            size,
            root,
            extensions: lines[3..].iter().map(|s| s.to_string()).collect(),
        })
    }

    /// The note text: origin, size and base64 root hash lines, then extension lines, each ending
    /// in a newline.
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        let lines = std::iter::once(&self.origin).chain(&self.extensions);
        for l in lines {
            if l.is_empty() || l.contains('\n') {
                return Err(CheckpointError::InvalidLine);
            }
        }
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        Note::new(out.as_str()).map_err(CheckpointError::Text)?;
        Ok(out)
    }

    /// The signed note of this checkpoint, signed by every signer given.
    pub fn sign(&self, signers: &[&NoteSigner]) -> Result<String, CheckpointError> {
        let mut note = Note::new(self.to_text()?).map_err(CheckpointError::Text)?;
        for s in signers {
            note.sign(s)?;
        }
        Ok(note.to_text())
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} @ {} = {}", self.origin, self.size, self.root)
    }
}

/// What a client knows about a log: its origin and its Ed25519 key.
///
/// tlog-checkpoint §Signatures: "The log's key name in its signature line SHOULD match the origin
/// line"; [`LogVerifier::new`] assumes it does, [`LogVerifier::with_origin`] states another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogVerifier {
    origin: String,
    key: VerifierKey,
}

impl LogVerifier {
    /// A log whose origin is the key's name.
    pub fn new(key: VerifierKey) -> Self {
        LogVerifier {
            origin: key.name().to_string(),
            key,
        }
    }

    /// Parses the log's verifier key string; origin is the key's name.
    pub fn parse(vkey: &str) -> Result<Self, KeyError> {
        Ok(Self::new(VerifierKey::parse(vkey)?))
    }

    /// The same log with a different expected origin line.
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    /// The expected origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log's key.
    pub fn key(&self) -> &VerifierKey {
        &self.key
    }

    /// Opens a signed checkpoint: the log's key must have signed it (other signatures, such as
    /// witness cosignatures, are ignored), and its origin must be this log's.
    pub fn verify_checkpoint(&self, signed: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let note = crate::note::open(signed, std::slice::from_ref(&self.key))?;
        let cp = Checkpoint::parse(&note.text)?;
        if cp.origin != self.origin {
            return Err(CheckpointError::WrongOrigin {
                want: self.origin.clone(),
                got: cp.origin,
            });
        }
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_line_is_strict() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "0x10",
            "18446744073709551616",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }
}
