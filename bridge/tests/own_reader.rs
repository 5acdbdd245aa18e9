//! The bridge's own reader over the WebSocket, on the real PC/SC stack (pcscd + vpcd + the
//! virtual card), with every log on:
//! - with the simulator (training) the full path runs: check, PIN, confirmation;
//! - with the folder gateway (the production path) a hand-made `confirm_card` is refused
//!   before any APDU is sent — the card's trace shows no VERIFY — and no challenge is
//!   issued to a page that would VERIFY on its own reader;
//! - no log line at trace level and no byte of the store holds the PIN.

use bridge::gateway::folder::{FolderConfig, FolderGateway};
use bridge::gateway::sim::{Sim, SimGateway};
use bridge::gateway::Backend;
use bridge::server::{routes, Allowed, AppState};
use bridge::store::Store;
use e2e::logs::Capture;
use e2e::pcsc::Pcsc;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const HOST: &str = "localhost:8443";
const ORIGIN: &str = "https://localhost:8443";
/// The virtual card's 利用者証明用 PIN.
const PIN: &str = "1234";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "madoguchi-own-reader-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn paired_socket(s: &AppState) -> warp::test::WsClient {
    let code = s.store.new_pairing_code(300).unwrap();
    let (_, token) = s.store.pair(&code, "受付1").unwrap().unwrap();
    let mut ws = warp::test::ws()
        .path("/ws")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .handshake(routes(s.clone()))
        .await
        .unwrap();
    ws.send_text(
        serde_json::json!({ "v": 1, "id": "h", "kind": "hello", "token": token }).to_string(),
    )
    .await;
    let welcome = next_reply(&mut ws, "h").await;
    assert_eq!(welcome["kind"], "welcome");
    ws
}

/// The reply to request `id` (pushed events in between are skipped).
async fn next_reply(ws: &mut warp::test::WsClient, id: &str) -> serde_json::Value {
    loop {
        let m = tokio::time::timeout(std::time::Duration::from_secs(60), ws.recv())
            .await
            .expect("a reply in time")
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(m.to_str().unwrap()).unwrap();
        if v["in_reply_to"] == id {
            return v;
        }
    }
}

async fn ask(
    ws: &mut warp::test::WsClient,
    id: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let mut body = body;
    body["v"] = 1.into();
    body["id"] = id.into();
    ws.send_text(body.to_string()).await;
    next_reply(ws, id).await
}

fn verify_lines(logs: &str) -> usize {
    logs.lines().filter(|l| l.contains("apdu=00 20 ")).count()
}

/// Every byte of the store's files (the database, its WAL).
fn store_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        all.extend(std::fs::read(entry.path()).unwrap_or_default());
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_own_reader_confirms_only_where_it_can_and_the_pin_reaches_no_log() {
    let capture = Capture::default();
    let writer = capture.clone();
    // `RUST_LOG=trace`, as an operator chasing a problem would set it: every target at trace,
    // and the payload caps must still apply. (Set before the subscriber reads it; this test
    // binary has no other thread yet.)
    std::env::set_var("RUST_LOG", "trace");
    bridge::card::logging::init_with_writer("warn", move || writer.clone());
    let _pcsc = Pcsc::start(env!("CARGO_BIN_EXE_bridge"), "yamada", &["--today", "20261125"]);

    // Training: the simulator confirms the card, after a VERIFY.
    let sim_dir = temp_dir("sim");
    let sim = AppState::new(
        Store::open(&sim_dir.join("s.sqlite3")).unwrap(),
        Arc::new(SimGateway::new(Arc::new(Sim::new(bridge::clock::today_jst()))).into()),
        Allowed::for_port(8443, &[]),
    );
    let mut ws = paired_socket(&sim).await;
    let check =
        ask(&mut ws, "c1", serde_json::json!({ "kind": "check_card", "reader": null })).await;
    assert_eq!(check["kind"], "card_result", "{check}");
    let confirmed = ask(
        &mut ws,
        "k1",
        serde_json::json!({ "kind": "confirm_card", "reader": null, "pin": PIN, "staff_confirmed_last_try": false }),
    )
    .await;
    assert_eq!(confirmed["kind"], "card_result", "{confirmed}");
    let after_training = capture.text();
    assert!(
        verify_lines(&after_training) >= 1,
        "the training path sends VERIFY:\n{after_training}"
    );

    // Production: the folder gateway cannot confirm a card from this reader.
    let share = temp_dir("share");
    bridge::gateway::peer::prepare(&share).unwrap();
    let folder_dir = temp_dir("folder");
    let mut config = FolderConfig::new(&share);
    config.data_dir = Some(folder_dir.clone());
    let folder = AppState::new(
        Store::open(&folder_dir.join("s.sqlite3")).unwrap(),
        Arc::new(Backend::Folder(FolderGateway::start(config).unwrap())),
        Allowed::for_port(8443, &[]),
    );
    let mut ws = paired_socket(&folder).await;
    // The pre-check still reads the card (holder, expiry, tries left) without a PIN.
    let check =
        ask(&mut ws, "c2", serde_json::json!({ "kind": "check_card", "reader": null })).await;
    assert_eq!(check["kind"], "card_result", "{check}");
    let before = verify_lines(&capture.text());
    let refused = ask(
        &mut ws,
        "k2",
        serde_json::json!({ "kind": "confirm_card", "reader": null, "pin": PIN, "staff_confirmed_last_try": false }),
    )
    .await;
    assert_eq!(
        (refused["kind"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("cannot_confirm_card")),
        "{refused}"
    );
    assert!(refused["message"].as_str().unwrap().contains("顔認証付きカードリーダー"));
    let challenge = ask(&mut ws, "ch", serde_json::json!({ "kind": "challenge" })).await;
    assert_eq!(challenge["code"], "cannot_confirm_card", "no challenge for a page reader either");
    // Nothing reached the card: no VERIFY, and the tries left are what they were.
    let logs = capture.text();
    assert_eq!(verify_lines(&logs), before, "a VERIFY was sent after the refusal:\n{logs}");
    let again =
        ask(&mut ws, "c3", serde_json::json!({ "kind": "check_card", "reader": null })).await;
    assert_eq!(again["body"]["auth_pin"], check["body"]["auth_pin"], "no PIN try spent");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(folder.store.audit_count("confirm_card_refused").unwrap(), 2);

    // The PIN is in no log line at any level …
    let logs = capture.text();
    assert!(logs.contains("TRACE"), "trace level was on");
    for secret in [
        format!("\"{PIN}\""),
        format!("pin\":\"{PIN}"),
        "31 32 33 34".to_string(),
        "31323334".to_string(),
        "[49, 50, 51, 52]".to_string(),
    ] {
        assert!(!logs.contains(&secret), "a log line contains {secret:?}:\n{logs}");
    }
    assert!(!logs.contains("tungstenite"), "no WebSocket frame is traced:\n{logs}");
    // … nor in either store.
    for dir in [&sim_dir, &folder_dir] {
        let bytes = store_bytes(dir);
        assert!(!contains(&bytes, b"\"pin\""), "a store holds a PIN field");
        assert!(!contains(&bytes, format!("\"{PIN}\"").as_bytes()), "a store holds the PIN");
    }
}
