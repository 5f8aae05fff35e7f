//! The CLI as a user meets it: exit codes (0 ok, 1 finding, 2 error), messages that say what
//! was wrong and where, and rulesets that nftables itself accepts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trustgate"))
}

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mud"
    ))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run trustgate")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every MUD file in the shared corpus (not namib's expected-result files, not keys).
fn mud_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(corpus()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let is_mud = name.ends_with(".json") || name == "MUDFILE.NEST";
            if is_mud && !name.ends_with("-Test.json") {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

struct Netns(String);
impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn nft_check(ns: &Netns, ruleset: &[u8], json: bool) -> Output {
    let mut args = vec!["netns", "exec", &ns.0, "nft", "-c"];
    if json {
        args.push("-j");
    }
    args.extend(["-f", "-"]);
    let mut child = Command::new("ip")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(ruleset).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn every_corpus_file_that_parses_compiles_to_a_ruleset_nft_accepts() {
    // `nft -c` talks to the kernel, so run it in a namespace of our own: root needed.
    let ns = Netns(format!("tgcli{}", std::process::id()));
    let st = Command::new("ip")
        .args(["netns", "add", &ns.0])
        .status()
        .unwrap();
    assert!(
        st.success(),
        "needs root and iproute2 (run through .ci/run)"
    );

    let mut compiled = 0;
    for f in mud_files() {
        let path = f.to_str().unwrap();
        let valid = run(&["mud", "validate", "--lenient", path]);
        if code(&valid) != 0 {
            // Only files lenient mode rejects may skip compilation; say which.
            assert_eq!(code(&valid), 1, "{path}: {}", stderr(&valid));
            eprintln!(
                "not compiled (lenient rejects): {path}: {}",
                stderr(&valid).trim()
            );
            continue;
        }
        for json in [false, true] {
            let mut args = vec![
                "mud",
                "compile",
                "--lenient",
                path,
                "--mac",
                "02:00:00:00:00:01",
                "--ip",
                "192.168.1.20",
                "--ip",
                "fd00::20",
                "--gateway",
                "192.168.1.1",
            ];
            if json {
                args.push("--json");
            }
            let out = run(&args);
            assert_eq!(code(&out), 0, "{path}: {}", stderr(&out));
            let check = nft_check(&ns, &out.stdout, json);
            assert!(
                check.status.success(),
                "nft -c{} rejects the ruleset for {path}: {}",
                if json { " -j" } else { "" },
                stderr(&check)
            );
        }
        compiled += 1;
    }
    // The corpus has 27 MUD files; all but the draft-syntax outliers must compile.
    assert!(compiled >= 24, "only {compiled} corpus files compiled");
}

#[test]
fn every_level_compiles_to_a_ruleset_nft_accepts() {
    let ns = Netns(format!("tglvl{}", std::process::id()));
    assert!(Command::new("ip")
        .args(["netns", "add", &ns.0])
        .status()
        .unwrap()
        .success());
    let f = corpus().join("nist/mud-dns-test__mudfile-dns-test.json");
    for level in ["declared", "default", "update-only", "isolated"] {
        let out = run(&[
            "mud",
            "compile",
            "--lenient",
            f.to_str().unwrap(),
            "--mac",
            "02:00:00:00:00:02",
            "--ip",
            "10.0.0.2",
            "--level",
            level,
        ]);
        assert_eq!(code(&out), 0, "{level}: {}", stderr(&out));
        assert!(
            stdout(&out).contains(&format!("default-deny:{level}")),
            "{level}"
        );
        let check = nft_check(&ns, &out.stdout, false);
        assert!(check.status.success(), "{level}: {}", stderr(&check));
    }
}

#[test]
fn cisco_signature_valid_in_2019_expired_now_and_broken_by_tampering() {
    let dir = corpus().join("cisco");
    let json = dir.join("Luminaire_150.json");
    let sig = dir.join("Luminaire_150.p7s");
    let ca = dir.join("luminaire-cacert.pem");
    let args = |file: &Path, at: Option<&str>| {
        let mut a = vec![
            "mud".to_string(),
            "verify".into(),
            file.to_str().unwrap().into(),
            "--sig".into(),
            sig.to_str().unwrap().into(),
            "--ca".into(),
            ca.to_str().unwrap().into(),
            "--json".into(),
        ];
        if let Some(at) = at {
            a.push("--at".into());
            a.push(at.into());
        }
        a
    };
    let ok = bin()
        .args(args(&json, Some("2019-01-01T00:00:00Z")))
        .output()
        .unwrap();
    assert_eq!(code(&ok), 0, "{}", stderr(&ok));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["valid"], true);

    let now = bin().args(args(&json, None)).output().unwrap();
    assert_eq!(code(&now), 1);
    let v: serde_json::Value = serde_json::from_slice(&now.stdout).unwrap();
    assert!(v["reason"].as_str().unwrap().contains("expired"), "{v}");

    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(&json).unwrap();
    bytes[100] ^= 0x01;
    let tampered = tmp.path().join("tampered.json");
    std::fs::write(&tampered, bytes).unwrap();
    let bad = bin()
        .args(args(&tampered, Some("2019-01-01T00:00:00Z")))
        .output()
        .unwrap();
    assert_eq!(code(&bad), 1);

    let bad_time = bin().args(args(&json, Some("yesterday"))).output().unwrap();
    assert_eq!(code(&bad_time), 2);
    assert!(stderr(&bad_time).contains("RFC 3339"));
}

#[test]
fn sign_then_verify_round_trip_and_tampering_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = mud::signature::ephemeral_pki("CLI test").unwrap();
    let (key, cert, ca) = (
        tmp.path().join("k.pem"),
        tmp.path().join("c.pem"),
        tmp.path().join("ca.pem"),
    );
    std::fs::write(&key, &pki.signer_key_pem).unwrap();
    std::fs::write(&cert, &pki.signer_cert_pem).unwrap();
    std::fs::write(&ca, &pki.ca_cert_pem).unwrap();
    let file = tmp.path().join("plug.json");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/samples/smart-plug.json"),
        &file,
    )
    .unwrap();
    let sig = tmp.path().join("plug.p7s");
    let p = |x: &PathBuf| x.to_str().unwrap().to_string();
    let out = run(&[
        "mud",
        "sign",
        &p(&file),
        "--key",
        &p(&key),
        "--cert",
        &p(&cert),
        "-o",
        &p(&sig),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(&[
        "mud",
        "verify",
        &p(&file),
        "--sig",
        &p(&sig),
        "--ca",
        &p(&ca),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("CN=demo MUD signer"));

    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("\"port\": 443", "\"port\": 444");
    std::fs::write(&file, text).unwrap();
    let out = run(&[
        "mud",
        "verify",
        &p(&file),
        "--sig",
        &p(&sig),
        "--ca",
        &p(&ca),
    ]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("NOT valid"));

    // An invalid MUD file is not signed.
    let broken = tmp.path().join("broken.json");
    std::fs::write(&broken, "{\"ietf-mud:mud\": {}}").unwrap();
    let out = run(&[
        "mud",
        "sign",
        &p(&broken),
        "--key",
        &p(&key),
        "--cert",
        &p(&cert),
        "-o",
        &p(&sig),
    ]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("/ietf-mud:mud"), "{}", stderr(&out));
}

#[test]
fn bad_input_gets_a_clear_error_and_a_non_zero_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    // Malformed JSON: line and column.
    let f = write(
        "bad.json",
        b"{\n  \"ietf-mud:mud\": {\n    \"mud-version\": 1,,\n",
    );
    let out = run(&["mud", "validate", &f]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("line 3"), "{}", stderr(&out));

    // Missing mandatory field (MUDFILE.NEST has no mud-version).
    let nest = corpus().join("osmud-negative/MUDFILE.NEST");
    let out = run(&["mud", "validate", nest.to_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert!(
        v["error"]["rule"].as_str().unwrap().contains("mud-version"),
        "{v}"
    );

    // Non-https MUD URL.
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/smart-plug.json"
    ))
    .unwrap();
    let f = write(
        "http.json",
        sample.replace("https://plugco", "http://plugco").as_bytes(),
    );
    let out = run(&["mud", "validate", &f]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("mud-url"), "{}", stderr(&out));

    // Over 1 MiB: refused before parsing.
    let mut big = sample.clone().into_bytes();
    big.resize(1024 * 1024 + 10, b' ');
    let f = write("big.json", &big);
    let out = run(&["mud", "compile", &f, "--mac", "02:00:00:00:00:01"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("limit"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "nothing compiled");

    // An unknown extension is ignored (RFC 8520 §3.9), with a warning.
    let ext = sample.replace(
        "\"mud-version\": 1,",
        "\"mud-version\": 1, \"extensions\": [\"acme-ext\"], \"acme-ext:thing\": {\"x\": 1},",
    );
    let f = write("ext.json", ext.as_bytes());
    let out = run(&["mud", "validate", &f]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // Missing file and malformed MAC: errors (2), not findings.
    assert_eq!(code(&run(&["mud", "validate", "/nonexistent/x.json"])), 2);
    let out = run(&["mud", "compile", &f, "--mac", "zz:00:00:00:00:01"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("MAC"), "{}", stderr(&out));
}

#[test]
fn explain_and_demo_speak_plainly() {
    let out = run(&[
        "mud",
        "explain",
        concat!(env!("CARGO_MANIFEST_DIR"), "/samples/smart-plug.json"),
        "--json",
    ]);
    assert_eq!(code(&out), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<&str> = v["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cloud.plugco.example") && l.contains("443")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Everything else is blocked")),
        "{lines:?}"
    );

    let out = run(&["demo", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = v["demo"].as_array().unwrap();
    assert_eq!(steps.len(), 7);
    // The gateway step replays a capture with infected devices: it names them and the event
    // that caught the first, within the 10 s the issue asks for.
    let gw = &steps[5]["data"];
    assert!(!gw["infected"].as_array().unwrap().is_empty());
    assert!(gw["infected"]
        .as_array()
        .unwrap()
        .contains(&gw["event"]["device"]));
    assert!(gw["detected_after_s"].as_f64().unwrap() < 10.0);
    assert!(steps[4]["data"]["qr"]
        .as_str()
        .unwrap()
        .starts_with("https://registry.example/l/"));
    assert_eq!(
        steps[1]["data"]["verified"]["signer_subject"],
        "CN=demo MUD signer,O=PlugCo demo"
    );
    assert!(steps[1]["data"]["tampered_refused"].as_str().is_some());
    assert!(steps[3]["data"]["device_rules"].as_u64().unwrap() > 2);
    // The MUD-manager step: fetched over HTTPS, declared with an active label, then
    // update-only after the revocation, with the revocation's reason.
    let mm = &steps[6]["data"];
    assert!(mm["mud_url"]
        .as_str()
        .unwrap()
        .starts_with("https://localhost:"));
    assert!(
        mm["declared_reason"]
            .as_str()
            .unwrap()
            .contains("is active"),
        "{mm}"
    );
    assert!(
        mm["update_only_reason"]
            .as_str()
            .unwrap()
            .contains("default password"),
        "{mm}"
    );
    let _ = std::fs::remove_dir_all(v["dir"].as_str().unwrap());
}

#[test]
fn keygen_issue_show_verify_a_label_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let out = run(&["keygen", "-o", &p("assessor.key"), "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(p("assessor.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "private key readable by others");
    let kid = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string();
    // Never overwrite a key.
    assert_eq!(code(&run(&["keygen", "-o", &p("assessor.key")])), 2);

    std::fs::write(p("claims.json"), label::example_claims().to_json_pretty()).unwrap();
    let out = run(&[
        "label",
        "issue",
        &p("claims.json"),
        "--key",
        &p("assessor.key"),
        "-o",
        &p("l.cose"),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let out = run(&["label", "show", &p("l.cose"), "--json"]);
    assert_eq!(code(&out), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], false);
    assert_eq!(v["kid"], kid.as_str());
    assert_eq!(v["claims"]["id"], "urn:trustgate:label:0001");

    let verify = |label: &str, key: &str, at: &str| {
        run(&[
            "label",
            "verify",
            label,
            "--assessor",
            key,
            "--at",
            at,
            "--json",
        ])
    };
    let ok = verify(&p("l.cose"), &p("assessor.pub"), "2027-06-01T00:00:00Z");
    assert_eq!(code(&ok), 0, "{}", stdout(&ok));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["active"], true);

    // Support ends 2030-12-31: a valid signature, but not an active label.
    let ended = verify(&p("l.cose"), &p("assessor.pub"), "2031-01-02T00:00:00Z");
    assert_eq!(code(&ended), 1);
    assert!(stdout(&ended).contains("support"), "{}", stdout(&ended));

    // One changed byte, or a key that is not a registered assessor: not valid.
    let mut bytes = std::fs::read(p("l.cose")).unwrap();
    let last = bytes.len() - 5;
    bytes[last] ^= 0x40;
    std::fs::write(p("tampered.cose"), bytes).unwrap();
    let bad = verify(
        &p("tampered.cose"),
        &p("assessor.pub"),
        "2027-06-01T00:00:00Z",
    );
    assert_eq!(code(&bad), 1);
    run(&["keygen", "-o", &p("other.key")]);
    let unknown = verify(&p("l.cose"), &p("other.pub"), "2027-06-01T00:00:00Z");
    assert_eq!(code(&unknown), 1);
    assert!(
        stdout(&unknown).contains(&kid),
        "the reason names the unknown key: {}",
        stdout(&unknown)
    );

    // Claims with an unknown field are refused, naming it; nothing is written.
    let text = label::example_claims()
        .to_json_pretty()
        .replacen('{', "{\"colour\": \"red\",", 1);
    std::fs::write(p("bad.json"), text).unwrap();
    let out = run(&[
        "label",
        "issue",
        &p("bad.json"),
        "--key",
        &p("assessor.key"),
        "-o",
        &p("bad.cose"),
    ]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("colour"), "{}", stderr(&out));
    assert!(!Path::new(&p("bad.cose")).exists());
}

#[test]
fn baseline_list_shows_the_catalog() {
    let out = run(&["baseline", "list", "--json"]);
    assert_eq!(code(&out), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let provisions = v["provisions"].as_array().unwrap();
    assert!(provisions.iter().any(|p| p["id"] == "5.1-1"));
    assert!(provisions.len() >= 60, "{}", provisions.len());
    let text = stdout(&run(&["baseline", "list"]));
    assert!(text.contains("5.3-13"));
}

/// A registry's log, built here with the tlog crate: a label, a few other entries, a signed
/// checkpoint and an inclusion-proof bundle. `label verify --bundle` must accept the real
/// bundle and refuse a bundle for another entry or under another log key.
#[test]
fn label_verify_checks_an_offline_log_inclusion_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    assert_eq!(code(&run(&["keygen", "-o", &p("a.key")])), 0);
    std::fs::write(p("claims.json"), label::example_claims().to_json_pretty()).unwrap();
    assert_eq!(
        code(&run(&[
            "label",
            "issue",
            &p("claims.json"),
            "--key",
            &p("a.key"),
            "-o",
            &p("l.cose")
        ])),
        0
    );
    let label_bytes = std::fs::read(p("l.cose")).unwrap();

    let mut log = tlog::memory::MemoryLog::new();
    for i in 0..5u8 {
        log.append(vec![i; 40]);
    }
    let index = log.append(label_bytes.clone());
    log.append(b"a later entry".to_vec());
    let signer = tlog::note::NoteSigner::from_seed("log.example", &[7u8; 32]).unwrap();
    let checkpoint = tlog::checkpoint::Checkpoint::new("log.example", log.size(), log.root());
    let signed = checkpoint.sign(&[&signer]).unwrap();
    let bundle =
        tlog::ProofBundle::build(label_bytes, index, &checkpoint, signed.clone(), &log).unwrap();
    std::fs::write(p("bundle.json"), bundle.to_json()).unwrap();
    let other = tlog::ProofBundle::build(vec![0u8; 40], 0, &checkpoint, signed, &log).unwrap();
    std::fs::write(p("other.json"), other.to_json()).unwrap();
    let vkey = signer.verifier_key().to_string();
    let wrong = tlog::note::NoteSigner::from_seed("log.example", &[8u8; 32])
        .unwrap()
        .verifier_key()
        .to_string();

    let verify = |bundle: &str, key: &str| {
        run(&[
            "label",
            "verify",
            &p("l.cose"),
            "--assessor",
            &p("a.pub"),
            "--at",
            "2027-01-01T00:00:00Z",
            "--bundle",
            bundle,
            "--log-key",
            key,
            "--json",
        ])
    };
    let ok = verify(&p("bundle.json"), &vkey);
    assert_eq!(code(&ok), 0, "{}{}", stdout(&ok), stderr(&ok));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["logged"]["leaf_index"], 5);
    assert_eq!(v["logged"]["tree_size"], 7);

    let not_this = verify(&p("other.json"), &vkey);
    assert_eq!(code(&not_this), 1);
    assert!(
        stdout(&not_this).contains("different entry"),
        "{}",
        stdout(&not_this)
    );
    let wrong_key = verify(&p("bundle.json"), &wrong);
    assert_eq!(code(&wrong_key), 1, "{}", stdout(&wrong_key));

    // A tampered proof (one hash byte) is refused.
    let mut tampered: serde_json::Value = serde_json::from_str(&bundle.to_json()).unwrap();
    let proof = tampered["inclusion_proof"]
        .as_array_mut()
        .expect("bundle has an inclusion_proof array");
    let h = proof[0].as_str().unwrap().to_string();
    let flipped = if h.starts_with('A') {
        h.replacen('A', "B", 1)
    } else {
        format!("A{}", &h[1..])
    };
    proof[0] = serde_json::Value::String(flipped);
    std::fs::write(p("tampered.json"), tampered.to_string()).unwrap();
    assert_eq!(code(&verify(&p("tampered.json"), &vkey)), 1);
}

/// The workspace's error rule: a message says what failed at its own layer and never repeats
/// its source; the CLI prints the chain once (`{:#}`). A nested failure (registry → HTTP client
/// → connect) names each cause exactly once.
#[test]
fn each_cause_of_a_nested_error_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let label = dir.path().join("any.label");
    std::fs::write(&label, b"not even a label").unwrap();
    let out = run(&[
        "registry",
        "submit",
        label.to_str().unwrap(),
        "--url",
        "http://127.0.0.1:1",
    ]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    let line = err.trim().strip_prefix("error: ").expect("one error line");
    assert_eq!(line.matches("error sending request").count(), 1, "{line}");
    // No layer's text contains the next layer's: each cause appears once in the chain.
    let parts: Vec<&str> = line.split(": ").collect();
    for (i, p) in parts.iter().enumerate() {
        for q in &parts[i + 1..] {
            assert!(
                q.len() < 8 || !p.contains(q),
                "{p:?} repeats {q:?} in {line}"
            );
        }
    }
    assert!(line.starts_with("cannot reach the registry: "), "{line}");
}

/// Run `args` with stdout a pipe whose reader is already gone, as `trustgate … | head -0`
/// does; returns the exit code and stderr.
fn with_closed_stdout(args: &[&str]) -> (i32, String) {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run trustgate");
    drop(child.stdout.take()); // the reader goes away before anything is read
    let out = child.wait_with_output().expect("wait");
    (code(&out), stderr(&out))
}

/// A reader that closes the pipe early is not an error: every command that prints ends quietly
/// with its usual exit code (0 here), never the panic's 101.
#[test]
fn a_closed_stdout_pipe_ends_every_printing_command_quietly() {
    let mud = mud_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("cisco"))
        .expect("a Cisco MUD file");
    let mud = mud.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.key");
    let key = key.to_str().unwrap();
    let shared = corpus().join("../realworld");
    let image = shared.join("firmware/fact/squashFS/test/data/gzip.sqfs");
    let image = image.to_str().unwrap().to_string();
    let capture = shared.join("pcap/zeek__ssh__sshguess.pcap");
    let capture = capture.to_str().unwrap().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["baseline", "list"],
        vec!["baseline", "list", "--json"],
        vec!["demo"],
        vec!["demo", "--json"],
        vec!["label", "template"],
        vec!["label", "template", "--json"],
        vec!["mud", "validate", mud],
        vec!["mud", "validate", mud, "--json"],
        vec!["mud", "explain", mud],
        vec!["mud", "explain", mud, "--json"],
        vec!["mud", "compile", mud, "--mac", "02:00:00:00:00:01"],
        vec!["keygen", "--output", key],
        vec!["assess", &image],
        vec!["assess", &image, "--json"],
        vec!["monitor", &capture],
        vec!["monitor", &capture, "--json"],
    ];
    for args in cases {
        let (code, err) = with_closed_stdout(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
