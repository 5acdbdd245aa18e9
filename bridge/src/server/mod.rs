//! `bridge serve`: the HTTP/WebSocket server terminals talk to.
//!
//! [`routes`] builds the whole service as one warp filter from an [`AppState`], so tests
//! drive it without a socket (`warp::test`). Security on every request: the `Host` must be
//! one of the bridge's own names (DNS rebinding); API calls and WebSocket upgrades also
//! need an exact, present `Origin` (static pages are fetched by top-level navigation,
//! which sends none) and a device token (`Authorization: Bearer`, or the WebSocket's
//! first frame) — never a cookie or a query string.

mod admin;
pub mod assets;
pub mod cli;
#[cfg(feature = "test-doubles")]
pub mod dev_usb;
pub mod pairing;
mod security;
mod staff;
pub mod tls;
mod ws;

pub use admin::{AdminReach, BackupPlace, TlsReach};
pub use assets::Assets;
pub use security::{Allowed, PairLimiter, Signed};

use crate::card::ReaderService;
use crate::gateway::{Backend, Gateway, GatewayError, GatewayEvent, NumberQuery};
use crate::store::Store;
use protocol::{PairRequest, PairResponse, PushRequest, PushResponse};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::broadcast;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

/// Challenges issued per device: the bytes and when.
pub type Challenges = std::collections::HashMap<String, (Vec<u8>, Instant)>;

/// How often a lookup answered 処理中 is asked again, and how long it waits each time.
const PROCESSING_RETRIES: usize = 3;
const PROCESSING_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The address a request's connection came from (`tls::serve` puts it in the extensions).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

/// The guidance steps the counters set (in memory: a bridge that restarts starts idle).
#[derive(Debug, Default)]
pub struct Guides {
    by_counter: std::collections::HashMap<String, guidance::Step>,
    last: Option<guidance::Step>,
}

impl Guides {
    fn step(&self, follows: Option<&str>) -> guidance::Step {
        match follows {
            Some(counter) => self.by_counter.get(counter).copied(),
            None => self.last,
        }
        .unwrap_or(guidance::Step::Idle)
    }
}

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub readers: ReaderService,
    pub gateway: Arc<Backend>,
    pub allowed: Arc<Allowed>,
    pub limiter: Arc<PairLimiter>,
    pub started: Instant,
    pub assets: Arc<Assets>,
    /// Wakes the follow-up worker when a push brought new 事後確認 tasks.
    pub follow_up_nudge: Arc<tokio::sync::Notify>,
    /// A simulated USB reader for browser tests (`serve --simulate-usb-reader`), else `None`.
    #[cfg(feature = "test-doubles")]
    pub dev_usb: Option<dev_usb::Shared>,
    /// Challenges issued to devices for cards read by the page (single use).
    pub challenges: Arc<std::sync::Mutex<Challenges>>,
    /// Topic + JSON body for every connected terminal (new events, face results, readers).
    pub broadcast: broadcast::Sender<(String, serde_json::Value)>,
    /// The patient's step at each counter (a display that connects shows its counter's at
    /// once).
    pub guide: Arc<std::sync::Mutex<Guides>>,
    /// Registers the 照会番号 of booked patients confirmed here (`serve` starts it).
    pub registrar: Option<crate::gateway::register::Registrar>,
    /// Where tablets reach this bridge (the first LAN name and the port), for the kiosk's
    /// pairing QR code; `None` without `lan_names`.
    pub tablet_address: Option<(String, u16)>,
    /// The local CA's fingerprint ([`tls::ca_fingerprint`]), stated on `/health` (`serve`
    /// sets it once the certificates are ready).
    pub ca_sha256: Option<String>,
    /// Staff passkeys: the relying parties (the bridge's named origins) and ceremonies.
    pub passkeys: Arc<crate::staff::Passkeys>,
    /// Terminals lock after this many idle seconds (`lock_after_minutes`).
    pub lock_after_s: u32,
    /// The backup folder and the TLS listener, for an admin's work from 設定.
    pub admin: AdminReach,
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
        let refused: Vec<String> = ops
            .iter()
            .filter(|op| op.refused_for_terminal().is_some())
            .map(|op| format!("{} {}", op.kind, op.op_id))
            .collect();
        let results =
            tokio::task::spawn_blocking(move || store.push(&device, &ops)).await.ok()?.ok()?;
        // A terminal writing the bridge's own kinds or ids is out of date or hand-made.
        for what in refused {
            self.audit(
                &device_id,
                "push_refused_namespace",
                &what.chars().take(120).collect::<String>(),
            );
        }
        let created =
            results.iter().filter(|r| matches!(r, protocol::OpResult::Created { .. })).count();
        if created > 0 {
            self.follow_up_nudge.notify_one();
            let _ = self.broadcast.send((
                "events".into(),
                serde_json::json!({ "created": created, "from": device_id }),
            ));
        }
        Some(results)
    }

    /// The step a display shows now: its counter's, or (following none) the last any
    /// counter set; idle before any.
    pub fn guide(&self, follows: Option<&str>) -> guidance::Step {
        self.guide.lock().map_or(guidance::Step::Idle, |g| g.step(follows))
    }

    /// `counter` moved its patient to `step`: the displays that follow it (or every
    /// counter) show it. The broadcast body is `{"from", "step"}`; a display hears the
    /// step's word only.
    pub fn set_guide(&self, counter: &str, step: guidance::Step) {
        if let Ok(mut g) = self.guide.lock() {
            g.by_counter.insert(counter.to_string(), step);
            g.last = Some(step);
        }
        let _ = self.broadcast.send((
            protocol::GUIDE_TOPIC.into(),
            serde_json::json!({ "from": counter, "step": step.word() }),
        ));
    }

    /// A page of events after `after` for `device` (told once after a restore:
    /// [`Store::pull_for`]).
    pub async fn pull(
        &self,
        device: &str,
        after: u64,
        limit: u32,
    ) -> Option<protocol::PullResponse> {
        let (store, device) = (self.store.clone(), device.to_string());
        tokio::task::spawn_blocking(move || store.pull_for(&device, after, limit)).await.ok()?.ok()
    }

    /// 資格確認 by numbers: the answer and its reading, or a typed error code + message
    /// (`bad_input` names the field; `gateway_unavailable` means use the outage path).
    pub async fn lookup(
        &self,
        who: &Signed,
        query: &protocol::LookupQuery,
    ) -> Result<serde_json::Value, (String, String)> {
        let query = NumberQuery::from_wire(query, crate::clock::today_jst())
            .map_err(|e| ("bad_input".to_string(), e.to_string()))?;
        // 処理中 (SegmentOfResult 2) is not an answer: wait and ask again, a few times.
        let mut answer = self.gateway.lookup(&query).await.map_err(gateway_error)?;
        for _ in 0..PROCESSING_RETRIES {
            if answer.header.segment_of_result.as_deref() != Some("2") {
                break;
            }
            tokio::time::sleep(PROCESSING_WAIT).await;
            answer = self.gateway.lookup(&query).await.map_err(gateway_error)?;
        }
        self.audit_as(
            who,
            "lookup",
            &format!("insurer {}", query.insurer.eight_char_form().trim()),
        );
        let reply = crate::gateway::reply(&answer, query.visit);
        let booking = self.booking_of(&reply.reading, query.visit).await;
        Ok(crate::gateway::Reply { booking, ..reply }.to_value())
    }

    /// PIN through the card's guard, then the confirmation by the gateway: holder,
    /// answer and reading. The PIN is wiped inside the card module.
    pub async fn confirm_card(
        &self,
        device_id: &str,
        reader: Option<String>,
        pin: protocol::SecretPin,
        staff_confirmed_last_try: bool,
    ) -> Result<serde_json::Value, (String, String)> {
        // Before any APDU: a PIN try must not be spent on a confirmation that cannot succeed.
        self.refuse_unless_card_confirmable(device_id)?;
        let who = self.socket_person(device_id).await?;
        let readers = self.readers.clone();
        let pin = card::pin::Pin::new(pin.expose());
        let staff = if staff_confirmed_last_try {
            card::pin::StaffConfirmation::LastTryConfirmed
        } else {
            card::pin::StaffConfirmation::NotGiven
        };
        let challenge = uuid::Uuid::new_v4().as_bytes().to_vec();
        let card_challenge = challenge.clone();
        let confirmation = tokio::task::spawn_blocking(move || {
            let pin = pin.map_err(|e| e.to_string())?;
            readers
                .confirm(reader.as_deref(), pin, staff, &card_challenge)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| ("internal".to_string(), "internal error".to_string()))?
        .map_err(|message| ("card".to_string(), message))?;
        let visit = crate::clock::today_jst();
        let gateway = self.gateway.clone();
        let holder = confirmation.holder;
        let answer = tokio::task::spawn_blocking(move || {
            gateway.confirm_card(
                holder,
                &confirmation.certificate,
                &confirmation.signature,
                &challenge,
                visit,
            )
        })
        .await
        .map_err(|_| ("internal".to_string(), "internal error".to_string()))?
        .map_err(gateway_error)?;
        self.audit_as(&who, "card_confirmed", "own reader");
        let reply =
            crate::gateway::Reply { holder: Some(holder), ..crate::gateway::reply(&answer, visit) };
        Ok(reply.to_value())
    }

    /// `cannot_confirm_card` when the gateway cannot confirm a card from an own reader
    /// (the folder gateway: the face-auth reader confirms cards there). Audited: a terminal
    /// that asks anyway is either out of date or hand-made.
    pub(crate) fn refuse_unless_card_confirmable(
        &self,
        device_id: &str,
    ) -> Result<(), (String, String)> {
        if self.gateway.can_confirm_card() {
            return Ok(());
        }
        self.audit(device_id, "confirm_card_refused", self.gateway.name());
        Err((
            "cannot_confirm_card".into(),
            "この構成ではこの端末の読み取り機で資格確認できません（暗証番号は使われていません）。顔認証付きカードリーダーで確認してください / this bridge cannot confirm a card from this reader (no PIN try was used): use the face-auth card reader".into(),
        ))
    }

    /// A single-use challenge for `device` (valid for two minutes).
    pub fn issue_challenge(&self, device: &str) -> String {
        let challenge = uuid::Uuid::new_v4().as_bytes().to_vec();
        if let Ok(mut map) = self.challenges.lock() {
            map.retain(|_, (_, at)| at.elapsed() < std::time::Duration::from_secs(120));
            map.insert(device.to_string(), (challenge.clone(), Instant::now()));
        }
        protocol::to_hex(&challenge)
    }

    /// A card read by the page itself: the challenge must be the one issued to this
    /// device (and is spent), then the gateway checks the certificate and signature.
    pub async fn confirm_signed(
        &self,
        device_id: &str,
        holder: &str,
        certificate: &str,
        signature: &str,
        challenge: &str,
    ) -> Result<serde_json::Value, (String, String)> {
        self.refuse_unless_card_confirmable(device_id)?;
        let who = self.socket_person(device_id).await?;
        let bad = |m: &str| ("bad_input".to_string(), m.to_string());
        let issued = self
            .challenges
            .lock()
            .ok()
            .and_then(|mut map| map.remove(device_id))
            .filter(|(_, at)| at.elapsed() < std::time::Duration::from_secs(120))
            .map(|(c, _)| c);
        let challenge = protocol::from_hex(challenge).ok_or_else(|| bad("challenge is not hex"))?;
        if issued.as_deref() != Some(&challenge[..]) {
            return Err(("challenge".into(), "確認用の値が無効です。もう一度カードを確認してください / the challenge is unknown, used or expired: confirm again".into()));
        }
        let holder: card::Holder =
            serde_json::from_value(serde_json::Value::String(holder.to_string()))
                .map_err(|_| bad("unknown holder"))?;
        let certificate =
            protocol::from_hex(certificate).ok_or_else(|| bad("certificate is not hex"))?;
        let signature = protocol::from_hex(signature).ok_or_else(|| bad("signature is not hex"))?;
        let visit = crate::clock::today_jst();
        let gateway = self.gateway.clone();
        let answer = tokio::task::spawn_blocking(move || {
            gateway.confirm_card(holder, &certificate, &signature, &challenge, visit)
        })
        .await
        .map_err(|_| ("internal".to_string(), "internal error".to_string()))?
        .map_err(gateway_error)?;
        self.audit_as(&who, "card_confirmed", "page reader");
        let reply =
            crate::gateway::Reply { holder: Some(holder), ..crate::gateway::reply(&answer, visit) };
        Ok(reply.to_value())
    }

    /// Appends to the audit log off the async threads; a failure is logged, not fatal.
    pub(crate) fn audit(&self, actor: &str, action: &'static str, subject: &str) {
        let store = self.store.clone();
        let (actor, subject) = (actor.to_string(), subject.to_string());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.audit(&actor, action, &subject) {
                tracing::warn!(%e, "audit append failed");
            }
        });
    }

    /// [`AppState::audit`] with the person signed in on the device.
    pub(crate) fn audit_as(&self, who: &Signed, action: &'static str, subject: &str) {
        let store = self.store.clone();
        let (device, person, subject) =
            (who.device.clone(), who.person_id().to_string(), subject.to_string());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.audit_by(&device, &person, action, &subject) {
                tracing::warn!(%e, "audit append failed");
            }
        });
    }

    /// Who a request over `device_id`'s socket (a card operation, a lookup) is for: the
    /// person signed in on the device. Refused when sign-in is required and nobody is —
    /// before any APDU, so no PIN is asked for a confirmation that cannot be recorded.
    pub(crate) async fn socket_person(&self, device_id: &str) -> Result<Signed, (String, String)> {
        let (store, device) = (self.store.clone(), device_id.to_string());
        let found = tokio::task::spawn_blocking(move || {
            Ok::<_, crate::store::StoreError>((
                store.sign_in_required()?,
                store.device_person(&device)?,
            ))
        })
        .await
        .map_err(|_| ("internal".to_string(), "internal error".to_string()))?
        .map_err(|e| ("store".to_string(), e.to_string()))?;
        let device = device_id.to_string();
        match found {
            (_, Some(person)) => Ok(Signed { device, person: Some(person) }),
            (false, None) => Ok(Signed { device, person: None }),
            (true, None) => Err(("sign_in_required".into(), "職員のサインインが必要です（暗証番号は使われていません） / a staff member must sign in first (no PIN try was used)".into())),
        }
    }

    pub fn new(store: Store, gateway: Arc<Backend>, allowed: Allowed) -> AppState {
        AppState {
            store,
            readers: ReaderService::new(),
            gateway,
            allowed: Arc::new(allowed.clone()),
            limiter: Arc::new(PairLimiter::new(10, std::time::Duration::from_secs(60))),
            started: Instant::now(),
            assets: Arc::new(Assets::embedded().unwrap_or_default()),
            follow_up_nudge: Arc::new(tokio::sync::Notify::new()),
            challenges: Arc::default(),
            #[cfg(feature = "test-doubles")]
            dev_usb: None,
            broadcast: broadcast::channel(1024).0,
            guide: Arc::default(),
            registrar: None,
            ca_sha256: None,
            tablet_address: None,
            passkeys: Arc::new(crate::staff::Passkeys::for_origins(&allowed.origins)),
            lock_after_s: 300,
            admin: AdminReach::default(),
        }
    }

    /// The day's booking `reading`'s patient is, with what changed since the 一括照会; a
    /// booked patient confirmed here is registered for their 照会番号 (once per numbers).
    pub async fn booking_of(
        &self,
        reading: &reception::reading::Reading,
        visit: eligibility::Date,
    ) -> Option<reception::booking::BookingMatch> {
        let store = self.store.clone();
        let rows = blocking(move || store.bookings_on(visit)).await.ok()?.ok()?;
        let row = reception::booking::find(&rows, &reading.patient)?;
        if let Some(registrar) = &self.registrar {
            registrar.confirmed(&row.booking.patient_id, reading);
        }
        Some(reception::booking::matched(row, reading))
    }
}

/// A gateway error as a wire code and message: `gateway_unavailable` (timeout or
/// outage: take the outage path and schedule a follow-up) or `gateway`.
fn gateway_error(e: GatewayError) -> (String, String) {
    let code = match e {
        GatewayError::Unavailable | GatewayError::Timeout(_) => "gateway_unavailable",
        _ => "gateway",
    };
    (code.to_string(), e.to_string())
}

/// Forwards what terminals must see on their own to every socket: face-auth results (read
/// and stored in the ledger first) and quarantined files from the gateway, and reader/card
/// events from PC/SC. Call once, inside the runtime.
pub fn forward_events(state: &AppState) {
    forward(state.readers.subscribe(), "reader", state.broadcast.clone());
    let mut events = state.gateway.events();
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // Nothing is lost: the worker publishes every face/ file again and the
                    // store keeps only what it has not seen.
                    tracing::warn!(missed = n, "gateway events lagged: asking for them again");
                    state.gateway.redeliver();
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let body = match &event {
                GatewayEvent::Face { file, answer } => {
                    let visit = crate::clock::today_jst();
                    let reply = crate::gateway::reply(answer, visit);
                    // One of today's booked patients: said on the result, with what changed
                    // since the evening's 一括照会.
                    let booking = state.booking_of(&reply.reading, visit).await;
                    let body = crate::gateway::Reply {
                        event: Some("face"),
                        file: Some(file.face_id()),
                        file_name: Some(file.name.clone()),
                        booking,
                        ..reply
                    }
                    .to_value();
                    // Stored before shown: the ledger keeps it (once per file content),
                    // then the terminals hear of it.
                    let store = state.store.clone();
                    let (seen, stored) = (file.clone(), body.clone());
                    let mut body = body;
                    match blocking(move || store.record_face(&seen, &stored)).await {
                        Ok(Ok(Some(seq))) => {
                            if let Some(object) = body.as_object_mut() {
                                object.insert("seq".into(), seq.into());
                            }
                        }
                        Ok(Ok(None)) => continue, // read before: already announced
                        _ => {
                            tracing::warn!(
                                "a face result could not be stored; it is asked for again"
                            );
                            state.gateway.redeliver();
                            continue;
                        }
                    }
                    body
                }
                GatewayEvent::Quarantined { file, reason } => {
                    let store = state.store.clone();
                    let (seen, why) = (file.clone(), reason.clone());
                    match blocking(move || store.record_quarantined(&seen, &why)).await {
                        Ok(Ok(true)) => {}
                        _ => continue, // reported before
                    }
                    serde_json::json!({ "event": "quarantined", "file": file.name, "reason": reason })
                }
            };
            let _ = state.broadcast.send(("gateway".into(), body));
        }
    });
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
        warp::reply::json(&protocol::ErrorBody { error: code.into(), message: message.into() }),
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

/// The policy table the bridge decides by: its version, review date, and the sections whose
/// last known rule ended before today ("unknown" says which rule, instead of a blank).
fn policy_health() -> serde_json::Value {
    match crate::policy_table::effective() {
        Ok(p) => {
            let unknown: Vec<serde_json::Value> = p
                .unknown_on(crate::clock::today_jst())
                .into_iter()
                .map(|(section, until)| serde_json::json!({ "section": section, "known_until": until.to_string() }))
                .collect();
            serde_json::json!({
                "version": p.version,
                "reviewed": p.reviewed.map(|d| d.to_string()),
                "source": crate::policy_table::source(),
                "unknown": unknown,
            })
        }
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    }
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
    let origin_if_present = security::origin_if_present(state.allowed.clone());
    let device = security::device(state.store.clone());
    let signed = security::signed(state.store.clone());

    let health = warp::path!("health").and(warp::get()).and(host.clone()).and(origin_if_present.clone()).and(with_state.clone()).and_then(|s: AppState| async move {
        let readers = blocking({
            let r = s.readers.clone();
            move || match r.list() {
                Ok(list) => (list, None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            }
        })
        .await?;
        let (readers, readers_error) = readers;
        let store = blocking({
            let st = s.store.clone();
            move || {
                serde_json::json!({
                    "events": st.event_count().unwrap_or(0),
                    "bytes": st.size_bytes().unwrap_or(0),
                    "oldest_pending_follow_up": st.oldest_pending_follow_up().unwrap_or(None),
                    "pending_follow_ups": st.pending_follow_ups(10_000).map(|p| p.len()).unwrap_or(0),
                })
            }
        })
        .await?;
        let face_files = blocking({
            let st = s.store.clone();
            move || st.face_file_counts().unwrap_or((0, 0))
        })
        .await?;
        let staff_sign_in = blocking({
            let st = s.store.clone();
            move || st.sign_in_required().unwrap_or(true)
        })
        .await?;
        Ok::<_, Rejection>(
            warp::reply::json(&serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "protocol": protocol::VERSION,
                "uptime_s": s.started.elapsed().as_secs(),
                "training": s.gateway.training(),
                "ca_sha256": s.ca_sha256,
                "staff_sign_in": staff_sign_in,
                "lock_after_s": s.lock_after_s,
                "server_time": crate::clock::now_rfc3339(),
                "readers": readers,
                "readers_error": readers_error,
                "gateway": {
                    "backend": s.gateway.name(),
                    "can_confirm_card": s.gateway.can_confirm_card(),
                    "state": s.gateway.state(),
                    "degraded": s.gateway.degraded(),
                    "worker_restarts": s.gateway.restarts(),
                    "face_files_read": face_files.0,
                    "face_files_quarantined": face_files.1,
                },
                "store": store,
                "policy": policy_health(),
            }))
            .into_response(),
        )
    });

    let follow_ups = warp::path!("api" / "follow-ups")
        .and(warp::get())
        .and(host.clone())
        .and(origin.clone())
        .and(signed.clone())
        .and(with_state.clone())
        .and_then(|who: Signed, s: AppState| async move {
            s.audit_as(&who, "viewed", "follow_ups");
            let store = s.store.clone();
            Ok::<_, Rejection>(match blocking(move || store.follow_ups(500)).await? {
                Ok(list) => warp::reply::json(&list).into_response(),
                Err(e) => error_reply(StatusCode::SERVICE_UNAVAILABLE, "store", &e.to_string()),
            })
        });

    // Today's face results no reception has recorded yet: the 受付 list is a view of this
    // (on connect, on reload, after the idle timeout and after any socket gap). The device
    // token is enough, like the socket that pushes them: a locked terminal keeps its count
    // (it shows no result until someone signs in). POST for
    // pages (a same-origin GET carries no Origin), GET for tools.
    let open_face_results = warp::path!("api" / "face-results" / "open")
        .and(warp::get().or(warp::post()).unify())
        .and(host.clone())
        .and(origin.clone())
        .and(device.clone())
        .and(with_state.clone())
        .and_then(|_device: String, s: AppState| async move {
            let store = s.store.clone();
            // A page of events, like a pull (one wire shape for a list of events).
            Ok::<_, Rejection>(match blocking(move || store.open_face_results()).await? {
                Ok(mut events) => {
                    let today = crate::clock::today_jst();
                    for e in &mut events {
                        crate::gateway::with_reading(&mut e.body, today);
                    }
                    let next = events.last().map_or(0, |e| e.seq);
                    warp::reply::json(&protocol::PullResponse {
                        events,
                        next,
                        more: false,
                        last_seq: None,
                    })
                    .into_response()
                }
                Err(e) => error_reply(StatusCode::SERVICE_UNAVAILABLE, "store", &e.to_string()),
            })
        });

    // The patient index: a return visit's last known reception (`null` when none), for a
    // terminal whose own copy of the ledger holds today's patients only.
    let last_visit = warp::path!("api" / "patients" / "last-visit")
        .and(warp::post())
        .and(host.clone())
        .and(origin.clone())
        .and(signed.clone())
        .and(warp::body::content_length_limit(4096))
        .and(warp::body::json())
        .and(with_state.clone())
        .and_then(|who: Signed, patient: reception::Patient, s: AppState| async move {
            s.audit_as(&who, "viewed", "last_visit");
            let store = s.store.clone();
            Ok::<_, Rejection>(match blocking(move || store.last_visit(&patient)).await? {
                Ok(last) => warp::reply::json(&last).into_response(),
                Err(e) => error_reply(StatusCode::SERVICE_UNAVAILABLE, "store", &e.to_string()),
            })
        });

    // The booked patients of a day with their pre-confirmation (本日の予約), or whole
    // (`whole`: the 予約 screen loads one to correct it).
    let bookings = warp::path!("api" / "bookings")
        .and(warp::post())
        .and(host.clone())
        .and(origin.clone())
        .and(signed.clone())
        .and(warp::body::content_length_limit(1024))
        .and(warp::body::json())
        .and(with_state.clone())
        .and_then(
            |who: Signed, query: reception::booking::BookingsQuery, s: AppState| async move {
                s.audit_as(&who, "viewed", "bookings");
                let store = s.store.clone();
                let date = query.date.unwrap_or_else(crate::clock::today_jst);
                let read = move || Ok((store.bookings_on(date)?, store.failed_references()?));
                let read: Result<_, crate::store::StoreError> = blocking(read).await?;
                Ok::<_, Rejection>(match read {
                    Ok((list, _)) if query.whole => warp::reply::json(&list).into_response(),
                    Ok((list, failed)) => {
                        let lines: Vec<_> = list
                            .iter()
                            .map(|row| reception::booking::BookingLine {
                                id_failed: failed.get(&row.booking.patient_id).cloned(),
                                ..row.line()
                            })
                            .collect();
                        warp::reply::json(&lines).into_response()
                    }
                    Err(e) => error_reply(StatusCode::SERVICE_UNAVAILABLE, "store", &e.to_string()),
                })
            },
        );

    // The 予約 screen: one booking added or corrected (checked like a CSV row; new numbers
    // clear the pre-confirmation).
    let booking_put =
        warp::path!("api" / "bookings" / "put")
            .and(warp::post())
            .and(host.clone())
            .and(origin.clone())
            .and(signed.clone())
            .and(warp::body::content_length_limit(4096))
            .and(warp::body::json())
            .and(with_state.clone())
            .and_then(
                |who: Signed,
                 fields: std::collections::BTreeMap<String, String>,
                 s: AppState| async move {
                    let booking = match crate::bookings::from_fields(&fields) {
                        Ok(b) => b,
                        Err(why) => {
                            return Ok::<_, Rejection>(error_reply(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                "bad_input",
                                &why,
                            ))
                        }
                    };
                    let store = s.store.clone();
                    let stored = booking.clone();
                    Ok(
                        match blocking(move || store.import_bookings(std::slice::from_ref(&stored)))
                            .await?
                        {
                            Ok(_) => {
                                s.audit_as(&who, "put_booking", &booking.date.to_string());
                                warp::reply::json(&booking).into_response()
                            }
                            Err(e) => error_reply(
                                StatusCode::SERVICE_UNAVAILABLE,
                                "store",
                                &e.to_string(),
                            ),
                        },
                    )
                },
            );

    // The clinic's policy table, for terminals to decide by (POST for pages, GET for tools).
    let policy = warp::path!("api" / "policy")
        .and(warp::get().or(warp::post()).unify())
        .and(host.clone())
        .and(origin.clone())
        .and(device.clone())
        .and_then(|_device: String| async move {
            Ok::<_, Rejection>(match crate::policy_table::for_terminals() {
                Ok(table) => warp::reply::json(&table).into_response(),
                Err(e) => error_reply(StatusCode::INTERNAL_SERVER_ERROR, "policy", &e.to_string()),
            })
        });

    let lookup = warp::path!("api" / "lookup")
        .and(warp::post())
        .and(host.clone())
        .and(origin.clone())
        .and(signed.clone())
        .and(warp::body::content_length_limit(4096))
        .and(warp::body::json())
        .and(with_state.clone())
        .and_then(|who: Signed, q: protocol::LookupQuery, s: AppState| async move {
            Ok::<_, Rejection>(match s.lookup(&who, &q).await {
                Ok(body) => warp::reply::json(&body).into_response(),
                Err((code, message)) => {
                    let status = match code.as_str() {
                        "bad_input" => StatusCode::UNPROCESSABLE_ENTITY,
                        "gateway_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
                        _ => StatusCode::BAD_GATEWAY,
                    };
                    error_reply(status, &code, &message)
                }
            })
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
            let paired = blocking(move || store.pair_as(&req.code, &req.device_name, req.role)).await?;
            Ok(match paired {
                Ok(Some((device_id, token))) => warp::reply::json(&PairResponse { device_id, token }).into_response(),
                Ok(None) => error_reply(StatusCode::FORBIDDEN, "bad_code", "ペアリングコードが違うか期限切れです / the pairing code is wrong or expired"),
                Err(e) => error_reply(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
            })
        });

    // The kiosk (on the bridge's own PC) shows a tablet's pairing QR code: a paired
    // terminal on a loopback connection only, never a device on the LAN.
    let pair_qr = warp::path!("api" / "pair" / "qr")
        .and(warp::post())
        .and(host.clone())
        .and(origin.clone())
        .and(device.clone())
        .and(warp::ext::optional::<Peer>())
        .and(with_state.clone())
        .and_then(|device_id: String, peer: Option<Peer>, s: AppState| async move {
            if !peer.is_some_and(|p| p.0.ip().is_loopback()) {
                return Ok::<_, Rejection>(error_reply(StatusCode::FORBIDDEN, "kiosk_only", "タブレット用のQRコードは受付PC（ブリッジと同じPC）でだけ表示できます / only the kiosk on the bridge's PC shows a pairing QR code"));
            }
            let (Some((host, port)), Some(ca)) = (s.tablet_address.clone(), s.ca_sha256.clone()) else {
                return Ok(error_reply(StatusCode::CONFLICT, "no_lan_name", "LAN 名がありません。bridge.toml の lan_names にタブレットが使うアドレスを書いてください / no LAN name: set lan_names"));
            };
            let store = s.store.clone();
            let code = blocking(move || store.new_pairing_code(300)).await?;
            Ok(match code {
                Ok(code) => {
                    let link = pairing::PairingLink { host, port, code, ca_sha256: ca, device_name: "tablet".into() };
                    let url = link.url();
                    match pairing::qr_svg(&url) {
                        Ok(svg) => {
                            s.audit(&device_id, "pairing_qr_shown", "-");
                            let svg = svg.find("<svg").map_or(svg.clone(), |at| svg[at..].to_string());
                            let fingerprint = tls::fingerprint_for_people(&link.ca_sha256);
                            warp::reply::json(&protocol::PairingQr { url, svg, fingerprint, minutes: 5 }).into_response()
                        }
                        Err(e) => error_reply(StatusCode::INTERNAL_SERVER_ERROR, "qr", &e.to_string()),
                    }
                }
                Err(e) => error_reply(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
            })
        });

    // A counter pairs its own guidance display: the code pairs only a display, which then
    // follows this counter.
    let pair_display = warp::path!("api" / "pair" / "display")
        .and(warp::post())
        .and(host.clone())
        .and(origin.clone())
        .and(device.clone())
        .and(with_state.clone())
        .and_then(|device_id: String, s: AppState| async move {
            let store = s.store.clone();
            let counter = device_id.clone();
            let code = blocking(move || store.new_display_code(&counter, 600)).await?;
            Ok::<_, Rejection>(match code {
                Ok(code) => {
                    warp::reply::json(&protocol::DisplayCode { code, minutes: 10 }).into_response()
                }
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

    // GET for tools; POST for pages, because browsers send no Origin on a same-origin GET.
    let pull_query = warp::get()
        .and(warp::query::<PullQuery>())
        .or(warp::post()
            .and(warp::body::content_length_limit(1024))
            .and(warp::body::json::<PullQuery>()))
        .unify();
    let pull = warp::path!("api" / "sync" / "pull")
        .and(host.clone())
        .and(origin.clone())
        .and(device.clone())
        .and(pull_query)
        .and(with_state.clone())
        .and_then(|device: String, q: PullQuery, s: AppState| async move {
            Ok::<_, Rejection>(match s.pull(&device, q.after, q.limit).await {
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

    #[cfg(feature = "test-doubles")]
    #[derive(Deserialize)]
    struct DevUsbBody {
        #[serde(default)]
        data: String,
        #[serde(default)]
        action: String,
    }
    // A release build has no simulated reader: the path does not exist there.
    #[cfg(not(feature = "test-doubles"))]
    let simulated_usb = warp::path!("dev" / "usb" / String).and_then(|_: String| async {
        Err::<warp::reply::Response, warp::Rejection>(warp::reject::not_found())
    });
    #[cfg(feature = "test-doubles")]
    let simulated_usb = warp::path!("dev" / "usb" / String)
        .and(warp::post())
        .and(host.clone())
        .and(origin.clone())
        .and(warp::body::content_length_limit(64 * 1024))
        .and(warp::body::json::<DevUsbBody>())
        .and(with_state.clone())
        .and_then(|what: String, body: DevUsbBody, s: AppState| async move {
            let Some(sim) = s.dev_usb.clone() else { return Err(warp::reject::not_found()) };
            let Ok(mut sim) = sim.lock() else { return Err(warp::reject::not_found()) };
            let today = crate::clock::today_jst();
            let reply = match what.as_str() {
                "info" => {
                    Ok(serde_json::json!({ "vendor_id": 0x054C, "product_id": sim.product_id() }))
                }
                "out" => protocol::from_hex(&body.data)
                    .ok_or_else(|| "data is not hex".to_string())
                    .and_then(|d| sim.out(&d))
                    .map(|()| serde_json::json!({})),
                "in" => {
                    Ok(serde_json::json!({ "data": sim.take_in().map(|d| protocol::to_hex(&d)) }))
                }
                "card" => sim.card(&body.action, today).map(|()| serde_json::json!({})),
                _ => return Err(warp::reject::not_found()),
            };
            Ok(match reply {
                Ok(v) => warp::reply::json(&v).into_response(),
                Err(m) => error_reply(StatusCode::BAD_REQUEST, "dev_usb", &m),
            })
        });

    let files =
        warp::get()
            .and(host)
            .and(origin_if_present)
            .and(with_state)
            .and(warp::path::tail())
            .and(warp::header::optional::<String>("accept-encoding"))
            .and(warp::header::optional::<String>("if-none-match"))
            .and_then(
                |s: AppState,
                 tail: warp::path::Tail,
                 accept: Option<String>,
                 etag: Option<String>| async move {
                    if s.assets.is_empty() {
                        return Ok(error_reply(
                            StatusCode::NOT_FOUND,
                            "no_frontend",
                            "フロントエンドが設定されていません / no frontend is configured",
                        ));
                    }
                    s.assets
                        .reply(tail.as_str(), accept.as_deref().unwrap_or(""), etag.as_deref())
                        .ok_or_else(warp::reject::not_found)
                },
            );

    health
        .or(pair)
        .unify()
        .or(pair_qr)
        .unify()
        .or(pair_display)
        .unify()
        .or(staff::routes(&state))
        .unify()
        .or(admin::routes(&state))
        .unify()
        .or(follow_ups)
        .unify()
        .or(open_face_results)
        .unify()
        .or(last_visit)
        .unify()
        .or(bookings)
        .unify()
        .or(booking_put)
        .unify()
        // Boxed halfway: the whole chain's type is deeper than the compiler's recursion limit
        // in a release build without the test doubles.
        .boxed()
        .or(policy)
        .unify()
        .or(lookup)
        .unify()
        .or(simulated_usb)
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
