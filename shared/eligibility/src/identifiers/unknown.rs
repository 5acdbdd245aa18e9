//! 不詳 placeholders (claims rule since 2023-09): when nothing is known, the 保険者番号 and
//! 記号・番号 are filled with the digit 7 for their required length. Not to be confused
//! with the disaster placeholder `99999999`.

use serde::{Deserialize, Serialize};

/// How the 不詳 保険者番号 is written; a clinic setting, because some レセコン refuse
/// `77777777` (its check digit is wrong) and take the check-digit-valid `77777779`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownInsurerStyle {
    #[default]
    AllSevens,
    CheckDigitValid,
}

/// The filled fields of a 不詳レセプト.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownPlaceholders {
    pub insurer_number: String,
    pub symbol: String,
    pub number: String,
}

impl UnknownPlaceholders {
    /// 7-fill: the insurer number per `style` (8 characters), 記号 and 番号 to the lengths
    /// the receipt computer requires (clamped to the 38-byte field limit).
    pub fn new(
        style: UnknownInsurerStyle,
        symbol_len: usize,
        number_len: usize,
    ) -> UnknownPlaceholders {
        let insurer_number = match style {
            UnknownInsurerStyle::AllSevens => "77777777".to_string(),
            UnknownInsurerStyle::CheckDigitValid => {
                format!("7777777{}", super::check_digit(b"7777777"))
            }
        };
        let fill = |n: usize| "7".repeat(n.min(super::MAX_FIELD_BYTES));
        UnknownPlaceholders { insurer_number, symbol: fill(symbol_len), number: fill(number_len) }
    }
}
