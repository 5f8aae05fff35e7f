//! 7z archives made by the real `7z` (p7zip-full): every file comes back with its bytes and
//! the symlink as a link; an encrypted archive (files, or header too) is reported as not
//! opened with the reason, and never hides what else the image holds; a bomb is refused
//! before it is decoded; an archive cut short or damaged is an error or a region not
//! opened, never a panic.

use std::path::Path;
use std::process::Command;

use assess::Limits;

/// A root filesystem: the account database, a file in a subdirectory, a large compressible
/// file, a symlink.
fn source_tree(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let files: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/sh\n".to_vec(),
        ),
        (
            "etc/shadow",
            b"root:$1$salt$qJH7.N4xYta3aEG/dfqo/0:19000:0:99999:7:::\n".to_vec(),
        ),
        ("usr/share/doc/readme.txt", b"in a subdirectory\n".to_vec()),
        (
            "bin/busybox",
            (0..300_000u32).map(|i| (i % 253) as u8).collect(),
        ),
    ];
    for (path, data) in &files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    std::os::unix::fs::symlink("/etc/passwd", dir.join("etc/passwd.link")).unwrap();
    files
}

/// `7z a` with `args`, run inside `root` so the members are named from it.
fn sevenz(root: &Path, out: &Path, args: &[&str]) -> Vec<u8> {
    let o = Command::new("7z")
        .current_dir(root)
        .arg("a")
        .args(args)
        .arg(out)
        .args(["etc", "usr", "bin"])
        .output()
        .unwrap_or_else(|e| panic!("7z: {e} (install p7zip-full: see scripts/test)"));
    assert!(
        o.status.success(),
        "7z: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read(out).unwrap()
}

#[test]
fn a_7z_from_the_real_tool_is_read_with_every_file_and_the_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let files = source_tree(&root);
    // Solid LZMA2 (the default), LZMA with the x86 filter, PPMd, and stored, non-solid.
    for (n, args) in [
        &["-snl"][..],
        &["-snl", "-m0=BCJ", "-m1=LZMA"],
        &["-snl", "-m0=PPMd"],
        &["-snl", "-mx=0", "-ms=off"],
    ]
    .iter()
    .enumerate()
    {
        let image = sevenz(&root, &dir.path().join(format!("a{n}.7z")), args);
        let u = assess::unpack::unpack(&image, Limits::default(), &|_| {}).unwrap();
        assert!(
            u.layers.iter().any(|l| l.format.name() == "7z"),
            "{args:?}: {:?}",
            u.layers
        );
        for (path, data) in &files {
            let e = u
                .tree
                .get(&format!("/{path}"))
                .next()
                .unwrap_or_else(|| panic!("{args:?}: /{path} missing"));
            assert_eq!(e.data(), Some(data.as_slice()), "{args:?}: /{path}");
        }
        let link = u.tree.get("/etc/passwd.link").next().expect("the symlink");
        assert_eq!(
            link.kind,
            assess::tree::EntryKind::Symlink("/etc/passwd".into()),
            "{args:?}"
        );
        assert!(u.unopened.is_empty(), "{args:?}: {:?}", u.unopened);
    }
    // The assessment finds the account database in it.
    let image = sevenz(&root, &dir.path().join("root.7z"), &["-snl"]);
    let options = assess::Options {
        as_of: "2025-06-01".into(),
        ..assess::Options::default()
    };
    let r = assess::assess("root.7z", &image, &options).unwrap();
    assert!(
        r.findings
            .iter()
            .flat_map(|f| &f.evidence)
            .any(|ev| ev.path.ends_with("/etc/shadow")),
        "{:#?}",
        r.findings
    );
}

#[test]
fn encrypted_7z_is_not_opened_and_says_why_and_the_rest_of_the_image_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    source_tree(&root);
    for (name, args, says) in [
        ("files", &["-pS3cret"][..], "files are encrypted"),
        ("header", &["-pS3cret", "-mhe=on"], "header is encrypted"),
    ] {
        let locked = sevenz(&root, &dir.path().join(format!("{name}.7z")), args);
        let u = assess::unpack::unpack(&locked, Limits::default(), &|_| {}).unwrap();
        assert!(u.layers.is_empty(), "{name}: {:?}", u.layers);
        assert_eq!(u.tree.files().count(), 0, "{name}");
        let region = &u.unopened[0];
        assert_eq!(region.format, "7z", "{name}");
        assert_eq!(region.size, locked.len() as u64, "{name}");
        assert!(region.could_hold_evidence);
        assert!(
            region.reason.contains(says) && region.reason.contains("password"),
            "{name}: {}",
            region.reason
        );
        // In a flash dump after a readable archive: that one is read, this one reported.
        let other = dir.path().join(format!("other-{name}"));
        for d in ["etc", "usr", "bin"] {
            std::fs::create_dir_all(other.join(d)).unwrap();
        }
        std::fs::write(other.join("etc/inittab"), "::sysinit:/etc/rc\n").unwrap();
        let plain = sevenz(&other, &dir.path().join(format!("plain-{name}.7z")), &[]);
        let mut dump = vec![0x5a; 4096];
        dump.extend_from_slice(&plain);
        dump.resize(dump.len().next_multiple_of(4096), 0xff);
        let at = dump.len();
        dump.extend_from_slice(&locked);
        dump.resize(dump.len() + 4096, 0xff);
        let u = assess::unpack::unpack(&dump, Limits::default(), &|_| {}).unwrap();
        assert!(u.tree.get("/etc/inittab").next().is_some(), "{name}");
        let region = u
            .unopened
            .iter()
            .find(|r| r.offset == at as u64)
            .unwrap_or_else(|| panic!("{name}: {:?}", u.unopened));
        assert!(region.reason.contains(says), "{name}: {}", region.reason);
    }
}

#[test]
fn a_7z_bomb_is_refused_before_it_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    for d in ["etc", "usr", "bin"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("bin/zeros"), vec![0u8; 64 << 20]).unwrap();
    let image = sevenz(&root, &dir.path().join("bomb.7z"), &[]);
    assert!(image.len() < 64 << 10, "{} bytes", image.len());
    let limits = Limits {
        max_total_bytes: 32 << 20,
        ..Limits::default()
    };
    let e = assess::unpack::unpack(&image, limits, &|_| {}).unwrap_err();
    assert!(
        matches!(e.kind, assess::unpack::ErrorKind::Limit { .. }),
        "{e}"
    );
}

#[test]
fn a_7z_cut_short_or_damaged_is_an_error_or_not_opened_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    source_tree(&root);
    let image = sevenz(&root, &dir.path().join("a.7z"), &["-snl"]);
    let cut = &image[..image.len() - 10];
    let e = assess::unpack::unpack(cut, Limits::default(), &|_| {}).unwrap_err();
    assert!(e.to_string().contains("truncated 7z"), "{e}");
    for step in [1, 7, 97] {
        for at in (32..image.len()).step_by(step * 31) {
            let mut broken = image.clone();
            broken[at] ^= 0x55;
            let r = std::panic::catch_unwind(|| {
                assess::unpack::unpack(&broken, Limits::default(), &|_| {})
            });
            assert!(r.is_ok(), "panicked with byte {at} flipped");
        }
    }
}
