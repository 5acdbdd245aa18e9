//! The national-system gateway: one trait, two backends.
//!
//! - [`folder::FolderGateway`] (production): the 資格確認端末's 連携アプリケーション files —
//!   requests written atomically into `req/`, answers awaited in `res/`, confirmations done
//!   at the face-auth reader picked up from `face/` by file-system notifications.
//! - [`sim::Sim`] (the default): a faithful in-process stand-in with a synthetic insured
//!   population and faults on demand; [`peer`] plays the 連携アプリケーション on a folder
//!   with it, so the folder backend is tested through the real file system.

pub mod bulk;
pub mod cli;
pub mod folder;
pub mod peer;
pub mod reading;
pub mod register;
pub mod sim;

use eligibility::identifiers::{BranchNumber, InsuredNumber, InsuredSymbol};
use eligibility::{Date, InsurerNumber};
use oqs::{Answer, Request};
use serde::Serialize;
use std::future::Future;

/// A lookup by the numbers of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberQuery {
    pub insurer: InsurerNumber,
    pub symbol: Option<InsuredSymbol>,
    pub number: InsuredNumber,
    pub branch: Option<BranchNumber>,
    pub birth: Date,
    /// The day the qualification is checked for.
    pub visit: Date,
    /// The patient consented to 限度額 information.
    pub limit_consent: bool,
}

impl NumberQuery {
    /// The request file for this query.
    pub fn to_request(&self, medical_institution_code: &str, file_id: &str) -> Request {
        Request {
            qualification_confirmation_date: self.visit.compact(),
            medical_institution_code: medical_institution_code.to_string(),
            arbitrary_file_identifier: file_id.to_string(),
            insurer_number: self.insurer.eight_char_form(),
            insured_card_symbol: self.symbol.as_ref().map(|s| s.as_str().to_string()),
            insured_identification_number: self.number.as_str().to_string(),
            insured_branch_number: self.branch.as_ref().map(|b| b.as_str().to_string()),
            birthdate: self.birth.compact(),
            limit_application_certificate_related_cons_flg: self.limit_consent,
        }
    }
}

/// A file read from the 資格確認端末's `face/` folder: who it is, by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenFile {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub mtime_ns: i64,
}

impl SeenFile {
    /// The face result's identity: the file name plus the start of its hash, so that new
    /// content under an old name is a new result.
    pub fn face_id(&self) -> String {
        format!("{}:{}", self.name, &self.sha256[..self.sha256.len().min(16)])
    }
}

/// What the gateway publishes; the server stores it before any terminal is told.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum GatewayEvent {
    /// A confirmation result that arrived unasked (face-auth reader → `face/`).
    Face { file: SeenFile, answer: Box<Answer> },
    /// A file that could not be read: recorded, a copy kept in our quarantine, the file
    /// itself left where it is.
    Quarantined { file: SeenFile, reason: String },
}

/// Why the gateway has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("オンライン資格確認の応答がありません（{0} 秒）。障害時の手順で受付してください / no answer from the national system within {0} s: use the outage procedure")]
    Timeout(u64),
    #[error("オンライン資格確認システムに接続できません（障害中）/ the national system is unreachable (outage)")]
    Unavailable,
    #[error("応答ファイルを読めません: {0}。ファイルは隔離しました / the answer file is unreadable: {0}; it was quarantined")]
    Malformed(String),
    #[error(
        "資格確認端末のフォルダにアクセスできません: {0} / cannot use the terminal's folder: {0}"
    )]
    Folder(String),
    #[error("この接続方式ではカードでの確認はできません（顔認証付きカードリーダーを使ってください）/ this backend cannot confirm a card; use the face-auth reader")]
    CardNotSupported,
    #[error("カードの証明書または署名を確認できません: {0} / the card's certificate or signature does not verify: {0}")]
    CardRejected(String),
    /// The seed's rule: a card's certificate serves 3 months past its expiry, a phone's not
    /// at all. The next step is the fallback, not another try.
    #[error("電子証明書の有効期限が切れています（猶予期間外）。マイナポータルの資格情報画面や資格確認書で受付してください（困ったとき）/ the certificate has expired beyond any grace: use the マイナポータル screen or a 資格確認書 (see 困ったとき)")]
    CertificateExpired,
}

/// The national system as the bridge sees it.
pub trait Gateway: Send + Sync {
    /// 資格確認 by numbers.
    fn lookup(
        &self,
        query: &NumberQuery,
    ) -> impl Future<Output = Result<Answer, GatewayError>> + Send;
    /// A subscription to unasked confirmation results and file problems.
    fn events(&self) -> tokio::sync::broadcast::Receiver<GatewayEvent>;
}

/// Why typed numbers cannot become a [`NumberQuery`]; the message says which field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct QueryError {
    pub field: &'static str,
    pub message: String,
}

impl NumberQuery {
    /// The query as a terminal would send it.
    pub fn to_wire(&self) -> protocol::LookupQuery {
        protocol::LookupQuery {
            insurer: self.insurer.as_str().to_string(),
            symbol: self.symbol.as_ref().map(|s| s.as_str().to_string()),
            number: self.number.as_str().to_string(),
            branch: self.branch.as_ref().map(|b| b.as_str().to_string()),
            birth: self.birth.to_string(),
            visit: Some(self.visit.to_string()),
            limit_consent: self.limit_consent,
        }
    }

    /// Parses what a terminal typed (or stored in a reception's `follow_up`); the visit
    /// defaults to `today`.
    pub fn from_wire(q: &protocol::LookupQuery, today: Date) -> Result<NumberQuery, QueryError> {
        fn field<T, E: std::fmt::Display>(
            field: &'static str,
            r: Result<T, E>,
        ) -> Result<T, QueryError> {
            r.map_err(|e| QueryError { field, message: e.to_string() })
        }
        let present = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        Ok(NumberQuery {
            insurer: field("insurer", InsurerNumber::parse(&q.insurer))?,
            symbol: present(&q.symbol)
                .map(|s| field("symbol", InsuredSymbol::parse(&s)))
                .transpose()?,
            number: field("number", InsuredNumber::parse(&q.number))?,
            branch: present(&q.branch)
                .map(|s| field("branch", BranchNumber::parse(&s)))
                .transpose()?,
            birth: field("birth", Date::parse(&q.birth))?,
            visit: match &q.visit {
                Some(v) => field("visit", Date::parse(v))?,
                None => today,
            },
            limit_consent: q.limit_consent,
        })
    }
}

/// An answer as terminals receive it and the ledger keeps it: the answer and its
/// interpretation on `visit` (the record's), and the counter's reading of them (what
/// terminals read), with what a message adds (the holder of a card, a face result's file).
#[derive(Debug, Serialize)]
pub struct Reply<'a> {
    pub answer: &'a Answer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<oqs::Interpretation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_error: Option<String>,
    pub reading: reception::reading::Reading,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<card::Holder>,
    /// `face` on a face result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The day's booking this patient is (face results), with what changed since the
    /// 一括照会.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking: Option<reception::booking::BookingMatch>,
}

impl Reply<'_> {
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// An answer and its reading on `visit`, as terminals receive it.
pub fn reply(answer: &Answer, visit: Date) -> Reply<'_> {
    let (interpretation, policy_error, reading) = match crate::policy_table::effective() {
        Ok(policy) => {
            let i = oqs::interpret(answer, &policy, visit);
            let reading = reading::counter_reading(answer, &i);
            (Some(i), None, reading)
        }
        Err(e) => {
            (None, Some(e.to_string()), reception::reading::Reading::unreadable(e.to_string()))
        }
    };
    Reply {
        answer,
        interpretation,
        policy_error,
        reading,
        holder: None,
        event: None,
        file: None,
        file_name: None,
        booking: None,
    }
}

/// A face result stored before readings travelled (no `reading` in its body): the reading
/// of its stored answer on `visit` is added, so that a result waiting across the upgrade
/// still reaches a screen.
pub fn with_reading(body: &mut serde_json::Value, visit: Date) {
    #[derive(serde::Deserialize)]
    struct Kept {
        answer: Answer,
    }
    let Some(object) = body.as_object_mut() else { return };
    if object.contains_key("reading") {
        return;
    }
    let Ok(kept) = serde_json::from_value::<Kept>(serde_json::Value::Object(object.clone())) else {
        return;
    };
    let reading = reply(&kept.answer, visit).reading;
    object.insert("reading".into(), serde_json::to_value(reading).unwrap_or_default());
}

/// [`reply`] as JSON.
pub fn reading(answer: &Answer, visit: Date) -> serde_json::Value {
    reply(answer, visit).to_value()
}

/// The backend `bridge serve` runs (the trait is static, so one enum dispatches).
#[derive(Debug)]
pub enum Backend {
    Sim(sim::SimGateway),
    Folder(folder::FolderGateway),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sim(_) => "sim",
            Backend::Folder(_) => "folder",
        }
    }

    /// Whether a card read by the bridge's or the page's own reader can be confirmed: only
    /// the simulator (training) can; the file interface has no request for it (the
    /// face-auth reader does it), so the own reader is a pre-check there and no PIN is
    /// asked for. A release simulator cannot check a card either (no test CA).
    pub fn can_confirm_card(&self) -> bool {
        match self {
            Backend::Sim(_) => cfg!(feature = "test-doubles"),
            Backend::Folder(_) => false,
        }
    }

    /// 練習モード: the answers are made up (the simulator). Every terminal shows it and
    /// every stored event carries it.
    pub fn training(&self) -> bool {
        matches!(self, Backend::Sim(_))
    }

    /// `up`, `outage` (sim fault), `unreachable` (the folder share is gone) or `degraded`
    /// (the folder worker is being restarted).
    pub fn state(&self) -> &'static str {
        if let Backend::Sim(g) = self {
            g.refresh_faults();
        }
        match self {
            Backend::Sim(g) if g.sim.faults().outage => "outage",
            Backend::Sim(_) => "up",
            Backend::Folder(g) if g.health().degraded().is_some() => "degraded",
            Backend::Folder(g) if g.reachable() => "up",
            Backend::Folder(_) => "unreachable",
        }
    }

    /// Why the gateway's worker is not running right now (it is being restarted).
    pub fn degraded(&self) -> Option<String> {
        match self {
            Backend::Folder(g) => g.health().degraded(),
            Backend::Sim(_) => None,
        }
    }

    /// How often the gateway's worker was restarted since the bridge started.
    pub fn restarts(&self) -> u64 {
        match self {
            Backend::Folder(g) => g.health().restarts(),
            Backend::Sim(_) => 0,
        }
    }

    /// Ask the backend to publish every waiting result again (a subscriber lagged).
    pub fn redeliver(&self) {
        if let Backend::Folder(g) = self {
            g.redeliver();
        }
    }

    pub fn sim(&self) -> Option<&sim::SimGateway> {
        match self {
            Backend::Sim(g) => Some(g),
            Backend::Folder(_) => None,
        }
    }

    /// A card confirmation from the bridge's own reader. Only the simulator can check it:
    /// the file interface has no such request (the face-auth reader does it).
    pub fn confirm_card(
        &self,
        holder: card::Holder,
        certificate: &[u8],
        signature: &[u8],
        challenge: &[u8],
        visit: Date,
    ) -> Result<Answer, GatewayError> {
        match self {
            Backend::Sim(g) => {
                g.refresh_faults();
                let policy = crate::policy_table::effective()
                    .map_err(|e| GatewayError::CardRejected(e.to_string()))?;
                g.sim.confirm_card(
                    &policy,
                    holder,
                    certificate,
                    signature,
                    challenge,
                    visit,
                    &crate::clock::jst_stamp(),
                )
            }
            Backend::Folder(_) => Err(GatewayError::CardNotSupported),
        }
    }
}

impl From<sim::SimGateway> for Backend {
    fn from(g: sim::SimGateway) -> Backend {
        Backend::Sim(g)
    }
}

impl Gateway for Backend {
    async fn lookup(&self, query: &NumberQuery) -> Result<Answer, GatewayError> {
        match self {
            Backend::Sim(g) => g.lookup(query).await,
            Backend::Folder(g) => g.lookup(query).await,
        }
    }

    fn events(&self) -> tokio::sync::broadcast::Receiver<GatewayEvent> {
        match self {
            Backend::Sim(g) => g.events(),
            Backend::Folder(g) => g.events(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A face result stored before readings travelled gets its reading when served; one
    /// that has it keeps it.
    #[test]
    fn old_face_results_are_served_with_a_reading() {
        let visit = crate::clock::today_jst();
        let answer = Answer::default();
        let mut old = serde_json::json!({ "answer": answer, "event": "face", "file": "f1" });
        with_reading(&mut old, visit);
        let carried: reception::reading::Carried =
            serde_json::from_value(old).unwrap_or_else(|e| panic!("{e}"));
        let reading = carried.reading.unwrap_or_else(|| panic!("no reading added"));
        assert!(!reading.status.is_empty() && !reading.confirmed(), "{reading:?}");
        assert_eq!(carried.file.as_deref(), Some("f1"));
        let mut new = reply(&answer, visit).to_value();
        let before = new.clone();
        with_reading(&mut new, visit);
        assert_eq!(new, before);
    }
}
