//! Which format a region is in: the signatures the raw-image scan looks for, the formats
//! read ([`detect`]), and those recognised and not read (reported as not opened).

use aho_corasick::AhoCorasick;

use super::field::{be32, le16, le32, le64, Endian, Field};
use super::{cramfs, ext, fat, jffs2, romfs, sevenz, squashfs, ubi, wrapper, yaffs2, Format};

/// Linux x86 boot protocol header (`Documentation/arch/x86/boot.rst`), offsets from the
/// start of the bzImage.
mod bzimage {
    use super::Field;
    /// `setup_sects`: 512-byte setup sectors after the boot sector (0 means 4).
    pub const SETUP_SECTS: usize = 0x1f1;
    /// `header`: the magic `HdrS`.
    pub const HEADER: Field = 0x202..0x206;
    /// `version`: the boot protocol version.
    pub const VERSION: Field = 0x206..0x208;
    /// `payload_offset` (protocol 2.08+): the compressed kernel, from the protected-mode code.
    pub const PAYLOAD_OFFSET: Field = 0x248..0x24c;
}

/// MBR partition table: four 16-byte entries before the 0x55AA signature.
mod mbr {
    use super::Field;
    /// The four entries.
    pub const PARTITIONS: Field = 446..510;
    /// An entry's sector count.
    pub const ENTRY_SECTORS: Field = 12..16;
}

/// Flattened device tree header (Devicetree Specification v0.4, §5.2), big endian.
mod fdt {
    use super::Field;
    /// `totalsize`.
    pub const TOTALSIZE: Field = 4..8;
    /// `version`.
    pub const VERSION: Field = 20..24;
}

/// LZMA-alone header (LZMA SDK `lzma.txt`, ".lzma file format"): properties byte, then these.
mod lzma {
    use super::Field;
    /// Dictionary size, little endian.
    pub const DICT_SIZE: Field = 1..5;
    /// Uncompressed size, little endian; all ones when unknown.
    pub const UNPACKED_SIZE: Field = 5..13;
}

/// Whether a file found inside a container is opened in turn (or, in a format not read,
/// recorded as not opened).
pub(super) fn worth_opening(data: &[u8]) -> bool {
    detect(data).is_some() || unread_format(data).is_some_and(|k| k.could_hold_evidence)
}

/// A format recognised by its header that the unpacker does not read.
pub(super) struct Known {
    pub(super) name: String,
    /// Size the header declares.
    pub(super) size: Option<u64>,
    pub(super) could_hold_evidence: bool,
}

/// What an unopened image is, by its first bytes: named so the report can say "a PDF
/// document" rather than "unknown".
pub(super) fn content_kind(data: &[u8]) -> &'static str {
    let starts = |m: &[u8]| data.starts_with(m);
    if starts(b"%PDF-") {
        "PDF document"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "PNG image"
    } else if starts(&[0xff, 0xd8, 0xff]) {
        "JPEG image"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "GIF image"
    } else if starts(b"BM") && data.len() > 14 && le32(data, 2..6) as usize == data.len() {
        // (BITMAPFILEHEADER bfSize: the file size)
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
pub(super) fn unread_format(data: &[u8]) -> Option<Known> {
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
        use squashfs::field;
        let e = squashfs::endian(data);
        let major = e.u16(data, field::MAJOR);
        let endian = if e == Endian::Little {
            "little endian"
        } else {
            "big endian"
        };
        let size = match major {
            4 => Some(e.u64(data, field::BYTES_USED_V4)),
            3 => Some(e.u64(data, field::BYTES_USED_V3)),
            1 | 2 => Some(u64::from(e.u32(data, field::BYTES_USED_V2))),
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
    if data.len() >= 32 && data[cramfs::field::SIGNATURE] == *cramfs::SIGNATURE {
        if starts(&[0x45, 0x3d, 0xcd, 0x28]) {
            return fs(
                "cramfs (little endian)".into(),
                Some(u64::from(le32(data, cramfs::field::SIZE))),
            );
        }
        if starts(&[0x28, 0xcd, 0x3d, 0x45]) {
            return fs(
                "cramfs (big endian)".into(),
                Some(u64::from(be32(data, cramfs::field::SIZE))),
            );
        }
    }
    if starts(b"-rom1fs-") && data.len() >= 16 {
        return fs(
            "romfs".into(),
            Some(u64::from(be32(data, romfs::field::FULL_SIZE))),
        );
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
    if ext_superblock(data) {
        use ext::field;
        let compat = le32(data, field::FEATURE_COMPAT);
        let incompat = le32(data, field::FEATURE_INCOMPAT);
        let name = if incompat & (0x40 | 0x80 | 0x200) != 0 {
            "ext4"
        } else if compat & 0x4 != 0 {
            "ext3"
        } else {
            "ext2"
        };
        let size = ext::size(data);
        return fs(name.into(), Some(size));
    }
    if data.len() > 0x250 && data[bzimage::HEADER] == *b"HdrS" {
        return fs("Linux kernel (bzImage)".into(), None);
    }
    if data.len() >= 512 && data[510] == 0x55 && data[511] == 0xaa {
        if fat::is_fat(data) {
            return fs("FAT".into(), fat::size(data));
        }
        if data.len() >= 520 && &data[512..520] == b"EFI PART" {
            return fs("GPT partition table".into(), None);
        }
        // A partition table: four 16-byte entries, boot flag 0 or 0x80, one in use.
        let entries = &data[mbr::PARTITIONS];
        let sane = entries.chunks(16).all(|e| e[0] == 0 || e[0] == 0x80);
        let used = entries
            .chunks(16)
            .any(|e| e[4] != 0 && le32(e, mbr::ENTRY_SECTORS) != 0);
        if sane && used {
            return fs("MBR partition table".into(), None);
        }
    }
    if starts(b"PK\x03\x04") && data.len() >= 30 {
        return fs("zip".into(), None);
    }
    if sevenz::is_sevenz(data) {
        return fs("7z".into(), sevenz::declared_size(data));
    }
    if starts(&[0xd0, 0x0d, 0xfe, 0xed]) && data.len() >= 40 {
        let total = u64::from(be32(data, fdt::TOTALSIZE));
        let version = be32(data, fdt::VERSION);
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
    let squashfs_major = || squashfs::endian(data).u16(data, squashfs::field::MAJOR);
    if starts(b"hsqs") && data.len() >= 96 && matches!(squashfs_major(), 2..=4) {
        Some(Format::SquashfsLe)
    } else if starts(b"sqsh") && data.len() >= 96 && matches!(squashfs_major(), 2..=4) {
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
    } else if starts(&wrapper::UIMAGE_MAGIC) && data.len() >= 64 {
        Some(Format::UImage)
    } else if starts(b"HDR0") && data.len() >= 28 {
        Some(Format::Trx)
    } else if starts(b"PK\x03\x04") && data.len() >= 30 {
        Some(Format::Zip)
    } else if sevenz::is_sevenz(data) {
        Some(Format::SevenZ)
    } else if ext_superblock(data) {
        Some(Format::Ext)
    } else if (starts(&[0x45, 0x3d, 0xcd, 0x28]) || starts(&[0x28, 0xcd, 0x3d, 0x45]))
        && data.len() >= 76
        && data[cramfs::field::SIGNATURE] == *cramfs::SIGNATURE
    {
        Some(Format::Cramfs)
    } else if jffs2::node_endian(data)
        .is_some_and(|e| jffs2::FIRST_NODE_TYPES.contains(&e.u16(data, jffs2::node::NODETYPE)))
    {
        Some(Format::Jffs2)
    } else if ubi::is_ubi(data) {
        Some(Format::Ubi)
    } else if ubi::is_ubifs(data) {
        Some(Format::Ubifs)
    } else if data.len() >= 32 && data[romfs::field::MAGIC] == *romfs::MAGIC {
        Some(Format::Romfs)
    } else if fat::is_fat(data) {
        Some(Format::Fat)
    } else if yaffs2::is_yaffs2(data) {
        Some(Format::Yaffs2)
    } else {
        None
    }
}

/// An ext2/3/4 superblock at byte 1024: the magic, a block size of at most 64 KiB, revision
/// 0 or 1, and a block count.
pub(super) fn ext_superblock(data: &[u8]) -> bool {
    use ext::field;
    data.len() >= 2048
        && le16(data, field::MAGIC) == 0xef53
        && le32(data, field::LOG_BLOCK_SIZE) <= 6
        && le32(data, field::REV_LEVEL) <= 1
        && le32(data, field::BLOCKS_COUNT) > 0
}

/// An LZMA-alone (`.lzma`) header: the properties byte `lzma` writes by default (0x5d: lc 3,
/// lp 0, pb 2), a dictionary size of 2^n or 2^n + 2^(n-1) between 4 KiB and 1 GiB, and an
/// uncompressed size that is unknown (all ones) or under 4 GiB.
pub(super) fn raw_lzma_header(data: &[u8]) -> bool {
    if data.len() < 14 || data[0] != 0x5d {
        return false;
    }
    let dict = le32(data, lzma::DICT_SIZE);
    let size = le64(data, lzma::UNPACKED_SIZE);
    (4096..=1 << 30).contains(&dict)
        && (dict.is_power_of_two() || (dict % 3 == 0 && (dict / 3 * 2).is_power_of_two()))
        && (size == u64::MAX || size < 1 << 32)
}

/// Where a Linux bzImage's compressed payload starts (boot protocol 2.08 and later: the
/// setup sectors, then `payload_offset`), when it is an LZMA stream: gzip, xz, bzip2 and
/// zstd payloads are found by the signature scan, LZMA has no magic.
pub(super) fn bzimage_lzma_payload(data: &[u8]) -> Option<usize> {
    if data.len() < 0x250
        || data[bzimage::HEADER] != *b"HdrS"
        || le16(data, bzimage::VERSION) < 0x208
    {
        return None;
    }
    let setup = (usize::from(data[bzimage::SETUP_SECTS]).max(4) + 1) * 512;
    let start = setup.checked_add(le32(data, bzimage::PAYLOAD_OFFSET) as usize)?;
    (start < data.len() && raw_lzma_header(&data[start..])).then_some(start)
}

pub(super) fn signature_scanner() -> AhoCorasick {
    AhoCorasick::new(SIGNATURES.iter().map(|(p, _)| *p)).expect("static patterns")
}

/// Signatures the raw-image scan looks for, with how far before the match the format starts.
pub(super) const SIGNATURES: &[(&[u8], usize)] = &[
    (b"hsqs", 0),
    (b"sqsh", 0),
    (&[0x1f, 0x8b, 0x08], 0),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0], 0),
    (&[0x28, 0xb5, 0x2f, 0xfd], 0),
    (b"1AY&SY", 4),
    (b"070701", 0),
    (b"070702", 0),
    (b"ustar", 257),
    (&wrapper::UIMAGE_MAGIC, 0),
    (b"HDR0", 0),
    (&sevenz::SIGNATURE, 0),
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
    (b"PK\x03\x04", 0),
    (&[0xd0, 0x0d, 0xfe, 0xed], 0),
];
