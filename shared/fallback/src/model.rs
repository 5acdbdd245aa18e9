//! The vocabulary of the tree: questions, answers, outcomes, and what an outcome says.

use eligibility::Text;
use serde::{Deserialize, Serialize};

/// What a question asks. The engine answers a fact from the visit context when it can
/// (see `context.rs`), otherwise from the answers given so far, otherwise it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    Presented,
    CardResult,
    PhoneUsable,
    PhoneResult,
    StaffChoice,
    CardGrace,
    VisualCheck,
    AltDocument,
    PhoneFallback,
    CertificateValidity,
    OldCardPeriod,
    NoticePeriod,
    LookupByNumbers,
    CardAtHand,
    History,
    OralCheck,
    Outage,
    CurrentNumbers,
    PastNumbers,
}

/// Where a step's rule comes from: a sentence of the seed (MHLW, verbatim) or, where
/// the seed is silent, the project's domain reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source", content = "text")]
pub enum Source {
    Seed(&'static str),
    Reference(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub value: &'static str,
    pub text: Text,
    pub next: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Question {
    pub fact: Fact,
    pub text: Text,
    pub answers: &'static [Answer],
    pub rests_on: Source,
}

/// How the qualification was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Established {
    /// マイナ保険証 (card or phone) confirmed online.
    OnlineConfirmation,
    /// Confirmed online with the card's certificate in its 3-month grace.
    OnlineConfirmationInGrace,
    /// Several qualifications matched; staff chose one with the patient.
    OnlineConfirmationStaffChoice,
    /// Confirmed online with staff checking identity by sight (目視確認).
    OnlineConfirmationVisual,
    /// Confirmed online by the numbers of a paper document (transitional window).
    OnlineByNumbers,
    EligibilityCertificate,
    HealthInsuranceCard,
    MynaPortalScreen,
    EligibilityNotice,
    OralConfirmation,
    /// A booked patient whose qualification the evening's 一括照会 downloaded: its numbers
    /// claim ①, and the bridge confirms them afterwards.
    PreConfirmed,
    StatementForm,
    OutageCapture,
    /// Not yet: the reception restarts with the card on the reader.
    NotYet,
    /// A claim decision (the claim root), not a reception.
    Claim,
}

/// What to do with documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentAction {
    /// No other insurance document is needed (the seed says so).
    NoOtherDocumentNeeded,
    /// Copy 保険者番号・記号・番号・枝番 from the document shown.
    CopyNumbersFromDocument,
    /// Take the 被保険者資格申立書 and keep it until payment is settled.
    KeepStatementUntilPaid,
    /// Record 氏名・性別・生年月日・住所 for the later lookup.
    RecordIdentity,
    /// Ask the patient to place the card on the reader.
    PlaceCardOnReader,
    /// Only insurance data may be used (no 薬剤・診療情報).
    InsuranceDataOnly,
}

/// Where the copay ratio comes from. There is deliberately no 10割 here: the seed says
/// to collect the normal copay in every fallback case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CopaySource {
    /// From the online answer (confirmed, or estimated where the answer lacks it).
    OnlineAnswer,
    /// The ratio printed or shown on the document.
    AsShownOnDocument,
    /// The normal ratio for the patient's age (3割 etc.), estimated.
    NormalForAge,
    /// Not decided here (no reception yet, or a claim decision).
    NotApplicable,
}

/// How the claim (レセプト) will be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimPlan {
    /// With the confirmed qualification.
    Normal,
    /// ① with the current numbers (from the document, the patient or history).
    CurrentNumbers,
    /// ② with the past numbers (旧資格情報) from the 資格（無効） screen or history.
    PastNumbers,
    /// ③ 不詳レセプト: 7-fill, and the 申立書's address/contact in the 摘要欄.
    Unknown,
    /// Decided after the follow-up, by the claim root (① → ② → ③).
    AfterFollowUp,
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    None,
    /// 事後確認: find the numbers afterwards (downloaded qualification data, the patient).
    ConfirmAfterwards,
    /// Look the patient up when the system is back (緊急時医療情報・資格確認機能).
    OutageLookup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub title: Text,
    pub established: Established,
    pub documents: &'static [DocumentAction],
    pub copay: CopaySource,
    pub claim: ClaimPlan,
    pub follow_up: FollowUp,
    pub rests_on: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NodeKind {
    Question(Question),
    Outcome(Outcome),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Node {
    pub id: &'static str,
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// The entry points of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Root {
    /// At the counter: how is the qualification established today?
    #[default]
    Reception,
    /// At claim time, after the follow-up: ① → ② → ③.
    Claim,
}

impl Root {
    pub fn node_id(self) -> &'static str {
        match self {
            Root::Reception => "presented",
            Root::Claim => "claim_current",
        }
    }
    pub fn all() -> [Root; 2] {
        [Root::Reception, Root::Claim]
    }
}
