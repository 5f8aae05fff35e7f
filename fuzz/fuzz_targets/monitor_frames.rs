//! Frames from the LAN (any device may send anything) through `monitor::Monitor::process`, the
//! one entry point for Ethernet, VLAN, IPv4/IPv6 (fragments too), TCP, UDP, DHCPv4/v6, DNS, mDNS,
//! LLDP, router advertisements; a sequence of frames, so state (pending DNS queries, learned
//! DHCP servers, flows, windows) carries from one to the next.
//!
//! Input: `[mode][frames in fuzz::split_frames format]`. Mode bit 0: live configuration (the
//! gateway's MAC and resolver known); mode ≥ 128: the frames are of link type
//! `fuzz::LINKS[mode % 10]` through `process_link` instead. Every frame is also decoded both
//! ways (`packet::decode`, with its fast path, and `packet::decode_lax`), which must agree.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut m = fuzz::monitor(mode & 1 == 1);
    let mut out = Vec::new();
    let link = (mode >= 128).then(|| fuzz::LINKS[mode as usize % fuzz::LINKS.len()]);
    for (t, frame) in fuzz::split_frames(rest) {
        // Differential: the decoder's fast path gives what etherparse's lax slicing gives.
        assert_eq!(
            monitor::packet::decode(frame),
            monitor::packet::decode_lax(frame),
            "fast path and etherparse disagree on {frame:02x?}"
        );
        match link {
            None => m.process(t, frame, &mut out),
            Some(link) => m.process_link(t, link, frame, &mut out),
        }
    }
    // Everything emitted serializes (the gateway journals it; `monitor --json` prints it).
    for o in &out {
        let _ = serde_json::to_string(o).expect("an output serializes");
    }
    let _ = m.devices().count();
    let _ = m.lan_prefixes();
    let _ = m.stats();
});
