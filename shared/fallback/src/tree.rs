//! The official tree: MHLW's 「医療機関・薬局での資格確認とレセプト請求（令和6年12月2日以降の
//! 取扱い）」 with the smartphone additions of autumn 2025, the transitional window for
//! expired 健康保険証 (to 2026-07-31, as extended) and the outage path. Every question and outcome
//! names the sentence it rests on; the seed quotes are verbatim (a test checks them).
//!
//! Read it top to bottom as the receptionist meets it: what the patient presents, what
//! happened at the reader or the national system, and, when online confirmation could not
//! be done, the seed's fallbacks in order.

use crate::model::{
    Answer, ClaimPlan, CopaySource as C, DocumentAction as D, Established as E, Fact,
    FollowUp as F, Node, NodeKind, Outcome, Question, Source,
};
use eligibility::Text;

const fn a(value: &'static str, ja: &'static str, en: &'static str, next: &'static str) -> Answer {
    Answer { value, text: Text::new(ja, en), next }
}

const fn q(
    id: &'static str,
    fact: Fact,
    ja: &'static str,
    en: &'static str,
    rests_on: Source,
    answers: &'static [Answer],
) -> Node {
    Node {
        id,
        kind: NodeKind::Question(Question { fact, text: Text::new(ja, en), answers, rests_on }),
    }
}

#[allow(clippy::too_many_arguments)]
const fn o(
    id: &'static str,
    ja: &'static str,
    en: &'static str,
    established: E,
    documents: &'static [D],
    copay: C,
    claim: ClaimPlan,
    follow_up: F,
    rests_on: Source,
) -> Node {
    Node {
        id,
        kind: NodeKind::Outcome(Outcome {
            title: Text::new(ja, en),
            established,
            documents,
            copay,
            claim,
            follow_up,
            rests_on,
        }),
    }
}

const SEED_START: Source =
    Source::Seed("マイナンバーカードをカードリーダーにかざすようご案内ください");
const SEED_COULD_NOT: Source = Source::Seed("何らかの事情でオンライン資格確認を行えなかった場合");
const SEED_PRESENTABLE: Source = Source::Seed("【患者が提示可能な場合】");
const SEED_RETURN_VISIT: Source = Source::Seed(
    "【再診の場合】過去の受診で請求に必要な資格情報を把握していれば、患者への口頭確認",
);
const SEED_FIRST_VISIT: Source = Source::Seed("【初診の場合】被保険者資格申立書 (事後に確認)");
const SEED_NO_CARD: Source = Source::Seed("マイナンバーカードを持っていない方の場合");
const SEED_PHONE_FALLBACK: Source =
    Source::Seed("その場でマイナポータルにログインし、表示された資格情報の画面を提示");
const SEED_COPAY: Source =
    Source::Seed("患者には適切な自己負担分（3割分等）の支払を求めてください");
const REF_TRANSITIONAL: Source = Source::Reference(
    "domain.md §5: 2025-12-02 → 2026-07-31 an expired 保険証, or a 資格情報のお知らせ alone, is accepted if the qualification is confirmed online using its numbers (事務連絡 2025-11-12 to 2026-03-31; extended to 2026-07-31 per press reports of 2026-03-19, the 事務連絡 not found)",
);

/// Every node of the official tree.
pub static NODES: &[Node] = &[
    // ── What the patient presents ────────────────────────────────────────────────────
    q("presented", Fact::Presented, "患者さんは何を提示しましたか？", "What did the patient present?", SEED_START, &[
        a("myna_card", "マイナ保険証（カード）", "マイナ保険証 card", "card_result"),
        a("smartphone", "スマホのマイナ保険証", "マイナ保険証 on a smartphone", "phone_usable"),
        a("eligibility_certificate", "資格確認書", "資格確認書 (eligibility certificate)", "certificate_validity"),
        a("health_insurance_card", "健康保険証", "old health insurance card", "old_card_period"),
        a("eligibility_notice", "資格情報のお知らせのみ", "資格情報のお知らせ only", "notice_period"),
        a("myna_portal", "マイナポータルの資格情報画面（PDF可）", "マイナポータル screen or PDF", "portal_card_at_hand"),
        a("nothing", "何も持っていない", "nothing", "alt_document_no_card"),
    ]),

    // ── マイナ保険証 card ─────────────────────────────────────────────────────────────
    q("card_result", Fact::CardResult, "カードリーダーでのオンライン資格確認の結果は？", "What did the online confirmation at the reader say?", SEED_START, &[
        a("confirmed", "確認できた", "confirmed", "online_confirmed"),
        a("multiple", "複数の資格が該当", "several qualifications matched", "staff_choice"),
        a("certificate_expired", "電子証明書の有効期限切れ", "the certificate has expired", "card_grace"),
        a("cannot_authenticate", "顔認証も暗証番号もできない", "neither face nor PIN authentication is possible", "visual_check"),
        a("failed", "確認できなかった（故障・暗証番号ロック・資格無効・該当なし・障害など）", "could not be confirmed (fault, PIN locked, invalid, not found, outage…)", "alt_document"),
    ]),
    q("staff_choice", Fact::StaffChoice, "複数の資格が該当しました。患者さんに確認して一つ選べましたか？", "Several qualifications matched: did you choose one with the patient?",
        Source::Reference("domain.md §2: Several results: staff choose; never pick the first silently."), &[
        a("chosen", "選べた", "chosen", "online_confirmed_chosen"),
        a("cannot_choose", "選べない", "cannot choose", "alt_document"),
    ]),
    q("card_grace", Fact::CardGrace, "電子証明書の有効期限から3か月以内ですか？", "Is the certificate within 3 months after its expiry?",
        Source::Seed("※電子証明書の有効期限後3カ月間は資格確認可"), &[
        a("within", "3か月以内", "within the grace", "online_confirmed_in_grace"),
        a("beyond", "3か月を過ぎている", "beyond the grace", "alt_document"),
    ]),
    q("visual_check", Fact::VisualCheck, "職員の目視による本人確認でオンライン資格確認できましたか？", "Could staff confirm identity by sight and complete the online confirmation?",
        Source::Reference("domain.md §6: the patient cannot do face or PIN authentication … staff may then confirm identity visually (目視確認)"), &[
        a("done", "できた", "yes", "online_confirmed_visual"),
        a("not_possible", "できない", "no", "alt_document"),
    ]),
    q("alt_document", Fact::AltDocument, "マイナポータルの資格情報画面か、資格情報のお知らせを提示できますか？", "Can the patient show the マイナポータル screen or the 資格情報のお知らせ?", SEED_PRESENTABLE, &[
        a("portal", "マイナポータル画面（PDF可）", "マイナポータル screen or PDF", "portal_screen"),
        a("notice", "資格情報のお知らせ", "資格情報のお知らせ", "notice_fallback"),
        a("neither", "どちらもない", "neither", "history"),
    ]),
    q("alt_document_no_card", Fact::AltDocument, "マイナポータルの資格情報画面（PDF可）を提示できますか？", "Can the patient show the マイナポータル qualification screen (or PDF)?", SEED_PRESENTABLE, &[
        a("portal", "提示できる", "yes", "portal_screen"),
        a("neither", "できない", "no", "history"),
    ]),
    q("history", Fact::History, "再診で、請求に必要な資格情報を過去の受診で把握していますか？", "Is this a return visit with the numbers needed for the claim known from earlier visits?", SEED_RETURN_VISIT, &[
        a("known", "再診・把握している", "return visit, numbers known", "oral_check"),
        a("not_known", "初診、または把握していない", "first visit, or numbers not known", "outage"),
        a("pre_confirmed", "予約の患者：前日の一括照会で資格情報を取得済み", "booked: the qualification was downloaded last night (一括照会)", "pre_confirmed_numbers"),
    ]),
    q("oral_check", Fact::OralCheck, "患者さんに口頭で確認：保険は前回から変わっていませんか？", "Ask the patient: has the insurance changed since the last visit?", SEED_RETURN_VISIT, &[
        a("unchanged", "変わっていない", "unchanged", "oral_confirmation"),
        a("changed", "変わった・分からない", "changed or unsure", "outage"),
    ]),
    q("outage", Fact::Outage, "確認できなかったのはネットワーク・システム障害のためですか？", "Was it a network or national-system outage?",
        Source::Reference("domain.md §6.6: outage: record 氏名, 性別, 生年月日, 住所; look the patient up later (緊急時医療情報・資格確認機能)"), &[
        a("yes", "障害のため", "outage", "outage_capture"),
        a("no", "障害ではない", "no outage", "statement_form"),
    ]),

    // ── Smartphone ──────────────────────────────────────────────────────────────────
    q("phone_usable", Fact::PhoneUsable, "このスマホでマイナ保険証を使えますか？（9/19以降・15歳以上・iOS 18.5/Android 11以上・証明書有効）", "Can this phone be used (from 2025-09-19, age 15+, iOS 18.5 / Android 11+, certificate valid)?",
        Source::Seed("15歳以上が利用可。"), &[
        a("usable", "使える", "usable", "phone_result"),
        a("not_usable", "使えない", "not usable", "phone_fallback"),
    ]),
    q("phone_result", Fact::PhoneResult, "スマホでのオンライン資格確認の結果は？（顔認証付きカードリーダーで「スマホ」を選んでから汎用リーダーにかざす）", "Result of the phone confirmation? (choose \"smartphone\" on the face-auth reader first, then hold the phone on the generic reader)", SEED_START, &[
        a("confirmed", "確認できた", "confirmed", "online_confirmed"),
        a("multiple", "複数の資格が該当", "several qualifications matched", "staff_choice"),
        a("failed", "読み取れない・確認できない（証明書期限切れを含む）", "unreadable or not confirmed (incl. expired certificate)", "phone_fallback"),
    ]),
    q("phone_fallback", Fact::PhoneFallback, "その場でマイナポータルにログインして資格情報画面を提示できますか？実物のカードはありますか？", "Can the patient log in to マイナポータル now and show the qualification screen? Or do they have the card itself?", SEED_PHONE_FALLBACK, &[
        a("portal_on_the_spot", "マイナポータル画面を提示", "shows the マイナポータル screen", "phone_portal_screen"),
        a("card", "実物のカードがある", "has the card", "retry_with_card"),
        a("neither", "どちらもない", "neither", "alt_document_no_card"),
    ]),

    // ── Paper documents ─────────────────────────────────────────────────────────────
    q("certificate_validity", Fact::CertificateValidity, "資格確認書は有効期限内ですか？", "Is the 資格確認書 within its printed validity?",
        Source::Seed("資格確認書 (2024.12/2~)"), &[
        a("valid", "有効期限内", "valid", "eligibility_certificate"),
        a("expired", "期限切れ", "expired", "alt_document_no_card"),
    ]),
    q("old_card_period", Fact::OldCardPeriod, "この受診日に健康保険証はどう扱いますか？", "How is an old insurance card treated on this visit date?",
        Source::Seed("健康保険証 (~2025.12/1)"), &[
        a("valid", "有効（2025年12月1日まで・記載の有効期限内）", "valid (to 2025-12-01, within its printed validity)", "health_insurance_card"),
        a("transitional", "経過措置：記載の番号でオンライン資格確認できれば可（2026年7月31日まで・延長は報道による）", "transitional: accepted if confirmed online by its numbers (to 2026-07-31; the extension is reported)", "lookup_by_numbers"),
        a("not_valid", "使えない", "not usable", "alt_document_no_card"),
    ]),
    q("notice_period", Fact::NoticePeriod, "この受診日に資格情報のお知らせのみの提示はどう扱いますか？", "How is a 資格情報のお知らせ alone treated on this visit date?", REF_TRANSITIONAL, &[
        a("transitional", "経過措置：記載の番号でオンライン資格確認できれば可", "transitional: accepted if confirmed online by its numbers", "lookup_by_numbers"),
        a("with_card_only", "マイナ保険証と一緒の場合のみ", "only together with the card", "card_at_hand"),
    ]),
    q("lookup_by_numbers", Fact::LookupByNumbers, "記載の番号でのオンライン資格確認の結果は？", "Result of the online confirmation by the document's numbers?", REF_TRANSITIONAL, &[
        a("confirmed", "確認できた", "confirmed", "confirmed_by_numbers"),
        a("failed", "確認できなかった", "not confirmed", "alt_document_no_card"),
    ]),
    q("card_at_hand", Fact::CardAtHand, "マイナ保険証（カード）をお持ちですか？", "Does the patient have the マイナ保険証 card with them?", SEED_START, &[
        a("yes", "持っている", "yes", "retry_with_card"),
        a("no", "持っていない", "no", "alt_document_no_card"),
    ]),
    q("portal_card_at_hand", Fact::CardAtHand, "マイナ保険証（カード）をお持ちですか？お持ちならまずカードリーダーへ", "Does the patient have the card? If so, the reader comes first", SEED_START, &[
        a("yes", "持っている", "yes", "retry_with_card"),
        a("no", "持っていない", "no", "portal_screen"),
    ]),

    // ── Reception outcomes ──────────────────────────────────────────────────────────
    o("online_confirmed", "オンライン資格確認済み：他の書類は不要", "Confirmed online: no other document needed",
        E::OnlineConfirmation, &[D::NoOtherDocumentNeeded], C::OnlineAnswer, ClaimPlan::Normal, F::None,
        Source::Seed("※追加で保険証の提示は不要")),
    o("online_confirmed_chosen", "オンライン資格確認済み（職員が患者と確認して選択）", "Confirmed online (staff chose the qualification with the patient)",
        E::OnlineConfirmationStaffChoice, &[D::NoOtherDocumentNeeded], C::OnlineAnswer, ClaimPlan::Normal, F::None,
        Source::Reference("domain.md §2: Several results: staff choose; never pick the first silently.")),
    o("online_confirmed_in_grace", "オンライン資格確認済み（電子証明書の期限後3か月以内：保険資格のみ）", "Confirmed online within the certificate's 3-month grace (insurance data only)",
        E::OnlineConfirmationInGrace, &[D::NoOtherDocumentNeeded, D::InsuranceDataOnly], C::OnlineAnswer, ClaimPlan::Normal, F::None,
        Source::Seed("※電子証明書の有効期限後3カ月間は資格確認可")),
    o("online_confirmed_visual", "オンライン資格確認済み（目視確認）", "Confirmed online with identity checked by sight",
        E::OnlineConfirmationVisual, &[D::NoOtherDocumentNeeded], C::OnlineAnswer, ClaimPlan::Normal, F::None,
        Source::Reference("domain.md §6: Staff may then confirm identity visually (目視確認), as the マイナ資格確認アプリ allows.")),
    o("confirmed_by_numbers", "経過措置：書類の番号でオンライン資格確認済み", "Transitional: confirmed online by the document's numbers",
        E::OnlineByNumbers, &[D::CopyNumbersFromDocument], C::OnlineAnswer, ClaimPlan::Normal, F::None, REF_TRANSITIONAL),
    o("eligibility_certificate", "資格確認書で確認：記載の負担割合で", "Established by the 資格確認書: use the ratio printed on it",
        E::EligibilityCertificate, &[D::CopyNumbersFromDocument], C::AsShownOnDocument, ClaimPlan::CurrentNumbers, F::None, SEED_NO_CARD),
    o("health_insurance_card", "健康保険証で確認", "Established by the old insurance card",
        E::HealthInsuranceCard, &[D::CopyNumbersFromDocument], C::NormalForAge, ClaimPlan::CurrentNumbers, F::None,
        Source::Seed("健康保険証 (~2025.12/1)")),
    o("portal_screen", "マイナポータル画面で確認：追加の保険証は不要", "Established by the マイナポータル screen: no other card needed",
        E::MynaPortalScreen, &[D::CopyNumbersFromDocument, D::NoOtherDocumentNeeded], C::AsShownOnDocument, ClaimPlan::CurrentNumbers, F::None,
        Source::Seed("※マイナポータルからダウンロードしたPDFファイルも可")),
    o("phone_portal_screen", "スマホが読めないため、その場でマイナポータル画面で確認", "Phone unreadable: established by the マイナポータル screen shown on the spot",
        E::MynaPortalScreen, &[D::CopyNumbersFromDocument, D::NoOtherDocumentNeeded], C::AsShownOnDocument, ClaimPlan::CurrentNumbers, F::None,
        SEED_PHONE_FALLBACK),
    o("notice_fallback", "資格情報のお知らせで確認：追加の保険証は不要", "Established by the 資格情報のお知らせ: no other card needed",
        E::EligibilityNotice, &[D::CopyNumbersFromDocument, D::NoOtherDocumentNeeded], C::AsShownOnDocument, ClaimPlan::CurrentNumbers, F::None,
        SEED_COULD_NOT),
    o("oral_confirmation", "再診：把握済みの資格情報を口頭確認して受付", "Return visit: known numbers confirmed orally",
        E::OralConfirmation, &[], C::NormalForAge, ClaimPlan::CurrentNumbers, F::None, SEED_RETURN_VISIT),
    o("pre_confirmed_numbers", "一括照会で取得済みの番号で受付（①）、事後に資格確認", "The numbers downloaded by the 一括照会 claim ①; confirmed afterwards",
        E::PreConfirmed, &[D::RecordIdentity], C::NormalForAge, ClaimPlan::CurrentNumbers, F::ConfirmAfterwards,
        Source::Seed("※オンライン資格確認等システムから資格情報をダウンロードしておくことで、事後的に被保険者番号等の確認が可能です")),
    o("statement_form", "被保険者資格申立書を記入してもらい、事後に資格確認（通常の自己負担で）", "被保険者資格申立書 now, qualification confirmed afterwards (normal copay)",
        E::StatementForm, &[D::KeepStatementUntilPaid, D::RecordIdentity], C::NormalForAge, ClaimPlan::AfterFollowUp, F::ConfirmAfterwards,
        SEED_FIRST_VISIT),
    o("outage_capture", "障害時：氏名・性別・生年月日・住所を記録し、復旧後に照会（通常の自己負担で）", "Outage: record name, sex, birth date and address; look up when the system is back (normal copay)",
        E::OutageCapture, &[D::RecordIdentity, D::KeepStatementUntilPaid], C::NormalForAge, ClaimPlan::AfterFollowUp, F::OutageLookup,
        Source::Reference("domain.md §6.6: System or network outage: record 氏名, 性別, 生年月日, 住所; look the patient up later (緊急時医療情報・資格確認機能)")),
    o("retry_with_card", "マイナ保険証（カード）をカードリーダーにかざしてもらってください", "Ask the patient to place the マイナ保険証 card on the reader",
        E::NotYet, &[D::PlaceCardOnReader], C::NotApplicable, ClaimPlan::NotApplicable, F::None,
        Source::Seed("実物のマイナンバーカードもご持参ください")),

    // ── Claim (after the follow-up): ① → ② → ③ ───────────────────────────────────────
    q("claim_current", Fact::CurrentNumbers, "「現在」の被保険者番号等が分かりましたか？（聞き取り・受診歴・事後確認）", "Are the current numbers known (from the patient, history or the follow-up)?",
        Source::Seed("以下の①→②→③の順に可能な方法を選択してレセプト請求をしてください"), &[
        a("yes", "分かった", "yes", "claim_with_current"),
        a("no", "分からない", "no", "claim_past"),
    ]),
    q("claim_past", Fact::PastNumbers, "「資格（無効）」画面や受診歴から「過去」の被保険者番号等が分かりますか？", "Are past numbers known from the 資格（無効） screen or history?",
        Source::Seed("②オンライン資格確認における「資格（無効）」画面や過去の受診歴等から確認できた「過去」の被保険者番号等を入力する"), &[
        a("yes", "分かる", "yes", "claim_with_past"),
        a("no", "分からない", "no", "claim_unknown"),
    ]),
    o("claim_with_current", "①「現在」の被保険者番号等で請求", "Claim ① with the current numbers",
        E::Claim, &[], C::NotApplicable, ClaimPlan::CurrentNumbers, F::None,
        Source::Seed("①患者からの聞き取りや過去の受診歴等から確認できた「現在」の被保険者番号等を入力する")),
    o("claim_with_past", "②「過去」の被保険者番号等（旧資格情報）で請求", "Claim ② with the past numbers (旧資格情報)",
        E::Claim, &[], C::NotApplicable, ClaimPlan::PastNumbers, F::None,
        Source::Seed("→資格無効の場合には喪失した「旧資格情報」で請求してください")),
    o("claim_unknown", "③ 不詳レセプト：番号は「7」で埋め、申立書の住所・連絡先を摘要欄に", "Claim ③ as 不詳: 7-fill the numbers, 申立書 address and contact in the 摘要欄",
        E::Claim, &[D::KeepStatementUntilPaid], C::NotApplicable, ClaimPlan::Unknown, F::None,
        Source::Seed("③被保険者資格申立書に記入された患者の住所・連絡先等を摘要欄に記載の上、被保険者番号等は不詳として「7」が必要な桁数分を入力する")),
];

/// The copay sentence every fallback outcome rests on as well.
pub const COPAY_RULE: Source = SEED_COPAY;
