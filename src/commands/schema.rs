//! `keyflow schema --out DIR [--check]`: the JSON Schemas generated from the Rust types, and the OpenAPI
//! document of `keyflow serve`'s HTTP API.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use keyflow_engine::library::{LockFile, ProjectFile};
use keyflow_engine::schema::flow::{flow_schema, input_schema, output_schema};
use keyflow_plugin::protocol::{
    CallResult, Description, HostMessage, InitializeResult, PluginMessage,
};
use keyflow_plugin_host::PluginRecord;
use serde_json::Value;

use super::plugin::PluginsDocument;
use crate::cli::SchemaArgs;
use crate::exit::{Exit, Failure, ResultExt};
use crate::machine::documents::{
    BlockDocument, BlocksDocument, PlanOutput, RunOutput, RunsDocument, ValidateDocument,
};
use crate::machine::events::EventLine;

use super::template::{TemplateDocument, TemplatesDocument};

/// Every schema file, by path relative to the output folder: the flow files', one per machine output,
/// each block's descriptor, a plugin's record and the messages of `keyflow-plugin/1`.
pub fn files() -> Result<BTreeMap<PathBuf, String>, Failure> {
    let registry = super::plugin::blocks_at(std::path::Path::new("."))?.registry;
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
    add(
        "project.schema.json",
        input_schema::<ProjectFile>(
            "project.schema.json",
            "keyflow.yaml: the project's template libraries",
        ),
    )?;
    add(
        "lock.schema.json",
        input_schema::<LockFile>(
            "lock.schema.json",
            "keyflow.lock: what each library `uses:` was resolved to",
        ),
    )?;
    add(
        "templates.schema.json",
        output_schema::<TemplatesDocument>(
            "templates.schema.json",
            "keyflow template list --output json",
        ),
    )?;
    add(
        "template.schema.json",
        output_schema::<TemplateDocument>(
            "template.schema.json",
            "keyflow template show --output json",
        ),
    )?;
    add(
        "plugins.schema.json",
        output_schema::<PluginsDocument>(
            "plugins.schema.json",
            "keyflow plugin list --output json",
        ),
    )?;
    add(
        "plugin-record.schema.json",
        input_schema::<PluginRecord>(
            "plugin-record.schema.json",
            "a plugin's record, .keyflow/plugins/<name>.json (written by keyflow plugin add)",
        ),
    )?;
    // keyflow-plugin/1 (docs/plugins.md): what keyflow writes as it writes it, what a plugin writes as
    // keyflow reads it, and the `result` of each request.
    add(
        "plugin/host-message.schema.json",
        output_schema::<HostMessage>(
            "plugin/host-message.schema.json",
            "keyflow-plugin/1: a line keyflow writes to a plugin (a request or the cancel notification)",
        ),
    )?;
    add(
        "plugin/plugin-message.schema.json",
        input_schema::<PluginMessage>(
            "plugin/plugin-message.schema.json",
            "keyflow-plugin/1: a line a plugin writes (a response or a log notification)",
        ),
    )?;
    add(
        "plugin/initialize-result.schema.json",
        input_schema::<InitializeResult>(
            "plugin/initialize-result.schema.json",
            "keyflow-plugin/1: the result of `initialize`",
        ),
    )?;
    add(
        "plugin/describe-result.schema.json",
        input_schema::<Description>(
            "plugin/describe-result.schema.json",
            "keyflow-plugin/1: the result of `describe`",
        ),
    )?;
    add(
        "plugin/call-result.schema.json",
        input_schema::<CallResult>(
            "plugin/call-result.schema.json",
            "keyflow-plugin/1: the result of `call`",
        ),
    )?;
    add("openapi.json", crate::serve::api::openapi::document())?;
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
