//! A faithful stand-in for オンライン資格確認: a deterministic synthetic population, number
//! lookups and card confirmations answered with the same XML the real system produces,
//! and faults on demand. For demos, training and every test; never for a real patient.

use super::{Gateway, GatewayError, GatewayEvent, NumberQuery};
use eligibility::{Date, InsurerNumber, Policy};
use oqs::bulk::{BulkAnswer, BulkDownload, BulkUnit, BulkUpload, UploadAnswer};
use oqs::model::{
    AnswerHeader, BodyFields, ElderlyRecipient, LimitCertificate, QualificationFields, SearchInfo,
    SpecificDisease,
};
use oqs::{Answer, QualificationResult};
use serde::{Deserialize, Serialize};
use std::sync::RwLock;

/// Faults to inject, changeable while running.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every answer.
    pub latency_ms: u64,
    /// Share of lookups answered with a system error (0.0–1.0).
    pub error_rate: f64,
    /// The national system is down: no answer at all.
    pub outage: bool,
    /// Share of answers written as broken XML (the folder peer only; any share breaks
    /// every 一括照会 download that carries results).
    pub malformed_rate: f64,
    /// Every lookup answers 資格無効.
    pub invalid_storm: bool,
    /// 一括照会: how many download requests of each upload are answered 処理中 before
    /// the results.
    pub bulk_pending: u32,
    /// 一括照会: the folder peer writes the download's answer as a ZIP.
    pub bulk_zip: bool,
    /// The next lookups' answers, in order, before the normal ones resume: `error`
    /// (SegmentOfResult 9, "try again later"), `processing` (SegmentOfResult 2, 処理中) or
    /// `timeout` (no answer at all). Writing a new sequence starts it from the beginning.
    pub sequence: Vec<String>,
}

/// How a person's qualification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Valid,
    /// Lost on the given day, no new qualification known.
    Lost(Date),
    /// Lost, and a newer qualification exists.
    LostWithNew(Date),
}

/// One insured person of the synthetic population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimPerson {
    pub id: String,
    pub name: String,
    pub kana: String,
    pub birth: Date,
    pub sex: &'static str,
    pub insurer: String,
    pub insurer_name: String,
    pub symbol: Option<String>,
    pub number: String,
    pub branch: String,
    pub standing: Standing,
    pub partial_ratio: Option<String>,
    pub elderly_ratio: Option<String>,
    pub preschool: bool,
    pub limit_flag: Option<String>,
    pub specific_disease: Option<String>,
    /// The virtual card person whose certificate maps to this record.
    pub card_person: Option<&'static str>,
}

impl SimPerson {
    /// The lookup a clinic makes with this person's document (`None` only if the
    /// synthetic numbers were invalid, which a test rules out).
    pub fn query(&self, visit: Date) -> Option<NumberQuery> {
        use eligibility::identifiers::{InsuredNumber, InsuredSymbol};
        Some(NumberQuery {
            insurer: InsurerNumber::parse(&self.insurer).ok()?,
            symbol: match &self.symbol {
                Some(s) => Some(InsuredSymbol::parse(s).ok()?),
                None => None,
            },
            number: InsuredNumber::parse(&self.number).ok()?,
            branch: None,
            birth: self.birth,
            visit,
            limit_consent: true,
        })
    }
}

const SURNAMES: &[(&str, &str)] = &[
    ("佐藤", "ｻﾄｳ"),
    ("鈴木", "ｽｽﾞｷ"),
    ("高橋", "ﾀｶﾊｼ"),
    ("田中", "ﾀﾅｶ"),
    ("伊藤", "ｲﾄｳ"),
    ("渡辺", "ﾜﾀﾅﾍﾞ"),
    ("山本", "ﾔﾏﾓﾄ"),
    ("中村", "ﾅｶﾑﾗ"),
    ("小林", "ｺﾊﾞﾔｼ"),
    ("加藤", "ｶﾄｳ"),
    ("吉田", "ﾖｼﾀﾞ"),
    ("山田", "ﾔﾏﾀﾞ"),
    ("佐々木", "ｻｻｷ"),
    ("山口", "ﾔﾏｸﾞﾁ"),
    ("松本", "ﾏﾂﾓﾄ"),
    ("井上", "ｲﾉｳｴ"),
    ("木村", "ｷﾑﾗ"),
];
const GIVEN: &[(&str, &str, &str)] = &[
    ("翔", "ｼｮｳ", "1"),
    ("陽菜", "ﾋﾅ", "2"),
    ("蓮", "ﾚﾝ", "1"),
    ("結衣", "ﾕｲ", "2"),
    ("大翔", "ﾋﾛﾄ", "1"),
    ("美咲", "ﾐｻｷ", "2"),
    ("健一", "ｹﾝｲﾁ", "1"),
    ("和子", "ｶｽﾞｺ", "2"),
    ("茂", "ｼｹﾞﾙ", "1"),
    ("幸子", "ｻﾁｺ", "2"),
    ("誠", "ﾏｺﾄ", "1"),
    ("恵子", "ｹｲｺ", "2"),
    ("隆", "ﾀｶｼ", "1"),
];

/// A small deterministic generator (the population must be the same on every machine).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn insurer(body: &str) -> String {
    InsurerNumber::from_body(body).map(|n| n.to_string()).unwrap_or_default()
}

fn date(y: u32, m: u32, d: u32) -> Date {
    Date::new(y, m, d)
        .unwrap_or_else(|_| Date::from_day_number(0).unwrap_or_else(|| unreachable!()))
}

/// The population as of `today` (ages and ratios are set relative to it).
pub fn population(today: Date) -> Vec<SimPerson> {
    let mut rng = Lcg(0x6d61_646f_6775_6368);
    let mut people = Vec::new();
    for i in 0..360u32 {
        let (surname, skana) = SURNAMES[rng.below(SURNAMES.len() as u64) as usize];
        let (given, gkana, sex) = GIVEN[rng.below(GIVEN.len() as u64) as usize];
        // Ages 0–99 relative to today, spread evenly.
        let age = (i * 7 + rng.below(7) as u32) % 100;
        let birth = date(
            today.year().saturating_sub(age),
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        );
        let pref = 1 + rng.below(47) as u32;
        let late = age >= 76;
        let (insurer_number, insurer_name, symbol) = if late {
            (
                insurer(&format!("39{pref:02}{:03}", rng.below(900) + 1)),
                "後期高齢者医療広域連合".to_string(),
                None,
            )
        } else {
            match i % 5 {
                0 => (
                    insurer(&format!("01{pref:02}{:03}", rng.below(900))),
                    "全国健康保険協会".to_string(),
                    Some(format!("{:08}", rng.below(100_000_000))),
                ),
                1 => (
                    insurer(&format!("06{pref:02}{:03}", rng.below(900))),
                    "健康保険組合".to_string(),
                    Some(format!("{}", rng.below(9999) + 1)),
                ),
                2 => (
                    insurer(&format!("3{}{pref:02}{:03}", 1 + rng.below(4), rng.below(900))),
                    "共済組合".to_string(),
                    Some(format!("共済{}", rng.below(99))),
                ),
                3 => (
                    insurer(&format!("{pref:02}{:03}", 100 + rng.below(199))),
                    "国民健康保険".to_string(),
                    Some(format!("{:04}", rng.below(10_000))),
                ),
                _ => (
                    insurer(&format!("{pref:02}{:03}", 300 + rng.below(99))),
                    "国民健康保険組合".to_string(),
                    Some(format!("国{}", rng.below(999))),
                ),
            }
        };
        let partial_ratio = late.then(|| ["010", "020", "030"][(i % 3) as usize].to_string());
        let elderly = (70..76).contains(&age) && !late;
        let elderly_ratio = elderly.then(|| if i % 4 == 0 { "030" } else { "020" }.to_string());
        people.push(SimPerson {
            id: format!("p{i:03}"),
            name: format!("{surname}　{given}"),
            kana: format!("{skana} {gkana}"),
            birth,
            sex,
            insurer: insurer_number,
            insurer_name,
            symbol,
            number: format!("{:06}", 100_000 + i),
            branch: "00".into(),
            standing: Standing::Valid,
            partial_ratio,
            elderly_ratio,
            preschool: age < 6,
            limit_flag: (i % 11 == 0)
                .then(|| ["A01", "A02", "A03", "A04", "A05"][(i % 5) as usize].to_string()),
            specific_disease: (i % 37 == 0).then(|| "1".to_string()),
            card_person: None,
        });
    }
    // The cases clinics meet, at fixed ids.
    let special = |id: &str, name: &str, birth: Date, insurer: String, number: &str| SimPerson {
        id: id.into(),
        name: name.into(),
        kana: "ﾃｽﾄ".into(),
        birth,
        sex: "1",
        insurer,
        insurer_name: "全国健康保険協会東京支部".into(),
        symbol: Some("1234".into()),
        number: number.into(),
        branch: "00".into(),
        standing: Standing::Valid,
        partial_ratio: None,
        elderly_ratio: None,
        preschool: false,
        limit_flag: None,
        specific_disease: None,
        card_person: None,
    };
    let kyokai = insurer("0113001");
    let lost_on = Date::from_day_number(today.day_number() - 56).unwrap_or(today);
    let mut lost_new =
        special("lost-new", "転職　太郎", date(1985, 6, 1), kyokai.clone(), "900001");
    lost_new.standing = Standing::LostWithNew(lost_on);
    let mut new_job =
        special("lost-new-current", "転職　太郎", date(1985, 6, 1), insurer("0613001"), "000777");
    new_job.insurer_name = "健康保険組合（新）".into();
    let mut lost = special("lost", "喪失　次郎", date(1975, 2, 2), kyokai.clone(), "900002");
    lost.standing = Standing::Lost(lost_on);
    let twin_a = special("multiple-a", "重複　花子", date(1990, 9, 9), kyokai.clone(), "900003");
    let mut twin_b =
        special("multiple-b", "重複　花子", date(1990, 9, 9), kyokai.clone(), "900003");
    twin_b.branch = "01".into();
    let mut no_ratio =
        special("no-ratio", "熊本　ハナ", date(1945, 5, 5), insurer("3943100"), "10000001");
    no_ratio.symbol = None;
    no_ratio.insurer_name = "熊本県後期高齢者医療広域連合".into();
    let stand_in = special("stand-in", "髙●　一郎", date(1960, 12, 12), kyokai.clone(), "900004");
    people.extend([lost_new, new_job, lost, twin_a, twin_b, no_ratio, stand_in]);
    // The virtual cardholders, so card confirmations map to a record (test builds only:
    // a release bridge carries no virtual card).
    #[cfg(feature = "test-doubles")]
    for (k, p) in card::virtual_card::TEST_PERSONS.iter().enumerate() {
        let birth = p.birth_date().unwrap_or(today);
        let mut s = special(
            &format!("card-{}", p.id),
            p.name,
            birth,
            kyokai.clone(),
            &format!("8000{k:02}"),
        );
        s.kana = p.kana.into();
        s.card_person = Some(p.id);
        let band = eligibility::AgeBand::on(birth, today);
        if band == Some(eligibility::AgeBand::LateElderly) {
            s.insurer = insurer("3913100");
            s.symbol = None;
            s.partial_ratio = Some("010".into());
        } else if band == Some(eligibility::AgeBand::Age70To74) {
            s.elderly_ratio = Some("020".into());
        }
        people.push(s);
    }
    people
}

/// The simulator.
#[derive(Debug)]
pub struct Sim {
    people: Vec<SimPerson>,
    faults: RwLock<Faults>,
    /// How much of `faults.sequence` has been answered.
    sequence_used: std::sync::atomic::AtomicUsize,
    calls: std::sync::atomic::AtomicU64,
    pub medical_institution_code: String,
    /// 一括照会 uploads by ReceptionNumber, with how many downloads were asked.
    bulk_jobs: std::sync::Mutex<std::collections::HashMap<String, (BulkUpload, u32)>>,
    /// 照会番号 registered, by [`reference_key`]: every later answer for that qualification
    /// carries it as ReferenceNumber.
    references: RwLock<std::collections::BTreeMap<String, String>>,
}

/// The qualification a 照会番号 is registered for: insurer (spaces dropped), number, branch.
pub fn reference_key(insurer: &str, number: &str, branch: Option<&str>) -> String {
    let fold = |s: &str| eligibility::text::fold(s).replace(' ', "");
    format!("{}|{}|{}", fold(insurer), fold(number), branch.unwrap_or("00"))
}

/// What a lookup found.
enum Found<'a> {
    None,
    One(&'a SimPerson),
    Many(Vec<&'a SimPerson>),
}

impl Sim {
    pub fn new(today: Date) -> Sim {
        Sim {
            people: population(today),
            faults: RwLock::new(Faults::default()),
            sequence_used: std::sync::atomic::AtomicUsize::new(0),
            calls: std::sync::atomic::AtomicU64::new(0),
            medical_institution_code: "1312345678".into(),
            bulk_jobs: Default::default(),
            references: Default::default(),
        }
    }

    /// The 照会番号 registered so far (the folder peer keeps them in its folder).
    pub fn references(&self) -> std::collections::BTreeMap<String, String> {
        self.references.read().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn set_references(&self, references: std::collections::BTreeMap<String, String>) {
        if let Ok(mut r) = self.references.write() {
            *r = references;
        }
    }

    /// Registers a 照会番号 (`OQSsiimm01req_`): accepted when the qualification exists.
    pub fn register_reference(
        &self,
        r: &oqs::bulk::Registration,
        now: &str,
    ) -> Result<Answer, GatewayError> {
        if self.faults().outage {
            return Err(GatewayError::Unavailable);
        }
        let key = reference_key(
            &r.insurer_number,
            &r.insured_identification_number,
            r.insured_branch_number.as_deref(),
        );
        let known = self
            .people
            .iter()
            .any(|p| reference_key(&p.insurer, &p.number, Some(&p.branch)) == key);
        let mut a = self.answer("2", "", Some(&r.arbitrary_file_identifier), now);
        a.header.qualification_confirmation_date = None;
        if known && !r.reference_number.is_empty() && r.reference_number.chars().count() <= 50 {
            if let Ok(mut refs) = self.references.write() {
                refs.insert(key, r.reference_number.clone());
            }
        } else {
            a.body.processing_result_status = Some("2".into());
            a.body.processing_result_code = Some("EO4001".into());
            a.body.processing_result_message =
                Some("該当する資格がないため照会番号を登録できません。".into());
        }
        Ok(a)
    }

    /// Accepts a 一括照会 upload and gives it a ReceptionNumber (`now`: YYYYMMDDhhmmss).
    pub fn answer_bulk_upload(
        &self,
        u: &BulkUpload,
        now: &str,
    ) -> Result<UploadAnswer, GatewayError> {
        if self.faults().outage {
            return Err(GatewayError::Unavailable);
        }
        let header = self
            .answer(
                "2",
                &u.qualification_confirmation_date,
                Some(&u.arbitrary_file_identifier),
                now,
            )
            .header;
        let mut jobs = self.bulk_jobs.lock().map_err(|_| GatewayError::Unavailable)?;
        let number = format!("R{now}{:04}", jobs.len() + 1);
        jobs.insert(number.clone(), (u.clone(), 0));
        Ok(UploadAnswer {
            header,
            body: BodyFields { processing_result_status: Some("1".into()), ..Default::default() },
            reception_number: Some(number),
        })
    }

    /// The download of an accepted upload: 処理中 for the first `faults.bulk_pending`
    /// requests, then one unit per patient, each answered like a lookup by numbers.
    pub fn answer_bulk_download(
        &self,
        d: &BulkDownload,
        now: &str,
    ) -> Result<BulkAnswer, GatewayError> {
        let faults = self.faults();
        if faults.outage {
            return Err(GatewayError::Unavailable);
        }
        let job = {
            let mut jobs = self.bulk_jobs.lock().map_err(|_| GatewayError::Unavailable)?;
            jobs.get_mut(&d.reception_number).map(|(upload, asked)| {
                *asked += 1;
                (upload.clone(), *asked)
            })
        };
        let mut header = self.answer("2", "", Some(&d.arbitrary_file_identifier), now).header;
        header.qualification_confirmation_date = None;
        let Some((upload, asked)) = job else {
            header.segment_of_result = Some("9".into());
            header.error_code = Some("EO3001".into());
            header.error_message = Some("受付番号に該当する一括照会がありません。".into());
            return Ok(BulkAnswer {
                header,
                reception_number: Some(d.reception_number.clone()),
                units: vec![],
            });
        };
        if asked <= faults.bulk_pending {
            header.segment_of_result = Some("2".into());
            header.error_code = Some("EO1002".into());
            header.error_message =
                Some("処理中です。しばらくしてから再度照会してください。".into());
            return Ok(BulkAnswer {
                header,
                reception_number: Some(d.reception_number.clone()),
                units: vec![],
            });
        }
        let mut units = Vec::with_capacity(upload.patients.len());
        for search in &upload.patients {
            let q = oqs::Request {
                qualification_confirmation_date: upload.qualification_confirmation_date.clone(),
                medical_institution_code: upload.medical_institution_code.clone(),
                arbitrary_file_identifier: String::new(),
                insurer_number: search.insurer_number.clone().unwrap_or_default(),
                insured_card_symbol: search.insured_card_symbol.clone(),
                insured_identification_number: search
                    .insured_identification_number
                    .clone()
                    .unwrap_or_default(),
                insured_branch_number: search.insured_branch_number.clone(),
                birthdate: search.birthdate.clone().unwrap_or_default(),
                limit_application_certificate_related_cons_flg: false,
            };
            let answer = self.answer_request(&q, now)?;
            let mut body = answer.body;
            if answer.header.segment_of_result.as_deref() != Some("1") {
                body.processing_result_status = Some("2".into());
                body.processing_result_code = answer.header.error_code;
                body.processing_result_message = answer.header.error_message;
            }
            units.push(BulkUnit {
                search_info: Some(search.clone()),
                body,
                results: answer.results,
                reference_number: None,
            });
        }
        let errors = units
            .iter()
            .filter(|u| u.body.processing_result_status.as_deref() != Some("1"))
            .count();
        header.other.insert("NumberOfProcessingResult".into(), units.len().to_string());
        header.other.insert("NumberOfNormalProcessing".into(), (units.len() - errors).to_string());
        header.other.insert("NumberOfError".into(), errors.to_string());
        Ok(BulkAnswer { header, reception_number: Some(d.reception_number.clone()), units })
    }

    pub fn people(&self) -> &[SimPerson] {
        &self.people
    }

    /// A person by sim id, or by the virtual-card person whose record it is (`yamada`).
    pub fn person(&self, id: &str) -> Option<&SimPerson> {
        self.people.iter().find(|p| p.id == id || p.card_person == Some(id))
    }

    pub fn faults(&self) -> Faults {
        self.faults.read().map(|f| f.clone()).unwrap_or_default()
    }

    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.faults.write() {
            if f.sequence != faults.sequence {
                self.sequence_used.store(0, std::sync::atomic::Ordering::SeqCst);
            }
            *f = faults;
        }
    }

    /// The next scripted answer of `faults.sequence`, if any is left.
    fn scripted(&self, faults: &Faults) -> Option<String> {
        if faults.sequence.is_empty() {
            return None;
        }
        let i = self.sequence_used.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        faults.sequence.get(i).cloned()
    }

    /// Whether this call draws a fault at `rate` (deterministic sequence).
    fn draw(&self, rate: f64) -> bool {
        if rate <= 0.0 {
            return false;
        }
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut rng = Lcg(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (rng.below(10_000) as f64) < rate * 10_000.0
    }

    fn find(&self, q: &oqs::Request) -> Found<'_> {
        let norm = |s: &str| eligibility::text::fold(s).replace(' ', "");
        let matches: Vec<&SimPerson> = self
            .people
            .iter()
            .filter(|p| norm(&p.insurer) == norm(&q.insurer_number))
            .filter(|p| norm(&p.number) == norm(&q.insured_identification_number))
            .filter(|p| p.birth.compact() == q.birthdate)
            .filter(|p| {
                q.insured_card_symbol
                    .as_deref()
                    .is_none_or(|s| p.symbol.as_deref().map(norm) == Some(norm(s)))
            })
            .filter(|p| q.insured_branch_number.as_deref().is_none_or(|b| p.branch == b))
            .collect();
        match matches.len() {
            0 => Found::None,
            1 => Found::One(matches[0]),
            _ => Found::Many(matches),
        }
    }

    fn result(&self, p: &SimPerson) -> QualificationResult {
        let reference =
            self.references.read().ok().and_then(|r| {
                r.get(&reference_key(&p.insurer, &p.number, Some(&p.branch))).cloned()
            });
        let lost_on = match p.standing {
            Standing::Valid => None,
            Standing::Lost(d) | Standing::LostWithNew(d) => Some(d),
        };
        QualificationResult {
            fields: QualificationFields {
                insured_card_classification: Some("01".into()),
                insurer_number: Some(p.insurer.clone()),
                insured_card_symbol: p.symbol.clone(),
                insured_identification_number: Some(p.number.clone()),
                insured_branch_number: Some(p.branch.clone()),
                personal_family_classification: Some(
                    if p.branch == "00" { "1" } else { "2" }.into(),
                ),
                name: Some(p.name.clone()),
                name_kana: Some(p.kana.clone()),
                sex1: Some(p.sex.into()),
                birthdate: Some(p.birth.compact()),
                insurer_name: Some(p.insurer_name.clone()),
                qualification_date: Some("20200401".into()),
                disqualification_date: lost_on.map(|d| d.compact()),
                reason_of_loss: lost_on.map(|_| "03".into()),
                insured_partial_contribution_ratio: p.partial_ratio.clone(),
                preschool_classification: p.preschool.then(|| "1".into()),
                limit_application_certificate_related_cons_flg: Some(
                    if p.limit_flag.is_some() { "1" } else { "0" }.into(),
                ),
                reference_number: reference,
                ..Default::default()
            },
            elderly_recipient: p.elderly_ratio.as_ref().map(|r| ElderlyRecipient {
                contribution_ratio: Some(r.clone()),
                ..Default::default()
            }),
            limit_certificate: p.limit_flag.as_ref().map(|f| LimitCertificate {
                classification: Some("01".into()),
                classification_flag: Some(f.clone()),
                ..Default::default()
            }),
            specific_diseases: p
                .specific_disease
                .iter()
                .map(|c| SpecificDisease {
                    disease_category: Some(c.clone()),
                    self_pay: Some("10000".into()),
                    ..Default::default()
                })
                .collect(),
        }
    }

    fn answer(&self, reference: &str, date: &str, file_id: Option<&str>, now: &str) -> Answer {
        Answer {
            header: AnswerHeader {
                process_execution_time: Some(now.into()),
                qualification_confirmation_date: Some(date.into()),
                medical_institution_code: Some(self.medical_institution_code.clone()),
                arbitrary_file_identifier: file_id.map(String::from),
                reference_classification: Some(reference.into()),
                segment_of_result: Some("1".into()),
                character_code_identifier: Some("0".into()),
                ..Default::default()
            },
            body: BodyFields { processing_result_status: Some("1".into()), ..Default::default() },
            ..Default::default()
        }
    }

    /// Answers a request file as the system would (`now`: YYYYMMDDhhmmss). Honours the
    /// outage, error and storm faults; latency and malformed output are the caller's.
    pub fn answer_request(&self, q: &oqs::Request, now: &str) -> Result<Answer, GatewayError> {
        let faults = self.faults();
        if faults.outage {
            return Err(GatewayError::Unavailable);
        }
        let mut a = self.answer(
            "2",
            &q.qualification_confirmation_date,
            Some(&q.arbitrary_file_identifier),
            now,
        );
        a.search_info = Some(SearchInfo {
            insurer_number: Some(q.insurer_number.clone()),
            insured_card_symbol: q.insured_card_symbol.clone(),
            insured_identification_number: Some(q.insured_identification_number.clone()),
            insured_branch_number: q.insured_branch_number.clone(),
            birthdate: Some(q.birthdate.clone()),
            limit_application_certificate_related_cons_flg: Some(
                if q.limit_application_certificate_related_cons_flg { "1" } else { "0" }.into(),
            ),
            ..Default::default()
        });
        match self.scripted(&faults).as_deref() {
            Some("timeout") => return Err(GatewayError::Timeout(0)),
            Some("processing") => {
                a.header.segment_of_result = Some("2".into());
                a.header.error_code = Some("EO1002".into());
                a.header.error_message =
                    Some("処理中です。しばらくしてから再度照会してください。".into());
                return Ok(a);
            }
            Some(_) => {
                a.header.segment_of_result = Some("9".into());
                a.header.error_code = Some("EO9999".into());
                a.header.error_message =
                    Some("システムエラーが発生しました。時間をおいて再度実行してください。".into());
                return Ok(a);
            }
            None => {}
        }
        if self.draw(faults.error_rate) {
            a.header.segment_of_result = Some("9".into());
            a.header.error_code = Some("EO9999".into());
            a.header.error_message =
                Some("システムエラーが発生しました。時間をおいて再度実行してください。".into());
            return Ok(a);
        }
        let validity = match (faults.invalid_storm, self.find(q)) {
            (true, Found::One(p)) => {
                a.results.push(self.result(p));
                "2"
            }
            (_, Found::None) => {
                a.body.processing_result_message = Some("該当する資格がありません。".into());
                "4"
            }
            (_, Found::Many(ps)) => {
                a.results.extend(ps.into_iter().map(|p| self.result(p)));
                "5"
            }
            (_, Found::One(p)) => {
                a.results.push(self.result(p));
                match p.standing {
                    Standing::Valid => "1",
                    Standing::Lost(_) => "2",
                    Standing::LostWithNew(_) => {
                        a.body.processing_result_message = Some("新しい資格が存在します。".into());
                        "3"
                    }
                }
            }
        };
        a.body.qualification_validity = Some(validity.into());
        Ok(a)
    }

    /// The face-auth reader's result for a cardholder who tapped their card.
    pub fn face_answer(&self, person_id: &str, visit: Date, now: &str) -> Option<Answer> {
        let p = self.person(person_id)?;
        let mut a = self.answer("1", &visit.compact(), None, now);
        a.results.push(self.result(p));
        a.body.qualification_validity =
            Some(if p.standing == Standing::Valid { "1" } else { "2" }.into());
        a.body.prescription_issue_select = Some("1".into());
        Some(a)
    }

    /// A card confirmation from the bridge's own reader: the signature over `challenge`
    /// must verify with the certificate, the certificate must chain to the test JPKI CA
    /// and be within its validity (or the card's grace), and map to a person.
    #[allow(clippy::too_many_arguments)]
    pub fn confirm_card(
        &self,
        policy: &Policy,
        holder: card::Holder,
        certificate: &[u8],
        signature: &[u8],
        challenge: &[u8],
        visit: Date,
        now: &str,
    ) -> Result<Answer, GatewayError> {
        if self.faults().outage {
            return Err(GatewayError::Unavailable);
        }
        let reject = |why: &str| GatewayError::CardRejected(why.to_string());
        verify_test_card(certificate, signature, challenge, visit)?;
        let summary = card::certificate::CertificateSummary::from_der(certificate)
            .map_err(|e| reject(&e.to_string()))?;
        if let card::certificate::CertificateState::Expired { .. }
        | card::certificate::CertificateState::NotYetValid = summary.state(policy, holder, visit)
        {
            return Err(GatewayError::CertificateExpired);
        }
        let person_id = summary
            .subject
            .split(',')
            .find_map(|rdn| rdn.strip_prefix("CN=JPKI TEST "))
            .ok_or_else(|| reject("unknown subject"))?;
        self.face_answer(person_id, visit, now)
            .ok_or_else(|| reject("no record for this certificate"))
    }
}

/// The signature over `challenge` verifies with the certificate, and the certificate
/// chains to the test JPKI CA. Only a test build has that CA (and RSA): a release bridge's
/// simulator cannot confirm any card, since real cards chain to J-LIS, not to our test CA.
#[cfg(feature = "test-doubles")]
fn verify_test_card(
    certificate: &[u8],
    signature: &[u8],
    challenge: &[u8],
    visit: Date,
) -> Result<(), GatewayError> {
    use rsa::pkcs8::DecodePublicKey;
    use sha2::{Digest, Sha256};
    use x509_cert::der::{Decode, Encode};
    let reject = |why: &str| GatewayError::CardRejected(why.to_string());
    let leaf = x509_cert::Certificate::from_der(certificate)
        .map_err(|_| reject("certificate is not DER X.509"))?;
    let pki = card::virtual_card::TestPki::new(visit).map_err(|e| reject(&e.to_string()))?;
    let ca = x509_cert::Certificate::from_der(pki.ca_certificate_der())
        .map_err(|_| reject("test CA"))?;
    let key_of = |c: &x509_cert::Certificate| -> Result<rsa::RsaPublicKey, GatewayError> {
        let der =
            c.tbs_certificate.subject_public_key_info.to_der().map_err(|_| reject("public key"))?;
        rsa::RsaPublicKey::from_public_key_der(&der).map_err(|_| reject("public key is not RSA"))
    };
    let tbs = leaf.tbs_certificate.to_der().map_err(|_| reject("certificate"))?;
    let ca_signature = leaf.signature.as_bytes().ok_or_else(|| reject("certificate signature"))?;
    key_of(&ca)?
        .verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&tbs), ca_signature)
        .map_err(|_| reject("not issued by the JPKI CA"))?;
    key_of(&leaf)?
        .verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(challenge), signature)
        .map_err(|_| reject("the signature over the challenge does not verify"))?;
    Ok(())
}

#[cfg(not(feature = "test-doubles"))]
fn verify_test_card(_: &[u8], _: &[u8], _: &[u8], _: Date) -> Result<(), GatewayError> {
    Err(GatewayError::CardNotSupported)
}

/// The simulator as the bridge's embedded gateway backend.
#[derive(Debug)]
pub struct SimGateway {
    pub sim: std::sync::Arc<Sim>,
    events: tokio::sync::broadcast::Sender<GatewayEvent>,
    /// Where `.sim-faults.json` is read before each request (`bridge serve`'s data
    /// directory), so tests and trainers can take the "national system" down from outside.
    faults_dir: Option<std::path::PathBuf>,
}

impl SimGateway {
    pub fn new(sim: std::sync::Arc<Sim>) -> SimGateway {
        SimGateway { sim, events: tokio::sync::broadcast::channel(1024).0, faults_dir: None }
    }

    /// Reads faults from `dir/.sim-faults.json` before each request.
    pub fn with_faults_dir(mut self, dir: std::path::PathBuf) -> SimGateway {
        self.faults_dir = Some(dir);
        self
    }

    /// Re-reads the faults file, when there is one.
    pub fn refresh_faults(&self) {
        if let Some(dir) = &self.faults_dir {
            self.sim.set_faults(super::peer::read_faults(dir));
        }
    }

    /// A simulated patient taps their card at the face-auth reader.
    pub fn tap(&self, person: &str, visit: Date, now: &str) -> bool {
        static TAPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = TAPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.sim.face_answer(person, visit, now) {
            Some(answer) => {
                let xml = answer.to_xml();
                let file = super::SeenFile {
                    name: format!("sim:{person}:{now}:{n}"),
                    sha256: crate::store::sha256_hex(xml.as_bytes()),
                    size: xml.len() as u64,
                    mtime_ns: 0,
                };
                self.events.send(GatewayEvent::Face { file, answer: Box::new(answer) }).is_ok()
            }
            None => false,
        }
    }
}

impl Gateway for SimGateway {
    async fn lookup(&self, query: &NumberQuery) -> Result<Answer, GatewayError> {
        self.refresh_faults();
        let latency = self.sim.faults().latency_ms;
        if latency > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
        }
        let request = query.to_request(&self.sim.medical_institution_code, "sim");
        self.sim.answer_request(&request, &format!("{}000000", query.visit.compact()))
    }

    fn events(&self) -> tokio::sync::broadcast::Receiver<GatewayEvent> {
        self.events.subscribe()
    }
}
