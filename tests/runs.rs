//! `keyflow run` records into the run store, and `keyflow runs list|show|prune` read it back: each test
//! with a store file of its own (`--store` or `KEYFLOW_STORE`), and real processes sharing one file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Ran, keyflow, path_str, root, run_file};

/// A folder with a store file and flow files for one test.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("runs.db")
    }

    pub fn flow(&self, name: &str, yaml: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
        std::fs::write(&path, yaml).expect("write flow");
        path
    }

    /// `keyflow run FLOW --output json -q --store STORE extra…`: the exit code and report.
    pub fn run(&self, flow: &Path, extra: &[&str]) -> (i32, Value, Ran) {
        let store = self.store();
        let mut args = vec!["--store", path_str(&store)];
        args.extend_from_slice(extra);
        run_file(keyflow(), path_str(flow), &args)
    }

    /// `keyflow runs ARGS --store STORE`.
    pub fn runs(&self, args: &[&str]) -> Ran {
        keyflow()
            .arg("runs")
            .args(args)
            .args(["--store", path_str(&self.store())])
            .output()
            .expect("run keyflow")
            .into()
    }

    /// `keyflow runs list --output json ARGS`.
    pub fn list(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["list", "--output", "json"];
        all.extend_from_slice(args);
        let ran = self.runs(&all);
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        runs_of(&ran.stdout)
    }
}

/// The runs of a `runs list --output json` document (checked to say its format's version).
pub fn runs_of(stdout: &str) -> Vec<Value> {
    let document: Value = serde_json::from_str(stdout).expect("runs list JSON");
    assert_eq!(document["format_version"], 1, "{document}");
    document["runs"]
        .as_array()
        .cloned()
        .expect("a `runs` array")
}

fn ids(runs: &[Value]) -> Vec<&str> {
    runs.iter().filter_map(|r| r["run_id"].as_str()).collect()
}

const TEMPLATE: &str = "name: tenant\nversion: \"1.0\"\nparams:\n  tenant: { type: string }\nsteps:\n  - id: name\n    block: core.set\n    with: { alias: \"alias/{{params.tenant}}\" }\noutputs:\n  alias: $.steps.name.output.alias\n";

#[test]
fn runs_show_json_is_the_run_report() {
    let scratch = Scratch::new();
    scratch.flow("templates/tenant.yaml", TEMPLATE);
    let flow = scratch.flow(
        "onboard.yaml",
        "name: onboard\nsteps:\n  - id: each\n    uses: ./templates/tenant.yaml\n    for_each: [acme, globex]\n    with: { tenant: $.item }\n  - id: note\n    block: core.log\n    with: { message: done }\noutputs:\n  aliases: $.steps.each.output[*].alias\n",
    );
    let (code, report, ran) = scratch.run(&flow, &[]);
    assert_eq!(code, 0, "{}", ran.stderr);
    let id = report["run_id"].as_str().expect("run id");
    let shown = scratch.runs(&["show", id, "--output", "json"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let stored: Value = serde_json::from_str(&shown.stdout).expect("report JSON");
    assert_eq!(stored, report);
    assert_eq!(
        stored["steps"][0]["runs"][1]["outputs"]["alias"],
        "alias/globex"
    );
    let text =
        std::fs::read_to_string(root().join("schemas/run-report.schema.json")).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema json");
    let mut problems = Vec::new();
    keyflow_engine::schema::check::check(
        &schema,
        &schema,
        &stored,
        &keyflow_engine::source::YamlPath::root(),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}");

    // A prefix is enough, and the text shows steps, template runs and attempts.
    let shown = scratch.runs(&["show", &id[..13]]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    for expected in [
        format!("run {id} of `onboard`"),
        "succeeded".to_string(),
        "✓ each".to_string(),
        format!("template run {id}/each/1 succeeded"),
        "attempt #1 at".to_string(),
        "aliases: [\"alias/acme\",\"alias/globex\"]".to_string(),
    ] {
        assert!(
            shown.stdout.contains(&expected),
            "`{expected}` in:\n{}",
            shown.stdout
        );
    }
    let missing = scratch.runs(&["show", "no-such-run"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("run `no-such-run` not found: `keyflow runs list` shows the runs"),
        "{}",
        missing.stderr
    );
}

#[test]
fn runs_list_filters_newest_first_and_prune_forgets() {
    let scratch = Scratch::new();
    let hello = scratch.flow(
        "hello.yaml",
        "name: hello\nsteps:\n  - id: hi\n    block: core.log\n    with: { message: hi }\n",
    );
    let broken = scratch.flow(
        "broken.yaml",
        "name: broken\nsteps:\n  - id: no\n    block: core.fail\n    with: { message: planned }\n",
    );
    let (first, ..) = scratch.run(&hello, &[]);
    let (failed, failed_report, _) = scratch.run(&broken, &[]);
    let (last, last_report, _) = scratch.run(&hello, &[]);
    assert_eq!((first, failed, last), (0, 1, 0));

    let all = scratch.list(&[]);
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["run_id"], last_report["run_id"], "newest first");
    assert_eq!(all[1]["status"], "failed");
    assert_eq!(
        ids(&scratch.list(&["--status", "failed"])),
        [failed_report["run_id"].as_str().unwrap_or_default()]
    );
    assert_eq!(scratch.list(&["--flow", "hello"]).len(), 2);
    assert_eq!(scratch.list(&["--limit", "1"]).len(), 1);
    assert_eq!(scratch.list(&["--since", "1h"]).len(), 3);
    assert!(
        scratch
            .list(&["--since", "2999-01-01T00:00:00Z"])
            .is_empty()
    );
    assert!(scratch.list(&["--status", "interrupted"]).is_empty());

    let text = scratch.runs(&["list"]);
    assert!(text.stdout.starts_with("RUN "), "{}", text.stdout);
    assert!(text.stdout.contains("broken  failed"), "{}", text.stdout);
    let bad = scratch.runs(&["list", "--since", "last week"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("neither an age"), "{}", bad.stderr);

    let kept = scratch.runs(&["prune", "--older-than", "90d"]);
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert!(
        kept.stdout
            .starts_with("pruned 0 runs that started more than 90 days ago"),
        "{}",
        kept.stdout
    );
    let pruned = scratch.runs(&["prune", "--older-than", "0s"]);
    assert!(
        pruned.stdout.starts_with("pruned 3 runs"),
        "{}",
        pruned.stdout
    );
    assert!(scratch.list(&[]).is_empty());
}

#[test]
fn a_store_that_cannot_be_opened_stops_the_run_before_it_starts() {
    let scratch = Scratch::new();
    let flow = scratch.flow(
        "hello.yaml",
        "name: hello\nsteps:\n  - id: hi\n    block: core.log\n    with: { message: hi }\n",
    );
    // A file where the store's folder would be.
    let blocker = scratch.dir.path().join("file");
    std::fs::write(&blocker, "not a folder").expect("write");
    let ran: Ran = keyflow()
        .args(["run", path_str(&flow), "--store"])
        .arg(blocker.join("runs.db"))
        .output()
        .expect("run keyflow")
        .into();
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("cannot open the run store"),
        "{}",
        ran.stderr
    );
    assert!(
        !ran.stdout.contains("hi"),
        "the run started: {}",
        ran.stdout
    );
    // A file that is not a store is refused, and left as it was.
    let ran: Ran = keyflow()
        .args(["run", path_str(&flow), "--store", path_str(&flow)])
        .output()
        .expect("run keyflow")
        .into();
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("is not a SQLite database"),
        "{}",
        ran.stderr
    );
    assert!(
        std::fs::read_to_string(&flow)
            .expect("flow")
            .starts_with("name: hello")
    );
}

#[test]
fn the_default_store_is_in_the_data_directory_and_keyflow_store_overrides_it() {
    let scratch = Scratch::new();
    let flow = scratch.flow(
        "hello.yaml",
        "name: hello\nsteps:\n  - id: hi\n    block: core.log\n    with: { message: hi }\n",
    );
    let data = scratch.dir.path().join("data");
    let ran: Ran = keyflow()
        .env_remove("KEYFLOW_STORE")
        .env("XDG_DATA_HOME", &data)
        .args(["run", path_str(&flow), "-q"])
        .output()
        .expect("run keyflow")
        .into();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(data.join("keyflow").join("runs.db").is_file());
    let listed: Ran = keyflow()
        .env("KEYFLOW_STORE", data.join("keyflow").join("runs.db"))
        .args(["runs", "list", "--output", "json"])
        .output()
        .expect("run keyflow")
        .into();
    let runs = runs_of(&listed.stdout);
    assert_eq!(runs.len(), 1, "{}", listed.stderr);
    assert_eq!(runs[0]["flow"], "hello");
}

/// `keyflow run FLOW` as a child process recording into `store`.
pub fn spawn_run(flow: &Path, store: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_keyflow"))
        .args([
            "run",
            path_str(flow),
            "-q",
            "--color",
            "never",
            "--store",
            path_str(store),
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start keyflow")
}

#[test]
fn several_processes_share_one_store_file() {
    const PROCESSES: usize = 6;
    let scratch = Scratch::new();
    let mut yaml =
        String::from("name: chain\nsteps:\n  - id: s0\n    block: core.set\n    with: { n: 0 }\n");
    for i in 1..30 {
        yaml.push_str(&format!(
            "  - id: s{i}\n    block: core.set\n    with: {{ n: $.steps.s{}.output.n }}\n",
            i - 1
        ));
    }
    let flow = scratch.flow("chain.yaml", &yaml);
    let children: Vec<Child> = (0..PROCESSES)
        .map(|_| spawn_run(&flow, &scratch.store()))
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let runs = scratch.list(&["--limit", "100"]);
    assert_eq!(runs.len(), PROCESSES);
    for run in &runs {
        assert_eq!(run["status"], "succeeded");
        let shown = scratch.runs(&[
            "show",
            run["run_id"].as_str().unwrap_or_default(),
            "--output",
            "json",
        ]);
        let report: Value = serde_json::from_str(&shown.stdout).expect("report");
        assert_eq!(report["steps"].as_array().map(Vec::len), Some(30));
    }
}

#[test]
fn a_run_whose_process_is_killed_reads_interrupted() {
    let scratch = Scratch::new();
    let flow = scratch.flow("wait.yaml", "name: wait\nsteps:\n  - id: first\n    block: core.log\n    with: { message: started }\n  - id: wait\n    block: core.sleep\n    after: [first]\n    with: { duration: 5m }\n");
    let mut child = spawn_run(&flow, &scratch.store());
    // Wait until the run's first step is on record (the deadline only bounds a failure).
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        let running = if scratch.store().exists() {
            scratch.list(&["--status", "running"])
        } else {
            Vec::new()
        };
        if let Some(run) = running.first() {
            let shown = scratch.runs(&[
                "show",
                run["run_id"].as_str().unwrap_or_default(),
                "--output",
                "json",
            ]);
            let report: Value = serde_json::from_str(&shown.stdout).unwrap_or_default();
            if report["steps"].as_array().is_some_and(|s| !s.is_empty()) {
                break run["run_id"].as_str().unwrap_or_default().to_string();
            }
        }
        assert!(Instant::now() < deadline, "the run never showed as running");
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let listed = scratch.list(&[]);
    assert_eq!(listed[0]["run_id"], id.as_str());
    assert_eq!(listed[0]["status"], "interrupted");
    assert!(
        listed[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("process {}", child.id()))
    );
    assert_eq!(
        ids(&scratch.list(&["--status", "interrupted"])),
        [id.as_str()]
    );
    let shown = scratch.runs(&["show", &id]);
    assert!(shown.stdout.contains("interrupted"), "{}", shown.stdout);
    assert!(shown.stdout.contains("✓ first"), "{}", shown.stdout);
}
