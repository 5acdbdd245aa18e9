//! The fallback tree's branches, reached through the terminal's screens as staff reach them
//! (issue 7): the 困ったとき wizard for the branches that end in a document, a statement
//! or a claim, and 番号入力 for the answers the national system gives (該当なし,
//! 資格無効（新しい資格あり）, 複数該当). Each row is named after the seed rule it covers.

use e2e::bridge::free_port;
use e2e::browser::{with_browser, Browser};
use e2e::terminal::{
    data_dir, ledger_events, look_up_numbers, numbers_of, open_and_pair, screenshots, serve,
    walk_wizard,
};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One path through the wizard.
struct Branch {
    rule: &'static str,
    /// 受診日 typed into the capture form (`None`: today).
    visit: Option<&'static str>,
    answers: &'static [&'static str],
    /// A question the path must ask, and one the terminal must answer itself from the date.
    asks: Option<&'static str>,
    never_asks: Option<&'static str>,
    title: &'static str,
    claim: &'static str,
    /// After recording: the claim wizard's answers and the claim it must end in.
    then_claim: Option<(&'static [&'static str], &'static str)>,
}

const BRANCHES: &[Branch] = &[
    Branch {
        rule: "phone_unreadable_then_the_mynaportal_screen_on_the_spot",
        visit: None,
        answers: &["smartphone", "usable", "failed", "portal_on_the_spot"],
        asks: Some("phone_fallback"),
        never_asks: None,
        title: "その場でマイナポータル画面",
        claim: "① 現在の番号",
        then_claim: None,
    },
    Branch {
        rule: "no_card_and_a_valid_eligibility_certificate",
        visit: None,
        answers: &["eligibility_certificate", "valid"],
        asks: Some("certificate_validity"),
        never_asks: None,
        title: "資格確認書で確認",
        claim: "① 現在の番号",
        then_claim: None,
    },
    Branch {
        rule: "several_qualifications_chosen_by_staff_with_the_patient",
        visit: None,
        answers: &["myna_card", "multiple", "chosen"],
        asks: Some("staff_choice"),
        never_asks: None,
        title: "職員が患者と確認して選択",
        claim: "通常どおり",
        then_claim: None,
    },
    Branch {
        rule: "not_found_on_a_first_visit_statement_then_unknown_claim",
        visit: None,
        answers: &["myna_card", "failed", "neither", "not_known", "no"],
        asks: Some("history"),
        never_asks: None,
        title: "申立書",
        claim: "事後確認の後",
        then_claim: Some((&["no", "no"], "③ 不詳")),
    },
    Branch {
        rule: "invalid_qualification_claimed_with_the_past_numbers",
        visit: None,
        answers: &["myna_card", "failed", "neither", "not_known", "no"],
        asks: Some("outage"),
        never_asks: None,
        title: "申立書",
        claim: "事後確認の後",
        then_claim: Some((&["claim_past=yes", "no"], "② 旧資格")),
    },
    Branch {
        rule: "expired_insurance_card_before_2026_07_31_confirmed_by_its_numbers",
        visit: Some("2026-07-31"),
        answers: &["health_insurance_card", "confirmed"],
        asks: Some("lookup_by_numbers"),
        never_asks: Some("old_card_period"),
        title: "書類の番号でオンライン資格確認済み",
        claim: "通常どおり",
        then_claim: None,
    },
    Branch {
        rule: "expired_insurance_card_after_2026_07_31_is_not_accepted",
        visit: Some("2026-08-01"),
        answers: &["health_insurance_card", "neither", "not_known", "no"],
        asks: Some("alt_document_no_card"),
        never_asks: Some("lookup_by_numbers"),
        title: "申立書",
        claim: "事後確認の後",
        then_claim: None,
    },
];

async fn walk_branch(b: &Browser, branch: &Branch) -> Result<Vec<String>, String> {
    let fail = |what: String| format!("{}: {what}", branch.rule);
    b.click("nav-fallback").await?;
    b.click("wizard-restart").await?;
    if let Some(day) = branch.visit {
        b.type_into("capture-visit", day).await?;
    }
    let asked = walk_wizard(b, branch.answers).await.map_err(fail)?;
    if let Some(node) = branch.asks {
        if !asked.iter().any(|a| a == node) {
            return Err(fail(format!("never asked {node}; asked {asked:?}")));
        }
    }
    if let Some(node) = branch.never_asks {
        if asked.iter().any(|a| a == node) {
            return Err(fail(format!("asked {node}, which the visit date answers")));
        }
    }
    b.wait_text("outcome-title", branch.title, 5).await.map_err(fail)?;
    b.wait_text("outcome-claim", branch.claim, 5).await.map_err(fail)?;
    b.click("wizard-record").await?;
    b.wait_text("recorded", "受付済", 10).await.map_err(fail)?;
    b.screenshot(&screenshots().join(format!("branch-{}.png", branch.rule))).await?;
    if let Some((answers, claim)) = branch.then_claim {
        b.click("wizard-claim").await?;
        walk_wizard(b, answers).await.map_err(fail)?;
        b.wait_text("outcome-claim", claim, 5).await.map_err(fail)?;
        // The decision is recorded on the reception just made, not as a second one.
        b.click("wizard-record-claim").await?;
        b.wait_text("recorded", "請求の決定を記録", 10).await.map_err(fail)?;
    }
    Ok(asked)
}

/// Every branch of the seed's chart that the wizard decides, one row each; every row is a
/// reception in the bridge's ledger afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fallback_branch_through_the_wizard() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("branches-wizard");
    let server = serve(free_port(), &data, &[]);
    let mut walked = Vec::new();
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            b.click("nav-fallback").await?;
            b.type_into("capture-name", "分岐 確認").await?;
            b.type_into("capture-birth", "1970-01-01").await?;
            for branch in BRANCHES {
                let asked = walk_branch(&b, branch).await?;
                walked.push(serde_json::json!({ "rule": branch.rule, "asked": asked }));
            }
            e2e::terminal::wait_sent(&b).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let events = ledger_events(&server);
    assert_eq!(events.len(), BRANCHES.len(), "one reception per branch");
    let records = e2e::terminal::records(&server);
    let dated = records
        .iter()
        .filter(|s| ["2026-07-31", "2026-08-01"].contains(&s.reception.visit.to_string().as_str()))
        .count();
    assert_eq!(dated, 2, "the dated receptions carry their visit date");
    let decided: Vec<_> = records.iter().filter_map(|s| s.claim_decided.as_ref()).collect();
    assert_eq!(decided.len(), 2, "each claim decision is an event on its 申立書's reception");
    let statuses: Vec<reception::Status> = records.iter().map(|s| s.reception.status).collect();
    use reception::Status::{ByDocument, Confirmed, Statement};
    assert_eq!(
        statuses,
        [ByDocument, ByDocument, Confirmed, Statement, Statement, Confirmed, Statement],
        "each outcome's status, in BRANCHES order"
    );
    e2e::report::record(
        "every_fallback_branch_through_the_wizard",
        serde_json::json!({ "branches": walked, "receptions_created": BRANCHES.len(), "in_ledger": events.len() }),
    );
}

/// What the national system answers, at the counter: 該当なし says so and records nothing;
/// 資格無効（新しい資格あり） leads staff to the new numbers, which confirm; 複数該当 shows
/// every qualification with its own button and no "record" for the first — staff choose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_at_the_counter_not_found_invalid_with_new_and_several() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = data_dir("branches-answers");
    let server = serve(free_port(), &data, &[]);
    let mut seen = serde_json::Map::new();
    with_browser(|b| async {
        let result = async {
            open_and_pair(&b, &server, "受付1").await?;
            // 該当なし: valid-looking numbers nobody holds.
            let nobody = serde_json::json!({ "insurer": "01130012", "symbol": "9999", "number": "999999", "birth": "1990-01-01" });
            look_up_numbers(&b, &nobody).await?;
            b.wait_text("result-headline", "該当なし", 20).await?;
            seen.insert("not_found".into(), b.text("result-headline").await.into());
            // 資格無効（新しい資格あり）→ the new numbers → confirmed, recorded.
            look_up_numbers(&b, &numbers_of("lost-new")).await?;
            b.wait_text("result-headline", "新しい資格", 20).await?;
            seen.insert("invalid_new".into(), b.text("result-headline").await.into());
            look_up_numbers(&b, &numbers_of("lost-new-current")).await?;
            b.wait_text("result-headline", "資格を確認しました", 20).await?;
            b.click("record-visit").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            // 複数該当: both listed; the choice is staff's.
            let mut twin = numbers_of("multiple-a");
            twin["branch"] = serde_json::json!("");
            look_up_numbers(&b, &twin).await?;
            b.wait_text("result-headline", "複数該当", 20).await?;
            b.find("choose-1", 10).await?;
            if b.count("record-visit").await != 0 {
                return Err("複数該当 offers to record the first result".into());
            }
            if b.count("choose-0").await != 1 || b.count("choose-2").await != 0 {
                return Err("複数該当 should offer exactly the two qualifications".into());
            }
            b.js("document.querySelector('[data-testid=choices]').scrollIntoView({block: 'center'}); return true").await?;
            b.screenshot(&screenshots().join("branch-several-qualifications.png")).await?;
            b.wait_text("choice-1", "01", 5).await?;
            b.click("choose-1").await?;
            b.wait_text("recorded", "受付済", 10).await?;
            e2e::terminal::wait_sent(&b).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
    let events = ledger_events(&server);
    assert_eq!(
        events.len(),
        2,
        "the new qualification and the chosen one; 該当なし records nothing"
    );
    let new_job = numbers_of("lost-new-current");
    let records = e2e::terminal::records(&server);
    let first = &records[0].reception;
    assert_eq!(first.claim_numbers().map(|n| n.number.as_str()), new_job["number"].as_str());
    assert_eq!(first.status, reception::Status::Confirmed);
    let chosen = &records[1].reception;
    assert_eq!(
        chosen.claim_numbers().and_then(|n| n.branch.as_deref()),
        Some("01"),
        "the second qualification, as chosen"
    );
    assert_eq!(chosen.outcome.as_deref(), Some("online_confirmed_chosen"));
    assert!(chosen.note.as_deref().unwrap_or("").contains("選択"), "{chosen:?}");
    e2e::report::record(
        "answers_at_the_counter_not_found_invalid_with_new_and_several",
        serde_json::json!({ "headlines": seen, "receptions_created": 2, "in_ledger": events.len() }),
    );
}
