//! UUIDv7 from `crypto.getRandomValues` and the clock: time-ordered ids for records and
//! ops, made once and never changed across retries.

/// A UUIDv7 string; `None` only when the page has no `crypto` (never in a browser).
pub fn uuid_v7() -> String {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    let ms = js_sys::Date::now() as u64;
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// Now as RFC 3339 in the terminal's clock (UTC, with milliseconds).
pub fn now_rfc3339() -> String {
    js_sys::Date::new_0().to_iso_string().as_string().unwrap_or_default()
}

/// Today in Japan (UTC+9), whatever the terminal's time zone (`None` only for a clock
/// outside 1800–9999).
pub fn today_jst() -> Option<eligibility::Date> {
    let ms = js_sys::Date::now() + 9.0 * 3_600_000.0;
    eligibility::Date::from_day_number((ms / 86_400_000.0).floor() as i64)
}

/// `HH:MM` in Japan for an RFC 3339 time (empty when it does not parse).
pub fn jst_hhmm(rfc3339: &str) -> String {
    let ms = js_sys::Date::parse(rfc3339);
    if ms.is_nan() {
        return String::new();
    }
    let minutes = ((ms / 60_000.0).floor() as i64 + 9 * 60).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The day in Japan of an RFC 3339 time.
pub fn jst_date(rfc3339: &str) -> Option<eligibility::Date> {
    let ms = js_sys::Date::parse(rfc3339);
    if ms.is_nan() {
        return None;
    }
    eligibility::Date::from_day_number(((ms + 9.0 * 3_600_000.0) / 86_400_000.0).floor() as i64)
}

/// `x` with one decimal (`12.3`), by integers: core's float formatting is ~11 KB of wasm.
pub fn tenths(x: f64) -> String {
    let t = (x * 10.0).round() as i64;
    let sign = if t < 0 { "-" } else { "" };
    format!("{sign}{}.{}", t.unsigned_abs() / 10, t.unsigned_abs() % 10)
}

/// `x` rounded to a whole number (`12`), by integers.
pub fn whole(x: f64) -> String {
    (x.round() as i64).to_string()
}
