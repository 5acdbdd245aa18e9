//! Staff sign-in for scenarios: Chromium's virtual authenticator (DevTools `WebAuthn`) and
//! enrolment on the sign-in screen with a code `bridge staff add` printed.

use crate::browser::Browser;
use serde_json::json;

/// The 8-digit enrolment code in what `bridge staff add` (or `enrol`) printed.
pub fn enrolment_code(printed: &str) -> Result<String, String> {
    printed
        .split_whitespace()
        .find(|w| w.len() == 8 && w.bytes().all(|b| b.is_ascii_digit()))
        .map(String::from)
        .ok_or_else(|| format!("no enrolment code in {printed:?}"))
}

/// A platform authenticator with user verification, answering by itself; returns its id.
pub async fn virtual_authenticator(b: &Browser) -> Result<String, String> {
    b.cdp("WebAuthn.enable", json!({ "enableUI": false })).await?;
    let added = b
        .cdp(
            "WebAuthn.addVirtualAuthenticator",
            json!({ "options": {
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                "hasUserVerification": true, "isUserVerified": true,
                "automaticPresenceSimulation": true } }),
        )
        .await?;
    added["authenticatorId"].as_str().map(String::from).ok_or_else(|| "no authenticatorId".into())
}

/// On the sign-in screen: enrols with `code` and waits until `name` is signed in.
pub async fn enrol(b: &Browser, code: &str, name: &str) -> Result<(), String> {
    b.type_into("enrol-code", code).await?;
    b.js("window.__errs = []; addEventListener('error', e => __errs.push(String(e.message))); addEventListener('unhandledrejection', e => __errs.push('rejection ' + String(e.reason)));").await?;
    b.click("enrol").await?;
    match b.wait_text("staff-name", name, 20).await {
        Ok(()) => Ok(()),
        Err(e) => {
            let page = b.js("return location.href + ' | ' + JSON.stringify(window.__errs || []) + ' | ' + document.body.innerText").await.unwrap_or_default();
            Err(format!(
                "{e} (the sign-in screen says {:?}; the page: {page})",
                b.text("sign-in-status").await
            ))
        }
    }
}
