//! `keyflow runs list|show|prune`: the recorded runs, read from the run store.

use std::collections::HashMap;

use clap::{Args, Subcommand, ValueEnum};
use keyflow_engine::exec::report::{RunReport, Status, StepReport};
use keyflow_engine::exec::store::{AttemptRecord, Intent};
use keyflow_store::{ListFilter, RunState, RunSummary, StoredRun};

use crate::commands::resume::stored;
use crate::exit::{Exit, Failure, ResultExt};
use crate::machine::documents::{RunDocument, RunOutput, RunsDocument};
use crate::machine::print_json;
use crate::out::Colors;
use crate::progress::format_ms;
use crate::store::{StoreArgs, parse_age, parse_since};
use crate::style;

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List recorded runs, newest first (top-level runs; a template's runs show under their run).
    List(ListArgs),
    /// Show one run: its steps, attempts, intents, timings, errors and outputs (secrets masked).
    Show(ShowArgs),
    /// Delete the runs that started before an age, with everything recorded of them.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only runs of this flow (its `name:`).
    #[arg(long, value_name = "FLOW")]
    pub flow: Option<String>,
    /// Only runs in this state (`interrupted`: its process died before it ended).
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Option<StateArg>,
    /// Only runs started since an age (`7d`, `12h`) or an RFC 3339 time.
    #[arg(long, value_name = "AGE|TIME", value_parser = parse_since)]
    pub since: Option<i64>,
    /// At most this many runs.
    #[arg(long, default_value_t = DEFAULT_LIMIT, value_name = "N")]
    pub limit: usize,
    /// `json` prints the runs as a JSON array on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run's id, or the start of it when that names one run.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// `json` prints the run report on stdout, as `keyflow run --output json` does.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete the runs that started longer ago than this (`90d`, `12h`, `2w`); a run still running stays.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub older_than: std::time::Duration,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// How a `runs` command prints (as `--output` of the other commands; its own type, because `cli` names
/// these commands and a module `cli` depends on does not depend on `cli` in turn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

/// A run state as `--status` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

impl From<StateArg> for RunState {
    fn from(state: StateArg) -> RunState {
        match state {
            StateArg::Running => RunState::Running,
            StateArg::Succeeded => RunState::Succeeded,
            StateArg::Failed => RunState::Failed,
            StateArg::Cancelled => RunState::Cancelled,
            StateArg::Interrupted => RunState::Interrupted,
        }
    }
}

/// How many runs `runs list` (and the API's `GET /api/v1/runs`) gives unless told.
pub const DEFAULT_LIMIT: usize = 20;

/// Which runs `runs list` lists for its filters: top-level runs (a template's runs show under their run),
/// newest first. The API's `GET /api/v1/runs` lists the same.
pub fn list_filter(
    flow: Option<String>,
    state: Option<RunState>,
    since_ms: Option<i64>,
    limit: usize,
) -> ListFilter {
    ListFilter {
        flow,
        state,
        since_ms,
        limit: Some(limit),
        children: false,
    }
}

pub fn run(command: &RunsCommand, colors: Colors) -> Result<Exit, Failure> {
    let color = colors.out;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .environment()?;
    match command {
        RunsCommand::List(args) => {
            let store = args.store.open(&runtime).map_err(Failure::classify)?;
            let filter = list_filter(
                args.flow.clone(),
                args.status.map(RunState::from),
                args.since,
                args.limit,
            );
            let runs = runtime.block_on(store.list(&filter)).map_err(stored)?;
            let written = match args.output {
                Output::Json => print_json(&RunsDocument::new(runs)),
                Output::Text => print_list(&runs, color).map_err(Failure::from),
            };
            runtime.block_on(store.close());
            written?;
        }
        RunsCommand::Show(args) => {
            let store = args.store.open(&runtime).map_err(Failure::classify)?;
            let run = runtime.block_on(store.show(&args.run)).map_err(stored)?;
            let written = match args.output {
                Output::Json => print_json(&RunOutput::Report(RunDocument::new(&run.report))),
                Output::Text => print_run(&run, color).map_err(Failure::from),
            };
            runtime.block_on(store.close());
            written?;
        }
        RunsCommand::Prune(args) => {
            let store = args.store.open(&runtime).map_err(Failure::classify)?;
            let pruned = runtime
                .block_on(store.prune(args.older_than))
                .map_err(stored)?;
            outln!(
                "pruned {pruned} run{} that started more than {} ago from {}",
                if pruned == 1 { "" } else { "s" },
                humanize(args.older_than),
                store.shown()
            )?;
            runtime.block_on(store.close());
        }
    }
    Ok(Exit::Success)
}

fn humanize(age: std::time::Duration) -> String {
    let s = age.as_secs();
    let (n, unit) = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
        .into_iter()
        .find(|(unit, _)| s > 0 && s.is_multiple_of(*unit))
        .map_or((s, "second"), |(size, unit)| (s / size, unit));
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn state_label(color: bool, state: RunState) -> String {
    let name = format!("{:<11}", state.name());
    match state {
        RunState::Succeeded => style::green(color, &name),
        RunState::Failed | RunState::Interrupted => style::red(color, &name),
        RunState::Running | RunState::Cancelled => style::yellow(color, &name),
    }
}

fn print_list(runs: &[RunSummary], color: bool) -> std::io::Result<()> {
    if runs.is_empty() {
        errln!("no runs recorded match");
        return Ok(());
    }
    let flow_width = runs
        .iter()
        .map(|r| r.flow.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 32);
    outln!(
        "{}",
        style::bold(
            color,
            &format!(
                "{:<36}  {:<flow_width$}  {:<11}  {:<24}  DURATION",
                "RUN", "FLOW", "STATUS", "STARTED"
            )
        )
    )?;
    for run in runs {
        outln!(
            "{:<36}  {:<flow_width$}  {}  {:<24}  {}",
            run.run_id,
            run.flow,
            state_label(color, run.status),
            run.started_at,
            run.duration_ms.map(format_ms).unwrap_or_else(|| "-".into())
        )?;
    }
    Ok(())
}

fn print_run(run: &StoredRun, color: bool) -> std::io::Result<()> {
    let summary = &run.summary;
    outln!(
        "{} {} of `{}` ({})",
        style::bold(color, "run"),
        summary.run_id,
        summary.flow,
        summary.source
    )?;
    outln!(
        "  {}  started {}, {}",
        state_label(color, summary.status).trim_end(),
        summary.started_at,
        format_ms(run.report.duration_ms)
    )?;
    if let Some(reason) = &summary.reason {
        outln!("  {}", style::dim(color, reason))?;
    }
    if let Some(parent) = &summary.parent {
        outln!(
            "  template run of step `{}` of run {}",
            parent.step,
            parent.run_id
        )?;
    }
    if run.params.as_object().is_some_and(|p| !p.is_empty()) {
        outln!("  params: {}", run.params)?;
    }
    let mut attempts: HashMap<(&str, &str), Vec<&AttemptRecord>> = HashMap::new();
    for attempt in &run.attempts {
        attempts
            .entry((attempt.run_id.as_str(), attempt.step.as_str()))
            .or_default()
            .push(attempt);
    }
    let mut intents: HashMap<(&str, &str), Vec<&Intent>> = HashMap::new();
    for intent in &run.intents {
        intents
            .entry((intent.run_id.as_str(), intent.step.as_str()))
            .or_default()
            .push(intent);
    }
    let records = Records { attempts, intents };
    print_steps(&run.report, &records, 1, color)?;
    if !run.report.outputs.is_empty() {
        outln!("{}", style::bold(color, "outputs:"))?;
        for (name, value) in &run.report.outputs {
            outln!("  {name}: {value}")?;
        }
    }
    Ok(())
}

/// A run's attempts and intents by (run, step).
struct Records<'a> {
    attempts: HashMap<(&'a str, &'a str), Vec<&'a AttemptRecord>>,
    intents: HashMap<(&'a str, &'a str), Vec<&'a Intent>>,
}

fn print_steps(
    report: &RunReport,
    records: &Records<'_>,
    depth: usize,
    color: bool,
) -> std::io::Result<()> {
    let pad = "  ".repeat(depth);
    for step in &report.steps {
        print_step(report, step, records, &pad, color)?;
        for child in step.runs.iter().flatten() {
            outln!(
                "{pad}  {} {} {}",
                style::dim(color, "template run"),
                child.run_id,
                child.status.name()
            )?;
            print_steps(child, records, depth + 2, color)?;
        }
    }
    Ok(())
}

fn print_step(
    report: &RunReport,
    step: &StepReport,
    records: &Records<'_>,
    pad: &str,
    color: bool,
) -> std::io::Result<()> {
    let mark = match step.status {
        Status::Succeeded => style::green(color, "✓"),
        Status::Failed => style::red(color, "✗"),
        Status::Running | Status::Pending => style::yellow(color, "…"),
        Status::Skipped | Status::Cancelled => style::dim(color, "-"),
    };
    let items = step
        .items
        .map(|n| format!(", {n} items"))
        .unwrap_or_default();
    outln!(
        "{pad}{mark} {} {} {} ({} attempt{}, {}{items})",
        step.id,
        style::dim(color, &step.block),
        step.status.name(),
        step.attempts,
        if step.attempts == 1 { "" } else { "s" },
        format_ms(step.duration_ms)
    )?;
    if step.reused {
        outln!(
            "{pad}    {}",
            style::dim(color, "reused: recorded before the run was resumed")
        )?;
    }
    if let Some(reason) = &step.reason {
        outln!("{pad}    {}", style::dim(color, reason))?;
    }
    if let Some(error) = &step.error {
        outln!("{pad}    {}: {}", error.code, error.message)?;
    }
    if let Some(output) = &step.output {
        outln!("{pad}    output: {}", clip(&output.to_string(), 200))?;
    }
    let key = (report.run_id.as_str(), step.id.as_str());
    for intent in records.intents.get(&key).into_iter().flatten() {
        let settled = records.attempts.get(&key).is_some_and(|attempts| {
            attempts
                .iter()
                .any(|a| a.item == intent.item && a.attempt == intent.attempt)
        });
        outln!(
            "{pad}    intent {}{} #{} at {}{}",
            intent.effect.name(),
            intent
                .item
                .map(|i| format!(" item {i}"))
                .unwrap_or_default(),
            intent.attempt,
            intent.started_at,
            if settled {
                String::new()
            } else {
                style::red(color, ": no result recorded (the call may have been made)")
            }
        )?;
    }
    for attempt in records.attempts.get(&key).into_iter().flatten() {
        let how = match &attempt.error {
            Some(error) => format!("{}: {}", error.code, clip(&error.message, 120)),
            None => "ok".into(),
        };
        outln!(
            "{pad}    attempt{} #{} at {}, {}: {how}",
            attempt
                .item
                .map(|i| format!(" item {i}"))
                .unwrap_or_default(),
            attempt.attempt,
            attempt.started_at,
            format_ms(attempt.duration_ms)
        )?;
    }
    Ok(())
}

/// At most `max` characters of `text`.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
