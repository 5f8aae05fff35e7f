//! A firmware image (from a vendor, or anyone asking for an assessment) through
//! `assess::unpack::unpack`: format detection and every container format it opens (squashfs,
//! cramfs, ext, JFFS2, UBI/UBIFS, YAFFS2, romfs, FAT, tar/cpio/zip, gzip/xz/lzma/bzip2/zstd/lz4,
//! uImage/TRX and other wrappers, raw scans), nested, under small limits.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = assess::Limits {
        max_total_bytes: 32 << 20,
        max_entries: 4096,
        max_depth: 4,
        max_ratio: 200,
        ratio_floor: 1 << 20,
    };
    let _ = assess::unpack::detect(data);
    if let Ok(u) = assess::unpack::unpack(data, limits, &|_| {}) {
        assert!(u.total_bytes <= limits.max_total_bytes, "over the byte limit");
    }
});
