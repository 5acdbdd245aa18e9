//! The shell: navigation between the screens, the status bar, the idle timeout that
//! clears patient details from the screen.
//!
//! The screens ship in three bundles, each its own wasm with this shell: the counter's
//! ([`COUNTER`] at `/`: 受付, 番号入力, 本日の受付), 困ったとき's ([`FALLBACK`] at
//! `/fallback.html`) and the office's ([`OFFICE`] at `/office.html`: 予約, 利用状況, 設定,
//! the slip). A counter tablet never downloads the office's screens;
//! a tab to the other bundle's screen is a page load to its path.

use crate::components::{SignIn, StatusBar};
use crate::pages::{
    BookingsPage, FallbackPage, LedgerPage, NumbersPage, ReceptionPage, SettingsPage, SlipPage,
    UsagePage,
};
use crate::state::{self, Ctx};
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Reception,
    Fallback,
    Numbers,
    Ledger,
    Bookings,
    Usage,
    Settings,
    /// Sign-in and the lock (office bundle; no tab: the shell shows it when needed).
    SignIn,
    /// The patient slip (office bundle; no tab: the counter opens it with its contents).
    Slip,
}

impl Page {
    const ALL: [Page; 7] = [
        Page::Reception,
        Page::Fallback,
        Page::Numbers,
        Page::Ledger,
        Page::Bookings,
        Page::Usage,
        Page::Settings,
    ];

    fn label(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Page::Reception => ("受付", "Reception", "reception"),
            Page::Fallback => ("困ったとき", "Fallback", "fallback"),
            Page::Numbers => ("番号入力", "Numbers", "numbers"),
            Page::Ledger => ("本日の受付", "Today", "ledger"),
            Page::Bookings => ("予約", "Bookings", "bookings"),
            Page::Usage => ("利用状況", "Usage", "usage"),
            Page::Settings => ("設定", "Settings", "settings"),
            Page::SignIn => ("サインイン", "Sign in", "sign-in"),
            Page::Slip => ("お知らせ", "Slip", "slip"),
        }
    }

    fn from_hash(hash: &str) -> Option<Page> {
        let hash = hash.trim_start_matches('#');
        // A pairing link from a QR code (`bridge pair --qr`) opens 設定.
        if hash.starts_with("pair=") {
            return Some(Page::Settings);
        }
        if hash.starts_with("slip=") {
            return Some(Page::Slip);
        }
        Page::ALL.into_iter().chain([Page::SignIn]).find(|p| hash == p.label().2)
    }

    /// The path of the bundle that holds this screen.
    pub fn path(self) -> &'static str {
        match self {
            Page::Reception | Page::Numbers | Page::Ledger => COUNTER.path,
            // 困ったとき is a bundle of its own: its decision tree and claim screens weigh
            // ~20 KB brotli, which neither the counter's budget nor the office's has room
            // for. A tab to it is a page load, from the service worker's cache when the
            // network is down.
            Page::Fallback => FALLBACK.path,
            Page::Bookings | Page::Usage | Page::Settings | Page::SignIn | Page::Slip => {
                OFFICE.path
            }
        }
    }
}

/// One wasm bundle: where it is served, the screen it opens on, and how it draws its own
/// screens (a function, so that each bundle's binary links only its own pages).
#[derive(Debug, Clone, Copy)]
pub struct Bundle {
    pub path: &'static str,
    pub home: Page,
    pub render: fn(Page, WriteSignal<Page>) -> AnyView,
}

/// The counter's bundle (`/`).
pub const COUNTER: Bundle = Bundle { path: "/", home: Page::Reception, render: counter_page };

/// The office's bundle (`/office.html`): the screens a counter does not need at hand.
pub const OFFICE: Bundle = Bundle { path: "/office.html", home: Page::Usage, render: office_page };

/// 困ったとき's bundle (`/fallback.html`): the seed's decision tree, the claim, the 申立書.
pub const FALLBACK: Bundle =
    Bundle { path: "/fallback.html", home: Page::Fallback, render: fallback_page };

fn fallback_page(_page: Page, _go: WriteSignal<Page>) -> AnyView {
    view! { <FallbackPage/> }.into_any()
}

fn counter_page(page: Page, go: WriteSignal<Page>) -> AnyView {
    match page {
        Page::Numbers => view! { <NumbersPage/> }.into_any(),
        Page::Ledger => view! { <LedgerPage go=go/> }.into_any(),
        Page::Reception
        | Page::Fallback
        | Page::Bookings
        | Page::Usage
        | Page::Settings
        | Page::SignIn
        | Page::Slip => view! { <ReceptionPage go=go/> }.into_any(),
    }
}

fn office_page(page: Page, _go: WriteSignal<Page>) -> AnyView {
    match page {
        Page::Settings => view! { <SettingsPage/> }.into_any(),
        Page::SignIn => view! { <SignIn/> }.into_any(),
        Page::Bookings => view! { <BookingsPage/> }.into_any(),
        Page::Slip => view! { <SlipPage/> }.into_any(),
        _ => view! { <UsagePage/> }.into_any(),
    }
}

/// Locks the terminal: the session ends here and at the bridge; the sign-in screen replaces
/// every screen (the pages and their patient details leave the DOM).
fn lock(ctx: Ctx) {
    crate::staff::lock(ctx.token.get_untracked());
    ctx.staff_name.set(None);
    state::require_sign_in(ctx, true);
}

/// Loads `page` from its own bundle (a page load: the other bundle's screens are not here).
pub fn load(page: Page) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_href(&format!("{}#{}", page.path(), page.label().2));
    }
}

#[component]
pub fn App(bundle: Bundle) -> impl IntoView {
    let ctx = Ctx::new();
    provide_context(ctx);
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    let first = Page::from_hash(&hash).unwrap_or(bundle.home);
    if first.path() != bundle.path {
        // An old bookmark (`/#usage`) or a link to the other bundle's screen.
        load(first);
    }
    state::start(ctx);
    if bundle.home == COUNTER.home {
        state::guides();
    }
    // Opened from the counter's 本日の受付 (a page load): the record whose claim to decide.
    if bundle.home == FALLBACK.home {
        ctx.claim_target.set(state::take_claim());
    }
    let (page, set_page) = signal(if first.path() == bundle.path { first } else { bundle.home });
    // A screen asks for another (受付 → 番号入力): the other bundle's is loaded there.
    Effect::new(move |_| {
        let p = page.get();
        if p.path() != bundle.path {
            load(p);
        }
    });
    // A new screen instance (a fresh reception) after the idle timeout: patient details go.
    // Face results stay (they are the bridge's, fetched again) but are hidden until touch.
    let generation = RwSignal::new(0u32);
    // The sign-in screen stands in for every screen while nobody is signed in where that is
    // required (the first enrolment opens it from 設定).
    leptos::task::spawn_local(async move {
        loop {
            state::sleep_ms(1_000.0).await;
            let now = js_sys::Date::now();
            ctx.now_ms.set(now);
            // The bridge ended the session, or asked for one.
            if crate::staff::required_seen() {
                state::require_sign_in(ctx, true);
            }
            let name = crate::staff::name();
            if name != ctx.staff_name.get_untracked() {
                ctx.staff_name.set(name);
            }
            // The lock: the session ends at the bridge; the outbox and face results go on.
            if ctx.staff_name.get_untracked().is_some()
                && crate::staff::idle_for(ctx.lock_after_s.get_untracked())
            {
                lock(ctx);
            }
            let idle = now - ctx.last_touch_ms.get_untracked();
            if idle > f64::from(ctx.idle_timeout_s.get_untracked()) * 1000.0 {
                ctx.last_touch_ms.set(now);
                ctx.face_hidden.set(true);
                leptos::task::spawn_local(state::refresh_face(ctx));
                generation.update(|g| *g += 1);
                state::guide(guidance::Step::Idle);
                ctx.invited.set(false);
                ctx.claim_target.set(None);
            }
        }
    });
    let go = move |p: Page| {
        if p.path() != bundle.path {
            load(p);
            return;
        }
        set_page.set(p);
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(p.label().2);
        }
    };
    let gate = move || ctx.staff_name.get().is_none() && ctx.sign_in_required.get();
    view! {
        <div class="app" on:pointerdown=move |_| { ctx.last_touch_ms.set(js_sys::Date::now()); ctx.face_hidden.set(false); crate::staff::touched(); state::guide_wakes(); }
            on:keydown=move |_| { ctx.last_touch_ms.set(js_sys::Date::now()); ctx.face_hidden.set(false); crate::staff::touched(); }>
            <header>
                <span class="brand">"窓口 madoguchi"</span>
                {move || ctx.staff_name.get().map(|name| view! {
                    <span class="staff" data-testid="staff-name">{name}</span>
                    <button class="tab" data-testid="lock-now" on:click=move |_| lock(ctx)>"ロック / lock"</button>
                })}
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
                    // The counter's bundle has no sign-in screen (the wasm budget): it loads
                    // the office's, and its own screens leave the page with the load.
                    if gate() {
                        if bundle.home == OFFICE.home {
                            return untrack(move || (bundle.render)(Page::SignIn, set_page));
                        }
                        load(Page::SignIn);
                        return ().into_any();
                    }
                    generation.get();
                    // A screen is rebuilt when the page, the gate or the generation changes,
                    // never because its own body read a signal: untracked, so that a signal a
                    // screen reads while it is built (the ledger a sync refreshes) cannot
                    // rebuild it and wipe what staff are typing.
                    let p = page.get();
                    untrack(move || (bundle.render)(p, set_page))
                }}
            </main>
            <StatusBar/>
        </div>
    }
}
