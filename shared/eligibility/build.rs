//! Turns `policy.toml` into JSON once, at build time, so that the browser build reads the
//! embedded table with the JSON parser it already has (no TOML parser in the wasm).

fn main() {
    println!("cargo:rerun-if-changed=policy.toml");
    let text = std::fs::read_to_string("policy.toml").unwrap_or_default();
    let json = match toml::from_str::<toml::Value>(&text) {
        Ok(value) => serde_json::to_string(&value).unwrap_or_default(),
        // A broken table still builds; `Policy::embedded()` then reports the error.
        Err(e) => {
            println!("cargo:warning=policy.toml: {e}");
            String::from("{}")
        }
    };
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = std::fs::write(out.join("policy.json"), json) {
        println!("cargo:warning=cannot write policy.json: {e}");
    }
}
