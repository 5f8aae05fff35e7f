//! Policy IR + site facts → nftables commands.
//!
//! Layout of our table (`inet trustgate`):
//! - base chain `forward`: `ether saddr vmap @out_mac` sends a managed device's packets to its
//!   `…_out` chain; `ip daddr vmap @in_4` / `ip6 daddr vmap @in_6` send packets addressed to
//!   it to its `…_in` chain. Lookups are hash-map lookups, so the per-packet cost does not grow
//!   with the number of devices.
//! - base chain `input`: traffic from managed devices to the gateway itself. DHCP, DNS and IPv6
//!   neighbour discovery to the gateway are always allowed (even `isolated` keeps them so a
//!   device can keep its address and be told what is wrong; DNS also has to pass the gateway so answers can fill the `dst-dnsname` sets); everything
//!   else goes through the same `…_out` chain as forwarded traffic.
//! - base chain `dns_hold` (type nat, hook prerouting), only with [`Site::dns_hold_port`]: UDP
//!   queries to the gateway's port 53 are redirected to the gateway's DNS hold.
//! - device chains end in `counter drop`: MUD is an allow-list (RFC 8520 §2). An allow rule
//!   `return`s instead of accepting, so traffic between two managed devices must pass the
//!   sender's from-device policy *and* the receiver's to-device policy.
//! - abstractions are named sets: `local_4/6` (local-networks, §3.14), `gw_4/6` (the gateway),
//!   `mfr_<h>_4/6` (devices of one manufacturer, §3.10/§3.11), `mdl_<h>_4/6` (one MUD URL, §3.13),
//!   `ctl_<h>_4/6` (controller classes, §3.15, incl. its DNS/NTP URNs), `myc_<h>_4/6`
//!   (my-controller, §3.16) and per device and DNS name `d<mac>_n<i>_4/6` with per-element
//!   timeouts (RFC 8520 §7: names are resolved from the answers the device itself receives).

use crate::exception::{Destination, Exception};
use crate::nft::{
    sanitize_comment, Batch, Cond, Elem, Key, Object, Op, Rule, SetFlag, Val, Verdict,
};
use ipnet::IpNet;
use mud::{
    Action, DevicePolicy, Direction, Family, Mac, Peer, PortMatch, CONTROLLER_DNS, CONTROLLER_NTP,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The name of our table when [`Site::table`] is not set otherwise: `inet trustgate`. The
/// enforcer never touches another table.
pub const DEFAULT_TABLE: &str = "trustgate";

/// A device's name inside nftables: `d` + its MAC address as 12 hex digits.
pub fn nft_id(mac: &Mac) -> String {
    let mut s = String::with_capacity(13);
    s.push('d');
    for b in mac.0 {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Containment levels: how much of the network a device may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Exactly what the MUD file allows.
    Declared,
    /// No MUD file: DNS/NTP/DHCP via the gateway and outbound HTTPS to the internet, no LAN peers.
    Default,
    /// Label revoked, support ended or `is-supported: false`: DNS via the gateway plus HTTPS to
    /// the vendor's update hosts.
    UpdateOnly,
    /// Bot behaviour: DHCP and DNS to the gateway only.
    Isolated,
    /// A general-purpose device its owner vouches for (a laptop, a phone): it may reach the
    /// internet and LAN peers (which still pass each peer's own to-device policy), LAN peers may
    /// reach it, and from the internet only replies to connections it opened come in — what a
    /// home router gives every device. Anti-spoofing still applies. Only the owner's word puts a
    /// device here (`--trusted`, `gateway trust`); bot behaviour still moves it to `isolated`.
    Trusted,
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "declared" => Ok(Level::Declared),
            "default" => Ok(Level::Default),
            "update-only" => Ok(Level::UpdateOnly),
            "isolated" => Ok(Level::Isolated),
            "trusted" => Ok(Level::Trusted),
            _ => Err(format!(
                "unknown level {s:?}: expected declared, default, update-only, isolated or trusted"
            )),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Declared => "declared",
            Level::Default => "default",
            Level::UpdateOnly => "update-only",
            Level::Isolated => "isolated",
            Level::Trusted => "trusted",
        })
    }
}

/// Facts about the site that MUD abstractions resolve against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// nftables table name (family inet).
    pub table: String,
    /// `local-networks` (RFC 8520 §3.14).
    pub local_networks: Vec<IpNet>,
    /// The gateway's own addresses: where DNS, NTP and DHCP are served.
    pub gateway: Vec<IpAddr>,
    /// Controller classes (RFC 8520 §3.15) → addresses. The DNS/NTP URNs default to `gateway`.
    pub controllers: BTreeMap<String, Vec<IpAddr>>,
    /// `my-controller` (RFC 8520 §3.16): MUD URL → addresses.
    pub my_controllers: BTreeMap<String, Vec<IpAddr>>,
    /// The LAN is a Linux bridge (the usual home router). Frames between two LAN devices then
    /// never reach the inet forward hook, so the enforcer turns on bridge netfilter
    /// (`net.bridge.bridge-nf-call-ip{,6}tables`) and the same table contains them. nftables'
    /// own bridge family would avoid that, but it needs bridge conntrack (nf_conntrack_bridge)
    /// for `direction-initiated`, which not every kernel has (ours here does not).
    #[serde(default)]
    pub bridged_lan: bool,
    /// The LAN-side interfaces (for a bridged LAN, the bridge). When set, the table fails
    /// closed: a frame arriving on one of them from a MAC the enforcer does not manage (never
    /// seen yet, refused, over the device cap, evicted) reaches neither the internet nor another
    /// device, and may only ask the gateway for DHCP, DNS and IPv6 neighbour discovery — what
    /// `isolated` allows, so a new device can still get an address and be contained. Empty: no
    /// catch-all (only for tests of the per-device rules on their own).
    #[serde(default)]
    pub lan_interfaces: Vec<String>,
    /// DNS queries to the gateway's addresses go to this UDP port of the gateway instead of
    /// port 53 (chain `dns_hold`, type nat, hook prerouting: `redirect`). The gateway's DNS
    /// hold listens there: it asks the real resolver, puts the answer's addresses in the
    /// device's `dst-dnsname` sets, and only then answers the device, so the device's first
    /// connection never races the set update. With nothing listening on the port the device
    /// gets no answer and reaches nothing by name (fail closed). `None`: queries reach port
    /// 53 and answers are learned from the capture, a moment after the device has them.
    #[serde(default)]
    pub dns_hold_port: Option<u16>,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            table: DEFAULT_TABLE.to_string(),
            // RFC 1918, RFC 4193 unique-local and link-local: what a home network uses.
            local_networks: [
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "fc00::/7",
                "fe80::/10",
            ]
            .iter()
            .map(|s| s.parse().expect("static prefix"))
            .collect(),
            gateway: Vec::new(),
            controllers: BTreeMap::new(),
            my_controllers: BTreeMap::new(),
            bridged_lan: false,
            lan_interfaces: Vec::new(),
            dns_hold_port: None,
        }
    }
}

impl Site {
    fn controller_addrs(&self, uri: &str) -> Vec<IpAddr> {
        match self.controllers.get(uri) {
            Some(a) => a.clone(),
            // RFC 8520 §3.15: the well-known DNS and NTP classes are served by the gateway unless
            // the operator says otherwise.
            None if uri == CONTROLLER_DNS || uri == CONTROLLER_NTP => self.gateway.clone(),
            None => Vec::new(),
        }
    }
}

/// One device as enforcement sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The device's identity: its chains, map entries and sets are named after it
    /// ([`nft_id`]), and `ether saddr` on the LAN is matched against it.
    pub mac: Mac,
    /// IPv4 addresses it uses. Packets addressed to them enter its to-device chain; when the
    /// list is not empty its from-device chain drops IPv4 packets with any other source
    /// (anti-spoofing). No two managed devices may claim one address.
    pub ipv4: Vec<Ipv4Addr>,
    /// IPv6 addresses it uses, as [`Device::ipv4`]; anti-spoofing also lets link-local
    /// sources (`fe80::/10`, RFC 4291 §2.5.6) through, which neighbour discovery needs.
    pub ipv6: Vec<Ipv6Addr>,
    /// How much of the network it may use.
    pub level: Level,
    /// The verified MUD policy, if the device has one. `Declared` requires it.
    pub policy: Option<DevicePolicy>,
    /// Hosts allowed at `update-only`. Empty: the DNS names of the policy's from-device HTTPS
    /// rules (where a vendor's firmware comes from, in practice).
    #[serde(default)]
    pub update_hosts: Vec<String>,
    /// Destinations the owner allows beside the level ([`Exception`]); ignored at `isolated`
    /// and `trusted`.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

impl Device {
    /// All its addresses, IPv4 first.
    pub fn addrs(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.ipv4
            .iter()
            .map(|a| IpAddr::V4(*a))
            .chain(self.ipv6.iter().map(|a| IpAddr::V6(*a)))
    }
}

/// Why a device or the site cannot be turned into nft commands. Nothing is applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompileError {
    /// The device is at [`Level::Declared`] but has no [`Device::policy`] to declare anything.
    #[error("device {0}: level `declared` needs a MUD policy")]
    DeclaredWithoutPolicy(Mac),
    /// A [`Site::lan_interfaces`] entry is not a name nft can take safely
    /// ([`is_safe_ifname`](crate::nft::is_safe_ifname)).
    #[error("LAN interface name {0:?} is not a Linux interface name (1-15 letters, digits, '.', '_', '-', '@')")]
    BadInterface(String),
}

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..4])
}

/// Normalise a DNS name the way comparisons need it: lower case, no trailing dot (RFC 4343).
pub(crate) fn normalize_dns_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum V {
    Four,
    Six,
}

impl V {
    fn suffix(self) -> &'static str {
        match self {
            V::Four => "4",
            V::Six => "6",
        }
    }
    fn addr_type(self) -> &'static str {
        match self {
            V::Four => "ipv4_addr",
            V::Six => "ipv6_addr",
        }
    }
    fn proto(self) -> &'static str {
        match self {
            V::Four => "ip",
            V::Six => "ip6",
        }
    }
    fn nfproto(self) -> &'static str {
        match self {
            V::Four => "ipv4",
            V::Six => "ipv6",
        }
    }
    fn of(addr: &IpAddr) -> V {
        if addr.is_ipv4() {
            V::Four
        } else {
            V::Six
        }
    }
}

fn set_decl(name: String, v: V, flags: Vec<SetFlag>) -> Object {
    Object::Set {
        name,
        key_type: v.addr_type(),
        map_to: None,
        flags,
    }
}

fn addr_elems(addrs: impl IntoIterator<Item = IpAddr>, v: V) -> Vec<Elem> {
    addrs
        .into_iter()
        .filter(|a| V::of(a) == v)
        .map(|a| Elem::key(Val::Lit(a.to_string())))
        .collect()
}

fn net_elems(nets: &[IpNet], v: V) -> Vec<Elem> {
    nets.iter()
        .filter(|n| matches!((n, v), (IpNet::V4(_), V::Four) | (IpNet::V6(_), V::Six)))
        .map(|n| Elem::key(Val::Prefix(n.network().to_string(), n.prefix_len())))
        .collect()
}

/// Names of the per-device objects; the one place that knows them.
pub(crate) struct DeviceNames {
    /// `d<mac>_out`: the device's from-device chain.
    pub(crate) out_chain: String,
    /// `d<mac>_in`: the device's to-device chain.
    pub(crate) in_chain: String,
    id: String,
}

impl DeviceNames {
    /// The names for the device with this MAC address.
    pub(crate) fn new(mac: &Mac) -> Self {
        let id = nft_id(mac);
        DeviceNames {
            out_chain: format!("{id}_out"),
            in_chain: format!("{id}_in"),
            id,
        }
    }
    /// Address set for the `index`-th DNS name of this device.
    pub(crate) fn dns_set(&self, index: usize, v4: bool) -> String {
        format!("{}_n{index}_{}", self.id, if v4 { "4" } else { "6" })
    }
}

/// The symbolic sets a device belongs to (so peers can name it).
fn membership_sets(dev: &Device) -> Vec<String> {
    match &dev.policy {
        Some(p) => vec![
            format!("mfr_{}", short_hash(&p.authority)),
            format!("mdl_{}", short_hash(&p.mud_url)),
        ],
        None => Vec::new(),
    }
}

/// The DNS names a device needs address sets for, at its level, in a stable order: those of
/// its level first, then its owner exceptions' names not already among them.
pub(crate) fn device_dns_names(dev: &Device) -> Vec<String> {
    let mut names = level_dns_names(dev);
    if exceptions_apply(dev.level) {
        for e in &dev.exceptions {
            if let Destination::Name(n) = &e.dest {
                let n = normalize_dns_name(n);
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
    }
    names
}

/// Whether owner exceptions open anything at this level: not at `isolated` (a quarantine is
/// stricter than any exception) nor at `trusted` (which needs none).
fn exceptions_apply(level: Level) -> bool {
    matches!(level, Level::Declared | Level::Default | Level::UpdateOnly)
}

fn level_dns_names(dev: &Device) -> Vec<String> {
    match dev.level {
        Level::Declared => dev
            .policy
            .as_ref()
            .map(|p| p.dns_names().into_iter().map(normalize_dns_name).collect())
            .unwrap_or_default(),
        Level::UpdateOnly => update_hosts(dev),
        Level::Default | Level::Isolated | Level::Trusted => Vec::new(),
    }
}

fn update_hosts(dev: &Device) -> Vec<String> {
    let mut hosts: Vec<String> = if !dev.update_hosts.is_empty() {
        dev.update_hosts
            .iter()
            .map(|h| normalize_dns_name(h))
            .collect()
    } else if let Some(p) = &dev.policy {
        p.rules
            .iter()
            .filter(|r| {
                r.direction == Direction::FromDevice
                    && r.action == Action::Accept
                    && r.protocol == Some(6)
                    && r.dst_port.is_some_and(|pm| pm.matches(443))
            })
            .filter_map(|r| match &r.peer {
                Peer::DnsName(n) => Some(normalize_dns_name(n)),
                _ => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut seen = std::collections::BTreeSet::new();
    hosts.retain(|h| seen.insert(h.clone()));
    hosts
}

/// Compiles devices into nft batches for one site. It only builds batches; applying them is
/// [`Enforcer`](crate::Enforcer)'s (or `nft -f`'s) job.
pub struct Compiler<'a> {
    pub(crate) site: &'a Site,
}

impl<'a> Compiler<'a> {
    /// A compiler whose batches address `site`'s table and resolve MUD abstractions against
    /// its facts.
    pub fn new(site: &'a Site) -> Self {
        Compiler { site }
    }

    /// Elements adding `nets` to the `local_4`/`local_6` sets.
    pub(crate) fn local_network_elems(&self, nets: &[IpNet]) -> Batch {
        let mut b = Batch::new(&self.site.table);
        for v in [V::Four, V::Six] {
            let elems = net_elems(nets, v);
            if !elems.is_empty() {
                b.add(Object::Elements {
                    set: format!("local_{}", v.suffix()),
                    elems,
                });
            }
        }
        b
    }

    /// The table skeleton: sets, maps and base chains, replacing whatever table was there.
    /// `add table; delete table; add table` in one transaction gives a clean slate without
    /// failing when the table does not exist yet.
    pub fn skeleton(&self) -> Batch {
        let mut b = Batch::new(&self.site.table);
        b.add(Object::Table);
        b.delete(Object::Table);
        b.add(Object::Table);
        for v in [V::Four, V::Six] {
            b.add(set_decl(
                format!("local_{}", v.suffix()),
                v,
                vec![SetFlag::Interval],
            ));
            let nets = net_elems(&self.site.local_networks, v);
            if !nets.is_empty() {
                b.add(Object::Elements {
                    set: format!("local_{}", v.suffix()),
                    elems: nets,
                });
            }
            b.add(set_decl(format!("gw_{}", v.suffix()), v, vec![]));
            let gw = addr_elems(self.site.gateway.iter().copied(), v);
            if !gw.is_empty() {
                b.add(Object::Elements {
                    set: format!("gw_{}", v.suffix()),
                    elems: gw,
                });
            }
            b.add(Object::Set {
                name: format!("in_{}", v.suffix()),
                key_type: v.addr_type(),
                map_to: Some("verdict"),
                flags: vec![],
            });
        }
        b.add(Object::Set {
            name: "out_mac".into(),
            key_type: "ether_addr",
            map_to: Some("verdict"),
            flags: vec![],
        });
        b.add(Object::Set {
            name: "managed".into(),
            key_type: "ether_addr",
            map_to: None,
            flags: vec![],
        });
        // Controller classes the operator configured are known up front; classes a policy
        // names but nobody configured are declared (empty) when that policy arrives.
        let mut uris: Vec<&str> = self.site.controllers.keys().map(|s| s.as_str()).collect();
        for u in [CONTROLLER_DNS, CONTROLLER_NTP] {
            if !uris.contains(&u) {
                uris.push(u);
            }
        }
        for uri in uris {
            self.add_addr_sets(
                &mut b,
                &format!("ctl_{}", short_hash(uri)),
                self.site.controller_addrs(uri),
            );
        }
        for (url, addrs) in &self.site.my_controllers {
            self.add_addr_sets(&mut b, &format!("myc_{}", short_hash(url)), addrs.clone());
        }

        let fwd = "forward".to_string();
        b.add(Object::Chain {
            name: fwd.clone(),
            hook: Some("forward"),
        });
        // Fail closed: nothing from an unmanaged LAN source is forwarded (see `lan_interfaces`).
        if let Some(unmanaged) = self.unmanaged_lan_source() {
            b.add(Object::Rule(Rule {
                chain: fwd.clone(),
                conds: unmanaged.clone(),
                counter: true,
                verdict: Some(Verdict::Drop),
                comment: "catch-all:unmanaged-lan-source".into(),
            }));
        }
        for (key, map, comment) in [
            (
                Key::Payload("ether", "saddr"),
                "out_mac",
                "dispatch:from-device",
            ),
            (Key::Payload("ip", "daddr"), "in_4", "dispatch:to-device-v4"),
            (
                Key::Payload("ip6", "daddr"),
                "in_6",
                "dispatch:to-device-v6",
            ),
        ] {
            b.add(Object::Rule(vmap_rule(&fwd, key, map, comment)));
        }

        if let Some(port) = self.site.dns_hold_port {
            let hold = "dns_hold".to_string();
            b.add(Object::Chain {
                name: hold.clone(),
                hook: Some("prerouting"),
            });
            for (v, key) in [(V::Four, "ip"), (V::Six, "ip6")] {
                b.add(Object::Rule(Rule {
                    chain: hold.clone(),
                    conds: vec![
                        Cond::eq(
                            Key::Payload(key, "daddr"),
                            Val::SetRef(format!("gw_{}", v.suffix())),
                        ),
                        Cond::eq(Key::Meta("l4proto"), Val::Num(17)),
                        Cond::eq(Key::Payload("udp", "dport"), Val::Num(53)),
                    ],
                    counter: true,
                    verdict: Some(Verdict::Redirect(port)),
                    comment: format!("dns-hold:{}", v.suffix()),
                }));
            }
        }

        let inp = "input".to_string();
        b.add(Object::Chain {
            name: inp.clone(),
            hook: Some("input"),
        });
        let managed = Cond::eq(
            Key::Payload("ether", "saddr"),
            Val::SetRef("managed".into()),
        );
        // After the DNS hold's redirect the input hook sees its port, not 53.
        let dns_ports = match self.site.dns_hold_port {
            Some(p) => Val::AnonSet(vec![Val::Num(53), Val::Num(p.into())]),
            None => Val::Num(53),
        };
        let infra: [(Vec<Cond>, &str); 3] = [
            // DHCPv4 (RFC 2131) and DHCPv6 (RFC 8415) server ports.
            (
                vec![
                    Cond::eq(Key::Meta("l4proto"), Val::Num(17)),
                    Cond::eq(
                        Key::Payload("udp", "dport"),
                        Val::AnonSet(vec![Val::Num(67), Val::Num(547)]),
                    ),
                ],
                "infra:dhcp",
            ),
            // DNS to the gateway's resolver, over UDP or TCP (RFC 1035 §4.2).
            (
                vec![
                    Cond::eq(
                        Key::Meta("l4proto"),
                        Val::AnonSet(vec![Val::Num(6), Val::Num(17)]),
                    ),
                    Cond::eq(Key::Payload("th", "dport"), dns_ports.clone()),
                ],
                "infra:dns",
            ),
            // IPv6 cannot work without router and neighbour discovery (RFC 4861 §4).
            (
                vec![Cond::eq(
                    Key::Payload("icmpv6", "type"),
                    Val::AnonSet(vec![
                        Val::Lit("nd-router-solicit".into()),
                        Val::Lit("nd-neighbor-solicit".into()),
                        Val::Lit("nd-neighbor-advert".into()),
                    ]),
                )],
                "infra:ipv6-nd",
            ),
        ];
        let unmanaged = self.unmanaged_lan_source();
        for (conds, comment) in infra {
            let mut all = vec![managed.clone()];
            all.extend(conds.iter().cloned());
            b.add(Object::Rule(Rule {
                chain: inp.clone(),
                conds: all,
                counter: true,
                verdict: Some(Verdict::Accept),
                comment: comment.into(),
            }));
            // An unmanaged LAN source gets exactly what `isolated` keeps: DHCP, DNS, ND.
            if let Some(u) = &unmanaged {
                let mut all = u.clone();
                all.extend(conds);
                b.add(Object::Rule(Rule {
                    chain: inp.clone(),
                    conds: all,
                    counter: true,
                    verdict: Some(Verdict::Accept),
                    comment: format!("catch-all:unmanaged-{comment}"),
                }));
            }
        }
        if let Some(u) = unmanaged {
            b.add(Object::Rule(Rule {
                chain: inp.clone(),
                conds: u,
                counter: true,
                verdict: Some(Verdict::Drop),
                comment: "catch-all:unmanaged-lan-source-to-gateway".into(),
            }));
        }
        b.add(Object::Rule(vmap_rule(
            &inp,
            Key::Payload("ether", "saddr"),
            "out_mac",
            "dispatch:from-device-to-gateway",
        )));
        b
    }

    /// Checks the site facts that end up in nft syntax verbatim.
    pub(crate) fn check_site(&self) -> Result<(), CompileError> {
        match self
            .site
            .lan_interfaces
            .iter()
            .find(|i| !crate::nft::is_safe_ifname(i))
        {
            Some(bad) => Err(CompileError::BadInterface(bad.clone())),
            None => Ok(()),
        }
    }

    /// `iifname { LAN } ether saddr != @managed`, when LAN interfaces are configured.
    fn unmanaged_lan_source(&self) -> Option<Vec<Cond>> {
        let ifaces: Vec<Val> = self
            .site
            .lan_interfaces
            .iter()
            .filter(|i| crate::nft::is_safe_ifname(i))
            .map(|i| Val::Str(i.clone()))
            .collect();
        if ifaces.is_empty() {
            return None;
        }
        Some(vec![
            Cond::eq(Key::Meta("iifname"), Val::AnonSet(ifaces)),
            Cond::new(
                Key::Payload("ether", "saddr"),
                Op::Ne,
                Val::SetRef("managed".into()),
            ),
        ])
    }

    fn add_addr_sets(&self, b: &mut Batch, base: &str, addrs: Vec<IpAddr>) {
        for v in [V::Four, V::Six] {
            let name = format!("{base}_{}", v.suffix());
            b.add(set_decl(name.clone(), v, vec![]));
            let elems = addr_elems(addrs.iter().copied(), v);
            if !elems.is_empty() {
                b.add(Object::Elements { set: name, elems });
            }
        }
    }

    /// Everything one device adds to the table: its sets, chains, rules and map entries.
    pub fn add_device(&self, dev: &Device) -> Result<Batch, CompileError> {
        if dev.level == Level::Declared && dev.policy.is_none() {
            return Err(CompileError::DeclaredWithoutPolicy(dev.mac));
        }
        let names = DeviceNames::new(&dev.mac);
        let mut b = Batch::new(&self.site.table);

        // Shared sets this device is a member of, or that its policy refers to. `add set` of an
        // existing set is a no-op, so declaring them again is safe.
        for base in membership_sets(dev) {
            for v in [V::Four, V::Six] {
                let name = format!("{base}_{}", v.suffix());
                b.add(set_decl(name.clone(), v, vec![]));
                let elems = addr_elems(dev.addrs(), v);
                if !elems.is_empty() {
                    b.add(Object::Elements { set: name, elems });
                }
            }
        }
        if dev.level == Level::Declared {
            for base in self.referenced_sets(dev.policy.as_ref().expect("checked above")) {
                for v in [V::Four, V::Six] {
                    b.add(set_decl(format!("{base}_{}", v.suffix()), v, vec![]));
                }
            }
        }
        for (i, _) in device_dns_names(dev).iter().enumerate() {
            for v4 in [true, false] {
                let v = if v4 { V::Four } else { V::Six };
                b.add(set_decl(names.dns_set(i, v4), v, vec![SetFlag::Timeout]));
            }
        }

        b.add(Object::Chain {
            name: names.out_chain.clone(),
            hook: None,
        });
        b.add(Object::Chain {
            name: names.in_chain.clone(),
            hook: None,
        });
        for rule in self.device_rules(dev, &names) {
            b.add(Object::Rule(rule));
        }

        let jump_out = Verdict::Jump(names.out_chain.clone());
        let jump_in = Verdict::Jump(names.in_chain.clone());
        b.add(Object::Elements {
            set: "managed".into(),
            elems: vec![Elem::key(Val::Lit(dev.mac.to_string()))],
        });
        b.add(Object::Elements {
            set: "out_mac".into(),
            elems: vec![Elem {
                key: Val::Lit(dev.mac.to_string()),
                verdict: Some(jump_out),
                timeout_s: None,
            }],
        });
        for v in [V::Four, V::Six] {
            let elems: Vec<Elem> = addr_elems(dev.addrs(), v)
                .into_iter()
                .map(|mut e| {
                    e.verdict = Some(jump_in.clone());
                    e
                })
                .collect();
            if !elems.is_empty() {
                b.add(Object::Elements {
                    set: format!("in_{}", v.suffix()),
                    elems,
                });
            }
        }
        Ok(b)
    }

    /// Undo [`Compiler::add_device`]: map entries first (so nothing jumps to the chains any more),
    /// then the chains, then the sets only this device used. Shared sets stay.
    pub fn remove_device(&self, dev: &Device) -> Batch {
        let names = DeviceNames::new(&dev.mac);
        let mut b = Batch::new(&self.site.table);
        b.delete(Object::Elements {
            set: "out_mac".into(),
            elems: vec![Elem::key(Val::Lit(dev.mac.to_string()))],
        });
        b.delete(Object::Elements {
            set: "managed".into(),
            elems: vec![Elem::key(Val::Lit(dev.mac.to_string()))],
        });
        for v in [V::Four, V::Six] {
            let elems = addr_elems(dev.addrs(), v);
            if elems.is_empty() {
                continue;
            }
            b.delete(Object::Elements {
                set: format!("in_{}", v.suffix()),
                elems: elems.clone(),
            });
            for base in membership_sets(dev) {
                b.delete(Object::Elements {
                    set: format!("{base}_{}", v.suffix()),
                    elems: elems.clone(),
                });
            }
        }
        for chain in [&names.out_chain, &names.in_chain] {
            b.flush(Object::Chain {
                name: chain.clone(),
                hook: None,
            });
            b.delete(Object::Chain {
                name: chain.clone(),
                hook: None,
            });
        }
        for (i, _) in device_dns_names(dev).iter().enumerate() {
            for v4 in [true, false] {
                let v = if v4 { V::Four } else { V::Six };
                b.delete(set_decl(names.dns_set(i, v4), v, vec![]));
            }
        }
        b
    }

    /// Sets a declared policy refers to, beyond the per-device DNS sets.
    fn referenced_sets(&self, p: &DevicePolicy) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &p.rules {
            let s = match &r.peer {
                Peer::Manufacturer(a) => format!("mfr_{}", short_hash(&normalize_dns_name(a))),
                Peer::SameManufacturer => format!("mfr_{}", short_hash(&p.authority)),
                Peer::Model(u) => format!("mdl_{}", short_hash(u)),
                Peer::Controller(u) => format!("ctl_{}", short_hash(u)),
                Peer::MyController => format!("myc_{}", short_hash(&p.mud_url)),
                Peer::Any | Peer::Network(_) | Peer::DnsName(_) | Peer::LocalNetworks => continue,
            };
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// The rules of a device's two chains, ending in the implicit default-deny.
    pub(crate) fn device_rules(&self, dev: &Device, names: &DeviceNames) -> Vec<Rule> {
        let mut rules = anti_spoof_rules(dev, names);
        let dns = device_dns_names(dev);
        match dev.level {
            Level::Declared => {
                let p = dev.policy.as_ref().expect("checked by caller");
                for r in &p.rules {
                    rules.extend(self.mud_rule(p, r, names, &dns));
                }
            }
            Level::Default => rules.extend(default_level_rules(names)),
            Level::UpdateOnly => {
                for (i, host) in dns.iter().enumerate() {
                    for v in [V::Four, V::Six] {
                        let set = names.dns_set(i, v == V::Four);
                        rules.push(Rule {
                            chain: names.out_chain.clone(),
                            conds: vec![
                                Cond::eq(
                                    Key::Payload(v.proto(), "daddr"),
                                    Val::SetRef(set.clone()),
                                ),
                                Cond::eq(Key::Meta("l4proto"), Val::Num(6)),
                                Cond::eq(Key::Payload("tcp", "dport"), Val::Num(443)),
                                Cond::eq(Key::Ct("direction"), Val::Lit("original".into())),
                            ],
                            counter: true,
                            verdict: Some(Verdict::Return),
                            comment: sanitize_comment(&format!(
                                "update-only:{host}#{}",
                                v.suffix()
                            )),
                        });
                        rules.push(Rule {
                            chain: names.in_chain.clone(),
                            conds: vec![
                                Cond::eq(Key::Payload(v.proto(), "saddr"), Val::SetRef(set)),
                                Cond::eq(Key::Meta("l4proto"), Val::Num(6)),
                                Cond::eq(Key::Payload("tcp", "sport"), Val::Num(443)),
                                Cond::eq(Key::Ct("direction"), Val::Lit("reply".into())),
                            ],
                            counter: true,
                            verdict: Some(Verdict::Return),
                            comment: sanitize_comment(&format!(
                                "update-only:{host}#{}",
                                v.suffix()
                            )),
                        });
                    }
                }
            }
            Level::Isolated => {}
            Level::Trusted => rules.extend(trusted_level_rules(names)),
        }
        if exceptions_apply(dev.level) {
            for e in &dev.exceptions {
                rules.extend(exception_rules(e, names, &dns));
            }
        }
        // RFC 8520 §2: a MUD file lists what is allowed; everything else is denied.
        for chain in [&names.out_chain, &names.in_chain] {
            rules.push(Rule {
                chain: chain.clone(),
                conds: vec![],
                counter: true,
                verdict: Some(Verdict::Drop),
                comment: format!("default-deny:{}", dev.level),
            });
        }
        rules
    }

    /// One ACE → one nft rule per address family it can apply to.
    fn mud_rule(
        &self,
        p: &DevicePolicy,
        r: &mud::Rule,
        names: &DeviceNames,
        dns: &[String],
    ) -> Vec<Rule> {
        let (chain, peer_field) = match r.direction {
            Direction::FromDevice => (&names.out_chain, "daddr"),
            Direction::ToDevice => (&names.in_chain, "saddr"),
        };
        let families: Vec<Option<V>> = match (r.family, &r.peer) {
            (Family::Eth, _) => vec![None],
            (_, Peer::Network(IpNet::V4(_))) => vec![Some(V::Four)],
            (_, Peer::Network(IpNet::V6(_))) => vec![Some(V::Six)],
            (Family::Ipv4, _) => vec![Some(V::Four)],
            (Family::Ipv6, _) => vec![Some(V::Six)],
            (Family::Mixed, _) => vec![Some(V::Four), Some(V::Six)],
        };
        let mut out = Vec::new();
        for fam in families {
            let mut conds = Vec::new();
            if let Some(v) = fam {
                conds.push(Cond::eq(Key::Meta("nfproto"), Val::Lit(v.nfproto().into())));
                let set = |base: String| Val::SetRef(format!("{base}_{}", v.suffix()));
                let peer_val = match &r.peer {
                    Peer::Any => None,
                    Peer::Network(n) => Some(Val::Prefix(n.network().to_string(), n.prefix_len())),
                    Peer::DnsName(n) => {
                        let idx = dns
                            .iter()
                            .position(|d| *d == normalize_dns_name(n))
                            .expect("dns_names covers every DnsName peer");
                        Some(Val::SetRef(names.dns_set(idx, v == V::Four)))
                    }
                    Peer::LocalNetworks => Some(set("local".into())),
                    Peer::Manufacturer(a) => {
                        Some(set(format!("mfr_{}", short_hash(&normalize_dns_name(a)))))
                    }
                    Peer::SameManufacturer => {
                        Some(set(format!("mfr_{}", short_hash(&p.authority))))
                    }
                    Peer::Model(u) => Some(set(format!("mdl_{}", short_hash(u)))),
                    Peer::Controller(u) => Some(set(format!("ctl_{}", short_hash(u)))),
                    Peer::MyController => Some(set(format!("myc_{}", short_hash(&p.mud_url)))),
                };
                if let Some(pv) = peer_val {
                    conds.push(Cond::eq(Key::Payload(v.proto(), peer_field), pv));
                }
            }
            if let Some(eth) = &r.eth {
                if let Some(t) = eth.ethertype {
                    conds.push(Cond::eq(Key::Payload("ether", "type"), Val::Num(t.into())));
                }
                if let Some(m) = &eth.peer_mac {
                    conds.push(Cond::eq(
                        Key::Payload("ether", peer_field),
                        Val::Lit(m.to_string()),
                    ));
                }
            }
            if let Some(proto) = r.protocol {
                conds.push(Cond::eq(Key::Meta("l4proto"), Val::Num(proto.into())));
            }
            let l4 = match r.protocol {
                Some(6) => "tcp",
                Some(17) => "udp",
                _ => "th",
            };
            for (pm, field) in [(r.src_port, "sport"), (r.dst_port, "dport")] {
                if let Some(pm) = pm {
                    conds.push(port_cond(l4, field, pm));
                }
            }
            if let Some(icmp) = &r.icmp {
                let proto = if fam == Some(V::Six) {
                    "icmpv6"
                } else {
                    "icmp"
                };
                if let Some(t) = icmp.icmp_type {
                    conds.push(Cond::eq(Key::Payload(proto, "type"), Val::Num(t.into())));
                }
                if let Some(c) = icmp.code {
                    conds.push(Cond::eq(Key::Payload(proto, "code"), Val::Num(c.into())));
                }
            }
            // RFC 8520 §3.17: direction-initiated says which side may open the TCP connection.
            // A packet travelling the way the opener sent it is conntrack's "original" direction.
            if let Some(init) = r.initiated_by {
                let dir = if init == r.direction {
                    "original"
                } else {
                    "reply"
                };
                conds.push(Cond::eq(Key::Ct("direction"), Val::Lit(dir.into())));
            }
            let verdict = match r.action {
                Action::Accept => Verdict::Return,
                Action::Drop => Verdict::Drop,
                Action::Reject => Verdict::Reject,
            };
            let suffix = match fam {
                Some(v) => format!("#{}", v.suffix()),
                None => "#eth".into(),
            };
            out.push(Rule {
                chain: chain.clone(),
                conds,
                counter: true,
                verdict: Some(verdict),
                comment: sanitize_comment(&format!("{}{suffix}", r.name)),
            });
        }
        out
    }
}

/// An owner exception: connections the device opens to the destination, and their replies.
fn exception_rules(e: &Exception, names: &DeviceNames, dns: &[String]) -> Vec<Rule> {
    let families: &[V] = match &e.dest {
        Destination::Network(IpNet::V4(_)) => &[V::Four],
        Destination::Network(IpNet::V6(_)) => &[V::Six],
        Destination::Name(_) => &[V::Four, V::Six],
    };
    let mut rules = Vec::new();
    for &v in families {
        let peer = match &e.dest {
            Destination::Network(n) => Val::Prefix(n.network().to_string(), n.prefix_len()),
            Destination::Name(n) => {
                let idx = dns
                    .iter()
                    .position(|d| *d == normalize_dns_name(n))
                    .expect("device_dns_names covers every exception name");
                Val::SetRef(names.dns_set(idx, v == V::Four))
            }
        };
        for (chain, peer_field, port_field, direction) in [
            (&names.out_chain, "daddr", "dport", "original"),
            (&names.in_chain, "saddr", "sport", "reply"),
        ] {
            let mut conds = vec![
                Cond::eq(Key::Meta("nfproto"), Val::Lit(v.nfproto().into())),
                Cond::eq(Key::Payload(v.proto(), peer_field), peer.clone()),
            ];
            if let Some(t) = e.transport {
                conds.push(Cond::eq(Key::Meta("l4proto"), Val::Num(t.number().into())));
                if let Some(p) = e.port {
                    conds.push(Cond::eq(
                        Key::Payload(t.as_str(), port_field),
                        Val::Num(p.into()),
                    ));
                }
            }
            conds.push(Cond::eq(Key::Ct("direction"), Val::Lit(direction.into())));
            rules.push(Rule {
                chain: chain.clone(),
                conds,
                counter: true,
                verdict: Some(Verdict::Return),
                // The rule's identity: the exception's spelling with `_` for its space.
                comment: sanitize_comment(&format!(
                    "owner-exception:{}#{}",
                    e.to_string().replace(' ', "_"),
                    v.suffix()
                )),
            });
        }
    }
    rules
}

/// A device may only send from its own addresses: without this, a device could use a peer's
/// address to borrow that peer's to-device policy on the way back (RFC 2827-style ingress
/// filtering, per device). IPv6 link-local sources stay allowed (neighbour discovery, RFC 4861).
/// A family with no known address is not checked, so a device still completing DHCP works.
fn anti_spoof_rules(dev: &Device, names: &DeviceNames) -> Vec<Rule> {
    let mut rules = Vec::new();
    let v4: Vec<Val> = dev.ipv4.iter().map(|a| Val::Lit(a.to_string())).collect();
    let mut v6: Vec<Val> = dev.ipv6.iter().map(|a| Val::Lit(a.to_string())).collect();
    for (v, addrs) in [(V::Four, v4), (V::Six, std::mem::take(&mut v6))] {
        if addrs.is_empty() {
            continue;
        }
        let mut allowed = addrs;
        if v == V::Six {
            allowed.push(Val::Prefix("fe80::".into(), 10));
        }
        // "source is none of these" as a conjunction of `!=` tests rather than `!= { … }`: an
        // anonymous set is one more kernel set object per device, and thousands of them slowed
        // every later nft call (enforce bench: adding one device to 1000 went from 19 to 98 ms).
        let mut conds = vec![Cond::eq(Key::Meta("nfproto"), Val::Lit(v.nfproto().into()))];
        conds.extend(
            allowed
                .into_iter()
                .map(|a| Cond::new(Key::Payload(v.proto(), "saddr"), Op::Ne, a)),
        );
        rules.push(Rule {
            chain: names.out_chain.clone(),
            conds,
            counter: true,
            verdict: Some(Verdict::Drop),
            comment: format!("anti-spoof#{}", v.suffix()),
        });
    }
    rules
}

fn vmap_rule(chain: &str, key: Key, map: &str, comment: &str) -> Rule {
    Rule {
        chain: chain.to_string(),
        conds: vec![],
        counter: false,
        verdict: Some(Verdict::Vmap(key, map.to_string())),
        comment: comment.to_string(),
    }
}

fn port_cond(l4: &'static str, field: &'static str, pm: PortMatch) -> Cond {
    let key = Key::Payload(l4, field);
    match pm {
        PortMatch::Eq(p) => Cond::new(key, Op::Eq, Val::Num(p.into())),
        PortMatch::Neq(p) => Cond::new(key, Op::Ne, Val::Num(p.into())),
        PortMatch::Lte(p) => Cond::new(key, Op::Le, Val::Num(p.into())),
        PortMatch::Gte(p) => Cond::new(key, Op::Ge, Val::Num(p.into())),
        PortMatch::Range(a, b) => Cond::new(key, Op::Eq, Val::Range(a.into(), b.into())),
    }
}

/// `default`: NTP to the gateway and HTTPS to the internet that the device starts
/// itself; no LAN peers. DNS and DHCP come from the input chain's infrastructure rules.
fn default_level_rules(names: &DeviceNames) -> Vec<Rule> {
    let mut rules = Vec::new();
    for v in [V::Four, V::Six] {
        let s = v.suffix();
        let rule = |chain: &String, conds: Vec<Cond>, verdict: Verdict, what: &str| Rule {
            chain: chain.clone(),
            conds,
            counter: true,
            verdict: Some(verdict),
            comment: format!("default:{what}#{s}"),
        };
        rules.push(rule(
            &names.out_chain,
            vec![
                Cond::eq(
                    Key::Payload(v.proto(), "daddr"),
                    Val::SetRef(format!("gw_{s}")),
                ),
                Cond::eq(Key::Meta("l4proto"), Val::Num(17)),
                Cond::eq(Key::Payload("udp", "dport"), Val::Num(123)),
            ],
            Verdict::Return,
            "ntp-via-gateway",
        ));
        rules.push(rule(
            &names.out_chain,
            vec![Cond::eq(
                Key::Payload(v.proto(), "daddr"),
                Val::SetRef(format!("local_{s}")),
            )],
            Verdict::Drop,
            "no-lan-peers",
        ));
        rules.push(rule(
            &names.out_chain,
            vec![
                Cond::eq(Key::Meta("nfproto"), Val::Lit(v.nfproto().into())),
                Cond::eq(Key::Meta("l4proto"), Val::Num(6)),
                Cond::eq(Key::Payload("tcp", "dport"), Val::Num(443)),
                Cond::eq(Key::Ct("direction"), Val::Lit("original".into())),
            ],
            Verdict::Return,
            "https-out",
        ));
        rules.push(rule(
            &names.in_chain,
            vec![Cond::eq(
                Key::Payload(v.proto(), "saddr"),
                Val::SetRef(format!("local_{s}")),
            )],
            Verdict::Drop,
            "no-lan-peers",
        ));
        rules.push(rule(
            &names.in_chain,
            vec![
                Cond::eq(Key::Meta("nfproto"), Val::Lit(v.nfproto().into())),
                Cond::eq(Key::Meta("l4proto"), Val::Num(6)),
                Cond::eq(Key::Payload("tcp", "sport"), Val::Num(443)),
                Cond::eq(Key::Ct("direction"), Val::Lit("reply".into())),
            ],
            Verdict::Return,
            "https-replies",
        ));
    }
    rules
}

/// `trusted`: everything out (after anti-spoofing); in, LAN peers and replies to what the device
/// opened.
fn trusted_level_rules(names: &DeviceNames) -> Vec<Rule> {
    let rule = |chain: &String, conds: Vec<Cond>, what: &str| Rule {
        chain: chain.clone(),
        conds,
        counter: true,
        verdict: Some(Verdict::Return),
        comment: format!("trusted:{what}"),
    };
    let mut rules = vec![rule(&names.out_chain, vec![], "all-out")];
    for v in [V::Four, V::Six] {
        let s = v.suffix();
        rules.push(rule(
            &names.in_chain,
            vec![Cond::eq(
                Key::Payload(v.proto(), "saddr"),
                Val::SetRef(format!("local_{s}")),
            )],
            &format!("lan-peers#{s}"),
        ));
    }
    rules.push(rule(
        &names.in_chain,
        vec![Cond::eq(Key::Ct("direction"), Val::Lit("reply".into()))],
        "replies",
    ));
    rules
}

/// The level a device should be at, from what is known about it, before any
/// behaviour-based quarantine.
pub fn level_for(policy: Option<&DevicePolicy>, label_revoked_or_unsupported: bool) -> Level {
    match policy {
        None => Level::Default,
        Some(p) if !p.is_supported || label_revoked_or_unsupported => Level::UpdateOnly,
        Some(_) => Level::Declared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mud::{Action, Family, Rule as MudRule};

    fn policy_with(name: &str, peer: Peer) -> DevicePolicy {
        DevicePolicy {
            mud_url: "https://evil.example/x".into(),
            authority: "evil.example".into(),
            is_supported: true,
            cache_validity_hours: 48,
            systeminfo: None,
            mfg_name: None,
            model_name: None,
            documentation: None,
            mud_signature: None,
            rules: vec![MudRule {
                name: name.into(),
                direction: Direction::FromDevice,
                family: Family::Ipv4,
                peer,
                protocol: Some(6),
                src_port: None,
                dst_port: Some(PortMatch::Range(1000, 2000)),
                icmp: None,
                eth: None,
                initiated_by: Some(Direction::FromDevice),
                action: Action::Accept,
            }],
        }
    }

    fn compile(p: DevicePolicy) -> crate::nft::Batch {
        let site = Site::default();
        let dev = Device {
            mac: "02:00:00:00:00:01".parse().unwrap(),
            ipv4: vec!["192.168.1.2".parse().unwrap()],
            ipv6: vec![],
            level: Level::Declared,
            policy: Some(p),
            update_hosts: vec![],
            exceptions: vec![],
        };
        Compiler::new(&site).add_device(&dev).unwrap()
    }

    #[test]
    fn mud_content_cannot_inject_nft_syntax() {
        // ACE names end up in comments, DNS names only select a set by index: neither may
        // reach the ruleset text as syntax.
        let evil = "x\" ; flush ruleset ; add rule inet trustgate forward accept comment \"";
        let text = compile(policy_with(
            evil,
            Peer::DnsName("a\";flush ruleset;\".example".into()),
        ))
        .to_text();
        assert!(!text.contains("flush ruleset"), "{text}");
        for line in text.lines() {
            assert_eq!(
                line.matches('"').count() % 2,
                0,
                "unbalanced quotes: {line}"
            );
            assert!(
                !line.contains(';') || line.contains("{ type"),
                "stray ';' in {line}"
            );
        }
    }

    #[test]
    fn direction_initiated_maps_to_conntrack_direction() {
        // RFC 8520 §3.17: a from-device rule for connections the device opens sees its packets in
        // conntrack's original direction; the replies (to-device) in the reply direction.
        let text = compile(policy_with("acl/ace", Peer::Any)).to_text();
        let rule = text.lines().find(|l| l.contains("acl/ace#4")).unwrap();
        assert!(rule.contains("ct direction original"), "{rule}");
        assert!(rule.contains("tcp dport 1000-2000"), "{rule}");
        assert!(rule.contains("meta nfproto ipv4"), "{rule}");
        let mut p = policy_with("acl/ace", Peer::Any);
        p.rules[0].direction = Direction::ToDevice;
        let text = compile(p).to_text();
        let rule = text.lines().find(|l| l.contains("acl/ace#4")).unwrap();
        assert!(rule.contains("ct direction reply"), "{rule}");
    }

    #[test]
    fn json_and_text_renderings_carry_the_same_commands() {
        let b = compile(policy_with("acl/ace", Peer::SameManufacturer));
        let json = b.to_json();
        let cmds = json["nftables"].as_array().unwrap();
        assert_eq!(cmds.len(), b.to_text().lines().count());
        let rules = cmds
            .iter()
            .filter(|c| c.pointer("/add/rule").is_some())
            .count();
        assert_eq!(rules, b.rules_added());
    }

    #[test]
    fn owner_exceptions_open_one_destination_before_the_default_deny() {
        let site = Site::default();
        let mut dev = Device {
            mac: "02:00:00:00:00:01".parse().unwrap(),
            ipv4: vec!["192.168.1.2".parse().unwrap()],
            ipv6: vec![],
            level: Level::Declared,
            policy: Some(policy_with("acl/ace", Peer::DnsName("a.example".into()))),
            update_hosts: vec![],
            exceptions: vec![
                "weather.example.com tcp/443".parse().unwrap(),
                "a.example".parse().unwrap(),
                "192.0.2.0/24 udp/123".parse().unwrap(),
            ],
        };
        let text = Compiler::new(&site).add_device(&dev).unwrap().to_text();
        let lines: Vec<&str> = text.lines().collect();
        let pos = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
        };
        // The exception's name gets the next DNS set after the policy's own; a name the policy
        // already has shares its set.
        let out = lines[pos("owner-exception:weather.example.com_tcp/443#4")];
        assert!(out.contains("ip daddr @d020000000001_n1_4"), "{out}");
        assert!(out.contains("tcp dport 443"), "{out}");
        assert!(out.contains("ct direction original"), "{out}");
        assert!(text.contains("add set inet trustgate d020000000001_n1_6"));
        assert!(!text.contains("d020000000001_n2_4"), "{text}");
        let shared = lines[pos("owner-exception:a.example#4")];
        assert!(shared.contains("@d020000000001_n0_4"), "{shared}");
        let net = lines[pos("owner-exception:192.0.2.0/24_udp/123#4")];
        assert!(net.contains("ip daddr 192.0.2.0/24"), "{net}");
        assert!(!text.contains("owner-exception:192.0.2.0/24_udp/123#6"));
        // Replies come back through the to-device chain, and everything sits before the deny.
        let back = lines
            .iter()
            .rposition(|l| l.contains("owner-exception:weather.example.com_tcp/443#4"))
            .unwrap();
        assert!(lines[back].contains("_in ") && lines[back].contains("ct direction reply"));
        assert!(pos("default-deny") > back);
        // A quarantine ignores them; so does trust, which needs none.
        for level in [Level::Isolated, Level::Trusted] {
            dev.level = level;
            let text = Compiler::new(&site).add_device(&dev).unwrap().to_text();
            assert!(!text.contains("owner-exception"), "{level}: {text}");
        }
        dev.level = Level::Default;
        dev.policy = None;
        let text = Compiler::new(&site).add_device(&dev).unwrap().to_text();
        assert!(text.contains("owner-exception:weather.example.com_tcp/443#6"));
        assert!(text.contains("@d020000000001_n0_4"), "{text}");
    }

    #[test]
    fn level_for_follows_design_section_5() {
        let p = policy_with("a/b", Peer::Any);
        assert_eq!(level_for(None, false), Level::Default);
        assert_eq!(level_for(Some(&p), false), Level::Declared);
        assert_eq!(level_for(Some(&p), true), Level::UpdateOnly);
        let mut unsupported = p.clone();
        unsupported.is_supported = false;
        assert_eq!(level_for(Some(&unsupported), false), Level::UpdateOnly);
    }

    #[test]
    fn mac_addresses_parse_strictly() {
        assert_eq!(
            "02:AA:bb:00:01:ff".parse::<Mac>().unwrap().to_string(),
            "02:aa:bb:00:01:ff"
        );
        assert!("02:aa:bb:00:01".parse::<Mac>().is_err());
        assert!("02:aa:bb:00:01:fff".parse::<Mac>().is_err());
        assert!("02:aa:bb:00:01:zz".parse::<Mac>().is_err());
    }
}
