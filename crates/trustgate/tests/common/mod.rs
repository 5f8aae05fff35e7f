//! What the CLI test binaries share: running the real `trustgate`, reading its output, and a
//! `registry serve` process on loopback. (Each test binary uses a part of it.)
#![allow(dead_code)]

pub mod netns;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trustgate"))
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run trustgate")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

/// stdout then stderr, for assertion messages and searches.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A `trustgate registry serve` process on a free loopback port, killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `127.0.0.1:PORT`
    pub addr: String,
    /// Kept open so the server's later output lines have a reader.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Server {
    /// Serve `data`, with `extra` arguments after `--data-dir`; returns once it listens.
    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        Server::spawn(data, "127.0.0.1:0", extra)
    }

    /// Serve `data` on `listen` (`127.0.0.1:PORT`); returns once it listens.
    pub fn start_with_listen(data: &Path, listen: &str) -> Server {
        Server::spawn(data, listen, &[])
    }

    fn spawn(data: &Path, listen: &str, extra: &[&str]) -> Server {
        let mut child = bin()
            .args(["registry", "serve", "--listen", listen, "--data-dir"])
            .arg(data)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the registry");
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim()
            .to_string();
        let addr = url.trim_start_matches("http://").to_string();
        Server {
            child,
            url,
            addr,
            _stdout: stdout,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    /// SIGKILL on Unix: no chance to flush or clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A registry data directory `d/data` with one assessor ("Lab", keys `lab.key`/`lab.pub`
/// from `trustgate keygen` in `d`); returns the data directory.
pub fn lab_registry(d: &Path) -> std::path::PathBuf {
    let data = d.join("data");
    assert_eq!(code(&run(&["keygen", "-o", s(&d.join("lab.key"))])), 0);
    let o = run(&[
        "registry",
        "add-assessor",
        s(&d.join("lab.pub")),
        "--name",
        "Lab",
        "--data-dir",
        s(&data),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    data
}

/// `trustgate label issue` of `claims` (written to `d/NAME.json`) with the lab key in `d`;
/// returns the label's path, `d/NAME.label`.
pub fn issue_label(d: &Path, claims: &label::Claims, name: &str) -> std::path::PathBuf {
    let claims_path = d.join(format!("{name}.json"));
    std::fs::write(&claims_path, claims.to_json_pretty()).unwrap();
    let label_path = d.join(format!("{name}.label"));
    let o = run(&[
        "label",
        "issue",
        s(&claims_path),
        "--key",
        s(&d.join("lab.key")),
        "-o",
        s(&label_path),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    label_path
}

/// A registry with one assessor ([`lab_registry`]) and one submitted label with `claims`;
/// returns (server, data dir, label path).
pub fn registry_with_claims(
    d: &Path,
    claims: &label::Claims,
) -> (Server, std::path::PathBuf, std::path::PathBuf) {
    let data = lab_registry(d);
    let server = Server::start(&data);
    let label_path = issue_label(d, claims, "device");
    let o = run(&["registry", "submit", s(&label_path), "--url", &server.url]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    (server, data, label_path)
}

/// Cisco's published Luminaire MUD file (shared corpus) with its `mud-url` set to `url` and
/// no `mud-signature` (so the signature is the `.p7s` beside the URL).
pub fn luminaire_for(url: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mud/cisco/Luminaire_150.json"
    );
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let m = v["ietf-mud:mud"].as_object_mut().unwrap();
    m.insert("mud-url".into(), url.into());
    m.remove("mud-signature");
    serde_json::to_vec_pretty(&v).unwrap()
}

/// Write `name` (a `.json`) into `dir` signed by `pki`, with the `.p7s` beside it.
pub fn publish_signed(dir: &Path, name: &str, content: &[u8], pki: &mud::signature::EphemeralPki) {
    let sig =
        mud::signature::sign_detached(content, &pki.signer_key_pem, &pki.signer_cert_pem, None)
            .unwrap();
    std::fs::write(dir.join(name), content).unwrap();
    std::fs::write(dir.join(name.replace(".json", ".p7s")), sig).unwrap();
}

/// A plain HTTP server on loopback answering the first `n` requests, whatever they ask, with
/// `body` as JSON (a registry that lies, or replays another answer). Returns its base URL.
pub fn canned_http(body: String, n: usize) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for _ in 0..n {
            let Ok((mut c, _)) = listener.accept() else {
                return;
            };
            c.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .ok();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => req.extend_from_slice(&buf[..k]),
                }
            }
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}
