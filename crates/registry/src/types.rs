//! Request and response bodies of the HTTP API (JSON), shared by the server and [`crate::client`].

use label::{Conformance, Status, StatusEvent};
use serde::{Deserialize, Serialize};
use tlog::ProofBundle;

/// An error body: every 4xx/5xx answer is `{"error": code, "message": text}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// Stable machine-readable code (e.g. `unregistered-assessor`, `replay`, `body-too-large`).
    pub error: String,
    /// What was wrong and where, for people.
    pub message: String,
}

/// `POST /v1/labels` answer (201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Submitted {
    /// The label id (claims `id`), or for statements the label it is about.
    pub label_id: String,
    /// SHA-256 of the submitted bytes, hex.
    pub digest: String,
    /// Leaf index of the new log entry.
    pub leaf_index: u64,
    /// Size of the checkpoint committed with it.
    pub tree_size: u64,
    /// The label's status after this entry.
    #[schema(value_type = Object)]
    pub status: Status,
    /// The outcome of the label's assessment, computed from its verdicts: `outcome` is
    /// `conformant`, `non-conformant` or `not-assessed`; `failing` lists the required
    /// provisions that fail. Only a label that is active and conformant is a passing label.
    #[schema(value_type = Object)]
    pub assessment: Conformance,
    /// The status and the assessment outcome in plain words.
    pub status_words: String,
    /// The consumer page (the label's QR short form).
    pub consumer_page: String,
}

/// A status fact with the proof that it is logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoggedEvent {
    /// Leaf index of the statement.
    pub leaf_index: u64,
    /// The fact.
    #[schema(value_type = Object)]
    pub event: StatusEvent,
    /// Offline proof: the signed statement, its inclusion proof and the checkpoint.
    #[schema(value_type = Object)]
    pub bundle: ProofBundle,
}

/// A label as the registry knows it (lookups).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelView {
    /// Claims `id`.
    pub label_id: String,
    /// SHA-256 of the COSE_Sign1 bytes, hex.
    pub digest: String,
    /// The assessor key id that signed it.
    pub kid: String,
    /// The name the operator registered that key under (the label's own `assessor.name` is
    /// the assessor's claim; consumer pages show this one).
    pub assessor_name: String,
    /// Its leaf index in the log.
    pub leaf_index: u64,
    /// The outcome of the label's assessment, computed from its verdicts: `outcome` is
    /// `conformant`, `non-conformant` or `not-assessed`; `failing` lists the required
    /// provisions that fail, `undecided` those judged cannot-tell. Only a label that is
    /// active and conformant is a passing label.
    #[schema(value_type = Object)]
    pub assessment: Conformance,
    /// Status now (RFC 3339 instant in `checked_at`).
    #[schema(value_type = Object)]
    pub status: Status,
    /// The status and the assessment outcome in plain words (English); never starts with
    /// "Valid" unless the label is active and conformant.
    pub status_words: String,
    /// The same in French.
    pub status_words_fr: String,
    /// When the status was computed.
    pub checked_at: String,
    /// The claims (JSON rendering).
    #[schema(value_type = Object)]
    pub claims: serde_json::Value,
    /// The consumer page (QR short form).
    pub consumer_page: String,
    /// Offline proof bundle of the label itself (entry = the COSE_Sign1 bytes) with every
    /// status statement about it (`statements`), all against one checkpoint; accepted by
    /// `trustgate label verify --bundle`.
    #[schema(value_type = Object)]
    pub bundle: ProofBundle,
    /// Every status fact about it, each with its own proof, in the order they take effect
    /// (statement time; log order among equal times).
    pub events: Vec<LoggedEvent>,
}

/// `GET /v1/lookup` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupAnswer {
    /// Matching labels, oldest first.
    pub labels: Vec<LabelView>,
}

/// `POST /v1/status/batch` request: label ids and/or label digests (hex), at most
/// [`crate::MAX_BATCH_ITEMS`] in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Label ids.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Label digests (SHA-256 of the COSE bytes), 64 hex characters.
    #[serde(default)]
    pub digests: Vec<String>,
}

/// One answer of a batch, in request order (ids first, then digests).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    /// The id or digest asked about.
    pub query: String,
    /// Whether the registry holds such a label.
    pub found: bool,
    /// Label id, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_id: Option<String>,
    /// Status, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub status: Option<Status>,
    /// The assessment's outcome (see [`LabelView::assessment`]), when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub assessment: Option<Conformance>,
}

/// `POST /v1/status/batch` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchAnswer {
    /// When the statuses were computed (RFC 3339).
    pub checked_at: String,
    /// One item per query, in request order.
    pub results: Vec<BatchItem>,
}

/// `GET /v1/log` answer: what clients need to check proofs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogInfo {
    /// Checkpoint origin line.
    pub origin: String,
    /// The log's C2SP verifier key (`name+id+base64`). Fetching it over the network is a
    /// convenience, not a trust anchor: pin it out of band.
    pub verifier_key: String,
    /// Current tree size.
    pub size: u64,
}

/// `GET /v1/consistency` answer: RFC 9162 §2.1.4 proof, base64 hashes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyAnswer {
    /// Old tree size.
    pub old: u64,
    /// New tree size.
    pub new: u64,
    /// The proof.
    #[schema(value_type = Vec<String>)]
    pub proof: Vec<tlog::Hash>,
}
