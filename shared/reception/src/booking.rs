//! A booked patient and what the evening's 一括照会 said of them: the bridge stores and
//! sends it, the counter's 本日の予約 reads it (one type on both sides).

use crate::reading::Reading;
use crate::Patient;
use eligibility::Date;
use serde::{Deserialize, Serialize};

/// One booked patient on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub date: Date,
    /// `HH:MM`, when the booking system gives one.
    pub time: Option<String>,
    /// The clinic's patient id (also the 照会番号 once registered).
    pub patient_id: String,
    pub kana: Option<String>,
    pub name: Option<String>,
    pub birth: Date,
    /// `None`: no numbers yet (kept as a booking, not sent in the 一括照会).
    pub numbers: Option<crate::Numbers>,
}

impl Booking {
    /// `date:patient_id`: one booking per patient and day (a later import corrects it).
    pub fn id(&self) -> String {
        format!("{}:{}", self.date, self.patient_id)
    }
}

/// What the 一括照会 found for a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreState {
    Valid,
    /// 有効（未登録）, seen for 医療扶助.
    ValidUnregistered,
    Invalid,
    NewQualification,
    NotFound,
    /// Several qualifications: staff choose at the counter.
    Several,
    /// The system answered an error for this patient.
    Error,
}

impl PreState {
    /// The unit's `ProcessingResultStatus` and `QualificationValidity`, and how many results.
    pub fn of(status: Option<&str>, validity: Option<&str>, results: usize) -> PreState {
        if status != Some("1") {
            return PreState::Error;
        }
        match (validity, results) {
            (Some("1"), 1) => PreState::Valid,
            (Some("1"), _) | (Some("5"), _) => PreState::Several,
            (Some("2"), _) => PreState::Invalid,
            (Some("3"), _) => PreState::NewQualification,
            (Some("4"), _) => PreState::NotFound,
            (Some("6"), _) => PreState::ValidUnregistered,
            _ => PreState::Error,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PreState::Valid => "前日確認：有効 / pre-confirmed: valid",
            PreState::ValidUnregistered => {
                "前日確認：有効（未登録）/ pre-confirmed: valid (unregistered)"
            }
            PreState::Invalid => "前日確認：資格無効 / pre-confirmed: invalid",
            PreState::NewQualification => {
                "前日確認：新しい資格あり / pre-confirmed: a newer qualification exists"
            }
            PreState::NotFound => "前日確認：該当なし / pre-confirmed: not found",
            PreState::Several => "前日確認：複数該当 / pre-confirmed: several",
            PreState::Error => "前日確認：エラー / pre-confirmation failed",
        }
    }
}

/// A booking's pre-confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreConfirmation {
    pub state: PreState,
    /// What the counter shows of the answer (the same reading as a lookup's).
    pub reading: Option<Reading>,
    pub reception_number: Option<String>,
    /// When it was stored (RFC 3339).
    pub time: String,
}

/// A booking as the bridge stores and sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingRow {
    pub booking_id: String,
    pub booking: Booking,
    pub pre_confirmation: Option<PreConfirmation>,
}

/// What the counter's 本日の予約 shows of a booking (`POST /api/bookings` answers these;
/// the full [`BookingRow`] stays on the bridge and in `bridge bookings list`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BookingLine {
    pub booking_id: String,
    pub time: Option<String>,
    pub patient_id: String,
    /// Name, else kana.
    pub who: String,
    pub pre_state: Option<PreState>,
    pub birth: Option<Date>,
    /// The numbers the 一括照会 confirmed valid: what the counter offers as "numbers known"
    /// when the system is down (the seed: 資格情報をダウンロードしておくことで、事後的に
    /// 被保険者番号等の確認が可能).
    pub downloaded: Option<crate::Numbers>,
    /// Why the 照会番号 registration of this patient failed (staff check the numbers).
    pub id_failed: Option<String>,
}

impl BookingRow {
    pub fn line(&self) -> BookingLine {
        BookingLine {
            booking_id: self.booking_id.clone(),
            time: self.booking.time.clone(),
            patient_id: self.booking.patient_id.clone(),
            who: self.booking.name.clone().or(self.booking.kana.clone()).unwrap_or_default(),
            pre_state: self.pre_confirmation.as_ref().map(|p| p.state),
            birth: Some(self.booking.birth),
            downloaded: self
                .pre_confirmation
                .as_ref()
                .filter(|p| p.state == PreState::Valid)
                .and_then(|p| p.reading.as_ref()?.qualification.as_ref())
                .map(|q| q.numbers.clone()),
            id_failed: None,
        }
    }
}

/// `POST /api/bookings`: the bookings of a day (`None`: today in Japan).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BookingsQuery {
    pub date: Option<Date>,
    /// The whole [`BookingRow`]s instead of lines (the 予約 screen, to correct one).
    pub whole: bool,
}

/// A confirmation result matched to one of the day's bookings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BookingMatch {
    pub booking_id: String,
    pub patient_id: String,
    pub time: Option<String>,
    /// What the 一括照会 said (`None`: not pre-confirmed).
    pub pre_state: Option<PreState>,
    /// What differs from the pre-confirmation (or, without one, from the booked numbers):
    /// 保険者番号, 記号・番号・枝番 — staff check them before recording.
    pub changed: Vec<String>,
}

fn folded(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The booking a confirmed patient is: by the clinic's patient id (the 照会番号 a face
/// result carries), else by birth date and kana or name (spaces ignored). Two bookings
/// that fit equally: none (staff choose; never the first silently).
pub fn find<'a>(rows: &'a [BookingRow], patient: &Patient) -> Option<&'a BookingRow> {
    choose(rows, patient, |r| {
        let b = &r.booking;
        (b.patient_id.as_str(), Some(b.birth), b.kana.as_deref(), b.name.as_deref())
    })
}

/// [`find`] over what the counter holds: the booked patient the 困ったとき screen's typed
/// name (or kana) and birth date are (their downloaded numbers are then offered).
pub fn find_line<'a>(lines: &'a [BookingLine], patient: &Patient) -> Option<&'a BookingLine> {
    choose(lines, patient, |l| (l.patient_id.as_str(), l.birth, Some(l.who.as_str()), None))
}

type Who<'a> = (&'a str, Option<Date>, Option<&'a str>, Option<&'a str>);

fn choose<'a, T>(items: &'a [T], patient: &Patient, who: impl Fn(&T) -> Who<'_>) -> Option<&'a T> {
    if let Some(id) = patient.clinic_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(item) = items.iter().find(|i| who(i).0 == id) {
            return Some(item);
        }
    }
    let birth = Date::parse(patient.birth.as_deref()?.trim()).ok()?;
    let same = |a: Option<&str>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => !a.trim().is_empty() && folded(a) == folded(b),
        _ => false,
    };
    let mut fits = items.iter().filter(|i| {
        let (_, b, kana, name) = who(i);
        b == Some(birth)
            && [kana, name].into_iter().any(|w| same(w, &patient.kana) || same(w, &patient.name))
    });
    let first = fits.next()?;
    fits.next().is_none().then_some(first)
}

/// `row` as matched by `reading`: the pre-confirmation's state and what changed since.
pub fn matched(row: &BookingRow, reading: &Reading) -> BookingMatch {
    let pre = row.pre_confirmation.as_ref();
    let before = pre
        .and_then(|p| p.reading.as_ref())
        .and_then(|r| r.qualification.as_ref())
        .map(|q| q.numbers.clone())
        .or_else(|| row.booking.numbers.clone());
    let mut changed = Vec::new();
    if let (Some(before), Some(now)) = (before, reading.qualification.as_ref().map(|q| &q.numbers))
    {
        let fold = |s: &str| folded(&eligibility::text::fold(s));
        if fold(&before.insurer) != fold(&now.insurer) {
            changed.push(format!("保険者番号 {} → {} / insurer", before.insurer, now.insurer));
        }
        let card = |n: &crate::Numbers| {
            format!(
                "{}・{}・{}",
                n.symbol.as_deref().map(fold).unwrap_or_default(),
                fold(&n.number),
                n.branch.as_deref().unwrap_or("")
            )
        };
        if card(&before) != card(now) {
            changed.push(format!(
                "記号・番号・枝番 {} → {} / card numbers",
                card(&before),
                card(now)
            ));
        }
    }
    BookingMatch {
        booking_id: row.booking_id.clone(),
        patient_id: row.booking.patient_id.clone(),
        time: row.booking.time.clone(),
        pre_state: pre.map(|p| p.state),
        changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Numbers, Qualification};

    fn row(id: &str, kana: &str, birth: &str, insurer: &str) -> BookingRow {
        let date = Date::parse("2026-12-02").unwrap();
        let booking = Booking {
            date,
            time: Some("09:00".into()),
            patient_id: id.into(),
            kana: Some(kana.into()),
            name: None,
            birth: Date::parse(birth).unwrap(),
            numbers: Some(crate::Numbers {
                insurer: insurer.into(),
                symbol: None,
                number: "1".into(),
                branch: None,
            }),
        };
        BookingRow { booking_id: booking.id(), booking, pre_confirmation: None }
    }

    fn reading(kana: &str, birth: &str, insurer: &str) -> Reading {
        Reading {
            status: "confirmed".into(),
            patient: Patient {
                kana: Some(kana.into()),
                birth: Some(birth.into()),
                ..Patient::default()
            },
            qualification: Some(Qualification {
                numbers: Numbers {
                    insurer: insurer.into(),
                    symbol: None,
                    number: "1".into(),
                    branch: None,
                },
                ..Qualification::default()
            }),
            ..Reading::default()
        }
    }

    #[test]
    fn found_by_id_else_by_birth_and_kana_and_never_a_guess() {
        let rows = [
            row("P1", "ﾔﾏﾀﾞ ﾀﾛｳ", "1980-01-01", "06139992"),
            row("P2", "ｻﾄｳ", "1990-02-02", "06139992"),
        ];
        let r = reading("ﾔﾏﾀﾞﾀﾛｳ", "1980-01-01", "06139992");
        assert_eq!(find(&rows, &r.patient).map(|b| b.booking.patient_id.as_str()), Some("P1"));
        let mut by_id = reading("other", "2000-01-01", "06139992").patient;
        by_id.clinic_id = Some("P2".into());
        assert_eq!(find(&rows, &by_id).map(|b| b.booking.patient_id.as_str()), Some("P2"));
        assert!(find(&rows, &reading("ﾔﾏﾀﾞﾀﾛｳ", "1980-01-02", "06139992").patient).is_none());
        // Twins booked the same day under one kana: no match rather than the first.
        let twins = [
            row("T1", "ﾌﾀｺﾞ", "2010-05-05", "06139992"),
            row("T2", "ﾌﾀｺﾞ", "2010-05-05", "06139992"),
        ];
        assert!(find(&twins, &reading("ﾌﾀｺﾞ", "2010-05-05", "06139992").patient).is_none());
    }

    #[test]
    fn the_counter_is_offered_downloaded_numbers_only_when_the_bulk_inquiry_found_them_valid() {
        let pre = |state| PreConfirmation {
            state,
            reading: Some(reading("ﾔﾏﾀﾞ ﾀﾛｳ", "1980-01-01", "01130012")),
            reception_number: None,
            time: String::new(),
        };
        let mut valid = row("P1", "ﾔﾏﾀﾞ ﾀﾛｳ", "1980-01-01", "06139992");
        valid.pre_confirmation = Some(pre(PreState::Valid));
        let mut invalid = row("P2", "ｻﾄｳ", "1990-02-02", "06139992");
        invalid.pre_confirmation = Some(pre(PreState::Invalid));
        let lines = [valid.line(), invalid.line(), row("P3", "ｽｽﾞｷ", "1970-03-03", "1").line()];
        // The downloaded numbers (not the booked ones), and only for a valid answer.
        assert_eq!(lines[0].downloaded.as_ref().map(|n| n.insurer.as_str()), Some("01130012"));
        assert!(lines[1].downloaded.is_none() && lines[2].downloaded.is_none());
        // Typed at the counter: name or kana with the birth date, spaces ignored.
        let typed = |kana: &str, birth: &str| Patient {
            kana: Some(kana.into()),
            birth: Some(birth.into()),
            ..Patient::default()
        };
        let found = find_line(&lines, &typed("ﾔﾏﾀﾞﾀﾛｳ", "1980-01-01"));
        assert_eq!(found.map(|l| l.patient_id.as_str()), Some("P1"));
        assert!(find_line(&lines, &typed("ﾔﾏﾀﾞﾀﾛｳ", "1980-01-02")).is_none());
        assert!(find_line(&lines, &typed("ﾔﾏﾀﾞﾀﾛｳ", "not a date")).is_none());
    }

    #[test]
    fn a_changed_insurer_is_named() {
        let b = row("P1", "ﾔﾏﾀﾞ", "1980-01-01", "06139992");
        assert!(matched(&b, &reading("ﾔﾏﾀﾞ", "1980-01-01", "06139992")).changed.is_empty());
        let m = matched(&b, &reading("ﾔﾏﾀﾞ", "1980-01-01", "01130012"));
        assert_eq!(m.changed.len(), 1, "{m:?}");
        assert!(m.changed[0].contains("06139992 → 01130012"));
    }
}
