//! The requirement catalog: ETSI EN 303 645 V2.1.1 provisions, and the UK PSTI (2023) and
//! NIST IR 8425 requirements mapped onto them, kept as data files and loaded into a
//! schema-checked model.
//!
//! This crate owns:
//! - the data files in `data/` (embedded with `include_str!`), with our own one-line
//!   paraphrases (never the standards' wording) and `notes` wherever a detail could not be
//!   confirmed against a source;
//! - the loader ([`Catalog::embedded`], [`Catalog::from_json`], [`Catalog::load`]) that
//!   rejects malformed or inconsistent catalogs with an error naming the file and the entry;
//! - lookups ([`Catalog::provision`], [`Catalog::mandatory`], [`Catalog::by_group`],
//!   [`Catalog::mapped_from`], [`Catalog::mappings_to`]) and a plain-text
//!   [`render_table`].
//!
//! It must not contain check logic: deciding whether a firmware image or a vendor meets a
//! provision belongs to the `assess` crate, which refers to provisions by id through this
//! catalog.
//!
//! ```
//! let catalog = baseline::Catalog::embedded();
//! let p = catalog.provision("5.3-13").unwrap();
//! assert!(p.status.is_mandatory() && !p.status.is_conditional());
//! let psti = catalog.mapped_from("uk-psti", "1").unwrap();
//! assert_eq!(psti.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["5.1-1", "5.1-2"]);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod model;
mod render;

pub use model::{
    Catalog, CatalogError, Condition, Framework, Group, Level, Mapping, Provision, Requirement,
    Status, Strength,
};
pub use render::render_table;

/// Paths (relative to this crate) and contents of the embedded data files.
pub mod data {
    /// ETSI EN 303 645 V2.1.1 provisions.
    pub const ETSI_EN_303_645: (&str, &str) = (
        "crates/baseline/data/etsi_en_303_645_v2.1.1.json",
        include_str!("../data/etsi_en_303_645_v2.1.1.json"),
    );
    /// UK PSTI Regulations 2023, Schedule 1 requirements.
    pub const UK_PSTI: (&str, &str) = (
        "crates/baseline/data/uk_psti_2023.json",
        include_str!("../data/uk_psti_2023.json"),
    );
    /// NIST IR 8425 consumer IoT outcomes.
    pub const NIST_IR_8425: (&str, &str) = (
        "crates/baseline/data/nist_ir_8425.json",
        include_str!("../data/nist_ir_8425.json"),
    );
}
