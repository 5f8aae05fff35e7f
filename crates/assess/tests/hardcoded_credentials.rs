//! Passwords written into scripts and web programs (§5.1), on a real squashfs (mksquashfs):
//! a boot script that sets root's password with chpasswd, one that pipes it into passwd, a
//! CGI script comparing the login against a literal pair, and the same lines commented out
//! or reading variables (no finding). Each finding says how the file runs on the device.
//! The CGI may also be a program compiled by gcc that compares the login with `strcmp`.

use std::path::Path;
use std::process::Command;

fn write(root: &Path, path: &str, data: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn image(files: &[(&str, &str)]) -> Vec<u8> {
    image_with(files, &[])
}

/// A squashfs of these text files and these binaries.
fn image_with(files: &[(&str, &str)], binaries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    write(&root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    write(&root, "bin/busybox", "not really busybox\n");
    for (p, d) in files {
        write(&root, p, d);
    }
    for (p, d) in binaries {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, d).unwrap();
    }
    let img = dir.path().join("fs.squashfs");
    let st = Command::new("mksquashfs")
        .arg(&root)
        .arg(&img)
        .args(["-noappend", "-quiet", "-comp", "gzip"])
        .status()
        .expect("mksquashfs (squashfs-tools)");
    assert!(st.success());
    std::fs::read(img).unwrap()
}

fn findings(image: &[u8]) -> Vec<assess::Finding> {
    let options = assess::Options {
        as_of: "2025-06-01".into(),
        ..assess::Options::default()
    };
    let r = assess::assess("fs.squashfs", image, &options).unwrap();
    r.findings
        .into_iter()
        .filter(|f| f.rule.starts_with("hardcoded-"))
        .collect()
}

#[test]
fn passwords_set_by_boot_scripts_and_checked_by_cgi_are_found_with_how_they_run() {
    let img = image(&[
        ("etc/inittab", "::sysinit:/etc/init.d/rcS\n"),
        (
            "etc/init.d/rcS",
            "#!/bin/sh\n/etc/init.d/S10setup start\necho \"root:Adm1n2019\" | chpasswd\n",
        ),
        (
            "etc/init.d/S10setup",
            "#!/bin/sh\necho -e \"s3cret\\ns3cret\" | passwd admin\n",
        ),
        ("usr/sbin/unused.sh", "#!/bin/sh\necho support:support123 | chpasswd\n"),
        (
            "www/cgi-bin/login.cgi",
            "#!/bin/sh\nif [ \"$user\" = \"admin\" ] && [ \"$pass\" = \"hunter22\" ]; then echo ok; fi\n",
        ),
    ]);
    let f = findings(&img);
    let msgs: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
    let find = |needle: &str| {
        f.iter()
            .find(|f| f.message.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not in {msgs:#?}"))
    };
    let rcs = find("/etc/init.d/rcS sets the password of account \"root\"");
    assert!(rcs.message.contains("with chpasswd"), "{}", rcs.message);
    assert!(rcs.message.contains("run at boot"), "{}", rcs.message);
    assert_eq!(rcs.severity, assess::Severity::High);
    assert!(rcs.provisions.contains(&"5.1-1"));
    // The evidence points at the line and never repeats the password.
    let ev = &rcs.evidence[0];
    assert_eq!(ev.line, Some(3));
    assert!(!ev.excerpt.contains("Adm1n2019"), "{}", ev.excerpt);
    let s10 = find("/etc/init.d/S10setup sets the password of account \"admin\"");
    assert!(s10.message.contains("with passwd"), "{}", s10.message);
    let unused = find("/usr/sbin/unused.sh sets the password of account \"support\"");
    assert!(
        unused.message.contains("not started by the boot scripts"),
        "{}",
        unused.message
    );
    assert_eq!(unused.severity, assess::Severity::Medium);
    let cgi = find("/www/cgi-bin/login.cgi accepts a fixed login for user \"admin\"");
    assert!(cgi.message.contains("web server"), "{}", cgi.message);
    assert!(!cgi.evidence[0].excerpt.contains("hunter22"));
    assert_eq!(f.len(), 4, "{msgs:#?}");
}

#[test]
fn comments_variables_and_placeholders_are_not_findings() {
    let img = image(&[
        ("etc/inittab", "::sysinit:/etc/init.d/rcS\n"),
        (
            "etc/init.d/rcS",
            "#!/bin/sh\n# echo root:old | chpasswd\necho \"root:$PW\" | chpasswd\n",
        ),
        (
            "www/cgi-bin/login.cgi",
            "#!/bin/sh\nif [ \"$user\" = \"$CFG_USER\" ] && [ \"$pass\" = \"$CFG_PASS\" ]; then echo ok; fi\n",
        ),
    ]);
    let f = findings(&img);
    assert!(
        f.is_empty(),
        "{:#?}",
        f.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
}

/// A login CGI in C: it reads `username` and `password` from the query string and compares
/// them with `strcmp` against literals (`user`, `pass`), compiled by gcc with `flags`.
fn compiled_cgi(user: &str, pass: &str, flags: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("login.c");
    std::fs::write(
        &src,
        format!(
            r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void field(const char *q, const char *name, char *out, size_t n) {{
    const char *p = q ? strstr(q, name) : NULL;
    size_t i = 0;
    if (p) {{
        p += strlen(name);
        if (*p == '=') p++;
        while (*p && *p != '&' && i + 1 < n) out[i++] = *p++;
    }}
    out[i] = 0;
}}
int main(void) {{
    char user[64], pass[64];
    const char *q = getenv("QUERY_STRING");
    field(q, "username", user, sizeof user);
    field(q, "password", pass, sizeof pass);
    printf("Content-Type: text/plain\r\n\r\n");
    if (strcmp(user, "{user}") == 0 && strcmp(pass, "{pass}") == 0) {{
        printf("welcome\n");
        return 0;
    }}
    printf("denied\n");
    return 1;
}}
"#
        ),
    )
    .unwrap();
    let bin = dir.path().join("login.cgi");
    let out = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("gcc");
    assert!(
        out.status.success(),
        "gcc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let elf = std::fs::read(bin).unwrap();
    assert!(elf.starts_with(b"\x7fELF"));
    elf
}

#[test]
fn a_compiled_cgi_comparing_the_login_with_strcmp_is_found_with_where() {
    for flags in [&["-O0"][..], &["-Os"], &["-O2"]] {
        let cgi = compiled_cgi("admin", "Sup3rS3cret", flags);
        let img = image_with(&[], &[("www/cgi-bin/login.cgi", cgi.clone())]);
        let f = findings(&img);
        assert_eq!(
            f.len(),
            1,
            "{flags:?}: {:#?}",
            f.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
        let cgi_finding = &f[0];
        assert!(
            cgi_finding
                .message
                .contains("the web program /www/cgi-bin/login.cgi compares the login against a fixed account \"admin\""),
            "{}",
            cgi_finding.message
        );
        assert!(
            cgi_finding.message.contains("web server"),
            "{}",
            cgi_finding.message
        );
        assert_eq!(cgi_finding.severity, assess::Severity::High);
        // The evidence points at the literal in the program and never repeats the password.
        let ev = &cgi_finding.evidence[0];
        assert_eq!(ev.path, "/www/cgi-bin/login.cgi");
        let at = ev.offset as usize;
        assert_eq!(&cgi[at..at + 6], b"admin\0", "{flags:?}");
        assert!(!ev.excerpt.contains("Sup3rS3cret"));
        assert!(!cgi_finding.message.contains("Sup3rS3cret"));
    }
    // Not a web program, or comparing against something that is no password: no finding.
    let cgi = compiled_cgi("admin", "Sup3rS3cret", &["-Os"]);
    let img = image_with(&[], &[("usr/bin/login-helper", cgi)]);
    assert!(findings(&img).is_empty());
    let cgi = compiled_cgi("admin", "welcome", &["-Os"]);
    let img = image_with(&[], &[("www/cgi-bin/login.cgi", cgi)]);
    let f = findings(&img);
    assert!(
        f.is_empty(),
        "{:#?}",
        f.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
}
