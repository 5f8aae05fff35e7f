//! The dashboard under load: a household of 1000 devices and a 100,000-line journal.
//! - time to first byte of the home page (and of the events page) for 20 concurrent
//!   signed-in clients, p50 / p99, beside the same server's static style sheet as the anchor
//!   (what serving costs without reading the gateway's state);
//! - event-to-browser latency: a line appended to the journal until it arrives on an open
//!   `/events/stream`, p50 / p99.
//!
//! Run: `cargo bench -p dashboard --bench home`. Prints one table.

use gateway::{Action, By, DeviceStatus, JournalEntry, StatusFile};
use std::io::Write;
use std::time::{Duration, Instant};

const DEVICES: usize = 1000;
const LINES: usize = 100_000;
const CLIENTS: usize = 20;
const REQUESTS_PER_CLIENT: usize = 25;
const NS: u64 = 1_000_000_000;

fn mac(i: usize) -> mud::Mac {
    format!(
        "02:10:{:02x}:{:02x}:{:02x}:01",
        i >> 16 & 0xff,
        i >> 8 & 0xff,
        i & 0xff
    )
    .parse()
    .unwrap()
}

fn household(dir: &std::path::Path) -> u64 {
    let now = 1_780_000_000 * NS;
    let devices: Vec<DeviceStatus> = (0..DEVICES)
        .map(|i| {
            let level = match i % 10 {
                0 => enforce::Level::Isolated,
                1..=4 => enforce::Level::Declared,
                5 => enforce::Level::UpdateOnly,
                _ => enforce::Level::Default,
            };
            let isolated = level == enforce::Level::Isolated;
            DeviceStatus {
                mac: mac(i),
                hostname: Some(format!("device-{i}")),
                vendor: Some("Espressif Inc.".into()),
                addrs: vec![format!("10.0.{}.{}", i / 250, i % 250 + 2).parse().unwrap()],
                mud_url: (level == enforce::Level::Declared)
                    .then(|| format!("https://mud.acme.example/d{i}.json")),
                mud: None,
                label: None,
                level,
                quarantined_until_ns: isolated.then_some(now + 3600 * NS),
                quarantine: isolated.then(|| gateway::QuarantineStatus {
                    since_ns: now - 60 * NS,
                    until_ns: Some(now + 3600 * NS),
                    reason: Some(monitor::EventKind::TelnetScan),
                    explanation: Some("it scanned the internet for telnet like the Mirai botnet".into()),
                    explanation_fr: Some("il a balayé Internet à la recherche de telnet comme le réseau de zombies Mirai".into()),
                }),
                released_until_ns: None,
                owner_name: None,
                approved: i % 7 != 0,
                trusted: false,
                exceptions: vec![],
                first_seen_ns: Some(now - 86_400 * NS),
                traffic: Some(gateway::TrafficStatus {
                    read_ns: now,
                    allowed_packets: 1000 + i as u64,
                    blocked_packets: (i % 50) as u64,
                    blocked_24h: (i % 17) as u64,
                    rules: vec![],
                }),
                mdns_name: None,
                cause: if level == enforce::Level::UpdateOnly {
                    "label-revoked".into()
                } else {
                    "no-mud-url".into()
                },
                reason: String::new(),
            }
        })
        .collect();
    let status = StatusFile {
        time_ns: now,
        devices,
    };
    std::fs::write(
        dir.join(gateway::STATUS_FILE),
        serde_json::to_vec(&status).unwrap(),
    )
    .unwrap();
    let mut j = std::io::BufWriter::new(std::fs::File::create(dir.join("journal.jsonl")).unwrap());
    for n in 0..LINES {
        let e = entry(n, now - (LINES - n) as u64 * NS);
        serde_json::to_writer(&mut j, &e).unwrap();
        j.write_all(b"\n").unwrap();
    }
    j.flush().unwrap();
    now
}

fn entry(n: usize, t: u64) -> JournalEntry {
    let quarantine = n % 50 == 0;
    JournalEntry {
        time_ns: t,
        device: mac(n % DEVICES),
        action: if quarantine {
            Action::Quarantine
        } else {
            Action::Level
        },
        from: Some(enforce::Level::Default),
        to: if quarantine {
            enforce::Level::Isolated
        } else {
            enforce::Level::Declared
        },
        reason: quarantine.then_some(monitor::EventKind::TelnetScan),
        explanation: Some("it scanned the internet for telnet like the Mirai botnet".into()),
        explanation_fr: Some("il a balayé Internet à la recherche de telnet".into()),
        evidence: vec![],
        until_ns: None,
        by: By::Monitor,
        dry_run: false,
        applied: true,
        error: None,
        cause: Some("mud-verified".into()),
        name: None,
        resumes_for_s: None,
        exception: None,
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Time to first byte (response headers) of `path` for CLIENTS concurrent clients.
async fn ttfb(base: &str, cookie: &str, path: &str) -> Vec<f64> {
    // Clients are made before any is timed: making one loads the system's root
    // certificates, tens of milliseconds of CPU that would otherwise run on the same worker
    // threads as the timed requests of the clients already started.
    let clients: Vec<reqwest::Client> = (0..CLIENTS).map(|_| reqwest::Client::new()).collect();
    let mut tasks = vec![];
    for c in clients {
        let url = format!("{base}{path}");
        let cookie = cookie.to_string();
        tasks.push(tokio::spawn(async move {
            let mut v = vec![];
            for _ in 0..REQUESTS_PER_CLIENT {
                let t = Instant::now();
                let r = c.get(&url).header("cookie", &cookie).send().await.unwrap();
                v.push(t.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await.unwrap();
            }
            v
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let now = household(dir.path());
    eprintln!("household written in {:.1} s", t.elapsed().as_secs_f64());
    let pw = "benchmark owner password";
    dashboard::auth::set_password(dir.path(), pw).unwrap();
    // The server on a runtime of its own, as in the gateway daemon (its dashboard thread);
    // the clients on another, so a busy server does not also delay the clocks that time it.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut cfg = dashboard::Config::new(
        dir.path().to_path_buf(),
        vec!["127.0.0.1:0".parse().unwrap()],
    );
    cfg.tls = false;
    let started = server_rt.block_on(dashboard::serve(cfg)).unwrap();
    let base = format!("http://{}", started.addrs[0]);
    rt.block_on(async {
        let c = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        // The sign-in form as a browser posts it: its token and the cookie that goes with it.
        let page = c.get(format!("{base}/login")).send().await.unwrap();
        let form_cookie = page.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let html = page.text().await.unwrap();
        let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
        let token = &html[at..at + html[at..].find('"').unwrap()];
        let r = c
            .post(format!("{base}/login"))
            .header("cookie", form_cookie)
            .form(&[("password", pw), ("csrf", token)])
            .send()
            .await
            .unwrap();
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        // Warm up (the journal cache reads the 100,000 lines once).
        let t = Instant::now();
        let page = c
            .get(format!("{base}/events"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let first_events = t.elapsed().as_secs_f64() * 1000.0;
        assert!(page.contains("ol class=\"timeline\""));
        let home = c
            .get(format!("{base}/"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(home.matches("<li class=\"device").count(), DEVICES);

        let mut anchor = ttfb(&base, &cookie, "/assets/style.css").await;
        let mut home_t = ttfb(&base, &cookie, "/").await;
        let mut events_t = ttfb(&base, &cookie, "/events").await;

        // Event to browser: append a line, wait for it on the stream.
        let mut stream = c
            .get(format!("{base}/events/stream"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let mut lat = vec![];
        let path = dir.path().join("journal.jsonl");
        for n in 0..100 {
            // Lines arrive at any moment, not in step with the stream's polling: a pause of
            // 0-29 ms (a fixed sequence, the same every run) before each.
            tokio::time::sleep(Duration::from_millis((n as u64 * 17) % 30)).await;
            let mut line = serde_json::to_vec(&entry(LINES + n, now + n as u64)).unwrap();
            line.push(b'\n');
            let t = Instant::now();
            let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
            f.write_all(&line).unwrap();
            drop(f);
            let mut got = String::new();
            while !got.contains("event: journal") {
                let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
                    .await
                    .unwrap()
                    .unwrap()
                    .unwrap();
                got.push_str(&String::from_utf8_lossy(&chunk));
            }
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let home_kib = home.len() / 1024;
        println!("dashboard, {DEVICES} devices, {LINES} journal lines, {CLIENTS} concurrent clients × {REQUESTS_PER_CLIENT} requests");
        println!("| what | p50 ms | p99 ms |");
        println!("|---|---:|---:|");
        println!("| anchor: static style sheet, same server | {:.2} | {:.2} |", pct(&mut anchor, 0.5), pct(&mut anchor, 0.99));
        println!("| home page ({home_kib} KiB, every device) | {:.2} | {:.2} |", pct(&mut home_t, 0.5), pct(&mut home_t, 0.99));
        println!("| events page (500 newest lines, weekly summary) | {:.2} | {:.2} |", pct(&mut events_t, 0.5), pct(&mut events_t, 0.99));
        println!("| journal line → SSE event (100 lines) | {:.2} | {:.2} |", pct(&mut lat, 0.5), pct(&mut lat, 0.99));
        println!("first events page (reads all {LINES} lines): {first_events:.0} ms");
    });
}
