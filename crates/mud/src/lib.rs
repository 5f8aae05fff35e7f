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
#![deny(missing_docs)]

pub mod explain;
pub mod mac;
pub mod parse;
pub mod policy;
pub mod signature;

pub use mac::{Mac, ParseMacError};
pub use policy::*;

/// An instant as RFC 3339 text in UTC (`2026-03-01T12:00:00Z`, fractional seconds kept), for
/// certificate validity in signature results and errors, and for the monitor's event times.
/// Years RFC 3339 cannot write (before 0000, after 9999) come out as `<seconds> (Unix time)`
/// instead of failing.
///
/// The same rule as `label::rfc3339`: `mud` sits below `monitor` and `label` below `registry`,
/// and no crate sits below both.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.checked_to_offset(time::UtcOffset::UTC)
        .and_then(|utc| {
            utc.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{} (Unix time)", t.unix_timestamp()))
}
