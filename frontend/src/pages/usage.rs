//! 利用状況: the clinic's マイナ保険証 利用率 this month and the six before, beside its
//! prefecture's and the nation's for its facility type; the smartphone share; a plot drawn
//! here as SVG; the 加算 tier reached and the gap to the next. Computed by `shared/usage`
//! from the terminal's own copy of the ledger (and its unsent receptions), so it works
//! offline.

use crate::components::Bi;
use crate::ids::{tenths, whole};
use crate::model::SyncState;
use crate::state::ctx;
use leptos::prelude::*;
use usage::report::Report;
use usage::{Benchmarks, Facility, Rate};

const W: f64 = 700.0;
const H: f64 = 260.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 30.0;

fn pct(r: Option<Rate>) -> String {
    r.map_or_else(|| "—".to_string(), |r| r.display())
}

fn y_of(percent: f64, top: f64) -> f64 {
    let plot = H - BOTTOM - 10.0;
    H - BOTTOM - plot * (percent / top).clamp(0.0, 1.0)
}

#[component]
fn Plot(report: Report) -> impl IntoView {
    let rates: Vec<f64> = report.months.iter().map(|m| m.rate.map_or(0.0, Rate::percent)).collect();
    let national = report.national.as_ref().map(|b| b.rate.percent());
    let prefecture = report.prefecture_rate.as_ref().map(|b| b.rate.percent());
    let top = rates
        .iter()
        .copied()
        .chain(national)
        .chain(prefecture)
        .fold(50.0_f64, f64::max)
        .mul_add(1.15, 0.0)
        .min(100.0);
    let step = (W - LEFT - 10.0) / rates.len().max(1) as f64;
    let bars = report
        .months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let v = m.rate.map_or(0.0, Rate::percent);
            let x = LEFT + step * i as f64 + step * 0.15;
            let y = y_of(v, top);
            let label = format!("{}", m.month).get(5..).unwrap_or("").to_string();
            view! {
                <rect data-testid="usage-bar" x=tenths(x) y=tenths(y) width=tenths(step * 0.7)
                    height=tenths((H - BOTTOM - y).max(0.0)) fill="#0b5d4b">
                    <title>{format!("{} {}", m.month, pct(m.rate))}</title>
                </rect>
                <text x=tenths(x + step * 0.35) y=tenths(H - 10.0) text-anchor="middle" font-size="13">{label}"月"</text>
                <text x=tenths(x + step * 0.35) y=tenths(y - 4.0) text-anchor="middle" font-size="12">{m.rate.map(|r| format!("{}%", whole(r.percent())))}</text>
            }
        })
        .collect_view();
    let line = |value: Option<f64>,
                color: &'static str,
                name: &'static str,
                testid: &'static str| {
        value.map(|v| {
            let y = y_of(v, top);
            view! {
                <line data-testid=testid x1=tenths(LEFT) x2=tenths(W - 10.0) y1=tenths(y) y2=tenths(y)
                    stroke=color stroke-width="2" stroke-dasharray="6 4"/>
                <text x=tenths(W - 12.0) y=tenths(y - 4.0) text-anchor="end" font-size="12" fill=color>{format!("{name} {}%", tenths(v))}</text>
            }
        })
    };
    view! {
        <svg data-testid="usage-plot" viewBox=format!("0 0 {} {}", whole(W), whole(H)) width="100%" role="img"
            aria-label="マイナ保険証 利用率の推移 / usage by month">
            <line x1=whole(LEFT) x2=whole(LEFT) y1="10" y2=whole(H - BOTTOM) stroke="#888"/>
            <line x1=whole(LEFT) x2=whole(W - 10.0) y1=whole(H - BOTTOM) y2=whole(H - BOTTOM) stroke="#888"/>
            <text x="4" y=tenths(y_of(top, top) + 4.0) font-size="12">{format!("{}%", whole(top))}</text>
            <text x="4" y=whole(H - BOTTOM) font-size="12">"0%"</text>
            {bars}
            {line(national, "#a15c00", "全国", "usage-line-national")}
            {line(prefecture, "#3559a8", "都道府県", "usage-line-prefecture")}
        </svg>
    }
}

/// The month's certificates that will make (or made) trouble at the counter, and the
/// invitations (声かけ) with the patients who came back with the マイナ保険証.
#[component]
fn PatientSideCard(p: usage::care::PatientSide) -> impl IntoView {
    let rows = [
        (
            "usage-cert-soon",
            "証明書の期限が3か月以内",
            "certificate expires within 3 months",
            p.expires_soon,
        ),
        ("usage-cert-grace", "証明書が期限切れ（猶予期間中）", "expired, in grace", p.in_grace),
        ("usage-cert-lapsed", "証明書が期限切れ（猶予なし）", "lapsed", p.lapsed),
        ("usage-invited", "声かけした患者さん", "patients invited", p.invited),
        ("usage-seen-again", "声かけ後にまた来院", "invited earlier, seen again", p.seen_again),
        (
            "usage-returned",
            "うちマイナ保険証で来院",
            "of whom with the マイナ保険証",
            p.returned_with_myna,
        ),
    ];
    view! {
        <section class="card" data-testid="usage-patient-side">
            <h2><Bi ja="今月の患者さんの側" en="This month, the patients' side"/></h2>
            <dl class="compare">
                {rows.into_iter().map(|(id, ja, en, n)| view! {
                    <dt>{ja}<span class="en">{format!(" / {en}")}</span></dt>
                    <dd data-testid=id>{format!("{n} 人")}</dd>
                }).collect_view()}
            </dl>
        </section>
    }
}

#[component]
pub fn UsagePage() -> impl IntoView {
    let c = ctx();
    // The report is made from this page's copy of the ledger: the bridge hears of it only here
    // (an audited report, by the signed-in person).
    if let (Some(token), Some(today)) = (c.token.get_untracked(), crate::ids::today_jst()) {
        let month = today.year_month().to_string();
        leptos::task::spawn_local(crate::staff::viewed(token, "usage", month));
    }
    let report = Memo::new(move |_| {
        let month = crate::ids::today_jst()?.year_month();
        let facility = Facility::from_setting(&c.facility.get()).unwrap_or(Facility::Clinic);
        let prefecture =
            c.prefecture.get().trim().parse::<u8>().ok().filter(|p| (1..=47).contains(p));
        let ledger = c.ledger.get();
        // This terminal's receptions the bridge has not acknowledged yet count too.
        let unsent: Vec<protocol::Op> = c
            .receptions
            .get()
            .iter()
            .filter(|r| !matches!(r.sync, SyncState::Acknowledged { .. }))
            .map(|r| r.to_op())
            .collect();
        let events =
            ledger
                .iter()
                .map(|e| (e.record_id.as_str(), e.kind.as_str(), e.device_time.as_str(), &e.body))
                .chain(unsent.iter().map(|o| {
                    (o.record_id.as_str(), o.kind.as_str(), o.device_time.as_str(), &o.body)
                }));
        let benchmarks = Benchmarks::embedded().ok()?;
        let policy = crate::state::policy(c)?;
        let series = usage::Series::embedded().ok()?;
        Some(usage::report(
            events,
            &benchmarks,
            &series,
            &policy,
            month,
            facility,
            prefecture,
            false,
        ))
    });
    view! {
        <section class="page" data-testid="page-usage">
            <h1><Bi ja="利用状況" en="マイナ保険証 usage"/></h1>
            {move || match report.get() {
                None => view! { <p class="error">"集計できません / cannot compute"</p> }.into_any(),
                Some(r) => {
                    let this = r.months.last().cloned();
                    let (ja, en) = r.facility.label();
                    view! {
                        <section class="card usage-now">
                            <h2>{format!("{} の利用率 / this month", r.month)}</h2>
                            <p class="big-figure" data-testid="usage-rate">{pct(this.as_ref().and_then(|m| m.rate))}</p>
                            <p data-testid="usage-counts">{this.as_ref().map(|m| format!(
                                "マイナ保険証 {} 件 ／ オンライン資格確認 {} 件（うちスマホ {} 件）/ {} of {} online confirmations ({} by phone)",
                                m.counts.myna, m.counts.online, m.counts.phone, m.counts.myna, m.counts.online, m.counts.phone))}</p>
                            <p data-testid="usage-person-rate">{format!("利用割合（人数）/ by persons: {}", pct(this.as_ref().and_then(|m| m.person_rate)))}</p>
                            <p data-testid="usage-phone">{format!("スマホの割合 / smartphone share: {}", pct(this.as_ref().and_then(|m| m.phone_share)))}</p>
                            <dl class="compare">
                                <dt>{format!("全国（{ja}）/ nation ({en})")}</dt>
                                <dd data-testid="usage-national">{r.national.as_ref().map(|b| format!("{} （{}・オン資件数ベース / per online confirmation）", b.rate.display(), b.month))}</dd>
                                // The newest published figure of each series: never mixed, each
                                // with its basis (the receipt basis is the 加算's).
                                {r.latest.clone().into_iter().map(|p| {
                                    let (ja_basis, en_basis) = p.basis.label();
                                    let id = match p.basis { usage::SeriesBasis::Online => "usage-latest-online", usage::SeriesBasis::Receipt => "usage-latest-receipt" };
                                    view! {
                                        <dt>{format!("全国 最新（{ja_basis}）/ nation, latest ({en_basis})")}</dt>
                                        <dd data-testid=id>{format!("{} （{}）", p.display(), p.month)}</dd>
                                    }
                                }).collect_view()}
                                <dt>{format!("都道府県（{ja}）/ prefecture")}</dt>
                                <dd data-testid="usage-prefecture">{r.prefecture_rate.as_ref().map_or_else(
                                    || "設定で都道府県番号を入れてください / set the prefecture in 設定".to_string(),
                                    |b| format!("{} {} （{}・オン資件数ベース）", r.prefecture.and_then(usage::prefecture::name_of).unwrap_or(""), b.rate.display(), b.month))}</dd>
                            </dl>
                        </section>
                        <section class="card">
                            <h2><Bi ja="この6か月" en="The last six months"/></h2>
                            <Plot report=r.clone()/>
                        </section>
                        <section class="card" data-testid="usage-tier">
                            <h2><Bi ja="加算（マイナ保険証利用率）" en="Addition (マイナ保険証 rate)"/></h2>
                            // One computation with `bridge report usage`: the requirement, whether
                            // it is reached, this month's gap, and how sure the rule is.
                            <ul data-testid="usage-addition">
                                {r.addition_summary.clone().into_iter().enumerate().map(|(i, l)| {
                                    let id = match i { 0 => "usage-thresholds", 1 => "usage-reached", _ => "usage-addition-line" };
                                    view! { <li data-testid=id>{l.ja}<span class="en">" / "{l.en}</span></li> }
                                }).collect_view()}
                            </ul>
                            <p class="source">{format!("出典 / source: {}", r.benchmark_source)}</p>
                        </section>
                        <PatientSideCard p=r.patient_side.clone()/>
                    }.into_any()
                }
            }}
            <super::export::ExportCard/>
        </section>
    }
}
