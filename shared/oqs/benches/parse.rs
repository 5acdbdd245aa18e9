//! Parse time of a full result (every block). Run with `cargo xtask bench`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn parse(c: &mut Criterion) {
    let full = std::fs::read(format!("{}/tests/fixtures/full.xml", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_default();
    let utf8 =
        String::from_utf8_lossy(&full).replace("encoding=\"UTF-8\"", "encoding=\"Shift_JIS\"");
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&utf8);
    let sjis = sjis.into_owned();
    let mut group = c.benchmark_group("oqs");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_full_result_utf8", |b| {
        b.iter(|| oqs::parse_answer(black_box(&full)).is_ok())
    });
    group.bench_function("parse_full_result_shift_jis", |b| {
        b.iter(|| oqs::parse_answer(black_box(&sjis)).is_ok())
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
