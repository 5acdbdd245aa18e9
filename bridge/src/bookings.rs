//! Bookings: the day's booked patients, imported from the clinic's booking system as CSV,
//! so that the evening's 一括照会 confirms them before they arrive.
//!
//! The CSV has the header `date,time,patient_id,kana,name,birth,insurer,symbol,number,branch`
//! (Japanese names accepted: 予約日, 時刻, 患者番号, カナ, 氏名, 生年月日, 保険者番号, 記号, 番号,
//! 枝番), UTF-8 (with or without BOM) or Shift_JIS. Every row is checked on its own: a bad
//! row is reported with its line number and reason and the good rows are kept. The store
//! takes all good rows in one transaction, so an import is never half-done.

pub mod cli;

use eligibility::identifiers::{BranchNumber, InsuredNumber, InsuredSymbol, InsurerNumber};
use eligibility::Date;
use serde::Serialize;

pub use reception::booking::Booking;
use reception::Numbers;

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line of the file where the row starts.
    pub line: usize,
    pub reason: String,
}

/// What a file held: the good rows and the bad ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Parsed {
    pub bookings: Vec<Booking>,
    pub errors: Vec<RowError>,
}

/// Why a file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("ファイルが空です / the file is empty")]
    Empty,
    #[error("文字コードを読めません（UTF-8 か Shift_JIS で保存してください）/ cannot decode the file: save it as UTF-8 or Shift_JIS")]
    Encoding,
    #[error("見出し行に {0} の列がありません / the header has no {0} column")]
    MissingColumn(&'static str),
    #[error("引用符が閉じられていません（{0} 行目）/ an unclosed quote at line {0}")]
    UnclosedQuote(usize),
}

const COLUMNS: [(&str, &[&str]); 10] = [
    ("date", &["date", "予約日", "日付", "来院日"]),
    ("time", &["time", "時刻", "予約時刻", "時間"]),
    ("patient_id", &["patient_id", "患者番号", "患者id", "患者ID", "カルテ番号"]),
    ("kana", &["kana", "カナ", "フリガナ", "カナ氏名"]),
    ("name", &["name", "氏名", "名前", "患者氏名"]),
    ("birth", &["birth", "生年月日"]),
    ("insurer", &["insurer", "保険者番号"]),
    ("symbol", &["symbol", "記号"]),
    ("number", &["number", "番号"]),
    ("branch", &["branch", "枝番"]),
];
const REQUIRED: [&str; 3] = ["date", "patient_id", "birth"];

/// UTF-8 (a BOM is dropped), else Shift_JIS (Windows-31J, what Excel saves in Japan).
fn decode(bytes: &[u8]) -> Result<String, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(bytes);
    if bad {
        return Err(CsvError::Encoding);
    }
    Ok(text.into_owned())
}

/// RFC 4180 records (quotes, doubled quotes, commas and line breaks inside quotes), each
/// with the line it starts on. Blank lines are skipped.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let mut out = Vec::new();
    let (mut line, mut start) = (1usize, 1usize);
    let mut field = String::new();
    let mut row: Vec<String> = Vec::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                if row.iter().any(|f| !f.trim().is_empty()) {
                    out.push((start, std::mem::take(&mut row)));
                }
                row.clear();
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(CsvError::UnclosedQuote(start));
    }
    row.push(field);
    if row.iter().any(|f| !f.trim().is_empty()) {
        out.push((start, row));
    }
    Ok(out)
}

/// Reads a bookings file: the good rows, and every bad row with its reason.
pub fn parse(bytes: &[u8]) -> Result<Parsed, CsvError> {
    let text = decode(bytes)?;
    let mut rows = records(&text)?.into_iter();
    let (_, header) = rows.next().ok_or(CsvError::Empty)?;
    let folded: Vec<String> =
        header.iter().map(|h| eligibility::text::fold(h.trim()).to_lowercase()).collect();
    let position = |key: &str| -> Option<usize> {
        let names = COLUMNS.iter().find(|(k, _)| *k == key).map(|(_, n)| *n)?;
        folded
            .iter()
            .position(|h| names.iter().any(|n| eligibility::text::fold(n).to_lowercase() == *h))
    };
    let at: Vec<Option<usize>> = COLUMNS.iter().map(|(k, _)| position(k)).collect();
    for key in REQUIRED {
        let i = COLUMNS.iter().position(|(k, _)| *k == key).unwrap_or(0);
        if at[i].is_none() {
            return Err(CsvError::MissingColumn(key));
        }
    }
    let mut parsed = Parsed::default();
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for (line, row) in rows {
        let get = |key: &str| -> Option<String> {
            let i = COLUMNS.iter().position(|(k, _)| *k == key)?;
            let value = row.get(at[i]?)?.trim();
            (!value.is_empty()).then(|| value.to_string())
        };
        match booking(&get) {
            Ok(b) => match seen.get(&b.id()) {
                Some(first) => parsed.errors.push(RowError {
                    line,
                    reason: format!(
                        "同じ日・同じ患者の予約が {first} 行目にもあります / the same patient and day as line {first}"
                    ),
                }),
                None => {
                    seen.insert(b.id(), line);
                    parsed.bookings.push(b);
                }
            },
            Err(reason) => parsed.errors.push(RowError { line, reason }),
        }
    }
    Ok(parsed)
}

/// One booking as the 予約 screen sends it: the CSV's columns by their English names,
/// checked by the same rules as a file's row (the reason says what to fix).
pub fn from_fields(fields: &std::collections::BTreeMap<String, String>) -> Result<Booking, String> {
    booking(&|key: &str| fields.get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
}

fn booking(get: &dyn Fn(&str) -> Option<String>) -> Result<Booking, String> {
    let date_of = |key: &str, label: &str| -> Result<Date, String> {
        let text = get(key).ok_or_else(|| format!("{label}がありません / no {key}"))?;
        Date::parse(&text).map_err(|_| {
            format!("{label}「{text}」を読めません（YYYY-MM-DD）/ {key} {text:?} is not YYYY-MM-DD")
        })
    };
    let date = date_of("date", "予約日")?;
    let birth = date_of("birth", "生年月日")?;
    if birth > date {
        return Err("生年月日が予約日より後です / the birth date is after the booking".into());
    }
    let patient_id = get("patient_id").ok_or("患者番号がありません / no patient_id")?;
    if patient_id.chars().count() > 50 {
        return Err("患者番号は50文字までです / patient_id is longer than 50 characters".into());
    }
    let time = match get("time") {
        None => None,
        Some(t) => {
            let ok = t.len() == 5
                && t.as_bytes()[2] == b':'
                && t[..2].parse::<u8>().is_ok_and(|h| h < 24)
                && t[3..].parse::<u8>().is_ok_and(|m| m < 60);
            if !ok {
                return Err(format!("時刻「{t}」を読めません（HH:MM）/ time {t:?} is not HH:MM"));
            }
            Some(t)
        }
    };
    let kana = get("kana");
    let name = get("name");
    if kana.is_none() && name.is_none() {
        return Err("氏名かカナが必要です / a name or kana is needed".into());
    }
    let numbers = match (get("insurer"), get("number")) {
        (None, None) => None,
        (Some(_), None) => {
            return Err("保険者番号はあるが番号がありません / insurer without number".into())
        }
        (None, Some(_)) => {
            return Err("番号はあるが保険者番号がありません / number without insurer".into())
        }
        (Some(insurer), Some(number)) => {
            let insurer = InsurerNumber::parse(&insurer).map_err(|e| format!("保険者番号: {e}"))?;
            let number = InsuredNumber::parse(&number).map_err(|e| format!("番号: {e}"))?;
            let symbol = get("symbol")
                .map(|s| InsuredSymbol::parse(&s).map_err(|e| format!("記号: {e}")))
                .transpose()?;
            let branch = get("branch")
                .map(|b| BranchNumber::parse(&b).map_err(|e| format!("枝番: {e}")))
                .transpose()?;
            Some(Numbers {
                insurer: insurer.as_str().to_string(),
                symbol: symbol.map(|s| s.as_str().to_string()),
                number: number.as_str().to_string(),
                branch: branch.map(|b| b.as_str().to_string()),
            })
        }
    };
    Ok(Booking { date, time, patient_id, kana, name, birth, numbers })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "date,time,patient_id,kana,name,birth,insurer,symbol,number,branch\n";

    #[test]
    fn the_booking_screen_is_checked_like_a_row() {
        let fields = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let b = from_fields(&fields(&[
            ("date", "2026-12-03"),
            ("time", "09:30"),
            ("patient_id", " P9 "),
            ("kana", "ﾔﾏﾀﾞ"),
            ("birth", "1980-01-01"),
            ("insurer", "06139992"),
            ("number", "1001"),
            ("symbol", ""),
        ]))
        .unwrap();
        assert_eq!((b.patient_id.as_str(), b.time.as_deref()), ("P9", Some("09:30")));
        assert_eq!(b.numbers.unwrap().symbol, None, "an empty field is no value");
        let bad = from_fields(&fields(&[("date", "2026-12-03"), ("patient_id", "P9")]));
        assert!(bad.unwrap_err().contains("生年月日"));
    }

    #[test]
    fn good_rows_are_kept_and_bad_ones_reported_by_line() {
        let text = format!(
            "{HEADER}2026-12-02,09:00,P1,ﾔﾏﾀﾞ ﾀﾛｳ,山田 太郎,1980-01-01,06139992,12,1001,00\n\
             2026-12-02,9時,P2,,佐藤,1980-01-01,,,,\n\
             \n\
             2026-12-02,,P3,,\"鈴木, 花子\",1990-02-30,,,,\n\
             2026-12-02,,P1,,山田,1980-01-01,,,,\n\
             2026-12-02,,P4,,高橋,1970-05-05,06139992,,,\n\
             2026-12-03,,P5,ﾀﾅｶ,,2001-03-04,,,,\n"
        );
        let parsed = parse(text.as_bytes()).unwrap();
        let ids: Vec<_> = parsed.bookings.iter().map(|b| b.patient_id.as_str()).collect();
        assert_eq!(ids, ["P1", "P5"]);
        let lines: Vec<_> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 5, 6, 7], "{:?}", parsed.errors);
        assert!(parsed.errors[0].reason.contains("HH:MM"));
        assert!(parsed.errors[2].reason.contains("line 2"));
        let numbers = parsed.bookings[0].numbers.as_ref().unwrap();
        assert_eq!((numbers.insurer.as_str(), numbers.number.as_str()), ("06139992", "1001"));
    }

    #[test]
    fn japanese_headers_shift_jis_and_a_bom() {
        let text = "予約日,時刻,患者番号,カナ,氏名,生年月日,保険者番号,記号,番号,枝番\r\n2026-12-02,10:30,K-9,,伊藤,1950-07-07,,,,\r\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        let parsed = parse(&sjis).unwrap();
        assert_eq!(parsed.bookings.len(), 1, "{:?}", parsed.errors);
        assert_eq!(parsed.bookings[0].name.as_deref(), Some("伊藤"));
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(parse(&with_bom).unwrap().bookings, parsed.bookings);
    }

    #[test]
    fn a_file_that_cannot_be_read_says_why() {
        assert_eq!(parse(b""), Err(CsvError::Empty));
        assert_eq!(parse(b"name,kana\nx,y\n"), Err(CsvError::MissingColumn("date")));
        let open = format!("{HEADER}2026-12-02,,\"P1,,x,1980-01-01\n");
        assert_eq!(parse(open.as_bytes()), Err(CsvError::UnclosedQuote(2)));
    }

    proptest::proptest! {
        /// Any bytes: a typed answer, never a panic; every input row is either kept or
        /// reported.
        #[test]
        fn any_input_is_read_or_refused(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut bytes = HEADER.as_bytes().to_vec();
            bytes.extend(body);
            let _ = parse(&bytes);
        }

        #[test]
        fn every_row_is_kept_or_reported(rows in proptest::collection::vec("[0-9A-Za-z,\\-: ]{0,40}", 0..30)) {
            let text = format!("{HEADER}{}", rows.iter().map(|r| format!("{r}\n")).collect::<String>());
            let parsed = parse(text.as_bytes()).unwrap();
            let non_blank = rows.iter().filter(|r| r.split(',').any(|f| !f.trim().is_empty())).count();
            proptest::prop_assert_eq!(parsed.bookings.len() + parsed.errors.len(), non_blank);
        }
    }
}
