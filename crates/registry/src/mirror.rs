//! The log's read side as plain files: the C2SP checkpoint, the tlog-tiles hash tiles and the
//! entry bundles, written under a directory as the sequencer publishes each checkpoint, so
//! any static web server, object store or CDN can serve the log (`registry serve
//! --static-dir DIR`; the registry's own `/checkpoint` and `/tile/…` routes keep working).
//!
//! # Storage contract
//!
//! - `DIR/tile/<L>/<N>[.p/<W>]` and `DIR/tile/entries/<N>[.p/<W>]` hold exactly the bytes the
//!   registry's `/tile/…` route answers for that path. A file, once written, never changes
//!   (full tiles are final; a partial tile of width W is the first W hashes forever), so a
//!   server may mark everything under `tile/` immutable.
//! - `DIR/checkpoint` is the signed note of a published checkpoint, and every tile and bundle
//!   it needs is written before it: a reader never sees a checkpoint whose tiles are missing.
//!   It is replaced (write to a temporary file, rename) with each new checkpoint: serve it
//!   with `Cache-Control: no-cache`.
//! - A write that fails (disk full) leaves the previous checkpoint in place; the next
//!   checkpoint writes everything since the last one written.

use std::path::{Path, PathBuf};

use tlog::tile::{encode_entry_bundle, new_tiles, EntryBundle, Tile, TILE_HEIGHT};

use crate::service::Service;
use crate::store::{Store, StoreError};

/// Why a checkpoint's files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// Reading the tree from the database failed.
    #[error("reading the log: {0}")]
    Store(#[from] StoreError),
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database holds fewer hashes than the checkpoint needs.
    #[error("{0} is not complete in the database")]
    Short(String),
}

/// Write the files of every checkpoint `service` publishes, from now on, under `dir` (the
/// current one first, in full). Runs until the service stops; failures are logged and
/// retried with the next checkpoint.
pub fn spawn(service: Service, dir: PathBuf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut updates = service.checkpoints();
        let mut written = 0u64;
        loop {
            let cp = updates.borrow_and_update().clone();
            match write_checkpoint(service.store(), &dir, written, cp.size, &cp.signed_note).await {
                Ok(()) => written = cp.size,
                Err(e) => tracing::error!(error = %e, dir = %dir.display(),
                    "static tiles not written; retried with the next checkpoint"),
            }
            if updates.changed().await.is_err() {
                return;
            }
        }
    })
}

/// Write the tiles and bundles that change from tree size `old` to `new`, then the
/// checkpoint (`note`, for size `new`).
pub async fn write_checkpoint(
    store: &Store,
    dir: &Path,
    old: u64,
    new: u64,
    note: &str,
) -> Result<(), MirrorError> {
    for tile in new_tiles(old.min(new), new) {
        let level = u32::from(tile.level) * u32::from(TILE_HEIGHT);
        let range = tile
            .hash_range()
            .map_err(|e| MirrorError::Short(e.to_string()))?;
        let hashes = store
            .level_hashes(level as u8, range.start, range.end)
            .await?;
        if hashes.len() != usize::from(tile.width) {
            return Err(MirrorError::Short(tile.path()));
        }
        let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
        write_file(dir, &tile.path(), &bytes)?;
        if tile.level == 0 {
            write_bundle(store, dir, &tile).await?;
        }
    }
    write_file(dir, "checkpoint", note.as_bytes())
}

async fn write_bundle(store: &Store, dir: &Path, tile: &Tile) -> Result<(), MirrorError> {
    let b = EntryBundle {
        index: tile.index,
        width: tile.width,
    };
    let range = b
        .entry_range()
        .map_err(|e| MirrorError::Short(e.to_string()))?;
    let entries = store.entries(range.start, range.end).await?;
    if entries.len() != usize::from(b.width) {
        return Err(MirrorError::Short(b.path()));
    }
    let bytes = encode_entry_bundle(&entries).map_err(|e| MirrorError::Short(e.to_string()))?;
    write_file(dir, &b.path(), &bytes)
}

/// Write `rel` under `dir` whole or not at all (a temporary file renamed over it).
fn write_file(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), MirrorError> {
    let path = dir.join(rel);
    let err = |source| MirrorError::Write {
        path: path.clone(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)
}
