//! 保険者番号: 8 digits (法別番号 2 + 都道府県番号 2 + 保険者別番号 3 + 検証番号 1) or the
//! 6 digits of 国民健康保険 (都道府県番号 2 + 保険者別番号 3 + 検証番号 1).

use super::{digits, verify_check_digit, Field, IdentifierError};
use crate::Text;
use serde::Serialize;
use std::fmt;

/// A 保険者番号 whose length and check digit are right.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InsurerNumber(String);

/// 法別番号: the first two digits of an 8-digit 保険者番号.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Houbetsu {
    pub code: &'static str,
    pub name: Text,
    /// No longer issued (退職者医療, ended 2015): kept for old records.
    pub ended: bool,
}

const HOUBETSU: &[Houbetsu] = &[
    h(
        "01",
        "全国健康保険協会管掌健康保険（協会けんぽ）",
        "Japan Health Insurance Association (Kyōkai Kenpo)",
    ),
    h("02", "船員保険", "Seamen's Insurance"),
    h("03", "日雇特例被保険者の保険（一般療養）", "day labourers' special insurance"),
    h(
        "04",
        "日雇特例被保険者の保険（特別療養費）",
        "day labourers' special insurance (special benefit)",
    ),
    h("06", "組合管掌健康保険", "society-managed health insurance (kenpo kumiai)"),
    h("07", "防衛省職員給与法による自衛官等", "Self-Defense Forces personnel"),
    h("31", "国家公務員共済組合", "national public servants' mutual aid"),
    h("32", "地方公務員等共済組合", "local public servants' mutual aid"),
    h("33", "警察共済組合", "police mutual aid"),
    h(
        "34",
        "公立学校共済組合・日本私立学校振興・共済事業団",
        "public and private school mutual aid",
    ),
    h("39", "後期高齢者医療", "late-stage elderly medical care (75+)"),
    h("63", "特例退職被保険者（組合）", "special retirees (health insurance society)"),
    Houbetsu {
        code: "67",
        name: Text::new("退職者医療（国民健康保険）", "retirees' medical care (NHI, ended)"),
        ended: true,
    },
    h("72", "特例退職被保険者（国家公務員共済）", "special retirees (national public servants)"),
    h("73", "特例退職被保険者（地方公務員等共済）", "special retirees (local public servants)"),
    h("74", "特例退職被保険者（警察共済）", "special retirees (police)"),
    h("75", "特例退職被保険者（学校共済）", "special retirees (schools)"),
];

const fn h(code: &'static str, ja: &'static str, en: &'static str) -> Houbetsu {
    Houbetsu { code, name: Text::new(ja, en), ended: false }
}

impl Houbetsu {
    pub fn lookup(code: &str) -> Option<Houbetsu> {
        HOUBETSU.iter().copied().find(|h| h.code == code)
    }
    pub fn all() -> &'static [Houbetsu] {
        HOUBETSU
    }
}

/// 都道府県番号 01 北海道 … 47 沖縄.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Prefecture {
    pub code: u8,
    pub name: Text,
}

const PREFECTURES: [(&str, &str); 47] = [
    ("北海道", "Hokkaido"),
    ("青森県", "Aomori"),
    ("岩手県", "Iwate"),
    ("宮城県", "Miyagi"),
    ("秋田県", "Akita"),
    ("山形県", "Yamagata"),
    ("福島県", "Fukushima"),
    ("茨城県", "Ibaraki"),
    ("栃木県", "Tochigi"),
    ("群馬県", "Gunma"),
    ("埼玉県", "Saitama"),
    ("千葉県", "Chiba"),
    ("東京都", "Tokyo"),
    ("神奈川県", "Kanagawa"),
    ("新潟県", "Niigata"),
    ("富山県", "Toyama"),
    ("石川県", "Ishikawa"),
    ("福井県", "Fukui"),
    ("山梨県", "Yamanashi"),
    ("長野県", "Nagano"),
    ("岐阜県", "Gifu"),
    ("静岡県", "Shizuoka"),
    ("愛知県", "Aichi"),
    ("三重県", "Mie"),
    ("滋賀県", "Shiga"),
    ("京都府", "Kyoto"),
    ("大阪府", "Osaka"),
    ("兵庫県", "Hyogo"),
    ("奈良県", "Nara"),
    ("和歌山県", "Wakayama"),
    ("鳥取県", "Tottori"),
    ("島根県", "Shimane"),
    ("岡山県", "Okayama"),
    ("広島県", "Hiroshima"),
    ("山口県", "Yamaguchi"),
    ("徳島県", "Tokushima"),
    ("香川県", "Kagawa"),
    ("愛媛県", "Ehime"),
    ("高知県", "Kochi"),
    ("福岡県", "Fukuoka"),
    ("佐賀県", "Saga"),
    ("長崎県", "Nagasaki"),
    ("熊本県", "Kumamoto"),
    ("大分県", "Oita"),
    ("宮崎県", "Miyazaki"),
    ("鹿児島県", "Kagoshima"),
    ("沖縄県", "Okinawa"),
];

impl Prefecture {
    /// The prefecture for a two-digit code, `None` outside 01–47.
    pub fn from_code(code: u8) -> Option<Prefecture> {
        let (ja, en) = *PREFECTURES.get(usize::from(code).checked_sub(1)?)?;
        Some(Prefecture { code, name: Text::new(ja, en) })
    }
}

/// What kind of insurer a number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsurerKind {
    /// 市町村国保 (6 digits).
    NationalHealthInsurance,
    /// 国民健康保険組合 (6 digits, 保険者別番号 in the 300s).
    NationalHealthInsuranceSociety,
    /// 後期高齢者医療 (法別 39).
    LateElderly,
    /// Any other 8-digit number, with its 法別番号 when the table knows it.
    Employee(Option<Houbetsu>),
}

impl InsurerNumber {
    /// Parses a typed 保険者番号 (6 or 8 digits after folding; spaces ignored, so the
    /// space-padded 8-character form of a 国保 number is accepted too).
    pub fn parse(text: &str) -> Result<InsurerNumber, IdentifierError> {
        let number = digits(Field::InsurerNumber, text, &[6, 8])?;
        verify_check_digit(Field::InsurerNumber, &number)?;
        Ok(InsurerNumber(number))
    }

    /// Builds the number from its body by appending the right check digit. `body` must be
    /// 5 or 7 ASCII digits.
    pub fn from_body(body: &str) -> Result<InsurerNumber, IdentifierError> {
        let body = digits(Field::InsurerNumber, body, &[5, 7])?;
        let check = super::check_digit(body.as_bytes());
        Ok(InsurerNumber(format!("{body}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 8-character form the national system and claims expect: 8-digit numbers as
    /// they are, 6-digit 国保 numbers right-aligned with two leading spaces (as the
    /// レセプト電算 HO record does; the 外部インターフェイス仕様書 was not available, so
    /// the padding character is inferred).
    pub fn eight_char_form(&self) -> String {
        format!("{:>8}", self.0)
    }

    pub fn is_national_health_insurance(&self) -> bool {
        self.0.len() == 6
    }

    /// 法別番号 of an 8-digit number (`None` for 国保, and for codes the table lacks).
    pub fn houbetsu(&self) -> Option<Houbetsu> {
        if self.is_national_health_insurance() {
            None
        } else {
            Houbetsu::lookup(&self.0[0..2])
        }
    }

    /// The two-digit 都道府県番号 field.
    pub fn prefecture_code(&self) -> u8 {
        let start = if self.is_national_health_insurance() { 0 } else { 2 };
        self.0[start..start + 2].parse().unwrap_or(0)
    }

    /// The prefecture, when the code is 01–47.
    pub fn prefecture(&self) -> Option<Prefecture> {
        Prefecture::from_code(self.prefecture_code())
    }

    /// The three-digit 保険者別番号.
    pub fn insurer_serial(&self) -> &str {
        let start = if self.is_national_health_insurance() { 2 } else { 4 };
        &self.0[start..start + 3]
    }

    pub fn kind(&self) -> InsurerKind {
        if self.is_national_health_insurance() {
            if self.insurer_serial().starts_with('3') {
                InsurerKind::NationalHealthInsuranceSociety
            } else {
                InsurerKind::NationalHealthInsurance
            }
        } else if self.0.starts_with("39") {
            InsurerKind::LateElderly
        } else {
            InsurerKind::Employee(self.houbetsu())
        }
    }

    /// A one-line description for staff: kind, 法別 and prefecture.
    pub fn describe(&self) -> (String, String) {
        let pref = self
            .prefecture()
            .map(|p| p.name)
            .unwrap_or(Text::new("都道府県番号不明", "unknown prefecture"));
        let kind = match self.kind() {
            InsurerKind::NationalHealthInsurance => {
                Text::new("国民健康保険（市町村）", "National Health Insurance (municipal)")
            }
            InsurerKind::NationalHealthInsuranceSociety => {
                Text::new("国民健康保険組合", "National Health Insurance society")
            }
            InsurerKind::LateElderly => {
                Text::new("後期高齢者医療", "late-stage elderly medical care")
            }
            InsurerKind::Employee(Some(h)) => h.name,
            InsurerKind::Employee(None) => {
                Text::new("法別番号が表にありません", "法別番号 not in the table")
            }
        };
        (format!("{}・{}", kind.ja, pref.ja), format!("{}, {}", kind.en, pref.en))
    }
}

impl fmt::Display for InsurerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for InsurerNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
