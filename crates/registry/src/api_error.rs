//! A refused request ([`ApiError`]) and the id each request gets, so a storage failure can be
//! logged in full and answered with nothing but that id. Below `service` and `http`: both use it.

use crate::sequencer::SequenceError;
use crate::store::StoreError;

/// A refusal: HTTP status, stable code, message. Nothing was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Stable code.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

impl ApiError {
    /// A refusal.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl ApiError {
    /// The refusal for a storage failure: the failure's own text (database messages, table
    /// and column names) goes to the log only, under the request's id ([`request_id`]);
    /// the client gets a generic message carrying that id, so an operator can find the log line.
    pub fn storage_failure(e: &dyn std::fmt::Display) -> Self {
        let request_id = request_id();
        tracing::error!(request_id = %request_id, error = %e, "storage error");
        ApiError::new(
            503,
            "storage-unavailable",
            format!(
                "the registry could not use its database (request id {request_id}; the operator's log has the details under that id)"
            ),
        )
    }

    /// The refusal when the database's disk is full: 507, saying so (the operator has to
    /// free space; nothing was stored), the details logged under the request id as for
    /// [`ApiError::storage_failure`].
    pub fn storage_full(e: &dyn std::fmt::Display) -> Self {
        let request_id = request_id();
        tracing::error!(request_id = %request_id, error = %e, "storage full");
        ApiError::new(
            507,
            "storage-full",
            format!(
                "the registry's disk is full: nothing was stored; try again once the operator has freed space (request id {request_id})"
            ),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_disk_full() {
            ApiError::storage_full(&e)
        } else {
            ApiError::storage_failure(&e)
        }
    }
}

impl From<SequenceError> for ApiError {
    fn from(e: SequenceError) -> Self {
        match e {
            SequenceError::Replay => ApiError::new(409, "replay", e.to_string()),
            SequenceError::DuplicateLabelId(_) => {
                ApiError::new(409, "duplicate-label-id", e.to_string())
            }
            SequenceError::Unavailable(_) => ApiError::storage_failure(&e),
            SequenceError::DiskFull(_) => ApiError::storage_full(&e),
        }
    }
}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled (set by the router for the handler's task), or a fresh
/// one outside a request. Ids are `<8 hex digits, random per process>-<sequence number>`:
/// unique within a process and unlikely to repeat across restarts; not a secret.
pub fn request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| new_request_id())
}

pub(crate) fn new_request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static SEQ: AtomicU64 = AtomicU64::new(1);
    // std's RandomState is seeded from the OS random source: a random prefix without a crate.
    let prefix = *PREFIX.get_or_init(|| {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish() as u32
    });
    format!("{prefix:08x}-{}", SEQ.fetch_add(1, Ordering::Relaxed))
}

/// Runs `fut` with `id` as the [`request_id`] of everything it calls.
pub(crate) async fn with_id<F: std::future::Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}
