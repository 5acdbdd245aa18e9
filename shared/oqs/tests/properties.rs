//! The parser never panics and stays bounded on any input; generated answers round-trip.

use oqs::model::{Answer, QualificationFields, QualificationResult};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = oqs::parse_answer(&bytes);
        let _ = oqs::parse_request(&bytes);
    }

    #[test]
    fn xml_like_text(s in "(<[A-Za-z]{1,8}>|</[A-Za-z]{1,8}>|&[a-z#0-9x]{0,6};|<!DOCTYPE x>|[^<&]{0,10}){0,60}") {
        let _ = oqs::parse_answer(s.as_bytes());
    }

    #[test]
    fn answers_round_trip(name in "\\PC{0,20}", insurer in "[0-9 ]{0,8}", ratio in prop::option::of("[0-9]{3}"),
                          message in prop::option::of("\\PC{0,30}"), n in 0usize..4) {
        let result = QualificationResult {
            fields: QualificationFields { name: Some(name.clone()), insurer_number: Some(insurer.clone()),
                                          insured_partial_contribution_ratio: ratio.clone(), ..Default::default() },
            ..Default::default()
        };
        let mut a = Answer { results: vec![result; n], ..Default::default() };
        a.body.processing_result_message = message;
        a.header.segment_of_result = Some("1".into());
        let back = oqs::parse_answer(a.to_xml().as_bytes()).unwrap();
        // Text is trimmed on reading; empty values read as absent.
        let norm = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        prop_assert_eq!(back.results.len(), n);
        for r in &back.results {
            prop_assert_eq!(&r.fields.name, &norm(&Some(name.clone())));
            prop_assert_eq!(&r.fields.insurer_number, &norm(&Some(insurer.clone())));
        }
        prop_assert_eq!(&back.body.processing_result_message, &norm(&a.body.processing_result_message));
    }
}
