//! The messages: the 資格確認 request by numbers, and the answer with every field the
//! public integrations show. Values stay strings exactly as sent (leading zeros matter);
//! typed accessors interpret them. Unknown leaf elements are kept in `other`.

use crate::xml::{escape, Element};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Declares a flat block of optional string fields with its XML names, a reader that
/// keeps unknown leaves, and a writer.
macro_rules! block {
    ($(#[$m:meta])* $name:ident { $($field:ident => $xml:literal),* $(,)? } nested { $($nested:literal),* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            $(#[serde(skip_serializing_if = "Option::is_none", default)] pub $field: Option<String>,)*
            /// Leaf elements this version does not know, by local name.
            #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
            pub other: BTreeMap<String, String>,
        }

        impl $name {
            pub const ELEMENTS: &'static [&'static str] = &[$($xml),*];

            pub fn from_element(e: &Element) -> $name {
                let mut other = BTreeMap::new();
                for child in &e.children {
                    let known = Self::ELEMENTS.contains(&child.name.as_str()) || [$($nested),*].contains(&child.name.as_str());
                    if !known && child.children.is_empty() && other.len() < 200 {
                        other.insert(child.name.clone(), child.text.trim().to_string());
                    }
                }
                $name { $($field: e.text_of($xml),)* other }
            }

            /// Writes the fields that are set, in the documented order, then the kept
            /// unknown ones (names that are not plain XML names are skipped).
            pub fn write_fields(&self, out: &mut String) {
                $(if let Some(v) = &self.$field { out.push_str(&format!("<{}>{}</{}>", $xml, escape(v), $xml)); })*
                for (name, v) in &self.other {
                    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if plain {
                        out.push_str(&format!("<{name}>{}</{name}>", escape(v)));
                    }
                }
            }
        }
    };
}

block!(
    /// `MessageHeader` of an answer.
    AnswerHeader {
        process_execution_time => "ProcessExecutionTime",
        qualification_confirmation_date => "QualificationConfirmationDate",
        medical_institution_code => "MedicalInstitutionCode",
        arbitrary_file_identifier => "ArbitraryFileIdentifier",
        reference_classification => "ReferenceClassification",
        segment_of_result => "SegmentOfResult",
        error_code => "ErrorCode",
        error_message => "ErrorMessage",
        character_code_identifier => "CharacterCodeIdentifier",
    } nested {}
);

block!(
    /// `QualificationConfirmSearchInfo`: the numbers a lookup was made with.
    SearchInfo {
        insurer_number => "InsurerNumber",
        insured_card_symbol => "InsuredCardSymbol",
        insured_identification_number => "InsuredIdentificationNumber",
        insured_branch_number => "InsuredBranchNumber",
        birthdate => "Birthdate",
        limit_application_certificate_related_cons_flg => "LimitApplicationCertificateRelatedConsFlg",
        arbitrary_identifier => "ArbitraryIdentifier",
    } nested {}
);

block!(
    /// `ElderlyRecipientCertificateInfo` (高齢受給者証, 70–74).
    ElderlyRecipient {
        certificate_date => "ElderlyRecipientCertificateDate",
        valid_start_date => "ElderlyRecipientValidStartDate",
        valid_end_date => "ElderlyRecipientValidEndDate",
        contribution_ratio => "ElderlyRecipientContributionRatio",
    } nested {}
);

block!(
    /// `LimitApplicationCertificateRelatedInfo` (限度額適用認定証).
    LimitCertificate {
        classification => "LimitApplicationCertificateClassification",
        classification_flag => "LimitApplicationCertificateClassificationFlag",
        certificate_date => "LimitApplicationCertificateDate",
        valid_start_date => "LimitApplicationCertificateValidStartDate",
        valid_end_date => "LimitApplicationCertificateValidEndDate",
        long_term_date => "LimitApplicationCertificateLongTermDate",
    } nested {}
);

block!(
    /// `SpecificDiseasesCertificateInfo` (特定疾病療養受療証).
    SpecificDisease {
        disease_category => "SpecificDiseasesDiseaseCategory",
        certificate_date => "SpecificDiseasesCertificateDate",
        valid_start_date => "SpecificDiseasesValidStartDate",
        valid_end_date => "SpecificDiseasesValidEndDate",
        self_pay => "SpecificDiseasesSelfPay",
    } nested {}
);

block!(
    /// `ResultOfQualificationConfirmation`: one qualification.
    QualificationFields {
        insured_card_classification => "InsuredCardClassification",
        insurer_number => "InsurerNumber",
        insured_card_symbol => "InsuredCardSymbol",
        insured_identification_number => "InsuredIdentificationNumber",
        insured_branch_number => "InsuredBranchNumber",
        personal_family_classification => "PersonalFamilyClassification",
        insured_name => "InsuredName",
        name => "Name",
        name_of_other => "NameOfOther",
        name_kana => "NameKana",
        name_of_other_kana => "NameOfOtherKana",
        sex1 => "Sex1",
        sex2 => "Sex2",
        birthdate => "Birthdate",
        address => "Address",
        post_number => "PostNumber",
        qualification_date => "QualificationDate",
        disqualification_date => "DisqualificationDate",
        insured_certificate_issuance_date => "InsuredCertificateIssuanceDate",
        insured_card_valid_date => "InsuredCardValidDate",
        insured_card_expiration_date => "InsuredCardExpirationDate",
        insured_partial_contribution_ratio => "InsuredPartialContributionRatio",
        preschool_classification => "PreschoolClassification",
        reason_of_loss => "ReasonOfLoss",
        insurer_name => "InsurerName",
        limit_application_certificate_related_cons_flg => "LimitApplicationCertificateRelatedConsFlg",
        limit_application_certificate_related_cons_time => "LimitApplicationCertificateRelatedConsTime",
        specific_diseases_certificate_related_cons_flg => "SpecificDiseasesCertificateRelatedConsFlg",
        specific_diseases_certificate_related_cons_time => "SpecificDiseasesCertificateRelatedConsTime",
        specific_health_checkups_info_cons_flg => "SpecificHealthCheckupsInfoConsFlg",
        specific_health_checkups_info_cons_time => "SpecificHealthCheckupsInfoConsTime",
        specific_health_checkups_info_available_time => "SpecificHealthCheckupsInfoAvailableTime",
        pharmacists_info_cons_flg => "PharmacistsInfoConsFlg",
        pharmacists_info_cons_time => "PharmacistsInfoConsTime",
        pharmacists_info_available_time => "PharmacistsInfoAvailableTime",
        diagnosis_info_cons_flg => "DiagnosisInfoConsFlg",
        diagnosis_info_cons_time => "DiagnosisInfoConsTime",
        diagnosis_info_available_time => "DiagnosisInfoAvailableTime",
        operation_info_cons_flg => "OperationInfoConsFlg",
        operation_info_cons_time => "OperationInfoConsTime",
        operation_info_available_time => "OperationInfoAvailableTime",
        reference_number => "ReferenceNumber",
    } nested { "ElderlyRecipientCertificateInfo", "LimitApplicationCertificateRelatedInfo", "SpecificDiseasesCertificateList" }
);

/// One `ResultOfQualificationConfirmation` with its nested blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualificationResult {
    #[serde(flatten)]
    pub fields: QualificationFields,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub elderly_recipient: Option<ElderlyRecipient>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub limit_certificate: Option<LimitCertificate>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub specific_diseases: Vec<SpecificDisease>,
}

impl QualificationResult {
    pub fn from_element(e: &Element) -> QualificationResult {
        QualificationResult {
            fields: QualificationFields::from_element(e),
            elderly_recipient: e
                .child("ElderlyRecipientCertificateInfo")
                .map(ElderlyRecipient::from_element),
            limit_certificate: e
                .child("LimitApplicationCertificateRelatedInfo")
                .map(LimitCertificate::from_element),
            specific_diseases: e
                .child("SpecificDiseasesCertificateList")
                .map(|list| {
                    list.children_named("SpecificDiseasesCertificateInfo")
                        .map(SpecificDisease::from_element)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn write(&self, out: &mut String) {
        out.push_str("<ResultOfQualificationConfirmation>");
        self.fields.write_fields(out);
        if let Some(e) = &self.elderly_recipient {
            out.push_str("<ElderlyRecipientCertificateInfo>");
            e.write_fields(out);
            out.push_str("</ElderlyRecipientCertificateInfo>");
        }
        if let Some(l) = &self.limit_certificate {
            out.push_str("<LimitApplicationCertificateRelatedInfo>");
            l.write_fields(out);
            out.push_str("</LimitApplicationCertificateRelatedInfo>");
        }
        if !self.specific_diseases.is_empty() {
            out.push_str("<SpecificDiseasesCertificateList>");
            for d in &self.specific_diseases {
                out.push_str("<SpecificDiseasesCertificateInfo>");
                d.write_fields(out);
                out.push_str("</SpecificDiseasesCertificateInfo>");
            }
            out.push_str("</SpecificDiseasesCertificateList>");
        }
        out.push_str("</ResultOfQualificationConfirmation>");
    }
}

block!(
    /// The scalar fields of `MessageBody`.
    BodyFields {
        processing_result_status => "ProcessingResultStatus",
        processing_result_code => "ProcessingResultCode",
        processing_result_message => "ProcessingResultMessage",
        qualification_validity => "QualificationValidity",
        prescription_issue_select => "PrescriptionIssueSelect",
    } nested { "QualificationConfirmSearchInfo", "ResultList" }
);

/// A whole answer file (`res/` or `face/`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub header: AnswerHeader,
    #[serde(flatten)]
    pub body: BodyFields,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub search_info: Option<SearchInfo>,
    #[serde(default)]
    pub results: Vec<QualificationResult>,
}

impl Answer {
    /// Maps a parsed `XmlMsg` root; every element is optional.
    pub fn from_root(root: &Element) -> Result<Answer, crate::xml::XmlError> {
        if root.name != "XmlMsg" {
            return Err(crate::xml::XmlError::WrongRoot(root.name.chars().take(60).collect()));
        }
        let empty = Element::default();
        let body = root.child("MessageBody").unwrap_or(&empty);
        Ok(Answer {
            header: root.child("MessageHeader").map(AnswerHeader::from_element).unwrap_or_default(),
            body: BodyFields::from_element(body),
            search_info: body.child("QualificationConfirmSearchInfo").map(SearchInfo::from_element),
            results: body
                .child("ResultList")
                .map(|list| {
                    list.children_named("ResultOfQualificationConfirmation")
                        .map(QualificationResult::from_element)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// Writes the answer as the 連携アプリケーション does (UTF-8, declaration first).
    pub fn to_xml(&self) -> String {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<XmlMsg><MessageHeader>",
        );
        self.header.write_fields(&mut out);
        out.push_str("</MessageHeader><MessageBody>");
        write_body(&mut out, self.search_info.as_ref(), &self.body, &self.results);
        out.push_str("</MessageBody></XmlMsg>\n");
        out
    }
}

/// The inside of one answer's body — the echoed search info, the scalar fields, the
/// results — as an answer and each 一括照会 unit write it.
pub(crate) fn write_body(
    out: &mut String,
    search_info: Option<&SearchInfo>,
    body: &BodyFields,
    results: &[QualificationResult],
) {
    if let Some(s) = search_info {
        out.push_str("<QualificationConfirmSearchInfo>");
        s.write_fields(out);
        out.push_str("</QualificationConfirmSearchInfo>");
    }
    body.write_fields(out);
    if !results.is_empty() {
        out.push_str("<ResultList>");
        for r in results {
            r.write(out);
        }
        out.push_str("</ResultList>");
    }
}

/// The 資格確認 request by numbers (`req/OQSsiquc01req_<id>.xml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// YYYYMMDD: the day the qualification is checked for.
    pub qualification_confirmation_date: String,
    /// 10 digits.
    pub medical_institution_code: String,
    pub arbitrary_file_identifier: String,
    /// 8 characters (6-digit 国保 numbers space-padded).
    pub insurer_number: String,
    pub insured_card_symbol: Option<String>,
    pub insured_identification_number: String,
    pub insured_branch_number: Option<String>,
    /// YYYYMMDD.
    pub birthdate: String,
    /// `1` to ask for 限度額 information (the patient consented), else `0`.
    pub limit_application_certificate_related_cons_flg: bool,
}

impl Request {
    /// The request file, exactly in the documented shape.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<XmlMsg>\n  <MessageHeader>\n");
        let line = |out: &mut String, indent: &str, name: &str, value: &str| {
            out.push_str(&format!("{indent}<{name}>{}</{name}>\n", escape(value)));
        };
        line(
            &mut out,
            "    ",
            "QualificationConfirmationDate",
            &self.qualification_confirmation_date,
        );
        line(&mut out, "    ", "MedicalInstitutionCode", &self.medical_institution_code);
        line(&mut out, "    ", "ArbitraryFileIdentifier", &self.arbitrary_file_identifier);
        out.push_str("  </MessageHeader>\n  <MessageBody>\n    <QualificationConfirmSearchInfo>\n");
        line(&mut out, "      ", "InsurerNumber", &self.insurer_number);
        if let Some(s) = &self.insured_card_symbol {
            line(&mut out, "      ", "InsuredCardSymbol", s);
        }
        line(
            &mut out,
            "      ",
            "InsuredIdentificationNumber",
            &self.insured_identification_number,
        );
        if let Some(b) = &self.insured_branch_number {
            line(&mut out, "      ", "InsuredBranchNumber", b);
        }
        line(&mut out, "      ", "Birthdate", &self.birthdate);
        line(
            &mut out,
            "      ",
            "LimitApplicationCertificateRelatedConsFlg",
            if self.limit_application_certificate_related_cons_flg { "1" } else { "0" },
        );
        out.push_str("    </QualificationConfirmSearchInfo>\n  </MessageBody>\n</XmlMsg>\n");
        out
    }

    /// Reads a request file back (the folder peer and the simulator do).
    pub fn from_root(root: &Element) -> Result<Request, crate::xml::XmlError> {
        if root.name != "XmlMsg" {
            return Err(crate::xml::XmlError::WrongRoot(root.name.chars().take(60).collect()));
        }
        let empty = Element::default();
        let header = root.child("MessageHeader").unwrap_or(&empty);
        let search = root
            .child("MessageBody")
            .and_then(|b| b.child("QualificationConfirmSearchInfo"))
            .unwrap_or(&empty);
        // The insurer number keeps its padding: read the raw text, not the trimmed one.
        let insurer_number =
            search.child("InsurerNumber").map(|e| e.text.clone()).unwrap_or_default();
        Ok(Request {
            qualification_confirmation_date: header
                .text_of("QualificationConfirmationDate")
                .unwrap_or_default(),
            medical_institution_code: header.text_of("MedicalInstitutionCode").unwrap_or_default(),
            arbitrary_file_identifier: header
                .text_of("ArbitraryFileIdentifier")
                .unwrap_or_default(),
            insurer_number,
            insured_card_symbol: search.text_of("InsuredCardSymbol"),
            insured_identification_number: search
                .text_of("InsuredIdentificationNumber")
                .unwrap_or_default(),
            insured_branch_number: search.text_of("InsuredBranchNumber"),
            birthdate: search.text_of("Birthdate").unwrap_or_default(),
            limit_application_certificate_related_cons_flg: search
                .text_of("LimitApplicationCertificateRelatedConsFlg")
                .as_deref()
                == Some("1"),
        })
    }
}
