//! The dated policy table: the embedded one, overrides, and validation.

use eligibility::policy::AdditionFacility::{Clinic, Pharmacy};
use eligibility::policy::{Confidence, DocumentKind, Holder, Mode, Policy, PolicyError};
use eligibility::{Date, YearMonth};

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

#[test]
fn embedded_table_loads_and_answers_by_date() {
    let p = Policy::embedded().unwrap();
    let card = |s| p.document(DocumentKind::HealthInsuranceCard, d(s)).map(|r| r.modes.clone());
    assert_eq!(card("2025-12-01"), Some(vec![Mode::Alone]));
    assert_eq!(card("2025-12-02"), Some(vec![Mode::AloneWithOnlineByNumbers]));
    assert_eq!(card("2026-03-31"), Some(vec![Mode::AloneWithOnlineByNumbers]));
    // Extended to 2026-07-31 (reported), then gone.
    assert_eq!(card("2026-04-01"), Some(vec![Mode::AloneWithOnlineByNumbers]));
    assert_eq!(card("2026-07-31"), Some(vec![Mode::AloneWithOnlineByNumbers]));
    assert_eq!(card("2026-08-01"), None);
    assert_eq!(
        p.document(DocumentKind::HealthInsuranceCard, d("2026-07-31")).unwrap().confidence,
        Confidence::Reported
    );
    assert_eq!(p.certificate_grace(Holder::Card, d("2026-11-25")).unwrap().months, 3);
    assert_eq!(p.certificate_grace(Holder::Phone, d("2026-11-25")).unwrap().months, 0);
    let dx = |m: &str, f| p.dx_addition(YearMonth::parse(m).unwrap(), f).map(|r| r.tiers.clone());
    assert_eq!(dx("2026-03", Clinic), Some(vec![70, 50, 30]));
    assert_eq!(dx("2026-05", Pharmacy), Some(vec![70, 50, 30]));
    assert_eq!(dx("2026-06", Clinic), Some(vec![30]));
    assert_eq!(dx("2026-06", Pharmacy), Some(vec![30]));
    assert_eq!(dx("2028-06", Clinic), None);
    assert_eq!(p.reviewed, Some(d("2026-12-01")));
    // Each section knows its rules to a day: the 後期 blanket certificate to its renewal on
    // 2027-08-01, the 加算 to the next 改定 (2028-06); after that the rule is unknown.
    assert!(p.unknown_on(d("2027-07-31")).is_empty());
    assert_eq!(p.unknown_on(d("2027-08-01")), vec![("late_elderly_certificate", d("2027-07-31"))]);
    assert_eq!(
        p.unknown_on(d("2028-06-01")),
        vec![("late_elderly_certificate", d("2027-07-31")), ("dx_addition", d("2028-05-31"))]
    );
}

#[test]
fn override_replaces_a_section_and_is_validated() {
    let p = Policy::embedded().unwrap();
    let later = p
        .with_override(
            r#"
[[dx_addition]]
from = "2026-06"
until = "2027-05"
tiers = [75, 55, 35]
source = "test"
"#,
        )
        .unwrap();
    assert_eq!(
        later.dx_addition(YearMonth::parse("2026-07").unwrap(), Clinic).unwrap().tiers[0],
        75
    );
    assert_eq!(later.dx_addition(YearMonth::parse("2026-03").unwrap(), Clinic), None);
    assert_eq!(later.document, p.document);

    let overlapping = r#"
[[certificate_grace]]
holder = "card"
months = 3
source = "a"
[[certificate_grace]]
holder = "card"
from = "2027-01-01"
months = 6
source = "b"
"#;
    assert!(matches!(p.with_override(overlapping), Err(PolicyError::Overlap { .. })));
    assert!(matches!(p.with_override("nonsense = 1"), Err(PolicyError::Syntax(_))));
    assert!(matches!(
        p.with_override("[[copay]]\nfrom = \"2027-01-01\"\nuntil = \"2026-01-01\"\npreschool = 20\nworking_age = 30\nage_70_to_74 = 20\nlate_elderly = 10\nsource = \"x\""),
        Err(PolicyError::Inverted { .. })
    ));
}

/// The JSON the build makes from `policy.toml` is the same table as the TOML itself.
#[test]
fn the_embedded_json_is_the_toml_table() {
    let from_json = Policy::embedded().unwrap();
    let from_toml = Policy::from_toml(Policy::embedded_text()).unwrap();
    assert_eq!(from_json, from_toml);
}
