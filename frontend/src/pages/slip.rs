//! The patient slip (office bundle, no tab): the certificate's expiry printed for the
//! patient to take home, at receipt width (80 mm) or A6. The counter opens it in a new tab
//! as `office.html#slip=<the expiry's word>` — dates and the holder only, never a name or a
//! number, and a hash never reaches a server.

use crate::components::Bi;
use eligibility::expiry::{Expiry, Line};
use leptos::prelude::*;

/// The link the counter opens for `expiry` (its word is URL-safe as it stands).
pub fn href(expiry: Expiry) -> String {
    format!("/office.html#slip={}", String::from(expiry))
}

fn from_hash() -> Result<Expiry, String> {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    let word = hash.strip_prefix("#slip=").unwrap_or_default().to_string();
    Expiry::try_from(word).map_err(|_| {
        "お知らせの内容を読めません。受付画面の「お知らせを印刷」から開き直してください / cannot read the slip: open it again from 受付".to_string()
    })
}

#[component]
fn Said(line: Line, #[prop(optional)] testid: &'static str) -> impl IntoView {
    view! { <p data-testid=testid><span lang="ja">{line.ja}</span><br/><span class="en" lang="en">{line.en}</span></p> }
}

#[component]
pub fn SlipPage() -> impl IntoView {
    let a6 = RwSignal::new(false);
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    let slip = match from_hash() {
        Ok(expiry) => expiry.slip(),
        Err(why) => {
            return view! { <section class="page"><p class="error" role="alert" data-testid="slip-error">{why}</p></section> }
                .into_any()
        }
    };
    view! {
        <section class="page" data-testid="page-slip">
            // The paper size follows the choice: the browser's print dialog opens on it (A6 by
            // its millimetres: Chromium does not know the keyword).
            <style>{move || if a6.get() { "@page { size: 105mm 148mm; margin: 8mm; }" } else { "@page { size: 80mm 160mm; margin: 4mm; }" }}</style>
            <h1><Bi ja="患者さん用のお知らせ" en="Patient slip"/></h1>
            <div class="choices" role="radiogroup" aria-label="用紙 / paper">
                <button class="choice" role="radio" data-testid="slip-80mm" aria-checked=move || (!a6.get()).to_string() class:selected=move || !a6.get() on:click=move |_| a6.set(false)>"レシート幅 80 mm / receipt 80 mm"</button>
                <button class="choice" role="radio" data-testid="slip-a6" aria-checked=move || a6.get().to_string() class:selected=move || a6.get() on:click=move |_| a6.set(true)>"A6"</button>
            </div>
            <button class="primary big" data-testid="slip-print" on:click=print>"印刷 / Print"</button>
            <article class="slip" class:a6=move || a6.get() data-testid="slip">
                <h2><span lang="ja">{slip.title.ja}</span><br/><span class="en" lang="en">{slip.title.en}</span></h2>
                <Said line=slip.what testid="slip-what"/>
                <Said line=slip.last_day testid="slip-last-day"/>
                {slip.renew.into_iter().map(|l| view! { <Said line=l testid="slip-renew"/> }).collect_view()}
                <Said line=slip.printed/>
            </article>
        </section>
    }
    .into_any()
}
