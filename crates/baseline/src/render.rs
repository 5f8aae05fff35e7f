//! Plain-text rendering for `trustgate baseline list`.

use std::fmt::Write as _;

use crate::model::{Catalog, Strength};

/// Renders the catalog as a plain-text table: one section per clause with id, status and
/// paraphrase, the condition list, then each framework's requirements with the provisions
/// they map onto (`~` marks an approximate mapping, `=` deemed or equivalent).
pub fn render_table(catalog: &Catalog) -> String {
    let mut out = String::new();
    let id_w = catalog
        .provisions
        .iter()
        .map(|p| p.id.len())
        .max()
        .unwrap_or(2)
        .max("ID".len());
    let st_w = catalog
        .provisions
        .iter()
        .map(|p| p.status.to_string().len())
        .max()
        .unwrap_or(6)
        .max("STATUS".len());

    let _ = writeln!(out, "{} {}", catalog.name, catalog.version);
    let mandatory = catalog.mandatory().len();
    let _ = writeln!(
        out,
        "{} provisions ({} mandatory, {} recommended)",
        catalog.provisions.len(),
        mandatory,
        catalog.provisions.len() - mandatory
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<id_w$}  {:<st_w$}  PARAPHRASE", "ID", "STATUS");
    for g in catalog.by_group() {
        let _ = writeln!(out, "{} {}", g.clause, g.title);
        for p in g.provisions {
            let flag = if p.notes.is_some() { " [note]" } else { "" };
            let _ = writeln!(
                out,
                "{:<id_w$}  {:<st_w$}  {}{}",
                p.id,
                p.status.to_string(),
                p.paraphrase,
                flag
            );
        }
    }

    if !catalog.conditions.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Conditions (C(n)):");
        for c in &catalog.conditions {
            let _ = writeln!(out, "{:>4}  {}", c.number, c.text);
        }
    }

    for fw in &catalog.frameworks {
        let _ = writeln!(out);
        let _ = writeln!(out, "{} ({}) [{}]", fw.name, fw.version, fw.id);
        let req_w = fw
            .requirements
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(0);
        for r in &fw.requirements {
            let targets: Vec<String> = r
                .maps_to
                .iter()
                .map(|m| {
                    let mark = match m.strength {
                        Strength::Approximate => "~",
                        Strength::Deemed | Strength::Equivalent => "=",
                    };
                    format!("{mark}{}", m.provision)
                })
                .collect();
            let targets = if targets.is_empty() {
                "(no mapping)".to_string()
            } else {
                targets.join(" ")
            };
            let _ = writeln!(out, "{:<req_w$}  {} -> {}", r.id, r.title, targets);
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Mappings: = deemed or equivalent, ~ approximate. Paraphrases are our own words; [note] marks an entry with caveats (see --json)."
    );
    out
}
