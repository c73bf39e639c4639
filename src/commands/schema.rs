//! `keyflow schema --out DIR [--check]`: the JSON Schemas generated from the Rust types.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use keyflow_engine::schema::flow::{block_descriptor, flow_schema, run_report_schema};

use crate::EXIT_FAILED;
use crate::cli::SchemaArgs;

/// Every schema file, by path relative to the output folder.
pub fn files() -> anyhow::Result<BTreeMap<PathBuf, String>> {
    let registry = keyflow_blocks::registry();
    let pretty =
        |value: &serde_json::Value| serde_json::to_string_pretty(value).map(|text| text + "\n");
    let mut files = BTreeMap::new();
    files.insert(
        PathBuf::from("flow.schema.json"),
        pretty(&flow_schema(&registry))?,
    );
    files.insert(
        PathBuf::from("run-report.schema.json"),
        pretty(&run_report_schema())?,
    );
    for block in registry.blocks() {
        files.insert(
            PathBuf::from("blocks").join(format!("{}.json", block.spec.id)),
            pretty(&block_descriptor(block))?,
        );
    }
    Ok(files)
}

pub fn run(args: &SchemaArgs) -> anyhow::Result<u8> {
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
            println!(
                "{}: {} schema files are up to date",
                args.out.display(),
                files.len()
            );
            return Ok(0);
        }
        eprintln!(
            "{}: stale schema files: {}\nrun `keyflow schema --out {}` and commit the result",
            args.out.display(),
            stale.join(", "),
            args.out.display()
        );
        return Ok(EXIT_FAILED);
    }
    let blocks = args.out.join("blocks");
    if blocks.exists() {
        std::fs::remove_dir_all(&blocks)
            .with_context(|| format!("cannot clear `{}`", blocks.display()))?;
    }
    for (path, text) in &files {
        let target = args.out.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&target, text)
            .with_context(|| format!("cannot write `{}`", target.display()))?;
    }
    println!(
        "wrote {} schema files to {}",
        files.len(),
        args.out.display()
    );
    Ok(0)
}
