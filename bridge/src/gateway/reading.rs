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
