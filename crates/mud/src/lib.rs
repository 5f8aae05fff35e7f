//! # mud — RFC 8520 Manufacturer Usage Description files
//!
//! Owns: the MUD/ACL data model (RFC 8520, RFC 8519, JSON encoding per RFC 7951), parsing in
//! strict and lenient (draft-era names) modes with errors that name the JSON path and the rule
//! broken, detached CMS signature verification and signing, and the [`policy`] IR that
//! enforcement consumes.
//!
//! Must not: do I/O beyond reading the bytes it is given (no network, no files of its own
//! choosing), or know anything about nftables or packets.
#![forbid(unsafe_code)]

pub mod explain;
pub mod mac;
pub mod parse;
pub mod policy;
pub mod signature;

pub use mac::{Mac, ParseMacError};
pub use policy::*;
