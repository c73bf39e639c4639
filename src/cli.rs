//! The command line: every command, flag and argument, with its help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use clap_complete::engine::ArgValueCompleter;

use crate::complete;

/// `keyflow --version`: the version and the commit it was built from (`unknown` outside git).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KEYFLOW_COMMIT"),
    ")"
);

/// keyflow: declarative YAML workflows for key management, checked before they run.
///
/// Flows call blocks (AWS KMS, Qlik Cloud, core) and wire one block's output into the next with JSONPath
/// references. Every run is validated first; nothing is called until the whole flow checks out.
#[derive(Debug, Parser)]
#[command(name = "keyflow", version = VERSION, about, long_about = None, after_help = crate::exit::TABLE)]
pub struct Cli {
    /// More log output on stderr (-v: info, -vv: debug, -vvv: trace); `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// When to use colors, on stdout and stderr alike; `auto` decides for each stream on its own (a
    /// terminal, unless `NO_COLOR` is set; `CLICOLOR_FORCE` forces them).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check flow files without running them; reports every problem with file:line:column.
    Validate(ValidateArgs),
    /// Show what a run would do: the steps in order, their groups, inputs (with example outputs) and effects.
    Plan(PlanArgs),
    /// Validate, then run a flow.
    Run(RunArgs),
    /// Continue a recorded run that failed, was cancelled or was interrupted: the same run goes on from
    /// the first step that did not succeed, reusing what the others recorded.
    Resume(ResumeArgs),
    /// List the blocks, or describe one.
    #[command(subcommand)]
    Blocks(BlocksCommand),
    /// Connector plugins: add, list, update, remove (recorded in `.keyflow/plugins/`).
    #[command(subcommand)]
    Plugin(crate::commands::plugin::PluginCommand),
    /// Write the JSON Schemas (flow files, blocks, run report) into a folder.
    Schema(SchemaArgs),
    /// Draw a flow's step graph as Mermaid or Graphviz dot.
    Graph(GraphArgs),
    /// The recorded runs: list them, show one, prune old ones.
    #[command(subcommand)]
    Runs(crate::commands::runs::RunsCommand),
    /// Flows' triggers: when each fires next.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// The daemon: fire the triggers of the flows below DIR…, run what the HTTP API asks for, and
    /// serve runs and metrics; several daemons share a PostgreSQL store.
    Serve(crate::serve::DaemonArgs),
    /// Run the local twins of AWS KMS and Qlik Cloud (what `run --sandbox` uses) for other tools.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Resolve every library `uses:` of the project's flows and write keyflow.lock (keeps what it pins).
    Lock(crate::project::args::LockArgs),
    /// Resolve library `uses:` again to the newest versions their ranges allow, print what changed.
    Update(crate::project::args::UpdateArgs),
    /// The templates of the project's libraries: list them, show one, check a library's changes.
    #[command(subcommand)]
    Template(crate::project::args::TemplateCommand),
    /// Print a shell completion script (static: commands and flags; for block ids, parameter names and
    /// flow files, use `source <(COMPLETE=bash keyflow)` instead).
    Completions(CompletionsArgs),
    /// Print the man page (or write one per command into a folder).
    Man(ManArgs),
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Each flow's triggers with their next fire times (in the trigger's time zone and in UTC), whether
    /// each is enabled, its overlap and catch-up; invalid flows are reported and skipped (exit 2).
    List(ScheduleListArgs),
}

#[derive(Debug, Args)]
pub struct ScheduleListArgs {
    /// Flow files, or folders (every `.yaml` / `.yml` below them).
    #[arg(required = true, value_name = "DIR|FILE", value_hint = ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,
    /// How many fire times to show per trigger.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub count: u32,
    /// Compute from this instant (RFC 3339, `2026-12-01T00:00:00Z`) instead of now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_at)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// `json` prints one document on stdout (schema: `schemas/schedule-list.schema.json`).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

fn parse_at(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{e}; write an RFC 3339 time such as `2026-12-01T00:00:00Z`"))
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
    /// The ids of the settings given on the command line (not defaulted), filled after parsing: they mean
    /// nothing without `--sandbox`.
    #[arg(skip)]
    pub given: Vec<&'static str>,
    /// Keep the twins' state (keys, aliases, key providers, migrations) in FILE: read at start when it
    /// exists, recorded as the run goes; another keyflow given the same FILE waits until this one ends.
    /// Sandbox-only throwaway material; never a real secret.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The AWS region the seeded Qlik tenant's data lives in (its `datacenter`).
    #[arg(long, value_name = "REGION", default_value = "eu-west-1")]
    pub tenant_region: Option<String>,
    /// How long a key migration takes in the Qlik twin, in seconds.
    #[arg(long, value_name = "N", default_value = "5")]
    pub migration_seconds: Option<f64>,
    /// Do not enforce any request quota of the twins: AWS KMS's published quotas and Qlik's rate tiers.
    #[arg(long, conflicts_with = "quota")]
    pub no_quotas: bool,
    /// A request quota of the KMS twin other than AWS's published one, `OPERATION=RATE` per second
    /// (`CreateKey=2`; repeatable): rehearse an account whose quota other workloads use up.
    #[arg(long, value_name = "OPERATION=RATE")]
    pub quota: Vec<String>,
    /// Inject faults into the requests to both twins, each with its probability per request:
    /// `throttle=P` (AWS ThrottlingException, Qlik 429), `error5xx=P` (a 5xx; not applied), `drop=P`
    /// (applied, then the connection dropped before the answer). Rehearses `retry:` and recovery.
    #[arg(long, value_name = "throttle=P,error5xx=P,drop=P")]
    pub faults: Option<String>,
    /// The seed of the faults' draws (without it a new one, shown at the end): the same seed gives the
    /// same faults to the same requests in the same order.
    #[arg(long, value_name = "N", requires = "faults")]
    pub faults_seed: Option<u64>,
}

impl SandboxSettings {
    /// The argument ids of the settings.
    pub const IDS: [&'static str; 7] = [
        "state",
        "tenant_region",
        "migration_seconds",
        "no_quotas",
        "quota",
        "faults",
        "faults_seed",
    ];

    /// Whether any setting was given on the command line (they mean nothing without `--sandbox`).
    pub fn any(&self) -> bool {
        !self.given.is_empty()
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
    /// Flow files to check (a folder stands for every `.yaml` / `.yml` file below it; `-` reads one flow
    /// from standard input).
    #[arg(required = true, value_name = "FILE", value_hint = ValueHint::FilePath,
          add = ArgValueCompleter::new(complete::flow_files))]
    pub files: Vec<PathBuf>,
    /// What to print on stdout: `json` (every file with its diagnostics), `github` (GitHub Actions
    /// annotations), `sarif` (SARIF 2.1.0, for code scanning); `text` prints the diagnostics on stderr.
    #[arg(long, visible_alias = "format", value_enum, default_value_t = ValidateOutput::Text)]
    pub output: ValidateOutput,
}

/// Parameters given to a flow: `--param` wins over `--params-file`, which wins over `KEYFLOW_PARAM_<name>`
/// variables, which win over the flow's defaults.
#[derive(Debug, Args, Clone)]
pub struct ParamArgs {
    /// A parameter value, `name=value`, or `name=@FILE` for the text of a file (repeatable); read
    /// according to the parameter's declared type.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE",
          add = ArgValueCompleter::new(complete::param_names))]
    pub params: Vec<String>,
    /// A YAML or JSON file of parameter values (`--param` wins over it; it wins over
    /// `KEYFLOW_PARAM_<name>` variables).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub params_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The flow file (`-`: standard input).
    #[arg(value_hint = ValueHint::FilePath, add = ArgValueCompleter::new(complete::flow_files))]
    pub file: PathBuf,
    #[command(flatten)]
    pub params: ParamArgs,
    /// `json` prints the plan as JSON on stdout (or, for an invalid flow, its diagnostics).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The flow file (`-`: standard input).
    #[arg(value_hint = ValueHint::FilePath, add = ArgValueCompleter::new(complete::flow_files))]
    pub file: PathBuf,
    #[command(flatten)]
    pub params: ParamArgs,
    /// Reuse what another recorded run of this flow did: the results of its steps that succeeded stand,
    /// but for the `--rerun` steps and what depends on them (a new run, with a new id).
    #[arg(long, value_name = "RUN", help_heading = RESUME_HEADING)]
    pub from: Option<String>,
    /// With `--from`: run this step again, and every step that depends on it (repeatable).
    #[arg(long, value_name = "STEP", requires = "from", help_heading = RESUME_HEADING)]
    pub rerun: Vec<String>,
    #[command(flatten)]
    pub options: RunOptions,
}

/// `keyflow resume RUN`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run to continue (an id prefix is enough): the same run goes on, with its flow file and its
    /// parameters, from the first step that did not succeed.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// Run this step again although it succeeded (the flow changed, say), and every step that depends on
    /// it (repeatable).
    #[arg(long, value_name = "STEP")]
    pub rerun: Vec<String>,
    #[command(flatten)]
    pub options: RunOptions,
}

/// How a run goes, for `run` and `resume`.
#[derive(Debug, Args)]
pub struct RunOptions {
    /// `json` prints the run report on stdout; `jsonl` one event per line as the run goes, ending with
    /// the report (progress still goes to stderr).
    #[arg(long, value_enum, default_value_t = RunOutput::Text)]
    pub output: RunOutput,
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
    #[arg(long, help_heading = SANDBOX_HEADING)]
    pub sandbox: bool,
    /// Under `--sandbox`, let the blocks of plugins that ship no twin call their real service (with the
    /// connection's real settings and secrets); without it such a step fails, so a rehearsal never
    /// reaches a real system by surprise.
    #[arg(long, requires = "sandbox", help_heading = SANDBOX_HEADING)]
    pub allow_plugins_outside_sandbox: bool,
    #[command(flatten, next_help_heading = SANDBOX_HEADING)]
    pub sandbox_settings: SandboxSettings,
    #[command(flatten)]
    pub store: crate::store::StoreArgs,
}

/// The help heading of the flags that continue a recorded run.
pub const RESUME_HEADING: &str = "Reusing a recorded run";

/// The help heading of the flags that only mean something with `--sandbox`.
pub const SANDBOX_HEADING: &str = "Sandbox (with --sandbox)";

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
        #[arg(add = ArgValueCompleter::new(complete::block_ids))]
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
    /// The flow file (`-`: standard input).
    #[arg(value_hint = ValueHint::FilePath, add = ArgValueCompleter::new(complete::flow_files))]
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

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `keyflow.1` and one page per command (`keyflow-run.1`…) into this folder instead of printing
    /// the main page.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: Option<PathBuf>,
    /// Write nothing; exit with 1 when the pages in `--out` differ from what would be written.
    #[arg(long, requires = "out")]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateOutput {
    /// For people: diagnostics on stderr, a line per valid file on stdout.
    Text,
    /// A JSON document (`schemas/validate.schema.json`).
    Json,
    /// GitHub Actions workflow commands: annotations on the lines of a pull request.
    Github,
    /// A SARIF 2.1.0 log, for code scanning.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunOutput {
    /// For people.
    Text,
    /// The run report (`schemas/run-report.schema.json`).
    Json,
    /// One JSON event per line, ending with the report (`schemas/run-events.schema.json`).
    Jsonl,
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
    /// On each stream that is a terminal, unless `NO_COLOR` is set (`CLICOLOR_FORCE` forces them).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}
