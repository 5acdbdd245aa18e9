//! Decisions per second: whole walks of the tree from a visit context to an outcome or
//! the next question. Run with `cargo xtask bench`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eligibility::Policy;
use fallback::{Answers, Root, Tree, VisitContext};
use std::hint::black_box;

/// A day's mix of receptions, as `bridge rules decide` receives them.
const REQUESTS: &[(&str, &str)] = &[
    (
        r#"{"visit": "2026-11-25", "presented": "myna_card", "online_result": "confirmed", "birth": "1950-01-01", "copay_fields": {"insured_partial_contribution_ratio": "010"}}"#,
        "{}",
    ),
    (
        r#"{"visit": "2026-11-25", "presented": "myna_card", "online_result": "not_found", "visit_type": "first"}"#,
        r#"{"alt_document": "neither"}"#,
    ),
    (
        r#"{"visit": "2026-11-25", "presented": "smartphone", "online_result": "reader_fault"}"#,
        r#"{"phone_fallback": "portal_on_the_spot"}"#,
    ),
    (
        r#"{"visit": "2026-01-15", "presented": "health_insurance_card", "lookup_result": "confirmed"}"#,
        "{}",
    ),
    (
        r#"{"visit": "2026-11-25", "presented": "nothing", "visit_type": "return", "numbers_known": true}"#,
        r#"{"alt_document": "neither", "oral_check": "unchanged"}"#,
    ),
    (
        r#"{"visit": "2026-11-25", "presented": "eligibility_certificate", "document_valid_until": "2027-07-31"}"#,
        "{}",
    ),
    (
        r#"{"visit": "2026-11-25", "presented": "myna_card", "online_result": "certificate_expired", "certificate_not_after": "2026-09-25"}"#,
        "{}",
    ),
    (r#"{"visit": "2026-11-25"}"#, "{}"),
];

fn decide(c: &mut Criterion) {
    let policy = Policy::embedded().unwrap_or_else(|e| panic!("{e}"));
    let tree = Tree::official();
    let requests: Vec<(VisitContext, Answers)> = REQUESTS
        .iter()
        .map(|(ctx, answers)| {
            let ctx = serde_json::from_str(ctx).unwrap_or_else(|e| panic!("{e}"));
            let answers = serde_json::from_str(answers).unwrap_or_else(|e| panic!("{e}"));
            (ctx, answers)
        })
        .collect();
    let mut group = c.benchmark_group("fallback");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function("decide", |b| {
        b.iter(|| {
            requests
                .iter()
                .filter(|(ctx, answers)| {
                    tree.decide(&policy, black_box(ctx), black_box(answers), Root::Reception)
                        .is_ok()
                })
                .count()
        })
    });
    group.bench_function("decide_from_json", |b| {
        b.iter(|| {
            REQUESTS
                .iter()
                .filter(|(ctx, answers)| {
                    let ctx: VisitContext =
                        serde_json::from_str(black_box(ctx)).unwrap_or_else(|e| panic!("{e}"));
                    let answers: Answers =
                        serde_json::from_str(black_box(answers)).unwrap_or_else(|e| panic!("{e}"));
                    tree.decide(&policy, &ctx, &answers, Root::Reception).is_ok()
                })
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, decide);
criterion_main!(benches);
