//! Writes seed inputs for every fuzz target into `OUT/<target>/`, made with the project's own
//! generators and samples: the sample MUD file signed by `mud::signature`'s throwaway PKI,
//! labels and statements signed with the fuzz keys, proof bundles, checkpoints and tiles from
//! the in-process registry, the scenario captures (`crates/scenarios`), a journal written by a
//! dry-run gateway over the Mirai scenario, and `trustgate gateway init`'s configuration.
//! Firmware images are made by `fuzz/seed.sh` with the real tools.
//!
//! Usage: `cargo run --example gen_seeds -- OUT` (from `fuzz/`). Also rewrites
//! `fuzz/data/mud-ca.pem` and `fuzz/data/mud-ca.time` when given `--new-ca`.

use std::path::{Path, PathBuf};

use label::{StatusEvent, StatusEventKind};

#[allow(dead_code)]
#[path = "../../crates/trustgate/src/gateway_config.rs"]
mod gateway_config;

struct Out(PathBuf);

impl Out {
    fn put(&self, target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.0.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

const SAMPLE_MUD: &str = include_str!("../../crates/trustgate/samples/smart-plug.json");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = Out(PathBuf::from(args.first().expect("usage: gen_seeds OUT [--new-ca]")));
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    if args.iter().any(|a| a == "--new-ca") {
        new_ca(here);
    }
    mud_seeds(&out, here);
    label_seeds(&out);
    registry_seeds(&out);
    tlog_seeds(&out);
    monitor_seeds(&out, here);
    gateway_seeds(&out);
}

/// The throwaway CA of `mud::signature` (valid a day): its certificate and the instant the
/// target verifies at, kept in fuzz/data so the committed signature seeds verify.
fn new_ca(here: &Path) {
    let pki = mud::signature::ephemeral_pki_for_hosts("Fuzz Vendor", &["fuzz.example"]).unwrap();
    let data = here.join("data");
    std::fs::write(data.join("mud-ca.pem"), &pki.ca_cert_pem).unwrap();
    std::fs::write(data.join("mud-signer.key.pem"), &pki.signer_key_pem).unwrap();
    std::fs::write(data.join("mud-signer.pem"), &pki.signer_cert_pem).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    std::fs::write(data.join("mud-ca.time"), format!("{}\n", now + 60)).unwrap();
}

fn mud_seeds(out: &Out, here: &Path) {
    out.put("mud_compile", "smart-plug.json", SAMPLE_MUD);
    // The sample with each kind of peer the IR has, so the compiler sees them all.
    let variants = [
        ("\"ietf-acldns:dst-dnsname\"", "\"ietf-mud:controller\""),
        ("\"ietf-acldns:dst-dnsname\"", "\"ietf-mud:my-controller\""),
        ("\"ietf-acldns:dst-dnsname\"", "\"ietf-mud:same-manufacturer\""),
        ("\"ietf-acldns:dst-dnsname\"", "\"ietf-mud:local-networks\""),
        ("\"ietf-acldns:dst-dnsname\"", "\"ietf-mud:manufacturer\""),
    ];
    for (i, (from, to)) in variants.iter().enumerate() {
        out.put("mud_compile", &format!("variant-{i}.json"), SAMPLE_MUD.replacen(from, to, 1));
    }
    let data = here.join("data");
    let (Ok(key), Ok(cert)) = (
        std::fs::read(data.join("mud-signer.key.pem")),
        std::fs::read(data.join("mud-signer.pem")),
    ) else {
        eprintln!("no fuzz/data/mud-signer*.pem (run with --new-ca): no mud_signature seeds");
        return;
    };
    let sig = mud::signature::sign_detached(SAMPLE_MUD.as_bytes(), &key, &cert, None).unwrap();
    let mut seed = (SAMPLE_MUD.len() as u16).to_be_bytes().to_vec();
    seed.extend_from_slice(SAMPLE_MUD.as_bytes());
    seed.extend_from_slice(&sig);
    out.put("mud_signature", "smart-plug.p7s", &seed);
}

fn statements() -> Vec<Vec<u8>> {
    let at = time::OffsetDateTime::now_utc();
    let kinds = [
        StatusEventKind::Revoked {
            reason: "key compromise".into(),
        },
        StatusEventKind::Superseded {
            by: "urn:fuzz:2".into(),
        },
        StatusEventKind::Suspended,
        StatusEventKind::Reinstated,
        StatusEventKind::SupportEndChanged {
            end_date: time::macros::date!(2031 - 12 - 31),
        },
    ];
    let mut v = Vec::new();
    for kind in kinds {
        let e = StatusEvent {
            label_id: "urn:fuzz:1".into(),
            at,
            kind,
        };
        v.push(registry::sign_statement(&e, &fuzz::assessor_key()));
        if registry::statement::operator_may_state(&e.kind) {
            v.push(registry::sign_statement(&e, &fuzz::operator_key()));
        }
    }
    v
}

fn label_seeds(out: &Out) {
    let label = fuzz::fixture_label();
    out.put("label_cose", "label.cose", &label);
    out.put(
        "label_cose",
        "example.cose",
        label::sign(&label::example_claims(), &fuzz::assessor_key()).unwrap(),
    );
    let claims = label::example_claims();
    out.put("label_claims_json", "example.json", claims.to_json_pretty());
    let digest = label::label_digest(&label);
    out.put(
        "label_claims_json",
        "short-form.txt",
        label::short_form("https://registry.fuzz.example", &digest),
    );
    out.put("label_cbor_diff", "claims.cbor", label::cbor::encode_deterministic(&claims));
    out.put("label_cbor_diff", "label.cose", &label);
    for (i, s) in statements().iter().enumerate() {
        out.put("registry_statement", &format!("statement-{i}.cose"), s);
        if let Ok(sign1) = label::parse_canonical_sign1(s) {
            if let Some(p) = sign1.payload {
                out.put("label_cbor_diff", &format!("statement-{i}.cbor"), p);
            }
        }
    }
}

fn route(n: usize, rest: impl AsRef<[u8]>) -> Vec<u8> {
    let mut v = vec![n as u8];
    v.extend_from_slice(rest.as_ref());
    v
}

fn registry_seeds(out: &Out) {
    let label = fuzz::fixture_label();
    let digest = label::label_digest(&label).to_string();
    let fw = hex::encode(label::example_claims().software[0].image_sha256.0);
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("submit-label", route(0, &label)),
        ("submit-statement", route(1, &statements()[2])),
        (
            "batch",
            route(
                2,
                format!(r#"{{"ids":["urn:fuzz:1","urn:none"],"digests":["{digest}"]}}"#),
            ),
        ),
        ("lookup-digest", route(3, format!("digest={digest}"))),
        ("lookup-firmware", route(3, format!("firmware={fw}"))),
        ("lookup-mud", route(3, "mud-url=https%3A%2F%2Ffuzz.example%2Fmud.json")),
        ("label", route(4, "urn:fuzz:1")),
        ("consistency", route(5, "old=1&new=2")),
        ("tile", route(6, "0/000.p/2")),
        ("tile-entries", route(6, "entries/000.p/2")),
        ("page", route(7, &digest)),
        ("checkpoint", route(8, "")),
    ];
    for (name, s) in seeds {
        out.put("registry_http", name, s);
    }
}

fn tlog_seeds(out: &Out) {
    // A suspension and a support end date logged, then the label's view: a bundle with
    // statements. They are dated after the label's log time (the registry refuses earlier).
    fuzz::registry();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let st = statements();
    // statements(): 0 revoked, 1 revoked (operator), 2 superseded, 3 suspended,
    // 4 suspended (operator), 5 reinstated, 6 reinstated (operator), 7 support end changed.
    for s in [&st[3], &st[7]] {
        let (code, body) = fuzz::registry_request(1, s).unwrap();
        assert_eq!(code, 201, "{}", String::from_utf8_lossy(&body));
    }
    let (code, body) = fuzz::registry_request(4, b"urn:fuzz:1").unwrap();
    assert_eq!(code, 200);
    let view: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let bundle = serde_json::to_string_pretty(&view["bundle"]).unwrap();
    out.put("tlog_bundle", "label-with-statements.json", &bundle);
    out.put("tlog_bundle", "bundle-in-view.json", &body);

    let (_, cp) = fuzz::registry_request(8, b"").unwrap();
    out.put("tlog_note", "checkpoint", &cp);
    let mut note = tlog::Note::new("fuzz note\nsecond line\n").unwrap();
    note.sign(&fuzz::log_signer()).unwrap();
    note.sign(&tlog::NoteSigner::from_seed("other.example/key", &[3; 32]).unwrap())
        .unwrap();
    out.put("tlog_note", "two-signatures", note.to_text());
    out.put(
        "tlog_note",
        "vkey",
        fuzz::log_signer().verifier_key().to_string(),
    );

    // Tiles of the registry's 3-entry log and of a 600-entry memory log.
    let (_, tile) = fuzz::registry_request(6, b"0/000.p/3").unwrap();
    let mut seed = Vec::new();
    for v in [3u32, 1, 2] {
        seed.extend_from_slice(&v.to_be_bytes());
    }
    let path = b"tile/0/000.p/3";
    seed.push(path.len() as u8);
    seed.extend_from_slice(path);
    seed.extend_from_slice(&tile);
    out.put("tlog_tiles", "registry-3", &seed);
    let (_, entries) = fuzz::registry_request(6, b"entries/000.p/3").unwrap();
    let mut seed = Vec::new();
    for v in [3u32, 2, 1] {
        seed.extend_from_slice(&v.to_be_bytes());
    }
    let path = b"tile/entries/000.p/3";
    seed.push(path.len() as u8);
    seed.extend_from_slice(path);
    seed.extend_from_slice(&entries);
    out.put("tlog_tiles", "registry-entries-3", &seed);
    let mut log = tlog::MemoryLog::new();
    for i in 0..600u32 {
        log.append(i.to_be_bytes().to_vec());
    }
    let reader = log;
    let mut data = Vec::new();
    for t in tlog::tile::tiles_for_size(600) {
        data.extend(tlog::tile::read_tile_data(t, &reader).unwrap_or_default());
    }
    let mut seed = Vec::new();
    for v in [600u32, 517, 300] {
        seed.extend_from_slice(&v.to_be_bytes());
    }
    let path = b"tile/1/000.p/2";
    seed.push(path.len() as u8);
    seed.extend_from_slice(path);
    seed.extend_from_slice(&data);
    out.put("tlog_tiles", "memory-600", &seed);

    for (i, s) in [
        &[7u8, 0, 3, 1, 0][..],
        &[200, 100, 77, 13, 5, 1, 2, 3, 4, 5, 6, 7, 8],
        &[1, 0, 1, 0, 0, 0xff],
        &[128, 128, 255, 254, 31, 9, 9, 9, 9],
    ]
    .iter()
    .enumerate()
    {
        out.put("tlog_proofs_diff", &format!("tree-{i}"), s);
    }
}

fn monitor_seeds(out: &Out, here: &Path) {
    let names = scenarios::SCENARIOS
        .iter()
        .chain(scenarios::DIRECTION_SCENARIOS.iter());
    let tmp = std::env::temp_dir().join(format!("gen-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for name in names {
        let (_, frames) = scenarios::build(name, 1).unwrap();
        // Windows of 40 frames from the start, the middle and the end, in both modes.
        let n = frames.len();
        for (w, start) in [0, n / 2, n.saturating_sub(40)].into_iter().enumerate() {
            let part: Vec<(u64, Vec<u8>)> = frames[start..(start + 40).min(n)].to_vec();
            for mode in [0u8, 1] {
                let mut seed = vec![mode];
                seed.extend(fuzz::join_frames(&part));
                out.put("monitor_frames", &format!("{name}-{w}-{mode}"), seed);
            }
        }
        // The first 150 frames as pcap, pcapng and gzip-compressed pcap.
        let head: Vec<(u64, Vec<u8>)> = frames[..150.min(n)].to_vec();
        let p = tmp.join("c.pcap");
        scenarios::write_pcap(&p, &head).unwrap();
        let pcap = std::fs::read(&p).unwrap();
        out.put("monitor_capture", &format!("{name}.pcap"), &pcap);
        scenarios::write_pcapng(&p, &head).unwrap();
        out.put("monitor_capture", &format!("{name}.pcapng"), std::fs::read(&p).unwrap());
        if *name == "mirai" {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&pcap).unwrap();
            out.put("monitor_capture", "mirai.pcap.gz", gz.finish().unwrap());
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    // scripts/fuzz also reads crates/monitor/tests/data (bad captures) at run time.
    let _ = here;
}

fn gateway_seeds(out: &Out) {
    out.put("gateway_config", "default.toml", gateway_config::DEFAULT_CONFIG);
    out.put(
        "gateway_config",
        "registry.toml",
        format!(
            "{}\n[registry]\nurl = \"https://registry.fuzz.example\"\nlog-key = \"{}\"\n\n[[mud.signer]]\nsigner = \"a.example\"\nhosts = [\"b.example\"]\n",
            gateway_config::DEFAULT_CONFIG.replace("[mud]\n", "[mud]\npolicies = \"/p\"\n"),
            fuzz::log_signer().verifier_key()
        ),
    );

    // A journal written by a dry-run gateway over the Mirai scenario, then an owner's release
    // and trust (what a real STATE/journal.jsonl holds).
    let dir = std::env::temp_dir().join(format!("gen-seeds-gw-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = gateway::GatewayConfig {
        site: enforce::Site::default(),
        nft: enforce::NftRunner {
            netns: Some("trustgate-fuzz-no-such-namespace".into()),
            format: enforce::BatchFormat::Native,
        },
        apply: true,
        dry_run: true,
        quarantine_ttl_s: 3600,
        state_dir: dir.clone(),
        policies: vec![mud::parse::parse(SAMPLE_MUD.as_bytes(), mud::parse::Mode::Strict)
            .unwrap()
            .policy],
        max_devices: 8,
        trusted: vec![],
        manager: None,
        unlabelled: enforce::Level::Declared,
        dns_hold: None,
    };
    let mut gw = gateway::Gateway::new(cfg).unwrap();
    let mut m = fuzz::monitor(false);
    let (_, frames) = scenarios::build("mirai", 1).unwrap();
    let mut outs = Vec::new();
    let mut last = 0;
    for (t, f) in &frames {
        m.process(*t, f, &mut outs);
        if !outs.is_empty() {
            gw.handle_batch(&outs, *t).unwrap();
            outs.clear();
        }
        last = *t;
    }
    gw.tick(last + 7200 * 1_000_000_000).unwrap();
    drop(gw);
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    // Keep it small: the first 60 lines, and every line of a kind not yet kept.
    let mut kept = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for (i, line) in journal.lines().enumerate() {
        let kind = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v["action"].as_str().map(str::to_string))
            .unwrap_or_default();
        if i < 60 || kinds.insert(kind) {
            kept.push(line);
        }
    }
    out.put("gateway_journal", "mirai.jsonl", kept.join("\n") + "\n");
    let mut torn = kept.join("\n");
    torn.truncate(torn.len() - 7);
    out.put("gateway_journal", "torn.jsonl", torn);
    let _ = std::fs::remove_dir_all(&dir);
}
