//! The sign-in and lock screen: shown instead of every screen while nobody is signed in
//! (so no patient detail is in the page), with the count of face results waiting. A person
//! taps their name and uses their passkey; someone new enters the enrolment code an admin
//! gave them and creates one.

use crate::state::{self, ctx};
use leptos::prelude::*;

/// The terminal's token, waiting up to 5 s: just after a page load it may still be on its
/// way from IndexedDB.
async fn token_when_ready(c: state::Ctx) -> Option<String> {
    for _ in 0..50 {
        if let Some(token) = c.token.get_untracked() {
            return Some(token);
        }
        state::sleep_ms(100.0).await;
    }
    c.token.get_untracked()
}

#[component]
pub fn SignIn() -> impl IntoView {
    let c = ctx();
    let staff = RwSignal::new(Vec::<protocol::StaffMember>::new());
    let code = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let load = move || {
        leptos::task::spawn_local(async move {
            let Some(token) = token_when_ready(c).await else { return };
            if let Ok(roster) = crate::staff::roster(&token).await {
                state::require_sign_in(c, roster.required);
                staff.set(roster.staff);
            }
        })
    };
    load();
    let go = move |code: Option<String>, id: String| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        status.set("パスキーを確認しています… / checking the passkey…".into());
        leptos::task::spawn_local(async move {
            let Some(token) = token_when_ready(c).await else {
                status.set("この端末はペアリングされていません（設定） / this terminal is not paired (設定)".into());
                busy.set(false);
                return;
            };
            match crate::staff::sign_in(&token, code.as_deref(), &id).await {
                Ok(signed) => {
                    status.set(String::new());
                    state::require_sign_in(c, true);
                    c.staff_name.set(Some(signed.staff.name));
                    // Back to the counter, where the work is.
                    crate::app::load(crate::app::Page::Reception);
                }
                Err(e) => {
                    status.set(e);
                    load();
                }
            }
            busy.set(false);
        });
    };
    view! {
        <section class="sign-in" data-testid="sign-in" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"サインイン / Sign in"</h1>
            <p data-testid="locked-face-count" role="status">
                {move || format!("受付待ちの顔認証結果 {} 件 / face results waiting: {}", c.face.get().len(), c.face.get().len())}
            </p>
            <p>"ご自分の名前を押し、パスキー（指紋・顔・PIN）で確認してください / tap your name and confirm with your passkey"</p>
            <div class="staff-list">
                {move || staff.get().into_iter().filter(|p| p.enrolled).enumerate().map(|(i, p)| {
                    let id = p.id.clone();
                    view! {
                        <button class="big" data-testid=format!("staff-{i}") disabled=move || busy.get()
                            on:click=move |_| go(None, id.clone())>{p.name}</button>
                    }
                }).collect_view()}
            </div>
            <label class="field"><span class="label">"登録コード（初めての方） / enrolment code (first time)"</span>
                <input data-testid="enrol-code" inputmode="numeric" autocomplete="off"
                    prop:value=move || code.get() on:input=move |e| code.set(event_target_value(&e))/>
            </label>
            <button data-testid="enrol" disabled=move || busy.get()
                on:click=move |_| go(Some(code.get_untracked()), String::new())>
                "パスキーを作成 / create a passkey"
            </button>
            <p data-testid="sign-in-status" role="alert">{move || status.get()}</p>
        </section>
    }
}
