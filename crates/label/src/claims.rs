//! The label claim set (what a security label says about a device), as serde types.
//!
//! One set of types serves both renderings:
//! - **JSON** (for people and the web): `serde_json`, kebab-case keys, and
//!   `deny_unknown_fields` on every struct so a misspelt or unknown field is
//!   refused with a message naming it, never silently dropped.
//! - **CBOR** (the signed payload): the same serde tree, encoded with RFC 8949
//!   §4.2.1 core deterministic encoding by [`crate::cbor`].
//!
//! Representation choices, identical in both renderings:
//! - SHA-256 digests are 64 lowercase hex characters ([`Sha256Digest`]).
//! - Instants are RFC 3339 text in UTC (`2026-01-01T00:00:00Z`); calendar
//!   dates are ISO 8601 `YYYY-MM-DD` text. No CBOR floats or tags appear in the
//!   payload, so §4.2.1's float rules never apply.
//! - Optional fields are omitted when absent (never `null`), so a claim set has
//!   exactly one encoding.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, OffsetDateTime};

use crate::conformance::{Conformance, ConformanceClaim};
use crate::error::ClaimsError;

/// The schema identifier this crate writes and the only one it accepts.
pub const SCHEMA_V1: &str = "trustgate-label/1";

/// The complete claim set of one label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Claims {
    /// Label identifier, unique within the registry (e.g. a URN or UUID).
    pub id: String,
    /// Schema version string; must equal [`SCHEMA_V1`].
    pub schema: String,
    /// The registry or scheme under which the label is issued.
    pub issuer: String,
    /// Who assessed the device and signs the label.
    pub assessor: Assessor,
    /// Who made the device.
    pub manufacturer: Manufacturer,
    /// What device this label is about.
    pub product: Product,
    /// The software images the assessment covered (at least one).
    pub software: Vec<SoftwareVersion>,
    /// The requirement catalogue the device was assessed against.
    pub baseline: Baseline,
    /// How, when, and with what result the device was assessed.
    pub assessment: Assessment,
    /// The assessment's outcome as the issuer states it; must agree with the verdicts
    /// (see [`crate::conformance`]). `trustgate label issue` always writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformance: Option<ConformanceClaim>,
    /// The security-update support period.
    pub support: Support,
    /// How to report a vulnerability (ETSI EN 303 645 provision 5.2-1).
    pub vulnerability_disclosure: VulnerabilityDisclosure,
    /// How the device's credentials are set (ETSI EN 303 645 provision 5.1-1).
    pub credentials_policy: CredentialsPolicy,
    /// What personal data the device handles and where the policy lives.
    pub data_practices: DataPractices,
    /// SHA-256 of the software bill of materials document, if one was supplied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom_sha256: Option<Sha256Digest>,
    /// The device's declared network behaviour.
    pub network_profile: NetworkProfile,
    /// The period in which the label itself may be relied on.
    pub validity: Validity,
}

/// The assessor (signer) of the label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Assessor {
    /// Assessor's name.
    pub name: String,
    /// Accreditation reference (e.g. an ISO/IEC 17025 accreditation number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accreditation: Option<String>,
}

/// The manufacturer and its security contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Manufacturer {
    /// Manufacturer's name.
    pub name: String,
    /// Where security matters reach the manufacturer (mailto: or https: URI).
    pub security_contact: String,
}

/// The labelled product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Product {
    /// Model name or number.
    pub model: String,
    /// Hardware revision.
    pub hardware_revision: String,
}

/// One software image covered by the assessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SoftwareVersion {
    /// Component name (e.g. `firmware`, `bootloader`).
    pub component: String,
    /// Version string as the vendor publishes it.
    pub version: String,
    /// SHA-256 of the exact image assessed.
    pub image_sha256: Sha256Digest,
}

/// The baseline and the level met.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Baseline {
    /// Catalogue identifier (e.g. `etsi-en-303-645`).
    pub id: String,
    /// Catalogue version (e.g. `2.1.1`).
    pub version: String,
    /// Level claimed (e.g. `mandatory`, `mandatory+recommended`).
    pub level: String,
}

/// How and when the device was assessed, with one verdict per provision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Assessment {
    /// Method (e.g. `firmware-analysis`, `lab-test`, `self-declaration`).
    pub method: String,
    /// Date the assessment finished.
    #[serde(with = "date_text")]
    pub date: Date,
    /// One entry per provision; provision ids are unique.
    pub verdicts: Vec<ProvisionVerdict>,
}

/// The verdict on one baseline provision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProvisionVerdict {
    /// Provision id within the baseline (e.g. `5.1-1`).
    pub provision: String,
    /// The verdict.
    pub verdict: Verdict,
    /// SHA-256 digests of the evidence documents backing the verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Sha256Digest>,
}

/// The four verdicts an assessment can reach on one provision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The device meets the provision.
    Pass,
    /// The device does not meet the provision.
    Fail,
    /// The evidence available does not decide it.
    CannotTell,
    /// The provision's condition does not hold for this device.
    NotApplicable,
}

/// The security-update support period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Support {
    /// Last calendar day (UTC) on which security updates are promised.
    /// Support has ended from 00:00:00 UTC of the following day; see
    /// [`Support::ended_at`].
    #[serde(with = "date_text")]
    pub end_date: Date,
    /// How updates reach the device.
    pub update_mode: UpdateMode,
}

impl Support {
    /// The first instant at which support has ended: the start (00:00:00 UTC)
    /// of the day after [`Support::end_date`]. The end date itself is covered.
    pub fn ended_at(&self) -> OffsetDateTime {
        day_after_start(self.end_date)
    }
}

pub(crate) fn day_after_start(d: Date) -> OffsetDateTime {
    match d.next_day() {
        Some(next) => next.midnight().assume_utc(),
        // Date::MAX: support never ends within representable time.
        None => Date::MAX.with_hms(23, 59, 59).expect("valid").assume_utc(),
    }
}

/// How security updates are delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateMode {
    /// Installed without user action.
    Automatic,
    /// Offered to the user, who installs them.
    UserInitiated,
    /// Only by manual download and installation.
    Manual,
    /// The device cannot be updated.
    None,
}

/// Where vulnerabilities are reported; at least one field is present.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct VulnerabilityDisclosure {
    /// Disclosure policy page (https:).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Contact address (mailto: or https: URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// How the device's authentication credentials are established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialsPolicy {
    /// A unique password or key per device, set at manufacture.
    UniquePerDevice,
    /// The user must set a credential before use.
    UserSet,
    /// The device has no credentials (no authenticated interface).
    None,
}

/// What the device does with personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DataPractices {
    /// Whether the device or its service processes personal data.
    pub personal_data: bool,
    /// Whether the user can delete their data (ETSI EN 303 645 provision 5.11-1).
    pub user_deletion: bool,
    /// Privacy policy page (https:).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_url: Option<String>,
}

/// The device's network profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NetworkProfile {
    /// RFC 8520 MUD URL (must be https:, RFC 8520 §3.1), if the device emits one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mud_url: Option<String>,
}

/// The period during which the label may be relied on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Validity {
    /// First instant the label is valid (inclusive).
    #[serde(with = "instant_text")]
    pub not_before: OffsetDateTime,
    /// Last instant the label is valid (inclusive, as RFC 5280 §4.1.2.5 notAfter).
    #[serde(with = "instant_text")]
    pub not_after: OffsetDateTime,
}

/// A SHA-256 digest, rendered as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        Self(Sha256::digest(data).into())
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

impl std::str::FromStr for Sha256Digest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "SHA-256 digest must be 64 lowercase hex characters, got {s:?}"
            ));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|e| e.to_string())?;
        Ok(Self(out))
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// ISO 8601 calendar dates as `YYYY-MM-DD` text, in JSON and CBOR alike.
pub(crate) mod date_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::{macros::format_description, Date};

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        let text = d.format(FORMAT).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s, FORMAT).map_err(|e| {
            serde::de::Error::custom(format!("date must be YYYY-MM-DD, got {s:?}: {e}"))
        })
    }
}

/// RFC 3339 instants, always written in UTC with a `Z` suffix and whole
/// seconds, so one instant has one encoding.
mod instant_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::{format_description::well_known::Rfc3339, OffsetDateTime, UtcOffset};

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let text = t
            .to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        let t = OffsetDateTime::parse(&s, &Rfc3339).map_err(|e| {
            serde::de::Error::custom(format!("instant must be RFC 3339, got {s:?}: {e}"))
        })?;
        if t.nanosecond() != 0 {
            return Err(serde::de::Error::custom(format!(
                "instant must have whole seconds, got {s:?}"
            )));
        }
        Ok(t.to_offset(UtcOffset::UTC))
    }
}

fn require_nonempty(field: &str, v: &str) -> Result<(), ClaimsError> {
    if v.trim().is_empty() {
        return Err(ClaimsError::Invalid(format!("`{field}` must not be empty")));
    }
    Ok(())
}

fn require_scheme(field: &str, v: &str, schemes: &[&str]) -> Result<(), ClaimsError> {
    if schemes
        .iter()
        .any(|s| v.len() > s.len() && v[..s.len()].eq_ignore_ascii_case(s))
    {
        Ok(())
    } else {
        Err(ClaimsError::Invalid(format!(
            "`{field}` must be a URI starting with {}, got {v:?}",
            schemes.join(" or ")
        )))
    }
}

impl Claims {
    /// Parse the JSON rendering. Unknown fields, wrong types and missing
    /// fields are refused with serde_json's message (it names the field and
    /// the line/column); the parsed claims are then [`validate`](Self::validate)d.
    pub fn from_json(text: &str) -> Result<Self, ClaimsError> {
        let claims: Claims =
            serde_json::from_str(text).map_err(|e| ClaimsError::Json(e.to_string()))?;
        claims.validate()?;
        Ok(claims)
    }

    /// The JSON rendering, pretty-printed, keys in kebab-case.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("claims always serialize")
    }

    /// Semantic checks beyond the types: schema, non-empty identities, at
    /// least one software image, unique provision ids, URI schemes, and
    /// `not-before <= not-after`.
    pub fn validate(&self) -> Result<(), ClaimsError> {
        if self.schema != SCHEMA_V1 {
            return Err(ClaimsError::Invalid(format!(
                "unsupported `schema` {:?}; expected {SCHEMA_V1:?}",
                self.schema
            )));
        }
        require_nonempty("id", &self.id)?;
        require_nonempty("issuer", &self.issuer)?;
        require_nonempty("assessor.name", &self.assessor.name)?;
        require_nonempty("manufacturer.name", &self.manufacturer.name)?;
        require_scheme(
            "manufacturer.security-contact",
            &self.manufacturer.security_contact,
            &["mailto:", "https://"],
        )?;
        require_nonempty("product.model", &self.product.model)?;
        require_nonempty("product.hardware-revision", &self.product.hardware_revision)?;
        if self.software.is_empty() {
            return Err(ClaimsError::Invalid(
                "`software` must list at least one image".into(),
            ));
        }
        for (i, sw) in self.software.iter().enumerate() {
            require_nonempty(&format!("software[{i}].component"), &sw.component)?;
            require_nonempty(&format!("software[{i}].version"), &sw.version)?;
        }
        require_nonempty("baseline.id", &self.baseline.id)?;
        require_nonempty("baseline.version", &self.baseline.version)?;
        require_nonempty("baseline.level", &self.baseline.level)?;
        require_nonempty("assessment.method", &self.assessment.method)?;
        let mut seen = BTreeSet::new();
        for v in &self.assessment.verdicts {
            require_nonempty("assessment.verdicts[].provision", &v.provision)?;
            if !seen.insert(v.provision.as_str()) {
                return Err(ClaimsError::Invalid(format!(
                    "provision {:?} has more than one verdict",
                    v.provision
                )));
            }
        }
        let vd = &self.vulnerability_disclosure;
        if vd.url.is_none() && vd.contact.is_none() {
            return Err(ClaimsError::Invalid(
                "`vulnerability-disclosure` needs a `url` or a `contact`".into(),
            ));
        }
        if let Some(u) = &vd.url {
            require_scheme("vulnerability-disclosure.url", u, &["https://"])?;
        }
        if let Some(c) = &vd.contact {
            require_scheme(
                "vulnerability-disclosure.contact",
                c,
                &["mailto:", "https://"],
            )?;
        }
        if let Some(u) = &self.data_practices.policy_url {
            require_scheme("data-practices.policy-url", u, &["https://"])?;
        }
        if let Some(u) = &self.network_profile.mud_url {
            require_scheme("network-profile.mud-url", u, &["https://"])?;
        }
        if self.validity.not_before > self.validity.not_after {
            return Err(ClaimsError::Invalid(
                "`validity.not-before` is after `validity.not-after`".into(),
            ));
        }
        if let Some(stated) = &self.conformance {
            let computed = self.conformance();
            let mut a = stated.failing.clone();
            let mut b = computed.failing.clone();
            a.sort();
            b.sort();
            if stated.outcome != computed.outcome || a != b {
                return Err(ClaimsError::Invalid(format!(
                    "`conformance` says {} (failing: [{}]), but the verdicts give {} (failing: [{}])",
                    stated.outcome.as_str(),
                    stated.failing.join(", "),
                    computed.outcome.as_str(),
                    computed.failing.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The assessment's outcome, computed from the verdicts (see [`crate::conformance`]).
    pub fn conformance(&self) -> Conformance {
        Conformance::of(self)
    }

    /// The checks made when a label is issued, beyond [`validate`](Self::validate) (which
    /// every reader repeats): dates that make sense at `now`, a baseline and level this
    /// program knows, provision ids from that baseline's catalog, and an outcome that
    /// conforms unless `allow_non_conformant`. Every problem is listed, each naming its field.
    pub fn check_issuable(
        &self,
        now: OffsetDateTime,
        allow_non_conformant: bool,
    ) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let today = now.date();
        let year = today.year() + MAX_YEARS_AHEAD;
        // 29 February has no counterpart in most years: use the 28th then.
        let horizon = today
            .replace_year(year)
            .or_else(|_| today.replace_day(28).and_then(|d| d.replace_year(year)))
            .unwrap_or(Date::MAX);
        let end = self.support.end_date;
        if end < today {
            problems.push(format!(
                "`support.end-date` {end} is in the past (today is {today}): a label for a device whose support has already ended cannot be issued"
            ));
        } else if end > horizon {
            problems.push(format!(
                "`support.end-date` {end} is more than {MAX_YEARS_AHEAD} years ahead (after {horizon}); give the date the manufacturer actually promises"
            ));
        }
        let na = self.validity.not_after;
        if na < now {
            problems.push(format!(
                "`validity.not-after` {} is in the past: the label would be expired when issued",
                na.date()
            ));
        } else if na.date() > horizon {
            problems.push(format!(
                "`validity.not-after` {} is more than {MAX_YEARS_AHEAD} years ahead (after {horizon})",
                na.date()
            ));
        }
        if self.assessment.date > today {
            problems.push(format!(
                "`assessment.date` {} is in the future (today is {today})",
                self.assessment.date
            ));
        }
        if !crate::conformance::is_embedded_baseline(&self.baseline.id, &self.baseline.version) {
            let c = crate::conformance::catalog();
            problems.push(format!(
                "`baseline` {} {} is not a catalog this program knows; use id {:?} and version \"2.1.1\" ({})",
                self.baseline.id, self.baseline.version, c.id, c.version
            ));
        } else {
            let catalog = crate::conformance::catalog();
            for v in &self.assessment.verdicts {
                if catalog.provision(&v.provision).is_none() {
                    problems.push(format!(
                        "`assessment.verdicts`: provision {:?} is not in {} {}; `trustgate baseline list` shows the provision ids",
                        v.provision, catalog.id, catalog.version
                    ));
                }
            }
        }
        if !crate::conformance::LEVELS.contains(&self.baseline.level.as_str()) {
            problems.push(format!(
                "`baseline.level` {:?} is not one of {}",
                self.baseline.level,
                crate::conformance::LEVELS.join(", ")
            ));
        }
        let c = self.conformance();
        if c.outcome == crate::conformance::Outcome::NonConformant && !allow_non_conformant {
            problems.push(format!(
                "the assessment does not conform: required provision(s) {} fail; a label must not present this device as passing (fix the device and assess it again, or issue a label that records the failure with --non-conformant)",
                c.failing.join(", ")
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// How far ahead a support end date or a label's validity may reach at issue time.
pub const MAX_YEARS_AHEAD: i32 = 15;
