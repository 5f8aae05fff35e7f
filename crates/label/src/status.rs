//! Status rules: what a label means at a given instant, given its claims and
//! the registry's facts about it (revocations, supersessions, suspensions,
//! support-period changes — each a transparency-log entry upstream).
//!
//! ## Precedence
//! When several conditions hold at once, the first one in this list wins:
//!
//! 1. **revoked** (with the reason of the earliest revocation) — final;
//! 2. **superseded** (by the earliest superseding label id) — final;
//! 3. **suspended** — the latest suspend/reinstate fact decides;
//! 4. **expired** (`at > validity.not-after`) or **not-yet-valid**
//!    (`at < validity.not-before`) — the label's own period;
//! 5. **support-ended** — `at >=` the start (00:00:00 UTC) of the day after
//!    the support end date, using the latest support-end-changed fact in
//!    force, else the claimed date;
//! 6. **active**.
//!
//! Registry decisions outrank the calendar because they carry information the
//! claims cannot (a revoked label must never read as merely "expired").
//! Facts count only if they name this label's id and happened at or before
//! `at`, so a status can be computed for any past instant.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::claims::{day_after_start, Claims};

/// The status of a label at an instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Status {
    /// Valid and supported.
    Active,
    /// Valid, but the security-update support period is over.
    SupportEnded,
    /// Temporarily withdrawn by the registry.
    Suspended,
    /// Permanently withdrawn.
    Revoked {
        /// Why.
        reason: String,
    },
    /// Replaced by a newer label.
    Superseded {
        /// The id of the newer label.
        by: String,
    },
    /// Before `validity.not-before`.
    NotYetValid,
    /// After `validity.not-after`.
    Expired,
}

impl Status {
    /// Whether a relying party may treat the device as labelled and supported.
    pub fn is_active(&self) -> bool {
        matches!(self, Status::Active)
    }

    /// The status in plain words, for consumer pages.
    pub fn plain_words(&self) -> String {
        match self {
            Status::Active => {
                "Valid: the label is current and the device receives security updates.".into()
            }
            Status::SupportEnded => {
                "Support has ended: the manufacturer no longer promises security updates.".into()
            }
            Status::Suspended => {
                "Suspended: the registry has paused this label while it investigates.".into()
            }
            Status::Revoked { reason } => {
                format!("Revoked: this label no longer applies ({reason}).")
            }
            Status::Superseded { by } => format!("Replaced by a newer label ({by})."),
            Status::NotYetValid => {
                "Not yet valid: the label's validity period has not started.".into()
            }
            Status::Expired => "Expired: the label's validity period is over.".into(),
        }
    }

    /// The status in plain French, for consumer pages.
    pub fn plain_words_fr(&self) -> String {
        match self {
            Status::Active => {
                "Valide : le label est en vigueur et l'appareil reçoit des mises à jour de sécurité.".into()
            }
            Status::SupportEnded => {
                "Support terminé : le fabricant ne promet plus de mises à jour de sécurité.".into()
            }
            Status::Suspended => {
                "Suspendu : le registre a mis ce label en pause le temps d'une enquête.".into()
            }
            Status::Revoked { reason } => {
                format!("Révoqué : ce label ne s'applique plus ({reason}).")
            }
            Status::Superseded { by } => format!("Remplacé par un label plus récent ({by})."),
            Status::NotYetValid => {
                "Pas encore valide : la période de validité du label n'a pas commencé.".into()
            }
            Status::Expired => "Expiré : la période de validité du label est terminée.".into(),
        }
    }
}

/// One registry fact about a label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StatusEvent {
    /// The label the fact is about.
    pub label_id: String,
    /// When the fact took effect.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    pub kind: StatusEventKind,
}

/// What a registry fact says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum StatusEventKind {
    /// Permanently withdrawn.
    Revoked {
        /// Why.
        reason: String,
    },
    /// Replaced by another label.
    Superseded {
        /// The new label's id.
        by: String,
    },
    /// Temporarily withdrawn.
    Suspended,
    /// A suspension lifted.
    Reinstated,
    /// The manufacturer changed the support end date.
    SupportEndChanged {
        /// The new last supported day (`YYYY-MM-DD`).
        #[serde(with = "crate::claims::date_text")]
        end_date: Date,
    },
}

/// The status of `label` at `at`, given the registry's facts.
/// See the module documentation for the precedence.
pub fn status(label: &Claims, at: OffsetDateTime, registry_facts: &[StatusEvent]) -> Status {
    // Facts in force: this label, effective at or before `at`. A stable sort
    // by time keeps slice order among facts with equal times.
    let mut facts: Vec<&StatusEvent> = registry_facts
        .iter()
        .filter(|e| e.label_id == label.id && e.at <= at)
        .collect();
    facts.sort_by_key(|e| e.at);

    if let Some(reason) = facts.iter().find_map(|e| match &e.kind {
        StatusEventKind::Revoked { reason } => Some(reason.clone()),
        _ => None,
    }) {
        return Status::Revoked { reason };
    }
    if let Some(by) = facts.iter().find_map(|e| match &e.kind {
        StatusEventKind::Superseded { by } => Some(by.clone()),
        _ => None,
    }) {
        return Status::Superseded { by };
    }
    let suspended = facts
        .iter()
        .rev()
        .find_map(|e| match e.kind {
            StatusEventKind::Suspended => Some(true),
            StatusEventKind::Reinstated => Some(false),
            _ => None,
        })
        .unwrap_or(false);
    if suspended {
        return Status::Suspended;
    }
    if at < label.validity.not_before {
        return Status::NotYetValid;
    }
    if at > label.validity.not_after {
        return Status::Expired;
    }
    let end_date = facts
        .iter()
        .rev()
        .find_map(|e| match e.kind {
            StatusEventKind::SupportEndChanged { end_date } => Some(end_date),
            _ => None,
        })
        .unwrap_or(label.support.end_date);
    if at >= day_after_start(end_date) {
        return Status::SupportEnded;
    }
    Status::Active
}
