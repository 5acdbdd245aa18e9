//! `bridge card …`: list readers, check a card, read the basic items, confirm, and run the
//! virtual-card emulator.

use super::service::ReaderService;
use crate::cli::{CardArgs, CardCommand, Format, Outcome};
use crate::clock::today_jst;
use anyhow::{Context as _, Result};
use card::pin::{Pin, StaffConfirmation};
use eligibility::Date;
use std::io::{BufRead, Write};

fn date_arg(arg: &Option<String>) -> Result<Date> {
    match arg {
        Some(text) => Date::parse(text).context("--today"),
        None => Ok(today_jst()),
    }
}

fn read_pin(from_stdin: bool) -> Result<Pin> {
    let text = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        zeroize::Zeroizing::new(line)
    } else {
        zeroize::Zeroizing::new(
            rpassword::prompt_password("暗証番号 (PIN): ")
                .context("reading the PIN from the terminal")?,
        )
    };
    Ok(Pin::new(text.trim())?)
}

fn staff(confirmed: bool) -> StaffConfirmation {
    if confirmed {
        StaffConfirmation::LastTryConfirmed
    } else {
        StaffConfirmation::NotGiven
    }
}

fn print(
    out: &mut dyn Write,
    format: Format,
    value: &impl serde::Serialize,
    text: impl FnOnce() -> String,
) -> Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(value)?)?,
        Format::Text => writeln!(out, "{}", text())?,
    }
    Ok(())
}

pub fn run(args: &CardArgs, out: &mut dyn Write) -> Result<Outcome> {
    match &args.command {
        CardCommand::List { format } => {
            let readers = ReaderService::new().list()?;
            print(out, *format, &readers, || {
                readers
                    .iter()
                    .map(|r| {
                        format!(
                            "{}\t{}",
                            r.name,
                            if r.card_present {
                                "カードあり / card"
                            } else {
                                "カードなし / empty"
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
            Ok(Outcome::Done)
        }
        CardCommand::Check { reader, format, today } => {
            let policy = crate::policy_table::effective()?;
            let report =
                ReaderService::new().check(reader.as_deref(), &policy, date_arg(today)?)?;
            print(out, *format, &report, || format!("{report:#?}"))?;
            Ok(Outcome::Done)
        }
        CardCommand::ReadBasicInfo { reader, format, pin_from_stdin, staff_confirmed_last_try } => {
            let pin = read_pin(*pin_from_stdin)?;
            let info = ReaderService::new().read_basic_info(
                reader.as_deref(),
                pin,
                staff(*staff_confirmed_last_try),
            )?;
            print(out, *format, &info, || {
                format!("{}\n{}\n{}\n{:?}", info.name, info.address, info.birth, info.sex)
            })?;
            Ok(Outcome::Done)
        }
        CardCommand::Confirm { reader, challenge, pin_from_stdin, staff_confirmed_last_try } => {
            let pin = read_pin(*pin_from_stdin)?;
            let result = ReaderService::new().confirm(
                reader.as_deref(),
                pin,
                staff(*staff_confirmed_last_try),
                challenge.as_bytes(),
            )?;
            let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            let value = serde_json::json!({
                "holder": result.holder,
                "certificate": hex(&result.certificate),
                "signature": hex(&result.signature),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            Ok(Outcome::Done)
        }
        #[cfg(feature = "test-doubles")]
        CardCommand::Emulate { person, phone, port, host, state, today } => {
            emulate(person, *phone, *port, host, state, today, out)
        }
    }
}

/// `bridge card emulate`: the virtual card in pcscd through vpcd (test builds only).
#[cfg(feature = "test-doubles")]
fn emulate(
    person: &str,
    phone: Option<crate::cli::PhoneKind>,
    port: u16,
    host: &str,
    state: &Option<std::path::PathBuf>,
    today: &Option<String>,
    out: &mut dyn Write,
) -> Result<Outcome> {
    use super::emulator::{Control, Emulator};
    use crate::cli::PhoneKind;
    use anyhow::anyhow;
    use card::virtual_card::{TestPerson, TestPki, VirtualCard};
    use card::Holder;
    let base = TestPerson::find(person).ok_or_else(|| {
        let ids: Vec<_> = card::virtual_card::TEST_PERSONS.iter().map(|p| p.id).collect();
        anyhow!("unknown test person {person:?}; known: {}", ids.join(", "))
    })?;
    let mut person = *base;
    if let Some(phone) = phone {
        person.holder = match phone {
            PhoneKind::Android => Holder::AndroidPhone,
            PhoneKind::Iphone => Holder::IPhone,
        };
    }
    let pki = TestPki::new(date_arg(today)?)?;
    let card = VirtualCard::new(&pki, &person)?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            match line.parse::<Control>() {
                Ok(c) => {
                    if tx.send(c).is_err() {
                        break;
                    }
                }
                Err(e) => eprintln!("emulator: {e}"),
            }
        }
        // stdin closed: keep running until killed (a background emulator has no stdin).
        std::mem::forget(tx);
    });
    writeln!(out, "emulating {} ({:?}) on {host}:{port}", person.id, person.holder)?;
    out.flush()?;
    Emulator { card, address: format!("{host}:{port}"), state_file: state.clone() }.run(rx)?;
    Ok(Outcome::Done)
}
