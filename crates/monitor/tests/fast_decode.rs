//! The decoder's fast path (Ethernet, unfragmented IPv4 or IPv6 without extension headers,
//! TCP/UDP) gives exactly what `etherparse`'s lax slicing gives: on every Ethernet frame of
//! the real-world captures and of the generated scenarios, and on those frames cut short or
//! with bytes changed.

use monitor::packet::{decode, decode_lax};
use proptest::prelude::*;
use std::path::Path;

const REALWORLD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/realworld/pcap"
);

fn corpus() -> Vec<Vec<u8>> {
    let mut frames = vec![];
    let mut names: Vec<_> = std::fs::read_dir(REALWORLD)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    for path in names {
        let _ = monitor::replay_file(Path::new(&path), |_, f| frames.push(f.to_vec()));
    }
    let real = frames.len();
    assert!(real > 1000, "only {real} real frames");
    for name in scenarios::SCENARIOS
        .iter()
        .chain(scenarios::DIRECTION_SCENARIOS.iter())
    {
        let (_, built) = scenarios::build(name, 1).unwrap();
        frames.extend(built.iter().map(|(_, f)| f.to_vec()));
    }
    frames
}

#[test]
fn the_fast_path_agrees_with_etherparse_on_every_frame_of_the_corpus() {
    let frames = corpus();
    let mut fast = 0;
    for f in &frames {
        let (a, b) = (decode(f), decode_lax(f));
        assert_eq!(a, b, "frame {f:02x?}");
        fast += a.is_ok() as usize;
    }
    // Most of them take the fast path's kind of frame (and decode at all).
    assert!(fast * 2 > frames.len(), "{fast} of {}", frames.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    #[test]
    fn the_fast_path_agrees_on_damaged_frames(
        pick in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        whole in any::<bool>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        static FRAMES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
        let frames = FRAMES.get_or_init(corpus);
        let mut f = frames[pick.index(frames.len())].clone();
        // Header bytes matter most: flip within the first 80 bytes.
        for (at, v) in flips {
            let n = f.len().min(80);
            if n > 0 {
                f[at.index(n)] = v;
            }
        }
        let keep = if whole { f.len() } else { cut.index(f.len() + 1) };
        let f = &f[..keep];
        prop_assert_eq!(decode(f), decode_lax(f));
    }
}
