//! 記号・番号・枝番 of a 被保険者証 / 資格確認書.
//!
//! Printed as free text: full-width digits and letters, kana or kanji in some 記号,
//! hyphens inside, 「・」 between 記号 and 番号. Normalised form: full width folded to
//! ASCII, every dash look-alike to `-` (kept: it is part of some 記号), spaces removed
//! (layout, not content). Limit: 38 bytes each, counted as Shift_JIS like the claim
//! record does.

use super::{Field, IdentifierError};
use crate::text::{fold, sjis_len};
use serde::Serialize;

/// The claim's limit for 記号 and 番号, in Shift_JIS bytes.
pub const MAX_FIELD_BYTES: usize = 38;

/// 「・」 (full and half width) separates 記号 from 番号 when both are typed in one box.
const SEPARATORS: [char; 2] = ['・', '･'];

fn normalise_field(field: Field, text: &str) -> Result<String, IdentifierError> {
    let folded: String = fold(text).chars().filter(|c| *c != ' ').collect();
    if folded.is_empty() {
        return Err(IdentifierError::Empty { field });
    }
    for (i, c) in folded.chars().enumerate() {
        let allowed = c.is_ascii_alphanumeric()
            || c == '-'
            || (!c.is_ascii() && c.is_alphanumeric())
            || c == 'ー';
        if !allowed {
            return Err(IdentifierError::InvalidChar { field, position: i + 1, found: c });
        }
    }
    let bytes = sjis_len(&folded);
    if bytes > MAX_FIELD_BYTES {
        return Err(IdentifierError::TooLong { field, max: MAX_FIELD_BYTES, found: bytes });
    }
    Ok(folded)
}

/// 記号 (absent for 後期高齢者 and some others).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct InsuredSymbol(String);

impl InsuredSymbol {
    pub fn parse(text: &str) -> Result<InsuredSymbol, IdentifierError> {
        normalise_field(Field::InsuredSymbol, text).map(InsuredSymbol)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 番号.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct InsuredNumber(String);

impl InsuredNumber {
    pub fn parse(text: &str) -> Result<InsuredNumber, IdentifierError> {
        normalise_field(Field::InsuredNumber, text).map(InsuredNumber)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 枝番: two digits; a single typed digit is padded (`1` → `01`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BranchNumber(String);

impl BranchNumber {
    pub fn parse(text: &str) -> Result<BranchNumber, IdentifierError> {
        let digits = super::digits(Field::BranchNumber, text, &[1, 2])?;
        Ok(BranchNumber(format!("{digits:0>2}")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 記号・番号・枝番 together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct InsuredCard {
    pub symbol: Option<InsuredSymbol>,
    pub number: InsuredNumber,
    pub branch: Option<BranchNumber>,
}

impl InsuredCard {
    /// Parses the three boxes of the form; empty 記号 or 枝番 boxes mean "none".
    pub fn parse(symbol: &str, number: &str, branch: &str) -> Result<InsuredCard, IdentifierError> {
        let optional = |text: &str| fold(text).chars().any(|c| c != ' ');
        Ok(InsuredCard {
            symbol: if optional(symbol) { Some(InsuredSymbol::parse(symbol)?) } else { None },
            number: InsuredNumber::parse(number)?,
            branch: if optional(branch) { Some(BranchNumber::parse(branch)?) } else { None },
        })
    }

    /// Parses 記号・番号 typed into one box, split at the first 「・」; without a 「・」 the
    /// whole text is the 番号.
    pub fn parse_combined(text: &str, branch: &str) -> Result<InsuredCard, IdentifierError> {
        match text.split_once(SEPARATORS) {
            Some((symbol, number)) => InsuredCard::parse(symbol, number, branch),
            None => InsuredCard::parse("", text, branch),
        }
    }
}
