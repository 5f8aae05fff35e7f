//! 7z archives, read with the `sevenz-rust2` crate (LZMA, LZMA2, PPMd, the BCJ and delta
//! filters). Encrypted archives and members (7zAES) are reported as not opened: the crate is
//! built without AES, and the password is not known anyway.

use std::collections::HashSet;
use std::io::{Cursor, Read};
use std::sync::Arc;

use sevenz_rust2::{Archive, BlockDecoder, Error, Password};

use super::compress::LZMA_MEMORY_LIMIT;
use super::field::{le32, le64, Field};
use super::{at_name, worth_opening, ErrorKind, Unopened, UnpackError, Unpacker};
use crate::tree::{normalise, EntryKind};

/// The signature header (7-Zip `DOC/7zFormat.txt`, "SignatureHeader"), little endian.
pub(super) mod field {
    use super::Field;
    /// `kSignature`: `7z\xBC\xAF\x27\x1C`.
    pub const SIGNATURE: Field = 0..6;
    /// `StartHeaderCRC`: CRC-32 of the 20 bytes that follow it.
    pub const START_HEADER_CRC: Field = 8..12;
    /// What that CRC covers.
    pub const START_HEADER: Field = 12..32;
    /// `NextHeaderOffset`, from the end of the signature header.
    pub const NEXT_HEADER_OFFSET: Field = 12..20;
    /// `NextHeaderSize`.
    pub const NEXT_HEADER_SIZE: Field = 20..28;
    /// Bytes of the signature header.
    pub const SIZE: usize = 32;
}

/// `kSignature`.
pub(super) const SIGNATURE: [u8; 6] = [b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c];

/// `FILE_ATTRIBUTE_UNIX_EXTENSION`: p7zip and 7-Zip keep the Unix mode in the high 16 bits
/// of the attributes when this bit is set.
const UNIX_EXTENSION: u32 = 0x8000;

/// A 7z signature header at the start of `data`: the signature, and the CRC of the start
/// header (the signature alone also appears in the code of 7-Zip's self-extractors).
pub(super) fn is_sevenz(data: &[u8]) -> bool {
    data.len() >= field::SIZE
        && data[field::SIGNATURE] == SIGNATURE
        && le32(data, field::START_HEADER_CRC) == crc32fast::hash(&data[field::START_HEADER])
}

/// Bytes of the archive as its signature header declares them: the header, the packed
/// streams, then the next header.
pub(super) fn declared_size(data: &[u8]) -> Option<u64> {
    (field::SIZE as u64)
        .checked_add(le64(data, field::NEXT_HEADER_OFFSET))?
        .checked_add(le64(data, field::NEXT_HEADER_SIZE))
}

/// What reading a 7z archive came to.
pub(super) enum SevenZ {
    /// Read; the bytes it occupies.
    Read(usize),
    /// Not opened because it is encrypted (its header, or every file in it): its size and
    /// why.
    Encrypted { size: usize, reason: String },
}

impl Unpacker<'_> {
    /// A 7z archive: it ends where its signature header says (header, packed streams, next
    /// header); the sum of the sizes its header declares is checked against the limits before
    /// a byte is decoded, and each member is read with that bound again (the declared sizes
    /// are not trusted to be what the decoder produces); decoder dictionaries and the header
    /// are held to [`LZMA_MEMORY_LIMIT`]. An encrypted header, or an archive whose every file
    /// is encrypted, is not opened; encrypted members of an archive with others in the clear
    /// are each reported as not opened.
    pub(super) fn sevenz(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<SevenZ, UnpackError> {
        let fmt = "7z";
        let malformed = |detail: String| UnpackError::malformed(at_name(region), fmt, detail);
        if !is_sevenz(data) {
            return Err(malformed("no signature header with a valid CRC".into()));
        }
        let size = declared_size(data)
            .filter(|&s| s <= data.len() as u64)
            .ok_or_else(|| {
                UnpackError::truncated(
                    at_name(region),
                    fmt,
                    format!(
                        "the signature header places the archive's header past the {} bytes present",
                        data.len()
                    ),
                )
            })? as usize;
        let limit_kb = (LZMA_MEMORY_LIMIT / 1024) as usize;
        let error = |e: Error| -> UnpackError {
            match e {
                Error::MaxMemLimited { .. } => UnpackError::new(
                    at_name(region),
                    ErrorKind::Limit {
                        what: "decompressor memory (bytes; the archive asks for a larger dictionary or header)",
                        limit: LZMA_MEMORY_LIMIT,
                    },
                ),
                Error::Io(e, _) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    UnpackError::truncated(at_name(region), fmt, e.to_string())
                }
                e => malformed(e.to_string()),
            }
        };
        let mut source = Cursor::new(&data[..size]);
        let archive = match Archive::read_with_memory_limit(
            &mut source,
            &Password::empty(),
            limit_kb,
        ) {
            Ok(a) => a,
            Err(Error::UnsupportedCompressionMethod(m)) if m.starts_with("AES") => {
                return Ok(SevenZ::Encrypted {
                    size,
                    reason: "7z: the archive's header is encrypted (7zAES): its file list and files need a password, which is not known".into(),
                });
            }
            Err(e) => return Err(error(e)),
        };
        let files = &archive.files;
        let encrypted: Vec<bool> = (0..files.len())
            .map(|i| archive.is_file_encrypted(i) && files[i].has_stream)
            .collect();
        let with_data = files.iter().filter(|f| f.has_stream).count();
        let locked = encrypted.iter().filter(|&&e| e).count();
        if locked > 0 && locked == with_data {
            return Ok(SevenZ::Encrypted {
                size,
                reason: format!(
                    "7z: {locked} of its files are encrypted (7zAES) and the password is not known"
                ),
            });
        }
        let declared: u64 = files
            .iter()
            .zip(&encrypted)
            .filter(|(f, &locked)| f.has_stream && !locked)
            .map(|(f, _)| f.size)
            .fold(0, u64::saturating_add);
        let cap = self.stream_cap(size as u64);
        if declared > cap {
            return Err(self.cap_error(cap, size as u64, region));
        }
        let mut links: Vec<(String, String)> = Vec::new();
        let mut link_set = HashSet::new();
        let mut nested = Vec::new();
        let mut failed: Option<UnpackError> = None;
        // One member: its path checked, its bytes read with the declared size as a bound.
        let mut member = |u: &mut Self,
                          entry: &sevenz_rust2::ArchiveEntry,
                          reader: &mut dyn Read|
         -> Result<(), UnpackError> {
            let raw = entry.name.as_bytes();
            let path = normalise(raw).map_err(|reason| {
                UnpackError::traversal(at_name(region), entry.name.clone(), reason)
            })?;
            Self::check_symlinks(&links, &link_set, region, &path)?;
            let unix = (entry.has_windows_attributes
                && entry.windows_attributes & UNIX_EXTENSION != 0)
                .then_some(entry.windows_attributes >> 16);
            let mode = unix.unwrap_or(if entry.is_directory { 0o755 } else { 0o644 });
            let kind = if entry.is_directory || mode & 0o170000 == 0o040000 {
                EntryKind::Dir
            } else {
                let left = u.stream_cap(size as u64);
                if entry.size > left {
                    return Err(u.cap_error(left, size as u64, region));
                }
                let mut out = Vec::new();
                reader
                    .take(entry.size + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| {
                        UnpackError::malformed(
                            format!("{} {path}", at_name(region)),
                            fmt,
                            e.to_string(),
                        )
                    })?;
                if out.len() as u64 != entry.size {
                    return Err(UnpackError::malformed(
                        format!("{} {path}", at_name(region)),
                        fmt,
                        format!("member declares {} bytes, holds {}", entry.size, out.len()),
                    ));
                }
                if mode & 0o170000 == 0o120000 {
                    let target = String::from_utf8_lossy(&out).into_owned();
                    links.push((path.clone(), target.clone()));
                    link_set.insert(path.clone());
                    EntryKind::Symlink(target)
                } else {
                    u.charge_bytes(out.len() as u64, region)?;
                    if worth_opening(&out) {
                        nested.push(u.out.tree.len());
                    }
                    EntryKind::File(Arc::new(out))
                }
            };
            u.push_in(region, path, mode & 0o7777, kind)
        };
        let no_password = Password::empty();
        let blocks = archive.blocks.len();
        let first_file = &archive.stream_map.block_first_file_index;
        for block in 0..blocks {
            let first = first_file.get(block).copied().unwrap_or(usize::MAX);
            if archive.is_file_encrypted(first) {
                continue;
            }
            let decoder = BlockDecoder::new_with_memory_limit(
                1,
                limit_kb,
                block,
                &archive,
                &no_password,
                &mut source,
            );
            let done =
                decoder.for_each_entries(&mut |entry, reader| match member(self, entry, reader) {
                    Ok(()) => Ok(true),
                    Err(e) => {
                        failed = Some(e);
                        Ok(false)
                    }
                });
            if let Some(e) = failed.take() {
                return Err(e);
            }
            done.map_err(error)?;
        }
        // Entries without data (directories, empty files) belong to no block; encrypted
        // members are each reported as not opened.
        for (i, entry) in files.iter().enumerate() {
            if encrypted[i] {
                self.out.unopened.push(Unopened {
                    within: region.to_string(),
                    offset: 0,
                    size: entry.size,
                    format: format!("encrypted 7z member {}", entry.name),
                    reason: "the member is encrypted (7zAES) and the password is not known".into(),
                    could_hold_evidence: true,
                });
            } else if !entry.has_stream {
                // In no block, or in an encrypted block that was skipped.
                let block = archive
                    .stream_map
                    .file_block_index
                    .get(i)
                    .copied()
                    .flatten();
                let skipped = block.is_some_and(|b| {
                    first_file
                        .get(b)
                        .is_some_and(|&first| archive.is_file_encrypted(first))
                });
                if block.is_none() || skipped {
                    member(self, entry, &mut std::io::empty())?;
                }
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(SevenZ::Read(size))
    }
}
