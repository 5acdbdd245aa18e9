//! The office's page (`/office.html`): 利用状況 and 設定, kept out of the counter's bundle.

fn main() {
    frontend::mount(frontend::app::OFFICE);
}
