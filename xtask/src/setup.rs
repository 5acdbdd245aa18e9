//! Installs what a fresh machine of this kind lacks, and nothing that is already there.
//! Later tiers add their requirements here (Debian packages, pinned cargo tools).

use crate::{output, run};
use anyhow::Result;

/// rustup targets every tier needs.
const TARGETS: &[&str] = &["wasm32-unknown-unknown"];
/// rustup components the checks need.
const COMPONENTS: &[&str] = &["rustfmt", "clippy"];

pub fn ensure() -> Result<()> {
    let installed_targets = output("rustup", &["target", "list", "--installed"])?;
    for target in TARGETS {
        if installed_targets.lines().any(|l| l.trim() == *target) {
            eprintln!("rustup target {target}: present");
        } else {
            run("rustup", &["target", "add", target])?;
        }
    }
    let installed_components = output("rustup", &["component", "list", "--installed"])?;
    for component in COMPONENTS {
        if installed_components.lines().any(|l| l.starts_with(&format!("{component}-"))) {
            eprintln!("rustup component {component}: present");
        } else {
            run("rustup", &["component", "add", component])?;
        }
    }
    Ok(())
}
