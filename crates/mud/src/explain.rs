//! Plain-language explanation of a policy for a household.
//!
//! The output is for someone deciding whether to let a device onto their network, not
//! for a network engineer: no ACL names, no protocol numbers where a word will do. Each
//! rule becomes one sentence. The reply half of a conversation (a to-device rule that
//! only mirrors a from-device rule's port, or the other way round) adds nothing a person
//! needs, so it is folded into the rule it answers.

use std::fmt::Write as _;

use ipnet::IpNet;

use crate::policy::{
    Action, DevicePolicy, Direction, Peer, PortMatch, Rule, CONTROLLER_DNS, CONTROLLER_NTP,
};

/// Describe what `policy` lets the device do, one sentence per line, ending with
/// "Everything else is blocked."
pub fn explain(policy: &DevicePolicy) -> String {
    let mut out = String::new();
    let device = policy
        .systeminfo
        .as_deref()
        .or(policy.model_name.as_deref())
        .unwrap_or("This device");
    let _ = writeln!(out, "{device}");
    let _ = writeln!(
        out,
        "Network rules published by {} ({}).",
        policy.authority, policy.mud_url
    );
    if !policy.is_supported {
        // First thing after the title: it changes what a household should do about the device.
        let _ = writeln!(
            out,
            "WARNING: the manufacturer says this device is no longer supported. It will not \
             get security fixes; consider replacing it."
        );
    }

    let mut sentences: Vec<String> = Vec::new();
    for rule in &policy.rules {
        let two_way = has_portless_mirror(rule, &policy.rules);
        if is_reply_half(rule, &policy.rules) || (two_way && rule.direction == Direction::ToDevice)
        {
            continue;
        }
        let sentence = describe(rule, &policy.authority, two_way);
        // Identical sentences (e.g. an ACL used for IPv4 and IPv6) are said once.
        if !sentences.contains(&sentence) {
            sentences.push(sentence);
        }
    }

    if sentences.is_empty() {
        let _ = writeln!(out, "It may not use the network at all.");
    } else {
        let _ = writeln!(out, "What it may do on your network:");
        for sentence in &sentences {
            let _ = writeln!(out, "{sentence}");
        }
    }
    let _ = writeln!(out, "Everything else is blocked.");
    out
}

/// Whether `rule` only lets the answers of another rule's conversation through: it
/// names a port only on the packet's source, and a rule of the other direction with the
/// same peer, protocol and action names that port as its destination.
/// Ping replies are folded the same way into the ping they answer.
fn is_reply_half(rule: &Rule, all: &[Rule]) -> bool {
    let counterpart = |other: &&Rule| {
        other.direction != rule.direction
            && other.peer == rule.peer
            && other.protocol == rule.protocol
            && other.action == rule.action
    };
    if let (Some(port), None) = (rule.src_port, rule.dst_port) {
        return all
            .iter()
            .filter(counterpart)
            .any(|other| other.dst_port == Some(port));
    }
    let icmp_type = |r: &Rule| r.icmp.and_then(|i| i.icmp_type);
    let (echo_request, echo_reply) = match rule.protocol {
        Some(1) => (8, 0),
        Some(58) => (128, 129),
        _ => return false,
    };
    icmp_type(rule) == Some(echo_reply)
        && all
            .iter()
            .filter(counterpart)
            .any(|other| icmp_type(other) == Some(echo_request))
}

/// Whether `rule` has no ports and a rule of the other direction allows exactly the same
/// traffic back: the two read better as one two-way sentence.
fn has_portless_mirror(rule: &Rule, all: &[Rule]) -> bool {
    rule.src_port.is_none()
        && rule.dst_port.is_none()
        && rule.icmp.is_none()
        && all.iter().any(|other| {
            other.direction != rule.direction
                && other.peer == rule.peer
                && other.protocol == rule.protocol
                && other.action == rule.action
                && other.src_port.is_none()
                && other.dst_port.is_none()
                && other.icmp.is_none()
                && other.eth == rule.eth
        })
}

fn describe(rule: &Rule, authority: &str, two_way: bool) -> String {
    let peer = describe_peer(&rule.peer, authority);
    let from_device = rule.direction == Direction::FromDevice;
    let what = match rule.protocol {
        None if two_way && rule.eth.is_none() => format!("talk to {peer}"),
        Some(p) if two_way && p != 6 && p != 17 => {
            format!("exchange {} traffic with {peer}", protocol_name(p))
        }
        Some(6) => {
            let mut s = match (from_device, rule.dst_port, rule.src_port) {
                (true, Some(_), _) | (true, None, None) => {
                    format!("connect to {peer}{}", port_phrase(rule.dst_port))
                }
                (true, None, Some(p)) => {
                    format!("send TCP traffic to {peer} from its {}", port_words(p))
                }
                (false, Some(_), _) | (false, None, None) => {
                    format!(
                        "accept connections from {peer}{}",
                        port_phrase(rule.dst_port)
                    )
                }
                (false, None, Some(p)) => {
                    format!(
                        "receive TCP traffic from {peer} sent from {}",
                        port_words(p)
                    )
                }
            };
            if let Some(by) = rule.initiated_by {
                s.push_str(if by == rule.direction {
                    if from_device {
                        " — only connections it starts itself"
                    } else {
                        " — only connections they start"
                    }
                } else if by == Direction::FromDevice {
                    " — only within connections the device starts itself"
                } else {
                    " — only within connections they start"
                });
            }
            s
        }
        Some(17) => {
            let port = if from_device || rule.src_port.is_none() {
                rule.dst_port.or(rule.src_port)
            } else {
                rule.src_port
            };
            let verb = if from_device { "send" } else { "receive" };
            let prep = if from_device { "to" } else { "from" };
            format!("{verb} UDP messages {prep} {peer}{}", port_phrase(port))
        }
        Some(1) | Some(58) => icmp_phrase(rule, &peer),
        Some(p) => {
            let verb = if from_device { "send" } else { "receive" };
            let prep = if from_device { "to" } else { "from" };
            format!("{verb} {} traffic {prep} {peer}", protocol_name(p))
        }
        None => match &rule.eth {
            Some(eth) => {
                let kind = eth
                    .ethertype
                    .map_or_else(|| "local network".to_owned(), ethertype_name);
                let verb = if from_device { "send" } else { "receive" };
                let prep = if from_device { "to" } else { "from" };
                format!("{verb} {kind} frames {prep} {peer}")
            }
            None if from_device => format!("send any kind of traffic to {peer}"),
            None => format!("receive any kind of traffic from {peer}"),
        },
    };
    match rule.action {
        Action::Accept => format!("May {what}."),
        Action::Drop | Action::Reject => format!("Explicitly blocked: {}.", capitalize(&what)),
    }
}

fn icmp_phrase(rule: &Rule, peer: &str) -> String {
    let from_device = rule.direction == Direction::FromDevice;
    let v6 = rule.protocol == Some(58);
    let icmp_type = rule.icmp.and_then(|i| i.icmp_type);
    let echo_request = if v6 { 128 } else { 8 };
    let echo_reply = if v6 { 129 } else { 0 };
    match (from_device, icmp_type) {
        (true, Some(t)) if t == echo_request => format!("ping {peer}"),
        (false, Some(t)) if t == echo_reply => format!("get ping replies from {peer}"),
        (false, Some(t)) if t == echo_request => format!("be pinged by {peer}"),
        (true, Some(t)) if t == echo_reply => format!("answer pings from {peer}"),
        (true, _) => format!("send network control messages (ICMP) to {peer}"),
        (false, _) => format!("receive network control messages (ICMP) from {peer}"),
    }
}

fn describe_peer(peer: &Peer, authority: &str) -> String {
    match peer {
        Peer::Any => "any address".to_owned(),
        Peer::Network(net) => describe_network(net),
        Peer::DnsName(name) => name.clone(),
        Peer::Manufacturer(m) => format!("devices made by {m} on your home network"),
        Peer::SameManufacturer => {
            format!("other devices from the same manufacturer ({authority}) on your home network")
        }
        Peer::Model(url) => format!("devices of the same kind as {url} on your home network"),
        Peer::LocalNetworks => "devices on your home network".to_owned(),
        Peer::Controller(uri) if uri == CONTROLLER_DNS => {
            "your network's name server (DNS)".to_owned()
        }
        Peer::Controller(uri) if uri == CONTROLLER_NTP => {
            "your network's time server (NTP)".to_owned()
        }
        Peer::Controller(uri) => format!("controllers of the kind \"{uri}\" that you set up"),
        Peer::MyController => "the controller you set up for this device".to_owned(),
    }
}

fn describe_network(net: &IpNet) -> String {
    let single = net.prefix_len() == net.max_prefix_len();
    let addr = net.addr();
    if single && addr == std::net::IpAddr::from(std::net::Ipv4Addr::BROADCAST) {
        return "everyone on your local network (broadcast)".to_owned();
    }
    if addr.is_multicast() {
        return if single {
            format!("the local multicast group {addr}")
        } else {
            format!("multicast groups in {net}")
        };
    }
    if single {
        format!("the address {addr}")
    } else {
        format!("addresses in {net}")
    }
}

fn port_phrase(port: Option<PortMatch>) -> String {
    port.map_or_else(String::new, |p| format!(" on {}", port_words(p)))
}

fn port_words(port: PortMatch) -> String {
    match port {
        PortMatch::Eq(p) => match service_name(p) {
            Some(name) => format!("port {p} ({name})"),
            None => format!("port {p}"),
        },
        PortMatch::Range(lo, hi) if lo == hi => port_words(PortMatch::Eq(lo)),
        PortMatch::Range(lo, hi) => format!("ports {lo} to {hi}"),
        PortMatch::Neq(p) => format!("any port except {p}"),
        PortMatch::Lte(p) => format!("ports up to {p}"),
        PortMatch::Gte(p) => format!("ports {p} and above"),
    }
}

/// What a household might recognise a well-known port by.
fn service_name(port: u16) -> Option<&'static str> {
    Some(match port {
        22 => "SSH remote login",
        23 => "Telnet remote login",
        53 => "DNS",
        67 | 68 => "DHCP address assignment",
        80 => "HTTP",
        123 => "NTP time",
        443 => "HTTPS",
        547 => "DHCPv6 address assignment",
        1883 => "MQTT",
        1900 => "SSDP device discovery",
        5353 => "mDNS device discovery",
        5683 => "CoAP",
        5684 => "CoAP over DTLS",
        8080 => "HTTP",
        8883 => "MQTT over TLS",
        _ => return None,
    })
}

fn protocol_name(protocol: u8) -> String {
    match protocol {
        0 => "IPv6 hop-by-hop".to_owned(),
        2 => "IGMP multicast membership".to_owned(),
        47 => "GRE tunnel".to_owned(),
        50 => "IPsec".to_owned(),
        other => format!("IP protocol {other}"),
    }
}

fn ethertype_name(ethertype: u16) -> String {
    match ethertype {
        0x0800 => "IPv4".to_owned(),
        0x0806 => "ARP".to_owned(),
        0x86DD => "IPv6".to_owned(),
        0x888E => "EAPOL (network log-in)".to_owned(),
        0x88CC => "LLDP".to_owned(),
        other => format!("Ethernet type 0x{other:04x}"),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
