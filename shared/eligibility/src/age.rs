//! Legal age (年齢計算ニ関スル法律): a person reaches age N at the end of the day before
//! the N-th birthday. Every age boundary of the rules is computed here.

use crate::date::Date;

/// The day at whose end a person born on `birth` reaches age `years`.
pub fn reaches_age_on(birth: Date, years: u32) -> Date {
    birth.anniversary(years).pred()
}

/// The age held during the whole of `date`; `None` when `date` is before the birth.
pub fn age_on(birth: Date, date: Date) -> Option<u32> {
    if date < birth {
        return None;
    }
    let years = date.year() - birth.year();
    Some(if birth.anniversary(years) > date { years - 1 } else { years })
}

/// The age band that decides the copay ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeBand {
    /// 未就学: until the first 31 March on or after the day the child reaches 6.
    Preschool,
    /// From school age to the end of the month in which the person reaches 70.
    WorkingAge,
    /// 高齢受給者: from the first day of the month after reaching 70 (born on the 1st:
    /// the birthday month) to the day before the 75th birthday.
    Age70To74,
    /// 後期高齢者: from the 75th birthday.
    LateElderly,
}

impl AgeBand {
    /// The band on `visit`; `None` when `visit` is before the birth.
    pub fn on(birth: Date, visit: Date) -> Option<AgeBand> {
        if visit < birth {
            return None;
        }
        let band = if visit >= birth.anniversary(75) {
            AgeBand::LateElderly
        } else if visit >= reaches_age_on(birth, 70).first_of_next_month() {
            AgeBand::Age70To74
        } else if visit <= reaches_age_on(birth, 6).school_year_end() {
            AgeBand::Preschool
        } else {
            AgeBand::WorkingAge
        };
        Some(band)
    }

    pub fn label(self) -> crate::Text {
        use crate::Text;
        match self {
            AgeBand::Preschool => Text::new("未就学児", "preschool child"),
            AgeBand::WorkingAge => Text::new("就学後〜69歳", "school age to 69"),
            AgeBand::Age70To74 => Text::new("70〜74歳（高齢受給者）", "70–74 (elderly recipient)"),
            AgeBand::LateElderly => {
                Text::new("75歳以上（後期高齢者）", "75 and over (late-stage elderly)")
            }
        }
    }
}
