//! Every outcome the wizard can reach is recorded with the right status and claim plan:
//! the table below is the holdout, and the test walks the tree itself, so a new outcome
//! fails here until it is classified.

use eligibility::Date;
use fallback::model::{ClaimPlan, NodeKind};
use fallback::{Answers, Decision, Presented, Root, Tree, VisitContext};
use reception::status::{claim_for, reception_for, NotAReception, Visit};
use reception::{Numbers, Patient, RecordEvent, Statement, Status};

/// What each outcome must record: a reception (status, plan), no reception, or a claim
/// decision on an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Reception(Status, ClaimPlan),
    NotYet,
    Claim(ClaimPlan),
}

fn want(outcome: &str) -> Option<Want> {
    use ClaimPlan as C;
    use Status as S;
    Some(match outcome {
        "online_confirmed"
        | "online_confirmed_chosen"
        | "online_confirmed_in_grace"
        | "online_confirmed_visual"
        | "confirmed_by_numbers" => Want::Reception(S::Confirmed, C::Normal),
        "eligibility_certificate"
        | "health_insurance_card"
        | "portal_screen"
        | "phone_portal_screen"
        | "notice_fallback"
        | "oral_confirmation" => Want::Reception(S::ByDocument, C::CurrentNumbers),
        "pre_confirmed_numbers" => Want::Reception(S::FollowUpPending, C::CurrentNumbers),
        "statement_form" => Want::Reception(S::Statement, C::AfterFollowUp),
        "outage_capture" => Want::Reception(S::OutageRecord, C::AfterFollowUp),
        "retry_with_card" => Want::NotYet,
        "claim_with_current" => Want::Claim(C::CurrentNumbers),
        "claim_with_past" => Want::Claim(C::PastNumbers),
        "claim_unknown" => Want::Claim(C::Unknown),
        _ => return None,
    })
}

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn numbers() -> Numbers {
    Numbers {
        insurer: "06139998".into(),
        symbol: Some("1".into()),
        number: "2".into(),
        branch: Some("00".into()),
    }
}

#[test]
fn every_outcome_is_recorded_with_its_status_and_claim_plan() {
    let tree = Tree::official();
    let policy = eligibility::Policy::embedded().unwrap();
    let mut reached = std::collections::BTreeSet::new();
    for path in tree.paths() {
        let answers: Answers = path
            .steps
            .iter()
            .filter_map(|(node, answer)| match &tree.node(node)?.kind {
                NodeKind::Question(q) => Some((q.fact, answer.to_string())),
                NodeKind::Outcome(_) => None,
            })
            .collect();
        let root = if path.root == Root::Claim.node_id() { Root::Claim } else { Root::Reception };
        // Date-dependent facts are answered by the context: try days in and after the
        // transitional window until this path's answers agree with it.
        let days = ["2026-03-02", "2026-09-01", "2027-09-01", "2025-11-01"];
        let tries = days.iter().flat_map(|day| [(day, false), (day, true)]);
        let decision = tries.into_iter().find_map(|(day, expired)| {
            let mut ctx = VisitContext::on(d(day));
            // A smartphone whose certificate has expired is "not usable".
            ctx.certificate_not_after = expired.then(|| d("2020-01-01"));
            ctx.birth = Some(d("1980-04-01"));
            ctx.statement = Some(fallback::context::StatementContact {
                address: Some("東京都千代田区1-1".into()),
                contact: Some("03-0000-0000".into()),
            });
            match tree.decide(&policy, &ctx, &answers, root) {
                Ok(Decision::Done { node, outcome, copay, unknown_claim, .. })
                    if node == path.outcome =>
                {
                    Some((node, outcome, copay, unknown_claim, d(day)))
                }
                _ => None,
            }
        });
        let Some((node, outcome, copay, unknown, day)) = decision else {
            panic!("path {path:?} reaches its outcome on none of the days tried");
        };
        reached.insert(node);
        let want = want(node).unwrap_or_else(|| panic!("outcome {node} is not classified here"));
        let presented = answers
            .get(&fallback::Fact::Presented)
            .and_then(|v| Presented::from_answer(v))
            .unwrap_or(Presented::Nothing);
        let visit = Visit {
            visit: day,
            presented,
            patient: Patient {
                name: Some("山田 花子".into()),
                birth: Some("1980-04-01".into()),
                ..Patient::default()
            },
            statement: Some(Statement {
                address: Some("東京都千代田区1-1".into()),
                ..Statement::default()
            }),
            numbers: Some(numbers()),
            terminal: Some("受付1".into()),
        };
        match (want, reception_for(node, &outcome, copay, visit)) {
            (Want::Reception(status, plan), Ok(r)) => {
                assert_eq!((r.status, r.claim.plan), (status, plan), "{node} via {path:?}");
                assert_eq!(r.outcome.as_deref(), Some(node));
                assert_eq!(r.presented, presented);
                // ① from a document keeps the numbers it used; the 申立書 is kept when taken.
                assert_eq!(r.claim.numbers.is_some(), plan == ClaimPlan::CurrentNumbers, "{node}");
                let keeps = outcome
                    .documents
                    .contains(&fallback::model::DocumentAction::KeepStatementUntilPaid);
                assert_eq!(r.statement.is_some(), keeps, "{node}");
                // 事後確認 pending with numbers at hand: the bridge re-runs the lookup by them.
                assert_eq!(r.follow_up.is_some(), status == Status::FollowUpPending, "{node}");
                if let Some(q) = &r.follow_up {
                    assert_eq!((q.insurer.as_str(), q.birth.as_str()), ("06139998", "1980-04-01"));
                    assert_eq!(q.visit.as_deref(), Some(day.to_string().as_str()));
                }
                // Only online confirmations count as オン資.
                assert_eq!(r.confirmed_online(), status == Status::Confirmed);
                // The record goes through the ledger and back unchanged.
                let event = RecordEvent::Reception(r.clone());
                let back =
                    RecordEvent::parse("reception", "2026-12-01T09:00:00+09:00", &event.body())
                        .unwrap();
                assert_eq!(back, event, "{node}");
            }
            (Want::NotYet, Err(NotAReception::NotYet)) => {}
            (Want::Claim(plan), Err(NotAReception::ClaimDecision)) => {
                let decided = claim_for(node, &outcome, Some(numbers()), unknown.as_ref())
                    .unwrap_or_else(|| panic!("{node}: no claim decision"));
                assert_eq!(decided.claim.plan, plan, "{node}");
                match plan {
                    ClaimPlan::Unknown => {
                        let fill = decided.claim.unknown.as_ref().expect("③ carries its 7-fill");
                        assert!(fill.placeholders.number.chars().all(|c| c == '7'), "{fill:?}");
                        assert!(
                            fill.tekiyo.as_deref().is_some_and(|t| t.contains("千代田")),
                            "{fill:?}"
                        );
                        assert!(decided.claim.numbers.is_none());
                    }
                    _ => assert_eq!(decided.claim.numbers, Some(numbers()), "{node}"),
                }
                let event = RecordEvent::ClaimDecided(decided);
                assert_eq!(RecordEvent::parse("claim_decided", "", &event.body()).unwrap(), event);
            }
            (want, got) => panic!("{node}: want {want:?}, got {got:?}"),
        }
    }
    let outcomes: std::collections::BTreeSet<&str> = tree
        .nodes()
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Outcome(_)))
        .map(|n| n.id)
        .collect();
    assert_eq!(reached, outcomes, "every outcome reached by some path");
}

/// A 事後確認待ち reception whose follow-up confirmed is claimed normally; one whose
/// follow-up failed waits for the claim root; a decided claim wins over both.
#[test]
fn a_confirmed_follow_up_makes_the_claim_normal() {
    let event = |seq: u64, kind: &str, body: serde_json::Value| protocol::StoredEvent {
        seq,
        op_id: format!("op-{seq}"),
        record_id: "rec".into(),
        device_id: "dev".into(),
        kind: kind.into(),
        device_time: "2026-12-01T09:00:00+09:00".into(),
        received_time: String::new(),
        body,
        training: false,
    };
    let pending = serde_json::json!({
        "schema": 2, "visit": "2026-12-01", "presented": "eligibility_certificate",
        "established": "eligibility_certificate", "status": "follow_up_pending",
        "qualification": { "numbers": { "insurer": "01130012", "number": "1" } },
        "claim": { "plan": "after_follow_up" }
    });
    let result = |status: &str| serde_json::json!({ "follow_up_id": 1, "state": if status == "confirmed" { "done" } else { "failed" }, "result": { "interpretation": { "status": { "status": status } } } });
    let fold = |events: Vec<protocol::StoredEvent>| reception::life::fold(&events).0.remove(0);
    let confirmed = fold(vec![
        event(1, "reception", pending.clone()),
        event(2, "follow_up_result", result("confirmed")),
    ]);
    assert_eq!(confirmed.claim().plan, ClaimPlan::Normal);
    assert_eq!(confirmed.work(), None);
    let row = reception::export::row(&confirmed, "受付1");
    assert_eq!(
        (row.claim.as_str(), row.follow_up.as_str(), row.insurer.as_str()),
        ("通常", "確認済", "01130012")
    );
    let failed = fold(vec![
        event(1, "reception", pending.clone()),
        event(2, "follow_up_result", result("invalid")),
    ]);
    assert_eq!(failed.claim().plan, ClaimPlan::AfterFollowUp);
    assert_eq!(failed.work(), Some(reception::life::WorkReason::FollowUpFailed));
    let decided = fold(vec![
        event(1, "reception", pending),
        event(2, "follow_up_result", result("invalid")),
        event(
            3,
            "claim_decided",
            serde_json::json!({ "outcome": "claim_with_past", "claim": { "plan": "past_numbers", "numbers": { "insurer": "06139998", "number": "9" } } }),
        ),
    ]);
    assert_eq!(decided.claim().plan, ClaimPlan::PastNumbers);
    assert_eq!(decided.work(), None);
    assert_eq!(reception::export::row(&decided, "").insurer, "06139998");
}

/// The counter's online answers: confirmed by card → `online_confirmed`, by a document's
/// numbers → `confirmed_by_numbers`, chosen among several → `online_confirmed_chosen`,
/// anything else 要対応; numbers that cannot be looked up now → 事後確認待ち with the query.
#[test]
fn answers_at_the_counter_are_recorded_as_the_tree_says() {
    use reception::status::{reception_for_answer, reception_for_follow_up};
    let visit = |presented| Visit {
        visit: d("2026-12-01"),
        presented,
        patient: Patient::default(),
        statement: None,
        numbers: None,
        terminal: None,
    };
    let cases = [
        (true, false, Presented::MynaCard, Some("online_confirmed"), Status::Confirmed),
        (
            true,
            false,
            Presented::EligibilityCertificate,
            Some("confirmed_by_numbers"),
            Status::Confirmed,
        ),
        (
            false,
            true,
            Presented::EligibilityCertificate,
            Some("online_confirmed_chosen"),
            Status::Confirmed,
        ),
        (false, false, Presented::MynaCard, None, Status::NeedsAttention),
    ];
    for (confirmed, chosen, presented, node, status) in cases {
        let r = reception_for_answer(confirmed, chosen, visit(presented), None, None);
        assert_eq!((r.outcome.as_deref(), r.status), (node, status), "{presented:?}");
    }
    let query = protocol::LookupQuery {
        insurer: "01130012".into(),
        symbol: None,
        number: "1".into(),
        branch: None,
        birth: "1980-04-01".into(),
        visit: Some("2026-12-01".into()),
        limit_consent: false,
    };
    let r =
        reception_for_follow_up(d("2026-12-01"), Presented::EligibilityCertificate, query.clone());
    assert_eq!((r.status, r.claim.plan), (Status::FollowUpPending, ClaimPlan::AfterFollowUp));
    assert_eq!(r.follow_up, Some(query));
    assert_eq!(r.claim_numbers().map(|n| n.insurer.as_str()), Some("01130012"));
}
