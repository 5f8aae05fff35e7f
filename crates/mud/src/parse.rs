//! Parsing MUD JSON into the policy IR (strict and lenient modes).
//!
//! A MUD file (RFC 8520) is the JSON encoding (RFC 7951) of two YANG trees: the
//! `ietf-mud:mud` container, which describes the device and names the ACLs that apply
//! to traffic from and to it, and the `ietf-access-control-list:acls` container
//! (RFC 8519), which holds those ACLs. This module walks a [`serde_json::Value`] by
//! hand rather than deriving a deserializer, for two reasons: every error and warning
//! carries the JSON-pointer path of the offending node, and lenient mode has to accept
//! draft-era member names next to the final ones.
//!
//! # Modes
//!
//! [`Mode::Strict`] rejects anything RFC 8520/8519 do not allow. [`Mode::Lenient`]
//! accepts files written against the drafts that preceded the RFCs (many real files
//! are), turning each departure into a [`Warning`] that says what was assumed. Some
//! things are refused in both modes because no guess is safe: a `mud-url` that is not
//! `https`, a missing `is-supported`, a reference to an ACL that does not exist, a
//! `protocol` that contradicts the `tcp`/`udp`/`icmp` container.
//!
//! Members nobody here understands are ignored, as RFC 8520 §3.9 asks of extensions,
//! but each one is reported as a [`Warning`] in both modes so that a person reviewing
//! a policy can see what was not enforced.
//!
//! # Lenient-mode decisions
//!
//! * Missing `mud-version`: assumed to be 1 (draft files predate the leaf).
//! * An ACE naming more than one peer (e.g. `local-networks` together with
//!   `destination-ipv4-network` 255.255.255.255/32, common in real files for DHCP and
//!   multicast): the IR has room for one peer, so the most specific one is kept, in the
//!   order literal network, DNS name, `model`, `my-controller`, `controller`,
//!   `same-manufacturer`, `manufacturer`, `local-networks`. The rule is then broader than
//!   the conjunction the file wrote, and the warning says which condition was dropped.
//! * A condition on the device's own side (a `src-dnsname` in a from-device rule, say):
//!   the IR cannot express it, so an `accept` ACE carrying one is skipped (fail closed)
//!   while a `drop`/`reject` ACE keeps its other conditions (also fail closed).
//! * An address of the wrong family (an IPv4 address in `destination-ipv6-network`):
//!   such an ACE can never match a packet, so it is skipped.
//! * A bare address where a prefix is required: read as a host prefix (/32 or /128).
//! * Duplicate ACL or ACE names: the first entry wins, later ones are skipped.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde_json::{Map, Value};

use crate::policy::{
    Action, DevicePolicy, Direction, EthMatch, Family, IcmpMatch, Peer, PortMatch, Rule,
};

/// Files over 1 MiB are refused before parsing. Real MUD files are a few KiB; the limit
/// bounds memory use on untrusted input and is not taken from any RFC.
pub const MAX_MUD_BYTES: usize = 1024 * 1024;

/// How closely a file must follow RFC 8520/8519.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reject anything the RFCs do not allow.
    Strict,
    /// Also accept draft-era names and common mistakes, with a [`Warning`] for each.
    Lenient,
}

/// Something the parser accepted but a person should know about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// JSON-pointer-like path of the node concerned.
    pub path: String,
    /// What was accepted and what lenient mode made of it.
    pub message: String,
}

/// Why a file was refused: the JSON-pointer-like path of the node and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{path}: {rule}")]
pub struct ParseError {
    /// JSON-pointer-like path of the node refused.
    pub path: String,
    /// The rule it broke, with the RFC section.
    pub rule: String,
}

/// A successfully parsed MUD file.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The policy IR.
    pub policy: DevicePolicy,
    /// What lenient mode (or a strict-mode note) has to say about the file.
    pub warnings: Vec<Warning>,
}

/// Parse a MUD file. Never panics; every refusal is a [`ParseError`].
pub fn parse(bytes: &[u8], mode: Mode) -> Result<Parsed, ParseError> {
    if bytes.len() > MAX_MUD_BYTES {
        return Err(error(
            "",
            format!(
                "file is {} bytes; MUD files over {MAX_MUD_BYTES} bytes (1 MiB) are refused \
                 before parsing",
                bytes.len()
            ),
        ));
    }
    let mut ctx = Ctx {
        mode,
        warnings: Vec::new(),
    };
    // RFC 8259 §8.1: a parser MAY ignore a byte order mark; some editors write one.
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => {
            ctx.warn("", "UTF-8 byte order mark ignored (RFC 8259 §8.1)");
            rest
        }
        None => bytes,
    };
    // serde_json keeps its default recursion limit (128), so deeply nested input is an
    // error here rather than a stack overflow.
    let root: Value = serde_json::from_slice(bytes).map_err(json_error)?;
    let policy = parse_root(&mut ctx, &root)?;
    Ok(Parsed {
        policy,
        warnings: ctx.warnings,
    })
}

type Res<T> = Result<T, ParseError>;

fn error(path: &str, rule: impl Into<String>) -> ParseError {
    ParseError {
        path: display_path(path),
        rule: rule.into(),
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

fn json_error(e: serde_json::Error) -> ParseError {
    // serde_json's Display appends " at line L column C"; we restate the position in our
    // own words, so strip it from the message.
    let full = e.to_string();
    let message = full.split(" at line ").next().unwrap_or(&full);
    error(
        "",
        format!(
            "not valid JSON (RFC 8259): {message} at line {}, column {}",
            e.line(),
            e.column()
        ),
    )
}

/// Parsing state shared by the whole walk: the mode and the warnings gathered so far.
struct Ctx {
    mode: Mode,
    warnings: Vec<Warning>,
}

impl Ctx {
    fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            path: display_path(path),
            message: message.into(),
        });
    }

    /// A departure from the RFCs that lenient mode tolerates: an error when strict, a
    /// warning (saying what lenient mode does about it, `then`) otherwise.
    fn deviation(&mut self, path: &str, rule: impl Into<String>, then: &str) -> Res<()> {
        let rule = rule.into();
        match self.mode {
            Mode::Strict => Err(error(path, rule)),
            Mode::Lenient => {
                self.warn(path, format!("{rule}; lenient mode: {then}"));
                Ok(())
            }
        }
    }
}

/// Path of member `key` under `path`, escaped as in a JSON pointer (RFC 6901).
fn child(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn index(path: &str, i: usize) -> String {
    format!("{path}/{i}")
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One JSON value together with its path.
#[derive(Clone)]
struct Field<'v> {
    value: &'v Value,
    path: String,
}

impl<'v> Field<'v> {
    fn expected(&self, what: &str) -> ParseError {
        error(
            &self.path,
            format!("expected {what}, found {}", kind_of(self.value)),
        )
    }

    fn obj(&self) -> Res<Obj<'v>> {
        match self.value {
            Value::Object(map) => Ok(Obj {
                map,
                path: self.path.clone(),
                seen: Vec::new(),
            }),
            _ => Err(self.expected("an object")),
        }
    }

    fn array(&self) -> Res<impl Iterator<Item = Field<'v>> + '_> {
        match self.value {
            Value::Array(items) => Ok(items.iter().enumerate().map(|(i, value)| Field {
                value,
                path: index(&self.path, i),
            })),
            _ => Err(self.expected("an array")),
        }
    }

    fn str(&self) -> Res<&'v str> {
        self.value.as_str().ok_or_else(|| self.expected("a string"))
    }

    fn bool(&self) -> Res<bool> {
        self.value
            .as_bool()
            .ok_or_else(|| self.expected("a boolean"))
    }

    /// An unsigned integer no larger than `max` (RFC 7951 §6.1: uint8/uint16 are JSON numbers).
    fn uint(&self, max: u64, type_name: &str) -> Res<u64> {
        match self.value.as_u64() {
            Some(n) if n <= max => Ok(n),
            _ => Err(error(
                &self.path,
                format!(
                    "expected a {type_name} number (0..={max}), found {}",
                    self.value
                ),
            )),
        }
    }

    fn u8(&self) -> Res<u8> {
        // The bound is checked by `uint`, so the conversion cannot fail.
        Ok(u8::try_from(self.uint(u8::MAX.into(), "uint8")?).unwrap_or(u8::MAX))
    }

    fn u16(&self) -> Res<u16> {
        Ok(u16::try_from(self.uint(u16::MAX.into(), "uint16")?).unwrap_or(u16::MAX))
    }
}

/// A JSON object being walked. Remembers which members were looked at so that the rest
/// can be reported as unknown by [`Obj::finish`].
struct Obj<'v> {
    map: &'v Map<String, Value>,
    path: String,
    seen: Vec<&'v str>,
}

impl<'v> Obj<'v> {
    fn root(value: &'v Value) -> Res<Self> {
        Field {
            value,
            path: String::new(),
        }
        .obj()
    }

    /// The member named `key`, if present.
    fn take(&mut self, key: &str) -> Option<Field<'v>> {
        let (k, value) = self.map.get_key_value(key)?;
        self.seen.push(k);
        Some(Field {
            value,
            path: child(&self.path, k),
        })
    }

    /// The member named `key` or, failing that, one of its draft-era names (a deviation).
    fn take_or_draft(
        &mut self,
        ctx: &mut Ctx,
        key: &str,
        drafts: &[&str],
    ) -> Res<Option<Field<'v>>> {
        if let Some(field) = self.take(key) {
            return Ok(Some(field));
        }
        for draft in drafts {
            if let Some(field) = self.take(draft) {
                ctx.deviation(
                    &field.path,
                    format!("draft-era name \"{draft}\"; the RFC name is \"{key}\""),
                    "accepted",
                )?;
                return Ok(Some(field));
            }
        }
        Ok(None)
    }

    /// Like [`Obj::take_or_draft`] but the member is mandatory; `rule` explains why.
    fn require(&mut self, ctx: &mut Ctx, key: &str, drafts: &[&str], rule: &str) -> Res<Field<'v>> {
        self.take_or_draft(ctx, key, drafts)?
            .ok_or_else(|| error(&self.path, rule))
    }

    /// Members that are understood but deliberately not used.
    fn ignore(&mut self, keys: &[&str]) {
        for key in keys {
            self.take(key);
        }
    }

    /// Members the IR cannot express: they would narrow the match, so the rule as
    /// enforced is broader than written. Reported in both modes.
    fn not_enforced(&mut self, ctx: &mut Ctx, keys: &[&str]) {
        for key in keys {
            if let Some(field) = self.take(key) {
                ctx.warn(
                    &field.path,
                    format!("\"{key}\" is not supported and not enforced; the rule is broader than written"),
                );
            }
        }
    }

    /// Report every member not looked at. RFC 8520 §3.9: nodes a MUD manager does not
    /// understand are ignored; we still tell the user.
    fn finish(self, ctx: &mut Ctx) {
        for key in self.map.keys() {
            if self.seen.contains(&key.as_str()) {
                continue;
            }
            let path = child(&self.path, key);
            let message = if key.contains(':') {
                format!("unknown extension member \"{key}\" ignored (RFC 8520 §3.9)")
            } else {
                format!("unknown member \"{key}\" ignored")
            };
            ctx.warn(&path, message);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The file: `ietf-mud:mud` and `ietf-access-control-list:acls`.

const MUD: &str = "ietf-mud:mud";
const ACLS: &str = "ietf-access-control-list:acls";
/// Draft-era name of the top-level ACL container.
const ACLS_DRAFT: &str = "ietf-access-control-list:access-lists";

fn parse_root(ctx: &mut Ctx, root: &Value) -> Res<DevicePolicy> {
    let mut root = Obj::root(root)?;
    let mud = root.require(
        ctx,
        MUD,
        &[],
        "the \"ietf-mud:mud\" container is mandatory (RFC 8520 §2.1)",
    )?;
    let header = parse_mud_container(ctx, &mud)?;
    let acls = match root.take_or_draft(ctx, ACLS, &[ACLS_DRAFT])? {
        Some(field) => parse_acls(ctx, &field)?,
        None => Vec::new(),
    };
    root.finish(ctx);

    let mut rules = Vec::new();
    for (direction, refs) in [
        (Direction::FromDevice, &header.from_device),
        (Direction::ToDevice, &header.to_device),
    ] {
        for acl_ref in refs {
            let acl = acls
                .iter()
                .find(|acl| acl.name == acl_ref.name)
                .ok_or_else(|| {
                    error(
                        &acl_ref.path,
                        format!(
                        "access-list \"{}\" does not name any ACL in \"{ACLS}\" (RFC 8520 §2.1: \
                         the name is a leafref to /acls/acl/name)",
                        acl_ref.name
                    ),
                    )
                })?;
            for ace in &acl.aces {
                if let Some(rule) = resolve(ctx, acl, ace, direction)? {
                    rules.push(rule);
                }
            }
        }
    }
    for acl in &acls {
        let referenced = header
            .from_device
            .iter()
            .chain(&header.to_device)
            .any(|r| r.name == acl.name);
        if !referenced {
            ctx.warn(
                &acl.path,
                format!(
                    "ACL \"{}\" is not referenced from from-device-policy or to-device-policy and has no effect",
                    acl.name
                ),
            );
        }
    }

    Ok(DevicePolicy {
        mud_url: header.mud_url,
        authority: header.authority,
        is_supported: header.is_supported,
        cache_validity_hours: header.cache_validity,
        systeminfo: header.systeminfo,
        mfg_name: header.mfg_name,
        model_name: header.model_name,
        documentation: header.documentation,
        mud_signature: header.mud_signature,
        rules,
    })
}

/// The `ietf-mud:mud` container, less its ACLs.
struct Header {
    mud_url: String,
    authority: String,
    is_supported: bool,
    cache_validity: u8,
    systeminfo: Option<String>,
    mfg_name: Option<String>,
    model_name: Option<String>,
    documentation: Option<String>,
    mud_signature: Option<String>,
    from_device: Vec<AclRef>,
    to_device: Vec<AclRef>,
}

/// An entry of `access-lists/access-list`: the name of an ACL and where it was named.
struct AclRef {
    name: String,
    path: String,
}

/// RFC 8520 §3.5: `cache-validity` is 1..168 hours, default 48.
const CACHE_VALIDITY_DEFAULT: u8 = 48;
const CACHE_VALIDITY_MAX: u8 = 168;

fn parse_mud_container(ctx: &mut Ctx, field: &Field) -> Res<Header> {
    let mut mud = field.obj()?;

    // Checked first: a file of another version may mean anything by the rest.
    match mud.take("mud-version") {
        Some(version) => {
            let v = version.u8()?;
            if v != 1 {
                return Err(error(
                    &version.path,
                    format!(
                        "mud-version must be 1 (RFC 8520 §3.1); this file declares version {v}"
                    ),
                ));
            }
        }
        None => ctx.deviation(
            &mud.path,
            "mud-version is mandatory (RFC 8520 §2.1, §3.1)",
            "assuming version 1",
        )?,
    }

    let url = mud.require(
        ctx,
        "mud-url",
        &[],
        "mud-url is mandatory (RFC 8520 §2.1, §3.2)",
    )?;
    let mud_url = url.str()?.to_owned();
    // Refused in both modes: the URL is the policy's identity and its authority decides
    // who counts as the same manufacturer; only https gives it any meaning.
    let authority = https_authority(&mud_url).map_err(|why| error(&url.path, why))?;

    match mud.take("last-update") {
        Some(f) => {
            let text = f.str()?;
            if !is_date_and_time(text) {
                ctx.deviation(
                    &f.path,
                    format!(
                        "last-update \"{text}\" is not a yang:date-and-time with a time zone (RFC 6991, RFC 3339)"
                    ),
                    "ignored (the policy does not use it)",
                )?;
            }
        }
        None => ctx.deviation(
            &mud.path,
            "last-update is mandatory (RFC 8520 §2.1, §3.4)",
            "ignored (the policy does not use it)",
        )?,
    }

    let cache_validity = match mud.take("cache-validity") {
        None => CACHE_VALIDITY_DEFAULT,
        Some(f) => {
            let hours = f.uint(u64::from(u32::MAX), "uint8")?;
            let clamped = hours.clamp(1, CACHE_VALIDITY_MAX.into());
            if clamped != hours {
                ctx.deviation(
                    &f.path,
                    format!("cache-validity must be 1..168 hours (RFC 8520 §3.5), found {hours}"),
                    &format!("using {clamped}"),
                )?;
            }
            u8::try_from(clamped).unwrap_or(CACHE_VALIDITY_MAX)
        }
    };

    // Refused in both modes when missing: assuming `true` would hide an abandoned device,
    // assuming `false` would restrict a supported one.
    let is_supported = mud
        .require(
            ctx,
            "is-supported",
            &[],
            "is-supported is mandatory (RFC 8520 §2.1, §3.6)",
        )?
        .bool()?;

    let systeminfo = optional_string(&mut mud, "systeminfo")?;
    let mfg_name = optional_string(&mut mud, "mfg-name")?;
    let model_name = optional_string(&mut mud, "model-name")?;
    let documentation = optional_string(&mut mud, "documentation")?;
    let mud_signature = optional_string(&mut mud, "mud-signature")?;
    // Understood, but nothing in the IR needs them.
    for key in ["firmware-rev", "software-rev"] {
        optional_string(&mut mud, key)?;
    }

    if let Some(extensions) = mud.take("extensions") {
        for name in extensions.array()? {
            let text = name.str()?;
            ctx.warn(
                &name.path,
                format!("extension \"{text}\" is not supported; the nodes it adds are ignored (RFC 8520 §3.9)"),
            );
        }
    }

    let from_device = parse_policy(ctx, &mut mud, "from-device-policy")?;
    let to_device = parse_policy(ctx, &mut mud, "to-device-policy")?;
    mud.finish(ctx);

    Ok(Header {
        mud_url,
        authority,
        is_supported,
        cache_validity,
        systeminfo,
        mfg_name,
        model_name,
        documentation,
        mud_signature,
        from_device,
        to_device,
    })
}

fn optional_string(mud: &mut Obj, key: &str) -> Res<Option<String>> {
    mud.take(key)
        .map(|f| f.str().map(str::to_owned))
        .transpose()
}

/// `from-device-policy` / `to-device-policy` → `access-lists` → `access-list[]` (RFC 8520 §3.3).
fn parse_policy(ctx: &mut Ctx, mud: &mut Obj, key: &str) -> Res<Vec<AclRef>> {
    let Some(policy) = mud.take(key) else {
        return Ok(Vec::new());
    };
    let mut policy = policy.obj()?;
    let mut refs: Vec<AclRef> = Vec::new();
    if let Some(lists) = policy.take("access-lists") {
        let mut lists = lists.obj()?;
        if let Some(list) = lists.take("access-list") {
            for entry in list.array()? {
                let mut entry = entry.obj()?;
                let name = entry.require(
                    ctx,
                    "name",
                    &["acl-name"],
                    "an access-list entry needs a \"name\" (RFC 8520 §2.1)",
                )?;
                let acl_ref = AclRef {
                    name: name.str()?.to_owned(),
                    path: name.path.clone(),
                };
                entry.finish(ctx);
                if refs.iter().any(|r| r.name == acl_ref.name) {
                    ctx.deviation(
                        &acl_ref.path,
                        format!(
                            "ACL \"{}\" is listed twice; list keys must be unique (RFC 7950 §7.8.2)",
                            acl_ref.name
                        ),
                        "the repetition is ignored",
                    )?;
                    continue;
                }
                refs.push(acl_ref);
            }
        }
        lists.finish(ctx);
    }
    policy.finish(ctx);
    Ok(refs)
}

/// The host of an `https` URL, lower-cased: the "authority" that the `manufacturer` and
/// `same-manufacturer` abstractions compare (RFC 8520 §3.10, §3.11).
fn https_authority(url: &str) -> Result<String, String> {
    let scheme_end = url.find("://").ok_or_else(|| {
        format!("mud-url \"{url}\" is not an absolute URL; it must use the https scheme (RFC 8520 §3.2)")
    })?;
    let scheme = &url[..scheme_end];
    if !scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "mud-url must use the https scheme (RFC 8520 §3.2), found \"{scheme}\""
        ));
    }
    let rest = &url[scheme_end + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        // IPv6 literal (RFC 3986 §3.2.2): keep the brackets, drop any port.
        host_port
            .find(']')
            .map_or(host_port, |end| &host_port[..=end])
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._[]:".contains(c));
    if !valid {
        return Err(format!(
            "mud-url \"{url}\" has no valid host (RFC 3986 §3.2.2)"
        ));
    }
    Ok(host.to_ascii_lowercase())
}

/// `yang:date-and-time` (RFC 6991): an RFC 3339 timestamp with a time zone.
fn is_date_and_time(text: &str) -> bool {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

/// `inet:host` (RFC 6991): an IP address or a domain name.
fn is_host(text: &str) -> bool {
    if text.parse::<IpAddr>().is_ok() {
        return true;
    }
    let name = text.strip_suffix('.').unwrap_or(text);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// `inet:uri` (RFC 6991), loosely: a scheme followed by ':' and no white space.
fn is_uri(text: &str) -> bool {
    match text.split_once(':') {
        Some((scheme, rest)) => {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
                && !text.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

// ---------------------------------------------------------------------------------------
// ACLs (RFC 8519 §4.1).

/// What an ACL's `type` allows its ACEs to match on (RFC 8519 §4.1: the `when`
/// statements on the `eth`, `ipv4` and `ipv6` containers).
#[derive(Debug, Clone, Copy)]
struct AclKind {
    family: Family,
    eth: bool,
    ipv4: bool,
    ipv6: bool,
}

impl AclKind {
    const fn new(family: Family, eth: bool, ipv4: bool, ipv6: bool) -> Self {
        Self {
            family,
            eth,
            ipv4,
            ipv6,
        }
    }
}

struct Acl {
    name: String,
    path: String,
    aces: Vec<Ace>,
}

fn parse_acls(ctx: &mut Ctx, field: &Field) -> Res<Vec<Acl>> {
    let mut container = field.obj()?;
    let mut acls: Vec<Acl> = Vec::new();
    if let Some(list) = container.take("acl") {
        for entry in list.array()? {
            let acl = parse_acl(ctx, &entry)?;
            if acls.iter().any(|a| a.name == acl.name) {
                ctx.deviation(
                    &acl.path,
                    format!(
                        "duplicate ACL name \"{}\" (RFC 8519 §4.1: list key)",
                        acl.name
                    ),
                    "the later ACL is ignored",
                )?;
                continue;
            }
            acls.push(acl);
        }
    }
    container.finish(ctx);
    Ok(acls)
}

fn parse_acl(ctx: &mut Ctx, field: &Field) -> Res<Acl> {
    let mut acl = field.obj()?;
    let name_field = acl.require(
        ctx,
        "name",
        &["acl-name"],
        "an ACL needs a \"name\" (RFC 8519 §4.1: list key)",
    )?;
    let name = name_field.str()?.to_owned();
    check_name_length(ctx, &name_field, &name)?;

    let kind = match acl.take_or_draft(ctx, "type", &["acl-type"])? {
        Some(f) => parse_acl_type(ctx, &f)?,
        // `type` is optional in RFC 8519, but without it no `when` condition holds.
        None => AclKind::new(Family::Mixed, false, false, false),
    };

    let mut aces: Vec<Ace> = Vec::new();
    if let Some(container) = acl.take_or_draft(ctx, "aces", &["access-list-entries"])? {
        let mut container = container.obj()?;
        if let Some(list) = container.take("ace") {
            for entry in list.array()? {
                let Some(ace) = parse_ace(ctx, &entry, kind)? else {
                    continue;
                };
                if aces.iter().any(|a| a.name == ace.name) {
                    ctx.deviation(
                        &ace.path,
                        format!(
                            "duplicate ACE name \"{}\" (RFC 8519 §4.1: list key)",
                            ace.name
                        ),
                        "the later ACE is ignored",
                    )?;
                    continue;
                }
                aces.push(ace);
            }
        }
        container.finish(ctx);
    }
    acl.finish(ctx);
    Ok(Acl {
        name,
        path: field.path.clone(),
        aces,
    })
}

fn check_name_length(ctx: &mut Ctx, field: &Field, name: &str) -> Res<()> {
    if name.is_empty() || name.chars().count() > 64 {
        ctx.deviation(
            &field.path,
            "ACL and ACE names are 1..64 characters (RFC 8519 §4.1)",
            "accepted",
        )?;
    }
    Ok(())
}

/// `acl-type` identities (RFC 8519 §4.1), with or without the module prefix that
/// RFC 7951 §6.8 allows on identityref values.
fn parse_acl_type(ctx: &mut Ctx, field: &Field) -> Res<AclKind> {
    let raw = field.str()?;
    let bare = raw.strip_prefix("ietf-access-control-list:").unwrap_or(raw);
    let rfc = match bare {
        "ipv4-acl-type" => Some(AclKind::new(Family::Ipv4, false, true, false)),
        "ipv6-acl-type" => Some(AclKind::new(Family::Ipv6, false, false, true)),
        "eth-acl-type" => Some(AclKind::new(Family::Eth, true, false, false)),
        "mixed-eth-ipv4-acl-type" => Some(AclKind::new(Family::Mixed, true, true, false)),
        "mixed-eth-ipv6-acl-type" => Some(AclKind::new(Family::Mixed, true, false, true)),
        "mixed-eth-ipv4-ipv6-acl-type" => Some(AclKind::new(Family::Mixed, true, true, true)),
        _ => None,
    };
    if let Some(kind) = rfc {
        return Ok(kind);
    }
    // Names used by drafts and by tools written against them.
    let draft = match bare {
        "ipv4-acl" | "ipv4" => Some(AclKind::new(Family::Ipv4, false, true, false)),
        "ipv6-acl" | "ipv6" => Some(AclKind::new(Family::Ipv6, false, false, true)),
        "ethernet-acl-type" | "ethernet-acl" | "eth-acl" | "eth" => {
            Some(AclKind::new(Family::Eth, true, false, false))
        }
        _ => None,
    };
    match draft {
        Some(kind) => {
            ctx.deviation(
                &field.path,
                format!("draft-era ACL type \"{raw}\" (RFC 8519 §4.1 names the types ipv4-acl-type, ipv6-acl-type, eth-acl-type, mixed-...)"),
                "accepted",
            )?;
            Ok(kind)
        }
        None => Err(error(
            &field.path,
            format!("unknown ACL type \"{raw}\" (RFC 8519 §4.1)"),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// ACEs. An ACE is parsed once into `Ace`, keeping source and destination conditions
// apart; `resolve` then turns it into a `Rule` for each direction the ACL is used in,
// because which side is the peer depends on that direction.

/// Which end of the packet a condition is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Source,
    Destination,
    /// The `ietf-mud:mud` abstractions name the other end, whatever the direction.
    Peer,
}

#[derive(Debug, Clone)]
enum CondKind {
    Peer(Peer),
    Mac(crate::Mac),
}

/// An address-like condition of an ACE.
#[derive(Debug, Clone)]
struct Cond {
    side: Side,
    kind: CondKind,
    path: String,
    /// What the file called it, for messages.
    label: String,
}

#[derive(Debug, Clone)]
struct Ace {
    name: String,
    path: String,
    family: Family,
    protocol: Option<u8>,
    conds: Vec<Cond>,
    src_port: Option<PortMatch>,
    dst_port: Option<PortMatch>,
    icmp: Option<IcmpMatch>,
    ethertype: Option<u16>,
    has_eth: bool,
    initiated_by: Option<Direction>,
    action: Action,
}

/// Which layer-4 container an ACE used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum L4 {
    Tcp,
    Udp,
    Icmp,
}

impl L4 {
    fn name(self) -> &'static str {
        match self {
            L4::Tcp => "tcp",
            L4::Udp => "udp",
            L4::Icmp => "icmp",
        }
    }
}

/// Conditions collected while walking `matches`.
#[derive(Default)]
struct Matches {
    conds: Vec<Cond>,
    protocol: Option<(u8, String)>,
    ip_version: Option<u8>,
    l4: Option<L4>,
    src_port: Option<(PortMatch, String)>,
    dst_port: Option<(PortMatch, String)>,
    /// Ports found in a draft-era place (inside the IP container).
    draft_ports: bool,
    icmp: Option<IcmpMatch>,
    has_eth: bool,
    ethertype: Option<u16>,
    initiated_by: Option<Direction>,
    /// Set when a condition can never be true (e.g. an IPv4 address in an IPv6 field).
    never_matches: Option<(String, String)>,
}

fn parse_ace(ctx: &mut Ctx, field: &Field, kind: AclKind) -> Res<Option<Ace>> {
    let mut ace = field.obj()?;
    let name_field = ace.require(
        ctx,
        "name",
        &["rule-name", "ace-name"],
        "an ACE needs a \"name\" (RFC 8519 §4.1: list key)",
    )?;
    let name = name_field.str()?.to_owned();
    check_name_length(ctx, &name_field, &name)?;

    let mut m = Matches::default();
    // RFC 8519 §4.1: an ACE without matches matches every packet.
    if let Some(matches) = ace.take("matches") {
        parse_matches(ctx, &matches, kind, &mut m)?;
    }

    let actions = ace.require(
        ctx,
        "actions",
        &[],
        "an ACE needs \"actions\" (RFC 8519 §4.1)",
    )?;
    let action = parse_actions(ctx, &actions)?;
    ace.ignore(&["statistics"]);
    ace.finish(ctx);

    if let Some((path, why)) = m.never_matches {
        ctx.deviation(&path, why, "the ACE can never match and is skipped")?;
        return Ok(None);
    }

    let protocol = reconcile_protocol(&field.path, kind, &mut m)?;
    let family = match kind.family {
        // A mixed ACL's family is decided per ACE, by what it matches on.
        Family::Mixed => match m.ip_version {
            Some(4) => Family::Ipv4,
            Some(_) => Family::Ipv6,
            None if m.has_eth && m.l4.is_none() => Family::Eth,
            None => Family::Mixed,
        },
        family => family,
    };
    Ok(Some(Ace {
        name,
        path: field.path.clone(),
        family,
        protocol,
        conds: m.conds,
        src_port: m.src_port.map(|(p, _)| p),
        dst_port: m.dst_port.map(|(p, _)| p),
        icmp: m.icmp,
        ethertype: m.ethertype,
        has_eth: m.has_eth,
        initiated_by: m.initiated_by,
        action,
    }))
}

/// Work out the IP protocol from the `protocol` leaf and the layer-4 container: `tcp`,
/// `udp` and `icmp` imply 6, 17 and 1 (58 for ICMPv6); a contradiction is refused in
/// both modes because either reading could be the wrong one.
fn reconcile_protocol(path: &str, kind: AclKind, m: &mut Matches) -> Res<Option<u8>> {
    let stated = m.protocol.clone();
    let implied = match m.l4 {
        None => None,
        Some(L4::Tcp) => Some(6),
        Some(L4::Udp) => Some(17),
        Some(L4::Icmp) => {
            let v6 = match m.ip_version {
                Some(v) => v == 6,
                None => match (kind.ipv4, kind.ipv6, &stated) {
                    (true, false, _) => false,
                    (false, true, _) => true,
                    (_, _, Some((p, _))) if *p == 1 || *p == 58 => *p == 58,
                    _ => {
                        return Err(error(
                            path,
                            "an icmp match in an ACL that is not IPv4- or IPv6-only needs an \
                             ipv4 or ipv6 container or a protocol (1 or 58) to tell ICMP from ICMPv6",
                        ))
                    }
                },
            };
            Some(if v6 { 58 } else { 1 })
        }
    };
    match (stated, implied) {
        (Some((p, p_path)), Some(i)) if p != i => Err(error(
            &p_path,
            format!(
                "protocol {p} contradicts the \"{}\" match, which means protocol {i} (RFC 8519 §4.1)",
                m.l4.map_or("", L4::name)
            ),
        )),
        (Some((p, p_path)), None) => {
            if m.draft_ports && p != 6 && p != 17 {
                return Err(error(
                    &p_path,
                    format!("port matches need protocol 6 (TCP) or 17 (UDP), found {p}"),
                ));
            }
            Ok(Some(p))
        }
        (None, None) if m.draft_ports => Err(error(
            path,
            "port matches need a protocol (6 or 17) or a tcp/udp container (RFC 8519 §4.1)",
        )),
        (stated, implied) => Ok(implied.or(stated.map(|(p, _)| p))),
    }
}

fn parse_actions(ctx: &mut Ctx, field: &Field) -> Res<Action> {
    let mut actions = field.obj()?;
    let forwarding = actions.require(
        ctx,
        "forwarding",
        &[],
        "actions need \"forwarding\" (RFC 8519 §4.1: mandatory)",
    )?;
    let raw = forwarding.str()?;
    let action = match raw.strip_prefix("ietf-access-control-list:").unwrap_or(raw) {
        "accept" => Action::Accept,
        "drop" => Action::Drop,
        "reject" => Action::Reject,
        _ => {
            return Err(error(
                &forwarding.path,
                format!("unknown forwarding action \"{raw}\"; expected accept, drop or reject (RFC 8519 §4.1)"),
            ))
        }
    };
    actions.ignore(&["logging"]);
    actions.finish(ctx);
    Ok(action)
}

/// The abstractions of the `ietf-mud:mud` match container (RFC 8520 §3.10–§3.16).
const ABSTRACTIONS: [&str; 6] = [
    "manufacturer",
    "same-manufacturer",
    "model",
    "local-networks",
    "controller",
    "my-controller",
];

fn parse_matches(ctx: &mut Ctx, field: &Field, kind: AclKind, m: &mut Matches) -> Res<()> {
    let mut matches = field.obj()?;

    let ipv4 = matches.take_or_draft(ctx, "ipv4", &["ipv4-acl"])?;
    let ipv6 = matches.take_or_draft(ctx, "ipv6", &["ipv6-acl"])?;
    match (&ipv4, &ipv6) {
        (Some(_), Some(v6)) => {
            return Err(error(
                &v6.path,
                "an ACE matches on ipv4 or ipv6, not both (RFC 8519 §4.1: choice l3)",
            ))
        }
        (Some(f), None) => {
            check_allowed(ctx, f, kind.ipv4, "ipv4", "ipv4-acl-type")?;
            parse_ip(ctx, f, 4, m)?;
        }
        (None, Some(f)) => {
            check_allowed(ctx, f, kind.ipv6, "ipv6", "ipv6-acl-type")?;
            parse_ip(ctx, f, 6, m)?;
        }
        (None, None) => {}
    }

    if let Some(eth) = matches.take("eth") {
        check_allowed(ctx, &eth, kind.eth, "eth", "eth-acl-type")?;
        parse_eth(ctx, &eth, m)?;
    }

    let mut l4_seen: Option<String> = None;
    for l4 in [L4::Tcp, L4::Udp, L4::Icmp] {
        let Some(f) = matches.take(l4.name()) else {
            continue;
        };
        if let Some(first) = &l4_seen {
            return Err(error(
                &f.path,
                format!("an ACE matches on one of tcp, udp or icmp, but this one also has {first} (RFC 8519 §4.1: choice l4)"),
            ));
        }
        l4_seen = Some(l4.name().to_owned());
        m.l4 = Some(l4);
        match l4 {
            L4::Tcp | L4::Udp => parse_transport(ctx, &f, l4, m)?,
            L4::Icmp => parse_icmp(ctx, &f, m)?,
        }
    }

    if let Some(mud) = matches.take_or_draft(ctx, MUD, &["ietf-mud:mud-acl"])? {
        parse_mud_matches(ctx, &mud, m)?;
    }
    // Some drafts put the abstractions straight into `matches`, module-qualified.
    for name in ABSTRACTIONS {
        let qualified = format!("ietf-mud:{name}");
        if let Some(f) = matches.take(&qualified) {
            ctx.deviation(
                &f.path,
                format!("draft-era \"{qualified}\" directly in matches; RFC 8520 puts \"{name}\" inside the \"ietf-mud:mud\" match container"),
                "accepted",
            )?;
            parse_abstraction(ctx, name, &f, m)?;
        }
    }

    matches.not_enforced(ctx, &["egress-interface", "ingress-interface"]);
    matches.finish(ctx);
    Ok(())
}

/// RFC 8519 §4.1: the `eth`, `ipv4` and `ipv6` containers exist only `when` the ACL type
/// derives from the matching identity.
fn check_allowed(
    ctx: &mut Ctx,
    field: &Field,
    allowed: bool,
    container: &str,
    base: &str,
) -> Res<()> {
    if !allowed {
        ctx.deviation(
            &field.path,
            format!("\"{container}\" matches need an ACL type derived from {base} (RFC 8519 §4.1: when)"),
            "matched anyway",
        )?;
    }
    Ok(())
}

/// The `ipv4`/`ipv6` containers (RFC 8519 §4.2 `acl-ip-header-fields`, plus the
/// `ietf-acldns` names of RFC 8520 §7).
fn parse_ip(ctx: &mut Ctx, field: &Field, version: u8, m: &mut Matches) -> Res<()> {
    let mut ip = field.obj()?;
    m.ip_version = Some(version);

    if let Some(p) = ip.take("protocol") {
        m.protocol = Some((p.u8()?, p.path.clone()));
    }

    let net = if version == 4 {
        "ipv4-network"
    } else {
        "ipv6-network"
    };
    for (side, prefix) in [(Side::Source, "source"), (Side::Destination, "destination")] {
        let key = format!("{prefix}-{net}");
        if let Some(f) = ip.take(&key) {
            if let Some(net) = parse_prefix(ctx, &f, version, m)? {
                m.conds.push(Cond {
                    side,
                    kind: CondKind::Peer(Peer::Network(net)),
                    path: f.path.clone(),
                    label: key.clone(),
                });
            }
        }
    }

    for (side, key) in [
        (Side::Source, "ietf-acldns:src-dnsname"),
        (Side::Destination, "ietf-acldns:dst-dnsname"),
    ] {
        if let Some(f) = ip.take(key) {
            let name = f.str()?;
            if !is_host(name) {
                return Err(error(
                    &f.path,
                    format!("\"{name}\" is not a valid host name (RFC 8520 §7: inet:host)"),
                ));
            }
            m.conds.push(Cond {
                side,
                kind: CondKind::Peer(Peer::DnsName(name.to_owned())),
                path: f.path.clone(),
                label: key.to_owned(),
            });
        }
    }

    // Drafts put the port match here instead of in tcp/udp.
    for (src, key) in [
        (true, "source-port-range-or-operator"),
        (true, "source-port-range"),
        (false, "destination-port-range-or-operator"),
        (false, "destination-port-range"),
    ] {
        if let Some(f) = ip.take(key) {
            ctx.deviation(
                &f.path,
                format!("draft-era port match \"{key}\" in the IP container; RFC 8519 puts source-port/destination-port in tcp or udp"),
                "accepted",
            )?;
            set_port(&f, parse_port(ctx, &f)?, src, m)?;
            m.draft_ports = true;
        }
    }

    ip.not_enforced(
        ctx,
        &[
            "dscp",
            "ecn",
            "length",
            "ttl",
            "ihl",
            "flags",
            "offset",
            "identification",
            "flow-label",
        ],
    );
    ip.finish(ctx);
    Ok(())
}

/// An `inet:ipv4-prefix`/`inet:ipv6-prefix`. Returns `None` after recording that the ACE
/// can never match when the address is of the other family.
fn parse_prefix(ctx: &mut Ctx, field: &Field, version: u8, m: &mut Matches) -> Res<Option<IpNet>> {
    let text = field.str()?;
    let net = match IpNet::from_str(text) {
        Ok(net) => net,
        Err(_) => match IpAddr::from_str(text) {
            Ok(addr) => {
                ctx.deviation(
                    &field.path,
                    format!("\"{text}\" is an address, not a prefix (RFC 6991: inet:ip-prefix needs /length)"),
                    "read as a single-host prefix",
                )?;
                IpNet::from(addr)
            }
            Err(_) => {
                return Err(error(
                    &field.path,
                    format!("\"{text}\" is not an IP prefix (RFC 6991)"),
                ))
            }
        },
    };
    let net_version = if net.addr().is_ipv4() { 4 } else { 6 };
    if net_version != version {
        m.never_matches = Some((
            field.path.clone(),
            format!("\"{text}\" is an IPv{net_version} prefix in an IPv{version} field"),
        ));
        return Ok(None);
    }
    Ok(Some(net.trunc()))
}

fn set_port(field: &Field, port: PortMatch, src: bool, m: &mut Matches) -> Res<()> {
    let slot = if src {
        &mut m.src_port
    } else {
        &mut m.dst_port
    };
    if let Some((_, first)) = slot {
        return Err(error(
            &field.path,
            format!("a second port match for the same end; the first is at {first}"),
        ));
    }
    *slot = Some((port, field.path.clone()));
    Ok(())
}

/// `tcp` and `udp` (RFC 8519 §4.1, §4.2), with `ietf-mud:direction-initiated` (RFC 8520 §3.17).
fn parse_transport(ctx: &mut Ctx, field: &Field, l4: L4, m: &mut Matches) -> Res<()> {
    let mut t = field.obj()?;
    for (src, key, drafts) in [
        (
            true,
            "source-port",
            ["source-port-range-or-operator", "source-port-range"],
        ),
        (
            false,
            "destination-port",
            [
                "destination-port-range-or-operator",
                "destination-port-range",
            ],
        ),
    ] {
        if let Some(f) = t.take_or_draft(ctx, key, &drafts)? {
            set_port(&f, parse_port(ctx, &f)?, src, m)?;
        }
    }
    if l4 == L4::Tcp {
        if let Some(f) = t.take("ietf-mud:direction-initiated") {
            m.initiated_by = Some(match f.str()? {
                "from-device" => Direction::FromDevice,
                "to-device" => Direction::ToDevice,
                other => {
                    return Err(error(
                        &f.path,
                        format!("direction-initiated must be \"from-device\" or \"to-device\", found \"{other}\" (RFC 8520 §3.17)"),
                    ))
                }
            });
        }
        t.not_enforced(
            ctx,
            &[
                "sequence-number",
                "acknowledgement-number",
                "data-offset",
                "reserved",
                "flags",
                "window-size",
                "urgent-pointer",
                "options",
            ],
        );
    } else {
        t.not_enforced(ctx, &["length"]);
    }
    t.finish(ctx);
    Ok(())
}

/// `port-range-or-operator` (RFC 8519 §4.2): either `lower-port` + `upper-port`, or
/// `operator` (default `eq`) + `port`.
fn parse_port(ctx: &mut Ctx, field: &Field) -> Res<PortMatch> {
    let mut p = field.obj()?;
    let lower = p.take("lower-port");
    let upper = p.take("upper-port");
    let operator = p.take("operator");
    let port = p.take("port");
    p.finish(ctx);

    let mut range = lower.is_some() || upper.is_some();
    let mut single = operator.is_some() || port.is_some();
    // MUDgee writes `operator: eq` beside `lower-port`/`upper-port` (three public profiles
    // do); RFC 8519 §4.2 makes the two a choice. Lenient mode reads them as the range.
    if range
        && single
        && port.is_none()
        && lower.is_some()
        && upper.is_some()
        && operator
            .as_ref()
            .is_some_and(|o| o.str().is_ok_and(|s| s == "eq"))
    {
        ctx.deviation(
            &field.path,
            "a port match is either lower-port/upper-port or operator/port, not both (RFC 8519 §4.2); this one has operator \"eq\" beside lower-port/upper-port, as MUDgee writes",
            "read as the range lower-port..upper-port",
        )?;
        single = false;
        range = true;
    }
    match (range, single) {
        (true, true) => Err(error(
            &field.path,
            "a port match is either lower-port/upper-port or operator/port, not both (RFC 8519 §4.2)",
        )),
        (true, false) => {
            let (Some(lower), Some(upper)) = (lower, upper) else {
                return Err(error(
                    &field.path,
                    "a port range needs both lower-port and upper-port (RFC 8519 §4.2)",
                ));
            };
            let (lo, hi) = (lower.u16()?, upper.u16()?);
            if lo > hi {
                return Err(error(
                    &field.path,
                    format!("lower-port {lo} is above upper-port {hi} (RFC 8519 §4.2)"),
                ));
            }
            Ok(PortMatch::Range(lo, hi))
        }
        (false, true) => {
            let port = port
                .ok_or_else(|| {
                    error(&field.path, "an operator needs a port (RFC 8519 §4.2: mandatory)")
                })?
                .u16()?;
            let op = match &operator {
                None => "eq",
                Some(f) => f.str()?,
            };
            match op {
                "eq" => Ok(PortMatch::Eq(port)),
                "neq" => Ok(PortMatch::Neq(port)),
                "lte" => Ok(PortMatch::Lte(port)),
                "gte" => Ok(PortMatch::Gte(port)),
                other => Err(error(
                    &operator.map_or_else(|| field.path.clone(), |f| f.path),
                    format!("unknown port operator \"{other}\"; expected eq, neq, lte or gte (RFC 8519 §4.2)"),
                )),
            }
        }
        (false, false) => Err(error(
            &field.path,
            "a port match needs operator/port or lower-port/upper-port (RFC 8519 §4.2)",
        )),
    }
}

/// `icmp` (RFC 8519 §4.2 `acl-icmp-header-fields`).
fn parse_icmp(ctx: &mut Ctx, field: &Field, m: &mut Matches) -> Res<()> {
    let mut icmp = field.obj()?;
    let icmp_type = icmp.take("type").map(|f| f.u8()).transpose()?;
    let code = icmp.take("code").map(|f| f.u8()).transpose()?;
    icmp.not_enforced(ctx, &["rest-of-header"]);
    icmp.finish(ctx);
    m.icmp = Some(IcmpMatch { icmp_type, code });
    Ok(())
}

/// `eth` (RFC 8519 §4.2 `acl-eth-header-fields`).
fn parse_eth(ctx: &mut Ctx, field: &Field, m: &mut Matches) -> Res<()> {
    let mut eth = field.obj()?;
    m.has_eth = true;
    if let Some(f) = eth.take("ethertype") {
        m.ethertype = Some(parse_ethertype(ctx, &f)?);
    }
    for (side, key) in [
        (Side::Source, "source-mac-address"),
        (Side::Destination, "destination-mac-address"),
    ] {
        if let Some(f) = eth.take(key) {
            let text = f.str()?;
            let mac = normalize_mac(text).ok_or_else(|| {
                error(
                    &f.path,
                    format!("\"{text}\" is not a MAC address (RFC 6991: yang:mac-address)"),
                )
            })?;
            m.conds.push(Cond {
                side,
                kind: CondKind::Mac(mac),
                path: f.path.clone(),
                label: key.to_owned(),
            });
        }
    }
    eth.not_enforced(
        ctx,
        &["source-mac-address-mask", "destination-mac-address-mask"],
    );
    eth.finish(ctx);
    Ok(())
}

/// `eth:ethertype` (RFC 8519 §4.3, ietf-ethertypes): a uint16 or one of the named values.
/// Lenient mode also takes the hexadecimal strings ("0x0800") that real files use.
fn parse_ethertype(ctx: &mut Ctx, field: &Field) -> Res<u16> {
    if field.value.is_number() {
        return field.u16();
    }
    let text = field.str()?;
    const NAMED: [(&str, u16); 8] = [
        ("ipv4", 0x0800),
        ("arp", 0x0806),
        ("wlan", 0x0842),
        ("rarp", 0x8035),
        ("vlan", 0x8100),
        ("ipv6", 0x86DD),
        ("eapol", 0x888E),
        ("lldp", 0x88CC),
    ];
    if let Some((_, value)) = NAMED.iter().find(|(name, _)| *name == text) {
        return Ok(*value);
    }
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .and_then(|h| u16::from_str_radix(h, 16).ok());
    match hex {
        Some(value) => {
            ctx.deviation(
                &field.path,
                format!("ethertype \"{text}\" is a string; RFC 7951 encodes a uint16 ethertype as a JSON number"),
                "read as hexadecimal",
            )?;
            Ok(value)
        }
        None => Err(error(
            &field.path,
            format!("\"{text}\" is not an ethertype (RFC 8519 §4.3)"),
        )),
    }
}

/// `yang:mac-address`: six colon-separated hex octets (RFC 6991 allows no other separator).
fn normalize_mac(text: &str) -> Option<crate::Mac> {
    if text.contains('-') {
        return None;
    }
    text.parse().ok()
}

/// The `ietf-mud:mud` match container (RFC 8520 §3.10–§3.16).
fn parse_mud_matches(ctx: &mut Ctx, field: &Field, m: &mut Matches) -> Res<()> {
    let mut mud = field.obj()?;
    for name in ABSTRACTIONS {
        if let Some(f) = mud.take(name) {
            parse_abstraction(ctx, name, &f, m)?;
        }
    }
    mud.finish(ctx);
    Ok(())
}

fn parse_abstraction(ctx: &mut Ctx, name: &str, field: &Field, m: &mut Matches) -> Res<()> {
    let peer = match name {
        "manufacturer" => {
            let host = field.str()?;
            if !is_host(host) {
                return Err(error(
                    &field.path,
                    format!("manufacturer \"{host}\" is not a host name: it is compared with the authority of MUD URLs (RFC 8520 §3.10)"),
                ));
            }
            Peer::Manufacturer(host.to_ascii_lowercase())
        }
        "model" => {
            let url = field.str()?;
            if let Err(why) = https_authority(url) {
                ctx.deviation(
                    &field.path,
                    format!("model must be a MUD URL (RFC 8520 §3.13): {why}"),
                    "kept, but no device can have this MUD URL",
                )?;
            }
            Peer::Model(url.to_owned())
        }
        "controller" => {
            let uri = field.str()?;
            if !is_uri(uri) {
                return Err(error(
                    &field.path,
                    format!("controller \"{uri}\" is not a URI (RFC 8520 §3.15: inet:uri)"),
                ));
            }
            Peer::Controller(uri.to_owned())
        }
        "same-manufacturer" => {
            empty_leaf(ctx, field)?;
            Peer::SameManufacturer
        }
        "local-networks" => {
            empty_leaf(ctx, field)?;
            Peer::LocalNetworks
        }
        "my-controller" => {
            empty_leaf(ctx, field)?;
            Peer::MyController
        }
        // `ABSTRACTIONS` lists exactly the names above.
        _ => {
            return Err(error(
                &field.path,
                format!("unknown abstraction \"{name}\""),
            ))
        }
    };
    m.conds.push(Cond {
        side: Side::Peer,
        kind: CondKind::Peer(peer),
        path: field.path.clone(),
        label: name.to_owned(),
    });
    Ok(())
}

/// A leaf of YANG type `empty` is `[null]` in JSON (RFC 7951 §6.9).
fn empty_leaf(ctx: &mut Ctx, field: &Field) -> Res<()> {
    match field.value {
        Value::Array(items) if items.len() == 1 && items[0].is_null() => Ok(()),
        Value::Array(items) if items.is_empty() => ctx.deviation(
            &field.path,
            "a leaf of type empty is encoded as [null], not [] (RFC 7951 §6.9)",
            "accepted as present",
        ),
        Value::Null | Value::Bool(true) => ctx.deviation(
            &field.path,
            format!(
                "a leaf of type empty is encoded as [null], not {} (RFC 7951 §6.9)",
                field.value
            ),
            "accepted as present",
        ),
        other => Err(error(
            &field.path,
            format!(
                "a leaf of type empty is encoded as [null] (RFC 7951 §6.9), found {}",
                kind_of(other)
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// From ACE to rule.

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::FromDevice => "from-device",
        Direction::ToDevice => "to-device",
    }
}

/// How specific a peer is; lower is more specific. Used only to pick one peer in lenient
/// mode when an ACE names several.
fn specificity(peer: &Peer) -> u8 {
    match peer {
        Peer::Network(_) => 0,
        Peer::DnsName(_) => 1,
        Peer::Model(_) => 2,
        Peer::MyController => 3,
        Peer::Controller(_) => 4,
        Peer::SameManufacturer => 5,
        Peer::Manufacturer(_) => 6,
        Peer::LocalNetworks => 7,
        Peer::Any => 8,
    }
}

/// Turn a parsed ACE into the rule it means for `direction`. The peer is the destination
/// of a from-device packet and the source of a to-device packet.
fn resolve(ctx: &mut Ctx, acl: &Acl, ace: &Ace, direction: Direction) -> Res<Option<Rule>> {
    let (peer_side, device_side) = match direction {
        Direction::FromDevice => (Side::Destination, Side::Source),
        Direction::ToDevice => (Side::Source, Side::Destination),
    };

    for cond in ace.conds.iter().filter(|c| c.side == device_side) {
        let (then, skip) = match ace.action {
            Action::Accept => ("the ACE is skipped, allowing less", true),
            Action::Drop | Action::Reject => ("the condition is ignored, blocking more", false),
        };
        ctx.deviation(
            &cond.path,
            format!(
                "\"{}\" constrains the device's own address, but ACL \"{}\" is used as {} policy, \
                 where the peer is the {}",
                cond.label,
                acl.name,
                direction_name(direction),
                if peer_side == Side::Source {
                    "source"
                } else {
                    "destination"
                },
            ),
            then,
        )?;
        if skip {
            return Ok(None);
        }
    }

    let peers: Vec<(&Peer, &Cond)> = ace
        .conds
        .iter()
        .filter(|c| c.side == peer_side || c.side == Side::Peer)
        .filter_map(|c| match &c.kind {
            CondKind::Peer(p) => Some((p, c)),
            CondKind::Mac(_) => None,
        })
        .collect();
    let peer = match peers.as_slice() {
        [] => Peer::Any,
        [(peer, _)] => (*peer).clone(),
        [first, rest @ ..] => {
            let mut best = *first;
            for candidate in rest {
                if specificity(candidate.0) < specificity(best.0) {
                    best = *candidate;
                }
            }
            let dropped: Vec<&str> = peers
                .iter()
                .filter(|(_, c)| !std::ptr::eq(*c, best.1))
                .map(|(_, c)| c.label.as_str())
                .collect();
            ctx.deviation(
                &ace.path,
                format!(
                    "ACE names more than one peer ({}); this implementation enforces one peer per rule",
                    peers
                        .iter()
                        .map(|(_, c)| c.label.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &format!(
                    "kept the most specific, \"{}\", and dropped {} (the rule is broader than written)",
                    best.1.label,
                    dropped.join(", ")
                ),
            )?;
            best.0.clone()
        }
    };

    let peer_mac = ace.conds.iter().find_map(|c| match &c.kind {
        CondKind::Mac(mac) if c.side == peer_side => Some(*mac),
        _ => None,
    });
    let eth = ace.has_eth.then_some(EthMatch {
        ethertype: ace.ethertype,
        peer_mac,
    });

    Ok(Some(Rule {
        name: format!("{}/{}", acl.name, ace.name),
        direction,
        family: ace.family,
        peer,
        protocol: ace.protocol,
        src_port: ace.src_port,
        dst_port: ace.dst_port,
        icmp: ace.icmp,
        eth,
        initiated_by: ace.initiated_by,
        action: ace.action,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_is_the_lower_cased_host() {
        assert_eq!(
            https_authority("https://Example.COM:8443/a/b?c#d").unwrap(),
            "example.com"
        );
        assert_eq!(
            https_authority("HTTPS://user@[2001:db8::1]:443/x").unwrap(),
            "[2001:db8::1]"
        );
        assert!(https_authority("http://example.com/x").is_err());
        assert!(https_authority("https:///x").is_err());
        assert!(https_authority("example.com").is_err());
    }

    #[test]
    fn hosts_and_uris() {
        assert!(is_host("fw-update.luminaire.example.com"));
        assert!(is_host("192.0.2.1"));
        assert!(!is_host("not a host"));
        assert!(!is_host(""));
        assert!(is_uri("urn:ietf:params:mud:dns"));
        assert!(is_uri("https://controller.nist.local"));
        assert!(!is_uri("controller"));
    }

    #[test]
    fn pointer_escaping() {
        assert_eq!(child("/a", "b/c~d"), "/a/b~1c~0d");
    }
}
