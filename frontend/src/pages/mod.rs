//! The screens: 受付, 困ったとき, 番号入力, 本日の受付 (the counter's bundle); 利用状況 with
//! the receipt computer's CSV, 予約, 設定 and the patient slip (the office's).

pub mod bookings;
mod export;
mod fallback;
pub mod ledger;
mod numbers;
mod operator;
mod reception;
pub mod settings;
pub mod slip;
mod usage;

pub use bookings::BookingsPage;
pub use fallback::FallbackPage;
pub use ledger::LedgerPage;
pub use numbers::NumbersPage;
pub use reception::ReceptionPage;
pub use settings::SettingsPage;
pub use slip::SlipPage;
pub use usage::UsagePage;

use crate::components::Reading;
use crate::model::{Method, Reception};
use ::reception::status::{reception_for_answer, Visit};

const CHOSEN: &str = "複数該当から職員が患者と確認して選択 / chosen with the patient";

/// The record of a reading (`reception::status::reception_for_answer` decides it).
pub fn record_from(
    reading: &Reading,
    method: Method,
    note: Option<String>,
    visit: eligibility::Date,
) -> ::reception::Reception {
    let who = Visit {
        visit,
        presented: method.presented(),
        patient: reading.patient.clone(),
        statement: None,
        numbers: None,
        terminal: None,
    };
    let mut record = reception_for_answer(
        reading.confirmed(),
        reading.chosen,
        who,
        reading.qualification.clone(),
        reading.copay.clone(),
    );
    record.note = match (reading.chosen, note) {
        (false, note) => note,
        (true, None) => Some(CHOSEN.into()),
        (true, Some(n)) => Some(format!("{n} / {CHOSEN}")),
    };
    record
}

/// A new reception of a reading, visited today.
pub fn reception_from(
    reading: &Reading,
    method: Method,
    note: Option<String>,
) -> Result<Reception, String> {
    let today = crate::ids::today_jst().ok_or(NO_CLOCK)?;
    Ok(Reception::new(record_from(reading, method, note, today)))
}

/// The terminal's clock could not give today's date.
pub const NO_CLOCK: &str = "今日の日付が分かりません。端末の時計を確認してください / no date from the clock: check the terminal's clock";
