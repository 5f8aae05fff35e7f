//! Link layers other than Ethernet: what real captures use besides it (tcpdump on `-i any`,
//! on a tun/PPP/WireGuard interface, on BSD loopback, from NFLOG, on a Wi-Fi monitor
//! interface). Each reader strips its link header and hands the payload to `etherparse`
//! (`LaxSlicedPacket::from_ether_type` / `from_ip`), so IP and transport decoding is the
//! same as for Ethernet.
//!
//! The link headers are read here, by hand, because no maintained crate reads them as
//! captures have them: `etherparse` reads Linux cooked v1 but refuses the ARPHRD types a
//! `-i any` capture carries besides Ethernet (loopback 772, PPP 512, none 0xfffe for tun and
//! WireGuard) and has no SLL2, NFLOG, BSD null, PPP or 802.11; the 802.11/radiotap crates
//! on crates.io (`ieee80211`, `radiotap`) are unmaintained or parse far more than the three
//! address fields and LLC/SNAP header needed. Every reader checks each length before it
//! reads, and none allocates.
//!
//! Link-layer addresses: Linux cooked captures carry the sender's (6-byte) MAC only, 802.11
//! carries both; the others carry none. The decoder says which ones a frame carried, and the
//! monitor names devices seen without one by their IP address (see `Monitor::process_link`).

use crate::packet::{decode_sliced, Mac, Packet, Skip};
use etherparse::{EtherType, LaxSlicedPacket};

/// A link type the monitor reads (pcap `LINKTYPE_*` numbers in [`Link::from_linktype`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    /// Ethernet II (1).
    Ethernet,
    /// BSD loopback/null (0): a 4-byte address family in the capturing host's byte order.
    Null,
    /// OpenBSD loopback (108): the address family in network byte order.
    Loop,
    /// PPP (9) and PPP in HDLC-like framing (50): optional `ff 03`, then the protocol.
    Ppp,
    /// Raw IP (101; 12 and 14 on some BSDs) and raw IPv4/IPv6 (228/229): the IP header first.
    RawIp,
    /// IEEE 802.11 (105), data frames with LLC/SNAP.
    Ieee80211,
    /// Radiotap (127) in front of an 802.11 frame.
    Radiotap,
    /// Linux cooked capture v1 (113).
    LinuxSll,
    /// Linux cooked capture v2 (276).
    LinuxSll2,
    /// Linux netfilter log (239): the packet inside the NFULA_PAYLOAD TLV.
    Nflog,
}

impl Link {
    /// The link type of a pcap/pcapng `LINKTYPE_*` value, or `None` when the monitor does
    /// not read it.
    pub fn from_linktype(linktype: i32) -> Option<Link> {
        Some(match linktype {
            1 => Link::Ethernet,
            0 => Link::Null,
            108 => Link::Loop,
            9 | 50 => Link::Ppp,
            101 | 12 | 14 | 228 | 229 => Link::RawIp,
            105 => Link::Ieee80211,
            127 => Link::Radiotap,
            113 => Link::LinuxSll,
            276 => Link::LinuxSll2,
            239 => Link::Nflog,
            _ => return None,
        })
    }

    /// A short name for reports (`"ethernet"`, `"linux-sll2"` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Link::Ethernet => "ethernet",
            Link::Null => "bsd-null",
            Link::Loop => "bsd-loop",
            Link::Ppp => "ppp",
            Link::RawIp => "raw-ip",
            Link::Ieee80211 => "802.11",
            Link::Radiotap => "802.11-radiotap",
            Link::LinuxSll => "linux-sll",
            Link::LinuxSll2 => "linux-sll2",
            Link::Nflog => "nflog",
        }
    }
}

/// A name for a `LINKTYPE_*` value in messages (the tcpdump names; the number otherwise).
pub fn linktype_name(linktype: i32) -> String {
    let name = match linktype {
        0 => "NULL",
        1 => "ETHERNET",
        6 => "IEEE802_5 (token ring)",
        8 => "SLIP",
        9 => "PPP",
        10 => "FDDI",
        50 => "PPP_HDLC",
        101 => "RAW",
        105 => "IEEE802_11",
        108 => "LOOP",
        113 => "LINUX_SLL",
        119 => "PRISM_HEADER",
        127 => "IEEE802_11_RADIOTAP",
        143 => "DOCSIS",
        147..=162 => "USER",
        163 => "IEEE802_11_AVS",
        187 => "BLUETOOTH_HCI_H4",
        189 => "USB_LINUX",
        192 => "PPI",
        195 => "IEEE802_15_4",
        220 => "USB_LINUX_MMAPPED",
        227 => "CAN_SOCKETCAN",
        228 => "IPV4",
        229 => "IPV6",
        239 => "NFLOG",
        249 => "USBPCAP",
        253 => "NETLINK",
        276 => "LINUX_SLL2",
        _ => return format!("{linktype}"),
    };
    format!("{linktype} ({name})")
}

/// Which of the packet's MACs its link layer carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct LinkMacs {
    pub(crate) src: bool,
    pub(crate) dst: bool,
}

/// Decode a frame of `link`. MACs the link does not carry are all-zero in the packet and
/// `false` in [`LinkMacs`].
pub(crate) fn decode_link(link: Link, frame: &[u8]) -> Result<(Packet<'_>, LinkMacs), Skip> {
    const NONE: Mac = Mac([0; 6]);
    match link {
        Link::Ethernet => crate::packet::decode(frame).map(|p| {
            (
                p,
                LinkMacs {
                    src: true,
                    dst: true,
                },
            )
        }),
        Link::RawIp => ip(frame, NONE, NONE, LinkMacs::default()),
        Link::Null | Link::Loop => {
            // The address family: AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24
            // (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS). Null is in the capturing host's
            // byte order, so both are tried.
            let h: [u8; 4] = frame.get(..4).ok_or(Skip::Malformed)?.try_into().unwrap();
            let le = u32::from_le_bytes(h);
            let be = u32::from_be_bytes(h);
            let af = if link == Link::Loop || le > 0xffff {
                be
            } else {
                le
            };
            match af {
                2 | 10 | 23 | 24 | 28 | 30 => ip(&frame[4..], NONE, NONE, LinkMacs::default()),
                _ => Err(Skip::NotIp),
            }
        }
        Link::Ppp => {
            // RFC 1662: address 0xff and control 0x03 may be there (HDLC-like framing) or
            // not; RFC 1661 §6.5: the protocol field may be compressed to one (odd) byte.
            let mut b = frame;
            if b.len() >= 2 && b[0] == 0xff && b[1] == 0x03 {
                b = &b[2..];
            }
            let (proto, rest) = match b {
                [p, rest @ ..] if p & 1 == 1 => (*p as u16, rest),
                [hi, lo, rest @ ..] => (u16::from_be_bytes([*hi, *lo]), rest),
                _ => return Err(Skip::Malformed),
            };
            match proto {
                0x0021 | 0x0057 => ip(rest, NONE, NONE, LinkMacs::default()),
                _ => Err(Skip::NotIp),
            }
        }
        Link::LinuxSll => {
            // packet type, ARPHRD type, address length, 8 address bytes, protocol.
            let h = frame.get(..16).ok_or(Skip::Malformed)?;
            let packet_type = u16::from_be_bytes([h[0], h[1]]);
            let hatype = u16::from_be_bytes([h[2], h[3]]);
            let alen = u16::from_be_bytes([h[4], h[5]]);
            let proto = u16::from_be_bytes([h[14], h[15]]);
            cooked(packet_type, hatype, alen, &h[6..14], proto, &frame[16..])
        }
        Link::LinuxSll2 => {
            // protocol, reserved, interface index, ARPHRD type, packet type, address
            // length, 8 address bytes.
            let h = frame.get(..20).ok_or(Skip::Malformed)?;
            let proto = u16::from_be_bytes([h[0], h[1]]);
            let hatype = u16::from_be_bytes([h[8], h[9]]);
            let packet_type = h[10] as u16;
            let alen = h[11] as u16;
            cooked(packet_type, hatype, alen, &h[12..20], proto, &frame[20..])
        }
        Link::Nflog => nflog(frame),
        Link::Ieee80211 => ieee80211(frame),
        Link::Radiotap => {
            // version 0, pad, length (little-endian), present flags.
            let h = frame.get(..4).ok_or(Skip::Malformed)?;
            let len = u16::from_le_bytes([h[2], h[3]]) as usize;
            if h[0] != 0 || len < 8 || len > frame.len() {
                return Err(Skip::Malformed);
            }
            ieee80211(&frame[len..])
        }
    }
}

/// An IP packet (version from its first nibble).
fn ip<'a>(b: &'a [u8], src: Mac, dst: Mac, macs: LinkMacs) -> Result<(Packet<'a>, LinkMacs), Skip> {
    let sliced = LaxSlicedPacket::from_ip(b).map_err(|_| Skip::Malformed)?;
    Ok((decode_sliced(sliced, src, dst)?, macs))
}

/// A payload of EtherType `proto` (IPv4, IPv6, VLAN, ARP …).
fn ether<'a>(
    proto: u16,
    b: &'a [u8],
    src: Mac,
    dst: Mac,
    macs: LinkMacs,
) -> Result<(Packet<'a>, LinkMacs), Skip> {
    if proto < 0x0600 {
        return Err(Skip::NotIp); // 802.3 length, Novell, LLC, CAN …: not IP
    }
    let sliced = LaxSlicedPacket::from_ether_type(EtherType(proto), b);
    Ok((decode_sliced(sliced, src, dst)?, macs))
}

/// The rest of a Linux cooked header: the sender's MAC when it is a 6-byte Ethernet-like
/// address (ARPHRD_ETHER 1, ARPHRD_IEEE80211 801), the destination's only for broadcast.
fn cooked<'a>(
    packet_type: u16,
    hatype: u16,
    alen: u16,
    addr: &[u8],
    proto: u16,
    payload: &'a [u8],
) -> Result<(Packet<'a>, LinkMacs), Skip> {
    let mut macs = LinkMacs::default();
    let mut src = Mac([0; 6]);
    if alen == 6 && matches!(hatype, 1 | 801) && addr[..6] != [0; 6] {
        src.0.copy_from_slice(&addr[..6]);
        macs.src = !src.is_group();
    }
    let mut dst = Mac([0; 6]);
    if packet_type == 1 {
        dst = Mac([0xff; 6]); // PACKET_BROADCAST
        macs.dst = true;
    }
    // ARPHRD_IPGRE/ARPHRD_NETLINK payloads are not Ethernet payloads.
    if matches!(hatype, 778 | 824) {
        return Err(Skip::NotIp);
    }
    ether(proto, payload, src, dst, macs)
}

/// NFLOG (libpcap's `LINKTYPE_NFLOG`): family, version, resource id, then TLVs whose length
/// (header included) and type are in the capturing host's byte order, each padded to 4 bytes;
/// the packet is in NFULA_PAYLOAD (type 9).
fn nflog(frame: &[u8]) -> Result<(Packet<'_>, LinkMacs), Skip> {
    const NFULA_PAYLOAD: u16 = 9;
    let h = frame.get(..4).ok_or(Skip::Malformed)?;
    if h[1] != 0 {
        return Err(Skip::Malformed); // version 0 is the only one
    }
    let tlvs = &frame[4..];
    // The byte order is the capturing host's: try little-endian first (nearly every Linux
    // host), then big-endian; the right one walks the TLVs to the end.
    for le in [true, false] {
        let mut b = tlvs;
        let mut payload = None;
        let mut ok = true;
        for _ in 0..64 {
            if b.is_empty() {
                break;
            }
            let Some(t) = b.get(..4) else {
                ok = false;
                break;
            };
            let (len, kind) = if le {
                (
                    u16::from_le_bytes([t[0], t[1]]),
                    u16::from_le_bytes([t[2], t[3]]),
                )
            } else {
                (
                    u16::from_be_bytes([t[0], t[1]]),
                    u16::from_be_bytes([t[2], t[3]]),
                )
            };
            let len = len as usize;
            if len < 4 || len > b.len() {
                ok = false;
                break;
            }
            if kind & 0x7fff == NFULA_PAYLOAD && payload.is_none() {
                payload = Some(&b[4..len]);
            }
            let padded = (len + 3) & !3;
            b = &b[padded.min(b.len())..];
        }
        if let (true, Some(p)) = (ok, payload) {
            return match h[0] {
                2 | 10 => ip(p, Mac([0; 6]), Mac([0; 6]), LinkMacs::default()),
                _ => Err(Skip::NotIp),
            };
        }
    }
    Err(Skip::Malformed)
}

/// An 802.11 frame (IEEE 802.11-2020 §9.2): data frames carrying LLC/SNAP (RFC 1042 or
/// 802.1H bridge tunnel) are decoded; management, control, null-data and protected
/// (encrypted) frames are not IP here.
fn ieee80211(frame: &[u8]) -> Result<(Packet<'_>, LinkMacs), Skip> {
    let fc = frame.get(..2).ok_or(Skip::Malformed)?;
    let (kind, subtype, flags) = ((fc[0] >> 2) & 3, fc[0] >> 4, fc[1]);
    if kind != 2 {
        return Err(Skip::NotIp); // management, control, extension
    }
    if subtype & 0x4 != 0 {
        return Err(Skip::NotIp); // null data, no payload
    }
    if flags & 0x40 != 0 {
        return Err(Skip::NotIp); // protected: the payload is encrypted
    }
    let (to_ds, from_ds) = (flags & 1 != 0, flags & 2 != 0);
    let mut len = 24 + if to_ds && from_ds { 6 } else { 0 };
    let qos = subtype & 0x8 != 0;
    if qos {
        len += 2;
        if flags & 0x80 != 0 {
            len += 4; // +HTC
        }
    }
    let h = frame.get(..len).ok_or(Skip::Malformed)?;
    let addr = |i: usize| {
        let mut m = [0u8; 6];
        m.copy_from_slice(&h[4 + 6 * i..10 + 6 * i]);
        Mac(m)
    };
    // §9.3.2.1 Table 9-30: DA/SA by the To DS and From DS bits.
    let (dst, src) = match (to_ds, from_ds) {
        (false, false) => (addr(0), addr(1)),
        (true, false) => (addr(2), addr(1)),
        (false, true) => (addr(0), addr(2)),
        (true, true) => (addr(2), {
            let mut m = [0u8; 6];
            m.copy_from_slice(&h[24..30]);
            Mac(m)
        }),
    };
    let body = &frame[len..];
    // A-MSDU (QoS control bit 7) carries subframes, not one LLC header.
    if qos && h[len - if flags & 0x80 != 0 { 6 } else { 2 }] & 0x80 != 0 {
        return Err(Skip::NotIp);
    }
    match body {
        [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00 | 0xf8, hi, lo, rest @ ..] => ether(
            u16::from_be_bytes([*hi, *lo]),
            rest,
            src,
            dst,
            LinkMacs {
                src: !src.is_group(),
                dst: true,
            },
        ),
        _ => Err(Skip::NotIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn ipv4_udp() -> Vec<u8> {
        let b = PacketBuilder::ipv4([192, 168, 1, 5], [8, 8, 8, 8], 64).udp(40000, 53);
        let mut v = Vec::new();
        b.write(&mut v, &[1, 2, 3]).unwrap();
        v
    }

    fn check(link: Link, frame: &[u8]) -> (Packet<'_>, LinkMacs) {
        let (p, m) = decode_link(link, frame).unwrap();
        assert_eq!(p.src.to_string(), "192.168.1.5");
        assert_eq!(p.dst.to_string(), "8.8.8.8");
        assert_eq!((p.sport, p.dport), (40000, 53));
        (p, m)
    }

    #[test]
    fn every_link_header_reaches_the_ip_packet() {
        let ip = ipv4_udp();
        check(Link::RawIp, &ip);
        for null in [[2u8, 0, 0, 0], [0, 0, 0, 2]] {
            check(Link::Null, &[&null[..], &ip].concat());
        }
        check(Link::Loop, &[&[0u8, 0, 0, 2][..], &ip].concat());
        check(Link::Ppp, &[&[0xffu8, 0x03, 0x00, 0x21][..], &ip].concat());
        check(Link::Ppp, &[&[0x21u8][..], &ip].concat());
        let mut sll = vec![0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&ip);
        let (p, m) = check(Link::LinuxSll, &sll);
        assert_eq!(p.src_mac, Mac([2, 0, 0, 0, 0, 9]));
        assert_eq!(
            m,
            LinkMacs {
                src: true,
                dst: false
            }
        );
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 9, 0, 0,
        ];
        sll2.extend_from_slice(&ip);
        check(Link::LinuxSll2, &sll2);
        // ARPHRD_NONE (a tun interface on `-i any`): no MAC, still IP.
        let mut tun = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 3, 0xff, 0xfe, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        tun.extend_from_slice(&ip);
        let (_, m) = check(Link::LinuxSll2, &tun);
        assert_eq!(m, LinkMacs::default());
        // NFLOG: header, a prefix TLV, the payload TLV (little-endian lengths).
        let mut nf = vec![2, 0, 0, 1];
        nf.extend_from_slice(&[8, 0, 10, 0, b'a', b'b', 0, 0]);
        nf.extend_from_slice(&((4 + ip.len()) as u16).to_le_bytes());
        nf.extend_from_slice(&9u16.to_le_bytes());
        nf.extend_from_slice(&ip);
        check(Link::Nflog, &nf);
        // 802.11 data frame to the AP (To DS): A1 BSSID, A2 SA, A3 DA; LLC/SNAP IPv4.
        let mut w = vec![0x08, 0x01, 0, 0];
        w.extend_from_slice(&[0x02, 0, 0, 0, 0, 0xaa]); // BSSID
        w.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x05]); // SA
        w.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01]); // DA
        w.extend_from_slice(&[0, 0]);
        w.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        w.extend_from_slice(&ip);
        let (p, m) = check(Link::Ieee80211, &w);
        assert_eq!(p.src_mac, Mac([2, 0, 0, 0, 0, 5]));
        assert_eq!(p.dst_mac, Mac([2, 0, 0, 0, 0, 1]));
        assert_eq!(
            m,
            LinkMacs {
                src: true,
                dst: true
            }
        );
        let mut rt = vec![0, 0, 8, 0, 0, 0, 0, 0];
        rt.extend_from_slice(&w);
        check(Link::Radiotap, &rt);
        // Protected (encrypted) data is not IP; a cut header is malformed.
        let mut enc = w.clone();
        enc[1] |= 0x40;
        assert_eq!(decode_link(Link::Ieee80211, &enc).err(), Some(Skip::NotIp));
        assert_eq!(
            decode_link(Link::Ieee80211, &w[..10]).err(),
            Some(Skip::Malformed)
        );
        assert_eq!(
            decode_link(Link::LinuxSll2, &sll2[..12]).err(),
            Some(Skip::Malformed)
        );
        assert_eq!(
            decode_link(Link::Nflog, &nf[..9]).err(),
            Some(Skip::Malformed)
        );
    }
}
