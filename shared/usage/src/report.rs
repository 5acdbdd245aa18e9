//! The usage report the 利用状況 screen and `bridge report usage` both show: the month and
//! the six before it, the benchmarks for the clinic's facility type and prefecture, and the
//! 加算 projection — one computation for both.

use crate::benchmarks::{Benchmarks, Facility};
use crate::ledger::{monthly, Counts};
use crate::rate::Rate;
use crate::tier::{projection, Basis, Projection};
use eligibility::{Policy, YearMonth};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthRow {
    pub month: YearMonth,
    pub counts: Counts,
    pub rate: Option<Rate>,
    pub person_rate: Option<Rate>,
    pub phone_share: Option<Rate>,
}

/// A national or prefectural figure, with the month it is from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Benchmark {
    pub month: YearMonth,
    pub rate: Rate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub month: YearMonth,
    pub facility: Facility,
    pub prefecture: Option<u8>,
    /// Oldest first, ending with `month`.
    pub months: Vec<MonthRow>,
    pub national: Option<Benchmark>,
    pub prefecture_rate: Option<Benchmark>,
    pub benchmark_source: String,
    /// The newest national figure of each series for the facility type, at or before the
    /// month: オン資件数ベース, then レセプト件数ベース (the 加算's basis). Each says its basis.
    pub latest: Vec<crate::series::SeriesPoint>,
    /// `None` when the policy table has no 加算 rule for `month` (with the reason).
    pub projection: Option<Projection>,
    pub projection_error: Option<String>,
    /// The 加算 in sentences: the requirement, reached or not, this month's gap, caveats —
    /// or, with no rule, that the table knows none (never a blank).
    pub addition_summary: Vec<crate::tier::Line>,
    /// The month's expiring and lapsed certificates and invitations (声かけ).
    pub patient_side: crate::care::PatientSide,
}

/// Ledger events as `(record_id, kind, device_time, body)`.
#[allow(clippy::too_many_arguments)]
pub fn report<'a>(
    events: impl IntoIterator<Item = crate::ledger::LedgerRow<'a>>,
    benchmarks: &Benchmarks,
    series: &crate::series::Series,
    policy: &Policy,
    month: YearMonth,
    facility: Facility,
    prefecture: Option<u8>,
    pediatric: bool,
) -> Report {
    let events: Vec<crate::ledger::LedgerRow<'a>> = events.into_iter().collect();
    let patient_side = crate::care::patient_side(events.iter().copied(), month);
    let confirmations = crate::ledger::confirmations(events);
    let usage = monthly(&confirmations);
    let months = (0..=6)
        .rev()
        .map(|back| {
            let m = month.minus(back);
            let counts = crate::ledger::month_of(&usage, m);
            MonthRow {
                month: m,
                rate: counts.rate(),
                person_rate: counts.person_rate(),
                phone_share: counts.phone_share(),
                counts,
            }
        })
        .collect();
    let bench = |rate: Option<Rate>| rate.map(|rate| Benchmark { month: benchmarks.month, rate });
    let (projection, projection_error) = match projection(
        policy,
        month,
        month,
        &usage,
        Basis::Persons,
        facility.addition(),
        pediatric,
    ) {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Report {
        month,
        facility,
        prefecture,
        months,
        national: bench(benchmarks.national(Some(facility))),
        prefecture_rate: bench(
            prefecture
                .and_then(|code| benchmarks.prefecture(code, facility))
                .and_then(|r| r.rate()),
        ),
        benchmark_source: benchmarks.source.clone(),
        latest: [crate::series::SeriesBasis::Online, crate::series::SeriesBasis::Receipt]
            .into_iter()
            .filter_map(|basis| series.latest(basis, facility, month).cloned())
            .collect(),
        addition_summary: match (&projection, &projection_error) {
            (Some(p), _) => p.summary(),
            (None, error) => {
                let why = error.clone().unwrap_or_default();
                vec![crate::tier::Line { ja: why.clone(), en: why }]
            }
        },
        projection,
        projection_error,
        patient_side,
    }
}

impl Report {
    /// CSV: one row per month, then the benchmarks and the projection as rows.
    pub fn to_csv(&self) -> String {
        let pct = |r: Option<Rate>| r.map(|r| r.display()).unwrap_or_default();
        let mut out = String::from(
            "month,online,myna,phone,persons,myna_persons,rate,person_rate,phone_share\n",
        );
        for m in &self.months {
            let c = &m.counts;
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                m.month,
                c.online,
                c.myna,
                c.phone,
                c.persons,
                c.myna_persons,
                pct(m.rate),
                pct(m.person_rate),
                pct(m.phone_share)
            ));
        }
        if let Some(n) = &self.national {
            out.push_str(&format!(
                "national {:?} ({}),,,,,,{},,\n",
                self.facility,
                n.month,
                n.rate.display()
            ));
        }
        if let Some(p) = &self.prefecture_rate {
            out.push_str(&format!(
                "prefecture {} {:?} ({}),,,,,,{},,\n",
                self.prefecture.unwrap_or(0),
                self.facility,
                p.month,
                p.rate.display()
            ));
        }
        if let Some(p) = &self.projection {
            out.push_str(&format!(
                "加算 {} tier,{},,,,,,,\n",
                p.billing,
                p.reached.map_or("none".to_string(), |t| t.to_string())
            ));
        }
        for p in &self.latest {
            out.push_str(&format!(
                "national {} {:?} ({}),,,,,,{},,\n",
                p.basis.label().1,
                p.facility,
                p.month,
                p.display()
            ));
        }
        let p = &self.patient_side;
        for (label, n) in [
            ("証明書 期限3か月以内 / expiring within 3 months", p.expires_soon),
            ("証明書 猶予期間中 / in grace", p.in_grace),
            ("証明書 期限切れ / lapsed", p.lapsed),
            ("声かけ / invited", p.invited),
            ("声かけ後の来院 / invited, seen again", p.seen_again),
            ("うちマイナ保険証 / of whom with the マイナ保険証", p.returned_with_myna),
        ] {
            out.push_str(&format!("\"{label}\",{n},,,,,,,\n"));
        }
        for l in &self.addition_summary {
            out.push_str(&format!("\"{}\",,,,,,,,\n", l.ja.replace('"', "'")));
        }
        out
    }
}
