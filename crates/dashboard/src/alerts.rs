//! Alerts: a new device, a quarantine, a label revoked or a support period ended → a
//! notification through a webhook (generic JSON, or ntfy's plain-text publish with `Title` and
//! `Tags` headers) and/or e-mail over SMTP (`lettre`), with the dashboard's own sentence.
//!
//! The alerter follows the journal from its end when it starts (what was already there is
//! not announced again), looks at each new line once, and sends:
//! - at most one alert per (device, kind) per [`DEDUP`] (a device scanning for an hour is one
//!   alert, not sixty);
//! - at most [`BURST`] alerts per [`WINDOW`]; beyond that one "and N more" summary is sent
//!   when the window ends.
//!
//! A failed delivery is logged (without the SMTP password) and not retried: an alert is a
//! nudge, the journal is the record.

use crate::i18n::{Lang, Texts};
use crate::journal::{JournalCache, Line};
use crate::words;
use gateway::Action;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One alert per device and kind per this long.
pub const DEDUP: Duration = Duration::from_secs(3600);
/// Most alerts per [`WINDOW`].
pub const BURST: usize = 5;
/// The rate limit's window.
pub const WINDOW: Duration = Duration::from_secs(600);

/// How a webhook is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `POST` of a JSON object: `kind`, `device`, `name`, `title`, `message`, `time_ns`.
    Json,
    /// ntfy: `POST` of the message as text to the topic URL, `Title` and `Tags` headers.
    Ntfy,
}

/// SMTP delivery.
#[derive(Clone)]
pub struct Smtp {
    /// Server host name.
    pub host: String,
    /// Port (587 with STARTTLS, 25 plain).
    pub port: u16,
    /// Use STARTTLS (required when true).
    pub starttls: bool,
    /// User name and password, if the server wants them.
    pub credentials: Option<(String, String)>,
    /// From address.
    pub from: String,
    /// To addresses.
    pub to: Vec<String>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("starttls", &self.starttls)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

/// Where alerts go.
#[derive(Clone, Debug)]
pub struct AlertConfig {
    /// The gateway's state directory.
    pub state_dir: PathBuf,
    /// The alerts' language.
    pub lang: Lang,
    /// A webhook URL and its format.
    pub webhook: Option<(String, WebhookFormat)>,
    /// E-mail.
    pub smtp: Option<Smtp>,
    /// How often the journal is looked at.
    pub poll: Duration,
}

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A device seen for the first time.
    NewDevice,
    /// A device isolated for bot behaviour (or again after a timed release).
    Quarantine,
    /// Its label was revoked or suspended.
    LabelRevoked,
    /// Its support period ended (or its label expired).
    SupportEnded,
}

impl Kind {
    /// The kind as a word (JSON `kind`, ntfy tag).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NewDevice => "new-device",
            Kind::Quarantine => "quarantine",
            Kind::LabelRevoked => "label-revoked",
            Kind::SupportEnded => "support-ended",
        }
    }

    /// What a journal line is worth an alert for.
    pub fn of(l: &Line) -> Option<Kind> {
        match (l.action, l.cause.as_deref()) {
            (Action::Contain, _) => Some(Kind::NewDevice),
            (Action::Quarantine | Action::Resume, _) if l.by != gateway::By::Owner => {
                Some(Kind::Quarantine)
            }
            (
                Action::Label | Action::Level | Action::Mud,
                Some(
                    "label-revoked" | "label-suspended" | "firmware-revoked" | "firmware-suspended",
                ),
            ) => Some(Kind::LabelRevoked),
            (
                Action::Label | Action::Level | Action::Mud,
                Some("support-ended" | "label-expired" | "not-supported"),
            ) => Some(Kind::SupportEnded),
            _ => None,
        }
    }
}

/// One alert, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// What it is about.
    pub kind: Kind,
    /// The device (`None`: a summary).
    pub device: Option<String>,
    /// The device's name.
    pub name: String,
    /// A short title.
    pub title: String,
    /// The sentence.
    pub message: String,
    /// When (ns since the epoch).
    pub time_ns: u64,
}

/// Decides which journal lines become alerts: deduplicated and rate-limited.
pub struct Alerter {
    texts: Texts,
    lang: Lang,
    last: HashMap<(mud::Mac, Kind), Instant>,
    window_start: Instant,
    in_window: usize,
    suppressed: usize,
}

impl Alerter {
    /// An alerter speaking `lang`.
    pub fn new(lang: Lang) -> Alerter {
        Alerter {
            texts: Texts::new(),
            lang,
            last: HashMap::new(),
            window_start: Instant::now(),
            in_window: 0,
            suppressed: 0,
        }
    }

    /// The alerts for `line` seen at `now` (with the device's name from the status), and a
    /// summary of suppressed ones when a window ended.
    pub fn consider(&mut self, line: &Line, name: &str, now: Instant) -> Vec<Alert> {
        let mut out = self.roll(now, line.time_ns);
        let Some(kind) = Kind::of(line) else {
            return out;
        };
        let key = (line.device, kind);
        if self
            .last
            .get(&key)
            .is_some_and(|t| now.duration_since(*t) < DEDUP)
        {
            return out;
        }
        if self.last.len() > 4096 {
            self.last.retain(|_, t| now.duration_since(*t) < DEDUP);
        }
        self.last.insert(key, now);
        if self.in_window >= BURST {
            self.suppressed += 1;
            return out;
        }
        self.in_window += 1;
        let t = &self.texts;
        let title = t.format(
            self.lang,
            &format!("alert-{}", kind.as_str()),
            &[("name", name.to_string().into())],
        );
        out.push(Alert {
            kind,
            device: Some(line.device.to_string()),
            name: name.to_string(),
            title,
            message: words::journal_words(t, self.lang, line, line.time_ns),
            time_ns: line.time_ns,
        });
        out
    }

    /// A new window: say how many were held back in the last one.
    fn roll(&mut self, now: Instant, time_ns: u64) -> Vec<Alert> {
        if now.duration_since(self.window_start) < WINDOW {
            return vec![];
        }
        self.window_start = now;
        self.in_window = 0;
        let n = std::mem::take(&mut self.suppressed);
        if n == 0 {
            return vec![];
        }
        self.in_window = 1;
        let t = &self.texts;
        vec![Alert {
            kind: Kind::Quarantine,
            device: None,
            name: String::new(),
            title: t.get(self.lang, "alert-more-title"),
            message: t.format(self.lang, "alert-more", &[("count", (n as i64).into())]),
            time_ns,
        }]
    }

    /// Alerts held back by the rate limit so far in this window.
    pub fn suppressed(&self) -> usize {
        self.suppressed
    }
}

/// Send one alert everywhere configured; returns what failed, in words.
pub async fn deliver(cfg: &AlertConfig, client: &reqwest::Client, a: &Alert) -> Vec<String> {
    let mut failed = vec![];
    if let Some((url, format)) = &cfg.webhook {
        let req = match format {
            WebhookFormat::Json => client.post(url).json(&serde_json::json!({
                "kind": a.kind.as_str(),
                "device": a.device,
                "name": a.name,
                "title": a.title,
                "message": a.message,
                "time_ns": a.time_ns,
            })),
            WebhookFormat::Ntfy => client
                .post(url)
                .header("Title", header_safe(&a.title))
                .header("Tags", a.kind.as_str())
                .body(a.message.clone()),
        };
        match req.send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => failed.push(format!("webhook {url}: HTTP {}", r.status())),
            Err(e) => failed.push(format!("webhook {url}: {e}")),
        }
    }
    if let Some(smtp) = cfg.smtp.clone() {
        let a = a.clone();
        let sent = tokio::task::spawn_blocking(move || send_mail(&smtp, &a)).await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed.push(format!("e-mail: {e}")),
            Err(e) => failed.push(format!("e-mail: {e}")),
        }
    }
    failed
}

/// HTTP header values are Latin-1 at best: accented letters go through RFC 2047 encoding,
/// which ntfy reads.
fn header_safe(s: &str) -> String {
    if s.is_ascii() {
        s.to_string()
    } else {
        use base64::Engine;
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
        )
    }
}

fn send_mail(smtp: &Smtp, a: &Alert) -> Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{Message, SmtpTransport, Transport};
    let mut b = Message::builder()
        .from(
            smtp.from
                .parse()
                .map_err(|e| format!("from {:?}: {e}", smtp.from))?,
        )
        .subject(a.title.clone())
        .header(ContentType::TEXT_PLAIN);
    for to in &smtp.to {
        b = b.to(to.parse().map_err(|e| format!("to {to:?}: {e}"))?);
    }
    let msg = b
        .body(format!("{}\n\n{}\n", a.title, a.message))
        .map_err(|e| e.to_string())?;
    let mut t = if smtp.starttls {
        SmtpTransport::starttls_relay(&smtp.host).map_err(|e| e.to_string())?
    } else {
        SmtpTransport::builder_dangerous(&smtp.host)
    }
    .port(smtp.port)
    .timeout(Some(Duration::from_secs(20)));
    if let Some((user, pass)) = &smtp.credentials {
        t = t.credentials(Credentials::new(user.clone(), pass.clone()));
    }
    t.build().send(&msg).map(|_| ()).map_err(|e| e.to_string())
}

/// Follow the journal and send alerts until the runtime ends. Starts at the journal's end.
pub async fn run(cfg: AlertConfig) {
    let mut cache = JournalCache::new(&cfg.state_dir);
    cache.refresh();
    let mut next = cache.next_seq();
    let mut alerter = Alerter::new(cfg.lang);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_default();
    loop {
        tokio::time::sleep(cfg.poll).await;
        cache.refresh();
        let mut status = crate::journal::read_status(&cfg.state_dir);
        let fresh: Vec<Line> = cache
            .lines()
            .iter()
            .filter(|l| l.seq >= next)
            .cloned()
            .collect();
        next = cache.next_seq();
        // The gateway writes its status just after the journal line: a device seen for the
        // first time may be missing from it for a moment.
        let known = |s: &Option<gateway::StatusFile>, m: &mud::Mac| {
            s.as_ref()
                .is_some_and(|s| s.devices.iter().any(|d| d.mac == *m))
        };
        if fresh.iter().any(|l| !known(&status, &l.device)) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            status = crate::journal::read_status(&cfg.state_dir);
        }
        for l in fresh {
            let name = status
                .as_ref()
                .and_then(|s| s.devices.iter().find(|d| d.mac == l.device))
                .map(words::device_name)
                .unwrap_or_else(|| l.device.to_string());
            for a in alerter.consider(&l, &name, Instant::now()) {
                for problem in deliver(&cfg, &client, &a).await {
                    tracing::warn!("alert not delivered: {problem}");
                    eprintln!("warning: alert not delivered: {problem}");
                }
            }
        }
    }
}
