//! The `veille` binary: parse the command line, set up logs, run.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = veille::cli::Cli::parse();
    veille::logs::init(cli.verbose, cli.quiet);
    veille::cli::run(cli).into()
}
