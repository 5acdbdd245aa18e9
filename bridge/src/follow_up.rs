//! The 事後確認 worker. A reception recorded while the national system could not answer
//! carries the patient's numbers (`follow_up`); the store turns it into a pending task in
//! the same transaction. This worker re-runs pending lookups by numbers — every interval,
//! and at once when nudged (a new task arrived) — and records each answer as a
//! `follow_up_result` event of the same record, which every terminal then pulls.
//!
//! While the system is still down the round stops at the first unavailable answer (no
//! point hammering it); the task stays pending with one more attempt counted. Numbers that
//! cannot be parsed end the task as `failed` (要対応), with the reason, for staff.

use crate::gateway::{reading, Gateway, GatewayError, NumberQuery};
use crate::server::AppState;
use std::time::Duration;
use tokio::sync::Notify;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub done: usize,
    pub failed: usize,
    /// Still pending because the national system did not answer.
    pub waiting: usize,
}

/// Runs every pending task once (stopping early while the system is down).
pub async fn run_once(state: &AppState) -> Round {
    let mut round = Round::default();
    let store = state.store.clone();
    let pending = match tokio::task::spawn_blocking(move || store.pending_follow_ups(200)).await {
        Ok(Ok(p)) => p,
        _ => return round,
    };
    let today = crate::clock::today_jst();
    for (i, task) in pending.iter().enumerate() {
        let parsed = serde_json::from_value::<protocol::LookupQuery>(task.query.clone())
            .map_err(|e| e.to_string())
            .and_then(|q| NumberQuery::from_wire(&q, today).map_err(|e| e.to_string()));
        let (state_name, result) = match parsed {
            Err(reason) => {
                ("failed", serde_json::json!({ "error": "bad_numbers", "message": reason }))
            }
            Ok(query) => match state.gateway.lookup(&query).await {
                Ok(answer) => ("done", reading(&answer, query.visit)),
                Err(GatewayError::Unavailable | GatewayError::Timeout(_)) => {
                    let store = state.store.clone();
                    let id = task.id;
                    let _ =
                        tokio::task::spawn_blocking(move || store.follow_up_attempted(id)).await;
                    round.waiting = pending.len() - i;
                    break;
                }
                Err(e) => {
                    ("failed", serde_json::json!({ "error": "gateway", "message": e.to_string() }))
                }
            },
        };
        let store = state.store.clone();
        let id = task.id;
        let finished =
            tokio::task::spawn_blocking(move || store.finish_follow_up(id, state_name, &result))
                .await;
        if let Ok(Ok(Some(_seq))) = finished {
            if state_name == "done" {
                round.done += 1;
            } else {
                round.failed += 1;
            }
        }
    }
    if round.done + round.failed > 0 {
        let _ = state.broadcast.send((
            "events".into(),
            serde_json::json!({ "created": round.done + round.failed, "from": "bridge", "follow_ups": true }),
        ));
        tracing::info!(done = round.done, failed = round.failed, "follow-ups recorded");
    }
    round
}

/// Runs [`run_once`] every `interval` and whenever `nudge` is notified. Call inside the
/// runtime; the task lives as long as the runtime.
pub fn spawn(state: AppState, interval: Duration, nudge: std::sync::Arc<Notify>) {
    tokio::spawn(async move {
        loop {
            run_once(&state).await;
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = nudge.notified() => {}
            }
        }
    });
}
