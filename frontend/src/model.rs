//! What a terminal records: a reception, how qualification was established, and where
//! its sync stands. These values travel to the bridge as the `body` of a `reception` op.

use serde::{Deserialize, Serialize};

/// What the patient presented at the counter.
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
}

/// Where qualification stands for the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 確認済: online confirmation succeeded.
    Confirmed,
    /// 事後確認待ち: recorded with numbers; the bridge re-runs the lookup.
    FollowUpPending,
    /// 不詳: no numbers; claimed with 7-fill after the 申立書.
    Unknown,
    /// 要対応: staff must act (rejected op, 資格無効, …).
    NeedsAttention,
}

impl Status {
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Status::Confirmed => ("確認済", "confirmed"),
            Status::FollowUpPending => ("事後確認待ち", "follow-up pending"),
            Status::Unknown => ("不詳", "unknown (申立て)"),
            Status::NeedsAttention => ("要対応", "needs attention"),
        }
    }
}

/// Delivery to the bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
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

/// The patient as shown on the result card (never logged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    pub name: Option<String>,
    pub kana: Option<String>,
    pub birth: Option<String>,
    pub sex: Option<String>,
    pub address: Option<String>,
    pub insurer: Option<String>,
    pub insurer_name: Option<String>,
    pub symbol: Option<String>,
    pub number: Option<String>,
    pub branch: Option<String>,
}

/// One reception recorded at this terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reception {
    pub record_id: String,
    pub op_id: String,
    pub created_ms: f64,
    /// Local time, RFC 3339.
    pub created: String,
    pub method: Method,
    pub status: Status,
    pub patient: Patient,
    /// Copay percent and its basis (`confirmed` / `estimated`), when known.
    pub copay_percent: Option<u8>,
    pub copay_basis: Option<String>,
    /// The numbers to re-run for 事後確認.
    pub follow_up: Option<protocol::LookupQuery>,
    /// Free text: the claim path, the fallback outcome, notes.
    pub note: Option<String>,
    /// The face-auth reader's result file this reception records: every terminal drops
    /// that result from its 受付 list once the reception is in the clinic's ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_file: Option<String>,
    pub sync: SyncState,
}

impl Reception {
    /// The op that carries this reception to the bridge (`op_id` fixed at creation).
    pub fn to_op(&self) -> protocol::Op {
        let mut body = serde_json::json!({
            "method": self.method,
            "status": self.status,
            "patient": self.patient,
            "copay_percent": self.copay_percent,
            "copay_basis": self.copay_basis,
            "note": self.note,
        });
        if let Some(q) = &self.follow_up {
            body["follow_up"] = serde_json::to_value(q).unwrap_or_default();
        }
        if let Some(file) = &self.face_file {
            body["face_file"] = file.clone().into();
        }
        protocol::Op {
            op_id: self.op_id.clone(),
            record_id: self.record_id.clone(),
            kind: "reception".into(),
            device_time: self.created.clone(),
            body,
        }
    }
}
