//! Fault injection: the registry's SQLite file on a tiny tmpfs that fills up (needs root for
//! `mount`). Submissions past the last byte are refused with a 5xx that says the disk is
//! full; nothing refused was stored (the same label is taken once there is room), nothing
//! acknowledged is lost, `PRAGMA integrity_check` says `ok`; once the file system is made
//! bigger the same running registry takes submissions again, and a registry started afresh on
//! the file finds its checkpoint matching the stored tree.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use registry::{Client, ClientError, Store};

mod common;
use common::*;

/// A tmpfs of `size` mounted on a fresh temporary directory, unmounted when dropped (also when
/// the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "mount tmpfs (this test needs root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "remount: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a connection the failed test left open must not keep the mount.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

async fn integrity(db: &Path) -> String {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let (r,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut c)
        .await
        .unwrap();
    r
}

fn label_bytes(lab: &label::SigningKey, i: u32) -> (String, Vec<u8>) {
    let mut claims = label::example_claims();
    claims.id = format!("urn:full:{i}");
    claims.software[0].image_sha256 = label::Sha256Digest::of(format!("fw-{i}").as_bytes());
    // Some bulk, so the file system fills in a few dozen submissions.
    claims.product.model = format!("MODEL-{i}-{}", "x".repeat(2000));
    (claims.id.clone(), label::sign(&claims, lab).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_clearly_keeps_the_database_sound_and_recovers_when_freed() {
    // The registry's log lines (what each refusal's request id stands for) on stderr.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .try_init();
    let fs = Tmpfs::mount("1m");
    let db = fs.path().join("registry.db");
    let url = format!("sqlite://{}", db.display());
    let store = Store::open(&url).await.unwrap();
    let lab = label::generate_key().unwrap();
    store
        .register_assessor("Lab", &lab.verifying_key())
        .await
        .unwrap();
    let running = registry::spawn(store, signer(), "127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let client = Client::new(&running.url).unwrap();

    // Append until the file system has refused three times (a refused batch may leave room
    // for a smaller one, so acknowledgements and refusals can alternate near the end).
    let mut acked: Vec<(String, Vec<u8>, u64)> = vec![];
    let mut refused: Vec<(String, Vec<u8>)> = vec![];
    let t = Instant::now();
    let mut i = 0;
    while refused.len() < 3 {
        assert!(
            t.elapsed() < Duration::from_secs(30) && i < 5000,
            "1 MiB never filled up ({i} labels acknowledged)"
        );
        let (id, bytes) = label_bytes(&lab, i);
        i += 1;
        match client.submit_label(&bytes).await {
            Ok(r) => acked.push((id, bytes, r.leaf_index)),
            Err(ClientError::Refused {
                status,
                code,
                message,
            }) => {
                if refused.is_empty() {
                    eprintln!(
                        "{} labels acknowledged before the disk was full; refused: {status} {code}: {message}",
                        acked.len()
                    );
                }
                assert_eq!((status, code.as_str()), (507, "storage-full"), "{message}");
                assert!(
                    message.contains("disk is full") && message.contains("nothing was stored"),
                    "{message}"
                );
                refused.push((id, bytes));
            }
            Err(e) => panic!("no HTTP answer on a full disk: {e}"),
        }
    }
    assert!(!acked.is_empty(), "the first label was already refused");
    assert_eq!(integrity(&db).await, "ok");
    let last = &acked[acked.len() - 1];
    verify_bundle(&client.label(&last.0).await.unwrap().bundle, &last.1);

    // Room again, and the same registry takes labels, the refused ones too: none of them had
    // been stored, half or whole.
    fs.resize("16m");
    for (id, bytes) in refused {
        let r = client
            .submit_label(&bytes)
            .await
            .unwrap_or_else(|e| panic!("refused {id}, once there is room: {e}"));
        acked.push((id, bytes, r.leaf_index));
    }
    for j in 0..5 {
        let (id, bytes) = label_bytes(&lab, 20_000 + j);
        let r = client.submit_label(&bytes).await.expect("room again");
        acked.push((id, bytes, r.leaf_index));
    }

    // Every acknowledged label, at the index it was acknowledged with, in the current
    // checkpoint; consecutive indices, none lost or given twice.
    let indices: Vec<u64> = acked.iter().map(|a| a.2).collect();
    assert_eq!(indices, (0..acked.len() as u64).collect::<Vec<_>>());
    for (id, bytes, leaf) in &acked {
        let v = client
            .label(id)
            .await
            .unwrap_or_else(|e| panic!("acknowledged {id} is gone: {e}"));
        assert_eq!(v.bundle.leaf_index, *leaf);
        assert_eq!(verify_bundle(&v.bundle, bytes), acked.len() as u64);
    }
    running.shutdown().await.unwrap();
    assert_eq!(integrity(&db).await, "ok");

    // A registry started afresh on the file: the stored checkpoint matches the stored tree
    // (Sequencer::start refuses otherwise), and it goes on from there.
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.log_size().await.unwrap(), acked.len() as u64);
    let again = registry::spawn(store, signer(), "127.0.0.1:0".parse().unwrap(), None)
        .await
        .expect("restart on the file that was full");
    let (_, bytes) = label_bytes(&lab, 30_000);
    let r = Client::new(&again.url)
        .unwrap()
        .submit_label(&bytes)
        .await
        .unwrap();
    assert_eq!(r.leaf_index, acked.len() as u64);
    again.shutdown().await.unwrap();
}
