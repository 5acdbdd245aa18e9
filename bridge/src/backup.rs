//! Backups a clinic can restore: a consistent copy of the ledger made while serving (SQLite's
//! online backup API), with a manifest that lets a restore refuse a damaged or altered copy.
//!
//! A backup is a folder `madoguchi-YYYYMMDD-HHMMSS/` holding `madoguchi.sqlite3` and
//! `manifest.json` (when, how many events, the last seq, the audit log's rows and head, the
//! copy's size and SHA-256). `restore` checks the checksum, opens the copy and recomputes the
//! audit chain and the counts before anything in the data directory is touched.
//!
//! With a key file (`bridge backup --new-key FILE`, kept apart from the backups) the copy is
//! `madoguchi.sqlite3.enc`: XChaCha20-Poly1305, a fresh 24-byte nonce first, the key's id in
//! the manifest; a restore without the key, with another key or of an altered file is refused.
//!
//! Terminals notice a restored bridge is behind their own ledger (a pull answer's
//! `last_seq` below their checkpoint) and send what it lost again (`frontend::sync`).

use crate::store::{By, Store, StoreError};
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
    /// The id of the key the copy is encrypted with (`None`: not encrypted).
    #[serde(default)]
    pub encrypted_with: Option<String>,
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
    #[error("このバックアップは鍵 {0} で暗号化されています。--key で鍵ファイルを指定してください / encrypted with key {0}: pass it with --key")]
    KeyNeeded(String),
    #[error("鍵ファイルが違います（バックアップは鍵 {expected}、指定は {given}）/ wrong key file")]
    WrongKey { expected: String, given: String },
    #[error("鍵ファイル {0} を読めません（64桁の16進数）。bridge backup --new-key で作れます / unreadable key file (64 hex digits)")]
    Key(PathBuf),
    #[error("暗号化されたバックアップを復号できません（改ざんか破損）。別のバックアップを使ってください / cannot decrypt: altered or damaged")]
    Decrypt,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ファイルの読み書きに失敗しました: {0} / file error")]
    Io(#[from] std::io::Error),
}

const DB: &str = "madoguchi.sqlite3";
const ENCRYPTED: &str = "madoguchi.sqlite3.enc";
const NONCE: usize = 24;

/// A backup key: 32 bytes, kept as 64 hex digits in a file of its own.
pub struct BackupKey(chacha20poly1305::Key);

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BackupKey({})", self.id()) // the id only, never the key
    }
}

impl BackupKey {
    /// The first 8 hex digits of the key's SHA-256: names the key without revealing it.
    pub fn id(&self) -> String {
        sha2::Sha256::digest(self.0.as_slice()).iter().take(4).map(|b| format!("{b:02x}")).collect()
    }

    pub fn read(path: &Path) -> Result<BackupKey, BackupError> {
        let text =
            std::fs::read_to_string(path).map_err(|_| BackupError::Key(path.to_path_buf()))?;
        let hex = text.trim();
        let bytes: Option<Vec<u8>> = (hex.len() == 64)
            .then(|| {
                (0..32).map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()).collect()
            })
            .flatten();
        let bytes = bytes.ok_or_else(|| BackupError::Key(path.to_path_buf()))?;
        let key = chacha20poly1305::Key::try_from(bytes.as_slice())
            .map_err(|_| BackupError::Key(path.to_path_buf()))?;
        Ok(BackupKey(key))
    }

    /// Makes a new key file (never over an existing one); returns the key's id.
    pub fn create(path: &Path) -> Result<String, BackupError> {
        use chacha20poly1305::aead::Generate as _;
        if path.exists() {
            return Err(BackupError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} はもうあります / exists already", path.display()),
            )));
        }
        let key = BackupKey(chacha20poly1305::Key::generate());
        let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(path, hex + "\n")?;
        // 0600, or on Windows the service account, SYSTEM and Administrators only.
        crate::server::tls::restrict_to_owner(path).map_err(std::io::Error::other)?;
        Ok(key.id())
    }

    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, BackupError> {
        use chacha20poly1305::aead::{Aead as _, Generate as _, KeyInit as _};
        let nonce = chacha20poly1305::XNonce::generate();
        let sealed = chacha20poly1305::XChaCha20Poly1305::new(&self.0)
            .encrypt(&nonce, plain)
            .map_err(|_| BackupError::Decrypt)?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, BackupError> {
        use chacha20poly1305::aead::{Aead as _, KeyInit as _};
        let (nonce, body) = sealed.split_at_checked(NONCE).ok_or(BackupError::Decrypt)?;
        let nonce = chacha20poly1305::XNonce::try_from(nonce).map_err(|_| BackupError::Decrypt)?;
        chacha20poly1305::XChaCha20Poly1305::new(&self.0)
            .decrypt(&nonce, body)
            .map_err(|_| BackupError::Decrypt)
    }
}
const MANIFEST: &str = "manifest.json";

fn sha256_file(path: &Path) -> Result<(String, u64), std::io::Error> {
    let bytes = std::fs::read(path)?;
    let hex = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, bytes.len() as u64))
}

/// Makes a backup of `store` in a new folder under `to` (encrypted with `key` if given);
/// returns the folder.
pub fn make(
    store: &Store,
    to: &Path,
    key: Option<&BackupKey>,
    by: By<'_>,
) -> Result<PathBuf, BackupError> {
    let stamp = crate::clock::jst_stamp();
    let name = format!("madoguchi-{}-{}", &stamp[..8], &stamp[8..]);
    let dir = to.join(&name);
    let part = to.join(format!(".{name}.part"));
    let _ = std::fs::remove_dir_all(&part);
    std::fs::create_dir_all(&part)?;
    let marks = store.backup_into(&part.join(DB))?;
    let file = match key {
        Some(key) => {
            let sealed = key.seal(&std::fs::read(part.join(DB))?)?;
            std::fs::write(part.join(ENCRYPTED), sealed)?;
            std::fs::remove_file(part.join(DB))?;
            ENCRYPTED
        }
        None => DB,
    };
    let (sha256, bytes) = sha256_file(&part.join(file))?;
    let manifest = Manifest {
        created: crate::clock::now_rfc3339(),
        events: marks.events,
        last_seq: marks.last_seq,
        audit_rows: marks.audit_rows,
        audit_head: marks.audit_head,
        bytes,
        sha256,
        version: env!("CARGO_PKG_VERSION").into(),
        encrypted_with: key.map(BackupKey::id),
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(std::io::Error::other)?;
    std::fs::write(part.join(MANIFEST), text + "\n")?;
    std::fs::rename(&part, &dir)?;
    store.audit_by(by.actor, by.person, "backup_made", &name)?;
    Ok(dir)
}

/// Checks a backup folder: manifest, checksum, (with the key) decryption, audit chain and
/// counts. Nothing is written into it (the check opens a scratch copy).
pub fn verify(from: &Path, key: Option<&BackupKey>) -> Result<Manifest, BackupError> {
    checked(from, key).map(|(manifest, _)| manifest)
}

/// [`verify`], also returning the database's bytes (decrypted).
fn checked(from: &Path, key: Option<&BackupKey>) -> Result<(Manifest, Vec<u8>), BackupError> {
    let manifest: Manifest = std::fs::read_to_string(from.join(MANIFEST))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| BackupError::Manifest(from.to_path_buf()))?;
    let file = if manifest.encrypted_with.is_some() { ENCRYPTED } else { DB };
    let (found, bytes) = sha256_file(&from.join(file))?;
    if found != manifest.sha256 || bytes != manifest.bytes {
        return Err(BackupError::Checksum { expected: manifest.sha256, found });
    }
    let db = match (&manifest.encrypted_with, key) {
        (None, _) => std::fs::read(from.join(DB))?,
        (Some(id), None) => return Err(BackupError::KeyNeeded(id.clone())),
        (Some(id), Some(key)) if *id != key.id() => {
            return Err(BackupError::WrongKey { expected: id.clone(), given: key.id() })
        }
        (Some(_), Some(key)) => key.open(&std::fs::read(from.join(ENCRYPTED))?)?,
    };
    let scratch = std::env::temp_dir().join(format!(
        "madoguchi-restore-check-{}-{}",
        std::process::id(),
        crate::clock::now_millis()
    ));
    std::fs::create_dir_all(&scratch)?;
    std::fs::write(scratch.join(DB), &db)?;
    let opened =
        Store::open(&scratch.join(DB)).and_then(|copy| Ok((copy.verify_audit(), copy.marks()?)));
    let _ = std::fs::remove_dir_all(&scratch);
    let (audit, marks) = opened?;
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
    Ok((manifest, db))
}

/// Restores the backup in `from` into `data_dir` (the bridge stopped). A data directory
/// with a ledger is replaced only with `force`, and its ledger is kept aside.
pub fn restore(
    from: &Path,
    data_dir: &Path,
    force: bool,
    key: Option<&BackupKey>,
) -> Result<Manifest, BackupError> {
    let (manifest, db) = checked(from, key)?;
    std::fs::create_dir_all(data_dir)?;
    let target = data_dir.join(DB);
    let mut kept = None;
    if target.exists() {
        let has_events = Store::open(&target)?.event_count()? > 0;
        if has_events && !force {
            return Err(BackupError::NotEmpty(data_dir.to_path_buf()));
        }
        let aside = data_dir.join(format!("{DB}.before-restore-{}", crate::clock::jst_stamp()));
        std::fs::rename(&target, &aside)?;
        // Its write-ahead log goes with it (after a crash it holds the newest changes; SQLite
        // finds it by the name beside the database).
        let wal = data_dir.join(format!("{DB}-wal"));
        if wal.exists() {
            std::fs::rename(&wal, format!("{}-wal", aside.display()))?;
        }
        kept = Some(aside);
    }
    for extra in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data_dir.join(format!("{DB}{extra}")));
    }
    std::fs::write(&target, db)?;
    let store = Store::open(&target)?;
    store.mark_restored(kept.as_deref())?;
    let name = from.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    store.audit("operator", "restored", &name)?;
    Ok(manifest)
}

/// Restores the backup in `from` into the ledger a running bridge serves (設定's 復元): the
/// same checks as [`restore`]; the current ledger is kept aside in the data directory
/// (`madoguchi.sqlite3.before-restore-…`) and the restore itself is audited in the restored
/// chain. Terminals notice the lower last seq on their next pull and send again what the
/// copy lacks.
pub fn restore_live(
    store: &Store,
    from: &Path,
    key: Option<&BackupKey>,
    by: By<'_>,
) -> Result<Manifest, BackupError> {
    let (manifest, db) = checked(from, key)?;
    let live = store.path().ok_or_else(|| BackupError::Manifest(from.to_path_buf()))?;
    let data_dir = live.parent().unwrap_or(Path::new("."));
    let stamp = crate::clock::jst_stamp();
    let scratch = data_dir.join(format!(".restore-{stamp}.sqlite3"));
    std::fs::write(&scratch, db)?;
    let aside = data_dir.join(format!("{DB}.before-restore-{stamp}"));
    let restored = store.restore_live(&scratch, &aside);
    let _ = std::fs::remove_file(&scratch);
    restored?;
    let name = from.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    store.audit_by(by.actor, by.person, "restored", &name)?;
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
pub fn spawn_daily(store: Store, dir: PathBuf, keep: usize, key: Option<PathBuf>) {
    tokio::spawn(async move {
        loop {
            let (s, d, key_file) = (store.clone(), dir.clone(), key.clone());
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
                    let key = key_file.as_deref().map(BackupKey::read).transpose()?;
                    let made = make(&s, &d, key.as_ref(), By::OPERATOR)?;
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
