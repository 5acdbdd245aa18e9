//! `cargo xtask dist`: the bridge as a clinic installs it — release builds for Linux and
//! for the 資格確認端末 (`bridge.exe`, x86_64-pc-windows-gnu) with `--no-default-features`,
//! so that no test double ships — and a check of the binaries: none of the committed test
//! JPKI keys may be inside.

use crate::{root, run, step, target_dir};
use anyhow::{bail, Context, Result};

/// Release builds into `target/dist/`, each checked for the test keys.
pub fn dist() -> Result<()> {
    let target = target_dir();
    let out = target.join("dist");
    std::fs::create_dir_all(&out)?;
    let keys = test_keys()?;
    let builds: [(&str, Option<&str>, &str); 2] = [
        ("bridge (native, release, no test doubles)", None, "bridge"),
        (
            "bridge.exe (x86_64-pc-windows-gnu, release, no test doubles)",
            Some("x86_64-pc-windows-gnu"),
            "bridge.exe",
        ),
    ];
    for (name, triple, file) in builds {
        step(name, || {
            let mut args =
                vec!["build", "--locked", "--release", "-p", "bridge", "--no-default-features"];
            if let Some(triple) = triple {
                args.extend(["--target", triple]);
            }
            // RUSTSEC-2023-0071 (rsa, timing of private-key operations): the test CA signs
            // with RSA and must not ship. The one RSA allowed is the passkeys' (webauthn-rs's
            // crypto layer verifies RS256 signatures — Windows Hello's — with public keys
            // only), reached through `crypto-glue` and nothing else.
            let mut tree = vec!["tree", "--locked", "-p", "bridge", "--no-default-features"];
            tree.extend(["-e", "normal", "--prefix", "none", "--target"]);
            tree.push(triple.unwrap_or("all"));
            let graph = crate::output("cargo", &tree)?;
            for line in graph.lines().filter(|l| l.starts_with("rsa ")) {
                let version = line.split_whitespace().nth(1).unwrap_or("").trim_start_matches('v');
                let spec = format!("rsa@{version}");
                let mut inverse = tree.clone();
                inverse.extend(["-i", &spec, "--depth", "1"]);
                let dependents = crate::output("cargo", &inverse)?;
                let others: Vec<&str> = dependents
                    .lines()
                    .skip(1)
                    .filter(|l| !l.trim().is_empty() && !l.starts_with("crypto-glue "))
                    .collect();
                if !others.is_empty() {
                    bail!(
                        "the release bridge's dependency graph holds {line} through {}",
                        others.join(", ")
                    );
                }
            }
            run("cargo", &args)?;
            let built = match triple {
                Some(triple) => target.join(triple).join("release").join(file),
                None => target.join("release").join(file),
            };
            let shipped = out.join(file);
            std::fs::copy(&built, &shipped)
                .with_context(|| format!("cannot copy {}", built.display()))?;
            let bytes = std::fs::read(&shipped)?;
            let found = keys_inside(&bytes, &keys);
            if !found.is_empty() {
                bail!("{} carries test keys: {}", shipped.display(), found.join(", "));
            }
            eprintln!(
                "{}: {} bytes, none of the {} test keys inside",
                shipped.display(),
                bytes.len(),
                keys.len()
            );
            Ok(())
        })?;
    }
    println!("{}", out.display());
    Ok(())
}

/// The committed test JPKI keys (`shared/card/testdata/keys/*.der`): name and bytes.
fn test_keys() -> Result<Vec<(String, Vec<u8>)>> {
    let dir = root().join("shared/card/testdata/keys");
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "der") {
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            keys.push((name, std::fs::read(&path)?));
        }
    }
    if keys.is_empty() {
        bail!("no test keys under {}", dir.display());
    }
    keys.sort();
    Ok(keys)
}

/// The names of the keys any 48-byte window of which occurs in `binary` (a key can be
/// embedded whole, or only its modulus and exponents can survive in a table).
fn keys_inside(binary: &[u8], keys: &[(String, Vec<u8>)]) -> Vec<String> {
    const WINDOW: usize = 48;
    keys.iter()
        .filter(|(_, key)| {
            key.chunks(WINDOW)
                .filter(|w| w.len() == WINDOW)
                .any(|w| binary.windows(WINDOW).any(|b| b == w))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::keys_inside;

    #[test]
    fn finds_a_test_key_inside_a_binary_and_nothing_in_a_clean_one() {
        let keys = super::test_keys().unwrap();
        assert_eq!(keys.len(), 5, "the committed key pool");
        let mut binary = vec![0x90u8; 10_000];
        assert!(keys_inside(&binary, &keys).is_empty());
        // Part of one key (its second half) placed in the middle of the "binary".
        let (name, key) = &keys[2];
        binary.splice(5_000..5_000, key[key.len() / 2..].iter().copied());
        assert_eq!(keys_inside(&binary, &keys), vec![name.clone()]);
    }
}
