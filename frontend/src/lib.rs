//! The reception terminal: a Leptos (client-side rendered) app compiled to WebAssembly by
//! Trunk and served by the bridge. Every rule comes from the shared crates (identifiers,
//! copay, the fallback tree); this crate holds the screens, the browser storage and the
//! sync.
//!
//! - [`app`]: the shell and navigation; [`pages`]: the five screens; [`components`]: the
//!   status bar, the result card, the PIN pad, bilingual text.
//! - [`store`]: IndexedDB (schema, migrations, atomic reception + outbox writes).
//! - [`sync`]: the outbox's delivery (one sender tab by Web Lock, BroadcastChannel) and
//!   the ledger pull; [`net`]: HTTP to the bridge; [`ws`]: the WebSocket.
//! - `bench` (feature `bench`, never in the release build): measurement hooks for
//!   `cargo xtask bench` (their own database).
//! - [`display`]: the patient guidance display (its own bundle, `display.html`).
//! - [`state`]: the signals the screens read and the background work that feeds them.
#![forbid(unsafe_code)]

pub mod app;
#[cfg(feature = "bench")]
pub mod bench;
pub mod components;
pub mod display;
pub mod ids;
pub mod json;
pub mod model;
pub mod net;
pub mod pages;
pub mod staff;
pub mod state;
pub mod store;
pub mod sync;
pub mod usb;
pub mod ws;

/// A page's entry point: mounts `bundle`'s app on `<body>` ([`app::COUNTER`] or
/// [`app::OFFICE`]), then registers the service worker (the app shell is cached so that the
/// terminal starts with the network down) once the first screen is up: its install fetches
/// both bundles, which must not compete with the first paint.
pub fn mount(bundle: app::Bundle) {
    leptos::mount::mount_to_body(move || leptos::view! { <app::App bundle=bundle/> });
    // The page's static "loading" line goes; the first screen is up (measured by the bench).
    if let Some(window) = web_sys::window() {
        if let Some(shell) = window.document().and_then(|d| d.get_element_by_id("shell")) {
            shell.remove();
        }
        if let Some(performance) = window.performance() {
            let _ = performance.mark("madoguchi-first-screen");
        }
    }
    leptos::task::spawn_local(async {
        state::sleep_ms(SERVICE_WORKER_DELAY_MS).await;
        if let Some(navigator) = web_sys::window().map(|w| w.navigator()) {
            let _ = navigator.service_worker().register("/sw.js");
        }
    });
}

/// How long after mounting the service worker is registered.
const SERVICE_WORKER_DELAY_MS: f64 = 1_500.0;
