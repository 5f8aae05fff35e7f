//! `mud compile` and `mud explain` take `--lenient` like `mud validate` (a draft-era file is
//! refused strictly with a hint, read leniently with warnings), and `mud verify` says when a
//! signature fails because the file's digest is not the signed one.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_trustgate");
const MUD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mud");

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[test]
fn compile_and_explain_accept_lenient_like_validate() {
    let f = format!("{MUD}/namib/Ring-Doorbell.json");
    let compile = |extra: &[&str]| {
        let mut a = vec![
            "mud",
            "compile",
            &f,
            "--mac",
            "02:00:00:00:00:01",
            "--ip",
            "192.168.1.9",
        ];
        a.extend_from_slice(extra);
        run(&a)
    };
    for (strict, lenient) in [
        (
            run(&["mud", "validate", &f]),
            run(&["mud", "validate", "--lenient", &f]),
        ),
        (
            run(&["mud", "explain", &f]),
            run(&["mud", "explain", "--lenient", &f]),
        ),
        (compile(&[]), compile(&["--lenient"])),
    ] {
        let err = String::from_utf8_lossy(&strict.stderr);
        assert_eq!(strict.status.code(), Some(1), "{err}");
        assert!(err.contains("draft-era"), "{err}");
        assert!(err.contains("--lenient accepts it"), "{err}");
        let lerr = String::from_utf8_lossy(&lenient.stderr);
        assert_eq!(lenient.status.code(), Some(0), "{lerr}");
        assert!(lerr.contains("lenient mode: accepted"), "{lerr}");
        assert!(!lenient.stdout.is_empty());
    }
    let out = run(&["mud", "explain", "--lenient", "--json", &f]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["explanation"].as_array().unwrap().is_empty());
    let out = compile(&["--lenient", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
}

#[test]
fn verify_names_the_digest_mismatch_of_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let json = std::fs::read(format!("{MUD}/cisco/Luminaire_150.json")).unwrap();
    let mut changed = json.clone();
    changed[100] ^= 0x01;
    let p = dir.path().join("changed.json");
    std::fs::write(&p, &changed).unwrap();
    let out = run(&[
        "mud",
        "verify",
        p.to_str().unwrap(),
        "--sig",
        &format!("{MUD}/cisco/Luminaire_150.p7s"),
        "--ca",
        &format!("{MUD}/cisco/luminaire-cacert.pem"),
        "--at",
        "2019-01-01T00:00:00Z",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("SHA-256 digest is"), "{err}");
    assert!(err.contains("not the one that was signed"), "{err}");
}

#[test]
fn explain_speaks_french_when_asked_or_when_the_locale_is_french() {
    let f = format!("{MUD}/namib/Amazon-Echo.json");
    // (a draft-era file: read with --lenient)
    let fr = run(&["mud", "explain", "--lenient", &f, "--lang", "fr"]);
    assert_eq!(fr.status.code(), Some(0));
    let text = String::from_utf8_lossy(&fr.stdout);
    assert!(
        text.contains("Peut se connecter à dcape-na.amazon.com"),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("Tout le reste est bloqué."),
        "{text}"
    );
    let by_locale = Command::new(BIN)
        .args(["mud", "explain", "--lenient", &f, "--json"])
        .env("LANG", "fr_CA.UTF-8")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&by_locale.stdout).unwrap();
    assert_eq!(v["lang"], "fr");
    assert_eq!(
        v["explanation"].as_array().unwrap().last().unwrap(),
        "Tout le reste est bloqué."
    );
    let en = Command::new(BIN)
        .args(["mud", "explain", "--lenient", &f, "--lang", "en"])
        .env("LANG", "fr_CA.UTF-8")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&en.stdout).contains("Everything else is blocked."));
    let bad = run(&["mud", "explain", "--lenient", &f, "--lang", "de"]);
    assert_eq!(bad.status.code(), Some(2));
}
