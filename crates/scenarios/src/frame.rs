//! Single Ethernet/IPv4 frames, built with `etherparse`'s `PacketBuilder`: who sends to whom
//! ([`Host`]), a TCP segment's header fields ([`Tcp`]), UDP datagrams, multicast MACs, and the
//! random public addresses a scanner picks.

use etherparse::PacketBuilder;
use mud::Mac;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::net::Ipv4Addr;

use crate::GATEWAY_MAC;

/// One end of a frame: the MAC on the wire and the IPv4 address in the header. A LAN host has
/// its own MAC; anything on the internet is reached through the router, so frames to and from
/// it carry the gateway's MAC ([`Host::internet`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    /// The MAC address on the wire.
    pub mac: Mac,
    /// The IPv4 address in the header.
    pub ip: Ipv4Addr,
}

impl Host {
    /// A LAN host with its own MAC.
    pub const fn new(mac: [u8; 6], ip: [u8; 4]) -> Host {
        Host {
            mac: Mac(mac),
            ip: Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]),
        }
    }

    /// An internet address as the LAN sees it: behind the gateway's MAC.
    pub const fn internet(ip: Ipv4Addr) -> Host {
        Host {
            mac: GATEWAY_MAC,
            ip,
        }
    }

    /// The same MAC at another address (a DHCP renumbering).
    pub const fn at(self, ip: Ipv4Addr) -> Host {
        Host { mac: self.mac, ip }
    }
}

/// A TCP segment's header fields (RFC 9293 §3.1), the window fixed at 64 240 and no options.
#[derive(Clone, Copy, Debug)]
pub struct Tcp {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Control bits, one letter each: `S`YN, `A`CK, `F`IN, `R`ST, `P`SH.
    pub flags: &'static str,
    /// Acknowledgment number, written only when `flags` holds `A`.
    pub ack: u32,
}

impl Tcp {
    /// A segment with no acknowledgment number.
    pub const fn new(sport: u16, dport: u16, seq: u32, flags: &'static str) -> Tcp {
        Tcp {
            sport,
            dport,
            seq,
            flags,
            ack: 0,
        }
    }

    /// The same segment acknowledging `ack`.
    pub const fn ack(self, ack: u32) -> Tcp {
        Tcp { ack, ..self }
    }
}

/// An Ethernet/IPv4/TCP frame from `from` to `to` (TTL 64).
pub fn tcp_frame(from: Host, to: Host, tcp: Tcp, payload: &[u8]) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2(from.mac.0, to.mac.0)
        .ipv4(from.ip.octets(), to.ip.octets(), 64)
        .tcp(tcp.sport, tcp.dport, tcp.seq, 64_240);
    for c in tcp.flags.chars() {
        b = match c {
            'S' => b.syn(),
            'A' => b.ack(tcp.ack),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            _ => b,
        };
    }
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).expect("write to Vec");
    v
}

/// An Ethernet/IPv4/UDP frame from `from` to `to` (TTL 64).
pub fn udp_frame(from: Host, to: Host, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(from.mac.0, to.mac.0)
        .ipv4(from.ip.octets(), to.ip.octets(), 64)
        .udp(sport, dport);
    let mut v = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut v, payload).expect("write to Vec");
    v
}

/// The multicast group as a destination host: its MAC per RFC 1112 §6.4 (01:00:5e and the low
/// 23 bits of the group address).
pub fn multicast(group: Ipv4Addr) -> Host {
    let o = group.octets();
    Host {
        mac: Mac([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]),
        ip: group,
    }
}

/// A random routable IPv4 address outside private, loopback, multicast, link-local, shared
/// (RFC 6598) and reserved space, as Mirai's scanner picks them.
pub fn random_public(rng: &mut ChaCha8Rng) -> Ipv4Addr {
    loop {
        let a = Ipv4Addr::from(rng.random::<u32>());
        let o = a.octets();
        if a.is_private()
            || a.is_loopback()
            || a.is_multicast()
            || a.is_link_local()
            || o[0] == 0
            || o[0] >= 224
            || (o[0] == 100 && (o[1] & 0xc0) == 64)
        {
            continue;
        }
        return a;
    }
}
