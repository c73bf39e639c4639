//! `keyflow plan FILE`: the steps in execution order, their concurrency groups, their inputs resolved with
//! the upstream blocks' example outputs, and their effects. Calls nothing.

use keyflow_engine::block::Effect;
use keyflow_engine::plan::preview::{StepPreview, preview, preview_params};
use keyflow_engine::schedule::Trigger;

use crate::cli::{Output, PlanArgs};
use crate::exit::{Exit, Failure};
use crate::machine::documents::{
    InvalidDocument, PlanDocument, PlanOutput, PlanStep, PlanTrigger, ValidStatus,
};
use crate::machine::{FormatVersion, diagnostic, print_json};
use crate::out::Colors;
use crate::{flowfile, style};

pub fn run(args: &PlanArgs, colors: Colors) -> Result<Exit, Failure> {
    let json = args.output == Output::Json;
    let given = flowfile::params(&args.params)?;
    let plan = match flowfile::checked(&args.file, colors.err)? {
        Ok(plan) => plan,
        Err((source, diagnostics)) => {
            if json {
                let diagnostics = diagnostic::of_flow(&source, &diagnostics);
                print_json(&PlanOutput::Invalid(InvalidDocument::new(
                    &source.name,
                    diagnostics,
                )))?;
            }
            return Ok(Exit::Invalid);
        }
    };
    let given = flowfile::with_environment(given, &plan)?;
    // A parameter given must be declared and fit its type; one left out is shown as a placeholder.
    if let Err(errors) = plan.bind_params(&given) {
        let wrong: Vec<_> = errors
            .into_iter()
            .filter(|e| given.contains_key(&e.name))
            .collect();
        if !wrong.is_empty() {
            flowfile::print_param_errors(&wrong, colors.err);
            if json {
                print_json(&PlanOutput::Invalid(flowfile::invalid_params(
                    &plan.source.name,
                    &wrong,
                )))?;
            }
            return Ok(Exit::Invalid);
        }
    }
    let params = preview_params(&plan, &given);
    let steps = preview(&plan, &params);
    if json {
        print_json(&PlanOutput::Plan(PlanDocument {
            format_version: FormatVersion,
            status: ValidStatus::Valid,
            flow: plan.name.clone(),
            params,
            steps: steps.iter().map(PlanStep::from).collect(),
            triggers: plan.triggers.iter().map(PlanTrigger::from).collect(),
            warnings: diagnostic::of_flow(&plan.source, &plan.warnings),
        }))?;
        return Ok(Exit::Success);
    }
    let color = colors.out;
    let groups = steps.iter().map(|s| s.group).max().map_or(0, |g| g + 1);
    outln!(
        "{} `{}` ({}): {} steps in {} groups; steps of one group can run at the same time",
        style::bold(color, "plan of"),
        plan.name,
        plan.source.name,
        steps.len(),
        groups
    )?;
    for group in 0..groups {
        outln!("\n{}", style::bold(color, &format!("group {}", group + 1)))?;
        for step in steps.iter().filter(|s| s.group == group) {
            print_step(step, 2, false, color)?;
        }
    }
    let destructive: Vec<&StepPreview> = steps
        .iter()
        .filter(|s| s.effect == Effect::Destructive)
        .collect();
    if !destructive.is_empty() {
        outln!(
            "\n{} {} destructive {}: the run needs `--allow-destructive`",
            style::red(color, "!"),
            destructive.len(),
            if destructive.len() == 1 {
                "step"
            } else {
                "steps"
            }
        )?;
        print_schedule_authority(&plan.triggers, color)?;
    }
    Ok(Exit::Success)
}

/// What the flow's triggers mean for its destructive steps: a trigger with `allow_destructive: true`
/// authorises them for its runs; the runs of the others stop before them.
fn print_schedule_authority(triggers: &[Trigger], color: bool) -> std::io::Result<()> {
    let ids = |allow: bool| -> Vec<String> {
        triggers
            .iter()
            .filter(|t| t.allow_destructive == allow)
            .map(|t| format!("`{}`", t.id))
            .collect()
    };
    let (authorising, refusing) = (ids(true), ids(false));
    if !refusing.is_empty() {
        outln!(
            "  scheduled runs of trigger {} will refuse them (no `allow_destructive: true` on the trigger)",
            refusing.join(", ")
        )?;
    }
    if !authorising.is_empty() {
        outln!(
            "  {} the schedule authorises them for the runs of trigger {} (`allow_destructive: true`)",
            style::red(color, "!"),
            authorising.join(", ")
        )?;
    }
    Ok(())
}

/// A step, its notes and its input, `indent` deep (`group`: its group number before its id); a `uses:`
/// step's template steps under it, deeper.
fn print_step(step: &StepPreview, indent: usize, group: bool, color: bool) -> std::io::Result<()> {
    let pad = " ".repeat(indent);
    let group = if group {
        style::dim(color, &format!("{} · ", step.group + 1))
    } else {
        String::new()
    };
    let effect = match step.effect {
        Effect::Destructive => style::red(color, "destructive"),
        Effect::Create | Effect::Update => style::yellow(color, step.effect.name()),
        Effect::Read => style::dim(color, "read"),
    };
    outln!(
        "{pad}{group}{}  {} ({})  {effect}",
        style::bold(color, &step.id),
        step.block,
        step.title
    )?;
    let mut notes = Vec::new();
    if !step.after.is_empty() {
        notes.push(format!("after {}", step.after.join(", ")));
    }
    if step.conditional {
        notes.push("only if its `if:` holds".into());
    }
    if let Some(items) = step.items {
        notes.push(format!("for each of {items} items (first shown)"));
    }
    if step.polls {
        notes.push("polls until its condition holds".into());
    }
    if step.recovery.at_least_once() && step.effect != Effect::Read {
        // Nobody is promised more than the code keeps: a lost answer may mean it happened.
        notes.push("at-least-once: a call whose answer is lost may be made twice".into());
    }
    if !notes.is_empty() {
        outln!("{pad}  {}", style::dim(color, &notes.join("; ")))?;
    }
    if let Some(input) = step.input.as_object().filter(|m| !m.is_empty()) {
        for (key, value) in input {
            let text = serde_json::to_string(value).unwrap_or_default();
            outln!("{pad}  {key}: {text}")?;
        }
    }
    if let Some(steps) = &step.steps {
        outln!(
            "{pad}  {}",
            style::dim(
                color,
                &format!(
                    "runs the {} steps of {}{}, by group (steps of one group can run at the same time):",
                    steps.len(),
                    step.block,
                    if step.items.is_some() {
                        " per item"
                    } else {
                        ""
                    }
                )
            )
        )?;
        for inner in steps {
            print_step(inner, indent + 4, true, color)?;
        }
    }
    Ok(())
}
