//! The live loop: one AF_PACKET capture feeding the monitor, the gateway acting on its outputs,
//! timers (quarantine TTL, owner releases) run between frames.

use crate::gateway::{Gateway, GatewayConfig, GatewayError};
use monitor::capture::LiveCapture;
use monitor::{Event, Mac, Monitor, OuiTable};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Watch `iface` until `stop()` says so (checked at least every 200 ms). Each event is passed to
/// `on_event` (after the gateway acted on it), each warning to `on_warning`. Returns the number
/// of events.
pub fn run_live(
    iface: &str,
    mut monitor_cfg: monitor::Config,
    gw_cfg: GatewayConfig,
    mut stop: impl FnMut() -> bool,
    mut on_event: impl FnMut(&Event),
    mut on_warning: impl FnMut(&str),
) -> Result<u64, GatewayError> {
    // The gateway's own frames on the LAN are not a device's.
    if let Ok(text) = std::fs::read_to_string(format!("/sys/class/net/{iface}/address")) {
        if let Ok(mac) = text.trim().parse::<Mac>() {
            monitor_cfg.gateway_macs.push(mac);
        }
    }
    let mut capture = LiveCapture::open(iface, Duration::from_millis(200))?;
    let mut mon = Monitor::new(monitor_cfg, OuiTable::load_default());
    let mut gw = Gateway::new(gw_cfg)?;
    let mut out = Vec::new();
    let mut events = 0u64;
    let mut last_tick = Instant::now();
    let mut last_dns = Instant::now();
    loop {
        if stop() {
            return Ok(events);
        }
        if let Some((t, frame)) = capture.next_frame()? {
            mon.process(t, frame, &mut out);
            for o in out.drain(..) {
                gw.handle(&o, t)?;
                if let monitor::Output::Event(e) = &o {
                    events += 1;
                    on_event(e);
                }
            }
        }
        if last_dns.elapsed() >= Duration::from_millis(50) {
            gw.flush_dns();
            last_dns = Instant::now();
        }
        if last_tick.elapsed() >= Duration::from_millis(200) {
            for d in mon.devices() {
                gw.note_seen(&d.mac, d.last_seen_ns);
            }
            gw.tick(wall_ns())?;
            last_tick = Instant::now();
        }
        for w in gw.warnings.drain(..) {
            on_warning(&w);
        }
    }
}

/// Ask the running gateway whose state directory is `state_dir` to release `mac` (the owner's
/// decision). It acts within its next timer tick and records the release in its journal.
pub fn request_release(state_dir: &Path, mac: Mac) -> std::io::Result<()> {
    let dir = state_dir.join("release");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(mac.to_string().replace(':', "-")), b"")
}
