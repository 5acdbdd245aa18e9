//! The result of a confirmation or lookup, as staff need it at the counter: name (●
//! flagged), kana, insurer, 記号・番号・枝番, copay with its basis, validity, 限度額 区分,
//! notices — and one tap to record the visit.

use crate::components::Bi;
use leptos::prelude::*;

/// What the result card shows: the bridge's reading of the answer (one type on both
/// sides of the socket).
pub use reception::reading::Reading;

/// A reading's status in words, with what to do next.
pub fn headline(reading: &Reading) -> (&'static str, &'static str) {
    match reading.status.as_str() {
        "confirmed" => ("資格を確認しました", "qualification confirmed"),
        "invalid" => (
            "資格無効：保険者・番号を確認し、困ったときへ",
            "no valid qualification: check with the patient, see 困ったとき",
        ),
        "invalid_new_qualification" => (
            "資格無効（新しい資格あり）：新しい資格で受付",
            "invalid, a new qualification exists: use the new one",
        ),
        "not_found" => (
            "該当なし：番号を確認するか、困ったときへ",
            "not found: check the numbers or see 困ったとき",
        ),
        "multiple" => (
            "複数該当：患者さんと一緒に選んでください",
            "several qualifications: choose with the patient",
        ),
        "processing" => (
            "処理中：しばらくしてからもう一度照会してください",
            "still processing: look up again in a moment",
        ),
        _ => ("確認できませんでした：困ったときへ", "could not confirm: see 困ったとき"),
    }
}

/// The reading a message carries; one without is said to be unreadable.
pub fn carried(body: reception::reading::Carried) -> Reading {
    body.reading.unwrap_or_else(|| {
        Reading::unreadable("ブリッジの応答に結果がありません / the bridge sent no result".into())
    })
}

fn or_dash(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "—".into())
}

#[component]
pub fn ResultCard(reading: Reading, on_record: Callback<Reading>) -> impl IntoView {
    // Every record button waits while a reception is being saved (no double taps).
    let saving = crate::state::ctx().saving;
    let (ja, en) = headline(&reading);
    let ok = reading.confirmed();
    let p = reading.patient.clone();
    let flagged = !reading.needs_correction.is_empty();
    let copay = match &reading.copay {
        Some(c) if c.is_confirmed() => format!("{}割（確定 / confirmed）", c.percent / 10),
        Some(c) => format!("{}割（推定 / estimated）", c.percent / 10),
        None => "—".into(),
    };
    let q = reading.qualification.clone();
    let n = q.as_ref().map(|q| q.numbers.clone());
    let numbers = format!(
        "{} ・ {} ・ {}",
        or_dash(&n.as_ref().and_then(|n| n.symbol.clone())),
        or_dash(&n.as_ref().map(|n| n.number.clone())),
        or_dash(&n.as_ref().and_then(|n| n.branch.clone()))
    );
    let insurer = format!(
        "{} {}",
        or_dash(&n.as_ref().map(|n| n.insurer.clone())),
        q.as_ref().and_then(|q| q.insurer_name.clone()).unwrap_or_default()
    );
    // The patient's last visit in the clinic's ledger (this terminal's and the bridge's
    // patient index): what changed is said before recording.
    let since_last = RwSignal::new(None::<(eligibility::Date, Vec<reception::continuity::Change>)>);
    if let Some(today) = crate::ids::today_jst() {
        let now = crate::pages::record_from(&reading, crate::model::Method::Card, None, today);
        let c = crate::state::ctx();
        leptos::task::spawn_local(async move {
            if let Some(last) = crate::state::last_visit(c, now.patient.clone()).await {
                since_last.set(Some((last.visit, reception::continuity::changes(&last, &now))));
            }
        });
    }
    let continuity = move || {
        since_last.get().map(|(day, changes)| {
        if changes.is_empty() {
            view! { <p class="notice" data-testid="continuity-same">{format!("前回（{day}）と同じ資格です / same as the last visit")}</p> }.into_any()
        } else {
            let list: Vec<String> = changes.iter().map(|c| c.display()).collect();
            view! { <p class="notice warn" data-testid="continuity-changes" role="alert">{format!("前回（{day}）と保険が変わりました: {} / changed since the last visit", list.join("、"))}</p> }.into_any()
        }
    })
    };
    let reading_for_record = reading.clone();
    let single = reading.choices.is_empty();
    let (valid_until, limit_class) = (or_dash(&reading.valid_until), or_dash(&reading.limit_class));
    // 複数該当: one button per qualification instead of one for "the" result.
    let choices = (!reading.choices.is_empty()).then(|| {
        let rows = reading
            .choices
            .iter()
            .enumerate()
            .map(|(index, (choice, q))| {
                let picked = reading.choose(index);
                let label = format!(
                    "{} ／ {} {}",
                    or_dash(&choice.name),
                    q.as_ref().map(|q| q.numbers.display()).unwrap_or_else(|| "—".into()),
                    q.as_ref().and_then(|q| q.insurer_name.clone()).unwrap_or_default(),
                );
                view! {
                    <li>
                        <span data-testid=format!("choice-{index}")>{label}</span>
                        <button class="big" data-testid=format!("choose-{index}")
                            prop:disabled=move || saving.get()
                            on:click=move |_| if let Some(r) = picked.clone() { on_record.run(r) }>
                            "この資格で受付 / record with this one"
                        </button>
                    </li>
                }
            })
            .collect_view();
        view! {
            <div class="choices-list" data-testid="choices">
                <p><Bi ja="患者さんに保険証・資格確認書などで確認し、一つ選んでください" en="Check with the patient which one is current, then choose"/></p>
                <ul>{rows}</ul>
            </div>
        }
    });
    view! {
        <section class=if ok { "card result ok" } else { "card result warn" } data-testid="result-card" data-status=reading.status.clone()>
            <h2 data-testid="result-headline">{ja}<span class="en">{en}</span></h2>
            // 複数該当: no single record is shown as "the" patient's; the list below is.
            {single.then(|| view! {
                <dl>
                    <dt>"氏名 / Name"</dt>
                    <dd data-testid="result-name" class:flag=flagged>
                        {or_dash(&p.name)}
                        {flagged.then(|| view! { <span class="flag-note">" ● 外字の置き換えあり：正しい字に直してください / stand-in character: correct it"</span> })}
                    </dd>
                    <dt>"カナ / Kana"</dt><dd data-testid="result-kana">{or_dash(&p.kana)}</dd>
                    <dt>"生年月日 / Birth"</dt><dd>{or_dash(&p.birth)}</dd>
                    <dt>"保険者 / Insurer"</dt><dd data-testid="result-insurer">{insurer}</dd>
                    <dt>"記号・番号・枝番"</dt><dd data-testid="result-numbers">{numbers}</dd>
                    <dt>"負担割合 / Copay"</dt><dd data-testid="result-copay">{copay}</dd>
                    <dt>"有効期限 / Valid until"</dt><dd>{valid_until}</dd>
                    <dt>"限度額 区分 / Limit class"</dt><dd>{limit_class}</dd>
                </dl>
            })}
            {move || single.then(continuity)}
            {reading.message.clone().map(|m| view! { <p class="notice" data-testid="result-message">{m}</p> })}
            <p class="notice" data-testid="result-details">
                {(!reading.confirmed()).then(|| reading.code.clone()).flatten().map(|code| format!("コード / code {code} "))}
                {single.then(|| reading.details.clone())}
            </p>
            {reading.ratio_missing.then(|| view! { <p class="notice">"負担割合が応答にありません：年齢から推定しています / the ratio is missing: estimated from age"</p> })}
            {choices}
            {single.then(|| view! {
                <button class="primary big" data-testid="record-visit"
                    prop:disabled=move || saving.get()
                    on:click=move |_| on_record.run(reading_for_record.clone())>
                    "受付を記録 / Record the visit"
                </button>
            })}
        </section>
    }
}
