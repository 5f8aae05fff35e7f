//! What a check reads ([`Ctx`]: the tree, the signature hits, the image digest) and what it
//! fills ([`Outcome`]). Its own module so that `checks` and `components` both depend on it
//! and on the plain data of `report`, and nothing depends back on them.

use crate::report::{Evidence, Examined, Finding};
use crate::tree::{Entry, Tree};

/// What the checks see: the tree and the image digest for evidence references.
pub struct Ctx<'a> {
    /// The unpacked image.
    pub tree: &'a Tree,
    /// Signature hits per file.
    pub scan: &'a crate::scan::Scan,
    /// Hex SHA-256 of the image.
    pub image_sha256: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn ev(&self, e: &Entry, offset: usize, excerpt: impl Into<String>) -> Evidence {
        let mut ev = Evidence::new(self.image_sha256, &e.display_path(), offset as u64, excerpt);
        // Text files (no NUL in what precedes the offset) also get the line number.
        if let Some(before) = e.data().and_then(|d| d.get(..offset)) {
            if before.len() <= 1 << 20 && !before.contains(&0) {
                ev.line = Some(memchr::memchr_iter(b'\n', before).count() as u64 + 1);
            }
        }
        ev
    }
}

/// Output of all checks.
#[derive(Default)]
pub struct Outcome {
    /// Problems.
    pub findings: Vec<Finding>,
    /// Provisions examined (pass unless a finding fails them).
    pub examined: Vec<Examined>,
    /// (user, sha256 of the stored hash, evidence) for cross-image comparison.
    pub credential_digests: Vec<(String, String, Evidence)>,
    /// Provisions a check could not decide (`basis` says what was not checked and why):
    /// `cannot-tell` unless a finding fails them, never `pass`.
    pub undecided: Vec<Examined>,
}

impl Outcome {
    /// Add `later`'s results after this one's.
    pub fn append(&mut self, later: Outcome) {
        self.findings.extend(later.findings);
        self.examined.extend(later.examined);
        self.credential_digests.extend(later.credential_digests);
        self.undecided.extend(later.undecided);
    }
}
