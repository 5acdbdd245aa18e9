//! The router without a socket (`warp::test`): Host/Origin/token checks, pairing, sync,
//! the WebSocket; and the store under concurrency.

use bridge::gateway::sim::{Sim, SimGateway};
use bridge::server::{routes, Allowed, AppState};
use bridge::store::Store;
use eligibility::Date;
use protocol::{Op, OpResult, PairResponse, PullResponse, PushResponse};
use std::path::PathBuf;
use std::sync::Arc;

const HOST: &str = "localhost:8443";
const ORIGIN: &str = "https://localhost:8443";

fn temp_store(name: &str) -> (Store, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "madoguchi-store-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    (Store::open(&dir.join("s.sqlite3")).unwrap(), dir)
}

fn state(store: Store) -> AppState {
    let sim = Arc::new(Sim::new(Date::parse("2026-11-25").unwrap()));
    AppState::new(store, Arc::new(SimGateway::new(sim).into()), Allowed::for_port(8443, &[]))
}

fn op(n: u32, body: &str) -> Op {
    Op {
        op_id: format!("op-{n}"),
        staff: None,
        record_id: format!("rec-{n}"),
        kind: "reception".into(),
        device_time: "2026-11-25T09:00:00+09:00".into(),
        body: serde_json::json!({ "schema": 2, "presented": "myna_card", "established": "online_confirmation", "status": "confirmed", "claim": { "plan": "normal" }, "visit": "2026-11-25", "note": body }),
    }
}

/// Opens the WebSocket with a Host of the bridge and `origin`.
async fn socket(s: &AppState, origin: &str) -> Result<warp::test::WsClient, warp::test::WsError> {
    warp::test::ws()
        .path("/ws")
        .header("host", HOST)
        .header("origin", origin)
        .handshake(routes(s.clone()))
        .await
}

/// A counter, paired as a terminal of the first wave did: no `role` (it defaults to counter).
async fn pair(s: &AppState) -> String {
    pair_as(s, None, "受付1").await
}

#[tokio::test]
async fn host_and_origin_are_checked_exactly() {
    let (store, _dir) = temp_store("origin");
    let s = state(store);
    let api = routes(s.clone());
    let health =
        |host: &'static str| warp::test::request().path("/health").header("host", host).reply(&api);
    assert_eq!(health(HOST).await.status(), 200);
    assert_eq!(health("evil.example:8443").await.status(), 421, "DNS rebinding");
    assert_eq!(health("localhost:8443.evil").await.status(), 421);
    let code = s.store.new_pairing_code(300).unwrap();
    for (origin, status) in [
        (Some("https://evil.example"), 403),
        (Some("https://localhost.evil"), 403),
        (Some("https://localhost:8443.evil.example"), 403),
        (Some("null"), 403),
        (None, 403),
    ] {
        let mut req = warp::test::request()
            .method("POST")
            .path("/api/pair")
            .header("host", HOST)
            .json(&serde_json::json!({ "code": code, "device_name": "x" }));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        assert_eq!(req.reply(&api).await.status(), status, "origin {origin:?}");
    }
    // The code was not spent by the refused attempts.
    let ok = warp::test::request()
        .method("POST")
        .path("/api/pair")
        .header("host", HOST)
        .header("origin", "http://localhost:8443")
        .json(&serde_json::json!({ "code": code, "device_name": "kiosk" }))
        .reply(&api)
        .await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn pairing_codes_are_single_use_expire_and_are_rate_limited() {
    let (store, _dir) = temp_store("pair");
    let s = state(store);
    let api = routes(s.clone());
    let attempt = |code: String| {
        warp::test::request()
            .method("POST")
            .path("/api/pair")
            .header("host", HOST)
            .header("origin", ORIGIN)
            .json(&serde_json::json!({ "code": code, "device_name": "t" }))
            .reply(&api)
    };
    let code = s.store.new_pairing_code(300).unwrap();
    assert_eq!(attempt(code.clone()).await.status(), 200);
    assert_eq!(attempt(code).await.status(), 403, "single use");
    let expired = s.store.new_pairing_code(-1).unwrap();
    assert_eq!(attempt(expired).await.status(), 403, "expired");
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(attempt("00000000".into()).await.status().as_u16());
    }
    assert!(statuses.contains(&429), "rate limited: {statuses:?}");
}

#[tokio::test]
async fn sync_push_pull_dedupe_and_revocation() {
    let (store, _dir) = temp_store("sync");
    let s = state(store);
    let api = routes(s.clone());
    let token = pair(&s).await;
    let push = |token: String, ops: Vec<Op>| {
        warp::test::request()
            .method("POST")
            .path("/api/sync/push")
            .header("host", HOST)
            .header("origin", ORIGIN)
            .header("authorization", format!("Bearer {token}"))
            .json(&serde_json::json!({ "ops": ops }))
            .reply(&api)
    };
    let res = push(token.clone(), vec![op(1, "a"), op(2, "b")]).await;
    assert_eq!(res.status(), 200);
    let results = serde_json::from_slice::<PushResponse>(res.body()).unwrap().results;
    assert!(matches!(results[0], OpResult::Created { seq: 1, .. }));
    // The same op again: one row; a changed body: conflict; a bad op: rejected.
    let mut bad = op(3, "c");
    bad.op_id.clear();
    let res = push(token.clone(), vec![op(1, "a"), op(2, "changed"), bad]).await;
    let results = serde_json::from_slice::<PushResponse>(res.body()).unwrap().results;
    assert!(matches!(results[0], OpResult::Duplicate { seq: 1, .. }), "{results:?}");
    assert!(matches!(results[1], OpResult::Conflict { seq: 2, .. }), "{results:?}");
    assert!(matches!(results[2], OpResult::Rejected { .. }), "{results:?}");
    assert_eq!(s.store.event_count().unwrap(), 2);
    let pull = warp::test::request()
        .path("/api/sync/pull?after=1&limit=10")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("authorization", format!("Bearer {token}"))
        .reply(&api)
        .await;
    let page: PullResponse = serde_json::from_slice(pull.body()).unwrap();
    assert_eq!((page.events.len(), page.next, page.more), (1, 2, false));
    assert_eq!(page.events[0].op_id, "op-2");
    // No token, a wrong one, a revoked one.
    assert_eq!(push(String::new(), vec![op(9, "x")]).await.status(), 401);
    assert_eq!(push("nope".into(), vec![op(9, "x")]).await.status(), 401);
    let device = s.store.devices().unwrap()[0].device_id.clone();
    assert!(s.store.revoke(&device, bridge::store::By::OPERATOR).unwrap());
    assert_eq!(push(token, vec![op(9, "x")]).await.status(), 401, "revoked");
    assert_eq!(s.store.verify_audit().unwrap(), 3, "code issued, paired, revoked");
}

#[tokio::test]
async fn websocket_hello_requests_and_unknown_kinds() {
    let (store, _dir) = temp_store("ws");
    let s = state(store);
    let token = pair(&s).await;
    let mut ws = socket(&s, ORIGIN).await.unwrap();
    ws.send_text(
        serde_json::json!({ "v": 1, "id": "1", "kind": "hello", "token": token }).to_string(),
    )
    .await;
    let welcome: serde_json::Value =
        serde_json::from_str(ws.recv().await.unwrap().to_str().unwrap()).unwrap();
    assert_eq!(
        (welcome["kind"].as_str(), welcome["in_reply_to"].as_str()),
        (Some("welcome"), Some("1"))
    );
    ws.send_text(r#"{"v":1,"id":"2","kind":"teleport"}"#).await;
    let err: serde_json::Value =
        serde_json::from_str(ws.recv().await.unwrap().to_str().unwrap()).unwrap();
    assert_eq!((err["kind"].as_str(), err["in_reply_to"].as_str()), (Some("error"), Some("2")));
    ws.send_text(r#"{"v":1,"id":"3","kind":"ping"}"#).await;
    let pong: serde_json::Value =
        serde_json::from_str(ws.recv().await.unwrap().to_str().unwrap()).unwrap();
    assert_eq!(pong["kind"], "pong", "the connection survived the unknown kind");
    let push = serde_json::json!({ "v": 1, "id": "4", "kind": "push", "ops": [op(7, "ws")] });
    ws.send_text(push.to_string()).await;
    let mut got_result = false;
    for _ in 0..3 {
        let m: serde_json::Value =
            serde_json::from_str(ws.recv().await.unwrap().to_str().unwrap()).unwrap();
        if m["kind"] == "push_result" {
            assert_eq!(m["results"][0]["status"], "created");
            got_result = true;
            break;
        }
    }
    assert!(got_result);
    // A foreign origin cannot even upgrade; a bad token is closed.
    assert!(socket(&s, "https://evil.example").await.is_err());
    let mut bad = socket(&s, ORIGIN).await.unwrap();
    bad.send_text(r#"{"v":1,"kind":"hello","token":"wrong"}"#).await;
    let m: serde_json::Value =
        serde_json::from_str(bad.recv().await.unwrap().to_str().unwrap()).unwrap();
    assert_eq!(m["error"].as_str().or(m["code"].as_str()), Some("bad_token"));
}

#[test]
fn eight_devices_push_concurrently() {
    let (store, _dir) = temp_store("concurrent");
    let threads: Vec<_> = (0..8)
        .map(|d| {
            let store = store.clone();
            std::thread::spawn(move || {
                for batch in 0..10 {
                    let ops: Vec<Op> =
                        (0..100).map(|i| op(d * 10_000 + batch * 100 + i, "x")).collect();
                    let results = store.push(&format!("device-{d}"), &ops).unwrap();
                    assert!(results.iter().all(|r| matches!(r, OpResult::Created { .. })));
                    // A retry of the same batch creates nothing.
                    let again = store.push(&format!("device-{d}"), &ops).unwrap();
                    assert!(again.iter().all(|r| matches!(r, OpResult::Duplicate { .. })));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.event_count().unwrap(), 8 * 10 * 100);
    let mut after = 0;
    let mut seen = 0;
    loop {
        let page = store.pull(after, 500).unwrap();
        seen += page.events.len();
        after = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(seen, 8000, "pull pages through everything in order");
}

#[test]
fn an_altered_audit_log_is_detected() {
    let (store, _dir) = temp_store("audit");
    for i in 0..5 {
        store.audit("staff", "record_shown", &format!("rec-{i}")).unwrap();
    }
    assert_eq!(store.verify_audit().unwrap(), 5);
    store.execute_raw("UPDATE audit SET subject = 'rec-x' WHERE seq = 3").unwrap();
    assert!(matches!(store.verify_audit(), Err(bridge::store::StoreError::AuditBroken(3))));
}

#[tokio::test]
async fn face_results_reach_every_socket() {
    let (store, _dir) = temp_store("face");
    let s = state(store);
    bridge::server::forward_events(&s);
    let token = pair(&s).await;
    let mut ws = socket(&s, ORIGIN).await.unwrap();
    ws.send_text(serde_json::json!({ "v": 1, "kind": "hello", "token": token }).to_string()).await;
    let _welcome = ws.recv().await.unwrap();
    assert!(s.gateway.sim().unwrap().tap(
        "yamada",
        Date::parse("2026-11-25").unwrap(),
        "20261125100000"
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        assert!(std::time::Instant::now() < deadline, "no face event on the socket");
        let m: serde_json::Value =
            serde_json::from_str(ws.recv().await.unwrap().to_str().unwrap()).unwrap();
        if m["kind"] == "event" && m["topic"] == "gateway" {
            assert_eq!(m["body"]["event"], "face");
            assert_eq!(
                m["body"]["answer"]["results"][0]["Name"]
                    .as_str()
                    .or(m["body"]["answer"]["results"][0]["name"].as_str()),
                Some("山田太郎")
            );
            break;
        }
    }
}

/// Logs in on a socket and returns it after the welcome.
async fn hello(s: &AppState, token: &str) -> (warp::test::WsClient, serde_json::Value) {
    let mut ws = socket(s, ORIGIN).await.unwrap();
    ws.send_text(
        serde_json::json!({ "v": 1, "id": "h", "kind": "hello", "token": token }).to_string(),
    )
    .await;
    let welcome = serde_json::from_str(ws.recv().await.unwrap().to_str().unwrap()).unwrap();
    (ws, welcome)
}

#[tokio::test]
async fn a_foreign_origin_is_refused_everywhere() {
    let (store, _dir) = temp_store("origin");
    let mut s = state(store);
    s.assets = Arc::new(bridge::server::Assets::from_files(vec![(
        "index.html".into(),
        b"<!doctype html><title>madoguchi</title>".to_vec(),
    )]));
    let api = routes(s.clone());
    for path in ["/health", "/", "/index.html"] {
        let evil = warp::test::request()
            .path(path)
            .header("host", HOST)
            .header("origin", "https://evil.example")
            .reply(&api)
            .await;
        assert_eq!(evil.status(), 403, "{path} with a foreign Origin");
        // A navigation (no Origin) and the bridge's own pages still get it.
        for origin in [None, Some(ORIGIN)] {
            let mut req = warp::test::request().path(path).header("host", HOST);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            assert_eq!(req.reply(&api).await.status(), 200, "{path} from {origin:?}");
        }
    }
}

#[tokio::test]
async fn port_443_is_spelled_without_the_port_and_lan_names_are_https_only() {
    let a = Allowed::for_port(443, &["192.0.2.10".into(), "fe80::1".into()]);
    for host in ["localhost", "localhost:443", "192.0.2.10", "[fe80::1]:443"] {
        assert!(a.hosts.contains(host), "{host}");
    }
    for origin in ["https://localhost", "https://192.0.2.10", "https://[fe80::1]"] {
        assert!(a.origins.contains(origin), "{origin}");
    }
    assert!(
        !a.origins.contains("http://192.0.2.10"),
        "plain http is for the kiosk on loopback only"
    );
    let (store, _dir) = temp_store("443");
    let mut s = state(store);
    s.allowed = Arc::new(a);
    let res = warp::test::request()
        .path("/health")
        .header("host", "localhost")
        .header("origin", "https://localhost")
        .reply(&routes(s))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn terminals_cannot_write_the_bridges_kinds_or_ids() {
    let (store, _dir) = temp_store("namespace");
    let s = state(store);
    let token = pair(&s).await;
    let forged = |op_id: &str, kind: &str| Op {
        op_id: op_id.into(),
        staff: None,
        record_id: "rec-forged".into(),
        kind: kind.into(),
        device_time: "2026-11-25T09:00:00+09:00".into(),
        body: serde_json::json!({ "state": "done" }),
    };
    let ops = vec![
        forged("face:20261125-0001", "reception"),
        forged("op-a", "follow_up_result"),
        forged("op-b", "face_result"),
        forged("follow-up:1", "follow_up_result"),
        op(1, "a real one"),
    ];
    let (mut ws, _) = hello(&s, &token).await;
    ws.send_text(serde_json::json!({ "v": 1, "id": "p", "kind": "push", "ops": ops }).to_string())
        .await;
    let reply = loop {
        let m: serde_json::Value =
            serde_json::from_str(ws.recv().await.unwrap().to_str().unwrap()).unwrap();
        if m["kind"] == "push_result" {
            break m;
        }
    };
    let statuses: Vec<&str> = reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["rejected", "rejected", "rejected", "rejected", "created"]);
    assert!(reply["results"][1]["reason"].as_str().unwrap().contains("bridge only"));
    assert_eq!(s.store.event_count().unwrap(), 1);
    // Each refusal is audited (after the reply: the audit is appended off the async threads).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let audited = s.store.audit_count("push_refused_namespace").unwrap();
    assert_eq!(audited, 4);
}

#[tokio::test]
async fn a_revoked_terminals_socket_closes_within_a_second() {
    let (store, _dir) = temp_store("revoke-ws");
    let s = state(store);
    let token = pair(&s).await;
    let (mut ws, welcome) = hello(&s, &token).await;
    assert_eq!(
        (welcome["training"].as_bool(), welcome["can_confirm_card"].as_bool()),
        (Some(true), Some(true))
    );
    let device = welcome["device_id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    assert!(s.store.revoke(&device, bridge::store::By::OPERATOR).unwrap());
    let mut saw_revoked = false;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(3), ws.recv()).await {
            Ok(Ok(m)) if m.is_close() => break,
            Ok(Ok(m)) => {
                let v: serde_json::Value =
                    serde_json::from_str(m.to_str().unwrap_or("{}")).unwrap_or_default();
                saw_revoked |= v["code"] == "revoked";
            }
            Ok(Err(_)) => break, // closed
            Err(_) => panic!("the socket stayed open after the revocation"),
        }
    }
    let took = started.elapsed();
    assert!(saw_revoked, "the terminal is told why");
    assert!(took <= std::time::Duration::from_secs(1), "closed after {took:?}");
    // And a new socket with that token is refused at hello.
    let (_, again) = hello(&s, &token).await;
    assert_eq!(again["code"], "bad_token");
}

/// The simulator is 練習モード, and `/health` says so (the terminals' banner reads it).
#[tokio::test]
async fn health_says_training_with_the_simulator() {
    let (store, _dir) = temp_store("training");
    let s = state(store);
    let res = warp::test::request().path("/health").header("host", HOST).reply(&routes(s)).await;
    let health: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
    assert_eq!(health["training"], true);
    assert_eq!(health["gateway"]["backend"], "sim");
    assert_eq!(health["gateway"]["can_confirm_card"], true, "the simulator keeps the full path");
    // What the terminal reads of it, through the wire type it reads it with.
    let summary: protocol::HealthSummary = serde_json::from_slice(res.body()).unwrap();
    assert!(summary.training && summary.gateway.can_confirm_card);
    assert!(!summary.gateway.state.is_empty(), "{summary:?}");
    // The readers are always a list (empty without PC/SC, which then says why).
    let listed = health["readers"].as_array().expect("readers is a list").len();
    assert_eq!(summary.readers.len(), listed);
    assert_eq!(summary.readers_error.is_some(), health["readers_error"].is_string());
}

/// The kiosk's pairing QR code: only for a paired terminal whose connection is on loopback,
/// and only once the bridge knows its LAN address.
#[tokio::test]
async fn the_pairing_qr_code_is_for_the_kiosk_on_loopback_only() {
    let (store, _dir) = temp_store("pair-qr");
    let mut s = state(store);
    let token = pair(&s).await;
    let ask = |s: &AppState, peer: Option<&str>| {
        let mut request = warp::test::request()
            .method("POST")
            .path("/api/pair/qr")
            .header("host", HOST)
            .header("origin", ORIGIN)
            .header("authorization", format!("Bearer {token}"))
            .json(&serde_json::json!({}));
        if let Some(peer) = peer {
            request = request.extension(bridge::server::Peer(peer.parse().unwrap()));
        }
        let routes = routes(s.clone());
        async move { request.reply(&routes).await }
    };
    // A tablet on the LAN (and a request whose connection is unknown) is refused.
    for peer in [Some("192.168.1.20:50000"), None] {
        let res = ask(&s, peer).await;
        assert_eq!(res.status(), 403);
        assert!(String::from_utf8_lossy(res.body()).contains("kiosk_only"));
    }
    // No LAN name yet: the kiosk is told what to set.
    let res = ask(&s, Some("127.0.0.1:50000")).await;
    assert_eq!(res.status(), 409);
    assert!(String::from_utf8_lossy(res.body()).contains("lan_names"));
    s.tablet_address = Some(("192.168.1.10".into(), 8443));
    s.ca_sha256 = Some("AB".repeat(32));
    let res = ask(&s, Some("127.0.0.1:50000")).await;
    assert_eq!(res.status(), 200, "{:?}", res.body());
    let qr: protocol::PairingQr = serde_json::from_slice(res.body()).unwrap();
    assert!(qr.url.starts_with("https://192.168.1.10:8443/office.html#pair="), "{}", qr.url);
    assert!(qr.url.contains(&format!("&ca={}", "AB".repeat(32))));
    assert!(qr.svg.starts_with("<svg"), "{}", &qr.svg[..40]);
    assert_eq!(qr.minutes, 5);
    // The code in it pairs a tablet, once.
    let code = &qr.url.split("#pair=").nth(1).unwrap()[..8];
    let pairing = |code: String| {
        let routes = routes(s.clone());
        async move {
            warp::test::request()
                .method("POST")
                .path("/api/pair")
                .header("host", HOST)
                .header("origin", ORIGIN)
                .json(&serde_json::json!({ "code": code, "device_name": "tablet" }))
                .reply(&routes)
                .await
                .status()
        }
    };
    assert_eq!(pairing(code.to_string()).await, 200);
    assert_eq!(pairing(code.to_string()).await, 403);
}

async fn pair_as(s: &AppState, role: Option<&str>, name: &str) -> String {
    let code = s.store.new_pairing_code(300).unwrap();
    let res = warp::test::request()
        .method("POST")
        .path("/api/pair")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .json(&match role {
            Some(role) => serde_json::json!({ "code": code, "device_name": name, "role": role }),
            None => serde_json::json!({ "code": code, "device_name": name }),
        })
        .reply(&routes(s.clone()))
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.body());
    serde_json::from_slice::<PairResponse>(res.body()).unwrap().token
}

async fn next_json(ws: &mut warp::test::WsClient) -> serde_json::Value {
    let m = tokio::time::timeout(std::time::Duration::from_secs(5), ws.recv())
        .await
        .expect("a message within 5 s")
        .unwrap();
    serde_json::from_str(m.to_str().unwrap()).unwrap()
}

async fn connect_as(s: &AppState, token: &str) -> warp::test::WsClient {
    let mut ws = socket(s, ORIGIN).await.unwrap();
    ws.send_text(
        serde_json::json!({ "v": 1, "id": "h", "kind": "hello", "token": token }).to_string(),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["kind"], "welcome");
    ws
}

/// A guidance display hears the counter's step, the current one at once when it connects,
/// and nothing else; its token opens no API, and it can ask nothing but `ping`.
#[tokio::test]
async fn a_display_hears_only_the_guidance_steps_and_its_token_opens_nothing() {
    let (store, _dir) = temp_store("display");
    let s = state(store);
    let counter = pair(&s).await;
    let display_token = pair_as(&s, Some("display"), "案内画面").await;
    assert_eq!(
        s.store.devices().unwrap().iter().map(|d| d.role.as_str()).collect::<Vec<_>>(),
        ["counter", "display"]
    );
    // No API: the display's token is not a terminal's.
    for path in ["/api/sync/pull", "/api/face-results/open", "/api/lookup"] {
        let res = warp::test::request()
            .method("POST")
            .path(path)
            .header("host", HOST)
            .header("origin", ORIGIN)
            .header("authorization", format!("Bearer {display_token}"))
            .json(&serde_json::json!({ "after": 0 }))
            .reply(&routes(s.clone()))
            .await;
        assert!(res.status().as_u16() >= 400, "{path}: {}", res.status());
    }
    let mut display = connect_as(&s, &display_token).await;
    let first = next_json(&mut display).await;
    assert_eq!((first["kind"].as_str(), first["topic"].as_str()), (Some("event"), Some("guide")));
    assert_eq!(first["body"], "idle", "the current step at once");
    let mut counter_ws = connect_as(&s, &counter).await;
    // The counter's step is not answered, and goes to the display.
    counter_ws.send_text(r#"{"v":1,"id":"n","kind":"guide","step":"phone_android"}"#).await;
    let step = next_json(&mut display).await;
    assert_eq!(step["body"], "phone_android");
    // Ledger events are not the display's: a push makes an `events` event for counters only.
    let push = serde_json::json!({ "v": 1, "id": "p", "kind": "push", "ops": [op(1, "x")] });
    counter_ws.send_text(push.to_string()).await;
    assert_eq!(next_json(&mut counter_ws).await["kind"], "push_result");
    counter_ws.send_text(r#"{"v":1,"id":"n","kind":"guide","step":"confirmed"}"#).await;
    let next = next_json(&mut display).await;
    assert_eq!(next["body"], "confirmed", "the push's event was not passed on: {next}");
    // A step that is not in the closed list (a name, say) is refused.
    counter_ws.send_text(r#"{"v":1,"id":"x","kind":"guide","step":"山田太郎"}"#).await;
    let refused = loop {
        let m = next_json(&mut counter_ws).await;
        if m["in_reply_to"] == "x" {
            break m;
        }
    };
    assert_eq!(refused["code"], "bad_message");
    // The display may ask nothing else.
    display.send_text(r#"{"v":1,"id":"q","kind":"pull","after":0}"#).await;
    let m = next_json(&mut display).await;
    assert_eq!((m["code"].as_str(), m["in_reply_to"].as_str()), (Some("display_only"), Some("q")));
    display.send_text(r#"{"v":1,"id":"r","kind":"ping"}"#).await;
    assert_eq!(next_json(&mut display).await["kind"], "pong");
    // A display that connects later starts at the counter's current step.
    let mut late = connect_as(&s, &display_token).await;
    assert_eq!(next_json(&mut late).await["body"], "confirmed");
}

/// Two counters, two displays: a display paired from a counter's 設定 follows that counter
/// only, from the step it is at when the display connects; the code it used pairs nothing
/// but a display.
#[tokio::test]
async fn a_display_paired_from_a_counter_follows_that_counter_only() {
    let (store, _dir) = temp_store("display-follows");
    let s = state(store);
    let (first, second) = (pair(&s).await, pair(&s).await);
    let ask_code = |token: String| {
        let s = s.clone();
        async move {
            let res = warp::test::request()
                .method("POST")
                .path("/api/pair/display")
                .header("host", HOST)
                .header("origin", ORIGIN)
                .header("authorization", format!("Bearer {token}"))
                .reply(&routes(s))
                .await;
            assert_eq!(res.status(), 200, "{:?}", res.body());
            serde_json::from_slice::<protocol::DisplayCode>(res.body()).unwrap().code
        }
    };
    let pair_with = |code: String, role: &'static str| {
        let s = s.clone();
        async move {
            warp::test::request()
                .method("POST")
                .path("/api/pair")
                .header("host", HOST)
                .header("origin", ORIGIN)
                .json(&serde_json::json!({ "code": code, "device_name": "x", "role": role }))
                .reply(&routes(s))
                .await
        }
    };
    // A counter cannot mint counters: its display code refuses a counter's pairing.
    let code = ask_code(first.clone()).await;
    assert_eq!(pair_with(code.clone(), "counter").await.status(), 403);
    let res = pair_with(code, "display").await;
    assert_eq!(res.status(), 200, "the refused try did not spend the code");
    let first_display = serde_json::from_slice::<PairResponse>(res.body()).unwrap().token;
    let code = ask_code(second.clone()).await;
    let second_display =
        serde_json::from_slice::<PairResponse>(pair_with(code, "display").await.body())
            .unwrap()
            .token;

    let mut a = connect_as(&s, &first).await;
    let mut b = connect_as(&s, &second).await;
    a.send_text(r#"{"v":1,"id":"n","kind":"guide","step":"card"}"#).await;
    b.send_text(r#"{"v":1,"id":"n","kind":"guide","step":"phone_first"}"#).await;
    let mut da = connect_as(&s, &first_display).await;
    let mut db = connect_as(&s, &second_display).await;
    assert_eq!(next_json(&mut da).await["body"], "card", "its counter's step at once");
    assert_eq!(next_json(&mut db).await["body"], "phone_first");
    b.send_text(r#"{"v":1,"id":"n","kind":"guide","step":"phone_failed"}"#).await;
    a.send_text(r#"{"v":1,"id":"n","kind":"guide","step":"confirmed"}"#).await;
    assert_eq!(next_json(&mut db).await["body"], "phone_failed");
    assert_eq!(
        next_json(&mut da).await["body"],
        "confirmed",
        "the other counter's step did not reach this display"
    );
}
