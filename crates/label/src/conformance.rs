//! Whether a label's assessment conforms to its baseline, computed from the signed verdicts and
//! the requirement catalog (`baseline` crate), never taken on the label's word.
//!
//! A label is a statement about a device; one whose device fails a provision its baseline
//! requires is no proof of security, however valid its signature. So every reader of a label
//! (`label verify`, the registry's answers, the consumer page) shows this outcome beside the
//! status, and only a label that is active **and** conformant reads as good.
//!
//! ## Rules
//! - A provision is *required* when the label's baseline is the embedded catalog (same id and
//!   version) and either the level is `mandatory` and the catalog marks the provision
//!   mandatory (`M` or `M C(..)`), or the level is `mandatory+recommended`. A provision the
//!   catalog does not know, a level other than those two, or another baseline: every provision
//!   listed counts as required (fail closed).
//! - **non-conformant**: at least one required provision has the verdict `fail`;
//! - **not-assessed**: the label lists no verdicts at all;
//! - **conformant** otherwise. Required provisions judged `cannot-tell` are reported as
//!   undecided beside it: a firmware analysis cannot decide provisions about the vendor's
//!   processes, and the words say so.
//!
//! The label may carry a signed `conformance` claim (`trustgate label issue` always writes
//! one); [`crate::Claims::validate`] refuses a label whose claim disagrees with what its
//! verdicts give, so a label cannot sign "conformant" over failing verdicts.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::claims::{Claims, Verdict};
use crate::status::Status;

/// The embedded requirement catalog, parsed once.
pub fn catalog() -> &'static baseline::Catalog {
    static CATALOG: OnceLock<baseline::Catalog> = OnceLock::new();
    CATALOG.get_or_init(baseline::Catalog::embedded)
}

/// The levels a label may claim.
pub const LEVELS: [&str; 2] = ["mandatory", "mandatory+recommended"];

/// Whether the claims' `baseline.id` / `baseline.version` name the embedded catalog. The
/// catalog's version reads `V2.1.1 (2020-06)`; a label writes `2.1.1` (a leading `V` and the
/// date in parentheses are accepted too).
pub fn is_embedded_baseline(id: &str, version: &str) -> bool {
    let c = catalog();
    if id != c.id {
        return false;
    }
    let core = |v: &str| {
        let v = v.trim();
        let v = v.split_once(" (").map_or(v, |(a, _)| a);
        v.strip_prefix(['V', 'v']).unwrap_or(v).to_string()
    };
    core(version) == core(&c.version)
}

/// The outcome of a label's assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// No required provision fails.
    Conformant,
    /// At least one required provision fails.
    NonConformant,
    /// The label lists no verdicts.
    NotAssessed,
}

impl Outcome {
    /// `conformant`, `non-conformant`, `not-assessed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Conformant => "conformant",
            Outcome::NonConformant => "non-conformant",
            Outcome::NotAssessed => "not-assessed",
        }
    }
}

/// The signed claim `conformance`: what the issuer states the assessment's outcome is, and
/// which required provisions fail. Must agree with the verdicts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConformanceClaim {
    /// The outcome.
    pub outcome: Outcome,
    /// The required provisions whose verdict is `fail`, in verdict order (empty unless
    /// non-conformant).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing: Vec<String>,
}

/// The outcome computed from a label's verdicts (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conformance {
    /// The outcome.
    pub outcome: Outcome,
    /// Required provisions that fail, in verdict order.
    pub failing: Vec<String>,
    /// Required provisions judged `cannot-tell`, in verdict order.
    pub undecided: Vec<String>,
    /// How many verdicts the label lists.
    pub assessed: usize,
    /// The level the outcome is judged at (the claims' `baseline.level`).
    pub level: String,
}

impl Conformance {
    /// Computes the outcome of `claims`' verdicts.
    pub fn of(claims: &Claims) -> Conformance {
        let embedded = is_embedded_baseline(&claims.baseline.id, &claims.baseline.version);
        let level = claims.baseline.level.as_str();
        let required = |provision: &str| -> bool {
            if !embedded || level != "mandatory" {
                return true;
            }
            catalog()
                .provision(provision)
                .is_none_or(|p| p.status.is_mandatory())
        };
        let mut failing = Vec::new();
        let mut undecided = Vec::new();
        for v in &claims.assessment.verdicts {
            if !required(&v.provision) {
                continue;
            }
            match v.verdict {
                Verdict::Fail => failing.push(v.provision.clone()),
                Verdict::CannotTell => undecided.push(v.provision.clone()),
                Verdict::Pass | Verdict::NotApplicable => {}
            }
        }
        let assessed = claims.assessment.verdicts.len();
        let outcome = if assessed == 0 {
            Outcome::NotAssessed
        } else if failing.is_empty() {
            Outcome::Conformant
        } else {
            Outcome::NonConformant
        };
        Conformance {
            outcome,
            failing,
            undecided,
            assessed,
            level: claims.baseline.level.clone(),
        }
    }

    /// The claim a label issued with these verdicts carries.
    pub fn claim(&self) -> ConformanceClaim {
        ConformanceClaim {
            outcome: self.outcome,
            failing: self.failing.clone(),
        }
    }

    /// Whether the assessment conforms.
    pub fn is_conformant(&self) -> bool {
        self.outcome == Outcome::Conformant
    }

    /// The outcome in plain English.
    pub fn plain_words(&self) -> String {
        match self.outcome {
            Outcome::Conformant => {
                let mut s = format!(
                    "Assessment: conforms — none of the {} assessed provisions required at level {} fails",
                    self.assessed, self.level
                );
                if !self.undecided.is_empty() {
                    s.push_str(&format!(
                        " ({} could not be decided: {})",
                        self.undecided.len(),
                        self.undecided.join(", ")
                    ));
                }
                s.push('.');
                s
            }
            Outcome::NonConformant => format!(
                "Assessment: does NOT conform — the device fails {} required provision(s): {}.",
                self.failing.len(),
                self.failing.join(", ")
            ),
            Outcome::NotAssessed => {
                "Assessment: not assessed — the label records no verdicts, so it says nothing about the device's security.".into()
            }
        }
    }

    /// The outcome in plain French.
    pub fn plain_words_fr(&self) -> String {
        match self.outcome {
            Outcome::Conformant => {
                let mut s = format!(
                    "Évaluation : conforme — aucune des {} dispositions évaluées exigées au niveau {} n'échoue",
                    self.assessed,
                    level_words_fr(&self.level)
                );
                if !self.undecided.is_empty() {
                    s.push_str(&format!(
                        " ({} n'ont pas pu être tranchées : {})",
                        self.undecided.len(),
                        self.undecided.join(", ")
                    ));
                }
                s.push('.');
                s
            }
            Outcome::NonConformant => format!(
                "Évaluation : NON conforme — l'appareil échoue à {} disposition(s) exigée(s) : {}.",
                self.failing.len(),
                self.failing.join(", ")
            ),
            Outcome::NotAssessed => {
                "Évaluation : non évalué — le label ne contient aucun verdict ; il ne dit rien de la sécurité de l'appareil.".into()
            }
        }
    }
}

/// A baseline level in French words (`mandatory` → « obligatoire »); an unknown level as it is.
pub fn level_words_fr(level: &str) -> String {
    match level {
        "mandatory" => "« obligatoire »".into(),
        "mandatory+recommended" => "« obligatoire et recommandé »".into(),
        other => other.to_string(),
    }
}

/// A support update mode (`support.update-mode`) in household words, English and French.
pub fn update_mode_words(mode: &str) -> (&'static str, &'static str) {
    match mode {
        "automatic" => ("installed automatically", "installées automatiquement"),
        "user-initiated" => (
            "installed when you accept them",
            "installées quand vous les acceptez",
        ),
        "manual" => (
            "downloaded and installed by hand",
            "à télécharger et installer vous-même",
        ),
        "none" => (
            "this device cannot be updated",
            "cet appareil ne peut pas être mis à jour",
        ),
        _ => ("update mode not stated", "mode de mise à jour non précisé"),
    }
}

/// Whether a relying party may treat the label as good: active and conformant.
pub fn is_good(status: &Status, conformance: &Conformance) -> bool {
    status.is_active() && conformance.is_conformant()
}

/// The label's status and its assessment's outcome in one English sentence or two. Never
/// starts with "Valid" unless the label is active and conformant.
pub fn summary_words(status: &Status, conformance: &Conformance) -> String {
    match (status, conformance.outcome) {
        (Status::Active, Outcome::Conformant) => format!(
            "Valid: the label is current, the device receives security updates, and it passed its assessment. {}",
            conformance.plain_words()
        ),
        (Status::Active, Outcome::NonConformant) => format!(
            "Does not conform: the label is genuine and current, but the device FAILED its assessment. {}",
            conformance.plain_words()
        ),
        (Status::Active, Outcome::NotAssessed) => format!(
            "Not assessed: the label is genuine and current, but records no assessment. {}",
            conformance.plain_words()
        ),
        (other, _) => format!("{} {}", other.plain_words(), conformance.plain_words()),
    }
}

/// [`summary_words`] in French.
pub fn summary_words_fr(status: &Status, conformance: &Conformance) -> String {
    match (status, conformance.outcome) {
        (Status::Active, Outcome::Conformant) => format!(
            "Valide : le label est en vigueur, l'appareil reçoit des mises à jour de sécurité et a réussi son évaluation. {}",
            conformance.plain_words_fr()
        ),
        (Status::Active, Outcome::NonConformant) => format!(
            "Non conforme : le label est authentique et en vigueur, mais l'appareil a ÉCHOUÉ à son évaluation. {}",
            conformance.plain_words_fr()
        ),
        (Status::Active, Outcome::NotAssessed) => format!(
            "Non évalué : le label est authentique et en vigueur, mais ne contient aucune évaluation. {}",
            conformance.plain_words_fr()
        ),
        (other, _) => format!("{} {}", other.plain_words_fr(), conformance.plain_words_fr()),
    }
}
