//! The gateway's journal (`STATE/journal.jsonl`, read back at every start to restore running
//! quarantines and trust; its last line may be torn by a crash): `read_journal`,
//! `recover_torn_tail` and `Gateway::new` (dry run) over arbitrary file contents, then a tick and
//! the status file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = fuzz::scratch("gateway-state");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("journal.jsonl");
    std::fs::write(&journal, data).unwrap();
    let _ = gateway::read_journal(&journal);
    let _ = gateway::recover_torn_tail(&journal);
    std::fs::write(&journal, data).unwrap();
    let cfg = gateway::GatewayConfig {
        site: enforce::Site::default(),
        // A runner that cannot work: dry run never calls it.
        nft: enforce::NftRunner {
            netns: Some("trustgate-fuzz-no-such-namespace".into()),
            format: enforce::BatchFormat::Native,
        },
        apply: true,
        dry_run: true,
        quarantine_ttl_s: 3600,
        state_dir: dir.clone(),
        policies: vec![],
        max_devices: 8,
        trusted: vec![],
        manager: None,
        unlabelled: enforce::Level::Declared,
        dns_hold: None,
    };
    if let Ok(mut gw) = gateway::Gateway::new(cfg) {
        let _ = gw.tick(1_700_000_000_000_000_000);
        let _ = serde_json::to_string(&gw.status()).unwrap();
    }
});
