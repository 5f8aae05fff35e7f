//! The manager's files under the state directory. Storage contract: every file is written to
//! a temporary name, synced and renamed, so a crash leaves the old or the new file; nothing read
//! back is trusted — cached MUD files are verified again (signature, trust policy, strict
//! parse) and cached registry answers are checked again against their proofs before use.
//!
//! ```text
//! STATE/mud/signers.json          first-seen signer per MUD URL (trust::Pins)
//! STATE/mud/<key>.json            the MUD file, byte for byte as fetched
//! STATE/mud/<key>.p7s             its detached signature
//! STATE/mud/<key>.meta.json       URL, validators, fetch time, expiry (cache-validity)
//! STATE/labels/<key>.json         the registry's lookup answer for the URL, as received
//! STATE/labels/checkpoint         the newest log checkpoint seen (signed note), proven
//!                                 consistent with every earlier one
//! ```
//! `<key>` is the SHA-256 of the MUD URL, hex.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` atomically (temporary file, fsync, rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The cache key of a URL.
pub(crate) fn key(url: &str) -> String {
    hex::encode(Sha256::digest(url.as_bytes()))
}

/// What is known about a cached MUD file besides its bytes.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Meta {
    pub url: String,
    #[serde(default)]
    pub validators: crate::fetch::Validators,
    /// Unix seconds.
    pub fetched_at: i64,
    /// Unix seconds: fetched_at + cache-validity.
    pub expires_at: i64,
}

/// A cached MUD file as read back: (meta, file, signature), not yet verified.
pub(crate) type CachedMud = (Meta, Vec<u8>, Vec<u8>);

/// Paths of the manager's files.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub mud: PathBuf,
    pub labels: PathBuf,
}

impl Layout {
    pub fn new(state_dir: &Path) -> Self {
        Layout {
            mud: state_dir.join("mud"),
            labels: state_dir.join("labels"),
        }
    }

    pub fn pins(&self) -> PathBuf {
        self.mud.join("signers.json")
    }

    pub fn checkpoint(&self) -> PathBuf {
        self.labels.join("checkpoint")
    }

    pub fn save_mud(&self, meta: &Meta, file: &[u8], sig: &[u8]) -> std::io::Result<()> {
        let k = key(&meta.url);
        write_atomic(&self.mud.join(format!("{k}.json")), file)?;
        write_atomic(&self.mud.join(format!("{k}.p7s")), sig)?;
        write_atomic(
            &self.mud.join(format!("{k}.meta.json")),
            &serde_json::to_vec_pretty(meta).unwrap_or_default(),
        )
    }

    /// Every cached MUD file: (meta, file, signature). Unreadable entries are skipped with a
    /// warning (they will be fetched again).
    pub fn load_mud(&self) -> (Vec<CachedMud>, Vec<String>) {
        let mut out = vec![];
        let mut warnings = vec![];
        let Ok(dir) = std::fs::read_dir(&self.mud) else {
            return (out, warnings);
        };
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let Some(k) = name.strip_suffix(".meta.json") else {
                continue;
            };
            let read = || -> Result<(Meta, Vec<u8>, Vec<u8>), String> {
                let meta: Meta =
                    serde_json::from_slice(&std::fs::read(e.path()).map_err(|e| e.to_string())?)
                        .map_err(|e| e.to_string())?;
                if key(&meta.url) != k {
                    return Err("its URL does not match its name".into());
                }
                let file =
                    std::fs::read(self.mud.join(format!("{k}.json"))).map_err(|e| e.to_string())?;
                let sig =
                    std::fs::read(self.mud.join(format!("{k}.p7s"))).map_err(|e| e.to_string())?;
                Ok((meta, file, sig))
            };
            match read() {
                Ok(x) => out.push(x),
                Err(why) => warnings.push(format!(
                    "cached MUD file {}: not used ({why}); it will be fetched again",
                    e.path().display()
                )),
            }
        }
        (out, warnings)
    }

    pub fn save_label(&self, url: &str, answer: &[u8]) -> std::io::Result<()> {
        write_atomic(&self.labels.join(format!("{}.json", key(url))), answer)
    }

    pub fn load_label(&self, url: &str) -> Option<Vec<u8>> {
        std::fs::read(self.labels.join(format!("{}.json", key(url)))).ok()
    }
}
