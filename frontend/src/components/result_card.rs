//! The result of a confirmation or lookup, as staff need it at the counter: name (●
//! flagged), kana, insurer, 記号・番号・枝番, copay with its basis, validity, 限度額 区分,
//! notices — and one tap to record the visit.

use crate::components::Bi;
use leptos::prelude::*;
use reception::{Numbers, Patient, Qualification, Relation};

/// What the result card shows, read from the bridge's `{answer, interpretation}` JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// `confirmed`, `invalid`, `not_found`, `multiple`, `error`, …
    pub status: String,
    pub message: Option<String>,
    pub patient: Patient,
    pub qualification: Option<Qualification>,
    pub copay: Option<eligibility::Copay>,
    pub valid_until: Option<String>,
    pub limit_class: Option<String>,
    pub needs_correction: Vec<String>,
    pub ratio_missing: bool,
    pub results: usize,
    /// Every result when there are several (複数該当): staff choose one with the patient.
    pub choices: Vec<(Patient, Option<Qualification>)>,
    /// Staff chose `patient` among `choices` (never the first silently).
    pub chosen: bool,
    /// The system's code (ErrorCode or ProcessingResultCode), shown with a failure.
    pub code: Option<String>,
    /// The classification (05 = 特別療養費支給対象者) and the consents in words, one line:
    /// "区分 一般 ／ 薬剤情報 同意の有効期限切れ …".
    pub details: String,
}

fn text(v: &serde_json::Value) -> Option<String> {
    v.as_str().filter(|s| !s.trim().is_empty()).map(String::from)
}

/// `YYYYMMDD` → `YYYY-MM-DD` (anything else as is).
pub fn iso_day(compact: &str) -> String {
    if compact.len() == 8 && compact.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &compact[..4], &compact[4..6], &compact[6..])
    } else {
        compact.to_string()
    }
}

impl Reading {
    pub fn from_json(v: &serde_json::Value) -> Reading {
        let i = &v["interpretation"];
        let all = v["answer"]["results"].as_array().cloned().unwrap_or_default();
        let results = all.len();
        let r = &v["answer"]["results"][0];
        Reading {
            status: i["status"]["status"].as_str().unwrap_or("error").to_string(),
            message: text(&i["message"]),
            patient: patient_of(r),
            qualification: qualification_of(r, i),
            copay: serde_json::from_value(i["copay"].clone()).ok(),
            valid_until: text(&r["insured_card_expiration_date"]).map(|d| iso_day(&d)),
            limit_class: text(&r["limit_certificate"]["classification"]),
            needs_correction: i["names_need_correction"]
                .as_array()
                .map(|a| a.iter().filter_map(text).collect())
                .unwrap_or_default(),
            ratio_missing: i["copay_ratio_missing"].as_bool().unwrap_or(false),
            results,
            choices: if results > 1 {
                all.iter()
                    .map(|r| (patient_of(r), qualification_of(r, &serde_json::Value::Null)))
                    .collect()
            } else {
                Vec::new()
            },
            chosen: false,
            code: text(&i["code"]),
            details: {
                let mut line = String::new();
                if let Some(kind) = i["card_classification"]["ja"].as_str() {
                    line.push_str("区分 ");
                    line.push_str(kind);
                }
                for c in i["consents"].as_array().into_iter().flatten() {
                    line.push_str(" ／ ");
                    line.push_str(c["what"]["ja"].as_str().unwrap_or(""));
                    line.push(' ');
                    line.push_str(c["state"]["ja"].as_str().unwrap_or(""));
                }
                line
            },
        }
    }

    /// Confirmed by the system, or one of several results chosen by staff with the patient.
    pub fn confirmed(&self) -> bool {
        self.status == "confirmed" || self.chosen
    }

    /// The reading with choice `index` taken as the patient's qualification.
    pub fn choose(&self, index: usize) -> Option<Reading> {
        let (patient, qualification) = self.choices.get(index)?.clone();
        Some(Reading { patient, qualification, chosen: true, ..self.clone() })
    }

    /// The status in words, with what to do next.
    pub fn headline(&self) -> (&'static str, &'static str) {
        match self.status.as_str() {
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
}

/// One `ResultOfQualificationConfirmation`'s person as the card shows it.
fn patient_of(r: &serde_json::Value) -> Patient {
    Patient {
        name: text(&r["name"]),
        kana: text(&r["name_kana"]),
        birth: text(&r["birthdate"]).map(|d| iso_day(&d)),
        sex: text(&r["sex1"]),
        address: text(&r["address"]),
        ..Patient::default()
    }
}

/// Its qualification (numbers, insurer, 本人/家族, classification, validity).
fn qualification_of(r: &serde_json::Value, i: &serde_json::Value) -> Option<Qualification> {
    Some(Qualification {
        numbers: Numbers {
            insurer: text(&r["insurer_number"])?,
            symbol: text(&r["insured_card_symbol"]),
            number: text(&r["insured_identification_number"])?,
            branch: text(&r["insured_branch_number"]),
        },
        insurer_name: text(&r["insurer_name"]),
        relation: text(&r["personal_family_classification"]).and_then(|c| Relation::from_code(&c)),
        card_classification: text(&i["card_classification"]["ja"]),
        public_expense: Vec::new(),
        valid_until: text(&r["insured_card_expiration_date"]).map(|d| iso_day(&d)),
    })
}

fn or_dash(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "—".into())
}

#[component]
pub fn ResultCard(reading: Reading, on_record: Callback<Reading>) -> impl IntoView {
    // Every record button waits while a reception is being saved (no double taps).
    let saving = crate::state::ctx().saving;
    let (ja, en) = reading.headline();
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
