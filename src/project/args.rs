//! The arguments of `keyflow lock`, `keyflow update` and `keyflow template`. A module of their own that
//! imports nothing of the crate, so that `cli` can name them without an import cycle.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Args)]
pub struct LockArgs {
    /// A folder of the project: its `keyflow.yaml` is there or above.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Only this library's templates (default: every library's).
    #[arg(value_name = "NAME")]
    pub library: Option<String>,
    /// A folder of the project: its `keyflow.yaml` is there or above.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Every template the project's libraries hold, with its versions and those keyflow.lock pins
    /// (from what `keyflow lock` fetched: no network).
    List(ListArgs),
    /// A template's interface (params, outputs), effect and description: `NAME:PATH[@VERSION]`.
    Show(ShowArgs),
    /// For a library's CI: fail when a template changed its interface incompatibly since REF without a
    /// new major version (a param or output removed or retyped, a new required param, a raised effect).
    Check(CheckArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// `json` prints the templates as a JSON document on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// A folder of the project: its `keyflow.yaml` is there or above.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The template, `LIBRARY:PATH`, and a version (`@1.2.0`; default: the one keyflow.lock pins, else
    /// the highest there is).
    #[arg(value_name = "NAME[@VERSION]")]
    pub name: String,
    /// `json` prints the interface as a JSON document on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// A folder of the project: its `keyflow.yaml` is there or above.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The git commit, tag or branch to compare with (`main`, `origin/main`, the last release's tag).
    #[arg(long, value_name = "REF")]
    pub against: String,
    /// The library's root folder, inside a git work tree.
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}
