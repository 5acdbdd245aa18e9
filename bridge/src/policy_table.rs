//! The policy table the whole clinic decides by. `bridge serve --policy FILE` (or `policy`
//! in `bridge.toml`) applies an override to the embedded table once, at start; every
//! decision the bridge makes — readings of answers, follow-ups, card checks, reports —
//! and every paired terminal (`GET|POST /api/policy`) then use that one table. Without an
//! override it is the embedded table.

use anyhow::{Context as _, Result};
use eligibility::Policy;
use std::path::Path;
use std::sync::OnceLock;

/// Where the table in force comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Source {
    Embedded,
    /// The override file (its name; the path may name a user's folder).
    Override {
        file: String,
    },
}

static EFFECTIVE: OnceLock<(Policy, Source)> = OnceLock::new();

/// The embedded table, with the override in `path` applied when there is one.
pub fn load(path: Option<&Path>) -> Result<(Policy, Source)> {
    let embedded = Policy::embedded().context("the embedded policy table is invalid")?;
    let Some(path) = path else { return Ok((embedded, Source::Embedded)) };
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("ポリシーファイル {} を読めません / cannot read the policy file", path.display())
    })?;
    let policy = embedded.with_override(&text).with_context(|| {
        format!("ポリシーファイル {} を使えません / the policy file is not valid", path.display())
    })?;
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok((policy, Source::Override { file }))
}

/// Makes `policy` the clinic's table for this process (once; `serve` calls it at start).
pub fn install(policy: Policy, source: Source) {
    let _ = EFFECTIVE.set((policy, source));
}

/// The table in force: the installed one, else the embedded one.
pub fn effective() -> Result<Policy, eligibility::PolicyError> {
    match EFFECTIVE.get() {
        Some((policy, _)) => Ok(policy.clone()),
        None => Policy::embedded(),
    }
}

/// Where the table in force comes from.
pub fn source() -> Source {
    EFFECTIVE.get().map(|(_, s)| s.clone()).unwrap_or(Source::Embedded)
}

/// What a terminal fetches: the table, where it comes from, and a digest that changes
/// with its content (the terminal caches it by that).
pub fn for_terminals() -> Result<protocol::PolicyTable, eligibility::PolicyError> {
    let policy = effective()?;
    let table = serde_json::to_string(&policy).unwrap_or_default();
    let digest = crate::store::sha256_hex(table.as_bytes());
    Ok(protocol::PolicyTable {
        source: match source() {
            Source::Embedded => "embedded".into(),
            Source::Override { file } => format!("override:{file}"),
        },
        version: policy.version,
        reviewed: policy.reviewed.map(|d| d.to_string()),
        digest,
        table,
    })
}
