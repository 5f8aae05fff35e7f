//! The pages, rendered on the server (maud escapes every value): they work without
//! JavaScript; `assets/live.js` only reloads a page when the journal grows.

use crate::i18n::{Lang, Texts};
use crate::journal::Line;
use crate::words::{device_name, journal_words, label_badge, level_name, sentence, time_words};
use enforce::Level;
use gateway::{DeviceStatus, StatusFile};
use maud::{html, Markup, DOCTYPE};

/// What every page needs besides its content.
pub struct Frame<'a> {
    /// Messages.
    pub t: &'a Texts,
    /// Language.
    pub lang: Lang,
    /// The page's own path, for the language switch to come back to.
    pub here: &'a str,
    /// The session's CSRF token (`None`: not signed in).
    pub csrf: Option<&'a str>,
}

impl Frame<'_> {
    fn tr(&self, id: &str) -> String {
        self.t.get(self.lang, id)
    }
}

/// The page around `body`.
pub fn page(f: &Frame, title: &str, body: Markup) -> Markup {
    let other = f.tr("lang-other-code");
    html! {
        (DOCTYPE)
        html lang=(f.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (f.tr("app-title")) }
                link rel="stylesheet" href="/assets/style.css";
            }
            body {
                header {
                    span.brand { (f.tr("app-title")) }
                    nav {
                        @if let Some(csrf) = f.csrf {
                            a href="/" { (f.tr("nav-home")) }
                            a href="/events" { (f.tr("nav-events")) }
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button.link type="submit" { (f.tr("nav-logout")) }
                            }
                        }
                        a.lang href={ "/lang/" (other) "?back=" (f.here) } hreflang=(other) { (f.tr("lang-other")) }
                    }
                }
                main { (body) }
                @if f.csrf.is_some() {
                    script src="/assets/live.js" defer {}
                }
            }
        }
    }
}

/// The sign-in page.
/// `token`: the form's CSRF token (the sign-in form has no session yet).
pub fn login(f: &Frame, message: Option<String>, token: &str) -> Markup {
    page(
        f,
        &f.tr("login-title"),
        html! {
            h1 { (f.tr("login-title")) }
            p { (f.tr("login-intro")) }
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                label for="password" { (f.tr("login-password")) }
                input id="password" type="password" name="password" autocomplete="current-password" required autofocus;
                button type="submit" id="sign-in" { (f.tr("login-submit")) }
            }
        },
    )
}

/// The first-visit page: one-time code and the owner's new password.
pub fn setup(f: &Frame, message: Option<String>, token: &str) -> Markup {
    let min = crate::auth::MIN_PASSWORD_CHARS as i64;
    page(
        f,
        &f.tr("setup-title"),
        html! {
            h1 { (f.tr("setup-title")) }
            p { (f.tr("setup-intro")) }
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form method="post" action="/setup" {
                input type="hidden" name="csrf" value=(token);
                label for="code" { (f.tr("setup-code")) }
                input id="code" name="code" autocomplete="one-time-code" required;
                label for="password" { (f.t.format(f.lang, "setup-new", &[("min", min.into())])) }
                input id="password" type="password" name="password" autocomplete="new-password" minlength=(min) required;
                button type="submit" { (f.tr("setup-submit")) }
            }
        },
    )
}

fn level_class(d: &DeviceStatus) -> &'static str {
    match d.level {
        Level::Declared => "declared",
        Level::Default => "default",
        Level::UpdateOnly => "update-only",
        Level::Isolated => "isolated",
        Level::Trusted => "trusted",
    }
}

fn mac_path(d: &DeviceStatus) -> String {
    format!("/device/{}", d.mac)
}

fn action_button(f: &Frame, mac: &str, what: &str, label_id: &str, class: &str) -> Markup {
    html! {
        form.inline method="post" action={ "/device/" (mac) "/act" } {
            input type="hidden" name="csrf" value=(f.csrf.unwrap_or(""));
            input type="hidden" name="do" value=(what);
            @if f.here == "/" { input type="hidden" name="from" value="home"; }
            button class=(class) type="submit" data-do=(what) { (f.tr(label_id)) }
        }
    }
}

/// The home page: every device, new ones first.
pub fn home(
    f: &Frame,
    status: Option<&StatusFile>,
    running: bool,
    notice: Option<String>,
) -> Markup {
    let empty = vec![];
    let devices = status.map(|s| &s.devices).unwrap_or(&empty);
    let now = status.map(|s| s.time_ns).unwrap_or(0);
    let mut order: Vec<&DeviceStatus> = devices.iter().collect();
    order.sort_by_key(|d| (d.approved, device_name(d).to_lowercase()));
    page(
        f,
        &f.tr("home-title"),
        html! {
            h1 { (f.tr("home-title")) }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if !running && status.is_some() {
                p.error { (f.t.format(f.lang, "home-stale", &[("time", time_words(now, now).into())])) }
            }
            @if order.is_empty() { p { (f.tr("home-none")) } }
            ul.devices {
                @for d in order {
                    @let (badge_id, badge) = label_badge(f.t, f.lang, d);
                    @let mac = d.mac.to_string();
                    li class={ "device " (level_class(d)) @if !d.approved { " new" } } data-mac=(mac) {
                        div.top {
                            a.name href=(mac_path(d)) { (device_name(d)) }
                            span class={ "level " (level_class(d)) } { (level_name(f.t, f.lang, d.level)) }
                            span class={ "badge " (badge_id) } { (badge) }
                        }
                        p.sentence { (sentence(f.t, f.lang, d, now)) }
                        @if let Some(t) = &d.traffic {
                            p.blocked data-blocked=(t.blocked_24h) {
                                (f.t.format(f.lang, "home-blocked", &[("count", (t.blocked_24h as i64).into())]))
                            }
                        }
                        @if !d.approved {
                            div.new-device {
                                span.new-tag { (f.tr("home-new")) }
                                " " (f.tr("home-new-explain")) " "
                                (action_button(f, &mac, "approve", "action-approve", "approve"))
                                (action_button(f, &mac, "block", "action-block", "danger"))
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One device: what it may do, its label, its events, the owner's actions.
pub fn device(
    f: &Frame,
    d: &DeviceStatus,
    now: u64,
    lines: &[&Line],
    notice: Option<String>,
    error: Option<String>,
) -> Markup {
    let mac = d.mac.to_string();
    let name = device_name(d);
    let (badge_id, badge) = label_badge(f.t, f.lang, d);
    let may = format!("device-may-{}", level_class(d));
    page(
        f,
        &name,
        html! {
            h1 { (name) }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            p class={ "level " (level_class(d)) } id="level" { (level_name(f.t, f.lang, d.level)) }
            p.sentence id="sentence" { (sentence(f.t, f.lang, d, now)) }
            section {
                h2 { (f.tr("device-actions")) }
                div.actions {
                    @if d.quarantine.is_some() {
                        (action_button(f, &mac, "release", "action-release", "primary"))
                        (action_button(f, &mac, "release-hour", "action-release-hour", ""))
                    } @else {
                        (action_button(f, &mac, "isolate", "action-isolate", "danger"))
                    }
                    @if !d.approved { (action_button(f, &mac, "approve", "action-approve", "")) }
                    @if d.trusted {
                        (action_button(f, &mac, "untrust", "action-untrust", ""))
                    } @else {
                        (action_button(f, &mac, "trust", "action-trust", ""))
                    }
                    (action_button(f, &mac, "forget", "action-forget", "danger"))
                }
                form.rename method="post" action={ "/device/" (mac) "/act" } {
                    input type="hidden" name="csrf" value=(f.csrf.unwrap_or(""));
                    input type="hidden" name="do" value="rename";
                    label for="name" { (f.tr("action-rename-field")) }
                    input id="name" name="name" maxlength=(gateway::MAX_NAME_CHARS) value=(d.owner_name.clone().unwrap_or_default());
                    button type="submit" { (f.tr("action-rename")) }
                }
            }
            section {
                h2 { (f.tr("device-may")) }
                p { (f.tr(&may)) }
                @if let Some(words) = d.mud.as_ref().and_then(|m| match f.lang {
                    crate::i18n::Lang::Fr => m.explanation_fr.as_ref(),
                    crate::i18n::Lang::En => m.explanation.as_ref(),
                }) {
                    // Its maker's profile in plain words (the first line is the device's own
                    // name, already the page's title).
                    ul.explanation id="explanation" {
                        @for line in words.lines().skip(1).filter(|l| !l.trim().is_empty()) {
                            li { (line) }
                        }
                    }
                }
                dl {
                    dt { (f.tr("device-profile")) }
                    dd {
                        @match (&d.mud_url, &d.mud) {
                            (None, _) => { (f.tr("device-profile-none")) }
                            (Some(u), Some(m)) if m.state == "verified" => {
                                code { (u) } br;
                                (f.t.format(f.lang, "device-profile-verified", &[("signer", m.detail.clone().into())]))
                            }
                            (Some(u), Some(m)) => {
                                code { (u) } br;
                                (crate::words::cause_words(f.t, f.lang, &m.state))
                            }
                            (Some(u), None) => { code { (u) } }
                        }
                    }
                }
            }
            section id="exceptions" {
                h2 { (f.tr("device-exceptions")) }
                @if d.exceptions.is_empty() {
                    p { (f.tr("device-exceptions-none")) }
                } @else {
                    p { (f.tr("device-exceptions-intro")) }
                    ul.exceptions {
                        @for x in &d.exceptions {
                            @let spelled = x.to_string();
                            li data-exception=(spelled) {
                                code { (spelled) } " "
                                @if matches!(d.level, Level::Isolated | Level::Trusted) {
                                    small { (f.tr(if d.level == Level::Isolated { "device-exception-held" } else { "device-exception-unneeded" })) } " "
                                }
                                form.inline method="post" action={ "/device/" (mac) "/act" } {
                                    input type="hidden" name="csrf" value=(f.csrf.unwrap_or(""));
                                    input type="hidden" name="do" value="disallow";
                                    input type="hidden" name="exception" value=(spelled);
                                    button type="submit" data-do="disallow" { (f.tr("action-disallow")) }
                                }
                            }
                        }
                    }
                }
                form.allow method="post" action={ "/device/" (mac) "/act" } {
                    input type="hidden" name="csrf" value=(f.csrf.unwrap_or(""));
                    input type="hidden" name="do" value="allow";
                    label for="destination" { (f.tr("action-allow-destination")) }
                    input id="destination" name="destination" required placeholder="weather.example.com" maxlength="253";
                    label for="proto" { (f.tr("action-allow-proto")) }
                    select id="proto" name="proto" {
                        option value="tcp" { "TCP" }
                        option value="udp" { "UDP" }
                        option value="" { (f.tr("action-allow-any")) }
                    }
                    label for="port" { (f.tr("action-allow-port")) }
                    input id="port" name="port" inputmode="numeric" pattern="[0-9]*" maxlength="5" placeholder="443";
                    button type="submit" data-do="allow" { (f.tr("action-allow")) }
                }
            }
            @if let Some(t) = &d.traffic {
                section id="traffic" {
                    h2 { (f.tr("device-traffic")) }
                    p {
                        (f.t.format(f.lang, "device-traffic-summary", &[
                            ("allowed", (t.allowed_packets as i64).into()),
                            ("blocked", (t.blocked_packets as i64).into()),
                            ("day", (t.blocked_24h as i64).into()),
                        ]))
                    }
                    details {
                        summary { (f.tr("device-traffic-rules")) }
                        table.counters {
                            thead { tr {
                                th { (f.tr("device-traffic-rule")) }
                                th { (f.tr("device-traffic-direction")) }
                                th { (f.tr("device-traffic-allowed")) }
                                th { (f.tr("device-traffic-blocked")) }
                            } }
                            tbody {
                                @for c in &t.rules {
                                    tr data-rule=(c.rule) {
                                        td { code { (c.rule) } }
                                        td { (f.tr(if c.chain.ends_with("_in") { "device-traffic-in" } else { "device-traffic-out" })) }
                                        td { @if !c.dropped { (c.packets) } }
                                        td { @if c.dropped { (c.packets) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section {
                h2 { (f.tr("device-label")) }
                p { span class={ "badge " (badge_id) } { (badge) } }
                @if let Some(l) = &d.label {
                    dl {
                        @if let Some(p) = &l.product {
                            dt { (f.tr("device-label-product")) }
                            dd { (p) @if let Some(m) = &l.manufacturer { " — " (m) } }
                        }
                        @if let Some(e) = &l.support_end {
                            dt { (f.tr("device-label-support-end")) }
                            dd.support-end id="support-end" { (e) }
                        }
                        @if let Some(u) = l.update_mode {
                            dt { (f.tr("device-label-update-mode")) }
                            dd { (f.tr(&format!("update-mode-{}", update_mode_code(u)))) }
                        }
                        @if let Some(a) = &l.assessor {
                            dt { (f.tr("device-label-assessor")) } dd { (a) }
                        }
                        @if !l.failing.is_empty() {
                            dt { (f.tr("device-label-failing")) }
                            dd.error { @for p in &l.failing { code { (p) } " " } }
                        }
                        @if !l.undecided.is_empty() {
                            dt { (f.tr("device-label-undecided")) }
                            dd { @for p in &l.undecided { code { (p) } " " } }
                        }
                        @if let Some(c) = l.checked_at {
                            dd { (f.t.format(f.lang, "device-label-checked", &[("time", time_words(secs_ns(c), now).into())])) }
                        }
                        @if let Some(u) = l.registry_unreachable_since {
                            dd.error { (f.t.format(f.lang, "device-label-unreachable", &[("time", time_words(secs_ns(u), now).into())])) }
                        }
                    }
                    @if let Some(p) = l.consumer_page.as_deref().filter(|p| p.starts_with("https://") || p.starts_with("http://")) {
                        p { a href=(p) rel="noopener noreferrer" { (f.tr("device-label-page")) } }
                    }
                }
            }
            section {
                h2 { (f.tr("device-facts")) }
                dl {
                    dt { (f.tr("device-mac")) } dd { code { (mac) } }
                    @if let Some(v) = &d.vendor { dt { (f.tr("device-vendor")) } dd { (v) } }
                    @if let Some(h) = &d.hostname { dt { (f.tr("device-hostname")) } dd { (h) } }
                    @if !d.addrs.is_empty() {
                        dt { (f.tr("device-addresses")) }
                        dd { @for a in &d.addrs { code { (a.to_string()) } " " } }
                    }
                    @if let Some(s) = d.first_seen_ns {
                        dt { (f.tr("device-first-seen")) } dd { (time_words(s, now)) }
                    }
                }
            }
            section {
                h2 { (f.tr("device-events")) }
                (timeline(f, lines, now, false))
            }
        },
    )
}

fn update_mode_code(u: label::UpdateMode) -> &'static str {
    match u {
        label::UpdateMode::Automatic => "automatic",
        label::UpdateMode::UserInitiated => "user-initiated",
        label::UpdateMode::Manual => "manual",
        label::UpdateMode::None => "none",
    }
}

fn secs_ns(s: i64) -> u64 {
    u64::try_from(s).unwrap_or(0).saturating_mul(1_000_000_000)
}

/// Journal lines, newest first.
pub fn timeline(f: &Frame, lines: &[&Line], now: u64, with_device: bool) -> Markup {
    html! {
        @if lines.is_empty() { p { (f.tr("device-no-events")) } }
        ol.timeline {
            @for l in lines {
                li class={ "event " (l.action.as_str()) } data-seq=(l.seq) {
                    time { (time_words(l.time_ns, now)) }
                    " "
                    @if with_device {
                        a href={ "/device/" (l.device.to_string()) } { code { (l.device.to_string()) } }
                        " "
                    }
                    span.what { (journal_words(f.t, f.lang, l, now)) }
                    @if l.evidence > 0 {
                        " " small { (f.t.format(f.lang, "device-evidence", &[("count", (l.evidence as i64).into())])) }
                    }
                }
            }
        }
    }
}

/// The events page: the week in numbers, then the timeline (optionally one device's).
pub fn events(
    f: &Frame,
    status: Option<&StatusFile>,
    lines: &[&Line],
    week: (i64, i64, i64),
    device: Option<&str>,
    kind: Option<&str>,
    truncated: bool,
) -> Markup {
    let now = status.map(|s| s.time_ns).unwrap_or(0);
    let empty = vec![];
    let devices = status.map(|s| &s.devices).unwrap_or(&empty);
    page(
        f,
        &f.tr("events-title"),
        html! {
            h1 { (f.tr("events-title")) }
            section.week {
                h2 { (f.tr("events-week")) }
                p id="week" { (f.t.format(f.lang, "events-week-summary", &[
                    ("quarantines", week.0.into()), ("new", week.1.into()), ("owner", week.2.into())
                ])) }
            }
            form.filter method="get" action="/events" {
                label for="device" { (f.tr("events-filter-device")) }
                select id="device" name="device" {
                    option value="" { (f.tr("events-filter-all")) }
                    @for d in devices {
                        @let m = d.mac.to_string();
                        option value=(m) selected[device == Some(m.as_str())] { (device_name(d)) }
                    }
                }
                label for="kind" { (f.tr("events-filter-kind")) }
                select id="kind" name="kind" {
                    option value="" { (f.tr("events-filter-every-kind")) }
                    @for k in crate::EVENT_KINDS {
                        option value=(k) selected[kind == Some(k)] { (f.tr(&format!("events-kind-{k}"))) }
                    }
                }
                button type="submit" { (f.tr("events-filter-submit")) }
            }
            @if lines.is_empty() { p { (f.tr("events-none")) } }
            @else { (timeline(f, lines, now, true)) }
            @if truncated { p { small { (f.tr("events-more")) } } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Texts;

    fn labelled() -> DeviceStatus {
        serde_json::from_value(serde_json::json!({
            "mac": "02:00:00:00:00:07",
            "hostname": null, "vendor": null, "addrs": [], "mud_url": "https://acme.example/cam.json",
            "mud": { "state": "verified", "detail": "signed by acme.example", "expires_at": null,
                     "explanation": "Cam 2\nMay connect to cloud.acme.example on port 443 (HTTPS).\nEverything else is blocked.\n",
                     "explanation_fr": "Cam 2\nPeut se connecter à cloud.acme.example sur le port 443 (HTTPS).\nTout le reste est bloqué.\n" },
            "level": "update-only", "quarantined_until_ns": null,
            "cause": "label-revoked", "reason": "",
            "mdns_name": "kitchen-cam",
            "label": {
                "id": "urn:x:1", "status": "revoked: default password found",
                "assessor": "Lab One", "consumer_page": "https://registry.example/l/abc",
                "checked_at": 1_700_000_000, "registry_unreachable_since": null,
                "registry_error": null, "manufacturer": "Acme", "product": "Cam 2",
                "support_end": "2029-06-30", "update_mode": "user-initiated",
                "failing": ["5.1-1"], "undecided": ["5.3-2"]
            }
        }))
        .unwrap()
    }

    #[test]
    fn the_device_page_shows_what_the_label_promises_and_what_failed_in_both_languages() {
        let t = Texts::new();
        let d = labelled();
        for (lang, words) in [
            (
                Lang::En,
                [
                    "Security updates promised until",
                    "when you accept them",
                    "found missing",
                ],
            ),
            (
                Lang::Fr,
                [
                    "promises jusqu’au",
                    "quand vous les acceptez",
                    "trouvé en défaut",
                ],
            ),
        ] {
            let f = Frame {
                t: &t,
                lang,
                here: "/device/02:00:00:00:00:07",
                csrf: Some("token"),
            };
            let html = device(&f, &d, 1_700_000_000_000_000_000, &[], None, None).into_string();
            assert!(
                html.contains("<h1>kitchen-cam</h1>"),
                "the mDNS name: {html}"
            );
            assert!(html.contains("id=\"support-end\">2029-06-30<"), "{html}");
            assert!(html.contains("Cam 2 — Acme"), "{html}");
            assert!(html.contains("<code>5.1-1</code>") && html.contains("<code>5.3-2</code>"));
            for w in words {
                assert!(html.contains(w), "{lang:?}: {w} in {html}");
            }
        }
    }
}
