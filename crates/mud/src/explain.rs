//! Plain-language explanation of a policy for a household, in English or French.
//!
//! The output is for someone deciding whether to let a device onto their network, not
//! for a network engineer: no ACL names, no protocol numbers where a word will do. Each
//! rule becomes one sentence. The reply half of a conversation (a to-device rule that
//! only mirrors a from-device rule's port, or the other way round) adds nothing a person
//! needs, so it is folded into the rule it answers.
//!
//! The words are Fluent messages (`i18n/explain-en.ftl`, `i18n/explain-fr.ftl`); each
//! destination is formatted for the preposition before it, which French contracts
//! (« au serveur », « des appareils »).

use std::fmt::Write as _;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use ipnet::IpNet;

use crate::policy::{
    Action, DevicePolicy, Direction, Peer, PortMatch, Rule, CONTROLLER_DNS, CONTROLLER_NTP,
};

/// The language of an explanation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// French (Canada).
    Fr,
}

/// Describe what `policy` lets the device do, in English, one sentence per line, ending
/// with "Everything else is blocked."
pub fn explain(policy: &DevicePolicy) -> String {
    explain_in(policy, Lang::En)
}

/// Describe what `policy` lets the device do, in `lang`, one sentence per line.
pub fn explain_in(policy: &DevicePolicy, lang: Lang) -> String {
    let w = Words(lang);
    let mut out = String::new();
    let this_device = w.t("this-device", &[]);
    let device = policy
        .systeminfo
        .as_deref()
        .or(policy.model_name.as_deref())
        .unwrap_or(&this_device);
    let _ = writeln!(out, "{device}");
    let _ = writeln!(
        out,
        "{}",
        w.t(
            "published",
            &[("authority", &policy.authority), ("url", &policy.mud_url)]
        )
    );
    if !policy.is_supported {
        // First thing after the title: it changes what a household should do about the device.
        let _ = writeln!(out, "{}", w.t("unsupported", &[]));
    }

    let mut sentences: Vec<String> = Vec::new();
    for rule in &policy.rules {
        let two_way = has_portless_mirror(rule, &policy.rules);
        if is_reply_half(rule, &policy.rules) || (two_way && rule.direction == Direction::ToDevice)
        {
            continue;
        }
        let sentence = w.describe(rule, &policy.authority, two_way);
        // Identical sentences (e.g. an ACL used for IPv4 and IPv6) are said once.
        if !sentences.contains(&sentence) {
            sentences.push(sentence);
        }
    }

    if sentences.is_empty() {
        let _ = writeln!(out, "{}", w.t("nothing", &[]));
    } else {
        let _ = writeln!(out, "{}", w.t("may-intro", &[]));
        for sentence in &sentences {
            let _ = writeln!(out, "{sentence}");
        }
    }
    let _ = writeln!(out, "{}", w.t("everything-else", &[]));
    out
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static EN: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    static FR: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let (cell, locale, source) = match lang {
        Lang::En => (&EN, "en", include_str!("../i18n/explain-en.ftl")),
        Lang::Fr => (&FR, "fr-CA", include_str!("../i18n/explain-fr.ftl")),
    };
    cell.get_or_init(|| {
        let resource = FluentResource::try_new(source.to_string())
            .unwrap_or_else(|(_, e)| panic!("explain {locale}: {e:?}"));
        let id = locale.parse().expect("a valid language tag");
        let mut b = FluentBundle::new_concurrent(vec![id]);
        // Plain text for a terminal: no Unicode isolation marks around arguments.
        b.set_use_isolating(false);
        b.add_resource(resource)
            .unwrap_or_else(|e| panic!("explain {locale}: {e:?}"));
        b
    })
}

/// How the preposition before a destination reads (French contracts it with the article).
#[derive(Clone, Copy)]
enum Role {
    To,
    From,
    With,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::To => "to",
            Role::From => "from",
            Role::With => "with",
        }
    }
}

struct Words(Lang);

impl Words {
    /// Message `id` with string arguments. (A missing message is a bug the tests catch:
    /// every message of one file is checked to be in the other.)
    fn t(&self, id: &str, args: &[(&str, &str)]) -> String {
        let b = bundle(self.0);
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, FluentValue::from(v.to_string()));
        }
        let mut errors = vec![];
        b.format_pattern(pattern, Some(&fa), &mut errors)
            .into_owned()
    }

    fn describe(&self, rule: &Rule, authority: &str, two_way: bool) -> String {
        let from_device = rule.direction == Direction::FromDevice;
        let peer = |role: Role| self.peer(&rule.peer, authority, role);
        let what = match rule.protocol {
            None if two_way && rule.eth.is_none() => {
                self.t("what-talk", &[("peer", &peer(Role::With))])
            }
            Some(p) if two_way && p != 6 && p != 17 => self.t(
                "what-exchange",
                &[
                    ("proto", &self.protocol_name(p)),
                    ("peer", &peer(Role::With)),
                ],
            ),
            Some(6) => {
                let mut s = match (from_device, rule.dst_port, rule.src_port) {
                    (true, Some(_), _) | (true, None, None) => self.t(
                        "what-connect",
                        &[
                            ("peer", &peer(Role::To)),
                            ("port", &self.port_phrase(rule.dst_port)),
                        ],
                    ),
                    (true, None, Some(p)) => self.t(
                        "what-tcp-from-port",
                        &[
                            ("peer", &peer(Role::To)),
                            ("port", &self.port_as("its-port", p)),
                        ],
                    ),
                    (false, Some(_), _) | (false, None, None) => self.t(
                        "what-accept",
                        &[
                            ("peer", &peer(Role::From)),
                            ("port", &self.port_phrase(rule.dst_port)),
                        ],
                    ),
                    (false, None, Some(p)) => self.t(
                        "what-tcp-sent-from",
                        &[
                            ("peer", &peer(Role::From)),
                            ("port", &self.port_as("the-port", p)),
                        ],
                    ),
                };
                if let Some(by) = rule.initiated_by {
                    let id = if by == rule.direction {
                        if from_device {
                            "started-by-device"
                        } else {
                            "started-by-them"
                        }
                    } else if by == Direction::FromDevice {
                        "within-device"
                    } else {
                        "within-them"
                    };
                    s.push(' ');
                    s.push_str(&self.t(id, &[]));
                }
                s
            }
            Some(17) => {
                let port = if from_device || rule.src_port.is_none() {
                    rule.dst_port.or(rule.src_port)
                } else {
                    rule.src_port
                };
                let (id, role) = if from_device {
                    ("what-udp-send", Role::To)
                } else {
                    ("what-udp-receive", Role::From)
                };
                self.t(
                    id,
                    &[("peer", &peer(role)), ("port", &self.port_phrase(port))],
                )
            }
            Some(1) | Some(58) => self.icmp_phrase(rule, &peer),
            Some(p) => {
                let (id, role) = if from_device {
                    ("what-proto-send", Role::To)
                } else {
                    ("what-proto-receive", Role::From)
                };
                self.t(
                    id,
                    &[("proto", &self.protocol_name(p)), ("peer", &peer(role))],
                )
            }
            None => match &rule.eth {
                Some(eth) => {
                    let kind = eth
                        .ethertype
                        .map_or_else(|| self.t("ether-local", &[]), |t| self.ethertype_name(t));
                    let (id, role) = if from_device {
                        ("what-frames-send", Role::To)
                    } else {
                        ("what-frames-receive", Role::From)
                    };
                    self.t(id, &[("kind", &kind), ("peer", &peer(role))])
                }
                None if from_device => self.t("what-any-send", &[("peer", &peer(Role::To))]),
                None => self.t("what-any-receive", &[("peer", &peer(Role::From))]),
            },
        };
        match rule.action {
            Action::Accept => self.t("rule-may", &[("what", &what)]),
            Action::Drop | Action::Reject => {
                // English starts the blocked phrase with a capital; French does not after a colon.
                let what = match self.0 {
                    Lang::En => capitalize(&what),
                    Lang::Fr => what,
                };
                self.t("rule-blocked", &[("what", &what)])
            }
        }
    }

    fn icmp_phrase(&self, rule: &Rule, peer: &dyn Fn(Role) -> String) -> String {
        let from_device = rule.direction == Direction::FromDevice;
        let v6 = rule.protocol == Some(58);
        let icmp_type = rule.icmp.and_then(|i| i.icmp_type);
        let echo_request = if v6 { 128 } else { 8 };
        let echo_reply = if v6 { 129 } else { 0 };
        let (id, role) = match (from_device, icmp_type) {
            (true, Some(t)) if t == echo_request => ("what-ping", Role::To),
            (false, Some(t)) if t == echo_reply => ("what-ping-replies", Role::From),
            (false, Some(t)) if t == echo_request => ("what-pinged", Role::From),
            (true, Some(t)) if t == echo_reply => ("what-answer-pings", Role::From),
            (true, _) => ("what-icmp-send", Role::To),
            (false, _) => ("what-icmp-receive", Role::From),
        };
        self.t(id, &[("peer", &peer(role))])
    }

    fn peer(&self, peer: &Peer, authority: &str, role: Role) -> String {
        let (id, name) = match peer {
            Peer::Any => ("peer-any", String::new()),
            Peer::Network(net) => return self.network(net, role),
            Peer::DnsName(name) => ("peer-dns", name.clone()),
            Peer::Manufacturer(m) => ("peer-manufacturer", m.clone()),
            Peer::SameManufacturer => ("peer-same-manufacturer", authority.to_owned()),
            Peer::Model(url) => ("peer-model", url.clone()),
            Peer::LocalNetworks => ("peer-local", String::new()),
            Peer::Controller(uri) if uri == CONTROLLER_DNS => ("peer-dns-server", String::new()),
            Peer::Controller(uri) if uri == CONTROLLER_NTP => ("peer-ntp-server", String::new()),
            Peer::Controller(uri) => ("peer-controller", uri.clone()),
            Peer::MyController => ("peer-my-controller", String::new()),
        };
        self.t(id, &[("role", role.as_str()), ("name", &name)])
    }

    fn network(&self, net: &IpNet, role: Role) -> String {
        let single = net.prefix_len() == net.max_prefix_len();
        let addr = net.addr();
        let (id, name) = if single && addr == std::net::IpAddr::from(std::net::Ipv4Addr::BROADCAST)
        {
            ("peer-broadcast", String::new())
        } else if addr.is_multicast() && single {
            ("peer-multicast-group", addr.to_string())
        } else if addr.is_multicast() {
            ("peer-multicast-groups", net.to_string())
        } else if single {
            ("peer-address", addr.to_string())
        } else {
            ("peer-addresses", net.to_string())
        };
        self.t(id, &[("role", role.as_str()), ("name", &name)])
    }

    /// " on port 443 (HTTPS)", or nothing without a port.
    fn port_phrase(&self, port: Option<PortMatch>) -> String {
        port.map_or_else(String::new, |p| {
            format!(
                " {}",
                self.t("on-port", &[("port", &self.port_as("the-port", p))])
            )
        })
    }

    /// The port words with their article (`the-port`) or possessive (`its-port`).
    fn port_as(&self, id: &str, port: PortMatch) -> String {
        let kind = match port {
            PortMatch::Eq(_) => "one",
            PortMatch::Range(lo, hi) if lo == hi => "one",
            PortMatch::Neq(_) => "any",
            PortMatch::Range(..) | PortMatch::Lte(_) | PortMatch::Gte(_) => "many",
        };
        self.t(id, &[("port", &self.port_words(port)), ("kind", kind)])
    }

    fn port_words(&self, port: PortMatch) -> String {
        match port {
            PortMatch::Eq(p) => {
                let n = p.to_string();
                match service_id(p) {
                    Some(id) => {
                        let service = self.t(id, &[]);
                        self.t("port-eq-named", &[("n", &n), ("service", &service)])
                    }
                    None => self.t("port-eq", &[("n", &n)]),
                }
            }
            PortMatch::Range(lo, hi) if lo == hi => self.port_words(PortMatch::Eq(lo)),
            PortMatch::Range(lo, hi) => self.t(
                "port-range",
                &[("lo", &lo.to_string()), ("hi", &hi.to_string())],
            ),
            PortMatch::Neq(p) => self.t("port-neq", &[("n", &p.to_string())]),
            PortMatch::Lte(p) => self.t("port-lte", &[("n", &p.to_string())]),
            PortMatch::Gte(p) => self.t("port-gte", &[("n", &p.to_string())]),
        }
    }

    fn protocol_name(&self, protocol: u8) -> String {
        match protocol {
            0 => self.t("proto-0", &[]),
            2 => self.t("proto-2", &[]),
            47 => self.t("proto-47", &[]),
            50 => self.t("proto-50", &[]),
            other => self.t("proto-other", &[("n", &other.to_string())]),
        }
    }

    fn ethertype_name(&self, ethertype: u16) -> String {
        match ethertype {
            0x0800 => self.t("ether-0800", &[]),
            0x0806 => self.t("ether-0806", &[]),
            0x86DD => self.t("ether-86dd", &[]),
            0x888E => self.t("ether-888e", &[]),
            0x88CC => self.t("ether-88cc", &[]),
            other => self.t("ether-other", &[("hex", &format!("0x{other:04x}"))]),
        }
    }
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

/// The message naming a well-known port a household might recognise.
fn service_id(port: u16) -> Option<&'static str> {
    Some(match port {
        22 => "service-22",
        23 => "service-23",
        53 => "service-53",
        67 | 68 => "service-67",
        80 | 8080 => "service-80",
        123 => "service-123",
        443 => "service-443",
        547 => "service-547",
        1883 => "service-1883",
        1900 => "service-1900",
        5353 => "service-5353",
        5683 => "service-5683",
        5684 => "service-5684",
        8883 => "service-8883",
        _ => return None,
    })
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    /// Both files hold the same messages.
    #[test]
    fn english_and_french_say_the_same_things() {
        let ids = |src: &str| -> Vec<String> {
            let mut v: Vec<String> = src
                .lines()
                .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_string()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            ids(include_str!("../i18n/explain-en.ftl")),
            ids(include_str!("../i18n/explain-fr.ftl"))
        );
    }
}
