//! COSE_Sign1 round trip and every rejection reason of `verify`.

use coset::{iana, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use ed25519_dalek::Signer;
use label::*;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn signed() -> (SigningKey, Vec<u8>) {
    let k = key(7);
    let bytes = sign(&example_claims(), &k).unwrap();
    (k, bytes)
}

/// Build a COSE_Sign1 by hand, to forge labels our `sign` would never emit.
fn forge(
    protected: coset::Header,
    unprotected: coset::Header,
    payload: Vec<u8>,
    signer: &SigningKey,
) -> Vec<u8> {
    CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(payload)
        .create_signature(b"", |tbs| signer.sign(tbs).to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .unwrap()
}

fn good_protected(k: &SigningKey) -> coset::Header {
    HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(KeyId::of(&k.verifying_key()).0.to_vec())
        .content_type(CONTENT_TYPE.to_string())
        .build()
}

#[test]
fn round_trip_returns_the_claims_key_and_digest() {
    let (k, bytes) = signed();
    let v = verify(&bytes, &[k.verifying_key()]).unwrap();
    assert_eq!(v.claims, example_claims());
    assert_eq!(v.kid, KeyId::of(&k.verifying_key()));
    assert_eq!(v.key, k.verifying_key());
    assert_eq!(v.digest, label_digest(&bytes));
    // Same through a KeyRing.
    let mut ring = KeyRing::new();
    ring.insert(key(1).verifying_key());
    ring.insert(k.verifying_key());
    assert_eq!(verify(&bytes, &ring).unwrap().claims, example_claims());
}

#[test]
fn structure_is_tagged_sign1_with_the_documented_headers() {
    let (k, bytes) = signed();
    // Tag 18 (0xd2), array of 4 (0x84).
    assert_eq!(&bytes[..2], &[0xd2, 0x84]);
    let s = coset::CoseSign1::from_tagged_slice(&bytes).unwrap();
    let h = &s.protected.header;
    assert_eq!(
        h.alg,
        Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA))
    );
    assert_eq!(h.key_id, KeyId::of(&k.verifying_key()).0.to_vec());
    assert_eq!(
        h.content_type,
        Some(coset::ContentType::Text(CONTENT_TYPE.into()))
    );
    assert!(s.unprotected.is_empty());
    assert_eq!(s.signature.len(), 64);
    // The payload is the deterministic CBOR of the claims.
    assert_eq!(
        s.payload.unwrap(),
        label::cbor::encode_deterministic(&example_claims())
    );
}

#[test]
fn key_id_is_first_8_bytes_of_sha256_of_the_raw_public_key() {
    let k = key(7);
    let full = Sha256Digest::of(k.verifying_key().as_bytes());
    assert_eq!(KeyId::of(&k.verifying_key()).0, full.0[..8]);
    assert_eq!(
        KeyId::of(&k.verifying_key()).to_string(),
        full.to_string()[..16]
    );
}

#[test]
fn signing_is_deterministic() {
    let k = key(7);
    assert_eq!(
        sign(&example_claims(), &k).unwrap(),
        sign(&example_claims(), &k).unwrap()
    );
}

#[test]
fn every_one_byte_change_is_rejected() {
    let (k, bytes) = signed();
    let keys = [k.verifying_key()];
    for i in 0..bytes.len() {
        for x in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff] {
            let mut t = bytes.clone();
            t[i] ^= x;
            assert!(
                verify(&t, &keys).is_err(),
                "changing byte {i} by xor {x:#04x} was accepted"
            );
        }
    }
    // Truncation at every length and one appended byte are rejected too.
    for n in 0..bytes.len() {
        assert!(
            verify(&bytes[..n], &keys).is_err(),
            "prefix of {n} bytes accepted"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        verify(&longer, &keys),
        Err(LabelError::MalformedCbor(_))
    ));
}

#[test]
fn payload_and_signature_changes_are_bad_signature() {
    let (k, bytes) = signed();
    let keys = [k.verifying_key()];
    // Last byte is in the signature.
    let mut t = bytes.clone();
    *t.last_mut().unwrap() ^= 1;
    assert_eq!(verify(&t, &keys), Err(LabelError::BadSignature));
    // A byte inside the payload: find the product model text.
    let pos = bytes
        .windows(7)
        .position(|w| w == b"CAM-100")
        .expect("model in payload");
    let mut t = bytes.clone();
    t[pos] = b'D';
    assert_eq!(verify(&t, &keys), Err(LabelError::BadSignature));
}

#[test]
fn wrong_key_with_a_registered_kid_is_bad_signature() {
    let registered = key(7);
    let attacker = key(9);
    let bytes = forge(
        good_protected(&registered),
        coset::Header::default(),
        label::cbor::encode_deterministic(&example_claims()),
        &attacker,
    );
    assert_eq!(
        verify(&bytes, &[registered.verifying_key()]),
        Err(LabelError::BadSignature)
    );
}

#[test]
fn unregistered_assessor_is_unknown_key() {
    let (k, bytes) = signed();
    let err = verify(&bytes, &[key(1).verifying_key(), key(2).verifying_key()]).unwrap_err();
    assert_eq!(
        err,
        LabelError::UnknownKey {
            kid: KeyId::of(&k.verifying_key()).to_string()
        }
    );
    assert!(err.to_string().contains("not a registered assessor"));
    assert!(matches!(
        verify(&bytes, &KeyRing::new()),
        Err(LabelError::UnknownKey { .. })
    ));
}

#[test]
fn wrong_or_missing_or_misplaced_alg_is_wrong_algorithm() {
    let k = key(7);
    let payload = label::cbor::encode_deterministic(&example_claims());
    let keys = [k.verifying_key()];
    let kid = KeyId::of(&k.verifying_key()).0.to_vec();

    // ES256 (-7) in the protected header, still a valid Ed25519 signature.
    let es256 = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(kid.clone())
        .content_type(CONTENT_TYPE.into())
        .build();
    let err = verify(
        &forge(es256, Default::default(), payload.clone(), &k),
        &keys,
    )
    .unwrap_err();
    assert!(
        matches!(err, LabelError::WrongAlgorithm(ref m) if m.contains("-7")),
        "{err}"
    );

    // No alg at all.
    let none = HeaderBuilder::new()
        .key_id(kid.clone())
        .content_type(CONTENT_TYPE.into())
        .build();
    assert!(matches!(
        verify(&forge(none, Default::default(), payload.clone(), &k), &keys),
        Err(LabelError::WrongAlgorithm(_))
    ));

    // alg only in the unprotected header.
    let prot = HeaderBuilder::new()
        .key_id(kid)
        .content_type(CONTENT_TYPE.into())
        .build();
    let unprot = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .build();
    assert!(matches!(
        verify(&forge(prot, unprot, payload, &k), &keys),
        Err(LabelError::WrongAlgorithm(_))
    ));
}

#[test]
fn unexpected_headers_are_refused() {
    let k = key(7);
    let keys = [k.verifying_key()];
    let payload = label::cbor::encode_deterministic(&example_claims());
    // Non-empty unprotected header.
    let unprot = HeaderBuilder::new().key_id(b"x".to_vec()).build();
    assert!(matches!(
        verify(
            &forge(good_protected(&k), unprot, payload.clone(), &k),
            &keys
        ),
        Err(LabelError::UnexpectedHeader(_))
    ));
    // Wrong content type.
    let mut h = good_protected(&k);
    h.content_type = Some(coset::ContentType::Text("application/json".into()));
    assert!(matches!(
        verify(&forge(h, Default::default(), payload.clone(), &k), &keys),
        Err(LabelError::UnexpectedHeader(ref m)) if m.contains("content type")
    ));
    // kid of the wrong length.
    let mut h = good_protected(&k);
    h.key_id = vec![1, 2, 3];
    assert!(matches!(
        verify(&forge(h, Default::default(), payload, &k), &keys),
        Err(LabelError::UnexpectedHeader(ref m)) if m.contains("8 bytes")
    ));
}

#[test]
fn malformed_cbor_is_rejected_with_a_message() {
    let (k, bytes) = signed();
    let keys = [k.verifying_key()];
    for bad in [
        &b""[..],
        &[0xff],
        &[0xd2, 0x84],
        &bytes[1..], // untagged
        b"{\"not\": \"cbor\"}",
    ] {
        match verify(bad, &keys) {
            Err(LabelError::MalformedCbor(m)) => assert!(!m.is_empty()),
            other => panic!("{bad:02x?}: expected MalformedCbor, got {other:?}"),
        }
    }
    // Wrong tag (17 = COSE_Mac0) is named as such by the error display.
    let mut t = bytes.clone();
    t[0] = 0xd1;
    let err = verify(&t, &keys).unwrap_err();
    assert!(err.to_string().starts_with("malformed COSE_Sign1"), "{err}");
}

#[test]
fn signed_but_invalid_claims_are_claims_invalid() {
    let k = key(7);
    let keys = [k.verifying_key()];
    // A payload with an extra field, signed by a registered key.
    let mut v = ciborium::Value::serialized(&example_claims()).unwrap();
    if let ciborium::Value::Map(m) = &mut v {
        m.push((
            ciborium::Value::Text("colour".into()),
            ciborium::Value::Text("red".into()),
        ));
    }
    let v = label::cbor::encode_deterministic(&v);
    let err = verify(&forge(good_protected(&k), Default::default(), v, &k), &keys).unwrap_err();
    assert!(
        matches!(err, LabelError::ClaimsInvalid(ClaimsError::Cbor(ref m)) if m.contains("colour")),
        "{err}"
    );

    // Declaration-order (not §4.2.1 sorted) encoding of valid claims.
    let mut plain = Vec::new();
    ciborium::into_writer(&example_claims(), &mut plain).unwrap();
    assert_ne!(plain, label::cbor::encode_deterministic(&example_claims()));
    assert_eq!(
        verify(
            &forge(good_protected(&k), Default::default(), plain, &k),
            &keys
        ),
        Err(LabelError::ClaimsInvalid(ClaimsError::NotDeterministic))
    );

    // Semantically invalid claims (not-before after not-after).
    let mut c = example_claims();
    std::mem::swap(&mut c.validity.not_before, &mut c.validity.not_after);
    let payload = label::cbor::encode_deterministic(&c);
    assert!(matches!(
        verify(
            &forge(good_protected(&k), Default::default(), payload, &k),
            &keys
        ),
        Err(LabelError::ClaimsInvalid(ClaimsError::Invalid(_)))
    ));
    // ...and `sign` refuses to produce it in the first place.
    assert!(matches!(
        sign(&c, &k),
        Err(LabelError::ClaimsInvalid(ClaimsError::Invalid(_)))
    ));
}

#[test]
fn decode_unverified_reads_without_keys() {
    let (k, bytes) = signed();
    let (kid, claims) = decode_unverified(&bytes).unwrap();
    assert_eq!(kid, KeyId::of(&k.verifying_key()));
    assert_eq!(claims, example_claims());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Any replacement of any one byte by any different value fails.
        #[test]
        fn any_single_byte_replacement_fails(pos in any::<proptest::sample::Index>(), val in any::<u8>()) {
            let (k, bytes) = signed();
            let i = pos.index(bytes.len());
            prop_assume!(bytes[i] != val);
            let mut t = bytes.clone();
            t[i] = val;
            prop_assert!(verify(&t, &[k.verifying_key()]).is_err());
        }

        /// Arbitrary bytes never panic the verifier.
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = verify(&data, &[key(7).verifying_key()]);
            let _ = decode_unverified(&data);
        }
    }
}

#[test]
fn protected_header_bytes_are_as_documented() {
    // RFC 9052 §3.1 labels, built by hand: {1: -8, 3: CONTENT_TYPE, 4: kid}.
    let k = key(7);
    let kid = KeyId::of(&k.verifying_key());
    let mut want = vec![0xa3, 0x01, 0x27, 0x03, 0x78, CONTENT_TYPE.len() as u8];
    want.extend_from_slice(CONTENT_TYPE.as_bytes());
    want.extend_from_slice(&[0x04, 0x48]);
    want.extend_from_slice(&kid.0);
    let bytes = sign(&example_claims(), &k).unwrap();
    // d2 84 then a bstr head (0x58 len) wrapping the header map.
    assert_eq!(&bytes[2..4], &[0x58, want.len() as u8]);
    assert_eq!(&bytes[4..4 + want.len()], &want[..]);
    // Then the empty unprotected map.
    assert_eq!(bytes[4 + want.len()], 0xa0);
}
