//! Registry benchmarks: `cargo bench -p registry --bench registry [appends|proof|bundle|http]`.
//!
//! Prints one table; each of our figures sits beside an anchor (measured in this run where one
//! can be, else a published figure, marked so). PostgreSQL rows need `TRUSTGATE_TEST_PG`; the
//! HTTP row needs `wrk` (Debian package `wrk`). The 10-million-leaf tree is built once from leaf
//! hashes directly (no entries) and kept in `target/registry-bench/` for later runs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use registry::bench::Sequencer;
use registry::bench::{NewEntry, NewRecord};
use registry::{Service, Store};
use tlog::{Checkpoint, LogVerifier, NodeId, NoteSigner, ProofBundle, TreeBuilder};

struct Row {
    what: String,
    ours: String,
    anchor: String,
    goal: String,
}

fn row(what: &str, ours: String, anchor: &str, goal: &str) -> Row {
    Row {
        what: what.into(),
        ours,
        anchor: anchor.into(),
        goal: goal.into(),
    }
}

fn signer() -> NoteSigner {
    NoteSigner::from_seed("bench.trustgate/log", &[3; 32]).unwrap()
}

fn labels(n: usize, prefix: &str, key: &label::SigningKey) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut c = label::example_claims();
            c.id = format!("urn:{prefix}:{i}");
            c.software[0].image_sha256 = label::Sha256Digest::of(c.id.as_bytes());
            label::sign(&c, key).unwrap()
        })
        .collect()
}

/// A fresh database URL for `backend` ("sqlite" or "postgres"), or None when unavailable.
async fn fresh_db(backend: &str, tag: &str) -> Option<String> {
    match backend {
        "sqlite" => {
            let dir = bench_dir().join(format!("{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Some(format!("sqlite://{}", dir.join("r.db").display()))
        }
        _ => {
            let base = std::env::var("TRUSTGATE_TEST_PG").ok()?;
            sqlx::any::install_default_drivers();
            let schema = format!("bench_{tag}_{}", std::process::id());
            let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .ok()?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut c)
                .await
                .ok()?;
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut c)
                .await
                .ok()?;
            let sep = if base.contains('?') { '&' } else { '?' };
            Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
        }
    }
}

async fn drop_db(url: &str) {
    if let Some(dir) = url.strip_prefix("sqlite://") {
        let _ = std::fs::remove_dir_all(PathBuf::from(dir).parent().unwrap());
    } else if let (Ok(base), Some(schema)) = (
        std::env::var("TRUSTGATE_TEST_PG"),
        url.split("search_path%3D").nth(1),
    ) {
        if let Ok(mut c) = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await {
            let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut c)
                .await;
        }
    }
}

fn bench_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/registry-bench");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Durable appends through the sequencer alone, and full label submissions (verify + assessor
/// lookup + append), with many concurrent submitters so batches form.
async fn appends(backend: &str, rows: &mut Vec<Row>) {
    const N: usize = 20_000;
    const SUBMITTERS: usize = 512;
    let key = label::generate_key().unwrap();
    let signed = Arc::new(labels(N, "a", &key));

    // 1. Sequencer + durable commit only.
    let Some(url) = fresh_db(backend, "seq").await else {
        rows.push(row(
            &format!("durable appends/s, {backend}"),
            "skipped: set TRUSTGATE_TEST_PG".into(),
            "",
            "",
        ));
        return;
    };
    let store = Store::open(&url).await.unwrap();
    let seq = Sequencer::start(store.clone(), signer(), registry::Metrics::new())
        .await
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..SUBMITTERS {
        let (seq, signed) = (seq.clone(), signed.clone());
        tasks.push(tokio::spawn(async move {
            for i in (t..N).step_by(SUBMITTERS) {
                let bytes = signed[i].clone();
                let entry = NewEntry {
                    digest: label::label_digest(&bytes).0,
                    record: NewRecord::Label {
                        label_id: format!("urn:a:{i}"),
                        kid: "bench".into(),
                        mud_url: None,
                        images: vec![],
                    },
                    entry: bytes,
                };
                seq.submit(entry).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(store.log_size().await.unwrap(), N as u64);
    store.close().await;
    drop_db(&url).await;
    rows.push(row(
        &format!("durable appends/s, {backend} (sequencer, batched commits, {N} labels)"),
        format!("{:.0}", N as f64 / secs),
        "Tessera ~2,900/s (12 cores), TesseraCT ~10,000/s (NVMe) [published]",
        ">= 10,000/s",
    ));

    // 2. The whole submission path, in process (no HTTP).
    let url = fresh_db(backend, "svc").await.unwrap();
    let store = Store::open(&url).await.unwrap();
    store
        .register_assessor("lab", &key.verifying_key())
        .await
        .unwrap();
    let svc = Service::start(store.clone(), signer(), "http://bench")
        .await
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..SUBMITTERS {
        let (svc, signed) = (svc.clone(), signed.clone());
        tasks.push(tokio::spawn(async move {
            for i in (t..N).step_by(SUBMITTERS) {
                svc.submit_label(&signed[i]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    // Anchor measured here: Ed25519 verification alone of the same labels, one core.
    let v0 = Instant::now();
    let ring = [key.verifying_key()];
    for l in signed.iter().take(5000) {
        label::verify(l, &ring).unwrap();
    }
    let verify_rate = 5000.0 / v0.elapsed().as_secs_f64();
    store.close().await;
    drop_db(&url).await;
    rows.push(row(
        &format!("label submissions/s, {backend} (verify + assessor lookup + durable append)"),
        format!("{:.0}", N as f64 / secs),
        &format!("label::verify alone, 1 core: {verify_rate:.0}/s [this run]"),
        "",
    ));
}

const BIG: u64 = 10_000_000;

/// The 10M-leaf tree: built once from leaf hashes (leaf i = leaf_hash(i as 8 bytes BE)).
async fn big_tree() -> (Store, tlog::Hash) {
    let dir = bench_dir();
    let db = dir.join("tree-10m.db");
    let marker = dir.join("tree-10m.root");
    let url = format!("sqlite://{}", db.display());
    if let (true, Ok(root)) = (db.exists(), std::fs::read_to_string(&marker)) {
        let store = Store::open(&url).await.unwrap();
        return (store, tlog::Hash::from_hex(root.trim()).unwrap());
    }
    let _ = std::fs::remove_file(&db);
    let store = Store::open(&url).await.unwrap();
    let started = Instant::now();
    let mut b = TreeBuilder::new();
    let mut pending: Vec<(NodeId, tlog::Hash)> = Vec::with_capacity(2_100_000);
    for i in 0..BIG {
        pending.extend(
            b.append_leaf_hash(tlog::leaf_hash(&i.to_be_bytes()))
                .unwrap(),
        );
        if pending.len() >= 2_000_000 {
            store.bulk_load_nodes(&pending).await.unwrap();
            pending.clear();
            eprint!("\r  building the 10M-leaf tree: {:>3}%", i * 100 / BIG);
        }
    }
    store.bulk_load_nodes(&pending).await.unwrap();
    eprintln!(
        "\r  built the 10M-leaf tree in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let root = b.root();
    std::fs::write(&marker, root.to_hex()).unwrap();
    (store, root)
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p) as usize]
}

async fn proofs(rows: &mut Vec<Row>) -> (Store, tlog::Hash) {
    let (store, root) = big_tree().await;
    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % BIG
    };
    // Warm the page cache as a running registry would be.
    for _ in 0..200 {
        let plan = tlog::proof::inclusion_plan(next(), BIG).unwrap();
        store.prefetch(plan.nodes()).await.unwrap();
    }
    let mut times = Vec::new();
    let mut floor = Vec::new();
    for _ in 0..2000 {
        let i = next();
        let t = Instant::now();
        let plan = tlog::proof::inclusion_plan(i, BIG).unwrap();
        let reader = store.prefetch(plan.nodes()).await.unwrap();
        let proof = plan.execute(&reader).unwrap();
        times.push(t.elapsed());
        tlog::verify_inclusion(&tlog::leaf_hash(&i.to_be_bytes()), i, BIG, &proof, &root)
            .expect("proof from the stored tree verifies");
        let t = Instant::now();
        store.read_nodes(&[NodeId::leaf(next())]).await.unwrap();
        floor.push(t.elapsed());
    }
    let med = percentile(&mut times, 0.5);
    let p99 = percentile(&mut times, 0.99);
    let fmed = percentile(&mut floor, 0.5);
    rows.push(row(
        "inclusion proof from a 10,000,000-entry log (SQLite), median / p99",
        format!("{:.3} ms / {:.3} ms", ms(med), ms(p99)),
        &format!("one-row primary-key read: {:.3} ms [this run]", ms(fmed)),
        "< 1 ms",
    ));
    (store, root)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn bundles(store: &Store, root: tlog::Hash, rows: &mut Vec<Row>) {
    let s = signer();
    let cp = Checkpoint::new(s.name(), BIG, root);
    let note = cp.sign(&[&s]).unwrap();
    let index = 7_654_321u64;
    let plan = tlog::proof::inclusion_plan(index, BIG).unwrap();
    let reader = store.prefetch(plan.nodes()).await.unwrap();
    let bundle =
        ProofBundle::build(index.to_be_bytes().to_vec(), index, &cp, note, &reader).unwrap();
    let log = LogVerifier::new(s.verifier_key());
    const N: u32 = 20_000;
    let t = Instant::now();
    for _ in 0..N {
        tlog::verify(&bundle, &log).unwrap();
    }
    let ours = f64::from(N) / t.elapsed().as_secs_f64();
    // Anchor: one Ed25519 signature verification (the checkpoint's), nothing else.
    let key = label::generate_key().unwrap();
    let msg = [7u8; 100];
    let sig = ed25519_dalek::Signer::sign(&key, &msg);
    let vk = key.verifying_key();
    let t = Instant::now();
    for _ in 0..N {
        vk.verify_strict(&msg, &sig).unwrap();
    }
    let anchor = f64::from(N) / t.elapsed().as_secs_f64();
    rows.push(row(
        "offline bundle verifications/s, 1 core (checkpoint signature + 24-hash inclusion proof)",
        format!("{ours:.0}"),
        &format!("Ed25519 verify alone: {anchor:.0}/s [this run]"),
        "",
    ));
}

fn wrk(url: &str, script: Option<&std::path::Path>) -> Result<(String, String), String> {
    let mut cmd = std::process::Command::new("wrk");
    cmd.args(["-t2", "-c64", "-d8s", "--latency"]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd
        .arg(url)
        .output()
        .map_err(|e| format!("wrk not runnable ({e}); apt-get install wrk"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .map(|l| l.trim_start_matches("Requests/sec:").trim().to_string())
        .ok_or_else(|| format!("no Requests/sec in wrk output: {text}"))?;
    let p99 = text
        .lines()
        .find(|l| l.trim_start().starts_with("99%"))
        .map(|l| l.trim().trim_start_matches("99%").trim().to_string())
        .unwrap_or_default();
    let errors = text
        .lines()
        .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .map(|l| format!(" ({})", l.trim()))
        .unwrap_or_default();
    Ok((rps, format!("p99 {p99}{errors}")))
}

async fn http(rows: &mut Vec<Row>) {
    const LABELS: usize = 2000;
    let url = fresh_db("sqlite", "http").await.unwrap();
    let store = Store::open(&url).await.unwrap();
    let key = label::generate_key().unwrap();
    store
        .register_assessor("lab", &key.verifying_key())
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
    let signed = labels(LABELS, "h", &key);
    let mut tasks = Vec::new();
    for chunk in signed.chunks(LABELS / 16) {
        let (svc, chunk) = (running.service.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for l in chunk {
                svc.submit_label(&l).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let script = bench_dir().join("lookup.lua");
    std::fs::write(
        &script,
        format!(
            "math.randomseed(os.time())\nrequest = function()\n  return wrk.format(\"GET\", \"/v1/labels/urn:h:\" .. math.random(0, {}))\nend\n",
            LABELS - 1
        ),
    )
    .unwrap();
    let base = running.url.clone();
    let (ours, anchor) = tokio::task::spawn_blocking(move || {
        let ours = wrk(&base, Some(&script));
        let anchor = wrk(&format!("{base}/healthz"), None);
        (ours, anchor)
    })
    .await
    .unwrap();
    match (ours, anchor) {
        (Ok((rps, extra)), Ok((arps, aextra))) => rows.push(row(
            "HTTP label lookups/s (GET /v1/labels/{id} with proof bundle; wrk -t2 -c64, 2 cores shared)",
            format!("{rps} ({extra})"),
            &format!("GET /healthz on the same server: {arps} ({aextra}) [this run]"),
            ">= 20,000/s",
        )),
        (Err(e), _) | (_, Err(e)) => rows.push(row("HTTP label lookups/s", format!("skipped: {e}"), "", "")),
    }
    // What the lookup cache (registry::cache) holds after the run: its memory.
    let cs = running.service.cache().stats();
    rows.push(row(
        "lookup cache after the run: entries (cap) / serialised bytes held",
        format!(
            "{} ({}) / {} KiB, {} B per label",
            cs.entries,
            cs.capacity,
            cs.json_bytes / 1024,
            cs.json_bytes / cs.entries.max(1)
        ),
        "",
        "bounded by the cap",
    ));
    // Insurers ask in bulk: statuses per second through POST /v1/status/batch (10,000 ids per
    // request, half of them unknown), one client.
    let client = registry::Client::new(&running.url).unwrap();
    let req = registry::BatchRequest {
        ids: (0..10_000)
            .map(|i| format!("urn:h:{}", i % (2 * LABELS)))
            .collect(),
        digests: vec![],
    };
    let t = Instant::now();
    let mut answered = 0usize;
    while t.elapsed() < Duration::from_secs(5) {
        answered += client.batch_status(&req).await.unwrap().results.len();
    }
    rows.push(row(
        "batch status answers/s (POST /v1/status/batch, 10,000 ids per request, 1 client)",
        format!("{:.0}", answered as f64 / t.elapsed().as_secs_f64()),
        "",
        "",
    ));
    running.shutdown().await.unwrap();
    store.close().await;
    drop_db(&url).await;
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    rt.block_on(async {
        if want("appends") {
            appends("sqlite", &mut rows).await;
            appends("postgres", &mut rows).await;
        }
        if want("proof") || want("bundle") {
            let (store, root) = proofs(&mut rows).await;
            if want("bundle") {
                bundles(&store, root, &mut rows).await;
            }
        }
        if want("http") {
            http(&mut rows).await;
        }
    });
    let machine = format!(
        "{} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!("\nregistry benchmarks ({machine}; anchors marked [this run] were measured here, [published] are quoted)\n");
    println!("| what | ours | anchor | goal |");
    println!("|---|---:|---|---|");
    for r in rows {
        println!("| {} | {} | {} | {} |", r.what, r.ours, r.anchor, r.goal);
    }
}
