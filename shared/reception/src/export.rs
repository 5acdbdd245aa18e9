//! The hand-off to the receipt computer: one row per reception, one column per field,
//! selected by visit date. The CSV header is Japanese (README: "レセコンへの受け渡し").

use crate::life::RecordState;
use crate::status::claim_label;
use eligibility::copay::Basis;
use eligibility::Date;
use fallback::Presented;
use serde::Serialize;

/// The CSV header, in column order.
pub const HEADER: [&str; 25] = [
    "受診日",
    "受付時刻",
    "確認方法",
    "確認結果",
    "保険者番号",
    "記号",
    "番号",
    "枝番",
    "本人家族",
    "負担割合",
    "負担割合の根拠",
    "公費負担者番号",
    "受給者番号",
    "氏名",
    "カナ",
    "生年月日",
    "性別",
    "請求区分",
    "摘要",
    "記録ID",
    "記録の状態",
    "取消・訂正の理由",
    "事後確認",
    "端末",
    "最終seq",
];

/// One exported row (JSON keys in English, CSV columns in [`HEADER`]'s order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub visit: String,
    pub time: String,
    pub method: String,
    pub result: String,
    pub insurer: String,
    pub symbol: String,
    pub number: String,
    pub branch: String,
    pub relation: String,
    pub copay: String,
    pub copay_basis: String,
    pub public_payer: String,
    pub public_recipient: String,
    pub name: String,
    pub kana: String,
    pub birth: String,
    pub sex: String,
    pub claim: String,
    pub tekiyo: String,
    pub record_id: String,
    pub state: String,
    pub reason: String,
    pub follow_up: String,
    pub device: String,
    pub last_seq: u64,
}

impl Row {
    /// The cells in [`HEADER`]'s order.
    pub fn cells(&self) -> [String; 25] {
        [
            self.visit.clone(),
            self.time.clone(),
            self.method.clone(),
            self.result.clone(),
            self.insurer.clone(),
            self.symbol.clone(),
            self.number.clone(),
            self.branch.clone(),
            self.relation.clone(),
            self.copay.clone(),
            self.copay_basis.clone(),
            self.public_payer.clone(),
            self.public_recipient.clone(),
            self.name.clone(),
            self.kana.clone(),
            self.birth.clone(),
            self.sex.clone(),
            self.claim.clone(),
            self.tekiyo.clone(),
            self.record_id.clone(),
            self.state.clone(),
            self.reason.clone(),
            self.follow_up.clone(),
            self.device.clone(),
            self.last_seq.to_string(),
        ]
    }
}

/// 性別 in one form: the system's code (`Sex1`: 1 男, 2 女) or the word staff typed.
fn sex_label(sex: Option<&str>) -> String {
    match sex.map(str::trim) {
        Some("1") => "男".into(),
        Some("2") => "女".into(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// 確認方法 in words.
pub fn presented_label(p: Presented) -> &'static str {
    match p {
        Presented::MynaCard => "マイナ保険証",
        Presented::Smartphone => "スマホ",
        Presented::EligibilityCertificate => "資格確認書",
        Presented::HealthInsuranceCard => "健康保険証",
        Presented::EligibilityNotice => "資格情報のお知らせ",
        Presented::MynaPortal => "マイナポータル",
        Presented::Nothing => "なし（申立て）",
    }
}

/// One row for a record; `device` names the terminal that recorded it.
pub fn row(state: &RecordState, device: &str) -> Row {
    let r = &state.reception;
    let claim = &state.claim();
    let q = r.qualification.as_ref();
    // A 不詳 claim is sent with its 7-fill; ① / ② with the numbers the claim used.
    let (insurer, symbol, number) = match &claim.unknown {
        Some(u) => (
            u.placeholders.insurer_number.clone(),
            u.placeholders.symbol.clone(),
            u.placeholders.number.clone(),
        ),
        None => {
            let n = claim.numbers.as_ref().or(q.map(|q| &q.numbers));
            (
                n.map(|n| n.insurer.clone()).unwrap_or_default(),
                n.and_then(|n| n.symbol.clone()).unwrap_or_default(),
                n.map(|n| n.number.clone()).unwrap_or_default(),
            )
        }
    };
    let branch = match &claim.unknown {
        Some(_) => String::new(),
        None => claim
            .numbers
            .as_ref()
            .or(q.map(|q| &q.numbers))
            .and_then(|n| n.branch.clone())
            .unwrap_or_default(),
    };
    let time = eligibility::jst_datetime(&state.recorded_time)
        .map(|(_, s)| format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60))
        .unwrap_or_default();
    let copay_basis = r.copay.as_ref().map(|c| match &c.basis {
        Basis::Confirmed { .. } => "確認".to_string(),
        Basis::Estimated { .. } => "推定".to_string(),
    });
    let public = q.and_then(|q| q.public_expense.first());
    let reason = match (&state.voided, state.corrected.last()) {
        (Some(v), _) => v.reason.clone(),
        (None, Some(reason)) => reason.clone(),
        (None, None) => String::new(),
    };
    let follow_up = match &state.follow_up {
        Some(f) if f.confirmed() => "確認済",
        Some(_) => "確認できず",
        None if r.follow_up.is_some() => "待ち",
        None => "",
    };
    Row {
        visit: r.visit.to_string(),
        time,
        method: presented_label(r.presented).to_string(),
        result: r.status.label().0.to_string(),
        insurer,
        symbol,
        number,
        branch,
        relation: q.and_then(|q| q.relation).map(|x| x.label().to_string()).unwrap_or_default(),
        copay: r.copay.as_ref().map(|c| format!("{}割", c.percent / 10)).unwrap_or_default(),
        copay_basis: copay_basis.unwrap_or_default(),
        public_payer: public.map(|p| p.payer.clone()).unwrap_or_default(),
        public_recipient: public.and_then(|p| p.recipient.clone()).unwrap_or_default(),
        name: r.patient.name.clone().unwrap_or_default(),
        kana: r.patient.kana.clone().unwrap_or_default(),
        birth: r.patient.birth.clone().unwrap_or_default(),
        sex: sex_label(r.patient.sex.as_deref()),
        claim: claim_label(claim.plan).to_string(),
        tekiyo: claim.unknown.as_ref().and_then(|u| u.tekiyo.clone()).unwrap_or_default(),
        record_id: state.record_id.clone(),
        state: state.state_label().to_string(),
        reason,
        follow_up: follow_up.to_string(),
        device: device.to_string(),
        last_seq: state.last_seq,
    }
}

/// The records of `visit` (after `since_seq`: those with an event newer than it), in the
/// order they were recorded.
pub fn select(states: &[RecordState], visit: Date, since_seq: u64) -> Vec<&RecordState> {
    states.iter().filter(|s| s.reception.visit == visit && s.last_seq > since_seq).collect()
}

/// One CSV field, quoted when it must be (RFC 4180).
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The CSV text (CRLF line ends, header first).
pub fn csv(rows: &[Row]) -> String {
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for r in rows {
        let cells: Vec<String> = r.cells().iter().map(|c| field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}
