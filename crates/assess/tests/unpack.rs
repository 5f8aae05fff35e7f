//! Unpacker behaviour beyond the corpus: big-endian squashfs, cpio traversal and symlink
//! escape, every limit, uImage variants made by mkimage, nesting.

use std::io::Write;
use std::process::{Command, Stdio};

use assess::unpack::ErrorKind;
use assess::{Limits, Options};

fn opts(limits: Limits) -> Options {
    Options {
        limits,
        as_of: "2025-06-01".into(),
        ..Options::default()
    }
}

fn run(cmd: &mut Command, stdin: &[u8]) -> Vec<u8> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed");
    out.stdout
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn big_endian_squashfs_is_read() {
    use backhand::{kind, kind::Kind, FilesystemWriter, NodeHeader};
    let mut w = FilesystemWriter::default();
    w.set_kind(Kind::from_const(kind::BE_V4_0).unwrap());
    let h = NodeHeader::new(0o644, 0, 0, 0);
    w.push_dir("etc", NodeHeader::new(0o755, 0, 0, 0)).unwrap();
    w.push_file(&b"root::19000:0:99999:7:::\n"[..], "etc/shadow", h)
        .unwrap();
    w.push_file(&b"root:x:0:0:root:/root:/bin/sh\n"[..], "etc/passwd", h)
        .unwrap();
    w.push_file(
        &b"::respawn:/usr/sbin/telnetd -F -l /bin/sh\n"[..],
        "etc/inittab",
        h,
    )
    .unwrap();
    let mut image = std::io::Cursor::new(Vec::new());
    w.write(&mut image).unwrap();
    let image = image.into_inner();
    assert_eq!(
        &image[..4],
        b"sqsh",
        "backhand wrote a big-endian superblock"
    );
    let r = assess::assess("be.squashfs", &image, &opts(Limits::default())).unwrap();
    assert_eq!(
        r.layers.last().unwrap().format,
        assess::unpack::Format::SquashfsBe
    );
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule).collect();
    assert!(rules.contains(&"empty-password"), "{rules:?}");
    assert!(rules.contains(&"telnet-enabled"), "{rules:?}");
    let telnet = r
        .findings
        .iter()
        .find(|f| f.rule == "telnet-enabled")
        .unwrap();
    assert!(
        telnet.provisions.contains(&"5.1-1"),
        "telnetd -l /bin/sh is a login-less shell"
    );
}

#[test]
fn cpio_traversal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("outside"), b"x").unwrap();
    let archive = run(
        Command::new("cpio")
            .args(["-o", "-H", "newc", "--quiet"])
            .current_dir(dir.path().join("sub")),
        b"../outside\n",
    );
    let err = assess::unpack::unpack(&archive, Limits::default(), &|_| {}).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Traversal { .. }), "{err}");
    assert!(err.to_string().contains("../outside"), "{err}");
}

#[test]
fn cpio_symlink_escape_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc", dir.path().join("link")).unwrap();
    let archive = run(
        Command::new("cpio")
            .args(["-o", "-H", "newc", "--quiet"])
            .current_dir(dir.path()),
        b"link\nlink/hostname\n",
    );
    let err = assess::unpack::unpack(&archive, Limits::default(), &|_| {}).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::SymlinkEscape { .. }), "{err}");
    assert!(err.to_string().contains("\"/link\" -> \"/etc\""), "{err}");
}

fn clean_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..50 {
        let data = vec![b'a'; 20_000];
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, format!("f{i}"), &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn entry_count_limit() {
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let err = assess::unpack::unpack(&clean_tar(), limits, &|_| {}).unwrap_err();
    assert!(
        matches!(
            err.kind,
            ErrorKind::Limit {
                what: "entry count",
                limit: 10,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn total_bytes_limit() {
    let limits = Limits {
        max_total_bytes: 100_000,
        ..Limits::default()
    };
    let err = assess::unpack::unpack(&clean_tar(), limits, &|_| {}).unwrap_err();
    assert!(
        matches!(
            err.kind,
            ErrorKind::Limit {
                what: "total extracted bytes",
                ..
            }
        ),
        "{err}"
    );
    // The same archive passes with room to spare.
    let ok = assess::unpack::unpack(&clean_tar(), Limits::default(), &|_| {}).unwrap();
    assert_eq!(ok.tree.files().count(), 50);
    assert_eq!(ok.total_bytes, 50 * 20_000);
}

#[test]
fn nesting_depth_limit() {
    let mut data = clean_tar();
    for _ in 0..6 {
        data = gzip(&data);
    }
    let shallow = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let err = assess::unpack::unpack(&data, shallow, &|_| {}).unwrap_err();
    assert!(
        matches!(
            err.kind,
            ErrorKind::Limit {
                what: "nesting depth",
                limit: 3,
                ..
            }
        ),
        "{err}"
    );
    let deep = assess::unpack::unpack(&data, Limits::default(), &|_| {}).unwrap();
    assert!(deep.tree.files().any(|e| e.path == "/f49"));
}

#[test]
fn ratio_limit_applies_above_the_floor_only() {
    let zeros = gzip(&vec![0u8; 8 << 20]);
    // 8 MiB from ~8 KiB is a 1000:1 ratio, but under the 16 MiB floor: allowed.
    assert!(assess::unpack::unpack(&zeros, Limits::default(), &|_| {}).is_ok());
    let strict = Limits {
        ratio_floor: 1 << 20,
        ..Limits::default()
    };
    let err = assess::unpack::unpack(&zeros, strict, &|_| {}).unwrap_err();
    assert!(err.to_string().contains("decompression bomb"), "{err}");
}

fn mkimage(args: &[&str], payload: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    std::fs::write(&input, payload).unwrap();
    let st = Command::new("mkimage")
        .args(args)
        .arg("-d")
        .arg(&input)
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .expect("mkimage (u-boot-tools)");
    assert!(st.success());
    std::fs::read(out).unwrap()
}

fn inittab_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let data = b"::respawn:/usr/sbin/telnetd -F\n";
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "etc/inittab", &data[..]).unwrap();
    b.into_inner().unwrap()
}

#[test]
fn uimage_gzip_lzma_and_crc() {
    let tar = inittab_tar();
    let gz = mkimage(
        &[
            "-A", "arm", "-O", "linux", "-T", "ramdisk", "-C", "gzip", "-n", "rd",
        ],
        &gzip(&tar),
    );
    let r = assess::assess("gz.uimage", &gz, &opts(Limits::default())).unwrap();
    assert!(
        r.findings.iter().any(|f| f.rule == "telnet-enabled"),
        "gzip uImage payload opened"
    );
    let lzma = run(Command::new("xz").args(["--format=lzma", "-c"]), &tar);
    let lz = mkimage(
        &[
            "-A", "arm", "-O", "linux", "-T", "ramdisk", "-C", "lzma", "-n", "rd",
        ],
        &lzma,
    );
    let r = assess::assess("lzma.uimage", &lz, &opts(Limits::default())).unwrap();
    assert!(
        r.findings.iter().any(|f| f.rule == "telnet-enabled"),
        "lzma uImage payload opened"
    );
    let mut broken = gz.clone();
    broken[100] ^= 0xff;
    let err = assess::unpack::unpack(&broken, Limits::default(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("payload CRC mismatch"), "{err}");
}

#[test]
fn uimage_multi_parts() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = dir.path().join("kernel");
    let rootfs = dir.path().join("rootfs.tar");
    std::fs::write(&kernel, b"Linux version 4.14.180 (builder@host) #1\n").unwrap();
    std::fs::write(&rootfs, inittab_tar()).unwrap();
    let out = dir.path().join("multi");
    let st = Command::new("mkimage")
        .args([
            "-A", "arm", "-O", "linux", "-T", "multi", "-C", "none", "-n", "m", "-d",
        ])
        .arg(format!("{}:{}", kernel.display(), rootfs.display()))
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let r = assess::assess(
        "multi.uimage",
        &std::fs::read(out).unwrap(),
        &opts(Limits::default()),
    )
    .unwrap();
    assert!(
        r.findings.iter().any(|f| f.rule == "telnet-enabled"),
        "second part (tar) opened"
    );
    let linux = r
        .components
        .iter()
        .find(|c| c.name == "linux")
        .expect("kernel banner in part 0");
    assert_eq!(linux.version, "4.14.180");
    assert_eq!(
        linux.end_of_life.as_deref(),
        Some("2024-01-10"),
        "4.14 is end of life"
    );
}

#[test]
fn raw_dump_with_noise_and_padding() {
    // Erased flash, random-looking bytes containing a false gzip signature, then a real
    // gzip'd tar: the false candidate is noted, the real one unpacked.
    let mut img = vec![0xffu8; 4096];
    img.extend_from_slice(&[0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7]);
    img.extend(vec![0xffu8; 4096]);
    img.extend(gzip(&inittab_tar()));
    img.extend(vec![0xffu8; 4096]);
    let u = assess::unpack::unpack(&img, Limits::default(), &|_| {}).unwrap();
    assert!(u.tree.get("/etc/inittab").next().is_some());
    assert!(
        !u.notes.is_empty(),
        "the false signature is reported as a note"
    );
    assert!(u.layers.iter().any(|l| l.at == "@0x200b"), "{:?}", u.layers);
}

#[test]
fn empty_and_unknown_input() {
    let err = assess::unpack::unpack(b"", Limits::default(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    // Unknown bytes are assessed as one file.
    let u = assess::unpack::unpack(
        b"BusyBox v1.20.2 (2014-01-01) multi-call binary",
        Limits::default(),
        &|_| {},
    )
    .unwrap();
    assert_eq!(u.tree.files().count(), 1);
}

/// Deterministic incompressible bytes (xorshift), so squashfs stores whole blocks.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// A squashfs (written by backhand) whose files exercise every way the unpacker cuts up
/// decompression: a file of many blocks plus a tail in a fragment, a file of exactly four
/// blocks, small files sharing fragment blocks, the account files an early look wants, an
/// empty file, and gzipped files (decompressed ahead by the workers) with one bomb among
/// them when `with_bomb`.
fn piecework_image(with_bomb: bool) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    use backhand::{FilesystemWriter, NodeHeader};
    let h = NodeHeader::new(0o644, 0, 0, 0);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("/big.bin".into(), noise(9 * 131072 + 12345, 1)),
        ("/exact.bin".into(), noise(4 * 131072, 2)),
        ("/empty".into(), Vec::new()),
        (
            "/etc/passwd".into(),
            b"root:x:0:0:root:/root:/bin/sh\n".to_vec(),
        ),
        (
            "/etc/shadow".into(),
            b"root:$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0:19000:0:99999:7:::\n".to_vec(),
        ),
    ];
    for i in 0..40 {
        files.push((
            format!("/small/{i:02}"),
            noise(700 + i * 97, 100 + i as u64),
        ));
    }
    for i in 0..6 {
        let text = format!("manual page {i}\n").repeat(2000 + i * 10);
        files.push((format!("/man/page{i}.gz"), gzip(text.as_bytes())));
    }
    if with_bomb {
        files.push(("/man/bomb.gz".into(), gzip(&vec![0u8; 40 << 20])));
    }
    let mut w = FilesystemWriter::default();
    for d in ["etc", "small", "man"] {
        w.push_dir(d, NodeHeader::new(0o755, 0, 0, 0)).unwrap();
    }
    for (path, data) in &files {
        w.push_file(std::io::Cursor::new(data.clone()), &path[1..], h)
            .unwrap();
    }
    let mut image = std::io::Cursor::new(Vec::new());
    w.write(&mut image).unwrap();
    (image.into_inner(), files)
}

#[test]
fn squashfs_decompressed_in_pieces_gives_every_file_whole_on_any_thread_count() {
    let (image, files) = piecework_image(false);
    let one = assess::unpack::unpack_threaded(&image, Limits::default(), 1, &|_| {}).unwrap();
    for threads in [2, 3, 8] {
        let many =
            assess::unpack::unpack_threaded(&image, Limits::default(), threads, &|_| {}).unwrap();
        assert_eq!(one.tree.len(), many.tree.len());
        for (a, b) in one.tree.files().zip(many.tree.files()) {
            assert_eq!(a, b, "{threads} threads: {}", a.display_path());
        }
        assert_eq!(one.layers, many.layers);
        assert_eq!(one.total_bytes, many.total_bytes);
    }
    for (path, want) in &files {
        let got: Vec<_> = one.tree.get(path).collect();
        assert_eq!(got.len(), 1, "{path}");
        assert_eq!(got[0].data().unwrap(), want.as_slice(), "{path}");
    }
    // The gzipped pages were opened too, with the same text on every thread count.
    let page = one
        .tree
        .files()
        .find(|e| e.container == "/man/page3.gz")
        .expect("page3.gz opened");
    assert_eq!(
        page.data().unwrap(),
        "manual page 3\n".repeat(2030).as_bytes()
    );
}

#[test]
fn a_bomb_among_prefetched_streams_is_refused_as_in_order() {
    let (image, _) = piecework_image(true);
    let one = assess::unpack::unpack_threaded(&image, Limits::default(), 1, &|_| {}).unwrap_err();
    assert!(
        matches!(&one.kind, ErrorKind::Limit { .. }) && one.at.contains("/man/bomb.gz"),
        "{one}"
    );
    for threads in [2, 4] {
        let many = assess::unpack::unpack_threaded(&image, Limits::default(), threads, &|_| {})
            .unwrap_err();
        assert_eq!(one, many, "{threads} threads");
    }
}

/// Records what an early look is handed.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(String, Vec<u8>)>>);

impl assess::unpack::EarlyLook for Recorder {
    fn wants(&self, path: &str) -> bool {
        path.ends_with("passwd") || path.ends_with("shadow")
    }
    fn look(&self, path: &str, data: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push((path.to_string(), data.to_vec()));
    }
}

#[test]
fn early_look_gets_each_wanted_file_once_and_whole() {
    let (image, files) = piecework_image(false);
    for threads in [1, 2] {
        let rec = Recorder::default();
        let workers = assess::work::Workers::new(threads);
        let unpacked =
            assess::unpack::unpack_with(&image, Limits::default(), &workers, &|_| {}, &rec)
                .unwrap();
        let mut seen = rec.0.into_inner().unwrap();
        seen.sort();
        let names: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["/etc/passwd", "/etc/shadow"], "{threads} threads");
        for (path, data) in &seen {
            let want = &files.iter().find(|(p, _)| p == path).unwrap().1;
            assert_eq!(data, want, "{path}");
            // And the tree holds the same bytes as if nobody had looked.
            let entry = unpacked.tree.get(path).next().unwrap();
            assert_eq!(entry.data().unwrap(), want.as_slice());
        }
    }
}

/// An xz stream whose LZMA2 filter declares a 4 GiB dictionary (block header patched, its
/// CRC32 recomputed) and an lzma-alone stream in a uImage declaring one: both stop at the
/// decoder memory limit with an unpack error naming it, instead of allocating gigabytes.
#[test]
fn huge_dictionary_headers_hit_the_decoder_memory_limit() {
    let tar = inittab_tar();
    // xz: 12-byte stream header, then the block header [size, flags, 0x21, 1, props, pad.., crc32].
    let mut xz = run(Command::new("xz").args(["--format=xz", "-c"]), &tar);
    let header_len = (usize::from(xz[12]) + 1) * 4;
    assert_eq!(
        &xz[14..16],
        &[0x21, 0x01],
        "one LZMA2 filter with 1 property byte"
    );
    xz[16] = 40; // LZMA2 dictionary size 4 GiB - 1
    let mut crc = flate2::Crc::new();
    crc.update(&xz[12..12 + header_len - 4]);
    xz[12 + header_len - 4..12 + header_len].copy_from_slice(&crc.sum().to_le_bytes());
    let err = assess::unpack::unpack(&xz, Limits::default(), &|_| {}).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Limit { limit, .. } if limit == assess::unpack::LZMA_MEMORY_LIMIT),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("decompressor memory") && msg.contains("268435456"),
        "{msg}"
    );

    // lzma-alone: byte 0 properties, bytes 1..5 the dictionary size (little endian).
    let mut lzma = run(Command::new("xz").args(["--format=lzma", "-c"]), &tar);
    lzma[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
    let lz = mkimage(
        &[
            "-A", "arm", "-O", "linux", "-T", "ramdisk", "-C", "lzma", "-n", "rd",
        ],
        &lzma,
    );
    let err = assess::unpack::unpack(&lz, Limits::default(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("decompressor memory"), "{err}");
    // The unpatched streams still open (the limit does not refuse ordinary settings).
    let ok = run(Command::new("xz").args(["--format=xz", "-9", "-c"]), &tar);
    assess::unpack::unpack(&ok, Limits::default(), &|_| {}).unwrap();
}

/// squashfs xz blocks go through the same 256 MiB decoder memory limit as standalone
/// streams: a block whose header asks for a 4 GiB dictionary is refused before anything is
/// allocated, and an ordinary block decodes.
#[test]
fn squashfs_xz_blocks_are_memory_bounded() {
    use backhand::compression::{CompressionAction, Compressor};
    use std::io::Write;
    let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 0);
    enc.write_all(b"hello from a squashfs block").unwrap();
    let good = enc.finish().unwrap();
    let mut out = Vec::new();
    assess::unpack::BOUNDED_COMPRESSOR
        .decompress(&good, &mut out, Compressor::Xz)
        .unwrap();
    assert_eq!(out, b"hello from a squashfs block");
    // The block header follows the 12-byte stream header; its LZMA2 filter is id 0x21 with
    // one property byte, the dictionary size (40 = 4 GiB - 1). Patch it and the header CRC.
    let size = (usize::from(good[12]) + 1) * 4;
    let header = 12..12 + size;
    let at = good[header.clone()]
        .windows(2)
        .position(|w| w == [0x21, 0x01])
        .expect("LZMA2 filter flags")
        + 12
        + 2;
    let mut huge = good.clone();
    huge[at] = 40;
    let mut crc = flate2::Crc::new();
    crc.update(&huge[12..12 + size - 4]);
    huge[12 + size - 4..12 + size].copy_from_slice(&crc.sum().to_le_bytes());
    let mut out = Vec::new();
    let err = assess::unpack::BOUNDED_COMPRESSOR
        .decompress(&huge, &mut out, Compressor::Xz)
        .unwrap_err()
        .to_string();
    assert!(err.contains("decoder memory"), "{err}");
    assert!(out.is_empty());
}

/// zip archives are opened (a root filesystem in a zip is assessed like any other), and a
/// member named with `..` is refused as path traversal.
#[test]
fn zip_members_are_read_and_traversal_refused() {
    use std::io::Write;
    let make = |members: &[(&str, &[u8])]| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in members {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    let root = pwhash::sha512_crypt::hash_with("$6$saltsalt$", "admin").unwrap();
    let shadow = format!("root:{root}:19000:0:99999:7:::\n");
    let good = make(&[
        ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
        ("etc/shadow", shadow.as_bytes()),
        ("bin/sh", b"#!/bin/false\n"),
    ]);
    let r = assess::assess("fw.zip", &good, &assess::Options::default()).unwrap();
    assert!(r.coverage.root_filesystem_opened, "{:?}", r.coverage);
    assert_eq!(r.coverage.opened[0].format, "zip");
    assert!(r.findings.iter().any(|f| f.rule == "default-password"));
    let bad = make(&[("etc/motd", b"hi\n"), ("../../tmp/evil", b"x")]);
    let err = assess::assess("bad.zip", &bad, &assess::Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("path traversal") && err.contains("../../tmp/evil"),
        "{err}"
    );
}

/// ext2 and ext4 images made by e2fsprogs (`mke2fs -d`) are opened: a root filesystem in
/// them is assessed like any other, evidence pointing into the ext filesystem.
#[test]
fn ext_filesystems_from_mke2fs_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let hash = pwhash::sha512_crypt::hash_with("$6$saltsalt$", "admin").unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(
        root.join("etc/shadow"),
        format!("root:{hash}:19000:0:99999:7:::\n"),
    )
    .unwrap();
    std::fs::write(root.join("bin/sh"), "#!/bin/false\n").unwrap();
    std::os::unix::fs::symlink("sh", root.join("bin/ash")).unwrap();
    for kind in ["ext2", "ext4"] {
        let img = dir.path().join(format!("{kind}.img"));
        let st = std::process::Command::new("mke2fs")
            .args(["-q", "-F", "-t", kind, "-d"])
            .arg(&root)
            .arg(&img)
            .arg("4M")
            .env("E2FSPROGS_FAKE_TIME", "1700000000")
            .status()
            .expect("mke2fs (e2fsprogs)");
        assert!(st.success());
        let bytes = std::fs::read(&img).unwrap();
        let r =
            assess::assess(&format!("{kind}.img"), &bytes, &assess::Options::default()).unwrap();
        assert_eq!(r.coverage.opened[0].format, "ext2/3/4", "{kind}");
        assert!(
            r.coverage.root_filesystem_opened,
            "{kind}: {:?}",
            r.coverage
        );
        let f = r
            .findings
            .iter()
            .find(|f| f.rule == "default-password")
            .unwrap_or_else(|| panic!("{kind}: {:?}", r.findings));
        assert_eq!(f.evidence[0].path, "/etc/shadow");
        let u = assess::unpack::unpack(&bytes, assess::Limits::default(), &|_| {}).unwrap();
        let link = u.tree.get("/bin/ash").next().expect("the symlink");
        assert_eq!(link.kind, assess::tree::EntryKind::Symlink("sh".into()));
    }
}

/// cramfs made by util-linux's mkfs.cramfs: every file comes out byte for byte (a file of
/// several 4 KiB blocks, an empty file, empty directories, nested directories), links stay
/// links, and the root filesystem in it is assessed.
#[test]
fn cramfs_from_mkfs_cramfs_matches_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    for d in ["etc", "bin", "usr/share/doc/a", "empty1", "empty2"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let hash = pwhash::sha512_crypt::hash_with("$6$saltsalt$", "admin").unwrap();
    let big: Vec<u8> = (0u32..20_000)
        .flat_map(|i| (i * 7919).to_le_bytes())
        .collect();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n".to_vec()),
        (
            "etc/shadow",
            format!("root:{hash}:19000:0:99999:7:::\n").into_bytes(),
        ),
        ("bin/sh", b"#!/bin/false\n".to_vec()),
        ("usr/share/doc/a/big.bin", big),
        ("usr/share/doc/a/empty", Vec::new()),
    ];
    for (p, body) in &files {
        std::fs::write(root.join(p), body).unwrap();
    }
    std::os::unix::fs::symlink("sh", root.join("bin/ash")).unwrap();
    let img = dir.path().join("fs.cramfs");
    let st = std::process::Command::new("mkfs.cramfs")
        .arg(&root)
        .arg(&img)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("mkfs.cramfs (util-linux)");
    assert!(st.success());
    let bytes = std::fs::read(&img).unwrap();
    let u = assess::unpack::unpack(&bytes, assess::Limits::default(), &|_| {}).unwrap();
    assert_eq!(u.layers[0].format, assess::unpack::Format::Cramfs);
    for (p, body) in &files {
        let e = u
            .tree
            .get(&format!("/{p}"))
            .next()
            .unwrap_or_else(|| panic!("/{p}"));
        assert!(e.data().unwrap() == body.as_slice(), "/{p} differs");
    }
    assert_eq!(u.tree.files().count(), files.len());
    let link = u.tree.get("/bin/ash").next().unwrap();
    assert_eq!(link.kind, assess::tree::EntryKind::Symlink("sh".into()));
    for d in ["/empty1", "/empty2", "/usr/share/doc"] {
        assert_eq!(
            u.tree.get(d).next().unwrap().kind,
            assess::tree::EntryKind::Dir,
            "{d}"
        );
    }
    let r = assess::assess("fs.cramfs", &bytes, &assess::Options::default()).unwrap();
    assert!(r.coverage.root_filesystem_opened);
    assert!(r.findings.iter().any(|f| f.rule == "default-password"));
    // A truncated image names the file whose blocks are missing, never panics.
    let cut = &bytes[..bytes.len() * 2 / 3];
    let mut cut = cut.to_vec();
    let len = cut.len() as u32;
    cut[4..8].copy_from_slice(&len.to_le_bytes());
    let err = assess::assess("cut.cramfs", &cut, &assess::Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("cramfs"), "{err}");
}
