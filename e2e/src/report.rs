//! Figures a scenario wants in the end-to-end report. Each scenario writes one JSON file
//! into `E2E_REPORT_DIR` (default `<workspace>/target/e2e-report`); `cargo xtask e2e`
//! joins them with the pass/fail lines of the test run into `report.md` and `report.json`.

use std::path::PathBuf;

/// Where scenario figures go.
pub fn dir() -> PathBuf {
    std::env::var_os("E2E_REPORT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-report"))
}

/// Records `figures` for `scenario` (overwrites an earlier run's).
pub fn record(scenario: &str, figures: serde_json::Value) {
    let dir = dir().join("scenarios");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(
            dir.join(format!("{scenario}.json")),
            serde_json::to_string_pretty(&figures).unwrap_or_default(),
        );
    }
}

/// p50 and p99 of millisecond samples.
pub fn percentiles(mut samples: Vec<f64>) -> serde_json::Value {
    if samples.is_empty() {
        return serde_json::Value::Null;
    }
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    serde_json::json!({ "p50_ms": at(0.5), "p99_ms": at(0.99), "n": samples.len() })
}
