//! The catalog model, the on-disk schema and the validating loader.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize, Serializer};

/// Why a catalog could not be loaded. Every variant names the file (or embedded path).
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("{path}: cannot read catalog: {error}")]
    Io {
        /// File path.
        path: String,
        /// Underlying error (printed in the message, so not a `source()`: each cause once).
        error: std::io::Error,
    },
    /// The file is not JSON of the catalog schema (syntax error, missing or unknown field).
    #[error("{path}: not a valid catalog document: {error}")]
    Parse {
        /// File path.
        path: String,
        /// Underlying error (carries line and column; printed in the message, not a
        /// `source()`).
        error: serde_json::Error,
    },
    /// The document parsed but an entry breaks a catalog rule.
    #[error("{path}: {entry}: {reason}")]
    Invalid {
        /// File path.
        path: String,
        /// The offending entry, e.g. `provision "5.1-1"`.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Mandatory ("shall") or recommended ("should").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `M`: the provision is required.
    Mandatory,
    /// `R`: the provision is recommended.
    Recommended,
}

/// A provision's status as written in the standard's conformance table: `M`, `R`,
/// `M C(n)`, `R C(n,m)`. A conditional provision applies only when its conditions hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Status {
    /// Mandatory or recommended.
    pub level: Level,
    /// Condition numbers (empty for an unconditional provision), in the order written.
    pub conditions: Vec<u32>,
}

impl Status {
    /// `M` or `M C(..)`.
    pub fn is_mandatory(&self) -> bool {
        self.level == Level::Mandatory
    }
    /// Has at least one condition.
    pub fn is_conditional(&self) -> bool {
        !self.conditions.is_empty()
    }

    /// Parses `M`, `R`, `M C(1)`, `R C(9,12)`; spaces around `C`, the parentheses and the
    /// commas are optional (`M C (9, 12)` is accepted). Condition numbers are positive and
    /// not repeated.
    pub fn parse(s: &str) -> Result<Status, String> {
        let t = s.trim();
        let bad =
            |why: &str| format!("bad status {s:?}: {why} (expected M, R, M C(n) or R C(n,m))");
        let (level, rest) = match t.chars().next() {
            Some('M') => (Level::Mandatory, &t[1..]),
            Some('R') => (Level::Recommended, &t[1..]),
            _ => return Err(bad("must start with M or R")),
        };
        let rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(Status {
                level,
                conditions: Vec::new(),
            });
        }
        let rest = rest
            .strip_prefix('C')
            .ok_or_else(|| bad("only a C(..) condition list may follow the level"))?
            .trim_start();
        let inner = rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| bad("condition list must be in parentheses"))?;
        let mut conditions = Vec::new();
        for part in inner.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) || part.starts_with('0')
            {
                return Err(bad("condition numbers must be positive integers"));
            }
            let n: u32 = part
                .parse()
                .map_err(|_| bad("condition number out of range"))?;
            if conditions.contains(&n) {
                return Err(bad("condition number repeated"));
            }
            conditions.push(n);
        }
        Ok(Status { level, conditions })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.level {
            Level::Mandatory => "M",
            Level::Recommended => "R",
        })?;
        if !self.conditions.is_empty() {
            let list: Vec<String> = self.conditions.iter().map(u32::to_string).collect();
            write!(f, " C({})", list.join(","))?;
        }
        Ok(())
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A numbered condition that conditional provisions refer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The `n` of `C(n)`.
    pub number: u32,
    /// Paraphrase of when the condition holds.
    pub text: String,
}

/// One provision of the baseline standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provision {
    /// E.g. `5.1-1`, `5.13-1A`, `6-1`.
    pub id: String,
    /// The clause title, e.g. `No universal default passwords`.
    pub group: String,
    /// Mandatory/recommended and conditions.
    pub status: Status,
    /// One line in our own words.
    pub paraphrase: String,
    /// What could not be confirmed, version differences, and similar caveats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Provision {
    /// The clause number, the part of the id before `-` (`5.1` for `5.1-2`, `6` for `6-1`).
    pub fn clause(&self) -> &str {
        clause_of(&self.id)
    }
}

fn clause_of(id: &str) -> &str {
    id.split_once('-').map_or(id, |(c, _)| c)
}

/// How closely a framework requirement corresponds to a provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// The framework itself treats meeting the provision as meeting the requirement
    /// (e.g. PSTI Schedule 2 deemed compliance).
    Deemed,
    /// Same obligation, by our reading.
    Equivalent,
    /// Partial overlap, by our reading.
    Approximate,
}

/// A link from a framework requirement to a baseline provision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Target provision id; validated to exist.
    pub provision: String,
    /// How close the correspondence is.
    pub strength: Strength,
    /// Caveat on this particular link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One requirement (or outcome) of a framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Identifier within the framework, e.g. `1` (PSTI Schedule 1 paragraph) or
    /// `software-update`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// One line in our own words.
    pub summary: String,
    /// Provisions it corresponds to.
    pub maps_to: Vec<Mapping>,
    /// Caveats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A framework (regulation or guideline) whose requirements are mapped onto the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Short identifier, e.g. `uk-psti`, `nist-ir-8425`.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Version or date.
    pub version: String,
    /// Where the text is published.
    pub source: String,
    /// Catalog-level caveats.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Requirements, in document order.
    pub requirements: Vec<Requirement>,
}

impl Framework {
    /// Requirement by id.
    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }
}

/// Provisions of one clause, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group<'a> {
    /// Clause number, e.g. `5.1`.
    pub clause: &'a str,
    /// Clause title.
    pub title: &'a str,
    /// Its provisions.
    pub provisions: Vec<&'a Provision>,
}

/// The loaded, validated catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    /// Baseline identifier, e.g. `etsi-en-303-645`.
    pub id: String,
    /// Baseline full name.
    pub name: String,
    /// Baseline version, e.g. `V2.1.1 (2020-06)`.
    pub version: String,
    /// Catalog-level caveats about the baseline data.
    pub notes: Vec<String>,
    /// Numbered conditions.
    pub conditions: Vec<Condition>,
    /// Provisions, in document order.
    pub provisions: Vec<Provision>,
    /// Mapped frameworks.
    pub frameworks: Vec<Framework>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

// ---- on-disk schema -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvision {
    id: String,
    group: String,
    status: String,
    paraphrase: String,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    id: String,
    name: String,
    version: String,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    conditions: Vec<Condition>,
    provisions: Vec<RawProvision>,
}

/// A whole catalog in one file: `{"baseline": {...}, "frameworks": [...]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    baseline: RawBaseline,
    #[serde(default)]
    frameworks: Vec<Framework>,
}

fn parse<T: for<'de> Deserialize<'de>>(path: &str, text: &str) -> Result<T, CatalogError> {
    serde_json::from_str(text).map_err(|error| CatalogError::Parse {
        path: path.to_string(),
        error,
    })
}

/// True for `5.1-1`, `5.13-1A`, `6-1`: a clause of one or two dot-separated numbers, `-`,
/// a positive number without leading zero, and at most one capital letter.
pub(crate) fn well_formed_id(id: &str) -> bool {
    let Some((clause, item)) = id.split_once('-') else {
        return false;
    };
    let number = |s: &str| {
        !s.is_empty()
            && s.len() <= 3
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'))
    };
    let mut parts = clause.split('.');
    let clause_ok = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), None, _) => number(a),
        (Some(a), Some(b), None) => number(a) && number(b),
        _ => false,
    };
    // at most one trailing capital letter (5.13-1A)
    let digits = item
        .strip_suffix(|c: char| c.is_ascii_uppercase())
        .unwrap_or(item);
    clause_ok && number(digits) && digits != "0"
}

impl Catalog {
    /// The catalog compiled into the crate (ETSI EN 303 645 V2.1.1, UK PSTI 2023,
    /// NIST IR 8425). Panics only if the embedded data is invalid, which the crate's tests
    /// rule out; use [`Catalog::try_embedded`] to get the error instead.
    pub fn embedded() -> Catalog {
        match Catalog::try_embedded() {
            Ok(c) => c,
            Err(e) => panic!("embedded baseline catalog is invalid: {e}"),
        }
    }

    /// The embedded catalog, or the validation error.
    pub fn try_embedded() -> Result<Catalog, CatalogError> {
        use crate::data::{ETSI_EN_303_645, NIST_IR_8425, UK_PSTI};
        Catalog::from_documents(ETSI_EN_303_645, &[UK_PSTI, NIST_IR_8425])
    }

    /// Builds a catalog from a baseline document and framework documents, each given as
    /// `(path, JSON text)`; the path is only used in error messages.
    pub fn from_documents(
        baseline: (&str, &str),
        frameworks: &[(&str, &str)],
    ) -> Result<Catalog, CatalogError> {
        let raw: RawBaseline = parse(baseline.0, baseline.1)?;
        let mut fws = Vec::with_capacity(frameworks.len());
        let mut fw_paths = Vec::with_capacity(frameworks.len());
        for (path, text) in frameworks {
            fws.push(parse::<Framework>(path, text)?);
            fw_paths.push(*path);
        }
        Catalog::build(baseline.0, raw, fws, &fw_paths)
    }

    /// Parses an alternative catalog kept in one JSON file of the form
    /// `{"baseline": {id, name, version, notes?, conditions?, provisions}, "frameworks": [..]}`
    /// (each part with the same fields as the embedded data files). `path` is used in
    /// error messages.
    pub fn from_json(path: &str, text: &str) -> Result<Catalog, CatalogError> {
        let raw: RawCatalog = parse(path, text)?;
        let paths = vec![path; raw.frameworks.len()];
        Catalog::build(path, raw.baseline, raw.frameworks, &paths)
    }

    /// Reads and parses a single-file catalog (see [`Catalog::from_json`]).
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| CatalogError::Io {
            path: shown.clone(),
            error,
        })?;
        Catalog::from_json(&shown, &text)
    }

    fn build(
        path: &str,
        raw: RawBaseline,
        frameworks: Vec<Framework>,
        fw_paths: &[&str],
    ) -> Result<Catalog, CatalogError> {
        let invalid = |path: &str, entry: String, reason: String| CatalogError::Invalid {
            path: path.to_string(),
            entry,
            reason,
        };
        for (what, value) in [
            ("id", &raw.id),
            ("name", &raw.name),
            ("version", &raw.version),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(path, "baseline".into(), format!("{what} is empty")));
            }
        }

        let mut cond_numbers = HashSet::new();
        for c in &raw.conditions {
            let entry = format!("condition {}", c.number);
            if c.number == 0 {
                return Err(invalid(path, entry, "condition numbers start at 1".into()));
            }
            if !cond_numbers.insert(c.number) {
                return Err(invalid(path, entry, "duplicate condition number".into()));
            }
            if c.text.trim().is_empty() {
                return Err(invalid(path, entry, "text is empty".into()));
            }
        }

        if raw.provisions.is_empty() {
            return Err(invalid(path, "baseline".into(), "no provisions".into()));
        }
        let mut provisions = Vec::with_capacity(raw.provisions.len());
        let mut index = HashMap::new();
        // clause -> group title, and the order in which clauses were first seen
        let mut clause_title: HashMap<String, String> = HashMap::new();
        let mut last_clause: Option<String> = None;
        for rp in raw.provisions {
            let entry = format!("provision {:?}", rp.id);
            if !well_formed_id(&rp.id) {
                return Err(invalid(
                    path,
                    entry,
                    "malformed id (expected e.g. 5.1-1, 5.13-1A or 6-1)".into(),
                ));
            }
            if index.contains_key(&rp.id) {
                return Err(invalid(path, entry, "duplicate provision id".into()));
            }
            let status = Status::parse(&rp.status).map_err(|r| invalid(path, entry.clone(), r))?;
            for n in &status.conditions {
                if !cond_numbers.contains(n) {
                    return Err(invalid(
                        path,
                        entry,
                        format!("status {} refers to undeclared condition {n}", rp.status),
                    ));
                }
            }
            if rp.group.trim().is_empty() || rp.paraphrase.trim().is_empty() {
                return Err(invalid(
                    path,
                    entry,
                    "group and paraphrase must not be empty".into(),
                ));
            }
            let clause = clause_of(&rp.id).to_string();
            match clause_title.get(&clause) {
                Some(t) if *t != rp.group => {
                    return Err(invalid(
                        path,
                        entry,
                        format!(
                            "group {:?} differs from clause {clause}'s group {t:?}",
                            rp.group
                        ),
                    ))
                }
                Some(_) if last_clause.as_deref() != Some(clause.as_str()) => {
                    return Err(invalid(
                        path,
                        entry,
                        format!("provisions of clause {clause} are not listed together"),
                    ))
                }
                Some(_) => {}
                None => {
                    clause_title.insert(clause.clone(), rp.group.clone());
                }
            }
            last_clause = Some(clause);
            index.insert(rp.id.clone(), provisions.len());
            provisions.push(Provision {
                id: rp.id,
                group: rp.group,
                status,
                paraphrase: rp.paraphrase,
                notes: rp.notes,
            });
        }

        let mut fw_ids = HashSet::new();
        for (fw, fw_path) in frameworks.iter().zip(fw_paths) {
            let fw_entry = format!("framework {:?}", fw.id);
            if fw.id.trim().is_empty() || fw.name.trim().is_empty() {
                return Err(invalid(
                    fw_path,
                    fw_entry,
                    "id and name must not be empty".into(),
                ));
            }
            if !fw_ids.insert(fw.id.as_str()) {
                return Err(invalid(fw_path, fw_entry, "duplicate framework id".into()));
            }
            let mut req_ids = HashSet::new();
            for req in &fw.requirements {
                let entry = format!("framework {:?} requirement {:?}", fw.id, req.id);
                if req.id.trim().is_empty() || req.title.trim().is_empty() {
                    return Err(invalid(
                        fw_path,
                        entry,
                        "id and title must not be empty".into(),
                    ));
                }
                if !req_ids.insert(req.id.as_str()) {
                    return Err(invalid(fw_path, entry, "duplicate requirement id".into()));
                }
                let mut targets = HashSet::new();
                for m in &req.maps_to {
                    if !index.contains_key(&m.provision) {
                        return Err(invalid(
                            fw_path,
                            entry,
                            format!("maps to unknown provision {:?}", m.provision),
                        ));
                    }
                    if !targets.insert(m.provision.as_str()) {
                        return Err(invalid(
                            fw_path,
                            entry,
                            format!("maps to provision {:?} twice", m.provision),
                        ));
                    }
                }
            }
        }

        Ok(Catalog {
            id: raw.id,
            name: raw.name,
            version: raw.version,
            notes: raw.notes,
            conditions: raw.conditions,
            provisions,
            frameworks,
            index,
        })
    }

    /// Provision by id (`5.1-1`).
    pub fn provision(&self, id: &str) -> Option<&Provision> {
        self.index.get(id).map(|&i| &self.provisions[i])
    }

    /// Condition by number.
    pub fn condition(&self, number: u32) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.number == number)
    }

    /// All mandatory provisions (conditional or not), in document order.
    pub fn mandatory(&self) -> Vec<&Provision> {
        self.provisions
            .iter()
            .filter(|p| p.status.is_mandatory())
            .collect()
    }

    /// Provisions grouped by clause, in document order.
    pub fn by_group(&self) -> Vec<Group<'_>> {
        let mut groups: Vec<Group<'_>> = Vec::new();
        for p in &self.provisions {
            match groups.last_mut() {
                Some(g) if g.clause == p.clause() => g.provisions.push(p),
                _ => groups.push(Group {
                    clause: p.clause(),
                    title: &p.group,
                    provisions: vec![p],
                }),
            }
        }
        groups
    }

    /// Framework by id (`uk-psti`, `nist-ir-8425`).
    pub fn framework(&self, id: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.id == id)
    }

    /// The provisions a framework requirement maps onto, in the order listed; `None` when
    /// the framework or requirement is unknown.
    pub fn mapped_from(&self, framework: &str, requirement: &str) -> Option<Vec<&Provision>> {
        let req = self.framework(framework)?.requirement(requirement)?;
        Some(
            req.maps_to
                .iter()
                .filter_map(|m| self.provision(&m.provision))
                .collect(),
        )
    }

    /// Every framework requirement that maps onto a provision (reverse of
    /// [`Catalog::mapped_from`]).
    pub fn mappings_to(&self, provision: &str) -> Vec<(&Framework, &Requirement, &Mapping)> {
        let mut out = Vec::new();
        for fw in &self.frameworks {
            for req in &fw.requirements {
                for m in req.maps_to.iter().filter(|m| m.provision == provision) {
                    out.push((fw, req, m));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parse_and_display() {
        let cases = [
            ("M", "M"),
            ("R", "R"),
            ("M C(1)", "M C(1)"),
            ("R C (9, 12)", "R C(9,12)"),
            ("MC(3)", "M C(3)"),
        ];
        for (input, shown) in cases {
            assert_eq!(Status::parse(input).unwrap().to_string(), shown, "{input}");
        }
        for bad in [
            "", "X", "M C", "M C()", "M C(0)", "M C(1,1)", "M C(a)", "M (1)", "MR",
        ] {
            assert!(Status::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn id_forms() {
        for ok in ["5.1-1", "5.13-1A", "6-1", "5.3-16", "5.0-1"] {
            assert!(well_formed_id(ok), "{ok}");
        }
        for bad in [
            "5.1", "5.1-", "5.1-0", "5.1-01", "5.1-1a", "5.1-1AB", "x-1", "5..1-1", "-1",
        ] {
            assert!(!well_formed_id(bad), "{bad}");
        }
    }
}
