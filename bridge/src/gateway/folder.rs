//! The production backend: the 連携アプリケーション's folders on the 資格確認端末.
//!
//! The folders belong to the clinic, and other programs read them too: the receipt
//! computer (レセコン / 電子カルテ) takes its results from the same `face/` files and sends
//! its own requests through `req/` and `res/`. So:
//!
//! - `face/` is read-only to us: never moved, renamed, deleted, locked or written. What we
//!   have read is remembered by the caller's store (name, size, modification time,
//!   SHA-256), so a restart neither repeats nor loses a file, and a file whose content
//!   changes under the same name is a new result.
//! - We write only our own request files into `req/` (`OQSsiquc01req_<id>.xml`, under a
//!   temporary name and renamed, so the 連携アプリケーション never sees half a request) and
//!   take only our own answers from `res/` — the id in the file name (or the echoed
//!   `ArbitraryFileIdentifier`) is one this process issued. Those answers are ours: read,
//!   optionally copied into our archive, then removed. Any other `res/` file is left alone.
//! - Nothing of ours is created in the share. A file that stays unreadable is copied into
//!   our data directory's `quarantine/` with a `.reason.txt`, never moved; processed files
//!   are copied into our `archive/YYYYMMDD/` only when archiving is on (off by default).
//!
//! A file is taken only when it is complete — it parses as a whole document; a half-written
//! file fails with "truncated" and is retried on its next change. File-system notifications
//! drive the worker; a slow rescan (1 s) backs them up for shares that give none (SMB
//! mounts). A file is looked at again only when its size or modification time changes.
//!
//! The worker is supervised: if it ever ends (a panic), it is restarted and [`health`]
//! reports the gateway as degraded with the reason until it is back.

use super::{Gateway, GatewayError, GatewayEvent, NumberQuery, SeenFile};
use notify::{RecursiveMode, Watcher};
use oqs::{Answer, XmlError};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Where the folders are and how long to wait.
#[derive(Debug, Clone)]
pub struct FolderConfig {
    /// The share holding `req/`, `res/`, `face/`.
    pub root: PathBuf,
    /// Our own data directory: quarantine copies (and archive copies, when on) go there,
    /// never into the share. `None` (a one-off `oqs query`) keeps no copies.
    pub data_dir: Option<PathBuf>,
    /// Copy every processed file into `<data_dir>/archive/YYYYMMDD/` (off by default).
    pub archive_copies: bool,
    /// `face/` files already read (name, size, mtime in ns): skipped at start-up.
    pub known_face_files: Vec<(String, u64, i64)>,
    pub medical_institution_code: String,
    pub timeout: Duration,
    /// How long a file may stay unreadable before it is quarantined.
    pub settle: Duration,
}

impl FolderConfig {
    pub fn new(root: impl Into<PathBuf>) -> FolderConfig {
        FolderConfig {
            root: root.into(),
            data_dir: None,
            archive_copies: false,
            known_face_files: Vec::new(),
            medical_institution_code: "1312345678".into(),
            timeout: Duration::from_secs(30),
            settle: Duration::from_secs(2),
        }
    }
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>;

/// The worker's standing, for `/health`: up, or degraded with the reason (it ended and
/// is being restarted).
#[derive(Debug, Default)]
pub struct WorkerHealth {
    degraded: Mutex<Option<String>>,
    restarts: AtomicU64,
}

impl WorkerHealth {
    /// `None` when the worker runs; the reason while it is being restarted.
    pub fn degraded(&self) -> Option<String> {
        self.degraded.lock().ok().and_then(|d| d.clone())
    }

    /// How often the worker was restarted since the bridge started.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }
}

/// The running folder backend. Dropping it stops the watcher and the worker.
pub struct FolderGateway {
    config: FolderConfig,
    pending: Pending,
    /// Ids of the requests this process wrote: their answers are ours to take.
    issued: Arc<Mutex<HashSet<String>>>,
    events: broadcast::Sender<GatewayEvent>,
    /// The receiver made with the channel, before the worker's start-up scan: the first
    /// [`Gateway::events`] call gets it, so files waiting at start-up reach a subscriber.
    first_receiver: Mutex<Option<broadcast::Receiver<GatewayEvent>>>,
    /// Set to make the worker publish every `face/` file again (a subscriber lagged).
    redeliver: Arc<AtomicBool>,
    health: Arc<WorkerHealth>,
    counter: AtomicU64,
    _watcher: notify::RecommendedWatcher,
    supervisor: tokio::task::JoinHandle<()>,
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

/// Size and modification time (ns since the epoch) of a file.
fn stamp(path: &Path) -> Option<(u64, i64)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos() as i64;
    Some((meta.len(), mtime))
}

/// Copies `file` into `dir` under a name not taken yet; returns the copy's path.
pub(super) fn copy_into(file: &Path, bytes: &[u8], dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    let mut target = dir.join(&name);
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{}.{n}", name.to_string_lossy()));
        n += 1;
    }
    std::fs::write(&target, bytes)?;
    Ok(target)
}

struct Worker {
    root: PathBuf,
    data_dir: Option<PathBuf>,
    archive_copies: bool,
    settle: Duration,
    pending: Pending,
    issued: Arc<Mutex<HashSet<String>>>,
    events: broadcast::Sender<GatewayEvent>,
    redeliver: Arc<AtomicBool>,
    /// Files looked at, with the size and mtime they had then: looked at again only when
    /// either changes.
    looked_at: HashMap<PathBuf, (u64, i64)>,
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
                    // 一括照会 answers (`OQSmu…`) are the bulk run's to read (and can be
                    // far larger than one answer), 照会番号 answers (`OQSsiimm…`) the
                    // registrar's: never read or quarantined here.
                    let bulk =
                        dir == "res" && (name.starts_with("OQSmu") || name.starts_with("OQSsiimm"));
                    if name.ends_with(".xml") && !name.starts_with('.') && !bulk {
                        out.push(p);
                    }
                }
            }
        }
        out.sort();
        out
    }

    fn is_ours(&self, id: &str) -> bool {
        self.issued.lock().is_ok_and(|ids| ids.contains(id))
    }

    fn process(&mut self, file: &Path) {
        let Some(now) = stamp(file) else { return };
        if self.looked_at.get(file) == Some(&now) {
            return;
        }
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let is_face = file.parent().and_then(|p| p.file_name()).is_some_and(|d| d == "face");
        // An answer in res/ whose name is not one of our ids: the レセコン's, not ours.
        // (A name without an id is read once for its echoed ArbitraryFileIdentifier.)
        if !is_face && answer_id(&name).is_some_and(|id| !self.is_ours(id)) {
            self.looked_at.insert(file.to_path_buf(), now);
            return;
        }
        let Ok(bytes) = std::fs::read(file) else { return };
        match oqs::parse_answer(&bytes) {
            Ok(answer) => {
                self.unreadable.remove(file);
                self.looked_at.insert(file.to_path_buf(), now);
                if is_face {
                    let seen = SeenFile {
                        name: name.clone(),
                        sha256: crate::store::sha256_hex(&bytes),
                        size: now.0,
                        mtime_ns: now.1,
                    };
                    self.archive_copy(file, &bytes);
                    let _ = self
                        .events
                        .send(GatewayEvent::Face { file: seen, answer: Box::new(answer) });
                } else {
                    let id = answer_id(&name)
                        .map(String::from)
                        .or_else(|| answer.header.arbitrary_file_identifier.clone())
                        .unwrap_or_default();
                    if !self.is_ours(&id) {
                        return; // someone else's answer: not ours to read or move
                    }
                    self.archive_copy(file, &bytes);
                    // Our own answer: taken out of res/ once read.
                    if let Err(e) = std::fs::remove_file(file) {
                        tracing::warn!(file = %name, error = %e, "cannot remove our own answer");
                    }
                    if let Ok(mut ids) = self.issued.lock() {
                        ids.remove(&id);
                    }
                    let waiter = self.pending.lock().ok().and_then(|mut p| p.remove(&id));
                    match waiter {
                        Some(tx) => {
                            let _ = tx.send(answer);
                        }
                        None => {
                            tracing::info!(file = %name, "late answer to our own lookup (it had timed out)")
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
                self.looked_at.insert(file.to_path_buf(), now);
                let reason = e.to_string();
                if let Some(data) = &self.data_dir {
                    match copy_into(file, &bytes, &data.join("quarantine")) {
                        Ok(copy) => {
                            let _ = std::fs::write(copy.with_extension("reason.txt"), &reason);
                        }
                        Err(io) => {
                            tracing::warn!(file = %name, error = %io, "cannot copy into quarantine")
                        }
                    }
                }
                tracing::warn!(file = %name, reason = %reason, "unreadable: quarantined (a copy; the file stays)");
                let seen = SeenFile {
                    name,
                    sha256: crate::store::sha256_hex(&bytes),
                    size: now.0,
                    mtime_ns: now.1,
                };
                let _ = self.events.send(GatewayEvent::Quarantined { file: seen, reason });
            }
        }
    }

    fn archive_copy(&self, file: &Path, bytes: &[u8]) {
        let (true, Some(data)) = (self.archive_copies, &self.data_dir) else { return };
        if let Err(e) = copy_into(file, bytes, &data.join("archive").join(today_folder())) {
            tracing::warn!(error = %e, "cannot copy into the archive");
        }
    }

    fn scan(&mut self) {
        if self.redeliver.swap(false, Ordering::Relaxed) {
            self.looked_at.retain(|path, _| !path.starts_with(self.root.join("face")));
        }
        for file in self.candidates() {
            self.process(&file);
        }
        // Forget files that are gone (the レセコン may clean face/).
        self.looked_at.retain(|path, _| path.exists());
    }

    async fn run(mut self, changes: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<PathBuf>>>) {
        // Held for the worker's life; a restarted worker takes it over.
        let mut changes = changes.lock().await;
        self.scan();
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
                _ = rescan.tick() => self.scan(),
            }
        }
    }
}

/// Runs `start()`'s task and starts it again whenever it ends before `stop` — a panic or an
/// unexpected return — with the reason in `health` until the new one runs. Waits 1 s
/// between restarts so a task that dies at once cannot spin.
pub fn supervise<F, Fut>(
    name: &'static str,
    health: Arc<WorkerHealth>,
    start: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let outcome = tokio::spawn(start()).await;
            let reason = match outcome {
                Ok(()) => format!("{name} ended"),
                Err(e) if e.is_panic() => {
                    let payload = e.into_panic();
                    let text = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic".into());
                    format!("{name} stopped: {text}")
                }
                Err(_) => return, // cancelled: the gateway is being dropped
            };
            tracing::error!(reason = %reason, "restarting");
            if let Ok(mut d) = health.degraded.lock() {
                *d = Some(reason);
            }
            health.restarts.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Ok(mut d) = health.degraded.lock() {
                *d = None;
            }
        }
    })
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
        // Large enough for a morning's face/ at start-up; a subscriber that still lags
        // asks for everything again (`redeliver`), and the store drops what it has.
        let (events, first_receiver) = broadcast::channel(8192);
        let pending: Pending = Arc::default();
        let issued: Arc<Mutex<HashSet<String>>> = Arc::default();
        let redeliver = Arc::new(AtomicBool::new(false));
        let health = Arc::new(WorkerHealth::default());
        let changes = Arc::new(tokio::sync::Mutex::new(rx));
        let known: HashMap<PathBuf, (u64, i64)> = config
            .known_face_files
            .iter()
            .map(|(name, size, mtime)| (config.root.join("face").join(name), (*size, *mtime)))
            .collect();
        let supervisor = {
            let (root, data_dir, archive_copies, settle) = (
                config.root.clone(),
                config.data_dir.clone(),
                config.archive_copies,
                config.settle,
            );
            let (pending, issued, events, redeliver) =
                (pending.clone(), issued.clone(), events.clone(), redeliver.clone());
            supervise("the 資格確認端末 folder worker", health.clone(), move || {
                let worker = Worker {
                    root: root.clone(),
                    data_dir: data_dir.clone(),
                    archive_copies,
                    settle,
                    pending: pending.clone(),
                    issued: issued.clone(),
                    events: events.clone(),
                    redeliver: redeliver.clone(),
                    looked_at: known.clone(),
                    unreadable: HashMap::new(),
                };
                worker.run(changes.clone())
            })
        };
        Ok(FolderGateway {
            config,
            pending,
            issued,
            events,
            first_receiver: Mutex::new(Some(first_receiver)),
            redeliver,
            health,
            counter: AtomicU64::new(0),
            _watcher: watcher,
            supervisor,
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

    /// The share is there (a network share can vanish while the bridge runs).
    pub fn reachable(&self) -> bool {
        self.config.root.join("req").is_dir() && self.config.root.join("res").is_dir()
    }

    /// The worker's standing (degraded while it is being restarted).
    pub fn health(&self) -> &WorkerHealth {
        &self.health
    }

    /// Publish every `face/` file again on the next scan (a subscriber missed some).
    pub fn redeliver(&self) {
        self.redeliver.store(true, Ordering::Relaxed);
    }
}

impl Drop for FolderGateway {
    fn drop(&mut self) {
        self.supervisor.abort();
    }
}

impl Gateway for FolderGateway {
    async fn lookup(&self, query: &NumberQuery) -> Result<Answer, GatewayError> {
        let id = self.next_id();
        let request = query.to_request(&self.config.medical_institution_code, &id);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().map_err(folder_error)?.insert(id.clone(), tx);
        self.issued.lock().map_err(folder_error)?.insert(id.clone());
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
                // The id stays issued: a late answer is still ours to take out of res/.
                self.pending.lock().map_err(folder_error)?.remove(&id);
                Err(GatewayError::Timeout(self.config.timeout.as_secs()))
            }
        }
    }

    fn events(&self) -> broadcast::Receiver<GatewayEvent> {
        match self.first_receiver.lock().ok().and_then(|mut r| r.take()) {
            Some(first) => first,
            None => self.events.subscribe(),
        }
    }
}
