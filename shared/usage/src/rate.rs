//! A rate kept as its counts, so that nothing is rounded before it is shown.

use serde::Serialize;

/// `numerator / denominator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rate {
    pub numerator: u64,
    pub denominator: u64,
}

impl Rate {
    /// `None` for an empty denominator (no confirmations: no rate).
    pub fn new(numerator: u64, denominator: u64) -> Option<Rate> {
        (denominator > 0).then_some(Rate { numerator, denominator })
    }

    pub fn percent(self) -> f64 {
        self.numerator as f64 * 100.0 / self.denominator as f64
    }

    /// Hundredths of a percent, rounded half up — the precision MHLW prints (31.43%).
    pub fn basis_points(self) -> u64 {
        let n = u128::from(self.numerator) * 10_000;
        let d = u128::from(self.denominator);
        ((2 * n + d) / (2 * d)) as u64
    }

    /// `31.43%`.
    pub fn display(self) -> String {
        let bp = self.basis_points();
        format!("{}.{:02}%", bp / 100, bp % 100)
    }

    /// Whether the rate is at least `percent`.
    pub fn at_least(self, percent: u8) -> bool {
        u128::from(self.numerator) * 100 >= u128::from(percent) * u128::from(self.denominator)
    }

    /// How many more numerator counts (with the denominator unchanged) reach `percent`.
    pub fn more_to_reach(self, percent: u8) -> u64 {
        let target = u128::from(percent) * u128::from(self.denominator);
        let have = u128::from(self.numerator) * 100;
        if have >= target {
            0
        } else {
            (target - have).div_ceil(100) as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_and_thresholds() {
        let r = Rate::new(78_097_667, 248_498_271).unwrap_or(Rate { numerator: 0, denominator: 1 });
        assert_eq!(r.display(), "31.43%");
        assert!(Rate::new(1, 0).is_none());
        let half = Rate { numerator: 1, denominator: 2 };
        assert!(half.at_least(50) && !half.at_least(51));
        assert_eq!(Rate { numerator: 29, denominator: 100 }.more_to_reach(30), 1);
        assert_eq!(Rate { numerator: 0, denominator: 7 }.more_to_reach(45), 4); // 3.15 → 4
        assert_eq!(half.more_to_reach(40), 0);
        assert_eq!(Rate { numerator: 1, denominator: 8 }.display(), "12.50%");
    }
}
