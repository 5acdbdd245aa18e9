//! Property tests: parsers never panic, valid numbers round-trip, and the check digit
//! catches every single-digit mutation.

use eligibility::identifiers::{check_digit, BranchNumber, InsuredNumber, InsuredSymbol};
use eligibility::{
    Date, InsuredCard, InsurerNumber, Policy, PublicPayerNumber, RecipientNumber, YearMonth,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parsers_never_panic(s in "\\PC*") {
        let _ = InsurerNumber::parse(&s);
        let _ = PublicPayerNumber::parse(&s);
        let _ = RecipientNumber::parse(&s);
        let _ = RecipientNumber::parse_unverified(&s);
        let _ = InsuredSymbol::parse(&s);
        let _ = InsuredNumber::parse(&s);
        let _ = BranchNumber::parse(&s);
        let _ = InsuredCard::parse_combined(&s, &s);
        let _ = Date::parse(&s);
        let _ = YearMonth::parse(&s);
        let _ = Policy::from_toml(&s);
    }

    #[test]
    fn digit_like_strings_never_panic(s in "[0-9０-９ 　・\\-－]{0,12}") {
        let _ = InsurerNumber::parse(&s);
        let _ = InsuredCard::parse_combined(&s, &s);
        let _ = Date::parse(&s);
    }

    #[test]
    fn generated_valid_numbers_round_trip(body in "[0-9]{7}") {
        let n = InsurerNumber::from_body(&body).unwrap();
        prop_assert_eq!(InsurerNumber::parse(n.as_str()).unwrap(), n.clone());
        // Full-width and spaced typing give the same number.
        let wide: String = n.as_str().chars().map(|c| char::from_u32(c as u32 - 0x30 + 0xFF10).unwrap()).collect();
        prop_assert_eq!(InsurerNumber::parse(&wide).unwrap(), n.clone());
        let payer = PublicPayerNumber::parse(n.as_str()).unwrap();
        prop_assert_eq!(payer.as_str(), n.as_str());
    }

    #[test]
    fn six_digit_numbers_round_trip_through_the_eight_char_form(body in "[0-9]{5}") {
        let n = InsurerNumber::from_body(&body).unwrap();
        prop_assert_eq!(n.eight_char_form().len(), 8);
        prop_assert_eq!(InsurerNumber::parse(&n.eight_char_form()).unwrap(), n);
    }

    #[test]
    fn every_single_digit_mutation_is_rejected(body in "[0-9]{7}", position in 0usize..8, delta in 1u8..10) {
        let valid = InsurerNumber::from_body(&body).unwrap();
        let mut bytes = valid.as_str().as_bytes().to_vec();
        bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
        let mutated = String::from_utf8(bytes).unwrap();
        prop_assert!(InsurerNumber::parse(&mutated).is_err(), "{} accepted (from {})", mutated, valid);
        prop_assert!(PublicPayerNumber::parse(&mutated).is_err());
    }

    #[test]
    fn recipient_numbers_round_trip(body in "[0-9]{6}") {
        let number = format!("{body}{}", check_digit(body.as_bytes()));
        let parsed = RecipientNumber::parse(&number).unwrap();
        prop_assert_eq!(parsed.as_str(), number.as_str());
    }

    #[test]
    fn valid_dates_round_trip(y in 1800u32..=9999, m in 1u32..=12, d in 1u32..=31) {
        if let Ok(date) = Date::new(y, m, d) {
            prop_assert_eq!(Date::parse(&date.compact()).unwrap(), date);
            prop_assert_eq!(Date::parse(&date.to_string()).unwrap(), date);
            prop_assert_eq!(date.succ().pred(), date);
            prop_assert_eq!(Date::from_day_number(date.day_number()), Some(date));
            prop_assert!(date.add_months(3) >= date);
        }
    }
}

/// Exhaustive over all 10^7 bodies would take long; every 8-digit body with a fixed
/// prefix is checked instead, which covers every position's mutation for those.
#[test]
fn exhaustive_single_digit_mutations_for_one_prefix() {
    for body in 0..100_000u32 {
        let body = format!("01{body:05}");
        let valid = InsurerNumber::from_body(&body).unwrap();
        for position in 0..8 {
            for delta in 1..10u8 {
                let mut bytes = valid.as_str().as_bytes().to_vec();
                bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
                let mutated = std::str::from_utf8(&bytes).unwrap();
                assert!(InsurerNumber::parse(mutated).is_err(), "{mutated} accepted");
            }
        }
    }
}
