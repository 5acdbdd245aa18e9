//! The tree's shape: sound, every seed quote verbatim, and broken trees are caught.

use fallback::model::{Answer, Fact, Node, NodeKind, Outcome, Question, Source};
use fallback::structure::Defect;
use fallback::Tree;

#[test]
fn official_tree_is_sound() {
    let tree = Tree::official();
    assert_eq!(tree.defects(), vec![], "no dead end, unreachable node, cycle or missing target");
    assert!(tree.nodes().len() >= 30);
}

#[test]
fn every_seed_quote_is_verbatim() {
    let seed: String = include_str!("../../../docs/seed/mhlw-maina-hokensho-2025-autumn.txt")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let mut quotes = vec![fallback::tree::COPAY_RULE];
    for node in Tree::official().nodes() {
        quotes.push(match &node.kind {
            NodeKind::Question(q) => q.rests_on,
            NodeKind::Outcome(o) => o.rests_on,
        });
    }
    let mut seed_quotes = 0;
    for source in quotes {
        if let Source::Seed(quote) = source {
            seed_quotes += 1;
            assert!(seed.contains(&squash(quote)), "not in the seed: {quote}");
        }
    }
    assert!(seed_quotes >= 25);
}

#[test]
fn every_question_and_outcome_is_bilingual() {
    for node in Tree::official().nodes() {
        let texts = match &node.kind {
            NodeKind::Question(q) => {
                let mut t = vec![q.text];
                t.extend(q.answers.iter().map(|a| a.text));
                t
            }
            NodeKind::Outcome(o) => vec![o.title],
        };
        for t in texts {
            assert!(!t.ja.is_empty() && !t.en.is_empty(), "{}", node.id);
            assert!(!t.ja.is_ascii(), "{}: Japanese text expected: {}", node.id, t.ja);
        }
    }
}

const SEED: Source = Source::Seed("x");
const fn question(id: &'static str, answers: &'static [Answer]) -> Node {
    Node {
        id,
        kind: NodeKind::Question(Question {
            fact: Fact::Presented,
            text: eligibility::Text::new("問", "q"),
            answers,
            rests_on: SEED,
        }),
    }
}
const fn leaf(id: &'static str) -> Node {
    Node {
        id,
        kind: NodeKind::Outcome(Outcome {
            title: eligibility::Text::new("結", "o"),
            established: fallback::model::Established::NotYet,
            documents: &[],
            copay: fallback::model::CopaySource::NotApplicable,
            claim: fallback::model::ClaimPlan::NotApplicable,
            follow_up: fallback::model::FollowUp::None,
            rests_on: SEED,
        }),
    }
}
const fn to(value: &'static str, next: &'static str) -> Answer {
    Answer { value, text: eligibility::Text::new("答", "a"), next }
}

#[test]
fn broken_trees_are_caught() {
    static BROKEN: &[Node] = &[
        question("presented", &[to("a", "loop_1"), to("b", "nowhere"), to("b", "end")]),
        question("loop_1", &[to("a", "loop_2")]),
        question("loop_2", &[to("a", "loop_1")]),
        question("dead", &[]),
        leaf("end"),
        leaf("end"),
    ];
    let defects = Tree::from_nodes(BROKEN).defects();
    for expected in [
        Defect::DuplicateId("end"),
        Defect::DeadEnd("dead"),
        Defect::Unreachable("dead"),
        Defect::MissingTarget { from: "presented", to: "nowhere" },
        Defect::DuplicateAnswer { node: "presented", value: "b" },
        Defect::Cycle(vec!["loop_1", "loop_2"]),
        Defect::MissingRoot("claim_current"),
    ] {
        assert!(defects.contains(&expected), "{expected:?} not found in {defects:?}");
    }
    // The engine stops on a cycle with an error instead of looping.
    let policy = eligibility::Policy::embedded().unwrap();
    let mut answers = fallback::Answers::new();
    answers.insert(Fact::Presented, "a".into());
    let ctx = fallback::VisitContext::on(eligibility::Date::parse("2026-11-25").unwrap());
    let got = Tree::from_nodes(BROKEN).decide(&policy, &ctx, &answers, fallback::Root::Reception);
    assert!(matches!(got, Err(fallback::DecideError::BrokenTree { .. })), "{got:?}");
}

#[test]
fn exports() {
    let tree = Tree::official();
    let mermaid = tree.to_mermaid();
    assert!(mermaid.starts_with("flowchart TD\n"));
    for node in tree.nodes() {
        assert!(
            mermaid.contains(&format!("    {}", node.id)),
            "{} missing from the Mermaid export",
            node.id
        );
    }
    let json: serde_json::Value = serde_json::from_str(&tree.to_json()).unwrap();
    assert_eq!(json["nodes"].as_array().unwrap().len(), tree.nodes().len());
    assert_eq!(json["roots"][0][1], "presented");
}
