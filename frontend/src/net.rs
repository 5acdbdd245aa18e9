//! Talking to the bridge over HTTP (same origin): pairing, push, pull, lookups, health.
//! Every API call carries the device token in `Authorization`; never a cookie.

use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// The bridge did not answer (network down, bridge stopped): try again later.
    Unreachable(String),
    /// The bridge answered with an error code and a bilingual message.
    Refused { status: u16, code: String, message: String },
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Unreachable(_) => f.write_str(
                "ブリッジに接続できません。受付は端末に保存され、つながると送信されます / the bridge is unreachable: receptions are kept here and sent when it returns",
            ),
            NetError::Refused { message, .. } => f.write_str(message),
        }
    }
}

thread_local! {
    /// The bridge states a CA other than the one this terminal paired with (see
    /// `state::start`): nothing but `/health` and pairing goes to it.
    static FOREIGN_CA: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What the terminal says while it refuses a bridge with another CA.
pub const FOREIGN_CA_MESSAGE: &str = "ブリッジの証明書（CA）がペアリングしたときと違います。送信を止めました。管理者に確認し、正しいブリッジなら設定でペアリングし直してください / the bridge's certificate authority is not the one this terminal paired with: sending stopped — if it is the right bridge, pair again in 設定";

/// Refuses (or accepts again) the bridge for everything but health and pairing.
pub fn refuse_foreign_ca(refuse: bool) {
    FOREIGN_CA.with(|f| f.set(refuse));
}

pub fn refusing() -> bool {
    FOREIGN_CA.with(|f| f.get())
}

fn js_error(e: wasm_bindgen::JsValue) -> NetError {
    NetError::Unreachable(format!("{e:?}"))
}

/// How long a call may take before it counts as unreachable. A request that never ends
/// (a half-open connection to a bridge that was killed) would otherwise hold the outbox's
/// one drain forever.
const HEALTH_MS: u32 = 5_000;
const SYNC_MS: u32 = 20_000;
/// A lookup waits for the national system through the bridge (which has its own deadline).
const LOOKUP_MS: u32 = 90_000;

/// One request; `body` is JSON. Returns the parsed JSON of a 2xx answer, or `Unreachable`
/// after `deadline_ms`.
pub async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
    deadline_ms: u32,
) -> Result<T, NetError> {
    let value = call_json(method, path, token, body, deadline_ms).await?;
    serde_json::from_value(value).map_err(|e| NetError::Refused {
        status: 200,
        code: "bad_json".into(),
        message: format!("ブリッジの応答を読めません / unreadable answer: {e}"),
    })
}

/// [`call`] up to the JSON value: built once, not once per answer type (the wasm budget).
async fn call_json(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
    deadline_ms: u32,
) -> Result<serde_json::Value, NetError> {
    if refusing() && path != "/health" && path != "/api/pair" {
        return Err(NetError::Refused {
            status: 0,
            code: "foreign_ca".into(),
            message: FOREIGN_CA_MESSAGE.into(),
        });
    }
    let window = web_sys::window().ok_or_else(|| NetError::Unreachable("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(deadline_ms)));
    let headers = web_sys::Headers::new().map_err(js_error)?;
    if let Some(token) = token {
        headers.set("authorization", &format!("Bearer {token}")).map_err(js_error)?;
        if let Some(session) = crate::staff::session_token() {
            headers.set(protocol::STAFF_HEADER, &session).map_err(js_error)?;
        }
    }
    if let Some(body) = &body {
        headers.set("content-type", "application/json").map_err(js_error)?;
        init.set_body(&wasm_bindgen::JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let response =
        JsFuture::from(window.fetch_with_str_and_init(path, &init)).await.map_err(js_error)?;
    let response: web_sys::Response = response.dyn_into().map_err(js_error)?;
    let text = JsFuture::from(response.text().map_err(js_error)?).await.map_err(js_error)?;
    let text = text.as_string().unwrap_or_default();
    let status = response.status();
    if (200..300).contains(&status) {
        serde_json::from_str(&text).map_err(|e| NetError::Refused {
            status,
            code: "bad_json".into(),
            message: format!("ブリッジの応答を読めません / unreadable answer: {e}"),
        })
    } else {
        let body: protocol::ErrorBody = crate::json::from_text(&text).unwrap_or_default();
        crate::staff::refused(&body.error);
        Err(NetError::Refused {
            status,
            code: if body.error.is_empty() { "http".into() } else { body.error },
            message: if body.message.is_empty() { format!("HTTP {status}") } else { body.message },
        })
    }
}

pub async fn health() -> Result<protocol::HealthSummary, NetError> {
    call("GET", "/health", None, None, HEALTH_MS).await
}

pub async fn pair(
    code: &str,
    device_name: &str,
    role: protocol::DeviceRole,
) -> Result<protocol::PairResponse, NetError> {
    let body = crate::json::to_text(&protocol::PairRequest {
        code: code.trim().to_string(),
        device_name: device_name.to_string(),
        role,
    })
    .unwrap_or_default();
    call("POST", "/api/pair", None, Some(body), SYNC_MS).await
}

/// A tablet's pairing QR code (the kiosk only: the bridge refuses a LAN device).
pub async fn pairing_qr(token: Option<&str>) -> Result<protocol::PairingQr, NetError> {
    call("POST", "/api/pair/qr", token, Some("{}".into()), SYNC_MS).await
}

/// A code that pairs one guidance display following this counter.
pub async fn display_code(token: Option<&str>) -> Result<protocol::DisplayCode, NetError> {
    call("POST", "/api/pair/display", token, Some("{}".into()), SYNC_MS).await
}

pub async fn push(token: &str, ops: Vec<protocol::Op>) -> Result<protocol::PushResponse, NetError> {
    let body = crate::json::to_text(&protocol::PushRequest { ops }).unwrap_or_default();
    call("POST", "/api/sync/push", Some(token), Some(body), SYNC_MS).await
}

pub async fn pull(token: &str, after: u64) -> Result<protocol::PullResponse, NetError> {
    let body = serde_json::json!({ "after": after, "limit": 500 }).to_string();
    call("POST", "/api/sync/pull", Some(token), Some(body), SYNC_MS).await
}

/// The clinic's policy table as the bridge decides by it (an override included): a
/// `protocol::PolicyTable`, read as JSON — a typed reader of its own would cost the wasm
/// budget ~4 KB, and its one field that matters (`table`) is parsed as a `Policy` anyway.
pub async fn policy(token: &str) -> Result<protocol::PolicyTable, NetError> {
    call("POST", "/api/policy", Some(token), Some("{}".into()), SYNC_MS).await
}

/// Today's booked patients with their pre-confirmation (本日の予約).
pub async fn bookings(token: &str) -> Result<Vec<reception::booking::BookingLine>, NetError> {
    call("POST", "/api/bookings", Some(token), Some("{}".into()), SYNC_MS).await
}

/// A day's bookings whole, for the 予約 screen to correct one.
pub async fn booking_rows(
    token: &str,
    date: &str,
) -> Result<Vec<reception::booking::BookingRow>, NetError> {
    let body = serde_json::json!({ "date": date, "whole": true }).to_string();
    call("POST", "/api/bookings", Some(token), Some(body), SYNC_MS).await
}

/// Adds or corrects one booking (`fields`: a JSON object of the CSV's columns).
pub async fn put_booking(
    token: &str,
    fields: String,
) -> Result<reception::booking::Booking, NetError> {
    call("POST", "/api/bookings/put", Some(token), Some(fields), SYNC_MS).await
}

/// Today's face results no reception has recorded yet (the bridge's list; ours is a view).
pub async fn open_face_results(token: &str) -> Result<protocol::PullResponse, NetError> {
    call("POST", "/api/face-results/open", Some(token), Some("{}".into()), SYNC_MS).await
}

/// The bridge's patient index: the patient's last known reception in the whole ledger.
pub async fn last_visit(
    token: &str,
    patient: &reception::Patient,
) -> Result<Option<reception::Reception>, NetError> {
    let body = crate::json::to_text(patient).unwrap_or_default();
    call("POST", "/api/patients/last-visit", Some(token), Some(body), SYNC_MS).await
}

pub async fn lookup(
    token: &str,
    query: &protocol::LookupQuery,
) -> Result<reception::reading::Carried, NetError> {
    let body = crate::json::to_text(query).unwrap_or_default();
    call("POST", "/api/lookup", Some(token), Some(body), LOOKUP_MS).await
}
