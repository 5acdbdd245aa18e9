//! 困ったとき's page (`/fallback.html`): the seed's decision tree, the claim and the 申立書,
//! a bundle of its own (see `frontend/src/app.rs`).

fn main() {
    frontend::mount(frontend::app::FALLBACK);
}
