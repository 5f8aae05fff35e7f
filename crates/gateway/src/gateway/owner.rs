//! The owner's requests: what a household may ask of its gateway (from the dashboard or the
//! `trustgate gateway` commands, through the same files), and how the gateway carries each out.
//!
//! A request is a file named after the device's MAC in the state directory's folder of the
//! request's name (`release/`, `isolate/`, `rename/` …); its content is the request's
//! argument (the seconds of a timed release, the new name). The gateway journals its answer
//! and only then removes the file, so whoever asked can wait for the file to go and read the
//! answer in the journal. Every request is undone by another: a release by `isolate`, a
//! timed release by `isolate`, a name by another name (or none), trust by `untrust`, an
//! approval by `forget` (the device is new again when it next shows up), an exception by
//! `disallow`.

use super::*;

/// Longest name the owner may give a device, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Most owner exceptions one device may hold.
pub const MAX_EXCEPTIONS: usize = 16;
/// Longest timed release: a week.
pub const MAX_RELEASE_S: u64 = 7 * 24 * 3600;

/// What a device's owner can ask the running gateway for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnerRequest {
    /// End the device's quarantine now (`for_s: None`), or for that many seconds, after
    /// which the quarantine starts again for what was left of it.
    Release {
        /// How long the release lasts (at most [`MAX_RELEASE_S`]).
        for_s: Option<u64>,
    },
    /// Hold the device at `trusted`.
    Trust,
    /// Back to `default` / `declared`.
    Untrust,
    /// Isolate the device now, until the owner releases it (block it).
    Isolate,
    /// Give the device a name (`None`: take the owner's name away).
    Rename {
        /// The name (printable, at most [`MAX_NAME_CHARS`] characters).
        name: Option<String>,
    },
    /// Acknowledge a new device as the household's.
    Approve,
    /// Remove the device from the gateway (its containment, name, approval, exceptions and
    /// trust).
    Forget,
    /// Allow the device one more destination beside its level (an owner exception, shown as
    /// such; see [`enforce::Exception`]).
    Allow {
        /// The destination.
        exception: enforce::Exception,
    },
    /// Take an owner exception away.
    Disallow {
        /// The destination.
        exception: enforce::Exception,
    },
}

impl OwnerRequest {
    /// Every request folder, in the order the gateway reads them.
    pub const DIRS: [&'static str; 9] = [
        "release", "trust", "untrust", "isolate", "rename", "approve", "forget", "allow",
        "disallow",
    ];

    /// The journal action that answers the request.
    pub fn answer(&self) -> Action {
        match self {
            OwnerRequest::Release { .. } => Action::Release,
            OwnerRequest::Trust => Action::Trust,
            OwnerRequest::Untrust => Action::Untrust,
            OwnerRequest::Isolate => Action::Quarantine,
            OwnerRequest::Rename { .. } => Action::Rename,
            OwnerRequest::Approve => Action::Approve,
            OwnerRequest::Forget => Action::Forget,
            OwnerRequest::Allow { .. } => Action::Allow,
            OwnerRequest::Disallow { .. } => Action::Disallow,
        }
    }

    /// The folder under the state directory.
    pub fn dir(&self) -> &'static str {
        match self {
            OwnerRequest::Release { .. } => "release",
            OwnerRequest::Trust => "trust",
            OwnerRequest::Untrust => "untrust",
            OwnerRequest::Isolate => "isolate",
            OwnerRequest::Rename { .. } => "rename",
            OwnerRequest::Approve => "approve",
            OwnerRequest::Forget => "forget",
            OwnerRequest::Allow { .. } => "allow",
            OwnerRequest::Disallow { .. } => "disallow",
        }
    }

    /// The request file's content.
    pub fn payload(&self) -> String {
        match self {
            OwnerRequest::Release { for_s: Some(s) } => s.to_string(),
            OwnerRequest::Rename { name: Some(n) } => n.clone(),
            OwnerRequest::Allow { exception } | OwnerRequest::Disallow { exception } => {
                exception.to_string()
            }
            _ => String::new(),
        }
    }

    /// Check the request's argument: a timed release of 1 s to a week, a name of printable
    /// characters. The same check runs where the request is made and where it is read.
    pub fn check(&self) -> Result<(), String> {
        match self {
            OwnerRequest::Release { for_s: Some(s) } if *s == 0 || *s > MAX_RELEASE_S => Err(
                format!("a release lasts 1 s to {MAX_RELEASE_S} s (a week), not {s} s"),
            ),
            OwnerRequest::Rename { name: Some(n) } => {
                if n.trim().is_empty() {
                    Err("a name needs at least one character that is not a space".into())
                } else if n.chars().count() > MAX_NAME_CHARS {
                    Err(format!("a name has at most {MAX_NAME_CHARS} characters"))
                } else if n.chars().any(char::is_control) {
                    Err("a name cannot hold control characters (line breaks, tabs)".into())
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Read a request file: its folder's name and its content.
    pub fn parse(dir: &str, content: &str) -> Result<Self, String> {
        let content = content.trim_end_matches('\n');
        let r =
            match dir {
                "release" if content.is_empty() => OwnerRequest::Release { for_s: None },
                "release" => OwnerRequest::Release {
                    for_s: Some(content.trim().parse().map_err(|_| {
                        format!("a timed release holds its seconds, not {content:?}")
                    })?),
                },
                "trust" => OwnerRequest::Trust,
                "untrust" => OwnerRequest::Untrust,
                "isolate" => OwnerRequest::Isolate,
                "rename" => OwnerRequest::Rename {
                    name: (!content.is_empty()).then(|| content.to_string()),
                },
                "approve" => OwnerRequest::Approve,
                "forget" => OwnerRequest::Forget,
                "allow" | "disallow" => {
                    let exception = content.parse().map_err(|e| format!("{e}"))?;
                    if dir == "allow" {
                        OwnerRequest::Allow { exception }
                    } else {
                        OwnerRequest::Disallow { exception }
                    }
                }
                other => return Err(format!("no such request: {other}")),
            };
        r.check()?;
        Ok(r)
    }
}

impl Gateway {
    /// Carry out the owner's requests waiting in the state directory.
    pub(super) fn owner_requests(&mut self, now_ns: u64) -> Result<(), GatewayError> {
        for dir_name in OwnerRequest::DIRS {
            let dir = self.cfg.state_dir.join(dir_name);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            files.sort();
            for path in files {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                if name.ends_with(".tmp") {
                    continue; // still being written
                }
                let content = std::fs::read_to_string(&path).unwrap_or_default();
                let parsed = name
                    .replace('-', ":")
                    .parse::<Mac>()
                    .map_err(|e| e.to_string())
                    .and_then(|mac| Ok((mac, OwnerRequest::parse(dir_name, &content)?)));
                let (mac, request) = match parsed {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = std::fs::remove_file(&path);
                        self.warnings
                            .push(format!("{dir_name} request {name:?}: {e}"));
                        continue;
                    }
                };
                // The request file goes only once its answer is in the journal.
                let _remove = RemoveOnDrop(path);
                self.owner_request(&mac, request, now_ns)?;
            }
        }
        Ok(())
    }

    /// Carry out one request of the owner (see [`OwnerRequest`]).
    pub fn owner_request(
        &mut self,
        mac: &Mac,
        request: OwnerRequest,
        now_ns: u64,
    ) -> Result<(), GatewayError> {
        self.now_ns = self.now_ns.max(now_ns);
        match request {
            OwnerRequest::Release { for_s } => {
                if !self.end_quarantine(mac, true, for_s, now_ns)? {
                    self.warnings
                        .push(format!("release {mac}: the device is not quarantined"));
                }
            }
            OwnerRequest::Trust => self.set_trusted(mac, true, now_ns)?,
            OwnerRequest::Untrust => self.set_trusted(mac, false, now_ns)?,
            OwnerRequest::Isolate => self.isolate(mac, now_ns)?,
            OwnerRequest::Rename { name } => self.rename(mac, name, now_ns)?,
            OwnerRequest::Approve => self.approve(mac, now_ns)?,
            OwnerRequest::Forget => self.forget(mac, now_ns)?,
            OwnerRequest::Allow { exception } => {
                self.set_exception(mac, exception, true, now_ns)?
            }
            OwnerRequest::Disallow { exception } => {
                self.set_exception(mac, exception, false, now_ns)?
            }
        }
        Ok(())
    }

    /// The owner isolates a device (or blocks a new one): a quarantine with no end.
    fn isolate(&mut self, mac: &Mac, now_ns: u64) -> Result<(), GatewayError> {
        if self.quarantined.contains_key(mac) {
            return Ok(()); // already isolated: nothing to change
        }
        let Some(facts) = self.facts.get(mac).cloned() else {
            self.warnings.push(format!(
                "isolate {mac}: the gateway has not seen this device"
            ));
            return Ok(());
        };
        let previous = self.levels.get(mac).copied().unwrap_or(Level::Default);
        let q = Quarantine {
            until_ns: u64::MAX,
            previous,
            since_ns: now_ns,
            reason: None,
            explanation: Some("isolated by the owner until released".into()),
            explanation_fr: Some("isolé par le propriétaire jusqu’à ce qu’il le libère".into()),
        };
        self.start_quarantine(&facts, q, By::Owner, vec![], now_ns)
    }

    /// Start again every quarantine whose timed release ended.
    pub(super) fn resume_paused(&mut self, now_ns: u64) -> Result<(), GatewayError> {
        let due: Vec<Mac> = self
            .paused
            .iter()
            .filter(|(_, p)| p.resume_ns <= now_ns)
            .map(|(m, _)| *m)
            .collect();
        for mac in due {
            let Some(p) = self.paused.remove(&mac) else {
                continue;
            };
            let Some(facts) = self.facts.get(&mac).cloned() else {
                continue; // forgotten or evicted meanwhile
            };
            let previous = self
                .levels
                .get(&mac)
                .copied()
                .unwrap_or(p.quarantine.previous);
            let q = Quarantine {
                until_ns: if p.quarantine.until_ns == u64::MAX {
                    u64::MAX
                } else {
                    now_ns.saturating_add(p.remaining_ns)
                },
                previous,
                since_ns: now_ns,
                ..p.quarantine
            };
            let explanation = q.explanation.clone();
            let explanation_fr = q.explanation_fr.clone();
            let reason = q.reason;
            let until = q.until_ns;
            self.quarantined.insert(mac, q);
            self.levels.insert(mac, Level::Isolated);
            self.status_dirty = true;
            let dev = self.device(&facts, Level::Isolated);
            let outcome = self.enforce(dev, now_ns);
            let mut e = self.entry(
                now_ns,
                mac,
                Action::Resume,
                Some(previous),
                Level::Isolated,
                format!(
                    "the owner's release ended; quarantined again: {}",
                    explanation.unwrap_or_default()
                ),
                By::Ttl,
                &outcome,
            );
            e.explanation_fr = explanation_fr
                .map(|f| format!("la libération accordée par le propriétaire est terminée; de nouveau en quarantaine : {f}"));
            e.reason = reason;
            e.until_ns = (until != u64::MAX).then_some(until);
            self.record(&e)?;
        }
        Ok(())
    }

    /// The journal line of an owner's change that leaves the level as it is.
    fn owner_note(&self, mac: &Mac, action: Action, now_ns: u64, words: String) -> JournalEntry {
        let level = self.levels.get(mac).copied().unwrap_or(Level::Default);
        self.entry(
            now_ns,
            *mac,
            action,
            Some(level),
            level,
            words,
            By::Owner,
            &Ok(false),
        )
    }

    fn rename(&mut self, mac: &Mac, name: Option<String>, now_ns: u64) -> Result<(), GatewayError> {
        if self.names.get(mac) == name.as_ref() {
            return Ok(());
        }
        let words = match &name {
            Some(n) => format!("the owner named it {n:?}"),
            None => "the owner took its name away".into(),
        };
        let mut e = self.owner_note(mac, Action::Rename, now_ns, words);
        e.name = name.clone();
        match name {
            Some(n) => self.names.insert(*mac, n),
            None => self.names.remove(mac),
        };
        self.status_dirty = true;
        self.record(&e)
    }

    /// Add or take away an owner exception, and apply the device's rules again at its level.
    fn set_exception(
        &mut self,
        mac: &Mac,
        exception: enforce::Exception,
        allow: bool,
        now_ns: u64,
    ) -> Result<(), GatewayError> {
        let set = self.exceptions.entry(*mac).or_default();
        if allow && !set.contains(&exception) && set.len() >= MAX_EXCEPTIONS {
            self.warnings.push(format!(
                "allow {mac} {exception}: a device holds at most {MAX_EXCEPTIONS} exceptions; take one away first"
            ));
            return Ok(());
        }
        let changed = if allow {
            set.insert(exception.clone())
        } else {
            set.remove(&exception)
        };
        if set.is_empty() {
            self.exceptions.remove(mac);
        }
        if !changed {
            return Ok(());
        }
        self.status_dirty = true;
        let level = self.levels.get(mac).copied();
        let mut outcome = Ok(false);
        if let (Some(level), Some(facts)) = (level, self.facts.get(mac).cloned()) {
            if self.cfg.apply {
                let dev = self.device(&facts, level);
                outcome = self.enforce(dev, now_ns);
            }
        }
        let level = level.unwrap_or(Level::Default);
        let (words, words_fr) = match (allow, level) {
            (true, Level::Isolated) => (
                format!("the owner allows it {exception} (not while it is isolated)"),
                format!("le propriétaire lui permet {exception} (pas tant qu’il est isolé)"),
            ),
            (true, _) => (
                format!("the owner allows it {exception}, beside what its level allows"),
                format!(
                    "le propriétaire lui permet {exception}, en plus de ce que permet son niveau"
                ),
            ),
            (false, _) => (
                format!("the owner no longer allows it {exception}"),
                format!("le propriétaire ne lui permet plus {exception}"),
            ),
        };
        let mut e = self.entry(
            now_ns,
            *mac,
            if allow {
                Action::Allow
            } else {
                Action::Disallow
            },
            Some(level),
            level,
            words,
            By::Owner,
            &outcome,
        );
        e.explanation_fr = Some(words_fr);
        e.exception = Some(exception);
        self.record(&e)
    }

    fn approve(&mut self, mac: &Mac, now_ns: u64) -> Result<(), GatewayError> {
        if !self.approved.insert(*mac) {
            return Ok(());
        }
        self.status_dirty = true;
        let e = self.owner_note(
            mac,
            Action::Approve,
            now_ns,
            "the owner says this device is theirs".into(),
        );
        self.record(&e)
    }

    fn forget(&mut self, mac: &Mac, now_ns: u64) -> Result<(), GatewayError> {
        let from = self.levels.remove(mac);
        let known = from.is_some() || self.facts.contains_key(mac);
        self.facts.remove(mac);
        self.last_seen.remove(mac);
        self.retry.remove(mac);
        self.quarantined.remove(mac);
        self.paused.remove(mac);
        self.names.remove(mac);
        self.approved.remove(mac);
        self.exceptions.remove(mac);
        self.trusted.remove(mac);
        self.first_seen.remove(mac);
        if !known {
            self.warnings.push(format!(
                "forget {mac}: the gateway does not hold this device"
            ));
            return Ok(());
        }
        self.status_dirty = true;
        let mut outcome = Ok(false);
        if let Some(e) = self.enforcer.as_mut() {
            outcome = match e.remove(mac) {
                Ok(_) | Err(EnforceError::UnknownDevice(_)) => Ok(true),
                Err(err) => Err(err.to_string()),
            };
        }
        let e = self.entry(
            now_ns,
            *mac,
            Action::Forget,
            from,
            Level::Isolated,
            "the owner removed this device; until it is seen again only DHCP, DNS and neighbour discovery reach the gateway from it".into(),
            By::Owner,
            &outcome,
        );
        self.record(&e)
    }

    /// The owner's name for a device.
    pub fn owner_name(&self, mac: &Mac) -> Option<&str> {
        self.names.get(mac).map(String::as_str)
    }

    /// Whether the owner approved the device (acknowledged it as theirs).
    pub fn is_approved(&self, mac: &Mac) -> bool {
        self.approved.contains(mac)
    }
}
