//! Parser, writer and interpretation on files shaped like the public examples.

use eligibility::{Date, Policy};
use oqs::interpret::{interpret, CardClassification, Status, Validity};
use oqs::{parse_answer, parse_request, Request, XmlError};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn visit() -> Date {
    Date::parse("2026-11-25").unwrap()
}

#[test]
fn minimal_face_result() {
    let a = parse_answer(&fixture("face_minimal.xml")).unwrap();
    assert_eq!(a.header.reference_classification.as_deref(), Some("1"));
    let r = &a.results[0].fields;
    assert_eq!(r.insurer_number.as_deref(), Some("01130012"));
    assert_eq!(r.insured_branch_number.as_deref(), Some("00"), "leading zeros kept");
    assert_eq!(r.insured_card_symbol.as_deref(), Some("１２３４"), "values as sent");
    let i = interpret(&a, &Policy::embedded().unwrap(), visit());
    assert_eq!(i.status, Status::Confirmed);
    let copay = i.copay.unwrap();
    assert_eq!(
        (copay.percent, copay.is_confirmed()),
        (30, false),
        "46-year-old: 3割, not sent at this age"
    );
    assert!(!i.copay_ratio_missing);
}

#[test]
fn full_result_with_every_block() {
    let a = parse_answer(&fixture("full.xml")).unwrap();
    assert_eq!(a.body.processing_result_code.as_deref(), Some("W0001"));
    assert_eq!(a.search_info.as_ref().unwrap().insurer_number.as_deref(), Some("06139999"));
    let r = &a.results[0];
    assert_eq!(r.fields.address.as_deref(), Some("東京都港区芝公園4-2-8 & 別棟"));
    assert_eq!(r.elderly_recipient.as_ref().unwrap().contribution_ratio.as_deref(), Some("020"));
    assert_eq!(r.limit_certificate.as_ref().unwrap().classification_flag.as_deref(), Some("A03"));
    assert_eq!(r.specific_diseases.len(), 2);
    assert_eq!(
        r.fields.other.get("FutureField").map(String::as_str),
        Some("kept"),
        "unknown elements kept"
    );
    assert_eq!(
        CardClassification::from_code(r.fields.insured_card_classification.as_deref().unwrap()),
        CardClassification::General
    );
    assert_eq!(
        Validity::from_code(a.body.qualification_validity.as_deref().unwrap()),
        Validity::Valid
    );
    let i = interpret(&a, &Policy::embedded().unwrap(), visit());
    assert_eq!(i.status, Status::Confirmed);
    assert_eq!(
        i.message.as_deref(),
        Some("電子証明書の有効期限が近づいています。市区町村窓口で更新してください。"),
        "notice kept as is"
    );
    let copay = i.copay.unwrap();
    assert_eq!(
        (copay.percent, copay.is_confirmed()),
        (20, true),
        "70–74 from ElderlyRecipientContributionRatio"
    );
}

#[test]
fn shift_jis_input() {
    let utf8 = String::from_utf8(fixture("full.xml"))
        .unwrap()
        .replace("encoding=\"UTF-8\"", "encoding=\"Shift_JIS\"");
    let (sjis, _, errors) = encoding_rs::SHIFT_JIS.encode(&utf8);
    assert!(!errors);
    assert!(std::str::from_utf8(&sjis).is_err(), "really Shift_JIS bytes");
    assert_eq!(parse_answer(&sjis).unwrap(), parse_answer(&fixture("full.xml")).unwrap());
    // Without a declaration, invalid UTF-8 is read as Shift_JIS.
    let undeclared =
        utf8.replacen("<?xml version=\"1.0\" encoding=\"Shift_JIS\" standalone=\"no\"?>", "", 1);
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&undeclared);
    assert_eq!(parse_answer(&bytes).unwrap().results[0].fields.name.as_deref(), Some("鈴木　花子"));
}

#[test]
fn multiple_results_are_never_picked_silently() {
    let a = parse_answer(&fixture("multiple.xml")).unwrap();
    let i = interpret(&a, &Policy::embedded().unwrap(), visit());
    assert_eq!(i.status, Status::Multiple { count: 2 });
    assert_eq!(i.copay, None, "no copay from an unchosen result");
}

#[test]
fn error_answers_keep_the_message() {
    let a = parse_answer(&fixture("error.xml")).unwrap();
    let i = interpret(&a, &Policy::embedded().unwrap(), visit());
    assert_eq!(i.status, Status::Error);
    assert_eq!(i.code.as_deref(), Some("EQ0101"));
    assert_eq!(i.message.as_deref(), Some("入力された保険者番号は存在しません。"));
}

#[test]
fn invalid_with_new_qualification_and_stand_in_names() {
    let a = parse_answer(&fixture("invalid_new.xml")).unwrap();
    let i = interpret(&a, &Policy::embedded().unwrap(), visit());
    assert_eq!(i.status, Status::InvalidNewQualification);
    assert_eq!(i.message.as_deref(), Some("新しい資格が存在します。"));
    assert_eq!(i.names_need_correction, vec!["Name"]);
}

#[test]
fn kumamoto_case_valid_but_no_ratio() {
    let a = parse_answer(&fixture("kumamoto.xml")).unwrap();
    let i = interpret(&a, &Policy::embedded().unwrap(), visit());
    assert_eq!(i.status, Status::Confirmed);
    assert!(i.copay_ratio_missing);
    assert_eq!(i.copay.unwrap().percent, 10, "estimated 1割, flagged");
}

#[test]
fn validity_codes() {
    for (code, status) in
        [("2", Status::Invalid), ("4", Status::NotFound), ("9", Status::Unexpected)]
    {
        let xml = format!("<XmlMsg><MessageHeader><SegmentOfResult>1</SegmentOfResult></MessageHeader><MessageBody><ProcessingResultStatus>1</ProcessingResultStatus><QualificationValidity>{code}</QualificationValidity></MessageBody></XmlMsg>");
        let a = parse_answer(xml.as_bytes()).unwrap();
        assert_eq!(
            interpret(&a, &Policy::embedded().unwrap(), visit()).status,
            status,
            "validity {code}"
        );
    }
}

#[test]
fn answers_round_trip_through_the_writer() {
    for name in [
        "face_minimal.xml",
        "full.xml",
        "multiple.xml",
        "error.xml",
        "invalid_new.xml",
        "kumamoto.xml",
    ] {
        let a = parse_answer(&fixture(name)).unwrap();
        assert_eq!(parse_answer(a.to_xml().as_bytes()).unwrap(), a, "{name}");
    }
}

#[test]
fn requests_round_trip_in_the_documented_shape() {
    let r = Request {
        qualification_confirmation_date: "20261125".into(),
        medical_institution_code: "1312345678".into(),
        arbitrary_file_identifier: "0193a1b2-0001".into(),
        insurer_number: "  133033".into(),
        insured_card_symbol: Some("医国".into()),
        insured_identification_number: "1234".into(),
        insured_branch_number: Some("01".into()),
        birthdate: "19800401".into(),
        limit_application_certificate_related_cons_flg: true,
    };
    let xml = r.to_xml();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<XmlMsg>\n  <MessageHeader>\n    <QualificationConfirmationDate>20261125</QualificationConfirmationDate>"));
    assert!(xml.contains("      <InsurerNumber>  133033</InsurerNumber>\n"), "{xml}");
    assert!(xml.contains(
        "<LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg>"
    ));
    assert_eq!(parse_request(xml.as_bytes()).unwrap(), r);
    let bare = Request { insured_card_symbol: None, insured_branch_number: None, ..r };
    let xml = bare.to_xml();
    assert!(!xml.contains("InsuredCardSymbol") && !xml.contains("InsuredBranchNumber"));
    assert_eq!(parse_request(xml.as_bytes()).unwrap(), bare);
}

fn rejected(bytes: &[u8]) -> XmlError {
    parse_answer(bytes).unwrap_err()
}

#[test]
fn rejections() {
    let dtd = br#"<?xml version="1.0"?><!DOCTYPE XmlMsg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><XmlMsg>&xxe;</XmlMsg>"#;
    assert_eq!(rejected(dtd), XmlError::Dtd);
    assert_eq!(rejected(b"<XmlMsg><Name>&xxe;</Name></XmlMsg>"), XmlError::Entity("xxe".into()));
    assert!(
        parse_answer(b"<XmlMsg><Name>&#x5C71;&amp;&lt;</Name></XmlMsg>").is_ok(),
        "XML's own references are fine"
    );
    let big = vec![b' '; oqs::xml::MAX_BYTES + 1];
    assert_eq!(rejected(&big), XmlError::TooLarge(oqs::xml::MAX_BYTES + 1));
    let full = fixture("full.xml");
    assert!(matches!(rejected(&full[..full.len() / 2]), XmlError::Truncated | XmlError::Syntax(_)));
    assert_eq!(rejected(b"<Other><A>1</A></Other>"), XmlError::WrongRoot("Other".into()));
    assert_eq!(rejected(b""), XmlError::Empty);
    assert!(matches!(rejected(b"<XmlMsg><A></B></XmlMsg>"), XmlError::Syntax(_)));
    let deep = "<a>".repeat(100) + &"</a>".repeat(100);
    assert_eq!(rejected(deep.as_bytes()), XmlError::TooDeep);
    assert!(matches!(
        rejected(b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><XmlMsg>\x82</XmlMsg>"),
        XmlError::Encoding(_)
    ));
    assert!(rejected(b"<XmlMsg/>junk<More/>").to_string().contains("XML"));
}

/// SegmentOfResult: 1 success, 2 処理中 (ask again), anything else a failure with its code.
#[test]
fn segment_of_result_codes() {
    let answer = |segment: &str| {
        let xml = format!("<XmlMsg><MessageHeader><SegmentOfResult>{segment}</SegmentOfResult><ErrorCode>E{segment}</ErrorCode></MessageHeader><MessageBody><ProcessingResultStatus>1</ProcessingResultStatus><QualificationValidity>4</QualificationValidity></MessageBody></XmlMsg>");
        interpret(&parse_answer(xml.as_bytes()).unwrap(), &Policy::embedded().unwrap(), visit())
    };
    assert_eq!(answer("1").status, Status::NotFound);
    assert_eq!(answer("2").status, Status::Processing);
    for other in ["3", "9"] {
        let i = answer(other);
        assert_eq!(i.status, Status::Error, "{other}");
        assert_eq!(i.code.as_deref(), Some(format!("E{other}").as_str()), "the code is shown");
    }
}

/// CharacterCodeIdentifier never decides decoding (public code gives it two opposite
/// meanings): the declaration and the bytes do.
#[test]
fn character_code_identifier_never_decides_decoding() {
    for identifier in ["0", "1", "2"] {
        let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><XmlMsg><MessageHeader><SegmentOfResult>1</SegmentOfResult><CharacterCodeIdentifier>{identifier}</CharacterCodeIdentifier></MessageHeader><MessageBody><ResultList><ResultOfQualificationConfirmation><Name>山田　太郎</Name></ResultOfQualificationConfirmation></ResultList></MessageBody></XmlMsg>");
        let a = parse_answer(xml.as_bytes()).unwrap();
        assert_eq!(
            a.results[0].fields.name.as_deref(),
            Some("山田　太郎"),
            "identifier {identifier}"
        );
    }
}

/// Card classification 05 is 特別療養費支給対象者; consents 2 and 3 are words, not codes.
#[test]
fn classification_and_consents_in_words() {
    let xml = "<XmlMsg><MessageHeader><SegmentOfResult>1</SegmentOfResult></MessageHeader><MessageBody><ProcessingResultStatus>1</ProcessingResultStatus><QualificationValidity>1</QualificationValidity><ResultList><ResultOfQualificationConfirmation><InsuredCardClassification>05</InsuredCardClassification><PharmacistsInfoConsFlg>2</PharmacistsInfoConsFlg><DiagnosisInfoConsFlg>3</DiagnosisInfoConsFlg><OperationInfoConsFlg>1</OperationInfoConsFlg></ResultOfQualificationConfirmation></ResultList></MessageBody></XmlMsg>";
    let i =
        interpret(&parse_answer(xml.as_bytes()).unwrap(), &Policy::embedded().unwrap(), visit());
    assert_eq!(i.card_classification.map(|t| t.ja), Some("特別療養費支給対象者（資格証明書）"));
    let states: Vec<(&str, &str)> = i.consents.iter().map(|c| (c.what.ja, c.state.ja)).collect();
    assert_eq!(
        states,
        [
            ("薬剤情報", "同意の有効期限切れ"),
            ("診療情報", "同意の取得が困難"),
            ("手術情報", "同意あり")
        ]
    );
}
