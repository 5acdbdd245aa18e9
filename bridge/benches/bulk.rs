//! The evening's 一括照会 for a large clinic's day: 5,000 bookings imported from CSV, then
//! `bridge bulk run` through real `req/`/`res/` files with `bridge oqs sim --folder`
//! answering (an upload, one 処理中, a ZIP download of ~5,000 units). Prints the wall time
//! of each step and the bulk run's peak memory (VmHWM, read while it runs). Run with
//! `cargo xtask bench`.

use bridge::gateway::peer::{faults_file, set_faults};
use bridge::gateway::sim::{Faults, Sim};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bridge");
const BOOKINGS: usize = 5_000;

fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn csv(date: eligibility::Date) -> String {
    let sim = Sim::new(bridge::clock::today_jst());
    let mut text =
        String::from("date,time,patient_id,kana,name,birth,insurer,symbol,number,branch\n");
    for i in 0..BOOKINGS {
        let p = &sim.people()[i % sim.people().len()];
        text.push_str(&format!(
            "{date},,B{i:05},{},,{},{},{},{},{}\n",
            p.kana,
            p.birth,
            p.insurer.trim(),
            p.symbol.clone().unwrap_or_default(),
            p.number,
            p.branch
        ));
    }
    text
}

fn main() {
    let root = std::env::temp_dir().join(format!("madoguchi-bulk-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (data, share) = (root.join("data"), root.join("share"));
    for d in ["req", "res", "face"] {
        std::fs::create_dir_all(share.join(d)).expect("share");
    }
    let date = eligibility::Date::from_day_number(bridge::clock::today_jst().day_number() + 1)
        .expect("tomorrow");
    let file = root.join("bookings.csv");
    std::fs::write(&file, csv(date)).expect("csv");

    let started = Instant::now();
    let import = Command::new(BIN)
        .args(["bookings", "import"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .expect("import");
    let import_time = started.elapsed();
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stdout));

    let mut peer = Command::new(BIN)
        .args(["oqs", "sim", "--folder"])
        .arg(&share)
        .stdout(Stdio::null())
        .spawn()
        .expect("peer");
    while !faults_file(&share).exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    set_faults(&share, &Faults { bulk_pending: 1, bulk_zip: true, ..Faults::default() })
        .expect("faults");

    let started = Instant::now();
    let mut run = Command::new(BIN)
        .args(["bulk", "run", "--date", &date.to_string(), "--poll-ms", "200", "--folder"])
        .arg(&share)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .spawn()
        .expect("bulk run");
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_kib(run.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = run.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run_time = started.elapsed();
    let _ = peer.kill();
    let _ = peer.wait();
    let mut out = String::new();
    if let Some(mut stdout) = run.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
    }
    assert!(status.success(), "bulk run failed: {out}");
    let summary: serde_json::Value = serde_json::from_str(&out).expect("summary");
    let archive = data.join("bulk").join(date.compact());
    let zip_bytes: u64 = std::fs::read_dir(&archive)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".zip"))
                .filter_map(|e| e.metadata().ok().map(|m| m.len()))
                .sum()
        })
        .unwrap_or(0);
    println!(
        "\nbulk 一括照会, {BOOKINGS} bookings: import {:.2} s; bulk run (upload, 1×処理中 at 200 ms, ZIP {} KB) {:.2} s, {} stored, peak RSS {} MiB",
        import_time.as_secs_f64(),
        zip_bytes / 1024,
        run_time.as_secs_f64(),
        summary.get("stored").and_then(|v| v.as_u64()).unwrap_or(0),
        peak / 1024
    );
    let _ = std::fs::remove_dir_all(Path::new(&root));
}
