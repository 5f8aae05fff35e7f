//! Firmware wrappers with fixed headers: U-Boot legacy uImage and Broadcom TRX.

use super::field::{self, be32, le16, le32, Field};
use super::{at_name, detect, Format, UnpackError, Unpacker};

/// The uImage magic, `IH_MAGIC`.
pub(super) const UIMAGE_MAGIC: [u8; 4] = [0x27, 0x05, 0x19, 0x56];

/// `struct legacy_img_hdr` (U-Boot `include/image.h`), big endian.
mod uimage {
    use super::Field;
    /// Bytes of the header; the payload follows.
    pub const HEADER_SIZE: usize = 64;
    /// `ih_hcrc`: CRC32 of the header with this field zeroed.
    pub const HEADER_CRC: Field = 4..8;
    /// `ih_size`: payload bytes.
    pub const SIZE: Field = 12..16;
    /// `ih_dcrc`: CRC32 of the payload.
    pub const DATA_CRC: Field = 24..28;
    /// `ih_type` (`IH_TYPE_*`).
    pub const TYPE: usize = 30;
    /// `ih_comp` (`IH_COMP_*`: 0 none, 1 gzip, 2 bzip2, 3 lzma, 6 zstd).
    pub const COMPRESSION: usize = 31;
    /// `IH_TYPE_MULTI`: the payload starts with a zero-terminated list of part sizes.
    pub const TYPE_MULTI: u8 = 4;
}

/// `struct trx_header` (OpenWrt `tools/firmware-utils/src/trx.c`), little endian.
mod trx {
    use super::Field;
    /// Bytes of a v1 header (v2 adds a fourth partition offset).
    pub const HEADER_SIZE: usize = 28;
    /// `len`: bytes of header and partitions.
    pub const LENGTH: Field = 4..8;
    /// `crc32`, from [`FLAGS`] to the end.
    pub const CRC: Field = 8..12;
    /// `flag_version`: flags, then the version.
    pub const FLAGS: Field = 12..14;
    /// The version half of `flag_version`.
    pub const VERSION: Field = 14..16;
    /// `offsets[0]`; the others follow, 4 bytes each.
    pub const PARTITION_0: Field = 16..20;
}

impl Unpacker<'_> {
    /// U-Boot legacy image: a 64-byte big-endian header (magic 0x27051956, header CRC,
    /// time, size, load, entry, data CRC, os, arch, type, comp, 32-byte name), then the
    /// payload; type 4 (multi) starts the payload with a zero-terminated list of sizes.
    /// Hand-parsed (fixed layout, from U-Boot's include/image.h); CRCs are checked.
    pub(super) fn uimage(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "uImage";
        let size = be32(data, uimage::SIZE) as usize;
        let mut header = data[..uimage::HEADER_SIZE].to_vec();
        header[uimage::HEADER_CRC].fill(0);
        if crc32(&header) != be32(data, uimage::HEADER_CRC) {
            return Err(UnpackError::malformed(
                at_name(region),
                fmt,
                "header CRC mismatch",
            ));
        }
        if data.len() < 64 + size {
            return Err(UnpackError::truncated(
                at_name(region),
                fmt,
                format!(
                    "header says {size} payload bytes, {} present",
                    data.len() - 64
                ),
            ));
        }
        let payload = &data[uimage::HEADER_SIZE..uimage::HEADER_SIZE + size];
        if crc32(payload) != be32(data, uimage::DATA_CRC) {
            return Err(UnpackError::malformed(
                at_name(region),
                fmt,
                "payload CRC mismatch",
            ));
        }
        let image_type = data[uimage::TYPE];
        let comp = data[uimage::COMPRESSION];
        let mut parts: Vec<&[u8]> = Vec::new();
        if image_type == uimage::TYPE_MULTI {
            let mut sizes = Vec::new();
            let mut p = 0;
            loop {
                if p + 4 > payload.len() {
                    return Err(UnpackError::truncated(
                        at_name(region),
                        fmt,
                        "multi-image size list not terminated",
                    ));
                }
                let s = be32(payload, p..p + 4) as usize;
                p += 4;
                if s == 0 {
                    break;
                }
                sizes.push(s);
            }
            for s in sizes {
                if p + s > payload.len() {
                    return Err(UnpackError::truncated(
                        at_name(region),
                        fmt,
                        "multi-image part runs past the payload",
                    ));
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
        Ok(uimage::HEADER_SIZE + size)
    }

    /// Broadcom TRX v1/v2: "HDR0", length, CRC32, flags/version, then three partition
    /// offsets (v2 adds a fourth) relative to the header. Hand-parsed fixed layout.
    pub(super) fn trx(
        &mut self,
        blob: &str,
        offset: usize,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "TRX";
        let len = le32(data, trx::LENGTH) as usize;
        if len < trx::HEADER_SIZE || len > data.len() {
            return Err(UnpackError::truncated(
                at_name(region),
                fmt,
                format!("header says {len} bytes, {} present", data.len()),
            ));
        }
        // CRC32 covers from the flags field to the end (initial value ~0, no final xor).
        let crc = !crc32(&data[trx::FLAGS.start..len]);
        if crc != le32(data, trx::CRC) {
            return Err(UnpackError::malformed(at_name(region), fmt, "CRC mismatch"));
        }
        let version = u32::from(le16(data, trx::VERSION));
        let count = if version == 2 { 4 } else { 3 };
        let mut offsets: Vec<usize> = (0..count)
            .map(|i| le32(data, field::at(4 * i, trx::PARTITION_0)) as usize)
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

pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}
