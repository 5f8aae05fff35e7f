//! Checking a registry's answer on the client side, before anything is used: the label's proof
//! bundle against the pinned log key, the label bytes against the assessor keys, every status
//! statement proven in the same checkpoint and signed by a key allowed to make it, and the
//! status the answer states recomputed from what it proves. Used by `trustgate registry fetch`
//! and by the gateway's MUD manager; nothing here trusts the registry's word.

use label::KeyResolver;

/// The keys statements about one label are checked with.
pub struct StatementKeys<'a> {
    /// The key id that signed the label.
    pub label_kid: label::KeyId,
    /// That key, when the checker has it (pinned); `None`: its statements' signatures cannot
    /// be checked here.
    pub assessor: Option<label::VerifyingKey>,
    /// Operator keys given.
    pub operators: &'a label::KeyRing,
}

/// One statement checked.
pub struct CheckedStatement {
    /// Its leaf index in the log.
    pub leaf_index: u64,
    /// The fact it states.
    pub event: label::StatusEvent,
    /// Whether its signature was verified here (false: the signer's key was not given).
    pub signature_checked: bool,
}

/// Checks every statement of a verified bundle: a status statement (canonical encoding),
/// about this label, signed by the label's key or a given operator key (operator statements
/// only revoke, suspend, reinstate). A statement signed by the label's key when that key is not
/// at hand is returned unchecked (`signature_checked: false`); one signed by any other key is
/// refused: the status would depend on something that cannot be checked.
pub fn check_statements(
    label_id: &str,
    list: &[tlog::VerifiedStatement],
    keys: &StatementKeys<'_>,
) -> Result<Vec<CheckedStatement>, String> {
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let (kid, event) = crate::statement::open_unverified(&s.entry)
            .map_err(|e| format!("statement entry {}: {e}", s.leaf_index))?;
        if event.label_id != label_id {
            return Err(format!(
                "statement entry {} is about {:?}, not this label ({label_id:?})",
                s.leaf_index, event.label_id
            ));
        }
        let signature_checked = if kid == keys.label_kid {
            match &keys.assessor {
                Some(k) => {
                    crate::verify_statement(&s.entry, k)
                        .map_err(|e| format!("statement entry {}: {e}", s.leaf_index))?;
                    true
                }
                None => false,
            }
        } else if let Some(k) = keys.operators.resolve(&kid) {
            crate::verify_statement(&s.entry, &k)
                .map_err(|e| format!("statement entry {}: {e}", s.leaf_index))?;
            if !crate::statement::operator_may_state(&event.kind) {
                return Err(format!(
                    "statement entry {} is an operator statement of a kind operators may not make",
                    s.leaf_index
                ));
            }
            true
        } else {
            return Err(format!(
                "statement entry {} is signed by key {kid}, neither the label's assessor key nor a registry operator key given (pass the registry operator's public key)",
                s.leaf_index
            ));
        };
        out.push(CheckedStatement {
            leaf_index: s.leaf_index,
            event,
            signature_checked,
        });
    }
    Ok(out)
}

/// What checking one answer established.
#[derive(Clone, Debug)]
pub struct CheckedAnswer {
    /// The proven label's claims.
    pub claims: label::Claims,
    /// Every status fact proven with it, in log order.
    pub facts: Vec<label::StatusEvent>,
    /// Status at the instant the check was made.
    pub status: label::Status,
    /// Computed here from the proven label's verdicts, not taken from the answer.
    pub conformance: label::Conformance,
    /// The checkpoint the label and its statements are proven in.
    pub checkpoint: tlog::Checkpoint,
    /// The label's leaf index.
    pub leaf_index: u64,
    /// Whether every signature (label and statements) was verified with a key given here.
    pub signatures_checked: bool,
}

/// Checks a registry answer against its own proofs: the label's bundle verifies with the
/// pinned log key and carries the status statements; the label bytes are the label the answer
/// names (signature checked when its assessor key is in `assessors`); every statement is proven
/// in the same checkpoint and about this label; the status the answer states is the one the
/// statements give. The error says which check failed.
pub fn check_answer(
    v: &crate::LabelView,
    log: &tlog::checkpoint::LogVerifier,
    assessors: &label::KeyRing,
    operators: &label::KeyRing,
    now: time::OffsetDateTime,
) -> Result<CheckedAnswer, String> {
    let proven = tlog::verify(&v.bundle, log).map_err(|e| format!("proof bundle: {e}"))?;
    let (kid, claims) = label::decode_unverified(&proven.entry)
        .map_err(|e| format!("the proven entry is not a label: {e}"))?;
    let assessor = assessors.resolve(&kid);
    if assessor.is_some() {
        label::verify(&proven.entry, assessors).map_err(|e| format!("label: {e}"))?;
    }
    if claims.id != v.label_id || kid.to_string() != v.kid || proven.leaf_index != v.leaf_index {
        return Err(format!(
            "the proven label is {:?} (key {kid}, entry {}), not what the answer says",
            claims.id, proven.leaf_index
        ));
    }
    let Some(list) = &proven.statements else {
        return Err(
            "the answer carries no status statements with its proof, so a revocation could not be seen"
                .into(),
        );
    };
    let keys = StatementKeys {
        label_kid: kid,
        assessor,
        operators,
    };
    let checked = check_statements(&claims.id, list, &keys)?;
    let facts: Vec<label::StatusEvent> = checked.iter().map(|c| c.event.clone()).collect();
    // The status it states, recomputed at the instant it says it was computed.
    let stated_at = time::OffsetDateTime::parse(
        &v.checked_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|e| format!("checked_at {:?}: {e}", v.checked_at))?;
    let then = label::status(&claims, stated_at, &facts);
    if then != v.status {
        return Err(format!(
            "it states {:?}, but the statements it proves give {:?}",
            v.status, then
        ));
    }
    let status = label::status(&claims, now, &facts);
    let conformance = claims.conformance();
    if conformance != v.assessment {
        return Err(format!(
            "it states the assessment is {}, but the proven label's verdicts give {}",
            v.assessment.outcome.as_str(),
            conformance.outcome.as_str()
        ));
    }
    Ok(CheckedAnswer {
        signatures_checked: assessor.is_some() && checked.iter().all(|c| c.signature_checked),
        claims,
        facts,
        status,
        conformance,
        checkpoint: proven.checkpoint,
        leaf_index: proven.leaf_index,
    })
}
