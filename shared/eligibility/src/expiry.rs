//! The electronic certificate's expiry as the patient must hear it: the state on a day,
//! the exact dates (never "soon" alone), and what the patient does next — one computation
//! for the counter's line, the printed slip and the 利用状況 forecast.
//!
//! The rules (reference §5): readers warn from 3 months before expiry; a card's expired
//! certificate serves insurance data only for the policy table's grace (3 months), a
//! phone's not at all. Renewal is at the patient's 市区町村 window (a reservation may be
//! needed); a phone's certificate is applied for again in the マイナポータル app with the
//! card (inferred from the デジタル庁 FAQ; the slip says to ask the 市区町村 when unsure).

use crate::policy::Holder;
use crate::{Date, Policy};
use serde::{Deserialize, Serialize};

/// How far before expiry readers (and this product) start to warn.
pub const WARNING_MONTHS: u32 = 3;

/// Where the certificate stands on the day it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryKind {
    /// Still valid; expires within [`WARNING_MONTHS`].
    ExpiresSoon,
    /// Expired; usable for insurance data only until [`Expiry::usable_until`].
    InGrace,
    /// Expired beyond any grace (a phone has none).
    Lapsed,
}

/// A certificate that needs the patient's attention, as seen on `seen_on`.
///
/// Written as one URL-safe word, `kind/holder/expires_on/usable_until/seen_on`
/// (`in_grace/card/2026-10-03/2027-01-03/2026-12-03`; `-` for no usable day): the record
/// carries it and the slip's link is it, and the counter's bundle parses it without a
/// struct deserializer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Expiry {
    pub kind: ExpiryKind,
    pub holder: Holder,
    /// The certificate's last valid day (notAfter, in Japan).
    pub expires_on: Date,
    /// The last day it can be used at reception: `expires_on`, the end of the grace, or
    /// `None` once lapsed.
    pub usable_until: Option<Date>,
    pub seen_on: Date,
}

const KINDS: [(ExpiryKind, &str); 3] = [
    (ExpiryKind::ExpiresSoon, "expires_soon"),
    (ExpiryKind::InGrace, "in_grace"),
    (ExpiryKind::Lapsed, "lapsed"),
];

impl From<Expiry> for String {
    fn from(x: Expiry) -> String {
        let kind = KINDS.iter().find(|(k, _)| *k == x.kind).map_or("", |(_, w)| w);
        let holder = if x.holder == Holder::Phone { "phone" } else { "card" };
        let usable = x.usable_until.map_or("-".to_string(), |d| d.to_string());
        format!("{kind}/{holder}/{}/{usable}/{}", x.expires_on, x.seen_on)
    }
}

impl TryFrom<String> for Expiry {
    type Error = String;
    fn try_from(text: String) -> Result<Expiry, String> {
        let bad =
            || format!("not a certificate expiry: {:?}", text.chars().take(60).collect::<String>());
        let parts: Vec<&str> = text.split('/').collect();
        let [kind, holder, expires_on, usable, seen_on] = parts[..] else { return Err(bad()) };
        let day = |s: &str| s.parse::<Date>().map_err(|_| bad());
        Ok(Expiry {
            kind: KINDS.iter().find(|(_, w)| *w == kind).ok_or_else(bad)?.0,
            holder: match holder {
                "card" => Holder::Card,
                "phone" => Holder::Phone,
                _ => return Err(bad()),
            },
            expires_on: day(expires_on)?,
            usable_until: if usable == "-" { None } else { Some(day(usable)?) },
            seen_on: day(seen_on)?,
        })
    }
}

/// One line in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub ja: String,
    pub en: String,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.ja, self.en)
    }
}

fn line(ja: impl Into<String>, en: impl Into<String>) -> Line {
    Line { ja: ja.into(), en: en.into() }
}

/// What the printed patient slip says, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slip {
    pub title: Line,
    /// What happened, with the exact dates.
    pub what: Line,
    /// The last day it works at reception, or that it no longer does.
    pub last_day: Line,
    /// Where and how to renew.
    pub renew: Vec<Line>,
    /// The date the slip was printed for.
    pub printed: Line,
}

impl Expiry {
    /// The certificate's state on `today` when it needs attention; `None` while it is valid
    /// for more than [`WARNING_MONTHS`]. A certificate not yet valid is the caller's to
    /// report (only the certificate itself knows its first day).
    pub fn on(policy: &Policy, holder: Holder, expires_on: Date, today: Date) -> Option<Expiry> {
        let (kind, usable_until) = if today <= expires_on {
            if expires_on > today.add_months(WARNING_MONTHS) {
                return None;
            }
            (ExpiryKind::ExpiresSoon, Some(expires_on))
        } else {
            let months = policy.certificate_grace(holder, today).map_or(0, |r| r.months);
            let grace_until = expires_on.add_months(months);
            if months > 0 && today <= grace_until {
                (ExpiryKind::InGrace, Some(grace_until))
            } else {
                (ExpiryKind::Lapsed, None)
            }
        };
        Some(Expiry { kind, holder, expires_on, usable_until, seen_on: today })
    }

    /// Days from `seen_on` to the last usable day (0 on the day itself; `None` once lapsed).
    pub fn days_left(&self) -> Option<i64> {
        self.usable_until.map(|d| self.seen_on.days_until(d))
    }

    /// The counter's line: the state with its exact dates.
    pub fn counter_line(&self) -> Line {
        let (e, days) = (self.expires_on, self.days_left().unwrap_or(0));
        match (self.kind, self.usable_until) {
            (ExpiryKind::ExpiresSoon, _) => line(
                format!("有効期限 {e}（あと{days}日）：更新をご案内ください"),
                format!("certificate expires {e} ({days} days left): advise renewal"),
            ),
            (ExpiryKind::InGrace, Some(g)) => line(
                format!("期限切れ：{g}まで保険証としてのみ利用可（有効期限 {e}）"),
                format!("expired {e}: usable as a health insurance card only until {g}"),
            ),
            _ if self.holder == Holder::Phone => line(
                format!("スマホの証明書は期限切れ（{e}）：スマホには猶予期間がありません"),
                format!("the phone's certificate expired {e}: a phone has no grace period"),
            ),
            _ => line(
                format!("期限切れ（{e}）：猶予期間も過ぎ、保険証として利用できません"),
                format!("expired {e}, grace over: cannot be used as a health insurance card"),
            ),
        }
    }

    /// The printed slip for the patient.
    pub fn slip(&self) -> Slip {
        let e = self.expires_on;
        let phone = self.holder == Holder::Phone;
        let what = match self.kind {
            ExpiryKind::ExpiresSoon => line(
                format!("マイナ保険証の電子証明書の有効期限は {e} です。"),
                format!(
                    "The electronic certificate of your My Number insurance card expires on {e}."
                ),
            ),
            _ => line(
                format!("マイナ保険証の電子証明書の有効期限（{e}）が過ぎています。"),
                format!(
                    "The electronic certificate of your My Number insurance card expired on {e}."
                ),
            ),
        };
        let last_day = match (self.kind, self.usable_until) {
            (ExpiryKind::ExpiresSoon, Some(d)) if phone => line(
                format!("スマホで使えるのは {d} までです。スマホには期限後の猶予がありません。"),
                format!("Your phone works until {d}. A phone has no grace period after expiry."),
            ),
            (ExpiryKind::ExpiresSoon, Some(d)) => line(
                format!("{d} まで使えます。期限後3か月は保険証としてのみ使えますが、お早めに更新してください。"),
                format!("It works until {d}. For 3 months after, it serves as a health insurance card only; please renew soon."),
            ),
            (ExpiryKind::InGrace, Some(g)) => line(
                format!("{g} まで保険証としてのみ使えます（お薬や診療の情報は使えません）。"),
                format!("Until {g} it serves as a health insurance card only (no medicine or treatment data)."),
            ),
            _ if phone => line(
                "スマホには猶予期間がなく、スマホ保険証は使えません。次回はカードか資格確認書をお持ちください。",
                "A phone has no grace period: the phone cannot be used. Next time bring your card or a 資格確認書.",
            ),
            _ => line(
                "猶予期間（3か月）も過ぎ、保険証として使えません。更新するまでは資格確認書などをお持ちください。",
                "The 3-month grace is over: it cannot be used. Until renewal, bring a 資格確認書 or similar.",
            ),
        };
        let mut renew = vec![if phone {
            line(
                "スマホの電子証明書は、マイナポータルアプリから申し込み直します（マイナンバーカードが必要です）。",
                "Apply again for the phone's certificate in the マイナポータル app (you need your My Number card).",
            )
        } else {
            line(
                "お住まいの市区町村の窓口で更新できます。予約が必要な場合があります。",
                "Renew at your city, ward, town or village office. A reservation may be needed.",
            )
        }];
        renew.push(line(
            "マイナンバーカードをお持ちください。暗証番号が分からないときも窓口で再設定できます。",
            "Bring your My Number card. If you forgot a PIN, the office can reset it.",
        ));
        Slip {
            title: line("電子証明書の有効期限のお知らせ", "Your electronic certificate's expiry"),
            what,
            last_day,
            renew,
            printed: line(format!("{} 発行", self.seen_on), format!("issued {}", self.seen_on)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn policy() -> Policy {
        Policy::embedded().unwrap()
    }

    #[test]
    fn the_issues_four_cases_carry_their_exact_dates() {
        let p = policy();
        let today = d("2026-12-03");
        let soon = Expiry::on(&p, Holder::Card, d("2026-12-13"), today).unwrap();
        assert_eq!(soon.kind, ExpiryKind::ExpiresSoon);
        assert_eq!(soon.counter_line().ja, "有効期限 2026-12-13（あと10日）：更新をご案内ください");
        assert!(soon.slip().last_day.ja.starts_with("2026-12-13 まで使えます"));

        let grace = Expiry::on(&p, Holder::Card, d("2026-10-03"), today).unwrap();
        assert_eq!(grace.kind, ExpiryKind::InGrace);
        assert_eq!(grace.usable_until, Some(d("2027-01-03")));
        assert!(grace
            .counter_line()
            .ja
            .starts_with("期限切れ：2027-01-03まで保険証としてのみ利用可"));

        let lapsed = Expiry::on(&p, Holder::Card, d("2026-08-03"), today).unwrap();
        assert_eq!(lapsed.kind, ExpiryKind::Lapsed);
        assert_eq!(lapsed.days_left(), None);
        assert!(lapsed.slip().what.ja.contains("2026-08-03"));

        let phone = Expiry::on(&p, Holder::Phone, d("2026-12-02"), today).unwrap();
        assert_eq!(phone.kind, ExpiryKind::Lapsed);
        assert!(phone.slip().last_day.ja.contains("猶予期間がなく"));
        assert!(phone.slip().renew[0].ja.contains("マイナポータルアプリ"));
    }

    #[test]
    fn the_last_days_are_inclusive() {
        let p = policy();
        let e = d("2026-10-31");
        assert_eq!(Expiry::on(&p, Holder::Card, e, e).unwrap().days_left(), Some(0));
        // 2026-10-31 + 3 months = 2027-01-31: in grace on that day, lapsed the next.
        let last = Expiry::on(&p, Holder::Card, e, d("2027-01-31")).unwrap();
        assert_eq!((last.kind, last.days_left()), (ExpiryKind::InGrace, Some(0)));
        assert_eq!(
            Expiry::on(&p, Holder::Card, e, d("2027-02-01")).unwrap().kind,
            ExpiryKind::Lapsed
        );
        // Warned from exactly 3 months before.
        assert!(Expiry::on(&p, Holder::Card, e, d("2026-07-31")).is_some());
        assert!(Expiry::on(&p, Holder::Card, e, d("2026-07-30")).is_none());
    }

    #[test]
    fn a_record_reads_back_what_it_wrote() {
        let x = Expiry::on(&policy(), Holder::Card, d("2026-10-03"), d("2026-12-03")).unwrap();
        let json = serde_json::to_value(x).unwrap();
        assert_eq!(json, "in_grace/card/2026-10-03/2027-01-03/2026-12-03");
        assert_eq!(serde_json::from_value::<Expiry>(json).unwrap(), x);
        let lapsed = Expiry { kind: ExpiryKind::Lapsed, usable_until: None, ..x };
        assert_eq!(Expiry::try_from(String::from(lapsed)), Ok(lapsed));
        for bad in [
            "",
            "in_grace/card",
            "soon/card/2026-10-03/-/2026-12-03",
            "lapsed/tablet/2026-10-03/-/2026-12-03",
            "lapsed/card/2026-13-03/-/2026-12-03",
            "lapsed/card/2026-10-03/-/2026-12-03/x",
        ] {
            assert!(Expiry::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    proptest! {
        /// Every state gives a line and a slip naming the expiry date, the last usable day
        /// is never before the day seen while usable, and a phone is never in grace.
        #[test]
        fn every_state_names_its_dates(
            expires in 0i64..4000, seen in 0i64..4000, phone in any::<bool>(),
        ) {
            let base = d("2024-01-01").day_number();
            let expires_on = Date::from_day_number(base + expires).unwrap();
            let today = Date::from_day_number(base + seen).unwrap();
            let holder = if phone { Holder::Phone } else { Holder::Card };
            if let Some(x) = Expiry::on(&policy(), holder, expires_on, today) {
                let e = expires_on.to_string();
                prop_assert!(x.counter_line().ja.contains(&e));
                prop_assert!(x.slip().what.ja.contains(&e));
                prop_assert!(x.days_left().is_none_or(|n| n >= 0));
                prop_assert!(!(phone && x.kind == ExpiryKind::InGrace));
                prop_assert_eq!(x.kind == ExpiryKind::ExpiresSoon, today <= expires_on);
            } else {
                prop_assert!(today.add_months(WARNING_MONTHS) < expires_on);
            }
        }
    }
}
