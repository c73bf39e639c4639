//! `keyflow template list|show|check`: the templates a project can call with their versions, one
//! template's interface, and — for the team publishing a library — whether a template changed its
//! interface incompatibly without a new major version.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::anyhow;
use keyflow_engine::library::{Interface, Library, LibraryUse, LockFile, parse_version};
use keyflow_engine::plan::Template;
use keyflow_engine::validate;
use schemars::JsonSchema;
use semver::Version;
use serde::Serialize;

use crate::exit::{Exit, Failure};
use crate::machine::{FormatVersion, print_json};
use crate::out::Colors;
use crate::project::args::{ListArgs, Output, ShowArgs, TemplateCommand};
use crate::project::git::Mirror;
use crate::project::resolve::{Mode, Resolver, version_in};
use crate::project::{Project, cache_of, yaml_below};
use crate::style;

mod check;

/// `keyflow template list --output json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplatesDocument {
    pub format_version: FormatVersion,
    /// Every template of every library, by library then path.
    pub templates: Vec<Listed>,
}

/// One template of a library.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Listed {
    /// `LIBRARY:PATH`, as `uses:` names it (with `@RANGE`).
    pub name: String,
    /// Its library.
    pub library: String,
    /// Its versions, lowest first (a directory library: the one it holds).
    pub versions: Vec<String>,
    /// The `uses:` keyflow.lock pins to one of them, with the version.
    pub locked: BTreeMap<String, String>,
}

/// `keyflow template show --output json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateDocument {
    pub format_version: FormatVersion,
    /// `LIBRARY:PATH`.
    pub name: String,
    /// The version shown.
    pub version: String,
    /// The flow's `name:`.
    pub title: String,
    /// Its description.
    pub description: Option<String>,
    /// The file it was read from.
    pub file: String,
    /// Its params (with their descriptions and defaults), outputs and effect.
    pub interface: Interface,
    /// What each param is for, where the template says.
    pub param_descriptions: BTreeMap<String, String>,
}

pub fn run(command: &TemplateCommand, colors: Colors) -> Result<Exit, Failure> {
    match command {
        TemplateCommand::List(args) => list(args, colors),
        TemplateCommand::Show(args) => show(args, colors),
        TemplateCommand::Check(args) => check::check(args, colors),
    }
}

fn list(args: &ListArgs, colors: Colors) -> Result<Exit, Failure> {
    let (project, lock) = match super::lock::project(&args.project, colors)? {
        Ok(read) => read,
        Err(exit) => return Ok(exit),
    };
    let mut listed = Vec::new();
    let mut unfetched = Vec::new();
    for (name, library) in &project.file.libraries {
        let versions = match versions_of(&project, library) {
            Some(versions) => versions,
            None => {
                unfetched.push(name.clone());
                BTreeMap::new()
            }
        };
        for (template, versions) in versions {
            let locked = lock
                .templates
                .iter()
                .filter(|e| &e.library == name && e.template == template)
                .map(|e| (e.uses.clone(), e.version.clone()))
                .collect();
            listed.push(Listed {
                name: format!("{name}:{template}"),
                library: name.clone(),
                versions: versions.iter().map(ToString::to_string).collect(),
                locked,
            });
        }
    }
    if args.output == Output::Json {
        print_json(&TemplatesDocument {
            format_version: FormatVersion,
            templates: listed,
        })?;
    } else {
        for t in &listed {
            let locked: Vec<String> = t
                .locked
                .iter()
                .map(|(uses, v)| format!("{v} for `{uses}`"))
                .collect();
            let locked = if locked.is_empty() {
                String::new()
            } else {
                format!("  (locked: {})", locked.join(", "))
            };
            outln!(
                "{}  {}{locked}",
                style::bold(colors.out, &t.name),
                t.versions.join(", ")
            )?;
        }
    }
    for name in unfetched {
        errln!("library `{name}` has not been fetched on this machine yet: run `keyflow lock`");
    }
    Ok(Exit::Success)
}

/// Each template's versions in `library`, from the git mirror's tags or the folder's files; `None` for
/// a git library never fetched here.
fn versions_of(project: &Project, library: &Library) -> Option<BTreeMap<String, Vec<Version>>> {
    let mut found: BTreeMap<String, Vec<Version>> = BTreeMap::new();
    if let Some(url) = &library.git {
        let mirror = Mirror::at(cache_of(url).join("repo.git"));
        if !mirror.dir.join("HEAD").is_file() {
            return None;
        }
        for tag in mirror.tags().ok()? {
            if let Some((template, version)) = tag.name.rsplit_once("/v")
                && let Ok(version) = Version::parse(version)
            {
                found.entry(template.to_string()).or_default().push(version);
            }
        }
    } else {
        let root = project.root(library, None);
        for file in yaml_below(&root) {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let is_flow = text.lines().any(|l| l.starts_with("steps:"));
            if let (Some(version), true, Ok(rel)) =
                (version_in(&text), is_flow, file.strip_prefix(&root))
            {
                let rel = rel.with_extension("");
                found
                    .entry(rel.to_string_lossy().replace('\\', "/"))
                    .or_default()
                    .push(version);
            }
        }
    }
    for versions in found.values_mut() {
        versions.sort();
    }
    Some(found)
}

fn show(args: &ShowArgs, colors: Colors) -> Result<Exit, Failure> {
    let (project, lock) = match super::lock::project(&args.project, colors)? {
        Ok(read) => read,
        Err(exit) => return Ok(exit),
    };
    let (name, version) = match args.name.rsplit_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (args.name.as_str(), None),
    };
    let Some((library, template)) = name.split_once(':') else {
        return Err(Failure::invalid(anyhow!(
            "`{name}` is not a template name: write `LIBRARY:PATH`, e.g. `platform:tenant/rotate-key` (`keyflow template list` shows them)"
        )));
    };
    let version = match version {
        Some(v) => Some(parse_version(v).map_err(|e| Failure::invalid(anyhow!(e)))?),
        None => lock
            .templates
            .iter()
            .filter(|e| e.library == library && e.template == template)
            .filter_map(|e| parse_version(&e.version).ok())
            .max(),
    };
    let range = version
        .as_ref()
        .map_or_else(|| "*".to_string(), |v| format!("={v}"));
    let uses = format!("{library}:{template}@{range}");
    if LibraryUse::parse(&uses).is_none_or(|u| u.is_err()) {
        return Err(Failure::invalid(anyhow!(
            "`{name}` is not a template name: write `LIBRARY:PATH`"
        )));
    }
    let resolver = Arc::new(Resolver::new(&project, LockFile::new(), Mode::Offline));
    let registry = keyflow_blocks::registry();
    let checked =
        validate::check_template(&uses, Path::new("."), None, &registry, resolver.clone());
    let template = match checked {
        Ok(template) => template,
        Err(e) => {
            errln!("{} {}", style::error_label(colors.err), e.message);
            if let Some(help) = e.help {
                errln!("  = help: {help}");
            }
            return Ok(Exit::Invalid);
        }
    };
    let document = describe(name, &template);
    if args.output == Output::Json {
        print_json(&document)?;
        return Ok(Exit::Success);
    }
    outln!(
        "{} {}  ({})",
        style::bold(colors.out, &document.name),
        document.version,
        document.title
    )?;
    if let Some(description) = &document.description {
        outln!("{}", description.trim())?;
    }
    outln!("effect: {}", document.interface.effect.name())?;
    outln!("params:")?;
    for (param, facet) in &document.interface.params {
        let required = if facet.required { ", required" } else { "" };
        let what = document
            .param_descriptions
            .get(param)
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        outln!("  {param} ({}{required}){what}", facet.ty)?;
    }
    outln!("outputs:")?;
    for (output, ty) in &document.interface.outputs {
        outln!("  {output} ({ty})")?;
    }
    outln!("file: {}", document.file)?;
    Ok(Exit::Success)
}

fn describe(name: &str, template: &Template) -> TemplateDocument {
    let plan = &template.plan;
    TemplateDocument {
        format_version: FormatVersion,
        name: name.to_string(),
        version: plan
            .version
            .as_deref()
            .and_then(|v| parse_version(v).ok())
            .map_or_else(
                || plan.version.clone().unwrap_or_default(),
                |v| v.to_string(),
            ),
        title: plan.name.clone(),
        description: plan.description.clone(),
        file: plan.source.name.clone(),
        interface: Interface::of(template),
        param_descriptions: plan
            .params
            .values()
            .filter_map(|p| Some((p.name.clone(), p.description.clone()?.trim().to_string())))
            .collect(),
    }
}
