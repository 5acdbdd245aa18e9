//! Sync ingest (ops/s in batches of 100, SQLite with synchronous=FULL, one transaction per
//! batch), and the `bridge serve` process's cold start and idle RSS. Run with
//! `cargo xtask bench`.

use bridge::store::Store;
use protocol::Op;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let dir = std::env::temp_dir().join(format!("madoguchi-sync-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let store = Store::open(&dir.join("bench.sqlite3")).expect("store");
    let batches = 100u32;
    let started = Instant::now();
    for b in 0..batches {
        let ops: Vec<Op> = (0..100)
            .map(|i| Op {
                op_id: format!("bench-{b:04}-{i:03}"),
                staff: None,
                record_id: format!("rec-{b}-{i}"),
                kind: "reception".into(),
                device_time: "2026-11-25T09:00:00+09:00".into(),
                body: serde_json::json!({ "schema": 2, "presented": "myna_card", "established": "online_confirmation", "status": "confirmed", "claim": { "plan": "normal" }, "visit": "2026-11-25", "outcome": "online_confirmed", "note": format!("n{i}") }),
            })
            .collect();
        store.push("bench-device", &ops).expect("push");
    }
    let elapsed = started.elapsed();
    let ops = f64::from(batches * 100);
    println!(
        "\nsync ingest: {} ops in batches of 100 → {:.0} ops/s ({:.2} ms per batch)",
        ops,
        ops / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / f64::from(batches)
    );

    // Cold start to the first answered /health, and the idle RSS after it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args([
            "serve",
            "--port",
            &port.to_string(),
            "--data-dir",
            dir.join("serve").to_str().expect("utf-8"),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("bridge serve");
    let cold = loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = write!(
                s,
                "GET /health HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
            );
            let mut r = String::new();
            if s.read_to_string(&mut r).is_ok() && r.starts_with("HTTP/1.1 200") {
                break started.elapsed();
            }
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no /health within 20 s");
        std::thread::sleep(Duration::from_millis(5));
    };
    std::thread::sleep(Duration::from_secs(2));
    let rss = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0);
    println!("bridge serve: cold start to /health {:.0} ms (first start: creates its CA and leaf); idle RSS {:.1} MB", cold.as_secs_f64() * 1000.0, rss / 1024.0);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
