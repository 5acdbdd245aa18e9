//! `bridge rules …`: a thin shell over `eligibility` and `fallback`. Reads files and
//! stdin, writes stdout; every rule lives in the shared crates.

use crate::cli::{Format, Outcome, RulesArgs, RulesCommand, TreeFormat};
use anyhow::{anyhow, Context as _, Result};
use eligibility::{copay, CopayFields, Date, InsurerNumber, Policy};
use fallback::{DecideRequest, Tree};
use serde_json::json;
use std::io::{Read, Write};

fn load_policy(args: &RulesArgs) -> Result<Policy> {
    Ok(crate::policy_table::load(args.policy.as_deref())?.0)
}

pub fn run(args: &RulesArgs, stdin: &mut dyn Read, out: &mut dyn Write) -> Result<Outcome> {
    let policy = load_policy(args)?;
    match &args.command {
        RulesCommand::CheckInsurer { number, format } => check_insurer(number, *format, out),
        RulesCommand::Copay {
            birth,
            visit,
            insured_partial_contribution_ratio,
            elderly_recipient_contribution_ratio,
            preschool_classification,
            online_answer,
            format,
        } => {
            let birth = Date::parse(birth).context("--birth")?;
            let visit = Date::parse(visit).context("--visit")?;
            let fields = CopayFields {
                insured_partial_contribution_ratio: insured_partial_contribution_ratio.clone(),
                elderly_recipient_contribution_ratio: elderly_recipient_contribution_ratio.clone(),
                preschool_classification: preschool_classification.clone(),
            };
            let answered = *online_answer || fields != CopayFields::default();
            let result = copay(&policy, birth, visit, answered.then_some(&fields))?;
            match format {
                Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?,
                Format::Text => {
                    let (ja, en) = result.summary();
                    writeln!(out, "{ja}\n{en}")?;
                    if let eligibility::copay::Basis::Estimated { reasons } = &result.basis {
                        for reason in reasons {
                            let (ja, en) = reason.text();
                            writeln!(out, "  - {ja} / {en}")?;
                        }
                    }
                }
            }
            Ok(Outcome::Done)
        }
        RulesCommand::Decide => {
            let mut input = String::new();
            stdin.read_to_string(&mut input).context("stdin")?;
            let request: DecideRequest = serde_json::from_str(&input)
                .map_err(|e| anyhow!("入力 JSON が不正です / invalid decide request: {e}"))?;
            let decision = Tree::official().decide(
                &policy,
                &request.context,
                &request.answers,
                request.root,
            )?;
            // The decision, with the confidence of the policy rows it rests on when they are
            // not official ("reported", "inferred").
            let mut value = serde_json::to_value(&decision)?;
            let path = match &decision {
                fallback::Decision::Done { path, .. } | fallback::Decision::Ask { path, .. } => {
                    path
                }
            };
            let caveats = fallback::caveats(&policy, &request.context, path);
            if let Some(object) = value.as_object_mut() {
                object.insert("rests_on_unconfirmed_rules".into(), serde_json::to_value(caveats)?);
            }
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            Ok(Outcome::Done)
        }
        RulesCommand::Tree { format } => {
            let tree = Tree::official();
            match format {
                TreeFormat::Mermaid => write!(out, "{}", tree.to_mermaid())?,
                TreeFormat::Json => writeln!(out, "{}", tree.to_json())?,
            }
            Ok(Outcome::Done)
        }
        RulesCommand::Policy => {
            writeln!(out, "{}", serde_json::to_string_pretty(&policy)?)?;
            Ok(Outcome::Done)
        }
    }
}

fn check_insurer(number: &str, format: Format, out: &mut dyn Write) -> Result<Outcome> {
    let parsed = InsurerNumber::parse(number);
    match (&parsed, format) {
        (Ok(n), Format::Text) => {
            let (ja, en) = n.describe();
            writeln!(out, "有効 / valid: {n}\n{ja}\n{en}")?;
        }
        (Err(e), Format::Text) => writeln!(out, "無効 / invalid: {e}")?,
        (Ok(n), Format::Json) => {
            let (ja, en) = n.describe();
            let value = json!({
                "valid": true,
                "number": n.as_str(),
                "eight_char_form": n.eight_char_form(),
                "kind": n.kind(),
                "houbetsu": n.houbetsu(),
                "prefecture": n.prefecture(),
                "meaning": { "ja": ja, "en": en },
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        (Err(e), Format::Json) => {
            let value = json!({ "valid": false, "error": e, "message": e.to_string() });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
    }
    Ok(if parsed.is_ok() { Outcome::Done } else { Outcome::RuleSaysNo })
}
