//! The clinic's durable store: SQLite in WAL mode with `synchronous=FULL`, so that an op
//! the bridge acknowledged survives a crash.
//!
//! - `events`: append-only reception events; `op_id` is unique, so a retried push finds
//!   the original row (same body hash → duplicate, different → conflict) in the same
//!   transaction as the insert; `seq` orders pulls.
//! - `devices` (paired terminals, token hashes only), `pairing_codes` (hashes, expiry,
//!   single use), `follow_ups` (事後確認 tasks) and `audit`, an append-only log whose rows
//!   are hash-chained so that `bridge audit verify` finds any edit.
//! - `gateway_files`: every file of the 資格確認端末's `face/` folder the bridge has read
//!   (name, size, modification time, SHA-256, and what came of it), so that a restart
//!   neither repeats nor loses one — the folder itself is never written.
//! - `face_claims`: which reception recorded which face result; a second claim is refused
//!   in the push's own transaction.
//! - `bookings` (the day's booked patients and what the 一括照会 said of each) and
//!   `bulk_runs` (how far each day's 一括照会 is, so that a restart resumes it): see
//!   [`bookings`].

mod bookings;
mod staff;
pub use bookings::{BulkRun, BulkStep};
pub use staff::{AuditRow, StaffRow};

use crate::clock::{jst_day, now_rfc3339, now_unix};
use crate::gateway::SeenFile;
use protocol::{Op, OpResult, PullResponse, StoredEvent, MAX_PUSH_OPS};
use reception::{Reception, RecordEvent};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("データベースのエラー: {0} / database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("データベースが使用中です / the database lock is poisoned")]
    Poisoned,
    #[error("データベースが他の処理で使用中です。少し待ってからもう一度どうぞ / the database stayed busy: try again in a moment")]
    Busy,
    #[error("監査ログの {0} 行目が改ざんされています / the audit log was altered at row {0}")]
    AuditBroken(u64),
}

/// The store; cheap to clone (one connection behind a mutex: SQLite has one writer).
#[derive(Debug, Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    /// 練習モード (the simulator gateway): every event stored from now on is marked so, and
    /// `bridge export` never hands one to the receipt computer with the real ones.
    training: Arc<std::sync::atomic::AtomicBool>,
}

const SCHEMA: &str = "
-- Who made each change a restore took away (from the ledger it set aside): a terminal's
-- re-send, which carries no person, is attributed again.
CREATE TABLE IF NOT EXISTS restored_attribution (
    op_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    staff_id TEXT NOT NULL
);
-- Terminals to tell, on their next pull, that the ledger was restored (filled by a restore
-- with every paired device; a device's row goes when it pulls from the start again).
CREATE TABLE IF NOT EXISTS ledger_resync (
    device_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    device_time TEXT NOT NULL,
    received_time TEXT NOT NULL,
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_record ON events(record_id);
-- The patient index: a reception (or a correction, which carries the whole record) found by
-- its patient's birth date or clinic id; `Store::last_visit` folds the records it finds.
CREATE INDEX IF NOT EXISTS events_patient_birth ON events(json_extract(body, '$.patient.birth'))
    WHERE kind = 'reception';
CREATE INDEX IF NOT EXISTS events_corrected_birth
    ON events(json_extract(body, '$.reception.patient.birth')) WHERE kind = 'corrected';
CREATE INDEX IF NOT EXISTS events_patient_id ON events(json_extract(body, '$.patient.clinic_id'))
    WHERE kind = 'reception';
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_time TEXT NOT NULL,
    revoked_time TEXT
);
CREATE TABLE IF NOT EXISTS pairing_codes (
    code_hash TEXT PRIMARY KEY,
    expires_unix INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS follow_ups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    created_seq INTEGER NOT NULL UNIQUE,
    query TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    updated_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS gateway_files (
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    event_seq INTEGER,
    reason TEXT,
    seen_time TEXT NOT NULL,
    PRIMARY KEY (folder, name, sha256)
);
CREATE TABLE IF NOT EXISTS face_claims (
    face_id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    claimed_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bookings (
    booking_id TEXT PRIMARY KEY,
    date TEXT NOT NULL,
    time TEXT,
    patient_id TEXT NOT NULL,
    kana TEXT,
    name TEXT,
    birth TEXT NOT NULL,
    insurer TEXT,
    symbol TEXT,
    number TEXT,
    branch TEXT,
    updated_time TEXT NOT NULL,
    pre_state TEXT,
    pre_answer TEXT,
    pre_reading TEXT,
    pre_reception_number TEXT,
    pre_time TEXT
);
CREATE INDEX IF NOT EXISTS bookings_date ON bookings(date);
CREATE TABLE IF NOT EXISTS reference_ids (
    patient_id TEXT PRIMARY KEY,
    numbers TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    updated_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bulk_runs (
    date TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    upload_id TEXT,
    reception_number TEXT,
    polls INTEGER NOT NULL DEFAULT 0,
    detail TEXT,
    started_time TEXT NOT NULL,
    updated_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    person TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS staff (
    staff_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_time TEXT NOT NULL,
    disabled_time TEXT
);
CREATE TABLE IF NOT EXISTS staff_passkeys (
    credential_id TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_time TEXT NOT NULL,
    last_used_time TEXT,
    disabled_time TEXT
);
CREATE TABLE IF NOT EXISTS staff_enrolments (
    code_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL,
    expires_unix INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS staff_sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    started_time TEXT NOT NULL,
    started_unix INTEGER NOT NULL,
    ended_time TEXT,
    ended_how TEXT
);
CREATE INDEX IF NOT EXISTS staff_sessions_device ON staff_sessions (device_id, started_unix);
";

/// One audit row's link in the chain. A row without a person hashes as rows did before
/// staff sign-in existed, so an older log still verifies.
fn audit_hash(
    prev: &str,
    time: &str,
    actor: &str,
    person: &str,
    action: &str,
    subject: &str,
) -> String {
    let mut text = format!("{prev}\n{time}\n{actor}\n{action}\n{subject}");
    if !person.is_empty() {
        text.push_str("\nperson ");
        text.push_str(person);
    }
    sha256_hex(text.as_bytes())
}

/// Appends one audit row inside `tx` (so that a change and its audit row commit together).
fn append_audit(
    tx: &rusqlite::Transaction<'_>,
    actor: &str,
    person: &str,
    action: &str,
    subject: &str,
) -> Result<(), StoreError> {
    let prev: String = tx
        .query_row("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    let time = now_rfc3339();
    let hash = audit_hash(&prev, &time, actor, person, action, subject);
    tx.execute(
        "INSERT INTO audit (time, actor, action, subject, prev_hash, hash, person) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![time, actor, action, subject, prev, hash, person],
    )?;
    Ok(())
}

/// Eight random digits: a pairing or enrolment code (stored only as its hash).
fn one_time_code() -> String {
    let random = uuid::Uuid::new_v4();
    let n = u64::from_le_bytes(random.as_bytes()[..8].try_into().unwrap_or([0; 8])) % 100_000_000;
    format!("{n:08}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// A paired device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Device {
    pub device_id: String,
    pub name: String,
    pub created_time: String,
    pub revoked_time: Option<String>,
    /// `counter` or `display` ([`protocol::DeviceRole`]).
    pub role: String,
}

/// Who did an audited operator's task: the command line, or a device and the admin signed in
/// on it (設定).
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub actor: &'a str,
    pub person: &'a str,
}

impl By<'static> {
    pub const OPERATOR: By<'static> = By { actor: "operator", person: "" };
}

/// A 事後確認 task: the numbers of a reception that could not be confirmed at the counter.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FollowUp {
    pub id: u64,
    pub record_id: String,
    /// A `protocol::LookupQuery` as the terminal sent it.
    pub query: serde_json::Value,
    /// `pending`, `done` or `failed` (要対応).
    pub state: String,
    pub attempts: u32,
    pub result: Option<serde_json::Value>,
    /// When the reception reached the bridge.
    pub created_time: String,
    pub updated_time: String,
    /// Why the last attempt did not end it (outage, 処理中, an error answer …).
    pub last_reason: Option<String>,
}

fn reject(op: &Op, reason: &str) -> OpResult {
    OpResult::Rejected { op_id: op.op_id.clone(), reason: reason.to_string() }
}

/// Whether `record_id` has its reception (the life events hang on one).
fn has_reception(tx: &rusqlite::Transaction<'_>, record_id: &str) -> Result<bool, StoreError> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM events WHERE record_id = ?1 AND kind = 'reception' LIMIT 1",
            [record_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// First-wave reception bodies (no `schema`) rewritten as schema 2, with their hash, so
/// that every reader meets one shape and a terminal's retry of the same op (migrated by the
/// same function) is still a duplicate. Bodies that do not parse are left as they were and
/// counted. Returns (migrated, left).
fn migrate_receptions(conn: &mut Connection) -> Result<(usize, usize), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let rows: Vec<(i64, String, String, String)> = tx
        .prepare(
            "SELECT seq, record_id, device_time, body FROM events
             WHERE kind = 'reception' AND body NOT LIKE '%\"schema\":%'",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let (mut migrated, mut left) = (0, 0);
    for (seq, record_id, device_time, body) in rows {
        let parsed = serde_json::from_str(&body)
            .ok()
            .and_then(|v| reception::event::parse_reception(&device_time, &v).ok());
        let Some(r) = parsed else {
            left += 1;
            continue;
        };
        let body = r.to_body().to_string();
        let hash = sha256_hex(format!("{record_id}\nreception\n{body}").as_bytes());
        tx.execute(
            "UPDATE events SET body = ?1, body_hash = ?2 WHERE seq = ?3",
            params![body, hash, seq],
        )?;
        migrated += 1;
    }
    tx.commit()?;
    Ok((migrated, left))
}

/// Columns added after a table's first release, for stores made before them.
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    for (table, column, definition) in [
        ("follow_ups", "next_attempt_unix", "INTEGER NOT NULL DEFAULT 0"),
        ("follow_ups", "last_reason", "TEXT"),
        // Events stored before 練習モード was recorded are taken as real: the simulator was
        // then the silent default, and an export of them says which gateway made them.
        ("events", "training", "INTEGER NOT NULL DEFAULT 0"),
        // Who made each change and who did each audited thing (staff sign-in came later:
        // older rows are the device's alone).
        ("events", "staff_id", "TEXT"),
        ("audit", "person", "TEXT NOT NULL DEFAULT ''"),
        // Guidance displays came later: every earlier device is a counter.
        ("devices", "role", "TEXT NOT NULL DEFAULT 'counter'"),
        // A display paired from a counter's 設定 follows that counter (NULL: every counter).
        ("devices", "follows", "TEXT"),
        ("pairing_codes", "follows", "TEXT"),
    ] {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if !columns.iter().any(|c| c == column) {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {definition}"))?;
        }
    }
    Ok(())
}

/// The columns [`stored_event`] reads, in its order.
const EVENT_COLUMNS: &str =
    "seq, op_id, record_id, device_id, kind, device_time, received_time, body, training";

/// One `events` row as `SELECT {EVENT_COLUMNS}` reads it.
fn stored_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    let body: String = r.get(7)?;
    Ok(StoredEvent {
        seq: r.get::<_, i64>(0)? as u64,
        op_id: r.get(1)?,
        record_id: r.get(2)?,
        device_id: r.get(3)?,
        kind: r.get(4)?,
        device_time: r.get(5)?,
        received_time: r.get(6)?,
        body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        training: r.get::<_, i64>(8)? != 0,
    })
}

/// A reception recorded from a face result (`face_file` in its body) claims that result
/// inside the push's transaction. `Some(Claimed)` when another reception had claimed it
/// first: the push creates nothing and says who recorded it and when.
fn claim_face(
    tx: &rusqlite::Transaction<'_>,
    device_id: &str,
    op: &Op,
    event: &RecordEvent,
    now: &str,
) -> Result<Option<OpResult>, StoreError> {
    let RecordEvent::Reception(Reception { face_file: Some(face_id), .. }) = event else {
        return Ok(None);
    };
    let earlier: Option<(String, String, String)> = tx
        .query_row(
            "SELECT c.record_id, COALESCE(d.name, c.device_id), c.claimed_time
             FROM face_claims c LEFT JOIN devices d ON d.device_id = c.device_id WHERE c.face_id = ?1",
            [face_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match earlier {
        Some((record_id, _, _)) if record_id == op.record_id => Ok(None),
        Some((_, by_device, at)) => Ok(Some(OpResult::Claimed {
            op_id: op.op_id.clone(),
            by_device,
            at: crate::clock::jst_time_of_day(&at).unwrap_or(at),
        })),
        None => {
            tx.execute(
                "INSERT INTO face_claims (face_id, record_id, device_id, claimed_time) VALUES (?1, ?2, ?3, ?4)",
                params![face_id, op.record_id, device_id, now],
            )?;
            Ok(None)
        }
    }
}

/// Where a ledger stands: what a backup's manifest records and a restore checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marks {
    pub events: u64,
    pub last_seq: u64,
    pub audit_rows: u64,
    pub audit_head: String,
}

fn marks_of(c: &Connection) -> Result<Marks, StoreError> {
    let (events, last_seq): (i64, i64) =
        c.query_row("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let audit_rows: i64 = c.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))?;
    let audit_head: String = c
        .query_row("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    Ok(Marks {
        events: events as u64,
        last_seq: last_seq as u64,
        audit_rows: audit_rows as u64,
        audit_head,
    })
}

/// The people behind the changes in `aside` (the ledger a restore replaced) that the
/// restored ledger lacks — only people the restored ledger knows.
fn remember_attribution(c: &Connection, aside: &Path) -> Result<(), StoreError> {
    c.execute("ATTACH DATABASE ?1 AS before_restore", [aside.to_string_lossy()])?;
    let copied = c.execute(
        "INSERT OR IGNORE INTO restored_attribution (op_id, device_id, staff_id)
         SELECT e.op_id, e.device_id, e.staff_id FROM before_restore.events e
          WHERE e.staff_id IS NOT NULL
            AND e.staff_id IN (SELECT staff_id FROM main.staff)
            AND e.op_id NOT IN (SELECT op_id FROM main.events)",
        [],
    );
    c.execute("DETACH DATABASE before_restore", [])?;
    copied?;
    Ok(())
}

/// After a restore every paired terminal is told so on its next pull (`Store::pull_for`).
fn mark_restored(c: &Connection) -> Result<(), StoreError> {
    c.execute(
        "INSERT OR IGNORE INTO ledger_resync (device_id)
         SELECT device_id FROM devices WHERE revoked_time IS NULL",
        [],
    )?;
    Ok(())
}

/// SQLite's online backup of `c` into `file`: every page in one step (retried while another
/// process holds a write lock); the marks read from the copy.
fn backup_of(c: &Connection, file: &Path) -> Result<Marks, StoreError> {
    let mut copy = Connection::open(file)?;
    // All pages in one step: another process writing (the operator's command line)
    // cannot make it start over half-way.
    let backup = rusqlite::backup::Backup::new(c, &mut copy)?;
    // Busy or locked (another process mid-write): wait and try the step again.
    let mut done = false;
    for _ in 0..100 {
        if backup.step(-1)? == rusqlite::backup::StepResult::Done {
            done = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(backup);
    if !done {
        return Err(StoreError::Busy);
    }
    // The marks of what was copied, read from the copy itself.
    marks_of(&copy)
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        let mut conn = conn;
        let (migrated, left) = migrate_receptions(&mut conn)?;
        if migrated + left > 0 {
            tracing::info!(migrated, left, "first-wave receptions migrated to schema 2");
        }
        Ok(Store { conn: Arc::new(Mutex::new(conn)), training: Arc::default() })
    }

    /// Marks every event stored from now on as 練習モード (or not).
    pub fn set_training(&self, training: bool) {
        self.training.store(training, std::sync::atomic::Ordering::SeqCst);
    }

    fn training(&self) -> bool {
        self.training.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        f(&mut conn)
    }

    /// Stores a batch in one transaction: one result per op, in order.
    pub fn push(&self, device_id: &str, ops: &[Op]) -> Result<Vec<OpResult>, StoreError> {
        let training = self.training();
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let received = now_rfc3339();
            let mut results = Vec::with_capacity(ops.len());
            for (i, op) in ops.iter().enumerate() {
                if i >= MAX_PUSH_OPS {
                    results.push(reject(op, "batch too large"));
                    continue;
                }
                if op.op_id.is_empty() || op.op_id.len() > 64 || op.record_id.is_empty() || op.record_id.len() > 64 {
                    results.push(reject(op, "op_id and record_id must be 1–64 characters"));
                    continue;
                }
                if op.kind.is_empty() || op.kind.len() > 40 {
                    results.push(reject(op, "kind must be 1–40 characters"));
                    continue;
                }
                if let Some(reason) = op.refused_for_terminal() {
                    results.push(reject(op, reason));
                    continue;
                }
                // Typed on the way in: a body that is not the event its kind says is
                // refused with the reason, and a first-wave reception is stored migrated
                // (the same function the terminal uses, so its retries stay duplicates).
                let event = match RecordEvent::parse(&op.kind, &op.device_time, &op.body) {
                    Ok(event) => event,
                    Err(e) => {
                        results.push(reject(op, &e.to_string()));
                        continue;
                    }
                };
                if !matches!(event, RecordEvent::Reception(_)) && !has_reception(&tx, &op.record_id)? {
                    results.push(reject(op, "no reception with this record_id / この記録IDの受付がありません"));
                    continue;
                }
                let body = event.body().to_string();
                if body.len() > 64 * 1024 {
                    results.push(reject(op, "body over 64 KiB"));
                    continue;
                }
                let hash = sha256_hex(format!("{}\n{}\n{}", op.record_id, op.kind, body).as_bytes());
                let existing: Option<(u64, String)> = tx
                    .query_row("SELECT seq, body_hash FROM events WHERE op_id = ?1", [&op.op_id], |r| {
                        Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
                    })
                    .optional()?;
                results.push(match existing {
                    Some((seq, h)) if h == hash => OpResult::Duplicate { op_id: op.op_id.clone(), seq },
                    Some((seq, _)) => OpResult::Conflict { op_id: op.op_id.clone(), seq },
                    None => {
                        // A reception recorded from a face result claims it, once.
                        if let Some(claimed) = claim_face(&tx, device_id, op, &event, &received)? {
                            results.push(claimed);
                            continue;
                        }
                        // Theirs only if they signed in on this device; otherwise the
                        // change is the device's, and the claim is audited.
                        let staff = match op.staff.as_deref() {
                            Some(id) if Store::signed_in_on(&tx, id, device_id)? => Some(id.to_string()),
                            Some(id) => {
                                let id: String = id.chars().take(64).collect();
                                append_audit(&tx, device_id, "", "op_staff_unknown", &format!("{} {id}", op.op_id))?;
                                None
                            }
                            // A terminal's re-send after a restore carries no person: the
                            // ledger set aside by the restore says who made it.
                            None => tx
                                .query_row(
                                    "SELECT staff_id FROM restored_attribution WHERE op_id = ?1 AND device_id = ?2",
                                    params![op.op_id, device_id],
                                    |r| r.get::<_, String>(0),
                                )
                                .optional()?,
                        };
                        tx.execute(
                            "INSERT INTO events (op_id, record_id, device_id, kind, device_time, received_time, body, body_hash, training, staff_id)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                            params![op.op_id, op.record_id, device_id, op.kind, op.device_time, received, body, hash, training, staff],
                        )?;
                        let seq = tx.last_insert_rowid() as u64;
                        // A reception that could not be confirmed carries the numbers to
                        // re-run: its 事後確認 task is born in the same transaction.
                        if let RecordEvent::Reception(Reception { follow_up: Some(query), .. }) = &event {
                            tx.execute(
                                "INSERT INTO follow_ups (record_id, created_seq, query, state, updated_time)
                                 VALUES (?1, ?2, ?3, 'pending', ?4)",
                                params![op.record_id, seq as i64, serde_json::to_string(query).unwrap_or_default(), received],
                            )?;
                        }
                        OpResult::Created { op_id: op.op_id.clone(), seq }
                    }
                });
            }
            tx.commit()?;
            Ok(results)
        })
    }

    /// The patient's last known reception in the whole ledger (any day, any terminal): the
    /// newest confirmed or document-checked record with numbers, not voided, after its
    /// corrections, under any of the patient's keys (`reception::continuity::index_keys`).
    /// Terminals ask it at a return visit: a tablet keeps only today's patients.
    pub fn last_visit(
        &self,
        patient: &reception::Patient,
    ) -> Result<Option<reception::Reception>, StoreError> {
        let birth = patient.birth.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let id = patient.clinic_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if birth.is_none() && id.is_none() {
            return Ok(None);
        }
        let events = self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE record_id IN (
                     SELECT record_id FROM events WHERE kind = 'reception'
                         AND json_extract(body, '$.patient.birth') = ?1
                     UNION SELECT record_id FROM events WHERE kind = 'corrected'
                         AND json_extract(body, '$.reception.patient.birth') = ?1
                     UNION SELECT record_id FROM events WHERE kind = 'reception'
                         AND json_extract(body, '$.patient.clinic_id') = ?2)
                 ORDER BY seq"
            ))?;
            let rows = stmt.query_map(params![birth, id], stored_event)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })?;
        let (states, _unreadable) = reception::life::fold(&events);
        let index = reception::life::patient_index(&states);
        Ok(reception::life::last_visit(&index, patient).map(|s| s.reception.clone()))
    }

    /// [`Store::pull`] for a paired terminal. After a restore its pull answers "the newest
    /// seq is 0" once, whatever the restored ledger has received since: the terminal takes
    /// that as a restore (`last_seq` below its checkpoint), sends all of its own events of
    /// today again (the bridge counts what it kept as duplicates) and pulls from the start —
    /// which ends the notice. Without it, a terminal pulling after others had refilled the
    /// ledger past its checkpoint, or re-sending only what lay above the restored newest seq,
    /// would lose what the restore took (found with a face result re-read right after a
    /// restore).
    pub fn pull_for(
        &self,
        device_id: &str,
        after: u64,
        limit: u32,
    ) -> Result<PullResponse, StoreError> {
        let told = self.with(|c| {
            let marked = c
                .query_row("SELECT 1 FROM ledger_resync WHERE device_id = ?1", [device_id], |_| {
                    Ok(())
                })
                .optional()?
                .is_some();
            if marked && after == 0 {
                c.execute("DELETE FROM ledger_resync WHERE device_id = ?1", [device_id])?;
            }
            Ok(marked && after > 0)
        })?;
        if told {
            return Ok(PullResponse {
                events: Vec::new(),
                next: after,
                more: false,
                last_seq: Some(0),
            });
        }
        self.pull(after, limit)
    }

    /// Events after `after`, in order, at most `limit` (capped at 500).
    pub fn pull(&self, after: u64, limit: u32) -> Result<PullResponse, StoreError> {
        let limit = limit.clamp(1, 500);
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?;
            let mut events: Vec<StoredEvent> = stmt
                .query_map(params![after as i64, i64::from(limit) + 1], stored_event)?
                .collect::<Result<_, _>>()?;
            let more = events.len() > limit as usize;
            events.truncate(limit as usize);
            let next = events.last().map_or(after, |e| e.seq);
            let last: i64 =
                conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?;
            Ok(PullResponse { events, next, more, last_seq: Some(last as u64) })
        })
    }

    /// Every event received on `day` in Japan (UTC+9), in order.
    pub fn events_received_on(
        &self,
        day: eligibility::Date,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self.pull(after, 500)?;
            out.extend(page.events.into_iter().filter(|e| jst_day(&e.received_time) == Some(day)));
            after = page.next;
            if !page.more {
                return Ok(out);
            }
        }
    }

    pub fn event_count(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)
        })
    }

    /// Pending 事後確認 tasks, oldest first.
    pub fn pending_follow_ups(&self, limit: u32) -> Result<Vec<FollowUp>, StoreError> {
        self.follow_ups_where("f.state = 'pending'", "f.id", limit)
    }

    /// Pending tasks whose next attempt is due (`now_unix` or earlier), oldest first.
    pub fn due_follow_ups(&self, now_unix: i64, limit: u32) -> Result<Vec<FollowUp>, StoreError> {
        self.follow_ups_where(
            &format!("f.state = 'pending' AND f.next_attempt_unix <= {now_unix}"),
            "f.id",
            limit,
        )
    }

    /// Every follow-up, newest first (for `GET /api/follow-ups`).
    pub fn follow_ups(&self, limit: u32) -> Result<Vec<FollowUp>, StoreError> {
        self.follow_ups_where("1 = 1", "f.id DESC", limit)
    }

    fn follow_ups_where(
        &self,
        filter: &str,
        order: &str,
        limit: u32,
    ) -> Result<Vec<FollowUp>, StoreError> {
        let sql = format!(
            "SELECT f.id, f.record_id, f.query, f.state, f.attempts, f.result, e.received_time, f.updated_time, f.last_reason
             FROM follow_ups f JOIN events e ON e.seq = f.created_seq WHERE {filter} ORDER BY {order} LIMIT ?1"
        );
        self.with(|c| {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt
                .query_map([i64::from(limit)], |r| {
                    let query: String = r.get(2)?;
                    let result: Option<String> = r.get(5)?;
                    Ok(FollowUp {
                        id: r.get::<_, i64>(0)? as u64,
                        record_id: r.get(1)?,
                        query: serde_json::from_str(&query).unwrap_or(serde_json::Value::Null),
                        state: r.get(3)?,
                        attempts: r.get::<_, i64>(4)? as u32,
                        result: result.and_then(|r| serde_json::from_str(&r).ok()),
                        created_time: r.get(6)?,
                        updated_time: r.get(7)?,
                        last_reason: r.get(8)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// One more attempt without a definitive answer: the task stays pending, with the
    /// reason, and is not tried again before `next_attempt_unix`.
    pub fn follow_up_attempted(
        &self,
        id: u64,
        reason: &str,
        next_attempt_unix: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE follow_ups SET attempts = attempts + 1, updated_time = ?1, last_reason = ?2,
                 next_attempt_unix = ?3 WHERE id = ?4 AND state = 'pending'",
                params![now_rfc3339(), reason, next_attempt_unix, id as i64],
            )?;
            Ok(())
        })
    }

    /// Ends a task (`done`, or `failed` = 要対応) and records its result as an event of
    /// the reception's record, in one transaction. Returns the event's seq, or `None` when
    /// the task was already finished (a second worker cannot record it twice).
    pub fn finish_follow_up(
        &self,
        id: u64,
        state: &str,
        result: &serde_json::Value,
    ) -> Result<Option<u64>, StoreError> {
        let training = self.training();
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = now_rfc3339();
            let changed = tx.execute(
                "UPDATE follow_ups SET state = ?1, result = ?2, attempts = attempts + 1, updated_time = ?3
                 WHERE id = ?4 AND state = 'pending'",
                params![state, result.to_string(), now, id as i64],
            )?;
            if changed != 1 {
                return Ok(None);
            }
            let record_id: String = tx.query_row(
                "SELECT record_id FROM follow_ups WHERE id = ?1",
                [id as i64],
                |r| r.get(0),
            )?;
            let body = serde_json::json!({ "follow_up_id": id, "state": state, "result": result })
                .to_string();
            let kind = "follow_up_result";
            let hash = sha256_hex(format!("{record_id}\n{kind}\n{body}").as_bytes());
            tx.execute(
                "INSERT INTO events (op_id, record_id, device_id, kind, device_time, received_time, body, body_hash, training)
                 VALUES (?1, ?2, 'bridge', ?3, ?4, ?4, ?5, ?6, ?7)",
                params![format!("follow-up:{id}"), record_id, kind, now, body, hash, training],
            )?;
            let seq = tx.last_insert_rowid() as u64;
            tx.commit()?;
            Ok(Some(seq))
        })
    }

    /// When the oldest pending follow-up's reception arrived (for `/health`).
    pub fn oldest_pending_follow_up(&self) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT MIN(e.received_time) FROM follow_ups f JOIN events e ON e.seq = f.created_seq
                 WHERE f.state = 'pending'",
                [],
                |r| r.get(0),
            )?)
        })
    }

    /// A face result read from `face/`: the file remembered and the `face_result` event
    /// stored in one transaction, before anyone is told. Returns the event's seq, or
    /// `None` when this content of this file was stored before (a restart, a rescan).
    pub fn record_face(
        &self,
        file: &SeenFile,
        body: &serde_json::Value,
    ) -> Result<Option<u64>, StoreError> {
        let body = body.to_string();
        let training = self.training();
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = now_rfc3339();
            let fresh = tx.execute(
                "INSERT OR IGNORE INTO gateway_files (folder, name, sha256, size, mtime_ns, outcome, seen_time)
                 VALUES ('face', ?1, ?2, ?3, ?4, 'result', ?5)",
                params![file.name, file.sha256, file.size as i64, file.mtime_ns, now],
            )?;
            if fresh == 0 {
                return Ok(None);
            }
            let (op_id, record_id, kind) =
                (format!("face:{}", file.face_id()), uuid::Uuid::now_v7().to_string(), "face_result");
            let hash = sha256_hex(format!("{record_id}\n{kind}\n{body}").as_bytes());
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO events (op_id, record_id, device_id, kind, device_time, received_time, body, body_hash, training)
                 VALUES (?1, ?2, 'bridge', ?3, ?4, ?4, ?5, ?6, ?7)",
                params![op_id, record_id, kind, now, body, hash, training],
            )?;
            if inserted == 0 {
                tx.commit()?;
                return Ok(None);
            }
            let seq = tx.last_insert_rowid();
            tx.execute(
                "UPDATE gateway_files SET event_seq = ?1 WHERE folder = 'face' AND name = ?2 AND sha256 = ?3",
                params![seq, file.name, file.sha256],
            )?;
            tx.commit()?;
            Ok(Some(seq as u64))
        })
    }

    /// A `face/` file that could not be read: remembered (so it is reported once), with
    /// the reason. Returns false when it was recorded before.
    pub fn record_quarantined(&self, file: &SeenFile, reason: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.execute(
                "INSERT OR IGNORE INTO gateway_files (folder, name, sha256, size, mtime_ns, outcome, reason, seen_time)
                 VALUES ('face', ?1, ?2, ?3, ?4, 'quarantined', ?5, ?6)",
                params![file.name, file.sha256, file.size as i64, file.mtime_ns, reason, now_rfc3339()],
            )? == 1)
        })
    }

    /// Every `face/` file already read: (name, size, mtime), so the watcher can skip them
    /// at start-up without reading them again.
    pub fn seen_face_files(&self) -> Result<Vec<(String, u64, i64)>, StoreError> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT name, size, mtime_ns FROM gateway_files WHERE folder = 'face'")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// How many `face/` files were read, and how many of them were quarantined.
    pub fn face_file_counts(&self) -> Result<(u64, u64), StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*), COALESCE(SUM(outcome = 'quarantined'), 0) FROM gateway_files WHERE folder = 'face'",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )?)
        })
    }

    /// Today's (Japan) face results that no reception has claimed yet, oldest first: what
    /// every terminal's 受付 list shows, on connect, on reload and after the idle timeout.
    pub fn open_face_results(&self) -> Result<Vec<StoredEvent>, StoreError> {
        // Today in Japan began at 15:00 UTC the day before; received times are UTC RFC 3339
        // in one format, so they compare as text.
        let since = format!("{}T15:00:00.000Z", crate::clock::today_jst().pred());
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE kind = 'face_result' AND received_time >= ?1
                 AND NOT EXISTS (SELECT 1 FROM face_claims c WHERE 'face:' || c.face_id = e.op_id)
                 ORDER BY seq"
            ))?;
            let rows = stmt.query_map([&since], stored_event)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// The database file's size in bytes (main file + WAL).
    pub fn size_bytes(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            Ok((pages * size) as u64)
        })
    }

    /// A new one-time pairing code (8 digits), valid for `ttl_secs`.
    pub fn new_pairing_code(&self, ttl_secs: i64) -> Result<String, StoreError> {
        let code = self.issue_code(ttl_secs, None)?;
        self.audit("operator", "pairing_code_issued", "-")?;
        Ok(code)
    }

    /// A pairing code that pairs only a guidance display, and one that follows `counter`
    /// (a counter asks for it in 設定: a counter can make a display for itself, never another
    /// counter).
    pub fn new_display_code(&self, counter: &str, ttl_secs: i64) -> Result<String, StoreError> {
        let code = self.issue_code(ttl_secs, Some(counter))?;
        self.audit(counter, "display_code_issued", "-")?;
        Ok(code)
    }

    /// Stores a fresh one-time code's hash (`follows`: the counter a display paired with it
    /// will follow) and forgets expired and used ones.
    fn issue_code(&self, ttl_secs: i64, follows: Option<&str>) -> Result<String, StoreError> {
        let code = one_time_code();
        self.with(|c| {
            c.execute("DELETE FROM pairing_codes WHERE expires_unix < ?1 OR used = 1", [now_unix()])?;
            c.execute(
                "INSERT OR REPLACE INTO pairing_codes (code_hash, expires_unix, used, follows) VALUES (?1, ?2, 0, ?3)",
                params![sha256_hex(code.as_bytes()), now_unix() + ttl_secs, follows],
            )?;
            Ok(())
        })?;
        Ok(code)
    }

    /// Trades a code for a device token; `None` when the code is unknown, used or expired.
    pub fn pair(
        &self,
        code: &str,
        device_name: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.pair_as(code, device_name, protocol::DeviceRole::Counter)
    }

    /// [`Store::pair`] with the role the device asked for.
    pub fn pair_as(
        &self,
        code: &str,
        device_name: &str,
        role: protocol::DeviceRole,
    ) -> Result<Option<(String, String)>, StoreError> {
        let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let device_id = uuid::Uuid::now_v7().to_string();
        let paired = self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let hash = sha256_hex(code.trim().as_bytes());
            // A display's code (from a counter) pairs nothing but a display.
            let follows: Option<Option<String>> = tx
                .query_row(
                    "SELECT follows FROM pairing_codes WHERE code_hash = ?1 AND used = 0 AND expires_unix >= ?2",
                    params![hash, now_unix()],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(follows) = follows else { return Ok(false) };
            if follows.is_some() && role != protocol::DeviceRole::Display {
                return Ok(false);
            }
            let changed = tx.execute(
                "UPDATE pairing_codes SET used = 1 WHERE code_hash = ?1 AND used = 0 AND expires_unix >= ?2",
                params![hash, now_unix()],
            )?;
            if changed != 1 {
                return Ok(false);
            }
            let name: String = device_name.chars().filter(|c| !c.is_control()).take(60).collect();
            tx.execute(
                "INSERT INTO devices (device_id, name, token_hash, created_time, role, follows) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![device_id, name, sha256_hex(token.as_bytes()), now_rfc3339(), role.as_str(), follows],
            )?;
            tx.commit()?;
            Ok(true)
        })?;
        if !paired {
            return Ok(None);
        }
        self.audit("operator", "device_paired", &device_id)?;
        Ok(Some((device_id, token)))
    }

    /// The counter a token belongs to, unless revoked. A guidance display's token is no
    /// counter's: it opens no API, no ledger and no card (see [`Store::display_for_token`]).
    pub fn device_for_token(&self, token: &str) -> Result<Option<String>, StoreError> {
        Ok(self.token_of_role(token, protocol::DeviceRole::Counter)?.map(|(device, _)| device))
    }

    /// The guidance display a token belongs to, unless revoked, and the counter it follows
    /// (`None`: every counter's steps): it may only hear the counters' guidance steps.
    pub fn display_for_token(
        &self,
        token: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        self.token_of_role(token, protocol::DeviceRole::Display)
    }

    fn token_of_role(
        &self,
        token: &str,
        role: protocol::DeviceRole,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT device_id, follows FROM devices WHERE token_hash = ?1 AND revoked_time IS NULL AND role = ?2",
                params![sha256_hex(token.as_bytes()), role.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }

    /// Whether `device_id` is paired and not revoked (open sockets ask this every half
    /// second: `bridge devices revoke` runs in another process).
    pub fn device_active(&self, device_id: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT 1 FROM devices WHERE device_id = ?1 AND revoked_time IS NULL",
                [device_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
        })
    }

    pub fn devices(&self) -> Result<Vec<Device>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT device_id, name, created_time, revoked_time, role FROM devices ORDER BY created_time")?;
            let rows = stmt
                .query_map([], |r| Ok(Device { device_id: r.get(0)?, name: r.get(1)?, created_time: r.get(2)?, revoked_time: r.get(3)?, role: r.get(4)? }))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// Revokes a device; `false` when there is no such active device.
    pub fn revoke(&self, device_id: &str, by: By<'_>) -> Result<bool, StoreError> {
        let changed = self.with(|c| {
            Ok(c.execute("UPDATE devices SET revoked_time = ?1 WHERE device_id = ?2 AND revoked_time IS NULL", params![now_rfc3339(), device_id])?)
        })?;
        if changed == 1 {
            self.audit_by(by.actor, by.person, "device_revoked", device_id)?;
        }
        Ok(changed == 1)
    }

    /// Appends to the hash-chained audit log (who, what, which record; never patient data).
    pub fn audit(&self, actor: &str, action: &str, subject: &str) -> Result<(), StoreError> {
        self.audit_by(actor, "", action, subject)
    }

    /// [`Store::audit`] with the signed-in person (a staff id; empty when nobody was).
    pub fn audit_by(
        &self,
        actor: &str,
        person: &str,
        action: &str,
        subject: &str,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            append_audit(&tx, actor, person, action, subject)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Copies the whole database into `file` with SQLite's online backup API (one
    /// consistent state; this process's writers wait the few milliseconds it takes, other
    /// processes' are not blocked); returns the copy's marks.
    pub fn backup_into(&self, file: &Path) -> Result<Marks, StoreError> {
        self.with(|c| backup_of(c, file))
    }

    /// Replaces the whole ledger, while serving, with the database in `file` (a checked
    /// backup's copy): under this process's lock, the current state is copied aside into
    /// `aside`, then SQLite's backup API writes `file` over the live database, so every
    /// handler sees the old ledger or the new one, never a mix. The schema is brought up to
    /// date as at start-up. Returns the restored ledger's marks.
    pub fn restore_live(&self, file: &Path, aside: &Path) -> Result<Marks, StoreError> {
        self.with(|c| {
            // Under the same lock as the restore: nothing stored in between is in neither.
            backup_of(c, aside)?;
            c.restore(rusqlite::MAIN_DB, file, rusqlite::backup::NO_PROGRESS)?;
            c.execute_batch(SCHEMA)?;
            migrate(c)?;
            migrate_receptions(c)?;
            mark_restored(c)?;
            remember_attribution(c, aside)?;
            marks_of(c)
        })
    }

    /// After a restore onto a stopped bridge (`backup::restore`): every paired terminal is
    /// to be told, and — when the replaced ledger was kept (`aside`) — who made what the copy
    /// lacks is remembered, as a restore while serving does.
    pub fn mark_restored(&self, aside: Option<&Path>) -> Result<(), StoreError> {
        self.with(|c| {
            mark_restored(c)?;
            aside.map_or(Ok(()), |aside| remember_attribution(c, aside))
        })
    }

    /// Where the ledger's file is (`None` in memory).
    pub fn path(&self) -> Option<std::path::PathBuf> {
        self.with(|c| Ok(c.path().filter(|p| !p.is_empty()).map(std::path::PathBuf::from)))
            .ok()
            .flatten()
    }

    /// The events, the last seq, the audit rows and the audit head.
    pub fn marks(&self) -> Result<Marks, StoreError> {
        self.with(|c| marks_of(c))
    }

    /// Recomputes the chain; returns the number of rows, or the first broken row.
    pub fn verify_audit(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT seq, time, actor, action, subject, prev_hash, hash, person FROM audit ORDER BY seq",
            )?;
            let mut rows = stmt.query([])?;
            let mut prev = String::new();
            let mut n = 0;
            while let Some(r) = rows.next()? {
                let seq: i64 = r.get(0)?;
                let (time, actor, action, subject): (String, String, String, String) =
                    (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                let (stored_prev, stored_hash): (String, String) = (r.get(5)?, r.get(6)?);
                let person: String = r.get(7)?;
                let hash = audit_hash(&prev, &time, &actor, &person, &action, &subject);
                if stored_prev != prev || stored_hash != hash {
                    return Err(StoreError::AuditBroken(seq as u64));
                }
                prev = stored_hash;
                n += 1;
            }
            Ok(n)
        })
    }

    /// For tests of the audit check: run raw SQL.
    #[doc(hidden)]
    /// How many audit rows record `action` (tests and the operator's checks).
    pub fn audit_count(&self, action: &str) -> Result<u64, StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT COUNT(*) FROM audit WHERE action = ?1", [action], |r| {
                r.get::<_, i64>(0)
            })? as u64)
        })
    }

    pub fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        self.with(|c| Ok(c.execute_batch(sql)?))
    }
}
