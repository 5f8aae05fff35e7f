//! An offline proof bundle (JSON from a registry answer or a file): parse and verify against
//! the fuzz log key, and check the statements it carries.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(bundle) = tlog::ProofBundle::from_json(text) else {
        return;
    };
    let _ = bundle.to_json();
    let _ = tlog::verify(&bundle, &fuzz::log_verifier());
    let _ = tlog::verify(&bundle, &fuzz::log_verifier().with_origin("other.example/log"));
});
