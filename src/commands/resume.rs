//! `keyflow resume RUN`: the recorded run goes on from the first step that did not succeed, with its flow
//! file and its parameters, reusing the results its other steps recorded. What stands and what runs again
//! is the engine's rule ([`keyflow_engine::exec::resume::Resume::plan`]); this command reads the record and
//! refuses what cannot be resumed, saying why.

use std::path::Path;

use anyhow::anyhow;
use indexmap::IndexMap;
use keyflow_engine::block::Recovery;
use keyflow_engine::exec::resume::{Continuation, Resume};
use keyflow_engine::exec::store::StoreError;
use keyflow_engine::plan::{ParamValue, Plan};
use keyflow_store::{RunState, RunSummary};

use super::run::{Continue, execute};
use crate::cli::ResumeArgs;
use crate::exit::{Exit, Failure, ResultExt};
use crate::out::Colors;
use crate::{flowfile, style};

pub fn run(args: &ResumeArgs, colors: Colors) -> Result<Exit, Failure> {
    args.options.check()?;
    let color = colors.err;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .environment()?;
    let store = args
        .options
        .store
        .open(&runtime)
        .map_err(Failure::classify)?;
    let stored = runtime.block_on(store.show(&args.run)).map_err(stored);
    runtime.block_on(store.close());
    let stored = stored?;
    let summary = &stored.summary;
    let id = summary.run_id.clone();
    if let Some(why) = refusal(summary) {
        return Err(Failure::invalid(anyhow!(why)));
    }
    if summary.source == "<stdin>" {
        return Err(Failure::invalid(anyhow!(
            "run `{id}` read its flow from standard input: give it again with `keyflow run - --from {id}`"
        )));
    }
    let source = Path::new(&summary.source);
    if source.is_relative() && !source.exists() {
        return Err(Failure::invalid(anyhow!(
            "run `{id}` ran the flow file `{}`, a path relative to the folder it was started in: resume it from that folder",
            summary.source
        )));
    }
    let blocks = super::plugin::blocks_for(source)?;
    let plan = match flowfile::checked_with(source, color, &blocks.registry)? {
        Ok(plan) => plan,
        Err(_) => return Ok(Exit::Invalid),
    };
    if plan.name != summary.flow {
        return Err(Failure::invalid(anyhow!(
            "`{}` is now flow `{}`, not `{}` as when run `{id}` ran: resume it from its own flow file",
            summary.source,
            plan.name,
            summary.flow
        )));
    }
    let given: IndexMap<String, ParamValue> = stored
        .params
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), ParamValue::Json(value.clone())))
        .collect();
    let params = match plan.bind_params(&given) {
        Ok(params) => params,
        Err(errors) => {
            flowfile::print_param_errors(&errors, color);
            return Ok(Exit::Invalid);
        }
    };
    let to = Continuation {
        run_id: &id,
        recorded_id: &id,
        continues: true,
        same_params: true,
    };
    let resume =
        Resume::plan(&plan, to, &stored.recorded(), &args.rerun).map_err(Failure::invalid)?;
    if !args.options.quiet {
        let reused = resume.run(&id).map_or(0, |r| r.reused.len());
        errln!(
            "{} run `{id}` of `{}` goes on: {reused} of {} steps stand as recorded{}",
            style::yellow(color, "resume:"),
            plan.name,
            plan.steps.len(),
            match resume.in_doubt.len() {
                0 => String::new(),
                n => format!(
                    "; {n} call{} went out unanswered and will be settled first",
                    if n == 1 { "" } else { "s" }
                ),
            }
        );
        for line in unanswered(&plan, &id, &resume) {
            errln!("  {line}");
        }
    }
    execute(
        &args.options,
        plan,
        params,
        blocks,
        Continue::Resumed { run_id: id, resume },
        colors,
    )
}

/// Why the recorded run cannot be resumed, when it cannot: a template's run (its parent run is what goes
/// on), a run that succeeded, a run still running. `keyflow resume` and the daemon's
/// `POST /api/v1/runs/{id}/resume` refuse the same runs.
pub fn refusal(summary: &RunSummary) -> Option<String> {
    let id = &summary.run_id;
    if let Some(parent) = &summary.parent {
        return Some(format!(
            "run `{id}` is a template's run: resume the run that ran it, `{}`",
            parent.run_id
        ));
    }
    match summary.status {
        RunState::Succeeded => Some(format!(
            "run `{id}` succeeded: there is nothing to resume (`keyflow run FILE --from {id} --rerun STEP` runs steps of it again)"
        )),
        RunState::Running => Some(format!(
            "run `{id}` is still running: its process is alive; wait for it to end, or stop it, then resume"
        )),
        RunState::Failed | RunState::Cancelled | RunState::Interrupted => None,
    }
}

/// How each call of the run's own steps that went out unanswered is settled, by its block's recovery rule
/// (for a raw request, its operation's), in the plan's order: `` `policy` (aws-kms.request): reapply — … ``.
fn unanswered(plan: &Plan, id: &str, resume: &Resume) -> Vec<String> {
    let mut calls: Vec<(usize, Option<usize>)> = resume
        .in_doubt
        .iter()
        .filter(|(run, _, _)| run == id)
        .filter_map(|(_, step, item)| {
            let i = plan.steps.iter().position(|s| &s.id == step)?;
            Some((i, *item))
        })
        .collect();
    calls.sort_unstable();
    calls
        .into_iter()
        .map(|(i, item)| {
            let step = &plan.steps[i];
            let recovery = step.recovery();
            format!(
                "`{}`{} ({}): {} — {}",
                step.id,
                item.map(|k| format!(" item {k}")).unwrap_or_default(),
                step.call.spec().id,
                recovery.name(),
                settled_by(recovery)
            )
        })
        .collect()
}

/// What a recovery rule does with a call whose answer was lost.
fn settled_by(recovery: Recovery) -> &'static str {
    match recovery {
        Recovery::Repeat => "it only reads: it is made again",
        Recovery::Reapply => "applying it again leaves the same state: it is made again",
        Recovery::FindFirst => "its block looks for what the lost call made before making anything",
        Recovery::ReadFirst => "its block reads the state first and does nothing if it is as asked",
        Recovery::AtLeastOnce => {
            "nothing tells whether it took effect: it is made again, and may be done twice"
        }
    }
}

/// A store's refusal as the command's failure: a run that is not there is a bad argument, a store that
/// cannot be used the environment's.
pub fn stored(error: StoreError) -> Failure {
    match error {
        StoreError::NotFound(_) => {
            Failure::invalid(anyhow!("{error}: `keyflow runs list` shows the runs"))
        }
        other => Failure::environment(other),
    }
}
