//! The evening's 一括照会: the next day's booked patients go up in one upload, the national
//! system answers a ReceptionNumber, and the download is asked for until it is ready
//! (処理中 answers in between); each `BulkConfirmUnit` is then stored against its booking.
//!
//! Through the 資格確認端末's folders (`req/` → `res/`, answers may be a ZIP) or the
//! simulator in-process. Each step is stored before its file is written, so a run cut off
//! by a restart goes on where it was: an upload already sent is never sent again. Every
//! answer file read is ours (`res/` answers to our requests) and is kept in
//! `<data>/bulk/<YYYYMMDD>/` — an unreadable one there too, and the run says why.

use super::sim::Sim;
use super::GatewayError;
use crate::store::{BulkStep, Store};
use eligibility::Date;
use oqs::bulk::{self, BulkAnswer, BulkDownload, BulkUnit, BulkUpload, Progress, UploadAnswer};
use oqs::model::SearchInfo;
use reception::booking::{BookingRow, PreConfirmation, PreState};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the bulk messages go.
#[derive(Debug, Clone)]
pub enum BulkPeer {
    /// The 資格確認端末's folder (holding `req/` and `res/`).
    Folder(PathBuf),
    /// The simulator, in-process (training, tests).
    Sim(Arc<Sim>),
}

/// How a run waits.
#[derive(Debug, Clone)]
pub struct BulkConfig {
    pub medical_institution_code: String,
    /// Between two looks at `res/`, and between two download requests answered 処理中.
    pub poll: Duration,
    /// How long one answer file is waited for.
    pub answer_timeout: Duration,
    /// Download requests answered 処理中 before the run gives up for now (it resumes).
    pub max_polls: u32,
    /// `<data>/bulk`: every answer read, by day.
    pub archive: PathBuf,
}

impl BulkConfig {
    /// `<data>/quarantine/`, beside the archive: where the folder worker's copies go too.
    pub fn quarantine(&self) -> PathBuf {
        self.archive.with_file_name("quarantine")
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkSummary {
    pub date: String,
    pub step: BulkStep,
    pub reception_number: Option<String>,
    /// Bookings sent (with numbers).
    pub sent: usize,
    /// Pre-confirmations stored.
    pub stored: usize,
    /// Units no booking could be found for.
    pub unmatched: usize,
    /// Download requests answered 処理中 (over the whole run, across restarts).
    pub polls: u32,
    /// Bookings whose 限度額 information changed (`LimitApplicationCertificateChanged`).
    pub limit_changed: usize,
}

/// Why a run stopped before storing the results.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("一括照会が拒否されました: {0} / the national system refused the 一括照会: {0}")]
    Refused(String),
    #[error("一括照会の結果がまだできていません（処理中 {0} 回）。あとで `bridge bulk run` を再実行すると続きから進みます / the download is still not ready after {0} tries: run `bridge bulk run` again later, it resumes")]
    StillPending(u32),
}

/// The booking id a unit echoes in `ArbitraryIdentifier`.
fn search_info(b: &BookingRow) -> Option<SearchInfo> {
    let n = b.booking.numbers.as_ref()?;
    let insurer = eligibility::InsurerNumber::parse(&n.insurer).ok()?;
    Some(SearchInfo {
        insurer_number: Some(insurer.eight_char_form()),
        insured_card_symbol: n.symbol.clone(),
        insured_identification_number: Some(n.number.clone()),
        insured_branch_number: n.branch.clone(),
        birthdate: Some(b.booking.birth.compact()),
        limit_application_certificate_related_cons_flg: Some("0".into()),
        arbitrary_identifier: Some(b.booking_id.clone()),
        ..SearchInfo::default()
    })
}

/// The booking a unit answers: by the echoed id, else by the numbers and birth date.
fn booking_for<'a>(
    unit: &BulkUnit,
    bookings: &'a [(BookingRow, SearchInfo)],
) -> Option<&'a BookingRow> {
    let s = unit.search_info.as_ref()?;
    if let Some(id) = &s.arbitrary_identifier {
        if let Some((b, _)) = bookings.iter().find(|(b, _)| &b.booking_id == id) {
            return Some(b);
        }
    }
    let fold =
        |v: &Option<String>| v.as_deref().map(|t| eligibility::text::fold(t).replace(' ', ""));
    bookings
        .iter()
        .find(|(_, sent)| {
            fold(&sent.insurer_number) == fold(&s.insurer_number)
                && fold(&sent.insured_identification_number)
                    == fold(&s.insured_identification_number)
                && sent.birthdate == s.birthdate
        })
        .map(|(b, _)| b)
}

/// The next free 4-digit daily sequence for our bulk and registration files
/// (`YYYYMMDDnnnn`), after every such name in `req/`, `res/` and the archive.
pub(super) fn next_file_id(peer: &BulkPeer, archive_day: &Path, date_compact: &str) -> String {
    file_id(date_compact, highest_file_seq(peer, archive_day, date_compact) + 1)
}

/// `YYYYMMDD` + the 4-digit sequence.
pub(super) fn file_id(date_compact: &str, seq: u32) -> String {
    format!("{date_compact}{seq:04}")
}

/// The highest daily sequence any of our files of that day has (0: none). One scan of the
/// folders: a caller writing many files counts on from it.
pub(super) fn highest_file_seq(peer: &BulkPeer, archive_day: &Path, date_compact: &str) -> u32 {
    let mut dirs = vec![archive_day.to_path_buf()];
    if let BulkPeer::Folder(root) = peer {
        dirs.push(root.join("req"));
        dirs.push(root.join("res"));
    }
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|entries| entries.flatten())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            // OQSmuquc01req_…, OQSmuquc02res_…, OQSsiimm01req_…: the part after `_`.
            let rest = name.strip_prefix("OQS")?.split_once('_')?.1.to_string();
            let seq = rest.strip_prefix(date_compact)?.get(..4)?.parse::<u32>().ok()?;
            Some(seq)
        })
        .max()
        .unwrap_or(0)
}

/// A bulk answer's bytes: the XML itself, or the first `.xml` inside a ZIP.
pub fn unpack(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Ok(bytes.to_vec());
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("ZIP を開けません / cannot open the ZIP: {e}"))?;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| format!("ZIP: {e}"))?;
        let name = file.name().map(|n| n.to_ascii_lowercase()).unwrap_or_default();
        if !name.ends_with(".xml") {
            continue;
        }
        if file.size() > oqs::xml::Limits::BULK.bytes as u64 {
            return Err(format!(
                "ZIP の中のファイルが大きすぎます / the file in the ZIP is too large ({} bytes)",
                file.size()
            ));
        }
        let mut out = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(&mut file, oqs::xml::Limits::BULK.bytes as u64 + 1),
            &mut out,
        )
        .map_err(|e| format!("ZIP: {e}"))?;
        return Ok(out);
    }
    Err("ZIP に XML がありません / no XML inside the ZIP".into())
}

/// Waits for `res/<prefix with res_><id>.xml` (or `.zip`), keeps a copy in `archive_day`,
/// removes it from `res/` (an answer to our own request is ours) and reads its XML with
/// `read`. An answer that cannot be read, or that is not the answer to our request, is
/// also copied into `<data>/quarantine/` with a `.reason.txt`, and the error names the copy.
pub(super) async fn await_answer<T>(
    root: &Path,
    archive_day: &Path,
    prefix: &str,
    id: &str,
    config: &BulkConfig,
    read: impl Fn(&[u8]) -> Result<T, String>,
) -> Result<T, GatewayError> {
    let answer_prefix = prefix.replace("req_", "res_");
    let started = Instant::now();
    loop {
        for ext in ["xml", "zip"] {
            let path = root.join("res").join(format!("{answer_prefix}{id}.{ext}"));
            if let Ok(bytes) = std::fs::read(&path) {
                std::fs::create_dir_all(archive_day)
                    .and_then(|_| {
                        std::fs::write(
                            archive_day.join(path.file_name().unwrap_or_default()),
                            &bytes,
                        )
                    })
                    .map_err(|e| GatewayError::Folder(e.to_string()))?;
                let _ = std::fs::remove_file(&path);
                return unpack(&bytes).and_then(|xml| read(&xml)).map_err(|why| {
                    GatewayError::Malformed(quarantine(&path, &bytes, &config.quarantine(), why))
                });
            }
        }
        if started.elapsed() >= config.answer_timeout {
            return Err(GatewayError::Timeout(config.answer_timeout.as_secs()));
        }
        tokio::time::sleep(config.poll).await;
    }
}

/// Copies an unreadable answer into `dir` beside the reason; the reason, naming the copy.
fn quarantine(file: &Path, bytes: &[u8], dir: &Path, why: String) -> String {
    let copy = super::folder::copy_into(file, bytes, dir).and_then(|target| {
        std::fs::write(target.with_extension("reason.txt"), &why)?;
        Ok(target)
    });
    match copy {
        Ok(target) => format!("{why}（控え / copy: {}）", target.display()),
        Err(e) => format!("{why}（控えを作れません / no copy: {e}）"),
    }
}

struct Run<'a> {
    peer: &'a BulkPeer,
    config: &'a BulkConfig,
    date: Date,
    archive_day: PathBuf,
}

impl Run<'_> {
    /// Writes a request into `req/` (folder) — or nothing for the simulator.
    fn write_request(&self, prefix: &str, id: &str, xml: &str) -> Result<(), GatewayError> {
        if let BulkPeer::Folder(root) = self.peer {
            super::folder::write_atomically(
                &root.join("req"),
                &format!("{prefix}{id}.xml"),
                xml.as_bytes(),
            )
            .map_err(|e| GatewayError::Folder(e.to_string()))?;
        }
        Ok(())
    }

    /// Waits for the answer to our request `prefix` + `id` (see [`await_answer`]).
    async fn await_answer<T>(
        &self,
        prefix: &str,
        id: &str,
        read: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<T, GatewayError> {
        let BulkPeer::Folder(root) = self.peer else {
            return Err(GatewayError::Folder("no folder".into()));
        };
        await_answer(root, &self.archive_day, prefix, id, self.config, read).await
    }

    fn keep(&self, name: &str, xml: &str) {
        let _ = std::fs::create_dir_all(&self.archive_day);
        let _ = std::fs::write(self.archive_day.join(name), xml);
    }

    async fn upload_answer(
        &self,
        upload_id: &str,
        upload: Option<&BulkUpload>,
    ) -> Result<UploadAnswer, GatewayError> {
        match self.peer {
            BulkPeer::Sim(sim) => {
                let upload = upload.ok_or(GatewayError::Unavailable)?;
                let answer = sim.answer_bulk_upload(upload, &crate::clock::jst_stamp())?;
                self.keep(&format!("OQSmuquc01res_{upload_id}.xml"), &answer.to_xml());
                Ok(answer)
            }
            BulkPeer::Folder(_) => {
                self.await_answer(bulk::UPLOAD_PREFIX, upload_id, |xml| {
                    bulk::parse_root(xml)
                        .and_then(|root| UploadAnswer::from_root(&root))
                        .map_err(|e| e.to_string())
                })
                .await
            }
        }
    }

    async fn download(&self, reception_number: &str) -> Result<BulkAnswer, GatewayError> {
        let id = next_file_id(self.peer, &self.archive_day, &self.date.compact());
        let request = BulkDownload {
            medical_institution_code: self.config.medical_institution_code.clone(),
            arbitrary_file_identifier: id.clone(),
            reception_number: reception_number.to_string(),
        };
        self.keep(&format!("{}{id}.xml", bulk::DOWNLOAD_PREFIX), &request.to_xml());
        match self.peer {
            BulkPeer::Sim(sim) => sim.answer_bulk_download(&request, &crate::clock::jst_stamp()),
            BulkPeer::Folder(_) => {
                self.write_request(bulk::DOWNLOAD_PREFIX, &id, &request.to_xml())?;
                self.await_answer(bulk::DOWNLOAD_PREFIX, &id, |xml| {
                    let answer = bulk::parse_root(xml)
                        .and_then(|root| BulkAnswer::from_root(&root))
                        .map_err(|e| e.to_string())?;
                    // Another run's download (a ReceptionNumber not ours) is not stored.
                    match answer.reception_number.as_deref().map(str::trim) {
                        Some(other) if !other.is_empty() && other != reception_number.trim() => {
                            Err(format!(
                                "受付番号が違います（{other}、こちらは {reception_number}）/ the answer is for another run"
                            ))
                        }
                        _ => Ok(answer),
                    }
                })
                .await
            }
        }
    }
}

/// Runs (or resumes) the 一括照会 of `date`'s bookings.
pub async fn run(
    store: &Store,
    peer: &BulkPeer,
    config: &BulkConfig,
    date: Date,
) -> Result<BulkSummary, BulkError> {
    let run = Run { peer, config, date, archive_day: config.archive.join(date.compact()) };
    let bookings: Vec<(BookingRow, SearchInfo)> = store
        .bookings_on(date)?
        .into_iter()
        .filter_map(|b| search_info(&b).map(|s| (b, s)))
        .collect();
    let mut summary = BulkSummary {
        date: date.to_string(),
        step: BulkStep::Uploaded,
        reception_number: None,
        sent: bookings.len(),
        stored: 0,
        unmatched: 0,
        polls: 0,
        limit_changed: 0,
    };
    let previous = store.bulk_run(date)?;
    let resumable = previous
        .as_ref()
        .is_some_and(|r| matches!(r.step, BulkStep::Uploaded | BulkStep::Downloading));
    let mut state = match previous {
        Some(r) if resumable => r,
        _ => {
            if bookings.is_empty() {
                store.start_bulk_run(date, "")?;
                store.finish_bulk_run(date, &[], "no bookings with numbers")?;
                summary.step = BulkStep::Done;
                return Ok(summary);
            }
            let upload_id = next_file_id(peer, &run.archive_day, &date.compact());
            let upload = BulkUpload {
                qualification_confirmation_date: date.compact(),
                medical_institution_code: config.medical_institution_code.clone(),
                arbitrary_file_identifier: upload_id.clone(),
                patients: bookings.iter().map(|(_, s)| s.clone()).collect(),
            };
            // The step first, then the file: a restart in between waits for an answer
            // (and times out) rather than uploading twice.
            store.start_bulk_run(date, &upload_id)?;
            run.keep(&format!("{}{upload_id}.xml", bulk::UPLOAD_PREFIX), &upload.to_xml());
            run.write_request(bulk::UPLOAD_PREFIX, &upload_id, &upload.to_xml())?;
            if let BulkPeer::Sim(_) = peer {
                let answer = run.upload_answer(&upload_id, Some(&upload)).await?;
                accept_upload(store, date, &answer)?;
            }
            store.bulk_run(date)?.ok_or(BulkError::Refused("the run was not stored".into()))?
        }
    };
    if state.step == BulkStep::Uploaded {
        let upload_id = state.upload_id.clone().unwrap_or_default();
        let answer = match run.upload_answer(&upload_id, None).await {
            Ok(a) => a,
            Err(e) => return Err(fail(store, date, e.into())),
        };
        accept_upload(store, date, &answer)?;
        state = store.bulk_run(date)?.ok_or(BulkError::Refused("the run was not stored".into()))?;
    }
    let reception_number = state.reception_number.clone().unwrap_or_default();
    summary.reception_number = Some(reception_number.clone());
    let mut polls = state.polls;
    let answer = loop {
        let answer = match run.download(&reception_number).await {
            Ok(a) => a,
            Err(GatewayError::Malformed(why)) => {
                return Err(fail(store, date, BulkError::Gateway(GatewayError::Malformed(why))))
            }
            Err(e) => return Err(e.into()),
        };
        match answer.progress() {
            Progress::Done => break answer,
            Progress::Pending => {
                polls += 1;
                store.update_bulk_run(
                    date,
                    BulkStep::Downloading,
                    None,
                    polls,
                    Some("処理中 / processing"),
                )?;
                if polls >= state.polls + config.max_polls {
                    return Err(BulkError::StillPending(polls));
                }
                tokio::time::sleep(config.poll).await;
            }
            Progress::Failed { code, message } => {
                let why = format!("{} {}", code.unwrap_or_default(), message.unwrap_or_default());
                return Err(fail(store, date, BulkError::Refused(why.trim().to_string())));
            }
        }
    };
    summary.polls = polls;
    let now = crate::clock::now_rfc3339();
    let mut results = Vec::new();
    for unit in &answer.units {
        let Some(booking) = booking_for(unit, &bookings) else {
            summary.unmatched += 1;
            continue;
        };
        if unit
            .results
            .iter()
            .any(|r| r.fields.other.contains_key("LimitApplicationCertificateChanged"))
        {
            summary.limit_changed += 1;
        }
        let as_answer = unit.answer(&answer.header);
        let state = PreState::of(
            unit.body.processing_result_status.as_deref(),
            unit.body.qualification_validity.as_deref(),
            unit.results.len(),
        );
        results.push((
            booking.booking_id.clone(),
            PreConfirmation {
                state,
                // Read as of the booked day: the copay and ages are that day's.
                reading: Some(super::reply(&as_answer, date).reading),
                reception_number: Some(reception_number.clone()),
                time: now.clone(),
            },
            serde_json::to_value(&as_answer).unwrap_or_default(),
        ));
    }
    let detail = format!(
        "{} units, {} stored, {} unmatched",
        answer.units.len(),
        results.len(),
        summary.unmatched
    );
    summary.stored = store.finish_bulk_run(date, &results, &detail)?;
    summary.step = BulkStep::Done;
    Ok(summary)
}

/// Whether the evening's run is due: `now` and `at` in minutes after midnight (Japan);
/// `run` is what the store knows of tomorrow's run. Once a day: a run done, or one that
/// failed (staff look, and `bridge bulk run` starts it again), is not started by itself.
pub fn evening_due(now: u32, at: u32, run: Option<&crate::store::BulkRun>) -> bool {
    now >= at && run.is_none_or(|r| matches!(r.step, BulkStep::Uploaded | BulkStep::Downloading))
}

/// Runs the next day's 一括照会 every evening at `at` (minutes after midnight, Japan),
/// resuming a run a restart cut off. Checks once a minute.
pub fn spawn_evening(store: Store, peer: BulkPeer, config: BulkConfig, at: u32) {
    tokio::spawn(async move {
        loop {
            let tomorrow = Date::from_day_number(crate::clock::today_jst().day_number() + 1);
            if let Some(date) = tomorrow {
                let known = {
                    let store = store.clone();
                    tokio::task::spawn_blocking(move || store.bulk_run(date)).await
                };
                if let Ok(Ok(run_state)) = known {
                    if evening_due(crate::clock::jst_minutes(), at, run_state.as_ref()) {
                        match run(&store, &peer, &config, date).await {
                            Ok(s) => {
                                tracing::info!(date = %date, stored = s.stored, "evening 一括照会 done")
                            }
                            Err(e) => {
                                tracing::warn!(date = %date, error = %e, "evening 一括照会 stopped")
                            }
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    });
}

fn accept_upload(store: &Store, date: Date, answer: &UploadAnswer) -> Result<(), BulkError> {
    match answer.progress() {
        Progress::Done => {
            store.update_bulk_run(
                date,
                BulkStep::Downloading,
                answer.reception_number.as_deref(),
                0,
                None,
            )?;
            Ok(())
        }
        Progress::Pending => Err(BulkError::StillPending(0)),
        Progress::Failed { code, message } => {
            let why = format!("{} {}", code.unwrap_or_default(), message.unwrap_or_default());
            Err(fail(store, date, BulkError::Refused(why.trim().to_string())))
        }
    }
}

/// Marks the run failed with the reason (a new run starts over) and hands the error back.
fn fail(store: &Store, date: Date, e: BulkError) -> BulkError {
    let _ = store.update_bulk_run(date, BulkStep::Failed, None, 0, Some(&e.to_string()));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evening_run_is_due_once_a_day() {
        let run = |step| crate::store::BulkRun {
            date: "2026-12-03".into(),
            step,
            upload_id: None,
            reception_number: None,
            polls: 0,
            detail: None,
            started_time: String::new(),
            updated_time: String::new(),
        };
        let at = 19 * 60;
        assert!(!evening_due(at - 1, at, None), "not before the time");
        assert!(evening_due(at, at, None));
        assert!(evening_due(23 * 60, at, None), "a bridge started late still runs it");
        assert!(evening_due(at + 5, at, Some(&run(BulkStep::Downloading))), "resumed");
        assert!(!evening_due(at + 5, at, Some(&run(BulkStep::Done))));
        assert!(!evening_due(at + 5, at, Some(&run(BulkStep::Failed))), "staff decide");
    }

    /// Regression: the sequence was read one character too far in, so every file of a
    /// day was `…0001` and a download's answer overwrote the one before in the archive.
    #[test]
    fn file_ids_follow_the_days_files() {
        let dir = std::env::temp_dir().join(format!("madoguchi-bulk-ids-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let peer = BulkPeer::Folder(dir.join("share"));
        assert_eq!(next_file_id(&peer, &dir, "20261202"), "202612020001");
        std::fs::write(dir.join("OQSmuquc01req_202612020001.xml"), "").unwrap();
        std::fs::write(dir.join("OQSmuquc02res_202612020007.zip"), "").unwrap();
        std::fs::write(dir.join("OQSmuquc02res_202612030099.xml"), "").unwrap();
        assert_eq!(next_file_id(&peer, &dir, "20261202"), "202612020008");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_zip_answer_is_unpacked_and_a_broken_one_is_an_error() {
        let mut zipped = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut zipped);
        w.start_file("a.xml", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut w, b"<XmlMsg/>").unwrap();
        w.finish().unwrap();
        assert_eq!(unpack(zipped.get_ref()).unwrap(), b"<XmlMsg/>");
        assert_eq!(unpack(b"<XmlMsg/>").unwrap(), b"<XmlMsg/>");
        assert!(unpack(b"PK\x03\x04broken").is_err());
    }
}
