//! What an answer means at the counter: confirmed, an error, 無効, 無効（新しい資格あり）,
//! 該当なし, 複数該当 — with the system's message kept as is, the copay (through
//! `eligibility`), and the field problems clinics meet (● in names, the missing copay
//! ratio of the 熊本市 case).

use crate::model::{Answer, QualificationResult};
use eligibility::copay::{Basis, EstimateReason};
use eligibility::{copay, Copay, CopayFields, Date, Policy, Text};
use serde::Serialize;

/// `QualificationValidity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "validity", content = "code")]
pub enum Validity {
    Valid,
    Invalid,
    InvalidNewQualification,
    NotFound,
    Multiple,
    /// 有効（未登録）, seen for 医療扶助.
    ValidUnregistered,
    Unknown(String),
}

impl Validity {
    pub fn from_code(code: &str) -> Validity {
        match code {
            "1" => Validity::Valid,
            "2" => Validity::Invalid,
            "3" => Validity::InvalidNewQualification,
            "4" => Validity::NotFound,
            "5" => Validity::Multiple,
            "6" => Validity::ValidUnregistered,
            other => Validity::Unknown(other.to_string()),
        }
    }
}

/// `InsuredCardClassification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "classification", content = "code")]
pub enum CardClassification {
    General,
    Retired,
    ShortTermGeneral,
    ShortTermRetired,
    /// 05: 特別療養費支給対象者 (the 資格証明書 holder), per the OQSCD tables public code mirrors.
    SpecialCareRecipient,
    SpecialRetired,
    SelfDefenseForces,
    MedicalAid,
    Unknown(String),
}

impl CardClassification {
    pub fn from_code(code: &str) -> CardClassification {
        match code {
            "01" => CardClassification::General,
            "02" => CardClassification::Retired,
            "03" => CardClassification::ShortTermGeneral,
            "04" => CardClassification::ShortTermRetired,
            "05" => CardClassification::SpecialCareRecipient,
            "06" => CardClassification::SpecialRetired,
            "07" => CardClassification::SelfDefenseForces,
            "A1" => CardClassification::MedicalAid,
            other => CardClassification::Unknown(other.to_string()),
        }
    }
}

impl CardClassification {
    /// The classification in words for staff.
    pub fn label(&self) -> Text {
        match self {
            CardClassification::General => Text::new("一般", "general"),
            CardClassification::Retired => Text::new("退職", "retired"),
            CardClassification::ShortTermGeneral => Text::new("短期・一般", "short-term, general"),
            CardClassification::ShortTermRetired => Text::new("短期・退職", "short-term, retired"),
            CardClassification::SpecialCareRecipient => Text::new(
                "特別療養費支給対象者（資格証明書）",
                "special care-cost recipient (資格証明書)",
            ),
            CardClassification::SpecialRetired => Text::new("特例退職", "special retired"),
            CardClassification::SelfDefenseForces => {
                Text::new("自衛官診療証", "Self-Defense Forces")
            }
            CardClassification::MedicalAid => Text::new("医療扶助", "medical aid"),
            CardClassification::Unknown(_) => Text::new("不明な区分", "unknown classification"),
        }
    }
}

/// 同意区分 (OQSCD016 as public code mirrors it): 0 なし, 1 あり, 2 同意有効期限切れ,
/// 3 同意取得困難; anything else is shown with its code.
pub fn consent_label(code: &str) -> Text {
    match code.trim() {
        "0" => Text::new("同意なし", "no consent"),
        "1" => Text::new("同意あり", "consented"),
        "2" => Text::new("同意の有効期限切れ", "consent expired"),
        "3" => Text::new("同意の取得が困難", "consent could not be obtained"),
        _ => Text::new("不明な同意区分", "unknown consent code"),
    }
}

/// One consent the patient gave (or not) at the reader, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub what: Text,
    pub code: String,
    pub state: Text,
}

/// The outcome of a lookup or a card confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Status {
    /// SegmentOfResult 1, ProcessingResultStatus 1, QualificationValidity 1, one result.
    Confirmed,
    /// 処理中 (SegmentOfResult 2): not an answer yet — ask again shortly.
    Processing,
    /// The system could not process it (SegmentOfResult neither 1 nor 2, or
    /// ProcessingResultStatus 2); the code is in `Interpretation::code`.
    Error,
    Invalid,
    InvalidNewQualification,
    NotFound,
    /// Several qualifications: staff choose with the patient; never the first silently.
    Multiple {
        count: usize,
    },
    /// Valid but with no result, or a code this version does not know.
    Unexpected,
}

/// The reading of one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interpretation {
    pub status: Status,
    /// ErrorCode or ProcessingResultCode.
    pub code: Option<String>,
    /// ErrorMessage or ProcessingResultMessage, as sent (also notices on success).
    pub message: Option<String>,
    /// A name or address holds a stand-in (●, 〓, …) for a character outside the set:
    /// staff must correct it before it reaches the claim.
    pub names_need_correction: Vec<&'static str>,
    /// Valid, but the ratio the patient's age needs is not in the answer (熊本市 2025-07).
    pub copay_ratio_missing: bool,
    /// The copay on the visit date, when there is exactly one result with a birth date.
    pub copay: Option<Copay>,
    /// InsuredCardClassification of a single result, in words.
    pub card_classification: Option<Text>,
    /// The consents of a single result (薬剤情報, 診療情報, 手術情報, 特定健診, 限度額), in words.
    pub consents: Vec<Consent>,
}

fn has_stand_in(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(eligibility::text::has_stand_in)
}

/// Which name fields of `r` hold stand-ins.
pub fn stand_in_fields(r: &QualificationResult) -> Vec<&'static str> {
    let f = &r.fields;
    [
        ("Name", &f.name),
        ("NameKana", &f.name_kana),
        ("NameOfOther", &f.name_of_other),
        ("InsuredName", &f.insured_name),
        ("Address", &f.address),
    ]
    .into_iter()
    .filter(|(_, v)| has_stand_in(v))
    .map(|(n, _)| n)
    .collect()
}

/// The consent flags a result carries, in words.
fn consents_of(r: &QualificationResult) -> Vec<Consent> {
    let f = &r.fields;
    [
        (Text::new("薬剤情報", "medication"), &f.pharmacists_info_cons_flg),
        (Text::new("診療情報", "treatment"), &f.diagnosis_info_cons_flg),
        (Text::new("手術情報", "surgery"), &f.operation_info_cons_flg),
        (Text::new("特定健診情報", "health checkups"), &f.specific_health_checkups_info_cons_flg),
        (Text::new("限度額情報", "cost limit"), &f.limit_application_certificate_related_cons_flg),
    ]
    .into_iter()
    .filter_map(|(what, code)| {
        let code = code.as_deref()?.trim().to_string();
        (!code.is_empty()).then(|| Consent { what, state: consent_label(&code), code })
    })
    .collect()
}

/// The copay fields of a result, for `eligibility::copay`.
pub fn copay_fields(r: &QualificationResult) -> CopayFields {
    CopayFields {
        insured_partial_contribution_ratio: r.fields.insured_partial_contribution_ratio.clone(),
        elderly_recipient_contribution_ratio: r
            .elderly_recipient
            .as_ref()
            .and_then(|e| e.contribution_ratio.clone()),
        preschool_classification: r.fields.preschool_classification.clone(),
    }
}

/// Reads an answer for a visit on `visit`.
pub fn interpret(answer: &Answer, policy: &Policy, visit: Date) -> Interpretation {
    let h = &answer.header;
    let b = &answer.body;
    let failed = h.segment_of_result.as_deref().is_some_and(|s| s != "1")
        || b.processing_result_status.as_deref() == Some("2");
    let (code, message) = if failed && (h.error_code.is_some() || h.error_message.is_some()) {
        (h.error_code.clone(), h.error_message.clone())
    } else {
        (b.processing_result_code.clone(), b.processing_result_message.clone())
    };
    let validity = b.qualification_validity.as_deref().map(Validity::from_code);
    let status = if h.segment_of_result.as_deref() == Some("2") {
        Status::Processing
    } else if failed {
        Status::Error
    } else {
        match (validity, answer.results.len()) {
            (_, n) if n > 1 => Status::Multiple { count: n },
            (Some(Validity::Multiple), n) => Status::Multiple { count: n },
            (Some(Validity::Valid | Validity::ValidUnregistered), 1) => Status::Confirmed,
            (Some(Validity::Invalid), _) => Status::Invalid,
            (Some(Validity::InvalidNewQualification), _) => Status::InvalidNewQualification,
            (Some(Validity::NotFound), _) => Status::NotFound,
            _ => Status::Unexpected,
        }
    };
    let names_need_correction = answer.results.iter().flat_map(stand_in_fields).collect::<Vec<_>>();
    let single = (answer.results.len() == 1).then(|| &answer.results[0]);
    let copay = single.and_then(|r| {
        let birth = Date::parse(r.fields.birthdate.as_deref()?).ok()?;
        copay(policy, birth, visit, Some(&copay_fields(r))).ok()
    });
    let copay_ratio_missing = status == Status::Confirmed
        && copay.as_ref().is_some_and(|c| {
            matches!(&c.basis, Basis::Estimated { reasons } if reasons.iter().any(|r| matches!(r, EstimateReason::MissingFromAnswer { .. })))
        });
    let card_classification = single.and_then(|r| {
        r.fields
            .insured_card_classification
            .as_deref()
            .map(|c| CardClassification::from_code(c).label())
    });
    let consents = single.map(consents_of).unwrap_or_default();
    Interpretation {
        status,
        code,
        message,
        names_need_correction,
        copay_ratio_missing,
        copay,
        card_classification,
        consents,
    }
}
