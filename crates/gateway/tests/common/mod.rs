//! What the gateway's dry-run tests share.

use gateway::GatewayConfig;

/// A dry-run gateway on `dir` whose quarantines last `ttl` seconds: every change journalled,
/// nftables never touched (the runner names a namespace that does not exist).
pub fn config(dir: &std::path::Path, ttl: u64) -> GatewayConfig {
    GatewayConfig {
        site: enforce::Site::default(),
        // A runner that cannot work: dry-run must never call it.
        nft: enforce::NftRunner {
            netns: Some("trustgate-no-such-namespace".into()),
            format: enforce::BatchFormat::Native,
        },
        apply: true,
        dry_run: true,
        quarantine_ttl_s: ttl,
        state_dir: dir.to_path_buf(),
        policies: vec![],
        max_devices: gateway::DEFAULT_MAX_DEVICES,
        trusted: vec![],
        manager: None,
        unlabelled: enforce::Level::Declared,
        dns_hold: None,
    }
}
