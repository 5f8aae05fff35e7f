//! The label page a QR code points to, over real HTTP on loopback with a real SQLite file (the
//! page reads what every lookup reads, so one backend is enough): the security overview (L1)
//! and the technical details (L2, `?view=technical`) in English and French, the red state of a
//! revoked, an expired and an unsupported label, failed provisions in plain words, and every
//! value from a label HTML-escaped.

use label::{Claims, SigningKey, StatusEvent, StatusEventKind, Verdict};
use registry::{Client, Store};
use time::{Duration, OffsetDateTime};

mod common;
use common::*;

struct Reg {
    running: registry::Running,
    client: Client,
    lab: SigningKey,
    _backend: Backend,
}

async fn start() -> Reg {
    let backend = sqlite();
    let store = Store::open(&backend.url).await.unwrap();
    let lab = label::generate_key().unwrap();
    store
        .register_assessor("Example Test Lab", &lab.verifying_key())
        .await
        .unwrap();
    let running = registry::spawn(store, signer(), "127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let client = Client::new(&running.url).unwrap();
    Reg {
        running,
        client,
        lab,
        _backend: backend,
    }
}

fn claims(id: &str) -> Claims {
    let mut c = label::example_claims();
    c.id = id.into();
    c.software[0].image_sha256 = label::Sha256Digest::of(id.as_bytes());
    c
}

impl Reg {
    /// Submits `c`; returns the page's path (`/l/…`).
    async fn submit(&self, c: &Claims) -> String {
        self.client
            .submit_label(&label::sign(c, &self.lab).unwrap())
            .await
            .unwrap();
        let view = self.client.label(&c.id).await.unwrap();
        let url = view.consumer_page;
        let after = url.split_once("://").unwrap().1;
        after[after.find('/').unwrap()..].to_string()
    }

    /// GET `path` with an optional Accept-Language: (status, body).
    async fn page(&self, path: &str, accept_language: Option<&str>) -> (u16, String) {
        let mut req = reqwest::Client::new().get(format!("{}{path}", self.running.url));
        if let Some(l) = accept_language {
            req = req.header("Accept-Language", l);
        }
        let resp = req.send().await.unwrap();
        let st = resp.status().as_u16();
        (st, resp.text().await.unwrap())
    }

    async fn ok_page(&self, path: &str, accept_language: Option<&str>) -> String {
        let (st, body) = self.page(path, accept_language).await;
        assert_eq!(st, 200, "{path}: {body}");
        body
    }
}

/// The page without its status line (which says when it was computed, to the second).
fn without_status(page: &str) -> String {
    let from = page.find(r#"<dd id="status">"#).unwrap();
    let to = from + page[from..].find("</dd>").unwrap();
    format!("{}{}", &page[..from], &page[to..])
}

fn has(page: &str, needles: &[&str]) {
    for n in needles {
        assert!(page.contains(n), "{n:?} not in {page}");
    }
}

fn lacks(page: &str, needles: &[&str]) {
    for n in needles {
        assert!(!page.contains(n), "{n:?} in {page}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_and_technical_views_in_english_and_french() {
    let r = start().await;
    let c = claims("urn:page:1");
    let path = r.submit(&c).await;
    let view = r.client.label("urn:page:1").await.unwrap();

    // L1 in English (the default): what a buyer needs, green.
    let en = r.ok_page(&path, None).await;
    has(
        &en,
        &[
            r#"<html lang="en">"#,
            r#"data-view="overview""#,
            r#"<div id="state" class="ok" data-state="good""#,
            "Passed its security assessment",
            "Security overview",
            r#"<dd id="model">CAM-100</dd>"#,
            "Hardware revision</dt><dd>B</dd>",
            r#"<dd id="manufacturer">Acme Devices</dd>"#,
            // The support end date in large type.
            r#"At least until <strong id="support-end" class="big">2030-12-31</strong>"#,
            r#"<dd id="update-mode">Installed automatically</dd>"#,
            "No shared default password: each device comes with its own unique password",
            r#"<a href="mailto:security@acme.example">security@acme.example</a>"#,
            r#"<a href="https://acme.example/security">"#,
            "<dd>Example Test Lab against etsi-en-303-645 2.1.1 (mandatory)</dd>",
            "Assessment date</dt><dd>2026-01-15</dd>",
            "None: the device meets every requirement it was assessed against.",
            // 5.3-13 is cannot-tell in the example claims.
            "Could not be checked",
            "<code>5.3-13</code> Software updates: the device can be updated securely",
            r#"<dd id="status">Active as of"#,
            // L2 and the other language, keeping the view.
            r#"href="?view=technical&amp;lang=en">Technical details of this label</a>"#,
            r#"<a href="?lang=fr" hreflang="fr" lang="fr">Français</a>"#,
            "<svg",
            "/v1/labels/urn%3Apage%3A1",
        ],
    );
    lacks(&en, &["<ul id=\"verdicts\">", "Label digest"]);

    // L1 in French, by Accept-Language (Quebec) and by ?lang=fr.
    let fr = r.ok_page(&path, Some("fr-CA,fr;q=0.9,en;q=0.5")).await;
    assert_eq!(
        without_status(&fr),
        without_status(&r.ok_page(&format!("{path}?lang=fr"), None).await),
        "?lang=fr and Accept-Language: fr-CA give the same page"
    );
    has(
        &fr,
        &[
            r#"<html lang="fr">"#,
            "Évaluation de sécurité réussie",
            "Aperçu de la sécurité",
            "Révision matérielle</dt><dd>B</dd>",
            "Au moins jusqu'au <strong id=\"support-end\" class=\"big\">2030-12-31</strong>",
            r#"<dd id="update-mode">Installées automatiquement</dd>"#,
            "Aucun mot de passe par défaut commun",
            "Signaler un problème de sécurité",
            "Example Test Lab, selon etsi-en-303-645 2.1.1 (niveau «\u{a0}obligatoire\u{a0}»)",
            "Date de l'évaluation</dt><dd>2026-01-15</dd>",
            "N'a pas pu être vérifié",
            r#"href="?view=technical&amp;lang=fr">Détails techniques de cette étiquette</a>"#,
            r#"<a href="?lang=en" hreflang="en" lang="en">English</a>"#,
        ],
    );
    lacks(
        &fr,
        &[
            "Security",
            "Installed automatically",
            "(mandatory)",
            "Could not be checked",
        ],
    );

    // L2 in English: the technical details the label holds, and the way back.
    let tech = r
        .ok_page(&format!("{path}?view=technical&lang=en"), None)
        .await;
    let firmware = label::Sha256Digest::of(b"urn:page:1").to_string();
    let sbom = label::Sha256Digest::of(b"sbom").to_string();
    has(
        &tech,
        &[
            r#"data-view="technical""#,
            "Technical details",
            r#"<div id="state" class="ok" data-state="good""#,
            r#"<dd id="model">CAM-100</dd>"#,
            "Software assessed",
            "firmware",
            "1.4.2",
            &format!("<code>{firmware}</code>"),
            &format!("The manufacturer supplied a software bill of materials. Its SHA-256: <code>{sbom}</code>"),
            "etsi-en-303-645 2.1.1 (mandatory)",
            "firmware-analysis",
            r#"<li data-verdict="pass"><code>5.1-1</code> <strong>pass</strong>"#,
            r#"<li data-verdict="cannot-tell"><code>5.3-13</code>"#,
            "ISO/IEC 17025 #1234",
            r#"<code id="label-id">urn:page:1</code>"#,
            &format!(r#"<code id="label-digest">{}</code>"#, view.digest),
            &format!(
                r#"<dd id="log-entry">entry {} of the registry's public log</dd>"#,
                view.leaf_index
            ),
            "registry.test/log, tree size",
            "No statement about this label has been logged.",
            "You can delete your data.",
            r#"<a href="https://acme.example/privacy">"#,
            r#"<a href="/checkpoint">"#,
            r#"href="?lang=en">Back to the security overview</a>"#,
            r#"<a href="?view=technical&amp;lang=fr" hreflang="fr" lang="fr">Français</a>"#,
            "<svg",
        ],
    );
    // L2 in French.
    let tech_fr = r
        .ok_page(&format!("{path}?view=technical&lang=fr"), None)
        .await;
    has(
        &tech_fr,
        &[
            r#"<html lang="fr">"#,
            "Détails techniques",
            "Logiciels évalués",
            &format!("<code>{firmware}</code>"),
            "Le fabricant a fourni une nomenclature logicielle.",
            "<strong>respectée</strong>",
            "Identifiant de l'étiquette",
            &format!("entrée {} du journal public du registre", view.leaf_index),
            "taille de l'arbre",
            "Aucune déclaration sur cette étiquette n'a été consignée.",
            r#"href="?lang=fr">Retour à l'aperçu de la sécurité</a>"#,
        ],
    );
    lacks(&tech_fr, &["Software assessed", "<strong>pass</strong>"]);

    // An unknown view is the overview.
    let other = r.ok_page(&format!("{path}?view=bogus&lang=en"), None).await;
    has(&other, &[r#"data-view="overview""#]);
    r.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_provisions_are_named_in_plain_words_on_a_red_page() {
    let r = start().await;
    let mut c = claims("urn:page:2");
    c.assessment.verdicts[0].verdict = Verdict::Fail;
    let path = r.submit(&c).await;
    let en = r.ok_page(&path, None).await;
    has(
        &en,
        &[
            r#"<div id="state" class="bad" data-state="failed""#,
            "FAILED its security assessment",
            r#"data-good="false""#,
            "The device fails one requirement:",
            "<li><code>5.1-1</code> Passwords: no default password shared by every unit",
        ],
    );
    lacks(&en, &[r#"class="ok""#, ">Valid"]);
    let fr = r.ok_page(&format!("{path}?lang=fr"), None).await;
    has(
        &fr,
        &[
            "A ÉCHOUÉ à son évaluation de sécurité",
            "L'appareil ne respecte pas une exigence\u{a0}:",
            "<li><code>5.1-1</code> Mots de passe\u{a0}: aucun mot de passe par défaut commun",
        ],
    );
    lacks(&fr, &[r#"class="ok""#, ">Valide"]);
    r.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_label_is_red_and_says_what_it_means() {
    let r = start().await;
    let path = r.submit(&claims("urn:page:3")).await;
    let st = registry::sign_statement(
        &StatusEvent {
            label_id: "urn:page:3".into(),
            at: OffsetDateTime::now_utc(),
            kind: StatusEventKind::Revoked {
                reason: "default password found".into(),
            },
        },
        &r.lab,
    );
    r.client.submit_statement(&st).await.unwrap();
    for view in ["", "&view=technical"] {
        let en = r.ok_page(&format!("{path}?lang=en{view}"), None).await;
        has(
            &en,
            &[
                r#"<div id="state" class="bad" data-state="revoked""#,
                "Label revoked",
                "the registry has withdrawn this label for good (reason given: default password found)",
                "Do not rely on it",
                "Revoked (default password found)",
            ],
        );
        lacks(&en, &[r#"class="ok""#, "Passed its security assessment"]);
        let fr = r.ok_page(&format!("{path}?lang=fr{view}"), None).await;
        has(
            &fr,
            &[
                r#"<div id="state" class="bad" data-state="revoked""#,
                "Étiquette révoquée",
                "motif indiqué\u{a0}: default password found",
                "Ne vous y fiez pas",
            ],
        );
        lacks(&fr, &[r#"class="ok""#]);
    }
    // The technical view lists the statement.
    let tech = r.ok_page(&format!("{path}?view=technical"), None).await;
    has(&tech, &["revoked (default password found) (entry"]);
    r.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_label_is_red() {
    let r = start().await;
    let mut c = claims("urn:page:4");
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    c.validity.not_before = now - Duration::days(400);
    c.validity.not_after = now - Duration::days(2);
    let path = r.submit(&c).await;
    let until = c.validity.not_after.date().to_string();
    let en = r.ok_page(&path, None).await;
    has(
        &en,
        &[
            r#"<div id="state" class="bad" data-state="expired""#,
            "Label expired",
            &format!("Expired: this label was valid until {until}."),
            "ask the manufacturer for a current label",
            r#"<dd id="status">Expired as of"#,
        ],
    );
    lacks(&en, &[r#"class="ok""#]);
    let fr = r.ok_page(&path, Some("fr")).await;
    has(
        &fr,
        &[
            "Étiquette expirée",
            &format!("cette étiquette était valide jusqu'au {until}."),
        ],
    );
    lacks(&fr, &[r#"class="ok""#]);
    r.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_past_its_support_end_is_red() {
    let r = start().await;
    let mut c = claims("urn:page:5");
    let yesterday = OffsetDateTime::now_utc().date().previous_day().unwrap();
    c.support.end_date = yesterday;
    let path = r.submit(&c).await;
    let en = r.ok_page(&path, None).await;
    has(
        &en,
        &[
            r#"<div id="state" class="bad" data-state="support-ended""#,
            "Security updates have ended",
            &format!("Support has ended: the manufacturer promised security updates only until {yesterday}."),
            &format!(r#"Ended after <strong id="support-end" class="big bad">{yesterday}</strong>"#),
        ],
    );
    lacks(&en, &[r#"class="ok""#]);
    let fr = r.ok_page(&format!("{path}?lang=fr"), None).await;
    has(
        &fr,
        &[
            "Fin des mises à jour de sécurité",
            &format!("Terminées après le <strong id=\"support-end\" class=\"big bad\">{yesterday}</strong>"),
        ],
    );
    r.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_label_value_is_html_escaped() {
    let r = start().await;
    let mut c = claims("urn:page:<6>&\"");
    c.product.model = "<script>alert(1)</script>".into();
    c.product.hardware_revision = "<b>B</b>".into();
    c.manufacturer.name = "Acme & <i>Sons</i>".into();
    c.manufacturer.security_contact = "mailto:x\"><img src=x onerror=alert(1)>@a.example".into();
    c.vulnerability_disclosure.url = Some("https://a.example/\"><svg onload=alert(1)>".into());
    c.software[0].component = "<u>firmware</u>".into();
    c.software[0].version = "1<br>2".into();
    c.issuer = "https://r.example/<em>x</em>".into();
    c.assessor.name = "<s>Lab</s>".into();
    c.assessment.method = "<marquee>m</marquee>".into();
    let path = r.submit(&c).await;
    let st = registry::sign_statement(
        &StatusEvent {
            label_id: c.id.clone(),
            at: OffsetDateTime::now_utc(),
            kind: StatusEventKind::Revoked {
                reason: "<blink>bad</blink>".into(),
            },
        },
        &r.lab,
    );
    r.client.submit_statement(&st).await.unwrap();
    for q in [
        "?lang=en",
        "?lang=fr",
        "?view=technical&lang=en",
        "?view=technical&lang=fr",
    ] {
        let page = r.ok_page(&format!("{path}{q}"), None).await;
        lacks(
            &page,
            &[
                "<script>",
                "<b>B",
                "<i>Sons",
                "<img",
                "<svg onload",
                "<u>",
                "<br>",
                "<em>",
                "<s>",
                "<marquee>",
                "<blink>",
                "urn:page:<6>",
            ],
        );
        has(
            &page,
            &[
                "&lt;script&gt;alert(1)&lt;/script&gt;",
                "Acme &amp; &lt;i&gt;Sons&lt;/i&gt;",
                "&lt;blink&gt;bad&lt;/blink&gt;",
            ],
        );
    }
    let tech = r.ok_page(&format!("{path}?view=technical"), None).await;
    has(
        &tech,
        &[
            "urn:page:&lt;6&gt;&amp;\"",
            "/v1/labels/urn%3Apage%3A%3C6%3E%26%22",
            "1&lt;br&gt;2",
        ],
    );
    r.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_code_gets_a_page_in_both_languages() {
    let r = start().await;
    let fake = label::short_form(&r.running.url, &label::Sha256Digest::of(b"counterfeit"));
    let path = fake.strip_prefix(&r.running.url).unwrap().to_string();
    for (al, first, second) in [
        ("en", "No such label", "Cette étiquette n'existe pas"),
        ("fr-CA", "Cette étiquette n'existe pas", "No such label"),
    ] {
        let (st, body) = r.page(&path, Some(al)).await;
        assert_eq!(st, 404);
        let (a, b) = (body.find(first).unwrap(), body.find(second).unwrap());
        assert!(a < b, "{body}");
        has(&body, &["do not rely on it", "ne vous y fiez pas"]);
    }
    r.running.shutdown().await.unwrap();
}
