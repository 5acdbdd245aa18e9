//! Steps scenarios share: a bridge serving the built terminal, pairing through 設定, the
//! fallback wizard, the bridge's ledger as seen by a checker terminal.

use crate::bridge::{http, Serve};
use crate::browser::{bridge_binary, frontend_dist, Browser};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

/// Where scenarios leave screenshots (git-ignored).
pub fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../screenshots")
}

/// Today in Japan from the system clock (a clock before 1970 reads as 1970-01-01).
pub fn today_jst() -> eligibility::Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    eligibility::Date::from_day_number((secs + 9 * 3600).div_euclid(86_400))
        .or_else(|| eligibility::Date::from_day_number(0))
        .unwrap_or_else(|| unreachable!("1970-01-01 is a valid date"))
}

/// A fresh data directory for a scenario.
pub fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("madoguchi-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `bridge serve` with the built frontend.
pub fn serve(port: u16, data: &Path, extra: &[&str]) -> Serve {
    let dist = frontend_dist().unwrap_or_else(|e| panic!("{e}"));
    let mut args = vec!["--frontend", dist.to_str().unwrap()];
    args.extend_from_slice(extra);
    // The folder gateway is a real clinic's path: it needs the clinic's 医療機関コード.
    if extra.contains(&"folder") && !extra.contains(&"--institution-code") {
        args.extend_from_slice(&["--institution-code", "1312345678"]);
    }
    Serve::start(&bridge_binary(), port, data, &args).unwrap_or_else(|e| panic!("{e}"))
}

/// Opens the terminal and pairs it through 設定 with a fresh code.
pub async fn open_and_pair(b: &Browser, serve: &Serve, name: &str) -> Result<(), String> {
    b.goto(&format!("http://localhost:{}/office.html#settings", serve.port)).await?;
    b.find("page-settings", 20).await?;
    let code = serve.pairing_code()?;
    b.type_into("pair-code", &code).await?;
    b.type_into("pair-name", name).await?;
    b.click("pair").await?;
    b.wait_text("pairing-state", "ペアリング済み", 10).await?;
    b.wait_text("status-bridge", "bridge up", 15).await?;
    // A tab to the counter is a page load (another bundle): with the bridge down, only the
    // service worker's cache has it, and the worker registers a moment after the first
    // screen. A terminal that has been open a moment has it; so does every scenario.
    b.wait_until("the service worker to control the page", 30, || async {
        b.js("return !!navigator.serviceWorker.controller").await.ok()
            == Some(serde_json::json!(true))
    })
    .await
}

/// A child process killed on drop (the folder peer).
#[derive(Debug)]
pub struct Peer(pub Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every event in the bridge's ledger, typed, in seq order (through a checker terminal).
pub fn ledger(serve: &Serve) -> Vec<protocol::StoredEvent> {
    let token = serve.pair("e2e-checker").unwrap_or_else(|e| panic!("{e}"));
    let (mut events, mut after) = (Vec::new(), 0);
    loop {
        let path = format!("/api/sync/pull?after={after}&limit=500");
        let (status, body) = http(serve.port, "GET", &path, Some(&token), "").unwrap();
        assert_eq!(status, 200, "{body}");
        let page: protocol::PullResponse = serde_json::from_str(&body).unwrap();
        events.extend(page.events);
        if !page.more {
            return events;
        }
        after = page.next;
    }
}

/// The bridge's records, each folded with its life (`reception::life`).
pub fn records(serve: &Serve) -> Vec<reception::life::RecordState> {
    let (records, unreadable) = reception::life::fold(&ledger(serve));
    assert!(unreadable.is_empty(), "unreadable ledger events: {unreadable:?}");
    records
}

/// The bridge's reception events as JSON, in ledger order.
pub fn ledger_events(serve: &Serve) -> Vec<serde_json::Value> {
    ledger(serve)
        .into_iter()
        .filter(|e| e.kind == "reception")
        .map(|e| serde_json::to_value(e).unwrap_or_default())
        .collect()
}

/// Reception events in the bridge's ledger, by record id.
pub fn ledger_receptions(serve: &Serve) -> Vec<String> {
    ledger_events(serve).iter().map(|e| e["record_id"].as_str().unwrap().to_string()).collect()
}

/// Clicks through the wizard preferring these answers, until an outcome; returns the
/// questions asked (node ids), so a scenario can tell which facts the terminal derived.
/// `node=value` applies at that question only (`claim_past=yes` before a general `no`).
pub async fn walk_wizard(b: &Browser, prefer: &[&str]) -> Result<Vec<String>, String> {
    let mut asked = Vec::new();
    for _ in 0..20 {
        if b.count("wizard-outcome").await > 0 {
            return Ok(asked);
        }
        b.find("wizard-question", 10).await?;
        let node = b
            .js("return document.querySelector('[data-testid=wizard-question]')?.dataset.node")
            .await?;
        asked.push(node.as_str().unwrap_or_default().to_string());
        let mut clicked = false;
        let here = asked.last().map(String::as_str).unwrap_or("");
        for entry in prefer {
            let value = match entry.split_once('=') {
                Some((node, value)) if node == here => value,
                Some(_) => continue,
                None => entry,
            };
            let id = format!("answer-{value}");
            if b.count(&id).await > 0 {
                b.click(&id).await?;
                clicked = true;
                break;
            }
        }
        if !clicked {
            return Err(format!("no preferred answer at {asked:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the wizard did not end".into())
}

/// The reception for a patient with nothing: the wizard to the 申立書, recorded.
pub async fn record_without_documents(b: &Browser) -> Result<(), String> {
    b.click("nav-fallback").await?;
    b.click("wizard-restart").await?;
    walk_wizard(b, &["nothing", "neither", "not_known", "no"]).await?;
    b.click("wizard-record").await?;
    b.wait_text("recorded", "受付済", 10).await
}

/// Types `pin` on the on-screen pad, key by key (as a receptionist's patient would).
pub async fn enter_pin(b: &Browser, pin: &str) -> Result<(), String> {
    for d in pin.chars() {
        b.click(&format!("pin-key-{d}")).await?;
    }
    Ok(())
}

/// Receptions in the bridge's ledger: how many rows, and how many of them repeat a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub in_ledger: usize,
    pub duplicates: usize,
}

/// Counts the bridge's reception rows and duplicates (by record id).
pub fn ledger_tally(serve: &Serve) -> Tally {
    let ids = ledger_receptions(serve);
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    Tally { in_ledger: ids.len(), duplicates: ids.len() - distinct.len() }
}

/// A simulated person's document numbers, as the bridge's simulator knows them
/// (`bridge oqs numbers --person ID`: insurer, symbol, number, branch, birth).
pub fn numbers_of(person: &str) -> serde_json::Value {
    let out = std::process::Command::new(bridge_binary())
        .args(["oqs", "numbers", "--person", person])
        .output()
        .unwrap_or_else(|e| panic!("bridge oqs numbers: {e}"));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// 番号入力: types a document's numbers and looks them up (the result card or a message
/// follows).
pub async fn look_up_numbers(b: &Browser, q: &serde_json::Value) -> Result<(), String> {
    b.click("nav-numbers").await?;
    // From another bundle (困ったとき, the office) this is a page load: type once the screen
    // is up and the terminal has started.
    b.find("page-numbers", 20).await?;
    b.wait_text("status-bridge", "bridge up", 20).await?;
    for field in ["insurer", "symbol", "number", "branch", "birth"] {
        b.type_into(field, q[field].as_str().unwrap_or("")).await?;
    }
    b.click("lookup").await
}

/// The production path's shared folder (`req/ res/ face/` under `DATA/share`) with the
/// 資格確認端末's stand-in answering in it (`bridge oqs sim --folder`), killed on drop.
pub fn folder_peer(data: &Path) -> (Peer, PathBuf) {
    let share = data.join("share");
    for d in ["req", "res", "face"] {
        std::fs::create_dir_all(share.join(d)).unwrap();
    }
    let peer = Peer(
        std::process::Command::new(bridge_binary())
            .args(["oqs", "sim", "--folder"])
            .arg(&share)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("bridge oqs sim: {e}")),
    );
    (peer, share)
}

/// The patient taps `person`'s card on the face-auth reader (a result file in `face/`).
pub fn tap(share: &Path, person: &str) -> Result<(), String> {
    let out = std::process::Command::new(bridge_binary())
        .args(["oqs", "tap", "--person", person, "--folder"])
        .arg(share)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("tap failed: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// 受付 → マイナ保険証 → カードを確認: the own reader's `check` (tries and certificate follow).
pub async fn check_card(b: &Browser) -> Result<(), String> {
    b.click("nav-reception").await?;
    b.click("method-card").await?;
    b.click("check-card").await
}

/// 本日の受付 until the newest row says 送信済 (the reception reached the bridge).
pub async fn wait_sent(b: &Browser) -> Result<(), String> {
    b.click("nav-ledger").await?;
    b.wait_text("ledger-sync", "送信済", 30).await
}
