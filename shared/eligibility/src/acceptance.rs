//! Which document proves qualification on a visit date.
//!
//! The dated policy table says, per document kind and date, the *modes* in which the
//! kind may be used (alone, with the card, only when online confirmation failed, …).
//! This module first applies the checks that belong to the document itself (printed
//! validity, certificate expiry and its grace, the smartphone's age and OS rules) and
//! then evaluates each mode in force; the most favourable answer wins.

use crate::age::age_on;
use crate::date::Date;
use crate::policy::{DocumentKind, Holder, Mode, Policy};
use crate::Text;
use serde::{Deserialize, Serialize};

/// The phone's operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneOs {
    Ios,
    Android,
}

/// What the patient presents, with the data the rules need from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Document {
    /// マイナ保険証 card; the auth certificate's notAfter when read.
    MynaCard { certificate_not_after: Option<Date> },
    /// スマホ保険証.
    Smartphone {
        os: Option<PhoneOs>,
        os_version: Option<[u32; 2]>,
        certificate_not_after: Option<Date>,
    },
    /// 資格確認書 with its printed 有効期限; `late_elderly` when issued by a 後期高齢者
    /// 広域連合 (the blanket one may be used to its policy date when none is typed).
    EligibilityCertificate { valid_until: Option<Date>, late_elderly: bool },
    /// 健康保険証 with its printed 有効期限, if any.
    HealthInsuranceCard { valid_until: Option<Date> },
    /// 資格情報のお知らせ.
    EligibilityNotice,
    /// マイナポータル 資格情報 screen or downloaded PDF.
    MynaPortalScreen,
    /// 被保険者資格申立書.
    StatementForm,
    /// Nothing.
    Nothing,
}

impl Document {
    pub fn kind(&self) -> Option<DocumentKind> {
        Some(match self {
            Document::MynaCard { .. } => DocumentKind::MynaCard,
            Document::Smartphone { .. } => DocumentKind::Smartphone,
            Document::EligibilityCertificate { .. } => DocumentKind::EligibilityCertificate,
            Document::HealthInsuranceCard { .. } => DocumentKind::HealthInsuranceCard,
            Document::EligibilityNotice => DocumentKind::EligibilityNotice,
            Document::MynaPortalScreen => DocumentKind::MynaPortalScreen,
            Document::StatementForm => DocumentKind::StatementForm,
            Document::Nothing => return None,
        })
    }
}

/// The state of the online confirmation that belongs to the document: by the card for a
/// card or phone, by its numbers for a paper document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Online {
    #[default]
    NotYet,
    Succeeded,
    CouldNotBeDone,
}

/// Everything acceptance depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presentation {
    pub document: Document,
    pub visit: Date,
    #[serde(default)]
    pub online: Online,
    #[serde(default)]
    pub birth: Option<Date>,
    /// The document is shown together with the マイナ保険証 card.
    #[serde(default)]
    pub with_card: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Acceptance {
    Accepted { notices: Vec<Notice> },
    OnCondition { condition: Condition, notices: Vec<Notice> },
    NotAccepted { reason: Refusal, instead: Vec<Alternative> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Accepted once the online confirmation (card or phone) succeeds.
    OnlineConfirmation,
    /// Accepted once the online confirmation by the document's numbers succeeds.
    OnlineConfirmationByNumbers,
    /// Only together with the マイナ保険証 card.
    TogetherWithCard,
    /// Only when the online confirmation could not be done.
    OnlyIfOnlineFailed,
    /// 申立書: confirm the qualification afterwards (事後確認); keep it until payment.
    ConfirmAfterwards,
    /// The printed 有効期限 must be checked (none was given).
    CheckPrintedValidity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "notice")]
pub enum Notice {
    /// The card's certificate expired; usable for insurance data only until `grace_until`.
    CertificateGrace { expired_on: Date, grace_until: Date, days_left: i64 },
    /// The certificate expires within three months: advise renewal at the 市区町村.
    CertificateExpiresSoon { expires_on: Date, days_left: i64 },
    /// The 後期高齢者 blanket 資格確認書 is valid to this date.
    BlanketLateElderlyValidity { valid_until: Date },
    /// Valid only in the transitional window that ends on this date.
    Transitional { until: Date },
    /// The rule this decision rests on is not from an official text at hand: reported, or
    /// inferred. Shown as "推定 / inferred" (or "reported") beside the decision.
    Unconfirmed { confidence: crate::policy::Confidence },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "refusal")]
pub enum Refusal {
    /// The kind is not usable yet on this date.
    NotYetInUse {
        from: Date,
    },
    /// The kind is no longer usable.
    NoLongerValid {
        ended: Date,
    },
    /// The printed validity has passed.
    Expired {
        on: Date,
    },
    /// The electronic certificate expired and its grace (if any) is over.
    CertificateExpired {
        on: Date,
        grace_months: u32,
    },
    TooYoung {
        min_age: u32,
    },
    OsTooOld {
        os: PhoneOs,
        min: [u32; 2],
    },
    OnlineConfirmationFailed,
    NoDocument,
    /// The policy table has no rule for this kind on this date.
    NoRule,
}

/// What to ask for instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    MynaCard,
    EligibilityCertificate,
    MynaPortalScreen,
    EligibilityNotice,
    /// 再診 with numbers known from earlier visits: confirm orally.
    OralConfirmation,
    /// 初診: 被保険者資格申立書.
    StatementForm,
}

/// The fallback list of the seed when online confirmation could not be done.
const FALLBACK: &[Alternative] = &[
    Alternative::MynaPortalScreen,
    Alternative::EligibilityNotice,
    Alternative::OralConfirmation,
    Alternative::StatementForm,
];

/// The notice period before a certificate expires (readers warn from 3 months before).
const EXPIRY_WARNING_MONTHS: u32 = 3;

/// Decides whether the presented document proves qualification on the visit date.
pub fn accept(policy: &Policy, p: &Presentation) -> Acceptance {
    let Some(kind) = p.document.kind() else {
        return refused(
            Refusal::NoDocument,
            &[
                Alternative::MynaCard,
                Alternative::EligibilityCertificate,
                Alternative::OralConfirmation,
                Alternative::StatementForm,
            ],
        );
    };
    let Some(rule) = policy.document(kind, p.visit) else {
        return not_in_use(policy, kind, p.visit);
    };
    let mut notices = Vec::new();
    if let Err(refusal) = document_checks(policy, p, &mut notices) {
        return refusal;
    }
    if let Some(until) = rule.until {
        if rule.modes.contains(&Mode::AloneWithOnlineByNumbers) {
            notices.push(Notice::Transitional { until });
        }
    }
    if rule.confidence != crate::policy::Confidence::Official {
        notices.push(Notice::Unconfirmed { confidence: rule.confidence });
    }
    rule.modes
        .iter()
        .map(|mode| evaluate(*mode, p, &notices))
        .min_by_key(rank)
        .unwrap_or_else(|| refused(Refusal::NoRule, FALLBACK))
}

/// Accepted beats a condition beats a refusal; among conditions, the one staff can
/// satisfy at the counter right now comes first.
fn rank(a: &Acceptance) -> u8 {
    match a {
        Acceptance::Accepted { .. } => 0,
        Acceptance::OnCondition { condition, .. } => match condition {
            Condition::OnlineConfirmation
            | Condition::OnlineConfirmationByNumbers
            | Condition::CheckPrintedValidity => 1,
            Condition::TogetherWithCard | Condition::OnlyIfOnlineFailed => 2,
            Condition::ConfirmAfterwards => 3,
        },
        Acceptance::NotAccepted { .. } => 9,
    }
}

fn refused(reason: Refusal, instead: &[Alternative]) -> Acceptance {
    Acceptance::NotAccepted { reason, instead: instead.to_vec() }
}

fn not_in_use(policy: &Policy, kind: DocumentKind, visit: Date) -> Acceptance {
    let rules = policy.document.iter().filter(|r| r.kind == kind);
    let later_start = rules.clone().filter_map(|r| r.from).filter(|f| *f > visit).min();
    let earlier_end = rules.filter_map(|r| r.until).filter(|u| *u < visit).max();
    let reason = match (later_start, earlier_end) {
        (Some(from), _) => Refusal::NotYetInUse { from },
        (None, Some(ended)) => Refusal::NoLongerValid { ended },
        (None, None) => Refusal::NoRule,
    };
    let instead: &[Alternative] = match kind {
        DocumentKind::Smartphone => &[Alternative::MynaCard, Alternative::MynaPortalScreen],
        _ => &[
            Alternative::MynaCard,
            Alternative::EligibilityCertificate,
            Alternative::OralConfirmation,
            Alternative::StatementForm,
        ],
    };
    refused(reason, instead)
}

/// Checks that belong to the document itself; pushes notices, or refuses.
fn document_checks(
    policy: &Policy,
    p: &Presentation,
    notices: &mut Vec<Notice>,
) -> Result<(), Acceptance> {
    match &p.document {
        Document::MynaCard { certificate_not_after } => {
            certificate_check(policy, Holder::Card, *certificate_not_after, p.visit, notices)
        }
        Document::Smartphone { os, os_version, certificate_not_after } => {
            let instead = &[Alternative::MynaCard, Alternative::MynaPortalScreen];
            if let Some(rule) = policy.smartphone(p.visit) {
                if let Some(age) = p.birth.and_then(|b| age_on(b, p.visit)) {
                    if age < rule.min_age {
                        return Err(refused(Refusal::TooYoung { min_age: rule.min_age }, instead));
                    }
                }
                if let (Some(os), Some(version)) = (os, os_version) {
                    let min = match os {
                        PhoneOs::Ios => rule.ios_min,
                        PhoneOs::Android => rule.android_min,
                    };
                    if *version < min {
                        return Err(refused(Refusal::OsTooOld { os: *os, min }, instead));
                    }
                }
            }
            certificate_check(policy, Holder::Phone, *certificate_not_after, p.visit, notices)
        }
        Document::EligibilityCertificate { valid_until, late_elderly } => {
            // The blanket certificate: since 2026-08-01 only for those old enough on the
            // rule's day (85+); with no birth date the printed validity decides.
            let blanket = late_elderly
                .then(|| policy.late_elderly_certificate(p.visit))
                .flatten()
                .filter(|r| match (r.min_age, r.age_on) {
                    (Some(min), Some(on)) => {
                        p.birth.and_then(|b| age_on(b, on)).is_some_and(|age| age >= min)
                    }
                    _ => true,
                })
                .map(|r| {
                    if r.confidence != crate::policy::Confidence::Official {
                        notices.push(Notice::Unconfirmed { confidence: r.confidence });
                    }
                    r.valid_until
                });
            match valid_until.or(blanket) {
                Some(until) if p.visit > until => Err(refused(
                    Refusal::Expired { on: until },
                    &[
                        Alternative::MynaCard,
                        Alternative::OralConfirmation,
                        Alternative::StatementForm,
                    ],
                )),
                Some(until) => {
                    if valid_until.is_none() {
                        notices.push(Notice::BlanketLateElderlyValidity { valid_until: until });
                    }
                    Ok(())
                }
                None => Err(Acceptance::OnCondition {
                    condition: Condition::CheckPrintedValidity,
                    notices: notices.clone(),
                }),
            }
        }
        Document::HealthInsuranceCard { valid_until } => {
            // An expired card matters only where it is accepted alone; the transitional
            // window exists precisely for expired cards.
            let alone = policy
                .document(DocumentKind::HealthInsuranceCard, p.visit)
                .is_some_and(|r| r.modes.contains(&Mode::Alone));
            match valid_until {
                Some(until) if alone && p.visit > *until => Err(refused(
                    Refusal::Expired { on: *until },
                    &[
                        Alternative::MynaCard,
                        Alternative::EligibilityCertificate,
                        Alternative::OralConfirmation,
                        Alternative::StatementForm,
                    ],
                )),
                _ => Ok(()),
            }
        }
        Document::EligibilityNotice
        | Document::MynaPortalScreen
        | Document::StatementForm
        | Document::Nothing => Ok(()),
    }
}

fn certificate_check(
    policy: &Policy,
    holder: Holder,
    not_after: Option<Date>,
    visit: Date,
    notices: &mut Vec<Notice>,
) -> Result<(), Acceptance> {
    let Some(not_after) = not_after else { return Ok(()) };
    if visit <= not_after {
        let days_left = visit.days_until(not_after);
        if not_after <= visit.add_months(EXPIRY_WARNING_MONTHS) {
            notices.push(Notice::CertificateExpiresSoon { expires_on: not_after, days_left });
        }
        return Ok(());
    }
    let months = policy.certificate_grace(holder, visit).map_or(0, |r| r.months);
    let grace_until = not_after.add_months(months);
    if months > 0 && visit <= grace_until {
        notices.push(Notice::CertificateGrace {
            expired_on: not_after,
            grace_until,
            days_left: visit.days_until(grace_until),
        });
        return Ok(());
    }
    let instead: &[Alternative] = match holder {
        Holder::Card => FALLBACK,
        Holder::Phone => &[Alternative::MynaCard, Alternative::MynaPortalScreen],
    };
    Err(refused(Refusal::CertificateExpired { on: not_after, grace_months: months }, instead))
}

fn evaluate(mode: Mode, p: &Presentation, notices: &[Notice]) -> Acceptance {
    let accepted = || Acceptance::Accepted { notices: notices.to_vec() };
    let on = |condition| Acceptance::OnCondition { condition, notices: notices.to_vec() };
    match (mode, p.online) {
        (Mode::Alone, _) => accepted(),
        (Mode::OnlineConfirmation, Online::Succeeded) => accepted(),
        (Mode::OnlineConfirmation, Online::NotYet) => on(Condition::OnlineConfirmation),
        (Mode::OnlineConfirmation, Online::CouldNotBeDone) => {
            refused(Refusal::OnlineConfirmationFailed, FALLBACK)
        }
        (Mode::AloneWithOnlineByNumbers, Online::Succeeded) => accepted(),
        (Mode::AloneWithOnlineByNumbers, Online::NotYet) => {
            on(Condition::OnlineConfirmationByNumbers)
        }
        (Mode::AloneWithOnlineByNumbers, Online::CouldNotBeDone) => {
            refused(Refusal::OnlineConfirmationFailed, FALLBACK)
        }
        (Mode::WithCard, Online::Succeeded) if p.with_card => accepted(),
        (Mode::WithCard, Online::NotYet) if p.with_card => on(Condition::OnlineConfirmation),
        (Mode::WithCard, Online::CouldNotBeDone) if p.with_card => {
            refused(Refusal::OnlineConfirmationFailed, FALLBACK)
        }
        (Mode::WithCard, _) => on(Condition::TogetherWithCard),
        (Mode::WhenOnlineFailed, Online::CouldNotBeDone) => accepted(),
        (Mode::WhenOnlineFailed, _) => on(Condition::OnlyIfOnlineFailed),
        (Mode::FirstVisitStatement, _) => on(Condition::ConfirmAfterwards),
    }
}

impl Acceptance {
    /// One line for staff, Japanese and English.
    pub fn summary(&self) -> Text {
        match self {
            Acceptance::Accepted { .. } => Text::new("受付可", "accepted"),
            Acceptance::OnCondition { condition, .. } => condition.text(),
            Acceptance::NotAccepted { reason, .. } => reason.text(),
        }
    }
}

impl Condition {
    pub fn text(self) -> Text {
        match self {
            Condition::OnlineConfirmation => Text::new(
                "オンライン資格確認ができれば受付可",
                "accepted once the online confirmation succeeds",
            ),
            Condition::OnlineConfirmationByNumbers => Text::new(
                "記載の番号でオンライン資格確認ができれば受付可",
                "accepted once confirmed online by its numbers",
            ),
            Condition::TogetherWithCard => Text::new(
                "マイナ保険証と一緒に提示された場合のみ受付可",
                "accepted only together with the マイナ保険証 card",
            ),
            Condition::OnlyIfOnlineFailed => Text::new(
                "オンライン資格確認ができなかった場合に受付可",
                "accepted when the online confirmation could not be done",
            ),
            Condition::ConfirmAfterwards => Text::new(
                "受付可（事後に資格確認。申立書は支払いが済むまで保管）",
                "accepted; confirm afterwards and keep the form until paid",
            ),
            Condition::CheckPrintedValidity => {
                Text::new("記載の有効期限を確認してください", "check the printed expiry date")
            }
        }
    }
}

impl Refusal {
    pub fn text(self) -> Text {
        match self {
            Refusal::NotYetInUse { .. } => {
                Text::new("この日付ではまだ使えません", "not in use yet on this date")
            }
            Refusal::NoLongerValid { .. } => Text::new(
                "この書類は有効期間が終了しています",
                "this kind of document is no longer valid",
            ),
            Refusal::Expired { .. } => {
                Text::new("有効期限が切れています", "the document has expired")
            }
            Refusal::CertificateExpired { .. } => Text::new(
                "電子証明書の有効期限が切れています（猶予期間も終了）",
                "the electronic certificate has expired (no grace left)",
            ),
            Refusal::TooYoung { .. } => Text::new(
                "スマホ保険証は15歳以上のみ利用できます",
                "phones can be used from age 15 only",
            ),
            Refusal::OsTooOld { .. } => {
                Text::new("スマホのOSが対応バージョン未満です", "the phone's OS version is too old")
            }
            Refusal::OnlineConfirmationFailed => Text::new(
                "オンライン資格確認ができませんでした",
                "the online confirmation could not be done",
            ),
            Refusal::NoDocument => Text::new("提示された書類がありません", "no document presented"),
            Refusal::NoRule => Text::new(
                "この日付の規則がポリシー表にありません",
                "the policy table has no rule for this date",
            ),
        }
    }
}

impl Alternative {
    pub fn text(self) -> Text {
        match self {
            Alternative::MynaCard => Text::new(
                "マイナ保険証（カード）をカードリーダーに",
                "the マイナ保険証 card on the reader",
            ),
            Alternative::EligibilityCertificate => {
                Text::new("資格確認書", "資格確認書 (eligibility certificate)")
            }
            Alternative::MynaPortalScreen => Text::new(
                "マイナポータルの資格情報画面（PDF可）",
                "the マイナポータル qualification screen or PDF",
            ),
            Alternative::EligibilityNotice => {
                Text::new("資格情報のお知らせ", "資格情報のお知らせ (qualification notice)")
            }
            Alternative::OralConfirmation => Text::new(
                "再診：把握済みの資格情報を口頭で確認",
                "return visit: confirm the known numbers orally",
            ),
            Alternative::StatementForm => Text::new(
                "初診：被保険者資格申立書",
                "first visit: 被保険者資格申立書 (statement form)",
            ),
        }
    }
}
