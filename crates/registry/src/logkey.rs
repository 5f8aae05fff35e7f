//! The log's signing key file: the signed-note signer key text
//! `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>` (golang.org/x/mod
//! sumdb/note), one line, mode 600. Created on first start, never printed or logged.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tlog::NoteSigner;
use zeroize::Zeroizing;

/// Why the key file could not be read or created.
#[derive(Debug, thiserror::Error)]
pub enum LogKeyError {
    /// File system.
    #[error("log key file {path}: {err}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        err: std::io::Error,
    },
    /// Not a signer key (the content is never echoed).
    #[error("log key file {0} is not a signed-note signer key (PRIVATE+KEY+name+id+key)")]
    Format(String),
    /// Bad log name.
    #[error("log name {0:?}: {1}")]
    Name(String, String),
}

/// A fresh signer key text for a log named `name` (the checkpoint origin).
pub fn generate(name: &str) -> Result<Zeroizing<String>, LogKeyError> {
    let key = label::generate_key().map_err(|e| LogKeyError::Name(name.into(), e.to_string()))?;
    let seed = Zeroizing::new(key.to_bytes());
    let id = tlog::note::ed25519_key_id(name, key.verifying_key().as_bytes());
    let mut raw = Zeroizing::new(vec![0x01u8]);
    raw.extend_from_slice(&seed[..]);
    let text = Zeroizing::new(format!(
        "PRIVATE+KEY+{name}+{id:08x}+{}",
        STANDARD.encode(&raw[..])
    ));
    NoteSigner::parse(&text).map_err(|e| LogKeyError::Name(name.into(), e.to_string()))?;
    Ok(text)
}

/// Reads the signer key at `path`, or creates it (mode 600, never overwriting) for a log named
/// `name` when the file does not exist. Returns the signer and whether it was created. The
/// verifier key is written beside it as `<path>.pub`.
pub fn load_or_create(path: &Path, name: &str) -> Result<(NoteSigner, bool), LogKeyError> {
    let io = |err| LogKeyError::Io {
        path: path.display().to_string(),
        err,
    };
    let created = if path.exists() {
        false
    } else {
        let text = generate(name)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.write_all(b"\n").map_err(io)?;
        f.sync_all().map_err(io)?;
        true
    };
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
    let signer = NoteSigner::parse(text.trim())
        .map_err(|_| LogKeyError::Format(path.display().to_string()))?;
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    std::fs::write(&pub_path, format!("{}\n", signer.verifier_key())).map_err(io)?;
    Ok((signer, created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_mode_600_and_reloaded() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.key");
        let (a, created) = load_or_create(&p, "registry.test/log").unwrap();
        assert!(created);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (b, created) = load_or_create(&p, "registry.test/log").unwrap();
        assert!(!created);
        assert_eq!(a.verifier_key(), b.verifier_key());
        let vkey = std::fs::read_to_string(dir.path().join("log.key.pub")).unwrap();
        assert_eq!(vkey.trim(), a.verifier_key().to_string());
        assert!(format!("{a:?}").len() < 80, "Debug must not print the key");
    }

    #[test]
    fn garbage_is_refused_without_echo() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.key");
        std::fs::write(&p, "PRIVATE+KEY+secretstuff").unwrap();
        let e = load_or_create(&p, "x").unwrap_err().to_string();
        assert!(!e.contains("secretstuff"), "{e}");
    }
}
