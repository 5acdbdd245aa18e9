//! 本日の受付: today's receptions of the whole clinic (pulled from the bridge) merged with
//! this terminal's own rows not yet acknowledged; method, status, copay and sync state per
//! row; a filter; CSV export.

use crate::components::Bi;
use crate::model::{Method, Reception, Status, SyncState};
use crate::state::ctx;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// One row of the ledger view.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub record_id: String,
    pub time: String,
    pub name: String,
    pub method: String,
    pub status: String,
    pub copay: String,
    pub sync: String,
}

fn status_label(s: &serde_json::Value) -> String {
    serde_json::from_value::<Status>(s.clone())
        .map(|s| s.label().0.to_string())
        .unwrap_or_else(|_| s.as_str().unwrap_or("").to_string())
}

fn method_label(m: &serde_json::Value) -> String {
    serde_json::from_value::<Method>(m.clone()).map(|m| m.label().0.to_string()).unwrap_or_default()
}

/// Ledger events (reception, follow-up results, face results) and local pending rows.
pub fn rows(ledger: &[protocol::StoredEvent], local: &[Reception]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for e in ledger {
        match e.kind.as_str() {
            "reception" => rows.push(Row {
                record_id: e.record_id.clone(),
                time: e.device_time.clone(),
                name: e.body["patient"]["name"].as_str().unwrap_or("").to_string(),
                method: method_label(&e.body["method"]),
                status: status_label(&e.body["status"]),
                copay: e.body["copay_percent"]
                    .as_u64()
                    .map(|p| format!("{}割", p / 10))
                    .unwrap_or_default(),
                sync: "送信済 / synced".into(),
            }),
            "follow_up_result" => {
                let done = e.body["state"] == "done";
                let confirmed =
                    e.body["result"]["interpretation"]["status"]["status"] == "confirmed";
                if let Some(row) = rows.iter_mut().find(|r| r.record_id == e.record_id) {
                    row.status = match (done, confirmed) {
                        (true, true) => "確認済（事後）".into(),
                        _ => "要対応".into(),
                    };
                    if let Some(p) = e.body["result"]["interpretation"]["copay"]["percent"].as_u64()
                    {
                        row.copay = format!("{}割", p / 10);
                    }
                }
            }
            _ => {}
        }
    }
    for r in local {
        if matches!(r.sync, SyncState::Acknowledged { .. })
            && rows.iter().any(|x| x.record_id == r.record_id)
        {
            continue;
        }
        rows.push(Row {
            record_id: r.record_id.clone(),
            time: r.created.clone(),
            name: r.patient.name.clone().unwrap_or_default(),
            method: r.method.label().0.to_string(),
            status: r.status.label().0.to_string(),
            copay: r.copay_percent.map(|p| format!("{}割", p / 10)).unwrap_or_default(),
            sync: match &r.sync {
                SyncState::Pending => "受付済（未送信）".into(),
                SyncState::Acknowledged { .. } => "送信済 / synced".into(),
                SyncState::NeedsAttention { reason } => format!("要対応: {reason}"),
            },
        });
    }
    rows.sort_by(|a, b| b.time.cmp(&a.time));
    rows
}

fn csv(rows: &[Row]) -> String {
    let field = |v: &str| {
        if v.contains([',', '"', '\n']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_string()
        }
    };
    let mut out = String::from("time,name,method,status,copay,sync,record_id\n");
    for r in rows {
        let line = [&r.time, &r.name, &r.method, &r.status, &r.copay, &r.sync, &r.record_id]
            .map(|v| field(v))
            .join(",");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn download(name: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(&format!("\u{feff}{text}")));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    if let Ok(a) =
        document.create_element("a").map(|e| e.unchecked_into::<web_sys::HtmlAnchorElement>())
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

#[component]
pub fn LedgerPage() -> impl IntoView {
    let c = ctx();
    let filter = RwSignal::new(String::new());
    let day = crate::ids::today_jst();
    let today = day.map(|d| d.to_string()).unwrap_or_default();
    // Today in Japan only: the pulled ledger keeps earlier days too.
    let all = Memo::new(move |_| {
        let mut list = rows(&c.ledger.get(), &c.receptions.get());
        list.retain(|r| crate::ids::jst_date(&r.time) == day);
        list
    });
    let shown = move || {
        let f = filter.get();
        all.get()
            .into_iter()
            .filter(|r| {
                f.is_empty()
                    || r.status.contains(&f)
                    || r.name.contains(&f)
                    || r.method.contains(&f)
            })
            .collect::<Vec<_>>()
    };
    view! {
        <section class="page" data-testid="page-ledger">
            <h1><Bi ja="本日の受付" en="Today's receptions"/></h1>
            <div class="row">
                <input class="filter" data-testid="ledger-filter" placeholder="絞り込み（氏名・状態）/ filter"
                    prop:value=move || filter.get() on:input=move |e| filter.set(event_target_value(&e))/>
                <button class="big" data-testid="ledger-csv" on:click=move |_| download(&format!("madoguchi-{today}.csv"), &csv(&shown()))>
                    "CSV出力 / Export CSV"
                </button>
            </div>
            <p data-testid="ledger-count">{move || format!("{} 件 / rows", shown().len())}</p>
            <table class="ledger" data-testid="ledger-table">
                <thead><tr><th>"時刻"</th><th>"氏名"</th><th>"方法"</th><th>"状態"</th><th>"負担"</th><th>"同期"</th></tr></thead>
                <tbody>
                    {move || shown().into_iter().map(|r| view! {
                        <tr data-testid="ledger-row" data-record=r.record_id.clone()>
                            <td>{crate::ids::jst_hhmm(&r.time)}</td>
                            <td>{r.name}</td><td>{r.method}</td>
                            <td data-testid="ledger-status">{r.status}</td>
                            <td>{r.copay}</td>
                            <td data-testid="ledger-sync">{r.sync}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
