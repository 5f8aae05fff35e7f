//! # monitor — packets in, device facts and events out
//!
//! Owns: decoding frames (`etherparse`; DHCPv4/v6 with `dhcproto`; DNS and mDNS with
//! `simple-dns`), device identity keyed by MAC, bounded flow state and per-device sketches, the
//! detectors (Mirai scanner, telnet/SSH brute force, SYN/UDP/ACK floods, DNS past the gateway's
//! resolver, DNS water torture, MUD non-conformance, sudden new destinations), and reading
//! frames from pcap/pcapng files or a live AF_PACKET socket — both feed the same
//! [`Monitor::process`], whose clock is the packets' own timestamps.
//!
//! Must not: touch nftables or any other enforcement. It *emits* events and DNS answers
//! ([`Output`]); the `gateway` crate decides what to apply through `enforce`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod capture;
mod community_id;
mod conformance;
mod event;
pub mod identity;
pub mod link;
pub mod monitor;
pub mod packet;
mod sketch;
mod windows;
mod words;

pub use capture::{replay_file, replay_file_links, CaptureError, LiveCapture, ReplayStats};
pub use event::{DnsAnswer, Event, EventKind, EvidencePacket, LanPrefix, Output};
pub use identity::{DeviceFacts, MudUrlOption, OuiTable};
pub use link::Link;
pub use monitor::{Config, Monitor, Stats, Thresholds};
pub use packet::Mac;
