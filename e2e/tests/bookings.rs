//! Tomorrow's patients confirmed tonight, seen at the counter the next morning: bookings
//! imported and pre-confirmed by `bridge bulk run` through the folder peer, then the
//! built terminal in headless Chromium against `bridge serve` on the same folder.

use e2e::bridge::free_port;
use e2e::browser::{bridge_binary, with_browser};
use e2e::terminal::{
    data_dir, folder_peer, look_up_numbers, numbers_of, open_and_pair, screenshots, serve, tap,
};
use std::path::Path;

fn bridge(data: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(bridge_binary())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

/// A booking row for a simulated person's current numbers.
fn row(day: &str, time: &str, id: &str, person: &str) -> String {
    let q = numbers_of(person);
    let f = |k: &str| q[k].as_str().unwrap_or("").to_string();
    format!(
        "{day},{time},{id},{},,{},{},{},{},{}\n",
        f("kana"),
        f("birth"),
        f("insurer"),
        f("symbol"),
        f("number"),
        f("branch")
    )
}

/// The booked patient taps the card: the result says which booking it is and that it was
/// pre-confirmed; a patient who changed jobs overnight (booked with the old card, the
/// evening's answer 新しい資格あり) taps the new card: the change is flagged. 本日の予約
/// lists them with the evening's state. A patient booked under a kana the system does not
/// have is found by the 照会番号 registered for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booked_patients_are_matched_and_a_changed_insurance_is_flagged() {
    let data = data_dir("bookings");
    let (_peer, share) = folder_peer(&data);
    let today = numbers_of("yamada")["visit"].as_str().unwrap().to_string();
    // P0003 is booked under a kana the national system does not have (a typo at booking):
    // only the 照会番号 finds them. P0004's numbers are unknown: registration fails.
    let p3_kana = numbers_of("p010")["kana"].as_str().unwrap().to_string();
    let p3 = row(&today, "10:00", "P0003", "p010").replacen(&p3_kana, "ﾍﾞﾂﾒｲ ﾀﾛｳ", 1);
    let p4_number = numbers_of("p011")["number"].as_str().unwrap().to_string();
    let p4 = row(&today, "10:30", "P0004", "p011").replacen(&p4_number, "99999999", 1);
    let csv = format!(
        "date,time,patient_id,kana,name,birth,insurer,symbol,number,branch\n{}{}{p3}{p4}",
        row(&today, "09:00", "P0001", "yamada"),
        row(&today, "09:30", "P0002", "lost-new"),
    );
    let file = data.join("bookings.csv");
    std::fs::write(&file, csv).unwrap();
    let import = bridge(&data, &["bookings", "import", file.to_str().unwrap()]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stdout));
    let run = bridge(
        &data,
        &["bulk", "run", "--date", &today, "--folder", share.to_str().unwrap(), "--poll-ms", "100"],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let share_arg = share.to_str().unwrap();
    let register =
        bridge(&data, &["patients", "register-ids", "--date", &today, "--folder", share_arg]);
    let summary: serde_json::Value = serde_json::from_slice(&register.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&register.stderr)));
    assert_eq!(register.status.code(), Some(2), "a failed registration is exit 2: {summary}");
    assert_eq!(summary["registered"], 3, "{summary}");
    assert_eq!(summary["failed"][0][0], "P0004", "{summary}");
    let again =
        bridge(&data, &["patients", "register-ids", "--date", &today, "--folder", share_arg]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["already"], 3, "registered ones are not sent again: {again}");
    assert_eq!(again["registered"], 0, "{again}");

    let server =
        serve(free_port(), &data, &["--gateway", "folder", "--folder", share.to_str().unwrap()]);
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            b.click("nav-reception").await?;
            tap(&share, "yamada")?;
            b.wait_text("face-booking", "予約 09:00 P0001 ・ 前日確認：有効", 20).await?;
            if b.count("face-booking-changed").await != 0 {
                return Err("a change is flagged for a patient whose insurance did not change".into());
            }
            tap(&share, "lost-new-current")?;
            b.wait_until("the second result", 20, || async { b.count("face-booking").await == 2 }).await?;
            b.wait_text("face-booking-changed", "保険者番号", 5).await?;
            let all = b.js("return [...document.querySelectorAll('[data-testid=face-booking]')].map(e => e.textContent).join(' | ')").await?;
            if !all.to_string().contains("P0002 ・ 前日確認：新しい資格あり") {
                return Err(format!("the changed patient's booking is not named: {all}"));
            }
            b.screenshot(&screenshots().join("reception-booking-match.png")).await?;
            // Booked under another kana: found by the 照会番号 the face result carries.
            tap(&share, "p010")?;
            b.wait_until("the third result", 20, || async { b.count("face-booking").await == 3 }).await?;
            let all = b.js("return [...document.querySelectorAll('[data-testid=face-booking]')].map(e => e.textContent).join(' | ')").await?;
            if !all.to_string().contains("予約 10:00 P0003") {
                return Err(format!("the registered patient is not matched by 照会番号: {all}"));
            }
            // The failed registration is on 本日の受付's 要対応 card too.
            b.click("nav-ledger").await?;
            b.wait_text("work-id-failed", "P0004", 20).await?;
            b.click("nav-bookings").await?;
            b.wait_until("four bookings", 20, || async { b.count("booking-row").await == 4 }).await?;
            let states = b.js("return [...document.querySelectorAll('[data-testid=booking-state]')].map(e => e.textContent).join(' | ')").await?;
            let states = states.to_string();
            if !(states.contains("前日確認：有効") && states.contains("新しい資格あり")) {
                return Err(format!("本日の予約 states: {states}"));
            }
            // P0004's registration failed (numbers the system does not know): said on its row.
            b.wait_text("booking-id-failed", "照会番号の登録に失敗", 5).await?;
            if b.count("booking-id-failed").await != 1 {
                return Err("only P0004's registration failed".into());
            }
            b.screenshot(&screenshots().join("ledger-bookings.png")).await?;
            // 番号入力 of a booked patient: the lookup is matched to the booking too.
            look_up_numbers(&b, &numbers_of("yamada")).await?;
            b.wait_text("result-headline", "資格を確認しました", 20).await?;
            b.wait_text("face-booking", "予約 09:00 P0001 ・ 前日確認：有効", 10).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    // P0002 was confirmed with the new job's numbers: the bridge registered their 照会番号
    // for those by itself (the first confirmation with them), without staff running
    // `register-ids` again.
    let new_insurer = numbers_of("lost-new-current")["insurer"].as_str().unwrap().to_string();
    assert_ne!(new_insurer, numbers_of("lost-new")["insurer"].as_str().unwrap());
    let db = rusqlite::Connection::open(data.join("madoguchi.sqlite3")).unwrap();
    let started = std::time::Instant::now();
    let registered = loop {
        let row: Option<(String, String)> = db
            .query_row(
                "SELECT numbers, state FROM reference_ids WHERE patient_id = 'P0002'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        match row {
            Some((numbers, state)) if numbers.starts_with(&new_insurer) => break state,
            _ if started.elapsed() > std::time::Duration::from_secs(20) => {
                panic!("P0002 not registered for the new numbers: {row:?}")
            }
            _ => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    };
    assert_eq!(registered, "registered");
}

/// The national system is down the morning after the 一括照会: two booked patients arrive.
/// Their names and birth dates find the bookings, whose downloaded numbers are offered;
/// taken, they answer the history question ("pre-confirmed") and claim ① with them; the
/// receptions wait for 事後確認, which the bridge runs by itself when the system returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_an_outage_booked_patients_are_received_with_the_downloaded_numbers() {
    let data = data_dir("bookings-outage");
    std::fs::write(data.join("bridge.toml"), "follow_up_interval_s = 3\n").unwrap();
    let today = numbers_of("yamada")["visit"].as_str().unwrap().to_string();
    let people = [("P0001", "yamada"), ("P0002", "p004")];
    let mut csv =
        String::from("date,time,patient_id,kana,name,birth,insurer,symbol,number,branch\n");
    for (i, (id, person)) in people.iter().enumerate() {
        csv.push_str(&row(&today, &format!("09:{i}0"), id, person));
    }
    let file = data.join("bookings.csv");
    std::fs::write(&file, csv).unwrap();
    let import = bridge(&data, &["bookings", "import", file.to_str().unwrap()]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stdout));
    // Last night's run (the simulator in-process), while the system was up.
    let run = bridge(&data, &["bulk", "run", "--date", &today, "--poll-ms", "50"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let server = serve(free_port(), &data, &[]);
    std::fs::write(data.join(".sim-faults.json"), r#"{"outage": true}"#).unwrap();
    let mut offers = Vec::new();
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            for (id, person) in people {
                let q = numbers_of(person);
                b.click("nav-fallback").await?;
                b.click("wizard-restart").await?;
                b.type_into("capture-name", q["kana"].as_str().unwrap_or("")).await?;
                b.type_into("capture-birth", q["birth"].as_str().unwrap_or("")).await?;
                let insurer = q["insurer"].as_str().unwrap_or("");
                b.wait_text(
                    "history-offer",
                    &format!("予約 {id} の前日の一括照会の資格: {insurer}"),
                    20,
                )
                .await?;
                offers.push(b.text("history-offer").await);
                b.click("use-history").await?;
                // The card cannot be confirmed (outage), no other document: the history
                // question is answered by the download, not by staff.
                let asked =
                    e2e::terminal::walk_wizard(&b, &["myna_card", "failed", "neither"]).await?;
                if asked.iter().any(|n| n == "history") {
                    return Err(format!("staff were asked the history question: {asked:?}"));
                }
                b.wait_text("outcome-claim", "① 現在の番号", 5).await?;
                b.wait_text("outcome-follow-up", "事後確認", 5).await?;
                if id == "P0001" {
                    b.screenshot(&screenshots().join("fallback-booking-numbers.png")).await?;
                }
                b.click("wizard-record").await?;
                b.wait_text("recorded", "受付済", 10).await?;
            }
            b.click("nav-ledger").await?;
            b.wait_until("both waiting for the follow-up", 30, || async {
                b.text("ledger-table").await.matches("事後確認待ち").count() == 2
            })
            .await?;
            // The system returns: the bridge's follow-ups confirm both by themselves.
            std::fs::remove_file(data.join(".sim-faults.json")).map_err(|e| e.to_string())?;
            b.wait_until("both confirmed afterwards", 90, || async {
                b.text("ledger-table").await.matches("確認済（事後）").count() == 2
            })
            .await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let list = e2e::terminal::records(&server);
    assert_eq!(list.len(), 2, "{list:?}");
    for (state, (_, person)) in list.iter().zip(people) {
        let q = numbers_of(person);
        let r = &state.reception;
        assert_eq!(r.outcome.as_deref(), Some("pre_confirmed_numbers"), "{r:?}");
        assert_eq!(reception::status::claim_label(r.claim.plan), "①現在の番号");
        let used = r.claim.numbers.as_ref().expect("① carries the downloaded numbers");
        assert_eq!(
            (used.insurer.as_str(), used.number.as_str()),
            (q["insurer"].as_str().unwrap(), q["number"].as_str().unwrap())
        );
        assert!(state.follow_up.as_ref().is_some_and(|f| f.confirmed()), "{state:?}");
    }
    assert_eq!(e2e::terminal::ledger_tally(&server).duplicates, 0);
    e2e::report::record(
        "in_an_outage_booked_patients_are_received_with_the_downloaded_numbers",
        serde_json::json!({ "offers": offers, "receptions": list.len() }),
    );
}

/// The 予約 screen: a booking for tomorrow typed by staff, its numbers taken from the
/// patient's last visit (the bridge's patient index), then corrected; a bad birth date is
/// refused with what to fix and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_is_added_with_the_last_visits_numbers_and_corrected() {
    let data = data_dir("bookings-screen");
    let server = serve(free_port(), &data, &[]);
    let today = e2e::terminal::today_jst();
    let yesterday = today.pred();
    let token = server.pair("受付2").unwrap();
    let last_visit = serde_json::json!({ "ops": [{
        "op_id": "last-op", "record_id": "last-rec", "kind": "reception",
        "device_time": format!("{yesterday}T10:00:00+09:00"),
        "body": {
            "schema": 2, "visit": yesterday.to_string(), "presented": "myna_card",
            "established": "online_confirmation", "status": "confirmed", "outcome": "online_confirmed",
            "qualification": { "numbers": { "insurer": "06139992", "symbol": "77", "number": "123", "branch": "00" } },
            "patient": { "name": "山田太郎", "kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "birth": "1980-04-01" },
            "claim": { "plan": "normal" }
        }
    }]});
    let (status, body) = e2e::bridge::http(
        server.port,
        "POST",
        "/api/sync/push",
        Some(&token),
        &last_visit.to_string(),
    )
    .unwrap();
    assert!(status == 200 && body.contains("created"), "{body}");
    let value = |id: &str| format!("return document.querySelector('[data-testid={id}]').value");
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            b.click("nav-bookings").await?;
            b.find("booking-form", 20).await?;
            b.type_into("patient_id", "P0100").await?;
            b.type_into("name", "山田 太郎").await?;
            b.type_into("birth", "1980-04-01").await?;
            b.type_into("time", "09:00").await?;
            b.click("booking-from-history").await?;
            b.wait_text("booking-message", "前回の受診の番号", 20).await?;
            let insurer = b.js(&value("insurer")).await?;
            if insurer != "06139992" {
                return Err(format!("the last visit's insurer is not in the form: {insurer}"));
            }
            b.click("booking-save").await?;
            b.wait_text("booking-message", "保存しました", 10).await?;
            // Corrected: another time; loaded back from the bridge into an emptied form.
            b.type_into("time", "10:30").await?;
            b.click("booking-save").await?;
            b.wait_text("booking-message", "保存しました", 10).await?;
            b.type_into("name", "").await?;
            b.type_into("time", "").await?;
            b.click("booking-load").await?;
            b.wait_text("booking-message", "読み込みました", 10).await?;
            let (name, time) = (b.js(&value("name")).await?, b.js(&value("time")).await?);
            if name != "山田 太郎" || time != "10:30" {
                return Err(format!("loaded back: {name} {time}"));
            }
            b.screenshot(&screenshots().join("bookings-screen.png")).await?;
            // A birth date that does not exist: refused with the reason, nothing stored.
            b.type_into("patient_id", "P0101").await?;
            b.type_into("birth", "1980-13-01").await?;
            b.click("booking-save").await?;
            b.wait_text("booking-message", "生年月日", 10).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let (_, rows) = e2e::bridge::http(
        server.port,
        "POST",
        "/api/bookings",
        Some(&token),
        &serde_json::json!({ "date": today.succ().to_string(), "whole": true }).to_string(),
    )
    .unwrap();
    let rows: Vec<reception::booking::BookingRow> = serde_json::from_str(&rows).unwrap();
    assert_eq!(rows.len(), 1, "one booking, corrected in place: {rows:?}");
    let b = &rows[0].booking;
    assert_eq!((b.patient_id.as_str(), b.time.as_deref()), ("P0100", Some("10:30")));
    assert_eq!(b.numbers.as_ref().map(|n| n.insurer.as_str()), Some("06139992"));
}
