//! Pieces the screens share: bilingual text, the status bar, the result card, the PIN pad.

mod pin_pad;
mod result_card;
mod sign_in;
mod status_bar;

pub use pin_pad::PinPad;
pub use result_card::{carried, headline, Reading, ResultCard};
pub use sign_in::SignIn;
pub use status_bar::StatusBar;

use crate::state::ctx;
use leptos::prelude::*;

/// Japanese first; English beside it unless the terminal is set to Japanese only.
#[component]
pub fn Bi(ja: &'static str, en: &'static str) -> impl IntoView {
    let english = ctx().english;
    view! {
        <span lang="ja">{ja}</span>
        <Show when=move || english.get()>
            <span class="en" lang="en">{en}</span>
        </Show>
    }
}

/// The same for text made at run time (messages from the bridge are already bilingual).
#[component]
pub fn BiText(ja: String, en: String) -> impl IntoView {
    let english = ctx().english;
    view! {
        <span lang="ja">{ja}</span>
        <Show when=move || english.get()>
            <span class="en" lang="en">{en.clone()}</span>
        </Show>
    }
}

/// A labelled text input bound to `value` (the capture and correction forms).
pub fn text_field(
    label: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label class="field"><span class="label">{label}</span>
            <input data-testid=testid prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e))/>
        </label>
    }
}
