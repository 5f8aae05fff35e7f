//! Where frames come from: pcap/pcapng files (`pcap-parser`; gzip-compressed ones through
//! `flate2`, as tcpdump reads `.pcap.gz`) or a live AF_PACKET socket (`nix`). Both hand
//! `(time_ns, frame)` to the same callback, normally [`Monitor::process`]
//! ([`Monitor::process_link`] with the link type, for [`replay_file_links`]).
//!
//! Bad files never crash and never allocate without bound: the read buffer grows only up to
//! [`MAX_RECORD_BYTES`], records claiming more are reported as corruption with their byte offset,
//! frames of link types the caller does not read are skipped and counted, and a file cut inside
//! its last record is processed up to the cut and reported as truncated.
//!
//! [`Monitor::process`]: crate::Monitor::process
//! [`Monitor::process_link`]: crate::Monitor::process_link

use crate::link::Link;
use pcap_parser::pcapng::Block;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest record accepted (pcap's usual maximum snaplen is 262 144; jumbo and offloaded
/// segments stay far below 1 MiB).
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// pcap-parser buffers itself; reading the file straight into it avoids a second copy.
const INITIAL_BUFFER: usize = 1 << 18;

/// Why frames could not be read. Frames read before the error have been handed on.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file or socket could not be read (the cause is printed here, so it is not a
    /// `source()`: each cause once).
    #[error("cannot read {path}: {error}")]
    Io {
        /// The file (or, live, the interface) being read.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    #[error("{path}: not a pcap or pcapng capture (the first bytes are not a pcap header or a pcapng section header)")]
    /// The file starts with neither a pcap header nor a pcapng section header block (also
    /// after gzip decompression).
    NotACapture {
        /// The file read.
        path: PathBuf,
    },
    #[error("{path}: empty file")]
    /// The file holds no bytes at all.
    Empty {
        /// The file read.
        path: PathBuf,
    },
    #[error("{path}: corrupt record at byte {offset} after {frames} frames: {detail}")]
    /// A record cannot be parsed (or claims more than [`MAX_RECORD_BYTES`]); reading stops
    /// there. A file that merely ends inside a record is not this error
    /// ([`ReplayStats::truncated_at`]).
    Corrupt {
        /// The file read.
        path: PathBuf,
        /// Where the bad record starts, in bytes (of the decompressed stream for gzip).
        offset: u64,
        /// Frames handed on before it.
        frames: u64,
        /// What is wrong with it.
        detail: String,
    },
    #[error("live capture on {iface}: {detail}")]
    /// The AF_PACKET socket could not be opened, bound or read.
    Live {
        /// The interface.
        iface: String,
        /// The failing step and the system's error.
        detail: String,
    },
}

/// What a replay read.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ReplayStats {
    /// "pcap" or "pcapng".
    pub format: &'static str,
    /// "gzip" when the file was gzip-compressed (read as `tcpdump -r` reads `.pcap.gz`).
    pub compression: Option<&'static str>,
    /// Frames handed to the callback.
    pub frames: u64,
    /// The link types read (names as in [`Link::as_str`]), from the pcap header or the
    /// pcapng interface descriptions.
    pub link_types: Vec<&'static str>,
    /// Frames skipped because the monitor does not read their link type ([`replay_file`]:
    /// any but Ethernet), with the link types seen (`LINKTYPE_*` numbers, at most 8).
    pub skipped_linktype: u64,
    /// The `LINKTYPE_*` numbers of those skipped frames, in order of first sight (at most 8).
    pub other_linktypes: Vec<i32>,
    /// Packet blocks naming an interface the file never described (skipped).
    pub skipped_bad_interface: u64,
    /// Frames whose captured length is below their original length (snaplen); still processed.
    pub cut_by_snaplen: u64,
    /// The file ends inside a record (an interrupted capture); everything before was processed.
    pub truncated_at: Option<u64>,
}

struct Iface {
    linktype: Linktype,
    link: Option<Link>,
    resolution: u64,
    offset: i64,
}

/// Read `path` (pcap or pcapng, either byte order, optionally gzip-compressed) and call
/// `f(time_ns, frame)` for every Ethernet frame in file order. Frames of other link types
/// are skipped and counted; [`replay_file_links`] reads them too.
pub fn replay_file(
    path: &Path,
    mut f: impl FnMut(u64, &[u8]),
) -> Result<ReplayStats, CaptureError> {
    open_and_replay(path, true, &mut |t, _, frame| f(t, frame))
}

/// [`replay_file`] for every link type the monitor reads ([`Link`]): `f(time_ns, link,
/// frame)`, the link type per frame (pcapng files can mix interfaces of several).
pub fn replay_file_links(
    path: &Path,
    mut f: impl FnMut(u64, Link, &[u8]),
) -> Result<ReplayStats, CaptureError> {
    open_and_replay(path, false, &mut f)
}

fn open_and_replay(
    path: &Path,
    ethernet_only: bool,
    f: &mut impl FnMut(u64, Link, &[u8]),
) -> Result<ReplayStats, CaptureError> {
    let io = |error| CaptureError::Io {
        path: path.to_path_buf(),
        error,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    // gzip (RFC 1952) starts 1f 8b: tcpdump and Wireshark read such captures transparently.
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    // Back to the start (pcap-parser detects the format from its first read).
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    let start = file;
    if got == 2 && head == [0x1f, 0x8b] {
        let error = std::sync::Arc::new(std::sync::Mutex::new(None));
        let gz = Remember {
            inner: flate2::read::MultiGzDecoder::new(std::io::BufReader::new(start)),
            error: error.clone(),
        };
        let r = replay_inner(path, gz, ethernet_only, f).map(|mut s| {
            s.compression = Some("gzip");
            s
        });
        let detail = error.lock().ok().and_then(|mut e| e.take());
        return match detail {
            // The decompressor failed (corrupt or cut compressed data): the frames before
            // were processed, the rest cannot be read.
            Some(d) => Err(CaptureError::Io {
                path: path.to_path_buf(),
                error: std::io::Error::other(format!("gzip-compressed capture: {d}")),
            }),
            None => r,
        };
    }
    replay_inner(path, start, ethernet_only, f)
}

/// A reader that keeps the first error's message (pcap-parser reports only that a read
/// failed).
struct Remember<R> {
    inner: R,
    error: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl<R: Read> Read for Remember<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if let Ok(mut slot) = self.error.lock() {
                slot.get_or_insert_with(|| e.to_string());
            }
        })
    }
}

/// [`replay_file`] over any reader (not decompressed); `path` only names it in errors.
pub fn replay_reader<R: Read + Send>(
    path: &Path,
    input: R,
    mut f: impl FnMut(u64, &[u8]),
) -> Result<ReplayStats, CaptureError> {
    replay_inner(path, input, true, &mut |t, _, frame| f(t, frame))
}

/// [`replay_file_links`] over any reader (not decompressed).
pub fn replay_reader_links<R: Read + Send>(
    path: &Path,
    input: R,
    mut f: impl FnMut(u64, Link, &[u8]),
) -> Result<ReplayStats, CaptureError> {
    replay_inner(path, input, false, &mut f)
}

fn accept(linktype: Linktype, ethernet_only: bool, stats: &mut ReplayStats) -> Option<Link> {
    let link = Link::from_linktype(linktype.0).filter(|l| !ethernet_only || *l == Link::Ethernet);
    if let Some(l) = link {
        if !stats.link_types.contains(&l.as_str()) {
            stats.link_types.push(l.as_str());
        }
    }
    link
}

fn replay_inner<R: Read + Send>(
    path: &Path,
    input: R,
    ethernet_only: bool,
    f: &mut impl FnMut(u64, Link, &[u8]),
) -> Result<ReplayStats, CaptureError> {
    let path_buf = path.to_path_buf();
    let mut reader = match pcap_parser::create_reader(INITIAL_BUFFER, input) {
        Ok(r) => r,
        Err(PcapError::Eof) => return Err(CaptureError::Empty { path: path_buf }),
        Err(PcapError::ReadError) => {
            return Err(CaptureError::Io {
                path: path_buf,
                error: std::io::Error::other("read failed"),
            })
        }
        Err(_) => return Err(CaptureError::NotACapture { path: path_buf }),
    };
    let mut stats = ReplayStats::default();
    let mut buffer_size = INITIAL_BUFFER;
    // Legacy pcap state.
    let mut legacy_linktype = Linktype::ETHERNET;
    let mut legacy_link = Some(Link::Ethernet);
    let mut legacy_nanos = false;
    let mut big_endian = false;
    // pcapng state: interfaces of the current section.
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut last_ts: u64 = 0;
    loop {
        let at = reader.consumed() as u64;
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        stats.format = "pcap";
                        legacy_linktype = h.network;
                        legacy_link = accept(h.network, ethernet_only, &mut stats);
                        legacy_nanos = h.is_nanosecond_precision();
                        big_endian = h.is_bigendian();
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let frac = if legacy_nanos {
                            b.ts_usec as u64
                        } else {
                            b.ts_usec as u64 * 1000
                        };
                        let ts = b.ts_sec as u64 * 1_000_000_000 + frac;
                        deliver(
                            &mut stats,
                            legacy_linktype,
                            legacy_link,
                            ts,
                            b.data,
                            b.caplen,
                            b.origlen,
                            f,
                        );
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
                        stats.format = "pcapng";
                        big_endian = shb.big_endian();
                        ifaces.clear();
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        ifaces.push(Iface {
                            linktype: idb.linktype,
                            link: accept(idb.linktype, ethernet_only, &mut stats),
                            // An invalid if_tsresol falls back to the default, microseconds.
                            resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                            offset: idb.ts_offset(),
                        });
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        match ifaces.get(epb.if_id as usize) {
                            Some(i) => {
                                let raw = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                                let secs = (raw / i.resolution) as i64 + i.offset;
                                let frac = (raw % i.resolution) as u128 * 1_000_000_000
                                    / i.resolution as u128;
                                let ts = (secs.max(0) as u64)
                                    .saturating_mul(1_000_000_000)
                                    .saturating_add(frac as u64);
                                last_ts = ts;
                                deliver(
                                    &mut stats,
                                    i.linktype,
                                    i.link,
                                    ts,
                                    epb.data,
                                    epb.caplen,
                                    epb.origlen,
                                    f,
                                );
                            }
                            None => stats.skipped_bad_interface += 1,
                        }
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => match ifaces.first() {
                        // A simple packet block has no timestamp: it happened after the last one.
                        Some(i) => {
                            let len = spb.data.len() as u32;
                            deliver(
                                &mut stats,
                                i.linktype,
                                i.link,
                                last_ts,
                                spb.data,
                                len.min(spb.origlen),
                                spb.origlen,
                                f,
                            )
                        }
                        None => stats.skipped_bad_interface += 1,
                    },
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    return Err(CaptureError::Io {
                        path: path_buf,
                        error: std::io::Error::other("read failed"),
                    });
                }
            }
            Err(PcapError::BufferTooSmall) => {
                if buffer_size >= MAX_RECORD_BYTES {
                    return Err(CaptureError::Corrupt {
                        path: path_buf,
                        offset: at,
                        frames: stats.frames,
                        detail: format!(
                            "a record larger than the {MAX_RECORD_BYTES} byte limit (a corrupt length field)"
                        ),
                    });
                }
                buffer_size *= 4;
                reader.grow(buffer_size);
                if reader.refill().is_err() {
                    return Err(CaptureError::Io {
                        path: path_buf,
                        error: std::io::Error::other("read failed"),
                    });
                }
            }
            Err(PcapError::UnexpectedEof) => {
                // The file ends inside a record. If the record claims more than any real one
                // could hold, its length field is corrupt; otherwise the capture was cut.
                let claimed = claimed_len(reader.data(), stats.format == "pcapng", big_endian);
                if claimed.is_some_and(|n| n > MAX_RECORD_BYTES as u64) {
                    return Err(CaptureError::Corrupt {
                        path: path_buf,
                        offset: at,
                        frames: stats.frames,
                        detail: format!(
                            "a record claims {} bytes, over the {MAX_RECORD_BYTES} byte limit (a corrupt length field)",
                            claimed.unwrap_or(0)
                        ),
                    });
                }
                stats.truncated_at = Some(at);
                break;
            }
            Err(e) => {
                return Err(CaptureError::Corrupt {
                    path: path_buf,
                    offset: at,
                    frames: stats.frames,
                    detail: describe(&e),
                })
            }
        }
    }
    Ok(stats)
}

/// The length a record header at the start of `data` claims: pcap's captured length (bytes
/// 8..12 of the record header) or pcapng's block total length (bytes 4..8).
fn claimed_len(data: &[u8], pcapng: bool, big_endian: bool) -> Option<u64> {
    let range = if pcapng { 4..8 } else { 8..12 };
    let b: [u8; 4] = data.get(range)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    } as u64)
}

fn describe(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) => format!("unparseable block ({kind:?})"),
        PcapError::OwnedNomError(_, kind) => format!("unparseable block ({kind:?})"),
        PcapError::HeaderNotRecognized => "unrecognised block header".into(),
        other => format!("{other:?}"),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn deliver(
    stats: &mut ReplayStats,
    linktype: Linktype,
    link: Option<Link>,
    ts: u64,
    data: &[u8],
    caplen: u32,
    origlen: u32,
    f: &mut impl FnMut(u64, Link, &[u8]),
) {
    let Some(link) = link else {
        stats.skipped_linktype += 1;
        if !stats.other_linktypes.contains(&linktype.0) && stats.other_linktypes.len() < 8 {
            stats.other_linktypes.push(linktype.0);
        }
        return;
    };
    if caplen < origlen {
        stats.cut_by_snaplen += 1;
    }
    stats.frames += 1;
    f(ts, link, data);
}

/// A live capture on one interface through an AF_PACKET socket: every frame the interface
/// receives or sends (the DNS answers a device receives are frames the gateway sends).
pub struct LiveCapture {
    iface: String,
    ifindex: usize,
    fd: std::os::fd::OwnedFd,
    buf: Vec<u8>,
}

/// Receive buffer asked for a live capture: about 10 000 small frames, a few hundred ms of a
/// busy home LAN.
pub(crate) const LIVE_RCVBUF: usize = 8 << 20;

impl LiveCapture {
    /// Open a capture on `iface` (needs CAP_NET_RAW). `poll` bounds how long
    /// [`LiveCapture::next_frame`] waits, so the caller can run timers between frames.
    pub fn open(iface: &str, poll: std::time::Duration) -> Result<Self, CaptureError> {
        use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockProtocol, SockType};
        let err = |detail: String| CaptureError::Live {
            iface: iface.to_string(),
            detail,
        };
        let ifindex = nix::net::if_::if_nametoindex(iface)
            .map_err(|e| err(format!("no such interface ({e})")))? as usize;
        let fd = socket::socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )
        .map_err(|e| {
            err(format!(
                "cannot open an AF_PACKET socket ({e}); this needs root or CAP_NET_RAW"
            ))
        })?;
        socket::setsockopt(
            &fd,
            sockopt::ReceiveTimeout,
            &nix::sys::time::TimeVal::new(poll.as_secs() as i64, poll.subsec_micros() as i64),
        )
        .map_err(|e| err(format!("setsockopt SO_RCVTIMEO: {e}")))?;
        // A burst (a MAC flood, a scan) must wait in the kernel while the reading thread is
        // descheduled, not be dropped: the default ~200 KiB holds only a few hundred frames.
        // SO_RCVBUFFORCE (root) passes net.core.rmem_max; without it, ask for what is allowed.
        if socket::setsockopt(&fd, sockopt::RcvBufForce, &LIVE_RCVBUF).is_err() {
            let _ = socket::setsockopt(&fd, sockopt::RcvBuf, &LIVE_RCVBUF);
        }
        Ok(LiveCapture {
            iface: iface.to_string(),
            ifindex,
            fd,
            buf: vec![0; 65_536 + 64],
        })
    }

    /// The next frame on the interface with its arrival time (ns since the epoch), or `None`
    /// when the poll interval passed without one.
    pub fn next_frame(&mut self) -> Result<Option<(u64, &[u8])>, CaptureError> {
        use nix::sys::socket::{recvfrom, LinkAddr};
        use std::os::fd::AsRawFd;
        loop {
            match recvfrom::<LinkAddr>(self.fd.as_raw_fd(), &mut self.buf) {
                Ok((n, Some(addr))) if addr.ifindex() == self.ifindex => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos() as u64)
                        .unwrap_or(0);
                    return Ok(Some((now, &self.buf[..n.min(self.buf.len())])));
                }
                Ok(_) => continue, // another interface
                Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EINTR) => return Ok(None),
                Err(e) => {
                    return Err(CaptureError::Live {
                        iface: self.iface.clone(),
                        detail: format!("recvfrom: {e}"),
                    })
                }
            }
        }
    }
}
