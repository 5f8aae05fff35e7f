//! Every household sentence an event carries, in English and French, in one place.
//!
//! A detector says *what* it saw as a [`Said`] (the kind of sentence and its numbers); the
//! sentence is written only when the event is emitted, once per language: an [`Event`]
//! carries `explanation` (English) and `explanation_fr` (French). Devices are named by
//! [`Who`], which knows both languages' words for "the device …" at the start of a sentence
//! and in the middle of one.
//!
//! [`Event`]: crate::Event

use crate::packet::Mac;
use std::fmt::Write;
use std::net::IpAddr;

/// A language households read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Fr,
}

/// How a device is named in a sentence.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Who {
    /// Its own name (DHCP hostname or mDNS name).
    Named(String, Mac),
    /// Only its vendor (IEEE OUI) is known.
    Vendor(String, Mac),
    /// A capture without MACs: its address.
    At(IpAddr),
    /// Nothing but its MAC.
    Mac(Mac),
    /// A device not named at all (a DHCP reply without a client address).
    Another,
}

impl Who {
    /// At the start of a sentence.
    fn start(&self, lang: Lang) -> String {
        match (self, lang) {
            (Who::Named(n, m), _) => format!("{n} ({m})"),
            (Who::Vendor(v, m), Lang::En) => format!("A {v} device ({m})"),
            (Who::Vendor(v, m), Lang::Fr) => format!("Un appareil {v} ({m})"),
            (Who::At(a), Lang::En) => format!("The device at {a}"),
            (Who::At(a), Lang::Fr) => format!("L'appareil à l'adresse {a}"),
            (Who::Mac(m), Lang::En) => format!("The device {m}"),
            (Who::Mac(m), Lang::Fr) => format!("L'appareil {m}"),
            (Who::Another, Lang::En) => "Another device".into(),
            (Who::Another, Lang::Fr) => "Un autre appareil".into(),
        }
    }

    /// In the middle of a sentence.
    fn mid(&self, lang: Lang) -> String {
        match (self, lang) {
            (Who::Named(..), _) => self.start(lang),
            (Who::Vendor(v, m), Lang::En) => format!("a {v} device ({m})"),
            (Who::Vendor(v, m), Lang::Fr) => format!("un appareil {v} ({m})"),
            (Who::At(a), Lang::En) => format!("the device at {a}"),
            (Who::At(a), Lang::Fr) => format!("l'appareil à l'adresse {a}"),
            (Who::Mac(m), Lang::En) => format!("the device {m}"),
            (Who::Mac(m), Lang::Fr) => format!("l'appareil {m}"),
            (Who::Another, Lang::En) => "another device".into(),
            (Who::Another, Lang::Fr) => "un autre appareil".into(),
        }
    }
}

/// What a detector saw, with the numbers its sentence needs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Said {
    FragmentFlood {
        count: u32,
        dst: IpAddr,
    },
    SynFlood {
        count: u32,
        dst: IpAddr,
    },
    AckFlood {
        count: u32,
        dst: IpAddr,
    },
    UdpFlood {
        count: u32,
        dst: IpAddr,
    },
    /// Asked another resolver for a name the router had just answered.
    DnsFallback {
        resolver: IpAddr,
        name: String,
    },
    DnsBypass {
        resolver: IpAddr,
    },
    WaterTorture {
        names: f64,
        domain: String,
        window_s: u64,
    },
    NewDestinations {
        count: u32,
    },
    Mirai,
    TelnetScan {
        hosts: f64,
        window_s: u64,
    },
    Scan {
        hosts: f64,
        window_s: u64,
    },
    /// `ports`: the estimate, `None` when the port map is saturated (more than 300).
    PortScan {
        ports: Option<f64>,
        dst: IpAddr,
        window_s: u64,
    },
    BruteForce {
        attempts: u16,
        victim: IpAddr,
        port: u16,
        window_s: u64,
    },
    MudViolation {
        dst: IpAddr,
        proto: &'static str,
        port: u16,
        url: String,
    },
    /// Many ports of this device from one internet address.
    InboundPortScan {
        src: IpAddr,
        ports: f64,
        window_s: u64,
    },
    /// One port of many devices, this one among them.
    InboundSweep {
        src: IpAddr,
        port: u16,
        hosts: f64,
        window_s: u64,
    },
    InboundSynFlood {
        count: u32,
        src: IpAddr,
        port: u16,
    },
    InboundUdpFlood {
        count: u32,
        src: IpAddr,
    },
    ReflectionFlood {
        count: u32,
        port: u16,
        src: IpAddr,
    },
    RogueDhcp {
        victim: Who,
    },
    RogueDhcpV6,
    RogueRouter,
    RogueRoutes,
    MudUrlChanged {
        url: String,
        first: String,
    },
    /// `why` is one of [`REFUSALS`]' English texts.
    MudUrlInvalid {
        why: &'static str,
        shown: String,
    },
}

/// Why a MUD URL was refused, as the end of "… an address that …": English, French.
pub(crate) const REFUSALS: [(&str, &str); 5] = [
    ("is longer than 255 bytes", "dépasse 255 octets"),
    ("is not text", "n'est pas du texte"),
    (
        "contains spaces or control characters",
        "contient des espaces ou des caractères de contrôle",
    ),
    (
        "is not a secure web address (https://)",
        "n'est pas une adresse web sécurisée (https://)",
    ),
    ("is not a web address", "n'est pas une adresse web"),
];

const FLOOD_EN: &str = "it is taking part in an attack that floods a service.";
const FLOOD_FR: &str = "il participe à une attaque qui inonde un service.";
const ALLOW_EN: &str =
    "the device is not isolated for it; if you trust this resolver for the device, allow it.";
const ALLOW_FR: &str = "l'appareil n'est pas isolé pour cela ; si vous faites confiance à ce résolveur pour cet appareil, autorisez-le.";
const MITM_EN: &str = "a device doing this can pass other devices' internet traffic through itself to spy on it or change it.";
const MITM_FR: &str = "un appareil qui fait cela peut faire passer par lui le trafic internet des autres appareils pour l'espionner ou le modifier.";
const TARGET_EN: &str = "The device is the victim, not the cause, and is not isolated.";
const TARGET_FR: &str = "L'appareil est la victime, pas la cause, et n'est pas isolé.";

impl Said {
    /// The sentence in `lang`, about the device `who`.
    pub(crate) fn render(&self, who: &Who, lang: Lang) -> String {
        let w = who.start(lang);
        let mut s = String::with_capacity(160);
        // Writing to a String cannot fail.
        let _ = match (self, lang) {
            (Said::FragmentFlood { count, dst }, Lang::En) => write!(s, "{w} sent {count} packet fragments in one second (to {dst} and others): {FLOOD_EN}"),
            (Said::FragmentFlood { count, dst }, Lang::Fr) => write!(s, "{w} a envoyé {count} fragments de paquets en une seconde (à {dst} et d'autres) : {FLOOD_FR}"),
            (Said::SynFlood { count, dst }, Lang::En) => write!(s, "{w} sent {count} connection requests in one second (to {dst} and others): {FLOOD_EN}"),
            (Said::SynFlood { count, dst }, Lang::Fr) => write!(s, "{w} a envoyé {count} demandes de connexion en une seconde (à {dst} et d'autres) : {FLOOD_FR}"),
            (Said::AckFlood { count, dst }, Lang::En) => write!(s, "{w} sent {count} packets in one second belonging to no connection (to {dst} and others): {FLOOD_EN}"),
            (Said::AckFlood { count, dst }, Lang::Fr) => write!(s, "{w} a envoyé en une seconde {count} paquets n'appartenant à aucune connexion (à {dst} et d'autres) : {FLOOD_FR}"),
            (Said::UdpFlood { count, dst }, Lang::En) => write!(s, "{w} sent {count} unanswered packets in one second (to {dst} and others): {FLOOD_EN}"),
            (Said::UdpFlood { count, dst }, Lang::Fr) => write!(s, "{w} a envoyé {count} paquets sans réponse en une seconde (à {dst} et d'autres) : {FLOOD_FR}"),
            (Said::DnsFallback { resolver, name }, Lang::En) => write!(s, "{w} also asked {resolver} for {name}, which your router had just answered: devices do this with a second, fallback resolver. On its own this is not a sign of malware and {ALLOW_EN}"),
            (Said::DnsFallback { resolver, name }, Lang::Fr) => write!(s, "{w} a aussi demandé {name} à {resolver}, que votre routeur venait de lui donner : les appareils font cela avec un second résolveur, de secours. À lui seul, ce n'est pas un signe de logiciel malveillant et {ALLOW_FR}"),
            (Said::DnsBypass { resolver }, Lang::En) => write!(s, "{w} asked {resolver} instead of your router to look up names. Some devices do this by design, and malware does it to avoid your router's protections; on its own it is not proof of either, and {ALLOW_EN}"),
            (Said::DnsBypass { resolver }, Lang::Fr) => write!(s, "{w} a interrogé {resolver} au lieu de votre routeur pour trouver des noms. Certains appareils le font par conception, et des logiciels malveillants le font pour échapper aux protections de votre routeur ; à lui seul, ce n'est la preuve ni de l'un ni de l'autre, et {ALLOW_FR}"),
            (Said::WaterTorture { names, domain, window_s }, Lang::En) => write!(s, "{w} asked for about {} made-up names under {domain} in {window_s} seconds: it is attacking that domain's name servers.", names.round()),
            (Said::WaterTorture { names, domain, window_s }, Lang::Fr) => write!(s, "{w} a demandé environ {} noms inventés sous {domain} en {window_s} secondes : il attaque les serveurs de noms de ce domaine.", names.round()),
            (Said::NewDestinations { count }, Lang::En) => write!(s, "{w} suddenly contacted {count} internet addresses it never used before within a minute."),
            (Said::NewDestinations { count }, Lang::Fr) => write!(s, "{w} a soudain contacté, en une minute, {count} adresses internet qu'il n'avait jamais utilisées."),
            (Said::Mirai, Lang::En) => write!(s, "{w} is probing other computers for weak passwords the way the Mirai botnet does; it is almost certainly infected."),
            (Said::Mirai, Lang::Fr) => write!(s, "{w} sonde d'autres ordinateurs à la recherche de mots de passe faibles, comme le fait le botnet Mirai ; il est presque certainement infecté."),
            (Said::TelnetScan { hosts, window_s }, Lang::En) => write!(s, "{w} tried the remote-login (telnet) service of about {} different addresses in {window_s} seconds: it is looking for devices to break into.", hosts.round()),
            (Said::TelnetScan { hosts, window_s }, Lang::Fr) => write!(s, "{w} a essayé le service de connexion à distance (telnet) d'environ {} adresses différentes en {window_s} secondes : il cherche des appareils où s'introduire.", hosts.round()),
            (Said::Scan { hosts, window_s }, Lang::En) => write!(s, "{w} tried to connect to about {} different addresses in {window_s} seconds and almost none answered: it is scanning for victims.", hosts.round()),
            (Said::Scan { hosts, window_s }, Lang::Fr) => write!(s, "{w} a tenté de se connecter à environ {} adresses différentes en {window_s} secondes et presque aucune n'a répondu : il cherche des victimes.", hosts.round()),
            (Said::PortScan { ports, dst, window_s }, Lang::En) => {
                let ports = ports.map_or_else(|| "more than 300".to_string(), |p| format!("about {}", p.round()));
                write!(s, "{w} tried {ports} different services (ports) of {dst} and others in {window_s} seconds and almost none answered: it is probing computers for a way in (a port scan).")
            }
            (Said::PortScan { ports, dst, window_s }, Lang::Fr) => {
                let ports = ports.map_or_else(|| "plus de 300".to_string(), |p| format!("environ {}", p.round()));
                write!(s, "{w} a essayé {ports} services (ports) différents de {dst} et d'autres en {window_s} secondes et presque aucun n'a répondu : il sonde des ordinateurs pour trouver une entrée (un balayage de ports).")
            }
            (Said::BruteForce { attempts, victim, port, window_s }, Lang::En) => write!(s, "{w} opened {attempts} login sessions to {victim} port {port} within {window_s} seconds: it is guessing passwords."),
            (Said::BruteForce { attempts, victim, port, window_s }, Lang::Fr) => write!(s, "{w} a ouvert {attempts} sessions de connexion vers {victim} port {port} en {window_s} secondes : il essaie de deviner des mots de passe."),
            (Said::MudViolation { dst, proto, port, url }, Lang::En) => write!(s, "{w} contacted {dst} ({proto} port {port}), which its manufacturer's network profile ({url}) does not allow."),
            (Said::MudViolation { dst, proto, port, url }, Lang::Fr) => write!(s, "{w} a contacté {dst} ({proto} port {port}), ce que le profil réseau de son fabricant ({url}) n'autorise pas."),
            // The English sentences name the device as at the start of a sentence even where it
            // stands in the middle (as they always have); the French ones do not.
            (Said::InboundPortScan { src, ports, window_s }, Lang::En) => write!(s, "{src} on the internet tried about {} different services (ports) of {w} in {window_s} seconds: it is scanning your network from outside. Your router let it through; the device is the target, not the cause, and is not isolated.", ports.round()),
            (Said::InboundPortScan { src, ports, window_s }, Lang::Fr) => write!(s, "{src}, sur internet, a essayé environ {} services (ports) différents de {} en {window_s} secondes : il balaie votre réseau depuis l'extérieur. Votre routeur l'a laissé passer ; l'appareil est la cible, pas la cause, et n'est pas isolé.", ports.round(), who.mid(lang)),
            (Said::InboundSweep { src, port, hosts, window_s }, Lang::En) => write!(s, "{src} on the internet tried port {port} of about {} of your devices, {w} among them in {window_s} seconds: it is scanning your network from outside. Your router let it through; the device is the target, not the cause, and is not isolated.", hosts.round()),
            (Said::InboundSweep { src, port, hosts, window_s }, Lang::Fr) => write!(s, "{src}, sur internet, a essayé le port {port} d'environ {} de vos appareils, dont {}, en {window_s} secondes : il balaie votre réseau depuis l'extérieur. Votre routeur l'a laissé passer ; l'appareil est la cible, pas la cause, et n'est pas isolé.", hosts.round(), who.mid(lang)),
            (Said::InboundSynFlood { count, src, port }, Lang::En) => write!(s, "{w} received {count} connection requests in one second from internet addresses ({src} and others, most likely forged) to its port {port}: it is the target of a flood attack from the internet. {TARGET_EN}"),
            (Said::InboundSynFlood { count, src, port }, Lang::Fr) => write!(s, "{w} a reçu en une seconde {count} demandes de connexion d'adresses internet ({src} et d'autres, très probablement falsifiées) vers son port {port} : il est la cible d'une attaque par inondation depuis internet. {TARGET_FR}"),
            (Said::InboundUdpFlood { count, src }, Lang::En) => write!(s, "{w} received {count} datagrams in one second from internet addresses ({src} and others) that belong to no conversation: it is the target of a flood attack from the internet. {TARGET_EN}"),
            (Said::InboundUdpFlood { count, src }, Lang::Fr) => write!(s, "{w} a reçu en une seconde {count} datagrammes d'adresses internet ({src} et d'autres) qui n'appartiennent à aucun échange : il est la cible d'une attaque par inondation depuis internet. {TARGET_FR}"),
            (Said::ReflectionFlood { count, port, src }, Lang::En) => write!(s, "{w} received {count} answers in one second it never asked for, from internet servers' port {port} ({src} and others): someone is using those servers to flood it (a reflection attack). {TARGET_EN}"),
            (Said::ReflectionFlood { count, port, src }, Lang::Fr) => write!(s, "{w} a reçu en une seconde {count} réponses qu'il n'avait pas demandées, venant du port {port} de serveurs internet ({src} et d'autres) : quelqu'un se sert de ces serveurs pour l'inonder (une attaque par réflexion). {TARGET_FR}"),
            (Said::RogueDhcp { victim }, Lang::En) => write!(s, "{w} offered {} a network address as if it were your router; {MITM_EN}", victim.mid(lang)),
            (Said::RogueDhcp { victim }, Lang::Fr) => write!(s, "{w} a proposé une adresse réseau à {} comme s'il était votre routeur ; {MITM_FR}", victim.mid(lang)),
            (Said::RogueDhcpV6, Lang::En) => write!(s, "{w} answered other devices' requests for IPv6 network settings as if it were your router; a device doing this can pass their internet traffic through itself to spy on it or change it."),
            (Said::RogueDhcpV6, Lang::Fr) => write!(s, "{w} a répondu aux demandes de réglages réseau IPv6 d'autres appareils comme s'il était votre routeur ; un appareil qui fait cela peut faire passer leur trafic internet par lui pour l'espionner ou le modifier."),
            (Said::RogueRouter, Lang::En) => write!(s, "{w} announced itself as your network's router for IPv6; {MITM_EN}"),
            (Said::RogueRouter, Lang::Fr) => write!(s, "{w} s'est annoncé comme le routeur IPv6 de votre réseau ; {MITM_FR}"),
            (Said::RogueRoutes, Lang::En) => write!(s, "{w} announced IPv6 network routes although it is not your router; they were not taken into account (smart-home hubs do this for their own radio network)."),
            (Said::RogueRoutes, Lang::Fr) => write!(s, "{w} a annoncé des routes réseau IPv6 alors qu'il n'est pas votre routeur ; elles n'ont pas été prises en compte (les passerelles domotiques le font pour leur propre réseau radio)."),
            (Said::MudUrlChanged { url, first }, Lang::En) => write!(s, "{w} now names a different manufacturer network profile ({url}) than it first did ({first}); the first one stays in use and the device is treated more strictly until you check it."),
            (Said::MudUrlChanged { url, first }, Lang::Fr) => write!(s, "{w} indique maintenant un autre profil réseau du fabricant ({url}) que la première fois ({first}) ; le premier reste en vigueur et l'appareil est traité plus strictement jusqu'à ce que vous le vérifiiez."),
            (Said::MudUrlInvalid { why, shown }, Lang::En) => write!(s, "{w} announced a manufacturer network profile address that {why}, so it was not used: \"{shown}\"."),
            (Said::MudUrlInvalid { why, shown }, Lang::Fr) => {
                let why = REFUSALS.iter().find(|(en, _)| en == why).map_or(*why, |(_, fr)| *fr);
                write!(s, "{w} a annoncé une adresse de profil réseau du fabricant qui {why} ; elle n'a donc pas été utilisée : « {shown} ».")
            }
        };
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Said> {
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        vec![
            Said::FragmentFlood {
                count: 1000,
                dst: a,
            },
            Said::SynFlood {
                count: 1000,
                dst: a,
            },
            Said::AckFlood {
                count: 1000,
                dst: a,
            },
            Said::UdpFlood {
                count: 1000,
                dst: a,
            },
            Said::DnsFallback {
                resolver: a,
                name: "example.com".into(),
            },
            Said::DnsBypass { resolver: a },
            Said::WaterTorture {
                names: 51.4,
                domain: "example.com".into(),
                window_s: 10,
            },
            Said::NewDestinations { count: 24 },
            Said::Mirai,
            Said::TelnetScan {
                hosts: 8.0,
                window_s: 10,
            },
            Said::Scan {
                hosts: 32.0,
                window_s: 10,
            },
            Said::PortScan {
                ports: Some(70.2),
                dst: a,
                window_s: 10,
            },
            Said::PortScan {
                ports: None,
                dst: a,
                window_s: 10,
            },
            Said::BruteForce {
                attempts: 8,
                victim: a,
                port: 23,
                window_s: 120,
            },
            Said::MudViolation {
                dst: a,
                proto: "TCP",
                port: 443,
                url: "https://x.example/m.json".into(),
            },
            Said::InboundPortScan {
                src: a,
                ports: 64.0,
                window_s: 10,
            },
            Said::InboundSweep {
                src: a,
                port: 23,
                hosts: 32.0,
                window_s: 10,
            },
            Said::InboundSynFlood {
                count: 1000,
                src: a,
                port: 80,
            },
            Said::InboundUdpFlood {
                count: 1000,
                src: a,
            },
            Said::ReflectionFlood {
                count: 1000,
                port: 123,
                src: a,
            },
            Said::RogueDhcp {
                victim: Who::Another,
            },
            Said::RogueDhcpV6,
            Said::RogueRouter,
            Said::RogueRoutes,
            Said::MudUrlChanged {
                url: "https://b.example/".into(),
                first: "https://a.example/".into(),
            },
            Said::MudUrlInvalid {
                why: REFUSALS[3].0,
                shown: "http://a.example/".into(),
            },
        ]
    }

    #[test]
    fn every_sentence_names_the_device_and_differs_by_language() {
        let who = Who::Vendor("Espressif".into(), Mac([2, 0, 0, 0, 0, 1]));
        for said in all() {
            let en = said.render(&who, Lang::En);
            let fr = said.render(&who, Lang::Fr);
            assert!(en.contains("02:00:00:00:00:01"), "{en}");
            assert!(fr.contains("02:00:00:00:00:01"), "{fr}");
            assert!(
                en.contains("Espressif device") && fr.contains("appareil Espressif"),
                "{en} / {fr}"
            );
            assert_ne!(en, fr);
            assert!(en.ends_with('.') && fr.ends_with('.'), "{en} / {fr}");
        }
    }

    #[test]
    fn numbers_and_refusals_are_written_in_both_languages() {
        let who = Who::Mac(Mac([2, 0, 0, 0, 0, 1]));
        let torture = Said::WaterTorture {
            names: 51.4,
            domain: "example.com".into(),
            window_s: 10,
        };
        assert!(torture
            .render(&who, Lang::En)
            .contains("about 51 made-up names"));
        assert!(torture
            .render(&who, Lang::Fr)
            .contains("environ 51 noms inventés"));
        for (en, fr) in REFUSALS {
            let said = Said::MudUrlInvalid {
                why: en,
                shown: "x".into(),
            };
            assert!(said.render(&who, Lang::En).contains(en));
            assert!(said.render(&who, Lang::Fr).contains(fr));
        }
        let rogue = Said::RogueDhcp {
            victim: Who::At("192.168.1.5".parse().unwrap()),
        };
        assert!(rogue
            .render(&who, Lang::En)
            .contains("offered the device at 192.168.1.5 a"));
        assert!(rogue
            .render(&who, Lang::Fr)
            .contains("à l'appareil à l'adresse 192.168.1.5"));
    }
}
