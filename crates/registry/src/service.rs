//! What the registry does, independent of HTTP: accept labels and status statements, answer
//! lookups with status and offline proofs. The HTTP layer ([`crate::http`]) only moves bytes.

use std::collections::HashMap;
use std::sync::Arc;

use label::{Status, StatusEvent, StatusEventKind};
use time::OffsetDateTime;
use tlog::{Checkpoint, NoteSigner, ProofBundle, VerifierKey};

use crate::api_error::ApiError;
use crate::cache::{LookupCache, Prepared, DEFAULT_CACHE_ENTRIES};
use crate::metrics::Metrics;
use crate::sequencer::Sequencer;
use crate::statement::{self, StatementError, MAX_BACKDATE, MAX_FUTURE_SKEW};
use crate::store::{LabelRecord, NewEntry, NewRecord, Store, StoreError, StoredCheckpoint};
use crate::types::*;

/// Most ids + digests in one batch status request.
pub const MAX_BATCH_ITEMS: usize = 10_000;

fn label_error(e: label::LabelError) -> ApiError {
    use label::LabelError as E;
    match e {
        E::MalformedCbor(_) | E::WrongAlgorithm(_) | E::UnexpectedHeader(_) => {
            ApiError::new(400, "malformed-label", e.to_string())
        }
        E::UnknownKey { .. } => ApiError::new(403, "unregistered-assessor", e.to_string()),
        E::BadSignature => ApiError::new(
            403,
            "bad-signature",
            "bad signature: the label's signature does not verify with the registered key of the assessor it names",
        ),
        E::ClaimsInvalid(_) => ApiError::new(422, "invalid-claims", e.to_string()),
    }
}

fn statement_error(e: StatementError) -> ApiError {
    match e {
        StatementError::Malformed(_) => ApiError::new(400, "malformed-statement", e.to_string()),
        StatementError::Payload(_) => ApiError::new(422, "invalid-statement", e.to_string()),
        StatementError::BadSignature => ApiError::new(403, "bad-signature", e.to_string()),
    }
}

/// The registry: storage, sequencer, log key, public URL, metrics. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Service(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Store,
    sequencer: Sequencer,
    verifier: VerifierKey,
    public_url: String,
    metrics: Metrics,
    cache: LookupCache,
}

impl Service {
    /// Starts the sequencer over `store` and returns the service. `public_url` is the base URL
    /// consumer pages and QR codes point to (no trailing slash).
    pub async fn start(
        store: Store,
        signer: NoteSigner,
        public_url: &str,
    ) -> Result<Self, StoreError> {
        Self::start_with_cache_entries(store, signer, public_url, DEFAULT_CACHE_ENTRIES).await
    }

    /// [`Service::start`] with a lookup cache of at most `cache_entries` labels
    /// (see [`crate::LookupCache`]).
    pub async fn start_with_cache_entries(
        store: Store,
        signer: NoteSigner,
        public_url: &str,
        cache_entries: usize,
    ) -> Result<Self, StoreError> {
        let metrics = Metrics::new();
        let verifier = signer.verifier_key();
        let cache = LookupCache::new(cache_entries);
        let sequencer = Sequencer::start_with_cache(
            store.clone(),
            signer,
            metrics.clone(),
            Some(cache.clone()),
        )
        .await?;
        Ok(Service(Arc::new(Inner {
            store,
            sequencer,
            verifier,
            public_url: public_url.trim_end_matches('/').to_string(),
            metrics,
            cache,
        })))
    }

    /// The lookup cache (entry counts for operators and tests).
    pub fn cache(&self) -> &LookupCache {
        &self.0.cache
    }

    /// The storage.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The log's verifier key.
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.0.verifier
    }

    /// The public base URL.
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }

    fn refuse(&self, e: ApiError) -> ApiError {
        self.0.metrics.refused(e.code);
        e
    }

    /// Accepts a signed label (COSE_Sign1 bytes): it must verify with a registered, non-retired
    /// assessor key, and neither its bytes nor its id may be logged already.
    pub async fn submit_label(&self, bytes: &[u8]) -> Result<Submitted, ApiError> {
        self.submit_label_inner(bytes)
            .await
            .map_err(|e| self.refuse(e))
    }

    async fn submit_label_inner(&self, bytes: &[u8]) -> Result<Submitted, ApiError> {
        if bytes.is_empty() {
            return Err(ApiError::new(
                400,
                "empty-body",
                "the body must be a COSE_Sign1 label",
            ));
        }
        let (kid, _) = label::decode_unverified(bytes).map_err(label_error)?;
        let assessor = self.0.store.assessor(&kid.to_string()).await?.ok_or_else(|| {
            ApiError::new(
                403,
                "unregistered-assessor",
                format!("key id {kid} is not a registered assessor; the operator registers assessor keys with `trustgate registry add-assessor`"),
            )
        })?;
        if let Some(at) = &assessor.retired_at {
            return Err(ApiError::new(
                403,
                "retired-assessor",
                format!("assessor key {kid} ({}) was retired at {at}", assessor.name),
            ));
        }
        let verified = label::verify(bytes, &[assessor.key]).map_err(label_error)?;
        let claims = verified.claims;
        let entry = NewEntry {
            entry: bytes.to_vec(),
            digest: verified.digest.0,
            record: NewRecord::Label {
                label_id: claims.id.clone(),
                kid: kid.to_string(),
                mud_url: claims.network_profile.mud_url.clone(),
                images: claims.software.iter().map(|s| s.image_sha256.0).collect(),
            },
        };
        let receipt = self.0.sequencer.submit(entry).await?;
        let now = OffsetDateTime::now_utc();
        let status = label::status(&claims, now, &[]);
        let assessment = claims.conformance();
        Ok(Submitted {
            label_id: claims.id.clone(),
            digest: verified.digest.to_string(),
            leaf_index: receipt.leaf_index,
            tree_size: receipt.tree_size,
            status_words: label::summary_words(&status, &assessment),
            status,
            assessment,
            consumer_page: label::short_form(&self.0.public_url, &verified.digest),
        })
    }

    /// Accepts a status statement (see [`crate::statement`]) signed by the key that issued the
    /// label it names. Revocations and supersessions are final: later statements are refused.
    pub async fn submit_statement(&self, bytes: &[u8]) -> Result<Submitted, ApiError> {
        self.submit_statement_inner(bytes)
            .await
            .map_err(|e| self.refuse(e))
    }

    async fn submit_statement_inner(&self, bytes: &[u8]) -> Result<Submitted, ApiError> {
        if bytes.is_empty() {
            return Err(ApiError::new(
                400,
                "empty-body",
                "the body must be a COSE_Sign1 status statement",
            ));
        }
        let (kid, event) = statement::open_unverified(bytes).map_err(statement_error)?;
        if let StatusEventKind::Revoked { reason } = &event.kind {
            if reason.trim().is_empty() {
                return Err(ApiError::new(
                    422,
                    "empty-reason",
                    "a revocation must say why (the reason is shown on the consumer page)",
                ));
            }
        }
        let record = self
            .0
            .store
            .label_by_id(&event.label_id)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "unknown-label",
                    format!("no label with id {:?}", event.label_id),
                )
            })?;
        // Who signed: the label's issuing assessor (not retired), or a registered operator key
        // (operator statements: revoke / suspend / reinstate any label, see crate::statement).
        let signer = if kid.to_string() == record.kid {
            let assessor = self.0.store.assessor(&record.kid).await?.ok_or_else(|| {
                ApiError::new(
                    403,
                    "unregistered-assessor",
                    format!("key id {kid} is not a registered assessor"),
                )
            })?;
            if let Some(at) = &assessor.retired_at {
                return Err(ApiError::new(
                    403,
                    "retired-assessor",
                    format!(
                        "assessor key {kid} ({}) was retired at {at}; the registry operator can still revoke its labels with an operator statement",
                        assessor.name
                    ),
                ));
            }
            assessor
        } else if let Some(operator) = self.0.store.operator(&kid.to_string()).await? {
            if let Some(at) = &operator.retired_at {
                return Err(ApiError::new(
                    403,
                    "retired-operator",
                    format!("operator key {kid} ({}) was retired at {at}", operator.name),
                ));
            }
            if !statement::operator_may_state(&event.kind) {
                return Err(ApiError::new(
                    403,
                    "operator-statement-kind",
                    format!(
                        "an operator statement may only say {}; supersession and support dates are for the issuing assessor ({})",
                        statement::OPERATOR_KINDS,
                        record.kid
                    ),
                ));
            }
            operator
        } else {
            return Err(ApiError::new(
                403,
                "not-issuing-assessor",
                format!(
                    "statements about {:?} must be signed by the key that issued it ({}) or by a registered operator key, not {kid}",
                    event.label_id, record.kid
                ),
            ));
        };
        statement::verify_statement(bytes, &signer.key).map_err(statement_error)?;
        let now = OffsetDateTime::now_utc();
        if event.at > now + MAX_FUTURE_SKEW {
            return Err(ApiError::new(
                422,
                "future-statement",
                format!(
                    "statement takes effect at {}, more than 5 minutes from now",
                    label::rfc3339(event.at)
                ),
            ));
        }
        if event.at < now - MAX_BACKDATE {
            return Err(ApiError::new(
                422,
                "backdated-statement",
                format!(
                    "statement takes effect at {}, more than {} hours before now ({}); sign it with the current time",
                    label::rfc3339(event.at),
                    MAX_BACKDATE.whole_hours(),
                    label::rfc3339(now)
                ),
            ));
        }
        let (_, claims) = decode_stored(&record)?;
        let logged_at = self
            .0
            .store
            .logged_at(record.leaf_index)
            .await?
            .and_then(|t| {
                OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
            })
            .ok_or_else(|| {
                ApiError::from(StoreError::Corrupt(format!(
                    "label {:?}: no readable log time for entry {}",
                    event.label_id, record.leaf_index
                )))
            })?;
        let earliest = claims.validity.not_before.max(logged_at);
        if event.at < earliest {
            return Err(ApiError::new(
                422,
                "backdated-statement",
                format!(
                    "statement takes effect at {}, before the label itself ({}: its validity start or when it was logged)",
                    label::rfc3339(event.at),
                    label::rfc3339(earliest)
                ),
            ));
        }
        let facts = self
            .0
            .store
            .events_for(std::slice::from_ref(&event.label_id))
            .await?;
        if let Some(f) = facts.iter().find(|f| {
            matches!(
                f.event.kind,
                StatusEventKind::Revoked { .. } | StatusEventKind::Superseded { .. }
            )
        }) {
            return Err(ApiError::new(
                409,
                "status-final",
                format!(
                    "label {:?} is already {} (log entry {}); that is final",
                    event.label_id,
                    match f.event.kind {
                        StatusEventKind::Revoked { .. } => "revoked",
                        _ => "superseded",
                    },
                    f.leaf_index
                ),
            ));
        }
        if let Some(f) = facts.iter().find(|f| f.event == event) {
            // The same signed fact again (the log holds each fact once, whatever its bytes).
            return Err(ApiError::new(
                409,
                "replay",
                format!(
                    "this statement's fact is already logged (entry {}) for {:?}",
                    f.leaf_index, event.label_id
                ),
            ));
        }
        if let StatusEventKind::Superseded { by } = &event.kind {
            if self.0.store.label_by_id(by).await?.is_none() {
                return Err(ApiError::new(
                    422,
                    "unknown-label",
                    format!("the superseding label {by:?} is not in this registry"),
                ));
            }
        }
        let digest = label::label_digest(bytes);
        let entry = NewEntry {
            entry: bytes.to_vec(),
            digest: digest.0,
            record: NewRecord::Status(event.clone()),
        };
        let receipt = self.0.sequencer.submit(entry).await?;
        let mut all: Vec<StatusEvent> = facts.into_iter().map(|f| f.event).collect();
        all.push(event.clone());
        let status = label::status(&claims, now.max(event.at), &all);
        let assessment = claims.conformance();
        Ok(Submitted {
            label_id: event.label_id.clone(),
            digest: digest.to_string(),
            leaf_index: receipt.leaf_index,
            tree_size: receipt.tree_size,
            status_words: label::summary_words(&status, &assessment),
            status,
            assessment,
            consumer_page: label::short_form(
                &self.0.public_url,
                &label::label_digest(&record.cose),
            ),
        })
    }

    /// Each checkpoint as the sequencer publishes it.
    pub fn checkpoints(&self) -> tokio::sync::watch::Receiver<StoredCheckpoint> {
        self.0.sequencer.subscribe()
    }

    /// The latest committed checkpoint (kept in memory by the sequencer).
    pub async fn checkpoint(&self) -> Result<StoredCheckpoint, ApiError> {
        Ok(self.0.sequencer.checkpoint())
    }

    /// Full views (status, claims, proofs) of these labels. Records not yet covered by the
    /// published checkpoint (committed, not yet acknowledged) are left out.
    pub async fn views(&self, records: Vec<LabelRecord>) -> Result<Vec<LabelView>, ApiError> {
        let prepared = self.prepared_for(records).await?;
        let now = OffsetDateTime::now_utc();
        prepared.iter().map(|p| parse_view(p, now)).collect()
    }

    /// Prepared answers for these records, from the cache or built (and cached), in order.
    async fn prepared_for(
        &self,
        records: Vec<LabelRecord>,
    ) -> Result<Vec<Arc<Prepared>>, ApiError> {
        let cache = &self.0.cache;
        let cached: Vec<Option<Arc<Prepared>>> =
            records.iter().map(|r| cache.get(&r.label_id)).collect();
        let missing: Vec<LabelRecord> = records
            .into_iter()
            .zip(&cached)
            .filter(|(_, c)| c.is_none())
            .map(|(r, _)| r)
            .collect();
        let mut built = HashMap::new();
        if !missing.is_empty() {
            // The epoch before the facts are read (crate::cache: no stale insert).
            let epoch = cache.epoch();
            let ids: Vec<String> = missing.iter().map(|r| r.label_id.clone()).collect();
            let events = self.0.store.events_for(&ids).await?;
            built = self.prepare(missing.clone(), events, epoch).await?;
        }
        let mut out = Vec::with_capacity(cached.len());
        let mut missing = missing.into_iter();
        for c in cached {
            match c {
                Some(p) => out.push(p),
                None => {
                    let r = missing.next().expect("one record per miss");
                    if let Some(p) = built.remove(&r.label_id) {
                        out.push(p);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Builds the answers of these labels (records and their facts, read after the cache
    /// `epoch` was noted) against the published checkpoint, and caches them.
    async fn prepare(
        &self,
        records: Vec<LabelRecord>,
        events: Vec<crate::store::EventRecord>,
        epoch: u64,
    ) -> Result<HashMap<String, Arc<Prepared>>, ApiError> {
        // The checkpoint AFTER the rows: a checkpoint is published only after its batch
        // committed, so rows beyond it are committed but not yet acknowledged to anyone; leave
        // them out (no proof against this checkpoint exists for them yet).
        let cp = self.checkpoint().await?;
        let records: Vec<LabelRecord> = records
            .into_iter()
            .filter(|r| r.leaf_index < cp.size)
            .collect();
        let events: Vec<crate::store::EventRecord> = events
            .into_iter()
            .filter(|e| e.leaf_index < cp.size)
            .collect();
        if records.is_empty() {
            return Ok(HashMap::new());
        }
        // Every node every proof needs, fetched in one query.
        let mut indices: Vec<u64> = records.iter().map(|r| r.leaf_index).collect();
        indices.extend(events.iter().map(|e| e.leaf_index));
        let mut nodes = Vec::new();
        for &i in &indices {
            let plan = tlog::proof::inclusion_plan(i, cp.size).map_err(|e| {
                ApiError::new(
                    500,
                    "proof",
                    format!("entry {i} in tree of {}: {e}", cp.size),
                )
            })?;
            nodes.extend(plan.nodes());
        }
        nodes.sort();
        nodes.dedup();
        let reader = self.0.store.prefetch(nodes).await?;
        let checkpoint = Checkpoint::new(self.0.verifier.name(), cp.size, cp.root);
        let bundle = |entry: &[u8], index: u64| {
            ProofBundle::build(
                entry.to_vec(),
                index,
                &checkpoint,
                cp.signed_note.clone(),
                &reader,
            )
            .map_err(|e| ApiError::new(500, "proof", e.to_string()))
        };
        // The registered names of the signing keys (shown instead of the label's own claim).
        let mut names: HashMap<String, String> = HashMap::new();
        for r in &records {
            if !names.contains_key(&r.kid) {
                let a = self.0.store.assessor(&r.kid).await?.ok_or_else(|| {
                    ApiError::from(StoreError::Corrupt(format!(
                        "label {:?} was signed by key {}, which is not in the assessors table",
                        r.label_id, r.kid
                    )))
                })?;
                names.insert(r.kid.clone(), a.name);
            }
        }
        let mut out = HashMap::with_capacity(records.len());
        for r in records {
            let (digest, claims) = decode_stored(&r)?;
            // A label's facts in the order they take effect (statement time), log order among
            // equal times: the order the status rules read them in.
            let mut mine: Vec<&crate::store::EventRecord> = events
                .iter()
                .filter(|e| e.event.label_id == r.label_id)
                .collect();
            mine.sort_by_key(|e| (e.event.at, e.leaf_index));
            let mut logged = Vec::with_capacity(mine.len());
            let mut statements = Vec::with_capacity(mine.len());
            for e in &mine {
                logged.push(LoggedEvent {
                    leaf_index: e.leaf_index,
                    event: e.event.clone(),
                    bundle: bundle(&e.statement, e.leaf_index)?,
                });
                statements.push(
                    tlog::BundledEntry::build(
                        e.statement.clone(),
                        e.leaf_index,
                        &checkpoint,
                        &reader,
                    )
                    .map_err(|e| ApiError::new(500, "proof", e.to_string()))?,
                );
            }
            // The label's own bundle carries every statement about it, proven against the same
            // checkpoint, so an offline check sees a logged revocation.
            let mut label_bundle = bundle(&r.cose, r.leaf_index)?;
            label_bundle.statements = Some(statements);
            // The LabelView fields in declaration order (serde's order), split around the
            // three computed at request time: status, status_words, checked_at.
            let conformance = claims.conformance();
            let head = format!(
                "{{\"label_id\":{},\"digest\":{},\"kid\":{},\"assessor_name\":{},\"leaf_index\":{},\"assessment\":{},\"status\":",
                json(&r.label_id),
                json(&digest.to_string()),
                json(&r.kid),
                json(&names[&r.kid]),
                r.leaf_index,
                json(&conformance)
            );
            let tail = format!(
                ",\"claims\":{},\"consumer_page\":{},\"bundle\":{},\"events\":{}}}",
                json(&serde_json::to_value(&claims).expect("claims serialise")),
                json(&label::short_form(&self.0.public_url, &digest)),
                json(&label_bundle),
                json(&logged)
            );
            let p = Arc::new(Prepared {
                label_id: r.label_id.clone(),
                digest: digest.0,
                claims,
                facts: mine.iter().map(|e| e.event.clone()).collect(),
                conformance,
                head,
                tail,
            });
            self.0.cache.insert_if_current(epoch, p.clone());
            out.insert(r.label_id, p);
        }
        Ok(out)
    }

    /// The label with this id, prepared (cache, else one query for the label and its facts).
    async fn prepared_by_id(&self, id: &str) -> Result<Arc<Prepared>, ApiError> {
        if let Some(p) = self.0.cache.get(id) {
            return Ok(p);
        }
        let not_found = || ApiError::new(404, "not-found", format!("no label with id {id:?}"));
        let epoch = self.0.cache.epoch();
        let (record, events) = self
            .0
            .store
            .label_with_events(id)
            .await?
            .ok_or_else(not_found)?;
        self.prepare(vec![record], events, epoch)
            .await?
            .remove(id)
            .ok_or_else(not_found)
    }

    /// The label with this id.
    pub async fn by_id(&self, id: &str) -> Result<LabelView, ApiError> {
        let p = self.prepared_by_id(id).await?;
        parse_view(&p, OffsetDateTime::now_utc())
    }

    /// The label with this id as the JSON of its [`LabelView`] (what `GET /v1/labels/{id}`
    /// answers), status computed now.
    pub async fn by_id_json(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        let p = self.prepared_by_id(id).await?;
        let mut out = Vec::with_capacity(p.json_bytes() + 256);
        p.render_into(OffsetDateTime::now_utc(), &mut out);
        Ok(out)
    }

    async fn prepared_lookup(&self, q: &Lookup) -> Result<Vec<Arc<Prepared>>, ApiError> {
        let records = match q {
            Lookup::Digest(d) => {
                let d = parse_digest(d, "digest")?;
                if let Some(p) = self.0.cache.get_by_digest(&d) {
                    return Ok(vec![p]);
                }
                self.0
                    .store
                    .label_by_digest(&d)
                    .await?
                    .into_iter()
                    .collect()
            }
            Lookup::Firmware(d) => {
                self.0
                    .store
                    .labels_by_image(&parse_digest(d, "firmware")?)
                    .await?
            }
            Lookup::MudUrl(u) => self.0.store.labels_by_mud_url(u).await?,
        };
        self.prepared_for(records).await
    }

    /// Lookup by label digest, firmware image digest, or MUD URL (exactly one).
    pub async fn lookup(&self, q: &Lookup) -> Result<Vec<LabelView>, ApiError> {
        let now = OffsetDateTime::now_utc();
        self.prepared_lookup(q)
            .await?
            .iter()
            .map(|p| parse_view(p, now))
            .collect()
    }

    /// [`Service::lookup`] as the JSON of its [`LookupAnswer`] (what `GET /v1/lookup` answers).
    pub async fn lookup_json(&self, q: &Lookup) -> Result<Vec<u8>, ApiError> {
        let found = self.prepared_lookup(q).await?;
        let now = OffsetDateTime::now_utc();
        let mut out =
            Vec::with_capacity(32 + found.iter().map(|p| p.json_bytes() + 256).sum::<usize>());
        out.extend_from_slice(b"{\"labels\":[");
        for (i, p) in found.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            p.render_into(now, &mut out);
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    }

    /// Status of many labels at once (insurers). Proofs are not included; fetch them per label.
    pub async fn batch_status(&self, req: &BatchRequest) -> Result<BatchAnswer, ApiError> {
        let total = req.ids.len() + req.digests.len();
        if total == 0 {
            return Err(ApiError::new(
                422,
                "empty-batch",
                "give at least one id or digest",
            ));
        }
        if total > MAX_BATCH_ITEMS {
            return Err(ApiError::new(
                413,
                "batch-too-large",
                format!("{total} items; at most {MAX_BATCH_ITEMS} per request"),
            ));
        }
        let mut digests = Vec::with_capacity(req.digests.len());
        for (i, d) in req.digests.iter().enumerate() {
            digests.push(parse_digest(d, &format!("digests[{i}]"))?);
        }
        let mut records = self.0.store.labels_by_ids(&req.ids).await?;
        records.extend(self.0.store.labels_by_digests(&digests).await?);
        let mut by_id = std::collections::HashMap::new();
        let mut by_digest = std::collections::HashMap::new();
        for r in &records {
            let (digest, claims) = decode_stored(r)?;
            by_digest.insert(digest.0, r.label_id.clone());
            by_id.insert(r.label_id.clone(), claims);
        }
        let ids: Vec<String> = by_id.keys().cloned().collect();
        let mut facts: std::collections::HashMap<String, Vec<StatusEvent>> = Default::default();
        for e in self.0.store.events_for(&ids).await? {
            facts
                .entry(e.event.label_id.clone())
                .or_default()
                .push(e.event);
        }
        let now = OffsetDateTime::now_utc();
        let status_of = |id: &str| -> Status {
            label::status(
                &by_id[id],
                now,
                facts.get(id).map(|v| &v[..]).unwrap_or(&[]),
            )
        };
        let mut results = Vec::with_capacity(total);
        for id in &req.ids {
            let found = by_id.contains_key(id);
            results.push(BatchItem {
                query: id.clone(),
                found,
                label_id: found.then(|| id.clone()),
                status: found.then(|| status_of(id)),
                assessment: by_id.get(id).map(label::Claims::conformance),
            });
        }
        for (d, raw) in req.digests.iter().zip(&digests) {
            let id = by_digest.get(raw);
            results.push(BatchItem {
                query: d.clone(),
                found: id.is_some(),
                label_id: id.cloned(),
                status: id.map(|id| status_of(id)),
                assessment: id.map(|id| by_id[id].conformance()),
            });
        }
        Ok(BatchAnswer {
            checked_at: label::rfc3339(now),
            results,
        })
    }

    /// RFC 9162 §2.1.4 consistency proof between two sizes of this log.
    pub async fn consistency(&self, old: u64, new: u64) -> Result<ConsistencyAnswer, ApiError> {
        let cp = self.checkpoint().await?;
        if new > cp.size || old > new {
            return Err(ApiError::new(
                400,
                "bad-range",
                format!(
                    "need old <= new <= {} (the current size); got old={old} new={new}",
                    cp.size
                ),
            ));
        }
        // RFC 9162 §2.1.4 defines proofs for 0 < old < new; an empty old tree, or the same
        // size, is proven by the empty proof (tlog::verify_consistency checks the roots).
        if old == 0 || old == new {
            return Ok(ConsistencyAnswer {
                old,
                new,
                proof: Vec::new(),
            });
        }
        let plan = tlog::proof::consistency_plan(old, new)
            .map_err(|e| ApiError::new(400, "bad-range", e.to_string()))?;
        let reader = self.0.store.prefetch(plan.nodes()).await?;
        let proof = plan
            .execute(&reader)
            .map_err(|e| ApiError::new(500, "proof", e.to_string()))?;
        Ok(ConsistencyAnswer { old, new, proof })
    }

    /// Log origin, verifier key and size.
    pub async fn log_info(&self) -> Result<LogInfo, ApiError> {
        Ok(LogInfo {
            origin: self.0.verifier.name().to_string(),
            verifier_key: self.0.verifier.to_string(),
            size: self.checkpoint().await?.size,
        })
    }
}

/// One lookup key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Label digest (SHA-256 of the COSE bytes), hex.
    Digest(String),
    /// Firmware image SHA-256, hex.
    Firmware(String),
    /// MUD URL.
    MudUrl(String),
}

fn parse_digest(hex_text: &str, what: &str) -> Result<[u8; 32], ApiError> {
    let bytes = hex::decode(hex_text).map_err(|_| {
        ApiError::new(
            400,
            "bad-digest",
            format!("{what}: {hex_text:?} is not hex"),
        )
    })?;
    bytes.try_into().map_err(|_| {
        ApiError::new(
            400,
            "bad-digest",
            format!("{what}: a SHA-256 digest is 64 hex characters"),
        )
    })
}

fn decode_stored(r: &LabelRecord) -> Result<(label::Sha256Digest, label::Claims), ApiError> {
    // Verified when it was accepted; decoding again only reads it back.
    let (_, claims) = label::decode_unverified(&r.cose).map_err(|e| {
        ApiError::from(StoreError::Corrupt(format!(
            "stored label {:?}: {e}",
            r.label_id
        )))
    })?;
    Ok((label::label_digest(&r.cose), claims))
}

/// Compact JSON of a value (as axum's `Json` writes it).
fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("serialises")
}

/// A prepared answer as a [`LabelView`] (in-process callers: the consumer page, tests).
fn parse_view(p: &Prepared, now: OffsetDateTime) -> Result<LabelView, ApiError> {
    let mut bytes = Vec::with_capacity(p.json_bytes() + 256);
    p.render_into(now, &mut bytes);
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            500,
            "render",
            format!(
                "label {:?}: rendered JSON does not read back: {e}",
                p.label_id
            ),
        )
    })
}
