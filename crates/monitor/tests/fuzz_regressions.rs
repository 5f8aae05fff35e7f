//! Inputs the coverage-guided fuzzers (`scripts/fuzz`) found, each kept as a test.

use monitor::packet::{decode, decode_lax};
use monitor::{Config, Monitor, OuiTable};
use scenarios::{udp_frame, Host, GATEWAY};

/// monitor_frames, 2026-12-04: an IPv4 datagram carrying an authentication header (RFC 4302,
/// protocol 51). etherparse reads past it to the next header for IPv4 too; the fast path took
/// protocol 51 as the transport and kept the AH in the payload. Both must agree.
#[test]
fn ipv4_with_an_authentication_header_decodes_as_etherparse_does() {
    let mut f = vec![0xff; 6];
    f.extend([0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let udp = [0x00, 0x44, 0x00, 0x43, 0x00, 0x0c, 0x00, 0x00, 1, 2, 3, 4];
    // AH: next header UDP, length (1 + 2) * 4 = 12 bytes, reserved, SPI, sequence number.
    let ah = [17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
    let total = (20 + ah.len() + udp.len()) as u16;
    f.extend([
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0x40,
        0,
        64,
        51,
        0,
        0,
    ]);
    f.extend([192, 168, 1, 2, 255, 255, 255, 255]);
    f.extend(ah);
    f.extend(udp);
    let (fast, lax) = (decode(&f), decode_lax(&f));
    assert_eq!(fast, lax);
    let p = fast.unwrap();
    // The IPv4 header's protocol (AH), the ports and payload of the UDP after it.
    assert_eq!((p.proto, p.sport, p.dport), (51, 68, 67));
    assert_eq!(p.payload, &[1, 2, 3, 4]);
}

/// monitor_capture, 2026-12-04: packet times at the end of u64 (a pcapng timestamp can say
/// anything). Adding a second to "last promoted" overflowed; now every such sum saturates.
#[test]
fn packet_times_at_the_end_of_the_clock_do_not_overflow() {
    let mut m = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    let dev = Host::new([0x02, 0, 0, 0, 0, 9], [192, 168, 1, 9]);
    for t in [u64::MAX - 10, u64::MAX - 5, u64::MAX] {
        m.process(t, &udp_frame(dev, GATEWAY, 5000, 53, &[0; 12]), &mut out);
        m.process(t, &udp_frame(GATEWAY, dev, 53, 5000, &[0; 12]), &mut out);
    }
    assert!(m.stats().frames >= 6);
}

/// monitor_frames, 2026-12-04: a DHCPv6 Solicit whose IA_NA holds a vendor-specific option
/// shorter than its enterprise number. `dhcproto` subtracts 4 from the nested option's length
/// without checking (a panic with overflow checks, garbage without); such a message is now
/// refused before it reaches `dhcproto`, nested options included.
#[test]
fn a_dhcpv6_message_with_a_short_nested_option_is_refused_not_a_panic() {
    // Solicit (1), transaction id; IA_NA (3): IAID, T1, T2, then VendorOpts (17) of length 2.
    let mut dhcp = vec![1, 0, 0, 1];
    // (two bytes more inside the IA_NA: dhcproto reads the enterprise number past the option)
    let nested = [0u8, 17, 0, 2, 0xaa, 0xbb, 0xcc, 0xdd];
    let ia_len = (12 + nested.len()) as u16;
    dhcp.extend([0, 3, (ia_len >> 8) as u8, ia_len as u8]);
    dhcp.extend([0u8; 12]);
    dhcp.extend(nested);
    let f = dhcpv6_frame(&dhcp, 7);
    let mut m = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    m.process(1_767_225_600_000_000_000, &f, &mut out);
    assert_eq!(m.stats().ip_packets, 1);
    assert!(m.devices().count() <= 1);
}

/// monitor_frames, 2026-12-04, second run: a preference option (one byte, whatever its length
/// says, for `dhcproto`) declared empty, so `dhcproto` took the next option's first byte as its
/// value and read a status code out of step, with a length under its 2-byte code. Options of
/// a fixed size must now have exactly that size.
#[test]
fn a_dhcpv6_option_of_fixed_size_with_another_length_is_refused() {
    // Solicit; Preference (7) of length 0; then an option that is well formed where it
    // starts (code 0x1200, 3328 bytes) but, read one byte late, is a status code (13) of
    // length 0 with two bytes after it.
    let mut dhcp = vec![1, 0, 0, 1, 0, 7, 0, 0, 0x12, 0, 13, 0];
    dhcp.extend(vec![0u8; 3328]);
    let f = dhcpv6_frame(&dhcp, 8);
    let mut m = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    m.process(1_767_225_600_000_000_000, &f, &mut out);
    assert_eq!(m.stats().ip_packets, 1);
}

/// A DHCPv6 client message from `fe80::N` (MAC 02:00:00:00:00:N) to the servers' multicast
/// address, in one Ethernet frame.
fn dhcpv6_frame(dhcp: &[u8], n: u8) -> Vec<u8> {
    let udp_len = (8 + dhcp.len()) as u16;
    let mut f = vec![0x33, 0x33, 0, 1, 0, 2, 0x02, 0, 0, 0, 0, n, 0x86, 0xdd];
    f.extend([0x60, 0, 0, 0, (udp_len >> 8) as u8, udp_len as u8, 17, 1]);
    f.extend([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n]);
    f.extend([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
    f.extend([2, 34, 2, 35, (udp_len >> 8) as u8, udp_len as u8, 0, 0]);
    f.extend(dhcp);
    f
}
