//! Every operation against the virtual card, including each PIN-guard rule.

use card::apdu::Command;
use card::certificate::CertificateState;
use card::ops::{check, confirm, read_basic_info};
use card::pin::{self, JpkiAuthPin, Pin, PinStatus, StaffConfirmation, TextApPin};
use card::text_ap::Sex;
use card::transport::{Counting, TransportError};
use card::virtual_card::{RemovedAfter, TestPerson, TestPki, VirtualCard};
use card::{CardError, Holder};
use eligibility::{Date, Policy};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};

fn today() -> Date {
    Date::parse("2026-11-25").unwrap()
}

fn card(id: &str) -> VirtualCard {
    let pki = TestPki::new(today()).unwrap();
    VirtualCard::new(&pki, TestPerson::find(id).unwrap()).unwrap()
}

fn pin(s: &str) -> Pin {
    Pin::new(s).unwrap()
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

/// Verifies a PKCS#1 v1.5 SHA-256 signature with the certificate's public key.
fn signature_valid(cert_der: &[u8], challenge: &[u8], signature: &[u8]) -> bool {
    let cert = x509_cert::Certificate::from_der(cert_der).unwrap();
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
    let key = RsaPublicKey::from_public_key_der(&spki).unwrap();
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(challenge), signature).is_ok()
}

/// One `check` row: person → holder, certificate state, PIN counters.
fn check_row(
    id: &str,
    holder: Holder,
    state: fn(&CertificateState) -> bool,
    auth: PinStatus,
    text: Option<PinStatus>,
) {
    let policy = Policy::embedded().unwrap();
    let mut c = Counting::new(card(id));
    let report = block(check(&mut c, &policy, today())).unwrap();
    assert_eq!(report.holder, holder, "{id}");
    match &report.certificate_state {
        Some(s) => assert!(state(s), "{id}: {s:?}"),
        None => assert!(state(&CertificateState::NotYetValid), "{id}: certificate unread"),
    }
    assert_eq!((report.auth_pin, report.text_pin), (auth, text), "{id}");
    assert!(c.commands <= 15, "{id}: {} APDUs", c.commands);
}

#[test]
fn check_each_personality() {
    use CertificateState as S;
    let three = PinStatus::TriesLeft(3);
    check_row("yamada", Holder::MyNumberCard, |s| matches!(s, S::Valid { .. }), three, Some(three));
    check_row(
        "sato",
        Holder::MyNumberCard,
        |s| matches!(s, S::ExpiresSoon { days_left: 10 }),
        three,
        Some(three),
    );
    check_row(
        "suzuki",
        Holder::MyNumberCard,
        |s| matches!(s, S::InGrace { grace_days_left, .. } if *grace_days_left > 0),
        three,
        Some(three),
    );
    check_row(
        "takahashi",
        Holder::MyNumberCard,
        |s| matches!(s, S::Expired { .. }),
        three,
        Some(three),
    );
    // Android: the certificate needs the PIN first; no text AP.
    check_row("tanaka", Holder::AndroidPhone, |s| matches!(s, S::NotYetValid), three, None);
    // iPhone: verified by the phone's biometrics.
    check_row("ito", Holder::IPhone, |s| matches!(s, S::Valid { .. }), PinStatus::Verified, None);
    check_row("kobayashi", Holder::JukiCard, |s| matches!(s, S::Valid { .. }), three, Some(three));
}

/// The page reads the report the bridge sends: every personality's report comes back the
/// same through JSON, and the form on the wire is the one the bridge has always sent.
#[test]
fn check_reports_round_trip_through_json() {
    let policy = Policy::embedded().unwrap();
    for id in ["yamada", "sato", "suzuki", "takahashi", "tanaka", "ito", "kobayashi", "watanabe"] {
        let report = block(check(&mut card(id), &policy, today())).unwrap();
        let json = serde_json::to_string(&report).unwrap();
        let back: card::ops::CheckReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report, "{id}: {json}");
    }
    let wire = |v: &PinStatus| serde_json::to_value(v).unwrap();
    assert_eq!(
        wire(&PinStatus::TriesLeft(2)),
        serde_json::json!({"state": "tries_left", "tries_left": 2})
    );
    assert_eq!(wire(&PinStatus::Blocked), serde_json::json!({"state": "blocked"}));
    let state = CertificateState::ExpiresSoon { days_left: 10 };
    assert_eq!(
        serde_json::to_value(state).unwrap(),
        serde_json::json!({"state": "expires_soon", "days_left": 10})
    );
    // A state this build does not know, or one without its fields, is an error, not a guess.
    for bad in [r#"{"state":"tries_left"}"#, r#"{"state":"locked"}"#] {
        assert!(serde_json::from_str::<PinStatus>(bad).is_err(), "{bad}");
    }
    for bad in [
        r#"{"state":"valid"}"#,
        r#"{"state":"in_grace","expired_on":"2026-01-01"}"#,
        r#"{"state":"?"}"#,
    ] {
        assert!(serde_json::from_str::<CertificateState>(bad).is_err(), "{bad}");
    }
}

#[test]
fn phone_certificate_has_no_grace() {
    let policy = Policy::embedded().unwrap();
    // watanabe's phone certificate expired 5 days ago; Android needs the PIN to read it.
    let mut c = card("watanabe");
    let result =
        block(confirm(&mut c, pin("1234"), StaffConfirmation::NotGiven, b"challenge")).unwrap();
    let summary = card::certificate::CertificateSummary::from_der(&result.certificate).unwrap();
    assert!(matches!(
        summary.state(&policy, Holder::AndroidPhone, today()),
        CertificateState::Expired { .. }
    ));
    // The same dates on a card would be in grace.
    assert!(matches!(
        summary.state(&policy, Holder::MyNumberCard, today()),
        CertificateState::InGrace { .. }
    ));
}

#[test]
fn confirm_signs_with_the_certificates_key() {
    for id in ["yamada", "tanaka", "ito"] {
        let mut c = card(id);
        let challenge = format!("bridge challenge for {id}");
        let result =
            block(confirm(&mut c, pin("1234"), StaffConfirmation::NotGiven, challenge.as_bytes()))
                .unwrap();
        assert!(
            signature_valid(&result.certificate, challenge.as_bytes(), &result.signature),
            "{id}"
        );
        assert!(
            !signature_valid(&result.certificate, b"another challenge", &result.signature),
            "{id}"
        );
    }
}

#[test]
fn certificate_chains_to_the_test_ca() {
    let pki = TestPki::new(today()).unwrap();
    let mut c = VirtualCard::new(&pki, TestPerson::find("yamada").unwrap()).unwrap();
    let ca_der = block(async {
        card::jpki::holder(&mut c).await?;
        card::jpki::auth_ca_certificate(&mut c).await
    })
    .unwrap();
    assert_eq!(ca_der, pki.ca_certificate_der());
    let result = block(confirm(&mut c, pin("1234"), StaffConfirmation::NotGiven, b"x")).unwrap();
    let leaf = x509_cert::Certificate::from_der(&result.certificate).unwrap();
    let ca = x509_cert::Certificate::from_der(&ca_der).unwrap();
    let ca_key = RsaPublicKey::from_public_key_der(
        &ca.tbs_certificate.subject_public_key_info.to_der().unwrap(),
    )
    .unwrap();
    let tbs = leaf.tbs_certificate.to_der().unwrap();
    let sig = leaf.signature.as_bytes().unwrap();
    assert!(ca_key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&tbs), sig).is_ok());
    assert_eq!(leaf.tbs_certificate.issuer, ca.tbs_certificate.subject);
}

#[test]
fn basic_info_and_my_number() {
    let mut c = card("yamada");
    let info = block(read_basic_info(&mut c, pin("5678"), StaffConfirmation::NotGiven)).unwrap();
    assert_eq!(info.name, "山田太郎");
    assert_eq!(info.address, "東京都千代田区霞が関1-2-2");
    assert_eq!(info.birth, Date::parse("19800401").unwrap());
    assert_eq!(info.sex, Sex::Male);
    let number = block(async {
        let v = pin::verify::<TextApPin>(&mut c, pin("5678"), StaffConfirmation::NotGiven).await?;
        card::text_ap::my_number(&mut c, &v).await
    })
    .unwrap();
    assert_eq!(number.as_str(), "123456789018");
    // Phones have no text AP.
    let mut phone = card("tanaka");
    assert_eq!(
        block(read_basic_info(&mut phone, pin("5678"), StaffConfirmation::NotGiven)),
        Err(CardError::NoTextApplication)
    );
}

/// The guard's rules, one step per row: (PIN typed, staff confirmation, expected result,
/// VERIFY commands that reached the card).
#[test]
fn pin_guard_never_locks_the_card_without_staff() {
    let mut c = card("yamada");
    fn try_pin(
        c: &mut VirtualCard,
        p: &str,
        staff: StaffConfirmation,
    ) -> (Result<(), CardError>, u8) {
        let before = c.counters().auth;
        let r = block(pin::verify::<JpkiAuthPin>(c, pin(p), staff)).map(|_| ());
        (r, before - c.counters().auth.min(before))
    }
    let mut attempt = |p: &str, staff| try_pin(&mut c, p, staff);
    use StaffConfirmation::{LastTryConfirmed, NotGiven};
    let wrong = |n| Err(CardError::WrongPin { kind: pin::PinKind::JpkiAuth, tries_left: n });
    assert_eq!(attempt("0000", NotGiven), (wrong(2), 1));
    assert_eq!(attempt("0001", NotGiven), (wrong(1), 1));
    // One try left: refused without staff, and nothing reaches the card.
    assert_eq!(
        attempt("0002", NotGiven),
        (Err(CardError::LastTryNeedsConfirmation(pin::PinKind::JpkiAuth)), 0)
    );
    assert_eq!(
        attempt("0002", NotGiven),
        (Err(CardError::LastTryNeedsConfirmation(pin::PinKind::JpkiAuth)), 0)
    );
    assert_eq!(
        attempt("0002", NotGiven).0,
        Err(CardError::LastTryNeedsConfirmation(pin::PinKind::JpkiAuth)),
        "the card is not locked"
    );
    // With staff: the last try is spent; wrong → blocked.
    assert_eq!(
        attempt("0003", LastTryConfirmed),
        (Err(CardError::PinBlocked(pin::PinKind::JpkiAuth)), 1)
    );
    // Blocked: refused before any VERIFY, even the right PIN.
    assert_eq!(
        attempt("1234", LastTryConfirmed),
        (Err(CardError::PinBlocked(pin::PinKind::JpkiAuth)), 0)
    );
}

#[test]
fn a_right_pin_resets_the_counter_and_counters_survive_reset() {
    let mut c = card("yamada");
    let r = block(pin::verify::<JpkiAuthPin>(&mut c, pin("9999"), StaffConfirmation::NotGiven));
    assert!(matches!(r, Err(CardError::WrongPin { tries_left: 2, .. })));
    c.reset();
    assert_eq!(block(pin::status::<JpkiAuthPin>(&mut c)).unwrap(), PinStatus::TriesLeft(2));
    block(pin::verify::<JpkiAuthPin>(&mut c, pin("1234"), StaffConfirmation::NotGiven)).unwrap();
    assert_eq!(c.counters().auth, 3);
    // The text AP's counter is separate.
    assert_eq!(block(pin::status::<TextApPin>(&mut c)).unwrap(), PinStatus::TriesLeft(3));
}

#[test]
fn pin_values_are_checked_and_masked() {
    assert!(Pin::new("12345").is_err());
    assert!(Pin::new("12a4").is_err());
    assert!(Pin::new("１２３４").is_ok());
    let verify = Command::new(0x00, 0x20, 0x00, 0x80).with_data(b"1234");
    let shown = verify.to_string();
    assert!(!shown.contains("31 32 33 34") && shown.contains("masked"), "{shown}");
    let change = Command::new(0x00, 0x24, 0x00, 0x80).with_data(b"12345678");
    assert!(change.to_string().contains("masked"));
    assert!(Command::select_file(0x000A).to_string().contains("00 0A"));
}

#[test]
fn status_words_of_the_virtual_card() {
    let mut c = card("yamada");
    let mut send = |bytes: &[u8]| {
        let r = c.process(bytes);
        u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]])
    };
    assert_eq!(send(&[0x00, 0x20, 0x00, 0x80]), 0x6986, "VERIFY with no PIN file selected");
    assert_eq!(send(&[0x00, 0xA4, 0x04, 0x0C, 0x03, 1, 2, 3]), 0x6A82, "unknown application");
    assert_eq!(send(&Command::select_application(card::jpki::JPKI_AID).to_bytes()), 0x9000);
    assert_eq!(send(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x12, 0x34]), 0x6A82, "unknown file");
    assert_eq!(send(&[0x00, 0xCA, 0x00, 0x00]), 0x6D00, "unknown instruction");
    assert_eq!(send(&[0x00, 0xB0]), 0x6700, "truncated APDU");
    assert_eq!(send(&Command::select_file(0x0017).to_bytes()), 0x9000);
    assert_eq!(send(&[0x80, 0x2A, 0x00, 0x80, 0x01, 0x00, 0x00]), 0x6982, "sign before the PIN");
}

#[test]
fn card_removed_mid_read_is_a_clear_error_and_the_card_works_afterwards() {
    let policy = Policy::embedded().unwrap();
    let mut removed = RemovedAfter { inner: card("yamada"), after: 5 };
    let r = block(check(&mut removed, &policy, today()));
    assert_eq!(r, Err(CardError::Transport(TransportError::CardRemoved)));
    let mut again = removed.inner;
    again.reset();
    assert!(block(check(&mut again, &policy, today())).is_ok());
}

#[test]
fn android_certificate_needs_the_pin() {
    let mut c = card("tanaka");
    let r = block(async {
        card::jpki::holder(&mut c).await?;
        card::jpki::auth_certificate(&mut c).await
    });
    assert_eq!(r, Err(CardError::PinRequiredFirst));
}

/// The APDU budget of `check` (target ≤ 12; see ARCHITECTURE.md for why a card with a
/// text AP and a signing side needs 15): fixed by the file layout, so a regression shows here.
#[test]
fn check_apdu_count() {
    let policy = Policy::embedded().unwrap();
    let count = |id: &str| {
        let mut c = Counting::new(card(id));
        block(check(&mut c, &policy, today())).unwrap();
        c.commands
    };
    assert_eq!(
        count("yamada"),
        15,
        "card: 3 token + 5 certificate + 2 auth PIN + 2 signing password + 3 text PIN"
    );
    assert_eq!(count("ito"), 10, "iPhone: no text AP");
}

/// The summary's own DER walker reads every test certificate exactly as `x509-cert` does.
#[test]
fn the_certificate_walker_agrees_with_x509_cert() {
    use card::certificate::CertificateSummary;
    let pki = TestPki::new(today()).unwrap();
    let mut checked = 0;
    for person in card::virtual_card::TEST_PERSONS {
        let (der, _) = pki.issue(person).unwrap();
        let ours = CertificateSummary::from_der(&der).unwrap();
        let theirs = x509_cert::Certificate::from_der(&der).unwrap();
        let tbs = &theirs.tbs_certificate;
        let jst = |t: &x509_cert::time::Time| {
            Date::from_day_number(
                (t.to_unix_duration().as_secs() as i64 + 9 * 3600).div_euclid(86_400),
            )
            .unwrap()
        };
        assert_eq!(ours.subject, tbs.subject.to_string(), "{}", person.id);
        assert_eq!(ours.issuer, tbs.issuer.to_string(), "{}", person.id);
        let serial: String =
            tbs.serial_number.as_bytes().iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(ours.serial, serial);
        assert_eq!(
            (ours.not_before, ours.not_after),
            (jst(&tbs.validity.not_before), jst(&tbs.validity.not_after))
        );
        checked += 1;
    }
    assert_eq!(checked, card::virtual_card::TEST_PERSONS.len());
    // Truncated or foreign bytes are a typed error, not a panic.
    let (der, _) = pki.issue(TestPerson::find("yamada").unwrap()).unwrap();
    for cut in [0, 1, 10, 100, der.len() - 1] {
        assert!(CertificateSummary::from_der(&der[..cut]).is_err(), "cut at {cut}");
    }
    assert!(CertificateSummary::from_der(b"not a certificate").is_err());
}

/// Ready to add the card to a phone? `check` reads the signing password's tries without
/// spending one: fresh (5), after two wrong entries (3), locked, and a card without a
/// signing certificate (a child's). The signing certificate is unreadable before the
/// password, and readable after it.
#[test]
fn check_reads_the_signing_password_without_spending_a_try() {
    use card::ops::PhoneReadiness;
    let policy = Policy::embedded().unwrap();
    let mut yamada = card("yamada");
    let report = block(check(&mut yamada, &policy, today())).unwrap();
    assert_eq!(report.signing_password, Some(PinStatus::TriesLeft(5)));
    assert_eq!(report.phone_readiness(), Some(PhoneReadiness::Ready { tries_left: 5 }));
    assert_eq!(yamada.counters().sign, 5, "the check spent nothing");
    // Two wrong passwords, then the check again.
    let select = |fid: u16| Command::select_file(fid);
    let sw = |c: &mut VirtualCard, cmd: &Command| {
        let r = c.process(&cmd.to_bytes());
        u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]])
    };
    sw(&mut yamada, &Command::select_application(card::jpki::JPKI_AID));
    assert_eq!(sw(&mut yamada, &select(card::jpki::FID_SIGN_CERT)), 0x9000);
    assert_eq!(
        sw(&mut yamada, &Command::new(0x00, 0xB0, 0, 0).with_le(256)),
        0x6982,
        "the signing certificate before the password"
    );
    sw(&mut yamada, &select(card::jpki::FID_SIGN_PIN));
    for _ in 0..2 {
        let wrong = Command::new(0x00, 0x20, 0x00, 0x80).with_data(b"WRONG123");
        sw(&mut yamada, &wrong);
    }
    let report = block(check(&mut yamada, &policy, today())).unwrap();
    assert_eq!(report.phone_readiness(), Some(PhoneReadiness::Ready { tries_left: 3 }));
    // The right password opens the signing certificate and restores the counter.
    sw(&mut yamada, &Command::select_application(card::jpki::JPKI_AID));
    sw(&mut yamada, &select(card::jpki::FID_SIGN_PIN));
    let right = Command::new(0x00, 0x20, 0x00, 0x80).with_data(b"MADO2026");
    assert_eq!(sw(&mut yamada, &right), 0x9000);
    sw(&mut yamada, &select(card::jpki::FID_SIGN_CERT));
    assert_eq!(sw(&mut yamada, &Command::new(0x00, 0xB0, 0, 0).with_le(256)), 0x9000);
    assert_eq!(yamada.counters().sign, 5);

    let mut locked = card("yamada");
    locked.set_counters(card::virtual_card::PinCounters { auth: 3, text: 3, sign: 0 });
    let report = block(check(&mut locked, &policy, today())).unwrap();
    assert_eq!(report.phone_readiness(), Some(PhoneReadiness::Locked));
    assert!(PhoneReadiness::Locked.line().ja.contains("PKI暗証番号リセットアプリ"));

    let pki = TestPki::new(today()).unwrap();
    let child = TestPerson { sign_password: None, ..*TestPerson::find("yamada").unwrap() };
    let mut child = VirtualCard::new(&pki, &child).unwrap();
    let report = block(check(&mut child, &policy, today())).unwrap();
    assert_eq!(report.signing_password, None);
    assert_eq!(report.phone_readiness(), Some(PhoneReadiness::NoSigningCertificate));
    // A phone is not asked.
    let report = block(check(&mut card("ito"), &policy, today())).unwrap();
    assert_eq!(report.phone_readiness(), None);
}
