//! No input panics the record's readers; what they accept they write back unchanged.

use proptest::prelude::*;
use reception::RecordEvent;

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<u32>().prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("confirmed"),
            Just("card"),
            Just("nothing"),
            Just("2026-12-01"),
            Just("unknown"),
            Just("follow_up_pending"),
            Just("normal"),
            Just("myna_card"),
            Just("statement_form"),
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        let keys = prop_oneof![
            Just("schema"),
            Just("visit"),
            Just("presented"),
            Just("established"),
            Just("status"),
            Just("claim"),
            Just("plan"),
            Just("patient"),
            Just("method"),
            Just("note"),
            Just("copay_percent"),
            Just("copay_basis"),
            Just("reason"),
            Just("reception"),
            Just("state"),
            Just("result"),
            Just("follow_up"),
            Just("birth"),
            Just("name"),
        ];
        prop::collection::btree_map(keys.prop_map(String::from), inner, 0..6)
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn ledger_bodies_never_panic_and_round_trip(body in json(), time in "\\PC{0,30}") {
        for kind in ["reception", "corrected", "voided", "claim_decided", "note", "follow_up_result", "face_result", "other"] {
            if let Ok(event) = RecordEvent::parse(kind, &time, &body) {
                prop_assert_eq!(RecordEvent::parse(kind, "", &event.body()).ok(), Some(event));
            }
        }
    }
}
