//! What the fuzz targets share: fixed keys (so seeds signed by `examples/gen_seeds.rs` verify in
//! the targets), the frame-list input format, scratch files, and an in-process registry.
//!
//! Nothing here is product code; it only calls the crates' public APIs.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use label::{KeyRing, SigningKey, VerifyingKey};
use tlog::{LogVerifier, NoteSigner};

/// The assessor key every seed label and statement is signed with.
pub fn assessor_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// A registry operator key (operator statements).
pub fn operator_key() -> SigningKey {
    SigningKey::from_bytes(&[8u8; 32])
}

/// The log's origin and checkpoint key.
pub const LOG_ORIGIN: &str = "fuzz.trustgate.example/log";

/// The log's checkpoint signer.
pub fn log_signer() -> NoteSigner {
    NoteSigner::from_seed(LOG_ORIGIN, &[9u8; 32]).expect("valid key name")
}

/// Verifier for [`log_signer`]'s checkpoints.
pub fn log_verifier() -> LogVerifier {
    LogVerifier::new(log_signer().verifier_key())
}

/// The assessor's public key.
pub fn assessor_public() -> VerifyingKey {
    assessor_key().verifying_key()
}

/// Key ring with the assessor's key.
pub fn key_ring() -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(assessor_public());
    ring
}

/// A scratch path private to this process (`name` distinguishes uses within a target).
pub fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("trustgate-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch directory");
        d
    });
    dir.join(name)
}

/// The frame-list input of `monitor_frames`: records of `[dt: u8][len: u16 BE][frame]`, the
/// time advancing by `dt` × 10 ms before each frame (so the detectors' windows roll over); a
/// short last record takes what is left.
pub fn split_frames(mut data: &[u8]) -> Vec<(u64, &[u8])> {
    let mut t: u64 = 1_700_000_000_000_000_000;
    let mut out = Vec::new();
    while data.len() >= 3 {
        let dt = data[0] as u64;
        let len = u16::from_be_bytes([data[1], data[2]]) as usize;
        data = &data[3..];
        let take = len.min(data.len());
        t += dt * 10_000_000;
        out.push((t, &data[..take]));
        data = &data[take..];
    }
    out
}

/// Writes frames in the [`split_frames`] format (seed generation).
pub fn join_frames(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut last = frames.first().map_or(0, |f| f.0);
    for (t, f) in frames {
        let dt = (t.saturating_sub(last) / 10_000_000).min(255) as u8;
        last = *t;
        let len = f.len().min(u16::MAX as usize);
        out.push(dt);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(&f[..len]);
    }
    out
}

/// An in-process registry on SQLite in a scratch directory: the assessor and operator keys
/// registered, and one label (`urn:fuzz:1`, MUD URL `https://fuzz.example/mud.json`) logged.
pub struct Registry {
    /// Runs every request (current-thread; the sequencer runs while a request is served).
    pub runtime: tokio::runtime::Runtime,
    /// The real router ([`registry::router`]).
    pub router: axum::Router,
    /// The logged label's COSE bytes.
    pub label: Vec<u8>,
}

/// The label the registry fixture logs.
pub fn fixture_label() -> Vec<u8> {
    let mut c = label::example_claims();
    c.id = "urn:fuzz:1".into();
    c.network_profile.mud_url = Some("https://fuzz.example/mud.json".into());
    label::sign(&c, &assessor_key()).expect("example claims sign")
}

/// The registry fixture, started once per process.
pub fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = scratch("registry");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("registry directory");
        let url = format!("sqlite://{}", dir.join("registry.db").display());
        let label = fixture_label();
        let router = runtime.block_on(async {
            let store = registry::Store::open(&url).await.expect("store");
            store
                .register_assessor("Fuzz Lab", &assessor_public())
                .await
                .expect("assessor");
            store
                .register_operator("Fuzz Operator", &operator_key().verifying_key())
                .await
                .expect("operator");
            let service = registry::Service::start(store, log_signer(), "http://fuzz.example")
                .await
                .expect("service");
            service.submit_label(&label).await.expect("fixture label");
            registry::router(service)
        });
        Registry {
            runtime,
            router,
            label,
        }
    })
}

/// The routes `registry_http` picks from with its first byte: (method, path prefix). GET routes
/// take the rest of the input as the path tail or query; POST routes as the body.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/labels"),
    ("POST", "/v1/statements"),
    ("POST", "/v1/status/batch"),
    ("GET", "/v1/lookup?"),
    ("GET", "/v1/labels/"),
    ("GET", "/v1/consistency?"),
    ("GET", "/tile/"),
    ("GET", "/l/"),
    ("GET", "/checkpoint"),
];

/// Sends one request through the fixture's router; `None` when the bytes make no valid URI.
pub fn registry_request(route: u8, rest: &[u8]) -> Option<(u16, Vec<u8>)> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let r = registry();
    let (method, path) = ROUTES[route as usize % ROUTES.len()];
    let (uri, body) = if method == "GET" {
        let tail = std::str::from_utf8(rest).ok()?;
        (format!("{path}{tail}"), Vec::new())
    } else {
        (path.to_string(), rest.to_vec())
    };
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .ok()?;
    let router = r.router.clone();
    Some(r.runtime.block_on(async move {
        let resp = router.oneshot(req).await.expect("router is infallible");
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        (status, bytes)
    }))
}

/// A monitor as the gateway runs it live (`live`: its own MAC and resolver configured, so no
/// other host may become gateway or DHCP server) or as a replay does (learns them), with caps
/// small enough that eviction paths are reached by short inputs.
pub fn monitor(live: bool) -> monitor::Monitor {
    let mut config = monitor::Config {
        max_devices: 16,
        max_flows: 64,
        max_flows_per_device: 16,
        lan_prefixes: vec!["2001:db8:1::/64".parse().expect("prefix")],
        ..monitor::Config::default()
    };
    if live {
        // The scenarios crate's gateway (its captures are the seeds).
        config.gateway_macs = vec!["02:00:5e:00:00:01".parse().expect("mac")];
        config.resolvers = vec!["192.168.1.1".parse().expect("addr")];
    }
    monitor::Monitor::new(config, monitor::OuiTable::parse("02-00-00   (hex)\t\tFuzz Devices\n"))
}

/// The link types `monitor_frames` picks from.
pub const LINKS: &[monitor::Link] = &[
    monitor::Link::Ethernet,
    monitor::Link::Null,
    monitor::Link::Loop,
    monitor::Link::Ppp,
    monitor::Link::RawIp,
    monitor::Link::Ieee80211,
    monitor::Link::Radiotap,
    monitor::Link::LinuxSll,
    monitor::Link::LinuxSll2,
    monitor::Link::Nflog,
];
