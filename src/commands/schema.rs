//! `keyflow schema --out DIR [--check]`: the JSON Schemas generated from the Rust types.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use keyflow_engine::schema::flow::{flow_schema, output_schema};
use serde_json::Value;

use crate::cli::SchemaArgs;
use crate::exit::{Exit, Failure, ResultExt};
use crate::machine::documents::{
    BlockDocument, BlocksDocument, PlanOutput, RunOutput, RunsDocument, ValidateDocument,
};
use crate::machine::events::EventLine;

/// Every schema file, by path relative to the output folder: the flow files', one per machine output,
/// and each block's descriptor.
pub fn files() -> Result<BTreeMap<PathBuf, String>, Failure> {
    let registry = keyflow_blocks::registry();
    let pretty = |value: &Value| serde_json::to_string_pretty(value).map(|text| text + "\n");
    let mut files = BTreeMap::new();
    let mut add = |path: &str, value: Value| -> Result<(), Failure> {
        files.insert(PathBuf::from(path), pretty(&value)?);
        Ok(())
    };
    add("flow.schema.json", flow_schema(&registry))?;
    add(
        "run-report.schema.json",
        output_schema::<RunOutput<'static>>(
            "run-report.schema.json",
            "keyflow run --output json: the run report, or why nothing ran",
        ),
    )?;
    add(
        "run-events.schema.json",
        output_schema::<EventLine<'static>>(
            "run-events.schema.json",
            "keyflow run --output jsonl: one line",
        ),
    )?;
    add(
        "plan.schema.json",
        output_schema::<PlanOutput>(
            "plan.schema.json",
            "keyflow plan --output json: the plan, or why there is none",
        ),
    )?;
    add(
        "validate.schema.json",
        output_schema::<ValidateDocument>("validate.schema.json", "keyflow validate --output json"),
    )?;
    add(
        "runs.schema.json",
        output_schema::<RunsDocument>("runs.schema.json", "keyflow runs list --output json"),
    )?;
    add(
        "schedule-list.schema.json",
        output_schema::<super::schedule::ScheduleListDocument>(
            "schedule-list.schema.json",
            "keyflow schedule list --output json",
        ),
    )?;
    add(
        "blocks.schema.json",
        output_schema::<BlocksDocument>("blocks.schema.json", "keyflow blocks list --output json"),
    )?;
    add(
        "block.schema.json",
        output_schema::<BlockDocument>(
            "block.schema.json",
            "keyflow blocks describe --output json, and schemas/blocks/<id>.json",
        ),
    )?;
    for block in registry.blocks() {
        let document = serde_json::to_value(super::blocks::document(block))?;
        add(&format!("blocks/{}.json", block.spec.id), document)?;
    }
    Ok(files)
}

pub fn run(args: &SchemaArgs) -> Result<Exit, Failure> {
    let files = files()?;
    if args.check {
        let mut stale = Vec::new();
        for (path, text) in &files {
            let on_disk = std::fs::read_to_string(args.out.join(path)).unwrap_or_default();
            if on_disk != *text {
                stale.push(path.display().to_string());
            }
        }
        let wanted: Vec<PathBuf> = files.keys().cloned().collect();
        if let Ok(entries) = std::fs::read_dir(args.out.join("blocks")) {
            for entry in entries.flatten() {
                let relative = PathBuf::from("blocks").join(entry.file_name());
                if !wanted.contains(&relative) {
                    stale.push(format!("{} (no such block any more)", relative.display()));
                }
            }
        }
        if stale.is_empty() {
            outln!(
                "{}: {} schema files are up to date",
                args.out.display(),
                files.len()
            )?;
            return Ok(Exit::Success);
        }
        errln!(
            "{}: stale schema files: {}\nrun `keyflow schema --out {}` and commit the result",
            args.out.display(),
            stale.join(", "),
            args.out.display()
        );
        return Ok(Exit::RunFailed);
    }
    let blocks = args.out.join("blocks");
    if blocks.exists() {
        std::fs::remove_dir_all(&blocks)
            .with_context(|| format!("cannot clear `{}`", blocks.display()))
            .environment()?;
    }
    for (path, text) in &files {
        let target = args.out.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))
                .environment()?;
        }
        std::fs::write(&target, text)
            .with_context(|| format!("cannot write `{}`", target.display()))
            .environment()?;
    }
    outln!(
        "wrote {} schema files to {}",
        files.len(),
        args.out.display()
    )?;
    Ok(Exit::Success)
}
