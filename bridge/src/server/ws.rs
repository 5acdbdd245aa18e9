//! One terminal's WebSocket: `hello` with the device token first, then requests and
//! pushed events. Unknown kinds get an `error` reply; the connection stays.
//!
//! A revoked device's socket closes (4003) within [`REVOCATION_CHECK`] and no message it
//! sends after the revocation is handled; every request has a deadline
//! ([`REQUEST_DEADLINE`]) so that a stuck reader or gateway answers `timeout`.

use super::AppState;
use futures_util::{SinkExt, StreamExt};
use protocol::{ClientEnvelope, ClientMessage, ServerEnvelope, ServerMessage, VERSION};
use warp::ws::{Message, WebSocket};

/// How often an open socket checks that its device is still paired.
pub(crate) const REVOCATION_CHECK: std::time::Duration = std::time::Duration::from_millis(400);

/// The longest any request may take before it is answered `timeout` (a lookup's own
/// deadline and its 処理中 retries fit inside).
pub(crate) const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

async fn still_paired(state: &AppState, device_id: &str) -> bool {
    let (store, device) = (state.store.clone(), device_id.to_string());
    matches!(tokio::task::spawn_blocking(move || store.device_active(&device)).await, Ok(Ok(true)))
}

fn revoked() -> [Message; 2] {
    [
        error(None, "revoked", "この端末の登録は取り消されました。設定でペアリングし直してください / this terminal was revoked: pair again in 設定"),
        Message::close_with(4003u16, "revoked"),
    ]
}

fn text(envelope: &ServerEnvelope) -> Message {
    Message::text(serde_json::to_string(envelope).unwrap_or_default())
}

fn error(id: Option<String>, code: &str, message: &str) -> Message {
    text(&ServerEnvelope::reply(
        id,
        ServerMessage::Error { code: code.into(), message: message.into() },
    ))
}

/// Who opened the socket: a counter (everything) or a guidance display (the steps only).
enum Peer {
    Counter(String),
    /// A display and the counter it follows (`None`: every counter).
    Display(String, Option<String>),
}

async fn peer_for(state: &AppState, token: String) -> Option<Peer> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        if let Ok(Some(device)) = store.device_for_token(&token) {
            return Some(Peer::Counter(device));
        }
        let (display, follows) = store.display_for_token(&token).ok().flatten()?;
        Some(Peer::Display(display, follows))
    })
    .await
    .ok()
    .flatten()
}

pub(crate) async fn session(socket: WebSocket, state: AppState) {
    let (mut tx, mut rx) = socket.split();
    // The first frame must authenticate.
    let peer = match rx.next().await {
        Some(Ok(m)) if m.is_text() => {
            let hello = serde_json::from_str::<ClientEnvelope>(m.to_str().unwrap_or(""));
            match hello {
                Ok(ClientEnvelope { message: ClientMessage::Hello { token }, id, .. }) => {
                    match peer_for(&state, token).await {
                        Some(peer) => {
                            let (Peer::Counter(device) | Peer::Display(device, _)) = &peer;
                            let welcome = ServerMessage::Welcome {
                                device_id: device.clone(),
                                server_time: crate::clock::now_rfc3339(),
                                version: VERSION,
                                can_confirm_card: state.gateway.can_confirm_card(),
                                training: state.gateway.training(),
                            };
                            let _ = tx.send(text(&ServerEnvelope::reply(id, welcome))).await;
                            peer
                        }
                        None => {
                            let _ = tx
                                .send(error(
                                    id,
                                    "bad_token",
                                    "この端末の登録は無効です / unknown or revoked token",
                                ))
                                .await;
                            let _ = tx.send(Message::close_with(4001u16, "unauthorized")).await;
                            return;
                        }
                    }
                }
                _ => {
                    let _ = tx
                        .send(error(
                            None,
                            "hello_first",
                            "最初に hello を送ってください / send hello first",
                        ))
                        .await;
                    let _ = tx.send(Message::close_with(4001u16, "hello first")).await;
                    return;
                }
            }
        }
        _ => return,
    };
    let device_id = match peer {
        Peer::Counter(device) => device,
        Peer::Display(device, follows) => {
            return display_session(tx, rx, state, device, follows).await
        }
    };
    let mut events = state.broadcast.subscribe();
    let mut check = tokio::time::interval(REVOCATION_CHECK);
    loop {
        tokio::select! {
            _ = check.tick() => {
                if !still_paired(&state, &device_id).await {
                    for m in revoked() {
                        let _ = tx.send(m).await;
                    }
                    state.audit(&device_id, "socket_closed_revoked", "");
                    return;
                }
            }
            event = events.recv() => {
                if let Ok((topic, body)) = event {
                    // The guidance steps are the displays' (counters set them).
                    if topic == protocol::GUIDE_TOPIC {
                        continue;
                    }
                    if tx.send(text(&ServerEnvelope::reply(None, ServerMessage::Event { topic, body }))).await.is_err() {
                        return;
                    }
                }
            }
            incoming = rx.next() => {
                let Some(Ok(message)) = incoming else { return };
                if message.is_close() {
                    return;
                }
                if !message.is_text() {
                    continue;
                }
                // Revoked between two checks: the message is not handled.
                if !still_paired(&state, &device_id).await {
                    for m in revoked() {
                        let _ = tx.send(m).await;
                    }
                    return;
                }
                let reply = match tokio::time::timeout(
                    REQUEST_DEADLINE,
                    handle(&state, &device_id, message.to_str().unwrap_or("")),
                )
                .await
                {
                    Ok(Some(reply)) => reply,
                    // A notification (the guidance step): nothing to answer.
                    Ok(None) => continue,
                    Err(_) => error(
                        request_id(message.to_str().unwrap_or("")),
                        "timeout",
                        "時間内に終わりませんでした。もう一度お試しください / the request took too long: try again",
                    ),
                };
                if tx.send(reply).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The `id` of a message that may not parse as an envelope (to answer it anyway).
fn request_id(text_in: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: Option<String>,
    }
    serde_json::from_str::<IdOnly>(text_in).ok().and_then(|m| m.id)
}

async fn handle(state: &AppState, device_id: &str, text_in: &str) -> Option<Message> {
    let envelope: ClientEnvelope = match serde_json::from_str(text_in) {
        Ok(e) => e,
        Err(e) => {
            return Some(error(
                request_id(text_in),
                "bad_message",
                &format!("不明なメッセージです / unknown or malformed message: {e}"),
            ));
        }
    };
    let id = envelope.id.clone();
    if envelope.v != VERSION {
        return Some(error(
            id,
            "version",
            "プロトコルのバージョンが違います / unsupported protocol version",
        ));
    }
    let reply = match envelope.message {
        ClientMessage::Hello { .. } => {
            ServerMessage::Error { code: "already".into(), message: "already authenticated".into() }
        }
        ClientMessage::Ping => ServerMessage::Pong,
        ClientMessage::Time => ServerMessage::Time { server_time: crate::clock::now_rfc3339() },
        ClientMessage::Push { ops } => match state.push(device_id.to_string(), ops).await {
            Some(results) => ServerMessage::PushResult { results },
            None => ServerMessage::Error {
                code: "store".into(),
                message: "保存できませんでした / could not store".into(),
            },
        },
        ClientMessage::Pull { after, limit } => {
            match state.pull(device_id, after, limit.unwrap_or(200)).await {
                Some(page) => ServerMessage::PullResult(page),
                None => ServerMessage::Error {
                    code: "store".into(),
                    message: "読めませんでした / could not read".into(),
                },
            }
        }
        ClientMessage::CheckCard { reader } => {
            let readers = state.readers.clone();
            let today = crate::clock::today_jst();
            let result = tokio::task::spawn_blocking(move || {
                let policy = crate::policy_table::effective().map_err(|e| e.to_string())?;
                readers.check(reader.as_deref(), &policy, today).map_err(|e| e.to_string())
            })
            .await;
            match result {
                Ok(Ok(report)) => ServerMessage::CardResult {
                    body: serde_json::to_value(report).unwrap_or_default(),
                },
                Ok(Err(message)) => ServerMessage::Error { code: "card".into(), message },
                Err(_) => ServerMessage::Error {
                    code: "internal".into(),
                    message: "internal error".into(),
                },
            }
        }
        ClientMessage::ConfirmCard { reader, pin, staff_confirmed_last_try } => {
            match state.confirm_card(device_id, reader, pin, staff_confirmed_last_try).await {
                Ok(body) => ServerMessage::CardResult { body },
                Err((code, message)) => ServerMessage::Error { code, message },
            }
        }
        // No challenge when the card cannot be confirmed: the page asks for one before it
        // sends VERIFY to its own reader, so no PIN try is spent there either.
        ClientMessage::Challenge => match state.refuse_unless_card_confirmable(device_id) {
            Ok(()) => ServerMessage::Challenge { challenge: state.issue_challenge(device_id) },
            Err((code, message)) => ServerMessage::Error { code, message },
        },
        ClientMessage::ConfirmSigned { holder, certificate, signature, challenge } => {
            match state
                .confirm_signed(device_id, &holder, &certificate, &signature, &challenge)
                .await
            {
                Ok(body) => ServerMessage::CardResult { body },
                Err((code, message)) => ServerMessage::Error { code, message },
            }
        }
        ClientMessage::Guide { step } => {
            state.set_guide(device_id, step);
            return None;
        }
        ClientMessage::Lookup { query } => {
            let looked_up = match state.socket_person(device_id).await {
                Ok(who) => state.lookup(&who, &query).await,
                Err(refused) => Err(refused),
            };
            match looked_up {
                Ok(body) => ServerMessage::LookupResult { body },
                Err((code, message)) => ServerMessage::Error { code, message },
            }
        }
    };
    Some(text(&ServerEnvelope::reply(id, reply)))
}

/// A guidance display's socket: its counter's current step at once (a display that
/// starts, reloads or comes back shows where the patient is), then every new step of that
/// counter (or of every counter, when it follows none). It hears no other event and may ask
/// nothing but `ping`.
async fn display_session(
    mut tx: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: futures_util::stream::SplitStream<WebSocket>,
    state: AppState,
    device_id: String,
    follows: Option<String>,
) {
    let step = |step: guidance::Step| {
        text(&ServerEnvelope::reply(
            None,
            ServerMessage::Event {
                topic: protocol::GUIDE_TOPIC.into(),
                body: serde_json::Value::String(step.word().into()),
            },
        ))
    };
    let mut events = state.broadcast.subscribe();
    if tx.send(step(state.guide(follows.as_deref()))).await.is_err() {
        return;
    }
    let mut check = tokio::time::interval(REVOCATION_CHECK);
    loop {
        tokio::select! {
            _ = check.tick() => {
                if !still_paired(&state, &device_id).await {
                    for m in revoked() {
                        let _ = tx.send(m).await;
                    }
                    return;
                }
            }
            event = events.recv() => {
                let Ok((topic, body)) = event else { continue };
                if topic != protocol::GUIDE_TOPIC {
                    continue;
                }
                let from = body["from"].as_str();
                if follows.as_deref().is_some_and(|counter| Some(counter) != from) {
                    continue;
                }
                let Some(s) = body["step"].as_str().and_then(guidance::Step::from_word) else {
                    continue;
                };
                if tx.send(step(s)).await.is_err() {
                    return;
                }
            }
            incoming = rx.next() => {
                let Some(Ok(message)) = incoming else { return };
                if message.is_close() {
                    return;
                }
                if !message.is_text() {
                    continue;
                }
                let raw = message.to_str().unwrap_or("");
                let reply = match serde_json::from_str::<ClientEnvelope>(raw) {
                    Ok(ClientEnvelope { message: ClientMessage::Ping, id, .. }) => {
                        text(&ServerEnvelope::reply(id, ServerMessage::Pong))
                    }
                    _ => error(
                        request_id(raw),
                        "display_only",
                        "案内画面はほかの操作をできません / a guidance display can do nothing else",
                    ),
                };
                if tx.send(reply).await.is_err() {
                    return;
                }
            }
        }
    }
}
