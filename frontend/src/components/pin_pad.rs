//! A masked on-screen PIN pad. It shows the tries left, refuses to send at 0, and at one
//! try left demands that staff confirm before the last try. The digits live only in this
//! component until sent, are cleared right after, and are never logged or stored.

use leptos::prelude::*;

#[component]
pub fn PinPad(
    /// Tries left on the card (from `check`), when known.
    tries_left: Signal<Option<u8>>,
    /// Called with the PIN and whether staff confirmed the last try.
    on_submit: Callback<(String, bool)>,
) -> impl IntoView {
    let digits = RwSignal::new(String::new());
    let staff = RwSignal::new(false);
    let press = move |d: char| {
        digits.update(|s| {
            if s.len() < 4 {
                s.push(d)
            }
        })
    };
    let locked = move || tries_left.get() == Some(0);
    let last_try = move || tries_left.get() == Some(1);
    let ready = move || digits.with(|s| s.len() == 4) && !locked() && (!last_try() || staff.get());
    let submit = move || {
        if ready() {
            let pin = digits.get_untracked();
            digits.set(String::new());
            let confirmed = staff.get_untracked();
            staff.set(false);
            on_submit.run((pin, confirmed));
        }
    };
    let key = move |d: char| {
        view! {
            <button class="key" data-testid=format!("pin-key-{d}") on:click=move |_| press(d)>{d.to_string()}</button>
        }
    };
    view! {
        <div class="pinpad" data-testid="pin-pad"
            tabindex="0"
            on:keydown=move |e: web_sys::KeyboardEvent| {
                let k = e.key();
                if k.len() == 1 && k.chars().all(|c| c.is_ascii_digit()) {
                    press(k.chars().next().unwrap_or('0'));
                } else if k == "Backspace" {
                    digits.update(|s| { s.pop(); });
                } else if k == "Enter" {
                    submit();
                }
            }>
            <p class="pin-display" data-testid="pin-display" aria-label="暗証番号 / PIN">
                {move || { let n = digits.with(String::len); format!("{}{}", "●".repeat(n), "○".repeat(4 - n)) }}
            </p>
            <p data-testid="pin-tries">
                {move || match tries_left.get() {
                    Some(0) => "ロックされています。市区町村窓口で解除が必要です / locked: the municipality must reset it".to_string(),
                    Some(n) => format!("残り {n} 回 / {n} tries left"),
                    None => "残り回数 不明 / tries left unknown".to_string(),
                }}
            </p>
            <Show when=last_try>
                <label class="staff-confirm" data-testid="staff-confirm">
                    <input type="checkbox" data-testid="staff-confirm-box"
                        prop:checked=move || staff.get()
                        on:change=move |e| staff.set(event_target_checked(&e)) />
                    "残り1回です。間違えるとロックされます。スタッフが確認しました / last try: a wrong PIN locks the card. Staff confirmed"
                </label>
            </Show>
            <div class="keys">
                {['1', '2', '3', '4', '5', '6', '7', '8', '9'].map(key)}
                <button class="key" data-testid="pin-clear" on:click=move |_| digits.set(String::new())>"消去"</button>
                {key('0')}
                <button class="key ok" data-testid="pin-ok" prop:disabled=move || !ready() on:click=move |_| submit()>"確定"</button>
            </div>
        </div>
    }
}
