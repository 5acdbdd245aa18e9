//! `bridge oqs …`: parse a file, query the national system (simulated or through the
//! folder), run the folder peer, and tap a simulated card.

use super::folder::{FolderConfig, FolderGateway};
use super::sim::{Faults, Sim};
use super::{peer, Gateway, NumberQuery};
use crate::cli::{OqsArgs, OqsCommand, Outcome};
use crate::clock::today_jst;
use anyhow::{anyhow, Context as _, Result};
use eligibility::Date;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

fn visit_arg(visit: &Option<String>) -> Result<Date> {
    visit.as_deref().map(|v| Date::parse(v).context("--visit")).unwrap_or_else(|| Ok(today_jst()))
}

pub fn run(args: &OqsArgs, out: &mut dyn Write) -> Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match &args.command {
        OqsCommand::Parse { file, visit } => {
            let bytes = std::fs::read(file).with_context(|| format!("{}", file.display()))?;
            let answer =
                oqs::parse_answer(&bytes).map_err(|e| anyhow!("{}: {e}", file.display()))?;
            let value = super::reading(&answer, visit_arg(visit)?);
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            Ok(Outcome::Done)
        }
        OqsCommand::Query {
            insurer,
            symbol,
            number,
            branch,
            birth,
            visit,
            folder,
            timeout_secs,
        } => {
            let wire = protocol::LookupQuery {
                insurer: insurer.clone(),
                symbol: symbol.clone(),
                number: number.clone(),
                branch: branch.clone(),
                birth: birth.clone(),
                visit: None,
                limit_consent: false,
            };
            let query = NumberQuery::from_wire(&wire, visit_arg(visit)?)?;
            let answer = runtime.block_on(async {
                match folder {
                    Some(folder) => {
                        let mut config = FolderConfig::new(folder);
                        config.timeout = Duration::from_secs(*timeout_secs);
                        FolderGateway::start(config)?.lookup(&query).await
                    }
                    None => {
                        let request = query.to_request("1312345678", "cli");
                        Sim::new(query.visit)
                            .answer_request(&request, &format!("{}000000", query.visit.compact()))
                    }
                }
            })?;
            let value = super::reading(&answer, query.visit);
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            Ok(Outcome::Done)
        }
        OqsCommand::Sim { folder, latency_ms, error_rate, outage } => {
            let faults = Faults {
                latency_ms: *latency_ms,
                error_rate: *error_rate,
                outage: *outage,
                ..Faults::default()
            };
            peer::prepare(folder)?;
            peer::set_faults(folder, &faults)?;
            writeln!(
                out,
                "answering {} as the 連携アプリケーション (faults: {})",
                folder.display(),
                peer::faults_file(folder).display()
            )?;
            out.flush()?;
            let sim = Arc::new(Sim::new(today_jst()));
            runtime.block_on(peer::run(folder.clone(), sim, async {
                let _ = tokio::signal::ctrl_c().await;
            }))?;
            Ok(Outcome::Done)
        }
        OqsCommand::Numbers { person, visit } => {
            let visit = visit_arg(visit)?;
            let sim = Sim::new(visit);
            let found = sim.person(person);
            let query = found
                .and_then(|p| p.query(visit))
                .ok_or_else(|| anyhow!("no simulated person {person:?} with document numbers"))?;
            // With the kana the booking system would hold (training and tests book with it).
            let mut wire = serde_json::to_value(query.to_wire())?;
            if let (Some(object), Some(p)) = (wire.as_object_mut(), found) {
                object.insert("kana".into(), p.kana.clone().into());
            }
            writeln!(out, "{wire}")?;
            Ok(Outcome::Done)
        }
        OqsCommand::Tap { folder, person, visit } => {
            let visit = visit_arg(visit)?;
            let name =
                peer::tap(folder, &Sim::new(visit), person, visit).map_err(|e| anyhow!(e))?;
            writeln!(out, "{name}")?;
            Ok(Outcome::Done)
        }
    }
}
