//! Bookings and the 一括照会 as the clinic runs them, all as processes on real folders:
//! `bridge bookings import` of a CSV with bad rows, `bridge oqs sim --folder` playing the
//! 連携アプリケーション (処理中 answers, a ZIP download), `bridge bulk run` through `req/` and
//! `res/`, and a run killed in the middle that resumes without a second upload.

use bridge::gateway::peer::set_faults;
use bridge::gateway::sim::{Faults, Sim};
use eligibility::Date;
use reception::booking::{BookingRow, PreState};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bridge");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peer(folder: &Path) -> Killed {
    for d in ["req", "res", "face"] {
        std::fs::create_dir_all(folder.join(d)).unwrap();
    }
    let child = Killed(
        Command::new(BIN)
            .args(["oqs", "sim", "--folder", folder.to_str().unwrap()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The peer writes its own (empty) faults when it starts: set ours after that.
    let started = Instant::now();
    while !bridge::gateway::peer::faults_file(folder).exists() {
        assert!(started.elapsed() < Duration::from_secs(20), "the peer did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn bridge(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN).args(args).arg("--data-dir").arg(data).output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\nstderr: {}", String::from_utf8_lossy(&out.stderr)))
}

fn tomorrow() -> Date {
    Date::from_day_number(bridge::clock::today_jst().day_number() + 1).unwrap()
}

/// `n` bookings for `date` — the simulator's population, ending with a lost
/// qualification, one with a newer qualification and a patient the system does not know —
/// then five bad rows. Also each booked patient id's expected name (`None`: not found).
fn csv(date: Date, n: usize) -> (String, std::collections::HashMap<String, Option<String>>) {
    let sim = Sim::new(bridge::clock::today_jst());
    let mut people: Vec<_> = sim.people().iter().take(n.saturating_sub(3)).cloned().collect();
    people.push(sim.person("lost").unwrap().clone());
    people.push(sim.person("lost-new").unwrap().clone());
    let mut unknown = sim.people()[0].clone();
    unknown.number = "99999999".into();
    unknown.name = String::new();
    people.push(unknown);
    let mut expected = std::collections::HashMap::new();
    let mut text =
        String::from("date,time,patient_id,kana,name,birth,insurer,symbol,number,branch\n");
    for (i, p) in people.iter().take(n).enumerate() {
        text.push_str(&format!(
            "{date},{:02}:{:02},P{i:04},{},\"{}\",{},{},{},{},{}\n",
            9 + i / 30,
            i % 30 * 2,
            p.kana,
            p.name,
            p.birth,
            p.insurer.trim(),
            p.symbol.clone().unwrap_or_default(),
            p.number,
            p.branch
        ));
        expected.insert(format!("P{i:04}"), (!p.name.is_empty()).then(|| p.name.clone()));
    }
    text.push_str(&format!("{date},,X1,,no birth,,,,,\n"));
    text.push_str(&format!("{date},25:00,X2,,bad time,1980-01-01,,,,\n"));
    text.push_str(&format!("{date},,X3,,bad insurer,1980-01-01,06139993,,1,\n"));
    text.push_str("2026-13-01,,X4,,bad date,1980-01-01,,,,\n");
    text.push_str(&format!("{date},,P0000,,twice,1980-01-01,,,,\n"));
    (text, expected)
}

fn temp(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("madoguchi-bulk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    root
}

fn files_named(dir: &Path, prefix: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(prefix)).count()
        })
        .unwrap_or(0)
}

#[test]
fn two_hundred_bookings_are_confirmed_through_the_folder_with_a_zip_download() {
    let root = temp("folder");
    let (data, share) = (root.join("data"), root.join("share"));
    let date = tomorrow();
    let file = root.join("bookings.csv");
    let (text, expected) = csv(date, 200);
    std::fs::write(&file, text).unwrap();

    let import = bridge(&data, &["bookings", "import", file.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&import.stdout);
    assert_eq!(import.status.code(), Some(2), "bad rows make exit 2: {report}");
    assert!(report.contains("取り込み 200 件") && report.contains("エラー 5 件"), "{report}");
    for line in [202, 203, 204, 205, 206] {
        assert!(report.contains(&format!("line {line}:")), "line {line} reported: {report}");
    }

    let _peer = peer(&share);
    set_faults(&share, &Faults { bulk_pending: 2, bulk_zip: true, ..Faults::default() }).unwrap();
    let run = bridge(
        &data,
        &[
            "bulk",
            "run",
            "--date",
            &date.to_string(),
            "--folder",
            share.to_str().unwrap(),
            "--poll-ms",
            "100",
            "--timeout-secs",
            "30",
        ],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary = json(&run);
    assert_eq!(summary["step"], "done");
    assert_eq!(
        (summary["sent"].as_u64(), summary["stored"].as_u64()),
        (Some(200), Some(200)),
        "{summary}"
    );
    assert_eq!(summary["polls"], 2, "two 処理中 answers before the results");
    assert_eq!(summary["unmatched"], 0);

    let listed =
        bridge(&data, &["bookings", "list", "--date", &date.to_string(), "--format", "json"]);
    // Read as the counter reads it: the shared wire type.
    let list: Vec<BookingRow> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list.len(), 200);
    for b in &list {
        let pre = b
            .pre_confirmation
            .as_ref()
            .unwrap_or_else(|| panic!("{} has its result", b.booking_id));
        // Each result is on its own booking: the name in the answer is the booked one.
        let reading = pre.reading.as_ref().unwrap();
        assert_eq!(
            reading.patient.name, expected[&b.booking.patient_id],
            "{}: {reading:?}",
            b.booking_id
        );
    }
    let pre = |id: &str| {
        list.iter().find(|b| b.booking.patient_id == id).unwrap().pre_confirmation.clone().unwrap()
    };
    assert_eq!(pre("P0000").state, PreState::Valid);
    assert_eq!(pre("P0197").state, PreState::Invalid, "lost");
    assert_eq!(pre("P0198").state, PreState::NewQualification, "lost, a newer one exists");
    assert_eq!(pre("P0199").state, PreState::NotFound);
    let reading = pre("P0000").reading.unwrap();
    assert_eq!(reading.status, "confirmed");
    assert!(reading.qualification.is_some(), "the numbers are at hand for an outage");
    // Every answer read is kept in the archive; res/ holds none of ours any more.
    let archive = data.join("bulk").join(date.compact());
    assert_eq!(files_named(&archive, "OQSmuquc01res_"), 1);
    assert_eq!(files_named(&archive, "OQSmuquc02res_"), 3, "two 処理中 and the ZIP");
    assert_eq!(files_named(&share.join("res"), "OQSmu"), 0);
    let zipped = std::fs::read_dir(&archive)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".zip"))
        .count();
    assert_eq!(zipped, 1, "the results came as a ZIP");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_run_killed_while_the_download_is_pending_resumes_without_a_second_upload() {
    let root = temp("resume");
    let (data, share) = (root.join("data"), root.join("share"));
    let date = tomorrow();
    let file = root.join("bookings.csv");
    std::fs::write(&file, csv(date, 20).0).unwrap();
    bridge(&data, &["bookings", "import", file.to_str().unwrap()]);
    let _peer = peer(&share);
    set_faults(&share, &Faults { bulk_pending: 10_000, ..Faults::default() }).unwrap();
    let args = [
        "bulk",
        "run",
        "--date",
        &date.to_string(),
        "--folder",
        share.to_str().unwrap(),
        "--poll-ms",
        "100",
    ];
    let mut first = Killed(
        Command::new(BIN)
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    let number = loop {
        let status = json(&bridge(&data, &["bulk", "status", "--date", &date.to_string()]));
        if status["step"] == "downloading" && status["polls"].as_u64() >= Some(2) {
            break status["reception_number"].as_str().unwrap().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run never reached the download: {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    first.0.kill().unwrap();
    first.0.wait().unwrap();

    // The national system finishes while the bridge is down; the next run goes on.
    set_faults(&share, &Faults::default()).unwrap();
    let run = bridge(&data, &args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary = json(&run);
    assert_eq!(summary["step"], "done");
    assert_eq!(summary["reception_number"], number.as_str(), "the same upload's results");
    assert_eq!(summary["stored"], 20);
    let archive = data.join("bulk").join(date.compact());
    assert_eq!(files_named(&archive, "OQSmuquc01req_"), 1, "one upload, never a second");
    assert_eq!(files_named(&archive, "OQSmuquc01res_"), 1);
    let _ = std::fs::remove_dir_all(&root);
}

/// The download comes back cut off mid-file: the run fails and says so, the file is copied
/// into the quarantine with its reason (the archive keeps it too), nothing is stored; the
/// next run starts over and stores every result.
#[test]
fn a_broken_download_is_quarantined_and_nothing_is_stored() {
    let root = temp("broken");
    let (data, share) = (root.join("data"), root.join("share"));
    let date = tomorrow();
    let file = root.join("bookings.csv");
    std::fs::write(&file, csv(date, 20).0).unwrap();
    bridge(&data, &["bookings", "import", file.to_str().unwrap()]);
    let _peer = peer(&share);
    set_faults(&share, &Faults { malformed_rate: 1.0, ..Faults::default() }).unwrap();
    let args = [
        "bulk",
        "run",
        "--date",
        &date.to_string(),
        "--folder",
        share.to_str().unwrap(),
        "--poll-ms",
        "100",
        "--timeout-secs",
        "30",
    ];
    let run = bridge(&data, &args);
    assert!(!run.status.success(), "a broken answer fails the run");
    let status = json(&bridge(&data, &["bulk", "status", "--date", &date.to_string()]));
    assert_eq!(status["step"], "failed", "{status}");
    let detail = status["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("quarantine"), "the state names the copy: {detail}");
    let quarantine = data.join("quarantine");
    assert_eq!(files_named(&quarantine, "OQSmuquc02res_"), 2, "the copy and its reason");
    let listed =
        bridge(&data, &["bookings", "list", "--date", &date.to_string(), "--format", "json"]);
    let list: Vec<BookingRow> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list.len(), 20);
    assert!(list.iter().all(|b| b.pre_confirmation.is_none()), "nothing half-stored");
    assert_eq!(files_named(&share.join("res"), "OQSmu"), 0, "our answers are taken out of res/");

    set_faults(&share, &Faults::default()).unwrap();
    let again = bridge(&data, &args);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(json(&again)["stored"], 20);
    let _ = std::fs::remove_dir_all(&root);
}
