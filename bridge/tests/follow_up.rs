//! 事後確認, lookups by numbers, face results in the ledger, `/health` and the frontend's
//! assets — through the router without a socket, with the simulator's outage switched by
//! its faults file as an operator would.

use bridge::follow_up::{run_once, Round};
use bridge::gateway::peer::set_faults;
use bridge::gateway::sim::{Faults, Sim, SimGateway};
use bridge::server::{routes, Allowed, AppState, Assets};
use bridge::store::Store;
use protocol::{Op, OpResult, PullResponse};
use std::path::PathBuf;
use std::sync::Arc;

const HOST: &str = "localhost:8443";
const ORIGIN: &str = "https://localhost:8443";

struct Clinic {
    state: AppState,
    dir: PathBuf,
    token: String,
}

impl Drop for Clinic {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn clinic(name: &str) -> Clinic {
    let dir = std::env::temp_dir().join(format!("madoguchi-fu-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&dir.join("s.sqlite3")).unwrap();
    let today = bridge::clock::today_jst();
    let gateway = SimGateway::new(Arc::new(Sim::new(today))).with_faults_dir(dir.clone());
    let state = AppState::new(store, Arc::new(gateway.into()), Allowed::for_port(8443, &[]));
    let code = state.store.new_pairing_code(60).unwrap();
    let (_, token) = state.store.pair(&code, "受付1").unwrap().unwrap();
    Clinic { state, dir, token }
}

impl Clinic {
    fn outage(&self, on: bool) {
        set_faults(&self.dir, &Faults { outage: on, ..Faults::default() }).unwrap();
    }

    async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.request("GET", path, None).await
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut r = warp::test::request()
            .method(method)
            .path(path)
            .header("host", HOST)
            .header("origin", ORIGIN)
            .header("authorization", format!("Bearer {}", self.token));
        if let Some(body) = body {
            r = r.json(&body);
        }
        let res = r.reply(&routes(self.state.clone())).await;
        (res.status().as_u16(), serde_json::from_slice(res.body()).unwrap_or_default())
    }

    async fn ledger(&self) -> Vec<protocol::StoredEvent> {
        let (status, body) = self.get("/api/sync/pull?after=0&limit=500").await;
        assert_eq!(status, 200);
        serde_json::from_value::<PullResponse>(body).unwrap().events
    }
}

/// A person of the simulated population with a plain valid record.
fn numbers_of(state: &AppState, id: &str) -> protocol::LookupQuery {
    let sim = &state.gateway.sim().unwrap().sim;
    sim.person(id).unwrap().query(bridge::clock::today_jst()).unwrap().to_wire()
}

fn reception(n: u32, follow_up: serde_json::Value) -> Op {
    Op {
        op_id: format!("fu-op-{n}"),
        staff: None,
        record_id: format!("fu-rec-{n}"),
        kind: "reception".into(),
        device_time: "2026-11-26T09:00:00+09:00".into(),
        body: serde_json::json!({ "schema": 2, "presented": "eligibility_certificate", "established": "eligibility_certificate", "status": "follow_up_pending", "claim": { "plan": "after_follow_up" }, "visit": "2026-11-26", "follow_up": follow_up }),
    }
}

fn first_valid_person(state: &AppState) -> String {
    let sim = &state.gateway.sim().unwrap().sim;
    let today = bridge::clock::today_jst();
    sim.people()
        .iter()
        .find(|p| {
            p.query(today).is_some_and(|q| {
                let answer = sim.answer_request(&q.to_request("1312345678", "t"), "20261126090000");
                answer.is_ok_and(|a| {
                    oqs::interpret(&a, &eligibility::Policy::embedded().unwrap(), today).status
                        == oqs::Status::Confirmed
                })
            })
        })
        .map(|p| p.id.clone())
        .unwrap()
}

#[tokio::test]
async fn follow_ups_wait_out_an_outage_and_are_recorded_once() {
    let c = clinic("outage").await;
    let person = first_valid_person(&c.state);
    c.outage(true);
    let good = serde_json::to_value(numbers_of(&c.state, &person)).unwrap();
    let bad = serde_json::json!({ "insurer": "06139998", "number": "1", "birth": "1970-01-01" });
    let results =
        c.state.push("dev".into(), vec![reception(1, good), reception(2, bad)]).await.unwrap();
    assert!(results.iter().all(|r| matches!(r, OpResult::Created { .. })), "{results:?}");

    // Down: the good one waits (the bad one is behind it in the queue and waits too).
    assert_eq!(run_once(&c.state).await, Round { done: 0, failed: 0, waiting: 2 });
    let (_, health) = c.get("/health").await;
    assert_eq!(health["gateway"]["state"], "outage");
    assert_eq!(health["store"]["pending_follow_ups"], 2);
    assert!(health["store"]["oldest_pending_follow_up"].is_string(), "{health}");

    // Back up: one done, one 要対応 with the reason; a second round records nothing more.
    c.outage(false);
    assert_eq!(run_once(&c.state).await, Round { done: 1, failed: 1, waiting: 0 });
    assert_eq!(run_once(&c.state).await, Round::default());
    let (_, health) = c.get("/health").await;
    assert!(health["store"]["oldest_pending_follow_up"].is_null(), "{health}");

    let results: Vec<_> =
        c.ledger().await.into_iter().filter(|e| e.kind == "follow_up_result").collect();
    assert_eq!(results.len(), 2);
    let done = results.iter().find(|e| e.record_id == "fu-rec-1").unwrap();
    assert_eq!(done.device_id, "bridge");
    assert_eq!(done.body["state"], "done");
    assert_eq!(
        done.body["result"]["interpretation"]["status"]["status"], "confirmed",
        "{}",
        done.body
    );
    let failed = results.iter().find(|e| e.record_id == "fu-rec-2").unwrap();
    assert_eq!(failed.body["state"], "failed");
    assert!(
        failed.body["result"]["message"].as_str().unwrap().contains("insurer"),
        "{}",
        failed.body
    );

    let (status, list) = c.get("/api/follow-ups").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let attempts = |record: &str| {
        list.as_array().unwrap().iter().find(|f| f["record_id"] == record).unwrap()["attempts"]
            .as_u64()
    };
    // The first waited out the outage (one failed try, one answer); the second was never
    // sent while the system was down.
    assert_eq!((attempts("fu-rec-1"), attempts("fu-rec-2")), (Some(2), Some(1)), "{list}");
}

/// The system answers an error, 処理中 and a timeout before it answers valid: the task
/// stays pending through all three (each reason kept) and ends done once, with the valid
/// answer.
#[tokio::test]
async fn follow_ups_end_only_on_a_definitive_answer() {
    use bridge::follow_up::{run_paced, Pacing};
    let c = clinic("definitive").await;
    let person = first_valid_person(&c.state);
    let numbers = serde_json::to_value(numbers_of(&c.state, &person)).unwrap();
    set_faults(
        &c.dir,
        &Faults {
            sequence: vec!["error".into(), "processing".into(), "timeout".into()],
            ..Faults::default()
        },
    )
    .unwrap();
    c.state.push("dev".into(), vec![reception(1, numbers)]).await.unwrap();
    // No backoff wait in the test: every round finds the task due.
    let pacing = Pacing { interval: std::time::Duration::ZERO, max_days: 7 };
    let mut reasons = Vec::new();
    for _ in 0..3 {
        assert_eq!(run_paced(&c.state, pacing).await, Round { done: 0, failed: 0, waiting: 1 });
        let task = c.state.store.pending_follow_ups(10).unwrap().pop().expect("still pending");
        reasons.push(task.last_reason.unwrap_or_default());
    }
    assert!(reasons[0].contains("SegmentOfResult 9"), "{reasons:?}");
    assert!(reasons[1].contains("処理中"), "{reasons:?}");
    assert!(reasons[2].contains("応答がありません"), "{reasons:?}");
    assert_eq!(run_paced(&c.state, pacing).await, Round { done: 1, failed: 0, waiting: 0 });
    assert_eq!(run_paced(&c.state, pacing).await, Round::default());
    let results: Vec<_> =
        c.ledger().await.into_iter().filter(|e| e.kind == "follow_up_result").collect();
    assert_eq!(results.len(), 1, "ended once");
    assert_eq!(results[0].body["state"], "done");
    assert_eq!(results[0].body["result"]["interpretation"]["status"]["status"], "confirmed");
}

/// An error answer backs the task off (interval × 2ⁿ); a task without a definitive answer
/// past the cap becomes 要対応 with the last reason.
#[tokio::test]
async fn error_answers_back_off_and_a_capped_task_needs_attention() {
    use bridge::follow_up::{run_paced, Pacing};
    let c = clinic("backoff").await;
    let person = first_valid_person(&c.state);
    let numbers = serde_json::to_value(numbers_of(&c.state, &person)).unwrap();
    set_faults(&c.dir, &Faults { error_rate: 1.0, ..Faults::default() }).unwrap();
    c.state.push("dev".into(), vec![reception(1, numbers)]).await.unwrap();
    let pacing = Pacing { interval: std::time::Duration::from_secs(60), max_days: 7 };
    assert_eq!(run_paced(&c.state, pacing).await.waiting, 1);
    // Backed off: not due again at once.
    assert_eq!(run_paced(&c.state, pacing).await, Round::default());
    let now = bridge::clock::now_unix();
    assert!(c.state.store.due_follow_ups(now + 59, 10).unwrap().is_empty());
    assert_eq!(c.state.store.due_follow_ups(now + 61, 10).unwrap().len(), 1);
    // With a cap of 0 days the next attempt without an answer ends it as 要対応.
    c.state.store.execute_raw("UPDATE follow_ups SET next_attempt_unix = 0").unwrap();
    let capped = Pacing { interval: std::time::Duration::ZERO, max_days: 0 };
    assert_eq!(run_paced(&c.state, capped).await, Round { done: 0, failed: 1, waiting: 0 });
    let result = c.ledger().await.into_iter().find(|e| e.kind == "follow_up_result").unwrap();
    assert_eq!(result.body["state"], "failed");
    assert_eq!(result.body["result"]["error"], "expired");
    assert!(result.body["result"]["message"].as_str().unwrap().contains("SegmentOfResult 9"));
}

/// An outage from 23:55 to 00:10: the reception of the evening before is confirmed for
/// its own visit date, not for the day the worker finally runs.
#[tokio::test]
async fn a_follow_up_asks_for_the_visit_date_after_midnight() {
    let c = clinic("midnight").await;
    let person = first_valid_person(&c.state);
    let mut numbers = numbers_of(&c.state, &person);
    let yesterday = bridge::clock::today_jst().pred();
    numbers.visit = Some(yesterday.to_string());
    c.outage(true);
    c.state.push("dev".into(), vec![reception(1, serde_json::to_value(&numbers).unwrap())]).await;
    assert_eq!(run_once(&c.state).await.waiting, 1);
    c.outage(false);
    assert_eq!(run_once(&c.state).await.done, 1);
    let result = c.ledger().await.into_iter().find(|e| e.kind == "follow_up_result").unwrap();
    // The simulator answers for the date of the request it was given.
    assert_eq!(
        result.body["result"]["answer"]["header"]["qualification_confirmation_date"],
        yesterday.compact(),
        "{}",
        result.body
    );
}

/// A task stored without a visit date asks for the day it reached the bridge.
#[test]
fn a_follow_up_without_a_visit_date_uses_its_arrival_day() {
    let task = bridge::store::FollowUp {
        id: 1,
        record_id: "r".into(),
        query: serde_json::Value::Null,
        state: "pending".into(),
        attempts: 0,
        result: None,
        created_time: "2026-11-30T14:58:00.000Z".into(), // 23:58 in Japan
        updated_time: "2026-12-01T00:00:00.000Z".into(),
        last_reason: None,
    };
    let query = protocol::LookupQuery {
        insurer: "01130012".into(),
        symbol: None,
        number: "1".into(),
        branch: None,
        birth: "1980-01-01".into(),
        visit: None,
        limit_consent: false,
    };
    assert_eq!(
        bridge::follow_up::visit_of(&task, &query),
        eligibility::Date::parse("2026-11-30").ok()
    );
}

/// Two counters record the same face result at once: one reception; the other push is
/// told who recorded it and creates nothing. The open list drops a claimed result.
#[tokio::test]
async fn a_face_result_is_claimed_once() {
    let c = clinic("claim").await;
    bridge::server::forward_events(&c.state);
    let mut sockets = c.state.broadcast.subscribe();
    let today = bridge::clock::today_jst();
    assert!(c.state.gateway.sim().unwrap().tap("yamada", today, "20261126090000"));
    let (_, body) = tokio::time::timeout(std::time::Duration::from_secs(5), sockets.recv())
        .await
        .unwrap()
        .unwrap();
    let face_id = body["file"].as_str().unwrap().to_string();
    let (status, open) = c.request("POST", "/api/face-results/open", None).await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(open["events"].as_array().unwrap().len(), 1, "{open}");
    let code = c.state.store.new_pairing_code(60).unwrap();
    let (second, _) = c.state.store.pair(&code, "受付2").unwrap().unwrap();
    let claim = |n: u32| Op {
        op_id: format!("claim-op-{n}"),
        staff: None,
        record_id: format!("claim-rec-{n}"),
        kind: "reception".into(),
        device_time: "2026-11-26T09:00:00+09:00".into(),
        body: serde_json::json!({ "schema": 2, "presented": "myna_card", "established": "online_confirmation", "status": "confirmed", "claim": { "plan": "normal" }, "visit": "2026-11-26", "face_file": face_id }),
    };
    let first_device = c.state.store.devices().unwrap()[0].device_id.clone();
    let (a, b) = tokio::join!(
        c.state.push(first_device, vec![claim(1)]),
        c.state.push(second, vec![claim(2)]),
    );
    let results = [a.unwrap().pop().unwrap(), b.unwrap().pop().unwrap()];
    let created = results.iter().filter(|r| matches!(r, OpResult::Created { .. })).count();
    assert_eq!(created, 1, "{results:?}");
    let claimed = results
        .iter()
        .find_map(|r| match r {
            OpResult::Claimed { by_device, at, .. } => Some((by_device.clone(), at.clone())),
            _ => None,
        })
        .expect("the other push is told");
    assert!(["受付1", "受付2"].contains(&claimed.0.as_str()), "{claimed:?}");
    assert_eq!(claimed.1.len(), 5, "HH:MM: {claimed:?}");
    let receptions = c.ledger().await.into_iter().filter(|e| e.kind == "reception").count();
    assert_eq!(receptions, 1);
    // A retry of the winner's own push is a duplicate, not a claim.
    let winner = if matches!(results[0], OpResult::Created { .. }) { 1 } else { 2 };
    let device = c.state.store.devices().unwrap()[winner - 1].device_id.clone();
    let retry = c.state.push(device, vec![claim(winner as u32)]).await.unwrap();
    assert!(matches!(retry[0], OpResult::Duplicate { .. }), "{retry:?}");
    let (_, open) = c.request("POST", "/api/face-results/open", None).await;
    assert_eq!(open["events"].as_array().unwrap().len(), 0, "a claimed result is no longer open");
}

/// A lookup answered 処理中 waits and asks again: the terminal gets the real answer.
#[tokio::test]
async fn a_lookup_answered_processing_asks_again() {
    let c = clinic("processing").await;
    let person = first_valid_person(&c.state);
    let query = serde_json::to_value(numbers_of(&c.state, &person)).unwrap();
    set_faults(&c.dir, &Faults { sequence: vec!["processing".into()], ..Faults::default() })
        .unwrap();
    let started = std::time::Instant::now();
    let (status, body) = c.request("POST", "/api/lookup", Some(query)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["interpretation"]["status"]["status"], "confirmed", "{body}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "it waited before asking again"
    );
}

#[tokio::test]
async fn lookup_by_numbers_answers_names_bad_fields_and_reports_outage() {
    let c = clinic("lookup").await;
    let person = first_valid_person(&c.state);
    let query = serde_json::to_value(numbers_of(&c.state, &person)).unwrap();
    let (status, body) = c.request("POST", "/api/lookup", Some(query.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["interpretation"]["status"]["status"], "confirmed", "{body}");
    assert!(body["interpretation"]["copay"].is_object(), "{body}");

    let mut wrong = query.clone();
    wrong["insurer"] = "06139998".into();
    let (status, body) = c.request("POST", "/api/lookup", Some(wrong)).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "bad_input");
    assert!(body["message"].as_str().unwrap().starts_with("insurer"), "{body}");

    c.outage(true);
    let (status, body) = c.request("POST", "/api/lookup", Some(query)).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "gateway_unavailable");
}

#[tokio::test]
async fn a_face_result_is_in_the_ledger_once_with_its_reading() {
    let c = clinic("face").await;
    bridge::server::forward_events(&c.state);
    let mut sockets = c.state.broadcast.subscribe();
    let today = bridge::clock::today_jst();
    assert!(c.state.gateway.sim().unwrap().tap("yamada", today, "20261126090000"));
    let (topic, body) = tokio::time::timeout(std::time::Duration::from_secs(5), sockets.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(topic, "gateway");
    assert_eq!(body["event"], "face");
    assert!(body["seq"].as_u64().is_some(), "{body}");
    assert_eq!(body["interpretation"]["status"]["status"], "confirmed", "{body}");
    let faces: Vec<_> = c.ledger().await.into_iter().filter(|e| e.kind == "face_result").collect();
    assert_eq!(faces.len(), 1);
    assert_eq!(faces[0].seq, body["seq"].as_u64().unwrap());
}

#[tokio::test]
async fn the_frontend_is_served_compressed_with_strict_headers() {
    let mut c = clinic("assets").await;
    let wasm: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 7) as u8).collect();
    c.state.assets = Arc::new(Assets::from_files([
        (
            "index.html".to_string(),
            "<!doctype html><html lang=ja><title>窓口</title></html>".as_bytes().to_vec(),
        ),
        ("frontend-abc123_bg.wasm".to_string(), wasm.clone()),
    ]));
    let res = warp::test::request()
        .path("/frontend-abc123_bg.wasm")
        .header("host", HOST)
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .reply(&routes(c.state.clone()))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["content-type"], "application/wasm");
    assert!(res.body().len() < wasm.len() / 10, "compressed: {} bytes", res.body().len());
    let mut plain = Vec::new();
    brotli::BrotliDecompress(&mut &res.body()[..], &mut plain).unwrap();
    assert_eq!(plain, wasm);
    let res =
        warp::test::request().path("/").header("host", HOST).reply(&routes(c.state.clone())).await;
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    assert_eq!(h["cross-origin-embedder-policy"], "require-corp");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self' 'wasm-unsafe-eval'"));
    assert_eq!(h["cache-control"], "no-cache");
    // A foreign Host is refused before any file is read.
    let res = warp::test::request()
        .path("/")
        .header("host", "evil.example:8443")
        .reply(&routes(c.state.clone()))
        .await;
    assert_eq!(res.status(), 421);
}

#[tokio::test]
async fn a_card_read_by_the_page_is_confirmed_once_per_challenge() {
    use card::pin::{Pin, StaffConfirmation};
    use card::virtual_card::{TestPerson, TestPki, VirtualCard};
    let c = clinic("signed").await;
    let today = bridge::clock::today_jst();
    let pki = TestPki::new(today).unwrap();
    let sign = |challenge: &str| {
        let mut card = VirtualCard::new(&pki, TestPerson::find("yamada").unwrap()).unwrap();
        let bytes = protocol::from_hex(challenge).unwrap();
        pollster::block_on(card::ops::confirm(
            &mut card,
            Pin::new("1234").unwrap(),
            StaffConfirmation::NotGiven,
            &bytes,
        ))
        .unwrap()
    };
    let challenge = c.state.issue_challenge("tablet");
    let signed = sign(&challenge);
    let (cert, sig) = (protocol::to_hex(&signed.certificate), protocol::to_hex(&signed.signature));
    let body =
        c.state.confirm_signed("tablet", "my_number_card", &cert, &sig, &challenge).await.unwrap();
    assert_eq!(body["interpretation"]["status"]["status"], "confirmed", "{body}");
    assert_eq!(body["holder"], "my_number_card");
    // The challenge is spent: the same signature cannot be replayed.
    let replay = c.state.confirm_signed("tablet", "my_number_card", &cert, &sig, &challenge).await;
    assert_eq!(replay.unwrap_err().0, "challenge");
    // A challenge issued to another device does not count for this one.
    let other = c.state.issue_challenge("kiosk");
    let signed = sign(&other);
    let (cert, sig) = (protocol::to_hex(&signed.certificate), protocol::to_hex(&signed.signature));
    assert_eq!(
        c.state
            .confirm_signed("tablet", "my_number_card", &cert, &sig, &other)
            .await
            .unwrap_err()
            .0,
        "challenge"
    );
    // A signature over something else is refused by the gateway.
    let fresh = c.state.issue_challenge("tablet");
    let err =
        c.state.confirm_signed("tablet", "my_number_card", &cert, &sig, &fresh).await.unwrap_err();
    assert_eq!(err.0, "gateway", "{err:?}");
    assert_eq!(
        c.state.confirm_signed("tablet", "my_number_card", "zz", &sig, &fresh).await.unwrap_err().0,
        "challenge"
    );
}
