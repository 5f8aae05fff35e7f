//! Harness shared by the registry integration tests (e2e.rs, lookup_cache.rs): the SQLite and
//! PostgreSQL backends and the log-key fixtures.

// Each test binary compiles this module and uses only a subset of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use tlog::{LogVerifier, NoteSigner, ProofBundle};

// ---------- backends ----------

pub struct Backend {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        // Drop the PostgreSQL schema even when the test failed.
        if let Some((base, schema)) = self.pg_schema.take() {
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    sqlx::any::install_default_drivers();
                    if let Ok(mut c) =
                        <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await
                    {
                        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                            .execute(&mut c)
                            .await;
                    }
                });
            })
            .join()
            .unwrap();
        }
    }
}

pub fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    Backend {
        url: format!("sqlite://{}", dir.path().join("registry.db").display()),
        _dir: Some(dir),
        pg_schema: None,
    }
}

static SCHEMA_SEQ: AtomicU32 = AtomicU32::new(0);

/// A fresh schema named `{prefix}_<pid>_<seq>_<nanos>` on `TRUSTGATE_TEST_PG`, dropped with the `Backend`.
pub async fn postgres(prefix: &str) -> Backend {
    let base = std::env::var("TRUSTGATE_TEST_PG").unwrap_or_else(|_| {
        panic!(
            "TRUSTGATE_TEST_PG is not set. The PostgreSQL half of the registry tests needs a server: \
             export TRUSTGATE_TEST_PG=postgres://trustgate:trustgate@127.0.0.1:5432/trustgate_test \
             (scripts/test installs and starts one)"
        )
    });
    let schema = format!(
        "{}_{}_{}_{}",
        prefix,
        std::process::id(),
        SCHEMA_SEQ.fetch_add(1, Ordering::SeqCst),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000
    );
    sqlx::any::install_default_drivers();
    let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to TRUSTGATE_TEST_PG ({base}): {e}"));
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut c)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Backend {
        url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        _dir: None,
        pg_schema: Some((base, schema)),
    }
}

// ---------- fixtures ----------

pub fn signer() -> NoteSigner {
    NoteSigner::from_seed("registry.test/log", &[9; 32]).unwrap()
}

pub fn log_verifier() -> LogVerifier {
    LogVerifier::new(signer().verifier_key())
}

/// Verifies `b` offline with only the log key; returns the checkpoint size it is proven against.
pub fn verify_bundle(b: &ProofBundle, entry: &[u8]) -> u64 {
    let v = tlog::verify(
        &ProofBundle::from_json(&b.to_json()).unwrap(),
        &log_verifier(),
    )
    .expect("bundle verifies offline with only the log key");
    assert_eq!(v.entry, entry, "bundle proves exactly these bytes");
    v.checkpoint.size
}
