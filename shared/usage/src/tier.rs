//! The 医療DX推進体制整備加算 tier: a billing month takes the best 利用割合 of the 3rd, 4th
//! and 5th month before it; the thresholds come from the dated policy table. Tiers are
//! numbered as the table orders them: 1 (加算1・4, the highest threshold), 2, 3.

use crate::ledger::{month_of, MonthUsage};
use crate::rate::Rate;
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
    /// [加算1・4, 加算2・5, 加算3・6] thresholds in percent for `billing`.
    pub thresholds: [u8; 3],
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

fn thresholds(policy: &Policy, billing: YearMonth, pediatric: bool) -> Option<[u8; 3]> {
    let rule = policy.dx_addition(billing)?;
    let mut t = rule.tiers;
    if pediatric {
        if let Some(p) = rule.pediatric_tier3 {
            t[2] = p;
        }
    }
    Some(t)
}

fn tier_of(rate: Rate, t: [u8; 3]) -> Option<u8> {
    (0..3).find(|&i| rate.at_least(t[i])).map(|i| i as u8 + 1)
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
pub fn projection(
    policy: &Policy,
    billing: YearMonth,
    this_month: YearMonth,
    usage: &[MonthUsage],
    basis: Basis,
    pediatric: bool,
) -> Result<Projection, TierError> {
    let t = thresholds(policy, billing, pediatric).ok_or(TierError::NoRule(billing))?;
    let best = (3..=5)
        .filter_map(|back| {
            let m = billing.minus(back);
            rate_of(usage, m, basis).map(|r| (m, r))
        })
        .max_by(|a, b| {
            let (x, y) = (a.1, b.1);
            (u128::from(x.numerator) * u128::from(y.denominator))
                .cmp(&(u128::from(y.numerator) * u128::from(x.denominator)))
        });
    let reached = best.and_then(|(_, r)| tier_of(r, t));
    let this_month_rate = rate_of(usage, this_month, basis);
    // The table in force when this month's figure is used (at the earliest).
    let later = thresholds(policy, this_month.plus(3), pediatric).unwrap_or(t);
    let next = this_month_rate.and_then(|r| {
        let current = tier_of(r, later);
        let target = match current {
            Some(1) => return None,
            Some(k) => k - 1,
            None => 3,
        };
        let threshold = later[usize::from(target) - 1];
        Some(NextTier { tier: target, threshold, more_needed: r.more_to_reach(threshold) })
    });
    Ok(Projection {
        billing,
        thresholds: t,
        basis,
        best,
        reached,
        this_month,
        this_month_rate,
        next,
    })
}
