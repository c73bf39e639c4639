//! The JSON documents of `validate`, `plan`, `run` and `blocks`, and what `run` and `plan` print instead
//! when the flow is invalid or a parameter is wrong.

use keyflow_engine::block::{Effect, Recovery};
use keyflow_engine::exec::report::RunReport;
use keyflow_engine::plan::preview::StepPreview;
use keyflow_engine::schema::flow::BlockDescriptor;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::FormatVersion;
use super::diagnostic::DiagnosticJson;

/// Whether every flow checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every flow is valid.
    Valid,
    /// Some flow is invalid or could not be read.
    Invalid,
}

/// `keyflow validate --output json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ValidateDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// `valid` when every flow is.
    pub status: Verdict,
    /// One entry per flow file, in the order they were checked.
    pub files: Vec<FileResult>,
}

/// One flow file checked by `validate`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileResult {
    /// The file as named (`<stdin>` for standard input).
    pub file: String,
    /// Whether it is a valid flow.
    pub valid: bool,
    /// Why it could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its diagnostics, in source order: errors when it is invalid, and warnings, which a valid flow
    /// may have too.
    pub diagnostics: Vec<DiagnosticJson>,
}

/// Only ever `invalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvalidStatus {
    /// The flow is invalid or a parameter is wrong: nothing ran.
    Invalid,
}

/// What `run --output json` and `plan --output json` print when the flow is invalid or a parameter is
/// wrong: the same diagnostics as `validate --output json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InvalidDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// `invalid`.
    pub status: InvalidStatus,
    /// The flow file as named.
    pub file: String,
    /// Every problem found (and the flow's warnings), in source order; parameters' problems have line 0.
    pub diagnostics: Vec<DiagnosticJson>,
}

impl InvalidDocument {
    /// The document for these diagnostics.
    pub fn new(file: &str, diagnostics: Vec<DiagnosticJson>) -> InvalidDocument {
        InvalidDocument {
            format_version: FormatVersion,
            status: InvalidStatus::Invalid,
            file: file.to_string(),
            diagnostics,
        }
    }
}

/// Only ever `valid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ValidStatus {
    /// The flow is valid: this is what it would do.
    Valid,
}

/// `keyflow plan --output json` of a valid flow.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// `valid`.
    pub status: ValidStatus,
    /// The flow's name.
    pub flow: String,
    /// The parameters the preview used (given, or defaults, or placeholders).
    pub params: Value,
    /// Every step, in execution order.
    pub steps: Vec<PlanStep>,
    /// The flow's triggers (left out when it has none), with whether their runs may run its destructive
    /// steps.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<PlanTrigger>,
    /// The flow's warnings (left out when it has none): references the checker could not check, as
    /// `validate --output json` gives them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<DiagnosticJson>,
}

/// A trigger as `keyflow plan` shows it (`keyflow schedule list` shows its fire times).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanTrigger {
    /// Its id.
    pub id: String,
    /// Its cron expression.
    pub cron: String,
    /// Its IANA time zone.
    pub timezone: String,
    /// Whether its runs may run the destructive steps (`allow_destructive: true`): without it, a scheduled
    /// run stops before them.
    pub allow_destructive: bool,
}

impl From<&keyflow_engine::schedule::Trigger> for PlanTrigger {
    fn from(trigger: &keyflow_engine::schedule::Trigger) -> PlanTrigger {
        PlanTrigger {
            id: trigger.id.clone(),
            cron: trigger.cron.to_string(),
            timezone: trigger.zone.name().to_string(),
            allow_destructive: trigger.allow_destructive,
        }
    }
}

/// One step as `keyflow plan` shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanStep {
    /// The step's id.
    pub id: String,
    /// The block (or, for a `uses:` step, the template).
    pub block: String,
    /// The block's title.
    pub title: String,
    /// What a call does.
    pub effect: Effect,
    /// How a call whose answer was lost (a timeout, a crash) is settled when it is made again:
    /// `at_least_once` when nothing makes a repeat safe.
    pub recovery: Recovery,
    /// The concurrency group, from 0 (steps of one group can run at the same time).
    pub group: usize,
    /// Steps it waits for.
    pub after: Vec<String>,
    /// Its input, resolved with the upstream blocks' example outputs (unresolvable values shown as
    /// `<why>`).
    pub input: Value,
    /// Items of its `for_each` (the input shown is the first item's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<usize>,
    /// Whether it has an `if:` condition.
    pub conditional: bool,
    /// Whether it polls with `until:`.
    pub polls: bool,
    /// A `uses:` step's template steps, previewed with this step's input as their params.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<PlanStep>>,
}

impl From<&StepPreview> for PlanStep {
    fn from(step: &StepPreview) -> PlanStep {
        PlanStep {
            id: step.id.clone(),
            block: step.block.clone(),
            title: step.title.clone(),
            effect: step.effect,
            recovery: step.recovery,
            group: step.group,
            after: step.after.clone(),
            input: step.input.clone(),
            items: step.items,
            conditional: step.conditional,
            polls: step.polls,
            steps: step
                .steps
                .as_ref()
                .map(|steps| steps.iter().map(PlanStep::from).collect()),
        }
    }
}

/// What `plan --output json` prints: a plan, or why there is none.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PlanOutput {
    /// The flow is valid.
    Plan(PlanDocument),
    /// The flow is invalid or a parameter is wrong.
    Invalid(InvalidDocument),
}

/// The run report with its format's version: what `run --output json` prints after a run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunDocument<'a> {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The report.
    #[serde(flatten)]
    pub report: &'a RunReport,
}

impl RunDocument<'_> {
    /// The document of a report: what `run --output json` and `runs show --output json` print, and the
    /// daemon's `GET /api/v1/runs/{id}` answers.
    pub fn new(report: &RunReport) -> RunDocument<'_> {
        RunDocument {
            format_version: FormatVersion,
            report,
        }
    }
}

/// What `run --output json` prints: the run report, or why nothing ran.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RunOutput<'a> {
    /// The run happened (succeeded, failed or was cancelled).
    Report(RunDocument<'a>),
    /// The flow is invalid or a parameter is wrong: nothing ran.
    Invalid(InvalidDocument),
}

/// `keyflow runs list --output json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunsDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The runs that match, newest first.
    pub runs: Vec<keyflow_store::RunSummary>,
}

impl RunsDocument {
    /// The document of these runs: what `runs list --output json` prints and the daemon's
    /// `GET /api/v1/runs` answers.
    pub fn new(runs: Vec<keyflow_store::RunSummary>) -> RunsDocument {
        RunsDocument {
            format_version: FormatVersion,
            runs,
        }
    }
}

/// `keyflow blocks list --output json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlocksDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// Every block, in the registry's order.
    pub blocks: Vec<BlockSummary>,
}

/// One block of the list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlockSummary {
    /// The block id.
    pub id: String,
    /// Its title as the service's documentation gives it.
    pub title: String,
    /// The connector it calls; `null` for core blocks.
    pub connector: Option<String>,
    /// What a call does.
    pub effect: Effect,
    /// What the block does.
    pub description: String,
    /// The plugin it comes from (`keyflow plugin list`); `null` for keyflow's own blocks.
    pub plugin: Option<String>,
}

/// `keyflow blocks describe ID --output json`, and each `schemas/blocks/<id>.json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlockDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The block.
    #[serde(flatten)]
    pub descriptor: BlockDescriptor,
}
