//! The 事後確認 worker. A reception recorded while the national system could not answer
//! carries the patient's numbers and its visit date (`follow_up`); the store turns it into
//! a pending task in the same transaction. This worker re-runs pending lookups by numbers —
//! every interval, and at once when nudged (a new task arrived) — for the **visit date**
//! (the reception's, or the day it reached the bridge when a terminal sent none; never the
//! day the worker happens to run, which is wrong after an outage across midnight), and
//! records each definitive answer as a `follow_up_result` event of the same record, which
//! every terminal then pulls.
//!
//! Only a definitive answer ends a task: 有効, 無効, 無効（新しい資格あり）, 該当なし, 複数該当.
//! 処理中 (SegmentOfResult 2), an error answer, an unexpected one, a timeout, an outage or an
//! unreachable share keep it pending with the reason. After an error answer the task backs
//! off (interval × 2ⁿ, at most 30 minutes); while the system is down the round stops at the
//! first unavailable answer (no point hammering it) and tries again next interval, so the
//! moment it returns every task runs. A task with no definitive answer after
//! `max_days` becomes 要対応 (`failed`) with the last reason; numbers that cannot be parsed
//! are 要対応 at once.

use crate::gateway::{reading, Gateway, GatewayError, NumberQuery};
use crate::server::AppState;
use crate::store::FollowUp;
use eligibility::Date;
use std::time::Duration;
use tokio::sync::Notify;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub done: usize,
    pub failed: usize,
    /// Still pending because the national system did not answer definitively.
    pub waiting: usize,
}

/// How the worker paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// The base retry interval (also the first backoff step).
    pub interval: Duration,
    /// Days without a definitive answer before a task becomes 要対応.
    pub max_days: u32,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing { interval: Duration::from_secs(30), max_days: 7 }
    }
}

/// What the attempt came to.
enum Attempt {
    /// A definitive answer: the task ends `done` with it.
    Definitive(serde_json::Value),
    /// No definitive answer yet: pending, with the reason; `stop` ends the round (the
    /// system is down), `back_off` delays this task's next try.
    NotYet { reason: String, stop: bool, back_off: bool },
    /// The task cannot succeed as it is: 要対応 with the reason.
    Unusable(serde_json::Value),
}

/// The visit date a task asks for: the reception's, else the (Japan) day it reached the
/// bridge.
pub fn visit_of(task: &FollowUp, query: &protocol::LookupQuery) -> Option<Date> {
    match &query.visit {
        Some(v) => Date::parse(v).ok(),
        None => crate::clock::jst_day(&task.created_time),
    }
}

async fn attempt(state: &AppState, task: &FollowUp) -> Attempt {
    let parsed = serde_json::from_value::<protocol::LookupQuery>(task.query.clone())
        .map_err(|e| e.to_string())
        .and_then(|q| {
            let visit = visit_of(task, &q).ok_or("no visit date")?;
            NumberQuery::from_wire(&q, visit).map_err(|e| e.to_string())
        });
    let query = match parsed {
        Ok(query) => query,
        Err(reason) => {
            return Attempt::Unusable(
                serde_json::json!({ "error": "bad_numbers", "message": reason }),
            )
        }
    };
    match state.gateway.lookup(&query).await {
        Ok(answer) => {
            let status = crate::policy_table::effective()
                .map(|policy| oqs::interpret(&answer, &policy, query.visit).status)
                .unwrap_or(oqs::Status::Unexpected);
            use oqs::Status::*;
            match status {
                Confirmed | Invalid | InvalidNewQualification | NotFound | Multiple { .. } => {
                    Attempt::Definitive(reading(&answer, query.visit))
                }
                Processing | Error | Unexpected => {
                    let reply = crate::gateway::reply(&answer, query.visit);
                    let code =
                        answer.header.segment_of_result.clone().unwrap_or_else(|| "?".into());
                    let message = reply.reading.message.as_deref().unwrap_or("");
                    let reason = if code == "2" {
                        format!("処理中 (SegmentOfResult 2) {message}")
                    } else {
                        format!("{status:?} (SegmentOfResult {code}) {message}")
                    };
                    Attempt::NotYet {
                        reason: reason.trim().to_string(),
                        stop: false,
                        back_off: true,
                    }
                }
            }
        }
        Err(
            e @ (GatewayError::Unavailable | GatewayError::Timeout(_) | GatewayError::Folder(_)),
        ) => Attempt::NotYet { reason: e.to_string(), stop: true, back_off: false },
        Err(e) => Attempt::NotYet { reason: e.to_string(), stop: false, back_off: true },
    }
}

/// Whole days between the task's arrival and now.
fn age_days(task: &FollowUp) -> i64 {
    match crate::clock::jst_day(&task.created_time) {
        Some(day) => crate::clock::today_jst().day_number() - day.day_number(),
        None => 0,
    }
}

/// Runs every due task once (stopping early while the system is down).
pub async fn run_once(state: &AppState) -> Round {
    run_paced(state, Pacing::default()).await
}

/// [`run_once`] with the given pacing.
pub async fn run_paced(state: &AppState, pacing: Pacing) -> Round {
    let mut round = Round::default();
    let store = state.store.clone();
    let now = crate::clock::now_unix();
    let due = match tokio::task::spawn_blocking(move || store.due_follow_ups(now, 200)).await {
        Ok(Ok(p)) => p,
        _ => return round,
    };
    for (i, task) in due.iter().enumerate() {
        let (state_name, result) = match attempt(state, task).await {
            Attempt::Definitive(body) => ("done", body),
            Attempt::Unusable(body) => ("failed", body),
            Attempt::NotYet { reason, .. } if age_days(task) >= i64::from(pacing.max_days) => (
                "failed",
                serde_json::json!({
                    "error": "expired",
                    "message": format!(
                        "{}日間、確定した回答がありません（最後: {reason}）。要対応 / no definitive answer in {} days (last: {reason})",
                        pacing.max_days, pacing.max_days
                    ),
                }),
            ),
            Attempt::NotYet { reason, stop, back_off } => {
                let delay = if back_off {
                    let steps = task.attempts.min(6);
                    (pacing.interval * 2u32.pow(steps)).min(Duration::from_secs(1800))
                } else {
                    Duration::ZERO
                };
                let next = crate::clock::now_unix() + delay.as_secs() as i64;
                let store = state.store.clone();
                let id = task.id;
                let _ = tokio::task::spawn_blocking(move || {
                    store.follow_up_attempted(id, &reason, next)
                })
                .await;
                if stop {
                    round.waiting += due.len() - i;
                    break;
                }
                round.waiting += 1;
                continue;
            }
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

/// Runs [`run_paced`] every `pacing.interval` and whenever `nudge` is notified. Call
/// inside the runtime; the task lives as long as the runtime.
pub fn spawn(state: AppState, pacing: Pacing, nudge: std::sync::Arc<Notify>) {
    tokio::spawn(async move {
        loop {
            run_paced(&state, pacing).await;
            tokio::select! {
                _ = tokio::time::sleep(pacing.interval) => {}
                _ = nudge.notified() => {}
            }
        }
    });
}
