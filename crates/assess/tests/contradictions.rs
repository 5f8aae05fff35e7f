//! No report states a pass whose reason a failing verdict in the same report contradicts
//! ("pass: no telnetd" beside "fail: telnetd is started"), over every corpus image.
//!
//! The table below is written from what each finding means, independently of the checks'
//! wording: a finding of rule R makes false every claim that says R's problem is absent.

mod common;

/// (finding rule, phrases a pass reason claiming that problem's absence would contain).
const CONTRADICTED_BY: &[(&str, &[&str])] = &[
    (
        "default-password",
        &[
            "not on the default list",
            "no default password",
            "every account",
            "of the listed defaults",
        ],
    ),
    ("universal-default-password", &["every account", "unique"]),
    (
        "empty-password",
        &[
            "no empty password",
            "every account",
            "has an empty password or",
        ],
    ),
    (
        "weak-password-hash",
        &["none uses des or md5crypt", "no weak hash"],
    ),
    ("telnet-enabled", &["no telnetd", "starts no telnetd"]),
    (
        "unauthenticated-shell",
        &[
            "no unauthenticated shell",
            "no network listener handing out a shell",
            "without authentication (no",
        ],
    ),
    ("ssh-blank-password", &["no dropbear -b", "dropbear -b)"]),
    (
        "debug-console-shell",
        &["no console shell", "starts no shell on a console"],
    ),
    ("embedded-private-key", &["no private key"]),
    ("embedded-host-key", &["host key"]),
    ("hard-coded-secret", &["hard-coded credential"]),
    (
        "known-vulnerability",
        &["unfixed vulnerability", "no known vulnerability"],
    ),
    (
        "end-of-life-component",
        &["end-of-life branch", "supported branch"],
    ),
    (
        "unsigned-updates",
        &[
            "signature check",
            "checks the image's signature",
            "checked against a signature",
        ],
    ),
    ("update-over-http", &["over https"]),
];

fn contradictions(report: &assess::Report) -> Vec<String> {
    let mut found = Vec::new();
    for pass in report
        .verdicts
        .iter()
        .filter(|v| v.verdict == assess::Verdict::Pass)
    {
        let reason = pass.reason.to_ascii_lowercase();
        for f in &report.findings {
            let Some((_, phrases)) = CONTRADICTED_BY.iter().find(|(r, _)| *r == f.rule) else {
                panic!("finding rule {} is not in the contradiction table", f.rule);
            };
            for p in *phrases {
                if reason.contains(p) {
                    found.push(format!(
                        "{} passes with {:?}, but {} ({}) says {:?}",
                        pass.provision,
                        pass.reason,
                        f.rule,
                        f.provisions.join(", "),
                        f.message
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn no_corpus_report_contradicts_itself() {
    let dir = common::corpus();
    let options = assess::Options {
        as_of: "2025-06-01".into(),
        ..assess::Options::default()
    };
    let mut with_findings = 0;
    for name in common::expected_images() {
        let Ok(report) = assess::assess(&name, &std::fs::read(dir.join(&name)).unwrap(), &options)
        else {
            continue; // hostile archives: no report
        };
        let bad = contradictions(&report);
        assert!(bad.is_empty(), "{name}:\n{}", bad.join("\n"));
        with_findings += usize::from(!report.findings.is_empty());
    }
    assert!(with_findings >= 5, "{with_findings} images with findings");
}

/// The check itself catches the contradictions the issue reported: the old shared reasons
/// beside the findings that contradict them.
#[test]
fn the_table_catches_the_old_shared_reasons() {
    let dir = common::corpus();
    let name = "passwd-backup.squashfs";
    let options = assess::Options {
        as_of: "2025-06-01".into(),
        ..assess::Options::default()
    };
    let report = assess::assess(name, &std::fs::read(dir.join(name)).unwrap(), &options).unwrap();
    assert!(contradictions(&report).is_empty());
    let mut old = report.clone();
    for v in old.verdicts.iter_mut() {
        if v.provision == "5.6-4" {
            v.verdict = assess::Verdict::Pass;
            v.reason =
                "no telnetd, unauthenticated shell or console shell in the boot configuration"
                    .into();
        }
        if v.provision == "5.1-3" {
            v.verdict = assess::Verdict::Pass;
            v.reason = "every account in the password databases is locked or has a password not on the default list".into();
        }
    }
    let bad = contradictions(&old);
    assert!(
        bad.iter()
            .any(|b| b.starts_with("5.6-4") && b.contains("telnet-enabled")),
        "{bad:?}"
    );
    assert!(
        bad.iter()
            .any(|b| b.starts_with("5.1-3") && b.contains("default-password")),
        "{bad:?}"
    );
}
