//! The outbox's delivery. Exactly one tab of the terminal drains (it holds the Web Lock
//! `madoguchi-outbox` for its lifetime); the others enqueue and listen on the
//! BroadcastChannel `madoguchi`. A drain sends batches of the oldest pending rows; each row
//! goes only on its own acknowledgement; an unreachable bridge counts an attempt and the
//! caller retries with exponential backoff and jitter. The ledger is pulled by `seq`, rows
//! before checkpoint.

use crate::net::{self, NetError};
use crate::store::Store;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub const LOCK_NAME: &str = "madoguchi-outbox";
pub const CHANNEL: &str = "madoguchi";
pub const BATCH: usize = 100;

/// What one drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub acknowledged: usize,
    pub needs_attention: usize,
    /// Receptions another counter had recorded first (face results claimed once).
    pub claimed: usize,
}

/// Sends everything pending, batch by batch; stops at the first network error.
pub async fn drain(store: &Store, token: &str) -> Result<(Drained, Vec<String>), NetError> {
    let mut drained = Drained::default();
    let mut notices = Vec::new();
    loop {
        let rows = store.pending(BATCH).await.map_err(|e| NetError::Unreachable(e.0))?;
        if rows.is_empty() {
            return Ok((drained, notices));
        }
        let ops = rows.iter().map(|r| r.op.clone()).collect();
        match net::push(token, ops).await {
            Ok(response) => {
                for r in &response.results {
                    match r {
                        protocol::OpResult::Created { .. }
                        | protocol::OpResult::Duplicate { .. } => drained.acknowledged += 1,
                        protocol::OpResult::Claimed { .. } => drained.claimed += 1,
                        _ => drained.needs_attention += 1,
                    }
                }
                notices.extend(
                    store
                        .apply_results(&rows, &response.results)
                        .await
                        .map_err(|e| NetError::Unreachable(e.0))?,
                );
            }
            Err(e) => {
                let _ = store.attempted(&rows).await;
                return Err(e);
            }
        }
    }
}

/// Pulls the clinic's ledger after the stored checkpoint; returns how many events arrived.
///
/// A bridge whose newest seq is below the checkpoint was restored from a backup and lost
/// what came after it: this terminal's own events among those (today's, still whole in its
/// copy) go back into the outbox with their op ids, the copy is dropped, and the pull
/// starts again from the beginning. The count of re-sent events is in
/// `resent`.
pub async fn pull(
    store: &Store,
    token: &str,
    device_id: Option<&str>,
    resent: &mut usize,
) -> Result<usize, NetError> {
    let mut count = 0;
    loop {
        let after = store.checkpoint().await.map_err(|e| NetError::Unreachable(e.0))?;
        let page = net::pull(token, after).await?;
        if let (Some(last), Some(device)) = (page.last_seq, device_id) {
            if last < after {
                let unreachable = |e: crate::store::StoreError| NetError::Unreachable(e.0);
                let today = crate::ids::today_jst();
                let lost: Vec<protocol::Op> = store
                    .ledger()
                    .await
                    .map_err(unreachable)?
                    .into_iter()
                    .filter(|e| e.seq > last && e.device_id == device)
                    .filter(|e| today.is_some() && crate::ids::jst_date(&e.received_time) == today)
                    .map(|e| protocol::Op {
                        op_id: e.op_id,
                        record_id: e.record_id,
                        kind: e.kind,
                        device_time: e.device_time,
                        body: e.body,
                        staff: None,
                    })
                    .collect();
                *resent += store.restored(&lost).await.map_err(unreachable)?;
                continue;
            }
        }
        count += page.events.len();
        store.put_ledger(&page.events, page.next).await.map_err(|e| NetError::Unreachable(e.0))?;
        if !page.more {
            return Ok(count);
        }
    }
}

/// The delay before retry `attempt` (1 s doubling to 30 s, ×0.5–1.5 jitter).
pub fn backoff_ms(attempt: u32) -> f64 {
    let base = (1000.0 * 2f64.powi(attempt.min(5) as i32)).min(30_000.0);
    base * (0.5 + js_sys::Math::random())
}

/// Tries to become the tab that drains: `on_acquired` runs once if this tab gets the lock
/// (now or when the holder closes); the lock is then held for the tab's lifetime.
pub fn become_sender(on_acquired: impl FnOnce() + 'static) -> bool {
    let Some(locks) = web_sys::window().map(|w| w.navigator().locks()) else { return false };
    let mut on_acquired = Some(on_acquired);
    let callback = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |_lock: JsValue| {
        if let Some(f) = on_acquired.take() {
            f();
        }
        // Never settles: the lock stays with this tab until it closes.
        js_sys::Promise::new(&mut |_, _| {})
    });
    let _ = locks.request(LOCK_NAME, callback.as_ref().unchecked_ref());
    callback.forget();
    true
}

/// Whether another tab holds the sender lock right now (`ifAvailable` probe).
pub async fn sender_lock_available(name: &str) -> bool {
    let Some(locks) = web_sys::window().map(|w| w.navigator().locks()) else { return false };
    let options = web_sys::LockOptions::new();
    options.set_if_available(true);
    let callback = Closure::<dyn FnMut(JsValue) -> JsValue>::new(|lock: JsValue| {
        JsValue::from_bool(!lock.is_null())
    });
    let promise = locks.request_with_options(name, &options, callback.as_ref().unchecked_ref());
    let got = wasm_bindgen_futures::JsFuture::from(promise).await;
    drop(callback);
    got.ok().and_then(|v| v.as_bool()).unwrap_or(false)
}

/// Posts `message` to the other tabs of this terminal.
pub fn broadcast(message: &str) {
    if let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) {
        let _ = channel.post_message(&JsValue::from_str(message));
        channel.close();
    }
}

/// Calls `on_message` for every message other tabs post.
pub fn listen(on_message: impl Fn(String) + 'static) -> Option<web_sys::BroadcastChannel> {
    let channel = web_sys::BroadcastChannel::new(CHANNEL).ok()?;
    let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        if let Some(text) = e.data().as_string() {
            on_message(text);
        }
    });
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    Some(channel)
}
