//! A capture file (pcap or pcapng, either byte order; gzip-compressed too), as `monitor
//! --pcap` and `trustgate demo` read it, every frame into a monitor.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let mut m = fuzz::monitor(false);
    let mut out = Vec::new();
    let mut sink = |t: u64, link: monitor::Link, frame: &[u8]| {
        m.process_link(t, link, frame, &mut out);
        out.clear();
    };
    if data.starts_with(&[0x1f, 0x8b]) {
        // Only the file reader decompresses: write the bytes to a scratch file.
        let path = fuzz::scratch("capture.pcap.gz");
        std::fs::write(&path, data).unwrap();
        let _ = monitor::replay_file_links(&path, &mut sink);
    } else {
        let _ = monitor::capture::replay_reader_links(Path::new("fuzz.pcap"), data, &mut sink);
        let _ = monitor::capture::replay_reader(Path::new("fuzz.pcap"), data, |_, _| {});
    }
});
