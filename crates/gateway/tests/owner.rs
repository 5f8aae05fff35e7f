//! The owner's requests without root (dry run: every change journalled, nftables untouched):
//! a release for an hour after which the quarantine resumes for what was left of it, isolate
//! (block) until released, rename, approve, forget — each a journal entry, each kept across a
//! restart — and the bounds on their arguments.

use enforce::Level;
mod common;

use common::config;
use gateway::{Action, Gateway, OwnerRequest};
use monitor::{Config, Mac, Monitor, OuiTable, Output};
use scenarios::build;

const NS: u64 = 1_000_000_000;

/// The mirai scenario through monitor and gateway: (infected, benign, last packet time).
fn household(gw: &mut Gateway) -> (Mac, Mac, u64) {
    let (truth, frames) = build("mirai", 1).unwrap();
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out: Vec<Output> = Vec::new();
    let mut last = 0;
    for (t, f) in frames.iter() {
        mon.process(*t, f, &mut out);
        gw.handle_batch(&out, *t).unwrap();
        out.clear();
        last = *t;
    }
    let infected = truth.devices.iter().find(|d| d.infected).unwrap().mac;
    let benign = truth.devices.iter().find(|d| !d.infected).unwrap().mac;
    (infected, benign, last)
}

fn journal(gw: &Gateway) -> Vec<gateway::JournalEntry> {
    gateway::read_journal(gw.journal_path())
        .unwrap()
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

#[test]
fn a_release_for_an_hour_ends_and_the_quarantine_resumes_for_what_was_left() {
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::new(config(dir.path(), 7200)).unwrap();
    let (bot, _, now) = household(&mut gw);
    assert!(gw.is_quarantined(&bot));
    let q = journal(&gw)
        .into_iter()
        .find(|e| e.action == Action::Quarantine && e.device == bot)
        .unwrap();
    let left_at_release = q.until_ns.unwrap() - (now + 60 * NS);
    assert!(q.explanation_fr.as_deref().is_some_and(|f| !f.is_empty()));

    gw.owner_request(
        &bot,
        OwnerRequest::Release { for_s: Some(3600) },
        now + 60 * NS,
    )
    .unwrap();
    assert!(!gw.is_quarantined(&bot));
    assert_eq!(gw.level(&bot), Some(Level::Default));
    let r = journal(&gw).pop().unwrap();
    assert_eq!(r.action, Action::Release);
    assert_eq!(r.until_ns, Some(now + 3660 * NS));
    assert_eq!(r.resumes_for_s, Some(left_at_release / NS));
    let st = gw.status();
    let d = st.devices.iter().find(|d| d.mac == bot).unwrap();
    assert_eq!(d.released_until_ns, Some(now + 3660 * NS));
    assert!(d.quarantine.is_none());

    // Not yet: one second before the hour is up.
    gw.tick(now + 3659 * NS).unwrap();
    assert!(!gw.is_quarantined(&bot));
    // The hour passes: isolated again, for the 7140 s that were left.
    gw.tick(now + 3661 * NS).unwrap();
    assert!(gw.is_quarantined(&bot));
    assert_eq!(gw.level(&bot), Some(Level::Isolated));
    let e = journal(&gw).pop().unwrap();
    assert_eq!(e.action, Action::Resume);
    assert_eq!(e.until_ns, Some(now + 3661 * NS + left_at_release));
    assert!(e.reason.is_some());
    let st = gw.status();
    let d = st.devices.iter().find(|d| d.mac == bot).unwrap();
    assert!(d.quarantine.as_ref().unwrap().explanation_fr.is_some());
    assert!(d.released_until_ns.is_none());

    // A restart keeps the resumed quarantine.
    drop(gw);
    let gw = Gateway::new(config(dir.path(), 7200)).unwrap();
    assert!(gw.is_quarantined(&bot));
}

#[test]
fn a_timed_release_survives_a_restart_and_still_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let now = {
        let mut gw = Gateway::new(config(dir.path(), 3600)).unwrap();
        let (bot, _, now) = household(&mut gw);
        gw.owner_request(&bot, OwnerRequest::Release { for_s: Some(600) }, now)
            .unwrap();
        now
    };
    let mut gw = Gateway::new(config(dir.path(), 3600)).unwrap();
    let (bot, _, _) = household(&mut gw);
    assert!(!gw.is_quarantined(&bot), "released, not yet resumed");
    gw.tick(now + 601 * NS).unwrap();
    assert!(gw.is_quarantined(&bot));
}

#[test]
fn the_owner_isolates_names_approves_and_forgets_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::new(config(dir.path(), 3600)).unwrap();
    let (_, dev, now) = household(&mut gw);
    assert!(!gw.is_approved(&dev));

    gw.owner_request(&dev, OwnerRequest::Isolate, now).unwrap();
    assert!(gw.is_quarantined(&dev));
    let e = journal(&gw).pop().unwrap();
    assert_eq!(
        (e.action, e.by, e.until_ns),
        (Action::Quarantine, gateway::By::Owner, None)
    );
    assert!(e.reason.is_none());
    // No end by itself: a day later still isolated.
    gw.tick(now + 86_400 * NS).unwrap();
    assert!(gw.is_quarantined(&dev));
    let st = gw.status();
    let d = st.devices.iter().find(|d| d.mac == dev).unwrap();
    assert_eq!(d.quarantined_until_ns, None);
    assert!(d.quarantine.as_ref().unwrap().reason.is_none());
    gw.owner_request(
        &dev,
        OwnerRequest::Release { for_s: None },
        now + 86_401 * NS,
    )
    .unwrap();
    assert!(!gw.is_quarantined(&dev));

    gw.owner_request(
        &dev,
        OwnerRequest::Rename {
            name: Some("Caméra du salon".into()),
        },
        now,
    )
    .unwrap();
    gw.owner_request(&dev, OwnerRequest::Approve, now).unwrap();
    assert_eq!(gw.owner_name(&dev), Some("Caméra du salon"));
    assert!(gw.is_approved(&dev));
    let st = gw.status();
    let d = st.devices.iter().find(|d| d.mac == dev).unwrap();
    assert_eq!(d.owner_name.as_deref(), Some("Caméra du salon"));
    assert!(d.approved);
    assert!(d.first_seen_ns.is_some());

    // Kept across a restart.
    drop(gw);
    let mut gw = Gateway::new(config(dir.path(), 3600)).unwrap();
    assert_eq!(gw.owner_name(&dev), Some("Caméra du salon"));
    assert!(gw.is_approved(&dev));
    household(&mut gw);

    gw.owner_request(&dev, OwnerRequest::Forget, now).unwrap();
    assert_eq!(gw.level(&dev), None);
    assert!(gw.status().devices.iter().all(|d| d.mac != dev));
    assert_eq!(journal(&gw).pop().unwrap().action, Action::Forget);
    drop(gw);
    let gw = Gateway::new(config(dir.path(), 3600)).unwrap();
    assert_eq!(gw.owner_name(&dev), None);
    assert!(!gw.is_approved(&dev));
}

#[test]
fn request_arguments_are_bounded_where_they_are_made_and_where_they_are_read() {
    let too_long = OwnerRequest::Rename {
        name: Some("x".repeat(gateway::MAX_NAME_CHARS + 1)),
    };
    assert!(too_long.check().is_err());
    assert!(OwnerRequest::Rename {
        name: Some("a\nb".into())
    }
    .check()
    .is_err());
    assert!(OwnerRequest::Release { for_s: Some(0) }.check().is_err());
    assert!(OwnerRequest::Release {
        for_s: Some(gateway::MAX_RELEASE_S + 1)
    }
    .check()
    .is_err());
    assert_eq!(
        OwnerRequest::parse("release", "3600\n").unwrap(),
        OwnerRequest::Release { for_s: Some(3600) }
    );
    assert!(OwnerRequest::parse("release", "an hour").is_err());
    assert!(OwnerRequest::parse("explode", "").is_err());

    // A bad request file is dropped with a warning and changes nothing.
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::new(config(dir.path(), 3600)).unwrap();
    let (_, dev, now) = household(&mut gw);
    let before = journal(&gw).len();
    let rename = dir.path().join("rename");
    std::fs::create_dir_all(&rename).unwrap();
    let file = rename.join(dev.to_string().replace(':', "-"));
    std::fs::write(&file, "x".repeat(500)).unwrap();
    gw.tick(now).unwrap();
    assert!(!file.exists());
    assert_eq!(journal(&gw).len(), before);
    assert!(
        gw.warnings.iter().any(|w| w.contains("at most")),
        "{:?}",
        gw.warnings
    );
}

/// The owner exceptions the gateway's status shows for `mac`.
fn exceptions_of(gw: &Gateway, mac: &Mac) -> Vec<enforce::Exception> {
    gw.status()
        .devices
        .into_iter()
        .find(|d| d.mac == *mac)
        .unwrap()
        .exceptions
}

/// Allow `mac` one more destination.
fn allow(gw: &mut Gateway, mac: &Mac, x: &enforce::Exception, now: u64) {
    gw.owner_request(
        mac,
        OwnerRequest::Allow {
            exception: x.clone(),
        },
        now,
    )
    .unwrap();
}

#[test]
fn an_exception_is_journalled_shown_kept_across_a_restart_and_taken_away() {
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::new(config(dir.path(), 7200)).unwrap();
    let (_, benign, now) = household(&mut gw);
    let x: enforce::Exception = "weather.example.com tcp/443".parse().unwrap();
    allow(&mut gw, &benign, &x, now);
    let e = journal(&gw).pop().unwrap();
    assert_eq!((e.action, e.device), (Action::Allow, benign));
    assert_eq!(e.exception.as_ref(), Some(&x));
    assert!(e
        .explanation_fr
        .is_some_and(|f| f.contains("weather.example.com")));
    let shown = |gw: &Gateway| exceptions_of(gw, &benign);
    assert_eq!(shown(&gw), vec![x.clone()]);
    // Asking again changes nothing and writes nothing.
    let lines = journal(&gw).len();
    allow(&mut gw, &benign, &x, now);
    assert_eq!(journal(&gw).len(), lines);

    // Kept across a restart (rebuilt from the journal), then taken away.
    drop(gw);
    let mut gw = Gateway::new(config(dir.path(), 7200)).unwrap();
    let (_, _, now2) = household(&mut gw);
    assert_eq!(shown(&gw), vec![x.clone()]);
    gw.owner_request(
        &benign,
        OwnerRequest::Disallow {
            exception: x.clone(),
        },
        now2,
    )
    .unwrap();
    assert_eq!(journal(&gw).pop().unwrap().action, Action::Disallow);
    assert!(shown(&gw).is_empty());
    drop(gw);
    let mut gw = Gateway::new(config(dir.path(), 7200)).unwrap();
    household(&mut gw);
    assert!(shown(&gw).is_empty());
}

#[test]
fn exception_requests_are_read_and_bounded_as_written() {
    let r = OwnerRequest::parse("allow", "Weather.Example.com TCP/443\n").unwrap();
    assert_eq!(r.payload(), "weather.example.com tcp/443");
    assert_eq!(r.answer(), Action::Allow);
    assert!(OwnerRequest::parse("allow", "").is_err());
    assert!(OwnerRequest::parse("disallow", "not a host").is_err());
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::new(config(dir.path(), 7200)).unwrap();
    let (_, benign, now) = household(&mut gw);
    for i in 0..gateway::MAX_EXCEPTIONS + 2 {
        let exception = format!("192.0.2.{i}").parse().unwrap();
        gw.owner_request(&benign, OwnerRequest::Allow { exception }, now)
            .unwrap();
    }
    let held = exceptions_of(&gw, &benign);
    assert_eq!(held.len(), gateway::MAX_EXCEPTIONS);
    assert!(gw.warnings.iter().any(|w| w.contains("at most")));
}
