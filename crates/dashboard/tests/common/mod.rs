//! A household for the dashboard's tests: the labelled Mirai capture (`scenarios`) replayed
//! through the real monitor and a real gateway (dry run: every decision journalled, no
//! nftables, so no root), which then keeps running on its own thread — ticking, carrying out
//! owner requests, writing its status — on a clock the test moves. The dashboard under test
//! serves that state directory on loopback.
#![allow(dead_code)]

use gateway::{Gateway, GatewayConfig};
use monitor::{Config, Mac, Monitor, OuiTable, Output};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const NS: u64 = 1_000_000_000;

pub struct Household {
    pub dir: tempfile::TempDir,
    pub infected: Mac,
    pub benign: Vec<Mac>,
    /// The gateway's clock (ns since the epoch).
    pub clock: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    inject: std::sync::mpsc::Sender<Vec<Output>>,
}

fn config(dir: &std::path::Path) -> GatewayConfig {
    GatewayConfig {
        site: enforce::Site::default(),
        nft: enforce::NftRunner {
            netns: Some("trustgate-no-such-namespace".into()),
            format: enforce::BatchFormat::Native,
        },
        apply: true,
        dry_run: true,
        quarantine_ttl_s: 7200,
        state_dir: dir.to_path_buf(),
        policies: vec![],
        max_devices: gateway::DEFAULT_MAX_DEVICES,
        trusted: vec![],
        manager: None,
        unlabelled: enforce::Level::Declared,
        dns_hold: None,
    }
}

impl Household {
    /// Replay the capture, then keep the gateway running. Returns once the status is written.
    pub fn start() -> Household {
        let dir = tempfile::tempdir().unwrap();
        let (truth, frames) = scenarios::build("mirai", 1).unwrap();
        let infected = truth.devices.iter().find(|d| d.infected).unwrap().mac;
        let benign = truth
            .devices
            .iter()
            .filter(|d| !d.infected)
            .map(|d| d.mac)
            .collect();
        let last = frames.last().unwrap().0;
        let clock = Arc::new(AtomicU64::new(last));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let path = dir.path().to_path_buf();
        let (c, s) = (clock.clone(), stop.clone());
        let (inject, injected) = std::sync::mpsc::channel::<Vec<Output>>();
        let thread = std::thread::spawn(move || {
            let mut gw = Gateway::new(config(&path)).unwrap();
            let mut mon = Monitor::new(Config::default(), OuiTable::default());
            let mut out: Vec<Output> = Vec::new();
            for (t, f) in frames.iter() {
                mon.process(*t, f, &mut out);
                gw.handle_batch(&out, *t).unwrap();
                out.clear();
            }
            gw.tick(last).unwrap();
            gw.write_status().unwrap();
            ready_tx.send(()).unwrap();
            while !s.load(Ordering::SeqCst) {
                let now = c.load(Ordering::SeqCst);
                while let Ok(batch) = injected.try_recv() {
                    gw.handle_batch(&batch, now).unwrap();
                }
                gw.tick(now).unwrap();
                gw.write_status().unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        ready_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        Household {
            dir,
            infected,
            benign,
            clock,
            stop,
            thread: Some(thread),
            inject,
        }
    }

    /// A device the gateway has not seen joins (its DHCP facts, as the monitor reports them).
    pub fn join(&self, mac: Mac, hostname: &str, addr: std::net::IpAddr) {
        let now = self.clock.load(Ordering::SeqCst);
        let mut facts = monitor::DeviceFacts::new(mac, now);
        facts.hostname = Some(hostname.into());
        facts.addrs = vec![addr];
        self.inject.send(vec![Output::Device(facts)]).unwrap();
    }

    pub fn state(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Move the gateway's clock forward and wait until it has ticked at the new time.
    pub fn advance(&self, secs: u64) {
        self.clock.fetch_add(secs * NS, Ordering::SeqCst);
        let want = self.clock.load(Ordering::SeqCst);
        for _ in 0..250 {
            if let Some(s) = dashboard::journal::read_status(self.state()) {
                if s.time_ns >= want {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the gateway did not tick at the new time");
    }

    pub fn journal_lines(&self) -> usize {
        std::fs::read_to_string(self.state().join("journal.jsonl"))
            .unwrap()
            .lines()
            .count()
    }
}

impl Drop for Household {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub const PASSWORD: &str = "a long owner password";

/// The dashboard over the household's state, plain HTTP on loopback, password set.
pub fn serve(h: &Household, rt: &tokio::runtime::Runtime) -> SocketAddr {
    dashboard::auth::set_password(h.state(), PASSWORD).unwrap();
    let mut cfg = dashboard::Config::new(
        h.state().to_path_buf(),
        vec!["127.0.0.1:0".parse().unwrap()],
    );
    cfg.tls = false;
    let started = rt.block_on(dashboard::serve(cfg)).unwrap();
    started.addrs[0]
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
