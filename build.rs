//! Tells `keyflow --version` the commit it is built from: `git rev-parse --short=12 HEAD`, or `unknown`
//! outside a git checkout (a source tarball, `cargo install` from a registry).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KEYFLOW_COMMIT={commit}");
    // Run again when HEAD moves: a checkout changes HEAD, a commit appends to its log (in a worktree
    // too: `--git-path` finds its own files).
    for file in ["HEAD", "logs/HEAD"] {
        if let Some(path) = git(&["rev-parse", "--git-path", file]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
