//! A flow of a plugin's blocks served by `keyflow serve --sandbox`: the plugin's own twin stands in for its
//! service during the run (a rehearsal never reaches a real system), and no plugin process outlives the
//! daemon.

use std::path::Path;

use chrono::Utc;

use super::{Daemon, once_at, runs, show};
use crate::harness::{path_str, root};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The processes whose command line names `needle`.
fn processes_naming(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn a_plugin_flow_fires_against_the_plugin_s_twin_and_leaves_no_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("vault-transit");
    copy_dir(&root().join("examples/plugins/vault-transit"), &project);
    let flow = project.join("flows/transit-roundtrip.yaml");
    let text = std::fs::read_to_string(&flow).expect("the flow");
    let at = Utc::now() + chrono::TimeDelta::seconds(4);
    let scheduled = text.replace(
        "\nsteps:\n",
        &format!(
            "\ntriggers:\n  - {{ id: soon, cron: \"{}\" }}\nsteps:\n",
            once_at(at)
        ),
    );
    assert_ne!(scheduled, text);
    std::fs::write(&flow, scheduled).expect("write");
    let store = dir.path().join("runs.db");
    let store = path_str(&store);
    let mut daemon = Daemon::start(&project.join("flows"), store, &["--sandbox"]);
    daemon.wait_for("the run to end", |l| {
        l.contains("of `vault-transit-roundtrip` succeeded")
            || l.contains("of `vault-transit-roundtrip` failed")
    });
    let project_path = path_str(&project).to_string();
    assert_eq!(daemon.terminate(), Some(0), "{}", daemon.log());
    let recorded = runs(store);
    assert_eq!(recorded[0]["status"], "succeeded", "{}", daemon.log());
    let report = show(store, recorded[0]["run_id"].as_str().expect("id"));
    assert!(
        report["outputs"]["second"]
            .as_str()
            .is_some_and(|c| c.starts_with("vault:v2:")),
        "{report}"
    );
    let left = processes_naming(&project_path);
    assert!(
        left.is_empty(),
        "plugin processes outlived the daemon: {left:?}"
    );
}
