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
    Serve::start(&bridge_binary(), port, data, &args).unwrap_or_else(|e| panic!("{e}"))
}

/// Opens the terminal and pairs it through 設定 with a fresh code.
pub async fn open_and_pair(b: &Browser, serve: &Serve, name: &str) -> Result<(), String> {
    b.goto(&format!("http://localhost:{}/#settings", serve.port)).await?;
    b.find("page-settings", 20).await?;
    let code = serve.pairing_code()?;
    b.type_into("pair-code", &code).await?;
    b.type_into("pair-name", name).await?;
    b.click("pair").await?;
    b.wait_text("pairing-state", "ペアリング済み", 10).await?;
    b.wait_text("status-bridge", "bridge up", 15).await
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

/// Reception events in the bridge's ledger, by record id.
pub fn ledger_receptions(serve: &Serve) -> Vec<String> {
    let token = serve.pair("e2e-checker").unwrap_or_else(|e| panic!("{e}"));
    let (status, body) =
        http(serve.port, "GET", "/api/sync/pull?after=0&limit=500", Some(&token), "").unwrap();
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reception")
        .map(|e| e["record_id"].as_str().unwrap().to_string())
        .collect()
}

/// Clicks through the wizard preferring these answers, until an outcome.
pub async fn walk_wizard(b: &Browser, prefer: &[&str]) -> Result<(), String> {
    for _ in 0..20 {
        if b.count("wizard-outcome").await > 0 {
            return Ok(());
        }
        b.find("wizard-question", 10).await?;
        let mut clicked = false;
        for value in prefer {
            let id = format!("answer-{value}");
            if b.count(&id).await > 0 {
                b.click(&id).await?;
                clicked = true;
                break;
            }
        }
        if !clicked {
            let node = b
                .js("return document.querySelector('[data-testid=wizard-question]').dataset.node")
                .await?;
            return Err(format!("no preferred answer at {node}"));
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
