//! The Port-100 driver and the ISO-DEP host against the simulated RC-S380 with the
//! virtual card in its field: the reference's worked frames byte for byte, `check` and
//! `confirm` end to end (chaining both ways, S(WTX) before the signature), lost frames
//! recovered with R(NAK), a card pulled away, no card at all, and frames that lie.

use card::ops::{check, confirm};
use card::pin::{Pin, StaffConfirmation};
use card::reader::isodep::{parse_sensb_res, IsoDep};
use card::reader::port100::{self, parse_frame, Frame, FrameError, Port100};
use card::reader::sim::{SimPicc, SimPort100};
use card::reader::{Rf, RfError};
use card::transport::TransportError;
use card::virtual_card::{TestPerson, TestPki, VirtualCard};
use card::{CardError, Holder};
use eligibility::{Date, Policy};
use proptest::prelude::*;

fn today() -> Date {
    Date::parse("2026-11-25").unwrap()
}

fn picc(id: &str) -> SimPicc {
    let pki = TestPki::new(today()).unwrap();
    SimPicc::new(VirtualCard::new(&pki, TestPerson::find(id).unwrap()).unwrap())
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
}

fn activate(picc: Option<SimPicc>) -> Result<IsoDep<Port100<SimPort100>>, RfError> {
    block(async {
        let mut reader = Port100::new(SimPort100::new(picc));
        reader.init().await?;
        IsoDep::activate(reader).await
    })
}

#[test]
fn the_worked_frames_of_the_reference_byte_for_byte() {
    let rows = [
        (
            port100::command(port100::SET_COMMAND_TYPE, &[0x01]),
            "00 00 FF FF FF 03 00 FD D6 2A 01 FF 00",
        ),
        (port100::command(port100::SWITCH_RF, &[0x00]), "00 00 FF FF FF 03 00 FD D6 06 00 24 00"),
        (
            port100::command(port100::IN_SET_RF, &port100::RF_106B),
            "00 00 FF FF FF 06 00 FA D6 00 03 07 0F 07 0A 00",
        ),
        (
            port100::command(port100::IN_SET_PROTOCOL, &port100::PROTOCOL_TYPE_B),
            "00 00 FF FF FF 0C 00 F4 D6 02 0B 01 09 01 0C 01 0A 01 00 14 E6 00",
        ),
        (
            port100::command(
                port100::IN_COMM_RF,
                &[&port100::timeout_units(30).to_le_bytes()[..], &[0x05, 0x00, 0x10]].concat(),
            ),
            "00 00 FF FF FF 07 00 F9 D6 04 36 01 05 00 10 DA 00",
        ),
    ];
    for (frame, want) in &rows {
        assert_eq!(frame, &hex(want), "{want}");
    }
    // And the driver writes exactly these, in this order, when it activates a card.
    let dep = activate(Some(picc("yamada"))).unwrap();
    let written = &dep.into_rf().into_pipe().written;
    let firsts: Vec<Vec<u8>> = written.iter().take(5).cloned().collect();
    assert_eq!(firsts, rows.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>());
}

#[test]
fn frames_that_lie_are_refused() {
    assert_eq!(parse_frame(&port100::ACK), Ok(Frame::Ack));
    let good = port100::frame(&[0xD7, 0x2B, 0x00]);
    assert_eq!(parse_frame(&good), Ok(Frame::Data(vec![0xD7, 0x2B, 0x00])));
    let mut bad_dcs = good.clone();
    bad_dcs[10] ^= 1;
    assert_eq!(parse_frame(&bad_dcs), Err(FrameError::DataChecksum));
    let mut bad_lcs = good.clone();
    bad_lcs[7] ^= 1;
    assert_eq!(parse_frame(&bad_lcs), Err(FrameError::LengthChecksum));
    assert_eq!(parse_frame(&good[..9]), Err(FrameError::Short));
    let mut long = good.clone();
    long[5] = 0x40;
    long[7] = 0u8.wrapping_sub(0x40);
    assert_eq!(parse_frame(&long), Err(FrameError::Truncated));
    assert_eq!(parse_frame(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), Err(FrameError::Preamble));
}

#[test]
fn sensb_res_gives_the_frame_size_and_waiting_time() {
    let t = parse_sensb_res(&hex("50 12 34 56 78 00 00 00 00 00 21 80")).unwrap();
    assert_eq!((t.pupi, t.fsc), ([0x12, 0x34, 0x56, 0x78], 32));
    assert_eq!(t.fwt_ms, 78, "FWI 8 ≈ 77.3 ms, rounded up");
    assert!(parse_sensb_res(&hex("51 00")).is_err());
}

fn check_over(p: SimPicc) -> (Result<card::ops::CheckReport, CardError>, usize, usize) {
    let mut dep = activate(Some(p)).unwrap();
    let report = block(check(&mut dep, &Policy::embedded().unwrap(), today()));
    (report, dep.rf().frames(), dep.rf().wire_bytes())
}

#[test]
fn check_and_confirm_run_unchanged_over_the_reader() {
    let (report, frames, _) = check_over(picc("yamada"));
    let report = report.unwrap();
    assert_eq!(report.holder, Holder::MyNumberCard);
    assert!(report.certificate.is_some());
    assert!(frames > 13, "chained frames: {frames}");

    let mut dep = activate(Some(picc("yamada"))).unwrap();
    let confirmation = block(confirm(
        &mut dep,
        Pin::new("1234").unwrap(),
        StaffConfirmation::NotGiven,
        b"challenge",
    ))
    .unwrap();
    assert_eq!(confirmation.signature.len(), 256);
    // The same signature the card makes directly: the transport changed nothing.
    let pki = TestPki::new(today()).unwrap();
    let mut direct = VirtualCard::new(&pki, TestPerson::find("yamada").unwrap()).unwrap();
    let expected = block(confirm(
        &mut direct,
        Pin::new("1234").unwrap(),
        StaffConfirmation::NotGiven,
        b"challenge",
    ))
    .unwrap();
    assert_eq!(confirmation.signature, expected.signature);
    assert_eq!(confirmation.certificate, expected.certificate);
}

fn confirm_frames(p: SimPicc) -> usize {
    let mut dep = activate(Some(p)).unwrap();
    block(confirm(&mut dep, Pin::new("1234").unwrap(), StaffConfirmation::NotGiven, b"x")).unwrap();
    dep.rf().frames()
}

#[test]
fn a_card_with_big_frames_needs_no_command_chaining() {
    // The signing command (5 + 51-byte DigestInfo + Le = 57 bytes) does not fit a 32-byte
    // frame (29 bytes of it): it goes in two parts, the first ACKed by the card.
    let mut big = picc("yamada");
    big.fsci = 8;
    let (frames_big, frames_small) = (confirm_frames(big), confirm_frames(picc("yamada")));
    assert_eq!(frames_small, frames_big + 1, "{frames_small} vs {frames_big}");
}

#[test]
fn lost_frames_are_recovered_with_r_nak() {
    let mut lossy = picc("yamada");
    lossy.lose = vec![3, 4, 9, 20];
    let (report, _, _) = check_over(lossy);
    assert_eq!(report.unwrap().holder, Holder::MyNumberCard);
}

#[test]
fn a_card_pulled_away_mid_read_is_card_removed() {
    let mut leaving = picc("yamada");
    leaving.leaves_after = Some(12);
    let (report, _, _) = check_over(leaving);
    assert!(matches!(report, Err(CardError::Transport(TransportError::CardRemoved))), "{report:?}");
}

#[test]
fn no_card_in_the_field_times_out() {
    assert!(matches!(activate(None), Err(RfError::Timeout)));
}

#[test]
fn a_signature_waits_out_the_cards_wtx() {
    let mut slow = picc("yamada");
    slow.wtx_before_sign = true;
    let mut dep = activate(Some(slow)).unwrap();
    let before = dep.rf().frames();
    block(confirm(&mut dep, Pin::new("1234").unwrap(), StaffConfirmation::NotGiven, b"x")).unwrap();
    let with_wtx = dep.rf().frames() - before;
    let mut quick = picc("yamada");
    quick.wtx_before_sign = false;
    let mut dep = activate(Some(quick)).unwrap();
    let before = dep.rf().frames();
    block(confirm(&mut dep, Pin::new("1234").unwrap(), StaffConfirmation::NotGiven, b"x")).unwrap();
    assert_eq!(with_wtx, dep.rf().frames() - before + 1, "one S(WTX) round trip more");
}

proptest! {
    #[test]
    fn frames_round_trip_and_parsing_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300), junk in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(parse_frame(&port100::frame(&data)), Ok(Frame::Data(data.clone())));
        let _ = parse_frame(&junk);
        let _ = parse_sensb_res(&junk);
    }
}

mod rcs300 {
    use super::*;
    use card::reader::rcs300::{self, escape, parse_objects, RcS300};
    use card::reader::sim::SimRcS300;

    fn activate(
        picc: Option<SimPicc>,
        extensions: bool,
    ) -> Result<IsoDep<RcS300<SimRcS300>>, RfError> {
        block(async {
            let mut sim = SimRcS300::new(picc);
            sim.time_extensions = extensions;
            IsoDep::activate(RcS300::new(sim)).await
        })
    }

    #[test]
    fn escape_framing_and_session_commands() {
        assert_eq!(escape(7, &[0xAA, 0xBB]), hex("6B 02 00 00 00 00 07 00 00 00 AA BB"));
        assert_eq!(rcs300::manage(rcs300::START_SESSION), hex("FF 50 00 00 02 81 00 00"));
        assert_eq!(rcs300::manage(rcs300::RF_ON), hex("FF 50 00 00 02 84 00 00"));
        assert_eq!(
            rcs300::switch_protocol(rcs300::TYPE_B_LAYER_2),
            hex("FF 50 00 02 04 8F 02 01 02 00")
        );
        // SENSB_REQ with a 30 ms timer (30,000 µs little-endian), extended Lc and Le.
        assert_eq!(
            rcs300::transceive(&[0x05, 0x00, 0x10], 30),
            hex("FF 50 00 01 00 00 0C 5F 46 04 30 75 00 00 95 03 05 00 10 00 00")
        );
        assert_eq!(rcs300::ber_length(300), vec![0x82, 0x01, 0x2C]);
        // Sequence numbers count up per command: start, switch, RF on, then SENSB_REQ, ATTRIB.
        let dep = activate(Some(picc("yamada")), false).unwrap();
        let seqs: Vec<u8> = dep.into_rf().into_pipe().written.iter().map(|w| w[6]).collect();
        assert_eq!(seqs, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn answers_that_lie_are_refused() {
        assert!(parse_objects(&hex("97 05 01 02 90 00")).is_err(), "TLV past the end");
        assert!(parse_objects(&hex("97 01 01 6A 81")).is_err(), "not 90 00");
        assert!(parse_objects(&hex("90")).is_err());
        assert_eq!(
            parse_objects(&hex("C0 03 00 00 00 97 01 AB 90 00")).unwrap()[1],
            (0x97, vec![0xAB])
        );
    }

    #[test]
    fn check_and_confirm_over_the_rc_s300_with_time_extensions() {
        let mut dep = activate(Some(picc("yamada")), true).unwrap();
        let report = block(check(&mut dep, &Policy::embedded().unwrap(), today())).unwrap();
        assert_eq!(report.holder, Holder::MyNumberCard);
        let c =
            block(confirm(&mut dep, Pin::new("1234").unwrap(), StaffConfirmation::NotGiven, b"x"))
                .unwrap();
        assert_eq!(c.signature.len(), 256);
    }

    #[test]
    fn recovery_removal_and_no_card() {
        let mut lossy = picc("yamada");
        lossy.lose = vec![2, 3, 7];
        let mut dep = activate(Some(lossy), false).unwrap();
        assert!(block(check(&mut dep, &Policy::embedded().unwrap(), today())).is_ok());
        let mut leaving = picc("yamada");
        leaving.leaves_after = Some(10);
        let mut dep = activate(Some(leaving), false).unwrap();
        let r = block(check(&mut dep, &Policy::embedded().unwrap(), today()));
        assert!(matches!(r, Err(CardError::Transport(TransportError::CardRemoved))), "{r:?}");
        assert!(matches!(activate(None, false), Err(RfError::Timeout)));
    }
}

mod type_a {
    use super::*;
    use card::reader::isodep::{parse_ats, CardType};
    use card::reader::rcs300::RcS300;
    use card::reader::sim::SimRcS300;

    fn phone(id: &str) -> SimPicc {
        let mut p = picc(id);
        p.type_a = true;
        p
    }

    #[test]
    fn a_type_a_card_is_found_after_type_b_stays_silent_on_both_readers() {
        let policy = Policy::embedded().unwrap();
        // RC-S380.
        let mut dep = activate(Some(phone("yamada"))).unwrap();
        assert_eq!(dep.card().kind, CardType::A);
        assert_eq!(dep.card().id, vec![0x12, 0x34, 0x56, 0x78]);
        assert_eq!(dep.card().fsc, 32, "FSCI 2 from the ATS");
        let report = block(check(&mut dep, &policy, today())).unwrap();
        assert_eq!(report.holder, Holder::MyNumberCard);
        let c =
            block(confirm(&mut dep, Pin::new("1234").unwrap(), StaffConfirmation::NotGiven, b"a"))
                .unwrap();
        assert_eq!(c.signature.len(), 256);
        // The driver really switched framing: a 7-bit REQA without CRC, then CRC back on.
        let written = &dep.into_rf().into_pipe().written;
        let rf_106a = port100::command(port100::IN_SET_RF, &port100::RF_106A);
        let short = port100::command(
            port100::IN_SET_PROTOCOL,
            &port100::framing_params(card::reader::Framing::SHORT),
        );
        assert!(written.contains(&rf_106a) && written.contains(&short));
        // RC-S300.
        let mut dep =
            block(IsoDep::activate(RcS300::new(SimRcS300::new(Some(phone("yamada")))))).unwrap();
        assert_eq!(dep.card().kind, CardType::A);
        let report = block(check(&mut dep, &policy, today())).unwrap();
        assert_eq!(report.holder, Holder::MyNumberCard);
    }

    #[test]
    fn ats_fields_by_row() {
        // (ATS, expected (FSC, FWT ms))
        type Row = (&'static [u8], Option<(usize, u32)>);
        let rows: [Row; 5] = [
            (&[0x05, 0x72, 0x80, 0x70, 0x02], Some((32, 39))), // FWI 7: 38.7 ms, rounded up
            (&[0x05, 0x78, 0x80, 0x80, 0x02], Some((256, 78))),
            (&[0x02, 0x05], Some((64, 5))), // no TA/TB/TC: FWI defaults to 4
            (&[0x01], Some((32, 5))),
            (&[0x05, 0x72, 0x80], None), // TL says 5, 3 bytes came
        ];
        for (ats, want) in rows {
            assert_eq!(parse_ats(ats).ok(), want, "{ats:02X?}");
        }
    }
}

#[test]
fn presence_check_error_names_and_a_clean_deactivation() {
    let mut dep = activate(Some(picc("yamada"))).unwrap();
    assert!(block(dep.present()), "a card in the field answers the presence check");
    // The check changed nothing: operations go on.
    assert!(block(check(&mut dep, &Policy::embedded().unwrap(), today())).is_ok());
    let sim = block(dep.deactivate()).unwrap().into_pipe();
    assert!(!sim.field_on, "the field is off after deactivation");
    // A card that left the field fails the presence check.
    let mut gone = picc("yamada");
    gone.leaves_after = Some(2); // SENSB_REQ and ATTRIB answered, then nothing
    let mut dep = activate(Some(gone)).unwrap();
    assert!(!block(dep.present()));
    assert_eq!(port100::describe(0x0000_0084), "CRC, receive timeout");
    assert_eq!(port100::describe(0x0001_0000), "0x00010000");
    assert!(RfError::Transmission(0x04).to_string().contains("CRC"));
}
