//! The user's own `git`, the only way keyflow reaches a library: credentials, SSH keys and proxies work as
//! the user configured them, and keyflow stores none. Each library URL has a bare repository in the cache
//! holding its tags; a commit is copied out of it into a folder of its own, once.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tag of a library's repository and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// `tenant/rotate-key/v1.2.0`.
    pub name: String,
    /// The commit, peeled through an annotated tag.
    pub commit: String,
}

/// What `git` said when it failed.
#[derive(Debug, Clone)]
pub struct GitError {
    /// The command, as the user could run it.
    pub command: String,
    /// git's own message (its last lines), or why git could not be started.
    pub message: String,
}

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` failed: {}", self.command, self.message)
    }
}

/// Runs git with `args`; its standard output, or what it said.
fn git(args: &[&str], index: Option<&Path>) -> Result<String, GitError> {
    let mut command = Command::new("git");
    command.args(args);
    if let Some(index) = index {
        command.env("GIT_INDEX_FILE", index);
    }
    let shown = format!("git {}", args.join(" "));
    let output = command.output().map_err(|e| GitError {
        command: shown.clone(),
        message: format!("cannot start git ({e}); install git, keyflow uses it to reach libraries"),
    })?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    Err(GitError {
        command: shown,
        message: lines[lines.len().saturating_sub(3)..].join(" / "),
    })
}

/// The bare repository that caches `url`'s tags.
pub struct Mirror {
    /// Its git directory.
    pub dir: PathBuf,
}

impl Mirror {
    /// The mirror kept in `dir` (made on first fetch).
    pub fn at(dir: PathBuf) -> Mirror {
        Mirror { dir }
    }

    fn git_dir(&self) -> String {
        format!("--git-dir={}", self.dir.display())
    }

    /// Fetches every tag of `url` (moved tags move, deleted ones go).
    pub fn fetch(&self, url: &str) -> Result<(), GitError> {
        if !self.dir.join("HEAD").is_file() {
            std::fs::create_dir_all(&self.dir).map_err(|e| GitError {
                command: format!("mkdir {}", self.dir.display()),
                message: e.to_string(),
            })?;
            git(
                &["init", "--bare", "--quiet", &self.dir.display().to_string()],
                None,
            )?;
        }
        git(
            &[
                &self.git_dir(),
                "fetch",
                "--quiet",
                "--no-tags",
                "--force",
                "--prune",
                "--",
                url,
                "+refs/tags/*:refs/tags/*",
            ],
            None,
        )?;
        Ok(())
    }

    /// The tags fetched so far (none before the first fetch).
    pub fn tags(&self) -> Result<Vec<Tag>, GitError> {
        if !self.dir.join("HEAD").is_file() {
            return Ok(Vec::new());
        }
        let listed = git(
            &[
                &self.git_dir(),
                "for-each-ref",
                "refs/tags",
                "--format=%(refname:strip=2) %(objectname) %(*objectname)",
            ],
            None,
        )?;
        Ok(listed
            .lines()
            .filter_map(|line| {
                let mut parts = line.split(' ');
                let name = parts.next()?.to_string();
                let object = parts.next()?;
                let commit = parts.next().filter(|p| !p.is_empty()).unwrap_or(object);
                Some(Tag {
                    name,
                    commit: commit.to_string(),
                })
            })
            .collect())
    }

    /// The files of `commit`, copied into `dest` (once: an existing `dest` is that commit already).
    pub fn checkout(&self, commit: &str, dest: &Path) -> Result<(), GitError> {
        if dest.is_dir() {
            return Ok(());
        }
        copy_tree(&self.git_dir(), commit, dest)
    }
}

/// Copies the tree of `rev` of the repository `git_dir` (`--git-dir=…`) into `dest`, through a folder of
/// its own renamed into place, so that a copy cut short is never taken for a whole one. The repository's
/// own index and work tree are not touched.
fn copy_tree(git_dir: &str, rev: &str, dest: &Path) -> Result<(), GitError> {
    let io = |what: &str, e: std::io::Error| GitError {
        command: format!("{what} {}", dest.display()),
        message: e.to_string(),
    };
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| io("mkdir", e))?;
    let partial = parent.join(format!(
        ".partial-{}-{}",
        std::process::id(),
        dest.file_name().and_then(|n| n.to_str()).unwrap_or("tree")
    ));
    let index = parent.join(format!(".index-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|e| io("mkdir", e))?;
    // The copy is the work tree of this one command: a bare mirror has none of its own.
    let work_tree = format!("--work-tree={}", partial.display());
    let copied = git(&[git_dir, &work_tree, "read-tree", rev], Some(&index)).and_then(|_| {
        git(
            &[git_dir, &work_tree, "checkout-index", "--all", "--force"],
            Some(&index),
        )
    });
    let _ = std::fs::remove_file(&index);
    if let Err(e) = copied {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&partial, dest) {
        let _ = std::fs::remove_dir_all(&partial);
        if !dest.is_dir() {
            return Err(io("rename into", e));
        }
    }
    Ok(())
}

/// The top folder of the git work tree holding `dir`.
pub fn top_level(dir: &Path) -> Result<PathBuf, GitError> {
    let dir = dir.display().to_string();
    git(&["-C", &dir, "rev-parse", "--show-toplevel"], None).map(|t| PathBuf::from(t.trim()))
}

/// The files of `rev` (a commit, tag or branch) of the work tree's repository at `top`, copied into
/// `dest` (which must not exist).
pub fn export(top: &Path, rev: &str, dest: &Path) -> Result<(), GitError> {
    let top = top.display().to_string();
    let git_dir = git(&["-C", &top, "rev-parse", "--absolute-git-dir"], None)?;
    let commit = git(
        &[
            "-C",
            &top,
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
        None,
    )
    .map_err(|mut e| {
        e.message = format!("`{rev}` is not a commit, tag or branch of `{top}`");
        e
    })?;
    copy_tree(
        &format!("--git-dir={}", git_dir.trim()),
        commit.trim(),
        dest,
    )
}
