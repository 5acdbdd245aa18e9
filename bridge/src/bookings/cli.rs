//! `bridge bookings …`, `bridge bulk …` and `bridge patients …`: the operator's side of
//! bookings, the evening's 一括照会 and 照会番号 registration.

use crate::cli::{BookingsCommand, BulkCommand, Format, Outcome, PatientsCommand};
use crate::gateway::bulk::{self, BulkConfig, BulkPeer};
use crate::gateway::sim::Sim;
use crate::server::cli::{data_dir, open_store};
use anyhow::{Context as _, Result};
use eligibility::Date;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

fn day(text: &str) -> Result<Date> {
    Date::parse(text).ok().context("--date YYYY-MM-DD")
}

pub fn bookings(
    data: &Option<PathBuf>,
    command: &BookingsCommand,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let store = open_store(&data_dir(data))?;
    match command {
        BookingsCommand::Import { file } => {
            let bytes = std::fs::read(file).with_context(|| {
                format!("{} を読めません / cannot read the file", file.display())
            })?;
            let parsed = super::parse(&bytes)?;
            let new = store.import_bookings(&parsed.bookings)?;
            for e in &parsed.errors {
                writeln!(out, "{} 行目 / line {}: {}", e.line, e.line, e.reason)?;
            }
            writeln!(
                out,
                "取り込み {} 件（新規 {new} 件）、エラー {} 件 / imported {} ({new} new), {} rows refused",
                parsed.bookings.len(),
                parsed.errors.len(),
                parsed.bookings.len(),
                parsed.errors.len()
            )?;
            store.audit(
                "operator",
                "bookings_import",
                &format!("{} rows", parsed.bookings.len()),
            )?;
            Ok(if parsed.errors.is_empty() { Outcome::Done } else { Outcome::BadInput })
        }
        BookingsCommand::List { date, format } => {
            let list = store.bookings_on(day(date)?)?;
            match format {
                Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?,
                Format::Text => {
                    for b in &list {
                        let state = b
                            .pre_confirmation
                            .as_ref()
                            .map_or("未照会 / not yet", |p| p.state.label());
                        writeln!(
                            out,
                            "{} {} {} {}",
                            b.booking.time.as_deref().unwrap_or("--:--"),
                            b.booking.patient_id,
                            b.booking.name.as_deref().or(b.booking.kana.as_deref()).unwrap_or(""),
                            state
                        )?;
                    }
                }
            }
            Ok(Outcome::Done)
        }
    }
}

pub fn bulk(data: &Option<PathBuf>, command: &BulkCommand, out: &mut dyn Write) -> Result<Outcome> {
    let dir = data_dir(data);
    let store = open_store(&dir)?;
    match command {
        BulkCommand::Status { date } => {
            writeln!(out, "{}", serde_json::to_string_pretty(&store.bulk_run(day(date)?)?)?)?;
            Ok(Outcome::Done)
        }
        BulkCommand::Run { date, folder, institution_code, poll_ms, timeout_secs, max_polls } => {
            let date = match date {
                Some(d) => day(d)?,
                None => Date::from_day_number(crate::clock::today_jst().day_number() + 1)
                    .context("tomorrow")?,
            };
            institution(institution_code)?;
            let peer = match folder {
                Some(f) => BulkPeer::Folder(f.clone()),
                None => BulkPeer::Sim(std::sync::Arc::new(Sim::new(date))),
            };
            let config = BulkConfig {
                medical_institution_code: institution_code.clone(),
                poll: Duration::from_millis(*poll_ms),
                answer_timeout: Duration::from_secs(*timeout_secs),
                max_polls: *max_polls,
                archive: dir.join("bulk"),
            };
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let summary = runtime.block_on(bulk::run(&store, &peer, &config, date))?;
            store.audit("operator", "bulk_run", &format!("{date}: {} stored", summary.stored))?;
            writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
            Ok(Outcome::Done)
        }
    }
}

fn institution(code: &str) -> Result<()> {
    if code.len() != 10 || !code.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!(
            "--institution-code は10桁の医療機関コードです / --institution-code must be 10 digits"
        );
    }
    Ok(())
}

pub fn patients(
    data: &Option<PathBuf>,
    command: &PatientsCommand,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let dir = data_dir(data);
    let store = open_store(&dir)?;
    let PatientsCommand::RegisterIds { date, folder, institution_code, timeout_secs } = command;
    institution(institution_code)?;
    let date = match date {
        Some(d) => day(d)?,
        None => crate::clock::today_jst(),
    };
    let peer = match folder {
        Some(f) => BulkPeer::Folder(f.clone()),
        None => BulkPeer::Sim(std::sync::Arc::new(Sim::new(crate::clock::today_jst()))),
    };
    let config = BulkConfig {
        medical_institution_code: institution_code.clone(),
        poll: Duration::from_millis(200),
        answer_timeout: Duration::from_secs(*timeout_secs),
        max_polls: 0,
        archive: dir.join("bulk"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let summary =
        runtime.block_on(crate::gateway::register::register(&store, &peer, &config, date))?;
    store.audit(
        "operator",
        "register_reference_ids",
        &format!("{date}: {} registered", summary.registered),
    )?;
    writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
    Ok(if summary.failed.is_empty() { Outcome::Done } else { Outcome::BadInput })
}
