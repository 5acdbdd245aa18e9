//! 券面事項入力補助 AP: the four basic items (氏名, 住所, 生年月日, 性別) and, only on an
//! explicit request, the 個人番号. Parsed strictly: anything unexpected is an error.

use crate::ber;
use crate::error::CardError;
use crate::jpki::{read, read_tlv_file, select_file};
use crate::pin::{TextApPin, Verified};
use crate::transport::Transport;
use eligibility::Date;
use serde::Serialize;

pub const TEXT_AID: &[u8] = &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
pub const FID_TEXT_PIN: u16 = 0x0011;
pub const FID_MY_NUMBER: u16 = 0x0001;
pub const FID_BASIC_INFO: u16 = 0x0002;

const TAG_BASIC: u32 = 0xFF20;
const TAG_OFFSETS: u32 = 0xDF21;
const TAG_NAME: u32 = 0xDF22;
const TAG_ADDRESS: u32 = 0xDF23;
const TAG_BIRTH: u32 = 0xDF24;
const TAG_SEX: u32 = 0xDF25;
const MAX_BASIC_INFO_LEN: usize = 2048;

/// 性別 as ISO 5218.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    NotApplicable,
}

/// The four basic items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BasicInfo {
    pub name: String,
    pub address: String,
    pub birth: Date,
    pub sex: Sex,
}

/// The 12-digit 個人番号, checked with its check digit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MyNumber(String);

impl MyNumber {
    /// Validates 12 digits and the check digit (番号法施行令 8条).
    pub fn parse(digits: &str) -> Result<MyNumber, CardError> {
        let bytes = digits.as_bytes();
        if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(CardError::malformed("個人番号", "not 12 digits"));
        }
        let sum: u32 = (1..=11)
            .map(|n| {
                let p = u32::from(bytes[11 - n] - b'0');
                let q = if n <= 6 { n as u32 + 1 } else { n as u32 - 5 };
                p * q
            })
            .sum();
        let r = sum % 11;
        let check = if r <= 1 { 0 } else { 11 - r };
        if u32::from(bytes[11] - b'0') != check {
            return Err(CardError::malformed("個人番号", "check digit"));
        }
        Ok(MyNumber(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Encodes the basic-info file as the card stores it (used by the virtual card).
pub fn encode_basic_info(info: &BasicInfo) -> Vec<u8> {
    let sex = match info.sex {
        Sex::Male => "1",
        Sex::Female => "2",
        Sex::NotApplicable => "9",
    };
    let birth = info.birth.compact();
    let fields: [(u16, &[u8]); 5] = [
        (0xDF21, &[0x00, 0x00, 0x00, 0x00]),
        (0xDF22, info.name.as_bytes()),
        (0xDF23, info.address.as_bytes()),
        (0xDF24, birth.as_bytes()),
        (0xDF25, sex.as_bytes()),
    ];
    let mut body = Vec::new();
    for (tag, value) in fields {
        body.extend(tag.to_be_bytes());
        ber::encode_len(value.len(), &mut body);
        body.extend_from_slice(value);
    }
    let mut out = vec![0xFF, 0x20];
    ber::encode_len(body.len(), &mut out);
    out.extend(body);
    out
}

/// Parses the basic-info file strictly.
pub fn parse_basic_info(bytes: &[u8]) -> Result<BasicInfo, CardError> {
    let bad = |detail: &str| CardError::malformed("基本4情報", detail);
    let outer =
        ber::header(bytes, MAX_BASIC_INFO_LEN).map_err(|e| CardError::malformed("基本4情報", e))?;
    if outer.tag != TAG_BASIC {
        return Err(bad("outer tag is not FF20"));
    }
    let body = bytes.get(outer.header_len..outer.total_len()).ok_or_else(|| bad("truncated"))?;
    let elements = ber::elements(body, MAX_BASIC_INFO_LEN)
        .map_err(|e| CardError::malformed("基本4情報", e))?;
    let find = |tag: u32| -> Result<&[u8], CardError> {
        let mut matches = elements.iter().filter(|(t, _)| *t == tag);
        match (matches.next(), matches.next()) {
            (Some((_, v)), None) => Ok(v),
            (None, _) => Err(bad(&format!("{tag:04X} missing"))),
            (Some(_), Some(_)) => Err(bad(&format!("{tag:04X} twice"))),
        }
    };
    if let Some((tag, _)) = elements.iter().find(|(t, _)| !(TAG_OFFSETS..=TAG_SEX).contains(t)) {
        return Err(bad(&format!("unexpected tag {tag:04X}")));
    }
    find(TAG_OFFSETS)?;
    let text = |tag| -> Result<String, CardError> {
        let value = find(tag)?;
        let s = std::str::from_utf8(value).map_err(|_| bad(&format!("{tag:04X} is not UTF-8")))?;
        if s.is_empty() || s.chars().any(char::is_control) {
            return Err(bad(&format!("{tag:04X} empty or has control characters")));
        }
        Ok(s.to_string())
    };
    let birth_text = text(TAG_BIRTH)?;
    let birth = Date::parse(&birth_text).map_err(|e| CardError::malformed("生年月日", e))?;
    let sex = match text(TAG_SEX)?.as_str() {
        "1" => Sex::Male,
        "2" => Sex::Female,
        "9" => Sex::NotApplicable,
        other => return Err(bad(&format!("sex {other:?}"))),
    };
    Ok(BasicInfo { name: text(TAG_NAME)?, address: text(TAG_ADDRESS)?, birth, sex })
}

/// Reads the four basic items. The text AP and its PIN must be verified.
pub async fn basic_info(
    t: &mut impl Transport,
    _verified: &Verified<TextApPin>,
) -> Result<BasicInfo, CardError> {
    let bytes = read_tlv_file(t, FID_BASIC_INFO, MAX_BASIC_INFO_LEN).await?;
    parse_basic_info(&bytes)
}

/// Reads the 個人番号. Only call when staff explicitly asked for it.
pub async fn my_number(
    t: &mut impl Transport,
    _verified: &Verified<TextApPin>,
) -> Result<MyNumber, CardError> {
    select_file(t, FID_MY_NUMBER).await?;
    let bytes = read(t, 0, 17).await?;
    match bytes.as_slice() {
        [0xD0, 0x0C, digits @ ..] if digits.len() >= 12 => MyNumber::parse(
            std::str::from_utf8(&digits[..12])
                .map_err(|_| CardError::malformed("個人番号", "not ASCII"))?,
        ),
        _ => Err(CardError::malformed("個人番号", "not a D0 0C record")),
    }
}
