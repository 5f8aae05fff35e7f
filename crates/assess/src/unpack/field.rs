//! Named byte ranges in headers, as smoltcp's `src/wire` writes them: each format has a
//! `mod field { pub const MAGIC: Field = 0..4; … }` and reads a field with the helper for its
//! width and byte order. The caller has checked that the header is long enough (every
//! format's detection requires its fixed header's length).

/// A byte range in a header.
pub(super) type Field = std::ops::Range<usize>;

/// The bytes of `field` at `base` (a field of a record that starts at `base`).
pub(super) const fn at(base: usize, field: Field) -> Field {
    base + field.start..base + field.end
}

fn array<const N: usize>(data: &[u8], field: Field) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&data[field]);
    out
}

pub(super) fn le16(data: &[u8], field: Field) -> u16 {
    u16::from_le_bytes(array(data, field))
}
pub(super) fn be16(data: &[u8], field: Field) -> u16 {
    u16::from_be_bytes(array(data, field))
}
pub(super) fn le32(data: &[u8], field: Field) -> u32 {
    u32::from_le_bytes(array(data, field))
}
pub(super) fn be32(data: &[u8], field: Field) -> u32 {
    u32::from_be_bytes(array(data, field))
}
pub(super) fn le64(data: &[u8], field: Field) -> u64 {
    u64::from_le_bytes(array(data, field))
}
pub(super) fn be64(data: &[u8], field: Field) -> u64 {
    u64::from_be_bytes(array(data, field))
}

/// A 16- or 32-bit field in the byte order a superblock's magic announced.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Endian {
    Little,
    Big,
}

impl Endian {
    pub(super) fn u16(self, data: &[u8], field: Field) -> u16 {
        match self {
            Endian::Little => le16(data, field),
            Endian::Big => be16(data, field),
        }
    }
    pub(super) fn u32(self, data: &[u8], field: Field) -> u32 {
        match self {
            Endian::Little => le32(data, field),
            Endian::Big => be32(data, field),
        }
    }
    pub(super) fn u64(self, data: &[u8], field: Field) -> u64 {
        match self {
            Endian::Little => le64(data, field),
            Endian::Big => be64(data, field),
        }
    }
}
