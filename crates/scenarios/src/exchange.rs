//! The conversations a home network is made of, each written into a [`Capture`]: a DHCP
//! join (DISCOVER … ACK, with the MUD URL option when the device has one), DNS lookups, mDNS
//! announcements, SSDP searches, NTP polls and whole TCP connections. DHCP is encoded with
//! `dhcproto`, DNS and mDNS with `simple-dns`.
//!
//! Exchanges that draw random numbers (a DNS id, a TCP port, a round-trip time) are methods of
//! [`Scene`], so every draw comes from the scenario's one seeded generator in a fixed order.

use dhcproto::v4::{self, DhcpOption, MessageType, OptionCode};
use dhcproto::{Encodable, Encoder};
use mud::Mac;
use rand::RngExt;
use std::net::Ipv4Addr;

use crate::frame::{multicast, tcp_frame, udp_frame, Host, Tcp};
use crate::{Capture, Scene, GATEWAY, GATEWAY_IP};

/// DHCP client facts for a generated device.
#[derive(Clone, Debug, Default)]
pub struct DhcpClient {
    /// Option 12, Host Name.
    pub hostname: Option<String>,
    /// Option 60, Vendor Class Identifier.
    pub vendor_class: Option<String>,
    /// Option 161, the MUD URL (RFC 8520 §10).
    pub mud_url: Option<String>,
}

impl DhcpClient {
    /// A client that sends only its host name.
    pub fn named(hostname: &str) -> DhcpClient {
        DhcpClient {
            hostname: Some(hostname.into()),
            ..Default::default()
        }
    }
}

/// One DHCP message; `server_reply` messages come from the gateway, which is also the router
/// and the resolver it offers.
fn dhcp_message(
    kind: MessageType,
    xid: u32,
    client: Mac,
    yiaddr: Ipv4Addr,
    facts: &DhcpClient,
    server_reply: bool,
) -> Vec<u8> {
    let mut msg = v4::Message::default();
    msg.set_xid(xid)
        .set_chaddr(&client.0)
        .set_opcode(if server_reply {
            v4::Opcode::BootReply
        } else {
            v4::Opcode::BootRequest
        });
    if server_reply {
        msg.set_yiaddr(yiaddr).set_siaddr(GATEWAY_IP);
    }
    let opts = msg.opts_mut();
    opts.insert(DhcpOption::MessageType(kind));
    if server_reply {
        opts.insert(DhcpOption::ServerIdentifier(GATEWAY_IP));
        opts.insert(DhcpOption::Router(vec![GATEWAY_IP]));
        opts.insert(DhcpOption::DomainNameServer(vec![GATEWAY_IP]));
        opts.insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)));
        opts.insert(DhcpOption::AddressLeaseTime(86_400));
    } else {
        if kind == MessageType::Request {
            opts.insert(DhcpOption::RequestedIpAddress(yiaddr));
        }
        if let Some(h) = &facts.hostname {
            opts.insert(DhcpOption::Hostname(h.clone()));
        }
        if let Some(v) = &facts.vendor_class {
            opts.insert(DhcpOption::ClassIdentifier(v.as_bytes().to_vec()));
        }
        opts.insert(DhcpOption::ParameterRequestList(vec![
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::DomainNameServer,
            OptionCode::Hostname,
            OptionCode::Unknown(161),
        ]));
        // RFC 8520 §10: the MUD URL option.
        if let Some(u) = &facts.mud_url {
            opts.insert(DhcpOption::Unknown(v4::UnknownOption::new(
                OptionCode::Unknown(161),
                u.as_bytes().to_vec(),
            )));
        }
    }
    let mut buf = Vec::new();
    msg.encode(&mut Encoder::new(&mut buf))
        .expect("encode DHCP");
    buf
}

/// DISCOVER, OFFER, REQUEST, ACK 3 ms apart starting at `t`: `host` gets `host.ip` from the
/// gateway.
pub fn dhcp_exchange(cap: &mut Capture, t: u64, host: Host, facts: &DhcpClient, xid: u32) {
    let unconfigured = Host {
        mac: host.mac,
        ip: Ipv4Addr::UNSPECIFIED,
    };
    let broadcast = Host {
        mac: Mac([0xff; 6]),
        ip: Ipv4Addr::BROADCAST,
    };
    let steps = [
        (MessageType::Discover, false),
        (MessageType::Offer, true),
        (MessageType::Request, false),
        (MessageType::Ack, true),
    ];
    for (i, (kind, server)) in steps.into_iter().enumerate() {
        let payload = dhcp_message(kind, xid, host.mac, host.ip, facts, server);
        let frame = if server {
            udp_frame(GATEWAY, host, 67, 68, &payload)
        } else {
            udp_frame(unconfigured, broadcast, 68, 67, &payload)
        };
        cap.push(t + i as u64 * 3_000_000, frame);
    }
}

/// The bytes of a DNS query (id `id`) for `name`'s A records.
pub fn dns_query_bytes(id: u16, name: &str) -> Vec<u8> {
    use simple_dns::{Name, Packet, Question, CLASS, QCLASS, QTYPE, TYPE};
    let mut p = Packet::new_query(id);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec().expect("build DNS query")
}

/// The bytes of the answer to [`dns_query_bytes`]: `addrs`, each with a TTL of `ttl` seconds.
pub fn dns_answer_bytes(id: u16, name: &str, addrs: &[Ipv4Addr], ttl: u32) -> Vec<u8> {
    use simple_dns::rdata::{RData, A};
    use simple_dns::{Name, Packet, Question, ResourceRecord, CLASS, QCLASS, QTYPE, TYPE};
    let mut p = Packet::new_reply(id);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    for a in addrs {
        p.answers.push(ResourceRecord::new(
            Name::new_unchecked(name),
            CLASS::IN,
            ttl,
            RData::A(A::from(*a)),
        ));
    }
    p.build_bytes_vec().expect("build DNS answer")
}

/// An mDNS announcement of `<host>.local` (RFC 6762 §8.3).
pub fn mdns_announce(cap: &mut Capture, t: u64, dev: Host, host: &str) {
    use simple_dns::rdata::{RData, A};
    use simple_dns::{Name, Packet, ResourceRecord, CLASS};
    let name = format!("{host}.local");
    let mut p = Packet::new_reply(0);
    p.set_flags(simple_dns::PacketFlag::AUTHORITATIVE_ANSWER);
    p.answers.push(ResourceRecord::new(
        Name::new_unchecked(&name),
        CLASS::IN,
        120,
        RData::A(A::from(dev.ip)),
    ));
    let bytes = p.build_bytes_vec().expect("mDNS");
    let group = multicast(Ipv4Addr::new(224, 0, 0, 251));
    cap.push(t, udp_frame(dev, group, 5353, 5353, &bytes));
}

/// An SSDP M-SEARCH for everything (UPnP Device Architecture 2.0 §1.3.2).
pub fn ssdp_search(cap: &mut Capture, t: u64, dev: Host) {
    let group = multicast(Ipv4Addr::new(239, 255, 255, 250));
    let body = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: ssdp:all\r\n\r\n";
    cap.push(t, udp_frame(dev, group, 1900, 1900, body));
}

/// One NTP (RFC 5905) client query to `server` and its reply 30 ms later.
pub fn ntp_exchange(cap: &mut Capture, t: u64, dev: Host, server: Ipv4Addr, sport: u16) {
    let server = Host::internet(server);
    let mut q = [0u8; 48];
    q[0] = 0x23; // LI 0, version 4, mode 3 (client)
    cap.push(t, udp_frame(dev, server, sport, 123, &q));
    let mut r = [0u8; 48];
    r[0] = 0x24; // mode 4 (server)
    r[1] = 2; // stratum 2
    cap.push(t + 30_000_000, udp_frame(server, dev, 123, sport, &r));
}

/// The shape of one TCP connection: the port it opens and the request/response pairs it
/// carries before closing.
#[derive(Clone, Copy, Debug)]
pub struct TcpSession {
    /// Destination port.
    pub dport: u16,
    /// Request/response pairs after the handshake.
    pub exchanges: usize,
    /// Bytes in each request.
    pub req: usize,
    /// Bytes in each response.
    pub resp: usize,
}

impl TcpSession {
    /// A connection to `dport`; `exchanges` request/response pairs of `req` and `resp` bytes.
    pub const fn new(dport: u16, exchanges: usize, req: usize, resp: usize) -> TcpSession {
        TcpSession {
            dport,
            exchanges,
            req,
            resp,
        }
    }
}

impl Scene {
    /// `host` joins the network by DHCP at `t`, sending only its host name.
    pub fn join(&mut self, t: u64, host: Host, hostname: &str) {
        let xid = self.rng.random();
        dhcp_exchange(&mut self.cap, t, host, &DhcpClient::named(hostname), xid);
    }

    /// A DNS lookup of `name` through `resolver` (reached through the gateway) and its answer,
    /// `addr`, 5–20 ms later.
    pub fn lookup(&mut self, t: u64, dev: Host, resolver: Ipv4Addr, name: &str, addr: Ipv4Addr) {
        let id: u16 = self.rng.random();
        let sport: u16 = self.rng.random_range(20_000..60_000);
        let resolver = Host::internet(resolver);
        let query = dns_query_bytes(id, name);
        self.cap
            .push(t, udp_frame(dev, resolver, sport, 53, &query));
        let dt = self.rng.random_range(5_000_000..20_000_000);
        let answer = dns_answer_bytes(id, name, &[addr], 300);
        self.cap
            .push(t + dt, udp_frame(resolver, dev, 53, sport, &answer));
    }

    /// A TCP connection from `dev` to `peer` (an internet peer behind the gateway, or a LAN
    /// host): handshake, the session's exchanges, FIN from each side. Returns the end time.
    pub fn tcp(&mut self, t: u64, dev: Host, peer: Host, s: TcpSession) -> u64 {
        let rng = &mut self.rng;
        let sport: u16 = rng.random_range(32_768..61_000);
        let mut cs: u32 = rng.random();
        let mut ss: u32 = rng.random();
        let rtt = rng.random_range(8_000_000..40_000_000u64);
        let (up, down) = (
            |seq, flags| Tcp::new(sport, s.dport, seq, flags),
            |seq, flags| Tcp::new(s.dport, sport, seq, flags),
        );
        let cap = &mut self.cap;
        let mut now = t;
        // A real stack's SYN carries options (MSS and so on; etherparse writes none): what
        // matters to the detector is a sequence number unequal to the destination, which is
        // Mirai's mark.
        if cs == u32::from(peer.ip) {
            cs ^= 1;
        }
        cap.push(now, tcp_frame(dev, peer, up(cs, "S"), &[]));
        now += rtt;
        cap.push(now, tcp_frame(peer, dev, down(ss, "SA").ack(cs + 1), &[]));
        cs += 1;
        ss += 1;
        now += 200_000;
        cap.push(now, tcp_frame(dev, peer, up(cs, "A").ack(ss), &[]));
        let req = vec![0x17u8; s.req];
        let resp = vec![0x17u8; s.resp];
        for _ in 0..s.exchanges {
            now += rng.random_range(1_000_000..50_000_000u64);
            cap.push(now, tcp_frame(dev, peer, up(cs, "PA").ack(ss), &req));
            cs = cs.wrapping_add(s.req as u32);
            now += rtt;
            cap.push(now, tcp_frame(peer, dev, down(ss, "PA").ack(cs), &resp));
            ss = ss.wrapping_add(s.resp as u32);
            now += 300_000;
            cap.push(now, tcp_frame(dev, peer, up(cs, "A").ack(ss), &[]));
        }
        now += 5_000_000;
        cap.push(now, tcp_frame(dev, peer, up(cs, "FA").ack(ss), &[]));
        now += rtt;
        cap.push(now, tcp_frame(peer, dev, down(ss, "FA").ack(cs + 1), &[]));
        now += 200_000;
        cap.push(now, tcp_frame(dev, peer, up(cs + 1, "A").ack(ss + 1), &[]));
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GATEWAY_MAC;

    #[test]
    fn a_dhcp_join_is_four_messages_from_the_client_and_the_gateway() {
        let mut cap = Capture::new();
        let dev = Host::new([2, 0, 0, 0, 0, 9], [192, 168, 1, 9]);
        dhcp_exchange(&mut cap, 0, dev, &DhcpClient::named("x"), 7);
        let frames = cap.sorted();
        assert_eq!(frames.len(), 4);
        // Ethernet source (bytes 6..12): client, gateway, client, gateway.
        let sources: Vec<&[u8]> = frames.iter().map(|(_, f)| &f[6..12]).collect();
        assert_eq!(
            sources,
            [&dev.mac.0[..], &GATEWAY_MAC.0, &dev.mac.0, &GATEWAY_MAC.0]
        );
    }
}
