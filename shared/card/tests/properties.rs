//! Arbitrary card answers — truncated, wrong status words, absurd BER lengths — give a
//! typed error, never a panic or an unbounded allocation.

use card::apdu::{Command, Response};
use card::ops::{check, confirm, read_basic_info};
use card::pin::{Pin, StaffConfirmation};
use card::transport::{Transport, TransportError};
use eligibility::{Date, Policy};
use proptest::prelude::*;

/// Answers each command with the next scripted response; then the card is "removed".
struct Scripted {
    answers: std::vec::IntoIter<Vec<u8>>,
    sent: usize,
}

impl Transport for Scripted {
    async fn transmit(&mut self, _command: &Command) -> Result<Response, TransportError> {
        self.sent += 1;
        assert!(self.sent < 10_000, "an operation kept sending commands");
        let bytes = self.answers.next().ok_or(TransportError::CardRemoved)?;
        Response::parse(&bytes).ok_or(TransportError::MalformedResponse)
    }
}

/// Plausible answers: mostly `90 00` with data (sometimes a BER header with a huge
/// length), sometimes other status words or fragments.
fn answer() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..300).prop_map(|mut d| { d.extend([0x90, 0x00]); d }),
        2 => (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c, d)| vec![0x30, 0x84, a, b, c, d, 0x90, 0x00]),
        1 => Just(b"JPKIAPICCTOKEN2                 \x90\x00".to_vec()),
        1 => prop::sample::select(vec![0x63C3u16, 0x63C1, 0x63C0, 0x6984, 0x6A82, 0x6982, 0x6B00, 0x6282, 0x1234])
            .prop_map(|sw| sw.to_be_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..2),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn operations_survive_any_answers(answers in prop::collection::vec(answer(), 0..40)) {
        let policy = Policy::embedded().unwrap();
        let today = Date::parse("2026-11-25").unwrap();
        let mut t = Scripted { answers: answers.clone().into_iter(), sent: 0 };
        let _ = pollster::block_on(check(&mut t, &policy, today));
        let mut t = Scripted { answers: answers.clone().into_iter(), sent: 0 };
        let _ = pollster::block_on(confirm(&mut t, Pin::new("1234").unwrap(), StaffConfirmation::NotGiven, b"c"));
        let mut t = Scripted { answers: answers.into_iter(), sent: 0 };
        let _ = pollster::block_on(read_basic_info(&mut t, Pin::new("1234").unwrap(), StaffConfirmation::LastTryConfirmed));
    }

    #[test]
    fn parsers_survive_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = card::ber::header(&bytes, 8192);
        let _ = card::ber::elements(&bytes, 8192);
        let _ = card::text_ap::parse_basic_info(&bytes);
        let _ = card::certificate::CertificateSummary::from_der(&bytes);
        let _ = card::Holder::from_token(&bytes);
        let _ = Command::parse(&bytes);
        let _ = Response::parse(&bytes);
    }

    #[test]
    fn ber_lengths_are_bounded(len_bytes in prop::collection::vec(any::<u8>(), 0..6), tag in any::<u8>()) {
        let mut bytes = vec![tag, 0x80 | len_bytes.len() as u8];
        bytes.extend(&len_bytes);
        if let Ok(h) = card::ber::header(&bytes, 8192) {
            prop_assert!(h.total_len() <= 8192);
        }
    }

    #[test]
    fn commands_round_trip(cla in any::<u8>(), ins in any::<u8>(), p1 in any::<u8>(), p2 in any::<u8>(),
                           data in prop::collection::vec(any::<u8>(), 0..255), le in prop::option::of(1u16..=256)) {
        let mut c = Command::new(cla, ins, p1, p2).with_data(&data);
        c.le = le;
        prop_assert_eq!(Command::parse(&c.to_bytes()), Some(c));
    }
}
