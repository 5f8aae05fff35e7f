//! The consumer page a label's QR code points to (`GET /l/<base64url digest>`, the short form of
//! `label::short_form`): product, vendor, support end, status in plain words, and the QR code
//! itself as SVG. Every value from a label is HTML-escaped.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use html_escape::encode_text as esc;
use label::StatusEventKind;

use crate::service::{ApiError, Lookup, Service};
use crate::types::LabelView;

/// `GET /l/{digest}`.
pub async fn consumer_page(
    State(s): State<Service>,
    Path(digest): Path<String>,
) -> Result<Response, ApiError> {
    // Reuse the short form's strict parser (43 canonical base64url characters).
    let (_, d) = label::parse_short_form(&format!("http://registry/l/{digest}"))
        .map_err(|e| ApiError::new(400, "bad-digest", e.to_string()))?;
    let views = s.lookup(&Lookup::Digest(d.to_string())).await?;
    let view = views
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::new(404, "not-found", "no label with this digest"))?;
    Ok(Html(render(&view)?).into_response())
}

fn claim<'a>(v: &'a serde_json::Value, path: &[&str]) -> &'a str {
    let mut at = v;
    for p in path {
        at = &at[*p];
    }
    at.as_str().unwrap_or("")
}

/// The page for one label.
pub fn render(view: &LabelView) -> Result<String, ApiError> {
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
    // The assessor as the operator registered its key; the label's own claim only when it
    // says the same.
    let claimed = claim(c, &["assessor", "name"]);
    let assessor = if claimed == view.assessor_name {
        esc(&view.assessor_name).to_string()
    } else {
        format!(
            "{} (the registry's name for the key that signed this label; the label itself names another assessor, which is not shown)",
            esc(&view.assessor_name)
        )
    };
    let state_class = if view.status.is_active() {
        "ok"
    } else {
        "warn"
    };
    Ok(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Security label: {model}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}
.ok{{color:#0a6b2d}}.warn{{color:#a11}}dt{{font-weight:bold;margin-top:.6em}}</style></head>
<body>
<h1>{model} <small>hardware {hw}</small></h1>
<p>Made by <strong>{vendor}</strong>.</p>
<h2 class="{state_class}">{words}</h2>
<dl>
<dt>Security updates until</dt><dd>{support_end} ({update_mode} updates)</dd>
<dt>Assessed by</dt><dd>{assessor} against {baseline} {baseline_version} ({level})</dd>
<dt>Report a security problem</dt><dd>{contact}</dd>
<dt>Label</dt><dd><code>{id}</code>, entry {leaf} of the registry's public log</dd>
</dl>
<figure>{qr}<figcaption>{url}</figcaption></figure>
<p><a href="/v1/labels/{id_url}">Machine-readable label with proof</a></p>
</body></html>
"#,
        model = esc(claim(c, &["product", "model"])),
        hw = esc(claim(c, &["product", "hardware-revision"])),
        vendor = esc(claim(c, &["manufacturer", "name"])),
        words = esc(&view.status_words),
        support_end = esc(&support_end),
        update_mode = esc(claim(c, &["support", "update-mode"])),
        assessor = assessor,
        baseline = esc(claim(c, &["baseline", "id"])),
        baseline_version = esc(claim(c, &["baseline", "version"])),
        level = esc(claim(c, &["baseline", "level"])),
        contact = esc(claim(c, &["manufacturer", "security-contact"])),
        id = esc(&view.label_id),
        leaf = view.leaf_index,
        qr = qr,
        url = esc(&view.consumer_page),
        id_url = html_escape::encode_double_quoted_attribute(&percent_encode(&view.label_id)),
    ))
}

/// A path segment: everything but ASCII alphanumerics percent-encoded.
fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
