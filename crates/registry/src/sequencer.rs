//! The sequencer: the ONE task that appends to the log.
//!
//! Submissions queue on a channel; the task takes everything waiting (up to [`MAX_BATCH`]),
//! drops replays, assigns consecutive leaf indices, extends the Merkle tree
//! ([`tlog::TreeBuilder`]), signs a new checkpoint, and writes entries, records, completed subtree
//! hashes and the checkpoint in one database transaction. Only after `COMMIT` returns does any
//! submitter get its receipt, so an acknowledged entry is durable (group commit: one fsync per
//! batch, however many submissions it holds).
//!
//! One sequencer per database: it keeps the tree's right edge in memory and assumes no one else
//! appends. Replicas that only read (lookups, tiles) may run anywhere.

use std::collections::HashSet;
use std::time::Instant;

use tlog::{Checkpoint, NoteSigner, TreeBuilder};
use tokio::sync::{mpsc, oneshot, watch};

use crate::cache::LookupCache;
use crate::metrics::Metrics;
use crate::store::{NewEntry, NewRecord, SequencerLease, Store, StoreError, StoredCheckpoint};

/// Most submissions committed in one transaction.
pub(crate) const MAX_BATCH: usize = 8192;

/// What an acknowledged append returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The entry's leaf index.
    pub leaf_index: u64,
    /// The tree size of the checkpoint committed with it.
    pub tree_size: u64,
}

/// Why the sequencer did not append.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    /// These exact bytes are already in the log.
    #[error("replayed submission: this exact entry is already in the log")]
    Replay,
    /// A label with this id is already issued.
    #[error("label id {0:?} is already issued; a new label needs a new id")]
    DuplicateLabelId(String),
    /// Storage failed; nothing from this batch was stored.
    #[error("storage unavailable, nothing was stored: {0}")]
    Unavailable(String),
    /// The database's disk is full; nothing from this batch was stored.
    #[error("the database's disk is full, nothing was stored: {0}")]
    DiskFull(String),
}

struct Job {
    entry: NewEntry,
    reply: oneshot::Sender<Result<Receipt, SequenceError>>,
}

/// Handle to submit entries to the sequencer task.
#[derive(Clone, Debug)]
pub struct Sequencer {
    tx: mpsc::Sender<Job>,
    checkpoint: watch::Receiver<StoredCheckpoint>,
}

impl Sequencer {
    /// Resumes the tree from `store` and starts the sequencer task. Publishes a checkpoint for
    /// the empty tree on a fresh database.
    pub async fn start(
        store: Store,
        signer: NoteSigner,
        metrics: Metrics,
    ) -> Result<Self, StoreError> {
        Self::start_with_cache(store, signer, metrics, None).await
    }

    /// [`Sequencer::start`], invalidating `cache` entries of the labels each committed batch's
    /// status statements name, after commit and before acknowledging any submitter.
    pub async fn start_with_cache(
        store: Store,
        signer: NoteSigner,
        metrics: Metrics,
        cache: Option<LookupCache>,
    ) -> Result<Self, StoreError> {
        // Before reading the tree: another sequencer may be appending to it.
        let lease = store.claim_sequencer().await?;
        let size = store.log_size().await?;
        let builder = resume(&store, size).await?;
        let current = match store.checkpoint().await? {
            Some(cp) if cp.size == size && cp.root == builder.root() => cp,
            Some(cp) if cp.size != size => {
                return Err(StoreError::Corrupt(format!(
                    "checkpoint covers {} entries but the log holds {size}",
                    cp.size
                )))
            }
            Some(_) => {
                return Err(StoreError::Corrupt(
                    "checkpoint root does not match the stored tree".into(),
                ))
            }
            None => {
                let cp = sign(&signer, size, &builder)?;
                store.append_batch(size, &[], &[], &cp).await?;
                cp
            }
        };
        metrics.tree_size.set(size as i64);
        let (publish, checkpoint) = watch::channel(current);
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        // The lease lives as long as the task that appends, which checks it before each batch.
        tokio::spawn(run(
            store, lease, signer, builder, rx, metrics, publish, cache,
        ));
        Ok(Sequencer { tx, checkpoint })
    }

    /// Each checkpoint as it is published (after its batch committed).
    pub fn subscribe(&self) -> watch::Receiver<StoredCheckpoint> {
        self.checkpoint.clone()
    }

    /// The latest committed checkpoint (published only after its batch committed).
    pub fn checkpoint(&self) -> StoredCheckpoint {
        self.checkpoint.borrow().clone()
    }

    /// Queues an entry and waits until it is durably committed (or refused).
    pub async fn submit(&self, entry: NewEntry) -> Result<Receipt, SequenceError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Job { entry, reply })
            .await
            .map_err(|_| SequenceError::Unavailable("sequencer stopped".into()))?;
        wait.await
            .map_err(|_| SequenceError::Unavailable("sequencer stopped".into()))?
    }
}

async fn resume(store: &Store, size: u64) -> Result<TreeBuilder, StoreError> {
    let reader = store.prefetch(tlog::right_edge_nodes(size)).await?;
    TreeBuilder::resume(size, &reader).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn sign(signer: &NoteSigner, size: u64, b: &TreeBuilder) -> Result<StoredCheckpoint, StoreError> {
    let root = b.root();
    let signed_note = Checkpoint::new(signer.name(), size, root)
        .sign(&[signer])
        .map_err(|e| StoreError::Corrupt(format!("signing checkpoint: {e}")))?;
    Ok(StoredCheckpoint {
        size,
        root,
        signed_note,
    })
}

#[allow(clippy::too_many_arguments)]
async fn run(
    store: Store,
    mut lease: SequencerLease,
    signer: NoteSigner,
    mut builder: TreeBuilder,
    mut rx: mpsc::Receiver<Job>,
    metrics: Metrics,
    publish: watch::Sender<StoredCheckpoint>,
    cache: Option<LookupCache>,
) {
    // Set when a commit failed: it may have been applied anyway (connection lost after the
    // server committed), so the whole cache is dropped once the next checkpoint is published.
    let mut clear_cache_on_publish = false;
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let accepted = match drop_replays(&store, jobs).await {
            Ok(a) => a,
            Err((jobs, e)) => {
                fail(jobs, &e);
                continue;
            }
        };
        if accepted.is_empty() {
            continue;
        }
        // After a database restart the lock may be gone with its connection: take it again
        // (or learn that another sequencer has it) before appending.
        if let Err(e) = lease.keep(&store).await {
            tracing::error!(error = %e, "sequencer lock not held; nothing from this batch was stored");
            fail(accepted, &e);
            continue;
        }
        let saved = builder.clone();
        let first_index = builder.size();
        let mut nodes = Vec::with_capacity(accepted.len() * 2);
        for job in &accepted {
            nodes.extend(
                builder
                    .append(&job.entry.entry)
                    .expect("a log cannot hold 2^64 entries"),
            );
        }
        let result = match sign(&signer, builder.size(), &builder) {
            Ok(cp) => {
                let entries: Vec<NewEntry> = accepted.iter().map(|j| j.entry.clone()).collect();
                store
                    .append_batch(first_index, &entries, &nodes, &cp)
                    .await
                    .map(|()| cp)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(cp) => {
                // Readers see a checkpoint only once everything it covers is committed.
                publish.send_replace(cp);
                // Lookups after the acknowledgement below must not see a cached status from
                // before these statements (see crate::cache).
                if let Some(cache) = &cache {
                    if clear_cache_on_publish {
                        cache.clear();
                        clear_cache_on_publish = false;
                    } else if accepted
                        .iter()
                        .any(|j| matches!(j.entry.record, NewRecord::Status(_)))
                    {
                        cache.invalidate(accepted.iter().filter_map(|j| match &j.entry.record {
                            NewRecord::Status(e) => Some(e.label_id.as_str()),
                            NewRecord::Label { .. } => None,
                        }));
                    }
                }
                metrics.batch_size.observe(accepted.len() as f64);
                metrics
                    .commit_seconds
                    .observe(started.elapsed().as_secs_f64());
                metrics.tree_size.set(builder.size() as i64);
                let tree_size = builder.size();
                for (i, job) in accepted.into_iter().enumerate() {
                    metrics.appended(job.entry.record_kind());
                    let _ = job.reply.send(Ok(Receipt {
                        leaf_index: first_index + i as u64,
                        tree_size,
                    }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "batch commit failed; nothing from it was stored");
                // The commit may have failed after the server applied it (connection lost):
                // re-read the tree from storage rather than trusting the in-memory copy.
                builder = match resume(&store, store.log_size().await.unwrap_or(0)).await {
                    Ok(b) if b.size() >= saved.size() => b,
                    _ => saved,
                };
                if let Some(cache) = &cache {
                    cache.clear();
                    clear_cache_on_publish = true;
                }
                fail(accepted, &e);
            }
        }
    }
}

fn fail(jobs: Vec<Job>, e: &StoreError) {
    for job in jobs {
        let _ = job.reply.send(Err(if e.is_disk_full() {
            SequenceError::DiskFull(e.to_string())
        } else {
            SequenceError::Unavailable(e.to_string())
        }));
    }
}

/// Refuses replays: bytes already logged (or twice in this batch) and label ids already issued.
async fn drop_replays(store: &Store, jobs: Vec<Job>) -> Result<Vec<Job>, (Vec<Job>, StoreError)> {
    let digests: Vec<[u8; 32]> = jobs.iter().map(|j| j.entry.digest).collect();
    let known = match store.known_digests(&digests).await {
        Ok(k) => k,
        Err(e) => return Err((jobs, e)),
    };
    let ids: Vec<&str> = jobs
        .iter()
        .filter_map(|j| match &j.entry.record {
            NewRecord::Label { label_id, .. } => Some(label_id.as_str()),
            NewRecord::Status(_) => None,
        })
        .collect();
    let issued = if ids.is_empty() {
        Vec::new()
    } else {
        match store.known_label_ids(&ids).await {
            Ok(k) => k,
            Err(e) => return Err((jobs, e)),
        }
    };
    let mut seen_digest: HashSet<[u8; 32]> = known.into_iter().collect();
    let mut seen_id: HashSet<String> = issued.into_iter().collect();
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        if !seen_digest.insert(job.entry.digest) {
            let _ = job.reply.send(Err(SequenceError::Replay));
            continue;
        }
        if let NewRecord::Label { label_id, .. } = &job.entry.record {
            if !seen_id.insert(label_id.clone()) {
                let _ = job
                    .reply
                    .send(Err(SequenceError::DuplicateLabelId(label_id.clone())));
                continue;
            }
        }
        out.push(job);
    }
    Ok(out)
}
