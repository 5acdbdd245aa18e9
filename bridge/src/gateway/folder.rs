//! The production backend: the 連携アプリケーション's folders on the 資格確認端末.
//!
//! - Lookups: `req/OQSsiquc01req_<id>.xml` is written under a temporary name and renamed
//!   (the 連携アプリケーション never sees half a request); the answer is the `res/` file
//!   with the same id, awaited with a timeout.
//! - `face/` and `res/` are watched with file-system notifications. A file is taken only
//!   when it is complete — it parses as a whole document; a half-written file fails with
//!   "truncated" and is retried on its next change. A slow rescan (1 s) backs the watcher
//!   up for shares that give no notifications (SMB mounts).
//! - Every processed file moves to `archive/YYYY-MM-DD/`; nothing unprocessed is deleted; a
//!   file that stays unreadable is moved to `quarantine/` with a `.reason.txt` and
//!   published as [`GatewayEvent::Quarantined`]. Files waiting at start-up are processed
//!   then, so a restart loses nothing and processes nothing twice.

use super::{Gateway, GatewayError, GatewayEvent, NumberQuery};
use notify::{RecursiveMode, Watcher};
use oqs::{Answer, XmlError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Where the folders are and how long to wait.
#[derive(Debug, Clone)]
pub struct FolderConfig {
    /// The share holding `req/`, `res/`, `face/`.
    pub root: PathBuf,
    /// Where processed files go; default `<root>/archive`.
    pub archive: Option<PathBuf>,
    pub medical_institution_code: String,
    pub timeout: Duration,
    /// How long a file may stay unreadable before it is quarantined.
    pub settle: Duration,
}

impl FolderConfig {
    pub fn new(root: impl Into<PathBuf>) -> FolderConfig {
        FolderConfig {
            root: root.into(),
            archive: None,
            medical_institution_code: "1312345678".into(),
            timeout: Duration::from_secs(30),
            settle: Duration::from_secs(2),
        }
    }
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>;

/// The running folder backend. Dropping it stops the watcher.
pub struct FolderGateway {
    config: FolderConfig,
    pending: Pending,
    events: broadcast::Sender<GatewayEvent>,
    counter: AtomicU64,
    _watcher: notify::RecommendedWatcher,
    _worker: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FolderGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderGateway").field("root", &self.config.root).finish_non_exhaustive()
    }
}

fn folder_error(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::Folder(e.to_string())
}

/// The id in `OQSsiquc01res_<id>.xml`.
fn answer_id(file_name: &str) -> Option<&str> {
    file_name.strip_prefix("OQSsiquc01res_")?.strip_suffix(".xml")
}

/// Writes `content` to `dir/name` through a temporary name and a rename.
pub fn write_atomically(dir: &Path, name: &str, content: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, dir.join(name))
}

/// YYYYMMDD of the local (Japan) day, for archive folders.
fn today_folder() -> String {
    crate::clock::today_jst().compact()
}

struct Worker {
    root: PathBuf,
    archive: PathBuf,
    settle: Duration,
    pending: Pending,
    events: broadcast::Sender<GatewayEvent>,
    /// Files that failed to parse, with when they were first seen.
    unreadable: HashMap<PathBuf, Instant>,
}

impl Worker {
    fn candidates(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for dir in ["face", "res"] {
            if let Ok(entries) = std::fs::read_dir(self.root.join(dir)) {
                for e in entries.flatten() {
                    let p = e.path();
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if name.ends_with(".xml") && !name.starts_with('.') {
                        out.push(p);
                    }
                }
            }
        }
        out.sort();
        out
    }

    fn move_to(&self, file: &Path, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        let mut target = dir.join(&name);
        let mut n = 1;
        while target.exists() {
            target = dir.join(format!("{}.{n}", name.to_string_lossy()));
            n += 1;
        }
        std::fs::rename(file, &target)?;
        Ok(target)
    }

    fn process(&mut self, file: &Path) {
        let Ok(bytes) = std::fs::read(file) else { return };
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let is_face = file.parent().and_then(|p| p.file_name()).is_some_and(|d| d == "face");
        match oqs::parse_answer(&bytes) {
            Ok(answer) => {
                self.unreadable.remove(file);
                let archive = self.archive.join(today_folder());
                // Archive first: once moved, a restart cannot process it again; the
                // answer is already in memory for the waiter or the subscribers.
                if let Err(e) = self.move_to(file, &archive) {
                    tracing::warn!(file = %name, error = %e, "cannot archive; will retry");
                    return;
                }
                if is_face {
                    let _ = self
                        .events
                        .send(GatewayEvent::Face { file: name, answer: Box::new(answer) });
                } else {
                    let id = answer_id(&name)
                        .map(String::from)
                        .or_else(|| answer.header.arbitrary_file_identifier.clone())
                        .unwrap_or_default();
                    let waiter = self.pending.lock().ok().and_then(|mut p| p.remove(&id));
                    match waiter {
                        Some(tx) => {
                            let _ = tx.send(answer);
                        }
                        None => {
                            tracing::info!(file = %name, "answer without a waiting lookup (late or after a restart); archived")
                        }
                    }
                }
            }
            Err(e) => {
                let first = *self.unreadable.entry(file.to_path_buf()).or_insert_with(Instant::now);
                let still_writing =
                    matches!(e, XmlError::Truncated | XmlError::Empty | XmlError::Syntax(_));
                if still_writing && first.elapsed() < self.settle {
                    return;
                }
                self.unreadable.remove(file);
                let quarantine = self.root.join("quarantine");
                match self.move_to(file, &quarantine) {
                    Ok(target) => {
                        let reason = e.to_string();
                        let _ = std::fs::write(target.with_extension("reason.txt"), &reason);
                        tracing::warn!(file = %name, reason = %reason, "quarantined");
                        let _ = self.events.send(GatewayEvent::Quarantined { file: name, reason });
                    }
                    Err(io) => tracing::warn!(file = %name, error = %io, "cannot quarantine"),
                }
            }
        }
    }

    async fn run(mut self, mut changes: mpsc::UnboundedReceiver<PathBuf>) {
        for file in self.candidates() {
            self.process(&file);
        }
        let mut rescan = tokio::time::interval(Duration::from_millis(1000));
        loop {
            tokio::select! {
                changed = changes.recv() => match changed {
                    Some(file) => {
                        if file.exists() {
                            self.process(&file);
                        }
                    }
                    None => return,
                },
                _ = rescan.tick() => {
                    for file in self.candidates() {
                        self.process(&file);
                    }
                }
            }
        }
    }
}

impl FolderGateway {
    /// Starts watching. Must run inside a tokio runtime.
    pub fn start(config: FolderConfig) -> Result<FolderGateway, GatewayError> {
        for dir in ["req", "res", "face"] {
            let path = config.root.join(dir);
            if !path.is_dir() {
                return Err(folder_error(format!(
                    "{} がありません / {} is missing",
                    path.display(),
                    path.display()
                )));
            }
        }
        let archive = config.archive.clone().unwrap_or_else(|| config.root.join("archive"));
        let (tx, rx) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event {
                    if matches!(
                        event.kind,
                        notify::EventKind::Create(_) | notify::EventKind::Modify(_)
                    ) {
                        for path in event.paths {
                            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                            if name.ends_with(".xml") && !name.starts_with('.') {
                                let _ = tx.send(path);
                            }
                        }
                    }
                }
            })
            .map_err(folder_error)?;
        for dir in ["res", "face"] {
            watcher
                .watch(&config.root.join(dir), RecursiveMode::NonRecursive)
                .map_err(folder_error)?;
        }
        let (events, _) = broadcast::channel(1024);
        let pending: Pending = Arc::default();
        let worker = Worker {
            root: config.root.clone(),
            archive,
            settle: config.settle,
            pending: pending.clone(),
            events: events.clone(),
            unreadable: HashMap::new(),
        };
        let handle = tokio::spawn(worker.run(rx));
        Ok(FolderGateway {
            config,
            pending,
            events,
            counter: AtomicU64::new(0),
            _watcher: watcher,
            _worker: handle,
        })
    }

    /// A file id unique across restarts: milliseconds since the epoch, process id, counter.
    fn next_id(&self) -> String {
        let ms = crate::clock::now_millis();
        format!(
            "{ms:013}{:05}{:04}",
            std::process::id() % 100_000,
            self.counter.fetch_add(1, Ordering::Relaxed) % 10_000
        )
    }
}

impl Drop for FolderGateway {
    fn drop(&mut self) {
        self._worker.abort();
    }
}

impl FolderGateway {
    /// The share is there (a network share can vanish while the bridge runs).
    pub fn reachable(&self) -> bool {
        self.config.root.join("req").is_dir() && self.config.root.join("res").is_dir()
    }
}

impl Gateway for FolderGateway {
    async fn lookup(&self, query: &NumberQuery) -> Result<Answer, GatewayError> {
        let id = self.next_id();
        let request = query.to_request(&self.config.medical_institution_code, &id);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().map_err(folder_error)?.insert(id.clone(), tx);
        let name = format!("OQSsiquc01req_{id}.xml");
        if let Err(e) =
            write_atomically(&self.config.root.join("req"), &name, request.to_xml().as_bytes())
        {
            self.pending.lock().map_err(folder_error)?.remove(&id);
            return Err(folder_error(e));
        }
        match tokio::time::timeout(self.config.timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            _ => {
                self.pending.lock().map_err(folder_error)?.remove(&id);
                Err(GatewayError::Timeout(self.config.timeout.as_secs()))
            }
        }
    }

    fn events(&self) -> broadcast::Receiver<GatewayEvent> {
        self.events.subscribe()
    }
}
