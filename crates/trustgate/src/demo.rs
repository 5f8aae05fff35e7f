//! `trustgate demo`: the main flow on a sample device (vendor, gateway, household, assessor), on embedded defaults, without root.
//! Each step calls the same library code the real commands use, and prints what it did.

use crate::Finding;
use anyhow::{ensure, Context, Result};
use enforce::{Compiler, Device, Level, Site};
use mud::parse::{parse, Mode};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The sample device's MUD file, shipped in the binary.
pub const SAMPLE_MUD: &str = include_str!("../samples/smart-plug.json");

struct Steps {
    json: bool,
    steps: Vec<Value>,
}

impl Steps {
    fn say(&mut self, step: &str, text: &str, data: Value) -> Result<()> {
        if self.json {
            self.steps
                .push(json!({"step": step, "summary": text, "data": data}));
        } else {
            outln!("\n== {step}\n{text}");
        }
        Ok(())
    }
}

pub fn run(json: bool) -> Result<Option<Finding>> {
    let mut s = Steps {
        json,
        steps: Vec::new(),
    };
    let dir = demo_dir()?;

    // 1. Vendor: author and sign the MUD file.
    let pki =
        mud::signature::ephemeral_pki("PlugCo demo").context("creating the demo signing keys")?;
    let mud_path = dir.join("smart-plug.json");
    let sig_path = dir.join("smart-plug.p7s");
    let ca_path = dir.join("plugco-ca.pem");
    std::fs::write(&mud_path, SAMPLE_MUD)?;
    std::fs::write(&ca_path, &pki.ca_cert_pem)?;
    let parsed =
        parse(SAMPLE_MUD.as_bytes(), Mode::Strict).context("the sample MUD file must be valid")?;
    let signature = mud::signature::sign_detached(
        SAMPLE_MUD.as_bytes(),
        &pki.signer_key_pem,
        &pki.signer_cert_pem,
        None,
    )?;
    std::fs::write(&sig_path, &signature)?;
    s.say(
        "vendor: validate and sign the MUD file",
        &format!(
            "{} is valid RFC 8520 ({} rules); signed with a throwaway demo CA.\n  file: {}\n  signature: {} ({} bytes, detached DER CMS)",
            parsed.policy.mud_url,
            parsed.policy.rules.len(),
            mud_path.display(),
            sig_path.display(),
            signature.len()
        ),
        json!({"mud_url": parsed.policy.mud_url, "rules": parsed.policy.rules.len(),
               "file": mud_path, "signature": sig_path, "ca": ca_path}),
    )?;

    // 2. Gateway: verify before use, and show that tampering is caught.
    let anchors = mud::signature::TrustAnchors::from_pem(&pki.ca_cert_pem)?;
    let verified =
        mud::signature::verify_detached(SAMPLE_MUD.as_bytes(), &signature, &anchors, None)?;
    let mut tampered = SAMPLE_MUD.as_bytes().to_vec();
    let pos = SAMPLE_MUD.find("443").context("sample names port 443")?;
    tampered[pos..pos + 3].copy_from_slice(b"444");
    let tamper_result = mud::signature::verify_detached(&tampered, &signature, &anchors, None);
    ensure!(
        tamper_result.is_err(),
        "a tampered MUD file must not verify"
    );
    s.say(
        "gateway: verify the signature before using the file",
        &format!(
            "signature valid (signer: {}).\nThe same file with port 443 changed to 444 is refused: {}",
            verified.signer_subject,
            tamper_result.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
        ),
        json!({"verified": verified, "tampered_refused": tamper_result.err().map(|e| e.to_string())}),
    )?;

    // 3. Household: what this device may do.
    let explanation = mud::explain::explain(&parsed.policy);
    s.say(
        "household: what this device may do",
        explanation.trim_end(),
        json!({"explanation": explanation.lines().collect::<Vec<_>>()}),
    )?;

    // 4. Gateway: compile to nftables for the device as it joins.
    let site = Site {
        gateway: vec!["192.168.1.1".parse()?],
        ..Site::default()
    };
    let device = Device {
        mac: "02:00:5e:10:00:01".parse().map_err(anyhow::Error::msg)?,
        ipv4: vec!["192.168.1.20".parse()?],
        ipv6: vec!["fd00:1::20".parse()?],
        level: Level::Declared,
        policy: Some(parsed.policy.clone()),
        update_hosts: vec![],
        exceptions: vec![],
    };
    let c = Compiler::new(&site);
    let mut batch = c.skeleton();
    let device_batch = c.add_device(&device)?;
    let device_rules = device_batch.rules_added();
    batch.extend(device_batch);
    let rules_path = dir.join("ruleset.nft");
    std::fs::write(&rules_path, batch.to_text())?;
    let mut levels = Vec::new();
    for level in [Level::Default, Level::UpdateOnly, Level::Isolated] {
        let d = Device {
            level,
            ..device.clone()
        };
        levels.push((level.to_string(), c.add_device(&d)?.rules_added()));
    }
    s.say(
        "gateway: contain the device to what it declared",
        &format!(
            "{} rules for {} in table inet trustgate (dispatch by MAC and address through verdict maps).\n  ruleset: {} (check it as root with `nft -c -f {}`)\n  the same device at the other containment levels: {}",
            device_rules,
            device.mac,
            rules_path.display(),
            rules_path.display(),
            levels.iter().map(|(l, n)| format!("{l} {n} rules")).collect::<Vec<_>>().join(", ")
        ),
        json!({"ruleset": rules_path, "device_rules": device_rules, "levels": levels}),
    )?;

    // 5. Assessor: a signed label that binds the device to its network profile; verified
    //    offline, as an insurer or retailer would.
    let assessor = label::generate_key()?;
    let mut claims = label::example_claims();
    claims.network_profile.mud_url = Some(parsed.policy.mud_url.clone());
    let label_bytes = label::sign(&claims, &assessor)?;
    let label_path = dir.join("smart-plug.label");
    std::fs::write(&label_path, &label_bytes)?;
    let mut ring = label::KeyRing::new();
    ring.insert(assessor.verifying_key());
    let verified = label::verify(&label_bytes, &ring)?;
    let status = label::status(&verified.claims, time::OffsetDateTime::now_utc(), &[]);
    // The status and the assessment outcome together: "Valid" only when both hold.
    let conformance = label::Conformance::of(&verified.claims);
    let qr = label::short_form("https://registry.example", &verified.digest);
    // The registry part: both labels served from an embedded registry; an insurer verifies
    // one offline from its fetched bundle; the assessor revokes the other.
    let (registry_text, registry_data) = registry_step(&dir, &assessor, &label_bytes)?;
    s.say(
        "assessor, registry and insurer: a signed label, logged, verified offline; another revoked",
        &format!(
            "label {} ({} bytes, COSE_Sign1/Ed25519) signed by assessor key {}.\n  status now: {}\n  QR code link: {qr}\n{registry_text}",
            label_path.display(),
            label_bytes.len(),
            verified.kid,
            label::summary_words(&status, &conformance)
        ),
        json!({"label": label_path, "kid": verified.kid.to_string(), "status": status,
               "assessment": conformance.outcome.as_str(), "qr": qr,
               "registry": registry_data}),
    )?;

    // 6. Household gateway: a neighbour device starts behaving like Mirai; the monitor
    //    catches it from its packets and the gateway isolates it (dry run: no root needed).
    let (gateway_text, gateway_data) = gateway_step(&dir)?;
    s.say(
        "household gateway: a device starts scanning like Mirai and is isolated",
        &gateway_text,
        gateway_data,
    )?;

    // 7. MUD manager: a device announces its MUD URL by DHCP; the gateway fetches the file
    //    over HTTPS, verifies it, finds the device's label and follows the label's status.
    let (mud_text, mud_data) = mud_manager_step(&dir, &assessor)?;
    s.say(
        "household gateway: a device's MUD file fetched over HTTPS, its containment following its label",
        &mud_text,
        mud_data,
    )?;

    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({"demo": s.steps, "dir": dir}))?
        );
    } else {
        outln!("\nAll steps passed. Files are in {}", dir.display());
    }
    Ok(None)
}

fn demo_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("trustgate-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// An in-process registry on 127.0.0.1:0 over a SQLite file in the demo directory: submit two
/// labels, verify the first offline from its fetched bundle, revoke the second. Returns the text
/// and JSON for the step.
fn registry_step(
    dir: &std::path::Path,
    assessor: &label::SigningKey,
    first_label: &[u8],
) -> Result<(String, Value)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let db = format!("sqlite://{}", dir.join("registry.db").display());
        let store = registry::Store::open(&db).await?;
        let (signer, _) =
            registry::logkey::load_or_create(&dir.join("log.key"), "demo.trustgate/registry")?;
        store
            .register_assessor("Example Test Lab", &assessor.verifying_key())
            .await?;
        let running =
            registry::spawn(store, signer.clone(), "127.0.0.1:0".parse()?, None).await?;
        let client = registry::Client::new(&running.url)?;
        let assessor_pub = dir.join("assessor.pub");
        std::fs::write(
            &assessor_pub,
            label::verifying_key_to_pem(&assessor.verifying_key())?,
        )?;

        let mut second = label::example_claims();
        second.id = "urn:trustgate:label:0002".into();
        second.product.model = "PLUG-7".into();
        second.software[0].image_sha256 = label::Sha256Digest::of(b"plug firmware 2.0");
        let second_bytes = label::sign(&second, assessor)?;
        let first = client.submit_label(first_label).await?;
        let second_sub = client.submit_label(&second_bytes).await?;

        // Insurer: fetch the first label's bundle, then check it with nothing but the log key.
        let view = client.label(&first.label_id).await?;
        let bundle_path = dir.join("smart-plug.bundle.json");
        std::fs::write(&bundle_path, view.bundle.to_json())?;
        let log_key = tlog::LogVerifier::new(signer.verifier_key());
        let proven = tlog::verify(
            &tlog::ProofBundle::from_json(&std::fs::read_to_string(&bundle_path)?)?,
            &log_key,
        )?;
        ensure!(
            proven.entry == first_label,
            "the bundle must prove exactly the label"
        );

        // Assessor: revoke the second label with a statement signed by the issuing key.
        let statement = registry::sign_statement(
            &label::StatusEvent {
                label_id: second_sub.label_id.clone(),
                at: time::OffsetDateTime::now_utc(),
                kind: label::StatusEventKind::Revoked {
                    reason: "hard-coded telnet password found".into(),
                },
            },
            assessor,
        );
        client.submit_statement(&statement).await?;
        let revoked = client.label(&second_sub.label_id).await?;
        ensure!(
            matches!(revoked.status, label::Status::Revoked { .. }),
            "the revoked label must read as revoked"
        );
        let counts = running.service.store().counts().await?;
        let text = format!(
                "  registry: embedded at {} (SQLite {}), log key {}.\n  {} logged as entry {}; its proof bundle {} verifies offline: entry {} of {} in {}.\n  {} logged as entry {}, then revoked: {}\n  log now holds {} entries; consumer page: {} (served while the demo runs)\n  check it yourself: trustgate label verify {} --assessor {} --bundle {} --log-key {}",
                running.url,
                dir.join("registry.db").display(),
                signer.verifier_key(),
                first.label_id,
                first.leaf_index,
                bundle_path.display(),
                proven.leaf_index,
                proven.checkpoint.size,
                proven.checkpoint.origin,
                second_sub.label_id,
                second_sub.leaf_index,
                revoked.status_words,
                counts.entries,
                view.consumer_page,
                dir.join("smart-plug.label").display(),
                assessor_pub.display(),
                bundle_path.display(),
                dir.join("log.key.pub").display(),
            );
        let data = json!({"url": running.url, "log_key": signer.verifier_key().to_string(),
                   "bundle": bundle_path, "verified_leaf_index": proven.leaf_index,
                   "checkpoint_size": proven.checkpoint.size,
                   "revoked": {"label_id": revoked.label_id, "status": revoked.status},
                   "consumer_page": view.consumer_page, "entries": counts.entries});
        running.shutdown().await?;
        Ok((text, data))
    })
}

/// Replays a generated household capture (seeded, with one Mirai-infected camera among benign
/// devices and their traps) through the same monitor and gateway code `trustgate gateway run`
/// uses, in dry-run mode: every level change is journalled, nftables is not touched.
fn gateway_step(dir: &std::path::Path) -> Result<(String, Value)> {
    use monitor::{Config, Monitor, OuiTable, Output};
    let (truth, frames) = scenarios::build("mirai", 1).context("the built-in Mirai scenario")?;
    let pcap = dir.join("home-with-mirai.pcap");
    scenarios::write_pcap(&pcap, &frames).with_context(|| format!("writing {}", pcap.display()))?;
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut gw = gateway::Gateway::new(gateway::GatewayConfig {
        site: Site::default(),
        nft: enforce::NftRunner::default(),
        // apply + dry_run: decide and journal every change, send nothing to nft.
        apply: true,
        dry_run: true,
        quarantine_ttl_s: 3600,
        state_dir: dir.join("gateway"),
        policies: vec![],
        max_devices: gateway::DEFAULT_MAX_DEVICES,
        trusted: vec![],
        manager: None,
        unlabelled: enforce::Level::Declared,
        dns_hold: None,
    })?;
    let mut out = Vec::new();
    let mut first_bot_event = None;
    for (t, frame) in &frames {
        mon.process(*t, frame, &mut out);
        for o in out.drain(..) {
            if let Output::Event(e) = &o {
                if e.quarantine && first_bot_event.is_none() {
                    first_bot_event = Some(e.clone());
                }
            }
            gw.handle(&o, *t)?;
        }
    }
    let event = first_bot_event.context("the monitor did not flag the infected device")?;
    let infected: Vec<_> = truth.devices.iter().filter(|d| d.infected).collect();
    // The demo proves what it prints: the infected device and only it is quarantined.
    for d in &truth.devices {
        ensure!(
            gw.is_quarantined(&d.mac) == d.infected,
            "device {} ({}) quarantine state is wrong",
            d.mac,
            d.role
        );
    }
    let first_scan = infected[0].first_scan_ns.unwrap_or(event.time_ns);
    let after_s = event.time_ns.saturating_sub(first_scan) as f64 / 1e9;
    let text = format!(
        "replayed {} packets from {} devices ({}); {} of them infected.\n  first caught: {} at {}: {}\n  {:.1} s after its first scan packet; all {} infected devices now isolated (dry run: journal {})\n  {} benign devices untouched.\n  try it: trustgate monitor {}",
        frames.len(),
        truth.devices.len(),
        pcap.display(),
        infected.len(),
        event.device,
        event.time,
        event.explanation,
        after_s,
        infected.len(),
        gw.journal_path().display(),
        truth.devices.len() - infected.len(),
        pcap.display(),
    );
    Ok((
        text,
        json!({"capture": pcap, "event": event, "journal": gw.journal_path(),
               "infected": infected.iter().map(|d| d.mac.to_string()).collect::<Vec<_>>(),
               "detected_after_s": after_s}),
    ))
}

/// A vendor's MUD host (HTTPS on loopback with a throwaway CA) and an embedded registry holding
/// the device's label; the device announces its MUD URL in a DHCP exchange (option 161); the
/// gateway (dry run) fetches and verifies the file, checks the label against its proofs, holds
/// the device at `declared`; the assessor revokes the label and the gateway moves the device
/// to `update-only`.
fn mud_manager_step(
    dir: &std::path::Path,
    assessor: &label::SigningKey,
) -> Result<(String, Value)> {
    use monitor::{Config, Monitor, OuiTable};
    use std::time::{Duration, Instant};
    let wall_ns = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    };
    // The vendor's MUD host.
    let host_dir = dir.join("mud-host");
    std::fs::create_dir_all(&host_dir)?;
    let tls = manager::serve::throwaway_tls(&["localhost"]).map_err(anyhow::Error::msg)?;
    std::fs::write(dir.join("mud-host-tls-ca.pem"), &tls.ca_pem)?;
    let served = manager::serve::serve_dir(
        &host_dir,
        "127.0.0.1:0".parse()?,
        &tls.cert_pem,
        &tls.key_pem,
    )
    .map_err(anyhow::Error::msg)?;
    let url = format!("https://localhost:{}/smart-plug.json", served.addr.port());
    let mut doc: Value = serde_json::from_str(SAMPLE_MUD)?;
    doc["ietf-mud:mud"]["mud-url"] = url.clone().into();
    if let Some(m) = doc["ietf-mud:mud"].as_object_mut() {
        m.remove("mud-signature");
    }
    let content = serde_json::to_vec_pretty(&doc)?;
    let pki = mud::signature::ephemeral_pki_for_hosts("PlugCo demo", &["localhost"])?;
    let sig =
        mud::signature::sign_detached(&content, &pki.signer_key_pem, &pki.signer_cert_pem, None)?;
    std::fs::write(host_dir.join("smart-plug.json"), &content)?;
    std::fs::write(host_dir.join("smart-plug.p7s"), &sig)?;

    // The registry, with a label naming the MUD URL.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut claims = label::example_claims();
    claims.id = "urn:trustgate:label:0003".into();
    claims.network_profile.mud_url = Some(url.clone());
    let label_bytes = label::sign(&claims, assessor)?;
    let (running, signer) = rt.block_on(async {
        let db = format!("sqlite://{}", dir.join("registry-mud.db").display());
        let store = registry::Store::open(&db).await?;
        let (signer, _) =
            registry::logkey::load_or_create(&dir.join("mud-log.key"), "demo.trustgate/registry")?;
        store
            .register_assessor("Example Test Lab", &assessor.verifying_key())
            .await?;
        let running = registry::spawn(store, signer.clone(), "127.0.0.1:0".parse()?, None).await?;
        registry::Client::new(&running.url)?
            .submit_label(&label_bytes)
            .await?;
        anyhow::Ok((running, signer))
    })?;

    // The gateway, with the MUD manager: anchors, the MUD host's TLS CA, the registry's log key.
    let mut m = manager::ManagerConfig::new(dir.join("gateway-mud"));
    m.anchors = Some(mud::signature::TrustAnchors::from_pem(&pki.ca_cert_pem)?);
    m.tls_roots_pem = vec![tls.ca_pem.clone().into_bytes()];
    m.builtin_roots = false;
    let mut assessors = label::KeyRing::new();
    assessors.insert(assessor.verifying_key());
    m.registry = Some(manager::RegistryConfig {
        url: running.url.clone(),
        log: tlog::LogVerifier::new(signer.verifier_key()),
        assessors,
        operators: label::KeyRing::new(),
        refresh: Duration::from_secs(3600),
        poll: Duration::from_secs(1),
        timeout: Duration::from_secs(5),
    });
    let state = dir.join("gateway-mud");
    let mut gw = gateway::Gateway::new(gateway::GatewayConfig {
        site: Site::default(),
        nft: enforce::NftRunner::default(),
        apply: true,
        dry_run: true,
        quarantine_ttl_s: 3600,
        state_dir: state.clone(),
        policies: vec![],
        max_devices: gateway::DEFAULT_MAX_DEVICES,
        trusted: vec![],
        manager: Some(m),
        unlabelled: Level::Default,
        dns_hold: None,
    })?;

    // The device joins: DISCOVER … ACK carrying its MUD URL (DHCP option 161).
    let mac: monitor::Mac = "02:50:4c:00:00:07".parse().map_err(anyhow::Error::msg)?;
    let device = scenarios::Host {
        mac,
        ip: "192.168.1.77".parse()?,
    };
    let mut cap = scenarios::Capture::new();
    let t0 = wall_ns();
    scenarios::dhcp_exchange(
        &mut cap,
        t0,
        device,
        &scenarios::DhcpClient {
            mud_url: Some(url.clone()),
            ..scenarios::DhcpClient::named("smart-plug")
        },
        0x5eed,
    );
    // Then it speaks from its address (NTP to the gateway): the gateway can contain it.
    scenarios::ntp_exchange(
        &mut cap,
        t0 + 50_000_000,
        device,
        scenarios::GATEWAY_IP,
        40123,
    );
    let mut mon = Monitor::new(Config::default(), OuiTable::default());
    let mut out = Vec::new();
    for (t, frame) in cap.sorted() {
        mon.process(t, &frame, &mut out);
        for o in out.drain(..) {
            gw.handle(&o, t)?;
        }
    }
    let wait_for = |gw: &mut gateway::Gateway, level: Level| -> Result<Duration> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            gw.tick(wall_ns())?;
            if gw.level(&mac) == Some(level) {
                return Ok(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        anyhow::bail!(
            "the device did not reach {level} within 20 s: {:?}",
            gw.status().devices.first().map(|d| d.reason.clone())
        )
    };
    let to_declared = wait_for(&mut gw, Level::Declared)?;
    let declared_reason = gw.status().devices[0].reason.clone();

    // The assessor revokes the label; the gateway sees the log grow and tightens.
    let statement = registry::sign_statement(
        &label::StatusEvent {
            label_id: claims.id.clone(),
            at: time::OffsetDateTime::now_utc(),
            kind: label::StatusEventKind::Revoked {
                reason: "a default password was found in the shipped firmware".into(),
            },
        },
        assessor,
    );
    rt.block_on(registry::Client::new(&running.url)?.submit_statement(&statement))?;
    let to_update_only = wait_for(&mut gw, Level::UpdateOnly)?;
    let revoked_reason = gw.status().devices[0].reason.clone();
    gw.write_status()?;
    drop(gw);
    rt.block_on(running.shutdown())?;
    let text = format!(
        "the device 02:50:4c:00:00:07 announced {url} in DHCP option 161.\n  MUD file fetched over HTTPS (throwaway TLS CA {}), signature verified, label found and checked against its proofs: declared after {:.1} s — {declared_reason}.\n  the assessor revoked the label: update-only {:.1} s later — {revoked_reason}.\n  journal: {}; status: trustgate gateway status --state {}",
        dir.join("mud-host-tls-ca.pem").display(),
        to_declared.as_secs_f64(),
        to_update_only.as_secs_f64(),
        state.join("journal.jsonl").display(),
        state.display(),
    );
    Ok((
        text,
        json!({"mud_url": url, "declared_after_s": to_declared.as_secs_f64(),
               "declared_reason": declared_reason,
               "update_only_after_s": to_update_only.as_secs_f64(),
               "update_only_reason": revoked_reason, "state": state}),
    ))
}
