//! What the screens derive from data, in the browser: the result card's reading of the
//! bridge's reading, the ledger's merge of pulled events and unsent rows, Japan time.

use frontend::components::{carried, headline, Reading};
use frontend::model::{Reception, SyncState};
use frontend::pages::ledger::rows;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A card result's body as the bridge writes it: the raw answer (the record's) and the
/// counter's reading, which is all the terminal reads.
fn carried_json(status: &str) -> serde_json::Value {
    serde_json::json!({
        "answer": { "results": [{ "name": "not read by the terminal" }] },
        "reading": {
            "status": status,
            "patient": { "name": "山田　●子", "kana": "ﾔﾏﾀﾞ ﾊﾅｺ", "birth": "1980-04-01" },
            "qualification": { "numbers": { "insurer": "06139998", "symbol": "12", "number": "345", "branch": "01" }, "insurer_name": "テスト健保" },
            "copay": { "percent": 30, "band": "working_age", "basis": { "kind": "estimated", "reasons": [] }, "could_also_be": [] },
            "limit_class": "A01",
            "needs_correction": ["Name"],
            "results": 1
        }
    })
}

fn read(body: serde_json::Value) -> Reading {
    carried(serde_json::from_value(body).unwrap_or_default())
}

#[wasm_bindgen_test]
fn the_result_card_reads_the_bridges_reading() {
    let r = read(carried_json("confirmed"));
    assert!(r.confirmed());
    assert_eq!(r.patient.name.as_deref(), Some("山田　●子"));
    assert_eq!(r.patient.birth.as_deref(), Some("1980-04-01"));
    let q = r.qualification.as_ref().expect("a qualification");
    assert_eq!((q.numbers.insurer.as_str(), q.numbers.symbol.as_deref()), ("06139998", Some("12")));
    assert_eq!(r.limit_class.as_deref(), Some("A01"));
    assert_eq!(r.needs_correction, vec!["Name".to_string()]);
    assert_eq!(r.copay.as_ref().map(|c| c.percent), Some(30));
    let not_found = read(carried_json("not_found"));
    assert!(!not_found.confirmed());
    assert!(headline(&not_found).0.contains("該当なし"));
    // Garbage, or an answer without a reading, is an unconfirmed reading that says so.
    assert!(!read(serde_json::json!("nonsense")).confirmed());
    let bare = read(serde_json::json!({ "answer": {} }));
    assert!(!bare.confirmed() && bare.message.is_some_and(|m| m.contains("結果がありません")));
}

fn local(n: u32, sync: SyncState) -> Reception {
    Reception {
        record_id: format!("rec-{n}"),
        op_id: format!("op-{n}"),
        created_ms: f64::from(n),
        created: format!("2026-11-26T0{n}:00:00Z"),
        record: serde_json::from_value(serde_json::json!({
            "schema": 2, "visit": "2026-11-26", "presented": "eligibility_certificate",
            "established": "eligibility_certificate", "status": "follow_up_pending",
            "claim": { "plan": "after_follow_up" }
        }))
        .unwrap(),
        sync,
    }
}

fn event(seq: u64, record: &str, kind: &str, body: serde_json::Value) -> protocol::StoredEvent {
    protocol::StoredEvent {
        seq,
        op_id: format!("e-{seq}"),
        record_id: record.into(),
        device_id: "dev".into(),
        kind: kind.into(),
        device_time: "2026-11-26T01:00:00Z".into(),
        received_time: "2026-11-26T01:00:01Z".into(),
        body,
        training: false,
    }
}

#[wasm_bindgen_test]
fn the_ledger_merges_pulled_events_and_unsent_rows_once() {
    let ledger = vec![
        event(
            1,
            "rec-1",
            "reception",
            serde_json::json!({ "status": "follow_up_pending", "method": "certificate" }),
        ),
        event(
            2,
            "rec-1",
            "follow_up_result",
            serde_json::json!({
                "state": "done",
                "result": { "interpretation": { "status": { "status": "confirmed" }, "copay": { "percent": 20 } } }
            }),
        ),
        event(3, "face", "face_result", serde_json::json!({})),
    ];
    let locals = vec![local(1, SyncState::Acknowledged { seq: 1 }), local(2, SyncState::Pending)];
    // rec-2 is still in the outbox: its op is what the ledger shows until acknowledged.
    let pending = vec![locals[1].to_op()];
    let records = frontend::state::records(&ledger, &pending);
    let list = rows(&records, &locals);
    assert_eq!(
        list.len(),
        2,
        "rec-1 once (pulled), rec-2 (unsent); face results are not rows: {list:?}"
    );
    let first = list.iter().find(|r| r.record_id == "rec-1").unwrap();
    assert_eq!((first.status.as_str(), first.copay.as_str()), ("確認済（事後）", "2割"));
    let second = list.iter().find(|r| r.record_id == "rec-2").unwrap();
    assert_eq!(second.sync, "受付済（未送信）");
}

#[wasm_bindgen_test]
fn times_are_shown_in_japan() {
    assert_eq!(frontend::ids::jst_hhmm("2026-11-26T15:30:00Z"), "00:30");
    assert_eq!(frontend::ids::jst_hhmm("nonsense"), "");
    assert_eq!(
        frontend::ids::jst_date("2026-11-26T15:30:00Z").map(|d| d.to_string()).as_deref(),
        Some("2026-11-27")
    );
    let id = frontend::ids::uuid_v7();
    assert_eq!((id.len(), &id[14..15]), (36, "7"), "{id}");
    assert_ne!(id, frontend::ids::uuid_v7());
}

/// The 要対応 list: a reception the bridge refused is on it with the reason; a pending
/// follow-up is on it until its result; a voided record never is.
#[wasm_bindgen_test]
fn the_work_list_holds_refused_receptions_and_open_records() {
    let refused = local(3, SyncState::NeedsAttention { reason: "conflict".into() });
    let ledger = vec![
        event(
            1,
            "rec-1",
            "reception",
            serde_json::json!({ "status": "follow_up_pending", "method": "certificate" }),
        ),
        event(
            2,
            "rec-2",
            "reception",
            serde_json::json!({ "status": "follow_up_pending", "method": "certificate" }),
        ),
        event(3, "rec-2", "voided", serde_json::json!({ "reason": "二重登録" })),
    ];
    let records = frontend::state::records(&ledger, &[]);
    let items = frontend::pages::ledger::work_items(&records, &[refused]);
    let tags: Vec<(&str, &str)> =
        items.iter().map(|w| (w.record_id.as_str(), w.tag.as_str())).collect();
    assert_eq!(tags, [("rec-3", "SyncRefused"), ("rec-1", "AwaitingFollowUp")], "{items:?}");
    assert!(items[0].what.contains("conflict"));
}

/// A pairing QR code's link (`bridge pair --qr`, the kiosk's 設定): the code, the CA
/// fingerprint and the name; a fragment without a whole code or fingerprint is not one.
#[wasm_bindgen_test]
fn a_pairing_link_is_read_from_the_fragment() {
    use frontend::pages::settings::PairingLink;
    let ca = "AB".repeat(32);
    let link = PairingLink::parse(&format!("#pair=01234567&ca={ca}&name=pharmacy-tablet")).unwrap();
    assert_eq!(
        link,
        PairingLink { code: "01234567".into(), ca: ca.clone(), name: "pharmacy-tablet".into() }
    );
    assert_eq!(PairingLink::parse(&format!("#pair=01234567&ca={ca}")).unwrap().name, "");
    assert_eq!(PairingLink::parse("#settings"), None);
    assert_eq!(PairingLink::parse(&format!("#pair=0123&ca={ca}")), None);
    assert_eq!(PairingLink::parse("#pair=01234567&ca=AB"), None);
}
