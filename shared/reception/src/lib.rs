//! One reception, typed, from the counter to the claim.
//!
//! - [`Reception`]: what the terminal records (schema 2): the visit, what was presented,
//!   how qualification was established (the fallback tree's outcome), the qualification,
//!   the patient as sent, the copay, the claim plan, the follow-up, the 申立書, the face
//!   file. [`v1`] migrates the loose bodies of the first wave.
//! - [`status`]: the status and the claim plan a tree outcome gives — one function for
//!   every writer.
//! - [`event`]: the events of a record's life as one enum over the ledger's kinds
//!   (`reception`, `corrected`, `voided`, `claim_decided`, `note`, `follow_up_result`), read
//!   and written by the same code on every side.
//! - [`life`]: a record's events folded into its current state and history, and the 要対応
//!   work list.
//! - [`continuity`]: the patient's key and what changed since the last visit.
//! - [`export`]: one row per reception for the receipt computer (Japanese header).
//!
//! Pure: no I/O, no clock, no panic on any input.
#![forbid(unsafe_code)]

pub mod booking;
pub mod continuity;
pub mod event;
pub mod export;
pub mod life;
pub mod reading;
pub mod status;
#[cfg(feature = "v1")]
pub mod v1;

use eligibility::{Copay, Date};
use fallback::model::{ClaimPlan, Established};
use fallback::{Presented, VisitType};
use serde::{Deserialize, Serialize};

pub use event::{EventError, RecordEvent};
pub use status::Status;

/// The schema version of [`Reception`] this build writes.
pub const SCHEMA: u32 = 2;

/// One reception: a patient's visit, and how their qualification was established.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reception {
    /// Always [`SCHEMA`]; a body without it is a first-wave (v1) body ([`v1::migrate`]).
    pub schema: u32,
    /// The visit day in Japan (an outage day's paper visit is entered later, with its day).
    pub visit: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_type: Option<VisitType>,
    pub presented: Presented,
    pub established: Established,
    /// The fallback tree's outcome node, when the wizard recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<Qualification>,
    #[serde(default)]
    pub patient: Patient,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copay: Option<Copay>,
    pub claim: Claim,
    /// The numbers the bridge re-runs for 事後確認 (its task is born with the reception).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<protocol::LookupQuery>,
    /// The 被保険者資格申立書's fields, when one was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<Statement>,
    /// The face-auth reader's result file this reception records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_file: Option<String>,
    /// The terminal's name, as it calls itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The electronic certificate's expiry, when the check before this reception found it
    /// expiring within three months, in grace or lapsed (利用状況's forecast counts it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<eligibility::expiry::Expiry>,
    /// The counter invited the patient (声かけ) to use the マイナ保険証 next time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invited: bool,
}

/// 保険者番号・記号・番号・枝番, as printed or answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbers {
    pub insurer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

impl Numbers {
    /// `01130012 記号 1 番号 2 枝番 00`, for staff.
    pub fn display(&self) -> String {
        let mut s = self.insurer.clone();
        if let Some(symbol) = &self.symbol {
            s.push_str(&format!(" 記号 {symbol}"));
        }
        s.push_str(&format!(" 番号 {}", self.number));
        if let Some(branch) = &self.branch {
            s.push_str(&format!(" 枝番 {branch}"));
        }
        s
    }
}

/// 本人 / 家族 (`PersonalFamilyClassification` 1 / 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Insured,
    Dependant,
}

impl Relation {
    pub fn from_code(code: &str) -> Option<Relation> {
        match code.trim() {
            "1" => Some(Relation::Insured),
            "2" => Some(Relation::Dependant),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Relation::Insured => "本人",
            Relation::Dependant => "家族",
        }
    }
}

/// 公費: 公費負担者番号 and 受給者番号.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicExpense {
    pub payer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
}

/// The qualification the visit is claimed on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    pub numbers: Numbers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<Relation>,
    /// InsuredCardClassification in words, as the system said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_classification: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_expense: Vec<PublicExpense>,
    /// The system's validity (YYYY-MM-DD), when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

/// The patient as the system (or the patient) gave them: never logged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kana: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The clinic's own patient id (照会番号 / カルテ番号), when staff typed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinic_id: Option<String>,
    /// Only in a counting-only row (an older row a tablet keeps for its counts): the
    /// person's digest, everything else forgotten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Patient {
    /// The fields holding a stand-in character (●, 〓, …): staff correct them.
    pub fn needs_correction(&self) -> Vec<&'static str> {
        [("氏名", &self.name), ("カナ", &self.kana), ("住所", &self.address)]
            .into_iter()
            .filter(|(_, v)| v.as_deref().is_some_and(eligibility::text::has_stand_in))
            .map(|(n, _)| n)
            .collect()
    }
}

/// 7-fill of a 不詳レセプト and its 摘要.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnknownFill {
    pub placeholders: eligibility::UnknownPlaceholders,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tekiyo: Option<String>,
}

/// How the visit will be claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub plan: ClaimPlan,
    /// The numbers used for ① / ② (normal: the qualification's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbers: Option<Numbers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<UnknownFill>,
}

impl Claim {
    pub fn plan(plan: ClaimPlan) -> Claim {
        Claim { plan, numbers: None, unknown: None }
    }

    /// 請求区分 in words, for the export and the screen.
    pub fn label(&self) -> &'static str {
        status::claim_label(self.plan)
    }
}

/// 被保険者資格申立書: what the patient wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// 加入している保険（わかる範囲で）.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance: Option<String>,
}

impl Reception {
    /// A reception as a ledger op body (the same JSON on every side).
    pub fn to_body(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the qualification was confirmed online (the オン資 counts).
    pub fn confirmed_online(&self) -> bool {
        self.status == Status::Confirmed
    }

    /// The numbers this visit is claimed with, when known: the claim's, else the
    /// qualification's.
    pub fn claim_numbers(&self) -> Option<&Numbers> {
        self.claim.numbers.as_ref().or(self.qualification.as_ref().map(|q| &q.numbers))
    }

    /// The same record, holding only what the counts read: status, how it was presented
    /// and the person's digest — no name, kana, birth date or numbers.
    pub fn counting_only(&self) -> Reception {
        Reception {
            schema: SCHEMA,
            visit: self.visit,
            visit_type: None,
            presented: self.presented,
            established: self.established,
            outcome: None,
            status: self.status,
            qualification: None,
            patient: Patient { key: continuity::person_key(&self.patient), ..Patient::default() },
            copay: None,
            claim: Claim::plan(self.claim.plan),
            follow_up: None,
            statement: None,
            face_file: self.face_file.clone(),
            terminal: None,
            note: None,
            certificate: self.certificate,
            invited: self.invited,
        }
    }
}
