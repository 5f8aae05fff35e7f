#!/usr/bin/env bash
# Regenerates the seed inputs of every fuzz target from the project's own generators and data,
# then minimizes them into fuzz/corpus/<target>/ (the committed corpora).
#
#   fuzz/seed.sh [--new-ca]      (SEED_ONLY=1: write the seeds to target/fuzz/seeds, no merge)
#
# 1. `cargo run --example gen_seeds` (fuzz/examples/gen_seeds.rs): MUD, labels, statements,
#    registry requests, bundles, checkpoints, tiles, scenario captures, a gateway journal and
#    configuration. `--new-ca` first makes a new throwaway MUD CA (fuzz/data/mud-*.pem).
# 2. Small firmware images of one tiny tree, made with the same tools the assess tests use
#    (tar, cpio, gzip, xz, zstd, bzip2, lz4, zip, mksquashfs, mkfs.cramfs, genromfs,
#    mkfs.jffs2, mkfs.fat + mcopy, mke2fs, mkimage); a missing tool only skips its image.
# 3. Each target's libFuzzer `-merge=1` into an emptied fuzz/corpus/<target>/: only inputs that
#    add coverage are kept. Needs the targets built (scripts/fuzz builds them).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
fuzz_target_dir=${FUZZ_TARGET_DIR:-$root/target/fuzz}
bin="$fuzz_target_dir/x86_64-unknown-linux-gnu/release"
seeds="$fuzz_target_dir/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"

# The seed generator is a normal (uninstrumented) build in its own target directory.
nice -n 15 cargo run -q --example gen_seeds --target-dir "$fuzz_target_dir/gen" -- "$seeds" "$@"

# Firmware images.
tree=$(mktemp -d)
img=$(mktemp -d)
trap 'rm -rf "$tree" "$img"' EXIT
mkdir -p "$tree/etc/init.d" "$tree/bin" "$tree/usr/lib" "$tree/www/cgi-bin"
printf 'root:$1$fuzzsalt$abcdefghijklmnopqrstuv:0:0:root:/root:/bin/sh\n' > "$tree/etc/passwd"
printf 'root:admin:19000:0:99999:7:::\n' > "$tree/etc/shadow"
printf '::sysinit:/etc/init.d/rcS\n::respawn:/usr/sbin/telnetd -l /bin/sh\n' > "$tree/etc/inittab"
printf '#!/bin/sh\necho "root:1234" | chpasswd\n/usr/sbin/dropbear -p 22\n' > "$tree/etc/init.d/rcS"
printf 'NAME="Fuzz OS"\nVERSION_ID=1.0\n' > "$tree/usr/lib/os-release"
printf 'BusyBox v1.36.1 (2024-01-01 00:00:00 UTC) multi-call binary\n' > "$tree/bin/busybox"
printf '#!/bin/sh\n[ "$PASS" = "admin123" ] && echo ok\n' > "$tree/www/cgi-bin/login.cgi"
ln -s busybox "$tree/bin/sh"
put() { mkdir -p "$seeds/assess_unpack" "$seeds/assess_image"; for t in assess_unpack assess_image; do cp "$1" "$seeds/$t/$(basename "$1")"; done; }
try() { "$@" >/dev/null 2>&1 || echo "seed.sh: skipped: $*" >&2; }
(cd "$tree" && tar -cf "$img/tree.tar" .) && put "$img/tree.tar"
for z in gzip xz bzip2 zstd lz4; do
  command -v $z >/dev/null && $z -c "$img/tree.tar" > "$img/tree.tar.$z" 2>/dev/null && put "$img/tree.tar.$z"
done
command -v lzma >/dev/null && lzma -c "$img/tree.tar" > "$img/tree.tar.lzma" && put "$img/tree.tar.lzma"
(cd "$tree" && find . | cpio -o -H newc 2>/dev/null | gzip -c) > "$img/tree.cpio.gz" && put "$img/tree.cpio.gz"
(cd "$tree" && try zip -qry "$img/tree.zip" .) && [ -f "$img/tree.zip" ] && put "$img/tree.zip"
for c in gzip xz lzo lz4 zstd; do
  try mksquashfs "$tree" "$img/tree-$c.squashfs" -comp $c -noappend -all-root -quiet \
    && [ -f "$img/tree-$c.squashfs" ] && put "$img/tree-$c.squashfs"
done
try mkfs.cramfs "$tree" "$img/tree.cramfs" && [ -f "$img/tree.cramfs" ] && put "$img/tree.cramfs"
try genromfs -d "$tree" -f "$img/tree.romfs" && [ -f "$img/tree.romfs" ] && put "$img/tree.romfs"
try mkfs.jffs2 -r "$tree" -o "$img/tree.jffs2" -e 0x10000 --pad=0x20000 && [ -f "$img/tree.jffs2" ] && put "$img/tree.jffs2"
if command -v mkfs.fat >/dev/null && command -v mcopy >/dev/null; then
  try dd if=/dev/zero of="$img/tree.fat" bs=1k count=200
  try mkfs.fat "$img/tree.fat" && try mcopy -s -i "$img/tree.fat" "$tree/etc" "$tree/bin" :: && put "$img/tree.fat"
fi
if command -v mke2fs >/dev/null; then
  try mke2fs -q -t ext2 -b 1024 -d "$tree" "$img/tree.ext2" 256 && put "$img/tree.ext2"
fi
if command -v mkimage >/dev/null && [ -f "$img/tree-gzip.squashfs" ]; then
  try mkimage -A arm -O linux -T filesystem -C none -n fuzz -d "$img/tree-gzip.squashfs" "$img/tree.uimage" \
    && [ -f "$img/tree.uimage" ] && put "$img/tree.uimage"
fi

# Minimize into the committed corpora (SEED_ONLY=1: stop after writing the seeds).
[ "${SEED_ONLY:-}" = 1 ] && { echo "seeds in $seeds"; exit 0; }
for dir in "$seeds"/*/; do
  t=$(basename "$dir")
  [ -x "$bin/$t" ] || { echo "seed.sh: $t not built (run scripts/fuzz first)" >&2; exit 1; }
  rm -rf "corpus/$t"
  mkdir -p "corpus/$t"
  nice -n 15 "$bin/$t" -merge=1 -timeout=30 -rss_limit_mb=4096 "corpus/$t" "$dir" >/dev/null 2>&1 \
    || { echo "seed.sh: merging $t failed" >&2; exit 1; }
  echo "$t: $(ls "corpus/$t" | wc -l) inputs, $(du -sk "corpus/$t" | cut -f1) KiB"
done
