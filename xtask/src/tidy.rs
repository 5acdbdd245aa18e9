//! Repository rules that rustc and clippy do not check:
//! - shared crates (`shared/*/src`) hold no `unwrap()` / `expect(` outside their test
//!   modules: they must not panic on input;
//! - library code holds no `println!` / `eprintln!` / `print!` / `dbg!`: output belongs
//!   to binaries (`bridge`, `xtask`) and tests.
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
    let mut problems = Vec::new();
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
    use super::violations;
    use std::path::Path;

    #[test]
    fn finds_what_it_should_and_ignores_tests_and_comments() {
        let text = "fn a() { x.unwrap(); }\n// y.unwrap()\nfn b() { println!(\"hi\"); }\n#[cfg(test)]\nmod tests { fn c() { z.unwrap(); } }\n";
        let found = violations(Path::new("f.rs"), text, true);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains(":1:") && found[1].contains(":3:"));
        assert_eq!(violations(Path::new("f.rs"), "fn a() { x.unwrap(); }", false).len(), 0);
    }
}
