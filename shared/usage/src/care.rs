//! The patient's side of the counts: the month's certificates that will (or already) make
//! trouble at the counter, and the invitations (声かけ) with the patients who came back
//! with the マイナ保険証 — the clinic's own lever on its 利用率.
//!
//! Patients are counted once per month (by the person key); a reception without a key
//! counts as its own patient and cannot be followed to a later visit.

use eligibility::expiry::ExpiryKind;
use eligibility::{jst_day, Date, YearMonth};
use fallback::Presented;
use reception::continuity::person_key;
use reception::RecordEvent;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use crate::ledger::LedgerRow;

/// A month's patient-side figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PatientSide {
    /// Patients whose certificate expires within three months.
    pub expires_soon: u64,
    /// Patients whose card certificate has expired and is in its grace.
    pub in_grace: u64,
    /// Patients whose certificate has lapsed (beyond grace, or a phone's).
    pub lapsed: u64,
    /// Patients invited this month.
    pub invited: u64,
    /// Patients invited on an earlier day and seen again this month.
    pub seen_again: u64,
    /// Of those, the ones who came back with the card or the phone.
    pub returned_with_myna: u64,
}

struct Visit {
    day: Date,
    who: String,
    myna: bool,
    invited: bool,
    expiry: Option<ExpiryKind>,
}

/// The figures of `month` from a whole ledger (a voided record counts for nothing).
pub fn patient_side<'a>(
    rows: impl IntoIterator<Item = LedgerRow<'a>>,
    month: YearMonth,
) -> PatientSide {
    let rows: Vec<LedgerRow<'a>> = rows.into_iter().collect();
    let voided: BTreeSet<&str> =
        rows.iter().filter(|(_, kind, _, _)| *kind == "voided").map(|(id, ..)| *id).collect();
    let mut visits: Vec<Visit> = rows
        .iter()
        .filter(|(id, ..)| !voided.contains(id))
        .enumerate()
        .filter_map(|(i, (_, kind, time, body))| {
            let RecordEvent::Reception(r) = RecordEvent::parse(kind, time, body).ok()? else {
                return None;
            };
            Some(Visit {
                day: jst_day(time)?,
                who: person_key(&r.patient).unwrap_or_else(|| format!("#{i}")),
                myna: matches!(r.presented, Presented::MynaCard | Presented::Smartphone)
                    && r.confirmed_online(),
                invited: r.invited,
                expiry: r.certificate.map(|c| c.kind),
            })
        })
        .collect();
    visits.sort_by_key(|v| v.day);

    let mut out = PatientSide::default();
    let in_month = |v: &Visit| v.day.year_month() == month;
    let mut by_kind: BTreeMap<ExpiryKind, BTreeSet<&str>> = BTreeMap::new();
    let mut invited = BTreeSet::new();
    for v in visits.iter().filter(|v| in_month(v)) {
        if let Some(kind) = v.expiry {
            by_kind.entry(kind).or_default().insert(&v.who);
        }
        if v.invited {
            invited.insert(v.who.as_str());
        }
    }
    let count = |kind| by_kind.get(&kind).map_or(0, |s| s.len() as u64);
    out.expires_soon = count(ExpiryKind::ExpiresSoon);
    out.in_grace = count(ExpiryKind::InGrace);
    out.lapsed = count(ExpiryKind::Lapsed);
    out.invited = invited.len() as u64;

    // Each patient's first visit this month after an earlier day's invitation.
    let mut first_invited: BTreeMap<&str, Date> = BTreeMap::new();
    let mut returned: BTreeMap<&str, bool> = BTreeMap::new();
    for v in &visits {
        if let Some(&on) = first_invited.get(v.who.as_str()) {
            if v.day > on && in_month(v) && !returned.contains_key(v.who.as_str()) {
                returned.insert(&v.who, v.myna);
            }
        }
        if v.invited {
            first_invited.entry(&v.who).or_insert(v.day);
        }
    }
    out.seen_again = returned.len() as u64;
    out.returned_with_myna = returned.values().filter(|m| **m).count() as u64;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use eligibility::expiry::Expiry;
    use eligibility::policy::Holder;
    use serde_json::json;

    /// A confirmed reception of `kana`, as the counter writes it, changed by `edit`.
    fn body(
        presented: Presented,
        kana: &str,
        edit: impl FnOnce(&mut reception::Reception),
    ) -> serde_json::Value {
        let who = reception::status::Visit {
            visit: "2026-12-01".parse().unwrap(),
            presented,
            patient: reception::Patient {
                kana: Some(kana.into()),
                birth: Some("1950-01-01".into()),
                ..Default::default()
            },
            statement: None,
            numbers: None,
            terminal: None,
        };
        let mut r = reception::status::reception_for_answer(true, false, who, None, None);
        edit(&mut r);
        r.to_body()
    }

    #[test]
    fn an_invitation_and_the_return_with_the_card_the_next_day() {
        let invite = |r: &mut reception::Reception| r.invited = true;
        let invited = body(Presented::EligibilityCertificate, "ヤマダ ハナコ", invite);
        let back = body(Presented::MynaCard, "ヤマダ ハナコ", |_| {});
        let other = body(Presented::EligibilityCertificate, "サトウ", invite);
        let rows = [
            ("r1", "reception", "2026-12-01T09:00:00+09:00", &invited),
            ("r2", "reception", "2026-12-01T09:10:00+09:00", &other),
            ("r3", "reception", "2026-12-02T09:00:00+09:00", &back),
        ];
        let side = patient_side(rows, YearMonth::new(2026, 12).unwrap());
        assert_eq!((side.invited, side.seen_again, side.returned_with_myna), (2, 1, 1));
        // The same day does not count as coming back.
        let side = patient_side(rows.into_iter().take(2), YearMonth::new(2026, 12).unwrap());
        assert_eq!(side.seen_again, 0);
    }

    #[test]
    fn certificates_are_counted_once_per_patient_and_voided_ones_not_at_all() {
        let policy = eligibility::Policy::embedded().unwrap();
        let seen = |expires: &str| {
            let (expires, today) = (expires.parse().unwrap(), "2026-12-01".parse().unwrap());
            let x = Expiry::on(&policy, Holder::Card, expires, today);
            move |r: &mut reception::Reception| r.certificate = x
        };
        let a = body(Presented::MynaCard, "A", seen("2027-01-15"));
        let a2 = body(Presented::MynaCard, "A", seen("2027-01-15"));
        let b = body(Presented::MynaCard, "B", seen("2026-10-01"));
        let c = body(Presented::MynaCard, "C", seen("2026-07-01"));
        let rows = [
            ("r1", "reception", "2026-12-01T09:00:00+09:00", &a),
            ("r2", "reception", "2026-12-02T09:00:00+09:00", &a2),
            ("r3", "reception", "2026-12-02T10:00:00+09:00", &b),
            ("r3", "voided", "2026-12-02T10:05:00+09:00", &json!({ "reason": "double" })),
            ("r4", "reception", "2026-11-30T10:00:00+09:00", &b),
            ("r5", "reception", "2026-12-03T10:00:00+09:00", &c),
        ];
        let side = patient_side(rows, YearMonth::new(2026, 12).unwrap());
        assert_eq!((side.expires_soon, side.in_grace, side.lapsed), (1, 0, 1));
    }
}
