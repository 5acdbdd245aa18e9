//! The test persons who carry virtual cards and phones. Synthetic: names, addresses and
//! 個人番号 are invented (the numbers only satisfy the check digit).

use crate::jpki::Holder;
use crate::text_ap::Sex;
use eligibility::Date;

/// A person with a virtual card or phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestPerson {
    pub id: &'static str,
    pub name: &'static str,
    pub kana: &'static str,
    pub address: &'static str,
    /// YYYYMMDD.
    pub birth: &'static str,
    pub sex: Sex,
    pub my_number: &'static str,
    pub holder: Holder,
    /// Index into the committed test key pool.
    pub key: usize,
    /// The auth certificate's last valid day, in days from the issuing day of the test PKI
    /// (negative: already expired).
    pub expires_in_days: i64,
    pub auth_pin: &'static str,
    pub text_pin: &'static str,
    /// The 署名用パスワード (a My Number card's; `None`: no signing certificate).
    pub sign_password: Option<&'static str>,
}

impl TestPerson {
    pub fn birth_date(&self) -> Result<Date, eligibility::DateError> {
        Date::parse(self.birth)
    }

    pub fn find(id: &str) -> Option<&'static TestPerson> {
        TEST_PERSONS.iter().find(|p| p.id == id)
    }
}

#[allow(clippy::too_many_arguments)]
const fn person(
    id: &'static str,
    name: &'static str,
    kana: &'static str,
    address: &'static str,
    birth: &'static str,
    sex: Sex,
    my_number: &'static str,
    holder: Holder,
    key: usize,
    expires_in_days: i64,
) -> TestPerson {
    TestPerson {
        id,
        name,
        kana,
        address,
        birth,
        sex,
        my_number,
        holder,
        key,
        expires_in_days,
        auth_pin: "1234",
        text_pin: "5678",
        sign_password: Some("MADO2026"),
    }
}

/// Every virtual cardholder. PINs: auth `1234`, text AP `5678`; a My Number card's
/// 署名用パスワード `MADO2026`.
pub const TEST_PERSONS: &[TestPerson] = &[
    person(
        "yamada",
        "山田太郎",
        "ﾔﾏﾀﾞ ﾀﾛｳ",
        "東京都千代田区霞が関1-2-2",
        "19800401",
        Sex::Male,
        "123456789018",
        Holder::MyNumberCard,
        0,
        3 * 365,
    ),
    person(
        "sato",
        "佐藤花子",
        "ｻﾄｳ ﾊﾅｺ",
        "北海道札幌市中央区北1条西2丁目",
        "19520615",
        Sex::Female,
        "987654321093",
        Holder::MyNumberCard,
        1,
        10,
    ),
    person(
        "suzuki",
        "鈴木一郎",
        "ｽｽﾞｷ ｲﾁﾛｳ",
        "大阪府大阪市北区中之島1-3-20",
        "19450302",
        Sex::Male,
        "111222333446",
        Holder::MyNumberCard,
        2,
        -61,
    ),
    person(
        "takahashi",
        "高橋次郎",
        "ﾀｶﾊｼ ｼﾞﾛｳ",
        "福岡県福岡市中央区天神1-8-1",
        "19700910",
        Sex::Male,
        "555666777885",
        Holder::MyNumberCard,
        3,
        -122,
    ),
    person(
        "tanaka",
        "田中美咲",
        "ﾀﾅｶ ﾐｻｷ",
        "愛知県名古屋市中区三の丸3-1-1",
        "19950120",
        Sex::Female,
        "202601011230",
        Holder::AndroidPhone,
        0,
        2 * 365,
    ),
    person(
        "ito",
        "伊藤健",
        "ｲﾄｳ ｹﾝ",
        "宮城県仙台市青葉区本町3-8-1",
        "19881111",
        Sex::Male,
        "314159265352",
        Holder::IPhone,
        1,
        2 * 365,
    ),
    person(
        "watanabe",
        "渡辺さくら",
        "ﾜﾀﾅﾍﾞ ｻｸﾗ",
        "広島県広島市中区基町10-52",
        "20000303",
        Sex::Female,
        "271828182840",
        Holder::AndroidPhone,
        2,
        -5,
    ),
    person(
        "kobayashi",
        "小林正",
        "ｺﾊﾞﾔｼ ﾀﾀﾞｼ",
        "沖縄県那覇市泉崎1-2-2",
        "19400707",
        Sex::Male,
        "161803398872",
        Holder::JukiCard,
        3,
        200,
    ),
];
