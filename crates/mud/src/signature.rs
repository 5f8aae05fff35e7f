//! Detached CMS signatures over MUD files (RFC 8520 §13).
//!
//! A MUD file is signed "using CMS as an opaque binary object" (RFC 8520 §13.1): the signature
//! file (`mud-signature`, else `<url>.p7s`) is a DER-encoded CMS `ContentInfo` holding a
//! `SignedData` (RFC 5652 §5) whose encapsulated content is absent, because the content is the
//! MUD file itself, fetched separately.
//!
//! [`verify_detached`] accepts a signature only if **every** rule below holds; the first rule
//! broken is returned as a [`SignatureError`] naming it (fail closed, RFC 8520 §13.2: "the MUD
//! manager MUST cease processing the MUD file" otherwise):
//!
//! 1. The bytes are one DER-encoded `ContentInfo` whose `contentType` is `id-signedData`
//!    (RFC 5652 §3, §5.1), with nothing after it. Else [`SignatureError::Malformed`].
//! 2. `encapContentInfo.eContent` is absent: the signature is detached (RFC 5652 §5.2).
//!    Else [`SignatureError::NotDetached`].
//! 3. `eContentType` is `id-data` (what `openssl cms -sign` writes, as in the RFC 8520 §13.1
//!    example) or `id-ct-mudtype` (RFC 8520 §12, the MUD content type).
//!    Else [`SignatureError::WrongContentType`].
//! 4. There is exactly one `SignerInfo` (RFC 5652 §5.3), else `Malformed`; if it has signed
//!    attributes, its `content-type` attribute equals `eContentType` (RFC 5652 §11.1), else
//!    `WrongContentType`. `eContentType` itself is not signed, only that attribute is, and
//!    OpenSSL 3.0 does not compare the two: without this rule an `id-data` signature could be
//!    relabelled freely.
//! 5. The signer's certificate is among the `SignedData` certificates (RFC 5652 §5.1; RFC 8520
//!    §13.1 asks signers to include what verification needs) and chains, through the other
//!    certificates carried there, to one of the configured [`TrustAnchors`], and nothing else:
//!    the system trust store is never consulted. Validity periods are checked at the
//!    validation time the caller gives (RFC 5280 §6.1.3 (a)(2)). Else
//!    [`SignatureError::UntrustedChain`], or [`SignatureError::Expired`] /
//!    [`SignatureError::NotYetValid`] naming the certificate and its validity bound.
//! 6. The signer's certificate has the KeyUsage extension **with** `digitalSignature` set.
//!    RFC 8520 §13.2 makes the extension mandatory for a MUD signer ("MUST be present"), which
//!    overrides the RFC 5280 §4.2.1.3 default that an absent extension allows any usage: a
//!    certificate without KeyUsage is rejected. Else [`SignatureError::KeyUsage`].
//! 7. The signature verifies over exactly the given content bytes, hashed as binary (no MIME
//!    canonicalisation of line endings), including the `message-digest` signed attribute
//!    (RFC 5652 §5.4, §5.6, §11.2). Else [`SignatureError::BadSignature`], which says whether
//!    the content's digest differs from the signed `message-digest` (the file is not the one
//!    signed, with both digests) or matches it (the signature value itself is bad).
//!
//! The structural rules (1–4, 6) are read with the RustCrypto `cms`/`x509-cert` DER decoders,
//! for inspection only. All cryptography and certificate path validation (5, 7) is done by the
//! system OpenSSL through the `openssl` crate; nothing here re-implements either.
//!
//! # Certificate purpose
//!
//! OpenSSL's `CMS_verify` validates the signer with the `smimesign` purpose by default, which
//! rejects a certificate whose ExtendedKeyUsage lacks `emailProtection`. A MUD signer is not an
//! S/MIME (e-mail) certificate and RFC 8520 names no ExtendedKeyUsage, so a manufacturer's
//! document- or code-signing certificate must not fail for that reason. We therefore validate
//! with purpose `any` (`X509_PURPOSE_ANY`, as `openssl cms -verify -purpose any`), which drops
//! only the leaf's purpose test; CA constraints on the issuers (basicConstraints, keyCertSign)
//! are still enforced by OpenSSL, and the leaf's KeyUsage is checked explicitly by rule 6.
//!
//! # Trust anchors
//!
//! Every certificate configured in [`TrustAnchors`] is a trust anchor in the RFC 5280 §6.1.1 (d)
//! sense, whether or not it is self-signed: an operator may pin a manufacturer's intermediate CA
//! (OpenSSL `X509_V_FLAG_PARTIAL_CHAIN`). A path must still end at a configured certificate.
//!
//! # Signing
//!
//! [`sign_detached`] produces what [`verify_detached`] accepts: DER, detached, binary content,
//! `eContentType` `id-data`, SHA-256, signed attributes (content-type, signing-time,
//! message-digest), the signer certificate and any extra (intermediate) certificates included.
//! It refuses to sign with a certificate that rule 6 would reject.
//!
//! Error messages name certificates by subject and say which rule failed; they never contain
//! private-key material.

use std::fmt;

use crate::rfc3339;
use cms::cert::x509::der::asn1::ObjectIdentifier;
use cms::cert::x509::der::{Decode, Encode};
use cms::cert::x509::ext::pkix::{KeyUsage, KeyUsages, SubjectKeyIdentifier};
use cms::cert::x509::Certificate;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::error::ErrorStack;
use openssl::pkey::PKey;
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{X509PurposeId, X509Ref, X509StoreContext, X509StoreContextRef, X509};
use time::OffsetDateTime;

/// `id-signedData` (RFC 5652 §5.1).
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// `id-data` (RFC 5652 §4).
pub const ID_DATA: &str = "1.2.840.113549.1.7.1";
/// `id-ct-mudtype` (RFC 8520 §12; IANA "SMI Security for S/MIME CMS Content Type").
pub const ID_CT_MUDTYPE: &str = "1.2.840.113549.1.9.16.1.41";
/// `id-contentType` signed attribute (RFC 5652 §11.1).
const ID_CONTENT_TYPE_ATTR: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// `id-sha256` (RFC 5754 §2.2).
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// Why a MUD signature was rejected, or could not be made. Every variant is a reason to stop
/// processing the MUD file (RFC 8520 §13.2).
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// The signature bytes are not one DER-encoded CMS `SignedData` we can read.
    #[error("malformed MUD signature: {0}")]
    Malformed(String),

    /// The `SignedData` carries the content inside it; a MUD signature must be detached.
    #[error(
        "MUD signature is not detached: the SignedData embeds content (eContent present), \
         but a MUD signature must be a detached signature over the MUD file (RFC 8520 §13.1)"
    )]
    NotDetached,

    /// `eContentType` (or the content-type signed attribute) is neither `id-data` nor
    /// `id-ct-mudtype`; the dotted OID found.
    #[error(
        "MUD signature has content type {0}; expected id-data ({ID_DATA}) or id-ct-mudtype \
         ({ID_CT_MUDTYPE}) (RFC 8520 §12, §13)"
    )]
    WrongContentType(String),

    /// The signer's certificate does not chain to a configured trust anchor (reason as given by
    /// OpenSSL path validation, with the certificate concerned).
    #[error("MUD signer certificate is not trusted: {0}")]
    UntrustedChain(String),

    /// A certificate of the path was not yet valid at the validation time.
    #[error(
        "MUD signer certificate path is not yet valid: certificate \"{certificate}\" is valid \
         only from {not_before}, but the validation time is {at}"
    )]
    NotYetValid {
        /// Subject (RFC 4514) of the certificate concerned.
        certificate: String,
        /// Its notBefore (RFC 3339).
        not_before: String,
        /// The validation time (RFC 3339).
        at: String,
    },

    /// A certificate of the path had expired at the validation time.
    #[error(
        "MUD signer certificate path has expired: certificate \"{certificate}\" expired at \
         {not_after}, before the validation time {at}"
    )]
    Expired {
        /// Subject (RFC 4514) of the certificate concerned.
        certificate: String,
        /// Its notAfter (RFC 3339).
        not_after: String,
        /// The validation time (RFC 3339).
        at: String,
    },

    /// The signer certificate's KeyUsage is absent or lacks `digitalSignature` (RFC 8520 §13.2).
    #[error("MUD signer certificate key usage: {0}")]
    KeyUsage(String),

    /// The signature does not verify over the given content.
    #[error("MUD signature does not verify over the MUD file: {0}")]
    BadSignature(String),

    /// The configured trust anchors could not be read.
    #[error("MUD trust anchors: {0}")]
    Anchors(String),

    /// A signature could not be produced.
    #[error("cannot sign MUD file: {0}")]
    Signing(String),

    /// OpenSSL failed for a reason unrelated to the input (e.g. memory); nothing was accepted.
    #[error("internal error while checking MUD signature: {0}")]
    Internal(String),
}

/// The certificates a MUD signature must chain to; nothing else is trusted (no system store).
#[derive(Clone)]
pub struct TrustAnchors {
    certs: Vec<X509>,
}

impl TrustAnchors {
    /// Reads one or more PEM `CERTIFICATE` blocks. Each becomes a trust anchor, self-signed or
    /// not (see the module documentation).
    pub fn from_pem(pem: &[u8]) -> Result<Self, SignatureError> {
        let certs = X509::stack_from_pem(pem).map_err(|e| {
            SignatureError::Anchors(format!(
                "cannot read PEM certificates: {}",
                openssl_reason(&e)
            ))
        })?;
        if certs.is_empty() {
            return Err(SignatureError::Anchors(
                "no PEM CERTIFICATE block found; at least one CA certificate is required".into(),
            ));
        }
        Ok(TrustAnchors { certs })
    }

    /// Number of anchors configured.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Always false: [`TrustAnchors::from_pem`] refuses an empty set.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Subjects (RFC 4514) of the anchors, for logs and diagnostics.
    pub fn subjects(&self) -> Vec<String> {
        self.certs.iter().map(|c| openssl_subject(c)).collect()
    }

    /// An OpenSSL store holding only these anchors, set up for validation at `at`:
    /// purpose `any` (see the module documentation), every anchor trusted as such
    /// (partial chains), validity checked at `at` rather than the clock.
    fn store_at(&self, at: OffsetDateTime) -> Result<X509Store, SignatureError> {
        let mut builder = X509StoreBuilder::new().map_err(internal)?;
        for cert in &self.certs {
            builder.add_cert(cert.clone()).map_err(internal)?;
        }
        let mut param = X509VerifyParam::new().map_err(internal)?;
        // `time_t` is i64 on 64-bit targets but narrower on some others.
        #[allow(clippy::useless_conversion)]
        let seconds = at.unix_timestamp().try_into().map_err(|_| {
            SignatureError::Internal(format!("validation time {} out of range", rfc3339(at)))
        })?;
        param.set_time(seconds);
        param.set_purpose(X509PurposeId::ANY).map_err(internal)?;
        param
            .set_flags(X509VerifyFlags::PARTIAL_CHAIN)
            .map_err(internal)?;
        builder.set_param(&param).map_err(internal)?;
        Ok(builder.build())
    }
}

impl fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustAnchors")
            .field("subjects", &self.subjects())
            .finish()
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verified {
    /// Subject of the signer's certificate, RFC 4514 string (e.g. `CN=x,O=y`).
    pub signer_subject: String,
    /// Issuer of the signer's certificate, RFC 4514 string.
    pub signer_issuer: String,
    /// `"id-data"` or `"id-ct-mudtype"`.
    pub content_type: String,
    /// The validation time used, RFC 3339 (UTC).
    pub validated_at: String,
    /// The signer certificate's subjectAltName dNSName entries (a MUD manager checks that the
    /// signer names the MUD URL's host, RFC 8520 §13.2).
    pub signer_dns_names: Vec<String>,
    /// SHA-256 of the signer certificate's DER, hex: the signer's identity for pinning.
    pub signer_sha256: String,
}

/// Verifies a detached DER CMS signature over `content` (a MUD file, byte for byte as fetched),
/// against `anchors` only, with certificate validity evaluated at `at` (`None`: now).
///
/// See the module documentation for the rules, in the order they are checked.
pub fn verify_detached(
    content: &[u8],
    signature_der: &[u8],
    anchors: &TrustAnchors,
    at: Option<OffsetDateTime>,
) -> Result<Verified, SignatureError> {
    // OpenSSL checks validity with whole seconds (time_t); report the instant it used.
    let at = at.unwrap_or_else(OffsetDateTime::now_utc);
    let at = at.replace_nanosecond(0).unwrap_or(at);

    // Rules 1–4: structure.
    let inspected = inspect(signature_der)?;

    // Rule 5: the signer chains to a configured anchor at `at`.
    let signer = x509_from_der(&inspected.signer_der)?;
    let others = inspected
        .other_certs_der
        .iter()
        .map(|der| x509_from_der(der))
        .collect::<Result<Vec<_>, _>>()?;
    let store = anchors.store_at(at)?;
    validate_path(&store, &signer, &others, at)?;

    // Rule 6: KeyUsage present with digitalSignature (RFC 8520 §13.2).
    check_key_usage(&inspected.signer)?;

    // Rule 7: the signature is over exactly `content`, as binary (RFC 5652 §5.4, §5.6).
    // OpenSSL validates the path again here with the same store (purpose any, time `at`), so
    // the certificate it verifies with is held to the same rules as above.
    let mut cms = CmsContentInfo::from_der(signature_der).map_err(|e| {
        SignatureError::Malformed(format!(
            "OpenSSL cannot read the CMS structure: {}",
            openssl_reason(&e)
        ))
    })?;
    cms.verify(None, Some(&store), Some(content), None, CMSOptions::BINARY)
        .map_err(|e| {
            let openssl = openssl_reason(&e);
            SignatureError::BadSignature(match digest_comparison(&inspected, content) {
                Some(Digests::Mismatch { algorithm, content, signed }) => format!(
                    "the MUD file's {algorithm} digest is {content}, but the signature was made over content whose digest is {signed} (its message-digest attribute): the MUD file is not the one that was signed (changed after signing, or the wrong file) (OpenSSL reports {openssl})"
                ),
                Some(Digests::Match { algorithm }) => format!(
                    "the MUD file's {algorithm} digest matches the signed message-digest, so the signature value itself does not verify with the signer's key (a damaged or forged signature) (OpenSSL reports {openssl})"
                ),
                None => format!("OpenSSL reports {openssl}"),
            })
        })?;

    Ok(Verified {
        signer_subject: inspected.signer.tbs_certificate.subject.to_string(),
        signer_issuer: inspected.signer.tbs_certificate.issuer.to_string(),
        content_type: inspected.content_type_name.to_string(),
        validated_at: rfc3339(at),
        signer_dns_names: signer
            .subject_alt_names()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.dnsname().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default(),
        signer_sha256: hex::encode(openssl::sha::sha256(&inspected.signer_der)),
    })
}

/// Signs `content` (a MUD file) as RFC 8520 §13.1 describes: DER CMS SignedData, detached,
/// binary, SHA-256, with the signer certificate and `extra_certs_pem` (intermediates, PEM, any
/// number) included. `key_pem` is an unencrypted PEM private key (PKCS#8 or traditional RSA/EC)
/// matching `cert_pem`; an encrypted key is refused, never prompted for.
pub fn sign_detached(
    content: &[u8],
    key_pem: &[u8],
    cert_pem: &[u8],
    extra_certs_pem: Option<&[u8]>,
) -> Result<Vec<u8>, SignatureError> {
    // Returning an empty passphrase keeps OpenSSL from prompting on a terminal for an
    // encrypted key; such a key then fails to decrypt and is reported, without its bytes.
    let key = PKey::private_key_from_pem_callback(key_pem, |_buf| Ok(0)).map_err(|e| {
        SignatureError::Signing(format!(
            "cannot read the private key (unencrypted PEM expected): {}",
            openssl_reason(&e)
        ))
    })?;
    let cert = X509::from_pem(cert_pem).map_err(|e| {
        SignatureError::Signing(format!(
            "cannot read the signer certificate PEM: {}",
            openssl_reason(&e)
        ))
    })?;
    let cert_der = cert.to_der().map_err(internal)?;
    let parsed = Certificate::from_der(&cert_der).map_err(|e| {
        SignatureError::Signing(format!("cannot decode the signer certificate: {e}"))
    })?;
    check_key_usage(&parsed)?;

    let extra = match extra_certs_pem {
        None => None,
        Some(pem) => {
            let certs = X509::stack_from_pem(pem).map_err(|e| {
                SignatureError::Signing(format!(
                    "cannot read the extra certificates PEM: {}",
                    openssl_reason(&e)
                ))
            })?;
            let mut stack = Stack::new().map_err(internal)?;
            for c in certs {
                stack.push(c).map_err(internal)?;
            }
            Some(stack)
        }
    };

    // CMS_sign: detached (no eContent), binary (no CRLF canonicalisation), no S/MIME
    // capabilities attribute (meaningless for a MUD file). OpenSSL 3 picks SHA-256 for RSA and
    // EC keys; this is checked below rather than assumed.
    let flags = CMSOptions::DETACHED | CMSOptions::BINARY | CMSOptions::NOSMIMECAP;
    let signed = CmsContentInfo::sign(
        Some(&cert),
        Some(&key),
        extra.as_deref(),
        Some(content),
        flags,
    )
    .map_err(|e| SignatureError::Signing(openssl_reason(&e)))?;
    let der = signed.to_der().map_err(internal)?;

    let inspected = inspect(&der).map_err(|e| {
        SignatureError::Signing(format!("OpenSSL produced an unusable signature: {e}"))
    })?;
    if inspected.digest_oid != ID_SHA256 {
        return Err(SignatureError::Signing(format!(
            "OpenSSL chose digest {} for this key; only SHA-256 ({ID_SHA256}) is produced",
            inspected.digest_oid
        )));
    }
    Ok(der)
}

/// What rules 1–4 extract from a signature, before any cryptography.
struct Inspected {
    content_type_name: &'static str,
    signer: Certificate,
    signer_der: Vec<u8>,
    other_certs_der: Vec<Vec<u8>>,
    digest_oid: ObjectIdentifier,
    /// The signed `message-digest` attribute (RFC 5652 §11.2), when there is exactly one.
    signed_digest: Option<Vec<u8>>,
}

/// `id-messageDigest` signed attribute (RFC 5652 §11.2).
const ID_MESSAGE_DIGEST_ATTR: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// The content's digest against the signed one, to say why a signature failed.
enum Digests {
    Mismatch {
        algorithm: &'static str,
        content: String,
        signed: String,
    },
    Match {
        algorithm: &'static str,
    },
}

/// Compare the content's digest (the signer's digest algorithm) with the signed
/// `message-digest` attribute; `None` when there is none or the algorithm is not one of the
/// SHA family OpenSSL computes here. For the error message only: the verdict is OpenSSL's.
fn digest_comparison(inspected: &Inspected, content: &[u8]) -> Option<Digests> {
    use openssl::hash::{hash, MessageDigest};
    let signed = inspected.signed_digest.as_ref()?;
    let (algorithm, md) = match inspected.digest_oid.to_string().as_str() {
        "2.16.840.1.101.3.4.2.1" => ("SHA-256", MessageDigest::sha256()),
        "2.16.840.1.101.3.4.2.2" => ("SHA-384", MessageDigest::sha384()),
        "2.16.840.1.101.3.4.2.3" => ("SHA-512", MessageDigest::sha512()),
        "2.16.840.1.101.3.4.2.4" => ("SHA-224", MessageDigest::sha224()),
        "1.3.14.3.2.26" => ("SHA-1", MessageDigest::sha1()),
        _ => return None,
    };
    let actual = hash(md, content).ok()?;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    Some(if actual.as_ref() == signed.as_slice() {
        Digests::Match { algorithm }
    } else {
        Digests::Mismatch {
            algorithm,
            content: hex(&actual),
            signed: hex(signed),
        }
    })
}

/// The one `message-digest` signed attribute's value (an OCTET STRING), if present.
fn signed_message_digest(signer_info: &SignerInfo) -> Option<Vec<u8>> {
    use cms::cert::x509::der::asn1::OctetString;
    let attrs = signer_info.signed_attrs.as_ref()?;
    let mut found = attrs.iter().filter(|a| a.oid == ID_MESSAGE_DIGEST_ATTR);
    let (Some(attr), None) = (found.next(), found.next()) else {
        return None;
    };
    let mut values = attr.values.iter();
    let (Some(v), None) = (values.next(), values.next()) else {
        return None;
    };
    v.decode_as::<OctetString>()
        .ok()
        .map(|o| o.as_bytes().to_vec())
}

/// Rules 1–4: structure, detachment, content type, signer certificate lookup.
fn inspect(signature_der: &[u8]) -> Result<Inspected, SignatureError> {
    // Rule 1 (RFC 5652 §3, §5.1; RFC 8520 §13.1: DER).
    let content_info = ContentInfo::from_der(signature_der).map_err(|e| {
        SignatureError::Malformed(format!(
            "not a DER-encoded CMS ContentInfo ({e}); RFC 8520 §13.1 requires a DER CMS \
             SignedData"
        ))
    })?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(SignatureError::Malformed(format!(
            "ContentInfo holds {}, not SignedData ({ID_SIGNED_DATA})",
            content_info.content_type
        )));
    }
    let signed_data: SignedData = content_info
        .content
        .decode_as()
        .map_err(|e| SignatureError::Malformed(format!("cannot decode SignedData: {e}")))?;

    // Rule 2 (RFC 5652 §5.2: eContent is omitted for an external signature).
    let encap = &signed_data.encap_content_info;
    if encap.econtent.is_some() {
        return Err(SignatureError::NotDetached);
    }

    // Rule 3.
    let content_type_name = content_type_name(&encap.econtent_type)?;

    // Rule 4 (RFC 5652 §5.3): one signer, whose content-type attribute, if signed attributes
    // are present, must be there and equal eContentType (RFC 5652 §11.1).
    let signer_infos = signed_data.signer_infos.0.as_slice();
    let signer_info: &SignerInfo = match signer_infos {
        [one] => one,
        _ => {
            return Err(SignatureError::Malformed(format!(
                "expected exactly one SignerInfo, found {}",
                signer_infos.len()
            )))
        }
    };
    check_content_type_attribute(signer_info, &encap.econtent_type)?;

    // Rule 5, first half: the signer certificate must be carried in the SignedData.
    let certs: Vec<&Certificate> = signed_data
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|choice| match choice {
                    CertificateChoices::Certificate(c) => Some(c),
                    CertificateChoices::Other(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let signer = find_signer(&certs, &signer_info.sid).ok_or_else(|| {
        SignatureError::UntrustedChain(format!(
            "the signer's certificate ({}) is not included in the signature's certificates, \
             so no path to a trust anchor can be built",
            describe_sid(&signer_info.sid)
        ))
    })?;

    let der_of = |c: &Certificate| {
        c.to_der()
            .map_err(|e| SignatureError::Malformed(format!("cannot re-encode certificate: {e}")))
    };
    let signer_der = der_of(signer)?;
    let other_certs_der = certs
        .iter()
        .filter(|c| !std::ptr::eq(**c, signer))
        .map(|c| der_of(c))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Inspected {
        content_type_name,
        signer: signer.clone(),
        signer_der,
        other_certs_der,
        digest_oid: signer_info.digest_alg.oid,
        signed_digest: signed_message_digest(signer_info),
    })
}

/// Rule 3: the names [`Verified::content_type`] uses for the two accepted content types.
fn content_type_name(oid: &ObjectIdentifier) -> Result<&'static str, SignatureError> {
    match oid.to_string().as_str() {
        ID_DATA => Ok("id-data"),
        ID_CT_MUDTYPE => Ok("id-ct-mudtype"),
        other => Err(SignatureError::WrongContentType(other.to_string())),
    }
}

/// Rule 4, RFC 5652 §11.1: with signed attributes, exactly one content-type attribute, with
/// one value, equal to eContentType.
fn check_content_type_attribute(
    signer_info: &SignerInfo,
    econtent_type: &ObjectIdentifier,
) -> Result<(), SignatureError> {
    let Some(attrs) = &signer_info.signed_attrs else {
        return Ok(());
    };
    let mut found = attrs.iter().filter(|a| a.oid == ID_CONTENT_TYPE_ATTR);
    let (Some(attr), None) = (found.next(), found.next()) else {
        return Err(SignatureError::Malformed(
            "signed attributes must contain exactly one content-type attribute (RFC 5652 §11.1)"
                .into(),
        ));
    };
    let values = attr.values.as_slice();
    let [value] = values else {
        return Err(SignatureError::Malformed(
            "the content-type signed attribute must have exactly one value (RFC 5652 §11.1)".into(),
        ));
    };
    let signed_type: ObjectIdentifier = value.decode_as().map_err(|e| {
        SignatureError::Malformed(format!("content-type signed attribute is not an OID: {e}"))
    })?;
    if &signed_type != econtent_type {
        return Err(SignatureError::WrongContentType(format!(
            "{signed_type} (signed content-type attribute; eContentType says {econtent_type}, \
             RFC 5652 §11.1 requires them equal)"
        )));
    }
    Ok(())
}

/// RFC 5652 §5.3: `sid` names the signer by issuer and serial number, or by subject key
/// identifier.
fn find_signer<'a>(certs: &[&'a Certificate], sid: &SignerIdentifier) -> Option<&'a Certificate> {
    certs.iter().copied().find(|cert| {
        let tbs = &cert.tbs_certificate;
        match sid {
            SignerIdentifier::IssuerAndSerialNumber(isn) => {
                tbs.issuer == isn.issuer && tbs.serial_number == isn.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                matches!(tbs.get::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
            }
        }
    })
}

fn describe_sid(sid: &SignerIdentifier) -> String {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            format!("issuer \"{}\", serial {}", isn.issuer, isn.serial_number)
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            let hex: String = ski
                .0
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("subject key identifier {hex}")
        }
    }
}

/// Rule 5: RFC 5280 §6 path validation by OpenSSL, from `signer` through `intermediates` to
/// an anchor in `store`, at the store's time. Expiry and not-yet-valid are reported apart.
fn validate_path(
    store: &X509Store,
    signer: &X509,
    intermediates: &[X509],
    at: OffsetDateTime,
) -> Result<(), SignatureError> {
    let mut chain = Stack::new().map_err(internal)?;
    for cert in intermediates {
        chain.push(cert.clone()).map_err(internal)?;
    }
    let mut ctx = X509StoreContext::new().map_err(internal)?;
    ctx.init(store, signer, &chain, |ctx| {
        Ok(match ctx.verify_cert()? {
            true => Ok(()),
            false => Err(path_error(ctx, at)),
        })
    })
    .map_err(internal)?
}

fn path_error(ctx: &X509StoreContextRef, at: OffsetDateTime) -> SignatureError {
    let result = ctx.error();
    let current = ctx.current_cert().and_then(|c| {
        let der = c.to_der().ok()?;
        Certificate::from_der(&der).ok()
    });
    let subject = current
        .as_ref()
        .map(|c| c.tbs_certificate.subject.to_string())
        .unwrap_or_else(|| "(unknown)".into());
    let validity = current.as_ref().map(|c| &c.tbs_certificate.validity);
    match (result.as_raw(), validity) {
        (openssl_sys::X509_V_ERR_CERT_HAS_EXPIRED, Some(v)) => SignatureError::Expired {
            certificate: subject,
            not_after: rfc3339_from_x509(v.not_after),
            at: rfc3339(at),
        },
        (openssl_sys::X509_V_ERR_CERT_NOT_YET_VALID, Some(v)) => SignatureError::NotYetValid {
            certificate: subject,
            not_before: rfc3339_from_x509(v.not_before),
            at: rfc3339(at),
        },
        _ => SignatureError::UntrustedChain(format!(
            "{} (certificate \"{subject}\", depth {} in the path from the signer)",
            result.error_string(),
            ctx.error_depth()
        )),
    }
}

/// Rule 6 (RFC 8520 §13.2): "The Key Usage Extension in the signer's certificate MUST be
/// present and have the bit digitalSignature(0) set."
fn check_key_usage(cert: &Certificate) -> Result<(), SignatureError> {
    let subject = cert.tbs_certificate.subject.to_string();
    match cert.tbs_certificate.get::<KeyUsage>() {
        Ok(Some((_critical, usage))) if usage.digital_signature() => Ok(()),
        Ok(Some((_critical, usage))) => {
            let names: Vec<String> = usage.0.into_iter().map(key_usage_name).collect();
            Err(SignatureError::KeyUsage(format!(
                "certificate \"{subject}\" has KeyUsage [{}] without digitalSignature, which \
                 RFC 8520 §13.2 requires of a MUD signer",
                names.join(", ")
            )))
        }
        Ok(None) => Err(SignatureError::KeyUsage(format!(
            "certificate \"{subject}\" has no KeyUsage extension; RFC 8520 §13.2 requires it, \
             with digitalSignature set, on a MUD signer"
        ))),
        Err(e) => Err(SignatureError::KeyUsage(format!(
            "certificate \"{subject}\" has an unreadable or repeated KeyUsage extension: {e}"
        ))),
    }
}

fn key_usage_name(bit: KeyUsages) -> String {
    let name = match bit {
        KeyUsages::DigitalSignature => "digitalSignature",
        KeyUsages::NonRepudiation => "nonRepudiation",
        KeyUsages::KeyEncipherment => "keyEncipherment",
        KeyUsages::DataEncipherment => "dataEncipherment",
        KeyUsages::KeyAgreement => "keyAgreement",
        KeyUsages::KeyCertSign => "keyCertSign",
        KeyUsages::CRLSign => "cRLSign",
        KeyUsages::EncipherOnly => "encipherOnly",
        KeyUsages::DecipherOnly => "decipherOnly",
    };
    name.to_string()
}

fn x509_from_der(der: &[u8]) -> Result<X509, SignatureError> {
    X509::from_der(der).map_err(|e| {
        SignatureError::Malformed(format!(
            "OpenSSL cannot read a certificate in the signature: {}",
            openssl_reason(&e)
        ))
    })
}

/// RFC 4514 subject of an OpenSSL certificate (via its DER), for diagnostics.
fn openssl_subject(cert: &X509Ref) -> String {
    cert.to_der()
        .ok()
        .and_then(|der| Certificate::from_der(&der).ok())
        .map(|c| c.tbs_certificate.subject.to_string())
        .unwrap_or_else(|| "(unreadable certificate)".into())
}

fn rfc3339_from_x509(t: cms::cert::x509::time::Time) -> String {
    let secs = t.to_unix_duration().as_secs();
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .map(rfc3339)
        .unwrap_or_else(|| format!("{secs} (Unix time)"))
}

/// OpenSSL's reasons, with their detail strings (e.g. "Verify error:..."), deduplicated;
/// no source file names or codes. OpenSSL never puts key material in these.
fn openssl_reason(e: &ErrorStack) -> String {
    let mut parts: Vec<String> = Vec::new();
    for err in e.errors() {
        let part = match (err.reason(), err.data()) {
            (Some(reason), Some(data)) if !data.is_empty() => format!("{reason} ({data})"),
            (Some(reason), _) => reason.to_string(),
            (None, _) => format!("OpenSSL error {:#x}", err.code()),
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    if parts.is_empty() {
        "OpenSSL gave no reason".into()
    } else {
        parts.join("; ")
    }
}

fn internal(e: ErrorStack) -> SignatureError {
    SignatureError::Internal(openssl_reason(&e))
}

/// A throwaway certificate authority and signer, for trying the signing flow (`trustgate demo`)
/// without a vendor PKI. Never use it to publish: the CA lives one day and its key is dropped.
pub struct EphemeralPki {
    /// The CA certificate to configure as a trust anchor.
    pub ca_cert_pem: Vec<u8>,
    /// The signer's private key (PKCS#8 PEM) and certificate, issued by the CA with KeyUsage
    /// digitalSignature as RFC 8520 §13.2 requires.
    pub signer_key_pem: Vec<u8>,
    /// The signer's certificate (PEM).
    pub signer_cert_pem: Vec<u8>,
}

/// Create an [`EphemeralPki`] whose certificates name `organization`.
pub fn ephemeral_pki(organization: &str) -> Result<EphemeralPki, SignatureError> {
    ephemeral_pki_for_hosts(organization, &[])
}

/// Like [`ephemeral_pki`], with the signer certificate naming `hosts` in its subjectAltName
/// (dNSName), as a MUD manager expects of the signer for MUD URLs on those hosts.
pub fn ephemeral_pki_for_hosts(
    organization: &str,
    hosts: &[&str],
) -> Result<EphemeralPki, SignatureError> {
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::x509::extension::{BasicConstraints, KeyUsage as KeyUsageExt};
    use openssl::x509::{X509Builder, X509NameBuilder};

    let err = |e: ErrorStack| SignatureError::Signing(format!("creating demo certificates: {e}"));
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(err)?;
    let new_key = || -> Result<PKey<openssl::pkey::Private>, ErrorStack> {
        PKey::from_ec_key(EcKey::generate(&group)?)
    };
    let name = |cn: &str| -> Result<openssl::x509::X509Name, ErrorStack> {
        let mut b = X509NameBuilder::new()?;
        b.append_entry_by_nid(Nid::ORGANIZATIONNAME, organization)?;
        b.append_entry_by_nid(Nid::COMMONNAME, cn)?;
        Ok(b.build())
    };
    let build = |subject: &openssl::x509::X509Name,
                 issuer: &openssl::x509::X509Name,
                 key: &PKey<openssl::pkey::Private>,
                 signing_key: &PKey<openssl::pkey::Private>,
                 ca: bool|
     -> Result<X509, ErrorStack> {
        let mut b = X509Builder::new()?;
        b.set_version(2)?;
        let mut serial = BigNum::new()?;
        serial.rand(64, MsbOption::MAYBE_ZERO, false)?;
        let serial = serial.to_asn1_integer()?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(subject)?;
        b.set_issuer_name(issuer)?;
        b.set_pubkey(key)?;
        // Backdated an hour so clock skew between demo steps cannot make it "not yet valid".
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let not_before = Asn1Time::from_unix(now - 3600)?;
        let not_after = Asn1Time::days_from_now(30)?;
        b.set_not_before(&not_before)?;
        b.set_not_after(&not_after)?;
        if ca {
            b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
            b.append_extension(
                KeyUsageExt::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()?,
            )?;
        } else {
            b.append_extension(KeyUsageExt::new().critical().digital_signature().build()?)?;
            if !hosts.is_empty() {
                let mut san = openssl::x509::extension::SubjectAlternativeName::new();
                for h in hosts {
                    san.dns(h);
                }
                let ext = san.build(&b.x509v3_context(None, None))?;
                b.append_extension(ext)?;
            }
        }
        b.sign(signing_key, MessageDigest::sha256())?;
        Ok(b.build())
    };
    let ca_key = new_key().map_err(err)?;
    let ca_name = name("demo MUD signing CA").map_err(err)?;
    let ca = build(&ca_name, &ca_name, &ca_key, &ca_key, true).map_err(err)?;
    let signer_key = new_key().map_err(err)?;
    let signer_name = name("demo MUD signer").map_err(err)?;
    let signer = build(&signer_name, &ca_name, &signer_key, &ca_key, false).map_err(err)?;
    Ok(EphemeralPki {
        ca_cert_pem: ca.to_pem().map_err(err)?,
        signer_key_pem: signer_key.private_key_to_pem_pkcs8().map_err(err)?,
        signer_cert_pem: signer.to_pem().map_err(err)?,
    })
}
