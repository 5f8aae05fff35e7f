//! Who may speak for a MUD URL. A MUD file counts only when its detached signature (RFC 8520
//! §13) verifies against a configured manufacturer trust anchor, its signer certificate names
//! the URL's host in a subjectAltName dNSName (or a configured mapping says that signer speaks
//! for that host), and — once a signer has been seen for a URL — it is that same signer
//! (first-seen pinning: a later file signed by another certificate is refused and reported,
//! since a second valid signer for one device is what a compromised CA or a takeover looks
//! like). Pins live in `STATE/mud/signers.json` and survive restarts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A signer allowed to speak for hosts its certificate does not name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SignerMapping {
    /// A dNSName the signer certificate carries (e.g. `mud-signing.acme.example`).
    pub signer: String,
    /// The MUD URL hosts it may sign for (e.g. `cdn.acme-devices.example`).
    pub hosts: Vec<String>,
}

/// Why a verified signature still does not count.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrustRefusal {
    /// The signer names no dNSName matching the URL's host, and no mapping allows it.
    #[error("the signer ({subject}) does not name {host} (its certificate names {names}), and no signer mapping lets it speak for that host")]
    SignerNotForHost {
        /// The URL's host.
        host: String,
        /// The signer's subject.
        subject: String,
        /// Its dNSNames, comma-separated (or "no DNS name").
        names: String,
    },
    /// Another certificate signed this URL's file before.
    #[error("signed by {now_subject} (certificate {now}), but this MUD URL was signed by certificate {pinned} ({pinned_subject}) when first seen; a different signer for the same URL is refused")]
    SignerChanged {
        /// SHA-256 of the first signer's certificate.
        pinned: String,
        /// Its subject.
        pinned_subject: String,
        /// SHA-256 of this signer's certificate.
        now: String,
        /// Its subject.
        now_subject: String,
    },
}

/// Whether a dNSName (possibly `*.example.com`) names `host` (RFC 6125 §6.4.3: the wildcard
/// covers exactly one leftmost label).
fn names_host(name: &str, host: &str) -> bool {
    let (name, host) = (name.to_ascii_lowercase(), host.to_ascii_lowercase());
    match name.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => name == host,
    }
}

/// Checks the signer of `verified` may speak for `host`.
pub fn check_signer_host(
    verified: &mud::signature::Verified,
    host: &str,
    mappings: &[SignerMapping],
) -> Result<(), TrustRefusal> {
    let names = &verified.signer_dns_names;
    if names.iter().any(|n| names_host(n, host)) {
        return Ok(());
    }
    let mapped = mappings.iter().any(|m| {
        names.iter().any(|n| n.eq_ignore_ascii_case(&m.signer))
            && m.hosts.iter().any(|h| names_host(h, host))
    });
    if mapped {
        return Ok(());
    }
    Err(TrustRefusal::SignerNotForHost {
        host: host.to_string(),
        subject: verified.signer_subject.clone(),
        names: if names.is_empty() {
            "no DNS name".into()
        } else {
            names.join(", ")
        },
    })
}

/// The first signer seen for a URL.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Pin {
    /// SHA-256 of its certificate (DER), hex.
    pub sha256: String,
    /// Its subject, for messages.
    pub subject: String,
}

/// First-seen signer pins, one per MUD URL, saved as JSON (written to a temporary file and
/// renamed, so a crash leaves the old or the new file, never half of one).
#[derive(Debug)]
pub struct Pins {
    path: PathBuf,
    pins: BTreeMap<String, Pin>,
}

impl Pins {
    /// Read the pins in `path` (missing: none yet). A corrupt file is an error, not an empty
    /// set: forgetting pins would let any anchored signer take over a URL.
    pub fn load(path: &Path) -> Result<Self, String> {
        let pins = match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| format!("{}: not a signer pin file: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Ok(Pins {
            path: path.to_path_buf(),
            pins,
        })
    }

    /// Check `verified` against the pin for `url`, pinning it when there is none yet.
    pub fn check_and_pin(
        &mut self,
        url: &str,
        verified: &mud::signature::Verified,
    ) -> Result<(), String> {
        match self.pins.get(url) {
            Some(p) if p.sha256 == verified.signer_sha256 => Ok(()),
            Some(p) => Err(TrustRefusal::SignerChanged {
                pinned: p.sha256.clone(),
                pinned_subject: p.subject.clone(),
                now: verified.signer_sha256.clone(),
                now_subject: verified.signer_subject.clone(),
            }
            .to_string()),
            None => {
                self.pins.insert(
                    url.to_string(),
                    Pin {
                        sha256: verified.signer_sha256.clone(),
                        subject: verified.signer_subject.clone(),
                    },
                );
                crate::cache::write_atomic(
                    &self.path,
                    &serde_json::to_vec_pretty(&self.pins).unwrap_or_default(),
                )
                .map_err(|e| format!("cannot save the signer pin in {}: {e}", self.path.display()))
            }
        }
    }

    /// The pin for `url`, if any.
    pub fn get(&self, url: &str) -> Option<&Pin> {
        self.pins.get(url)
    }
}

#[cfg(test)]
mod tests {
    use super::names_host;

    #[test]
    fn wildcards_cover_one_label_only() {
        assert!(names_host("mud.acme.example", "MUD.acme.example"));
        assert!(names_host("*.acme.example", "mud.acme.example"));
        assert!(!names_host("*.acme.example", "acme.example"));
        assert!(!names_host("*.acme.example", "a.b.acme.example"));
        assert!(!names_host("acme.example", "evil-acme.example"));
    }
}
