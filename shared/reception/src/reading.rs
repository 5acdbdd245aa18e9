//! An answer of the national system as the counter reads it: the bridge builds a
//! [`Reading`] from the answer and its interpretation (`oqs`, which the terminal does not
//! carry) and sends it beside them in every card result, lookup answer and face result;
//! terminals read only this. One type on both sides of the socket.

use crate::{Patient, Qualification};
use serde::{Deserialize, Serialize};

/// What a result card shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reading {
    /// `confirmed`, `invalid`, `invalid_new_qualification`, `not_found`, `multiple`,
    /// `processing`, `error`, `unexpected`.
    pub status: String,
    /// The system's message as sent (notices on success too), or why nothing was read.
    pub message: Option<String>,
    /// The first (or only) result's person, and its qualification.
    pub patient: Patient,
    pub qualification: Option<Qualification>,
    pub copay: Option<eligibility::Copay>,
    /// 有効期限 of the first result (YYYY-MM-DD).
    pub valid_until: Option<String>,
    /// 限度額適用認定証 区分 of the first result.
    pub limit_class: Option<String>,
    /// The answer's fields that hold a stand-in (●, 〓, …): staff correct them first.
    pub needs_correction: Vec<String>,
    /// Valid, but the ratio the patient's age needs is not in the answer.
    pub ratio_missing: bool,
    /// How many results the answer holds.
    pub results: usize,
    /// Every result when there are several (複数該当): staff choose one with the patient.
    pub choices: Vec<(Patient, Option<Qualification>)>,
    /// Staff chose `patient` among `choices` (never the first silently). The terminal's.
    #[serde(skip)]
    pub chosen: bool,
    /// The system's code (ErrorCode or ProcessingResultCode), shown with a failure.
    pub code: Option<String>,
    /// The classification and the consents in words, one line: "区分 一般 ／ 薬剤情報 …".
    pub details: String,
}

impl Reading {
    /// Nothing could be read (no policy table on the bridge, …): `why` is said.
    pub fn unreadable(why: String) -> Reading {
        Reading { status: "error".into(), message: Some(why), ..Reading::default() }
    }

    /// Confirmed by the system, or one of several results chosen by staff with the patient.
    pub fn confirmed(&self) -> bool {
        self.status == "confirmed" || self.chosen
    }

    /// The reading with choice `index` taken as the patient's qualification.
    pub fn choose(&self, index: usize) -> Option<Reading> {
        let (patient, qualification) = self.choices.get(index)?.clone();
        Some(Reading { patient, qualification, chosen: true, ..self.clone() })
    }
}

/// The body of a message that carries a reading: a card result, a lookup answer, a face
/// result (with its file in `face/` and its ledger seq) — or a gateway notice without a
/// reading (a quarantined file, with the reason). The raw answer beside it is the
/// record's, not the terminal's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Carried {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading: Option<Reading>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One of the day's booked patients (face results).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking: Option<crate::booking::BookingMatch>,
}

/// `YYYYMMDD` → `YYYY-MM-DD` (anything else as is).
pub fn iso_day(compact: &str) -> String {
    if compact.len() == 8 && compact.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &compact[..4], &compact[4..6], &compact[6..])
    } else {
        compact.to_string()
    }
}

/// A field as sent, `None` when empty or blank.
pub fn filled(value: &Option<String>) -> Option<String> {
    value.as_deref().filter(|s| !s.trim().is_empty()).map(String::from)
}
