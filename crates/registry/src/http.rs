//! The HTTP API (axum). Routes:
//!
//! | method, path | what |
//! |---|---|
//! | `POST /v1/labels` | submit a label (body: COSE_Sign1 bytes, `application/cose`), 201 [`Submitted`] |
//! | `POST /v1/statements` | submit a status statement (COSE_Sign1, [`crate::statement`]), 201 |
//! | `GET /v1/labels/{id}` | one label: status + offline proof bundle ([`LabelView`]) |
//! | `GET /v1/lookup?digest=HEX` / `?firmware=HEX` / `?mud-url=URL` | [`LookupAnswer`] |
//! | `POST /v1/status/batch` | many statuses at once ([`BatchRequest`] → [`BatchAnswer`]) |
//! | `GET /v1/consistency?old=N&new=M` | RFC 9162 §2.1.4 proof |
//! | `GET /v1/log` | origin, verifier key, size |
//! | `GET /checkpoint`, `GET /tile/<L>/<N>[.p/<W>]`, `GET /tile/entries/<N>[.p/<W>]` | C2SP tlog-tiles |
//! | `GET /l/<base64url digest>` | consumer page (HTML, QR code as SVG) |
//! | `GET /metrics`, `GET /openapi.json`, `GET /healthz` | operations |
//!
//! Every refusal is JSON `{"error": code, "message": text}` with a 4xx/5xx status; bodies over
//! the per-route limit get 413 before they are read in full.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde::Deserialize;
use tlog::tile::{encode_entry_bundle, EntryBundle, Tile, TILE_HEIGHT};

use crate::api_error::{new_request_id, with_id, ApiError};
use crate::service::{Lookup, Service};
use crate::types::*;

/// Largest label body accepted.
pub const MAX_LABEL_BODY: usize = 64 * 1024;
/// Largest status statement body accepted.
pub const MAX_STATEMENT_BODY: usize = 16 * 1024;
/// Largest batch request body accepted.
pub const MAX_BATCH_BODY: usize = 2 * 1024 * 1024;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            Json(ErrorBody {
                error: self.code.to_string(),
                message: self.message,
            }),
        )
            .into_response()
    }
}

fn body_error(r: BytesRejection) -> ApiError {
    let status = r.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(413, "body-too-large", r.body_text())
    } else {
        ApiError::new(status.as_u16(), "bad-body", r.body_text())
    }
}

fn json_error(r: JsonRejection) -> ApiError {
    let status = r.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "body-too-large"
    } else {
        "malformed-json"
    };
    ApiError::new(status.as_u16(), code, r.body_text())
}

/// The router over a started [`Service`].
pub fn router(service: Service) -> Router {
    Router::new()
        .route("/v1/labels", limited(post(submit_label), MAX_LABEL_BODY))
        .route(
            "/v1/statements",
            limited(post(submit_statement), MAX_STATEMENT_BODY),
        )
        .route("/v1/labels/{id}", get(get_label))
        .route("/v1/lookup", get(lookup))
        .route("/v1/status/batch", limited(post(batch), MAX_BATCH_BODY))
        .route("/v1/consistency", get(consistency))
        .route("/v1/log", get(log_info))
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/l/{digest}", get(crate::page::consumer_page))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async { ApiError::new(404, "not-found", "no such route; see /openapi.json") })
        .layer(middleware::from_fn_with_state(
            service.clone(),
            count_requests,
        ))
        .layer(middleware::from_fn(with_request_id))
        .with_state(service)
}

/// The response header carrying the id the server gave the request.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Gives every request an id (never the client's own: it is logged), visible to the handler
/// through [`crate::api_error::request_id`] and sent back in [`REQUEST_ID_HEADER`].
async fn with_request_id(req: Request, next: Next) -> Response {
    let id = new_request_id();
    let mut resp = with_id(id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}

/// A body limit of `max` bytes on a route: a request whose Content-Length announces more is
/// refused from its headers (413, JSON) without waiting for the body; a body that turns out
/// longer than announced (or chunked) is cut off at `max` by axum's limit.
fn limited(route: MethodRouter<Service>, max: usize) -> MethodRouter<Service> {
    route
        .layer(DefaultBodyLimit::max(max))
        .layer(middleware::from_fn_with_state(
            max,
            refuse_declared_oversize,
        ))
}

async fn refuse_declared_oversize(State(max): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > max as u64 => {
            if n <= DRAIN_AT_MOST {
                drain(req.into_body()).await;
            }
            ApiError::new(
                413,
                "body-too-large",
                format!("Content-Length {n} is over this endpoint's limit of {max} bytes"),
            )
            .into_response()
        }
        _ => next.run(req).await,
    }
}

/// A body announced a little over the limit is read and thrown away before the 413 is sent
/// (the "lingering close" nginx and Apache do): a client that writes its whole body before
/// reading the answer then gets the 413, not a connection reset that races its last write.
/// Bodies announced larger than this are not read at all; the connection is closed.
const DRAIN_AT_MOST: u64 = 1024 * 1024;
/// A slow client does not hold the connection longer than this while its body is discarded.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

async fn drain(mut body: axum::body::Body) {
    use http_body_util::BodyExt;
    // hyper stops at the announced Content-Length, so this reads at most DRAIN_AT_MOST bytes.
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while let Some(Ok(_)) = body.frame().await {}
    })
    .await;
}

async fn count_requests(State(s): State<Service>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    s.metrics().request(&route, resp.status().as_u16());
    resp
}

#[utoipa::path(post, path = "/v1/labels", request_body(content = Vec<u8>, content_type = "application/cose"),
    responses((status = 201, body = Submitted), (status = 403, body = ErrorBody, description = "unregistered or retired assessor, bad signature"),
              (status = 409, body = ErrorBody, description = "replay or duplicate label id"), (status = 413, body = ErrorBody)))]
async fn submit_label(
    State(s): State<Service>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let body = body.map_err(body_error)?;
    Ok((StatusCode::CREATED, Json(s.submit_label(&body).await?)))
}

#[utoipa::path(post, path = "/v1/statements", request_body(content = Vec<u8>, content_type = "application/cose"),
    responses((status = 201, body = Submitted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "replay, or the label is already revoked/superseded")))]
async fn submit_statement(
    State(s): State<Service>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let body = body.map_err(body_error)?;
    Ok((StatusCode::CREATED, Json(s.submit_statement(&body).await?)))
}

#[utoipa::path(get, path = "/v1/labels/{id}", params(("id" = String, Path, description = "label id")),
    responses((status = 200, body = LabelView), (status = 404, body = ErrorBody)))]
async fn get_label(State(s): State<Service>, Path(id): Path<String>) -> Result<Response, ApiError> {
    // Rendered from the lookup cache (crate::cache): the same JSON `Json<LabelView>` writes.
    Ok(json_response(s.by_id_json(&id).await?))
}

fn json_response(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct LookupQuery {
    /// Label digest (SHA-256 of the COSE bytes), hex.
    digest: Option<String>,
    /// Firmware image SHA-256, hex.
    firmware: Option<String>,
    /// MUD URL.
    #[serde(rename = "mud-url")]
    #[param(rename = "mud-url")]
    mud_url: Option<String>,
}

#[utoipa::path(get, path = "/v1/lookup", params(LookupQuery),
    responses((status = 200, body = LookupAnswer), (status = 400, body = ErrorBody)))]
async fn lookup(
    State(s): State<Service>,
    q: Result<Query<LookupQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(400, "bad-query", e.body_text()))?;
    let key = match (q.digest, q.firmware, q.mud_url) {
        (Some(d), None, None) => Lookup::Digest(d),
        (None, Some(f), None) => Lookup::Firmware(f),
        (None, None, Some(u)) => Lookup::MudUrl(u),
        _ => {
            return Err(ApiError::new(
                400,
                "bad-query",
                "give exactly one of digest=, firmware=, mud-url=",
            ))
        }
    };
    Ok(json_response(s.lookup_json(&key).await?))
}

#[utoipa::path(post, path = "/v1/status/batch", request_body = BatchRequest,
    responses((status = 200, body = BatchAnswer), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn batch(
    State(s): State<Service>,
    req: Result<Json<BatchRequest>, JsonRejection>,
) -> Result<Json<BatchAnswer>, ApiError> {
    let Json(req) = req.map_err(json_error)?;
    Ok(Json(s.batch_status(&req).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConsistencyQuery {
    /// The older tree size.
    old: u64,
    /// The newer tree size (at most the current size).
    new: u64,
}

#[utoipa::path(get, path = "/v1/consistency", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyAnswer), (status = 400, body = ErrorBody)))]
async fn consistency(
    State(s): State<Service>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ConsistencyAnswer>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(400, "bad-query", e.body_text()))?;
    Ok(Json(s.consistency(q.old, q.new).await?))
}

#[utoipa::path(get, path = "/v1/log", responses((status = 200, body = LogInfo)))]
async fn log_info(State(s): State<Service>) -> Result<Json<LogInfo>, ApiError> {
    Ok(Json(s.log_info().await?))
}

#[utoipa::path(get, path = "/checkpoint", responses((status = 200, description = "C2SP tlog-checkpoint signed note", content_type = "text/plain")))]
async fn checkpoint(State(s): State<Service>) -> Result<Response, ApiError> {
    let cp = s.checkpoint().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        cp.signed_note,
    )
        .into_response())
}

/// C2SP tlog-tiles: tiles and entry bundles of the published tree. Full tiles never change and
/// are served as immutable; a partial tile of width W is the first W hashes, served while the
/// tree has them (clients verifying an older checkpoint ask for older widths).
#[utoipa::path(get, path = "/tile/{path}", params(("path" = String, Path, description = "<L>/<N>[.p/<W>] or entries/<N>[.p/<W>]")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn tile(State(s): State<Service>, Path(path): Path<String>) -> Result<Response, ApiError> {
    let full_path = format!("tile/{path}");
    let size = s.checkpoint().await?.size;
    let not_found = || {
        ApiError::new(
            404,
            "not-found",
            format!("{full_path} is not part of the published tree of size {size}"),
        )
    };
    let (body, width) = if path.starts_with("entries/") {
        let b = EntryBundle::parse_path(&full_path)
            .map_err(|e| ApiError::new(400, "bad-tile-path", e.to_string()))?;
        let range = b
            .entry_range()
            .map_err(|e| ApiError::new(404, "not-found", e.to_string()))?;
        let (start, end) = (range.start, range.end);
        if end > size {
            return Err(not_found());
        }
        let entries = s.store().entries(start, end).await?;
        if entries.len() != usize::from(b.width) {
            return Err(not_found());
        }
        let bytes =
            encode_entry_bundle(&entries).map_err(|e| ApiError::new(500, "tile", e.to_string()))?;
        (bytes, b.width)
    } else {
        let t = Tile::parse_path(&full_path)
            .map_err(|e| ApiError::new(400, "bad-tile-path", e.to_string()))?;
        let level = u32::from(t.level) * u32::from(TILE_HEIGHT);
        if level >= 64 {
            return Err(not_found());
        }
        // Nodes at tree level 8L that exist in a tree of `size` leaves.
        let available = size >> level;
        let range = t
            .hash_range()
            .map_err(|e| ApiError::new(404, "not-found", e.to_string()))?;
        let (start, end) = (range.start, range.end);
        if end > available {
            return Err(not_found());
        }
        let hashes = s.store().level_hashes(level as u8, start, end).await?;
        if hashes.len() != usize::from(t.width) {
            return Err(not_found());
        }
        (
            hashes.iter().flat_map(|h| h.0).collect::<Vec<u8>>(),
            t.width,
        )
    };
    let cache = if width == 256 {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response())
}

async fn metrics(State(s): State<Service>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics().encode(),
    )
        .into_response()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "trustgate label registry",
        description = "Signed IoT security labels, their status, and RFC 9162 transparency-log proofs."
    ),
    paths(
        submit_label,
        submit_statement,
        get_label,
        lookup,
        batch,
        consistency,
        log_info,
        checkpoint,
        tile,
        crate::page::consumer_page
    ),
    components(schemas(
        ErrorBody,
        Submitted,
        LabelView,
        LookupAnswer,
        BatchRequest,
        BatchAnswer,
        BatchItem,
        LogInfo,
        ConsistencyAnswer,
        LoggedEvent
    ))
)]
struct ApiDoc;

/// The OpenAPI 3.1 description of this API.
pub fn openapi_json() -> String {
    use utoipa::OpenApi;
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json()).into_response()
}

// ---------------------------------------------------------------------------------------
// Connection limits: the server side of slow or abusive clients
// ---------------------------------------------------------------------------------------

/// Resource limits of one HTTP server: how long a client may take to send a request, and how
/// many connections may be open at once. [`serve`] applies them to any axum [`Router`], so
/// every server of the workspace (the registry, a dashboard) gets the same protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for a request's head (request line and headers), counted from the moment
    /// the connection waits for one: on a new connection, and after each response on a
    /// kept-alive connection, so this is also the keep-alive idle timeout. When it passes the
    /// connection is closed.
    pub header_read_timeout: std::time::Duration,
    /// Longest time from a request's head being read to its response being ready, reading the
    /// body included. When it passes the client gets 408 (`request-timeout`) and the
    /// connection is closed (its body was not read to the end).
    pub request_timeout: std::time::Duration,
    /// Connections served at once. Past it a new connection waits in a queue of at most
    /// [`Limits::max_queued`] for a slot (at most [`Limits::header_read_timeout`], which is
    /// how long a stalled connection can hold one), and gets 503 if none frees up.
    pub max_connections: usize,
    /// Connections waiting for a slot; past it a new connection gets 503 at once.
    pub max_queued: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(30),
            max_connections: 1024,
            max_queued: 256,
        }
    }
}

/// The body an over-limit connection gets (503) before it is closed; its request is not read.
const BUSY_BODY: &str =
    r#"{"error":"too-many-connections","message":"the server is busy; try again in a moment"}"#;

/// Serves `app` on `listener` under `limits` (HTTP/1.1) until `shutdown` resolves, then stops
/// accepting and waits for open connections to finish (at most one header timeout plus one
/// request timeout).
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: F,
) -> std::io::Result<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let app = app.layer(middleware::from_fn_with_state(
        limits.request_timeout,
        request_timeout,
    ));
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let queued = Arc::new(AtomicUsize::new(0));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) if queued.load(Ordering::Relaxed) < limits.max_queued => None,
            Err(_) => {
                tokio::spawn(refuse_busy(stream));
                continue;
            }
        };
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(
                hyper_util::rt::TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(app.clone()),
            );
        let conn = graceful.watch(conn);
        match permit {
            Some(permit) => {
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(permit);
                });
            }
            None => {
                queued.fetch_add(1, Ordering::Relaxed);
                let (slots, queued, mut stopping) =
                    (slots.clone(), queued.clone(), stopping.clone());
                tokio::spawn(async move {
                    let got = tokio::select! {
                        p = tokio::time::timeout(limits.header_read_timeout, slots.acquire_owned()) => p.ok().and_then(Result::ok),
                        _ = stopping.wait_for(|s| *s) => None,
                    };
                    queued.fetch_sub(1, Ordering::Relaxed);
                    match got {
                        // Dropping the connection un-polled closes the socket.
                        None => drop(conn),
                        Some(permit) => {
                            let _ = conn.await;
                            drop(permit);
                        }
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    let _ = tokio::time::timeout(
        limits.header_read_timeout + limits.request_timeout,
        graceful.shutdown(),
    )
    .await;
    Ok(())
}

async fn refuse_busy(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\nretry-after: 1\r\ncontent-length: {}\r\n\r\n{BUSY_BODY}",
            BUSY_BODY.len()
        );
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

async fn request_timeout(
    State(limit): State<std::time::Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            let mut resp = ApiError::new(
                408,
                "request-timeout",
                format!(
                    "the request was not complete within {} s",
                    limit.as_secs_f64()
                ),
            )
            .into_response();
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}
