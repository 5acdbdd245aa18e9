//! Staff sign-in with passkeys, through Chromium's virtual authenticator (DevTools
//! `WebAuthn`): enrolment with an admin's code, the idle lock while receptions drain and a
//! face result arrives, unlock by the same person, a hand-over, refusals (user verification
//! off, no matching credential, a disabled person), and `bridge audit show` attributing each
//! change to the right person.

use e2e::bridge::{free_port, Serve};
use e2e::browser::with_browser;
use e2e::staff::{enrol, enrolment_code, virtual_authenticator};
use e2e::terminal::{
    data_dir, folder_peer, ledger_tally, open_and_pair, record_without_documents, screenshots,
    serve, tap, today_jst,
};
use serde_json::json;
use std::time::Duration;

/// `bridge audit show` rows whose action is `action`.
fn count(shown: &str, action: &str) -> usize {
    shown.lines().filter(|l| l.split('\t').nth(2) == Some(action)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_with_passkeys_locks_keeps_syncing_and_attributes_each_change() {
    let data = data_dir("staff");
    // The lock after one idle minute (the shortest the setting allows).
    std::fs::write(data.join("bridge.toml"), "lock_after_minutes = 1\n").unwrap();
    let (_peer, share) = folder_peer(&data);
    let server: Serve =
        serve(free_port(), &data, &["--gateway", "folder", "--folder", share.to_str().unwrap()]);
    let sato =
        enrolment_code(&server.cli(&["staff", "add", "佐藤", "--role", "admin"]).unwrap()).unwrap();
    let suzuki = enrolment_code(&server.cli(&["staff", "add", "鈴木"]).unwrap()).unwrap();
    let mut figures = json!({});
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            let authenticator = virtual_authenticator(&b).await?;
            // Nobody has a passkey yet: the counter works as before; 設定 opens the sign-in.
            b.click("open-sign-in").await?;
            b.find("sign-in", 10).await?;
            b.screenshot(&screenshots().join("staff-sign-in.png")).await?;
            enrol(&b, &sato, "佐藤").await?;
            if !server.cli(&["staff", "list"])?.lines().any(|l| l.contains("佐藤") && l.contains("1 passkey")) {
                return Err("佐藤's passkey is not stored".into());
            }
            record_without_documents(&b).await?;
            b.wait_text("status-outbox", "未送信 0", 30).await?;

            // Three receptions queued (the push blocked), then the idle lock.
            b.cdp("Network.enable", json!({})).await?;
            b.cdp("Network.setBlockedURLs", json!({ "urls": ["*/api/sync/push"] })).await?;
            for _ in 0..3 {
                record_without_documents(&b).await?;
            }
            b.wait_text("status-outbox", "未送信 3", 10).await?;
            let idle_from = std::time::Instant::now();
            b.find("sign-in", 75).await?;
            figures["locked_after_idle_s"] = json!(idle_from.elapsed().as_secs());
            if b.count("staff-name").await > 0 || b.count("page-reception").await > 0 {
                return Err("the lock left a screen with its details in the page".into());
            }
            // While locked: a face result arrives (counted, not shown) and the queue drains.
            tap(&share, "yamada")?;
            b.wait_text("locked-face-count", "1 件", 20).await?;
            b.cdp("Network.setBlockedURLs", json!({ "urls": [] })).await?;
            b.wait_text("status-outbox", "未送信 0", 60).await?;
            b.find("sign-in", 1).await?;
            let shown = b.js("return document.body.innerText").await?;
            if shown.as_str().unwrap_or("").contains("山田") {
                return Err("a patient's name is on the lock screen".into());
            }
            b.screenshot(&screenshots().join("staff-locked.png")).await?;
            // Unlock by the same person: the face result is there again.
            b.click("staff-0").await?;
            b.wait_text("staff-name", "佐藤", 20).await?;
            b.wait_text("face-result", "山田", 20).await?;

            // Hand-over: 佐藤 locks, 鈴木 enrols on this terminal and records one.
            b.click("lock-now").await?;
            b.find("sign-in", 10).await?;
            enrol(&b, &suzuki, "鈴木").await?;
            // 鈴木 receives patients; 設定 has no staff list for him.
            b.goto(&format!("http://localhost:{}/office.html#settings", server.port)).await?;
            b.find("page-settings", 15).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            if b.count("staff-admin").await > 0 {
                return Err("a receptionist sees the staff administration".into());
            }
            record_without_documents(&b).await?;
            b.wait_text("status-outbox", "未送信 0", 30).await?;

            // Refused: user verification off, then no matching credential, then disabled.
            b.click("lock-now").await?;
            b.find("staff-0", 10).await?;
            b.cdp("WebAuthn.setUserVerified", json!({ "authenticatorId": authenticator, "isUserVerified": false })).await?;
            b.click("staff-0").await?;
            b.wait_text("sign-in-status", "パスキー", 20).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            if b.count("staff-name").await > 0 {
                return Err("signed in without user verification".into());
            }
            b.cdp("WebAuthn.setUserVerified", json!({ "authenticatorId": authenticator, "isUserVerified": true })).await?;
            b.click("staff-0").await?;
            b.wait_text("staff-name", "佐藤", 20).await?;
            // 佐藤 is an admin: 設定 adds 田中 and gives the code (as `bridge staff add`).
            b.goto(&format!("http://localhost:{}/office.html#settings", server.port)).await?;
            b.find("staff-admin", 15).await?;
            b.type_into("staff-new-name", "田中").await?;
            b.click("staff-add").await?;
            b.wait_text("staff-said", "田中 の登録コード", 15).await?;
            if !server.cli(&["staff", "list"])?.lines().any(|l| l.contains("田中") && l.contains("0 passkey")) {
                return Err("田中 was not added".into());
            }
            b.screenshot(&screenshots().join("staff-admin.png")).await?;
            b.click("lock-now").await?;
            b.find("staff-0", 10).await?;
            b.cdp("WebAuthn.clearCredentials", json!({ "authenticatorId": authenticator })).await?;
            b.click("staff-0").await?;
            b.wait_text("sign-in-status", "パスキー", 30).await?;
            if b.count("staff-name").await > 0 {
                return Err("signed in with no matching credential".into());
            }
            server.cli(&["staff", "disable", "鈴木"])?;
            let refused = b
                .client()
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     fetch('/api/staff', {method: 'POST', headers: {'authorization': 'Bearer ' + arguments[0], 'content-type': 'application/json'}, body: '{}'})
                       .then(r => r.json()).then(j => done(j.staff.map(p => p.name).join(',')), e => done('error ' + e));",
                    vec![json!(token_of(&b).await?)],
                )
                .await
                .map_err(|e| e.to_string())?;
            if refused.as_str().unwrap_or("").contains("鈴木") {
                return Err(format!("a disabled person is still offered: {refused}"));
            }
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;

    // Who did what: 佐藤 four receptions, 鈴木 one, each with their sign-ins.
    let day = today_jst().to_string();
    let of = |who: &str| server.cli(&["audit", "show", "--person", who, "--date", &day]).unwrap();
    let (sato_rows, suzuki_rows) = (of("佐藤"), of("鈴木"));
    assert_eq!(count(&sato_rows, "event:reception"), 4, "{sato_rows}");
    assert_eq!(count(&suzuki_rows, "event:reception"), 1, "{suzuki_rows}");
    assert!(sato_rows.lines().any(|l| l.ends_with("staff_signed_in\tunlocked")), "{sato_rows}");
    assert_eq!(count(&suzuki_rows, "hand_over"), 1, "{suzuki_rows}");
    assert!(sato_rows.lines().any(|l| l.ends_with("staff_managed\tadd 田中")), "{sato_rows}");
    assert!(sato_rows.contains("staff_session_ended\tlocked"), "{sato_rows}");
    assert!(
        !sato_rows.contains("山田") && !suzuki_rows.contains("山田"),
        "patient data in the audit view"
    );
    let tally = ledger_tally(&server);
    assert_eq!((tally.in_ledger, tally.duplicates), (5, 0));
    assert!(server.cli(&["audit", "verify"]).unwrap().contains("intact"));
    // An edited person in the chain is found.
    let db = rusqlite::Connection::open(data.join("madoguchi.sqlite3")).unwrap();
    db.execute("UPDATE audit SET person = '' WHERE action = 'hand_over'", []).unwrap();
    assert!(server.cli(&["audit", "verify"]).is_err(), "an altered audit row went unnoticed");
    figures["sato_rows"] = json!(sato_rows.lines().count());
    figures["suzuki_rows"] = json!(suzuki_rows.lines().count());
    e2e::report::record("staff_sign_in_with_passkeys", figures);
}

/// The device token the page keeps (IndexedDB meta), for a request made from the page.
async fn token_of(b: &e2e::browser::Browser) -> Result<String, String> {
    let token = b
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const open = indexedDB.open('madoguchi');
             open.onsuccess = () => { const tx = open.result.transaction('meta'); const get = tx.objectStore('meta').get('token');
               get.onsuccess = () => done(get.result ? (get.result.value ?? get.result) : null); get.onerror = () => done(null); };
             open.onerror = () => done(null);",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    token.as_str().map(String::from).ok_or_else(|| format!("no token in the page: {token}"))
}
