//! The clinic's disk died and the bridge comes back from last night's backup: the terminal
//! (real Chromium, its real IndexedDB) notices that the bridge is behind what it already
//! pulled and sends its own records made since the backup again. Nothing lost, nothing
//! twice.

use e2e::bridge::{free_port, Serve};
use e2e::browser::{bridge_binary, frontend_dist, with_browser};
use e2e::terminal::{data_dir, ledger_tally, open_and_pair, record_without_documents};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_bridge_gets_back_what_the_terminal_made_after_the_backup() {
    let (data, backups, fresh) =
        (data_dir("restore-old"), data_dir("restore-copies"), data_dir("restore-new"));
    let port = free_port();
    let dist = frontend_dist().unwrap_or_else(|e| panic!("{e}"));
    let start = |dir: &std::path::Path| {
        Serve::start(&bridge_binary(), port, dir, &["--frontend", dist.to_str().unwrap()])
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut server = start(&data);
    let mut figures = serde_json::json!({});
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            b.goto(&format!("http://localhost:{port}/#reception")).await?;
            for _ in 0..2 {
                record_without_documents(&b).await?;
            }
            b.wait_text("status-outbox", "未送信 0", 30).await?;
            let printed = server.cli(&["backup", "--to", backups.to_str().unwrap()])?;
            for _ in 0..3 {
                record_without_documents(&b).await?;
            }
            b.wait_text("status-outbox", "未送信 0", 30).await?;
            // The ledger pulled back to this terminal: five receptions.
            tokio::time::sleep(Duration::from_secs(6)).await;
            server.kill();
            let copy = std::fs::read_dir(&backups)
                .map_err(|e| e.to_string())?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("madoguchi-"))
                })
                .ok_or(format!("no backup made: {printed}"))?;
            let restored = std::process::Command::new(bridge_binary())
                .args(["restore", copy.to_str().unwrap(), "--data-dir", fresh.to_str().unwrap()])
                .output()
                .map_err(|e| e.to_string())?;
            if !restored.status.success() {
                return Err(format!(
                    "restore failed: {}",
                    String::from_utf8_lossy(&restored.stdout)
                ));
            }
            server = start(&fresh);
            if ledger_tally(&server).in_ledger != 2 {
                return Err("the backup should hold the first two receptions".into());
            }
            let back = std::time::Instant::now();
            b.wait_text("banner", "復元", 60).await?;
            b.wait_until("the three lost receptions to be back", 60, || async {
                ledger_tally(&server).in_ledger >= 5
            })
            .await?;
            figures["resent_after_s"] = serde_json::json!(back.elapsed().as_secs());
            b.wait_text("status-outbox", "未送信 0", 30).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let tally = ledger_tally(&server);
    assert_eq!((tally.in_ledger, tally.duplicates), (5, 0));
    e2e::report::record("a_restored_bridge_gets_back_what_the_terminal_made", figures);
    drop(server);
    for dir in [data, backups, fresh] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
