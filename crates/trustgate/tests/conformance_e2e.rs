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
    request(addr, "GET", path, headers, None)
}

/// One HTTP/1.1 request on loopback, with a JSON body if given: (status code, body).
fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&serde_json::Value>,
) -> (u16, String) {
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = json.map(|j| j.to_string()).unwrap_or_default();
    if json.is_some() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    c.write_all(req.as_bytes()).unwrap();
    // Read the head, then the body by its Content-Length when it has one (chromedriver may
    // keep the connection open after answering), else to the end.
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed before the head ended");
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().unwrap())
    });
    let mut body = raw[head_end + 4..].to_vec();
    match length {
        Some(n) => {
            while body.len() < n {
                let got = c.read(&mut buf).unwrap();
                assert!(got > 0, "connection closed before the body ended");
                body.extend_from_slice(&buf[..got]);
            }
            body.truncate(n);
        }
        None => {
            c.read_to_end(&mut body).unwrap();
        }
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body)
    } else {
        body
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
    // The claim values a household reads are in French too, not the claims' English codes
    // (the DOM serialises the no-break spaces around « » as &nbsp;).
    assert!(fr.contains("Installées automatiquement"), "{fr}");
    assert!(fr.contains("«&nbsp;obligatoire&nbsp;»"), "{fr}");
    assert!(
        !fr.contains("(automatic)") && !fr.contains("(mandatory)"),
        "{fr}"
    );
    assert!(en.contains(">Installed automatically<"), "{en}");
    assert!(en.contains("(mandatory)"), "{en}");
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
        en.contains("No such label") && en.contains("Cette étiquette n'existe pas"),
        "{en}"
    );
    assert!(en.find("No such label") < en.find("Cette étiquette n'existe pas"));
    let (st, fr) = get(
        &server.addr,
        &path,
        &[("Accept-Language", "fr-CA,fr;q=0.9,en;q=0.5")],
    );
    assert_eq!(st, 404);
    assert!(fr.contains(r#"<html lang="fr">"#), "{fr}");
    assert!(
        fr.find("Cette étiquette n'existe pas") < fr.find("No such label"),
        "{fr}"
    );
    // A code that is not even a digest: the same page, not JSON.
    let (st, garbage) = get(&server.addr, "/l/not-a-label", &[]);
    assert_eq!(st, 404);
    assert!(garbage.contains("No such label"), "{garbage}");
    assert!(!garbage.trim_start().starts_with('{'));
    // In a browser, in French.
    let dom = chromium_dom(&fake, "fr");
    assert!(dom.contains("Cette étiquette n'existe pas"), "{dom}");
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

/// A chromedriver (Debian's `chromium-driver`) on a free loopback port, killed when dropped.
struct Driver {
    child: std::process::Child,
    addr: String,
}

impl Driver {
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run chromedriver (apt-get install chromium-driver)");
        let d = Driver {
            child,
            addr: format!("127.0.0.1:{port}"),
        };
        let t0 = std::time::Instant::now();
        while std::net::TcpStream::connect(&d.addr).is_err() {
            assert!(t0.elapsed().as_secs() < 20, "chromedriver did not listen");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        d
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        let body = body.or_else(|| (method == "POST").then(|| serde_json::json!({})));
        let (st, text) = request(&self.addr, method, path, &[], body.as_ref());
        assert_eq!(st, 200, "{method} {path}: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["value"].clone()
    }

    /// A headless Chromium session: a phone (390×844 CSS pixels, touch, the page's viewport
    /// meta honoured) or a desktop window (1280×900).
    fn session(&self, phone: bool, profile: &Path) -> String {
        let mut opts = serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                format!("--user-data-dir={}", profile.display()),
                if phone { "--window-size=390,844" } else { "--window-size=1280,900" },
            ],
        });
        if phone {
            opts["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0, "touch": true, "mobile": true}
            });
        }
        let v = self.call(
            "POST",
            "/session",
            Some(
                serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": opts}}}),
            ),
        );
        v["sessionId"].as_str().unwrap().to_string()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64 (what WebDriver's screenshots are in).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().filter(|&&c| c != b'=').count();
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= if c == b'=' { 0 } else { val(c) } << (18 - 6 * i);
        }
        out.extend_from_slice(&acc.to_be_bytes()[1..n]);
    }
    out
}

/// A non-interlaced 8-bit RGB or RGBA PNG (what Chromium writes): (width, height, RGB pixels).
fn png_pixels(png: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let (mut at, mut idat) = (8, Vec::new());
    let (mut w, mut h, mut channels) = (0usize, 0usize, 0usize);
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                h = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!((data[8], data[12]), (8, 0), "8-bit, not interlaced");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("PNG colour type {t}"),
                };
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = w * channels;
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity(w * h);
    for row in 0..h {
        let line = &raw[row * (stride + 1)..(row + 1) * (stride + 1)];
        let mut cur = line[1..].to_vec();
        for i in 0..stride {
            let a = if i >= channels {
                cur[i - channels] as i16
            } else {
                0
            };
            let b = prev[i] as i16;
            let c = if i >= channels {
                prev[i - channels] as i16
            } else {
                0
            };
            let add = match line[0] {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("PNG filter {f}"),
            };
            cur[i] = cur[i].wrapping_add(add as u8);
        }
        for px in cur.chunks(channels) {
            pixels.push([px[0], px[1], px[2]]);
        }
        prev = cur;
    }
    (w, h, pixels)
}

/// The label pages (overview and technical, a good label in English and a revoked one in
/// French) in headless Chromium through WebDriver, on a 390×844 phone and a 1280×900 desktop
/// window: no element reaches past the screen's width (long URLs and digests wrap), the page
/// has text, and the screenshot (`target/screenshots/label-*.png`) is not blank, with the
/// banner's red only on the revoked label.
#[test]
fn label_pages_fit_a_phone_and_a_desktop_screen() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("lab.key");
    assert_eq!(code(&run(&["keygen", "-o", s(&key)])), 0);
    let t = run(&["label", "template", "--json"]);
    assert_eq!(code(&t), 0, "{}", text(&t));
    let base: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    let mut labels = Vec::new();
    for id in ["urn:e2e:page:good", "urn:e2e:page:revoked"] {
        let mut c = base.clone();
        c["id"] = id.into();
        // Long values that must wrap on a phone.
        c["network-profile"]["mud-url"] = format!(
            "https://mud.acme-devices.example/firmware/cam-100/hardware-revision-b/{}/mud-file.json",
            "a".repeat(90)
        )
        .into();
        c["vulnerability-disclosure"]["url"] =
            "https://security.acme-devices.example/coordinated-vulnerability-disclosure-policy-and-bug-bounty-programme".into();
        c["product"]["model"] = "CAM-100-OUTDOOR-PANTILTZOOM-4K-NIGHTVISION".into();
        let p = d.join(format!("{}.json", id.rsplit(':').next().unwrap()));
        std::fs::write(&p, c.to_string()).unwrap();
        let out = p.with_extension("label");
        let o = issue(&p, &key, &out, &[]);
        assert_eq!(code(&o), 0, "{}", text(&o));
        labels.push(out);
    }
    let data = d.join("data");
    add_assessor(d, &data);
    let server = Server::start(&data);
    for l in &labels {
        let o = run(&["registry", "submit", s(l), "--url", &server.url]);
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    let o = run(&[
        "registry",
        "revoke",
        "urn:e2e:page:revoked",
        "--reason",
        "a default password was found after the assessment",
        "--key",
        s(&key),
        "--url",
        &server.url,
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let page = |p: &Path| {
        label::short_form(
            &server.url,
            &label::label_digest(&std::fs::read(p).unwrap()),
        )
    };

    let shots = Path::new(env!("CARGO_BIN_EXE_trustgate"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let driver = Driver::start();
    const MEASURE: &str = r#"
        const w = document.documentElement.clientWidth;
        const wide = [];
        for (const e of document.querySelectorAll('body *')) {
            const r = e.getBoundingClientRect();
            if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5)) {
                wide.push(e.tagName + (e.id ? '#' + e.id : '') + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
            }
        }
        const big = document.getElementById('support-end');
        return {
            clientWidth: w,
            scrollWidth: document.documentElement.scrollWidth,
            text: document.body.innerText.length,
            wide: wide.slice(0, 20),
            lang: document.documentElement.lang,
            state: document.body.dataset.state,
            view: document.body.dataset.view,
            bigFont: big ? parseFloat(getComputedStyle(big).fontSize) : 0,
            bodyFont: parseFloat(getComputedStyle(document.body).fontSize),
        };"#;
    for (size, phone, width) in [("phone", true, 390), ("desktop", false, 1280)] {
        let profile = tempfile::tempdir().unwrap();
        let sid = driver.session(phone, profile.path());
        for (label_file, state, lang) in [(&labels[0], "good", "en"), (&labels[1], "revoked", "fr")]
        {
            for view in ["overview", "technical"] {
                let q = match view {
                    "technical" => format!("?view=technical&lang={lang}"),
                    _ => format!("?lang={lang}"),
                };
                let url = format!("{}{q}", page(label_file));
                driver.call(
                    "POST",
                    &format!("/session/{sid}/url"),
                    Some(serde_json::json!({ "url": url })),
                );
                let m = driver.call(
                    "POST",
                    &format!("/session/{sid}/execute/sync"),
                    Some(serde_json::json!({"script": MEASURE, "args": []})),
                );
                let what = format!("{view} {state} {size}: {m}");
                assert_eq!(m["clientWidth"], width, "{what}");
                assert!(
                    m["scrollWidth"].as_u64() <= m["clientWidth"].as_u64(),
                    "horizontal overflow: {what}"
                );
                assert_eq!(
                    m["wide"],
                    serde_json::json!([]),
                    "elements wider than the screen: {what}"
                );
                assert!(m["text"].as_u64().unwrap() > 300, "{what}");
                assert_eq!(m["lang"], lang, "{what}");
                assert_eq!(m["state"], state, "{what}");
                assert_eq!(m["view"], view, "{what}");
                if view == "overview" {
                    assert!(
                        m["bigFont"].as_f64().unwrap() >= 2.0 * m["bodyFont"].as_f64().unwrap(),
                        "support end date in large type: {what}"
                    );
                }
                let png = base64_decode(
                    driver
                        .call("GET", &format!("/session/{sid}/screenshot"), None)
                        .as_str()
                        .unwrap(),
                );
                let file = shots.join(format!("label-{view}-{state}-{size}.png"));
                std::fs::write(&file, &png).unwrap();
                let (w, h, px) = png_pixels(&png);
                assert_eq!(w, width, "{}", file.display());
                assert!(h > 500, "{}", file.display());
                let dark = px.iter().filter(|p| p.iter().all(|&c| c < 100)).count();
                let banner_red = px
                    .iter()
                    .filter(|p| p[0] > 140 && p[1] < 50 && p[2] < 50)
                    .count();
                assert!(
                    dark > px.len() / 200,
                    "{}: only {dark} dark pixels of {}: blank?",
                    file.display(),
                    px.len()
                );
                if state == "revoked" {
                    assert!(
                        banner_red > px.len() / 50,
                        "{}: red banner, {banner_red} red pixels",
                        file.display()
                    );
                } else {
                    assert!(
                        banner_red < px.len() / 1000,
                        "{}: no red on a good label, {banner_red} red pixels",
                        file.display()
                    );
                }
            }
        }
        driver.call("DELETE", &format!("/session/{sid}"), None);
    }
}
