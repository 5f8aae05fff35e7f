//! RFC 8949 §4.2.1 "Core Deterministic Encoding Requirements", for the label
//! payload.
//!
//! How each requirement is met:
//! - *Preferred serialization, shortest form for integers and lengths*:
//!   `ciborium` always writes the shortest argument (RFC 8949 §3 / §4.2.1
//!   first bullet). The claim set has no floating-point values at all.
//! - *Indefinite-length items are not used*: we serialize a fully built
//!   [`ciborium::Value`] tree, and ciborium writes `Value` arrays, maps,
//!   byte and text strings with definite lengths.
//! - *Map keys sorted in bytewise lexicographic order of their deterministic
//!   encodings*: `canonicalize` re-orders every map in the tree by the
//!   encoded bytes of its keys before the tree is written (serde would
//!   otherwise emit struct fields in declaration order). Duplicate keys are
//!   impossible: they come from struct fields.
//! - No tags are emitted in the payload.
//!
//! On the verifying side, [`decode_deterministic`] re-encodes what it decoded
//! and refuses the payload unless the bytes are identical, so a label has
//! exactly one valid payload encoding.

use ciborium::Value;
use serde::{de::DeserializeOwned, Serialize};

use crate::error::ClaimsError;

fn encode_value(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

/// Sort every map in the tree by the bytewise order of its keys' encodings.
pub(crate) fn canonicalize(v: Value) -> Value {
    match v {
        Value::Map(entries) => {
            let mut keyed: Vec<(Vec<u8>, Value, Value)> = entries
                .into_iter()
                .map(|(k, v)| {
                    let k = canonicalize(k);
                    (encode_value(&k), k, canonicalize(v))
                })
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Map(keyed.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonicalize).collect()),
        Value::Tag(t, inner) => Value::Tag(t, Box::new(canonicalize(*inner))),
        other => other,
    }
}

/// Encode `x` with core deterministic encoding.
pub fn encode_deterministic<T: Serialize>(x: &T) -> Vec<u8> {
    let v = Value::serialized(x).expect("claim types always serialize to CBOR");
    encode_value(&canonicalize(v))
}

/// Decode `bytes` into `T`, refusing trailing data and any encoding that is
/// not the deterministic one.
pub fn decode_deterministic<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ClaimsError> {
    let mut reader = bytes;
    let value: Value =
        ciborium::from_reader(&mut reader).map_err(|e| ClaimsError::Cbor(e.to_string()))?;
    if !reader.is_empty() {
        return Err(ClaimsError::Cbor(format!(
            "{} bytes of trailing data after the claim set",
            reader.len()
        )));
    }
    let canonical = canonicalize(value.clone());
    if encode_value(&canonical) != bytes {
        return Err(ClaimsError::NotDeterministic);
    }
    value
        .deserialized()
        .map_err(|e| ClaimsError::Cbor(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keys_sort_by_encoded_bytes_shorter_first() {
        // RFC 8949 §4.2.1: bytewise order of encodings puts "b" (0x61 0x62)
        // before "aa" (0x62 0x61 0x61) because the length is in the head.
        let v = Value::Map(vec![
            (Value::Text("aa".into()), Value::Integer(1.into())),
            (Value::Text("b".into()), Value::Integer(2.into())),
        ]);
        let bytes = encode_value(&canonicalize(v));
        assert_eq!(bytes, [0xa2, 0x61, b'b', 0x02, 0x62, b'a', b'a', 0x01]);
    }

    #[test]
    fn non_deterministic_input_is_refused() {
        // {"aa":1,"b":2} in declaration order is not deterministic.
        let bytes = [0xa2, 0x62, b'a', b'a', 0x01, 0x61, b'b', 0x02];
        let r: Result<std::collections::BTreeMap<String, u8>, _> = decode_deterministic(&bytes);
        assert_eq!(r, Err(ClaimsError::NotDeterministic));
        // Non-shortest integer (0x18 0x01 for 1) is refused too.
        let bytes = [0xa1, 0x61, b'b', 0x18, 0x02];
        let r: Result<std::collections::BTreeMap<String, u8>, _> = decode_deterministic(&bytes);
        assert_eq!(r, Err(ClaimsError::NotDeterministic));
    }
}
