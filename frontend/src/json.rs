//! One path for every typed value the terminal reads or writes as JSON text (IndexedDB
//! rows, HTTP bodies): through `serde_json::Value`. Each type's serde code is then built
//! once, for `Value`, instead of once per text reader and writer — the wasm budget.

use serde::{de::DeserializeOwned, Serialize};

pub fn to_text<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_value(value)?.to_string())
}

pub fn from_text<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::from_str::<serde_json::Value>(text)?)
}
