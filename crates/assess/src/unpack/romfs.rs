//! romfs, from Linux's `Documentation/filesystems/romfs.rst` (the layout is also
//! `include/uapi/linux/romfs_fs.h`). Hand-written: no maintained crate reads romfs, and the
//! format is a 16-byte-aligned chain of file headers with four big-endian words each.
//! Every offset is checked against the image, every header visited once.

use std::collections::HashSet;
use std::sync::Arc;

use super::field::{be32, Field};
use super::{at_name, Member, UnpackError, Unpacker};

/// The magic at [`field::MAGIC`].
pub(super) const MAGIC: &[u8; 8] = b"-rom1fs-";

/// The superblock, big endian.
pub(super) mod field {
    use super::Field;
    /// `-rom1fs-`.
    pub const MAGIC: Field = 0..8;
    /// Bytes of the filesystem.
    pub const FULL_SIZE: Field = 8..12;
    /// The volume name starts here, NUL-terminated, padded to 16 bytes.
    pub const VOLUME_NAME: usize = 16;
}

/// A file header, big endian.
mod header {
    use super::Field;
    /// Offset of the next header in the same directory (16-byte aligned); the low 4 bits
    /// are the type (bits 0–2) and the executable bit (bit 3).
    pub const NEXT: Field = 0..4;
    /// Directory: its first header; hard link: the header it links to.
    pub const SPEC_INFO: Field = 4..8;
    /// Bytes of data (a symlink: its target).
    pub const SIZE: Field = 8..12;
    /// The name starts here, NUL-terminated, padded to 16 bytes; the data follows it.
    pub const NAME: usize = 16;
}

const TYPE_HARD_LINK: u32 = 0;
const TYPE_DIRECTORY: u32 = 1;
const TYPE_REGULAR: u32 = 2;
const TYPE_SYMLINK: u32 = 3;

/// The end of the NUL-terminated, 16-byte padded string at `at`.
fn padded_name(fs: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = fs.get(at..)?;
    let len = memchr::memchr(0, rest)?;
    Some((&rest[..len], at + (len + 1).div_ceil(16) * 16))
}

impl Unpacker<'_> {
    /// romfs: the volume name, then from the first header on, each directory's chain of
    /// headers; hard links share their target's bytes; `.` and `..` are skipped.
    pub(super) fn romfs(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "romfs";
        let bad = |detail: String| UnpackError::malformed(at_name(region), fmt, detail);
        let size = be32(data, field::FULL_SIZE) as usize;
        if size > data.len() {
            return Err(UnpackError::truncated(
                at_name(region),
                fmt,
                format!("superblock says {size} bytes, only {} present", data.len()),
            ));
        }
        let fs = &data[..size];
        let (_, first) = padded_name(fs, field::VOLUME_NAME)
            .ok_or_else(|| bad("the volume name runs past the end".into()))?;
        let cap = self.stream_cap(size as u64);
        let mut seen = HashSet::new();
        let mut dirs = vec![(Vec::new(), first)];
        let mut nested = Vec::new();
        // Regular files' bytes by header offset, so hard links share them.
        let mut files: Vec<(usize, Arc<Vec<u8>>)> = Vec::new();
        let mut links = Vec::new();
        while let Some((dir, mut at)) = dirs.pop() {
            while at != 0 {
                if !seen.insert(at) {
                    return Err(bad(format!(
                        "the header at byte {at} is reached twice (a loop)"
                    )));
                }
                let head = fs
                    .get(at..at + header::NAME)
                    .ok_or_else(|| bad(format!("the header at byte {at} runs past the end")))?;
                let next = be32(head, header::NEXT);
                let spec = be32(head, header::SPEC_INFO) as usize & !15;
                let len = be32(head, header::SIZE) as usize;
                let (name, data_at) = padded_name(fs, at + header::NAME)
                    .ok_or_else(|| bad(format!("the name at byte {at} runs past the end")))?;
                let path = [dir.as_slice(), b"/", name].concat();
                let body = || {
                    data_at
                        .checked_add(len)
                        .and_then(|end| fs.get(data_at..end))
                        .ok_or_else(|| bad(format!("the data of header {at} runs past the end")))
                };
                let mode = if next & 8 != 0 { 0o755 } else { 0o644 };
                if name != b"." && name != b".." {
                    let member = match next & 7 {
                        TYPE_DIRECTORY => {
                            dirs.push((path.clone(), spec));
                            Some(Member::Dir)
                        }
                        TYPE_REGULAR => {
                            if len as u64 > cap {
                                return Err(self.cap_error(cap, size as u64, region));
                            }
                            let bytes = Arc::new(body()?.to_vec());
                            files.push((at, Arc::clone(&bytes)));
                            Some(Member::File(bytes))
                        }
                        TYPE_SYMLINK => {
                            Some(Member::Symlink(String::from_utf8_lossy(body()?).into()))
                        }
                        TYPE_HARD_LINK => {
                            links.push((path.clone(), spec, mode));
                            None
                        }
                        _ => Some(Member::Special),
                    };
                    if let Some(member) = member {
                        self.add_member(region, &path, mode, member, &mut nested)?;
                    }
                }
                at = next as usize & !15;
            }
        }
        // A hard link to a regular file holds its bytes (nothing new to charge: they are
        // shared); links to anything else are left out, as `.` and `..` are.
        for (path, target, mode) in links {
            if let Some((_, bytes)) = files.iter().find(|(at, _)| *at == target) {
                self.add_shared(region, &path, mode, Arc::clone(bytes))?;
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(size)
    }
}
