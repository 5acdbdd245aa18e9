//! The five tables are complete, well formed and say nothing a patient could be named by.

use guidance::{entries, plain, segments, Language, Segment, Step};
use std::collections::BTreeSet;

fn keys(lang: Language) -> Vec<&'static str> {
    entries(lang.table()).map(|(k, _)| k).collect()
}

#[test]
fn every_table_has_exactly_the_japanese_keys_once() {
    let ja: BTreeSet<_> = keys(Language::Ja).into_iter().collect();
    assert_eq!(ja.len(), keys(Language::Ja).len(), "a key twice in ja");
    for lang in Language::ALL {
        let k = keys(lang);
        let set: BTreeSet<_> = k.iter().copied().collect();
        assert_eq!(set.len(), k.len(), "a key twice in {}", lang.tag());
        assert_eq!(set, ja, "{} differs from ja", lang.tag());
    }
}

#[test]
fn every_step_has_its_sentences_in_every_language() {
    for lang in Language::ALL {
        for step in Step::ALL.into_iter().chain([Step::Invite]) {
            for key in step.keys() {
                let text = lang.text(key);
                assert_ne!(text, *key, "{} lacks {key}", lang.tag());
                assert!(!plain(text).trim().is_empty());
            }
        }
        for ui in ["title", "voice_on", "voice_off", "furigana", "again"] {
            assert_ne!(lang.text(ui), ui, "{} lacks {ui}", lang.tag());
        }
    }
}

fn is_kanji(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || c == '々'
}

#[test]
fn every_kanji_in_japanese_has_furigana() {
    for (key, text) in entries(Language::Ja.table()) {
        for s in segments(text) {
            match s {
                Segment::Plain(t) => {
                    assert!(!t.chars().any(is_kanji), "{key}: kanji without furigana in {t:?}")
                }
                Segment::Ruby { base, reading } => {
                    assert!(base.chars().any(is_kanji), "{key}: ruby on {base:?}");
                    assert!(
                        !reading.is_empty() && !reading.chars().any(is_kanji),
                        "{key}: reading {reading:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn no_other_table_carries_markup() {
    for lang in Language::ALL.into_iter().skip(1) {
        for (key, text) in entries(lang.table()) {
            assert!(!text.contains('{') && !text.contains('|'), "{} {key}", lang.tag());
        }
    }
}

#[test]
fn the_only_digit_spoken_is_the_pin_length() {
    // Names, numbers and dates are never in a sentence: the one digit allowed is the "4"
    // of "the 4-digit PIN", which is advice, not anyone's data.
    for lang in Language::ALL {
        for (key, text) in entries(lang.table()) {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            assert!(digits.is_empty() || digits == "4", "{} {key}: {digits}", lang.tag());
        }
    }
}

#[test]
fn steps_round_trip_their_word_and_refuse_others() {
    for step in Step::ALL.into_iter().chain([Step::Invite]) {
        let json = serde_json::to_string(&step).unwrap();
        assert_eq!(serde_json::from_str::<Step>(&json).unwrap(), step);
    }
    assert!(serde_json::from_str::<Step>("\"山田太郎\"").is_err());
    assert_eq!(
        Step::from_word(
            Step::Expiry(
                eligibility::expiry::ExpiryKind::InGrace,
                eligibility::policy::Holder::Phone
            )
            .word()
        ),
        Some(Step::Expiry(
            eligibility::expiry::ExpiryKind::Lapsed,
            eligibility::policy::Holder::Phone
        ))
    );
}

#[test]
fn ruby_markup_reads_back_to_its_bases() {
    assert_eq!(plain("{受付|うけつけ}のご{案内|あんない}"), "受付のご案内");
    assert_eq!(plain("a {b} c {"), "a {b} c {");
    assert_eq!(
        segments("x{漢|かん}"),
        vec![Segment::Plain("x"), Segment::Ruby { base: "漢", reading: "かん" }]
    );
}

proptest::proptest! {
    #[test]
    fn any_text_segments_without_panic_and_keeps_its_plain_characters(text in ".{0,80}") {
        let p = plain(&text);
        // Only the markup goes: the plain reading is never longer than the text.
        proptest::prop_assert!(p.chars().count() <= text.chars().count());
        if !text.contains('{') {
            proptest::prop_assert_eq!(p, text);
        }
    }
}
