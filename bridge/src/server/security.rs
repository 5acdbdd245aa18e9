//! Host, Origin and device-token checks, the pairing rate limit, and rejection replies.

use super::error_reply;
use crate::store::Store;
use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

/// The bridge's own names: exact `Host` values and exact `Origin` values.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    pub hosts: HashSet<String>,
    pub origins: HashSet<String>,
}

impl Allowed {
    /// Loopback on `port` (`localhost`, `127.0.0.1`, `[::1]`), over https and — for the
    /// kiosk on the same machine — plain http, plus any configured LAN names (https only).
    ///
    /// On 443 (https's default port) browsers send `Host` and `Origin` without the port, so
    /// both spellings are the bridge's; likewise plain http on 80.
    pub fn for_port(port: u16, lan_names: &[String]) -> Allowed {
        let mut a = Allowed::default();
        let mut add = |name: &str, http_too: bool| {
            a.hosts.insert(format!("{name}:{port}"));
            a.origins.insert(format!("https://{name}:{port}"));
            if port == 443 {
                a.hosts.insert(name.to_string());
                a.origins.insert(format!("https://{name}"));
            }
            if http_too {
                a.origins.insert(format!("http://{name}:{port}"));
                if port == 80 {
                    a.hosts.insert(name.to_string());
                    a.origins.insert(format!("http://{name}"));
                }
            }
        };
        for name in ["localhost", "127.0.0.1", "[::1]"] {
            add(name, true);
        }
        for name in lan_names {
            // An IPv6 address is bracketed in Host and Origin.
            let name = if name.contains(':') && !name.starts_with('[') {
                format!("[{name}]")
            } else {
                name.clone()
            };
            add(&name, false);
        }
        a
    }
}

#[derive(Debug)]
pub(crate) struct Refused(pub(crate) StatusCode, pub(crate) &'static str, pub(crate) &'static str);
impl warp::reject::Reject for Refused {}

#[derive(Debug)]
pub(crate) struct Internal;
impl warp::reject::Reject for Internal {}

fn refuse(status: StatusCode, code: &'static str, message: &'static str) -> Rejection {
    warp::reject::custom(Refused(status, code, message))
}

/// Exact `Host` check.
pub(crate) fn host(allowed: Arc<Allowed>) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("host")
        .and_then(move |host: Option<String>| {
            let allowed = allowed.clone();
            async move {
                match host {
                    Some(h) if allowed.hosts.contains(&h) => Ok(()),
                    _ => Err(refuse(
                        StatusCode::MISDIRECTED_REQUEST,
                        "bad_host",
                        "Host が違います / unexpected Host",
                    )),
                }
            }
        })
        .untuple_one()
}

/// Exact, present `Origin` (API calls and WebSocket upgrades).
pub(crate) fn origin(
    allowed: Arc<Allowed>,
) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    origin_check(allowed, true)
}

/// A foreign `Origin` is refused; none at all is allowed (a top-level navigation to a page,
/// or a tool). For `/health` and static files: a page elsewhere may not read them either.
pub(crate) fn origin_if_present(
    allowed: Arc<Allowed>,
) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    origin_check(allowed, false)
}

fn origin_check(
    allowed: Arc<Allowed>,
    required: bool,
) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("origin")
        .and_then(move |origin: Option<String>| {
            let allowed = allowed.clone();
            async move {
                match origin {
                    Some(o) if allowed.origins.contains(&o) => Ok(()),
                    Some(_) => Err(refuse(
                        StatusCode::FORBIDDEN,
                        "bad_origin",
                        "このページからは使えません / foreign Origin",
                    )),
                    None if !required => Ok(()),
                    None => Err(refuse(
                        StatusCode::FORBIDDEN,
                        "no_origin",
                        "Origin がありません / missing Origin",
                    )),
                }
            }
        })
        .untuple_one()
}

/// `Authorization: Bearer <token>` → the device id.
pub(crate) fn device(store: Store) -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization").and_then(move |auth: Option<String>| {
        let store = store.clone();
        async move {
            let token = auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")).map(str::trim).unwrap_or("");
            if token.is_empty() {
                return Err(refuse(StatusCode::UNAUTHORIZED, "no_token", "端末のペアリングが必要です / pair this terminal first"));
            }
            let token = token.to_string();
            let found = tokio::task::spawn_blocking(move || store.device_for_token(&token)).await.map_err(|_| warp::reject::custom(Internal))?;
            match found {
                Ok(Some(device)) => Ok(device),
                Ok(None) => Err(refuse(StatusCode::UNAUTHORIZED, "bad_token", "この端末の登録は無効です。ペアリングし直してください / this terminal's token is revoked or unknown")),
                Err(_) => Err(warp::reject::custom(Internal)),
            }
        }
    })
}

/// A paired device and the person signed in on it (when anyone is).
#[derive(Debug, Clone)]
pub struct Signed {
    pub device: String,
    pub person: Option<crate::store::StaffRow>,
}

impl Signed {
    /// The person's staff id, or "" (the audit log's column).
    pub fn person_id(&self) -> &str {
        self.person.as_ref().map_or("", |p| p.staff_id.as_str())
    }
}

/// [`device`] plus the staff session in `X-Madoguchi-Staff`: for everything that shows or
/// records patient data. Once anyone has a passkey (`sign_in_required`) a request without a
/// live session on this device is refused `sign_in_required`; a stale or ended session
/// (locked, handed over, disabled, a day old) is `signed_out`.
pub(crate) fn signed(store: Store) -> impl Filter<Extract = (Signed,), Error = Rejection> + Clone {
    device(store.clone())
        .and(warp::header::optional::<String>(protocol::STAFF_HEADER))
        .and_then(move |device: String, session: Option<String>| {
            let store = store.clone();
            async move {
                let found = tokio::task::spawn_blocking(move || -> Result<Result<Signed, Rejection>, crate::store::StoreError> {
                    match session.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                        Some(token) => Ok(match store.session_person(&device, token)? {
                            Some(person) => Ok(Signed { device, person: Some(person) }),
                            None => Err(refuse(StatusCode::UNAUTHORIZED, "signed_out", "サインインが切れました。もう一度サインインしてください / the staff session ended (locked, handed over or expired): sign in again")),
                        }),
                        None if store.sign_in_required()? => Ok(Err(refuse(StatusCode::UNAUTHORIZED, "sign_in_required", "職員のサインインが必要です / a staff member must sign in on this terminal"))),
                        None => Ok(Ok(Signed { device, person: None })),
                    }
                })
                .await
                .map_err(|_| warp::reject::custom(Internal))?;
                match found {
                    Ok(result) => result,
                    Err(_) => Err(warp::reject::custom(Internal)),
                }
            }
        })
}

/// At most `max` pairing attempts per `window`, for all clients together.
#[derive(Debug)]
pub struct PairLimiter {
    max: usize,
    window: Duration,
    attempts: Mutex<Vec<Instant>>,
}

impl PairLimiter {
    pub fn new(max: usize, window: Duration) -> PairLimiter {
        PairLimiter { max, window, attempts: Mutex::new(Vec::new()) }
    }

    pub fn allow(&self) -> bool {
        let Ok(mut attempts) = self.attempts.lock() else { return false };
        let now = Instant::now();
        attempts.retain(|t| now.duration_since(*t) < self.window);
        if attempts.len() >= self.max {
            return false;
        }
        attempts.push(now);
        true
    }
}

/// Turns rejections into JSON errors.
pub(crate) async fn recover(r: Rejection) -> Result<warp::reply::Response, Infallible> {
    if let Some(Refused(status, code, message)) = r.find() {
        return Ok(error_reply(*status, code, message));
    }
    if r.is_not_found() {
        return Ok(error_reply(StatusCode::NOT_FOUND, "not_found", "見つかりません / not found"));
    }
    if let Some(e) = r.find::<warp::filters::body::BodyDeserializeError>() {
        let _ = e;
        return Ok(error_reply(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "要求の形式が違います / malformed request body",
        ));
    }
    if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        return Ok(error_reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "要求が大きすぎます / request too large",
        ));
    }
    if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        return Ok(error_reply(StatusCode::METHOD_NOT_ALLOWED, "method", "method not allowed"));
    }
    Ok(error_reply(StatusCode::INTERNAL_SERVER_ERROR, "internal", "内部エラー / internal error")
        .into_response())
}
