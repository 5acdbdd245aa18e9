//! The clinic's own counts, from its ledger.
//!
//! What counts (reference §7): every qualification confirmed online is one オンライン資格確認
//! 利用件数; those confirmed with the マイナ保険証 — card or smartphone — are also マイナ保険証
//! 利用件数. From the ledger: a `reception` that is `confirmed` counts, by its method (card /
//! smartphone → マイナ保険証; 資格確認書 / お知らせ by numbers → オン資 only); a
//! `follow_up_result` whose lookup was confirmed counts as オン資 (the lookup was made
//! online, later). Receptions without an online confirmation (申立て, outage capture, a
//! follow-up still pending) do not count. The receipt-like basis (利用割合) counts persons:
//! a patient is known by kana or name plus birth date; a reception without them counts as
//! its own person.

use eligibility::{Date, YearMonth};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use crate::rate::Rate;
use fallback::Presented;
use reception::continuity::person_key;
use reception::RecordEvent;

/// How a qualification was confirmed online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    MynaCard,
    MynaPhone,
    /// By the numbers of a document (資格確認書, お知らせ, a later lookup).
    Numbers,
}

/// One online confirmation on a day in Japan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    pub day: Date,
    pub kind: Kind,
    /// Who, when known (kana or name, and birth date), for the by-persons basis.
    pub patient: Option<String>,
}

pub use eligibility::jst_day;

/// A ledger body reduced to what the counts read: status, how it was presented and the
/// person's digest — no name, kana, birth date or numbers. A tablet keeps older rows like
/// this (its 利用状況 still works offline) and forgets the patient. `None`: the row is
/// not needed for the counts (or does not parse), and can go.
pub fn counting_only(
    kind: &str,
    device_time: &str,
    body: &serde_json::Value,
) -> Option<serde_json::Value> {
    Some(RecordEvent::parse(kind, device_time, body).ok()?.counting_only()?.body())
}

/// The confirmation a ledger event stands for, if any.
pub fn from_event(kind: &str, device_time: &str, body: &serde_json::Value) -> Option<Confirmation> {
    let day = jst_day(device_time)?;
    match RecordEvent::parse(kind, device_time, body).ok()? {
        RecordEvent::Reception(r) if r.confirmed_online() => {
            let kind = match r.presented {
                Presented::MynaCard => Kind::MynaCard,
                Presented::Smartphone => Kind::MynaPhone,
                Presented::Nothing => return None,
                _ => Kind::Numbers,
            };
            Some(Confirmation { day, kind, patient: person_key(&r.patient) })
        }
        RecordEvent::FollowUpResult(f) if f.confirmed() => {
            Some(Confirmation { day, kind: Kind::Numbers, patient: None })
        }
        _ => None,
    }
}

/// One ledger row as the counts read it: `(record_id, kind, device_time, body)`.
pub type LedgerRow<'a> = (&'a str, &'a str, &'a str, &'a serde_json::Value);

/// The confirmations of a ledger; a voided record (a double entry, the wrong patient)
/// counts for nothing.
pub fn confirmations<'a>(rows: impl IntoIterator<Item = LedgerRow<'a>>) -> Vec<Confirmation> {
    let rows: Vec<LedgerRow<'a>> = rows.into_iter().collect();
    let voided: BTreeSet<&str> =
        rows.iter().filter(|(_, kind, _, _)| *kind == "voided").map(|(id, ..)| *id).collect();
    rows.iter()
        .filter(|(id, ..)| !voided.contains(id))
        .filter_map(|(_, kind, time, body)| from_event(kind, time, body))
        .collect()
}

/// One month (or day) of counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// オンライン資格確認利用件数.
    pub online: u64,
    /// マイナ保険証利用件数 (card + phone).
    pub myna: u64,
    /// Of which by smartphone.
    pub phone: u64,
    /// Distinct persons confirmed online (receipt-like basis).
    pub persons: u64,
    /// Distinct persons who used the マイナ保険証.
    pub myna_persons: u64,
}

impl Counts {
    /// 利用率 (オン資 basis).
    pub fn rate(&self) -> Option<Rate> {
        Rate::new(self.myna, self.online)
    }

    /// 利用割合 by persons (the basis the 加算 uses).
    pub fn person_rate(&self) -> Option<Rate> {
        Rate::new(self.myna_persons, self.persons)
    }

    /// Smartphone share of マイナ保険証 uses.
    pub fn phone_share(&self) -> Option<Rate> {
        Rate::new(self.phone, self.myna)
    }
}

/// A month's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthUsage {
    pub month: YearMonth,
    pub counts: Counts,
}

fn count<'a>(confirmations: impl Iterator<Item = &'a Confirmation>) -> Counts {
    let mut c = Counts::default();
    let mut persons = BTreeSet::new();
    let mut myna_persons = BTreeSet::new();
    for (i, x) in confirmations.enumerate() {
        c.online += 1;
        let who = x.patient.clone().unwrap_or_else(|| format!("#{i}"));
        if matches!(x.kind, Kind::MynaCard | Kind::MynaPhone) {
            c.myna += 1;
            myna_persons.insert(who.clone());
        }
        if x.kind == Kind::MynaPhone {
            c.phone += 1;
        }
        persons.insert(who);
    }
    c.persons = persons.len() as u64;
    c.myna_persons = myna_persons.len() as u64;
    c
}

/// Counts per month, in month order (months without confirmations are absent).
pub fn monthly(confirmations: &[Confirmation]) -> Vec<MonthUsage> {
    let mut by_month: BTreeMap<YearMonth, Vec<&Confirmation>> = BTreeMap::new();
    for c in confirmations {
        by_month.entry(c.day.year_month()).or_default().push(c);
    }
    by_month
        .into_iter()
        .map(|(month, list)| MonthUsage { month, counts: count(list.into_iter()) })
        .collect()
}

/// Counts per day, in day order.
pub fn daily(confirmations: &[Confirmation]) -> Vec<(Date, Counts)> {
    let mut by_day: BTreeMap<Date, Vec<&Confirmation>> = BTreeMap::new();
    for c in confirmations {
        by_day.entry(c.day).or_default().push(c);
    }
    by_day.into_iter().map(|(day, list)| (day, count(list.into_iter()))).collect()
}

/// The counts of `month`, zero when it has none.
pub fn month_of(usage: &[MonthUsage], month: YearMonth) -> Counts {
    usage.iter().find(|m| m.month == month).map(|m| m.counts.clone()).unwrap_or_default()
}

#[cfg(test)]
mod counting_only_tests {
    use super::*;

    /// A pruned row counts as the row it came from, and holds nothing about the patient.
    #[test]
    fn a_counting_only_body_counts_the_same_and_names_nobody() {
        let t = "2026-11-25T09:00:00+09:00";
        let body = serde_json::json!({
            "status": "confirmed", "method": "card",
            "patient": { "name": "山田 太郎", "kana": "ヤマダ タロウ", "birth": "1980-04-01", "insurer": "01130012", "number": "1" },
        });
        let slim = counting_only("reception", t, &body).unwrap();
        let text = slim.to_string();
        for secret in ["山田", "ヤマダ", "1980", "01130012"] {
            assert!(!text.contains(secret), "{secret} kept in {text}");
        }
        assert_eq!(from_event("reception", t, &slim), from_event("reception", t, &body));
        assert!(from_event("reception", t, &body).is_some());
        let done = serde_json::json!({ "follow_up_id": 1, "state": "done", "result": { "interpretation": { "status": { "status": "confirmed" } }, "answer": { "name": "山田" } } });
        let slim = counting_only("follow_up_result", t, &done).unwrap();
        assert!(!slim.to_string().contains("山田"));
        assert_eq!(
            from_event("follow_up_result", t, &slim),
            from_event("follow_up_result", t, &done)
        );
        assert!(from_event("follow_up_result", t, &done).is_some());
    }
}
