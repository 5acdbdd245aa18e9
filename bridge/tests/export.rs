//! The hand-off to the receipt computer and the first-wave store, on a real SQLite file
//! and the real `bridge export` binary: one row per reception by visit date, a void and a
//! correction exported as such, a claim decision an event on its reception (not a second
//! row), Shift_JIS with what it cannot hold reported, `--since-seq`, and v1 bodies
//! migrated in place with their retries still duplicates. Golden files under
//! `tests/golden/` (`UPDATE_GOLDEN=1` rewrites them after a reviewed change).

use bridge::store::Store;
use protocol::{Op, OpResult};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const VISIT: &str = "2026-11-26";

fn op(n: &str, record: &str, kind: &str, time: &str, body: Value) -> Op {
    Op {
        op_id: format!("op-{n}"),
        staff: None,
        record_id: record.into(),
        kind: kind.into(),
        device_time: time.into(),
        body,
    }
}

fn confirmed(name: &str, kana: &str, visit: &str) -> Value {
    json!({
        "schema": 2, "visit": visit, "presented": "myna_card", "established": "online_confirmation",
        "status": "confirmed", "outcome": "online_confirmed",
        "qualification": {
            "numbers": { "insurer": "06139998", "symbol": "1234", "number": "5678", "branch": "01" },
            "insurer_name": "協会けんぽ東京", "relation": "insured",
            "public_expense": [{ "payer": "54136015", "recipient": "1234567" }]
        },
        "patient": { "name": name, "kana": kana, "birth": "1980-04-01", "sex": "女" },
        "copay": { "percent": 30, "band": "working_age", "basis": { "kind": "estimated", "reasons": [{ "reason": "not_sent_for_this_age" }] }, "could_also_be": [] },
        "claim": { "plan": "normal" }
    })
}

fn golden(name: &str, got: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        want == got,
        "{name} differs from its golden file:\n--- want\n{}\n--- got\n{}",
        String::from_utf8_lossy(&want),
        String::from_utf8_lossy(got)
    );
}

fn export(data: &Path, args: &[&str]) -> (Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["export", "--data-dir", data.to_str().unwrap(), "--date", VISIT])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (out.stdout, stderr)
}

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("madoguchi-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_visit_day_exports_one_row_per_reception_with_its_life_applied() {
    let data = data_dir("day");
    let store = Store::open(&data.join("madoguchi.sqlite3")).unwrap();
    let code = store.new_pairing_code(60).unwrap();
    let (device, _) = store.pair(&code, "受付1").unwrap().unwrap();
    let t = |hm: &str| format!("{VISIT}T{hm}:00+09:00");
    let mut corrected = confirmed("髙橋 花子", "タカハシ ハナコ", VISIT);
    corrected["patient"]["name"] = json!("髙橋 花子");
    let statement = json!({
        "schema": 2, "visit": VISIT, "presented": "nothing", "established": "statement_form",
        "status": "statement", "outcome": "statement_form",
        "patient": { "name": "鈴木 一郎", "birth": "1950-02-03", "sex": "男", "address": "東京都千代田区1-1" },
        "statement": { "address": "東京都千代田区1-1", "contact": "03-0000-0000" },
        "claim": { "plan": "after_follow_up" }
    });
    let ops = vec![
        op("a", "rec-a", "reception", &t("09:01"), confirmed("山田 花子", "ヤマダ ハナコ", VISIT)),
        op("b", "rec-b", "reception", &t("09:05"), confirmed("山田 花子", "ヤマダ ハナコ", VISIT)),
        op("b-void", "rec-b", "voided", &t("09:06"), json!({ "reason": "二重登録" })),
        op("c", "rec-c", "reception", &t("09:10"), confirmed("●橋 花子", "タカハシ ハナコ", VISIT)),
        op(
            "c-fix",
            "rec-c",
            "corrected",
            &t("09:12"),
            json!({ "reception": corrected, "fields": ["patient.name"], "reason": "氏名の●を訂正" }),
        ),
        op("d", "rec-d", "reception", &t("09:20"), statement),
        op(
            "d-claim",
            "rec-d",
            "claim_decided",
            &t("17:30"),
            json!({
                "outcome": "claim_unknown",
                "claim": { "plan": "unknown", "unknown": { "placeholders": { "insurer_number": "77777777", "symbol": "7777", "number": "7777777" }, "tekiyo": "申立書 住所: 東京都千代田区1-1 連絡先: 03-0000-0000" } }
            }),
        ),
        // A first-wave body: migrated on the way in.
        op(
            "e",
            "rec-e",
            "reception",
            &t("09:30"),
            json!({ "method": "certificate", "status": "confirmed", "patient": { "name": "𠮷田 一郎", "kana": "ヨシダ イチロウ", "birth": "1975-05-05", "insurer": "01130012", "number": "42" }, "copay_percent": 30, "copay_basis": "estimated" }),
        ),
        // Another visit day: not in this export.
        op(
            "f",
            "rec-f",
            "reception",
            &t("09:40"),
            confirmed("佐藤 次郎", "サトウ ジロウ", "2026-11-27"),
        ),
    ];
    let results = store.push(&device, &ops).unwrap();
    assert!(results.iter().all(|r| matches!(r, OpResult::Created { .. })), "{results:?}");

    // What is not the event its kind says is refused with the reason; life events need
    // their reception.
    let refused = store
        .push(
            &device,
            &[
                op("x1", "rec-x", "reception", &t("10:00"), json!({ "n": 1 })),
                op("x2", "rec-none", "voided", &t("10:00"), json!({ "reason": "?" })),
                op("x3", "rec-a", "claim_decided", &t("10:00"), json!({ "claim": "normal" })),
                op("x4", "rec-z", "reception", &t("10:00"), json!({ "schema": 9 })),
            ],
        )
        .unwrap();
    let reasons: Vec<String> = refused
        .iter()
        .map(|r| match r {
            OpResult::Rejected { reason, .. } => reason.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(reasons[0].contains("reception"), "{reasons:?}");
    assert!(reasons[1].contains("no reception"), "{reasons:?}");
    assert!(reasons[2].contains("claim_decided"), "{reasons:?}");
    assert!(reasons[3].contains("schema 9"), "{reasons:?}");
    drop(store);

    let (csv, warnings) = export(&data, &[]);
    assert!(warnings.is_empty(), "{warnings}");
    golden("export.csv", &csv);
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.starts_with('\u{feff}'), "UTF-8 with a BOM");
    assert_eq!(text.lines().count(), 1 + 5, "five receptions of the day, the claim not a row");
    assert!(text.contains(",取消,二重登録,") && text.contains(",訂正,氏名の●を訂正,"), "{text}");
    assert!(text.contains("77777777,7777,7777777") && text.contains("③不詳"), "{text}");

    let (json_out, _) = export(&data, &["--format", "json"]);
    golden("export.json", &json_out);

    let (sjis, warnings) = export(&data, &["--encoding", "shift_jis"]);
    golden("export.sjis.csv", &sjis);
    let (decoded, _, errors) = encoding_rs::SHIFT_JIS.decode(&sjis);
    assert!(!errors && decoded.contains("髙橋 花子"), "Windows-31J holds 髙");
    assert!(decoded.contains("&#134071;田 一郎"), "𠮷 is kept as a reference, not dropped");
    assert!(
        warnings.contains("rec-e") && warnings.contains("氏名") && warnings.contains('𠮷'),
        "{warnings}"
    );

    // Incremental: after rec-c's correction only what changed later comes again.
    let rows: Vec<Value> = serde_json::from_slice(&json_out[..]).unwrap();
    let seq_of = |id: &str| {
        rows.iter().find(|r| r["record_id"] == id).unwrap()["last_seq"].as_u64().unwrap()
    };
    let since = seq_of("rec-c").to_string();
    let (later, _) = export(&data, &["--since-seq", &since, "--format", "json"]);
    let later: Vec<Value> = serde_json::from_slice(&later).unwrap();
    let ids: Vec<&str> = later.iter().map(|r| r["record_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["rec-d", "rec-e"]);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_first_wave_store_migrates_and_its_retries_stay_duplicates() {
    let data = data_dir("v1");
    let path = data.join("madoguchi.sqlite3");
    let v1 = json!({
        "method": "nothing", "status": "follow_up_pending",
        "patient": { "name": "田中 三郎", "sex": "男", "birth": "1940-01-01", "address": "大阪府" },
        "copay_percent": 10, "copay_basis": "estimated",
        "note": "被保険者資格申立書を記入してもらい、事後に資格確認（通常の自己負担で） / 事後確認の後に ①→②→③ で決める / decided after the follow-up 受診日: 2026-11-20",
    });
    let time = "2026-11-26T09:00:00+09:00";
    {
        // The first wave's store: the body and hash exactly as it wrote them.
        let store = Store::open(&path).unwrap();
        let body = v1.to_string();
        let hash = bridge::store::sha256_hex(format!("rec-v1\nreception\n{body}").as_bytes());
        store
            .execute_raw(&format!(
                "INSERT INTO events (op_id, record_id, device_id, kind, device_time, received_time, body, body_hash)
                 VALUES ('op-v1', 'rec-v1', 'dev', 'reception', '{time}', '{time}', '{}', '{hash}')",
                body.replace('\'', "''")
            ))
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let events = store.pull(0, 10).unwrap().events;
    let r = match reception::event::of(&events[0]).unwrap() {
        reception::RecordEvent::Reception(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(events[0].body["schema"], 2, "stored as schema 2");
    assert_eq!(r.status, reception::Status::Statement, "the v1 wizard's 申立書 is a 申立て");
    assert_eq!(r.outcome.as_deref(), Some("statement_form"));
    assert_eq!(r.visit.to_string(), "2026-11-20", "the visit date the note carried");
    assert_eq!(r.copay.as_ref().map(|c| c.percent), Some(10));
    assert_eq!(r.patient.address.as_deref(), Some("大阪府"));
    assert!(
        r.note.as_deref().is_some_and(|n| n.contains("被保険者資格申立書")),
        "the note is kept"
    );
    // A terminal that still holds the v1 op sends it again: the same op, not a conflict.
    let again = store.push("dev", &[op("v1", "rec-v1", "reception", time, v1)]).unwrap();
    assert!(matches!(again[0], OpResult::Duplicate { .. }), "{again:?}");
    // Opening again changes nothing.
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.pull(0, 10).unwrap().events, events);
    let _ = std::fs::remove_dir_all(&data);
}
