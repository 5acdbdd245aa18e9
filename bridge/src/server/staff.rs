//! Staff routes: the roster a terminal shows on its sign-in screen, the two WebAuthn
//! ceremonies (enrolment with a code, sign-in), the lock and sign-out, and the audited
//! views a page reports (its own copy of the ledger).

use super::security::{self, Signed};
use super::{blocking, error_reply, AppState};
use crate::staff::StaffError;
use protocol::{CeremonyFinish, CeremonyRequest, StaffRoster};
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

fn refusal(e: &StaffError) -> warp::reply::Response {
    let status = match e {
        StaffError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        StaffError::NoRelyingParty => StatusCode::CONFLICT,
        _ => StatusCode::FORBIDDEN,
    };
    error_reply(status, e.code(), &e.to_string())
}

fn reply<T: serde::Serialize>(result: Result<T, StaffError>) -> warp::reply::Response {
    match result {
        Ok(body) => warp::reply::json(&body).into_response(),
        Err(e) => refusal(&e),
    }
}

/// How long a code made in 設定 stays valid.
const CODE_MINUTES: u32 = 60;

/// An admin's staff work from 設定, as `bridge staff` does it; audited with the admin as
/// the person (`staff_managed`, the action and the name).
fn manage(
    s: &AppState,
    who: &Signed,
    req: &protocol::StaffAction,
) -> Result<protocol::StaffManaged, (StatusCode, &'static str, String)> {
    let refuse = |status, code, message: &str| Err((status, code, message.to_string()));
    if who.person.as_ref().map(|p| p.role.as_str()) != Some("admin") {
        return refuse(StatusCode::FORBIDDEN, "admin_only", "管理者だけができます / admins only");
    }
    let store = &s.store;
    let failed =
        |e: crate::store::StoreError| (StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string());
    let ttl = i64::from(CODE_MINUTES) * 60;
    let target = || store.staff_member(&req.name).map_err(failed);
    let code = match req.action.as_str() {
        "list" => String::new(),
        "add" => {
            if !crate::staff::ROLES.contains(&req.role.as_str()) {
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_input",
                    "役割は reception か admin です / the role is reception or admin",
                );
            }
            let Some(added) = store.add_staff(&req.name, &req.role).map_err(failed)? else {
                return refuse(StatusCode::CONFLICT, "name_taken", "その名前の職員はすでにいます / a staff member of that name exists (or the name is empty)");
            };
            store.enrolment_code(&added.staff_id, ttl, false).map_err(failed)?
        }
        "enrol" | "recover" => match target()?.filter(|p| p.disabled_time.is_none()) {
            Some(p) => {
                store.enrolment_code(&p.staff_id, ttl, req.action == "recover").map_err(failed)?
            }
            None => {
                return refuse(
                    StatusCode::NOT_FOUND,
                    "unknown_staff",
                    "有効な職員ではありません / no such active staff member",
                )
            }
        },
        "disable" => match target()? {
            Some(p) if Some(&p.staff_id) == who.person.as_ref().map(|me| &me.staff_id) => {
                return refuse(
                    StatusCode::CONFLICT,
                    "self",
                    "自分自身は無効にできません / you cannot disable yourself",
                );
            }
            Some(p) if store.disable_staff(&p.staff_id).map_err(failed)? => String::new(),
            _ => {
                return refuse(
                    StatusCode::NOT_FOUND,
                    "unknown_staff",
                    "有効な職員ではありません / no such active staff member",
                )
            }
        },
        _ => return refuse(StatusCode::UNPROCESSABLE_ENTITY, "bad_input", "unknown action"),
    };
    if req.action != "list" {
        let subject: String = format!("{} {}", req.action, req.name).chars().take(80).collect();
        let _ = store.audit_by(&who.device, who.person_id(), "staff_managed", &subject);
    }
    let staff = store.staff().map_err(failed)?.iter().map(|p| p.member()).collect();
    let valid_until = if code.is_empty() {
        String::new()
    } else {
        crate::clock::now_jst_minutes_after(CODE_MINUTES)
    };
    Ok(protocol::StaffManaged { staff, code, valid_until })
}

/// The screens a page may report as viewed (its local ledger has no bridge route): the
/// ledger, the work list and bookings are viewed; an export (of a visit day) and the usage
/// report (of a month) are made from the page's copy, so the page says which day or month.
const VIEWED: [&str; 5] = ["ledger", "work_list", "bookings", "export", "usage"];

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Viewed {
    screen: String,
    /// `export`: the visit day; `usage`: the month (digits and `-` only, as `2026-12-02`).
    #[serde(default)]
    detail: String,
}

impl Viewed {
    /// The audit action and subject, or `None` for an unknown screen or a detail that is not
    /// a day or a month (nothing else may reach the log).
    fn audited(&self) -> Option<(&'static str, String)> {
        let screen = VIEWED.iter().find(|known| **known == self.screen)?;
        let detail_ok =
            self.detail.len() <= 10 && self.detail.chars().all(|c| c.is_ascii_digit() || c == '-');
        match *screen {
            _ if !detail_ok => None,
            // The same action as `bridge export`'s, saying it came from a page's copy.
            "export" => Some(("export", format!("{} page copy", self.detail))),
            "usage" => Some(("report_viewed", format!("usage {}", self.detail))),
            other => Some(("viewed", other.to_string())),
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
    let device = security::device(state.store.clone());
    let signed = security::signed(state.store.clone());
    // The origin names the relying party (checked exact by `origin` first).
    let origin_value = warp::header::<String>("origin");
    let base = host.and(origin).and(warp::post());

    let roster = warp::path!("api" / "staff")
        .and(base.clone())
        .and(device.clone())
        .and(with_state.clone())
        .and_then(|_device: String, s: AppState| async move {
            let store = s.store.clone();
            let read = blocking(move || {
                Ok::<_, crate::store::StoreError>((store.sign_in_required()?, store.staff()?))
            })
            .await?;
            Ok::<_, Rejection>(match read {
                Ok((required, staff)) => warp::reply::json(&StaffRoster {
                    required,
                    staff: staff
                        .iter()
                        .filter(|p| p.disabled_time.is_none())
                        .map(|p| p.member())
                        .collect(),
                    lock_after_s: s.lock_after_s,
                })
                .into_response(),
                Err(e) => error_reply(StatusCode::SERVICE_UNAVAILABLE, "store", &e.to_string()),
            })
        });

    let ceremony_start = |enrol: bool| {
        let (path_a, path_b) = if enrol { ("enrol", "start") } else { ("sign-in", "start") };
        warp::path("api")
            .and(warp::path("staff"))
            .and(warp::path(path_a))
            .and(warp::path(path_b))
            .and(warp::path::end())
            .and(base.clone())
            .and(device.clone())
            .and(origin_value)
            .and(warp::body::content_length_limit(1024))
            .and(warp::body::json())
            .and(with_state.clone())
            .and_then(move |device: String, origin: String, req: CeremonyRequest, s: AppState| async move {
                let result = blocking(move || {
                    if enrol {
                        s.passkeys.start_enrolment(&s.store, &device, &origin, &req.code)
                    } else {
                        s.passkeys.start_sign_in(&s.store, &device, &origin, &req.staff)
                    }
                })
                .await?;
                Ok::<_, Rejection>(reply(result))
            })
    };

    let ceremony_finish = |enrol: bool| {
        let path_a = if enrol { "enrol" } else { "sign-in" };
        warp::path("api")
            .and(warp::path("staff"))
            .and(warp::path(path_a))
            .and(warp::path("finish"))
            .and(warp::path::end())
            .and(base.clone())
            .and(device.clone())
            .and(origin_value)
            .and(warp::body::content_length_limit(64 * 1024))
            .and(warp::body::json())
            .and(with_state.clone())
            .and_then(move |device: String, origin: String, finish: CeremonyFinish, s: AppState| async move {
                let result = blocking(move || {
                    let result = if enrol {
                        s.passkeys.finish_enrolment(&s.store, &device, &origin, &finish)
                    } else {
                        s.passkeys.finish_sign_in(&s.store, &device, &origin, &finish)
                    };
                    // A refused passkey is worth a line in the audit log (who tried is
                    // unknown: the device is).
                    if let Err(e @ (StaffError::Refused | StaffError::BadCode | StaffError::NoCeremony)) = &result {
                        let _ = s.store.audit(&device, "staff_sign_in_refused", e.code());
                    }
                    result
                })
                .await?;
                Ok::<_, Rejection>(reply(result))
            })
    };

    // The page locks (idle) or signs out: the session ends here, so its token is useless.
    let end = |how: &'static str| {
        warp::path("api")
            .and(warp::path("staff"))
            .and(warp::path(if how == "locked" { "lock" } else { "sign-out" }))
            .and(warp::path::end())
            .and(base.clone())
            .and(device.clone())
            .and(with_state.clone())
            .and_then(move |device: String, s: AppState| async move {
                let store = s.store.clone();
                Ok::<_, Rejection>(
                    match blocking(move || store.end_session(&device, how)).await? {
                        Ok(ended) => warp::reply::json(&serde_json::json!({ "ended": ended }))
                            .into_response(),
                        Err(e) => {
                            error_reply(StatusCode::SERVICE_UNAVAILABLE, "store", &e.to_string())
                        }
                    },
                )
            })
    };

    let managed = warp::path!("api" / "staff" / "manage")
        .and(base.clone())
        .and(signed.clone())
        .and(warp::body::content_length_limit(1024))
        .and(warp::body::json())
        .and(with_state.clone())
        .and_then(|who: Signed, req: protocol::StaffAction, s: AppState| async move {
            let result = blocking(move || manage(&s, &who, &req)).await?;
            Ok::<_, Rejection>(match result {
                Ok(body) => warp::reply::json(&body).into_response(),
                Err((status, code, message)) => error_reply(status, code, &message),
            })
        });

    let viewed = warp::path!("api" / "staff" / "viewed")
        .and(base.clone())
        .and(signed)
        .and(warp::body::content_length_limit(256))
        .and(warp::body::json())
        .and(with_state.clone())
        .and_then(|who: Signed, v: Viewed, s: AppState| async move {
            let Some((action, subject)) = v.audited() else {
                return Ok::<_, Rejection>(error_reply(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_input",
                    "unknown screen",
                ));
            };
            s.audit_as(&who, action, &subject);
            Ok(warp::reply::json(&serde_json::json!({})).into_response())
        });

    roster
        .or(ceremony_start(true))
        .unify()
        .or(ceremony_start(false))
        .unify()
        .or(ceremony_finish(true))
        .unify()
        .or(ceremony_finish(false))
        .unify()
        .or(end("locked"))
        .unify()
        .or(end("signed_out"))
        .unify()
        .or(viewed)
        .unify()
        .or(managed)
        .unify()
        .boxed()
}
