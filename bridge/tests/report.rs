//! `bridge report usage` on a seeded ledger: the month's counts, the benchmarks of the
//! facility type and prefecture, the 加算 tier — as JSON and CSV.

use bridge::store::Store;
use protocol::Op;
use std::process::Command;

fn op(n: u32, time: &str, method: &str, status: &str, who: &str) -> Op {
    Op {
        op_id: format!("report-{n}"),
        staff: None,
        record_id: format!("rec-{n}"),
        kind: "reception".into(),
        device_time: time.into(),
        body: serde_json::json!({
            "method": method, "status": status,
            "patient": { "kana": who, "birth": "1980-01-01" }
        }),
    }
}

fn run(data: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["report", "usage", "--data-dir", data.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn usage_report_on_a_seeded_ledger() {
    let data = std::env::temp_dir().join(format!("madoguchi-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let store = Store::open(&data.join("madoguchi.sqlite3")).unwrap();
    let ops = vec![
        // October 2025 (JST): 3 online, 2 マイナ (1 by phone); 2 persons of 3 used it.
        op(1, "2025-10-01T00:00:00Z", "card", "confirmed", "ｱ"),
        op(2, "2025-10-02T00:00:00Z", "smartphone", "confirmed", "ｲ"),
        op(3, "2025-10-31T14:00:00Z", "certificate", "confirmed", "ｳ"),
        // 2025-10-31T15:00Z is November 1st in Japan.
        op(4, "2025-10-31T15:00:00Z", "card", "confirmed", "ｴ"),
        // August 2026: 4 persons, 1 used the card (25%): counts for billing 2026-11.
        op(7, "2026-08-03T00:00:00Z", "card", "confirmed", "ｷ"),
        op(8, "2026-08-04T00:00:00Z", "certificate", "confirmed", "ｸ"),
        op(9, "2026-08-05T00:00:00Z", "certificate", "confirmed", "ｹ"),
        op(10, "2026-08-06T00:00:00Z", "certificate", "confirmed", "ｺ"),
        // Not online confirmations: not counted.
        op(5, "2025-10-03T00:00:00Z", "nothing", "unknown", "ｵ"),
        op(6, "2025-10-04T00:00:00Z", "certificate", "follow_up_pending", "ｶ"),
    ];
    assert_eq!(store.push("dev", &ops).unwrap().len(), 10);
    drop(store);

    let (code, json) =
        run(&data, &["--month", "2026-01", "--prefecture", "13", "--facility", "clinic"]);
    assert_eq!(code, 0, "{json}");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let months = r["months"].as_array().unwrap();
    assert_eq!(months.len(), 7);
    let oct = months.iter().find(|m| m["month"] == "2025-10").unwrap();
    assert_eq!(
        (
            oct["counts"]["online"].as_u64(),
            oct["counts"]["myna"].as_u64(),
            oct["counts"]["phone"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(
        (oct["counts"]["persons"].as_u64(), oct["counts"]["myna_persons"].as_u64()),
        (Some(3), Some(2))
    );
    let nov = months.iter().find(|m| m["month"] == "2025-11").unwrap();
    assert_eq!(nov["counts"]["myna"].as_u64(), Some(1));
    // 医科診療所: the nation 29.45%, 東京 27.22% (July 2025).
    assert_eq!(
        (
            r["national"]["rate"]["numerator"].as_u64(),
            r["national"]["rate"]["denominator"].as_u64()
        ),
        (Some(30_547_643), Some(103_738_303))
    );
    assert_eq!(r["prefecture_rate"]["rate"]["numerator"].as_u64(), Some(3_634_266));
    // Billing 2026-01 (60/40/25) takes the best of 2025-08..10: October's 2/3 persons → tier 1.
    assert_eq!(r["projection"]["thresholds"], serde_json::json!([60, 40, 25]));
    assert_eq!(r["projection"]["reached"], 1);

    // Billing 2026-11 falls under the successor 加算: one 30% requirement, and the clinic's
    // best month (August, 25%) is below it — said in words, never "no rule".
    let (code, json) =
        run(&data, &["--month", "2026-11", "--prefecture", "13", "--facility", "clinic"]);
    assert_eq!(code, 0, "{json}");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["projection"]["thresholds"], serde_json::json!([30]));
    assert!(r["projection_error"].is_null(), "{json}");
    let summary: Vec<&str> = r["addition_summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ja"].as_str().unwrap())
        .collect();
    assert!(
        summary[0].contains("電子的診療情報連携体制整備加算") && summary[0].contains("30% 以上"),
        "{summary:?}"
    );
    assert!(
        summary[1].contains("未到達")
            && summary[1].contains("2026-08")
            && summary[1].contains("25.00%"),
        "{summary:?}"
    );
    assert!(
        summary.iter().any(|l| l.contains("推定")),
        "the inferred month rule is said: {summary:?}"
    );

    let (code, csv) = run(&data, &["--month", "2025-11", "--format", "csv"]);
    assert_eq!(code, 0);
    assert!(
        csv.starts_with(
            "month,online,myna,phone,persons,myna_persons,rate,person_rate,phone_share\n"
        ),
        "{csv}"
    );
    assert!(csv.contains("\n2025-10,3,2,1,3,2,66.67%,66.67%,50.00%\n"), "{csv}");

    let (code, _) = run(&data, &["--prefecture", "48"]);
    assert_ne!(code, 0, "a prefecture code outside 1–47 is refused");
    let _ = std::fs::remove_dir_all(&data);
}
