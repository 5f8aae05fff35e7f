//! Sudden new destinations: after the learning period, a burst of never-seen internet
//! addresses is reported; the device's usual hosts and a handful of new ones are not.

use monitor::{Config, EventKind, Mac, Monitor, OuiTable, Output};
use scenarios::{tcp_frame, Host, Tcp};
use std::net::Ipv4Addr;

const NS: u64 = 1_000_000_000;

fn events_for(new_hosts: u8) -> Vec<monitor::Event> {
    let dev = Host {
        mac: Mac([2, 0, 0, 0, 0, 7]),
        ip: Ipv4Addr::new(192, 168, 1, 7),
    };
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    let t0 = 1_767_225_600 * NS;
    // 200 s of talking to the same three hosts (answered connections).
    for s in 0..200u64 {
        let server = Ipv4Addr::new(198, 51, 100, 1 + (s % 3) as u8);
        let t = t0 + s * NS;
        mon.process(
            t,
            &tcp_frame(
                dev,
                Host::internet(server),
                Tcp::new(40_000 + s as u16, 443, 1, "S"),
                &[],
            ),
            &mut out,
        );
        mon.process(
            t + 1000,
            &tcp_frame(
                Host::internet(server),
                dev,
                Tcp::new(443, 40_000 + s as u16, 9, "SA").ack(2),
                &[],
            ),
            &mut out,
        );
    }
    // Then, within 30 s, connections to `new_hosts` addresses it never used.
    for i in 0..new_hosts {
        let server = Ipv4Addr::new(203, 0, 113, i + 1);
        let t = t0 + (200 + i as u64) * NS;
        mon.process(
            t,
            &tcp_frame(
                dev,
                Host::internet(server),
                Tcp::new(50_000 + i as u16, 443, 1, "S"),
                &[],
            ),
            &mut out,
        );
        mon.process(
            t + 1000,
            &tcp_frame(
                Host::internet(server),
                dev,
                Tcp::new(443, 50_000 + i as u16, 9, "SA").ack(2),
                &[],
            ),
            &mut out,
        );
    }
    out.into_iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[test]
fn burst_of_new_destinations_after_learning() {
    let quiet = events_for(5);
    assert!(quiet.is_empty(), "{quiet:?}");
    let burst = events_for(30);
    assert_eq!(burst.len(), 1, "{burst:?}");
    assert_eq!(burst[0].kind, EventKind::NewDestinations);
    assert!(
        !burst[0].quarantine,
        "new destinations alone is not bot behaviour"
    );
    assert_eq!(burst[0].evidence.len(), monitor::monitor::EVIDENCE_PACKETS);
}
