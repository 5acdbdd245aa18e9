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
use crate::model::{Method, Reception};
use ::fallback::model::{ClaimPlan, Established, NodeKind};
use ::fallback::Tree;
use ::reception::status::{reception_for, Visit};
use ::reception::{Claim, Status, SCHEMA};

const CHOSEN: &str = "複数該当から職員が患者と確認して選択 / chosen with the patient";

/// The record of a reading: a confirmed one as the tree's online outcome says
/// (`online_confirmed`, `online_confirmed_chosen`, `confirmed_by_numbers`), anything else
/// 要対応.
pub fn record_from(
    reading: &Reading,
    method: Method,
    note: Option<String>,
    visit: eligibility::Date,
) -> ::reception::Reception {
    let presented = method.presented();
    let node = match (reading.confirmed(), reading.chosen, method) {
        (false, ..) => None,
        (true, true, _) => Some("online_confirmed_chosen"),
        (true, false, Method::Card | Method::Smartphone) => Some("online_confirmed"),
        (true, false, _) => Some("confirmed_by_numbers"),
    };
    let outcome = node.and_then(|id| match Tree::official().node(id).map(|n| &n.kind) {
        Some(NodeKind::Outcome(o)) => Some((id, *o)),
        _ => None,
    });
    let note = match (reading.chosen, note) {
        (false, note) => note,
        (true, None) => Some(CHOSEN.into()),
        (true, Some(n)) => Some(format!("{n} / {CHOSEN}")),
    };
    let mut record = match outcome {
        Some((id, o)) => reception_for(
            id,
            &o,
            reading.copay.clone(),
            Visit {
                visit,
                presented,
                patient: reading.patient.clone(),
                statement: None,
                numbers: None,
                terminal: None,
            },
        )
        .ok(),
        None => None,
    }
    .unwrap_or_else(|| ::reception::Reception {
        schema: SCHEMA,
        visit,
        visit_type: None,
        presented,
        established: Established::NotYet,
        outcome: None,
        status: Status::NeedsAttention,
        qualification: None,
        patient: reading.patient.clone(),
        copay: reading.copay.clone(),
        claim: Claim::plan(ClaimPlan::NotApplicable),
        follow_up: None,
        statement: None,
        face_file: None,
        terminal: None,
        note: None,
    });
    record.qualification = reading.qualification.clone();
    record.note = note;
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
