//! squashfs 2.x, on the real samples in the shared folder (read in place): FACT's LZMA
//! images in both byte orders, and binwalk's big-endian vendor image (LZMA blocks behind a
//! properties header, inodes stored). Every inode the superblock counts is found, the files
//! are the ones another reader finds in the same test set's 7z, and damage is an error,
//! never a panic.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use assess::tree::EntryKind;
use assess::Limits;

fn sample(rel: &str) -> Vec<u8> {
    let p: PathBuf = common::workspace()
        .join("../shared/data/realworld/firmware")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every entry: path → (file bytes, or the symlink target, or nothing).
fn tree(image: &[u8]) -> BTreeMap<String, Option<Vec<u8>>> {
    let u = assess::unpack::unpack(image, Limits::default(), &|_| {}).unwrap();
    assert!(
        u.layers
            .iter()
            .any(|l| l.format.name().starts_with("squashfs")),
        "{:?}",
        u.layers
    );
    assert!(u.unopened.is_empty(), "{:?}", u.unopened);
    u.tree
        .entries
        .iter()
        .map(|e| {
            let v = match &e.kind {
                EntryKind::File(d) => Some(d.to_vec()),
                EntryKind::Symlink(t) => Some(t.as_bytes().to_vec()),
                _ => None,
            };
            (e.path.clone(), v)
        })
        .collect()
}

/// The superblock's `inodes` (bytes 4..8, in the magic's byte order).
fn inode_count(image: &[u8]) -> usize {
    let b: [u8; 4] = image[4..8].try_into().unwrap();
    if image.starts_with(b"hsqs") {
        u32::from_le_bytes(b) as usize
    } else {
        u32::from_be_bytes(b) as usize
    }
}

#[test]
fn lzma_squashfs2_in_both_byte_orders_holds_the_files_of_the_test_7z() {
    let le_image = sample("fact/squashFS/test/data/lzma_le.sqfs2");
    let be_image = sample("fact/squashFS/test/data/lzma_be.sqfs2");
    let le = tree(&le_image);
    let be = tree(&be_image);
    assert_eq!(le, be, "the two byte orders give the same tree");
    // Every inode but the root's is an entry.
    assert_eq!(le.len() + 1, inode_count(&le_image), "{le:#?}");
    // The same files as FACT's test.7z, read by the 7z reader.
    let z = assess::unpack::unpack(
        &sample("fact/sevenz/test/data/test.7z"),
        Limits::default(),
        &|_| {},
    )
    .unwrap();
    let mut from_7z: BTreeMap<String, Vec<u8>> = z
        .tree
        .files()
        .map(|e| (e.path.clone(), e.data().unwrap().to_vec()))
        .collect();
    assert_eq!(from_7z.len(), 3);
    let in_sqfs: BTreeMap<String, Vec<u8>> = le
        .iter()
        .filter_map(|(p, d)| Some((p.clone(), d.clone()?)))
        .collect();
    // The squashfs holds them at its root, the 7z under get_files_test/.
    from_7z = from_7z
        .into_iter()
        .map(|(p, d)| (p.trim_start_matches("/get_files_test").to_string(), d))
        .collect();
    assert_eq!(in_sqfs, from_7z);
}

#[test]
fn binwalk_big_endian_squashfs2_is_read_whole() {
    let image = sample("binwalk/squashfs_v2.bin");
    let t = tree(&image);
    assert_eq!(t.len() + 1, inode_count(&image));
    let files: Vec<(&String, &Vec<u8>)> = t
        .iter()
        .filter_map(|(p, d)| Some((p, d.as_ref()?)))
        .collect();
    assert!(files.len() > 100, "{} files", files.len());
    // Web pages, decoded whole: each .html file is one HTML document.
    let pages: Vec<_> = files.iter().filter(|(p, _)| p.ends_with(".html")).collect();
    assert!(pages.len() > 20, "{} pages", pages.len());
    for (p, d) in pages {
        let text = String::from_utf8_lossy(d).to_ascii_lowercase();
        assert!(
            text.trim_start().starts_with("<") && text.contains("</html>"),
            "{p}: {:?}",
            &text[..text.len().min(200)]
        );
    }
    let r = assess::assess(
        "squashfs_v2.bin",
        &image,
        &assess::Options {
            as_of: "2025-06-01".into(),
            ..assess::Options::default()
        },
    )
    .unwrap();
    assert!(r.coverage.root_filesystem_opened);
}

#[test]
fn damaged_squashfs2_is_an_error_never_a_panic() {
    for rel in [
        "fact/squashFS/test/data/lzma_le.sqfs2",
        "fact/squashFS/test/data/lzma_be.sqfs2",
    ] {
        let image = sample(rel);
        let used = u32::from_le_bytes(image[8..12].try_into().unwrap())
            .min(u32::from_be_bytes(image[8..12].try_into().unwrap())) as usize;
        for cut in 96..used {
            let r = std::panic::catch_unwind(|| {
                assess::unpack::unpack(&image[..cut], Limits::default(), &|_| {})
            });
            assert!(r.is_ok(), "{rel}: panicked cut at {cut}");
        }
        for at in 4..used {
            for flip in [0x01, 0x80, 0xff] {
                let mut broken = image.clone();
                broken[at] ^= flip;
                let r = std::panic::catch_unwind(|| {
                    assess::unpack::unpack(&broken, Limits::default(), &|_| {})
                });
                assert!(r.is_ok(), "{rel}: panicked with byte {at} ^ {flip:#x}");
            }
        }
    }
}
