//! The terminal's figures (`cargo xtask bench`): wasm and JS sizes raw/gzip/brotli, first
//! contentful paint on localhost with 4× CPU throttling (DevTools protocol), outbox enqueue
//! latency, and draining 1,000 queued receptions to the bridge. Needs the frontend built
//! (`dist/`, with its .gz/.br siblings) and the release bridge beside this binary.

use e2e::bridge::{free_port, Serve};
use e2e::browser::{bridge_binary, frontend_bench_dist, frontend_dist, Browser};
use std::time::Duration;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn sizes(dist: &std::path::Path) {
    println!("\nfrontend sizes (dist/, wasm-release profile + wasm-opt -Oz):");
    println!("{:<44} {:>10} {:>10} {:>10}", "file", "raw", "gzip -9", "brotli 11");
    let mut total_br = 0;
    let mut names: Vec<String> = std::fs::read_dir(dist)
        .expect("dist")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| [".wasm", ".js", ".css", ".html"].iter().any(|x| n.ends_with(x)))
        .collect();
    names.sort();
    for name in names {
        let path = dist.join(&name);
        let br = size(&dist.join(format!("{name}.br")));
        total_br += br;
        println!(
            "{name:<44} {:>10} {:>10} {br:>10}",
            size(&path),
            size(&dist.join(format!("{name}.gz")))
        );
    }
    println!("{:<44} {:>10} {:>10} {total_br:>10}", "total (brotli, as served)", "", "");
}

/// First contentful paint (the page's static line) and the first screen (the app mounted,
/// `performance.mark("madoguchi-first-screen")`), in ms.
async fn first_contentful_paint(b: &Browser, url: &str) -> Result<(f64, f64), String> {
    b.cdp("Emulation.setCPUThrottlingRate", serde_json::json!({ "rate": 4 })).await?;
    b.cdp("Network.enable", serde_json::json!({})).await?;
    b.cdp("Network.setCacheDisabled", serde_json::json!({ "cacheDisabled": true })).await?;
    b.goto(url).await?;
    b.find("status-bar", 30).await?;
    for _ in 0..50 {
        let v = b
            .js("const e = performance.getEntriesByName('first-contentful-paint')[0]; const s = performance.getEntriesByName('madoguchi-first-screen')[0]; return e && s ? [e.startTime, s.startTime] : null")
            .await?;
        if let (Some(fcp), Some(screen)) = (v[0].as_f64(), v[1].as_f64()) {
            return Ok((fcp, screen));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("no first-contentful-paint entry".into())
}

/// The least accessibility score either audited screen may have.
const ACCESSIBILITY_FLOOR: f64 = 0.95;

/// Lighthouse's accessibility score of `url` (npm `lighthouse` 12.2.3 from `tools/npm`,
/// driving the Debian Chromium headless), and the titles of the audits that failed.
fn lighthouse_accessibility(url: &str, out: &std::path::Path) -> (f64, Vec<String>) {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tools/npm/node_modules/.bin/lighthouse");
    let status = std::process::Command::new(&bin)
        .arg(url)
        .args([
            "--only-categories=accessibility",
            "--chrome-flags=--headless=new --no-sandbox",
            "--output=json",
            "--quiet",
        ])
        .arg(format!("--output-path={}", out.display()))
        .env("CHROME_PATH", "/usr/bin/chromium")
        .status()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo xtask setup installs it)", bin.display()));
    assert!(status.success(), "lighthouse {url}: {status}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).expect("lighthouse report"))
            .expect("lighthouse JSON");
    let score = report["categories"]["accessibility"]["score"].as_f64().expect("a score");
    let failed = report["audits"]
        .as_object()
        .map(|audits| {
            audits
                .values()
                .filter(|a| a["score"].as_f64().is_some_and(|s| s < 1.0))
                .filter_map(|a| a["title"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    (score, failed)
}

async fn call(b: &Browser, expr: &str) -> Result<Vec<f64>, String> {
    let script = format!(
        "const done = arguments[arguments.length - 1]; {expr}.then(v => done(Array.from(v)), e => done('error: ' + e));"
    );
    let value =
        b.client().execute_async(&script, vec![]).await.map_err(|e| format!("{expr}: {e}"))?;
    serde_json::from_value(value.clone()).map_err(|_| format!("{expr}: {value}"))
}

fn main() {
    let dist = frontend_dist().unwrap_or_else(|e| panic!("{e}"));
    sizes(&dist);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let data =
        std::env::temp_dir().join(format!("madoguchi-bench-terminal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let dist_arg = dist.to_str().expect("utf-8");
    let server = Serve::start(&bridge_binary(), port, &data, &["--frontend", dist_arg])
        .unwrap_or_else(|e| panic!("{e}"));
    // The outbox figures need the measurement hooks, which only the bench build has.
    let bench_dist = frontend_bench_dist().unwrap_or_else(|e| panic!("{e}"));
    let bench_data = data.join("bench-build");
    let bench_port = free_port();
    let bench_server = Serve::start(
        &bridge_binary(),
        bench_port,
        &bench_data,
        &["--frontend", bench_dist.to_str().expect("utf-8")],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let token = bench_server.pair("bench").expect("pair");
    // Accessibility (WCAG 2.2 AA is the bar; Lighthouse checks what a machine can): the
    // counter's 受付 screen and the guidance display, paired by its link as a clinic would.
    let code = server.pairing_code().expect("a pairing code");
    let mut scores = Vec::new();
    for (name, url) in [
        ("受付 / counter", format!("http://localhost:{port}/#reception")),
        ("案内画面 / display", format!("http://localhost:{port}/display.html#pair={code}")),
    ] {
        let (score, failed) = lighthouse_accessibility(&url, &data.join("lighthouse.json"));
        println!(
            "Lighthouse 12.2.3 accessibility, {name}: {score:.2}{}",
            if failed.is_empty() {
                String::new()
            } else {
                format!(" (failed: {})", failed.join("; "))
            }
        );
        scores.push((name, score));
    }
    runtime.block_on(async {
        let url = format!("http://localhost:{port}/");
        let (mut paints, mut screens) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let b = Browser::start().await.expect("browser");
            let fcp = first_contentful_paint(&b, &url).await;
            b.close().await;
            let (fcp, screen) = fcp.expect("fcp");
            paints.push(fcp);
            screens.push(screen);
        }
        paints.sort_by(f64::total_cmp);
        screens.sort_by(f64::total_cmp);
        println!(
            "\nfirst contentful paint, localhost, 4× CPU throttling, fresh profile, cache disabled (5 loads): median {:.0} ms (min {:.0}, max {:.0})",
            percentile(&paints, 0.5),
            paints[0],
            paints[paints.len() - 1]
        );
        println!(
            "first screen (the app mounted, its loading line gone), same loads: median {:.0} ms (min {:.0}, max {:.0})",
            percentile(&screens, 0.5),
            screens[0],
            screens[screens.len() - 1]
        );

        // The release build exports no bench hook.
        let b = Browser::start().await.expect("browser");
        b.goto(&url).await.expect("page");
        b.find("status-bar", 30).await.expect("app");
        let hooks = b.js("return typeof window.wasmBindings.madoguchi_bench_enqueue").await;
        assert_eq!(hooks.expect("js"), serde_json::json!("undefined"), "release build has bench hooks");
        b.close().await;
        let url = format!("http://localhost:{bench_port}/");
        let b = Browser::start().await.expect("browser");
        b.goto(&url).await.expect("page");
        b.find("status-bar", 30).await.expect("app");
        let mut enqueue =
            call(&b, "window.wasmBindings.madoguchi_bench_enqueue('madoguchi-bench', 300)")
                .await
                .expect("enqueue");
        enqueue.sort_by(f64::total_cmp);
        println!(
            "outbox enqueue (one strict transaction: reception + outbox row), 300 receptions: p50 {:.1} ms, p99 {:.1} ms",
            percentile(&enqueue, 0.5),
            percentile(&enqueue, 0.99)
        );
        let drained = call(
            &b,
            &format!("window.wasmBindings.madoguchi_bench_drain('madoguchi-bench', '{token}', 1000)"),
        )
        .await
        .expect("drain");
        println!(
            "draining 1,000 queued receptions to the bridge (batches of 100, ack-only deletion): {:.0} ms, {} acknowledged",
            drained[0], drained[1]
        );
        b.close().await;
    });
    drop(bench_server);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    for (name, score) in scores {
        assert!(
            score >= ACCESSIBILITY_FLOOR,
            "{name}: accessibility {score} < {ACCESSIBILITY_FLOOR}"
        );
    }
}
