//! DNS-learned addresses into named sets over netlink, without starting `nft`.
//!
//! `nft add element` costs a process start and a read of the whole ruleset (milliseconds, and
//! more as the table grows); a DNS answer a device is waiting for should cost far less. This
//! module sends the one message nftables itself sends for it — `NFT_MSG_NEWSETELEM` inside a
//! `NFNL_MSG_BATCH_BEGIN … NFNL_MSG_BATCH_END` transaction — on a `NETLINK_NETFILTER` socket,
//! and waits for the kernel's acknowledgement, so when [`add_elements`] returns `Ok` the
//! addresses are in the sets.
//!
//! Written here rather than taken from a crate: the nftables netlink crates either bind the C
//! libnftnl or are GPL-licensed with a large rough surface; the message is small and fixed
//! (the attributes below, from `include/uapi/linux/netfilter/nf_tables.h` and
//! `nfnetlink.h`), and the socket comes from the maintained `netlink-sys`.
//!
//! Wire layout of one request (all netlink headers in host byte order, nfgenmsg's `res_id`
//! and every attribute value in network order, attributes padded to 4 bytes):
//!
//! ```text
//! nlmsghdr(BATCH_BEGIN) nfgenmsg(AF_UNSPEC, res_id = NFNL_SUBSYS_NFTABLES)
//! nlmsghdr(NFTABLES<<8 | NEWSETELEM, REQUEST|CREATE|ACK) nfgenmsg(NFPROTO_INET)
//!   NFTA_SET_ELEM_LIST_TABLE  "trustgate\0"
//!   NFTA_SET_ELEM_LIST_SET    "d…_n0_4\0"
//!   NFTA_SET_ELEM_LIST_ELEMENTS (nested)
//!     NFTA_LIST_ELEM (nested)
//!       NFTA_SET_ELEM_KEY (nested) / NFTA_DATA_VALUE  4 or 16 address bytes
//!       NFTA_SET_ELEM_TIMEOUT     u64, milliseconds
//! … one NEWSETELEM message per set …
//! nlmsghdr(BATCH_END)
//! ```

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;

use netlink_sys::{protocols::NETLINK_NETFILTER, Socket, SocketAddr};

/// `nlmsghdr` flags (`linux/netlink.h`).
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_CREATE` without `NLM_F_EXCL`: an element already there is not an error (as
/// `nft add element`).
const NLM_F_CREATE: u16 = 0x400;
/// `NLMSG_ERROR`: an acknowledgement (error 0) or a refusal (a negative errno).
const NLMSG_ERROR: u16 = 0x2;
/// `nfnetlink.h`: batch delimiters and the nftables subsystem.
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
/// `nf_tables.h`: `enum nf_tables_msg_types`.
const NFT_MSG_NEWSETELEM: u16 = 12;
/// `NFPROTO_INET`: the family of our table.
const NFPROTO_INET: u8 = 1;
/// `enum nft_set_elem_list_attributes`.
const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
/// `enum nft_list_attributes`.
const NFTA_LIST_ELEM: u16 = 1;
/// `enum nft_set_elem_attributes`.
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_TIMEOUT: u16 = 4;
/// `enum nft_data_attributes`.
const NFTA_DATA_VALUE: u16 = 1;
/// `NLA_F_NESTED`: the attribute holds attributes.
const NLA_F_NESTED: u16 = 0x8000;
/// Header sizes: `nlmsghdr` 16 bytes, `nfgenmsg` 4, `nlattr` 4.
const NLMSG_HDR: usize = 16;
const NFGEN_HDR: usize = 4;
const NLA_HDR: usize = 4;

/// One address to put in one set for `timeout_s` seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetElement {
    /// The set's name in the table.
    pub set: String,
    /// The address (an IPv4 set takes IPv4 addresses only, an IPv6 set IPv6 ones).
    pub addr: IpAddr,
    /// How long the element stays, in seconds (more than zero).
    pub timeout_s: u32,
}

/// Why the kernel did not take the elements.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The netlink socket could not be opened, or sending or receiving failed.
    #[error("netlink socket")]
    Socket(#[from] io::Error),
    /// The kernel refused the transaction (nothing of it was applied).
    #[error("the kernel refused the set elements: {}", io::Error::from_raw_os_error(*errno))]
    Refused {
        /// The errno the kernel answered (`ENOENT`: no such table or set).
        errno: i32,
    },
    /// Not every message was acknowledged.
    #[error("the kernel acknowledged {got} of {sent} messages")]
    Unacknowledged {
        /// Acknowledgements received.
        got: usize,
        /// Messages that asked for one.
        sent: usize,
    },
}

/// An open `NETLINK_NETFILTER` socket in this process's network namespace. Opening needs
/// `CAP_NET_ADMIN`, as `nft` does.
pub struct ElementWriter {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl std::fmt::Debug for ElementWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElementWriter")
            .field("seq", &self.seq)
            .finish()
    }
}

impl ElementWriter {
    /// Open the socket.
    pub fn open() -> Result<Self, NetlinkError> {
        let mut socket = Socket::new(NETLINK_NETFILTER)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(ElementWriter {
            socket,
            seq: 1,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Add `elems` to their sets in `table` (family inet) as one transaction: all or none.
    /// Returns once the kernel has acknowledged it.
    pub fn add_elements(&mut self, table: &str, elems: &[SetElement]) -> Result<(), NetlinkError> {
        if elems.is_empty() {
            return Ok(());
        }
        let mut by_set: BTreeMap<&str, Vec<&SetElement>> = BTreeMap::new();
        for e in elems {
            by_set.entry(&e.set).or_default().push(e);
        }
        self.buf.clear();
        let base = self.seq;
        put_batch_delimiter(&mut self.buf, NFNL_MSG_BATCH_BEGIN, base);
        let mut seq = base;
        for (set, elems) in &by_set {
            seq = seq.wrapping_add(1);
            put_newsetelem(&mut self.buf, seq, table, set, elems);
        }
        put_batch_delimiter(&mut self.buf, NFNL_MSG_BATCH_END, seq.wrapping_add(1));
        self.seq = seq.wrapping_add(2);
        self.socket.send(&self.buf, 0)?;
        self.read_acks(base, by_set.len())
    }

    /// Read one reply per NEWSETELEM message. nfnetlink processes a batch inside `send`, and
    /// answers every message that asked for an acknowledgement (and every refused one), so the
    /// replies are already queued when this runs.
    fn read_acks(&mut self, base: u32, sent: usize) -> Result<(), NetlinkError> {
        let mut got = 0;
        let mut refused = None;
        while got < sent {
            let (reply, _) = self.socket.recv_from_full()?;
            let mut rest = &reply[..];
            while rest.len() >= NLMSG_HDR {
                let len = u32::from_ne_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
                let ty = u16::from_ne_bytes(rest[4..6].try_into().expect("2 bytes"));
                let seq = u32::from_ne_bytes(rest[8..12].try_into().expect("4 bytes"));
                if len < NLMSG_HDR || len > rest.len() {
                    break;
                }
                if ty == NLMSG_ERROR && len >= NLMSG_HDR + 4 {
                    let errno = i32::from_ne_bytes(
                        rest[NLMSG_HDR..NLMSG_HDR + 4].try_into().expect("4 bytes"),
                    );
                    if seq.wrapping_sub(base) <= sent as u32 + 1 {
                        got += 1;
                        if errno != 0 && refused.is_none() {
                            refused = Some(-errno);
                        }
                    }
                }
                rest = &rest[align4(len).min(rest.len())..];
            }
            if refused.is_some() {
                // A refused batch is aborted as a whole; its other messages may still be
                // answered, but nothing was applied either way.
                break;
            }
        }
        match refused {
            Some(errno) => Err(NetlinkError::Refused { errno }),
            None if got >= sent => Ok(()),
            None => Err(NetlinkError::Unacknowledged { got, sent }),
        }
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Start a message: header with a length to fill in later, then nfgenmsg. Returns its start.
fn begin_msg(buf: &mut Vec<u8>, ty: u16, flags: u16, seq: u32, family: u8, res_id: u16) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
    buf.push(family);
    buf.push(0); // NFNETLINK_V0
    buf.extend_from_slice(&res_id.to_be_bytes());
    debug_assert_eq!(buf.len() - start, NLMSG_HDR + NFGEN_HDR);
    start
}

fn end_msg(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u32;
    buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
}

fn put_batch_delimiter(buf: &mut Vec<u8>, ty: u16, seq: u32) {
    let start = begin_msg(buf, ty, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES);
    end_msg(buf, start);
}

/// An attribute with a payload; padded to 4 bytes (the length field excludes the padding).
fn put_attr(buf: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let len = (NLA_HDR + payload.len()) as u16;
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(align4(buf.len()), 0);
}

fn put_str(buf: &mut Vec<u8>, ty: u16, s: &str) {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    put_attr(buf, ty, &v);
}

/// Open a nested attribute; returns where its header is, for [`end_nest`].
fn begin_nest(buf: &mut Vec<u8>, ty: u16) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&0u16.to_ne_bytes());
    buf.extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
    at
}

fn end_nest(buf: &mut [u8], at: usize) {
    let len = (buf.len() - at) as u16;
    buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
}

fn put_newsetelem(buf: &mut Vec<u8>, seq: u32, table: &str, set: &str, elems: &[&SetElement]) {
    let ty = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM;
    let flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
    let start = begin_msg(buf, ty, flags, seq, NFPROTO_INET, 0);
    put_str(buf, NFTA_SET_ELEM_LIST_TABLE, table);
    put_str(buf, NFTA_SET_ELEM_LIST_SET, set);
    let list = begin_nest(buf, NFTA_SET_ELEM_LIST_ELEMENTS);
    for e in elems {
        let elem = begin_nest(buf, NFTA_LIST_ELEM);
        let key = begin_nest(buf, NFTA_SET_ELEM_KEY);
        match e.addr {
            IpAddr::V4(a) => put_attr(buf, NFTA_DATA_VALUE, &a.octets()),
            IpAddr::V6(a) => put_attr(buf, NFTA_DATA_VALUE, &a.octets()),
        }
        end_nest(buf, key);
        let ms = u64::from(e.timeout_s.max(1)) * 1000;
        put_attr(buf, NFTA_SET_ELEM_TIMEOUT, &ms.to_be_bytes());
        end_nest(buf, elem);
    }
    end_nest(buf, list);
    end_msg(buf, start);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn one_element_is_laid_out_as_nftables_sends_it() {
        let mut buf = vec![];
        let e = SetElement {
            set: "s".into(),
            addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
            timeout_s: 300,
        };
        put_newsetelem(&mut buf, 9, "t", "s", &[&e]);
        // Whole message: its length, then type NFTABLES<<8|NEWSETELEM and its flags.
        assert_eq!(
            u32::from_ne_bytes(buf[0..4].try_into().unwrap()) as usize,
            buf.len()
        );
        assert_eq!(u16::from_ne_bytes(buf[4..6].try_into().unwrap()), 0x0a0c);
        assert_eq!(u16::from_ne_bytes(buf[6..8].try_into().unwrap()), 0x405);
        assert_eq!(u32::from_ne_bytes(buf[8..12].try_into().unwrap()), 9);
        assert_eq!(buf[16], NFPROTO_INET);
        // Table "t\0" padded to 4: len 6, type 1.
        assert_eq!(&buf[20..28], &[6, 0, 1, 0, b't', 0, 0, 0][..]);
        assert_eq!(&buf[28..36], &[6, 0, 2, 0, b's', 0, 0, 0][..]);
        // Elements list (nested), one element (nested), its key (nested) holding the address.
        let rest = &buf[36..];
        assert_eq!(
            u16::from_ne_bytes(rest[2..4].try_into().unwrap()),
            3 | NLA_F_NESTED
        );
        assert_eq!(
            u16::from_ne_bytes(rest[6..8].try_into().unwrap()),
            1 | NLA_F_NESTED
        );
        assert_eq!(
            u16::from_ne_bytes(rest[10..12].try_into().unwrap()),
            1 | NLA_F_NESTED
        );
        assert_eq!(&rest[12..20], &[8, 0, 1, 0, 192, 0, 2, 7][..]);
        // The timeout: 300 000 ms as a big-endian u64.
        assert_eq!(&rest[20..24], &[12, 0, 4, 0][..]);
        assert_eq!(&rest[24..32], &300_000u64.to_be_bytes()[..]);
        assert_eq!(rest.len(), 32);
    }
}
