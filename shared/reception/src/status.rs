//! Where a reception stands, decided by one function from the fallback tree's outcome, so
//! that the wizard, the 受付 screen and the tests cannot disagree.

use fallback::model::{ClaimPlan, Established, FollowUp, Outcome};
use serde::{Deserialize, Serialize};

/// Where qualification stands for the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 確認済: confirmed online (card, phone, or a document's numbers).
    Confirmed,
    /// 書類で確認: established from a document or orally, without an online confirmation;
    /// claimed with the numbers on it (①).
    ByDocument,
    /// 事後確認待ち: recorded with numbers; the bridge re-runs the lookup.
    FollowUpPending,
    /// 申立て: 被保険者資格申立書 taken; the numbers are found later (事後確認, the
    /// patient brings a document) and the claim is decided ①→②→③.
    Statement,
    /// 障害時記録: identity recorded during an outage; looked up when the system is back.
    OutageRecord,
    /// 要対応: staff must act (資格無効, rejected, …).
    NeedsAttention,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Confirmed,
        Status::ByDocument,
        Status::FollowUpPending,
        Status::Statement,
        Status::OutageRecord,
        Status::NeedsAttention,
    ];

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Status::Confirmed => ("確認済", "confirmed"),
            Status::ByDocument => ("書類で確認", "established by document"),
            Status::FollowUpPending => ("事後確認待ち", "follow-up pending"),
            Status::Statement => ("申立て", "statement (申立書)"),
            Status::OutageRecord => ("障害時記録", "outage record"),
            Status::NeedsAttention => ("要対応", "needs attention"),
        }
    }

    /// Whether the reception waits for something before its claim is settled (the work
    /// list shows it until a follow-up result or a claim decision settles it).
    pub fn awaits_settlement(self) -> bool {
        matches!(self, Status::FollowUpPending | Status::Statement | Status::OutageRecord)
    }
}

/// Why an outcome records no reception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAReception {
    /// `retry_with_card`: the reception starts again with the card on the reader.
    #[error("まだ受付ではありません：カードをリーダーにかざしてもらい、受付からやり直してください / not a reception yet: start again at 受付 with the card on the reader")]
    NotYet,
    /// A claim outcome (①②③): a `claim_decided` event on an existing reception.
    #[error("請求の決定は既存の受付に記録します / a claim decision is recorded on an existing reception")]
    ClaimDecision,
}

/// The status a reception recorded at `outcome` has.
pub fn status_for(outcome: &Outcome) -> Result<Status, NotAReception> {
    use Established as E;
    Ok(match outcome.established {
        E::NotYet => return Err(NotAReception::NotYet),
        E::Claim => return Err(NotAReception::ClaimDecision),
        E::OnlineConfirmation
        | E::OnlineConfirmationInGrace
        | E::OnlineConfirmationStaffChoice
        | E::OnlineConfirmationVisual
        | E::OnlineByNumbers => Status::Confirmed,
        E::StatementForm => Status::Statement,
        E::OutageCapture => Status::OutageRecord,
        E::EligibilityCertificate
        | E::HealthInsuranceCard
        | E::MynaPortalScreen
        | E::EligibilityNotice
        | E::OralConfirmation
        | E::PreConfirmed => match outcome.follow_up {
            FollowUp::None => Status::ByDocument,
            FollowUp::ConfirmAfterwards | FollowUp::OutageLookup => Status::FollowUpPending,
        },
    })
}

/// 請求区分 in words.
pub fn claim_label(plan: ClaimPlan) -> &'static str {
    match plan {
        ClaimPlan::Normal => "通常",
        ClaimPlan::CurrentNumbers => "①現在の番号",
        ClaimPlan::PastNumbers => "②旧資格の番号",
        ClaimPlan::Unknown => "③不詳",
        ClaimPlan::AfterFollowUp => "事後確認後に決定",
        ClaimPlan::NotApplicable => "—",
    }
}

/// What the counter knows about a visit when the wizard reaches an outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub visit: eligibility::Date,
    pub presented: fallback::Presented,
    pub patient: crate::Patient,
    /// 申立書 address / contact / insurance, when typed.
    pub statement: Option<crate::Statement>,
    /// The numbers staff took from a document or history (① / ② and documents).
    pub numbers: Option<crate::Numbers>,
    pub terminal: Option<String>,
}

/// The reception a reception outcome records: status by [`status_for`], the claim plan
/// and what the outcome asks to keep (the 申立書 when it is taken, the numbers a
/// document showed).
pub fn reception_for(
    node: &str,
    outcome: &Outcome,
    copay: Option<eligibility::Copay>,
    visit: Visit,
) -> Result<crate::Reception, NotAReception> {
    let status = status_for(outcome)?;
    let keeps_statement =
        outcome.documents.contains(&fallback::model::DocumentAction::KeepStatementUntilPaid);
    let numbers = match outcome.claim {
        ClaimPlan::CurrentNumbers | ClaimPlan::PastNumbers => visit.numbers.clone(),
        _ => None,
    };
    // 事後確認 with numbers at hand (a booking's downloaded numbers): the bridge re-runs the
    // lookup by them when the system answers; without numbers, staff find them first.
    let follow_up = match (status, &visit.numbers, &visit.patient.birth) {
        (Status::FollowUpPending, Some(n), Some(birth)) => Some(protocol::LookupQuery {
            insurer: n.insurer.clone(),
            symbol: n.symbol.clone(),
            number: n.number.clone(),
            branch: n.branch.clone(),
            birth: birth.clone(),
            visit: Some(visit.visit.to_string()),
            limit_consent: false,
        }),
        _ => None,
    };
    Ok(crate::Reception {
        schema: crate::SCHEMA,
        visit: visit.visit,
        visit_type: None,
        presented: visit.presented,
        established: outcome.established,
        outcome: Some(node.to_string()),
        status,
        qualification: visit
            .numbers
            .map(|numbers| crate::Qualification { numbers, ..crate::Qualification::default() }),
        patient: visit.patient,
        copay,
        claim: crate::Claim { plan: outcome.claim, numbers, unknown: None },
        follow_up,
        statement: if keeps_statement { Some(visit.statement.unwrap_or_default()) } else { None },
        face_file: None,
        terminal: visit.terminal,
        note: None,
        certificate: None,
        invited: false,
    })
}

/// The `claim_decided` event a claim outcome records on an existing reception.
pub fn claim_for(
    node: &str,
    outcome: &Outcome,
    numbers: Option<crate::Numbers>,
    unknown: Option<&fallback::engine::UnknownClaim>,
) -> Option<crate::event::ClaimDecided> {
    if outcome.established != Established::Claim {
        return None;
    }
    let unknown = match outcome.claim {
        ClaimPlan::Unknown => unknown.map(|u| crate::UnknownFill {
            placeholders: u.placeholders.clone(),
            tekiyo: u.tekiyo.clone(),
        }),
        _ => None,
    };
    let numbers = match outcome.claim {
        ClaimPlan::CurrentNumbers | ClaimPlan::PastNumbers => numbers,
        _ => None,
    };
    Some(crate::event::ClaimDecided {
        claim: crate::Claim { plan: outcome.claim, numbers, unknown },
        outcome: node.to_string(),
    })
}

/// A reception with nothing but its status: the base the constructors below fill.
fn bare(
    visit: Visit,
    established: Established,
    status: Status,
    plan: ClaimPlan,
) -> crate::Reception {
    crate::Reception {
        schema: crate::SCHEMA,
        visit: visit.visit,
        visit_type: None,
        presented: visit.presented,
        established,
        outcome: None,
        status,
        qualification: visit
            .numbers
            .map(|numbers| crate::Qualification { numbers, ..crate::Qualification::default() }),
        patient: visit.patient,
        copay: None,
        claim: crate::Claim::plan(plan),
        follow_up: None,
        statement: None,
        face_file: None,
        terminal: visit.terminal,
        note: None,
        certificate: None,
        invited: false,
    }
}

/// The reception an online answer at the counter records: a confirmed one as the tree's
/// online outcome (`online_confirmed` for the card or phone, `online_confirmed_chosen` when
/// staff chose one of several with the patient, `confirmed_by_numbers` for a document's
/// numbers), anything else 要対応.
pub fn reception_for_answer(
    confirmed: bool,
    chosen: bool,
    visit: Visit,
    qualification: Option<crate::Qualification>,
    copay: Option<eligibility::Copay>,
) -> crate::Reception {
    use fallback::Presented as P;
    let node = match (confirmed || chosen, chosen, visit.presented) {
        (false, ..) => None,
        (true, true, _) => Some("online_confirmed_chosen"),
        (true, false, P::MynaCard | P::Smartphone) => Some("online_confirmed"),
        (true, false, _) => Some("confirmed_by_numbers"),
    };
    let outcome = node.and_then(|id| match fallback::Tree::official().node(id).map(|n| &n.kind) {
        Some(fallback::model::NodeKind::Outcome(o)) => Some((id, *o)),
        _ => None,
    });
    let mut record = match outcome {
        Some((id, o)) => reception_for(id, &o, copay.clone(), visit.clone()).ok(),
        None => None,
    }
    .unwrap_or_else(|| {
        let mut r =
            bare(visit, Established::NotYet, Status::NeedsAttention, ClaimPlan::NotApplicable);
        r.copay = copay;
        r
    });
    record.qualification = qualification;
    record
}

/// The reception the numbers of a document record when they cannot be looked up now (the
/// system or the bridge is down): 事後確認待ち, the bridge re-runs `query`.
pub fn reception_for_follow_up(
    visit: eligibility::Date,
    presented: fallback::Presented,
    query: protocol::LookupQuery,
) -> crate::Reception {
    let established = match presented {
        fallback::Presented::EligibilityNotice => Established::EligibilityNotice,
        _ => Established::EligibilityCertificate,
    };
    let numbers = crate::Numbers {
        insurer: query.insurer.clone(),
        symbol: query.symbol.clone(),
        number: query.number.clone(),
        branch: query.branch.clone(),
    };
    let who = Visit {
        visit,
        presented,
        patient: crate::Patient { birth: Some(query.birth.clone()), ..crate::Patient::default() },
        statement: None,
        numbers: Some(numbers),
        terminal: None,
    };
    let mut r = bare(who, established, Status::FollowUpPending, ClaimPlan::AfterFollowUp);
    r.follow_up = Some(query);
    r
}
