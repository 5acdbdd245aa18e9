//! `bridge backup` while a terminal pushes, `bridge restore` onto a fresh data directory,
//! and backups that must be refused (a damaged copy, an altered audit log, a manifest that
//! lies, a data directory that already has a ledger).

use e2e::bridge::{free_port, http, Serve};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_bridge");

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("madoguchi-backup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bridge(args: &[&str], data: &Path) -> (bool, String) {
    let out = Command::new(BIN).args(args).arg("--data-dir").arg(data).output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Ten receptions, ops `from..from+10`, as a terminal's outbox sends them.
fn batch(from: u32) -> String {
    let ops: Vec<serde_json::Value> = (from..from + 10)
        .map(|n| {
            serde_json::json!({
                "op_id": format!("op-{n}"), "record_id": format!("rec-{n}"), "kind": "reception",
                "device_time": "2026-12-02T09:00:00+09:00",
                "body": { "schema": 2, "presented": "myna_card", "established": "online_confirmation",
                          "status": "confirmed", "claim": { "plan": "normal" }, "visit": "2026-12-02" },
            })
        })
        .collect();
    serde_json::json!({ "ops": ops }).to_string()
}

/// Pushes ops `0..1000`; returns how many were created and how many were duplicates.
fn push_all(port: u16, token: &str, mut between: impl FnMut(u32)) -> (usize, usize) {
    let (mut created, mut duplicate) = (0, 0);
    for b in 0..100 {
        between(b);
        let (status, body) =
            http(port, "POST", "/api/sync/push", Some(token), &batch(b * 10)).unwrap();
        assert_eq!(status, 200, "{body}");
        created += body.matches("\"created\"").count();
        duplicate += body.matches("\"duplicate\"").count();
    }
    (created, duplicate)
}

fn event_count(data: &Path) -> u64 {
    let conn = rusqlite::Connection::open(data.join("madoguchi.sqlite3")).unwrap();
    conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

#[test]
fn a_backup_made_while_a_terminal_pushes_restores_and_the_terminal_resends_what_it_lost() {
    let (data, backups, fresh) = (temp("live"), temp("live-copies"), temp("live-fresh"));
    let port = free_port();
    let mut serve = Serve::start(Path::new(BIN), port, &data, &[]).unwrap();
    let token = serve.pair("受付1").unwrap();
    // The terminal pushes 1,000 receptions in batches of ten while the backup is made.
    let pusher = {
        let token = token.clone();
        std::thread::spawn(move || push_all(port, &token, |_| {}))
    };
    while event_count(&data) < 200 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let (ok, text) = bridge(&["backup", "--to", backups.to_str().unwrap()], &data);
    assert!(ok, "{text}");
    assert_eq!(pusher.join().unwrap(), (1000, 0));
    serve.kill();
    let copies = bridge::backup::list(&backups).unwrap();
    assert_eq!(copies.len(), 1);
    let manifest = bridge::backup::verify(&copies[0], None).unwrap();
    // One consistent state: whole batches (each push is one transaction), mid-way.
    let kept = manifest.events;
    assert!(kept >= 200 && kept.is_multiple_of(10), "{manifest:?}");
    assert!(text.contains(&format!("{kept} events")), "{text}");

    // The clinic's disk died: the backup goes into a new data directory.
    let (ok, text) = bridge(&["restore", copies[0].to_str().unwrap()], &fresh);
    assert!(ok, "{text}");
    assert_eq!(event_count(&fresh), kept);
    let (ok, text) = bridge(&["audit", "verify"], &fresh);
    assert!(ok, "{text}");
    // The terminal's token is in the backup; it sends what it has again (its outbox deletes
    // only on acknowledgement, and the op ids never change): what the bridge lost arrives,
    // what it kept is a duplicate.
    let port = free_port();
    let mut serve = Serve::start(Path::new(BIN), port, &fresh, &[]).unwrap();
    let (created, duplicate) = push_all(port, &token, |_| {});
    serve.kill();
    assert_eq!((created, duplicate), (1000 - kept as usize, kept as usize));
    assert_eq!(event_count(&fresh), 1000);
    for dir in [data, backups, fresh] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_damaged_or_altered_backup_is_refused_and_nothing_changes() {
    let (data, backups) = (temp("refuse"), temp("refuse-copies"));
    let port = free_port();
    let mut serve = Serve::start(Path::new(BIN), port, &data, &[]).unwrap();
    let token = serve.pair("受付1").unwrap();
    for b in 0..3 {
        http(port, "POST", "/api/sync/push", Some(&token), &batch(b * 10)).unwrap();
    }
    let (ok, text) = bridge(&["backup", "--to", backups.to_str().unwrap()], &data);
    assert!(ok, "{text}");
    serve.kill();
    let good = bridge::backup::list(&backups).unwrap().pop().unwrap();
    let copy_of = |name: &str| {
        let dir = backups.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["madoguchi.sqlite3", "manifest.json"] {
            std::fs::copy(good.join(f), dir.join(f)).unwrap();
        }
        dir
    };
    let refuses = |dir: &Path, needle: &str| {
        let target = temp(&format!("target-{}", dir.file_name().unwrap().to_string_lossy()));
        let (ok, text) = bridge(&["restore", dir.to_str().unwrap()], &target);
        assert!(!ok, "restored a bad backup: {text}");
        assert!(text.contains(needle), "{needle:?} not in {text}");
        assert!(!target.join("madoguchi.sqlite3").exists(), "the data directory was touched");
        let _ = std::fs::remove_dir_all(target);
    };

    // One byte flipped in the copy.
    let damaged = copy_of("damaged");
    let mut bytes = std::fs::read(damaged.join("madoguchi.sqlite3")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(damaged.join("madoguchi.sqlite3"), bytes).unwrap();
    refuses(&damaged, "SHA-256");

    // An audit row altered, and the manifest's checksum fixed to match: the chain fails.
    let altered = copy_of("altered");
    {
        let conn = rusqlite::Connection::open(altered.join("madoguchi.sqlite3")).unwrap();
        conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 1", []).unwrap();
        conn.execute_batch("PRAGMA journal_mode=DELETE").unwrap();
    }
    let reseal = |dir: &Path, edit: &dyn Fn(&mut serde_json::Value)| {
        let bytes = std::fs::read(dir.join("madoguchi.sqlite3")).unwrap();
        use sha2::Digest as _;
        let sha: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        let mut m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap())
                .unwrap();
        m["sha256"] = sha.into();
        m["bytes"] = (bytes.len() as u64).into();
        edit(&mut m);
        std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
    };
    reseal(&altered, &|_| {});
    refuses(&altered, "監査ログ");

    // A manifest that claims more than the copy holds.
    let lying = copy_of("lying");
    reseal(&lying, &|m| m["events"] = 1000.into());
    refuses(&lying, "マニフェストと合いません");

    // No manifest at all.
    let bare = copy_of("bare");
    std::fs::remove_file(bare.join("manifest.json")).unwrap();
    refuses(&bare, "manifest.json");

    // The good one restores, but not over a ledger without --force (which keeps it aside).
    let (ok, text) = bridge(&["restore", "--check", good.to_str().unwrap()], &data);
    assert!(ok, "{text}");
    let (ok, text) = bridge(&["restore", good.to_str().unwrap()], &data);
    assert!(!ok && text.contains("--force"), "{text}");
    let (ok, text) = bridge(&["restore", "--force", good.to_str().unwrap()], &data);
    assert!(ok, "{text}");
    let kept_aside = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains("before-restore"));
    assert!(kept_aside);
    assert_eq!(event_count(&data), 30);
    for dir in [data, backups] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn serve_keeps_the_newest_daily_backups() {
    let (data, backups) = (temp("daily"), temp("daily-copies"));
    // Older backups from earlier days (by name) beyond what is kept.
    for day in ["20261120-190000", "20261121-190000", "20261122-190000"] {
        let dir = backups.join(format!("madoguchi-{day}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("manifest.json"), "{}").unwrap();
    }
    std::fs::write(
        data.join("bridge.toml"),
        format!("backup_dir = {:?}\nbackup_keep = 2\n", backups.display().to_string()),
    )
    .unwrap();
    let port = free_port();
    let mut serve = Serve::start(Path::new(BIN), port, &data, &[]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let names = || -> Vec<String> {
        bridge::backup::list(&backups)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    while names().len() != 2 || names().contains(&"madoguchi-20261121-190000".to_string()) {
        assert!(std::time::Instant::now() < deadline, "no daily backup: {:?}", names());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    serve.kill();
    let kept = names();
    assert_eq!(kept[0], "madoguchi-20261122-190000");
    assert!(bridge::backup::verify(&backups.join(&kept[1]), None).is_ok());
    for dir in [data, backups] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn an_encrypted_backup_restores_only_with_its_key() {
    let (data, backups, keys) = (temp("sealed"), temp("sealed-copies"), temp("sealed-keys"));
    let port = free_port();
    let mut serve = Serve::start(Path::new(BIN), port, &data, &[]).unwrap();
    let token = serve.pair("受付1").unwrap();
    http(port, "POST", "/api/sync/push", Some(&token), &batch(0)).unwrap();
    let (key, other) = (keys.join("backup.key"), keys.join("other.key"));
    for k in [&key, &other] {
        let (ok, text) = bridge(&["backup", "--new-key", k.to_str().unwrap()], &data);
        assert!(ok, "{text}");
    }
    // A key file is never overwritten.
    assert!(!bridge(&["backup", "--new-key", key.to_str().unwrap()], &data).0);
    let (ok, text) = bridge(
        &["backup", "--to", backups.to_str().unwrap(), "--key", key.to_str().unwrap()],
        &data,
    );
    assert!(ok, "{text}");
    serve.kill();
    let copy = bridge::backup::list(&backups).unwrap().pop().unwrap();
    assert!(!copy.join("madoguchi.sqlite3").exists(), "no plain copy beside the sealed one");
    let sealed = std::fs::read(copy.join("madoguchi.sqlite3.enc")).unwrap();
    assert!(!sealed.windows(15).any(|w| w == b"SQLite format 3"), "the copy is not readable");
    let restore = |extra: &[&str]| {
        let target = temp("sealed-target");
        let mut args = vec!["restore", copy.to_str().unwrap()];
        args.extend_from_slice(extra);
        let result = bridge(&args, &target);
        let restored = target.join("madoguchi.sqlite3").exists();
        let _ = std::fs::remove_dir_all(target);
        (result, restored)
    };
    let ((ok, text), restored) = restore(&[]);
    assert!(!ok && !restored && text.contains("--key"), "{text}");
    let ((ok, text), restored) = restore(&["--key", other.to_str().unwrap()]);
    assert!(!ok && !restored && text.contains("鍵ファイルが違います"), "{text}");
    let ((ok, text), restored) = restore(&["--key", key.to_str().unwrap()]);
    assert!(ok && restored, "{text}");
    // One bit changed in the sealed file, manifest resealed: decryption refuses it.
    let mut altered = sealed.clone();
    let at = altered.len() - 1;
    altered[at] ^= 1;
    std::fs::write(copy.join("madoguchi.sqlite3.enc"), &altered).unwrap();
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(copy.join("manifest.json")).unwrap())
            .unwrap();
    use sha2::Digest as _;
    m["sha256"] = sha2::Sha256::digest(&altered)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into();
    std::fs::write(copy.join("manifest.json"), m.to_string()).unwrap();
    let ((ok, text), restored) = restore(&["--key", key.to_str().unwrap()]);
    assert!(!ok && !restored && text.contains("復号できません"), "{text}");
    for dir in [data, backups, keys] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
