//! Network namespaces for the live tests (needs root): namespaces and veth links removed on
//! drop even when a test panics, child processes killed on drop, a TCP listener and a
//! connect probe in python3, and the test topology most live tests use.
//!
//! ```text
//!   devA (192.168.1.2) ─┐
//!                       ├─ br-lan [gw 192.168.1.1] ─wan─ inet (203.0.113.2, test hosts .10-.29)
//!   devB (192.168.1.3) ─┘
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_trustgate");
static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn cmd_ok(args: &[&str]) -> Output {
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

/// A network namespace deleted on drop, even when the test panics.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(role: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("tgm{}{}{}", std::process::id() % 100000, role, n);
        cmd_ok(&["ip", "netns", "add", &name]);
        cmd_ok(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }
    pub fn sh(&self, script: &str) -> Output {
        cmd_ok(&["ip", "netns", "exec", &self.name, "sh", "-c", script])
    }
    /// `python3 -c SCRIPT ARGS…` run in this namespace.
    pub fn python(&self, script: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, "python3", "-c", script])
            .args(args);
        c
    }
    /// [`Netns::python`] run to the end; panics with its stderr unless it succeeded.
    pub fn python_ok(&self, script: &str, args: &[&str]) -> Output {
        let out = self.python(script, args).output().expect("python3");
        assert!(
            out.status.success(),
            "python in {} failed: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
    pub fn mac(&self, ifname: &str) -> String {
        let out = self.sh(&format!("cat /sys/class/net/{ifname}/address"));
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

pub fn link(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let (ta, tb) = (
        format!("ma{n}x{}", std::process::id() % 10000),
        format!("mb{n}x{}", std::process::id() % 10000),
    );
    cmd_ok(&[
        "ip", "link", "add", &ta, "type", "veth", "peer", "name", &tb,
    ]);
    cmd_ok(&["ip", "link", "set", &ta, "netns", &a.name]);
    cmd_ok(&["ip", "link", "set", &tb, "netns", &b.name]);
    cmd_ok(&["ip", "-n", &a.name, "link", "set", &ta, "name", a_if]);
    cmd_ok(&["ip", "-n", &b.name, "link", "set", &tb, "name", b_if]);
    cmd_ok(&["ip", "-n", &a.name, "link", "set", a_if, "up"]);
    cmd_ok(&["ip", "-n", &b.name, "link", "set", b_if, "up"]);
}

/// A child process killed on drop.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn listen(ns: &Netns, port: u16) -> Guard {
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"ok"); c.close()
"#;
    let mut child = ns
        .python(script, &[&port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    Guard(child)
}

/// True if `addr:port` answered "ok" to a TCP connection from `ns` within `timeout_s`.
pub fn reach(ns: &Netns, addr: &str, port: u16, timeout_s: f32) -> bool {
    probe(ns, addr, port, timeout_s) == "OK"
}

/// What a TCP connection from `ns` to `addr:port` (a name is resolved in `ns`) got within
/// `timeout_s`: `OK`, or `FAIL` and the Python exception.
pub fn probe(ns: &Netns, addr: &str, port: u16, timeout_s: f32) -> String {
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(float(sys.argv[3]))
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print("OK" if s.recv(16) == b"ok" else "BAD")
except Exception as e:
    print("FAIL", type(e).__name__, e)
"#;
    let out = ns
        .python(script, &[addr, &port.to_string(), &timeout_s.to_string()])
        .output()
        .expect("python3");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn require_root() {
    let uid = cmd_ok(&["id", "-u"]);
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "namespace tests need root (run them through scripts/test or as root)"
    );
}

pub fn journal(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal line is JSON"))
        .collect()
}

pub fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

/// Gateway (bridge br-lan, 192.168.1.1), devices A (.2) and B (.3), internet host with test
/// hosts 203.0.113.2 and .10–.29.
pub fn topology() -> (Netns, Netns, Netns, Netns) {
    require_root();
    let gw = Netns::new("gw");
    let dev_a = Netns::new("a");
    let dev_b = Netns::new("b");
    let inet = Netns::new("i");
    gw.sh("ip link add br-lan type bridge && ip link set br-lan up && ip addr add 192.168.1.1/24 dev br-lan");
    for (i, d) in [&dev_a, &dev_b].into_iter().enumerate() {
        let port = format!("lan{i}");
        link(d, "eth0", &gw, &port);
        gw.sh(&format!("ip link set {port} master br-lan"));
        d.sh(&format!(
            "ip addr add 192.168.1.{}/24 dev eth0 && ip route add default via 192.168.1.1",
            i + 2
        ));
    }
    link(&inet, "eth0", &gw, "wan");
    let mut hosts = String::from("ip addr add 203.0.113.2/24 dev eth0");
    for h in 10..30 {
        hosts.push_str(&format!(" && ip addr add 203.0.113.{h}/24 dev eth0"));
    }
    inet.sh(&format!("{hosts} && ip route add default via 203.0.113.1"));
    gw.sh("ip addr add 203.0.113.1/24 dev wan && sysctl -qw net.ipv4.ip_forward=1");

    (gw, dev_a, dev_b, inet)
}
