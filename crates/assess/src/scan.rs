//! One signature pass over every stored file: the PEM private-key markers the secrets check
//! needs and the version-banner prefixes the component check needs, found together by one
//! `aho-corasick` automaton. Files that share their bytes are scanned once.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use crate::tree::{Entry, EntryKind, Tree};

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    /// `-----BEGIN <PEM_KINDS[i]>-----`.
    Pem(usize),
    /// The prefix of banner rule `i` (see `components`).
    Banner(usize),
}

/// PEM labels of private keys (RFC 7468 §10, §11 and OpenSSH's own).
pub const PEM_KINDS: &[&str] = &[
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
];

/// Banner prefixes, in the order of the component rules.
pub const BANNER_PREFIXES: &[&str] = &[
    "BusyBox v",
    "SSH-2.0-dropbear_",
    "OpenSSL ",
    "OpenSSH_",
    "lighttpd/",
    "dnsmasq-",
    "libcurl/",
    "GNU C Library",
    "Linux version ",
];

fn banner_automaton() -> &'static AhoCorasick {
    static A: OnceLock<AhoCorasick> = OnceLock::new();
    A.get_or_init(|| {
        AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .build(BANNER_PREFIXES)
            .expect("static patterns")
    })
}

/// Every PEM private-key BEGIN line in `data`: a SIMD search for the shared tail
/// `PRIVATE KEY-----`, then the label is read backwards (cheaper than a multi-pattern
/// automaton over every byte of every file).
fn pem_hits(data: &[u8], out: &mut Vec<(Sig, usize)>) {
    static FINDER: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    let finder = FINDER.get_or_init(|| memchr::memmem::Finder::new(b"PRIVATE KEY-----"));
    for end in finder.find_iter(data) {
        for (i, kind) in PEM_KINDS.iter().enumerate() {
            let marker = format!("-----BEGIN {kind}-----");
            let tail_end = end + "PRIVATE KEY-----".len();
            if let Some(start) = tail_end.checked_sub(marker.len()) {
                if &data[start..tail_end] == marker.as_bytes() {
                    out.push((Sig::Pem(i), start));
                    break;
                }
            }
        }
    }
}

/// Hits per stored file.
#[derive(Debug, Default)]
pub struct Scan {
    hits: HashMap<usize, Vec<(Sig, usize)>>,
}

impl Scan {
    /// Scan every file of `tree` (shared bytes once).
    pub fn run(tree: &Tree) -> Scan {
        let ac = banner_automaton();
        let mut hits = HashMap::new();
        for e in tree.files() {
            let EntryKind::File(d) = &e.kind else {
                continue;
            };
            let key = Arc::as_ptr(d) as usize;
            hits.entry(key).or_insert_with(|| {
                let mut found = Vec::new();
                pem_hits(d, &mut found);
                found.extend(
                    ac.find_iter(d.as_slice())
                        .map(|m| (Sig::Banner(m.pattern().as_usize()), m.start())),
                );
                found
            });
        }
        Scan { hits }
    }

    /// The hits in one file (empty for non-files).
    pub fn hits(&self, e: &Entry) -> &[(Sig, usize)] {
        match &e.kind {
            EntryKind::File(d) => self
                .hits
                .get(&(Arc::as_ptr(d) as usize))
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            _ => &[],
        }
    }
}
