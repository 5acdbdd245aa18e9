//! The national-system gateway: one trait, two backends.
//!
//! - [`folder::FolderGateway`] (production): the 資格確認端末's 連携アプリケーション files —
//!   requests written atomically into `req/`, answers awaited in `res/`, confirmations done
//!   at the face-auth reader picked up from `face/` by file-system notifications.
//! - [`sim::Sim`] (the default): a faithful in-process stand-in with a synthetic insured
//!   population and faults on demand; [`peer`] plays the 連携アプリケーション on a folder
//!   with it, so the folder backend is tested through the real file system.

pub mod cli;
pub mod folder;
pub mod peer;
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

/// What the gateway publishes to every paired terminal.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum GatewayEvent {
    /// A confirmation result that arrived unasked (face-auth reader → `face/`).
    Face { file: String, answer: Box<Answer> },
    /// A file that could not be read; moved to quarantine with the reason beside it.
    Quarantined { file: String, reason: String },
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
