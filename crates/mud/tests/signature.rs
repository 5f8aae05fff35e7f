//! Detached CMS signatures over MUD files (RFC 8520 §13): the Cisco signed example, interop
//! with the `openssl` command line both ways, and one test per rejection reason.
//!
//! Certificates are made fresh per test with `openssl req` / `openssl x509` in a temporary
//! directory, so nothing here depends on the clock except the Cisco vector's expiry test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use cms::cert::x509::der::{Decode, Encode};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use mud::signature::{sign_detached, verify_detached, SignatureError, TrustAnchors, Verified};
use tempfile::TempDir;
use time::macros::datetime;
use time::OffsetDateTime;

const CISCO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mud/cisco"
);

/// Inside the Cisco CA's validity (2018-07-12 .. 2019-07-12).
const IN_2019: OffsetDateTime = datetime!(2019-01-01 00:00:00 UTC);

const ID_CT_MUDTYPE: &str = "1.2.840.113549.1.9.16.1.41";

fn cisco(name: &str) -> Vec<u8> {
    let path = Path::new(CISCO).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn cisco_anchors() -> TrustAnchors {
    TrustAnchors::from_pem(&cisco("luminaire-cacert.pem")).expect("Cisco CA PEM")
}

/// A small MUD-like document with bare LF line endings and a trailing CR LF: any text-mode
/// (MIME canonical) hashing would change these bytes, binary hashing must not.
const MUD: &[u8] = b"{\n  \"ietf-mud:mud\": {\n    \"mud-version\": 1,\n    \"mud-url\": \
\"https://example.com/mud/thing.json\"\n  }\n}\r\n";

// ---------------------------------------------------------------------------------------------
// A throwaway PKI made with the openssl command line.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Key {
    Rsa,
    P256,
}

struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        // A minimal config so the system openssl.cnf adds no extensions of its own.
        pki.write(
            "req.cnf",
            b"[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n",
        );
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).expect("write");
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// Runs `openssl ARGS` in the directory; returns its output whatever the exit status.
    fn run(&self, args: &[&str]) -> Output {
        Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("the openssl command line tool must be installed")
    }

    /// Runs `openssl ARGS` and insists it succeeds.
    fn openssl(&self, args: &[&str]) {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Makes `NAME.key` and `NAME.pem`: a certificate for `subject`, issued by `issuer`
    /// (`None`: self-signed), with exactly the extensions in `extensions` (extfile lines).
    fn cert(&self, name: &str, subject: &str, key: Key, issuer: Option<&str>, extensions: &str) {
        let (key_file, csr, pem, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        let mut req = vec![
            "req", "-new", "-config", "req.cnf", "-nodes", "-subj", subject,
        ];
        match key {
            Key::Rsa => req.extend(["-newkey", "rsa:2048"]),
            Key::P256 => req.extend(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        }
        req.extend(["-keyout", &key_file, "-out", &csr]);
        self.openssl(&req);

        self.write(&ext, format!("[v3]\n{extensions}\n").as_bytes());
        let mut x509 = vec![
            "x509",
            "-req",
            "-in",
            &csr,
            "-out",
            &pem,
            "-days",
            "3650",
            "-sha256",
            "-extfile",
            &ext,
            "-extensions",
            "v3",
        ];
        let (issuer_pem, issuer_key);
        match issuer {
            None => x509.extend(["-signkey", &key_file]),
            Some(issuer) => {
                issuer_pem = format!("{issuer}.pem");
                issuer_key = format!("{issuer}.key");
                x509.extend([
                    "-CA",
                    &issuer_pem,
                    "-CAkey",
                    &issuer_key,
                    "-set_serial",
                    "4242",
                ]);
            }
        }
        self.openssl(&x509);
    }

    fn ca(&self, name: &str, key: Key) {
        self.cert(
            name,
            &format!("/O=Test MUD Maker/CN={name}"),
            key,
            None,
            "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n\
             subjectKeyIdentifier = hash",
        );
    }

    fn intermediate(&self, name: &str, issuer: &str) {
        self.cert(
            name,
            &format!("/O=Test MUD Maker/CN={name}"),
            Key::P256,
            Some(issuer),
            "basicConstraints = critical, CA:TRUE, pathlen:0\n\
             keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n\
             authorityKeyIdentifier = keyid",
        );
    }

    /// A MUD signer: KeyUsage digitalSignature, as RFC 8520 §13.2 requires.
    fn signer(&self, name: &str, key: Key, issuer: &str) {
        self.signer_with(name, key, issuer, "keyUsage = critical, digitalSignature");
    }

    fn signer_with(&self, name: &str, key: Key, issuer: &str, extra_extensions: &str) {
        self.cert(
            name,
            &format!("/O=Test MUD Maker/CN={name}.example.com"),
            key,
            Some(issuer),
            &format!(
                "basicConstraints = CA:FALSE\nsubjectKeyIdentifier = hash\n\
                 authorityKeyIdentifier = keyid\n{extra_extensions}"
            ),
        );
    }

    fn anchors(&self, ca: &str) -> TrustAnchors {
        TrustAnchors::from_pem(&self.read(&format!("{ca}.pem"))).expect("anchor PEM")
    }

    /// `openssl cms -sign`, detached unless `extra` says `-nodetach`; writes and returns `out`.
    fn cli_sign(&self, signer: &str, content: &str, out: &str, extra: &[&str]) -> Vec<u8> {
        let (cert, key) = (format!("{signer}.pem"), format!("{signer}.key"));
        let mut args = vec![
            "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256", "-in", content,
            "-signer", &cert, "-inkey", &key, "-out", out,
        ];
        args.extend_from_slice(extra);
        self.openssl(&args);
        self.read(out)
    }

    /// `openssl cms -verify` of a detached DER signature against `ca` only, purpose any.
    fn cli_verify(&self, signature: &str, content: &str, ca: &str, extra: &[&str]) -> Output {
        let ca = format!("{ca}.pem");
        let mut args = vec![
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            signature,
            "-content",
            content,
            "-CAfile",
            &ca,
            "-no-CApath",
            "-no-CAstore",
            "-out",
            "/dev/null",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn sign_ours(&self, signer: &str, content: &[u8], extra_pem: Option<&[u8]>) -> Vec<u8> {
        sign_detached(
            content,
            &self.read(&format!("{signer}.key")),
            &self.read(&format!("{signer}.pem")),
            extra_pem,
        )
        .expect("sign_detached")
    }
}

fn signed_data(der: &[u8]) -> SignedData {
    ContentInfo::from_der(der)
        .expect("ContentInfo")
        .content
        .decode_as()
        .expect("SignedData")
}

fn expect_ok(result: Result<Verified, SignatureError>) -> Verified {
    result.unwrap_or_else(|e| panic!("expected a valid signature, got: {e}"))
}

// ---------------------------------------------------------------------------------------------
// 1. The Cisco signed example (CiscoDevNet/MUD-Manager examples/luminaire).
// ---------------------------------------------------------------------------------------------

#[test]
fn cisco_vector_verifies_inside_the_ca_validity() {
    let v = expect_ok(verify_detached(
        &cisco("Luminaire_150.json"),
        &cisco("Luminaire_150.p7s"),
        &cisco_anchors(),
        Some(IN_2019),
    ));
    assert_eq!(
        v.signer_subject,
        "CN=luminaire.example.com,O=Demo Luminaire Manufacturer"
    );
    assert_eq!(v.signer_issuer, "O=Demo Luminaire Manufacturer");
    assert_eq!(v.content_type, "id-data");
    assert_eq!(v.validated_at, "2019-01-01T00:00:00Z");
}

#[test]
fn cisco_vector_is_rejected_now_because_its_ca_expired() {
    let err = verify_detached(
        &cisco("Luminaire_150.json"),
        &cisco("Luminaire_150.p7s"),
        &cisco_anchors(),
        None,
    )
    .expect_err("the Cisco CA expired on 2019-07-12");
    match &err {
        SignatureError::Expired {
            certificate,
            not_after,
            ..
        } => {
            assert_eq!(certificate, "O=Demo Luminaire Manufacturer");
            assert_eq!(not_after, "2019-07-12T20:54:35Z");
        }
        other => panic!("expected Expired, got {other:?}"),
    }
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn cisco_vector_is_rejected_before_its_ca_was_valid() {
    let err = verify_detached(
        &cisco("Luminaire_150.json"),
        &cisco("Luminaire_150.p7s"),
        &cisco_anchors(),
        Some(datetime!(2018-01-01 00:00:00 UTC)),
    )
    .expect_err("the Cisco certificates start on 2018-07-12");
    assert!(
        matches!(err, SignatureError::NotYetValid { .. }),
        "expected NotYetValid, got {err:?}"
    );
}

#[test]
fn cisco_vector_fails_after_any_one_bit_change_to_the_json() {
    let json = cisco("Luminaire_150.json");
    let p7s = cisco("Luminaire_150.p7s");
    let anchors = cisco_anchors();
    let started = Instant::now();
    for position in 0..json.len() {
        let mut tampered = json.clone();
        tampered[position] ^= 0x01;
        match verify_detached(&tampered, &p7s, &anchors, Some(IN_2019)) {
            Err(SignatureError::BadSignature(_)) => {}
            other => panic!("byte {position} flipped: expected BadSignature, got {other:?}"),
        }
    }
    // Truncation and extension are changes too.
    for tampered in [
        &json[..json.len() - 1],
        &[json.as_slice(), b" "].concat()[..],
    ] {
        assert!(matches!(
            verify_detached(tampered, &p7s, &anchors, Some(IN_2019)),
            Err(SignatureError::BadSignature(_))
        ));
    }
    let per_check = started.elapsed() / json.len() as u32;
    eprintln!(
        "{} tampered copies rejected, {per_check:?} per verification",
        json.len()
    );
    assert!(
        per_check.as_millis() < 50,
        "verification too slow: {per_check:?}"
    );
}

#[test]
fn cisco_vector_fails_after_any_change_to_the_signature_value_or_signed_digest() {
    let json = cisco("Luminaire_150.json");
    let p7s = cisco("Luminaire_150.p7s");
    let anchors = cisco_anchors();
    let sd = signed_data(&p7s);
    let signer_info = sd.signer_infos.0.as_slice()[0].clone();

    let signature_value = signer_info.signature.as_bytes().to_vec();
    let message_digest = signer_info
        .signed_attrs
        .as_ref()
        .expect("signed attributes")
        .iter()
        .find(|a| a.oid.to_string() == "1.2.840.113549.1.9.4")
        .expect("message-digest attribute")
        .values
        .as_slice()[0]
        .value()
        .to_vec();
    assert_eq!(message_digest.len(), 32, "SHA-256 message digest");

    for (what, region) in [
        ("signature value", signature_value),
        ("message digest", message_digest),
    ] {
        let start = p7s
            .windows(region.len())
            .position(|w| w == region.as_slice())
            .unwrap_or_else(|| panic!("{what} not found in the .p7s"));
        for position in start..start + region.len() {
            let mut tampered = p7s.clone();
            tampered[position] ^= 0x01;
            match verify_detached(&json, &tampered, &anchors, Some(IN_2019)) {
                Err(SignatureError::BadSignature(_)) => {}
                other => panic!("{what} byte {position} flipped: got {other:?}"),
            }
        }
    }
}

#[test]
fn cisco_vector_is_untrusted_under_another_ca() {
    let pki = Pki::new();
    pki.ca("other-ca", Key::P256);
    let err = verify_detached(
        &cisco("Luminaire_150.json"),
        &cisco("Luminaire_150.p7s"),
        &pki.anchors("other-ca"),
        Some(IN_2019),
    )
    .expect_err("signed under a different CA");
    match err {
        SignatureError::UntrustedChain(reason) => {
            assert!(reason.contains("issuer certificate"), "{reason}")
        }
        other => panic!("expected UntrustedChain, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 2 and 4. Interop with the openssl command line, both ways, RSA and ECDSA P-256 signers.
// ---------------------------------------------------------------------------------------------

#[test]
fn openssl_cli_signatures_verify_with_rsa_and_p256_signers() {
    for key in [Key::Rsa, Key::P256] {
        let pki = Pki::new();
        pki.ca("ca", Key::P256);
        pki.signer("signer", key, "ca");
        pki.write("mud.json", MUD);

        let sig = pki.cli_sign("signer", "mud.json", "mud.p7s", &[]);
        let v = expect_ok(verify_detached(MUD, &sig, &pki.anchors("ca"), None));
        assert_eq!(v.content_type, "id-data", "{key:?}");
        assert_eq!(v.signer_subject, "CN=signer.example.com,O=Test MUD Maker");
        assert_eq!(v.signer_issuer, "CN=ca,O=Test MUD Maker");

        let sig = pki.cli_sign(
            "signer",
            "mud.json",
            "mudtype.p7s",
            &["-econtent_type", ID_CT_MUDTYPE],
        );
        let v = expect_ok(verify_detached(MUD, &sig, &pki.anchors("ca"), None));
        assert_eq!(v.content_type, "id-ct-mudtype", "{key:?}");

        let mut tampered = MUD.to_vec();
        tampered[3] ^= 0x20;
        assert!(
            matches!(
                verify_detached(&tampered, &sig, &pki.anchors("ca"), None),
                Err(SignatureError::BadSignature(_))
            ),
            "{key:?}"
        );
    }
}

#[test]
fn our_signatures_verify_with_the_openssl_cli_and_tampering_fails_there() {
    for key in [Key::Rsa, Key::P256] {
        let pki = Pki::new();
        pki.ca("ca", Key::Rsa);
        pki.signer("signer", key, "ca");
        pki.write("mud.json", MUD);

        let sig = pki.sign_ours("signer", MUD, None);
        pki.write("mud.p7s", &sig);
        let out = pki.cli_verify("mud.p7s", "mud.json", "ca", &["-purpose", "any"]);
        assert!(
            out.status.success(),
            "{key:?}: openssl rejected our signature: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let mut tampered = MUD.to_vec();
        *tampered.last_mut().unwrap() = b' ';
        pki.write("tampered.json", &tampered);
        let out = pki.cli_verify("mud.p7s", "tampered.json", "ca", &["-purpose", "any"]);
        assert!(
            !out.status.success(),
            "{key:?}: openssl accepted tampered content"
        );

        // And our own verifier agrees, both ways.
        expect_ok(verify_detached(MUD, &sig, &pki.anchors("ca"), None));
        assert!(matches!(
            verify_detached(&tampered, &sig, &pki.anchors("ca"), None),
            Err(SignatureError::BadSignature(_))
        ));
    }
}

#[test]
fn our_signature_is_der_detached_sha256_with_the_signer_certificate() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer("signer", Key::P256, "ca");
    let sig = pki.sign_ours("signer", MUD, None);

    // DER: the strict decoder re-encodes it to the same bytes.
    let ci = ContentInfo::from_der(&sig).expect("DER ContentInfo");
    assert_eq!(ci.to_der().unwrap(), sig, "not canonical DER");
    let sd = signed_data(&sig);
    assert_eq!(
        sd.encap_content_info.econtent_type.to_string(),
        "1.2.840.113549.1.7.1"
    );
    assert!(sd.encap_content_info.econtent.is_none(), "not detached");
    let signer_info = &sd.signer_infos.0.as_slice()[0];
    assert_eq!(
        signer_info.digest_alg.oid.to_string(),
        "2.16.840.1.101.3.4.2.1"
    );

    let signer_pem = pki.read("signer.pem");
    let signer_der = openssl::x509::X509::from_pem(&signer_pem)
        .unwrap()
        .to_der()
        .unwrap();
    let included: Vec<Vec<u8>> = sd
        .certificates
        .expect("certificates")
        .0
        .iter()
        .map(|c| match c {
            CertificateChoices::Certificate(c) => c.to_der().unwrap(),
            CertificateChoices::Other(_) => panic!("unexpected other certificate format"),
        })
        .collect();
    assert_eq!(included, vec![signer_der], "exactly the signer certificate");
}

#[test]
fn content_is_hashed_as_binary_not_mime_canonical_text() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer("signer", Key::P256, "ca");
    pki.write("mud.json", MUD);
    // Without -binary, `openssl cms -sign` signs the MIME canonical form (LF -> CR LF), which
    // is not the MUD file's bytes; a binary verifier must reject it.
    let (cert, key) = ("signer.pem", "signer.key");
    pki.openssl(&[
        "cms", "-sign", "-outform", "DER", "-md", "sha256", "-in", "mud.json", "-signer", cert,
        "-inkey", key, "-out", "text.p7s",
    ]);
    let err = verify_detached(MUD, &pki.read("text.p7s"), &pki.anchors("ca"), None)
        .expect_err("text-mode signature over different bytes");
    assert!(matches!(err, SignatureError::BadSignature(_)), "{err:?}");
}

#[test]
fn intermediates_carried_in_the_signature_complete_the_path() {
    let pki = Pki::new();
    pki.ca("root", Key::Rsa);
    pki.intermediate("inter", "root");
    pki.signer("signer", Key::P256, "inter");
    pki.write("mud.json", MUD);

    // Ours, with the intermediate as an extra certificate: verifies to the root alone.
    let sig = pki.sign_ours("signer", MUD, Some(&pki.read("inter.pem")));
    expect_ok(verify_detached(MUD, &sig, &pki.anchors("root"), None));
    pki.write("ours.p7s", &sig);
    let out = pki.cli_verify("ours.p7s", "mud.json", "root", &["-purpose", "any"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The openssl CLI's, with -certfile: the same.
    let sig = pki.cli_sign("signer", "mud.json", "cli.p7s", &["-certfile", "inter.pem"]);
    expect_ok(verify_detached(MUD, &sig, &pki.anchors("root"), None));

    // Without the intermediate there is no path to the root.
    let sig = pki.sign_ours("signer", MUD, None);
    assert!(matches!(
        verify_detached(MUD, &sig, &pki.anchors("root"), None),
        Err(SignatureError::UntrustedChain(_))
    ));

    // An operator may pin the intermediate itself as the anchor (partial chain).
    expect_ok(verify_detached(MUD, &sig, &pki.anchors("inter"), None));
}

#[test]
fn any_extended_key_usage_is_accepted_unlike_openssl_default_smime_purpose() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer_with(
        "signer",
        Key::P256,
        "ca",
        "keyUsage = critical, digitalSignature\nextendedKeyUsage = codeSigning",
    );
    pki.write("mud.json", MUD);
    let sig = pki.cli_sign("signer", "mud.json", "mud.p7s", &[]);

    // OpenSSL's default purpose for CMS (smimesign) rejects this non-S/MIME certificate ...
    let out = pki.cli_verify("mud.p7s", "mud.json", "ca", &[]);
    assert!(
        !out.status.success(),
        "premise: the default S/MIME purpose should reject a codeSigning-only certificate"
    );
    // ... but a MUD signer is not an e-mail certificate: we validate with purpose any.
    expect_ok(verify_detached(MUD, &sig, &pki.anchors("ca"), None));
}

// ---------------------------------------------------------------------------------------------
// 3. One test per rejection reason.
// ---------------------------------------------------------------------------------------------

#[test]
fn signer_without_digital_signature_key_usage_is_rejected() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer_with(
        "signer",
        Key::P256,
        "ca",
        "keyUsage = critical, keyCertSign",
    );
    pki.write("mud.json", MUD);
    let sig = pki.cli_sign("signer", "mud.json", "mud.p7s", &[]);

    match verify_detached(MUD, &sig, &pki.anchors("ca"), None) {
        Err(SignatureError::KeyUsage(reason)) => {
            assert!(reason.contains("keyCertSign"), "{reason}");
            assert!(reason.contains("digitalSignature"), "{reason}");
        }
        other => panic!("expected KeyUsage, got {other:?}"),
    }
    // Our signer refuses to make what our verifier would reject.
    let refused = sign_detached(MUD, &pki.read("signer.key"), &pki.read("signer.pem"), None);
    assert!(
        matches!(refused, Err(SignatureError::KeyUsage(_))),
        "{refused:?}"
    );
}

#[test]
fn signer_without_key_usage_extension_is_rejected_per_rfc8520() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer_with("signer", Key::P256, "ca", "");
    pki.write("mud.json", MUD);
    let sig = pki.cli_sign("signer", "mud.json", "mud.p7s", &[]);
    // OpenSSL itself is content with it (RFC 5280: absent KeyUsage allows any usage) ...
    let out = pki.cli_verify("mud.p7s", "mud.json", "ca", &["-purpose", "any"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ... RFC 8520 §13.2 is not.
    match verify_detached(MUD, &sig, &pki.anchors("ca"), None) {
        Err(SignatureError::KeyUsage(reason)) => {
            assert!(reason.contains("no KeyUsage"), "{reason}")
        }
        other => panic!("expected KeyUsage, got {other:?}"),
    }
}

#[test]
fn self_signed_signer_not_chained_to_the_anchors_is_untrusted() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.cert(
        "rogue",
        "/O=Test MUD Maker/CN=rogue.example.com",
        Key::P256,
        None,
        "keyUsage = critical, digitalSignature",
    );
    let sig = pki.sign_ours("rogue", MUD, None);
    match verify_detached(MUD, &sig, &pki.anchors("ca"), None) {
        Err(SignatureError::UntrustedChain(reason)) => {
            assert!(reason.contains("self-signed"), "{reason}");
            assert!(reason.contains("CN=rogue.example.com"), "{reason}");
        }
        other => panic!("expected UntrustedChain, got {other:?}"),
    }
    // Trusting it explicitly (pinning) is the operator's choice, and then it verifies.
    expect_ok(verify_detached(MUD, &sig, &pki.anchors("rogue"), None));
}

#[test]
fn garbage_and_truncated_signatures_are_malformed() {
    let anchors = cisco_anchors();
    let p7s = cisco("Luminaire_150.p7s");
    let json = cisco("Luminaire_150.json");
    let mut trailing = p7s.clone();
    trailing.push(0);
    let inputs: [(&str, &[u8]); 5] = [
        ("empty", b""),
        ("text", b"this is not a signature"),
        (
            "PEM instead of DER",
            b"-----BEGIN CMS-----\nMIIB\n-----END CMS-----\n",
        ),
        ("truncated", &p7s[..p7s.len() / 2]),
        ("trailing byte", &trailing),
    ];
    for (what, sig) in inputs {
        match verify_detached(&json, sig, &anchors, Some(IN_2019)) {
            Err(SignatureError::Malformed(reason)) => assert!(!reason.is_empty()),
            other => panic!("{what}: expected Malformed, got {other:?}"),
        }
    }
    // A certificate is DER, but not a ContentInfo.
    let cert_der = openssl::x509::X509::from_pem(&cisco("luminaire-cacert.pem"))
        .unwrap()
        .to_der()
        .unwrap();
    assert!(matches!(
        verify_detached(&json, &cert_der, &anchors, Some(IN_2019)),
        Err(SignatureError::Malformed(_))
    ));
}

#[test]
fn attached_signature_is_rejected_as_not_detached() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer("signer", Key::P256, "ca");
    pki.write("mud.json", MUD);
    let sig = pki.cli_sign("signer", "mud.json", "mud.p7s", &["-nodetach"]);
    // It is otherwise a good signature: openssl verifies it with its embedded content.
    let out = pki.run(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "mud.p7s",
        "-CAfile",
        "ca.pem",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = verify_detached(MUD, &sig, &pki.anchors("ca"), None).expect_err("attached");
    assert!(matches!(err, SignatureError::NotDetached), "{err:?}");
}

#[test]
fn other_econtent_type_is_rejected() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer("signer", Key::P256, "ca");
    pki.write("mud.json", MUD);
    // id-ct-TSTInfo: a real content type, but not a MUD file.
    let oid = "1.2.840.113549.1.9.16.1.4";
    let sig = pki.cli_sign("signer", "mud.json", "mud.p7s", &["-econtent_type", oid]);
    match verify_detached(MUD, &sig, &pki.anchors("ca"), None) {
        Err(SignatureError::WrongContentType(found)) => assert_eq!(found, oid),
        other => panic!("expected WrongContentType, got {other:?}"),
    }
}

#[test]
fn trust_anchors_must_be_pem_certificates() {
    for pem in [
        &b""[..],
        b"not pem",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        assert!(
            matches!(TrustAnchors::from_pem(pem), Err(SignatureError::Anchors(_))),
            "{:?}",
            String::from_utf8_lossy(pem)
        );
    }
    let pki = Pki::new();
    pki.ca("a", Key::P256);
    pki.ca("b", Key::Rsa);
    let both = [pki.read("a.pem"), pki.read("b.pem")].concat();
    let anchors = TrustAnchors::from_pem(&both).expect("two anchors");
    assert_eq!(anchors.len(), 2);
    assert_eq!(
        anchors.subjects(),
        vec!["CN=a,O=Test MUD Maker", "CN=b,O=Test MUD Maker"]
    );
    // Either anchor serves.
    pki.signer("signer", Key::P256, "b");
    let sig = pki.sign_ours("signer", MUD, None);
    expect_ok(verify_detached(MUD, &sig, &anchors, None));
}

#[test]
fn signing_errors_are_reported_without_key_material() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer("signer", Key::P256, "ca");
    pki.signer("other", Key::P256, "ca");
    pki.openssl(&[
        "pkcs8",
        "-topk8",
        "-in",
        "signer.key",
        "-out",
        "encrypted.key",
        "-passout",
        "pass:secret-passphrase",
    ]);
    let cert = pki.read("signer.pem");
    let cases: [(&str, Vec<u8>); 3] = [
        ("key of another certificate", pki.read("other.key")),
        (
            "encrypted key (refused, not prompted for)",
            pki.read("encrypted.key"),
        ),
        (
            "garbage key",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec(),
        ),
    ];
    let key_lines: Vec<String> = ["signer.key", "other.key", "encrypted.key"]
        .iter()
        .flat_map(|f| {
            String::from_utf8(pki.read(f))
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    for (what, key) in cases {
        let err = sign_detached(MUD, &key, &cert, None).expect_err(what);
        assert!(matches!(err, SignatureError::Signing(_)), "{what}: {err:?}");
        let message = format!("{err} {err:?}");
        for line in &key_lines {
            assert!(
                !message.contains(line.as_str()),
                "{what}: key material in {message}"
            );
        }
        assert!(!message.contains("secret-passphrase"), "{what}: {message}");
        eprintln!("{what}: {err}");
    }
}

#[test]
fn econtent_type_must_match_the_signed_content_type_attribute() {
    // eContentType itself is not covered by the signature; only the content-type signed
    // attribute is (RFC 5652 §5.4, §11.1). Relabel an id-data signature as id-ct-mudtype
    // without touching what was signed: the signature still verifies cryptographically, so
    // only the attribute check stands between this and acceptance.
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer("signer", Key::P256, "ca");
    let sig = pki.sign_ours("signer", MUD, None);

    let mut sd = signed_data(&sig);
    sd.encap_content_info.econtent_type = ID_CT_MUDTYPE.parse().unwrap();
    let relabelled = ContentInfo {
        content_type: "1.2.840.113549.1.7.2".parse().unwrap(),
        content: cms::cert::x509::der::Any::encode_from(&sd).unwrap(),
    }
    .to_der()
    .unwrap();
    assert_ne!(relabelled, sig);

    match verify_detached(MUD, &relabelled, &pki.anchors("ca"), None) {
        Err(SignatureError::WrongContentType(found)) => {
            assert!(found.starts_with("1.2.840.113549.1.7.1"), "{found}");
            assert!(found.contains(ID_CT_MUDTYPE), "{found}");
        }
        other => panic!("expected WrongContentType, got {other:?}"),
    }
}

#[test]
fn signer_identified_by_subject_key_identifier_is_found() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer("signer", Key::Rsa, "ca");
    pki.write("mud.json", MUD);
    let sig = pki.cli_sign("signer", "mud.json", "mud.p7s", &["-keyid"]);
    let sd = signed_data(&sig);
    assert!(matches!(
        sd.signer_infos.0.as_slice()[0].sid,
        cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(_)
    ));
    expect_ok(verify_detached(MUD, &sig, &pki.anchors("ca"), None));
}

#[test]
fn signature_without_the_signer_certificate_is_untrusted() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer("signer", Key::P256, "ca");
    pki.write("mud.json", MUD);
    let sig = pki.cli_sign("signer", "mud.json", "mud.p7s", &["-nocerts"]);
    match verify_detached(MUD, &sig, &pki.anchors("ca"), None) {
        Err(SignatureError::UntrustedChain(reason)) => {
            assert!(reason.contains("not included"), "{reason}")
        }
        other => panic!("expected UntrustedChain, got {other:?}"),
    }
}

#[test]
fn more_than_one_signer_is_rejected() {
    let pki = Pki::new();
    pki.ca("ca", Key::P256);
    pki.signer("one", Key::P256, "ca");
    pki.signer("two", Key::Rsa, "ca");
    pki.write("mud.json", MUD);
    let sig = pki.cli_sign(
        "one",
        "mud.json",
        "mud.p7s",
        &["-signer", "two.pem", "-inkey", "two.key"],
    );
    assert_eq!(signed_data(&sig).signer_infos.0.len(), 2, "premise");
    match verify_detached(MUD, &sig, &pki.anchors("ca"), None) {
        Err(SignatureError::Malformed(reason)) => {
            assert!(reason.contains("exactly one SignerInfo"), "{reason}")
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn a_failed_signature_says_whether_the_file_digest_differs_from_the_signed_one() {
    let json = cisco("Luminaire_150.json");
    let p7s = cisco("Luminaire_150.p7s");
    let anchors = cisco_anchors();
    // The file changed after signing: both SHA-256 digests are named.
    let mut tampered = json.clone();
    tampered[100] ^= 0x01;
    let signed_digest = {
        let sd = signed_data(&p7s);
        let si = sd.signer_infos.0.as_slice()[0].clone();
        let v = si
            .signed_attrs
            .unwrap()
            .iter()
            .find(|a| a.oid.to_string() == "1.2.840.113549.1.9.4")
            .unwrap()
            .values
            .as_slice()[0]
            .value()
            .to_vec();
        v.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let actual = openssl::sha::sha256(&tampered)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    match verify_detached(&tampered, &p7s, &anchors, Some(IN_2019)) {
        Err(SignatureError::BadSignature(why)) => {
            assert!(why.contains("SHA-256 digest is"), "{why}");
            assert!(why.contains(&actual), "{why}");
            assert!(why.contains(&signed_digest), "{why}");
            assert!(why.contains("not the one that was signed"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // The file is the signed one but the signature value is damaged: the digests match.
    let sd = signed_data(&p7s);
    let value = sd.signer_infos.0.as_slice()[0]
        .signature
        .as_bytes()
        .to_vec();
    let at = p7s.windows(value.len()).position(|w| w == value).unwrap();
    let mut bad_sig = p7s.clone();
    bad_sig[at + 10] ^= 0x01;
    match verify_detached(&json, &bad_sig, &anchors, Some(IN_2019)) {
        Err(SignatureError::BadSignature(why)) => {
            assert!(
                why.contains("digest matches the signed message-digest"),
                "{why}"
            );
            assert!(!why.contains("not the one that was signed"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}
