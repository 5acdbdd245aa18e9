//! The counter's page (`/`): 受付, 困ったとき, 番号入力, 本日の受付.

fn main() {
    frontend::mount(frontend::app::COUNTER);
}
