//! Fault injection on the gateway's MUD manager, with real parts on loopback and no root
//! (what `mud_manager.rs` and `manager/tests/fetch.rs` do not cover yet):
//!
//! - MUD servers that misbehave after the connection is made: one that sends headers and half
//!   a body over real TLS (`openssl s_server`) and then stalls, one that resets the connection
//!   (RST), one that speaks garbage instead of TLS, one that serves garbage as the file and as
//!   its signature, and one whose vendor signed garbage. Each device stays at `default`, within
//!   the fetch timeout, and the journal says why (`action: mud`, `cause`, the reason text).
//! - The registry unreachable when the gateway first asks about a device's label: the device
//!   is not given `declared` on a MUD file alone, `gateway status` says since when and why the
//!   registry is unreachable; once the registry answers, the device gets `declared`.

use gateway::{Gateway, GatewayConfig};
use manager::serve::{serve_dir, throwaway_tls};
use monitor::{DeviceFacts, Mac, Output};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::*;

const NS: u64 = 1_000_000_000;

fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn announce(gw: &mut Gateway, mac: &str, url: &str) {
    let mac: Mac = mac.parse().unwrap();
    let mut facts = DeviceFacts::new(mac, wall_ns());
    facts.mud_url = Some(url.to_string());
    facts.addrs = vec![format!("192.168.1.{}", 100 + mac.0[5] % 100)
        .parse()
        .unwrap()];
    gw.handle(&Output::Device(facts), wall_ns()).unwrap();
}

fn journal(state: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(state.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A dry-run gateway (journal only) with MUD manager `m`.
fn dry_run(state: &Path, m: manager::ManagerConfig) -> GatewayConfig {
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
        unlabelled: enforce::Level::Default,
        dns_hold: None,
    }
}

fn manager_config(state: &Path, anchors: &[u8], tls_ca: &str) -> manager::ManagerConfig {
    let mut m = manager::ManagerConfig::new(state.to_path_buf());
    m.anchors = Some(mud::signature::TrustAnchors::from_pem(anchors).unwrap());
    m.tls_roots_pem = vec![tls_ca.as_bytes().to_vec()];
    m.builtin_roots = false;
    m.limits.timeout = Duration::from_secs(3);
    m
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Killed when dropped, so a failed test leaves no server behind.
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real TLS server (`openssl s_server`) for `localhost` that answers the first connection
/// with HTTP headers announcing 100 000 bytes and then only the first few of them, and keeps
/// the connection open (its standard input stays open) until dropped.
fn stalling_tls_server(dir: &Path, cert_pem: &str, key_pem: &str) -> (u16, Kill) {
    std::fs::write(dir.join("cert.pem"), cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), key_pem).unwrap();
    let port = free_port();
    let mut child = Command::new("openssl")
        .args(["s_server", "-quiet", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(dir.join("cert.pem"))
        .arg("-key")
        .arg(dir.join("key.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/mud+json\r\ncontent-length: 100000\r\n\r\n{\"ietf-mud:mud\": {\"mud-version\": 1,",
        )
        .unwrap();
    // Held open by a thread that outlives the test's use of it: s_server sends what it reads
    // from standard input, so an open, silent stdin is a stalled body.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        drop(stdin);
    });
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "s_server never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (port, Kill(child))
}

/// Accepts connections and answers each with `what` (after reading what the client sent
/// first): `Reset` closes with the client's bytes unread (the kernel sends RST), `Garbage`
/// sends bytes that are not TLS.
#[derive(Clone, Copy)]
enum Hostile {
    Reset,
    Garbage,
}

fn hostile_server(what: Hostile) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming().take(8) {
            let Ok(mut c) = c else { return };
            // Let the ClientHello arrive before answering.
            std::thread::sleep(Duration::from_millis(100));
            match what {
                Hostile::Reset => drop(c),
                Hostile::Garbage => {
                    let mut buf = [0u8; 512];
                    let _ = c.read(&mut buf);
                    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 131 % 251) as u8).collect();
                    let _ = c.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
                    let _ = c.write_all(&junk);
                }
            }
        }
    });
    port
}

#[test]
fn mud_servers_that_stall_mid_body_reset_or_send_garbage_leave_the_device_at_default_and_say_why() {
    let files = tempfile::tempdir().unwrap();
    let tls = throwaway_tls(&["localhost"]).unwrap();
    let server = serve_dir(
        files.path(),
        "127.0.0.1:0".parse().unwrap(),
        &tls.cert_pem,
        &tls.key_pem,
    )
    .unwrap();
    let port = server.addr.port();
    let pki = mud::signature::ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    // Garbage as the file and as its signature.
    std::fs::write(
        files.path().join("junk.json"),
        b"\x00\xffnot json at all\x01",
    )
    .unwrap();
    std::fs::write(files.path().join("junk.p7s"), b"\x30\x82garbage").unwrap();
    // Garbage, properly signed by the vendor: the signature holds, the content is no MUD file.
    publish_signed(
        files.path(),
        "signed-junk.json",
        b"{\"ietf-mud:mud\": [1, 2",
        &pki,
    );
    let tls_dir = tempfile::tempdir().unwrap();
    let (stall_port, _stall) = stalling_tls_server(tls_dir.path(), &tls.cert_pem, &tls.key_pem);
    let reset_port = hostile_server(Hostile::Reset);
    let garbage_port = hostile_server(Hostile::Garbage);
    let cases = [
        (
            "02:00:00:00:18:01",
            format!("https://localhost:{stall_port}/half.json"),
            "timeout",
            "within 3 s",
        ),
        (
            "02:00:00:00:18:02",
            format!("https://localhost:{reset_port}/x.json"),
            "unreachable",
            "",
        ),
        (
            "02:00:00:00:18:03",
            format!("https://localhost:{garbage_port}/x.json"),
            "unreachable",
            "",
        ),
        (
            "02:00:00:00:18:04",
            format!("https://localhost:{port}/junk.json"),
            "bad-signature",
            "",
        ),
        (
            "02:00:00:00:18:05",
            format!("https://localhost:{port}/signed-junk.json"),
            "invalid-mud",
            "",
        ),
    ];
    let state = tempfile::tempdir().unwrap();
    let mut gw = Gateway::new(dry_run(
        state.path(),
        manager_config(state.path(), &pki.ca_cert_pem, &tls.ca_pem),
    ))
    .unwrap();
    let t = Instant::now();
    for (mac, url, _, _) in &cases {
        announce(&mut gw, mac, url);
    }
    let mut seen: Vec<Option<Duration>> = vec![None; cases.len()];
    loop {
        gw.tick(wall_ns()).unwrap();
        let st = gw.status();
        for (i, (mac, _, kind, _)) in cases.iter().enumerate() {
            if seen[i].is_none()
                && st
                    .devices
                    .iter()
                    .any(|d| d.mac.to_string() == *mac && d.cause == *kind)
            {
                seen[i] = Some(t.elapsed());
            }
        }
        if seen.iter().all(Option::is_some) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "not every refusal seen ({seen:?}): {:#?}",
            st.devices
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The stalled body is cut off by the 3 s fetch timeout, not held for the server's 60 s.
    let stalled = seen[0].unwrap();
    assert!(
        stalled >= Duration::from_millis(2500) && stalled < Duration::from_secs(10),
        "the stalled fetch ended after {stalled:?}"
    );
    let j = journal(state.path());
    for (mac, url, kind, words) in &cases {
        assert_eq!(
            gw.level(&mac.parse().unwrap()),
            Some(enforce::Level::Default),
            "{mac} ({kind})"
        );
        let line = j
            .iter()
            .find(|e| e["device"] == *mac && e["action"] == "mud" && e["cause"] == *kind)
            .unwrap_or_else(|| panic!("{mac}: no journal line with cause {kind}: {j:#?}"));
        assert_eq!(line["to"], "default", "{line}");
        let why = line["explanation"].as_str().unwrap_or_default();
        assert!(
            why.contains(url.as_str()) && why.contains(words),
            "{mac} ({kind}): the journal does not say why: {line}"
        );
    }
}

#[test]
fn a_registry_unreachable_at_first_gives_no_declared_level_until_it_answers() {
    let files = tempfile::tempdir().unwrap();
    let tls = throwaway_tls(&["localhost"]).unwrap();
    let mud_server = serve_dir(
        files.path(),
        "127.0.0.1:0".parse().unwrap(),
        &tls.cert_pem,
        &tls.key_pem,
    )
    .unwrap();
    let url = format!(
        "https://localhost:{}/luminaire.json",
        mud_server.addr.port()
    );
    let pki = mud::signature::ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    publish_signed(files.path(), "luminaire.json", &luminaire_for(&url), &pki);

    // A registry with the device's label, not started yet; the gateway is told its address.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = lab_registry(d);
    let mut claims = label::example_claims();
    claims.id = "urn:faults:unreachable".into();
    claims.network_profile.mud_url = Some(url.clone());
    let label_path = issue_label(d, &claims, "device");
    let registry_port = free_port();
    let registry_url = format!("http://127.0.0.1:{registry_port}");
    // The log key exists once the data directory has been served once.
    let key_pub = {
        let s = Server::start(&data);
        drop(s);
        std::fs::read_to_string(data.join("log.key.pub")).unwrap()
    };

    let state = tempfile::tempdir().unwrap();
    let mut m = manager_config(state.path(), &pki.ca_cert_pem, &tls.ca_pem);
    let mut assessors = label::KeyRing::new();
    assessors.insert(
        label::verifying_key_from_pem(&std::fs::read_to_string(d.join("lab.pub")).unwrap())
            .unwrap(),
    );
    m.registry = Some(manager::RegistryConfig {
        url: registry_url.clone(),
        log: tlog::checkpoint::LogVerifier::parse(key_pub.trim()).unwrap(),
        assessors,
        operators: label::KeyRing::new(),
        refresh: Duration::from_secs(3600),
        poll: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
    });
    let mut gw = Gateway::new(dry_run(state.path(), m)).unwrap();
    let mac = "02:00:00:00:19:01";
    announce(&mut gw, mac, &url);

    // The MUD file verifies; the registry does not answer: `gateway status` says so, and the
    // device is not given `declared` on the MUD file alone.
    let t = Instant::now();
    let since = loop {
        gw.tick(wall_ns()).unwrap();
        let st = gw.status();
        let dev = st.devices.iter().find(|d| d.mac.to_string() == mac);
        let label = dev.and_then(|d| d.label.as_ref());
        let verified = dev
            .and_then(|d| d.mud.as_ref())
            .is_some_and(|m| m.state == "verified");
        if let Some(since) = label.and_then(|l| l.registry_unreachable_since) {
            let err = label.unwrap().registry_error.clone().unwrap_or_default();
            assert!(err.contains("cannot reach the registry"), "{dev:?}");
            if verified {
                break since;
            }
        }
        assert!(t.elapsed() < Duration::from_secs(15), "{:#?}", st.devices);
        std::thread::sleep(Duration::from_millis(50));
    };
    let now_s = (wall_ns() / NS) as i64;
    assert!((now_s - 20..=now_s).contains(&since), "{since} vs {now_s}");
    for _ in 0..20 {
        gw.tick(wall_ns()).unwrap();
        assert_eq!(
            gw.level(&mac.parse().unwrap()),
            Some(enforce::Level::Default),
            "declared without an answer from the registry"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !journal(state.path())
            .iter()
            .any(|e| e["device"] == mac && e["to"] == "declared"),
        "journalled declared without the registry"
    );

    // The registry comes up on that address with the label: the device gets `declared`.
    let server = Server::start_with_listen(&data, &format!("127.0.0.1:{registry_port}"));
    let o = run(&["registry", "submit", s(&label_path), "--url", &server.url]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let t = Instant::now();
    while gw.level(&mac.parse().unwrap()) != Some(enforce::Level::Declared) {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "not declared once the registry answers: {:#?}",
            gw.status().devices
        );
        gw.tick(wall_ns()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    let st = gw.status();
    let dev = st
        .devices
        .iter()
        .find(|d| d.mac.to_string() == mac)
        .unwrap();
    assert_eq!(
        dev.label.as_ref().unwrap().registry_unreachable_since,
        None,
        "{dev:?}"
    );
    assert!(journal(state.path())
        .iter()
        .any(|e| e["device"] == mac && e["to"] == "declared" && e["cause"] == "label-active"));
}
