//! 受付: what the patient presents; face-auth results arrive on their own; the own-reader
//! path (check → PIN pad → confirm); the smartphone's three steps; the result card.

use super::reception_from;
use crate::components::{Bi, PinPad, Reading, ResultCard};
use crate::model::Method;
use crate::state::{self, ctx};
use crate::ws;
use card::jpki::Holder;
use card::ops::CheckReport;
use card::pin::PinStatus;
use guidance::{PhoneOs, Step};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{ClientMessage, ServerMessage};

#[component]
pub fn ReceptionPage(go: WriteSignal<crate::app::Page>) -> impl IntoView {
    let c = ctx();
    let method = RwSignal::new(None::<Method>);
    let check = RwSignal::new(None::<CheckReport>);
    let reading = RwSignal::new(None::<Reading>);
    let message = RwSignal::new(None::<String>);
    let recorded = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let record = Callback::new(move |r: Reading| {
        let m = method.get_untracked().unwrap_or(Method::Card);
        let mut reception = match reception_from(&r, m, None) {
            Ok(reception) => reception,
            Err(e) => return message.set(Some(e)),
        };
        reception.record.certificate = checked_expiry(check);
        spawn_local(async move {
            match state::record(c, reception).await {
                Ok(true) => {
                    recorded.set(Some("受付済（未送信）/ recorded (not yet sent)".into()));
                    reading.set(None);
                    check.set(None);
                    state::guide(if matches!(m, Method::Card | Method::Smartphone) {
                        Step::Confirmed
                    } else {
                        Step::Invite
                    });
                }
                Ok(false) => {}
                Err(e) => message.set(Some(e)),
            }
        });
    });
    let record_face = move |body: reception::reading::Carried| {
        let r = crate::components::carried(body.clone());
        let mut reception = match reception_from(
            &r,
            Method::Card,
            Some("顔認証付きカードリーダー / face-auth reader".into()),
        ) {
            Ok(reception) => reception,
            Err(e) => return message.set(Some(e)),
        };
        reception.record.face_file = body.file.clone();
        reception.record.certificate = checked_expiry(check);
        check.set(None);
        spawn_local(async move {
            match state::record(c, reception).await {
                Ok(false) => {}
                Ok(true) => {
                    // By content, not index: another counter's result may have arrived (or
                    // left) while this one was being recorded.
                    c.face.update(|f| f.retain(|b| *b != body));
                    recorded.set(Some("受付済（未送信）/ recorded (not yet sent)".into()));
                    state::guide(Step::Confirmed);
                }
                Err(e) => message.set(Some(e)),
            }
        });
    };
    let do_check = move |_| {
        busy.set(true);
        message.set(None);
        spawn_local(async move {
            if state::use_usb(c) {
                match crate::usb::check(state::policy(c)).await {
                    Ok(report) => checked(check, report),
                    Err(e) => message.set(Some(e)),
                }
                busy.set(false);
                return;
            }
            match ws::request(ClientMessage::CheckCard { reader: None }).await {
                Ok(ServerMessage::CardResult { body }) => match check_report(body) {
                    Ok(report) => checked(check, report),
                    Err(e) => message.set(Some(e)),
                },
                Ok(reply) => message.set(Some(refusal(reply))),
                Err(e) => message.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let connect_usb = move |_| {
        message.set(None);
        spawn_local(async move {
            match crate::usb::request().await {
                Ok(device) => {
                    crate::usb::set_device(Some(device));
                    c.usb_reader.set(crate::usb::device_name().map(String::from));
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let tries_left = Signal::derive(move || {
        check.with(|c| {
            c.as_ref().and_then(|c| match c.auth_pin {
                PinStatus::TriesLeft(n) => Some(n),
                PinStatus::Blocked => Some(0),
                PinStatus::Verified => None,
            })
        })
    });
    // The PIN pad: only for the bridge's reader, and only where its gateway can confirm a
    // card (the simulator in a test build). A clinic's gateway never can — the face-auth
    // reader confirms cards — so this device's own USB reader pre-checks only.
    let pin_here = move || c.can_confirm_card.get() && !state::use_usb(c);
    let confirm = Callback::new(move |(pin, staff): (String, bool)| {
        busy.set(true);
        message.set(None);
        spawn_local(async move {
            let request = ClientMessage::ConfirmCard {
                reader: None,
                pin: protocol::SecretPin::new(pin),
                staff_confirmed_last_try: staff,
            };
            match ws::request(request).await {
                Ok(ServerMessage::CardResult { body }) => {
                    let body = serde_json::from_value(body).unwrap_or_default();
                    reading.set(Some(crate::components::carried(body)));
                }
                Ok(reply) => {
                    let unavailable = matches!(&reply, ServerMessage::Error { code, .. } if code == "gateway_unavailable");
                    let mut text = refusal(reply);
                    if unavailable {
                        text.push_str(" → 困ったとき（障害時）/ see 困ったとき (outage)");
                    }
                    message.set(Some(text));
                    // The counter changed (or not): read it again, spending nothing.
                    if let Ok(ServerMessage::CardResult { body }) =
                        ws::request(ClientMessage::CheckCard { reader: None }).await
                    {
                        check.set(check_report(body).ok());
                    }
                }
                Err(e) => message.set(Some(e)),
            }
            busy.set(false);
        });
    });

    view! {
        <section class="page" data-testid="page-reception">
            <h1><Bi ja="受付" en="Reception"/></h1>
            <Show when=move || c.face_hidden.get() && !c.face.with(Vec::is_empty)>
                <section class="face-results" data-testid="face-results-hidden">
                    <p>{move || format!("顔認証の結果 {} 件（画面に触れると表示）/ {} face-auth results (touch the screen to show)", c.face.with(Vec::len), c.face.with(Vec::len))}</p>
                </section>
            </Show>
            <Show when=move || !c.face_hidden.get() && !c.face.with(Vec::is_empty)>
                <section class="face-results" data-testid="face-results">
                    <h2><Bi ja="顔認証付きカードリーダーの結果" en="Face-auth reader results"/></h2>
                    // Keyed by result file: a row keeps its node and its button while other
                    // counters' results arrive above it or leave.
                    <For each=move || c.face.get() key=|body| body.file.clone().unwrap_or_default() let:body>
                        {
                        let r = crate::components::carried(body.clone());
                        let (ja, en) = crate::components::headline(&r);
                        view! {
                            <div class="face-row" data-testid="face-result">
                                <span class="name">{r.patient.name.clone().unwrap_or_default()}</span>
                                <span>{r.patient.kana.clone().unwrap_or_default()}</span>
                                <span class=if r.confirmed() { "ok" } else { "warn" }>{ja}" / "{en}</span>
                                <span>{r.copay.as_ref().map(|c| format!("{}割", c.percent / 10))}</span>
                                {body.booking.clone().map(|m| view! { <super::bookings::BookingNote m=m/> })}
                                <button class="primary" data-testid="face-record" prop:disabled=move || c.saving.get() on:click=move |_| record_face(body.clone())>"受付を記録 / Record"</button>
                            </div>
                        }
                        }
                    </For>
                </section>
            </Show>
            <h2><Bi ja="患者さんが提示したもの" en="What the patient presents"/></h2>
            <div class="choices" role="radiogroup">
                {Method::ALL.map(|m| {
                    let (ja, en) = m.label();
                    view! {
                        <button class="choice" role="radio" data-testid=format!("method-{}", m.id())
                            aria-checked=move || (method.get() == Some(m)).to_string()
                            class:selected=move || method.get() == Some(m)
                            on:click=move |_| {
                                method.set(Some(m));
                                recorded.set(None);
                                reading.set(None);
                                state::guide(match m {
                                    Method::Card => Step::Card,
                                    Method::Smartphone => Step::PhoneFirst,
                                    _ => Step::Invite,
                                });
                            }>
                            <Bi ja=ja en=en/>
                        </button>
                    }
                })}
            </div>
            {move || recorded.get().map(|t| view! { <p class="recorded" data-testid="recorded">{t}</p> })}
            {move || match method.get() {
                Some(Method::Card) => view! {
                    <section class="card">
                        <p><Bi ja="顔認証付きカードリーダーで確認した結果は上に自動で表示されます。この端末の読み取り機で確認する場合:" en="Results from the face-auth reader appear above by themselves. To use this terminal's reader:"/></p>
                        <p class="readers" data-testid="reader-path">{move || {
                            let usb = match c.reader_mode.get().as_str() {
                                "usb" => true,
                                "auto" => c.usb_reader.get().is_some(),
                                _ => false,
                            };
                            if usb {
                                format!("読み取り経路：この端末のUSB読み取り機 {} / path: this device's USB reader", c.usb_reader.get().unwrap_or_else(|| "（未接続 / not connected）".into()))
                            } else {
                                "読み取り経路：ブリッジ（PC/SC）/ path: the bridge's reader (PC/SC)".to_string()
                            }
                        }}</p>
                        <Show when=move || c.reader_mode.get() != "bridge">
                            <button class="big" data-testid="connect-usb" on:click=connect_usb>
                                "カードリーダーを接続 / Connect a card reader"
                            </button>
                        </Show>
                        <p class="readers" data-testid="readers">{move || reader_text(c.readers.get())}</p>
                        <button class="primary big" data-testid="check-card" prop:disabled=move || busy.get() on:click=do_check>
                            "カードを確認 / Check the card"
                        </button>
                        {move || check.get().map(|report| view! { <CheckSummary report=report/> })}
                        <Show when=move || check.with(Option::is_some) && pin_here()>
                            <PinPad tries_left=tries_left on_submit=confirm/>
                        </Show>
                        // Where the bridge cannot confirm an own-reader card (the file
                        // interface), and always on this device's USB reader: a pre-check,
                        // and no PIN pad — a try is never spent on a confirmation that
                        // cannot succeed.
                        <Show when=move || check.with(Option::is_some) && !pin_here()>
                            <div class="precheck" data-testid="precheck">
                                <p data-testid="precheck-tries">{move || match tries_left.get() {
                                    Some(0) => "暗証番号はロックされています：市区町村窓口で解除 / PIN locked: the municipal office resets it".to_string(),
                                    Some(n) => format!("暗証番号の残り {n} 回 / PIN tries left: {n}"),
                                    None => String::new(),
                                }}</p>
                                // Ready to add the card to a phone at home? (The signing
                                // password's tries, read spending none.)
                                <p data-testid="precheck-phone">{move || check.with(|c| {
                                    c.as_ref().and_then(CheckReport::phone_readiness).map(|r| r.line().to_string()).unwrap_or_default()
                                })}</p>
                                <p class="next" data-testid="precheck-next">"事前確認のみです。顔認証付きカードリーダーで確認してください / Pre-check only: confirm at the face-auth card reader"</p>
                            </div>
                        </Show>
                    </section>
                }.into_any(),
                Some(Method::Smartphone) => view! { <SmartphoneSteps/> }.into_any(),
                Some(Method::Certificate) | Some(Method::Notice) => view! {
                    <Invitation/>
                    <section class="card">
                        <p><Bi ja="記載の番号で照会します。" en="Look up by the numbers shown."/></p>
                        <button class="primary big" data-testid="go-numbers" on:click=move |_| go.set(crate::app::Page::Numbers)>"番号入力へ / Enter numbers"</button>
                    </section>
                }.into_any(),
                Some(Method::Nothing) => view! {
                    <Invitation/>
                    <section class="card">
                        <p><Bi ja="資格を確認できる書類がありません。困ったときの手順で受付します。" en="No document: follow the fallback steps."/></p>
                        <button class="primary big" data-testid="go-fallback" on:click=move |_| go.set(crate::app::Page::Fallback)>"困ったときへ / Fallback"</button>
                    </section>
                }.into_any(),
                None => ().into_any(),
            }}
            // Next to the action that caused it (the PIN pad or the card check), not above.
            {move || message.get().map(|t| view! { <p class="error" role="alert" data-testid="message">{t}</p> })}
            {move || reading.get().map(|r| view! { <ResultCard reading=r on_record=record/> })}
        </section>
    }
}

/// The expiry the last card check found, for the record made after it.
fn checked_expiry(check: RwSignal<Option<CheckReport>>) -> Option<eligibility::expiry::Expiry> {
    let today = crate::ids::today_jst()?;
    check.with_untracked(|c| c.as_ref().and_then(|r| r.expiry(today)))
}

/// 声かけ: the sentence that invites a patient received without the マイナ保険証 to use it
/// next time, and the tap that records it was offered (on the next reception recorded).
#[component]
fn Invitation() -> impl IntoView {
    let c = ctx();
    view! {
        <section class="card invite" data-testid="invitation">
            <p lang="ja">"「次回は、ぜひマイナ保険証をお持ちください。スマホに入れて使うこともできます。」"</p>
            <button class="big" data-testid="invite" aria-pressed=move || c.invited.get().to_string()
                on:click=move |_| { c.invited.set(true); state::guide(Step::Invite); }>
                {move || if c.invited.get() { "声かけしました ✓ / Invited" } else { "声かけした / I invited them" }}
            </button>
        </section>
    }
}

/// A card was checked: the screen shows it, and the patient's display says what an
/// expiring certificate means for them.
fn checked(check: RwSignal<Option<CheckReport>>, report: CheckReport) {
    if let Some(x) = crate::ids::today_jst().and_then(|t| report.expiry(t)) {
        state::guide(Step::Expiry(x.kind, x.holder));
    }
    check.set(Some(report));
}

/// The bridge's card check, read as the type the card crate made it with.
fn check_report(body: serde_json::Value) -> Result<CheckReport, String> {
    serde_json::from_value(body).map_err(|e| {
        format!("カードの確認結果を読めません。ブリッジを更新してください / cannot read the card check ({e}): update the bridge")
    })
}

/// What a reply that is not the card's result says (the bridge's error message).
fn refusal(reply: ServerMessage) -> String {
    match reply {
        ServerMessage::Error { message, .. } => message,
        _ => "ブリッジの応答が想定外です / unexpected answer from the bridge".into(),
    }
}

fn reader_text(readers: Option<Result<Vec<protocol::ReaderInfo>, String>>) -> String {
    match readers {
        Some(Ok(list)) if !list.is_empty() => list
            .iter()
            .map(|r| {
                let card = if r.card_present {
                    "カードあり / card present"
                } else {
                    "カードなし / no card"
                };
                format!("{}: {card}", r.name)
            })
            .collect::<Vec<_>>()
            .join(" · "),
        Some(Ok(_)) => "読み取り機がありません / no reader".into(),
        Some(Err(why)) => format!("読み取り機を確認できません / cannot list readers: {why}"),
        None => "読み取り機の状態 不明 / reader state unknown".into(),
    }
}

#[component]
fn CheckSummary(report: CheckReport) -> impl IntoView {
    use card::certificate::CertificateState as S;
    let holder = match report.holder {
        Holder::MyNumberCard => "マイナンバーカード / My Number card",
        Holder::JukiCard => "住基カード / Juki card",
        Holder::AndroidPhone => "Android スマホ",
        Holder::IPhone => "iPhone",
    };
    let expiry = crate::ids::today_jst().and_then(|t| report.expiry(t));
    let certificate = match report.certificate_state {
        _ if expiry.is_some() => expiry.map(|x| x.counter_line().to_string()).unwrap_or_default(),
        Some(S::Valid { days_left }) => format!("証明書 有効（残り {days_left} 日）/ certificate valid"),
        Some(S::ExpiresSoon { days_left }) => format!("証明書の期限が近い：残り {days_left} 日。更新をご案内ください / expires in {days_left} days: advise renewal"),
        Some(S::InGrace { grace_until, .. }) => format!("証明書は期限切れ（猶予期間中：{grace_until} まで）/ expired, in grace until {grace_until}"),
        Some(S::Expired { .. }) => "証明書は期限切れ（猶予なし）：困ったときへ / expired, no grace: see 困ったとき".to_string(),
        Some(S::NotYetValid) => "証明書はまだ有効期間前です：困ったときへ / certificate not yet valid: see 困ったとき".to_string(),
        None => "証明書は暗証番号の後に読みます / read after the PIN".to_string(),
    };
    view! {
        <div class="check" data-testid="check-summary">
            <p data-testid="check-holder">{holder}</p>
            <p data-testid="check-certificate">{certificate}</p>
            {expiry.map(|x| view! {
                <a class="button big" data-testid="slip-open" href=super::slip::href(x) target="_blank">"お知らせを印刷 / Print the patient slip"</a>
            })}
        </div>
    }
}

#[component]
fn SmartphoneSteps() -> impl IntoView {
    let os = RwSignal::new("iphone");
    view! {
        <section class="card" data-testid="smartphone-steps">
            <div class="choices">
                <button class="choice" class:selected=move || os.get() == "iphone" data-testid="os-iphone" on:click=move |_| { os.set("iphone"); state::guide(Step::Phone(PhoneOs::IPhone)); }>"iPhone"</button>
                <button class="choice" class:selected=move || os.get() == "android" data-testid="os-android" on:click=move |_| { os.set("android"); state::guide(Step::Phone(PhoneOs::Android)); }>"Android"</button>
            </div>
            <ol class="steps">
                <li><Bi ja="① 先にカードリーダーを操作し、「スマホ」を選んでもらいます" en="1. Operate the reader first and choose “smartphone”"/></li>
                <li>{move || if os.get() == "iphone" {
                    view! { <Bi ja="② iPhone の上部をリーダーにかざし、Face ID / パスコードで認証" en="2. Hold the top of the iPhone to the reader; Face ID or passcode"/> }.into_any()
                } else {
                    view! { <Bi ja="② Android の背面中央（おサイフケータイの位置）をかざし、暗証番号4桁を入力" en="2. Hold the back centre of the Android phone; enter the 4-digit PIN"/> }.into_any()
                }}</li>
                <li><Bi ja="③ 同意画面を操作すると、結果がこの画面に自動で表示されます" en="3. After the consent screens the result appears here by itself"/></li>
            </ol>
            <p><Bi ja="読み取れないときはマイナポータルの資格情報画面で確認します（困ったとき）。" en="If the phone cannot be read, use the Mynaportal screen (fallback)."/></p>
            <button class="big" data-testid="phone-failed" on:click=move |_| state::guide(Step::PhoneFailed)>
                "読み取れない：患者さんにマイナポータルの画面をご案内 / Cannot read: ask for the Mynaportal screen"
            </button>
        </section>
    }
}
