//! Label claims as JSON (`label issue` reads them from an assessor's file), and the QR short
//! form URL (read from a scanned code).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = label::parse_short_form(text);
    if let Ok(claims) = label::Claims::from_json(text) {
        let _ = claims.validate();
        let _ = claims.conformance();
        let json = claims.to_json_pretty();
        let back = label::Claims::from_json(&json).expect("our own JSON reads back");
        assert_eq!(back, claims, "claims JSON round trip");
        let cbor = label::cbor::encode_deterministic(&claims);
        let decoded: label::Claims = label::cbor::decode_deterministic(&cbor).expect("our CBOR");
        assert_eq!(decoded, claims, "claims CBOR round trip");
    }
});
