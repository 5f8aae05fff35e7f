//! The gateway's configuration file (`gateway run --config`, TOML written by an operator or a
//! provisioning tool), through the real reader `trustgate`'s binary uses: its module is compiled
//! in here as it is (`crates/trustgate/src/gateway_config.rs`, which names only other crates),
//! since the binary crate has no library to call.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../crates/trustgate/src/gateway_config.rs"]
mod gateway_config;

fuzz_target!(|data: &[u8]| {
    let path = fuzz::scratch("gateway.toml");
    std::fs::write(&path, data).unwrap();
    if let Ok(cfg) = gateway_config::read(&path) {
        let _ = cfg.dns_hold();
    }
});
