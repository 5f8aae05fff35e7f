//! The household explanation, checked on real files and on hand-made policies.

use mud::explain::explain;
use mud::parse::{parse, Mode};
use mud::{Action, DevicePolicy, Direction, Family, Peer, PortMatch, Rule};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mud");

fn explained(rel: &str) -> String {
    let bytes = std::fs::read(format!("{CORPUS}/{rel}")).unwrap();
    explain(&parse(&bytes, Mode::Lenient).unwrap().policy)
}

#[test]
fn amazon_echo() {
    let text = explained("namib/Amazon-Echo.json");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "amazonEcho");
    assert!(lines[1].contains("amazonecho.com"));
    assert!(lines.contains(
        &"May connect to dcape-na.amazon.com on port 443 (HTTPS) — only connections it starts itself."
    ));
    assert!(lines
        .contains(&"May send UDP messages to your network's name server (DNS) on port 53 (DNS)."));
    assert!(lines.contains(
        &"May send UDP messages to 0.north-america.pool.ntp.org on port 123 (NTP time)."
    ));
    assert!(lines
        .contains(&"May receive UDP messages from devices on your home network on port 50000."));
    // Reply halves are folded into the rule they answer: no "from port 443" lines.
    assert!(!text.contains("sent from port 443"), "{text}");
    assert!(!text.contains("ping replies"), "{text}");
    assert_eq!(lines.last(), Some(&"Everything else is blocked."));
    assert!(!text.contains("WARNING"));
}

#[test]
fn same_manufacturer_and_controller_in_the_nest_file() {
    let text = explained("osmud-negative/MUDFILE.NEST");
    assert!(text.contains(
        "May talk to other devices from the same manufacturer (mplaunchpad.com) on your home network."
    ));
    assert!(text.contains("May talk to the controller you set up for this device."));
    // Range 9543..9543 reads as one port.
    assert!(
        text.contains("May connect to nest.com on port 9543."),
        "{text}"
    );
}

#[test]
fn luminaire_local_and_controller() {
    let text = explained("cisco/Luminaire_150.json");
    assert!(text.starts_with("MUD-enabled Luminaire\n"));
    assert!(
        text.contains("May send UDP messages to devices on your home network on port 5683 (CoAP).")
    );
    assert!(
        text.contains("the controller you set up for this device on port 5684 (CoAP over DTLS)")
    );
    assert_eq!(
        text.matches("fw-update.luminaire.example.com").count(),
        1,
        "{text}"
    );
}

#[test]
fn sensor_accepts_local_connections() {
    let text = explained("nist/mudfile-server__mudfile-sensor.json");
    assert!(text.contains(
        "May accept connections from devices on your home network on port 80 (HTTP) — only connections they start."
    ), "{text}");
    assert!(text.contains("devices made by otherman.nist.local"));
}

fn policy(is_supported: bool, rules: Vec<Rule>) -> DevicePolicy {
    DevicePolicy {
        mud_url: "https://things.example.com/lamp".into(),
        authority: "things.example.com".into(),
        is_supported,
        cache_validity_hours: 48,
        systeminfo: None,
        mfg_name: None,
        model_name: Some("Lamp L1".into()),
        documentation: None,
        mud_signature: None,
        rules,
    }
}

fn rule(direction: Direction, peer: Peer, protocol: Option<u8>, dst: Option<PortMatch>) -> Rule {
    Rule {
        name: "a/b".into(),
        direction,
        family: Family::Ipv4,
        peer,
        protocol,
        src_port: None,
        dst_port: dst,
        icmp: None,
        eth: None,
        initiated_by: None,
        action: Action::Accept,
    }
}

#[test]
fn unsupported_device_is_flagged_before_anything_else() {
    let text = explain(&policy(false, vec![]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Lamp L1");
    assert!(
        lines[2].starts_with("WARNING") && lines[2].contains("no longer supported"),
        "{text}"
    );
    assert!(text.contains("It may not use the network at all."));
    assert!(text.ends_with("Everything else is blocked.\n"));
}

#[test]
fn port_operators_and_peers_in_words() {
    let text = explain(&policy(
        true,
        vec![
            rule(
                Direction::FromDevice,
                Peer::Network("192.0.2.0/24".parse().unwrap()),
                Some(6),
                Some(PortMatch::Range(8000, 8010)),
            ),
            rule(
                Direction::FromDevice,
                Peer::Any,
                Some(17),
                Some(PortMatch::Gte(1024)),
            ),
            rule(
                Direction::ToDevice,
                Peer::LocalNetworks,
                Some(6),
                Some(PortMatch::Neq(23)),
            ),
            rule(
                Direction::FromDevice,
                Peer::Controller(mud::CONTROLLER_NTP.into()),
                Some(17),
                Some(PortMatch::Lte(123)),
            ),
            Rule {
                action: Action::Drop,
                ..rule(
                    Direction::FromDevice,
                    Peer::Model("https://x.example/m".into()),
                    None,
                    None,
                )
            },
        ],
    ));
    for expected in [
        "May connect to addresses in 192.0.2.0/24 on ports 8000 to 8010.",
        "May send UDP messages to any address on ports 1024 and above.",
        "May accept connections from devices on your home network on any port except 23.",
        "May send UDP messages to your network's time server (NTP) on ports up to 123.",
        "Explicitly blocked: Send any kind of traffic to devices of the same kind as https://x.example/m on your home network.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

fn explained_fr(rel: &str) -> String {
    let bytes = std::fs::read(format!("{CORPUS}/{rel}")).unwrap();
    mud::explain::explain_in(
        &parse(&bytes, Mode::Lenient).unwrap().policy,
        mud::explain::Lang::Fr,
    )
}

/// The same real files in French: the destinations take the contracted article French needs
/// (« au serveur », « aux appareils », « des appareils »), and no English is left.
#[test]
fn the_same_files_in_french() {
    let text = explained_fr("namib/Amazon-Echo.json");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "amazonEcho");
    assert!(
        lines[1].starts_with("Règles réseau publiées par "),
        "{text}"
    );
    for expected in [
        "Peut se connecter à dcape-na.amazon.com sur le port 443 (HTTPS) — seulement les connexions qu’il ouvre lui-même.",
        "Peut envoyer des messages UDP au serveur de noms (DNS) de votre réseau sur le port 53 (DNS).",
        "Peut envoyer des messages UDP à 0.north-america.pool.ntp.org sur le port 123 (heure NTP).",
        "Peut recevoir des messages UDP des appareils de votre réseau domestique sur le port 50000.",
    ] {
        assert!(lines.contains(&expected), "missing {expected:?} in\n{text}");
    }
    assert_eq!(lines.last(), Some(&"Tout le reste est bloqué."));

    let nest = explained_fr("osmud-negative/MUDFILE.NEST");
    assert!(nest.contains(
        "Peut communiquer avec les autres appareils du même fabricant (mplaunchpad.com) sur votre réseau domestique."
    ), "{nest}");
    assert!(nest.contains(
        "Peut communiquer avec le contrôleur que vous avez configuré pour cet appareil."
    ));
    let sensor = explained_fr("nist/mudfile-server__mudfile-sensor.json");
    assert!(sensor.contains(
        "Peut accepter les connexions des appareils de votre réseau domestique sur le port 80 (HTTP) — seulement les connexions qu’ils ouvrent."
    ), "{sensor}");
    let lamp = explained_fr("cisco/Luminaire_150.json");
    assert!(lamp.contains("au contrôleur que vous avez configuré pour cet appareil sur le port 5684 (CoAP sur DTLS)"), "{lamp}");
    for text in [&text, &nest, &sensor, &lamp] {
        for english in [" May ", "Everything", " on port", "devices", " only "] {
            assert!(
                !text.contains(english),
                "English {english:?} left in\n{text}"
            );
        }
    }
}

#[test]
fn french_port_ranges_and_blocked_rules_read_as_french() {
    let mut r = rule(
        Direction::FromDevice,
        Peer::LocalNetworks,
        Some(6),
        Some(PortMatch::Range(1000, 2000)),
    );
    let mut blocked = rule(
        Direction::ToDevice,
        Peer::Any,
        Some(17),
        Some(PortMatch::Neq(53)),
    );
    blocked.action = Action::Drop;
    r.name = "range".into();
    let text = mud::explain::explain_in(&policy(false, vec![r, blocked]), mud::explain::Lang::Fr);
    assert!(text.starts_with("Lamp L1\n"));
    assert!(text.contains("ATTENTION : le fabricant"), "{text}");
    assert!(
        text.contains(
            "Peut se connecter aux appareils de votre réseau domestique sur les ports 1000 à 2000."
        ),
        "{text}"
    );
    assert!(
        text.contains("Bloqué explicitement : recevoir des messages UDP de n’importe quelle adresse sur n’importe quel port sauf le 53."),
        "{text}"
    );
}
