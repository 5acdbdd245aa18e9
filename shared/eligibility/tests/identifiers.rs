//! Identifier rules, one row per case.

use eligibility::identifiers::{Field, InsurerKind};
use eligibility::{IdentifierError, InsuredCard, InsurerNumber, PublicPayerNumber};

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
