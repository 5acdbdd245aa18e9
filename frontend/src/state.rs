//! The terminal's live state: signals the screens read, and the background work that
//! feeds them (outbox drain with backoff, ledger pull, WebSocket events, health polling).
//! JS handles (the database) live in a thread-local: the page has one thread.

use crate::model::Reception;
use crate::store::{self, Store};
use crate::{net, sync, ws};
use leptos::prelude::*;
use leptos::task::spawn_local;
use reception::RecordEvent;
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
    static DRAINING: RefCell<bool> = const { RefCell::new(false) };
    /// The CA fingerprint this terminal paired with over HTTPS (none on the kiosk).
    static PINNED_CA: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The bridge's policy table and where it came from (see [`policy`]); kept outside the
    /// reactive graph — `Ctx::policy_changes` tells readers it changed — because a signal of
    /// its own type costs the wasm budget several KB.
    static POLICY: RefCell<Option<(std::sync::Arc<eligibility::Policy>, PolicyOrigin)>> = const { RefCell::new(None) };
    /// The guidance step this counter last set; `None` in a bundle that does not guide
    /// (the office's never moves a patient's display).
    static GUIDE: std::cell::Cell<Option<guidance::Step>> = const { std::cell::Cell::new(None) };
}

const CLAIM_KEY: &str = "madoguchi-claim-target";

/// 本日の受付 asks 困ったとき (the office bundle, a page load) to decide `record_id`'s
/// claim: the id waits in this tab's `sessionStorage`.
pub fn hand_over_claim(record_id: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = s.set_item(CLAIM_KEY, record_id);
    }
}

/// The record whose claim 困ったとき was opened for (once: taking it forgets it).
pub fn take_claim() -> Option<String> {
    let s = web_sys::window()?.session_storage().ok()??;
    let id = s.get_item(CLAIM_KEY).ok()??;
    let _ = s.remove_item(CLAIM_KEY);
    Some(id)
}

/// This bundle drives the patient guidance displays (the counter's does).
pub fn guides() {
    GUIDE.with(|g| g.set(Some(guidance::Step::Idle)));
}

/// The patient is at `step`: the bridge passes it to the guidance displays. Sent once per
/// change, and again when the socket comes back ([`connect_socket`]).
pub fn guide(step: guidance::Step) {
    let changed = GUIDE.with(|g| match g.get() {
        Some(last) if last != step => {
            g.set(Some(step));
            true
        }
        _ => false,
    });
    if changed {
        ws::notify(&protocol::ClientMessage::Guide { step });
    }
}

/// The counter was touched while its display was idle: a patient is here, card or phone?
pub fn guide_wakes() {
    if GUIDE.with(std::cell::Cell::get) == Some(guidance::Step::Idle) {
        guide(guidance::Step::Choose);
    }
}

/// The open database (after [`start`]).
pub fn store() -> Option<Store> {
    STORE.with(|s| s.borrow().clone())
}

/// Signals shared by every screen.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub english: RwSignal<bool>,
    pub token: RwSignal<Option<String>>,
    pub device_id: RwSignal<Option<String>>,
    pub bridge_up: RwSignal<bool>,
    pub socket_up: RwSignal<bool>,
    pub gateway_state: RwSignal<String>,
    /// 練習モード: the bridge's gateway is the simulator (a banner on every screen).
    pub training: RwSignal<bool>,
    /// Whether the bridge can confirm a card read by this terminal's reader (only the
    /// simulator can); otherwise the reader gives a pre-check and no PIN is asked for.
    pub can_confirm_card: RwSignal<bool>,
    pub outbox_depth: RwSignal<usize>,
    pub needs_attention: RwSignal<usize>,
    pub oldest_pending_ms: RwSignal<Option<f64>>,
    pub last_ack: RwSignal<Option<String>>,
    pub storage_used: RwSignal<Option<(f64, f64)>>,
    pub persisted: RwSignal<Option<bool>>,
    pub is_sender: RwSignal<bool>,
    pub receptions: RwSignal<Vec<Reception>>,
    pub ledger: RwSignal<Vec<protocol::StoredEvent>>,
    /// Today's open face-auth results, newest first: a view of the bridge's list (fetched
    /// on connect, on reload, after the idle timeout; pushed as they arrive), never the only
    /// copy. A result leaves when any counter records it.
    pub face: RwSignal<Vec<reception::reading::Carried>>,
    /// After the idle timeout the face results are hidden (a count only) until staff touch
    /// the screen: patient details leave the screen, the results stay.
    pub face_hidden: RwSignal<bool>,
    /// A reception is being saved: every record button is disabled until it is.
    pub saving: RwSignal<bool>,
    /// The counter invited this patient (声かけ) to use the マイナ保険証 next time: the next
    /// reception recorded carries it.
    pub invited: RwSignal<bool>,
    /// The clinic's policy table fetched from the bridge (cached in IndexedDB); `None`:
    /// the embedded one. Every decision on this terminal asks [`policy`].
    pub policy_changes: RwSignal<u32>,
    /// The bridge's PC/SC readers: `None` until `/health` answered, `Err` when PC/SC is down.
    pub readers: RwSignal<Option<Result<Vec<protocol::ReaderInfo>, String>>>,
    pub error: RwSignal<Option<String>>,
    /// Milliseconds since the last touch; patient details clear after the idle timeout.
    pub last_touch_ms: RwSignal<f64>,
    pub idle_timeout_s: RwSignal<u32>,
    pub facility: RwSignal<String>,
    pub prefecture: RwSignal<String>,
    pub now_ms: RwSignal<f64>,
    /// `bridge` (PC/SC through the bridge), `usb` (this device's Sony reader) or `auto`.
    pub reader_mode: RwSignal<String>,
    /// The Sony reader granted to this page, by name.
    pub usb_reader: RwSignal<Option<String>>,
    /// This terminal's ops not yet acknowledged (pending and 要対応), in outbox order: the
    /// ledger shows a void or a correction made offline at once.
    pub pending_ops: RwSignal<Vec<protocol::Op>>,
    /// The record the wizard's claim root (① → ② → ③) decides for, chosen on 本日の受付.
    pub claim_target: RwSignal<Option<String>>,
    /// The signed-in person's name (`staff`), `None`: nobody.
    pub staff_name: RwSignal<Option<String>>,
    /// Someone has a passkey: the screens need a signed-in person (else the sign-in screen).
    pub sign_in_required: RwSignal<bool>,
    /// The lock after this many idle seconds (the bridge's setting).
    pub lock_after_s: RwSignal<u32>,
}

impl Ctx {
    pub fn new() -> Ctx {
        Ctx {
            english: RwSignal::new(true),
            token: RwSignal::new(None),
            device_id: RwSignal::new(None),
            bridge_up: RwSignal::new(false),
            socket_up: RwSignal::new(false),
            gateway_state: RwSignal::new("unknown".into()),
            training: RwSignal::new(false),
            can_confirm_card: RwSignal::new(false),
            outbox_depth: RwSignal::new(0),
            needs_attention: RwSignal::new(0),
            oldest_pending_ms: RwSignal::new(None),
            last_ack: RwSignal::new(None),
            storage_used: RwSignal::new(None),
            persisted: RwSignal::new(None),
            is_sender: RwSignal::new(false),
            receptions: RwSignal::new(Vec::new()),
            ledger: RwSignal::new(Vec::new()),
            face: RwSignal::new(Vec::new()),
            face_hidden: RwSignal::new(false),
            saving: RwSignal::new(false),
            invited: RwSignal::new(false),
            policy_changes: RwSignal::new(0),
            readers: RwSignal::new(None),
            error: RwSignal::new(None),
            last_touch_ms: RwSignal::new(js_sys::Date::now()),
            idle_timeout_s: RwSignal::new(120),
            facility: RwSignal::new("clinic".into()),
            prefecture: RwSignal::new("13".into()),
            now_ms: RwSignal::new(js_sys::Date::now()),
            reader_mode: RwSignal::new("auto".into()),
            usb_reader: RwSignal::new(None),
            pending_ops: RwSignal::new(Vec::new()),
            claim_target: RwSignal::new(None),
            staff_name: RwSignal::new(None),
            sign_in_required: RwSignal::new(false),
            lock_after_s: RwSignal::new(300),
        }
    }
}

impl Default for Ctx {
    fn default() -> Ctx {
        Ctx::new()
    }
}

pub fn ctx() -> Ctx {
    use_context::<Ctx>().unwrap_or_default()
}

/// Re-reads this terminal's receptions and outbox into the signals.
pub async fn refresh_local(ctx: Ctx) {
    let Some(store) = store() else { return };
    if let Ok(list) = store.receptions().await {
        ctx.receptions.set(list);
    }
    if let Ok(outbox) = store.outbox().await {
        let pending: Vec<_> = outbox.iter().filter(|r| r.rejected.is_none()).collect();
        ctx.outbox_depth.set(pending.len());
        ctx.needs_attention.set(outbox.len() - pending.len());
        ctx.oldest_pending_ms.set(pending.iter().map(|r| r.enqueued_ms).reduce(f64::min));
        let mut ops: Vec<_> = outbox.iter().collect();
        eligibility::order::sort_by(&mut ops, |a, b| a.enqueued_ms.total_cmp(&b.enqueued_ms));
        ctx.pending_ops.set(ops.into_iter().map(|r| r.op.clone()).collect());
    }
    if let Ok(ledger) = store.ledger().await {
        drop_recorded_face_results(ctx, &ledger);
        ctx.ledger.set(ledger);
    }
}

/// A face-auth result recorded at any terminal leaves every terminal's 受付 list (the
/// result is broadcast to all of them; one counter records it).
fn drop_recorded_face_results(ctx: Ctx, ledger: &[protocol::StoredEvent]) {
    if ctx.face.with_untracked(Vec::is_empty) {
        return;
    }
    let recorded: std::collections::HashSet<String> = ledger
        .iter()
        .filter(|e| e.kind == "reception")
        .filter_map(|e| match reception::event::of(e) {
            Ok(RecordEvent::Reception(r)) => r.face_file,
            _ => None,
        })
        .collect();
    if ctx
        .face
        .with_untracked(|f| f.iter().any(|b| recorded.contains(b.file.as_deref().unwrap_or(""))))
    {
        ctx.face.update(|f| f.retain(|b| !recorded.contains(b.file.as_deref().unwrap_or(""))));
    }
}

/// Every record the terminal knows, folded (`reception::life`): the clinic's ledger as
/// pulled, then this terminal's ops the bridge has not acknowledged yet.
pub fn records(
    ledger: &[protocol::StoredEvent],
    pending: &[protocol::Op],
) -> Vec<reception::life::RecordState> {
    let known: std::collections::HashSet<&str> = ledger.iter().map(|e| e.op_id.as_str()).collect();
    let first_local = ledger.iter().map(|e| e.seq).max().unwrap_or(0) + 1;
    let mut events = ledger.to_vec();
    events.extend(pending.iter().filter(|op| !known.contains(op.op_id.as_str())).enumerate().map(
        |(i, op)| protocol::StoredEvent {
            seq: first_local + i as u64,
            op_id: op.op_id.clone(),
            record_id: op.record_id.clone(),
            device_id: String::new(),
            kind: op.kind.clone(),
            device_time: op.device_time.clone(),
            received_time: String::new(),
            body: op.body.clone(),
            training: false,
        },
    ));
    reception::life::fold(&events).0
}

/// Where the policy table in force on this terminal comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyOrigin {
    /// `embedded` or `override:FILE`, as the bridge said.
    pub source: String,
    /// Fetched just now (false: the cached copy, the bridge not reached yet).
    pub fresh: bool,
}

/// The policy table decisions use: the bridge's (fetched or cached), else the embedded one.
/// Reactive: a screen that reads it decides again when a new table arrives.
/// The patient's last known reception: from this terminal's records (its unsent ones too)
/// and from the bridge's patient index (every day; a tablet keeps only today's patients),
/// the later visit of the two. Offline, this terminal's alone.
pub async fn last_visit(ctx: Ctx, patient: reception::Patient) -> Option<reception::Reception> {
    let local = {
        let records = records(&ctx.ledger.get_untracked(), &ctx.pending_ops.get_untracked());
        let index = reception::life::patient_index(&records);
        reception::life::last_visit(&index, &patient).map(|s| s.reception.clone())
    };
    let complete = patient.clinic_id.is_some()
        || patient.birth.as_deref().is_some_and(|b| b.trim().parse::<eligibility::Date>().is_ok());
    let remote = match ctx.token.get_untracked() {
        Some(token) if complete => net::last_visit(&token, &patient).await.ok().flatten(),
        _ => None,
    };
    match (local, remote) {
        (Some(l), Some(r)) => Some(if r.visit > l.visit { r } else { l }),
        (l, r) => l.or(r),
    }
}

pub fn policy(ctx: Ctx) -> Option<std::sync::Arc<eligibility::Policy>> {
    ctx.policy_changes.track();
    POLICY
        .with(|p| p.borrow().as_ref().map(|(p, _)| p.clone()))
        .or_else(|| eligibility::Policy::embedded().ok().map(std::sync::Arc::new))
}

/// Where the table in force comes from (`None`: this terminal's embedded one). Reactive.
pub fn policy_origin(ctx: Ctx) -> Option<PolicyOrigin> {
    ctx.policy_changes.track();
    POLICY.with(|p| p.borrow().as_ref().map(|(_, o)| o.clone()))
}

/// Reads a fetched or cached table into the signal.
fn use_policy_table(ctx: Ctx, table: &protocol::PolicyTable, fresh: bool) -> bool {
    // From text, like the embedded table: one deserializer for the policy types in the wasm.
    match eligibility::Policy::from_json(&table.table) {
        Ok(policy) => {
            let origin = PolicyOrigin { source: table.source.clone(), fresh };
            POLICY.with(|p| *p.borrow_mut() = Some((std::sync::Arc::new(policy), origin)));
            ctx.policy_changes.update(|n| *n += 1);
            true
        }
        Err(_) => false,
    }
}

/// Fetches the bridge's policy table, caches it, and decides by it from now on.
pub async fn refresh_policy(ctx: Ctx) {
    let Some(token) = ctx.token.get_untracked() else { return };
    let Ok(table) = net::policy(&token).await else { return };
    if use_policy_table(ctx, &table, true) {
        if let Some(store) = store() {
            if let Ok(text) = crate::json::to_text(&table) {
                let _ = store.set_meta("policy_table", &text.into()).await;
            }
        }
    }
}

/// Fetches the bridge's open face results and makes them this terminal's list; results
/// pushed while the request was out are kept.
pub async fn refresh_face(ctx: Ctx) {
    let Some(token) = ctx.token.get_untracked() else { return };
    let Ok(open) = net::open_face_results(&token).await else { return };
    // Pushed after the list was read (a higher seq): kept, newest first.
    let mut list: Vec<reception::reading::Carried> = ctx.face.with_untracked(|current| {
        current.iter().filter(|b| b.seq.unwrap_or(0) > open.next).cloned().collect()
    });
    list.extend(open.events.into_iter().rev().filter_map(|e| {
        let body: reception::reading::Carried = serde_json::from_value(e.body).ok()?;
        Some(reception::reading::Carried { seq: Some(e.seq), ..body })
    }));
    ctx.face.set(list);
}

/// Clears `saving` when a save ends, however it ends.
struct Saving(Ctx);

impl Drop for Saving {
    fn drop(&mut self) {
        self.0.saving.set(false);
    }
}

/// Records a reception (one strict transaction with its outbox row), then asks the sender
/// tab to drain. Returns only after the commit: `Ok(true)` once saved, `Ok(false)` when a
/// save was already running (a double tap: the second one records nothing).
pub async fn record(ctx: Ctx, mut reception: Reception) -> Result<bool, String> {
    // Checked and set before the first await, so two clicks in one task cannot both pass.
    if ctx.saving.get_untracked() {
        return Ok(false);
    }
    ctx.saving.set(true);
    let _saving = Saving(ctx);
    let store = store().ok_or("端末の保存領域が開いていません / storage is not open")?;
    reception.record.invited |= ctx.invited.get_untracked();
    let mut op = reception.to_op();
    op.staff = crate::staff::staff_id();
    store.record(&reception, &op, js_sys::Date::now()).await.map_err(|e| e.to_string())?;
    ctx.invited.set(false);
    refresh_local(ctx).await;
    sync::broadcast("enqueued");
    if ctx.is_sender.get_untracked() {
        spawn_local(drain_now(ctx));
    }
    Ok(true)
}

/// Records an event of an existing record's life (訂正, 取消, 請求決定, メモ): one outbox
/// row, sent like a reception. Returns after the commit; `Ok(false)` on a double tap.
pub async fn record_event(ctx: Ctx, record_id: &str, event: RecordEvent) -> Result<bool, String> {
    if ctx.saving.get_untracked() {
        return Ok(false);
    }
    ctx.saving.set(true);
    let _saving = Saving(ctx);
    let store = store().ok_or("端末の保存領域が開いていません / storage is not open")?;
    let mut op = event.to_op(&crate::ids::uuid_v7(), record_id, &crate::ids::now_rfc3339());
    op.staff = crate::staff::staff_id();
    store.enqueue(&op, js_sys::Date::now()).await.map_err(|e| e.to_string())?;
    refresh_local(ctx).await;
    sync::broadcast("enqueued");
    if ctx.is_sender.get_untracked() {
        spawn_local(drain_now(ctx));
    }
    Ok(true)
}

/// How many days after acknowledgement a tablet keeps a patient's details (設定; default 1).
pub const DEFAULT_RETENTION_DAYS: f64 = 1.0;

/// Forgets the patients of rows older than today (Japan) and the retention setting.
pub async fn prune(ctx: Ctx) {
    let Some(store) = store() else { return };
    let days = match store.meta("retention_days").await {
        Ok(Some(v)) => v.as_f64().unwrap_or(DEFAULT_RETENTION_DAYS),
        _ => DEFAULT_RETENTION_DAYS,
    };
    prune_with(ctx, days).await;
}

/// [`prune`] with `days` of retention (設定 just changed it).
pub async fn prune_with(ctx: Ctx, days: f64) {
    let Some(store) = store() else { return };
    let now = js_sys::Date::now();
    const DAY: f64 = 86_400_000.0;
    const JST: f64 = 9.0 * 3_600_000.0;
    let today_start = ((now + JST) / DAY).floor() * DAY - JST;
    let cutoff_ms = today_start.min(now - days * DAY);
    let cutoff =
        js_sys::Date::new(&cutoff_ms.into()).to_iso_string().as_string().unwrap_or_default();
    if let Ok(n) = store.prune(&cutoff, cutoff_ms).await {
        if n > 0 {
            refresh_local(ctx).await;
        }
    }
}

/// One drain + pull, unless one is already running in this tab.
/// Whether the bridge states a CA other than the one this terminal paired with; if so it is
/// refused from now on (nothing but health and pairing goes to it) and staff are told.
fn refuse_if_foreign(ctx: Ctx, h: &protocol::HealthSummary) -> bool {
    let foreign = PINNED_CA
        .with(|p| p.borrow().as_ref().is_some_and(|pin| h.ca_sha256.as_ref() != Some(pin)));
    if foreign {
        net::refuse_foreign_ca(true);
        ws::close();
        ctx.bridge_up.set(false);
        ctx.error.set(Some(net::FOREIGN_CA_MESSAGE.into()));
    }
    foreign
}

pub async fn drain_now(ctx: Ctx) {
    let Some(token) = ctx.token.get_untracked() else { return };
    let Some(store) = store() else { return };
    // A pinned tablet asks which CA the bridge has before it sends anything: the bridge
    // may have come back as another one since the last health check.
    if PINNED_CA.with(|p| p.borrow().is_some()) {
        match net::health().await {
            Ok(h) if !refuse_if_foreign(ctx, &h) => {}
            _ => return,
        }
    }
    if DRAINING.with(|d| std::mem::replace(&mut *d.borrow_mut(), true)) {
        return;
    }
    let mut drained = sync::drain(&store, &token).await;
    let mut resent = 0;
    let device = ctx.device_id.get_untracked();
    let mut pulled = sync::pull(&store, &token, device.as_deref(), &mut resent).await;
    if resent > 0 {
        ctx.error.set(Some(format!("ブリッジがバックアップから復元されました。この端末の本日の記録 {resent} 件を送り直します / the bridge was restored from a backup: sending this terminal's {resent} records of today again")));
        drained = sync::drain(&store, &token).await;
        pulled = sync::pull(&store, &token, device.as_deref(), &mut resent).await;
    }
    DRAINING.with(|d| *d.borrow_mut() = false);
    // Nothing sent and nothing new: the screen already shows the store.
    let changed = !matches!(
        (&drained, &pulled),
        (Ok((sync::Drained { acknowledged: 0, needs_attention: 0, claimed: 0 }, _)), Ok(0))
    );
    if let Ok((_, notices)) = &drained {
        if !notices.is_empty() {
            ctx.error.set(Some(notices.join(" ")));
        }
    }
    match (&drained, &pulled) {
        (Ok(_), Ok(_)) => {
            ctx.bridge_up.set(true);
            ctx.last_ack.set(Some(crate::ids::now_rfc3339()));
        }
        (Err(net::NetError::Refused { status: 401, .. }), _) => {
            ctx.error.set(Some("この端末の登録が無効です。設定でペアリングし直してください / this terminal's pairing was revoked: pair again in 設定".into()));
        }
        _ => ctx.bridge_up.set(false),
    }
    if changed {
        refresh_local(ctx).await;
        sync::broadcast("ledger");
    }
}

/// The sender tab's loop: drain, then wait (backoff with jitter while the bridge is down).
async fn sender_loop(ctx: Ctx) {
    let mut failures = 0u32;
    loop {
        drain_now(ctx).await;
        let wait = if ctx.bridge_up.get_untracked() {
            failures = 0;
            5_000.0
        } else {
            failures += 1;
            sync::backoff_ms(failures)
        };
        sleep_ms(wait).await;
    }
}

fn readers_of(
    list: Vec<protocol::ReaderInfo>,
    error: Option<String>,
) -> Result<Vec<protocol::ReaderInfo>, String> {
    match error {
        Some(why) => Err(why),
        None => Ok(list),
    }
}

pub async fn sleep_ms(ms: f64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn connect_socket(ctx: Ctx) {
    let Some(token) = ctx.token.get_untracked() else { return };
    if net::refusing() {
        return;
    }
    let on_event: Rc<dyn Fn(String, serde_json::Value)> = Rc::new(move |topic, body| {
        match topic.as_str() {
            "gateway" => match serde_json::from_value::<reception::reading::Carried>(body) {
                // Once: the open-results fetch that a (re)connect starts may already hold it.
                Ok(face) if face.reading.is_some() => ctx.face.update(|list| {
                    if !list.iter().any(|b| b.file.is_some() && b.file == face.file) {
                        if face.reading.as_ref().is_some_and(reception::reading::Reading::confirmed) {
                            guide(guidance::Step::Confirmed);
                        }
                        list.insert(0, face);
                    }
                }),
                Ok(notice) => ctx.error.set(Some(format!(
                    "顔認証付きカードリーダーの結果ファイルを読めませんでした（隔離済み）/ a face-reader file was unreadable and quarantined: {}",
                    notice.reason.unwrap_or_default()
                ))),
                Err(_) => {}
            },
            "events" => spawn_local(async move {
                if ctx.is_sender.get_untracked() {
                    drain_now(ctx).await;
                } else if let (Some(store), Some(token)) = (store(), ctx.token.get_untracked()) {
                    let _ = sync::pull(&store, &token, None, &mut 0).await;
                    refresh_local(ctx).await;
                }
            }),
            // A reader or card came or went: the list is read again (the event names one
            // reader; the list is what the screen shows).
            "reader" => spawn_local(async move {
                if let Ok(h) = net::health().await {
                    ctx.readers.set(Some(readers_of(h.readers, h.readers_error)));
                }
            }),
            _ => {}
        }
    });
    // The bridge is back: send what waited now, not at the end of the sender's backoff.
    let on_state: Rc<dyn Fn(bool)> = Rc::new(move |up| {
        let was_up = ctx.socket_up.get_untracked();
        ctx.socket_up.set(up);
        if up && !was_up {
            // The display may have missed a step while the socket was down (a counter
            // that has just loaded is idle and leaves the display as it is).
            if let Some(step) =
                GUIDE.with(std::cell::Cell::get).filter(|s| *s != guidance::Step::Idle)
            {
                ws::notify(&protocol::ClientMessage::Guide { step });
            }
            // After any gap the list is fetched again: results may have arrived meanwhile.
            spawn_local(refresh_face(ctx));
            spawn_local(refresh_policy(ctx));
            if ctx.is_sender.get_untracked() {
                spawn_local(drain_now(ctx));
            }
        }
    });
    ws::connect(token, on_event, on_state);
}

/// Opens the store, loads settings, and starts the background work. Call once.
pub fn start(ctx: Ctx) {
    spawn_local(async move {
        let store = match store::open(store::DEFAULT_NAME).await {
            Ok(s) => s,
            Err(e) => {
                ctx.error.set(Some(e.to_string()));
                return;
            }
        };
        let token = store.meta_string("token").await.ok().flatten();
        let device = store.meta_string("device_id").await.ok().flatten();
        let pinned = store.meta_string("ca_sha256").await.ok().flatten();
        PINNED_CA.with(|p| *p.borrow_mut() = pinned);
        if let Ok(Some(lang)) = store.meta_string("lang").await {
            ctx.english.set(lang != "ja");
        }
        if let Ok(Some(v)) = store.meta("idle_timeout_s").await {
            ctx.idle_timeout_s.set(v.as_f64().unwrap_or(120.0) as u32);
        }
        if let Ok(Some(v)) = store.meta_string("facility").await {
            ctx.facility.set(v);
        }
        if let Ok(Some(v)) = store.meta_string("prefecture").await {
            ctx.prefecture.set(v);
        }
        if let Ok(Some(v)) = store.meta_string("reader").await {
            ctx.reader_mode.set(v);
        }
        // The clinic's table as last fetched, until the bridge answers again.
        if let Ok(Some(text)) = store.meta_string("policy_table").await {
            if let Ok(table) = crate::json::from_text::<protocol::PolicyTable>(&text) {
                use_policy_table(ctx, &table, false);
            }
        }
        refresh_usb(ctx).await;
        crate::usb::watch(move || spawn_local(refresh_usb(ctx)));
        crate::usb::release_on_page_hide();
        STORE.with(|s| *s.borrow_mut() = Some(store));
        crate::staff::restore();
        ctx.staff_name.set(crate::staff::name());
        // Whether a person must sign in, before the first screen shows patient data.
        if let Ok(h) = net::health().await {
            require_sign_in(ctx, h.staff_sign_in);
            ctx.lock_after_s.set(h.lock_after_s.max(60));
        }
        if let Some(token) = &token {
            crate::staff::end_pending_lock(token).await;
        }
        ctx.token.set(token);
        ctx.device_id.set(device);
        refresh_local(ctx).await;
        ctx.persisted.set(store::request_persistence().await);
        sync::listen(move |message| {
            spawn_local(async move {
                if message == "enqueued" && ctx.is_sender.get_untracked() {
                    drain_now(ctx).await;
                } else {
                    refresh_local(ctx).await;
                }
            })
        });
        sync::become_sender(move || {
            ctx.is_sender.set(true);
            spawn_local(sender_loop(ctx));
        });
        connect_socket(ctx);
        prune(ctx).await;
        let mut last_prune = js_sys::Date::now();
        // Health and storage every 5 s; reconnect the socket when it dropped; forget old
        // patients hourly.
        loop {
            if js_sys::Date::now() - last_prune > 3_600_000.0 {
                last_prune = js_sys::Date::now();
                prune(ctx).await;
            }
            match net::health().await {
                Ok(h) if refuse_if_foreign(ctx, &h) => {}
                Ok(h) => {
                    ctx.bridge_up.set(true);
                    let state = h.gateway.state;
                    ctx.gateway_state.set(if state.is_empty() { "unknown".into() } else { state });
                    ctx.training.set(h.training);
                    ctx.can_confirm_card.set(h.gateway.can_confirm_card);
                    require_sign_in(ctx, h.staff_sign_in);
                    ctx.lock_after_s.set(h.lock_after_s.max(60));
                    ctx.readers.set(Some(readers_of(h.readers, h.readers_error)));
                }
                Err(_) => {
                    ctx.bridge_up.set(false);
                    ctx.gateway_state.set("unknown".into());
                }
            }
            ctx.storage_used.set(store::estimate().await);
            if ctx.token.get_untracked().is_some()
                && !ws::is_open()
                && ctx.bridge_up.get_untracked()
            {
                connect_socket(ctx);
            }
            sleep_ms(5_000.0).await;
        }
    });
}

/// Picks up a Sony reader this page was granted before (plugged in or out since).
/// Sets whether sign-in is required, notifying only on a change (the screens are rebuilt
/// when it changes: a set that changes nothing must not rebuild the sign-in screen).
pub fn require_sign_in(ctx: Ctx, required: bool) {
    if ctx.sign_in_required.get_untracked() != required {
        ctx.sign_in_required.set(required);
    }
}

pub async fn refresh_usb(ctx: Ctx) {
    if let Ok(device) = crate::usb::granted().await {
        crate::usb::set_device(device);
    }
    ctx.usb_reader.set(crate::usb::device_name().map(String::from));
}

/// Whether card operations go to this device's USB reader (else the bridge's PC/SC).
pub fn use_usb(ctx: Ctx) -> bool {
    match ctx.reader_mode.get_untracked().as_str() {
        "usb" => true,
        "auto" => crate::usb::device().is_some(),
        _ => false,
    }
}

/// Saves the pairing and starts using it.
pub async fn paired(ctx: Ctx, response: protocol::PairResponse) -> Result<(), String> {
    let store = store().ok_or("storage is not open")?;
    store.set_meta("token", &response.token.clone().into()).await.map_err(|e| e.to_string())?;
    store
        .set_meta("device_id", &response.device_id.clone().into())
        .await
        .map_err(|e| e.to_string())?;
    ctx.token.set(Some(response.token));
    ctx.device_id.set(Some(response.device_id));
    // Over HTTPS (a tablet on the LAN) the CA this bridge states is kept: a later answer
    // stating another one is refused. The kiosk on loopback HTTP has no TLS to pin.
    let https =
        web_sys::window().and_then(|w| w.location().protocol().ok()).as_deref() == Some("https:");
    let pin = if https { net::health().await.ok().and_then(|h| h.ca_sha256) } else { None };
    let value = pin.clone().map_or(wasm_bindgen::JsValue::NULL, Into::into);
    store.set_meta("ca_sha256", &value).await.map_err(|e| e.to_string())?;
    PINNED_CA.with(|p| *p.borrow_mut() = pin);
    net::refuse_foreign_ca(false);
    ctx.error.set(None);
    connect_socket(ctx);
    if ctx.is_sender.get_untracked() {
        spawn_local(drain_now(ctx));
    }
    Ok(())
}
