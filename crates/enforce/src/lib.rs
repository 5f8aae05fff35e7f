//! # enforce — policy IR to nftables
//!
//! Owns: turning [`mud::DevicePolicy`] and the containment levels (declared, default, update-only, isolated,
//! trusted; see [`Level`]) into
//! nftables commands in our own table (`inet trustgate`), applying them as single atomic
//! `nft -j -f` transactions, adding/removing/replacing one device without touching the others,
//! filling `dst-dnsname` sets from learned DNS answers, the owner's exceptions (one more
//! destination for one device, [`Exception`]), reading the table back and diffing it
//! against what was intended, and per-rule counters.
//!
//! Must not: parse packets (that is `monitor`), fetch or parse MUD files (that is `mud`), or
//! touch any table but its own.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod apply;
pub mod compile;
pub mod exception;
pub mod netlink;
pub mod nft;

pub use apply::{
    BatchFormat, Drift, EnforceError, Enforcer, LearnedName, NftRunner, RuleCounter, Summary,
    MAX_DNS_TTL_S,
};
pub use compile::{level_for, nft_id, Compiler, Device, Level, Site};
pub use exception::{Destination, Exception, ExceptionError, Transport};
pub use mud::Mac;
