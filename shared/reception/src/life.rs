//! A record's life: its events (on one record id) folded into where it stands now, its
//! history, and the 要対応 work list across days.

use crate::event::{ClaimDecided, FollowUpResult, RecordEvent, Voided};
use crate::{Claim, Reception, Status};
use fallback::model::ClaimPlan;
use protocol::StoredEvent;
use std::collections::BTreeMap;

/// One line of a record's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    pub seq: u64,
    pub kind: &'static str,
    pub time: String,
    /// What happened, for staff (no patient data beyond what the screen shows anyway).
    pub summary: String,
}

/// Where one record stands, after every event on it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordState {
    pub record_id: String,
    /// The reception as it stands (after corrections).
    pub reception: Reception,
    /// When the reception was first recorded (the terminal's clock) and its seq.
    pub recorded_time: String,
    pub first_seq: u64,
    /// The newest event's seq (incremental exports take what changed after a seq).
    pub last_seq: u64,
    pub device_id: String,
    pub corrected: Vec<String>,
    pub voided: Option<Voided>,
    pub claim_decided: Option<ClaimDecided>,
    pub follow_up: Option<FollowUpResult>,
    pub history: Vec<HistoryEntry>,
    pub training: bool,
}

impl RecordState {
    /// The claim as decided (a `claim_decided` event); a 事後確認 that confirmed the numbers
    /// of a 事後確認待ち reception makes it a normal claim; else as recorded.
    pub fn claim(&self) -> Claim {
        if let Some(decided) = &self.claim_decided {
            return decided.claim.clone();
        }
        let confirmed_later = self.follow_up.as_ref().is_some_and(|f| f.confirmed());
        if confirmed_later
            && self.reception.status == Status::FollowUpPending
            && self.reception.claim.plan == ClaimPlan::AfterFollowUp
        {
            return Claim::plan(ClaimPlan::Normal);
        }
        self.reception.claim.clone()
    }

    /// 有効 / 訂正 / 取消.
    pub fn state_label(&self) -> &'static str {
        if self.voided.is_some() {
            "取消"
        } else if !self.corrected.is_empty() {
            "訂正"
        } else {
            "有効"
        }
    }

    /// What staff still have to do for this record, if anything.
    pub fn work(&self) -> Option<WorkReason> {
        if self.voided.is_some() {
            return None;
        }
        let r = &self.reception;
        if !r.patient.needs_correction().is_empty() {
            return Some(WorkReason::NamesToCorrect);
        }
        if r.status == Status::NeedsAttention {
            return Some(WorkReason::NeedsAttention);
        }
        if let Some(f) = &self.follow_up {
            if f.state == crate::event::FollowUpState::Failed {
                return (self.claim_decided.is_none()).then_some(WorkReason::FollowUpFailed);
            }
        }
        let undecided = self.claim_decided.is_none() && r.claim.plan == ClaimPlan::AfterFollowUp;
        match r.status {
            Status::FollowUpPending if self.follow_up.is_none() => {
                Some(WorkReason::AwaitingFollowUp)
            }
            Status::FollowUpPending if self.follow_up.as_ref().is_some_and(|f| f.confirmed()) => {
                None
            }
            Status::Statement if self.follow_up.is_none() && undecided => {
                Some(WorkReason::AwaitingDocuments)
            }
            Status::OutageRecord if self.follow_up.is_none() && undecided => {
                Some(WorkReason::AwaitingOutageLookup)
            }
            _ if undecided => Some(WorkReason::ClaimUndecided),
            _ => None,
        }
    }
}

/// Why a record is on the 要対応 list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkReason {
    /// The 事後確認 failed (numbers refused, qualification invalid): find other numbers.
    FollowUpFailed,
    /// Waiting for the bridge to re-run the lookup.
    AwaitingFollowUp,
    /// 申立書 taken: waiting for the numbers or documents the patient brings.
    AwaitingDocuments,
    /// Outage record: waiting for the lookup when the system is back.
    AwaitingOutageLookup,
    /// The follow-up ended: decide the claim ①→②→③.
    ClaimUndecided,
    /// 要対応 at recording (資格無効, …).
    NeedsAttention,
    /// A name or address holds ● (a character outside the system's set).
    NamesToCorrect,
}

impl WorkReason {
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            WorkReason::FollowUpFailed => {
                ("事後確認できず：番号を確認", "follow-up failed: check the numbers")
            }
            WorkReason::AwaitingFollowUp => ("事後確認待ち", "waiting for the follow-up"),
            WorkReason::AwaitingDocuments => {
                ("申立書：書類・番号待ち", "statement: waiting for documents")
            }
            WorkReason::AwaitingOutageLookup => {
                ("障害時記録：復旧後に照会", "outage: look up when back")
            }
            WorkReason::ClaimUndecided => ("請求の決定待ち（①→②→③）", "claim not decided yet"),
            WorkReason::NeedsAttention => ("要対応", "needs attention"),
            WorkReason::NamesToCorrect => ("氏名・住所の●を訂正", "correct the ● in the name"),
        }
    }
}

/// Every record in `events` (in seq order), folded. Events that do not parse are left
/// out of the fold and returned beside it, with their seq and the reason.
pub fn fold(events: &[StoredEvent]) -> (Vec<RecordState>, Vec<(u64, crate::EventError)>) {
    let mut states: BTreeMap<String, RecordState> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    let mut sorted: Vec<&StoredEvent> = events.iter().collect();
    eligibility::order::sort_by_key(&mut sorted, |e| e.seq);
    for e in sorted {
        let typed = match crate::event::of(e) {
            Ok(t) => t,
            Err(err) => {
                errors.push((e.seq, err));
                continue;
            }
        };
        let entry = |summary: String| HistoryEntry {
            seq: e.seq,
            kind: typed.kind(),
            time: e.device_time.clone(),
            summary,
        };
        match &typed {
            RecordEvent::Reception(r) => {
                if states.contains_key(&e.record_id) {
                    continue; // one reception per record; a second is a terminal's bug
                }
                let (ja, _) = r.status.label();
                order.push(e.record_id.clone());
                states.insert(
                    e.record_id.clone(),
                    RecordState {
                        record_id: e.record_id.clone(),
                        reception: r.clone(),
                        recorded_time: e.device_time.clone(),
                        first_seq: e.seq,
                        last_seq: e.seq,
                        device_id: e.device_id.clone(),
                        corrected: Vec::new(),
                        voided: None,
                        claim_decided: None,
                        follow_up: None,
                        history: vec![entry(format!("受付：{ja}"))],
                        training: e.training,
                    },
                );
            }
            RecordEvent::FaceResult(_) => {}
            other => {
                let Some(state) = states.get_mut(&e.record_id) else { continue };
                state.last_seq = e.seq;
                let summary = match other {
                    RecordEvent::Corrected(c) => {
                        state.reception = c.reception.clone();
                        state.corrected.push(c.reason.clone());
                        format!("訂正（{}）：{}", c.fields.join("・"), c.reason)
                    }
                    RecordEvent::Voided(v) => {
                        state.voided = Some(v.clone());
                        format!("取消：{}", v.reason)
                    }
                    RecordEvent::ClaimDecided(c) => {
                        state.claim_decided = Some(c.clone());
                        format!("請求決定：{}", c.claim.label())
                    }
                    RecordEvent::Note(n) => format!("メモ：{}", n.text),
                    RecordEvent::FollowUpResult(f) => {
                        state.follow_up = Some(f.clone());
                        if f.confirmed() {
                            "事後確認：確認できた".to_string()
                        } else {
                            format!(
                                "事後確認：{}",
                                f.message().unwrap_or_else(|| "確認できず".into())
                            )
                        }
                    }
                    RecordEvent::Reception(_) | RecordEvent::FaceResult(_) => String::new(),
                };
                state.history.push(entry(summary));
            }
        }
    }
    let folded = order.into_iter().filter_map(|id| states.remove(&id)).collect();
    (folded, errors)
}

/// The 要対応 list: every record still needing staff, oldest visit first.
pub fn work_list(states: &[RecordState]) -> Vec<(&RecordState, WorkReason)> {
    let mut list: Vec<_> = states.iter().filter_map(|s| Some((s, s.work()?))).collect();
    eligibility::order::sort_by_key(&mut list, |a| (a.0.reception.visit, a.0.first_seq));
    list
}

/// The patient index: the newest confirmed (not voided) reception with numbers, under each
/// of its patient's keys ([`crate::continuity::index_keys`]).
pub fn patient_index(states: &[RecordState]) -> BTreeMap<String, &RecordState> {
    let mut index = BTreeMap::new();
    for s in states {
        let usable = s.voided.is_none()
            && matches!(s.reception.status, Status::Confirmed | Status::ByDocument)
            && s.reception.claim_numbers().is_some();
        if usable {
            for key in crate::continuity::index_keys(&s.reception.patient) {
                index.insert(key, s);
            }
        }
    }
    index
}

/// The last known reception of `patient` (any of its keys), if the index has one.
pub fn last_visit<'a>(
    index: &BTreeMap<String, &'a RecordState>,
    patient: &crate::Patient,
) -> Option<&'a RecordState> {
    crate::continuity::index_keys(patient)
        .iter()
        .filter_map(|k| index.get(k).copied())
        .max_by_key(|s| (s.reception.visit, s.first_seq))
}
