//! Dates and the legal age rule.

use eligibility::age::{age_on, AgeBand};
use eligibility::date::{Date, DateError, YearMonth};

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

#[test]
fn parses_both_forms_and_rejects_impossible_days() {
    assert_eq!(d("20260331"), d("2026-03-31"));
    assert_eq!(d("２０２６０３３１"), d("2026-03-31"));
    assert!(matches!(Date::parse("20250229"), Err(DateError::NoSuchDay { .. })));
    assert!(matches!(Date::parse("2025-2-1"), Err(DateError::Format(_))));
    assert!(matches!(Date::parse("00000101"), Err(DateError::YearOutOfRange(0))));
    assert!(matches!(Date::parse("2025-02-日本"), Err(DateError::Format(_))));
}

#[test]
fn arithmetic() {
    assert_eq!(d("2026-01-31").add_months(1), d("2026-02-28"));
    assert_eq!(d("2024-01-31").add_months(1), d("2024-02-29"));
    assert_eq!(d("2025-12-31").succ(), d("2026-01-01"));
    assert_eq!(d("2026-03-01").pred(), d("2026-02-28"));
    assert_eq!(d("2026-04-01").school_year_end(), d("2027-03-31"));
    assert_eq!(d("2026-03-31").school_year_end(), d("2026-03-31"));
    assert_eq!(d("2024-02-29").anniversary(1), d("2025-03-01"));
    assert_eq!(d("2024-02-29").anniversary(4), d("2028-02-29"));
    assert_eq!(d("1970-01-01").day_number(), 0);
    assert_eq!(d("2025-12-01").days_until(d("2026-03-31")), 120);
    assert_eq!(d("2026-11-15").first_of_next_month(), d("2026-12-01"));
    assert_eq!(YearMonth::parse("2026-03").unwrap().minus(5).to_string(), "2025-10");
}

fn check(birth: &str, visit: &str, band: AgeBand) {
    assert_eq!(AgeBand::on(d(birth), d(visit)), Some(band), "born {birth}, visit {visit}");
}

#[test]
fn boundaries_follow_the_legal_age_rule() {
    // Born 1 April: reaches 6 on 31 March and leaves 未就学 at that very school year end.
    check("2020-04-01", "2026-03-31", AgeBand::Preschool);
    check("2020-04-01", "2026-04-01", AgeBand::WorkingAge);
    // Born 2 April: one school year later.
    check("2020-04-02", "2026-04-01", AgeBand::Preschool);
    check("2020-04-02", "2027-03-31", AgeBand::Preschool);
    check("2020-04-02", "2027-04-01", AgeBand::WorkingAge);
    // 70: the month after reaching; born on the 1st → the birthday month.
    check("1956-05-01", "2026-04-30", AgeBand::WorkingAge);
    check("1956-05-01", "2026-05-01", AgeBand::Age70To74);
    check("1956-05-02", "2026-05-31", AgeBand::WorkingAge);
    check("1956-05-02", "2026-06-01", AgeBand::Age70To74);
    // 75: the birthday itself.
    check("1951-11-25", "2026-11-24", AgeBand::Age70To74);
    check("1951-11-25", "2026-11-25", AgeBand::LateElderly);
    // 29 February.
    assert_eq!(age_on(d("2008-02-29"), d("2026-02-28")), Some(17));
    assert_eq!(age_on(d("2008-02-29"), d("2026-03-01")), Some(18));
    assert_eq!(age_on(d("2008-02-29"), d("2028-02-29")), Some(20));
    assert_eq!(age_on(d("2008-02-29"), d("2008-02-28")), None);
    assert_eq!(AgeBand::on(d("2026-01-02"), d("2026-01-01")), None);
}
