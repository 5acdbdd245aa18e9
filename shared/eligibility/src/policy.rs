//! The dated policy table: every rule that depends on a date, as data.
//!
//! The table is embedded from `policy.toml` (read it for the rules and their sources);
//! a clinic may override whole sections with a file of the same shape. Loading checks
//! that no two entries of a section overlap for the same subject, so a lookup by date
//! finds at most one rule.

use crate::date::{Date, YearMonth};
use serde::{Deserialize, Serialize};

const EMBEDDED: &str = include_str!("../policy.toml");
const EMBEDDED_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/policy.json"));

/// A document kind as the policy table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// マイナ保険証 (the My Number card).
    MynaCard,
    /// スマホ保険証 (iPhone or Android).
    Smartphone,
    /// 資格確認書.
    EligibilityCertificate,
    /// 健康保険証 (old insurance card).
    HealthInsuranceCard,
    /// 資格情報のお知らせ.
    EligibilityNotice,
    /// マイナポータル 資格情報 screen or its PDF.
    MynaPortalScreen,
    /// 被保険者資格申立書.
    StatementForm,
}

/// How a document may prove qualification during a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    OnlineConfirmation,
    Alone,
    AloneWithOnlineByNumbers,
    WithCard,
    WhenOnlineFailed,
    FirstVisitStatement,
}

/// How sure the table is of a rule: read in an official text, reported by the press or
/// public tools without the primary text at hand, or inferred. A decision that rests on a
/// rule that is not official says so ("推定 / inferred").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    #[default]
    Official,
    Reported,
    Inferred,
}

impl Confidence {
    /// `None` for an official rule; the words to show beside a decision otherwise.
    pub fn caveat(self) -> Option<crate::text::Text> {
        match self {
            Confidence::Official => None,
            Confidence::Reported => Some(crate::text::Text::new(
                "報道・公開資料による（一次資料未確認）",
                "reported; primary text not found",
            )),
            Confidence::Inferred => Some(crate::text::Text::new("推定", "inferred")),
        }
    }
}

/// Which facilities a 加算 row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdditionFacility {
    /// 医科 (clinics and hospitals).
    Clinic,
    /// 調剤 (pharmacies).
    Pharmacy,
}

/// Who holds the electronic certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    Card,
    Phone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRule {
    pub kind: DocumentKind,
    pub from: Option<Date>,
    pub until: Option<Date>,
    pub modes: Vec<Mode>,
    pub source: String,
    #[serde(default)]
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraceRule {
    pub holder: Holder,
    pub from: Option<Date>,
    pub until: Option<Date>,
    pub months: u32,
    pub source: String,
    #[serde(default)]
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartphoneRule {
    pub from: Option<Date>,
    pub until: Option<Date>,
    pub min_age: u32,
    /// Minimum iOS version, `[major, minor]`.
    pub ios_min: [u32; 2],
    /// Minimum Android version, `[major, minor]`.
    pub android_min: [u32; 2],
    pub source: String,
    #[serde(default)]
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LateElderlyCertificateRule {
    pub from: Option<Date>,
    pub until: Option<Date>,
    /// The validity of the blanket 資格確認書 when none is printed or typed.
    pub valid_until: Date,
    /// Only those at least this old on `age_on` receive it (from 2026-08-01: 85+).
    #[serde(default)]
    pub min_age: Option<u32>,
    #[serde(default)]
    pub age_on: Option<Date>,
    pub source: String,
    #[serde(default)]
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopayRule {
    pub from: Option<Date>,
    pub until: Option<Date>,
    pub preschool: u8,
    pub working_age: u8,
    pub age_70_to_74: u8,
    pub late_elderly: u8,
    pub source: String,
    #[serde(default)]
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DxAdditionRule {
    /// First billing month (inclusive).
    pub from: YearMonth,
    /// Last billing month (inclusive); none = until further notice.
    #[serde(default)]
    pub until: Option<YearMonth>,
    /// The 加算's name (医療DX推進体制整備加算 until 2026-05; its successors after).
    #[serde(default = "old_addition_name")]
    pub name: String,
    /// The facilities the row is for; none = every facility.
    #[serde(default)]
    pub facility: Option<AdditionFacility>,
    /// マイナ保険証 利用割合 thresholds in percent, tier 1 first (one entry where every tier
    /// asks the same rate and differs by other requirements).
    pub tiers: Vec<u8>,
    /// The 小児科 exception for tier 3, when one applies.
    pub pediatric_tier3: Option<u8>,
    /// Which months' rate counts: the best of the `rate_months[0]`-th to
    /// `rate_months[1]`-th month before the billing month.
    #[serde(default = "default_rate_months")]
    pub rate_months: [u32; 2],
    /// How sure the table is of `rate_months` (inferred for the 2026 加算).
    #[serde(default)]
    pub rate_months_confidence: Confidence,
    /// What else a tier needs besides the rate (declared by the clinic in 設定), in words.
    #[serde(default)]
    pub other_requirements: Option<String>,
    pub source: String,
    #[serde(default)]
    pub confidence: Confidence,
}

fn old_addition_name() -> String {
    "医療DX推進体制整備加算".into()
}

fn default_rate_months() -> [u32; 2] {
    [3, 5]
}

/// The whole table. Sections are public for display and export; lookups go through
/// the methods, which pick the one entry in force on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub version: u32,
    pub published: Date,
    /// When the table was last checked against the sources (none in an old override).
    #[serde(default)]
    pub reviewed: Option<Date>,
    #[serde(default)]
    pub document: Vec<DocumentRule>,
    #[serde(default)]
    pub certificate_grace: Vec<GraceRule>,
    #[serde(default)]
    pub smartphone: Vec<SmartphoneRule>,
    #[serde(default)]
    pub late_elderly_certificate: Vec<LateElderlyCertificateRule>,
    #[serde(default)]
    pub copay: Vec<CopayRule>,
    #[serde(default)]
    pub dx_addition: Vec<DxAdditionRule>,
}

/// Why a policy file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "ポリシーファイルを読めません: {0} / the policy file is not valid TOML for this table: {0}"
    )]
    Syntax(String),
    #[error("ポリシー「{section}」の期間が重なっています（{subject}: {first} と {second}）/ entries of section {section} overlap for {subject}: {first} and {second}")]
    Overlap { section: &'static str, subject: String, first: String, second: String },
    #[error("ポリシー「{section}」の期間が逆です（{period}）/ an entry of section {section} ends before it starts ({period})")]
    Inverted { section: &'static str, period: String },
}

/// An inclusive period with open ends.
trait Period {
    fn bounds(&self) -> (Option<Date>, Option<Date>);
    fn subject(&self) -> String {
        String::new()
    }
    fn covers(&self, date: Date) -> bool {
        let (from, until) = self.bounds();
        from.is_none_or(|f| f <= date) && until.is_none_or(|u| date <= u)
    }
}

macro_rules! period {
    ($t:ty) => {
        impl Period for $t {
            fn bounds(&self) -> (Option<Date>, Option<Date>) {
                (self.from, self.until)
            }
        }
    };
    ($t:ty, $subject:ident) => {
        impl Period for $t {
            fn bounds(&self) -> (Option<Date>, Option<Date>) {
                (self.from, self.until)
            }
            fn subject(&self) -> String {
                format!("{:?}", self.$subject)
            }
        }
    };
}
period!(DocumentRule, kind);
period!(GraceRule, holder);
period!(SmartphoneRule);
period!(LateElderlyCertificateRule);
period!(CopayRule);

impl Period for DxAdditionRule {
    fn bounds(&self) -> (Option<Date>, Option<Date>) {
        let first = Date::new(self.from.year.into(), self.from.month.into(), 1).ok();
        let last = self.until.and_then(|until| {
            Date::new(until.year.into(), until.month.into(), 1).ok().map(|d| d.add_months(1).pred())
        });
        (first, last)
    }
    fn subject(&self) -> String {
        format!("{:?}", self.facility)
    }
}

/// The last day a section of the table knows a rule for: `None` when its latest rule
/// runs until further notice, else the latest end (after it, the rule is unknown).
fn known_until<T: Period>(entries: &[T]) -> Option<Date> {
    let mut last: Option<Date> = None;
    for e in entries {
        match e.bounds().1 {
            None => return None,
            Some(until) => last = Some(last.map_or(until, |l| l.max(until))),
        }
    }
    last
}

fn describe(p: &impl Period) -> String {
    let (from, until) = p.bounds();
    let show = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_else(|| "…".to_string());
    format!("{}〜{}", show(from), show(until))
}

fn check_section<T: Period>(section: &'static str, entries: &[T]) -> Result<(), PolicyError> {
    for (i, a) in entries.iter().enumerate() {
        if let (Some(from), Some(until)) = a.bounds() {
            if until < from {
                return Err(PolicyError::Inverted { section, period: describe(a) });
            }
        }
        for b in &entries[i + 1..] {
            if a.subject() != b.subject() {
                continue;
            }
            let (af, au) = a.bounds();
            let (bf, bu) = b.bounds();
            let a_before_b = matches!((au, bf), (Some(au), Some(bf)) if au < bf);
            let b_before_a = matches!((bu, af), (Some(bu), Some(af)) if bu < af);
            if !a_before_b && !b_before_a {
                return Err(PolicyError::Overlap {
                    section,
                    subject: a.subject(),
                    first: describe(a),
                    second: describe(b),
                });
            }
        }
    }
    Ok(())
}

/// The override file: every section optional; a present section replaces the embedded one.
#[cfg(feature = "toml")]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    version: Option<u32>,
    published: Option<Date>,
    reviewed: Option<Date>,
    document: Option<Vec<DocumentRule>>,
    certificate_grace: Option<Vec<GraceRule>>,
    smartphone: Option<Vec<SmartphoneRule>>,
    late_elderly_certificate: Option<Vec<LateElderlyCertificateRule>>,
    copay: Option<Vec<CopayRule>>,
    dx_addition: Option<Vec<DxAdditionRule>>,
}

impl Policy {
    /// The table shipped with this build (`policy.toml`, turned into JSON by `build.rs`
    /// so that the browser build needs no TOML parser).
    pub fn embedded() -> Result<Policy, PolicyError> {
        Policy::from_json(EMBEDDED_JSON)
    }

    /// Parses and validates a complete table given as JSON (the embedded one, or the
    /// bridge's as a terminal fetches it).
    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        // Through `Value`, the one JSON reader the terminal's wasm builds its types for.
        let policy: Policy = serde_json::from_str::<serde_json::Value>(text)
            .and_then(serde_json::from_value)
            .map_err(|e| PolicyError::Syntax(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// The embedded table's text, for `bridge rules policy` and documentation.
    pub fn embedded_text() -> &'static str {
        EMBEDDED
    }

    /// Parses and validates a complete table.
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy =
            toml::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// This table with the sections of `text` (same shape, every section optional)
    /// replacing its own.
    #[cfg(feature = "toml")]
    pub fn with_override(&self, text: &str) -> Result<Policy, PolicyError> {
        let o: Override = toml::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        let p = Policy {
            version: o.version.unwrap_or(self.version),
            published: o.published.unwrap_or(self.published),
            reviewed: o.reviewed.or(self.reviewed),
            document: o.document.unwrap_or_else(|| self.document.clone()),
            certificate_grace: o
                .certificate_grace
                .unwrap_or_else(|| self.certificate_grace.clone()),
            smartphone: o.smartphone.unwrap_or_else(|| self.smartphone.clone()),
            late_elderly_certificate: o
                .late_elderly_certificate
                .unwrap_or_else(|| self.late_elderly_certificate.clone()),
            copay: o.copay.unwrap_or_else(|| self.copay.clone()),
            dx_addition: o.dx_addition.unwrap_or_else(|| self.dx_addition.clone()),
        };
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), PolicyError> {
        check_section("document", &self.document)?;
        check_section("certificate_grace", &self.certificate_grace)?;
        check_section("smartphone", &self.smartphone)?;
        check_section("late_elderly_certificate", &self.late_elderly_certificate)?;
        check_section("copay", &self.copay)?;
        check_section("dx_addition", &self.dx_addition)
    }

    /// The rule for a document kind on a date; `None` when the kind is not usable then.
    pub fn document(&self, kind: DocumentKind, date: Date) -> Option<&DocumentRule> {
        self.document.iter().find(|r| r.kind == kind && r.covers(date))
    }

    /// The rule a decision about `kind` on `date` rests on: the one in force, else the
    /// latest that ended before `date` (a refusal rests on where that rule ends).
    pub fn document_basis(&self, kind: DocumentKind, date: Date) -> Option<&DocumentRule> {
        self.document(kind, date).or_else(|| {
            self.document
                .iter()
                .filter(|r| r.kind == kind && r.until.is_some_and(|u| u < date))
                .max_by_key(|r| r.until)
        })
    }

    pub fn certificate_grace(&self, holder: Holder, date: Date) -> Option<&GraceRule> {
        self.certificate_grace.iter().find(|r| r.holder == holder && r.covers(date))
    }

    pub fn smartphone(&self, date: Date) -> Option<&SmartphoneRule> {
        self.smartphone.iter().find(|r| r.covers(date))
    }

    pub fn late_elderly_certificate(&self, date: Date) -> Option<&LateElderlyCertificateRule> {
        self.late_elderly_certificate.iter().find(|r| r.covers(date))
    }

    pub fn copay(&self, date: Date) -> Option<&CopayRule> {
        self.copay.iter().find(|r| r.covers(date))
    }

    /// The 加算 row for a billing month and facility: the facility's own row, else one for
    /// every facility.
    pub fn dx_addition(
        &self,
        billing: YearMonth,
        facility: AdditionFacility,
    ) -> Option<&DxAdditionRule> {
        let covers =
            |r: &&DxAdditionRule| r.from <= billing && r.until.is_none_or(|u| billing <= u);
        self.dx_addition
            .iter()
            .filter(covers)
            .find(|r| r.facility == Some(facility))
            .or_else(|| self.dx_addition.iter().filter(covers).find(|r| r.facility.is_none()))
    }

    /// Each section's last known day (`None`: until further notice), for 設定, `/health`
    /// and the screens that must say when a rule is unknown rather than show a blank.
    pub fn known_until(&self) -> Vec<(&'static str, Option<Date>)> {
        vec![
            ("document", known_until(&self.document)),
            ("certificate_grace", known_until(&self.certificate_grace)),
            ("smartphone", known_until(&self.smartphone)),
            ("late_elderly_certificate", known_until(&self.late_elderly_certificate)),
            ("copay", known_until(&self.copay)),
            ("dx_addition", known_until(&self.dx_addition)),
        ]
    }

    /// The sections whose last known rule ended before `today`.
    pub fn unknown_on(&self, today: Date) -> Vec<(&'static str, Date)> {
        self.known_until()
            .into_iter()
            .filter_map(|(section, until)| until.filter(|u| *u < today).map(|u| (section, u)))
            .collect()
    }

    /// Every date on which some rule starts or ends (the day after an end): decisions can
    /// change only there.
    pub fn boundaries(&self) -> Vec<Date> {
        fn push<T: Period>(out: &mut Vec<Date>, entries: &[T]) {
            for e in entries {
                let (from, until) = e.bounds();
                out.extend(from);
                out.extend(until.map(Date::succ));
            }
        }
        let mut out = Vec::new();
        push(&mut out, &self.document);
        push(&mut out, &self.certificate_grace);
        push(&mut out, &self.smartphone);
        push(&mut out, &self.late_elderly_certificate);
        push(&mut out, &self.copay);
        push(&mut out, &self.dx_addition);
        for r in &self.late_elderly_certificate {
            out.push(r.valid_until.succ());
        }
        crate::order::sort_by(&mut out, Ord::cmp);
        out.dedup();
        out
    }
}
