//! The dashboard in a real browser: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`, `fantoccini`), against a running gateway that replayed the Mirai capture
//! (see `common`). Sign in; the infected device shows as isolated with its sentence; release
//! it for one hour and see its level change, then the quarantine resume when the gateway's
//! clock passes the hour; approve a new device; French when the browser asks for fr-CA.
//! Screenshots at phone (390×844) and desktop widths go to `target/screenshots/` and are
//! checked not to be blank.

mod common;

use common::{Household, PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chromedriver() -> Driver {
    let port = free_port();
    let mut child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian package chromium-driver; ./scripts/test installs it)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Driver {
                child,
                port,
                _profile: tempfile::tempdir().unwrap(),
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not start");
}

async fn browser(d: &Driver, lang: &str) -> Client {
    // fantoccini's HTTPS client needs rustls' crypto provider chosen once per process.
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let profile = tempfile::Builder::new()
        .prefix("chromium")
        .tempdir()
        .unwrap()
        .keep();
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()),
                format!("--lang={lang}"), "--window-size=390,844"
            ],
            "prefs": { "intl.accept_languages": lang }
        }
    });
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .expect("a Chromium session")
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Save a screenshot and check it is not blank: a real page has many colours.
async fn shot(c: &Client, name: &str, width: u32, height: u32) {
    c.set_window_size(width, height).await.unwrap();
    let png = c.screenshot().await.unwrap();
    let path = screenshots().join(format!("{name}.png"));
    std::fs::write(&path, &png).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let px = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for p in bytes.chunks(px) {
        colours.insert(p.to_vec());
        if colours.len() > 50 {
            break;
        }
    }
    assert!(
        colours.len() > 50,
        "{} looks blank ({} colours)",
        path.display(),
        colours.len()
    );
    assert!(info.width >= width.min(390) - 20, "{name}: {}", info.width);
}

async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn sign_in(c: &Client, base: &str) {
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("ul.devices"))
        .await
        .unwrap();
}

#[test]
fn the_owner_sees_the_bot_isolated_releases_it_for_an_hour_and_approves_a_device() {
    let h = Household::start();
    let rt = common::runtime();
    let addr = common::serve(&h, &rt);
    let base = format!("http://{addr}");
    let driver = chromedriver();
    let bot = h.infected.to_string();
    let newcomer = h.benign[0].to_string();
    rt.block_on(async {
        let c = browser(&driver, "en-CA").await;
        sign_in(&c, &base).await;
        let row = format!("li.device[data-mac='{bot}']");
        let sentence = text(&c, &format!("{row} .sentence")).await;
        assert!(sentence.starts_with("Isolated at "), "{sentence}");
        assert!(sentence.len() > 30, "says what it did: {sentence}");
        let level = text(&c, &format!("{row} .level")).await;
        assert_eq!(level, "Isolated");
        shot(&c, "home-phone", 390, 844).await;
        shot(&c, "home-desktop", 1280, 900).await;

        // Its page: release for one hour.
        c.find(Locator::Css(&format!("{row} a.name")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(text(&c, "#level").await, "Isolated");
        shot(&c, "device-phone", 390, 844).await;
        c.find(Locator::Css("button[data-do='release-hour']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let notice = text(&c, "p.notice").await;
        assert!(notice.contains("Released for one hour"), "{notice}");
        assert_eq!(text(&c, "#level").await, "Internet only");
        assert!(text(&c, "#sentence")
            .await
            .starts_with("Released by you until"));

        // The hour passes on the gateway's clock: the quarantine resumes.
        h.advance(3601);
        c.refresh().await.unwrap();
        assert_eq!(text(&c, "#level").await, "Isolated");
        let timeline = text(&c, "ol.timeline").await;
        assert!(
            timeline.contains("Isolated again: your release ended"),
            "{timeline}"
        );

        // Approve a new device from the home page.
        c.goto(&format!("{base}/")).await.unwrap();
        let new_row = format!("li.device.new[data-mac='{newcomer}']");
        c.find(Locator::Css(&format!(
            "{new_row} button[data-do='approve']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(&format!(
                "li.device[data-mac='{newcomer}']:not(.new)"
            )))
            .await
            .expect("the approved device is no longer new");
        assert!(c.find(Locator::Css(&new_row)).await.is_err());
        c.close().await.unwrap();
    });
    let journal = std::fs::read_to_string(h.state().join("journal.jsonl")).unwrap();
    let actions: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(actions
        .iter()
        .any(|e| e["action"] == "release" && e["device"] == bot && e["resumes_for_s"].is_u64()));
    assert!(actions
        .iter()
        .any(|e| e["action"] == "resume" && e["device"] == bot));
    assert!(actions
        .iter()
        .any(|e| e["action"] == "approve" && e["device"] == newcomer && e["by"] == "owner"));
}

#[test]
fn a_browser_that_asks_for_canadian_french_gets_french() {
    let h = Household::start();
    let rt = common::runtime();
    let addr = common::serve(&h, &rt);
    let base = format!("http://{addr}");
    let driver = chromedriver();
    let bot = h.infected.to_string();
    rt.block_on(async {
        let c = browser(&driver, "fr-CA").await;
        c.goto(&format!("{base}/login")).await.unwrap();
        assert_eq!(text(&c, "h1").await, "Connexion");
        assert_eq!(
            c.find(Locator::Css("html"))
                .await
                .unwrap()
                .attr("lang")
                .await
                .unwrap()
                .as_deref(),
            Some("fr")
        );
        sign_in(&c, &base).await;
        assert_eq!(text(&c, "h1").await, "Les appareils de la maison");
        let sentence = text(&c, &format!("li.device[data-mac='{bot}'] .sentence")).await;
        assert!(sentence.starts_with("Isolé à "), "{sentence}");
        shot(&c, "home-fr-phone", 390, 844).await;
        shot(&c, "home-fr-desktop", 1280, 900).await;
        // On a device's page, the owner allows it one more destination with the form.
        let other = h.benign[1].to_string();
        c.goto(&format!("{base}/device/{other}")).await.unwrap();
        assert_eq!(
            text(&c, "#exceptions h2").await,
            "Ce que vous lui permettez en plus"
        );
        c.find(Locator::Id("destination"))
            .await
            .unwrap()
            .send_keys("meteo.example.ca")
            .await
            .unwrap();
        c.find(Locator::Id("port"))
            .await
            .unwrap()
            .send_keys("443")
            .await
            .unwrap();
        c.find(Locator::Css("button[data-do='allow']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let listed = text(&c, "li[data-exception='meteo.example.ca tcp/443'] code").await;
        assert_eq!(listed, "meteo.example.ca tcp/443");
        assert!(text(&c, "p.notice").await.starts_with("Permis."));
        shot(&c, "device-fr-phone", 390, 844).await;
        // The whole page, down to the exception form and the events.
        shot(&c, "device-fr-phone-whole", 390, 2400).await;
        c.goto(&format!("{base}/")).await.unwrap();
        // The switch on the page: English, and it sticks.
        c.find(Locator::Css("a.lang"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(text(&c, "h1").await, "Devices at home");
        c.goto(&format!("{base}/events")).await.unwrap();
        assert_eq!(text(&c, "h1").await, "Events");
        c.close().await.unwrap();
    });
}
