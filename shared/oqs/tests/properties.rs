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

/// Declarations as the field writes them and as it should not: any quote (full-width ＂,
/// U+FFFD, none), any label, BOMs, truncations and byte soup after them. `decode` and the
/// parser return a value or a typed error, never a panic (a multi-byte quote once sliced
/// inside a character and ended the gateway's worker).
fn declaration() -> impl Strategy<Value = Vec<u8>> {
    let quote = prop_oneof![
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("＂".to_string()),
        Just("\u{FFFD}".to_string()),
        Just(String::new()),
        any::<char>().prop_map(String::from),
    ];
    let label = prop_oneof![
        Just("Shift_JIS".to_string()),
        Just("UTF-8".to_string()),
        Just("utf-8".to_string()),
        Just("windows-31j".to_string()),
        Just("EUC-JP".to_string()),
        Just("UTF-16".to_string()),
        "\\PC{0,12}",
    ];
    let bom = prop_oneof![
        Just(Vec::new()),
        Just(vec![0xEF, 0xBB, 0xBF]),
        Just(vec![0xFF, 0xFE]),
        Just(vec![0xFE, 0xFF]),
    ];
    let soup = prop::collection::vec(any::<u8>(), 0..200);
    (bom, quote.clone(), label, quote, soup, any::<bool>(), 0usize..400).prop_map(
        |(bom, open, label, close, soup, sjis_quote, cut)| {
            let mut bytes = bom;
            bytes.extend_from_slice(b"<?xml version=\"1.0\" encoding=");
            if sjis_quote {
                bytes.extend_from_slice(&[0x81, 0x68]); // a Shift_JIS full-width quote
            } else {
                bytes.extend_from_slice(open.as_bytes());
            }
            bytes.extend_from_slice(label.as_bytes());
            bytes.extend_from_slice(close.as_bytes());
            bytes.extend_from_slice(
                b"?><XmlMsg><MessageHeader><SegmentOfResult>1</SegmentOfResult></MessageHeader>",
            );
            bytes.extend_from_slice(&soup);
            bytes.extend_from_slice(b"</XmlMsg>");
            let cut = cut.min(bytes.len());
            if cut % 3 == 0 {
                bytes.truncate(cut);
            }
            bytes
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn declarations_with_any_quote_label_bom_or_truncation(bytes in declaration()) {
        let _ = oqs::xml::decode(&bytes);
        let _ = oqs::parse_answer(&bytes);
    }
}

#[test]
fn a_full_width_quote_in_the_declaration_is_a_typed_error() {
    for quote in ["＂", "\u{FFFD}", "“"] {
        let text = format!("<?xml version=\"1.0\" encoding={quote}Shift_JIS{quote}?><XmlMsg/>");
        let error = oqs::xml::decode(text.as_bytes()).unwrap_err();
        assert!(matches!(error, oqs::xml::XmlError::Encoding(_)), "{quote}: {error:?}");
    }
    // A Shift_JIS byte pair where the quote should be.
    let mut bytes = b"<?xml version=\"1.0\" encoding=".to_vec();
    bytes.extend_from_slice(&[0x81, 0x68]);
    bytes.extend_from_slice(b"Shift_JIS\"?><XmlMsg/>");
    assert!(oqs::parse_answer(&bytes).is_err());
}
