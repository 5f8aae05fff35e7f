//! The dashboard over real HTTP(S) on loopback, against a running gateway (see `common`):
//! sessions, CSRF, the login rate limit, where it listens, its certificate, the words on its
//! pages in both languages, and the live stream.

mod common;

use common::{Household, PASSWORD};
use reqwest::redirect::Policy;
use std::time::Duration;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The body of a request's answer.
async fn text(r: reqwest::RequestBuilder) -> String {
    r.send().await.unwrap().text().await.unwrap()
}

fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// Post the sign-in form as a browser does: its page first (for the form's CSRF token and
/// the cookie that goes with it), then the password.
async fn post_login(c: &reqwest::Client, base: &str, password: &str) -> reqwest::Response {
    let page = c.get(format!("{base}/login")).send().await.unwrap();
    let cookie = page.headers().get("set-cookie").map(|v| {
        let v = v.to_str().unwrap();
        v.split(';').next().unwrap().to_string()
    });
    let token = csrf_of(&page.text().await.unwrap());
    let mut r = c
        .post(format!("{base}/login"))
        .form(&[("password", password), ("csrf", token.as_str())]);
    if let Some(cookie) = cookie {
        r = r.header("cookie", cookie);
    }
    r.send().await.unwrap()
}

/// Post an owner's action on `mac` with these form fields (the CSRF token among them).
async fn act(
    c: &reqwest::Client,
    base: &str,
    mac: impl std::fmt::Display,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    c.post(format!("{base}/device/{mac}/act"))
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn sign_in(c: &reqwest::Client, base: &str) -> String {
    let r = post_login(c, base, PASSWORD).await;
    assert_eq!(r.status(), 303, "sign-in");
    let home = c.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    csrf_of(&home.text().await.unwrap())
}

#[test]
fn every_page_and_action_needs_the_owners_session() {
    let h = Household::start();
    let rt = common::runtime();
    let addr = common::serve(&h, &rt);
    let base = format!("http://{addr}");
    let before = h.journal_lines();
    rt.block_on(async {
        let c = client();
        for page in ["/", "/events", &format!("/device/{}", h.infected)] {
            let r = c.get(format!("{base}{page}")).send().await.unwrap();
            assert_eq!(r.status(), 303, "{page}");
            assert_eq!(r.headers()["location"], "/login", "{page}");
        }
        let r = c.get(format!("{base}/events/stream")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        for what in ["release", "isolate", "forget", "rename"] {
            let r = c
                .post(format!("{base}/device/{}/act", h.infected))
                .form(&[("do", what), ("csrf", "guess")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{what}");
        }
        // A made-up session cookie is no session.
        let r = c
            .get(format!("{base}/"))
            .header(
                "cookie",
                "tg_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        // The sign-in page itself is open, and every answer carries the security headers.
        let r = c.get(format!("{base}/login")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    });
    assert_eq!(h.journal_lines(), before, "nothing changed");
}

#[test]
fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let h = Household::start();
    let rt = common::runtime();
    let addr = common::serve(&h, &rt);
    let base = format!("http://{addr}");
    let target = h.benign[0];
    rt.block_on(async {
        let c = client();
        let csrf = sign_in(&c, &base).await;
        let before = h.journal_lines();
        for form in [
            vec![("do", "isolate")],
            vec![("do", "isolate"), ("csrf", "")],
            vec![("do", "isolate"), ("csrf", &csrf[..csrf.len() - 1])],
            vec![("do", "isolate"), ("csrf", "x".repeat(csrf.len()).as_str())],
        ] {
            let r = c
                .post(format!("{base}/device/{target}/act"))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{form:?}");
        }
        assert_eq!(h.journal_lines(), before, "nothing changed");
        // Signing out needs the token too.
        let r = c.post(format!("{base}/logout")).send().await.unwrap();
        assert_eq!(r.status(), 403);

        // With it: done, by the gateway, in the journal.
        let r = c
            .post(format!("{base}/device/{target}/act"))
            .form(&[("do", "isolate"), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"],
            format!("/device/{target}?done=isolate").as_str()
        );
        let journal = std::fs::read_to_string(h.state().join("journal.jsonl")).unwrap();
        let last: serde_json::Value =
            serde_json::from_str(journal.lines().last().unwrap()).unwrap();
        assert_eq!(last["action"], "quarantine");
        assert_eq!(last["by"], "owner");
        assert_eq!(last["device"], target.to_string());

        // Signed out, the old cookie opens nothing.
        let r = c
            .post(format!("{base}/logout"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let r = c.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(r.status(), 303);
    });
}

#[test]
fn wrong_passwords_are_slowed_down_and_the_session_cookie_is_locked_down() {
    let h = Household::start();
    let rt = common::runtime();
    let addr = common::serve(&h, &rt);
    let base = format!("http://{addr}");
    rt.block_on(async {
        let c = client();
        let mut codes = vec![];
        for i in 0..10 {
            let r = post_login(&c, &base, &format!("guess number {i}")).await;
            if r.status() == 429 {
                let wait: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(wait >= 1);
            }
            codes.push(r.status().as_u16());
        }
        assert_eq!(&codes[..3], &[401, 401, 401], "{codes:?}");
        assert!(
            codes.iter().filter(|c| **c == 429).count() >= 5,
            "{codes:?}"
        );
        // While slowed down even the right password waits.
        let r = post_login(&c, &base, PASSWORD).await;
        assert_eq!(r.status(), 429);
        let page = r.text().await.unwrap();
        assert!(page.contains("Too many wrong passwords"), "{page}");
    });
    // A fresh client address signs in; its cookie is HttpOnly and SameSite=Strict.
    let rt2 = common::runtime();
    let h2 = Household::start();
    let addr2 = common::serve(&h2, &rt2);
    rt2.block_on(async {
        let c = client();
        // Without the form's token (a page elsewhere posting into the owner's browser), the
        // sign-in form is refused whatever the password.
        let r = c
            .post(format!("http://{addr2}/login"))
            .form(&[("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let r = post_login(&c, &format!("http://{addr2}"), PASSWORD).await;
        assert_eq!(r.status(), 303);
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.starts_with("tg_session="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert!(!cookie.contains(PASSWORD));
    });
}

#[test]
fn the_dashboard_listens_only_on_the_addresses_it_is_given() {
    let h = Household::start();
    let rt = common::runtime();
    for every in ["0.0.0.0:0", "[::]:0"] {
        let mut cfg = dashboard::Config::new(h.state().to_path_buf(), vec![every.parse().unwrap()]);
        cfg.tls = false;
        let err = rt.block_on(dashboard::serve(cfg)).unwrap_err().to_string();
        assert!(
            err.contains("does not listen on") && err.contains("LAN"),
            "{err}"
        );
    }
    let empty = dashboard::Config::new(h.state().to_path_buf(), vec![]);
    assert!(rt.block_on(dashboard::serve(empty)).is_err());
    // Bound to one address (the LAN's, here 127.0.0.2): another address of the same host
    // (standing for the WAN side) gets no answer on that port.
    let mut cfg = dashboard::Config::new(
        h.state().to_path_buf(),
        vec!["127.0.0.2:0".parse().unwrap()],
    );
    cfg.tls = false;
    let started = rt.block_on(dashboard::serve(cfg)).unwrap();
    let port = started.addrs[0].port();
    assert!(std::net::TcpStream::connect(("127.0.0.2", port)).is_ok());
    let other = std::net::TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_secs(2),
    );
    assert!(other.is_err(), "answered on an address it was not given");
}

#[test]
fn over_https_the_certificate_is_made_once_and_its_fingerprint_printed() {
    let h = Household::start();
    let rt = common::runtime();
    dashboard::auth::set_password(h.state(), PASSWORD).unwrap();
    let cfg = dashboard::Config::new(
        h.state().to_path_buf(),
        vec!["127.0.0.1:0".parse().unwrap()],
    );
    let started = rt.block_on(dashboard::serve(cfg.clone())).unwrap();
    assert_eq!(started.scheme, "https");
    let fp = started.fingerprint.clone().unwrap();
    assert_eq!(fp.len(), 32 * 3 - 1);
    let key_mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(h.state().join("dashboard/key.pem"))
            .unwrap()
            .permissions()
            .mode()
    };
    assert_eq!(key_mode & 0o777, 0o600);
    let pem = std::fs::read(h.state().join("dashboard/cert.pem")).unwrap();
    let root = reqwest::Certificate::from_pem(&pem).unwrap();
    let addr = started.addrs[0];
    rt.block_on(async {
        let c = reqwest::Client::builder()
            .add_root_certificate(root)
            .redirect(Policy::none())
            .build()
            .unwrap();
        let r = post_login(&c, &format!("https://{addr}"), PASSWORD).await;
        assert_eq!(r.status(), 303);
        let cookie = r.headers()["set-cookie"].to_str().unwrap();
        assert!(cookie.contains("; Secure"), "{cookie}");
    });
    // A second start keeps the same certificate.
    let again = rt.block_on(dashboard::serve(cfg)).unwrap();
    assert_eq!(again.fingerprint.unwrap(), fp);
}

#[test]
fn the_pages_say_what_happened_in_english_and_in_french() {
    let h = Household::start();
    let rt = common::runtime();
    let addr = common::serve(&h, &rt);
    let base = format!("http://{addr}");
    rt.block_on(async {
        let c = client();
        sign_in(&c, &base).await;
        let en = text(c.get(format!("{base}/"))).await;
        assert!(en.contains("<html lang=\"en\""));
        assert!(
            en.contains("Isolated at "),
            "the infected device's sentence"
        );
        assert!(
            en.contains("Internet only, nothing else at home"),
            "a benign device's"
        );
        assert!(en.contains("New"));
        let dev = c
            .get(format!("{base}/device/{}", h.infected))
            .header("accept-language", "fr-CA,fr;q=0.9,en;q=0.5")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(dev.contains("<html lang=\"fr\""));
        assert!(dev.contains("Isolé à "), "{dev}");
        assert!(dev.contains("Libérer pour une heure"));
        assert!(
            dev.contains("conservé") && dev.contains("comme preuve"),
            "{dev}"
        );
        assert!(!dev.contains("Release for one hour"));
        // The switch on the page sets the owner's choice, which wins over the browser's.
        let r = c
            .get(format!("{base}/lang/en?back=/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/events");
        let r = c
            .get(format!("{base}/lang/en?back=//evil.example/"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/", "no open redirect");
        let ev = text(
            c.get(format!("{base}/events"))
                .header("accept-language", "fr-CA"),
        )
        .await;
        assert!(ev.contains("The last seven days"), "{ev}");
        // The four infected devices of the capture, the eight devices first seen.
        assert!(
            ev.contains("4 isolations, 8 new devices, 0 changes by you."),
            "{ev}"
        );
    });
}

#[test]
fn a_journal_line_reaches_the_stream_and_the_timed_release_resumes() {
    let h = Household::start();
    let rt = common::runtime();
    let addr = common::serve(&h, &rt);
    let base = format!("http://{addr}");
    rt.block_on(async {
        let c = client();
        let csrf = sign_in(&c, &base).await;
        let mut stream = c.get(format!("{base}/events/stream")).send().await.unwrap();
        assert_eq!(stream.status(), 200);
        let r = c
            .post(format!("{base}/device/{}/act", h.infected))
            .form(&[("do", "release-hour"), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let mut got = String::new();
        while !got.contains("event: journal") {
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
                .await
                .expect("a journal event within 10 s")
                .unwrap()
                .unwrap();
            got.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(got.contains(&h.infected.to_string()), "{got}");
        assert!(got.contains("Released by you until"), "{got}");
        let page = text(c.get(format!("{base}/device/{}", h.infected))).await;
        assert!(page.contains("Released by you until"), "{page}");
    });
    h.advance(3601);
    rt.block_on(async {
        let c = client();
        sign_in(&c, &base).await;
        let page = text(c.get(format!("{base}/device/{}", h.infected))).await;
        assert!(
            page.contains("Isolated again: your release ended"),
            "{page}"
        );
        assert!(page.contains("Isolated at "), "{page}");
    });
}

#[test]
fn the_owner_allows_one_more_destination_sees_it_as_theirs_and_takes_it_away() {
    let h = Household::start();
    let rt = common::runtime();
    let addr = common::serve(&h, &rt);
    let base = format!("http://{addr}");
    let target = h.benign[0];
    rt.block_on(async {
        let c = client();
        let csrf = sign_in(&c, &base).await;
        let page = text(c.get(format!("{base}/device/{target}"))).await;
        assert!(
            page.contains("Nothing more than its level allows"),
            "{page}"
        );
        // A destination that is none: refused with the reason, nothing journalled.
        let before = h.journal_lines();
        let r = act(
            &c,
            &base,
            target,
            &[
                ("do", "allow"),
                ("csrf", csrf.as_str()),
                ("destination", "not_a_host"),
                ("proto", "tcp"),
                ("port", "443"),
            ],
        )
        .await;
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(to.contains("err=invalid"), "{to}");
        let page = text(c.get(format!("{base}{to}"))).await;
        assert!(page.contains("neither an IP address"), "{page}");
        assert_eq!(h.journal_lines(), before);

        let r = act(
            &c,
            &base,
            target,
            &[
                ("do", "allow"),
                ("csrf", csrf.as_str()),
                ("destination", "Weather.Example.com"),
                ("proto", "tcp"),
                ("port", "443"),
            ],
        )
        .await;
        assert_eq!(
            r.headers()["location"],
            format!("/device/{target}?done=allow").as_str()
        );
        let page = text(
            c.get(format!("{base}/device/{target}?done=allow"))
                .header("accept-language", "fr-CA"),
        )
        .await;
        assert!(page.contains("Ce que vous lui permettez en plus"), "{page}");
        assert!(
            page.contains("data-exception=\"weather.example.com tcp/443\""),
            "{page}"
        );
        let events = text(c.get(format!("{base}/events?device={target}"))).await;
        assert!(
            events.contains("You allowed it weather.example.com tcp/443"),
            "{events}"
        );

        let r = act(
            &c,
            &base,
            target,
            &[
                ("do", "disallow"),
                ("csrf", csrf.as_str()),
                ("exception", "weather.example.com tcp/443"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let page = text(c.get(format!("{base}/device/{target}"))).await;
        assert!(!page.contains("data-exception="), "{page}");
        // The events page filters by what happened.
        let owner = text(c.get(format!("{base}/events?kind=owner"))).await;
        assert!(
            owner.contains("You allowed it weather.example.com"),
            "{owner}"
        );
        assert!(!owner.contains("class=\"event quarantine\""), "{owner}");
        assert!(
            owner.contains("<option value=\"owner\" selected>"),
            "{owner}"
        );
        let isolations = text(c.get(format!("{base}/events?kind=quarantine"))).await;
        assert!(
            isolations.contains("class=\"event quarantine\""),
            "{isolations}"
        );
        assert!(!isolations.contains("You allowed it"), "{isolations}");
        let unknown = text(c.get(format!("{base}/events?kind=nonsense"))).await;
        assert!(
            unknown.contains("You allowed it") && unknown.contains("class=\"event quarantine\"")
        );
    });
    let journal = std::fs::read_to_string(h.state().join("journal.jsonl")).unwrap();
    let actions: Vec<String> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["action"].to_string())
        .collect();
    assert!(
        actions.ends_with(&["\"allow\"".into(), "\"disallow\"".into()]),
        "{actions:?}"
    );
}

/// First visit without a password: every page leads to the setup form, which needs the form's
/// token and the one-time code the gateway printed; the code works once; then the owner signs
/// in with the new password.
#[test]
fn the_first_visit_sets_the_password_with_the_one_time_code_once() {
    let h = Household::start();
    let rt = common::runtime();
    let mut cfg = dashboard::Config::new(
        h.state().to_path_buf(),
        vec!["127.0.0.1:0".parse().unwrap()],
    );
    cfg.tls = false;
    let started = rt.block_on(dashboard::serve(cfg)).unwrap();
    let code = started
        .setup_code
        .clone()
        .expect("no password yet: a one-time code");
    let base = format!("http://{}", started.addrs[0]);
    rt.block_on(async {
        let c = client();
        let r = c.get(format!("{base}/login")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/setup");
        let page = text(c.get(format!("{base}/setup"))).await;
        let token = csrf_of(&page);
        let setup = |code: String, password: &'static str, token: Option<String>| {
            let c = c.clone();
            let base = base.clone();
            async move {
                let mut form = vec![("code", code), ("password", password.to_string())];
                if let Some(t) = token {
                    form.push(("csrf", t));
                }
                c.post(format!("{base}/setup"))
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
            }
        };
        // Without the form's token: refused, nothing set.
        let r = setup(code.clone(), "a new owner password", None).await;
        assert_eq!(r.status(), 403);
        assert!(!dashboard::auth::password_path(h.state()).exists());
        // A wrong code, and a short password: refused with the reason.
        let r = setup(
            "WRONGWRONGXX".into(),
            "a new owner password",
            Some(token.clone()),
        )
        .await;
        assert_eq!(r.status(), 403);
        let r = setup(code.clone(), "short", Some(token.clone())).await;
        assert_eq!(r.status(), 400);
        assert!(!dashboard::auth::password_path(h.state()).exists());
        // The code and a long password: set; the code does not work twice.
        let r = setup(code.clone(), "a new owner password", Some(token.clone())).await;
        assert_eq!(r.status(), 200);
        assert!(dashboard::auth::password_path(h.state()).exists());
        let r = setup(code.clone(), "another owner password", Some(token.clone())).await;
        assert_eq!(r.status(), 303, "no setup once a password is set");
        let r = post_login(&c, &base, "a new owner password").await;
        assert_eq!(r.status(), 303);
        let home = c.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(home.status(), 200);
    });
}
