//! 困ったとき: the fallback wizard, driven entirely by `shared/fallback`. Each step shows the
//! question and the seed's sentence it rests on; the end shows what to collect and keep,
//! the copay, the claim path (①②③, 不詳 7-fill and 摘要), the follow-up — and a
//! printable 被保険者資格申立書 pre-filled from the outage capture.

use crate::components::Bi;
use crate::model::Reception;
use crate::state::{self, ctx};
use fallback::model::{ClaimPlan, CopaySource, DocumentAction, FollowUp, Source};
use fallback::{Answers, Decision, Fact, Presented, Root, Tree, VisitContext};
use leptos::prelude::*;
use leptos::task::spawn_local;
use reception::booking::BookingLine;
use reception::status::{claim_for, reception_for, NotAReception, Visit};
use reception::{Numbers, Patient, RecordEvent, Statement};

fn source_text(s: &Source) -> (&'static str, &'static str) {
    match s {
        Source::Seed(t) => ("厚生労働省の資料", t),
        Source::Reference(t) => ("参考", t),
    }
}

fn document_text(d: &DocumentAction) -> &'static str {
    match d {
        DocumentAction::NoOtherDocumentNeeded => "他の書類は不要 / no other document needed",
        DocumentAction::CopyNumbersFromDocument => "書類の保険者番号・記号・番号・枝番を控える / copy the numbers from the document",
        DocumentAction::KeepStatementUntilPaid => "被保険者資格申立書を受け取り、支払確定まで保管 / take the 申立書 and keep it until paid",
        DocumentAction::RecordIdentity => "氏名・性別・生年月日・住所を控える / record name, sex, birth date, address",
        DocumentAction::PlaceCardOnReader => "カードをリーダーに置いてもらう / ask for the card on the reader",
        DocumentAction::InsuranceDataOnly => "保険資格情報のみ利用（薬剤・診療情報は不可）/ insurance data only",
    }
}

fn copay_source_text(c: &CopaySource) -> &'static str {
    match c {
        CopaySource::OnlineAnswer => "オンライン資格確認の結果による / from the online answer",
        CopaySource::AsShownOnDocument => "書類に記載の割合 / as shown on the document",
        CopaySource::NormalForAge => {
            "年齢に応じた通常の割合（3割など）/ the normal ratio for the age"
        }
        CopaySource::NotApplicable => "—",
    }
}

fn claim_text(c: &ClaimPlan) -> &'static str {
    match c {
        ClaimPlan::Normal => "通常どおり請求 / claim normally",
        ClaimPlan::CurrentNumbers => "① 現在の番号で請求 / ① with the current numbers",
        ClaimPlan::PastNumbers => "② 旧資格の番号で請求 / ② with the past numbers",
        ClaimPlan::Unknown => {
            "③ 不詳レセプト（7で埋める・摘要欄に申立書の住所と連絡先）/ ③ unknown claim"
        }
        ClaimPlan::AfterFollowUp => "事後確認の後に ①→②→③ で決める / decided after the follow-up",
        ClaimPlan::NotApplicable => "—",
    }
}

fn follow_up_text(f: &FollowUp) -> &'static str {
    match f {
        FollowUp::None => "なし / none",
        FollowUp::ConfirmAfterwards => "事後確認（資格情報を後で確認）/ confirm afterwards",
        FollowUp::OutageLookup => "障害復旧後に照会 / look up when the system is back",
    }
}

#[component]
pub fn FallbackPage() -> impl IntoView {
    let c = ctx();
    let answers = RwSignal::new(Answers::new());
    // The reception first; after the follow-up, the claim (① → ② → ③) of one record:
    // the one chosen on 本日の受付, or the one just recorded here.
    let root = RwSignal::new(if c.claim_target.get_untracked().is_some() {
        Root::Claim
    } else {
        Root::Reception
    });
    // The target belongs to this visit of the screen: leaving it is a page load (this is a
    // bundle of its own) and the idle timeout forgets it (`app`), so the next patient's
    // wizard starts at the reception, not at someone's claim.
    let n_insurer = RwSignal::new(String::new());
    let n_symbol = RwSignal::new(String::new());
    let n_number = RwSignal::new(String::new());
    let n_branch = RwSignal::new(String::new());
    let records = Memo::new(move |_| state::records(&c.ledger.get(), &c.pending_ops.get()));
    let name = RwSignal::new(String::new());
    let sex = RwSignal::new(String::new());
    let birth = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let contact = RwSignal::new(String::new());
    // The numbers used are a booking's downloaded ones (see `last` below).
    let pre_confirmed = RwSignal::new(false);
    // Empty = today. Staff set it when entering a visit taken on paper (an outage day),
    // because what an old 保険証 is worth depends on the visit date, not on today.
    let visit = RwSignal::new(String::new());
    let visit_date = move || {
        let typed = visit.get();
        if typed.trim().is_empty() {
            crate::ids::today_jst().ok_or_else(|| "今日の日付が分かりません / no clock".to_string())
        } else {
            eligibility::Date::parse(typed.trim())
                .map_err(|_| "受診日は YYYY-MM-DD で / visit date as YYYY-MM-DD".to_string())
        }
    };
    let message = RwSignal::new(None::<String>);
    let recorded = RwSignal::new(None::<String>);
    // The clinic's table (the bridge's, an override included), reactive.
    let policy = move || crate::state::policy(c);

    let context = move || {
        let mut ctx = VisitContext::on(visit_date().ok()?);
        ctx.pre_confirmed = pre_confirmed.get();
        ctx.birth = eligibility::Date::parse(&birth.get()).ok();
        let (a, t) = (address.get(), contact.get());
        if !a.trim().is_empty() || !t.trim().is_empty() {
            ctx.statement = Some(fallback::context::StatementContact {
                address: Some(a).filter(|s| !s.trim().is_empty()),
                contact: Some(t).filter(|s| !s.trim().is_empty()),
            });
        }
        Some(ctx)
    };
    let decision = Memo::new(move |_| {
        let policy = policy()?;
        if let Err(e) = visit_date() {
            return Some(Err(e));
        }
        let ctx = context()?;
        Some(
            Tree::official()
                .decide(&policy, &ctx, &answers.get(), root.get())
                .map_err(|e| e.to_string()),
        )
    });
    let answer = move |fact: Fact, value: &'static str| {
        answers.update(|a| {
            a.insert(fact, value.to_string());
        })
    };
    let back = move |_| {
        answers.update(|a| {
            // Forget the last staff answer (the path order is the tree's).
            if let Some(Some(Ok(Decision::Ask { path, .. } | Decision::Done { path, .. }))) =
                decision.try_get_untracked()
            {
                if let Some(step) =
                    path.iter().rev().find(|s| s.by == fallback::engine::AnsweredBy::Staff)
                {
                    a.remove(&step.fact);
                }
            }
        })
    };
    // Deciding the claim of a recorded reception: its patient, 申立書 and visit day fill the
    // form, so the 摘要 and the visit-dependent rules come from the record.
    // The records load a moment after the page (this bundle opened with the claim): the
    // form fills once the target is among them, and only once.
    let filled = StoredValue::new(false);
    Effect::new(move |_| {
        if filled.get_value() {
            return;
        }
        let Some(target) = c
            .claim_target
            .get_untracked()
            .and_then(|id| records.get().into_iter().find(|s| s.record_id == id))
        else {
            return;
        };
        filled.set_value(true);
        let r = target.reception;
        let fill = |signal: RwSignal<String>, value: Option<String>| {
            if let Some(v) = value {
                signal.set(v);
            }
        };
        let statement = r.statement.clone().unwrap_or_default();
        fill(name, r.patient.name.clone());
        fill(sex, r.patient.sex.clone());
        fill(birth, r.patient.birth.clone());
        fill(address, statement.address.or(r.patient.address.clone()));
        fill(contact, statement.contact);
        visit.set(r.visit.to_string());
    });
    let typed =
        |v: RwSignal<String>| Some(v.get_untracked().trim().to_string()).filter(|s| !s.is_empty());
    let numbers = move || match (typed(n_insurer), typed(n_number)) {
        (Some(insurer), Some(number)) => {
            Some(Numbers { insurer, symbol: typed(n_symbol), number, branch: typed(n_branch) })
        }
        _ => None,
    };
    let patient = move || Patient {
        name: typed(name),
        sex: typed(sex),
        birth: typed(birth),
        address: typed(address),
        ..Patient::default()
    };
    // Numbers known for the patient typed here: a booked patient's, downloaded by last
    // night's 一括照会 (then "pre-confirmed" answers the history question), else the last
    // known qualification (the bridge's ledger, any day). Offered for ① / ②.
    let last = RwSignal::new(None::<(String, Numbers, bool)>);
    Effect::new(move |_| {
        let (n, b) = (name.get(), birth.get());
        pre_confirmed.set(false);
        if n.trim().is_empty() || b.trim().is_empty() {
            return last.set(None);
        }
        let p = Patient {
            name: Some(n.clone()),
            kana: Some(n.clone()),
            birth: Some(b.clone()),
            ..Patient::default()
        };
        spawn_local(async move {
            let booked = match c.token.get_untracked() {
                Some(token) => crate::net::bookings(&token).await.unwrap_or_default(),
                None => Vec::new(),
            };
            let found = match reception::booking::find_line(&booked, &p) {
                Some(line @ BookingLine { downloaded: Some(numbers), .. }) => Some((
                    format!("予約 {} の前日の一括照会", line.patient_id),
                    numbers.clone(),
                    true,
                )),
                _ => state::last_visit(c, p).await.and_then(|r| {
                    Some((format!("前回（{}）", r.visit), r.claim_numbers()?.clone(), false))
                }),
            };
            // Only for what is typed now (an answer to an earlier keystroke may come late).
            if name.get_untracked() == n && birth.get_untracked() == b {
                last.set(found);
            }
        });
    });
    let use_last = move |_| {
        if let Some((_, n, pre)) = last.get_untracked() {
            n_insurer.set(n.insurer);
            n_symbol.set(n.symbol.unwrap_or_default());
            n_number.set(n.number);
            n_branch.set(n.branch.unwrap_or_default());
            pre_confirmed.set(pre);
        }
    };
    let target = move || {
        let id = c.claim_target.get()?;
        let s = records.get().into_iter().find(|s| s.record_id == id)?;
        Some((
            id,
            format!(
                "{} {}（{}）",
                s.reception.visit,
                s.reception.patient.name.clone().unwrap_or_default(),
                s.reception.status.label().0
            ),
        ))
    };
    let record = move |_| {
        let Some(Some(Ok(Decision::Done { node, outcome, copay, unknown_claim, .. }))) =
            decision.try_get_untracked()
        else {
            return;
        };
        let Ok(day) = visit_date() else { return };
        let presented = answers
            .get_untracked()
            .get(&Fact::Presented)
            .and_then(|v| Presented::from_answer(v))
            .unwrap_or(Presented::Nothing);
        let (a, t) = (typed(address), typed(contact));
        let visit = Visit {
            visit: day,
            presented,
            patient: patient(),
            statement: (a.is_some() || t.is_some()).then_some(Statement {
                address: a,
                contact: t,
                insurance: None,
            }),
            numbers: numbers(),
            terminal: None,
        };
        let plan = outcome.claim;
        match reception_for(node, &outcome, copay, visit) {
            Ok(record) => {
                let reception = Reception::new(record);
                let id = reception.record_id.clone();
                spawn_local(async move {
                    match state::record(c, reception).await {
                        Ok(true) => {
                            // "After the follow-up: decide the claim" on this screen is for
                            // the reception just made.
                            c.claim_target.set((plan == ClaimPlan::AfterFollowUp).then_some(id));
                            recorded.set(Some("受付済（未送信）/ recorded (not yet sent)".into()))
                        }
                        Ok(false) => {}
                        Err(e) => message.set(Some(e)),
                    }
                });
            }
            Err(NotAReception::NotYet) => message.set(Some(NotAReception::NotYet.to_string())),
            Err(NotAReception::ClaimDecision) => {
                let Some(target) = c.claim_target.get_untracked() else {
                    return message.set(Some("請求を決める受付を「本日の受付」の要対応から選んでください / choose the reception on 本日の受付 first".into()));
                };
                let Some(decided) = claim_for(node, &outcome, numbers(), unknown_claim.as_ref())
                else {
                    return;
                };
                spawn_local(async move {
                    match state::record_event(c, &target, RecordEvent::ClaimDecided(decided)).await
                    {
                        Ok(true) => {
                            c.claim_target.set(None);
                            recorded.set(Some(
                                "請求の決定を記録しました（未送信）/ claim decision recorded"
                                    .into(),
                            ))
                        }
                        Ok(false) => {}
                        Err(e) => message.set(Some(e)),
                    }
                });
            }
        }
    };
    let input = crate::components::text_field;
    view! {
        <section class="page" data-testid="page-fallback">
            <h1><Bi ja="困ったとき" en="When online confirmation fails"/></h1>
            <details class="capture" open>
                <summary><Bi ja="患者さんの情報（障害時・申立書用）" en="Patient details (outage / statement)"/></summary>
                <div class="form">
                    {input("氏名 / Name", "capture-name", name)}
                    {input("性別 / Sex", "capture-sex", sex)}
                    {input("生年月日 / Birth (YYYY-MM-DD)", "capture-birth", birth)}
                    {input("住所 / Address", "capture-address", address)}
                    {input("連絡先 / Contact", "capture-contact", contact)}
                    {input("受診日 / Visit date (空欄=今日 / empty = today)", "capture-visit", visit)}
                </div>
            </details>
            {move || last.get().map(|(from, n, _)| view! {
                <p class="notice" data-testid="history-offer">
                    {format!("{from}の資格: {} / known numbers", n.display())}
                    <button class="small" data-testid="use-history" on:click=use_last>"この番号を使う / use them"</button>
                </p>
            })}
            {move || (root.get() == Root::Claim).then(|| match target() {
                Some((_, label)) => view! { <p class="notice" data-testid="claim-target">{format!("請求を決める受付: {label}")}</p> }.into_any(),
                None => view! { <p class="error" data-testid="claim-target">"請求を決める受付を「本日の受付」から選んでください / choose the reception first"</p> }.into_any(),
            })}
            {move || match decision.get() {
                None => view! { <p class="error">"決定木を使えません / the decision tree is unavailable"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" data-testid="wizard-error">{e}</p> }.into_any(),
                Some(Ok(Decision::Ask { node, question, .. })) => {
                    let (src_ja, src_text) = source_text(&question.rests_on);
                    view! {
                        <section class="card wizard" data-testid="wizard-question" data-node=node>
                            <h2><Bi ja=question.text.ja en=question.text.en/></h2>
                            <div class="choices">
                                {question.answers.iter().map(|a| {
                                    let (fact, value) = (question.fact, a.value);
                                    view! {
                                        <button class="choice" data-testid=format!("answer-{value}") on:click=move |_| answer(fact, value)>
                                            <Bi ja=a.text.ja en=a.text.en/>
                                        </button>
                                    }
                                }).collect_view()}
                            </div>
                            <blockquote class="rule" data-testid="wizard-rule"><cite>{src_ja}</cite>{src_text}</blockquote>
                        </section>
                    }.into_any()
                }
                Some(Ok(Decision::Done { node, outcome, copay, unknown_claim, path, .. })) => {
                    let (src_ja, src_text) = source_text(&outcome.rests_on);
                    // A rule that rests on press reports or an inference says so beside the outcome.
                    let caveats: Vec<String> = match (policy(), context()) {
                        (Some(p), Some(ctx)) => fallback::caveats(&p, &ctx, &path)
                            .into_iter()
                            .filter_map(|c| c.caveat())
                            .map(|t| format!("{} / {}", t.ja, t.en))
                            .collect(),
                        _ => Vec::new(),
                    };
                    let keep_statement = outcome.documents.contains(&DocumentAction::KeepStatementUntilPaid);
                    view! {
                        <section class="card wizard done" data-testid="wizard-outcome" data-node=node>
                            <h2 data-testid="outcome-title"><Bi ja=outcome.title.ja en=outcome.title.en/></h2>
                            {(!caveats.is_empty()).then(|| view! {
                                <p class="notice" data-testid="outcome-caveat">{format!("この判断の根拠: {}", caveats.join("、"))}</p>
                            })}
                            <h3>"書類 / Documents"</h3>
                            <ul>{outcome.documents.iter().map(|d| view! { <li>{document_text(d)}</li> }).collect_view()}</ul>
                            <h3>"負担割合 / Copay"</h3>
                            <p data-testid="outcome-copay">
                                {copay_source_text(&outcome.copay)}
                                {copay.map(|c| format!("：{}割（推定）", c.percent / 10))}
                            </p>
                            <h3>"請求 / Claim"</h3>
                            <p data-testid="outcome-claim">{claim_text(&outcome.claim)}</p>
                            {unknown_claim.map(|u| view! {
                                <p class="unknown" data-testid="outcome-unknown">
                                    {format!("保険者番号 {} ・記号 {} ・番号 {}", u.placeholders.insurer_number, u.placeholders.symbol, u.placeholders.number)}
                                    {u.tekiyo.map(|t| format!(" ／ 摘要: {t}"))}
                                </p>
                            })}
                            <h3>"事後確認 / Follow-up"</h3>
                            <p data-testid="outcome-follow-up">{follow_up_text(&outcome.follow_up)}</p>
                            <blockquote class="rule"><cite>{src_ja}</cite>{src_text}</blockquote>
                            {matches!(outcome.claim, ClaimPlan::CurrentNumbers | ClaimPlan::PastNumbers).then(|| view! {
                                <div class="form" data-testid="claim-numbers">
                                    {input("保険者番号 / Insurer", "claim-insurer", n_insurer)}
                                    {input("記号 / Symbol", "claim-symbol", n_symbol)}
                                    {input("番号 / Number", "claim-number", n_number)}
                                    {input("枝番 / Branch", "claim-branch", n_branch)}
                                </div>
                            })}
                            {match outcome.established {
                                fallback::model::Established::NotYet => view! {
                                    <p class="notice" data-testid="wizard-not-a-reception">{NotAReception::NotYet.to_string()}</p>
                                }.into_any(),
                                fallback::model::Established::Claim => view! {
                                    <button class="primary big" data-testid="wizard-record-claim" prop:disabled=move || c.saving.get() || c.claim_target.get().is_none() on:click=record>"この受付の請求として記録 / Record this claim decision"</button>
                                }.into_any(),
                                _ => view! {
                                    <button class="primary big" data-testid="wizard-record" prop:disabled=move || c.saving.get() on:click=record>"受付を記録 / Record the visit"</button>
                                }.into_any(),
                            }}
                            {(outcome.claim == ClaimPlan::AfterFollowUp).then(|| view! {
                                <button class="big" data-testid="wizard-claim" on:click=move |_| { answers.set(Answers::new()); root.set(Root::Claim) }>
                                    "事後確認の後：請求を決める / After the follow-up: decide the claim"
                                </button>
                            })}
                            {keep_statement.then(|| view! {
                                <button class="big" data-testid="print-statement" on:click=move |_| { if let Some(w) = web_sys::window() { let _ = w.print(); } }>
                                    "申立書を印刷 / Print the statement"
                                </button>
                                <Statement name=name sex=sex birth=birth address=address contact=contact visit=visit/>
                            })}
                        </section>
                    }.into_any()
                }
            }}
            <div class="row">
                <button class="big" data-testid="wizard-back" on:click=back>"一つ戻る / Back"</button>
                <button class="big" data-testid="wizard-restart" on:click=move |_| { answers.set(Answers::new()); root.set(Root::Reception); c.claim_target.set(None); recorded.set(None); }>"最初から / Restart"</button>
            </div>
            {move || recorded.get().map(|t| view! { <p class="recorded" data-testid="recorded">{t}</p> })}
            {move || message.get().map(|t| view! { <p class="error">{t}</p> })}
        </section>
    }
}

/// 被保険者資格申立書, pre-filled; only this prints (print stylesheet).
#[component]
fn Statement(
    name: RwSignal<String>,
    sex: RwSignal<String>,
    birth: RwSignal<String>,
    address: RwSignal<String>,
    contact: RwSignal<String>,
    visit: RwSignal<String>,
) -> impl IntoView {
    let today = crate::ids::today_jst().map(|d| d.to_string()).unwrap_or_default();
    let day = move || Some(visit.get()).filter(|v| !v.trim().is_empty()).unwrap_or(today.clone());
    view! {
        <article class="statement" data-testid="statement">
            <h2>"被保険者資格申立書"</h2>
            <p>"私は、下記のとおり医療保険の被保険者資格を有していることを申し立てます。"</p>
            <table>
                <tr><th>"氏名"</th><td>{move || name.get()}</td></tr>
                <tr><th>"性別"</th><td>{move || sex.get()}</td></tr>
                <tr><th>"生年月日"</th><td>{move || birth.get()}</td></tr>
                <tr><th>"住所"</th><td>{move || address.get()}</td></tr>
                <tr><th>"連絡先"</th><td>{move || contact.get()}</td></tr>
                <tr><th>"加入している保険（わかる範囲で）"</th><td class="blank"></td></tr>
                <tr><th>"受診日"</th><td>{day}</td></tr>
            </table>
            <p class="sign">"署名 ＿＿＿＿＿＿＿＿＿＿＿＿"</p>
        </article>
    }
}
