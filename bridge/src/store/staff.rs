//! Staff accounts, their passkeys, one-time enrolment codes, sign-in sessions and the
//! per-person audit view.
//!
//! A device keeps at most one open session: a new sign-in on it ends the previous one (a
//! hand-over when the person differs), a lock ends it too. Sessions are never deleted, so
//! the ledger can still say who signed in on which device when an op arrives late. Every
//! change here writes its audit row in the same transaction.

use super::{append_audit, one_time_code, sha256_hex, Store, StoreError};
use crate::clock::{now_rfc3339, now_unix};
use protocol::StaffMember;
use rusqlite::{params, OptionalExtension};

/// A session lasts a working day at most; then the person signs in again.
pub const SESSION_MAX_SECS: i64 = 12 * 3600;

/// One staff member as the store holds them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StaffRow {
    pub staff_id: String,
    pub name: String,
    pub role: String,
    pub created_time: String,
    pub disabled_time: Option<String>,
    /// Active passkeys.
    pub passkeys: u32,
}

impl StaffRow {
    pub fn member(&self) -> StaffMember {
        StaffMember {
            id: self.staff_id.clone(),
            name: self.name.clone(),
            role: self.role.clone(),
            enrolled: self.passkeys > 0,
            disabled: self.disabled_time.is_some(),
        }
    }
}

/// One audit row, with the person's name when there was one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRow {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub person: String,
    pub action: String,
    pub subject: String,
}

/// How a session began, for the audit log and the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Began {
    SignedIn,
    /// The same person as the device's last session (after a lock).
    Unlocked,
    /// Someone else than the device's last session.
    HandOver,
}

impl Began {
    pub fn as_str(self) -> &'static str {
        match self {
            Began::SignedIn => "signed_in",
            Began::Unlocked => "unlocked",
            Began::HandOver => "hand_over",
        }
    }
}

fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok(StaffRow {
        staff_id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        created_time: r.get(3)?,
        disabled_time: r.get(4)?,
        passkeys: r.get::<_, i64>(5)? as u32,
    })
}

const STAFF_SELECT: &str = "SELECT s.staff_id, s.name, s.role, s.created_time, s.disabled_time,
    (SELECT COUNT(*) FROM staff_passkeys p WHERE p.staff_id = s.staff_id AND p.disabled_time IS NULL)
    FROM staff s";

impl Store {
    /// A new staff member; `None` when the name is taken.
    pub fn add_staff(&self, name: &str, role: &str) -> Result<Option<StaffRow>, StoreError> {
        let name: String = name.trim().chars().filter(|c| !c.is_control()).take(40).collect();
        let id = uuid::Uuid::now_v7().to_string();
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let taken = tx
                .query_row("SELECT 1 FROM staff WHERE name = ?1", [&name], |_| Ok(()))
                .optional()?
                .is_some();
            if taken || name.is_empty() {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO staff (staff_id, name, role, created_time) VALUES (?1, ?2, ?3, ?4)",
                params![id, name, role, now_rfc3339()],
            )?;
            append_audit(&tx, "operator", &id, "staff_added", role)?;
            tx.commit()?;
            Ok(Some(StaffRow {
                staff_id: id.clone(),
                name: name.clone(),
                role: role.to_string(),
                created_time: now_rfc3339(),
                disabled_time: None,
                passkeys: 0,
            }))
        })
    }

    /// Everyone, the disabled too, in the order they were added.
    pub fn staff(&self) -> Result<Vec<StaffRow>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!("{STAFF_SELECT} ORDER BY s.created_time, s.name"))?;
            let rows = stmt.query_map([], staff_row)?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// One staff member by name or id (active or not).
    pub fn staff_member(&self, name_or_id: &str) -> Result<Option<StaffRow>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                &format!("{STAFF_SELECT} WHERE s.name = ?1 OR s.staff_id = ?1"),
                [name_or_id.trim()],
                staff_row,
            )
            .optional()?)
        })
    }

    /// The staff member whose id the first column of `sql`'s one row is (none: `None`).
    fn person_by(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<StaffRow>, StoreError> {
        let staff_id: Option<String> =
            self.with(|c| Ok(c.query_row(sql, params, |r| r.get(0)).optional()?))?;
        match staff_id {
            Some(id) => self.staff_member(&id),
            None => Ok(None),
        }
    }

    /// Whether patient data needs a signed-in person: someone active has a passkey.
    pub fn sign_in_required(&self) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT 1 FROM staff_passkeys p JOIN staff s ON s.staff_id = p.staff_id
                 WHERE p.disabled_time IS NULL AND s.disabled_time IS NULL LIMIT 1",
                [],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
        })
    }

    /// Disables a person: no sign-in, their open sessions end. `false` if there is no such
    /// active person.
    pub fn disable_staff(&self, staff_id: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = now_rfc3339();
            let changed = tx.execute(
                "UPDATE staff SET disabled_time = ?1 WHERE staff_id = ?2 AND disabled_time IS NULL",
                params![now, staff_id],
            )?;
            if changed == 1 {
                end_sessions(&tx, "staff_id", staff_id, "disabled")?;
                append_audit(&tx, "operator", staff_id, "staff_disabled", "-")?;
            }
            tx.commit()?;
            Ok(changed == 1)
        })
    }

    /// A one-time enrolment code (8 digits) for `staff_id`, valid `ttl_secs`. `recover`
    /// first disables every passkey the person has (a lost authenticator) and ends their
    /// sessions; both are audited.
    pub fn enrolment_code(
        &self,
        staff_id: &str,
        ttl_secs: i64,
        recover: bool,
    ) -> Result<String, StoreError> {
        let code = one_time_code();
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if recover {
                let now = now_rfc3339();
                let keys = tx.execute(
                    "UPDATE staff_passkeys SET disabled_time = ?1 WHERE staff_id = ?2 AND disabled_time IS NULL",
                    params![now, staff_id],
                )?;
                end_sessions(&tx, "staff_id", staff_id, "recovered")?;
                append_audit(&tx, "operator", staff_id, "staff_recovery", &format!("{keys} passkey(s) disabled"))?;
            }
            tx.execute(
                "DELETE FROM staff_enrolments WHERE staff_id = ?1 OR expires_unix < ?2",
                params![staff_id, now_unix()],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO staff_enrolments (code_hash, staff_id, expires_unix) VALUES (?1, ?2, ?3)",
                params![sha256_hex(code.as_bytes()), staff_id, now_unix() + ttl_secs],
            )?;
            append_audit(&tx, "operator", staff_id, "enrolment_code_issued", "-")?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(code)
    }

    /// The active person an unused, unexpired enrolment code belongs to (not spent yet:
    /// [`Store::enrol`] spends it when the passkey is stored).
    pub fn enrolment_for(&self, code: &str) -> Result<Option<StaffRow>, StoreError> {
        self.person_by(
                "SELECT e.staff_id FROM staff_enrolments e JOIN staff s ON s.staff_id = e.staff_id
                 WHERE e.code_hash = ?1 AND e.used = 0 AND e.expires_unix >= ?2 AND s.disabled_time IS NULL",
    params![sha256_hex(code.trim().as_bytes()), now_unix()],
        )
    }

    /// Stores a passkey for the person of `code`, spending the code; `false` when the code
    /// was spent meanwhile (two enrolments racing) or expired.
    pub fn enrol(
        &self,
        code: &str,
        device_id: &str,
        credential_id: &str,
        passkey_json: &str,
    ) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let staff_id: Option<String> = tx
                .query_row(
                    "SELECT staff_id FROM staff_enrolments WHERE code_hash = ?1 AND used = 0 AND expires_unix >= ?2",
                    params![sha256_hex(code.trim().as_bytes()), now_unix()],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(staff_id) = staff_id else { return Ok(None) };
            tx.execute(
                "UPDATE staff_enrolments SET used = 1 WHERE code_hash = ?1",
                [sha256_hex(code.trim().as_bytes())],
            )?;
            tx.execute(
                "INSERT INTO staff_passkeys (credential_id, staff_id, passkey, created_time) VALUES (?1, ?2, ?3, ?4)",
                params![credential_id, staff_id, passkey_json, now_rfc3339()],
            )?;
            append_audit(&tx, device_id, &staff_id, "passkey_enrolled", credential_id)?;
            tx.commit()?;
            Ok(Some(staff_id))
        })
    }

    /// The active passkeys (as stored JSON) of an active person.
    pub fn passkeys_of(&self, staff_id: &str) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT p.passkey FROM staff_passkeys p JOIN staff s ON s.staff_id = p.staff_id
                 WHERE p.staff_id = ?1 AND p.disabled_time IS NULL AND s.disabled_time IS NULL
                 ORDER BY p.created_time",
            )?;
            let rows = stmt.query_map([staff_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// After a successful assertion: the passkey's new state (its counter), and a new
    /// session for the person on `device_id`, ending the device's previous one. Refused
    /// (`None`) when the person or the passkey was disabled meanwhile.
    pub fn begin_session(
        &self,
        staff_id: &str,
        device_id: &str,
        credential_id: &str,
        updated_passkey: Option<&str>,
    ) -> Result<Option<(String, Began)>, StoreError> {
        let token = random_token();
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let active = tx
                .query_row(
                    "SELECT 1 FROM staff_passkeys p JOIN staff s ON s.staff_id = p.staff_id
                     WHERE p.credential_id = ?1 AND p.staff_id = ?2 AND p.disabled_time IS NULL AND s.disabled_time IS NULL",
                    params![credential_id, staff_id],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if !active {
                return Ok(None);
            }
            let now = now_rfc3339();
            if let Some(passkey) = updated_passkey {
                tx.execute("UPDATE staff_passkeys SET passkey = ?1 WHERE credential_id = ?2", params![passkey, credential_id])?;
            }
            tx.execute("UPDATE staff_passkeys SET last_used_time = ?1 WHERE credential_id = ?2", params![now, credential_id])?;
            let last: Option<String> = tx
                .query_row(
                    "SELECT staff_id FROM staff_sessions WHERE device_id = ?1 ORDER BY started_unix DESC, rowid DESC LIMIT 1",
                    [device_id],
                    |r| r.get(0),
                )
                .optional()?;
            let began = match last {
                None => Began::SignedIn,
                Some(last) if last == staff_id => Began::Unlocked,
                Some(last) => {
                    append_audit(&tx, device_id, staff_id, "hand_over", &format!("from {last}"))?;
                    Began::HandOver
                }
            };
            end_sessions(&tx, "device_id", device_id, began.as_str())?;
            tx.execute(
                "INSERT INTO staff_sessions (token_hash, staff_id, device_id, started_time, started_unix) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![sha256_hex(token.as_bytes()), staff_id, device_id, now, now_unix()],
            )?;
            append_audit(&tx, device_id, staff_id, "staff_signed_in", began.as_str())?;
            tx.commit()?;
            Ok(Some((token.clone(), began)))
        })
    }

    /// The person whose open session on `device_id` `token` is (within a working day,
    /// person still active).
    pub fn session_person(
        &self,
        device_id: &str,
        token: &str,
    ) -> Result<Option<StaffRow>, StoreError> {
        self.person_by(
            "SELECT x.staff_id FROM staff_sessions x JOIN staff s ON s.staff_id = x.staff_id
                 WHERE x.token_hash = ?1 AND x.device_id = ?2 AND x.ended_time IS NULL
                   AND x.started_unix >= ?3 AND s.disabled_time IS NULL",
            params![sha256_hex(token.as_bytes()), device_id, now_unix() - SESSION_MAX_SECS],
        )
    }

    /// The person signed in on `device_id` now (the card operations over the device's
    /// socket are theirs).
    pub fn device_person(&self, device_id: &str) -> Result<Option<StaffRow>, StoreError> {
        self.person_by(
            "SELECT x.staff_id FROM staff_sessions x JOIN staff s ON s.staff_id = x.staff_id
                 WHERE x.device_id = ?1 AND x.ended_time IS NULL AND x.started_unix >= ?2
                   AND s.disabled_time IS NULL
                 ORDER BY x.started_unix DESC LIMIT 1",
            params![device_id, now_unix() - SESSION_MAX_SECS],
        )
    }

    /// Ends `device_id`'s open session (`how`: `locked`, `signed_out`); audited.
    pub fn end_session(&self, device_id: &str, how: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let person: Option<String> = tx
                .query_row(
                    "SELECT staff_id FROM staff_sessions WHERE device_id = ?1 AND ended_time IS NULL ORDER BY started_unix DESC LIMIT 1",
                    [device_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(person) = person else { return Ok(false) };
            end_sessions(&tx, "device_id", device_id, how)?;
            append_audit(&tx, device_id, &person, "staff_session_ended", how)?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Whether `staff_id` ever signed in on `device_id` (an op naming them is theirs).
    pub(crate) fn signed_in_on(
        tx: &rusqlite::Transaction<'_>,
        staff_id: &str,
        device_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(tx
            .query_row(
                "SELECT 1 FROM staff_sessions WHERE staff_id = ?1 AND device_id = ?2 LIMIT 1",
                params![staff_id, device_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// What one person did on one day (JST): their audit rows, and the changes (receptions,
    /// corrections, claim decisions …) that reached the ledger under their name, as audit
    /// rows with the action `event:<kind>` and the record id as subject.
    pub fn audit_of(
        &self,
        staff_id: &str,
        day: eligibility::Date,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let (from, to) = crate::clock::jst_day_bounds(day);
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT seq, time, actor, person, action, subject FROM audit
                   WHERE person = ?1 AND time >= ?2 AND time < ?3
                 UNION ALL
                 SELECT seq, received_time, device_id, staff_id, 'event:' || kind, record_id FROM events
                   WHERE staff_id = ?1 AND received_time >= ?2 AND received_time < ?3
                 ORDER BY 2",
            )?;
            let rows = stmt.query_map(params![staff_id, from, to], |r| {
                Ok(AuditRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    time: r.get(1)?,
                    actor: r.get(2)?,
                    person: r.get(3)?,
                    action: r.get(4)?,
                    subject: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

/// Ends the open sessions where `column` (`device_id` or `staff_id`) is `value`.
fn end_sessions(
    tx: &rusqlite::Transaction<'_>,
    column: &str,
    value: &str,
    how: &str,
) -> Result<(), StoreError> {
    debug_assert!(column == "device_id" || column == "staff_id");
    tx.execute(
        &format!("UPDATE staff_sessions SET ended_time = ?1, ended_how = ?2 WHERE {column} = ?3 AND ended_time IS NULL"),
        params![now_rfc3339(), how, value],
    )?;
    Ok(())
}
