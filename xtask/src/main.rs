//! Repository tooling. `cargo xtask test | bench | demo` — see the README.
//!
//! `test` is what CI runs: it first installs what a fresh machine lacks, then runs every
//! check and test tier, stopping at the first failure.

mod demo;
mod dist;
mod setup;
mod tidy;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask <test|bench|demo>
  test   install what is missing, then fmt, tidy, clippy, wasm32 build of the shared crates, all tests
  bench  criterion (decisions/s, parses/s), the bridge (card over pcscd + vpcd, face, sync, WebSocket)
         and the terminal in Chromium (sizes, first paint with 4x CPU throttling, enqueue, drain)
  demo   builds everything, walks the rules, then serves the terminal with the simulator and a
         virtual card in pcscd, and prints the URL and a pairing code
  dist   release builds of the bridge for Linux and Windows into target/dist/, without test
         doubles, checked for the committed test keys (also part of test)
  tidy   the repository rules rustc and clippy do not check (also part of test)
  fuzz   arbitrary inputs through every outside-facing parser, 1,000,000 per target (or
         --execs N); a benchmark, not part of test
  frontend  the release build of both bundles into dist/ (as test does), each wasm's
         brotli size against the budget
  setup  install what this machine lacks (Debian packages, rustup targets, pinned tools)
  e2e    the browser scenarios and fault suite (also part of test); writes target/e2e-report/
  gen-test-keys  regenerate the test JPKI key pool (shared/card/testdata/keys) with openssl";

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench") => bench(),
        Some("demo") => demo(),
        Some("gen-test-keys") => gen_test_keys(),
        Some("dist") => dist(),
        Some("e2e") => e2e_alone(),
        Some("frontend") => build_frontend(),
        Some("setup") => setup::ensure(),
        Some("tidy") => tidy::check(),
        Some("fuzz") => fuzz(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `cargo xtask fuzz [--execs N] [--seed S] [--only NAME]`: the `fuzz` crate in release
/// (optimised: the figure is executions per second of the real parsers).
fn fuzz(extra: &[String]) -> Result<()> {
    let mut args = vec!["run", "--release", "-p", "fuzz", "--"];
    args.extend(extra.iter().map(String::as_str));
    run("cargo", &args)
}

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs a command in the repository root, echoing it; fails on a non-zero exit.
pub fn run(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Runs a command and returns its stdout.
pub fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .with_context(|| format!("cannot start {program}"))?;
    if !out.status.success() {
        bail!("`{program} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every step's name and duration so far, for the summary at the end.
static STEPS: std::sync::Mutex<Vec<(String, f64)>> = std::sync::Mutex::new(Vec::new());

fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    eprintln!("\n── {name} ──");
    let start = Instant::now();
    let result = f().with_context(|| format!("step `{name}`"));
    let seconds = start.elapsed().as_secs_f64();
    STEPS.lock().unwrap_or_else(|e| e.into_inner()).push((name.to_string(), seconds));
    result?;
    eprintln!("── {name}: ok in {seconds:.1}s");
    Ok(())
}

/// The steps' durations and the total, as the last lines of a run (also a failed one).
fn print_step_summary(total: f64) {
    eprintln!("\n── durations ──");
    for (name, seconds) in STEPS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        eprintln!("{seconds:>8.1}s  {name}");
    }
    eprintln!("{total:>8.1}s  total");
}

/// The shared crates, which must build for the browser as well.
const SHARED: &[&str] =
    &["eligibility", "fallback", "card", "oqs", "protocol", "usage", "reception", "guidance"];

/// `cargo clippy SELECTION --all-targets --locked -- -D warnings`.
fn clippy(selection: &[&str]) -> Result<()> {
    let mut args = vec!["clippy"];
    args.extend_from_slice(selection);
    args.extend(["--all-targets", "--locked", "--", "-D", "warnings"]);
    run("cargo", &args)
}

/// Keeps a CI run's disk footprint small and leaves nothing behind: no incremental caches
/// (about 1.2 GB a build, useless on a clean checkout), and a TMPDIR of its own that is
/// emptied before and after (Chromium, chromedriver and the test data directories write
/// there). A CI run once failed with "No space left on device". The path stays short
/// because Chromium puts a Unix socket (at most 107 bytes of path) under TMPDIR.
struct Scratch(PathBuf);

impl Scratch {
    fn enter() -> Result<Scratch> {
        let dir = std::env::temp_dir().join("mdg-xtask");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        if std::env::var_os("CARGO_INCREMENTAL").is_none() {
            std::env::set_var("CARGO_INCREMENTAL", "0");
        }
        std::env::set_var("TMPDIR", &dir);
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `CARGO_TARGET_DIR`, or `target/` in the repository.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| if dir.is_absolute() { dir } else { root().join(dir) })
        .unwrap_or_else(|| root().join("target"))
}

fn test() -> Result<()> {
    let start = Instant::now();
    let result = test_steps();
    print_step_summary(start.elapsed().as_secs_f64());
    if result.is_ok() {
        eprintln!("\nall checks passed in {:.0}s", start.elapsed().as_secs_f64());
    }
    result
}

fn test_steps() -> Result<()> {
    let _scratch = Scratch::enter()?;
    step("setup", setup::ensure)?;
    step("rustfmt", || run("cargo", &["fmt", "--all", "--", "--check"]))?;
    step("tidy", tidy::check)?;
    step("clippy", || clippy(&["--workspace", "--exclude", "frontend"]))?;
    step("clippy (frontend, wasm32)", || {
        // With the bench hooks, so that their code is checked too.
        clippy(&["-p", "frontend", "--target", "wasm32-unknown-unknown", "--features", "bench"])
    })?;
    step("wasm32 build of the shared crates", || {
        let mut args = vec!["build", "--locked", "--target", "wasm32-unknown-unknown"];
        for krate in SHARED {
            args.extend(["-p", krate]);
        }
        run("cargo", &args)
    })?;
    // What a clinic installs: release builds for Linux and Windows without test doubles,
    // checked for the committed test keys.
    dist::dist()?;
    step("frontend (trunk build --release)", build_frontend)?;
    step("frontend store tests in headless Chromium (wasm-bindgen-test)", || {
        run("cargo", &["test", "-p", "frontend", "--target", "wasm32-unknown-unknown", "--locked"])
    })?;
    step("native tests", || {
        run(
            "cargo",
            &["test", "--workspace", "--exclude", "frontend", "--exclude", "e2e", "--locked"],
        )
    })?;
    step("end-to-end: the terminal in Chromium, faults, and the report", e2e)?;
    eprintln!("screenshots of each screen: {}", root().join("screenshots").display());
    Ok(())
}

/// Trunk's release build into `dist/` (size profile, wasm-opt -Oz, offline), then
/// brotli (q11) and gzip (9) siblings that the bridge serves as they are. This is what
/// ships: no cargo feature of the frontend is on.
fn build_frontend() -> Result<()> {
    trunk_release("dist", None)
}

/// The same build with the measurement hooks (feature `bench`) into `dist-bench/`, for
/// `cargo xtask bench` only.
fn build_frontend_bench() -> Result<()> {
    trunk_release("dist-bench", Some("bench"))
}

/// The bundles' pages (see `frontend/src/app.rs`; the display's is `frontend/src/display.rs`): Trunk builds one page per run and
/// always names it `index.html`, so the office's is built apart and moved in beside.
const PAGES: [(&str, &str); 4] = [
    ("frontend/index.html", "index.html"),
    ("frontend/office.html", "office.html"),
    ("frontend/fallback.html", "fallback.html"),
    ("frontend/display.html", "display.html"),
];

/// The most either bundle's wasm may weigh as served (brotli): the terminal's budget.
pub const WASM_BUDGET_BROTLI: usize = 300_000;

/// The patient guidance display's own budget: a small tablet on the clinic's Wi-Fi.
pub const DISPLAY_BUDGET_BROTLI: usize = 150_000;

fn trunk_release(dist: &str, features: Option<&str>) -> Result<()> {
    run("cargo", &["fetch", "--locked"])?;
    let out = root().join(dist);
    for (source, page) in PAGES {
        let into = if page == "index.html" { dist.to_string() } else { format!("{dist}.{page}") };
        let args = vec!["build", "--release", "--cargo-profile", "wasm-release", "--dist", &into];
        match features {
            // Trunk ignores `--features` for a page whose rust link sets its own cargo
            // options (`data-cargo-no-default-features`): the features go into a copy of the
            // page, built beside it and removed (the bench hooks were silently missing).
            Some(features) => {
                let original = std::fs::read_to_string(root().join(source))?;
                let with = original.replace(
                    "rel=\"rust\"",
                    &format!("rel=\"rust\" data-cargo-features=\"{features}\""),
                );
                let copy = source.replace(".html", ".features.html");
                std::fs::write(root().join(&copy), with)?;
                let mut args = args.clone();
                args.push(&copy);
                let built = run("trunk", &args);
                let _ = std::fs::remove_file(root().join(&copy));
                built?;
            }
            None => {
                let mut args = args.clone();
                args.push(source);
                run("trunk", &args)?;
            }
        }
        if into != dist {
            let staged = root().join(&into);
            for entry in std::fs::read_dir(&staged)? {
                let path = entry?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let target = if name == "index.html" { page } else { name };
                std::fs::rename(&path, out.join(target))?;
            }
            std::fs::remove_dir_all(&staged)?;
        }
    }
    for entry in std::fs::read_dir(&out)? {
        let path = entry?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["wasm", "js", "css", "html", "webmanifest", "svg"].contains(&ext) {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 64 * 1024, 11, 22);
            std::io::Write::write_all(&mut w, &bytes)?;
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, &bytes)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if ext == "wasm" {
            let budget = if name.starts_with("display-") {
                DISPLAY_BUDGET_BROTLI
            } else {
                WASM_BUDGET_BROTLI
            };
            eprintln!("{name}: {} bytes, {} brotli (budget {budget})", bytes.len(), br.len());
            if br.len() > budget && features.is_none() {
                bail!("{name} is {} bytes brotli, over the budget of {budget}", br.len());
            }
        }
        std::fs::write(path.with_file_name(format!("{name}.br")), br)?;
        std::fs::write(path.with_file_name(format!("{name}.gz")), gz.finish()?)?;
    }
    Ok(())
}

/// `cargo xtask e2e`: what the end-to-end step needs, then the step.
fn e2e_alone() -> Result<()> {
    let _scratch = Scratch::enter()?;
    step("setup", setup::ensure)?;
    step("frontend (trunk build --release)", build_frontend)?;
    step("end-to-end", e2e)
}

/// Runs the e2e crate's tests (the harness's own, the terminal scenarios, the fault suite),
/// then writes `target/e2e-report/report.{md,json}`: every scenario with passed / failed /
/// ignored (an ignored one counts as failed, with its reason in ARCHITECTURE.md), and the
/// figures scenarios recorded. Fails when any scenario failed.
fn e2e() -> Result<()> {
    let report_dir = root().join("target/e2e-report");
    let _ = std::fs::remove_dir_all(report_dir.join("scenarios"));
    std::fs::create_dir_all(&report_dir)?;
    let started = Instant::now();
    // The tablet's LAN scenarios need network namespaces. Where they can be made here, a
    // scenario that cannot make them fails instead of skipping.
    let probe = format!("md-probe-{}", std::process::id());
    let netns = Command::new("ip").args(["netns", "add", &probe]).output();
    let netns_ok = matches!(&netns, Ok(o) if o.status.success());
    let _ = Command::new("ip").args(["netns", "del", &probe]).output();
    if netns_ok {
        eprintln!("network namespaces: available (the tablet's LAN scenarios must run)");
    } else {
        let why = match &netns {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => e.to_string(),
        };
        eprintln!("network namespaces: not available here ({why}): the LAN scenarios skip");
    }
    // Every scenario runs even after one fails, so that the report is whole.
    eprintln!("$ cargo test --locked --no-fail-fast -p e2e -- --test-threads=1");
    let mut command = Command::new("cargo");
    if netns_ok {
        command.env("MADOGUCHI_REQUIRE_NETNS", "1");
    }
    let out = command
        .args(["test", "--locked", "--no-fail-fast", "-p", "e2e", "--", "--test-threads=1"])
        .env("E2E_REPORT_DIR", &report_dir)
        .current_dir(root())
        .output()
        .context("cannot start cargo test")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    print!("{stdout}");
    let mut scenarios = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else { continue };
        let Some((name, outcome)) = rest.rsplit_once(" ... ") else { continue };
        let outcome = outcome.split_whitespace().next().unwrap_or("");
        let status = match outcome {
            "ok" => "passed",
            "FAILED" => "failed",
            "ignored" => "ignored (counted as failed)",
            _ => continue,
        };
        let figures =
            std::fs::read_to_string(report_dir.join("scenarios").join(format!("{name}.json")))
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(serde_json::Value::Null);
        // A scenario that returned early because this machine cannot run it says so.
        let status = if status == "passed" && figures.get("skipped").is_some() {
            "skipped (see figures)"
        } else {
            status
        };
        scenarios.push((name.to_string(), status, figures));
    }
    let passed = scenarios.iter().filter(|s| s.1 == "passed").count();
    let totals = totals(&scenarios);
    let suite_s = started.elapsed().as_secs();
    let mut md = format!(
        "# End-to-end report\n\n{passed} of {} scenarios passed (`cargo xtask e2e`, {} min {} s).\n\n",
        scenarios.len(),
        suite_s / 60,
        suite_s % 60
    );
    md.push_str("## Totals\n\n| figure | value |\n|---|---|\n");
    for (key, value) in totals.as_object().into_iter().flatten() {
        md.push_str(&format!("| {key} | `{value}` |\n"));
    }
    md.push_str("\n## Scenarios\n\n| scenario | result | figures |\n|---|---|---|\n");
    let mut json = Vec::new();
    for (name, status, figures) in &scenarios {
        let compact = figures.to_string();
        md.push_str(&format!("| `{name}` | {status} | {} |\n", compact.replace('|', "\\|")));
        json.push(serde_json::json!({ "scenario": name, "result": status, "figures": figures }));
    }
    std::fs::write(report_dir.join("report.md"), &md)?;
    let report = serde_json::json!({
        "passed": passed, "total": scenarios.len(), "suite_seconds": suite_s,
        "totals": totals, "scenarios": json,
    });
    std::fs::write(report_dir.join("report.json"), format!("{report:#}\n"))?;
    eprintln!("report: {}", report_dir.join("report.md").display());
    let failed = scenarios.iter().filter(|s| s.1 == "failed").count();
    if !out.status.success() || failed > 0 {
        bail!("{failed} of {} end-to-end scenarios failed", scenarios.len());
    }
    Ok(())
}

/// The suite's totals over every scenario's figures: receptions created and found in the
/// ledger, duplicates, and the clinic day's latencies, memory, RSS and store size.
fn totals(scenarios: &[(String, &str, serde_json::Value)]) -> serde_json::Value {
    let sum = |key: &str| -> u64 { scenarios.iter().filter_map(|s| s.2[key].as_u64()).sum() };
    // Where several scenarios measured a figure, the one with the most samples speaks.
    let first = |key: &str| {
        scenarios
            .iter()
            .map(|s| &s.2[key])
            .filter(|v| !v.is_null())
            .max_by_key(|v| v["n"].as_u64().unwrap_or(0))
            .cloned()
            .unwrap_or_default()
    };
    serde_json::json!({
        "receptions_created": sum("receptions_created"),
        "receptions_in_ledger": sum("in_ledger"),
        "duplicates": sum("duplicates"),
        "face_result_latency": first("face_result_latency"),
        "confirmation_latency": first("confirmation_latency"),
        "page_memory": first("page_memory"),
        "bridge_rss_kib": first("bridge_rss_kib"),
        "store": first("store"),
        "face_files_present": sum("face_files_present"),
        "face_results_delivered_per_terminal": scenarios.iter().filter_map(|s| s.2["face_results_delivered"].as_array().cloned()).flatten().collect::<Vec<_>>(),
        "claims_refused": sum("claims_refused"),
        "follow_ups_done_by_a_definitive_answer": sum("follow_ups_done_by_a_definitive_answer"),
    })
}

fn bench() -> Result<()> {
    step("setup", setup::ensure)?;
    step("criterion", || {
        run("cargo", &["bench", "--locked", "-p", "eligibility", "-p", "fallback", "-p", "oqs"])
    })?;
    report_benchmarks()?;
    step("WebUSB reader stack over the simulated RC-S380", || {
        run(
            "cargo",
            &["bench", "--locked", "-p", "card", "--features", "virtual", "--bench", "reader"],
        )
    })?;
    step("bridge: card over pcscd, face latency, sync ingest, WebSocket round trip", || {
        run("cargo", &["bench", "--locked", "-p", "bridge", "--benches"])
    })?;
    step("frontend (trunk build --release)", build_frontend)?;
    step(
        "frontend with bench hooks (trunk build --release --features bench)",
        build_frontend_bench,
    )?;
    step("terminal: sizes, first paint, enqueue, drain, Lighthouse accessibility", || {
        run("cargo", &["build", "--locked", "--release", "-p", "bridge"])?;
        run("cargo", &["bench", "--locked", "-p", "e2e", "--bench", "terminal"])
    })
}

/// Prints every criterion estimate under `target/criterion` as a per-second figure.
fn report_benchmarks() -> Result<()> {
    let target = target_dir();
    let dir = target.join("criterion");
    let mut rows = Vec::new();
    for group in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
        let group = group?.path();
        let Ok(benches) = std::fs::read_dir(&group) else { continue };
        for bench in benches {
            let bench = bench?.path();
            let estimates = bench.join("new/estimates.json");
            let benchmark = bench.join("new/benchmark.json");
            let (Ok(estimates), Ok(benchmark)) =
                (std::fs::read_to_string(&estimates), std::fs::read_to_string(&benchmark))
            else {
                continue;
            };
            let median_ns = json_number_after(&estimates, "\"median\"", "\"point_estimate\":");
            let elements =
                json_number_after(&benchmark, "\"throughput\"", "\"Elements\":").unwrap_or(1.0);
            if let Some(ns) = median_ns {
                let name = format!(
                    "{}/{}",
                    group.file_name().unwrap_or_default().to_string_lossy(),
                    bench.file_name().unwrap_or_default().to_string_lossy()
                );
                rows.push((name, ns, elements * 1e9 / ns));
            }
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    println!("\n{:<52} {:>14} {:>16}", "benchmark", "median/iter", "per second");
    for (name, ns, per_second) in rows {
        println!("{name:<52} {:>11.1} µs {per_second:>16.0}", ns / 1000.0);
    }
    Ok(())
}

/// A tiny extractor for criterion's JSON: the number after `key` that follows `section`.
fn json_number_after(text: &str, section: &str, key: &str) -> Option<f64> {
    let rest = &text[text.find(section)?..];
    let rest = &rest[rest.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+' | ' ')))?;
    rest[..end].trim().parse().ok()
}

/// Scenarios the demo walks: a name and the `bridge rules decide` request.
const DEMO_SCENARIOS: &[(&str, &str)] = &[
    (
        "マイナ保険証で確認できた / card confirmed",
        r#"{"context": {"visit": "2026-11-25", "presented": "myna_card", "online_result": "confirmed", "birth": "1950-04-02", "copay_fields": {"insured_partial_contribution_ratio": "010"}}}"#,
    ),
    (
        "スマホが読めない / phone unreadable",
        r#"{"context": {"visit": "2026-11-25", "presented": "smartphone", "online_result": "reader_fault"}, "answers": {"phone_fallback": "portal_on_the_spot"}}"#,
    ),
    (
        "初診で該当なし / first visit, not found",
        r#"{"context": {"visit": "2026-11-25", "presented": "myna_card", "online_result": "not_found", "visit_type": "first", "birth": "1988-08-08"}, "answers": {"alt_document": "neither"}}"#,
    ),
    (
        "不詳レセプト / claim with nothing known",
        r#"{"root": "claim", "context": {"visit": "2026-11-25", "statement": {"address": "東京都千代田区霞が関1-2-2", "contact": "03-5253-1111"}}, "answers": {"current_numbers": "no", "past_numbers": "no"}}"#,
    ),
];

fn demo() -> Result<()> {
    step("setup", setup::ensure)?;
    step("frontend (trunk build --release)", build_frontend)?;
    step("build the bridge", || run("cargo", &["build", "--locked", "-p", "bridge"]))?;
    let target = target_dir();
    let bridge = target.join("debug/bridge");
    let bridge = bridge.to_str().context("target path is not UTF-8")?;
    let tree = output(bridge, &["rules", "tree", "--format", "mermaid"])?;
    let tree_file = target.join("demo-tree.mmd");
    std::fs::write(&tree_file, &tree)?;
    println!(
        "The decision tree (Mermaid, {} lines): {}",
        tree.lines().count(),
        tree_file.display()
    );
    for (name, request) in DEMO_SCENARIOS {
        println!("\n■ {name}\n  request: {request}");
        let mut child = Command::new(bridge)
            .args(["rules", "decide"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        use std::io::Write;
        child.stdin.take().context("stdin")?.write_all(request.as_bytes())?;
        let out = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines().filter(|l| {
            ["\"node\"", "\"answer\"", "\"ja\"", "\"percent\"", "\"insurer_number\"", "\"tekiyo\""]
                .iter()
                .any(|k| l.contains(k))
        }) {
            println!("  {}", line.trim());
        }
    }
    serve_demo(bridge, &target)
}

/// The whole terminal with nothing but this machine: pcscd with the virtual card of 山田
/// in the vpcd reader, `bridge serve` with the simulator and the built frontend, a fresh
/// pairing code. Everything is started as a process (xtask links nothing but Rust) and
/// stopped when the demo ends: Enter on a terminal; without one (a service manager, CI, a
/// pipe) it serves until interrupted.
fn serve_demo(bridge: &str, target: &Path) -> Result<()> {
    let mut children = demo::Children::default();
    match demo::start_card(&mut children, bridge, "yamada") {
        Ok(()) => {}
        Err(e) => eprintln!("(no virtual card: {e:#}; the rest of the demo works)"),
    }
    let data = target.join("demo-data");
    let port: u16 =
        std::env::var("MADOGUCHI_DEMO_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8443);
    let dist = root().join("dist");
    let dist = dist.to_str().context("dist path is not UTF-8")?;
    let code = demo::start_serve(&mut children, bridge, port, &data, dist)?;
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    println!(
        "\n窓口 madoguchi demo\n  open http://localhost:{port}/#settings  (or https://localhost:{port}/ with `bridge tls export-ca`)\n  pair      code {code}  (5 minutes, once; `{bridge} pair --data-dir {}` for more)\n  card      受付 → マイナ保険証 → カードを確認, PIN 1234 (山田太郎's virtual card in the vpcd reader)\n  numbers   番号入力 with the numbers of any simulated person\n  outage    echo '{{\"outage\": true}}' > {}/.sim-faults.json   (remove it to end the outage)\n  data      {}\n{}",
        data.display(),
        data.display(),
        data.display(),
        if interactive { "press Enter to stop." } else { "serving until interrupted (Ctrl-C)." }
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    if interactive {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        Ok(())
    } else {
        // No terminal to read Enter from: stay up while the bridge does. Ctrl-C reaches the
        // whole process group, so the children end with us.
        children.wait_for_serve()
    }
}

/// Regenerates the committed RSA-2048 key pool of the test JPKI CA (PKCS#8 DER). Test
/// keys only: they sign the virtual cards' certificates and nothing else.
fn gen_test_keys() -> Result<()> {
    let dir = root().join("shared/card/testdata/keys");
    std::fs::create_dir_all(&dir)?;
    for name in ["ca", "person1", "person2", "person3", "person4"] {
        let out = dir.join(format!("{name}.pk8.der"));
        let out = out.to_str().context("path is not UTF-8")?;
        run(
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-outform",
                "DER",
                "-out",
                out,
            ],
        )?;
        run(
            "openssl",
            &[
                "pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-in", out, "-outform", "DER",
                "-out", out,
            ],
        )?;
    }
    Ok(())
}

fn dist() -> Result<()> {
    step("setup", setup::ensure)?;
    dist::dist()
}
