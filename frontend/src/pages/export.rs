//! 受付の書き出し: the receipt computer's CSV of one visit day from this terminal's copy of
//! the ledger (and its unacknowledged ops) — the same rows and columns as `bridge export`.
//! On the office's page: the counter does not hand off to the レセコン.

use crate::components::Bi;
use crate::state::{self, ctx};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Saves `text` as a UTF-8 CSV (with the BOM Excel and most レセコン need) named `name`.
pub(super) fn download(name: &str, text: &str) {
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
pub fn ExportCard() -> impl IntoView {
    let c = ctx();
    let day = RwSignal::new(crate::ids::today_jst().map(|d| d.to_string()).unwrap_or_default());
    let message = RwSignal::new(None::<String>);
    let export = move |_| {
        let text = day.get_untracked();
        let Ok(visit) = text.parse::<eligibility::Date>() else {
            return message.set(Some(
                "受診日を YYYY-MM-DD で入力してください / enter the visit day as YYYY-MM-DD".into(),
            ));
        };
        let records = state::records(&c.ledger.get_untracked(), &c.pending_ops.get_untracked());
        let rows: Vec<reception::export::Row> = reception::export::select(&records, visit, 0)
            .into_iter()
            .map(|s| reception::export::row(s, ""))
            .collect();
        message.set(Some(format!(
            "{} 件を書き出しました / {} rows exported",
            rows.len(),
            rows.len()
        )));
        download(&format!("madoguchi-{visit}.csv"), &reception::export::csv(&rows));
        // An export is an audited access, by the signed-in person.
        if let Some(token) = c.token.get_untracked() {
            leptos::task::spawn_local(crate::staff::viewed(token, "export", visit.to_string()));
        }
    };
    view! {
        <section class="card" data-testid="export">
            <h2><Bi ja="受付の書き出し（レセコン用 CSV）" en="Export receptions (CSV for the receipt computer)"/></h2>
            <p><Bi ja="この端末が持つ受付のうち、指定した受診日のもの。全件はブリッジの bridge export で。" en="This terminal's copy of the day's receptions; `bridge export` has them all."/></p>
            <label class="field"><span class="label">"受診日 / Visit day"</span>
                <input data-testid="export-day" type="date" prop:value=move || day.get()
                    on:input=move |e| day.set(event_target_value(&e))/>
            </label>
            <button class="big" data-testid="export-csv" on:click=export>"CSV出力 / Export CSV"</button>
            {move || message.get().map(|m| view! { <p data-testid="export-message" role="status">{m}</p> })}
        </section>
    }
}
