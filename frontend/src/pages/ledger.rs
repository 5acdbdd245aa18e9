//! 本日の受付: today's receptions of the whole clinic (pulled from the bridge) with this
//! terminal's ops not yet acknowledged, each record folded with its life (訂正, 取消, 請求決定,
//! 事後確認) by `reception::life`; the 要対応 work list across days; a record's history
//! with 取消 and 訂正; (the receipt computer's CSV is on the office's page: `pages::export`).

use crate::components::Bi;
use crate::model::{Reception, SyncState};
use crate::state::{self, ctx};
use leptos::prelude::*;
use leptos::task::spawn_local;
use reception::event::{Corrected, Voided};
use reception::life::{RecordState, WorkReason};
use reception::{Numbers, RecordEvent};

/// One row of the ledger view.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub record_id: String,
    pub time: String,
    pub name: String,
    pub method: String,
    pub status: String,
    /// 有効 / 訂正 / 取消.
    pub state: String,
    pub copay: String,
    pub sync: String,
    pub work: Option<WorkReason>,
}

/// A record's status in words: its follow-up's outcome once there is one.
pub fn status_text(s: &RecordState) -> String {
    match &s.follow_up {
        Some(f) if f.confirmed() => "確認済（事後）".into(),
        Some(_) => "要対応".into(),
        None => s.reception.status.label().0.to_string(),
    }
}

/// The rows of `records`, with this terminal's sync state where it has one.
pub fn rows(records: &[RecordState], local: &[Reception]) -> Vec<Row> {
    let mut rows: Vec<Row> = records
        .iter()
        .map(|s| {
            let r = &s.reception;
            let copay = s
                .follow_up
                .as_ref()
                .and_then(|f| f.copay_percent())
                .or(r.copay.as_ref().map(|c| c.percent))
                .map(|p| format!("{}割", p / 10))
                .unwrap_or_default();
            let sync = match local.iter().find(|l| l.record_id == s.record_id).map(|l| &l.sync) {
                Some(SyncState::Pending) => "受付済（未送信）".to_string(),
                Some(SyncState::NeedsAttention { reason }) => format!("要対応: {reason}"),
                _ if s.device_id.is_empty() => "未送信".into(),
                _ => "送信済 / synced".into(),
            };
            Row {
                record_id: s.record_id.clone(),
                time: s.recorded_time.clone(),
                name: r.patient.name.clone().unwrap_or_default(),
                method: reception::export::presented_label(r.presented).to_string(),
                status: status_text(s),
                state: s.state_label().to_string(),
                copay,
                sync,
                work: s.work(),
            }
        })
        .collect();
    eligibility::order::sort_by(&mut rows, |a, b| b.time.cmp(&a.time));
    rows
}

/// One line of the 要対応 list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    pub record_id: String,
    pub visit: String,
    pub name: String,
    /// What to do, Japanese / English.
    pub what: String,
    /// `SyncRefused`, or the `WorkReason`'s name.
    pub tag: String,
}

/// The 要対応 list: this terminal's receptions the bridge refused (a conflict or a rejected
/// body), then every record's own reason (`reception::life::work_list`), oldest visit first.
pub fn work_items(records: &[RecordState], local: &[Reception]) -> Vec<WorkItem> {
    let mut items: Vec<WorkItem> = local
        .iter()
        .filter_map(|r| match &r.sync {
            SyncState::NeedsAttention { reason } => Some(WorkItem {
                record_id: r.record_id.clone(),
                visit: r.record.visit.to_string(),
                name: r.record.patient.name.clone().unwrap_or_default(),
                what: format!(
                    "送信できず（{reason}）：内容を確認 / refused by the bridge ({reason})"
                ),
                tag: "SyncRefused".into(),
            }),
            _ => None,
        })
        .collect();
    items.extend(reception::life::work_list(records).into_iter().map(|(s, why)| WorkItem {
        record_id: s.record_id.clone(),
        visit: s.reception.visit.to_string(),
        name: s.reception.patient.name.clone().unwrap_or_default(),
        what: format!("{} / {}", why.label().0, why.label().1),
        tag: format!("{why:?}"),
    }));
    items
}

#[component]
pub fn LedgerPage(go: WriteSignal<crate::app::Page>) -> impl IntoView {
    let c = ctx();
    // Opening this terminal's copy of the ledger is an audited access (by the signed-in
    // person); the bridge never sees this screen otherwise.
    if let Some(token) = c.token.get_untracked() {
        leptos::task::spawn_local(crate::staff::viewed(token, "ledger", String::new()));
    }
    let filter = RwSignal::new(String::new());
    let day = crate::ids::today_jst();
    let selected = RwSignal::new(None::<String>);
    let records = Memo::new(move |_| state::records(&c.ledger.get(), &c.pending_ops.get()));
    // Today's visits and what was recorded today (a paper visit of an outage day entered
    // now); the pulled ledger keeps earlier days too (the work list shows what is open).
    let all = Memo::new(move |_| {
        let today: Vec<RecordState> = records
            .get()
            .into_iter()
            .filter(|s| {
                Some(s.reception.visit) == day || crate::ids::jst_date(&s.recorded_time) == day
            })
            .collect();
        rows(&today, &c.receptions.get())
    });
    let shown = move || {
        let f = filter.get();
        all.get()
            .into_iter()
            .filter(|r| {
                f.is_empty()
                    || r.status.contains(&f)
                    || r.name.contains(&f)
                    || r.method.contains(&f)
            })
            .collect::<Vec<_>>()
    };
    let work = Memo::new(move |_| work_items(&records.get(), &c.receptions.get()));
    // Booked patients whose 照会番号 registration failed (the bridge's; not records, so
    // one line beside the list; text, not a list signal: the wasm budget).
    let ids_failed = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(token) = c.token.get() else { return };
        spawn_local(async move {
            let lines = crate::net::bookings(&token).await.unwrap_or_default();
            let failed: Vec<String> = lines
                .into_iter()
                .filter_map(|l| Some(format!("{}（{}）", l.patient_id, l.id_failed?)))
                .collect();
            ids_failed.set((!failed.is_empty()).then(|| failed.join("、")));
        })
    });
    view! {
        <section class="page" data-testid="page-ledger">
            <h1><Bi ja="本日の受付" en="Today's receptions"/></h1>
            <div class="row">
                <input class="filter" data-testid="ledger-filter" placeholder="絞り込み（氏名・状態）/ filter"
                    prop:value=move || filter.get() on:input=move |e| filter.set(event_target_value(&e))/>
            </div>
            <p data-testid="ledger-count">{move || format!("{} 件 / rows", shown().len())}</p>
            <table class="ledger" data-testid="ledger-table">
                <thead><tr><th>"時刻"</th><th>"氏名"</th><th>"方法"</th><th>"状態"</th><th>"記録"</th><th>"負担"</th><th>"同期"</th><th></th></tr></thead>
                <tbody>
                    {move || shown().into_iter().map(|r| {
                        let id = r.record_id.clone();
                        view! {
                            <tr data-testid="ledger-row" data-record=r.record_id.clone()>
                                <td>{crate::ids::jst_hhmm(&r.time)}</td>
                                <td>{r.name}</td><td>{r.method}</td>
                                <td data-testid="ledger-status">{r.status}</td>
                                <td data-testid="ledger-state">{r.state}</td>
                                <td>{r.copay}</td>
                                <td data-testid="ledger-sync">{r.sync}</td>
                                <td><button class="small" data-testid="ledger-open" on:click=move |_| selected.set(Some(id.clone()))>"詳細 / details"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <section class="card" data-testid="work-list">
                <h2><Bi ja="要対応（日をまたいで）" en="To do (across days)"/></h2>
                {move || ids_failed.get().map(|t| view! {
                    <p class="warn" data-testid="work-id-failed">{format!("照会番号の登録に失敗：{t} — 予約の番号を確認 / ID registration failed: check the booked numbers")}</p>
                })}
                {move || {
                    let list = work.get();
                    if list.is_empty() {
                        return view! { <p data-testid="work-empty">"なし / nothing to do"</p> }.into_any();
                    }
                    view! {
                        <ul>
                            {list.into_iter().map(|w| {
                                let open = w.record_id.clone();
                                view! {
                                    <li data-testid="work-item" data-record=w.record_id.clone() data-reason=w.tag>
                                        <span>{format!("{} {} — {}", w.visit, w.name, w.what)}</span>
                                        <button class="small" data-testid="work-open" on:click=move |_| selected.set(Some(open.clone()))>"開く / open"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            // Built again only when another record is opened: a pull or this record's own
            // new event updates it in place, and what staff are typing stays.
            {move || selected.get().map(|id| view! {
                <RecordDetail record_id=id records=records go=go on_close=Callback::new(move |_| selected.set(None))/>
            })}
        </section>
    }
}

/// One record: where it stands, its history, and what staff can do with it.
#[component]
fn RecordDetail(
    record_id: String,
    records: Memo<Vec<RecordState>>,
    go: WriteSignal<crate::app::Page>,
    on_close: Callback<()>,
) -> impl IntoView {
    let c = ctx();
    let id = record_id.clone();
    let state = Memo::new(move |_| records.get().into_iter().find(|s| s.record_id == id));
    let Some(first) = state.get_untracked() else {
        return view! { <p class="error" data-testid="record-detail">"記録が見つかりません / record not found"</p> }.into_any();
    };
    let reason = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let numbers = first.reception.claim_numbers().cloned().unwrap_or_default();
    let name = RwSignal::new(first.reception.patient.name.clone().unwrap_or_default());
    let kana = RwSignal::new(first.reception.patient.kana.clone().unwrap_or_default());
    let insurer = RwSignal::new(numbers.insurer.clone());
    let symbol = RwSignal::new(numbers.symbol.clone().unwrap_or_default());
    let number = RwSignal::new(numbers.number.clone());
    let branch = RwSignal::new(numbers.branch.clone().unwrap_or_default());
    let open = move || state.with(|s| s.as_ref().is_some_and(|s| s.voided.is_none()));
    let decides_claim = move || {
        state.with(|s| {
            s.as_ref().is_some_and(|s| {
                s.voided.is_none()
                    && s.claim_decided.is_none()
                    && s.reception.claim.plan == fallback::model::ClaimPlan::AfterFollowUp
            })
        })
    };
    let send = move |event: RecordEvent, done: &'static str| {
        let id = record_id.clone();
        spawn_local(async move {
            match state::record_event(c, &id, event).await {
                Ok(true) => {
                    message.set(Some(done.into()));
                    reason.set(String::new());
                }
                Ok(false) => {}
                Err(e) => message.set(Some(e)),
            }
        });
    };
    let why = move || Some(reason.get_untracked().trim().to_string()).filter(|s| !s.is_empty());
    let void = {
        let send = send.clone();
        Callback::new(move |()| match why() {
            Some(reason) => send(RecordEvent::Voided(Voided { reason }), "取消しました / voided"),
            None => message.set(Some("理由を入力してください / enter the reason".into())),
        })
    };
    let correct = Callback::new(move |()| {
        let Some(reason) = why() else {
            return message.set(Some("理由を入力してください / enter the reason".into()));
        };
        let Some(base) = state.get_untracked().map(|s| s.reception) else { return };
        let text = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_string()).filter(|s| !s.is_empty())
        };
        let mut next = base.clone();
        next.patient.name = text(name);
        next.patient.kana = text(kana);
        let typed = match (text(insurer), text(number)) {
            (Some(insurer), Some(number)) => {
                Some(Numbers { insurer, symbol: text(symbol), number, branch: text(branch) })
            }
            _ => None,
        };
        if let Some(n) = typed {
            match &mut next.qualification {
                Some(q) => q.numbers = n.clone(),
                None => {
                    next.qualification =
                        Some(reception::Qualification { numbers: n.clone(), ..Default::default() })
                }
            }
            if next.claim.numbers.is_some() {
                next.claim.numbers = Some(n);
            }
        }
        let mut fields = Vec::new();
        if next.patient.name != base.patient.name {
            fields.push("氏名".to_string());
        }
        if next.patient.kana != base.patient.kana {
            fields.push("カナ".to_string());
        }
        if next.claim_numbers() != base.claim_numbers() {
            fields.push("番号".to_string());
        }
        if fields.is_empty() {
            return message.set(Some("変更がありません / nothing changed".into()));
        }
        send(
            RecordEvent::Corrected(Corrected { reception: next, fields, reason }),
            "訂正しました / corrected",
        );
    });
    let claim_id = first.record_id.clone();
    let decide_claim = Callback::new(move |()| {
        c.claim_target.set(Some(claim_id.clone()));
        // 困ったとき is the other bundle's: the record goes with the page load.
        crate::state::hand_over_claim(&claim_id);
        go.set(crate::app::Page::Fallback);
    });
    let input = crate::components::text_field;
    view! {
        <section class="card detail" data-testid="record-detail" data-record=first.record_id.clone()>
            {move || state.get().map(|s| view! {
                <h2>{format!("{} {}", s.reception.visit, s.reception.patient.name.clone().unwrap_or_default())}</h2>
                <p data-testid="detail-status">{format!("{}（{}）／ 請求: {}", status_text(&s), s.state_label(), s.claim().label())}</p>
                {s.work().map(|w| view! { <p class="notice" data-testid="detail-work">{format!("要対応: {} / {}", w.label().0, w.label().1)}</p> })}
                <h3>"履歴 / History"</h3>
                <ol data-testid="history">
                    {s.history.iter().map(|h| view! {
                        <li data-testid="history-entry" data-kind=h.kind>{format!("{} {}", crate::ids::jst_hhmm(&h.time), h.summary)}</li>
                    }).collect_view()}
                </ol>
            })}
            <Show when=open>
                <div class="form">
                    {input("氏名 / Name", "fix-name", name)}
                    {input("カナ / Kana", "fix-kana", kana)}
                    {input("保険者番号 / Insurer", "fix-insurer", insurer)}
                    {input("記号 / Symbol", "fix-symbol", symbol)}
                    {input("番号 / Number", "fix-number", number)}
                    {input("枝番 / Branch", "fix-branch", branch)}
                    {input("理由（必須）/ Reason (required)", "fix-reason", reason)}
                </div>
                <div class="row">
                    <button class="big" data-testid="record-correct" prop:disabled=move || c.saving.get() on:click=move |_| correct.run(())>"訂正を記録 / Record the correction"</button>
                    <button class="big danger" data-testid="record-void" prop:disabled=move || c.saving.get() on:click=move |_| void.run(())>"この受付を取消 / Void this reception"</button>
                    <Show when=decides_claim>
                        <button class="big primary" data-testid="record-decide-claim" on:click=move |_| decide_claim.run(())>"請求を決める（①→②→③）/ Decide the claim"</button>
                    </Show>
                </div>
            </Show>
            {move || message.get().map(|m| view! { <p class="recorded" data-testid="detail-message">{m}</p> })}
            <button class="big" data-testid="detail-close" on:click=move |_| on_close.run(())>"閉じる / Close"</button>
        </section>
    }
    .into_any()
}
