//! The project: the `keyflow.yaml` found at a flow's folder or above, the libraries it names, its
//! `keyflow.lock`, and the local copies of the locked libraries (in the user's cache folder). Gives the
//! checker its library templates from the lock ([`templates_for`]); `keyflow lock` and `keyflow update`
//! resolve and write the lock ([`resolve`]).

pub mod args;
pub mod files;
pub mod git;
pub mod resolve;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use keyflow_engine::diagnostic::{Diagnostic, render_all};
use keyflow_engine::library::{
    Found, Library, LibraryScope, LibraryUse, LockFile, Locked, LockedTemplate, NoLibraries,
    ProjectFile, SourceError, TemplateSource, digest,
};
use keyflow_engine::source::{SourceFile, read_text};

/// The project file's name.
pub const PROJECT_FILE: &str = "keyflow.yaml";
/// The lock file's name, beside the project file.
pub const LOCK_FILE: &str = "keyflow.lock";

/// A project, read.
pub struct Project {
    /// The folder of `keyflow.yaml`; `path:` libraries are relative to it.
    pub dir: PathBuf,
    /// What `keyflow.yaml` says.
    pub file: ProjectFile,
}

/// Why a project could not be read.
pub enum ProjectError {
    /// `keyflow.yaml` or `keyflow.lock` has these problems.
    Invalid(Arc<SourceFile>, Vec<Diagnostic>),
    /// It could not be read.
    Unreadable(String),
}

impl ProjectError {
    /// The problems, rendered as `validate` renders a flow's.
    pub fn render(&self, color: bool) -> String {
        match self {
            ProjectError::Invalid(source, found) => render_all(found, source, color),
            ProjectError::Unreadable(message) => message.clone(),
        }
    }
}

impl Project {
    /// The folder at or above `dir` holding a `keyflow.yaml`.
    pub fn locate(dir: &Path) -> Option<PathBuf> {
        let start = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        start
            .ancestors()
            .find(|d| d.join(PROJECT_FILE).is_file())
            .map(|d| relative_to_cwd(d, dir))
    }

    /// Reads the project whose `keyflow.yaml` is in `dir`.
    pub fn read(dir: &Path) -> Result<Project, ProjectError> {
        let source = read_source(&dir.join(PROJECT_FILE))?;
        let file =
            ProjectFile::load(&source).map_err(|found| ProjectError::Invalid(source, found))?;
        Ok(Project {
            dir: dir.to_path_buf(),
            file,
        })
    }

    /// The lock beside `keyflow.yaml` (an empty one when there is none yet).
    pub fn lock(&self) -> Result<LockFile, ProjectError> {
        let path = self.lock_path();
        if !path.exists() {
            return Ok(LockFile::new());
        }
        let source = read_source(&path)?;
        LockFile::load(&source).map_err(|found| ProjectError::Invalid(source, found))
    }

    /// Where the lock is.
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    /// The root folder of `library` when its `version` (at `commit`, for git) is on this machine.
    pub fn root(&self, library: &Library, commit: Option<&str>) -> PathBuf {
        root(&self.dir, library, commit)
    }
}

/// Where a library's files are: a git library's copy of `commit` in the cache (with its subdirectory),
/// or a directory library's folder.
fn root(project_dir: &Path, library: &Library, commit: Option<&str>) -> PathBuf {
    match (&library.git, &library.path) {
        (Some(url), _) => {
            let copy = cache_of(url).join(commit.unwrap_or("unknown"));
            match &library.subdirectory {
                Some(sub) => copy.join(sub),
                None => copy,
            }
        }
        (None, Some(path)) => clean(&project_dir.join(path)),
        (None, None) => project_dir.to_path_buf(),
    }
}

/// `flows/./templates` → `flows/templates`, `./x` → `x`: paths as a user would write them.
pub fn clean(path: &Path) -> PathBuf {
    let cleaned: PathBuf = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

/// The cache folder of a git library: `$XDG_CACHE_HOME/keyflow/libraries/<hash of its URL>` (else under
/// `~/.cache`), holding the mirror `repo.git` and one folder per commit copied out of it.
pub fn cache_of(url: &str) -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let id = digest::of_bytes(url.as_bytes());
    let id = id.trim_start_matches("sha256:");
    base.join("keyflow")
        .join("libraries")
        .join(id.get(..16).unwrap_or(id))
}

/// `dir` as the user would write it: relative when `start` was.
fn relative_to_cwd(found: &Path, start: &Path) -> PathBuf {
    if start.is_absolute() {
        return found.to_path_buf();
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    match found.strip_prefix(&cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => found.to_path_buf(),
    }
}

fn read_source(path: &Path) -> Result<Arc<SourceFile>, ProjectError> {
    let text = read_text(path).map_err(|e| ProjectError::Unreadable(e.to_string()))?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

/// The library templates for flows in `dir`: from the lock of the project at or above it, read when a
/// flow first names a library (a flow that names none does not need a valid project).
pub fn templates_for(dir: &Path) -> Arc<dyn TemplateSource> {
    Arc::new(ProjectTemplates {
        start: dir.to_path_buf(),
        locked: OnceLock::new(),
    })
}

struct ProjectTemplates {
    start: PathBuf,
    locked: OnceLock<Result<Box<dyn TemplateSource>, SourceError>>,
}

impl TemplateSource for ProjectTemplates {
    fn find(&self, uses: &str, wanted: &LibraryUse) -> Result<Found, SourceError> {
        match self.locked.get_or_init(|| locked(&self.start)) {
            Ok(source) => source.find(uses, wanted),
            Err(e) => Err(e.clone()),
        }
    }

    fn library_of(&self, file: &Path) -> Option<Arc<LibraryScope>> {
        let dir = Project::locate(&self.start)?;
        let project = Project::read(&dir).ok()?;
        directory_library_of(&project.dir, &project.file.libraries, file)
    }
}

/// The directory library (of a project in `project_dir`) whose folder holds `file`.
pub fn directory_library_of(
    project_dir: &Path,
    libraries: &indexmap::IndexMap<String, Library>,
    file: &Path,
) -> Option<Arc<LibraryScope>> {
    let file = file.canonicalize().ok()?;
    libraries.iter().find_map(|(name, library)| {
        let path = library.path.as_ref()?;
        let root = project_dir.join(path);
        let real = root.canonicalize().ok()?;
        file.starts_with(&real).then(|| {
            Arc::new(LibraryScope {
                name: name.clone(),
                root,
            })
        })
    })
}

/// The lock-backed source of the project at or above `start`.
fn locked(start: &Path) -> Result<Box<dyn TemplateSource>, SourceError> {
    let Some(dir) = Project::locate(start) else {
        return Ok(Box::new(NoLibraries));
    };
    let invalid = |e: ProjectError| SourceError {
        message: match &e {
            ProjectError::Invalid(source, found) => format!(
                "`{}` has {} problem{}",
                source.name,
                found.len(),
                if found.len() == 1 { "" } else { "s" }
            ),
            ProjectError::Unreadable(message) => message.clone(),
        },
        help: match &e {
            ProjectError::Invalid(..) => Some(e.render(false)),
            ProjectError::Unreadable(_) => None,
        },
    };
    let project = Project::read(&dir).map_err(invalid)?;
    let lock = project.lock().map_err(invalid)?;
    let project_dir = project.dir.clone();
    let root_of = Box::new(move |entry: &LockedTemplate| {
        root(&project_dir, &entry.source, entry.commit.as_deref())
    });
    Ok(Box::new(Locked::new(project.file, lock, root_of)))
}

/// The `.yaml` / `.yml` files below `dir` (not `keyflow.yaml`, not hidden folders), sorted.
pub fn yaml_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == PROJECT_FILE {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
