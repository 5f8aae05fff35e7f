//! Damaged images never crash the unpacker: every truncation point and random byte flips of
//! small real containers give Ok or a clear error (the process stays up).

use std::io::Write;

use assess::Limits;
use proptest::prelude::*;

fn small_squashfs() -> Vec<u8> {
    use backhand::{FilesystemWriter, NodeHeader};
    let big = vec![b'z'; 300_000];
    let mut w = FilesystemWriter::default();
    let h = NodeHeader::new(0o644, 0, 0, 0);
    w.push_dir("etc", NodeHeader::new(0o755, 0, 0, 0)).unwrap();
    w.push_file(&b"root:*:19000:0:99999:7:::\n"[..], "etc/shadow", h)
        .unwrap();
    w.push_file(&big[..], "big", h).unwrap();
    w.push_symlink("/tmp/x", "link", h).unwrap();
    let mut c = std::io::Cursor::new(Vec::new());
    w.write(&mut c).unwrap();
    c.into_inner()
}

fn small_tar_gz() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("etc/inittab", &b"::respawn:/bin/sh\n"[..]),
        ("bin/x", &[7u8; 5000][..]),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&b.into_inner().unwrap()).unwrap();
    e.finish().unwrap()
}

fn no_panic(data: &[u8]) {
    let limits = Limits {
        max_total_bytes: 64 << 20,
        ..Limits::default()
    };
    let r = std::panic::catch_unwind(|| assess::unpack::unpack(data, limits, &|_| {}));
    assert!(r.is_ok(), "unpacker panicked on {} bytes", data.len());
    if let Ok(Err(e)) = r {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn every_truncation_of_a_squashfs() {
    let img = small_squashfs();
    for cut in (0..img.len()).step_by(7) {
        no_panic(&img[..cut]);
    }
}

#[test]
fn every_truncation_of_a_tar_gz() {
    let img = small_tar_gz();
    for cut in 0..img.len() {
        no_panic(&img[..cut]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn flipped_squashfs_bytes(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut img = small_squashfs();
        let n = img.len();
        for (pos, v) in flips { img[pos % n] ^= v | 1; }
        no_panic(&img);
    }

    #[test]
    fn flipped_tar_gz_bytes(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut img = small_tar_gz();
        let n = img.len();
        for (pos, v) in flips { img[pos % n] ^= v | 1; }
        no_panic(&img);
    }

    #[test]
    fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        no_panic(&data);
    }
}
