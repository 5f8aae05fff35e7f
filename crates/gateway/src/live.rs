//! The live loop: one AF_PACKET capture feeding the monitor, the gateway acting on its outputs,
//! timers (quarantine TTL, owner releases) run between frames.

use crate::gateway::{Gateway, GatewayConfig, GatewayError};
use monitor::capture::LiveCapture;
use monitor::{Event, Mac, Monitor, OuiTable};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TrySendError};
use std::sync::Arc;
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
    let mut capture = LiveCapture::open(iface, Duration::from_millis(50))?;
    let mut mon = Monitor::new(monitor_cfg, OuiTable::load_default());
    let mut gw = Gateway::new(gw_cfg)?;
    // Capture runs on its own thread so frames keep being read from the socket while this
    // thread waits for nft; it hands them over through a bounded queue (a full queue drops
    // frames and counts them, it never grows).
    let (tx, rx) = std::sync::mpsc::sync_channel::<(u64, Vec<u8>)>(CAPTURE_QUEUE);
    let running = Arc::new(AtomicBool::new(true));
    let dropped = Arc::new(AtomicU64::new(0));
    let capture_thread = {
        let running = running.clone();
        let dropped = dropped.clone();
        std::thread::spawn(move || -> Result<(), monitor::CaptureError> {
            while running.load(Ordering::Relaxed) {
                if let Some((t, frame)) = capture.next_frame()? {
                    match tx.try_send((t, frame.to_vec())) {
                        Ok(()) => {}
                        Err(TrySendError::Full(_)) => {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(TrySendError::Disconnected(_)) => return Ok(()),
                    }
                }
            }
            Ok(())
        })
    };
    let mut out = Vec::new();
    let mut events = 0u64;
    let mut last_tick = Instant::now();
    let mut last_dns = Instant::now();
    let mut reported_drops = 0u64;
    let result = loop {
        if stop() {
            break Ok(events);
        }
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok((t, frame)) => {
                mon.process(t, &frame, &mut out);
                let mut failed = None;
                for o in out.drain(..) {
                    if let Err(e) = gw.handle(&o, t) {
                        failed = Some(e);
                        break;
                    }
                    if let monitor::Output::Event(e) = &o {
                        events += 1;
                        on_event(e);
                    }
                }
                if let Some(e) = failed {
                    break Err(e);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break Ok(events),
        }
        if last_dns.elapsed() >= Duration::from_millis(50) {
            gw.flush_dns();
            last_dns = Instant::now();
        }
        if last_tick.elapsed() >= Duration::from_millis(200) {
            for d in mon.devices() {
                gw.note_seen(&d.mac, d.last_seen_ns);
            }
            if let Err(e) = gw.tick(wall_ns()) {
                break Err(e);
            }
            last_tick = Instant::now();
            let d = dropped.load(Ordering::Relaxed);
            if d > reported_drops {
                on_warning(&format!(
                    "{} captured frames dropped: the queue to the monitor was full",
                    d - reported_drops
                ));
                reported_drops = d;
            }
        }
        for w in gw.warnings.drain(..) {
            on_warning(&w);
        }
    };
    running.store(false, Ordering::Relaxed);
    drop(rx);
    match capture_thread.join() {
        Ok(Err(e)) if result.is_ok() => return Err(e.into()),
        Err(_) => return Err(GatewayError::Other("the capture thread panicked".into())),
        _ => {}
    }
    result
}

/// Frames held between the capture thread and the monitor (about 100 ms at a busy home's rate;
/// the monitor itself runs millions of frames a second, so it only fills while nft is slow).
const CAPTURE_QUEUE: usize = 65_536;

/// Ask the running gateway whose state directory is `state_dir` to release `mac` (the owner's
/// decision). It acts within its next timer tick and records the release in its journal.
pub fn request_release(state_dir: &Path, mac: Mac) -> std::io::Result<()> {
    let dir = state_dir.join("release");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(mac.to_string().replace(':', "-")), b"")
}
