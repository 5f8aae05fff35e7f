//! Archives: tar (the `tar` crate), cpio newc/crc (hand-written), zip (the `zip` crate).

use std::collections::HashSet;
use std::io::{Cursor, Read};
use std::sync::Arc;

use super::compress::stream_error;
use super::field::{self, le16, Field};
use super::{at_name, worth_opening, Unopened, UnpackError, Unpacker};
use crate::tree::{normalise, EntryKind};

/// zip end-of-central-directory record (PKWARE APPNOTE 6.3.10, §4.3.16).
mod eocd {
    use super::Field;
    /// `end of central dir signature`.
    pub const SIGNATURE: &[u8] = b"PK\x05\x06";
    /// Bytes of the record before its comment.
    pub const SIZE: usize = 22;
    /// `.ZIP file comment length`.
    pub const COMMENT_LENGTH: Field = 20..22;
}

/// cpio "new ASCII" header (`man 5 cpio`, "New ASCII Format"): 8-digit hexadecimal fields.
mod newc {
    use super::Field;
    /// Bytes of the header; the name follows.
    pub const SIZE: usize = 110;
    /// `c_magic`: `070701`, or `070702` with a checksum.
    pub const MAGIC: Field = 0..6;
    /// `c_mode`.
    pub const MODE: Field = 14..22;
    /// `c_filesize`.
    pub const FILESIZE: Field = 54..62;
    /// `c_namesize`, including the terminating NUL.
    pub const NAMESIZE: Field = 94..102;
}

impl Unpacker<'_> {
    /// A zip archive, read with the `zip` crate: the archive ends at its first
    /// end-of-central-directory record; member sizes are checked against the limits before
    /// a byte is inflated; encrypted members are reported as not opened.
    pub(super) fn zip(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "zip";
        let end = memchr::memmem::find(data, eocd::SIGNATURE)
            .filter(|&e| e + eocd::SIZE <= data.len())
            .map(|e| {
                let comment = le16(data, field::at(e, eocd::COMMENT_LENGTH));
                (e + eocd::SIZE + usize::from(comment)).min(data.len())
            })
            .ok_or_else(|| {
                UnpackError::truncated(at_name(region), fmt, "no end-of-central-directory record")
            })?;
        let malformed =
            |e: zip::result::ZipError| UnpackError::malformed(at_name(region), fmt, e.to_string());
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
            let path = normalise(&raw).map_err(|reason| {
                UnpackError::traversal(at_name(region), member.clone(), reason)
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
                    return Err(UnpackError::malformed(
                        format!("{} {path}", at_name(region)),
                        fmt,
                        format!("member declares {size} bytes, holds {}", out.len()),
                    ));
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
            self.push_in(region, path, mode, kind)?;
        }
        self.recurse_into(nested, depth)?;
        Ok(end)
    }

    pub(super) fn tar(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "tar";
        let mut archive = tar::Archive::new(Cursor::new(data));
        let entries = archive
            .entries()
            .map_err(|e| UnpackError::malformed(at_name(region), fmt, e.to_string()))?;
        let mut links: Vec<(String, String)> = Vec::new();
        let mut link_set = HashSet::new();
        let mut nested = Vec::new();
        let mut end = 0u64;
        for entry in entries {
            let mut entry = entry.map_err(|e| stream_error(e, region, fmt))?;
            let raw = entry.path_bytes().into_owned();
            let member = String::from_utf8_lossy(&raw).to_string();
            let path = normalise(&raw).map_err(|reason| {
                UnpackError::traversal(at_name(region), member.clone(), reason)
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
                        return Err(UnpackError::truncated(
                            format!("{} {path}", at_name(region)),
                            fmt,
                            format!("{} of {size} bytes", out.len()),
                        ));
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
                    let target = normalise(&raw_target).map_err(|reason| {
                        UnpackError::traversal(
                            at_name(region),
                            format!(
                                "{member} (hard link to {})",
                                String::from_utf8_lossy(&raw_target)
                            ),
                            reason,
                        )
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
            self.push_in(region, path, mode, kind)?;
        }
        self.recurse_into(nested, depth)?;
        // Two 512-byte zero blocks close the archive; report them as consumed when present.
        let end = end.div_ceil(512) * 512;
        Ok(((end + 1024).min(data.len() as u64)) as usize)
    }

    /// cpio "new ASCII" (newc, `070701`) and its CRC variant (`070702`): 110-byte headers of
    /// hexadecimal fields, name and data each padded to 4 bytes, ended by `TRAILER!!!`.
    /// Hand-parsed: the format is 13 fixed fields, and the crates that read it write to disk.
    pub(super) fn cpio(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "cpio";
        let hex = |field: &[u8], what: &str, pos: usize| -> Result<u64, UnpackError> {
            std::str::from_utf8(field)
                .ok()
                .and_then(|s| u64::from_str_radix(s, 16).ok())
                .ok_or_else(|| {
                    UnpackError::malformed(
                        format!("{} offset {pos}", at_name(region)),
                        fmt,
                        format!("header field {what} is not hexadecimal"),
                    )
                })
        };
        let mut pos = 0usize;
        let mut links: Vec<(String, String)> = Vec::new();
        let mut link_set = HashSet::new();
        let mut nested = Vec::new();
        loop {
            if data.len() < pos + newc::SIZE {
                return Err(UnpackError::truncated(
                    format!("{} offset {pos}", at_name(region)),
                    fmt,
                    "archive ends before its TRAILER!!! entry",
                ));
            }
            let h = &data[pos..pos + newc::SIZE];
            if h[newc::MAGIC] != *b"070701" && h[newc::MAGIC] != *b"070702" {
                return Err(UnpackError::malformed(
                    format!("{} offset {pos}", at_name(region)),
                    fmt,
                    "bad header magic",
                ));
            }
            let mode = hex(&h[newc::MODE], "mode", pos)? as u32;
            let filesize = hex(&h[newc::FILESIZE], "filesize", pos)? as usize;
            let namesize = hex(&h[newc::NAMESIZE], "namesize", pos)? as usize;
            let name_start = pos + newc::SIZE;
            let name_end = name_start.saturating_add(namesize);
            if namesize == 0 || name_end > data.len() {
                return Err(UnpackError::truncated(
                    format!("{} offset {pos}", at_name(region)),
                    fmt,
                    "member name runs past the end",
                ));
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
                return Err(UnpackError::truncated(
                    format!("{} {member}", at_name(region)),
                    fmt,
                    format!(
                        "member declares {filesize} bytes, {} present",
                        data.len().saturating_sub(data_start)
                    ),
                ));
            }
            let path = normalise(raw_name).map_err(|reason| {
                UnpackError::traversal(at_name(region), member.clone(), reason)
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
            self.push_in(region, path, mode & 0o7777, kind)?;
            // Nested containers are opened after the archive is read, like the others.
            pos = (data_end + 3) & !3;
        }
    }
}
