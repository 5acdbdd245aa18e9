//! The shell: navigation between the screens, the status bar, the idle timeout that
//! clears patient details from the screen.

use crate::components::StatusBar;
use crate::pages::{FallbackPage, LedgerPage, NumbersPage, ReceptionPage, SettingsPage, UsagePage};
use crate::state::{self, Ctx};
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Reception,
    Fallback,
    Numbers,
    Ledger,
    Usage,
    Settings,
}

impl Page {
    const ALL: [Page; 6] =
        [Page::Reception, Page::Fallback, Page::Numbers, Page::Ledger, Page::Usage, Page::Settings];

    fn label(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Page::Reception => ("受付", "Reception", "reception"),
            Page::Fallback => ("困ったとき", "Fallback", "fallback"),
            Page::Numbers => ("番号入力", "Numbers", "numbers"),
            Page::Ledger => ("本日の受付", "Today", "ledger"),
            Page::Usage => ("利用状況", "Usage", "usage"),
            Page::Settings => ("設定", "Settings", "settings"),
        }
    }

    fn from_hash(hash: &str) -> Page {
        Page::ALL
            .into_iter()
            .find(|p| hash.trim_start_matches('#') == p.label().2)
            .unwrap_or(Page::Reception)
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx::new();
    provide_context(ctx);
    state::start(ctx);
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    let (page, set_page) = signal(Page::from_hash(&hash));
    // A new screen instance (a fresh reception) after the idle timeout: patient details go.
    // Face results stay (they are the bridge's, fetched again) but are hidden until touch.
    let generation = RwSignal::new(0u32);
    leptos::task::spawn_local(async move {
        loop {
            state::sleep_ms(1_000.0).await;
            let now = js_sys::Date::now();
            ctx.now_ms.set(now);
            let idle = now - ctx.last_touch_ms.get_untracked();
            if idle > f64::from(ctx.idle_timeout_s.get_untracked()) * 1000.0 {
                ctx.last_touch_ms.set(now);
                ctx.face_hidden.set(true);
                leptos::task::spawn_local(state::refresh_face(ctx));
                generation.update(|g| *g += 1);
            }
        }
    });
    let go = move |p: Page| {
        set_page.set(p);
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(p.label().2);
        }
    };
    view! {
        <div class="app" on:pointerdown=move |_| { ctx.last_touch_ms.set(js_sys::Date::now()); ctx.face_hidden.set(false); }
            on:keydown=move |_| { ctx.last_touch_ms.set(js_sys::Date::now()); ctx.face_hidden.set(false); }>
            <header>
                <span class="brand">"窓口 madoguchi"</span>
                <nav>
                    {Page::ALL.map(|p| {
                        let (ja, en, id) = p.label();
                        view! {
                            <button class="tab" data-testid=format!("nav-{id}") class:active=move || page.get() == p
                                aria-current=move || if page.get() == p { "page" } else { "false" }
                                on:click=move |_| go(p)>
                                <span lang="ja">{ja}</span>
                                <Show when=move || ctx.english.get()><span class="en">{en}</span></Show>
                            </button>
                        }
                    })}
                </nav>
            </header>
            <Show when=move || ctx.training.get()>
                <p class="banner training" data-testid="training-banner" role="status">
                    "練習モード：シミュレーターの応答です。実際の資格確認ではありません / TRAINING: simulated answers, not a real confirmation"
                </p>
            </Show>
            {move || ctx.error.get().map(|e| view! {
                <p class="banner error" data-testid="banner" role="alert">{e}
                    <button on:click=move |_| ctx.error.set(None)>"×"</button>
                </p>
            })}
            <main>
                {move || {
                    generation.get();
                    match page.get() {
                        Page::Reception => view! { <ReceptionPage go=set_page/> }.into_any(),
                        Page::Fallback => view! { <FallbackPage/> }.into_any(),
                        Page::Numbers => view! { <NumbersPage/> }.into_any(),
                        Page::Ledger => view! { <LedgerPage go=set_page/> }.into_any(),
                        Page::Usage => view! { <UsagePage/> }.into_any(),
                        Page::Settings => view! { <SettingsPage/> }.into_any(),
                    }
                }}
            </main>
            <StatusBar/>
        </div>
    }
}
