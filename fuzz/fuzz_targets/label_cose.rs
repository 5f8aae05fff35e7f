//! A signed label (COSE_Sign1 / CBOR, from anyone: a file, a registry answer): every decoding
//! entry point, and the full verification against the fuzz assessor key.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = label::parse_canonical_sign1(data);
    if let Ok((_kid, claims)) = label::decode_unverified(data) {
        let _ = claims.validate();
        let _ = claims.to_json_pretty();
        let _ = claims.conformance();
    }
    let ring = fuzz::key_ring();
    if let Ok(v) = label::verify(data, &ring) {
        // A label that verifies re-encodes to exactly its bytes (one canonical encoding).
        let again = label::sign(&v.claims, &fuzz::assessor_key()).unwrap();
        assert_eq!(again, data, "a verified label is not in its one canonical encoding");
        let _ = label::status(&v.claims, time::OffsetDateTime::UNIX_EPOCH, &[]);
    }
    let _ = label::verify_sign1_with_key(data, &fuzz::assessor_public());
});
