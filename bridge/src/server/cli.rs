//! `bridge serve`, `bridge pair`, `bridge devices …`, `bridge audit verify`.

use super::{routes, Allowed, AppState, Assets};
use crate::cli::{AuditCommand, DevicesCommand, Outcome, ServeArgs};
use crate::config::{Config, GatewayKind};
use crate::gateway::folder::{FolderConfig, FolderGateway};
use crate::gateway::sim::{Sim, SimGateway};
use crate::gateway::Backend;
use crate::store::Store;
use anyhow::{Context as _, Result};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The data directory: `--data-dir`, else `MADOGUCHI_DATA`, else the platform's.
pub fn data_dir(arg: &Option<PathBuf>) -> PathBuf {
    if let Some(dir) = arg {
        return dir.clone();
    }
    if let Some(dir) = std::env::var_os("MADOGUCHI_DATA") {
        return PathBuf::from(dir);
    }
    if let Some(appdata) = std::env::var_os("APPDATA") {
        return PathBuf::from(appdata).join("madoguchi");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".local/share"))
        .join("madoguchi")
}

pub fn open_store(dir: &Path) -> Result<Store> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "データディレクトリ {} を作れません / cannot create the data directory",
            dir.display()
        )
    })?;
    Ok(Store::open(&dir.join("madoguchi.sqlite3"))?)
}

/// The settings `serve` runs with: defaults → file → environment → flags.
pub fn serve_config(args: &ServeArgs, dir: &Path) -> Result<Config> {
    let config =
        Config::load(args.config.as_deref(), dir)?.apply_env(|name| std::env::var(name).ok())?;
    Ok(args.apply(config).validated()?)
}

/// The gateway backend the settings name (inside the runtime: the folder watcher spawns).
/// The folder gateway keeps its copies in `dir` and skips the `face/` files `store` has
/// read before.
pub fn backend(config: &Config, dir: &Path, store: &Store) -> Result<Backend> {
    Ok(match config.gateway_kind() {
        GatewayKind::Sim => Backend::Sim(
            SimGateway::new(Arc::new(Sim::new(crate::clock::today_jst())))
                .with_faults_dir(dir.to_path_buf()),
        ),
        GatewayKind::Folder => {
            let root = config.folder.clone().ok_or(crate::config::ConfigError::FolderMissing)?;
            let mut folder = FolderConfig::new(root);
            folder.medical_institution_code = config.institution_code().to_string();
            folder.timeout = config.lookup_timeout();
            folder.data_dir = Some(dir.to_path_buf());
            folder.archive_copies = config.archive_copies;
            folder.known_face_files = store.seen_face_files()?;
            Backend::Folder(FolderGateway::start(folder)?)
        }
    })
}

/// Where `serve` listens: loopback, and each LAN name's own addresses (an address as
/// given, a DNS name as it resolves here) — never 0.0.0.0.
pub fn listen_addrs(port: u16, lan_names: &[String]) -> Result<Vec<SocketAddr>> {
    use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
    let mut addrs = vec![SocketAddr::from((Ipv4Addr::LOCALHOST, port))];
    for name in lan_names {
        let bare = name.trim_matches(['[', ']']);
        let found: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => (bare, port)
                .to_socket_addrs()
                .with_context(|| {
                    format!("LAN 名 {name} を引けません / cannot resolve the LAN name {name}")
                })?
                .collect(),
        };
        for addr in found {
            anyhow::ensure!(
                !addr.ip().is_unspecified(),
                "LAN 名に 0.0.0.0 / :: は使えません。タブレットが使うアドレスを書いてください / a LAN name must be an address tablets use, not {addr}"
            );
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    Ok(addrs)
}

/// The names the leaf certificate carries (and the CA is constrained to).
pub fn certificate_names(lan_names: &[String]) -> Vec<String> {
    let mut names = super::tls::loopback_names();
    names.extend(lan_names.iter().map(|n| n.trim_matches(['[', ']']).to_string()));
    names
}

pub fn serve(args: &ServeArgs, out: &mut dyn Write) -> Result<Outcome> {
    let dir = data_dir(&args.data_dir);
    let store = open_store(&dir)?;
    let config = serve_config(args, &dir)?;
    // One table for the whole clinic: decided once, before anything decides by it.
    let (policy, source) = crate::policy_table::load(config.policy.as_deref())?;
    if let crate::policy_table::Source::Override { file } = &source {
        tracing::warn!(file = %file, version = policy.version, "policy override in force");
    }
    crate::policy_table::install(policy, source);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let gateway = Arc::new(backend(&config, &dir, &store)?);
        store.set_training(gateway.training());
        if gateway.training() {
            tracing::warn!("練習モード / TRAINING: the simulator answers; nothing here is a real confirmation");
        }
        let mut state =
            AppState::new(store, gateway, Allowed::for_port(config.port, &config.lan_names));
        if let Some(frontend) = &config.frontend {
            state.assets = Arc::new(Assets::from_dir(frontend).with_context(|| {
                format!("フロントエンド {} を読めません / cannot read the frontend", frontend.display())
            })?);
        }
        #[cfg(feature = "test-doubles")]
        if let Some(spec) = &args.simulate_usb_reader {
            let sim = super::dev_usb::DevUsb::from_spec(spec, crate::clock::today_jst())
                .map_err(anyhow::Error::msg)?;
            state.dev_usb = Some(Arc::new(std::sync::Mutex::new(sim)));
            tracing::warn!("a simulated USB reader is on (--simulate-usb-reader): tests and demos only");
        }
        // 一括照会 and 照会番号 talk to the same peer as lookups: the folder, or the
        // simulator that answers them (so its answers carry what was registered).
        use crate::gateway::bulk::{spawn_evening, BulkConfig, BulkPeer};
        let peer = match (&*state.gateway, &config.folder) {
            (crate::gateway::Backend::Folder(_), Some(folder)) => BulkPeer::Folder(folder.clone()),
            (crate::gateway::Backend::Sim(g), _) => BulkPeer::Sim(g.sim.clone()),
            _ => BulkPeer::Sim(Arc::new(Sim::new(crate::clock::today_jst()))),
        };
        let bulk = BulkConfig {
            medical_institution_code: config.institution_code().to_string(),
            poll: std::time::Duration::from_secs(10),
            answer_timeout: config.lookup_timeout().max(std::time::Duration::from_secs(120)),
            max_polls: 360,
            archive: dir.join("bulk"),
        };
        state.registrar = Some(crate::gateway::register::Registrar::spawn(
            state.store.clone(),
            peer.clone(),
            bulk.clone(),
        ));
        super::forward_events(&state);
        state.admin.bulk = Some((peer.clone(), bulk.clone()));
        if let Some(at) = config.bulk_minutes() {
            spawn_evening(state.store.clone(), peer, bulk, at);
        }
        if let Some(backups) = &config.backup_dir {
            state.admin.backups = Some(super::BackupPlace {
                dir: backups.clone(),
                keep: config.backup_keep.max(1) as usize,
                key: config.backup_key.clone(),
            });
            crate::backup::spawn_daily(
                state.store.clone(),
                backups.clone(),
                config.backup_keep.max(1) as usize,
                config.backup_key.clone(),
            );
        }
        crate::follow_up::spawn(
            state.clone(),
            crate::follow_up::Pacing {
                interval: config.follow_up_interval(),
                max_days: config.follow_up_max_days,
            },
            state.follow_up_nudge.clone(),
        );
        // Loopback, and the configured LAN addresses only: never every interface.
        let mut listeners = Vec::new();
        for addr in listen_addrs(config.port, &config.lan_names)? {
            listeners.push(tokio::net::TcpListener::bind(addr).await.with_context(|| {
                format!("ポート {} を使えません / cannot listen on {addr}", config.port)
            })?);
        }
        let names = certificate_names(&config.lan_names);
        let tls_dir = dir.join("tls");
        let certs = super::tls::ensure(&tls_dir, &names)?;
        state.ca_sha256 = Some(super::tls::ca_fingerprint(&certs.ca_pem)?);
        state.lock_after_s = config.lock_after_minutes.clamp(1, 60) * 60;
        state.tablet_address = config
            .lan_names
            .first()
            .map(|name| (name.trim_matches(['[', ']']).to_string(), config.port));
        let acceptor: super::tls::SharedAcceptor =
            Arc::new(std::sync::RwLock::new(super::tls::acceptor(&certs)?));
        state.admin.tls = Some(super::TlsReach {
            dir: tls_dir.clone(),
            names: names.clone(),
            shared: acceptor.clone(),
        });
        super::tls::spawn_renewal(tls_dir, names, acceptor.clone());
        let training = if state.gateway.training() { "; 練習モード / TRAINING" } else { "" };
        writeln!(
            out,
            "madoguchi bridge: https://localhost:{port} (kiosk: http://localhost:{port}; gateway: {}{training}; data: {})",
            state.gateway.name(),
            dir.display(),
            port = config.port,
        )?;
        out.flush()?;
        let routes = routes(state.clone());
        let mut rest = listeners.split_off(1);
        for listener in rest.drain(..) {
            tracing::info!(addr = ?listener.local_addr().ok(), "serving");
            tokio::spawn(super::tls::serve(listener, acceptor.clone(), routes.clone(), std::future::pending()));
        }
        let first = listeners.pop().context("no address to listen on")?;
        tracing::info!(addr = ?first.local_addr().ok(), gateway = state.gateway.name(), "serving");
        super::tls::serve(first, acceptor, routes, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Done)
}

pub fn pair(
    data: &Option<PathBuf>,
    qr_name: Option<&str>,
    minutes: u32,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let dir = data_dir(data);
    // The link needs the LAN name before a code is spent.
    let link = qr_name.map(|name| pairing_link(&dir, name)).transpose()?;
    let store = open_store(&dir)?;
    let code = store.new_pairing_code(i64::from(minutes) * 60)?;
    writeln!(
        out,
        "ペアリングコード / pairing code: {code}  ({minutes}分間・1回限り / valid {minutes} minutes, once)"
    )?;
    if let Some(mut link) = link {
        link.code = code;
        let url = link.url();
        writeln!(out, "{}", super::pairing::qr_for_terminal(&url)?)?;
        writeln!(
            out,
            "タブレットのカメラで読み取ってください / scan with the tablet's camera:\n{url}"
        )?;
        writeln!(out, "CA SHA-256: {}", super::tls::fingerprint_for_people(&link.ca_sha256))?;
    }
    Ok(Outcome::Done)
}

/// The pairing link of this bridge (without a code yet): its first LAN name and port, and
/// the fingerprint of its CA (made now if there is none; the leaf is left alone).
fn pairing_link(dir: &Path, name: &str) -> Result<super::pairing::PairingLink> {
    let config = Config::load(None, dir)?.apply_env(|name| std::env::var(name).ok())?;
    let host = config.lan_names.first().cloned().context(
        "LAN 名がありません。bridge.toml の lan_names（または --lan-name）にタブレットが使うアドレスを書いてください / no LAN name: set lan_names to the address tablets use",
    )?;
    let ca = super::tls::ensure_ca(
        &dir.join("tls"),
        &certificate_names(&config.lan_names),
        Default::default(),
    )?;
    Ok(super::pairing::PairingLink {
        host: host.trim_matches(['[', ']']).to_string(),
        port: config.port,
        code: String::new(),
        ca_sha256: super::tls::ca_fingerprint(&ca)?,
        device_name: super::pairing::link_safe_name(name),
    })
}

/// `bridge tls setup-sheet --out FILE`: the printed sheet (HTML) with a fresh code.
pub fn setup_sheet(
    data: &Option<PathBuf>,
    file: &Path,
    name: &str,
    minutes: u32,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let dir = data_dir(data);
    let mut link = pairing_link(&dir, name)?;
    let store = open_store(&dir)?;
    link.code = store.new_pairing_code(i64::from(minutes) * 60)?;
    let until = crate::clock::now_jst_minutes_after(minutes);
    std::fs::write(file, super::pairing::setup_sheet(&link, &until)?)
        .with_context(|| format!("{} に書けません / cannot write it", file.display()))?;
    writeln!(
        out,
        "設定シートを書きました（印刷してください）/ set-up sheet written: {} (code valid until {until})",
        file.display()
    )?;
    Ok(Outcome::Done)
}

/// `bridge backup --to DIR [--key FILE]`, or `--new-key FILE`.
pub fn backup(
    data: &Option<PathBuf>,
    to: Option<&Path>,
    key: Option<&Path>,
    new_key: Option<&Path>,
    out: &mut dyn Write,
) -> Result<Outcome> {
    use crate::backup::BackupKey;
    if let Some(path) = new_key {
        let id = BackupKey::create(path)?;
        writeln!(out, "鍵を作りました / key made: {} (id {id}) — バックアップとは別の場所に保管してください / keep it apart from the backups", path.display())?;
        return Ok(Outcome::Done);
    }
    let to = to.context("--to DIR")?;
    let key = key.map(BackupKey::read).transpose()?;
    let store = open_store(&data_dir(data))?;
    std::fs::create_dir_all(to)
        .with_context(|| format!("{} を作れません / cannot create it", to.display()))?;
    let made = crate::backup::make(&store, to, key.as_ref(), crate::store::By::OPERATOR)?;
    let manifest = crate::backup::verify(&made, key.as_ref())?;
    writeln!(
        out,
        "バックアップしました / backed up: {} ({} events, last seq {}, SHA-256 {})",
        made.display(),
        manifest.events,
        manifest.last_seq,
        manifest.sha256
    )?;
    Ok(Outcome::Done)
}

/// `bridge restore FROM [--force] [--check]`: exit 1 (and nothing changed) for a backup that
/// fails its checks or a data directory with a ledger without `--force`.
pub fn restore(
    data: &Option<PathBuf>,
    from: &Path,
    force: bool,
    check: bool,
    key: Option<&Path>,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let done = key.map(crate::backup::BackupKey::read).transpose().and_then(|key| {
        if check {
            crate::backup::verify(from, key.as_ref())
        } else {
            crate::backup::restore(from, &data_dir(data), force, key.as_ref())
        }
    });
    match done {
        Ok(m) => {
            let what = if check {
                "確認しました / checked"
            } else {
                "復元しました / restored"
            };
            writeln!(
                out,
                "{what}: {} ({} events, last seq {}, audit rows {})",
                from.display(),
                m.events,
                m.last_seq,
                m.audit_rows
            )?;
            Ok(Outcome::Done)
        }
        Err(e) => {
            writeln!(out, "{e}")?;
            Ok(Outcome::RuleSaysNo)
        }
    }
}

pub fn devices(
    data: &Option<PathBuf>,
    command: &DevicesCommand,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let store = open_store(&data_dir(data))?;
    match command {
        DevicesCommand::List => {
            for d in store.devices()? {
                let state = if d.revoked_time.is_some() { "revoked" } else { "active" };
                writeln!(
                    out,
                    "{}\t{}\t{}\t{state}\t{}",
                    d.device_id, d.name, d.created_time, d.role
                )?;
            }
            Ok(Outcome::Done)
        }
        DevicesCommand::Revoke { device_id } => {
            if store.revoke(device_id, crate::store::By::OPERATOR)? {
                writeln!(out, "revoked {device_id}")?;
                Ok(Outcome::Done)
            } else {
                writeln!(out, "no active device {device_id}")?;
                Ok(Outcome::RuleSaysNo)
            }
        }
    }
}

pub fn audit(
    data: &Option<PathBuf>,
    command: &AuditCommand,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let store = open_store(&data_dir(data))?;
    match command {
        AuditCommand::Verify => match store.verify_audit() {
            Ok(n) => {
                writeln!(out, "監査ログ OK / audit log intact: {n} rows")?;
                Ok(Outcome::Done)
            }
            Err(e) => {
                writeln!(out, "{e}")?;
                Ok(Outcome::RuleSaysNo)
            }
        },
        AuditCommand::Show { person, date } => {
            let Some(who) = store.staff_member(person)? else {
                writeln!(out, "職員 {person} はいません / no staff member {person}")?;
                return Ok(Outcome::RuleSaysNo);
            };
            let day = match date {
                Some(d) => {
                    eligibility::Date::parse(d).map_err(|e| anyhow::anyhow!("--date: {e}"))?
                }
                None => crate::clock::today_jst(),
            };
            let names: std::collections::HashMap<String, String> =
                store.devices()?.into_iter().map(|d| (d.device_id, d.name)).collect();
            let rows = store.audit_of(&who.staff_id, day)?;
            writeln!(out, "{} ({}) {day}: {} rows", who.name, who.role, rows.len())?;
            for r in rows {
                let device = names.get(&r.actor).map_or(r.actor.as_str(), String::as_str);
                let time = crate::clock::jst_time_of_day(&r.time).unwrap_or_default();
                writeln!(out, "{time}\t{device}\t{}\t{}", r.action, r.subject)?;
            }
            Ok(Outcome::Done)
        }
    }
}

pub fn staff(
    data: &Option<PathBuf>,
    command: &crate::cli::StaffCommand,
    out: &mut dyn Write,
) -> Result<Outcome> {
    use crate::cli::StaffCommand;
    let store = open_store(&data_dir(data))?;
    let find = |name: &str| store.staff_member(name);
    let code_line = |out: &mut dyn Write, name: &str, code: &str, minutes: u32| -> Result<()> {
        writeln!(out, "{name} の登録コード / enrolment code: {code}")?;
        writeln!(
            out,
            "有効期限 / valid until {} (JST)",
            crate::clock::now_jst_minutes_after(minutes)
        )?;
        writeln!(out, "端末のサインイン画面で「登録コード」に入力し、パスキーを作成してください / enter it on a terminal's sign-in screen and create a passkey")?;
        Ok(())
    };
    match command {
        StaffCommand::Add { name, role, minutes } => {
            let Some(added) = store.add_staff(name, role.as_str())? else {
                writeln!(out, "その名前の職員はすでにいます / a staff member named {name:?} exists (or the name is empty)")?;
                return Ok(Outcome::RuleSaysNo);
            };
            let code = store.enrolment_code(&added.staff_id, i64::from(*minutes) * 60, false)?;
            writeln!(out, "追加しました / added {} ({})", added.name, added.role)?;
            code_line(out, &added.name, &code, *minutes)?;
            Ok(Outcome::Done)
        }
        StaffCommand::List => {
            for p in store.staff()? {
                let state = if p.disabled_time.is_some() { "disabled" } else { "active" };
                writeln!(
                    out,
                    "{}\t{}\t{}\t{} passkey(s)\t{state}",
                    p.staff_id, p.name, p.role, p.passkeys
                )?;
            }
            Ok(Outcome::Done)
        }
        StaffCommand::Enrol { name, minutes } | StaffCommand::Recover { name, minutes } => {
            let recover = matches!(command, StaffCommand::Recover { .. });
            let Some(p) = find(name)?.filter(|p| p.disabled_time.is_none()) else {
                writeln!(out, "有効な職員 {name} はいません / no active staff member {name}")?;
                return Ok(Outcome::RuleSaysNo);
            };
            let code = store.enrolment_code(&p.staff_id, i64::from(*minutes) * 60, recover)?;
            if recover {
                writeln!(
                    out,
                    "{} のパスキーをすべて無効にしました / all of {}'s passkeys are disabled",
                    p.name, p.name
                )?;
            }
            code_line(out, &p.name, &code, *minutes)?;
            Ok(Outcome::Done)
        }
        StaffCommand::Disable { name } => {
            let disabled = match find(name)? {
                Some(p) => store.disable_staff(&p.staff_id)?,
                None => false,
            };
            if disabled {
                writeln!(out, "無効にしました / disabled {name}")?;
                Ok(Outcome::Done)
            } else {
                writeln!(out, "有効な職員 {name} はいません / no active staff member {name}")?;
                Ok(Outcome::RuleSaysNo)
            }
        }
    }
}

/// The certificate names of the settings in `dir` (bridge.toml and the environment).
fn configured_names(dir: &Path) -> Result<Vec<String>> {
    let config = Config::load(None, dir)?.apply_env(|name| std::env::var(name).ok())?;
    Ok(certificate_names(&config.lan_names))
}

/// `bridge tls export-ca`: the CA certificate for tablets to install (never the key).
pub fn export_ca(data: &Option<PathBuf>, out: &mut dyn Write) -> Result<Outcome> {
    let dir = data_dir(data);
    // Only the CA: exporting must not re-issue the leaf a running `serve` uses.
    let names = configured_names(&dir)?;
    write!(out, "{}", super::tls::ensure_ca(&dir.join("tls"), &names, Default::default())?)?;
    Ok(Outcome::Done)
}

/// `bridge tls rotate [--ca]`: a new leaf now (a running bridge picks it up at its next
/// check or restart); with `--ca` a new CA too, which every tablet must install again.
pub fn rotate(data: &Option<PathBuf>, ca: bool, out: &mut dyn Write) -> Result<Outcome> {
    let dir = data_dir(data);
    let names = configured_names(&dir)?;
    let tls = dir.join("tls");
    super::tls::ensure_with(&tls, &names, super::tls::Rotate { leaf: true, ca })?;
    let until = super::tls::leaf_expiry(&tls).unwrap_or(0);
    writeln!(
        out,
        "新しいサーバー証明書を発行しました（{} 日間）/ a new leaf certificate until unix {until}{}",
        super::tls::LEAF_DAYS,
        if ca { "; 新しいCA: タブレットに入れ直してください / new CA: install it on every tablet again" } else { "" }
    )?;
    let store = open_store(&dir)?;
    store.audit("operator", "tls_rotated", if ca { "leaf+ca" } else { "leaf" })?;
    Ok(Outcome::Done)
}

/// Every stored event, in seq order.
fn all_events(store: &Store) -> Result<Vec<protocol::StoredEvent>> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = store.pull(after, 500)?;
        after = page.next;
        events.extend(page.events);
        if !page.more {
            return Ok(events);
        }
    }
}

/// Text in Shift_JIS (Windows-31J); every character it cannot hold is returned with the
/// column it was in, and written as `&#NNNN;` so that nothing is lost.
fn shift_jis(text: &str) -> (Vec<u8>, Vec<char>) {
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    let missing = text
        .chars()
        .filter(|c| encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut [0; 4])).2)
        .collect();
    (bytes.into_owned(), missing)
}

/// `bridge export --date YYYY-MM-DD [--format csv|json] [--encoding utf-8|shift_jis]
/// [--since-seq N] [--training]`: the receptions of a visit day, one row per reception with
/// its corrections, void and claim decision applied (`reception::export`). Real receptions,
/// or with `--training` the 練習モード ones — never both: a training reception must not
/// reach a claim. A day with only the other kind is an error that says so.
pub fn export(
    args: &crate::cli::ExportArgs,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<Outcome> {
    use crate::cli::{ExportEncoding, ExportFormat};
    let day = eligibility::Date::parse(&args.date).context("--date")?;
    let store = open_store(&data_dir(&args.data_dir))?;
    let (rows, unreadable) = export_rows(&store, day, args.since_seq, args.training)?;
    for (seq, error) in &unreadable {
        writeln!(warnings, "seq {seq}: {error}")?;
    }
    let text = match args.format {
        ExportFormat::Csv => reception::export::csv(&rows),
        ExportFormat::Json => format!("{}\n", serde_json::to_string_pretty(&rows)?),
    };
    match args.encoding {
        ExportEncoding::Utf8 => {
            // Excel and most レセコン read a UTF-8 CSV as UTF-8 only with its BOM; JSON has none.
            if args.format == ExportFormat::Csv {
                out.write_all("\u{feff}".as_bytes())?;
            }
            out.write_all(text.as_bytes())?;
        }
        ExportEncoding::ShiftJis => {
            let (bytes, _) = shift_jis(&text);
            for row in &rows {
                for (column, cell) in reception::export::HEADER.iter().zip(row.cells()) {
                    for c in shift_jis(&cell).1 {
                        writeln!(
                            warnings,
                            "記録ID {} の{column}:「{c}」は Shift_JIS にないため &#{}; と出力しました。レセコンで直してください / {c:?} is not in Shift_JIS: written as &#{};",
                            row.record_id, c as u32, c as u32
                        )?;
                    }
                }
            }
            out.write_all(&bytes)?;
        }
    }
    let what = if args.training { "training" } else { "real" };
    store.audit("operator", "export", &format!("{day} {what} {} rows", rows.len()))?;
    Ok(Outcome::Done)
}

/// Events that could not be read: their seq and why.
pub(crate) type Unreadable = Vec<(u64, String)>;

/// The export rows of `day` from the whole ledger (real receptions, or with `training` the
/// 練習モード ones — never both), each with its terminal's name; and the events that could not
/// be read (seq, why). A day holding only the other kind is refused with what to do.
pub(crate) fn export_rows(
    store: &Store,
    day: eligibility::Date,
    since_seq: u64,
    training: bool,
) -> Result<(Vec<reception::export::Row>, Unreadable)> {
    let (states, unreadable) = reception::life::fold(&all_events(store)?);
    let of_day = reception::export::select(&states, day, since_seq);
    let (wanted, other): (Vec<_>, Vec<_>) =
        of_day.into_iter().partition(|s| s.training == training);
    if wanted.is_empty() && !other.is_empty() {
        if training {
            anyhow::bail!("{day} には練習モードの記録がありません（実際の記録だけです）。--training を外してください / {day} has no training receptions, only real ones: drop --training");
        }
        anyhow::bail!("{day} の記録は練習モード（シミュレーター）のものだけです。レセコンには渡せません。確認するなら --training / {day} holds only training (simulator) receptions, which must not reach the receipt computer: use --training to see them");
    }
    let names: std::collections::BTreeMap<String, String> =
        store.devices()?.into_iter().map(|d| (d.device_id, d.name)).collect();
    let rows = wanted
        .iter()
        .map(|s| {
            let device = names.get(&s.device_id).cloned().unwrap_or_else(|| s.device_id.clone());
            reception::export::row(s, &device)
        })
        .collect();
    let unreadable = unreadable.into_iter().map(|(seq, e)| (seq, e.to_string())).collect();
    Ok((rows, unreadable))
}

/// `bridge report usage`: the 利用状況 figures from the clinic's ledger.
pub fn report(
    data: &Option<PathBuf>,
    command: &crate::cli::ReportCommand,
    out: &mut dyn Write,
) -> Result<Outcome> {
    use crate::cli::{FacilityArg, ReportCommand, ReportFormat};
    let ReportCommand::Usage { month, facility, prefecture, pediatric, format } = command;
    let month = match month {
        Some(m) => eligibility::YearMonth::parse(m).context("--month YYYY-MM")?,
        None => crate::clock::today_jst().year_month(),
    };
    if prefecture.is_some_and(|p| !(1..=47).contains(&p)) {
        anyhow::bail!(
            "--prefecture は 1〜47 の都道府県番号です / --prefecture must be a JIS code 1–47"
        );
    }
    let facility = match facility {
        FacilityArg::Hospital => usage::Facility::Hospital,
        FacilityArg::Clinic => usage::Facility::Clinic,
        FacilityArg::Dental => usage::Facility::Dental,
        FacilityArg::Pharmacy => usage::Facility::Pharmacy,
    };
    let store = open_store(&data_dir(data))?;
    let events = all_events(&store)?;
    let report = usage::report(
        events
            .iter()
            .map(|e| (e.record_id.as_str(), e.kind.as_str(), e.device_time.as_str(), &e.body)),
        &usage::Benchmarks::embedded()?,
        &usage::Series::embedded()?,
        &crate::policy_table::effective()?,
        month,
        facility,
        *prefecture,
        *pediatric,
    );
    match format {
        ReportFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        ReportFormat::Csv => write!(out, "{}", report.to_csv())?,
    }
    store.audit("operator", "usage_report", &month.to_string())?;
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A LAN bind listens on loopback and the configured addresses, never on every
    /// interface.
    #[test]
    fn the_bridge_listens_on_loopback_and_the_configured_addresses_only() {
        let addrs =
            listen_addrs(8443, &["192.0.2.7".into(), "[fe80::1]".into(), "localhost".into()])
                .unwrap();
        let shown: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        assert!(shown.contains(&"127.0.0.1:8443".to_string()), "{shown:?}");
        assert!(shown.contains(&"192.0.2.7:8443".to_string()), "{shown:?}");
        assert!(shown.contains(&"[fe80::1]:8443".to_string()), "{shown:?}");
        assert!(addrs.iter().all(|a| !a.ip().is_unspecified()), "{shown:?}");
        assert!(listen_addrs(8443, &["0.0.0.0".into()]).is_err(), "0.0.0.0 is refused");
        assert_eq!(listen_addrs(8443, &[]).unwrap().len(), 1, "loopback only by default");
    }
}
