//! # dashboard — the household's window on its gateway
//!
//! Owns: the web pages a household reads and the owner's controls — the devices with a
//! sentence each (what it may do and why), a device's page (its maker's profile, its
//! security label, what happened to it), the events with a weekly summary, and the owner's
//! actions (release now or for an hour, isolate/block, approve, trust, rename, forget);
//! the owner's password, sessions, CSRF tokens and login rate limit ([`auth`]); English
//! and French ([`i18n`], Project Fluent). Served over HTTPS with a certificate made on first
//! start (its SHA-256 fingerprint printed) or plain HTTP when configured, on the addresses
//! given (the LAN's), never on every interface.
//!
//! Must not: decide levels, touch nftables, or write the gateway's journal or status. It
//! reads `STATE/status.json` and `STATE/journal.jsonl` ([`journal`]) and changes things only
//! through owner requests ([`gateway::owner_request`]), the same path as the
//! `trustgate gateway release|isolate|…` commands, so each action is a journal entry the
//! running gateway writes after carrying it out.
//!
//! ## Routes
//!
//! | route | what |
//! |---|---|
//! | `GET /login`, `POST /login` | sign in (password), rate-limited per client |
//! | `GET /setup`, `POST /setup` | first visit: one-time code + new password |
//! | `POST /logout` | sign out (CSRF) |
//! | `GET /` | home: every device, new ones first with approve / block |
//! | `GET /device/{mac}` | one device |
//! | `POST /device/{mac}/act` | an owner action (`do` = release, release-hour, isolate, block, approve, trust, untrust, rename, forget; CSRF) |
//! | `GET /events` | timeline (`?device=`), weekly summary |
//! | `GET /events/stream` | server-sent events: one `journal` event per new journal line |
//! | `GET /lang/{en,fr}` | the owner's language (cookie), back to `?back=` |
//! | `GET /assets/…` | style sheet, the live-update script |
//!
//! Without a session every page redirects to `/login` (303) and every other request is
//! answered 401; a changing request without the session's CSRF token is answered 403 and
//! changes nothing.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod alerts;
pub mod auth;
pub mod i18n;
pub mod journal;
pub mod pages;
pub mod words;

use axum::extract::{ConnectInfo, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use i18n::{Lang, Texts};
use journal::JournalCache;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the dashboard is served.
#[derive(Clone, Debug)]
pub struct Config {
    /// The gateway's state directory (its `--state`).
    pub state_dir: PathBuf,
    /// Where to listen: the gateway's LAN addresses (an unspecified address such as
    /// `0.0.0.0` is refused: the dashboard must not be reachable from the WAN side).
    pub listen: Vec<SocketAddr>,
    /// Serve HTTPS with the certificate in `STATE/dashboard/` (made on first start).
    pub tls: bool,
    /// Host names and addresses the certificate names (besides the listen addresses).
    pub tls_names: Vec<String>,
    /// How long an owner action waits for the gateway's answer.
    pub request_wait: Duration,
}

impl Config {
    /// HTTPS on `listen`, for the state in `state_dir`.
    pub fn new(state_dir: PathBuf, listen: Vec<SocketAddr>) -> Config {
        Config {
            state_dir,
            listen,
            tls: true,
            tls_names: vec![],
            request_wait: Duration::from_secs(10),
        }
    }
}

/// Why the dashboard could not start.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// No address, or one that is every interface's.
    #[error("{0}")]
    Listen(String),
    /// An address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The certificate could not be made, read or written.
    #[error("dashboard certificate: {0}")]
    Tls(String),
}

/// The dashboard's state, shared by every request.
pub struct App {
    cfg: Config,
    /// Sessions and passwords.
    pub auth: auth::Auth,
    texts: Texts,
    journal: Mutex<JournalCache>,
    status: Mutex<journal::StatusCache>,
    secure_cookies: bool,
}

impl App {
    /// The dashboard over `cfg.state_dir`. Returns the one-time setup code when no owner
    /// password is set (to print in the log).
    pub fn new(cfg: Config) -> (Arc<App>, Option<String>) {
        let (auth, code) = auth::Auth::new(&cfg.state_dir);
        let journal = Mutex::new(JournalCache::new(&cfg.state_dir));
        let status = Mutex::new(journal::StatusCache::new(&cfg.state_dir));
        let secure_cookies = cfg.tls;
        (
            Arc::new(App {
                cfg,
                auth,
                texts: Texts::new(),
                journal,
                status,
                secure_cookies,
            }),
            code,
        )
    }

    /// The gateway's status as last written (parsed once per rewrite).
    fn status(&self) -> Option<Arc<gateway::StatusFile>> {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).get()
    }
}

/// What a started dashboard tells its caller.
#[derive(Debug)]
pub struct Started {
    /// The addresses it listens on (ports resolved).
    pub addrs: Vec<SocketAddr>,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The certificate's SHA-256 fingerprint (colon-separated hex), over HTTPS.
    pub fingerprint: Option<String>,
    /// The one-time setup code, when no owner password is set yet.
    pub setup_code: Option<String>,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

const SESSION_COOKIE: &str = "tg_session";
/// The sign-in and first-visit forms' CSRF token, before there is a session: the same random
/// value in this cookie (HttpOnly, SameSite=Strict) and in the form (double submit), so a
/// page elsewhere cannot post a password of its choosing into the owner's browser.
const FORM_COOKIE: &str = "tg_form";

/// The form token a sign-in or first-visit page carries: the browser's own, or a new one
/// with the cookie that sets it.
fn form_token(app: &App, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    // 32 random bytes, base64url without padding.
    match cookie(headers, FORM_COOKIE).filter(|t| t.len() == 43) {
        Some(t) => (t.to_string(), None),
        None => {
            let t = auth::random_token();
            let c = format!(
                "{FORM_COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict{}",
                if app.secure_cookies { "; Secure" } else { "" }
            );
            (t, HeaderValue::from_str(&c).ok())
        }
    }
}

/// A sign-in or first-visit page, setting its form cookie when new.
fn form_page(status: StatusCode, page: maud::Markup, cookie: Option<HeaderValue>) -> Response {
    let mut res = (status, Html(page.into_string())).into_response();
    if let Some(c) = cookie {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    res
}

/// Whether a posted sign-in or first-visit form carries the token of its cookie.
fn form_token_ok(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    match (cookie(headers, FORM_COOKIE), form.get("csrf")) {
        (Some(c), Some(f)) => !c.is_empty() && auth::same_secret(f, c),
        _ => false,
    }
}

/// The request's language.
fn lang(headers: &HeaderMap) -> Lang {
    Lang::choose(
        cookie(headers, "lang"),
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// (session token, CSRF token) of a signed-in request.
fn session(app: &App, headers: &HeaderMap) -> Option<(String, String)> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let csrf = app.auth.session(token)?;
    Some((token.to_string(), csrf))
}

/// Security headers on every answer.
async fn harden(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The routes (for [`serve`] and for tests that drive the dashboard in process).
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/setup", get(setup_page).post(setup))
        .route("/logout", post(logout))
        .route("/device/{mac}", get(device_page))
        .route("/device/{mac}/act", post(act))
        .route("/events", get(events_page))
        .route("/events/stream", get(stream))
        .route("/lang/{code}", get(set_lang))
        .route("/assets/style.css", get(style))
        .route("/assets/live.js", get(script))
        .layer(axum::middleware::from_fn(harden))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
        .with_state(app)
}

/// A form body (`application/x-www-form-urlencoded`) as a map, whatever the request's
/// content type says: a request without a body or its fields is then refused by the handler
/// for what is missing (the CSRF token: 403), not by the framework with 415.
struct Fields(HashMap<String, String>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Fields {
    type Rejection = Response;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Fields(
            form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

fn html_page(m: maud::Markup) -> Response {
    Html(m.into_string()).into_response()
}

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../assets/style.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../assets/live.js"),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

async fn set_lang(UrlPath(code): UrlPath<String>, Query(q): Query<Back>) -> Response {
    let Some(l) = Lang::from_code(&code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Only a path of ours: never an open redirect.
    let back = q
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Strict",
        l.code()
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

fn frame<'a>(app: &'a App, lang: Lang, here: &'a str, csrf: Option<&'a str>) -> pages::Frame<'a> {
    pages::Frame {
        t: &app.texts,
        lang,
        here,
        csrf,
    }
}

async fn login_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if app.auth.needs_setup() {
        return Redirect::to("/setup").into_response();
    }
    let l = lang(&headers);
    let (token, set) = form_token(&app, &headers);
    form_page(
        StatusCode::OK,
        pages::login(&frame(&app, l, "/login", None), None, &token),
        set,
    )
}

async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Fields(form): Fields,
) -> Response {
    let l = lang(&headers);
    if !form_token_ok(&headers, &form) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let token = form.get("csrf").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let app2 = app.clone();
    let outcome = tokio::task::spawn_blocking(move || app2.auth.login(peer.ip(), &password)).await;
    let f = frame(&app, l, "/login", None);
    match outcome {
        Ok(Ok(auth::Login::Ok(token))) => {
            let mut res = Redirect::to("/").into_response();
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}",
                if app.secure_cookies { "; Secure" } else { "" }
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Ok(Ok(auth::Login::Wrong)) => (
            StatusCode::UNAUTHORIZED,
            Html(pages::login(&f, Some(app.texts.get(l, "login-wrong")), &token).into_string()),
        )
            .into_response(),
        Ok(Ok(auth::Login::Wait(s))) => {
            let msg = app
                .texts
                .format(l, "login-slow", &[("seconds", (s as i64).into())]);
            let mut res = (
                StatusCode::TOO_MANY_REQUESTS,
                Html(pages::login(&f, Some(msg), &token).into_string()),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Ok(Err(e)) => {
            tracing::error!("dashboard sign-in: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn setup_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if !app.auth.needs_setup() {
        return to_login();
    }
    let (token, set) = form_token(&app, &headers);
    form_page(
        StatusCode::OK,
        pages::setup(&frame(&app, lang(&headers), "/setup", None), None, &token),
        set,
    )
}

async fn setup(State(app): State<Arc<App>>, headers: HeaderMap, Fields(form): Fields) -> Response {
    let l = lang(&headers);
    if !app.auth.needs_setup() {
        return to_login();
    }
    if !form_token_ok(&headers, &form) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let token = form.get("csrf").cloned().unwrap_or_default();
    let f = frame(&app, l, "/setup", None);
    let password = form.get("password").cloned().unwrap_or_default();
    let min = auth::MIN_PASSWORD_CHARS as i64;
    if password.chars().count() < auth::MIN_PASSWORD_CHARS {
        let msg = app.texts.format(l, "setup-short", &[("min", min.into())]);
        return (
            StatusCode::BAD_REQUEST,
            Html(pages::setup(&f, Some(msg), &token).into_string()),
        )
            .into_response();
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let app2 = app.clone();
    match tokio::task::spawn_blocking(move || app2.auth.setup(&code, &password)).await {
        Ok(Ok(true)) => html_page(pages::login(
            &f,
            Some(app.texts.get(l, "setup-done")),
            &token,
        )),
        Ok(Ok(false)) => (
            StatusCode::FORBIDDEN,
            Html(pages::setup(&f, Some(app.texts.get(l, "setup-bad-code")), &token).into_string()),
        )
            .into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap, Fields(form): Fields) -> Response {
    let Some((token, csrf)) = session(&app, &headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if !auth::same_secret(form.get("csrf").map(String::as_str).unwrap_or(""), &csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    app.auth.logout(&token);
    let mut res = to_login();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tg_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    res
}

#[derive(serde::Deserialize)]
struct Notice {
    done: Option<String>,
    err: Option<String>,
    detail: Option<String>,
}

impl Notice {
    fn words(&self, app: &App, l: Lang) -> (Option<String>, Option<String>) {
        let done = self
            .done
            .as_deref()
            .map(|d| format!("done-{d}"))
            .filter(|id| app.texts.has(id))
            .map(|id| app.texts.get(l, &id));
        let err = self
            .err
            .as_deref()
            .map(|e| format!("err-{e}"))
            .filter(|id| app.texts.has(id))
            .map(|id| {
                app.texts.format(
                    l,
                    &id,
                    &[("detail", self.detail.clone().unwrap_or_default().into())],
                )
            });
        (done, err)
    }
}

async fn home(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    blocking(move || home_now(app, headers, n)).await
}

/// Pages are rendered on a blocking thread: a home page of 1000 devices is tens of
/// milliseconds of CPU, which on the async workers would hold up every other request
/// (style sheets, the live stream, sign-ins) behind it.
async fn blocking(render: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(render)
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn home_now(app: Arc<App>, headers: HeaderMap, n: Notice) -> Response {
    let Some((_, csrf)) = session(&app, &headers) else {
        return to_login();
    };
    let l = lang(&headers);
    let status = app.status();
    let running = gateway::is_running(&app.cfg.state_dir);
    let (done, err) = n.words(&app, l);
    html_page(pages::home(
        &frame(&app, l, "/", Some(&csrf)),
        status.as_deref(),
        running,
        done.or(err),
    ))
}

async fn device_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    UrlPath(mac): UrlPath<String>,
    Query(n): Query<Notice>,
) -> Response {
    blocking(move || device_page_now(app, headers, mac, n)).await
}

fn device_page_now(app: Arc<App>, headers: HeaderMap, mac: String, n: Notice) -> Response {
    let Some((_, csrf)) = session(&app, &headers) else {
        return to_login();
    };
    let l = lang(&headers);
    let here = format!("/device/{mac}");
    let f = frame(&app, l, &here, Some(&csrf));
    let status = app.status();
    let found = mac.parse::<mud::Mac>().ok().and_then(|m| {
        status
            .as_ref()
            .and_then(|s| s.devices.iter().find(|d| d.mac == m))
            .map(|d| (m, d))
    });
    let Some((m, d)) = found else {
        return (
            StatusCode::NOT_FOUND,
            Html(
                pages::page(
                    &f,
                    "?",
                    maud::html! { p { (app.texts.get(l, "device-unknown")) } },
                )
                .into_string(),
            ),
        )
            .into_response();
    };
    let mut cache = app.journal.lock().unwrap_or_else(|p| p.into_inner());
    cache.refresh();
    let lines: Vec<&journal::Line> = cache
        .lines()
        .iter()
        .rev()
        .filter(|e| e.device == m)
        .take(100)
        .collect();
    let (done, err) = n.words(&app, l);
    let now = status.as_ref().map(|s| s.time_ns).unwrap_or(0);
    html_page(pages::device(&f, d, now, &lines, done, err))
}

#[derive(serde::Deserialize)]
struct EventsQuery {
    device: Option<String>,
    kind: Option<String>,
}

/// What the events page's `kind` filter keeps: quarantines (and their ends), devices coming
/// and going, the owner's own actions, verdicts on MUD files and labels.
fn kind_matches(kind: Option<&str>, e: &journal::Line) -> bool {
    use gateway::Action as A;
    match kind {
        Some("quarantine") => {
            matches!(e.action, A::Quarantine | A::Resume | A::Release | A::Expire)
        }
        Some("devices") => matches!(e.action, A::Contain | A::Approve | A::Forget | A::Evict),
        Some("owner") => e.by == gateway::By::Owner,
        Some("profile") => matches!(e.action, A::Mud | A::Label | A::Level),
        _ => true,
    }
}

/// The kinds the events page can filter on.
pub const EVENT_KINDS: [&str; 4] = ["quarantine", "devices", "owner", "profile"];

/// Most lines on the events page.
const EVENTS_SHOWN: usize = 500;

async fn events_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Response {
    blocking(move || events_page_now(app, headers, q)).await
}

fn events_page_now(app: Arc<App>, headers: HeaderMap, q: EventsQuery) -> Response {
    let Some((_, csrf)) = session(&app, &headers) else {
        return to_login();
    };
    let l = lang(&headers);
    let status = app.status();
    let now = status.as_ref().map(|s| s.time_ns).unwrap_or(0);
    let device = q
        .device
        .as_deref()
        .filter(|d| !d.is_empty())
        .and_then(|d| d.parse::<mud::Mac>().ok());
    let kind = q.kind.as_deref().filter(|k| EVENT_KINDS.contains(k));
    let mut cache = app.journal.lock().unwrap_or_else(|p| p.into_inner());
    cache.refresh();
    let week_start = now.saturating_sub(7 * 24 * 3600 * 1_000_000_000);
    let mut week = (0i64, 0i64, 0i64);
    for e in cache.lines().iter().filter(|e| e.time_ns >= week_start) {
        match e.action {
            gateway::Action::Quarantine | gateway::Action::Resume => week.0 += 1,
            gateway::Action::Contain => week.1 += 1,
            _ => {}
        }
        if e.by == gateway::By::Owner {
            week.2 += 1;
        }
    }
    let matching: Vec<&journal::Line> = cache
        .lines()
        .iter()
        .rev()
        .filter(|e| device.is_none_or(|m| e.device == m))
        .filter(|e| kind_matches(kind, e))
        .take(EVENTS_SHOWN + 1)
        .collect();
    let truncated = matching.len() > EVENTS_SHOWN;
    let mut here = "/events".to_string();
    let mut sep = '?';
    if let Some(m) = &device {
        here.push_str(&format!("{sep}device={m}"));
        sep = '&';
    }
    if let Some(k) = kind {
        here.push_str(&format!("{sep}kind={k}"));
    }
    let dev_text = device.map(|m| m.to_string());
    html_page(pages::events(
        &frame(&app, l, &here, Some(&csrf)),
        status.as_deref(),
        &matching[..matching.len().min(EVENTS_SHOWN)],
        week,
        dev_text.as_deref(),
        kind,
        truncated,
    ))
}

/// The owner's action on one device.
async fn act(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    UrlPath(mac): UrlPath<String>,
    Fields(form): Fields,
) -> Response {
    let Some((_, csrf)) = session(&app, &headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if !auth::same_secret(form.get("csrf").map(String::as_str).unwrap_or(""), &csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(m) = mac.parse::<mud::Mac>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let what = form.get("do").map(String::as_str).unwrap_or("");
    let request = match what {
        "release" => gateway::OwnerRequest::Release { for_s: None },
        "release-hour" => gateway::OwnerRequest::Release { for_s: Some(3600) },
        "isolate" | "block" => gateway::OwnerRequest::Isolate,
        "approve" => gateway::OwnerRequest::Approve,
        "trust" => gateway::OwnerRequest::Trust,
        "untrust" => gateway::OwnerRequest::Untrust,
        "forget" => gateway::OwnerRequest::Forget,
        "rename" => gateway::OwnerRequest::Rename {
            name: form
                .get("name")
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
        },
        "allow" | "disallow" => match exception_of(&form) {
            Ok(exception) if what == "allow" => gateway::OwnerRequest::Allow { exception },
            Ok(exception) => gateway::OwnerRequest::Disallow { exception },
            Err(e) => {
                let q = format!("err=invalid&detail={}", url_encode(&e.to_string()));
                return Redirect::to(&format!("/device/{m}?{q}")).into_response();
            }
        },
        _ => return (StatusCode::BAD_REQUEST, "unknown action").into_response(),
    };
    let state_dir = app.cfg.state_dir.clone();
    let wait = app.cfg.request_wait;
    let status_path = app.cfg.state_dir.join(gateway::STATUS_FILE);
    let written = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let before = written(&status_path);
    let outcome =
        tokio::task::spawn_blocking(move || gateway::owner_request(&state_dir, request, m, wait))
            .await;
    // The answer is in the journal; the status file follows within the gateway's next tick.
    // Wait for it (a little), so the page shown next already says what changed.
    if matches!(outcome, Ok(Ok(Some(_)))) {
        for _ in 0..75 {
            if written(&status_path) != before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let back = if what == "forget" || form.get("from").map(String::as_str) == Some("home") {
        "/".to_string()
    } else {
        format!("/device/{m}")
    };
    let q = match outcome {
        Ok(Ok(_)) => format!("done={what}"),
        Ok(Err(e)) => {
            let code = match &e {
                gateway::RequestError::NotRunning(_) | gateway::RequestError::NoState(_) => {
                    "not-running"
                }
                gateway::RequestError::NotQuarantined(..) => "not-quarantined",
                gateway::RequestError::NoAnswer(..) => "no-answer",
                gateway::RequestError::Invalid(_) => "invalid",
                _ => "other",
            };
            format!("err={code}&detail={}", url_encode(&e.to_string()))
        }
        Err(_) => "err=other".into(),
    };
    Redirect::to(&format!("{back}?{q}")).into_response()
}

/// The exception a form names: `destination`, and optionally `proto` (`tcp`, `udp`, or empty
/// for any) and `port`; or the whole spelling in `exception` (the remove buttons).
fn exception_of(
    form: &std::collections::HashMap<String, String>,
) -> Result<enforce::Exception, enforce::ExceptionError> {
    if let Some(x) = form.get("exception") {
        return x.parse();
    }
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    let mut spec = field("destination").to_string();
    let (proto, port) = (field("proto"), field("port"));
    match (proto, port) {
        ("", "") => {}
        ("", port) => spec.push_str(&format!(" tcp/{port}")),
        (proto, "") => spec.push_str(&format!(" {proto}")),
        (proto, port) => spec.push_str(&format!(" {proto}/{port}")),
    }
    spec.parse()
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Server-sent events: one `journal` event (id = the line's number) per new journal line.
async fn stream(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if session(&app, &headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let start = {
        let mut cache = app.journal.lock().unwrap_or_else(|p| p.into_inner());
        cache.refresh();
        cache.next_seq()
    };
    let l = lang(&headers);
    let s = futures_util::stream::unfold((app, start), move |(app, mut next)| async move {
        loop {
            let found = {
                let mut cache = app.journal.lock().unwrap_or_else(|p| p.into_inner());
                cache.refresh();
                let now = cache.lines().back().map(|e| e.time_ns).unwrap_or(0);
                cache
                    .lines()
                    .iter()
                    .find(|e| e.seq >= next)
                    .map(|e| (e.seq, words::journal_words(&app.texts, l, e, now), e.device))
            };
            match found {
                Some((seq, text, device)) => {
                    next = seq + 1;
                    let data = serde_json::json!({ "device": device.to_string(), "text": text });
                    let ev = SseEvent::default()
                        .event("journal")
                        .id(seq.to_string())
                        .data(data.to_string());
                    return Some((Ok::<_, std::convert::Infallible>(ev), (app, next)));
                }
                // A journal line reaches the page within this (a stat of the journal per
                // open stream each time: cheap).
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    });
    Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// Refuse addresses that are every interface's: the dashboard listens on the LAN only.
fn check_listen(listen: &[SocketAddr]) -> Result<(), DashboardError> {
    if listen.is_empty() {
        return Err(DashboardError::Listen(
            "the dashboard needs an address to listen on: the gateway's LAN address, for instance 192.168.1.1:8443".into(),
        ));
    }
    if let Some(a) = listen.iter().find(|a| a.ip().is_unspecified()) {
        return Err(DashboardError::Listen(format!(
            "the dashboard does not listen on {a} (every interface, the WAN side too): give the gateway's LAN address, for instance 192.168.1.1:{}",
            a.port()
        )));
    }
    Ok(())
}

/// The dashboard's certificate and key (`STATE/dashboard/cert.pem`, `key.pem` 0600), made on
/// first start for the listen addresses and `names`; returns (cert PEM, key PEM, fingerprint).
pub fn certificate(
    state_dir: &std::path::Path,
    listen: &[SocketAddr],
    names: &[String],
) -> Result<(String, String, String), DashboardError> {
    use sha2::Digest;
    let dir = state_dir.join("dashboard");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    let e = |what: &str, err: &dyn std::fmt::Display| DashboardError::Tls(format!("{what}: {err}"));
    if !(cert_path.exists() && key_path.exists()) {
        let mut sans: Vec<String> = listen.iter().map(|a| a.ip().to_string()).collect();
        sans.extend(names.iter().cloned());
        sans.push("trustgate.home.arpa".into());
        let params = rcgen::CertificateParams::new(sans).map_err(|x| e("names", &x))?;
        let key = rcgen::KeyPair::generate().map_err(|x| e("key", &x))?;
        let cert = params.self_signed(&key).map_err(|x| e("certificate", &x))?;
        std::fs::create_dir_all(&dir).map_err(|x| e(&dir.display().to_string(), &x))?;
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .mode(0o600)
                .open(&key_path)
                .map_err(|x| e(&key_path.display().to_string(), &x))?;
            f.write_all(key.serialize_pem().as_bytes())
                .map_err(|x| e(&key_path.display().to_string(), &x))?;
        }
        std::fs::write(&cert_path, cert.pem())
            .map_err(|x| e(&cert_path.display().to_string(), &x))?;
    }
    let cert_pem =
        std::fs::read_to_string(&cert_path).map_err(|x| e(&cert_path.display().to_string(), &x))?;
    let key_pem =
        std::fs::read_to_string(&key_path).map_err(|x| e(&key_path.display().to_string(), &x))?;
    let der = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .next()
        .ok_or_else(|| {
            DashboardError::Tls(format!("{} holds no certificate", cert_path.display()))
        })?
        .map_err(|x| e(&cert_path.display().to_string(), &x))?;
    let fp = sha2::Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    Ok((cert_pem, key_pem, fp))
}

/// Bind every listen address and serve until the runtime ends. The addresses are bound
/// before this returns its [`Started`]; serving goes on in tasks of the current runtime.
pub async fn serve(cfg: Config) -> Result<Started, DashboardError> {
    check_listen(&cfg.listen)?;
    let (app, setup_code) = App::new(cfg.clone());
    let mut listeners = vec![];
    for addr in &cfg.listen {
        let l = std::net::TcpListener::bind(addr).map_err(|source| DashboardError::Bind {
            addr: *addr,
            source,
        })?;
        l.set_nonblocking(true)
            .map_err(|source| DashboardError::Bind {
                addr: *addr,
                source,
            })?;
        listeners.push(l);
    }
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    let make = || router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let mut fingerprint = None;
    if cfg.tls {
        let (cert, key, fp) = certificate(&cfg.state_dir, &addrs, &cfg.tls_names)?;
        fingerprint = Some(fp);
        let certs: Vec<_> = rustls_pemfile::certs(&mut cert.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|x| DashboardError::Tls(x.to_string()))?;
        let key = rustls_pemfile::private_key(&mut key.as_bytes())
            .map_err(|x| DashboardError::Tls(x.to_string()))?
            .ok_or_else(|| DashboardError::Tls("the key file holds no key".into()))?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut sc = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|x| DashboardError::Tls(x.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|x| DashboardError::Tls(x.to_string()))?;
        sc.alpn_protocols = vec![b"http/1.1".to_vec()];
        let rc = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(sc));
        for l in listeners {
            let server = axum_server::from_tcp_rustls(l, rc.clone());
            let svc = make();
            tokio::spawn(async move {
                if let Err(err) = server.serve(svc).await {
                    tracing::error!("dashboard: {err}");
                }
            });
        }
    } else {
        for l in listeners {
            let l =
                tokio::net::TcpListener::from_std(l).map_err(|source| DashboardError::Bind {
                    addr: cfg.listen[0],
                    source,
                })?;
            let svc = make();
            tokio::spawn(async move {
                if let Err(err) = axum::serve(l, svc).await {
                    tracing::error!("dashboard: {err}");
                }
            });
        }
    }
    Ok(Started {
        addrs,
        scheme: if cfg.tls { "https" } else { "http" },
        fingerprint,
        setup_code,
    })
}

/// Start the dashboard on a thread of its own (with its own runtime), for a caller that is
/// not async (the gateway daemon). Returns once every address is bound.
pub fn start(cfg: Config) -> Result<Started, DashboardError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("dashboard".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(DashboardError::Listen(format!(
                        "cannot start the dashboard's runtime: {e}"
                    ))));
                    return;
                }
            };
            rt.block_on(async move {
                let started = serve(cfg).await;
                let ok = started.is_ok();
                let _ = tx.send(started);
                if ok {
                    std::future::pending::<()>().await;
                }
            });
        })
        .map_err(|e| DashboardError::Listen(format!("cannot start the dashboard thread: {e}")))?;
    rx.recv()
        .map_err(|_| DashboardError::Listen("the dashboard thread ended".into()))?
}

/// Follow the journal and send alerts ([`alerts`]) on a thread of its own.
pub fn start_alerts(cfg: alerts::AlertConfig) -> Result<(), DashboardError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DashboardError::Listen(format!("cannot start the alerts' runtime: {e}")))?;
    std::thread::Builder::new()
        .name("alerts".into())
        .spawn(move || rt.block_on(alerts::run(cfg)))
        .map_err(|e| DashboardError::Listen(format!("cannot start the alerts thread: {e}")))?;
    Ok(())
}
