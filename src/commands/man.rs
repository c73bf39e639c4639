//! `keyflow man [--out DIR [--check]]`: the man pages, generated from the command line's definition with
//! clap_mangen, so they say what `--help` says. The pages in `docs/man/` are checked for staleness by the
//! tests, like the schemas.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::exit::{Exit, Failure, ResultExt};

/// Every page, by file name: `keyflow.1`, then `keyflow-<command>.1` for each command and subcommand.
pub fn pages() -> Result<BTreeMap<PathBuf, Vec<u8>>, Failure> {
    // The package version alone: with the commit in it, every commit would make the pages stale.
    let mut command = Cli::command().version(env!("CARGO_PKG_VERSION"));
    command.build();
    let mut pages = BTreeMap::new();
    let mut stack = vec![command];
    while let Some(command) = stack.pop() {
        let name = command
            .get_display_name()
            .unwrap_or(command.get_name())
            .to_string();
        let mut page = Vec::new();
        clap_mangen::Man::new(command.clone())
            .render(&mut page)
            .environment()?;
        pages.insert(PathBuf::from(format!("{name}.1")), page);
        stack.extend(
            command
                .get_subcommands()
                .filter(|sub| sub.get_name() != "help" && !sub.is_hide_set())
                .cloned(),
        );
    }
    Ok(pages)
}

pub fn run(args: &ManArgs) -> Result<Exit, Failure> {
    let pages = pages()?;
    let Some(out) = &args.out else {
        let main = pages
            .get(&PathBuf::from("keyflow.1"))
            .cloned()
            .unwrap_or_default();
        crate::out::stdout_bytes(&main)?;
        return Ok(Exit::Success);
    };
    if args.check {
        let stale: Vec<String> = pages
            .iter()
            .filter(|(path, page)| std::fs::read(out.join(path)).ok().as_ref() != Some(*page))
            .map(|(path, _)| path.display().to_string())
            .collect();
        if stale.is_empty() {
            outln!(
                "{}: {} man pages are up to date",
                out.display(),
                pages.len()
            )?;
            return Ok(Exit::Success);
        }
        errln!(
            "{}: stale man pages: {}\nrun `keyflow man --out {}` and commit the result",
            out.display(),
            stale.join(", "),
            out.display()
        );
        return Ok(Exit::RunFailed);
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create `{}`", out.display()))
        .environment()?;
    for (path, page) in &pages {
        let target = out.join(path);
        std::fs::write(&target, page)
            .with_context(|| format!("cannot write `{}`", target.display()))
            .environment()?;
    }
    outln!("wrote {} man pages to {}", pages.len(), out.display())?;
    Ok(Exit::Success)
}
