//! The production path as processes: `bridge serve` configured by `bridge.toml` for the
//! folder gateway, and `bridge oqs sim` playing the 連携アプリケーション on the same
//! folder. A lookup goes through real `req/`/`res/` files; a reception recorded while the
//! peer is down is followed up on its own once the peer runs.

use e2e::bridge::{free_port, http, Serve};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bridge");

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peer(folder: &Path) -> Peer {
    Peer(
        Command::new(BIN)
            .args(["oqs", "sim", "--folder", folder.to_str().unwrap()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn folder_gateway_by_config_file_with_automatic_follow_up() {
    let root = std::env::temp_dir().join(format!("madoguchi-serve-folder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (data, share) = (root.join("data"), root.join("share"));
    for d in ["req", "res", "face"] {
        std::fs::create_dir_all(share.join(d)).unwrap();
    }
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("bridge.toml"),
        format!(
            "gateway = \"folder\"\nfolder = {:?}\nmedical_institution_code = \"1312345678\"\nlookup_timeout_s = 3\nfollow_up_interval_s = 1\n",
            share.to_str().unwrap()
        ),
    )
    .unwrap();
    let port = free_port();
    let serve = Serve::start(Path::new(BIN), port, &data, &[]).unwrap_or_else(|e| panic!("{e}"));
    let (_, health) = http(port, "GET", "/health", None, "").unwrap();
    assert_eq!(json(&health)["gateway"]["backend"], "folder", "{health}");
    let token = serve.pair("受付1").unwrap();

    // Numbers of a simulated person the peer will know.
    let today = bridge::clock::today_jst();
    let sim = bridge::gateway::sim::Sim::new(today);
    let query = sim.person("yamada").and_then(|p| p.query(today)).expect("yamada has numbers");
    let wire = serde_json::to_string(&query.to_wire()).unwrap();

    // No peer yet: the lookup times out with the outage code; the terminal records the
    // reception with its numbers for 事後確認.
    let (status, body) = http(port, "POST", "/api/lookup", Some(&token), &wire).unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(json(&body)["error"], "gateway_unavailable");
    let op = serde_json::json!({ "ops": [{
        "op_id": "serve-folder-op-1", "record_id": "serve-folder-rec-1", "kind": "reception",
        "device_time": "2026-11-26T09:00:00+09:00",
        "body": { "schema": 2, "presented": "eligibility_certificate", "established": "eligibility_certificate", "status": "follow_up_pending", "claim": { "plan": "after_follow_up" }, "visit": "2026-11-26", "follow_up": query.to_wire() }
    }]});
    let (status, body) =
        http(port, "POST", "/api/sync/push", Some(&token), &op.to_string()).unwrap();
    assert_eq!(status, 200, "{body}");

    // The peer comes up: the lookup answers through the files, and the follow-up runs by
    // itself within a few intervals.
    let _peer = peer(&share);
    let (status, body) = http(port, "POST", "/api/lookup", Some(&token), &wire).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["interpretation"]["status"]["status"], "confirmed", "{body}");
    // Our answer is taken out of res/; nothing of ours is created in the share.
    let mut entries: Vec<String> = std::fs::read_dir(&share)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".sim-faults.json")
        .collect();
    entries.sort();
    assert_eq!(entries, ["face", "req", "res"]);

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) =
            http(port, "GET", "/api/sync/pull?after=0&limit=500", Some(&token), "").unwrap();
        let events = json(&body)["events"].as_array().cloned().unwrap_or_default();
        if let Some(result) = events.iter().find(|e| e["kind"] == "follow_up_result") {
            assert_eq!(result["record_id"], "serve-folder-rec-1");
            assert_eq!(result["body"]["state"], "done", "{result}");
            assert_eq!(result["body"]["result"]["interpretation"]["status"]["status"], "confirmed");
            break;
        }
        assert!(Instant::now() < deadline, "no follow-up result: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, health) = http(port, "GET", "/health", None, "").unwrap();
    assert!(json(&health)["store"]["oldest_pending_follow_up"].is_null(), "{health}");
    drop(serve);
    let _ = std::fs::remove_dir_all(&root);
}

/// Five face results wait in `face/` when the bridge starts: all five are stored and
/// offered as open results (a terminal connecting later gets them), a restart repeats
/// none, and every file is still there, byte-identical, with its modification time.
#[test]
fn face_files_waiting_at_start_are_offered_and_left_untouched() {
    let root = std::env::temp_dir().join(format!("madoguchi-serve-face-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (data, share) = (root.join("data"), root.join("share"));
    bridge::gateway::peer::prepare(&share).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let today = bridge::clock::today_jst();
    let sim = bridge::gateway::sim::Sim::new(today);
    for n in 0..5 {
        bridge::gateway::peer::tap(&share, &sim, &format!("p{:03}", 20 + n), today).unwrap();
    }
    let snapshot = || -> std::collections::BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
        std::fs::read_dir(share.join("face"))
            .unwrap()
            .flatten()
            .map(|e| {
                let modified = e.metadata().unwrap().modified().unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    (std::fs::read(e.path()).unwrap(), modified),
                )
            })
            .collect()
    };
    let before = snapshot();
    assert_eq!(before.len(), 5);
    std::fs::write(
        data.join("bridge.toml"),
        format!(
            "gateway = \"folder\"\nfolder = {:?}\nmedical_institution_code = \"1312345678\"\n",
            share.to_str().unwrap()
        ),
    )
    .unwrap();
    let open_results = |port: u16, token: &str| -> usize {
        let (status, body) =
            http(port, "POST", "/api/face-results/open", Some(token), "{}").unwrap();
        assert_eq!(status, 200, "{body}");
        json(&body)["events"].as_array().unwrap().len()
    };
    let port = free_port();
    let serve = Serve::start(Path::new(BIN), port, &data, &[]).unwrap_or_else(|e| panic!("{e}"));
    let token = serve.pair("受付1").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while open_results(port, &token) < 5 {
        assert!(Instant::now() < deadline, "the five waiting results were not offered");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, health) = http(port, "GET", "/health", None, "").unwrap();
    assert_eq!(json(&health)["gateway"]["face_files_read"], 5, "{health}");
    drop(serve);
    // Restarted: the store remembers them; nothing is stored twice.
    let port = free_port();
    let serve = Serve::start(Path::new(BIN), port, &data, &[]).unwrap_or_else(|e| panic!("{e}"));
    let token = serve.pair("受付2").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(open_results(port, &token), 5);
    let (_, body) =
        http(port, "GET", "/api/sync/pull?after=0&limit=500", Some(&token), "").unwrap();
    let faces = json(&body)["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "face_result")
        .count();
    assert_eq!(faces, 5, "one stored result per file");
    drop(serve);
    assert_eq!(snapshot(), before, "face/ is read-only to the bridge");
    let _ = std::fs::remove_dir_all(&root);
}
