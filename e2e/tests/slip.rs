//! The patient slip (issue 18): the office bundle's printable page names the exact dates
//! for a certificate expiring in 10 days, one in grace (2 months past), one lapsed (4
//! months past) and a phone's expired one; the browser's print makes an 80 mm or an A6
//! page as chosen. The slip is the `eligibility::expiry` computation the counter uses, in
//! real headless Chromium from a real bridge.

use e2e::bridge::free_port;
use e2e::browser::{with_browser, Browser};
use e2e::terminal::{data_dir, screenshots, serve, today_jst};
use eligibility::expiry::Expiry;
use eligibility::policy::Holder;
use eligibility::{Date, Policy};

fn days(d: Date, n: i64) -> Date {
    Date::from_day_number(d.day_number() + n).unwrap()
}

/// The printed page's size in PDF points (1 mm = 72 / 25.4 pt), by Chromium's own print.
async fn printed_size(b: &Browser) -> Result<(f64, f64), String> {
    let pdf = b.cdp("Page.printToPDF", serde_json::json!({ "preferCSSPageSize": true })).await?;
    let data = pdf["data"].as_str().ok_or("printToPDF gave no data")?;
    let script = format!(
        "const m = atob('{data}').match(/MediaBox\\s*\\[\\s*0 0 ([0-9.]+) ([0-9.]+)/); return m ? [Number(m[1]), Number(m[2])] : null;"
    );
    let size = b.js(&script).await?;
    match (size[0].as_f64(), size[1].as_f64()) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(format!("no MediaBox in the printed PDF: {size}")),
    }
}

/// The same day `n` months earlier (a day past the 28th becomes the 28th).
fn back_months(d: Date, n: u32) -> Date {
    let index = d.year() * 12 + d.month() - 1 - n;
    Date::new(index / 12, index % 12 + 1, d.day().min(28)).unwrap()
}

fn mm(points: f64) -> f64 {
    points * 25.4 / 72.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slip_prints_the_exact_dates_at_receipt_width_and_a6() {
    let policy = Policy::embedded().unwrap();
    let today = today_jst();
    let case = |holder, expires_on| Expiry::on(&policy, holder, expires_on, today).unwrap();
    let soon = case(Holder::Card, days(today, 10));
    let grace = case(Holder::Card, back_months(today, 2));
    let lapsed = case(Holder::Card, back_months(today, 4));
    let phone = case(Holder::Phone, days(today, -1));
    use eligibility::expiry::ExpiryKind::{ExpiresSoon, InGrace, Lapsed};
    assert_eq!(
        [soon.kind, grace.kind, lapsed.kind, phone.kind],
        [ExpiresSoon, InGrace, Lapsed, Lapsed]
    );
    let data = data_dir("slip");
    let bridge = serve(free_port(), &data, &[]);
    with_browser(|b| async {
        let result = async {
            let open = |x: Expiry| {
                let url = format!(
                    "http://localhost:{}/office.html#slip={}",
                    bridge.port,
                    String::from(x)
                );
                let b = &b;
                async move {
                    // A new page each time: the slip reads its hash when it loads.
                    b.goto("about:blank").await?;
                    b.goto(&url).await?;
                    b.find("slip", 20).await.map(|_| ())
                }
            };
            let expect = |text: String, needle: String, what: &str| {
                if text.contains(&needle) {
                    Ok(())
                } else {
                    Err(format!("{what}: {needle:?} not in {text:?}"))
                }
            };

            open(soon).await?;
            expect(
                b.text("slip-what").await,
                format!("有効期限は {} です", soon.expires_on),
                "soon",
            )?;
            expect(
                b.text("slip-last-day").await,
                format!("{} まで使えます", soon.expires_on),
                "soon",
            )?;
            expect(b.text("slip-renew").await, "市区町村の窓口".into(), "soon")?;

            open(grace).await?;
            expect(
                b.text("slip-what").await,
                format!("（{}）が過ぎています", grace.expires_on),
                "grace",
            )?;
            let until = grace.usable_until.ok_or("grace without its last day")?;
            expect(
                b.text("slip-last-day").await,
                format!("{until} まで保険証としてのみ"),
                "grace",
            )?;
            b.screenshot(&screenshots().join("slip-80mm.png")).await?;
            let (w, h) = printed_size(&b).await?;
            if (mm(w) - 80.0).abs() > 1.0 {
                return Err(format!("80 mm slip printed {:.1} × {:.1} mm", mm(w), mm(h)));
            }
            b.click("slip-a6").await?;
            b.wait_until("the A6 slip", 5, || async {
                b.js("return document.querySelector('[data-testid=slip]').classList.contains('a6')")
                    .await
                    .ok()
                    == Some(serde_json::json!(true))
            })
            .await?;
            b.screenshot(&screenshots().join("slip-a6.png")).await?;
            let (w, h) = printed_size(&b).await?;
            if (mm(w) - 105.0).abs() > 1.0 || (mm(h) - 148.0).abs() > 1.0 {
                return Err(format!("A6 slip printed {:.1} × {:.1} mm", mm(w), mm(h)));
            }

            open(lapsed).await?;
            expect(
                b.text("slip-what").await,
                format!("（{}）が過ぎています", lapsed.expires_on),
                "lapsed",
            )?;
            expect(b.text("slip-last-day").await, "猶予期間（3か月）も過ぎ".into(), "lapsed")?;

            open(phone).await?;
            expect(b.text("slip-what").await, phone.expires_on.to_string(), "phone")?;
            expect(b.text("slip-last-day").await, "スマホには猶予期間がなく".into(), "phone")?;
            expect(b.text("slip-renew").await, "マイナポータルアプリ".into(), "phone")?;

            // A link that lost its contents says what to do, and shows no slip.
            b.goto("about:blank").await?;
            b.goto(&format!("http://localhost:{}/office.html#slip=garbage", bridge.port)).await?;
            b.wait_text("slip-error", "開き直してください", 20).await?;
            Ok(())
        }
        .await;
        (b, result)
    })
    .await;
}
