//! Bilingual text and the normalisation of what receptionists type.
//!
//! People type numbers in full width (ＩＭＥ on), with 「・」, dashes of many kinds and
//! spaces; the national system and claims want half-width ASCII. Normalisation is the
//! only place where that folding happens.

use serde::Serialize;

/// A message shown to staff: Japanese first, English beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Text {
    pub ja: &'static str,
    pub en: &'static str,
}

impl Text {
    pub const fn new(ja: &'static str, en: &'static str) -> Text {
        Text { ja, en }
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.ja, self.en)
    }
}

/// Characters the national system sends in place of one outside its set (●, 〓, …): a name
/// or address holding one must be corrected before it reaches the claim.
pub const STAND_INS: &[char] = &['●', '〓', '\u{FFFD}', '□', '？'];

/// Whether `text` holds a stand-in character.
pub fn has_stand_in(text: &str) -> bool {
    text.contains(STAND_INS)
}

/// Folds one character: full-width digits, Latin letters and ASCII symbols to half
/// width, every dash look-alike to `-`, the ideographic space to a space. Katakana,
/// kanji and the prolonged sound mark 「ー」 are left alone (they are content).
pub fn fold_char(c: char) -> char {
    match c {
        // Full-width ASCII block U+FF01..U+FF5E maps 1:1 onto U+0021..U+007E.
        '\u{FF01}'..='\u{FF5E}' => {
            let folded = (c as u32) - 0xFF01 + 0x21;
            char::from_u32(folded).unwrap_or(c)
        }
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' | '\u{FE63}' => '-',
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Folds every character with [`fold_char`] and trims the ends.
pub fn fold(input: &str) -> String {
    input.chars().map(fold_char).collect::<String>().trim().to_string()
}

/// The byte length of a field as the claim and the national system count it:
/// Shift_JIS, one byte for ASCII and half-width kana, two for everything else.
pub fn sjis_len(s: &str) -> usize {
    s.chars()
        .map(|c| if c.is_ascii() || ('\u{FF61}'..='\u{FF9F}').contains(&c) { 1 } else { 2 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_and_dashes_but_keeps_katakana() {
        assert_eq!(fold("　０１２ＡＢｃ－９　"), "012ABc-9");
        assert_eq!(fold("ア−ー"), "ア-ー");
        assert_eq!(sjis_len("12ア"), 4);
        assert_eq!(sjis_len("12ｱ"), 3);
    }
}
