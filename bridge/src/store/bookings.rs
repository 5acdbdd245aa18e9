//! Bookings and the 一括照会's progress in the store.
//!
//! An import takes all good rows in one transaction (a booking already there is corrected
//! and keeps its pre-confirmation only when its numbers did not change). A bulk run's step
//! is written before the step's file is: after a restart the run goes on from the stored
//! step (an upload already sent is never sent again).

use super::{Store, StoreError};
use crate::clock::now_rfc3339;
use eligibility::Date;
use reception::booking::{Booking, BookingRow, PreConfirmation, PreState};
use reception::Numbers;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// The steps of a day's 一括照会.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkStep {
    /// The upload is written (`upload_id`); its answer is awaited.
    Uploaded,
    /// Accepted: the download is asked for with `reception_number` until it is ready.
    Downloading,
    /// Every unit stored.
    Done,
    /// Refused or unreadable: `detail` says why; a new run starts over.
    Failed,
}

impl BulkStep {
    fn as_str(self) -> &'static str {
        match self {
            BulkStep::Uploaded => "uploaded",
            BulkStep::Downloading => "downloading",
            BulkStep::Done => "done",
            BulkStep::Failed => "failed",
        }
    }
    fn parse(text: &str) -> BulkStep {
        match text {
            "uploaded" => BulkStep::Uploaded,
            "downloading" => BulkStep::Downloading,
            "done" => BulkStep::Done,
            _ => BulkStep::Failed,
        }
    }
}

/// How far a day's 一括照会 is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkRun {
    pub date: String,
    pub step: BulkStep,
    pub upload_id: Option<String>,
    pub reception_number: Option<String>,
    /// Download requests answered 処理中 so far.
    pub polls: u32,
    pub detail: Option<String>,
    pub started_time: String,
    pub updated_time: String,
}

/// insurer, symbol, number, branch as stored.
type NumberColumns = (Option<String>, Option<String>, Option<String>, Option<String>);

fn booking_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<BookingRow> {
    let date: String = r.get(1)?;
    let birth: String = r.get(6)?;
    let day = |column: usize, text: &str| {
        Date::parse(text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                column,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })
    };
    let numbers = match (r.get::<_, Option<String>>(7)?, r.get::<_, Option<String>>(9)?) {
        (Some(insurer), Some(number)) => {
            Some(Numbers { insurer, symbol: r.get(8)?, number, branch: r.get(10)? })
        }
        _ => None,
    };
    let pre = match r.get::<_, Option<String>>(11)? {
        Some(state) => Some(PreConfirmation {
            state: serde_json::from_value(serde_json::Value::String(state))
                .unwrap_or(PreState::Error),
            reading: r.get::<_, Option<String>>(12)?.and_then(|t| serde_json::from_str(&t).ok()),
            reception_number: r.get(13)?,
            time: r.get::<_, Option<String>>(14)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(BookingRow {
        booking_id: r.get(0)?,
        booking: Booking {
            date: day(1, &date)?,
            time: r.get(2)?,
            patient_id: r.get(3)?,
            kana: r.get(4)?,
            name: r.get(5)?,
            birth: day(6, &birth)?,
            numbers,
        },
        pre_confirmation: pre,
    })
}

const BOOKING_COLUMNS: &str = "booking_id, date, time, patient_id, kana, name, birth, insurer, \
     symbol, number, branch, pre_state, pre_reading, pre_reception_number, pre_time";

fn run_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<BulkRun> {
    Ok(BulkRun {
        date: r.get(0)?,
        step: BulkStep::parse(&r.get::<_, String>(1)?),
        upload_id: r.get(2)?,
        reception_number: r.get(3)?,
        polls: r.get::<_, i64>(4)? as u32,
        detail: r.get(5)?,
        started_time: r.get(6)?,
        updated_time: r.get(7)?,
    })
}

impl Store {
    /// Stores every booking in one transaction; returns how many were new.
    pub fn import_bookings(&self, bookings: &[Booking]) -> Result<usize, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now = now_rfc3339();
        let mut new = 0;
        for b in bookings {
            let n = b.numbers.as_ref();
            let before: Option<NumberColumns> = tx
                .query_row(
                    "SELECT insurer, symbol, number, branch FROM bookings WHERE booking_id = ?1",
                    [b.id()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let numbers = (
                n.map(|n| n.insurer.clone()),
                n.and_then(|n| n.symbol.clone()),
                n.map(|n| n.number.clone()),
                n.and_then(|n| n.branch.clone()),
            );
            if before.is_none() {
                new += 1;
            }
            tx.execute(
                "INSERT INTO bookings (booking_id, date, time, patient_id, kana, name, birth, insurer, symbol, number, branch, updated_time)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(booking_id) DO UPDATE SET time = ?3, kana = ?5, name = ?6, birth = ?7,
                   insurer = ?8, symbol = ?9, number = ?10, branch = ?11, updated_time = ?12",
                params![
                    b.id(),
                    b.date.to_string(),
                    b.time,
                    b.patient_id,
                    b.kana,
                    b.name,
                    b.birth.to_string(),
                    numbers.0,
                    numbers.1,
                    numbers.2,
                    numbers.3,
                    now
                ],
            )?;
            // New numbers make the old pre-confirmation meaningless.
            if before.is_some_and(|old| old != numbers) {
                tx.execute(
                    "UPDATE bookings SET pre_state = NULL, pre_answer = NULL, pre_reading = NULL, pre_reception_number = NULL, pre_time = NULL WHERE booking_id = ?1",
                    [b.id()],
                )?;
            }
        }
        tx.commit()?;
        Ok(new)
    }

    /// The bookings of a day, by time then patient id.
    pub fn bookings_on(&self, date: Date) -> Result<Vec<BookingRow>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE date = ?1 ORDER BY COALESCE(time, ''), patient_id"
        ))?;
        let rows = stmt.query_map([date.to_string()], booking_of)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Stores the pre-confirmations of one download together (each with the unit as an
    /// answer, for the record), and marks the run done, in one transaction: a download is
    /// stored whole or not at all.
    pub fn finish_bulk_run(
        &self,
        date: Date,
        results: &[(String, PreConfirmation, serde_json::Value)],
        detail: &str,
    ) -> Result<usize, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut stored = 0;
        for (booking_id, pre, answer) in results {
            let state =
                serde_json::to_value(pre.state).ok().and_then(|v| v.as_str().map(String::from));
            stored += tx.execute(
                "UPDATE bookings SET pre_state = ?2, pre_reading = ?3, pre_reception_number = ?4, pre_time = ?5, pre_answer = ?7
                 WHERE booking_id = ?1 AND date = ?6",
                params![
                    booking_id,
                    state,
                    pre.reading.as_ref().and_then(|r| serde_json::to_string(r).ok()),
                    pre.reception_number,
                    pre.time,
                    date.to_string(),
                    answer.to_string()
                ],
            )?;
        }
        tx.execute(
            "UPDATE bulk_runs SET step = 'done', detail = ?2, updated_time = ?3 WHERE date = ?1",
            params![date.to_string(), detail, now_rfc3339()],
        )?;
        tx.commit()?;
        Ok(stored)
    }

    pub fn bulk_run(&self, date: Date) -> Result<Option<BulkRun>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(conn
            .query_row(
                "SELECT date, step, upload_id, reception_number, polls, detail, started_time, updated_time FROM bulk_runs WHERE date = ?1",
                [date.to_string()],
                run_of,
            )
            .optional()?)
    }

    /// Starts a day's run over: the upload `upload_id` is about to be written.
    pub fn start_bulk_run(&self, date: Date, upload_id: &str) -> Result<(), StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let now = now_rfc3339();
        conn.execute(
            "INSERT INTO bulk_runs (date, step, upload_id, reception_number, polls, detail, started_time, updated_time)
             VALUES (?1, 'uploaded', ?2, NULL, 0, NULL, ?3, ?3)
             ON CONFLICT(date) DO UPDATE SET step = 'uploaded', upload_id = ?2, reception_number = NULL,
               polls = 0, detail = NULL, started_time = ?3, updated_time = ?3",
            params![date.to_string(), upload_id, now],
        )?;
        Ok(())
    }

    /// Moves a run on (`reception_number` once the upload is accepted).
    pub fn update_bulk_run(
        &self,
        date: Date,
        step: BulkStep,
        reception_number: Option<&str>,
        polls: u32,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        conn.execute(
            "UPDATE bulk_runs SET step = ?2, reception_number = COALESCE(?3, reception_number), polls = ?4,
               detail = ?5, updated_time = ?6 WHERE date = ?1",
            params![date.to_string(), step.as_str(), reception_number, polls, detail, now_rfc3339()],
        )?;
        Ok(())
    }
}

impl Store {
    /// The numbers a patient's 照会番号 was registered for, when it was (`registered`).
    pub fn reference_registered(&self, patient_id: &str) -> Result<Option<String>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(conn
            .query_row(
                "SELECT numbers FROM reference_ids WHERE patient_id = ?1 AND state = 'registered'",
                [patient_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Patients whose last 照会番号 registration failed, with the reason (for staff).
    pub fn failed_references(
        &self,
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let mut stmt = conn.prepare(
            "SELECT patient_id, COALESCE(detail, '') FROM reference_ids WHERE state = 'failed'",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What came of a 照会番号 registration (`registered` or `failed` with the reason).
    pub fn set_reference(
        &self,
        patient_id: &str,
        numbers: &str,
        state: &str,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        conn.execute(
            "INSERT INTO reference_ids (patient_id, numbers, state, detail, updated_time) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(patient_id) DO UPDATE SET numbers = ?2, state = ?3, detail = ?4, updated_time = ?5",
            params![patient_id, numbers, state, detail, now_rfc3339()],
        )?;
        Ok(())
    }
}
