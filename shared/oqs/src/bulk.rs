//! 一括照会 and 照会番号: the upload of a day's booked patients (`OQSmuquc01req_`), answered
//! with a ReceptionNumber; the download (`OQSmuquc02req_`), answered — once the national
//! system is done — with one `BulkConfirmUnit` per patient; and the registration of the
//! clinic's own patient id (`OQSsiimm01req_`), which later face results carry back as
//! `ReferenceNumber`.
//!
//! **Not verified against the official 外部インターフェイス仕様書** (distributed to vendors
//! only). The layouts are put together from public code and notes (`domain.md` §2): reading
//! is tolerant — the ReceptionNumber and the counts are looked for in the header and in the
//! body, units with or without a wrapping list, results with or without `ResultList` — and
//! writing follows one reading of them.

use crate::model::{AnswerHeader, BodyFields, QualificationResult, SearchInfo};
use crate::xml::{escape, Element, XmlError};
use crate::Answer;
use serde::{Deserialize, Serialize};

/// File-name prefixes of the requests (the answers swap `req_` for `res_`).
pub const UPLOAD_PREFIX: &str = "OQSmuquc01req_";
pub const DOWNLOAD_PREFIX: &str = "OQSmuquc02req_";
pub const REGISTER_PREFIX: &str = "OQSsiimm01req_";

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";

fn leaf(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!("<{name}>{}</{name}>", escape(value)));
}

fn root_of(root: &Element) -> Result<(&Element, &Element), XmlError> {
    if root.name != "XmlMsg" {
        return Err(XmlError::WrongRoot(root.name.chars().take(60).collect()));
    }
    static EMPTY: Element =
        Element { name: String::new(), text: String::new(), children: Vec::new() };
    Ok((root.child("MessageHeader").unwrap_or(&EMPTY), root.child("MessageBody").unwrap_or(&EMPTY)))
}

/// A leaf looked for in the header, then the body, then one level below the body.
fn anywhere(header: &Element, body: &Element, name: &str) -> Option<String> {
    header
        .text_of(name)
        .or_else(|| body.text_of(name))
        .or_else(|| body.children.iter().find_map(|c| c.text_of(name)))
}

/// How far the national system is with a bulk request (`SegmentOfResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Progress {
    /// 1 正常終了.
    Done,
    /// 2 処理中: ask again later.
    Pending,
    /// Anything else (9 異常終了 in public code, 3 in one codebase): the message as sent.
    Failed { code: Option<String>, message: Option<String> },
}

impl Progress {
    pub fn of(header: &AnswerHeader) -> Progress {
        match header.segment_of_result.as_deref() {
            Some("1") => Progress::Done,
            Some("2") => Progress::Pending,
            _ => Progress::Failed {
                code: header.error_code.clone(),
                message: header.error_message.clone(),
            },
        }
    }
}

/// The upload: every booked patient's numbers for one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkUpload {
    /// YYYYMMDD: the day the qualifications are checked for (the booking day).
    pub qualification_confirmation_date: String,
    pub medical_institution_code: String,
    pub arbitrary_file_identifier: String,
    /// One per patient; `arbitrary_identifier` carries our booking id, echoed in the unit.
    pub patients: Vec<SearchInfo>,
}

impl BulkUpload {
    pub fn to_xml(&self) -> String {
        let mut out = format!("{DECLARATION}<XmlMsg><MessageHeader>");
        leaf(&mut out, "QualificationConfirmationDate", &self.qualification_confirmation_date);
        leaf(&mut out, "MedicalInstitutionCode", &self.medical_institution_code);
        leaf(&mut out, "ArbitraryFileIdentifier", &self.arbitrary_file_identifier);
        out.push_str("</MessageHeader><MessageBody><QualificationConfirmSearchInfoList>");
        for p in &self.patients {
            out.push_str("<QualificationConfirmSearchInfo>");
            p.write_fields(&mut out);
            out.push_str("</QualificationConfirmSearchInfo>");
        }
        out.push_str("</QualificationConfirmSearchInfoList></MessageBody></XmlMsg>\n");
        out
    }

    pub fn from_root(root: &Element) -> Result<BulkUpload, XmlError> {
        let (header, body) = root_of(root)?;
        let list = body.child("QualificationConfirmSearchInfoList").unwrap_or(body);
        Ok(BulkUpload {
            qualification_confirmation_date: header
                .text_of("QualificationConfirmationDate")
                .unwrap_or_default(),
            medical_institution_code: header.text_of("MedicalInstitutionCode").unwrap_or_default(),
            arbitrary_file_identifier: header
                .text_of("ArbitraryFileIdentifier")
                .unwrap_or_default(),
            patients: list
                .children_named("QualificationConfirmSearchInfo")
                .map(SearchInfo::from_element)
                .collect(),
        })
    }
}

/// The answer to an upload: accepted with a ReceptionNumber, or refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadAnswer {
    pub header: AnswerHeader,
    pub body: BodyFields,
    pub reception_number: Option<String>,
}

impl UploadAnswer {
    pub fn from_root(root: &Element) -> Result<UploadAnswer, XmlError> {
        let (header, body) = root_of(root)?;
        Ok(UploadAnswer {
            header: AnswerHeader::from_element(header),
            body: BodyFields::from_element(body),
            reception_number: anywhere(header, body, "ReceptionNumber"),
        })
    }

    pub fn to_xml(&self) -> String {
        let mut out = format!("{DECLARATION}<XmlMsg><MessageHeader>");
        self.header.write_fields(&mut out);
        out.push_str("</MessageHeader><MessageBody>");
        if let Some(n) = &self.reception_number {
            leaf(&mut out, "ReceptionNumber", n);
        }
        self.body.write_fields(&mut out);
        out.push_str("</MessageBody></XmlMsg>\n");
        out
    }

    /// Accepted only with `SegmentOfResult` 1 and a ReceptionNumber to download with.
    pub fn progress(&self) -> Progress {
        match (Progress::of(&self.header), &self.reception_number) {
            (Progress::Done, None) => Progress::Failed {
                code: None,
                message: Some(
                    "受付番号（ReceptionNumber）がありません / no ReceptionNumber".into(),
                ),
            },
            (p, _) => p,
        }
    }
}

/// The download request: the ReceptionNumber of an accepted upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkDownload {
    pub medical_institution_code: String,
    pub arbitrary_file_identifier: String,
    pub reception_number: String,
}

impl BulkDownload {
    pub fn to_xml(&self) -> String {
        let mut out = format!("{DECLARATION}<XmlMsg><MessageHeader>");
        leaf(&mut out, "MedicalInstitutionCode", &self.medical_institution_code);
        leaf(&mut out, "ArbitraryFileIdentifier", &self.arbitrary_file_identifier);
        out.push_str("</MessageHeader><MessageBody>");
        leaf(&mut out, "ReceptionNumber", &self.reception_number);
        out.push_str("</MessageBody></XmlMsg>\n");
        out
    }

    pub fn from_root(root: &Element) -> Result<BulkDownload, XmlError> {
        let (header, body) = root_of(root)?;
        Ok(BulkDownload {
            medical_institution_code: header.text_of("MedicalInstitutionCode").unwrap_or_default(),
            arbitrary_file_identifier: header
                .text_of("ArbitraryFileIdentifier")
                .unwrap_or_default(),
            reception_number: anywhere(header, body, "ReceptionNumber").unwrap_or_default(),
        })
    }
}

/// One patient's result in a download.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkUnit {
    pub search_info: Option<SearchInfo>,
    pub body: BodyFields,
    pub results: Vec<QualificationResult>,
    pub reference_number: Option<String>,
}

impl BulkUnit {
    fn from_element(e: &Element) -> BulkUnit {
        let results = e.child("ResultList").unwrap_or(e);
        let mut body = BodyFields::from_element(e);
        body.other.remove("ReferenceNumber");
        BulkUnit {
            search_info: e.child("QualificationConfirmSearchInfo").map(SearchInfo::from_element),
            body,
            results: results
                .children_named("ResultOfQualificationConfirmation")
                .map(QualificationResult::from_element)
                .collect(),
            reference_number: e.text_of("ReferenceNumber"),
        }
    }

    /// The unit as a single answer under the download's header, so that it is read by the
    /// same [`crate::interpret`] as a lookup.
    pub fn answer(&self, header: &AnswerHeader) -> Answer {
        Answer {
            header: header.clone(),
            body: self.body.clone(),
            search_info: self.search_info.clone(),
            results: self.results.clone(),
        }
    }
}

/// The download's answer: not ready yet, failed, or every unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkAnswer {
    pub header: AnswerHeader,
    pub reception_number: Option<String>,
    pub units: Vec<BulkUnit>,
}

impl BulkAnswer {
    pub fn from_root(root: &Element) -> Result<BulkAnswer, XmlError> {
        let (header, body) = root_of(root)?;
        let list = body
            .children
            .iter()
            .find(|c| c.children.iter().any(|u| u.name == "BulkConfirmUnit"))
            .unwrap_or(body);
        Ok(BulkAnswer {
            header: AnswerHeader::from_element(header),
            reception_number: anywhere(header, body, "ReceptionNumber"),
            units: list.children_named("BulkConfirmUnit").map(BulkUnit::from_element).collect(),
        })
    }

    pub fn to_xml(&self) -> String {
        let mut out = format!("{DECLARATION}<XmlMsg><MessageHeader>");
        self.header.write_fields(&mut out);
        out.push_str("</MessageHeader><MessageBody>");
        if let Some(n) = &self.reception_number {
            leaf(&mut out, "ReceptionNumber", n);
        }
        out.push_str("<BulkConfirmUnitList>");
        for u in &self.units {
            out.push_str("<BulkConfirmUnit>");
            crate::model::write_body(&mut out, u.search_info.as_ref(), &u.body, &u.results);
            if let Some(n) = &u.reference_number {
                leaf(&mut out, "ReferenceNumber", n);
            }
            out.push_str("</BulkConfirmUnit>");
        }
        out.push_str("</BulkConfirmUnitList></MessageBody></XmlMsg>\n");
        out
    }

    pub fn progress(&self) -> Progress {
        Progress::of(&self.header)
    }

    /// A count of the header (`NumberOfProcessingResult`, `NumberOfNormalProcessing`,
    /// `NumberOfError`), when sent and a number.
    pub fn count(&self, name: &str) -> Option<usize> {
        self.header.other.get(name)?.parse().ok()
    }
}

/// 照会番号 registration: the clinic's patient id for one patient's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub medical_institution_code: String,
    pub arbitrary_file_identifier: String,
    /// The clinic's id (≤ 50 characters).
    pub reference_number: String,
    /// 8 characters, space-padded when shorter (one public spec).
    pub insurer_number: String,
    pub insured_card_symbol: Option<String>,
    pub insured_identification_number: String,
    pub insured_branch_number: Option<String>,
}

impl Registration {
    pub fn to_xml(&self) -> String {
        let mut out = format!("{DECLARATION}<XmlMsg><MessageHeader>");
        leaf(&mut out, "MedicalInstitutionCode", &self.medical_institution_code);
        leaf(&mut out, "ArbitraryFileIdentifier", &self.arbitrary_file_identifier);
        out.push_str("</MessageHeader><MessageBody><ReferenceNumberRegistrationInfo>");
        leaf(&mut out, "ReferenceNumber", &self.reference_number);
        leaf(&mut out, "InsurerNumber", &format!("{:<8}", self.insurer_number));
        if let Some(s) = &self.insured_card_symbol {
            leaf(&mut out, "InsuredCardSymbol", s);
        }
        leaf(&mut out, "InsuredIdentificationNumber", &self.insured_identification_number);
        if let Some(b) = &self.insured_branch_number {
            leaf(&mut out, "InsuredBranchNumber", b);
        }
        out.push_str("</ReferenceNumberRegistrationInfo></MessageBody></XmlMsg>\n");
        out
    }

    pub fn from_root(root: &Element) -> Result<Registration, XmlError> {
        let (header, body) = root_of(root)?;
        let info = body.child("ReferenceNumberRegistrationInfo").unwrap_or(body);
        Ok(Registration {
            medical_institution_code: header.text_of("MedicalInstitutionCode").unwrap_or_default(),
            arbitrary_file_identifier: header
                .text_of("ArbitraryFileIdentifier")
                .unwrap_or_default(),
            reference_number: info.text_of("ReferenceNumber").unwrap_or_default(),
            insurer_number: info.text_of("InsurerNumber").unwrap_or_default(),
            insured_card_symbol: info.text_of("InsuredCardSymbol"),
            insured_identification_number: info
                .text_of("InsuredIdentificationNumber")
                .unwrap_or_default(),
            insured_branch_number: info.text_of("InsuredBranchNumber"),
        })
    }
}

/// Decodes and parses a bulk document (a download is large: [`crate::xml::Limits::BULK`]).
pub fn parse_root(bytes: &[u8]) -> Result<Element, XmlError> {
    let limits = crate::xml::Limits::BULK;
    crate::xml::parse_within(&crate::xml::decode_within(bytes, limits)?, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(id: &str, number: &str) -> SearchInfo {
        SearchInfo {
            insurer_number: Some("06139993".into()),
            insured_card_symbol: Some("12".into()),
            insured_identification_number: Some(number.into()),
            insured_branch_number: Some("00".into()),
            birthdate: Some("19800101".into()),
            arbitrary_identifier: Some(id.into()),
            ..SearchInfo::default()
        }
    }

    #[test]
    fn upload_and_download_round_trip() {
        let upload = BulkUpload {
            qualification_confirmation_date: "20261202".into(),
            medical_institution_code: "1312345678".into(),
            arbitrary_file_identifier: "b1".into(),
            patients: vec![patient("bk1", "1001"), patient("bk2", "1002")],
        };
        let back = BulkUpload::from_root(&parse_root(upload.to_xml().as_bytes()).unwrap()).unwrap();
        assert_eq!(back, upload);
        let download = BulkDownload {
            medical_institution_code: "1312345678".into(),
            arbitrary_file_identifier: "b1-2".into(),
            reception_number: "R0001".into(),
        };
        let back =
            BulkDownload::from_root(&parse_root(download.to_xml().as_bytes()).unwrap()).unwrap();
        assert_eq!(back, download);
    }

    #[test]
    fn answers_are_read_with_or_without_their_wrappers() {
        let answer = BulkAnswer {
            header: AnswerHeader { segment_of_result: Some("1".into()), ..AnswerHeader::default() },
            reception_number: Some("R1".into()),
            units: vec![BulkUnit {
                search_info: Some(patient("bk1", "1001")),
                body: BodyFields {
                    processing_result_status: Some("1".into()),
                    qualification_validity: Some("1".into()),
                    ..BodyFields::default()
                },
                results: vec![QualificationResult::default()],
                reference_number: Some("P-7".into()),
            }],
        };
        let back = BulkAnswer::from_root(&parse_root(answer.to_xml().as_bytes()).unwrap()).unwrap();
        assert_eq!(back, answer);
        assert_eq!(back.progress(), Progress::Done);
        // Units straight under the body, results without ResultList, the number in the header.
        let bare = "<XmlMsg><MessageHeader><SegmentOfResult>1</SegmentOfResult><ReceptionNumber>R2</ReceptionNumber><NumberOfProcessingResult>1</NumberOfProcessingResult></MessageHeader><MessageBody><BulkConfirmUnit><ProcessingResultStatus>1</ProcessingResultStatus><ResultOfQualificationConfirmation><Name>x</Name></ResultOfQualificationConfirmation></BulkConfirmUnit></MessageBody></XmlMsg>";
        let read = BulkAnswer::from_root(&parse_root(bare.as_bytes()).unwrap()).unwrap();
        assert_eq!(read.reception_number.as_deref(), Some("R2"));
        assert_eq!(read.count("NumberOfProcessingResult"), Some(1));
        assert_eq!(read.units.len(), 1);
        assert_eq!(read.units[0].results[0].fields.name.as_deref(), Some("x"));
    }

    #[test]
    fn progress_follows_segment_of_result() {
        let with = |s: Option<&str>| AnswerHeader {
            segment_of_result: s.map(String::from),
            error_message: Some("m".into()),
            ..AnswerHeader::default()
        };
        assert_eq!(Progress::of(&with(Some("2"))), Progress::Pending);
        assert!(matches!(Progress::of(&with(Some("9"))), Progress::Failed { .. }));
        assert!(matches!(Progress::of(&with(None)), Progress::Failed { .. }));
        // An accepted upload without a number cannot be downloaded: a failure, said so.
        let accepted = UploadAnswer { header: with(Some("1")), ..UploadAnswer::default() };
        assert!(matches!(accepted.progress(), Progress::Failed { .. }));
    }

    #[test]
    fn registration_pads_the_insurer_and_reads_back() {
        let r = Registration {
            medical_institution_code: "1312345678".into(),
            arbitrary_file_identifier: "r1".into(),
            reference_number: "P-7".into(),
            insurer_number: "138057".into(),
            insured_card_symbol: None,
            insured_identification_number: "12345".into(),
            insured_branch_number: Some("00".into()),
        };
        let xml = r.to_xml();
        assert!(xml.contains("<InsurerNumber>138057  </InsurerNumber>"), "{xml}");
        let back = Registration::from_root(&parse_root(xml.as_bytes()).unwrap()).unwrap();
        assert_eq!(back.reference_number, "P-7");
        assert_eq!(back.insured_branch_number.as_deref(), Some("00"));
    }
}
