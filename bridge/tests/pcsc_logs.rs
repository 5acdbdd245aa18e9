//! No log line at any level contains a PIN: drive VERIFYs with known PINs over the real
//! PC/SC stack with every log enabled, and search the captured output.

use bridge::card::ReaderService;
use card::pin::{Pin, StaffConfirmation};
use e2e::logs::Capture;
use e2e::pcsc::Pcsc;

#[test]
fn no_log_line_contains_a_pin() {
    let capture = Capture::default();
    let writer = capture.clone();
    bridge::card::logging::init_with_writer("trace", move || writer.clone());
    let _pcsc = Pcsc::start(env!("CARGO_BIN_EXE_bridge"), "yamada", &["--today", "20261125"]);
    let service = ReaderService::new();
    // A wrong PIN and the right one, for both PIN files.
    let _ = service.confirm(None, Pin::new("9876").unwrap(), StaffConfirmation::NotGiven, b"c");
    service.confirm(None, Pin::new("1234").unwrap(), StaffConfirmation::NotGiven, b"c").unwrap();
    service.read_basic_info(None, Pin::new("5678").unwrap(), StaffConfirmation::NotGiven).unwrap();

    let logs = capture.text();
    assert!(
        logs.contains("00 20 00 80 Lc=04 [4 bytes masked]"),
        "VERIFY is traced, masked:\n{logs}"
    );
    for secret in [
        "9876",
        "1234",
        "5678",
        "39 38 37 36",
        "31 32 33 34",
        "35 36 37 38",
        "39383736",
        "31323334",
    ] {
        assert!(!logs.contains(secret), "a log line contains {secret:?}:\n{logs}");
    }
    // Nor patient data read from the card.
    assert!(!logs.contains("山田"), "a log line contains the patient's name");
}
