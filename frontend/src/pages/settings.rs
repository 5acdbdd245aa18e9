//! 設定: pairing with the bridge, facility type and prefecture, language, the idle
//! timeout after which patient details leave the screen, and the storage's persistence.

use crate::components::Bi;
use crate::state::{self, ctx};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let c = ctx();
    let code = RwSignal::new(String::new());
    let name = RwSignal::new("受付1".to_string());
    let message = RwSignal::new(None::<String>);
    let pair_now = move |code: String, name: String| {
        spawn_local(async move {
            match crate::net::pair(&code, &name, protocol::DeviceRole::Counter).await {
                Ok(response) => match state::paired(c, response).await {
                    Ok(()) => message.set(Some("ペアリングしました / paired".into())),
                    Err(e) => message.set(Some(e)),
                },
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let pair = move |_| pair_now(code.get_untracked(), name.get_untracked());
    // Opened from a pairing QR code: pair without typing once the bridge states the CA
    // fingerprint the code carries (a link to another bridge is refused, its code unspent).
    if let Some(link) = pairing_link() {
        code.set(link.code.clone());
        if !link.name.is_empty() {
            name.set(link.name.clone());
        }
        spawn_local(async move {
            // Pairing writes the token into the store, which opens a moment after load.
            for _ in 0..200 {
                if state::store().is_some() {
                    break;
                }
                state::sleep_ms(50.0).await;
            }
            match crate::net::health().await {
                Ok(h) if h.ca_sha256.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(&link.ca)) => {
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().set_hash("settings");
                    }
                    pair_now(link.code, name.get_untracked());
                }
                Ok(_) => message.set(Some("QRコードの証明書指紋がこのブリッジのCAと一致しません。ペアリングしませんでした。設定シートのブリッジか確かめてください / the QR code's CA fingerprint does not match this bridge: not paired".into())),
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    }
    // The kiosk shows a tablet's pairing QR code (the bridge answers only on its own PC).
    let tablet_qr = RwSignal::new(None::<Result<protocol::PairingQr, String>>);
    let show_qr = move |_| {
        spawn_local(async move {
            let qr = crate::net::pairing_qr(c.token.get_untracked().as_deref()).await;
            tablet_qr.set(Some(qr.map_err(|e| e.to_string())));
        });
    };
    // This counter's guidance display (a tablet or second screen facing the patient).
    let display_code = RwSignal::new(None::<Result<protocol::DisplayCode, String>>);
    let show_display_code = move |_| {
        spawn_local(async move {
            let code = crate::net::display_code(c.token.get_untracked().as_deref()).await;
            display_code.set(Some(code.map_err(|e| e.to_string())));
        });
    };
    let retention = RwSignal::new(crate::ids::whole(state::DEFAULT_RETENTION_DAYS));
    spawn_local(async move {
        if let Some(store) = state::store() {
            if let Ok(Some(v)) = store.meta("retention_days").await {
                retention
                    .set(crate::ids::whole(v.as_f64().unwrap_or(state::DEFAULT_RETENTION_DAYS)));
            }
        }
    });
    // Said once the write is in IndexedDB: a tab to the counter's screen is a page load
    // (another bundle), which would drop a write still in flight.
    let saved = RwSignal::new(None::<Result<&'static str, String>>);
    let save = move |key: &'static str, value: wasm_bindgen::JsValue| {
        saved.set(None);
        spawn_local(async move {
            if let Some(store) = state::store() {
                saved.set(Some(
                    store.set_meta(key, &value).await.map(|()| key).map_err(|e| e.to_string()),
                ));
            }
        });
    };
    view! {
        <section class="page" data-testid="page-settings">
            <h1><Bi ja="設定" en="Settings"/></h1>
            <p class="saved" data-testid="settings-saved" role="status" aria-live="polite">{move || match saved.get() {
                Some(Ok(key)) => format!("保存しました / saved: {key}"),
                Some(Err(e)) => format!("保存できませんでした。もう一度変更してください / not saved, change it again: {e}"),
                None => String::new(),
            }}</p>
            <section class="card">
                <h2><Bi ja="ブリッジとのペアリング" en="Pairing with the bridge"/></h2>
                <p data-testid="pairing-state">{move || match c.device_id.get() {
                    Some(id) => format!("ペアリング済み / paired: {id}"),
                    None => "未ペアリング：ブリッジで `bridge pair` を実行し、表示されたコードを入力 / not paired: run `bridge pair` and enter the code".into(),
                }}</p>
                <label class="field"><span class="label">"コード / Code"</span>
                    <input data-testid="pair-code" inputmode="numeric" prop:value=move || code.get() on:input=move |e| code.set(event_target_value(&e))/>
                </label>
                <label class="field"><span class="label">"端末名 / Terminal name"</span>
                    <input data-testid="pair-name" prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e))/>
                </label>
                <button class="primary big" data-testid="pair" on:click=pair>"ペアリング / Pair"</button>
                {move || message.get().map(|m| view! { <p data-testid="pair-message">{m}</p> })}
            </section>
            <section class="card">
                <h2><Bi ja="タブレットを追加" en="Add a tablet"/></h2>
                <p>"タブレットのカメラでQRコードを読み取ると、入力なしでペアリングできます（5分間・1回限り）。先にブリッジのCAをタブレットに入れてください（bridge tls setup-sheet）/ scan it with the tablet's camera to pair without typing (5 minutes, once); install the bridge's CA on the tablet first"</p>
                <button class="big" data-testid="tablet-qr" on:click=show_qr>"QRコードを表示 / Show the QR code"</button>
                {move || tablet_qr.get().map(|qr| match qr {
                    Ok(qr) => view! {
                        <div class="qr" data-testid="tablet-qr-code" role="img" aria-label="ペアリング用QRコード / pairing QR code" inner_html=qr.svg></div>
                        <p data-testid="tablet-qr-url" class="small">{qr.url}</p>
                        <p data-testid="tablet-qr-fingerprint" class="small">{format!("CA SHA-256: {}", qr.fingerprint)}</p>
                    }.into_any(),
                    Err(e) => view! { <p data-testid="tablet-qr-message">{e}</p> }.into_any(),
                })}
            </section>
            <section class="card">
                <h2><Bi ja="患者さん向け案内画面" en="Patient guidance display"/></h2>
                <p>"患者さんに向けたタブレットや2台目の画面で display.html を開き、このコードを入力します。その画面はこの受付の案内だけを表示します（10分間・1回限り）/ open display.html on the tablet or second screen facing the patient and type this code: it then follows this counter (10 minutes, once)"</p>
                <button class="big" data-testid="display-code-new" prop:disabled=move || c.token.get().is_none() on:click=show_display_code>"コードを発行 / Issue a code"</button>
                {move || display_code.get().map(|code| match code {
                    Ok(code) => view! {
                        <p class="big-figure" data-testid="display-code">{code.code.clone()}</p>
                        <a class="button" data-testid="display-open" href=format!("/display.html#pair={}", code.code) target="_blank">"この端末で開く / open it on this device"</a>
                    }.into_any(),
                    Err(e) => view! { <p data-testid="display-code-message">{e}</p> }.into_any(),
                })}
            </section>
            <section class="card">
                <h2><Bi ja="施設" en="Facility"/></h2>
                <label class="field"><span class="label">"種別 / Type"</span>
                    <select data-testid="facility" on:change=move |e| { let v = event_target_value(&e); c.facility.set(v.clone()); save("facility", v.into()); }>
                        <option value="clinic" selected=move || c.facility.get() == "clinic">"診療所 / clinic"</option>
                        <option value="hospital" selected=move || c.facility.get() == "hospital">"病院 / hospital"</option>
                        <option value="pharmacy" selected=move || c.facility.get() == "pharmacy">"薬局 / pharmacy"</option>
                        <option value="dental" selected=move || c.facility.get() == "dental">"歯科 / dental"</option>
                    </select>
                </label>
                <label class="field"><span class="label">"都道府県番号 / Prefecture"</span>
                    <input data-testid="prefecture" inputmode="numeric" prop:value=move || c.prefecture.get()
                        on:change=move |e| { let v = event_target_value(&e); c.prefecture.set(v.clone()); save("prefecture", v.into()); }/>
                </label>
            </section>
            <section class="card">
                <h2><Bi ja="カード読み取り機" en="Card reader"/></h2>
                <label class="field"><span class="label">"読み取り経路 / Reader path"</span>
                    <select data-testid="reader-mode" on:change=move |e| { let v = event_target_value(&e); c.reader_mode.set(v.clone()); save("reader", v.into()); }>
                        <option value="auto" selected=move || c.reader_mode.get() == "auto">"自動（USBがあればUSB）/ automatic"</option>
                        <option value="bridge" selected=move || c.reader_mode.get() == "bridge">"ブリッジ（PC/SC）/ the bridge"</option>
                        <option value="usb" selected=move || c.reader_mode.get() == "usb">"この端末のUSB読み取り機（PaSoRi）/ this device's USB reader"</option>
                    </select>
                </label>
                <p data-testid="usb-reader">{move || c.usb_reader.get().map_or("USB読み取り機：なし / no USB reader granted".to_string(), |n| format!("USB読み取り機 / USB reader: {n}"))}</p>
            </section>
            <section class="card">
                <h2><Bi ja="表示" en="Display"/></h2>
                <label class="field check">
                    <input type="checkbox" data-testid="english" prop:checked=move || c.english.get()
                        on:change=move |e| { let on = event_target_checked(&e); c.english.set(on); save("lang", if on { "ja+en" } else { "ja" }.into()); }/>
                    "英語を併記 / Show English"
                </label>
                <label class="field"><span class="label">"患者情報を消すまでの無操作時間（秒）/ Idle timeout (s)"</span>
                    <input data-testid="idle-timeout" inputmode="numeric" prop:value=move || c.idle_timeout_s.get().to_string()
                        on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<u32>() { let v = v.clamp(15, 3600); c.idle_timeout_s.set(v); save("idle_timeout_s", (v as f64).into()); } }/>
                </label>
                // Older patients are forgotten on this tablet (the bridge keeps everything);
                // today's, unsent and 要対応 rows always stay.
                <label class="field"><span class="label">"送信済みの患者情報をこの端末に残す日数 / Days this tablet keeps sent patients"</span>
                    <input data-testid="retention-days" inputmode="numeric" prop:value=retention
                        on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<u32>() { let v = v.clamp(1, 31); retention.set(v.to_string()); save("retention_days", f64::from(v).into()); spawn_local(state::prune_with(c, f64::from(v))); } }/>
                </label>
            </section>
            <section class="card">
                <h2><Bi ja="ルール（政策テーブル）" en="Rules (policy table)"/></h2>
                // The table this terminal decides by: the bridge's (an override included),
                // fetched when it connects and cached; the built-in one until then.
                <p data-testid="policy-source">{move || {
                    let origin = crate::state::policy_origin(c);
                    let (from, cached) = match &origin {
                        Some(o) => (o.source.as_str(), !o.fresh),
                        None => ("", false),
                    };
                    let from = match from.strip_prefix("override:") {
                        Some(file) => format!("ブリッジの表（上書き {file}）/ the bridge's table (override {file})"),
                        None if from == "embedded" => "ブリッジの表（組み込み）/ the bridge's table (built in)".to_string(),
                        None => "この端末の組み込みの表（ブリッジ未接続）/ this terminal's built-in table (bridge not reached)".to_string(),
                    };
                    format!("{from}{}", if cached { "・前回取得分 / cached" } else { "" })
                }}</p>
                <p data-testid="policy-version">{move || policy_line(crate::state::policy(c))}</p>
            </section>
            <section class="card">
                <h2><Bi ja="保存領域" en="Storage"/></h2>
                <p data-testid="persisted">{move || match c.persisted.get() {
                    Some(true) => "永続化済み：ブラウザが自動で消しません / persistent: the browser will not evict it",
                    Some(false) => "永続化されていません：容量不足で消される可能性があります / not persistent: may be evicted under pressure",
                    None => "確認中 / checking",
                }}</p>
                <p>{move || c.storage_used.get().map(|(u, q)| format!("{} MB / {} MB", crate::ids::tenths(u / 1_048_576.0), crate::ids::whole(q / 1_048_576.0)))}</p>
                <p data-testid="sender">{move || if c.is_sender.get() { "このタブが送信を担当 / this tab sends the outbox" } else { "送信は別のタブ / another tab sends" }}</p>
            </section>
            <section class="card">
                <h2><Bi ja="職員のサインイン" en="Staff sign-in"/></h2>
                <p>"パスキーで職員がサインインします。初めての方は管理者の登録コードで登録します / staff sign in with a passkey; the first time, with an admin's enrolment code"</p>
                <button data-testid="open-sign-in" on:click=move |_| {
                    crate::app::load(crate::app::Page::SignIn);
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().reload();
                    }
                }>"サインイン画面 / sign-in screen"</button>
            </section>
            <Show when=move || c.staff_name.get().is_some() && crate::staff::is_admin()>
                <StaffAdmin/>
                <super::operator::OperatorAdmin/>
            </Show>
        </section>
    }
}

/// 職員 (admins only): everyone with their passkeys, and `bridge staff`'s work — add, a new
/// enrolment code, recovery of a lost authenticator, disable.
#[component]
fn StaffAdmin() -> impl IntoView {
    let c = ctx();
    let staff = RwSignal::new(Vec::<protocol::StaffMember>::new());
    let name = RwSignal::new(String::new());
    let admin = RwSignal::new(false);
    let said = RwSignal::new(String::new());
    let act = move |action: &'static str| {
        let Some(token) = c.token.get_untracked() else { return };
        let role = if admin.get_untracked() { "admin" } else { "reception" };
        let who = name.get_untracked();
        spawn_local(async move {
            match crate::staff::manage(&token, action, &who, role).await {
                Ok(done) => {
                    said.set(if done.code.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "{who} の登録コード {} （{} まで） / enrolment code {} (until {})",
                            done.code, done.valid_until, done.code, done.valid_until
                        )
                    });
                    staff.set(done.staff);
                }
                Err(e) => said.set(e.to_string()),
            }
        });
    };
    act("list");
    view! {
        <section class="card" data-testid="staff-admin">
            <h2><Bi ja="職員" en="Staff"/></h2>
            <ul>
                {move || staff.get().into_iter().map(|p| {
                    let state = if p.disabled { "無効 / disabled" } else if p.enrolled { "パスキーあり / has a passkey" } else { "未登録 / not enrolled" };
                    view! { <li data-testid="staff-row">{format!("{}（{}）— {state}", p.name, p.role)}</li> }
                }).collect_view()}
            </ul>
            <label class="field"><span class="label">"名前 / name"</span>
                <input data-testid="staff-new-name" prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e))/>
            </label>
            <label><input type="checkbox" data-testid="staff-new-admin" prop:checked=move || admin.get()
                on:change=move |e| admin.set(event_target_checked(&e))/>" 管理者 / admin"</label>
            <div class="actions">
                <button data-testid="staff-add" on:click=move |_| act("add")>"追加 / add"</button>
                <button data-testid="staff-enrol" on:click=move |_| act("enrol")>"登録コード / code"</button>
                <button data-testid="staff-recover" on:click=move |_| act("recover")>"紛失（パスキー無効化） / lost passkey"</button>
                <button data-testid="staff-disable" on:click=move |_| act("disable")>"無効にする / disable"</button>
            </div>
            <p data-testid="staff-said" role="status">{move || said.get()}</p>
        </section>
    }
}

/// The policy table's version, review date and any section whose rules ended.
fn policy_line(policy: Option<std::sync::Arc<eligibility::Policy>>) -> String {
    match policy.ok_or("no policy table") {
        Ok(p) => {
            let reviewed = p.reviewed.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
            let today = crate::ids::today_jst();
            let unknown: Vec<String> = today
                .map(|t| p.unknown_on(t))
                .unwrap_or_default()
                .into_iter()
                .map(|(section, until)| format!("{section}（{until} まで / known to {until}）"))
                .collect();
            let mut line = format!(
                "第{}版・{} 確認 / version {}, reviewed {}",
                p.version, reviewed, p.version, reviewed
            );
            if !unknown.is_empty() {
                line.push_str(&format!(
                    "。期限後のルール不明 / rules unknown after: {}",
                    unknown.join("、")
                ));
            }
            line
        }
        Err(e) => e.to_string(),
    }
}

/// What a pairing QR code's link carries: `#pair=CODE&ca=SHA256&name=NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingLink {
    pub code: String,
    pub ca: String,
    pub name: String,
}

impl PairingLink {
    /// The link in a location fragment, if it is one (code and fingerprint both present).
    pub fn parse(hash: &str) -> Option<PairingLink> {
        let mut link = PairingLink { code: String::new(), ca: String::new(), name: String::new() };
        for part in hash.trim_start_matches('#').split('&') {
            match part.split_once('=') {
                Some(("pair", v)) => link.code = v.to_string(),
                Some(("ca", v)) => link.ca = v.to_string(),
                Some(("name", v)) => link.name = v.to_string(),
                _ => {}
            }
        }
        (link.code.len() == 8 && link.ca.len() == 64).then_some(link)
    }
}

fn pairing_link() -> Option<PairingLink> {
    PairingLink::parse(&web_sys::window()?.location().hash().ok()?)
}
