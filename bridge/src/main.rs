//! `bridge`: the clinic's daemon and the operator's command line. `main` only wires
//! the command line to the subcommands and maps their results to exit codes.

mod cli;
mod rules;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match args.command {
        cli::Command::Rules(rules) => rules::run(&rules, &mut stdin.lock(), &mut out),
    };
    let _ = out.flush();
    match result {
        Ok(outcome) => ExitCode::from(outcome as u8),
        Err(error) => {
            eprintln!("bridge: {error:#}");
            ExitCode::from(cli::Outcome::BadInput as u8)
        }
    }
}
