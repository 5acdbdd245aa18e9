//! No log line at any level contains a PIN: drive VERIFYs with known PINs over the real
//! PC/SC stack with every log enabled, and search the captured output.

use bridge::card::ReaderService;
use card::pin::{Pin, StaffConfirmation};
use e2e::pcsc::Pcsc;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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

    let raw = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    // Drop each line's timestamp: its fractional seconds can contain any four digits.
    let logs: String = raw
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest))
        .collect::<Vec<_>>()
        .join("\n");
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
