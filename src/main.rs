//! The `keyflow` command: parses arguments, wires the engine to the blocks, renders, and maps outcomes to
//! exit codes (0 success, 1 run failed, 2 invalid flow or misuse).

mod cli;
mod commands;
mod flowfile;
mod interrupt;
mod progress;
mod sandbox;
mod store;
mod style;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, ColorChoice, Command};

/// Exit code of a failed or cancelled run.
pub const EXIT_FAILED: u8 = 1;
/// Exit code of an invalid flow or a misused command.
pub const EXIT_INVALID: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    init_tracing(cli.verbose, color);
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(&args, color),
        Command::Plan(args) => commands::plan::run(&args, color),
        Command::Run(args) => commands::run::run(&args, color),
        Command::Blocks(command) => commands::blocks::run(&command),
        Command::Schema(args) => commands::schema::run(&args),
        Command::Graph(args) => commands::graph::run(&args, color),
        Command::Runs(command) => commands::runs::run(&command, color),
        Command::Sandbox(command) => commands::sandbox::run(&command, color),
        Command::Completions(args) => commands::completions::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{} {error:#}", style::error_label(color));
            ExitCode::from(EXIT_INVALID)
        }
    }
}

fn init_tracing(verbose: u8, color: bool) {
    let default = match verbose {
        // The run's own events are already the progress lines; `-v` adds them as logs.
        0 => "warn,keyflow::run=off",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .init();
}
