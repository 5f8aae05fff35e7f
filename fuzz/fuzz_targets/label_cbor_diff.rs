//! Differential: the label crate's deterministic CBOR decoder against plain `ciborium` on the
//! same bytes. Whatever ours accepts, ciborium decodes to the same value and the value's
//! deterministic encoding is exactly the input; whatever ciborium decodes whose deterministic
//! encoding is the input, ours accepts. Also for the claim set type itself.
#![no_main]
use ciborium::Value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ours: Result<Value, _> = label::cbor::decode_deterministic(data);
    let mut reader = data;
    let theirs: Result<Value, _> = ciborium::from_reader(&mut reader);
    let theirs_whole = theirs.ok().filter(|_| reader.is_empty());
    match (&ours, &theirs_whole) {
        (Ok(a), Some(b)) => {
            // Compared by encoding: a NaN is not equal to itself.
            assert_eq!(
                label::cbor::encode_deterministic(a),
                label::cbor::encode_deterministic(b),
                "decoders disagree on the value"
            );
            assert_eq!(label::cbor::encode_deterministic(a), data, "accepted a non-deterministic encoding");
        }
        (Ok(_), None) => panic!("ours accepted what ciborium refuses (or with trailing bytes)"),
        (Err(_), Some(b)) => {
            // Refused: then the input must not be the deterministic encoding of what it says.
            // (Values ciborium cannot re-serialize are skipped.)
            if let Ok(v) = Value::serialized(b) {
                let det = label::cbor::encode_deterministic(&v);
                assert_ne!(det, data, "ours refused a deterministic encoding");
            }
        }
        (Err(_), None) => {}
    }
    if let Ok(claims) = label::cbor::decode_deterministic::<label::Claims>(data) {
        assert_eq!(label::cbor::encode_deterministic(&claims), data, "claims re-encode differently");
    }
});
