//! The reader service on the real PC/SC stack: pcscd + vpcd + the virtual card emulator.

use bridge::card::{ReaderError, ReaderEvent, ReaderService};
use card::pin::{Pin, PinKind, PinStatus, StaffConfirmation};
use card::{CardError, Holder, TransportError};
use e2e::pcsc::{Pcsc, READER};
use eligibility::{Date, Policy};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use std::time::Duration;
use x509_cert::der::{Decode, Encode};

fn today() -> Date {
    Date::parse("2026-11-25").unwrap()
}

const TODAY: [&str; 2] = ["--today", "20261125"];

fn pin(s: &str) -> Pin {
    Pin::new(s).unwrap()
}

#[test]
fn check_confirm_and_read_basic_info() {
    let _pcsc = Pcsc::start(env!("CARGO_BIN_EXE_bridge"), "yamada", &TODAY);
    let service = ReaderService::new();
    let policy = Policy::embedded().unwrap();
    let report = service.check(Some(READER), &policy, today()).unwrap();
    assert_eq!(report.holder, Holder::MyNumberCard);
    assert_eq!(report.auth_pin, PinStatus::TriesLeft(3));
    assert_eq!(report.text_pin, Some(PinStatus::TriesLeft(3)));
    assert_eq!(report.certificate.as_ref().unwrap().not_after, Date::parse("2029-11-24").unwrap());

    let challenge = b"a challenge from the bridge";
    let result =
        service.confirm(None, pin("1234"), StaffConfirmation::NotGiven, challenge).unwrap();
    let cert = x509_cert::Certificate::from_der(&result.certificate).unwrap();
    let key = RsaPublicKey::from_public_key_der(
        &cert.tbs_certificate.subject_public_key_info.to_der().unwrap(),
    )
    .unwrap();
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(challenge), &result.signature)
        .unwrap();

    let info = service.read_basic_info(None, pin("5678"), StaffConfirmation::NotGiven).unwrap();
    assert_eq!((info.name.as_str(), info.birth), ("山田太郎", Date::parse("19800401").unwrap()));
}

#[test]
fn phones_through_pcsc() {
    let _pcsc = Pcsc::start(
        env!("CARGO_BIN_EXE_bridge"),
        "tanaka",
        &["--today", "20261125", "--phone", "iphone"],
    );
    let service = ReaderService::new();
    let report = service.check(None, &Policy::embedded().unwrap(), today()).unwrap();
    assert_eq!(
        (report.holder, report.auth_pin, report.text_pin),
        (Holder::IPhone, PinStatus::Verified, None)
    );
    assert!(
        service.confirm(None, pin("0000"), StaffConfirmation::NotGiven, b"c").is_ok(),
        "biometrics already done"
    );
}

#[test]
fn card_removed_mid_read_then_usable_again() {
    let mut pcsc = Pcsc::start(env!("CARGO_BIN_EXE_bridge"), "yamada", &TODAY);
    let service = ReaderService::new();
    let policy = Policy::embedded().unwrap();
    pcsc.emulator("remove-after 5");
    std::thread::sleep(Duration::from_millis(200));
    let err = service.check(None, &policy, today()).unwrap_err();
    assert!(
        matches!(
            err,
            ReaderError::Card(CardError::Transport(TransportError::CardRemoved))
                | ReaderError::NoCard
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("カード"), "the message speaks to the receptionist: {err}");
    pcsc.wait_for_card(false);
    assert_eq!(service.check(None, &policy, today()).unwrap_err(), ReaderError::NoCard);
    pcsc.emulator("insert");
    pcsc.wait_for_card(true);
    assert!(service.check(None, &policy, today()).is_ok(), "the reader is usable afterwards");
}

#[test]
fn three_wrong_pins_never_lock_the_card() {
    let _pcsc = Pcsc::start(env!("CARGO_BIN_EXE_bridge"), "sato", &TODAY);
    let service = ReaderService::new();
    let confirm =
        |p: &str| service.confirm(None, pin(p), StaffConfirmation::NotGiven, b"c").map(|_| ());
    let wrong =
        |n| Err(ReaderError::Card(CardError::WrongPin { kind: PinKind::JpkiAuth, tries_left: n }));
    assert_eq!(confirm("0000"), wrong(2));
    assert_eq!(confirm("0001"), wrong(1));
    assert_eq!(
        confirm("0002"),
        Err(ReaderError::Card(CardError::LastTryNeedsConfirmation(PinKind::JpkiAuth)))
    );
    let report = service.check(None, &Policy::embedded().unwrap(), today()).unwrap();
    assert_eq!(report.auth_pin, PinStatus::TriesLeft(1), "the card is not locked");
    // The right PIN, with staff confirming the last try, restores the counter.
    service.confirm(None, pin("1234"), StaffConfirmation::LastTryConfirmed, b"c").unwrap();
    assert_eq!(
        service.check(None, &Policy::embedded().unwrap(), today()).unwrap().auth_pin,
        PinStatus::TriesLeft(3)
    );
}

#[test]
fn hot_plug_events_and_service_restart() {
    let mut pcsc = Pcsc::start(env!("CARGO_BIN_EXE_bridge"), "yamada", &TODAY);
    let service = ReaderService::new();
    let mut events = service.subscribe();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let mut wait_for = |wanted: ReaderEvent| {
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    match events.recv().await {
                        Ok(e) if e == wanted => return,
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            })
            .await
            .unwrap_or_else(|_| panic!("no {wanted:?} within 10 s"))
        })
    };
    wait_for(ReaderEvent::CardInserted { reader: READER.into() });
    pcsc.emulator("remove");
    wait_for(ReaderEvent::CardRemoved { reader: READER.into() });
    pcsc.emulator("insert");
    wait_for(ReaderEvent::CardInserted { reader: READER.into() });
    // The service goes away and comes back: the context is re-established.
    pcsc.stop_pcscd();
    assert!(
        matches!(service.list(), Err(ReaderError::Service(_))),
        "no service while pcscd is down"
    );
    pcsc.start_pcscd();
    wait_for(ReaderEvent::ServiceRestored);
    pcsc.wait_for_card(true);
    assert!(service.check(None, &Policy::embedded().unwrap(), today()).is_ok());
}

/// OpenSC, an independent JPKI client, binds to the virtual card through pcscd + vpcd: its
/// JPKI emulator finds the card's PINs (the signing password among them, EF 001B) and lists
/// its certificates (`cargo xtask test` installs the Debian package `opensc`).
#[test]
fn opensc_binds_to_the_virtual_card_and_lists_its_certificates() {
    let tool = "pkcs15-tool";
    let _pcsc = Pcsc::start(env!("CARGO_BIN_EXE_bridge"), "yamada", &TODAY);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(tool)
            .args(["--reader", READER])
            .args(args)
            .output()
            .expect("pkcs15-tool runs (cargo xtask setup installs the Debian package opensc)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "pkcs15-tool {args:?}: {text}");
        text
    };
    // Its JPKI emulator names the four: auth, signing (private: behind the password), and
    // their CAs, at the files the card has.
    let certificates = run(&["--list-certificates"]);
    for (name, path) in [
        ("[User Authentication Certificate]", "000a"),
        ("[Digital Signature Certificate]", "0001"),
        ("[User Authentication Certificate CA]", "000b"),
        ("[Digital Signature Certificate CA]", "0002"),
    ] {
        let block = certificates.split("X.509 Certificate ").find(|b| b.starts_with(name));
        assert!(
            block.is_some_and(|b| b.contains(&format!("Path           : {path}"))),
            "{name} at {path}: {certificates}"
        );
    }
    // And reads both PINs' tries without spending one: 3 for the auth PIN, 5 for the
    // signing password (EF 001B).
    let pins = run(&["--list-pins"]);
    let tries = |name: &str| {
        pins.split("PIN [").find(|b| b.starts_with(name)).and_then(|b| {
            b.lines().find_map(|l| l.trim().strip_prefix("Tries left     : ").map(str::to_string))
        })
    };
    assert_eq!(tries("User Authentication PIN").as_deref(), Some("3"), "{pins}");
    assert_eq!(tries("Digital Signature PIN").as_deref(), Some("5"), "{pins}");
}
