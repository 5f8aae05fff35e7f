//! # manager — the MUD manager: a device's MUD URL → a verified MUD file and a verified label
//!
//! Owns: fetching MUD files and their signatures over HTTPS as RFC 8520 §13 asks ([`fetch`]),
//! deciding whether a signer may speak for a URL ([`trust`]: manufacturer anchors, the signer
//! naming the URL's host, first-seen signer pinning), caching both in the state directory and
//! refreshing them within `cache-validity`, and asking the configured label registry about
//! each URL's label, checking every answer against its proofs (`registry::answer`) and the
//! log's checkpoints against each other (consistency proofs) before it is used. Work runs on
//! its own thread (a tokio runtime) with a bounded queue and a bounded number of connections,
//! so it never blocks packet processing; results come back as [`Update`]s.
//!
//! Must not: choose containment levels or touch nftables (`gateway` and `enforce` do), parse
//! frames (`monitor`), or take any fetched byte's word before its signature and proofs verify.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cache;
pub mod fetch;
pub mod serve;
mod service;
pub mod trust;

pub use service::{
    FirmwareLabel, LabelInfo, LabelVerdict, Manager, ManagerConfig, MudVerdict, RefusalKind,
    RegistryConfig, Update, VerifiedMud,
};
