//! The registry end to end over real HTTP on loopback, with the same test body against a real
//! SQLite file and a real PostgreSQL server (`TRUSTGATE_TEST_PG`, a fresh schema per test).

use label::{Claims, SigningKey, Status, StatusEvent, StatusEventKind};
use registry::{BatchRequest, Client, ClientError, Counts, Store};
use time::macros::date;

mod common;
use common::*;

// ---------- fixtures ----------

fn claims(id: &str, model: &str, image: &[u8], mud: &str) -> Claims {
    let mut c = label::example_claims();
    c.id = id.into();
    c.product.model = model.into();
    c.software[0].image_sha256 = label::Sha256Digest::of(image);
    c.network_profile.mud_url = Some(mud.into());
    c
}

fn refused(r: Result<impl std::fmt::Debug, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Refused {
            status,
            code,
            message,
        }) => (status, code, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn counts(store: &Store) -> Counts {
    store.counts().await.unwrap()
}

fn revoke(key: &SigningKey, id: &str, reason: &str) -> Vec<u8> {
    registry::sign_statement(
        &StatusEvent {
            label_id: id.into(),
            at: time::OffsetDateTime::now_utc(),
            kind: StatusEventKind::Revoked {
                reason: reason.into(),
            },
        },
        key,
    )
}

// ---------- the shared test body ----------

async fn full_flow(backend: Backend) {
    let store = Store::open(&backend.url).await.unwrap();
    let assessor = label::generate_key().unwrap();
    let stranger = label::generate_key().unwrap();
    store
        .register_assessor("Example Test Lab", &assessor.verifying_key())
        .await
        .unwrap();
    let running = registry::spawn(
        store.clone(),
        signer(),
        "127.0.0.1:0".parse().unwrap(),
        None,
    )
    .await
    .unwrap();
    let client = Client::new(&running.url).unwrap();

    // Issue three labels.
    let l1 = label::sign(
        &claims(
            "urn:t:1",
            "CAM-100",
            b"fw-1",
            "https://a.example/mud/cam.json",
        ),
        &assessor,
    )
    .unwrap();
    let l2 = label::sign(
        &claims(
            "urn:t:2",
            "PLUG-7",
            b"fw-2",
            "https://a.example/mud/plug.json",
        ),
        &assessor,
    )
    .unwrap();
    let mut c3 = claims(
        "urn:t:3",
        "HUB-1",
        b"fw-3",
        "https://a.example/mud/hub.json",
    );
    c3.support.end_date = date!(2026 - 03 - 31); // already over ("now" is after it)
    let l3 = label::sign(&c3, &assessor).unwrap();
    let s1 = client.submit_label(&l1).await.unwrap();
    assert_eq!((s1.leaf_index, s1.label_id.as_str()), (0, "urn:t:1"));
    assert_eq!(s1.status, Status::Active);
    let s2 = client.submit_label(&l2).await.unwrap();
    assert_eq!(s2.leaf_index, 1);
    let s3 = client.submit_label(&l3).await.unwrap();
    assert_eq!(
        s3.status,
        Status::SupportEnded,
        "support end date in the claims is past"
    );

    // Lookup by id: status + an offline bundle that proves exactly the label bytes.
    let v1 = client.label("urn:t:1").await.unwrap();
    assert_eq!(v1.status, Status::Active);
    assert_eq!(v1.digest, label::label_digest(&l1).to_string());
    assert_eq!(verify_bundle(&v1.bundle, &l1), 3);
    assert!(v1.consumer_page.starts_with(&running.url));
    // by firmware digest, MUD URL and label digest
    let fw = hex::encode(label::Sha256Digest::of(b"fw-2").0);
    let by_fw = client.lookup("firmware", &fw).await.unwrap();
    assert_eq!(by_fw.len(), 1);
    assert_eq!(by_fw[0].label_id, "urn:t:2");
    verify_bundle(&by_fw[0].bundle, &l2);
    let by_mud = client
        .lookup("mud-url", "https://a.example/mud/hub.json")
        .await
        .unwrap();
    assert_eq!(by_mud.len(), 1);
    assert_eq!(by_mud[0].status, Status::SupportEnded);
    let by_digest = client.lookup("digest", &v1.digest).await.unwrap();
    assert_eq!(by_digest[0].label_id, "urn:t:1");
    assert!(client
        .lookup("mud-url", "https://nobody.example/x")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(refused(client.label("urn:t:404").await).0, 404);

    let before = counts(&store).await;
    assert_eq!(
        before,
        Counts {
            entries: 3,
            labels: 3,
            events: 0
        }
    );

    // Unregistered assessor → 403 naming the reason.
    let foreign = label::sign(
        &claims("urn:t:9", "X", b"fw-9", "https://x.example/m.json"),
        &stranger,
    )
    .unwrap();
    let (st, code, msg) = refused(client.submit_label(&foreign).await);
    assert_eq!((st, code.as_str()), (403, "unregistered-assessor"), "{msg}");
    assert!(
        msg.contains(&label::KeyId::of(&stranger.verifying_key()).to_string()),
        "{msg}"
    );
    // Forged signature (one bit of the signature flipped) → 403 bad-signature.
    let mut forged = label::sign(
        &claims("urn:t:8", "X", b"fw-8", "https://x.example/m.json"),
        &assessor,
    )
    .unwrap();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let (st, code, _) = refused(client.submit_label(&forged).await);
    assert_eq!((st, code.as_str()), (403, "bad-signature"));
    // Replays: the same bytes, and the same id with other bytes → 409.
    let (st, code, _) = refused(client.submit_label(&l1).await);
    assert_eq!((st, code.as_str()), (409, "replay"));
    let same_id = label::sign(
        &claims(
            "urn:t:1",
            "CAM-200",
            b"fw-x",
            "https://a.example/mud/cam.json",
        ),
        &assessor,
    )
    .unwrap();
    let (st, code, msg) = refused(client.submit_label(&same_id).await);
    assert_eq!((st, code.as_str()), (409, "duplicate-label-id"), "{msg}");
    // Malformed CBOR, empty body, oversized body.
    let (st, code, _) = refused(client.submit_label(b"\xd2\x84garbage").await);
    assert_eq!((st, code.as_str()), (400, "malformed-label"));
    let (st, code, _) = refused(client.submit_label(b"").await);
    assert_eq!((st, code.as_str()), (400, "empty-body"));
    let (st, code, _) = refused(
        client
            .submit_label(&vec![0u8; registry::MAX_LABEL_BODY + 1])
            .await,
    );
    assert_eq!((st, code.as_str()), (413, "body-too-large"));
    let (st, code, _) = refused(
        client
            .submit_statement(&vec![0u8; registry::MAX_STATEMENT_BODY + 1])
            .await,
    );
    assert_eq!((st, code.as_str()), (413, "body-too-large"));
    // A client announcing a huge body is refused from its headers, before it sends the body.
    let (st, body) = declared_oversize(&running.url, "/v1/labels", 1 << 30).await;
    assert_eq!((st, body.error.as_str()), (413, "body-too-large"));
    // Statement with an unknown field in its payload → 422; not by the issuer → 403.
    let unknown_field = {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "kebab-case")]
        struct Extra<'a> {
            label_id: &'a str,
            at: &'a str,
            kind: serde_json::Value,
            extra: u8,
        }
        let mut payload = Vec::new();
        ciborium::into_writer(
            &Extra {
                label_id: "urn:t:1",
                at: "2026-01-01T00:00:00Z",
                kind: serde_json::json!({"type": "suspended"}),
                extra: 1,
            },
            &mut payload,
        )
        .unwrap();
        use coset::TaggedCborSerializable;
        use ed25519_dalek::Signer;
        let protected = coset::HeaderBuilder::new()
            .algorithm(coset::iana::Algorithm::EdDSA)
            .key_id(label::KeyId::of(&assessor.verifying_key()).0.to_vec())
            .content_type(registry::STATUS_CONTENT_TYPE.to_string())
            .build();
        coset::CoseSign1Builder::new()
            .protected(protected)
            .payload(payload)
            .create_signature(b"", |tbs| assessor.sign(tbs).to_bytes().to_vec())
            .build()
            .to_tagged_vec()
            .unwrap()
    };
    let (st, code, msg) = refused(client.submit_statement(&unknown_field).await);
    assert_eq!((st, code.as_str()), (422, "invalid-statement"), "{msg}");
    assert!(msg.contains("extra"), "names the unknown field: {msg}");
    let (st, code, _) = refused(
        client
            .submit_statement(&revoke(&stranger, "urn:t:1", "x"))
            .await,
    );
    assert_eq!((st, code.as_str()), (403, "not-issuing-assessor"));
    let (st, code, _) = refused(
        client
            .submit_statement(&revoke(&assessor, "urn:t:none", "x"))
            .await,
    );
    assert_eq!((st, code.as_str()), (404, "unknown-label"));
    // Batch JSON: malformed, unknown field, too many items.
    let http = reqwest::Client::new();
    let batch_url = format!("{}/v1/status/batch", running.url);
    let r = http
        .post(&batch_url)
        .header("content-type", "application/json")
        .body("{\"ids\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<registry::ErrorBody>().await.unwrap().error,
        "malformed-json"
    );
    let r = http
        .post(&batch_url)
        .json(&serde_json::json!({"ids": ["urn:t:1"], "idz": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.json::<registry::ErrorBody>().await.unwrap();
    assert!(
        body.message.contains("idz"),
        "names the unknown field: {}",
        body.message
    );
    let (st, body) = declared_oversize(
        &running.url,
        "/v1/status/batch",
        registry::MAX_BATCH_BODY + 1,
    )
    .await;
    assert_eq!((st, body.error.as_str()), (413, "body-too-large"));
    // A validly signed label whose claims carry an unknown field → 422 naming it.
    let unknown_claim = {
        let mut claims = serde_json::to_value(label::example_claims()).unwrap();
        claims["id"] = "urn:t:unknown".into();
        claims["backdoor"] = "none".into();
        // Deterministic CBOR (RFC 8949 §4.2.1), so the only fault is the unknown field.
        let payload = label::cbor::encode_deterministic(&claims);
        use coset::TaggedCborSerializable;
        use ed25519_dalek::Signer;
        let protected = coset::HeaderBuilder::new()
            .algorithm(coset::iana::Algorithm::EdDSA)
            .key_id(label::KeyId::of(&assessor.verifying_key()).0.to_vec())
            .content_type(label::CONTENT_TYPE.to_string())
            .build();
        coset::CoseSign1Builder::new()
            .protected(protected)
            .payload(payload)
            .create_signature(b"", |tbs| assessor.sign(tbs).to_bytes().to_vec())
            .build()
            .to_tagged_vec()
            .unwrap()
    };
    let (st, code, msg) = refused(client.submit_label(&unknown_claim).await);
    assert_eq!((st, code.as_str()), (422, "invalid-claims"), "{msg}");
    assert!(msg.contains("backdoor"), "names the unknown field: {msg}");
    let many = BatchRequest {
        ids: (0..registry::MAX_BATCH_ITEMS + 1)
            .map(|i| format!("urn:x:{i}"))
            .collect(),
        digests: vec![],
    };
    assert_eq!(refused(client.batch_status(&many).await).0, 413);
    // None of that stored anything.
    assert_eq!(counts(&store).await, before);

    // Revoke label 2: authenticated by the issuing key, logged, proven.
    let statement = revoke(&assessor, "urn:t:2", "default password found");
    let rv = client.submit_statement(&statement).await.unwrap();
    assert_eq!(rv.leaf_index, 3);
    assert_eq!(
        rv.status,
        Status::Revoked {
            reason: "default password found".into()
        }
    );
    let v2 = client.label("urn:t:2").await.unwrap();
    assert_eq!(
        v2.status,
        Status::Revoked {
            reason: "default password found".into()
        }
    );
    assert!(v2.status_words.contains("default password found"));
    assert_eq!(v2.events.len(), 1);
    assert_eq!(verify_bundle(&v2.events[0].bundle, &statement), 4);
    verify_bundle(&v2.bundle, &l2);
    // Revocation is final; a replay of the statement is refused too.
    let (st, code, _) = refused(client.submit_statement(&statement).await);
    assert_eq!((st, code.as_str()), (409, "status-final"));
    // Support period moved into the past by the assessor → support-ended; replay → 409.
    let support = registry::sign_statement(
        &StatusEvent {
            label_id: "urn:t:1".into(),
            at: time::OffsetDateTime::now_utc(),
            kind: StatusEventKind::SupportEndChanged {
                end_date: date!(2026 - 06 - 30),
            },
        },
        &assessor,
    );
    let sv = client.submit_statement(&support).await.unwrap();
    assert_eq!(sv.status, Status::SupportEnded);
    let (st, code, _) = refused(client.submit_statement(&support).await);
    assert_eq!((st, code.as_str()), (409, "replay"));
    assert_eq!(
        client.label("urn:t:1").await.unwrap().status,
        Status::SupportEnded
    );
    assert_eq!(
        counts(&store).await,
        Counts {
            entries: 5,
            labels: 3,
            events: 2
        }
    );

    // Batch status for an insurer: 2000 ids and 500 digests in one request.
    let mut ids: Vec<String> = (0..1997).map(|i| format!("urn:missing:{i}")).collect();
    ids.extend(["urn:t:1", "urn:t:2", "urn:t:3"].map(String::from));
    let mut digests: Vec<String> = (0..499u32)
        .map(|i| hex::encode(label::Sha256Digest::of(&i.to_be_bytes()).0))
        .collect();
    digests.push(label::label_digest(&l3).to_string());
    let ans = client
        .batch_status(&BatchRequest { ids, digests })
        .await
        .unwrap();
    assert_eq!(ans.results.len(), 2500);
    assert_eq!(ans.results.iter().filter(|r| r.found).count(), 4);
    assert_eq!(ans.results[1997].status, Some(Status::SupportEnded));
    assert_eq!(
        ans.results[1998].status,
        Some(Status::Revoked {
            reason: "default password found".into()
        })
    );
    assert_eq!(ans.results[1999].status, Some(Status::SupportEnded));
    assert_eq!(ans.results[2499].label_id.as_deref(), Some("urn:t:3"));
    assert!(!ans.results[0].found && ans.results[0].status.is_none());
    let (st, code, _) = refused(
        client
            .batch_status(&BatchRequest {
                ids: vec![],
                digests: vec!["zz".into()],
            })
            .await,
    );
    assert_eq!((st, code.as_str()), (400, "bad-digest"));

    // C2SP checkpoint and tiles.
    let note = client.checkpoint().await.unwrap();
    let cp = log_verifier().verify_checkpoint(note.as_bytes()).unwrap();
    assert_eq!(cp.size, 5);
    let (st, tile) = client.get_raw("/tile/0/000.p/5").await.unwrap();
    assert_eq!(st, 200);
    let leaves: Vec<tlog::Hash> = tile
        .chunks(32)
        .map(|c| tlog::Hash::from_slice(c).unwrap())
        .collect();
    assert_eq!(leaves[0], tlog::leaf_hash(&l1));
    assert_eq!(leaves[3], tlog::leaf_hash(&statement));
    assert_eq!(tlog::root_from_leaf_hashes(&leaves), cp.root);
    let (st, bundle) = client.get_raw("/tile/entries/000.p/5").await.unwrap();
    assert_eq!(st, 200);
    let entries = tlog::tile::decode_entry_bundle(&bundle).unwrap();
    assert_eq!(
        entries,
        vec![
            l1.clone(),
            l2.clone(),
            l3.clone(),
            statement.clone(),
            support.clone()
        ]
    );
    assert_eq!(
        client.get_raw("/tile/0/000.p/6").await.unwrap().0,
        404,
        "beyond the tree"
    );
    assert_eq!(
        client.get_raw("/tile/0/000").await.unwrap().0,
        404,
        "no full tile yet"
    );
    assert_eq!(
        client.get_raw("/tile/0/0").await.unwrap().0,
        400,
        "non-canonical path"
    );

    // Consumer page: HTML with the product, status in words, and the QR code as SVG.
    let page_path = url_path(&v1.consumer_page);
    let (st, page) = client.get_raw(&page_path).await.unwrap();
    let page = String::from_utf8(page).unwrap();
    assert_eq!(st, 200);
    assert!(
        page.contains("CAM-100") && page.contains("Acme Devices"),
        "{page}"
    );
    assert!(page.contains("Support has ended"), "{page}");
    assert!(
        page.contains("2026-06-30"),
        "shows the changed support end: {page}"
    );
    assert!(page.contains("<svg"), "QR code as SVG");
    // A code that is no label's: a page saying so (English and French), not a JSON error.
    let (st, missing) = client.get_raw("/l/not-a-digest").await.unwrap();
    assert_eq!(st, 404);
    let missing = String::from_utf8(missing).unwrap();
    assert!(
        missing.contains("No such label") && missing.contains("Cette étiquette n'existe pas"),
        "{missing}"
    );

    // Metrics and OpenAPI.
    let (_, m) = client.get_raw("/metrics").await.unwrap();
    let m = String::from_utf8(m).unwrap();
    assert!(
        m.contains("trustgate_registry_log_entries_appended_total{kind=\"label\"} 3"),
        "{m}"
    );
    assert!(
        m.contains(
            "trustgate_registry_submissions_refused_total{error=\"unregistered-assessor\"} 1"
        ),
        "{m}"
    );
    let (_, api) = client.get_raw("/openapi.json").await.unwrap();
    let api: serde_json::Value = serde_json::from_slice(&api).unwrap();
    assert!(api["paths"]["/v1/labels"]["post"].is_object());

    // Restart on the same database: everything is still there, the log grows consistently.
    running.shutdown().await.unwrap();
    store.close().await;
    let store = Store::open(&backend.url).await.unwrap();
    let running = registry::spawn(
        store.clone(),
        signer(),
        "127.0.0.1:0".parse().unwrap(),
        None,
    )
    .await
    .unwrap();
    let client = Client::new(&running.url).unwrap();
    assert_eq!(
        client.label("urn:t:2").await.unwrap().status,
        Status::Revoked {
            reason: "default password found".into()
        }
    );
    let l4 = label::sign(
        &claims(
            "urn:t:4",
            "CAM-300",
            b"fw-4",
            "https://a.example/mud/cam.json",
        ),
        &assessor,
    )
    .unwrap();
    assert_eq!(client.submit_label(&l4).await.unwrap().leaf_index, 5);
    let new_note = client.checkpoint().await.unwrap();
    let new_cp = log_verifier()
        .verify_checkpoint(new_note.as_bytes())
        .unwrap();
    let proof = client.consistency(cp.size, new_cp.size).await.unwrap();
    tlog::verify_consistency(cp.size, new_cp.size, &cp.root, &new_cp.root, &proof.proof)
        .expect("the restarted log extends the old one");
    assert_eq!(
        client
            .lookup("mud-url", "https://a.example/mud/cam.json")
            .await
            .unwrap()
            .len(),
        2
    );
    // A retired assessor can no longer submit.
    assert!(store
        .retire_assessor(&label::KeyId::of(&assessor.verifying_key()).to_string())
        .await
        .unwrap());
    let l5 = label::sign(
        &claims(
            "urn:t:5",
            "CAM-400",
            b"fw-5",
            "https://a.example/mud/cam.json",
        ),
        &assessor,
    )
    .unwrap();
    let (st, code, _) = refused(client.submit_label(&l5).await);
    assert_eq!((st, code.as_str()), (403, "retired-assessor"));
    running.shutdown().await.unwrap();
    store.close().await;
}

/// Sends only the headers of a POST whose Content-Length is `length`, then reads the answer
/// (raw TCP: an HTTP client would insist on sending the body it announced).
async fn declared_oversize(base: &str, path: &str, length: usize) -> (u16, registry::ErrorBody) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/cose\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        sock.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers without waiting for the body")
    .unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status: u16 = text[9..12].parse().unwrap();
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

fn url_path(url: &str) -> String {
    let u: reqwest::Url = url.parse().unwrap();
    u.path().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_on_sqlite() {
    full_flow(sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_on_postgres() {
    full_flow(postgres("t").await).await;
}

/// Concurrent submitters: batches form, every acknowledged label is stored exactly once and the
/// tree matches the entries.
async fn concurrent_appends(backend: Backend) {
    let store = Store::open(&backend.url).await.unwrap();
    let assessor = label::generate_key().unwrap();
    store
        .register_assessor("lab", &assessor.verifying_key())
        .await
        .unwrap();
    let running = registry::spawn(
        store.clone(),
        signer(),
        "127.0.0.1:0".parse().unwrap(),
        None,
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let client = Client::new(&running.url).unwrap();
        let key = assessor.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..40 {
                let id = format!("urn:c:{t}:{i}");
                let bytes = label::sign(
                    &claims(&id, "M", id.as_bytes(), "https://m.example/x.json"),
                    &key,
                )
                .unwrap();
                got.push((client.submit_label(&bytes).await.unwrap().leaf_index, bytes));
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_by_key(|(i, _)| *i);
    assert_eq!(
        all.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..320).collect::<Vec<_>>()
    );
    let stored = store.entries(0, 320).await.unwrap();
    for ((_, bytes), s) in all.iter().zip(&stored) {
        assert_eq!(bytes, s);
    }
    let leaves: Vec<tlog::Hash> = stored.iter().map(|e| tlog::leaf_hash(e)).collect();
    assert_eq!(
        store.checkpoint().await.unwrap().unwrap().root,
        tlog::root_from_leaf_hashes(&leaves)
    );
    // C2SP tlog-tiles: the full level-0 tile, the partial one after it, the level-1 tile and
    // the full entry bundle.
    let client = Client::new(&running.url).unwrap();
    let hashes = |b: Vec<u8>| {
        b.chunks(32)
            .map(|c| tlog::Hash::from_slice(c).unwrap())
            .collect::<Vec<_>>()
    };
    let (st, full) = client.get_raw("/tile/0/000").await.unwrap();
    assert_eq!(st, 200);
    assert_eq!(hashes(full), leaves[..256].to_vec());
    let (st, rest) = client.get_raw("/tile/0/001.p/64").await.unwrap();
    assert_eq!(st, 200);
    assert_eq!(hashes(rest), leaves[256..].to_vec());
    let (st, upper) = client.get_raw("/tile/1/000.p/1").await.unwrap();
    assert_eq!(st, 200);
    assert_eq!(
        hashes(upper),
        vec![tlog::root_from_leaf_hashes(&leaves[..256])]
    );
    let (_, bundle) = client.get_raw("/tile/entries/000").await.unwrap();
    assert_eq!(
        tlog::tile::decode_entry_bundle(&bundle).unwrap(),
        stored[..256].to_vec()
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_on_sqlite() {
    concurrent_appends(sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_on_postgres() {
    concurrent_appends(postgres("t").await).await;
}
