//! Tomorrow's patients confirmed tonight, seen at the counter the next morning: bookings
//! imported and pre-confirmed by `bridge bulk run` through the folder peer, then the
//! built terminal in headless Chromium against `bridge serve` on the same folder.

use e2e::bridge::free_port;
use e2e::browser::{bridge_binary, with_browser};
use e2e::terminal::{data_dir, folder_peer, numbers_of, open_and_pair, screenshots, serve, tap};
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
/// lists both with the evening's state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booked_patients_are_matched_and_a_changed_insurance_is_flagged() {
    let data = data_dir("bookings");
    let (_peer, share) = folder_peer(&data);
    let today = numbers_of("yamada")["visit"].as_str().unwrap().to_string();
    let csv = format!(
        "date,time,patient_id,kana,name,birth,insurer,symbol,number,branch\n{}{}",
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
            b.click("nav-ledger").await?;
            b.wait_until("two bookings", 20, || async { b.count("booking-row").await == 2 }).await?;
            let states = b.js("return [...document.querySelectorAll('[data-testid=booking-state]')].map(e => e.textContent).join(' | ')").await?;
            let states = states.to_string();
            if !(states.contains("前日確認：有効") && states.contains("新しい資格あり")) {
                return Err(format!("本日の予約 states: {states}"));
            }
            b.screenshot(&screenshots().join("ledger-bookings.png")).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
}
