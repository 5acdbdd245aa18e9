//! The terminal's WebSocket to the bridge: `hello` with the token first, then requests
//! (card check/confirm) answered by `in_reply_to`, and events the bridge pushes (face-auth
//! results, new ledger events, reader changes). Reconnects with backoff when it drops.

use futures::channel::oneshot;
use protocol::{ClientMessage, ServerEnvelope, ServerMessage};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type Pending = Rc<RefCell<HashMap<String, oneshot::Sender<ServerMessage>>>>;

thread_local! {
    static SOCKET: RefCell<Option<(web_sys::WebSocket, Pending)>> = const { RefCell::new(None) };
    static NEXT_ID: RefCell<u64> = const { RefCell::new(0) };
}

/// Opens the socket; `on_event(topic, body)` gets every pushed event, `on_state(up)` the
/// connection state. Replaces any previous socket.
pub fn connect(
    token: String,
    on_event: Rc<dyn Fn(String, serde_json::Value)>,
    on_state: Rc<dyn Fn(bool)>,
) {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return };
    let scheme = if location.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
    let host = location.host().unwrap_or_default();
    let Ok(socket) = web_sys::WebSocket::new(&format!("{scheme}://{host}/ws")) else {
        on_state(false);
        return;
    };
    let pending: Pending = Rc::new(RefCell::new(HashMap::new()));
    {
        let socket2 = socket.clone();
        let hello =
            protocol::client_frame("hello", &ClientMessage::Hello { token }).unwrap_or_default();
        let onopen = Closure::<dyn Fn()>::new(move || {
            let _ = socket2.send_with_str(&hello);
        });
        socket.set_onopen(Some(onopen.as_ref().unchecked_ref()));
        onopen.forget();
    }
    {
        let pending = pending.clone();
        let on_state = on_state.clone();
        let onmessage =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(text) = e.data().as_string() else { return };
                let Ok(envelope) = crate::json::from_text::<ServerEnvelope>(&text) else { return };
                if matches!(envelope.message, ServerMessage::Welcome { .. }) {
                    on_state(true);
                }
                if let Some(id) = envelope.in_reply_to {
                    if let Some(tx) = pending.borrow_mut().remove(&id) {
                        let _ = tx.send(envelope.message);
                    }
                    return;
                }
                if let ServerMessage::Event { topic, body } = envelope.message {
                    on_event(topic, body);
                }
            });
        socket.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
    }
    {
        let pending = pending.clone();
        let onclose = Closure::<dyn Fn()>::new(move || {
            pending.borrow_mut().clear(); // waiting requests fail (their senders drop)
            on_state(false);
        });
        socket.set_onclose(Some(onclose.as_ref().unchecked_ref()));
        onclose.forget();
    }
    SOCKET.with(|s| {
        if let Some((old, _)) = s.borrow_mut().replace((socket, pending)) {
            old.set_onclose(None);
            let _ = old.close();
        }
    });
}

/// Closes the socket for good (until the next [`connect`]): the bridge is refused.
pub fn close() {
    SOCKET.with(|s| {
        if let Some((old, pending)) = s.borrow_mut().take() {
            old.set_onclose(None);
            pending.borrow_mut().clear();
            let _ = old.close();
        }
    });
}

/// Whether the socket is open.
pub fn is_open() -> bool {
    SOCKET.with(|s| {
        s.borrow().as_ref().is_some_and(|(ws, _)| ws.ready_state() == web_sys::WebSocket::OPEN)
    })
}

/// Sends `message`, which has no reply (the guidance step); nothing when not connected —
/// a display is a help, never a reason for the counter to wait.
pub fn notify(message: &ClientMessage) {
    let frame = protocol::client_frame("n", message).unwrap_or_default();
    SOCKET.with(|s| {
        if let Some((ws, _)) = s.borrow().as_ref() {
            if ws.ready_state() == web_sys::WebSocket::OPEN {
                let _ = ws.send_with_str(&frame);
            }
        }
    });
}

/// Sends `message` and waits for the reply.
pub async fn request(message: ClientMessage) -> Result<ServerMessage, String> {
    let id = NEXT_ID.with(|n| {
        *n.borrow_mut() += 1;
        format!("r{}", n.borrow())
    });
    let frame = zeroize::Zeroizing::new(protocol::client_frame(&id, &message).unwrap_or_default());
    let (tx, rx) = oneshot::channel();
    let sent = SOCKET.with(|s| {
        let guard = s.borrow();
        let Some((ws, pending)) = guard.as_ref() else { return false };
        if ws.ready_state() != web_sys::WebSocket::OPEN {
            return false;
        }
        pending.borrow_mut().insert(id.clone(), tx);
        ws.send_with_str(&frame).is_ok()
    });
    // The message may hold a PIN: it is wiped here and never kept or logged.
    drop((message, frame));
    if !sent {
        return Err("ブリッジに接続していません / not connected to the bridge".into());
    }
    // A deadline on every request: a bridge that never answers must not leave the counter
    // waiting (the bridge's own deadline is 60 s).
    let deadline = Box::pin(crate::state::sleep_ms(REQUEST_DEADLINE_MS));
    match futures::future::select(rx, deadline).await {
        futures::future::Either::Left((reply, _)) => {
            reply.map_err(|_| "接続が切れました / the connection dropped".to_string())
        }
        futures::future::Either::Right(_) => {
            SOCKET.with(|s| {
                if let Some((_, pending)) = s.borrow().as_ref() {
                    pending.borrow_mut().remove(&id);
                }
            });
            Err("ブリッジから時間内に応答がありません。もう一度お試しください / no answer from the bridge in time: try again".into())
        }
    }
}

/// How long a request waits for its reply.
const REQUEST_DEADLINE_MS: f64 = 65_000.0;
