//! The reception terminal in headless Chromium against the real bridge (and, for the own
//! reader, pcscd + vpcd + the virtual card). One scenario per behaviour; each leaves
//! screenshots of what it saw in `screenshots/` (git-ignored).
//!
//! Scenarios run one at a time (a process-wide lock): two cores, several Chromiums.

use e2e::bridge::{free_port, http};
use e2e::browser::{bridge_binary, with_browser, Browser};
use e2e::terminal::{
    data_dir, ledger_receptions, open_and_pair, record_without_documents, screenshots, serve,
    walk_wizard,
};
use std::time::Duration;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_reader_happy_path_records_a_confirmed_visit() {
    let _one = ONE_AT_A_TIME.lock().await;
    let _pcsc = e2e::pcsc::Pcsc::start(bridge_binary().to_str().unwrap(), "yamada", &[]);
    let data = data_dir("happy");
    let server = serve(free_port(), &data, &[]);
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            // The simulator answers: every screen says 練習モード.
            b.wait_text("training-banner", "練習モード", 10).await?;
            b.wait_text("status-gateway", "シミュレーター", 10).await?;
            b.screenshot(&screenshots().join("settings.png")).await?;
            b.click("nav-reception").await?;
            b.click("method-card").await?;
            b.wait_text("readers", "カードあり", 15).await?;
            b.click("check-card").await?;
            b.wait_text("check-holder", "マイナンバーカード", 20).await?;
            b.wait_text("pin-tries", "残り 3 回", 5).await?;
            e2e::terminal::enter_pin(&b, "1234").await?;
            b.wait_text("pin-display", "●●●●", 5).await?;
            b.screenshot(&screenshots().join("reception-pin.png")).await?;
            b.click("pin-ok").await?;
            b.wait_text("result-name", "山田", 30).await?;
            b.wait_text("result-headline", "資格を確認しました", 5).await?;
            b.screenshot(&screenshots().join("reception-result.png")).await?;
            b.click("record-visit").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            e2e::terminal::wait_sent(&b).await?;
            b.wait_text("ledger-status", "確認済", 5).await?;
            b.screenshot(&screenshots().join("ledger.png")).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    assert_eq!(ledger_receptions(&server).len(), 1);
}

/// The production path: the folder gateway has no request that confirms a card from this
/// terminal's reader, so the reader gives a pre-check (holder, certificate, tries left, the
/// next step) and no PIN pad; and no 練習モード banner, since the answers are real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_folder_gateway_the_own_reader_is_a_pre_check_without_a_pin_pad() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut pcsc = e2e::pcsc::Pcsc::start(bridge_binary().to_str().unwrap(), "yamada", &[]);
    let data = data_dir("precheck");
    let (_peer, share) = e2e::terminal::folder_peer(&data);
    let share_arg = share.to_str().unwrap().to_string();
    let server = serve(free_port(), &data, &["--gateway", "folder", "--folder", &share_arg]);
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            b.click("nav-reception").await?;
            b.click("method-card").await?;
            b.wait_text("readers", "カードあり", 15).await?;
            b.click("check-card").await?;
            b.wait_text("check-holder", "マイナンバーカード", 20).await?;
            b.wait_text("precheck-tries", "残り 3 回", 5).await?;
            b.wait_text("precheck-next", "顔認証付きカードリーダー", 5).await?;
            b.screenshot(&screenshots().join("reception-precheck.png")).await?;
            if b.count("pin-ok").await != 0 || b.count("pin-tries").await != 0 {
                return Err("a PIN pad is shown although the bridge cannot confirm the card".into());
            }
            if b.count("training-banner").await != 0 {
                return Err("the 練習モード banner is shown with the folder gateway".into());
            }
            // The reader line follows the card (regression: a reader event used to replace
            // the list with the event itself, and the line said 「状態 不明」 from then on).
            // vpcd shows two readers and only one holds the card: watch that one's entry.
            let holder = e2e::pcsc::readers()
                .into_iter()
                .find(|(_, present)| *present)
                .map(|(name, _)| name)
                .ok_or("no reader holds the card")?;
            // On this page, without a reload (a fresh page reads the list anew and would hide
            // the bug): a marker set now must still be there.
            b.js("window.__sameReaderPage = true; return true").await?;
            pcsc.emulator("remove");
            b.wait_text("readers", &format!("{holder}: カードなし"), 15).await?;
            pcsc.emulator("insert");
            b.wait_text("readers", &format!("{holder}: カードあり"), 15).await?;
            let same = b.js("return window.__sameReaderPage === true").await?;
            if same != serde_json::Value::Bool(true) {
                return Err(
                    "the page reloaded while the card was pulled; the test proves nothing".into()
                );
            }
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    assert_eq!(ledger_receptions(&server).len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_face_reader_result_reaches_two_open_terminals() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("face");
    let (_peer, share) = e2e::terminal::folder_peer(&data);
    let share_arg = share.to_str().unwrap().to_string();
    let server = serve(free_port(), &data, &["--gateway", "folder", "--folder", &share_arg]);
    let first = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    with_browser(|second| async {
        let result = async {
            open_and_pair(&first, &server, "受付1").await?;
            open_and_pair(&second, &server, "受付2").await?;
            for b in [&first, &second] {
                b.click("nav-reception").await?;
                b.find("page-reception", 10).await?;
            }
            // Both sockets must be up before the patient taps.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            e2e::terminal::tap(&share, "yamada")?;
            for b in [&first, &second] {
                b.wait_text("face-result", "山田", 15).await?;
            }
            second.screenshot(&screenshots().join("reception-face.png")).await?;
            first.click("face-record").await?;
            first.wait_text("recorded", "受付済", 10).await?;
            // Recorded at one counter, the result leaves the other one's list too.
            second
                .wait_until("the face result to leave the second terminal", 30, || async {
                    second.count("face-result").await == 0
                })
                .await?;
            // The second terminal sees the first one's reception in the clinic's ledger.
            second.click("nav-ledger").await?;
            second.wait_text("ledger-status", "確認済", 30).await?;
            Ok(())
        }
        .await;
        (second, result)
    })
    .await;
    first.close().await;
    assert_eq!(ledger_receptions(&server).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_wizard_leads_to_an_unknown_claim() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("wizard");
    let server = serve(free_port(), &data, &[]);
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            b.click("nav-fallback").await?;
            b.type_into("capture-name", "申立 太郎").await?;
            b.type_into("capture-birth", "1980-04-01").await?;
            b.type_into("capture-address", "東京都千代田区霞が関1-2-2").await?;
            b.type_into("capture-contact", "03-5253-1111").await?;
            b.find("wizard-rule", 10).await?;
            b.screenshot(&screenshots().join("fallback-question.png")).await?;
            walk_wizard(&b, &["nothing", "neither", "not_known", "no"]).await?;
            b.wait_text("outcome-title", "申立書", 5).await?;
            b.find("statement", 5).await?;
            b.click("wizard-record").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            b.click("wizard-claim").await?;
            walk_wizard(&b, &["no"]).await?;
            b.wait_text("outcome-claim", "③", 5).await?;
            b.wait_text("outcome-unknown", "7777777", 5).await?;
            b.wait_text("outcome-unknown", "霞が関", 5).await?;
            b.screenshot(&screenshots().join("fallback-outcome.png")).await?;
            b.click("nav-numbers").await?;
            b.type_into("insurer", "06139998").await?;
            b.wait_text("insurer-error", "2 のはず", 5).await?;
            b.wait_text("insurer-check-digit", "→ 2", 5).await?;
            b.screenshot(&screenshots().join("numbers.png")).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    assert_eq!(ledger_receptions(&server).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receptions_made_while_the_bridge_is_down_arrive_exactly_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("offline");
    let port = free_port();
    let mut server = serve(port, &data, &[]);
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            // The service worker must hold the shell before the network goes.
            b.wait_until("the service worker to control the page", 20, || async {
                b.js("return !!navigator.serviceWorker.controller").await.ok()
                    == Some(serde_json::json!(true))
            })
            .await?;
            server.kill();
            b.wait_text("status-bridge", "bridge down", 20).await?;
            for n in 0..5 {
                if n == 3 {
                    // A reload in the middle: the terminal starts from its cache and its
                    // outbox is still there.
                    b.client().refresh().await.map_err(|e| e.to_string())?;
                    b.wait_text("status-outbox", "未送信 3", 20).await?;
                }
                record_without_documents(&b).await?;
            }
            b.wait_text("status-outbox", "未送信 5", 10).await?;
            // The office's page is a bundle of its own: it too opens from the cache, and
            // counts the unsent receptions; back at the counter they are still there.
            b.click("nav-usage").await?;
            b.find("page-usage", 20).await?;
            b.wait_text("status-outbox", "未送信 5", 20).await?;
            b.click("nav-ledger").await?;
            b.wait_text("ledger-count", "5", 20).await?;
            b.screenshot(&screenshots().join("ledger-offline.png")).await?;
            server = serve(port, &data, &[]);
            b.wait_text("status-outbox", "未送信 0", 60).await?;
            b.wait_until("five synced rows", 30, || async {
                b.text("ledger-table").await.matches("送信済").count() == 5
            })
            .await?;
            b.screenshot(&screenshots().join("status-synced.png")).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let tally = e2e::terminal::ledger_tally(&server);
    assert_eq!(
        tally,
        e2e::terminal::Tally { in_ledger: 5, duplicates: 0 },
        "five receptions, each once"
    );
}

use e2e::terminal::today_jst;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_usage_screen_shows_a_seeded_ledger_and_its_plot() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("usage");
    let server = serve(free_port(), &data, &[]);
    // This month: 3 by card, 1 by numbers (75%); last month: 1 of 2 (50%).
    let this = today_jst().year_month();
    let last = this.minus(1);
    let at = |m: eligibility::YearMonth, day: u32| format!("{m}-{day:02}T03:00:00+09:00");
    let event = |n: u32, time: String, method: &str| {
        serde_json::json!({
            "op_id": format!("usage-{n}"), "record_id": format!("usage-rec-{n}"), "kind": "reception",
            "device_time": time,
            "body": { "method": method, "status": "confirmed", "patient": { "kana": format!("ｶﾝｼﾞｬ{n}"), "birth": "1970-01-01" } }
        })
    };
    let ops = vec![
        event(1, at(this, 1), "card"),
        event(2, at(this, 1), "card"),
        event(3, at(this, 1), "smartphone"),
        event(4, at(this, 1), "certificate"),
        event(5, at(last, 15), "card"),
        event(6, at(last, 15), "certificate"),
    ];
    let token = server.pair("seeder").unwrap();
    let (status, body) = http(
        server.port,
        "POST",
        "/api/sync/push",
        Some(&token),
        &serde_json::json!({ "ops": ops }).to_string(),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            b.click("nav-usage").await?;
            b.wait_text("usage-rate", "75.00%", 30).await?;
            b.wait_text("usage-counts", "マイナ保険証 3 件 ／ オンライン資格確認 4 件（うちスマホ 1 件）", 5).await?;
            b.wait_text("usage-phone", "33.33%", 5).await?;
            b.wait_text("usage-national", "29.45%", 5).await?;
            b.wait_text("usage-prefecture", "東京都 27.22%", 5).await?;
            // This month's billing falls under the 2026 successor 加算: one 30% requirement.
            b.wait_text("usage-thresholds", "30% 以上", 5).await?;
            // The newest national figure of each series, each with its basis.
            b.wait_text("usage-latest-online", "36.17% （2025-10）", 5).await?;
            b.wait_text("usage-latest-receipt", "64.62% （2026-01）", 5).await?;
            let bars = b.count("usage-bar").await;
            if bars != 7 {
                return Err(format!("{bars} bars, not 7"));
            }
            // The bars for this month and last are the tallest two, in that order.
            let heights = b
                .js("return [...document.querySelectorAll('[data-testid=usage-bar]')].map(r => parseFloat(r.getAttribute('height')))")
                .await?;
            let h: Vec<f64> = serde_json::from_value(heights).map_err(|e| e.to_string())?;
            if !(h[6] > h[5] && h[5] > 0.0 && h[..5].iter().all(|x| *x == 0.0)) {
                return Err(format!("bar heights {h:?}"));
            }
            b.find("usage-line-national", 5).await?;
            b.find("usage-line-prefecture", 5).await?;
            b.find("usage-tier", 5).await?;
            b.screenshot(&screenshots().join("usage.png")).await?;
            // The receipt computer's CSV of a visit day, from the office's page: the four
            // receptions of the 1st of this month.
            b.js(&format!(
                "const e = document.querySelector('[data-testid=export-day]'); e.value = '{this}-01'; e.dispatchEvent(new Event('input', {{bubbles: true}})); return true"
            ))
            .await?;
            b.click("export-csv").await?;
            b.wait_text("export-message", "4 件を書き出しました", 5).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
}

/// The page's own Sony reader: the real drivers and ISO-DEP in the page, a `navigator.usb`
/// stand-in whose device forwards bulk transfers to the bridge's simulated reader with
/// 山田's virtual card — `check` (holder, tries left) and a pre-check without a PIN pad
/// even though this test bridge could confirm, then the card pulled away mid-read. Once
/// per reader model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_own_usb_reader_pre_checks_a_card_and_reports_a_pulled_card() {
    let _one = ONE_AT_A_TIME.lock().await;
    for (model, name) in [("rcs380", "RC-S380"), ("rcs300", "RC-S300")] {
        let data = data_dir(&format!("usb-{model}"));
        let server =
            serve(free_port(), &data, &["--simulate-usb-reader", &format!("{model}:yamada")]);
        with_browser(|b| async {
            let result = async {
                b.cdp(
                    "Page.addScriptToEvaluateOnNewDocument",
                    serde_json::json!({ "source": include_str!("../src/usb_standin.js") }),
                )
                .await?;
                open_and_pair(&b, &server, "タブレット").await?;
                b.js("const s = document.querySelector('[data-testid=reader-mode]'); s.value = 'usb'; s.dispatchEvent(new Event('change'));").await?;
                b.wait_text("settings-saved", "saved: reader", 5).await?;
                b.click("nav-reception").await?;
                b.click("method-card").await?;
                b.click("connect-usb").await?;
                b.wait_text("reader-path", name, 10).await?;
                b.click("check-card").await?;
                b.wait_text("check-holder", "マイナンバーカード", 20).await?;
                b.wait_text("precheck-tries", "残り 3 回", 5).await?;
                b.wait_text("precheck-next", "顔認証付きカードリーダーで確認", 5).await?;
                let pads = b.count("pin-ok").await;
                if pads != 0 {
                    return Err(format!("{pads} PIN pads on the own reader's pre-check"));
                }
                b.screenshot(&screenshots().join(format!("reception-usb-{model}.png"))).await?;
                // The button is disabled while a card operation runs; then the card leaves
                // the field a few frames into the next read.
                b.wait_until("the reader to be idle", 20, || async {
                    b.js("return !document.querySelector('[data-testid=check-card]').disabled")
                        .await
                        .ok()
                        == Some(serde_json::json!(true))
                })
                .await?;
                let (status, body) = http(server.port, "POST", "/dev/usb/card", None, r#"{"action":"leave_after 6"}"#)
                    .map_err(|e| e.to_string())?;
                if status != 200 {
                    return Err(format!("card action: {status} {body}"));
                }
                b.click("method-card").await?;
                b.click("check-card").await?;
                b.wait_text("message", "取り外されました", 20).await?;
                Ok(())
            }
            .await;
            (b, result)
        })
        .await;
        assert_eq!(ledger_receptions(&server).len(), 0, "{model}: a pre-check records nothing");
    }
}
