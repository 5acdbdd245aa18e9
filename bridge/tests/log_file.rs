//! `bridge serve --log-file`: the service's log goes to a rotating file at info, and a day's
//! work (a lookup, receptions, a face result) leaves no patient data in it.

use e2e::bridge::{free_port, http, Serve};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_bridge");

#[test]
fn the_service_log_is_a_file_at_info_without_patient_data() {
    let data = std::env::temp_dir().join(format!("madoguchi-logfile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let log = data.join("logs/bridge.log");
    let port = free_port();
    let mut serve =
        Serve::start(Path::new(BIN), port, &data, &["--log-file", log.to_str().unwrap()]).unwrap();
    let token = serve.pair("受付1").unwrap();
    let numbers = std::process::Command::new(BIN)
        .args(["oqs", "numbers", "--person", "yamada"])
        .output()
        .unwrap();
    let person: serde_json::Value = serde_json::from_slice(&numbers.stdout).unwrap();
    let query = serde_json::json!({
        "insurer": person["insurer"], "symbol": person["symbol"], "number": person["number"],
        "birth": person["birth"],
    })
    .to_string();
    let (status, answer) = http(port, "POST", "/api/lookup", Some(&token), &query).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("山田"), "the answer names the patient: {answer}");
    let push = serde_json::json!({ "ops": [{
        "op_id": "op-1", "record_id": "rec-1", "kind": "reception",
        "device_time": "2026-12-02T09:00:00+09:00",
        "body": { "schema": 2, "presented": "myna_card", "established": "online_confirmation",
                  "status": "confirmed", "claim": { "plan": "normal" }, "visit": "2026-12-02",
                  "patient": { "name": "山田 太郎", "kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "birth": "1980-04-01" } },
    }]});
    let (status, body) =
        http(port, "POST", "/api/sync/push", Some(&token), &push.to_string()).unwrap();
    assert_eq!(status, 200, "{body}");
    serve.kill();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("INFO"), "info lines are in the file:\n{text}");
    assert!(text.contains("serving"), "{text}");
    for secret in ["山田", "ﾔﾏﾀﾞ", "1980-04-01", "19800401", "800000", "01130012"] {
        assert!(!text.contains(secret), "the log holds {secret:?}:\n{text}");
    }
    let _ = std::fs::remove_dir_all(&data);
}
