//! `check` and `confirm` over the real PC/SC stack (pcscd + vpcd + the emulator): APDUs per
//! operation, median and p99 latency, and the bridge's overhead per APDU — the operation's
//! time minus a raw replay of the same APDUs through PC/SC, divided by the APDU count.
//! Run with `cargo xtask bench`.

use bridge::card::ReaderService;
use card::apdu::Command;
use card::pin::{Pin, StaffConfirmation};
use card::transport::{Transport, TransportError};
use card::virtual_card::{TestPerson, TestPki, VirtualCard};
use e2e::pcsc::{Pcsc, READER};
use eligibility::{Date, Policy};
use std::ffi::CString;
use std::time::{Duration, Instant};

const RUNS: usize = 200;

/// Records the APDUs an operation sends (against an in-memory virtual card).
struct Recording {
    card: VirtualCard,
    sent: Vec<Vec<u8>>,
}

impl Transport for Recording {
    async fn transmit(
        &mut self,
        command: &Command,
    ) -> Result<card::apdu::Response, TransportError> {
        self.sent.push(command.to_bytes());
        self.card.transmit(command).await
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn measure(mut op: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            op();
            start.elapsed()
        })
        .collect();
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// The same APDUs straight through PC/SC: connect, transaction, transmit, disconnect.
fn raw_replay(ctx: &pcsc::Context, apdus: &[Vec<u8>], disposition: pcsc::Disposition) {
    let reader = CString::new(READER).expect("reader name");
    let mut card =
        ctx.connect(&reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY).expect("connect");
    {
        let tx = card.transaction().expect("transaction");
        let mut buffer = [0u8; pcsc::MAX_BUFFER_SIZE];
        for apdu in apdus {
            tx.transmit(apdu, &mut buffer).expect("transmit");
        }
        tx.end(disposition).map_err(|(_, e)| e).expect("end");
    }
    card.disconnect(pcsc::Disposition::LeaveCard).map_err(|(_, e)| e).expect("disconnect");
}

fn main() {
    let today = Date::parse("2026-11-25").expect("date");
    let policy = Policy::embedded().expect("policy");
    let person = TestPerson::find("yamada").expect("person");
    let pki = TestPki::new(today).expect("pki");
    let record = |f: &dyn Fn(&mut Recording)| {
        let mut r =
            Recording { card: VirtualCard::new(&pki, person).expect("card"), sent: Vec::new() };
        f(&mut r);
        r.sent
    };
    let check_apdus = record(&|r| {
        pollster::block_on(card::ops::check(r, &policy, today)).expect("check");
    });
    let confirm_apdus = record(&|r| {
        let pin = Pin::new("1234").expect("pin");
        pollster::block_on(card::ops::confirm(r, pin, StaffConfirmation::NotGiven, b"challenge"))
            .expect("confirm");
    });

    let bridge = env!("CARGO_BIN_EXE_bridge");
    let _pcsc = Pcsc::start(bridge, "yamada", &["--today", "20261125"]);
    let service = ReaderService::new();
    let (check_p50, check_p99) = measure(|| {
        service.check(Some(READER), &policy, today).expect("check");
    });
    let ctx = pcsc::Context::establish(pcsc::Scope::User).expect("pcsc context");
    let (raw_check_p50, _) =
        measure(|| raw_replay(&ctx, &check_apdus, pcsc::Disposition::LeaveCard));
    let (confirm_p50, confirm_p99) = measure(|| {
        let pin = Pin::new("1234").expect("pin");
        service
            .confirm(Some(READER), pin, StaffConfirmation::NotGiven, b"challenge")
            .expect("confirm");
    });
    let (raw_confirm_p50, _) =
        measure(|| raw_replay(&ctx, &confirm_apdus, pcsc::Disposition::ResetCard));

    let overhead = |op: Duration, raw: Duration, n: usize| {
        (op.as_secs_f64() - raw.as_secs_f64()) * 1000.0 / n as f64
    };
    println!("\ncard operations over pcscd + vpcd ({RUNS} runs each)");
    println!(
        "{:<10} {:>6} {:>12} {:>12} {:>14} {:>20}",
        "operation", "APDUs", "median", "p99", "raw replay", "bridge overhead/APDU"
    );
    for (name, n, p50, p99, raw) in [
        ("check", check_apdus.len(), check_p50, check_p99, raw_check_p50),
        ("confirm", confirm_apdus.len(), confirm_p50, confirm_p99, raw_confirm_p50),
    ] {
        println!(
            "{name:<10} {n:>6} {:>9.2} ms {:>9.2} ms {:>11.2} ms {:>17.3} ms",
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0,
            raw.as_secs_f64() * 1000.0,
            overhead(p50, raw, n)
        );
    }
}
