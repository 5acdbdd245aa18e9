//! The patient guidance display (`/display.html`, its own small bundle): a tablet or a
//! second screen that faces the patient and shows — and, unless muted, speaks — the step
//! the counter has reached, in the language the patient taps.
//!
//! It pairs as a `display` (its token opens nothing but the WebSocket's guidance steps, so
//! a stolen display token reads no patient data) and keeps that token in `localStorage`:
//! there is nothing else here to protect. What it shows comes only from
//! `guidance::Step` — no name, number or date can reach its screen or its voice.
//!
//! Chrome speaks only after the page has had a tap (its autoplay rule): a kiosk display
//! starts Chrome with `--autoplay-policy=no-user-gesture-required`; elsewhere the first
//! tap (a language, the voice switch, もう一度) starts the voice.

use guidance::{plain, segments, Language, Segment, Step};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{ClientMessage, DeviceRole, ServerEnvelope, ServerMessage};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

const TOKEN_KEY: &str = "madoguchi-display-token";
const VOICE_KEY: &str = "madoguchi-display-voice";
const FURIGANA_KEY: &str = "madoguchi-display-furigana";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn stored(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

fn store(key: &str, value: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match value {
            Some(v) => s.set_item(key, v),
            None => s.remove_item(key),
        };
    }
}

/// Speaks `text` in `lang`, cutting off whatever was being said.
fn speak(lang: Language, text: &str) {
    let Some(synth) = web_sys::window().and_then(|w| w.speech_synthesis().ok()) else { return };
    synth.cancel();
    if let Ok(utterance) = web_sys::SpeechSynthesisUtterance::new_with_text(text) {
        utterance.set_lang(lang.speech_tag());
        utterance.set_rate(0.9);
        synth.speak(&utterance);
    }
}

fn silence() {
    if let Some(synth) = web_sys::window().and_then(|w| w.speech_synthesis().ok()) {
        synth.cancel();
    }
}

/// What is spoken for a step: its sentences, without furigana. The idle screen is not
/// spoken (it stays up for hours; a voice repeating it would be noise).
fn spoken(lang: Language, step: Step) -> Option<String> {
    (step != Step::Idle)
        .then(|| lang.sentences(step).into_iter().map(plain).collect::<Vec<_>>().join(" "))
}

/// The display's connection to the bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Unpaired,
    Connecting,
    Up,
}

/// Mounts the display on `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(|| view! { <Display/> });
    if let Some(shell) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("shell"))
    {
        shell.remove();
    }
}

#[component]
fn Display() -> impl IntoView {
    let step = RwSignal::new(Step::Idle);
    let lang = RwSignal::new(Language::Ja);
    let voice = RwSignal::new(stored(VOICE_KEY).as_deref() != Some("off"));
    let furigana = RwSignal::new(stored(FURIGANA_KEY).as_deref() == Some("on"));
    let link =
        RwSignal::new(if stored(TOKEN_KEY).is_some() { Link::Connecting } else { Link::Unpaired });
    let message = RwSignal::new(None::<String>);
    let say = move || {
        if voice.get_untracked() {
            if let Some(text) = spoken(lang.get_untracked(), step.get_untracked()) {
                speak(lang.get_untracked(), &text);
            }
        }
    };
    let on_step = move |next: Step| {
        // The next patient starts in Japanese (the same step again is no new patient).
        if next == Step::Idle && step.get_untracked() != Step::Idle {
            lang.set(Language::Ja);
        }
        if next != step.get_untracked() {
            step.set(next);
            say();
        }
    };
    if link.get_untracked() == Link::Connecting {
        spawn_local(run(link, on_step));
    }
    let pair = move |code: String| {
        message.set(None);
        spawn_local(async move {
            match crate::net::pair(&code, "案内画面 / display", DeviceRole::Display).await {
                Ok(paired) => {
                    store(TOKEN_KEY, Some(&paired.token));
                    link.set(Link::Connecting);
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().set_hash("");
                    }
                    run(link, on_step).await;
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    // A pairing link (`display.html#pair=CODE`) pairs without typing.
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    if let Some(code) =
        hash.trim_start_matches('#').split('&').find_map(|p| p.strip_prefix("pair="))
    {
        if link.get_untracked() == Link::Unpaired {
            pair(code.to_string());
        }
    }
    let code = RwSignal::new(String::new());
    view! {
        <div class="display" data-testid="display" lang=move || lang.get().tag()>
            <nav class="display-languages" aria-label="言語 / Language">
                {Language::ALL.map(|l| view! {
                    <button class="display-button" lang=l.tag() data-testid=format!("display-lang-{}", l.tag())
                        aria-pressed=move || (lang.get() == l).to_string()
                        on:click=move |_| { lang.set(l); say(); }>{l.name()}</button>
                })}
            </nav>
            <main class="display-main" aria-live="polite" data-testid="display-text" data-step=move || step.get().word()>
                <h1 class="display-title">{move || sentence(lang.get().text("title"), furigana.get())}</h1>
                {move || {
                    let (l, ruby) = (lang.get(), furigana.get());
                    l.sentences(step.get()).into_iter().map(|text| view! {
                        <p class="display-sentence">{sentence(text, ruby)}</p>
                    }).collect_view()
                }}
            </main>
            <div class="display-controls">
                <button class="display-button" data-testid="display-voice" aria-pressed=move || voice.get().to_string()
                    on:click=move |_| {
                        let on = !voice.get_untracked();
                        voice.set(on);
                        store(VOICE_KEY, Some(if on { "on" } else { "off" }));
                        if on { say() } else { silence() }
                    }>
                    {move || plain(lang.get().text(if voice.get() { "voice_on" } else { "voice_off" }))}
                </button>
                <Show when=move || voice.get() && step.get() != Step::Idle>
                    <button class="display-button" data-testid="display-repeat" on:click=move |_| say()>{move || plain(lang.get().text("again"))}</button>
                </Show>
                <Show when=move || lang.get() == Language::Ja>
                    <button class="display-button" data-testid="display-furigana" aria-pressed=move || furigana.get().to_string()
                        on:click=move |_| {
                            let on = !furigana.get_untracked();
                            furigana.set(on);
                            store(FURIGANA_KEY, Some(if on { "on" } else { "off" }));
                        }>{move || plain(lang.get().text("furigana"))}</button>
                </Show>
            </div>
            {move || (link.get() == Link::Unpaired).then(|| view! {
                <form class="display-pair" data-testid="display-pair" on:submit=move |e| { e.prevent_default(); pair(code.get_untracked()); }>
                    <label>"ペアリングコード / Pairing code"
                        <input data-testid="display-code" inputmode="numeric" autocomplete="off"
                            prop:value=move || code.get() on:input=move |e| code.set(event_target_value(&e))/>
                    </label>
                    <button class="display-button" type="submit" data-testid="display-pair-submit">"ペアリング / Pair"</button>
                </form>
            })}
            {move || message.get().map(|m| view! { <p class="display-status" role="alert">{m}</p> })}
            <p class="display-status" data-testid="display-link">{move || match link.get() {
                Link::Unpaired => "未接続 / not paired",
                Link::Connecting => "接続中… / connecting…",
                Link::Up => "",
            }}</p>
        </div>
    }
}

/// A sentence with or without its furigana.
fn sentence(text: &str, ruby: bool) -> AnyView {
    segments(text)
        .into_iter()
        .map(|s| match s {
            Segment::Plain(t) => t.to_string().into_any(),
            Segment::Ruby { base, reading } if ruby => {
                view! { <ruby>{base.to_string()}<rt>{reading.to_string()}</rt></ruby> }.into_any()
            }
            Segment::Ruby { base, .. } => base.to_string().into_any(),
        })
        .collect_view()
        .into_any()
}

/// Keeps the socket open while the display is paired: each guidance step goes to
/// `on_step`; a refused token (4001, 4003: revoked) unpairs; any other drop reconnects
/// after a wait that grows to 30 s.
async fn run(link: RwSignal<Link>, on_step: impl Fn(Step) + Copy + 'static) {
    let mut wait = 1_000.0;
    while let Some(token) = stored(TOKEN_KEY) {
        let (closed_tx, closed_rx) = futures::channel::oneshot::channel::<u16>();
        if open(token, link, on_step, closed_tx).is_err() {
            link.set(Link::Connecting);
        }
        let code = closed_rx.await.unwrap_or(0);
        if link.get_untracked() == Link::Up {
            wait = 1_000.0;
        }
        if code == 4001 || code == 4003 {
            store(TOKEN_KEY, None);
            link.set(Link::Unpaired);
            on_step(Step::Idle);
            return;
        }
        link.set(Link::Connecting);
        crate::state::sleep_ms(wait).await;
        wait = (wait * 2.0).min(30_000.0);
    }
}

fn open(
    token: String,
    link: RwSignal<Link>,
    on_step: impl Fn(Step) + 'static,
    closed: futures::channel::oneshot::Sender<u16>,
) -> Result<(), JsValue> {
    let location = web_sys::window().ok_or(JsValue::NULL)?.location();
    let scheme = if location.protocol()? == "https:" { "wss" } else { "ws" };
    let socket = web_sys::WebSocket::new(&format!("{scheme}://{}/ws", location.host()?))?;
    let hello =
        protocol::client_frame("hello", &ClientMessage::Hello { token }).unwrap_or_default();
    let s2 = socket.clone();
    let onopen = Closure::<dyn Fn()>::new(move || {
        let _ = s2.send_with_str(&hello);
    });
    socket.set_onopen(Some(onopen.as_ref().unchecked_ref()));
    onopen.forget();
    let onmessage =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let Some(text) = e.data().as_string() else { return };
            let Ok(envelope) = crate::json::from_text::<ServerEnvelope>(&text) else { return };
            match envelope.message {
                ServerMessage::Welcome { .. } => link.set(Link::Up),
                ServerMessage::Event { topic, body } if topic == protocol::GUIDE_TOPIC => {
                    if let Some(step) = body.as_str().and_then(Step::from_word) {
                        on_step(step);
                    }
                }
                _ => {}
            }
        });
    socket.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let closed = std::cell::Cell::new(Some(closed));
    let onclose = Closure::<dyn Fn(web_sys::CloseEvent)>::new(move |e: web_sys::CloseEvent| {
        if let Some(tx) = closed.take() {
            let _ = tx.send(e.code());
        }
    });
    socket.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    onclose.forget();
    Ok(())
}
