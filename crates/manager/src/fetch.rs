//! Fetching a MUD file or its signature as RFC 8520 §13 asks: HTTPS only (rustls), the TLS
//! server name checked against the URL's host, `Accept: application/mud+json` (§13.1) and a
//! `User-Agent` naming trustgate, redirects only to `https` and at most
//! [`FetchLimits::max_redirects`], a size cap on the body ([`FetchLimits::max_bytes`], 1 MiB)
//! and one timeout on the whole exchange, so a slow server cannot hold a fetch slot.
//! Conditional requests (`If-None-Match`, `If-Modified-Since`) when validators are known.

use std::time::Duration;

/// RFC 8520 §10 and §1.5 hold a MUD URL to 255 bytes (DHCP option 161 carries at most that).
pub const MAX_URL_BYTES: usize = 255;

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("trustgate/", env!("CARGO_PKG_VERSION"), " (MUD manager)");

/// Bounds on one fetch.
#[derive(Clone, Debug)]
pub struct FetchLimits {
    /// Largest body read; a longer one is refused (1 MiB, `mud::parse::MAX_MUD_BYTES`).
    pub max_bytes: usize,
    /// The whole exchange: connect, TLS, request, every byte of the body.
    pub timeout: Duration,
    /// Connecting (TCP) alone.
    pub connect_timeout: Duration,
    /// Most redirects followed (each to an `https` URL).
    pub max_redirects: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            max_bytes: mud::parse::MAX_MUD_BYTES,
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            max_redirects: 3,
        }
    }
}

/// HTTP validators of a cached copy, for a conditional request.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    /// `ETag` of the copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` of the copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// What a fetch brought.
#[derive(Debug)]
pub enum Fetched {
    /// `304 Not Modified`: the cached copy is still the server's.
    NotModified,
    /// The body, with the validators the server sent.
    Body {
        /// The bytes, at most [`FetchLimits::max_bytes`].
        bytes: Vec<u8>,
        /// For the next conditional request.
        validators: Validators,
    },
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an `https` URL (RFC 8520 §13: MUD files are fetched over HTTPS only).
    #[error("{0:?} is not an https URL")]
    NotHttps(String),
    /// Over [`MAX_URL_BYTES`].
    #[error("the URL is {0} bytes, over the {MAX_URL_BYTES} a MUD URL may have")]
    TooLong(usize),
    /// Not a URL at all.
    #[error("{0:?} is not a URL with a host")]
    BadUrl(String),
    /// No connection or no TLS session (name mismatch, unknown issuer, refused, reset).
    #[error("cannot reach {host}")]
    Unreachable {
        /// The URL's host.
        host: String,
        /// What failed.
        source: reqwest::Error,
    },
    /// The whole exchange took longer than [`FetchLimits::timeout`].
    #[error("no complete answer from {host} within {seconds} s")]
    Timeout {
        /// The URL's host.
        host: String,
        /// The limit.
        seconds: u64,
    },
    /// A redirect to a non-https URL, or too many.
    #[error("redirect refused")]
    Redirect(#[source] reqwest::Error),
    /// The server answered with an error status.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// The body is longer than allowed.
    #[error("the answer is over {0} bytes")]
    TooLarge(usize),
    /// The connection broke while the body was read, or the client could not be built.
    #[error("fetching failed")]
    Transport(#[source] reqwest::Error),
    /// A configured CA certificate could not be read.
    #[error("TLS root certificate: {0}")]
    Roots(String),
}

/// Checks a MUD URL before anything is fetched: `https`, a host, at most [`MAX_URL_BYTES`].
pub fn check_url(url: &str) -> Result<reqwest::Url, FetchError> {
    if url.len() > MAX_URL_BYTES {
        return Err(FetchError::TooLong(url.len()));
    }
    let parsed: reqwest::Url = url.parse().map_err(|_| FetchError::BadUrl(url.into()))?;
    if parsed.scheme() != "https" {
        return Err(FetchError::NotHttps(url.into()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(FetchError::BadUrl(url.into()));
    }
    Ok(parsed)
}

/// An HTTPS client with the limits above. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Fetcher {
    http: reqwest::Client,
    limits: FetchLimits,
}

impl Fetcher {
    /// A fetcher trusting `extra_roots_pem` (PEM CA certificates, e.g. a vendor's private CA)
    /// and, when `builtin_roots`, the Mozilla root store bundled with rustls (webpki-roots).
    pub fn new(
        limits: FetchLimits,
        extra_roots_pem: &[Vec<u8>],
        builtin_roots: bool,
    ) -> Result<Self, FetchError> {
        let max = limits.max_redirects;
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .https_only(true)
            .tls_built_in_root_certs(builtin_roots)
            .min_tls_version(reqwest::tls::Version::TLS_1_2)
            .user_agent(USER_AGENT)
            .timeout(limits.timeout)
            .connect_timeout(limits.connect_timeout)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.url().scheme() != "https" {
                    let to = attempt.url().to_string();
                    attempt.error(format!("a redirect to {to} is not https"))
                } else if attempt.previous().len() > max {
                    attempt.error(format!("more than {max} redirects"))
                } else {
                    attempt.follow()
                }
            }));
        for pem in extra_roots_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| FetchError::Roots(e.to_string()))?;
            if certs.is_empty() {
                return Err(FetchError::Roots("no PEM CERTIFICATE block".into()));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        Ok(Fetcher {
            http: b.build().map_err(FetchError::Transport)?,
            limits,
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    /// `GET url` with `accept`, conditional on `validators` when given.
    pub async fn get(
        &self,
        url: &str,
        accept: &str,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        let parsed = check_url(url)?;
        let host = parsed.host_str().unwrap_or_default().to_string();
        let seconds = self.limits.timeout.as_secs();
        // reqwest's timeout covers the body too; the outer one also bounds our own reading.
        match tokio::time::timeout(
            self.limits.timeout + Duration::from_millis(100),
            self.get_inner(parsed, accept, validators, &host),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout { host, seconds }),
        }
    }

    async fn get_inner(
        &self,
        url: reqwest::Url,
        accept: &str,
        validators: Option<&Validators>,
        host: &str,
    ) -> Result<Fetched, FetchError> {
        let seconds = self.limits.timeout.as_secs();
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                FetchError::Timeout {
                    host: host.to_string(),
                    seconds,
                }
            } else if e.is_redirect() {
                FetchError::Redirect(e)
            } else if e.is_connect() || e.is_request() {
                FetchError::Unreachable {
                    host: host.to_string(),
                    source: e,
                }
            } else {
                FetchError::Transport(e)
            }
        };
        let mut req = self.http.get(url).header("accept", accept);
        if let Some(v) = validators {
            if let Some(t) = &v.etag {
                req = req.header("if-none-match", t);
            }
            if let Some(t) = &v.last_modified {
                req = req.header("if-modified-since", t);
            }
        }
        let mut resp = req.send().await.map_err(classify)?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_MODIFIED && validators.is_some() {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let max = self.limits.max_bytes;
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(FetchError::TooLarge(max));
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if bytes.len() + chunk.len() > max {
                return Err(FetchError::TooLarge(max));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body { bytes, validators })
    }
}

/// Where a MUD file's signature is: its `mud-signature` (RFC 8520 §3.2), else the MUD URL with
/// `.json` replaced by `.p7s` (or `.p7s` appended), as §13.2 suggests for a file that names none.
pub fn signature_url(mud_url: &str, mud_signature: Option<&str>) -> String {
    match mud_signature {
        Some(s) => s.to_string(),
        None => match mud_url.strip_suffix(".json") {
            Some(stem) => format!("{stem}.p7s"),
            None => format!("{mud_url}.p7s"),
        },
    }
}
