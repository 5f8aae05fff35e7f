//! A registry status statement (COSE_Sign1 submitted to the registry, and carried in bundles):
//! decoding without a key, and verification with the assessor's and the operator's key.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = registry::statement::open_unverified(data);
    for key in [fuzz::assessor_public(), fuzz::operator_key().verifying_key()] {
        if let Ok(event) = registry::verify_statement(data, &key) {
            let _ = registry::statement::operator_may_state(&event.kind);
        }
    }
});
