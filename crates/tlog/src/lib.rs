//! `tlog` — the transparency log's formats and proofs, as the standards define them.
//!
//! # What this crate owns
//!
//! - **RFC 9162 §2.1 Merkle trees** ([`hash`]): leaf hash `SHA-256(0x00 || entry)`, node hash
//!   `SHA-256(0x01 || left || right)`, the Merkle Tree Hash with the largest-power-of-two split.
//! - **Proofs** ([`proof`]): inclusion proofs (RFC 9162 §2.1.3) and consistency proofs
//!   (§2.1.4), generated from stored *perfect subtree* hashes through the [`HashReader`] trait
//!   (`O(log n)` hashes in one batch per proof) and verified by the RFC's own step-by-step
//!   algorithms (§2.1.3.2, §2.1.4.2) with typed errors ([`VerifyError`]).
//! - **Sequencing** ([`builder`]): [`TreeBuilder`], the compact right edge of the tree, which
//!   reports each perfect subtree an append completes so storage can persist exactly those.
//! - **Signed notes and checkpoints** ([`note`], [`checkpoint`]): C2SP signed-note with Ed25519
//!   keys (`vkey` strings, key IDs), C2SP tlog-checkpoint bodies, [`LogVerifier`].
//! - **Tiles** ([`tile`]): C2SP tlog-tiles paths (`tile/<L>/<N>[.p/<W>]`), tile contents, entry
//!   bundles, which tiles a tree or proof needs, and [`TileHashReader`] to prove from tiles.
//! - **Offline proof bundles** ([`bundle`]): entry + index + inclusion proof + signed checkpoint,
//!   JSON, verified with only the log's key.
//! - **A reference in-memory log** ([`MemoryLog`]) for tests and tools.
//!
//! # What it must not do
//!
//! It does not choose a storage engine (storage stays behind [`HashReader`] and [`TileReader`];
//! the registry crate keeps the hashes in its database), speaks no HTTP and performs no I/O of any
//! kind: the tlog-tiles *HTTP* API is served by the registry from what this crate computes.
//!
//! # Trust
//!
//! A proof binds an entry (or an old tree) to a root. It is the signed checkpoint that binds the
//! root to a tree size and to the log: always take size and root together from one checkpoint
//! verified with [`LogVerifier::verify_checkpoint`], as [`bundle::verify`] does.
//!
//! # Example: log, checkpoint, bundle, offline verification
//!
//! ```
//! use tlog::{Checkpoint, LogVerifier, MemoryLog, NoteSigner, ProofBundle};
//!
//! let mut log = MemoryLog::new();
//! for label in ["label a", "label b", "label c"] {
//!     log.append(label.as_bytes());
//! }
//! // The log operator signs a checkpoint (C2SP tlog-checkpoint in a signed note).
//! let signer = NoteSigner::from_seed("log.example/labels", &[1; 32]).unwrap();
//! let checkpoint = Checkpoint::new("log.example/labels", log.size(), log.root());
//! let signed = checkpoint.sign(&[&signer]).unwrap();
//!
//! // A bundle for entry 1, as JSON.
//! let bundle = ProofBundle::build(b"label b".to_vec(), 1, &checkpoint, signed, &log).unwrap();
//! let json = bundle.to_json();
//!
//! // Anyone holding only the log's verifier key checks it, with no network.
//! let vkey = signer.verifier_key().to_string(); // "log.example/labels+<id>+<base64>"
//! let log_key = LogVerifier::parse(&vkey).unwrap();
//! let verified = tlog::verify(&ProofBundle::from_json(&json).unwrap(), &log_key).unwrap();
//! assert_eq!(verified.entry, b"label b");
//! assert_eq!(verified.checkpoint.size, 3);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod builder;
pub mod bundle;
pub mod checkpoint;
pub mod hash;
pub mod memory;
pub mod note;
pub mod proof;
pub mod tile;

pub use builder::{right_edge_nodes, BuilderError, TreeBuilder};
pub use bundle::{
    verify, BundleError, BundledEntry, ProofBundle, VerifiedEntry, VerifiedStatement, BUNDLE_FORMAT,
};
pub use checkpoint::{Checkpoint, CheckpointError, LogVerifier};
pub use hash::{leaf_hash, node_hash, root_from_leaf_hashes, Hash, EMPTY_ROOT, HASH_SIZE};
pub use memory::MemoryLog;
pub use note::{Note, NoteError, NoteSignature, NoteSigner, VerifiedNote, VerifierKey};
pub use proof::{
    prove_consistency, prove_inclusion, root_from_inclusion_proof, tree_root, verify_consistency,
    verify_inclusion, HashReader, NodeId, ProofError, ProofPlan, StorageError, VerifyError,
};
pub use tile::{Tile, TileHashReader, TileReader};
