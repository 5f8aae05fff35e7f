//! The checks on hand-built trees: every service source, secret kind and password scheme,
//! and the negatives (comments, placeholders, locked accounts, string literals in binaries).

use std::sync::Arc;

use assess::checks::{self, Ctx, Outcome};
use assess::scan::Scan;
use assess::tree::{Entry, EntryKind, Tree};

fn tree(files: &[(&str, &[u8])], links: &[(&str, &str)]) -> Tree {
    let mut t = Tree::default();
    for (p, d) in files {
        t.push(Entry {
            container: String::new(),
            path: p.to_string(),
            mode: 0o644,
            kind: EntryKind::File(Arc::new(d.to_vec())),
        });
    }
    for (p, target) in links {
        t.push(Entry {
            container: String::new(),
            path: p.to_string(),
            mode: 0o777,
            kind: EntryKind::Symlink(target.to_string()),
        });
    }
    t
}

fn run(t: &Tree, check: fn(&Ctx, &mut Outcome)) -> Outcome {
    let scan = Scan::run(t, &Default::default());
    let ctx = Ctx {
        tree: t,
        scan: &scan,
        image_sha256: "00",
    };
    let mut out = Outcome::default();
    check(&ctx, &mut out);
    out
}

fn rules(o: &Outcome) -> Vec<&'static str> {
    let mut r: Vec<_> = o.findings.iter().map(|f| f.rule).collect();
    r.sort();
    r
}

#[test]
fn services_every_source() {
    let t = tree(
        &[
            ("/etc/inetd.conf", b"# telnet stream tcp nowait root /usr/sbin/telnetd telnetd\nshell stream tcp nowait root /bin/sh sh -i\n"),
            ("/etc/init.d/debug", b"#!/bin/sh\nnc -l -p 4444 -e /bin/sh &\n"),
            ("/etc/init.d/ssh", b"#!/bin/sh\n/usr/sbin/dropbear -B -p 22\n"),
            ("/etc/inittab", b"::sysinit:/etc/init.d/rcS\nttyS0::respawn:-/bin/sh\n"),
            ("/lib/systemd/system/telnet.service", b"[Service]\nExecStart=/usr/sbin/telnetd -F\n"),
            ("/lib/systemd/system/unused.service", b"[Service]\nExecStart=/usr/sbin/utelnetd\n"),
        ],
        &[("/etc/systemd/system/multi-user.target.wants/telnet.service", "/lib/systemd/system/telnet.service")],
    );
    let o = run(&t, checks::services);
    assert_eq!(
        rules(&o),
        [
            "debug-console-shell",
            "ssh-blank-password",
            "telnet-enabled",
            "unauthenticated-shell",
            "unauthenticated-shell"
        ]
    );
    let telnet = o
        .findings
        .iter()
        .find(|f| f.rule == "telnet-enabled")
        .unwrap();
    assert_eq!(
        telnet.evidence[0].path, "/lib/systemd/system/telnet.service",
        "only the enabled unit"
    );
    let console = o
        .findings
        .iter()
        .find(|f| f.rule == "debug-console-shell")
        .unwrap();
    assert_eq!(console.provisions, ["5.6-4"]);
    assert_eq!(console.evidence[0].offset, 26, "offset of the ttyS0 line");
}

#[test]
fn services_clean_config_passes() {
    let t = tree(
        &[(
            "/etc/inittab",
            b"ttyS0::respawn:/sbin/getty -L ttyS0 115200 vt100\n# ::respawn:/usr/sbin/telnetd\n",
        )],
        &[],
    );
    let o = run(&t, checks::services);
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    assert!(o.examined.iter().any(|e| e.provision == "5.6-1"));
}

const OPENSSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBzGNLb6dN0UGazKvFAo5HLpXKmKkPz4BuqHLbLQvLbFwAAAJgK8a1OCvGt\n-----END OPENSSH PRIVATE KEY-----\n";

#[test]
fn secrets_every_kind() {
    let mut dropbear = 7u32.to_be_bytes().to_vec();
    dropbear.extend_from_slice(b"ssh-rsa");
    dropbear.extend(vec![0x41; 300]);
    let t = tree(
        &[
            ("/root/.ssh/id_ed25519", OPENSSH_KEY.as_bytes()),
            ("/etc/dropbear/dropbear_rsa_host_key", &dropbear),
            (
                "/etc/config/cloud",
                b"option api_key 'x'\napi_key=Zm9vYmFyYmF6cXV4MTIz\n# password=commentedout1\n",
            ),
            (
                "/www/app.js",
                b"const token = \"c2VjcmV0LXRva2VuLTk5\";\nvar AWS='AKIAIOSFODNN7EXAMPLE';\n",
            ),
            ("/etc/placeholder.conf", b"password=********\n"),
            // A string literal inside a binary is not a key.
            (
                "/usr/bin/dropbearconvert",
                b"\x7fELF....-----BEGIN OPENSSH PRIVATE KEY-----\n\0\0%s\0",
            ),
        ],
        &[],
    );
    let o = run(&t, checks::secrets);
    let mut found: Vec<(&str, &str)> = o
        .findings
        .iter()
        .map(|f| (f.rule, f.evidence[0].path.as_str()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("embedded-host-key", "/etc/dropbear/dropbear_rsa_host_key"),
            ("embedded-private-key", "/root/.ssh/id_ed25519"),
            ("hard-coded-secret", "/etc/config/cloud"),
            ("hard-coded-secret", "/www/app.js"),
            ("hard-coded-secret", "/www/app.js"),
        ]
    );
    for f in &o.findings {
        let ex = &f.evidence[0].excerpt;
        assert!(
            !ex.contains("Zm9vYmFy")
                && !ex.contains("c2VjcmV0")
                && !ex.contains("AKIAIOSFODNN7EXAMPLE")
                && !ex.contains("b3BlbnNz"),
            "secret copied: {ex}"
        );
    }
}

#[test]
#[allow(deprecated)] // md5crypt is made on purpose: the check must flag it
fn passwords_schemes_and_empty() {
    let des = "abJnggxhB/yWI"; // crypt("admin", "ab")
    let md5 = pwhash::md5_crypt::hash_with("$1$saltsalt$", "root").unwrap();
    let unique =
        pwhash::sha512_crypt::hash_with("$6$rounds=5000$c2FsdA$", "n0t-on-any-list-8812").unwrap();
    let shadow = format!(
        "root:{md5}:19000::::::\nadmin:{des}:19000::::::\nguest::19000::::::\nsvc:{unique}:19000::::::\ndaemon:*:19000::::::\n"
    );
    let t = tree(
        &[
            ("/etc/shadow", shadow.as_bytes()),
            ("/etc/passwd", b"root:x:0:0::/root:/bin/sh\nadmin:x:1:1::/:/bin/sh\nguest:x:2:2::/:/bin/sh\nsvc:x:3:3::/:/bin/sh\ndaemon:x:4:4::/:/usr/sbin/nologin\n"),
        ],
        &[],
    );
    let o = run(&t, checks::passwords);
    assert_eq!(
        rules(&o),
        [
            "default-password",
            "default-password",
            "empty-password",
            "weak-password-hash",
            "weak-password-hash"
        ]
    );
    let users: Vec<&str> = o
        .findings
        .iter()
        .filter(|f| f.rule == "default-password")
        .map(|f| f.evidence[0].excerpt.split(':').next().unwrap())
        .collect();
    assert_eq!(users, ["root", "admin"]);
    assert!(
        o.findings
            .iter()
            .all(|f| !f.evidence[0].excerpt.contains("$1$saltsalt")),
        "hash copied"
    );
    assert_eq!(
        o.credential_digests.len(),
        3,
        "root, admin, svc have hashes"
    );
}

#[test]
fn updates_and_disclosure() {
    let t = tree(
        &[
            (
                "/sbin/sysupgrade",
                b"#!/bin/sh\nusign -V -m \"$1\" -P /etc/opkg/keys\n",
            ),
            (
                "/www/.well-known/security.txt",
                b"Expires: 2030-01-01T00:00:00Z\nContact: https://vendor.example/psirt\n",
            ),
        ],
        &[],
    );
    let o = run(&t, checks::updates);
    assert!(o.findings.is_empty());
    assert!(o.examined.iter().any(|e| e.provision == "5.3-10"));
    let o = run(&t, checks::disclosure);
    let e = o.examined.iter().find(|e| e.provision == "5.2-1").unwrap();
    assert_eq!(e.evidence[0].offset, 30, "the Contact line");
    let none = tree(&[("/bin/true", b"\x7fELF")], &[]);
    assert!(
        run(&none, checks::updates).examined.is_empty(),
        "no updater: cannot tell"
    );
}

#[test]
fn kernel_release_from_modules_dir() {
    let mut t = tree(&[("/lib/modules/4.19.300-rt/modules.dep", b"")], &[]);
    for d in ["/lib/modules", "/lib/modules/4.19.300-rt"] {
        t.push(Entry {
            container: String::new(),
            path: d.into(),
            mode: 0o755,
            kind: EntryKind::Dir,
        });
    }
    let scan = Scan::run(&t, &Default::default());
    let ctx = Ctx {
        tree: &t,
        scan: &scan,
        image_sha256: "00",
    };
    let mut out = Outcome::default();
    let (components, _) =
        assess::components::components(&ctx, &assess::Feed::default(), "2025-06-01", &mut out);
    assert_eq!(components.len(), 1);
    let linux = &components[0];
    assert_eq!(
        (linux.name.as_str(), linux.version.as_str()),
        ("linux", "4.19.300")
    );
    assert_eq!(linux.strength, assess::components::Strength::ModulesDir);
    assert_eq!(linux.end_of_life.as_deref(), Some("2024-12-05"));
    assert_eq!(rules(&out), ["end-of-life-component"]);
}
