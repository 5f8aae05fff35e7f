//! The label page a label's QR code points to (`GET /l/<base64url digest>`, the short form of
//! `label::short_form`), laid out after the CTA-2120 (U.S. Cyber Trust Mark) label's two
//! layers, with the sections of its registry schema where our claims hold the data:
//!
//! - **L1, the security overview** (default): product, model and manufacturer; the support end
//!   date in large type; how updates arrive; default passwords; where to report a security
//!   problem; who assessed it against which baseline, when; which required provisions failed,
//!   in plain words; the label's validity and status; the QR code itself as SVG.
//! - **L2, the technical details** (`?view=technical`, linked from L1 and back): the software
//!   images and their SHA-256, the SBOM digest, personal data, the MUD URL, every verdict, the
//!   label id, digest and signing key, its log entry and checkpoint, the registry's history of
//!   statements about it, and links.
//!
//! A label that is revoked, suspended, expired, past its support end (or superseded, not yet
//! valid, failed or not assessed) gets a red banner saying what it means for the buyer; only a
//! label that is active **and** whose assessment conforms is shown in green.
//!
//! The words are Project Fluent messages (`page/en.ftl`, `page/fr.ftl`, compiled in); the page
//! is in English or French, chosen from `?lang=en|fr`, else the browser's `Accept-Language`
//! (the first of English or French it prefers; English otherwise), and links to the other
//! language. Every value from a label is HTML-escaped: messages are formatted with the raw
//! values and the result escaped as a whole. A code that names no label in this registry (a
//! counterfeit or mistyped QR code) gets a page (HTTP 404) saying so in both languages, never
//! raw JSON. The layout is one column that fits a 390 px wide phone screen (long URLs and
//! digests wrap).

use std::sync::OnceLock;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as esc};
use label::{Claims, CredentialsPolicy, Outcome, Status, StatusEventKind, UpdateMode, Verdict};
use serde::Deserialize;

use crate::api_error::ApiError;
use crate::service::{Lookup, Service};
use crate::types::LabelView;

const EN_FTL: &str = include_str!("page/en.ftl");
const FR_FTL: &str = include_str!("page/fr.ftl");

/// The page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    /// English.
    En,
    /// French.
    Fr,
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Fr,
            Lang::Fr => Lang::En,
        }
    }

    /// `?lang=` wins; else the first English or French entry of `Accept-Language` by the
    /// browser's preference (`fr-CA` counts as French); else English.
    pub(crate) fn choose(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        let pick = |tag: &str| match tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        };
        if let Some(l) = query.and_then(pick) {
            return l;
        }
        accept_language
            .map(accept_language::parse)
            .unwrap_or_default()
            .iter()
            .find_map(|t| pick(t))
            .unwrap_or(Lang::En)
    }
}

/// Which layer of the label page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    /// L1, the security overview for a buyer.
    Overview,
    /// L2, the technical details.
    Technical,
}

impl View {
    /// `?view=technical` is L2; anything else (or nothing) is L1.
    fn choose(query: Option<&str>) -> View {
        match query {
            Some("technical") => View::Technical,
            _ => View::Overview,
        }
    }

    /// The page's own address (relative) in `lang`, as an attribute value.
    fn href(self, lang: Lang) -> String {
        match self {
            View::Overview => format!("?lang={}", lang.code()),
            View::Technical => format!("?view=technical&amp;lang={}", lang.code()),
        }
    }
}

/// `?lang=en|fr&view=technical`.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Page language, `en` or `fr` (default: from `Accept-Language`).
    lang: Option<String>,
    /// `technical` for the technical details (L2); the security overview (L1) otherwise.
    view: Option<String>,
}

/// The compiled-in messages of `lang`, parsed once.
fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static EN: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    static FR: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let (cell, tag, src) = match lang {
        Lang::En => (&EN, "en", EN_FTL),
        Lang::Fr => (&FR, "fr-CA", FR_FTL),
    };
    cell.get_or_init(|| {
        // Both files are part of the source and parsed by the unit tests: an error here is a
        // bug in the build, not in a request.
        let res = FluentResource::try_new(src.to_string())
            .unwrap_or_else(|(_, e)| panic!("page/{}.ftl does not parse: {e:?}", lang.code()));
        let id = tag.parse().expect("a valid language tag");
        let mut b = FluentBundle::new_concurrent(vec![id]);
        // No Unicode isolation marks around values: the page sets its own `lang`.
        b.set_use_isolating(false);
        b.add_resource(res)
            .unwrap_or_else(|e| panic!("page/{}.ftl: {e:?}", lang.code()));
        b
    })
}

/// The page's words in one language; every result is HTML-escaped text.
struct Words(&'static FluentBundle<FluentResource>);

impl Words {
    fn of(lang: Lang) -> Words {
        Words(bundle(lang))
    }

    /// Message `id` formatted with `args` (raw values), not yet escaped.
    fn raw(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let Some(pattern) = self.0.get_message(id).and_then(|m| m.value()) else {
            debug_assert!(false, "no message {id:?} in the page's .ftl files");
            tracing::error!(id, "the page names a message its .ftl file lacks");
            return id.to_string();
        };
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, v.clone());
        }
        let mut errors = Vec::new();
        let out = self
            .0
            .format_pattern(pattern, (!args.is_empty()).then_some(&fa), &mut errors);
        debug_assert!(errors.is_empty(), "message {id:?}: {errors:?}");
        out.into_owned()
    }

    /// Message `id`, escaped.
    fn t(&self, id: &str) -> String {
        esc(&self.raw(id, &[])).into_owned()
    }

    /// Message `id` with text variables, escaped as a whole.
    fn ta(&self, id: &str, args: &[(&str, &str)]) -> String {
        let args: Vec<(&str, FluentValue<'_>)> = args
            .iter()
            .map(|(k, v)| (*k, FluentValue::from(*v)))
            .collect();
        esc(&self.raw(id, &args)).into_owned()
    }
}

/// One column, nothing wider than the screen: long values wrap anywhere.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40em;margin:0 auto;padding:0 1em 2em;line-height:1.4;overflow-wrap:anywhere;color:#111}\
*{box-sizing:border-box}h1{font-size:1.6em;text-align:center;margin:.6em 0}h2{font-size:1.25em;margin:.2em 0}h3{font-size:1.05em;margin:.8em 0 .2em}\
section{border-top:2px solid #333;padding:.4em 0}\
#state{padding:.7em .9em;margin:.5em 0;border-radius:.3em}#state.ok{background:#e7f5ec;border:3px solid #0a6b2d}#state.ok h2{color:#0a6b2d}\
#state.bad{background:#a11;color:#fff;border:3px solid #700}#state.bad h2{color:#fff;font-size:1.45em}#state p{margin:.4em 0}\
dt{font-weight:bold;margin-top:.6em}dd{margin-left:0}ul{padding-left:1.2em;margin:.3em 0}li{margin:.2em 0}\
.big{display:block;font-size:2.6em;font-weight:bold;line-height:1.1}.big.bad{color:#a11}\
figure{margin:1em 0;text-align:center}figure svg{width:100%;max-width:220px;height:auto}\
nav{text-align:right;margin-top:.5em}code{word-break:break-all;font-size:.95em}a{color:#0645ad}#state.bad a{color:#fff}\
.more{font-weight:bold}";

/// `GET /l/{digest}`.
#[utoipa::path(get, path = "/l/{digest}",
    params(("digest" = String, Path, description = "the label's short-form digest (43 base64url characters)"), PageQuery),
    responses((status = 200, description = "the label page (HTML): the security overview, or with `view=technical` the technical details", content_type = "text/html"),
              (status = 404, description = "no such label: a page saying so in English and French", content_type = "text/html")))]
pub(crate) async fn consumer_page(
    State(s): State<Service>,
    Path(digest): Path<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let q = query.as_ref().ok();
    let lang = Lang::choose(
        q.and_then(|q| q.lang.as_deref()),
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let view_kind = View::choose(q.and_then(|q| q.view.as_deref()));
    // Reuse the short form's strict parser (43 canonical base64url characters); a code that
    // does not parse names no label either.
    let Ok((_, d)) = label::parse_short_form(&format!("http://registry/l/{digest}")) else {
        return Ok(not_found(lang));
    };
    let views = s.lookup(&Lookup::Digest(d.to_string())).await?;
    let Some(view) = views.into_iter().next() else {
        return Ok(not_found(lang));
    };
    let mut resp = Html(render_in(&view, lang, view_kind)?).into_response();
    resp.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept-Language"),
    );
    Ok(resp)
}

/// The 404 page: no label with this code, in both languages (the preferred one first).
pub(crate) fn not_found(lang: Lang) -> Response {
    let part = |l: Lang| {
        let w = Words::of(l);
        format!(
            "<section lang=\"{}\"><h1 class=\"bad\">{}</h1>\n<p>{}</p></section>",
            l.code(),
            w.t("not-found-title"),
            w.t("not-found-text")
        )
    };
    let (first, second) = (lang, lang.other());
    let body = format!(
        r#"<!doctype html>
<html lang="{code}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t1} / {t2}</title><style>{STYLE}.bad{{color:#a11}}</style></head>
<body>
{p1}
<hr>
{p2}
</body></html>
"#,
        code = lang.code(),
        t1 = Words::of(first).t("not-found-title"),
        t2 = Words::of(second).t("not-found-title"),
        p1 = part(first),
        p2 = part(second),
    );
    let mut resp = (StatusCode::NOT_FOUND, Html(body)).into_response();
    resp.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept-Language"),
    );
    resp
}

/// `value` as a link when it is an `https:`, `http:` or `mailto:` URI (shown without
/// `mailto:`), else as text; escaped either way.
fn link(value: &str) -> String {
    let has = |scheme: &str| {
        value.len() > scheme.len()
            && value
                .get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    };
    if has("mailto:") {
        format!(
            "<a href=\"{}\">{}</a>",
            attr(value),
            esc(&value["mailto:".len()..])
        )
    } else if has("https://") || has("http://") {
        format!("<a href=\"{}\">{}</a>", attr(value), esc(value))
    } else {
        esc(value).into_owned()
    }
}

/// What the banner says: the status first (a registry decision or the calendar), then the
/// assessment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PageState {
    Good,
    Failed,
    NotAssessed,
    Revoked(String),
    Suspended,
    Expired,
    SupportEnded,
    Superseded(String),
    NotYetValid,
}

impl PageState {
    fn of(status: &Status, outcome: Outcome) -> PageState {
        match status {
            Status::Active => match outcome {
                Outcome::Conformant => PageState::Good,
                Outcome::NonConformant => PageState::Failed,
                Outcome::NotAssessed => PageState::NotAssessed,
            },
            Status::Revoked { reason } => PageState::Revoked(reason.clone()),
            Status::Suspended => PageState::Suspended,
            Status::Expired => PageState::Expired,
            Status::SupportEnded => PageState::SupportEnded,
            Status::Superseded { by } => PageState::Superseded(by.clone()),
            Status::NotYetValid => PageState::NotYetValid,
        }
    }

    /// `data-state` and the message ids' stem.
    fn key(&self) -> &'static str {
        match self {
            PageState::Good => "good",
            PageState::Failed => "failed",
            PageState::NotAssessed => "not-assessed",
            PageState::Revoked(_) => "revoked",
            PageState::Suspended => "suspended",
            PageState::Expired => "expired",
            PageState::SupportEnded => "support-ended",
            PageState::Superseded(_) => "superseded",
            PageState::NotYetValid => "not-yet-valid",
        }
    }
}

/// The plain-words message of a provision's group (`5.1-1` → `group-5-1`, `6-2` → `group-6`).
fn group_message(provision: &str) -> &'static str {
    const GROUPS: [&str; 14] = [
        "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10", "5.11", "5.12",
        "5.13", "6",
    ];
    const IDS: [&str; 14] = [
        "group-5-1",
        "group-5-2",
        "group-5-3",
        "group-5-4",
        "group-5-5",
        "group-5-6",
        "group-5-7",
        "group-5-8",
        "group-5-9",
        "group-5-10",
        "group-5-11",
        "group-5-12",
        "group-5-13",
        "group-6",
    ];
    let group = provision.split('-').next().unwrap_or("");
    GROUPS
        .iter()
        .position(|g| *g == group)
        .map(|i| IDS[i])
        .unwrap_or("group-unknown")
}

/// Everything a page shows, worked out once for both views.
struct Page<'a> {
    view: &'a LabelView,
    c: Claims,
    lang: Lang,
    w: Words,
    state: PageState,
    support_end: time::Date,
    /// The assessor line's value, escaped.
    assessor: String,
    /// Whether the label's own assessor claim matches the registered name.
    assessor_matches: bool,
    /// The baseline level in words (raw text).
    level: String,
    /// When the status was computed, to the second.
    checked_at: String,
}

/// The page for one label in `lang`.
pub(crate) fn render_in(view: &LabelView, lang: Lang, kind: View) -> Result<String, ApiError> {
    let c: Claims = serde_json::from_value(view.claims.clone())
        .map_err(|e| ApiError::new(500, "render", format!("claims: {e}")))?;
    // The latest support-end change in force, by when it takes effect (not by log order, which
    // says only when the registry received it).
    let checked_at = time::OffsetDateTime::parse(
        &view.checked_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|e| ApiError::new(500, "render", format!("checked_at: {e}")))?;
    let support_end = view
        .events
        .iter()
        .filter(|e| e.event.at <= checked_at)
        .filter_map(|e| match &e.event.kind {
            StatusEventKind::SupportEndChanged { end_date } => {
                Some(((e.event.at, e.leaf_index), *end_date))
            }
            _ => None,
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, d)| d)
        .unwrap_or(c.support.end_date);
    let w = Words::of(lang);
    let level = match c.baseline.level.as_str() {
        "mandatory" => w.raw("level-mandatory", &[]),
        "mandatory+recommended" => w.raw("level-mandatory-recommended", &[]),
        other => other.to_string(),
    };
    // The assessor as the operator registered its key; the label's own claim only when it
    // says the same.
    let assessor_matches = c.assessor.name == view.assessor_name;
    let mut assessor = w.ta(
        "assessed-by-value",
        &[
            ("assessor", &view.assessor_name),
            ("baseline", &c.baseline.id),
            ("version", &c.baseline.version),
            ("level", &level),
        ],
    );
    if !assessor_matches {
        assessor = format!("{assessor} {}", w.t("assessor-mismatch"));
    }
    let p = Page {
        view,
        state: PageState::of(&view.status, view.assessment.outcome),
        c,
        lang,
        w,
        support_end,
        assessor,
        assessor_matches,
        level,
        checked_at: label::rfc3339(checked_at.replace_nanosecond(0).unwrap_or(checked_at)),
    };
    let qr = qrcode::QrCode::new(view.consumer_page.as_bytes())
        .map_err(|e| ApiError::new(500, "qr", e.to_string()))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(180, 180)
        .build();
    let body = match kind {
        View::Overview => p.overview(),
        View::Technical => p.technical(),
    };
    let w = &p.w;
    let other = lang.other();
    let title = match kind {
        View::Overview => w.ta("page-title", &[("model", &p.c.product.model)]),
        View::Technical => w.ta("page-title-technical", &[("model", &p.c.product.model)]),
    };
    Ok(format!(
        r#"<!doctype html>
<html lang="{code}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style></head>
<body data-view="{view_key}" data-state="{state_key}">
<nav>{language} <a href="{other_href}" hreflang="{other_code}" lang="{other_code}">{other_name}</a></nav>
<h1>{h1}</h1>
{banner}
{body}
<figure>{qr}<figcaption>{qr_caption} <code>{url}</code></figcaption></figure>
</body></html>
"#,
        code = lang.code(),
        view_key = match kind {
            View::Overview => "overview",
            View::Technical => "technical",
        },
        state_key = p.state.key(),
        language = w.t("language"),
        other_href = kind.href(other),
        other_code = other.code(),
        other_name = w.t("other-language"),
        h1 = match kind {
            View::Overview => w.t("overview"),
            View::Technical => w.t("technical"),
        },
        banner = p.banner(),
        qr_caption = w.t("qr-caption"),
        url = esc(&view.consumer_page),
    ))
}

impl Page<'_> {
    fn good(&self) -> bool {
        self.state == PageState::Good
    }

    /// The green or red banner: a headline and what it means for the buyer.
    fn banner(&self) -> String {
        let w = &self.w;
        let key = self.state.key();
        let text = match &self.state {
            PageState::Revoked(reason) => w.ta("state-revoked-text", &[("reason", reason)]),
            PageState::Superseded(by) => w.ta("state-superseded-text", &[("by", by)]),
            PageState::Expired => w.ta(
                "state-expired-text",
                &[("until", &self.c.validity.not_after.date().to_string())],
            ),
            PageState::SupportEnded => w.ta(
                "state-support-ended-text",
                &[("end", &self.support_end.to_string())],
            ),
            PageState::NotYetValid => w.ta(
                "state-not-yet-valid-text",
                &[("from", &self.c.validity.not_before.date().to_string())],
            ),
            _ => w.t(&format!("state-{key}-text")),
        };
        let also = if !self.view.status.is_active()
            && self.view.assessment.outcome == Outcome::NonConformant
        {
            format!("<p>{}</p>", w.t("also-failed"))
        } else {
            String::new()
        };
        format!(
            "<div id=\"state\" class=\"{class}\" data-state=\"{key}\" role=\"status\">\n\
             <h2 id=\"verdict\" data-outcome=\"{outcome}\" data-good=\"{good}\">{title}</h2>\n\
             <p id=\"words\">{text}</p>{also}\n</div>",
            class = if self.good() { "ok" } else { "bad" },
            outcome = self.view.assessment.outcome.as_str(),
            good = self.good(),
            title = w.t(&format!("state-{key}-title")),
        )
    }

    /// Product, model, manufacturer.
    fn product(&self) -> String {
        let w = &self.w;
        format!(
            "<section id=\"product\"><dl>\n<dt>{}</dt><dd id=\"model\">{}</dd>\n<dt>{}</dt><dd>{}</dd>\n<dt>{}</dt><dd id=\"manufacturer\">{}</dd>\n</dl></section>",
            w.t("product"),
            esc(&self.c.product.model),
            w.t("hardware-revision"),
            esc(&self.c.product.hardware_revision),
            w.t("manufacturer"),
            esc(&self.c.manufacturer.name),
        )
    }

    fn status_words(&self) -> String {
        let w = &self.w;
        match &self.view.status {
            Status::Active => w.t("status-active"),
            Status::SupportEnded => w.t("status-support-ended"),
            Status::Suspended => w.t("status-suspended"),
            Status::Revoked { reason } => w.ta("status-revoked", &[("reason", reason)]),
            Status::Superseded { by } => w.ta("status-superseded", &[("by", by)]),
            Status::NotYetValid => w.t("status-not-yet-valid"),
            Status::Expired => w.t("status-expired"),
        }
    }

    /// A list of provisions with their plain words.
    fn provisions(&self, ids: &[String]) -> String {
        let items: String = ids
            .iter()
            .map(|p| {
                format!(
                    "<li><code>{}</code> {}</li>",
                    esc(p),
                    self.w.t(group_message(p))
                )
            })
            .collect();
        format!("<ul>{items}</ul>")
    }

    /// L1: the security overview.
    fn overview(&self) -> String {
        let w = &self.w;
        let c = &self.c;
        let a = &self.view.assessment;
        let ended = matches!(self.view.status, Status::SupportEnded);
        let update_mode = w.t(match c.support.update_mode {
            UpdateMode::Automatic => "update-automatic",
            UpdateMode::UserInitiated => "update-user-initiated",
            UpdateMode::Manual => "update-manual",
            UpdateMode::None => "update-none",
        });
        let credentials = w.t(match c.credentials_policy {
            CredentialsPolicy::UniquePerDevice => "credentials-unique-per-device",
            CredentialsPolicy::UserSet => "credentials-user-set",
            CredentialsPolicy::None => "credentials-none",
        });
        let vd = &c.vulnerability_disclosure;
        let report_to = vd
            .contact
            .as_deref()
            .unwrap_or(&c.manufacturer.security_contact);
        let policy = vd
            .url
            .as_deref()
            .map(|u| {
                format!(
                    "<dt>{}</dt><dd>{}</dd>\n",
                    w.t("disclosure-policy"),
                    link(u)
                )
            })
            .unwrap_or_default();
        let failed = if a.failing.is_empty() {
            format!("<p>{}</p>", w.t("failed-none"))
        } else {
            let count = w.raw(
                "failed-count",
                &[("count", FluentValue::from(a.failing.len()))],
            );
            format!("<p>{}</p>{}", esc(&count), self.provisions(&a.failing))
        };
        let undecided = if a.undecided.is_empty() {
            String::new()
        } else {
            format!(
                "<dt>{}</dt><dd>{}</dd>\n",
                w.t("undecided"),
                self.provisions(&a.undecided)
            )
        };
        format!(
            r#"<section id="about"><h2>{about_title}</h2><p>{about_text}</p></section>
{product}
<section id="security"><h2>{security_title}</h2><dl>
<dt>{support}</dt><dd>{support_lead} <strong id="support-end" class="big{big_class}">{support_end}</strong></dd>
<dt>{update_mode_t}</dt><dd id="update-mode">{update_mode}</dd>
<dt>{access_control}</dt><dd id="passwords">{credentials}</dd>
<dt>{report_problem}</dt><dd id="contact">{report_to}</dd>
{policy}<dt>{technical}</dt><dd><a class="more" id="to-technical" href="{tech_href}">{technical_link}</a></dd>
</dl></section>
<section id="assessment"><h2>{assessment_title}</h2><dl>
<dt>{failed_t}</dt><dd id="failed">{failed}</dd>
{undecided}<dt>{assessed_by}</dt><dd>{assessor}</dd>
<dt>{assessment_date}</dt><dd>{date}</dd>
<dt>{issued_under}</dt><dd>{issuer}</dd>
<dt>{validity}</dt><dd>{validity_value}</dd>
<dt>{status}</dt><dd id="status">{status_words} {checked}</dd>
</dl></section>
<p><a href="/v1/labels/{id_url}">{machine}</a></p>"#,
            about_title = w.t("about-title"),
            about_text = w.t("about-text"),
            product = self.product(),
            security_title = w.t("security-title"),
            support = w.t("support"),
            support_lead = w.t(if ended {
                "support-ended-on"
            } else {
                "support-until"
            }),
            big_class = if ended { " bad" } else { "" },
            support_end = self.support_end,
            update_mode_t = w.t("update-mode"),
            access_control = w.t("access-control"),
            report_problem = w.t("report-problem"),
            report_to = link(report_to),
            technical = w.t("technical"),
            tech_href = View::Technical.href(self.lang),
            technical_link = w.t("technical-link"),
            assessment_title = w.t("assessment-title"),
            failed_t = w.t("failed"),
            assessed_by = w.t("assessed-by"),
            assessor = self.assessor,
            assessment_date = w.t("assessment-date"),
            date = c.assessment.date,
            issued_under = w.t("issued-under"),
            issuer = link(&c.issuer),
            validity = w.t("validity"),
            validity_value = self.validity_value(),
            status = w.t("status"),
            status_words = self.status_words(),
            checked = w.ta("status-checked", &[("at", &self.checked_at)]),
            id_url = attr(&percent_encode(&self.view.label_id)),
            machine = w.t("machine-readable"),
        )
    }

    fn validity_value(&self) -> String {
        self.w.ta(
            "validity-value",
            &[
                ("from", &label::rfc3339(self.c.validity.not_before)),
                ("until", &label::rfc3339(self.c.validity.not_after)),
            ],
        )
    }

    /// L2: the technical details.
    fn technical(&self) -> String {
        let w = &self.w;
        let c = &self.c;
        let v = self.view;
        let software: String = c
            .software
            .iter()
            .map(|s| {
                format!(
                    "<dl class=\"software\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><code>{}</code></dd></dl>\n",
                    w.t("software-component"),
                    esc(&s.component),
                    w.t("software-version"),
                    esc(&s.version),
                    w.t("software-digest"),
                    s.image_sha256,
                )
            })
            .collect();
        let sbom = match &c.sbom_sha256 {
            Some(d) => format!("<p id=\"sbom\">{} <code>{d}</code></p>", w.t("sbom-yes")),
            None => format!("<p id=\"sbom\">{}</p>", w.t("sbom-no")),
        };
        let dp = &c.data_practices;
        let privacy = dp
            .policy_url
            .as_deref()
            .map(|u| {
                format!(
                    "<dl><dt>{}</dt><dd>{}</dd></dl>",
                    w.t("privacy-policy"),
                    link(u)
                )
            })
            .unwrap_or_default();
        let mud = match &c.network_profile.mud_url {
            Some(u) => format!("<dt>{}</dt><dd>{}</dd>", w.t("mud-url"), link(u)),
            None => format!("<dd>{}</dd>", w.t("mud-none")),
        };
        let verdicts = if c.assessment.verdicts.is_empty() {
            format!("<p>{}</p>", w.t("verdicts-none"))
        } else {
            let items: String = c
                .assessment
                .verdicts
                .iter()
                .map(|pv| {
                    let verdict = w.t(match pv.verdict {
                        Verdict::Pass => "verdict-pass",
                        Verdict::Fail => "verdict-fail",
                        Verdict::CannotTell => "verdict-cannot-tell",
                        Verdict::NotApplicable => "verdict-not-applicable",
                    });
                    // The catalog's paraphrase is in English only: on the English page.
                    let paraphrase = match self.lang {
                        Lang::En => label::conformance::catalog()
                            .provision(&pv.provision)
                            .map(|x| format!(" <small>({})</small>", esc(&x.paraphrase)))
                            .unwrap_or_default(),
                        Lang::Fr => String::new(),
                    };
                    format!(
                        "<li data-verdict=\"{}\"><code>{}</code> <strong>{verdict}</strong> — {}{paraphrase}</li>",
                        verdict_key(pv.verdict),
                        esc(&pv.provision),
                        w.t(group_message(&pv.provision)),
                    )
                })
                .collect();
            format!("<ul id=\"verdicts\">{items}</ul>")
        };
        let accreditation = match (&c.assessor.accreditation, self.assessor_matches) {
            (Some(a), true) => format!("<dt>{}</dt><dd>{}</dd>\n", w.t("accreditation"), esc(a)),
            _ => String::new(),
        };
        let mut cp = v.bundle.checkpoint.lines();
        let (origin, size, root) = (
            cp.next().unwrap_or(""),
            cp.next().unwrap_or(""),
            cp.next().unwrap_or(""),
        );
        let events = if v.events.is_empty() {
            format!("<p>{}</p>", w.t("events-none"))
        } else {
            let items: String = v
                .events
                .iter()
                .map(|e| {
                    let what = match &e.event.kind {
                        StatusEventKind::Revoked { reason } => {
                            w.raw("event-revoked", &[("reason", reason.as_str().into())])
                        }
                        StatusEventKind::Superseded { by } => {
                            w.raw("event-superseded", &[("by", by.as_str().into())])
                        }
                        StatusEventKind::Suspended => w.raw("event-suspended", &[]),
                        StatusEventKind::Reinstated => w.raw("event-reinstated", &[]),
                        StatusEventKind::SupportEndChanged { end_date } => w.raw(
                            "event-support-end-changed",
                            &[("date", end_date.to_string().into())],
                        ),
                    };
                    format!(
                        "<li>{}</li>",
                        w.ta(
                            "event-line",
                            &[
                                ("at", &label::rfc3339(e.event.at)),
                                ("what", &what),
                                ("leaf", &e.leaf_index.to_string()),
                            ],
                        )
                    )
                })
                .collect();
            format!("<ul id=\"events\">{items}</ul>")
        };
        let vd = &c.vulnerability_disclosure;
        let mut addresses: Vec<&str> = Vec::new();
        for u in [
            Some(c.manufacturer.security_contact.as_str()),
            vd.contact.as_deref(),
            vd.url.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            if !addresses.contains(&u) {
                addresses.push(u);
            }
        }
        let contacts: String = addresses
            .iter()
            .map(|u| format!("<dt>{}</dt><dd>{}</dd>\n", w.t("report-problem"), link(u)))
            .collect();
        format!(
            r#"<section id="intro"><p>{intro} <a class="more" id="to-overview" href="{overview_href}">{overview_link}</a></p></section>
{product}
<section id="technical"><h2>{tech_title}</h2>
<h3>{software_title}</h3>
{software}<h3>{sbom_title}</h3>
{sbom}
<h3>{data_title}</h3>
<p>{personal}</p><p>{deletion}</p>{privacy}
<h3>{network_title}</h3>
<dl>{mud}</dl>
<h3>{verdicts_title}</h3>
<dl><dt>{baseline_t}</dt><dd>{baseline} {baseline_version} ({level})</dd>
<dt>{method_t}</dt><dd>{method}</dd>
<dt>{assessed_by}</dt><dd>{assessor}</dd>
{accreditation}<dt>{assessment_date}</dt><dd>{date}</dd></dl>
{verdicts}
</section>
<section id="label"><h2>{label_title}</h2><dl>
<dt>{label_id}</dt><dd><code id="label-id">{id}</code></dd>
<dt>{label_schema}</dt><dd>{schema}</dd>
<dt>{issued_under}</dt><dd>{issuer}</dd>
<dt>{validity}</dt><dd>{validity_value}</dd>
<dt>{status}</dt><dd id="status">{status_words} {checked}</dd>
<dt>{label_digest}</dt><dd><code id="label-digest">{digest}</code></dd>
<dt>{signing_key}</dt><dd><code>{kid}</code></dd>
<dt>{log_entry}</dt><dd id="log-entry">{log_entry_value}</dd>
<dt>{checkpoint}</dt><dd id="checkpoint">{checkpoint_value}</dd>
<dt>{checkpoint_root}</dt><dd><code>{root}</code></dd>
</dl>
<h3>{events_title}</h3>
{events}
</section>
<section id="links"><h2>{links_title}</h2><dl>
{contacts}</dl><ul>
<li><a href="{overview_href}">{overview_link}</a></li>
<li><a href="/v1/labels/{id_url}">{machine}</a></li>
<li><a href="/checkpoint">{checkpoint_link}</a></li>
</ul></section>"#,
            intro = w.t("technical-intro"),
            overview_href = View::Overview.href(self.lang),
            overview_link = w.t("overview-link"),
            product = self.product(),
            tech_title = w.t("tech-title"),
            software_title = w.t("software-title"),
            sbom_title = w.t("sbom-title"),
            data_title = w.t("data-title"),
            personal = w.t(if dp.personal_data {
                "data-personal-yes"
            } else {
                "data-personal-no"
            }),
            deletion = w.t(if dp.user_deletion {
                "data-deletion-yes"
            } else {
                "data-deletion-no"
            }),
            network_title = w.t("network-title"),
            verdicts_title = w.t("verdicts-title"),
            baseline_t = w.t("baseline"),
            baseline = esc(&c.baseline.id),
            baseline_version = esc(&c.baseline.version),
            level = esc(&self.level),
            method_t = w.t("assessment-method"),
            method = esc(&c.assessment.method),
            assessed_by = w.t("assessed-by"),
            assessor = self.assessor,
            assessment_date = w.t("assessment-date"),
            date = c.assessment.date,
            label_title = w.t("label-title"),
            label_id = w.t("label-id"),
            id = esc(&v.label_id),
            label_schema = w.t("label-schema"),
            schema = esc(&c.schema),
            issued_under = w.t("issued-under"),
            issuer = link(&c.issuer),
            validity = w.t("validity"),
            validity_value = self.validity_value(),
            status = w.t("status"),
            status_words = self.status_words(),
            checked = w.ta("status-checked", &[("at", &self.checked_at)]),
            label_digest = w.t("label-digest"),
            digest = esc(&v.digest),
            signing_key = w.t("signing-key"),
            kid = esc(&v.kid),
            log_entry = w.t("log-entry"),
            log_entry_value = w.ta("log-entry-value", &[("leaf", &v.leaf_index.to_string())]),
            checkpoint = w.t("checkpoint"),
            checkpoint_value = w.ta("checkpoint-value", &[("origin", origin), ("size", size)]),
            checkpoint_root = w.t("checkpoint-root"),
            root = esc(root),
            events_title = w.t("events-title"),
            links_title = w.t("links-title"),
            id_url = attr(&percent_encode(&v.label_id)),
            machine = w.t("machine-readable"),
            checkpoint_link = w.t("checkpoint-link"),
        )
    }
}

fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::CannotTell => "cannot-tell",
        Verdict::NotApplicable => "not-applicable",
    }
}

/// A path segment: everything but ASCII alphanumerics percent-encoded.
fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use fluent_syntax::ast::Entry;
    use label::Conformance;
    use time::OffsetDateTime;

    use super::*;

    fn ids(name: &str, src: &str) -> BTreeSet<String> {
        let res = FluentResource::try_new(src.to_string())
            .unwrap_or_else(|(_, e)| panic!("{name} does not parse: {e:?}"));
        res.entries()
            .filter_map(|e| match e {
                Entry::Message(m) => Some(m.id.name.to_string()),
                Entry::Term(t) => Some(format!("-{}", t.id.name)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn both_languages_hold_the_same_message_ids() {
        let en = ids("en.ftl", EN_FTL);
        let fr = ids("fr.ftl", FR_FTL);
        assert!(en.len() > 100, "{}", en.len());
        let only_en: Vec<_> = en.difference(&fr).collect();
        let only_fr: Vec<_> = fr.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_fr.is_empty(),
            "only in en.ftl: {only_en:?}; only in fr.ftl: {only_fr:?}"
        );
    }

    #[test]
    fn every_group_message_exists() {
        for p in label::conformance::catalog().provisions.iter() {
            let id = group_message(&p.id);
            assert_ne!(id, "group-unknown", "{}", p.id);
        }
        assert_eq!(group_message("5.10-1"), "group-5-10");
        assert_eq!(group_message("5.1-1"), "group-5-1");
        assert_eq!(group_message("6-2"), "group-6");
        assert_eq!(group_message("x"), "group-unknown");
    }

    fn view(c: &Claims, status: Status) -> LabelView {
        LabelView {
            label_id: c.id.clone(),
            digest: "ab".repeat(32),
            kid: "cd".repeat(32),
            assessor_name: c.assessor.name.clone(),
            leaf_index: 7,
            assessment: Conformance::of(c),
            status,
            status_words: String::new(),
            status_words_fr: String::new(),
            checked_at: label::rfc3339(OffsetDateTime::now_utc()),
            claims: serde_json::to_value(c).unwrap(),
            consumer_page: "http://registry.test/l/AAAA".into(),
            bundle: tlog::ProofBundle {
                format: tlog::BUNDLE_FORMAT.into(),
                entry: vec![1, 2, 3],
                leaf_index: 7,
                inclusion_proof: vec![],
                checkpoint:
                    "registry.test/log\n8\nq83vEjR+4EMvQ1TDmPdH8LyBYvp8TKEF+NRFfSv0Vys=\n\n— x\n"
                        .into(),
                statements: None,
            },
            events: vec![],
        }
    }

    /// Every state, both languages, both views: every message the code names exists and
    /// formats without error (`Words::raw` asserts it), and each state reads as it should.
    #[test]
    fn every_state_renders_in_both_languages_and_views() {
        let mut failing = label::example_claims();
        failing.assessment.verdicts[0].verdict = Verdict::Fail;
        let mut none = label::example_claims();
        none.assessment.verdicts.clear();
        let ok = label::example_claims();
        let cases: Vec<(&Claims, Status, &str)> = vec![
            (&ok, Status::Active, "good"),
            (&failing, Status::Active, "failed"),
            (&none, Status::Active, "not-assessed"),
            (
                &failing,
                Status::Revoked {
                    reason: "default password".into(),
                },
                "revoked",
            ),
            (&ok, Status::Suspended, "suspended"),
            (&ok, Status::Expired, "expired"),
            (&ok, Status::SupportEnded, "support-ended"),
            (
                &ok,
                Status::Superseded {
                    by: "urn:x:2".into(),
                },
                "superseded",
            ),
            (&ok, Status::NotYetValid, "not-yet-valid"),
        ];
        for (c, status, key) in cases {
            let v = view(c, status);
            for lang in [Lang::En, Lang::Fr] {
                for kind in [View::Overview, View::Technical] {
                    let page = render_in(&v, lang, kind).unwrap();
                    assert!(
                        page.contains(&format!("data-state=\"{key}\"")),
                        "{key}: {page}"
                    );
                    let green = page.contains("<div id=\"state\" class=\"ok\"");
                    assert_eq!(green, key == "good", "{key} {lang:?} {kind:?}");
                    assert!(page.contains("<svg"), "QR code");
                }
            }
        }
    }

    #[test]
    fn label_values_are_escaped_and_links_only_for_known_schemes() {
        let mut c = label::example_claims();
        c.product.model = "<script>alert(1)</script>".into();
        c.manufacturer.name = "A & B \"quoted\"".into();
        c.manufacturer.security_contact =
            "mailto:x\"><img src=x onerror=alert(1)>@a.example".into();
        c.software[0].version = "<b>1</b>".into();
        let v = view(
            &c,
            Status::Revoked {
                reason: "<i>r</i>".into(),
            },
        );
        for lang in [Lang::En, Lang::Fr] {
            for kind in [View::Overview, View::Technical] {
                let page = render_in(&v, lang, kind).unwrap();
                for bad in ["<script>", "<img", "<b>1", "<i>r"] {
                    assert!(!page.contains(bad), "{bad} in {page}");
                }
                assert!(
                    page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                    "{page}"
                );
            }
        }
        assert_eq!(link("javascript:alert(1)"), "javascript:alert(1)");
        assert_eq!(
            link("mailto:a@b.example"),
            "<a href=\"mailto:a@b.example\">a@b.example</a>"
        );
        assert!(link("https://a.example/?a=1&b=\"2\"")
            .starts_with("<a href=\"https://a.example/?a=1&amp;b=&quot;2&quot;\">"));
    }
}
