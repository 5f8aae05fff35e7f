//! Bounded, traversal-safe unpacking of a firmware image into the in-memory [`Tree`].
//!
//! One process, no external tools, nothing written to disk. Formats: squashfs 4 (little and
//! big endian, every compressor `backhand` reads, LZMA, AVM's variant), 3 (gzip, vendor
//! LZMA) and 2 (zlib, vendor LZMA), ext2/3/4, cramfs (little and big endian), JFFS2, UBI and
//! UBIFS, YAFFS2, romfs, FAT, tar (ustar/GNU/pax), cpio (newc, `070701` and `070702`), zip,
//! 7z (an encrypted one reported as not opened), gzip, xz, lzma-alone,
//! zstd, bzip2, U-Boot legacy uImage (single and multi), Broadcom TRX, bzImage LZMA
//! payloads, and raw flash dumps (padding and unknown bytes around known formats, found
//! with an `aho-corasick` signature scan). Formats recognised and not read (squashfs 1,
//! ISO 9660, RAR, …) are recorded as [`Unopened`], with their offset and size.
//!
//! Limits ([`Limits`]) on total extracted bytes, file count, nesting depth and compression
//! ratio are checked *before* the bytes are produced where the format declares sizes
//! (squashfs inodes, tar and cpio headers), and while decompressing otherwise, so a bomb
//! stops at the limit instead of exhausting memory.
//!
//! Hostile input (a `..` member, a member written through a symlink, a bomb, a truncated
//! container at the start of the image) is an [`UnpackError`] naming the container and member.
//!
//! One module per container family; each reads its headers through named byte ranges
//! (`mod field { pub const MAGIC: Field = 0..4; … }`, as smoltcp's `src/wire` does), with
//! the specification or header file the layout comes from named beside them:
//! [`detect`] (signatures, and formats recognised but not read), `squashfs` (v3, v4),
//! `squashfs2`, `cramfs`, `ext`, `jffs2`, `ubi` (UBI and UBIFS), `yaffs2`, `romfs`, `fat`,
//! `archive` (tar, cpio, zip), `sevenz` (7z), `compress` (single streams), `wrapper` (uImage,
//! TRX).

mod archive;
mod compress;
mod cramfs;
mod detect;
mod ext;
mod fat;
mod field;
mod jffs2;
mod romfs;
mod sevenz;
mod squashfs;
mod squashfs2;
mod ubi;
mod wrapper;
mod yaffs2;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aho_corasick::AhoCorasick;

use crate::tree::{normalise, Entry, EntryKind, Tree};
use crate::work::Workers;

pub use compress::LZMA_MEMORY_LIMIT;
pub use detect::detect;
pub use squashfs::{BoundedCompressor, BOUNDED_COMPRESSOR};

use compress::decompress_stream;
use detect::{
    bzimage_lzma_payload, content_kind, signature_scanner, unread_format, worth_opening, SIGNATURES,
};

/// Resource limits for one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes of all extracted and decompressed data together.
    pub max_total_bytes: u64,
    /// Total number of entries (files, links, directories).
    pub max_entries: usize,
    /// How deep containers may nest (the image itself is depth 0).
    pub max_depth: u32,
    /// Largest output:input ratio of one compressed stream or container, enforced once its
    /// output passes [`Limits::ratio_floor`] bytes (tiny files legitimately compress well).
    pub max_ratio: u64,
    /// Output size below which the ratio is not checked.
    pub ratio_floor: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: 4 << 30,
            max_entries: 500_000,
            max_depth: 8,
            max_ratio: 200,
            ratio_floor: 16 << 20,
        }
    }
}

/// Why an image could not be unpacked: where (`at`: the container and, where known, the
/// member) and what was wrong there ([`ErrorKind`]). Printed as `{at}: {kind}`.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{at}: {kind}")]
pub struct UnpackError {
    /// The container and, where known, the member (`image`, `image @0x20000 /etc/passwd`).
    pub at: String,
    /// What was wrong.
    pub kind: ErrorKind,
}

/// What was wrong, in an [`UnpackError`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A resource limit was reached (bomb, or an image too large for the limits given).
    #[error("{what} limit of {limit} exceeded")]
    Limit {
        /// Which limit.
        what: &'static str,
        /// Its value.
        limit: u64,
    },
    /// A member's name would leave the extraction root.
    #[error("member {member:?} refused: {reason}")]
    Traversal {
        /// The member name as stored.
        member: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A member would be written through a symbolic link stored earlier in the same archive.
    #[error(
        "member {member:?} refused: it lies under symlink {link:?} -> {target:?} (symlink escape)"
    )]
    SymlinkEscape {
        /// The member name.
        member: String,
        /// The symlink path.
        link: String,
        /// Where that symlink points.
        target: String,
    },
    /// The data ends before the format says it should.
    #[error("truncated {format}: {detail}")]
    Truncated {
        /// The format.
        format: &'static str,
        /// What was missing.
        detail: String,
    },
    /// The data is not valid for the format its signature announced.
    #[error("malformed {format}: {detail}")]
    Malformed {
        /// The format.
        format: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl UnpackError {
    pub(crate) fn new(at: impl Into<String>, kind: ErrorKind) -> Self {
        UnpackError {
            at: at.into(),
            kind,
        }
    }

    /// `at`: malformed `format`: `detail`.
    pub(crate) fn malformed(
        at: impl Into<String>,
        format: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(
            at,
            ErrorKind::Malformed {
                format,
                detail: detail.into(),
            },
        )
    }

    /// `at`: truncated `format`: `detail`.
    pub(crate) fn truncated(
        at: impl Into<String>,
        format: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(
            at,
            ErrorKind::Truncated {
                format,
                detail: detail.into(),
            },
        )
    }

    /// `at`: member `member` refused: `reason`.
    pub(crate) fn traversal(
        at: impl Into<String>,
        member: impl Into<String>,
        reason: &'static str,
    ) -> Self {
        Self::new(
            at,
            ErrorKind::Traversal {
                member: member.into(),
                reason,
            },
        )
    }

    /// Limits and escapes are always fatal; a malformed or truncated region found by a
    /// signature scan inside a larger blob is only noted (it may be a false positive).
    fn is_hostile(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Limit { .. } | ErrorKind::Traversal { .. } | ErrorKind::SymlinkEscape { .. }
        )
    }
}

/// A format recognised by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Squashfs v2 to v4, little endian (`hsqs`).
    SquashfsLe,
    /// Squashfs v2 to v4, big endian (`sqsh`).
    SquashfsBe,
    /// POSIX/GNU tar.
    Tar,
    /// cpio newc / crc.
    Cpio,
    /// gzip (RFC 1952).
    Gzip,
    /// xz.
    Xz,
    /// Legacy `.lzma` (LZMA-alone), as used in uImage payloads.
    Lzma,
    /// zstd (RFC 8878).
    Zstd,
    /// bzip2.
    Bzip2,
    /// U-Boot legacy image.
    UImage,
    /// Broadcom TRX.
    Trx,
    /// zip (PKWARE APPNOTE), read with the `zip` crate.
    Zip,
    /// ext2, ext3 or ext4, read with `ext4-view`.
    Ext,
    /// cramfs, little or big endian.
    Cramfs,
    /// JFFS2, little or big endian.
    Jffs2,
    /// A UBI image (its volumes are read as UBIFS, or unpacked as blobs).
    Ubi,
    /// A UBIFS filesystem (a volume's bytes, or a `mkfs.ubifs` image).
    Ubifs,
    /// YAFFS2 as `mkyaffs2image` writes it (pages with their spare areas).
    Yaffs2,
    /// romfs.
    Romfs,
    /// FAT12/16/32, read with `fatfs`.
    Fat,
    /// 7z, read with `sevenz-rust2`.
    #[serde(rename = "7z")]
    SevenZ,
}

impl Format {
    /// Human name of the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::SquashfsLe => "squashfs (little endian)",
            Format::SquashfsBe => "squashfs (big endian)",
            Format::Tar => "tar",
            Format::Cpio => "cpio",
            Format::Gzip => "gzip",
            Format::Xz => "xz",
            Format::Lzma => "lzma",
            Format::Zstd => "zstd",
            Format::Bzip2 => "bzip2",
            Format::UImage => "uImage",
            Format::Trx => "TRX",
            Format::Zip => "zip",
            Format::Ext => "ext2/3/4",
            Format::Cramfs => "cramfs",
            Format::Jffs2 => "JFFS2",
            Format::Ubi => "UBI",
            Format::Ubifs => "UBIFS",
            Format::Yaffs2 => "YAFFS2",
            Format::Romfs => "romfs",
            Format::Fat => "FAT",
            Format::SevenZ => "7z",
        }
    }
    /// A filesystem or archive whose signature is specific enough that a failure to read it
    /// is a damaged or unsupported container (reported as not opened), not a chance match.
    fn is_filesystem(self) -> bool {
        matches!(
            self,
            Format::SquashfsLe
                | Format::SquashfsBe
                | Format::Zip
                | Format::Jffs2
                | Format::Ubi
                | Format::Ubifs
                | Format::Yaffs2
                | Format::Romfs
                | Format::Cramfs
                | Format::Fat
                | Format::SevenZ
        )
    }
    fn suffix(self) -> &'static str {
        match self {
            Format::Gzip => "gunzip",
            Format::Xz => "unxz",
            Format::Lzma => "unlzma",
            Format::Zstd => "unzstd",
            Format::Bzip2 => "bunzip2",
            _ => "payload",
        }
    }
}

/// A container or stream found in the image and opened: what, where, how big.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Layer {
    /// The region's name (`""` for the image itself, `@0x20000` for a region at that offset).
    pub at: String,
    /// The blob it lies in (`""`: the image; otherwise a file or decompressed payload).
    pub within: String,
    /// Byte offset in that blob.
    pub offset: u64,
    /// The format.
    pub format: Format,
    /// Bytes of input it occupied.
    pub input_bytes: u64,
}

/// A region found but not opened: a format trustgate recognises and does not read, or one
/// whose contents did not parse.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unopened {
    /// The blob it lies in (`""`: the image; otherwise a file or decompressed payload).
    pub within: String,
    /// Byte offset in that blob.
    pub offset: u64,
    /// Bytes it occupies: as its header declares, or up to the next region found (or the end).
    pub size: u64,
    /// What it is (`squashfs v3 (big endian)`, `JFFS2`, `PDF document` …).
    pub format: String,
    /// Why it was not opened.
    pub reason: String,
    /// Whether files the checks judge on (account databases, boot scripts, updaters, keys)
    /// could lie in it: a filesystem or archive, not a picture or a device tree. While one
    /// such region is unopened, no provision passes.
    pub could_hold_evidence: bool,
}

/// Bytes of the image in no known format (a bootloader, a raw kernel): not opened, but read
/// as raw bytes by the signature scan (keys, secrets, version banners).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RawRegion {
    /// Byte offset in the image.
    pub offset: u64,
    /// Bytes.
    pub size: u64,
    /// The file name the bytes are examined under.
    pub examined_as: String,
}

/// The result of unpacking one image.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// Every extracted entry.
    pub tree: Tree,
    /// Containers and streams found, in order.
    pub layers: Vec<Layer>,
    /// Regions the signature scan proposed but that did not parse (likely false positives).
    pub notes: Vec<String>,
    /// Regions found and not opened.
    pub unopened: Vec<Unopened>,
    /// Bytes of the image in no known format, examined as raw data.
    pub raw: Vec<RawRegion>,
    /// Total bytes extracted.
    pub total_bytes: u64,
}

/// Unpack `image` under `limits`. `progress` is told about each container as it is opened.
pub fn unpack(
    image: &[u8],
    limits: Limits,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Unpacked, UnpackError> {
    unpack_threaded(image, limits, 1, progress)
}

/// [`unpack`] decompressing squashfs files on `threads` threads (the result does not depend
/// on the count).
pub fn unpack_threaded(
    image: &[u8],
    limits: Limits,
    threads: usize,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Unpacked, UnpackError> {
    unpack_with(
        image,
        limits,
        &Workers::new(threads),
        progress,
        &NoEarlyLook,
    )
}

/// [`unpack`] on `workers`, handing the files `early` wants to it as soon as they are
/// decompressed (squashfs only; other containers are read in one pass anyway).
pub fn unpack_with(
    image: &[u8],
    limits: Limits,
    workers: &Workers,
    progress: &(dyn Fn(&str) + Sync),
    early: &dyn EarlyLook,
) -> Result<Unpacked, UnpackError> {
    let mut u = Unpacker {
        limits,
        workers,
        early,
        inside_files: 0,
        out: Unpacked::default(),
        prefetched: HashMap::new(),
        progress,
        signatures: signature_scanner(),
    };
    if image.is_empty() {
        return Err(UnpackError::malformed(
            "image",
            "image",
            "the file is empty",
        ));
    }
    // A format at the start is opened strictly (its errors are the image's); whatever follows
    // it, or the whole image when nothing is there, is signature-scanned.
    let from = match detect(image) {
        Some(f) => u.unpack_format(f, "", image, 0)?,
        None => 0,
    };
    if let Some(start) = bzimage_lzma_payload(image).filter(|_| from == 0) {
        match u.unpack_at(Format::Lzma, "", start, &image[start..], 1) {
            Ok(_) => {}
            Err(e) if e.is_hostile() => return Err(e),
            Err(e) => u.out.unopened.push(Unopened {
                within: String::new(),
                offset: start as u64,
                size: (image.len() - start) as u64,
                format: "Linux kernel payload (LZMA)".into(),
                reason: e.to_string(),
                could_hold_evidence: true,
            }),
        }
    }
    if from < image.len() {
        let found = u.carve_from("", image, from, 0)?;
        if found == 0 && from == 0 && u.out.layers.is_empty() {
            // Not a container we know: assess the bytes as one file (a bare binary), and say
            // what it is and that nothing was opened.
            let (format, could_hold_evidence) = match unread_format(image) {
                Some(known) => (known.name, known.could_hold_evidence),
                None => (content_kind(image).to_string(), false),
            };
            if !u
                .out
                .unopened
                .iter()
                .any(|r| r.within.is_empty() && r.offset == 0)
            {
                u.out.unopened.push(Unopened {
                    within: String::new(),
                    offset: 0,
                    size: image.len() as u64,
                    reason: format!("{format}: not a format trustgate reads"),
                    format,
                    could_hold_evidence,
                });
            }
            u.push_file("", "/image".into(), 0o644, image.to_vec())?;
        }
    }
    Ok(u.out)
}
/// One member of a filesystem read by a reader of this crate, for [`Unpacker::add_member`].
enum Member {
    /// A regular file's bytes (shared by its hard links).
    File(Arc<Vec<u8>>),
    /// A symbolic link's target.
    Symlink(String),
    Dir,
    /// A device node, fifo or socket.
    Special,
}

/// Largest output of one stream decompressed ahead of its turn ([`Unpacker::prefetch_streams`]).
const PREFETCH_CAP: u64 = 16 << 20;

/// Work that wants particular files as soon as they are decompressed, to run beside the rest
/// of the unpacking instead of after it (the assessment's slow password check reads only
/// `/etc/passwd` and `/etc/shadow`). What it does must not change the unpacked result.
pub trait EarlyLook: Sync {
    /// Whether the file at `path` (as stored in its container) is wanted.
    fn wants(&self, path: &str) -> bool;
    /// Called once with each wanted file's complete contents, from any worker thread.
    fn look(&self, path: &str, data: &[u8]);
}

/// Wants nothing.
pub struct NoEarlyLook;

impl EarlyLook for NoEarlyLook {
    fn wants(&self, _: &str) -> bool {
        false
    }
    fn look(&self, _: &str, _: &[u8]) {}
}

pub(super) struct Unpacker<'p> {
    limits: Limits,
    /// The assessment's worker pool (squashfs pieces, streams decompressed ahead).
    workers: &'p Workers,
    early: &'p dyn EarlyLook,
    /// >0 while opening files found inside a filesystem or archive.
    inside_files: u32,
    out: Unpacked,
    /// Streams already decompressed by [`Unpacker::prefetch_streams`], by the address and
    /// length of their compressed bytes, with the input bytes each used.
    prefetched: HashMap<(usize, usize), (Vec<u8>, usize)>,
    progress: &'p (dyn Fn(&str) + Sync),
    signatures: AhoCorasick,
}
fn region_name(blob: &str, offset: usize) -> String {
    if offset == 0 {
        blob.to_string()
    } else {
        format!("{blob}@{offset:#x}")
    }
}

fn at_name(region: &str) -> String {
    if region.is_empty() {
        "image".to_string()
    } else {
        format!("image {region}")
    }
}

impl Unpacker<'_> {
    fn charge_bytes(&mut self, n: u64, at: &str) -> Result<(), UnpackError> {
        self.out.total_bytes = self.out.total_bytes.saturating_add(n);
        if self.out.total_bytes > self.limits.max_total_bytes {
            return Err(UnpackError::new(
                at_name(at),
                ErrorKind::Limit {
                    what: "total extracted bytes",
                    limit: self.limits.max_total_bytes,
                },
            ));
        }
        Ok(())
    }

    fn push(&mut self, entry: Entry) -> Result<(), UnpackError> {
        if self.out.tree.len() >= self.limits.max_entries {
            return Err(UnpackError::new(
                at_name(&entry.display_path()),
                ErrorKind::Limit {
                    what: "entry count",
                    limit: self.limits.max_entries as u64,
                },
            ));
        }
        self.out.tree.push(entry);
        Ok(())
    }

    /// Add another name for bytes already added (a hard link): nothing new to charge or open.
    fn add_shared(
        &mut self,
        region: &str,
        raw_path: &[u8],
        mode: u32,
        bytes: Arc<Vec<u8>>,
    ) -> Result<(), UnpackError> {
        let path = normalise(raw_path).map_err(|reason| {
            UnpackError::traversal(at_name(region), String::from_utf8_lossy(raw_path), reason)
        })?;
        self.push_in(region, path, mode & 0o7777, EntryKind::File(bytes))
    }

    /// Add an entry of the container `region`.
    fn push_in(
        &mut self,
        region: &str,
        path: String,
        mode: u32,
        kind: EntryKind,
    ) -> Result<(), UnpackError> {
        self.push(Entry {
            container: region.to_string(),
            path,
            mode,
            kind,
        })
    }

    fn push_file(
        &mut self,
        container: &str,
        path: String,
        mode: u32,
        data: Vec<u8>,
    ) -> Result<(), UnpackError> {
        self.charge_bytes(data.len() as u64, container)?;
        self.push(Entry {
            container: container.to_string(),
            path,
            mode,
            kind: EntryKind::File(Arc::new(data)),
        })
    }

    /// How many output bytes a stream of `input` compressed bytes may produce.
    fn stream_cap(&self, input: u64) -> u64 {
        let by_ratio = input
            .saturating_mul(self.limits.max_ratio)
            .max(self.limits.ratio_floor);
        let left = self
            .limits
            .max_total_bytes
            .saturating_sub(self.out.total_bytes);
        by_ratio.min(left)
    }

    fn cap_error(&self, cap: u64, input: u64, at: &str) -> UnpackError {
        let left = self
            .limits
            .max_total_bytes
            .saturating_sub(self.out.total_bytes);
        if cap == left {
            UnpackError::new(
                at_name(at),
                ErrorKind::Limit {
                    what: "total extracted bytes",
                    limit: self.limits.max_total_bytes,
                },
            )
        } else {
            UnpackError::new(
                format!("{} ({input} compressed bytes)", at_name(at)),
                ErrorKind::Limit {
                    what: "compression ratio (decompression bomb)",
                    limit: self.limits.max_ratio,
                },
            )
        }
    }

    /// Unpack a region known to hold `format` at `data[0]`. `blob` names the enclosing
    /// blob and `offset` is where `data` starts within it. Returns the bytes consumed.
    fn unpack_format(
        &mut self,
        format: Format,
        blob: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        self.unpack_at(format, blob, 0, data, depth)
    }

    fn unpack_at(
        &mut self,
        format: Format,
        blob: &str,
        offset: usize,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let region = region_name(blob, offset);
        if depth > self.limits.max_depth {
            return Err(UnpackError::new(
                at_name(&region),
                ErrorKind::Limit {
                    what: "nesting depth",
                    limit: self.limits.max_depth as u64,
                },
            ));
        }
        (self.progress)(&format!("{} {}", format.name(), at_name(&region)));
        let used = match format {
            Format::SquashfsLe | Format::SquashfsBe => {
                self.squashfs(format, &region, data, depth)?
            }
            Format::Tar => self.tar(&region, data, depth)?,
            Format::Cpio => self.cpio(&region, data, depth)?,
            Format::Gzip | Format::Xz | Format::Lzma | Format::Zstd | Format::Bzip2 => {
                self.stream(format, &region, data, depth)?
            }
            Format::UImage => self.uimage(&region, data, depth)?,
            Format::Trx => self.trx(blob, offset, &region, data, depth)?,
            Format::Zip => self.zip(&region, data, depth)?,
            Format::Ext => self.ext(&region, data, depth)?,
            Format::Cramfs => self.cramfs(&region, data, depth)?,
            Format::Jffs2 => self.jffs2(&region, data, depth)?,
            Format::Ubi => self.ubi(&region, data, depth)?,
            Format::Ubifs => self.ubifs(&region, data, depth)?,
            Format::Yaffs2 => self.yaffs2(&region, data, depth)?,
            Format::Romfs => self.romfs(&region, data, depth)?,
            Format::Fat => self.fat(&region, data, depth)?,
            Format::SevenZ => match self.sevenz(&region, data, depth)? {
                sevenz::SevenZ::Read(used) => used,
                // Encrypted: a region not opened, not a layer.
                sevenz::SevenZ::Encrypted { size, reason } => {
                    self.out.unopened.push(Unopened {
                        within: blob.to_string(),
                        offset: offset as u64,
                        size: size as u64,
                        format: format.name().to_string(),
                        reason,
                        could_hold_evidence: true,
                    });
                    return Ok(size);
                }
            },
        };
        self.out.layers.push(Layer {
            at: region,
            within: blob.to_string(),
            offset: offset as u64,
            format,
            input_bytes: used as u64,
        });
        Ok(used)
    }

    /// Signature scan of a blob with no known format at its start (raw flash dump, kernel
    /// payload). Returns how many regions were unpacked.
    fn carve(&mut self, blob: &str, data: &[u8], depth: u32) -> Result<usize, UnpackError> {
        self.carve_from(blob, data, 0, depth)
    }

    /// [`Unpacker::carve`] from byte `from` on. Regions in formats not read are recorded as
    /// not opened; in the image itself, bytes in no known format that are not padding are
    /// kept as files so the signature scan reads them.
    fn carve_from(
        &mut self,
        blob: &str,
        data: &[u8],
        from: usize,
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let mut hits: Vec<usize> = self
            .signatures
            .find_overlapping_iter(&data[from..])
            .filter_map(|m| {
                let back = SIGNATURES[m.pattern().as_usize()].1;
                (m.start() + from).checked_sub(back)
            })
            .filter(|&s| s >= from)
            .collect();
        hits.sort_unstable();
        hits.dedup();
        let mut consumed_to = from;
        let mut found = 0;
        // Regions opened or recognised here: (start, end or None when the size is unknown).
        let mut regions: Vec<(usize, Option<usize>)> = Vec::new();
        let first_unopened = self.out.unopened.len();
        for start in hits {
            if start < consumed_to {
                continue;
            }
            let Some(format) = detect(&data[start..]) else {
                if let Some(known) = unread_format(&data[start..]) {
                    // Consecutive hits of one format of unknown size (JFFS2 nodes, UBI
                    // erase blocks, zip members) are one region.
                    let same = self
                        .out
                        .unopened
                        .last()
                        .filter(|_| self.out.unopened.len() > first_unopened)
                        .is_some_and(|u| u.format == known.name && u.size == 0);
                    if same && regions.last().is_some_and(|r| r.1.is_none()) {
                        continue;
                    }
                    let end = known
                        .size
                        .and_then(|s| usize::try_from(s).ok())
                        .and_then(|s| start.checked_add(s))
                        .filter(|&e| e <= data.len() && e > start);
                    regions.push((start, end));
                    if let Some(e) = end {
                        consumed_to = e;
                    }
                    self.out.unopened.push(Unopened {
                        within: blob.to_string(),
                        offset: start as u64,
                        size: end.map_or(0, |e| (e - start) as u64),
                        reason: format!("{}: not a format trustgate reads", known.name),
                        format: known.name,
                        could_hold_evidence: known.could_hold_evidence,
                    });
                }
                continue;
            };
            match self.unpack_at(format, blob, start, &data[start..], depth + 1) {
                Ok(used) => {
                    found += 1;
                    consumed_to = start + used.max(1);
                    regions.push((start, Some(consumed_to)));
                }
                Err(e) if e.is_hostile() => return Err(e),
                Err(e) => {
                    // A squashfs superblock or zip local header is specific enough that a
                    // failure is a damaged or unsupported container, not a chance match.
                    if format.is_filesystem() {
                        let size = match unread_format(&data[start..]).and_then(|k| k.size) {
                            Some(s) => s.min((data.len() - start) as u64),
                            None => 0,
                        };
                        regions.push((start, (size > 0).then(|| start + size as usize)));
                        self.out.unopened.push(Unopened {
                            within: blob.to_string(),
                            offset: start as u64,
                            size,
                            format: format.name().to_string(),
                            reason: e.to_string(),
                            could_hold_evidence: true,
                        });
                    }
                    self.out.notes.push(e.to_string())
                }
            }
        }
        // Regions of unknown size reach the next region found, or the end.
        let mut unknown = self.out.unopened[first_unopened..]
            .iter_mut()
            .filter(|u| u.size == 0);
        let mut ends: Vec<(usize, usize)> = Vec::new();
        for (i, &(start, end)) in regions.iter().enumerate() {
            let end = end.unwrap_or_else(|| {
                regions
                    .get(i + 1)
                    .map_or(data.len(), |next| next.0)
                    .max(start)
            });
            if regions[i].1.is_none() {
                if let Some(u) = unknown.next() {
                    u.size = (end - start) as u64;
                }
            }
            ends.push((start, end));
        }
        drop(unknown);
        if blob.is_empty() && self.inside_files == 0 && found > 0 {
            // The image's own bytes outside every region: padding is skipped, anything else
            // (a bootloader, a kernel in no known format) is read as raw bytes.
            let mut at = from;
            let mut gaps = Vec::new();
            for &(start, end) in &ends {
                if start > at {
                    gaps.push((at, start));
                }
                at = at.max(end);
            }
            if at < data.len() {
                gaps.push((at, data.len()));
            }
            for (start, end) in gaps {
                let bytes = &data[start..end];
                if bytes.iter().all(|&b| b == 0xff) || bytes.iter().all(|&b| b == 0) {
                    continue;
                }
                let path = format!("/raw@{start:#x}");
                self.out.raw.push(RawRegion {
                    offset: start as u64,
                    size: (end - start) as u64,
                    examined_as: path.clone(),
                });
                self.push_file("", path, 0o644, bytes.to_vec())?;
            }
        }
        Ok(found)
    }

    /// Recurse into an extracted file's contents if they start with a known format.
    fn maybe_nested(
        &mut self,
        entry_name: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<(), UnpackError> {
        if let Some(format) = detect(data) {
            match self.unpack_at(format, entry_name, 0, data, depth + 1) {
                Ok(_) => {}
                Err(e) if e.is_hostile() => return Err(e),
                // A file that merely looks like an archive stays an opaque file; a
                // filesystem or zip whose header is valid is one not opened.
                Err(e) => {
                    if format.is_filesystem() || format == Format::Ext {
                        self.out.unopened.push(Unopened {
                            within: entry_name.to_string(),
                            offset: 0,
                            size: data.len() as u64,
                            format: format.name().to_string(),
                            reason: e.to_string(),
                            could_hold_evidence: true,
                        });
                    }
                    self.out.notes.push(e.to_string())
                }
            }
        } else if let Some(known) = unread_format(data).filter(|k| k.could_hold_evidence) {
            self.out.unopened.push(Unopened {
                within: entry_name.to_string(),
                offset: 0,
                size: known.size.unwrap_or(data.len() as u64),
                reason: format!("{}: not a format trustgate reads", known.name),
                format: known.name,
                could_hold_evidence: true,
            });
        }
        Ok(())
    }

    /// Add one member of a filesystem or archive read here: its stored path normalised
    /// (a path leaving the root is refused), a file's bytes charged to the limits and
    /// remembered in `nested` when it holds a container to open after the walk.
    fn add_member(
        &mut self,
        region: &str,
        raw_path: &[u8],
        mode: u32,
        member: Member,
        nested: &mut Vec<usize>,
    ) -> Result<(), UnpackError> {
        let path = normalise(raw_path).map_err(|reason| {
            UnpackError::traversal(at_name(region), String::from_utf8_lossy(raw_path), reason)
        })?;
        let kind = match member {
            Member::File(bytes) => {
                self.charge_bytes(bytes.len() as u64, region)?;
                if worth_opening(&bytes) {
                    nested.push(self.out.tree.len());
                }
                EntryKind::File(bytes)
            }
            Member::Symlink(target) => EntryKind::Symlink(target),
            Member::Dir => EntryKind::Dir,
            Member::Special => EntryKind::Special,
        };
        self.push_in(region, path, mode & 0o7777, kind)
    }

    /// Open nested containers found among the entries at these indices.
    fn recurse_into(&mut self, indices: Vec<usize>, depth: u32) -> Result<(), UnpackError> {
        self.inside_files += 1;
        let ahead = self.prefetch_streams(&indices);
        let result = (|| {
            for &i in &indices {
                let name = self.out.tree.entries[i].display_path();
                let data = match &self.out.tree.entries[i].kind {
                    EntryKind::File(d) => Arc::clone(d),
                    _ => continue,
                };
                self.maybe_nested(&name, &data, depth)?;
            }
            Ok(())
        })();
        self.inside_files -= 1;
        // Drop only what this level decompressed ahead and did not use (a file whose opening
        // failed earlier); what an enclosing level prefetched stays for it.
        for key in ahead {
            self.prefetched.remove(&key);
        }
        result
    }

    /// Decompress the compressed files among these entries on all workers at once, before
    /// they are opened one by one in order (an image holds hundreds of gzipped manuals and
    /// changelogs). Only what the ordered pass would produce itself is kept: a stream that
    /// fails, or grows past [`PREFETCH_CAP`], is left to that pass, which fails or refuses it
    /// with its usual message. Kept outputs together stay within the bytes still allowed, and
    /// each worker holds at most [`PREFETCH_CAP`] of a stream it then drops.
    fn prefetch_streams(&mut self, indices: &[usize]) -> Vec<(usize, usize)> {
        if self.workers.threads() < 2 {
            return Vec::new();
        }
        let jobs: Vec<(Format, Arc<Vec<u8>>)> = indices
            .iter()
            .filter_map(|&i| match &self.out.tree.entries[i].kind {
                EntryKind::File(d) => match detect(d) {
                    Some(
                        f @ (Format::Gzip
                        | Format::Xz
                        | Format::Lzma
                        | Format::Zstd
                        | Format::Bzip2),
                    ) => Some((f, Arc::clone(d))),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if jobs.len() < 2 {
            return Vec::new();
        }
        let limits = self.limits;
        let allowed = std::sync::atomic::AtomicU64::new(
            limits.max_total_bytes.saturating_sub(self.out.total_bytes),
        );
        let done = self.workers.map(jobs, |(format, data)| {
            let cap = (data.len() as u64)
                .saturating_mul(limits.max_ratio)
                .max(limits.ratio_floor)
                .min(PREFETCH_CAP);
            let (out, used) = decompress_stream(format, &data, cap, "").ok()??;
            let n = out.len() as u64;
            allowed
                .fetch_update(
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                    |left| left.checked_sub(n),
                )
                .ok()?;
            Some(((data.as_ptr() as usize, data.len()), (out, used)))
        });
        let done: Vec<_> = done.into_iter().flatten().collect();
        let keys = done.iter().map(|(key, _)| *key).collect();
        self.prefetched.extend(done);
        keys
    }

    /// Shared by tar and cpio: refuse members under a symlink stored earlier.
    fn check_symlinks(
        links: &[(String, String)],
        link_set: &HashSet<String>,
        region: &str,
        path: &str,
    ) -> Result<(), UnpackError> {
        let mut prefix = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            prefix.push('/');
            prefix.push_str(part);
            if prefix.len() == path.len() {
                break;
            }
            if link_set.contains(&prefix) {
                let target = links
                    .iter()
                    .find(|(l, _)| *l == prefix)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                return Err(UnpackError::new(
                    at_name(region),
                    ErrorKind::SymlinkEscape {
                        member: path.to_string(),
                        link: prefix,
                        target,
                    },
                ));
            }
        }
        Ok(())
    }
    /// Store a decompressed blob as a file, then unpack what it contains.
    fn expand_blob(
        &mut self,
        region: &str,
        path: String,
        name: &str,
        out: Vec<u8>,
        depth: u32,
    ) -> Result<(), UnpackError> {
        self.charge_bytes(out.len() as u64, region)?;
        if detect(&out).is_none() {
            if let Some(known) = unread_format(&out).filter(|k| k.could_hold_evidence) {
                self.out.unopened.push(Unopened {
                    within: name.to_string(),
                    offset: 0,
                    size: known.size.unwrap_or(out.len() as u64),
                    reason: format!("{}: not a format trustgate reads", known.name),
                    format: known.name,
                    could_hold_evidence: true,
                });
            }
        }
        match detect(&out) {
            Some(f) => {
                self.unpack_at(f, name, 0, &out, depth + 1)?;
            }
            // Payloads of the image's own wrappers (uImage, TRX, a compressed image) may be
            // raw dumps; a compressed file inside a filesystem (a .gz changelog) is not
            // signature-scanned: that would only find false positives.
            None if self.inside_files == 0 => {
                self.carve(name, &out, depth)?;
            }
            None => {}
        }
        self.push_in(region, path, 0o644, EntryKind::File(Arc::new(out)))
    }
}
