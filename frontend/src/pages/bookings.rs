//! 本日の予約: the day's booked patients and what the evening's 一括照会 said of each
//! (the bridge's list; read once when the screen opens, again on demand).

use crate::components::Bi;
use crate::state::ctx;
use leptos::prelude::*;
use leptos::task::spawn_local;
use reception::booking::{BookingLine, BookingMatch};

/// A face result's booking, in words: `予約 09:00 P0001 ・ 前日確認：有効`.
pub fn match_text(m: &BookingMatch) -> String {
    let state = m.pre_state.map_or("前日確認なし / not pre-confirmed", |s| s.label());
    format!("予約 {} {} ・ {state}", m.time.as_deref().unwrap_or(""), m.patient_id)
}

/// A result's booking: which one, its evening state, and what changed since (flagged).
#[component]
pub fn BookingNote(m: BookingMatch) -> impl IntoView {
    view! {
        <span class="booking" data-testid="face-booking">{match_text(&m)}</span>
        {(!m.changed.is_empty()).then(|| view! {
            <span class="warn" role="alert" data-testid="face-booking-changed">{format!("前日の照会から変わりました：{} / changed since last night", m.changed.join("、"))}</span>
        })}
    }
}

#[component]
pub fn BookingsToday() -> impl IntoView {
    let c = ctx();
    let rows = RwSignal::new(Vec::<BookingLine>::new());
    let note = RwSignal::new(String::from("読み込み中… / loading"));
    let load = move || {
        spawn_local(async move {
            let Some(token) = c.token.get_untracked() else { return };
            match crate::net::bookings(&token).await {
                Ok(list) => {
                    note.set(if list.is_empty() {
                        "予約はありません / no bookings".into()
                    } else {
                        String::new()
                    });
                    rows.set(list);
                }
                Err(e) => note.set(e.to_string()),
            }
        })
    };
    load();
    view! {
        <section class="card" data-testid="bookings">
            <h2><Bi ja="本日の予約（前日の一括照会）" en="Today's bookings (pre-confirmed last night)"/></h2>
            <button class="small" data-testid="bookings-reload" on:click=move |_| load()>"更新 / reload"</button>
            <p data-testid="bookings-note">{note}</p>
            <ul>
                {move || rows.get().into_iter().map(|b| {
                    let state = b.pre_state.map_or("未照会 / not yet", |s| s.label());
                    let line = format!("{} {} {} — ", b.time.as_deref().unwrap_or("--:--"), b.patient_id, b.who);
                    view! {
                        <li data-testid="booking-row" data-patient=b.patient_id>
                            {line}<span data-testid="booking-state">{state}</span>
                            {b.id_failed.map(|why| view! {
                                <span class="warn" role="alert" data-testid="booking-id-failed">{format!(" 照会番号の登録に失敗：{why} / ID not registered")}</span>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
