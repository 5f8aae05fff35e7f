//! The lookup cache: a bounded, in-memory LRU of *prepared* label answers, so a lookup of a
//! label already seen costs no database round trip (perf of the uncached path: over half the
//! server's time went to handing three queries per lookup to sqlx's SQLite worker threads and
//! back — futex wake-ups and context switches — not to SQL or proofs).
//!
//! What an entry holds ([`Prepared`]): the label's JSON answer ([`crate::LabelView`]) already
//! serialised *except* for the time-dependent fields (`status`, `status_words`,
//! `status_words_fr`, `checked_at`), plus the decoded claims and the status facts those fields are computed from.
//! Rendering an answer computes the status at request time ([`label::status()`] at `now`), so
//! support periods that end, validity windows and statements whose `at` lies a little in the
//! future take effect without any invalidation. The proof bundles in an entry are built
//! against the checkpoint current when it was filled; an inclusion proof against an older
//! checkpoint of the same append-only log stays valid (RFC 9162 §2.1.3), so new labels never
//! invalidate anything.
//!
//! Keys: the label id (LRU order), with a side index from the label's digest (SHA-256 of its
//! COSE bytes) to its id, evicted with the entry. Only labels found are cached (no negative
//! entries: a new label simply misses).
//!
//! Invalidation: the status *facts* change only when a status statement about the label is
//! committed, and only the sequencer commits. After each commit, before it acknowledges any
//! submitter, the sequencer calls [`LookupCache::invalidate`] with the label ids the batch's
//! statements name, so the very next lookup after an acknowledged revocation misses and reads
//! the database. A fill that began before such a commit could insert an answer read before it;
//! every fill therefore notes the invalidation epoch before it reads and
//! [`LookupCache::insert_if_current`] drops it if an invalidation happened meanwhile (both under
//! the one lock, so there is no window).
//!
//! Memory bound: at most `capacity` entries (default [`DEFAULT_CACHE_ENTRIES`]) and the same
//! number of digest index rows. An entry's size is about twice the label's JSON answer
//! (the serialised parts plus the decoded claims); [`LookupCache::stats`] reports the
//! serialised bytes held.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use label::{Claims, StatusEvent};
use time::OffsetDateTime;

/// Default bound on cached labels. With labels of a few KiB (answer JSON ~4–6 KiB with its
/// proof bundle) this is a few tens of MiB at most.
pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;

/// One label's answer, ready to render at any instant.
#[derive(Debug)]
pub struct Prepared {
    /// The label id.
    pub label_id: String,
    /// SHA-256 of the COSE bytes.
    pub digest: [u8; 32],
    /// Decoded claims (the status depends on them and on `now`).
    pub(crate) claims: Claims,
    /// The status facts committed about it, in the order they take effect.
    pub(crate) facts: Vec<StatusEvent>,
    /// The assessment's outcome (from the claims; serialised in `head` too).
    pub(crate) conformance: label::Conformance,
    /// JSON from `{` up to and including `"status":`.
    pub(crate) head: String,
    /// JSON from `,"claims":` to the closing `}`.
    pub(crate) tail: String,
}

impl Prepared {
    /// Appends this label's [`crate::LabelView`] JSON, with its status computed at `now`, to
    /// `out`. Byte for byte what `serde_json` writes for the equivalent `LabelView` (tested).
    pub(crate) fn render_into(&self, now: OffsetDateTime, out: &mut Vec<u8>) {
        let status = label::status(&self.claims, now, &self.facts);
        out.extend_from_slice(self.head.as_bytes());
        serde_json::to_writer(&mut *out, &status).expect("a status serialises");
        out.extend_from_slice(b",\"status_words\":");
        serde_json::to_writer(&mut *out, &label::summary_words(&status, &self.conformance))
            .expect("a string serialises");
        out.extend_from_slice(b",\"status_words_fr\":");
        serde_json::to_writer(
            &mut *out,
            &label::summary_words_fr(&status, &self.conformance),
        )
        .expect("a string serialises");
        out.extend_from_slice(b",\"checked_at\":");
        serde_json::to_writer(&mut *out, &label::rfc3339(now)).expect("a string serialises");
        out.extend_from_slice(self.tail.as_bytes());
    }

    /// Serialised bytes this entry holds (its JSON parts).
    pub(crate) fn json_bytes(&self) -> usize {
        self.head.len() + self.tail.len()
    }
}

/// Entry count and serialised bytes held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
    /// Cached labels.
    pub entries: usize,
    /// Digest index rows (never more than `entries`).
    pub digest_index: usize,
    /// Serialised JSON bytes held by the entries.
    pub json_bytes: usize,
    /// The entry bound.
    pub capacity: usize,
}

/// The bounded lookup cache. Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct LookupCache(Arc<Mutex<Inner>>);

#[derive(Debug)]
struct Inner {
    by_id: lru::LruCache<String, Arc<Prepared>>,
    by_digest: HashMap<[u8; 32], String>,
    /// Bumped by every invalidation; fills started under an older epoch are not inserted.
    epoch: u64,
    json_bytes: usize,
}

impl LookupCache {
    /// A cache holding at most `capacity` labels (at least 1).
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity.max(1)).expect("at least 1");
        LookupCache(Arc::new(Mutex::new(Inner {
            by_id: lru::LruCache::new(cap),
            by_digest: HashMap::new(),
            epoch: 0,
            json_bytes: 0,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current invalidation epoch: note it BEFORE reading what a fill is built from.
    pub(crate) fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// The cached label with this id.
    pub fn get(&self, label_id: &str) -> Option<Arc<Prepared>> {
        self.lock().by_id.get(label_id).cloned()
    }

    /// The cached label with this COSE digest.
    pub(crate) fn get_by_digest(&self, digest: &[u8; 32]) -> Option<Arc<Prepared>> {
        let mut g = self.lock();
        let id = g.by_digest.get(digest)?.clone();
        g.by_id.get(&id).cloned()
    }

    /// Inserts `p` unless an invalidation happened since `epoch` (then what it was built from
    /// may predate a committed status statement). Evicts the least recently used label when
    /// full. Returns whether it was inserted.
    pub(crate) fn insert_if_current(&self, epoch: u64, p: Arc<Prepared>) -> bool {
        let mut g = self.lock();
        if g.epoch != epoch {
            return false;
        }
        let size = p.json_bytes();
        let digest = p.digest;
        let id = p.label_id.clone();
        if let Some((old_id, old)) = g.by_id.push(id.clone(), p) {
            g.json_bytes -= old.json_bytes();
            if old_id != id {
                g.by_digest.remove(&old.digest);
            }
        }
        g.json_bytes += size;
        g.by_digest.insert(digest, id);
        true
    }

    /// Drops these labels' entries and bumps the epoch. The sequencer calls this after
    /// committing status statements about them and before acknowledging.
    pub(crate) fn invalidate<'a>(&self, label_ids: impl IntoIterator<Item = &'a str>) {
        let mut g = self.lock();
        g.epoch += 1;
        for id in label_ids {
            if let Some(old) = g.by_id.pop(id) {
                g.json_bytes -= old.json_bytes();
                g.by_digest.remove(&old.digest);
            }
        }
    }

    /// Drops everything and bumps the epoch (after a commit whose outcome is unknown).
    pub fn clear(&self) {
        let mut g = self.lock();
        g.epoch += 1;
        g.by_id.clear();
        g.by_digest.clear();
        g.json_bytes = 0;
    }

    /// Entry count, index size and bytes held.
    pub fn stats(&self) -> CacheStats {
        let g = self.lock();
        CacheStats {
            entries: g.by_id.len(),
            digest_index: g.by_digest.len(),
            json_bytes: g.json_bytes,
            capacity: g.by_id.cap().get(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(id: &str) -> Arc<Prepared> {
        Arc::new(Prepared {
            label_id: id.into(),
            digest: label::Sha256Digest::of(id.as_bytes()).0,
            claims: label::example_claims(),
            facts: Vec::new(),
            conformance: label::example_claims().conformance(),
            head: format!("{{\"label_id\":\"{id}\",\"status\":"),
            tail: "}".into(),
        })
    }

    #[test]
    fn a_fill_started_before_an_invalidation_is_not_inserted() {
        let cache = LookupCache::new(4);
        let before = cache.epoch();
        // The sequencer commits a statement about some label and invalidates meanwhile.
        cache.invalidate(["urn:other"]);
        assert!(!cache.insert_if_current(before, prepared("urn:a")));
        assert!(cache.get("urn:a").is_none());
        let now = cache.epoch();
        assert!(cache.insert_if_current(now, prepared("urn:a")));
        assert!(cache.get("urn:a").is_some());
        cache.invalidate(["urn:a"]);
        assert!(cache.get("urn:a").is_none());
        assert!(cache.get_by_digest(&prepared("urn:a").digest).is_none());
        assert_eq!(cache.stats().json_bytes, 0);
    }

    #[test]
    fn bounded_and_indexes_evicted_together() {
        let cache = LookupCache::new(3);
        for i in 0..10 {
            let e = cache.epoch();
            assert!(cache.insert_if_current(e, prepared(&format!("urn:{i}"))));
        }
        let s = cache.stats();
        assert_eq!((s.entries, s.digest_index, s.capacity), (3, 3, 3));
        assert!(cache.get("urn:9").is_some() && cache.get("urn:6").is_none());
        assert!(cache.get_by_digest(&prepared("urn:0").digest).is_none());
        assert_eq!(
            s.json_bytes,
            (7..10)
                .map(|i| prepared(&format!("urn:{i}")).json_bytes())
                .sum::<usize>()
        );
        // Re-inserting a cached label replaces it without growing.
        let e = cache.epoch();
        cache.insert_if_current(e, prepared("urn:9"));
        assert_eq!(cache.stats(), s);
    }
}
