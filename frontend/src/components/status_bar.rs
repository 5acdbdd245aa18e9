//! Always visible: bridge and national system reachable, outbox depth, oldest pending age,
//! last acknowledged sync, storage used.

use crate::state::ctx;
use leptos::prelude::*;

fn age(ms: f64) -> String {
    let s = (ms / 1000.0).max(0.0) as u64;
    if s < 60 {
        format!("{s}秒")
    } else if s < 3600 {
        format!("{}分", s / 60)
    } else {
        format!("{}時間", s / 3600)
    }
}

#[component]
pub fn StatusBar() -> impl IntoView {
    let c = ctx();
    let dot = |up: bool| if up { "dot up" } else { "dot down" };
    view! {
        // A div: `role="status"` is not allowed on a footer (Lighthouse, aria-allowed-role).
        <div class="status" data-testid="status-bar" role="status">
            <span data-testid="status-bridge" class=move || dot(c.bridge_up.get())>
                {move || if c.bridge_up.get() { "ブリッジ接続 / bridge up" } else { "ブリッジ未接続 / bridge down" }}
            </span>
            <span data-testid="status-gateway" class=move || dot(c.gateway_state.get() == "up")>
                {move || match c.gateway_state.get().as_str() {
                    "up" if c.training.get() => "シミュレーター（練習）/ simulator (training)".to_string(),
                    "up" => "オンライン資格確認 OK / national system up".to_string(),
                    "outage" | "unreachable" => "オンライン資格確認 障害 / national system down".to_string(),
                    _ => "オンライン資格確認 不明 / national system unknown".to_string(),
                }}
            </span>
            <span data-testid="status-outbox">
                {move || format!("未送信 {} 件 / outbox {}", c.outbox_depth.get(), c.outbox_depth.get())}
                {move || c.oldest_pending_ms.get().map(|t| format!("（最古 {} 前）", age(c.now_ms.get() - t)))}
            </span>
            <Show when=move || { c.needs_attention.get() > 0 }>
                <span class="attention" data-testid="status-attention">
                    {move || format!("要対応 {} 件 / needs attention", c.needs_attention.get())}
                </span>
            </Show>
            <span data-testid="status-last-sync">
                {move || c.last_ack.get().map_or("最終同期 なし / never synced".to_string(), |t| format!("最終同期 / synced {}", crate::ids::jst_hhmm(&t)))}
            </span>
            <span data-testid="status-storage">
                {move || c.storage_used.get().map(|(used, _)| format!("保存 {} MB", crate::ids::tenths(used / 1_048_576.0)))}
            </span>
        </div>
    }
}
