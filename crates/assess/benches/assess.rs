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
//!
//! "ours" is the library call, in this process, on bytes already in memory; "ours CLI" is
//! `trustgate assess IMAGE --json` timed as a whole process like the anchors are (start-up,
//! reading the file, a cold heap, printing the report). It needs the release binary:
//! `cargo build --release -p trustgate` first, or the column says n/a.

#[path = "../tests/common/mod.rs"]
mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median wall time of a command, or None when it fails. Exit code 1 counts as success
/// only for `trustgate assess`, where it means "a mandatory provision failed".
fn time_cmd(make: impl FnMut() -> Command, out_dir: &Path) -> Option<Duration> {
    time_cmd_exit(make, out_dir, &[0])
}

fn time_cmd_exit(
    mut make: impl FnMut() -> Command,
    out_dir: &Path,
    ok_codes: &[i32],
) -> Option<Duration> {
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
        if !st.code().is_some_and(|c| ok_codes.contains(&c)) {
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

/// binwalk 3 extracting `image` into `out/x`, one level (`-e`) or recursively (`-e -M`).
fn binwalk3(b: &Path, path_env: &OsStr, out: &Path, recursive: bool, image: &Path) -> Command {
    let mut c = Command::new(b);
    c.env("PATH", path_env).current_dir(out).args(["-e", "-q"]);
    if recursive {
        c.arg("-M");
    }
    c.arg("-C").arg(out.join("x")).arg(image);
    c
}

/// How many files that extraction leaves (run once more, untimed, into a clean `out`).
fn binwalk3_files(b: &Path, path_env: &OsStr, out: &Path, recursive: bool, image: &Path) -> usize {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).unwrap();
    let _ = binwalk3(b, path_env, out, recursive, image)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    files_in(&out.join("x"))
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
    // The anchors write what they extract; on tmpfs that costs them the least and does not
    // move with the disk's write-back state (on disk, unsquashfs varied 2x between runs).
    let shm = Path::new("/dev/shm");
    let scratch = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
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
    let cli = common::workspace().join("target/release/trustgate");
    let cli = cli.exists().then_some(cli);
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
        "\n{:<18} {:>6} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "image",
        "MB",
        "ours 1t",
        "MB/s 1t",
        "ours",
        "ours CLI",
        "unsq -p1",
        "unsq",
        "bw3 -e",
        "bw3 -Me",
        "bw2 -e"
    );
    let mut goals = Vec::new();
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
        let ours_cli = cli.as_ref().and_then(|b| {
            time_cmd_exit(
                || {
                    let mut c = Command::new(b);
                    c.args(["assess", "--json", "--as-of", "2025-06-01"])
                        .arg(&image);
                    c
                },
                &out,
                &[0, 1],
            )
        });
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
            bw3.as_ref()
                .and_then(|b| time_cmd(|| binwalk3(b, &path_env, &out, recursive, &image), &out))
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
            "{:<18} {:>6.1} {:>9} {:>8.1} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            name,
            mb,
            f(Some(ours1)),
            mb / ours1.as_secs_f64(),
            f(Some(ours)),
            f(ours_cli),
            f(unsq1),
            f(unsq),
            f(bw3_1),
            f(bw3_n),
            f(bw2_t)
        );
        if let (Some(cli), Some(bw), Some(b)) = (ours_cli, bw3_1, &bw3) {
            // What one level of binwalk 3 extraction actually produced: on a flash dump it
            // stops at the uImage payload and never opens the filesystem inside, so it did
            // not do the work the comparison is about.
            let theirs = binwalk3_files(b, &path_env, &out, false, &image);
            let verdict = if cli < bw && ours < bw {
                "faster".to_string()
            } else if theirs * 2 < report.extracted.files {
                format!(
                    "not comparable: binwalk 3 -e extracted {theirs} files, ours {}; \
                     binwalk 3 -Me, which opens them, took {}",
                    report.extracted.files,
                    f(bw3_n)
                )
            } else {
                "NOT faster".to_string()
            };
            goals.push(format!(
                "{name}: ours CLI {:.3}s (in-process {:.3}s) vs binwalk 3 -e {:.3}s: {verdict}",
                cli.as_secs_f64(),
                ours.as_secs_f64(),
                bw.as_secs_f64(),
            ));
        }
        eprintln!(
            "  {name}: ours extracted {} files / {:.1} MB, {} findings",
            report.extracted.files,
            report.extracted.bytes as f64 / 1e6,
            report.findings.len()
        );
    }
    // How much binwalk 3 actually extracted from the large image (sanity for the anchor).
    if let Some(b) = &bw3 {
        eprintln!(
            "  binwalk 3 extracted {} files from large.squashfs",
            binwalk3_files(b, &path_env, &out, true, &dir.join("large.squashfs"))
        );
    }
    println!("\ngoal, our complete assessment faster than binwalk 3's extraction alone:");
    for g in &goals {
        println!("  {g}");
    }
    println!(
        "\nmedian of {RUNS} runs; ours = unpack + every check + components/OSV (1t: one thread; \
         otherwise {} threads; CLI: a whole process, all cores); anchors = extraction only, written to {}{}",
        options.threads,
        if shm.is_dir() { "tmpfs" } else { "disk" },
        if shimmed {
            "; binwalk 3's sasquatch = shim running unsquashfs"
        } else {
            ""
        }
    );
}
