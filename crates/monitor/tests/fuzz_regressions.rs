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
