//! JFFS2, from Linux's `include/uapi/linux/jffs2.h` (node layouts) and `fs/jffs2/`
//! (`scan.c`, `compr_rtime.c`, `compr_zlib.c`, `compr_lzo.c`). Hand-written: no maintained
//! crate reads JFFS2 (the Rust ones found write images, or are unmaintained
//! experiments). The image is a log of nodes; the reader does what the kernel's mount scan
//! does, in one bounded pass: every 4-byte-aligned node whose header and node CRCs check
//! out is kept, the highest version of each directory entry wins (inode 0 deletes), and a
//! file is its data nodes applied in version order. Every length is checked against the
//! image, every file's declared size against the limits before it is allocated.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

use super::field::{Endian, Field};
use super::{at_name, Member, Unopened, UnpackError, Unpacker};

/// `JFFS2_MAGIC_BITMASK`, in the image's byte order.
pub(super) const MAGIC: u16 = 0x1985;

/// `struct jffs2_unknown_node`: the header every node starts with.
pub(super) mod node {
    use super::Field;
    /// `magic`: [`super::MAGIC`].
    pub const MAGIC: Field = 0..2;
    /// `nodetype`.
    pub const NODETYPE: Field = 2..4;
    /// `totlen`: bytes of the whole node.
    pub const TOTLEN: Field = 4..8;
    /// `hdr_crc`: CRC of the 8 bytes before it.
    pub const HDR_CRC: Field = 8..12;
    /// Bytes of the header.
    pub const SIZE: usize = 12;
}

/// `struct jffs2_raw_dirent`.
mod dirent {
    use super::Field;
    /// `pino`: the parent directory's inode.
    pub const PINO: Field = 12..16;
    /// `version`.
    pub const VERSION: Field = 16..20;
    /// `ino`: the entry's inode (0: the name is deleted).
    pub const INO: Field = 20..24;
    /// `nsize`: name length.
    pub const NSIZE: usize = 28;
    /// `node_crc`: CRC of the 32 bytes before it.
    pub const NODE_CRC: Field = 32..36;
    /// The name starts here.
    pub const NAME: usize = 40;
}

/// `struct jffs2_raw_inode`.
mod inode {
    use super::Field;
    /// `ino`.
    pub const INO: Field = 12..16;
    /// `version`.
    pub const VERSION: Field = 16..20;
    /// `mode`.
    pub const MODE: Field = 20..24;
    /// `isize`: the file's size as of this node.
    pub const ISIZE: Field = 28..32;
    /// `offset`: where this node's data goes in the file.
    pub const OFFSET: Field = 44..48;
    /// `csize`: bytes of (compressed) data in the node.
    pub const CSIZE: Field = 48..52;
    /// `dsize`: bytes it decompresses to.
    pub const DSIZE: Field = 52..56;
    /// `compr` (`JFFS2_COMPR_*`).
    pub const COMPR: usize = 56;
    /// `node_crc`: CRC of the 60 bytes before it.
    pub const NODE_CRC: Field = 64..68;
    /// The data starts here.
    pub const DATA: usize = 68;
}

/// `JFFS2_NODETYPE_DIRENT`.
const NODETYPE_DIRENT: u16 = 0xe001;
/// `JFFS2_NODETYPE_INODE`.
const NODETYPE_INODE: u16 = 0xe002;
/// The node types a filesystem starts with (a directory entry, an inode, a clean marker).
pub(super) const FIRST_NODE_TYPES: [u16; 3] = [NODETYPE_DIRENT, NODETYPE_INODE, 0x2003];
/// The root directory's inode.
const ROOT_INO: u32 = 1;

const COMPR_NONE: u8 = 0;
const COMPR_ZERO: u8 = 1;
const COMPR_RTIME: u8 = 2;
const COMPR_ZLIB: u8 = 6;
const COMPR_LZO: u8 = 7;

/// JFFS2's CRC: Linux `crc32(0, …)`, the reflected CRC-32 without the inversions.
fn crc(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(0xffff_ffff);
    h.update(data);
    !h.finalize()
}

/// The byte order of the node at `data[0]`, when it is a JFFS2 node header with a valid CRC.
pub(super) fn node_endian(data: &[u8]) -> Option<Endian> {
    let head = data.get(..node::SIZE)?;
    let e = [Endian::Little, Endian::Big]
        .into_iter()
        .find(|e| e.u16(head, node::MAGIC) == MAGIC)?;
    (e.u32(head, node::HDR_CRC) == crc(&head[..8])).then_some(e)
}

/// One data node of a file.
struct DataNode {
    version: u32,
    offset: usize,
    dsize: usize,
    compr: u8,
    data: std::ops::Range<usize>,
}

#[derive(Default)]
struct Inode {
    /// (version, mode, isize) of the newest node.
    newest: Option<(u32, u32, usize)>,
    nodes: Vec<DataNode>,
}

/// What could not be read of one file.
struct Unread(String);

/// `compr_rtime.c`'s decompressor: each byte is followed by a repeat count of bytes copied
/// from after that byte's previous occurrence.
fn rtime(input: &[u8], out: &mut [u8]) -> Result<(), Unread> {
    let mut positions = [0usize; 256];
    let (mut pos, mut outpos) = (0, 0);
    let short = || Unread("rtime data ends early".into());
    while outpos < out.len() {
        let value = *input.get(pos).ok_or_else(short)?;
        let repeat = usize::from(*input.get(pos + 1).ok_or_else(short)?);
        pos += 2;
        out[outpos] = value;
        outpos += 1;
        let back = positions[usize::from(value)];
        positions[usize::from(value)] = outpos;
        if outpos + repeat > out.len() {
            return Err(Unread("rtime data runs past the node's size".into()));
        }
        // Byte by byte: the copy may overlap what it writes.
        for i in 0..repeat {
            out[outpos + i] = out[back + i];
        }
        outpos += repeat;
    }
    Ok(())
}

fn decompress(compr: u8, input: &[u8], out: &mut [u8]) -> Result<(), Unread> {
    let want = out.len();
    let exact = |n: usize| {
        if n == want {
            Ok(())
        } else {
            Err(Unread(format!("{n} of {want} bytes")))
        }
    };
    match compr {
        COMPR_NONE => {
            let n = input.len().min(out.len());
            out[..n].copy_from_slice(&input[..n]);
            exact(n)
        }
        COMPR_ZERO => {
            out.fill(0);
            Ok(())
        }
        COMPR_RTIME => rtime(input, out),
        COMPR_ZLIB => {
            // `compr_zlib.c` writes a zlib stream; old images have raw deflate.
            let zlib_header = input.len() >= 2
                && input[0] & 0x0f == 8
                && (u16::from(input[0]) << 8 | u16::from(input[1])) % 31 == 0;
            let mut buf = Vec::with_capacity(out.len());
            let limit = out.len() as u64 + 1;
            let read = if zlib_header {
                flate2::read::ZlibDecoder::new(input)
                    .take(limit)
                    .read_to_end(&mut buf)
            } else {
                flate2::read::DeflateDecoder::new(input)
                    .take(limit)
                    .read_to_end(&mut buf)
            };
            read.map_err(|e| Unread(format!("zlib: {e}")))?;
            exact(buf.len())?;
            out.copy_from_slice(&buf);
            Ok(())
        }
        COMPR_LZO => {
            let (got, err) = rust_lzo::LZOContext::decompress_to_slice(input, out);
            let n = got.len();
            if err != rust_lzo::LZOError::OK {
                return Err(Unread(format!("lzo error {}", err as i32)));
            }
            exact(n)
        }
        3 | 5 => Err(Unread("rubin compression is not read".into())),
        8 => Err(Unread("lzma compression is not read".into())),
        other => Err(Unread(format!("unknown compression {other}"))),
    }
}

impl Unpacker<'_> {
    /// A JFFS2 image (or the JFFS2 part of a flash dump, from `data[0]` on). Returns the
    /// bytes up to the end of the last valid node.
    pub(super) fn jffs2(
        &mut self,
        region: &str,
        data: &[u8],
        depth: u32,
    ) -> Result<usize, UnpackError> {
        let fmt = "JFFS2";
        let e = node_endian(data).ok_or_else(|| {
            UnpackError::malformed(at_name(region), fmt, "the first node's header CRC is wrong")
        })?;
        // (parent, name) → (version, inode, type); inode → its nodes.
        let mut dirents: HashMap<(u32, &[u8]), (u32, u32)> = HashMap::new();
        let mut inodes: HashMap<u32, Inode> = HashMap::new();
        let mut pos = 0usize;
        let mut end = 0usize;
        while pos + node::SIZE <= data.len() {
            let Some(totlen) = node_endian(&data[pos..])
                .filter(|&ne| ne == e)
                .map(|_| e.u32(&data[pos..], node::TOTLEN) as usize)
                .filter(|&t| t >= node::SIZE && t <= data.len() - pos)
            else {
                pos += 4;
                continue;
            };
            let n = &data[pos..pos + totlen];
            match e.u16(n, node::NODETYPE) {
                NODETYPE_DIRENT if n.len() >= dirent::NAME => {
                    let nsize = usize::from(n[dirent::NSIZE]);
                    let name = n.get(dirent::NAME..dirent::NAME + nsize);
                    if let (Some(name), true) = (name, e.u32(n, dirent::NODE_CRC) == crc(&n[..32]))
                    {
                        let version = e.u32(n, dirent::VERSION);
                        let key = (e.u32(n, dirent::PINO), name);
                        let ino = e.u32(n, dirent::INO);
                        let newer = dirents.get(&key).is_none_or(|&(v, _)| version >= v);
                        if newer {
                            dirents.insert(key, (version, ino));
                        }
                    }
                }
                NODETYPE_INODE
                    if n.len() >= inode::DATA && e.u32(n, inode::NODE_CRC) == crc(&n[..60]) =>
                {
                    let csize = e.u32(n, inode::CSIZE) as usize;
                    let version = e.u32(n, inode::VERSION);
                    let entry = inodes.entry(e.u32(n, inode::INO)).or_default();
                    let isize = e.u32(n, inode::ISIZE) as usize;
                    if entry.newest.is_none_or(|(v, _, _)| version >= v) {
                        entry.newest = Some((version, e.u32(n, inode::MODE), isize));
                    }
                    let dsize = e.u32(n, inode::DSIZE) as usize;
                    if dsize > 0 && inode::DATA + csize <= n.len() {
                        let start = pos + inode::DATA;
                        entry.nodes.push(DataNode {
                            version,
                            offset: e.u32(n, inode::OFFSET) as usize,
                            dsize,
                            compr: n[inode::COMPR],
                            data: start..start + csize,
                        });
                    }
                }
                _ => {}
            }
            pos += totlen.div_ceil(4) * 4;
            end = pos.min(data.len());
        }
        // The tree, from the root: each directory's live entries, by name.
        let mut children: BTreeMap<u32, Vec<(&[u8], u32)>> = BTreeMap::new();
        for (&(pino, name), &(_, ino)) in &dirents {
            if ino != 0 {
                children.entry(pino).or_default().push((name, ino));
            }
        }
        let cap = self.stream_cap(data.len() as u64);
        let mut files: HashMap<u32, Arc<Vec<u8>>> = HashMap::new();
        let mut nested = Vec::new();
        let mut seen = HashSet::from([ROOT_INO]);
        let mut dirs = vec![(Vec::new(), ROOT_INO)];
        while let Some((dir, dino)) = dirs.pop() {
            let mut list = children.remove(&dino).unwrap_or_default();
            list.sort();
            for (name, ino) in list {
                let path = [dir.as_slice(), b"/", name].concat();
                let Some(node) = inodes.get_mut(&ino) else {
                    continue;
                };
                let (_, mode, isize) = node.newest.unwrap_or_default();
                let member = match mode & 0o170000 {
                    0o040000 => {
                        if !seen.insert(ino) {
                            return Err(UnpackError::malformed(
                                at_name(region),
                                fmt,
                                format!("directory {} is reached twice (a loop)", ino),
                            ));
                        }
                        dirs.push((path.clone(), ino));
                        Member::Dir
                    }
                    0o100000 | 0o120000 => {
                        if let Some(bytes) = files.get(&ino) {
                            self.add_shared(region, &path, mode, Arc::clone(bytes))?;
                            continue;
                        }
                        if isize as u64 > cap {
                            return Err(self.cap_error(cap, data.len() as u64, region));
                        }
                        let mut out = vec![0u8; isize];
                        node.nodes.sort_by_key(|d| d.version);
                        let mut unread = None;
                        for d in &node.nodes {
                            let Some(dest) = d
                                .offset
                                .checked_add(d.dsize)
                                .and_then(|end| out.get_mut(d.offset..end))
                            else {
                                // Data past the newest size was truncated away.
                                continue;
                            };
                            if let Err(Unread(why)) =
                                decompress(d.compr, &data[d.data.clone()], dest)
                            {
                                unread = Some(why);
                                break;
                            }
                        }
                        if let Some(why) = unread {
                            self.out.unopened.push(Unopened {
                                within: region.to_string(),
                                offset: 0,
                                size: isize as u64,
                                format: format!("JFFS2 file {}", String::from_utf8_lossy(&path)),
                                reason: why,
                                could_hold_evidence: true,
                            });
                            continue;
                        }
                        if mode & 0o170000 == 0o120000 {
                            Member::Symlink(String::from_utf8_lossy(&out).into())
                        } else {
                            let bytes = Arc::new(out);
                            files.insert(ino, Arc::clone(&bytes));
                            Member::File(bytes)
                        }
                    }
                    _ => Member::Special,
                };
                self.add_member(region, &path, mode, member, &mut nested)?;
            }
        }
        self.recurse_into(nested, depth)?;
        Ok(end)
    }
}
