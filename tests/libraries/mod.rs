//! Template libraries end to end: real git repositories made in temporary folders and reached over
//! `file://`, a project with `keyflow.yaml` calling their templates, and `keyflow lock`, `update`,
//! `validate`, `run` and `template list|show|check` as a user runs them.

mod check;
mod lock;
mod project;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Ran, keyflow, path_str};

/// A git repository in a temporary folder: a library's, as its owners publish it.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo
    }

    /// `file://…`, as keyflow.yaml names it.
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository; panics when it fails.
    pub fn git(&self, args: &[&str]) -> String {
        let output = Command::new("git")
            .args([
                "-c",
                "user.name=keyflow tests",
                "-c",
                "user.email=tests@keyflow.invalid",
            ])
            .args(["-c", "tag.gpgSign=false", "-c", "commit.gpgSign=false"])
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("git");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Writes `file` (relative to the repository).
    pub fn write(&self, file: &str, text: &str) -> &Repo {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
        self
    }

    /// Commits everything and tags the commit `tag` (annotated, as release tooling does); the commit.
    pub fn publish(&self, tag: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", tag]);
        self.git(&["tag", "-a", "-m", tag, tag]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// A project calling libraries: its folder (with `keyflow.yaml`) and its own cache folder.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

impl Project {
    /// A project whose keyflow.yaml has `libraries` (the YAML of the mapping's entries).
    pub fn new(libraries: &str) -> Project {
        let project = Project {
            dir: tempfile::tempdir().expect("tempdir"),
            cache: tempfile::tempdir().expect("tempdir"),
        };
        project.write(
            "keyflow.yaml",
            &format!("format_version: 1\nlibraries:\n{libraries}"),
        );
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, file: &str, text: &str) -> PathBuf {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        path
    }

    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join(file)).unwrap_or_default()
    }

    /// `keyflow ARGS` in the project's folder, with its cache.
    pub fn keyflow(&self, args: &[&str]) -> Ran {
        keyflow()
            .args(args)
            .current_dir(self.path())
            .env("XDG_CACHE_HOME", self.cache.path())
            .output()
            .expect("run keyflow")
            .into()
    }

    /// `keyflow run FILE --output json -q`: the exit code and report.
    pub fn run(&self, file: &str) -> (i32, serde_json::Value, Ran) {
        let ran = self.keyflow(&["run", file, "--output", "json", "-q"]);
        let report = serde_json::from_str(&ran.stdout).unwrap_or(serde_json::Value::Null);
        (ran.code, report, ran)
    }

    /// The cache's copy of a library's commit: the whole repository (a `subdirectory:` is a folder of it).
    pub fn cached(&self, commit: &str) -> PathBuf {
        walk(self.cache.path())
            .into_iter()
            .find(|p| p.file_name().is_some_and(|n| n == commit))
            .expect("the commit is in the cache")
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.push(path.clone());
            if path.extension().is_none_or(|e| e != "git") {
                found.extend(walk(&path));
            }
        }
    }
    found
}

/// A template: `greet`, with a `who` param and a `greeting` output, at `version`.
pub fn greet(version: &str) -> String {
    format!(
        "name: greet\nversion: {version}\nparams:\n  who: {{ type: string, default: world }}\nsteps:\n  - id: say\n    block: core.set\n    with: {{ greeting: \"hello, {{{{params.who}}}}\" }}\noutputs:\n  greeting: $.steps.say.output.greeting\n"
    )
}

/// A flow calling `uses` with `who: team`, its output the template's greeting.
pub fn caller(uses: &str) -> String {
    format!(
        "name: caller\nsteps:\n  - id: hi\n    uses: {uses}\n    with: {{ who: team }}\noutputs:\n  greeting: $.steps.hi.output.greeting\n"
    )
}

/// A library entry of keyflow.yaml for a git repository.
pub fn git_library(name: &str, repo: &Repo) -> String {
    format!("  {name}: {{ git: \"{}\" }}\n", repo.url())
}

/// The path as a `&str`.
pub fn s(path: &Path) -> &str {
    path_str(path)
}
