//! `trustgate registry …` as users run it: the real binary serving on loopback, clients talking
//! to it, an offline check of a fetched bundle, and a crash (SIGKILL mid-stream) and restart.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tlog::LogVerifier;

fn log_verifier(data: &Path) -> LogVerifier {
    let vkey = std::fs::read_to_string(data.join("log.key.pub")).unwrap();
    LogVerifier::parse(vkey.trim()).unwrap()
}

fn assessor(dir: &Path, name: &str) -> (label::SigningKey, PathBuf) {
    let key = label::generate_key().unwrap();
    let key_path = dir.join(format!("{name}.key"));
    let pub_path = dir.join(format!("{name}.pub"));
    std::fs::write(
        &key_path,
        label::signing_key_to_pem(&key).unwrap().as_bytes(),
    )
    .unwrap();
    // Private key files are refused unless only their owner can read them.
    std::fs::set_permissions(
        &key_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(
        &pub_path,
        label::verifying_key_to_pem(&key.verifying_key()).unwrap(),
    )
    .unwrap();
    (key, key_path)
}

fn claims(id: &str) -> label::Claims {
    let mut c = label::example_claims();
    c.id = id.into();
    c.software[0].image_sha256 = label::Sha256Digest::of(id.as_bytes());
    c
}

#[test]
fn serve_submit_fetch_verify_offline_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    let (_, lab_key) = assessor(d, "lab");
    let (_, other_key) = assessor(d, "other");

    // Operator registers the lab; the same key twice is a finding.
    let o = run(&[
        "registry",
        "add-assessor",
        s(&d.join("lab.pub")),
        "--name",
        "Lab",
        "--data-dir",
        s(&data),
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = run(&[
        "registry",
        "add-assessor",
        s(&d.join("lab.pub")),
        "--name",
        "Lab",
        "--data-dir",
        s(&data),
    ]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("already registered"));

    let server = Server::start(&data);
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data.join("log.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(key_mode & 0o777, 0o600);

    // Issue with the existing CLI, submit with the new one.
    let claims_path = d.join("claims.json");
    std::fs::write(&claims_path, claims("urn:cli:1").to_json_pretty()).unwrap();
    let label_path = d.join("device.label");
    let o = run(&[
        "label",
        "issue",
        s(&claims_path),
        "--key",
        s(&lab_key),
        "-o",
        s(&label_path),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = run(&[
        "registry",
        "submit",
        s(&label_path),
        "--url",
        &server.url,
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let submitted: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(submitted["leaf_index"], 0);
    // Submitting it again is a replay: exit 1 with the reason.
    let o = run(&["registry", "submit", s(&label_path), "--url", &server.url]);
    assert_eq!(code(&o), 1);
    assert!(text(&o).contains("409 replay"), "{}", text(&o));
    // A label from an unregistered assessor: exit 1, reason named.
    let other_label = d.join("other.label");
    std::fs::write(&claims_path, claims("urn:cli:2").to_json_pretty()).unwrap();
    run(&[
        "label",
        "issue",
        s(&claims_path),
        "--key",
        s(&other_key),
        "-o",
        s(&other_label),
    ]);
    let o = run(&["registry", "submit", s(&other_label), "--url", &server.url]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o).contains("403 unregistered-assessor"),
        "{}",
        text(&o)
    );

    // Fetch the bundle, verify offline with only the log key file: no network involved.
    let bundle = d.join("bundle.json");
    let fetched = d.join("fetched.label");
    let o = run(&[
        "registry",
        "fetch",
        "--log-key",
        s(&data.join("log.key.pub")),
        "urn:cli:1",
        "--url",
        &server.url,
        "-o",
        s(&bundle),
        "--label-out",
        s(&fetched),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        std::fs::read(&fetched).unwrap(),
        std::fs::read(&label_path).unwrap()
    );
    let o = run(&[
        "label",
        "verify",
        s(&label_path),
        "--assessor",
        s(&d.join("lab.pub")),
        "--bundle",
        s(&bundle),
        "--log-key",
        s(&data.join("log.key.pub")),
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["logged"]["leaf_index"], 0);
    // The bundle does not prove another label.
    let o = run(&[
        "label",
        "verify",
        s(&other_label),
        "--assessor",
        s(&d.join("other.pub")),
        "--bundle",
        s(&bundle),
        "--log-key",
        s(&data.join("log.key.pub")),
    ]);
    assert_eq!(code(&o), 1, "{}", text(&o));

    // By firmware digest and MUD URL.
    let fw = label::Sha256Digest::of(b"urn:cli:1").to_string();
    let o = run(&[
        "registry",
        "fetch",
        "--log-key",
        s(&data.join("log.key.pub")),
        "--firmware",
        &fw,
        "--url",
        &server.url,
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let mud = label::example_claims().network_profile.mud_url.unwrap();
    let o = run(&[
        "registry",
        "fetch",
        "--log-key",
        s(&data.join("log.key.pub")),
        "--mud-url",
        &mud,
        "--url",
        &server.url,
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("urn:cli:1"));

    // Only the issuing key may revoke; then the label reads as revoked (exit 1).
    let o = run(&[
        "registry",
        "revoke",
        "urn:cli:1",
        "--reason",
        "telnet open",
        "--key",
        s(&other_key),
        "--url",
        &server.url,
    ]);
    assert_eq!(code(&o), 1);
    assert!(text(&o).contains("not-issuing-assessor"), "{}", text(&o));
    let o = run(&[
        "registry",
        "revoke",
        "urn:cli:1",
        "--reason",
        "telnet open",
        "--key",
        s(&lab_key),
        "--url",
        &server.url,
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = run(&[
        "registry",
        "fetch",
        "--log-key",
        s(&data.join("log.key.pub")),
        "urn:cli:1",
        "--url",
        &server.url,
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o).contains("Revoked: this label no longer applies (telnet open)"),
        "{}",
        text(&o)
    );
    let o = run(&[
        "registry",
        "fetch",
        "--log-key",
        s(&data.join("log.key.pub")),
        "urn:cli:404",
        "--url",
        &server.url,
    ]);
    assert_eq!(code(&o), 1);
    assert!(text(&o).contains("404"), "{}", text(&o));
}

#[test]
fn support_end_change_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    let (key, lab_key) = assessor(d, "lab");
    run(&[
        "registry",
        "add-assessor",
        s(&d.join("lab.pub")),
        "--name",
        "Lab",
        "--data-dir",
        s(&data),
    ]);
    let server = Server::start(&data);
    let label_path = d.join("l.cose");
    std::fs::write(&label_path, label::sign(&claims("urn:se:1"), &key).unwrap()).unwrap();
    assert_eq!(
        code(&run(&[
            "registry",
            "submit",
            s(&label_path),
            "--url",
            &server.url
        ])),
        0
    );
    let o = run(&[
        "registry",
        "support-end",
        "urn:se:1",
        "--date",
        "2026-01-31",
        "--key",
        s(&lab_key),
        "--url",
        &server.url,
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = run(&[
        "registry",
        "fetch",
        "--log-key",
        s(&data.join("log.key.pub")),
        "urn:se:1",
        "--url",
        &server.url,
        "--json",
    ]);
    assert_eq!(code(&o), 1, "support ended is not active");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["labels"][0]["status"]["state"], "support-ended");
    let o = run(&[
        "registry",
        "support-end",
        "urn:se:1",
        "--date",
        "31/01/2026",
        "--key",
        s(&lab_key),
        "--url",
        &server.url,
    ]);
    assert_eq!(code(&o), 2, "a bad date is an argument error");
}

/// An acknowledged label: id, bytes, leaf index.
type Acked = (String, Vec<u8>, u64);

/// SIGKILL the real server while appends stream in; after restart every acknowledged label is
/// there, with a proof, and the log is consistent with every checkpoint published before.
#[test]
fn crash_mid_stream_loses_no_acknowledged_label() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let data = d.join("data");
    let (key, _) = assessor(&d, "lab");
    let o = run(&[
        "registry",
        "add-assessor",
        s(&d.join("lab.pub")),
        "--name",
        "Lab",
        "--data-dir",
        s(&data),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let mut server = Server::start(&data);
    let log = log_verifier(&data);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let checkpoints: Arc<Mutex<Vec<tlog::Checkpoint>>> = Arc::default();
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let client = registry::Client::new(&server.url).unwrap();
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (client, key, acked, failed, stop) = (
            client.clone(),
            key.clone(),
            acked.clone(),
            failed.clone(),
            stop.clone(),
        );
        tasks.push(rt.spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let id = format!("urn:crash:{t}:{i}");
                i += 1;
                let bytes = label::sign(&claims(&id), &key).unwrap();
                match client.submit_label(&bytes).await {
                    Ok(r) => acked.lock().unwrap().push((id, bytes, r.leaf_index)),
                    Err(registry::ClientError::Transport(_)) => {
                        // The server died with this request in flight: not acknowledged.
                        failed.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    Err(e) => panic!("unexpected refusal: {e}"),
                }
            }
        }));
    }
    {
        let (client, checkpoints, stop, log) = (
            client.clone(),
            checkpoints.clone(),
            stop.clone(),
            log.clone(),
        );
        tasks.push(rt.spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                match client.checkpoint().await {
                    Ok(note) => {
                        let cp = log
                            .verify_checkpoint(note.as_bytes())
                            .expect("signed by the log");
                        checkpoints.lock().unwrap().push(cp);
                    }
                    Err(_) => return,
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    // Let the stream run, then kill the server without warning.
    std::thread::sleep(Duration::from_millis(1500));
    server.kill();
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    stop.store(true, Ordering::SeqCst);
    let acked = acked.lock().unwrap().clone();
    let checkpoints = checkpoints.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "the stream ran ({} acknowledged)",
        acked.len()
    );
    assert!(
        failed.load(Ordering::SeqCst) > 0,
        "the kill happened mid-stream"
    );
    assert!(checkpoints.len() > 5, "checkpoints were observed");

    let server = Server::start(&data);
    let client = registry::Client::new(&server.url).unwrap();
    rt.block_on(async {
        let now = log
            .verify_checkpoint(client.checkpoint().await.unwrap().as_bytes())
            .unwrap();
        assert!(now.size >= acked.len() as u64);
        for (id, bytes, index) in &acked {
            let v = client
                .label(id)
                .await
                .unwrap_or_else(|e| panic!("acknowledged {id} lost: {e}"));
            assert_eq!(v.leaf_index, *index);
            let proven = tlog::verify(&v.bundle, &log).unwrap();
            assert_eq!(&proven.entry, bytes);
        }
        for cp in &checkpoints {
            assert!(
                cp.size <= now.size,
                "a published checkpoint is never rolled back"
            );
            let proof = client.consistency(cp.size, now.size).await.unwrap();
            tlog::verify_consistency(cp.size, now.size, &cp.root, &now.root, &proof.proof)
                .unwrap_or_else(|e| {
                    panic!("checkpoint {} inconsistent after restart: {e}", cp.size)
                });
        }
        // And it keeps appending where it left off.
        let bytes = label::sign(&claims("urn:crash:after"), &key).unwrap();
        assert_eq!(
            client.submit_label(&bytes).await.unwrap().leaf_index,
            now.size
        );
    });
    drop(server);
}

#[test]
fn demo_logs_verifies_offline_and_revokes() {
    let out = run(&["demo", "--json"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dir = PathBuf::from(v["dir"].as_str().unwrap());
    let reg = &v["demo"][4]["data"]["registry"];
    assert_eq!(reg["verified_leaf_index"], 0);
    assert_eq!(reg["entries"], 3, "two issuances and one revocation");
    assert_eq!(reg["revoked"]["status"]["state"], "revoked");
    assert!(reg["consumer_page"].as_str().unwrap().contains("/l/"));
    // What the demo tells the user to run works, offline.
    let o = run(&[
        "label",
        "verify",
        s(&dir.join("smart-plug.label")),
        "--assessor",
        s(&dir.join("assessor.pub")),
        "--bundle",
        s(&dir.join("smart-plug.bundle.json")),
        "--log-key",
        s(&dir.join("log.key.pub")),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `registry serve` logs the storage error it does not tell the client: the client gets a
/// request id and no database text; the server's stderr has the database text under that id.
#[test]
fn serve_logs_storage_errors_under_the_request_id_it_answers() {
    let data = tempfile::tempdir().unwrap();
    let errlog = data.path().join("stderr.log");
    let mut child = bin()
        .args(["registry", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&errlog).unwrap())
        .spawn()
        .expect("start the registry");
    let mut first = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    let url = first
        .strip_prefix("listening on ")
        .unwrap()
        .trim()
        .to_string();
    let script = r#"
import sqlite3, sys, urllib.request, urllib.error
c = sqlite3.connect(sys.argv[1]); c.execute("alter table labels rename to gone"); c.commit()
try:
    urllib.request.urlopen(sys.argv[2] + "/v1/lookup?digest=" + "0" * 64)
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(data.path().join("registry.db"))
        .arg(&url)
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&out.stdout).to_string();
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("503 "), "{answer}");
    assert!(
        !answer.contains("no such table"),
        "database text sent to the client: {answer}"
    );
    let id = answer
        .split("request id ")
        .nth(1)
        .and_then(|r| r.split([')', ' ', ';']).next())
        .unwrap_or_else(|| panic!("no request id in {answer}"))
        .to_string();
    let log = std::fs::read_to_string(&errlog).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(&format!("request_id={id}")) && l.contains("no such table")),
        "the log has no line for request {id}: {log}"
    );
}
