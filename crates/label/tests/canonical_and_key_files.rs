//! Only the canonical encoding of a label verifies (re-encoded copies are refused), and private
//! key files that others can read are refused on load.

use label::*;
use std::os::unix::fs::PermissionsExt;

fn signed() -> (SigningKey, Vec<u8>) {
    let key = generate_key().unwrap();
    let bytes = sign(&example_claims(), &key).unwrap();
    (key, bytes)
}

#[test]
fn a_label_re_encoded_with_a_long_form_tag_is_refused() {
    let (key, bytes) = signed();
    assert_eq!(bytes[0], 0xd2, "tag 18 in its one-byte form");
    verify(&bytes, &[key.verifying_key()]).unwrap();
    // Tag 18 as `d8 12`: the same COSE_Sign1 value, the same signature, other bytes.
    let mut long_tag = vec![0xd8, 0x12];
    long_tag.extend_from_slice(&bytes[1..]);
    let e = verify(&long_tag, &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(&e, LabelError::MalformedCbor(m) if m.contains("canonical")),
        "{e}"
    );
    assert!(decode_unverified(&long_tag).is_err());
    assert!(verify_sign1_with_key(&long_tag, &key.verifying_key()).is_err());
    assert!(parse_canonical_sign1(&long_tag).is_err());
    // The array head in long form (`98 04` for 4 items) too.
    assert_eq!(bytes[1], 0x84);
    let mut long_array = vec![0xd2, 0x98, 0x04];
    long_array.extend_from_slice(&bytes[2..]);
    assert!(verify(&long_array, &[key.verifying_key()]).is_err());
}

#[test]
fn a_label_with_a_re_encoded_protected_header_is_refused() {
    let (key, bytes) = signed();
    // d2 84 <protected bstr>: the protected header (about 50 bytes) is a bstr with a one-byte
    // length (`58 n`); rewrite that head in the two-byte form (`59 00 n`). The header bytes
    // inside stay the same and the signature covers only them, so the copy would verify
    // without the rule.
    assert_eq!(bytes[2], 0x58, "protected bstr with a one-byte length");
    let mut t = vec![0xd2, 0x84, 0x59, 0x00];
    t.extend_from_slice(&bytes[3..]);
    let e = verify(&t, &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(&e, LabelError::MalformedCbor(m) if m.contains("canonical")),
        "{e}"
    );
}

fn temp_key(name: &str, mode: u32) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("label-keyfile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("assessor.key");
    let key = generate_key().unwrap();
    std::fs::write(&path, signing_key_to_pem(&key).unwrap().as_bytes()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn private_key_files_readable_by_others_are_refused_with_the_fix() {
    let ok = temp_key("600", 0o600);
    signing_key_from_file(&ok).unwrap();
    let ok = temp_key("400", 0o400);
    signing_key_from_file(&ok).unwrap();
    for mode in [0o644, 0o640, 0o604, 0o660, 0o606] {
        let p = temp_key(&format!("{mode:o}"), mode);
        let e = signing_key_from_file(&p).unwrap_err();
        assert_eq!(
            e,
            KeyError::Permissions {
                path: p.display().to_string(),
                mode
            }
        );
        let m = e.to_string();
        assert!(m.contains(&format!("chmod 600 {}", p.display())), "{m}");
        assert!(m.contains(&format!("{mode:04o}")), "{m}");
    }
    let missing = std::env::temp_dir().join("label-keyfile-does-not-exist.key");
    assert!(matches!(
        signing_key_from_file(&missing),
        Err(KeyError::File { .. })
    ));
}
