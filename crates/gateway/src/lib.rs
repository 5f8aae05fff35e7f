//! # gateway — the daemon glue between `monitor` and `enforce`
//!
//! Owns: turning the monitor's outputs into enforcement — every device seen is contained at
//! its level (`declared` with a verified MUD file, `trusted` when the owner vouches for it,
//! else `default`), DNS answers a device
//! receives fill its `dst-dnsname` sets, and bot behaviour moves it to `isolated` for a TTL
//! (quarantine), with a dry-run mode and release by the owner. Every change of level is a line
//! in an append-only JSON journal, which is also how quarantines survive a restart. The DNS
//! hold (`dns_hold.rs`) answers the devices' queries through the gateway so each answer's
//! addresses are in the device's sets before the device has the answer.
//!
//! Must not: parse packets (that is `monitor`; the DNS hold reads only the DNS messages it
//! relays) or build nftables rules (that is `enforce`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod dns_hold;
mod gateway;
mod live;

pub use dns_hold::{DnsHoldConfig, DEFAULT_HOLD_PORT, MAX_PENDING, PENDING_TIMEOUT};
pub use gateway::{
    read_journal, recover_torn_tail, Action, By, Decision, DeviceStatus, Gateway, GatewayConfig,
    GatewayError, JournalEntry, LabelStatus, MudStatus, OwnerRequest, QuarantineStatus, StatusFile,
    TrafficStatus, COUNTER_PERIOD_S, DEFAULT_MAX_DEVICES, IDLE_EVICT_S, LOCK_FILE, MAX_EXCEPTIONS,
    MAX_NAME_CHARS, MAX_RELEASE_S, STATUS_FILE,
};
pub use live::{is_running, owner_request, run_live, RequestError};
