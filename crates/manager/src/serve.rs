//! A small HTTPS server for a directory of MUD files and their signatures — what a vendor's
//! MUD host does, for trying a MUD file end to end (`trustgate demo`, the tests) — and a
//! throwaway TLS certificate authority for it. Files are served from one directory only (one
//! path segment of `[A-Za-z0-9._-]`, nothing else is reachable), with the MUD media types,
//! an `ETag` (SHA-256 of the content) and `304 Not Modified` for `If-None-Match`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// A throwaway CA and a server certificate it issued (PEM). Never publish with it: the keys
/// live only in memory and in whatever the caller writes.
pub struct ThrowawayTls {
    /// The CA certificate: what a client trusts.
    pub ca_pem: String,
    /// The server certificate for the hosts given.
    pub cert_pem: String,
    /// The server's private key (PKCS#8).
    pub key_pem: String,
}

/// Make a [`ThrowawayTls`] whose server certificate names `hosts` (DNS names or IP literals).
pub fn throwaway_tls(hosts: &[&str]) -> Result<ThrowawayTls, String> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
    let e = |e: rcgen::Error| format!("making a throwaway TLS certificate: {e}");
    let ca_key = KeyPair::generate().map_err(e)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "trustgate throwaway TLS CA");
    let ca_cert = ca.self_signed(&ca_key).map_err(e)?;
    let key = KeyPair::generate().map_err(e)?;
    let leaf = CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
        .map_err(e)?;
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).map_err(e)?;
    Ok(ThrowawayTls {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A running server; dropping it stops it.
pub struct Served {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serve the files of `dir` over HTTPS on `bind` (port 0: any free port) with the given PEM
/// certificate chain and key, on a thread of its own.
pub fn serve_dir(
    dir: &Path,
    bind: SocketAddr,
    cert_pem: &str,
    key_pem: &str,
) -> Result<Served, String> {
    let certs = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate: {e}"))?;
    let key = rustls_pemfile::private_key(&mut key_pem.as_bytes())
        .map_err(|e| format!("key: {e}"))?
        .ok_or("key: no private key in the PEM")?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS: {e}"))?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let std_listener = std::net::TcpListener::bind(bind).map_err(|e| format!("{bind}: {e}"))?;
    std_listener
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let addr = std_listener.local_addr().map_err(|e| e.to_string())?;
    let dir = Arc::new(dir.to_path_buf());
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("mud-serve".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                    return;
                };
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        a = listener.accept() => {
                            let Ok((tcp, _)) = a else { continue };
                            let (acceptor, dir) = (acceptor.clone(), dir.clone());
                            tokio::spawn(async move {
                                let Ok(tls) = acceptor.accept(tcp).await else { return };
                                let svc = hyper::service::service_fn(move |req| {
                                    let dir = dir.clone();
                                    async move { Ok::<_, std::convert::Infallible>(answer(&dir, &req)) }
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                                    .await;
                            });
                        }
                    }
                }
            });
        })
        .map_err(|e| e.to_string())?;
    Ok(Served {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

fn answer<B>(dir: &Path, req: &Request<B>) -> Response<Full<Bytes>> {
    let status = |code: StatusCode| {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = code;
        r
    };
    if req.method() != hyper::Method::GET {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let name = req.uri().path().trim_start_matches('/');
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok {
        return status(StatusCode::NOT_FOUND);
    }
    let Ok(body) = std::fs::read(dir.join(name)) else {
        return status(StatusCode::NOT_FOUND);
    };
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(&body)));
    if req
        .headers()
        .get("if-none-match")
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        let mut r = status(StatusCode::NOT_MODIFIED);
        if let Ok(v) = etag.parse() {
            r.headers_mut().insert("etag", v);
        }
        return r;
    }
    let ctype = if name.ends_with(".json") {
        "application/mud+json"
    } else if name.ends_with(".p7s") {
        "application/pkcs7-signature"
    } else {
        "application/octet-stream"
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    if let (Ok(c), Ok(e)) = (ctype.parse(), etag.parse()) {
        r.headers_mut().insert("content-type", c);
        r.headers_mut().insert("etag", e);
    }
    r
}
