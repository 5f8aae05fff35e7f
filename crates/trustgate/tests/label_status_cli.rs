//! The real `trustgate` binary against a real registry on loopback: a revoked label is never
//! reported valid offline, a bundle without status statements says only the label was checked,
//! an operator can revoke a retired assessor's label, `registry fetch` refuses answers that do
//! not check out, and private keys readable by others are refused.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::*;

/// A registry with one assessor ("lab", keys from `trustgate keygen`) and one submitted label
/// `id`; returns (server, data dir, label path).
fn registry_with_label(d: &Path, id: &str) -> (Server, PathBuf, PathBuf) {
    let mut claims = label::example_claims();
    claims.id = id.into();
    registry_with_claims(d, &claims)
}

fn fetch(url: &str, data: &Path, id: &str, extra: &[&str]) -> Output {
    let log_key = data.join("log.key.pub");
    let mut args = vec![
        "registry",
        "fetch",
        id,
        "--url",
        url,
        "--log-key",
        s(&log_key),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn verify(label: &Path, d: &Path, data: &Path, bundle: Option<&Path>, extra: &[&str]) -> Output {
    let lab = d.join("lab.pub");
    let log_key = data.join("log.key.pub");
    let mut args = vec!["label", "verify", s(label), "--assessor", s(&lab)];
    if let Some(b) = bundle {
        args.extend_from_slice(&["--bundle", s(b), "--log-key", s(&log_key)]);
    }
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn label_verify_with_a_bundle_sees_a_logged_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (server, data, label_path) = registry_with_label(d, "urn:st:1");
    let lab_pub = d.join("lab.pub");

    // A bundle fetched before the revocation: checked, no statements, active.
    let before = d.join("before.json");
    let o = fetch(
        &server.url,
        &data,
        "urn:st:1",
        &["--assessor", s(&lab_pub), "-o", s(&before)],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = verify(&label_path, d, &data, Some(&before), &[]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains("the label and the 0 status statement(s)"),
        "{}",
        text(&o)
    );

    let o = run(&[
        "registry",
        "revoke",
        "urn:st:1",
        "--reason",
        "default password",
        "--key",
        s(&d.join("lab.key")),
        "--url",
        &server.url,
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let bundle = d.join("bundle.json");
    let o = fetch(
        &server.url,
        &data,
        "urn:st:1",
        &["--assessor", s(&lab_pub), "-o", s(&bundle)],
    );
    assert_eq!(code(&o), 1, "revoked is not active: {}", text(&o));
    assert!(text(&o).contains("Revoked"), "{}", text(&o));

    // Offline, from the fetched bundle: revoked, exit 1, never "Valid".
    let o = verify(&label_path, d, &data, Some(&bundle), &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("Revoked: this label no longer applies (default password)"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("Valid"), "{}", text(&o));
    let o = verify(&label_path, d, &data, Some(&bundle), &["--json"]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["revocation_checked"], true);
    assert_eq!(v["status"]["state"], "revoked");
    assert_eq!(v["statements"][0]["event"]["kind"]["type"], "revoked");

    // The same bundle in the old form (no statements): readable, and it says plainly that only
    // the label was checked; it does not call the label valid.
    let mut old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    assert!(old.as_object_mut().unwrap().remove("statements").is_some());
    let old_path = d.join("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let o = verify(&label_path, d, &data, Some(&old_path), &[]);
    assert!(text(&o).contains("revocation NOT checked"), "{}", text(&o));
    assert!(text(&o).contains("only the label itself"), "{}", text(&o));
    assert!(!text(&o).contains("Valid"), "{}", text(&o));
    let o = verify(&label_path, d, &data, Some(&old_path), &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["revocation_checked"], false);
    assert!(v["checked"]
        .as_str()
        .unwrap()
        .contains("only the label itself"));
    // Without any bundle: the same plain words.
    let o = verify(&label_path, d, &data, None, &[]);
    assert!(text(&o).contains("only the label itself"), "{}", text(&o));
    assert!(!text(&o).contains("Valid"), "{}", text(&o));

    // A bundle whose statement was swapped for another label's bytes does not verify.
    let mut t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    t["statements"][0]["leaf_index"] = serde_json::json!(0);
    let t_path = d.join("t.json");
    std::fs::write(&t_path, t.to_string()).unwrap();
    let o = verify(&label_path, d, &data, Some(&t_path), &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("NOT valid"), "{}", text(&o));
}

#[test]
fn operator_revokes_a_retired_assessors_label() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (server, data, label_path) = registry_with_label(d, "urn:op:1");
    let lab_pub = d.join("lab.pub");
    assert_eq!(code(&run(&["keygen", "-o", s(&d.join("op.key"))])), 0);
    let o = run(&[
        "registry",
        "add-operator",
        s(&d.join("op.pub")),
        "--name",
        "Registry operator",
        "--data-dir",
        s(&data),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let kid = label::KeyId::of(
        &label::verifying_key_from_pem(&std::fs::read_to_string(&lab_pub).unwrap()).unwrap(),
    )
    .to_string();
    let o = run(&["registry", "retire-assessor", &kid, "--data-dir", s(&data)]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let revoke = |flag: &str, key: &str| {
        run(&[
            "registry",
            "revoke",
            "urn:op:1",
            "--reason",
            "assessor key compromised",
            flag,
            key,
            "--url",
            &server.url,
        ])
    };
    let o = revoke("--key", s(&d.join("lab.key")));
    assert_eq!(code(&o), 1);
    assert!(text(&o).contains("retired-assessor"), "{}", text(&o));
    let o = revoke("--operator-key", s(&d.join("op.key")));
    assert_eq!(code(&o), 0, "{}", text(&o));

    // Without the operator's public key the statement cannot be checked: refused.
    let bundle = d.join("bundle.json");
    let o = fetch(
        &server.url,
        &data,
        "urn:op:1",
        &["--assessor", s(&lab_pub), "-o", s(&bundle)],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("--operator-key"), "{}", text(&o));
    assert!(!bundle.exists(), "nothing saved from an unchecked answer");
    let op_pub = d.join("op.pub");
    let o = fetch(
        &server.url,
        &data,
        "urn:op:1",
        &[
            "--assessor",
            s(&lab_pub),
            "--operator-key",
            s(&op_pub),
            "-o",
            s(&bundle),
        ],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("Revoked"), "{}", text(&o));
    assert!(
        text(&o).contains("every signature verified"),
        "{}",
        text(&o)
    );

    let o = verify(&label_path, d, &data, Some(&bundle), &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("status cannot be established"),
        "{}",
        text(&o)
    );
    let o = verify(
        &label_path,
        d,
        &data,
        Some(&bundle),
        &["--operator-key", s(&op_pub)],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("Revoked: this label no longer applies (assessor key compromised)"),
        "{}",
        text(&o)
    );
}

#[test]
fn registry_fetch_refuses_answers_that_do_not_check_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (server, data, _) = registry_with_label(d, "urn:tamper:1");
    let lab_pub = d.join("lab.pub");
    let o = run(&[
        "registry",
        "revoke",
        "urn:tamper:1",
        "--reason",
        "telnet open",
        "--key",
        s(&d.join("lab.key")),
        "--url",
        &server.url,
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (st, real) = rt
        .block_on(
            registry::Client::new(&server.url)
                .unwrap()
                .get_raw("/v1/labels/urn:tamper:1"),
        )
        .unwrap();
    assert_eq!(st, 200);
    let real: serde_json::Value = serde_json::from_slice(&real).unwrap();
    assert_eq!(real["status"]["state"], "revoked");

    let active = |v: &mut serde_json::Value| {
        v["status"] = serde_json::json!({"state": "active"});
        v["status_words"] = serde_json::json!(label::Status::Active.plain_words());
    };
    // 1. Status rewritten to active, the statement proofs dropped.
    let mut a = real.clone();
    active(&mut a);
    a["bundle"].as_object_mut().unwrap().remove("statements");
    a["events"] = serde_json::json!([]);
    // 2. Status rewritten to active, proofs kept.
    let mut b = real.clone();
    active(&mut b);
    // 3. The checkpoint's signature altered.
    let mut c = real.clone();
    let note = c["bundle"]["checkpoint"].as_str().unwrap().to_string();
    let sig_line = note.lines().last().unwrap().to_string();
    let (head, sig) = sig_line.rsplit_once(' ').unwrap();
    let mut sig = sig.to_string();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(0..1, flipped);
    c["bundle"]["checkpoint"] =
        serde_json::json!(note.replace(&sig_line, &format!("{head} {sig}")));
    // 4. Another label's answer under this id (the proof is of a different label).
    let mut e = real.clone();
    e["label_id"] = serde_json::json!("urn:tamper:other");

    for (what, body, expect) in [
        ("statements dropped", a, "no status statements"),
        ("status rewritten", b, "the statements it proves give"),
        ("checkpoint signature", c, "proof bundle"),
        ("label id", e, "not what the answer says"),
    ] {
        let url = canned_http(body.to_string(), 1);
        let out = d.join(format!("{}.json", what.replace(' ', "-")));
        let o = run(&[
            "registry",
            "fetch",
            "urn:tamper:1",
            "--url",
            &url,
            "--log-key",
            s(&data.join("log.key.pub")),
            "--assessor",
            s(&lab_pub),
            "-o",
            s(&out),
        ]);
        assert_eq!(code(&o), 1, "{what}: {}", text(&o));
        assert!(text(&o).contains("refused"), "{what}: {}", text(&o));
        assert!(text(&o).contains(expect), "{what}: {}", text(&o));
        assert!(!out.exists(), "{what}: nothing saved");
    }
    // The untampered answer, served the same way, is accepted (and reads as revoked).
    let url = canned_http(real.to_string(), 1);
    let o = run(&[
        "registry",
        "fetch",
        "urn:tamper:1",
        "--url",
        &url,
        "--log-key",
        s(&data.join("log.key.pub")),
        "--assessor",
        s(&lab_pub),
    ]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("Revoked"), "{}", text(&o));
    assert!(!text(&o).contains("refused"), "{}", text(&o));
}

#[test]
fn private_keys_readable_by_others_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("lab.key");
    assert_eq!(code(&run(&["keygen", "-o", s(&key)])), 0);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let claims = d.join("claims.json");
    std::fs::write(&claims, label::example_claims().to_json_pretty()).unwrap();
    let out = d.join("l.cose");
    let o = run(&[
        "label",
        "issue",
        s(&claims),
        "--key",
        s(&key),
        "-o",
        s(&out),
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains(&format!("chmod 600 {}", key.display())),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
    let o = run(&[
        "registry",
        "revoke",
        "urn:x:1",
        "--reason",
        "r",
        "--key",
        s(&key),
        "--url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("chmod 600"), "{}", text(&o));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = run(&[
        "label",
        "issue",
        s(&claims),
        "--key",
        s(&key),
        "-o",
        s(&out),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
}
