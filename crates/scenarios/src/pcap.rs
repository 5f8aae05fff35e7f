//! Frames in the making and the capture files they become: legacy pcap (microsecond
//! timestamps) and pcapng (one section, one Ethernet interface, nanosecond resolution), both
//! written with `pcap-parser`'s serializer.

use pcap_parser::pcapng::{
    EnhancedPacketBlock, InterfaceDescriptionBlock, OptionCode, PcapNGOption, SectionHeaderBlock,
};
use pcap_parser::{LegacyPcapBlock, Linktype, PcapHeader, ToVec};
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

use crate::NS;

/// Timestamped frames in time order (nanoseconds since the epoch, Ethernet bytes).
pub type Frames = Vec<(u64, Vec<u8>)>;

/// Frames in the making, sorted by time before writing.
#[derive(Debug, Default)]
pub struct Capture {
    /// (time, insertion number, frame): the insertion number keeps equal times stable.
    frames: Vec<(u64, u64, Vec<u8>)>,
    seq: u64,
}

impl Capture {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one frame seen at packet time `t` (ns).
    pub fn push(&mut self, t: u64, frame: Vec<u8>) {
        self.frames.push((t, self.seq, frame));
        self.seq += 1;
    }

    /// How many frames so far.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame was added.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Frames in time order (stable for equal times).
    pub fn sorted(mut self) -> Frames {
        self.frames.sort_by_key(|(t, s, _)| (*t, *s));
        self.frames.into_iter().map(|(t, _, f)| (t, f)).collect()
    }
}

/// Writes a legacy pcap (microsecond timestamps, Ethernet).
pub fn write_pcap(path: &Path, frames: &[(u64, Vec<u8>)]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut header = PcapHeader::new();
    header.snaplen = 65_535;
    header.network = Linktype::ETHERNET;
    out.write_all(&header.to_vec().map_err(std::io::Error::other)?)?;
    for (t, f) in frames {
        write_pcap_record(&mut out, *t, f)?;
    }
    out.flush()
}

/// Writes one legacy pcap record (no file header) for a frame seen at `t` (ns).
pub fn write_pcap_record(out: &mut impl Write, t: u64, f: &[u8]) -> std::io::Result<()> {
    let rec = LegacyPcapBlock {
        ts_sec: (t / NS) as u32,
        ts_usec: ((t % NS) / 1000) as u32,
        caplen: f.len() as u32,
        origlen: f.len() as u32,
        data: f,
    };
    out.write_all(&rec.to_vec_raw().map_err(std::io::Error::other)?)
}

/// Writes a pcapng file (one section, one Ethernet interface, nanosecond resolution).
pub fn write_pcapng(path: &Path, frames: &[(u64, Vec<u8>)]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut shb = SectionHeaderBlock {
        block_type: 0,
        block_len1: 0,
        bom: 0x1a2b_3c4d,
        major_version: 1,
        minor_version: 0,
        section_len: -1,
        options: vec![],
        block_len2: 0,
    };
    out.write_all(&shb.to_vec().map_err(std::io::Error::other)?)?;
    let mut idb = InterfaceDescriptionBlock {
        block_type: 0,
        block_len1: 0,
        linktype: Linktype::ETHERNET,
        reserved: 0,
        snaplen: 65_535,
        // if_tsresol 9: timestamps count nanoseconds (pcapng §4.2).
        options: vec![PcapNGOption {
            code: OptionCode::IfTsresol,
            len: 1,
            value: Cow::Borrowed(&[9u8]),
        }],
        block_len2: 0,
        if_tsresol: 9,
        if_tsoffset: 0,
    };
    out.write_all(&idb.to_vec().map_err(std::io::Error::other)?)?;
    for (t, f) in frames {
        let mut epb = EnhancedPacketBlock {
            block_type: 0,
            block_len1: 0,
            if_id: 0,
            ts_high: (t >> 32) as u32,
            ts_low: *t as u32,
            caplen: f.len() as u32,
            origlen: f.len() as u32,
            data: f,
            options: vec![],
            block_len2: 0,
        };
        out.write_all(&epb.to_vec().map_err(std::io::Error::other)?)?;
    }
    out.flush()
}
