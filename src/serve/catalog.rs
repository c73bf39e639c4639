//! The flows a daemon serves: every flow file below its folders, checked as `keyflow validate` checks
//! it (with the project's plugins and template libraries). A file that is not a valid flow is reported
//! and left out; it never stops the daemon. The folders are looked at again every `--reload` and, when a
//! file changed, appeared or went, everything is loaded again and swapped in at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use keyflow_engine::plan::Plan;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate;

use super::Daemon;
use crate::commands::plugin::{Blocks, blocks_at};
use crate::machine::diagnostic;
use crate::machine::documents::FileResult;

/// The flows loaded at one moment.
#[derive(Default)]
pub struct Catalog {
    /// The valid flows, by name.
    pub flows: IndexMap<String, Loaded>,
    /// The files left out, with why.
    pub rejected: Vec<FileResult>,
    /// Flows whose name another file also gives: (the file left out, the file served).
    pub shadowed: Vec<(String, String)>,
    /// What the files looked like when loaded (path, modified, length).
    stamp: Vec<Stamp>,
    /// When it was loaded.
    pub loaded_at: Option<DateTime<Utc>>,
}

type Stamp = (PathBuf, Option<SystemTime>, u64);

/// A valid flow.
pub struct Loaded {
    /// Its file.
    pub file: PathBuf,
    /// Its text.
    pub source: Arc<SourceFile>,
    /// Its plan.
    pub plan: Arc<Plan>,
    /// The blocks it was checked with, and the host of their plugins.
    pub blocks: Arc<Blocks>,
}

impl Catalog {
    /// The names of the flows loaded, for taking firings.
    pub fn names(&self) -> Vec<String> {
        self.flows.keys().cloned().collect()
    }
}

/// Loads the flows below `paths` into the daemon, saying what changed.
pub async fn load(daemon: &Arc<Daemon>, paths: &[PathBuf]) {
    let paths = paths.to_vec();
    let loaded = tokio::task::spawn_blocking(move || read(&paths)).await;
    let catalog = match loaded {
        Ok(catalog) => catalog,
        Err(e) => {
            daemon.warn(format_args!("loading the flows failed: {e}"));
            return;
        }
    };
    report(daemon, &daemon.catalog(), &catalog);
    *daemon.catalog.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
}

/// Looks at the folders every `--reload` and loads again when a file changed.
pub async fn watch(daemon: Arc<Daemon>, paths: Vec<PathBuf>) {
    let mut ticks = tokio::time::interval(daemon.settings.reload);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let look = paths.clone();
        let Ok(now) = tokio::task::spawn_blocking(move || stamp(&files(&look))).await else {
            continue;
        };
        if now != daemon.catalog().stamp {
            load(&daemon, &paths).await;
        }
    }
}

/// The flow files below `paths` (a file given is taken as is).
fn files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        // A folder with no flow in it (yet) serves nothing.
        if let Ok(found) = crate::commands::validate::expand(std::slice::from_ref(path)) {
            files.extend(found);
        }
    }
    files
}

fn stamp(files: &[PathBuf]) -> Vec<Stamp> {
    files
        .iter()
        .map(|file| {
            let meta = std::fs::metadata(file).ok();
            (
                file.clone(),
                meta.as_ref().and_then(|m| m.modified().ok()),
                meta.map_or(0, |m| m.len()),
            )
        })
        .collect()
}

/// Reads and checks every flow below `paths`.
fn read(paths: &[PathBuf]) -> Catalog {
    let files = files(paths);
    let mut catalog = Catalog {
        stamp: stamp(&files),
        loaded_at: Some(Utc::now()),
        ..Catalog::default()
    };
    let mut blocks_of: HashMap<PathBuf, Arc<Blocks>> = HashMap::new();
    for file in files {
        let shown = file.display().to_string();
        let source = match crate::flowfile::read(&file) {
            Ok(source) => source,
            Err(error) => {
                catalog.rejected.push(rejected(&shown, error.to_string()));
                continue;
            }
        };
        let dir = dir_of(&file);
        let blocks = match blocks_of.get(&dir) {
            Some(blocks) => blocks.clone(),
            None => match blocks_at(&dir) {
                Ok(blocks) => {
                    let blocks = Arc::new(blocks);
                    blocks_of.insert(dir.clone(), blocks.clone());
                    blocks
                }
                Err(error) => {
                    catalog.rejected.push(rejected(&shown, error.to_string()));
                    continue;
                }
            },
        };
        let templates = crate::project::templates_for(source.dir());
        match validate::check_using(source.clone(), &blocks.registry, templates) {
            Ok(plan) => {
                let loaded = Loaded {
                    file: file.clone(),
                    source,
                    plan: Arc::new(plan),
                    blocks,
                };
                let name = loaded.plan.name.clone();
                match catalog.flows.get(&name) {
                    // Of two files with one name, the one with triggers is served (a flow and the
                    // template it was made from, say), else the first.
                    Some(other)
                        if other.plan.triggers.is_empty() && !loaded.plan.triggers.is_empty() =>
                    {
                        catalog
                            .shadowed
                            .push((other.file.display().to_string(), shown));
                        catalog.flows.insert(name, loaded);
                    }
                    Some(other) => catalog
                        .shadowed
                        .push((shown, other.file.display().to_string())),
                    None => {
                        catalog.flows.insert(name, loaded);
                    }
                }
            }
            Err(diagnostics) => catalog.rejected.push(FileResult {
                file: source.name.clone(),
                valid: false,
                error: None,
                diagnostics: diagnostic::of_flow(&source, &diagnostics),
            }),
        }
    }
    catalog
}

fn rejected(file: &str, error: String) -> FileResult {
    FileResult {
        file: file.to_string(),
        valid: false,
        error: Some(error),
        diagnostics: Vec::new(),
    }
}

fn dir_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Logs what a load changed: flows served, left out, gone.
fn report(daemon: &Daemon, before: &Catalog, after: &Catalog) {
    let first = before.loaded_at.is_none();
    for (name, flow) in &after.flows {
        let changed = before
            .flows
            .get(name)
            .is_none_or(|old| old.source.text != flow.source.text || old.file != flow.file);
        if changed {
            daemon.log(format_args!(
                "{} flow `{name}` from {} ({} trigger{})",
                if first || !before.flows.contains_key(name) {
                    "serving"
                } else {
                    "reloaded"
                },
                flow.file.display(),
                flow.plan.triggers.len(),
                if flow.plan.triggers.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ));
        }
    }
    for name in before
        .flows
        .keys()
        .filter(|n| !after.flows.contains_key(*n))
    {
        daemon.log(format_args!("flow `{name}` is no longer served"));
    }
    for file in &after.rejected {
        let was = before.rejected.iter().any(|r| {
            r.file == file.file && r.error == file.error && r.diagnostics == file.diagnostics
        });
        if !was {
            let why = match (&file.error, file.diagnostics.first()) {
                (Some(error), _) => error.clone(),
                (None, Some(first)) => format!(
                    "{} problem{}, the first: {}",
                    file.diagnostics.len(),
                    if file.diagnostics.len() == 1 { "" } else { "s" },
                    format_args!("{}:{}: {}", first.line, first.column, first.message)
                ),
                (None, None) => "not a valid flow".to_string(),
            };
            daemon.warn(format_args!(
                "{} is not served: {why} (`keyflow validate {}` shows all)",
                file.file, file.file
            ));
        }
    }
    for (left, served) in &after.shadowed {
        if !before
            .shadowed
            .iter()
            .any(|(l, s)| l == left && s == served)
        {
            daemon.log(format_args!(
                "{left} is not served: {served} gives its flow the same name"
            ));
        }
    }
}
