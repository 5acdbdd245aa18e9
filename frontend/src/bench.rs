//! Measurement hooks for `cargo xtask bench` (called from WebDriver through Trunk's
//! `window.wasmBindings`). They use their own database, never the terminal's.

use crate::model::Reception;
use wasm_bindgen::prelude::*;

fn reception(n: u32) -> Reception {
    let record = serde_json::from_value(serde_json::json!({
        "schema": 2, "visit": "2026-11-26", "presented": "myna_card",
        "established": "online_confirmation", "status": "confirmed", "claim": { "plan": "normal" },
        "patient": { "name": format!("ベンチ{n}") }
    }));
    Reception::new(record.unwrap_or_else(|e| wasm_bindgen::throw_str(&e.to_string())))
}

async fn fresh(db: &str) -> Result<crate::store::Store, JsValue> {
    crate::store::delete(db).await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    crate::store::open(db).await.map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Records `n` receptions one by one (each its own strict transaction, as at the counter);
/// returns each one's milliseconds until committed.
#[wasm_bindgen]
pub async fn madoguchi_bench_enqueue(db: String, n: u32) -> Result<Vec<f64>, JsValue> {
    let store = fresh(&db).await?;
    let performance = web_sys::window().and_then(|w| w.performance()).ok_or("no performance")?;
    let mut times = Vec::with_capacity(n as usize);
    for i in 0..n {
        let r = reception(i);
        let start = performance.now();
        store
            .record(&r, &r.to_op(), js_sys::Date::now())
            .await
            .map_err(|e| JsValue::from_str(&e.to_string()))?;
        times.push(performance.now() - start);
    }
    store.close();
    Ok(times)
}

/// Queues `n` receptions, then drains them to the bridge with `token`; returns
/// `[milliseconds to drain, rows acknowledged]`.
#[wasm_bindgen]
pub async fn madoguchi_bench_drain(db: String, token: String, n: u32) -> Result<Vec<f64>, JsValue> {
    let store = fresh(&db).await?;
    for i in 0..n {
        let r = reception(i);
        store
            .record(&r, &r.to_op(), js_sys::Date::now())
            .await
            .map_err(|e| JsValue::from_str(&e.to_string()))?;
    }
    let performance = web_sys::window().and_then(|w| w.performance()).ok_or("no performance")?;
    let start = performance.now();
    let drained =
        crate::sync::drain(&store, &token).await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    let ms = performance.now() - start;
    store.close();
    Ok(vec![ms, drained.0.acknowledged as f64])
}
