//! An admin's operator work from 設定 (`POST /api/admin`) through the real router and a real
//! SQLite ledger on disk: backups made, listed with their check, a damaged one refused and a
//! good one restored while serving (the ledger kept aside, terminals' re-sent ops taken once);
//! terminals revoked (not one's own); a new server certificate swapped into the listener; the
//! audit log verified and one person's day shown — each refused to a receptionist and each
//! change audited under the admin's name.

use bridge::gateway::sim::{Sim, SimGateway};
use bridge::server::{routes, Allowed, AppState, BackupPlace, TlsReach};
use bridge::store::Store;
use eligibility::Date;
use protocol::{AdminReply, Op, OpResult, PairResponse};
use std::sync::Arc;

const HOST: &str = "localhost:8443";
const ORIGIN: &str = "https://localhost:8443";

struct Clinic {
    s: AppState,
    dir: tempfile::TempDir,
}

fn clinic(name: &str) -> Clinic {
    let dir =
        tempfile::Builder::new().prefix(&format!("madoguchi-admin-{name}")).tempdir().unwrap();
    let store = Store::open(&dir.path().join("madoguchi.sqlite3")).unwrap();
    let sim = Arc::new(Sim::new(Date::parse("2026-12-02").unwrap()));
    let mut s =
        AppState::new(store, Arc::new(SimGateway::new(sim).into()), Allowed::for_port(8443, &[]));
    s.admin.backups = Some(BackupPlace { dir: dir.path().join("backups"), keep: 5, key: None });
    Clinic { s, dir }
}

async fn pair(s: &AppState, name: &str) -> (String, String) {
    let code = s.store.new_pairing_code(300).unwrap();
    let res = warp::test::request()
        .method("POST")
        .path("/api/pair")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .json(&serde_json::json!({ "code": code, "device_name": name }))
        .reply(&routes(s.clone()))
        .await;
    let paired: PairResponse = serde_json::from_slice(res.body()).unwrap();
    (paired.device_id, paired.token)
}

/// A person with a stored passkey and a session on `device`: (staff id, session).
fn signed_in(store: &Store, name: &str, role: &str, device: &str) -> (String, String) {
    let person = store.add_staff(name, role).unwrap().unwrap();
    let code = store.enrolment_code(&person.staff_id, 600, false).unwrap();
    let credential = format!("cred-{name}");
    store.enrol(&code, device, &credential, "{}").unwrap().unwrap();
    let (session, _) =
        store.begin_session(&person.staff_id, device, &credential, None).unwrap().unwrap();
    (person.staff_id, session)
}

async fn admin(
    s: &AppState,
    token: &str,
    session: &str,
    body: serde_json::Value,
) -> (u16, AdminReply, String) {
    let res = warp::test::request()
        .method("POST")
        .path("/api/admin")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("authorization", format!("Bearer {token}"))
        .header(protocol::STAFF_HEADER, session)
        .json(&body)
        .reply(&routes(s.clone()))
        .await;
    let text = String::from_utf8_lossy(res.body()).into_owned();
    (res.status().as_u16(), serde_json::from_str(&text).unwrap_or_default(), text)
}

fn reception(n: u32) -> Op {
    Op {
        op_id: format!("op-{n}"),
        staff: None,
        record_id: format!("rec-{n}"),
        kind: "reception".into(),
        device_time: "2026-12-02T09:00:00+09:00".into(),
        body: serde_json::json!({ "schema": 2, "presented": "myna_card", "established": "online_confirmation", "status": "confirmed", "claim": { "plan": "normal" }, "visit": "2026-12-02" }),
    }
}

fn created(results: &[OpResult]) -> usize {
    results.iter().filter(|r| matches!(r, OpResult::Created { .. })).count()
}

#[tokio::test]
async fn an_admin_backs_up_and_restores_while_serving_and_a_damaged_copy_is_refused() {
    let c = clinic("restore");
    let s = &c.s;
    let (office, office_token) = pair(s, "事務室").await;
    let (counter, counter_token) = pair(s, "受付1").await;
    let (sato, admin_session) = signed_in(&s.store, "佐藤", "admin", &office);
    let (suzuki, clerk_session) = signed_in(&s.store, "鈴木", "reception", &counter);
    let ops: Vec<Op> = (1..=8).map(reception).collect();

    // A receptionist is refused every admin request, before anything is done.
    for body in [
        serde_json::json!({ "do": "backup" }),
        serde_json::json!({ "do": "backups" }),
        serde_json::json!({ "do": "devices" }),
    ] {
        let (status, _, text) = admin(s, &counter_token, &clerk_session, body).await;
        assert_eq!(status, 403, "{text}");
        assert!(text.contains("admin_only"), "{text}");
    }
    assert!(bridge::backup::list(&c.dir.path().join("backups")).unwrap().is_empty());

    assert_eq!(created(&s.store.push(&counter, &ops[..5]).unwrap()), 5);
    let (status, done, text) =
        admin(s, &office_token, &admin_session, serde_json::json!({ "do": "backup" })).await;
    assert_eq!(status, 200, "{text}");
    assert!(done.said.contains("madoguchi-"), "{}", done.said);
    // The three after the backup are 鈴木's (signed in on the counter).
    let by_suzuki: Vec<Op> =
        ops[5..].iter().cloned().map(|op| Op { staff: Some(suzuki.clone()), ..op }).collect();
    assert_eq!(created(&s.store.push(&counter, &by_suzuki).unwrap()), 3);
    assert_eq!(s.store.event_count().unwrap(), 8);

    let (status, listed, text) =
        admin(s, &office_token, &admin_session, serde_json::json!({ "do": "backups" })).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(listed.rows.len(), 1);
    let good = listed.rows[0].key.clone();
    assert!(listed.rows[0].text.contains("確認OK") && listed.rows[0].text.contains("5 events"));

    // A second backup, then damaged on disk: listed as unusable and refused, nothing changed.
    std::thread::sleep(std::time::Duration::from_millis(1100)); // the folder names carry seconds
    let (status, _, text) =
        admin(s, &office_token, &admin_session, serde_json::json!({ "do": "backup" })).await;
    assert_eq!(status, 200, "{text}");
    let damaged = bridge::backup::list(&c.dir.path().join("backups")).unwrap().pop().unwrap();
    let file = damaged.join("madoguchi.sqlite3");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&file, bytes).unwrap();
    let damaged = damaged.file_name().unwrap().to_string_lossy().into_owned();
    let (_, listed, _) =
        admin(s, &office_token, &admin_session, serde_json::json!({ "do": "backups" })).await;
    assert_eq!(listed.rows[0].key, damaged, "newest first");
    assert!(listed.rows[0].text.contains("使えません"), "{}", listed.rows[0].text);
    let (status, _, text) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "restore", "name": damaged, "confirm": damaged }),
    )
    .await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("SHA-256"), "{text}");
    assert_eq!(s.store.event_count().unwrap(), 8, "a refused restore changes nothing");

    // The name must be typed again.
    let (status, _, _) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "restore", "name": good, "confirm": "yes" }),
    )
    .await;
    assert_eq!(status, 422);
    let (status, restored, text) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "restore", "name": good, "confirm": good }),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(restored.said.contains("5 events"), "{}", restored.said);
    assert_eq!(s.store.event_count().unwrap(), 5, "the served ledger is the backup's now");
    assert_eq!(s.store.marks().unwrap().last_seq, 5);

    // What was served before is kept aside, whole.
    let aside: Vec<_> = std::fs::read_dir(c.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("before-restore"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(Store::open(&aside[0].path()).unwrap().event_count().unwrap(), 8);

    // Each terminal's next pull says "newest seq 0" — even once the restored ledger has been
    // refilled past the terminal's checkpoint — until it pulls from the start.
    s.store
        .push(&office, &[reception(100), reception(101), reception(102), reception(103)])
        .unwrap();
    assert_eq!(s.store.marks().unwrap().last_seq, 9, "refilled past the counter's checkpoint 8");
    let told = s.store.pull_for(&counter, 8, 500).unwrap();
    assert_eq!((told.events.len(), told.next, told.last_seq), (0, 8, Some(0)));
    assert_eq!(
        s.store.pull_for(&counter, 8, 500).unwrap().last_seq,
        Some(0),
        "until it starts over"
    );
    let fresh = s.store.pull_for(&counter, 0, 500).unwrap();
    assert_eq!((fresh.events.len(), fresh.last_seq), (9, Some(9)));
    assert_eq!(s.store.pull_for(&counter, 9, 500).unwrap().last_seq, Some(9), "told once");
    assert_eq!(s.store.pull_for(&office, 9, 500).unwrap().last_seq, Some(0), "every terminal");

    // The counter sends its day again (same op ids): the 3 lost come back, the 5 are not doubled.
    // (The terminal's re-send carries no person: the pulled copy has none.)
    let again = s.store.push(&counter, &ops).unwrap();
    assert_eq!(created(&again), 3);
    assert_eq!(s.store.event_count().unwrap(), 12);

    // The three are 鈴木's again: the ledger set aside said so.
    let mut theirs: Vec<String> = s
        .store
        .audit_of(&suzuki, bridge::clock::today_jst())
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "event:reception")
        .map(|r| r.subject)
        .collect();
    theirs.sort();
    assert_eq!(theirs, ["rec-6", "rec-7", "rec-8"]);

    // The restored chain verifies and says who restored (and who made the copy).
    let (status, verified, _) =
        admin(s, &office_token, &admin_session, serde_json::json!({ "do": "audit_verify" })).await;
    assert_eq!(status, 200);
    assert!(verified.said.contains("OK"), "{}", verified.said);
    let actions: Vec<String> = s
        .store
        .audit_of(&sato, bridge::clock::today_jst())
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(actions.contains(&"restored".to_string()), "{actions:?}");
    // The copy was made before its own `backup_made` row: that row is in the ledger set aside.
    let before = Store::open(&aside[0].path()).unwrap();
    let made = before.audit_of(&sato, bridge::clock::today_jst()).unwrap();
    assert_eq!(made.iter().filter(|r| r.action == "backup_made").count(), 2, "{made:?}");
}

#[tokio::test]
async fn an_admin_exports_a_day_and_revokes_another_terminal_but_not_their_own() {
    let c = clinic("devices");
    let s = &c.s;
    let (office, office_token) = pair(s, "事務室").await;
    let (counter, counter_token) = pair(s, "受付1").await;
    let (sato, admin_session) = signed_in(&s.store, "佐藤", "admin", &office);
    // The day's CSV from the whole ledger, as `bridge export` makes it, with the terminal's name.
    assert_eq!(created(&s.store.push(&counter, &[reception(1), reception(2)]).unwrap()), 2);
    let (status, exported, text) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "export", "date": "2026-12-02" }),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(exported.said.contains("2 rows"), "{}", exported.said);
    assert_eq!(exported.file.lines().count(), 3, "a header and two rows: {}", exported.file);
    assert!(exported.file.contains("受付1"));
    let (status, _, text) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "export", "date": "2026-12-02", "training": true }),
    )
    .await;
    assert_eq!(status, 422, "no training receptions that day: {text}");
    let (status, listed, text) =
        admin(s, &office_token, &admin_session, serde_json::json!({ "do": "devices" })).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(listed.rows.len(), 2);
    assert!(listed.rows.iter().any(|r| r.key == office && r.text.contains("この端末")));
    let (status, _, _) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "revoke", "device_id": office }),
    )
    .await;
    assert_eq!(status, 409, "not the terminal in use");
    let (status, _, text) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "revoke", "device_id": counter }),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let push = warp::test::request()
        .method("POST")
        .path("/api/sync/push")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("authorization", format!("Bearer {counter_token}"))
        .json(&serde_json::json!({ "ops": [reception(1)] }))
        .reply(&routes(s.clone()))
        .await;
    assert_eq!(push.status(), 401, "the revoked terminal is refused");
    let revoked: Vec<_> = s
        .store
        .audit_of(&sato, bridge::clock::today_jst())
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "device_revoked")
        .map(|r| r.subject)
        .collect();
    assert_eq!(revoked, [counter]);
    let exports = s
        .store
        .audit_of(&sato, bridge::clock::today_jst())
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "export")
        .map(|r| r.subject)
        .collect::<Vec<_>>();
    assert_eq!(exports, ["2026-12-02 real 2 rows"]);
}

#[tokio::test]
async fn an_admin_rotates_the_server_certificate_and_reads_a_persons_day() {
    let mut c = clinic("tls");
    let tls_dir = c.dir.path().join("tls");
    let names = vec!["localhost".to_string()];
    let certs = bridge::server::tls::ensure(&tls_dir, &names).unwrap();
    let before = std::fs::read_to_string(tls_dir.join("leaf.pem")).unwrap();
    let shared = Arc::new(std::sync::RwLock::new(bridge::server::tls::acceptor(&certs).unwrap()));
    c.s.admin.tls = Some(TlsReach { dir: tls_dir.clone(), names, shared });
    let ca_before = std::fs::read_to_string(tls_dir.join("ca.pem")).unwrap();
    let s = &c.s;
    let (office, office_token) = pair(s, "事務室").await;
    let (_, admin_session) = signed_in(&s.store, "佐藤", "admin", &office);
    let (status, done, text) =
        admin(s, &office_token, &admin_session, serde_json::json!({ "do": "rotate_tls" })).await;
    assert_eq!(status, 200, "{text}");
    assert!(done.said.contains("CA"), "{}", done.said);
    assert_ne!(std::fs::read_to_string(tls_dir.join("leaf.pem")).unwrap(), before, "a new leaf");
    assert_eq!(
        std::fs::read_to_string(tls_dir.join("ca.pem")).unwrap(),
        ca_before,
        "the CA tablets trust stays"
    );

    // One person's day, as `bridge audit show` prints it; reading it is itself audited.
    let today = bridge::clock::today_jst().to_string();
    let (status, day, text) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "audit_show", "person": "佐藤", "date": today }),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(day.rows.iter().any(|r| r.text.contains("tls_rotated")), "{:?}", day.rows);
    assert!(day.rows.iter().any(|r| r.text.contains("事務室")), "the device by its name");
    assert_eq!(s.store.audit_count("audit_viewed").unwrap(), 1);
    let (status, _, _) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "audit_show", "person": "誰か", "date": today }),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) =
        admin(s, &office_token, &admin_session, serde_json::json!({ "do": "format_disk" })).await;
    assert_eq!(status, 400, "an unknown request is not run");
}

#[tokio::test]
async fn exports_and_reports_made_on_a_page_are_audited_under_the_person() {
    let c = clinic("viewed");
    let s = &c.s;
    let (office, token) = pair(s, "事務室").await;
    let (sato, session) = signed_in(&s.store, "佐藤", "reception", &office);
    let api = routes(s.clone());
    let viewed = |body: serde_json::Value| {
        warp::test::request()
            .method("POST")
            .path("/api/staff/viewed")
            .header("host", HOST)
            .header("origin", ORIGIN)
            .header("authorization", format!("Bearer {token}"))
            .header(protocol::STAFF_HEADER, session.as_str())
            .json(&body)
            .reply(&api)
    };
    assert_eq!(
        viewed(serde_json::json!({ "screen": "export", "detail": "2026-12-02" })).await.status(),
        200
    );
    assert_eq!(
        viewed(serde_json::json!({ "screen": "usage", "detail": "2026-12" })).await.status(),
        200
    );
    assert_eq!(viewed(serde_json::json!({ "screen": "ledger" })).await.status(), 200);
    // Nothing but a day or a month reaches the log.
    assert_eq!(
        viewed(serde_json::json!({ "screen": "export", "detail": "山田太郎" })).await.status(),
        422
    );
    // The audit append runs off the request's thread.
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = s.store.audit_of(&sato, bridge::clock::today_jst()).unwrap();
        if rows.len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seen: Vec<(String, String)> = rows.into_iter().map(|r| (r.action, r.subject)).collect();
    assert!(seen.contains(&("export".into(), "2026-12-02 page copy".into())), "{seen:?}");
    assert!(seen.contains(&("report_viewed".into(), "usage 2026-12".into())), "{seen:?}");
    assert!(seen.contains(&("viewed".into(), "ledger".into())), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_bookings_and_starts_the_days_bulk_run() {
    use bridge::gateway::bulk::{BulkConfig, BulkPeer};
    let mut c = clinic("bulk");
    let sim = Arc::new(Sim::new(bridge::clock::today_jst()));
    c.s.admin.bulk = Some((
        BulkPeer::Sim(sim.clone()),
        BulkConfig {
            medical_institution_code: "1312345678".into(),
            poll: std::time::Duration::from_millis(50),
            answer_timeout: std::time::Duration::from_secs(10),
            max_polls: 100,
            archive: c.dir.path().join("bulk"),
        },
    ));
    let s = &c.s;
    let (office, office_token) = pair(s, "事務室").await;
    let (counter, counter_token) = pair(s, "受付1").await;
    let (sato, admin_session) = signed_in(&s.store, "佐藤", "admin", &office);
    let (_, clerk_session) = signed_in(&s.store, "鈴木", "reception", &counter);
    let day = Date::from_day_number(bridge::clock::today_jst().day_number() + 1).unwrap();
    let mut csv =
        String::from("date,time,patient_id,kana,name,birth,insurer,symbol,number,branch\n");
    for (i, p) in sim.people().iter().take(3).enumerate() {
        csv.push_str(&format!(
            "{day},09:{i:02},P{i:04},{},\"{}\",{},{},{},{},{}\n",
            p.kana,
            p.name,
            p.birth,
            p.insurer.trim(),
            p.symbol.clone().unwrap_or_default(),
            p.number,
            p.branch
        ));
    }
    csv.push_str(&format!("{day},25:00,X2,,bad time,1980-01-01,,,,\n"));
    let hex: String = csv.bytes().map(|b| format!("{b:02x}")).collect();
    let body = serde_json::json!({ "do": "import_bookings", "csv_hex": hex });
    let (status, _, _) = admin(s, &counter_token, &clerk_session, body.clone()).await;
    assert_eq!(status, 403, "a receptionist does not import");
    let (status, imported, text) = admin(s, &office_token, &admin_session, body).await;
    assert_eq!(status, 200, "{text}");
    assert!(imported.said.contains("取り込み 3 件"), "{}", imported.said);
    assert_eq!(imported.rows.len(), 1, "the bad row, with its line: {:?}", imported.rows);
    assert!(imported.rows[0].text.contains("5 行目"), "{:?}", imported.rows);
    assert_eq!(s.store.bookings_on(day).unwrap().len(), 3);
    let (status, _, _) = admin(
        s,
        &office_token,
        &admin_session,
        serde_json::json!({ "do": "import_bookings", "csv_hex": "abc" }),
    )
    .await;
    assert_eq!(status, 422, "half a byte");

    // Tomorrow's 一括照会 now, in the background; its answers land on the bookings.
    let (status, started, text) =
        admin(s, &office_token, &admin_session, serde_json::json!({ "do": "bulk_run" })).await;
    assert_eq!(status, 200, "{text}");
    assert!(started.said.contains(&day.to_string()), "{}", started.said);
    let mut done = false;
    for _ in 0..200 {
        let run = s.store.bulk_run(day).unwrap();
        if run.is_some_and(|r| r.step == bridge::store::BulkStep::Done) {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(done, "the run finished: {:?}", s.store.bulk_run(day).unwrap());
    assert!(s.store.bookings_on(day).unwrap().iter().all(|b| b.pre_confirmation.is_some()));
    let mut actions = Vec::new();
    for _ in 0..50 {
        actions = s
            .store
            .audit_of(&sato, bridge::clock::today_jst())
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect::<Vec<_>>();
        if actions.iter().any(|a| a == "bulk_run") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(actions.iter().any(|a| a == "bookings_import"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "bulk_run"), "{actions:?}");
}
