//! 公費負担者番号 (8 digits: 法別 2 + 都道府県 2 + 実施機関 3 + 検証番号 1) and
//! 公費負担医療の受給者番号 (7 digits: 6 + 検証番号).

use super::{digits, verify_check_digit, Field, IdentifierError, Prefecture};
use crate::Text;
use serde::Serialize;

/// A 公費負担者番号 whose length and check digit are right.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicPayerNumber(String);

/// The programme named by the first two digits of a 公費負担者番号.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KouhiHoubetsu {
    pub code: &'static str,
    pub name: Text,
}

const KOUHI: &[KouhiHoubetsu] = &[
    k("10", "感染症法（結核患者の適正医療）", "tuberculosis treatment"),
    k("12", "生活保護法（医療扶助）", "public assistance (medical aid)"),
    k("15", "障害者総合支援法（更生医療）", "rehabilitation medical care"),
    k("16", "障害者総合支援法（育成医療）", "medical care for children with disabilities"),
    k("21", "障害者総合支援法（精神通院医療）", "outpatient psychiatric care"),
    k("23", "母子保健法（養育医療）", "care for premature infants"),
    k("51", "特定疾患治療研究事業", "specified diseases (research programme)"),
    k("52", "小児慢性特定疾病医療支援", "chronic specified paediatric diseases"),
    k("54", "難病法（特定医療費）", "designated intractable diseases"),
];

const fn k(code: &'static str, ja: &'static str, en: &'static str) -> KouhiHoubetsu {
    KouhiHoubetsu { code, name: Text::new(ja, en) }
}

const MUNICIPAL: Text =
    Text::new("地方単独事業（子ども医療等）", "municipal programme (e.g. children's care)");

impl PublicPayerNumber {
    pub fn parse(text: &str) -> Result<PublicPayerNumber, IdentifierError> {
        let number = digits(Field::PublicPayerNumber, text, &[8])?;
        verify_check_digit(Field::PublicPayerNumber, &number)?;
        Ok(PublicPayerNumber(number))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The programme: the national table, any 8x as a municipal programme, else `None`.
    pub fn programme(&self) -> Option<KouhiHoubetsu> {
        let code = &self.0[0..2];
        KOUHI.iter().copied().find(|k| k.code == code).or_else(|| {
            code.starts_with('8').then_some(KouhiHoubetsu { code: "8x", name: MUNICIPAL })
        })
    }

    pub fn prefecture(&self) -> Option<Prefecture> {
        Prefecture::from_code(self.0[2..4].parse().unwrap_or(0))
    }
}

impl std::fmt::Display for PublicPayerNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 受給者番号 (7 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecipientNumber {
    number: String,
    check_digit_verified: bool,
}

impl RecipientNumber {
    /// Parses with the check digit rule.
    pub fn parse(text: &str) -> Result<RecipientNumber, IdentifierError> {
        let number = digits(Field::RecipientNumber, text, &[7])?;
        verify_check_digit(Field::RecipientNumber, &number)?;
        Ok(RecipientNumber { number, check_digit_verified: true })
    }

    /// Parses 7 digits without the check digit rule, for the municipal programmes that do
    /// not follow it; the value remembers that its check digit was not verified.
    pub fn parse_unverified(text: &str) -> Result<RecipientNumber, IdentifierError> {
        let number = digits(Field::RecipientNumber, text, &[7])?;
        let check_digit_verified = verify_check_digit(Field::RecipientNumber, &number).is_ok();
        Ok(RecipientNumber { number, check_digit_verified })
    }

    pub fn as_str(&self) -> &str {
        &self.number
    }

    pub fn check_digit_verified(&self) -> bool {
        self.check_digit_verified
    }
}
