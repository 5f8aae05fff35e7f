//! The consumer page a label's QR code points to (`GET /l/<base64url digest>`, the short form of
//! `label::short_form`): product, vendor, support end, status and assessment outcome in plain
//! words, and the QR code itself as SVG. Every value from a label is HTML-escaped.
//!
//! The page is in English or French, chosen from `?lang=en|fr`, else the browser's
//! `Accept-Language` (the first of English or French it prefers; English otherwise), and
//! links to the other language. Only a label that is active **and** whose assessment conforms
//! is shown in green. A code that names no label in this registry (a counterfeit or mistyped
//! QR code) gets a page (HTTP 404) saying so in both languages, never raw JSON. The layout is
//! one column that fits a 390 px wide phone screen.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use html_escape::encode_text as esc;
use label::{Outcome, StatusEventKind};
use serde::Deserialize;

use crate::api_error::ApiError;
use crate::service::{Lookup, Service};
use crate::types::LabelView;

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

/// `?lang=en|fr`.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Page language, `en` or `fr` (default: from `Accept-Language`).
    lang: Option<String>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40em;margin:1em auto;padding:0 1em;line-height:1.4;overflow-wrap:anywhere}\
h1{font-size:1.5em}h2{font-size:1.2em}.ok{color:#0a6b2d}.warn{color:#a11}.bad{color:#a11;border:3px solid #a11;padding:.5em}\
dt{font-weight:bold;margin-top:.6em}dd{margin-left:1em}figure{margin:1em 0}figure svg{width:100%;max-width:220px;height:auto}\
nav{text-align:right}code{word-break:break-all}";

/// `GET /l/{digest}`.
#[utoipa::path(get, path = "/l/{digest}",
    params(("digest" = String, Path, description = "the label's short-form digest (43 base64url characters)"), PageQuery),
    responses((status = 200, description = "the consumer page (HTML)", content_type = "text/html"),
              (status = 404, description = "no such label: a page saying so in English and French", content_type = "text/html")))]
pub(crate) async fn consumer_page(
    State(s): State<Service>,
    Path(digest): Path<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = Lang::choose(
        query.as_ref().ok().and_then(|q| q.lang.as_deref()),
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    // Reuse the short form's strict parser (43 canonical base64url characters); a code that
    // does not parse names no label either.
    let Ok((_, d)) = label::parse_short_form(&format!("http://registry/l/{digest}")) else {
        return Ok(not_found(lang));
    };
    let views = s.lookup(&Lookup::Digest(d.to_string())).await?;
    let Some(view) = views.into_iter().next() else {
        return Ok(not_found(lang));
    };
    let mut resp = Html(render_in(&view, lang)?).into_response();
    resp.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept-Language"),
    );
    Ok(resp)
}

/// The 404 page: no label with this code, in both languages (the preferred one first).
pub(crate) fn not_found(lang: Lang) -> Response {
    let en = r#"<section lang="en"><h1 class="bad">No such label</h1>
<p>This registry holds no security label for this code. The label or QR code you scanned is not genuine, or it was mistyped: do not rely on it. Ask the seller or the manufacturer for a genuine label.</p></section>"#;
    let fr = r#"<section lang="fr"><h1 class="bad">Ce label n'existe pas</h1>
<p>Ce registre ne contient aucun label de sécurité pour ce code. Le label ou le QR code scanné n'est pas authentique, ou il a été mal saisi : ne vous y fiez pas. Demandez un label authentique au vendeur ou au fabricant.</p></section>"#;
    let (first, second) = match lang {
        Lang::En => (en, fr),
        Lang::Fr => (fr, en),
    };
    let body = format!(
        r#"<!doctype html>
<html lang="{code}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{STYLE}</style></head>
<body>
{first}
<hr>
{second}
</body></html>
"#,
        code = lang.code(),
        title = match lang {
            Lang::En => "No such label / Ce label n'existe pas",
            Lang::Fr => "Ce label n'existe pas / No such label",
        },
    );
    let mut resp = (StatusCode::NOT_FOUND, Html(body)).into_response();
    resp.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept-Language"),
    );
    resp
}

fn claim<'a>(v: &'a serde_json::Value, path: &[&str]) -> &'a str {
    let mut at = v;
    for p in path {
        at = &at[*p];
    }
    at.as_str().unwrap_or("")
}

/// The page for one label in `lang`.
pub(crate) fn render_in(view: &LabelView, lang: Lang) -> Result<String, ApiError> {
    let c = &view.claims;
    let qr = qrcode::QrCode::new(view.consumer_page.as_bytes())
        .map_err(|e| ApiError::new(500, "qr", e.to_string()))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(180, 180)
        .build();
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
                Some(((e.event.at, e.leaf_index), end_date.to_string()))
            }
            _ => None,
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, d)| d)
        .unwrap_or_else(|| claim(c, &["support", "end-date"]).to_string());
    let fr = lang == Lang::Fr;
    // The assessor as the operator registered its key; the label's own claim only when it
    // says the same.
    let claimed = claim(c, &["assessor", "name"]);
    let assessor = if claimed == view.assessor_name {
        esc(&view.assessor_name).to_string()
    } else if fr {
        format!(
            "{} (le nom que le registre donne à la clé qui a signé ce label ; le label lui-même nomme un autre évaluateur, non affiché)",
            esc(&view.assessor_name)
        )
    } else {
        format!(
            "{} (the registry's name for the key that signed this label; the label itself names another assessor, which is not shown)",
            esc(&view.assessor_name)
        )
    };
    let a = &view.assessment;
    let good = label::is_good(&view.status, a);
    let state_class = if good { "ok" } else { "warn" };
    let words = if fr {
        label::summary_words_fr(&view.status, a)
    } else {
        label::summary_words(&view.status, a)
    };
    let headline = match (good, view.status.is_active(), a.outcome, fr) {
        (true, _, _, false) => "Passed its security assessment",
        (true, _, _, true) => "Évaluation de sécurité réussie",
        (false, true, Outcome::NonConformant, false) => "FAILED its security assessment",
        (false, true, Outcome::NonConformant, true) => "A ÉCHOUÉ à son évaluation de sécurité",
        (false, true, _, false) => "Not assessed: this label proves nothing about security",
        (false, true, _, true) => "Non évalué : ce label ne prouve rien sur la sécurité",
        (false, false, _, false) => "This label is no longer in force",
        (false, false, _, true) => "Ce label n'est plus en vigueur",
    };
    let failing = if a.failing.is_empty() {
        String::new()
    } else {
        let items: String = a
            .failing
            .iter()
            .map(|p| {
                let text = label::conformance::catalog()
                    .provision(p)
                    .map(|x| x.paraphrase.as_str())
                    .unwrap_or("");
                format!("<li><code>{}</code> {}</li>", esc(p), esc(text))
            })
            .collect();
        format!(
            "<dt>{}</dt><dd><ul>{items}</ul></dd>",
            if fr {
                "Exigences non satisfaites"
            } else {
                "Requirements not met"
            }
        )
    };
    let t = |en: &'static str, fr_text: &'static str| if fr { fr_text } else { en };
    let other = lang.other();
    Ok(format!(
        r#"<!doctype html>
<html lang="{code}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: {model}</title>
<style>{STYLE}</style></head>
<body>
<nav><a href="?lang={other_code}" hreflang="{other_code}" lang="{other_code}">{other_name}</a></nav>
<h1>{model} <small>{hw_word} {hw}</small></h1>
<p>{made_by} <strong>{vendor}</strong>.</p>
<h2 class="{state_class}" id="verdict" data-outcome="{outcome}" data-good="{good}">{headline}</h2>
<p class="{state_class}" id="words">{words}</p>
<dl>
{failing}<dt>{updates_until}</dt><dd>{support_end} ({update_mode})</dd>
<dt>{assessed_by}</dt><dd>{assessor} {against} {baseline} {baseline_version} ({level})</dd>
<dt>{report}</dt><dd>{contact}</dd>
<dt>{label_word}</dt><dd><code>{id}</code>, {entry_word} {leaf} {log_words}</dd>
</dl>
<figure>{qr}<figcaption><code>{url}</code></figcaption></figure>
<p><a href="/v1/labels/{id_url}">{machine}</a></p>
</body></html>
"#,
        code = lang.code(),
        title = t("Security label", "Label de sécurité"),
        other_code = other.code(),
        other_name = match other {
            Lang::En => "English",
            Lang::Fr => "Français",
        },
        model = esc(claim(c, &["product", "model"])),
        hw_word = t("hardware", "matériel"),
        hw = esc(claim(c, &["product", "hardware-revision"])),
        made_by = t("Made by", "Fabriqué par"),
        vendor = esc(claim(c, &["manufacturer", "name"])),
        outcome = a.outcome.as_str(),
        headline = headline,
        words = esc(&words),
        updates_until = t(
            "Security updates until",
            "Mises à jour de sécurité jusqu'au"
        ),
        support_end = esc(&support_end),
        update_mode = {
            let (en, fr) = label::update_mode_words(claim(c, &["support", "update-mode"]));
            t(en, fr)
        },
        assessed_by = t("Assessed by", "Évalué par"),
        assessor = assessor,
        against = t("against", "selon"),
        baseline = esc(claim(c, &["baseline", "id"])),
        baseline_version = esc(claim(c, &["baseline", "version"])),
        level = match lang {
            Lang::En => esc(claim(c, &["baseline", "level"])).to_string(),
            Lang::Fr => esc(&label::level_words_fr(claim(c, &["baseline", "level"]))).to_string(),
        },
        report = t(
            "Report a security problem",
            "Signaler un problème de sécurité"
        ),
        contact = esc(claim(c, &["manufacturer", "security-contact"])),
        label_word = t("Label", "Label"),
        entry_word = t("entry", "entrée"),
        log_words = t(
            "of the registry's public log",
            "du journal public du registre"
        ),
        id = esc(&view.label_id),
        leaf = view.leaf_index,
        qr = qr,
        url = esc(&view.consumer_page),
        id_url = html_escape::encode_double_quoted_attribute(&percent_encode(&view.label_id)),
        machine = t(
            "Machine-readable label with proof",
            "Label lisible par machine, avec preuve"
        ),
    ))
}

/// A path segment: everything but ASCII alphanumerics percent-encoded.
fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
