//! Pass: `uses:` steps. Each template is found — beside the file that uses it (`uses: ./x.yaml`), or in a
//! library through the [`TemplateSource`] the caller gave (`uses: platform:tenant/rotate-key@^1.2`) —
//! checked as a flow of its own, and becomes a [`Call::Template`] with the interface of a block: its
//! params are the inputs (so `with:` is checked as any block's input), its outputs the output (so
//! references into it are checked), and its steps' strongest effect is the effect (so a template that
//! deletes keys needs `confirm: true` where it is used).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::block::Registry;
use crate::diagnostic::{At, Diagnostic, Kind, render_each};
use crate::library::{LibraryScope, LibraryUse, NoLibraries, TemplateSource};
use crate::model::Step;
use crate::plan::{Call, Plan, Template};
use crate::source::{ReadError, SourceFile, YamlPath, read_text};

/// Templates using templates deeper than this are refused (a cycle through symlinks, say).
const MAX_DEPTH: usize = 8;

/// The template files being checked, outermost first (a template may not use itself, even indirectly),
/// and what checking each template gave, shared by every use of it under one top-level check: a template
/// used ten times by each of five nested templates is read and checked once per depth, not 10^5 times.
pub(crate) struct Stack {
    chain: Vec<PathBuf>,
    checked: Rc<RefCell<HashMap<(PathBuf, usize), Checked>>>,
    /// Where the templates of libraries come from.
    templates: Arc<dyn TemplateSource>,
    /// The library of the file being checked, when it is a library's template: its `uses: ./…` stay in it.
    pub(crate) library: Option<Arc<LibraryScope>>,
}

impl Default for Stack {
    fn default() -> Stack {
        Stack::new(Arc::new(NoLibraries))
    }
}

impl Stack {
    /// A top-level check whose library templates come from `templates`.
    pub(crate) fn new(templates: Arc<dyn TemplateSource>) -> Stack {
        Stack {
            chain: Vec::new(),
            checked: Rc::default(),
            templates,
            library: None,
        }
    }
}

/// What checking one template file gave: its plan, or the problem to report at each use.
type Checked = Result<Arc<Plan>, Problem>;

/// A problem with a template, reported at the `uses:` of every step that names it.
#[derive(Clone)]
struct Problem {
    message: String,
    help: Option<String>,
}

/// A template file found for a `uses:`: where it is, its text when the source already read it, and
/// its library.
struct Located {
    path: PathBuf,
    text: Option<String>,
    library: Option<Arc<LibraryScope>>,
}

/// What each step calls: the registry's block, or its template; `None` when neither is known.
pub(crate) fn resolve(
    steps: &[Step],
    source: &SourceFile,
    registry: &Registry,
    stack: &Stack,
    out: &mut Vec<Diagnostic>,
) -> Vec<Option<Call>> {
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let at = YamlPath::root().key("steps").index(i);
            match (&step.block, &step.uses) {
                (Some(block), None) => {
                    if !step.connections.is_empty() {
                        out.push(uses_error(
                            "`connections:` on a step replaces a template's connections; this step calls a block",
                            Some("name the connection to use with `connection:`".into()),
                            &at.key("connections"),
                            true,
                        ));
                    }
                    registry.get(block).cloned().map(Call::Block)
                }
                (None, Some(uses)) => template(uses, source, registry, stack, &at, out)
                    .map(|t| Call::Template(Arc::new(t))),
                (Some(_), Some(_)) => {
                    out.push(uses_error(
                        "a step has either `block:` or `uses:`, not both",
                        None,
                        &at.key("uses"),
                        true,
                    ));
                    None
                }
                (None, None) => {
                    out.push(uses_error(
                        "a step needs `block:` (a block to call) or `uses:` (a template to run)",
                        Some("`keyflow blocks list` shows every block".into()),
                        &at.key("id"),
                        true,
                    ));
                    None
                }
            }
        })
        .collect()
}

fn uses_error(message: &str, help: Option<String>, at: &YamlPath, key: bool) -> Diagnostic {
    let kind = Kind::Check {
        code: "invalid-uses",
        message: message.to_string(),
        help,
    };
    if key {
        Diagnostic::key(kind, at)
    } else {
        Diagnostic::value(kind, at)
    }
}

/// Reads and checks the template of one step.
fn template(
    uses: &str,
    source: &SourceFile,
    registry: &Registry,
    stack: &Stack,
    at: &YamlPath,
    out: &mut Vec<Diagnostic>,
) -> Option<Template> {
    let here = at.key("uses");
    let located = match locate(uses, source, stack) {
        Ok(located) => located,
        Err(problem) => {
            out.push(uses_error(&problem.message, problem.help, &here, false));
            return None;
        }
    };
    let path = &located.path;
    let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
    if stack.chain.contains(&canonical) || stack.chain.len() >= MAX_DEPTH {
        let chain: Vec<String> = stack
            .chain
            .iter()
            .chain(std::iter::once(&canonical))
            .map(|p| format!("`{}`", p.display()))
            .collect();
        out.push(uses_error(
            &format!("templates use each other: {}", chain.join(" -> ")),
            None,
            &here,
            false,
        ));
        return None;
    }
    let key = (canonical, stack.chain.len());
    let known = stack.checked.borrow().get(&key).cloned();
    let checked = match known {
        Some(checked) => checked,
        None => {
            let checked = check_file(located, &key.0, registry, stack);
            stack.checked.borrow_mut().insert(key, checked.clone());
            checked
        }
    };
    match checked {
        Ok(plan) => Some(super::template_interface::interface_of(uses, plan)),
        Err(problem) => {
            out.push(uses_error(&problem.message, problem.help, &here, false));
            None
        }
    }
}

/// The template `uses` names, read as if written in a flow in the folder `base` (of the library `library`,
/// when given), checked, with its interface: what `keyflow template show|check` print.
pub(crate) fn one(
    uses: &str,
    base: &Path,
    library: Option<Arc<LibraryScope>>,
    registry: &Registry,
    templates: Arc<dyn TemplateSource>,
) -> Result<Template, crate::library::SourceError> {
    let mut stack = Stack::new(templates);
    stack.library = library;
    let caller = SourceFile::new(base.join("caller.yaml").display().to_string(), "");
    let mut out = Vec::new();
    match template(uses, &caller, registry, &stack, &YamlPath::root(), &mut out) {
        Some(found) => Ok(found),
        None => Err(match out.into_iter().next().map(|d| d.kind) {
            Some(Kind::Check { message, help, .. }) => {
                crate::library::SourceError { message, help }
            }
            other => crate::library::SourceError {
                message: other.map_or_else(|| format!("cannot read `{uses}`"), |k| k.message()),
                help: None,
            },
        }),
    }
}

/// Finds the template `uses` names: in a library (`NAME:PATH@RANGE`), through the stack's source; else
/// the file relative to the one that uses it — inside its library, when that file is a library's.
fn locate(uses: &str, source: &SourceFile, stack: &Stack) -> Result<Located, Problem> {
    match LibraryUse::parse(uses) {
        Some(Err(message)) => Err(Problem {
            message,
            help: Some("a library's template is `uses: NAME:PATH@RANGE`, e.g. `platform:tenant/rotate-key@^1.2`".into()),
        }),
        Some(Ok(wanted)) => {
            let found = stack.templates.find(uses, &wanted).map_err(|e| Problem {
                message: e.message,
                help: e.help,
            })?;
            Ok(Located {
                path: found.path,
                text: Some(found.text),
                library: Some(found.library),
            })
        }
        None => {
            let path = tidy(&source.dir().join(uses));
            if let Some(library) = &stack.library {
                let root = library.root.canonicalize().unwrap_or_else(|_| library.root.clone());
                let inside = path
                    .canonicalize()
                    .map_or_else(|_| tidy(&path).starts_with(&library.root), |p| p.starts_with(&root));
                if !inside {
                    return Err(Problem {
                        message: format!(
                            "`{uses}` leads out of the library `{}`",
                            library.name
                        ),
                        help: Some("a library's template uses templates of its own library by relative path, and those of other libraries by `NAME:PATH@RANGE`".into()),
                    });
                }
            }
            Ok(Located {
                path,
                text: None,
                library: stack.library.clone(),
            })
        }
    }
}

/// Reads (unless its source did) and checks one template file.
fn check_file(located: Located, canonical: &Path, registry: &Registry, stack: &Stack) -> Checked {
    let path = located.path.as_path();
    let text = match located.text {
        Some(text) => text,
        None => read_text(path).map_err(|e| Problem {
            message: match e {
                ReadError::Io { path, kind } => {
                    format!("cannot read template `{}`: {kind}", path.display())
                }
                other => format!("cannot read template: {other}"),
            },
            help: Some(
                "a template path is relative to the file that uses it, e.g. `./templates/onboard-tenant.yaml`"
                    .into(),
            ),
        })?,
    };
    let template_source = SourceFile::new(path.display().to_string(), text);
    let mut chain = stack.chain.clone();
    chain.push(canonical.to_path_buf());
    let inner = Stack {
        chain,
        checked: stack.checked.clone(),
        templates: stack.templates.clone(),
        library: located.library.clone(),
    };
    let plan = match super::checked_load(template_source.clone(), registry, &inner) {
        Ok(plan) => plan,
        Err(super::Nested::NotAFlow(found)) => {
            return Err(not_a_flow(path, &template_source, &found));
        }
        Err(super::Nested::Invalid(mut found)) => {
            // What keeps it from being used; its warnings are for its own check to show.
            found.retain(Diagnostic::is_error);
            let problems: Vec<String> = render_each(&found, &template_source, false)
                .into_iter()
                .map(|r| r.text)
                .collect();
            return Err(Problem {
                message: format!(
                    "template `{}` has {} problem{}",
                    path.display(),
                    found.len(),
                    if found.len() == 1 { "" } else { "s" }
                ),
                help: Some(problems.join("\n")),
            });
        }
    };
    if plan.version.is_none() {
        return Err(Problem {
            message: format!("template `{}` has no `version`", path.display()),
            help: Some("give the template `version: \"1.0\"`, so that the flows using it can say which one they were reviewed with".into()),
        });
    }
    Ok(Arc::new(plan))
}

/// A file named by `uses:` that does not read as a flow. What the reader said is left out, as it may
/// quote the file (`uses: /etc/passwd`); where it stopped is enough to find the problem.
fn not_a_flow(path: &Path, source: &SourceFile, found: &[Diagnostic]) -> Problem {
    let first = found.first();
    let what = match first.map(|d| &d.kind) {
        _ if source.text.trim().is_empty() => "it is empty",
        Some(Kind::YamlSyntax { .. }) => "it is not valid YAML",
        _ => "it is not a flow (a mapping with `name`, `version` and `steps`)",
    };
    let position = match first.map(|d| &d.at) {
        Some(At::Pos(pos)) => format!(" (line {}, column {})", pos.line, pos.col),
        _ => String::new(),
    };
    Problem {
        message: format!("`{}` is not a template: {what}{position}", path.display()),
        help: Some("`uses:` names a flow file with `version`, `params` and `outputs`, e.g. `./templates/onboard-tenant.yaml`; its contents are not shown".into()),
    }
}

/// `flows/./templates/../x.yaml` → `flows/x.yaml`, so that messages show the path a user would write.
fn tidy(path: &Path) -> PathBuf {
    let mut tidy = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if tidy.file_name().is_some_and(|n| n != "..") => {
                tidy.pop();
            }
            other => tidy.push(other),
        }
    }
    tidy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_tidy() {
        assert_eq!(
            tidy(Path::new("flows/./templates/../x.yaml")),
            PathBuf::from("flows/x.yaml")
        );
        assert_eq!(tidy(Path::new("./x.yaml")), PathBuf::from("x.yaml"));
        assert_eq!(tidy(Path::new("../x.yaml")), PathBuf::from("../x.yaml"));
    }
}
