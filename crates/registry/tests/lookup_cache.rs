//! The lookup cache (`registry::cache`) over real HTTP on loopback, against a real SQLite file
//! and a real PostgreSQL server (`TRUSTGATE_TEST_PG`, a fresh schema per test): a cached label's
//! status is never stale after an acknowledged statement, cached proof bundles keep verifying
//! offline as the log grows, the entry bound holds, and the answers are byte for byte what
//! serde writes for `LabelView` / `LookupAnswer`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use label::{Claims, SigningKey, Status, StatusEvent, StatusEventKind};
use registry::{Client, LabelView, LookupAnswer, Running, Store};

mod common;
use common::*;

// ---------- fixtures ----------

fn claims(id: &str) -> Claims {
    let mut c = label::example_claims();
    c.id = id.into();
    c.software[0].image_sha256 = label::Sha256Digest::of(format!("fw-{id}").as_bytes());
    c.network_profile.mud_url = Some(format!("https://a.example/mud/{id}.json"));
    c
}

fn statement(
    key: &SigningKey,
    id: &str,
    at: time::OffsetDateTime,
    kind: StatusEventKind,
) -> Vec<u8> {
    registry::sign_statement(
        &StatusEvent {
            label_id: id.into(),
            at,
            kind,
        },
        key,
    )
}

fn revoked(reason: &str) -> StatusEventKind {
    StatusEventKind::Revoked {
        reason: reason.into(),
    }
}

struct Registry {
    running: Running,
    client: Client,
    store: Store,
    key: SigningKey,
}

async fn start(backend: &Backend, cache_entries: usize) -> Registry {
    let store = Store::open(&backend.url).await.unwrap();
    let key = label::generate_key().unwrap();
    store
        .register_assessor("lab", &key.verifying_key())
        .await
        .unwrap();
    let running = registry::spawn_with_cache_entries(
        store.clone(),
        signer(),
        "127.0.0.1:0".parse().unwrap(),
        None,
        cache_entries,
    )
    .await
    .unwrap();
    let client = Client::new(&running.url).unwrap();
    Registry {
        running,
        client,
        store,
        key,
    }
}

impl Registry {
    async fn issue(&self, id: &str) -> Vec<u8> {
        let bytes = label::sign(&claims(id), &self.key).unwrap();
        self.client.submit_label(&bytes).await.unwrap();
        bytes
    }
    async fn stop(self) {
        self.running.shutdown().await.unwrap();
        self.store.close().await;
    }
}

/// GET `path`, asserting 200 and that the body is exactly serde's compact JSON of `T` read
/// back from it (the cached rendering must not change the response format).
async fn get_exact<T: serde::de::DeserializeOwned + serde::Serialize>(
    client: &Client,
    path: &str,
) -> T {
    let (status, body) = client.get_raw(path).await.unwrap();
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    let value: T = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        String::from_utf8(serde_json::to_vec(&value).unwrap()).unwrap(),
        String::from_utf8(body).unwrap(),
        "{path}: the answer is not byte for byte serde's JSON of its type"
    );
    value
}

// ---------- 1. a cached status is never stale after an acknowledged statement ----------

async fn status_never_stale(backend: Backend) {
    // A tiny cache, so that in the race below lookups keep evicting and refilling.
    let r = start(&backend, 2).await;
    let l1 = r.issue("urn:c:1").await;
    let _l2 = r.issue("urn:c:2").await;
    let digest = label::label_digest(&l1).to_string();
    let fw = label::Sha256Digest::of(b"fw-urn:c:1").to_string();
    let by_id = "/v1/labels/urn:c:1".to_string();
    let by_digest = format!("/v1/lookup?digest={digest}");
    let by_fw = format!("/v1/lookup?firmware={fw}");

    // Looked up every way (twice), so it is cached.
    for _ in 0..2 {
        let v: LabelView = get_exact(&r.client, &by_id).await;
        assert_eq!(v.status, Status::Active);
        let a: LookupAnswer = get_exact(&r.client, &by_digest).await;
        assert_eq!(a.labels[0].status, Status::Active);
        let a: LookupAnswer = get_exact(&r.client, &by_fw).await;
        assert_eq!(a.labels.len(), 1);
    }
    assert!(r.running.service.cache().get("urn:c:1").is_some(), "cached");

    // Revoke it: the very next lookup, every way, says revoked, with the statement proven.
    let now = time::OffsetDateTime::now_utc();
    let st = statement(&r.key, "urn:c:1", now, revoked("key leaked"));
    r.client.submit_statement(&st).await.unwrap();
    let v: LabelView = get_exact(&r.client, &by_id).await;
    assert_eq!(
        v.status,
        Status::Revoked {
            reason: "key leaked".into()
        }
    );
    assert!(v.status_words.starts_with("Revoked"), "{}", v.status_words);
    assert_eq!(v.events.len(), 1);
    verify_bundle(&v.events[0].bundle, &st);
    let a: LookupAnswer = get_exact(&r.client, &by_digest).await;
    assert!(matches!(a.labels[0].status, Status::Revoked { .. }));
    let a: LookupAnswer = get_exact(&r.client, &by_fw).await;
    assert!(matches!(a.labels[0].status, Status::Revoked { .. }));
    // In-process callers (the consumer page) read the same answers.
    assert!(matches!(
        r.running.service.by_id("urn:c:1").await.unwrap().status,
        Status::Revoked { .. }
    ));
    // The other label is untouched.
    let v: LabelView = get_exact(&r.client, "/v1/labels/urn:c:2").await;
    assert_eq!(v.status, Status::Active);

    // Time-dependent status is computed per request, not frozen in the cache: a suspension
    // that takes effect 2 s from now is logged; the label reads active until then and
    // suspended after, with no commit in between.
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    r.client
        .submit_statement(&statement(
            &r.key,
            "urn:c:2",
            at,
            StatusEventKind::Suspended,
        ))
        .await
        .unwrap();
    let v: LabelView = get_exact(&r.client, "/v1/labels/urn:c:2").await;
    assert_eq!(v.status, Status::Active, "not in force yet");
    assert_eq!(v.events.len(), 1, "but logged and shown");
    let size = r.running.service.checkpoint().await.unwrap().size;
    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    let v: LabelView = get_exact(&r.client, "/v1/labels/urn:c:2").await;
    assert_eq!(v.status, Status::Suspended, "in force now");
    assert_eq!(
        r.running.service.checkpoint().await.unwrap().size,
        size,
        "nothing was committed meanwhile: the status came from the clock"
    );

    // Racing fills: lookups of the label and of decoys (which evict it from the 2-entry cache,
    // so fills of it are in flight all the time) run continuously while its revocation
    // commits; after the acknowledgement, every lookup must see it (a fill that read the
    // database before the commit must not land in the cache after the invalidation; the
    // deterministic version of this is the unit test in src/cache.rs).
    let ids: Vec<String> = (0..6).map(|i| format!("urn:c:race{i}")).collect();
    for id in &ids {
        r.issue(id).await;
    }
    for id in &ids {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut hammers = Vec::new();
        for h in 0..8 {
            let target = if h % 2 == 0 {
                id.clone()
            } else {
                format!("urn:c:{}", h % 4 / 2 + 1)
            };
            let (client, stop, path) = (
                r.client.clone(),
                stop.clone(),
                format!("/v1/labels/{target}"),
            );
            hammers.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let (status, _) = client.get_raw(&path).await.unwrap();
                    assert_eq!(status, 200);
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let st = statement(&r.key, id, time::OffsetDateTime::now_utc(), revoked("race"));
        r.client.submit_statement(&st).await.unwrap();
        for _ in 0..50 {
            let v: LabelView = get_exact(&r.client, &format!("/v1/labels/{id}")).await;
            assert!(
                matches!(v.status, Status::Revoked { .. }),
                "{id}: stale status {:?} after the revocation was acknowledged",
                v.status
            );
        }
        stop.store(true, Ordering::Relaxed);
        for h in hammers {
            h.await.unwrap();
        }
        let v: LabelView = get_exact(&r.client, &format!("/v1/labels/{id}")).await;
        assert!(matches!(v.status, Status::Revoked { .. }));
    }
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_is_seen_by_the_next_lookup_on_sqlite() {
    status_never_stale(sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_is_seen_by_the_next_lookup_on_postgres() {
    status_never_stale(postgres("c").await).await;
}

// ---------- 2. cached bundles keep verifying as the log grows ----------

async fn bundles_stay_valid(backend: Backend) {
    let r = start(&backend, 1000).await;
    let l1 = r.issue("urn:b:1").await;
    let first: LabelView = get_exact(&r.client, "/v1/labels/urn:b:1").await;
    let old_size = verify_bundle(&first.bundle, &l1);
    let old_root = r.running.service.checkpoint().await.unwrap().root;
    assert_eq!(old_size, 1);

    for i in 2..=40 {
        r.issue(&format!("urn:b:{i}")).await;
    }
    let new_cp = r.running.service.checkpoint().await.unwrap();
    assert_eq!(new_cp.size, 40);

    // Served from the cache: still proven against the checkpoint it was built with, and still
    // verifying offline; that checkpoint is a prefix of today's log (RFC 9162 §2.1.4).
    let again: LabelView = get_exact(&r.client, "/v1/labels/urn:b:1").await;
    assert_eq!(verify_bundle(&again.bundle, &l1), old_size);
    let proof = r.client.consistency(old_size, new_cp.size).await.unwrap();
    tlog::verify_consistency(old_size, new_cp.size, &old_root, &new_cp.root, &proof.proof)
        .expect("the cached bundle's checkpoint is consistent with the current one");
    let by_digest: LookupAnswer = get_exact(
        &r.client,
        &format!("/v1/lookup?digest={}", label::label_digest(&l1)),
    )
    .await;
    assert_eq!(verify_bundle(&by_digest.labels[0].bundle, &l1), old_size);

    // A label first looked up now is proven against the current checkpoint.
    let l40 = label::sign(&claims("urn:b:40"), &r.key).unwrap();
    let last: LabelView = get_exact(&r.client, "/v1/labels/urn:b:40").await;
    assert_eq!(verify_bundle(&last.bundle, &l40), 40);

    // After a statement about urn:b:1, its new answer is rebuilt against the checkpoint that
    // includes the statement, and both bundles verify.
    let st = statement(
        &r.key,
        "urn:b:1",
        time::OffsetDateTime::now_utc(),
        revoked("superseded firmware"),
    );
    r.client.submit_statement(&st).await.unwrap();
    let after: LabelView = get_exact(&r.client, "/v1/labels/urn:b:1").await;
    assert_eq!(verify_bundle(&after.bundle, &l1), 41);
    assert_eq!(verify_bundle(&after.events[0].bundle, &st), 41);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_bundles_verify_after_appends_on_sqlite() {
    bundles_stay_valid(sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_bundles_verify_after_appends_on_postgres() {
    bundles_stay_valid(postgres("c").await).await;
}

// ---------- 3. the bound ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_holds_at_most_its_capacity() {
    const CAP: usize = 8;
    const LABELS: usize = 40;
    let backend = sqlite();
    let r = start(&backend, CAP).await;
    let mut issued = Vec::new();
    for i in 0..LABELS {
        issued.push(r.issue(&format!("urn:k:{i}")).await);
    }
    let mut largest_answer = 0;
    for round in 0..2 {
        for (i, bytes) in issued.iter().enumerate() {
            let v: LabelView = get_exact(&r.client, &format!("/v1/labels/urn:k:{i}")).await;
            assert_eq!(v.label_id, format!("urn:k:{i}"));
            verify_bundle(&v.bundle, bytes);
            let a: LookupAnswer = get_exact(
                &r.client,
                &format!("/v1/lookup?digest={}", label::label_digest(bytes)),
            )
            .await;
            assert_eq!(a.labels[0].label_id, v.label_id);
            largest_answer = largest_answer.max(serde_json::to_vec(&v).unwrap().len());
            let s = r.running.service.cache().stats();
            assert!(s.entries <= CAP, "round {round}, label {i}: {s:?}");
            assert!(s.digest_index <= s.entries, "{s:?}");
        }
    }
    let s = r.running.service.cache().stats();
    assert_eq!((s.entries, s.digest_index, s.capacity), (CAP, CAP, CAP));
    // The bytes held are those of CAP answers (each a little smaller than its full answer,
    // whose status fields are rendered per request).
    assert!(
        s.json_bytes <= CAP * largest_answer && s.json_bytes >= CAP * largest_answer / 2,
        "{s:?}, answers up to {largest_answer} bytes"
    );
    // The most recently used labels are the cached ones; an evicted one is answered from the
    // database again (and becomes cached).
    assert!(r
        .running
        .service
        .cache()
        .get(&format!("urn:k:{}", LABELS - 1))
        .is_some());
    assert!(r.running.service.cache().get("urn:k:0").is_none());
    let v: LabelView = get_exact(&r.client, "/v1/labels/urn:k:0").await;
    verify_bundle(&v.bundle, &issued[0]);
    assert!(r.running.service.cache().get("urn:k:0").is_some());
    assert_eq!(r.running.service.cache().stats().entries, CAP);
    r.stop().await;
}
