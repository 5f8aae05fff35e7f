//! One expectation per file in the shared real-world firmware folder (binwalk's and FACT's
//! test inputs, read in place): opened, with the number of files extracted, or not opened,
//! with the reason, or refused with the error. The expectations are in
//! `tests/data/realworld-firmware.tsv` (path, outcome, detail); every file there must be
//! listed and every listed file must exist.
//!
//! Whatever the outcome, a report that did not open a root filesystem holds no pass.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn folder() -> PathBuf {
    common::workspace().join("../shared/data/realworld/firmware")
}

fn table_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/realworld-firmware.tsv")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// (outcome, detail) of one file.
fn outcome(name: &str, bytes: &[u8]) -> (String, String) {
    let options = assess::Options {
        as_of: "2025-06-01".into(),
        threads: 2,
        ..assess::Options::default()
    };
    match assess::assess(name, bytes, &options) {
        Err(e) => ("error".into(), e.to_string()),
        Ok(r) => {
            if !r.coverage.root_filesystem_opened {
                let passes: Vec<&str> = r
                    .verdicts
                    .iter()
                    .filter(|v| v.verdict == assess::Verdict::Pass)
                    .map(|v| v.provision.as_str())
                    .collect();
                assert!(
                    passes.is_empty(),
                    "{name}: passes {passes:?} with no root filesystem"
                );
            }
            if r.coverage.opened.is_empty() {
                let u = &r.coverage.not_opened[0];
                ("not-opened".into(), u.reason.clone())
            } else {
                let mut detail = format!("{} files", r.extracted.files);
                if r.coverage.root_filesystem_opened {
                    detail.push_str(", root filesystem");
                }
                let mut missing: Vec<&str> = r
                    .coverage
                    .not_opened
                    .iter()
                    .filter(|u| u.could_hold_evidence)
                    .map(|u| u.format.as_str())
                    .collect();
                missing.sort();
                missing.dedup();
                if !missing.is_empty() {
                    detail.push_str(&format!("; not opened: {}", missing.join(", ")));
                }
                ("opened".into(), detail)
            }
        }
    }
}

#[test]
fn every_real_world_firmware_file_has_its_expected_outcome() {
    let root = folder();
    let mut all = Vec::new();
    files(&root, &mut all);
    all.sort();
    assert!(
        all.len() >= 180,
        "{} files in {}",
        all.len(),
        root.display()
    );
    let got: BTreeMap<String, (String, String)> = all
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let bytes = std::fs::read(p).unwrap();
            let o = outcome(&rel, &bytes);
            (rel, o)
        })
        .collect();
    if std::env::var_os("TRUSTGATE_WRITE_EXPECTATIONS").is_some() {
        let mut text = String::from(
            "# path\toutcome\tdetail (written by TRUSTGATE_WRITE_EXPECTATIONS=1, then reviewed)\n",
        );
        for (p, (o, d)) in &got {
            text.push_str(&format!("{p}\t{o}\t{}\n", d.replace(['\t', '\n'], " ")));
        }
        std::fs::write(table_path(), text).unwrap();
    }
    let table = std::fs::read_to_string(table_path()).unwrap();
    let mut want = BTreeMap::new();
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut f = line.splitn(3, '\t');
        let (p, o, d) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap_or(""));
        want.insert(p.to_string(), (o.to_string(), d.to_string()));
    }
    let listed: Vec<&String> = want.keys().collect();
    let present: Vec<&String> = got.keys().collect();
    assert_eq!(
        listed, present,
        "the table lists exactly the files in the folder"
    );
    let mut wrong = Vec::new();
    for (p, (o, d)) in &got {
        let (wo, wd) = &want[p];
        if o != wo || d != &wd.replace(['\t', '\n'], " ") {
            wrong.push(format!("{p}: expected {wo} {wd:?}, got {o} {d:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
