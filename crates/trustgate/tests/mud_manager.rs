//! Containment that follows the label, with real parts and no root: a real HTTPS server on
//! loopback (rustls, a throwaway CA) serves a real MUD file (Cisco's Luminaire example, its
//! `mud-url` pointed at the server) signed by a vendor certificate naming the host; a real
//! `trustgate registry serve` holds the device's label. The gateway (dry run: journal only)
//! fetches and verifies the file, finds the label, holds the device at `declared`; a
//! revocation through the CLI moves it to `update-only` within 5 s; a support end date that
//! passes while the registry is gone does the same; an answer whose proofs fail is not used.

use gateway::{Gateway, GatewayConfig};
use manager::serve::{serve_dir, throwaway_tls, Served, ThrowawayTls};
use monitor::{DeviceFacts, Mac, Output};
use std::path::Path;
use std::time::{Duration, Instant};

mod common;
use common::*;

const NS: u64 = 1_000_000_000;
fn mud_file(url: &str) -> Vec<u8> {
    luminaire_for(url)
}

struct World {
    _dirs: Vec<tempfile::TempDir>,
    d: std::path::PathBuf,
    data: std::path::PathBuf,
    registry: Server,
    _mud_server: manager::serve::Served,
    url: String,
    anchors: Vec<u8>,
    tls_ca: Vec<u8>,
}

/// An HTTPS server on loopback (throwaway TLS CA, certificate for `localhost`) serving a
/// fresh directory: (directory, TLS material, server).
fn https_files() -> (tempfile::TempDir, ThrowawayTls, Served) {
    let files = tempfile::tempdir().unwrap();
    let tls = throwaway_tls(&["localhost"]).unwrap();
    let server = serve_dir(
        files.path(),
        "127.0.0.1:0".parse().unwrap(),
        &tls.cert_pem,
        &tls.key_pem,
    )
    .unwrap();
    (files, tls, server)
}

/// A vendor's HTTPS MUD host and a registry holding a label `id` for the MUD URL.
fn world(id: &str) -> World {
    let (files, tls, server) = https_files();
    let url = format!("https://localhost:{}/luminaire.json", server.addr.port());
    let pki = mud::signature::ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    publish_signed(files.path(), "luminaire.json", &mud_file(&url), &pki);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let mut claims = label::example_claims();
    claims.id = id.into();
    claims.network_profile.mud_url = Some(url.clone());
    let (registry, data, _) = registry_with_claims(&d, &claims);
    World {
        _dirs: vec![files, dir],
        d,
        data,
        registry,
        _mud_server: server,
        url,
        anchors: pki.ca_cert_pem,
        tls_ca: tls.ca_pem.into_bytes(),
    }
}

fn gateway_config(w: &World, state: &Path, log_key: &str) -> GatewayConfig {
    let mut m = manager::ManagerConfig::new(state.to_path_buf());
    m.anchors = Some(mud::signature::TrustAnchors::from_pem(&w.anchors).unwrap());
    m.tls_roots_pem = vec![w.tls_ca.clone()];
    m.builtin_roots = false;
    let mut assessors = label::KeyRing::new();
    let pem = std::fs::read_to_string(w.d.join("lab.pub")).unwrap();
    assessors.insert(label::verifying_key_from_pem(&pem).unwrap());
    m.registry = Some(manager::RegistryConfig {
        url: w.registry.url.clone(),
        log: tlog::checkpoint::LogVerifier::parse(log_key).unwrap(),
        assessors,
        operators: label::KeyRing::new(),
        refresh: Duration::from_secs(3600),
        poll: Duration::from_secs(1),
        timeout: Duration::from_secs(5),
    });
    dry_run_gateway(state, m, enforce::Level::Default)
}

/// A dry-run gateway (journal only, nftables untouched) with manager `m`; a device with a
/// verified MUD file and no label gets `unlabelled`.
fn dry_run_gateway(
    state: &Path,
    m: manager::ManagerConfig,
    unlabelled: enforce::Level,
) -> GatewayConfig {
    GatewayConfig {
        site: enforce::Site::default(),
        nft: enforce::NftRunner::default(),
        apply: true,
        dry_run: true,
        quarantine_ttl_s: 3600,
        state_dir: state.to_path_buf(),
        policies: vec![],
        max_devices: gateway::DEFAULT_MAX_DEVICES,
        trusted: vec![],
        manager: Some(m),
        unlabelled,
        dns_hold: None,
    }
}

fn log_key(w: &World) -> String {
    std::fs::read_to_string(w.data.join("log.key.pub"))
        .unwrap()
        .trim()
        .to_string()
}

fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

const DEVICE: &str = "02:00:00:00:16:01";

fn announce(gw: &mut Gateway, url: &str) {
    announce_as(gw, DEVICE, url);
}

fn announce_as(gw: &mut Gateway, mac: &str, url: &str) {
    let mut facts = DeviceFacts::new(mac.parse().unwrap(), wall_ns());
    facts.hostname = Some("luminaire".into());
    facts.mud_url = Some(url.into());
    facts.addrs = vec!["192.168.1.50".parse().unwrap()];
    gw.handle(&Output::Device(facts), wall_ns()).unwrap();
}

/// Tick (at `clock()`) until the device is at `level`; returns how long it took.
fn until_level(gw: &mut Gateway, level: enforce::Level, clock: impl Fn() -> u64) -> Duration {
    let mac: Mac = DEVICE.parse().unwrap();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        gw.tick(clock()).unwrap();
        if gw.level(&mac) == Some(level) {
            return t.elapsed();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "not at {level} within 20 s (at {:?}); status: {:#?}",
        gw.level(&mac),
        gw.status().devices
    );
}

/// Tick until the device's status has `cause`; returns that status line.
fn until_cause(gw: &mut Gateway, cause: &str) -> gateway::DeviceStatus {
    let t = Instant::now();
    loop {
        gw.tick(wall_ns()).unwrap();
        let st = gw.status();
        if st.devices[0].cause == cause {
            return st.devices[0].clone();
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no {cause}: {:?}",
            st.devices
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn journal(state: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(state.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_verified_mud_file_and_an_active_label_give_declared_and_a_revocation_update_only() {
    let w = world("urn:mm:1");
    let state = tempfile::tempdir().unwrap();
    let mut gw = Gateway::new(gateway_config(&w, state.path(), &log_key(&w))).unwrap();
    announce(&mut gw, &w.url);
    until_level(&mut gw, enforce::Level::Declared, wall_ns);
    let st = gw.status();
    let dev = &st.devices[0];
    assert_eq!(dev.mud.as_ref().unwrap().state, "verified");
    assert_eq!(dev.label.as_ref().unwrap().id.as_deref(), Some("urn:mm:1"));
    assert_eq!(dev.cause, "label-active", "{dev:?}");
    // What the household's page shows of the label comes from its proven claims.
    let l = dev.label.as_ref().unwrap();
    assert!(
        l.manufacturer.as_deref().is_some_and(|m| !m.is_empty()),
        "{l:?}"
    );
    assert!(l.product.as_deref().is_some_and(|p| !p.is_empty()), "{l:?}");
    let end = l.support_end.as_deref().unwrap();
    assert_eq!(end.len(), 10, "{end}");
    assert!(end > "2026-01-01", "{end}");
    assert!(l.update_mode.is_some(), "{l:?}");
    assert!(l.failing.is_empty(), "{l:?}");
    // And what its verified MUD file lets it do, in both languages.
    let m = dev.mud.as_ref().unwrap();
    assert!(
        m.explanation
            .as_deref()
            .is_some_and(|e| e.ends_with("Everything else is blocked.\n")),
        "{m:?}"
    );
    assert!(
        m.explanation_fr
            .as_deref()
            .is_some_and(|e| e.contains("Tout le reste est bloqué.")),
        "{m:?}"
    );

    let o = run(&[
        "registry",
        "revoke",
        "urn:mm:1",
        "--reason",
        "default password found",
        "--key",
        s(&w.d.join("lab.key")),
        "--url",
        &w.registry.url,
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let took = until_level(&mut gw, enforce::Level::UpdateOnly, wall_ns);
    assert!(took < Duration::from_secs(5), "revocation took {took:?}");
    let j = journal(state.path());
    let last = j.last().unwrap();
    assert_eq!(last["action"], "label");
    assert_eq!(last["to"], "update-only");
    assert_eq!(last["cause"], "label-revoked");
    assert!(
        last["explanation"]
            .as_str()
            .unwrap()
            .contains("default password found"),
        "{last}"
    );
    // Each step is in the journal with its cause.
    let causes: Vec<&str> = j.iter().filter_map(|e| e["cause"].as_str()).collect();
    assert!(causes.contains(&"label-active"), "{causes:?}");
}

/// The registry is asked by firmware digest too: the device's own label is active, but the
/// same firmware image is under another product's label, which the assessor revokes (a
/// backdoor found in the image). The device goes to `update-only` saying so; a label for
/// other firmware, revoked, changes nothing.
#[test]
fn a_revoked_label_for_the_same_firmware_tightens_the_device() {
    let w = world("urn:mm:fw1");
    let mut same = label::example_claims();
    same.id = "urn:mm:fw2".into();
    same.product.model = "Other lamp".into();
    same.network_profile.mud_url = Some("https://other.example/lamp.json".into());
    let mut other = same.clone();
    other.id = "urn:mm:fw3".into();
    other.software[0].image_sha256 = label::Sha256Digest::of(b"some other firmware");
    for (c, name) in [(&same, "same-firmware"), (&other, "other-firmware")] {
        let path = issue_label(&w.d, c, name);
        let o = run(&["registry", "submit", s(&path), "--url", &w.registry.url]);
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    let state = tempfile::tempdir().unwrap();
    let mut gw = Gateway::new(gateway_config(&w, state.path(), &log_key(&w))).unwrap();
    announce(&mut gw, &w.url);
    until_level(&mut gw, enforce::Level::Declared, wall_ns);
    let revoke = |id: &str, reason: &str| {
        let o = run(&[
            "registry",
            "revoke",
            id,
            "--reason",
            reason,
            "--key",
            s(&w.d.join("lab.key")),
            "--url",
            &w.registry.url,
        ]);
        assert_eq!(code(&o), 0, "{}", text(&o));
    };
    // Another image's label revoked: nothing changes for this device.
    revoke("urn:mm:fw3", "unrelated");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        gw.tick(wall_ns()).unwrap();
        assert_eq!(
            gw.level(&DEVICE.parse().unwrap()),
            Some(enforce::Level::Declared)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    revoke("urn:mm:fw2", "telnet backdoor in the firmware");
    let took = until_level(&mut gw, enforce::Level::UpdateOnly, wall_ns);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let st = gw.status();
    let dev = &st.devices[0];
    assert_eq!(dev.cause, "firmware-revoked", "{dev:?}");
    assert!(
        dev.reason.contains("urn:mm:fw2") && dev.reason.contains("telnet backdoor"),
        "{}",
        dev.reason
    );
    assert_eq!(
        dev.label.as_ref().unwrap().id.as_deref(),
        Some("urn:mm:fw1")
    );
}

#[test]
fn a_support_end_date_that_passes_while_the_registry_is_away_still_tightens() {
    let mut w = world("urn:mm:2");
    let state = tempfile::tempdir().unwrap();
    {
        let mut gw = Gateway::new(gateway_config(&w, state.path(), &log_key(&w))).unwrap();
        announce(&mut gw, &w.url);
        until_level(&mut gw, enforce::Level::Declared, wall_ns);
    }
    w.registry.kill();
    // A restart with the registry gone: the cached, re-checked answer is used, and on a clock
    // past the label's support end date (2030-12-31) the device is held at update-only.
    let after_support = 1_924_992_000 * NS + 3600 * NS; // 2031-01-01T01:00:00Z
    let mut gw = Gateway::new(gateway_config(&w, state.path(), &log_key(&w))).unwrap();
    announce(&mut gw, &w.url);
    until_level(&mut gw, enforce::Level::UpdateOnly, || after_support);
    let st = gw.status();
    assert_eq!(st.devices[0].cause, "support-ended", "{:?}", st.devices[0]);
    assert!(
        st.devices[0].reason.contains("2030-12-31"),
        "{}",
        st.devices[0].reason
    );
}

#[test]
fn a_registry_answer_whose_proofs_fail_is_not_used() {
    let w = world("urn:mm:3");
    let state = tempfile::tempdir().unwrap();
    // Another log's key: the answer's checkpoint signature cannot verify.
    let other = tempfile::tempdir().unwrap();
    let (signer, _) =
        registry::logkey::load_or_create(&other.path().join("log.key"), "other.example/log")
            .unwrap();
    let other_key = signer.verifier_key().to_string();
    let mut gw = Gateway::new(gateway_config(&w, state.path(), &other_key)).unwrap();
    announce(&mut gw, &w.url);
    let mac: Mac = DEVICE.parse().unwrap();
    let dev = until_cause(&mut gw, "label-answer-refused");
    assert_eq!(gw.level(&mac), Some(enforce::Level::Default));
    assert!(dev.reason.contains("not used"), "{}", dev.reason);
    let j = journal(state.path());
    assert!(
        j.iter()
            .any(|e| e["action"] == "label" && e["cause"] == "label-answer-refused"),
        "{j:?}"
    );
}

#[test]
fn a_mud_file_from_a_signer_outside_the_anchors_leaves_the_device_at_default_with_the_reason_journalled(
) {
    let w = world("urn:mm:4");
    // The gateway anchors another manufacturer's CA, not the one the file's signer chains to,
    // so the signature is not trusted even though the device's label is active.
    let pki = mud::signature::ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut cfg = gateway_config(&w, state.path(), &log_key(&w));
    cfg.manager.as_mut().unwrap().anchors =
        Some(mud::signature::TrustAnchors::from_pem(&pki.ca_cert_pem).unwrap());
    cfg.unlabelled = enforce::Level::Declared;
    let mut gw = Gateway::new(cfg).unwrap();
    announce(&mut gw, &w.url);
    let mac: Mac = DEVICE.parse().unwrap();
    let dev = until_cause(&mut gw, "untrusted-signer");
    assert_eq!(gw.level(&mac), Some(enforce::Level::Default));
    assert!(dev.reason.contains("not used"), "{}", dev.reason);
    let j = journal(state.path());
    assert!(
        j.iter().any(|e| e["action"] == "mud"
            && e["cause"] == "untrusted-signer"
            && e["to"] == "default"),
        "{j:?}"
    );
}

#[test]
fn another_device_s_valid_label_does_not_speak_for_this_one() {
    let w = world("urn:mm:5");
    // The real registry's answer for the Luminaire's URL: a valid, proven, active label…
    let lookup = String::from_utf8(
        std::process::Command::new("curl")
            .args([
                "-s",
                &format!("{}/v1/lookup?mud-url={}", w.registry.url, w.url),
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(lookup.contains("urn:mm:5"), "{lookup}");
    // …served by a lying registry as the answer for another device's MUD URL.
    let other_url = w.url.replace("luminaire.json", "thermostat.json");
    let state = tempfile::tempdir().unwrap();
    let mut cfg = gateway_config(&w, state.path(), &log_key(&w));
    cfg.manager.as_mut().unwrap().registry.as_mut().unwrap().url = canned_http(lookup, usize::MAX);
    let mut gw = Gateway::new(cfg).unwrap();
    announce(&mut gw, &other_url);
    let dev = until_cause(&mut gw, "label-answer-refused");
    assert!(dev.reason.contains("urn:mm:5"), "{}", dev.reason);
    assert_eq!(
        gw.level(&DEVICE.parse().unwrap()),
        Some(enforce::Level::Default)
    );
}

/// A gateway (dry run) whose manager trusts `anchors` and the throwaway TLS CA `tls_ca`, with
/// no label registry; a verified file without a label gives `declared`.
fn mud_only_config(state: &Path, anchors: &[u8], tls_ca: &str) -> GatewayConfig {
    let mut m = manager::ManagerConfig::new(state.to_path_buf());
    m.anchors = Some(mud::signature::TrustAnchors::from_pem(anchors).unwrap());
    m.tls_roots_pem = vec![tls_ca.as_bytes().to_vec()];
    m.builtin_roots = false;
    m.limits = manager::fetch::FetchLimits {
        timeout: Duration::from_secs(3),
        ..manager::fetch::FetchLimits::default()
    };
    m.retry = Duration::from_secs(3600);
    dry_run_gateway(state, m, enforce::Level::Declared)
}

#[test]
fn every_refused_mud_file_leaves_its_device_at_default_with_the_reason_journalled() {
    let (files, tls, server) = https_files();
    let url = |name: &str| format!("https://localhost:{}/{name}", server.addr.port());
    let pki = mud::signature::ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    let mallory = mud::signature::ephemeral_pki_for_hosts("Mallory", &["localhost"]).unwrap();
    let elsewhere =
        mud::signature::ephemeral_pki_for_hosts("Acme Other", &["acme.example"]).unwrap();
    let dir = files.path();
    // Bad signature: the .p7s of another document.
    publish_signed(dir, "bad.json", &mud_file(&url("bad.json")), &pki);
    let other_sig =
        mud::signature::sign_detached(b"{}", &pki.signer_key_pem, &pki.signer_cert_pem, None)
            .unwrap();
    std::fs::write(dir.join("bad.p7s"), other_sig).unwrap();
    // Signed by a CA the gateway does not anchor.
    publish_signed(
        dir,
        "untrusted.json",
        &mud_file(&url("untrusted.json")),
        &mallory,
    );
    // Signed by an anchored signer whose certificate names another host.
    publish_signed(dir, "host.json", &mud_file(&url("host.json")), &elsewhere);
    // Over 1 MiB.
    let mut big = mud_file(&url("big.json"));
    big.extend(std::iter::repeat_n(b' ', 1 << 20));
    publish_signed(dir, "big.json", &big, &pki);
    // A server that accepts and then sends no byte for 30 s.
    let stall = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stall_port = stall.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = stall.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(held);
    });
    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let cases = [
        (
            "02:00:00:00:17:01",
            format!("http://localhost:{}/bad.json", server.addr.port()),
            "not-https",
        ),
        (
            "02:00:00:00:17:02",
            format!("https://localhost:{closed_port}/x.json"),
            "unreachable",
        ),
        (
            "02:00:00:00:17:03",
            format!("https://localhost:{stall_port}/slow.json"),
            "timeout",
        ),
        ("02:00:00:00:17:04", url("big.json"), "too-large"),
        ("02:00:00:00:17:05", url("bad.json"), "bad-signature"),
        (
            "02:00:00:00:17:06",
            url("untrusted.json"),
            "untrusted-signer",
        ),
        ("02:00:00:00:17:07", url("host.json"), "signer-not-for-host"),
    ];
    let state = tempfile::tempdir().unwrap();
    let anchors = [pki.ca_cert_pem.clone(), elsewhere.ca_cert_pem.clone()].concat();
    let mut gw = Gateway::new(mud_only_config(state.path(), &anchors, &tls.ca_pem)).unwrap();
    for (mac, url, _) in &cases {
        announce_as(&mut gw, mac, url);
    }
    let t = Instant::now();
    loop {
        gw.tick(wall_ns()).unwrap();
        let st = gw.status();
        let done = cases.iter().all(|(mac, _, kind)| {
            st.devices
                .iter()
                .any(|d| d.mac.to_string() == *mac && d.cause == *kind)
        });
        if done {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "not every refusal seen: {:#?}",
            st.devices
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let j = journal(state.path());
    for (mac, _, kind) in &cases {
        assert_eq!(
            gw.level(&mac.parse().unwrap()),
            Some(enforce::Level::Default),
            "{mac} ({kind})"
        );
        assert!(
            j.iter().any(|e| e["device"] == *mac
                && e["action"] == "mud"
                && e["cause"] == *kind
                && e["to"] == "default"),
            "{mac}: no journal line with cause {kind}: {j:#?}"
        );
    }
}

#[test]
fn a_file_re_signed_by_another_signer_leaves_the_device_at_default() {
    let (files, tls, server) = https_files();
    let url = format!("https://localhost:{}/lum.json", server.addr.port());
    let first = mud::signature::ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    let second = mud::signature::ephemeral_pki_for_hosts("Acme Second", &["localhost"]).unwrap();
    let anchors = [first.ca_cert_pem.clone(), second.ca_cert_pem.clone()].concat();
    publish_signed(files.path(), "lum.json", &mud_file(&url), &first);
    let state = tempfile::tempdir().unwrap();
    {
        let mut gw = Gateway::new(mud_only_config(state.path(), &anchors, &tls.ca_pem)).unwrap();
        announce(&mut gw, &url);
        until_level(&mut gw, enforce::Level::Declared, wall_ns);
    }
    // Re-signed by another anchored certificate; the cached copy is gone, so it is fetched again.
    publish_signed(files.path(), "lum.json", &mud_file(&url), &second);
    for e in std::fs::read_dir(state.path().join("mud"))
        .unwrap()
        .flatten()
    {
        if e.file_name() != "signers.json" {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let mut gw = Gateway::new(mud_only_config(state.path(), &anchors, &tls.ca_pem)).unwrap();
    announce(&mut gw, &url);
    let dev = until_cause(&mut gw, "signer-changed");
    assert_eq!(dev.level, enforce::Level::Default, "{dev:?}");
    let j = journal(state.path());
    assert!(
        j.iter()
            .any(|e| e["cause"] == "signer-changed" && e["to"] == "default"),
        "{j:#?}"
    );
}

/// Issue a label `id` for another product with the lab key in `d` and submit it to `url`.
fn submit_other(d: &Path, url: &str, id: &str) {
    let mut claims = label::example_claims();
    claims.id = id.into();
    claims.network_profile.mud_url = Some(format!("https://other.example/{}.json", id.len()));
    let l = issue_label(d, &claims, &id.replace(':', "_"));
    let o = run(&["registry", "submit", s(&l), "--url", url]);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn a_registry_whose_log_forked_is_not_believed() {
    // Registry A and a copy of it (same log key) that then diverge: A logs one more label, the
    // copy two others. A gateway that saw A's log cannot be shown the copy's as its future.
    let mut w = world("urn:mm:6");
    w.registry.kill();
    let fork_data = w.d.join("fork");
    let o = std::process::Command::new("cp")
        .args(["-a", s(&w.data), s(&fork_data)])
        .output()
        .unwrap();
    assert!(o.status.success());
    w.registry = Server::start(&w.data);
    submit_other(&w.d, &w.registry.url, "urn:mm:6a");
    let state = tempfile::tempdir().unwrap();
    {
        let mut gw = Gateway::new(gateway_config(&w, state.path(), &log_key(&w))).unwrap();
        announce(&mut gw, &w.url);
        until_level(&mut gw, enforce::Level::Declared, wall_ns);
    }
    w.registry.kill();
    let fork = Server::start(&fork_data);
    submit_other(&w.d, &fork.url, "urn:mm:6b");
    submit_other(&w.d, &fork.url, "urn:mm:6c");
    let mut cfg = gateway_config(&w, state.path(), &log_key(&w));
    cfg.manager.as_mut().unwrap().registry.as_mut().unwrap().url = fork.url.clone();
    let mut gw = Gateway::new(cfg).unwrap();
    announce(&mut gw, &w.url);
    let dev = until_cause(&mut gw, "label-answer-refused");
    assert_eq!(dev.level, enforce::Level::Default, "{dev:?}");
    assert!(dev.reason.contains("consistent"), "{}", dev.reason);
}
