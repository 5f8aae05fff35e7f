//! The manager's thread: a queue of URLs in, [`Update`]s out.

use crate::cache::{Layout, Meta};
use crate::fetch::{check_url, signature_url, FetchError, FetchLimits, Fetched, Fetcher};
use crate::trust::{check_signer_host, Pins, SignerMapping};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, Semaphore};

/// The label registry the manager asks, and the keys its answers are checked with.
#[derive(Clone)]
pub struct RegistryConfig {
    /// Base URL (`https://registry.example` or `http://127.0.0.1:8080`: answers are checked
    /// against their proofs, so the transport adds no trust).
    pub url: String,
    /// The log's public key (C2SP signed-note verifier).
    pub log: tlog::checkpoint::LogVerifier,
    /// Assessor keys: a label signed by one of them has its signature checked here.
    pub assessors: label::KeyRing,
    /// Registry operator keys (revocations, suspensions).
    pub operators: label::KeyRing,
    /// How often each URL's label is asked for again.
    pub refresh: Duration,
    /// How often `/checkpoint` is polled; a grown log refreshes every label at once.
    pub poll: Duration,
    /// Timeout of one registry request.
    pub timeout: Duration,
}

/// How the manager works.
#[derive(Clone)]
pub struct ManagerConfig {
    /// The gateway's state directory (the manager keeps `mud/` and `labels/` in it).
    pub state_dir: PathBuf,
    /// Manufacturer trust anchors for MUD signatures; `None`: no MUD file can be verified,
    /// every device stays at the level for devices without one.
    pub anchors: Option<mud::signature::TrustAnchors>,
    /// Signers allowed to speak for hosts their certificates do not name.
    pub signer_mappings: Vec<SignerMapping>,
    /// CA certificates (PEM) trusted for the HTTPS fetch besides (or instead of) the bundled
    /// Mozilla roots.
    pub tls_roots_pem: Vec<Vec<u8>>,
    /// Trust the Mozilla root store bundled with rustls for HTTPS fetches.
    pub builtin_roots: bool,
    /// Bounds on each fetch.
    pub limits: FetchLimits,
    /// Most fetches in flight at once (connections open).
    pub concurrency: usize,
    /// Most URLs managed; more are refused with a warning.
    pub max_urls: usize,
    /// Read MUD files leniently (draft-era names, MUDgee's port quirks), with warnings.
    pub lenient: bool,
    /// The label registry, if any.
    pub registry: Option<RegistryConfig>,
    /// First wait before a failed fetch is tried again (doubling up to an hour).
    pub retry: Duration,
}

impl std::fmt::Debug for ManagerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerConfig")
            .field("state_dir", &self.state_dir)
            .field("anchors", &self.anchors)
            .field("signer_mappings", &self.signer_mappings)
            .field("tls_roots", &self.tls_roots_pem.len())
            .field("builtin_roots", &self.builtin_roots)
            .field("limits", &self.limits)
            .field("concurrency", &self.concurrency)
            .field("lenient", &self.lenient)
            .field("registry", &self.registry.as_ref().map(|r| r.url.as_str()))
            .finish()
    }
}

impl ManagerConfig {
    /// Defaults for a state directory: no anchors, no registry, Mozilla roots, 16 fetches at
    /// once, 4096 URLs, strict parsing.
    pub fn new(state_dir: PathBuf) -> Self {
        ManagerConfig {
            state_dir,
            anchors: None,
            signer_mappings: vec![],
            tls_roots_pem: vec![],
            builtin_roots: true,
            limits: FetchLimits::default(),
            concurrency: 16,
            max_urls: 4096,
            lenient: false,
            registry: None,
            retry: Duration::from_secs(5),
        }
    }
}

/// A MUD file that verified.
#[derive(Clone, Debug)]
pub struct VerifiedMud {
    /// The compiled policy.
    pub policy: mud::DevicePolicy,
    /// The signer's subject.
    pub signer: String,
    /// Unix seconds it was fetched (or last confirmed by a `304`).
    pub fetched_at: i64,
    /// Unix seconds it may be used until (`cache-validity`, RFC 8520 §3.5).
    pub expires_at: i64,
    /// Read back from the state directory at start (verified again).
    pub from_cache: bool,
    /// Parser warnings.
    pub warnings: Vec<String>,
}

/// Why a MUD URL gave no usable file (the JSON spelling is kebab-case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalKind {
    /// Not `https`.
    NotHttps,
    /// Over 255 bytes or not a URL.
    BadUrl,
    /// No connection or TLS session.
    Unreachable,
    /// No complete answer in time.
    Timeout,
    /// Over 1 MiB.
    TooLarge,
    /// An HTTP error status, or a redirect refused.
    Http,
    /// No trust anchors configured.
    NoAnchors,
    /// The signature does not verify (malformed, wrong content, damaged).
    BadSignature,
    /// The signer does not chain to a configured anchor (or is expired / not yet valid).
    UntrustedSigner,
    /// The signer does not name the URL's host.
    SignerNotForHost,
    /// Another signer than the first one seen for the URL.
    SignerChanged,
    /// Not a valid MUD file, or a file for another URL.
    InvalidMud,
    /// The last verified copy expired and could not be refreshed.
    Expired,
    /// More URLs than the manager keeps.
    TooMany,
}

impl RefusalKind {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::NotHttps => "not-https",
            RefusalKind::BadUrl => "bad-url",
            RefusalKind::Unreachable => "unreachable",
            RefusalKind::Timeout => "timeout",
            RefusalKind::TooLarge => "too-large",
            RefusalKind::Http => "http",
            RefusalKind::NoAnchors => "no-anchors",
            RefusalKind::BadSignature => "bad-signature",
            RefusalKind::UntrustedSigner => "untrusted-signer",
            RefusalKind::SignerNotForHost => "signer-not-for-host",
            RefusalKind::SignerChanged => "signer-changed",
            RefusalKind::InvalidMud => "invalid-mud",
            RefusalKind::Expired => "expired",
            RefusalKind::TooMany => "too-many",
        }
    }

    /// Whether the failure is the network's (a verified copy is kept until it expires).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            RefusalKind::Unreachable | RefusalKind::Timeout | RefusalKind::Http
        )
    }
}

/// The outcome for a MUD URL.
#[derive(Clone, Debug)]
pub enum MudVerdict {
    /// A file verified: use it.
    Verified(Arc<VerifiedMud>),
    /// No usable file; `kept_until`: a transient failure while an earlier verified copy
    /// stays in use until then (unix seconds).
    Refused {
        /// Why, as a kind.
        kind: RefusalKind,
        /// Why, in words.
        reason: String,
        /// When a verified copy is still in use, until when.
        kept_until: Option<i64>,
    },
}

/// A label that verified, as cached.
#[derive(Clone, Debug)]
pub struct LabelInfo {
    /// The label's id.
    pub label_id: String,
    /// Its claims (proven in the log).
    pub claims: label::Claims,
    /// Every status fact proven with it.
    pub facts: Vec<label::StatusEvent>,
    /// Its assessment outcome, computed from its verdicts.
    pub conformance: label::Conformance,
    /// The assessor name the registry registered.
    pub assessor: String,
    /// The consumer page.
    pub consumer_page: String,
    /// Unix seconds the registry's answer was checked.
    pub checked_at: i64,
    /// Size of the checkpoint it is proven in.
    pub tree_size: u64,
    /// Other labels the registry holds for the firmware images this label names (looked up
    /// by each `software` image digest), each checked against its proofs like this one. The
    /// same firmware in another product, revoked (a default password found in it, say),
    /// tightens this device too. Empty when read from the cache (only the MUD URL's answer
    /// is cached) until the next refresh.
    pub firmware_labels: Vec<FirmwareLabel>,
}

/// A label found by the digest of a firmware image another label names.
#[derive(Clone, Debug)]
pub struct FirmwareLabel {
    /// The image's SHA-256, as the registry was asked.
    pub image_sha256: String,
    /// The label's id.
    pub label_id: String,
    /// Its claims (proven in the log).
    pub claims: label::Claims,
    /// Every status fact proven with it.
    pub facts: Vec<label::StatusEvent>,
}

impl FirmwareLabel {
    /// Its status at `at`, from its proven facts.
    pub fn status_at(&self, at: OffsetDateTime) -> label::Status {
        label::status(&self.claims, at, &self.facts)
    }
}

impl LabelInfo {
    /// Its status at `at`, from the proven facts alone (a support end date that passes while
    /// the registry is unreachable still counts).
    pub fn status_at(&self, at: OffsetDateTime) -> label::Status {
        label::status(&self.claims, at, &self.facts)
    }
}

/// The outcome of asking the registry about a MUD URL.
#[derive(Clone, Debug)]
pub enum LabelVerdict {
    /// A label, checked against its proofs.
    Found(Arc<LabelInfo>),
    /// The registry knows no label for the URL.
    NoLabel,
    /// The answer's proofs, signatures or log consistency failed: it is not used.
    Refused(String),
    /// The registry could not be asked; the last verified answer (if any) stays in use.
    Unreachable(String),
}

/// What the manager reports.
#[derive(Clone, Debug)]
pub enum Update {
    /// A MUD URL's file verified or was refused.
    Mud {
        /// The URL.
        url: String,
        /// The outcome.
        verdict: MudVerdict,
    },
    /// A MUD URL's label.
    Label {
        /// The URL.
        url: String,
        /// The outcome.
        verdict: LabelVerdict,
    },
    /// Something a person should know that concerns no single URL.
    Warning(String),
}

/// Handle of the manager's thread. Dropping it stops the thread.
pub struct Manager {
    tx: Option<mpsc::Sender<String>>,
    updates: std::sync::mpsc::Receiver<Update>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// URLs waiting to be taken up by the manager's thread; beyond it `want` says the queue is
/// full and the caller asks again later.
const QUEUE: usize = 4096;

impl Manager {
    /// Start the thread: cached files and answers are verified again and reported first.
    pub fn start(cfg: ManagerConfig) -> Result<Manager, String> {
        let fetcher = Fetcher::new(cfg.limits.clone(), &cfg.tls_roots_pem, cfg.builtin_roots)
            .map_err(|e| error_chain(&e))?;
        let layout = Layout::new(&cfg.state_dir);
        let pins = Pins::load(&layout.pins())?;
        let registry = match &cfg.registry {
            Some(r) => Some(registry::Client::new(&r.url).map_err(|e| e.to_string())?),
            None => None,
        };
        let last_checkpoint = match std::fs::read_to_string(layout.checkpoint()) {
            Ok(text) => match &cfg.registry {
                Some(r) => r
                    .log
                    .verify_checkpoint(text.as_bytes())
                    .ok()
                    .map(|c| (c, text)),
                None => None,
            },
            Err(_) => None,
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let (out_tx, updates) = std::sync::mpsc::channel();
        let ctx = Arc::new(Ctx {
            sem: Semaphore::new(cfg.concurrency.max(1)),
            cfg,
            fetcher,
            layout,
            pins: Mutex::new(pins),
            registry,
            last_checkpoint: Mutex::new(last_checkpoint),
            log_broken: Mutex::new(None),
            out: out_tx,
        });
        let thread = std::thread::Builder::new()
            .name("mud-manager".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ctx.out.send(Update::Warning(format!(
                            "the MUD manager could not start: {e}"
                        )));
                        return;
                    }
                };
                rt.block_on(run(ctx, rx));
            })
            .map_err(|e| e.to_string())?;
        Ok(Manager {
            tx: Some(tx),
            updates,
            thread: Some(thread),
        })
    }

    /// Ask for `url` to be managed (fetched, verified, refreshed, its label looked up).
    /// Asking again for a known URL does nothing. `false`: the queue is full, ask again later.
    pub fn want(&self, url: &str) -> bool {
        match &self.tx {
            Some(tx) => !matches!(
                tx.try_send(url.to_string()),
                Err(mpsc::error::TrySendError::Full(_))
            ),
            None => false,
        }
    }

    /// Every update reported since the last call.
    pub fn poll(&self) -> Vec<Update> {
        self.updates.try_iter().collect()
    }

    /// Wait up to `timeout` for the next update.
    pub fn wait(&self, timeout: Duration) -> Option<Update> {
        self.updates.recv_timeout(timeout).ok()
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn now_s() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

struct Ctx {
    cfg: ManagerConfig,
    fetcher: Fetcher,
    layout: Layout,
    pins: Mutex<Pins>,
    sem: Semaphore,
    registry: Option<registry::Client>,
    /// Newest checkpoint seen (and its signed text), every later one proven consistent.
    last_checkpoint: Mutex<Option<(tlog::Checkpoint, String)>>,
    /// Set when the log could not be proven consistent: no answer is used after it.
    log_broken: Mutex<Option<String>>,
    out: std::sync::mpsc::Sender<Update>,
}

/// A verified copy of a MUD file: its expiry (unix s), validators, and (file, signature).
type VerifiedCopy = (i64, crate::fetch::Validators, Arc<(Vec<u8>, Vec<u8>)>);

/// Per-URL schedule, owned by the manager's loop.
#[derive(Default)]
struct UrlState {
    busy: bool,
    /// Next fetch (unix s).
    next_fetch: i64,
    /// The verified copy's expiry, its validators, and its bytes (for a `304`).
    verified: Option<VerifiedCopy>,
    tries: u32,
    label_busy: bool,
    next_label: i64,
}

enum Done {
    Mud {
        url: String,
        result: Result<FetchOk, (RefusalKind, String)>,
    },
    Label {
        url: String,
        verdict: LabelVerdict,
    },
    Checkpoint {
        grew: bool,
    },
}

struct FetchOk {
    mud: Arc<VerifiedMud>,
    validators: crate::fetch::Validators,
    bytes: Arc<(Vec<u8>, Vec<u8>)>,
}

async fn run(ctx: Arc<Ctx>, mut rx: mpsc::Receiver<String>) {
    let mut urls: HashMap<String, UrlState> = HashMap::new();
    // What the state directory holds, verified again before it is used.
    let (cached, warnings) = ctx.layout.load_mud();
    for w in warnings {
        let _ = ctx.out.send(Update::Warning(w));
    }
    let now = now_s();
    for (meta, file, sig) in cached {
        if meta.expires_at <= now {
            continue;
        }
        let url = meta.url.clone();
        match verify_mud(
            &ctx,
            &url,
            &file,
            &sig,
            meta.fetched_at,
            meta.expires_at,
            true,
        ) {
            Ok(mud) => {
                let refresh = refresh_at(meta.fetched_at, meta.expires_at);
                urls.insert(
                    url.clone(),
                    UrlState {
                        next_fetch: refresh,
                        verified: Some((meta.expires_at, meta.validators, Arc::new((file, sig)))),
                        ..UrlState::default()
                    },
                );
                let _ = ctx.out.send(Update::Mud {
                    url: url.clone(),
                    verdict: MudVerdict::Verified(Arc::new(mud)),
                });
            }
            Err((kind, reason)) => {
                let _ = ctx.out.send(Update::Warning(format!(
                    "cached MUD file for {url} not used ({}): {reason}",
                    kind.as_str()
                )));
            }
        }
        if let Some(v) = cached_label(&ctx, &url) {
            let _ = ctx.out.send(Update::Label { url, verdict: v });
        }
    }
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut next_poll = 0i64;
    let mut polling = false;
    loop {
        tokio::select! {
            u = rx.recv() => {
                let Some(url) = u else { break };
                if urls.contains_key(&url) {
                    continue;
                }
                if urls.len() >= ctx.cfg.max_urls {
                    let _ = ctx.out.send(Update::Mud { url, verdict: MudVerdict::Refused {
                        kind: RefusalKind::TooMany,
                        reason: format!("the MUD manager already keeps {} URLs", ctx.cfg.max_urls),
                        kept_until: None,
                    }});
                    continue;
                }
                if let Some(v) = cached_label(&ctx, &url) {
                    let _ = ctx.out.send(Update::Label { url: url.clone(), verdict: v });
                }
                urls.insert(url, UrlState::default());
                schedule(&ctx, &mut urls, &done_tx);
            }
            d = done_rx.recv() => {
                let Some(d) = d else { break };
                match d {
                    Done::Mud { url, result } => {
                        let Some(st) = urls.get_mut(&url) else { continue };
                        st.busy = false;
                        let verdict = match result {
                            Ok(ok) => {
                                st.tries = 0;
                                st.next_fetch = refresh_at(ok.mud.fetched_at, ok.mud.expires_at);
                                st.verified = Some((ok.mud.expires_at, ok.validators, ok.bytes));
                                MudVerdict::Verified(ok.mud)
                            }
                            Err((kind, reason)) => {
                                st.tries += 1;
                                let wait = ctx.cfg.retry.as_secs().max(1)
                                    .saturating_mul(1 << st.tries.min(10)).min(3600);
                                st.next_fetch = now_s() + wait as i64;
                                let kept_until = match &st.verified {
                                    Some((exp, _, _)) if kind.is_transient() && *exp > now_s() => Some(*exp),
                                    _ => None,
                                };
                                if kept_until.is_none() {
                                    st.verified = None;
                                }
                                MudVerdict::Refused { kind, reason, kept_until }
                            }
                        };
                        let _ = ctx.out.send(Update::Mud { url, verdict });
                    }
                    Done::Label { url, verdict } => {
                        if let Some(st) = urls.get_mut(&url) {
                            st.label_busy = false;
                            let refresh = ctx.cfg.registry.as_ref().map_or(3600, |r| r.refresh.as_secs().max(1));
                            st.next_label = now_s() + match verdict {
                                LabelVerdict::Unreachable(_) => ctx.cfg.retry.as_secs().max(1),
                                _ => refresh,
                            } as i64;
                        }
                        let _ = ctx.out.send(Update::Label { url, verdict });
                    }
                    Done::Checkpoint { grew } => {
                        polling = false;
                        if grew {
                            for st in urls.values_mut() {
                                st.next_label = 0;
                            }
                        }
                    }
                }
            }
            _ = tick.tick() => {
                let now = now_s();
                for (url, st) in urls.iter_mut() {
                    // A verified copy past its expiry, not refreshed: no longer used.
                    if let Some((exp, _, _)) = &st.verified {
                        if *exp <= now && !st.busy {
                            st.verified = None;
                            let _ = ctx.out.send(Update::Mud { url: url.clone(), verdict: MudVerdict::Refused {
                                kind: RefusalKind::Expired,
                                reason: "the verified copy's cache-validity ran out and it could not be refreshed".into(),
                                kept_until: None,
                            }});
                        }
                    }
                }
                schedule(&ctx, &mut urls, &done_tx);
                if let (Some(r), false) = (&ctx.cfg.registry, polling) {
                    if next_poll <= now {
                        polling = true;
                        next_poll = now + r.poll.as_secs().max(1) as i64;
                        let (ctx, tx) = (ctx.clone(), done_tx.clone());
                        tokio::spawn(async move {
                            let grew = poll_checkpoint(&ctx).await;
                            let _ = tx.send(Done::Checkpoint { grew });
                        });
                    }
                }
            }
        }
    }
}

/// Start the fetches and lookups that are due.
fn schedule(
    ctx: &Arc<Ctx>,
    urls: &mut HashMap<String, UrlState>,
    done_tx: &mpsc::UnboundedSender<Done>,
) {
    let now = now_s();
    for (url, st) in urls.iter_mut() {
        if !st.busy && st.next_fetch <= now {
            st.busy = true;
            let cached = st.verified.clone();
            let (ctx, tx, url) = (ctx.clone(), done_tx.clone(), url.clone());
            tokio::spawn(async move {
                let result = fetch_mud(&ctx, &url, cached).await;
                let _ = tx.send(Done::Mud { url, result });
            });
        }
        if ctx.registry.is_some() && !st.label_busy && st.next_label <= now {
            st.label_busy = true;
            let (ctx, tx, url) = (ctx.clone(), done_tx.clone(), url.clone());
            tokio::spawn(async move {
                let verdict = lookup_label(&ctx, &url).await;
                let _ = tx.send(Done::Label { url, verdict });
            });
        }
    }
}

/// Refresh at half the validity: a failing server then has the other half to come back
/// before the copy expires.
fn refresh_at(fetched_at: i64, expires_at: i64) -> i64 {
    fetched_at + (expires_at - fetched_at) / 2
}

fn fetch_refusal(e: FetchError) -> (RefusalKind, String) {
    let kind = match &e {
        FetchError::NotHttps(_) => RefusalKind::NotHttps,
        FetchError::TooLong(_) | FetchError::BadUrl(_) => RefusalKind::BadUrl,
        FetchError::Unreachable { .. } | FetchError::Transport(_) | FetchError::Roots(_) => {
            RefusalKind::Unreachable
        }
        FetchError::Timeout { .. } => RefusalKind::Timeout,
        FetchError::Redirect(_) | FetchError::Status(_) => RefusalKind::Http,
        FetchError::TooLarge(_) => RefusalKind::TooLarge,
    };
    (kind, error_chain(&e))
}

async fn fetch_mud(
    ctx: &Arc<Ctx>,
    url: &str,
    cached: Option<VerifiedCopy>,
) -> Result<FetchOk, (RefusalKind, String)> {
    check_url(url).map_err(fetch_refusal)?;
    if ctx.cfg.anchors.is_none() {
        return Err((
            RefusalKind::NoAnchors,
            "no MUD trust anchors are configured, so no MUD file can be verified".into(),
        ));
    }
    let _permit = ctx.sem.acquire().await.map_err(|_| {
        (
            RefusalKind::Unreachable,
            "the MUD manager is stopping".to_string(),
        )
    })?;
    let fetched = ctx
        .fetcher
        .get(
            url,
            "application/mud+json",
            cached.as_ref().map(|(_, v, _)| v),
        )
        .await
        .map_err(fetch_refusal)?;
    let (bytes, sig, validators) = match (fetched, cached) {
        (Fetched::NotModified, Some((_, v, b))) => (b.0.clone(), b.1.clone(), v),
        (Fetched::NotModified, None) => {
            return Err((
                RefusalKind::Http,
                "304 Not Modified to an unconditional request".into(),
            ))
        }
        (Fetched::Body { bytes, validators }, _) => {
            let named = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| {
                    v.pointer("/ietf-mud:mud/mud-signature")
                        .and_then(|s| s.as_str())
                        .map(str::to_string)
                });
            let sig_url = signature_url(url, named.as_deref());
            let sig = match ctx
                .fetcher
                .get(&sig_url, "application/pkcs7-signature", None)
                .await
            {
                Ok(Fetched::Body { bytes, .. }) => bytes,
                Ok(Fetched::NotModified) => {
                    return Err((RefusalKind::Http, "304 to an unconditional request".into()))
                }
                Err(e) => {
                    // A missing signature (404 …) is no signature, not a network problem.
                    let missing = matches!(e, FetchError::Status(_));
                    let (kind, why) = fetch_refusal(e);
                    let kind = if kind.is_transient() && !missing {
                        kind
                    } else {
                        RefusalKind::BadSignature
                    };
                    return Err((kind, format!("signature {sig_url}: {why}")));
                }
            };
            (bytes, sig, validators)
        }
    };
    drop(_permit);
    let ctx2 = ctx.clone();
    let url2 = url.to_string();
    let now = now_s();
    let (bytes2, sig2) = (bytes.clone(), sig.clone());
    // OpenSSL verification is CPU work: off the runtime's thread.
    let mud = tokio::task::spawn_blocking(move || {
        verify_mud(&ctx2, &url2, &bytes2, &sig2, now, i64::MAX, false)
    })
    .await
    .map_err(|e| (RefusalKind::BadSignature, e.to_string()))??;
    let expires_at = now + i64::from(mud.policy.cache_validity_hours) * 3600;
    let mud = VerifiedMud { expires_at, ..mud };
    let meta = Meta {
        url: url.to_string(),
        validators: validators.clone(),
        fetched_at: now,
        expires_at,
    };
    if let Err(e) = ctx.layout.save_mud(&meta, &bytes, &sig) {
        let _ = ctx.out.send(Update::Warning(format!(
            "MUD file for {url} verified but not cached: {e}"
        )));
    }
    Ok(FetchOk {
        mud: Arc::new(mud),
        validators,
        bytes: Arc::new((bytes, sig)),
    })
}

/// Everything a MUD file must pass before it is used, in order: the signature over exactly
/// these bytes chains to an anchor; the signer names the URL's host (or is mapped to it); it is
/// the first signer seen for the URL; the file parses; its `mud-url` is the URL asked for.
fn verify_mud(
    ctx: &Ctx,
    url: &str,
    bytes: &[u8],
    sig: &[u8],
    fetched_at: i64,
    expires_at: i64,
    from_cache: bool,
) -> Result<VerifiedMud, (RefusalKind, String)> {
    use mud::signature::SignatureError as S;
    let Some(anchors) = &ctx.cfg.anchors else {
        return Err((
            RefusalKind::NoAnchors,
            "no MUD trust anchors are configured".into(),
        ));
    };
    let verified = mud::signature::verify_detached(bytes, sig, anchors, None).map_err(|e| {
        let kind = match e {
            S::UntrustedChain(_) | S::Expired { .. } | S::NotYetValid { .. } => {
                RefusalKind::UntrustedSigner
            }
            _ => RefusalKind::BadSignature,
        };
        (kind, e.to_string())
    })?;
    let host = check_url(url)
        .map_err(fetch_refusal)?
        .host_str()
        .unwrap_or_default()
        .to_string();
    check_signer_host(&verified, &host, &ctx.cfg.signer_mappings)
        .map_err(|e| (RefusalKind::SignerNotForHost, e.to_string()))?;
    let mode = if ctx.cfg.lenient {
        mud::parse::Mode::Lenient
    } else {
        mud::parse::Mode::Strict
    };
    let parsed =
        mud::parse::parse(bytes, mode).map_err(|e| (RefusalKind::InvalidMud, e.to_string()))?;
    if parsed.policy.mud_url != url {
        return Err((
            RefusalKind::InvalidMud,
            format!(
                "the file is the MUD file of {:?}, not of {url:?}",
                parsed.policy.mud_url
            ),
        ));
    }
    ctx.pins
        .lock()
        .map_err(|_| (RefusalKind::SignerChanged, "pin store poisoned".to_string()))?
        .check_and_pin(url, &verified)
        .map_err(|e| (RefusalKind::SignerChanged, e))?;
    Ok(VerifiedMud {
        policy: parsed.policy,
        signer: verified.signer_subject,
        fetched_at,
        expires_at,
        from_cache,
        warnings: parsed
            .warnings
            .into_iter()
            .map(|w| format!("{}: {}", w.path, w.message))
            .collect(),
    })
}

/// The registry's cached answer for `url`, checked again (proofs, signatures, consistency with
/// the newest checkpoint seen).
fn cached_label(ctx: &Ctx, url: &str) -> Option<LabelVerdict> {
    ctx.registry.as_ref()?;
    let bytes = ctx.layout.load_label(url)?;
    let answer: registry::LookupAnswer = serde_json::from_slice(&bytes).ok()?;
    Some(check_label_answer(ctx, url, &answer, None))
}

fn check_label_answer(
    ctx: &Ctx,
    url: &str,
    answer: &registry::LookupAnswer,
    proven_consistent: Option<()>,
) -> LabelVerdict {
    let Some(r) = &ctx.cfg.registry else {
        return LabelVerdict::NoLabel;
    };
    if let Some(why) = ctx.log_broken.lock().ok().and_then(|b| b.clone()) {
        return LabelVerdict::Refused(why);
    }
    let now = OffsetDateTime::now_utc();
    let mut best: Option<(registry::answer::CheckedAnswer, &registry::LabelView)> = None;
    for v in &answer.labels {
        match registry::answer::check_answer(v, &r.log, &r.assessors, &r.operators, now) {
            // A label speaks for the device only when it names this MUD URL: an answer with
            // another device's (valid, active) label must not make this one `declared`.
            Ok(c) if c.claims.network_profile.mud_url.as_deref() != Some(url) => {
                return LabelVerdict::Refused(format!(
                    "the registry answered with label {:?}, which names MUD URL {:?}, not {url:?}",
                    c.claims.id, c.claims.network_profile.mud_url
                ))
            }
            Ok(c) => {
                if best
                    .as_ref()
                    .is_none_or(|(b, _)| c.leaf_index > b.leaf_index)
                {
                    best = Some((c, v));
                }
            }
            Err(why) => {
                return LabelVerdict::Refused(format!(
                    "the registry's answer for label {:?} does not check: {why}",
                    v.label_id
                ))
            }
        }
    }
    let Some((c, v)) = best else {
        return LabelVerdict::NoLabel;
    };
    // A cached answer proven in an older checkpoint than the newest seen needs no proof
    // here when it was checked on arrival (`proven_consistent`); otherwise its checkpoint must
    // be the newest seen or older (its consistency was proven when the newer one arrived).
    if proven_consistent.is_none() {
        if let Ok(last) = ctx.last_checkpoint.lock() {
            if let Some((l, _)) = &*last {
                if c.checkpoint.size > l.size
                    || (c.checkpoint.size == l.size && c.checkpoint.root != l.root)
                {
                    return LabelVerdict::Refused(format!(
                        "the cached answer is proven in a checkpoint of size {} that was never proven consistent with the newest seen (size {})",
                        c.checkpoint.size, l.size
                    ));
                }
            }
        }
    }
    LabelVerdict::Found(Arc::new(LabelInfo {
        label_id: c.claims.id.clone(),
        facts: c.facts,
        conformance: c.conformance,
        assessor: v.assessor_name.clone(),
        consumer_page: v.consumer_page.clone(),
        checked_at: now.unix_timestamp(),
        tree_size: c.checkpoint.size,
        claims: c.claims,
        firmware_labels: vec![],
    }))
}

/// The other labels for each firmware image `info` names, checked against their proofs; an
/// answer that does not check, or whose log is not consistent, is refused as a whole (the
/// reason is returned), one the registry cannot give is skipped (`Ok` without it).
async fn firmware_labels(ctx: &Arc<Ctx>, info: &LabelInfo) -> Result<Vec<FirmwareLabel>, String> {
    let (Some(client), Some(r)) = (&ctx.registry, &ctx.cfg.registry) else {
        return Ok(vec![]);
    };
    let now = OffsetDateTime::now_utc();
    let mut out = vec![];
    for sw in &info.claims.software {
        let digest = sw.image_sha256.to_string();
        let Ok(Ok(labels)) =
            tokio::time::timeout(r.timeout, client.lookup("firmware", &digest)).await
        else {
            continue;
        };
        for v in &labels {
            if v.label_id == info.label_id {
                continue;
            }
            ensure_consistent(ctx, &v.bundle.checkpoint).await?;
            let c = registry::answer::check_answer(v, &r.log, &r.assessors, &r.operators, now)
                .map_err(|why| {
                    format!(
                        "the registry's answer for label {:?} (firmware {digest}) does not check: {why}",
                        v.label_id
                    )
                })?;
            // The registry must not pass off a label for other firmware as this one's.
            if !c
                .claims
                .software
                .iter()
                .any(|s| s.image_sha256 == sw.image_sha256)
            {
                return Err(format!(
                    "the registry answered the firmware {digest} lookup with label {:?}, which does not name that image",
                    c.claims.id
                ));
            }
            out.push(FirmwareLabel {
                image_sha256: digest.clone(),
                label_id: c.claims.id.clone(),
                claims: c.claims,
                facts: c.facts,
            });
        }
    }
    Ok(out)
}

async fn lookup_label(ctx: &Arc<Ctx>, url: &str) -> LabelVerdict {
    let (Some(client), Some(r)) = (&ctx.registry, &ctx.cfg.registry) else {
        return LabelVerdict::NoLabel;
    };
    let answer = match tokio::time::timeout(r.timeout, client.lookup("mud-url", url)).await {
        Ok(Ok(labels)) => registry::LookupAnswer { labels },
        Ok(Err(e)) => return LabelVerdict::Unreachable(error_chain(&e)),
        Err(_) => {
            return LabelVerdict::Unreachable(format!("no answer within {} s", r.timeout.as_secs()))
        }
    };
    // Every checkpoint an answer is proven in must be consistent with the newest seen.
    for v in &answer.labels {
        if let Err(why) = ensure_consistent(ctx, &v.bundle.checkpoint).await {
            return LabelVerdict::Refused(why);
        }
    }
    let mut verdict = check_label_answer(ctx, url, &answer, Some(()));
    if let LabelVerdict::Found(info) = &verdict {
        match firmware_labels(ctx, info).await {
            Ok(found) if found.is_empty() => {}
            Ok(found) => {
                let mut info = (**info).clone();
                info.firmware_labels = found;
                verdict = LabelVerdict::Found(Arc::new(info));
            }
            Err(why) => return LabelVerdict::Refused(why),
        }
    }
    if matches!(verdict, LabelVerdict::Found(_) | LabelVerdict::NoLabel) {
        if let Ok(bytes) = serde_json::to_vec(&answer) {
            if let Err(e) = ctx.layout.save_label(url, &bytes) {
                let _ = ctx.out.send(Update::Warning(format!(
                    "label answer for {url} checked but not cached: {e}"
                )));
            }
        }
    }
    verdict
}

/// Prove `signed` (a signed checkpoint note) consistent with the newest checkpoint seen, and
/// keep the newer of the two. A failure marks the log broken: no answer is used after it.
async fn ensure_consistent(ctx: &Arc<Ctx>, signed: &str) -> Result<bool, String> {
    let (Some(client), Some(r)) = (&ctx.registry, &ctx.cfg.registry) else {
        return Ok(false);
    };
    if let Some(why) = ctx.log_broken.lock().ok().and_then(|b| b.clone()) {
        return Err(why);
    }
    let cp = r
        .log
        .verify_checkpoint(signed.as_bytes())
        .map_err(|e| format!("checkpoint: {}", error_chain(&e)))?;
    let last = ctx.last_checkpoint.lock().ok().and_then(|l| l.clone());
    let broken = |why: String| {
        let why = format!("the registry's log is not consistent with what it showed before: {why}; its answers are not used");
        if let Ok(mut b) = ctx.log_broken.lock() {
            *b = Some(why.clone());
        }
        let _ = ctx.out.send(Update::Warning(why.clone()));
        why
    };
    let Some((l, _)) = last else {
        save_checkpoint(ctx, cp, signed);
        return Ok(true);
    };
    let (old, new) = if cp.size >= l.size {
        (&l, &cp)
    } else {
        (&cp, &l)
    };
    if old.size == new.size {
        return if old.root == new.root {
            Ok(false)
        } else {
            Err(broken(format!(
                "two checkpoints of size {} with different roots",
                old.size
            )))
        };
    }
    let proof = tokio::time::timeout(r.timeout, client.consistency(old.size, new.size))
        .await
        .map_err(|_| "no consistency proof within the timeout".to_string())?
        .map_err(|e| format!("consistency proof: {}", error_chain(&e)))?;
    tlog::verify_consistency(old.size, new.size, &old.root, &new.root, &proof.proof)
        .map_err(|e| broken(format!("sizes {} and {}: {e}", old.size, new.size)))?;
    if cp.size > l.size {
        save_checkpoint(ctx, cp, signed);
        return Ok(true);
    }
    Ok(false)
}

fn save_checkpoint(ctx: &Ctx, cp: tlog::Checkpoint, signed: &str) {
    if let Err(e) = crate::cache::write_atomic(&ctx.layout.checkpoint(), signed.as_bytes()) {
        let _ = ctx
            .out
            .send(Update::Warning(format!("checkpoint not saved: {e}")));
    }
    if let Ok(mut l) = ctx.last_checkpoint.lock() {
        *l = Some((cp, signed.to_string()));
    }
}

/// Poll `/checkpoint`; `true` when the log grew (consistently).
async fn poll_checkpoint(ctx: &Arc<Ctx>) -> bool {
    let (Some(client), Some(r)) = (&ctx.registry, &ctx.cfg.registry) else {
        return false;
    };
    let Ok(Ok(text)) = tokio::time::timeout(r.timeout, client.checkpoint()).await else {
        return false;
    };
    ensure_consistent(ctx, &text).await.unwrap_or(false)
}
