//! Installs what a fresh machine of this kind lacks, and nothing that is already there.
//! Later tiers add their requirements here (Debian packages, pinned cargo tools).

use crate::{output, run};
use anyhow::Result;

/// rustup targets every tier needs.
/// wasm32 for the browser; the Windows target because the 資格確認端末 is a Windows PC.
const TARGETS: &[&str] = &["wasm32-unknown-unknown", "x86_64-pc-windows-gnu"];
/// rustup components the checks need.
const COMPONENTS: &[&str] = &["rustfmt", "clippy"];
/// Debian packages: the PC/SC library to link against, the real PC/SC stack with the
/// vsmartcard virtual reader for the card tests, and MinGW for the Windows bridge.
/// Chromium and its driver for the browser tests, and a Japanese font so screenshots
/// show text rather than boxes. The openssl binary reads the bridge's certificates back in
/// the TLS tests (what a clinic's tools would see). `ip` builds the tablet's network
/// namespaces and veth link; `certutil` puts the bridge's CA in that Chromium's NSS store.
const DEBIAN: &[&str] = &[
    "openssl",
    "iproute2",
    "libnss3-tools",
    "pkg-config",
    "libpcsclite-dev",
    "pcscd",
    "vsmartcard-vpcd",
    "gcc-mingw-w64-x86-64",
    "chromium",
    "chromium-driver",
    "fonts-ipafont-gothic",
    // OpenSC: an independent JPKI client binds to the virtual card (bridge/tests/pcsc.rs).
    "opensc",
    // Chinese and Hangul for the guidance display's five languages (1.6 MB).
    "fonts-wqy-microhei",
];

/// Cargo tools pinned to the versions that build offline here (see
/// ../shared/reference/toolchain.md): (crate, version, binary, what `--version` prints).
/// wasm-bindgen-cli must equal the `wasm-bindgen` crate in Cargo.lock exactly.
const CARGO_TOOLS: &[(&str, &str, &str, &str)] = &[
    ("trunk", "0.21.14", "trunk", "trunk 0.21.14"),
    ("wasm-bindgen-cli", "0.2.129", "wasm-bindgen", "wasm-bindgen 0.2.129"),
];

/// The npm-installed tools (wasm-opt 132: Debian's binaryen breaks the output).
pub fn npm_bin() -> std::path::PathBuf {
    crate::root().join("tools/npm/node_modules/.bin")
}

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
    ensure_debian_packages(DEBIAN)?;
    for (krate, version, binary, expected) in CARGO_TOOLS {
        let found = output(binary, &["--version"]).unwrap_or_default();
        if found.trim() == *expected {
            eprintln!("{binary}: {expected}");
        } else {
            run("cargo", &["install", "--locked", krate, "--version", version])?;
        }
    }
    let wasm_opt = npm_bin().join("wasm-opt");
    let found = output(wasm_opt.to_str().unwrap_or("wasm-opt"), &["--version"]).unwrap_or_default();
    // Lighthouse (the bench's accessibility scores) came with the same package lock.
    if found.contains("version_132") && npm_bin().join("lighthouse").exists() {
        eprintln!("wasm-opt: {}", found.trim());
    } else {
        run("npm", &["ci", "--prefix", "tools/npm", "--no-audit", "--no-fund"])?;
    }
    // Trunk finds wasm-opt on PATH; it must never try to download.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![npm_bin()];
    paths.extend(std::env::split_paths(&path));
    std::env::set_var("PATH", std::env::join_paths(paths)?);
    std::env::set_var("TRUNK_SKIP_VERSION_CHECK", "true");
    Ok(())
}

fn installed(package: &str) -> bool {
    output("dpkg-query", &["-W", "-f=${Status}", package])
        .is_ok_and(|s| s.contains("install ok installed"))
}

fn ensure_debian_packages(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        eprintln!("Debian packages {}: present", packages.join(", "));
        return Ok(());
    }
    // Root runs apt-get directly; anyone else goes through sudo.
    let is_root = output("id", &["-u"]).is_ok_and(|s| s.trim() == "0");
    let apt = |args: &[&str]| -> Result<()> {
        if is_root {
            run("apt-get", args)
        } else {
            let mut with = vec!["apt-get"];
            with.extend_from_slice(args);
            run("sudo", &with)
        }
    };
    std::env::set_var("DEBIAN_FRONTEND", "noninteractive");
    apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(missing.iter().copied());
    apt(&args)
}
