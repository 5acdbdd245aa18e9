//! First-wave reception bodies (no `schema`), migrated to schema 2.
//!
//! A v1 body was built by hand in four places: `method`, `status`, a flat `patient`
//! holding the numbers too, `copay_percent` / `copay_basis`, free `note` text (the wizard
//! put its outcome's title, the claim path and the visit day there), `follow_up` and
//! `face_file`. Nothing is dropped: what has no field of its own stays in `note`.
//!
//! The wizard of the first wave recorded every outcome as a reception with method
//! `nothing` — `retry_with_card` and the claim outcomes included. Its outcome is found
//! again by the title at the start of the note; outcomes that are not receptions come
//! back as 要対応 with a note saying so, for staff to void or keep.

use crate::event::EventError;
use crate::status::{status_for, NotAReception, Status};
use crate::{Claim, Numbers, Patient, Qualification, Reception, SCHEMA};
use eligibility::copay::{AnswerField, Basis, EstimateReason};
use eligibility::{AgeBand, Copay, Date};
use fallback::model::{ClaimPlan, Established, NodeKind, Outcome};
use fallback::Presented;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct PatientV1 {
    name: Option<String>,
    kana: Option<String>,
    birth: Option<String>,
    sex: Option<String>,
    address: Option<String>,
    insurer: Option<String>,
    insurer_name: Option<String>,
    symbol: Option<String>,
    number: Option<String>,
    branch: Option<String>,
    /// A counting-only row's person digest (a tablet's pruned rows).
    key: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ReceptionV1 {
    method: String,
    status: String,
    #[serde(default)]
    patient: PatientV1,
    #[serde(default)]
    copay_percent: Option<u8>,
    #[serde(default)]
    copay_basis: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    follow_up: Option<protocol::LookupQuery>,
    #[serde(default)]
    face_file: Option<String>,
}

fn invalid(message: impl Into<String>) -> EventError {
    EventError::Invalid { kind: "reception", message: message.into() }
}

fn filled(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The outcome whose title the first-wave wizard wrote at the start of its note.
fn wizard_outcome(note: &str) -> Option<(&'static str, &'static Outcome)> {
    fallback::tree::NODES.iter().find_map(|n| match &n.kind {
        NodeKind::Outcome(o) if note.starts_with(o.title.ja) => Some((n.id, o)),
        _ => None,
    })
}

/// `受診日: YYYY-MM-DD` in a first-wave wizard note.
fn visit_in_note(note: &str) -> Option<Date> {
    let at = note.find("受診日: ")? + "受診日: ".len();
    Date::parse(note.get(at..at + 10)?).ok()
}

fn copay_v1(percent: u8, basis: Option<&str>, birth: Option<&str>, visit: Date) -> Option<Copay> {
    let band = AgeBand::on(Date::parse(birth?).ok()?, visit)?;
    let basis = match basis? {
        "confirmed" => Basis::Confirmed {
            field: match band {
                AgeBand::Preschool => AnswerField::PreschoolClassification,
                AgeBand::Age70To74 => AnswerField::ElderlyRecipientContributionRatio,
                AgeBand::LateElderly => AnswerField::InsuredPartialContributionRatio,
                // The system never sends a ratio for these ages: a v1 "confirmed" here
                // cannot be told apart from an estimate, so it stays in the note.
                AgeBand::WorkingAge => return None,
            },
        },
        "estimated" => Basis::Estimated {
            reasons: vec![if band == AgeBand::WorkingAge {
                EstimateReason::NotSentForThisAge
            } else {
                EstimateReason::NoOnlineAnswer
            }],
        },
        _ => return None,
    };
    Some(Copay { percent, band, basis, could_also_be: Vec::new() })
}

/// A first-wave body as schema 2; `device_time` dates it when the note did not.
pub fn migrate(device_time: &str, body: &serde_json::Value) -> Result<Reception, EventError> {
    let v1: ReceptionV1 = serde_json::from_value(body.clone())
        .map_err(|e| invalid(format!("not a first-wave reception either: {e}")))?;
    let presented = match v1.method.as_str() {
        "card" => Presented::MynaCard,
        "smartphone" => Presented::Smartphone,
        "certificate" => Presented::EligibilityCertificate,
        "notice" => Presented::EligibilityNotice,
        "nothing" => Presented::Nothing,
        other => return Err(invalid(format!("unknown method {other:?}"))),
    };
    let note = filled(v1.note);
    let mut notes: Vec<String> = note.iter().cloned().collect();
    let visit = note
        .as_deref()
        .and_then(visit_in_note)
        .or_else(|| v1.follow_up.as_ref().and_then(|q| q.visit.as_deref()?.parse().ok()))
        .or_else(|| eligibility::jst_day(device_time))
        .ok_or_else(|| invalid("no visit date and no readable device time"))?;
    let wizard = (presented == Presented::Nothing)
        .then(|| note.as_deref().and_then(wizard_outcome))
        .flatten();
    let (status, established, outcome, plan) = match (v1.status.as_str(), wizard) {
        (_, Some((id, o))) => match status_for(o) {
            Ok(status) => (status, o.established, Some(id), o.claim),
            Err(NotAReception::NotYet) => {
                notes.push("移行: 受付ではない記録（カードで再受付）。取り消してください / migrated: not a reception (retry with the card); void it".into());
                (Status::NeedsAttention, Established::NotYet, Some(id), ClaimPlan::NotApplicable)
            }
            Err(NotAReception::ClaimDecision) => {
                notes.push("移行: 請求の決定が別の受付として記録されていました。元の受付に請求を記録し、これを取り消してください / migrated: a claim decision recorded as a second reception; record it on the original and void this".into());
                (Status::NeedsAttention, Established::Claim, Some(id), o.claim)
            }
        },
        ("confirmed", None) => {
            match presented {
                Presented::MynaCard | Presented::Smartphone => {
                    (Status::Confirmed, Established::OnlineConfirmation, None, ClaimPlan::Normal)
                }
                Presented::Nothing => {
                    notes.push("移行: 確認方法が分かりません / migrated: how it was established is unknown".into());
                    (Status::NeedsAttention, Established::NotYet, None, ClaimPlan::NotApplicable)
                }
                _ => (Status::Confirmed, Established::OnlineByNumbers, None, ClaimPlan::Normal),
            }
        }
        ("follow_up_pending", None) => {
            let established = if presented == Presented::EligibilityNotice {
                Established::EligibilityNotice
            } else {
                Established::EligibilityCertificate
            };
            (Status::FollowUpPending, established, None, ClaimPlan::AfterFollowUp)
        }
        ("unknown", None) => {
            (Status::Statement, Established::StatementForm, None, ClaimPlan::AfterFollowUp)
        }
        ("needs_attention", None) => {
            (Status::NeedsAttention, Established::NotYet, None, ClaimPlan::NotApplicable)
        }
        (other, None) => return Err(invalid(format!("unknown status {other:?}"))),
    };
    let p = v1.patient;
    let qualification = match (filled(p.insurer), filled(p.number)) {
        (Some(insurer), Some(number)) => Some(Qualification {
            numbers: Numbers {
                insurer,
                symbol: filled(p.symbol),
                number,
                branch: filled(p.branch),
            },
            insurer_name: filled(p.insurer_name),
            ..Qualification::default()
        }),
        _ => None,
    };
    let patient = Patient {
        name: filled(p.name),
        kana: filled(p.kana),
        birth: filled(p.birth),
        sex: filled(p.sex),
        address: filled(p.address),
        clinic_id: None,
        key: filled(p.key),
    };
    let copay = v1.copay_percent.and_then(|percent| {
        let c = copay_v1(percent, v1.copay_basis.as_deref(), patient.birth.as_deref(), visit);
        if c.is_none() {
            notes.push(format!(
                "移行: 負担割合 {}割（{}）",
                percent / 10,
                v1.copay_basis.as_deref().unwrap_or("根拠不明")
            ));
        }
        c
    });
    Ok(Reception {
        schema: SCHEMA,
        visit,
        visit_type: None,
        presented,
        established,
        outcome: outcome.map(String::from),
        status,
        qualification,
        patient,
        copay,
        claim: Claim::plan(plan),
        follow_up: v1.follow_up,
        statement: None,
        face_file: filled(v1.face_file),
        terminal: None,
        note: (!notes.is_empty()).then(|| notes.join(" / ")),
        certificate: None,
        invited: false,
    })
}
