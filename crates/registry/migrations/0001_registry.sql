-- One schema for SQLite and PostgreSQL (the same file runs on both).
-- Portable choices: BIGINT for every integer (PostgreSQL int8; SQLite integer affinity),
-- BYTEA for bytes (PostgreSQL bytea; SQLite stores blobs unchanged under numeric affinity),
-- TEXT timestamps in RFC 3339 UTC.

-- Assessor keys registered by the operator. kid = label::KeyId (16 hex chars).
CREATE TABLE assessors (
    kid           TEXT PRIMARY KEY,
    public_key    BYTEA NOT NULL,
    name          TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    retired_at    TEXT
);

-- The transparency log: entry i is leaf i (RFC 9162 §2.1.1 leaf hash SHA-256(0x00 || entry)).
-- entry is the exact COSE_Sign1 bytes submitted; entry_digest = SHA-256(entry) guards replays.
CREATE TABLE log_entries (
    leaf_index   BIGINT PRIMARY KEY,
    entry        BYTEA NOT NULL,
    entry_digest BYTEA NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    label_id     TEXT NOT NULL,
    logged_at    TEXT NOT NULL
);

-- Every perfect subtree hash the log has completed (tlog::TreeBuilder reports them).
-- Level 8*L rows are exactly the C2SP tlog-tiles tile contents at tile level L.
CREATE TABLE tree_nodes (
    level      BIGINT NOT NULL,
    node_index BIGINT NOT NULL,
    hash       BYTEA NOT NULL,
    PRIMARY KEY (level, node_index)
);

-- Issued labels (kind = 'label' entries), indexed for the three lookups.
CREATE TABLE labels (
    label_id   TEXT PRIMARY KEY,
    leaf_index BIGINT NOT NULL UNIQUE,
    digest     BYTEA NOT NULL UNIQUE,
    kid        TEXT NOT NULL,
    mud_url    TEXT
);
CREATE INDEX labels_by_mud_url ON labels (mud_url);

CREATE TABLE label_images (
    image_sha256 BYTEA NOT NULL,
    label_id     TEXT NOT NULL,
    PRIMARY KEY (image_sha256, label_id)
);

-- Status facts (kind = 'status' entries): label::StatusEvent as JSON.
CREATE TABLE status_events (
    leaf_index BIGINT PRIMARY KEY,
    label_id   TEXT NOT NULL,
    event_json TEXT NOT NULL
);
CREATE INDEX status_events_by_label ON status_events (label_id);

-- The latest signed checkpoint (C2SP tlog-checkpoint note), committed with the entries it covers.
CREATE TABLE checkpoint (
    id          BIGINT PRIMARY KEY,
    tree_size   BIGINT NOT NULL,
    root        BYTEA NOT NULL,
    signed_note TEXT NOT NULL
);
