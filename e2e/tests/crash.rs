//! Crashes around the outbox (issue 7): the bridge killed with SIGKILL while a terminal's
//! push lands, and the page reloaded in the middle of writing a reception. Afterwards the
//! ledger holds every reception the terminal kept, once.

use e2e::bridge::{free_port, http, Serve};
use e2e::browser::{with_browser, Browser};
use e2e::terminal::{
    data_dir, ledger_tally, open_and_pair, record_without_documents, serve, walk_wizard, Tally,
};
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Reception rows in the ledger, through a checker's token (no pairing: it must work on a
/// bridge that just restarted).
fn receptions_in_ledger(port: u16, token: &str) -> Option<usize> {
    let (status, body) =
        http(port, "GET", "/api/sync/pull?after=0&limit=500", Some(token), "").ok()?;
    if status != 200 {
        return None;
    }
    Some(body.matches("\"kind\":\"reception\"").count())
}

/// The terminal's unsent rows, as its status bar says (`未送信 N`).
async fn unsent(b: &Browser) -> Option<usize> {
    let text = b.text("status-outbox").await;
    text.split("未送信").nth(1)?.split_whitespace().next()?.parse().ok()
}

/// Six times: receptions wait in the outbox while the bridge is down; the bridge comes
/// back; the moment the first of them is committed in its store, it is killed with
/// SIGKILL. The terminal cannot tell which rows landed; it resends, and the bridge's
/// op-id uniqueness keeps each reception once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_killed_while_a_push_lands_loses_and_duplicates_nothing() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("crash-push");
    let port = free_port();
    let mut server = serve(port, &data, &[]);
    let checker = server.pair("e2e-checker").unwrap();
    let mut created = 0;
    let mut kills = Vec::new();
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            for cycle in 0..6 {
                server.kill();
                for _ in 0..(3 + cycle) {
                    record_without_documents(&b).await?;
                    created += 1;
                }
                b.wait_until("rows waiting", 10, || async { unsent(&b).await > Some(0) })
                    .await?;
                let landed_before = created - unsent(&b).await.unwrap_or(0);
                server = serve(port, &data, &[]);
                let restarted = Instant::now();
                // The terminal reconnects within its health interval and drains.
                let deadline = restarted + Duration::from_secs(30);
                let mut in_ledger = receptions_in_ledger(port, &checker).unwrap_or(0);
                while in_ledger <= landed_before && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                    in_ledger = receptions_in_ledger(port, &checker).unwrap_or(in_ledger);
                }
                let landed = (in_ledger > landed_before)
                    .then(|| restarted.elapsed().as_millis() as u64);
                server.kill();
                // Committed but not acknowledged: rows the terminal will send again (its
                // status bar may lag a moment; the figure is an upper bound).
                tokio::time::sleep(Duration::from_millis(300)).await;
                let waiting = unsent(&b).await.unwrap_or(0);
                let unacked = (in_ledger + waiting).saturating_sub(created);
                kills.push(serde_json::json!({ "cycle": cycle, "landed_ms_after_restart": landed, "in_ledger_at_kill": in_ledger, "terminal_unsent_after": waiting, "committed_but_unacknowledged": unacked }));
            }
            server = serve(port, &data, &[]);
            b.wait_text("status-outbox", "未送信 0", 60).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let tally = ledger_tally(&server);
    let unacked: u64 =
        kills.iter().map(|k| k["committed_but_unacknowledged"].as_u64().unwrap_or(0)).sum();
    e2e::report::record(
        "the_bridge_killed_while_a_push_lands_loses_and_duplicates_nothing",
        serde_json::json!({ "kills": kills.len(), "receptions_created": created, "in_ledger": tally.in_ledger, "duplicates": tally.duplicates, "committed_but_unacknowledged_at_kills": unacked, "per_kill": kills }),
    );
    assert_eq!(tally, Tally { in_ledger: created, duplicates: 0 });
}

/// How many receptions this page's IndexedDB holds.
async fn kept_locally(b: &Browser) -> Result<u64, String> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open("madoguchi");
        open.onerror = () => done(-1);
        open.onsuccess = () => {
            const db = open.result;
            const count = db.transaction("receptions").objectStore("receptions").count();
            count.onsuccess = () => { done(count.result); db.close(); };
            count.onerror = () => done(-1);
        };"#;
    let n = b.client().execute_async(script, vec![]).await.map_err(|e| e.to_string())?;
    n.as_u64().ok_or_else(|| format!("cannot count the page's receptions: {n}"))
}

/// Twenty times: 記録 is pressed and the page reloads a few milliseconds later, in the
/// middle of the IndexedDB write. A reception is kept whole (with its outbox row) or not
/// at all; what the page kept (reported as the receptions created) reaches the ledger once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_in_the_middle_of_an_outbox_write_keeps_receptions_whole() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("crash-reload");
    let server: Serve = serve(free_port(), &data, &[]);
    let reloads = 20u64;
    let mut kept = 0;
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            for i in 0..reloads {
                b.click("nav-fallback").await?;
                b.click("wizard-restart").await?;
                walk_wizard(&b, &["nothing", "neither", "not_known", "no"]).await?;
                // Press 記録 and reload 0–9 ms later, from inside the page (no round trip).
                let delay = i % 10;
                b.js(&format!(
                    "window.__beforeReload = true; document.querySelector('[data-testid=wizard-record]').click(); setTimeout(() => location.reload(), {delay}); return true"
                ))
                .await?;
                b.wait_until("the reloaded page", 20, || async {
                    b.js("return !window.__beforeReload && !!document.querySelector('[data-testid=page-fallback]')")
                        .await
                        .is_ok_and(|v| v == serde_json::json!(true))
                })
                .await?;
                b.wait_text("status-bridge", "bridge up", 20).await?;
            }
            b.wait_text("status-outbox", "未送信 0", 60).await?;
            kept = kept_locally(&b).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let tally = ledger_tally(&server);
    e2e::report::record(
        "a_reload_in_the_middle_of_an_outbox_write_keeps_receptions_whole",
        serde_json::json!({ "reloads": reloads, "receptions_created": kept, "in_ledger": tally.in_ledger, "duplicates": tally.duplicates }),
    );
    assert_eq!(tally, Tally { in_ledger: kept as usize, duplicates: 0 });
}
