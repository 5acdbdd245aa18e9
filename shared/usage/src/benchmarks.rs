//! The national benchmark: July 2025 figures from the seed, as dated data
//! (`data/2025-07.tsv`, embedded). Every figure keeps its counts; rates are computed.

use crate::prefecture::code_of;
use crate::rate::Rate;
use eligibility::YearMonth;
use serde::Serialize;

/// Facility types as the seed counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Facility {
    Hospital,
    /// 医科診療所 (内科診療所 in the national totals).
    Clinic,
    Dental,
    Pharmacy,
}

impl Facility {
    pub const ALL: [Facility; 4] =
        [Facility::Hospital, Facility::Clinic, Facility::Dental, Facility::Pharmacy];

    /// Which 加算 row applies: pharmacies have their own (調剤), everyone else the 医科 one.
    pub fn addition(self) -> eligibility::policy::AdditionFacility {
        match self {
            Facility::Pharmacy => eligibility::policy::AdditionFacility::Pharmacy,
            _ => eligibility::policy::AdditionFacility::Clinic,
        }
    }

    /// The seed's names (totals table, ranking table).
    pub fn seed_names(self) -> (&'static str, &'static str) {
        match self {
            Facility::Hospital => ("病院", "病院"),
            Facility::Clinic => ("内科診療所", "医科診療所"),
            Facility::Dental => ("歯科診療所", "歯科診療所"),
            Facility::Pharmacy => ("薬局", "薬局"),
        }
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Facility::Hospital => ("病院", "hospital"),
            Facility::Clinic => ("医科診療所", "clinic"),
            Facility::Dental => ("歯科診療所", "dental clinic"),
            Facility::Pharmacy => ("薬局", "pharmacy"),
        }
    }

    /// From the terminal's setting (`clinic`, `hospital`, `dental`, `pharmacy`).
    pub fn from_setting(s: &str) -> Option<Facility> {
        match s {
            "hospital" => Some(Facility::Hospital),
            "clinic" => Some(Facility::Clinic),
            "dental" => Some(Facility::Dental),
            "pharmacy" => Some(Facility::Pharmacy),
            _ => None,
        }
    }

    fn from_seed(name: &str) -> Option<Facility> {
        Facility::ALL.into_iter().find(|f| f.seed_names().0 == name || f.seed_names().1 == name)
    }
}

/// 【7月分実績の内訳】: one facility type (or 総計 when `facility` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Total {
    pub facility: Option<Facility>,
    /// オンライン資格確認利用件数 (合計).
    pub online: u64,
    /// マイナンバーカード.
    pub myna: u64,
    /// 保険証.
    pub insurance_card: u64,
}

/// 都道府県別の利用率 (all facility types), with the change from the month before in
/// hundredths of a point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrefectureRate {
    /// JIS code; 0 for 全国.
    pub code: u8,
    pub printed_basis_points: u64,
    pub change_basis_points: i64,
}

/// One row of a facility type's prefecture ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankRow {
    pub facility: Facility,
    pub rank: u8,
    pub previous_rank: u8,
    pub code: u8,
    /// As printed (hundredths of a percent), for the cross-check.
    pub printed_basis_points: u64,
    pub myna: u64,
    pub online: u64,
}

impl RankRow {
    pub fn rate(&self) -> Option<Rate> {
        Rate::new(self.myna, self.online)
    }
}

/// A line of the data file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "利用実績データの {line} 行目を読めません: {reason} / benchmark data line {line}: {reason}"
)]
pub struct DataError {
    pub line: usize,
    pub reason: String,
}

/// One month of national figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Benchmarks {
    pub month: YearMonth,
    pub source: String,
    pub totals: Vec<Total>,
    pub prefectures: Vec<PrefectureRate>,
    pub ranks: Vec<RankRow>,
}

const EMBEDDED: &str = include_str!("../data/2025-07.tsv");

/// `30.26` → 3026; `+0.76` → 76.
fn hundredths(text: &str) -> Option<i64> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, frac) = digits.split_once('.')?;
    if frac.len() != 2 {
        return None;
    }
    Some(sign * (whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?))
}

impl Benchmarks {
    /// The figures shipped with this build.
    pub fn embedded() -> Result<Benchmarks, DataError> {
        Benchmarks::parse(EMBEDDED)
    }

    pub fn embedded_text() -> &'static str {
        EMBEDDED
    }

    pub fn parse(text: &str) -> Result<Benchmarks, DataError> {
        let mut month = None;
        let mut source = String::new();
        let (mut totals, mut prefectures, mut ranks) = (Vec::new(), Vec::new(), Vec::new());
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let bad = |reason: &str| DataError { line: line_no, reason: reason.to_string() };
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split('\t').map(str::trim).collect();
            let num = |k: usize| -> Result<u64, DataError> {
                f.get(k).and_then(|v| v.parse().ok()).ok_or_else(|| bad("a count is not a number"))
            };
            match f[0] {
                "month" => {
                    month = Some(
                        f.get(1)
                            .and_then(|m| YearMonth::parse(m).ok())
                            .ok_or_else(|| bad("month must be YYYY-MM"))?,
                    )
                }
                "source" => source = f.get(1).unwrap_or(&"").to_string(),
                "total" => {
                    let name = f.get(1).copied().unwrap_or("");
                    let facility = if name == "総計" {
                        None
                    } else {
                        Some(
                            Facility::from_seed(name)
                                .ok_or_else(|| bad("unknown facility type"))?,
                        )
                    };
                    totals.push(Total {
                        facility,
                        online: num(2)?,
                        myna: num(3)?,
                        insurance_card: num(4)?,
                    });
                }
                "prefecture" => {
                    let name = f.get(1).copied().unwrap_or("");
                    let code = if name == "全国" {
                        0
                    } else {
                        code_of(name).ok_or_else(|| bad("unknown prefecture"))?
                    };
                    let rate = f
                        .get(2)
                        .and_then(|v| hundredths(v))
                        .ok_or_else(|| bad("rate must be NN.NN"))?;
                    let change = f
                        .get(3)
                        .and_then(|v| hundredths(v))
                        .ok_or_else(|| bad("change must be +N.NN"))?;
                    prefectures.push(PrefectureRate {
                        code,
                        printed_basis_points: rate.unsigned_abs(),
                        change_basis_points: change,
                    });
                }
                "rank" => {
                    let facility = f
                        .get(1)
                        .and_then(|n| Facility::from_seed(n))
                        .ok_or_else(|| bad("unknown facility type"))?;
                    let small = |k: usize| -> Result<u8, DataError> {
                        f.get(k)
                            .and_then(|v| v.parse().ok())
                            .ok_or_else(|| bad("a rank is not a number"))
                    };
                    ranks.push(RankRow {
                        facility,
                        rank: small(2)?,
                        previous_rank: small(3)?,
                        code: f
                            .get(4)
                            .and_then(|n| code_of(n))
                            .ok_or_else(|| bad("unknown prefecture"))?,
                        printed_basis_points: f
                            .get(5)
                            .and_then(|v| hundredths(v))
                            .ok_or_else(|| bad("rate must be NN.NN"))?
                            .unsigned_abs(),
                        myna: num(6)?,
                        online: num(7)?,
                    });
                }
                other => return Err(bad(&format!("unknown record {other:?}"))),
            }
        }
        Ok(Benchmarks {
            month: month.ok_or(DataError { line: 0, reason: "no month".into() })?,
            source,
            totals,
            prefectures,
            ranks,
        })
    }

    /// The nation's rate for a facility type (`None`: all types).
    pub fn national(&self, facility: Option<Facility>) -> Option<Rate> {
        let t = self.totals.iter().find(|t| t.facility == facility)?;
        Rate::new(t.myna, t.online)
    }

    /// A prefecture's row for a facility type.
    pub fn prefecture(&self, code: u8, facility: Facility) -> Option<&RankRow> {
        self.ranks.iter().find(|r| r.code == code && r.facility == facility)
    }

    /// A prefecture's rate over all facility types, from the rankings' counts.
    pub fn prefecture_all_types(&self, code: u8) -> Option<Rate> {
        let rows = self.ranks.iter().filter(|r| r.code == code);
        let (m, o) = rows.fold((0, 0), |(m, o), r| (m + r.myna, o + r.online));
        Rate::new(m, o)
    }
}
