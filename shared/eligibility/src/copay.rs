//! 負担割合: taken from the national system's answer when it carries one, otherwise
//! estimated from the age band on the visit date. The result always says which.

use crate::age::AgeBand;
use crate::date::Date;
use crate::policy::Policy;
use crate::Text;
use serde::{Deserialize, Serialize};

/// The answer fields that carry a ratio (all optional; values as the XML has them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopayFields {
    /// 後期高齢者: `InsuredPartialContributionRatio`, 3-digit percent (`010` = 1割).
    pub insured_partial_contribution_ratio: Option<String>,
    /// 70–74: `ElderlyRecipientContributionRatio`, 3-digit percent.
    pub elderly_recipient_contribution_ratio: Option<String>,
    /// `PreschoolClassification`: `1` = 未就学.
    pub preschool_classification: Option<String>,
}

/// Which answer field confirmed the ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerField {
    InsuredPartialContributionRatio,
    ElderlyRecipientContributionRatio,
    PreschoolClassification,
}

/// Why a ratio is only an estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", try_from = "TaggedRow")]
pub enum EstimateReason {
    /// No online answer (offline, or not yet confirmed).
    NoOnlineAnswer,
    /// Ages 6–69: the answer never carries a ratio; 3割 applies (inferred, domain.md §4).
    NotSentForThisAge,
    /// The band's field should have been in the answer but was not (the 熊本市 case).
    MissingFromAnswer { expected: AnswerField },
    /// A field was present but unreadable; it was ignored.
    UnreadableField { field: AnswerField, value: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", try_from = "TaggedRow")]
pub enum Basis {
    Confirmed { field: AnswerField },
    Estimated { reasons: Vec<EstimateReason> },
}

/// [`Basis`] and [`EstimateReason`] read back through one flat struct of their JSON: serde's
/// reader of an internally tagged enum buffers every value first, which costs the
/// terminal's wasm.
#[derive(Deserialize)]
struct TaggedRow {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    field: Option<AnswerField>,
    #[serde(default)]
    expected: Option<AnswerField>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    reasons: Vec<EstimateReason>,
}

impl TryFrom<TaggedRow> for Basis {
    type Error = String;
    fn try_from(row: TaggedRow) -> Result<Basis, String> {
        match (row.kind.as_deref(), row.field) {
            (Some("confirmed"), Some(field)) => Ok(Basis::Confirmed { field }),
            (Some("estimated"), _) => Ok(Basis::Estimated { reasons: row.reasons }),
            (other, _) => Err(format!("not a copay basis: kind {other:?}")),
        }
    }
}

impl TryFrom<TaggedRow> for EstimateReason {
    type Error = String;
    fn try_from(row: TaggedRow) -> Result<EstimateReason, String> {
        Ok(match (row.reason.as_deref(), row.expected, row.field, row.value) {
            (Some("no_online_answer"), ..) => EstimateReason::NoOnlineAnswer,
            (Some("not_sent_for_this_age"), ..) => EstimateReason::NotSentForThisAge,
            (Some("missing_from_answer"), Some(expected), ..) => {
                EstimateReason::MissingFromAnswer { expected }
            }
            (Some("unreadable_field"), _, Some(field), Some(value)) => {
                EstimateReason::UnreadableField { field, value }
            }
            (other, ..) => return Err(format!("not an estimate reason: {other:?}")),
        })
    }
}

/// The copay to collect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Copay {
    pub percent: u8,
    pub band: AgeBand,
    pub basis: Basis,
    /// Other ratios the patient may actually have, when estimated (70–74 may be 3割;
    /// 75+ may be 2割 or 3割). Empty when confirmed.
    pub could_also_be: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum CopayError {
    #[error("生年月日（{birth}）が受診日（{visit}）より後です。生年月日を確認してください / the birth date {birth} is after the visit {visit}: check the birth date")]
    BornAfterVisit { birth: Date, visit: Date },
    #[error("{visit} に適用される負担割合の規則がポリシー表にありません / the policy table has no copay rule for {visit}")]
    NoRule { visit: Date },
}

impl Copay {
    /// Says the ratio and its basis in one line for staff.
    pub fn summary(&self) -> (String, String) {
        let wari = self.percent / 10;
        match &self.basis {
            Basis::Confirmed { .. } => (
                format!("{wari}割（オンライン資格確認の結果）"),
                format!("{}% (from the online confirmation)", self.percent),
            ),
            Basis::Estimated { .. } => (
                format!("{wari}割（年齢からの推定：{}）", self.band.label().ja),
                format!("{}% (estimated from age: {})", self.percent, self.band.label().en),
            ),
        }
    }

    pub fn is_confirmed(&self) -> bool {
        matches!(self.basis, Basis::Confirmed { .. })
    }
}

/// Parses a 3-digit percent (`010`); `None` for anything else.
fn parse_ratio(value: &str) -> Option<u8> {
    let v = value.trim();
    if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u8>().ok().filter(|p| *p <= 100)
}

/// The copay on `visit` for a person born on `birth`, from `fields` when they carry a
/// ratio. Never fails on field content: an unreadable field is reported and ignored.
/// `answer` is `None` when there is no online answer at all.
pub fn copay(
    policy: &Policy,
    birth: Date,
    visit: Date,
    answer: Option<&CopayFields>,
) -> Result<Copay, CopayError> {
    let empty = CopayFields::default();
    let fields = answer.unwrap_or(&empty);
    let band = AgeBand::on(birth, visit).ok_or(CopayError::BornAfterVisit { birth, visit })?;
    let rule = policy.copay(visit).ok_or(CopayError::NoRule { visit })?;
    let mut reasons = Vec::new();

    let ratio_fields = [
        (AnswerField::InsuredPartialContributionRatio, &fields.insured_partial_contribution_ratio),
        (
            AnswerField::ElderlyRecipientContributionRatio,
            &fields.elderly_recipient_contribution_ratio,
        ),
    ];
    for (field, value) in ratio_fields {
        let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) else { continue };
        match parse_ratio(value) {
            Some(percent) => {
                return Ok(Copay {
                    percent,
                    band,
                    basis: Basis::Confirmed { field },
                    could_also_be: vec![],
                })
            }
            None => {
                reasons.push(EstimateReason::UnreadableField { field, value: value.to_string() })
            }
        }
    }
    match fields.preschool_classification.as_deref().map(str::trim) {
        Some("1") => {
            return Ok(Copay {
                percent: rule.preschool,
                band: AgeBand::Preschool,
                basis: Basis::Confirmed { field: AnswerField::PreschoolClassification },
                could_also_be: vec![],
            })
        }
        Some("") | Some("0") | None => {}
        Some(other) => reasons.push(EstimateReason::UnreadableField {
            field: AnswerField::PreschoolClassification,
            value: other.to_string(),
        }),
    }

    let (percent, could_also_be, expected) = match band {
        AgeBand::Preschool => (rule.preschool, vec![], Some(AnswerField::PreschoolClassification)),
        AgeBand::WorkingAge => (rule.working_age, vec![], None),
        AgeBand::Age70To74 => (
            rule.age_70_to_74,
            vec![rule.working_age],
            Some(AnswerField::ElderlyRecipientContributionRatio),
        ),
        AgeBand::LateElderly => (
            rule.late_elderly,
            vec![rule.age_70_to_74, rule.working_age],
            Some(AnswerField::InsuredPartialContributionRatio),
        ),
    };
    reasons.push(match (answer, expected) {
        (None, _) => EstimateReason::NoOnlineAnswer,
        (Some(_), None) => EstimateReason::NotSentForThisAge,
        (Some(_), Some(expected)) => EstimateReason::MissingFromAnswer { expected },
    });
    Ok(Copay { percent, band, basis: Basis::Estimated { reasons }, could_also_be })
}

impl EstimateReason {
    pub fn text(&self) -> (String, String) {
        match self {
            EstimateReason::NoOnlineAnswer => (
                "オンライン資格確認の回答がないため年齢から推定しています".into(),
                "no online answer: estimated from age".into(),
            ),
            EstimateReason::NotSentForThisAge => (
                "この年齢では回答に負担割合が含まれないため3割としています".into(),
                "the answer carries no ratio at this age; 30% applies".into(),
            ),
            EstimateReason::MissingFromAnswer { expected } => (
                format!("回答に {expected:?} がありません。保険者に確認してください"),
                format!("{expected:?} is missing from the answer: ask the insurer"),
            ),
            EstimateReason::UnreadableField { field, value } => (
                format!("{field:?} の値「{value}」を読めないため無視しました"),
                format!("{field:?} has an unreadable value {value:?}; ignored"),
            ),
        }
    }
}

/// Bilingual label for the confirmed/estimated badge.
pub fn basis_label(basis: &Basis) -> Text {
    match basis {
        Basis::Confirmed { .. } => Text::new("確定", "confirmed"),
        Basis::Estimated { .. } => Text::new("推定", "estimated"),
    }
}

#[cfg(test)]
mod serde_tests {
    use super::*;

    /// Every basis and reason reads back from the JSON it writes (the flat reader and the
    /// tagged writer agree), and a wrong tag is an error, not a default.
    #[test]
    fn the_flat_reader_reads_what_the_tagged_writer_wrote() {
        let reasons = vec![
            EstimateReason::NoOnlineAnswer,
            EstimateReason::NotSentForThisAge,
            EstimateReason::MissingFromAnswer { expected: AnswerField::PreschoolClassification },
            EstimateReason::UnreadableField {
                field: AnswerField::InsuredPartialContributionRatio,
                value: "0x1".into(),
            },
        ];
        for basis in [
            Basis::Confirmed { field: AnswerField::ElderlyRecipientContributionRatio },
            Basis::Estimated { reasons },
        ] {
            let json = serde_json::to_value(&basis).unwrap();
            assert_eq!(serde_json::from_value::<Basis>(json.clone()).unwrap(), basis, "{json}");
        }
        assert!(serde_json::from_str::<Basis>(r#"{"kind":"maybe"}"#).is_err());
        assert!(serde_json::from_str::<Basis>(r#"{"kind":"confirmed"}"#).is_err());
        assert!(
            serde_json::from_str::<EstimateReason>(r#"{"reason":"missing_from_answer"}"#).is_err()
        );
    }
}
