//! Parses per second for the identifiers a receptionist types, and copay decisions.
//! Run with `cargo xtask bench`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eligibility::{copay, CopayFields, Date, InsuredCard, InsurerNumber, Policy};
use std::hint::black_box;

/// A realistic mix: valid 8- and 6-digit numbers, full-width typing, typos.
fn inputs() -> Vec<String> {
    let mut out = Vec::new();
    for body in 0..1000u32 {
        let body = format!("{:02}13{:03}", [1, 6, 31, 39][body as usize % 4], body);
        let n = InsurerNumber::from_body(&body).map(|n| n.to_string()).unwrap_or_default();
        out.push(match out.len() % 5 {
            0 => n.chars().map(|c| char::from_u32(c as u32 - 0x30 + 0xFF10).unwrap_or(c)).collect(),
            1 => format!("{}0", &n[..7]), // a typo in the check digit
            2 => n[2..].to_string(),      // six digits
            _ => n,
        });
    }
    out
}

fn identifiers(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("identifiers");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function("insurer_number_parse", |b| {
        b.iter(|| inputs.iter().filter(|s| InsurerNumber::parse(black_box(s)).is_ok()).count())
    });
    let cards: Vec<String> = (0..1000).map(|i| format!("ＡＢ－{i:04}・{:08}", i * 7)).collect();
    group.bench_function("insured_card_parse_combined", |b| {
        b.iter(|| {
            cards.iter().filter(|s| InsuredCard::parse_combined(black_box(s), "01").is_ok()).count()
        })
    });
    group.finish();

    let policy = Policy::embedded().unwrap_or_else(|e| panic!("{e}"));
    let visit = Date::parse("2026-11-25").unwrap_or_else(|e| panic!("{e}"));
    let births: Vec<Date> = (0..1000u32)
        .filter_map(|i| Date::new(1930 + i % 96, 1 + i % 12, 1 + i % 28).ok())
        .collect();
    let fields = CopayFields::default();
    let mut group = c.benchmark_group("copay");
    group.throughput(Throughput::Elements(births.len() as u64));
    group.bench_function("copay_estimate", |b| {
        b.iter(|| {
            births
                .iter()
                .filter(|birth| copay(&policy, **birth, visit, Some(&fields)).is_ok())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, identifiers);
criterion_main!(benches);
