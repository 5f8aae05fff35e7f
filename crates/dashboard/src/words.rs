//! A device's situation in words: its name, the sentence under it on the home page, its label
//! badge, a journal line. Everything goes through the message files ([`crate::i18n`]); the
//! gateway's own English sentences are shown only where no translation exists (the event
//! sentences come from the monitor in both languages).

use crate::i18n::{Arg, Lang, Texts};
use crate::journal::Line;
use enforce::Level;
use gateway::{Action, DeviceStatus};

/// The name to show: the owner's, else the one the device gives itself (its DHCP host name,
/// else its mDNS host name), else its maker and the end of its MAC, else its MAC.
pub fn device_name(d: &DeviceStatus) -> String {
    if let Some(n) = d.owner_name.as_deref().filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    if let Some(h) = d.hostname.as_deref().filter(|h| !h.is_empty()) {
        return h.to_string();
    }
    if let Some(h) = d.mdns_name.as_deref().filter(|h| !h.is_empty()) {
        return h.to_string();
    }
    let mac = d.mac.to_string();
    let tail = mac.get(9..).unwrap_or(&mac);
    match d.vendor.as_deref() {
        Some(v) if !v.is_empty() => format!("{v} ({tail})"),
        _ => mac,
    }
}

/// Local time of `ns` (the gateway's time zone): "14:02" on the day of `now_ns`, else the date too.
pub fn time_words(ns: u64, now_ns: u64) -> String {
    use chrono::{Local, TimeZone};
    let at = |n: u64| Local.timestamp_nanos(i64::try_from(n).unwrap_or(i64::MAX));
    let t = at(ns);
    if t.date_naive() == at(now_ns).date_naive() {
        t.format("%H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// The level's short name (the badge).
pub fn level_name(t: &Texts, lang: Lang, level: Level) -> String {
    t.get(lang, &format!("level-{level}"))
}

/// A cause code ([`gateway::Decision::cause`]) in words.
pub fn cause_words(t: &Texts, lang: Lang, code: &str) -> String {
    let id = format!("cause-{code}");
    if t.has(&id) {
        t.get(lang, &id)
    } else {
        // A refusal of the MUD file (bad-signature, untrusted-signer, …): named by its code.
        t.format(lang, "cause-refused", &[("code", code.into())])
    }
}

/// The host of a MUD URL: who declared the device's profile.
fn maker(d: &DeviceStatus) -> String {
    d.mud_url
        .as_deref()
        .and_then(|u| u.strip_prefix("https://"))
        .and_then(|u| u.split(['/', ':']).next())
        .map(str::to_string)
        .or_else(|| d.vendor.clone())
        .unwrap_or_else(|| "?".into())
}

/// The sentence under the device's name: what it may do and why.
pub fn sentence(t: &Texts, lang: Lang, d: &DeviceStatus, now_ns: u64) -> String {
    if let Some(q) = &d.quarantine {
        let time = time_words(q.since_ns, now_ns);
        return match q.reason {
            None => t.format(lang, "sentence-isolated-owner", &[("time", time.into())]),
            Some(_) => {
                let what = match lang {
                    Lang::Fr => q.explanation_fr.clone().or_else(|| q.explanation.clone()),
                    Lang::En => q.explanation.clone(),
                }
                .unwrap_or_default();
                t.format(
                    lang,
                    "sentence-isolated",
                    &[("time", time.into()), ("what", what.into())],
                )
            }
        };
    }
    if let Some(until) = d.released_until_ns {
        return t.format(
            lang,
            "sentence-released",
            &[("time", time_words(until, now_ns).into())],
        );
    }
    let why = || Arg::from(cause_words(t, lang, &d.cause));
    match d.level {
        Level::Declared => t.format(lang, "sentence-declared", &[("maker", maker(d).into())]),
        Level::Default => t.format(lang, "sentence-default", &[("why", why())]),
        Level::UpdateOnly => t.format(lang, "sentence-update-only", &[("why", why())]),
        Level::Trusted => t.get(lang, "sentence-trusted"),
        Level::Isolated => t.get(lang, "device-may-isolated"),
    }
}

/// The label badge: (message id, words). Read from the gateway's status sentence.
pub fn label_badge(t: &Texts, lang: Lang, d: &DeviceStatus) -> (&'static str, String) {
    let Some(l) = &d.label else {
        return ("label-none", t.get(lang, "label-none"));
    };
    let s = l.status.as_str();
    let id = if s.starts_with("answer refused") {
        "label-problem"
    } else if s.starts_with("no label") {
        "label-none"
    } else if s.starts_with("not asked") {
        "label-not-asked"
    } else if s.ends_with(" active") {
        "label-active"
    } else if s.contains(" revoked") {
        "label-revoked"
    } else if s.ends_with(" support ended") {
        "label-support-ended"
    } else if s.ends_with(" suspended") {
        "label-suspended"
    } else if s.ends_with(" superseded") {
        "label-superseded"
    } else if s.ends_with(" not yet valid") {
        "label-not-yet-valid"
    } else if s.ends_with(" expired") {
        "label-expired"
    } else {
        return (
            "label-other",
            t.format(lang, "label-other", &[("status", s.into())]),
        );
    };
    (id, t.get(lang, id))
}

/// A journal line in words.
pub fn journal_words(t: &Texts, lang: Lang, l: &Line, now_ns: u64) -> String {
    let level = Arg::from(level_name(t, lang, l.to));
    let with_cause = |s: String| match &l.cause {
        Some(c) => format!("{s} — {}", cause_words(t, lang, c)),
        None => s,
    };
    match l.action {
        Action::Contain => t.format(lang, "journal-contain", &[("level", level)]),
        Action::Level => with_cause(t.format(lang, "journal-level", &[("level", level)])),
        Action::Mud => with_cause(t.format(lang, "journal-mud", &[("level", level)])),
        Action::Label => with_cause(t.format(lang, "journal-label", &[("level", level)])),
        Action::Quarantine | Action::Resume => {
            let head = t.get(
                lang,
                if l.action == Action::Resume {
                    "journal-resume"
                } else {
                    "journal-quarantine"
                },
            );
            let what = match lang {
                Lang::Fr => l.explanation_fr.clone(),
                Lang::En => l.explanation.clone(),
            };
            match (what, l.reason) {
                (Some(w), Some(_)) => format!("{head}: {w}"),
                _ if l.by == gateway::By::Owner => {
                    format!("{head} ({})", t.get(lang, "journal-by-owner"))
                }
                _ => head,
            }
        }
        Action::Release => match l.until_ns {
            Some(u) => t.format(
                lang,
                "journal-release-for",
                &[("time", time_words(u, now_ns).into())],
            ),
            None => t.get(lang, "journal-release"),
        },
        Action::Expire => t.get(lang, "journal-expire"),
        Action::Evict => t.get(lang, "journal-evict"),
        Action::Refused => t.format(lang, "journal-refused", &[("level", level)]),
        Action::Retry => t.get(lang, "journal-retry"),
        Action::Trust => t.get(lang, "journal-trust"),
        Action::Untrust => t.get(lang, "journal-untrust"),
        Action::Rename => match &l.name {
            Some(n) => t.format(lang, "journal-rename", &[("name", n.clone().into())]),
            None => t.get(lang, "journal-rename-clear"),
        },
        Action::Approve => t.get(lang, "journal-approve"),
        Action::Forget => t.get(lang, "journal-forget"),
        Action::Allow | Action::Disallow => {
            let dest = l
                .exception
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let id = if l.action == Action::Allow {
                "journal-allow"
            } else {
                "journal-disallow"
            };
            t.format(lang, id, &[("destination", dest.into())])
        }
    }
}
