//! The page's entry point: registers the service worker and mounts the app.

fn main() {
    if let Some(navigator) = web_sys::window().map(|w| w.navigator()) {
        // The app shell is cached so that the terminal starts with the network down.
        let _ = navigator.service_worker().register("/sw.js");
    }
    frontend::mount();
}
