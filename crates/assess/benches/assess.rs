//! Benchmark: our complete assessment against extraction alone by binwalk 3.1.0, Debian's
//! binwalk 2 and unsquashfs, on the same corpus images in the same run.
//!
//!   cargo bench -p assess            (builds the corpus with --large on first use)
//!
//! Anchors are found on PATH (`binwalk3` or /tmp/binwalk3/bin/binwalk for binwalk 3.1.0,
//! installed with `cargo install binwalk --version 3.1.0`; `binwalk` from Debian's package
//! for 2.x). binwalk 3 extracts squashfs with the external `sasquatch`; where that is missing
//! a shim runs Debian's `unsquashfs` in its place, so the anchor still does the extraction.
//! Ours is shown on one thread and on all cores; unsquashfs with one processor (-p 1) and
//! with all; binwalk 3 (default threads) with -e (one level) and -e -M (recursive, like ours);
//! binwalk 2 with -e. (binwalk 3.1.0 with `-t 1` analysed nothing on the large image, so
//! it is not used.)

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 3;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_cmd(mut make: impl FnMut() -> Command, out_dir: &Path) -> Option<Duration> {
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let _ = std::fs::remove_dir_all(out_dir);
        std::fs::create_dir_all(out_dir).unwrap();
        let mut cmd = make();
        let t = Instant::now();
        let st = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        let el = t.elapsed();
        if !st.success() {
            return None;
        }
        times.push(el);
    }
    let _ = std::fs::remove_dir_all(out_dir);
    Some(median(times))
}

fn find_binwalk3() -> Option<PathBuf> {
    for c in ["/tmp/binwalk3/bin/binwalk", "/root/.cargo/bin/binwalk"] {
        let p = PathBuf::from(c);
        if p.exists() {
            return Some(p);
        }
    }
    which("binwalk3")
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn files_in(dir: &Path) -> usize {
    fn walk(d: &Path, n: &mut usize) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let ft = e.file_type().unwrap();
                if ft.is_dir() {
                    walk(&e.path(), n)
                } else if ft.is_file() {
                    *n += 1
                }
            }
        }
    }
    let mut n = 0;
    walk(dir, &mut n);
    n
}

fn main() {
    // Build (or reuse) the corpus including the large image.
    let dir = common::corpus();
    if !dir.join("large.squashfs").exists() {
        let script = common::workspace().join("scripts/build-firmware-corpus");
        let st = Command::new("flock")
            .arg(dir.with_extension("lock"))
            .arg(&script)
            .arg(&dir)
            .arg("--large")
            .status()
            .unwrap();
        assert!(st.success(), "building large.squashfs failed");
    }
    let scratch = tempfile::tempdir().unwrap();
    // sasquatch shim for binwalk 3 when the real one is absent.
    let shim_dir = scratch.path().join("shim");
    std::fs::create_dir_all(&shim_dir).unwrap();
    let mut path_env = std::env::var_os("PATH").unwrap_or_default();
    let shimmed = which("sasquatch").is_none();
    if shimmed {
        let shim = shim_dir.join("sasquatch");
        std::fs::write(&shim, "#!/bin/sh\nexec unsquashfs \"$@\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        path_env = std::env::join_paths(
            std::iter::once(shim_dir.clone()).chain(std::env::split_paths(&path_env)),
        )
        .unwrap();
    }
    let bw3 = find_binwalk3();
    let bw2 = which("binwalk");
    let out = scratch.path().join("out");
    let options = assess::Options {
        as_of: "2025-06-01".into(),
        ..assess::Options::default()
    };
    let one_core = assess::Options {
        threads: 1,
        ..options.clone()
    };

    println!(
        "\n{:<18} {:>6} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "image",
        "MB",
        "ours 1t",
        "MB/s 1t",
        "ours",
        "unsq -p1",
        "unsq",
        "bw3 -e",
        "bw3 -Me",
        "bw2 -e"
    );
    for name in [
        "clean.squashfs",
        "clean-flash.bin",
        "clean.tar.xz",
        "large.squashfs",
    ] {
        let image = dir.join(name);
        let bytes = std::fs::read(&image).unwrap();
        let mb = bytes.len() as f64 / 1e6;
        let time_ours = |o: &assess::Options| {
            let mut times = Vec::new();
            let mut report = None;
            for _ in 0..RUNS {
                let t = Instant::now();
                let r = assess::assess(name, &bytes, o).expect("assess");
                times.push(t.elapsed());
                report = Some(r);
            }
            (median(times), report.unwrap())
        };
        let (ours1, _) = time_ours(&one_core);
        let (ours, report) = time_ours(&options);
        let is_sqfs = name.ends_with(".squashfs");
        let unsq1 = is_sqfs
            .then(|| {
                time_cmd(
                    || {
                        let mut c = Command::new("unsquashfs");
                        c.args(["-p", "1", "-f", "-no-xattrs", "-d"])
                            .arg(out.join("r"))
                            .arg(&image);
                        c
                    },
                    &out,
                )
            })
            .flatten();
        let unsq = is_sqfs
            .then(|| {
                time_cmd(
                    || {
                        let mut c = Command::new("unsquashfs");
                        c.args(["-f", "-no-xattrs", "-d"])
                            .arg(out.join("r"))
                            .arg(&image);
                        c
                    },
                    &out,
                )
            })
            .flatten();
        // -e extracts what the image holds; -M also opens what was extracted (nested
        // archives, compressed files), which is what our unpacker does.
        let bw3_run = |recursive: bool| {
            bw3.as_ref().and_then(|b| {
                time_cmd(
                    || {
                        let mut c = Command::new(b);
                        c.env("PATH", &path_env)
                            .current_dir(&out)
                            .arg("-e")
                            .arg("-q");
                        if recursive {
                            c.arg("-M");
                        }
                        c.arg("-C").arg(out.join("x")).arg(&image);
                        c
                    },
                    &out,
                )
            })
        };
        let bw3_1 = bw3_run(false);
        let bw3_n = bw3_run(true);
        let bw2_t = bw2.as_ref().and_then(|b| {
            time_cmd(
                || {
                    let mut c = Command::new(b);
                    c.current_dir(&out)
                        .args(["-e", "-q", "--run-as=root", "-C"])
                        .arg(out.join("x"))
                        .arg(&image);
                    c
                },
                &out,
            )
        });
        let f = |d: Option<Duration>| {
            d.map(|d| format!("{:.3}s", d.as_secs_f64()))
                .unwrap_or("n/a".into())
        };
        println!(
            "{:<18} {:>6.1} {:>9} {:>8.1} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            name,
            mb,
            f(Some(ours1)),
            mb / ours1.as_secs_f64(),
            f(Some(ours)),
            f(unsq1),
            f(unsq),
            f(bw3_1),
            f(bw3_n),
            f(bw2_t)
        );
        eprintln!(
            "  {name}: ours extracted {} files / {:.1} MB, {} findings",
            report.extracted.files,
            report.extracted.bytes as f64 / 1e6,
            report.findings.len()
        );
    }
    // How much binwalk 3 actually extracted from the large image (sanity for the anchor).
    if let Some(b) = &bw3 {
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let _ = Command::new(b)
            .env("PATH", &path_env)
            .current_dir(&out)
            .args(["-e", "-M", "-q", "-C"])
            .arg(out.join("x"))
            .arg(dir.join("large.squashfs"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        eprintln!(
            "  binwalk 3 extracted {} files from large.squashfs",
            files_in(&out.join("x"))
        );
    }
    println!(
        "\nmedian of {RUNS} runs; ours = unpack + every check + components/OSV (1t: one thread; \
         otherwise {} threads); anchors = extraction only{}",
        options.threads,
        if shimmed {
            "; binwalk 3's sasquatch = shim running unsquashfs"
        } else {
            ""
        }
    );
}
