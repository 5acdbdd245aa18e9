//! `bridge serve`: the HTTP/WebSocket server terminals talk to.
//!
//! [`routes`] builds the whole service as one warp filter from an [`AppState`], so tests
//! drive it without a socket (`warp::test`). Security on every request: the `Host` must be
//! one of the bridge's own names (DNS rebinding); API calls and WebSocket upgrades also
//! need an exact, present `Origin` (static pages are fetched by top-level navigation,
//! which sends none) and a device token (`Authorization: Bearer`, or the WebSocket's
//! first frame) — never a cookie or a query string.

pub mod cli;
mod security;
pub mod tls;
mod ws;

pub use security::{Allowed, PairLimiter};

use crate::card::ReaderService;
use crate::gateway::sim::SimGateway;
use crate::store::Store;
use protocol::{PairRequest, PairResponse, PushRequest, PushResponse};
use serde::Deserialize;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::broadcast;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub readers: ReaderService,
    pub gateway: Arc<SimGateway>,
    pub allowed: Arc<Allowed>,
    pub limiter: Arc<PairLimiter>,
    pub started: Instant,
    pub frontend_dir: Option<PathBuf>,
    /// Topic + JSON body for every connected terminal (new events, face results, readers).
    pub broadcast: broadcast::Sender<(String, serde_json::Value)>,
}

impl AppState {
    /// Stores a push (off the async threads: SQLite with synchronous=FULL waits on fsync)
    /// and tells every socket when something new arrived. HTTP and WebSocket both use it.
    pub async fn push(
        &self,
        device_id: String,
        ops: Vec<protocol::Op>,
    ) -> Option<Vec<protocol::OpResult>> {
        let store = self.store.clone();
        let device = device_id.clone();
        let results =
            tokio::task::spawn_blocking(move || store.push(&device, &ops)).await.ok()?.ok()?;
        let created =
            results.iter().filter(|r| matches!(r, protocol::OpResult::Created { .. })).count();
        if created > 0 {
            let _ = self.broadcast.send((
                "events".into(),
                serde_json::json!({ "created": created, "from": device_id }),
            ));
        }
        Some(results)
    }

    /// A page of events after `after`.
    pub async fn pull(&self, after: u64, limit: u32) -> Option<protocol::PullResponse> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.pull(after, limit)).await.ok()?.ok()
    }

    pub fn new(store: Store, gateway: Arc<SimGateway>, allowed: Allowed) -> AppState {
        AppState {
            store,
            readers: ReaderService::new(),
            gateway,
            allowed: Arc::new(allowed),
            limiter: Arc::new(PairLimiter::new(10, std::time::Duration::from_secs(60))),
            started: Instant::now(),
            frontend_dir: None,
            broadcast: broadcast::channel(1024).0,
        }
    }
}

/// Forwards what terminals must see on their own to every socket: face-auth results and
/// quarantined files from the gateway, and reader/card events from PC/SC. Call once, inside
/// the runtime.
pub fn forward_events(state: &AppState) {
    use crate::gateway::Gateway;
    forward(state.gateway.events(), "gateway", state.broadcast.clone());
    forward(state.readers.subscribe(), "reader", state.broadcast.clone());
}

/// Re-publishes every event of `events` to the sockets under `topic`.
fn forward<E: serde::Serialize + Clone + Send + 'static>(
    mut events: broadcast::Receiver<E>,
    topic: &'static str,
    out: broadcast::Sender<(String, serde_json::Value)>,
) {
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    let _ =
                        out.send((topic.into(), serde_json::to_value(&event).unwrap_or_default()));
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(topic, missed = n, "events lagged")
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// A JSON error body with a status.
pub(crate) fn error_reply(status: StatusCode, code: &str, message: &str) -> warp::reply::Response {
    warp::reply::with_status(
        warp::reply::json(&serde_json::json!({ "error": code, "message": message })),
        status,
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    #[serde(default)]
    after: u64,
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    200
}

/// Runs a store call off the async threads (SQLite with synchronous=FULL blocks on fsync).
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Rejection> {
    tokio::task::spawn_blocking(f).await.map_err(|_| warp::reject::custom(security::Internal))
}

/// The whole service.
pub fn routes(
    state: AppState,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Infallible> + Clone {
    let with_state = {
        let state = state.clone();
        warp::any().map(move || state.clone())
    };
    let host = security::host(state.allowed.clone());
    let origin = security::origin(state.allowed.clone());
    let device = security::device(state.store.clone());

    let health = warp::path!("health").and(warp::get()).and(host.clone()).and(with_state.clone()).and_then(|s: AppState| async move {
        let readers = blocking({
            let r = s.readers.clone();
            move || r.list().map(|l| serde_json::to_value(l).unwrap_or_default()).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
        })
        .await?;
        let events = blocking({
            let st = s.store.clone();
            move || st.event_count().unwrap_or(0)
        })
        .await?;
        let faults = s.gateway.sim.faults();
        Ok::<_, Rejection>(
            warp::reply::json(&serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "uptime_s": s.started.elapsed().as_secs(),
                "readers": readers,
                "gateway": { "backend": "sim", "state": if faults.outage { "outage" } else { "up" } },
                "store": { "events": events },
            }))
            .into_response(),
        )
    });

    let pair = warp::path!("api" / "pair")
        .and(warp::post())
        .and(host.clone())
        .and(origin.clone())
        .and(warp::body::content_length_limit(4096))
        .and(warp::body::json())
        .and(with_state.clone())
        .and_then(|req: PairRequest, s: AppState| async move {
            if !s.limiter.allow() {
                return Ok::<_, Rejection>(error_reply(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "ペアリングの試行が多すぎます。1分待ってください / too many pairing attempts: wait a minute"));
            }
            let store = s.store.clone();
            let paired = blocking(move || store.pair(&req.code, &req.device_name)).await?;
            Ok(match paired {
                Ok(Some((device_id, token))) => warp::reply::json(&PairResponse { device_id, token }).into_response(),
                Ok(None) => error_reply(StatusCode::FORBIDDEN, "bad_code", "ペアリングコードが違うか期限切れです / the pairing code is wrong or expired"),
                Err(e) => error_reply(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
            })
        });

    let push = warp::path!("api" / "sync" / "push")
        .and(warp::post())
        .and(host.clone())
        .and(origin.clone())
        .and(device.clone())
        .and(warp::body::content_length_limit(8 * 1024 * 1024))
        .and(warp::body::json())
        .and(with_state.clone())
        .and_then(|device_id: String, req: PushRequest, s: AppState| async move {
            Ok::<_, Rejection>(match s.push(device_id, req.ops).await {
                Some(results) => warp::reply::json(&PushResponse { results }).into_response(),
                None => error_reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store",
                    "保存できませんでした / could not store",
                ),
            })
        });

    let pull = warp::path!("api" / "sync" / "pull")
        .and(warp::get())
        .and(host.clone())
        .and(origin.clone())
        .and(device.clone())
        .and(warp::query::<PullQuery>())
        .and(with_state.clone())
        .and_then(|_device: String, q: PullQuery, s: AppState| async move {
            Ok::<_, Rejection>(match s.pull(q.after, q.limit).await {
                Some(page) => warp::reply::json(&page).into_response(),
                None => error_reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store",
                    "読めませんでした / could not read",
                ),
            })
        });

    let socket = warp::path!("ws")
        .and(host.clone())
        .and(origin.clone())
        .and(warp::ws())
        .and(with_state.clone())
        .map(|upgrade: warp::ws::Ws, s: AppState| {
            upgrade
                .max_message_size(protocol::MAX_MESSAGE_BYTES)
                .on_upgrade(move |socket| ws::session(socket, s))
                .into_response()
        });

    let files = warp::get().and(host).and(with_state).and(warp::path::tail()).and_then(
        |s: AppState, tail: warp::path::Tail| async move {
            static_file(s.frontend_dir.as_deref(), tail.as_str()).await
        },
    );

    health
        .or(pair)
        .unify()
        .or(push)
        .unify()
        .or(pull)
        .unify()
        .or(socket)
        .unify()
        .or(files)
        .unify()
        .recover(security::recover)
        .unify()
}

/// Serves the built frontend with strict headers. Precompressed `.br`/`.gz` siblings
/// come with the frontend issue.
async fn static_file(
    dir: Option<&std::path::Path>,
    tail: &str,
) -> Result<warp::reply::Response, Rejection> {
    let Some(dir) = dir else {
        return Ok(error_reply(
            StatusCode::NOT_FOUND,
            "no_frontend",
            "フロントエンドが設定されていません / no frontend is configured",
        ));
    };
    let rel = if tail.is_empty() { "index.html" } else { tail };
    if rel.split('/').any(|p| p == ".." || p.starts_with('.')) {
        return Err(warp::reject::not_found());
    }
    let path = dir.join(rel);
    let bytes = tokio::fs::read(&path).await.map_err(|_| warp::reject::not_found())?;
    let mime = match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    let mut response = warp::reply::Response::new(bytes.into());
    let headers = response.headers_mut();
    let set = |h: &mut warp::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, warp::http::HeaderValue::from_static(v));
    };
    set(headers, "content-type", mime);
    set(
        headers,
        "cache-control",
        if rel == "index.html" { "no-cache" } else { "public, max-age=31536000, immutable" },
    );
    set(headers, "content-security-policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(headers, "cross-origin-embedder-policy", "require-corp");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    Ok(response)
}
