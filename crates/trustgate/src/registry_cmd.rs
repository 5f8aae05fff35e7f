//! `trustgate registry …`: run the label registry, register assessors (operator), and talk to a
//! registry as a client (submit, revoke, change support end, fetch with offline proof).

use crate::{read_bounded, Finding};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Which registry database an operator command (and `serve`) uses.
#[derive(Args)]
pub struct StoreOpts {
    /// The registry's database: sqlite:///path/file.db or postgres://user:pass@host/db
    /// (default: the SQLite file registry.db in the data directory).
    #[arg(long)]
    db: Option<String>,
    /// The registry's data directory, where the default database and the log key live
    /// (default: $TRUSTGATE_DATA, else $XDG_DATA_HOME/trustgate, else ~/.local/share/trustgate).
    #[arg(long = "data-dir")]
    data_dir: Option<PathBuf>,
}

/// Which registry a client command talks to.
#[derive(Args)]
pub struct RegistryUrl {
    /// The registry's base URL (e.g. https://registry.example).
    #[arg(long)]
    url: String,
}

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Run the registry: HTTP API, consumer pages, C2SP checkpoint and tiles, /metrics.
    ///
    /// It locks the data directory (file registry.lock) while it runs: a second `serve` on the
    /// same data directory refuses to start (exit 2) and names the one running. After the
    /// first line it prints the data directory and the database it uses.
    ///
    /// The database defaults to a SQLite file in the data directory; the log's signing key is
    /// created there on first start (mode 600) and never printed; its public verifier key is
    /// printed and written beside it as log.key.pub. The first stdout line is
    /// `listening on http://ADDR`.
    ///
    /// With --static-dir it also writes the log's read side as files there (the checkpoint,
    /// the hash tiles and the entry bundles of C2SP tlog-tiles, at the paths the registry's
    /// own /checkpoint and /tile/ routes answer), as each checkpoint is published: any web
    /// server or CDN can then serve the log. Serve everything under tile/ with
    /// `Cache-Control: public, max-age=31536000, immutable` and `checkpoint` with
    /// `Cache-Control: no-cache`. `trustgate registry check-tiles URL` verifies such a copy.
    ///
    /// Example: trustgate registry serve --listen 0.0.0.0:8080 --db postgres://u:p@db/registry
    Serve {
        #[command(flatten)]
        store: StoreOpts,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The log's signing key file (default: DATA_DIR/log.key; created if absent).
        #[arg(long = "log-key")]
        log_key: Option<PathBuf>,
        /// Log origin (checkpoint first line) for a newly created key.
        #[arg(long, default_value = "localhost/trustgate-registry")]
        origin: String,
        /// Base URL consumer pages and QR codes point to (default: http://LISTEN).
        #[arg(long = "public-url")]
        public_url: Option<String>,
        /// Also write the checkpoint, tiles and entry bundles as files under this directory.
        #[arg(long = "static-dir")]
        static_dir: Option<PathBuf>,
    },
    /// Operator: register an assessor's public key (PEM from `trustgate keygen`).
    ///
    /// Say which registry: --data-dir (the one `registry serve` uses), --db, or $TRUSTGATE_DATA;
    /// the database written to is printed. While a registry serves from that data directory
    /// with another database, the command refuses (exit 2).
    ///
    /// Example: trustgate registry add-assessor lab.pub --name "Example Test Lab" --data-dir /var/lib/trustgate
    AddAssessor {
        /// The assessor's public key (SPKI PEM).
        public_key: PathBuf,
        /// The assessor's name, as shown on consumer pages' records.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreOpts,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Operator: retire an assessor key (by key id); it can no longer submit anything.
    ///
    /// Say which registry as for `add-assessor`. Example:
    /// trustgate registry retire-assessor 0123456789abcdef --data-dir /var/lib/trustgate
    RetireAssessor {
        /// Key id (16 hex characters, as printed by `keygen` and `add-assessor`).
        kid: String,
        #[command(flatten)]
        store: StoreOpts,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Operator: register an operator key (PEM from `trustgate keygen`). Operator keys sign
    /// operator statements: revoke, suspend or reinstate any label, e.g. one whose assessor key
    /// was retired after a compromise (`registry revoke ID --operator-key KEY`). Keep the
    /// private key offline; give verifiers the public key (`label verify --operator-key`).
    ///
    /// Say which registry as for `add-assessor`.
    ///
    /// Example: trustgate registry add-operator operator.pub --name "Registry operator" --data-dir /var/lib/trustgate
    AddOperator {
        /// The operator's public key (SPKI PEM).
        public_key: PathBuf,
        /// A name for the key, for records and messages.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreOpts,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Operator: list the registered assessor keys (and operator keys): key id, name, when
    /// registered, whether retired.
    ///
    /// Say which registry as for `add-assessor`. Example:
    /// trustgate registry list-assessors --data-dir /var/lib/trustgate --json
    ListAssessors {
        #[command(flatten)]
        store: StoreOpts,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Submit a signed label to a registry.
    ///
    /// Example: trustgate registry submit device.label --url https://registry.example
    Submit {
        /// The signed label (COSE_Sign1, from `trustgate label issue`).
        label: PathBuf,
        #[command(flatten)]
        registry: RegistryUrl,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a label: a status statement signed with the key that issued it (--key) or, as
    /// the registry operator, with a registered operator key (--operator-key).
    ///
    /// Example: trustgate registry revoke urn:acme:label:1 --reason "default password" --key lab.key --url U
    Revoke {
        /// The label id.
        id: String,
        /// Why, in words a consumer page can show.
        #[arg(long)]
        reason: String,
        /// The issuing assessor's private key.
        #[arg(
            long,
            required_unless_present = "operator_key",
            conflicts_with = "operator_key"
        )]
        key: Option<PathBuf>,
        /// A registered operator private key (see `add-operator`).
        #[arg(long = "operator-key")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        registry: RegistryUrl,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record a changed support end date for a label (signed with the issuing key).
    ///
    /// Example: trustgate registry support-end urn:acme:label:1 --date 2027-12-31 --key lab.key --url U
    SupportEnd {
        /// The label id.
        id: String,
        /// The new last supported day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The issuing assessor's private key.
        #[arg(long)]
        key: PathBuf,
        #[command(flatten)]
        registry: RegistryUrl,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Fetch a label's status and offline proof bundle, by id, firmware digest or MUD URL.
    ///
    /// The answer is checked before anything is printed or saved: the bundle against the
    /// pinned log key, the label and every status statement proven in one checkpoint, the
    /// statements' signatures with the keys given, and the status recomputed from them; an
    /// answer that does not check out is refused (exit 1).
    /// Beside the status it shows the assessment's outcome (conformant, non-conformant, not
    /// assessed), computed from the label's verdicts.
    /// Exit 0 when the label is active and conformant, 1 when not (or not found, or refused).
    /// Example: trustgate registry fetch urn:acme:label:1 --url U --log-key log.key.pub --assessor lab.pub -o bundle.json
    Fetch {
        /// The label id.
        #[arg(required_unless_present_any = ["firmware", "mud_url"], conflicts_with_all = ["firmware", "mud_url"])]
        id: Option<String>,
        /// SHA-256 of a firmware image (hex).
        #[arg(long, conflicts_with = "mud_url")]
        firmware: Option<String>,
        /// The device's MUD URL.
        #[arg(long = "mud-url")]
        mud_url: Option<String>,
        #[command(flatten)]
        registry: RegistryUrl,
        /// Write the proof bundle here (for `trustgate label verify --bundle`).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Write the label's COSE bytes here.
        #[arg(long = "label-out")]
        label_out: Option<PathBuf>,
        /// The log's C2SP verifier key (`name+hash+key`), or a file holding it: pinned out of
        /// band (the registry's own copy is not a trust anchor).
        #[arg(long = "log-key")]
        log_key: String,
        /// Public key(s) of the assessors (PEM): the label's and its statements' signatures are
        /// checked with them. Without one, signatures are taken on the log's word, and the
        /// output says so.
        #[arg(long = "assessor")]
        assessors: Vec<PathBuf>,
        /// Public key(s) of the registry operator (PEM), for operator statements.
        #[arg(long = "operator-key")]
        operator_keys: Vec<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a copy of the log's read side (a web server or CDN serving what `registry serve
    /// --static-dir` writes, or the registry itself): its checkpoint verifies with the pinned
    /// log key, every hash tile and entry bundle is there, the entries hash to the tiles and
    /// the tiles to the checkpoint's root.
    ///
    /// Exit 0 when everything checks out, 1 when something does not (what, is printed), 2 when
    /// the copy cannot be read.
    ///
    /// Example: trustgate registry check-tiles https://cdn.example/log --log-key log.key.pub
    CheckTiles {
        /// Base URL of the copy (`BASE/checkpoint`, `BASE/tile/…`).
        url: String,
        /// The log's C2SP verifier key (`name+hash+key`), or a file holding it.
        #[arg(long = "log-key")]
        log_key: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn data_dir(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(d) = given {
        return Ok(d);
    }
    if let Some(d) = std::env::var_os("TRUSTGATE_DATA") {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return Ok(PathBuf::from(d).join("trustgate"));
    }
    let home = std::env::var_os("HOME").context("no --data-dir, $TRUSTGATE_DATA or $HOME")?;
    Ok(PathBuf::from(home).join(".local/share/trustgate"))
}

/// Exit-2 errors: the registry's location is not given, or clashes with a running server.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The name of the lock file `serve` holds in its data directory.
const LOCK_FILE: &str = "registry.lock";

/// The database an operator command works on. The location must be said (--db, --data-dir or
/// $TRUSTGATE_DATA): a default guessed here could be another database than the running
/// server's. When a server holds the data directory's lock with another database, refuse.
fn operator_db(db: Option<String>, dir: Option<PathBuf>) -> Result<(String, PathBuf)> {
    if db.is_none() && dir.is_none() && std::env::var_os("TRUSTGATE_DATA").is_none() {
        return Err(UsageError(
            "say which registry: --data-dir DIR (the data directory `trustgate registry serve` uses), \
             --db URL (its database), or set $TRUSTGATE_DATA; without one this command could write to \
             another database than the running registry's"
                .into(),
        )
        .into());
    }
    let dir = data_dir(dir)?;
    let url = db_url(db, &dir)?;
    if let Some(running) = running_server(&dir)? {
        if running.database != redact(&url) {
            return Err(UsageError(format!(
                "the registry serving from {} (pid {}) uses database {}, not {}; pass --db with that database",
                dir.display(),
                running.pid,
                running.database,
                redact(&url)
            ))
            .into());
        }
    }
    Ok((url, dir))
}

/// What a running `serve` wrote into its lock file.
struct RunningServer {
    pid: String,
    database: String,
}

/// The server holding `dir`'s lock, if one does (the lock is held, so its file is current).
fn running_server(dir: &Path) -> Result<Option<RunningServer>> {
    use fs4::{FileExt, TryLockError};
    let path = dir.join(LOCK_FILE);
    let Ok(file) = std::fs::File::open(&path) else {
        return Ok(None);
    };
    match FileExt::try_lock_shared(&file) {
        Ok(()) => {
            let _ = FileExt::unlock(&file);
            Ok(None)
        }
        Err(TryLockError::WouldBlock) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let field = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_else(|| "unknown".into())
            };
            Ok(Some(RunningServer {
                pid: field("pid:"),
                database: field("database:"),
            }))
        }
        Err(TryLockError::Error(e)) => Err(anyhow::anyhow!(
            "cannot check the lock {}: {e}",
            path.display()
        )),
    }
}

/// Takes the data directory's lock for a serving registry, or says who holds it (exit 2).
/// The lock is an advisory `flock` (fs4), released by the kernel when the process ends, so a
/// crashed server leaves nothing to clean up.
fn lock_data_dir(dir: &Path, url: &str) -> Result<std::fs::File> {
    use fs4::{FileExt, TryLockError};
    use std::io::{Seek, Write};
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    let locked = match FileExt::try_lock(&file) {
        Ok(()) => true,
        Err(TryLockError::WouldBlock) => false,
        Err(TryLockError::Error(e)) => {
            return Err(anyhow::anyhow!("cannot lock {}: {e}", path.display()))
        }
    };
    if !locked {
        let who = running_server(dir)?
            .map(|r| format!(" (pid {}, database {})", r.pid, r.database))
            .unwrap_or_default();
        return Err(UsageError(format!(
            "another `trustgate registry serve` is already serving from {}{who}; two servers on one data directory would fight over its database. Stop it first, or give this one its own --data-dir",
            dir.display()
        ))
        .into());
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "pid: {}", std::process::id())?;
    writeln!(file, "database: {}", redact(url))?;
    file.flush()?;
    Ok(file)
}

fn db_url(db: Option<String>, dir: &Path) -> Result<String> {
    match db {
        Some(u) => Ok(u),
        None => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            // Absolute, so `serve` and an operator command name one database the same way
            // whatever their working directories (compared through the data directory's lock).
            let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
            Ok(format!("sqlite://{}", dir.join("registry.db").display()))
        }
    }
}

/// Opens the registry's database, saying which one (stderr, so --json output stays one object).
async fn open_store(url: &str, json: bool) -> Result<registry::Store> {
    if !json {
        eprintln!("database: {}", redact(url));
    }
    registry::Store::open(url)
        .await
        .with_context(|| format!("opening {}", redact(url)))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn signing_key(path: &Path) -> Result<label::SigningKey> {
    // Refuses a key file others can read (and says how to fix it).
    Ok(label::signing_key_from_file(path)?)
}

/// A registry refusal is a finding (exit 1) reported plainly; anything else is an error.
fn report_refusal(e: registry::ClientError, json: bool) -> Result<Option<Finding>> {
    match e {
        registry::ClientError::Refused {
            status,
            code,
            message,
        } => {
            if json {
                outln!(
                    "{}",
                    json!({"accepted": false, "status": status, "error": code, "message": message})
                );
            } else {
                eprintln!("refused by the registry ({status} {code}): {message}");
            }
            Ok(Some(Finding))
        }
        other => Err(other.into()),
    }
}

fn print_submitted(s: &registry::Submitted, json: bool, what: &str) -> Result<()> {
    if json {
        outln!("{}", serde_json::to_string(s)?);
    } else {
        outln!(
            "{what}: {} logged as entry {} (tree size {}); status: {}",
            s.label_id,
            s.leaf_index,
            s.tree_size,
            s.status_words
        );
        outln!("consumer page: {}", s.consumer_page);
    }
    Ok(())
}

pub fn run(cmd: RegistryCommand) -> Result<Option<Finding>> {
    let rt = runtime()?;
    match cmd {
        RegistryCommand::Serve {
            store: StoreOpts { db, data_dir: dir },
            listen,
            log_key,
            origin,
            public_url,
            static_dir,
        } => rt.block_on(async {
            // The registry logs what it does not tell HTTP clients (storage errors, under the
            // request id the client was given): to stderr, errors and warnings of the
            // registry itself only.
            {
                use tracing_subscriber::prelude::*;
                let only_registry = tracing_subscriber::filter::Targets::new()
                    .with_target("registry", tracing_subscriber::filter::LevelFilter::WARN);
                let _ = tracing_subscriber::registry()
                    .with(
                        tracing_subscriber::fmt::layer()
                            .with_writer(std::io::stderr)
                            .with_filter(only_registry),
                    )
                    .try_init();
            }
            let dir = data_dir(dir)?;
            let url = db_url(db, &dir)?;
            // Held until the process ends.
            let _lock = lock_data_dir(&dir, &url)?;
            let key_path = log_key.unwrap_or_else(|| dir.join("log.key"));
            let (signer, created) = registry::logkey::load_or_create(&key_path, &origin)?;
            let store = registry::Store::open(&url)
                .await
                .with_context(|| format!("opening {}", redact(&url)))?;
            let running = registry::spawn(store, signer.clone(), listen, public_url).await?;
            let _mirror = static_dir
                .as_ref()
                .map(|d| registry::mirror::spawn(running.service.clone(), d.clone()));
            // A closed stdout (the supervisor stopped reading) must not stop the service, so
            // write errors here are ignored rather than panicking like println! would.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {}", running.url);
            let _ = writeln!(out, "log verifier key: {}", signer.verifier_key());
            let _ = writeln!(
                out,
                "data directory: {} (locked); database: {}",
                dir.display(),
                redact(&url)
            );
            if created {
                let _ = writeln!(out, "created log key {} (mode 600)", key_path.display());
            }
            let _ = out.flush();
            drop(out);
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            let _ = writeln!(std::io::stderr(), "shutting down");
            running.shutdown().await?;
            Ok(None)
        }),
        RegistryCommand::AddAssessor {
            public_key,
            name,
            store: StoreOpts { db, data_dir: dir },
            json,
        } => rt.block_on(async {
            let key = crate::label_cmd::read_public_key(&public_key, "assessor key")?;
            let (url, _) = operator_db(db, dir)?;
            let store = open_store(&url, json).await?;
            let kid = label::KeyId::of(&key).to_string();
            if let Some(existing) = store.assessor(&kid).await? {
                eprintln!(
                    "key {kid} is already registered (as {:?}); nothing changed",
                    existing.name
                );
                return Ok(Some(Finding));
            }
            store.register_assessor(&name, &key).await?;
            if json {
                outln!(
                    "{}",
                    json!({"kid": kid, "name": name, "registered": true, "database": redact(&url)})
                );
            } else {
                outln!("registered assessor {name:?} with key id {kid}");
            }
            Ok(None)
        }),
        RegistryCommand::AddOperator {
            public_key,
            name,
            store: StoreOpts { db, data_dir: dir },
            json,
        } => rt.block_on(async {
            let key = crate::label_cmd::read_public_key(&public_key, "operator key")?;
            let (url, _) = operator_db(db, dir)?;
            let store = open_store(&url, json).await?;
            let kid = label::KeyId::of(&key).to_string();
            if let Some(existing) = store.operator(&kid).await? {
                eprintln!(
                    "operator key {kid} is already registered (as {:?}); nothing changed",
                    existing.name
                );
                return Ok(Some(Finding));
            }
            if store.assessor(&kid).await?.is_some() {
                eprintln!("key {kid} is an assessor key; an operator key must be a key of its own");
                return Ok(Some(Finding));
            }
            store.register_operator(&name, &key).await?;
            if json {
                outln!(
                    "{}",
                    json!({"kid": kid, "name": name, "operator": true, "registered": true, "database": redact(&url)})
                );
            } else {
                outln!("registered operator key {name:?} with key id {kid}");
            }
            Ok(None)
        }),
        RegistryCommand::RetireAssessor {
            kid,
            store: StoreOpts { db, data_dir: dir },
            json,
        } => rt.block_on(async {
            let (url, _) = operator_db(db, dir)?;
            let store = open_store(&url, json).await?;
            let done = store.retire_assessor(&kid).await?;
            if json {
                outln!(
                    "{}",
                    json!({"kid": kid, "retired": done, "database": redact(&url)})
                );
            } else if done {
                outln!("retired assessor key {kid}");
            } else {
                eprintln!("no active assessor key {kid}");
            }
            Ok(if done { None } else { Some(Finding) })
        }),
        RegistryCommand::ListAssessors {
            store: StoreOpts { db, data_dir: dir },
            json,
        } => rt.block_on(async {
            let (url, _) = operator_db(db, dir)?;
            let store = open_store(&url, json).await?;
            let assessors = store.assessors().await?;
            let operators = store.operators().await?;
            if json {
                let row = |a: &registry::AssessorRecord| {
                    json!({"kid": a.kid, "name": a.name, "registered_at": a.registered_at,
                           "retired_at": a.retired_at, "active": a.retired_at.is_none()})
                };
                outln!(
                    "{}",
                    json!({"database": redact(&url),
                           "assessors": assessors.iter().map(row).collect::<Vec<_>>(),
                           "operators": operators.iter().map(row).collect::<Vec<_>>()})
                );
            } else {
                if assessors.is_empty() {
                    outln!("no assessor keys registered");
                }
                for (title, list) in [("assessor keys", &assessors), ("operator keys", &operators)] {
                    if list.is_empty() {
                        continue;
                    }
                    outln!("{title}:");
                    for a in list.iter() {
                        let state = match &a.retired_at {
                            Some(at) => format!("retired {at}"),
                            None => "active".to_string(),
                        };
                        outln!(
                            "  {}  {:?}  registered {}  {state}",
                            a.kid, a.name, a.registered_at
                        );
                    }
                }
            }
            Ok(None)
        }),
        RegistryCommand::Submit {
            label,
            registry: RegistryUrl { url },
            json,
        } => rt.block_on(async {
            let bytes = read_bounded(&label, registry::MAX_LABEL_BODY, "labels")?;
            match registry::Client::new(&url)?.submit_label(&bytes).await {
                Ok(s) => {
                    print_submitted(&s, json, "accepted")?;
                    Ok(None)
                }
                Err(e) => report_refusal(e, json),
            }
        }),
        RegistryCommand::Revoke {
            id,
            reason,
            key,
            operator_key,
            registry: RegistryUrl { url },
            json,
        } => {
            if reason.trim().is_empty() {
                return Err(UsageError(
                    "--reason must say why the label is revoked (it is shown on the consumer page)"
                        .into(),
                )
                .into());
            }
            let kind = label::StatusEventKind::Revoked { reason };
            let key = key
                .or(operator_key)
                .expect("clap requires --key or --operator-key");
            rt.block_on(send_statement(&id, kind, &key, &url, json))
        }
        RegistryCommand::SupportEnd {
            id,
            date,
            key,
            registry: RegistryUrl { url },
            json,
        } => {
            let end_date = time::Date::parse(
                &date,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .with_context(|| format!("--date {date:?} is not YYYY-MM-DD"))?;
            let kind = label::StatusEventKind::SupportEndChanged { end_date };
            rt.block_on(send_statement(&id, kind, &key, &url, json))
        }
        RegistryCommand::CheckTiles { url, log_key, json } => {
            let log = crate::label_cmd::log_verifier(&log_key)?;
            rt.block_on(check_tiles(&url, &log, json))
        }
        RegistryCommand::Fetch {
            id,
            firmware,
            mud_url,
            registry: RegistryUrl { url },
            output,
            label_out,
            log_key,
            assessors,
            operator_keys,
            json,
        } => {
            let log = crate::label_cmd::log_verifier(&log_key)?;
            let ring = crate::label_cmd::read_public_keys(&assessors, "assessor key")?;
            let operators = crate::label_cmd::read_public_keys(&operator_keys, "operator key")?;
            rt.block_on(async {
                let client = registry::Client::new(&url)?;
                let result = match (id, firmware, mud_url) {
                    (Some(id), _, _) => client.label(&id).await.map(|v| vec![v]),
                    (_, Some(f), _) => client.lookup("firmware", &f).await,
                    (_, _, Some(u)) => client.lookup("mud-url", &u).await,
                    _ => unreachable!("clap requires one"),
                };
                let views = match result {
                    Ok(v) => v,
                    Err(e) => return report_refusal(e, json),
                };
                let Some(first) = views.first() else {
                    if json {
                        outln!("{}", json!({"found": false, "labels": []}));
                    } else {
                        eprintln!("no label found");
                    }
                    return Ok(Some(Finding));
                };
                // Check every answer before printing or saving anything.
                let now = time::OffsetDateTime::now_utc();
                let mut checked = Vec::with_capacity(views.len());
                for v in &views {
                    match check_view(v, &log, &ring, &operators, now) {
                        Ok(c) => checked.push(c),
                        Err(reason) => {
                            if json {
                                outln!(
                                    "{}",
                                    json!({"found": true, "verified": false, "label_id": v.label_id, "reason": reason})
                                );
                            } else {
                                eprintln!(
                                    "refused: the registry's answer for {:?} does not check out: {reason}; nothing was saved",
                                    v.label_id
                                );
                            }
                            return Ok(Some(Finding));
                        }
                    }
                }
                if views.len() > 1 && (output.is_some() || label_out.is_some()) {
                    eprintln!(
                        "{} labels match; writing the oldest ({})",
                        views.len(),
                        first.label_id
                    );
                }
                if let Some(o) = &output {
                    std::fs::write(o, first.bundle.to_json())
                        .with_context(|| format!("cannot write {}", o.display()))?;
                }
                if let Some(o) = &label_out {
                    std::fs::write(o, &first.bundle.entry)
                        .with_context(|| format!("cannot write {}", o.display()))?;
                }
                if json {
                    let verified: Vec<_> = checked
                        .iter()
                        .map(|c| {
                            json!({"label_id": c.label_id, "status": c.status,
                                   "assessment": c.conformance,
                                   "good": label::is_good(&c.status, &c.conformance),
                                   "signatures_checked": c.signatures_checked,
                                   "statements": c.statements, "tree_size": c.tree_size})
                        })
                        .collect();
                    outln!(
                        "{}",
                        serde_json::to_string(
                            &json!({"found": true, "verified": verified, "labels": views})
                        )?
                    );
                } else {
                    for (v, c) in views.iter().zip(&checked) {
                        outln!(
                            "{} (entry {}, assessor key {}, registered as {:?}): {}",
                            v.label_id,
                            v.leaf_index,
                            v.kid,
                            v.assessor_name,
                            label::summary_words(&c.status, &c.conformance)
                        );
                        for e in &v.events {
                            outln!("  entry {}: {:?} at {}", e.leaf_index, e.event.kind, e.event.at);
                        }
                        outln!(
                            "  checked: the label and {} status statement(s) proven in the log's checkpoint of size {}; {}",
                            c.statements,
                            c.tree_size,
                            if c.signatures_checked {
                                "every signature verified with the keys given"
                            } else {
                                "signatures NOT checked here (no --assessor / --operator-key for them): taken on the log's word"
                            }
                        );
                        outln!("  consumer page: {}", v.consumer_page);
                    }
                    if let Some(o) = &output {
                        outln!("proof bundle written to {}", o.display());
                    }
                }
                Ok(if label::is_good(&checked[0].status, &checked[0].conformance) {
                    None
                } else {
                    Some(Finding)
                })
            })
        }
    }
}

/// What `registry fetch` established about one answer.
struct CheckedView {
    label_id: String,
    status: label::Status,
    /// Computed here from the proven label's verdicts, not taken from the answer.
    conformance: label::Conformance,
    statements: usize,
    tree_size: u64,
    signatures_checked: bool,
}

/// The library's refusal names the key it lacks; the CLI says which flag gives it.
pub(crate) fn with_flag_hint(reason: String) -> String {
    if reason.contains("nor a registry operator key given") {
        format!("{reason}: give it with --operator-key")
    } else {
        reason
    }
}

/// Checks a registry answer against its own proofs (`registry::answer::check_answer`, the
/// same checks the gateway's MUD manager makes).
fn check_view(
    v: &registry::LabelView,
    log: &tlog::checkpoint::LogVerifier,
    assessors: &label::KeyRing,
    operators: &label::KeyRing,
    now: time::OffsetDateTime,
) -> std::result::Result<CheckedView, String> {
    let c = registry::answer::check_answer(v, log, assessors, operators, now)
        .map_err(with_flag_hint)?;
    Ok(CheckedView {
        label_id: c.claims.id,
        status: c.status,
        conformance: c.conformance,
        statements: c.facts.len(),
        tree_size: c.checkpoint.size,
        signatures_checked: c.signatures_checked,
    })
}

async fn send_statement(
    id: &str,
    kind: label::StatusEventKind,
    key: &Path,
    url: &str,
    json: bool,
) -> Result<Option<Finding>> {
    let key = signing_key(key)?;
    let event = label::StatusEvent {
        label_id: id.to_string(),
        at: time::OffsetDateTime::now_utc(),
        kind,
    };
    let statement = registry::sign_statement(&event, &key);
    match registry::Client::new(url)?
        .submit_statement(&statement)
        .await
    {
        Ok(s) => {
            print_submitted(&s, json, "recorded")?;
            Ok(None)
        }
        Err(e) => report_refusal(e, json),
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// `registry check-tiles`: fetch the checkpoint and every tile and bundle of its tree from
/// `base`, and check them against each other and against the signed root.
async fn check_tiles(
    base: &str,
    log: &tlog::checkpoint::LogVerifier,
    json: bool,
) -> Result<Option<Finding>> {
    use tlog::tile::{decode_entry_bundle, tiles_for_size, EntryBundle};
    let client = registry::Client::new(base)?;
    let (status, note) = client.get_raw("/checkpoint").await?;
    if status != 200 {
        anyhow::bail!("{base}/checkpoint: HTTP {status}");
    }
    let problems = |what: String| -> Result<Option<Finding>> {
        if json {
            outln!(
                "{}",
                serde_json::json!({"url": base, "ok": false, "problem": what})
            );
        } else {
            outln!("{base}: {what}");
        }
        Ok(Some(Finding))
    };
    let cp = match log.verify_checkpoint(&note) {
        Ok(cp) => cp,
        Err(e) => {
            return problems(format!(
                "the checkpoint does not verify with the log key: {e}"
            ))
        }
    };
    let mut tiles = std::collections::BTreeMap::new();
    let wanted = tiles_for_size(cp.size);
    for t in &wanted {
        let (status, body) = client.get_raw(&format!("/{}", t.path())).await?;
        if status != 200 {
            return problems(format!("{}: HTTP {status}", t.path()));
        }
        if body.len() != usize::from(t.width) * 32 {
            return problems(format!(
                "{}: {} bytes, not {}",
                t.path(),
                body.len(),
                usize::from(t.width) * 32
            ));
        }
        tiles.insert(*t, body);
    }
    let mut bundles = 0;
    for t in wanted.iter().filter(|t| t.level == 0) {
        let b = EntryBundle {
            index: t.index,
            width: t.width,
        };
        let (status, body) = client.get_raw(&format!("/{}", b.path())).await?;
        if status != 200 {
            return problems(format!("{}: HTTP {status}", b.path()));
        }
        let entries = match decode_entry_bundle(&body) {
            Ok(e) => e,
            Err(e) => return problems(format!("{}: {e}", b.path())),
        };
        let hashes: Vec<u8> = entries
            .iter()
            .flat_map(|e| tlog::hash::leaf_hash(e).0)
            .collect();
        if entries.len() != usize::from(t.width) || hashes != tiles[t] {
            return problems(format!(
                "{}: its entries do not hash to {}",
                b.path(),
                t.path()
            ));
        }
        bundles += 1;
    }
    let reader = tlog::TileHashReader::new(cp.size, MemoryTiles(&tiles));
    let root = tlog::proof::tree_root(cp.size, &reader)
        .map_err(|e| anyhow::anyhow!("reading the tiles: {e}"))?;
    if root != cp.root {
        return problems(format!(
            "the tiles give root {} but the checkpoint signs {}",
            root.to_hex(),
            cp.root.to_hex()
        ));
    }
    if json {
        outln!(
            "{}",
            serde_json::json!({"url": base, "ok": true, "size": cp.size,
                "root": root.to_hex(), "tiles": tiles.len(), "bundles": bundles})
        );
    } else {
        outln!(
            "{base}: tree of {} entries, root {}: {} tiles and {bundles} entry bundles check out",
            cp.size,
            root.to_hex(),
            tiles.len()
        );
    }
    Ok(None)
}

/// Tiles already fetched, for [`tlog::TileHashReader`].
struct MemoryTiles<'a>(&'a std::collections::BTreeMap<tlog::Tile, Vec<u8>>);

impl tlog::TileReader for MemoryTiles<'_> {
    fn read_tiles(&self, tiles: &[tlog::Tile]) -> Result<Vec<Vec<u8>>, tlog::StorageError> {
        tiles
            .iter()
            .map(|t| {
                self.0.get(t).cloned().ok_or_else(|| {
                    tlog::StorageError::new(std::io::Error::other(format!(
                        "{} not fetched",
                        t.path()
                    )))
                })
            })
            .collect()
    }
}
