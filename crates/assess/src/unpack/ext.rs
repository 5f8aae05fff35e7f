//! ext2, ext3 and ext4, read with `ext4-view`.

use std::sync::Arc;

use super::field::{le32, Field};
use super::{at_name, Member, UnpackError, Unpacker};
use crate::tree::normalise;

/// Superblock fields (`struct ext4_super_block` in Linux's `fs/ext4/ext4.h`), as offsets
/// from the start of the image: the superblock is at byte 1024.
pub(super) mod field {
    use super::Field;
    /// `s_blocks_count_lo`.
    pub const BLOCKS_COUNT: Field = 1028..1032;
    /// `s_log_block_size`: the block size is 1024 << this.
    pub const LOG_BLOCK_SIZE: Field = 1048..1052;
    /// `s_magic`: 0xEF53.
    pub const MAGIC: Field = 1080..1082;
    /// `s_rev_level`.
    pub const REV_LEVEL: Field = 1100..1104;
    /// `s_feature_compat` (0x4: has a journal, ext3).
    pub const FEATURE_COMPAT: Field = 1116..1120;
    /// `s_feature_incompat` (extents 0x40, 64bit 0x80, flex_bg 0x200: ext4).
    pub const FEATURE_INCOMPAT: Field = 1120..1124;
}

/// Bytes of the filesystem, as its superblock declares (blocks × block size).
pub(super) fn size(data: &[u8]) -> u64 {
    u64::from(le32(data, field::BLOCKS_COUNT)) * (1024u64 << le32(data, field::LOG_BLOCK_SIZE))
}

impl Unpacker<'_> {
    /// ext2/3/4, read with `ext4-view` (read-only, no unsafe code): directories walked from
    /// the root without following links, each file's size checked against the limits
    /// before it is read.
    pub(super) fn ext(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "ext2/3/4";
        let size = size(data).min(data.len() as u64) as usize;
        let malformed =
            |e: ext4_view::Ext4Error| UnpackError::malformed(at_name(region), fmt, e.to_string());
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
                normalise(raw).map_err(|reason| {
                    UnpackError::traversal(at_name(region), String::from_utf8_lossy(raw), reason)
                })?;
                let meta = entry.metadata().map_err(malformed)?;
                let ft = meta.file_type();
                let member = if ft.is_dir() {
                    dirs.push(p.clone());
                    Member::Dir
                } else if ft.is_symlink() {
                    let target = fs.read_link(&p).map_err(malformed)?;
                    Member::Symlink(String::from_utf8_lossy(target.as_ref()).into())
                } else if ft.is_regular_file() {
                    let cap = self.stream_cap(size as u64);
                    if meta.len() > cap {
                        return Err(self.cap_error(cap, size as u64, region));
                    }
                    Member::File(Arc::new(fs.read(&p).map_err(malformed)?))
                } else {
                    Member::Special
                };
                self.add_member(region, raw, u32::from(meta.mode()), member, &mut nested)?;
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(size)
    }
}
