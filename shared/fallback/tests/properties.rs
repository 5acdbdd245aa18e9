//! Whatever a caller sends, the engine answers with a question, an outcome or a typed
//! error — never a panic, never a loop.

use eligibility::{Date, Policy};
use fallback::{Answers, Decision, Fact, Root, Tree, VisitContext};
use proptest::prelude::*;

const FACTS: &[Fact] = &[
    Fact::Presented,
    Fact::CardResult,
    Fact::PhoneUsable,
    Fact::PhoneResult,
    Fact::StaffChoice,
    Fact::CardGrace,
    Fact::VisualCheck,
    Fact::AltDocument,
    Fact::PhoneFallback,
    Fact::CertificateValidity,
    Fact::OldCardPeriod,
    Fact::NoticePeriod,
    Fact::LookupByNumbers,
    Fact::CardAtHand,
    Fact::History,
    Fact::OralCheck,
    Fact::Outage,
    Fact::CurrentNumbers,
    Fact::PastNumbers,
];

/// Answer values: mostly real ones (so walks go deep), some garbage.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "myna_card", "smartphone", "eligibility_certificate", "health_insurance_card",
            "eligibility_notice", "myna_portal", "nothing", "confirmed", "multiple", "failed",
            "certificate_expired", "cannot_authenticate", "usable", "not_usable", "chosen",
            "cannot_choose", "within", "beyond", "done", "not_possible", "portal", "notice",
            "neither", "portal_on_the_spot", "card", "valid", "expired", "transitional",
            "not_valid", "with_card_only", "yes", "no", "known", "not_known", "unchanged", "changed",
        ]).prop_map(String::from),
        1 => "\\PC{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn decide_never_panics(
        answers in prop::collection::btree_map(prop::sample::select(FACTS.to_vec()), value(), 0..12),
        y in 2024u32..2028, m in 1u32..=12, d in 1u32..=28,
        claim in any::<bool>(),
    ) {
        let policy = Policy::embedded().unwrap();
        let ctx = VisitContext::on(Date::new(y, m, d).unwrap());
        let answers: Answers = answers;
        let root = if claim { Root::Claim } else { Root::Reception };
        match Tree::official().decide(&policy, &ctx, &answers, root) {
            Ok(Decision::Ask { path, .. }) | Ok(Decision::Done { path, .. }) => {
                prop_assert!(path.len() <= Tree::official().nodes().len());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn arbitrary_json_never_panics(s in "\\PC{0,200}") {
        let _ = serde_json::from_str::<VisitContext>(&s);
        let _ = serde_json::from_str::<Answers>(&s);
    }
}
