//! What nftables counted for each device: packets its rules let through and packets they
//! blocked, read from the per-rule counters every [`COUNTER_PERIOD_S`] seconds.
//!
//! The kernel's counters start again at zero whenever a device's rules are replaced (a level
//! change, an owner exception); the totals here carry on across such resets, so "blocked in
//! the last 24 hours" means what it says. They live in memory: after a restart they count
//! from the restart.

use super::*;
use std::collections::VecDeque;

/// How often the gateway reads the counters (one listing of its table for all devices).
pub const COUNTER_PERIOD_S: u64 = 30;
/// How far back the blocked count of [`TrafficStatus::blocked_24h`] reaches.
const WINDOW_NS: u64 = 24 * 3600 * NS;
/// The totals are sampled once an hour for that window.
const SAMPLE_NS: u64 = 3600 * NS;

/// One device's traffic, as its rules counted it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficStatus {
    /// When the counters were read (ns since the epoch).
    pub read_ns: u64,
    /// Packets its rules let through since the gateway started.
    pub allowed_packets: u64,
    /// Packets its rules blocked since the gateway started.
    pub blocked_packets: u64,
    /// Packets blocked in about the last 24 hours (to the hour; since the gateway started,
    /// if that is later).
    pub blocked_24h: u64,
    /// The counters of its rules as nftables holds them now (since the rules were last
    /// replaced), by chain and rule.
    pub rules: Vec<enforce::RuleCounter>,
}

/// Running totals for one device.
#[derive(Default)]
pub(super) struct Totals {
    /// Last kernel reading per (chain, rule): to tell growth from a reset.
    last: BTreeMap<(String, String), u64>,
    allowed: u64,
    blocked: u64,
    /// (time, blocked total) once an hour, oldest first, spanning at most the window.
    samples: VecDeque<(u64, u64)>,
    status: TrafficStatus,
}

impl Totals {
    /// Fold in one reading of the device's rule counters.
    fn update(&mut self, rules: Vec<enforce::RuleCounter>, now_ns: u64) {
        // The hourly sample holds the total before this reading.
        if self
            .samples
            .back()
            .is_none_or(|(t, _)| now_ns.saturating_sub(*t) >= SAMPLE_NS)
        {
            self.samples.push_back((now_ns, self.blocked));
        }
        while self.samples.len() > 1
            && self
                .samples
                .front()
                .is_some_and(|(t, _)| now_ns.saturating_sub(*t) > WINDOW_NS)
        {
            self.samples.pop_front();
        }
        let mut seen = BTreeMap::new();
        for c in &rules {
            let key = (c.chain.clone(), c.rule.clone());
            let before = self.last.get(&key).copied().unwrap_or(0);
            // Smaller than before: the rule was replaced and counts from zero again.
            let grew = if c.packets >= before {
                c.packets - before
            } else {
                c.packets
            };
            if c.dropped {
                self.blocked = self.blocked.saturating_add(grew);
            } else {
                self.allowed = self.allowed.saturating_add(grew);
            }
            seen.insert(key, c.packets);
        }
        self.last = seen;
        let base = self.samples.front().map(|s| s.1).unwrap_or(0);
        self.status = TrafficStatus {
            read_ns: now_ns,
            allowed_packets: self.allowed,
            blocked_packets: self.blocked,
            blocked_24h: self.blocked - base,
            rules,
        };
    }
}

impl Gateway {
    /// Read every device's rule counters now (the tick does it every [`COUNTER_PERIOD_S`]
    /// seconds). Nothing to read when the gateway does not enforce; a listing nft refuses
    /// is a warning and leaves the last figures.
    pub fn read_counters(&mut self, now_ns: u64) {
        self.counters_read_ns = now_ns;
        let Some(e) = self.enforcer.as_ref() else {
            return;
        };
        let all = match e.all_counters() {
            Ok(a) => a,
            Err(err) => {
                self.warnings
                    .push(format!("could not read the rule counters: {err}"));
                return;
            }
        };
        self.traffic.retain(|m, _| all.contains_key(m));
        for (mac, rules) in all {
            let t = self.traffic.entry(mac).or_default();
            let before = (t.status.allowed_packets, t.status.blocked_packets);
            t.update(rules, now_ns);
            if before != (t.status.allowed_packets, t.status.blocked_packets) {
                self.status_dirty = true;
            }
        }
    }

    /// Read the counters when [`COUNTER_PERIOD_S`] has passed since the last reading.
    pub(super) fn counters_due(&mut self, now_ns: u64) {
        if now_ns.saturating_sub(self.counters_read_ns) >= COUNTER_PERIOD_S * NS {
            self.read_counters(now_ns);
        }
    }

    /// A device's traffic as last read.
    pub fn traffic(&self, mac: &Mac) -> Option<&TrafficStatus> {
        self.traffic.get(mac).map(|t| &t.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(rule: &str, packets: u64, dropped: bool) -> enforce::RuleCounter {
        enforce::RuleCounter {
            chain: "d020000000001_out".into(),
            rule: rule.into(),
            packets,
            bytes: packets * 60,
            dropped,
        }
    }

    #[test]
    fn totals_carry_on_across_rule_replacement_and_the_window_slides() {
        let mut t = Totals::default();
        let h = 3600 * NS;
        t.update(vec![counter("default-deny:default", 5, true)], h);
        assert_eq!(t.status.blocked_24h, 5);
        t.update(
            vec![
                counter("default-deny:default", 12, true),
                counter("default:https-out#4", 40, false),
            ],
            2 * h,
        );
        assert_eq!(
            (t.status.blocked_packets, t.status.allowed_packets),
            (12, 40)
        );
        // The rules were replaced (a level change): the kernel counts from zero again.
        t.update(vec![counter("default-deny:default", 3, true)], 3 * h);
        assert_eq!(t.status.blocked_packets, 15);
        assert_eq!(t.status.blocked_24h, 15);
        // A day later, what was blocked in the first hours has left the window.
        t.update(vec![counter("default-deny:default", 3, true)], 27 * h);
        assert_eq!(t.status.blocked_24h, 3, "{:?}", t.samples);
        t.update(vec![counter("default-deny:default", 4, true)], 28 * h);
        assert_eq!(t.status.blocked_packets, 16);
        assert_eq!(t.status.blocked_24h, 1, "{:?}", t.samples);
        assert!(t.samples.len() <= 26);
    }
}
