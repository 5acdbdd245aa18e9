//! No decision changes between two dates unless a policy row starts or ends between them:
//! every day from 2024-12-01 to 2027-12-31, over a set of reception contexts (without a
//! birth date or certificate dates, whose own countdowns change daily by design), the
//! tree's decision and the document acceptance equal the previous day's, except on a day
//! the policy table names as a boundary. And on both sides of the 2026 boundaries the
//! decision is the one the rules say.

use eligibility::{accept, Date, Document, Online, Policy, Presentation};
use fallback::{Answers, Root, Tree, VisitContext};
use serde_json::json;

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// Reception contexts and answers, as `bridge rules decide` takes them (no birth date).
fn contexts() -> Vec<(serde_json::Value, serde_json::Value)> {
    let mut out = Vec::new();
    for presented in [
        "health_insurance_card",
        "eligibility_notice",
        "eligibility_certificate",
        "myna_portal",
        "smartphone",
        "myna_card",
        "nothing",
    ] {
        for online in [None, Some("confirmed"), Some("reader_fault"), Some("not_found")] {
            let mut c = json!({ "presented": presented });
            if let Some(o) = online {
                c["online_result"] = o.into();
            }
            out.push((c.clone(), json!({})));
            out.push((c.clone(), json!({ "lookup_by_numbers": "confirmed" })));
            out.push((c, json!({ "alt_document": "neither", "numbers_known": "no" })));
        }
    }
    out.push((json!({ "presented": "eligibility_certificate", "late_elderly": true }), json!({})));
    out
}

fn decision(
    policy: &Policy,
    tree: &Tree,
    day: Date,
    c: &serde_json::Value,
    a: &serde_json::Value,
) -> String {
    let mut c = c.clone();
    c["visit"] = day.to_string().into();
    let context: VisitContext = serde_json::from_value(c).unwrap();
    let answers: Answers = serde_json::from_value(a.clone()).unwrap_or_default();
    format!("{:?}", tree.decide(policy, &context, &answers, Root::Reception))
}

fn documents() -> Vec<(Document, Online, bool)> {
    let mut out = Vec::new();
    for online in [Online::Succeeded, Online::NotYet, Online::CouldNotBeDone] {
        for with_card in [false, true] {
            out.push((Document::HealthInsuranceCard { valid_until: None }, online, with_card));
            out.push((Document::EligibilityNotice, online, with_card));
            out.push((Document::MynaPortalScreen, online, with_card));
            out.push((Document::StatementForm, online, with_card));
            out.push((
                Document::EligibilityCertificate { valid_until: None, late_elderly: true },
                online,
                with_card,
            ));
        }
    }
    out
}

fn acceptance(policy: &Policy, day: Date, doc: &(Document, Online, bool)) -> String {
    let p = Presentation {
        document: doc.0.clone(),
        visit: day,
        online: doc.1,
        birth: None,
        with_card: doc.2,
    };
    format!("{:?}", accept(policy, &p))
}

#[test]
fn decisions_change_only_where_a_policy_row_starts_or_ends() {
    let policy = Policy::embedded().unwrap();
    let tree = Tree::official();
    let boundaries = policy.boundaries();
    let contexts = contexts();
    let documents = documents();
    let mut day = d("2024-12-01");
    let mut previous: Option<(Vec<String>, Vec<String>)> = None;
    let mut changes = 0;
    while day <= d("2027-12-31") {
        let now = (
            contexts.iter().map(|(c, a)| decision(&policy, &tree, day, c, a)).collect::<Vec<_>>(),
            documents.iter().map(|doc| acceptance(&policy, day, doc)).collect::<Vec<_>>(),
        );
        if let Some(before) = &previous {
            if *before != now {
                changes += 1;
                assert!(
                    boundaries.contains(&day),
                    "a decision changed on {day}, where no policy row starts or ends"
                );
            }
        }
        previous = Some(now);
        day = day.succ();
    }
    assert!(changes >= 3, "the walk saw the 2025-12-02, 2026-08-01 changes ({changes})");
}

#[test]
fn the_2026_boundaries_decide_as_the_rules_say() {
    let policy = Policy::embedded().unwrap();
    let tree = Tree::official();
    let expired_card = json!({ "presented": "health_insurance_card" });
    let confirmed = json!({ "lookup_by_numbers": "confirmed" });
    // The transitional window, extended to 2026-07-31.
    for (day, accepted) in
        [("2026-03-31", true), ("2026-04-01", true), ("2026-07-31", true), ("2026-08-01", false)]
    {
        let got = decision(&policy, &tree, d(day), &expired_card, &confirmed);
        assert_eq!(got.contains("confirmed_by_numbers"), accepted, "{day}: {got}");
    }
    // The 加算: the old table to 2026-05, the successor's 30% from 2026-06.
    let ym = |s: &str| eligibility::YearMonth::parse(s).unwrap();
    let clinic = eligibility::policy::AdditionFacility::Clinic;
    assert_eq!(policy.dx_addition(ym("2026-05"), clinic).unwrap().tiers, [70, 50, 30]);
    assert_eq!(policy.dx_addition(ym("2026-06"), clinic).unwrap().tiers, [30]);
}

/// An outcome that rests on a reported row says so: the expired 保険証 in the extended
/// window (and refused after it), but not a plain 資格確認書 with its printed date.
#[test]
fn an_outcome_resting_on_a_reported_row_says_so() {
    use eligibility::policy::Confidence;
    let policy = Policy::embedded().unwrap();
    let tree = Tree::official();
    let caveats_on = |day: &str, c: serde_json::Value, a: serde_json::Value| {
        let mut c = c;
        c["visit"] = day.into();
        let context: VisitContext = serde_json::from_value(c).unwrap();
        let answers: Answers = serde_json::from_value(a).unwrap_or_default();
        match tree.decide(&policy, &context, &answers, Root::Reception).unwrap() {
            fallback::Decision::Done { path, .. } | fallback::Decision::Ask { path, .. } => {
                fallback::caveats(&policy, &context, &path)
            }
        }
    };
    let card = json!({ "presented": "health_insurance_card" });
    assert_eq!(
        caveats_on("2026-05-01", card.clone(), json!({ "lookup_by_numbers": "confirmed" })),
        [Confidence::Reported]
    );
    assert_eq!(caveats_on("2026-08-01", card, json!({})), [Confidence::Reported]);
    let certificate =
        json!({ "presented": "eligibility_certificate", "document_valid_until": "2027-03-31" });
    assert_eq!(caveats_on("2026-12-01", certificate, json!({})), []);
    let blanket = json!({ "presented": "eligibility_certificate", "late_elderly": true, "birth": "1935-01-01" });
    assert_eq!(caveats_on("2026-12-01", blanket, json!({})), [Confidence::Reported]);
}
