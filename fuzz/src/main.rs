//! `cargo xtask fuzz`: arbitrary inputs through every parser that reads bytes from outside
//! the bridge or the page — the 資格確認端末's XML and its interpretation, APDUs, BER/TLV
//! and DER, the Sony readers' Port-100 / CCID / ISO-DEP frames, the wire protocol's
//! deserialisers, the policy table a terminal fetches and `rules decide`'s JSON.
//!
//! Stable Rust has no coverage-guided fuzzing (libFuzzer needs nightly), so this is a
//! mutation fuzzer without feedback: each execution takes a seed (a valid input of that
//! parser) or random bytes, applies one to eight mutations (bit flips, interesting bytes,
//! inserted, deleted, duplicated and spliced ranges, truncation, and for text targets
//! swapped tokens), and calls the parser inside `catch_unwind`. A panic is a failure: its
//! input is written to `target/fuzz-crashes/` and the run exits 1.
//!
//! `fuzz [--execs N] [--seed S] [--only NAME]` prints one line per target: executions,
//! panics, executions per second.

use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

/// xorshift64*: deterministic for a given `--seed`, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

const INTERESTING: [u8; 12] =
    [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x83, 0xff, b'<', b'>', b'"', b'&'];
/// Tokens a text parser cares about, spliced into text inputs.
const TOKENS: [&[u8]; 16] = [
    b"<",
    b"</",
    b"/>",
    b"&amp;",
    b"&#x",
    b"<![CDATA[",
    b"]]>",
    b"<?xml",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b"null",
    b"-1",
    b"99999999999999999999",
];

/// One to eight mutations of `input` (`others` for splicing).
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, others: &[Vec<u8>], text: bool) {
    for _ in 0..1 + rng.below(8) {
        let len = input.len();
        match rng.below(if text { 10 } else { 9 }) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.byte();
            }
            3 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                input.splice(at..at, bytes);
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                input.drain(at..at + n);
            }
            5 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                let copy = input[at..at + n].to_vec();
                let to = rng.below(input.len() + 1);
                input.splice(to..to, copy);
            }
            6 if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let n = 1 + rng.below((other.len() - from).min(128));
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[from..from + n].iter().copied());
                }
            }
            7 if len > 0 => input.truncate(rng.below(len)),
            8 if len > 0 => {
                // A length byte somewhere set to something large or small.
                let i = rng.below(len);
                input[i] = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff][rng.below(8)];
            }
            9 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                input.splice(at..at, token.iter().copied());
            }
            _ => {}
        }
    }
    input.truncate(64 * 1024);
}

/// What a target does with one input (nothing but call the parsers).
type Run = Box<dyn Fn(&[u8])>;

/// A parser under test and the valid inputs its mutations start from.
struct Target {
    name: &'static str,
    text: bool,
    seeds: Vec<Vec<u8>>,
    run: Run,
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/oqs/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn targets() -> Vec<Target> {
    use card::reader::{isodep, port100, rcs300};
    let policy = eligibility::Policy::embedded().expect("the embedded policy loads");
    let visit = eligibility::Date::parse("2026-12-01").expect("a date");
    let xml: Vec<Vec<u8>> = [
        "full.xml",
        "multiple.xml",
        "kumamoto.xml",
        "face_minimal.xml",
        "error.xml",
        "invalid_new.xml",
    ]
    .into_iter()
    .map(fixture)
    .collect();
    let pki = card::virtual_card::TestPki::new(visit).expect("the test PKI");
    let mut certificates = vec![pki.ca_certificate_der().to_vec()];
    if let Some(person) = card::virtual_card::TestPerson::find("yamada") {
        if let Ok((der, _)) = pki.issue(person) {
            certificates.push(der);
        }
    }
    let policy_json = serde_json::to_vec(&policy).expect("the policy serialises");
    let decide_policy = policy.clone();
    let json_policy = policy.clone();
    let bulk_policy = policy.clone();
    vec![
        Target {
            name: "oqs xml + interpretation",
            text: true,
            seeds: xml.clone(),
            run: Box::new(move |b| {
                if let Ok(answer) = oqs::parse_answer(b) {
                    let _ = oqs::interpret(&answer, &policy, visit);
                }
            }),
        },
        Target {
            name: "oqs bulk xml (一括照会, 照会番号)",
            text: true,
            seeds: vec![fixture("bulk_download.xml"), fixture("full.xml")],
            run: Box::new(move |b| {
                if let Ok(root) = oqs::bulk::parse_root(b) {
                    if let Ok(answer) = oqs::bulk::BulkAnswer::from_root(&root) {
                        let _ = answer.progress();
                        for unit in &answer.units {
                            let _ = oqs::interpret(&unit.answer(&answer.header), &bulk_policy, visit);
                        }
                    }
                    let _ = oqs::bulk::UploadAnswer::from_root(&root).map(|a| a.progress());
                    let _ = oqs::bulk::BulkUpload::from_root(&root);
                    let _ = oqs::bulk::BulkDownload::from_root(&root);
                    let _ = oqs::bulk::Registration::from_root(&root);
                }
            }),
        },
        Target {
            name: "oqs request xml",
            text: true,
            seeds: xml,
            run: Box::new(|b| {
                let _ = oqs::parse_request(b);
            }),
        },
        Target {
            name: "apdu command/response",
            text: false,
            seeds: vec![
                vec![0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01],
                vec![0x00, 0x20, 0x00, 0x80, 0x04, 0x31, 0x32, 0x33, 0x34],
                vec![0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00],
                vec![0x90, 0x00],
                vec![0x63, 0xC2],
            ],
            run: Box::new(|b| {
                let _ = card::apdu::Command::parse(b);
                let _ = card::apdu::Response::parse(b);
            }),
        },
        Target {
            name: "ber/tlv",
            text: false,
            seeds: certificates.clone(),
            run: Box::new(|b| {
                let _ = card::ber::header(b, b.len());
                if let Ok(list) = card::ber::elements(b, b.len()) {
                    for (_, inner) in list {
                        let _ = card::ber::elements(inner, inner.len());
                    }
                }
            }),
        },
        Target {
            name: "der certificate",
            text: false,
            seeds: certificates,
            run: Box::new(|b| {
                let _ = card::certificate::CertificateSummary::from_der(b);
            }),
        },
        Target {
            name: "card basic info (text AP)",
            text: false,
            seeds: vec![vec![0xFF, 0x20, 0x10, 0xDF, 0x21, 0x02, 0xE5, 0xB1, 0xDF, 0x22, 0x02, b'1', b'9']],
            run: Box::new(|b| {
                let _ = card::text_ap::parse_basic_info(b);
            }),
        },
        Target {
            name: "port-100 frame",
            text: false,
            seeds: vec![port100::frame(&[0xD7, 0x00, 0x00]), port100::command(0x2A, &[0x01]), vec![0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00]],
            run: Box::new(|b| {
                let _ = port100::parse_frame(b);
            }),
        },
        Target {
            name: "rc-s300 ccid objects",
            text: false,
            seeds: vec![
                vec![0xC0, 0x03, 0x00, 0x90, 0x00, 0x97, 0x02, 0x90, 0x00],
                vec![0x97, 0x81, 0x02, 0x90, 0x00, 0x96, 0x02, 0x00, 0x00],
                rcs300::ber_length(300),
            ],
            run: Box::new(|b| {
                let _ = rcs300::parse_objects(b);
            }),
        },
        Target {
            name: "iso-dep sensb/ats",
            text: false,
            seeds: vec![
                vec![0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x81, 0x81],
                vec![0x05, 0x78, 0x80, 0x70, 0x02],
            ],
            run: Box::new(|b| {
                let _ = isodep::parse_sensb_res(b);
                let _ = isodep::parse_ats(b);
            }),
        },
        Target {
            name: "wire protocol",
            text: true,
            seeds: vec![
                br#"{"v":1,"id":"r1","kind":"hello","token":"abc"}"#.to_vec(),
                br#"{"v":1,"id":"r2","kind":"confirm_card","reader":null,"pin":"1234","staff_confirmed_last_try":false}"#.to_vec(),
                br#"{"v":1,"id":"r3","kind":"push","ops":[{"op_id":"a","record_id":"b","kind":"reception","device_time":"2026-12-01T09:00:00+09:00","body":{"status":"confirmed"}}]}"#.to_vec(),
                br#"{"v":1,"id":"r4","kind":"lookup","query":{"insurer":"01130012","symbol":"12","number":"34","branch":"01","birth":"1980-04-01"}}"#.to_vec(),
                br#"{"v":1,"in_reply_to":"r1","kind":"welcome","device_id":"d","server_time":"t","version":1,"can_confirm_card":false,"training":true}"#.to_vec(),
                br#"{"events":[],"next":0,"more":false}"#.to_vec(),
            ],
            run: Box::new(|b| {
                let _ = serde_json::from_slice::<protocol::ClientEnvelope>(b);
                let _ = serde_json::from_slice::<protocol::ServerEnvelope>(b);
                let _ = serde_json::from_slice::<protocol::PushRequest>(b);
                let _ = serde_json::from_slice::<protocol::PairRequest>(b);
                let _ = serde_json::from_slice::<protocol::PullResponse>(b);
                let _ = serde_json::from_slice::<protocol::PolicyTable>(b);
                if let Ok(q) = serde_json::from_slice::<protocol::LookupQuery>(b) {
                    let _ = serde_json::to_string(&q);
                }
            }),
        },
        Target {
            name: "ledger bodies",
            text: true,
            seeds: vec![
                r#"{"schema":2,"visit":"2026-12-01","presented":"myna_card","established":"online_confirmation","status":"confirmed","claim":{"plan":"normal"},"patient":{"name":"a","birth":"1980-04-01"},"copay":{"percent":30,"band":"working_age","basis":{"kind":"estimated","reasons":[{"reason":"not_sent_for_this_age"}]},"could_also_be":[]}}"#.as_bytes().to_vec(),
                r#"{"method":"nothing","status":"follow_up_pending","patient":{"birth":"1940-01-01","insurer":"01130012","number":"1"},"copay_percent":10,"copay_basis":"estimated","note":"被保険者資格申立書を記入してもらい、事後に資格確認（通常の自己負担で） 受診日: 2026-11-20"}"#.as_bytes().to_vec(),
                r#"{"reason":"二重登録"}"#.as_bytes().to_vec(),
                r#"{"outcome":"claim_unknown","claim":{"plan":"unknown","unknown":{"placeholders":{"insurer_number":"77777777","symbol":"7","number":"7"}}}}"#.as_bytes().to_vec(),
                r#"{"follow_up_id":1,"state":"done","result":{"interpretation":{"status":{"status":"confirmed"}}}}"#.as_bytes().to_vec(),
            ],
            run: Box::new(|b| {
                let Ok(body) = serde_json::from_slice::<serde_json::Value>(b) else { return };
                for kind in ["reception", "corrected", "voided", "claim_decided", "note", "follow_up_result"] {
                    if let Ok(event) = reception::RecordEvent::parse(kind, "2026-12-01T09:00:00+09:00", &body) {
                        // What parses writes back to a body that parses to the same event.
                        let again = reception::RecordEvent::parse(kind, "", &event.body());
                        assert_eq!(again.as_ref().ok(), Some(&event), "{kind} round trip");
                        let stored = protocol::StoredEvent {
                            seq: 1, op_id: "o".into(), record_id: "r".into(), device_id: "d".into(),
                            kind: kind.into(), device_time: "2026-12-01T09:00:00+09:00".into(),
                            received_time: String::new(), body: event.body(), training: false,
                        };
                        let (states, _) = reception::life::fold(&[stored]);
                        for s in &states {
                            let _ = s.work();
                            let _ = reception::export::row(s, "d");
                        }
                    }
                }
            }),
        },
        Target {
            name: "policy table json",
            text: true,
            seeds: vec![policy_json],
            run: Box::new(move |b| {
                if let Ok(text) = std::str::from_utf8(b) {
                    if let Ok(p) = eligibility::Policy::from_json(text) {
                        let _ = p.unknown_on(visit);
                        let _ = json_policy.version;
                    }
                }
            }),
        },
        Target {
            name: "rules decide json",
            text: true,
            seeds: vec![
                br#"{"context": {"visit": "20261125", "presented": "nothing", "visit_type": "first"}}"#.to_vec(),
                br#"{"root": "claim", "context": {"visit": "2026-11-25", "statement": {"address": "x", "contact": "090"}}}"#.to_vec(),
                br#"{"context": {"visit": "2026-11-25", "presented": "health_insurance_card"}, "answers": {"lookup_by_numbers": "confirmed"}}"#.to_vec(),
                br#"{"context": {"visit": "2026-11-25"}}"#.to_vec(),
            ],
            run: Box::new(move |b| {
                if let Ok(request) = serde_json::from_slice::<fallback::DecideRequest>(b) {
                    let tree = fallback::Tree::official();
                    if let Ok(decision) =
                        tree.decide(&decide_policy, &request.context, &request.answers, request.root)
                    {
                        let path = match &decision {
                            fallback::Decision::Done { path, .. } | fallback::Decision::Ask { path, .. } => path,
                        };
                        let _ = fallback::caveats(&decide_policy, &request.context, path);
                        let _ = serde_json::to_string(&decision);
                    }
                }
            }),
        },
    ]
}

fn main() {
    let mut execs: u64 = 1_000_000;
    let mut seed: u64 = 0x6d61_646f_6775_6368; // "madoguch"
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--execs" => execs = args.next().and_then(|v| v.parse().ok()).unwrap_or(execs),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "--only" => only = args.next(),
            other => {
                eprintln!("fuzz: unknown argument {other} (--execs N, --seed S, --only NAME)");
                std::process::exit(2);
            }
        }
    }
    // A panic is counted and its input saved; the default hook would print each one.
    panic::set_hook(Box::new(|_| {}));
    let crashes_dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-crashes");
    let mut failed = false;
    println!("{:<30} {:>12} {:>8} {:>12}", "target", "executions", "panics", "execs/s");
    for target in targets() {
        if only.as_deref().is_some_and(|o| !target.name.contains(o)) {
            continue;
        }
        let mut rng = Rng(seed ^ target.name.len() as u64 ^ 0x9e37_79b9_7f4a_7c15);
        let started = Instant::now();
        let mut panics = 0u64;
        let mut input = Vec::with_capacity(4096);
        for n in 0..execs {
            input.clear();
            // One in sixteen from nothing; the rest from a seed.
            if n % 16 == 0 || target.seeds.is_empty() {
                let len = rng.below(256);
                input.extend((0..len).map(|_| rng.byte()));
            } else {
                input.extend_from_slice(&target.seeds[rng.below(target.seeds.len())]);
            }
            mutate(&mut rng, &mut input, &target.seeds, target.text);
            if panic::catch_unwind(AssertUnwindSafe(|| (target.run)(&input))).is_err() {
                panics += 1;
                if panics <= 5 {
                    let _ = std::fs::create_dir_all(&crashes_dir);
                    let file = crashes_dir
                        .join(format!("{}-{n}.bin", target.name.replace([' ', '/', '+'], "_")));
                    let _ = std::fs::write(&file, &input);
                    eprintln!("fuzz: {} panicked; input saved to {}", target.name, file.display());
                }
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:<30} {:>12} {:>8} {:>12.0}",
            target.name,
            execs,
            panics,
            execs as f64 / secs.max(1e-9)
        );
        failed |= panics > 0;
    }
    if failed {
        std::process::exit(1);
    }
}
