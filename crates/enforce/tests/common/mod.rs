//! Test hosts in network namespaces: a gateway, devices on their own veth links, and an
//! "internet" host. Every namespace a test creates is deleted when its guard drops, including
//! when the test panics. Traffic is generated with python3 sockets inside the namespaces.
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Fails loudly (not silently skipped) when the environment cannot run namespace tests:
/// CI runs them as root with nftables and iproute2 installed by `.ci/run`.
pub fn require_root() {
    let uid = Command::new("id").arg("-u").output().expect("id");
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "namespace tests need root (run them through .ci/run or as root)"
    );
}

pub fn run(args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A namespace deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(role: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("tg{}{}{}", std::process::id() % 100000, role, n);
        run(&["ip", "netns", "add", &name]);
        run(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }

    pub fn exec(&self, args: &[&str]) -> Output {
        let mut full = vec!["ip", "netns", "exec", &self.name];
        full.extend_from_slice(args);
        run(&full)
    }

    pub fn sh(&self, script: &str) -> Output {
        self.exec(&["sh", "-c", script])
    }

    pub fn mac(&self, ifname: &str) -> String {
        let out = self.exec(&["cat", &format!("/sys/class/net/{ifname}/address")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Connect `a` (interface `a_if`) and `b` (interface `b_if`) with a veth pair.
pub fn link(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    let tmp_a = format!("v{}", COUNTER.fetch_add(1, Ordering::SeqCst));
    let tmp_b = format!("v{}", COUNTER.fetch_add(1, Ordering::SeqCst));
    let (ta, tb) = (
        format!("{tmp_a}{}", std::process::id() % 10000),
        format!("{tmp_b}{}", std::process::id() % 10000),
    );
    run(&[
        "ip", "link", "add", &ta, "type", "veth", "peer", "name", &tb,
    ]);
    run(&["ip", "link", "set", &ta, "netns", &a.name]);
    run(&["ip", "link", "set", &tb, "netns", &b.name]);
    run(&["ip", "-n", &a.name, "link", "set", &ta, "name", a_if]);
    run(&["ip", "-n", &b.name, "link", "set", &tb, "name", b_if]);
    run(&["ip", "-n", &a.name, "link", "set", a_if, "up"]);
    run(&["ip", "-n", &b.name, "link", "set", b_if, "up"]);
}

/// Start a TCP (or UDP) listener in `ns` on `port`, answering every connection with "ok".
/// Returns the child; kill it when done (the namespace's deletion does not kill processes).
pub struct Listener(std::process::Child);

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn listen(ns: &Netns, proto: &str, port: u16) -> Listener {
    let script = r#"
import socket, sys
proto, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6
if proto == "tcp":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port)); s.listen(64)
    print("ready", flush=True)
    while True:
        c, _ = s.accept(); c.sendall(b"ok"); c.close()
else:
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    print("ready", flush=True)
    while True:
        d, a = s.recvfrom(2048); s.sendto(b"ok", a)
"#;
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "python3",
            "-c",
            script,
            proto,
            &port.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    // Wait until it is bound, so a refused connection means the firewall, not a slow start.
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    Listener(child)
}

/// Try to talk to `addr:port` from `ns` over TCP or UDP, optionally from a fixed source port;
/// true if the peer answered "ok" within the timeout.
pub fn reach(ns: &Netns, proto: &str, addr: &str, port: u16, src_port: Option<u16>) -> bool {
    reach_within(ns, proto, addr, port, src_port, 0.7)
}

/// [`reach`] with an explicit timeout in seconds.
pub fn reach_within(
    ns: &Netns,
    proto: &str,
    addr: &str,
    port: u16,
    src_port: Option<u16>,
    timeout_s: f32,
) -> bool {
    let script = r#"
import socket, sys
proto, addr, port, sport, tmo = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.settimeout(tmo)
if sport:
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport))
try:
    if proto == "tcp":
        s.connect((addr, port)); data = s.recv(16)
    else:
        s.sendto(b"hi", (addr, port)); data, _ = s.recvfrom(16)
    print("OK" if data == b"ok" else "BAD")
except Exception as e:
    print("FAIL", type(e).__name__)
"#;
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "python3",
            "-c",
            script,
            proto,
            addr,
            &port.to_string(),
            &src_port.unwrap_or(0).to_string(),
            &timeout_s.to_string(),
        ])
        .output()
        .expect("python3");
    String::from_utf8_lossy(&out.stdout).trim() == "OK"
}

pub fn settle() {
    std::thread::sleep(Duration::from_millis(50));
}
