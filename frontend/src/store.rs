//! The terminal's IndexedDB: the reception ledger of this terminal, its outbox, the
//! clinic's ledger pulled from the bridge, and settings.
//!
//! Schema (versioned; [`open`] migrates step by step from any older version):
//! - v1: `outbox` (key `op_id`: the op as it will be pushed, plus state) and `meta`
//!   (key/value: token, device id, settings, the pull checkpoint).
//! - v2: `receptions` (key `record_id`: what this terminal recorded, with its sync state)
//!   and `ledger` (key `seq`: the clinic's events pulled from the bridge).
//! - v3: no new store; the rows of `receptions` hold the typed record
//!   (`reception::Reception`, schema 2). [`open`] rewrites first-wave rows after the
//!   upgrade, with `reception::v1` (the bridge migrates its copies with the same function).
//!
//! Invariants: a reception and its outbox row are written in **one** read-write
//! transaction with `durability: "strict"`, and the caller learns "recorded" only after
//! it commits; an outbox row is deleted only by its own acknowledgement (`created` or
//! `duplicate`); pulled rows are written before the checkpoint, in the same transaction.

use crate::model::{Reception, SyncState};
use idb::{Database, Factory, KeyPath, ObjectStoreParams, Query, TransactionMode};
use protocol::{Op, OpResult, StoredEvent};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

/// The schema version this build writes.
pub const VERSION: u32 = 3;
pub const DEFAULT_NAME: &str = "madoguchi";

const OUTBOX: &str = "outbox";
const META: &str = "meta";
const RECEPTIONS: &str = "receptions";
const LEDGER: &str = "ledger";

/// What went wrong with the browser's storage; the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "端末の保存領域エラー: {} / browser storage error: reload the page; if it persists, call support",
            self.0
        )
    }
}

impl From<idb::Error> for StoreError {
    fn from(e: idb::Error) -> StoreError {
        StoreError(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> StoreError {
        StoreError(e.to_string())
    }
}

/// An outbox row: the op plus its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub op_id: String,
    pub op: Op,
    /// Milliseconds since the epoch when it was enqueued.
    pub enqueued_ms: f64,
    pub attempts: u32,
    /// Set when the bridge rejected it or reported a conflict: 要対応, never retried.
    #[serde(default)]
    pub rejected: Option<String>,
}

impl OutboxRow {
    /// A fresh row for `op`, enqueued at `now_ms`.
    pub fn new(op: &Op, now_ms: f64) -> OutboxRow {
        OutboxRow {
            op_id: op.op_id.clone(),
            op: op.clone(),
            enqueued_ms: now_ms,
            attempts: 0,
            rejected: None,
        }
    }
}

// Rows are plain JS objects in IndexedDB, converted through JSON text with serde_json
// (which the page carries anyway): the same objects serde-wasm-bindgen's JSON-compatible
// mode made, without its second set of (de)serialisers in the bundle.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, StoreError> {
    js_sys::JSON::parse(&crate::json::to_text(value)?).map_err(|_| StoreError("JSON.parse".into()))
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, StoreError> {
    let text = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| StoreError("JSON.stringify".into()))?;
    Ok(crate::json::from_text(&text)?)
}

/// Creates what each version adds, from `old` up to `new`.
fn migrate(db: &Database, old: u32, new: u32) -> Result<(), idb::Error> {
    let keyed = |key: &str| {
        let mut p = ObjectStoreParams::new();
        p.key_path(Some(KeyPath::new_single(key)));
        p
    };
    if old < 1 && new >= 1 {
        db.create_object_store(OUTBOX, keyed("op_id"))?;
        db.create_object_store(META, ObjectStoreParams::new())?;
    }
    if old < 2 && new >= 2 {
        db.create_object_store(RECEPTIONS, keyed("record_id"))?;
        db.create_object_store(LEDGER, keyed("seq"))?;
    }
    Ok(())
}

/// The open database.
#[derive(Debug, Clone)]
pub struct Store {
    raw: web_sys::IdbDatabase,
}

/// Opens `name` at `version` (tests open older versions to test migrations).
pub async fn open_version(name: &str, version: u32) -> Result<Store, StoreError> {
    let factory = Factory::new()?;
    let mut request = factory.open(name, Some(version))?;
    request.on_upgrade_needed(move |event| {
        use idb::DatabaseEvent;
        let old = event.old_version().unwrap_or(0);
        let new = event.new_version().ok().flatten().unwrap_or(version);
        if let Ok(db) = event.database() {
            let _ = migrate(&db, old, new);
        }
    });
    Ok(Store { raw: request.await?.into() })
}

/// Opens the terminal's database at the current schema version, first-wave rows migrated.
pub async fn open(name: &str) -> Result<Store, StoreError> {
    let store = open_version(name, VERSION).await?;
    store.migrate_receptions().await?;
    Ok(store)
}

/// Deletes a database (tests; 設定's "clear this terminal").
pub async fn delete(name: &str) -> Result<(), StoreError> {
    Factory::new()?.delete(name)?.await?;
    Ok(())
}

impl Store {
    /// The `idb` wrapper over the connection (cheap: one JS handle).
    fn db(&self) -> Database {
        Database::from(self.raw.clone())
    }

    pub fn close(&self) {
        self.db().close();
    }

    pub fn version(&self) -> u32 {
        self.db().version().unwrap_or(0)
    }

    pub fn store_names(&self) -> Vec<String> {
        self.db().store_names()
    }

    /// A read-write transaction with strict durability: it completes only once the browser
    /// has flushed it to disk.
    fn strict(&self, stores: &[&str]) -> Result<idb::Transaction, StoreError> {
        let db = &self.raw;
        let names: Vec<js_sys::JsString> =
            stores.iter().map(|s| js_sys::JsString::from(*s)).collect();
        let options = web_sys::IdbTransactionOptions::new();
        options.set_durability(web_sys::IdbTransactionDurability::Strict);
        let tx = db
            .transaction_with_str_sequence_and_mode_and_options(
                &names,
                web_sys::IdbTransactionMode::Readwrite,
                &options,
            )
            .map_err(|e| StoreError(format!("{e:?}")))?;
        Ok(tx.into())
    }

    async fn finish(tx: idb::Transaction) -> Result<(), StoreError> {
        if tx.await?.is_committed() {
            Ok(())
        } else {
            Err(StoreError("transaction aborted".into()))
        }
    }

    /// Rewrites first-wave reception rows as the typed record (idempotent: rows already
    /// in the current shape are left alone). A row that cannot be read stays as it was.
    async fn migrate_receptions(&self) -> Result<usize, StoreError> {
        let tx = self.strict(&[RECEPTIONS])?;
        let receptions = tx.object_store(RECEPTIONS)?;
        let mut migrated = 0;
        for value in receptions.get_all(None, None)?.await? {
            let raw: serde_json::Value = from_js(value)?;
            match Reception::from_stored(raw.clone()) {
                Ok(r) if serde_json::to_value(&r)? != raw => {
                    receptions.put(&to_js(&r)?, None)?.await?;
                    migrated += 1;
                }
                _ => {}
            }
        }
        Store::finish(tx).await?;
        Ok(migrated)
    }

    /// Records a reception and its outbox row atomically. Returns after the commit.
    pub async fn record(
        &self,
        reception: &Reception,
        op: &Op,
        now_ms: f64,
    ) -> Result<(), StoreError> {
        let tx = self.strict(&[RECEPTIONS, OUTBOX])?;
        tx.object_store(RECEPTIONS)?.put(&to_js(reception)?, None)?.await?;
        tx.object_store(OUTBOX)?.add(&to_js(&OutboxRow::new(op, now_ms))?, None)?.await?;
        Store::finish(tx).await
    }

    /// An op of a record's life (訂正, 取消, 請求決定) into the outbox. Returns after the commit.
    pub async fn enqueue(&self, op: &Op, now_ms: f64) -> Result<(), StoreError> {
        let tx = self.strict(&[OUTBOX])?;
        tx.object_store(OUTBOX)?.add(&to_js(&OutboxRow::new(op, now_ms))?, None)?.await?;
        Store::finish(tx).await
    }

    /// Outbox rows waiting to be sent (not rejected), oldest first, at most `limit`.
    pub async fn pending(&self, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let mut rows = self.outbox().await?;
        rows.retain(|r| r.rejected.is_none());
        eligibility::order::sort_by(&mut rows, |a, b| a.enqueued_ms.total_cmp(&b.enqueued_ms));
        rows.truncate(limit);
        Ok(rows)
    }

    /// Every outbox row (pending and rejected).
    pub async fn outbox(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let tx = self.db().transaction(&[OUTBOX], TransactionMode::ReadOnly)?;
        let values = tx.object_store(OUTBOX)?.get_all(None, None)?.await?;
        values.into_iter().map(from_js).collect()
    }

    /// Applies the bridge's answer to a push: each row is deleted only on its own
    /// `created`/`duplicate`; `conflict`/`rejected` rows stay, marked 要対応; the
    /// receptions' sync states follow. Ops missing from `results` stay pending. A
    /// `claimed` reception (another counter recorded the same face result first) was never
    /// stored by the bridge: its row and the local copy go, and the returned notices say
    /// who recorded it.
    pub async fn apply_results(
        &self,
        sent: &[OutboxRow],
        results: &[OpResult],
    ) -> Result<Vec<String>, StoreError> {
        let mut notices = Vec::new();
        let tx = self.strict(&[OUTBOX, RECEPTIONS])?;
        let outbox = tx.object_store(OUTBOX)?;
        let receptions = tx.object_store(RECEPTIONS)?;
        for result in results {
            if let OpResult::Claimed { op_id, by_device, at } = result {
                let Some(row) = sent.iter().find(|r| &r.op_id == op_id) else { continue };
                outbox.delete(Query::Key(JsValue::from_str(op_id)))?.await?;
                receptions.delete(Query::Key(JsValue::from_str(&row.op.record_id)))?.await?;
                notices.push(format!(
                    "この結果は{by_device}で{at}に記録済みです（この端末では記録していません）/ already recorded at {by_device} at {at} (nothing recorded here)"
                ));
                continue;
            }
            let (op_id, state) = match result {
                OpResult::Created { op_id, seq } | OpResult::Duplicate { op_id, seq } => {
                    (op_id, SyncState::Acknowledged { seq: *seq })
                }
                OpResult::Conflict { op_id, .. } => {
                    (op_id, SyncState::NeedsAttention { reason: "conflict".into() })
                }
                OpResult::Rejected { op_id, reason } => {
                    (op_id, SyncState::NeedsAttention { reason: reason.clone() })
                }
                OpResult::Claimed { .. } => continue,
            };
            let Some(row) = sent.iter().find(|r| &r.op_id == op_id) else { continue };
            match &state {
                SyncState::Acknowledged { .. } => {
                    outbox.delete(Query::Key(JsValue::from_str(op_id)))?.await?;
                }
                SyncState::NeedsAttention { reason } => {
                    let mut row = row.clone();
                    row.rejected = Some(reason.clone());
                    row.attempts += 1;
                    outbox.put(&to_js(&row)?, None)?.await?;
                }
                SyncState::Pending => {}
            }
            // The reception's own op sets its sync state (its life events have their own
            // outbox rows).
            let key = Query::Key(JsValue::from_str(&row.op.record_id));
            if let Some(value) = receptions.get(key)?.await? {
                // A row this build cannot read is left as it is (its op is the outbox's).
                let Ok(mut reception) = Reception::from_stored(from_js(value)?) else { continue };
                if reception.op_id == row.op_id {
                    reception.sync = state;
                    receptions.put(&to_js(&reception)?, None)?.await?;
                }
            }
        }
        Store::finish(tx).await?;
        Ok(notices)
    }

    /// Counts one more failed delivery attempt for `rows` (the bridge was unreachable).
    pub async fn attempted(&self, rows: &[OutboxRow]) -> Result<(), StoreError> {
        let tx = self.strict(&[OUTBOX])?;
        let outbox = tx.object_store(OUTBOX)?;
        for row in rows {
            let mut row = row.clone();
            row.attempts += 1;
            outbox.put(&to_js(&row)?, None)?.await?;
        }
        Store::finish(tx).await
    }

    /// This terminal's receptions, newest first. A row this build cannot read is skipped,
    /// not fatal: one odd row must not hide the others (it stays stored, untouched).
    pub async fn receptions(&self) -> Result<Vec<Reception>, StoreError> {
        let tx = self.db().transaction(&[RECEPTIONS], TransactionMode::ReadOnly)?;
        let values = tx.object_store(RECEPTIONS)?.get_all(None, None)?.await?;
        let mut list: Vec<Reception> = Vec::with_capacity(values.len());
        for v in values {
            if let Ok(r) = Reception::from_stored(from_js(v)?) {
                list.push(r);
            }
        }
        eligibility::order::sort_by(&mut list, |a, b| b.created_ms.total_cmp(&a.created_ms));
        Ok(list)
    }

    /// Stores a pulled page: the rows first, then the checkpoint, in one transaction.
    pub async fn put_ledger(&self, events: &[StoredEvent], next: u64) -> Result<(), StoreError> {
        let tx = self.strict(&[LEDGER, META])?;
        let ledger = tx.object_store(LEDGER)?;
        for event in events {
            ledger.put(&to_js(event)?, None)?.await?;
        }
        tx.object_store(META)?
            .put(&JsValue::from_f64(next as f64), Some(&JsValue::from_str("checkpoint")))?
            .await?;
        Store::finish(tx).await
    }

    /// After a bridge restore, in one transaction: `lost` into the outbox (same op ids, so
    /// what the bridge did keep is a duplicate there), and the ledger copy dropped with its
    /// checkpoint (it is pulled again from what the bridge has).
    pub async fn restored(&self, lost: &[Op]) -> Result<usize, StoreError> {
        let tx = self.strict(&[OUTBOX, LEDGER, META])?;
        let outbox = tx.object_store(OUTBOX)?;
        for op in lost {
            outbox.put(&to_js(&OutboxRow::new(op, js_sys::Date::now()))?, None)?.await?;
        }
        tx.object_store(LEDGER)?.clear()?.await?;
        tx.object_store(META)?
            .put(&JsValue::from_f64(0.0), Some(&JsValue::from_str("checkpoint")))?
            .await?;
        Store::finish(tx).await?;
        Ok(lost.len())
    }

    /// The clinic's ledger as pulled, in seq order.
    pub async fn ledger(&self) -> Result<Vec<StoredEvent>, StoreError> {
        let tx = self.db().transaction(&[LEDGER], TransactionMode::ReadOnly)?;
        let values = tx.object_store(LEDGER)?.get_all(None, None)?.await?;
        values.into_iter().map(from_js).collect()
    }

    /// Forgets the patients this tablet no longer needs: ledger rows the bridge received
    /// before `cutoff` (RFC 3339, UTC) keep only what 利用状況 counts
    /// (`usage::ledger::counting_only`: no name, birth date or numbers), and acknowledged
    /// receptions made before it go. Unsent and 要対応 rows are never touched (they live in
    /// the outbox until resolved); the bridge keeps everything. Returns the rows changed.
    pub async fn prune(&self, cutoff: &str, cutoff_ms: f64) -> Result<usize, StoreError> {
        let tx = self.strict(&[LEDGER, RECEPTIONS])?;
        let (ledger, receptions) = (tx.object_store(LEDGER)?, tx.object_store(RECEPTIONS)?);
        let mut gone = 0;
        for value in ledger.get_all(None, None)?.await? {
            let mut event: StoredEvent = from_js(value)?;
            if event.received_time.as_str() < cutoff {
                let slim =
                    usage::ledger::counting_only(&event.kind, &event.device_time, &event.body)
                        .unwrap_or_else(|| serde_json::json!({}));
                if slim != event.body {
                    event.body = slim;
                    ledger.put(&to_js(&event)?, None)?.await?;
                    gone += 1;
                }
            }
        }
        for value in receptions.get_all(None, None)?.await? {
            // Never forget what cannot be read.
            let Ok(r) = Reception::from_stored(from_js(value)?) else { continue };
            if r.created_ms < cutoff_ms && matches!(r.sync, SyncState::Acknowledged { .. }) {
                receptions.delete(Query::Key(JsValue::from_str(&r.record_id)))?.await?;
                gone += 1;
            }
        }
        Store::finish(tx).await?;
        Ok(gone)
    }

    /// The seq to pull after.
    pub async fn checkpoint(&self) -> Result<u64, StoreError> {
        Ok(self.meta("checkpoint").await?.and_then(|v| v.as_f64()).map_or(0, |n| n as u64))
    }

    pub async fn meta(&self, key: &str) -> Result<Option<JsValue>, StoreError> {
        let tx = self.db().transaction(&[META], TransactionMode::ReadOnly)?;
        let value = tx.object_store(META)?.get(Query::Key(JsValue::from_str(key)))?.await?;
        Ok(value.filter(|v| !v.is_undefined() && !v.is_null()))
    }

    pub async fn meta_string(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.meta(key).await?.and_then(|v| v.as_string()))
    }

    pub async fn set_meta(&self, key: &str, value: &JsValue) -> Result<(), StoreError> {
        let tx = self.strict(&[META])?;
        tx.object_store(META)?.put(value, Some(&JsValue::from_str(key)))?.await?;
        Store::finish(tx).await
    }

    pub async fn remove_meta(&self, key: &str) -> Result<(), StoreError> {
        let tx = self.strict(&[META])?;
        tx.object_store(META)?.delete(Query::Key(JsValue::from_str(key)))?.await?;
        Store::finish(tx).await
    }
}

/// `navigator.storage.persist()`: whether the browser promised not to evict our data.
pub async fn request_persistence() -> Option<bool> {
    let storage = web_sys::window()?.navigator().storage();
    let promise = storage.persist().ok()?;
    wasm_bindgen_futures::JsFuture::from(promise).await.ok()?.as_bool()
}

/// Bytes used and quota, from `navigator.storage.estimate()`.
pub async fn estimate() -> Option<(f64, f64)> {
    let storage = web_sys::window()?.navigator().storage();
    let value = wasm_bindgen_futures::JsFuture::from(storage.estimate().ok()?).await.ok()?;
    let estimate: web_sys::StorageEstimate = value.dyn_into().ok()?;
    Some((estimate.get_usage().unwrap_or(0.0), estimate.get_quota().unwrap_or(0.0)))
}
