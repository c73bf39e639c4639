//! The command line: every command, flag and argument, with its help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// keyflow: declarative YAML workflows for key management, checked before they run.
///
/// Flows call blocks (AWS KMS, Qlik Cloud, core) and wire one block's output into the next with JSONPath
/// references. Every run is validated first; nothing is called until the whole flow checks out.
#[derive(Debug, Parser)]
#[command(name = "keyflow", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// More log output on stderr (-v: info, -vv: debug, -vvv: trace); `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// When to use colors on stderr.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

/// Printed under `--help`.
pub const EXIT_CODES: &str = "Exit codes:\n  0  success (the flow is valid; the run succeeded)\n  1  the run failed or was cancelled\n  2  the flow is invalid, or the command was misused (unknown flag, missing parameter)";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check flow files without running them; reports every problem with file:line:column.
    Validate(ValidateArgs),
    /// Show what a run would do: the steps in order, their groups, inputs (with example outputs) and effects.
    Plan(PlanArgs),
    /// Validate, then run a flow.
    Run(RunArgs),
    /// List the blocks, or describe one.
    #[command(subcommand)]
    Blocks(BlocksCommand),
    /// Write the JSON Schemas (flow files, blocks, run report) into a folder.
    Schema(SchemaArgs),
    /// Draw a flow's step graph as Mermaid or Graphviz dot.
    Graph(GraphArgs),
    /// The recorded runs: list them, show one, prune old ones.
    #[command(subcommand)]
    Runs(crate::commands::runs::RunsCommand),
    /// Run the local twins of AWS KMS and Qlik Cloud (what `run --sandbox` uses) for other tools.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve both twins on loopback until Ctrl-C, printing their endpoints and the `export` lines that
    /// point the AWS CLI, the SDKs, qlik-cli or another keyflow at them.
    Serve(ServeArgs),
}

/// How the sandbox is seeded and behaves.
#[derive(Debug, Args, Clone)]
pub struct SandboxSettings {
    /// Keep the twins' state (keys, aliases, key providers, migrations) in FILE: read at start when it
    /// exists, written back at the end. Sandbox-only throwaway material; never a real secret.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The AWS region the seeded Qlik tenant's data lives in (its `datacenter`) [default: eu-west-1].
    #[arg(long, value_name = "REGION")]
    pub tenant_region: Option<String>,
    /// How long a key migration takes in the Qlik twin, in seconds [default: 5].
    #[arg(long, value_name = "N")]
    pub migration_seconds: Option<f64>,
    /// Do not enforce AWS KMS's published request quotas in the KMS twin.
    #[arg(long, conflicts_with = "quota")]
    pub no_quotas: bool,
    /// A request quota of the KMS twin other than AWS's published one, `OPERATION=RATE` per second
    /// (`CreateKey=2`; repeatable): rehearse an account whose quota other workloads use up.
    #[arg(long, value_name = "OPERATION=RATE")]
    pub quota: Vec<String>,
}

impl SandboxSettings {
    /// Whether any setting was given (they mean nothing without `--sandbox`).
    pub fn any(&self) -> bool {
        self.state.is_some()
            || self.tenant_region.is_some()
            || self.migration_seconds.is_some()
            || self.no_quotas
            || !self.quota.is_empty()
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub settings: SandboxSettings,
    /// The KMS twin's port (a free one when not given).
    #[arg(long, value_name = "PORT")]
    pub kms_port: Option<u16>,
    /// The Qlik Cloud twin's port (a free one when not given).
    #[arg(long, value_name = "PORT")]
    pub qlik_port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Flow files to check (a folder stands for every `.yaml` / `.yml` file below it).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// `json` prints one object per file with its diagnostics on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// Parameters given to a flow.
#[derive(Debug, Args, Clone)]
pub struct ParamArgs {
    /// A parameter value, `name=value` (repeatable); read according to the parameter's declared type.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// A YAML or JSON file of parameter values (`--param` wins over it).
    #[arg(long, value_name = "FILE")]
    pub params_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The flow file.
    pub file: PathBuf,
    #[command(flatten)]
    pub params: ParamArgs,
    /// `json` prints the plan as JSON on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The flow file.
    pub file: PathBuf,
    #[command(flatten)]
    pub params: ParamArgs,
    /// `json` prints the run report on stdout (progress still goes to stderr).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Let steps whose block is destructive run (they also need `confirm: true` in the flow).
    #[arg(long)]
    pub allow_destructive: bool,
    /// Block calls at the same time across the run.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,
    /// No progress lines on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Run against the built-in twins of AWS KMS and Qlik Cloud instead of the real services: every
    /// connection points at them with throwaway credentials (secret settings are not read), one Qlik
    /// tenant is seeded, and what the run made is listed at the end.
    #[arg(long)]
    pub sandbox: bool,
    #[command(flatten)]
    pub sandbox_settings: SandboxSettings,
    #[command(flatten)]
    pub store: crate::store::StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum BlocksCommand {
    /// List every block with its title and effect.
    List {
        /// `json` prints the list as JSON.
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Show a block's inputs and outputs with their types and descriptions.
    Describe {
        /// The block id, such as `core.log`.
        id: String,
        /// `json` prints the block's descriptor (schemas and example) as JSON.
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The folder to write `flow.schema.json`, `run-report.schema.json` and `blocks/<id>.json` into.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub out: PathBuf,
    /// Write nothing; exit with 1 when the files in the folder differ from what would be written.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The flow file.
    pub file: PathBuf,
    /// The graph language.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Mermaid flowchart (renders in GitHub and GitLab markdown).
    Mermaid,
    /// Graphviz dot.
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colors when stderr is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}
