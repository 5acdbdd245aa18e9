//! The two national series of the マイナ保険証 利用率, as dated data (`data/series.tsv`,
//! embedded), never mixed: オン資件数ベース (uses ÷ online confirmations, the seed's) and
//! レセプト件数ベース (persons ÷ receipts, MHLW's headline since December 2025 and the basis
//! of the 加算). Each point keeps its month, basis and source; the screen says which basis
//! each figure is.

use crate::benchmarks::{DataError, Facility};
use eligibility::YearMonth;
use serde::Serialize;

const EMBEDDED: &str = include_str!("../data/series.tsv");

/// Which series a figure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesBasis {
    /// オン資件数ベース.
    Online,
    /// レセプト件数ベース.
    Receipt,
}

impl SeriesBasis {
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            SeriesBasis::Online => ("オン資件数ベース", "per online confirmation"),
            SeriesBasis::Receipt => ("レセプト件数ベース", "per receipt"),
        }
    }
}

/// One published national figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeriesPoint {
    pub basis: SeriesBasis,
    pub month: YearMonth,
    /// `None`: every facility type.
    pub facility: Option<Facility>,
    /// As printed, in hundredths of a percent.
    pub basis_points: u64,
    pub source: String,
}

impl SeriesPoint {
    /// `37.14%`.
    pub fn display(&self) -> String {
        format!("{}.{:02}%", self.basis_points / 100, self.basis_points % 100)
    }
}

/// Every point of both series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub points: Vec<SeriesPoint>,
}

fn percent_bp(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
    let frac = format!("{frac:0<2}");
    if frac.len() != 2 {
        return None;
    }
    Some(whole.parse::<u64>().ok()? * 100 + frac.parse::<u64>().ok()?)
}

impl Series {
    pub fn embedded() -> Result<Series, DataError> {
        Series::parse(EMBEDDED)
    }

    pub fn parse(text: &str) -> Result<Series, DataError> {
        let mut points = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if raw.starts_with('#') || raw.trim().is_empty() {
                continue;
            }
            let bad = |reason: &str| DataError { line, reason: reason.to_string() };
            let cols: Vec<&str> = raw.split('\t').collect();
            let [basis, month, facility, rate, source] = cols[..] else {
                return Err(bad("expected 5 tab-separated columns"));
            };
            let basis = match basis {
                "online" => SeriesBasis::Online,
                "receipt" => SeriesBasis::Receipt,
                other => return Err(bad(&format!("unknown basis {other:?}"))),
            };
            let month = YearMonth::parse(month).map_err(|e| bad(&e.to_string()))?;
            let facility = match facility {
                "all" => None,
                other => Some(
                    Facility::from_setting(other)
                        .ok_or_else(|| bad(&format!("unknown facility {other:?}")))?,
                ),
            };
            let basis_points = percent_bp(rate).ok_or_else(|| bad("rate is not a percentage"))?;
            if basis_points > 10_000 {
                return Err(bad("rate above 100%"));
            }
            points.push(SeriesPoint {
                basis,
                month,
                facility,
                basis_points,
                source: source.into(),
            });
        }
        Ok(Series { points })
    }

    /// The newest figure of `basis` for `facility` (its own when published, else every
    /// facility's), at or before `month`.
    pub fn latest(
        &self,
        basis: SeriesBasis,
        facility: Facility,
        month: YearMonth,
    ) -> Option<&SeriesPoint> {
        let newest = |want: Option<Facility>| {
            self.points
                .iter()
                .filter(|p| p.basis == basis && p.facility == want && p.month <= month)
                .max_by_key(|p| p.month)
        };
        match (newest(Some(facility)), newest(None)) {
            (Some(own), Some(all)) if all.month > own.month => Some(all),
            (Some(own), _) => Some(own),
            (None, all) => all,
        }
    }
}
