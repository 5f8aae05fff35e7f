//! FAT12, FAT16 and FAT32, read with the `fatfs` crate (long file names included) on a copy
//! of the filesystem's bytes, so nothing the crate might write reaches the image.

use std::io::{Cursor, Read};
use std::sync::Arc;

use super::field::{le16, le32, Field};
use super::{at_name, Member, UnpackError, Unpacker};

/// The boot sector's BIOS parameter block (Microsoft FAT specification, §3.1 and §3.3).
pub(super) mod field {
    use super::Field;
    /// `BPB_BytsPerSec`.
    pub const BYTES_PER_SECTOR: Field = 11..13;
    /// `BPB_TotSec16` (0 when the count is in `BPB_TotSec32`).
    pub const TOTAL_SECTORS_16: Field = 19..21;
    /// `BPB_TotSec32`.
    pub const TOTAL_SECTORS_32: Field = 32..36;
    /// `BS_FilSysType` of FAT12/16 (`FAT12   `, `FAT16   `): its first three bytes.
    pub const FS_TYPE_16: Field = 54..57;
    /// `BS_FilSysType` of FAT32.
    pub const FS_TYPE_32: Field = 82..85;
    /// The boot sector signature 0x55 0xAA.
    pub const SIGNATURE: Field = 510..512;
}

/// Whether `data` starts with a FAT boot sector.
pub(super) fn is_fat(data: &[u8]) -> bool {
    data.len() >= 512
        && data[field::SIGNATURE] == [0x55, 0xaa]
        && (data[field::FS_TYPE_16] == *b"FAT" || data[field::FS_TYPE_32] == *b"FAT")
        && size(data).is_some()
}

/// Bytes of the filesystem, as the boot sector declares.
pub(super) fn size(data: &[u8]) -> Option<u64> {
    let sector = u64::from(le16(data, field::BYTES_PER_SECTOR));
    let small = u64::from(le16(data, field::TOTAL_SECTORS_16));
    let sectors = if small != 0 {
        small
    } else {
        u64::from(le32(data, field::TOTAL_SECTORS_32))
    };
    Some(sector * sectors).filter(|&s| s > 0)
}

impl Unpacker<'_> {
    /// A FAT filesystem: directories walked from the root (`.` and `..` skipped), each
    /// file's size checked against the limits before it is read. A directory chain that
    /// loops ends at the entry limit.
    pub(super) fn fat(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "FAT";
        let size = size(data).unwrap_or(0).min(data.len() as u64) as usize;
        let malformed =
            |e: std::io::Error| UnpackError::malformed(at_name(region), fmt, e.to_string());
        let disk = Cursor::new(data[..size].to_vec());
        let fs = fatfs::FileSystem::new(disk, fatfs::FsOptions::new()).map_err(malformed)?;
        let cap = self.stream_cap(size as u64);
        let mut nested = Vec::new();
        let mut dirs = vec![(String::new(), fs.root_dir())];
        while let Some((path, dir)) = dirs.pop() {
            for entry in dir.iter() {
                let entry = entry.map_err(malformed)?;
                let name = entry.file_name();
                if name == "." || name == ".." {
                    continue;
                }
                let child = format!("{path}/{name}");
                let member = if entry.is_dir() {
                    dirs.push((child.clone(), entry.to_dir()));
                    Member::Dir
                } else {
                    let len = entry.len();
                    if len > cap {
                        return Err(self.cap_error(cap, size as u64, region));
                    }
                    let mut out = Vec::with_capacity(len as usize);
                    entry
                        .to_file()
                        .take(len + 1)
                        .read_to_end(&mut out)
                        .map_err(malformed)?;
                    Member::File(Arc::new(out))
                };
                let mode = if entry
                    .attributes()
                    .contains(fatfs::FileAttributes::READ_ONLY)
                {
                    0o444
                } else {
                    0o644
                };
                self.add_member(region, child.as_bytes(), mode, member, &mut nested)?;
            }
        }
        drop(dirs);
        drop(fs);
        self.recurse_into(nested, depth)?;
        Ok(size)
    }
}
