//! One frame decoded into the few fields the monitor needs, with `etherparse` doing the parsing.
//!
//! Truncated frames (a capture's snaplen shorter than the packet) are still decoded as far as
//! they go (`LaxSlicedPacket`), so a 96-byte snaplen capture still yields addresses and ports.
//!
//! IPv4 fragments: etherparse decodes no transport header in a fragmented datagram. The first
//! fragment (offset 0) still starts with it, so its ports (and TCP flags, when the whole TCP
//! header is there) are read from it here; later fragments carry no ports at all and are marked
//! [`Fragment::Later`] for the detectors to count.

use etherparse::{LaxNetSlice, LaxSlicedPacket, LinkSlice, TransportSlice};
use std::net::IpAddr;

pub use mud::Mac;

/// IANA protocol numbers the detectors care about.
pub(crate) const TCP: u8 = 6;
pub(crate) const UDP: u8 = 17;

/// TCP header facts (RFC 9293 §3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tcp {
    /// Sequence number (Mirai's SYNs set it to the destination IPv4 address).
    pub seq: u32,
    /// SYN flag: the packet opens a connection (with ACK: accepts one).
    pub syn: bool,
    /// ACK flag: the acknowledgment number is valid.
    pub ack: bool,
    /// RST flag: the connection is refused or torn down.
    pub rst: bool,
    /// FIN flag: the sender has no more data.
    pub fin: bool,
    /// Length of the options field in bytes; Mirai's SYNs carry none.
    pub options_len: usize,
}

/// Where an IPv4 packet sits in a fragmented datagram (RFC 791 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fragment {
    /// A whole datagram.
    #[default]
    Whole,
    /// Offset 0, more fragments follow: the transport header (or its start) is here.
    First,
    /// Offset > 0: no transport header, no ports.
    Later,
}

/// The decoded frame. `payload` is the transport payload (possibly cut short by the snaplen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Ethernet source address (all zero when the link carries none).
    pub src_mac: Mac,
    /// Ethernet destination address (all zero when the link carries none).
    pub dst_mac: Mac,
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address.
    pub dst: IpAddr,
    /// IP protocol number (IPv6: of the header after any extension headers).
    pub proto: u8,
    /// TCP or UDP source port; 0 for other protocols and later fragments.
    pub sport: u16,
    /// TCP or UDP destination port; 0 for other protocols and later fragments.
    pub dport: u16,
    /// The TCP header's facts, when it is TCP and the header is there whole.
    pub tcp: Option<Tcp>,
    /// The transport payload.
    pub payload: &'a [u8],
    /// IPv4 TTL or IPv6 hop limit (neighbour discovery requires 255, RFC 4861 §6.1.2).
    pub hop_limit: u8,
    /// Where the packet sits in a fragmented IPv4 datagram; always `Whole` for IPv6.
    pub fragment: Fragment,
    /// IPv4 identification (RFC 791): ties a datagram's fragments together; 0 for IPv6.
    pub ip_id: u16,
}

/// Why a frame was not decoded; counted, never fatal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Shorter than an Ethernet header, or the IP header is cut.
    Malformed,
    /// ARP, LLDP, … — not IP.
    NotIp,
}

/// Decode an Ethernet II frame.
#[inline]
pub fn decode(frame: &[u8]) -> Result<Packet<'_>, Skip> {
    if let Some(p) = decode_common(frame) {
        return Ok(p);
    }
    decode_lax(frame)
}

/// [`decode`] with `etherparse` for every frame (no fast path): the reference the fast path
/// is tested against.
#[inline]
pub fn decode_lax(frame: &[u8]) -> Result<Packet<'_>, Skip> {
    let sliced = LaxSlicedPacket::from_ethernet(frame).map_err(|_| Skip::Malformed)?;
    let (src_mac, dst_mac) = match &sliced.link {
        Some(LinkSlice::Ethernet2(eth)) => (Mac(eth.source()), Mac(eth.destination())),
        _ => return Err(Skip::Malformed),
    };
    decode_sliced(sliced, src_mac, dst_mac)
}

/// The frames that make up nearly all traffic, decoded straight from their bytes: Ethernet II
/// without VLAN tags, then an IPv4 datagram that is not fragmented or an IPv6 packet without
/// extension headers, then a complete TCP or UDP header (or any other protocol's payload).
/// `None` for anything else (or anything odd: bad lengths, a cut header), which
/// [`decode_lax`] then decodes with `etherparse`.
///
/// Why by hand: `etherparse`'s lax slicing builds a large value describing every layer it
/// might meet (VLANs, IPv6 extension headers, errors) and moves it several times per frame;
/// on the monitor's mixed benchmark that was a fifth of all the time spent per packet. The
/// result must be exactly what [`decode_lax`] gives, which `tests/fast_decode.rs` checks on
/// every frame of the real-world and generated captures and on mutated frames.
#[inline]
fn decode_common(frame: &[u8]) -> Option<Packet<'_>> {
    // IEEE 802.3 Ethernet II: destination (0..6), source (6..12), EtherType (12..14).
    let eth = frame.get(..14)?;
    let dst_mac = Mac(eth[0..6].try_into().ok()?);
    let src_mac = Mac(eth[6..12].try_into().ok()?);
    let data = &frame[14..];
    let (src, dst, proto, ip_payload, hop_limit, ip_id) =
        match u16::from_be_bytes([eth[12], eth[13]]) {
            0x0800 => {
                // RFC 791 §3.1: version and IHL (0), total length (2..4), identification (4..6),
                // flags and fragment offset (6..8), TTL (8), protocol (9), addresses (12..20).
                let h = data.get(..20)?;
                let ihl = usize::from(h[0] & 0x0f) * 4;
                let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
                let frag = u16::from_be_bytes([h[6], h[7]]);
                // Not version 4, a bad header length, a total shorter than the header, a
                // fragment (MF set or an offset), or an authentication header (RFC 4302, which
                // etherparse reads past for IPv4 too): the careful path.
                if h[0] >> 4 != 4
                    || ihl < 20
                    || data.len() < ihl
                    || total < ihl
                    || frag & 0x3fff != 0
                    || h[9] == 51
                {
                    return None;
                }
                let end = total.min(data.len());
                (
                    IpAddr::from(<[u8; 4]>::try_from(&h[12..16]).ok()?),
                    IpAddr::from(<[u8; 4]>::try_from(&h[16..20]).ok()?),
                    h[9],
                    &data[ihl..end],
                    h[8],
                    u16::from_be_bytes([h[4], h[5]]),
                )
            }
            0x86dd => {
                // RFC 8200 §3: version (0), payload length (4..6), next header (6), hop limit (7),
                // addresses (8..40).
                let h = data.get(..40)?;
                let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
                let next = h[6];
                // Extension headers (RFC 8200 §4, and the ones IANA lists since), ESP, or a zero
                // payload length (a jumbogram's): the careful path.
                if h[0] >> 4 != 6
                    || len == 0
                    || matches!(
                        next,
                        0 | 43 | 44 | 50 | 51 | 60 | 135 | 139 | 140 | 253 | 254
                    )
                {
                    return None;
                }
                let end = (40 + len).min(data.len());
                (
                    IpAddr::from(<[u8; 16]>::try_from(&h[8..24]).ok()?),
                    IpAddr::from(<[u8; 16]>::try_from(&h[24..40]).ok()?),
                    next,
                    &data[40..end],
                    h[7],
                    0,
                )
            }
            _ => return None,
        };
    let mut p = Packet {
        src_mac,
        dst_mac,
        src,
        dst,
        proto,
        sport: 0,
        dport: 0,
        tcp: None,
        payload: ip_payload,
        hop_limit,
        fragment: Fragment::Whole,
        ip_id,
    };
    match proto {
        TCP => {
            // RFC 9293 §3.1: ports (0..4), sequence number (4..8), data offset (12), flags (13).
            let t = ip_payload.get(..20)?;
            let hlen = usize::from(t[12] >> 4) * 4;
            if hlen < 20 || ip_payload.len() < hlen {
                return None;
            }
            p.sport = u16::from_be_bytes([t[0], t[1]]);
            p.dport = u16::from_be_bytes([t[2], t[3]]);
            let flags = t[13];
            p.tcp = Some(Tcp {
                seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
                fin: flags & 0x01 != 0,
                syn: flags & 0x02 != 0,
                rst: flags & 0x04 != 0,
                ack: flags & 0x10 != 0,
                options_len: hlen - 20,
            });
            p.payload = &ip_payload[hlen..];
        }
        UDP => {
            // RFC 768: ports (0..4), length (4..6) counting the 8-byte header.
            let u = ip_payload.get(..8)?;
            let len = usize::from(u16::from_be_bytes([u[4], u[5]]));
            if len < 8 {
                return None;
            }
            p.sport = u16::from_be_bytes([u[0], u[1]]);
            p.dport = u16::from_be_bytes([u[2], u[3]]);
            p.payload = &ip_payload[8..len.min(ip_payload.len())];
        }
        // ICMP and the rest carry their own headers in the payload, which the detectors read.
        _ => {}
    }
    Some(p)
}

/// The network and transport layers of a sliced frame, with the link's MACs.
#[inline]
pub(crate) fn decode_sliced<'a>(
    sliced: LaxSlicedPacket<'a>,
    src_mac: Mac,
    dst_mac: Mac,
) -> Result<Packet<'a>, Skip> {
    let (src, dst, proto, ip_payload, hop_limit, fragment, ip_id) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            let fragment = if !v4.payload().fragmented {
                Fragment::Whole
            } else if h.fragments_offset().value() == 0 {
                Fragment::First
            } else {
                Fragment::Later
            };
            (
                IpAddr::from(h.source()),
                IpAddr::from(h.destination()),
                h.protocol().0,
                v4.payload().payload,
                h.ttl(),
                fragment,
                h.identification(),
            )
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            (
                IpAddr::from(h.source()),
                IpAddr::from(h.destination()),
                v6.payload().ip_number.0,
                v6.payload().payload,
                h.hop_limit(),
                Fragment::Whole,
                0,
            )
        }
        Some(LaxNetSlice::Arp(_)) | None => {
            return Err(if sliced.stop_err.is_some() {
                Skip::Malformed
            } else {
                Skip::NotIp
            })
        }
    };
    let mut p = Packet {
        src_mac,
        dst_mac,
        src,
        dst,
        proto,
        sport: 0,
        dport: 0,
        tcp: None,
        payload: ip_payload,
        hop_limit,
        fragment,
        ip_id,
    };
    if fragment == Fragment::First {
        first_fragment_ports(&mut p);
        return Ok(p);
    }
    match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            p.sport = t.source_port();
            p.dport = t.destination_port();
            p.tcp = Some(Tcp {
                seq: t.sequence_number(),
                syn: t.syn(),
                ack: t.ack(),
                rst: t.rst(),
                fin: t.fin(),
                options_len: t.options().len(),
            });
            p.payload = t.payload();
        }
        Some(TransportSlice::Udp(u)) => {
            p.sport = u.source_port();
            p.dport = u.destination_port();
            p.payload = u.payload();
        }
        _ => {}
    }
    Ok(p)
}

/// The transport header at the start of a first fragment. A TCP header cut inside its first
/// 20 bytes (RFC 1858's tiny-fragment attack: no stack with a legal MTU does that) keeps its
/// ports but no flags (`tcp: None`); the monitor counts it as a connection attempt.
fn first_fragment_ports(p: &mut Packet<'_>) {
    use etherparse::{TcpHeaderSlice, UdpHeaderSlice};
    let data = p.payload;
    if data.len() >= 4 && (p.proto == TCP || p.proto == UDP) {
        p.sport = u16::from_be_bytes([data[0], data[1]]);
        p.dport = u16::from_be_bytes([data[2], data[3]]);
    }
    if p.proto == TCP {
        if let Ok(t) = TcpHeaderSlice::from_slice(data) {
            p.tcp = Some(Tcp {
                seq: t.sequence_number(),
                syn: t.syn(),
                ack: t.ack(),
                rst: t.rst(),
                fin: t.fin(),
                options_len: t.options().len(),
            });
            p.payload = &data[t.slice().len()..];
        }
    } else if p.proto == UDP {
        if let Ok(u) = UdpHeaderSlice::from_slice(data) {
            p.payload = &data[u.slice().len()..];
        }
    }
}

/// Private, link-local, loopback or unspecified: an address that belongs to the home network
/// (RFC 1918, RFC 3927, RFC 4193, RFC 4291 §2.5.6), not the internet.
pub(crate) fn is_local(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            a.is_private() || a.is_link_local() || a.is_unspecified() || a.is_loopback()
        }
        IpAddr::V6(a) => {
            let s = a.segments()[0];
            (s & 0xfe00) == 0xfc00
                || (s & 0xffc0) == 0xfe80
                || a.is_unspecified()
                || a.is_loopback()
        }
    }
}

/// Multicast or the IPv4 limited/subnet broadcast: never a flood victim on the internet.
pub(crate) fn is_group_addr(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast() || a.octets()[3] == 255,
        IpAddr::V6(a) => a.is_multicast(),
    }
}
