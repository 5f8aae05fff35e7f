//! Parser behaviour on small hand-written MUD files: each operator, abstraction, ACL type
//! and match container, and the ways a file can be refused.

use mud::parse::{parse, Mode, ParseError, Parsed, MAX_MUD_BYTES};
use mud::{
    Action, Direction, EthMatch, Family, IcmpMatch, Peer, PortMatch, Rule, CONTROLLER_DNS,
    CONTROLLER_NTP,
};

/// A conformant MUD file with `mud_extra` members added to the `ietf-mud:mud` container
/// and ACL "acl" referenced from the from-device policy.
fn file_with(mud_extra: &str, acls: &str) -> String {
    format!(
        r#"{{
  "ietf-mud:mud": {{
    "mud-version": 1,
    "mud-url": "https://things.example.com/lamp",
    "last-update": "2024-01-02T03:04:05+00:00",
    "is-supported": true,
    {mud_extra}
    "from-device-policy": {{"access-lists": {{"access-list": [{{"name": "acl"}}]}}}}
  }},
  "ietf-access-control-list:acls": {{"acl": [{acls}]}}
}}"#
    )
}

/// One ACL "acl" of `acl_type` holding one ACE "e" with `matches`.
fn one_ace(acl_type: &str, matches: &str) -> String {
    file_with(
        "",
        &format!(
            r#"{{"name": "acl", "type": "{acl_type}", "aces": {{"ace": [
                {{"name": "e", "matches": {matches}, "actions": {{"forwarding": "accept"}}}}]}}}}"#
        ),
    )
}

fn ok(text: &str, mode: Mode) -> Parsed {
    parse(text.as_bytes(), mode).unwrap_or_else(|e| panic!("{mode:?}: {e}\n{text}"))
}

fn err(text: &str, mode: Mode) -> ParseError {
    match parse(text.as_bytes(), mode) {
        Ok(p) => panic!("{mode:?} accepted: {:?}", p.policy),
        Err(e) => e,
    }
}

fn only_rule(text: &str) -> Rule {
    let p = ok(text, Mode::Strict);
    assert_eq!(p.policy.rules.len(), 1);
    p.policy.rules[0].clone()
}

fn v4(matches: &str) -> Rule {
    only_rule(&one_ace("ipv4-acl-type", matches))
}

// ----- the mud container -------------------------------------------------------------

#[test]
fn header_fields_and_defaults() {
    let p = ok(
        &file_with(
            r#""systeminfo": "Desk lamp", "mfg-name": "Things", "model-name": "L1",
               "documentation": "https://things.example.com/doc",
               "mud-signature": "https://things.example.com/lamp.p7s",
               "firmware-rev": "1.0", "software-rev": "2.0","#,
            r#"{"name": "acl"}"#,
        ),
        Mode::Strict,
    );
    let pol = &p.policy;
    assert!(
        p.warnings.iter().all(|w| !w.message.contains("rev")),
        "{:?}",
        p.warnings
    );
    assert_eq!(pol.authority, "things.example.com");
    assert_eq!(pol.cache_validity_hours, 48, "RFC 8520 default");
    assert_eq!(pol.systeminfo.as_deref(), Some("Desk lamp"));
    assert_eq!(pol.mfg_name.as_deref(), Some("Things"));
    assert_eq!(pol.model_name.as_deref(), Some("L1"));
    assert_eq!(
        pol.documentation.as_deref(),
        Some("https://things.example.com/doc")
    );
    assert_eq!(
        pol.mud_signature.as_deref(),
        Some("https://things.example.com/lamp.p7s")
    );
}

#[test]
fn missing_acl_is_a_dangling_reference_in_both_modes() {
    let text = file_with("", "");
    for mode in [Mode::Strict, Mode::Lenient] {
        let e = err(&text, mode);
        assert_eq!(
            e.path,
            "/ietf-mud:mud/from-device-policy/access-lists/access-list/0/name"
        );
        assert!(
            e.rule.contains("\"acl\"") && e.rule.contains("leafref"),
            "{e}"
        );
    }
}

#[test]
fn cache_validity_range() {
    let text = file_with(r#""cache-validity": 0,"#, "").replace(
        r#""from-device-policy": {"access-lists": {"access-list": [{"name": "acl"}]}}"#,
        r#""systeminfo": "x""#,
    );
    let e = err(&text, Mode::Strict);
    assert_eq!(e.path, "/ietf-mud:mud/cache-validity");
    assert!(e.rule.contains("1..168"));
    assert_eq!(ok(&text, Mode::Lenient).policy.cache_validity_hours, 1);
    let big = text.replace(r#""cache-validity": 0"#, r#""cache-validity": 500"#);
    assert_eq!(ok(&big, Mode::Lenient).policy.cache_validity_hours, 168);
    let fine = text.replace(r#""cache-validity": 0"#, r#""cache-validity": 168"#);
    assert_eq!(ok(&fine, Mode::Strict).policy.cache_validity_hours, 168);
}

fn without(member: &str) -> String {
    let text = file_with("", r#"{"name": "acl", "type": "ipv4-acl-type"}"#);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut v = v;
    v["ietf-mud:mud"]
        .as_object_mut()
        .unwrap()
        .remove(member)
        .unwrap();
    v.to_string()
}

#[test]
fn mandatory_members() {
    for (member, both_modes) in [
        ("mud-url", true),
        ("is-supported", true),
        ("mud-version", false),
        ("last-update", false),
    ] {
        let text = without(member);
        let e = err(&text, Mode::Strict);
        assert_eq!(e.path, "/ietf-mud:mud", "{member}");
        assert!(
            e.rule.contains(&format!("{member} is mandatory")) && e.rule.contains("RFC 8520"),
            "{e}"
        );
        if both_modes {
            assert_eq!(err(&text, Mode::Lenient), e, "{member}");
        } else {
            let p = ok(&text, Mode::Lenient);
            assert!(
                p.warnings.iter().any(|w| w.message.contains(member)),
                "{member}"
            );
        }
    }
}

#[test]
fn mud_version_other_than_one_is_refused_in_both_modes() {
    let text =
        file_with("", r#"{"name": "acl"}"#).replace(r#""mud-version": 1"#, r#""mud-version": 2"#);
    for mode in [Mode::Strict, Mode::Lenient] {
        let e = err(&text, mode);
        assert_eq!(e.path, "/ietf-mud:mud/mud-version");
        assert!(e.rule.contains("version 2"));
    }
}

#[test]
fn non_https_mud_url_is_refused_in_both_modes() {
    for url in [
        "http://things.example.com/lamp",
        "ftp://things.example.com/lamp",
        "things.example.com/lamp",
    ] {
        let text =
            file_with("", r#"{"name": "acl"}"#).replace("https://things.example.com/lamp", url);
        for mode in [Mode::Strict, Mode::Lenient] {
            let e = err(&text, mode);
            assert_eq!(e.path, "/ietf-mud:mud/mud-url", "{url}");
            assert!(e.rule.contains("https"), "{e}");
        }
    }
}

#[test]
fn unknown_members_are_ignored_with_a_warning() {
    let text = file_with(
        r#""extensions": ["reporter"], "ietf-mud-reporter-extension:reporter": {"report-uri": "https://r.example"}, "colour": "red","#,
        r#"{"name": "acl", "type": "ipv4-acl-type", "vendor:x": 1, "aces": {"ace": [
            {"name": "e", "matches": {"ipv4": {"protocol": 6, "vendor:hint": true}}, "actions": {"forwarding": "accept", "logging": "log-none"}}]}}"#,
    );
    for mode in [Mode::Strict, Mode::Lenient] {
        let p = ok(&text, mode);
        assert_eq!(p.policy.rules.len(), 1);
        let paths: Vec<&str> = p.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/ietf-mud:mud/extensions/0",
                "/ietf-mud:mud/colour",
                "/ietf-mud:mud/ietf-mud-reporter-extension:reporter",
                "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/vendor:hint",
                "/ietf-access-control-list:acls/acl/0/vendor:x",
            ]
        );
    }
}

// ----- size, syntax, robustness ------------------------------------------------------

#[test]
fn malformed_json_reports_line_and_column() {
    let e = err(
        "{\n  \"ietf-mud:mud\": {\n    \"mud-version\": 1,,\n",
        Mode::Lenient,
    );
    assert_eq!(e.path, "/");
    assert!(e.rule.contains("line 3, column 22"), "{e}");
    assert!(e.rule.contains("JSON"), "{e}");
}

#[test]
fn files_over_one_mib_are_refused_before_parsing() {
    // Not even JSON: the size check must come first.
    let big = vec![b'x'; MAX_MUD_BYTES + 1];
    let e = err(std::str::from_utf8(&big).unwrap(), Mode::Lenient);
    assert_eq!(e.path, "/");
    assert!(
        e.rule.contains("1 MiB") && e.rule.contains(&(MAX_MUD_BYTES + 1).to_string()),
        "{e}"
    );

    // Exactly at the limit is parsed (and here refused only for being padding).
    let mut padded = file_with("", r#"{"name": "acl"}"#).into_bytes();
    padded.resize(MAX_MUD_BYTES, b' ');
    assert!(parse(&padded, Mode::Strict).is_ok());
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = err(&deep, Mode::Lenient);
    assert!(e.rule.contains("recursion limit"), "{e}");
    let deep_obj = format!(
        r#"{{"ietf-mud:mud": {}1{}}}"#,
        r#"{"a":"#.repeat(5_000),
        "}".repeat(5_000)
    );
    assert!(parse(deep_obj.as_bytes(), Mode::Lenient).is_err());
}

#[test]
fn wrong_shapes_are_errors_with_paths() {
    assert_eq!(err("[]", Mode::Lenient).path, "/");
    assert_eq!(
        err("{}", Mode::Lenient).rule,
        "the \"ietf-mud:mud\" container is mandatory (RFC 8520 §2.1)"
    );
    let e = err(
        &file_with("", r#"{"name": "acl"}"#)
            .replace(r#""is-supported": true"#, r#""is-supported": "yes""#),
        Mode::Lenient,
    );
    assert_eq!(
        (e.path.as_str(), e.rule.as_str()),
        (
            "/ietf-mud:mud/is-supported",
            "expected a boolean, found a string"
        )
    );
}

#[test]
fn byte_order_mark_is_ignored() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(file_with("", r#"{"name": "acl"}"#).as_bytes());
    let p = parse(&bytes, Mode::Strict).unwrap();
    assert!(p.warnings[0].message.contains("byte order mark"));
}

// ----- ports -------------------------------------------------------------------------

fn tcp_dst(port: &str) -> Result<Rule, ParseError> {
    let text = one_ace(
        "ipv4-acl-type",
        &format!(r#"{{"tcp": {{"destination-port": {port}}}}}"#),
    );
    parse(text.as_bytes(), Mode::Strict).map(|p| p.policy.rules[0].clone())
}

#[test]
fn port_operators() {
    for (json, expected) in [
        (r#"{"operator": "eq", "port": 443}"#, PortMatch::Eq(443)),
        (r#"{"operator": "neq", "port": 23}"#, PortMatch::Neq(23)),
        (r#"{"operator": "lte", "port": 1023}"#, PortMatch::Lte(1023)),
        (
            r#"{"operator": "gte", "port": 49152}"#,
            PortMatch::Gte(49152),
        ),
        // RFC 8519 §4.2: the operator defaults to eq.
        (r#"{"port": 8080}"#, PortMatch::Eq(8080)),
        (
            r#"{"lower-port": 6000, "upper-port": 6010}"#,
            PortMatch::Range(6000, 6010),
        ),
        (
            r#"{"lower-port": 0, "upper-port": 65535}"#,
            PortMatch::Range(0, 65535),
        ),
    ] {
        let r = tcp_dst(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(r.dst_port, Some(expected), "{json}");
        assert_eq!(r.src_port, None);
        assert_eq!(r.protocol, Some(6), "tcp implies protocol 6");
    }
}

#[test]
fn bad_ports() {
    let dst = "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp/destination-port";
    for (json, path_suffix, words) in [
        (
            r#"{"lower-port": 10, "upper-port": 5}"#,
            "",
            "above upper-port",
        ),
        (
            r#"{"lower-port": 10}"#,
            "",
            "both lower-port and upper-port",
        ),
        (r#"{"operator": "eq"}"#, "", "needs a port"),
        (
            r#"{"operator": "lt", "port": 5}"#,
            "/operator",
            "unknown port operator",
        ),
        (
            r#"{"operator": "eq", "port": 5, "lower-port": 1, "upper-port": 9}"#,
            "",
            "not both",
        ),
        (r#"{"port": 70000}"#, "/port", "uint16"),
        (r#"{"port": -1}"#, "/port", "uint16"),
        (r#"{"port": "80"}"#, "/port", "uint16"),
        (r#"{}"#, "", "needs operator/port"),
    ] {
        let e = tcp_dst(json).unwrap_err();
        assert_eq!(e.path, format!("{dst}{path_suffix}"), "{json}");
        assert!(e.rule.contains(words), "{json}: {e}");
    }
}

#[test]
fn udp_source_port_and_protocol() {
    let r = v4(r#"{"udp": {"source-port": {"operator": "eq", "port": 123}}}"#);
    assert_eq!(
        (r.protocol, r.src_port, r.dst_port),
        (Some(17), Some(PortMatch::Eq(123)), None)
    );
}

#[test]
fn protocol_contradicting_the_container_is_refused_in_both_modes() {
    let text = one_ace(
        "ipv4-acl-type",
        r#"{"ipv4": {"protocol": 17}, "tcp": {"destination-port": {"port": 80}}}"#,
    );
    for mode in [Mode::Strict, Mode::Lenient] {
        let e = err(&text, mode);
        assert_eq!(
            e.path,
            "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/protocol"
        );
        assert!(
            e.rule.contains("protocol 17 contradicts the \"tcp\" match"),
            "{e}"
        );
    }
    // Agreeing is fine, and so is a protocol with no l4 container.
    assert_eq!(
        v4(r#"{"ipv4": {"protocol": 6}, "tcp": {}}"#).protocol,
        Some(6)
    );
    assert_eq!(v4(r#"{"ipv4": {"protocol": 47}}"#).protocol, Some(47));
    // tcp and udp together is a choice violation.
    let both = one_ace("ipv4-acl-type", r#"{"tcp": {}, "udp": {}}"#);
    assert!(err(&both, Mode::Lenient).rule.contains("choice l4"));
}

#[test]
fn direction_initiated() {
    let r = v4(
        r#"{"tcp": {"ietf-mud:direction-initiated": "from-device", "destination-port": {"port": 443}}}"#,
    );
    assert_eq!(r.initiated_by, Some(Direction::FromDevice));
    let r = v4(r#"{"tcp": {"ietf-mud:direction-initiated": "to-device"}}"#);
    assert_eq!(r.initiated_by, Some(Direction::ToDevice));
    assert_eq!(v4(r#"{"tcp": {}}"#).initiated_by, None);
    let bad = one_ace(
        "ipv4-acl-type",
        r#"{"tcp": {"ietf-mud:direction-initiated": "both"}}"#,
    );
    assert!(err(&bad, Mode::Lenient)
        .path
        .ends_with("/tcp/ietf-mud:direction-initiated"));
}

// ----- peers -------------------------------------------------------------------------

#[test]
fn each_abstraction() {
    for (json, expected) in [
        (
            r#"{"manufacturer": "Other.example.com"}"#,
            Peer::Manufacturer("other.example.com".into()),
        ),
        (r#"{"same-manufacturer": [null]}"#, Peer::SameManufacturer),
        (
            r#"{"model": "https://other.example.com/bulb"}"#,
            Peer::Model("https://other.example.com/bulb".into()),
        ),
        (r#"{"local-networks": [null]}"#, Peer::LocalNetworks),
        (
            r#"{"controller": "urn:ietf:params:mud:dns"}"#,
            Peer::Controller(CONTROLLER_DNS.into()),
        ),
        (
            r#"{"controller": "urn:ietf:params:mud:ntp"}"#,
            Peer::Controller(CONTROLLER_NTP.into()),
        ),
        (
            r#"{"controller": "https://hub.example.com/class"}"#,
            Peer::Controller("https://hub.example.com/class".into()),
        ),
        (r#"{"my-controller": [null]}"#, Peer::MyController),
    ] {
        let r = v4(&format!(r#"{{"ietf-mud:mud": {json}}}"#));
        assert_eq!(r.peer, expected, "{json}");
        assert_eq!((r.protocol, r.family), (None, Family::Ipv4));
    }
}

#[test]
fn bad_abstractions() {
    for (json, strict_only) in [
        (r#"{"same-manufacturer": []}"#, true),
        (r#"{"local-networks": true}"#, true),
        (r#"{"my-controller": null}"#, true),
        (r#"{"model": "http://other.example.com/bulb"}"#, true),
        (r#"{"same-manufacturer": [1]}"#, false),
        (r#"{"manufacturer": "https://x.example/"}"#, false),
        (r#"{"controller": "not a uri"}"#, false),
    ] {
        let text = one_ace("ipv4-acl-type", &format!(r#"{{"ietf-mud:mud": {json}}}"#));
        let e = err(&text, Mode::Strict);
        assert!(e.path.contains("/matches/ietf-mud:mud/"), "{json}: {e}");
        assert_eq!(
            parse(text.as_bytes(), Mode::Lenient).is_ok(),
            strict_only,
            "{json}"
        );
    }
}

#[test]
fn networks_and_dns_names_take_the_peer_side() {
    let m = r#"{"ipv4": {"destination-ipv4-network": "192.0.2.0/24"}}"#;
    assert_eq!(v4(m).peer, Peer::Network("192.0.2.0/24".parse().unwrap()));
    let m = r#"{"ipv4": {"ietf-acldns:dst-dnsname": "api.example.com"}}"#;
    assert_eq!(v4(m).peer, Peer::DnsName("api.example.com".into()));
    let m = r#"{"ipv6": {"destination-ipv6-network": "2001:db8::/32", "protocol": 17}}"#;
    let r = only_rule(&one_ace("ipv6-acl-type", m));
    assert_eq!(
        (r.peer, r.family, r.protocol),
        (
            Peer::Network("2001:db8::/32".parse().unwrap()),
            Family::Ipv6,
            Some(17)
        )
    );
}

#[test]
fn device_side_conditions_are_strict_errors_and_lenient_skips() {
    // A from-device rule's source is the device itself.
    let text = one_ace(
        "ipv4-acl-type",
        r#"{"ipv4": {"ietf-acldns:src-dnsname": "api.example.com"}}"#,
    );
    let e = err(&text, Mode::Strict);
    assert!(e.path.ends_with("/ipv4/ietf-acldns:src-dnsname"));
    assert!(e.rule.contains("device's own address"), "{e}");
    let p = ok(&text, Mode::Lenient);
    assert!(
        p.policy.rules.is_empty(),
        "an accept ACE with a condition we cannot enforce is skipped"
    );
    // A drop ACE keeps its other conditions instead (blocking more).
    let drop = text.replace(r#""forwarding": "accept""#, r#""forwarding": "drop""#);
    let r = &ok(&drop, Mode::Lenient).policy.rules[0];
    assert_eq!((r.action, r.peer.clone()), (Action::Drop, Peer::Any));
}

#[test]
fn more_than_one_peer() {
    let text = one_ace(
        "ipv4-acl-type",
        r#"{"ietf-mud:mud": {"local-networks": [null]}, "ipv4": {"ietf-acldns:dst-dnsname": "hub.example.com"}}"#,
    );
    let e = err(&text, Mode::Strict);
    assert!(e.rule.contains("more than one peer"), "{e}");
    assert_eq!(e.path, "/ietf-access-control-list:acls/acl/0/aces/ace/0");
    let p = ok(&text, Mode::Lenient);
    assert_eq!(
        p.policy.rules[0].peer,
        Peer::DnsName("hub.example.com".into())
    );
    assert!(p
        .warnings
        .iter()
        .any(|w| w.message.contains("dropped local-networks")));

    let two = one_ace(
        "ipv4-acl-type",
        r#"{"ietf-mud:mud": {"same-manufacturer": [null], "my-controller": [null]}}"#,
    );
    assert_eq!(
        ok(&two, Mode::Lenient).policy.rules[0].peer,
        Peer::MyController
    );
}

#[test]
fn to_device_policy_uses_the_source_side() {
    let text = one_ace(
        "ipv4-acl-type",
        r#"{"ipv4": {"ietf-acldns:src-dnsname": "api.example.com"}, "tcp": {"source-port": {"port": 443}}}"#,
    )
    .replace("from-device-policy", "to-device-policy");
    let r = only_rule(&text);
    assert_eq!(r.direction, Direction::ToDevice);
    assert_eq!(
        (r.peer, r.src_port),
        (
            Peer::DnsName("api.example.com".into()),
            Some(PortMatch::Eq(443))
        )
    );
}

#[test]
fn acl_referenced_from_both_policies_gives_a_rule_per_direction() {
    let text = one_ace("ipv4-acl-type", r#"{"ietf-mud:mud": {"same-manufacturer": [null]}}"#).replace(
        r#""from-device-policy""#,
        r#""to-device-policy": {"access-lists": {"access-list": [{"name": "acl"}]}}, "from-device-policy""#,
    );
    let p = ok(&text, Mode::Strict);
    let dirs: Vec<(Direction, &str)> = p
        .policy
        .rules
        .iter()
        .map(|r| (r.direction, r.name.as_str()))
        .collect();
    assert_eq!(
        dirs,
        [
            (Direction::FromDevice, "acl/e"),
            (Direction::ToDevice, "acl/e")
        ]
    );
}

// ----- ACL types, icmp, eth ----------------------------------------------------------

#[test]
fn each_acl_type() {
    for (acl_type, matches, family) in [
        (
            "ipv4-acl-type",
            r#"{"ipv4": {"protocol": 6}}"#,
            Family::Ipv4,
        ),
        (
            "ietf-access-control-list:ipv4-acl-type",
            r#"{"ipv4": {"protocol": 6}}"#,
            Family::Ipv4,
        ),
        (
            "ipv6-acl-type",
            r#"{"ipv6": {"protocol": 6}}"#,
            Family::Ipv6,
        ),
        (
            "ietf-access-control-list:ipv6-acl-type",
            r#"{}"#,
            Family::Ipv6,
        ),
        (
            "eth-acl-type",
            r#"{"eth": {"ethertype": 2054}}"#,
            Family::Eth,
        ),
        // Mixed ACLs: the family is decided per ACE.
        (
            "mixed-eth-ipv4-ipv6-acl-type",
            r#"{"ipv4": {"protocol": 1}}"#,
            Family::Ipv4,
        ),
        (
            "mixed-eth-ipv4-ipv6-acl-type",
            r#"{"ipv6": {"protocol": 1}}"#,
            Family::Ipv6,
        ),
        (
            "mixed-eth-ipv4-ipv6-acl-type",
            r#"{"eth": {"ethertype": 2054}}"#,
            Family::Eth,
        ),
        (
            "mixed-eth-ipv4-ipv6-acl-type",
            r#"{"ietf-mud:mud": {"local-networks": [null]}}"#,
            Family::Mixed,
        ),
        (
            "mixed-eth-ipv4-acl-type",
            r#"{"eth": {"ethertype": 2048}, "ipv4": {}}"#,
            Family::Ipv4,
        ),
        ("mixed-eth-ipv6-acl-type", r#"{"ipv6": {}}"#, Family::Ipv6),
    ] {
        let r = only_rule(&one_ace(acl_type, matches));
        assert_eq!(r.family, family, "{acl_type} {matches}");
    }
}

#[test]
fn containers_must_suit_the_acl_type() {
    for (acl_type, matches) in [
        ("ipv4-acl-type", r#"{"ipv6": {}}"#),
        ("ipv6-acl-type", r#"{"ipv4": {}}"#),
        ("ipv4-acl-type", r#"{"eth": {}}"#),
        ("eth-acl-type", r#"{"ipv4": {}}"#),
        ("mixed-eth-ipv4-acl-type", r#"{"ipv6": {}}"#),
    ] {
        let text = one_ace(acl_type, matches);
        let e = err(&text, Mode::Strict);
        assert!(
            e.rule.contains("RFC 8519 §4.1: when"),
            "{acl_type} {matches}: {e}"
        );
        assert!(parse(text.as_bytes(), Mode::Lenient).is_ok());
    }
    let both = one_ace(
        "mixed-eth-ipv4-ipv6-acl-type",
        r#"{"ipv4": {}, "ipv6": {}}"#,
    );
    assert!(err(&both, Mode::Lenient).rule.contains("choice l3"));
    let unknown = one_ace("ipx-acl-type", "{}");
    assert_eq!(
        err(&unknown, Mode::Lenient).path,
        "/ietf-access-control-list:acls/acl/0/type"
    );
}

#[test]
fn icmp() {
    let r = v4(r#"{"icmp": {"type": 8, "code": 0}}"#);
    assert_eq!(
        (r.protocol, r.icmp),
        (
            Some(1),
            Some(IcmpMatch {
                icmp_type: Some(8),
                code: Some(0)
            })
        )
    );
    let r = only_rule(&one_ace("ipv6-acl-type", r#"{"icmp": {"type": 128}}"#));
    assert_eq!(
        (r.protocol, r.icmp),
        (
            Some(58),
            Some(IcmpMatch {
                icmp_type: Some(128),
                code: None
            })
        )
    );
    let r = only_rule(&one_ace(
        "mixed-eth-ipv4-ipv6-acl-type",
        r#"{"ipv6": {}, "icmp": {}}"#,
    ));
    assert_eq!(r.protocol, Some(58));
    // ICMP over IPv6 is protocol 58, so 1 contradicts it.
    let bad = one_ace("ipv6-acl-type", r#"{"ipv6": {"protocol": 1}, "icmp": {}}"#);
    assert!(err(&bad, Mode::Lenient).rule.contains("contradicts"));
    // In a mixed ACL with no l3 container ICMP and ICMPv6 cannot be told apart.
    let vague = one_ace("mixed-eth-ipv4-ipv6-acl-type", r#"{"icmp": {"type": 8}}"#);
    assert!(err(&vague, Mode::Lenient).rule.contains("ICMPv6"));
    let bad_type = one_ace("ipv4-acl-type", r#"{"icmp": {"type": 256}}"#);
    assert!(err(&bad_type, Mode::Lenient).path.ends_with("/icmp/type"));
}

#[test]
fn eth() {
    let r = only_rule(&one_ace(
        "eth-acl-type",
        r#"{"eth": {"ethertype": 34958, "destination-mac-address": "01:80:C2:00:00:03"}}"#,
    ));
    assert_eq!(
        r.eth,
        Some(EthMatch {
            ethertype: Some(0x888e),
            peer_mac: Some("01:80:c2:00:00:03".parse().unwrap())
        })
    );
    assert_eq!((r.protocol, r.peer), (None, Peer::Any));
    let named = only_rule(&one_ace("eth-acl-type", r#"{"eth": {"ethertype": "arp"}}"#));
    assert_eq!(named.eth.unwrap().ethertype, Some(0x0806));

    let hex = one_ace("eth-acl-type", r#"{"eth": {"ethertype": "0x88cc"}}"#);
    assert!(err(&hex, Mode::Strict).path.ends_with("/eth/ethertype"));
    assert_eq!(
        ok(&hex, Mode::Lenient).policy.rules[0]
            .eth
            .as_ref()
            .unwrap()
            .ethertype,
        Some(0x88cc)
    );

    let bad_mac = one_ace(
        "eth-acl-type",
        r#"{"eth": {"destination-mac-address": "01:80:c2:00:00"}}"#,
    );
    assert!(err(&bad_mac, Mode::Lenient).rule.contains("MAC"));
    // The device's own MAC in a from-device rule is a device-side condition.
    let own = one_ace(
        "eth-acl-type",
        r#"{"eth": {"source-mac-address": "02:00:00:00:00:01"}}"#,
    );
    assert!(err(&own, Mode::Strict)
        .rule
        .contains("device's own address"));
}

#[test]
fn networks() {
    let wrong_family = one_ace(
        "ipv6-acl-type",
        r#"{"ipv6": {"destination-ipv6-network": "192.0.2.1/32"}}"#,
    );
    assert!(err(&wrong_family, Mode::Strict)
        .rule
        .contains("IPv4 prefix in an IPv6 field"));
    assert!(
        ok(&wrong_family, Mode::Lenient).policy.rules.is_empty(),
        "can never match: skipped"
    );

    let bare = one_ace(
        "ipv4-acl-type",
        r#"{"ipv4": {"destination-ipv4-network": "192.0.2.1"}}"#,
    );
    assert!(err(&bare, Mode::Strict).rule.contains("not a prefix"));
    assert_eq!(
        ok(&bare, Mode::Lenient).policy.rules[0].peer,
        Peer::Network("192.0.2.1/32".parse().unwrap())
    );

    let garbage = one_ace(
        "ipv4-acl-type",
        r#"{"ipv4": {"destination-ipv4-network": "example.com"}}"#,
    );
    assert!(err(&garbage, Mode::Lenient)
        .rule
        .contains("not an IP prefix"));
}

#[test]
fn actions() {
    for (forwarding, action) in [
        ("accept", Action::Accept),
        ("drop", Action::Drop),
        ("reject", Action::Reject),
        ("ietf-access-control-list:reject", Action::Reject),
    ] {
        let text = one_ace("ipv4-acl-type", "{}").replace(
            r#""forwarding": "accept""#,
            &format!(r#""forwarding": "{forwarding}""#),
        );
        assert_eq!(only_rule(&text).action, action);
    }
    let missing = one_ace("ipv4-acl-type", "{}").replace(r#"{"forwarding": "accept"}"#, "{}");
    assert!(err(&missing, Mode::Lenient).rule.contains("forwarding"));
}

#[test]
fn duplicate_names() {
    let dup_ace = file_with(
        "",
        r#"{"name": "acl", "type": "ipv4-acl-type", "aces": {"ace": [
            {"name": "e", "actions": {"forwarding": "accept"}},
            {"name": "e", "actions": {"forwarding": "drop"}}]}}"#,
    );
    assert!(err(&dup_ace, Mode::Strict)
        .rule
        .contains("duplicate ACE name"));
    let p = ok(&dup_ace, Mode::Lenient);
    assert_eq!(p.policy.rules.len(), 1);
    assert_eq!(
        p.policy.rules[0].action,
        Action::Accept,
        "the first entry wins"
    );
}

#[test]
fn unreferenced_acl_is_validated_and_reported() {
    let text = file_with(
        "",
        r#"{"name": "acl"}, {"name": "spare", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "x", "actions": {"forwarding": "accept"}}]}}"#,
    );
    let p = ok(&text, Mode::Strict);
    assert!(p.policy.rules.is_empty());
    assert!(p
        .warnings
        .iter()
        .any(|w| w.path == "/ietf-access-control-list:acls/acl/1"
            && w.message.contains("not referenced")));
    let broken = text.replace(r#""forwarding": "accept""#, r#""forwarding": "maybe""#);
    assert!(err(&broken, Mode::Lenient)
        .path
        .starts_with("/ietf-access-control-list:acls/acl/1/"));
}

#[test]
fn draft_era_names_are_lenient_only() {
    let text = r#"{
      "ietf-mud:mud": {
        "mud-version": 1, "mud-url": "https://things.example.com/lamp",
        "last-update": "2024-01-02T03:04:05Z", "is-supported": false,
        "from-device-policy": {"access-lists": {"access-list": [{"acl-name": "a"}]}}
      },
      "ietf-access-control-list:access-lists": {"acl": [{
        "acl-name": "a", "acl-type": "ipv4-acl",
        "access-list-entries": {"ace": [
          {"ace-name": "e", "matches": {
             "ipv4-acl": {"protocol": 17, "ietf-acldns:dst-dnsname": "ntp.example.com"},
             "udp": {"destination-port-range-or-operator": {"operator": "eq", "port": 123}}},
           "actions": {"forwarding": "accept"}},
          {"rule-name": "f", "matches": {"ietf-mud:mud-acl": {"controller": "urn:ietf:params:mud:dns"}},
           "actions": {"forwarding": "accept"}}
        ]}}]}
    }"#;
    assert!(err(text, Mode::Strict).rule.contains("draft-era"));
    let p = ok(text, Mode::Lenient);
    assert!(!p.policy.is_supported);
    let r = &p.policy.rules;
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].name.as_str(), r[0].dst_port, r[0].protocol),
        ("a/e", Some(PortMatch::Eq(123)), Some(17))
    );
    assert_eq!(r[1].peer, Peer::Controller(CONTROLLER_DNS.into()));
    assert!(
        p.warnings.len() >= 7,
        "one warning per draft-era name: {:?}",
        p.warnings
    );
}

/// MUDgee's port quirk (`operator: eq` beside `lower-port`/`upper-port`), made from Cisco's
/// real Luminaire file by rewriting its first port match in that shape: strict refuses it,
/// lenient reads the range with a warning naming the quirk.
#[test]
fn mudgee_operator_eq_with_a_port_range_is_a_range_in_lenient_mode_only() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mud/cisco/Luminaire_150.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let quirky = text.replacen(
        "\"operator\": \"eq\",\n                    \"port\": 443",
        "\"operator\": \"eq\",\n                    \"lower-port\": 443,\n                    \"upper-port\": 444",
        1,
    );
    assert_ne!(quirky, text, "the rewrite must apply");
    let err = mud::parse::parse(quirky.as_bytes(), mud::parse::Mode::Strict).unwrap_err();
    assert!(err.rule.contains("not both"), "{err}");
    let parsed = mud::parse::parse(quirky.as_bytes(), mud::parse::Mode::Lenient).unwrap();
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.message.contains("MUDgee") && w.message.contains("read as the range")),
        "{:?}",
        parsed.warnings
    );
    let ranges: Vec<_> = parsed
        .policy
        .rules
        .iter()
        .filter_map(|r| r.src_port)
        .filter(|p| matches!(p, mud::PortMatch::Range(443, 444)))
        .collect();
    assert_eq!(ranges.len(), 1, "{:?}", parsed.policy.rules);
}
