//! Every corpus image against its expected-results file (testdata/firmware): verdicts,
//! the complete set of finding rules, evidence checked against the bytes squashfs-tools
//! extracts independently, components, vulnerability status, and the exact error of each
//! hostile archive.

mod common;

use assess::{Options, Verdict};
use serde_json::Value;

fn options() -> Options {
    Options {
        as_of: "2025-06-01".into(),
        ..Options::default()
    }
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::CannotTell => "cannot-tell",
    }
}

fn check_image(name: &str) {
    let dir = common::corpus();
    let exp = common::expected(name);
    let path = dir.join(name);
    let bytes = std::fs::read(&path).unwrap();
    let result = assess::assess(name, &bytes, &options());
    if let Some(err) = exp.get("error").and_then(Value::as_str) {
        let e = result.expect_err(name).to_string();
        assert!(e.contains(err), "{name}: error {e:?} should say {err:?}");
        return;
    }
    let mut report = result.unwrap_or_else(|e| panic!("{name}: {e}"));
    if let Some(others) = exp.get("same_model").and_then(Value::as_array) {
        let mut all = vec![report];
        for o in others {
            let o = o.as_str().unwrap();
            all.push(assess::assess(o, &std::fs::read(dir.join(o)).unwrap(), &options()).unwrap());
        }
        assess::cross_check_model(&mut all);
        report = all.swap_remove(0);
    }
    // Verdicts: exactly the expected provisions, each with the expected verdict.
    let want = exp["verdicts"].as_object().unwrap();
    let got: Vec<(String, &str)> = report
        .verdicts
        .iter()
        .map(|v| (v.provision.clone(), verdict_name(v.verdict)))
        .collect();
    for (p, v) in want {
        let g = got.iter().find(|(gp, _)| gp == p).map(|(_, v)| *v);
        assert_eq!(g, v.as_str(), "{name}: provision {p}");
    }
    assert_eq!(got.len(), want.len(), "{name}: provisions {got:?}");
    let expect_exit = exp["exit"].as_i64().unwrap();
    assert_eq!(
        report.mandatory_failed(),
        expect_exit == 1,
        "{name}: mandatory failure"
    );
    // Findings: the rule set matches, and each expected evidence points at the right bytes.
    let want_findings = exp["findings"].as_array().unwrap();
    let mut want_rules: Vec<&str> = want_findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    want_rules.sort();
    want_rules.dedup();
    let mut got_rules: Vec<&str> = report.findings.iter().map(|f| f.rule).collect();
    got_rules.sort();
    got_rules.dedup();
    assert_eq!(got_rules, want_rules, "{name}: finding rules");
    for wf in want_findings {
        let rule = wf["rule"].as_str().unwrap();
        let fpath = wf["path"].as_str().unwrap();
        let text = wf["text"].as_str().unwrap();
        let file = common::unsquashfs_cat(&path, fpath);
        let candidates: Vec<&assess::Evidence> = report
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .flat_map(|f| f.evidence.iter())
            .filter(|e| e.path == fpath)
            .collect();
        assert!(
            !candidates.is_empty(),
            "{name}: {rule} has no evidence at {fpath}"
        );
        let ev = candidates
            .iter()
            .find(|e| file[e.offset as usize..].starts_with(text.as_bytes()))
            .unwrap_or_else(|| {
                panic!(
                    "{name}: no {rule} evidence in {fpath} points at {text:?}; offsets {:?}",
                    candidates.iter().map(|e| e.offset).collect::<Vec<_>>()
                )
            });
        assert_eq!(
            ev.reference,
            format!("{}:{}:{}", report.image.sha256, fpath, ev.offset),
            "evidence reference format image-sha256:path:offset"
        );
        // Secrets are never copied into the report.
        assert!(
            !ev.excerpt.contains("MHcCAQEE"),
            "key material leaked into evidence"
        );
    }
    if let Some(comps) = exp.get("components").and_then(Value::as_object) {
        for (c, v) in comps {
            assert!(
                report
                    .components
                    .iter()
                    .any(|rc| &rc.name == c && rc.version == v.as_str().unwrap()),
                "{name}: component {c} {v} missing: {:?}",
                report
                    .components
                    .iter()
                    .map(|c| (&c.name, &c.version))
                    .collect::<Vec<_>>()
            );
        }
    }
    if let Some(vulns) = exp.get("vulnerabilities").and_then(Value::as_object) {
        for (id, status) in vulns {
            let m = report
                .vulnerabilities
                .iter()
                .find(|v| &v.id == id)
                .unwrap_or_else(|| panic!("{name}: {id} not matched"));
            let s = match m.status {
                assess::VexStatus::Affected => "affected-unverified",
                assess::VexStatus::FixedByBackport => "fixed-by-backport",
            };
            assert_eq!(s, status.as_str().unwrap(), "{name}: {id}");
        }
        assert_eq!(
            report.vulnerabilities.len(),
            vulns.len(),
            "{name}: no extra matches"
        );
    }
}

macro_rules! corpus_tests {
    ($($test:ident => $image:literal,)*) => {
        $(#[test] fn $test() { check_image($image) })*
        #[test]
        fn every_expected_file_has_a_test() {
            let mut listed = vec![$($image.to_string()),*];
            listed.sort();
            assert_eq!(listed, common::expected_images());
        }
    };
}

corpus_tests! {
    clean_squashfs => "clean.squashfs",
    clean_gzip_squashfs => "clean-gzip.squashfs",
    clean_uimage => "clean.uimage",
    clean_raw_flash => "clean-flash.bin",
    clean_trx => "clean.trx",
    clean_armhf_uimage => "clean-armhf.uimage",
    clean_cpio_gz => "clean.cpio.gz",
    clean_tar_xz => "clean.tar.xz",
    clean_tar_bz2 => "clean.tar.bz2",
    clean_tar_zst => "clean.tar.zst",
    default_password => "default-password.squashfs",
    universal_default => "universal-a.squashfs",
    telnet => "telnet.squashfs",
    private_key => "private-key.squashfs",
    outdated_components => "outdated.squashfs",
    unsigned_update => "unsigned-update.squashfs",
    passwd_backup_copied_at_boot => "passwd-backup.squashfs",
    hostile_traversal => "traversal.tar",
    hostile_symlink_escape => "symlink-escape.tar",
    hostile_gzip_bomb => "bomb.gz",
    hostile_squashfs_bomb => "bomb.squashfs",
    hostile_truncated_squashfs => "truncated.squashfs",
    hostile_truncated_tar_gz => "truncated.tar.gz",
}

/// The TP-Link case: the password is in a backup file that the boot script copies to where
/// /etc/passwd links; the finding says where the file is and how it reaches the system.
#[test]
fn backup_password_copied_at_boot_is_found_under_5_1() {
    let dir = common::corpus();
    let name = "passwd-backup.squashfs";
    let r = assess::assess(name, &std::fs::read(dir.join(name)).unwrap(), &options()).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "default-password")
        .expect("the default password in /etc/passwd.bak");
    assert!(f.provisions.contains(&"5.1-1"), "{f:?}");
    assert_eq!(
        f.severity,
        assess::Severity::High,
        "it reaches the running system"
    );
    assert!(
        f.message.contains("/etc/passwd.bak")
            && f.message
                .contains("copied to /var/passwd at boot by /etc/init.d/rcS line")
            && f.message.contains("where /etc/passwd links"),
        "{}",
        f.message
    );
    assert!(f.message.contains("md5crypt"), "{}", f.message);
    let ev = &f.evidence[0];
    assert_eq!(
        (ev.path.as_str(), ev.offset, ev.line),
        ("/etc/passwd.bak", 0, Some(1))
    );
    assert_eq!(r.verdict("5.1-1").unwrap().verdict, Verdict::Fail);
}

#[test]
fn universal_image_alone_is_clean() {
    // The shared hash is only a finding when another image of the model shows it.
    let dir = common::corpus();
    let r = assess::assess(
        "universal-a.squashfs",
        &std::fs::read(dir.join("universal-a.squashfs")).unwrap(),
        &options(),
    )
    .unwrap();
    assert!(!r.mandatory_failed(), "{:?}", r.findings);
}

/// Same image, same bytes out, whatever the number of threads (and the same error for a
/// hostile one).
#[test]
fn same_input_same_bytes() {
    let dir = common::corpus();
    for name in [
        "clean.squashfs",
        "outdated.squashfs",
        "clean-flash.bin",
        "default-password.squashfs",
        "private-key.squashfs",
        "telnet.squashfs",
        "clean.cpio.gz",
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let a = assess::assess(
            name,
            &bytes,
            &Options {
                threads: 1,
                ..options()
            },
        )
        .unwrap();
        let b = assess::assess(
            name,
            &bytes,
            &Options {
                threads: 4,
                ..options()
            },
        )
        .unwrap();
        assert_eq!(a.to_json(), b.to_json());
        assert_eq!(
            assess::sarif::to_sarif(&a).to_string(),
            assess::sarif::to_sarif(&b).to_string()
        );
        assert_eq!(
            assess::sbom::to_cyclonedx(&a).to_string(),
            assess::sbom::to_cyclonedx(&b).to_string()
        );
    }
    for name in [
        "bomb.squashfs",
        "bomb.gz",
        "traversal.tar",
        "truncated.squashfs",
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let errors: Vec<String> = [1, 2, 4]
            .map(|threads| {
                assess::assess(
                    name,
                    &bytes,
                    &Options {
                        threads,
                        ..options()
                    },
                )
                .unwrap_err()
                .to_string()
            })
            .into();
        assert!(errors.iter().all(|e| e == &errors[0]), "{name}: {errors:?}");
    }
}

#[test]
fn outputs_carry_the_findings() {
    let dir = common::corpus();
    let name = "outdated.squashfs";
    let r = assess::assess(name, &std::fs::read(dir.join(name)).unwrap(), &options()).unwrap();
    let sarif = assess::sarif::to_sarif(&r);
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for res in results {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[idx]["id"], res["ruleId"],
            "ruleIndex points at its rule"
        );
        assert!(res["locations"][0]["physicalLocation"]["region"]["byteOffset"].is_u64());
    }
    let sbom = assess::sbom::to_cyclonedx(&r);
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(
        sbom["metadata"]["component"]["hashes"][0]["content"],
        r.image.sha256.as_str()
    );
    let names: Vec<&str> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"busybox") && names.contains(&"dropbear"),
        "{names:?}"
    );
    // Matched by version only: in triage (affected, unverified), never "exploitable".
    let in_triage = sbom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["analysis"]["state"] == "in_triage")
        .count();
    assert_eq!(in_triage, 6);
    // Clean: the same CVEs are resolved by backport in the SBOM's VEX analysis.
    let c = assess::assess(
        "clean.squashfs",
        &std::fs::read(dir.join("clean.squashfs")).unwrap(),
        &options(),
    )
    .unwrap();
    let sbom = assess::sbom::to_cyclonedx(&c);
    assert!(sbom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["analysis"]["state"] == "resolved"));
}

#[test]
fn end_of_life_is_judged_at_the_assessment_date() {
    // OpenSSL 3.0 support ends 2026-09-07: flagged when judged after that date, not before.
    let dir = common::corpus();
    let bytes = std::fs::read(dir.join("clean.squashfs")).unwrap();
    let later = Options {
        as_of: "2026-10-01".into(),
        ..Options::default()
    };
    let r = assess::assess("clean.squashfs", &bytes, &later).unwrap();
    let ssl = r.components.iter().find(|c| c.name == "openssl").unwrap();
    assert_eq!(ssl.end_of_life.as_deref(), Some("2026-09-07"));
    assert!(r.findings.iter().any(|f| f.rule == "end-of-life-component"));
    let now = assess::assess("clean.squashfs", &bytes, &options()).unwrap();
    assert!(now.components.iter().all(|c| c.end_of_life.is_none()));
}

/// Every regular file our unpacker produces from the corpus squashfs images, decompressed
/// in pieces on several threads, is byte-identical to what squashfs-tools extracts.
#[test]
fn squashfs_files_match_unsquashfs() {
    let dir = common::corpus();
    for name in ["clean.squashfs", "clean-gzip.squashfs"] {
        let image = dir.join(name);
        let out = tempfile::tempdir().unwrap();
        let root = out.path().join("root");
        let st = std::process::Command::new("unsquashfs")
            .args(["-q", "-no-xattrs", "-d"])
            .arg(&root)
            .arg(&image)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run unsquashfs");
        assert!(st.success(), "unsquashfs {name}");
        let bytes = std::fs::read(&image).unwrap();
        let unpacked =
            assess::unpack::unpack_threaded(&bytes, assess::Limits::default(), 3, &|_| {}).unwrap();
        let mut compared = 0;
        for e in unpacked.tree.files().filter(|e| e.container.is_empty()) {
            let theirs = std::fs::read(root.join(&e.path[1..]))
                .unwrap_or_else(|err| panic!("{name}: {}: {err}", e.path));
            assert!(
                e.data().unwrap() == theirs.as_slice(),
                "{name}: {} differs from unsquashfs",
                e.path
            );
            compared += 1;
        }
        fn regular_files(dir: &std::path::Path) -> usize {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let t = e.file_type().unwrap();
                    if t.is_dir() {
                        regular_files(&e.path())
                    } else {
                        usize::from(t.is_file())
                    }
                })
                .sum()
        }
        assert_eq!(
            compared,
            regular_files(&root),
            "{name}: every file compared"
        );
        assert!(compared > 200, "{name}: {compared} files");
    }
}
