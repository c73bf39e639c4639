//! Every file a library template reads, so that the lock's hash covers all of them: the template itself,
//! the templates of its own library it uses (`uses: ./…`, recursively), and the documents its
//! `core.render` steps read. A `file` written literally is that file; one built at run time
//! (`policies/qlik-{{params.partition}}.json`) counts every file below the folder its literal start names
//! (`policies/`), or the whole library when it names none — whatever the run picks is pinned.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use keyflow_engine::expr::ValueExpr;
use keyflow_engine::library::LibraryUse;
use keyflow_engine::plan::{Call, Plan, Template};
use serde_json::Value;

/// The block that reads documents beside a flow.
const RENDER: &str = "core.render";

/// The files `template` reads, relative to its library's `root`, `/`-separated and sorted.
pub fn read_by(template: &Template, root: &Path) -> Result<Vec<String>, String> {
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot read the library folder `{}`: {e}", root.display()))?;
    let mut found = BTreeSet::new();
    collect(&template.plan, &root, &mut found)?;
    Ok(found.into_iter().collect())
}

fn collect(plan: &Plan, root: &Path, found: &mut BTreeSet<String>) -> Result<(), String> {
    add(Path::new(&plan.source.name), root, found)?;
    for step in &plan.steps {
        match &step.call {
            Call::Template(nested) if LibraryUse::parse(nested.spec.id).is_none() => {
                collect(&nested.plan, root, found)?;
            }
            Call::Block(block) if block.spec.id == RENDER => {
                let dir = plan.files_dir();
                match step.with.get("file") {
                    Some(ValueExpr::Literal(Value::String(file))) => {
                        add(&dir.join(file), root, found)?
                    }
                    Some(ValueExpr::Template(template)) => {
                        let text = template.source();
                        let start = &text[..text.find("{{").unwrap_or(text.len())];
                        let folder = start.rfind('/').map_or("", |at| &start[..at]);
                        add_below(&dir.join(folder), root, found)?;
                    }
                    _ => add_below(root, root, found)?,
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Adds `path`, which must be inside `root`.
fn add(path: &Path, root: &Path, found: &mut BTreeSet<String>) -> Result<(), String> {
    let real = path
        .canonicalize()
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let relative = real.strip_prefix(root).map_err(|_| {
        format!(
            "`{}` is outside the library `{}`",
            path.display(),
            root.display()
        )
    })?;
    let parts: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    found.insert(parts.join("/"));
    Ok(())
}

/// Adds every file below `dir` (skipping `.git`).
fn add_below(dir: &Path, root: &Path, found: &mut BTreeSet<String>) -> Result<(), String> {
    let mut dirs: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read the folder `{}`: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else {
                add(&path, root, found)?;
            }
        }
    }
    Ok(())
}
