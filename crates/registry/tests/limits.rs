//! Server-side limits over real TCP on loopback: stalled clients cannot starve `/healthz` and
//! are cut off after the timeouts; storage failures tell the client a request id, not the
//! database's text; hostile tile coordinates are refused without overflow.

use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use registry::{Client, Limits, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::*;

/// Log lines of this test binary (tracing), captured for the request-id test.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        buf
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn start(store: Store, limits: Limits) -> registry::Running {
    registry::spawn_with_limits(
        store,
        signer(),
        "127.0.0.1:0".parse().unwrap(),
        None,
        100,
        limits,
    )
    .await
    .unwrap()
}

/// Reads until the server closes the connection (or resets it); `Err` if it stays open
/// longer than `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Result<Vec<u8>, ()> {
    let mut got = Vec::new();
    match tokio::time::timeout(within, s.read_to_end(&mut got)).await {
        Ok(_) => Ok(got),
        Err(_) => Err(()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_clients_do_not_starve_healthz_and_are_cut_off() {
    let backend = sqlite();
    let store = Store::open(&backend.url).await.unwrap();
    let limits = Limits {
        header_read_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    let running = start(store, limits).await;
    let addr = running.addr;

    // 150 connections that never finish their headers, 150 that never finish their body.
    let mut heads = Vec::new();
    let mut bodies = Vec::new();
    for i in 0..300 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .unwrap();
            heads.push(s);
        } else {
            s.write_all(
                b"POST /v1/labels HTTP/1.1\r\nHost: x\r\nContent-Type: application/cose\r\nContent-Length: 1000\r\n\r\n0123456789",
            )
            .await
            .unwrap();
            bodies.push(s);
        }
    }
    let stalled_at = Instant::now();

    // A fresh client is answered at once, several times over.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    for _ in 0..5 {
        let t = Instant::now();
        let r = http
            .get(format!("{}/healthz", running.url))
            .send()
            .await
            .expect("/healthz answers while 300 requests stall");
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "ok\n");
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
    }
    assert!(
        stalled_at.elapsed() < Duration::from_secs(2),
        "checked before any timeout"
    );

    // Header-stalled connections are closed after the header timeout, with no response.
    for s in &mut heads {
        let got = closed_within(s, Duration::from_secs(4))
            .await
            .expect("a connection that never finished its headers is closed");
        assert!(
            got.is_empty() || got.starts_with(b"HTTP/1.1 408"),
            "{got:?}"
        );
    }
    let heads_closed = stalled_at.elapsed();
    assert!(
        heads_closed >= Duration::from_millis(1900),
        "{heads_closed:?}"
    );
    // Body-stalled ones get 408 after the request timeout, then are closed.
    for s in &mut bodies {
        let got = closed_within(s, Duration::from_secs(4))
            .await
            .expect("a connection that never finished its body is closed");
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("\"error\":\"request-timeout\""), "{text}");
    }
    assert!(stalled_at.elapsed() >= Duration::from_millis(2900));
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_boundedly_then_get_503() {
    let backend = sqlite();
    let store = Store::open(&backend.url).await.unwrap();
    let limits = Limits {
        header_read_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(3),
        max_connections: 10,
        max_queued: 5,
    };
    let running = start(store, limits).await;
    let started = Instant::now();
    // 10 stalled connections take every slot.
    let mut stalled = Vec::new();
    for _ in 0..10 {
        let mut s = TcpStream::connect(running.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // 5 complete requests wait in the queue.
    let mut queued = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(running.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        queued.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The queue is full: the next one is refused at once with 503.
    let mut extra = TcpStream::connect(running.addr).await.unwrap();
    let t = Instant::now();
    let got = closed_within(&mut extra, Duration::from_secs(1))
        .await
        .expect("an over-queue connection is answered and closed at once");
    assert!(t.elapsed() < Duration::from_millis(500));
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("too-many-connections"), "{text}");
    // The queued requests are answered once the stalled ones time out (2 s), not refused.
    for s in &mut queued {
        let got = closed_within(s, Duration::from_secs(4))
            .await
            .expect("a queued request is answered");
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.ends_with("ok\n"), "{text}");
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    for s in &mut stalled {
        closed_within(s, Duration::from_secs(1))
            .await
            .expect("stalled connection closed");
    }
    // Slots are free again: a fresh client is served at once.
    let t = Instant::now();
    let r = reqwest::get(format!("{}/healthz", running.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_failure_answers_a_request_id_not_database_text_sqlite() {
    storage_failure(sqlite(), "no such table: log_entries").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_failure_answers_a_request_id_not_database_text_postgres() {
    storage_failure(
        postgres("limits").await,
        "relation \"log_entries\" does not exist",
    )
    .await;
}

async fn storage_failure(backend: Backend, db_text: &str) {
    let log = log();
    let store = Store::open(&backend.url).await.unwrap();
    let assessor = label::generate_key().unwrap();
    store
        .register_assessor("Example Test Lab", &assessor.verifying_key())
        .await
        .unwrap();
    let running = start(store, Limits::default()).await;
    let client = Client::new(&running.url).unwrap();
    let cose = label::sign(&label::example_claims(), &assessor).unwrap();
    client.submit_label(&cose).await.unwrap();
    let ok = reqwest::get(format!("{}/tile/entries/000.p/1", running.url))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    // Break the database under the running registry.
    sqlx::any::install_default_drivers();
    let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&backend.url)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE log_entries RENAME TO moved_away")
        .execute(&mut c)
        .await
        .unwrap();

    let r = reqwest::get(format!("{}/tile/entries/000.p/1", running.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let id = r
        .headers()
        .get("x-request-id")
        .expect("x-request-id")
        .to_str()
        .unwrap()
        .to_string();
    let body = r.text().await.unwrap();
    assert!(body.contains("storage-unavailable"), "{body}");
    assert!(body.contains(&format!("request id {id}")), "{body}");
    for leak in [
        "log_entries",
        "no such table",
        "sqlite",
        "database:",
        "SELECT",
    ] {
        assert!(!body.contains(leak), "body leaks {leak:?}: {body}");
    }
    let logged = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let line = logged
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("no log line with request id {id}:\n{logged}"));
    assert!(line.contains(db_text), "{line}");
    std::io::stderr().flush().ok();
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tile_coordinates_are_refused_without_overflow() {
    let backend = sqlite();
    let store = Store::open(&backend.url).await.unwrap();
    let running = start(store, Limits::default()).await;
    let last = tlog::tile::encode_tile_index(u64::MAX / 256);
    let max = tlog::tile::encode_tile_index(u64::MAX);
    for (path, want) in [
        (format!("tile/0/{last}"), "beyond the 2^64 - 1 hashes"),
        (
            format!("tile/entries/{last}"),
            "beyond the 2^64 - 1 entries",
        ),
        (format!("tile/2/{max}.p/7"), "beyond the 2^64 - 1 hashes"),
        (
            format!("tile/entries/{max}.p/1"),
            "beyond the 2^64 - 1 entries",
        ),
        (
            format!("tile/0/{last}.p/255"),
            "not part of the published tree",
        ),
    ] {
        let r = reqwest::get(format!("{}/{path}", running.url))
            .await
            .unwrap_or_else(|e| panic!("{path}: no answer (server panicked?): {e}"));
        assert_eq!(r.status(), 404, "{path}");
        let body = r.text().await.unwrap();
        assert!(body.contains(want), "{path}: {body}");
    }
    // The server is still up.
    let r = reqwest::get(format!("{}/healthz", running.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    running.shutdown().await.unwrap();
}
