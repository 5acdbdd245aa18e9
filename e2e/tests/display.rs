//! The patient guidance display (issue 18): a counter and a display, two real headless
//! Chromiums on one real bridge. A guidance step from the counter — a card, an own-reader
//! pre-check that finds the certificate expiring, a phone, a phone that cannot be read, a
//! face-auth result — changes the display's text in the language the patient tapped; a
//! `speechSynthesis` stand-in installed before load records what was spoken: the table's
//! sentences in that language, never a name or a number. The display's token opens no API.

use e2e::bridge::{free_port, http};
use e2e::browser::Browser;
use e2e::terminal::{data_dir, folder_peer, open_and_pair, screenshots, serve, tap};
use guidance::{plain, Language, PhoneOs, Step};

/// What the display says for `step` in `lang`, as the voice reads it.
fn spoken(lang: Language, step: Step) -> String {
    lang.sentences(step).into_iter().map(plain).collect::<Vec<_>>().join(" ")
}

async fn wait_step(display: &Browser, step: Step, lang: Language) -> Result<(), String> {
    let first = plain(lang.sentences(step)[0]);
    display
        .wait_until(&format!("the display at {}", step.word()), 15, || async {
            let at = display
                .js("return document.querySelector('[data-testid=display-text]')?.dataset.step")
                .await
                .ok();
            at == Some(serde_json::json!(step.word()))
                && display.text("display-text").await.contains(&first)
        })
        .await
        .map_err(|e| format!("{e}: the display shows {:?}", display_text(display)))
}

fn display_text(_: &Browser) -> &'static str {
    "(see the screenshot display-failed.png)"
}

/// Everything the stand-in was asked to speak, in order: `(language, text)`.
async fn spoken_log(display: &Browser) -> Result<Vec<(String, String)>, String> {
    let log = display
        .js("return window.__spoken.filter(x => !x.cancel).map(x => [x.lang, x.text])")
        .await?;
    Ok(log
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e[0].as_str().unwrap_or("").into(), e[1].as_str().unwrap_or("").into()))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_display_follows_the_counter_in_the_patients_language_and_never_speaks_their_data() {
    let data = data_dir("display");
    let (_peer, share) = folder_peer(&data);
    let server = serve(
        free_port(),
        &data,
        &[
            "--gateway",
            "folder",
            "--folder",
            share.to_str().unwrap(),
            // 佐藤's card certificate expires in 10 days.
            "--simulate-usb-reader",
            "rcs380:sato",
        ],
    );
    let counter = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let display = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let result = async {
        counter
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                serde_json::json!({ "source": include_str!("../src/usb_standin.js") }),
            )
            .await?;
        display
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                serde_json::json!({ "source": include_str!("../src/speech_standin.js") }),
            )
            .await?;
        open_and_pair(&counter, &server, "受付1").await?;
        counter.js("const s = document.querySelector('[data-testid=reader-mode]'); s.value = 'usb'; s.dispatchEvent(new Event('change'));").await?;
        counter.wait_text("settings-saved", "saved: reader", 5).await?;

        // The counter's 設定 issues its display's code; the display pairs with it (and then
        // follows this counter only: `bridge/tests/server.rs` has two of each).
        counter.click("display-code-new").await?;
        counter
            .wait_until("the display code", 10, || async {
                counter.text("display-code").await.trim().len() == 8
            })
            .await?;
        let code = counter.text("display-code").await.trim().to_string();
        display.goto(&format!("http://localhost:{}/display.html", server.port)).await?;
        display.find("display-pair", 20).await?;
        display.type_into("display-code", &code).await?;
        display.click("display-pair-submit").await?;
        display
            .wait_until("the display to connect", 15, || async {
                display.count("display-pair").await == 0
                    && display.text("display-link").await.trim().is_empty()
            })
            .await?;
        wait_step(&display, Step::Idle, Language::Ja).await?;
        // A display's token is no counter's: no ledger, no API.
        let token = display.js("return localStorage.getItem('madoguchi-display-token')").await?;
        let token = token.as_str().ok_or("the display kept no token")?.to_string();
        let (status, _) = http(server.port, "POST", "/api/sync/pull", Some(&token), r#"{"after":0}"#)
            .map_err(|e| e.to_string())?;
        if status < 400 {
            return Err(format!("a display token pulled the ledger: HTTP {status}"));
        }

        // The counter opens 受付 (a page load: idle, it leaves the display as it is); the
        // patient taps Tiếng Việt; the receptionist's first touch wakes the display.
        counter.click("nav-reception").await?;
        counter.find("page-reception", 20).await?;
        let vi = Language::Vi;
        display.click("display-lang-vi").await?;
        counter
            .wait_until("the counter's socket", 15, || async {
                counter.text("status-bridge").await.contains("bridge up")
            })
            .await?;
        counter.js("document.querySelector('.app').dispatchEvent(new PointerEvent('pointerdown', {bubbles: true})); return true").await?;
        wait_step(&display, Step::Choose, vi).await?;
        counter.click("method-card").await?;
        wait_step(&display, Step::Card, vi).await?;
        counter.click("connect-usb").await?;
        counter.wait_text("reader-path", "RC-S380", 10).await?;
        counter.click("check-card").await?;
        counter.wait_text("check-certificate", "（あと10日）", 20).await?;
        let slip = counter
            .js("return document.querySelector('[data-testid=slip-open]')?.getAttribute('href')")
            .await?;
        if !slip.as_str().unwrap_or("").contains("#slip=expires_soon/card/") {
            return Err(format!("the slip link is {slip}"));
        }
        let soon = Step::Expiry(
            eligibility::expiry::ExpiryKind::ExpiresSoon,
            eligibility::policy::Holder::Card,
        );
        wait_step(&display, soon, vi).await?;
        counter.click("method-smartphone").await?;
        wait_step(&display, Step::PhoneFirst, vi).await?;
        counter.click("os-android").await?;
        wait_step(&display, Step::Phone(PhoneOs::Android), vi).await?;
        counter.click("phone-failed").await?;
        wait_step(&display, Step::PhoneFailed, vi).await?;
        // 山田 confirms at the face-auth reader: the result reaches the counter, and the
        // display thanks the patient.
        tap(&share, "yamada")?;
        counter.find("face-result", 20).await?;
        wait_step(&display, Step::Confirmed, vi).await?;

        // What was spoken: exactly these sentences, in Vietnamese, in this order.
        let log = spoken_log(&display).await?;
        let expected: Vec<(String, String)> = [
            Step::Choose,
            Step::Card,
            soon,
            Step::PhoneFirst,
            Step::Phone(PhoneOs::Android),
            Step::PhoneFailed,
            Step::Confirmed,
        ]
        .into_iter()
        .map(|s| (vi.speech_tag().to_string(), spoken(vi, s)))
        .collect();
        if log != expected {
            return Err(format!("spoken {log:#?}, expected {expected:#?}"));
        }
        for (_, text) in &log {
            for name in ["山田", "佐藤", "ﾔﾏﾀﾞ", "ｻﾄｳ", "ヤマダ", "サトウ", "Yamada", "Sato"] {
                if text.contains(name) {
                    return Err(format!("the display spoke a name: {text}"));
                }
            }
            if text.chars().any(|c| c.is_ascii_digit() && c != '4') {
                return Err(format!("the display spoke a number: {text}"));
            }
        }
        let shown = display.text("display").await;
        if ["山田", "佐藤", "ﾔﾏﾀﾞ", "ｻﾄｳ"].iter().any(|n| shown.contains(n)) {
            return Err(format!("the display shows a name: {shown}"));
        }

        // A display that reloads shows where the patient is at once (the bridge keeps it);
        // the next patient starts in Japanese.
        display.goto("about:blank").await?;
        display.goto(&format!("http://localhost:{}/display.html", server.port)).await?;
        wait_step(&display, Step::Confirmed, Language::Ja).await?;

        // One screenshot per language at the card step (its PIN advice), and Japanese with
        // furigana; muted, the display still shows every sentence.
        counter.click("method-card").await?;
        for lang in Language::ALL {
            display.click(&format!("display-lang-{}", lang.tag())).await?;
            wait_step(&display, Step::Card, lang).await?;
            display.screenshot(&screenshots().join(format!("display-{}.png", lang.tag()))).await?;
        }
        display.click("display-lang-ja").await?;
        display.click("display-furigana").await?;
        display
            .wait_until("furigana", 5, || async {
                display.js("return document.querySelectorAll('[data-testid=display-text] rt').length").await.ok()
                    .and_then(|v| v.as_u64())
                    .is_some_and(|n| n > 5)
            })
            .await?;
        display.screenshot(&screenshots().join("display-ja-furigana.png")).await?;
        display.click("display-furigana").await?;
        let before = spoken_log(&display).await?.len();
        display.click("display-voice").await?;
        counter.click("method-smartphone").await?;
        wait_step(&display, Step::PhoneFirst, Language::Ja).await?;
        let after = spoken_log(&display).await?.len();
        if after != before {
            return Err(format!("muted, the display spoke {} more", after - before));
        }
        Ok(())
    }
    .await;
    if result.is_err() {
        let _ = display.screenshot(&screenshots().join("display-failed.png")).await;
    }
    counter.close().await;
    display.close().await;
    if let Err(e) = result {
        panic!("{e}");
    }
}
