//! One policy table for the whole clinic: a terminal paired to a bridge started with an
//! override file decides by the override, and 設定 says which table is in force. The same
//! reception on a bridge without the override decides by the embedded table (the control).
//!
//! Scenarios run one at a time (a process-wide lock): two cores, several Chromiums.

use e2e::bridge::free_port;
use e2e::browser::with_browser;
use e2e::terminal::{data_dir, open_and_pair, screenshots, serve, walk_wizard};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The embedded table with the expired 保険証's transitional window extended to the end of
/// 2027 — a clinic's override (say, after a further extension the table does not know yet).
fn override_file(dir: &std::path::Path) -> std::path::PathBuf {
    let embedded = eligibility::Policy::embedded_text();
    let row =
        "from = \"2025-12-02\"\nuntil = \"2026-07-31\"\nmodes = [\"alone_with_online_by_numbers\"]";
    assert!(embedded.contains(row), "the embedded card row moved");
    let text = embedded.replacen(
        row,
        "from = \"2025-12-02\"\nuntil = \"2027-12-31\"\nmodes = [\"alone_with_online_by_numbers\"]",
        1,
    );
    let path = dir.join("clinic-policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The expired 保険証 through 困ったとき today: the nodes the wizard asked.
async fn expired_card_today(b: &e2e::browser::Browser) -> Result<Vec<String>, String> {
    b.click("nav-fallback").await?;
    b.click("wizard-restart").await?;
    walk_wizard(b, &["health_insurance_card", "confirmed", "neither", "not_known", "no"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_decides_by_the_bridges_override() {
    let _one = ONE_AT_A_TIME.lock().await;
    let today = eligibility::Date::parse("2026-08-01").unwrap();
    let now = e2e::terminal::today_jst();
    assert!(
        now >= today && now <= eligibility::Date::parse("2027-12-31").unwrap(),
        "the scenario assumes a day between the two tables' ends"
    );
    let data = data_dir("policy-override");
    let file = override_file(&data);
    let with_override = serve(free_port(), &data, &["--policy", file.to_str().unwrap()]);
    let plain_data = data_dir("policy-embedded");
    let plain = serve(free_port(), &plain_data, &[]);
    let (mut asked_override, mut asked_plain) = (Vec::new(), Vec::new());
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &with_override, "受付1").await?;
            b.wait_text("policy-source", "上書き clinic-policy.toml", 15).await?;
            b.wait_text("policy-version", "第2版・2026-12-01 確認", 5).await?;
            b.screenshot(&screenshots().join("settings-policy-override.png")).await?;
            asked_override = expired_card_today(&b).await?;
            b.wait_text("wizard-outcome", "書類の番号でオンライン資格確認済み", 10).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &plain, "受付1").await?;
            b.wait_text("policy-source", "組み込み", 15).await?;
            asked_plain = expired_card_today(&b).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    assert!(
        asked_override.contains(&"lookup_by_numbers".to_string()),
        "override: {asked_override:?}"
    );
    assert!(!asked_plain.contains(&"lookup_by_numbers".to_string()), "embedded: {asked_plain:?}");
}
