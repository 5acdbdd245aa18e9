//! Framing overhead of the WebUSB reader stack against the simulated RC-S380 with the
//! virtual card: APDUs, RF frames (ISO-DEP blocks incl. activation, chaining, S(WTX)) and
//! bytes on the USB wire for `check` and `confirm`, and the time the stack itself takes
//! (no radio: the simulator answers at once). Run with `cargo xtask bench`.

use card::ops::{check, confirm};
use card::pin::{Pin, StaffConfirmation};
use card::reader::isodep::IsoDep;
use card::reader::port100::Port100;
use card::reader::rcs300::RcS300;
use card::reader::sim::{SimPicc, SimPort100, SimRcS300};
use card::reader::Rf;
use card::transport::Counting;
use card::virtual_card::{TestPerson, TestPki, VirtualCard};
use eligibility::{Date, Policy};
use std::time::{Duration, Instant};

/// Runs `op` over an activated card; returns (APDUs, RF frames, USB bytes).
async fn run<R: Rf>(
    dep: IsoDep<R>,
    op: &str,
    policy: &Policy,
    today: Date,
) -> Result<(usize, usize, usize), String> {
    let mut counting = Counting::new(dep);
    match op {
        "check" => {
            check(&mut counting, policy, today).await.map(|_| ()).map_err(|e| e.to_string())?
        }
        _ => confirm(
            &mut counting,
            Pin::new("1234").map_err(|e| e.to_string())?,
            StaffConfirmation::NotGiven,
            b"bench",
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())?,
    }
    let rf = counting.inner.rf();
    Ok((counting.commands, rf.frames(), rf.wire_bytes()))
}

fn main() {
    let today = Date::parse("2026-11-25").expect("date");
    let pki = TestPki::new(today).expect("pki");
    let policy = Policy::embedded().expect("policy");
    let person = TestPerson::find("yamada").expect("person");
    println!("\nWebUSB reader stack (ISO-DEP Type B over each driver, simulated reader, card FSC 32 bytes):");
    println!(
        "{:<8} {:<10} {:>6} {:>10} {:>14} {:>12}",
        "reader", "operation", "APDUs", "RF frames", "USB bytes", "median"
    );
    let runs = [
        ("RC-S380", "check"),
        ("RC-S380", "confirm"),
        ("RC-S300", "check"),
        ("RC-S300", "confirm"),
    ];
    for (driver, op) in runs {
        let mut times = Vec::new();
        let mut figures = (0, 0, 0);
        for _ in 0..30 {
            let card = VirtualCard::new(&pki, person).expect("card");
            let start = Instant::now();
            let result = pollster::block_on(async {
                if driver == "RC-S380" {
                    let mut reader = Port100::new(SimPort100::new(Some(SimPicc::new(card))));
                    reader.init().await.map_err(|e| e.to_string())?;
                    run(
                        IsoDep::activate(reader).await.map_err(|e| e.to_string())?,
                        op,
                        &policy,
                        today,
                    )
                    .await
                } else {
                    let reader = RcS300::new(SimRcS300::new(Some(SimPicc::new(card))));
                    run(
                        IsoDep::activate(reader).await.map_err(|e| e.to_string())?,
                        op,
                        &policy,
                        today,
                    )
                    .await
                }
            });
            times.push(start.elapsed());
            figures = result.expect("operation");
        }
        times.sort();
        let median: Duration = times[times.len() / 2];
        println!(
            "{driver:<8} {op:<10} {:>6} {:>10} {:>14} {:>9.2} ms",
            figures.0,
            figures.1,
            figures.2,
            median.as_secs_f64() * 1000.0
        );
    }
}
