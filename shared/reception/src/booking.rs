//! A booked patient and what the evening's 一括照会 said of them: the bridge stores and
//! sends it, the counter's 本日の予約 reads it (one type on both sides).

use crate::reading::Reading;
use eligibility::Date;
use serde::{Deserialize, Serialize};

/// The numbers a booked patient is confirmed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedNumbers {
    pub insurer: String,
    pub symbol: Option<String>,
    pub number: String,
    pub branch: Option<String>,
}

/// One booked patient on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub date: Date,
    /// `HH:MM`, when the booking system gives one.
    pub time: Option<String>,
    /// The clinic's patient id (also the 照会番号 once registered).
    pub patient_id: String,
    pub kana: Option<String>,
    pub name: Option<String>,
    pub birth: Date,
    /// `None`: no numbers yet (kept as a booking, not sent in the 一括照会).
    pub numbers: Option<BookedNumbers>,
}

impl Booking {
    /// `date:patient_id`: one booking per patient and day (a later import corrects it).
    pub fn id(&self) -> String {
        format!("{}:{}", self.date, self.patient_id)
    }
}

/// What the 一括照会 found for a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreState {
    Valid,
    /// 有効（未登録）, seen for 医療扶助.
    ValidUnregistered,
    Invalid,
    NewQualification,
    NotFound,
    /// Several qualifications: staff choose at the counter.
    Several,
    /// The system answered an error for this patient.
    Error,
}

impl PreState {
    /// The unit's `ProcessingResultStatus` and `QualificationValidity`, and how many results.
    pub fn of(status: Option<&str>, validity: Option<&str>, results: usize) -> PreState {
        if status != Some("1") {
            return PreState::Error;
        }
        match (validity, results) {
            (Some("1"), 1) => PreState::Valid,
            (Some("1"), _) | (Some("5"), _) => PreState::Several,
            (Some("2"), _) => PreState::Invalid,
            (Some("3"), _) => PreState::NewQualification,
            (Some("4"), _) => PreState::NotFound,
            (Some("6"), _) => PreState::ValidUnregistered,
            _ => PreState::Error,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PreState::Valid => "前日確認：有効 / pre-confirmed: valid",
            PreState::ValidUnregistered => {
                "前日確認：有効（未登録）/ pre-confirmed: valid (unregistered)"
            }
            PreState::Invalid => "前日確認：資格無効 / pre-confirmed: invalid",
            PreState::NewQualification => {
                "前日確認：新しい資格あり / pre-confirmed: a newer qualification exists"
            }
            PreState::NotFound => "前日確認：該当なし / pre-confirmed: not found",
            PreState::Several => "前日確認：複数該当 / pre-confirmed: several",
            PreState::Error => "前日確認：エラー / pre-confirmation failed",
        }
    }
}

/// A booking's pre-confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreConfirmation {
    pub state: PreState,
    /// What the counter shows of the answer (the same reading as a lookup's).
    pub reading: Option<Reading>,
    pub reception_number: Option<String>,
    /// When it was stored (RFC 3339).
    pub time: String,
}

/// A booking as the bridge stores and sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingRow {
    pub booking_id: String,
    pub booking: Booking,
    pub pre_confirmation: Option<PreConfirmation>,
}
