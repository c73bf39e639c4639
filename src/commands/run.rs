//! `keyflow run FILE`: validate, bind parameters, run, report.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::anyhow;
use keyflow_engine::exec::events::RunObserver;
use keyflow_engine::exec::report::{RunReport, Status};
use keyflow_engine::exec::resume::{Continuation, Resume};
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_twins::sandbox::Twins;
use tokio_util::sync::CancellationToken;

use crate::cli::{RunArgs, RunOptions, RunOutput};
use crate::exit::{Exit, Failure, ResultExt};
use crate::interrupt::Interrupts;
use crate::machine::documents::{self, InvalidDocument, RunDocument};
use crate::machine::events::{self, Event, Fanout, JsonLines};
use crate::machine::{FormatVersion, diagnostic, print_json};
use crate::out::Colors;
use crate::progress::{Progress, format_ms};
use crate::{flowfile, sandbox, style};

/// Error codes of a step that failed because the environment lacks credentials (no step of the flow is
/// at fault): a run that failed only of these exits 74, not 1.
const CREDENTIAL_CODES: [&str; 2] = ["NoCredentials", "SecretUnavailable"];

pub fn run(args: &RunArgs, colors: Colors) -> Result<Exit, Failure> {
    let options = &args.options;
    options.check()?;
    let color = colors.err;
    let given = flowfile::params(&args.params)?;
    let blocks = super::plugin::blocks_for(&args.file)?;
    let plan = match flowfile::checked_with(&args.file, color, &blocks.registry)? {
        Ok(plan) => plan,
        Err((source, diagnostics)) => {
            let diagnostics = diagnostic::of_flow(&source, &diagnostics);
            print_invalid(
                options.output,
                InvalidDocument::new(&source.name, diagnostics),
            )?;
            return Ok(Exit::Invalid);
        }
    };
    let given = flowfile::with_environment(given, &plan)?;
    let params = match plan.bind_params(&given) {
        Ok(params) => params,
        Err(errors) => {
            flowfile::print_param_errors(&errors, color);
            print_invalid(
                options.output,
                flowfile::invalid_params(&plan.source.name, &errors),
            )?;
            return Ok(Exit::Invalid);
        }
    };
    let from = args.from.as_ref().map(|run| From {
        run: run.clone(),
        rerun: args.rerun.clone(),
    });
    execute(options, plan, params, blocks, Continue::Fresh(from), colors)
}

/// Where a run's steps come from besides the flow.
pub enum Continue {
    /// A new run; with `--from`, reusing another recorded run's results.
    Fresh(Option<From>),
    /// The recorded run with this id goes on (`keyflow resume`), reusing these results.
    Resumed {
        /// Its id.
        run_id: String,
        /// What it reuses.
        resume: Resume,
    },
}

/// `--from RUN --rerun STEP…`.
pub struct From {
    run: String,
    rerun: Vec<String>,
}

impl RunOptions {
    /// The sandbox settings mean nothing without `--sandbox`.
    pub fn check(&self) -> Result<(), Failure> {
        if !self.sandbox && self.sandbox_settings.any() {
            return Err(Failure::invalid(anyhow!(
                "`--state`, `--tenant-region`, `--migration-seconds`, `--no-quotas` and `--quota` set up the sandbox: add `--sandbox`"
            )));
        }
        Ok(())
    }
}

/// Runs `plan` (checked with `blocks`) with `params` as `args` say, and reports.
pub fn execute(
    args: &RunOptions,
    plan: keyflow_engine::plan::Plan,
    params: serde_json::Value,
    blocks: super::plugin::Blocks,
    from: Continue,
    colors: Colors,
) -> Result<Exit, Failure> {
    let color = colors.err;
    let destructive: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.effect() == keyflow_engine::block::Effect::Destructive)
        .map(|s| s.id.as_str())
        .collect();
    if !destructive.is_empty() && !args.allow_destructive && !args.quiet {
        errln!(
            "{} steps {} are destructive; without `--allow-destructive` the run stops before them",
            style::yellow(color, "note:"),
            destructive
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let width = plan
        .steps
        .iter()
        .map(|s| s.id.len())
        .max()
        .unwrap_or(4)
        .min(32);
    let block_width = plan
        .steps
        .iter()
        .map(|s| s.call.spec().id.len())
        .max()
        .unwrap_or(4)
        .min(40);
    let progress = Arc::new(Progress::new(
        color,
        args.quiet,
        std::io::stderr().is_terminal(),
        width,
        block_width,
    ));
    let lines = Arc::new(JsonLines::default());
    let observer: Arc<dyn RunObserver> = match args.output {
        RunOutput::Jsonl => Arc::new(Fanout(vec![progress.clone(), lines.clone()])),
        _ => progress.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .environment()?;
    // Before anything runs: a run that cannot be recorded does not start.
    let store = args.store.open(&runtime).map_err(Failure::classify)?;
    let (run_id, resume) = match from {
        Continue::Resumed { run_id, resume } => (Some(run_id), Some(Arc::new(resume))),
        Continue::Fresh(None) => (None, None),
        Continue::Fresh(Some(from)) => {
            // A new run, whose id is known now: the other run's results are keyed by it.
            let run_id = uuid::Uuid::now_v7().to_string();
            let stored = runtime
                .block_on(store.show(&from.run))
                .map_err(crate::commands::resume::stored)?;
            let to = Continuation {
                run_id: &run_id,
                recorded_id: &stored.summary.run_id,
                continues: false,
                same_params: stored.params == params,
            };
            let resume = Resume::plan(&plan, to, &stored.recorded(), &from.rerun)
                .map_err(Failure::invalid)?;
            (Some(run_id), Some(Arc::new(resume)))
        }
    };
    let twins = if args.sandbox {
        let options = sandbox::options(&args.sandbox_settings, None, None, color)
            .map_err(Failure::classify)?;
        let twins = runtime
            .block_on(Twins::start(options))
            .map_err(|e| Failure::classify(e.into()))?;
        if !args.quiet {
            errln!(
                "{} AWS KMS twin at {} (account {}), Qlik Cloud twin at {} (tenant {} in {})",
                style::yellow(color, "sandbox:"),
                twins.kms.url,
                keyflow_twins::aws_kms::DEFAULT_ACCOUNT_ID,
                twins.qlik.url,
                twins.tenant.id,
                twins.tenant.datacenter
            );
        }
        Some(twins)
    } else {
        None
    };
    let plugins = super::plugin::used(&blocks, &plan)?;
    let (sandbox, plugin_twins) = match &twins {
        Some(twins) => {
            let (sandbox, started) = runtime
                .block_on(super::plugin::sandbox(
                    &blocks,
                    &plugins,
                    (*twins.sandbox()).clone(),
                    args.allow_plugins_outside_sandbox,
                ))
                .map_err(Failure::environment)?;
            (Some(Arc::new(sandbox)), started)
        }
        None => (None, Vec::new()),
    };
    let options = ExecOptions {
        parallelism: usize::from(args.parallelism),
        allow_destructive: args.allow_destructive,
        sandbox,
        run_id,
        resume,
        ..ExecOptions::default()
    };
    let executor = Executor::new(options)
        .with_observer(observer)
        .with_store(store.clone());
    let plan = Arc::new(plan);
    let report = runtime
        .block_on(async {
            let cancel = CancellationToken::new();
            let on_signal = cancel.clone();
            let mut interrupts = Interrupts::listen()?;
            tokio::spawn(async move {
                if interrupts.next().await {
                    errln!(
                        "\ncancelling: waiting for the steps in flight to stop (Ctrl-C again to quit now)"
                    );
                    on_signal.cancel();
                    if interrupts.next().await {
                        std::process::exit(i32::from(Exit::Cancelled.code()));
                    }
                }
            });
            std::io::Result::Ok(executor.run(plan, params, cancel).await)
        })
        .environment()?;
    runtime.block_on(async {
        blocks.host.shutdown().await;
        for twin in plugin_twins {
            twin.stop().await;
        }
        store.close().await;
    });
    if let Some(twins) = &twins {
        // The state before the report: a reader of stdout that goes away (`| head`) must not cost it.
        // `finish` saves again, and says when saving fails.
        let _ = twins.save();
    }
    let written = match args.output {
        RunOutput::Json => print_json(&documents::RunOutput::Report(RunDocument {
            format_version: FormatVersion,
            report: &report,
        })),
        RunOutput::Jsonl => match lines.take_error() {
            Some(error) => Err(error.into()),
            None => events::write(Event::Report { report: &report }).map_err(Failure::from),
        },
        RunOutput::Text => print_summary(&report, colors.out).map_err(Failure::from),
    };
    if let Some(twins) = twins {
        runtime
            .block_on(sandbox::finish(twins, color, args.quiet))
            .map_err(Failure::environment)?;
    }
    written?;
    Ok(exit(&report))
}

/// The exit of a finished run.
fn exit(report: &RunReport) -> Exit {
    match report.status {
        Status::Succeeded => Exit::Success,
        Status::Cancelled => Exit::Cancelled,
        _ => {
            let mut failed = report
                .steps
                .iter()
                .filter(|s| s.status == Status::Failed)
                .peekable();
            let environment = failed.peek().is_some()
                && failed.all(|s| {
                    s.error
                        .as_ref()
                        .is_some_and(|e| CREDENTIAL_CODES.contains(&e.code.as_str()))
                });
            if environment {
                Exit::Environment
            } else {
                Exit::RunFailed
            }
        }
    }
}

/// What `--output json` and `--output jsonl` print when nothing ran.
fn print_invalid(output: RunOutput, document: InvalidDocument) -> Result<(), Failure> {
    match output {
        RunOutput::Text => Ok(()),
        RunOutput::Json => print_json(&documents::RunOutput::Invalid(document)),
        RunOutput::Jsonl => Ok(events::write(Event::Invalid {
            file: &document.file,
            diagnostics: &document.diagnostics,
        })?),
    }
}

fn print_summary(report: &RunReport, color: bool) -> std::io::Result<()> {
    let count = |status: Status| report.steps.iter().filter(|s| s.status == status).count();
    let mut parts = Vec::new();
    for status in [
        Status::Succeeded,
        Status::Failed,
        Status::Skipped,
        Status::Cancelled,
    ] {
        let n = count(status);
        if n > 0 {
            parts.push(format!("{n} {}", status.name()));
        }
    }
    let verdict = match report.status {
        Status::Succeeded => style::green(color, "succeeded"),
        Status::Cancelled => style::yellow(color, "was cancelled"),
        _ => style::red(color, "failed"),
    };
    outln!(
        "\nrun {} of `{}` {verdict} in {} ({})",
        report.run_id,
        report.flow,
        format_ms(report.duration_ms),
        parts.join(", ")
    )?;
    if let Some(reason) = &report.reason {
        outln!("  {}", style::dim(color, reason))?;
    }
    for step in report.steps.iter().filter(|s| s.status == Status::Failed) {
        if let Some(error) = &step.error {
            outln!(
                "  {} {}: {}: {}",
                style::red(color, "✗"),
                step.id,
                error.code,
                error.message
            )?;
        }
    }
    if !report.outputs.is_empty() {
        outln!("{}", style::bold(color, "outputs:"))?;
        for (name, value) in &report.outputs {
            let shown = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            outln!("  {name}: {shown}")?;
        }
    }
    Ok(())
}
