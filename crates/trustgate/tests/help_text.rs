//! Help text stands on its own: every `--help` of the real binary, walked down the command tree
//! clap prints, says what it means without pointing at documents a user of the program does
//! not have (the project's design notes, its issue tracker, a bare "§4" of nothing). Sections
//! of public standards (RFC 8520 §13, ETSI EN 303 645 provision 5.1-1) are fine.

mod common;
use common::{code, run};

/// What a help text or message must not lean on.
fn references_elsewhere(text: &str) -> Vec<String> {
    const NAMES: &[&str] = &[
        "DESIGN",
        "ARCHITECTURE",
        "README",
        ".md",
        "see the issue",
        "issue #",
        "shared/",
    ];
    let mut found = Vec::new();
    for line in text.lines() {
        let lower = line.to_lowercase();
        for name in NAMES {
            let name_lower = name.to_lowercase();
            // As a whole word: "see the issue", not "see the issuer".
            let hit = lower.match_indices(&name_lower).any(|(at, m)| {
                !lower[at + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
            });
            if hit {
                found.push(format!("{name:?} in {line:?}"));
            }
        }
        // A section sign must belong to a public standard named on the same line.
        if line.contains('§')
            && !["RFC ", "EN 303 645", "ETSI"]
                .iter()
                .any(|s| line.contains(s))
        {
            found.push(format!("a section of no named document in {line:?}"));
        }
    }
    found
}

/// The subcommands a help text lists under "Commands:" (clap's layout), without `help`.
fn subcommands(help: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.trim_end() == "Commands:" {
            in_commands = true;
            continue;
        }
        if in_commands {
            if !line.starts_with("  ") {
                if line.trim().is_empty() {
                    continue;
                }
                break;
            }
            // Entries start two spaces in; wrapped descriptions further.
            if line.starts_with("   ") {
                continue;
            }
            if let Some(name) = line.split_whitespace().next() {
                if name != "help" {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
}

#[test]
fn the_checker_catches_what_it_should() {
    // Built at run time so this self-test is not itself a reference to the design page.
    let design = format!("the claims ({} §4)", ["DES", "IGN"].concat());
    assert!(!references_elsewhere(&design).is_empty());
    assert!(!references_elsewhere("see the issue for details").is_empty());
    assert!(!references_elsewhere("settles §5.2-1").is_empty());
    assert!(references_elsewhere("signature (RFC 8520 §13)").is_empty());
    assert!(references_elsewhere("see the issuer's key").is_empty());
    assert_eq!(
        subcommands(
            "Usage: x\n\nCommands:\n  a  one\n     more\n  b  two\n  help  h\n\nOptions:\n  -h\n"
        ),
        ["a", "b"]
    );
}

#[test]
fn every_help_text_stands_on_its_own() {
    let mut pending: Vec<Vec<String>> = vec![vec![]];
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    while let Some(path) = pending.pop() {
        for flag in ["--help", "-h"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let o = run(&args);
            let help = String::from_utf8_lossy(&o.stdout).into_owned();
            assert_eq!(code(&o), 0, "trustgate {}: {help}", args.join(" "));
            for p in references_elsewhere(&help) {
                problems.push(format!("trustgate {}: {p}", args.join(" ")));
            }
            if flag == "--help" {
                for sub in subcommands(&help) {
                    let mut next = path.clone();
                    next.push(sub);
                    pending.push(next);
                }
            }
        }
        seen.push(path.join(" "));
    }
    // The walk reached the leaves, not just the top.
    for leaf in [
        "label issue",
        "mud verify",
        "registry fetch",
        "registry add-assessor",
        "baseline list",
        "gateway run",
    ] {
        assert!(
            seen.iter().any(|s| s == leaf),
            "{leaf} not walked: {seen:?}"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
