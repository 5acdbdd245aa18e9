//! 予約 (the office's bundle): 本日の予約 — the day's booked patients and what the evening's
//! 一括照会 said of each (the bridge's list; read when the screen opens, again on demand) —
//! and one booking added or corrected, its numbers from the patient's last visit.
//! `match_text` / `BookingNote` are the counter's: a result's booking, in words.

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

/// The booking form's fields: the CSV's column names (the bridge checks them like a row).
const FIELDS: [(&str, &str); 10] = [
    ("date", "予約日 / Date (YYYY-MM-DD)"),
    ("time", "時刻 / Time (HH:MM)"),
    ("patient_id", "患者番号 / Patient id"),
    ("kana", "カナ / Kana"),
    ("name", "氏名 / Name"),
    ("birth", "生年月日 / Birth (YYYY-MM-DD)"),
    ("insurer", "保険者番号 / Insurer"),
    ("symbol", "記号 / Symbol"),
    ("number", "番号 / Number"),
    ("branch", "枝番 / Branch"),
];

/// The four number fields from `numbers` (emptied without them).
fn set_numbers(field: &impl Fn(&str) -> RwSignal<String>, numbers: Option<&reception::Numbers>) {
    for (key, value) in [
        ("insurer", numbers.map(|n| n.insurer.clone())),
        ("symbol", numbers.and_then(|n| n.symbol.clone())),
        ("number", numbers.map(|n| n.number.clone())),
        ("branch", numbers.and_then(|n| n.branch.clone())),
    ] {
        field(key).set(value.unwrap_or_default());
    }
}

#[component]
pub fn BookingsPage() -> impl IntoView {
    let c = ctx();
    let values: Vec<RwSignal<String>> =
        FIELDS.iter().map(|_| RwSignal::new(String::new())).collect();
    let tomorrow = crate::ids::today_jst().map(|d| d.succ().to_string()).unwrap_or_default();
    values[0].set(tomorrow);
    let field = {
        let values = values.clone();
        move |key: &str| values[FIELDS.iter().position(|(k, _)| *k == key).unwrap_or(0)]
    };
    let message = RwSignal::new(None::<String>);
    let refresh = RwSignal::new(0u32);
    let fill = {
        let field = field.clone();
        move |b: &reception::booking::Booking| {
            for (key, value) in [
                ("time", b.time.clone()),
                ("kana", b.kana.clone()),
                ("name", b.name.clone()),
                ("birth", Some(b.birth.to_string())),
            ] {
                field(key).set(value.unwrap_or_default());
            }
            set_numbers(&field, b.numbers.as_ref());
        }
    };
    // 訂正: the stored booking of this patient and day into the form.
    let load = {
        let (field, fill) = (field.clone(), fill.clone());
        move |_| {
            let (date, id) = (field("date").get_untracked(), field("patient_id").get_untracked());
            let fill = fill.clone();
            spawn_local(async move {
                let Some(token) = c.token.get_untracked() else { return };
                let rows = crate::net::booking_rows(&token, date.trim()).await;
                match rows.map(|rows| rows.into_iter().find(|r| r.booking.patient_id == id.trim()))
                {
                    Ok(Some(row)) => {
                        fill(&row.booking);
                        message.set(Some(format!("読み込みました / loaded: {}", row.booking_id)));
                    }
                    Ok(None) => message
                        .set(Some("この日のこの患者の予約はありません / no such booking".into())),
                    Err(e) => message.set(Some(e.to_string())),
                }
            })
        }
    };
    // The patient index (this terminal's and the bridge's): the last visit's numbers.
    let from_history = {
        let field = field.clone();
        move |_| {
            let typed = |k: &str| Some(field(k).get_untracked()).filter(|v| !v.trim().is_empty());
            let patient = reception::Patient {
                name: typed("name"),
                kana: typed("kana"),
                birth: typed("birth"),
                ..reception::Patient::default()
            };
            let field = field.clone();
            spawn_local(async move {
                match crate::state::last_visit(c, patient)
                    .await
                    .and_then(|r| r.claim_numbers().cloned())
                {
                    Some(n) => {
                        set_numbers(&field, Some(&n));
                        message.set(Some(
                            "前回の受診の番号を入れました / the last visit's numbers".into(),
                        ));
                    }
                    None => message
                        .set(Some("前回の受診が見つかりません / no earlier visit found".into())),
                }
            })
        }
    };
    let save = {
        let field = field.clone();
        move |_| {
            let body: serde_json::Map<String, serde_json::Value> = FIELDS
                .iter()
                .map(|(k, _)| (k.to_string(), field(k).get_untracked().into()))
                .collect();
            spawn_local(async move {
                let Some(token) = c.token.get_untracked() else { return };
                match crate::net::put_booking(&token, serde_json::Value::Object(body).to_string())
                    .await
                {
                    Ok(b) => {
                        message.set(Some(format!("保存しました / saved: {}", b.id())));
                        refresh.update(|n| *n += 1);
                    }
                    Err(e) => message.set(Some(e.to_string())),
                }
            })
        }
    };
    let input = crate::components::text_field;
    view! {
        <section class="page" data-testid="page-bookings">
            <h1><Bi ja="予約" en="Bookings"/></h1>
            <BookingsToday refresh=refresh/>
            <section class="card" data-testid="booking-form">
                <h2><Bi ja="予約の追加・訂正" en="Add or correct a booking"/></h2>
                <div class="form">
                    {FIELDS.iter().zip(values.clone()).map(|((key, label), value)| input(label, key, value)).collect_view()}
                </div>
                <div class="row">
                    <button class="big" data-testid="booking-load" on:click=load>"読み込む（訂正）/ load to correct"</button>
                    <button class="big" data-testid="booking-from-history" on:click=from_history>"前回の番号 / last visit's numbers"</button>
                    <button class="primary big" data-testid="booking-save" on:click=save>"保存 / Save"</button>
                </div>
                {move || message.get().map(|t| view! { <p class="notice" data-testid="booking-message">{t}</p> })}
            </section>
        </section>
    }
}

#[component]
pub fn BookingsToday(refresh: RwSignal<u32>) -> impl IntoView {
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
    // Again when the token arrives (the office page reads it from IndexedDB after the
    // first render) and after every save.
    Effect::new(move |_| {
        refresh.track();
        c.token.track();
        load()
    });
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
