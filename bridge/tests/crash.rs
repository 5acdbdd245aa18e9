//! `kill -9` of a real `bridge serve` in the middle of pushes: every acknowledged op is
//! there after the restart, and pushing everything again creates no duplicates.

use e2e::bridge::{free_port, http, Serve};
use protocol::{Op, OpResult, PullResponse, PushResponse};
use std::process::Command;
use std::time::Duration;

fn serve(port: u16, data: &std::path::Path) -> Serve {
    Serve::start(std::path::Path::new(env!("CARGO_BIN_EXE_bridge")), port, data, &[])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn op(n: u32) -> Op {
    Op {
        op_id: format!("crash-op-{n:06}"),
        staff: None,
        record_id: format!("rec-{n}"),
        kind: "reception".into(),
        device_time: "2026-11-25T09:00:00+09:00".into(),
        body: serde_json::json!({ "schema": 2, "presented": "myna_card", "established": "online_confirmation", "status": "confirmed", "claim": { "plan": "normal" }, "visit": bridge::clock::today_jst().to_string(), "note": format!("n{n}") }),
    }
}

#[test]
fn kill_9_during_pushes_loses_nothing_acknowledged() {
    let port = free_port();
    let data = std::env::temp_dir().join(format!("madoguchi-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut server = serve(port, &data);
    let token = server.pair("crash").unwrap_or_else(|e| panic!("{e}"));

    // Push batches from a thread; kill -9 the bridge while it runs.
    let pusher = {
        let token = token.clone();
        std::thread::spawn(move || {
            let mut acknowledged = Vec::new();
            for batch in 0..400u32 {
                let ops: Vec<Op> = (0..50).map(|i| op(batch * 50 + i)).collect();
                let body = serde_json::json!({ "ops": ops }).to_string();
                match http(port, "POST", "/api/sync/push", Some(&token), &body) {
                    Ok((200, body)) => {
                        let results = serde_json::from_str::<PushResponse>(&body).unwrap().results;
                        for r in results {
                            if let OpResult::Created { op_id, .. }
                            | OpResult::Duplicate { op_id, .. } = r
                            {
                                acknowledged.push(op_id);
                            }
                        }
                    }
                    _ => return (acknowledged, batch),
                }
            }
            (acknowledged, 400)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    server.kill(); // SIGKILL
    let (acknowledged, stopped_at) = pusher.join().unwrap();
    assert!(
        !acknowledged.is_empty() && stopped_at < 400,
        "the kill landed mid-stream ({} acknowledged)",
        acknowledged.len()
    );

    let mut server = serve(port, &data);
    let pull_all = || {
        let mut after = 0;
        let mut ids = Vec::new();
        loop {
            let (status, body) = http(
                port,
                "GET",
                &format!("/api/sync/pull?after={after}&limit=500"),
                Some(&token),
                "",
            )
            .unwrap();
            assert_eq!(status, 200);
            let page: PullResponse = serde_json::from_str(&body).unwrap();
            ids.extend(page.events.iter().map(|e| e.op_id.clone()));
            after = page.next;
            if !page.more {
                return ids;
            }
        }
    };
    let stored: std::collections::BTreeSet<String> = pull_all().into_iter().collect();
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged {id} lost");
    }
    // The terminal re-pushes everything it had (acknowledged or not): no duplicates.
    for batch in 0..=stopped_at {
        let ops: Vec<Op> = (0..50).map(|i| op(batch * 50 + i)).collect();
        let (status, _) = http(
            port,
            "POST",
            "/api/sync/push",
            Some(&token),
            &serde_json::json!({ "ops": ops }).to_string(),
        )
        .unwrap();
        assert_eq!(status, 200);
    }
    let all = pull_all();
    let distinct: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!(all.len(), distinct.len(), "no duplicates");
    assert_eq!(all.len() as u32, (stopped_at + 1) * 50);
    server.kill();
    // The simulator's events are 練習モード: the receipt computer's export refuses them and
    // says how to see them; `--training` exports every stored op once.
    let today = bridge::clock::today_jst().to_string();
    let refused = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["export", "--data-dir", data.to_str().unwrap(), "--date", &today])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "training events are not exported as real ones");
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("--training") && refused.stdout.is_empty(), "{why}");
    let export = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["export", "--data-dir", data.to_str().unwrap(), "--date", &today, "--training"])
        .output()
        .unwrap();
    assert!(export.status.success());
    let csv = String::from_utf8(export.stdout).unwrap();
    let csv = csv.strip_prefix('\u{feff}').expect("UTF-8 with a BOM");
    assert!(csv.starts_with(&format!("{}\r\n", reception::export::HEADER.join(","))), "{csv:.200}");
    assert_eq!(csv.lines().count() as u32, 1 + (stopped_at + 1) * 50, "one row per reception");
    assert!(csv.contains(",rec-0,"), "the record id is a column");
    let other = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["export", "--data-dir", data.to_str().unwrap(), "--date", "2000-01-01"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(other.stdout).unwrap().lines().count(), 1, "header only");
    let _ = std::fs::remove_dir_all(&data);
}
