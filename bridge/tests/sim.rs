//! The simulator: its population covers the cases clinics meet, card confirmations verify
//! for real, and faults apply.

use bridge::gateway::sim::{Faults, Sim, SimGateway, Standing};
use bridge::gateway::{Gateway, GatewayError};
use card::pin::{Pin, StaffConfirmation};
use card::virtual_card::{TestPerson, TestPki, VirtualCard};
use eligibility::{AgeBand, Date, InsurerNumber, Policy};
use std::sync::Arc;

fn today() -> Date {
    Date::parse("2026-11-25").unwrap()
}

#[test]
fn population_covers_the_field() {
    let sim = Sim::new(today());
    let people = sim.people();
    assert!(people.len() >= 300, "{} persons", people.len());
    let band = |p: &&bridge::gateway::sim::SimPerson| AgeBand::on(p.birth, today());
    let count = |f: &dyn Fn(&&bridge::gateway::sim::SimPerson) -> bool| {
        people.iter().filter(|p| f(p)).count()
    };
    assert!(count(&|p| band(p) == Some(AgeBand::Preschool) && p.preschool) > 5);
    assert!(
        count(&|p| band(p) == Some(AgeBand::Age70To74) && p.elderly_ratio.as_deref() == Some("020"))
            > 3
    );
    assert!(
        count(&|p| band(p) == Some(AgeBand::Age70To74) && p.elderly_ratio.as_deref() == Some("030"))
            > 0
    );
    for ratio in ["010", "020", "030"] {
        assert!(count(&|p| p.partial_ratio.as_deref() == Some(ratio)) > 3, "後期 {ratio}");
    }
    // Every insurer kind, every number valid: each person can be looked up.
    for p in people {
        assert!(p.query(today()).is_some(), "{}: {} {:?} {}", p.id, p.insurer, p.symbol, p.number);
    }
    let kinds: std::collections::BTreeSet<String> = people
        .iter()
        .map(|p| format!("{:?}", InsurerNumber::parse(&p.insurer).unwrap().kind()))
        .collect();
    assert!(kinds.len() >= 6, "{kinds:?}");
    assert!(count(&|p| p.limit_flag.is_some()) > 10);
    assert!(count(&|p| p.specific_disease.is_some()) > 3);
    assert!(count(&|p| matches!(p.standing, Standing::LostWithNew(_))) == 1);
    assert!(count(&|p| p.name.contains('●')) == 1);
    // Deterministic: the same population on every machine.
    assert_eq!(Sim::new(today()).people(), people);
}

fn confirmation(id: &str, visit: Date) -> card::ops::Confirmation {
    let pki = TestPki::new(visit).unwrap();
    let mut c = VirtualCard::new(&pki, TestPerson::find(id).unwrap()).unwrap();
    pollster::block_on(card::ops::confirm(
        &mut c,
        Pin::new("1234").unwrap(),
        StaffConfirmation::NotGiven,
        b"bridge-challenge",
    ))
    .unwrap()
}

#[test]
fn card_confirmations_verify_for_real() {
    let sim = Sim::new(today());
    let policy = Policy::embedded().unwrap();
    let confirm = |c: &card::ops::Confirmation, challenge: &[u8]| {
        sim.confirm_card(
            &policy,
            c.holder,
            &c.certificate,
            &c.signature,
            challenge,
            today(),
            "20261125100000",
        )
    };
    let yamada = confirmation("yamada", today());
    let answer = confirm(&yamada, b"bridge-challenge").unwrap();
    assert_eq!(answer.header.reference_classification.as_deref(), Some("1"));
    assert_eq!(answer.results[0].fields.name.as_deref(), Some("山田太郎"));
    // A signature over another challenge, or a tampered one, is refused.
    assert!(matches!(confirm(&yamada, b"other"), Err(GatewayError::CardRejected(_))));
    let mut tampered = yamada.clone();
    tampered.signature[10] ^= 1;
    assert!(matches!(confirm(&tampered, b"bridge-challenge"), Err(GatewayError::CardRejected(_))));
    // Grace: a card expired 2 months ago passes; 4 months ago does not; a phone has none.
    assert!(confirm(&confirmation("suzuki", today()), b"bridge-challenge").is_ok());
    assert!(matches!(
        confirm(&confirmation("takahashi", today()), b"bridge-challenge"),
        Err(GatewayError::CertificateExpired)
    ));
    assert!(matches!(
        confirm(&confirmation("watanabe", today()), b"bridge-challenge"),
        Err(GatewayError::CertificateExpired)
    ));
    // Outage: nothing answers.
    sim.set_faults(Faults { outage: true, ..Faults::default() });
    assert_eq!(confirm(&yamada, b"bridge-challenge"), Err(GatewayError::Unavailable));
}

#[tokio::test]
async fn faults_apply_to_the_embedded_gateway() {
    let sim = Arc::new(Sim::new(today()));
    let gateway = SimGateway::new(sim.clone());
    let query = sim.person("p010").unwrap().query(today()).unwrap();
    let policy = Policy::embedded().unwrap();
    let status = |a: &oqs::Answer| oqs::interpret(a, &policy, today()).status;
    assert_eq!(status(&gateway.lookup(&query).await.unwrap()), oqs::Status::Confirmed);
    sim.set_faults(Faults { invalid_storm: true, ..Faults::default() });
    assert_eq!(status(&gateway.lookup(&query).await.unwrap()), oqs::Status::Invalid);
    sim.set_faults(Faults { error_rate: 1.0, ..Faults::default() });
    assert_eq!(status(&gateway.lookup(&query).await.unwrap()), oqs::Status::Error);
    sim.set_faults(Faults { outage: true, ..Faults::default() });
    assert_eq!(gateway.lookup(&query).await, Err(GatewayError::Unavailable));
    sim.set_faults(Faults { latency_ms: 150, ..Faults::default() });
    let started = std::time::Instant::now();
    gateway.lookup(&query).await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    let mut events = gateway.events();
    assert!(gateway.tap("yamada", today(), "20261125100000"));
    assert!(matches!(events.recv().await.unwrap(), bridge::gateway::GatewayEvent::Face { .. }));
}
