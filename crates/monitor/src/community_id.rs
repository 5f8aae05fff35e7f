//! Community ID flow hashing, version 1 (<https://github.com/corelight/community-id-spec>):
//! SHA-1 over seed, the ordered endpoint pair, protocol and ports, base64, prefixed "1:".
//! The same flow gets the same ID in Zeek, Suricata and here, whichever direction is seen.

use base64::Engine;
use sha1::{Digest, Sha1};
use std::net::IpAddr;

/// Community ID v1 with seed 0 for a TCP/UDP/other 5-tuple.
pub(crate) fn community_id(src: IpAddr, dst: IpAddr, proto: u8, sport: u16, dport: u16) -> String {
    community_id_seeded(0, src, dst, proto, sport, dport)
}

/// Community ID v1 with an explicit seed (the spec's `--seed`; both ends of a comparison
/// must use the same one).
pub(crate) fn community_id_seeded(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    sport: u16,
    dport: u16,
) -> String {
    let src_b = addr_bytes(src);
    let dst_b = addr_bytes(dst);
    // Spec "Ordering": the endpoint with the smaller address (then port) goes first.
    let (a, ap, b, bp) = if (src_b.as_slice(), sport) <= (dst_b.as_slice(), dport) {
        (&src_b, sport, &dst_b, dport)
    } else {
        (&dst_b, dport, &src_b, sport)
    };
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(a);
    h.update(b);
    h.update([proto, 0]);
    h.update(ap.to_be_bytes());
    h.update(bp.to_be_bytes());
    format!(
        "1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    )
}

fn addr_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vector_both_directions() {
        // The example in the community-id-spec README.
        let a: IpAddr = "128.232.110.120".parse().unwrap();
        let b: IpAddr = "66.35.250.204".parse().unwrap();
        assert_eq!(
            community_id(a, b, 6, 34855, 80),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_eq!(
            community_id(b, a, 6, 80, 34855),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_ne!(
            community_id(a, b, 17, 34855, 80),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
    }
}
