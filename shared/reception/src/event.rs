//! The events of a record's life, one enum over the ledger's kinds. Terminals write
//! `reception`, `corrected`, `voided`, `claim_decided` and `note`; the bridge writes
//! `follow_up_result` and `face_result`. Every side reads a ledger body through
//! [`RecordEvent::parse`] and writes one through [`RecordEvent::body`].

#[cfg(feature = "v1")]
use crate::v1;
use crate::{Claim, Reception, SCHEMA};
use serde::{Deserialize, Serialize};

/// A reception's fields changed after it was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corrected {
    /// The record as it stands after the correction.
    pub reception: Reception,
    /// Which fields changed (`patient.name`, `qualification`, …), for the history.
    #[serde(default)]
    pub fields: Vec<String>,
    pub reason: String,
}

/// The reception was recorded in error (wrong patient, a double entry): it stays in the
/// ledger, marked, and is exported as voided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Voided {
    pub reason: String,
}

/// The claim root (① → ② → ③) run against this record, after its follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimDecided {
    pub claim: Claim,
    /// The tree's claim outcome node (`claim_with_current`, …).
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub text: String,
}

/// How a 事後確認 task ended (written by the bridge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpState {
    /// The lookup was answered (confirmed, or an answer that is not a qualification).
    Done,
    /// 要対応: the numbers were refused, or the answer says the qualification is invalid.
    Failed,
}

/// The follow-up's answer as the bridge recorded it: the lookup reply's JSON (`answer`,
/// `interpretation`), read here for what the ledger needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpResult {
    #[serde(default)]
    pub follow_up_id: u64,
    pub state: FollowUpState,
    #[serde(default)]
    pub result: serde_json::Value,
}

#[derive(Deserialize)]
struct ReplySummary {
    #[serde(default)]
    interpretation: Option<InterpretationSummary>,
}

#[derive(Deserialize)]
struct InterpretationSummary {
    status: StatusSummary,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    copay: Option<CopaySummary>,
}

#[derive(Deserialize)]
struct StatusSummary {
    status: String,
}

#[derive(Deserialize)]
struct CopaySummary {
    percent: u8,
}

impl FollowUpResult {
    fn summary(&self) -> Option<InterpretationSummary> {
        serde_json::from_value::<ReplySummary>(self.result.clone()).ok()?.interpretation
    }

    /// The lookup confirmed the qualification online (it counts as オン資).
    pub fn confirmed(&self) -> bool {
        self.state == FollowUpState::Done
            && self.summary().is_some_and(|s| s.status.status == "confirmed")
    }

    /// The system's message, for the history (never patient data: codes and notices).
    pub fn message(&self) -> Option<String> {
        self.summary()?.message
    }

    /// The copay the answer gave, when it gave one.
    pub fn copay_percent(&self) -> Option<u8> {
        Some(self.summary()?.copay?.percent)
    }

    /// A body reduced to what the counts read.
    pub fn counting_only(&self) -> FollowUpResult {
        let status = if self.confirmed() { "confirmed" } else { "other" };
        FollowUpResult {
            follow_up_id: self.follow_up_id,
            state: self.state,
            result: serde_json::json!({ "interpretation": { "status": { "status": status } } }),
        }
    }
}

/// One ledger event's body, by its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordEvent {
    Reception(Reception),
    Corrected(Corrected),
    Voided(Voided),
    ClaimDecided(ClaimDecided),
    Note(Note),
    FollowUpResult(FollowUpResult),
    /// A face-auth reader's result (the bridge's; its body is the reader's answer).
    FaceResult(serde_json::Value),
}

/// Why a body is not the event its kind says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("未知の種類「{0}」です / unknown event kind {0:?}")]
    UnknownKind(String),
    #[error("受付記録の版 {0} はこのバージョンでは読めません。ブリッジと端末を更新してください / reception schema {0} is newer than this build: update the bridge and the terminal")]
    NewerSchema(u32),
    #[error("{kind} の内容が正しくありません（{message}）。端末を更新して記録し直してください / the {kind} body is not valid ({message}): update the terminal and record it again")]
    Invalid { kind: &'static str, message: String },
    /// A build without the `v1` feature (the counter's bundle) met a first-wave body.
    #[error("初期版の受付記録です。ブリッジに送られると変換されます（事務画面を一度開くと端末内でも変換されます） / a first-wave reception: the bridge converts it when it is sent (opening an office screen once converts it here too)")]
    FirstWave,
}

#[derive(Deserialize)]
struct SchemaProbe {
    #[serde(default)]
    schema: Option<u32>,
}

fn typed<T: serde::de::DeserializeOwned>(
    kind: &'static str,
    body: &serde_json::Value,
) -> Result<T, EventError> {
    serde_json::from_value(body.clone())
        .map_err(|e| EventError::Invalid { kind, message: e.to_string() })
}

/// A reception body of any schema this build knows, as schema 2.
/// `device_time` dates a first-wave body that carried no visit date.
pub fn parse_reception(
    device_time: &str,
    body: &serde_json::Value,
) -> Result<Reception, EventError> {
    let probe: SchemaProbe = typed("reception", body)?;
    match probe.schema {
        #[cfg(feature = "v1")]
        None | Some(1) => v1::migrate(device_time, body),
        #[cfg(not(feature = "v1"))]
        None | Some(1) => {
            let _ = device_time;
            Err(EventError::FirstWave)
        }
        Some(SCHEMA) => typed("reception", body),
        Some(n) => Err(EventError::NewerSchema(n)),
    }
}

impl RecordEvent {
    /// Reads a ledger body of `kind`; first-wave receptions come back migrated (dated by
    /// `device_time` when they carried no visit date).
    pub fn parse(
        kind: &str,
        device_time: &str,
        body: &serde_json::Value,
    ) -> Result<RecordEvent, EventError> {
        Ok(match kind {
            "reception" => RecordEvent::Reception(parse_reception(device_time, body)?),
            "corrected" => {
                let mut c: Corrected = typed("corrected", body)?;
                if c.reception.schema != SCHEMA {
                    return Err(EventError::NewerSchema(c.reception.schema));
                }
                c.reason = c.reason.trim().to_string();
                RecordEvent::Corrected(c)
            }
            "voided" => RecordEvent::Voided(typed("voided", body)?),
            "claim_decided" => RecordEvent::ClaimDecided(typed("claim_decided", body)?),
            "note" => RecordEvent::Note(typed("note", body)?),
            "follow_up_result" => RecordEvent::FollowUpResult(typed("follow_up_result", body)?),
            "face_result" => RecordEvent::FaceResult(body.clone()),
            other => return Err(EventError::UnknownKind(other.to_string())),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            RecordEvent::Reception(_) => "reception",
            RecordEvent::Corrected(_) => "corrected",
            RecordEvent::Voided(_) => "voided",
            RecordEvent::ClaimDecided(_) => "claim_decided",
            RecordEvent::Note(_) => "note",
            RecordEvent::FollowUpResult(_) => "follow_up_result",
            RecordEvent::FaceResult(_) => "face_result",
        }
    }

    /// The body as stored and sent.
    pub fn body(&self) -> serde_json::Value {
        let value = match self {
            RecordEvent::Reception(r) => serde_json::to_value(r),
            RecordEvent::Corrected(c) => serde_json::to_value(c),
            RecordEvent::Voided(v) => serde_json::to_value(v),
            RecordEvent::ClaimDecided(c) => serde_json::to_value(c),
            RecordEvent::Note(n) => serde_json::to_value(n),
            RecordEvent::FollowUpResult(f) => serde_json::to_value(f),
            RecordEvent::FaceResult(v) => Ok(v.clone()),
        };
        value.unwrap_or(serde_json::Value::Null)
    }

    /// The op a terminal pushes for this event (`op_id` fixed at creation).
    pub fn to_op(&self, op_id: &str, record_id: &str, device_time: &str) -> protocol::Op {
        protocol::Op {
            op_id: op_id.to_string(),
            staff: None,
            record_id: record_id.to_string(),
            kind: self.kind().to_string(),
            device_time: device_time.to_string(),
            body: self.body(),
        }
    }

    /// The event, holding only what the counts read (an older row a tablet keeps).
    pub fn counting_only(&self) -> Option<RecordEvent> {
        match self {
            RecordEvent::Reception(r) => Some(RecordEvent::Reception(r.counting_only())),
            RecordEvent::FollowUpResult(f) => Some(RecordEvent::FollowUpResult(f.counting_only())),
            RecordEvent::Voided(v) => Some(RecordEvent::Voided(v.clone())),
            _ => None,
        }
    }
}

/// A stored event's body, typed.
pub fn of(event: &protocol::StoredEvent) -> Result<RecordEvent, EventError> {
    RecordEvent::parse(&event.kind, &event.device_time, &event.body)
}
