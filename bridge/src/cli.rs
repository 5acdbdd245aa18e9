//! The command line, as clap types. Exit codes: 0 done / valid, 1 the rule says no
//! (e.g. an invalid insurer number), 2 bad input or usage.

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "bridge",
    version,
    about = "madoguchi bridge: the clinic's daemon and operator commands"
)]
pub struct Args {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). Logs never contain
    /// PINs or patient data.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Write the log to this file instead of stderr, rotated by size and age (the
    /// service's log; `MADOGUCHI_LOG_FILE` works too).
    #[arg(long, global = true)]
    pub log_file: Option<std::path::PathBuf>,
    /// Rotate the log file at this size (MiB).
    #[arg(long, global = true, default_value_t = 10)]
    pub log_max_mib: u64,
    /// Keep this many rotated log files.
    #[arg(long, global = true, default_value_t = 5)]
    pub log_keep: usize,
    /// Remove rotated log files older than this (days).
    #[arg(long, global = true, default_value_t = 90)]
    pub log_max_days: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The eligibility rules and the fallback tree, for scripts and receipt computers.
    Rules(RulesArgs),
    /// Card readers (PC/SC) and the virtual-card emulator.
    Card(CardArgs),
    /// The national-system gateway: parse files, query, run the folder peer, tap a card.
    Oqs(OqsArgs),
    /// Run the bridge for terminals (HTTP + WebSocket on loopback).
    Serve(ServeArgs),
    /// Print a one-time pairing code for a new terminal.
    Pair {
        #[arg(long)]
        data_dir: Option<std::path::PathBuf>,
        /// Also print the link and QR code a tablet on the LAN scans to pair without typing
        /// (needs `lan_name`).
        #[arg(long)]
        qr: bool,
        /// The name the tablet pairs under (with --qr).
        #[arg(long, default_value = "tablet")]
        name: String,
        /// How long the code stays valid, in minutes (1–120).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=120))]
        minutes: u32,
    },
    /// Paired terminals.
    Devices {
        #[arg(long, global = true)]
        data_dir: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: DevicesCommand,
    },
    /// The receptions of a visit day for the receipt computer: one row per reception.
    Export(ExportArgs),
    /// Reports for the operator.
    Report {
        #[arg(long, global = true)]
        data_dir: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// A consistent copy of the ledger (while serving) with a manifest, in a new folder.
    Backup {
        #[arg(long)]
        data_dir: Option<std::path::PathBuf>,
        /// The folder the backup goes into (keep one copy off this PC too).
        #[arg(long, required_unless_present = "new_key")]
        to: Option<std::path::PathBuf>,
        /// Encrypt it with this key file (64 hex digits; keep it apart from the backups).
        #[arg(long)]
        key: Option<std::path::PathBuf>,
        /// Make a new key file and stop.
        #[arg(long, conflicts_with_all = ["to", "key"])]
        new_key: Option<std::path::PathBuf>,
    },
    /// Checks a backup (checksum, audit chain, counts) and restores it into the data
    /// directory; stop the bridge first.
    Restore {
        #[arg(long)]
        data_dir: Option<std::path::PathBuf>,
        /// The backup folder (`madoguchi-YYYYMMDD-HHMMSS`).
        from: std::path::PathBuf,
        /// Replace a data directory that has a ledger (the current one is kept aside).
        #[arg(long)]
        force: bool,
        /// Only check the backup; change nothing.
        #[arg(long)]
        check: bool,
        /// The key file of an encrypted backup.
        #[arg(long)]
        key: Option<std::path::PathBuf>,
    },
    /// The bridge's TLS certificates.
    Tls {
        #[arg(long, global = true)]
        data_dir: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: TlsCommand,
    },
    /// The booked patients of a day (imported from the booking system's CSV).
    Bookings {
        #[arg(long, global = true)]
        data_dir: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: BookingsCommand,
    },
    /// 一括照会: confirm a day's booked patients beforehand.
    Bulk {
        #[arg(long, global = true)]
        data_dir: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: BulkCommand,
    },
    /// The clinic's patients at the national system: 照会番号 registration.
    Patients {
        #[arg(long, global = true)]
        data_dir: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: PatientsCommand,
    },
    /// Staff accounts: who signs in on the terminals, with a passkey.
    Staff {
        #[arg(long, global = true)]
        data_dir: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// The hash-chained audit log.
    Audit {
        #[arg(long, global = true)]
        data_dir: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// Flags of `bridge serve`; each overrides the config file and the environment
/// (`crate::config`).
#[derive(Debug, ClapArgs)]
pub struct ServeArgs {
    /// Settings file (default: bridge.toml in the data directory, when present).
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
    /// Port for HTTPS and, from loopback, plain HTTP (default 8443).
    #[arg(long)]
    pub port: Option<u16>,
    /// Where the store lives (default: MADOGUCHI_DATA, else the platform's data directory).
    #[arg(long)]
    pub data_dir: Option<std::path::PathBuf>,
    /// The built frontend to serve (Trunk's dist/) instead of the embedded one.
    #[arg(long)]
    pub frontend: Option<std::path::PathBuf>,
    /// A LAN name or address tablets use (listens on all interfaces when given).
    #[arg(long)]
    pub lan_name: Vec<String>,
    /// The national-system backend (unset: the simulator, unless a 医療機関コード is set).
    #[arg(long, value_enum)]
    pub gateway: Option<crate::config::GatewayKind>,
    /// 医療機関コード (10 digits), written into the folder gateway's request files.
    #[arg(long)]
    pub institution_code: Option<String>,
    /// The 資格確認端末's folder holding req/ res/ face/ (with --gateway folder).
    #[arg(long)]
    pub folder: Option<std::path::PathBuf>,
    /// A policy override file (TOML): the clinic's table for the bridge and every terminal.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    #[cfg(feature = "test-doubles")]
    /// Tests and demos only: a simulated Sony USB reader with a virtual card
    /// (`rcs380:yamada`, `rcs300:tanaka`) reachable by a `navigator.usb` stand-in.
    #[arg(long)]
    pub simulate_usb_reader: Option<String>,
}

impl ServeArgs {
    /// The flag layer over `config`.
    pub fn apply(&self, mut config: crate::config::Config) -> crate::config::Config {
        if let Some(port) = self.port {
            config.port = port;
        }
        if !self.lan_name.is_empty() {
            config.lan_names = self.lan_name.clone();
        }
        if self.frontend.is_some() {
            config.frontend = self.frontend.clone();
        }
        if let Some(gateway) = self.gateway {
            config.gateway = Some(gateway);
        }
        if self.folder.is_some() {
            config.folder = self.folder.clone();
        }
        if self.institution_code.is_some() {
            config.medical_institution_code = self.institution_code.clone();
        }
        if self.policy.is_some() {
            config.policy = self.policy.clone();
        }
        config
    }
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// マイナ保険証 利用率 of the month and the six before, against the prefecture and the
    /// nation, and the 加算 tier (the same figures as the 利用状況 screen).
    Usage {
        /// YYYY-MM (default: this month in Japan).
        #[arg(long)]
        month: Option<String>,
        #[arg(long, value_enum, default_value_t = FacilityArg::Clinic)]
        facility: FacilityArg,
        /// JIS prefecture code (1–47), e.g. 13 for 東京都.
        #[arg(long)]
        prefecture: Option<u8>,
        /// 小児科 (the tier-3 exception).
        #[arg(long)]
        pediatric: bool,
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FacilityArg {
    Hospital,
    Clinic,
    Dental,
    Pharmacy,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    List,
    Revoke { device_id: String },
}

/// Flags of `bridge export`.
#[derive(Debug, ClapArgs)]
pub struct ExportArgs {
    #[arg(long)]
    pub data_dir: Option<std::path::PathBuf>,
    /// The visit day (YYYY-MM-DD): receptions are selected by the day the patient came,
    /// not the day the bridge received them.
    #[arg(long)]
    pub date: String,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// UTF-8 with a BOM, or Shift_JIS (Windows-31J) for レセコン that want it; characters
    /// Shift_JIS cannot hold are reported on stderr and written as &#NNNN;, never dropped.
    #[arg(long, value_enum, default_value_t = ExportEncoding::Utf8)]
    pub encoding: ExportEncoding,
    /// Only receptions with an event after this seq (incremental pulls: the last row's
    /// 最終seq of the previous export).
    #[arg(long, default_value_t = 0)]
    pub since_seq: u64,
    /// Export the 練習モード (simulator) receptions instead of the real ones; the two are
    /// never exported together.
    #[arg(long)]
    pub training: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportEncoding {
    #[value(name = "utf-8")]
    Utf8,
    #[value(name = "shift_jis")]
    ShiftJis,
}

#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Print the CA certificate (PEM) to install on tablets.
    ExportCa,
    /// Write the printed set-up sheet for a tablet: installing the CA on Android, its
    /// fingerprint, and a pairing QR code valid for `--minutes`.
    SetupSheet {
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value = "tablet")]
        name: String,
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=120))]
        minutes: u32,
    },
    /// Issue a new leaf certificate now (the CA stays: tablets keep trusting the bridge).
    Rotate {
        /// Also make a new CA; every tablet must then install it again.
        #[arg(long)]
        ca: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the chain; exit 1 at the first altered row.
    Verify,
    /// What one person did on one day: their audited actions and the changes that reached
    /// the ledger under their name (never patient data: record ids and kinds).
    Show {
        /// The staff member's name (or id).
        #[arg(long)]
        person: String,
        /// The day in Japan (YYYY-MM-DD); today when left out.
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StaffRole {
    /// Receives patients.
    Reception,
    /// Also adds staff and pairs terminals.
    Admin,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Reception => "reception",
            StaffRole::Admin => "admin",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Adds a person and prints their one-time enrolment code (they enter it on a
    /// terminal's sign-in screen and create a passkey there).
    Add {
        name: String,
        #[arg(long, value_enum, default_value_t = StaffRole::Reception)]
        role: StaffRole,
        /// How long the code stays valid, in minutes (1–1440).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1440))]
        minutes: u32,
    },
    /// Everyone, with their role, passkeys and state.
    List,
    /// A new enrolment code for another passkey (a second device).
    Enrol {
        name: String,
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1440))]
        minutes: u32,
    },
    /// A lost authenticator: disables all of the person's passkeys, ends their sessions and
    /// prints a new enrolment code. Audited.
    Recover {
        name: String,
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1440))]
        minutes: u32,
    },
    /// No more sign-in for this person; their sessions end. Their records stay theirs.
    Disable { name: String },
}

#[derive(Debug, ClapArgs)]
pub struct OqsArgs {
    #[command(subcommand)]
    pub command: OqsCommand,
}

#[derive(Debug, Subcommand)]
pub enum BookingsCommand {
    /// Import a CSV (`date,time,patient_id,kana,name,birth,insurer,symbol,number,branch`, or
    /// the Japanese header names; UTF-8 or Shift_JIS). Bad rows are reported by line and
    /// the good ones kept (exit 2 when any row was refused).
    Import { file: std::path::PathBuf },
    /// The bookings of a day, with what the 一括照会 said of each.
    List {
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum BulkCommand {
    /// Run (or resume) the 一括照会 of a day's bookings, through the 端末's folder or the
    /// simulator, and store each result against its booking.
    Run {
        /// YYYY-MM-DD (default: tomorrow in Japan).
        #[arg(long)]
        date: Option<String>,
        /// The 資格確認端末's folder holding req/ and res/ (default: the simulator).
        #[arg(long)]
        folder: Option<std::path::PathBuf>,
        /// 医療機関コード (10 digits) written into the requests.
        #[arg(long, default_value = "1312345678")]
        institution_code: String,
        /// Between two looks at res/ and two download requests answered 処理中.
        #[arg(long, default_value_t = 2_000)]
        poll_ms: u64,
        /// How long one answer file is waited for.
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
        /// 処理中 answers before this run stops (a later run resumes).
        #[arg(long, default_value_t = 900)]
        max_polls: u32,
    },
    /// How far a day's 一括照会 is (JSON).
    Status {
        #[arg(long)]
        date: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PatientsCommand {
    /// Register each booked patient's id as their 照会番号 (`OQSsiimm01req_`), so that face
    /// results carry it back; failures are listed with the reason (exit 2 if any).
    RegisterIds {
        /// The bookings of this day (YYYY-MM-DD; default: today in Japan).
        #[arg(long)]
        date: Option<String>,
        /// The 資格確認端末's folder holding req/ and res/ (default: the simulator).
        #[arg(long)]
        folder: Option<std::path::PathBuf>,
        #[arg(long, default_value = "1312345678")]
        institution_code: String,
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum OqsCommand {
    /// Parse an answer file; print it and its interpretation as JSON (exit 2 on bad input).
    Parse {
        file: std::path::PathBuf,
        /// The visit date for the copay (YYYYMMDD); default today.
        #[arg(long)]
        visit: Option<String>,
    },
    /// 資格確認 by numbers, against the simulator or, with --folder, the 端末's folders.
    Query {
        #[arg(long)]
        insurer: String,
        #[arg(long)]
        symbol: Option<String>,
        #[arg(long)]
        number: String,
        #[arg(long)]
        branch: Option<String>,
        /// YYYYMMDD.
        #[arg(long)]
        birth: String,
        #[arg(long)]
        visit: Option<String>,
        #[arg(long)]
        folder: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 30)]
        timeout_secs: u64,
    },
    /// Play the 連携アプリケーション on a folder with the simulator (until Ctrl-C).
    Sim {
        #[arg(long)]
        folder: std::path::PathBuf,
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        #[arg(long, default_value_t = 0.0)]
        error_rate: f64,
        #[arg(long)]
        outage: bool,
    },
    /// The document numbers of a simulated person, as a lookup query (JSON, with the
    /// person's kana), for tests and training.
    Numbers {
        /// A sim id or a virtual-card person (yamada, …).
        #[arg(long)]
        person: String,
        /// YYYY-MM-DD (default: today in Japan).
        #[arg(long)]
        visit: Option<String>,
    },
    /// A simulated patient taps their card at the face-auth reader: drop a face/ result.
    Tap {
        #[arg(long)]
        folder: std::path::PathBuf,
        /// A sim id (p000…, lost-new, …) or a virtual-card person (yamada, …).
        #[arg(long)]
        person: String,
        #[arg(long)]
        visit: Option<String>,
    },
}

#[derive(Debug, ClapArgs)]
pub struct CardArgs {
    #[command(subcommand)]
    pub command: CardCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PhoneKind {
    Android,
    Iphone,
}

#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// The readers and whether a card is present.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Holder, certificate (expiry and grace), PIN tries left. Spends no PIN try.
    Check {
        #[arg(long)]
        reader: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The day to judge the certificate on (YYYYMMDD); default today in Japan.
        #[arg(long)]
        today: Option<String>,
    },
    /// 氏名・住所・生年月日・性別 from the text AP (asks the 4-digit PIN without echo).
    ReadBasicInfo {
        #[arg(long)]
        reader: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Read the PIN from the first line of stdin (automation) instead of the terminal.
        #[arg(long)]
        pin_from_stdin: bool,
        /// Staff confirmed that the last try may be spent.
        #[arg(long)]
        staff_confirmed_last_try: bool,
    },
    /// Verify the auth PIN and sign a challenge (what the gateway's card path uses).
    Confirm {
        #[arg(long)]
        reader: Option<String>,
        #[arg(long, default_value = "madoguchi challenge")]
        challenge: String,
        #[arg(long)]
        pin_from_stdin: bool,
        #[arg(long)]
        staff_confirmed_last_try: bool,
    },
    #[cfg(feature = "test-doubles")]
    /// Connect a virtual card to pcscd's vpcd driver; commands on stdin: remove, insert,
    /// remove-after N, quit.
    Emulate {
        /// A test person id (yamada, sato, suzuki, takahashi, tanaka, ito, watanabe, kobayashi).
        #[arg(long)]
        person: String,
        /// Present the person's certificate as a phone instead.
        #[arg(long, value_enum)]
        phone: Option<PhoneKind>,
        #[arg(long, default_value_t = 35963)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Keep the PIN counters in this file across runs.
        #[arg(long)]
        state: Option<std::path::PathBuf>,
        /// The day the test CA issues on (YYYYMMDD); default today in Japan.
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(Debug, ClapArgs)]
pub struct RulesArgs {
    /// A policy override file (TOML; its sections replace the embedded ones).
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate a 保険者番号: exit 0 when valid (with its meaning), 1 with the reason.
    CheckInsurer {
        number: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The copay (負担割合) on a visit date: from the answer fields, or estimated.
    Copay {
        /// Birth date, YYYYMMDD.
        #[arg(long)]
        birth: String,
        /// Visit date, YYYYMMDD.
        #[arg(long)]
        visit: String,
        /// InsuredPartialContributionRatio of the answer (e.g. 010).
        #[arg(long)]
        insured_partial_contribution_ratio: Option<String>,
        /// ElderlyRecipientContributionRatio of the answer (e.g. 020).
        #[arg(long)]
        elderly_recipient_contribution_ratio: Option<String>,
        /// PreschoolClassification of the answer (1 = 未就学).
        #[arg(long)]
        preschool_classification: Option<String>,
        /// There was an online answer even if it carried none of the fields above.
        #[arg(long)]
        online_answer: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Read {"context", "answers", "root"} as JSON on stdin; print the next question or
    /// the outcome as JSON.
    Decide,
    /// Export the decision tree.
    Tree {
        #[arg(long, value_enum, default_value_t = TreeFormat::Mermaid)]
        format: TreeFormat,
    },
    /// Print the policy table in force (embedded, or with the override applied) as TOML
    /// sections re-serialised to JSON.
    Policy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TreeFormat {
    Mermaid,
    Json,
}

/// What a successful command reports through the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done = 0,
    RuleSaysNo = 1,
    BadInput = 2,
}
