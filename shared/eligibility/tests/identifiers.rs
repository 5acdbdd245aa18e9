//! Identifier rules, one row per case.

use eligibility::identifiers::{
    BranchNumber, Field, IdentifierError, InsuredCard, InsuredNumber, InsuredSymbol, InsurerKind,
    InsurerNumber, Prefecture, PublicPayerNumber, RecipientNumber, UnknownInsurerStyle,
    UnknownPlaceholders,
};

/// Every known-valid number of domain.md §3.
#[test]
fn known_valid_numbers_validate() {
    for n in ["33120015", "54016027", "01130012", "39131008"] {
        assert!(InsurerNumber::parse(n).is_ok(), "保険者番号 {n}");
    }
    for n in ["54016027", "81136244", "81137242", "88138243", "88131248", "89131247"] {
        assert!(PublicPayerNumber::parse(n).is_ok(), "公費負担者番号 {n}");
    }
}

fn check_insurer(input: &str, expected: Result<(&str, InsurerKind, u8), IdentifierError>) {
    let got = InsurerNumber::parse(input).map(|n| {
        let code = n.as_str().to_string();
        (code, n.kind(), n.prefecture_code())
    });
    let expected = expected.map(|(c, k, p)| (c.to_string(), k, p));
    assert_eq!(got, expected, "input {input:?}");
}

#[test]
fn insurer_numbers() {
    use IdentifierError as E;
    use InsurerKind as K;
    let f = Field::InsurerNumber;
    let houbetsu = |code| eligibility::identifiers::Houbetsu::lookup(code);
    check_insurer("01130012", Ok(("01130012", K::Employee(houbetsu("01")), 13)));
    check_insurer("０１１３００１２", Ok(("01130012", K::Employee(houbetsu("01")), 13)));
    check_insurer(" 0113 0012 ", Ok(("01130012", K::Employee(houbetsu("01")), 13)));
    check_insurer("33120015", Ok(("33120015", K::Employee(houbetsu("33")), 12)));
    check_insurer("39131008", Ok(("39131008", K::LateElderly, 13)));
    check_insurer("133033", Ok(("133033", K::NationalHealthInsuranceSociety, 13)));
    check_insurer("  133033", Ok(("133033", K::NationalHealthInsuranceSociety, 13)));
    check_insurer("01130013", Err(E::CheckDigit { field: f, expected: 2, found: 3 }));
    check_insurer("0113001", Err(E::Length { field: f, expected: &[6, 8], found: 7 }));
    check_insurer("0113001a", Err(E::NotDigit { field: f, position: 8, found: 'a' }));
    check_insurer("", Err(E::Empty { field: f }));
    check_insurer("　", Err(E::Empty { field: f }));
}

#[test]
fn errors_tell_what_to_do_in_both_languages() {
    let e = InsurerNumber::parse("01130013").unwrap_err().to_string();
    assert!(e.contains("検証番号") && e.contains("2 のはず") && e.contains("should be 2"), "{e}");
    let e = InsurerNumber::parse("12345").unwrap_err().to_string();
    assert!(e.contains("6か8桁") && e.contains("not 5"), "{e}");
}

#[test]
fn combined_symbol_and_number() {
    let card = InsuredCard::parse_combined("１２３４・５６７８９", "０２").unwrap();
    assert_eq!(card.symbol.as_ref().map(|s| s.as_str()), Some("1234"));
    assert_eq!(card.number.as_str(), "56789");
    assert_eq!(card.branch.as_ref().map(|b| b.as_str()), Some("02"));
    let kouki = InsuredCard::parse_combined("12345678", "").unwrap();
    assert_eq!(kouki.symbol, None);
}

#[test]
fn normalises_what_people_type() {
    let card = InsuredCard::parse_combined("ＡＢ－１２・３４５ ６７", "1").unwrap();
    assert_eq!(card.symbol.unwrap().as_str(), "AB-12");
    assert_eq!(card.number.as_str(), "34567");
    assert_eq!(card.branch.unwrap().as_str(), "01");
    assert_eq!(InsuredSymbol::parse("千葉ア").unwrap().as_str(), "千葉ア");
    assert!(matches!(
        InsuredNumber::parse("12/34"),
        Err(IdentifierError::InvalidChar { position: 3, .. })
    ));
    assert!(matches!(
        InsuredNumber::parse(&"あ".repeat(20)),
        Err(IdentifierError::TooLong { found: 40, .. })
    ));
    assert!(matches!(BranchNumber::parse("123"), Err(IdentifierError::Length { .. })));
    assert_eq!(InsuredCard::parse("", "123", "").unwrap().symbol, None);
}

#[test]
fn classifies() {
    let n = InsurerNumber::parse("39131008").unwrap();
    assert_eq!(n.kind(), InsurerKind::LateElderly);
    assert_eq!(n.prefecture().unwrap().name.ja, "東京都");
    // 東京都医師国民健康保険組合.
    let kokuho = InsurerNumber::parse("133033").unwrap();
    assert_eq!(kokuho.kind(), InsurerKind::NationalHealthInsuranceSociety);
    assert_eq!(kokuho.eight_char_form().len(), 8);
    assert_eq!(InsurerNumber::parse(&kokuho.eight_char_form()).unwrap(), kokuho);
    assert_eq!(
        InsurerNumber::from_body("13105").unwrap().kind(),
        InsurerKind::NationalHealthInsurance
    );
    assert_eq!(Prefecture::from_code(0), None);
    assert_eq!(Prefecture::from_code(48), None);
    assert_eq!(Prefecture::from_code(47).unwrap().name.en, "Okinawa");
}

#[test]
fn programmes() {
    assert_eq!(PublicPayerNumber::parse("54016027").unwrap().programme().unwrap().code, "54");
    assert_eq!(PublicPayerNumber::parse("81136244").unwrap().programme().unwrap().code, "8x");
    assert_eq!(PublicPayerNumber::parse("81136244").unwrap().prefecture().unwrap().code, 13);
    assert!(RecipientNumber::parse("1234567").is_err());
    let lenient = RecipientNumber::parse_unverified("1234567").unwrap();
    assert!(!lenient.check_digit_verified());
}

#[test]
fn both_styles() {
    let p = UnknownPlaceholders::new(UnknownInsurerStyle::CheckDigitValid, 4, 8);
    assert_eq!(p.insurer_number, "77777779");
    assert!(InsurerNumber::parse(&p.insurer_number).is_ok());
    assert_eq!((p.symbol.as_str(), p.number.as_str()), ("7777", "77777777"));
    let all = UnknownPlaceholders::new(UnknownInsurerStyle::AllSevens, 100, 0);
    assert!(InsurerNumber::parse(&all.insurer_number).is_err());
    assert_eq!(all.symbol.len(), 38);
}
