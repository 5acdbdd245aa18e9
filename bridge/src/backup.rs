//! Backups a clinic can restore: a consistent copy of the ledger made while serving (SQLite's
//! online backup API), with a manifest that lets a restore refuse a damaged or altered copy.
//!
//! A backup is a folder `madoguchi-YYYYMMDD-HHMMSS/` holding `madoguchi.sqlite3` and
//! `manifest.json` (when, how many events, the last seq, the audit log's rows and head, the
//! copy's size and SHA-256). `restore` checks the checksum, opens the copy and recomputes the
//! audit chain and the counts before anything in the data directory is touched.
//!
//! Not here yet (ARCHITECTURE "Known gaps"): encryption with a key file, and terminals that
//! notice a restored bridge is behind their own ledger and send what it lost again.

use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::path::{Path, PathBuf};

/// What a backup holds, written beside the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// RFC 3339, UTC.
    pub created: String,
    pub events: u64,
    pub last_seq: u64,
    pub audit_rows: u64,
    /// The hash of the audit log's last row (the chain's head).
    pub audit_head: String,
    pub bytes: u64,
    pub sha256: String,
    /// The bridge that made it.
    pub version: String,
}

/// Why a backup cannot be made or restored, with what to do next.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("バックアップ {0} に manifest.json がないか読めません。別のバックアップを使ってください / no readable manifest: use another backup")]
    Manifest(PathBuf),
    #[error("バックアップが壊れています（SHA-256 が違います: 記録 {expected}、実際 {found}）。別のバックアップを使ってください / the copy is damaged (checksum differs): use another backup")]
    Checksum { expected: String, found: String },
    #[error("バックアップの中身がマニフェストと合いません（{0}）。別のバックアップを使ってください / the copy does not match its manifest: use another backup")]
    Mismatch(String),
    #[error("バックアップの監査ログが改ざんされています: {0}。別のバックアップを使ってください / the copy's audit log fails its chain: use another backup")]
    Audit(StoreError),
    #[error("データディレクトリ {0} には記録があります。ブリッジを止めてから --force で置き換えてください（今のものは残します）/ the data directory has a ledger: stop the bridge and use --force (the current one is kept aside)")]
    NotEmpty(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ファイルの読み書きに失敗しました: {0} / file error")]
    Io(#[from] std::io::Error),
}

const DB: &str = "madoguchi.sqlite3";
const MANIFEST: &str = "manifest.json";

fn sha256_file(path: &Path) -> Result<(String, u64), std::io::Error> {
    let bytes = std::fs::read(path)?;
    let hex = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, bytes.len() as u64))
}

/// Makes a backup of `store` in a new folder under `to`; returns the folder.
pub fn make(store: &Store, to: &Path) -> Result<PathBuf, BackupError> {
    let stamp = crate::clock::jst_stamp();
    let name = format!("madoguchi-{}-{}", &stamp[..8], &stamp[8..]);
    let dir = to.join(&name);
    let part = to.join(format!(".{name}.part"));
    let _ = std::fs::remove_dir_all(&part);
    std::fs::create_dir_all(&part)?;
    let marks = store.backup_into(&part.join(DB))?;
    let (sha256, bytes) = sha256_file(&part.join(DB))?;
    let manifest = Manifest {
        created: crate::clock::now_rfc3339(),
        events: marks.events,
        last_seq: marks.last_seq,
        audit_rows: marks.audit_rows,
        audit_head: marks.audit_head,
        bytes,
        sha256,
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(std::io::Error::other)?;
    std::fs::write(part.join(MANIFEST), text + "\n")?;
    std::fs::rename(&part, &dir)?;
    store.audit("operator", "backup_made", &name)?;
    Ok(dir)
}

/// Checks a backup folder: manifest, checksum, audit chain and counts. Nothing is written
/// into it (the check opens a scratch copy).
pub fn verify(from: &Path) -> Result<Manifest, BackupError> {
    let manifest: Manifest = std::fs::read_to_string(from.join(MANIFEST))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| BackupError::Manifest(from.to_path_buf()))?;
    let (found, bytes) = sha256_file(&from.join(DB))?;
    if found != manifest.sha256 || bytes != manifest.bytes {
        return Err(BackupError::Checksum { expected: manifest.sha256, found });
    }
    let scratch = std::env::temp_dir().join(format!(
        "madoguchi-restore-check-{}-{}",
        std::process::id(),
        crate::clock::now_millis()
    ));
    std::fs::create_dir_all(&scratch)?;
    std::fs::copy(from.join(DB), scratch.join(DB))?;
    let checked =
        Store::open(&scratch.join(DB)).and_then(|copy| Ok((copy.verify_audit(), copy.marks()?)));
    let _ = std::fs::remove_dir_all(&scratch);
    let (audit, marks) = checked?;
    let audit_rows = audit.map_err(BackupError::Audit)?;
    if marks.events != manifest.events || marks.last_seq != manifest.last_seq {
        return Err(BackupError::Mismatch(format!(
            "events {} / {}, last seq {} / {}",
            marks.events, manifest.events, marks.last_seq, manifest.last_seq
        )));
    }
    if audit_rows != manifest.audit_rows || marks.audit_head != manifest.audit_head {
        return Err(BackupError::Mismatch(format!(
            "audit rows {audit_rows} / {}",
            manifest.audit_rows
        )));
    }
    Ok(manifest)
}

/// Restores the backup in `from` into `data_dir` (the bridge stopped). A data directory
/// with a ledger is replaced only with `force`, and its ledger is kept aside.
pub fn restore(from: &Path, data_dir: &Path, force: bool) -> Result<Manifest, BackupError> {
    let manifest = verify(from)?;
    std::fs::create_dir_all(data_dir)?;
    let target = data_dir.join(DB);
    if target.exists() {
        let has_events = Store::open(&target)?.event_count()? > 0;
        if has_events && !force {
            return Err(BackupError::NotEmpty(data_dir.to_path_buf()));
        }
        let aside = data_dir.join(format!("{DB}.before-restore-{}", crate::clock::jst_stamp()));
        std::fs::rename(&target, aside)?;
    }
    for extra in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data_dir.join(format!("{DB}{extra}")));
    }
    std::fs::copy(from.join(DB), &target)?;
    let store = Store::open(&target)?;
    let name = from.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    store.audit("operator", "restored", &name)?;
    Ok(manifest)
}

/// Keeps the newest `keep` backups in `dir`, removes the older ones; returns how many went.
pub fn prune(dir: &Path, keep: usize) -> Result<usize, std::io::Error> {
    let mut backups = list(dir)?;
    let remove = backups.len().saturating_sub(keep);
    for old in backups.drain(..remove) {
        std::fs::remove_dir_all(old)?;
    }
    Ok(remove)
}

/// The backup folders in `dir`, oldest first (their names sort by time).
pub fn list(dir: &Path) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut found: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("madoguchi-"))
                    && p.join(MANIFEST).is_file()
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    found.sort();
    Ok(found)
}

/// `serve`'s daily backup: one on each day (Japan) it runs — checked at start and hourly;
/// the newest `keep` are kept.
pub fn spawn_daily(store: Store, dir: PathBuf, keep: usize) {
    tokio::spawn(async move {
        loop {
            let (s, d) = (store.clone(), dir.clone());
            let made =
                tokio::task::spawn_blocking(move || -> Result<Option<PathBuf>, BackupError> {
                    // One per day in Japan: the folder names carry the day.
                    let today = format!("madoguchi-{}", &crate::clock::jst_stamp()[..8]);
                    let done_today = list(&d)?.iter().any(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(&today))
                    });
                    if done_today {
                        return Ok(None);
                    }
                    let made = make(&s, &d)?;
                    prune(&d, keep)?;
                    Ok(Some(made))
                })
                .await;
            match made {
                Ok(Ok(Some(dir))) => tracing::info!(backup = %dir.display(), "daily backup made"),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "daily backup failed; retrying in an hour")
                }
                Err(_) => {}
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
}
