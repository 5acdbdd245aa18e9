//! Repository rules that rustc and clippy do not check:
//! - shared crates (`shared/*/src`) hold no `unwrap()` / `expect(` outside their test
//!   modules: they must not panic on input;
//! - library code holds no `println!` / `eprintln!` / `print!` / `dbg!`: output belongs
//!   to binaries (`bridge`, `xtask`) and tests.
//!
//! - xtask builds with the Rust toolchain alone: no package in its normal or build
//!   dependency closure has a `links` key (a native library cargo must find before the
//!   setup step could install it; `pcsc-sys` did that once and a new machine could not run
//!   `cargo xtask test` at all).
//!
//! Convention the check relies on: a file's `#[cfg(test)]` module comes last, so
//! everything from the first `#[cfg(test)]` line on is test code.

use crate::root;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Library source trees: no printing. Shared ones: no unwrap/expect either.
const LIBRARY_SOURCES: &[(&str, bool)] = &[
    ("shared/eligibility/src", true),
    ("shared/fallback/src", true),
    ("shared/card/src", true),
    ("shared/oqs/src", true),
    ("shared/protocol/src", true),
    ("frontend/src", false),
    ("e2e/src", false),
];

pub fn check() -> Result<()> {
    let metadata = crate::output("cargo", &["metadata", "--format-version", "1", "--locked"])?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata)?;
    let mut problems = linked_chains(&metadata, "xtask")?;
    for (dir, no_panics) in LIBRARY_SOURCES {
        for file in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&file)?;
            problems.extend(violations(&file, &text, *no_panics));
        }
    }
    if problems.is_empty() {
        eprintln!("tidy: ok");
        return Ok(());
    }
    for p in &problems {
        eprintln!("{p}");
    }
    bail!("{} tidy violation(s)", problems.len());
}

/// Every package with a `links` key that `root` (a workspace package) reaches through
/// normal or build dependencies, on any platform, as the chain that pulls it in:
/// "xtask → e2e → pcsc → pcsc-sys (links pcsclite)".
fn linked_chains(metadata: &serde_json::Value, root: &str) -> Result<Vec<String>> {
    use std::collections::{HashMap, VecDeque};
    let packages: HashMap<&str, &serde_json::Value> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let nodes: HashMap<&str, &serde_json::Value> = metadata["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let Some(start) = packages
        .values()
        .find(|p| p["name"] == root && p["source"].is_null())
        .and_then(|p| p["id"].as_str())
    else {
        bail!("cargo metadata has no workspace package {root}");
    };
    let name =
        |id: &str| packages.get(id).and_then(|p| p["name"].as_str()).unwrap_or(id).to_string();
    // Breadth first, remembering who reached each package, to print the shortest chain.
    let mut parent: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    let mut seen = std::collections::HashSet::from([start]);
    let mut chains = Vec::new();
    while let Some(id) = queue.pop_front() {
        if let Some(links) = packages.get(id).and_then(|p| p["links"].as_str()) {
            let mut chain = vec![format!("{} (links {links})", name(id))];
            let mut at = id;
            while let Some(up) = parent.get(at) {
                chain.push(name(up));
                at = up;
            }
            chain.reverse();
            chains.push(format!(
                "{root} must build with the Rust toolchain alone, but links a system library: {}",
                chain.join(" → ")
            ));
        }
        let deps = nodes.get(id).and_then(|n| n["deps"].as_array()).into_iter().flatten();
        for dep in deps {
            let normal_or_build = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null() || k["kind"] == "build");
            let Some(dep_id) = dep["pkg"].as_str() else { continue };
            if normal_or_build && seen.insert(dep_id) {
                parent.insert(dep_id, id);
                queue.push_back(dep_id);
            }
        }
    }
    Ok(chains)
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn violations(file: &Path, text: &str, no_panics: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut banned = vec!["println!", "eprintln!", "print!(", "eprint!(", "dbg!("];
        if no_panics {
            banned.extend([".unwrap()", ".expect("]);
        }
        for b in banned {
            if code.contains(b) {
                out.push(format!("{}:{}: `{b}` in library code: {}", file.display(), i + 1, code));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{linked_chains, violations};
    use std::path::Path;

    /// A hand-made `cargo metadata` where xtask reaches a `links` package through a normal
    /// dependency, and another only through a dev-dependency (which does not count).
    #[test]
    fn a_links_crate_in_xtasks_graph_fails_with_its_chain() {
        let text = include_str!("../testdata/metadata-with-links.json");
        let metadata: serde_json::Value = serde_json::from_str(text).unwrap();
        let chains = linked_chains(&metadata, "xtask").unwrap();
        assert_eq!(
            chains,
            vec!["xtask must build with the Rust toolchain alone, but links a system library: xtask → e2e → pcsc → pcsc-sys (links pcsclite)"]
        );
        // The same graph without the e2e edge is clean.
        let mut metadata = metadata;
        let xtask_deps = metadata["resolve"]["nodes"][0]["deps"].as_array_mut().unwrap();
        xtask_deps.retain(|d| d["name"] != "e2e");
        assert_eq!(linked_chains(&metadata, "xtask").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn finds_what_it_should_and_ignores_tests_and_comments() {
        let text = "fn a() { x.unwrap(); }\n// y.unwrap()\nfn b() { println!(\"hi\"); }\n#[cfg(test)]\nmod tests { fn c() { z.unwrap(); } }\n";
        let found = violations(Path::new("f.rs"), text, true);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains(":1:") && found[1].contains(":3:"));
        assert_eq!(violations(Path::new("f.rs"), "fn a() { x.unwrap(); }", false).len(), 0);
    }
}
