//! `bridge`: parse the command line, run the subcommand, map the result to an exit code.

use bridge::cli::{self, Command, Outcome};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let log_file =
        args.log_file.clone().or_else(|| std::env::var_os("MADOGUCHI_LOG_FILE").map(Into::into));
    match &log_file {
        Some(path) => {
            let rotation = bridge::card::logging::Rotation {
                max_bytes: args.log_max_mib.max(1) * 1024 * 1024,
                keep: args.log_keep.max(1),
                max_age: std::time::Duration::from_secs(args.log_max_days.max(1) * 86_400),
            };
            if let Err(e) = bridge::card::logging::init_to_file(args.verbose, path, rotation) {
                eprintln!(
                    "bridge: ログファイル {} を開けません / cannot open the log file: {e}",
                    path.display()
                );
                return ExitCode::from(2);
            }
        }
        None => bridge::card::logging::init(args.verbose),
    }
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match args.command {
        Command::Rules(rules) => bridge::rules::run(&rules, &mut stdin.lock(), &mut out),
        Command::Card(card) => bridge::card::cli::run(&card, &mut out),
        Command::Oqs(oqs) => bridge::gateway::cli::run(&oqs, &mut out),
        Command::Serve(serve) => bridge::server::cli::serve(&serve, &mut out),
        Command::Pair { data_dir, qr, name, minutes } => {
            bridge::server::cli::pair(&data_dir, qr.then_some(name.as_str()), minutes, &mut out)
        }
        Command::Devices { data_dir, command } => {
            bridge::server::cli::devices(&data_dir, &command, &mut out)
        }
        Command::Backup { data_dir, to, key, new_key } => bridge::server::cli::backup(
            &data_dir,
            to.as_deref(),
            key.as_deref(),
            new_key.as_deref(),
            &mut out,
        ),
        Command::Restore { data_dir, from, force, check, key } => {
            bridge::server::cli::restore(&data_dir, &from, force, check, key.as_deref(), &mut out)
        }
        Command::Export(args) => {
            bridge::server::cli::export(&args, &mut out, &mut std::io::stderr())
        }
        Command::Report { data_dir, command } => {
            bridge::server::cli::report(&data_dir, &command, &mut out)
        }
        Command::Tls { data_dir, command: cli::TlsCommand::ExportCa } => {
            bridge::server::cli::export_ca(&data_dir, &mut out)
        }
        Command::Tls {
            data_dir,
            command: cli::TlsCommand::SetupSheet { out: file, name, minutes },
        } => bridge::server::cli::setup_sheet(&data_dir, &file, &name, minutes, &mut out),
        Command::Tls { data_dir, command: cli::TlsCommand::Rotate { ca } } => {
            bridge::server::cli::rotate(&data_dir, ca, &mut out)
        }
        Command::Bookings { data_dir, command } => {
            bridge::bookings::cli::bookings(&data_dir, &command, &mut out)
        }
        Command::Bulk { data_dir, command } => {
            bridge::bookings::cli::bulk(&data_dir, &command, &mut out)
        }
        Command::Patients { data_dir, command } => {
            bridge::bookings::cli::patients(&data_dir, &command, &mut out)
        }
        Command::Staff { data_dir, command } => {
            bridge::server::cli::staff(&data_dir, &command, &mut out)
        }
        Command::Audit { data_dir, command } => {
            bridge::server::cli::audit(&data_dir, &command, &mut out)
        }
    };
    let _ = out.flush();
    match result {
        Ok(outcome) => ExitCode::from(outcome as u8),
        Err(error) => {
            eprintln!("bridge: {error:#}");
            ExitCode::from(Outcome::BadInput as u8)
        }
    }
}
