//! The visit context: what the terminal already knows when the wizard runs, and how the
//! engine turns it into answers. Facts that depend on the date are answered through
//! `eligibility`'s policy table, never by date comparisons here.

use crate::model::Fact;
use eligibility::acceptance::{Condition, PhoneOs, Refusal};
use eligibility::{
    accept, Acceptance, CopayFields, Date, Document, Online, Policy, Presentation,
    UnknownInsurerStyle,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Answers given so far, by fact: `{"alt_document": "portal"}`.
pub type Answers = BTreeMap<Fact, String>;

/// What the patient presented first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presented {
    MynaCard,
    Smartphone,
    EligibilityCertificate,
    HealthInsuranceCard,
    EligibilityNotice,
    MynaPortal,
    Nothing,
}

impl Presented {
    pub const ALL: [Presented; 7] = [
        Presented::MynaCard,
        Presented::Smartphone,
        Presented::EligibilityCertificate,
        Presented::HealthInsuranceCard,
        Presented::EligibilityNotice,
        Presented::MynaPortal,
        Presented::Nothing,
    ];

    /// The tree's answer value for the `presented` question (its serde name).
    pub fn answer(self) -> &'static str {
        match self {
            Presented::MynaCard => "myna_card",
            Presented::Smartphone => "smartphone",
            Presented::EligibilityCertificate => "eligibility_certificate",
            Presented::HealthInsuranceCard => "health_insurance_card",
            Presented::EligibilityNotice => "eligibility_notice",
            Presented::MynaPortal => "myna_portal",
            Presented::Nothing => "nothing",
        }
    }

    /// The value the `presented` question was answered with, back.
    pub fn from_answer(value: &str) -> Option<Presented> {
        Presented::ALL.into_iter().find(|p| p.answer() == value)
    }
}

/// What the reader or the national system said, in detail. The tree groups the
/// failures; the detail decides the outage path and is kept for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineResult {
    Confirmed,
    /// 複数該当.
    Multiple,
    CertificateExpired,
    CannotAuthenticate,
    PinLocked,
    ReaderFault,
    /// 資格無効.
    Invalid,
    /// 無効（新しい資格あり）.
    InvalidNewQualification,
    /// 該当資格なし.
    NotFound,
    /// Network or national-system outage.
    Outage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitType {
    First,
    Return,
}

/// The 申立書's contact data, for the 摘要欄 of a 不詳 claim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementContact {
    pub address: Option<String>,
    pub contact: Option<String>,
}

/// Clinic settings that shape the claim output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub unknown_insurer_style: UnknownInsurerStyle,
    /// 記号 length the receipt computer requires for the 7-fill.
    pub unknown_symbol_len: usize,
    /// 番号 length the receipt computer requires for the 7-fill.
    pub unknown_number_len: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            unknown_insurer_style: UnknownInsurerStyle::AllSevens,
            unknown_symbol_len: 8,
            unknown_number_len: 8,
        }
    }
}

/// Everything known about the visit. Only `visit` is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitContext {
    pub visit: Date,
    #[serde(default)]
    pub presented: Option<Presented>,
    /// Result of the card or phone confirmation.
    #[serde(default)]
    pub online_result: Option<OnlineResult>,
    /// Result of the confirmation by a paper document's numbers.
    #[serde(default)]
    pub lookup_result: Option<OnlineResult>,
    #[serde(default)]
    pub visit_type: Option<VisitType>,
    /// The numbers needed for the claim are known from earlier visits.
    #[serde(default)]
    pub numbers_known: Option<bool>,
    /// A booked patient whose numbers the evening's 一括照会 downloaded (staff took them).
    #[serde(default)]
    pub pre_confirmed: bool,
    #[serde(default)]
    pub birth: Option<Date>,
    /// notAfter of the card's or phone's auth certificate.
    #[serde(default)]
    pub certificate_not_after: Option<Date>,
    #[serde(default)]
    pub phone_os: Option<PhoneOs>,
    #[serde(default)]
    pub phone_os_version: Option<[u32; 2]>,
    /// Printed 有効期限 of the 資格確認書 or 健康保険証.
    #[serde(default)]
    pub document_valid_until: Option<Date>,
    /// The 資格確認書 was issued by a 後期高齢者 広域連合.
    #[serde(default)]
    pub late_elderly: bool,
    /// Ratio fields of the online answer, when there is one.
    #[serde(default)]
    pub copay_fields: Option<CopayFields>,
    #[serde(default)]
    pub statement: Option<StatementContact>,
    #[serde(default)]
    pub settings: Settings,
}

impl VisitContext {
    /// A context that knows only the visit date.
    pub fn on(visit: Date) -> VisitContext {
        VisitContext {
            visit,
            presented: None,
            online_result: None,
            lookup_result: None,
            visit_type: None,
            numbers_known: None,
            pre_confirmed: false,
            birth: None,
            certificate_not_after: None,
            phone_os: None,
            phone_os_version: None,
            document_valid_until: None,
            late_elderly: false,
            copay_fields: None,
            statement: None,
            settings: Settings::default(),
        }
    }

    fn acceptance(&self, policy: &Policy, document: Document, online: Online) -> Acceptance {
        accept(
            policy,
            &Presentation {
                document,
                visit: self.visit,
                online,
                birth: self.birth,
                with_card: false,
            },
        )
    }

    /// The answer the context gives for `fact`, if it gives one.
    pub fn derive(&self, policy: &Policy, fact: Fact) -> Option<&'static str> {
        use OnlineResult as R;
        match fact {
            Fact::Presented => self.presented.map(Presented::answer),
            Fact::CardResult => self.online_result.map(|r| match r {
                R::Confirmed => "confirmed",
                R::Multiple => "multiple",
                R::CertificateExpired => "certificate_expired",
                R::CannotAuthenticate => "cannot_authenticate",
                _ => "failed",
            }),
            Fact::PhoneResult => self.online_result.map(|r| match r {
                R::Confirmed => "confirmed",
                R::Multiple => "multiple",
                _ => "failed",
            }),
            Fact::LookupByNumbers => self.lookup_result.map(|r| match r {
                R::Confirmed => "confirmed",
                _ => "failed",
            }),
            Fact::Outage => {
                let results = [self.online_result, self.lookup_result];
                if results.contains(&Some(R::Outage)) {
                    Some("yes")
                } else if results.iter().any(Option::is_some) {
                    Some("no")
                } else {
                    None
                }
            }
            Fact::History if self.pre_confirmed => Some("pre_confirmed"),
            Fact::History => match (self.visit_type?, self.numbers_known) {
                (VisitType::First, _) | (VisitType::Return, Some(false)) => Some("not_known"),
                (VisitType::Return, Some(true)) => Some("known"),
                (VisitType::Return, None) => None,
            },
            Fact::CardGrace => {
                let document =
                    Document::MynaCard { certificate_not_after: Some(self.certificate_not_after?) };
                Some(match self.acceptance(policy, document, Online::Succeeded) {
                    Acceptance::NotAccepted {
                        reason: Refusal::CertificateExpired { .. }, ..
                    } => "beyond",
                    _ => "within",
                })
            }
            Fact::PhoneUsable => {
                let document = Document::Smartphone {
                    os: self.phone_os,
                    os_version: self.phone_os_version,
                    certificate_not_after: self.certificate_not_after,
                };
                Some(match self.acceptance(policy, document, Online::NotYet) {
                    Acceptance::NotAccepted { .. } => "not_usable",
                    _ => "usable",
                })
            }
            Fact::CertificateValidity => {
                let document = Document::EligibilityCertificate {
                    valid_until: self.document_valid_until,
                    late_elderly: self.late_elderly,
                };
                match self.acceptance(policy, document, Online::NotYet) {
                    Acceptance::Accepted { .. } => Some("valid"),
                    Acceptance::NotAccepted { .. } => Some("expired"),
                    Acceptance::OnCondition { .. } => None,
                }
            }
            Fact::OldCardPeriod => {
                let document =
                    Document::HealthInsuranceCard { valid_until: self.document_valid_until };
                Some(match self.acceptance(policy, document, Online::NotYet) {
                    Acceptance::Accepted { .. } => "valid",
                    Acceptance::OnCondition { .. } => "transitional",
                    Acceptance::NotAccepted { .. } => "not_valid",
                })
            }
            Fact::NoticePeriod => {
                Some(match self.acceptance(policy, Document::EligibilityNotice, Online::NotYet) {
                    Acceptance::OnCondition {
                        condition: Condition::OnlineConfirmationByNumbers,
                        ..
                    } => "transitional",
                    _ => "with_card_only",
                })
            }
            Fact::StaffChoice
            | Fact::VisualCheck
            | Fact::AltDocument
            | Fact::PhoneFallback
            | Fact::CardAtHand
            | Fact::OralCheck
            | Fact::CurrentNumbers
            | Fact::PastNumbers => None,
        }
    }
}
