//! cramfs, little and big endian.

use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;

use super::field::{self as f, Endian, Field};
use super::{at_name, Member, UnpackError, Unpacker};
use crate::tree::normalise;

/// The signature at [`field::SIGNATURE`].
pub(super) const SIGNATURE: &[u8; 16] = b"Compressed ROMFS";

/// Superblock (`struct cramfs_super` in Linux's `include/uapi/linux/cramfs_fs.h`).
pub(super) mod field {
    use super::Field;
    /// `size`: bytes of the filesystem.
    pub const SIZE: Field = 4..8;
    /// `flags`.
    pub const FLAGS: Field = 8..12;
    /// `signature`: `Compressed ROMFS`.
    pub const SIGNATURE: Field = 16..32;
}

/// `struct cramfs_inode`: three little-endian words of bit fields.
mod inode {
    use super::Field;
    /// `mode:16, uid:16`.
    pub const MODE_UID: Field = 0..4;
    /// `size:24, gid:8`.
    pub const SIZE_GID: Field = 4..8;
    /// `namelen:6` (in 4-byte units), `offset:26` (in 4-byte units).
    pub const NAMELEN_OFFSET: Field = 8..12;
}

/// Bytes of one inode; its name follows.
const INODE_SIZE: usize = 12;
/// The root inode follows the 64-byte superblock (`struct cramfs_super.root`).
const ROOT_INODE: usize = 64;
/// Uncompressed bytes of one block (`PAGE_SIZE` on the machines that write cramfs).
const BLOCK_SIZE: usize = 4096;
/// `CRAMFS_FLAG_EXT_BLOCK_POINTERS`.
const FLAG_EXT_BLOCK_POINTERS: u32 = 0x800;

impl Unpacker<'_> {
    /// cramfs (little endian), from the layout in Linux's `include/uapi/linux/cramfs_fs.h`:
    /// a 64-byte superblock then the root inode; 12-byte inodes (mode, uid, 24-bit size,
    /// gid, name length in 4-byte units, 26-bit offset in 4-byte units); a directory's
    /// entries are `size` bytes at its offset; a file's data is a table of block end
    /// pointers followed by zlib blocks of at most 4096 bytes each. Hand-written: no
    /// maintained crate reads cramfs, and the format is these few fixed fields. Every offset
    /// is checked against the image, every block's output bounded.
    pub(super) fn cramfs(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "cramfs";
        let bad = |detail: String| UnpackError::malformed(at_name(region), fmt, detail);
        // The magic's byte order is the filesystem's (`mkfs.cramfs -N big` on any host).
        let e = if data.starts_with(&[0x45, 0x3d, 0xcd, 0x28]) {
            Endian::Little
        } else {
            Endian::Big
        };
        let size = (e.u32(data, field::SIZE) as usize).min(data.len());
        let flags = e.u32(data, field::FLAGS);
        // Extended block pointers (uncompressed or direct blocks) are a later variant.
        if flags & FLAG_EXT_BLOCK_POINTERS != 0 {
            return Err(bad(
                "extended block pointers (flag 0x800) are not read".into()
            ));
        }
        let fs = &data[..size];
        let inode = |at: usize| -> Result<(u32, u32, usize, usize, usize), UnpackError> {
            if at + INODE_SIZE > fs.len() {
                return Err(bad(format!("inode at byte {at} runs past the end")));
            }
            let word = |field: Field| e.u32(fs, f::at(at, field));
            let (w0, w1, w2) = (
                word(inode::MODE_UID),
                word(inode::SIZE_GID),
                word(inode::NAMELEN_OFFSET),
            );
            // C bit fields: the first declared takes the low bits on a little-endian
            // machine and the high bits on a big-endian one.
            Ok(match e {
                Endian::Little => (
                    w0 & 0xffff,
                    w0 >> 16,
                    (w1 & 0xff_ffff) as usize,
                    ((w2 & 0x3f) * 4) as usize,
                    ((w2 >> 6) * 4) as usize,
                ),
                Endian::Big => (
                    w0 >> 16,
                    w0 & 0xffff,
                    (w1 >> 8) as usize,
                    ((w2 >> 26) * 4) as usize,
                    ((w2 & 0x03ff_ffff) * 4) as usize,
                ),
            })
        };
        let mut dirs = vec![(String::new(), ROOT_INODE)];
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
                let name_at = pos + INODE_SIZE;
                if namelen == 0 || name_at + namelen > end {
                    return Err(bad(format!("entry at byte {pos} has a bad name length")));
                }
                let name = &fs[name_at..name_at + namelen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(namelen)];
                let raw = [dir.as_bytes(), b"/", name].concat();
                let path = normalise(&raw).map_err(|reason| {
                    UnpackError::traversal(at_name(region), String::from_utf8_lossy(&raw), reason)
                })?;
                let member = match mode & 0o170000 {
                    0o040000 => {
                        dirs.push((path.clone(), pos));
                        Member::Dir
                    }
                    0o100000 | 0o120000 => {
                        let cap = self.stream_cap(size as u64);
                        if fsize as u64 > cap {
                            return Err(self.cap_error(cap, size as u64, region));
                        }
                        let blocks = fsize.div_ceil(BLOCK_SIZE);
                        let table_end = off + blocks * 4;
                        if table_end > fs.len() {
                            return Err(bad(format!("{path}: block table runs past the end")));
                        }
                        let mut out = Vec::with_capacity(fsize);
                        let mut start = table_end;
                        for b in 0..blocks {
                            let stop = e.u32(fs, f::at(off + b * 4, 0..4)) as usize;
                            if stop < start || stop > fs.len() {
                                return Err(bad(format!(
                                    "{path}: block {b} lies outside the image"
                                )));
                            }
                            flate2::read::ZlibDecoder::new(&fs[start..stop])
                                .take(BLOCK_SIZE as u64)
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
                            Member::Symlink(String::from_utf8_lossy(&out).into())
                        } else {
                            Member::File(Arc::new(out))
                        }
                    }
                    _ => Member::Special,
                };
                self.add_member(region, path.as_bytes(), mode, member, &mut nested)?;
                pos = name_at + namelen;
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(size)
    }
}
