//! Fault injection on the real PostgreSQL server (`TRUSTGATE_TEST_PG`): the cluster is stopped
//! (`pg_ctlcluster 15 main stop -m immediate`, a crash as far as the registry can tell) in the
//! middle of a stream of appends and started again. While it is away submissions are refused
//! with 503 `storage-unavailable`; once it is back the same running registry takes submissions
//! again, no restart; every label that was acknowledged is there with a valid inclusion proof,
//! and the sequencer still holds the one-sequencer lock it lost with its connection.
//!
//! Stopping the shared cluster disturbs every other test that uses it, so this binary runs
//! alone under nextest (`.config/nextest.toml`: `threads-required = "num-test-threads"`), and
//! the cluster is started again by a guard even when the test fails.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use registry::{Client, ClientError, StartError, Store, StoreError};

mod common;
use common::*;

const CLUSTER: [&str; 2] = ["15", "main"];

fn pg_ctl(action: &str, extra: &[&str]) -> std::process::Output {
    Command::new("pg_ctlcluster")
        .args(CLUSTER)
        .arg(action)
        .args(extra)
        .output()
        .expect("pg_ctlcluster")
}

/// Blocks until the server at `url` accepts a connection (or `within` passes).
fn wait_accepting(url: &str, within: Duration) -> bool {
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let t = Instant::now();
            while t.elapsed() < within {
                if let Ok(mut c) = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await {
                    if sqlx::query("SELECT 1").execute(&mut c).await.is_ok() {
                        return true;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            false
        })
    })
    .join()
    .unwrap()
}

/// Starts the cluster again when dropped (also when the test panics) and waits until it
/// accepts connections, so the tests after this one find their database.
struct ClusterGuard {
    url: String,
}

impl ClusterGuard {
    fn stop(&self) {
        let out = pg_ctl("stop", &["-m", "immediate"]);
        assert!(
            out.status.success(),
            "pg_ctlcluster stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        // "already running" is fine: start is idempotent for our purpose.
        let _ = pg_ctl("start", &[]);
        assert!(
            wait_accepting(&self.url, Duration::from_secs(30)),
            "the PostgreSQL cluster does not accept connections after start"
        );
    }
}

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        let _ = pg_ctl("start", &[]);
        let _ = wait_accepting(&self.url, Duration::from_secs(30));
    }
}

#[derive(Debug)]
enum Outcome {
    Acked {
        leaf_index: u64,
    },
    Refused {
        status: u16,
        code: String,
        took: Duration,
    },
    Transport,
}

/// Every submission: its label id, the label bytes and what the registry answered.
type Log = Arc<std::sync::Mutex<Vec<(String, Vec<u8>, Outcome)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_mid_stream_refuses_recovers_and_loses_no_acknowledged_label() {
    let base = std::env::var("TRUSTGATE_TEST_PG")
        .expect("TRUSTGATE_TEST_PG is not set (scripts/test starts PostgreSQL and sets it)");
    let cluster = ClusterGuard { url: base.clone() };
    cluster.start(); // a previous run may have left it stopped
    let db = postgres("pgstop").await;
    let store = Store::open(&db.url).await.unwrap();
    let lab = label::generate_key().unwrap();
    store
        .register_assessor("Lab", &lab.verifying_key())
        .await
        .unwrap();
    let running = registry::spawn(store, signer(), "127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let client = Client::new(&running.url).unwrap();

    // One submitter, one label after another, recording what each was answered.
    let stop = Arc::new(AtomicBool::new(false));
    let log: Log = Default::default();
    let submitter = {
        let (client, stop, log) = (client.clone(), stop.clone(), log.clone());
        tokio::spawn(async move {
            let mut i = 0u32;
            while !stop.load(Ordering::SeqCst) {
                let mut claims = label::example_claims();
                claims.id = format!("urn:pgstop:{i}");
                claims.software[0].image_sha256 =
                    label::Sha256Digest::of(format!("fw-{i}").as_bytes());
                let bytes = label::sign(&claims, &lab).unwrap();
                let started = Instant::now();
                let outcome = match tokio::time::timeout(
                    Duration::from_secs(40),
                    client.submit_label(&bytes),
                )
                .await
                {
                    Ok(Ok(r)) => Outcome::Acked {
                        leaf_index: r.leaf_index,
                    },
                    Ok(Err(ClientError::Refused { status, code, .. })) => Outcome::Refused {
                        status,
                        code,
                        took: started.elapsed(),
                    },
                    Ok(Err(_)) | Err(_) => Outcome::Transport,
                };
                let failed = !matches!(outcome, Outcome::Acked { .. });
                log.lock().unwrap().push((claims.id, bytes, outcome));
                i += 1;
                if failed {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        })
    };
    let acked = |log: &Log| {
        log.lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e.2, Outcome::Acked { .. }))
            .count()
    };
    let wait_until = |what: &str, within: Duration, mut cond: Box<dyn FnMut() -> bool + '_>| {
        let t = Instant::now();
        while !cond() {
            assert!(t.elapsed() < within, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    wait_until(
        "30 acknowledged labels before the stop",
        Duration::from_secs(20),
        Box::new(|| acked(&log) >= 30),
    );
    let before_stop = log.lock().unwrap().len();
    cluster.stop();
    let stopped_at = Instant::now();
    // While the database is away: refusals, each a 503 saying storage is unavailable.
    wait_until(
        "a refused submission while PostgreSQL is stopped",
        Duration::from_secs(35),
        Box::new(|| {
            log.lock().unwrap()[before_stop..]
                .iter()
                .any(|e| matches!(e.2, Outcome::Refused { .. }))
        }),
    );
    let first_refusal = stopped_at.elapsed();
    // The registry itself still answers.
    let health = reqwest::get(format!("{}/healthz", running.url)).await;
    assert!(health.is_ok(), "the registry stopped answering: {health:?}");
    // A submission made while the database is away is refused, not held until it is back.
    wait_until(
        "two refusals of submissions made while PostgreSQL is stopped",
        Duration::from_secs(20),
        Box::new(|| {
            log.lock().unwrap()[before_stop..]
                .iter()
                .filter(|e| matches!(e.2, Outcome::Refused { .. }))
                .count()
                >= 2
        }),
    );
    let during = log.lock().unwrap().len();
    cluster.start();
    let started_at = Instant::now();
    // Recovery without a restart of the registry.
    let acked_before_start = acked(&log);
    wait_until(
        "20 acknowledged labels after PostgreSQL is back",
        Duration::from_secs(30),
        Box::new(|| acked(&log) >= acked_before_start + 20),
    );
    let recovered_in = started_at.elapsed();
    stop.store(true, Ordering::SeqCst);
    submitter.await.unwrap();

    let log = std::mem::take(&mut *log.lock().unwrap());
    for (id, _, outcome) in &log[before_stop..during] {
        match outcome {
            Outcome::Acked { .. } => {}
            Outcome::Refused { status, code, took } => {
                assert!(
                    *status == 503 && code == "storage-unavailable",
                    "{id} refused with {status} {code} while the database was away"
                );
                assert!(
                    *took < Duration::from_secs(8),
                    "{id} was refused only after {took:?}"
                );
            }
            Outcome::Transport => panic!("{id}: no HTTP answer while the database was away"),
        }
    }
    eprintln!(
        "{} submissions, {} acknowledged; first refusal {first_refusal:?} after the stop command returned, \
         recovered {recovered_in:?} after the start",
        log.len(),
        log.iter()
            .filter(|e| matches!(e.2, Outcome::Acked { .. }))
            .count()
    );

    // Every acknowledged label is there, proven in the current checkpoint, at the leaf index
    // it was acknowledged with.
    let mut leaves = std::collections::BTreeSet::new();
    for (id, bytes, outcome) in &log {
        if let Outcome::Acked { leaf_index } = outcome {
            assert!(leaves.insert(*leaf_index), "leaf {leaf_index} given twice");
            let v = client
                .label(id)
                .await
                .unwrap_or_else(|e| panic!("acknowledged {id} is gone: {e}"));
            verify_bundle(&v.bundle, bytes);
            assert_eq!(v.bundle.leaf_index, *leaf_index, "{id}");
        }
    }

    // The sequencer got its lock back with its connection: a second sequencer on this
    // database is still refused.
    let second = Store::open(&db.url).await.unwrap();
    match registry::spawn(second, signer(), "127.0.0.1:0".parse().unwrap(), None).await {
        Err(StartError::Store(StoreError::SequencerTaken(_))) => {}
        Err(e) => panic!("second sequencer refused for the wrong reason: {e}"),
        Ok(r) => {
            r.shutdown().await.unwrap();
            panic!("after the database restart a second sequencer started beside the first");
        }
    }
    running.shutdown().await.unwrap();
    drop(cluster);
}
