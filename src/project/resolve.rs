//! Resolving library `uses:` for `keyflow lock`, `keyflow update` and `keyflow template list|show`: the
//! highest version a range allows (a git library's tags `<template path>/v<version>`, a directory
//! library's `version:`), the commit its tag names, the files its template reads and their hashes.
//!
//! A [`Resolver`] is the checker's [`TemplateSource`] while the project's flows are checked, so every
//! template is resolved where a flow (or a template) uses it, transitively, and every call site is
//! checked against the interface of the version resolved before anything is written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use keyflow_engine::library::{
    Found, Interface, Library, LibraryScope, LibraryUse, LockFile, LockedTemplate, SourceError,
    TemplateSource, digest, parse_version,
};
use keyflow_engine::plan::{Call, Plan, Template};
use keyflow_engine::source::read_text;
use semver::Version;

use super::git::{Mirror, Tag};
use super::{Project, cache_of, files};

/// How a resolver reaches libraries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `keyflow lock`: fetch the libraries' tags; keep what the lock pins, resolve what it lacks.
    Lock,
    /// `keyflow update [NAME]`: fetch, and resolve again every template (of library NAME).
    Update(Option<String>),
    /// `keyflow template list|show`: no network, only what earlier fetches brought.
    Offline,
}

/// What a `uses:` was resolved to.
#[derive(Debug, Clone)]
pub struct Pick {
    pub library: String,
    pub source: Library,
    pub template: String,
    pub version: Version,
    pub tag: Option<String>,
    pub commit: Option<String>,
    /// The library's root on this machine.
    pub root: PathBuf,
}

#[derive(Default)]
struct State {
    /// Each git library's tags, fetched once per command.
    tags: HashMap<String, Result<Vec<Tag>, SourceError>>,
    picks: IndexMap<String, Pick>,
    /// A library that could not be reached: the command fails as the environment's failure.
    unreachable: Option<String>,
}

/// Resolves library `uses:` for the checker.
pub struct Resolver {
    project_dir: PathBuf,
    libraries: IndexMap<String, Library>,
    old: LockFile,
    mode: Mode,
    state: Mutex<State>,
}

impl Resolver {
    /// A resolver for `project`, whose current lock is `old`.
    pub fn new(project: &Project, old: LockFile, mode: Mode) -> Resolver {
        Resolver {
            project_dir: project.dir.clone(),
            libraries: project.file.libraries.clone(),
            old,
            mode,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The library that could not be reached, with what git said.
    pub fn unreachable(&self) -> Option<String> {
        self.state().unreachable.clone()
    }

    /// What each `uses:` was resolved to, in the order first met.
    pub fn picks(&self) -> IndexMap<String, Pick> {
        self.state().picks.clone()
    }

    /// The tags of the git library at `url`: fetched once (except offline), then read from the mirror.
    fn tags(&self, name: &str, url: &str) -> Result<Vec<Tag>, SourceError> {
        if let Some(known) = self.state().tags.get(url) {
            return known.clone();
        }
        let mirror = Mirror::at(cache_of(url).join("repo.git"));
        let fetched = if self.mode == Mode::Offline {
            Ok(())
        } else {
            mirror.fetch(url)
        };
        let tags = fetched.and_then(|()| mirror.tags()).map_err(|e| {
            let message = format!("cannot reach library `{name}` at `{url}`: {e}");
            self.state().unreachable.get_or_insert(message.clone());
            SourceError {
                message,
                help: Some(format!(
                    "check `{name}`'s URL in keyflow.yaml, and that `git ls-remote {url}` works for you: keyflow reaches libraries with your own git, its credentials and SSH keys"
                )),
            }
        });
        self.state().tags.insert(url.to_string(), tags.clone());
        tags
    }

    fn updating(&self, library: &str) -> bool {
        match &self.mode {
            Mode::Update(None) => true,
            Mode::Update(Some(name)) => name == library,
            Mode::Lock | Mode::Offline => false,
        }
    }

    fn pick(&self, uses: &str, wanted: &LibraryUse) -> Result<Pick, SourceError> {
        let name = &wanted.library;
        let Some(library) = self.libraries.get(name) else {
            let known: Vec<String> = self.libraries.keys().map(|n| format!("`{n}`")).collect();
            return Err(fail(
                format!("`{uses}`: keyflow.yaml names no library `{name}`"),
                if known.is_empty() {
                    "add it under `libraries:` in keyflow.yaml".into()
                } else {
                    format!(
                        "it names {}; add `{name}` under `libraries:`",
                        known.join(", ")
                    )
                },
            ));
        };
        let locked = self
            .old
            .get(uses)
            .filter(|e| &e.source == library && !self.updating(name));
        let mut pick = Pick {
            library: name.clone(),
            source: library.clone(),
            template: wanted.template.clone(),
            version: Version::new(0, 0, 0),
            tag: None,
            commit: None,
            root: PathBuf::new(),
        };
        match (&library.git, &library.path) {
            (Some(url), _) => {
                let tags = self.tags(name, url)?;
                let (version, tag) = match locked {
                    Some(entry) => {
                        let tag = entry.tag.clone().unwrap_or_default();
                        let commit = entry.commit.clone().unwrap_or_default();
                        match tags.iter().find(|t| t.name == tag) {
                            Some(now) if now.commit != commit => {
                                return Err(fail(
                                    format!(
                                        "tag `{tag}` of library `{name}` moved: keyflow.lock pinned commit {}, the library now says {}",
                                        short(&commit),
                                        short(&now.commit)
                                    ),
                                    format!(
                                        "a published version must not change; if the library's owners meant it, review the change and run `keyflow update {name}`"
                                    ),
                                ));
                            }
                            Some(now) => (version_of_entry(entry)?, now.clone()),
                            None => {
                                return Err(fail(
                                    format!(
                                        "tag `{tag}` of the locked `{uses}` is gone from library `{name}`"
                                    ),
                                    format!(
                                        "run `keyflow update {name}` to choose another version"
                                    ),
                                ));
                            }
                        }
                    }
                    None => highest(uses, wanted, &tags)?,
                };
                let copy = cache_of(url).join(&tag.commit);
                Mirror::at(cache_of(url).join("repo.git"))
                    .checkout(&tag.commit, &copy)
                    .map_err(|e| {
                        fail(
                            format!("cannot copy library `{name}` at {}: {e}", tag.name),
                            "run `keyflow lock` again; delete the folder named to start afresh"
                                .into(),
                        )
                    })?;
                pick.root = match &library.subdirectory {
                    Some(sub) => copy.join(sub),
                    None => copy,
                };
                pick.version = version;
                pick.tag = Some(tag.name);
                pick.commit = Some(tag.commit);
            }
            (None, Some(path)) => {
                pick.root = super::clean(&self.project_dir.join(path));
                let file = pick.root.join(wanted.file());
                let version = declared_version(&file)?;
                match locked {
                    Some(entry) if entry.version != version.to_string() => {
                        return Err(fail(
                            format!(
                                "library `{name}` now holds `{}` {version}, but keyflow.lock pinned {}",
                                wanted.template, entry.version
                            ),
                            format!("run `keyflow update {name}` to lock the version it holds"),
                        ));
                    }
                    Some(_) => {}
                    None if !wanted.range.matches(&version) => {
                        return Err(fail(
                            format!(
                                "library `{name}` holds `{}` {version}, which `{}` does not allow",
                                wanted.template, wanted.range
                            ),
                            "a directory library serves the version it holds: change the range, or the library".into(),
                        ));
                    }
                    None => {}
                }
                pick.version = version;
            }
            (None, None) => {
                return Err(fail(
                    format!("library `{name}` has neither `git:` nor `path:`"),
                    "fix keyflow.yaml".into(),
                ));
            }
        }
        let declared = declared_version(&pick.root.join(wanted.file()))?;
        if declared != pick.version {
            return Err(fail(
                format!(
                    "`{uses}`: the tag says {} but the template's `version:` says {declared}",
                    pick.version
                ),
                "the library's owners tag each version `<template path>/v<its version:>`".into(),
            ));
        }
        Ok(pick)
    }

    /// The lock's entries for what was resolved, given the plans of the project's flows (every
    /// template they reach is in them, checked).
    pub fn entries(&self, plans: &[Plan]) -> Result<Vec<LockedTemplate>, String> {
        let mut templates = IndexMap::new();
        for plan in plans {
            templates_in(plan, &mut templates);
        }
        let mut entries = Vec::new();
        for (uses, pick) in self.picks() {
            let Some(template) = templates.get(&uses) else {
                continue;
            };
            entries.push(entry(&uses, &pick, template)?);
        }
        Ok(entries)
    }
}

impl TemplateSource for Resolver {
    fn find(&self, uses: &str, wanted: &LibraryUse) -> Result<Found, SourceError> {
        let known = self.state().picks.get(uses).cloned();
        let pick = match known {
            Some(pick) => pick,
            None => {
                let pick = self.pick(uses, wanted)?;
                self.state().picks.insert(uses.to_string(), pick.clone());
                pick
            }
        };
        let path = pick.root.join(wanted.file());
        let text = read_text(&path).map_err(|e| {
            fail(
                format!("cannot read `{uses}`: {e}"),
                "run `keyflow lock` again".into(),
            )
        })?;
        Ok(Found {
            path,
            text,
            library: Arc::new(LibraryScope {
                name: pick.library,
                root: pick.root,
            }),
        })
    }

    fn library_of(&self, file: &Path) -> Option<Arc<LibraryScope>> {
        super::directory_library_of(&self.project_dir, &self.libraries, file)
    }
}

/// The lock entry of `uses`, resolved to `pick`, whose checked template is `template`.
pub fn entry(uses: &str, pick: &Pick, template: &Template) -> Result<LockedTemplate, String> {
    let mut hashes = IndexMap::new();
    for file in files::read_by(template, &pick.root)? {
        let hash = digest::of_file(&pick.root.join(&file)).map_err(|e| e.to_string())?;
        hashes.insert(file, hash);
    }
    let interface = Interface::of(template);
    Ok(LockedTemplate {
        uses: uses.to_string(),
        library: pick.library.clone(),
        source: pick.source.clone(),
        template: pick.template.clone(),
        version: pick.version.to_string(),
        tag: pick.tag.clone(),
        commit: pick.commit.clone(),
        hash: digest::of_files(&hashes),
        files: hashes,
        interface_hash: interface.hash(),
        interface,
    })
}

/// Every library template `plan` reaches, by its `uses:`.
fn templates_in(plan: &Plan, found: &mut IndexMap<String, Arc<Template>>) {
    for step in &plan.steps {
        if let Call::Template(template) = &step.call {
            if LibraryUse::parse(template.spec.id).is_some() {
                found.insert(template.spec.id.to_string(), template.clone());
            }
            templates_in(&template.plan, found);
        }
    }
}

/// The highest version of `wanted` among `tags` that its range allows.
fn highest(uses: &str, wanted: &LibraryUse, tags: &[Tag]) -> Result<(Version, Tag), SourceError> {
    let prefix = format!("{}/v", wanted.template);
    let mut versions: Vec<(Version, &Tag)> = tags
        .iter()
        .filter_map(|t| {
            let version = Version::parse(t.name.strip_prefix(&prefix)?).ok()?;
            Some((version, t))
        })
        .collect();
    versions.sort_by(|a, b| a.0.cmp(&b.0));
    let best = versions
        .iter()
        .rev()
        .find(|(v, _)| wanted.range.matches(v))
        .map(|(v, t)| (v.clone(), (*t).clone()));
    best.ok_or_else(|| {
        let available: Vec<String> = versions.iter().map(|(v, _)| v.to_string()).collect();
        fail(
            format!("no version of `{}` in library `{}` matches `{}`", wanted.template, wanted.library, wanted.range),
            if available.is_empty() {
                format!("the library has no tag `{prefix}<version>`: its owners publish each version as such a tag ({uses})")
            } else {
                format!("it has {}", available.join(", "))
            },
        )
    })
}

/// The `version:` a template file declares.
pub fn declared_version(file: &Path) -> Result<Version, SourceError> {
    let text = read_text(file).map_err(|e| {
        fail(
            format!("cannot read template: {e}"),
            "check the template path in `uses:`".into(),
        )
    })?;
    version_in(&text).ok_or_else(|| {
        fail(
            format!(
                "`{}` has no `version:` that reads as a semantic version",
                file.display()
            ),
            "a library's template says its version, e.g. `version: 1.2.0`".into(),
        )
    })
}

/// The `version:` of a flow's text, when it has one that reads.
pub fn version_in(text: &str) -> Option<Version> {
    let document: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    let version = match document.get("version")? {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    parse_version(&version).ok()
}

fn version_of_entry(entry: &LockedTemplate) -> Result<Version, SourceError> {
    parse_version(&entry.version)
        .map_err(|e| fail(format!("keyflow.lock: {e}"), "run `keyflow update`".into()))
}

fn fail(message: String, help: String) -> SourceError {
    SourceError {
        message,
        help: Some(help),
    }
}

/// The first 12 characters of a commit id.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
