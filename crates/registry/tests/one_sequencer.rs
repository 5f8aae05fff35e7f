//! One sequencer per database, on a real PostgreSQL server (`TRUSTGATE_TEST_PG`, a fresh schema
//! per test): a second `registry serve` on the same database is refused at start, saying why,
//! while the first keeps taking submissions; another schema on the same server is not blocked;
//! once the first has stopped, a new one starts. (Until replicas exist, two sequencers on one
//! database made submissions fail and published different checkpoints.)

use registry::{Client, StartError, Store, StoreError};
use std::time::{Duration, Instant};

mod common;
use common::*;

async fn serve(url: &str) -> Result<registry::Running, StartError> {
    let store = Store::open(url).await.unwrap();
    registry::spawn(store, signer(), "127.0.0.1:0".parse().unwrap(), None).await
}

#[tokio::test]
async fn a_second_sequencer_on_one_postgres_database_is_refused() {
    let db = postgres("oneseq").await;
    let first = serve(&db.url).await.expect("the first sequencer starts");
    let schema = db.url.rsplit("search_path%3D").next().unwrap().to_string();
    match serve(&db.url).await {
        Err(StartError::Store(StoreError::SequencerTaken(s))) => {
            assert_eq!(s, schema);
            let text = StoreError::SequencerTaken(s).to_string();
            assert!(
                text.contains("already sequences") && text.contains("stop it"),
                "{text}"
            );
        }
        Err(other) => panic!("refused for the wrong reason: {other}"),
        Ok(_) => panic!("a second sequencer started on the same database"),
    }
    // The first still takes a label and publishes its checkpoint.
    let store = Store::open(&db.url).await.unwrap();
    let lab = label::generate_key().unwrap();
    store
        .register_assessor("Lab", &lab.verifying_key())
        .await
        .unwrap();
    let client = Client::new(&first.url).unwrap();
    let mut claims = label::example_claims();
    claims.id = "urn:oneseq:1".into();
    client
        .submit_label(&label::sign(&claims, &lab).unwrap())
        .await
        .unwrap();
    assert!(client.checkpoint().await.unwrap().contains("\n1\n"));

    // Another schema on the same server has a sequencer of its own.
    let other = postgres("oneseq_other").await;
    let third = serve(&other.url)
        .await
        .expect("another schema is another database");
    third.shutdown().await.unwrap();

    // When the first stops, its lock goes with its connection and a new one may start.
    first.shutdown().await.unwrap();
    let t = Instant::now();
    let again = loop {
        match serve(&db.url).await {
            Ok(r) => break r,
            Err(StartError::Store(StoreError::SequencerTaken(_)))
                if t.elapsed() < Duration::from_secs(10) =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("no sequencer after the first stopped: {e}"),
        }
    };
    again.shutdown().await.unwrap();
}
