//! The bridge's one reading of the system clock. Shared crates never read it (dates are
//! parameters); everything in the bridge that needs "now" asks here.

use eligibility::Date;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const JST_OFFSET: i64 = 9 * 3600;

/// Time since the Unix epoch (zero for a clock set before 1970).
fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    since_epoch().as_secs() as i64
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u128 {
    since_epoch().as_millis()
}

/// The calendar day and the seconds into it, `offset` seconds east of UTC.
fn day_and_seconds(offset: i64) -> (String, i64) {
    let secs = now_unix() + offset;
    let day =
        Date::from_day_number(secs.div_euclid(86_400)).map(|d| d.to_string()).unwrap_or_default();
    (day, secs.rem_euclid(86_400))
}

/// Today in Japan (UTC+9). A clock outside the years 1800–9999 reads as 1970-01-01.
pub fn today_jst() -> Date {
    let day = (now_unix() + JST_OFFSET).div_euclid(86_400);
    Date::from_day_number(day)
        .or_else(|| Date::from_day_number(0))
        .unwrap_or_else(|| unreachable!("1970-01-01 is a valid date"))
}

/// `YYYYMMDDhhmmss` in Japan, as the national system stamps its files.
pub fn jst_stamp() -> String {
    let (day, s) = day_and_seconds(JST_OFFSET);
    format!("{}{:02}{:02}{:02}", day.replace('-', ""), s / 3600, s % 3600 / 60, s % 60)
}

/// Now, RFC 3339 in UTC with milliseconds (the store's timestamps).
pub fn now_rfc3339() -> String {
    let (day, s) = day_and_seconds(0);
    format!(
        "{day}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60,
        since_epoch().subsec_millis()
    )
}

/// `HH:MM` in Japan of a UTC RFC 3339 timestamp written by [`now_rfc3339`].
pub fn jst_time_of_day(utc: &str) -> Option<String> {
    let hours: i64 = utc.get(11..13)?.parse().ok()?;
    let minutes = utc.get(14..16)?;
    minutes.parse::<u8>().ok()?;
    Some(format!("{:02}:{minutes}", (hours + 9) % 24))
}

/// The Japanese calendar day of a UTC RFC 3339 timestamp written by [`now_rfc3339`].
pub fn jst_day(utc: &str) -> Option<Date> {
    let date = Date::parse(utc.get(0..10)?).ok()?;
    let hour: i64 = utc.get(11..13)?.parse().ok()?;
    Date::from_day_number(date.day_number() + (hour + 9) / 24)
}

/// The UTC RFC 3339 bounds `[from, to)` of a day in Japan, as [`now_rfc3339`] writes them
/// (so a string comparison selects that day's rows).
pub fn jst_day_bounds(day: Date) -> (String, String) {
    let at = |n: i64| {
        let d = Date::from_day_number(n).map(|d| d.to_string()).unwrap_or_default();
        format!("{d}T15:00:00.000Z")
    };
    (at(day.day_number() - 1), at(day.day_number()))
}

/// `YYYY-MM-DD HH:MM` in Japan, `minutes` from now (a code's "valid until" for people).
pub fn now_jst_minutes_after(minutes: u32) -> String {
    let secs = now_unix() + JST_OFFSET + i64::from(minutes) * 60;
    let day =
        Date::from_day_number(secs.div_euclid(86_400)).map(|d| d.to_string()).unwrap_or_default();
    let s = secs.rem_euclid(86_400);
    format!("{day} {:02}:{:02}", s / 3600, s % 3600 / 60)
}

/// Minutes after midnight in Japan.
pub fn jst_minutes() -> u32 {
    (day_and_seconds(JST_OFFSET).1 / 60) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_agree() {
        assert_eq!(jst_day("2026-11-25T14:59:59.000Z"), Date::parse("2026-11-25").ok());
        assert_eq!(jst_day("2026-11-25T15:00:00.000Z"), Date::parse("2026-11-26").ok());
        assert_eq!(jst_stamp().len(), 14);
        assert_eq!(jst_day(&now_rfc3339()), Some(today_jst()));
        // A JST day runs from 15:00 UTC the day before; the first of a month too.
        let (from, to) =
            jst_day_bounds(Date::parse("2026-12-01").unwrap_or_else(|_| unreachable!()));
        assert_eq!(
            (from.as_str(), to.as_str()),
            ("2026-11-30T15:00:00.000Z", "2026-12-01T15:00:00.000Z")
        );
        assert_eq!(jst_day(&from), Date::parse("2026-12-01").ok());
        assert_eq!(jst_day("2026-12-01T14:59:59.999Z"), Date::parse("2026-12-01").ok());
    }
}
