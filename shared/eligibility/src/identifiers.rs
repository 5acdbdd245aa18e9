//! The numbers on insurance documents, as types that can only hold valid values.
//!
//! Every parser takes what a receptionist typed (full width, spaces, 「・」), folds it
//! with [`crate::text::fold`], and returns either the typed value or an
//! [`IdentifierError`] that names the field, what is wrong, and — for a wrong check
//! digit — the digit that would have been right.

mod check_digit;
mod insured;
mod insurer;
mod public_expense;
mod unknown;

pub use check_digit::check_digit;
pub use insured::{BranchNumber, InsuredCard, InsuredNumber, InsuredSymbol, MAX_FIELD_BYTES};
pub use insurer::{Houbetsu, InsurerKind, InsurerNumber, Prefecture};
pub use public_expense::{KouhiHoubetsu, PublicPayerNumber, RecipientNumber};
pub use unknown::{UnknownInsurerStyle, UnknownPlaceholders};

use serde::Serialize;

/// Which field of a document an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Field {
    InsurerNumber,
    PublicPayerNumber,
    RecipientNumber,
    InsuredSymbol,
    InsuredNumber,
    BranchNumber,
}

impl Field {
    pub fn label(self) -> crate::Text {
        use crate::Text;
        match self {
            Field::InsurerNumber => Text::new("保険者番号", "insurer number"),
            Field::PublicPayerNumber => Text::new("公費負担者番号", "public payer number"),
            Field::RecipientNumber => Text::new("公費受給者番号", "recipient number"),
            Field::InsuredSymbol => Text::new("記号", "card symbol"),
            Field::InsuredNumber => Text::new("番号", "card number"),
            Field::BranchNumber => Text::new("枝番", "branch number"),
        }
    }
}

/// What is wrong with a typed number. The `Display` says it in Japanese and English and
/// tells the receptionist what to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum IdentifierError {
    #[error("{}が空です。書類の{}を入力してください / the {} is empty: type it from the document", field.label().ja, field.label().ja, field.label().en)]
    Empty { field: Field },
    #[error("{}は{}桁です（入力は{found}桁）。書類を見直してください / the {} has {} digits, not {found}", field.label().ja, expected_text(expected), field.label().en, expected_text(expected))]
    Length { field: Field, expected: &'static [usize], found: usize },
    #[error("{}の{position}文字目「{found}」は数字ではありません / character {position} of the {} ({found:?}) is not a digit", field.label().ja, field.label().en)]
    NotDigit { field: Field, position: usize, found: char },
    #[error("{}の検証番号（最後の桁）が合いません：{found} ではなく {expected} のはずです。番号の写し間違いを確認してください / the check digit of the {} is {found} but should be {expected}: check for a mistyped digit", field.label().ja, field.label().en)]
    CheckDigit { field: Field, expected: u8, found: u8 },
    #[error("{}の{position}文字目「{found}」は使えない文字です / character {position} of the {} ({found:?}) is not allowed", field.label().ja, field.label().en)]
    InvalidChar { field: Field, position: usize, found: char },
    #[error("{}が長すぎます（{found}バイト、上限{max}バイト）/ the {} is too long ({found} bytes, at most {max})", field.label().ja, field.label().en)]
    TooLong { field: Field, max: usize, found: usize },
    #[error("法別番号 {code} は{}ではありません / 法別番号 {code} is not {}", expected_kind.ja, expected_kind.en)]
    WrongKind { code: String, expected_kind: crate::Text },
}

fn expected_text(lengths: &[usize]) -> String {
    lengths.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("か")
}

/// Folds the text and checks it is all digits and one of the allowed lengths.
pub(crate) fn digits(
    field: Field,
    text: &str,
    lengths: &'static [usize],
) -> Result<String, IdentifierError> {
    let folded: String = crate::text::fold(text).chars().filter(|c| *c != ' ').collect();
    if folded.is_empty() {
        return Err(IdentifierError::Empty { field });
    }
    if let Some((i, c)) = folded.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(IdentifierError::NotDigit { field, position: i + 1, found: c });
    }
    if !lengths.contains(&folded.len()) {
        return Err(IdentifierError::Length { field, expected: lengths, found: folded.len() });
    }
    Ok(folded)
}

/// Checks the last digit of an all-digit string against [`check_digit`].
pub(crate) fn verify_check_digit(field: Field, all_digits: &str) -> Result<(), IdentifierError> {
    let bytes = all_digits.as_bytes();
    let Some((&last, body)) = bytes.split_last() else {
        return Err(IdentifierError::Empty { field });
    };
    let expected = check_digit(body);
    let found = last - b'0';
    if expected == found {
        Ok(())
    } else {
        Err(IdentifierError::CheckDigit { field, expected, found })
    }
}
