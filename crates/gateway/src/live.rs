//! The live loop: one AF_PACKET capture feeding the monitor, the gateway acting on its outputs,
//! timers (quarantine TTL, owner releases) run between frames.

use crate::dns_hold::{DnsHold, HeldAnswer};
use crate::gateway::{
    read_journal, Action, Gateway, GatewayConfig, GatewayError, JournalEntry, OwnerRequest,
    LOCK_FILE,
};
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
    // Capture runs on its own thread so frames keep being read from the socket while this
    // thread waits for nft; it hands them over through a bounded queue (a full queue drops
    // frames and counts them, it never grows). The DNS hold's answers come through the same
    // queue (they wait for room: an answer is never dropped there).
    let (tx, rx) = std::sync::mpsc::sync_channel::<Input>(CAPTURE_QUEUE);
    let running = Arc::new(AtomicBool::new(true));
    let mut gw_cfg = gw_cfg;
    let hold = match gw_cfg.dns_hold {
        Some(h) if gw_cfg.apply && !gw_cfg.dry_run => {
            let hold = DnsHold::start(h, tx.clone(), running.clone()).map_err(|e| {
                GatewayError::Other(format!(
                    "the DNS hold cannot listen on UDP port {}: {e}; free the port or set another ([dns] hold-port)",
                    h.port
                ))
            })?;
            gw_cfg.site.dns_hold_port = Some(h.port);
            Some(hold)
        }
        _ => None,
    };
    let mut gw = Gateway::new(gw_cfg)?;
    let dropped = Arc::new(AtomicU64::new(0));
    let capture_thread = {
        let running = running.clone();
        let dropped = dropped.clone();
        std::thread::spawn(move || -> Result<(), monitor::CaptureError> {
            while running.load(Ordering::Relaxed) {
                if let Some((t, frame)) = capture.next_frame()? {
                    match tx.try_send(Input::Frame(t, frame.to_vec())) {
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
            Ok(Input::Answer(held)) => release(hold.as_ref(), &mon, &mut gw, held),
            Ok(Input::Frame(t, frame)) => {
                // Frames already waiting are handled with this one, as one batch: their
                // containment changes go to nftables in one transaction.
                let mut last_t = t;
                mon.process(t, &frame, &mut out);
                let mut answer = None;
                for _ in 0..BATCH_FRAMES {
                    match rx.try_recv() {
                        Ok(Input::Frame(t, frame)) => {
                            mon.process(t, &frame, &mut out);
                            last_t = t;
                        }
                        Ok(Input::Answer(held)) => {
                            answer = Some(held);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let handled = gw.handle_batch(&out, last_t);
                for o in out.drain(..) {
                    if let monitor::Output::Event(e) = &o {
                        events += 1;
                        on_event(e);
                    }
                }
                if let Err(e) = handled {
                    break Err(e);
                }
                if let Some(held) = answer {
                    release(hold.as_ref(), &mon, &mut gw, held);
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
            if let Err(e) = gw.tick(wall_ns()).and_then(|_| gw.write_status()) {
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
    if let Some(hold) = hold {
        hold.join();
    }
    match capture_thread.join() {
        Ok(Err(e)) if result.is_ok() => return Err(e.into()),
        Err(_) => return Err(GatewayError::Other("the capture thread panicked".into())),
        _ => {}
    }
    result
}

/// Most frames handled as one batch.
const BATCH_FRAMES: usize = 1024;

/// Learn a held DNS answer's addresses for the device it is for, then let it go to the device.
fn release(hold: Option<&DnsHold>, mon: &Monitor, gw: &mut Gateway, held: HeldAnswer) {
    let Some(hold) = hold else {
        return;
    };
    let answers = held.addresses();
    let ip = held.client_ip();
    let device = mon.devices().find(|d| d.addrs.contains(&ip)).map(|d| d.mac);
    if let (Some(device), false) = (device, answers.is_empty()) {
        gw.learn_now(device, answers);
    }
    hold.release(&held);
}

/// What reaches the live loop: a captured frame, or a DNS answer the hold is keeping from its
/// device until the loop has learned its addresses.
pub(crate) enum Input {
    /// Capture time (ns) and the Ethernet frame.
    Frame(u64, Vec<u8>),
    /// An answer from the resolver, for a device.
    Answer(HeldAnswer),
}

/// Frames held between the capture thread and the monitor (about 100 ms at a busy home's rate;
/// the monitor itself runs millions of frames a second, so it only fills while nft is slow).
const CAPTURE_QUEUE: usize = 65_536;

/// Why an owner's request did not reach the gateway or was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The directory holds neither a journal nor a lock file: no gateway ever ran with it.
    #[error(
        "{0} holds no gateway state (no {journal}); is --state the running gateway's?",
        journal = "journal.jsonl"
    )]
    NoState(std::path::PathBuf),
    /// The directory is a gateway's, but no running gateway holds its lock.
    #[error("no gateway is running with the state directory {0}; start one with `trustgate gateway run --state {0}`")]
    NotRunning(std::path::PathBuf),
    /// A release for a device that is not quarantined; the text after the MAC says what the
    /// journal last recorded (empty when the gateway itself found nothing to release).
    #[error("device {0} is not quarantined{1}")]
    NotQuarantined(Mac, String),
    /// The gateway did not take the request within the wait (seconds); the request file
    /// (the path) is still there and will be taken when the gateway gets to it.
    #[error("the gateway did not act on the request within {0} s (it may be stuck on nftables); the request stays in {1}")]
    NoAnswer(u64, std::path::PathBuf),
    /// The request file or its directory could not be written.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The journal could not be read.
    #[error(transparent)]
    Journal(#[from] GatewayError),
    /// The request's argument is out of bounds (a name too long, a release of 0 s).
    #[error("{0}")]
    Invalid(String),
}

/// Whether a gateway holds the lock of `state_dir` (is running with it).
pub fn is_running(state_dir: &Path) -> bool {
    match std::fs::File::open(state_dir.join(LOCK_FILE)) {
        Ok(f) => matches!(
            fs4::FileExt::try_lock_shared(&f),
            Err(fs4::TryLockError::WouldBlock)
        ),
        Err(_) => false,
    }
}

/// Ask the gateway running with `state_dir` to carry out the owner's `request` for `mac`, and
/// wait (up to `wait`) until it did. Fails, saying why, when the directory is not a gateway's,
/// no gateway holds its lock, the device is not quarantined (for a release), or the gateway
/// does not answer. Returns the journal entry recording the change (`None`: nothing needed to
/// change, e.g. the device was already trusted).
pub fn owner_request(
    state_dir: &Path,
    request: OwnerRequest,
    mac: Mac,
    wait: Duration,
) -> Result<Option<JournalEntry>, RequestError> {
    let journal = state_dir.join("journal.jsonl");
    let lock = state_dir.join(LOCK_FILE);
    if !journal.exists() && !lock.exists() {
        return Err(RequestError::NoState(state_dir.to_path_buf()));
    }
    if !is_running(state_dir) {
        return Err(RequestError::NotRunning(state_dir.to_path_buf()));
    }
    let entries = read_journal(&journal)?;
    request.check().map_err(RequestError::Invalid)?;
    if matches!(request, OwnerRequest::Release { .. }) {
        // Whether a running quarantine has run out is the gateway's call (its clock); it then
        // records the expiry and answers this request as "not quarantined".
        let last = entries.iter().rev().map(|(e, _)| e).find(|e| {
            e.device == mac
                && matches!(
                    e.action,
                    Action::Quarantine | Action::Resume | Action::Release | Action::Expire
                )
        });
        match last {
            Some(e) if matches!(e.action, Action::Quarantine | Action::Resume) => {}
            Some(e) => {
                return Err(RequestError::NotQuarantined(
                    mac,
                    format!(" (its last quarantine ended: {})", e.action.as_str()),
                ))
            }
            None => {
                return Err(RequestError::NotQuarantined(
                    mac,
                    " (the journal has no quarantine of it)".into(),
                ))
            }
        }
    }
    let before = entries.len();
    let dir = state_dir.join(request.dir());
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RequestError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let file = dir.join(mac.to_string().replace(':', "-"));
    // Written aside and renamed, so the gateway never reads half a request.
    let tmp = dir.join(format!("{}.tmp", mac.to_string().replace(':', "-")));
    std::fs::write(&tmp, request.payload()).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &file).map_err(io(&file))?;
    let start = Instant::now();
    loop {
        let done = !file.exists();
        let answer = read_journal(&journal)?
            .into_iter()
            .skip(before)
            .map(|(e, _)| e)
            .find(|e| e.device == mac && e.action == request.answer());
        if answer.is_some() {
            return Ok(answer);
        }
        if done {
            // Taken without a change: for a release the gateway warned (not quarantined after
            // all); for trust/untrust the device already was so.
            return match request {
                OwnerRequest::Release { .. } => {
                    Err(RequestError::NotQuarantined(mac, String::new()))
                }
                _ => Ok(None),
            };
        }
        if start.elapsed() >= wait {
            return Err(RequestError::NoAnswer(wait.as_secs(), file));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
