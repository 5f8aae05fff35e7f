//! Every path a label is read by tells whether the device passed its assessment, driving the
//! real `trustgate` binary: a firmware image that fails mandatory provisions (root password
//! "admin", telnetd giving a shell without login), assessed by the real `trustgate assess`,
//! cannot become a "Valid" label through `label issue`, `label verify`, the registry's JSON
//! answers, `registry fetch`, or the consumer page rendered by headless Chromium. Also the
//! claims checks at issue time, the template round trip, the registry operator's commands, the
//! data-directory lock and the page for a label that does not exist (English and French).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::*;

/// One HTTP/1.1 GET on loopback: (status code, body).
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    c.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
}

/// The page as headless Chromium renders it (its DOM after load), with the browser's
/// language set to `lang`.
fn chromium_dom(url: &str, lang: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--lang={lang}"),
            &format!("--accept-lang={lang}"),
            "--window-size=390,844",
            "--dump-dom",
            url,
        ])
        .output()
        .expect("run chromium (apt-get install chromium)");
    assert!(o.status.success(), "chromium: {}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// A root filesystem as a tar archive, packed by GNU tar: `failing` plants root's password
/// "admin" (sha512crypt) and an init script starting telnetd with a shell and no login.
fn firmware(dir: &Path, name: &str, failing: bool) -> PathBuf {
    let root = dir.join(format!("{name}-root"));
    std::fs::create_dir_all(root.join("etc/init.d")).unwrap();
    // A root filesystem: /etc beside /bin (assess says whether it opened one).
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::write(root.join("bin/busybox"), b"\x7fELF not really").unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    let shadow = if failing {
        let o = Command::new("openssl")
            .args(["passwd", "-6", "-salt", "c2Vuc29yMQ", "admin"])
            .output()
            .expect("openssl passwd");
        assert!(o.status.success());
        format!(
            "root:{}:19000::::::\n",
            String::from_utf8(o.stdout).unwrap().trim()
        )
    } else {
        "root:*:19000::::::\n".to_string()
    };
    std::fs::write(root.join("etc/shadow"), shadow).unwrap();
    if failing {
        std::fs::write(
            root.join("etc/init.d/rcS"),
            "#!/bin/sh\ntelnetd -l /bin/sh\n",
        )
        .unwrap();
    }
    let tar = dir.join(format!("{name}.tar"));
    let st = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    tar
}

/// `trustgate assess --json` on the image, and claims from `label template --json` naming it.
fn assess_and_claims(dir: &Path, image: &Path, id: &str) -> (PathBuf, PathBuf) {
    let o = run(&["assess", s(image), "--json", "--as-of", "2025-06-01"]);
    assert!(code(&o) <= 1, "{}", text(&o));
    let report = dir.join(format!("{id}.report.json"));
    std::fs::write(&report, &o.stdout).unwrap();
    let t = run(&["label", "template", "--json"]);
    assert_eq!(code(&t), 0, "{}", text(&t));
    let mut claims: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    claims["id"] = id.into();
    claims["software"][0]["image-sha256"] = label::Sha256Digest::of(&std::fs::read(image).unwrap())
        .to_string()
        .into();
    let path = dir.join(format!("{id}.claims.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&claims).unwrap()).unwrap();
    (report, path)
}

fn issue(claims: &Path, key: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["label", "issue", s(claims), "--key", s(key), "-o", s(out)];
    args.extend_from_slice(extra);
    run(&args)
}

fn add_assessor(d: &Path, data: &Path) {
    let o = run(&[
        "registry",
        "add-assessor",
        s(&d.join("lab.pub")),
        "--name",
        "Lab",
        "--data-dir",
        s(data),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn a_failing_image_never_reads_as_a_valid_label() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&run(&["keygen", "-o", s(&d.join("lab.key"))])), 0);
    let key = d.join("lab.key");
    let bad = firmware(d, "bad", true);
    let good = firmware(d, "good", false);
    let (bad_report, bad_claims) = assess_and_claims(d, &bad, "urn:e2e:bad");
    let (good_report, good_claims) = assess_and_claims(d, &good, "urn:e2e:good");
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bad_report).unwrap()).unwrap();
    let verdict = |p: &str| {
        r["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["provision"] == p)
            .map(|v| v["verdict"].as_str().unwrap().to_string())
    };
    assert_eq!(verdict("5.1-1").as_deref(), Some("fail"), "{r}");

    // Issue: refused, naming the failing provisions; nothing written.
    let bad_label = d.join("bad.label");
    let o = issue(
        &bad_claims,
        &key,
        &bad_label,
        &["--assessment", s(&bad_report)],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("5.1-1") && text(&o).contains("--non-conformant"),
        "{}",
        text(&o)
    );
    assert!(!bad_label.exists());
    // With --non-conformant: issued, and the label says so, signed.
    let o = issue(
        &bad_claims,
        &key,
        &bad_label,
        &["--assessment", s(&bad_report), "--non-conformant"],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let shown = run(&["label", "show", s(&bad_label), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(v["claims"]["conformance"]["outcome"], "non-conformant");
    let failing: Vec<&str> = v["claims"]["conformance"]["failing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(failing.contains(&"5.1-1"), "{failing:?}");
    // The control: the clean image issues without any flag.
    let good_label = d.join("good.label");
    let o = issue(
        &good_claims,
        &key,
        &good_label,
        &["--assessment", s(&good_report)],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));

    // label verify: exit 1, never "Valid"; the good label exits 0.
    let lab_pub = d.join("lab.pub");
    let o = run(&["label", "verify", s(&bad_label), "--assessor", s(&lab_pub)]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("does NOT conform"), "{}", text(&o));
    assert!(!text(&o).contains("Valid"), "{}", text(&o));
    let o = run(&[
        "label",
        "verify",
        s(&bad_label),
        "--assessor",
        s(&lab_pub),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["good"], false);
    assert_eq!(v["assessment"]["outcome"], "non-conformant");
    let o = run(&["label", "verify", s(&good_label), "--assessor", s(&lab_pub)]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("Assessment: conforms"), "{}", text(&o));

    // The registry: submit, lookups, batch, fetch.
    let data = d.join("data");
    add_assessor(d, &data);
    let server = Server::start(&data);
    let o = run(&["registry", "submit", s(&bad_label), "--url", &server.url]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!text(&o).contains("Valid"), "{}", text(&o));
    assert!(text(&o).contains("Does not conform"), "{}", text(&o));
    let o = run(&["registry", "submit", s(&good_label), "--url", &server.url]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let digest = |p: &Path| label::label_digest(&std::fs::read(p).unwrap()).to_string();
    let (st, body) = get(
        &server.addr,
        &format!("/v1/lookup?digest={}", digest(&bad_label)),
        &[],
    );
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let l = &v["labels"][0];
    assert_eq!(l["assessment"]["outcome"], "non-conformant");
    assert_eq!(l["status"]["state"], "active");
    assert!(
        !l["status_words"].as_str().unwrap().starts_with("Valid"),
        "{l}"
    );
    assert!(
        !l["status_words_fr"].as_str().unwrap().starts_with("Valide"),
        "{l}"
    );
    let (_, body) = get(&server.addr, "/v1/labels/urn:e2e:good", &[]);
    let g: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(g["assessment"]["outcome"], "conformant");
    assert!(
        g["status_words"].as_str().unwrap().starts_with("Valid"),
        "{g}"
    );
    let o = run(&[
        "registry",
        "fetch",
        "urn:e2e:bad",
        "--url",
        &server.url,
        "--log-key",
        s(&data.join("log.key.pub")),
        "--assessor",
        s(&lab_pub),
    ]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(!text(&o).contains("Valid"), "{}", text(&o));
    let o = run(&[
        "registry",
        "fetch",
        "urn:e2e:good",
        "--url",
        &server.url,
        "--log-key",
        s(&data.join("log.key.pub")),
        "--assessor",
        s(&lab_pub),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));

    // The consumer page in a real browser, English and French.
    let page = |p: &Path| {
        let bytes = std::fs::read(p).unwrap();
        label::short_form(&server.url, &label::label_digest(&bytes))
    };
    let en = chromium_dom(&page(&bad_label), "en-GB");
    assert!(en.contains("FAILED its security assessment"), "{en}");
    assert!(en.contains(r#"data-good="false""#), "{en}");
    assert!(en.contains("5.1-1"), "{en}");
    assert!(!en.contains(r#"class="ok""#), "{en}");
    assert!(!en.contains(">Valid"), "{en}");
    let fr = chromium_dom(&page(&bad_label), "fr-FR");
    assert!(fr.contains(r#"<html lang="fr">"#), "{fr}");
    assert!(fr.contains("A ÉCHOUÉ à son évaluation de sécurité"), "{fr}");
    assert!(!fr.contains(r#"class="ok""#), "{fr}");
    // The claim values a household reads are in French too, not the claims' English codes.
    assert!(fr.contains("installées automatiquement"), "{fr}");
    assert!(fr.contains("« obligatoire »"), "{fr}");
    assert!(
        !fr.contains("(automatic)") && !fr.contains("(mandatory)"),
        "{fr}"
    );
    assert!(en.contains("(installed automatically)"), "{en}");
    let ok = chromium_dom(&page(&good_label), "en-GB");
    assert!(ok.contains(r#"data-good="true""#), "{ok}");
    assert!(ok.contains(r#"class="ok""#), "{ok}");
}

#[test]
fn claims_are_checked_at_issue_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&run(&["keygen", "-o", s(&d.join("lab.key"))])), 0);
    let key = d.join("lab.key");
    // The template round trip: `template --json` is issued as it is and verifies.
    let t = run(&["label", "template", "--json"]);
    let claims = d.join("claims.json");
    std::fs::write(&claims, &t.stdout).unwrap();
    let out = d.join("l.label");
    let o = issue(&claims, &key, &out, &[]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = run(&[
        "label",
        "verify",
        s(&out),
        "--assessor",
        s(&d.join("lab.pub")),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // The commented template explains every field; `issue --help` too.
    let commented = String::from_utf8(run(&["label", "template"]).stdout).unwrap();
    assert!(commented.contains("// (required) Last day security updates are promised"));
    let help = text(&run(&["label", "issue", "--help"]));
    for field in [
        "support.end-date",
        "assessment.verdicts",
        "validity.not-after",
    ] {
        assert!(help.contains(field), "{field} in {help}");
    }
    // Never overwrite without --force.
    let before = std::fs::read(&out).unwrap();
    let o = issue(&claims, &key, &out, &[]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let base: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    let mut second = base.clone();
    second["id"] = "urn:example:label:cam-100:2".into();
    let second_path = d.join("second.json");
    std::fs::write(&second_path, second.to_string()).unwrap();
    let o = issue(&second_path, &key, &out, &["--force"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_ne!(
        std::fs::read(&out).unwrap(),
        before,
        "replaced by the new label"
    );

    let refused = |edit: &dyn Fn(&mut serde_json::Value), says: &str| {
        let mut v = base.clone();
        edit(&mut v);
        let p = d.join("edited.json");
        std::fs::write(&p, v.to_string()).unwrap();
        let target = d.join("never.label");
        let o = issue(&p, &key, &target, &[]);
        assert_eq!(code(&o), 1, "{says}: {}", text(&o));
        assert!(text(&o).contains(says), "{says}: {}", text(&o));
        assert!(!target.exists());
    };
    refused(
        &|v| v["support"]["end-date"] = "9999-12-31".into(),
        "`support.end-date` 9999-12-31 is more than 15 years ahead",
    );
    refused(
        &|v| v["support"]["end-date"] = "2020-01-01".into(),
        "`support.end-date` 2020-01-01 is in the past",
    );
    refused(
        &|v| v["assessment"]["verdicts"][0]["provision"] = "9.9-9".into(),
        "provision \"9.9-9\" is not in etsi-en-303-645",
    );
    refused(
        &|v| v["validity"]["not-after"] = "2021-01-01T00:00:00Z".into(),
        "validity",
    );
    refused(&|v| v["colour"] = "red".into(), "colour");
    refused(
        &|v| v["support"]["end-date"] = "31/12/2030".into(),
        "/support/end-date",
    );

    // Key-type errors in words: the public key as --key, an EC key.
    let o = issue(&claims, &d.join("lab.pub"), &d.join("x.label"), &[]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("an Ed25519 private key from `trustgate keygen`"),
        "{}",
        text(&o)
    );
    let ec = d.join("ec.key");
    let st = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&ec)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::set_permissions(&ec, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let o = issue(&claims, &ec, &d.join("x.label"), &[]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("Ed25519 private key"), "{}", text(&o));
    assert!(!text(&o).contains("1.2.840"), "no OID: {}", text(&o));

    // An empty revocation reason is refused before anything is sent.
    let o = run(&[
        "registry",
        "revoke",
        "urn:x:1",
        "--reason",
        "  ",
        "--key",
        s(&key),
        "--url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("--reason"), "{}", text(&o));
}

#[test]
fn operator_commands_name_their_database_and_the_data_dir_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&run(&["keygen", "-o", s(&d.join("lab.key"))])), 0);
    assert_eq!(code(&run(&["keygen", "-o", s(&d.join("op.key"))])), 0);
    let data = d.join("data");
    // No location: refused (exit 2), nothing created anywhere.
    let home = d.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let o = bin()
        .args([
            "registry",
            "add-assessor",
            s(&d.join("lab.pub")),
            "--name",
            "Lab",
        ])
        .env_remove("TRUSTGATE_DATA")
        .env("HOME", &home)
        .env_remove("XDG_DATA_HOME")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("--data-dir"), "{}", text(&o));
    assert!(!home.join(".local/share/trustgate").exists());
    // $TRUSTGATE_DATA counts as saying it; the database used is printed.
    let o = bin()
        .args([
            "registry",
            "add-assessor",
            s(&d.join("lab.pub")),
            "--name",
            "Lab",
        ])
        .env("TRUSTGATE_DATA", &data)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "database: sqlite://{}",
            data.join("registry.db").display()
        )),
        "{}",
        text(&o)
    );
    let o = run(&[
        "registry",
        "add-operator",
        s(&d.join("op.pub")),
        "--name",
        "Operator",
        "--data-dir",
        s(&data),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let list = |extra: &[&str]| {
        let mut args = vec!["registry", "list-assessors", "--data-dir", s(&data)];
        args.extend_from_slice(extra);
        run(&args)
    };
    let o = list(&["--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kid = label::KeyId::of(
        &label::verifying_key_from_pem(&std::fs::read_to_string(d.join("lab.pub")).unwrap())
            .unwrap(),
    )
    .to_string();
    assert_eq!(v["assessors"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["assessors"][0]["kid"], kid.as_str());
    assert_eq!(v["assessors"][0]["name"], "Lab");
    assert_eq!(v["assessors"][0]["active"], true);
    assert_eq!(v["operators"][0]["name"], "Operator");
    let o = run(&["registry", "retire-assessor", &kid, "--data-dir", s(&data)]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&list(&["--json"]).stdout).unwrap();
    assert_eq!(v["assessors"][0]["active"], false);
    assert!(v["assessors"][0]["retired_at"].is_string());
    let plain = text(&list(&[]));
    assert!(plain.contains(&kid) && plain.contains("retired"), "{plain}");

    // A second server on the same data directory refuses to start (exit 2) and names the first.
    let server = Server::start(&data);
    let o = bin()
        .args(["registry", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("already serving from")
            && text(&o).contains(&format!("pid {}", server.pid())),
        "{}",
        text(&o)
    );
    // The first one still answers.
    assert_eq!(get(&server.addr, "/healthz", &[]).0, 200);
    drop(server);
    // After it stopped, the lock is free again.
    let again = Server::start(&data);
    assert_eq!(get(&again.addr, "/healthz", &[]).0, 200);
    drop(again);

    // A server on this data directory with another database: an operator command that would
    // write to the directory's own database is refused, naming the server's.
    let other_db = format!("sqlite://{}", d.join("elsewhere.db").display());
    let server = Server::start_with(&data, &["--db", &other_db]);
    let o = run(&[
        "registry",
        "add-assessor",
        s(&d.join("op.pub")),
        "--name",
        "X",
        "--data-dir",
        s(&data),
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains(&other_db), "{}", text(&o));
    let o = run(&[
        "registry",
        "list-assessors",
        "--data-dir",
        s(&data),
        "--db",
        &other_db,
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    drop(server);
}

#[test]
fn an_unknown_label_gets_a_page_saying_so_in_english_and_french() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    // A well-formed code of a label this registry does not hold (a counterfeit QR code).
    let fake = label::short_form(&server.url, &label::Sha256Digest::of(b"counterfeit"));
    let path = fake.strip_prefix(&server.url).unwrap().to_string();
    let (st, en) = get(
        &server.addr,
        &path,
        &[("Accept-Language", "en-GB,en;q=0.9")],
    );
    assert_eq!(st, 404);
    assert!(en.contains(r#"<html lang="en">"#), "{en}");
    assert!(
        en.contains("No such label") && en.contains("Ce label n'existe pas"),
        "{en}"
    );
    assert!(en.find("No such label") < en.find("Ce label n'existe pas"));
    let (st, fr) = get(
        &server.addr,
        &path,
        &[("Accept-Language", "fr-CA,fr;q=0.9,en;q=0.5")],
    );
    assert_eq!(st, 404);
    assert!(fr.contains(r#"<html lang="fr">"#), "{fr}");
    assert!(
        fr.find("Ce label n'existe pas") < fr.find("No such label"),
        "{fr}"
    );
    // A code that is not even a digest: the same page, not JSON.
    let (st, garbage) = get(&server.addr, "/l/not-a-label", &[]);
    assert_eq!(st, 404);
    assert!(garbage.contains("No such label"), "{garbage}");
    assert!(!garbage.trim_start().starts_with('{'));
    // In a browser, in French.
    let dom = chromium_dom(&fake, "fr");
    assert!(dom.contains("Ce label n'existe pas"), "{dom}");
    assert!(dom.contains("ne vous y fiez pas"), "{dom}");
    assert!(dom.contains("No such label"), "{dom}");
}

/// An assessment that opened nothing (random bytes, not firmware) cannot back a label: `label
/// issue --assessment` refuses it and says the root filesystem was not opened.
#[test]
fn an_assessment_that_opened_no_root_filesystem_backs_no_label() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(code(&run(&["keygen", "-o", s(&d.join("lab.key"))])), 0);
    let image = d.join("noise.bin");
    let noise: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&image, noise).unwrap();
    let (report, claims) = assess_and_claims(d, &image, "urn:test:noise");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["coverage"]["root_filesystem_opened"], false, "{r}");
    let out = d.join("noise.label");
    let o = issue(
        &claims,
        &d.join("lab.key"),
        &out,
        &["--assessment", s(&report), "--non-conformant"],
    );
    assert_ne!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("root filesystem"), "{}", text(&o));
    assert!(!out.exists(), "no label written");
}
