//! A clinic day (issue 7): 300 patients on two terminals through the production path
//! (the folder gateway, `bridge oqs sim` answering in `req/ res/ face/`), with seeded random
//! paths — a face-auth tap, a lookup by a document's numbers, or the no-document wizard.
//! Afterwards: every reception exactly once in the ledger, the face-result and confirmation
//! latencies, the pages' memory, the bridge's RSS and the store's size. A `notify` watcher
//! on `face/` sees the whole day: the bridge never removes, renames or writes a file there
//! (the only writer is the 資格確認端末's stand-in, which renames its temporary files into
//! place), and every file tapped is still there at the end.

use e2e::bridge::{free_port, http};
use e2e::browser::{with_browser, Browser};
use e2e::terminal::{
    data_dir, folder_peer, ledger_tally, numbers_of, open_and_pair, record_without_documents,
    serve, tap, Tally,
};
use fantoccini::Locator;
use std::path::Path;
use std::time::{Duration, Instant};

const PATIENTS: usize = 300;
const SEED: u64 = 0x6d61_646f_6775_6368; // "madoguch"

/// The face-auth reader's cardholders, split between the two counters so that each knows
/// which face result is its own patient's.
const FACES: [&[(&str, &str)]; 2] = [
    &[("yamada", "山田"), ("sato", "佐藤"), ("suzuki", "鈴木")],
    &[("ito", "伊藤"), ("tanaka", "田中"), ("kobayashi", "小林")],
];

#[derive(Debug, Clone, Copy)]
enum Path_ {
    Face(usize),
    Lookup(usize),
    NoDocuments,
}

/// xorshift64*: the day's paths are the same every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

#[derive(Debug, Default)]
struct Counter {
    created: usize,
    face_ms: Vec<f64>,
    confirm_ms: Vec<f64>,
}

/// Waits (polling every 20 ms, ≤ `secs`) until `script` returns true.
async fn until(b: &Browser, what: &str, secs: u64, script: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if b.js(script).await? == serde_json::json!(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {secs} s waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The face path: the patient taps; the row with their name appears; staff record it.
async fn face(b: &Browser, share: &Path, person: &str, name: &str) -> Result<f64, String> {
    b.click("nav-reception").await?;
    b.find("page-reception", 10).await?;
    let rows = format!(
        "[...document.querySelectorAll('[data-testid=face-result]')].filter(r => r.textContent.includes('{name}')).length"
    );
    let before = b.js(&format!("return {rows}")).await?.as_u64().unwrap_or(0);
    let start = Instant::now();
    let share = share.to_path_buf();
    let person = person.to_string();
    tokio::task::spawn_blocking(move || tap(&share, &person))
        .await
        .map_err(|e| e.to_string())??;
    until(b, "the face result", 20, &format!("return {rows} > {before}")).await?;
    let latency = start.elapsed().as_secs_f64() * 1000.0;
    // The newest row is first; record that one (a real click on its own button).
    let row = b
        .client()
        .find_all(Locator::Css("[data-testid=face-result]"))
        .await
        .map_err(|e| e.to_string())?;
    let mut mine = None;
    for r in row {
        if r.text().await.unwrap_or_default().contains(name) {
            mine = Some(r);
            break;
        }
    }
    let mine = mine.ok_or("the face row went away")?;
    mine.find(Locator::Css("[data-testid=face-record]"))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    until(b, "the face row to leave", 20, &format!("return {rows} <= {before}")).await?;
    Ok(latency)
}

/// The numbers screen is up and the terminal has started (its bridge line says up).
async fn settled(b: &Browser) -> Result<(), String> {
    b.find("page-numbers", 20).await?;
    b.wait_text("status-bridge", "bridge up", 20).await
}

/// The lookup path: the document's numbers → the result card → recorded.
async fn lookup(b: &Browser, q: &serde_json::Value) -> Result<f64, String> {
    b.click("nav-numbers").await?;
    // From 困ったとき this is a page load: type once the screen is up and the terminal has
    // started (see Known gaps: keystrokes in the first moments after a load can be lost).
    settled(b).await?;
    for field in ["insurer", "symbol", "number", "branch", "birth"] {
        b.type_into(field, q[field].as_str().unwrap_or("")).await?;
    }
    let start = Instant::now();
    if let Err(e) = b.click("lookup").await {
        // What the screen held (the failure names it, not only "disabled").
        let held = b
            .js("return [location.href, ...['insurer','symbol','number','branch','birth'].map(t => document.querySelector(`[data-testid=${t}]`)?.value), performance.now(), document.referrer, performance.getEntriesByType('navigation')[0]?.type]")
            .await;
        return Err(format!("{e}: typed {q} but the screen held {held:?}"));
    }
    until(
        b,
        "the result card",
        20,
        "return !!document.querySelector('[data-testid=result-headline]')",
    )
    .await?;
    let latency = start.elapsed().as_secs_f64() * 1000.0;
    b.click("record-visit").await?;
    until(b, "recorded", 20, "return !document.querySelector('[data-testid=result-card]') && !!document.querySelector('[data-testid=recorded]')").await?;
    Ok(latency)
}

async fn counter(
    b: &Browser,
    share: &Path,
    plan: &[Path_],
    numbers: &[serde_json::Value],
    side: usize,
    out: &mut Counter,
) -> Result<(), String> {
    for step in plan {
        match *step {
            Path_::Face(i) => {
                let (person, name) = FACES[side][i];
                out.face_ms.push(face(b, share, person, name).await?);
            }
            Path_::Lookup(i) => out.confirm_ms.push(lookup(b, &numbers[i]).await?),
            Path_::NoDocuments => record_without_documents(b).await?,
        }
        out.created += 1;
    }
    Ok(())
}

/// The page's memory: `performance.measureUserAgentSpecificMemory()` (the page is
/// cross-origin isolated by the bridge's headers), else the JS heap.
async fn page_memory(b: &Browser) -> serde_json::Value {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const heap = () => performance.memory ? performance.memory.usedJSHeapSize : null;
        if (self.crossOriginIsolated && performance.measureUserAgentSpecificMemory) {
            Promise.race([
                performance.measureUserAgentSpecificMemory().then(m => ({ kind: "measureUserAgentSpecificMemory", bytes: m.bytes })),
                new Promise(r => setTimeout(() => r({ kind: "js_heap (measure timed out)", bytes: heap() }), 30000)),
            ]).then(done, e => done({ kind: "js_heap", bytes: heap(), error: String(e) }));
        } else {
            done({ kind: "js_heap", bytes: heap() });
        }"#;
    b.client()
        .execute_async(script, vec![])
        .await
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
}

/// What the watcher saw in `face/` that only a writer could cause, other than the
/// stand-in's own temporary files being written and renamed into place.
fn writes_by_others(events: &[notify::Event]) -> Vec<String> {
    use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
    use notify::EventKind;
    let temporary = |p: &std::path::PathBuf| {
        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
    };
    events
        .iter()
        .filter(|e| match e.kind {
            EventKind::Remove(_) => !e.paths.iter().all(temporary),
            EventKind::Modify(ModifyKind::Data(_)) => !e.paths.iter().all(temporary),
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                !e.paths.iter().all(temporary)
            }
            // A rename away from a result file's name (a temporary file renamed into place
            // is From(".x.tmp") then To("x"), or Both with the temporary first).
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) => !e.paths.iter().all(temporary),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                !e.paths.first().is_some_and(temporary)
            }
            _ => false,
        })
        .map(|e| format!("{:?} {:?}", e.kind, e.paths))
        .collect()
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinic_day_of_300_patients_on_two_terminals() {
    let data = data_dir("soak");
    std::fs::write(data.join("bridge.toml"), "follow_up_interval_s = 5\n").unwrap();
    let (_peer, share) = folder_peer(&data);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<notify::Event>::new()));
    let mut watcher = {
        use notify::Watcher;
        let seen = seen.clone();
        let mut w = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
            if let (Ok(e), Ok(mut seen)) = (e, seen.lock()) {
                seen.push(e);
            }
        })
        .unwrap();
        w.watch(&share.join("face"), notify::RecursiveMode::NonRecursive).unwrap();
        w
    };
    let share_arg = share.to_str().unwrap().to_string();
    let server = serve(free_port(), &data, &["--gateway", "folder", "--folder", &share_arg]);
    // Thirty of the simulator's insured, looked up by their numbers.
    let numbers: Vec<serde_json::Value> =
        (0..30).map(|i| numbers_of(&format!("p{:03}", i * 7))).collect();
    let mut rng = Rng(SEED);
    let mut plans: [Vec<Path_>; 2] = [Vec::new(), Vec::new()];
    for i in 0..PATIENTS {
        let path = match rng.below(10) {
            0..=2 => Path_::Face(rng.below(3) as usize),
            3..=6 => Path_::Lookup(rng.below(numbers.len() as u64) as usize),
            _ => Path_::NoDocuments,
        };
        plans[i % 2].push(path);
    }
    let mix = |p: &dyn Fn(&Path_) -> bool| plans.iter().flatten().filter(|x| p(x)).count();
    let mix = serde_json::json!({
        "face": mix(&|p| matches!(p, Path_::Face(_))),
        "lookup": mix(&|p| matches!(p, Path_::Lookup(_))),
        "no_documents": mix(&|p| matches!(p, Path_::NoDocuments)),
    });
    let first = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let (mut a, mut b_out) = (Counter::default(), Counter::default());
    let mut wall = 0.0;
    let mut memory = Vec::new();
    with_browser(|second| async {
        let result = async {
            open_and_pair(&first, &server, "受付1").await?;
            open_and_pair(&second, &server, "受付2").await?;
            for b in [&first, &second] {
                b.click("nav-reception").await?;
            }
            tokio::time::sleep(Duration::from_millis(1500)).await; // both sockets up
            let start = Instant::now();
            let (ra, rb) = tokio::join!(
                counter(&first, &share, &plans[0], &numbers, 0, &mut a),
                counter(&second, &share, &plans[1], &numbers, 1, &mut b_out),
            );
            ra?;
            rb?;
            for b in [&first, &second] {
                b.wait_text("status-outbox", "未送信 0", 60).await?;
            }
            wall = start.elapsed().as_secs_f64();
            for b in [&first, &second] {
                memory.push(page_memory(b).await);
            }
            Ok(())
        }
        .await;
        (second, result)
    })
    .await;
    first.close().await;
    let created = a.created + b_out.created;
    let tally = ledger_tally(&server);
    let rss = server.pid().and_then(rss_kib);
    let (_, health) = http(server.port, "GET", "/health", None, "").unwrap();
    let health: serde_json::Value = serde_json::from_str(&health).unwrap_or_default();
    drop(server);
    {
        use notify::Watcher;
        let _ = watcher.unwatch(&share.join("face"));
    }
    drop(watcher);
    let events = seen.lock().map(|e| e.clone()).unwrap_or_default();
    let forbidden = writes_by_others(&events);
    let face_files = std::fs::read_dir(share.join("face"))
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .count();
    let face_ms = [a.face_ms, b_out.face_ms].concat();
    let confirm_ms = [a.confirm_ms, b_out.confirm_ms].concat();
    e2e::report::record(
        "a_clinic_day_of_300_patients_on_two_terminals",
        serde_json::json!({
            "patients": PATIENTS, "seed": format!("{SEED:#x}"), "mix": mix,
            "receptions_created": created, "in_ledger": tally.in_ledger, "duplicates": tally.duplicates,
            "wall_s": (wall * 10.0).round() / 10.0,
            "face_result_latency": e2e::report::percentiles(face_ms),
            "confirmation_latency": e2e::report::percentiles(confirm_ms),
            "page_memory": memory, "bridge_rss_kib": rss, "store": health["store"],
            "face_files_present": face_files,
            "face_results_delivered": health["gateway"]["face_files_read"],
            "face_folder_events_seen": events.len(), "face_folder_writes_by_the_bridge": forbidden.len(),
        }),
    );
    assert!(
        forbidden.is_empty(),
        "face/ was written by someone other than the stand-in: {forbidden:?}"
    );
    assert_eq!(
        Some(face_files as u64),
        mix["face"].as_u64(),
        "every tapped file is still in face/"
    );
    assert_eq!(health["gateway"]["face_files_read"].as_u64(), Some(face_files as u64));
    assert_eq!(tally, Tally { in_ledger: PATIENTS, duplicates: 0 });
    assert_eq!(created, PATIENTS);
    // The issue's bound for the whole day (both counters, from first patient to drained).
    assert!(wall < 300.0, "the clinic day took {wall:.0} s (bound: 300 s)");
}
