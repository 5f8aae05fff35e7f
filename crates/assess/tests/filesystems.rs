//! Flash and disk filesystems read by hand-written readers or crates, each on an image made
//! by the real Debian tool from one directory tree: every file comes back with its bytes,
//! links as links, and an image cut short or corrupted is an error or not opened, never a
//! panic. Tools: mtd-utils (mkfs.jffs2, mkfs.ubifs, ubinize), dosfstools + mtools
//! (mkfs.fat, mcopy), genromfs, util-linux (mkfs.cramfs -N big).

use std::path::Path;
use std::process::Command;

use assess::Limits;

/// The tree every image is made from: a root filesystem with an account database, a file
/// in a subdirectory, a compressible file larger than one block, and a symlink.
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
        (
            "usr/share/doc/readme.txt",
            b"a file in a subdirectory\n".to_vec(),
        ),
        (
            "bin/big",
            (0..200_000u32)
                .flat_map(|i| (i % 251).to_le_bytes())
                .collect(),
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

fn tool(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (install it: see scripts/test)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The image opens, holds every source file with its bytes and the symlink, and reports
/// `format` as a layer.
fn check(image: &[u8], files: &[(&str, Vec<u8>)], format: &str, link: bool) {
    let u = assess::unpack::unpack(image, Limits::default(), &|_| {}).unwrap();
    assert!(
        u.layers.iter().any(|l| l.format.name() == format),
        "{format}: layers {:?}",
        u.layers
    );
    for (path, data) in files {
        let p = format!("/{path}");
        let e = u
            .tree
            .get(&p)
            .next()
            .unwrap_or_else(|| panic!("{format}: {p} missing"));
        assert_eq!(e.data(), Some(data.as_slice()), "{format}: {p}");
    }
    if link {
        let l = u.tree.get("/etc/passwd.link").next().expect("the symlink");
        assert_eq!(
            l.kind,
            assess::tree::EntryKind::Symlink("/etc/passwd".into()),
            "{format}"
        );
    }
    // Cut short or with a byte flipped in every 512: an error or a region not opened.
    for broken in [
        image[..image.len() / 3].to_vec(),
        image
            .iter()
            .enumerate()
            .map(|(i, b)| if i % 512 == 100 { !b } else { *b })
            .collect(),
    ] {
        let _ = assess::unpack::unpack(&broken, Limits::default(), &|_| {});
    }
}

#[test]
fn jffs2_little_and_big_endian_from_mkfs_jffs2() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let files = source_tree(&root);
    for (flag, name) in [("-l", "le"), ("-b", "be")] {
        let img = dir.path().join(format!("fs-{name}.jffs2"));
        tool(
            Command::new("mkfs.jffs2")
                .args(["-r"])
                .arg(&root)
                .args([flag, "-e", "64KiB", "-o"])
                .arg(&img),
        );
        let image = std::fs::read(&img).unwrap();
        check(&image, &files, "JFFS2", true);
        // Inside a flash dump, after a bootloader-like prefix: found by the scan.
        let mut dump = vec![0x5a; 0x10000];
        dump.extend_from_slice(&image);
        let u = assess::unpack::unpack(&dump, Limits::default(), &|_| {}).unwrap();
        assert!(
            u.tree.get("/etc/shadow").next().is_some(),
            "{name} in a dump"
        );
    }
}

#[test]
fn ubi_with_ubifs_from_mkfs_ubifs_and_ubinize() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let files = source_tree(&root);
    for compr in ["lzo", "zlib", "none"] {
        let ubifs = dir.path().join(format!("fs-{compr}.ubifs"));
        tool(
            Command::new("mkfs.ubifs")
                .args(["-r"])
                .arg(&root)
                .args(["-m", "2048", "-e", "126976", "-c", "64", "-x", compr, "-o"])
                .arg(&ubifs),
        );
        check(&std::fs::read(&ubifs).unwrap(), &files, "UBIFS", true);
        let ini = dir.path().join("ubi.ini");
        std::fs::write(
            &ini,
            format!(
                "[rootfs]\nmode=ubi\nimage={}\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_flags=autoresize\n",
                ubifs.display()
            ),
        )
        .unwrap();
        let ubi = dir.path().join(format!("fs-{compr}.ubi"));
        tool(
            Command::new("ubinize")
                .args(["-o"])
                .arg(&ubi)
                .args(["-m", "2048", "-p", "128KiB", "-s", "2048"])
                .arg(&ini),
        );
        let image = std::fs::read(&ubi).unwrap();
        check(&image, &files, "UBI", false);
        let u = assess::unpack::unpack(&image, Limits::default(), &|_| {}).unwrap();
        let shadow = u.tree.get("/etc/shadow").next().unwrap();
        assert_eq!(shadow.container, "/ubi-rootfs", "{compr}");
    }
}

#[test]
fn fat_from_mkfs_fat_and_mcopy() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let files = source_tree(&root);
    std::fs::remove_file(root.join("etc/passwd.link")).unwrap();
    for bits in ["12", "16", "32"] {
        let img = dir.path().join(format!("fs{bits}.img"));
        let kib = match bits {
            "12" => "4096",
            "16" => "20000",
            _ => "70000",
        };
        tool(
            Command::new("mkfs.fat")
                .args(["-C", "-F", bits])
                .arg(&img)
                .arg(kib),
        );
        tool(
            Command::new("mcopy")
                .args(["-s", "-i"])
                .arg(&img)
                .arg(root.join("etc"))
                .arg(root.join("usr"))
                .arg(root.join("bin"))
                .arg("::/")
                .env("MTOOLS_SKIP_CHECK", "1"),
        );
        check(&std::fs::read(&img).unwrap(), &files, "FAT", false);
    }
}

#[test]
fn romfs_from_genromfs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let files = source_tree(&root);
    let img = dir.path().join("fs.romfs");
    tool(
        Command::new("genromfs")
            .args(["-f"])
            .arg(&img)
            .args(["-d"])
            .arg(&root),
    );
    check(&std::fs::read(&img).unwrap(), &files, "romfs", true);
}

#[test]
fn cramfs_big_endian_from_mkfs_cramfs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let files = source_tree(&root);
    for endian in ["big", "little"] {
        let img = dir.path().join(format!("fs-{endian}.cramfs"));
        tool(
            Command::new("mkfs.cramfs")
                .args(["-N", endian])
                .arg(&root)
                .arg(&img),
        );
        check(&std::fs::read(&img).unwrap(), &files, "cramfs", true);
    }
}

/// The erase block of `image` (erase blocks of `peb` bytes, VID headers at byte 2048) that
/// holds logical block `lnum` of volume `vol`.
fn ubi_block_of(image: &[u8], peb: usize, vol: u32, lnum: u32) -> usize {
    let be = |at: usize| u32::from_be_bytes(image[at..at + 4].try_into().unwrap());
    (0..image.len() / peb)
        .map(|i| i * peb)
        .find(|&b| {
            &image[b + 2048..b + 2052] == b"UBI!" && be(b + 2056) == vol && be(b + 2060) == lnum
        })
        .unwrap_or_else(|| panic!("volume {vol} block {lnum} not in the image"))
}

#[test]
fn ubi_static_and_sparse_volumes_from_ubinize() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let files = source_tree(&root);
    let sqfs = dir.path().join("root.squashfs");
    tool(
        Command::new("mksquashfs")
            .arg(&root)
            .arg(&sqfs)
            .args(["-noappend", "-quiet"]),
    );
    // A blob of 3.3 logical blocks that ends in 0xFF bytes (erased flash looks the same).
    let leb = 126976;
    let mut blob: Vec<u8> = (0..leb * 3 + 40_000).map(|i| (i * 7 % 251) as u8).collect();
    blob.extend_from_slice(&[0xff; 300]);
    std::fs::write(dir.path().join("blob.bin"), &blob).unwrap();
    // A dynamic volume whose blocks are 1 byte short of the erase block's data area (its
    // alignment leaves `data_pad`), four blocks of distinct bytes.
    let aligned_leb = leb - leb % 3;
    let dynamic: Vec<u8> = (0..aligned_leb * 4)
        .map(|i| (i / aligned_leb * 50 + i % 13) as u8)
        .collect();
    std::fs::write(dir.path().join("dynamic.bin"), &dynamic).unwrap();
    let ini = dir.path().join("ubi.ini");
    std::fs::write(
        &ini,
        format!(
            "[rootfs]\nmode=ubi\nimage={}\nvol_id=0\nvol_type=static\nvol_name=rootfs\n\
             [blob]\nmode=ubi\nimage={}\nvol_id=1\nvol_type=static\nvol_name=blob\n\
             [data]\nmode=ubi\nimage={}\nvol_id=2\nvol_type=dynamic\nvol_name=data\nvol_alignment=3\n",
            sqfs.display(),
            dir.path().join("blob.bin").display(),
            dir.path().join("dynamic.bin").display(),
        ),
    )
    .unwrap();
    let ubi = dir.path().join("vols.ubi");
    tool(
        Command::new("ubinize")
            .args(["-o"])
            .arg(&ubi)
            .args(["-m", "2048", "-p", "128KiB", "-s", "2048"])
            .arg(&ini),
    );
    let image = std::fs::read(&ubi).unwrap();
    let u = assess::unpack::unpack(&image, Limits::default(), &|_| {}).unwrap();
    // The squashfs in a static volume is opened.
    for (path, data) in &files {
        let e = u
            .tree
            .get(&format!("/{path}"))
            .next()
            .unwrap_or_else(|| panic!("/{path}"));
        assert_eq!(e.data(), Some(data.as_slice()), "/{path}");
        assert_eq!(e.container, "/ubi-rootfs");
    }
    // A static volume is exactly its data, 0xFF bytes at its end included.
    let got = u.tree.get("/ubi-blob").next().expect("the blob volume");
    assert_eq!(got.data().map(<[u8]>::len), Some(blob.len()));
    assert_eq!(got.data(), Some(blob.as_slice()));
    let got = u.tree.get("/ubi-data").next().expect("the dynamic volume");
    assert_eq!(got.data(), Some(dynamic.as_slice()), "data_pad is not data");

    // Sparse: logical block 1 of the dynamic volume erased (its erase block keeps only the
    // erase-counter header): the hole reads as erased flash, the blocks after it in place.
    let peb = 128 << 10;
    let mut sparse = image.clone();
    let b = ubi_block_of(&sparse, peb, 2, 1);
    sparse[b + 64..b + peb].fill(0xff);
    let u = assess::unpack::unpack(&sparse, Limits::default(), &|_| {}).unwrap();
    let mut want = dynamic.clone();
    want[aligned_leb..2 * aligned_leb].fill(0xff);
    let got = u.tree.get("/ubi-data").next().expect("the sparse volume");
    assert_eq!(got.data(), Some(want.as_slice()));
    // A static volume with a block missing: the hole is erased flash, the size still exact.
    let mut holed = image.clone();
    let b = ubi_block_of(&holed, peb, 1, 2);
    holed[b + 64..b + peb].fill(0xff);
    let u = assess::unpack::unpack(&holed, Limits::default(), &|_| {}).unwrap();
    let mut want = blob.clone();
    want[2 * leb..3 * leb].fill(0xff);
    let got = u
        .tree
        .get("/ubi-blob")
        .next()
        .expect("the holed static volume");
    assert_eq!(got.data(), Some(want.as_slice()));

    // A block claiming a logical number far past the volume's reserved blocks (CRC made
    // right): refused as malformed, never a huge allocation or a panic.
    let mut stray = image.clone();
    let b = ubi_block_of(&stray, peb, 2, 3);
    let vid = b + 2048;
    stray[vid + 12..vid + 16].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
    let crc = !crc32fast::hash(&stray[vid..vid + 60]);
    stray[vid + 60..vid + 64].copy_from_slice(&crc.to_be_bytes());
    let e = assess::unpack::unpack(&stray, Limits::default(), &|_| {}).unwrap_err();
    assert!(e.to_string().contains("lies past the volume"), "{e}");
}
