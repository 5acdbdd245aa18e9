//! Invitations (声かけ, issue 18): a patient received with a 資格確認書 is invited to use the
//! マイナ保険証 next time — one tap on 受付, carried by the reception recorded next — and
//! comes back the next day with the card at the face-auth reader; 利用状況 counts the
//! invitation, the patient seen again and the return with the card. "Yesterday" is a
//! second Chromium whose clock stand-in runs one day behind, on the same real bridge.

use e2e::bridge::free_port;
use e2e::browser::Browser;
use e2e::terminal::{
    data_dir, folder_peer, look_up_numbers, numbers_of, open_and_pair, screenshots, serve, tap,
    today_jst, wait_sent,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_yesterday_and_the_return_with_the_card_today_count_in_usage() {
    let data = data_dir("patient-side");
    let (_peer, share) = folder_peer(&data);
    let server =
        serve(free_port(), &data, &["--gateway", "folder", "--folder", share.to_str().unwrap()]);
    let yesterday = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let today = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let result = async {
        yesterday
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                serde_json::json!({ "source": include_str!("../src/clock_standin.js") }),
            )
            .await?;
        // Yesterday: 山田 shows a 資格確認書; the receptionist invites them, then looks up
        // the numbers and records the visit.
        open_and_pair(&yesterday, &server, "受付1").await?;
        yesterday.click("nav-reception").await?;
        yesterday.click("method-certificate").await?;
        yesterday.click("invite").await?;
        yesterday.wait_text("invite", "声かけしました", 5).await?;
        look_up_numbers(&yesterday, &numbers_of("yamada")).await?;
        yesterday.wait_text("result-headline", "資格を確認しました", 30).await?;
        yesterday.click("record-visit").await?;
        yesterday.wait_text("recorded", "受付済", 10).await?;
        wait_sent(&yesterday).await?;

        // Today: 山田 uses the card at the face-auth reader.
        open_and_pair(&today, &server, "受付2").await?;
        today.click("nav-reception").await?;
        tap(&share, "yamada")?;
        today.click("face-record").await?;
        today.wait_text("recorded", "受付済", 10).await?;
        wait_sent(&today).await?;

        today.goto(&format!("http://localhost:{}/office.html#usage", server.port)).await?;
        today.find("usage-patient-side", 20).await?;
        // The invitation counts in its own month (yesterday may be last month's last day).
        let t = today_jst();
        let y = eligibility::Date::from_day_number(t.day_number() - 1).ok_or("no yesterday")?;
        let invited = if y.year_month() == t.year_month() { "1 人" } else { "0 人" };
        today.wait_text("usage-invited", invited, 20).await?;
        today.wait_text("usage-seen-again", "1 人", 20).await?;
        today.wait_text("usage-returned", "1 人", 20).await?;
        today
            .js("document.querySelector('[data-testid=usage-patient-side]').scrollIntoView({block: 'center'}); return true")
            .await?;
        today.screenshot(&screenshots().join("usage-patient-side.png")).await?;
        Ok::<(), String>(())
    }
    .await;
    yesterday.close().await;
    today.close().await;
    if let Err(e) = result {
        panic!("{e}");
    }
}
