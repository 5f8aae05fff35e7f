//! A detached CMS signature (DER, from the vendor's server) over a MUD file, verified against the
//! fuzz CA (`fuzz/data/mud-ca.pem`, made by `examples/gen_seeds.rs` with the project's own
//! `mud::signature::ephemeral_pki_for_hosts`) at the instant in `fuzz/data/mud-ca.time`.
//! Input: `[content length: u16 BE][content][signature DER]`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn anchors() -> &'static (mud::signature::TrustAnchors, time::OffsetDateTime) {
    static A: OnceLock<(mud::signature::TrustAnchors, time::OffsetDateTime)> = OnceLock::new();
    A.get_or_init(|| {
        let pem = include_bytes!("../data/mud-ca.pem");
        let at: i64 = include_str!("../data/mud-ca.time").trim().parse().unwrap();
        (
            mud::signature::TrustAnchors::from_pem(pem).unwrap(),
            time::OffsetDateTime::from_unix_timestamp(at).unwrap(),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = (u16::from_be_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
    let (content, sig) = data[2..].split_at(n);
    let (anchors, at) = anchors();
    let _ = mud::signature::verify_detached(content, sig, anchors, Some(*at));
});
