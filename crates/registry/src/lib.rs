//! # registry — the label registry service
//!
//! Owns: the HTTP API and consumer pages over signed security
//! labels, their storage (sqlx: SQLite by default, PostgreSQL at scale; one set of migrations),
//! and the sequencing of the RFC 9162 transparency log that records every issuance and status
//! change, served as C2SP tlog-tiles. Must not: run checks on firmware (that is `assess`),
//! define the label or proof formats (that is `label` and `tlog`).
//!
//! ## The log's entries (leaf encoding)
//!
//! Leaf `i` of the log is the RFC 9162 §2.1.1 leaf hash `SHA-256(0x00 || entry_i)`, where
//! `entry_i` is **exactly the COSE_Sign1 bytes that were accepted**, unchanged:
//! - an **issuance** is the label itself: protected content type
//!   `application/vnd.trustgate.label+cbor` ([`label::CONTENT_TYPE`]), so the offline bundle's
//!   entry is the label file and `trustgate label verify --bundle` compares them byte for byte;
//! - a **revocation, suspension, reinstatement, supersession or support-period change** is a
//!   status statement ([`statement`]): content type `application/vnd.trustgate.status+cbor`,
//!   payload a [`label::StatusEvent`], signed by the key that issued the label or by a
//!   registered operator key ([`statement`]: operator statements).
//!
//! Entries are self-describing and self-authenticating: anyone reading the tiles can tell the
//! kinds apart by content type and re-verify every signature with the assessor keys. Entry
//! bundles (`/tile/entries/...`) carry them verbatim (tlog-tiles: 2-byte big-endian length, then
//! the bytes), so an entry is at most 65535 bytes; the API's body limits are far below that.
//!
//! ## Durability
//!
//! One sequencer task (started by [`Service::start`]) commits each batch of submissions (entries, lookups'
//! index rows, new subtree hashes and the new signed checkpoint) in one transaction and replies
//! only after commit; SQLite runs WAL with `synchronous=FULL`.
//!
//! ## Lookups
//!
//! `GET /v1/labels/{id}` and `GET /v1/lookup` answer from a bounded in-memory LRU of prepared
//! answers ([`LookupCache`]; default [`DEFAULT_CACHE_ENTRIES`] labels): proofs as of the checkpoint the entry was built
//! with (still valid as the log grows), status computed per request, entries of a label
//! dropped by the sequencer after it commits a statement about it and before it acknowledges.
//! Only the process running the sequencer may serve lookups from a given database.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = registry::Store::open("sqlite:///tmp/registry.db").await?;
//! let signer = tlog::NoteSigner::from_seed("registry.example/log", &[7; 32])?;
//! let running = registry::spawn(store, signer, "127.0.0.1:0".parse()?, None).await?;
//! let client = registry::Client::new(&running.url)?;
//! println!("{}", client.checkpoint().await?);
//! running.shutdown().await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::net::SocketAddr;

pub mod answer;
mod api_error;
mod cache;
mod client;
mod http;
pub mod logkey;
mod metrics;
pub mod mirror;
mod page;
mod sequencer;
mod service;
pub mod statement;
mod store;
mod types;

pub use api_error::{request_id, ApiError};
pub use cache::{CacheStats, LookupCache, Prepared, DEFAULT_CACHE_ENTRIES};
pub use client::{Client, ClientError};
pub use http::{
    openapi_json, router, serve, Limits, MAX_BATCH_BODY, MAX_LABEL_BODY, MAX_STATEMENT_BODY,
    REQUEST_ID_HEADER,
};
pub use metrics::Metrics;
pub use service::{Lookup, Service, MAX_BATCH_ITEMS};
pub use statement::{
    sign_statement, verify_statement, StatementError, MAX_BACKDATE, MAX_FUTURE_SKEW,
    STATUS_CONTENT_TYPE,
};
pub use store::{
    AssessorRecord, Backend, Counts, EventRecord, LabelRecord, Prefetched, SequencerLease, Store,
    StoreError, StoredCheckpoint,
};
pub use types::*;

/// Not API: what `benches/registry.rs` measures below [`Service`] (the sequencer's durable
/// appends alone). Nothing else should start a [`sequencer`](bench::Sequencer): a database has
/// exactly one, the one [`Service::start`] runs.
#[doc(hidden)]
pub mod bench {
    pub use crate::sequencer::{Receipt, SequenceError, Sequencer};
    pub use crate::store::{NewEntry, NewRecord};
}

/// A registry serving HTTP in this process (the demo, tests, `trustgate registry serve`).
#[derive(Debug)]
pub struct Running {
    /// Base URL it listens on (`http://addr`).
    pub url: String,
    /// The local address.
    pub addr: SocketAddr,
    /// The service (for in-process calls and counts).
    pub service: Service,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, finishes in-flight requests, and waits.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    }
}

/// Why the registry could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding the listen address.
    #[error("cannot listen on {addr}: {err}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The error.
        err: std::io::Error,
    },
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Binds `listen`, starts the sequencer over `store`, and serves the API in a background task.
/// `public_url` (consumer pages, QR codes) defaults to `http://<bound address>`.
pub async fn spawn(
    store: Store,
    signer: tlog::NoteSigner,
    listen: SocketAddr,
    public_url: Option<String>,
) -> Result<Running, StartError> {
    spawn_with_cache_entries(store, signer, listen, public_url, DEFAULT_CACHE_ENTRIES).await
}

/// [`spawn`] with a lookup cache of at most `cache_entries` labels ([`LookupCache`]).
pub async fn spawn_with_cache_entries(
    store: Store,
    signer: tlog::NoteSigner,
    listen: SocketAddr,
    public_url: Option<String>,
    cache_entries: usize,
) -> Result<Running, StartError> {
    spawn_with_limits(
        store,
        signer,
        listen,
        public_url,
        cache_entries,
        Limits::default(),
    )
    .await
}

/// [`spawn_with_cache_entries`] with connection limits other than [`Limits::default`]
/// (header and request timeouts, connection cap; see [`serve`]).
pub async fn spawn_with_limits(
    store: Store,
    signer: tlog::NoteSigner,
    listen: SocketAddr,
    public_url: Option<String>,
    cache_entries: usize,
    limits: Limits,
) -> Result<Running, StartError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|err| StartError::Listen { addr: listen, err })?;
    let addr = listener
        .local_addr()
        .map_err(|err| StartError::Listen { addr: listen, err })?;
    let url = format!("http://{addr}");
    let service = Service::start_with_cache_entries(
        store,
        signer,
        public_url.as_deref().unwrap_or(&url),
        cache_entries,
    )
    .await?;
    let app = http::router(service.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(http::serve(listener, app, limits, async {
        let _ = stopped.await;
    }));
    Ok(Running {
        url,
        addr,
        service,
        stop,
        task,
    })
}
