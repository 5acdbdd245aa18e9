//! `POST /api/admin`: the operator's command-line work from 設定, for a signed-in admin —
//! paired terminals and their revocation, backups (make, list with a check, restore while
//! serving), a new server certificate, the audit log (verify, one person's day) and the
//! receipt computer's CSV of a day from the whole ledger (`bridge export`). Each
//! change is audited with the admin as the person, as `bridge staff` changes are.
//!
//! Left to the command line on purpose: a new CA (every tablet must install it again — from a
//! tablet, that would cut the tablet off mid-way) and the work that needs files on the PC
//! (bookings import, the policy table, card and gateway tools).

use super::security::{self, Signed};
use super::{blocking, error_reply, AppState};
use crate::store::By;
use protocol::{AdminReply, AdminRequest, AdminRow};
use std::path::PathBuf;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

/// Where `serve` keeps its backups (`backup_dir`, `backup_keep`, `backup_key`).
#[derive(Debug, Clone)]
pub struct BackupPlace {
    pub dir: PathBuf,
    pub keep: usize,
    pub key: Option<PathBuf>,
}

/// The running listener's certificates: where they live, the names they cover and the
/// acceptor new connections get (swapped on rotation; open connections keep theirs).
#[derive(Clone)]
pub struct TlsReach {
    pub dir: PathBuf,
    pub names: Vec<String>,
    pub shared: super::tls::SharedAcceptor,
}

/// What the admin routes reach beyond the store (`serve` fills it; tests may leave it empty).
#[derive(Debug, Clone, Default)]
pub struct AdminReach {
    pub backups: Option<BackupPlace>,
    pub tls: Option<TlsReach>,
    /// The 一括照会's peer and settings (the evening run's).
    pub bulk: Option<(crate::gateway::bulk::BulkPeer, crate::gateway::bulk::BulkConfig)>,
}

/// The bytes of `hex` (two digits a byte), or `None`.
fn from_hex(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.as_bytes();
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()).collect()
}

impl std::fmt::Debug for TlsReach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The acceptor holds the key: never printed.
        f.debug_struct("TlsReach").field("dir", &self.dir).field("names", &self.names).finish()
    }
}

type Refusal = (StatusCode, &'static str, String);

fn refuse<T>(
    status: StatusCode,
    code: &'static str,
    message: impl Into<String>,
) -> Result<T, Refusal> {
    Err((status, code, message.into()))
}

fn failed(e: impl std::fmt::Display) -> Refusal {
    (StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string())
}

fn said(text: impl Into<String>) -> AdminReply {
    AdminReply { said: text.into(), ..AdminReply::default() }
}

fn backup_place(s: &AppState) -> Result<&BackupPlace, Refusal> {
    s.admin.backups.as_ref().ok_or((
        StatusCode::CONFLICT,
        "no_backup_dir",
        "バックアップ先がありません。bridge.toml に backup_dir（別のディスクかNAS）を書いて再起動してください / no backup folder: set backup_dir in bridge.toml and restart".into(),
    ))
}

fn backup_key(place: &BackupPlace) -> Result<Option<crate::backup::BackupKey>, Refusal> {
    place
        .key
        .as_deref()
        .map(crate::backup::BackupKey::read)
        .transpose()
        .map_err(|e| (StatusCode::CONFLICT, "backup_key", e.to_string()))
}

fn folder_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// One admin request, run off the async threads.
pub(super) fn handle(
    s: &AppState,
    who: &Signed,
    req: &AdminRequest,
) -> Result<AdminReply, Refusal> {
    if who.person.as_ref().map(|p| p.role.as_str()) != Some("admin") {
        return refuse(StatusCode::FORBIDDEN, "admin_only", "管理者だけができます / admins only");
    }
    let store = &s.store;
    let by = By { actor: &who.device, person: who.person_id() };
    match req {
        AdminRequest::Devices => {
            let rows = store
                .devices()
                .map_err(failed)?
                .into_iter()
                .map(|d| {
                    let state = match (&d.revoked_time, d.device_id == who.device) {
                        (Some(_), _) => "取消済み / revoked",
                        (None, true) => "この端末 / this terminal",
                        (None, false) => "有効 / active",
                    };
                    let since = d.created_time.get(..10).unwrap_or_default();
                    AdminRow {
                        text: format!("{} — {since} — {state}", d.name), key: d.device_id
                    }
                })
                .collect();
            Ok(AdminReply { rows, ..AdminReply::default() })
        }
        AdminRequest::Revoke { device_id } => {
            if *device_id == who.device {
                return refuse(StatusCode::CONFLICT, "self", "この端末自身は取り消せません。別の端末かコマンドラインで / you cannot revoke the terminal you are using");
            }
            if store.revoke(device_id, by).map_err(failed)? {
                Ok(said("ペアリングを取り消しました。その端末はもう送受信できません / revoked: that terminal can no longer connect"))
            } else {
                refuse(
                    StatusCode::NOT_FOUND,
                    "unknown_device",
                    "有効な端末ではありません / no such active terminal",
                )
            }
        }
        AdminRequest::Backups => {
            let place = backup_place(s)?;
            let key = backup_key(place)?;
            let mut found = crate::backup::list(&place.dir).map_err(failed)?;
            found.reverse();
            let rows = found
                .iter()
                .map(|path| {
                    let text = match crate::backup::verify(path, key.as_ref()) {
                        Ok(m) => format!(
                            "{} — 受付などの記録 {} 件 / {} events — 確認OK / checked{}",
                            folder_name(path),
                            m.events,
                            m.events,
                            if m.encrypted_with.is_some() {
                                " — 暗号化 / encrypted"
                            } else {
                                ""
                            }
                        ),
                        Err(e) => format!("{} — 使えません / unusable: {e}", folder_name(path)),
                    };
                    AdminRow { key: folder_name(path), text }
                })
                .collect();
            Ok(AdminReply {
                said: format!("バックアップ先 / folder: {}", place.dir.display()),
                rows,
                ..AdminReply::default()
            })
        }
        AdminRequest::Backup => {
            let place = backup_place(s)?;
            let key = backup_key(place)?;
            let made = crate::backup::make(store, &place.dir, key.as_ref(), by).map_err(failed)?;
            crate::backup::prune(&place.dir, place.keep.max(1)).map_err(failed)?;
            Ok(said(format!(
                "バックアップしました / backed up: {}（この PC 以外にも1部、オフラインで保管してください / keep one copy offline, off this PC）",
                folder_name(&made)
            )))
        }
        AdminRequest::Restore { name, confirm } => {
            let place = backup_place(s)?;
            if confirm != name {
                return refuse(StatusCode::UNPROCESSABLE_ENTITY, "confirm", "確認のため、バックアップ名をそのまま入力してください / type the backup's name to confirm");
            }
            let from = crate::backup::list(&place.dir)
                .map_err(failed)?
                .into_iter()
                .find(|p| folder_name(p) == *name);
            let Some(from) = from else {
                return refuse(
                    StatusCode::NOT_FOUND,
                    "unknown_backup",
                    "そのバックアップはありません / no such backup",
                );
            };
            let key = backup_key(place)?;
            match crate::backup::restore_live(store, &from, key.as_ref(), by) {
                Ok(m) => {
                    // Face results recorded after the copy are read from face/ again (the
                    // store keeps each file once; those it has again are dropped).
                    s.gateway.redeliver();
                    Ok(said(format!(
                    "復元しました（記録 {} 件）。各端末が失われた受付を自動で送り直します。バックアップ後のペアリングとパスキーは失われたので、必要ならやり直してください / restored ({} events): terminals send again what it lacks; pairings and passkeys made after the backup are gone",
                    m.events, m.events
                )))
                }
                Err(e @ crate::backup::BackupError::Store(_))
                | Err(e @ crate::backup::BackupError::Io(_)) => Err(failed(e)),
                Err(e) => refuse(StatusCode::UNPROCESSABLE_ENTITY, "backup_refused", e.to_string()),
            }
        }
        AdminRequest::RotateTls => {
            let Some(tls) = &s.admin.tls else {
                return refuse(
                    StatusCode::CONFLICT,
                    "no_tls",
                    "このブリッジは証明書を使っていません / no TLS listener here",
                );
            };
            let certs = super::tls::ensure_with(
                &tls.dir,
                &tls.names,
                super::tls::Rotate { leaf: true, ca: false },
            )
            .map_err(failed)?;
            let acceptor = super::tls::acceptor(&certs).map_err(failed)?;
            if let Ok(mut slot) = tls.shared.write() {
                *slot = acceptor;
            }
            store.audit_by(by.actor, by.person, "tls_rotated", "leaf").map_err(failed)?;
            Ok(said(format!(
                "新しいサーバー証明書にしました（{} 日間）。CA は同じなのでタブレットの設定はそのままです / a new server certificate ({} days); the CA is unchanged, tablets need nothing",
                super::tls::LEAF_DAYS,
                super::tls::LEAF_DAYS
            )))
        }
        AdminRequest::AuditVerify => Ok(said(match store.verify_audit() {
            Ok(n) => format!("監査ログ OK / audit log intact: {n} 行 / rows"),
            Err(e) => e.to_string(),
        })),
        AdminRequest::AuditShow { person, date } => {
            let Some(member) = store.staff_member(person).map_err(failed)? else {
                return refuse(
                    StatusCode::NOT_FOUND,
                    "unknown_staff",
                    "その職員はいません / no such staff member",
                );
            };
            let Ok(day) = eligibility::Date::parse(date) else {
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_input",
                    "日付は YYYY-MM-DD で / the date as YYYY-MM-DD",
                );
            };
            let names: std::collections::HashMap<String, String> = store
                .devices()
                .map_err(failed)?
                .into_iter()
                .map(|d| (d.device_id, d.name))
                .collect();
            let rows: Vec<AdminRow> = store
                .audit_of(&member.staff_id, day)
                .map_err(failed)?
                .into_iter()
                .map(|r| {
                    let device = names.get(&r.actor).map_or(r.actor.as_str(), String::as_str);
                    let time = crate::clock::jst_time_of_day(&r.time).unwrap_or_default();
                    AdminRow {
                        key: String::new(),
                        text: format!("{time} {device} {} {}", r.action, r.subject),
                    }
                })
                .collect();
            // Reading someone's trail is itself an access worth recording.
            let subject: String = format!("{} {day}", member.name).chars().take(80).collect();
            store.audit_by(by.actor, by.person, "audit_viewed", &subject).map_err(failed)?;
            Ok(AdminReply {
                said: format!("{}（{}）{day}: {} 件 / rows", member.name, member.role, rows.len()),
                rows,
                ..AdminReply::default()
            })
        }
        AdminRequest::ImportBookings { csv_hex } => {
            let Some(bytes) = from_hex(csv_hex) else {
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_input",
                    "ファイルを読めませんでした / the file did not arrive whole",
                );
            };
            let parsed = match crate::bookings::parse(&bytes) {
                Ok(parsed) => parsed,
                Err(e) => {
                    return refuse(StatusCode::UNPROCESSABLE_ENTITY, "bad_csv", e.to_string())
                }
            };
            let new = store.import_bookings(&parsed.bookings).map_err(failed)?;
            store
                .audit_by(
                    by.actor,
                    by.person,
                    "bookings_import",
                    &format!("{} rows", parsed.bookings.len()),
                )
                .map_err(failed)?;
            let rows = parsed
                .errors
                .iter()
                .map(|e| AdminRow {
                    key: String::new(),
                    text: format!("{} 行目 / line {}: {}", e.line, e.line, e.reason),
                })
                .collect();
            Ok(AdminReply {
                said: format!(
                    "取り込み {} 件（新規 {new} 件）、エラー {} 件 / imported {} ({new} new), {} rows refused",
                    parsed.bookings.len(),
                    parsed.errors.len(),
                    parsed.bookings.len(),
                    parsed.errors.len()
                ),
                rows,
                ..AdminReply::default()
            })
        }
        AdminRequest::BulkRun { date } => {
            let Some((peer, config)) = s.admin.bulk.clone() else {
                return refuse(
                    StatusCode::CONFLICT,
                    "no_bulk",
                    "このブリッジは一括照会を行いません / no 一括照会 here",
                );
            };
            let day = if date.is_empty() {
                eligibility::Date::from_day_number(crate::clock::today_jst().day_number() + 1)
            } else {
                eligibility::Date::parse(date).ok()
            };
            let Some(day) = day else {
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_input",
                    "日付は YYYY-MM-DD で / the date as YYYY-MM-DD",
                );
            };
            let underway = store.bulk_run(day).map_err(failed)?.is_some_and(|r| {
                matches!(
                    r.step,
                    crate::store::BulkStep::Uploaded | crate::store::BulkStep::Downloading
                )
            });
            if underway {
                return refuse(StatusCode::CONFLICT, "bulk_underway", "その日の一括照会は実行中です。予約画面で結果を待ってください / that day's 一括照会 is under way: wait for it on 予約");
            }
            let (store, actor, person) =
                (store.clone(), who.device.clone(), who.person_id().to_string());
            // Minutes of polling: the answer comes back through the store (予約 shows it).
            tokio::spawn(async move {
                let outcome = crate::gateway::bulk::run(&store, &peer, &config, day).await;
                let subject = match &outcome {
                    Ok(summary) => format!("{day}: {} stored", summary.stored),
                    Err(e) => format!("{day}: stopped ({e})").chars().take(120).collect(),
                };
                let _ = store.audit_by(&actor, &person, "bulk_run", &subject);
            });
            Ok(said(format!("{day} の一括照会を始めました。結果は予約画面に出ます / the 一括照会 for {day} started: its results appear on 予約")))
        }
        AdminRequest::Export { date, training } => {
            let Ok(day) = eligibility::Date::parse(date) else {
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_input",
                    "日付は YYYY-MM-DD で / the date as YYYY-MM-DD",
                );
            };
            let (rows, unreadable) = super::cli::export_rows(store, day, 0, *training)
                .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, "export_refused", e.to_string()))?;
            let what = if *training { "training" } else { "real" };
            store
                .audit_by(
                    by.actor,
                    by.person,
                    "export",
                    &format!("{day} {what} {} rows", rows.len()),
                )
                .map_err(failed)?;
            let mut text =
                format!("{day}: {} 件を書き出しました / {} rows exported", rows.len(), rows.len());
            if !unreadable.is_empty() {
                text.push_str(&format!("（読めない記録 {} 件: bridge export で確認してください / {} unreadable events: see bridge export）", unreadable.len(), unreadable.len()));
            }
            Ok(AdminReply { said: text, rows: Vec::new(), file: reception::export::csv(&rows) })
        }
    }
}

pub(super) fn routes(
    state: &AppState,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone {
    let with_state = {
        let state = state.clone();
        warp::any().map(move || state.clone())
    };
    let host = security::host(state.allowed.clone());
    let origin = security::origin(state.allowed.clone());
    let signed = security::signed(state.store.clone());
    warp::path!("api" / "admin")
        .and(host)
        .and(origin)
        .and(warp::post())
        .and(signed)
        // A booking CSV in hex: a clinic's day is kilobytes; 2 MiB is a large hospital's month.
        .and(warp::body::content_length_limit(2 * 1024 * 1024))
        .and(warp::body::json())
        .and(with_state)
        .and_then(|who: Signed, req: AdminRequest, s: AppState| async move {
            let result = blocking(move || handle(&s, &who, &req)).await?;
            Ok::<_, Rejection>(match result {
                Ok(body) => warp::reply::json(&body).into_response(),
                Err((status, code, message)) => error_reply(status, code, &message),
            })
        })
        .boxed()
}
