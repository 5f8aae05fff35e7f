//! Published COSE_Sign1 vectors from the COSE working group.
//!
//! Source: <https://github.com/cose-wg/Examples>, file
//! `eddsa-examples/eddsa-sig-01.json` ("EdDSA-01: EdDSA - 25519 - sign0"),
//! field `output.cbor`; the key is `input.sign0.key` (kid "11"), whose public
//! half `x` is the RFC 8032 §7.1 TEST 1 public key. And
//! `eddsa-examples/eddsa-sig-02.json` ("EdDSA-sig-02: EdDSA - 448 - sign1").
//! The repository is released under the Unlicense.

use label::*;

/// cose-wg/Examples eddsa-examples/eddsa-sig-01.json, output.cbor:
/// `18([h'A201270300', {4: h'3131'}, h'546869...742E', h'7142FD...EF0D'])`.
/// Its protected header is `{1: -8, 3: 0}` (alg EdDSA, content type 0).
const EDDSA_SIG_01: &str = "D28445A201270300A10442313154546869732069732074686520636F6E74656E742E58407142FD2FF96D56DB85BEE905A76BA1D0B7321A95C8C4D3607C5781932B7AFB8711497DFA751BF40B58B3BCC32300B1487F3DB34085EEF013BF08F4A44D6FEF0D";

/// input.sign0.key.x_hex of the same file (= RFC 8032 §7.1 TEST 1 public key).
const EDDSA_SIG_01_X: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/// input.sign0.key.d_hex of the same file (= RFC 8032 §7.1 TEST 1 secret key).
const EDDSA_SIG_01_D: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

/// cose-wg/Examples eddsa-examples/eddsa-sig-02.json, output.cbor (Ed448).
const EDDSA_SIG_02_ED448: &str = "D28443A10127A10445336434343854546869732069732074686520636F6E74656E742E5872988240A3A2F189BD486DE14AA77F54686C576A09F2E7ED9BAE910DF9139C2AC3BE7C27B7E10A20FA17C9D57D3510A2CF1F634BC0345AB9BE00849842171D1E9E98B2674C0E38BFCF6C557A1692B01B71015A47AC9F7748840CAD1DA80CBB5B349309FEBB912672B377C8B2072AF1598B3700";

fn pubkey() -> VerifyingKey {
    let x: [u8; 32] = hex::decode(EDDSA_SIG_01_X).unwrap().try_into().unwrap();
    VerifyingKey::from_bytes(&x).unwrap()
}

#[test]
fn cose_wg_eddsa_sig_01_verifies() {
    let bytes = hex::decode(EDDSA_SIG_01).unwrap();
    let payload = verify_sign1_with_key(&bytes, &pubkey()).unwrap();
    assert_eq!(payload, b"This is the content.");
}

#[test]
fn cose_wg_eddsa_sig_01_secret_key_matches_its_public_key() {
    let d: [u8; 32] = hex::decode(EDDSA_SIG_01_D).unwrap().try_into().unwrap();
    assert_eq!(SigningKey::from_bytes(&d).verifying_key(), pubkey());
}

#[test]
fn cose_wg_eddsa_sig_01_tampered_fails() {
    let bytes = hex::decode(EDDSA_SIG_01).unwrap();
    for i in 0..bytes.len() {
        let mut t = bytes.clone();
        t[i] ^= 0x01;
        // Bytes 8..13 are the *unprotected* header `A1 04 42 31 31`
        // ({4: h'3131'}), which the signature does not cover (RFC 9052 §3).
        // Flipping the label 04 -> 05 (kid -> IV) or either kid byte still
        // parses, so the generic verifier accepts it; that is exactly why
        // `verify` requires an empty unprotected header for labels. Flipping
        // the map or bstr heads (bytes 8, 10) breaks the structure.
        let unprotected_kid = [9, 11, 12].contains(&i);
        assert_eq!(
            verify_sign1_with_key(&t, &pubkey()).is_ok(),
            unprotected_kid,
            "byte {i}"
        );
    }
}

#[test]
fn cose_wg_eddsa_sig_01_is_not_a_label() {
    // A genuine COSE_Sign1, but not a trustgate label: it carries an
    // unprotected kid and content type 0, and is refused before any claims.
    let bytes = hex::decode(EDDSA_SIG_01).unwrap();
    assert!(matches!(
        verify(&bytes, &[pubkey()]),
        Err(LabelError::UnexpectedHeader(_))
    ));
}

#[test]
fn cose_wg_ed448_vector_is_refused() {
    // Also alg EdDSA (-8), but over Ed448: its 114-byte signature cannot be
    // an Ed25519 signature, so it fails as a bad signature.
    let bytes = hex::decode(EDDSA_SIG_02_ED448).unwrap();
    assert_eq!(
        verify_sign1_with_key(&bytes, &pubkey()),
        Err(LabelError::BadSignature)
    );
}
