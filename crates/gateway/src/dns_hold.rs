//! The DNS hold: the gateway answers its devices' DNS queries itself, so a `dst-dnsname` set
//! holds an answer's addresses *before* the device has the answer (RFC 8520 §7 names are
//! resolved from the answers the device receives; if the device gets the answer first, its
//! first SYN can meet a set that does not have the address yet and be dropped).
//!
//! How: the table redirects UDP queries to the gateway's port 53 to [`DnsHoldConfig::port`]
//! ([`enforce::Site::dns_hold_port`]). One thread reads them, checks each is a query with a
//! question, and asks the configured resolver ([`DnsHoldConfig::upstream`]) under an id of its
//! own; a second thread reads the resolver's answers on a socket connected to that resolver
//! (the kernel passes nothing from anyone else), matches id and question name, and hands the
//! answer to the live loop. The live loop learns its addresses (one netlink message, no
//! process) and only then sends the answer to the device, from the address and port it asked
//! (conntrack undoes the redirect).
//!
//! Why not hold answers in a netfilter queue: the `queue` expression needs the kernel's
//! `nft_queue`, which not every kernel has (the machines our tests run on do not); a redirect
//! needs only nat, which the gateway has anyway. Fail closed either way: with no gateway
//! listening on the port, queries go unanswered and a device reaches nothing by name.
//!
//! Bounds: at most [`MAX_PENDING`] questions wait for the resolver at once (more are dropped,
//! the device retries), each for at most [`PENDING_TIMEOUT`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the hold listens and whom it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsHoldConfig {
    /// The UDP port the table redirects the devices' queries to (not 53: the gateway's
    /// resolver may listen there).
    pub port: u16,
    /// The resolver that answers (usually the gateway's own, on one of its addresses).
    pub upstream: SocketAddr,
}

/// The port [`DnsHoldConfig::port`] defaults to.
pub const DEFAULT_HOLD_PORT: u16 = 10053;
/// Most questions waiting for the resolver at once.
pub const MAX_PENDING: usize = 4096;
/// How long a question waits for the resolver before it is forgotten.
pub const PENDING_TIMEOUT: Duration = Duration::from_secs(5);

/// A resolver's answer for a device, waiting for its addresses to be learned.
#[derive(Debug)]
pub(crate) struct HeldAnswer {
    /// The device's address and port, where the answer goes.
    pub(crate) client: SocketAddr,
    /// The answer as the device will receive it (its own query id restored).
    pub(crate) reply: Vec<u8>,
}

impl HeldAnswer {
    /// The device's address (IPv4 clients of the dual-stack socket as IPv4).
    pub(crate) fn client_ip(&self) -> IpAddr {
        self.client.ip().to_canonical()
    }

    /// (question name, address, TTL) of every A and AAAA record, the name as the device asked
    /// it (lower case, no trailing dot); empty when the answer does not parse.
    pub(crate) fn addresses(&self) -> Vec<(String, IpAddr, u32)> {
        let Ok(msg) = simple_dns::Packet::parse(&self.reply) else {
            return vec![];
        };
        let Some(q) = msg.questions.first() else {
            return vec![];
        };
        let name = normalize(&q.qname.to_string());
        msg.answers
            .iter()
            .filter_map(|rr| {
                let addr = match &rr.rdata {
                    simple_dns::rdata::RData::A(a) => IpAddr::from(a.address.to_be_bytes()),
                    simple_dns::rdata::RData::AAAA(a) => IpAddr::from(a.address.to_be_bytes()),
                    _ => return None,
                };
                Some((name.clone(), addr, rr.ttl))
            })
            .collect()
    }
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

struct Pending {
    client: SocketAddr,
    id: u16,
    name: String,
    since: Instant,
}

/// The two sockets and the threads reading them.
pub(crate) struct DnsHold {
    /// Where devices' queries arrive (dual-stack when the host has IPv6); replies leave here.
    clients: UdpSocket,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl DnsHold {
    /// Bind the port and start the two threads; answers go to `to_loop`. Fails when the port
    /// cannot be bound (another program has it).
    pub(crate) fn start(
        cfg: DnsHoldConfig,
        to_loop: SyncSender<crate::live::Input>,
        running: Arc<AtomicBool>,
    ) -> std::io::Result<Self> {
        let clients = UdpSocket::bind(SocketAddr::from((Ipv6Addr::UNSPECIFIED, cfg.port)))
            .or_else(|_| UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, cfg.port))))?;
        clients.set_read_timeout(Some(Duration::from_millis(200)))?;
        let local: SocketAddr = match cfg.upstream {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let upstream = UdpSocket::bind(local)?;
        upstream.connect(cfg.upstream)?;
        upstream.set_read_timeout(Some(Duration::from_millis(200)))?;
        let pending: Arc<Mutex<HashMap<u16, Pending>>> = Arc::default();

        let asking = {
            let clients = clients.try_clone()?;
            let upstream = upstream.try_clone()?;
            let pending = pending.clone();
            let running = running.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while running.load(Ordering::Relaxed) {
                    let Ok((n, client)) = clients.recv_from(&mut buf) else {
                        continue;
                    };
                    let query = &mut buf[..n];
                    let Some(name) = question_of_query(query) else {
                        continue;
                    };
                    let mut p = pending.lock().expect("pending lock");
                    p.retain(|_, q| q.since.elapsed() < PENDING_TIMEOUT);
                    if p.len() >= MAX_PENDING {
                        continue;
                    }
                    // A fresh random id for every question (RFC 5452 §9.2), with the
                    // socket's random source port.
                    let mut ours: u16 = rand::random();
                    while p.contains_key(&ours) {
                        ours = rand::random();
                    }
                    let id = u16::from_be_bytes([query[0], query[1]]);
                    p.insert(
                        ours,
                        Pending {
                            client,
                            id,
                            name,
                            since: Instant::now(),
                        },
                    );
                    drop(p);
                    query[0..2].copy_from_slice(&ours.to_be_bytes());
                    let _ = upstream.send(query);
                }
            })
        };
        let answering = {
            let running = running.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65_535];
                while running.load(Ordering::Relaxed) {
                    let Ok(n) = upstream.recv(&mut buf) else {
                        continue;
                    };
                    let reply = &mut buf[..n];
                    if reply.len() < 12 {
                        continue;
                    }
                    let ours = u16::from_be_bytes([reply[0], reply[1]]);
                    let Some(q) = pending.lock().expect("pending lock").remove(&ours) else {
                        continue;
                    };
                    // RFC 5452 §9.1: an answer counts only for the question that was asked.
                    if question_of_answer(reply).as_deref() != Some(q.name.as_str()) {
                        continue;
                    }
                    reply[0..2].copy_from_slice(&q.id.to_be_bytes());
                    let held = HeldAnswer {
                        client: q.client,
                        reply: reply.to_vec(),
                    };
                    if to_loop.send(crate::live::Input::Answer(held)).is_err() {
                        return;
                    }
                }
            })
        };
        Ok(DnsHold {
            clients,
            threads: vec![asking, answering],
        })
    }

    /// Send a held answer to its device (after its addresses were learned).
    pub(crate) fn release(&self, held: &HeldAnswer) {
        let _ = self.clients.send_to(&held.reply, held.client);
    }

    /// Wait for both threads (after `running` was cleared; they notice within 200 ms).
    pub(crate) fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// The question name of a query (not a response, at least one question).
fn question_of_query(bytes: &[u8]) -> Option<String> {
    let msg = simple_dns::Packet::parse(bytes).ok()?;
    if msg.has_flags(simple_dns::PacketFlag::RESPONSE) {
        return None;
    }
    msg.questions
        .first()
        .map(|q| normalize(&q.qname.to_string()))
}

/// The question name of a response.
fn question_of_answer(bytes: &[u8]) -> Option<String> {
    let msg = simple_dns::Packet::parse(bytes).ok()?;
    if !msg.has_flags(simple_dns::PacketFlag::RESPONSE) {
        return None;
    }
    msg.questions
        .first()
        .map(|q| normalize(&q.qname.to_string()))
}
