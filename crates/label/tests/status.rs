//! Status rules: precedence table and instants.

use label::*;
use time::macros::{date, datetime};
use time::OffsetDateTime;

const ID: &str = "urn:trustgate:label:0001";

fn ev(at: OffsetDateTime, kind: StatusEventKind) -> StatusEvent {
    StatusEvent {
        label_id: ID.into(),
        at,
        kind,
    }
}

fn revoked(at: OffsetDateTime) -> StatusEvent {
    ev(
        at,
        StatusEventKind::Revoked {
            reason: "key compromise".into(),
        },
    )
}
fn superseded(at: OffsetDateTime) -> StatusEvent {
    ev(
        at,
        StatusEventKind::Superseded {
            by: "urn:trustgate:label:0002".into(),
        },
    )
}
fn suspended(at: OffsetDateTime) -> StatusEvent {
    ev(at, StatusEventKind::Suspended)
}

const T0: OffsetDateTime = datetime!(2026-06-01 00:00:00 UTC);
/// During validity, support ended (end date 2030-12-31).
const AFTER_SUPPORT: OffsetDateTime = datetime!(2031-01-10 00:00:00 UTC);
const EXPIRED: OffsetDateTime = datetime!(2032-01-01 00:00:00 UTC);
const EARLY: OffsetDateTime = datetime!(2025-01-01 00:00:00 UTC);

#[test]
fn precedence_table() {
    let c = example_claims();
    let rev = || Status::Revoked {
        reason: "key compromise".into(),
    };
    let sup = || Status::Superseded {
        by: "urn:trustgate:label:0002".into(),
    };
    // (facts, instant, expected) — each row adds the next-higher condition.
    let table: Vec<(Vec<StatusEvent>, OffsetDateTime, Status)> = vec![
        (vec![], T0, Status::Active),
        (vec![], AFTER_SUPPORT, Status::SupportEnded),
        (vec![], EXPIRED, Status::Expired),
        (vec![], EARLY, Status::NotYetValid),
        (vec![suspended(EARLY)], AFTER_SUPPORT, Status::Suspended),
        (vec![suspended(EARLY)], EXPIRED, Status::Suspended),
        (vec![suspended(EARLY)], EARLY, Status::Suspended),
        (vec![suspended(EARLY), superseded(EARLY)], EXPIRED, sup()),
        (vec![superseded(EARLY)], AFTER_SUPPORT, sup()),
        (
            vec![superseded(EARLY), suspended(EARLY), revoked(EARLY)],
            EXPIRED,
            rev(),
        ),
        (vec![revoked(EARLY), superseded(EARLY)], T0, rev()),
        (vec![revoked(EARLY)], AFTER_SUPPORT, rev()),
        (vec![revoked(EARLY)], EARLY, rev()),
    ];
    for (i, (facts, at, want)) in table.into_iter().enumerate() {
        assert_eq!(status(&c, at, &facts), want, "row {i}");
    }
}

#[test]
fn support_ends_at_the_start_of_the_day_after_the_end_date() {
    let c = example_claims();
    assert_eq!(c.support.end_date, date!(2030 - 12 - 31));
    assert_eq!(c.support.ended_at(), datetime!(2031-01-01 00:00:00 UTC));
    assert_eq!(
        status(&c, datetime!(2030-12-31 23:59:59 UTC), &[]),
        Status::Active
    );
    assert_eq!(
        status(&c, datetime!(2031-01-01 00:00:00 UTC), &[]),
        Status::SupportEnded
    );
    // The same instant written in another offset is the same instant.
    assert_eq!(
        status(&c, datetime!(2031-01-01 00:30:00 +01:00), &[]),
        Status::Active
    );
}

#[test]
fn validity_bounds_are_inclusive() {
    let c = example_claims();
    let nb = c.validity.not_before;
    let na = c.validity.not_after;
    let s = time::Duration::SECOND;
    assert_eq!(status(&c, nb - s, &[]), Status::NotYetValid);
    assert_eq!(status(&c, nb, &[]), Status::Active);
    assert_eq!(status(&c, na, &[]), Status::SupportEnded);
    assert_eq!(status(&c, na + s, &[]), Status::Expired);
}

#[test]
fn facts_count_only_for_this_label_and_from_their_instant() {
    let c = example_claims();
    let mut other = revoked(EARLY);
    other.label_id = "urn:trustgate:label:9999".into();
    assert_eq!(status(&c, T0, &[other]), Status::Active);
    // A revocation in the future of `at` does not apply yet.
    let later = revoked(datetime!(2027-01-01 00:00:00 UTC));
    assert_eq!(status(&c, T0, std::slice::from_ref(&later)), Status::Active);
    assert!(matches!(
        status(&c, datetime!(2027-01-01 00:00:00 UTC), &[later]),
        Status::Revoked { .. }
    ));
}

#[test]
fn earliest_revocation_reason_wins_regardless_of_slice_order() {
    let c = example_claims();
    let a = ev(
        datetime!(2026-03-01 00:00:00 UTC),
        StatusEventKind::Revoked {
            reason: "second".into(),
        },
    );
    let b = ev(
        datetime!(2026-02-01 00:00:00 UTC),
        StatusEventKind::Revoked {
            reason: "first".into(),
        },
    );
    assert_eq!(
        status(&c, T0, &[a, b]),
        Status::Revoked {
            reason: "first".into()
        }
    );
}

#[test]
fn reinstatement_lifts_a_suspension() {
    let c = example_claims();
    let s = suspended(datetime!(2026-02-01 00:00:00 UTC));
    let r = ev(
        datetime!(2026-03-01 00:00:00 UTC),
        StatusEventKind::Reinstated,
    );
    assert_eq!(
        status(
            &c,
            datetime!(2026-02-15 00:00:00 UTC),
            &[s.clone(), r.clone()]
        ),
        Status::Suspended
    );
    assert_eq!(status(&c, T0, &[r.clone(), s.clone()]), Status::Active);
    // Suspended again after the reinstatement.
    let s2 = suspended(datetime!(2026-04-01 00:00:00 UTC));
    assert_eq!(status(&c, T0, &[s, r, s2]), Status::Suspended);
}

#[test]
fn support_end_changes_move_the_support_ended_instant() {
    let c = example_claims();
    let extend = ev(
        datetime!(2030-06-01 00:00:00 UTC),
        StatusEventKind::SupportEndChanged {
            end_date: date!(2031 - 06 - 30),
        },
    );
    assert_eq!(
        status(&c, AFTER_SUPPORT, std::slice::from_ref(&extend)),
        Status::Active
    );
    let shorten = ev(
        datetime!(2027-01-01 00:00:00 UTC),
        StatusEventKind::SupportEndChanged {
            end_date: date!(2026 - 12 - 31),
        },
    );
    assert_eq!(
        status(&c, T0, std::slice::from_ref(&shorten)),
        Status::Active
    );
    assert_eq!(
        status(
            &c,
            datetime!(2027-01-01 00:00:00 UTC),
            std::slice::from_ref(&shorten)
        ),
        Status::SupportEnded
    );
    // Latest change in force wins.
    assert_eq!(
        status(&c, datetime!(2030-07-01 00:00:00 UTC), &[shorten, extend]),
        Status::Active
    );
}

#[test]
fn status_and_events_serialize_as_documented() {
    let s = Status::Revoked { reason: "r".into() };
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        serde_json::json!({"state": "revoked", "reason": "r"})
    );
    assert_eq!(
        serde_json::to_value(Status::SupportEnded).unwrap(),
        serde_json::json!({"state": "support-ended"})
    );
    let e = revoked(EARLY);
    let j = serde_json::to_string(&e).unwrap();
    assert_eq!(serde_json::from_str::<StatusEvent>(&j).unwrap(), e);
    assert!(serde_json::from_str::<StatusEvent>(&j.replace("\"kind\"", "\"kinds\"")).is_err());
    let change = ev(
        EARLY,
        StatusEventKind::SupportEndChanged {
            end_date: date!(2031 - 06 - 30),
        },
    );
    let j = serde_json::to_value(&change).unwrap();
    assert_eq!(
        j["kind"],
        serde_json::json!({"type": "support-end-changed", "end-date": "2031-06-30"})
    );
    assert_eq!(j["at"], "2025-01-01T00:00:00Z");
    assert_eq!(serde_json::from_value::<StatusEvent>(j).unwrap(), change);
    assert!(Status::Active.is_active() && !Status::SupportEnded.is_active());
    assert!(Status::SupportEnded
        .plain_words()
        .contains("Support has ended"));
}
