//! `keyflow lock` and `keyflow update [NAME]`: resolve every library `uses:` of the project's flows,
//! transitively, check every call site against what was resolved, print what changed in each template's
//! interface, and only then write `keyflow.lock`. The only commands (with `template list|show`'s reading
//! of what they fetched) that reach libraries.

use std::path::Path;
use std::sync::Arc;

use anyhow::anyhow;
use keyflow_engine::library::{LockFile, LockedTemplate};
use keyflow_engine::load::load;
use keyflow_engine::validate;

use crate::exit::{Exit, Failure, ResultExt};
use crate::flowfile;
use crate::out::Colors;
use crate::project::args::{LockArgs, UpdateArgs};
use crate::project::resolve::{Mode, Resolver, short};
use crate::project::{PROJECT_FILE, Project, yaml_below};
use crate::style;

/// `keyflow lock`.
pub fn lock(args: &LockArgs, colors: Colors) -> Result<Exit, Failure> {
    resolve(&args.project, Mode::Lock, colors)
}

/// `keyflow update [NAME]`.
pub fn update(args: &UpdateArgs, colors: Colors) -> Result<Exit, Failure> {
    resolve(&args.project, Mode::Update(args.library.clone()), colors)
}

/// Reads the project at or above `dir`, printing what is wrong with its files.
pub fn project(dir: &Path, colors: Colors) -> Result<Result<(Project, LockFile), Exit>, Failure> {
    let Some(found) = Project::locate(dir) else {
        return Err(Failure::invalid(anyhow!(
            "no `{PROJECT_FILE}` in `{}` or above: create one naming your libraries (see docs/templates.md)",
            dir.display()
        )));
    };
    let read = Project::read(&found).and_then(|p| p.lock().map(|lock| (p, lock)));
    match read {
        Ok(read) => Ok(Ok(read)),
        Err(e) => {
            errln!("{}", e.render(colors.err));
            Ok(Err(Exit::Invalid))
        }
    }
}

fn resolve(dir: &Path, mode: Mode, colors: Colors) -> Result<Exit, Failure> {
    let (project, old) = match project(dir, colors)? {
        Ok(read) => read,
        Err(exit) => return Ok(exit),
    };
    if let Mode::Update(Some(name)) = &mode
        && !project.file.libraries.contains_key(name)
    {
        return Err(Failure::invalid(anyhow!(
            "keyflow.yaml names no library `{name}`"
        )));
    }
    let resolver = Arc::new(Resolver::new(&project, old.clone(), mode));
    let registry = keyflow_blocks::registry();
    let mut plans = Vec::new();
    let mut broken = 0;
    for file in yaml_below(&project.dir) {
        let source = flowfile::read(&file)?;
        if load(&source).flow.is_none() {
            continue; // not a flow: a document `core.render` reads, say
        }
        match validate::check_using(source.clone(), &registry, resolver.clone()) {
            Ok(plan) => plans.push(plan),
            Err(found) => {
                flowfile::print_invalid(&source, &found, colors.err);
                broken += 1;
            }
        }
    }
    if let Some(message) = resolver.unreachable() {
        return Err(Failure::environment(anyhow!(
            "{message}\nkeyflow.lock was not written; check the URL in keyflow.yaml, and that `git ls-remote` reaches it with your credentials"
        )));
    }
    if broken > 0 {
        errln!(
            "{} keyflow.lock was not written: {broken} flow{} above do{} not check against the templates resolved",
            style::error_label(colors.err),
            if broken == 1 { "" } else { "s" },
            if broken == 1 { "es" } else { "" },
        );
        return Ok(Exit::Invalid);
    }
    let entries = resolver
        .entries(&plans)
        .map_err(|e| Failure::invalid(anyhow!(e)))?;
    let changed_in_place = same_version_changed(&old, &entries);
    if !changed_in_place.is_empty() {
        for line in &changed_in_place {
            errln!("{} {line}", style::error_label(colors.err));
        }
        errln!(
            "keyflow.lock was not written: a published version must not change; publish the change as a new version"
        );
        return Ok(Exit::Invalid);
    }
    report_changes(&old, &entries, colors)?;
    let mut lock = LockFile::new();
    lock.templates = entries;
    let text = lock.to_text();
    let path = project.lock_path();
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        outln!(
            "{}: up to date ({} templates)",
            path.display(),
            lock.templates.len()
        )?;
        return Ok(Exit::Success);
    }
    std::fs::write(&path, text)
        .map_err(|e| anyhow!("cannot write `{}`: {e}", path.display()))
        .environment()?;
    outln!(
        "wrote {} ({} templates)",
        path.display(),
        lock.templates.len()
    )?;
    Ok(Exit::Success)
}

/// Entries whose version stayed but whose files did not.
fn same_version_changed(old: &LockFile, new: &[LockedTemplate]) -> Vec<String> {
    new.iter()
        .filter_map(|n| {
            let o = old.get(&n.uses)?;
            if o.version != n.version || o.hash == n.hash || o.source != n.source {
                return None;
            }
            let files: Vec<String> = n
                .files
                .iter()
                .filter(|(f, h)| o.files.get(*f) != Some(*h))
                .map(|(f, _)| format!("`{f}`"))
                .chain(
                    o.files
                        .keys()
                        .filter(|f| !n.files.contains_key(*f))
                        .map(|f| format!("`{f}` (gone)")),
                )
                .collect();
            Some(format!(
                "`{}:{}` {} changed under the same version: {}",
                n.library,
                n.template,
                n.version,
                files.join(", ")
            ))
        })
        .collect()
}

/// Prints each template added, removed or changed, with its interface's changes.
fn report_changes(old: &LockFile, new: &[LockedTemplate], colors: Colors) -> Result<(), Failure> {
    for n in new {
        match old.get(&n.uses) {
            None => outln!("+ {} -> {}{}", n.uses, n.version, at_commit(n))?,
            Some(o)
                if o.version != n.version
                    || o.interface_hash != n.interface_hash
                    || o.commit != n.commit =>
            {
                outln!(
                    "~ {}: {} -> {}{}",
                    n.uses,
                    o.version,
                    n.version,
                    at_commit(n)
                )?;
                for change in o.interface.changes(&n.interface) {
                    let mark = if change.breaking() {
                        style::bold(colors.out, "breaking")
                    } else {
                        "compatible".to_string()
                    };
                    outln!("    {mark}: {change}")?;
                }
            }
            Some(_) => {}
        }
    }
    for o in &old.templates {
        if !new.iter().any(|n| n.uses == o.uses) {
            outln!("- {} (no flow uses it any more)", o.uses)?;
        }
    }
    Ok(())
}

fn at_commit(entry: &LockedTemplate) -> String {
    entry
        .commit
        .as_deref()
        .map(|c| format!(" (commit {})", short(c)))
        .unwrap_or_default()
}
