//! The engine: walk from a root, answering each question from the context or from the
//! answers so far, until a question is open or an outcome is reached.

use crate::context::{Answers, VisitContext};
use crate::model::{ClaimPlan, CopaySource, Fact, Node, NodeKind, Outcome, Question, Root, Source};
use eligibility::{copay, Copay, Policy, UnknownPlaceholders};
use serde::Serialize;

/// A tree: the official one, or any other set of nodes (tests build broken ones).
#[derive(Debug, Clone, Copy)]
pub struct Tree {
    nodes: &'static [Node],
}

/// Who answered a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnsweredBy {
    /// Derived from the visit context (and the policy table).
    Context,
    /// Given in the answers.
    Staff,
}

/// One answered question on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    pub node: &'static str,
    pub fact: Fact,
    pub answer: &'static str,
    pub by: AnsweredBy,
}

/// What `bridge rules decide` reads as JSON (and the fuzzer feeds it): the visit, the
/// answers so far, and which root to start from.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    pub context: crate::VisitContext,
    #[serde(default)]
    pub answers: crate::Answers,
    #[serde(default)]
    pub root: crate::model::Root,
}

/// The policy rows behind the date-dependent facts the context answered on `path` that are
/// not from an official text at hand: the screens show "推定 / inferred" (or "reported")
/// beside an outcome that rests on one.
pub fn caveats(
    policy: &eligibility::Policy,
    context: &crate::VisitContext,
    path: &[Step],
) -> Vec<eligibility::policy::Confidence> {
    use eligibility::policy::{Confidence, DocumentKind, Holder};
    let visit = context.visit;
    let mut out: Vec<Confidence> = path
        .iter()
        .filter(|s| s.by == AnsweredBy::Context)
        .filter_map(|s| match s.fact {
            Fact::CardGrace => policy.certificate_grace(Holder::Card, visit).map(|r| r.confidence),
            Fact::PhoneUsable => {
                policy.document_basis(DocumentKind::Smartphone, visit).map(|r| r.confidence)
            }
            // The blanket 後期 certificate decides only when no printed date was given.
            Fact::CertificateValidity
                if context.late_elderly && context.document_valid_until.is_none() =>
            {
                policy.late_elderly_certificate(visit).map(|r| r.confidence)
            }
            Fact::CertificateValidity => policy
                .document_basis(DocumentKind::EligibilityCertificate, visit)
                .map(|r| r.confidence),
            Fact::OldCardPeriod => policy
                .document_basis(DocumentKind::HealthInsuranceCard, visit)
                .map(|r| r.confidence),
            Fact::NoticePeriod => {
                policy.document_basis(DocumentKind::EligibilityNotice, visit).map(|r| r.confidence)
            }
            _ => None,
        })
        .filter(|c| *c != Confidence::Official)
        .collect();
    eligibility::order::sort_by_key(&mut out, |c| *c as u8);
    out.dedup();
    out
}

/// The fields of a 不詳 claim (③).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownClaim {
    pub placeholders: UnknownPlaceholders,
    /// The 摘要欄 text from the 申立書, or `None` when its address or contact is missing.
    pub tekiyo: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum Decision {
    /// The next question to ask.
    Ask { node: &'static str, question: Question, path: Vec<Step> },
    /// The outcome, with what could be computed from the context.
    Done {
        node: &'static str,
        outcome: Outcome,
        path: Vec<Step>,
        /// The copay, when the birth date is known; `None` otherwise.
        copay: Option<Copay>,
        /// The seed's copay rule, shown with every reception outcome.
        copay_rule: Option<Source>,
        /// The 7-fill and 摘要 text, for a ③ claim.
        unknown_claim: Option<UnknownClaim>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum DecideError {
    #[error("「{given}」は質問 {node} の答えではありません（選べるのは {allowed:?}）/ {given:?} is not an answer to {node}; allowed: {allowed:?}")]
    NotAnAnswer { node: &'static str, fact: Fact, given: String, allowed: Vec<&'static str> },
    #[error("{fact:?} の答え「{given}」が受付情報から分かる「{derived}」と矛盾します / the answer {given:?} for {fact:?} contradicts {derived:?}, derived from the visit context")]
    Contradiction { fact: Fact, derived: &'static str, given: String },
    #[error("決定木が壊れています（ノード {node}）/ the decision tree is broken at node {node}")]
    BrokenTree { node: String },
}

impl Tree {
    /// The seed's tree (`tree.rs`).
    pub fn official() -> Tree {
        Tree { nodes: crate::tree::NODES }
    }

    pub fn from_nodes(nodes: &'static [Node]) -> Tree {
        Tree { nodes }
    }

    pub fn nodes(&self) -> &'static [Node] {
        self.nodes
    }

    pub fn node(&self, id: &str) -> Option<&'static Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Walks from `root`. Fails only on an answer that is not allowed, an answer that
    /// contradicts the context, or a broken tree; never panics.
    pub fn decide(
        &self,
        policy: &Policy,
        context: &VisitContext,
        answers: &Answers,
        root: Root,
    ) -> Result<Decision, DecideError> {
        let mut id = root.node_id();
        let mut path = Vec::new();
        // A sound tree is acyclic, so no walk is longer than the number of nodes.
        for _ in 0..=self.nodes.len() {
            let node =
                self.node(id).ok_or_else(|| DecideError::BrokenTree { node: id.to_string() })?;
            let question = match &node.kind {
                NodeKind::Outcome(outcome) => {
                    return Ok(done(policy, context, node.id, *outcome, path))
                }
                NodeKind::Question(question) => question,
            };
            let derived = context.derive(policy, question.fact);
            let given = answers.get(&question.fact);
            let (value, by) = match (derived, given) {
                (Some(d), Some(g)) if d != g.as_str() => {
                    return Err(DecideError::Contradiction {
                        fact: question.fact,
                        derived: d,
                        given: g.clone(),
                    })
                }
                (Some(d), _) => (d, AnsweredBy::Context),
                (None, Some(g)) => (g.as_str(), AnsweredBy::Staff),
                (None, None) => {
                    return Ok(Decision::Ask { node: node.id, question: *question, path })
                }
            };
            let answer = question.answers.iter().find(|a| a.value == value).ok_or_else(|| {
                DecideError::NotAnAnswer {
                    node: node.id,
                    fact: question.fact,
                    given: value.to_string(),
                    allowed: question.answers.iter().map(|a| a.value).collect(),
                }
            })?;
            path.push(Step { node: node.id, fact: question.fact, answer: answer.value, by });
            id = answer.next;
        }
        Err(DecideError::BrokenTree { node: id.to_string() })
    }
}

fn done(
    policy: &Policy,
    context: &VisitContext,
    node: &'static str,
    outcome: Outcome,
    path: Vec<Step>,
) -> Decision {
    let answer = match outcome.copay {
        CopaySource::OnlineAnswer => context.copay_fields.as_ref(),
        _ => None,
    };
    let copay = match (outcome.copay, context.birth) {
        (CopaySource::NotApplicable, _) | (_, None) => None,
        (_, Some(birth)) => copay(policy, birth, context.visit, answer).ok(),
    };
    let copay_rule =
        (outcome.copay != CopaySource::NotApplicable).then_some(crate::tree::COPAY_RULE);
    let unknown_claim = (outcome.claim == ClaimPlan::Unknown).then(|| {
        let s = &context.settings;
        let statement = context.statement.clone().unwrap_or_default();
        let tekiyo = match (statement.address, statement.contact) {
            (Some(address), Some(contact))
                if !address.trim().is_empty() && !contact.trim().is_empty() =>
            {
                Some(format!(
                    "被保険者資格申立書による　住所：{}　連絡先：{}",
                    address.trim(),
                    contact.trim()
                ))
            }
            _ => None,
        };
        UnknownClaim {
            placeholders: UnknownPlaceholders::new(
                s.unknown_insurer_style,
                s.unknown_symbol_len,
                s.unknown_number_len,
            ),
            tekiyo,
        }
    });
    Decision::Done { node, outcome, path, copay, copay_rule, unknown_claim }
}
