//! Dynamic shell completion (clap_complete's `unstable-dynamic` engine, enabled by
//! `source <(COMPLETE=bash keyflow)` and its zsh/fish equivalents): the candidates that depend on what is on
//! disk or in the registry, computed by keyflow itself when the shell asks.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use clap_complete::engine::CompletionCandidate;

/// Block ids starting with what is typed, after `blocks describe`.
pub fn block_ids(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else {
        return Vec::new();
    };
    keyflow_blocks::registry()
        .blocks()
        .filter(|b| b.spec.id.starts_with(current))
        .map(|b| CompletionCandidate::new(b.spec.id).help(Some(b.spec.title.into())))
        .collect()
}

/// Folders and `*.yaml` / `*.yml` files starting with what is typed, for flow arguments.
pub fn flow_files(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else {
        return Vec::new();
    };
    let (dir, prefix) = match current.rfind('/') {
        Some(i) => (&current[..=i], &current[i + 1..]),
        None => ("", current),
    };
    let listed = if dir.is_empty() {
        Path::new(".")
    } else {
        Path::new(dir)
    };
    let mut candidates = Vec::new();
    for entry in std::fs::read_dir(listed).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            candidates.push(CompletionCandidate::new(format!("{dir}{name}/")));
        } else if is_flow_file(&path) {
            candidates.push(CompletionCandidate::new(format!("{dir}{name}")));
        }
    }
    candidates.sort();
    candidates
}

/// `name=` for each parameter of the flow named on the command line being completed, after `--param`.
pub fn param_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else {
        return Vec::new();
    };
    if current.contains('=') {
        return Vec::new();
    }
    let Some(flow) = flow_being_completed() else {
        return Vec::new();
    };
    let Ok(text) = crate::files::read(&flow, "flow file") else {
        return Vec::new();
    };
    let Ok(document) = serde_yaml::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let Some(params) = document.get("params").and_then(|p| p.as_object()) else {
        return Vec::new();
    };
    params
        .iter()
        .filter(|(name, _)| name.starts_with(current))
        .map(|(name, spec)| {
            let help = spec
                .get("description")
                .and_then(|d| d.as_str())
                .map(|d| d.to_string().into());
            CompletionCandidate::new(format!("{name}=")).help(help)
        })
        .collect()
}

/// The first existing `.yaml` / `.yml` file among the words of the command line being completed (the shell
/// passes them after `--`).
fn flow_being_completed() -> Option<PathBuf> {
    std::env::args_os()
        .skip_while(|arg| arg != "--")
        .map(PathBuf::from)
        .find(|arg| is_flow_file(arg) && arg.is_file())
}

fn is_flow_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}
