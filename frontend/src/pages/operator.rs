//! 管理 (設定, admins only): the operator's command-line work on the bridge — paired terminals
//! and their revocation, backups (now, the list with each one's check, restore), a new server
//! certificate, the audit log, a day's CSV from the whole ledger, the booking system's CSV
//! and tomorrow's 一括照会 started by hand. The bridge does and audits each (`POST /api/admin`); this
//! card only asks and shows the answer.

use crate::components::Bi;
use crate::state::ctx;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{AdminReply, AdminRequest, AdminRow};

/// Which list the rows below are, so each row offers its own action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    None,
    Devices,
    Backups,
    /// Lines to read (an audit day, a CSV's refused rows): no action of their own.
    Plain,
}

#[component]
pub fn OperatorAdmin() -> impl IntoView {
    let c = ctx();
    let said = RwSignal::new(String::new());
    let rows = RwSignal::new(Vec::<AdminRow>::new());
    let listing = RwSignal::new(Listing::None);
    let busy = RwSignal::new(false);
    // A restore waits for its backup's name typed again.
    let restoring = RwSignal::new(None::<String>);
    let confirm = RwSignal::new(String::new());
    let person = RwSignal::new(String::new());
    let day = RwSignal::new(crate::ids::today_jst().map(|d| d.to_string()).unwrap_or_default());

    let ask = move |request: AdminRequest, then: Listing| {
        let Some(token) = c.token.get_untracked() else { return };
        if busy.get_untracked() {
            return; // a double tap is one request
        }
        busy.set(true);
        said.set("処理中… / working…".into());
        spawn_local(async move {
            match crate::staff::admin(&token, &request).await {
                Ok(AdminReply { said: text, rows: found, file }) => {
                    said.set(text);
                    if let AdminRequest::Export { date, .. } = &request {
                        super::export::download(&format!("madoguchi-{date}-all.csv"), &file);
                    }
                    if then != Listing::None {
                        rows.set(found);
                        listing.set(then);
                    }
                    // What a change touched is listed again (its sentence stays).
                    if let Some((again, then)) = relisted(&request) {
                        if let Ok(fresh) = crate::staff::admin(&token, &again).await {
                            rows.set(fresh.rows);
                            listing.set(then);
                        }
                    }
                }
                Err(e) => said.set(e.to_string()),
            }
            restoring.set(None);
            busy.set(false);
        });
    };
    let refresh_backups = move || ask(AdminRequest::Backups, Listing::Backups);
    // The booking system's CSV, as its bytes (Shift_JIS or UTF-8: the bridge reads both).
    let import = move |e: web_sys::Event| {
        use wasm_bindgen::JsCast;
        let input = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        let Some(file) = input.and_then(|i| i.files()).and_then(|f| f.get(0)) else { return };
        spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => {
                    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                    let mut csv_hex = String::with_capacity(bytes.len() * 2);
                    for b in bytes {
                        use std::fmt::Write as _;
                        let _ = write!(csv_hex, "{b:02x}");
                    }
                    ask(AdminRequest::ImportBookings { csv_hex }, Listing::Plain);
                }
                Err(_) => said.set("ファイルを読めませんでした / could not read the file".into()),
            }
        });
    };

    view! {
        <section class="card" data-testid="operator-admin">
            <h2><Bi ja="管理" en="Administration"/></h2>
            <p class="small">"ここでの操作はすべて監査ログにあなたの名前で残ります / everything here is audited under your name"</p>
            <div class="actions">
                <button data-testid="admin-devices" on:click=move |_| ask(AdminRequest::Devices, Listing::Devices)>"端末の一覧 / terminals"</button>
                <button data-testid="admin-backup" on:click=move |_| ask(AdminRequest::Backup, Listing::None)>"今すぐバックアップ / back up now"</button>
                <button data-testid="admin-backups" on:click=move |_| refresh_backups()>"バックアップの一覧と確認 / backups"</button>
                <button data-testid="admin-rotate-tls" on:click=move |_| ask(AdminRequest::RotateTls, Listing::None)>"サーバー証明書を更新 / new server certificate"</button>
                <button data-testid="admin-audit-verify" on:click=move |_| ask(AdminRequest::AuditVerify, Listing::None)>"監査ログを検証 / verify the audit log"</button>
            </div>
            <div class="actions">
                <label class="field"><span class="label">"職員 / staff"</span>
                    <input data-testid="admin-audit-person" prop:value=move || person.get() on:input=move |e| person.set(event_target_value(&e))/>
                </label>
                <label class="field"><span class="label">"日付 / day"</span>
                    <input data-testid="admin-audit-day" type="date" prop:value=move || day.get() on:input=move |e| day.set(event_target_value(&e))/>
                </label>
                <button data-testid="admin-audit-show" on:click=move |_| ask(
                    AdminRequest::AuditShow { person: person.get_untracked(), date: day.get_untracked() },
                    Listing::Plain,
                )>"操作履歴 / their day"</button>
                <button data-testid="admin-bulk-run" on:click=move |_| ask(
                    AdminRequest::BulkRun { date: String::new() },
                    Listing::None,
                )>"明日の一括照会を今すぐ / tomorrow's 一括照会 now"</button>
                <label class="field"><span class="label">"予約CSVの取り込み / import bookings (CSV)"</span>
                    <input type="file" accept=".csv,text/csv" data-testid="admin-import-bookings" on:change=import/>
                </label>
                <button data-testid="admin-export" on:click=move |_| ask(
                    AdminRequest::Export { date: day.get_untracked(), training: false },
                    Listing::None,
                )>"この日の全端末の受付をCSV出力 / export the day, every terminal"</button>
            </div>
            <p data-testid="admin-said" role="status" aria-live="polite">{move || said.get()}</p>
            <ul data-testid="admin-rows">
                {move || rows.get().into_iter().map(|row| {
                    let key = row.key.clone();
                    let action = match listing.get() {
                        Listing::Devices if row.text.contains("有効 / active") => {
                            let id = key.clone();
                            Some(view! {
                                <button data-testid="admin-revoke" on:click=move |_| {
                                    ask(AdminRequest::Revoke { device_id: id.clone() }, Listing::None)
                                }>"取り消す / revoke"</button>
                            }.into_any())
                        }
                        Listing::Backups if !key.is_empty() => {
                            let name = key.clone();
                            Some(view! {
                                <button data-testid="admin-restore" on:click=move |_| {
                                    confirm.set(String::new());
                                    restoring.set(Some(name.clone()));
                                }>"復元… / restore…"</button>
                            }.into_any())
                        }
                        _ => None,
                    };
                    view! { <li data-testid="admin-row">{row.text}" "{action}</li> }
                }).collect_view()}
            </ul>
            {move || restoring.get().map(|name| {
                let target = name.clone();
                view! {
                    <div class="warning" data-testid="admin-restore-confirm" role="alertdialog" aria-label="復元の確認 / confirm the restore">
                        <p>{format!("{name} に戻します。その後の受付は各端末が自動で送り直します。その後のペアリングとパスキーは失われます。確認のため名前を入力してください / the ledger goes back to {name}; terminals send later receptions again; later pairings and passkeys are lost. Type the name to confirm.")}</p>
                        <input data-testid="admin-restore-name" prop:value=move || confirm.get() on:input=move |e| confirm.set(event_target_value(&e))/>
                        <div class="actions">
                            <button class="primary" data-testid="admin-restore-go" on:click=move |_| ask(
                                AdminRequest::Restore { name: target.clone(), confirm: confirm.get_untracked() },
                                Listing::None,
                            )>"復元する / restore"</button>
                            <button data-testid="admin-restore-cancel" on:click=move |_| restoring.set(None)>"やめる / cancel"</button>
                        </div>
                    </div>
                }
            })}
        </section>
    }
}

/// The list a change shows afterwards: terminals after a revocation, backups after one is
/// made or restored.
fn relisted(request: &AdminRequest) -> Option<(AdminRequest, Listing)> {
    match request {
        AdminRequest::Revoke { .. } => Some((AdminRequest::Devices, Listing::Devices)),
        AdminRequest::Backup | AdminRequest::Restore { .. } => {
            Some((AdminRequest::Backups, Listing::Backups))
        }
        _ => None,
    }
}
