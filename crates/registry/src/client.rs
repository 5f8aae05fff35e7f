//! An HTTP client for the registry API (used by `trustgate registry submit|revoke|fetch`, the demo
//! and the tests).

use reqwest::StatusCode;

use crate::types::*;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The registry refused: its status and JSON error body.
    #[error("registry refused ({status}): {code}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: String,
        /// Message.
        message: String,
    },
    /// Network or protocol failure.
    #[error("cannot reach the registry")]
    Transport(#[from] reqwest::Error),
    /// The base URL is unusable.
    #[error("registry URL {0:?} is not an http(s) URL")]
    Url(String),
}

/// A client of one registry.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
}

impl Client {
    /// A client for the registry at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let base: reqwest::Url = base
            .trim_end_matches('/')
            .parse()
            .map_err(|_| ClientError::Url(base.into()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(ClientError::Url(base.to_string()));
        }
        Ok(Client {
            http: reqwest::Client::new(),
            base,
        })
    }

    fn url(&self, segments: &[&str]) -> reqwest::Url {
        let mut u = self.base.clone();
        u.path_segments_mut()
            .expect("checked in new")
            .pop_if_empty()
            .extend(segments);
        u
    }

    async fn json<T: serde::de::DeserializeOwned>(
        resp: reqwest::Response,
    ) -> Result<T, ClientError> {
        if resp.status().is_success() {
            return Ok(resp.json().await?);
        }
        Err(Self::refused(resp).await)
    }

    async fn refused(resp: reqwest::Response) -> ClientError {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(b) => ClientError::Refused {
                status: status.as_u16(),
                code: b.error,
                message: b.message,
            },
            Err(_) => ClientError::Refused {
                status: status.as_u16(),
                code: "http".into(),
                message: text.chars().take(200).collect(),
            },
        }
    }

    /// `POST /v1/labels`.
    pub async fn submit_label(&self, cose: &[u8]) -> Result<Submitted, ClientError> {
        let resp = self
            .http
            .post(self.url(&["v1", "labels"]))
            .header("content-type", "application/cose")
            .body(cose.to_vec())
            .send()
            .await?;
        Self::json(resp).await
    }

    /// `POST /v1/statements`.
    pub async fn submit_statement(&self, statement: &[u8]) -> Result<Submitted, ClientError> {
        let resp = self
            .http
            .post(self.url(&["v1", "statements"]))
            .header("content-type", "application/cose")
            .body(statement.to_vec())
            .send()
            .await?;
        Self::json(resp).await
    }

    /// `GET /v1/labels/{id}`.
    pub async fn label(&self, id: &str) -> Result<LabelView, ClientError> {
        let resp = self
            .http
            .get(self.url(&["v1", "labels", id]))
            .send()
            .await?;
        Self::json(resp).await
    }

    /// `GET /v1/lookup?<key>=<value>` with key `digest`, `firmware` or `mud-url`.
    pub async fn lookup(&self, key: &str, value: &str) -> Result<Vec<LabelView>, ClientError> {
        let resp = self
            .http
            .get(self.url(&["v1", "lookup"]))
            .query(&[(key, value)])
            .send()
            .await?;
        Ok(Self::json::<LookupAnswer>(resp).await?.labels)
    }

    /// `POST /v1/status/batch`.
    pub async fn batch_status(&self, req: &BatchRequest) -> Result<BatchAnswer, ClientError> {
        let resp = self
            .http
            .post(self.url(&["v1", "status", "batch"]))
            .json(req)
            .send()
            .await?;
        Self::json(resp).await
    }

    /// `GET /checkpoint` (the signed note text).
    pub async fn checkpoint(&self) -> Result<String, ClientError> {
        let resp = self.http.get(self.url(&["checkpoint"])).send().await?;
        if resp.status() != StatusCode::OK {
            return Err(Self::refused(resp).await);
        }
        Ok(resp.text().await?)
    }

    /// `GET /v1/consistency?old=&new=`.
    pub async fn consistency(&self, old: u64, new: u64) -> Result<ConsistencyAnswer, ClientError> {
        let resp = self
            .http
            .get(self.url(&["v1", "consistency"]))
            .query(&[("old", old), ("new", new)])
            .send()
            .await?;
        Self::json(resp).await
    }

    /// `GET /v1/log`.
    pub async fn log_info(&self) -> Result<LogInfo, ClientError> {
        let resp = self.http.get(self.url(&["v1", "log"])).send().await?;
        Self::json(resp).await
    }

    /// `GET <path>` raw (tiles, pages, answers byte for byte): status and body. `path` may
    /// carry a query string (`/v1/lookup?digest=...`).
    pub async fn get_raw(&self, path: &str) -> Result<(u16, Vec<u8>), ClientError> {
        let mut u = self.base.clone();
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        u.set_path(path);
        u.set_query(query);
        let resp = self.http.get(u).send().await?;
        Ok((resp.status().as_u16(), resp.bytes().await?.to_vec()))
    }
}
