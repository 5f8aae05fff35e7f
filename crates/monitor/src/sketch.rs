//! Fixed-size sketches for per-device counting of traffic that must not create state.
//!
//! Hand-written rather than taken from a crate on purpose: the monitor's memory bound rests on
//! these being plain fixed arrays with no allocation per insert and no hidden growth (the
//! HyperLogLog crates on crates.io start with a growing sparse representation), and on the hash
//! being seeded deterministically so replays give the same answer on every run.

/// splitmix64 finaliser: a cheap, well-distributed 64-bit mix (Steele et al., 2014).
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// HyperLogLog distinct counter (Flajolet et al. 2007) with 2^8 registers: about 6.5 %
/// standard error, 256 bytes, whatever is inserted.
#[derive(Clone)]
pub(crate) struct HyperLogLog {
    registers: [u8; 256],
    /// Σ 2^-register and the number of zero registers, kept up to date on insert so that
    /// `estimate` is O(1) — detectors ask after every SYN.
    sum: f64,
    zeros: u16,
}

impl Default for HyperLogLog {
    fn default() -> Self {
        HyperLogLog {
            registers: [0; 256],
            sum: 256.0,
            zeros: 256,
        }
    }
}

impl HyperLogLog {
    #[inline]
    pub(crate) fn insert(&mut self, key: u64) {
        let h = mix64(key);
        let idx = (h >> 56) as usize;
        // The remaining 56 bits: rank = position of the first 1 bit, counting from 1.
        let rest = (h << 8) | 0x80;
        let rank = rest.leading_zeros() as u8 + 1;
        let old = self.registers[idx];
        if old < rank {
            self.registers[idx] = rank;
            self.sum += pow2_neg(rank) - pow2_neg(old);
            if old == 0 {
                self.zeros -= 1;
            }
        }
    }

    /// Estimated number of distinct keys inserted since the last clear.
    pub(crate) fn estimate(&self) -> f64 {
        let m = 256.0f64;
        let (sum, zeros) = (self.sum, self.zeros);
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        // Small-range correction: linear counting while registers are still empty.
        if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        }
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

#[inline]
fn pow2_neg(r: u8) -> f64 {
    f64::from_bits((1023u64 - r as u64) << 52)
}

/// Count-min sketch (Cormode and Muthukrishnan 2005), 4 rows of 128 saturating 16-bit
/// counters: 1 KiB. Estimates never undercount.
#[derive(Clone)]
pub(crate) struct CountMin {
    rows: [[u16; 128]; 4],
}

impl Default for CountMin {
    fn default() -> Self {
        CountMin {
            rows: [[0; 128]; 4],
        }
    }
}

impl CountMin {
    /// Add one and return the new estimate.
    #[inline]
    pub(crate) fn add(&mut self, key: u64) -> u16 {
        let h = mix64(key);
        let mut min = u16::MAX;
        for (i, row) in self.rows.iter_mut().enumerate() {
            let idx = ((h >> (i * 16)) & 127) as usize;
            row[idx] = row[idx].saturating_add(1);
            min = min.min(row[idx]);
        }
        min
    }

    #[inline]
    pub(crate) fn estimate(&self, key: u64) -> u16 {
        let h = mix64(key);
        let mut min = u16::MAX;
        for (i, row) in self.rows.iter().enumerate() {
            min = min.min(row[((h >> (i * 16)) & 127) as usize]);
        }
        min
    }

    pub(crate) fn clear(&mut self) {
        self.rows = [[0; 128]; 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperloglog_is_within_twenty_percent() {
        for n in [10u64, 100, 1000, 50_000] {
            let mut h = HyperLogLog::default();
            for k in 0..n {
                h.insert(k * 7919);
                h.insert(k * 7919); // duplicates do not count
            }
            let e = h.estimate();
            assert!((e - n as f64).abs() / n as f64 <= 0.2, "n={n} estimate={e}");
        }
    }

    #[test]
    fn incremental_sum_matches_a_recount() {
        let mut h = HyperLogLog::default();
        for k in 0..5000u64 {
            h.insert(k);
        }
        let recount: f64 = h.registers.iter().map(|&r| 1.0 / (1u64 << r) as f64).sum();
        assert!((recount - h.sum).abs() < 1e-9);
        assert_eq!(
            h.zeros as usize,
            h.registers.iter().filter(|&&r| r == 0).count()
        );
    }

    #[test]
    fn count_min_never_undercounts_and_separates_keys() {
        let mut c = CountMin::default();
        for _ in 0..50 {
            c.add(1);
        }
        for k in 100..400 {
            c.add(k);
        }
        assert!(c.estimate(1) >= 50);
        assert!(c.estimate(1) < 60, "{}", c.estimate(1));
        assert_eq!(CountMin::default().estimate(1), 0);
    }
}
