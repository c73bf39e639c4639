//! `keyflow schedule list DIR|FILE…`: every trigger of every flow with its next fire times, in its time
//! zone and in UTC. Invalid flows are reported with their diagnostics and skipped (exit 2).

use chrono::{DateTime, SecondsFormat, Utc};
use keyflow_engine::schedule::{Trigger, upcoming};
use keyflow_engine::validate;
use schemars::JsonSchema;
use serde::Serialize;

use crate::cli::{Output, ScheduleCommand};
use crate::exit::{Exit, Failure};
use crate::machine::documents::FileResult;
use crate::machine::{FormatVersion, diagnostic, print_json};
use crate::out::Colors;
use crate::{flowfile, style};

/// `keyflow schedule list --output json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScheduleListDocument {
    /// The format's version.
    pub format_version: FormatVersion,
    /// The instant the fire times follow (`--at`, else now), in UTC.
    pub at: String,
    /// Every valid flow that has triggers, in the order the files were read.
    pub flows: Vec<ScheduledFlow>,
    /// The files that are not valid flows (or could not be read), with their diagnostics: skipped.
    pub invalid: Vec<FileResult>,
}

/// A flow with triggers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScheduledFlow {
    /// The file.
    pub file: String,
    /// The flow's name.
    pub flow: String,
    /// Its triggers, in file order.
    pub triggers: Vec<TriggerListing>,
}

/// One trigger and its next fire times.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TriggerListing {
    /// Its id (its index in `triggers:` when it has none).
    pub id: String,
    /// Its cron expression.
    pub cron: String,
    /// The IANA time zone the expression is read in.
    pub timezone: String,
    /// Whether it fires (`enabled: false` pauses it; its fire times are still shown).
    pub enabled: bool,
    /// `skip`, `queue` or `cancel_running`.
    pub overlap: String,
    /// `none`, `latest` or `all`.
    pub catch_up: String,
    /// How old a missed firing may be and still run, in hours, minutes or seconds (`2d` shows as `48h`);
    /// `null`: any age.
    pub catch_up_window: Option<String>,
    /// Pause after this many failed runs in a row; `null`: never.
    pub pause_after_failures: Option<u32>,
    /// Whether its runs may run the destructive steps the flow confirms.
    pub allow_destructive: bool,
    /// The parameters its runs get (the flow's defaults fill in the rest).
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The next fire times, oldest first.
    pub next: Vec<FireTime>,
}

/// One fire time.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FireTime {
    /// In the trigger's time zone, RFC 3339 with its offset (`2027-01-01T03:00:00+01:00`).
    pub local: String,
    /// In UTC, RFC 3339 (`2027-01-01T02:00:00Z`).
    pub utc: String,
    /// For people: `Fri 2027-01-01 03:00 CET`.
    #[serde(skip)]
    shown: String,
}

pub fn run(command: &ScheduleCommand, colors: Colors) -> Result<Exit, Failure> {
    let ScheduleCommand::List(args) = command;
    let at = args.at.unwrap_or_else(Utc::now);
    let json = args.output == Output::Json;
    let mut flows = Vec::new();
    let mut invalid = Vec::new();
    let mut worst = Exit::Success;
    for path in &super::validate::expand(&args.paths)? {
        let source = match flowfile::read(path) {
            Ok(source) => source,
            Err(error) => {
                errln!("{} {error}", style::error_label(colors.err));
                invalid.push(FileResult {
                    file: path.display().to_string(),
                    valid: false,
                    error: Some(error.to_string()),
                    diagnostics: Vec::new(),
                });
                worst = Exit::Environment;
                continue;
            }
        };
        // As `validate` checks it: with the project's plugins and template libraries.
        let registry = super::plugin::blocks_for(path)?.registry;
        let templates = crate::project::templates_for(source.dir());
        let checked = validate::check_using(source.clone(), &registry, templates);
        if let Ok(plan) = &checked {
            flowfile::print_warnings(&source, &plan.warnings, colors.err);
        }
        match checked {
            Ok(plan) if plan.triggers.is_empty() => {}
            Ok(plan) => flows.push(ScheduledFlow {
                file: source.name.clone(),
                flow: plan.name.clone(),
                triggers: plan
                    .triggers
                    .iter()
                    .map(|t| listing(t, at, args.count))
                    .collect(),
            }),
            Err(diagnostics) => {
                flowfile::print_invalid(&source, &diagnostics, colors.err);
                invalid.push(FileResult {
                    file: source.name.clone(),
                    valid: false,
                    error: None,
                    diagnostics: diagnostic::of_flow(&source, &diagnostics),
                });
                if worst == Exit::Success {
                    worst = Exit::Invalid;
                }
            }
        }
    }
    if json {
        print_json(&ScheduleListDocument {
            format_version: FormatVersion,
            at: utc(at),
            flows,
            invalid,
        })?;
    } else {
        print_text(&flows, at, colors.out)?;
    }
    Ok(worst)
}

/// A trigger with its next `count` fire times after `at` (the daemon's `GET /api/v1/flows` lists the same).
pub(crate) fn listing(trigger: &Trigger, at: DateTime<Utc>, count: u32) -> TriggerListing {
    let next = upcoming(trigger, at, count as usize)
        .into_iter()
        .map(|t| FireTime {
            local: t
                .with_timezone(&trigger.zone)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            utc: utc(t),
            shown: t
                .with_timezone(&trigger.zone)
                .format(if trigger.cron.has_seconds() {
                    "%a %Y-%m-%d %H:%M:%S %Z"
                } else {
                    "%a %Y-%m-%d %H:%M %Z"
                })
                .to_string(),
        })
        .collect();
    TriggerListing {
        id: trigger.id.clone(),
        cron: trigger.cron.to_string(),
        timezone: trigger.zone.name().to_string(),
        enabled: trigger.enabled,
        overlap: trigger.overlap.name().to_string(),
        catch_up: trigger.catch_up.name().to_string(),
        catch_up_window: trigger
            .catch_up_window
            .map(|w| keyflow_engine::model::DurationSpec(w).to_string()),
        pause_after_failures: trigger.pause_after_failures,
        allow_destructive: trigger.allow_destructive,
        params: trigger
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        next,
    }
}

fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn print_text(flows: &[ScheduledFlow], at: DateTime<Utc>, color: bool) -> std::io::Result<()> {
    if flows.is_empty() {
        return outln!("no flow here has triggers");
    }
    outln!(
        "{}",
        style::dim(color, &format!("fire times after {}", utc(at)))
    )?;
    for flow in flows {
        outln!(
            "\n{} {}",
            style::bold(color, &flow.flow),
            style::dim(color, &format!("({})", flow.file))
        )?;
        for trigger in &flow.triggers {
            let mut notes = vec![
                if trigger.enabled {
                    style::green(color, "enabled")
                } else {
                    style::yellow(color, "disabled")
                },
                format!("overlap {}", trigger.overlap),
                match &trigger.catch_up_window {
                    Some(window) => format!("catch-up {} within {window}", trigger.catch_up),
                    None => format!("catch-up {}", trigger.catch_up),
                },
            ];
            if let Some(n) = trigger.pause_after_failures {
                notes.push(format!("pauses after {n} failures"));
            }
            if trigger.allow_destructive {
                notes.push(style::red(color, "allows destructive steps"));
            }
            outln!(
                "  {}  {}  {}  {}",
                style::bold(color, &trigger.id),
                trigger.cron,
                trigger.timezone,
                notes.join(", ")
            )?;
            for time in &trigger.next {
                outln!("    {}  {}", time.shown, style::dim(color, &time.utc))?;
            }
        }
    }
    Ok(())
}
