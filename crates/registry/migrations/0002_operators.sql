-- Registry operator keys: they sign operator statements (revoke, suspend, reinstate any label,
-- e.g. one whose assessor key was retired after a compromise). kid = label::KeyId (16 hex chars).
CREATE TABLE operators (
    kid           TEXT PRIMARY KEY,
    public_key    BYTEA NOT NULL,
    name          TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    retired_at    TEXT
);
