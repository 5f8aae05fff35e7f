//! squashfs 4 (every compressor, LZMA, AVM's variant) and 3, read with `backhand`; 2 is read
//! by `squashfs2`.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;

use super::compress::LZMA_MEMORY_LIMIT;
use super::field::{Endian, Field};
use super::{at_name, worth_opening, Format, UnpackError, Unpacker};
use crate::tree::{normalise, EntryKind};

/// Superblock fields: `struct squashfs_super_block` (v4) in squashfs-tools'
/// `squashfs_fs.h`, and `struct squashfs_super_block_3` (v1 to v3) in `squashfs_compat.h`;
/// in the byte order the magic announces (`hsqs` little, `sqsh` big endian).
pub(super) mod field {
    use super::Field;
    /// `s_magic`.
    pub const MAGIC: Field = 0..4;
    /// v1/v2 `bytes_used_2` (32 bits).
    pub const BYTES_USED_V2: Field = 8..12;
    /// v4 `compression` (1 gzip, 2 lzma, 3 lzo, 4 xz, 5 lz4, 6 zstd).
    pub const COMPRESSION: Field = 20..22;
    /// `s_major`, at the same place in every version.
    pub const MAJOR: Field = 28..30;
    /// v4 `bytes_used`.
    pub const BYTES_USED_V4: Field = 40..48;
    /// v3 `bytes_used` (64 bits, unaligned).
    pub const BYTES_USED_V3: Field = 63..71;
}

/// v4 `compression` value of LZMA.
const COMPRESSION_LZMA: u16 = 2;

/// The byte order of a squashfs superblock, from its magic (`hsqs`: little endian).
pub(super) fn endian(data: &[u8]) -> Endian {
    if data[field::MAGIC] == *b"hsqs" {
        Endian::Little
    } else {
        Endian::Big
    }
}

/// Whole data blocks of one file decompressed by one piece of work: 512 KiB at the usual
/// 128 KiB block size, a few milliseconds of xz, so two threads end within one piece.
const BLOCKS_PER_PIECE: usize = 4;

/// One piece of squashfs decompression: (index of the stored file, offset in it, where the
/// bytes from that offset go).
struct Piece<'d> {
    early: bool,
    parts: Vec<(usize, usize, &'d mut [u8])>,
}

impl Unpacker<'_> {
    pub(super) fn squashfs(
        &mut self,
        format: Format,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        use backhand::{kind, kind::Kind, FilesystemReader, InnerNode};
        let name = format.name();
        let le = format == Format::SquashfsLe;
        let e = endian(data);
        let major = e.u16(data, field::MAJOR);
        if major == 2 {
            return self.squashfs2(name, region, data, e, depth);
        }
        let bytes_used = e.u64(
            data,
            if major == 3 {
                field::BYTES_USED_V3
            } else {
                field::BYTES_USED_V4
            },
        );
        if bytes_used > data.len() as u64 {
            return Err(UnpackError::truncated(
                at_name(region),
                name,
                format!(
                    "superblock says {bytes_used} bytes, only {} present",
                    data.len()
                ),
            ));
        }
        let image = &data[..bytes_used as usize];
        let compressor = e.u16(data, field::COMPRESSION);
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
        if compressor == COMPRESSION_LZMA {
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
                        .map_err(|avm_error| {
                            UnpackError::malformed(
                                at_name(region),
                                name,
                                format!("{e} (as AVM's variant: {avm_error})"),
                            )
                        })?;
                    return Ok(bytes_used as usize);
                }
                Err(e) => return Err(UnpackError::malformed(at_name(region), name, e.to_string())),
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
                let malformed = |e: String| UnpackError::malformed(at(), name, e);
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
                        UnpackError::truncated(
                            at(),
                            name,
                            format!(
                                "bytes {offset}..{} of {} cannot be read",
                                offset + len,
                                f.file_len()
                            ),
                        )
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
            let path = normalise(raw.as_bytes()).map_err(|reason| {
                UnpackError::traversal(at_name(region), raw.to_string(), reason)
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
            self.push_in(region, path, mode, kind)?;
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
        let malformed = |detail: String| UnpackError::malformed(at_name(region), name, detail);
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
            let path = normalise(raw.as_bytes()).map_err(|reason| {
                UnpackError::traversal(at_name(region), raw.to_string(), reason)
            })?;
            let kind = match &node.inner {
                BackhandInnerNode::File(f) => {
                    let data = match stored.get(&key(f)) {
                        Some(d) => Arc::clone(d),
                        None => {
                            let bytes = fs.file_data(f).map_err(|e| {
                                UnpackError::malformed(
                                    format!("{} {path}", at_name(region)),
                                    name,
                                    e.to_string(),
                                )
                            })?;
                            if bytes.len() != f.file_len() {
                                return Err(UnpackError::truncated(
                                    format!("{} {path}", at_name(region)),
                                    name,
                                    format!("{} of {} bytes", bytes.len(), f.file_len()),
                                ));
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
            self.push_in(region, path, u32::from(node.header.permissions), kind)?;
        }
        self.recurse_into(nested, depth)
    }
}

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
