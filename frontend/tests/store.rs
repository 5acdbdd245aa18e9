//! The terminal's IndexedDB in a real browser (headless Chromium through
//! `wasm-bindgen-test-runner`): atomic reception + outbox writes, data that outlives the
//! connection, migration from schema v1, the one-sender lock, and deletion only on
//! acknowledgement.

use frontend::model::{Reception, SyncState};
use frontend::store::{self, OutboxRow, Store};
use protocol::OpResult;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn reception(n: u32) -> Reception {
    Reception {
        record_id: format!("rec-{n}"),
        op_id: format!("op-{n}"),
        created_ms: f64::from(n),
        created: format!("2026-11-26T09:00:{n:02}Z"),
        record: serde_json::from_value(serde_json::json!({
            "schema": 2, "visit": "2026-11-26", "presented": "myna_card",
            "established": "online_confirmation", "status": "confirmed", "claim": { "plan": "normal" },
            "patient": { "name": format!("患者{n}") },
            "copay": { "percent": 30, "band": "late_elderly", "basis": { "kind": "confirmed", "field": "insured_partial_contribution_ratio" }, "could_also_be": [] }
        }))
        .unwrap(),
        sync: SyncState::Pending,
    }
}

/// Writes `row` into the `receptions` store of database `name` at `version` with the
/// browser's IndexedDB directly — as another build (or someone else) would have.
async fn put_raw_reception(name: &str, version: u32, row: &str) {
    let db = idb::Factory::new().unwrap().open(name, Some(version)).unwrap().await.unwrap();
    let tx = db.transaction(&["receptions"], idb::TransactionMode::ReadWrite).unwrap();
    let value = js_sys::JSON::parse(row).unwrap();
    tx.object_store("receptions").unwrap().put(&value, None).unwrap().await.unwrap();
    tx.await.unwrap();
    db.close();
}

async fn fresh(name: &str) -> Store {
    store::delete(name).await.unwrap();
    store::open(name).await.unwrap()
}

async fn record(s: &Store, n: u32) -> Reception {
    let r = reception(n);
    s.record(&r, &r.to_op(), f64::from(n)).await.unwrap();
    r
}

#[wasm_bindgen_test]
async fn a_reception_and_its_outbox_row_commit_together_or_not_at_all() {
    let s = fresh("t-atomic").await;
    record(&s, 1).await;
    assert_eq!(s.receptions().await.unwrap().len(), 1);
    assert_eq!(s.outbox().await.unwrap().len(), 1);
    // A second reception whose op id already exists: the outbox insert fails, so the
    // reception written earlier in the same transaction must not remain either.
    let mut clash = reception(2);
    clash.op_id = "op-1".into();
    let result = s.record(&clash, &clash.to_op(), 2.0).await;
    assert!(result.is_err(), "a duplicate op id must abort the transaction");
    let ids: Vec<String> = s.receptions().await.unwrap().into_iter().map(|r| r.record_id).collect();
    assert_eq!(ids, vec!["rec-1".to_string()]);
    assert_eq!(s.outbox().await.unwrap().len(), 1);
}

#[wasm_bindgen_test]
async fn data_outlives_the_connection() {
    let s = fresh("t-reopen").await;
    record(&s, 1).await;
    record(&s, 2).await;
    s.set_meta("token", &"secret-token".into()).await.unwrap();
    s.close();
    let again = store::open("t-reopen").await.unwrap();
    assert_eq!(again.receptions().await.unwrap().len(), 2);
    assert_eq!(again.pending(10).await.unwrap().len(), 2);
    assert_eq!(again.meta_string("token").await.unwrap().as_deref(), Some("secret-token"));
}

#[wasm_bindgen_test]
async fn schema_v1_migrates_to_v2_keeping_its_rows() {
    store::delete("t-migrate").await.unwrap();
    let v1 = store::open_version("t-migrate", 1).await.unwrap();
    assert_eq!(v1.version(), 1);
    let mut names = v1.store_names();
    names.sort();
    assert_eq!(names, vec!["meta".to_string(), "outbox".to_string()]);
    let r = reception(7);
    let row = OutboxRow {
        op_id: r.op_id.clone(),
        op: r.to_op(),
        enqueued_ms: 7.0,
        attempts: 0,
        rejected: None,
    };
    v1.attempted(&[row]).await.unwrap(); // a put into the v1 outbox
    v1.set_meta("device_id", &"dev-1".into()).await.unwrap();
    v1.close();

    let v2 = store::open("t-migrate").await.unwrap();
    assert_eq!(v2.version(), store::VERSION);
    let mut names = v2.store_names();
    names.sort();
    assert_eq!(names, vec!["ledger", "meta", "outbox", "receptions"]);
    let outbox = v2.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!((outbox[0].op_id.as_str(), outbox[0].attempts), ("op-7", 1));
    assert_eq!(v2.meta_string("device_id").await.unwrap().as_deref(), Some("dev-1"));
    // And the new stores work.
    record(&v2, 8).await;
    assert_eq!(v2.receptions().await.unwrap().len(), 1);
}

/// A first-wave (schema v2 database) reception row, exactly as that build wrote it, is
/// rewritten as the typed record when the current build opens the database; its ids and
/// sync state stay, and nothing in it is lost.
#[wasm_bindgen_test]
async fn first_wave_reception_rows_migrate_to_the_typed_record() {
    store::delete("t-v1-rows").await.unwrap();
    store::open_version("t-v1-rows", 2).await.unwrap().close();
    let v1_row = serde_json::json!({
        "record_id": "rec-v1", "op_id": "op-v1", "created_ms": 5.0,
        "created": "2026-11-26T00:30:00.000Z",
        "method": "certificate", "status": "follow_up_pending",
        "patient": { "name": null, "kana": null, "birth": "1960-03-04", "sex": null, "address": null,
                     "insurer": "06139998", "insurer_name": null, "symbol": "12", "number": "345", "branch": "01" },
        "copay_percent": null, "copay_basis": null,
        "follow_up": { "insurer": "06139998", "symbol": "12", "number": "345", "branch": "01", "birth": "1960-03-04", "visit": "2026-11-26", "limit_consent": false },
        "note": "書類の番号で受付。通常の負担割合を徴収 / numbers from the document; normal copay collected",
        "sync": { "state": "acknowledged", "seq": 41 }
    });
    // Written with the browser's IndexedDB directly, as the first wave's build did.
    put_raw_reception("t-v1-rows", 2, &v1_row.to_string()).await;
    let s = store::open("t-v1-rows").await.unwrap();
    assert_eq!(s.version(), store::VERSION);
    let list = s.receptions().await.unwrap();
    assert_eq!(list.len(), 1);
    let r = &list[0];
    assert_eq!((r.record_id.as_str(), r.op_id.as_str()), ("rec-v1", "op-v1"));
    assert_eq!(r.sync, SyncState::Acknowledged { seq: 41 });
    assert_eq!(r.record.schema, reception::SCHEMA);
    assert_eq!(r.record.status, reception::Status::FollowUpPending);
    assert_eq!(r.record.presented, fallback::Presented::EligibilityCertificate);
    let q = r.record.qualification.as_ref().expect("the numbers are the qualification");
    assert_eq!((q.numbers.insurer.as_str(), q.numbers.number.as_str()), ("06139998", "345"));
    assert_eq!(r.record.follow_up.as_ref().map(|f| f.birth.as_str()), Some("1960-03-04"));
    assert_eq!(r.record.visit.to_string(), "2026-11-26");
    assert!(r.record.note.as_deref().is_some_and(|n| n.contains("書類の番号")));
    // Stored in the new shape: opening again reads the same, and the op it sends is the
    // one the bridge's migration of the same v1 body makes.
    s.close();
    let again = store::open("t-v1-rows").await.unwrap();
    assert_eq!(&again.receptions().await.unwrap()[0], r);
    let bridge_side = reception::v1::migrate(&r.created, &v1_row).unwrap();
    assert_eq!(r.record, bridge_side);
}

/// A row no build can read (written by someone else, or damaged) does not hide the others,
/// and neither migration nor pruning removes it.
#[wasm_bindgen_test]
async fn an_unreadable_reception_row_hides_nothing_and_is_never_deleted() {
    let s = fresh("t-odd-row").await;
    record(&s, 1).await;
    s.close();
    put_raw_reception(
        "t-odd-row",
        store::VERSION,
        r#"{"record_id":"rec-odd","op_id":"x","created_ms":0,"created":"?","sync":{"state":"acknowledged","seq":1},"record":{"schema":9}}"#,
    )
    .await;
    let s = store::open("t-odd-row").await.unwrap();
    let ids: Vec<String> = s.receptions().await.unwrap().into_iter().map(|r| r.record_id).collect();
    assert_eq!(ids, vec!["rec-1".to_string()]);
    s.prune("2099-01-01T00:00:00.000Z", 1e15).await.unwrap();
    let db = idb::Factory::new()
        .unwrap()
        .open("t-odd-row", Some(store::VERSION))
        .unwrap()
        .await
        .unwrap();
    let tx = db.transaction(&["receptions"], idb::TransactionMode::ReadOnly).unwrap();
    let left = tx
        .object_store("receptions")
        .unwrap()
        .get(idb::Query::Key("rec-odd".into()))
        .unwrap()
        .await
        .unwrap();
    assert!(left.is_some(), "the unreadable row is still stored");
}

#[wasm_bindgen_test]
async fn only_one_holder_of_the_sender_lock() {
    assert!(frontend::sync::sender_lock_available("t-free-lock").await, "a free lock is available");
    let acquired = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = acquired.clone();
    assert!(frontend::sync::become_sender(move || flag.set(true)));
    for _ in 0..50 {
        if acquired.get() {
            break;
        }
        frontend::state::sleep_ms(10.0).await;
    }
    assert!(acquired.get(), "this tab became the sender");
    assert!(
        !frontend::sync::sender_lock_available(frontend::sync::LOCK_NAME).await,
        "while held, nobody else gets it"
    );
}

#[wasm_bindgen_test]
async fn rows_leave_the_outbox_only_on_their_own_acknowledgement() {
    let s = fresh("t-ack").await;
    for n in 1..=3 {
        record(&s, n).await;
    }
    let sent = s.pending(10).await.unwrap();
    assert_eq!(sent.len(), 3);
    // The bridge answered for two of the three: one created, one rejected.
    let results = vec![
        OpResult::Created { op_id: "op-1".into(), seq: 41 },
        OpResult::Rejected { op_id: "op-2".into(), reason: "body over 64 KiB".into() },
    ];
    s.apply_results(&sent, &results).await.unwrap();
    let outbox = s.outbox().await.unwrap();
    let mut ids: Vec<&str> = outbox.iter().map(|r| r.op_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, vec!["op-2", "op-3"], "only the acknowledged row is gone");
    let rejected = outbox.iter().find(|r| r.op_id == "op-2").unwrap();
    assert_eq!(rejected.rejected.as_deref(), Some("body over 64 KiB"));
    let pending: Vec<String> = s.pending(10).await.unwrap().into_iter().map(|r| r.op_id).collect();
    assert_eq!(pending, vec!["op-3".to_string()], "要対応 rows are not retried");
    let states: Vec<(String, SyncState)> =
        s.receptions().await.unwrap().into_iter().map(|r| (r.record_id, r.sync)).collect();
    assert!(states.contains(&("rec-1".into(), SyncState::Acknowledged { seq: 41 })));
    assert!(states.contains(&(
        "rec-2".into(),
        SyncState::NeedsAttention { reason: "body over 64 KiB".into() }
    )));
    assert!(states.contains(&("rec-3".into(), SyncState::Pending)));
}

#[wasm_bindgen_test]
async fn pulled_rows_and_their_checkpoint_are_stored_together() {
    let s = fresh("t-pull").await;
    assert_eq!(s.checkpoint().await.unwrap(), 0);
    let event = |seq: u64| protocol::StoredEvent {
        seq,
        op_id: format!("op-{seq}"),
        record_id: format!("rec-{seq}"),
        device_id: "dev".into(),
        kind: "reception".into(),
        device_time: "2026-11-26T09:00:00Z".into(),
        received_time: "2026-11-26T09:00:01Z".into(),
        body: serde_json::json!({ "status": "confirmed" }),
        training: false,
    };
    s.put_ledger(&[event(1), event(2)], 2).await.unwrap();
    s.put_ledger(&[event(2), event(3)], 3).await.unwrap(); // overlap: still one row each
    assert_eq!(s.checkpoint().await.unwrap(), 3);
    let seqs: Vec<u64> = s.ledger().await.unwrap().into_iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}

/// A tablet forgets old patients: ledger rows before the cutoff keep only what 利用状況
/// counts, acknowledged receptions before it go; unsent and 要対応 rows stay whatever
/// their age, and rows after the cutoff are untouched.
#[wasm_bindgen_test]
async fn pruning_forgets_old_patients_but_never_unsent_rows() {
    let s = fresh("t-prune").await;
    for n in 1..=3 {
        record(&s, n).await;
    }
    let sent = s.pending(10).await.unwrap();
    s.apply_results(
        &sent,
        &[
            OpResult::Created { op_id: "op-1".into(), seq: 1 },
            OpResult::Rejected { op_id: "op-2".into(), reason: "kind".into() },
        ],
    )
    .await
    .unwrap();
    let patient = serde_json::json!({ "status": "confirmed", "method": "card",
        "patient": { "name": "山田 太郎", "kana": "ヤマダ タロウ", "birth": "1980-04-01" } });
    let event = |seq: u64, received: &str| protocol::StoredEvent {
        seq,
        op_id: format!("op-{seq}"),
        record_id: format!("rec-{seq}"),
        device_id: "dev".into(),
        kind: "reception".into(),
        device_time: received.into(),
        received_time: received.into(),
        body: patient.clone(),
        training: false,
    };
    s.put_ledger(&[event(1, "2026-11-20T01:00:00.000Z"), event(2, "2026-12-01T01:00:00.000Z")], 2)
        .await
        .unwrap();
    // Everything recorded at created_ms 1..3 is "old" against a cutoff at 10 ms.
    let changed = s.prune("2026-11-30T15:00:00.000Z", 10.0).await.unwrap();
    assert_eq!(changed, 2, "one ledger row slimmed, one acknowledged reception gone");
    let ledger = s.ledger().await.unwrap();
    let old = ledger.iter().find(|e| e.seq == 1).unwrap();
    assert!(!old.body.to_string().contains("山田") && !old.body.to_string().contains("1980"));
    assert_eq!(
        usage::ledger::from_event("reception", &old.device_time, &old.body),
        usage::ledger::from_event("reception", &old.device_time, &patient),
        "the slim row still counts as the same person"
    );
    assert_eq!(
        ledger.iter().find(|e| e.seq == 2).unwrap().body,
        patient,
        "today's row is kept whole"
    );
    let left: Vec<String> =
        s.receptions().await.unwrap().into_iter().map(|r| r.record_id).collect();
    assert!(!left.contains(&"rec-1".to_string()), "the acknowledged reception is gone");
    assert!(
        left.contains(&"rec-2".to_string()) && left.contains(&"rec-3".to_string()),
        "要対応 and unsent stay: {left:?}"
    );
    assert_eq!(s.outbox().await.unwrap().len(), 2);
    assert_eq!(
        s.prune("2026-11-30T15:00:00.000Z", 10.0).await.unwrap(),
        0,
        "pruning twice changes nothing"
    );
}
