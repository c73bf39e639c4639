//! `keyflow completions SHELL`: the static completion script (commands, flags, their values).

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::{Exit, Failure};

pub fn run(args: &CompletionsArgs) -> Result<Exit, Failure> {
    let mut command = Cli::command();
    // Into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "keyflow", &mut script);
    crate::out::stdout_bytes(&script)?;
    Ok(Exit::Success)
}
