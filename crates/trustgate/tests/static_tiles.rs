//! The log's read side as files (`registry serve --static-dir`), served by a real nginx (the
//! Debian package, started here on loopback): `registry check-tiles` verifies the copy with
//! the project's own tile reader and finds the registry's own root; the tiles and bundles are
//! byte for byte the registry's `/tile/…` answers, with the cache headers C2SP tlog-tiles asks
//! for; a tampered tile is caught.

mod common;
use common::*;

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

/// nginx in the foreground (no master, no daemon), killed with the test.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx(root: &Path, conf_dir: &Path) -> (Nginx, String) {
    let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is not installed (apt-get install nginx; scripts/test does)");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = conf_dir.display();
    let conf = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {c}/nginx.pid;
error_log {c}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {c}/body;
  proxy_temp_path {c}/proxy;
  fastcgi_temp_path {c}/fastcgi;
  uwsgi_temp_path {c}/uwsgi;
  scgi_temp_path {c}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location /tile/ {{
      default_type application/octet-stream;
      add_header Cache-Control "public, max-age=31536000, immutable";
    }}
    location = /checkpoint {{
      default_type "text/plain; charset=utf-8";
      add_header Cache-Control "no-cache";
    }}
  }}
}}
"#,
        root = root.display()
    );
    let conf_path = conf_dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf_path)
        .arg("-p")
        .arg(conf_dir)
        .spawn()
        .unwrap();
    let guard = Nginx(child);
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return (guard, format!("http://{addr}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "nginx did not start: {}",
        std::fs::read_to_string(conf_dir.join("error.log")).unwrap_or_default()
    );
}

fn check_tiles(url: &str, log_key: &str) -> (i32, serde_json::Value, String) {
    let o = bin()
        .args([
            "registry",
            "check-tiles",
            url,
            "--log-key",
            log_key,
            "--json",
        ])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (
        o.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn tiles_written_as_files_and_served_by_nginx_verify_and_give_the_registrys_root() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    let statics = d.join("static");
    let key = label::generate_key().unwrap();
    std::fs::write(
        d.join("lab.pub"),
        label::verifying_key_to_pem(&key.verifying_key()).unwrap(),
    )
    .unwrap();
    let o = bin()
        .args(["registry", "add-assessor"])
        .arg(d.join("lab.pub"))
        .args(["--name", "Lab", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let server = Server::start_with(&data, &["--static-dir", statics.to_str().unwrap()]);
    let log_key = std::fs::read_to_string(data.join("log.key.pub"))
        .unwrap()
        .trim()
        .to_string();

    // 300 labels: a full level-0 tile, a partial one, and entry bundles of both kinds.
    const N: usize = 300;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = registry::Client::new(&server.url).unwrap();
    rt.block_on(async {
        for i in 0..N {
            let mut c = label::example_claims();
            c.id = format!("urn:tiles:{i}");
            c.software[0].image_sha256 = label::Sha256Digest::of(c.id.as_bytes());
            let l = label::sign(&c, &key).unwrap();
            client.submit_label(&l).await.unwrap();
        }
    });
    let (_, registry_note) = rt.block_on(client.get_raw("/checkpoint")).unwrap();
    let cp = tlog::LogVerifier::parse(&log_key)
        .unwrap()
        .verify_checkpoint(&registry_note)
        .unwrap();
    assert_eq!(cp.size, N as u64);
    // The files follow the published checkpoint (written after it, checkpoint last).
    let mut waited = 0;
    while std::fs::read(statics.join("checkpoint")).ok().as_deref() != Some(&registry_note[..]) {
        assert!(waited < 200, "the static checkpoint never reached size {N}");
        std::thread::sleep(Duration::from_millis(50));
        waited += 1;
    }

    let conf = tempfile::tempdir().unwrap();
    let (_nginx, mirror) = nginx(&statics, conf.path());
    let (code, v, err) = check_tiles(&mirror, &log_key);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(v["size"], N as u64);
    assert_eq!(
        v["root"],
        cp.root.to_hex(),
        "the same root as the registry's /checkpoint"
    );
    assert_eq!(v["bundles"], 2);
    // The registry itself passes the same check.
    let (code, v2, _) = check_tiles(&server.url, &log_key);
    assert_eq!((code, &v2["root"]), (0, &v["root"]));

    // Byte for byte the registry's answers, with the headers tlog-tiles asks for.
    let nginx_client = registry::Client::new(&mirror).unwrap();
    rt.block_on(async {
        for path in [
            "/tile/0/000",
            "/tile/0/001.p/44",
            "/tile/1/000.p/1",
            "/tile/entries/000",
            "/tile/entries/001.p/44",
        ] {
            let (s1, a) = client.get_raw(path).await.unwrap();
            let (s2, b) = nginx_client.get_raw(path).await.unwrap();
            assert_eq!((s1, s2), (200, 200), "{path}");
            assert!(a == b, "{path} differs");
        }
    });
    let head = |path: &str| {
        let o = Command::new("curl")
            .args(["-sI", &format!("{mirror}{path}")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).to_lowercase()
    };
    assert!(head("/tile/0/000").contains("cache-control: public, max-age=31536000, immutable"));
    assert!(head("/checkpoint").contains("cache-control: no-cache"));

    // A tampered tile in the copy: caught, exit 1, the tile named.
    let t = statics.join("tile/0/000");
    let mut bytes = std::fs::read(&t).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&t, bytes).unwrap();
    let (code, v, _) = check_tiles(&mirror, &log_key);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["ok"], false);
    assert!(
        v["problem"].as_str().unwrap().contains("tile/entries/000"),
        "{v}"
    );
}
