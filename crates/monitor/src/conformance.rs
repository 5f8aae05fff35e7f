//! MUD conformance: does a packet a device sends fall under an accept rule of its MUD file?
//!
//! Checked on the packets that open something (TCP SYN, UDP) toward unicast destinations.
//! Symbolic peers resolve as `enforce` resolves them: `dst-dnsname` against the DNS answers the
//! device itself received (RFC 8520 §7), `local-networks` against the private ranges and the LAN's prefixes, and the
//! well-known DNS/NTP controllers (§3.15) against the gateway's resolvers. Peers only the
//! gateway's configuration can resolve (`manufacturer`, `model`, `my-controller`, other
//! controllers) are taken to mean LAN addresses.

use crate::packet::{is_group_addr, Packet, TCP, UDP};
use crate::words::Said;
use mud::{DevicePolicy, Direction, Peer};
use std::net::IpAddr;

/// DNS answers remembered per device for `dst-dnsname` checks.
pub const MAX_LEARNED_NAMES: usize = 64;

/// What the packet did outside the policy; `None` when allowed, when
/// the device has no policy, or when the packet opens nothing. `dst_lan`: the destination is
/// a home-network address (private ranges, or the LAN's configured or learned prefixes).
pub fn violation(
    policies: &[DevicePolicy],
    mud_url: Option<&str>,
    learned: &[(String, IpAddr)],
    p: &Packet<'_>,
    resolvers: &[IpAddr],
    dst_lan: bool,
) -> Option<Said> {
    let url = mud_url?;
    let policy = policies.iter().find(|pol| pol.mud_url == url)?;
    let opens = match p.tcp {
        Some(t) => t.syn && !t.ack,
        None => p.proto == UDP,
    };
    if !opens || is_group_addr(&p.dst) || p.dst.is_unspecified() {
        return None;
    }
    // DHCP and DNS to the gateway are allowed at every containment level, `isolated` included.
    if p.proto == UDP && (p.dport == 67 || (p.dport == 53 && resolvers.contains(&p.dst))) {
        return None;
    }
    let allowed = policy.rules.iter().any(|r| {
        r.direction == Direction::FromDevice
            && r.action == mud::Action::Accept
            && r.protocol.is_none_or(|pr| pr == p.proto)
            && r.dst_port
                .is_none_or(|m| (p.proto == TCP || p.proto == UDP) && m.matches(p.dport))
            && r.src_port.is_none_or(|m| m.matches(p.sport))
            && peer_matches(&r.peer, &p.dst, learned, resolvers, dst_lan)
    });
    (!allowed).then(|| {
        let proto = match p.proto {
            TCP => "TCP",
            UDP => "UDP",
            _ => "IP",
        };
        Said::MudViolation {
            dst: p.dst,
            proto,
            port: p.dport,
            url: url.to_string(),
        }
    })
}

fn peer_matches(
    peer: &Peer,
    dst: &IpAddr,
    learned: &[(String, IpAddr)],
    resolvers: &[IpAddr],
    dst_lan: bool,
) -> bool {
    match peer {
        Peer::Any => true,
        Peer::Network(net) => net.contains(dst),
        Peer::DnsName(name) => {
            let want = name.trim_end_matches('.').to_ascii_lowercase();
            learned.iter().any(|(n, a)| a == dst && *n == want)
        }
        Peer::LocalNetworks => dst_lan,
        Peer::Controller(uri)
            if uri == mud::policy::CONTROLLER_DNS || uri == mud::policy::CONTROLLER_NTP =>
        {
            resolvers.contains(dst) || dst_lan
        }
        Peer::Controller(_)
        | Peer::MyController
        | Peer::Manufacturer(_)
        | Peer::SameManufacturer
        | Peer::Model(_) => dst_lan,
    }
}
