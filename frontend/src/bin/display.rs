//! The patient guidance display's page (`/display.html`): its own small bundle.

fn main() {
    frontend::display::mount();
}
