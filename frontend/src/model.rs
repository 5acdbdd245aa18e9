//! What a terminal keeps of a reception it recorded: the typed record
//! (`reception::Reception`, schema 2, shared with the bridge), its ids and where its sync
//! stands. The record travels to the bridge as the body of a `reception` op, written by
//! `reception::RecordEvent` like every other event of its life.

use fallback::Presented;
use reception::RecordEvent;
use serde::{Deserialize, Serialize};

pub use reception::{Patient, Status};

/// The 受付 screen's choice of what the patient presented (the 資格情報のお知らせ and
/// the マイナポータル screen share the numbers form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// マイナ保険証 (card) at the face-auth reader or the bridge's own reader.
    Card,
    /// スマホ用電子証明書 (iPhone / Android).
    Smartphone,
    /// 資格確認書.
    Certificate,
    /// 資格情報のお知らせ / マイナポータルの画面.
    Notice,
    /// Nothing (申立て).
    Nothing,
}

impl Method {
    pub const ALL: [Method; 5] =
        [Method::Card, Method::Smartphone, Method::Certificate, Method::Notice, Method::Nothing];

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Method::Card => ("マイナ保険証（カード）", "My Number card"),
            Method::Smartphone => ("スマホ（マイナ保険証）", "Smartphone"),
            Method::Certificate => ("資格確認書", "Eligibility certificate"),
            Method::Notice => ("資格情報のお知らせ／マイナポータル", "Notice / Mynaportal screen"),
            Method::Nothing => ("何も持っていない", "Nothing presented"),
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Method::Card => "card",
            Method::Smartphone => "smartphone",
            Method::Certificate => "certificate",
            Method::Notice => "notice",
            Method::Nothing => "nothing",
        }
    }

    /// What the record says was presented.
    pub fn presented(self) -> Presented {
        match self {
            Method::Card => Presented::MynaCard,
            Method::Smartphone => Presented::Smartphone,
            Method::Certificate => Presented::EligibilityCertificate,
            Method::Notice => Presented::EligibilityNotice,
            Method::Nothing => Presented::Nothing,
        }
    }
}

/// Delivery to the bridge. Read through a flat struct of the same JSON (`{"state": …}`):
/// serde's internally tagged reader buffers every value first, which costs the wasm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", try_from = "SyncStateRow")]
pub enum SyncState {
    /// 受付済（未送信）: committed here, not yet acknowledged.
    Pending,
    Acknowledged {
        seq: u64,
    },
    NeedsAttention {
        reason: String,
    },
}

#[derive(Deserialize)]
struct SyncStateRow {
    state: String,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    reason: Option<String>,
}

impl TryFrom<SyncStateRow> for SyncState {
    type Error = String;
    fn try_from(row: SyncStateRow) -> Result<SyncState, String> {
        match (row.state.as_str(), row.seq, row.reason) {
            ("pending", ..) => Ok(SyncState::Pending),
            ("acknowledged", Some(seq), _) => Ok(SyncState::Acknowledged { seq }),
            ("needs_attention", _, Some(reason)) => Ok(SyncState::NeedsAttention { reason }),
            (other, ..) => Err(format!("unknown sync state {other:?}")),
        }
    }
}

/// One reception recorded at this terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reception {
    pub record_id: String,
    pub op_id: String,
    pub created_ms: f64,
    /// Local time, RFC 3339.
    pub created: String,
    pub record: reception::Reception,
    pub sync: SyncState,
}

impl Reception {
    /// A new reception of `record`, with fresh ids and the terminal's clock.
    pub fn new(record: reception::Reception) -> Reception {
        Reception {
            record_id: crate::ids::uuid_v7(),
            op_id: crate::ids::uuid_v7(),
            created_ms: js_sys::Date::now(),
            created: crate::ids::now_rfc3339(),
            record,
            sync: SyncState::Pending,
        }
    }

    /// The op that carries this reception to the bridge (`op_id` fixed at creation).
    pub fn to_op(&self) -> protocol::Op {
        RecordEvent::Reception(self.record.clone()).to_op(
            &self.op_id,
            &self.record_id,
            &self.created,
        )
    }

    /// A row as IndexedDB holds it: this shape, or a first-wave row (the record's fields
    /// flat beside the ids), migrated by `reception::v1` like the bridge's.
    pub fn from_stored(value: serde_json::Value) -> Result<Reception, String> {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            record: Option<serde_json::Value>,
            record_id: String,
            op_id: String,
            created_ms: f64,
            created: String,
            sync: SyncState,
        }
        let probe: Probe = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        let record = match probe.record {
            Some(record) => reception::event::parse_reception(&probe.created, &record),
            #[cfg(feature = "first-wave")]
            None => reception::v1::migrate(&probe.created, &value),
            #[cfg(not(feature = "first-wave"))]
            None => Err(reception::event::EventError::FirstWave),
        }
        .map_err(|e| e.to_string())?;
        Ok(Reception {
            record_id: probe.record_id,
            op_id: probe.op_id,
            created_ms: probe.created_ms,
            created: probe.created,
            record,
            sync: probe.sync,
        })
    }
}
