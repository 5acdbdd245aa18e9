//! The 加算 tier: a billing month takes the best 利用割合 of the months the policy row names
//! (the 3rd–5th before it), and the thresholds come from the dated policy table. Tiers are
//! numbered as the table orders them: 1 (加算1・4, the highest threshold), 2, 3. Until
//! 2026-05 that is the 医療DX推進体制整備加算; from 2026-06 its successors, where one rate
//! (30%) opens every tier and the tiers differ by requirements the clinic declares — so the
//! projection says whether the rate requirement is met and what the other tiers ask.

use crate::ledger::{month_of, MonthUsage};
use crate::rate::Rate;
use eligibility::policy::{AdditionFacility, Confidence, DxAdditionRule};
use eligibility::{Policy, YearMonth};
use serde::Serialize;

/// Which rate decides: persons (利用割合, the 加算's basis) or uses (利用率).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Persons,
    Uses,
}

/// The next tier and what reaching it takes this month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextTier {
    pub tier: u8,
    pub threshold: u8,
    /// More マイナ保険証 confirmations this month (of patients already counted) that would
    /// lift this month's rate to the threshold.
    pub more_needed: u64,
}

/// A billing month's tier, and this month's way to the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Projection {
    pub billing: YearMonth,
    /// The 加算's name for `billing` (医療DX推進体制整備加算, or its 2026 successor).
    pub name: String,
    /// Rate thresholds in percent for `billing`, tier 1 first (one entry: every tier asks
    /// the same rate).
    pub thresholds: Vec<u8>,
    /// What the tiers ask besides the rate, as the policy row says (declared in 設定).
    pub other_requirements: Option<String>,
    /// How sure the table is of the row, and of which months' rate counts.
    pub confidence: Confidence,
    pub rate_months_confidence: Confidence,
    /// The months whose best rate counts: this many months before `billing`.
    pub rate_months: [u32; 2],
    pub basis: Basis,
    /// The best of the 3rd–5th month before `billing`, when any has confirmations.
    pub best: Option<(YearMonth, Rate)>,
    /// The tier `billing` reaches (1 is the highest), if any.
    pub reached: Option<u8>,
    /// This month counts for the billing month three months later: its rate so far and
    /// the gap to the tiers of that month's table (or of `billing`'s, when the policy table
    /// does not reach that far yet).
    pub this_month: YearMonth,
    pub this_month_rate: Option<Rate>,
    pub next: Option<NextTier>,
}

/// Why there is no projection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    #[error("{0} の加算の基準が政策テーブルにありません / no 加算 thresholds for billing month {0} in the policy table")]
    NoRule(YearMonth),
}

fn thresholds(rule: &DxAdditionRule, pediatric: bool) -> Vec<u8> {
    let mut t = rule.tiers.clone();
    if pediatric {
        if let (Some(p), Some(tier3)) = (rule.pediatric_tier3, t.get_mut(2)) {
            *tier3 = p;
        }
    }
    t
}

fn tier_of(rate: Rate, t: &[u8]) -> Option<u8> {
    t.iter().position(|&threshold| rate.at_least(threshold)).map(|i| i as u8 + 1)
}

fn rate_of(usage: &[MonthUsage], month: YearMonth, basis: Basis) -> Option<Rate> {
    let c = month_of(usage, month);
    match basis {
        Basis::Persons => c.person_rate(),
        Basis::Uses => c.rate(),
    }
}

/// The tier of billing month `billing`, and the way to the next tier for `this_month`
/// (whose figures count for the billing month three months later).
#[allow(clippy::too_many_arguments)]
pub fn projection(
    policy: &Policy,
    billing: YearMonth,
    this_month: YearMonth,
    usage: &[MonthUsage],
    basis: Basis,
    facility: AdditionFacility,
    pediatric: bool,
) -> Result<Projection, TierError> {
    let rule = policy.dx_addition(billing, facility).ok_or(TierError::NoRule(billing))?;
    let t = thresholds(rule, pediatric);
    let [first_back, last_back] = rule.rate_months;
    let best = (first_back..=last_back)
        .filter_map(|back| {
            let m = billing.minus(back);
            rate_of(usage, m, basis).map(|r| (m, r))
        })
        .max_by(|a, b| {
            let (x, y) = (a.1, b.1);
            (u128::from(x.numerator) * u128::from(y.denominator))
                .cmp(&(u128::from(y.numerator) * u128::from(x.denominator)))
        });
    let reached = best.and_then(|(_, r)| tier_of(r, &t));
    let this_month_rate = rate_of(usage, this_month, basis);
    // The table in force when this month's figure is used (at the earliest).
    let later = policy
        .dx_addition(this_month.plus(first_back), facility)
        .map(|r| thresholds(r, pediatric))
        .unwrap_or_else(|| t.clone());
    let next = this_month_rate.and_then(|r| {
        let current = tier_of(r, &later);
        let target = match current {
            Some(1) => return None,
            Some(k) => k - 1,
            None => later.len() as u8,
        };
        let threshold = *later.get(usize::from(target).checked_sub(1)?)?;
        Some(NextTier { tier: target, threshold, more_needed: r.more_to_reach(threshold) })
    });
    Ok(Projection {
        billing,
        name: rule.name.clone(),
        other_requirements: rule.other_requirements.clone(),
        confidence: rule.confidence,
        rate_months_confidence: rule.rate_months_confidence,
        rate_months: rule.rate_months,
        thresholds: t,
        basis,
        best,
        reached,
        this_month,
        this_month_rate,
        next,
    })
}

/// One sentence of the 加算 summary, Japanese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub ja: String,
    pub en: String,
}

fn line(ja: String, en: String) -> Line {
    Line { ja, en }
}

impl Projection {
    /// What the 利用状況 screen and `bridge report usage` say about the 加算: the
    /// requirement for the billing month, whether it is reached, this month's gap, and how
    /// sure the table is of the rule.
    pub fn summary(&self) -> Vec<Line> {
        let mut out = Vec::new();
        let b = self.billing;
        match self.thresholds.as_slice() {
            [one] => out.push(line(
                format!("{b} 算定分 {}: マイナ保険証利用率 {one}% 以上（全区分共通）", self.name),
                format!(
                    "billing {b}, {}: a マイナ保険証 rate of at least {one}% (every tier)",
                    self.name
                ),
            )),
            tiers => {
                let ja: Vec<String> =
                    tiers.iter().enumerate().map(|(i, t)| format!("加算{} {t}%", i + 1)).collect();
                let en: Vec<String> =
                    tiers.iter().enumerate().map(|(i, t)| format!("tier {} {t}%", i + 1)).collect();
                out.push(line(
                    format!("{b} 算定分 {}の基準（利用割合）: {}", self.name, ja.join(" ／ ")),
                    format!("billing {b}, {}: {}", self.name, en.join(" / ")),
                ));
            }
        }
        let single = self.thresholds.len() == 1;
        let [first, last] = self.rate_months;
        out.push(match (self.reached, self.best) {
            (Some(_), Some((m, rate))) if single => line(
                format!("利用率の要件を満たしています（{m} の {}）。区分はその他の要件によります", rate.display()),
                format!("the rate requirement is met ({m}: {}); the tier depends on the other requirements", rate.display()),
            ),
            (Some(t), Some((m, rate))) => line(
                format!("到達: 加算{t}（{m} の {}）", rate.display()),
                format!("reached tier {t} ({m}: {})", rate.display()),
            ),
            (None, Some((m, rate))) if single => {
                let need = u64::from(self.thresholds[0]) * 100;
                let gap = need.saturating_sub(rate.basis_points());
                let gap = format!("{}.{:02}", gap / 100, gap % 100);
                line(
                    format!("未到達: 利用率の要件 {}% まであと {gap} ポイント（最高 {m} の {}）", self.thresholds[0], rate.display()),
                    format!("not reached: {gap} points short of the {}% requirement (best {m}: {})", self.thresholds[0], rate.display()),
                )
            }
            (None, Some((m, rate))) => line(
                format!("未到達（最高 {m} の {}）", rate.display()),
                format!("not reached (best {m}: {})", rate.display()),
            ),
            _ => line(
                format!("{first}〜{last}か月前の記録がありません"),
                format!("no records for the {first}th–{last}th month before"),
            ),
        });
        if let Some(n) = &self.next {
            out.push(if single {
                line(
                    format!(
                        "今月あと {} 件のマイナ保険証利用で {}% に届きます",
                        n.more_needed, n.threshold
                    ),
                    format!(
                        "{} more マイナ保険証 uses this month reach {}%",
                        n.more_needed, n.threshold
                    ),
                )
            } else {
                line(
                    format!(
                        "今月あと {} 件のマイナ保険証利用で加算{}（{}%）に届きます",
                        n.more_needed, n.tier, n.threshold
                    ),
                    format!(
                        "{} more this month reach tier {} ({}%)",
                        n.more_needed, n.tier, n.threshold
                    ),
                )
            });
        }
        if let Some(other) = &self.other_requirements {
            out.push(line(
                format!("その他の要件: {other}"),
                format!("other requirements: {other}"),
            ));
        }
        if let Some(c) = self.confidence.caveat() {
            out.push(line(format!("この基準は{}", c.ja), format!("this rule is {}", c.en)));
        }
        if let Some(c) = self.rate_months_confidence.caveat() {
            out.push(line(
                format!("算定に使う月（{first}〜{last}か月前）: {}", c.ja),
                format!("which months count ({first}th–{last}th before): {}", c.en),
            ));
        }
        out
    }
}
