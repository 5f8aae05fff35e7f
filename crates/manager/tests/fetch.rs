//! The MUD manager against real HTTPS servers on loopback (rustls, a throwaway CA): a signed
//! real MUD file (Cisco's Luminaire example from the shared corpus, its `mud-url` pointed at
//! the test server) verifies, is cached and survives a restart; every refusal the RFC and the
//! trust policy call for comes back with its kind and a reason.

use manager::fetch::FetchLimits;
use manager::serve::{serve_dir, throwaway_tls, Served, ThrowawayTls};
use manager::{Manager, ManagerConfig, MudVerdict, RefusalKind, Update};
use mud::signature::{ephemeral_pki_for_hosts, sign_detached, EphemeralPki, TrustAnchors};
use std::path::Path;
use std::time::Duration;

const LUMINAIRE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mud/cisco/Luminaire_150.json"
);

/// The real file with its `mud-url` set to `url` (and no `mud-signature`: the `.p7s` beside it).
fn mud_file(url: &str) -> Vec<u8> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(LUMINAIRE).unwrap()).unwrap();
    let m = v["ietf-mud:mud"].as_object_mut().unwrap();
    m.insert("mud-url".into(), url.into());
    m.remove("mud-signature");
    serde_json::to_vec_pretty(&v).unwrap()
}

struct Site {
    dir: tempfile::TempDir,
    tls: ThrowawayTls,
    server: Served,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let tls = throwaway_tls(&["localhost"]).unwrap();
        let server = serve_dir(
            dir.path(),
            "127.0.0.1:0".parse().unwrap(),
            &tls.cert_pem,
            &tls.key_pem,
        )
        .unwrap();
        Site { dir, tls, server }
    }

    fn url(&self, name: &str) -> String {
        format!("https://localhost:{}/{name}", self.server.addr.port())
    }

    /// Publish `name` (a `.json`) signed by `pki`, with the `.p7s` beside it.
    fn publish(&self, name: &str, content: &[u8], pki: &EphemeralPki) {
        let sig = sign_detached(content, &pki.signer_key_pem, &pki.signer_cert_pem, None).unwrap();
        std::fs::write(self.dir.path().join(name), content).unwrap();
        std::fs::write(self.dir.path().join(name.replace(".json", ".p7s")), sig).unwrap();
    }
}

fn config(state: &Path, site: &Site, anchors: &[&EphemeralPki]) -> ManagerConfig {
    let mut cfg = ManagerConfig::new(state.to_path_buf());
    let pem: Vec<u8> = anchors.iter().flat_map(|p| p.ca_cert_pem.clone()).collect();
    cfg.anchors = Some(TrustAnchors::from_pem(&pem).unwrap());
    cfg.tls_roots_pem = vec![site.tls.ca_pem.clone().into_bytes()];
    cfg.builtin_roots = false;
    cfg.limits = FetchLimits {
        timeout: Duration::from_secs(3),
        ..FetchLimits::default()
    };
    cfg.retry = Duration::from_secs(3600);
    cfg
}

/// The first MUD verdict for `url`.
fn verdict(m: &Manager, url: &str) -> MudVerdict {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Some(Update::Mud { url: u, verdict }) = m.wait(Duration::from_millis(200)) {
            if u == url {
                return verdict;
            }
        }
    }
    panic!("no verdict for {url} within 20 s");
}

fn refused(v: MudVerdict) -> (RefusalKind, String) {
    match v {
        MudVerdict::Refused { kind, reason, .. } => (kind, reason),
        MudVerdict::Verified(m) => panic!("verified, expected a refusal: {}", m.policy.mud_url),
    }
}

#[test]
fn a_signed_mud_file_verifies_is_cached_and_survives_a_restart_without_its_server() {
    let site = Site::new();
    let pki = ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    let url = site.url("lum.json");
    site.publish("lum.json", &mud_file(&url), &pki);
    let state = tempfile::tempdir().unwrap();
    {
        let m = Manager::start(config(state.path(), &site, &[&pki])).unwrap();
        assert!(m.want(&url));
        match verdict(&m, &url) {
            MudVerdict::Verified(v) => {
                assert_eq!(v.policy.mud_url, url);
                assert!(!v.from_cache);
                assert_eq!(
                    v.expires_at - v.fetched_at,
                    48 * 3600,
                    "cache-validity 48 h"
                );
                assert!(v.signer.contains("Acme"), "{}", v.signer);
            }
            other => panic!("{other:?}"),
        }
    }
    drop(site); // the server is gone: the cached, re-verified copy is used
    let site2 = Site::new();
    let m = Manager::start(config(state.path(), &site2, &[&pki])).unwrap();
    match verdict(&m, &url) {
        MudVerdict::Verified(v) => assert!(v.from_cache),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_cached_copy_whose_bytes_were_changed_on_disk_is_not_used() {
    let site = Site::new();
    let pki = ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    let url = site.url("lum.json");
    site.publish("lum.json", &mud_file(&url), &pki);
    let state = tempfile::tempdir().unwrap();
    {
        let m = Manager::start(config(state.path(), &site, &[&pki])).unwrap();
        m.want(&url);
        assert!(matches!(verdict(&m, &url), MudVerdict::Verified(_)));
    }
    // Widen the cached policy by hand: the signature no longer covers it.
    for e in std::fs::read_dir(state.path().join("mud"))
        .unwrap()
        .flatten()
    {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".json") && !name.ends_with(".meta.json") && name != "signers.json" {
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(
                &p,
                text.replace("\"cache-validity\": 48", "\"cache-validity\": 47"),
            )
            .unwrap();
        }
    }
    let m = Manager::start(config(state.path(), &site, &[&pki])).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut warned = false;
    while std::time::Instant::now() < deadline && !warned {
        match m.wait(Duration::from_millis(200)) {
            Some(Update::Warning(w)) => {
                assert!(w.contains("not used (bad-signature)"), "{w}");
                warned = true;
            }
            Some(Update::Mud {
                verdict: MudVerdict::Verified(v),
                ..
            }) => {
                assert!(!v.from_cache, "a tampered cache file was used")
            }
            _ => {}
        }
    }
    assert!(warned, "no warning about the tampered cache file");
}

#[test]
fn refusals_each_name_their_reason() {
    let site = Site::new();
    let pki = ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    let other_ca = ephemeral_pki_for_hosts("Mallory", &["localhost"]).unwrap();
    let wrong_host = ephemeral_pki_for_hosts("Acme Other", &["acme.example"]).unwrap();
    let state = tempfile::tempdir().unwrap();
    let m = Manager::start(config(state.path(), &site, &[&pki, &wrong_host])).unwrap();

    // http:// is refused before any connection.
    let http = format!("http://localhost:{}/lum.json", site.server.addr.port());
    m.want(&http);
    assert_eq!(refused(verdict(&m, &http)).0, RefusalKind::NotHttps);

    // Over 255 bytes.
    let long = format!("https://localhost/{}.json", "a".repeat(260));
    m.want(&long);
    assert_eq!(refused(verdict(&m, &long)).0, RefusalKind::BadUrl);

    // Nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let gone = format!("https://localhost:{port}/lum.json");
    m.want(&gone);
    assert_eq!(refused(verdict(&m, &gone)).0, RefusalKind::Unreachable);

    // Bad signature: the signature of another file.
    let bad = site.url("bad.json");
    site.publish("bad.json", &mud_file(&bad), &pki);
    let sig_of_other =
        sign_detached(b"{}", &pki.signer_key_pem, &pki.signer_cert_pem, None).unwrap();
    std::fs::write(site.dir.path().join("bad.p7s"), sig_of_other).unwrap();
    m.want(&bad);
    let (kind, why) = refused(verdict(&m, &bad));
    assert_eq!(kind, RefusalKind::BadSignature, "{why}");
    assert!(why.contains("digest"), "{why}");

    // Signer chaining to no configured anchor.
    let untrusted = site.url("untrusted.json");
    site.publish("untrusted.json", &mud_file(&untrusted), &other_ca);
    m.want(&untrusted);
    assert_eq!(
        refused(verdict(&m, &untrusted)).0,
        RefusalKind::UntrustedSigner
    );

    // Signer that names another host.
    let host = site.url("host.json");
    site.publish("host.json", &mud_file(&host), &wrong_host);
    m.want(&host);
    let (kind, why) = refused(verdict(&m, &host));
    assert_eq!(kind, RefusalKind::SignerNotForHost);
    assert!(
        why.contains("acme.example") && why.contains("localhost"),
        "{why}"
    );

    // A file for another URL, properly signed.
    let mismatch = site.url("mismatch.json");
    site.publish("mismatch.json", &mud_file(&site.url("other.json")), &pki);
    m.want(&mismatch);
    assert_eq!(refused(verdict(&m, &mismatch)).0, RefusalKind::InvalidMud);

    // Over 1 MiB (a padded file: the cap is checked while reading).
    let big = site.url("big.json");
    let mut content = mud_file(&big);
    content.extend(std::iter::repeat_n(b' ', 1 << 20));
    site.publish("big.json", &content, &pki);
    m.want(&big);
    assert_eq!(refused(verdict(&m, &big)).0, RefusalKind::TooLarge);

    // No signature beside it.
    let unsigned = site.url("unsigned.json");
    std::fs::write(site.dir.path().join("unsigned.json"), mud_file(&unsigned)).unwrap();
    m.want(&unsigned);
    let (kind, why) = refused(verdict(&m, &unsigned));
    assert_eq!(kind, RefusalKind::BadSignature);
    assert!(why.contains("unsigned.p7s") && why.contains("404"), "{why}");
}

#[test]
fn a_server_that_sends_nothing_cannot_hold_the_fetch() {
    let site = Site::new();
    let pki = ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    // Accepts connections and never answers (not even the TLS handshake) for 30 s.
    let stall = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = stall.local_addr().unwrap().port();
    let _holder = std::thread::spawn(move || {
        let mut held = vec![];
        for c in stall.incoming().take(4) {
            held.push(c);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let state = tempfile::tempdir().unwrap();
    let m = Manager::start(config(state.path(), &site, &[&pki])).unwrap();
    let url = format!("https://localhost:{port}/slow.json");
    let t = std::time::Instant::now();
    m.want(&url);
    let (kind, why) = refused(verdict(&m, &url));
    assert_eq!(kind, RefusalKind::Timeout, "{why}");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn a_second_signer_for_a_known_url_is_refused_even_when_it_chains_to_an_anchor() {
    let site = Site::new();
    let first = ephemeral_pki_for_hosts("Acme", &["localhost"]).unwrap();
    let second = ephemeral_pki_for_hosts("Acme Second", &["localhost"]).unwrap();
    let url = site.url("lum.json");
    site.publish("lum.json", &mud_file(&url), &first);
    let state = tempfile::tempdir().unwrap();
    {
        let m = Manager::start(config(state.path(), &site, &[&first, &second])).unwrap();
        m.want(&url);
        assert!(matches!(verdict(&m, &url), MudVerdict::Verified(_)));
    }
    // The file is re-signed by another (also anchored) certificate; the cache is cleared so
    // the manager must fetch again.
    site.publish("lum.json", &mud_file(&url), &second);
    for e in std::fs::read_dir(state.path().join("mud"))
        .unwrap()
        .flatten()
    {
        if e.file_name() != "signers.json" {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let m = Manager::start(config(state.path(), &site, &[&first, &second])).unwrap();
    m.want(&url);
    let (kind, why) = refused(verdict(&m, &url));
    assert_eq!(kind, RefusalKind::SignerChanged);
    assert!(why.contains("when first seen"), "{why}");
}

#[test]
fn a_signer_mapping_lets_a_signer_speak_for_a_host_it_does_not_name() {
    let site = Site::new();
    let pki = ephemeral_pki_for_hosts("Acme", &["mud-signing.acme.example"]).unwrap();
    let url = site.url("lum.json");
    site.publish("lum.json", &mud_file(&url), &pki);
    let state = tempfile::tempdir().unwrap();
    let mut cfg = config(state.path(), &site, &[&pki]);
    cfg.signer_mappings = vec![manager::trust::SignerMapping {
        signer: "mud-signing.acme.example".into(),
        hosts: vec!["localhost".into()],
    }];
    let m = Manager::start(cfg).unwrap();
    m.want(&url);
    assert!(matches!(verdict(&m, &url), MudVerdict::Verified(_)));
}
