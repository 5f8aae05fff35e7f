//! Bounded, traversal-safe unpacking of a firmware image into the in-memory [`Tree`].
//!
//! One process, no external tools, nothing written to disk. Formats: squashfs 4 (little and
//! big endian, every compressor `backhand` reads, LZMA, AVM's variant) and 3 (gzip, vendor
//! LZMA), ext2/3/4, cramfs (little endian), tar (ustar/GNU/pax), cpio (newc, `070701` and
//! `070702`), zip, gzip, xz, lzma-alone, zstd, bzip2, U-Boot legacy uImage (single and
//! multi), Broadcom TRX, bzImage LZMA payloads, and raw flash dumps (padding and unknown
//! bytes around known formats, found with an `aho-corasick` signature scan). Formats
//! recognised and not read (JFFS2, UBI, YAFFS2, FAT, 7z, …) are recorded as [`Unopened`],
//! with their offset and size.
//!
//! Limits ([`Limits`]) on total extracted bytes, file count, nesting depth and compression
//! ratio are checked *before* the bytes are produced where the format declares sizes
//! (squashfs inodes, tar and cpio headers), and while decompressing otherwise, so a bomb
//! stops at the limit instead of exhausting memory.
//!
//! Hostile input (a `..` member, a member written through a symlink, a bomb, a truncated
//! container at the start of the image) is an [`UnpackError`] naming the container and member.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;

use aho_corasick::AhoCorasick;

use crate::tree::{normalise, Entry, EntryKind, Tree};
use crate::work::Workers;

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

/// Why an image could not be unpacked. Every variant names where (`at`: the container
/// and, where known, the member) so the message says what was wrong and where.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum UnpackError {
    /// A resource limit was reached (bomb, or an image too large for the limits given).
    #[error("{at}: {what} limit of {limit} exceeded")]
    Limit {
        /// Which limit.
        what: &'static str,
        /// Its value.
        limit: u64,
        /// Where.
        at: String,
    },
    /// A member's name would leave the extraction root.
    #[error("{at}: member {member:?} refused: {reason}")]
    Traversal {
        /// The container.
        at: String,
        /// The member name as stored.
        member: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A member would be written through a symbolic link stored earlier in the same archive.
    #[error("{at}: member {member:?} refused: it lies under symlink {link:?} -> {target:?} (symlink escape)")]
    SymlinkEscape {
        /// The container.
        at: String,
        /// The member name.
        member: String,
        /// The symlink path.
        link: String,
        /// Where that symlink points.
        target: String,
    },
    /// The data ends before the format says it should.
    #[error("{at}: truncated {format}: {detail}")]
    Truncated {
        /// Where.
        at: String,
        /// The format.
        format: &'static str,
        /// What was missing.
        detail: String,
    },
    /// The data is not valid for the format its signature announced.
    #[error("{at}: malformed {format}: {detail}")]
    Malformed {
        /// Where.
        at: String,
        /// The format.
        format: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl UnpackError {
    /// Limits and escapes are always fatal; a malformed or truncated region found by a
    /// signature scan inside a larger blob is only noted (it may be a false positive).
    fn is_hostile(&self) -> bool {
        matches!(
            self,
            UnpackError::Limit { .. }
                | UnpackError::Traversal { .. }
                | UnpackError::SymlinkEscape { .. }
        )
    }
}

/// A format recognised by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Squashfs v4, little endian (`hsqs`).
    SquashfsLe,
    /// Squashfs v4, big endian (`sqsh`).
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
    /// cramfs, little endian.
    Cramfs,
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
        }
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
        return Err(UnpackError::Malformed {
            at: "image".into(),
            format: "image",
            detail: "the file is empty".into(),
        });
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

/// Whether a file found inside a container is opened in turn (or, in a format not read,
/// recorded as not opened).
fn worth_opening(data: &[u8]) -> bool {
    detect(data).is_some() || unread_format(data).is_some_and(|k| k.could_hold_evidence)
}

/// A format recognised by its header that the unpacker does not read.
struct Known {
    name: String,
    /// Size the header declares.
    size: Option<u64>,
    could_hold_evidence: bool,
}

/// What an unopened image is, by its first bytes: named so the report can say "a PDF
/// document" rather than "unknown".
fn content_kind(data: &[u8]) -> &'static str {
    let starts = |m: &[u8]| data.starts_with(m);
    if starts(b"%PDF-") {
        "PDF document"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "PNG image"
    } else if starts(&[0xff, 0xd8, 0xff]) {
        "JPEG image"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "GIF image"
    } else if starts(b"BM") && data.len() > 14 && le32(data, 2) as usize == data.len() {
        "BMP image"
    } else if starts(b"RIFF") {
        "RIFF media file"
    } else if starts(&[0xd4, 0xc3, 0xb2, 0xa1])
        || starts(&[0xa1, 0xb2, 0xc3, 0xd4])
        || starts(&[0x4d, 0x3c, 0xb2, 0xa1])
        || starts(&[0xa1, 0xb2, 0x3c, 0x4d])
    {
        "packet capture (pcap)"
    } else if starts(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        "packet capture (pcapng)"
    } else if starts(b"\x7fELF") {
        "ELF executable"
    } else if starts(b"MZ") {
        "DOS/Windows executable"
    } else if data.iter().all(|&b| b != 0) && std::str::from_utf8(data).is_ok() {
        "text"
    } else if data.iter().all(|&b| b == 0) {
        "all zero bytes"
    } else if data.iter().all(|&b| b == 0xff) {
        "all 0xFF bytes (erased flash)"
    } else {
        "data in no known format"
    }
}

/// A format trustgate recognises at the start of `data` but does not read.
fn unread_format(data: &[u8]) -> Option<Known> {
    let starts = |m: &[u8]| data.starts_with(m);
    let fs = |name: String, size: Option<u64>| {
        Some(Known {
            name,
            size,
            could_hold_evidence: true,
        })
    };
    let other = |name: &str| {
        Some(Known {
            name: name.to_string(),
            size: None,
            could_hold_evidence: false,
        })
    };
    if (starts(b"hsqs") || starts(b"sqsh")) && data.len() >= 96 {
        let le = starts(b"hsqs");
        let major = if le { le16(data, 28) } else { be16(data, 28) };
        let endian = if le { "little endian" } else { "big endian" };
        let size = match major {
            4 => Some(if le {
                u64::from_le_bytes(data[40..48].try_into().expect("8 bytes"))
            } else {
                u64::from_be_bytes(data[40..48].try_into().expect("8 bytes"))
            }),
            3 => Some(if le {
                u64::from_le_bytes(data[63..71].try_into().expect("8 bytes"))
            } else {
                u64::from_be_bytes(data[63..71].try_into().expect("8 bytes"))
            }),
            1 | 2 => Some(u64::from(if le { le32(data, 8) } else { be32(data, 8) })),
            _ => None,
        }
        .filter(|&s| s >= 96 && s <= data.len() as u64);
        return fs(format!("squashfs v{major} ({endian})"), size);
    }
    for (magic, name) in [
        (b"sqlz", "squashfs (vendor LZMA variant, magic sqlz)"),
        (b"qshs", "squashfs (vendor variant, magic qshs)"),
        (b"shsq", "squashfs (vendor variant, magic shsq)"),
        (b"tqsh", "squashfs (vendor variant, magic tqsh)"),
        (b"hsqt", "squashfs (vendor variant, magic hsqt)"),
    ] {
        if starts(magic) && data.len() >= 96 {
            return fs(name.to_string(), None);
        }
    }
    if data.len() >= 32 && &data[16..32] == b"Compressed ROMFS" {
        if starts(&[0x45, 0x3d, 0xcd, 0x28]) {
            return fs(
                "cramfs (little endian)".into(),
                Some(u64::from(le32(data, 4))),
            );
        }
        if starts(&[0x28, 0xcd, 0x3d, 0x45]) {
            return fs("cramfs (big endian)".into(), Some(u64::from(be32(data, 4))));
        }
    }
    if starts(b"-rom1fs-") && data.len() >= 16 {
        return fs("romfs".into(), Some(u64::from(be32(data, 8))));
    }
    if data.len() >= 12 {
        let le_types = [
            [0x85, 0x19, 0x01, 0xe0],
            [0x85, 0x19, 0x02, 0xe0],
            [0x85, 0x19, 0x03, 0x20],
        ];
        let be_types = [
            [0x19, 0x85, 0xe0, 0x01],
            [0x19, 0x85, 0xe0, 0x02],
            [0x19, 0x85, 0x20, 0x03],
        ];
        if le_types.iter().any(|m| starts(m)) {
            return fs("JFFS2 (little endian)".into(), None);
        }
        if be_types.iter().any(|m| starts(m)) {
            return fs("JFFS2 (big endian)".into(), None);
        }
    }
    if starts(b"UBI#") && data.len() >= 64 && data[4] == 1 {
        return fs("UBI".into(), None);
    }
    if starts(&[0x31, 0x18, 0x10, 0x06]) && data.len() >= 24 && data[20] == 6 {
        return fs("UBIFS".into(), None);
    }
    // The first object header: type file (1) or directory (3), parent 1 (the root), and
    // the unused name checksum 0xFFFF.
    let yaffs_le = |t: u8| starts(&[t, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff]);
    let yaffs_be = |t: u8| starts(&[0, 0, 0, t, 0, 0, 0, 1, 0xff, 0xff]);
    if yaffs_le(1) || yaffs_le(3) || yaffs_be(1) || yaffs_be(3) {
        return fs("YAFFS2".into(), None);
    }
    if data.len() >= 2048
        && le16(data, 1080) == 0xef53
        && le32(data, 1048) <= 6
        && le32(data, 1100) <= 1
        && le32(data, 1028) > 0
    {
        let compat = le32(data, 1116);
        let incompat = le32(data, 1120);
        let name = if incompat & (0x40 | 0x80 | 0x200) != 0 {
            "ext4"
        } else if compat & 0x4 != 0 {
            "ext3"
        } else {
            "ext2"
        };
        let size = u64::from(le32(data, 1028)) * (1024u64 << le32(data, 1048));
        return fs(name.into(), Some(size));
    }
    if data.len() > 0x250 && &data[0x202..0x206] == b"HdrS" {
        return fs("Linux kernel (bzImage)".into(), None);
    }
    if data.len() >= 512 && data[510] == 0x55 && data[511] == 0xaa {
        if &data[54..57] == b"FAT" || &data[82..85] == b"FAT" {
            let sector = u64::from(le16(data, 11));
            let small = u64::from(le16(data, 19));
            let sectors = if small != 0 {
                small
            } else {
                u64::from(le32(data, 32))
            };
            return fs("FAT".into(), Some(sector * sectors).filter(|&s| s > 0));
        }
        if data.len() >= 520 && &data[512..520] == b"EFI PART" {
            return fs("GPT partition table".into(), None);
        }
        // A partition table: four 16-byte entries, boot flag 0 or 0x80, one in use.
        let entries = &data[446..510];
        let sane = entries.chunks(16).all(|e| e[0] == 0 || e[0] == 0x80);
        let used = entries.chunks(16).any(|e| e[4] != 0 && le32(e, 12) != 0);
        if sane && used {
            return fs("MBR partition table".into(), None);
        }
    }
    if starts(b"PK\x03\x04") && data.len() >= 30 {
        return fs("zip".into(), None);
    }
    if starts(&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c]) && data.len() >= 32 {
        let next = u64::from_le_bytes(data[12..20].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(data[20..28].try_into().expect("8 bytes"));
        return fs(
            "7z".into(),
            32u64.checked_add(next).and_then(|s| s.checked_add(len)),
        );
    }
    if starts(&[0xd0, 0x0d, 0xfe, 0xed]) && data.len() >= 40 {
        let total = u64::from(be32(data, 4));
        let version = be32(data, 20);
        if total >= 40 && total <= data.len() as u64 && (16..=17).contains(&version) {
            // A FIT image is a device tree whose nodes carry the kernel and ramdisk.
            let fit = total > 64 * 1024;
            return Some(Known {
                name: if fit {
                    "FIT image (device tree with payloads)"
                } else {
                    "device tree blob"
                }
                .into(),
                size: Some(total),
                could_hold_evidence: fit,
            });
        }
    }
    if data.len() >= 0x8006 && &data[0x8001..0x8006] == b"CD001" {
        return fs("ISO 9660".into(), None);
    }
    for (magic, name) in [
        (&b"Rar!\x1a\x07"[..], "RAR"),
        (b"MSCF\0\0\0\0", "Microsoft cabinet"),
        (b"xar!", "xar"),
        (b"!<arch>\n", "ar archive (or Debian package)"),
        (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
        (&[0x89, b'L', b'Z', b'O', 0, 0x0d, 0x0a, 0x1a, 0x0a], "lzop"),
        (b"LZIP", "lzip"),
        (&[0x1f, 0x9d], "compress (.Z)"),
        (&[0x60, 0xea], "ARJ"),
        (b"zPQ", "ZPAQ"),
        (b"LRZI", "lrzip"),
        (b"ZOO ", "zoo"),
        (b"StuffIt", "StuffIt"),
        (b"QFI\xfb", "QCOW disk image"),
        (&[0x3a, 0xff, 0x26, 0xed], "Android sparse image"),
    ] {
        if starts(magic) {
            return fs(name.into(), None);
        }
    }
    if data.len() > 5 && &data[2..5] == b"-lh" {
        return fs("LHA".into(), None);
    }
    if starts(b"\x7fELF") {
        return other("ELF executable");
    }
    None
}

/// The format whose signature is at the start of `data`.
pub fn detect(data: &[u8]) -> Option<Format> {
    let starts = |m: &[u8]| data.starts_with(m);
    if starts(b"hsqs") && data.len() >= 96 && matches!(le16(data, 28), 3 | 4) {
        Some(Format::SquashfsLe)
    } else if starts(b"sqsh") && data.len() >= 96 && matches!(be16(data, 28), 3 | 4) {
        Some(Format::SquashfsBe)
    } else if starts(&[0x1f, 0x8b, 0x08]) {
        Some(Format::Gzip)
    } else if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(Format::Xz)
    } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Format::Zstd)
    } else if data.len() >= 10
        && starts(b"BZh")
        && (b'1'..=b'9').contains(&data[3])
        && &data[4..10] == b"1AY&SY"
    {
        Some(Format::Bzip2)
    } else if starts(b"070701") || starts(b"070702") {
        Some(Format::Cpio)
    } else if data.len() >= 512 && &data[257..262] == b"ustar" {
        Some(Format::Tar)
    } else if raw_lzma_header(data) {
        Some(Format::Lzma)
    } else if starts(&UIMAGE_MAGIC) && data.len() >= 64 {
        Some(Format::UImage)
    } else if starts(b"HDR0") && data.len() >= 28 {
        Some(Format::Trx)
    } else if starts(b"PK\x03\x04") && data.len() >= 30 {
        Some(Format::Zip)
    } else if ext_superblock(data) {
        Some(Format::Ext)
    } else if starts(&[0x45, 0x3d, 0xcd, 0x28])
        && data.len() >= 76
        && &data[16..32] == b"Compressed ROMFS"
    {
        Some(Format::Cramfs)
    } else {
        None
    }
}

const UIMAGE_MAGIC: [u8; 4] = [0x27, 0x05, 0x19, 0x56];

/// An ext2/3/4 superblock at byte 1024: the magic, a block size of at most 64 KiB, revision
/// 0 or 1, and a block count.
fn ext_superblock(data: &[u8]) -> bool {
    data.len() >= 2048
        && le16(data, 1080) == 0xef53
        && le32(data, 1048) <= 6
        && le32(data, 1100) <= 1
        && le32(data, 1028) > 0
}

/// An LZMA-alone (`.lzma`) header: the properties byte `lzma` writes by default (0x5d: lc 3,
/// lp 0, pb 2), a dictionary size of 2^n or 2^n + 2^(n-1) between 4 KiB and 1 GiB, and an
/// uncompressed size that is unknown (all ones) or under 4 GiB.
fn raw_lzma_header(data: &[u8]) -> bool {
    if data.len() < 14 || data[0] != 0x5d {
        return false;
    }
    let dict = le32(data, 1);
    let size = u64::from_le_bytes(data[5..13].try_into().expect("8 bytes"));
    (4096..=1 << 30).contains(&dict)
        && (dict.is_power_of_two() || (dict % 3 == 0 && (dict / 3 * 2).is_power_of_two()))
        && (size == u64::MAX || size < 1 << 32)
}

/// Where a Linux bzImage's compressed payload starts (boot protocol 2.08 and later: the
/// setup sectors, then `payload_offset`), when it is an LZMA stream: gzip, xz, bzip2 and
/// zstd payloads are found by the signature scan, LZMA has no magic.
fn bzimage_lzma_payload(data: &[u8]) -> Option<usize> {
    if data.len() < 0x250 || &data[0x202..0x206] != b"HdrS" || le16(data, 0x206) < 0x208 {
        return None;
    }
    let setup = (usize::from(data[0x1f1]).max(4) + 1) * 512;
    let start = setup.checked_add(le32(data, 0x248) as usize)?;
    (start < data.len() && raw_lzma_header(&data[start..])).then_some(start)
}

fn signature_scanner() -> AhoCorasick {
    AhoCorasick::new(SIGNATURES.iter().map(|(p, _)| *p)).expect("static patterns")
}

/// Signatures the raw-image scan looks for, with how far before the match the format starts.
const SIGNATURES: &[(&[u8], usize)] = &[
    (b"hsqs", 0),
    (b"sqsh", 0),
    (&[0x1f, 0x8b, 0x08], 0),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0], 0),
    (&[0x28, 0xb5, 0x2f, 0xfd], 0),
    (b"1AY&SY", 4),
    (b"070701", 0),
    (b"070702", 0),
    (b"ustar", 257),
    (&UIMAGE_MAGIC, 0),
    (b"HDR0", 0),
    // Formats recognised and not read (reported as not opened).
    (b"Compressed ROMFS", 16),
    (b"-rom1fs-", 0),
    (&[0x85, 0x19, 0x01, 0xe0], 0),
    (&[0x85, 0x19, 0x02, 0xe0], 0),
    (&[0x85, 0x19, 0x03, 0x20], 0),
    (&[0x19, 0x85, 0xe0, 0x01], 0),
    (&[0x19, 0x85, 0xe0, 0x02], 0),
    (&[0x19, 0x85, 0x20, 0x03], 0),
    (b"UBI#\x01", 0),
    (&[0x31, 0x18, 0x10, 0x06], 0),
    (b"sqlz", 0),
    (b"qshs", 0),
    (b"shsq", 0),
    (b"tqsh", 0),
    (b"hsqt", 0),
    (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], 0),
    (b"PK\x03\x04", 0),
    (&[0xd0, 0x0d, 0xfe, 0xed], 0),
];

/// Whole data blocks of one file decompressed by one piece of work: 512 KiB at the usual
/// 128 KiB block size, a few milliseconds of xz, so two threads end within one piece.
const BLOCKS_PER_PIECE: usize = 4;

/// Largest output of one stream decompressed ahead of its turn ([`Unpacker::prefetch_streams`]).
const PREFETCH_CAP: u64 = 16 << 20;

/// One piece of squashfs decompression: (index of the stored file, offset in it, where the
/// bytes from that offset go).
struct Piece<'d> {
    early: bool,
    parts: Vec<(usize, usize, &'d mut [u8])>,
}

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

struct Unpacker<'p> {
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

fn le16(d: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([d[o], d[o + 1]])
}
fn be16(d: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([d[o], d[o + 1]])
}
fn be32(d: &[u8], o: usize) -> u32 {
    u32::from_be_bytes(d[o..o + 4].try_into().expect("4 bytes"))
}
fn le32(d: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(d[o..o + 4].try_into().expect("4 bytes"))
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
            return Err(UnpackError::Limit {
                what: "total extracted bytes",
                limit: self.limits.max_total_bytes,
                at: at_name(at),
            });
        }
        Ok(())
    }

    fn push(&mut self, entry: Entry) -> Result<(), UnpackError> {
        if self.out.tree.len() >= self.limits.max_entries {
            return Err(UnpackError::Limit {
                what: "entry count",
                limit: self.limits.max_entries as u64,
                at: at_name(&entry.display_path()),
            });
        }
        self.out.tree.push(entry);
        Ok(())
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
            UnpackError::Limit {
                what: "total extracted bytes",
                limit: self.limits.max_total_bytes,
                at: at_name(at),
            }
        } else {
            UnpackError::Limit {
                what: "compression ratio (decompression bomb)",
                limit: self.limits.max_ratio,
                at: format!("{} ({input} compressed bytes)", at_name(at)),
            }
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
            return Err(UnpackError::Limit {
                what: "nesting depth",
                limit: self.limits.max_depth as u64,
                at: at_name(&region),
            });
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
                    if matches!(
                        format,
                        Format::SquashfsLe | Format::SquashfsBe | Format::Zip
                    ) {
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
                    if matches!(
                        format,
                        Format::SquashfsLe | Format::SquashfsBe | Format::Zip | Format::Ext
                    ) {
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

    fn squashfs(
        &mut self,
        format: Format,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        use backhand::{kind, kind::Kind, FilesystemReader, InnerNode};
        let name = format.name();
        let le = format == Format::SquashfsLe;
        let major = if le { le16(data, 28) } else { be16(data, 28) };
        let at = if major == 3 { 63 } else { 40 };
        let field = &data[at..at + 8];
        let bytes_used = if le {
            u64::from_le_bytes(field.try_into().expect("8 bytes"))
        } else {
            u64::from_be_bytes(field.try_into().expect("8 bytes"))
        };
        if bytes_used > data.len() as u64 {
            return Err(UnpackError::Truncated {
                at: at_name(region),
                format: name,
                detail: format!(
                    "superblock says {bytes_used} bytes, only {} present",
                    data.len()
                ),
            });
        }
        let image = &data[..bytes_used as usize];
        let compressor = if le { le16(data, 20) } else { be16(data, 20) };
        // squashfs 3 (gzip, and LZMA as vendors built it) and LZMA squashfs 4 go through
        // backhand's version-generic reader; LZMA blocks there are decoded with fixed
        // dictionary sizes (at most 8 MiB), never one the image asks for.
        if major == 3 {
            let kinds = if le {
                [kind::LE_V3_0, kind::LE_V3_0_LZMA, kind::LE_V3_1_LZMA_SWAP]
            } else {
                [kind::BE_V3_0, kind::BE_V3_0_LZMA, kind::BE_V3_1_LZMA_SWAP]
            };
            let kinds = kinds.map(|k| Kind::from_const(k).expect("backhand kind"));
            self.squashfs_generic(name, region, image, &kinds, depth)?;
            return Ok(bytes_used as usize);
        }
        if compressor == 2 {
            let k = if le {
                kind::LE_V4_0_LZMA
            } else {
                kind::BE_V4_0_LZMA
            };
            let kinds = [Kind::from_const(k).expect("backhand kind")];
            self.squashfs_generic(name, region, image, &kinds, depth)?;
            return Ok(bytes_used as usize);
        }
        let k = if le { kind::LE_V4_0 } else { kind::BE_V4_0 };
        let kind = Kind::new_v4_with_const(&BOUNDED_COMPRESSOR, k);
        let fs =
            match FilesystemReader::from_reader_with_offset_and_kind(Cursor::new(image), 0, kind) {
                Ok(fs) => fs,
                Err(e) if !le => {
                    // AVM (Fritz!Box) writes big-endian squashfs 4 with little-endian data.
                    let avm = [Kind::new_v4_with_const(
                        &BOUNDED_COMPRESSOR,
                        kind::AVM_BE_V4_0,
                    )];
                    self.squashfs_generic(name, region, image, &avm, depth)
                        .map_err(|avm_error| UnpackError::Malformed {
                            at: at_name(region),
                            format: name,
                            detail: format!("{e} (as AVM's variant: {avm_error})"),
                        })?;
                    return Ok(bytes_used as usize);
                }
                Err(e) => {
                    return Err(UnpackError::Malformed {
                        at: at_name(region),
                        format: name,
                        detail: e.to_string(),
                    })
                }
            };
        // mksquashfs stores the data of identical files (and hard links) once; such files
        // share their location, so each stored file is decompressed, held and scanned once.
        let key = |f: &backhand::SquashfsFileReader| {
            (
                f.blocks_start(),
                f.file_len(),
                f.frag_index(),
                f.block_offset(),
            )
        };
        // Declared sizes first: a bomb is refused before a byte of it is decompressed.
        let declared: u64 = fs
            .files()
            .filter_map(|n| match &n.inner {
                InnerNode::File(f) => Some((key(f), f.file_len() as u64)),
                _ => None,
            })
            .collect::<HashMap<_, _>>()
            .values()
            .sum();
        let mut stored: HashMap<(u64, usize, usize, u32), Arc<Vec<u8>>> = HashMap::new();
        let cap = self.stream_cap(bytes_used);
        if declared > cap {
            return Err(self.cap_error(cap, bytes_used, region));
        }
        // Decompress each stored file once. The work is cut finer than files, so two threads
        // finish together even when one file is most of the image: a piece is a run of whole
        // data blocks of one file, or every file's tail kept in one fragment block (backhand
        // caches a fragment once decompressed, so grouping its tails decompresses it once).
        // Files an early look wants go first, each whole in one piece, and are handed to it as
        // soon as they are complete. Every piece writes its own bytes of the output, so the
        // result does not depend on the thread count.
        let mut unique: Vec<(&backhand::SquashfsFileReader, String)> = Vec::new();
        let mut seen = HashSet::new();
        for node in fs.files() {
            if let InnerNode::File(f) = &node.inner {
                if seen.insert(key(f)) {
                    unique.push((f, node.fullpath.to_string_lossy().into_owned()));
                }
            }
        }
        let block = fs.block_size as usize;
        let mut outputs: Vec<Vec<u8>> = unique.iter().map(|(f, _)| vec![0; f.file_len()]).collect();
        let mut early_pieces = Vec::new();
        let mut block_pieces = Vec::new();
        let mut fragment_pieces: std::collections::BTreeMap<usize, Piece> = Default::default();
        for (i, out) in outputs.iter_mut().enumerate() {
            let (f, path) = &unique[i];
            if out.is_empty() {
                continue;
            }
            if self.early.wants(path) {
                early_pieces.push(Piece {
                    early: true,
                    parts: vec![(i, 0, out.as_mut_slice())],
                });
                continue;
            }
            // Whole blocks as listed in the inode, then the tail: in a fragment, or (in a
            // malformed image) bytes the blocks do not cover, which then fail to read.
            let in_blocks = (f.block_sizes().len() * block).min(out.len());
            let (blocks, tail) = out.split_at_mut(in_blocks);
            for (n, run) in blocks.chunks_mut(BLOCKS_PER_PIECE * block).enumerate() {
                block_pieces.push(Piece {
                    early: false,
                    parts: vec![(i, n * BLOCKS_PER_PIECE * block, run)],
                });
            }
            if !tail.is_empty() {
                let piece = fragment_pieces
                    .entry(f.frag_index())
                    .or_insert_with(|| Piece {
                        early: false,
                        parts: Vec::new(),
                    });
                piece.parts.push((i, in_blocks, tail));
            }
        }
        let pieces: Vec<Piece> = early_pieces
            .into_iter()
            .chain(block_pieces)
            .chain(fragment_pieces.into_values())
            .collect();
        let read_piece = |piece: Piece| -> Result<(), UnpackError> {
            for (i, offset, dest) in piece.parts {
                let (f, path) = &unique[i];
                let at = || format!("{} {path}", at_name(region));
                let malformed = |e: String| UnpackError::Malformed {
                    at: at(),
                    format: name,
                    detail: e,
                };
                let mut reader = fs
                    .file(f)
                    .reader_checked()
                    .map_err(|e| malformed(e.to_string()))?;
                if offset > 0 {
                    reader
                        .seek(SeekFrom::Start(offset as u64))
                        .map_err(|e| malformed(e.to_string()))?;
                }
                let len = dest.len();
                reader.read_exact(dest).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        UnpackError::Truncated {
                            at: at(),
                            format: name,
                            detail: format!(
                                "bytes {offset}..{} of {} cannot be read",
                                offset + len,
                                f.file_len()
                            ),
                        }
                    } else {
                        malformed(e.to_string())
                    }
                })?;
                if piece.early {
                    self.early.look(path, dest);
                }
            }
            Ok(())
        };
        for done in self.workers.map(pieces, read_piece) {
            done?;
        }
        for ((f, _), out) in unique.iter().zip(outputs) {
            self.charge_bytes(out.len() as u64, region)?;
            stored.insert(key(f), Arc::new(out));
        }
        let mut nested = Vec::new();
        let mut first_seen = HashSet::new();
        for node in fs.files() {
            let raw = node.fullpath.to_string_lossy();
            let path = normalise(raw.as_bytes()).map_err(|reason| UnpackError::Traversal {
                at: at_name(region),
                member: raw.to_string(),
                reason,
            })?;
            let mode = u32::from(node.header.permissions);
            let kind = match &node.inner {
                InnerNode::File(f) => {
                    let data = Arc::clone(&stored[&key(f)]);
                    // Nested containers are opened once per stored file.
                    if first_seen.insert(key(f)) && worth_opening(&data) {
                        nested.push(self.out.tree.len());
                    }
                    EntryKind::File(data)
                }
                InnerNode::Symlink(s) => EntryKind::Symlink(s.link.to_string_lossy().into()),
                InnerNode::Dir(_) => EntryKind::Dir,
                _ => EntryKind::Special,
            };
            self.push(Entry {
                container: region.to_string(),
                path,
                mode,
                kind,
            })?;
        }
        self.recurse_into(nested, depth)?;
        Ok(bytes_used as usize)
    }

    /// A squashfs through backhand's version-generic reader (squashfs 3, LZMA squashfs 4,
    /// vendor variants), trying `kinds` in order; files are read one by one (these images
    /// are small and old), sizes checked before a byte is decompressed.
    fn squashfs_generic(
        &mut self,
        name: &'static str,
        region: &str,
        image: &[u8],
        kinds: &[backhand::kind::Kind],
        depth: u32,
    ) -> Result<(), UnpackError> {
        use backhand::traits::filesystem::{BackhandInnerNode, BackhandSquashfsFileReader};
        let malformed = |detail: String| UnpackError::Malformed {
            at: at_name(region),
            format: name,
            detail,
        };
        let mut errors = Vec::new();
        let mut fs = None;
        for k in kinds {
            match backhand::create_squashfs_from_kind(Cursor::new(image), 0, k.clone()) {
                Ok(f) => {
                    fs = Some(f);
                    break;
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        let fs = fs.ok_or_else(|| malformed(errors.join("; ")))?;
        let nodes: Vec<_> = fs.files().collect();
        let key = |f: &BackhandSquashfsFileReader| {
            (
                f.blocks_start(),
                f.file_len(),
                f.frag_index(),
                f.block_offset(),
            )
        };
        let declared: u64 = nodes
            .iter()
            .filter_map(|n| match &n.inner {
                BackhandInnerNode::File(f) => Some((key(f), f.file_len() as u64)),
                _ => None,
            })
            .collect::<HashMap<_, _>>()
            .values()
            .sum();
        let cap = self.stream_cap(image.len() as u64);
        if declared > cap {
            return Err(self.cap_error(cap, image.len() as u64, region));
        }
        let mut stored: HashMap<(u64, usize, usize, u32), Arc<Vec<u8>>> = HashMap::new();
        let mut nested = Vec::new();
        for node in &nodes {
            let raw = node.fullpath.to_string_lossy();
            let path = normalise(raw.as_bytes()).map_err(|reason| UnpackError::Traversal {
                at: at_name(region),
                member: raw.to_string(),
                reason,
            })?;
            let kind = match &node.inner {
                BackhandInnerNode::File(f) => {
                    let data = match stored.get(&key(f)) {
                        Some(d) => Arc::clone(d),
                        None => {
                            let bytes = fs.file_data(f).map_err(|e| UnpackError::Malformed {
                                at: format!("{} {path}", at_name(region)),
                                format: name,
                                detail: e.to_string(),
                            })?;
                            if bytes.len() != f.file_len() {
                                return Err(UnpackError::Truncated {
                                    at: format!("{} {path}", at_name(region)),
                                    format: name,
                                    detail: format!("{} of {} bytes", bytes.len(), f.file_len()),
                                });
                            }
                            self.charge_bytes(bytes.len() as u64, region)?;
                            let d = Arc::new(bytes);
                            if worth_opening(&d) {
                                nested.push(self.out.tree.len());
                            }
                            stored.insert(key(f), Arc::clone(&d));
                            d
                        }
                    };
                    EntryKind::File(data)
                }
                BackhandInnerNode::Symlink { link } => {
                    EntryKind::Symlink(link.to_string_lossy().into())
                }
                BackhandInnerNode::Dir => EntryKind::Dir,
                _ => EntryKind::Special,
            };
            self.push(Entry {
                container: region.to_string(),
                path,
                mode: u32::from(node.header.permissions),
                kind,
            })?;
        }
        self.recurse_into(nested, depth)
    }

    /// A zip archive, read with the `zip` crate: the archive ends at its first
    /// end-of-central-directory record; member sizes are checked against the limits before
    /// a byte is inflated; encrypted members are reported as not opened.
    fn zip(&mut self, region: &str, data: &[u8], depth: u32) -> Result<usize, UnpackError> {
        let fmt = "zip";
        let end = memchr::memmem::find(data, b"PK\x05\x06")
            .filter(|&e| e + 22 <= data.len())
            .map(|e| (e + 22 + usize::from(le16(data, e + 20))).min(data.len()))
            .ok_or_else(|| UnpackError::Truncated {
                at: at_name(region),
                format: fmt,
                detail: "no end-of-central-directory record".into(),
            })?;
        let malformed = |e: zip::result::ZipError| UnpackError::Malformed {
            at: at_name(region),
            format: fmt,
            detail: e.to_string(),
        };
        let mut archive = zip::ZipArchive::new(Cursor::new(&data[..end])).map_err(malformed)?;
        let mut links: Vec<(String, String)> = Vec::new();
        let mut link_set = HashSet::new();
        let mut nested = Vec::new();
        for i in 0..archive.len() {
            let (raw, size, encrypted, is_dir, is_link, mode) = {
                let m = archive.by_index_raw(i).map_err(malformed)?;
                (
                    m.name_raw().to_vec(),
                    m.size(),
                    m.encrypted(),
                    m.is_dir(),
                    m.is_symlink(),
                    m.unix_mode().unwrap_or(0o644) & 0o7777,
                )
            };
            let member = String::from_utf8_lossy(&raw).to_string();
            let path = normalise(&raw).map_err(|reason| UnpackError::Traversal {
                at: at_name(region),
                member: member.clone(),
                reason,
            })?;
            Self::check_symlinks(&links, &link_set, region, &path)?;
            if encrypted {
                self.out.unopened.push(Unopened {
                    within: region.to_string(),
                    offset: 0,
                    size,
                    format: format!("encrypted zip member {member}"),
                    reason: "the member is encrypted and the password is not known".into(),
                    could_hold_evidence: true,
                });
                continue;
            }
            let cap = self.stream_cap(data.len() as u64);
            if size > cap {
                return Err(self.cap_error(cap, data.len() as u64, region));
            }
            let kind = if is_dir {
                EntryKind::Dir
            } else {
                let mut out = Vec::with_capacity(size.min(cap) as usize);
                archive
                    .by_index(i)
                    .map_err(malformed)?
                    .take(size + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| stream_error(e, region, fmt))?;
                if out.len() as u64 != size {
                    return Err(UnpackError::Malformed {
                        at: format!("{} {path}", at_name(region)),
                        format: fmt,
                        detail: format!("member declares {size} bytes, holds {}", out.len()),
                    });
                }
                if is_link {
                    let target = String::from_utf8_lossy(&out).to_string();
                    links.push((path.clone(), target.clone()));
                    link_set.insert(path.clone());
                    EntryKind::Symlink(target)
                } else {
                    self.charge_bytes(size, region)?;
                    if worth_opening(&out) {
                        nested.push(self.out.tree.len());
                    }
                    EntryKind::File(Arc::new(out))
                }
            };
            self.push(Entry {
                container: region.to_string(),
                path,
                mode,
                kind,
            })?;
        }
        self.recurse_into(nested, depth)?;
        Ok(end)
    }

    /// cramfs (little endian), from the layout in Linux's `include/uapi/linux/cramfs_fs.h`:
    /// a 64-byte superblock then the root inode; 12-byte inodes (mode, uid, 24-bit size,
    /// gid, name length in 4-byte units, 26-bit offset in 4-byte units); a directory's
    /// entries are `size` bytes at its offset; a file's data is a table of block end
    /// pointers followed by zlib blocks of at most 4096 bytes each. Hand-written: no
    /// maintained crate reads cramfs, and the format is these few fixed fields. Every offset
    /// is checked against the image, every block's output bounded.
    fn cramfs(&mut self, region: &str, data: &[u8], depth: u32) -> Result<usize, UnpackError> {
        let fmt = "cramfs";
        let bad = |detail: String| UnpackError::Malformed {
            at: at_name(region),
            format: fmt,
            detail,
        };
        let size = (le32(data, 4) as usize).min(data.len());
        let flags = le32(data, 8);
        // Extended block pointers (uncompressed or direct blocks) are a later variant.
        if flags & 0x800 != 0 {
            return Err(bad(
                "extended block pointers (flag 0x800) are not read".into()
            ));
        }
        let fs = &data[..size];
        let inode = |at: usize| -> Result<(u32, u32, usize, usize, usize), UnpackError> {
            if at + 12 > fs.len() {
                return Err(bad(format!("inode at byte {at} runs past the end")));
            }
            let (w0, w1, w2) = (le32(fs, at), le32(fs, at + 4), le32(fs, at + 8));
            Ok((
                w0 & 0xffff,
                w0 >> 16,
                (w1 & 0xff_ffff) as usize,
                ((w2 & 0x3f) * 4) as usize,
                ((w2 >> 6) * 4) as usize,
            ))
        };
        let mut dirs = vec![(String::new(), 64usize)];
        let mut seen = HashSet::new();
        let mut nested = Vec::new();
        while let Some((dir, at)) = dirs.pop() {
            let (_, _, dsize, _, doff) = inode(at)?;
            if dsize > 0 && !seen.insert(doff) {
                return Err(bad(format!("directory {dir:?} is listed twice (a loop)")));
            }
            let end = doff.checked_add(dsize).filter(|&e| e <= fs.len());
            let end = end.ok_or_else(|| bad(format!("directory {dir:?} runs past the end")))?;
            let mut pos = doff;
            while pos < end {
                let (mode, _uid, fsize, namelen, off) = inode(pos)?;
                let name_at = pos + 12;
                if namelen == 0 || name_at + namelen > end {
                    return Err(bad(format!("entry at byte {pos} has a bad name length")));
                }
                let name = &fs[name_at..name_at + namelen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(namelen)];
                let raw = [dir.as_bytes(), b"/", name].concat();
                let path = normalise(&raw).map_err(|reason| UnpackError::Traversal {
                    at: at_name(region),
                    member: String::from_utf8_lossy(&raw).into(),
                    reason,
                })?;
                let kind = match mode & 0o170000 {
                    0o040000 => {
                        dirs.push((path.clone(), pos));
                        EntryKind::Dir
                    }
                    0o100000 | 0o120000 => {
                        let cap = self.stream_cap(size as u64);
                        if fsize as u64 > cap {
                            return Err(self.cap_error(cap, size as u64, region));
                        }
                        let blocks = fsize.div_ceil(4096);
                        let table_end = off + blocks * 4;
                        if table_end > fs.len() {
                            return Err(bad(format!("{path}: block table runs past the end")));
                        }
                        let mut out = Vec::with_capacity(fsize);
                        let mut start = table_end;
                        for b in 0..blocks {
                            let stop = le32(fs, off + b * 4) as usize;
                            if stop < start || stop > fs.len() {
                                return Err(bad(format!(
                                    "{path}: block {b} lies outside the image"
                                )));
                            }
                            flate2::read::ZlibDecoder::new(&fs[start..stop])
                                .take(4096)
                                .read_to_end(&mut out)
                                .map_err(|e| bad(format!("{path}: block {b}: {e}")))?;
                            start = stop;
                        }
                        if out.len() != fsize {
                            return Err(bad(format!(
                                "{path}: {} of {fsize} bytes in its blocks",
                                out.len()
                            )));
                        }
                        if mode & 0o170000 == 0o120000 {
                            EntryKind::Symlink(String::from_utf8_lossy(&out).into())
                        } else {
                            self.charge_bytes(out.len() as u64, region)?;
                            if worth_opening(&out) {
                                nested.push(self.out.tree.len());
                            }
                            EntryKind::File(Arc::new(out))
                        }
                    }
                    _ => EntryKind::Special,
                };
                self.push(Entry {
                    container: region.to_string(),
                    path,
                    mode: mode & 0o7777,
                    kind,
                })?;
                pos = name_at + namelen;
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(size)
    }

    /// ext2/3/4, read with `ext4-view` (read-only, no unsafe code): directories walked from
    /// the root without following links, each file's size checked against the limits
    /// before it is read.
    fn ext(&mut self, region: &str, data: &[u8], depth: u32) -> Result<usize, UnpackError> {
        let fmt = "ext2/3/4";
        let block = 1024u64 << le32(data, 1048);
        let size = (u64::from(le32(data, 1028)) * block).min(data.len() as u64) as usize;
        let malformed = |e: ext4_view::Ext4Error| UnpackError::Malformed {
            at: at_name(region),
            format: fmt,
            detail: e.to_string(),
        };
        let fs = ext4_view::Ext4::load(Box::new(data[..size].to_vec())).map_err(malformed)?;
        let root = ext4_view::PathBuf::try_from("/").expect("root path");
        let mut dirs = vec![root];
        let mut nested = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in fs.read_dir(&dir).map_err(malformed)? {
                let entry = entry.map_err(malformed)?;
                let name = entry.file_name();
                if name.as_ref() == b"." || name.as_ref() == b".." {
                    continue;
                }
                let p = entry.path();
                let raw: &[u8] = p.as_ref();
                let path = normalise(raw).map_err(|reason| UnpackError::Traversal {
                    at: at_name(region),
                    member: String::from_utf8_lossy(raw).into(),
                    reason,
                })?;
                let meta = entry.metadata().map_err(malformed)?;
                let ft = meta.file_type();
                let kind = if ft.is_dir() {
                    dirs.push(p.clone());
                    EntryKind::Dir
                } else if ft.is_symlink() {
                    let target = fs.read_link(&p).map_err(malformed)?;
                    EntryKind::Symlink(String::from_utf8_lossy(target.as_ref()).into())
                } else if ft.is_regular_file() {
                    let cap = self.stream_cap(size as u64);
                    if meta.len() > cap {
                        return Err(self.cap_error(cap, size as u64, region));
                    }
                    let bytes = fs.read(&p).map_err(malformed)?;
                    self.charge_bytes(bytes.len() as u64, region)?;
                    if worth_opening(&bytes) {
                        nested.push(self.out.tree.len());
                    }
                    EntryKind::File(Arc::new(bytes))
                } else {
                    EntryKind::Special
                };
                self.push(Entry {
                    container: region.to_string(),
                    path,
                    mode: u32::from(meta.mode()) & 0o7777,
                    kind,
                })?;
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(size)
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
                return Err(UnpackError::SymlinkEscape {
                    at: at_name(region),
                    member: path.to_string(),
                    link: prefix,
                    target,
                });
            }
        }
        Ok(())
    }

    fn tar(&mut self, region: &str, data: &[u8], depth: u32) -> Result<usize, UnpackError> {
        let fmt = "tar";
        let mut archive = tar::Archive::new(Cursor::new(data));
        let entries = archive.entries().map_err(|e| UnpackError::Malformed {
            at: at_name(region),
            format: fmt,
            detail: e.to_string(),
        })?;
        let mut links: Vec<(String, String)> = Vec::new();
        let mut link_set = HashSet::new();
        let mut nested = Vec::new();
        let mut end = 0u64;
        for entry in entries {
            let mut entry = entry.map_err(|e| stream_error(e, region, fmt))?;
            let raw = entry.path_bytes().into_owned();
            let member = String::from_utf8_lossy(&raw).to_string();
            let path = normalise(&raw).map_err(|reason| UnpackError::Traversal {
                at: at_name(region),
                member: member.clone(),
                reason,
            })?;
            Self::check_symlinks(&links, &link_set, region, &path)?;
            let header = entry.header();
            let mode = header.mode().unwrap_or(0o644);
            let size = entry.size();
            end = entry.raw_file_position() + size;
            let kind = match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let cap = self.stream_cap(data.len() as u64);
                    if size > cap {
                        return Err(self.cap_error(cap, data.len() as u64, region));
                    }
                    let mut out = Vec::with_capacity(size as usize);
                    entry
                        .read_to_end(&mut out)
                        .map_err(|e| stream_error(e, region, fmt))?;
                    if out.len() as u64 != size {
                        return Err(UnpackError::Truncated {
                            at: format!("{} {path}", at_name(region)),
                            format: fmt,
                            detail: format!("{} of {size} bytes", out.len()),
                        });
                    }
                    self.charge_bytes(size, region)?;
                    if worth_opening(&out) {
                        nested.push(self.out.tree.len());
                    }
                    EntryKind::File(Arc::new(out))
                }
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).to_string())
                        .unwrap_or_default();
                    links.push((path.clone(), target.clone()));
                    link_set.insert(path.clone());
                    EntryKind::Symlink(target)
                }
                tar::EntryType::Link => {
                    // A hard link names another member; it must stay inside the root too.
                    let raw_target = entry.link_name_bytes().unwrap_or_default().into_owned();
                    let target =
                        normalise(&raw_target).map_err(|reason| UnpackError::Traversal {
                            at: at_name(region),
                            member: format!(
                                "{member} (hard link to {})",
                                String::from_utf8_lossy(&raw_target)
                            ),
                            reason,
                        })?;
                    let copy = self
                        .out
                        .tree
                        .get(&target)
                        .filter(|e| e.container == region)
                        .find_map(|e| match &e.kind {
                            EntryKind::File(d) => Some(Arc::clone(d)),
                            _ => None,
                        });
                    match copy {
                        // A hard link shares its target's bytes (nothing new to hold).
                        Some(d) => EntryKind::File(d),
                        None => EntryKind::Symlink(target),
                    }
                }
                tar::EntryType::Directory => EntryKind::Dir,
                _ => EntryKind::Special,
            };
            self.push(Entry {
                container: region.to_string(),
                path,
                mode,
                kind,
            })?;
        }
        self.recurse_into(nested, depth)?;
        // Two 512-byte zero blocks close the archive; report them as consumed when present.
        let end = end.div_ceil(512) * 512;
        Ok(((end + 1024).min(data.len() as u64)) as usize)
    }

    /// cpio "new ASCII" (newc, `070701`) and its CRC variant (`070702`): 110-byte headers of
    /// hexadecimal fields, name and data each padded to 4 bytes, ended by `TRAILER!!!`.
    /// Hand-parsed: the format is 13 fixed fields, and the crates that read it write to disk.
    fn cpio(&mut self, region: &str, data: &[u8], depth: u32) -> Result<usize, UnpackError> {
        let fmt = "cpio";
        let hex = |field: &[u8], what: &str, pos: usize| -> Result<u64, UnpackError> {
            std::str::from_utf8(field)
                .ok()
                .and_then(|s| u64::from_str_radix(s, 16).ok())
                .ok_or_else(|| UnpackError::Malformed {
                    at: format!("{} offset {pos}", at_name(region)),
                    format: fmt,
                    detail: format!("header field {what} is not hexadecimal"),
                })
        };
        let mut pos = 0usize;
        let mut links: Vec<(String, String)> = Vec::new();
        let mut link_set = HashSet::new();
        let mut nested = Vec::new();
        loop {
            if data.len() < pos + 110 {
                return Err(UnpackError::Truncated {
                    at: format!("{} offset {pos}", at_name(region)),
                    format: fmt,
                    detail: "archive ends before its TRAILER!!! entry".into(),
                });
            }
            let h = &data[pos..pos + 110];
            if &h[..6] != b"070701" && &h[..6] != b"070702" {
                return Err(UnpackError::Malformed {
                    at: format!("{} offset {pos}", at_name(region)),
                    format: fmt,
                    detail: "bad header magic".into(),
                });
            }
            let mode = hex(&h[14..22], "mode", pos)? as u32;
            let filesize = hex(&h[54..62], "filesize", pos)? as usize;
            let namesize = hex(&h[94..102], "namesize", pos)? as usize;
            let name_start = pos + 110;
            let name_end = name_start.saturating_add(namesize);
            if namesize == 0 || name_end > data.len() {
                return Err(UnpackError::Truncated {
                    at: format!("{} offset {pos}", at_name(region)),
                    format: fmt,
                    detail: "member name runs past the end".into(),
                });
            }
            let raw_name = &data[name_start..name_end - 1]; // drop the NUL
            let data_start = (name_end + 3) & !3;
            let data_end = data_start.saturating_add(filesize);
            if raw_name == b"TRAILER!!!" {
                self.recurse_into(nested, depth)?;
                return Ok(((data_end + 3) & !3).min(data.len()));
            }
            let member = String::from_utf8_lossy(raw_name).to_string();
            if data_end > data.len() {
                return Err(UnpackError::Truncated {
                    at: format!("{} {member}", at_name(region)),
                    format: fmt,
                    detail: format!(
                        "member declares {filesize} bytes, {} present",
                        data.len().saturating_sub(data_start)
                    ),
                });
            }
            let path = normalise(raw_name).map_err(|reason| UnpackError::Traversal {
                at: at_name(region),
                member: member.clone(),
                reason,
            })?;
            Self::check_symlinks(&links, &link_set, region, &path)?;
            let body = &data[data_start..data_end];
            let kind = match mode & 0o170000 {
                0o100000 => {
                    self.charge_bytes(body.len() as u64, region)?;
                    if worth_opening(body) {
                        nested.push(self.out.tree.len());
                    }
                    EntryKind::File(Arc::new(body.to_vec()))
                }
                0o120000 => {
                    let target = String::from_utf8_lossy(body).to_string();
                    links.push((path.clone(), target.clone()));
                    link_set.insert(path.clone());
                    EntryKind::Symlink(target)
                }
                0o040000 => EntryKind::Dir,
                _ => EntryKind::Special,
            };
            self.push(Entry {
                container: region.to_string(),
                path,
                mode: mode & 0o7777,
                kind,
            })?;
            // Nested containers are opened after the archive is read, like the others.
            pos = (data_end + 3) & !3;
        }
    }

    /// A single compressed stream: its output becomes a file (`<region>!/gunzip` …) and is
    /// then unpacked itself if it holds a known format, or signature-scanned.
    fn stream(
        &mut self,
        format: Format,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let cap = self.stream_cap(data.len() as u64);
        let early = self
            .prefetched
            .remove(&(data.as_ptr() as usize, data.len()))
            .filter(|(out, _)| out.len() as u64 <= cap);
        let (out, used) = match early {
            Some(done) => done,
            None => decompress_stream(format, data, cap, region)?
                .ok_or_else(|| self.cap_error(cap, data.len() as u64, region))?,
        };
        let path = format!("/{}", format.suffix());
        let name = if region.is_empty() {
            path.clone()
        } else {
            format!("{region}!{path}")
        };
        self.expand_blob(region, path, &name, out, depth)?;
        Ok(used)
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
        self.push(Entry {
            container: region.to_string(),
            path,
            mode: 0o644,
            kind: EntryKind::File(Arc::new(out)),
        })
    }

    /// U-Boot legacy image: a 64-byte big-endian header (magic 0x27051956, header CRC,
    /// time, size, load, entry, data CRC, os, arch, type, comp, 32-byte name), then the
    /// payload; type 4 (multi) starts the payload with a zero-terminated list of sizes.
    /// Hand-parsed (fixed layout, from U-Boot's include/image.h); CRCs are checked.
    fn uimage(&mut self, region: &str, data: &[u8], depth: u32) -> Result<usize, UnpackError> {
        let fmt = "uImage";
        let size = be32(data, 12) as usize;
        let mut header = data[..64].to_vec();
        header[4..8].fill(0);
        if crc32(&header) != be32(data, 4) {
            return Err(UnpackError::Malformed {
                at: at_name(region),
                format: fmt,
                detail: "header CRC mismatch".into(),
            });
        }
        if data.len() < 64 + size {
            return Err(UnpackError::Truncated {
                at: at_name(region),
                format: fmt,
                detail: format!(
                    "header says {size} payload bytes, {} present",
                    data.len() - 64
                ),
            });
        }
        let payload = &data[64..64 + size];
        if crc32(payload) != be32(data, 24) {
            return Err(UnpackError::Malformed {
                at: at_name(region),
                format: fmt,
                detail: "payload CRC mismatch".into(),
            });
        }
        let image_type = data[30];
        let comp = data[31];
        let mut parts: Vec<&[u8]> = Vec::new();
        if image_type == 4 {
            let mut sizes = Vec::new();
            let mut p = 0;
            loop {
                if p + 4 > payload.len() {
                    return Err(UnpackError::Truncated {
                        at: at_name(region),
                        format: fmt,
                        detail: "multi-image size list not terminated".into(),
                    });
                }
                let s = be32(payload, p) as usize;
                p += 4;
                if s == 0 {
                    break;
                }
                sizes.push(s);
            }
            for s in sizes {
                if p + s > payload.len() {
                    return Err(UnpackError::Truncated {
                        at: at_name(region),
                        format: fmt,
                        detail: "multi-image part runs past the payload".into(),
                    });
                }
                parts.push(&payload[p..p + s]);
                p = (p + s + 3) & !3;
            }
        } else {
            parts.push(payload);
        }
        for (i, part) in parts.into_iter().enumerate() {
            let path = format!("/uimage-part{i}");
            let name = if region.is_empty() {
                path.clone()
            } else {
                format!("{region}!{path}")
            };
            let stream_format = match comp {
                0 => None,
                1 => Some(Format::Gzip),
                2 => Some(Format::Bzip2),
                3 => Some(Format::Lzma),
                6 => Some(Format::Zstd),
                other => {
                    self.out.notes.push(format!(
                        "{}: uImage compression {other} not supported; payload kept as is",
                        at_name(region)
                    ));
                    None
                }
            };
            match stream_format {
                Some(f) => {
                    // The decompressed payload is named after the part.
                    self.unpack_at(f, &name, 0, part, depth + 1)?;
                }
                None => self.expand_blob(region, path, &name, part.to_vec(), depth)?,
            }
        }
        Ok(64 + size)
    }

    /// Broadcom TRX v1/v2: "HDR0", length, CRC32, flags/version, then three partition
    /// offsets (v2 adds a fourth) relative to the header. Hand-parsed fixed layout.
    fn trx(
        &mut self,
        blob: &str,
        offset: usize,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "TRX";
        let len = le32(data, 4) as usize;
        if len < 28 || len > data.len() {
            return Err(UnpackError::Truncated {
                at: at_name(region),
                format: fmt,
                detail: format!("header says {len} bytes, {} present", data.len()),
            });
        }
        // CRC32 covers from the flags field to the end (initial value ~0, no final xor).
        let crc = !crc32(&data[12..len]);
        if crc != le32(data, 8) {
            return Err(UnpackError::Malformed {
                at: at_name(region),
                format: fmt,
                detail: "CRC mismatch".into(),
            });
        }
        let version = u32::from(le16(data, 14));
        let count = if version == 2 { 4 } else { 3 };
        let mut offsets: Vec<usize> = (0..count)
            .map(|i| le32(data, 16 + 4 * i) as usize)
            .filter(|o| *o != 0 && *o < len)
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        for (i, &start) in offsets.iter().enumerate() {
            let end = offsets.get(i + 1).copied().unwrap_or(len);
            let part = &data[start..end];
            match detect(part) {
                Some(f) => {
                    self.unpack_at(f, blob, offset + start, part, depth + 1)?;
                }
                None => {
                    // Typically the raw kernel; kept as a file so banner checks see it.
                    let path = format!("/trx-part{i}");
                    let name = format!("{region}!{path}");
                    self.expand_blob(region, path, &name, part.to_vec(), depth)?;
                }
            }
        }
        Ok(len)
    }
}

/// Most memory an xz or lzma decoder may use (liblzma's memory limit): the stream header
/// declares the dictionary size and liblzma allocates it, so without a limit a 20-byte header
/// can ask for 4 GiB. `xz -9` needs 65 MiB to decompress and firmware rarely uses more than
/// 8 MiB; 256 MiB leaves room for unusual settings while keeping a hostile header from
/// exhausting memory. A stream that needs more is an unpack error naming it.
pub const LZMA_MEMORY_LIMIT: u64 = 256 << 20;

/// Largest output of one squashfs block (backhand's bound: four times the largest block).
const MAX_SQUASHFS_BLOCK: u64 = 4 * backhand::MAX_BLOCK_SIZE as u64;

/// backhand's own xz decoder for squashfs blocks runs liblzma with no memory limit, so a
/// block header asking for a 4 GiB dictionary would get it. This decoder gives xz blocks
/// the same [`LZMA_MEMORY_LIMIT`] as standalone streams and leaves every other compressor
/// to backhand's default.
pub struct BoundedCompressor;

/// The one instance backhand's `Kind` refers to.
pub static BOUNDED_COMPRESSOR: BoundedCompressor = BoundedCompressor;

impl backhand::compression::CompressionAction for BoundedCompressor {
    type Error = backhand::BackhandError;
    type Compressor = backhand::compression::Compressor;
    type FilesystemCompressor = backhand::FilesystemCompressor;
    type SuperBlock = backhand::SuperBlock;

    fn decompress(
        &self,
        bytes: &[u8],
        out: &mut Vec<u8>,
        compressor: Self::Compressor,
    ) -> Result<(), Self::Error> {
        use backhand::compression::{Compressor, DefaultCompressor};
        if compressor != Compressor::Xz {
            return DefaultCompressor.decompress(bytes, out, compressor);
        }
        use liblzma::stream::{Action, Error, Status, Stream};
        let io = |e: Error| {
            backhand::BackhandError::StdIo(if matches!(e, Error::MemLimit) {
                std::io::Error::other(format!(
                    "an xz block asks for more than the {LZMA_MEMORY_LIMIT} bytes of decoder memory allowed (decompressor memory limit)"
                ))
            } else {
                std::io::Error::other(e)
            })
        };
        let mut stream = Stream::new_stream_decoder(LZMA_MEMORY_LIMIT, 0).map_err(io)?;
        let start = out.len();
        if out.capacity() - start < 8192 {
            out.reserve(bytes.len().max(8192) * 4);
        }
        // One call decodes the whole block into the spare capacity; grow and go on only
        // while the output is still within one block's size.
        loop {
            let used = stream.total_in() as usize;
            let before = out.len();
            let status = stream
                .process_vec(&bytes[used..], out, Action::Finish)
                .map_err(io)?;
            if status == Status::StreamEnd {
                return Ok(());
            }
            if (out.len() - start) as u64 > MAX_SQUASHFS_BLOCK {
                return Err(backhand::BackhandError::CorruptedOrInvalidSquashfs);
            }
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(8192));
            } else if out.len() == before && stream.total_in() as usize == used {
                // No progress with room to write: the block ends early.
                return Err(backhand::BackhandError::CorruptedOrInvalidSquashfs);
            }
        }
    }

    fn compress(
        &self,
        bytes: &[u8],
        fc: Self::FilesystemCompressor,
        block_size: u32,
    ) -> Result<Vec<u8>, Self::Error> {
        backhand::compression::DefaultCompressor.compress(bytes, fc, block_size)
    }
}

/// Decompress the one `format` stream at `data[0]`, producing at most `cap` bytes: its
/// output and how many input bytes it used, or `None` when the output would pass `cap`.
fn decompress_stream(
    format: Format,
    data: &[u8],
    cap: u64,
    region: &str,
) -> Result<Option<(Vec<u8>, usize)>, UnpackError> {
    let name = format.name();
    let mut input: &[u8] = data;
    let mut out = Vec::new();
    let mut read_capped = |r: &mut dyn Read| {
        r.take(cap.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| stream_error(e, region, name))
    };
    let n = match format {
        Format::Gzip => read_capped(&mut flate2::bufread::GzDecoder::new(&mut input))?,
        Format::Xz => {
            let stream = liblzma::stream::Stream::new_stream_decoder(LZMA_MEMORY_LIMIT, 0)
                .map_err(|e| UnpackError::Malformed {
                    at: at_name(region),
                    format: name,
                    detail: e.to_string(),
                })?;
            read_capped(&mut liblzma::bufread::XzDecoder::new_stream(
                &mut input, stream,
            ))?
        }
        Format::Lzma => {
            let stream =
                liblzma::stream::Stream::new_lzma_decoder(LZMA_MEMORY_LIMIT).map_err(|e| {
                    UnpackError::Malformed {
                        at: at_name(region),
                        format: name,
                        detail: e.to_string(),
                    }
                })?;
            read_capped(&mut liblzma::bufread::XzDecoder::new_stream(
                &mut input, stream,
            ))?
        }
        Format::Zstd => read_capped(
            &mut zstd::stream::read::Decoder::with_buffer(&mut input)
                .map_err(|e| stream_error(e, region, name))?
                .single_frame(),
        )?,
        Format::Bzip2 => read_capped(&mut bzip2::bufread::BzDecoder::new(&mut input))?,
        _ => unreachable!("not a stream format"),
    };
    if n as u64 > cap {
        return Ok(None);
    }
    Ok(Some((out, data.len() - input.len())))
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

fn stream_error(e: std::io::Error, at: &str, format: &'static str) -> UnpackError {
    let over_memory = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<liblzma::stream::Error>())
        .is_some_and(|inner| matches!(inner, liblzma::stream::Error::MemLimit));
    if over_memory {
        return UnpackError::Limit {
            what: "decompressor memory (bytes; the stream header asks for a larger dictionary)",
            limit: LZMA_MEMORY_LIMIT,
            at: at_name(at),
        };
    }
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        UnpackError::Truncated {
            at: at_name(at),
            format,
            detail: e.to_string(),
        }
    } else {
        UnpackError::Malformed {
            at: at_name(at),
            format,
            detail: e.to_string(),
        }
    }
}
