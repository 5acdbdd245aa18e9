//! A reception's life at the counter, in a real browser against the real bridge (issue 15):
//! the patient seen yesterday is offered yesterday's numbers and a changed 保険者番号 is
//! said before recording; a claim decision is an event on its reception, not a second
//! reception; a voided and a corrected reception leave the bridge's export as such
//! (golden file, with the columns that change per run masked).

use e2e::bridge::{free_port, http};
use e2e::browser::{with_browser, Browser};
use e2e::terminal::{
    data_dir, look_up_numbers, numbers_of, open_and_pair, records, screenshots, serve, today_jst,
    wait_sent, walk_wizard,
};
use serde_json::json;
use std::path::Path;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Clicks `button` in the 本日の受付 row whose text holds `needle`.
async fn open_row(b: &Browser, needle: &str) -> Result<(), String> {
    let clicked = b
        .js(&format!(
            "const row = [...document.querySelectorAll('[data-testid=ledger-row]')].find(r => r.textContent.includes({needle:?}));
             if (!row) return false; row.querySelector('[data-testid=ledger-open]').click(); return true"
        ))
        .await?;
    if clicked != json!(true) {
        return Err(format!("no ledger row with {needle}"));
    }
    b.find("record-detail", 10).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_visit_is_offered_the_last_numbers_and_a_changed_insurer_is_said_before_recording()
{
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("records-return");
    let server = serve(free_port(), &data, &[]);
    let yesterday = today_jst().pred();
    // Yesterday another counter confirmed 山田太郎 on his former employer's insurance.
    let token = server.pair("受付2").unwrap();
    let yesterdays = json!({ "ops": [{
        "op_id": "yesterday-op", "record_id": "yesterday-rec", "kind": "reception",
        "device_time": format!("{yesterday}T10:00:00+09:00"),
        "body": {
            "schema": 2, "visit": yesterday.to_string(), "presented": "myna_card",
            "established": "online_confirmation", "status": "confirmed", "outcome": "online_confirmed",
            "qualification": { "numbers": { "insurer": "06139998", "symbol": "77", "number": "123", "branch": "00" } },
            "patient": { "name": "山田太郎", "kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "birth": "1980-04-01" },
            "claim": { "plan": "normal" }
        }
    }]});
    let (status, body) =
        http(server.port, "POST", "/api/sync/push", Some(&token), &yesterdays.to_string()).unwrap();
    assert!(status == 200 && body.contains("created"), "{body}");
    // Received yesterday just after midnight, as it would have been: a tablet keeps a sent
    // patient for a day (設定), so its own copy forgets him; the bridge's patient index
    // (`/api/patients/last-visit`) still finds him.
    let db = rusqlite::Connection::open(data.join("madoguchi.sqlite3")).unwrap();
    let received = format!("{}T15:00:01.000Z", yesterday.pred());
    db.execute("UPDATE events SET received_time = ?1 WHERE op_id = 'yesterday-op'", [&received])
        .unwrap();
    drop(db);
    let mut seen = serde_json::Map::new();
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            // The ledger pulled, then pruned to today's patients (counts only for the rest).
            b.wait_text("status-last-sync", "synced", 20).await?;
            b.js("const e = document.querySelector('[data-testid=retention-days]'); e.value = '1'; e.dispatchEvent(new Event('change', {bubbles: true})); return true").await?;
            b.wait_text("settings-saved", "saved: retention_days", 5).await?;
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            // 困ったとき, a return visit: the name and birth date find yesterday's numbers,
            // which fill ① with one tap.
            b.click("nav-fallback").await?;
            b.type_into("capture-name", "山田 太郎").await?;
            b.type_into("capture-birth", "1980-04-01").await?;
            b.wait_text("history-offer", "06139998 記号 77 番号 123", 20).await?;
            seen.insert("offer".into(), b.text("history-offer").await.into());
            walk_wizard(&b, &["eligibility_certificate", "valid"]).await?;
            b.wait_text("outcome-claim", "① 現在の番号", 5).await?;
            b.click("use-history").await?;
            b.screenshot(&screenshots().join("records-history-offer.png")).await?;
            b.click("wizard-record").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            // 番号入力 today: the system answers with the new insurer; the card says so
            // before anything is recorded.
            look_up_numbers(&b, &numbers_of("yamada")).await?;
            b.wait_text("result-headline", "資格を確認しました", 20).await?;
            b.wait_text("continuity-changes", "保険者番号 06139998 → 01130012", 10).await?;
            seen.insert("changes".into(), b.text("continuity-changes").await.into());
            b.screenshot(&screenshots().join("records-insurer-changed.png")).await?;
            b.click("record-visit").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            wait_sent(&b).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let list = records(&server);
    let today = today_jst();
    let todays: Vec<_> = list.iter().filter(|s| s.reception.visit == today).collect();
    assert_eq!(todays.len(), 2, "{list:?}");
    let by_document = &todays[0].reception;
    assert_eq!(by_document.status, reception::Status::ByDocument);
    let used = by_document.claim.numbers.as_ref().expect("① carries the numbers used");
    assert_eq!((used.insurer.as_str(), used.number.as_str()), ("06139998", "123"), "from history");
    let confirmed = &todays[1].reception;
    assert_eq!(confirmed.status, reception::Status::Confirmed);
    assert_eq!(confirmed.claim_numbers().map(|n| n.insurer.as_str()), Some("01130012"));
    e2e::report::record(
        "a_return_visit_is_offered_the_last_numbers_and_a_changed_insurer_is_said_before_recording",
        json!({ "seen": seen, "records": list.len() }),
    );
}

/// The export's CSV with the columns that differ per run (visit day, time, record id,
/// seq) masked, for the golden file.
fn masked(csv: &str) -> String {
    let mut out = String::new();
    for (i, line) in csv.trim_start_matches('\u{feff}').lines().enumerate() {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        if i > 0 {
            for c in [0, 1, 19, 24] {
                if let Some(cell) = cells.get_mut(c) {
                    *cell = "*".into();
                }
            }
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_decision_is_an_event_on_its_reception_and_voids_and_corrections_export_as_such() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("records-life");
    let server = serve(free_port(), &data, &[]);
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            // A first visit without anything: 申立書, then the claim ③ on that record.
            b.click("nav-fallback").await?;
            b.type_into("capture-name", "申立 花子").await?;
            b.type_into("capture-sex", "女").await?;
            b.type_into("capture-birth", "1950-02-03").await?;
            b.type_into("capture-address", "東京都千代田区1-1").await?;
            b.type_into("capture-contact", "03-0000-0000").await?;
            walk_wizard(&b, &["myna_card", "failed", "neither", "not_known", "no"]).await?;
            b.wait_text("outcome-title", "申立書", 5).await?;
            b.click("wizard-record").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            // Later, from 本日の受付: the 申立書 waits on the work list; 請求を決める opens the
            // wizard's claim root for that record.
            wait_sent(&b).await?;
            b.click("nav-ledger").await?;
            b.wait_text("work-list", "申立書", 20).await?;
            open_row(&b, "申立").await?;
            b.click("record-decide-claim").await?;
            b.wait_text("claim-target", "申立 花子", 10).await?;
            walk_wizard(&b, &["no", "no"]).await?;
            b.wait_text("outcome-claim", "③ 不詳", 5).await?;
            b.click("wizard-record-claim").await?;
            b.wait_text("recorded", "請求の決定を記録", 10).await?;
            // Two confirmed receptions: one recorded twice by mistake (voided), one whose
            // name needs a correction.
            for person in ["yamada", "lost-new-current"] {
                look_up_numbers(&b, &numbers_of(person)).await?;
                b.wait_text("result-headline", "資格を確認しました", 20).await?;
                b.click("record-visit").await?;
                b.wait_text("recorded", "受付済", 10).await?;
            }
            wait_sent(&b).await?;
            b.click("nav-ledger").await?;
            b.wait_text("ledger-count", "3", 20).await?;
            if b.count("work-item").await != 0 {
                return Err(format!("the decided claim is still to do: {}", b.text("work-list").await));
            }
            open_row(&b, "山田").await?;
            b.type_into("fix-reason", "二重登録").await?;
            b.click("record-void").await?;
            b.wait_text("detail-message", "取消しました", 10).await?;
            b.click("detail-close").await?;
            let other = b
                .js("return [...document.querySelectorAll('[data-testid=ledger-row]')].map(r => r.children[1].textContent).find(n => n && !n.includes('山田') && !n.includes('申立'))")
                .await?;
            let other = other.as_str().ok_or("no third row")?.to_string();
            open_row(&b, &other).await?;
            b.js("const i = document.querySelector('[data-testid=fix-name]'); i.value = ''; i.dispatchEvent(new Event('input')); return true").await?;
            b.type_into("fix-name", "訂正 後子").await?;
            b.type_into("fix-reason", "氏名の誤り").await?;
            b.click("record-correct").await?;
            b.wait_text("detail-message", "訂正しました", 10).await?;
            b.wait_text("history", "訂正（氏名）：氏名の誤り", 10).await?;
            b.screenshot(&screenshots().join("records-history.png")).await?;
            b.click("detail-close").await?;
            wait_sent(&b).await?;
            let shown = || async {
                let table = b.text("ledger-table").await;
                table.matches("取消").count() == 1 && table.contains("訂正")
            };
            if b.wait_until("取消 and 訂正 on 本日の受付", 10, shown).await.is_err() {
                return Err(format!("取消 and 訂正 not shown: {}", b.text("ledger-table").await));
            }
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let events = e2e::terminal::ledger(&server);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "reception").count(), 3, "{kinds:?}");
    let decided: Vec<_> = events.iter().filter(|e| e.kind == "claim_decided").collect();
    assert_eq!(decided.len(), 1, "{kinds:?}");
    let statement = events
        .iter()
        .find(|e| e.kind == "reception" && e.body.to_string().contains("statement_form"))
        .expect("the 申立書 reception");
    assert_eq!(decided[0].record_id, statement.record_id, "the claim is on the 申立書's record");
    // The hand-off: one row per reception, the claim's 7-fill on the 申立書's row.
    let out = std::process::Command::new(e2e::browser::bridge_binary())
        .args([
            "export",
            "--data-dir",
            data.to_str().unwrap(),
            "--date",
            &today_jst().to_string(),
            "--training",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let got = masked(&csv);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/records-export.csv");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert_eq!(got, want, "the export differs from {}", golden.display());
    e2e::report::record(
        "a_claim_decision_is_an_event_on_its_reception_and_voids_and_corrections_export_as_such",
        json!({ "events": kinds, "export_rows": csv.lines().count() - 1 }),
    );
}
