//! QR short form and key files.

use label::*;

#[test]
fn short_form_round_trip() {
    let bytes = sign(&example_claims(), &SigningKey::from_bytes(&[3; 32])).unwrap();
    let d = label_digest(&bytes);
    assert_eq!(d, Sha256Digest::of(&bytes));
    for base in ["https://registry.example", "https://registry.example/"] {
        let url = short_form(base, &d);
        assert!(url.starts_with("https://registry.example/l/"));
        assert_eq!(url.len(), "https://registry.example/l/".len() + 43);
        assert!(!url.contains('=') && !url.contains('+'));
        assert_eq!(
            parse_short_form(&url).unwrap(),
            ("https://registry.example".to_string(), d)
        );
    }
    // A base with a path is kept whole.
    let url = short_form("https://example.org/trustgate", &d);
    assert_eq!(
        parse_short_form(&url).unwrap().0,
        "https://example.org/trustgate"
    );
}

#[test]
fn short_form_known_value() {
    // SHA-256("") = e3b0c442...b855, base64url without padding.
    let d = label_digest(b"");
    assert_eq!(
        short_form("https://r.example", &d),
        "https://r.example/l/47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
    );
}

#[test]
fn bad_short_forms_are_refused() {
    let good = short_form("https://r.example", &label_digest(b""));
    let digest = good.rsplit_once("/l/").unwrap().1.to_string();
    assert!(matches!(
        parse_short_form("https://r.example/x/abc"),
        Err(ShortFormError::Shape(_))
    ));
    assert!(matches!(
        parse_short_form(&format!("ftp://r.example/l/{digest}")),
        Err(ShortFormError::Base(_))
    ));
    assert!(matches!(
        parse_short_form(&good[..good.len() - 1]),
        Err(ShortFormError::Digest(_))
    ));
    assert!(matches!(
        parse_short_form(&format!("{good}A")),
        Err(ShortFormError::Digest(_))
    ));
    let mut bad = good.clone();
    bad.replace_range(bad.len() - 5..bad.len() - 4, "+");
    assert!(matches!(
        parse_short_form(&bad),
        Err(ShortFormError::Digest(_))
    ));
    // Last character with unused low bits set: same bytes, non-canonical text.
    let noncanon = format!("{}V", &good[..good.len() - 1]);
    assert_ne!(noncanon, good);
    assert!(matches!(
        parse_short_form(&noncanon),
        Err(ShortFormError::Digest(_))
    ));
}

#[test]
fn pem_round_trip_and_formats() {
    let k = generate_key().unwrap();
    let pem = signing_key_to_pem(&k).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let back = signing_key_from_pem(&pem).unwrap();
    assert_eq!(back.to_bytes(), k.to_bytes());

    let pub_pem = verifying_key_to_pem(&k.verifying_key()).unwrap();
    assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert_eq!(verifying_key_from_pem(&pub_pem).unwrap(), k.verifying_key());

    // A label signed with the reloaded key verifies with the reloaded public key.
    let signed = sign(&example_claims(), &back).unwrap();
    assert!(verify(&signed, &[verifying_key_from_pem(&pub_pem).unwrap()]).is_ok());
}

#[test]
fn rfc8410_example_private_key_parses() {
    // RFC 8410 §10.3 example Ed25519 private key (PKCS#8 v1).
    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    let k = signing_key_from_pem(pem).unwrap();
    assert_eq!(
        hex::encode(k.to_bytes()),
        "d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842"
    );
    // RFC 8410 §10.1 example public key is a different key; it parses as SPKI.
    let spki = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
    assert_eq!(
        hex::encode(verifying_key_from_pem(spki).unwrap().as_bytes()),
        "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
    );
}

#[test]
fn generated_keys_differ() {
    assert_ne!(
        generate_key().unwrap().to_bytes(),
        generate_key().unwrap().to_bytes()
    );
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let k = generate_key().unwrap();
    let secret_hex = hex::encode(k.to_bytes());
    let dbg = format!("{k:?}").to_lowercase();
    assert!(!dbg.contains(&secret_hex), "Debug prints the secret");
    // Also not as a byte list.
    assert!(!dbg.contains(&format!("{:?}", k.to_bytes())));

    // A corrupted private key file: the error does not echo its contents.
    let pem = signing_key_to_pem(&k).unwrap();
    let body: String = pem.lines().nth(1).unwrap().to_string();
    let broken = pem.replace(&body, &body[..body.len() - 4]);
    let err = signing_key_from_pem(&broken).unwrap_err().to_string();
    assert!(
        !err.contains(&body[..20]),
        "error echoes key material: {err}"
    );
}
