//! One signature pass over every stored file: the PEM private-key markers the secrets check
//! needs and the version-banner prefixes the component check needs, found together by one
//! `aho-corasick` automaton. Files that share their bytes are scanned once.

use std::collections::{HashMap, HashSet};
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

/// Where version banners can be in a file. In an ELF file they are string constants, so
/// only the read-only and initialised data sections are searched (a fifth or less of a
/// large library); anything else (kernel images, scripts, stripped or odd ELF) is searched
/// whole.
#[allow(clippy::single_range_in_vec_init)] // one range meaning "the whole file"
fn banner_regions(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    use goblin::container::{Container, Ctx, Endian};
    use goblin::elf::{section_header::SHT_NOBITS, Elf, SectionHeader};
    let whole = vec![0..data.len()];
    if !data.starts_with(b"\x7fELF") {
        return whole;
    }
    let Ok(header) = Elf::parse_header(data) else {
        return whole;
    };
    let Ok(elf) = Elf::lazy_parse(header) else {
        return whole;
    };
    let ctx = Ctx::new(
        if elf.is_64 {
            Container::Big
        } else {
            Container::Little
        },
        if elf.little_endian {
            Endian::Little
        } else {
            Endian::Big
        },
    );
    let Ok(sections) =
        SectionHeader::parse(data, header.e_shoff as usize, header.e_shnum as usize, ctx)
    else {
        return whole;
    };
    let Some(names) = sections.get(header.e_shstrndx as usize) else {
        return whole;
    };
    let Ok(names) =
        goblin::strtab::Strtab::parse(data, names.sh_offset as usize, names.sh_size as usize, 0)
    else {
        return whole;
    };
    let regions: Vec<_> = sections
        .iter()
        .filter(|s| s.sh_type != SHT_NOBITS)
        .filter(|s| {
            names
                .get_at(s.sh_name)
                .is_some_and(|n| n.starts_with(".rodata") || n == ".data")
        })
        .filter_map(|s| {
            let start = s.sh_offset as usize;
            let end = start.checked_add(s.sh_size as usize)?;
            (end <= data.len()).then_some(start..end)
        })
        .collect();
    if regions.is_empty() {
        whole
    } else {
        regions
    }
}

/// Banners are looked for in executables and libraries (ELF), in kernel images under
/// /boot, and in payloads the unpacker carved out of the image itself (a uImage or TRX part,
/// a decompressed stream, a bare binary). Text files are skipped: a version quoted in a
/// changelog or a script is not a component.
fn banner_candidate(e: &Entry, data: &[u8]) -> bool {
    const BLOBS: &[&str] = &[
        "/image", "/gunzip", "/unxz", "/unlzma", "/unzstd", "/bunzip2", "/payload",
    ];
    data.starts_with(b"\x7fELF")
        || e.path.starts_with("/boot/")
        || BLOBS.contains(&e.path.as_str())
        || e.path.starts_with("/uimage-part")
        || e.path.starts_with("/trx-part")
}

/// Hits per stored file.
#[derive(Debug, Default)]
pub struct Scan {
    hits: HashMap<usize, Vec<(Sig, usize)>>,
}

impl Scan {
    /// Scan every file of `tree` (shared bytes once). Files listed in `opened` (display
    /// paths of files the unpacker opened as containers) are skipped: their members are in
    /// the tree and are scanned themselves, so a key inside a cpio is reported once, at its
    /// own path.
    pub fn run(tree: &Tree, opened: &HashSet<String>) -> Scan {
        Scan::run_on(tree, opened, &crate::work::Workers::new(1))
    }

    /// [`Scan::run`] spread over `workers`, one file at a time (the hits do not depend on
    /// the thread count).
    pub fn run_on(tree: &Tree, opened: &HashSet<String>, workers: &crate::work::Workers) -> Scan {
        let ac = banner_automaton();
        // Stored once, scanned once: hard links and duplicates share their bytes.
        let mut seen = HashSet::new();
        let mut files = Vec::new();
        for e in tree.files() {
            let EntryKind::File(d) = &e.kind else {
                continue;
            };
            if !opened.is_empty() && opened.contains(&e.display_path()) {
                continue;
            }
            if seen.insert(Arc::as_ptr(d) as usize) {
                files.push((e, d));
            }
        }
        let found = workers.map(files, |(e, d)| {
            let mut found = Vec::new();
            pem_hits(d, &mut found);
            let regions = if banner_candidate(e, d) {
                banner_regions(d)
            } else {
                Vec::new()
            };
            for r in regions {
                let base = r.start;
                found.extend(
                    ac.find_iter(&d[r])
                        .map(|m| (Sig::Banner(m.pattern().as_usize()), base + m.start())),
                );
            }
            (Arc::as_ptr(d) as usize, found)
        });
        Scan {
            hits: found.into_iter().collect(),
        }
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
