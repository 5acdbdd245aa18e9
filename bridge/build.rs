//! Embeds a built frontend when `MADOGUCHI_EMBED_FRONTEND` names its directory
//! (`cargo xtask dist` does); otherwise the bridge serves `--frontend DIR` only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            files(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push((rel.to_string_lossy().replace('\\', "/"), path.clone()));
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=MADOGUCHI_EMBED_FRONTEND");
    let mut list = Vec::new();
    if let Some(dir) = std::env::var_os("MADOGUCHI_EMBED_FRONTEND") {
        let dir = PathBuf::from(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        files(&dir, &dir, &mut list);
        list.sort();
    }
    let mut code = String::from("/// Files of the embedded frontend (path, bytes).\npub static EMBEDDED: &[(&str, &[u8])] = &[\n");
    for (rel, path) in &list {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        let _ = writeln!(code, "    ({rel:?}, include_bytes!({:?})),", abs.display().to_string());
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = std::fs::write(out.join("embedded_frontend.rs"), code) {
        println!("cargo:warning=cannot write the embedded frontend list: {e}");
    }
}
