//! Assessor key files for `trustgate keygen`.
//!
//! - Private keys: PKCS#8 v1 `PRIVATE KEY` PEM (RFC 5958, RFC 8410 §7 for
//!   Ed25519), written and read through ed25519-dalek's `pkcs8` support.
//! - Public keys: SubjectPublicKeyInfo `PUBLIC KEY` PEM (RFC 8410 §4).
//!
//! Secrets are never logged: the PEM text is returned in a
//! [`zeroize::Zeroizing`] buffer that is wiped on drop, parse errors never
//! echo the input, and ed25519-dalek's `SigningKey` `Debug` prints only the
//! public half (tested in `tests/keys.rs`).
//!
//! [`signing_key_from_file`] is the one place this crate touches a file: reading a private key
//! means checking, as ssh does, that nobody but its owner can read it, and every caller must
//! do that the same way.

use ed25519_dalek::pkcs8::{
    spki::der::pem::LineEnding, DecodePrivateKey, DecodePublicKey, EncodePrivateKey,
    EncodePublicKey,
};
use ed25519_dalek::{SigningKey, VerifyingKey, SECRET_KEY_LENGTH};
use zeroize::{Zeroize, Zeroizing};

use crate::error::KeyError;

/// Largest private key file read (a PKCS#8 Ed25519 PEM is 119 bytes).
const MAX_KEY_FILE: u64 = 16 * 1024;

/// Reads a PKCS#8 PEM private key file, refusing it when its permissions let group or others
/// read or write it (mode bits `0o077`), as ssh refuses such identity files: a key others can
/// read may already be known to them. The error says which file and how to fix it.
pub fn signing_key_from_file(path: &std::path::Path) -> Result<SigningKey, KeyError> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| KeyError::File {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    // The mode of the file actually opened (no window between check and read).
    let meta = file.metadata().map_err(|e| KeyError::File {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    if !meta.is_file() {
        return Err(KeyError::File {
            path: shown,
            reason: "not a regular file".into(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        // A public key (readable by all, rightly) given where the private key belongs: say
        // that, not "chmod 600". Nothing secret is read: the file is refused either way.
        let mut head = String::new();
        let _ = (&file).take(64).read_to_string(&mut head);
        if head.trim_start().starts_with("-----BEGIN PUBLIC KEY-----") {
            return Err(KeyError::Parse(format!(
                "{shown}: {}",
                key_words(&head, true)
            )));
        }
        return Err(KeyError::Permissions { path: shown, mode });
    }
    if meta.len() > MAX_KEY_FILE {
        return Err(KeyError::File {
            path: shown,
            reason: format!("{} bytes; a key file is at most {MAX_KEY_FILE}", meta.len()),
        });
    }
    let mut pem = Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE)
        .read_to_string(&mut pem)
        .map_err(|e| KeyError::File {
            path: shown.clone(),
            reason: format!("not PEM text ({e})"),
        })?;
    signing_key_from_pem(&pem).map_err(|e| match e {
        KeyError::Parse(m) => KeyError::Parse(format!("{shown}: {m}")),
        other => other,
    })
}

/// A fresh Ed25519 signing key from the operating system's random source.
pub fn generate_key() -> Result<SigningKey, KeyError> {
    let mut seed = [0u8; SECRET_KEY_LENGTH];
    getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    seed.zeroize();
    Ok(key)
}

/// The private key as PKCS#8 PEM (LF line endings).
pub fn signing_key_to_pem(key: &SigningKey) -> Result<Zeroizing<String>, KeyError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Encode(e.to_string()))
}

/// Read a PKCS#8 PEM private key.
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|_| KeyError::Parse(key_words(pem, true)))
}

/// Why a key file was refused, in words: what was expected and what it looks like instead
/// (never the library's OID-level message, never the key material).
fn key_words(pem: &str, private: bool) -> String {
    let expected = if private {
        "expected an Ed25519 private key from `trustgate keygen` (a PEM file starting with -----BEGIN PRIVATE KEY-----)"
    } else {
        "expected an Ed25519 public key from `trustgate keygen` (the .pub file, PEM starting with -----BEGIN PUBLIC KEY-----)"
    };
    let label = pem.lines().map(str::trim).find_map(|l| {
        l.strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
    });
    let found = match label {
        None => "it is not a PEM key file".to_string(),
        Some("PUBLIC KEY") if private => {
            "it is a public key; sign with the private key (the file without .pub)".to_string()
        }
        Some("PRIVATE KEY") if !private => {
            "it is a private key; give the public key (.pub) here and keep the private key to yourself"
                .to_string()
        }
        Some(l @ ("PRIVATE KEY" | "PUBLIC KEY")) => {
            format!("it is a {} of another algorithm (RSA, ECDSA ...) or damaged", l.to_lowercase())
        }
        Some(other) => format!("it holds a {other:?} block, of another type"),
    };
    format!("{expected}; {found}")
}

/// The public key as SubjectPublicKeyInfo PEM.
pub fn verifying_key_to_pem(key: &VerifyingKey) -> Result<String, KeyError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeyError::Encode(e.to_string()))
}

/// Read a SubjectPublicKeyInfo PEM public key.
pub fn verifying_key_from_pem(pem: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_public_key_pem(pem).map_err(|_| KeyError::Parse(key_words(pem, false)))
}
