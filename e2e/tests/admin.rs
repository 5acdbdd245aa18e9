//! An admin does the operator's work from 設定 (real Chromium, a passkey on its virtual
//! authenticator, a real bridge and its backup folder): backs up, receives three more
//! patients, restores the backup while the bridge keeps serving — the terminal notices and
//! sends the three again, nothing doubled, and the face result recorded since is read from
//! `face/` again — lists the terminals, gives the listener a new
//! server certificate (a fresh TLS connection gets it, the CA stays), reads their own day
//! in the audit log, which says who did each, imports tomorrow's bookings from a CSV file,
//! starts tomorrow's 一括照会 and exports the day's CSV.

use e2e::browser::with_browser;
use e2e::staff::{enrol, enrolment_code, virtual_authenticator};
use e2e::terminal::{
    data_dir, folder_peer, ledger_tally, numbers_of, open_and_pair, record_without_documents,
    screenshots, serve, tap, today_jst,
};
use serde_json::json;
use std::time::Duration;

/// The SHA-256 fingerprint of the certificate a fresh TLS connection to `port` is given, as
/// OpenSSL prints it (an independent client).
fn served_fingerprint(port: u16) -> Result<String, String> {
    let script = format!(
        "openssl s_client -connect 127.0.0.1:{port} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    text.contains("Fingerprint").then_some(text.clone()).ok_or(format!("no certificate: {text:?}"))
}

/// The receptions in the served ledger, read from its SQLite file (a checker terminal per
/// poll would hit the pairing rate limit).
fn receptions_in(db: &std::path::Path) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| {
            c.query_row(
                "SELECT COUNT(DISTINCT record_id) FROM events WHERE kind = 'reception'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap_or(-1)
}

/// The face results the ledger has recorded from `face/`.
fn face_files_in(db: &std::path::Path) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| {
            c.query_row("SELECT COUNT(*) FROM gateway_files WHERE folder = 'face'", [], |r| {
                r.get(0)
            })
        })
        .unwrap_or(-1)
}

fn file_fingerprint(pem: &std::path::Path) -> Result<String, String> {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pem)
        .output()
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_backs_up_restores_and_rotates_from_settings_while_the_counter_keeps_working() {
    let data = data_dir("admin");
    let backups = data.join("backups");
    std::fs::write(
        data.join("bridge.toml"),
        format!("backup_dir = {:?}\nbackup_keep = 5\n", backups.to_str().unwrap()),
    )
    .unwrap();
    let port = e2e::bridge::free_port();
    let (_peer, share) = folder_peer(&data);
    let server = serve(port, &data, &["--gateway", "folder", "--folder", share.to_str().unwrap()]);
    let code =
        enrolment_code(&server.cli(&["staff", "add", "佐藤", "--role", "admin"]).unwrap()).unwrap();
    let settings = format!("http://localhost:{port}/office.html#settings");
    let mut figures = json!({});
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            virtual_authenticator(&b).await?;
            b.click("open-sign-in").await?;
            b.find("sign-in", 10).await?;
            enrol(&b, &code, "佐藤").await?;
            for _ in 0..2 {
                record_without_documents(&b).await?;
            }
            b.wait_text("status-outbox", "未送信 0", 30).await?;

            // 設定 → 今すぐバックアップ: the list shows it, checked.
            b.goto(&settings).await?;
            b.find("operator-admin", 15).await?;
            b.click("admin-backup").await?;
            b.wait_text("admin-said", "バックアップしました", 30).await?;
            b.wait_text("admin-rows", "/ 2 events", 15).await?;
            b.screenshot(&screenshots().join("admin-backups.png")).await?;

            // Three more patients, then the copy of two is restored while serving.
            b.goto(&format!("http://localhost:{port}/#reception")).await?;
            for _ in 0..3 {
                record_without_documents(&b).await?;
            }
            b.wait_text("status-outbox", "未送信 0", 30).await?;
            // And a face result from the 顔認証付きカードリーダー after the backup (shown on 受付).
            b.click("nav-reception").await?;
            tap(&share, "yamada")?;
            if let Err(e) = b.wait_text("face-result", "山田", 30).await {
                let page = b.js("return location.href + ' | ' + document.body.innerText").await?;
                return Err(format!("{e}; db has {} face files; the page: {page}", face_files_in(&data.join("madoguchi.sqlite3"))));
            }
            tokio::time::sleep(Duration::from_secs(6)).await; // pulled back: the checkpoint is 5
            let db = data.join("madoguchi.sqlite3");
            if receptions_in(&db) != 5 || face_files_in(&db) != 1 {
                return Err("five receptions and a face result before the restore".into());
            }
            b.goto(&settings).await?;
            b.find("operator-admin", 15).await?;
            b.click("admin-backups").await?;
            b.wait_text("admin-rows", "/ 2 events", 30).await?;
            // The row of the two-reception copy: its restore button, and its name typed again.
            let name = b
                .js("const row = [...document.querySelectorAll('[data-testid=admin-row]')].find(r => r.innerText.includes('/ 2 events'));
                     row.querySelector('[data-testid=admin-restore]').click();
                     return row.innerText.split(' ')[0];")
                .await?;
            let name = name.as_str().ok_or("no backup row")?.to_string();
            b.find("admin-restore-confirm", 10).await?;
            b.type_into("admin-restore-name", &name).await?;
            b.click("admin-restore-go").await?;
            b.wait_text("admin-said", "復元しました", 60).await?;
            // The served ledger is the copy's now (two), until the terminal sends again.
            b.wait_text("admin-said", "(2 events)", 1).await?;
            let restored_at = std::time::Instant::now();
            if let Err(e) = b.wait_until("the three lost receptions to come back", 60, || async {
                receptions_in(&db) >= 5
            })
            .await {
                let c = rusqlite::Connection::open(&db).unwrap();
                let rows: Vec<String> = c.prepare("SELECT seq || ' ' || kind || ' ' || device_id FROM events ORDER BY seq").unwrap().query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect();
                let page = b.js("return location.href + ' | ' + document.body.innerText").await?;
                return Err(format!("{e}: {rows:?} page {page}"));
            }
            figures["resent_after_s"] = json!(restored_at.elapsed().as_secs());
            // The face result is read from face/ again (the file is still there).
            b.wait_until("the face result to be recorded again", 30, || async {
                face_files_in(&db) == 1
            })
            .await?;

            // The terminals, this one marked.
            b.click("admin-devices").await?;
            b.wait_text("admin-rows", "受付1", 15).await?;
            b.wait_text("admin-rows", "この端末", 5).await?;

            // A new server certificate: the next TLS connection is given it; the CA stays.
            let leaf = data.join("tls/leaf.pem");
            let (served_before, ca_before) =
                (served_fingerprint(port)?, std::fs::read(data.join("tls/ca.pem")).map_err(|e| e.to_string())?);
            b.click("admin-rotate-tls").await?;
            b.wait_text("admin-said", "新しいサーバー証明書", 30).await?;
            let served_after = served_fingerprint(port)?;
            if served_after == served_before || served_after != file_fingerprint(&leaf)? {
                return Err(format!(
                    "the listener still serves the old leaf: {served_before} → {served_after}"
                ));
            }
            if std::fs::read(data.join("tls/ca.pem")).map_err(|e| e.to_string())? != ca_before {
                return Err("the CA changed: every tablet would need it again".into());
            }

            // Their own day: the restore and the rotation under their name.
            b.type_into("admin-audit-person", "佐藤").await?;
            b.click("admin-audit-show").await?;
            b.wait_text("admin-rows", "restored", 15).await?;
            b.wait_text("admin-rows", "tls_rotated", 5).await?;
            b.click("admin-audit-verify").await?;
            b.wait_text("admin-said", "OK", 15).await?;
            // Tomorrow's bookings from the booking system's CSV (chosen in the file picker),
            // with one bad row reported by its line.
            let tomorrow = eligibility::Date::from_day_number(today_jst().day_number() + 1)
                .ok_or("tomorrow")?;
            let q = numbers_of("p001");
            let field = |k: &str| q[k].as_str().unwrap_or("").to_string();
            let csv = format!(
                "date,time,patient_id,kana,name,birth,insurer,symbol,number,branch\n{tomorrow},09:00,P0001,ヤマダ タロウ,山田 太郎,{},{},{},{},{}\n{tomorrow},25:00,X2,,bad time,1980-01-01,,,,\n",
                field("birth"), field("insurer"), field("symbol"), field("number"), field("branch")
            );
            let file = data.join("bookings.csv");
            std::fs::write(&file, csv).map_err(|e| e.to_string())?;
            b.find("admin-import-bookings", 10)
                .await?
                .send_keys(file.to_str().unwrap())
                .await
                .map_err(|e| e.to_string())?;
            b.wait_text("admin-said", "取り込み 1 件", 15).await?;
            b.wait_text("admin-rows", "3 行目", 5).await?;
            b.click("admin-bulk-run").await?;
            b.wait_text("admin-said", &tomorrow.to_string(), 15).await?;

            // The day's CSV for the receipt computer from the whole ledger (`bridge export`).
            b.click("admin-export").await?;
            b.wait_text("admin-said", "5 rows exported", 15).await?;
            b.screenshot(&screenshots().join("admin-audit.png")).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let tally = ledger_tally(&server);
    assert_eq!((tally.in_ledger, tally.duplicates), (5, 0));
    let day = today_jst().to_string();
    let shown = server.cli(&["audit", "show", "--person", "佐藤", "--date", &day]).unwrap();
    for action in ["restored", "tls_rotated", "audit_viewed", "export", "bookings_import"] {
        assert!(shown.lines().any(|l| l.split('\t').nth(2) == Some(action)), "{action}: {shown}");
    }
    // All five receptions are 佐藤's, the three the terminal sent again too.
    let receptions = shown.lines().filter(|l| l.split('\t').nth(2) == Some("event:reception"));
    assert_eq!(receptions.count(), 5, "{shown}");
    assert!(server.cli(&["audit", "verify"]).unwrap().contains("intact"));
    // The ledger served before the restore is kept aside, whole.
    let aside = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().contains("before-restore"))
        .expect("the ledger before the restore is kept");
    assert_eq!(receptions_in(&aside.path()), 5);
    e2e::report::record("an_admin_backs_up_restores_and_rotates_from_settings", figures);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
