//! The folder backend against the folder peer, through the real file system.

use bridge::gateway::folder::{write_atomically, FolderConfig, FolderGateway};
use bridge::gateway::sim::{Faults, Sim};
use bridge::gateway::{peer, Gateway, GatewayError, GatewayEvent, NumberQuery};
use eligibility::identifiers::InsuredNumber;
use eligibility::Date;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

fn today() -> Date {
    Date::parse("2026-11-25").unwrap()
}

fn temp_folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "madoguchi-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    peer::prepare(&dir).unwrap();
    dir
}

/// Our data directory for a share: beside it, never inside (the share is the clinic's).
fn data_of(dir: &Path) -> PathBuf {
    dir.with_extension("data")
}

fn config(dir: &Path, timeout_ms: u64) -> FolderConfig {
    let mut c = FolderConfig::new(dir);
    c.timeout = Duration::from_millis(timeout_ms);
    c.settle = Duration::from_millis(700);
    c.data_dir = Some(data_of(dir));
    c
}

/// Every entry of the share's top level: only the 資格確認端末's own folders (and the
/// peer's faults file) — nothing of ours.
fn share_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".sim-faults.json")
        .collect();
    names.sort();
    names
}

/// Name → (bytes, mtime) of every file in `face/`.
fn face_snapshot(
    dir: &Path,
) -> std::collections::BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
    std::fs::read_dir(dir.join("face"))
        .unwrap()
        .flatten()
        .map(|e| {
            let p = e.path();
            let meta = std::fs::metadata(&p).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                (std::fs::read(&p).unwrap(), meta.modified().unwrap()),
            )
        })
        .collect()
}

/// Starts the peer; stops it when the returned sender is dropped.
fn start_peer(dir: &Path, sim: Arc<Sim>) -> tokio::sync::oneshot::Sender<()> {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let dir = dir.to_path_buf();
    tokio::spawn(async move {
        peer::run(dir, sim, async {
            let _ = stop_rx.await;
        })
        .await
        .unwrap();
    });
    stop_tx
}

fn query_for(sim: &Sim, id: &str) -> NumberQuery {
    sim.person(id).unwrap().query(today()).unwrap()
}

async fn next_face(events: &mut broadcast::Receiver<GatewayEvent>) -> GatewayEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .expect("channel open")
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.flatten().filter(|e| e.path().is_file()).count()).unwrap_or(0)
}

fn archived(dir: &Path) -> usize {
    std::fs::read_dir(data_of(dir).join("archive"))
        .map(|d| d.flatten().map(|day| files_in(&day.path())).sum())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_lookups_pair_with_their_answers() {
    let dir = temp_folder("pairing");
    let sim = Arc::new(Sim::new(today()));
    let _peer = start_peer(&dir, sim.clone());
    peer::set_faults(&dir, &Faults { latency_ms: 20, ..Faults::default() }).unwrap();
    let mut with_archive = config(&dir, 10_000);
    with_archive.archive_copies = true;
    let gateway = Arc::new(FolderGateway::start(with_archive).unwrap());
    let ids: Vec<String> = sim
        .people()
        .iter()
        .filter(|p| p.id.starts_with('p'))
        .take(50)
        .map(|p| p.id.clone())
        .collect();
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (gateway, query) = (gateway.clone(), query_for(&sim, id));
            tokio::spawn(async move { gateway.lookup(&query).await })
        })
        .collect();
    for (id, task) in ids.iter().zip(tasks) {
        let answer = task.await.unwrap().unwrap();
        let expected = sim.person(id).unwrap();
        assert_eq!(answer.results.len(), 1, "{id}");
        assert_eq!(
            answer.results[0].fields.insured_identification_number.as_deref(),
            Some(expected.number.as_str()),
            "{id} got someone else's answer"
        );
        assert_eq!(answer.body.qualification_validity.as_deref(), Some("1"));
    }
    assert_eq!(files_in(&dir.join("req")), 0, "the peer consumed every request");
    assert_eq!(files_in(&dir.join("res")), 0, "our own answers are taken out of res/");
    assert_eq!(archived(&dir), 50, "every answer copied into our archive");
    assert_eq!(share_entries(&dir), ["face", "req", "res"], "nothing of ours in the share");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn special_cases_through_the_folder() {
    let dir = temp_folder("cases");
    let sim = Arc::new(Sim::new(today()));
    let _peer = start_peer(&dir, sim.clone());
    let gateway = FolderGateway::start(config(&dir, 10_000)).unwrap();
    let policy = eligibility::Policy::embedded().unwrap();
    let status = |a: &oqs::Answer| oqs::interpret(a, &policy, today()).status;
    assert_eq!(
        status(&gateway.lookup(&query_for(&sim, "lost-new")).await.unwrap()),
        oqs::Status::InvalidNewQualification
    );
    assert_eq!(
        status(&gateway.lookup(&query_for(&sim, "lost")).await.unwrap()),
        oqs::Status::Invalid
    );
    assert_eq!(
        status(&gateway.lookup(&query_for(&sim, "multiple-a")).await.unwrap()),
        oqs::Status::Multiple { count: 2 }
    );
    let kumamoto = oqs::interpret(
        &gateway.lookup(&query_for(&sim, "no-ratio")).await.unwrap(),
        &policy,
        today(),
    );
    assert!(kumamoto.copay_ratio_missing);
    let stand_in = oqs::interpret(
        &gateway.lookup(&query_for(&sim, "stand-in")).await.unwrap(),
        &policy,
        today(),
    );
    assert_eq!(stand_in.names_need_correction, vec!["Name"]);
    let mut nobody = query_for(&sim, "p001");
    nobody.number = InsuredNumber::parse("999999").unwrap();
    assert_eq!(status(&gateway.lookup(&nobody).await.unwrap()), oqs::Status::NotFound);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_never_arrives_times_out() {
    let dir = temp_folder("timeout");
    let sim = Arc::new(Sim::new(today()));
    peer::set_faults(&dir, &Faults { outage: true, ..Faults::default() }).unwrap();
    let _peer = start_peer(&dir, sim.clone());
    let gateway = FolderGateway::start(config(&dir, 600)).unwrap();
    let started = std::time::Instant::now();
    let result = gateway.lookup(&query_for(&sim, "p002")).await;
    assert_eq!(result, Err(GatewayError::Timeout(0)));
    assert!(started.elapsed() < Duration::from_secs(3));
    // The system comes back: the next lookup is answered.
    peer::set_faults(&dir, &Faults::default()).unwrap();
    assert!(gateway.lookup(&query_for(&sim, "p002")).await.is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_writes_are_read_only_when_complete() {
    let dir = temp_folder("partial");
    let sim = Sim::new(today());
    let gateway = FolderGateway::start(config(&dir, 1000)).unwrap();
    let mut events = gateway.events();
    let xml = sim.face_answer("yamada", today(), "20261125090000").unwrap().to_xml();
    let path = dir.join("face").join("OQSsiquc01res_face_slow_20261125090000.xml");
    let (head, tail) = xml.as_bytes().split_at(xml.len() / 2);
    std::fs::write(&path, head).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    use std::io::Write;
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(tail).unwrap();
    match next_face(&mut events).await {
        GatewayEvent::Face { answer, .. } => {
            assert_eq!(answer.results[0].fields.name.as_deref(), Some("山田太郎"))
        }
        other => panic!("{other:?}"),
    }
    assert!(!data_of(&dir).join("quarantine").exists(), "nothing quarantined");
    // A file that stays broken is quarantined with its reason and surfaced.
    std::fs::write(
        dir.join("face").join("OQSsiquc01res_face_bad_1.xml"),
        "<XmlMsg><MessageHeader>",
    )
    .unwrap();
    match next_face(&mut events).await {
        GatewayEvent::Quarantined { file, reason } => {
            assert_eq!(file.name, "OQSsiquc01res_face_bad_1.xml");
            assert!(reason.contains("truncated"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A copy and its reason in our data directory; the file itself stays where it is.
    let quarantine = data_of(&dir).join("quarantine");
    assert!(quarantine.join("OQSsiquc01res_face_bad_1.reason.txt").exists());
    assert!(quarantine.join("OQSsiquc01res_face_bad_1.xml").exists());
    assert!(dir.join("face/OQSsiquc01res_face_bad_1.xml").exists(), "never moved");
    assert_eq!(share_entries(&dir), ["face", "req", "res"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_100_face_files_is_published_once_each() {
    let dir = temp_folder("burst");
    let sim = Sim::new(today());
    let gateway = FolderGateway::start(config(&dir, 1000)).unwrap();
    let mut events = gateway.events();
    for n in 0..100 {
        peer::tap(&dir, &sim, &format!("p{:03}", n), today()).unwrap();
    }
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 100 {
        match next_face(&mut events).await {
            GatewayEvent::Face { file, .. } => {
                assert!(seen.insert(file.name.clone()), "{} published twice", file.name)
            }
            other => panic!("{other:?}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // a rescan passes: still nothing twice
    assert!(events.try_recv().is_err(), "no duplicates after a rescan");
    assert_eq!(files_in(&dir.join("face")), 100, "face/ is read-only to us: every file stays");
    assert_eq!(archived(&dir), 0, "archive copies are off by default");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_restarted_while_files_wait() {
    let dir = temp_folder("restart");
    let sim = Sim::new(today());
    // Files arrive while no bridge runs.
    for n in 0..5 {
        peer::tap(&dir, &sim, &format!("p{:03}", 100 + n), today()).unwrap();
    }
    let before = face_snapshot(&dir);
    let first = FolderGateway::start(config(&dir, 1000)).unwrap();
    // Subscribed after start: the first subscriber still gets what the start-up scan read.
    let mut events = first.events();
    let mut known = Vec::new();
    for _ in 0..5 {
        match next_face(&mut events).await {
            GatewayEvent::Face { file, .. } => known.push((file.name, file.size, file.mtime_ns)),
            other => panic!("{other:?}"),
        }
    }
    drop(first);
    assert_eq!(face_snapshot(&dir), before, "every face/ file byte-identical, same mtime");
    // Restarted with what the store remembers: nothing is published twice.
    let mut again = config(&dir, 1000);
    again.known_face_files = known;
    let second = FolderGateway::start(again).unwrap();
    let mut events = second.events();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(events.try_recv().is_err(), "nothing processed twice after a restart");
    // New content under an old name is a new result.
    let (name, _) = before.iter().next().unwrap();
    let xml = sim.face_answer("p200", today(), "20261125100000").unwrap().to_xml();
    write_atomically(&dir.join("face"), name, xml.as_bytes()).unwrap();
    match next_face(&mut events).await {
        GatewayEvent::Face { file, .. } => assert_eq!(&file.name, name),
        other => panic!("{other:?}"),
    }
    // An answer to a lookup this process did not make (the レセコン's, or one from before
    // the restart) is not ours: left where it is, never read as ours.
    write_atomically(
        &dir.join("res"),
        "OQSsiquc01res_receipt-computer-7.xml",
        sim.face_answer("p001", today(), "20261125").unwrap().to_xml().as_bytes(),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(dir.join("res/OQSsiquc01res_receipt-computer-7.xml").exists());
    assert!(events.try_recv().is_err(), "someone else's answer is not an event");
    assert_eq!(share_entries(&dir), ["face", "req", "res"]);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(data_of(&dir));
}

/// A face file whose declaration has a full-width quote (or a Shift_JIS byte where the
/// quote should be), and one of random bytes: recorded as quarantined, the files left as
/// they are, and the next good file still arrives — the worker never restarts for input.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_face_files_are_quarantined_and_the_worker_keeps_going() {
    let dir = temp_folder("odd");
    let sim = Sim::new(today());
    let gateway = FolderGateway::start(config(&dir, 1000)).unwrap();
    let mut events = gateway.events();
    let face = dir.join("face");
    std::fs::write(
        face.join("OQSsiquc01res_face_fullwidth_1.xml"),
        "<?xml version=\"1.0\" encoding=＂Shift_JIS＂?><XmlMsg/>",
    )
    .unwrap();
    let mut sjis = b"<?xml version=\"1.0\" encoding=".to_vec();
    sjis.extend_from_slice(&[0x81, 0x68]);
    sjis.extend_from_slice(b"Shift_JIS\x81\x68?><XmlMsg/>");
    std::fs::write(face.join("OQSsiquc01res_face_sjisquote_2.xml"), &sjis).unwrap();
    let soup: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(face.join("OQSsiquc01res_face_soup_3.xml"), &soup).unwrap();
    let before = face_snapshot(&dir);
    let mut quarantined = std::collections::BTreeSet::new();
    while quarantined.len() < 3 {
        match next_face(&mut events).await {
            GatewayEvent::Quarantined { file, .. } => {
                quarantined.insert(file.name);
            }
            other => panic!("{other:?}"),
        }
    }
    let good = peer::tap(&dir, &sim, "p010", today()).unwrap();
    let started = std::time::Instant::now();
    match next_face(&mut events).await {
        GatewayEvent::Face { file, .. } => assert_eq!(file.name, good),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2), "the usual latency");
    assert_eq!(gateway.health().restarts(), 0, "the worker never restarts for input");
    assert_eq!(gateway.health().degraded(), None);
    let mut after = face_snapshot(&dir);
    after.remove(&good);
    assert_eq!(after, before, "the odd files are untouched");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(data_of(&dir));
}

/// The supervisor restarts a worker that ends, and reports the gateway degraded with the
/// reason until the new one runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_dies_is_restarted_and_reported() {
    use bridge::gateway::folder::{supervise, WorkerHealth};
    let health = Arc::new(WorkerHealth::default());
    let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = runs.clone();
    let handle = supervise("test worker", health.clone(), move || {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            if n == 0 {
                panic!("boom on the first run");
            }
            std::future::pending::<()>().await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reason = health.degraded().expect("degraded while restarting");
    assert!(reason.contains("boom on the first run"), "{reason}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(health.degraded(), None, "back once restarted");
    assert_eq!(health.restarts(), 1);
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
    handle.abort();
}

#[test]
fn a_missing_folder_is_a_clear_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let err = FolderGateway::start(FolderConfig::new("/nonexistent/oqs")).unwrap_err();
    assert!(matches!(err, GatewayError::Folder(_)));
    assert!(err.to_string().contains("req"), "{err}");
}
