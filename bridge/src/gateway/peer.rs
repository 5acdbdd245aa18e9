//! The folder peer: plays the 連携アプリケーション on a folder with the simulator, so the
//! folder backend is tested through the real file system. It answers `req/` files (lookups
//! by numbers, 一括照会 uploads and downloads — a download as a ZIP on request) into
//! `res/` (honouring the simulator's faults, read afresh from `<folder>/.sim-faults.json`
//! before each answer so tests and demos can change them while it runs) and drops `face/`
//! results when a simulated patient taps a card.

use super::folder::write_atomically;
use super::sim::{Faults, Sim};
use eligibility::Date;
use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The faults file a running peer reads.
pub fn faults_file(folder: &Path) -> PathBuf {
    folder.join(".sim-faults.json")
}

/// Sets the faults of a running peer.
pub fn set_faults(folder: &Path, faults: &Faults) -> std::io::Result<()> {
    let text = serde_json::to_string(faults).map_err(std::io::Error::other)?;
    write_atomically(folder, ".sim-faults.json", text.as_bytes())
}

/// The faults set for `folder` (none when the file is absent or unreadable).
pub fn read_faults(folder: &Path) -> Faults {
    std::fs::read_to_string(faults_file(folder))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// The 照会番号 a running peer has registered (read by `oqs tap` too).
fn references_file(folder: &Path) -> PathBuf {
    folder.join(".sim-references.json")
}

fn read_references(folder: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(references_file(folder))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Answers a 照会番号 registration (`OQSsiimm01req_`) and keeps the registry in the folder.
fn answer_registration(folder: &Path, sim: &Sim, request_file: &Path, name: &str) {
    let Ok(bytes) = std::fs::read(request_file) else { return };
    let Ok(registration) =
        oqs::bulk::parse_root(&bytes).and_then(|root| oqs::bulk::Registration::from_root(&root))
    else {
        return; // half-written: retried
    };
    take_request(folder, sim, request_file);
    let Ok(answer) = sim.register_reference(&registration, &crate::clock::jst_stamp()) else {
        return;
    };
    if let Ok(text) = serde_json::to_string(&sim.references()) {
        let _ = write_atomically(folder, ".sim-references.json", text.as_bytes());
    }
    let _ = write_atomically(
        &folder.join("res"),
        &name.replacen("req_", "res_", 1),
        answer.to_xml().as_bytes(),
    );
}

/// Creates `req/`, `res/` and `face/` under `folder`.
pub fn prepare(folder: &Path) -> std::io::Result<()> {
    for dir in ["req", "res", "face"] {
        std::fs::create_dir_all(folder.join(dir))?;
    }
    Ok(())
}

/// Drops a face-auth result for `person` (a sim id or a virtual-card person id).
pub fn tap(folder: &Path, sim: &Sim, person: &str, visit: Date) -> Result<String, String> {
    sim.set_references(read_references(folder));
    let answer = sim
        .face_answer(person, visit, &crate::clock::jst_stamp())
        .ok_or_else(|| format!("no such person {person:?}"))?;
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!(
        "OQSsiquc01res_face_{}{n:04}_{}.xml",
        std::process::id(),
        crate::clock::jst_stamp()
    );
    write_atomically(&folder.join("face"), &name, answer.to_xml().as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(name)
}

/// A request that parsed is taken as the real application does: the folder's faults and
/// 照会番号 read afresh, the request consumed, the latency waited out. The faults in force.
fn take_request(folder: &Path, sim: &Sim, request_file: &Path) -> Faults {
    let faults = read_faults(folder);
    sim.set_faults(faults.clone());
    sim.set_references(read_references(folder));
    let _ = std::fs::remove_file(request_file);
    if faults.latency_ms > 0 {
        std::thread::sleep(Duration::from_millis(faults.latency_ms));
    }
    faults
}

fn answer_one(folder: &Path, sim: &Sim, request_file: &Path) {
    let Ok(bytes) = std::fs::read(request_file) else { return };
    let Ok(request) = oqs::parse_request(&bytes) else { return }; // half-written: the next event retries
    let faults = take_request(folder, sim, request_file);
    let name = format!("OQSsiquc01res_{}.xml", request.arbitrary_file_identifier);
    let body = match sim.answer_request(&request, &crate::clock::jst_stamp()) {
        Err(_) => return, // outage: no answer at all
        Ok(answer)
            if faults.malformed_rate > 0.0
                && request.arbitrary_file_identifier.bytes().map(u64::from).sum::<u64>() % 100
                    < (faults.malformed_rate * 100.0) as u64 =>
        {
            let xml = answer.to_xml();
            xml[..xml.len() / 2].to_string()
        }
        Ok(answer) => answer.to_xml(),
    };
    let _ = write_atomically(&folder.join("res"), &name, body.as_bytes());
}

/// Answers a 一括照会 upload or download (`OQSmuquc01req_` / `OQSmuquc02req_`): the answer
/// takes the request's name with `res_`; a download answer is a ZIP when the faults say so.
fn answer_bulk(folder: &Path, sim: &Sim, request_file: &Path, name: &str) {
    let Ok(bytes) = std::fs::read(request_file) else { return };
    let Ok(root) = oqs::bulk::parse_root(&bytes) else { return }; // half-written: retried
    let faults = take_request(folder, sim, request_file);
    let answer_name = name.replacen("req_", "res_", 1);
    let now = crate::clock::jst_stamp();
    let res = folder.join("res");
    if name.starts_with(oqs::bulk::UPLOAD_PREFIX) {
        let Ok(upload) = oqs::bulk::BulkUpload::from_root(&root) else { return };
        if let Ok(answer) = sim.answer_bulk_upload(&upload, &now) {
            let _ = write_atomically(&res, &answer_name, answer.to_xml().as_bytes());
        }
        return;
    }
    let Ok(download) = oqs::bulk::BulkDownload::from_root(&root) else { return };
    let Ok(answer) = sim.answer_bulk_download(&download, &now) else { return };
    let mut xml = answer.to_xml();
    if faults.malformed_rate > 0.0 && !answer.units.is_empty() {
        // The results cut off mid-file (a broken transfer): never stored, quarantined.
        let cut = xml.len() / 2;
        xml.truncate(xml.floor_char_boundary(cut));
    }
    if faults.bulk_zip && !answer.units.is_empty() {
        let mut zipped = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut zipped);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let written = writer
            .start_file(answer_name.as_str(), options)
            .and_then(|_| {
                std::io::Write::write_all(&mut writer, xml.as_bytes()).map_err(Into::into)
            })
            .and_then(|_| writer.finish().map(|_| ()));
        if written.is_ok() {
            let zip_name = answer_name.replace(".xml", ".zip");
            let _ = write_atomically(&res, &zip_name, zipped.get_ref());
        }
        return;
    }
    let _ = write_atomically(&res, &answer_name, xml.as_bytes());
}

/// Runs the peer until `stop` resolves. Each request is answered on its own thread so
/// latency faults overlap like a real system's.
pub async fn run(
    folder: PathBuf,
    sim: Arc<Sim>,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    prepare(&folder)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let watch_tx = tx.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            for path in event.paths {
                let _ = watch_tx.send(path);
            }
        }
    })
    .map_err(std::io::Error::other)?;
    watcher
        .watch(&folder.join("req"), RecursiveMode::NonRecursive)
        .map_err(std::io::Error::other)?;
    let scan = |tx: &mpsc::UnboundedSender<PathBuf>| {
        if let Ok(entries) = std::fs::read_dir(folder.join("req")) {
            for e in entries.flatten() {
                let _ = tx.send(e.path());
            }
        }
    };
    scan(&tx);
    let mut rescan = tokio::time::interval(Duration::from_millis(500));
    let in_flight = Arc::new(std::sync::Mutex::new(std::collections::HashSet::<PathBuf>::new()));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = rescan.tick() => scan(&tx),
            Some(path) = rx.recv() => {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let bulk = name.starts_with(oqs::bulk::UPLOAD_PREFIX) || name.starts_with(oqs::bulk::DOWNLOAD_PREFIX);
                let registration = name.starts_with(oqs::bulk::REGISTER_PREFIX);
                if !((name.starts_with("OQSsiquc01req_") || bulk || registration) && name.ends_with(".xml") && path.exists()) {
                    continue;
                }
                if !in_flight.lock().map(|mut s| s.insert(path.clone())).unwrap_or(false) {
                    continue;
                }
                let (folder, sim, in_flight) = (folder.clone(), sim.clone(), in_flight.clone());
                let name = name.to_string();
                tokio::task::spawn_blocking(move || {
                    if bulk {
                        answer_bulk(&folder, &sim, &path, &name);
                    } else if registration {
                        answer_registration(&folder, &sim, &path, &name);
                    } else {
                        answer_one(&folder, &sim, &path);
                    }
                    if let Ok(mut s) = in_flight.lock() {
                        s.remove(&path);
                    }
                });
            }
        }
    }
}
