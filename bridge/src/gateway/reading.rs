//! The counter's [`reception::reading::Reading`] of an answer, built here where the answer
//! is typed (`oqs`): terminals read only this, never the answer's JSON.

use oqs::{Answer, Interpretation, QualificationResult, Status};
use reception::reading::{filled, iso_day, Reading};
use reception::{Numbers, Patient, Qualification, Relation};

fn status_name(status: &Status) -> &'static str {
    match status {
        Status::Confirmed => "confirmed",
        Status::Processing => "processing",
        Status::Error => "error",
        Status::Invalid => "invalid",
        Status::InvalidNewQualification => "invalid_new_qualification",
        Status::NotFound => "not_found",
        Status::Multiple { .. } => "multiple",
        Status::Unexpected => "unexpected",
    }
}

/// One result's person as the card shows it.
fn patient_of(r: &QualificationResult) -> Patient {
    let f = &r.fields;
    Patient {
        name: filled(&f.name),
        kana: filled(&f.name_kana),
        birth: filled(&f.birthdate).map(|d| iso_day(&d)),
        sex: filled(&f.sex1),
        address: filled(&f.address),
        // A registered 照会番号 comes back as ReferenceNumber: it is the clinic's patient id.
        clinic_id: filled(&f.reference_number),
        ..Patient::default()
    }
}

/// Its qualification; `classification` is the interpretation's words for a single result.
fn qualification_of(
    r: &QualificationResult,
    classification: Option<String>,
) -> Option<Qualification> {
    let f = &r.fields;
    Some(Qualification {
        numbers: Numbers {
            insurer: filled(&f.insurer_number)?,
            symbol: filled(&f.insured_card_symbol),
            number: filled(&f.insured_identification_number)?,
            branch: filled(&f.insured_branch_number),
        },
        insurer_name: filled(&f.insurer_name),
        relation: filled(&f.personal_family_classification).and_then(|c| Relation::from_code(&c)),
        card_classification: classification,
        public_expense: Vec::new(),
        valid_until: filled(&f.insured_card_expiration_date).map(|d| iso_day(&d)),
    })
}

/// The reading of `answer` by its interpretation.
pub fn counter_reading(answer: &Answer, i: &Interpretation) -> Reading {
    let first = answer.results.first();
    let classification = i.card_classification.map(|t| t.ja.to_string());
    let results = answer.results.len();
    let mut details = String::new();
    if let Some(kind) = &classification {
        details.push_str("区分 ");
        details.push_str(kind);
    }
    for c in &i.consents {
        details.push_str(" ／ ");
        details.push_str(c.what.ja);
        details.push(' ');
        details.push_str(c.state.ja);
    }
    Reading {
        status: status_name(&i.status).to_string(),
        message: filled(&i.message),
        patient: first.map(patient_of).unwrap_or_default(),
        qualification: first.and_then(|r| qualification_of(r, classification.clone())),
        copay: i.copay.clone(),
        valid_until: first
            .and_then(|r| filled(&r.fields.insured_card_expiration_date))
            .map(|d| iso_day(&d)),
        limit_class: first
            .and_then(|r| r.limit_certificate.as_ref())
            .and_then(|l| filled(&l.classification)),
        needs_correction: i.names_need_correction.iter().map(|s| s.to_string()).collect(),
        ratio_missing: i.copay_ratio_missing,
        results,
        choices: if results > 1 {
            answer.results.iter().map(|r| (patient_of(r), qualification_of(r, None))).collect()
        } else {
            Vec::new()
        },
        chosen: false,
        code: filled(&i.code),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oqs::model::{LimitCertificate, QualificationFields};

    fn answer() -> Answer {
        let fields = QualificationFields {
            name: Some("山田　●子".into()),
            name_kana: Some("ﾔﾏﾀﾞ ﾊﾅｺ".into()),
            birthdate: Some("19800401".into()),
            insurer_number: Some("06139998".into()),
            insurer_name: Some("テスト健保".into()),
            insured_card_symbol: Some("12".into()),
            insured_identification_number: Some("345".into()),
            insured_branch_number: Some(" ".into()),
            personal_family_classification: Some("1".into()),
            ..QualificationFields::default()
        };
        let limit =
            LimitCertificate { classification: Some("A01".into()), ..LimitCertificate::default() };
        let result = QualificationResult {
            fields,
            limit_certificate: Some(limit),
            ..QualificationResult::default()
        };
        Answer { results: vec![result], ..Answer::default() }
    }

    fn interpretation(status: Status) -> Interpretation {
        Interpretation {
            status,
            code: None,
            message: Some("  ".into()),
            names_need_correction: vec!["Name"],
            copay_ratio_missing: false,
            copay: None,
            card_classification: Some(eligibility::Text::new("一般", "general")),
            consents: Vec::new(),
        }
    }

    /// What the counter shows of an answer: the person (birth as a date), the numbers (a
    /// blank 枝番 is none), 本人, the classification, the 限度額 区分, the flagged name.
    #[test]
    fn an_answer_reads_as_the_counter_shows_it() {
        let r = counter_reading(&answer(), &interpretation(Status::Confirmed));
        assert!(r.confirmed());
        assert_eq!(r.patient.name.as_deref(), Some("山田　●子"));
        assert_eq!(r.patient.birth.as_deref(), Some("1980-04-01"));
        let q = r.qualification.as_ref().unwrap_or_else(|| panic!("a qualification"));
        assert_eq!(
            (q.numbers.insurer.as_str(), q.numbers.symbol.as_deref()),
            ("06139998", Some("12"))
        );
        assert_eq!(q.numbers.branch, None, "a blank 枝番 is none");
        assert_eq!(q.card_classification.as_deref(), Some("一般"));
        assert_eq!(r.limit_class.as_deref(), Some("A01"));
        assert_eq!(r.needs_correction, vec!["Name".to_string()]);
        assert_eq!(r.message, None, "a blank message is none");
        assert_eq!((r.results, r.choices.len()), (1, 0));
        assert_eq!(r.details, "区分 一般");
        let not_found = counter_reading(&Answer::default(), &interpretation(Status::NotFound));
        assert!(!not_found.confirmed() && not_found.status == "not_found");
        assert_eq!(not_found.patient, Patient::default());
        let mut two = answer();
        two.results.push(two.results[0].clone());
        let several = counter_reading(&two, &interpretation(Status::Multiple { count: 2 }));
        assert_eq!((several.status.as_str(), several.choices.len()), ("multiple", 2));
        assert!(several.choose(1).is_some_and(|c| c.confirmed()));
    }
}
