//! A civil calendar date, without time zone or clock.
//!
//! The shared crates never read a clock: every rule takes the date it is about as a
//! parameter. This type holds only valid dates, so date arithmetic below cannot fail.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A valid proleptic Gregorian date between the years 1800 and 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("日付は YYYYMMDD か YYYY-MM-DD で入力してください / a date is written YYYYMMDD or YYYY-MM-DD (got {0:?})")]
    Format(String),
    #[error(
        "{year}年{month}月{day}日 は存在しない日付です / {year}-{month:02}-{day:02} does not exist"
    )]
    NoSuchDay { year: u32, month: u32, day: u32 },
    #[error("年は 1800〜9999 の範囲で入力してください / the year must be between 1800 and 9999 (got {0})")]
    YearOutOfRange(u32),
}

const MIN_YEAR: u32 = 1800;
const MAX_YEAR: u32 = 9999;

pub(crate) fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

impl Date {
    /// Builds a date, checking the calendar.
    pub fn new(year: u32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(DateError::YearOutOfRange(year));
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::NoSuchDay { year, month, day });
        }
        Ok(Date { year: year as u16, month: month as u8, day: day as u8 })
    }

    /// Parses `YYYYMMDD` (the national system's form) or `YYYY-MM-DD`; full-width
    /// digits and surrounding spaces are accepted.
    pub fn parse(text: &str) -> Result<Date, DateError> {
        let folded = crate::text::fold(text);
        let digits: String = match folded.len() {
            8 => folded.clone(),
            10 if folded.as_bytes()[4] == b'-' && folded.as_bytes()[7] == b'-' => {
                folded.replace('-', "")
            }
            _ => return Err(DateError::Format(text.to_string())),
        };
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DateError::Format(text.to_string()));
        }
        let num = |r: std::ops::Range<usize>| digits[r].parse::<u32>().unwrap_or(0);
        Date::new(num(0..4), num(4..6), num(6..8))
    }

    pub fn year(self) -> u32 {
        u32::from(self.year)
    }
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// `YYYYMMDD`, as the national system writes dates.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// Days since 1970-01-01 (negative before). Howard Hinnant's `days_from_civil`.
    pub fn day_number(self) -> i64 {
        let (y, m, d) = (i64::from(self.year), i64::from(self.month), i64::from(self.day));
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`); `None`
    /// outside the years 1800–9999.
    pub fn from_day_number(days: i64) -> Option<Date> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        Date::new(u32::try_from(y).ok()?, m as u32, d as u32).ok()
    }

    /// The number of days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.day_number() - self.day_number()
    }

    /// The next day; saturates at the last representable day.
    pub fn succ(self) -> Date {
        let (y, m, d) = (self.year(), self.month(), self.day());
        let next = if d < days_in_month(y, m) {
            Date::new(y, m, d + 1)
        } else if m < 12 {
            Date::new(y, m + 1, 1)
        } else {
            Date::new(y + 1, 1, 1)
        };
        next.unwrap_or(self)
    }

    /// The previous day; saturates at the first representable day.
    pub fn pred(self) -> Date {
        let (y, m, d) = (self.year(), self.month(), self.day());
        let prev = if d > 1 {
            Date::new(y, m, d - 1)
        } else if m > 1 {
            Date::new(y, m - 1, days_in_month(y, m - 1))
        } else {
            Date::new(y.saturating_sub(1), 12, 31)
        };
        prev.unwrap_or(self)
    }

    /// The same day `months` later; a day missing in the target month becomes its last
    /// day (2026-01-31 + 1 month = 2026-02-28). Saturates at the year 9999.
    pub fn add_months(self, months: u32) -> Date {
        let index = self.year() * 12 + (self.month() - 1) + months;
        let (y, m) = (index / 12, index % 12 + 1);
        if y > MAX_YEAR {
            return Date { year: MAX_YEAR as u16, month: 12, day: 31 };
        }
        let d = self.day().min(days_in_month(y, m));
        Date::new(y, m, d).unwrap_or(self)
    }

    /// The first day of the month after this date's month.
    pub fn first_of_next_month(self) -> Date {
        let first = Date { day: 1, ..self };
        first.add_months(1)
    }

    /// The first 31 March on or after this date (the end of a Japanese school year).
    pub fn school_year_end(self) -> Date {
        let year = if self.month() <= 3 { self.year() } else { self.year() + 1 };
        Date::new(year.min(MAX_YEAR), 3, 31).unwrap_or(self)
    }

    /// The `years`-th anniversary. A 29 February has its anniversary on 1 March in common
    /// years, so that the day before it is 28 February (民法143条 read with
    /// 年齢計算ニ関スル法律).
    pub fn anniversary(self, years: u32) -> Date {
        let y = (self.year() + years).min(MAX_YEAR);
        Date::new(y, self.month(), self.day())
            .unwrap_or_else(|_| Date::new(y, 3, 1).unwrap_or(self))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::str::FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        Date::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The day in Japan (UTC+9) of an RFC 3339 time (`2026-11-26T01:00:00Z`,
/// `…+09:00`, with or without fractions); `None` when it does not parse.
pub fn jst_day(rfc3339: &str) -> Option<Date> {
    jst_datetime(rfc3339).map(|(day, _)| day)
}

/// The day and the second of the day in Japan (UTC+9) of an RFC 3339 time.
pub fn jst_datetime(rfc3339: &str) -> Option<(Date, u32)> {
    let b = rfc3339.as_bytes();
    if b.len() < 19 || b[10] != b'T' {
        return None;
    }
    let date = Date::parse(rfc3339.get(..10)?).ok()?;
    let num = |r: std::ops::Range<usize>| rfc3339.get(r)?.parse::<i64>().ok();
    let seconds = num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?;
    let rest = rfc3339.get(19..)?;
    let rest = match rest.strip_prefix('.') {
        Some(frac) => frac.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    let offset = match rest {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            sign * (tz.get(1..3)?.parse::<i64>().ok()? * 3600
                + tz.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    let jst = date.day_number() * 86_400 + seconds - offset + 9 * 3600;
    Some((Date::from_day_number(jst.div_euclid(86_400))?, jst.rem_euclid(86_400) as u32))
}

/// A calendar month, e.g. the billing month of the 医療DX推進体制整備加算.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: u16,
    pub month: u8,
}

impl YearMonth {
    pub fn new(year: u32, month: u32) -> Result<YearMonth, DateError> {
        Date::new(year, month, 1).map(|d| d.year_month())
    }

    /// Parses `YYYY-MM` or `YYYYMM`.
    pub fn parse(text: &str) -> Result<YearMonth, DateError> {
        let folded = crate::text::fold(text).replace('-', "");
        if folded.len() != 6 || !folded.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DateError::Format(text.to_string()));
        }
        let year = folded[0..4].parse::<u32>().unwrap_or(0);
        let month = folded[4..6].parse::<u32>().unwrap_or(0);
        YearMonth::new(year, month)
    }

    /// `months` later (saturating at the year 9999).
    pub fn plus(self, months: u32) -> YearMonth {
        let index = (u32::from(self.year) * 12 + u32::from(self.month) - 1).saturating_add(months);
        let year = (index / 12).min(9999);
        let month = if index / 12 > 9999 { 12 } else { index % 12 + 1 };
        YearMonth { year: year as u16, month: month as u8 }
    }

    /// `months` earlier (saturating at the year 1800).
    pub fn minus(self, months: u32) -> YearMonth {
        let index = (u32::from(self.year) * 12 + u32::from(self.month) - 1).saturating_sub(months);
        let year = (index / 12).max(MIN_YEAR);
        YearMonth { year: year as u16, month: (index % 12 + 1) as u8 }
    }
}

impl Date {
    pub fn year_month(self) -> YearMonth {
        YearMonth { year: self.year, month: self.month }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<YearMonth, D::Error> {
        let text = String::deserialize(d)?;
        YearMonth::parse(&text).map_err(serde::de::Error::custom)
    }
}
