//! 照会番号 registration (`OQSsiimm01req_`): the clinic's patient id registered for a
//! booked patient's qualification, so that every later face result carries it back as
//! `ReferenceNumber` and is matched to the patient without staff choosing. One request per
//! patient whose id is not registered for these numbers yet; each answer stored
//! (`registered`, or `failed` with the system's message, for staff).

use super::bulk::{await_answer, file_id, highest_file_seq, BulkConfig, BulkPeer};
use super::GatewayError;
use crate::store::Store;
use eligibility::Date;
use oqs::bulk::{Registration, REGISTER_PREFIX};
use reception::Numbers;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegisterSummary {
    pub registered: usize,
    pub already: usize,
    /// Patient id and the reason.
    pub failed: Vec<(String, String)>,
}

/// Registers the 照会番号 of `date`'s booked patients that have numbers.
pub async fn register(
    store: &Store,
    peer: &BulkPeer,
    config: &BulkConfig,
    date: Date,
) -> Result<RegisterSummary, crate::gateway::bulk::BulkError> {
    let archive_day = config.archive.join(date.compact());
    let mut summary = RegisterSummary::default();
    // The folders are scanned once; each request takes the next number (a scan per
    // request was quadratic in a day's bookings).
    let mut seq = highest_file_seq(peer, &archive_day, &date.compact());
    for row in store.bookings_on(date)? {
        let Some(n) = &row.booking.numbers else { continue };
        let patient = row.booking.patient_id.clone();
        match register_one(store, peer, config, date, &mut seq, &patient, n).await? {
            Registered::Already => summary.already += 1,
            Registered::Now => summary.registered += 1,
            Registered::Failed(why) => summary.failed.push((patient, why)),
        }
    }
    Ok(summary)
}

/// What one registration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// The id was registered for these numbers before: nothing sent.
    Already,
    Now,
    /// The system's message (or why there was no answer); stored for staff.
    Failed(String),
}

/// Registers `patient` for `n` unless already registered for exactly these numbers;
/// `seq` is the day's last file number (taken and advanced).
pub async fn register_one(
    store: &Store,
    peer: &BulkPeer,
    config: &BulkConfig,
    date: Date,
    seq: &mut u32,
    patient: &str,
    n: &Numbers,
) -> Result<Registered, crate::gateway::bulk::BulkError> {
    let archive_day = config.archive.join(date.compact());
    let numbers = format!(
        "{}|{}|{}|{}",
        n.insurer,
        n.symbol.as_deref().unwrap_or(""),
        n.number,
        n.branch.as_deref().unwrap_or("")
    );
    if store.reference_registered(patient)?.as_deref() == Some(numbers.as_str()) {
        return Ok(Registered::Already);
    }
    *seq += 1;
    let id = file_id(&date.compact(), *seq);
    let request = Registration {
        medical_institution_code: config.medical_institution_code.clone(),
        arbitrary_file_identifier: id.clone(),
        reference_number: patient.to_string(),
        insurer_number: n.insurer.clone(),
        insured_card_symbol: n.symbol.clone(),
        insured_identification_number: n.number.clone(),
        insured_branch_number: n.branch.clone(),
    };
    let _ = std::fs::create_dir_all(&archive_day);
    let _ =
        std::fs::write(archive_day.join(format!("{REGISTER_PREFIX}{id}.xml")), request.to_xml());
    let answer = match peer {
        BulkPeer::Sim(sim) => sim.register_reference(&request, &crate::clock::jst_stamp()),
        BulkPeer::Folder(root) => {
            super::folder::write_atomically(
                &root.join("req"),
                &format!("{REGISTER_PREFIX}{id}.xml"),
                request.to_xml().as_bytes(),
            )
            .map_err(|e| GatewayError::Folder(e.to_string()))?;
            await_answer(root, &archive_day, REGISTER_PREFIX, &id, config, |xml| {
                oqs::parse_answer(xml).map_err(|e| e.to_string())
            })
            .await
        }
    };
    let outcome = match answer {
        Ok(a)
            if a.header.segment_of_result.as_deref() == Some("1")
                && a.body.processing_result_status.as_deref() == Some("1") =>
        {
            Ok(())
        }
        Ok(a) => Err(a
            .body
            .processing_result_message
            .or(a.header.error_message)
            .unwrap_or_else(|| "登録できませんでした / not registered".into())),
        Err(e) => Err(e.to_string()),
    };
    Ok(match outcome {
        Ok(()) => {
            store.set_reference(patient, &numbers, "registered", None)?;
            Registered::Now
        }
        Err(why) => {
            store.set_reference(patient, &numbers, "failed", Some(&why))?;
            Registered::Failed(why)
        }
    })
}

/// Registers, in the background, booked patients confirmed at the counter (face result or
/// lookup) with the numbers they were confirmed with, when their id is not registered for
/// them yet: the "first confirmation" of a new patient, or new numbers after a change.
#[derive(Debug, Clone)]
pub struct Registrar(tokio::sync::mpsc::UnboundedSender<(String, Numbers)>);

impl Registrar {
    /// Starts the worker (inside the runtime).
    pub fn spawn(store: Store, peer: BulkPeer, config: BulkConfig) -> Registrar {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Numbers)>();
        tokio::spawn(async move {
            while let Some((patient, numbers)) = rx.recv().await {
                let date = crate::clock::today_jst();
                let archive_day = config.archive.join(date.compact());
                let mut seq = highest_file_seq(&peer, &archive_day, &date.compact());
                let done =
                    register_one(&store, &peer, &config, date, &mut seq, &patient, &numbers).await;
                match done {
                    Ok(Registered::Failed(why)) => {
                        tracing::warn!(reason = %why, "照会番号 registration failed")
                    }
                    Err(e) => tracing::warn!(error = %e, "照会番号 registration not stored"),
                    Ok(_) => {}
                }
            }
        });
        Registrar(tx)
    }

    /// Asks for `patient`'s registration with the numbers of `reading` (if it has any).
    pub fn confirmed(&self, patient: &str, reading: &reception::reading::Reading) {
        if reading.status != "confirmed" {
            return;
        }
        let Some(q) = &reading.qualification else { return };
        let _ = self.0.send((patient.to_string(), q.numbers.clone()));
    }
}
