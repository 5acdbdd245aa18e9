//! Staff accounts without a browser: enrolment codes, sessions and hand-overs in the store,
//! the routes that need a signed-in person once anyone has a passkey, and ops attributed only
//! to someone who signed in on the pushing device. (The passkey ceremonies themselves run
//! against Chromium's virtual authenticator in `e2e/tests/staff.rs`.)

use bridge::gateway::sim::{Sim, SimGateway};
use bridge::server::{routes, Allowed, AppState};
use bridge::store::Store;
use eligibility::Date;
use protocol::{Op, PairResponse};
use std::sync::Arc;

const HOST: &str = "localhost:8443";
const ORIGIN: &str = "https://localhost:8443";

fn temp_store(name: &str) -> (Store, tempfile::TempDir) {
    let dir =
        tempfile::Builder::new().prefix(&format!("madoguchi-staff-{name}")).tempdir().unwrap();
    (Store::open(&dir.path().join("s.sqlite3")).unwrap(), dir)
}

fn state(store: Store) -> AppState {
    let sim = Arc::new(Sim::new(Date::parse("2026-11-25").unwrap()));
    AppState::new(store, Arc::new(SimGateway::new(sim).into()), Allowed::for_port(8443, &[]))
}

async fn pair(s: &AppState) -> (String, String) {
    let code = s.store.new_pairing_code(300).unwrap();
    let res = warp::test::request()
        .method("POST")
        .path("/api/pair")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .json(&serde_json::json!({ "code": code, "device_name": "受付1" }))
        .reply(&routes(s.clone()))
        .await;
    let paired: PairResponse = serde_json::from_slice(res.body()).unwrap();
    (paired.device_id, paired.token)
}

/// A person with a stored passkey (the JSON is opaque to the store) and a session on
/// `device`.
fn enrolled(store: &Store, name: &str, device: &str) -> (String, String) {
    enrolled_as(store, name, "reception", device)
}

fn enrolled_as(store: &Store, name: &str, role: &str, device: &str) -> (String, String) {
    let person = store.add_staff(name, role).unwrap().unwrap();
    let code = store.enrolment_code(&person.staff_id, 600, false).unwrap();
    let credential = format!("cred-{name}");
    assert_eq!(
        store.enrol(&code, device, &credential, "{}").unwrap().as_deref(),
        Some(person.staff_id.as_str())
    );
    // The code is spent.
    assert_eq!(store.enrol(&code, device, "cred-again", "{}").unwrap(), None);
    let (session, _) =
        store.begin_session(&person.staff_id, device, &credential, None).unwrap().unwrap();
    (person.staff_id, session)
}

#[test]
fn sessions_end_on_lock_hand_over_disable_and_recovery() {
    let (store, _dir) = temp_store("sessions");
    assert!(!store.sign_in_required().unwrap());
    assert_eq!(store.add_staff("  ", "reception").unwrap(), None, "an empty name");
    let (sato, sato_session) = enrolled(&store, "佐藤", "dev-a");
    assert!(store.sign_in_required().unwrap());
    assert_eq!(store.add_staff("佐藤", "admin").unwrap(), None, "a taken name");
    assert_eq!(
        store.session_person("dev-a", &sato_session).unwrap().map(|p| p.name),
        Some("佐藤".into())
    );
    assert_eq!(
        store.session_person("dev-b", &sato_session).unwrap(),
        None,
        "another device's session"
    );
    // A lock ends it; unlocking is the same person again.
    assert!(store.end_session("dev-a", "locked").unwrap());
    assert_eq!(store.session_person("dev-a", &sato_session).unwrap(), None);
    let (again, began) = store.begin_session(&sato, "dev-a", "cred-佐藤", None).unwrap().unwrap();
    assert_eq!(began.as_str(), "unlocked");
    // Someone else on the same device: a hand-over, and the first session ends.
    let (suzuki, suzuki_session) = enrolled(&store, "鈴木", "dev-a");
    assert_eq!(store.session_person("dev-a", &again).unwrap(), None);
    assert_eq!(store.device_person("dev-a").unwrap().map(|p| p.staff_id), Some(suzuki.clone()));
    assert_eq!(store.audit_count("hand_over").unwrap(), 1);
    // 佐藤's passkey cannot open a session for 鈴木.
    assert_eq!(store.begin_session(&suzuki, "dev-a", "cred-佐藤", None).unwrap(), None);
    // Disabled: the session ends and no new one begins.
    assert!(store.disable_staff(&suzuki).unwrap());
    assert_eq!(store.session_person("dev-a", &suzuki_session).unwrap(), None);
    assert_eq!(store.begin_session(&suzuki, "dev-a", "cred-鈴木", None).unwrap(), None);
    // Recovery: every passkey of the person goes, a new code comes.
    let code = store.enrolment_code(&sato, 600, true).unwrap();
    assert!(store.passkeys_of(&sato).unwrap().is_empty());
    assert!(!store.sign_in_required().unwrap(), "nobody active has a passkey any more");
    assert_eq!(store.enrolment_for(&code).unwrap().map(|p| p.name), Some("佐藤".into()));
    assert_eq!(store.audit_count("staff_recovery").unwrap(), 1);
    assert!(store.verify_audit().unwrap() > 10);
}

#[tokio::test]
async fn patient_routes_need_a_signed_in_person_once_anyone_has_a_passkey() {
    let (store, _dir) = temp_store("routes");
    let s = state(store.clone());
    let api = routes(s.clone());
    let (device, token) = pair(&s).await;
    // A terminal's POST with its token, and a staff session when given.
    let post = |path: &'static str, body: serde_json::Value, session: Option<String>| {
        let mut req = warp::test::request()
            .method("POST")
            .path(path)
            .header("host", HOST)
            .header("origin", ORIGIN)
            .header("authorization", format!("Bearer {token}"))
            .json(&body);
        if let Some(session) = session {
            req = req.header(protocol::STAFF_HEADER, session);
        }
        req.reply(&api)
    };
    let lookup = |session| post("/api/lookup", serde_json::json!({ "insurer": "x" }), session);
    let code =
        |body: &[u8]| serde_json::from_slice::<protocol::ErrorBody>(body).unwrap_or_default().error;
    // Nobody enrolled: the device alone is let through (the bad query is refused after).
    let res = lookup(None).await;
    assert_eq!((res.status().as_u16(), code(res.body()).as_str()), (400, "bad_body"));
    let (_, session) = enrolled(&store, "佐藤", &device);
    let res = lookup(None).await;
    assert_eq!((res.status().as_u16(), code(res.body()).as_str()), (401, "sign_in_required"));
    let res = lookup(Some("not-a-session".into())).await;
    assert_eq!((res.status().as_u16(), code(res.body()).as_str()), (401, "signed_out"));
    let res = lookup(Some(session.clone())).await;
    assert_eq!((res.status().as_u16(), code(res.body()).as_str()), (400, "bad_body"));
    // The roster says so, and names the enrolled.
    let roster = post("/api/staff", serde_json::json!({}), None).await;
    let roster: protocol::StaffRoster = serde_json::from_slice(roster.body()).unwrap();
    assert!(roster.required);
    assert_eq!(
        roster.staff.iter().map(|p| (p.name.as_str(), p.enrolled)).collect::<Vec<_>>(),
        [("佐藤", true)]
    );
    // Locked: the session is over.
    let lock = post("/api/staff/lock", serde_json::json!({}), None).await;
    assert_eq!(lock.status(), 200);
    let res = lookup(Some(session)).await;
    assert_eq!((res.status().as_u16(), code(res.body()).as_str()), (401, "signed_out"));
    // A passkey ceremony from an IP origin has no relying party.
    let start = warp::test::request()
        .method("POST")
        .path("/api/staff/sign-in/start")
        .header("host", "127.0.0.1:8443")
        .header("origin", "https://127.0.0.1:8443")
        .header("authorization", format!("Bearer {token}"))
        .json(&serde_json::json!({ "staff": "佐藤" }))
        .reply(&api)
        .await;
    assert_eq!((start.status().as_u16(), code(start.body()).as_str()), (409, "no_relying_party"));
}

#[tokio::test]
async fn an_op_is_a_persons_only_if_they_signed_in_on_that_device() {
    let (store, _dir) = temp_store("ops");
    let s = state(store.clone());
    let (device, _token) = pair(&s).await;
    let (sato, _) = enrolled(&store, "佐藤", &device);
    let (other, _) = enrolled(&store, "鈴木", "another-device");
    let op = |n: u32, staff: Option<&str>| Op {
        op_id: format!("op-{n}"),
        staff: staff.map(str::to_string),
        record_id: format!("rec-{n}"),
        kind: "reception".into(),
        device_time: "2026-11-25T09:00:00+09:00".into(),
        body: serde_json::json!({ "schema": 2, "presented": "myna_card", "established": "online_confirmation", "status": "confirmed", "claim": { "plan": "normal" }, "visit": "2026-11-25" }),
    };
    store.push(&device, &[op(1, Some(&sato)), op(2, Some(&other)), op(3, None)]).unwrap();
    let today = bridge::clock::today_jst();
    let of = |id: &str| {
        store
            .audit_of(id, today)
            .unwrap()
            .into_iter()
            .filter(|r| r.action == "event:reception")
            .map(|r| r.subject)
            .collect::<Vec<_>>()
    };
    assert_eq!(of(&sato), ["rec-1"]);
    assert!(of(&other).is_empty(), "鈴木 never signed in on this device");
    assert_eq!(store.audit_count("op_staff_unknown").unwrap(), 1);
}

#[tokio::test]
async fn only_an_admin_manages_staff_from_a_terminal() {
    let (store, _dir) = temp_store("manage");
    let s = state(store.clone());
    let api = routes(s.clone());
    let (device, token) = pair(&s).await;
    let manage = |session: &str, body: serde_json::Value| {
        warp::test::request()
            .method("POST")
            .path("/api/staff/manage")
            .header("host", HOST)
            .header("origin", ORIGIN)
            .header("authorization", format!("Bearer {token}"))
            .header(protocol::STAFF_HEADER, session)
            .json(&body)
            .reply(&api)
    };
    let (_, reception) = enrolled(&store, "鈴木", "other-device");
    let (_, admin) = enrolled_as(&store, "佐藤", "admin", &device);
    // 鈴木's session is on another device: here it is no session at all.
    let res = manage(&reception, serde_json::json!({ "action": "list" })).await;
    assert_eq!(res.status(), 401);
    let res =
        manage(&admin, serde_json::json!({ "action": "add", "name": "田中", "role": "reception" }))
            .await;
    assert_eq!(res.status(), 200, "{:?}", res.body());
    let done: protocol::StaffManaged = serde_json::from_slice(res.body()).unwrap();
    assert_eq!(done.code.len(), 8);
    assert!(done.staff.iter().any(|p| p.name == "田中" && !p.enrolled));
    assert_eq!(store.enrolment_for(&done.code).unwrap().map(|p| p.name), Some("田中".into()));
    let res =
        manage(&admin, serde_json::json!({ "action": "add", "name": "田中", "role": "reception" }))
            .await;
    assert_eq!(res.status(), 409, "a taken name");
    let res = manage(&admin, serde_json::json!({ "action": "disable", "name": "佐藤" })).await;
    assert_eq!(res.status(), 409, "an admin cannot disable themselves");
    let res = manage(&admin, serde_json::json!({ "action": "disable", "name": "鈴木" })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(store.audit_count("staff_managed").unwrap(), 2);
    // A receptionist signed in here is refused.
    let (_, clerk) = enrolled(&store, "山本", &device);
    let res = manage(&clerk, serde_json::json!({ "action": "list" })).await;
    assert_eq!(res.status(), 403);
}
