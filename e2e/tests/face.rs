//! Face results that are never lost, never doubled, and leave the 資格確認端末's `face/`
//! as the receipt computer needs it: the built terminal in headless Chromium against a real
//! `bridge serve` on the folder gateway with the folder peer.
//!
//! Scenarios run one at a time (a process-wide lock): two cores, several Chromiums.

use e2e::bridge::{free_port, http};
use e2e::browser::{with_browser, Browser};
use e2e::terminal::{
    data_dir, folder_peer, ledger_receptions, look_up_numbers, numbers_of, open_and_pair,
    screenshots, serve, tap, walk_wizard,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Name → (bytes, mtime) of every file in `face/`.
fn face_snapshot(share: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    std::fs::read_dir(share.join("face"))
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let modified = e.metadata().unwrap().modified().unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                (std::fs::read(e.path()).unwrap(), modified),
            )
        })
        .collect()
}

/// Clicks `testid` twice in one script, as a double tap does before the page can redraw.
async fn double_click(b: &Browser, testid: &str) -> Result<(), String> {
    b.find(testid, 15).await?;
    b.js(&format!(
        "const e = document.querySelector('[data-testid={testid}]'); e.scrollIntoView({{block: 'center'}}); e.click(); e.click(); return true"
    ))
    .await
    .map(|_| ())
}

/// Sets 設定's idle timeout (seconds; the screen allows 15 at least).
async fn set_idle_timeout(b: &Browser, seconds: u32) -> Result<(), String> {
    b.click("nav-settings").await?;
    b.find("idle-timeout", 10).await?;
    // 設定 also says which rules the terminal decides by.
    b.wait_text("policy-version", "第2版・2026-12-01 確認", 5).await?;
    b.js(&format!(
        "const e = document.querySelector('[data-testid=idle-timeout]'); e.value = '{seconds}'; e.dispatchEvent(new Event('change', {{bubbles: true}})); return true"
    ))
    .await?;
    // The counter's screens are another bundle: leave only once the setting is stored.
    b.wait_text("settings-saved", "saved: idle_timeout_s", 5).await
}

/// A scenario's bridge on the folder gateway, with the folder peer answering in its share.
fn folder_bridge(name: &str) -> (e2e::terminal::Peer, std::path::PathBuf, e2e::bridge::Serve) {
    let data = data_dir(name);
    let (peer, share) = folder_peer(&data);
    let server =
        serve(free_port(), &data, &["--gateway", "folder", "--folder", share.to_str().unwrap()]);
    (peer, share, server)
}

/// Five patients tapped their cards before the bridge started: all five reach both
/// terminals, and every file is still in `face/`, byte-identical, with its mtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_results_waiting_at_start_reach_both_terminals_and_stay_in_the_folder() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("face-waiting");
    let (peer, share) = folder_peer(&data);
    drop(peer); // the taps need no running peer
    for person in ["p030", "p031", "p032", "p033", "p034"] {
        tap(&share, person).unwrap();
    }
    let before = face_snapshot(&share);
    assert_eq!(before.len(), 5);
    let server =
        serve(free_port(), &data, &["--gateway", "folder", "--folder", share.to_str().unwrap()]);
    let first = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let mut delivered = Vec::new();
    with_browser(|second| async {
        let result = async {
            for (b, name) in [(&first, "受付1"), (&second, "受付2")] {
                open_and_pair(b, &server, name).await?;
                b.click("nav-reception").await?;
                b.wait_until("five face results", 20, || async {
                    b.count("face-result").await == 5
                })
                .await?;
                delivered.push(b.count("face-result").await);
            }
            second.screenshot(&screenshots().join("reception-face-waiting.png")).await?;
            Ok(())
        }
        .await;
        (second, result)
    })
    .await;
    first.close().await;
    drop(server);
    assert_eq!(face_snapshot(&share), before, "face/ is read-only to the bridge");
    e2e::report::record(
        "five_results_waiting_at_start_reach_both_terminals_and_stay_in_the_folder",
        serde_json::json!({ "face_files_present": 5, "face_results_delivered": delivered }),
    );
}

/// Two counters press 記録 on the same face result within 50 ms: one reception; the
/// counter that lost is told who recorded it, and records nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_counters_record_the_same_face_result_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (_peer, share, server) = folder_bridge("face-claim");
    let first = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let mut told = 0;
    with_browser(|second| async {
        let result = async {
            for (b, name) in [(&first, "受付1"), (&second, "受付2")] {
                open_and_pair(b, &server, name).await?;
                b.click("nav-reception").await?;
            }
            tokio::time::sleep(Duration::from_millis(1500)).await;
            tap(&share, "yamada")?;
            for b in [&first, &second] {
                b.wait_text("face-result", "山田", 15).await?;
            }
            // Both buttons are there and enabled before either press; each press is one
            // round trip, so the second lands about 20 ms after the first, before the first
            // counter's reception can reach the second and take the row off its screen.
            for b in [&first, &second] {
                b.find("face-record", 10).await?;
            }
            let (a, b) = tokio::join!(first.press_at_once("face-record"), async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                second.press_at_once("face-record").await
            });
            a?;
            b?;
            // The push that came second is refused with who recorded it.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let mut banners = Vec::new();
                for b in [&first, &second] {
                    if b.count("banner").await > 0 {
                        banners.push(b.text("banner").await);
                    }
                }
                if let Some(text) = banners.iter().find(|t| t.contains("記録済み")) {
                    if !text.contains("受付1") && !text.contains("受付2") {
                        return Err(format!("the notice names no counter: {text}"));
                    }
                    told = banners.iter().filter(|t| t.contains("記録済み")).count();
                    break;
                }
                if std::time::Instant::now() > deadline {
                    return Err(format!("no counter was told: {banners:?}"));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            for b in [&first, &second] {
                if b.count("banner").await > 0 && b.text("banner").await.contains("記録済み") {
                    b.screenshot(&screenshots().join("reception-face-claimed.png")).await?;
                }
            }
            Ok(())
        }
        .await;
        (second, result)
    })
    .await;
    first.close().await;
    assert_eq!(ledger_receptions(&server).len(), 1, "one reception for one face result");
    assert_eq!(told, 1, "exactly one counter was refused");
    e2e::report::record(
        "two_counters_record_the_same_face_result_once",
        serde_json::json!({ "receptions_created": 1, "in_ledger": 1, "claims_refused": told }),
    );
}

/// A double tap on every button that records — 受付 (a face result), 番号入力 (the result
/// card), 複数該当 (a choice) and 困ったとき (the wizard) — records one reception each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_tap_records_once_on_every_record_button() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (_peer, share, server) = folder_bridge("face-double");
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            b.click("nav-reception").await?;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            tap(&share, "yamada")?;
            b.wait_text("face-result", "山田", 15).await?;
            double_click(&b, "face-record").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            look_up_numbers(&b, &numbers_of("p001")).await?;
            b.wait_text("result-headline", "資格を確認しました", 20).await?;
            double_click(&b, "record-visit").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            let mut twin = numbers_of("multiple-a");
            twin["branch"] = serde_json::json!("");
            look_up_numbers(&b, &twin).await?;
            b.wait_text("result-headline", "複数該当", 20).await?;
            double_click(&b, "choose-0").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            b.click("nav-fallback").await?;
            b.click("wizard-restart").await?;
            walk_wizard(&b, &["nothing", "neither", "not_known", "no"]).await?;
            double_click(&b, "wizard-record").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            b.click("nav-ledger").await?;
            b.wait_until("four receptions sent", 30, || async {
                ledger_receptions(&server).len() >= 4
            })
            .await?;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let receptions = ledger_receptions(&server);
    assert_eq!(receptions.len(), 4, "one reception per double tap: {receptions:?}");
    e2e::report::record(
        "a_double_tap_records_once_on_every_record_button",
        serde_json::json!({ "receptions_created": 4, "in_ledger": receptions.len() }),
    );
}

/// A face result arrives, the idle timeout passes (the list hides behind a count) and the
/// page reloads: the result is still there to record — the page's list is a view of the
/// bridge's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_face_result_survives_the_idle_timeout_and_a_reload() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (_peer, share, server) = folder_bridge("face-idle");
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            set_idle_timeout(&b, 15).await?;
            b.click("nav-reception").await?;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            tap(&share, "yamada")?;
            b.wait_text("face-result", "山田", 15).await?;
            // No touch for the idle timeout: the names leave the screen, the count stays.
            b.wait_until("the idle timeout", 40, || async {
                b.count("face-results-hidden").await == 1
            })
            .await?;
            if b.count("face-result").await != 0 {
                return Err("patient details still on screen after the idle timeout".into());
            }
            b.screenshot(&screenshots().join("reception-face-idle.png")).await?;
            // A real reload (the same URL by `goto` would only be a hash change).
            b.client().refresh().await.map_err(|e| e.to_string())?;
            b.find("page-reception", 20).await?;
            b.wait_text("face-result", "山田", 20).await?;
            b.click("face-record").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            b.wait_until("the reception sent", 30, || async {
                ledger_receptions(&server).len() == 1
            })
            .await
        }
        .await;
        (b, result)
    })
    .await;
    assert_eq!(ledger_receptions(&server).len(), 1);
    let token = server.pair("e2e-open").unwrap();
    let (_, open) =
        http(server.port, "POST", "/api/face-results/open", Some(&token), "{}").unwrap();
    let open: serde_json::Value = serde_json::from_str(&open).unwrap();
    assert_eq!(open["events"], serde_json::json!([]), "recorded: no longer open");
}
