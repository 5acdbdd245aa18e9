//! `bridge rules …` run as the real binary: output, exit codes, and bad input.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs the bridge with `args` and `stdin`; returns (exit code, stdout, stderr).
fn bridge(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bridge starts");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check(args: &[&str], stdin: &str, code: i32, stdout_has: &[&str], stderr_has: &[&str]) {
    let (got, stdout, stderr) = bridge(args, stdin);
    assert_eq!(got, code, "{args:?}\nstdout: {stdout}\nstderr: {stderr}");
    for s in stdout_has {
        assert!(stdout.contains(s), "{args:?}: stdout lacks {s:?}:\n{stdout}");
    }
    for s in stderr_has {
        assert!(stderr.contains(s), "{args:?}: stderr lacks {s:?}:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
}

#[test]
fn check_insurer() {
    check(
        &["rules", "check-insurer", "39131008"],
        "",
        0,
        &["valid", "後期高齢者医療", "東京都"],
        &[],
    );
    check(&["rules", "check-insurer", "０１１３００１２"], "", 0, &["01130012", "協会けんぽ"], &[]);
    check(&["rules", "check-insurer", "01130013"], "", 1, &["検証番号", "should be 2"], &[]);
    check(&["rules", "check-insurer", "12ab"], "", 1, &["数字ではありません"], &[]);
    check(
        &["rules", "check-insurer", "133033", "--format", "json"],
        "",
        0,
        &["\"national_health_insurance_society\"", "\"  133033\""],
        &[],
    );
    check(&["rules", "check-insurer", "1", "--format", "json"], "", 1, &["\"valid\": false"], &[]);
}

#[test]
fn copay() {
    check(
        &["rules", "copay", "--birth", "20200401", "--visit", "20260331"],
        "",
        0,
        &["2割", "推定"],
        &[],
    );
    check(&["rules", "copay", "--birth", "20200401", "--visit", "20260401"], "", 0, &["3割"], &[]);
    check(
        &[
            "rules",
            "copay",
            "--birth",
            "19400101",
            "--visit",
            "20261125",
            "--insured-partial-contribution-ratio",
            "030",
        ],
        "",
        0,
        &["3割", "オンライン資格確認の結果"],
        &[],
    );
    check(
        &[
            "rules",
            "copay",
            "--birth",
            "19400101",
            "--visit",
            "20261125",
            "--online-answer",
            "--format",
            "json",
        ],
        "",
        0,
        &["missing_from_answer", "\"percent\": 10"],
        &[],
    );
    check(
        &["rules", "copay", "--birth", "20270101", "--visit", "20261125"],
        "",
        2,
        &[],
        &["生年月日"],
    );
    check(
        &["rules", "copay", "--birth", "2027-13-01", "--visit", "20261125"],
        "",
        2,
        &[],
        &["--birth", "存在しない"],
    );
}

#[test]
fn decide() {
    let request = r#"{"context": {"visit": "20261125", "presented": "nothing", "visit_type": "first"},
                      "answers": {"alt_document": "neither", "outage": "no"}}"#;
    check(
        &["rules", "decide"],
        request,
        0,
        &["\"decision\": \"done\"", "\"node\": \"statement_form\"", "keep_statement_until_paid"],
        &[],
    );
    let claim = r#"{"root": "claim", "context": {"visit": "2026-11-25", "statement": {"address": "東京都港区", "contact": "090-0000-0000"},
                    "settings": {"unknown_insurer_style": "check_digit_valid", "unknown_symbol_len": 4, "unknown_number_len": 6}},
                    "answers": {"current_numbers": "no", "past_numbers": "no"}}"#;
    check(
        &["rules", "decide"],
        claim,
        0,
        &["77777779", "\"7777\"", "\"777777\"", "住所：東京都港区"],
        &[],
    );
    // The expired 保険証 with a confirmed lookup: accepted on 2026-07-31 (the extended window,
    // which rests on press reports, said so), refused on 2026-08-01.
    let expired = |day: &str| {
        format!(
            r#"{{"context": {{"visit": "{day}", "presented": "health_insurance_card"}}, "answers": {{"lookup_by_numbers": "confirmed"}}}}"#
        )
    };
    check(
        &["rules", "decide"],
        &expired("2026-07-31"),
        0,
        &[
            "\"node\": \"confirmed_by_numbers\"",
            "\"rests_on_unconfirmed_rules\": [\n    \"reported\"",
        ],
        &[],
    );
    check(
        &["rules", "decide"],
        &expired("2026-08-01"),
        0,
        &["\"node\": \"alt_document_no_card\""],
        &[],
    );
    // The 2026 加算 is in the table.
    check(
        &["rules", "policy"],
        "",
        0,
        &["電子的診療情報連携体制整備加算", "\"from\": \"2026-06\""],
        &[],
    );
    let ask = r#"{"context": {"visit": "2026-11-25"}}"#;
    check(&["rules", "decide"], ask, 0, &["\"decision\": \"ask\"", "\"node\": \"presented\""], &[]);
    check(&["rules", "decide"], "{", 2, &[], &["invalid decide request"]);
    check(
        &["rules", "decide"],
        r#"{"context": {"visit": "2026-11-25", "colour": "red"}}"#,
        2,
        &[],
        &["unknown field `colour`"],
    );
    check(
        &["rules", "decide"],
        r#"{"context": {"visit": "2026-11-25"}, "answers": {"nope": "x"}}"#,
        2,
        &[],
        &["unknown variant `nope`"],
    );
    check(
        &["rules", "decide"],
        r#"{"context": {"visit": "2026-11-25", "presented": "nothing"}, "answers": {"alt_document": "notice"}}"#,
        2,
        &[],
        &["not an answer", "portal"],
    );
    check(
        &["rules", "decide"],
        r#"{"context": {"visit": "2026-11-25", "presented": "nothing"}, "answers": {"presented": "myna_card"}}"#,
        2,
        &[],
        &["contradicts"],
    );
    check(&["rules", "decide"], "", 2, &[], &["invalid decide request"]);
}

#[test]
fn tree_and_policy() {
    check(&["rules", "tree", "--format", "mermaid"], "", 0, &["flowchart TD", "presented{"], &[]);
    check(&["rules", "tree", "--format", "json"], "", 0, &["\"roots\"", "\"claim_current\""], &[]);
    check(&["rules", "tree", "--format", "pdf"], "", 2, &[], &["invalid value"]);
    check(&["rules", "policy"], "", 0, &["\"dx_addition\"", "2026-03-31"], &[]);
}

#[test]
fn policy_override_file() {
    let dir = std::env::temp_dir().join(format!("madoguchi-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("override.toml");
    // A later law change: card certificates get 6 months of grace from 2027-01-01.
    std::fs::write(
        &file,
        "[[certificate_grace]]\nholder = \"card\"\nmonths = 6\nsource = \"test\"\n",
    )
    .unwrap();
    let request = r#"{"context": {"visit": "2026-11-25", "presented": "myna_card", "online_result": "certificate_expired", "certificate_not_after": "2026-07-25"}}"#;
    check(&["rules", "decide"], request, 0, &["\"node\": \"alt_document\""], &[]);
    check(
        &["rules", "--policy", file.to_str().unwrap(), "decide"],
        request,
        0,
        &["online_confirmed_in_grace"],
        &[],
    );
    std::fs::write(&file, "[[certificate_grace]]\nholder = \"card\"\n").unwrap();
    check(&["rules", "--policy", file.to_str().unwrap(), "tree"], "", 2, &[], &["missing field"]);
    check(
        &["rules", "--policy", "/nonexistent/policy.toml", "tree"],
        "",
        2,
        &[],
        &["cannot read the policy file"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn oqs_commands_end_to_end_through_a_folder() {
    let dir = std::env::temp_dir().join(format!("madoguchi-oqs-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let folder = dir.to_str().unwrap().to_string();
    let mut peer = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["oqs", "sim", "--folder", &folder])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let query = [
        "oqs",
        "query",
        "--folder",
        &folder,
        "--insurer",
        "01130012",
        "--symbol",
        "1234",
        "--number",
        "800000",
        "--birth",
        "19800401",
        "--visit",
        "20261125",
        "--timeout-secs",
        "10",
    ];
    let result = std::panic::catch_unwind(|| {
        check(&query, "", 0, &["\"status\": \"confirmed\"", "山田太郎"], &[]);
        check(
            &["oqs", "tap", "--folder", &folder, "--person", "sato", "--visit", "20261125"],
            "",
            0,
            &["OQSsiquc01res_face_"],
            &[],
        );
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/oqs/tests/fixtures/full.xml");
        check(
            &["oqs", "parse", fixture, "--visit", "20261125"],
            "",
            0,
            &["\"percent\": 20", "W0001"],
            &[],
        );
        let bad = dir.join("bad.xml");
        std::fs::write(&bad, "<!DOCTYPE x><XmlMsg/>").unwrap();
        check(&["oqs", "parse", bad.to_str().unwrap()], "", 2, &[], &["DTD"]);
    });
    let _ = peer.kill();
    let _ = peer.wait();
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
