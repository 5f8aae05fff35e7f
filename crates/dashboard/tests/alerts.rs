//! Alerts end to end: a running gateway (see `common`), the alerter following its journal,
//! a webhook receiver on loopback and a real SMTP server (Python's standard `smtpd`, run by the
//! test) — each event arrives once, in the dashboard's words; repeats are not sent again.

mod common;

use common::Household;
use dashboard::alerts::{AlertConfig, Smtp, WebhookFormat};
use dashboard::i18n::Lang;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the webhook receiver got: each POST's Title header and body.
type Received = Arc<Mutex<Vec<(Option<String>, String)>>>;

/// A webhook receiver: every body POSTed, with its Title header.
async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let g = g.clone();
            async move {
                let title = headers
                    .get("title")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                g.lock().unwrap().push((title, body));
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, got)
}

/// Python's SMTP server, writing each message it receives to a file of `dir`.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn smtp_server() -> SmtpServer {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = format!(
        r#"
import warnings; warnings.filterwarnings("ignore")
import smtpd, asyncore, itertools
n = itertools.count()
class S(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        with open("{dir}/mail-%d.eml" % next(n), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
S(("127.0.0.1", {port}), None, decode_data=False)
asyncore.loop()
"#,
        dir = dir.path().display()
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .spawn()
        .expect("python3");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return SmtpServer { child, port, dir };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the SMTP server did not start");
}

fn mails(s: &SmtpServer) -> Vec<String> {
    let mut v: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v.iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

async fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The owner releases `bot` for a minute, as the dashboard's button does.
async fn release_for_a_minute(h: &Household, bot: mud::Mac) {
    let state = h.state().to_path_buf();
    tokio::task::spawn_blocking(move || {
        gateway::owner_request(
            &state,
            gateway::OwnerRequest::Release { for_s: Some(60) },
            bot,
            Duration::from_secs(10),
        )
        .unwrap()
    })
    .await
    .unwrap();
}

#[test]
fn each_event_is_announced_once_by_webhook_and_by_mail() {
    let h = Household::start();
    let rt = common::runtime();
    let smtp = smtp_server();
    rt.block_on(async {
        let (url, hooks) = receiver().await;
        let cfg = AlertConfig {
            state_dir: h.state().to_path_buf(),
            lang: Lang::En,
            webhook: Some((url, WebhookFormat::Json)),
            smtp: Some(Smtp {
                host: "127.0.0.1".into(),
                port: smtp.port,
                starttls: false,
                credentials: None,
                from: "gateway@home.arpa".into(),
                to: vec!["owner@home.arpa".into()],
            }),
            poll: Duration::from_millis(50),
        };
        tokio::spawn(dashboard::alerts::run(cfg));
        tokio::time::sleep(Duration::from_millis(300)).await;
        // What was in the journal before the alerter started is not announced.
        assert!(hooks.lock().unwrap().is_empty());

        // A new device joins.
        let newcomer: mud::Mac = "02:7e:00:00:00:99".parse().unwrap();
        h.join(newcomer, "doorbell", "192.168.1.99".parse().unwrap());
        wait_for(
            || hooks.lock().unwrap().len() == 1,
            "the new-device webhook",
        )
        .await;
        let (_, body) = hooks.lock().unwrap()[0].clone();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["kind"], "new-device");
        assert_eq!(v["device"], newcomer.to_string());
        assert_eq!(v["title"], "New device at home: doorbell");
        assert!(v["message"].as_str().unwrap().starts_with("First seen"));

        // The bot's quarantine comes back after a timed release: one alert.
        let bot = h.infected;
        release_for_a_minute(&h, bot).await;
        h.advance(61);
        wait_for(
            || hooks.lock().unwrap().len() == 2,
            "the quarantine webhook",
        )
        .await;
        let v: serde_json::Value = serde_json::from_str(&hooks.lock().unwrap()[1].1).unwrap();
        assert_eq!(v["kind"], "quarantine");
        assert_eq!(v["device"], bot.to_string());
        assert!(
            v["message"].as_str().unwrap().starts_with("Isolated again"),
            "{v}"
        );

        // The same again within the hour: not announced twice.
        release_for_a_minute(&h, bot).await;
        h.advance(61);
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(hooks.lock().unwrap().len(), 2, "deduplicated");
        // The owner's own actions are not alerts.
        assert!(hooks
            .lock()
            .unwrap()
            .iter()
            .all(|(_, b)| !b.contains("\"release\"")));
        wait_for(|| mails(&smtp).len() == 2, "two mails").await;
    });
    let m = mails(&smtp);
    assert_eq!(m.len(), 2, "one mail per event");
    assert!(
        m[0].contains("Subject: New device at home: doorbell"),
        "{}",
        m[0]
    );
    assert!(m[1].contains("was isolated"), "{}", m[1]);
}

#[test]
fn ntfy_gets_the_message_as_text_with_its_title_and_the_burst_is_capped() {
    use dashboard::alerts::{Alerter, BURST};
    // The rate limit, on journal lines as the gateway writes them.
    let mut a = Alerter::new(Lang::Fr);
    let now = std::time::Instant::now();
    let mut sent = 0;
    for i in 0..(BURST + 4) {
        let line = dashboard::journal::Line {
            seq: i as u64,
            time_ns: 1,
            device: format!("02:00:00:00:01:{i:02x}").parse().unwrap(),
            action: gateway::Action::Contain,
            from: None,
            to: enforce::Level::Default,
            reason: None,
            explanation: None,
            explanation_fr: None,
            cause: None,
            name: None,
            exception: None,
            until_ns: None,
            by: gateway::By::Monitor,
            evidence: 0,
        };
        let out = a.consider(&line, "caméra", now);
        if let Some(first) = out.first() {
            assert_eq!(first.title, "Nouvel appareil à la maison : caméra");
        }
        sent += out.len();
    }
    assert_eq!(sent, BURST);
    assert_eq!(a.suppressed(), 4);

    // ntfy: plain-text body, Title header (RFC 2047 when not ASCII).
    let rt = common::runtime();
    rt.block_on(async {
        let (url, hooks) = receiver().await;
        let cfg = AlertConfig {
            state_dir: std::env::temp_dir(),
            lang: Lang::Fr,
            webhook: Some((url, WebhookFormat::Ntfy)),
            smtp: None,
            poll: Duration::from_millis(50),
        };
        let alert = dashboard::alerts::Alert {
            kind: dashboard::alerts::Kind::Quarantine,
            device: Some("02:00:00:00:00:01".into()),
            name: "caméra".into(),
            title: "caméra a été isolé".into(),
            message: "Isolé : il a balayé Internet".into(),
            time_ns: 1,
        };
        let failed = dashboard::alerts::deliver(&cfg, &reqwest::Client::new(), &alert).await;
        assert!(failed.is_empty(), "{failed:?}");
        let got = hooks.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, "Isolé : il a balayé Internet");
        assert!(got[0].0.as_deref().unwrap().starts_with("=?UTF-8?B?"));
    });
}
