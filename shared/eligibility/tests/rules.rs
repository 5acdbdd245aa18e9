//! Document acceptance and copay, one row per case, against the embedded policy table.

use eligibility::acceptance::{Alternative, Condition, Notice, PhoneOs, Refusal};
use eligibility::copay::{AnswerField, Basis, EstimateReason};
use eligibility::{
    accept, copay, Acceptance, CopayFields, Date, Document, Online, Policy, Presentation,
};

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// What a row expects: the status and, for refusals and conditions, which one.
#[derive(Debug, PartialEq)]
enum Want {
    Accepted,
    On(Condition),
    Refused(Refusal),
}

fn check(
    document: Document,
    visit: &str,
    online: Online,
    birth: Option<&str>,
    with_card: bool,
    want: Want,
) {
    let policy = Policy::embedded().unwrap();
    let p = Presentation {
        document: document.clone(),
        visit: d(visit),
        online,
        birth: birth.map(d),
        with_card,
    };
    let got = match accept(&policy, &p) {
        Acceptance::Accepted { .. } => Want::Accepted,
        Acceptance::OnCondition { condition, .. } => Want::On(condition),
        Acceptance::NotAccepted { reason, .. } => Want::Refused(reason),
    };
    assert_eq!(got, want, "{document:?} on {visit}, online {online:?}");
}

#[test]
fn documents_by_date() {
    use Document as D;
    use Online::*;
    use Want::*;
    let card = |exp: Option<&str>| D::MynaCard { certificate_not_after: exp.map(d) };
    let old_card = |until: Option<&str>| D::HealthInsuranceCard { valid_until: until.map(d) };
    let phone = |os, v: Option<[u32; 2]>, exp: Option<&str>| D::Smartphone {
        os: Some(os),
        os_version: v,
        certificate_not_after: exp.map(d),
    };
    let cert = |until: Option<&str>, late| D::EligibilityCertificate {
        valid_until: until.map(d),
        late_elderly: late,
    };

    // マイナ保険証 (card).
    check(card(None), "2026-11-25", Succeeded, None, false, Accepted);
    check(card(None), "2026-11-25", NotYet, None, false, On(Condition::OnlineConfirmation));
    check(
        card(None),
        "2026-11-25",
        CouldNotBeDone,
        None,
        false,
        Refused(Refusal::OnlineConfirmationFailed),
    );
    // Certificate expired 2 months ago: within the 3-month grace. 4 months ago: none.
    check(card(Some("2026-09-25")), "2026-11-25", Succeeded, None, false, Accepted);
    check(
        card(Some("2026-07-25")),
        "2026-11-25",
        Succeeded,
        None,
        false,
        Refused(Refusal::CertificateExpired { on: d("2026-07-25"), grace_months: 3 }),
    );
    check(card(Some("2026-08-25")), "2026-11-25", Succeeded, None, false, Accepted);
    check(
        card(Some("2026-08-24")),
        "2026-11-25",
        Succeeded,
        None,
        false,
        Refused(Refusal::CertificateExpired { on: d("2026-08-24"), grace_months: 3 }),
    );

    // スマホ: no grace, age 15+, OS minimums, available from 2025-09-19.
    check(
        phone(PhoneOs::Ios, Some([18, 5]), Some("2027-01-01")),
        "2026-11-25",
        Succeeded,
        Some("1990-01-01"),
        false,
        Accepted,
    );
    check(
        phone(PhoneOs::Ios, Some([18, 4]), None),
        "2026-11-25",
        Succeeded,
        None,
        false,
        Refused(Refusal::OsTooOld { os: PhoneOs::Ios, min: [18, 5] }),
    );
    check(
        phone(PhoneOs::Android, Some([10, 0]), None),
        "2026-11-25",
        Succeeded,
        None,
        false,
        Refused(Refusal::OsTooOld { os: PhoneOs::Android, min: [11, 0] }),
    );
    check(
        phone(PhoneOs::Android, Some([11, 0]), None),
        "2026-11-25",
        Succeeded,
        None,
        false,
        Accepted,
    );
    check(
        phone(PhoneOs::Android, None, Some("2026-11-24")),
        "2026-11-25",
        Succeeded,
        None,
        false,
        Refused(Refusal::CertificateExpired { on: d("2026-11-24"), grace_months: 0 }),
    );
    check(
        phone(PhoneOs::Ios, None, None),
        "2026-11-25",
        Succeeded,
        Some("2011-11-26"),
        false,
        Refused(Refusal::TooYoung { min_age: 15 }),
    );
    check(
        phone(PhoneOs::Ios, None, None),
        "2026-11-25",
        Succeeded,
        Some("2011-11-25"),
        false,
        Accepted,
    );
    check(
        phone(PhoneOs::Ios, None, None),
        "2025-09-18",
        Succeeded,
        None,
        false,
        Refused(Refusal::NotYetInUse { from: d("2025-09-19") }),
    );

    // 資格確認書: alone to its printed date; 後期高齢者 blanket to 2026-07-31.
    check(cert(Some("2027-03-31"), false), "2026-11-25", NotYet, None, false, Accepted);
    check(
        cert(Some("2026-10-31"), false),
        "2026-11-25",
        NotYet,
        None,
        false,
        Refused(Refusal::Expired { on: d("2026-10-31") }),
    );
    check(
        cert(None, false),
        "2026-11-25",
        NotYet,
        None,
        false,
        On(Condition::CheckPrintedValidity),
    );
    check(cert(None, true), "2026-07-31", NotYet, None, false, Accepted);
    check(cert(None, true), "2026-06-01", NotYet, None, false, Accepted);
    check(cert(None, true), "2026-08-01", NotYet, None, false, On(Condition::CheckPrintedValidity));
    // From 2026-08-01 only those 85+ on that day keep a blanket one, to 2027-07-31.
    check(cert(None, true), "2026-08-01", NotYet, Some("1941-08-01"), false, Accepted);
    check(cert(None, true), "2027-07-31", NotYet, Some("1941-08-01"), false, Accepted);
    check(
        cert(None, true),
        "2026-08-01",
        NotYet,
        Some("1941-08-02"),
        false,
        On(Condition::CheckPrintedValidity),
    );
    check(
        cert(None, true),
        "2027-08-01",
        NotYet,
        Some("1930-01-01"),
        false,
        On(Condition::CheckPrintedValidity),
    );
    check(
        cert(None, false),
        "2024-12-01",
        NotYet,
        None,
        false,
        Refused(Refusal::NotYetInUse { from: d("2024-12-02") }),
    );

    // 健康保険証: to 2025-12-01 alone; then to 2026-07-31 only confirmed online by its numbers.
    check(old_card(Some("2026-07-31")), "2025-12-01", NotYet, None, false, Accepted);
    check(
        old_card(Some("2025-07-31")),
        "2025-08-01",
        NotYet,
        None,
        false,
        Refused(Refusal::Expired { on: d("2025-07-31") }),
    );
    check(
        old_card(Some("2025-07-31")),
        "2025-12-02",
        NotYet,
        None,
        false,
        On(Condition::OnlineConfirmationByNumbers),
    );
    check(old_card(None), "2026-03-31", Succeeded, None, false, Accepted);
    check(
        old_card(None),
        "2026-03-31",
        CouldNotBeDone,
        None,
        false,
        Refused(Refusal::OnlineConfirmationFailed),
    );
    // The window was extended to 2026-07-31 (reported), not beyond.
    check(old_card(None), "2026-04-01", Succeeded, None, false, Accepted);
    check(old_card(None), "2026-07-31", Succeeded, None, false, Accepted);
    check(
        old_card(None),
        "2026-08-01",
        Succeeded,
        None,
        false,
        Refused(Refusal::NoLongerValid { ended: d("2026-07-31") }),
    );
    check(D::EligibilityNotice, "2026-07-31", Succeeded, None, false, Accepted);
    check(D::EligibilityNotice, "2026-08-01", NotYet, None, false, On(Condition::TogetherWithCard));

    // 資格情報のお知らせ: with the card; alone when online failed; alone in the window.
    check(D::EligibilityNotice, "2026-11-25", Succeeded, None, true, Accepted);
    check(D::EligibilityNotice, "2026-11-25", NotYet, None, false, On(Condition::TogetherWithCard));
    check(D::EligibilityNotice, "2026-11-25", CouldNotBeDone, None, false, Accepted);
    check(D::EligibilityNotice, "2026-01-15", Succeeded, None, false, Accepted);
    check(
        D::EligibilityNotice,
        "2026-01-15",
        NotYet,
        None,
        false,
        On(Condition::OnlineConfirmationByNumbers),
    );

    // マイナポータル screen / PDF, 申立書, nothing.
    check(D::MynaPortalScreen, "2026-11-25", CouldNotBeDone, None, false, Accepted);
    check(
        D::MynaPortalScreen,
        "2026-11-25",
        NotYet,
        None,
        false,
        On(Condition::OnlyIfOnlineFailed),
    );
    check(
        D::StatementForm,
        "2026-11-25",
        CouldNotBeDone,
        None,
        false,
        On(Condition::ConfirmAfterwards),
    );
    check(D::Nothing, "2026-11-25", NotYet, None, false, Refused(Refusal::NoDocument));
}

#[test]
fn notices_carry_the_days_left() {
    let policy = Policy::embedded().unwrap();
    let p = |exp: &str| Presentation {
        document: Document::MynaCard { certificate_not_after: Some(d(exp)) },
        visit: d("2026-11-25"),
        online: Online::Succeeded,
        birth: None,
        with_card: false,
    };
    let Acceptance::Accepted { notices } = accept(&policy, &p("2026-09-25")) else { panic!() };
    assert_eq!(
        notices,
        vec![Notice::CertificateGrace {
            expired_on: d("2026-09-25"),
            grace_until: d("2026-12-25"),
            days_left: 30
        }]
    );
    let Acceptance::Accepted { notices } = accept(&policy, &p("2027-01-10")) else { panic!() };
    assert_eq!(
        notices,
        vec![Notice::CertificateExpiresSoon { expires_on: d("2027-01-10"), days_left: 46 }]
    );
    let Acceptance::Accepted { notices } = accept(&policy, &p("2027-03-10")) else { panic!() };
    assert!(notices.is_empty());
    let Acceptance::NotAccepted { instead, .. } = accept(&policy, &p("2026-01-10")) else {
        panic!()
    };
    assert_eq!(
        instead,
        vec![
            Alternative::MynaPortalScreen,
            Alternative::EligibilityNotice,
            Alternative::OralConfirmation,
            Alternative::StatementForm
        ]
    );
}

/// One copay row: birth, visit, answer fields (None = no online answer), expected percent
/// and whether it is confirmed.
fn check_copay(
    birth: &str,
    visit: &str,
    answer: Option<[Option<&str>; 3]>,
    percent: u8,
    confirmed: bool,
) {
    let policy = Policy::embedded().unwrap();
    let fields = answer.map(|[a, b, c]| CopayFields {
        insured_partial_contribution_ratio: a.map(String::from),
        elderly_recipient_contribution_ratio: b.map(String::from),
        preschool_classification: c.map(String::from),
    });
    let got = copay(&policy, d(birth), d(visit), fields.as_ref()).unwrap();
    assert_eq!(
        (got.percent, got.is_confirmed()),
        (percent, confirmed),
        "born {birth}, visit {visit}: {got:?}"
    );
}

#[test]
fn copay_rows() {
    let none = Some([None, None, None]);
    // Estimated from age, with the exact boundaries.
    check_copay("2020-04-01", "2026-03-31", None, 20, false);
    check_copay("2020-04-01", "2026-04-01", None, 30, false);
    check_copay("2020-04-02", "2027-03-31", None, 20, false);
    check_copay("2020-04-02", "2027-04-01", None, 30, false);
    check_copay("1956-05-01", "2026-04-30", none, 30, false);
    check_copay("1956-05-01", "2026-05-01", none, 20, false);
    check_copay("1956-05-02", "2026-05-31", none, 30, false);
    check_copay("1956-05-02", "2026-06-01", none, 20, false);
    check_copay("1951-11-25", "2026-11-24", none, 20, false);
    check_copay("1951-11-25", "2026-11-25", none, 10, false);
    // Confirmed from the answer.
    check_copay("1940-01-01", "2026-11-25", Some([Some("010"), None, None]), 10, true);
    check_copay("1940-01-01", "2026-11-25", Some([Some("030"), None, None]), 30, true);
    check_copay("1954-01-01", "2026-11-25", Some([None, Some("030"), None]), 30, true);
    check_copay("2022-01-01", "2026-11-25", Some([None, None, Some("1")]), 20, true);
    // 65–74 in 後期高齢者 by disability: the answer wins over age.
    check_copay("1960-01-01", "2026-11-25", Some([Some("010"), None, None]), 10, true);
    // Unreadable fields are ignored and said so.
    check_copay("1940-01-01", "2026-11-25", Some([Some("1割"), None, None]), 10, false);
    check_copay("1940-01-01", "2026-11-25", Some([Some("999"), None, None]), 10, false);
}

#[test]
fn copay_says_why_it_estimates() {
    let policy = Policy::embedded().unwrap();
    let kumamoto =
        copay(&policy, d("1940-01-01"), d("2025-07-15"), Some(&CopayFields::default())).unwrap();
    assert_eq!(
        kumamoto.basis,
        Basis::Estimated {
            reasons: vec![EstimateReason::MissingFromAnswer {
                expected: AnswerField::InsuredPartialContributionRatio
            }]
        }
    );
    assert_eq!(kumamoto.could_also_be, vec![20, 30]);
    let adult =
        copay(&policy, d("1990-01-01"), d("2026-11-25"), Some(&CopayFields::default())).unwrap();
    assert_eq!(adult.basis, Basis::Estimated { reasons: vec![EstimateReason::NotSentForThisAge] });
    let garbled =
        CopayFields { insured_partial_contribution_ratio: Some("x".into()), ..Default::default() };
    let g = copay(&policy, d("1940-01-01"), d("2026-11-25"), Some(&garbled)).unwrap();
    assert!(matches!(&g.basis, Basis::Estimated { reasons } if reasons.len() == 2));
    assert!(copay(&policy, d("2027-01-01"), d("2026-11-25"), None).is_err());
    assert!(
        copay(&policy, d("2000-01-01"), d("2010-01-01"), None).is_err(),
        "no policy before 2014-04-01"
    );
}
