//! The signed-in person: their session (kept in this tab's `sessionStorage`, so a page load
//! between the two bundles keeps it and closing the tab ends it), the passkey ceremonies
//! through `navigator.credentials` in the browser's own JSON form, and the lock.
//!
//! The outbox and the face results do not depend on a person: push, pull and the socket
//! use the device token only, so a locked terminal keeps delivering.

use crate::net::{self, NetError};
use protocol::{CeremonyFinish, CeremonyRequest, CeremonyStart, SignedIn, StaffRoster};
use std::cell::{Cell, RefCell};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The session, as `(session token, staff id, name, role)`.
type Session = (String, String, String, String);

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
    /// The last touch or key (the lock's clock, apart from the screen's idle timeout).
    static ACTIVE_MS: Cell<f64> = const { Cell::new(0.0) };
}

const STORAGE_KEY: &str = "madoguchi.staff";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The session token for `X-Madoguchi-Staff`.
pub fn session_token() -> Option<String> {
    SESSION.with(|s| s.borrow().as_ref().map(|(token, ..)| token.clone()))
}

/// The signed-in person's staff id (stamped on each new op).
pub fn staff_id() -> Option<String> {
    SESSION.with(|s| s.borrow().as_ref().map(|(_, id, ..)| id.clone()))
}

/// The signed-in person's name.
pub fn name() -> Option<String> {
    SESSION.with(|s| s.borrow().as_ref().map(|(_, _, name, _)| name.clone()))
}

/// Whether the signed-in person is an admin (設定 shows them the staff list).
pub fn is_admin() -> bool {
    SESSION.with(|s| s.borrow().as_ref().is_some_and(|(.., role)| role == "admin"))
}

fn set(session: Option<Session>) {
    if let Some(storage) = session_storage() {
        let _ = match &session {
            Some((t, id, n, r)) => storage.set_item(STORAGE_KEY, &format!("{t}\n{id}\n{n}\n{r}")),
            None => storage.remove_item(STORAGE_KEY),
        };
    }
    SESSION.with(|s| *s.borrow_mut() = session);
}

/// This tab's session from before a page load.
pub fn restore() {
    let stored = session_storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    if let Some(text) = stored {
        let mut parts = text.splitn(4, '\n').map(str::to_string);
        if let (Some(t), Some(id), Some(n), Some(r)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            SESSION.with(|s| *s.borrow_mut() = Some((t, id, n, r)));
        }
    }
    touched();
}

/// The bridge said the session is over (locked elsewhere, handed over, disabled, expired).
pub fn forget() {
    set(None);
}

thread_local! {
    /// The bridge asked for a signed-in person (someone enrolled since the roster was read).
    static REQUIRED: Cell<bool> = const { Cell::new(false) };
}

/// An error answer: a session the bridge no longer knows is forgotten here.
pub fn refused(code: &str) {
    match code {
        "signed_out" => forget(),
        "sign_in_required" => {
            forget();
            REQUIRED.with(|r| r.set(true));
        }
        _ => {}
    }
}

/// Whether an answer said sign-in is required (read once).
pub fn required_seen() -> bool {
    REQUIRED.with(|r| r.replace(false))
}

pub fn touched() {
    ACTIVE_MS.with(|a| a.set(js_sys::Date::now()));
}

/// Whether `lock_after_s` passed without a touch.
pub fn idle_for(lock_after_s: u32) -> bool {
    js_sys::Date::now() - ACTIVE_MS.with(Cell::get) > f64::from(lock_after_s) * 1000.0
}

pub async fn roster(token: &str) -> Result<StaffRoster, NetError> {
    net::call("POST", "/api/staff", Some(token), Some("{}".into()), 20_000).await
}

const LOCK_KEY: &str = "madoguchi.lock";

/// Ends the session here at once, then at the bridge (the token is useless from then on).
/// The lock's own page load may cut that call off: a marker in this tab's storage has the
/// next page (or the next attempt) send it again until the bridge answered.
pub fn lock(token: Option<String>) {
    set(None);
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(LOCK_KEY, "1");
    }
    if let Some(token) = token {
        leptos::task::spawn_local(async move { end_pending_lock(&token).await });
    }
}

/// Sends a lock the previous page could not finish.
pub async fn end_pending_lock(token: &str) {
    let storage = session_storage();
    if storage.as_ref().and_then(|s| s.get_item(LOCK_KEY).ok().flatten()).is_none() {
        return;
    }
    let ended: Result<serde_json::Value, _> =
        net::call("POST", "/api/staff/lock", Some(token), Some("{}".into()), 20_000).await;
    if ended.is_ok() {
        if let Some(storage) = storage {
            let _ = storage.remove_item(LOCK_KEY);
        }
    }
}

/// An admin's staff work (設定): `action` on `name`.
pub async fn manage(
    token: &str,
    action: &str,
    name: &str,
    role: &str,
) -> Result<protocol::StaffManaged, NetError> {
    let request =
        protocol::StaffAction { action: action.into(), name: name.into(), role: role.into() };
    let body = crate::json::to_text(&request).map_err(|e| NetError::Unreachable(e.to_string()))?;
    net::call("POST", "/api/staff/manage", Some(token), Some(body), 20_000).await
}

/// Tells the bridge this person opened a screen (`ledger`), or made an export of a day
/// (`export`, `2026-12-02`) or a usage report of a month (`usage`, `2026-12`) from this page's
/// copy of the ledger: an audited access; best effort.
pub async fn viewed(token: String, screen: &'static str, detail: String) {
    // `detail` is a day or a month (`Date`'s or `YearMonth`'s text): nothing to escape, and
    // the counter's bundle is spared a JSON builder here.
    let body = format!(r#"{{"screen":"{screen}","detail":"{detail}"}}"#);
    let _: Result<serde_json::Value, _> =
        net::call("POST", "/api/staff/viewed", Some(&token), Some(body), 20_000).await;
}

/// `POST /api/admin` (設定, a signed-in admin): the operator's work on the bridge.
pub async fn admin(
    token: &str,
    request: &protocol::AdminRequest,
) -> Result<protocol::AdminReply, NetError> {
    let body = crate::json::to_text(request).map_err(|e| NetError::Unreachable(e.to_string()))?;
    // A backup or a restore of a large ledger takes a while.
    net::call("POST", "/api/admin", Some(token), Some(body), 120_000).await
}

fn js_text(e: JsValue) -> String {
    // A DOMException's name says enough (NotAllowedError: cancelled or timed out).
    js_sys::Reflect::get(&e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// `navigator.credentials.create` (or `.get`) with options in the browser's JSON form, and
/// the credential back as its `toJSON()`.
async fn ceremony(options: &serde_json::Value, create: bool) -> Result<serde_json::Value, String> {
    let window = web_sys::window().ok_or("no window")?;
    let class = js_sys::Reflect::get(&window, &"PublicKeyCredential".into()).map_err(js_text)?;
    let parse = if create { "parseCreationOptionsFromJSON" } else { "parseRequestOptionsFromJSON" };
    let parse: js_sys::Function =
        js_sys::Reflect::get(&class, &parse.into()).map_err(js_text)?.dyn_into().map_err(|_| {
            "このブラウザはパスキーに対応していません / this browser has no passkey support"
        })?;
    let inner = options.get("publicKey").unwrap_or(options);
    let json = js_sys::JSON::parse(&inner.to_string()).map_err(js_text)?;
    let public_key = parse.call1(&class, &json).map_err(js_text)?;
    let arg = js_sys::Object::new();
    js_sys::Reflect::set(&arg, &"publicKey".into(), &public_key).map_err(js_text)?;
    let credentials =
        js_sys::Reflect::get(&window.navigator(), &"credentials".into()).map_err(js_text)?;
    let call: js_sys::Function =
        js_sys::Reflect::get(&credentials, &(if create { "create" } else { "get" }).into())
            .map_err(js_text)?
            .dyn_into()
            .map_err(|_| "navigator.credentials")?;
    let promise: js_sys::Promise =
        call.call1(&credentials, &arg).map_err(js_text)?.dyn_into().map_err(|_| "promise")?;
    let credential = JsFuture::from(promise).await.map_err(js_text)?;
    let to_json: js_sys::Function = js_sys::Reflect::get(&credential, &"toJSON".into())
        .map_err(js_text)?
        .dyn_into()
        .map_err(|_| "toJSON")?;
    let out = to_json.call0(&credential).map_err(js_text)?;
    let text = js_sys::JSON::stringify(&out).map_err(js_text)?.as_string().unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Enrols a passkey with an admin's code (signing the person in), or signs `staff_id` in.
pub async fn sign_in(token: &str, code: Option<&str>, staff_id: &str) -> Result<SignedIn, String> {
    let which = if code.is_some() { "enrol" } else { "sign-in" };
    let request =
        CeremonyRequest { code: code.unwrap_or_default().to_string(), staff: staff_id.to_string() };
    let body = crate::json::to_text(&request).map_err(|e| e.to_string())?;
    let start: CeremonyStart =
        net::call("POST", &format!("/api/staff/{which}/start"), Some(token), Some(body), 20_000)
            .await
            .map_err(|e| e.to_string())?;
    let credential = ceremony(&start.options, code.is_some()).await.map_err(|e| {
        format!(
            "パスキーの操作が完了しませんでした（{e}） / the passkey step did not complete ({e})"
        )
    })?;
    let finish = CeremonyFinish { ceremony: start.ceremony, credential };
    let body = crate::json::to_text(&finish).map_err(|e| e.to_string())?;
    let signed: SignedIn =
        net::call("POST", &format!("/api/staff/{which}/finish"), Some(token), Some(body), 20_000)
            .await
            .map_err(|e| e.to_string())?;
    set(Some((
        signed.session.clone(),
        signed.staff.id.clone(),
        signed.staff.name.clone(),
        signed.staff.role.clone(),
    )));
    touched();
    Ok(signed)
}
