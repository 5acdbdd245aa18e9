//! The screens: 受付, 困ったとき, 番号入力, 本日の受付, 利用状況, 設定.

mod fallback;
pub mod ledger;
mod numbers;
mod reception;
mod settings;
mod usage;

pub use fallback::FallbackPage;
pub use ledger::LedgerPage;
pub use numbers::NumbersPage;
pub use reception::ReceptionPage;
pub use settings::SettingsPage;
pub use usage::UsagePage;

use crate::components::Reading;
use crate::model::{Method, Reception, Status, SyncState};

const CHOSEN: &str = "複数該当から職員が患者と確認して選択 / chosen with the patient";

/// A reception from a reading (confirmed, or the status the reading implies).
pub fn reception_from(reading: &Reading, method: Method, note: Option<String>) -> Reception {
    Reception {
        record_id: crate::ids::uuid_v7(),
        op_id: crate::ids::uuid_v7(),
        created_ms: js_sys::Date::now(),
        created: crate::ids::now_rfc3339(),
        method,
        status: if reading.confirmed() { Status::Confirmed } else { Status::NeedsAttention },
        patient: reading.patient.clone(),
        copay_percent: reading.copay_percent,
        copay_basis: reading.copay_basis.clone(),
        follow_up: None,
        note: match (reading.chosen, note) {
            (false, note) => note,
            (true, None) => Some(CHOSEN.into()),
            (true, Some(n)) => Some(format!("{n} / {CHOSEN}")),
        },
        face_file: None,
        sync: SyncState::Pending,
    }
}
