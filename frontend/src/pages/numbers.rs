//! 番号入力: numbers from a 資格確認書, お知らせ or マイナポータル screen, validated as they
//! are typed by the same parsers the bridge uses (the wrong check digit is marked, with
//! the expected one); then a lookup by numbers, or — when the national system is down —
//! a reception recorded for 事後確認 with these numbers.

use super::reception_from;
use crate::components::{Bi, Reading, ResultCard};
use crate::model::{Method, Reception};
use crate::state::{self, ctx};
use eligibility::identifiers::{BranchNumber, IdentifierError, InsuredNumber, InsuredSymbol};
use eligibility::{Date, InsurerNumber};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// A field's verdict as typed: `None` while empty, else ok or the error's message.
fn verdict<T>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, IdentifierError>,
) -> Option<Result<(), String>> {
    if text.trim().is_empty() {
        return None;
    }
    Some(parse(text).map(|_| ()).map_err(|e| e.to_string()))
}

#[component]
fn Field(
    label_ja: &'static str,
    label_en: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
    check: Signal<Option<Result<(), String>>>,
    /// The wrong digit's position and the expected digit, for the highlight.
    check_digit: Signal<Option<(String, u8)>>,
    #[prop(optional)] inputmode: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span class="label"><Bi ja=label_ja en=label_en/></span>
            <input data-testid=testid inputmode=if inputmode.is_empty() { "numeric" } else { inputmode }
                class:invalid=move || matches!(check.get(), Some(Err(_)))
                class:valid=move || matches!(check.get(), Some(Ok(())))
                aria-invalid=move || matches!(check.get(), Some(Err(_))).to_string()
                prop:value=move || value.get()
                on:input=move |e| value.set(event_target_value(&e)) />
            {move || check_digit.get().map(|(body, expected)| {
                let (head, last) = body.split_at(body.len().saturating_sub(1));
                view! {
                    <span class="digits" data-testid=format!("{testid}-check-digit")>
                        {head.to_string()}<mark>{last.to_string()}</mark>
                        {format!(" → {expected}")}
                    </span>
                }
            })}
            {move || match check.get() {
                Some(Err(message)) => Some(view! { <span class="field-error" data-testid=format!("{testid}-error")>{message}</span> }),
                _ => None,
            }}
        </label>
    }
}

#[component]
pub fn NumbersPage() -> impl IntoView {
    let c = ctx();
    let insurer = RwSignal::new(String::new());
    let symbol = RwSignal::new(String::new());
    let number = RwSignal::new(String::new());
    let branch = RwSignal::new(String::new());
    let birth = RwSignal::new(String::new());
    let reading = RwSignal::new(None::<Reading>);
    // The day's booking the looked-up patient is (the bridge matches it), and what changed
    // since the 一括照会 (as text: a signal of a new type costs the wasm budget ~5 KB).
    let booking = RwSignal::new(None::<String>);
    let booking_changed = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let recorded = RwSignal::new(None::<String>);
    let offline_offer = RwSignal::new(false);

    let insurer_check = Signal::derive(move || verdict(&insurer.get(), InsurerNumber::parse));
    let insurer_digit = Signal::derive(move || match InsurerNumber::parse(&insurer.get()) {
        Err(IdentifierError::CheckDigit { expected, .. }) => {
            Some((eligibility::text::fold(&insurer.get()), expected))
        }
        _ => None,
    });
    let none = Signal::derive(|| None::<(String, u8)>);
    let symbol_check = Signal::derive(move || verdict(&symbol.get(), InsuredSymbol::parse));
    let number_check = Signal::derive(move || verdict(&number.get(), InsuredNumber::parse));
    let branch_check = Signal::derive(move || verdict(&branch.get(), BranchNumber::parse));
    let birth_check = Signal::derive(move || {
        let t = birth.get();
        if t.trim().is_empty() {
            None
        } else {
            Some(Date::parse(&t).map(|_| ()).map_err(|e| e.to_string()))
        }
    });
    let all_ok = move || {
        matches!(insurer_check.get(), Some(Ok(())))
            && matches!(number_check.get(), Some(Ok(())))
            && matches!(birth_check.get(), Some(Ok(())))
            && !matches!(symbol_check.get(), Some(Err(_)))
            && !matches!(branch_check.get(), Some(Err(_)))
    };
    let query = move || protocol::LookupQuery {
        insurer: insurer.get_untracked(),
        symbol: Some(symbol.get_untracked()).filter(|s| !s.trim().is_empty()),
        number: number.get_untracked(),
        branch: Some(branch.get_untracked()).filter(|s| !s.trim().is_empty()),
        birth: Date::parse(&birth.get_untracked()).map(|d| d.to_string()).unwrap_or_default(),
        visit: None,
        limit_consent: true,
    };
    let lookup = move |_| {
        // A new patient: the last one's result and "recorded" line go.
        message.set(None);
        recorded.set(None);
        reading.set(None);
        booking.set(None);
        booking_changed.set(None);
        offline_offer.set(false);
        let Some(token) = c.token.get_untracked() else {
            message.set(Some(
                "先に設定でペアリングしてください / pair this terminal in 設定 first".into(),
            ));
            return;
        };
        let q = query();
        spawn_local(async move {
            match crate::net::lookup(&token, &q).await {
                Ok(body) => {
                    let m = body.booking.as_ref();
                    booking.set(m.map(super::bookings::match_text));
                    booking_changed
                        .set(m.filter(|m| !m.changed.is_empty()).map(|m| m.changed.join("、")));
                    reading.set(Some(crate::components::carried(body)))
                }
                Err(crate::net::NetError::Refused { code, message: m, .. })
                    if code == "gateway_unavailable" =>
                {
                    message.set(Some(m));
                    offline_offer.set(true);
                }
                Err(e @ crate::net::NetError::Unreachable(_)) => {
                    message.set(Some(e.to_string()));
                    offline_offer.set(true);
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let record = Callback::new(move |r: Reading| {
        let reception = match reception_from(&r, Method::Certificate, None) {
            Ok(reception) => reception,
            Err(e) => return message.set(Some(e)),
        };
        spawn_local(async move {
            match state::record(c, reception).await {
                Ok(false) => {}
                Ok(true) => {
                    recorded.set(Some("受付済（未送信）/ recorded (not yet sent)".into()));
                    reading.set(None);
                }
                Err(e) => message.set(Some(e)),
            }
        });
    });
    let record_follow_up = move |_| {
        // The 事後確認 asks for the visit's date, not for the day it finally runs (an
        // outage can last past midnight or a month end).
        let mut q = query();
        q.visit = crate::ids::today_jst().map(|d| d.to_string());
        let Some(visit) = crate::ids::today_jst() else {
            return message.set(Some(super::NO_CLOCK.into()));
        };
        let mut record = reception::status::reception_for_follow_up(
            visit,
            fallback::Presented::EligibilityCertificate,
            q,
        );
        record.note = Some("書類の番号で受付。通常の負担割合を徴収 / numbers from the document; normal copay collected".into());
        let reception = Reception::new(record);
        spawn_local(async move {
            match state::record(c, reception).await {
                Ok(false) => {}
                Ok(true) => {
                    recorded.set(Some(
                        "受付済（未送信）・事後確認待ち / recorded, follow-up pending".into(),
                    ));
                    offline_offer.set(false);
                }
                Err(e) => message.set(Some(e)),
            }
        });
    };
    view! {
        <section class="page" data-testid="page-numbers">
            <h1><Bi ja="番号入力" en="Enter numbers"/></h1>
            <div class="form">
                <Field label_ja="保険者番号" label_en="Insurer number" testid="insurer" value=insurer check=insurer_check check_digit=insurer_digit/>
                <Field label_ja="記号" label_en="Symbol" testid="symbol" value=symbol check=symbol_check check_digit=none inputmode="text"/>
                <Field label_ja="番号" label_en="Number" testid="number" value=number check=number_check check_digit=none inputmode="text"/>
                <Field label_ja="枝番" label_en="Branch" testid="branch" value=branch check=branch_check check_digit=none/>
                <Field label_ja="生年月日（YYYY-MM-DD）" label_en="Birth date" testid="birth" value=birth check=birth_check check_digit=none/>
            </div>
            <button class="primary big" data-testid="lookup" prop:disabled=move || !all_ok() on:click=lookup>
                "照会 / Look up"
            </button>
            {move || recorded.get().map(|t| view! { <p class="recorded" data-testid="recorded">{t}</p> })}
            {move || message.get().map(|t| view! { <p class="error" data-testid="message">{t}</p> })}
            <Show when=move || offline_offer.get()>
                <button class="primary big" data-testid="record-follow-up" prop:disabled=move || c.saving.get() on:click=record_follow_up>
                    "この番号で受付し、事後確認する / Record now, confirm later"
                </button>
            </Show>
            {move || booking.get().map(|t| view! { <p class="booking" data-testid="face-booking">{t}</p> })}
            {move || booking_changed.get().map(|t| view! { <p class="warn" role="alert" data-testid="face-booking-changed">{format!("前日の照会から変わりました：{t} / changed since last night")}</p> })}
            {move || reading.get().map(|r| view! { <ResultCard reading=r on_record=record/> })}
        </section>
    }
}
