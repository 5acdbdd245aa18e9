//! What the patient guidance display says.
//!
//! The counter tells the display which [`Step`] the patient is at; the display shows and
//! speaks that step's sentences from one reviewed table per [`Language`]
//! (`data/<tag>.tsv`, written by the team — no machine translation at run time).
//!
//! **Architecture invariant:** a [`Step`] carries no patient data — no name, number, date
//! or count — so nothing the display shows or speaks can be a patient's. The type is the
//! guarantee: the wire form is one word from a closed list ([`Step::word`]).

#![forbid(unsafe_code)]

use eligibility::expiry::ExpiryKind;
use eligibility::policy::Holder;
use serde::{Deserialize, Serialize};

/// The phone's kind: the reader's second step differs (Face ID on an iPhone, the 4-digit
/// PIN on the reader for Android).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneOs {
    IPhone,
    Android,
}

/// Where the patient is at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Step {
    /// Nobody at the counter: how to use the マイナ保険証 next time.
    Idle,
    /// Card or phone?
    Choose,
    /// The card on the face-auth reader (with the PIN advice).
    Card,
    /// A phone: choose スマホ on the face-auth reader first.
    PhoneFirst,
    /// A phone: the device's own authentication, then the generic reader.
    Phone(PhoneOs),
    /// The phone could not be read: the マイナポータル screen.
    PhoneFailed,
    /// Confirmed: wait to be called.
    Confirmed,
    /// The certificate needs renewing (the slip's message, without its dates).
    Expiry(ExpiryKind, Holder),
    /// Received with a document: an invitation to use the マイナ保険証 next time.
    Invite,
}

impl Step {
    /// Every step, in the order a patient meets them (tests and screenshots walk it).
    pub const ALL: [Step; 13] = [
        Step::Idle,
        Step::Choose,
        Step::Card,
        Step::PhoneFirst,
        Step::Phone(PhoneOs::IPhone),
        Step::Phone(PhoneOs::Android),
        Step::PhoneFailed,
        Step::Confirmed,
        Step::Expiry(ExpiryKind::ExpiresSoon, Holder::Card),
        Step::Expiry(ExpiryKind::InGrace, Holder::Card),
        Step::Expiry(ExpiryKind::Lapsed, Holder::Card),
        Step::Expiry(ExpiryKind::ExpiresSoon, Holder::Phone),
        Step::Expiry(ExpiryKind::Lapsed, Holder::Phone),
    ];

    /// The step's one word on the wire.
    pub fn word(self) -> &'static str {
        match self {
            Step::Idle => "idle",
            Step::Choose => "choose",
            Step::Card => "card",
            Step::PhoneFirst => "phone_first",
            Step::Phone(PhoneOs::IPhone) => "phone_iphone",
            Step::Phone(PhoneOs::Android) => "phone_android",
            Step::PhoneFailed => "phone_failed",
            Step::Confirmed => "confirmed",
            Step::Expiry(ExpiryKind::ExpiresSoon, Holder::Card) => "expiry_soon_card",
            Step::Expiry(ExpiryKind::InGrace, Holder::Card) => "expiry_grace_card",
            Step::Expiry(ExpiryKind::Lapsed, Holder::Card) => "expiry_lapsed_card",
            Step::Expiry(ExpiryKind::ExpiresSoon, Holder::Phone) => "expiry_soon_phone",
            // A phone has no grace: an expired phone certificate has lapsed.
            Step::Expiry(_, Holder::Phone) => "expiry_lapsed_phone",
            Step::Invite => "invite",
        }
    }

    /// The step a word names.
    pub fn from_word(word: &str) -> Option<Step> {
        Step::ALL.into_iter().chain([Step::Invite]).find(|s| s.word() == word)
    }

    /// The table keys the display shows for this step, in order.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Step::Card => &["card", "pin"],
            Step::Phone(PhoneOs::Android) => &["phone_android", "pin"],
            Step::Idle => &["idle"],
            Step::Choose => &["choose"],
            Step::PhoneFirst => &["phone_first"],
            Step::Phone(PhoneOs::IPhone) => &["phone_iphone"],
            Step::PhoneFailed => &["phone_failed"],
            Step::Confirmed => &["confirmed"],
            Step::Invite => &["invite"],
            Step::Expiry(..) => match self.word() {
                "expiry_soon_card" => &["expiry_soon_card"],
                "expiry_grace_card" => &["expiry_grace_card"],
                "expiry_lapsed_card" => &["expiry_lapsed_card"],
                "expiry_soon_phone" => &["expiry_soon_phone"],
                _ => &["expiry_lapsed_phone"],
            },
        }
    }
}

impl From<Step> for String {
    fn from(step: Step) -> String {
        step.word().to_string()
    }
}

impl TryFrom<String> for Step {
    type Error = String;
    fn try_from(word: String) -> Result<Step, String> {
        Step::from_word(&word).ok_or_else(|| {
            format!("not a guidance step: {:?}", word.chars().take(40).collect::<String>())
        })
    }
}

/// The display's languages, chosen by the patient with one tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    Ja,
    En,
    ZhHans,
    Ko,
    Vi,
}

impl Language {
    pub const ALL: [Language; 5] =
        [Language::Ja, Language::En, Language::ZhHans, Language::Ko, Language::Vi];

    /// The BCP 47 tag (`lang` attribute, the table's file name).
    pub fn tag(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
            Language::ZhHans => "zh-Hans",
            Language::Ko => "ko",
            Language::Vi => "vi",
        }
    }

    /// The voice's language for `speechSynthesis`.
    pub fn speech_tag(self) -> &'static str {
        match self {
            Language::Ja => "ja-JP",
            Language::En => "en-US",
            Language::ZhHans => "zh-CN",
            Language::Ko => "ko-KR",
            Language::Vi => "vi-VN",
        }
    }

    /// The language's name in itself (the button the patient taps).
    pub fn name(self) -> &'static str {
        match self {
            Language::Ja => "日本語",
            Language::En => "English",
            Language::ZhHans => "简体中文",
            Language::Ko => "한국어",
            Language::Vi => "Tiếng Việt",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.tag() == tag)
    }

    /// The language's table: `key<TAB>sentence` lines, `#` comments.
    pub fn table(self) -> &'static str {
        match self {
            Language::Ja => include_str!("../data/ja.tsv"),
            Language::En => include_str!("../data/en.tsv"),
            Language::ZhHans => include_str!("../data/zh-Hans.tsv"),
            Language::Ko => include_str!("../data/ko.tsv"),
            Language::Vi => include_str!("../data/vi.tsv"),
        }
    }

    /// The sentence for `key`, as written (with furigana markup in Japanese); the key
    /// itself when the table lacks it (tests keep every table complete).
    pub fn text(self, key: &'static str) -> &'static str {
        entries(self.table()).find(|(k, _)| *k == key).map_or(key, |(_, text)| text)
    }

    /// A step's sentences in this language.
    pub fn sentences(self, step: Step) -> Vec<&'static str> {
        step.keys().iter().map(|k| self.text(k)).collect()
    }
}

/// A table's entries in file order.
pub fn entries(table: &str) -> impl Iterator<Item = (&str, &str)> {
    table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
}

/// One piece of a sentence: plain text, or a base with its reading (furigana).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    Plain(&'a str),
    Ruby { base: &'a str, reading: &'a str },
}

/// A sentence's pieces: `{base|reading}` is a ruby; anything else is plain (a brace
/// without its pair is plain text too, so no sentence fails to show).
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        let inner = &rest[open + 1..close];
        let Some((base, reading)) = inner.split_once('|') else {
            out.push(Segment::Plain(&rest[..=close]));
            rest = &rest[close + 1..];
            continue;
        };
        if open > 0 {
            out.push(Segment::Plain(&rest[..open]));
        }
        out.push(Segment::Ruby { base, reading });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Segment::Plain(rest));
    }
    out
}

/// What is shown without furigana and what the voice reads: the bases only.
pub fn plain(text: &str) -> String {
    segments(text)
        .into_iter()
        .map(|s| match s {
            Segment::Plain(t) => t,
            Segment::Ruby { base, .. } => base,
        })
        .collect()
}
