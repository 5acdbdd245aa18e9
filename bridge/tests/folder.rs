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

fn config(dir: &Path, timeout_ms: u64) -> FolderConfig {
    let mut c = FolderConfig::new(dir);
    c.timeout = Duration::from_millis(timeout_ms);
    c.settle = Duration::from_millis(700);
    c
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
    std::fs::read_dir(dir.join("archive"))
        .map(|d| d.flatten().map(|day| files_in(&day.path())).sum())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_lookups_pair_with_their_answers() {
    let dir = temp_folder("pairing");
    let sim = Arc::new(Sim::new(today()));
    let _peer = start_peer(&dir, sim.clone());
    peer::set_faults(&dir, &Faults { latency_ms: 20, ..Faults::default() }).unwrap();
    let gateway = Arc::new(FolderGateway::start(config(&dir, 10_000)).unwrap());
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
    assert_eq!(archived(&dir), 50, "every answer archived");
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
    assert!(!dir.join("quarantine").exists(), "nothing quarantined");
    // A file that stays broken is quarantined with its reason and surfaced.
    std::fs::write(
        dir.join("face").join("OQSsiquc01res_face_bad_1.xml"),
        "<XmlMsg><MessageHeader>",
    )
    .unwrap();
    match next_face(&mut events).await {
        GatewayEvent::Quarantined { file, reason } => {
            assert_eq!(file, "OQSsiquc01res_face_bad_1.xml");
            assert!(reason.contains("truncated"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(dir.join("quarantine/OQSsiquc01res_face_bad_1.reason.txt").exists());
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
                assert!(seen.insert(file.clone()), "{file} published twice")
            }
            other => panic!("{other:?}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // a rescan passes: still nothing twice
    assert!(events.try_recv().is_err(), "no duplicates after a rescan");
    assert_eq!(files_in(&dir.join("face")), 0);
    assert_eq!(archived(&dir), 100);
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
    let first = FolderGateway::start(config(&dir, 1000)).unwrap();
    let mut events = first.events();
    let mut seen = 0;
    // Subscribed after start: the start-up scan may have run already; count the archive.
    while archived(&dir) < 5 && seen < 5 {
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(3), events.recv()).await {
            seen += 1;
        }
    }
    assert_eq!(archived(&dir), 5, "nothing lost");
    drop(first);
    let second = FolderGateway::start(config(&dir, 1000)).unwrap();
    let mut events = second.events();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(events.try_recv().is_err(), "nothing processed twice after a restart");
    assert_eq!(archived(&dir), 5);
    // A late answer for a lookup from before the restart is archived, not lost.
    write_atomically(
        &dir.join("res"),
        "OQSsiquc01res_old.xml",
        sim.face_answer("p001", today(), "20261125").unwrap().to_xml().as_bytes(),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(archived(&dir), 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_folder_is_a_clear_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let err = FolderGateway::start(FolderConfig::new("/nonexistent/oqs")).unwrap_err();
    assert!(matches!(err, GatewayError::Folder(_)));
    assert!(err.to_string().contains("req"), "{err}");
}
