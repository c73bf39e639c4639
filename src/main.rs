//! The `keyflow` command: parses arguments, wires the engine to the blocks, renders, and maps outcomes to
//! exit codes ([`exit::TABLE`]: 0 success, 1 run failed, 2 invalid flow or misuse, 74 environment, 130
//! cancelled).

#[macro_use]
mod out;

mod cli;
mod commands;
mod complete;
mod exit;
mod files;
mod flowfile;
mod interrupt;
mod machine;
mod progress;
mod project;
mod sandbox;
mod serve;
mod store;
mod style;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use cli::{Cli, Command, SandboxSettings};
use exit::Exit;
use out::Colors;

fn main() -> ExitCode {
    // Answers the shell's completion requests (`COMPLETE=bash keyflow …`) and exits; otherwise nothing.
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    match (&mut cli.command, matches.subcommand()) {
        (Command::Run(args), Some(("run", run))) => {
            args.options.sandbox_settings.given = given(run);
        }
        (Command::Resume(args), Some(("resume", resume))) => {
            args.options.sandbox_settings.given = given(resume);
        }
        (Command::Serve(args), Some(("serve", serve))) => {
            args.options.sandbox_settings.given = given(serve);
        }
        _ => {}
    }
    let colors = Colors::decide(cli.color);
    init_tracing(cli.verbose, colors.err);
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(&args, colors),
        Command::Plan(args) => commands::plan::run(&args, colors),
        Command::Run(args) => commands::run::run(&args, colors),
        Command::Resume(args) => commands::resume::run(&args, colors),
        Command::Blocks(command) => commands::blocks::run(&command, colors),
        Command::Plugin(command) => commands::plugin::run(&command, colors),
        Command::Schema(args) => commands::schema::run(&args),
        Command::Graph(args) => commands::graph::run(&args, colors),
        Command::Runs(command) => commands::runs::run(&command, colors),
        Command::Schedule(command) => commands::schedule::run(&command, colors),
        Command::Serve(args) => serve::run(&args, colors),
        Command::Sandbox(command) => commands::sandbox::run(&command, colors.err)
            .map(|code| {
                if code == 0 {
                    Exit::Success
                } else {
                    Exit::Invalid
                }
            })
            .map_err(exit::Failure::classify),
        Command::Lock(args) => commands::lock::lock(&args, colors),
        Command::Update(args) => commands::lock::update(&args, colors),
        Command::Template(command) => commands::template::run(&command, colors),
        Command::Completions(args) => commands::completions::run(&args),
        Command::Man(args) => commands::man::run(&args),
    };
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(failure) => {
            errln!("{} {failure}", style::error_label(colors.err));
            ExitCode::from(failure.exit().code())
        }
    }
}

/// The sandbox settings given on the command line rather than defaulted.
fn given(run: &ArgMatches) -> Vec<&'static str> {
    SandboxSettings::IDS
        .into_iter()
        .filter(|id| run.value_source(id) == Some(ValueSource::CommandLine))
        .collect()
}

fn init_tracing(verbose: u8, color: bool) {
    use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let default = match verbose {
        // The run's own events are already the progress lines; `-v` adds them as logs.
        0 => "warn,keyflow::run=off",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Whatever `-v` or `RUST_LOG` ask for, libraries that log the values they handle stay below the level
    // where they do: handlebars prints template values at debug, the HTTP stacks print bodies and frames at
    // trace. Those values are what keyflow masks everywhere else (a secret a service echoed, a data key).
    let leaky = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("handlebars", LevelFilter::WARN)
        .with_target("aws_smithy_runtime", LevelFilter::DEBUG)
        .with_target("aws_smithy_http", LevelFilter::DEBUG)
        .with_target("aws_smithy_http_client", LevelFilter::DEBUG)
        .with_target("aws_sdk_kms", LevelFilter::DEBUG)
        .with_target("aws_config", LevelFilter::DEBUG)
        .with_target("hyper", LevelFilter::DEBUG)
        .with_target("hyper_util", LevelFilter::DEBUG)
        .with_target("h2", LevelFilter::DEBUG)
        .with_target("reqwest", LevelFilter::DEBUG)
        .with_target("rustls", LevelFilter::DEBUG);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(color)
                .with_target(false)
                .with_filter(filter.and(leaky)),
        )
        .init();
}
