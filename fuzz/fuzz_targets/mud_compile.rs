//! A MUD file (untrusted JSON from a vendor's server), strict and lenient, then everything a
//! parsed policy feeds: the household explanation and the nftables batch for a device at
//! `declared` (text and JSON renderings).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let site = enforce::Site {
        gateway: vec!["192.168.1.1".parse().unwrap(), "fd00::1".parse().unwrap()],
        lan_interfaces: vec!["br-lan".into()],
        dns_hold_port: Some(10053),
        ..enforce::Site::default()
    };
    for mode in [mud::parse::Mode::Strict, mud::parse::Mode::Lenient] {
        let Ok(parsed) = mud::parse::parse(data, mode) else {
            continue;
        };
        let _ = mud::explain::explain(&parsed.policy);
        let compiler = enforce::Compiler::new(&site);
        for level in [enforce::Level::Declared, enforce::Level::UpdateOnly] {
            let dev = enforce::Device {
                mac: "02:00:00:00:00:01".parse().unwrap(),
                ipv4: vec!["192.168.1.20".parse().unwrap()],
                ipv6: vec!["fd00::20".parse().unwrap()],
                level,
                policy: Some(parsed.policy.clone()),
                update_hosts: vec![],
                exceptions: vec![],
            };
            if let Ok(batch) = compiler.add_device(&dev) {
                // Nothing from the file can inject syntax: one printable-ASCII line per
                // command, each starting with its verb, quotes balanced.
                let text = batch.to_text();
                assert_eq!(text.lines().count(), batch.commands.len(), "{text}");
                for line in text.lines() {
                    assert!(
                        line.bytes().all(|b| (0x20..0x7f).contains(&b)),
                        "non-printable byte in {line:?}"
                    );
                    assert!(
                        ["add ", "delete ", "flush "].iter().any(|v| line.starts_with(v)),
                        "{line:?}"
                    );
                    assert_eq!(line.matches('"').count() % 2, 0, "unbalanced quotes: {line:?}");
                }
                let _ = batch.to_json();
                let _ = compiler.remove_device(&dev).to_text();
            }
        }
    }
});
