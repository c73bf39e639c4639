//! `keyflow run FILE`: validate, bind parameters, run, report.

use std::io::IsTerminal;
use std::sync::Arc;

use keyflow_engine::exec::report::{RunReport, Status};
use keyflow_engine::exec::{ExecOptions, Executor};
use tokio_util::sync::CancellationToken;

use crate::cli::{Output, RunArgs};
use crate::interrupt::Interrupts;
use crate::progress::{Progress, format_ms};
use crate::{EXIT_FAILED, EXIT_INVALID, flowfile, sandbox, style};

pub fn run(args: &RunArgs, color: bool) -> anyhow::Result<u8> {
    if !args.sandbox && args.sandbox_settings.any() {
        eprintln!(
            "{} `--state`, `--tenant-region`, `--migration-seconds`, `--no-quotas` and `--quota` set up the sandbox: add `--sandbox`",
            style::error_label(color)
        );
        return Ok(EXIT_INVALID);
    }
    let given = flowfile::params(&args.params)?;
    let Some(plan) = flowfile::checked(&args.file, color)? else {
        return Ok(EXIT_INVALID);
    };
    let Some(params) = flowfile::bind(&plan, &given, color) else {
        return Ok(EXIT_INVALID);
    };
    let destructive: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.effect() == keyflow_engine::block::Effect::Destructive)
        .map(|s| s.id.as_str())
        .collect();
    if !destructive.is_empty() && !args.allow_destructive && !args.quiet {
        eprintln!(
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Before anything runs: a run that cannot be recorded does not start.
    let store = args.store.open(&runtime)?;
    let twins = if args.sandbox {
        let options = sandbox::Options::from_settings(&args.sandbox_settings, None, None)?;
        let twins = runtime.block_on(sandbox::Twins::start(options))?;
        if !args.quiet {
            eprintln!(
                "{} AWS KMS twin at {} (account 111122223333), Qlik Cloud twin at {} (tenant {} in {})",
                style::yellow(color, "sandbox:"),
                twins.kms.url,
                twins.qlik.url,
                twins.tenant.id,
                twins.tenant.datacenter
            );
        }
        Some(twins)
    } else {
        None
    };
    let options = ExecOptions {
        parallelism: usize::from(args.parallelism),
        allow_destructive: args.allow_destructive,
        sandbox: twins.as_ref().map(sandbox::Twins::sandbox),
        ..ExecOptions::default()
    };
    let executor = Executor::new(options)
        .with_observer(progress.clone())
        .with_store(store.clone());
    let plan = Arc::new(plan);
    let report = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let on_signal = cancel.clone();
        let mut interrupts = Interrupts::listen()?;
        tokio::spawn(async move {
            if interrupts.next().await {
                eprintln!("\ncancelling: waiting for the steps in flight to stop (Ctrl-C again to quit now)");
                on_signal.cancel();
                if interrupts.next().await {
                    std::process::exit(130);
                }
            }
        });
        anyhow::Ok(executor.run(plan, params, cancel).await)
    })?;
    runtime.block_on(store.close());
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => print_summary(&report, color),
    }
    if let Some(twins) = twins {
        if !args.quiet {
            print_created(&twins.created(), color);
        }
        // Always said, even with -q: how many calls the twin throttled is what a rehearsal is for.
        eprintln!("{} {}", style::dim(color, "sandbox:"), twins.traffic());
        let saved = twins.save();
        runtime.block_on(twins.shutdown());
        if let Some(path) = saved?
            && !args.quiet
        {
            eprintln!(
                "{} state saved to {}",
                style::dim(color, "sandbox:"),
                path.display()
            );
        }
    }
    Ok(if report.status == Status::Succeeded {
        0
    } else {
        EXIT_FAILED
    })
}

/// What a sandbox run made, on stderr (stdout may be the JSON report).
fn print_created(created: &sandbox::Created, color: bool) {
    if created.is_empty() {
        eprintln!(
            "{} the run changed nothing in the twins",
            style::dim(color, "sandbox:")
        );
        return;
    }
    eprintln!("{}", style::bold(color, "in the sandbox:"));
    for line in created.lines() {
        eprintln!("  {line}");
    }
}

fn print_summary(report: &RunReport, color: bool) {
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
    println!(
        "\nrun {} of `{}` {verdict} in {} ({})",
        report.run_id,
        report.flow,
        format_ms(report.duration_ms),
        parts.join(", ")
    );
    if let Some(reason) = &report.reason {
        println!("  {}", style::dim(color, reason));
    }
    for step in report.steps.iter().filter(|s| s.status == Status::Failed) {
        if let Some(error) = &step.error {
            println!(
                "  {} {}: {}: {}",
                style::red(color, "✗"),
                step.id,
                error.code,
                error.message
            );
        }
    }
    if !report.outputs.is_empty() {
        println!("{}", style::bold(color, "outputs:"));
        for (name, value) in &report.outputs {
            let shown = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            println!("  {name}: {shown}");
        }
    }
}
