//! What the dashboard reads of the gateway: `STATE/status.json` (every device, rewritten by the
//! running gateway at most once a second) and the tail of `STATE/journal.jsonl` (append-only).
//!
//! The journal is read incrementally: the cache remembers how many bytes it has parsed and
//! reads only what was appended since, keeping the last [`KEEP`] entries without their
//! evidence packets (only their number). A journal that became shorter (the gateway cut a
//! torn last line at start) is read again from the beginning. Storage contract: the dashboard
//! never writes either file; it changes things only through owner requests
//! (`gateway::owner_request`), as the CLI does.

use gateway::{Action, By, JournalEntry, StatusFile};
use monitor::EventKind;
use mud::Mac;
use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Journal entries kept in memory.
pub const KEEP: usize = 20_000;

/// A journal entry as the dashboard shows it.
#[derive(Clone, Debug)]
pub struct Line {
    /// Its number in the journal, from 0: also the SSE event id.
    pub seq: u64,
    /// When (ns since the epoch).
    pub time_ns: u64,
    /// The device.
    pub device: Mac,
    /// What changed.
    pub action: Action,
    /// Level before and after.
    pub from: Option<enforce::Level>,
    /// Level after.
    pub to: enforce::Level,
    /// The behaviour behind a quarantine.
    pub reason: Option<EventKind>,
    /// The gateway's sentence (English).
    pub explanation: Option<String>,
    /// The gateway's sentence in French, where it has one.
    pub explanation_fr: Option<String>,
    /// Cause code of a level change.
    pub cause: Option<String>,
    /// A rename's name.
    pub name: Option<String>,
    /// An owner exception added or taken away.
    pub exception: Option<enforce::Exception>,
    /// End of a quarantine or of a timed release.
    pub until_ns: Option<u64>,
    /// Who decided.
    pub by: By,
    /// Evidence packets kept.
    pub evidence: usize,
}

impl Line {
    fn new(seq: u64, e: JournalEntry) -> Line {
        Line {
            seq,
            time_ns: e.time_ns,
            device: e.device,
            action: e.action,
            from: e.from,
            to: e.to,
            reason: e.reason,
            explanation: e.explanation,
            explanation_fr: e.explanation_fr,
            cause: e.cause,
            name: e.name,
            exception: e.exception,
            until_ns: e.until_ns,
            by: e.by,
            evidence: e.evidence.len(),
        }
    }
}

/// The journal's tail, read incrementally.
pub struct JournalCache {
    path: PathBuf,
    read: u64,
    next_seq: u64,
    partial: Vec<u8>,
    lines: VecDeque<Line>,
    /// Lines that did not parse (counted, skipped).
    pub bad_lines: u64,
}

impl JournalCache {
    /// The cache of `STATE/journal.jsonl`.
    pub fn new(state_dir: &Path) -> JournalCache {
        JournalCache {
            path: state_dir.join("journal.jsonl"),
            read: 0,
            next_seq: 0,
            partial: vec![],
            lines: VecDeque::new(),
            bad_lines: 0,
        }
    }

    /// Read what was appended since the last call.
    pub fn refresh(&mut self) {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.read {
            *self = JournalCache::new(self.path.parent().unwrap_or(Path::new(".")));
        }
        if len == self.read || f.seek(SeekFrom::Start(self.read)).is_err() {
            return;
        }
        let mut buf = std::mem::take(&mut self.partial);
        let before = buf.len();
        if f.read_to_end(&mut buf).is_err() {
            buf.truncate(before);
            self.partial = buf;
            return;
        }
        self.read += (buf.len() - before) as u64;
        let complete = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        self.partial = buf[complete..].to_vec();
        for raw in buf[..complete].split(|b| *b == b'\n') {
            if raw.is_empty() {
                continue;
            }
            match serde_json::from_slice::<JournalEntry>(raw) {
                Ok(e) => {
                    self.lines.push_back(Line::new(self.next_seq, e));
                    if self.lines.len() > KEEP {
                        self.lines.pop_front();
                    }
                }
                Err(_) => self.bad_lines += 1,
            }
            self.next_seq += 1;
        }
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> &VecDeque<Line> {
        &self.lines
    }

    /// The number the next line will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

/// Read `STATE/status.json` (`None`: no gateway has written one yet, or it does not parse).
pub fn read_status(state_dir: &Path) -> Option<StatusFile> {
    let bytes = std::fs::read(state_dir.join(gateway::STATUS_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `status.json`, parsed again only when the gateway has replaced it (its modification time
/// or size changed): a household of 1000 devices is a megabyte of JSON, and every page shows it.
pub struct StatusCache {
    path: std::path::PathBuf,
    /// (inode, modified, length) of the file parsed, and what it said. The gateway replaces
    /// the file by renaming a new one over it, so the inode alone tells a rewrite even where
    /// timestamps are coarse.
    held: Option<(
        (u64, std::time::SystemTime, u64),
        std::sync::Arc<StatusFile>,
    )>,
}

impl StatusCache {
    /// The status of the gateway whose state directory is `state_dir`.
    pub fn new(state_dir: &Path) -> StatusCache {
        StatusCache {
            path: state_dir.join(gateway::STATUS_FILE),
            held: None,
        }
    }

    /// The current status (`None`: no gateway has written one, or it does not parse).
    pub fn get(&mut self) -> Option<std::sync::Arc<StatusFile>> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&self.path).ok()?;
        let stamp = (meta.ino(), meta.modified().ok()?, meta.len());
        if let Some((held, s)) = &self.held {
            if *held == stamp {
                return Some(s.clone());
            }
        }
        let parsed = std::sync::Arc::new(read_status_at(&self.path)?);
        self.held = Some((stamp, parsed.clone()));
        Some(parsed)
    }
}

fn read_status_at(path: &Path) -> Option<StatusFile> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn line(device: &str, action: &str, t: u64) -> String {
        format!(
            r#"{{"time_ns":{t},"device":"{device}","action":"{action}","from":null,"to":"default","reason":null,"explanation":"x","until_ns":null,"by":"monitor","dry_run":false}}"#
        )
    }

    #[test]
    fn reads_only_what_was_appended_and_waits_for_a_line_to_end() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("journal.jsonl");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "{}", line("02:00:00:00:00:01", "contain", 1)).unwrap();
        let mut c = JournalCache::new(d.path());
        c.refresh();
        assert_eq!(c.lines().len(), 1);
        // Half a line: not read yet.
        let second = line("02:00:00:00:00:02", "contain", 2);
        write!(f, "{}", &second[..20]).unwrap();
        c.refresh();
        assert_eq!(c.lines().len(), 1);
        writeln!(f, "{}", &second[20..]).unwrap();
        writeln!(f, "not json").unwrap();
        c.refresh();
        assert_eq!(c.lines().len(), 2);
        assert_eq!(c.lines()[1].device.to_string(), "02:00:00:00:00:02");
        assert_eq!(c.lines()[1].seq, 1);
        assert_eq!(c.bad_lines, 1);
        assert_eq!(c.next_seq(), 3);
        // Cut shorter (a torn tail removed at start): read again from the start.
        drop(f);
        std::fs::write(
            &path,
            format!("{}\n", line("02:00:00:00:00:03", "contain", 3)),
        )
        .unwrap();
        c.refresh();
        assert_eq!(c.lines().len(), 1);
        assert_eq!(c.lines()[0].device.to_string(), "02:00:00:00:00:03");
    }
}
