//! The clinic's counts and the 加算 projection on hand-made ledgers with known answers.

use eligibility::policy::{
    AdditionFacility::{Clinic, Pharmacy},
    Confidence,
};
use eligibility::{Date, Policy, YearMonth};
use serde_json::json;
use usage::ledger::{daily, from_event, jst_day, monthly, Confirmation, Kind};
use usage::tier::{projection, Basis};

fn ym(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn device_times_fall_on_the_day_in_japan() {
    let rows = [
        ("2026-11-25T14:59:59Z", Some("2026-11-25")),
        ("2026-11-25T15:00:00Z", Some("2026-11-26")),
        ("2026-11-25T15:00:00.123Z", Some("2026-11-26")),
        ("2026-11-26T00:30:00+09:00", Some("2026-11-26")),
        ("2026-12-31T23:30:00-01:00", Some("2027-01-01")),
        ("2026-11-26", None),
        ("yesterday", None),
        ("2026-11-26T25:00:00", None),
    ];
    for (time, want) in rows {
        assert_eq!(jst_day(time).map(|d| d.to_string()), want.map(String::from), "{time}");
    }
}

fn reception(method: &str, status: &str, patient: serde_json::Value) -> serde_json::Value {
    json!({ "method": method, "status": status, "patient": patient })
}

#[test]
fn what_counts_as_an_online_and_a_myna_confirmation() {
    let hanako = json!({ "kana": "ﾊﾅｺ", "birth": "1980-04-01" });
    let t = "2026-11-26T01:00:00Z";
    let check = |kind: &str, body: serde_json::Value, want: Option<Kind>| {
        assert_eq!(from_event(kind, t, &body).map(|c| c.kind), want, "{kind} {body}");
    };
    check("reception", reception("card", "confirmed", hanako.clone()), Some(Kind::MynaCard));
    check("reception", reception("smartphone", "confirmed", hanako.clone()), Some(Kind::MynaPhone));
    check("reception", reception("certificate", "confirmed", hanako.clone()), Some(Kind::Numbers));
    check("reception", reception("notice", "confirmed", json!({})), Some(Kind::Numbers));
    check("reception", reception("nothing", "unknown", json!({})), None);
    check("reception", reception("card", "follow_up_pending", hanako.clone()), None);
    check("reception", reception("certificate", "needs_attention", hanako), None);
    check(
        "follow_up_result",
        json!({ "state": "done", "result": { "interpretation": { "status": { "status": "confirmed" } } } }),
        Some(Kind::Numbers),
    );
    check(
        "follow_up_result",
        json!({ "state": "done", "result": { "interpretation": { "status": { "status": "not_found" } } } }),
        None,
    );
    check("follow_up_result", json!({ "state": "failed", "result": {} }), None);
    check("face_result", json!({}), None);
    check("reception", json!("garbage"), None);
}

fn c(d: &str, kind: Kind, who: Option<&str>) -> Confirmation {
    Confirmation { day: day(d), kind, patient: who.map(String::from) }
}

#[test]
fn monthly_and_daily_counts_on_both_bases() {
    use Kind::*;
    let ledger = vec![
        c("2026-10-01", MynaCard, Some("a")),
        c("2026-10-01", Numbers, Some("b")),
        c("2026-10-15", MynaPhone, Some("c")),
        c("2026-10-20", MynaCard, Some("a")), // a again: one person
        c("2026-10-21", Numbers, None),       // unknown: a person of its own
        c("2026-11-02", Numbers, Some("a")),
    ];
    let months = monthly(&ledger);
    assert_eq!(months.len(), 2);
    let oct = &months[0].counts;
    assert_eq!((months[0].month, oct.online, oct.myna, oct.phone), (ym("2026-10"), 5, 3, 1));
    assert_eq!((oct.persons, oct.myna_persons), (4, 2));
    assert_eq!(oct.rate().map(|r| r.display()).as_deref(), Some("60.00%"));
    assert_eq!(oct.person_rate().map(|r| r.display()).as_deref(), Some("50.00%"));
    assert_eq!(oct.phone_share().map(|r| r.display()).as_deref(), Some("33.33%"));
    let nov = &months[1].counts;
    assert_eq!(
        (nov.online, nov.myna, nov.rate().map(|r| r.display())),
        (1, 0, Some("0.00%".into()))
    );
    let days = daily(&ledger);
    assert_eq!(days.len(), 5);
    assert_eq!((days[0].0, days[0].1.online, days[0].1.myna), (day("2026-10-01"), 2, 1));
    assert!(monthly(&[]).is_empty());
}

/// `n` confirmations in `month`, `myna` of them by card, each a different person.
fn month_of(month: &str, n: u32, myna: u32) -> Vec<Confirmation> {
    (0..n)
        .map(|i| {
            let kind = if i < myna { Kind::MynaCard } else { Kind::Numbers };
            c(&format!("{month}-10"), kind, Some(&format!("{month}-p{i}")))
        })
        .collect()
}

#[test]
fn the_billing_month_takes_the_best_of_the_3rd_to_5th_month_before() {
    let policy = Policy::embedded().unwrap_or_else(|e| panic!("{e}"));
    // Billing 2026-03 (thresholds 70/50/30) looks at 2025-10, 2025-11, 2025-12.
    let mut ledger = Vec::new();
    ledger.extend(month_of("2025-09", 10, 10)); // 100%, but the 6th month before: ignored
    ledger.extend(month_of("2025-10", 10, 2)); // 20%
    ledger.extend(month_of("2025-11", 10, 5)); // 50% → tier 2
    ledger.extend(month_of("2025-12", 10, 4)); // 40%
    ledger.extend(month_of("2026-01", 10, 9)); // not yet counted for 2026-03
    ledger.extend(month_of("2026-02", 20, 5)); // this month so far: 25%
    let usage = monthly(&ledger);
    let p =
        projection(&policy, ym("2026-03"), ym("2026-02"), &usage, Basis::Persons, Clinic, false)
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.thresholds, [70, 50, 30]);
    assert_eq!(p.best.map(|(m, r)| (m, r.display())), Some((ym("2025-11"), "50.00%".into())));
    assert_eq!(p.reached, Some(2));
    // 2026-02 counts for billing 2026-05 (70/50/30): 25% → tier 3 needs 30%: 6/20 → 1 more.
    let next = p.next.unwrap_or_else(|| panic!("a next tier"));
    assert_eq!((next.tier, next.threshold, next.more_needed), (3, 30, 1));
}

#[test]
fn tiers_by_row() {
    let policy = Policy::embedded().unwrap_or_else(|e| panic!("{e}"));
    // (billing, months with (n, myna), pediatric, reached, next (tier, threshold, more))
    type Row = (
        &'static str,
        &'static [(&'static str, u32, u32)],
        bool,
        Option<u8>,
        Option<(u8, u8, u64)>,
    );
    let rows: &[Row] = &[
        ("2025-04", &[("2024-12", 100, 45), ("2025-01", 100, 100)], false, Some(1), None),
        // 2024-10 is the 6th month before 2025-04: it does not count.
        ("2025-04", &[("2024-10", 100, 100), ("2024-12", 100, 14)], false, None, Some((2, 20, 6))),
        // 小児科: tier 3 at 12% instead of 15%.
        ("2025-04", &[("2024-12", 100, 14), ("2025-01", 100, 10)], true, Some(3), Some((3, 12, 2))),
        ("2025-10", &[("2025-05", 40, 10), ("2025-10", 40, 10)], false, Some(3), Some((2, 40, 6))),
        ("2026-05", &[("2026-02", 3, 3), ("2026-05", 3, 3)], false, Some(1), None),
    ];
    for (billing, months, pediatric, reached, next) in rows {
        let ledger: Vec<_> = months.iter().flat_map(|(m, n, k)| month_of(m, *n, *k)).collect();
        let usage = monthly(&ledger);
        let this = months.last().map(|m| ym(m.0)).unwrap_or_else(|| ym(billing));
        let p = projection(&policy, ym(billing), this, &usage, Basis::Persons, Clinic, *pediatric)
            .unwrap_or_else(|e| panic!("{billing}: {e}"));
        assert_eq!(p.reached, *reached, "{billing} {months:?}");
        assert_eq!(
            p.next.map(|n| (n.tier, n.threshold, n.more_needed)),
            *next,
            "{billing} {months:?}"
        );
    }
    // From 2026-06 the successor 加算: one rate (30%) for every tier, its own name, and a
    // pharmacy row of its own; 2026-05 is still the old table.
    let at = |billing: &str, facility| {
        projection(&policy, ym(billing), ym(billing), &[], Basis::Persons, facility, false)
            .unwrap_or_else(|e| panic!("{billing}: {e}"))
    };
    assert_eq!(at("2026-05", Clinic).thresholds, [70, 50, 30]);
    assert_eq!(at("2026-05", Clinic).name, "医療DX推進体制整備加算");
    assert_eq!(at("2026-06", Clinic).thresholds, [30]);
    assert_eq!(at("2026-06", Clinic).name, "電子的診療情報連携体制整備加算");
    assert_eq!(at("2026-06", Pharmacy).name, "電子的調剤情報連携体制整備加算");
    assert_eq!(at("2026-06", Clinic).rate_months_confidence, Confidence::Inferred);
    assert_eq!(at("2028-05", Clinic).thresholds, [30]);
    // 2026-11 with 25% in 2026-08 (the 3rd month before): below 30%, and the gap is said.
    let ledger: Vec<_> =
        month_of("2026-08", 20, 5).into_iter().chain(month_of("2026-11", 20, 5)).collect();
    let usage = monthly(&ledger);
    let p =
        projection(&policy, ym("2026-11"), ym("2026-11"), &usage, Basis::Persons, Clinic, false)
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.reached, None);
    let next = p.next.unwrap_or_else(|| panic!("a next tier"));
    assert_eq!((next.tier, next.threshold, next.more_needed), (1, 30, 1));
    // A billing month the table does not know is a typed error, not a guess.
    assert!(
        projection(&policy, ym("2028-06"), ym("2028-03"), &[], Basis::Uses, Clinic, false).is_err()
    );
}

/// A voided reception (a double entry, the wrong patient) counts for nothing; the other
/// reception of the same day still counts.
#[test]
fn a_voided_reception_does_not_count() {
    let t = "2026-11-26T01:00:00Z";
    let hanako = json!({ "kana": "ﾊﾅｺ", "birth": "1980-04-01" });
    let a = reception("card", "confirmed", hanako.clone());
    let b = reception("card", "confirmed", hanako);
    let void = json!({ "reason": "二重登録" });
    let rows = vec![
        ("rec-a", "reception", t, &a),
        ("rec-b", "reception", t, &b),
        ("rec-b", "voided", t, &void),
    ];
    let counted = usage::ledger::confirmations(rows.clone());
    assert_eq!(counted.len(), 1);
    assert_eq!(usage::ledger::confirmations(rows.into_iter().take(2)).len(), 2);
}
