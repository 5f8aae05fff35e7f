//! A small typed model of the nftables commands we emit, rendered two ways from one source:
//! libnftables JSON (`nft -j -f`, what we apply) and nft's native syntax (what people read and
//! what `nft -c -f` checks).
//!
//! Why not the `nftables` crate's schema types: its 0.6 `SetType` has no `verdict` member, so it
//! cannot declare the verdict maps our per-device dispatch is built on, and we need the native
//! rendering anyway. The JSON here follows libnftables-json(5).

use serde_json::{json, Value};
use std::fmt::Write as _;

/// Address family of the table (`nft` families we use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFamily {
    /// `inet`: one table sees both IPv4 and IPv6 packets, on the same hooks (nft(8), ADDRESS
    /// FAMILIES), so one device's chains cover both.
    Inet,
}

impl TableFamily {
    /// The family's keyword, the same in native syntax and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TableFamily::Inet => "inet",
        }
    }
}

/// The right-hand side of a match, or a set element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    /// A number: a protocol, a port, an ICMP type or code, an EtherType.
    Num(u32),
    /// A literal nft understands as-is: an address, a MAC, a keyword such as `original`.
    Lit(String),
    /// A quoted string (an interface name): `"br-lan"` in native syntax, a JSON string in JSON.
    /// Only ever built from values checked by [`is_safe_ifname`].
    Str(String),
    /// `addr/len`.
    Prefix(String, u8),
    /// Inclusive range, `a-b` (a port range of RFC 8519's `lower-port`/`upper-port`).
    Range(u32, u32),
    /// A named set, `@name`.
    SetRef(String),
    /// An anonymous set `{ a, b }`.
    AnonSet(Vec<Val>),
}

/// How a match compares its key with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal, or a member of the set on the right. Implicit in native syntax (`tcp dport 443`).
    Eq,
    /// Not equal, not a member.
    Ne,
    /// At most (`<=`).
    Le,
    /// At least (`>=`).
    Ge,
}

impl Op {
    fn json(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Le => "<=",
            Op::Ge => ">=",
        }
    }
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "",
            Op::Ne => "!= ",
            Op::Le => "<= ",
            Op::Ge => ">= ",
        }
    }
}

/// The left-hand side of a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// `meta <key>` (nfproto, l4proto).
    Meta(&'static str),
    /// `<proto> <field>`: a packet header field (ip saddr, tcp dport, ether type …).
    Payload(&'static str, &'static str),
    /// `ct <key>` (direction, state).
    Ct(&'static str),
}

/// One match, `key op val` (`tcp dport 443`, `ip saddr != 10.0.0.2`). A rule's matches all
/// have to hold for its verdict to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// What of the packet is compared.
    pub key: Key,
    /// How it is compared.
    pub op: Op,
    /// What it is compared with.
    pub val: Val,
}

impl Cond {
    /// The match `key op val`.
    pub fn new(key: Key, op: Op, val: Val) -> Self {
        Cond { key, op, val }
    }
    /// The match `key == val`.
    pub fn eq(key: Key, val: Val) -> Self {
        Cond::new(key, Op::Eq, val)
    }
}

/// What happens to a packet whose rule matched (nft(8), VERDICT STATEMENT), or where a
/// verdict-map element leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `accept`: the packet passes this base chain and no further rule of it is evaluated
    /// (a base chain of another table on the same hook still sees it).
    Accept,
    /// `drop`: the packet is discarded silently; evaluation ends.
    Drop,
    /// `reject`: dropped, and the sender told (an ICMP/ICMPv6 port unreachable, nft's default
    /// without `with`).
    Reject,
    /// `return`: evaluation goes on after the rule that jumped into this chain. How a device
    /// chain's allow rule hands the packet on, so it still meets the peer's own chain.
    Return,
    /// `jump <chain>`: evaluate that chain; when it returns, go on after this rule.
    Jump(String),
    /// `<key> vmap @map`: the verdict is looked up in a verdict map by a packet field.
    Vmap(Key, String),
    /// `redirect to :<port>` (only in a `prerouting` chain, which is of type nat): the packet
    /// goes to this port of the gateway itself; replies are translated back by conntrack.
    Redirect(u16),
}

/// One rule: all conditions must hold; then count, then the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The chain the rule is appended to.
    pub chain: String,
    /// Matches, all of which must hold; an empty list matches every packet.
    pub conds: Vec<Cond>,
    /// Count the packets and bytes that matched ([`RuleCounter`](crate::RuleCounter)).
    pub counter: bool,
    /// What to do with a matching packet. `None`: go on with the next rule (after counting,
    /// if [`Rule::counter`]).
    pub verdict: Option<Verdict>,
    /// Rule identity for read-back and counters. At most [`MAX_COMMENT`] bytes.
    pub comment: String,
}

/// Longest rule comment we write, in bytes. The kernel stores at most 128 bytes of user data
/// for a comment (NFTNL_UDATA_COMMENT_MAXLEN); we stay below it.
pub const MAX_COMMENT: usize = 120;

/// Flags of a named set (nft(8), SETS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetFlag {
    /// `interval`: elements may be prefixes or ranges; the kernel refuses overlapping ones.
    Interval,
    /// `timeout`: elements may carry a timeout and disappear when it runs out.
    Timeout,
}

impl SetFlag {
    fn as_str(&self) -> &'static str {
        match self {
            SetFlag::Interval => "interval",
            SetFlag::Timeout => "timeout",
        }
    }
}

/// One element of a set or map, with an optional per-element timeout in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elem {
    /// The element itself (an address, a prefix, a MAC); a map's lookup key.
    pub key: Val,
    /// For verdict maps: where the key leads.
    pub verdict: Option<Verdict>,
    /// Seconds until the kernel removes the element; needs a set with [`SetFlag::Timeout`].
    pub timeout_s: Option<u32>,
}

impl Elem {
    /// A plain set element: no verdict, no timeout.
    pub fn key(key: Val) -> Self {
        Elem {
            key,
            verdict: None,
            timeout_s: None,
        }
    }
}

/// What a command acts on, inside the batch's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// The table itself.
    Table,
    /// A named set (`map_to` = None) or verdict map (`map_to` = Some("verdict")).
    Set {
        /// Its name, referred to as `@name`.
        name: String,
        /// The type of its elements (`ipv4_addr`, `ipv6_addr`, `ether_addr`).
        key_type: &'static str,
        /// What a map's elements lead to; `None` for a set.
        map_to: Option<&'static str>,
        /// Only sent with `add`.
        flags: Vec<SetFlag>,
    },
    /// A regular chain, or a base chain when `hook` is set.
    Chain {
        /// Its name, the target of [`Verdict::Jump`].
        name: String,
        /// The netfilter hook (`forward`, `input`) of a base chain: type filter, priority
        /// filter (0), policy accept; `prerouting`: type nat, priority dstnat. Only sent with
        /// `add`.
        hook: Option<&'static str>,
    },
    /// One rule, appended to its chain.
    Rule(Rule),
    /// Elements of a named set or map.
    Elements {
        /// The set's or map's name.
        set: String,
        /// The elements added or deleted.
        elems: Vec<Elem>,
    },
}

/// What a command does to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Create the object; a rule is appended to its chain. Adding a table, chain or set that
    /// already exists is not an error (unlike `create`): [`Compiler::skeleton`] and
    /// [`Compiler::add_device`] rely on it.
    ///
    /// [`Compiler::skeleton`]: crate::Compiler::skeleton
    /// [`Compiler::add_device`]: crate::Compiler::add_device
    Add,
    /// Remove it; an error if it does not exist, which fails the whole batch.
    Delete,
    /// Empty a chain of its rules (or a set of its elements), keeping the object.
    Flush,
}

impl Verb {
    /// The command word, the same in nft's native syntax and its JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Add => "add",
            Verb::Delete => "delete",
            Verb::Flush => "flush",
        }
    }
}

/// One nft command: a verb applied to an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// What is done.
    pub verb: Verb,
    /// What it is done to.
    pub object: Object,
}

/// An ordered list of commands that nft applies as one transaction: all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// The table's family; `None` (only from `Default`) renders as `inet`.
    pub family: Option<TableFamily>,
    /// The one table every command addresses.
    pub table: String,
    /// In the order nft executes them.
    pub commands: Vec<Command>,
}

impl Batch {
    /// An empty batch for the `inet` table `table`.
    pub fn new(table: &str) -> Self {
        Batch {
            family: Some(TableFamily::Inet),
            table: table.to_string(),
            commands: Vec::new(),
        }
    }
    /// Append `add <object>`.
    pub fn add(&mut self, object: Object) {
        self.commands.push(Command {
            verb: Verb::Add,
            object,
        });
    }
    /// Append `delete <object>`.
    pub fn delete(&mut self, object: Object) {
        self.commands.push(Command {
            verb: Verb::Delete,
            object,
        });
    }
    /// Append `flush <object>`.
    pub fn flush(&mut self, object: Object) {
        self.commands.push(Command {
            verb: Verb::Flush,
            object,
        });
    }
    /// Append `other`'s commands after ours, in order (its table and family are not checked:
    /// both come from one [`Compiler`](crate::Compiler)).
    pub fn extend(&mut self, other: Batch) {
        self.commands.extend(other.commands);
    }
    /// No commands: applying it changes nothing, and
    /// [`NftRunner::apply`](crate::NftRunner::apply) does not run nft.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
    fn family(&self) -> &'static str {
        self.family.unwrap_or(TableFamily::Inet).as_str()
    }

    /// Number of rules this batch adds (for the rule-growth benchmark).
    pub fn rules_added(&self) -> usize {
        self.commands
            .iter()
            .filter(|c| c.verb == Verb::Add && matches!(c.object, Object::Rule(_)))
            .count()
    }

    /// libnftables JSON, as `nft -j -f` reads it.
    pub fn to_json(&self) -> Value {
        let fam = self.family();
        let table = self.table.as_str();
        let mut cmds = Vec::with_capacity(self.commands.len());
        for c in &self.commands {
            let obj = match &c.object {
                Object::Table => json!({"table": {"family": fam, "name": table}}),
                Object::Set {
                    name,
                    key_type,
                    map_to,
                    flags,
                } => {
                    let mut o =
                        json!({"family": fam, "table": table, "name": name, "type": key_type});
                    if !flags.is_empty() && c.verb == Verb::Add {
                        o["flags"] = flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().into();
                    }
                    match map_to {
                        Some(to) => {
                            o["map"] = json!(to);
                            json!({ "map": o })
                        }
                        None => json!({ "set": o }),
                    }
                }
                Object::Chain { name, hook } => {
                    let mut o = json!({"family": fam, "table": table, "name": name});
                    if let (Some(h), Verb::Add) = (hook, c.verb) {
                        let (ty, prio, _) = chain_kind(h);
                        o["type"] = json!(ty);
                        o["hook"] = json!(h);
                        o["prio"] = json!(prio);
                        o["policy"] = json!("accept");
                    }
                    json!({ "chain": o })
                }
                Object::Rule(r) => {
                    let mut expr: Vec<Value> = r.conds.iter().map(cond_json).collect();
                    if r.counter {
                        expr.push(json!({"counter": null}));
                    }
                    if let Some(v) = &r.verdict {
                        expr.push(verdict_json(v));
                    }
                    json!({"rule": {"family": fam, "table": table, "chain": r.chain,
                                    "expr": expr, "comment": r.comment}})
                }
                Object::Elements { set, elems } => {
                    let e: Vec<Value> = elems.iter().map(elem_json).collect();
                    json!({"element": {"family": fam, "table": table, "name": set, "elem": e}})
                }
            };
            let verb = c.verb.as_str();
            cmds.push(json!({ verb: obj }));
        }
        json!({ "nftables": cmds })
    }

    /// nft's native syntax, one command per line, for `nft -f` (and `nft -c -f`).
    pub fn to_text(&self) -> String {
        let fam = self.family();
        let t = self.table.as_str();
        let mut out = String::new();
        for c in &self.commands {
            let verb = c.verb.as_str();
            match &c.object {
                Object::Table => {
                    let _ = writeln!(out, "{verb} table {fam} {t}");
                }
                Object::Set {
                    name,
                    key_type,
                    map_to,
                    flags,
                } => {
                    let kind = if map_to.is_some() { "map" } else { "set" };
                    if c.verb != Verb::Add {
                        let _ = writeln!(out, "{verb} {kind} {fam} {t} {name}");
                        continue;
                    }
                    let ty = match map_to {
                        Some(to) => format!("{key_type} : {to}"),
                        None => key_type.to_string(),
                    };
                    let fl = if flags.is_empty() {
                        String::new()
                    } else {
                        let f: Vec<_> = flags.iter().map(|f| f.as_str()).collect();
                        format!(" flags {};", f.join(","))
                    };
                    let _ = writeln!(out, "{verb} {kind} {fam} {t} {name} {{ type {ty};{fl} }}");
                }
                Object::Chain { name, hook } => match (hook, c.verb) {
                    (Some(h), Verb::Add) => {
                        let (ty, _, prio) = chain_kind(h);
                        let _ = writeln!(
                            out,
                            "{verb} chain {fam} {t} {name} {{ type {ty} hook {h} priority {prio}; policy accept; }}"
                        );
                    }
                    _ => {
                        let _ = writeln!(out, "{verb} chain {fam} {t} {name}");
                    }
                },
                Object::Rule(r) => {
                    let mut parts: Vec<String> = r.conds.iter().map(cond_text).collect();
                    if r.counter {
                        parts.push("counter".into());
                    }
                    if let Some(v) = &r.verdict {
                        parts.push(verdict_text(v));
                    }
                    let _ = writeln!(
                        out,
                        "{verb} rule {fam} {t} {} {} comment \"{}\"",
                        r.chain,
                        parts.join(" "),
                        r.comment
                    );
                }
                Object::Elements { set, elems } => {
                    let e: Vec<String> = elems.iter().map(elem_text).collect();
                    let _ = writeln!(out, "{verb} element {fam} {t} {set} {{ {} }}", e.join(", "));
                }
            }
        }
        out
    }
}

fn key_json(k: &Key) -> Value {
    match k {
        Key::Meta(m) => json!({"meta": {"key": m}}),
        Key::Payload(p, f) => json!({"payload": {"protocol": p, "field": f}}),
        Key::Ct(c) => json!({"ct": {"key": c}}),
    }
}

fn key_text(k: &Key) -> String {
    match k {
        Key::Meta(m) => format!("meta {m}"),
        Key::Payload(p, f) => format!("{p} {f}"),
        Key::Ct(c) => format!("ct {c}"),
    }
}

fn val_json(v: &Val) -> Value {
    match v {
        Val::Num(n) => json!(n),
        Val::Lit(s) | Val::Str(s) => json!(s),
        Val::Prefix(a, l) => json!({"prefix": {"addr": a, "len": l}}),
        Val::Range(a, b) => json!({"range": [a, b]}),
        Val::SetRef(s) => json!(format!("@{s}")),
        Val::AnonSet(items) => json!({"set": items.iter().map(val_json).collect::<Vec<_>>()}),
    }
}

fn val_text(v: &Val) -> String {
    match v {
        Val::Num(n) => n.to_string(),
        Val::Lit(s) => s.clone(),
        Val::Str(s) => format!("\"{s}\""),
        Val::Prefix(a, l) => format!("{a}/{l}"),
        Val::Range(a, b) => format!("{a}-{b}"),
        Val::SetRef(s) => format!("@{s}"),
        Val::AnonSet(items) => {
            let i: Vec<String> = items.iter().map(val_text).collect();
            format!("{{ {} }}", i.join(", "))
        }
    }
}

fn cond_json(c: &Cond) -> Value {
    json!({"match": {"op": c.op.json(), "left": key_json(&c.key), "right": val_json(&c.val)}})
}

fn cond_text(c: &Cond) -> String {
    format!("{} {}{}", key_text(&c.key), c.op.text(), val_text(&c.val))
}

/// A base chain's type and priority (number, name) by hook: `prerouting` is the address
/// translation chain (type nat, priority dstnat = -100); every other hook is a filter chain
/// at priority filter (0).
fn chain_kind(hook: &str) -> (&'static str, i32, &'static str) {
    match hook {
        "prerouting" => ("nat", -100, "dstnat"),
        _ => ("filter", 0, "filter"),
    }
}

fn verdict_json(v: &Verdict) -> Value {
    match v {
        Verdict::Accept => json!({"accept": null}),
        Verdict::Drop => json!({"drop": null}),
        Verdict::Reject => json!({"reject": null}),
        Verdict::Return => json!({"return": null}),
        Verdict::Jump(t) => json!({"jump": {"target": t}}),
        Verdict::Vmap(k, m) => json!({"vmap": {"key": key_json(k), "data": format!("@{m}")}}),
        Verdict::Redirect(p) => json!({"redirect": {"port": p}}),
    }
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Accept => "accept".into(),
        Verdict::Drop => "drop".into(),
        Verdict::Reject => "reject".into(),
        Verdict::Return => "return".into(),
        Verdict::Jump(t) => format!("jump {t}"),
        Verdict::Vmap(k, m) => format!("{} vmap @{m}", key_text(k)),
        Verdict::Redirect(p) => format!("redirect to :{p}"),
    }
}

fn elem_json(e: &Elem) -> Value {
    let key = match e.timeout_s {
        Some(t) => json!({"elem": {"val": val_json(&e.key), "timeout": t}}),
        None => val_json(&e.key),
    };
    match &e.verdict {
        Some(v) => json!([key, verdict_json(v)]),
        None => key,
    }
}

fn elem_text(e: &Elem) -> String {
    let mut s = val_text(&e.key);
    if let Some(t) = e.timeout_s {
        let _ = write!(s, " timeout {t}s");
    }
    if let Some(v) = &e.verdict {
        let _ = write!(s, " : {}", verdict_text(v));
    }
    s
}

/// A Linux interface name nft can take quoted without escaping: 1–15 bytes (IFNAMSIZ − 1) of
/// ASCII letters, digits, `.`, `_`, `-` and `@`.
pub fn is_safe_ifname(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

/// Make an untrusted name (from a MUD file) safe and short enough for an nft comment.
pub(crate) fn sanitize_comment(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-/:#@+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.len() > MAX_COMMENT {
        out.truncate(MAX_COMMENT);
    }
    out
}
