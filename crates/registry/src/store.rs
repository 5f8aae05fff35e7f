//! Storage through sqlx's `Any` driver: one set of migrations (`migrations/`) and one set of
//! queries for SQLite (the embedded default, a file) and PostgreSQL.
//!
//! Portability rules kept by every query here: placeholders are `$N` (PostgreSQL's form, which
//! SQLite also accepts), integers are `BIGINT`/`i64`, bytes are `BYTEA`/`Vec<u8>`.
//!
//! Durability: SQLite runs in WAL mode with `synchronous=FULL` (a committed transaction survives
//! power loss, <https://sqlite.org/pragma.html#pragma_synchronous>); PostgreSQL keeps its default
//! `synchronous_commit=on`. The sequencer writes each batch in one transaction and replies only
//! after `COMMIT` returns.

use std::collections::HashMap;
use std::sync::Once;

use label::StatusEvent;
use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Row};
use tlog::{Hash, HashReader, NodeId, StorageError};

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A storage failure (the database, or data in it that cannot be read back).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("database URL must start with sqlite: or postgres:// (got scheme {0:?})")]
    Url(String),
    /// The database refused or failed. (Not a `#[source]`: the message already includes it,
    /// and error chains would print it twice.)
    #[error("database: {0}")]
    Db(sqlx::Error),
    /// Migrations failed.
    #[error("database migration: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// A stored value is not what this version wrote.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Another process already sequences this database ([`Store::claim_sequencer`]).
    #[error("another `registry serve` already sequences this PostgreSQL database (schema {0:?}); only one may run on a database until replicas are supported: stop it, or give this one a database of its own")]
    SequencerTaken(String),
}

impl StoreError {
    /// Whether the database could not write because its disk (or file system quota) is full:
    /// SQLite `SQLITE_FULL`, PostgreSQL `disk_full` (53100), or `ENOSPC` from the file system.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("13" | "53100"))
            }
            StoreError::Db(sqlx::Error::Io(e)) => e.raw_os_error() == Some(28),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

/// The first key of the sequencer's advisory lock (`pg_try_advisory_lock(class, schema hash)`):
/// "TGSQ" in ASCII, so another application's locks on the same database are unlikely to meet it.
const SEQUENCER_LOCK_CLASS: i32 = 0x5447_5351;

/// Held by the one process that sequences a database ([`Store::claim_sequencer`]).
pub struct SequencerLease {
    _conn: Option<sqlx::AnyConnection>,
}

impl std::fmt::Debug for SequencerLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequencerLease")
            .field("held", &self._conn.is_some())
            .finish()
    }
}

impl SequencerLease {
    /// Makes sure the lease is still held before a batch is appended. PostgreSQL ends a session
    /// lock with its connection, so a server restart (or a dropped connection) frees it while
    /// this process goes on: if the lease's connection no longer answers, the lock is taken
    /// again on a new one, or [`StoreError::SequencerTaken`] if another sequencer got it
    /// meanwhile (this one must then stop appending). SQLite: nothing to check.
    pub async fn keep(&mut self, store: &Store) -> Result<(), StoreError> {
        if store.backend != Backend::Postgres {
            return Ok(());
        }
        if let Some(conn) = self._conn.as_mut() {
            if sqlx::Connection::ping(conn).await.is_ok() {
                return Ok(());
            }
        }
        // Lost (or lost before and not taken again because the database was still away):
        // close what is left of the old connection first, so a session of ours that is in
        // fact alive gives the lock up, then take it again. Until that succeeds the lease
        // stays empty and every batch comes back here first.
        self._conn = None;
        *self = store.claim_sequencer().await?;
        tracing::warn!("the sequencer's database connection was lost; its lock is taken again");
        Ok(())
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;

/// Bind parameters per statement for multi-row inserts: under SQLite's 32766 and PostgreSQL's
/// 65535 limits.
const MAX_PARAMS: usize = 30_000;

static DRIVERS: Once = Once::new();

/// How long a request waits for a database connection (see [`Store::open`]).
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The storage of one registry.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// An assessor as registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssessorRecord {
    /// Key id (hex).
    pub kid: String,
    /// The Ed25519 public key.
    pub key: label::VerifyingKey,
    /// Display name.
    pub name: String,
    /// When registered (RFC 3339).
    pub registered_at: String,
    /// When retired (RFC 3339), if it is.
    pub retired_at: Option<String>,
}

/// A stored label: its log entry and index.
#[derive(Clone, Debug)]
pub struct LabelRecord {
    /// The label id (claims `id`).
    pub label_id: String,
    /// Its leaf index in the log.
    pub leaf_index: u64,
    /// The COSE_Sign1 bytes (also the log entry).
    pub cose: Vec<u8>,
    /// The signing assessor's key id.
    pub kid: String,
}

/// A stored status fact with its log entry.
#[derive(Clone, Debug)]
pub struct EventRecord {
    /// Its leaf index in the log.
    pub leaf_index: u64,
    /// The fact.
    pub event: StatusEvent,
    /// The signed statement bytes (the log entry).
    pub statement: Vec<u8>,
}

/// The latest signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed note, verbatim.
    pub signed_note: String,
}

/// One entry the sequencer appends, with what it means.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// The exact COSE_Sign1 bytes.
    pub entry: Vec<u8>,
    /// SHA-256 of `entry`.
    pub digest: [u8; 32],
    /// Its meaning.
    pub record: NewRecord,
}

/// What a new entry records.
#[derive(Clone, Debug)]
pub enum NewRecord {
    /// A label issuance.
    Label {
        /// Claims `id`.
        label_id: String,
        /// Signing key id.
        kid: String,
        /// Claims `network-profile.mud-url`.
        mud_url: Option<String>,
        /// Claims `software[].image-sha256`.
        images: Vec<[u8; 32]>,
    },
    /// A status fact.
    Status(StatusEvent),
}

impl NewEntry {
    /// `"label"` or `"status"`.
    pub fn record_kind(&self) -> &'static str {
        self.record.kind()
    }
}

impl NewRecord {
    fn kind(&self) -> &'static str {
        match self {
            NewRecord::Label { .. } => "label",
            NewRecord::Status(_) => "status",
        }
    }
    fn label_id(&self) -> &str {
        match self {
            NewRecord::Label { label_id, .. } => label_id,
            NewRecord::Status(e) => &e.label_id,
        }
    }
}

/// Row counts, for operators and tests ("nothing stored").
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Log entries.
    pub entries: u64,
    /// Labels.
    pub labels: u64,
    /// Status facts.
    pub events: u64,
}

fn u64_of(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what} {v}")))
}

fn hash_of(bytes: Vec<u8>, what: &str) -> Result<Hash, StoreError> {
    Hash::from_slice(&bytes).map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))
}

/// Placeholder `n` (1-based) for generated many-parameter statements: `$n` for PostgreSQL,
/// plain `?` for SQLite, so every generated statement binds its parameters in order. Why not
/// `$n`/`?n` on SQLite: sqlx asks `sqlite3_bind_parameter_name` for every parameter, which scans
/// the statement's list of named/numbered parameters, so binding a 3000-parameter batch insert
/// was quadratic (perf: 58% of append time, appends 5x slower); anonymous `?` parameters are not
/// in that list.
fn ph(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${n}"),
    }
}

/// `INSERT INTO <head> VALUES ($1,$2),($3,$4)...` for `rows` rows of `ncols` columns.
fn values_sql(backend: Backend, head: &str, ncols: usize, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {head} VALUES ");
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..ncols {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            sql.push_str(&ph(backend, n));
        }
        sql.push(')');
    }
    sql
}

async fn insert_many<T>(
    backend: Backend,
    conn: &mut AnyConnection,
    head: &str,
    ncols: usize,
    rows: &[T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'q T) -> AnyQuery<'q>,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks((MAX_PARAMS / ncols).max(1)) {
        let sql = values_sql(backend, head, ncols, chunk.len());
        let mut q = sqlx::query(&sql);
        for row in chunk {
            q = bind(q, row);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `$start,$start+1,...` (n placeholders).
fn placeholders(backend: Backend, start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| ph(backend, i))
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    ///
    /// `url`: `sqlite:///path/file.db` (or `sqlite:relative.db`) or
    /// `postgres://user:pass@host/db`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains("mode=") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            // Only the scheme: the rest may hold a password.
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(StoreError::Url(scheme.to_string()));
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            // While the database is away a request waits this long for a connection, then is
            // answered 503 (sqlx's default, 30 s, is the HTTP request timeout: the client got
            // a timeout instead of a refusal).
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers never block the sequencer; FULL: a commit is on disk
                        // before COMMIT returns, in WAL mode too.
                        sqlx::query("PRAGMA journal_mode=WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous=FULL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout=10000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool, backend })
    }

    /// The right to append to this database's log, held for as long as the returned lease
    /// lives. Two sequencers on one database would both append (the log's primary key keeps it
    /// from forking, but submissions fail and the two publish different checkpoints), so the
    /// second one is refused. PostgreSQL: a session advisory lock keyed by the schema in use,
    /// on a connection of its own that the lease keeps (the lock ends with the connection, so
    /// a killed process frees it). SQLite: the data directory's lock does this already; the
    /// lease holds nothing.
    pub async fn claim_sequencer(&self) -> Result<SequencerLease, StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(SequencerLease { _conn: None });
        }
        let mut conn = self.pool.acquire().await?.detach();
        let (got, schema): (bool, String) = sqlx::query_as(
            "SELECT pg_try_advisory_lock($1, hashtext(current_schema())), current_schema()::text",
        )
        .bind(SEQUENCER_LOCK_CLASS)
        .fetch_one(&mut conn)
        .await?;
        if !got {
            return Err(StoreError::SequencerTaken(schema));
        }
        Ok(SequencerLease { _conn: Some(conn) })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- assessors (operator) ----

    /// Registers an assessor key. Registering the same key twice is refused.
    pub async fn register_assessor(
        &self,
        name: &str,
        key: &label::VerifyingKey,
    ) -> Result<label::KeyId, StoreError> {
        let kid = label::KeyId::of(key);
        sqlx::query("INSERT INTO assessors (kid, public_key, name, registered_at, retired_at) VALUES ($1, $2, $3, $4, NULL)")
            .bind(kid.to_string())
            .bind(key.as_bytes().to_vec())
            .bind(name)
            .bind(label::rfc3339(time::OffsetDateTime::now_utc()))
            .execute(&self.pool)
            .await?;
        Ok(kid)
    }

    /// Retires an assessor key: labels and statements it signs are refused from now on.
    /// Returns false when no such key is registered.
    pub async fn retire_assessor(&self, kid: &str) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE assessors SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL",
        )
        .bind(label::rfc3339(time::OffsetDateTime::now_utc()))
        .bind(kid)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    fn assessor_of(row: &AnyRow) -> Result<AssessorRecord, StoreError> {
        let raw: Vec<u8> = row.try_get("public_key")?;
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| StoreError::Corrupt("assessor key is not 32 bytes".into()))?;
        Ok(AssessorRecord {
            kid: row.try_get("kid")?,
            key: label::VerifyingKey::from_bytes(&raw)
                .map_err(|_| StoreError::Corrupt("assessor key is not an Ed25519 point".into()))?,
            name: row.try_get("name")?,
            registered_at: row.try_get("registered_at")?,
            retired_at: row.try_get("retired_at")?,
        })
    }

    /// The assessor with this key id.
    pub async fn assessor(&self, kid: &str) -> Result<Option<AssessorRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT kid, public_key, name, registered_at, retired_at FROM assessors WHERE kid = $1",
        )
        .bind(kid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::assessor_of).transpose()
    }

    /// Every registered assessor, by key id.
    pub async fn assessors(&self) -> Result<Vec<AssessorRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, public_key, name, registered_at, retired_at FROM assessors ORDER BY kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::assessor_of).collect()
    }

    /// When the entry at `leaf_index` was logged (RFC 3339), if it exists.
    pub async fn logged_at(&self, leaf_index: u64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT logged_at FROM log_entries WHERE leaf_index = $1")
            .bind(
                i64::try_from(leaf_index)
                    .map_err(|_| StoreError::Corrupt("leaf index over i64".into()))?,
            )
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("logged_at").map_err(StoreError::from))
            .transpose()
    }

    // ---- operators ----

    /// Registers an operator key (see [`crate::statement`]: operator statements). Registering
    /// the same key twice is refused.
    pub async fn register_operator(
        &self,
        name: &str,
        key: &label::VerifyingKey,
    ) -> Result<label::KeyId, StoreError> {
        let kid = label::KeyId::of(key);
        sqlx::query("INSERT INTO operators (kid, public_key, name, registered_at, retired_at) VALUES ($1, $2, $3, $4, NULL)")
            .bind(kid.to_string())
            .bind(key.as_bytes().to_vec())
            .bind(name)
            .bind(label::rfc3339(time::OffsetDateTime::now_utc()))
            .execute(&self.pool)
            .await?;
        Ok(kid)
    }

    /// The operator key with this key id (same record shape as an assessor's).
    pub async fn operator(&self, kid: &str) -> Result<Option<AssessorRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT kid, public_key, name, registered_at, retired_at FROM operators WHERE kid = $1",
        )
        .bind(kid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::assessor_of).transpose()
    }

    /// Every registered operator key, by key id.
    pub async fn operators(&self) -> Result<Vec<AssessorRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, public_key, name, registered_at, retired_at FROM operators ORDER BY kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::assessor_of).collect()
    }

    // ---- the log ----

    /// Number of entries in the log.
    pub async fn log_size(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query("SELECT COALESCE(MAX(leaf_index) + 1, 0) AS n FROM log_entries")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        u64_of(n, "log size")
    }

    /// Row counts.
    pub async fn counts(&self) -> Result<Counts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM log_entries) AS e, (SELECT COUNT(*) FROM labels) AS l, (SELECT COUNT(*) FROM status_events) AS s",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Counts {
            entries: u64_of(row.try_get("e")?, "count")?,
            labels: u64_of(row.try_get("l")?, "count")?,
            events: u64_of(row.try_get("s")?, "count")?,
        })
    }

    /// The latest signed checkpoint, if any batch was ever committed.
    pub async fn checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row = sqlx::query("SELECT tree_size, root, signed_note FROM checkpoint WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(StoredCheckpoint {
                size: u64_of(r.try_get("tree_size")?, "tree size")?,
                root: hash_of(r.try_get("root")?, "checkpoint root")?,
                signed_note: r.try_get("signed_note")?,
            })
        })
        .transpose()
    }

    /// Reads stored subtree hashes, in the order asked. A missing node is an error.
    pub async fn read_nodes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        let mut found: HashMap<(u8, u64), Hash> = HashMap::with_capacity(nodes.len());
        for chunk in nodes.chunks(MAX_PARAMS / 2) {
            let cond = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(level = {} AND node_index = {})",
                        ph(self.backend, 2 * i + 1),
                        ph(self.backend, 2 * i + 2)
                    )
                })
                .collect::<Vec<_>>()
                .join(" OR ");
            let sql = format!("SELECT level, node_index, hash FROM tree_nodes WHERE {cond}");
            let mut q = sqlx::query(&sql);
            for n in chunk {
                q = q.bind(i64::from(n.level)).bind(n.index as i64);
            }
            for row in q.fetch_all(&self.pool).await? {
                let level: i64 = row.try_get("level")?;
                let index: i64 = row.try_get("node_index")?;
                found.insert(
                    (level as u8, u64_of(index, "node index")?),
                    hash_of(row.try_get("hash")?, "node hash")?,
                );
            }
        }
        nodes
            .iter()
            .map(|n| {
                found
                    .get(&(n.level, n.index))
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("missing tree node {n:?}")))
            })
            .collect()
    }

    /// Hashes at tree `level` for node indices `start..end` (a tile's contents), in order;
    /// fewer than asked when the tree does not have them yet.
    pub async fn level_hashes(
        &self,
        level: u8,
        start: u64,
        end: u64,
    ) -> Result<Vec<Hash>, StoreError> {
        let rows = sqlx::query("SELECT hash FROM tree_nodes WHERE level = $1 AND node_index >= $2 AND node_index < $3 ORDER BY node_index")
            .bind(i64::from(level))
            .bind(start as i64)
            .bind(end as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| hash_of(r.try_get("hash")?, "node hash"))
            .collect()
    }

    /// Log entries `start..end`, in order (fewer when the log is shorter).
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows = sqlx::query("SELECT entry FROM log_entries WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index")
            .bind(start as i64)
            .bind(end as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| r.try_get("entry").map_err(StoreError::from))
            .collect()
    }

    /// A [`HashReader`] over the nodes a set of proofs needs, fetched in one query.
    pub async fn prefetch(&self, nodes: Vec<NodeId>) -> Result<Prefetched, StoreError> {
        let hashes = self.read_nodes(&nodes).await?;
        Ok(Prefetched(nodes.into_iter().zip(hashes).collect()))
    }

    // ---- labels and facts ----

    fn label_of(row: &AnyRow) -> Result<LabelRecord, StoreError> {
        Ok(LabelRecord {
            label_id: row.try_get("label_id")?,
            leaf_index: u64_of(row.try_get("leaf_index")?, "leaf index")?,
            cose: row.try_get("entry")?,
            kid: row.try_get("kid")?,
        })
    }

    const LABEL_SELECT: &'static str = "SELECT l.label_id, l.leaf_index, l.kid, e.entry FROM labels l JOIN log_entries e ON e.leaf_index = l.leaf_index";

    /// The label with this id.
    pub async fn label_by_id(&self, id: &str) -> Result<Option<LabelRecord>, StoreError> {
        let sql = format!("{} WHERE l.label_id = $1", Self::LABEL_SELECT);
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::label_of).transpose()
    }

    /// The label with this id and its status facts (log order), in one query.
    pub async fn label_with_events(
        &self,
        id: &str,
    ) -> Result<Option<(LabelRecord, Vec<EventRecord>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT CAST(0 AS BIGINT) AS k, l.leaf_index, e.entry, l.kid, NULL AS event_json FROM labels l JOIN log_entries e ON e.leaf_index = l.leaf_index WHERE l.label_id = $1 \
             UNION ALL \
             SELECT CAST(1 AS BIGINT) AS k, s.leaf_index, e.entry, NULL AS kid, s.event_json FROM status_events s JOIN log_entries e ON e.leaf_index = s.leaf_index WHERE s.label_id = $2 \
             ORDER BY 1, 2",
        )
        .bind(id)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut label = None;
        let mut events = Vec::new();
        for row in rows {
            let k: i64 = row.try_get("k")?;
            let leaf_index = u64_of(row.try_get("leaf_index")?, "leaf index")?;
            if k == 0 {
                label = Some(LabelRecord {
                    label_id: id.to_string(),
                    leaf_index,
                    cose: row.try_get("entry")?,
                    kid: row.try_get::<Option<String>, _>("kid")?.unwrap_or_default(),
                });
            } else {
                let json: Option<String> = row.try_get("event_json")?;
                events.push(EventRecord {
                    leaf_index,
                    event: serde_json::from_str(json.as_deref().unwrap_or(""))
                        .map_err(|e| StoreError::Corrupt(format!("status event: {e}")))?,
                    statement: row.try_get("entry")?,
                });
            }
        }
        Ok(label.map(|l| (l, events)))
    }

    /// The label whose COSE bytes have this SHA-256 digest.
    pub async fn label_by_digest(
        &self,
        digest: &[u8; 32],
    ) -> Result<Option<LabelRecord>, StoreError> {
        let sql = format!("{} WHERE l.digest = $1", Self::LABEL_SELECT);
        let row = sqlx::query(&sql)
            .bind(digest.to_vec())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::label_of).transpose()
    }

    /// Labels naming a firmware image with this SHA-256, oldest first.
    pub async fn labels_by_image(&self, image: &[u8; 32]) -> Result<Vec<LabelRecord>, StoreError> {
        let sql = format!(
            "{} JOIN label_images i ON i.label_id = l.label_id WHERE i.image_sha256 = $1 ORDER BY l.leaf_index",
            Self::LABEL_SELECT
        );
        let rows = sqlx::query(&sql)
            .bind(image.to_vec())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Self::label_of).collect()
    }

    /// Labels naming this MUD URL, oldest first.
    pub async fn labels_by_mud_url(&self, url: &str) -> Result<Vec<LabelRecord>, StoreError> {
        let sql = format!(
            "{} WHERE l.mud_url = $1 ORDER BY l.leaf_index",
            Self::LABEL_SELECT
        );
        let rows = sqlx::query(&sql).bind(url).fetch_all(&self.pool).await?;
        rows.iter().map(Self::label_of).collect()
    }

    /// Labels by id or by digest, many at once (batch status). Missing ones are absent.
    pub async fn labels_by_ids(&self, ids: &[String]) -> Result<Vec<LabelRecord>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_PARAMS) {
            let sql = format!(
                "{} WHERE l.label_id IN ({})",
                Self::LABEL_SELECT,
                placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(Self::label_of(&row)?);
            }
        }
        Ok(out)
    }

    /// Labels by COSE digest, many at once.
    pub async fn labels_by_digests(
        &self,
        digests: &[[u8; 32]],
    ) -> Result<Vec<LabelRecord>, StoreError> {
        let mut out = Vec::with_capacity(digests.len());
        for chunk in digests.chunks(MAX_PARAMS) {
            let sql = format!(
                "{} WHERE l.digest IN ({})",
                Self::LABEL_SELECT,
                placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = q.bind(d.to_vec());
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(Self::label_of(&row)?);
            }
        }
        Ok(out)
    }

    /// Status facts about these labels, in log order.
    pub async fn events_for(&self, label_ids: &[String]) -> Result<Vec<EventRecord>, StoreError> {
        let mut out = Vec::new();
        for chunk in label_ids.chunks(MAX_PARAMS) {
            let sql = format!(
                "SELECT s.leaf_index, s.event_json, e.entry FROM status_events s JOIN log_entries e ON e.leaf_index = s.leaf_index WHERE s.label_id IN ({}) ORDER BY s.leaf_index",
                placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            for row in q.fetch_all(&self.pool).await? {
                let json: String = row.try_get("event_json")?;
                out.push(EventRecord {
                    leaf_index: u64_of(row.try_get("leaf_index")?, "leaf index")?,
                    event: serde_json::from_str(&json)
                        .map_err(|e| StoreError::Corrupt(format!("status event: {e}")))?,
                    statement: row.try_get("entry")?,
                });
            }
        }
        out.sort_by_key(|e| e.leaf_index);
        Ok(out)
    }

    /// Which of these entry digests are already logged.
    pub async fn known_digests(&self, digests: &[[u8; 32]]) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut out = Vec::new();
        for chunk in digests.chunks(MAX_PARAMS) {
            let sql = format!(
                "SELECT entry_digest FROM log_entries WHERE entry_digest IN ({})",
                placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = q.bind(d.to_vec());
            }
            for row in q.fetch_all(&self.pool).await? {
                let d: Vec<u8> = row.try_get("entry_digest")?;
                out.push(
                    d.try_into()
                        .map_err(|_| StoreError::Corrupt("entry digest is not 32 bytes".into()))?,
                );
            }
        }
        Ok(out)
    }

    /// Which of these label ids are already issued.
    pub async fn known_label_ids(&self, ids: &[&str]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(MAX_PARAMS) {
            let sql = format!(
                "SELECT label_id FROM labels WHERE label_id IN ({})",
                placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(row.try_get("label_id")?);
            }
        }
        Ok(out)
    }

    /// Appends a sequenced batch in ONE transaction: the entries (leaf indices `first..`), what
    /// they record, every subtree hash they completed, and the checkpoint that covers them.
    /// Either all of it is durable when this returns `Ok`, or none of it is stored.
    pub(crate) async fn append_batch(
        &self,
        first: u64,
        entries: &[NewEntry],
        nodes: &[(NodeId, Hash)],
        checkpoint: &StoredCheckpoint,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let result = self
            .append_batch_on(&mut conn, first, entries, nodes, checkpoint)
            .await;
        if result.is_err() {
            // A write that failed part-way (SQLite: disk full during COMMIT) can leave the
            // transaction open on its connection, holding the write lock, so every later
            // append on another connection waits out busy_timeout and fails. The connection
            // is closed rather than given back to the pool.
            let _ = sqlx::Connection::close(conn.detach()).await;
        }
        result
    }

    async fn append_batch_on(
        &self,
        conn: &mut AnyConnection,
        first: u64,
        entries: &[NewEntry],
        nodes: &[(NodeId, Hash)],
        checkpoint: &StoredCheckpoint,
    ) -> Result<(), StoreError> {
        let logged_at = label::rfc3339(time::OffsetDateTime::now_utc());
        let mut tx = sqlx::Connection::begin(conn).await?;
        let indexed: Vec<(i64, &NewEntry)> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| ((first + i as u64) as i64, e))
            .collect();
        insert_many(
            self.backend,
            &mut tx,
            "log_entries (leaf_index, entry, entry_digest, kind, label_id, logged_at)",
            6,
            &indexed,
            |q, (i, e)| {
                q.bind(*i)
                    .bind(e.entry.as_slice())
                    .bind(&e.digest[..])
                    .bind(e.record.kind())
                    .bind(e.record.label_id())
                    .bind(logged_at.as_str())
            },
        )
        .await?;
        let labels: Vec<(i64, &NewEntry, &str, &Option<String>)> = indexed
            .iter()
            .filter_map(|(i, e)| match &e.record {
                NewRecord::Label { kid, mud_url, .. } => Some((*i, *e, kid.as_str(), mud_url)),
                NewRecord::Status(_) => None,
            })
            .collect();
        insert_many(
            self.backend,
            &mut tx,
            "labels (label_id, leaf_index, digest, kid, mud_url)",
            5,
            &labels,
            |q, (i, e, kid, mud)| {
                q.bind(e.record.label_id())
                    .bind(*i)
                    .bind(&e.digest[..])
                    .bind(*kid)
                    .bind(mud.as_deref())
            },
        )
        .await?;
        let mut images: Vec<(&[u8; 32], &str)> = Vec::new();
        for e in entries {
            if let NewRecord::Label {
                label_id,
                images: imgs,
                ..
            } = &e.record
            {
                let mut seen = std::collections::HashSet::new();
                for img in imgs {
                    if seen.insert(img) {
                        images.push((img, label_id));
                    }
                }
            }
        }
        insert_many(
            self.backend,
            &mut tx,
            "label_images (image_sha256, label_id)",
            2,
            &images,
            |q, (img, id)| q.bind(&img[..]).bind(*id),
        )
        .await?;
        let events: Vec<(i64, String, &str)> = indexed
            .iter()
            .filter_map(|(i, e)| match &e.record {
                NewRecord::Status(ev) => Some((
                    *i,
                    serde_json::to_string(ev).expect("a status event serialises"),
                    ev.label_id.as_str(),
                )),
                NewRecord::Label { .. } => None,
            })
            .collect();
        insert_many(
            self.backend,
            &mut tx,
            "status_events (leaf_index, label_id, event_json)",
            3,
            &events,
            |q, (i, json, id)| q.bind(*i).bind(*id).bind(json.as_str()),
        )
        .await?;
        insert_many(
            self.backend,
            &mut tx,
            "tree_nodes (level, node_index, hash)",
            3,
            nodes,
            |q, (n, h)| {
                q.bind(i64::from(n.level))
                    .bind(n.index as i64)
                    .bind(&h.0[..])
            },
        )
        .await?;
        sqlx::query("INSERT INTO checkpoint (id, tree_size, root, signed_note) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET tree_size = excluded.tree_size, root = excluded.root, signed_note = excluded.signed_note")
            .bind(checkpoint.size as i64)
            .bind(checkpoint.root.0.to_vec())
            .bind(checkpoint.signed_note.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Bulk-loads leaf hashes and their subtree hashes WITHOUT entries (benchmarks only: a
    /// 10-million-leaf tree to prove from).
    #[doc(hidden)]
    pub async fn bulk_load_nodes(&self, nodes: &[(NodeId, Hash)]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_many(
            self.backend,
            &mut tx,
            "tree_nodes (level, node_index, hash)",
            3,
            nodes,
            |q, (n, h)| {
                q.bind(i64::from(n.level))
                    .bind(n.index as i64)
                    .bind(&h.0[..])
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Subtree hashes fetched ahead of a synchronous [`tlog`] proof computation.
#[derive(Debug, Default)]
pub struct Prefetched(HashMap<NodeId, Hash>);

impl HashReader for Prefetched {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError> {
        nodes
            .iter()
            .map(|n| {
                self.0
                    .get(n)
                    .copied()
                    .ok_or_else(|| StorageError::new(format!("node {n:?} was not fetched")))
            })
            .collect()
    }
}
