//! The benchmark data against the seed it was transcribed from: every printed rate is
//! recomputed from its counts, the tables add up to the national totals, and every row is
//! found in the seed text itself — so a typo in the data (or in the seed) shows.

use usage::benchmarks::{Benchmarks, Facility};
use usage::prefecture::{name_of, PREFECTURES};
use usage::Rate;

const SEED: &str = include_str!("../../../docs/seed/mhlw-maina-hokensho-2025-autumn.txt");

fn data() -> Benchmarks {
    Benchmarks::embedded().unwrap_or_else(|e| panic!("{e}"))
}

fn printed(bp: u64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn every_ranking_rate_is_its_counts() {
    let d = data();
    assert_eq!(d.ranks.len(), 4 * 47);
    for r in &d.ranks {
        let rate = r.rate().unwrap_or_else(|| panic!("{r:?}: no count"));
        assert_eq!(
            rate.basis_points(),
            r.printed_basis_points,
            "{r:?}: {} printed {}",
            rate.display(),
            printed(r.printed_basis_points)
        );
    }
}

#[test]
fn each_facility_table_lists_every_prefecture_once_in_rank_order() {
    let d = data();
    for f in Facility::ALL {
        let rows: Vec<_> = d.ranks.iter().filter(|r| r.facility == f).collect();
        let mut codes: Vec<u8> = rows.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        assert_eq!(codes, PREFECTURES.map(|p| p.0).to_vec(), "{f:?}");
        for w in rows.windows(2) {
            assert_eq!(w[1].rank, w[0].rank + 1, "{f:?}: ranks follow each other");
            assert!(
                w[0].printed_basis_points >= w[1].printed_basis_points,
                "{f:?}: by rate, descending"
            );
        }
    }
}

#[test]
fn the_tables_add_up_to_the_national_totals() {
    let d = data();
    for f in Facility::ALL {
        let (m, o) = d
            .ranks
            .iter()
            .filter(|r| r.facility == f)
            .fold((0, 0), |(m, o), r| (m + r.myna, o + r.online));
        let total =
            d.totals.iter().find(|t| t.facility == Some(f)).unwrap_or_else(|| panic!("{f:?}"));
        assert_eq!(
            (m, o),
            (total.myna, total.online),
            "{f:?}: the prefecture table sums to the totals"
        );
        assert_eq!(total.myna + total.insurance_card, total.online, "{f:?}: card + 保険証 = 合計");
    }
    let all = d.totals.iter().find(|t| t.facility.is_none()).unwrap_or_else(|| panic!("総計"));
    let parts = d.totals.iter().filter(|t| t.facility.is_some());
    assert_eq!(parts.map(|t| t.online).sum::<u64>(), all.online);
    // The figures the reference quotes.
    let national = |f| d.national(f).map(Rate::display);
    assert_eq!(national(None).as_deref(), Some("31.43%"));
    assert_eq!(national(Some(Facility::Hospital)).as_deref(), Some("50.87%"));
    assert_eq!(national(Some(Facility::Clinic)).as_deref(), Some("29.45%"));
    assert_eq!(national(Some(Facility::Dental)).as_deref(), Some("43.35%"));
    assert_eq!(national(Some(Facility::Pharmacy)).as_deref(), Some("27.22%"));
}

#[test]
fn each_prefectures_overall_rate_is_the_sum_of_its_four_tables() {
    let d = data();
    assert_eq!(d.prefectures.len(), 48, "47 prefectures and 全国");
    for p in &d.prefectures {
        let computed = if p.code == 0 { d.national(None) } else { d.prefecture_all_types(p.code) };
        let computed = computed.unwrap_or_else(|| panic!("{p:?}"));
        assert_eq!(
            computed.basis_points(),
            p.printed_basis_points,
            "{}: {} printed {}",
            name_of(p.code).unwrap_or("全国"),
            computed.display(),
            printed(p.printed_basis_points)
        );
    }
    let highest = d
        .prefectures
        .iter()
        .filter(|p| p.code > 0)
        .max_by_key(|p| p.printed_basis_points)
        .unwrap_or_else(|| panic!());
    let lowest = d
        .prefectures
        .iter()
        .filter(|p| p.code > 0)
        .min_by_key(|p| p.printed_basis_points)
        .unwrap_or_else(|| panic!());
    assert_eq!((name_of(highest.code), name_of(lowest.code)), (Some("福井県"), Some("沖縄県")));
}

#[test]
fn every_row_stands_in_the_seed() {
    let d = data();
    let lines: Vec<&str> = SEED.lines().map(str::trim_end).collect();
    for r in &d.ranks {
        let short = usage::prefecture::PREFECTURES
            .iter()
            .find(|p| p.0 == r.code)
            .map(|p| p.2)
            .unwrap_or("");
        let line = format!(
            "{}\t({})\t{}\t{}\t{}\t{}",
            r.rank,
            r.previous_rank,
            short,
            printed(r.printed_basis_points),
            thousands(r.myna),
            thousands(r.online)
        );
        assert!(lines.contains(&line.as_str()), "not in the seed: {line}");
    }
    for p in d.prefectures.iter().filter(|p| p.code > 0) {
        let sign = if p.change_basis_points < 0 { "-" } else { "+" };
        let change = p.change_basis_points.unsigned_abs();
        let line = format!(
            "{}\t{} ({sign}{}.{:02}%)",
            name_of(p.code).unwrap_or(""),
            printed(p.printed_basis_points),
            change / 100,
            change % 100
        );
        assert!(lines.contains(&line.as_str()), "not in the seed: {line}");
    }
    for t in &d.totals {
        let name = t.facility.map_or("総計", |f| f.seed_names().0);
        let line = format!(
            "{name}\t{}\t{}\t{}",
            thousands(t.online),
            thousands(t.myna),
            thousands(t.insurance_card)
        );
        assert!(lines.contains(&line.as_str()), "not in the seed: {line}");
    }
}

#[test]
fn a_broken_data_line_is_a_typed_error() {
    for (text, line) in [
        ("month\t2025-13\n", 1),
        ("month\t2025-07\nrank\t病院\t1\t(1)\t栃木\t65.61\t1\t2\n", 2),
        ("month\t2025-07\nprefecture\tアトランティス\t1.00\t+0.00\n", 2),
        ("month\t2025-07\nnonsense\n", 2),
    ] {
        let e = Benchmarks::parse(text).expect_err(text);
        assert_eq!(e.line, line, "{text:?}: {e}");
    }
}

/// The two national series load with their basis, month and source, and never mix: the
/// newest point of each basis is that basis's own.
#[test]
fn the_two_series_stay_apart() {
    use usage::{Series, SeriesBasis};
    let series = Series::embedded().unwrap();
    let ym = |s: &str| eligibility::YearMonth::parse(s).unwrap();
    let online =
        series.latest(SeriesBasis::Online, usage::Facility::Clinic, ym("2026-11")).unwrap();
    assert_eq!(
        (online.basis, online.month, online.display()),
        (SeriesBasis::Online, ym("2025-10"), "36.17%".to_string())
    );
    let receipt =
        series.latest(SeriesBasis::Receipt, usage::Facility::Clinic, ym("2026-11")).unwrap();
    assert_eq!(
        (receipt.basis, receipt.month, receipt.display()),
        (SeriesBasis::Receipt, ym("2026-01"), "64.62%".to_string())
    );
    // Before a month is published, the one before it answers.
    let early =
        series.latest(SeriesBasis::Receipt, usage::Facility::Pharmacy, ym("2025-11")).unwrap();
    assert_eq!(early.month, ym("2025-11"));
    assert!(series.points.iter().all(|p| !p.source.is_empty()));
    assert!(Series::parse("online\t2025-07\tall\t101.00\tx").is_err());
    assert!(Series::parse("weekly\t2025-07\tall\t1.00\tx").is_err());
}
