//! The seed, scenario by scenario; then every path of the tree checked against them.
//!
//! Each row is a situation at the counter written from the seed (or, where marked, the
//! domain reference), given as the JSON a terminal or `bridge rules decide` sends, and
//! the outcome the seed prescribes.

use fallback::model::{ClaimPlan as C, Established as E, FollowUp as F};
use fallback::{Answers, Decision, Root, Tree, VisitContext};
use serde_json::{json, Value};
use std::collections::BTreeSet;

struct Want {
    leaf: &'static str,
    established: E,
    claim: C,
    follow_up: F,
    /// (percent, confirmed) when the row gives a birth date.
    copay: Option<(u8, bool)>,
}

const fn want(leaf: &'static str, established: E, claim: C, follow_up: F) -> Want {
    Want { leaf, established, claim, follow_up, copay: None }
}

impl Want {
    fn copay(mut self, percent: u8, confirmed: bool) -> Want {
        self.copay = Some((percent, confirmed));
        self
    }
}

/// Runs one scenario and returns the path it took (node, answer) for coverage.
fn check(
    name: &str,
    context: Value,
    answers: Value,
    root: Root,
    want: Want,
) -> Vec<(&'static str, &'static str)> {
    let policy = eligibility::Policy::embedded().unwrap();
    let context: VisitContext =
        serde_json::from_value(context).unwrap_or_else(|e| panic!("{name}: context: {e}"));
    let answers: Answers =
        serde_json::from_value(answers).unwrap_or_else(|e| panic!("{name}: answers: {e}"));
    let decision = Tree::official()
        .decide(&policy, &context, &answers, root)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let Decision::Done { node, outcome, path, copay, .. } = decision else {
        panic!("{name}: expected an outcome, got {decision:?}");
    };
    assert_eq!(node, want.leaf, "{name}");
    assert_eq!(
        (outcome.established, outcome.claim, outcome.follow_up),
        (want.established, want.claim, want.follow_up),
        "{name}"
    );
    if let Some((percent, confirmed)) = want.copay {
        let copay = copay.unwrap_or_else(|| panic!("{name}: no copay computed"));
        assert_eq!(
            (copay.percent, copay.is_confirmed()),
            (percent, confirmed),
            "{name}: {copay:?}"
        );
    }
    path.iter().map(|s| (s.node, s.answer)).collect()
}

fn rows() -> Vec<Vec<(&'static str, &'static str)>> {
    use Root::{Claim, Reception};
    let online = || want("online_confirmed", E::OnlineConfirmation, C::Normal, F::None);
    let portal = || want("portal_screen", E::MynaPortalScreen, C::CurrentNumbers, F::None);
    let notice = || want("notice_fallback", E::EligibilityNotice, C::CurrentNumbers, F::None);
    let oral = || want("oral_confirmation", E::OralConfirmation, C::CurrentNumbers, F::None);
    let statement =
        || want("statement_form", E::StatementForm, C::AfterFollowUp, F::ConfirmAfterwards);
    let outage = || want("outage_capture", E::OutageCapture, C::AfterFollowUp, F::OutageLookup);
    let retry = || want("retry_with_card", E::NotYet, C::NotApplicable, F::None);
    let by_numbers = || want("confirmed_by_numbers", E::OnlineByNumbers, C::Normal, F::None);
    let certificate =
        || want("eligibility_certificate", E::EligibilityCertificate, C::CurrentNumbers, F::None);
    let phone_portal =
        || want("phone_portal_screen", E::MynaPortalScreen, C::CurrentNumbers, F::None);
    let t = "2026-11-25";
    vec![
        // ── マイナ保険証 card (seed: 確認できた → 問題なし, 追加で保険証の提示は不要) ──
        check(
            "card confirmed",
            json!({"visit": t, "presented": "myna_card", "online_result": "confirmed"}),
            json!({}),
            Reception,
            online(),
        ),
        check(
            "card confirmed, 後期 1割 from the answer",
            json!({"visit": t, "presented": "myna_card", "online_result": "confirmed", "birth": "1940-01-01", "copay_fields": {"insured_partial_contribution_ratio": "010"}}),
            json!({}),
            Reception,
            online().copay(10, true),
        ),
        check(
            "card confirmed, 熊本市: 後期 without ratio → estimated",
            json!({"visit": t, "presented": "myna_card", "online_result": "confirmed", "birth": "1940-01-01", "copay_fields": {}}),
            json!({}),
            Reception,
            online().copay(10, false),
        ),
        check(
            "card 複数該当, staff chose",
            json!({"visit": t, "presented": "myna_card", "online_result": "multiple"}),
            json!({"staff_choice": "chosen"}),
            Reception,
            want("online_confirmed_chosen", E::OnlineConfirmationStaffChoice, C::Normal, F::None),
        ),
        check(
            "card 複数該当, cannot choose, マイナポータル",
            json!({"visit": t, "presented": "myna_card", "online_result": "multiple"}),
            json!({"staff_choice": "cannot_choose", "alt_document": "portal"}),
            Reception,
            portal(),
        ),
        check(
            "card certificate expired 2 months ago: grace",
            json!({"visit": t, "presented": "myna_card", "online_result": "certificate_expired", "certificate_not_after": "2026-09-25"}),
            json!({}),
            Reception,
            want("online_confirmed_in_grace", E::OnlineConfirmationInGrace, C::Normal, F::None),
        ),
        check(
            "card certificate expired 4 months ago, portal",
            json!({"visit": t, "presented": "myna_card", "online_result": "certificate_expired", "certificate_not_after": "2026-07-25"}),
            json!({"alt_document": "portal"}),
            Reception,
            portal(),
        ),
        check(
            "card certificate expired 4 months ago, 初診",
            json!({"visit": t, "presented": "myna_card", "online_result": "certificate_expired", "certificate_not_after": "2026-07-25", "visit_type": "first"}),
            json!({"alt_document": "neither"}),
            Reception,
            statement(),
        ),
        check(
            "card certificate expiry unknown, staff says within grace",
            json!({"visit": t, "presented": "myna_card", "online_result": "certificate_expired"}),
            json!({"card_grace": "within"}),
            Reception,
            want("online_confirmed_in_grace", E::OnlineConfirmationInGrace, C::Normal, F::None),
        ),
        check(
            "wheelchair user, 目視確認",
            json!({"visit": t, "presented": "myna_card", "online_result": "cannot_authenticate"}),
            json!({"visual_check": "done"}),
            Reception,
            want("online_confirmed_visual", E::OnlineConfirmationVisual, C::Normal, F::None),
        ),
        check(
            "cannot authenticate, no 目視, お知らせ",
            json!({"visit": t, "presented": "myna_card", "online_result": "cannot_authenticate"}),
            json!({"visual_check": "not_possible", "alt_document": "notice"}),
            Reception,
            notice(),
        ),
        check(
            "PIN locked, お知らせ",
            json!({"visit": t, "presented": "myna_card", "online_result": "pin_locked"}),
            json!({"alt_document": "notice"}),
            Reception,
            notice(),
        ),
        check(
            "reader fault, マイナポータル PDF",
            json!({"visit": t, "presented": "myna_card", "online_result": "reader_fault"}),
            json!({"alt_document": "portal"}),
            Reception,
            portal(),
        ),
        check(
            "資格無効, 再診, known numbers, unchanged → oral",
            json!({"visit": t, "presented": "myna_card", "online_result": "invalid", "visit_type": "return", "numbers_known": true}),
            json!({"alt_document": "neither", "oral_check": "unchanged"}),
            Reception,
            oral(),
        ),
        check(
            "資格無効, 再診, known, insurance changed → 申立書",
            json!({"visit": t, "presented": "myna_card", "online_result": "invalid", "visit_type": "return", "numbers_known": true}),
            json!({"alt_document": "neither", "oral_check": "changed"}),
            Reception,
            statement(),
        ),
        check(
            "該当なし on 初診 → 申立書, normal copay for a 4-year-old",
            json!({"visit": t, "presented": "myna_card", "online_result": "not_found", "visit_type": "first", "birth": "2022-06-01"}),
            json!({"alt_document": "neither"}),
            Reception,
            statement().copay(20, false),
        ),
        check(
            "無効（新しい資格あり）, 再診 without known numbers",
            json!({"visit": t, "presented": "myna_card", "online_result": "invalid_new_qualification", "visit_type": "return", "numbers_known": false}),
            json!({"alt_document": "neither"}),
            Reception,
            statement(),
        ),
        check(
            "outage, 初診 → capture",
            json!({"visit": t, "presented": "myna_card", "online_result": "outage", "visit_type": "first", "birth": "1990-05-05"}),
            json!({"alt_document": "neither"}),
            Reception,
            outage().copay(30, false),
        ),
        check(
            "outage, 再診 known unchanged → oral",
            json!({"visit": t, "presented": "myna_card", "online_result": "outage", "visit_type": "return", "numbers_known": true}),
            json!({"alt_document": "neither", "oral_check": "unchanged"}),
            Reception,
            oral(),
        ),
        check(
            "outage, 再診 known but changed → capture",
            json!({"visit": t, "presented": "myna_card", "online_result": "outage", "visit_type": "return", "numbers_known": true}),
            json!({"alt_document": "neither", "oral_check": "changed"}),
            Reception,
            outage(),
        ),
        check(
            "outage, a booked patient pre-confirmed last night → ① with the downloaded numbers",
            json!({"visit": t, "presented": "myna_card", "online_result": "outage", "visit_type": "first", "pre_confirmed": true}),
            json!({"alt_document": "neither"}),
            Reception,
            want("pre_confirmed_numbers", E::PreConfirmed, C::CurrentNumbers, F::ConfirmAfterwards),
        ),
        check(
            "nothing presented, booked and pre-confirmed (staff answer it)",
            json!({"visit": t, "presented": "nothing"}),
            json!({"alt_document": "neither", "history": "pre_confirmed"}),
            Reception,
            want("pre_confirmed_numbers", E::PreConfirmed, C::CurrentNumbers, F::ConfirmAfterwards),
        ),
        check(
            "outage, マイナポータル",
            json!({"visit": t, "presented": "myna_card", "online_result": "outage"}),
            json!({"alt_document": "portal"}),
            Reception,
            portal(),
        ),
        check(
            "card failed, staff answers history and oral check",
            json!({"visit": t, "presented": "myna_card", "online_result": "reader_fault"}),
            json!({"alt_document": "neither", "history": "known", "oral_check": "unchanged"}),
            Reception,
            oral(),
        ),
        check(
            "card failed, staff answers everything, not an outage",
            json!({"visit": t}),
            json!({"presented": "myna_card", "card_result": "failed", "alt_document": "neither", "history": "not_known", "outage": "no"}),
            Reception,
            statement(),
        ),
        check(
            "70–74 oral confirmation, estimated 2割",
            json!({"visit": t, "presented": "myna_card", "online_result": "reader_fault", "visit_type": "return", "numbers_known": true, "birth": "1954-03-10"}),
            json!({"alt_document": "neither", "oral_check": "unchanged"}),
            Reception,
            oral().copay(20, false),
        ),
        // ── スマホ (seed: 15歳以上, no grace, その場でマイナポータル) ──
        check(
            "iPhone confirmed",
            json!({"visit": t, "presented": "smartphone", "phone_os": "ios", "phone_os_version": [18, 5], "birth": "1985-01-01", "online_result": "confirmed"}),
            json!({}),
            Reception,
            online(),
        ),
        check(
            "Android confirmed",
            json!({"visit": t, "presented": "smartphone", "phone_os": "android", "phone_os_version": [11, 0], "online_result": "confirmed"}),
            json!({}),
            Reception,
            online(),
        ),
        check(
            "phone certificate expired: no grace → マイナポータル on the spot",
            json!({"visit": t, "presented": "smartphone", "certificate_not_after": "2026-11-24"}),
            json!({"phone_fallback": "portal_on_the_spot"}),
            Reception,
            phone_portal(),
        ),
        check(
            "phone unreadable → マイナポータル on the spot",
            json!({"visit": t, "presented": "smartphone", "online_result": "reader_fault"}),
            json!({"phone_fallback": "portal_on_the_spot"}),
            Reception,
            phone_portal(),
        ),
        check(
            "phone unreadable, has the card",
            json!({"visit": t, "presented": "smartphone", "online_result": "reader_fault"}),
            json!({"phone_fallback": "card"}),
            Reception,
            retry(),
        ),
        check(
            "14-year-old with a phone, 初診",
            json!({"visit": t, "presented": "smartphone", "birth": "2012-06-01", "visit_type": "first"}),
            json!({"phone_fallback": "neither", "alt_document": "neither", "outage": "no"}),
            Reception,
            statement(),
        ),
        check(
            "iOS 17: not usable, has the card",
            json!({"visit": t, "presented": "smartphone", "phone_os": "ios", "phone_os_version": [17, 6]}),
            json!({"phone_fallback": "card"}),
            Reception,
            retry(),
        ),
        check(
            "phone before 2025-09-19",
            json!({"visit": "2025-09-01", "presented": "smartphone"}),
            json!({"phone_fallback": "portal_on_the_spot"}),
            Reception,
            phone_portal(),
        ),
        check(
            "phone 複数該当, staff chose",
            json!({"visit": t, "presented": "smartphone", "online_result": "multiple"}),
            json!({"staff_choice": "chosen"}),
            Reception,
            want("online_confirmed_chosen", E::OnlineConfirmationStaffChoice, C::Normal, F::None),
        ),
        check(
            "phone 複数該当, cannot choose, お知らせ",
            json!({"visit": t, "presented": "smartphone", "online_result": "multiple"}),
            json!({"staff_choice": "cannot_choose", "alt_document": "notice"}),
            Reception,
            notice(),
        ),
        check(
            "phone failed, neither, マイナポータル later",
            json!({"visit": t, "presented": "smartphone", "online_result": "pin_locked"}),
            json!({"phone_fallback": "neither", "alt_document": "portal"}),
            Reception,
            portal(),
        ),
        check(
            "phone failed, 再診 known → oral",
            json!({"visit": t, "presented": "smartphone", "online_result": "pin_locked", "visit_type": "return", "numbers_known": true}),
            json!({"phone_fallback": "neither", "alt_document": "neither", "oral_check": "unchanged"}),
            Reception,
            oral(),
        ),
        // ── 資格確認書 ──
        check(
            "資格確認書 valid",
            json!({"visit": t, "presented": "eligibility_certificate", "document_valid_until": "2027-07-31"}),
            json!({}),
            Reception,
            certificate(),
        ),
        check(
            "資格確認書 expired, マイナポータル",
            json!({"visit": t, "presented": "eligibility_certificate", "document_valid_until": "2026-10-31"}),
            json!({"alt_document": "portal"}),
            Reception,
            portal(),
        ),
        check(
            "後期高齢者 blanket 資格確認書 on its last day",
            json!({"visit": "2026-07-31", "presented": "eligibility_certificate", "late_elderly": true, "birth": "1945-01-01"}),
            json!({}),
            Reception,
            certificate().copay(10, false),
        ),
        check(
            "後期 blanket after 2026-07-31, staff finds it expired, 再診 oral",
            json!({"visit": "2026-08-03", "presented": "eligibility_certificate", "late_elderly": true, "visit_type": "return", "numbers_known": true}),
            json!({"certificate_validity": "expired", "alt_document": "neither", "oral_check": "unchanged"}),
            Reception,
            oral(),
        ),
        check(
            "資格確認書 without a typed date, staff checks it",
            json!({"visit": t, "presented": "eligibility_certificate"}),
            json!({"certificate_validity": "valid"}),
            Reception,
            certificate(),
        ),
        // ── 健康保険証 (to 2025-12-01; 暫定 to 2026-07-31 with online by numbers) ──
        check(
            "保険証 before 2025-12-02",
            json!({"visit": "2025-11-20", "presented": "health_insurance_card"}),
            json!({}),
            Reception,
            want("health_insurance_card", E::HealthInsuranceCard, C::CurrentNumbers, F::None),
        ),
        check(
            "国保 card expired 2025-07-31 seen in August, 初診",
            json!({"visit": "2025-08-20", "presented": "health_insurance_card", "document_valid_until": "2025-07-31", "visit_type": "first"}),
            json!({"alt_document": "neither", "outage": "no"}),
            Reception,
            statement(),
        ),
        check(
            "暫定: expired 保険証 confirmed online by numbers",
            json!({"visit": "2026-01-15", "presented": "health_insurance_card", "lookup_result": "confirmed"}),
            json!({}),
            Reception,
            by_numbers(),
        ),
        check(
            "暫定: expired 保険証, lookup 資格無効, 初診",
            json!({"visit": "2026-01-15", "presented": "health_insurance_card", "lookup_result": "invalid", "visit_type": "first"}),
            json!({"alt_document": "neither"}),
            Reception,
            statement(),
        ),
        check(
            "暫定: lookup during an outage, 初診",
            json!({"visit": "2026-02-10", "presented": "health_insurance_card", "lookup_result": "outage", "visit_type": "first"}),
            json!({"alt_document": "neither"}),
            Reception,
            outage(),
        ),
        check(
            "保険証 after 2026-07-31, マイナポータル",
            json!({"visit": "2026-08-01", "presented": "health_insurance_card"}),
            json!({"alt_document": "portal"}),
            Reception,
            portal(),
        ),
        // ── 資格情報のお知らせ ──
        check(
            "暫定: お知らせ alone confirmed by numbers",
            json!({"visit": "2026-01-15", "presented": "eligibility_notice", "lookup_result": "confirmed"}),
            json!({}),
            Reception,
            by_numbers(),
        ),
        check(
            "暫定: お知らせ alone, lookup failed, マイナポータル",
            json!({"visit": "2026-02-01", "presented": "eligibility_notice", "lookup_result": "not_found"}),
            json!({"alt_document": "portal"}),
            Reception,
            portal(),
        ),
        check(
            "お知らせ alone after the window, card in the bag",
            json!({"visit": t, "presented": "eligibility_notice"}),
            json!({"card_at_hand": "yes"}),
            Reception,
            retry(),
        ),
        check(
            "お知らせ alone after the window, no card, 初診",
            json!({"visit": t, "presented": "eligibility_notice", "visit_type": "first"}),
            json!({"card_at_hand": "no", "alt_document": "neither", "outage": "no"}),
            Reception,
            statement(),
        ),
        // ── マイナポータル shown first, nothing ──
        check(
            "マイナポータル shown first, card in the bag",
            json!({"visit": t, "presented": "myna_portal"}),
            json!({"card_at_hand": "yes"}),
            Reception,
            retry(),
        ),
        check(
            "マイナポータル shown first, no card",
            json!({"visit": t, "presented": "myna_portal"}),
            json!({"card_at_hand": "no"}),
            Reception,
            portal(),
        ),
        check(
            "nothing, 再診 known unchanged",
            json!({"visit": t, "presented": "nothing", "visit_type": "return", "numbers_known": true}),
            json!({"alt_document": "neither", "oral_check": "unchanged"}),
            Reception,
            oral(),
        ),
        check(
            "nothing, 初診",
            json!({"visit": t, "presented": "nothing", "visit_type": "first"}),
            json!({"alt_document": "neither", "outage": "no"}),
            Reception,
            statement(),
        ),
        check(
            "nothing, 初診, during an outage",
            json!({"visit": t, "presented": "nothing", "visit_type": "first"}),
            json!({"alt_document": "neither", "outage": "yes"}),
            Reception,
            outage(),
        ),
        check(
            "nothing, 再診, insurance changed, outage",
            json!({"visit": t, "presented": "nothing", "visit_type": "return", "numbers_known": true}),
            json!({"alt_document": "neither", "oral_check": "changed", "outage": "yes"}),
            Reception,
            outage(),
        ),
        check(
            "nothing, 再診, insurance changed",
            json!({"visit": t, "presented": "nothing", "visit_type": "return", "numbers_known": true}),
            json!({"alt_document": "neither", "oral_check": "changed", "outage": "no"}),
            Reception,
            statement(),
        ),
        check(
            "nothing, マイナポータル",
            json!({"visit": t, "presented": "nothing"}),
            json!({"alt_document": "portal"}),
            Reception,
            portal(),
        ),
        // ── Claim: ① → ② → ③ ──
        check(
            "claim ① current numbers found afterwards",
            json!({"visit": t}),
            json!({"current_numbers": "yes"}),
            Claim,
            want("claim_with_current", E::Claim, C::CurrentNumbers, F::None),
        ),
        check(
            "claim ② 旧資格情報 from the 資格（無効） screen",
            json!({"visit": t}),
            json!({"current_numbers": "no", "past_numbers": "yes"}),
            Claim,
            want("claim_with_past", E::Claim, C::PastNumbers, F::None),
        ),
        check(
            "claim ③ 不詳",
            json!({"visit": t, "statement": {"address": "東京都千代田区霞が関1-2-2", "contact": "03-5253-1111"}}),
            json!({"current_numbers": "no", "past_numbers": "no"}),
            Claim,
            want("claim_unknown", E::Claim, C::Unknown, F::None),
        ),
    ]
}

#[test]
fn scenarios_cover_every_edge_and_leaf() {
    let taken = rows();
    assert!(taken.len() >= 40, "at least 40 scenarios");
    let tree = Tree::official();
    let covered: BTreeSet<_> = taken.iter().flatten().copied().collect();
    for node in tree.nodes() {
        if let fallback::model::NodeKind::Question(q) = &node.kind {
            for a in q.answers {
                assert!(
                    covered.contains(&(node.id, a.value)),
                    "no scenario takes {} → {}",
                    node.id,
                    a.value
                );
            }
        }
    }
}

/// Every path of the tree, walked by the engine from a real context (trying a few visit
/// dates, because some answers follow from the date), ends at the path's own outcome;
/// and that outcome is one the scenario table prescribes for some situation.
#[test]
fn every_path_reaches_a_leaf_the_scenarios_prescribe() {
    let policy = eligibility::Policy::embedded().unwrap();
    let tree = Tree::official();
    let scenario_leaves: BTreeSet<&str> = scenario_leaf_ids();
    let dates = ["2025-06-01", "2025-11-01", "2026-01-15", "2026-11-25"];
    let paths = tree.paths();
    assert!(paths.len() >= 60, "{} paths", paths.len());
    for path in &paths {
        let mut answers = Answers::new();
        for (node_id, value) in &path.steps {
            let Some(fallback::model::NodeKind::Question(q)) = tree.node(node_id).map(|n| n.kind)
            else {
                panic!("{node_id} is not a question")
            };
            let previous = answers.insert(q.fact, value.to_string());
            assert!(
                previous.is_none_or(|p| p == *value),
                "path {path:?} answers {:?} twice",
                q.fact
            );
        }
        let root = if path.root == "presented" { Root::Reception } else { Root::Claim };
        let reached = dates.iter().any(|date| {
            let ctx = VisitContext::on(eligibility::Date::parse(date).unwrap());
            matches!(tree.decide(&policy, &ctx, &answers, root),
                Ok(Decision::Done { node, path: ref taken, .. })
                    if node == path.outcome && taken.iter().map(|s| (s.node, s.answer)).eq(path.steps.iter().copied()))
        });
        assert!(reached, "no visit date walks {path:?}");
        assert!(scenario_leaves.contains(path.outcome), "no scenario prescribes {}", path.outcome);
    }
}

fn scenario_leaf_ids() -> BTreeSet<&'static str> {
    let tree = Tree::official();
    rows()
        .iter()
        .filter_map(|path| {
            let (last_node, last_answer) = path.last()?;
            let fallback::model::NodeKind::Question(q) = tree.node(last_node)?.kind else {
                return None;
            };
            q.answers.iter().find(|a| a.value == *last_answer).map(|a| a.next)
        })
        .collect()
}
